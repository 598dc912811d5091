//! API Gateway HTTP API (stub: being written).
use super::{Observed, State, Tags};
use crate::aws::{Aws, AwsError};
use crate::config::Authorizer;

pub const KIND: &str = "API Gateway HTTP API";
pub const FORCE_NEW: &[&str] = &[];

#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub authorizer: Authorizer,
    /// (route key such as `GET /notes/{id}`, integration URL or Lambda ARN)
    pub routes: Vec<(String, String)>,
    pub tags: Tags,
}

/// Live ids an update needs: routes, integrations, stage.
#[derive(Debug, Clone, Default)]
pub struct Live {}

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
