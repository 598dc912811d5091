//! Where the config comes from: the config directory (files, the default), or the `App` and
//! `Stack` objects of a Kubernetes namespace as the watcher last saw them. Both load through
//! the same checks; the daemon and the console read either the same way.

use std::path::PathBuf;

use crate::config::{self, Config, ConfigError};
use crate::operator::store::Store;

#[derive(Debug, Clone)]
pub enum Origin {
    /// `stackwatch.yaml` and `stacks/*.yaml` in this directory.
    Files(PathBuf),
    /// The objects of one namespace.
    Kubernetes(Store),
}

impl Origin {
    /// The config as it is now; `stage` overrides its own.
    pub fn load(&self, stage: Option<&str>) -> Result<Config, ConfigError> {
        match self {
            Origin::Files(dir) => config::load(dir, stage),
            Origin::Kubernetes(store) => store.load(stage),
        }
    }

    /// A digest of what [`Origin::load`] would read now (SHA-256 in hex).
    pub fn digest(&self) -> String {
        match self {
            Origin::Files(dir) => config::digest(dir),
            Origin::Kubernetes(store) => store.digest(),
        }
    }

    /// The config directory, for the file mode.
    pub fn dir(&self) -> Option<&std::path::Path> {
        match self {
            Origin::Files(dir) => Some(dir),
            Origin::Kubernetes(_) => None,
        }
    }
}
