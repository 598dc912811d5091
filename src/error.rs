//! The library's error type: what a command can fail with, for `main` to print.

use crate::aws::AwsError;
use crate::config::ConfigError;
use crate::plan::ResourceProblem;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// stackwatch declined to act, and says why.
    #[error("{0}")]
    Refused(String),
    /// Some resources failed; the others were applied.
    #[error("{} resource(s) failed:\n  {}", .0.len(), crate::plan::lines(.0))]
    Partial(Vec<ResourceProblem>),
}
