//! Identity pool role attachment (stub: being written).
use super::{Observed, State};
use crate::aws::{Aws, AwsError};

pub const KIND: &str = "Cognito identity pool roles";
pub const FORCE_NEW: &[&str] = &[];

#[derive(Debug, Clone)]
pub struct Spec {
    pub identity_pool_id: String,
    pub authenticated_role_arn: String,
    pub unauthenticated_role_arn: Option<String>,
}

impl Spec {
    pub fn name(&self) -> String {
        self.identity_pool_id.clone()
    }
    pub fn state(&self) -> State {
        todo!()
    }
}
pub async fn find(_aws: &Aws, _spec: &Spec) -> Result<Option<Observed>, AwsError> {
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
