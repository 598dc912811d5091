//! S3 bucket (stub: being written).
use super::{Observed, State, Tags};
use crate::aws::{Aws, AwsError};
use crate::config::CorsRule;

pub const KIND: &str = "S3 bucket";
pub const FORCE_NEW: &[&str] = &[];

#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub cors: Vec<CorsRule>,
    pub tags: Tags,
}

impl Spec {
    pub fn name(&self) -> String {
        self.name.clone()
    }
    pub fn state(&self) -> State {
        todo!()
    }
}
pub async fn find(
    _aws: &Aws,
    _spec: &Spec,
    _adopt: Option<&str>,
) -> Result<Option<Observed>, AwsError> {
    todo!()
}
pub async fn create(_aws: &Aws, _spec: &Spec) -> Result<Observed, AwsError> {
    todo!()
}
pub async fn update(
    _aws: &Aws,
    _spec: &Spec,
    _obs: &Observed,
    _changed: &[&'static str],
) -> Result<Observed, AwsError> {
    todo!()
}
pub async fn delete(_aws: &Aws, _obs: &Observed) -> Result<(), AwsError> {
    todo!()
}
