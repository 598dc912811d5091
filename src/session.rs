//! One run of the engine from a config directory: load and validate, connect, read, plan.
//! Every command starts here; validation happens before any AWS client exists, so invalid
//! config can never change AWS.

use std::path::Path;

use crate::aws::Aws;
use crate::config;
use crate::desired::Desired;
use crate::engine::{self, ReadCache, Snapshot};
use crate::error::Error;
use crate::plan::Plan;

/// Loads and validates the config, offline.
pub fn load(dir: &Path, stage: Option<&str>) -> Result<Desired, Error> {
    let config = config::load(dir, stage)?;
    Ok(Desired::build(config)?)
}

/// A loaded config, connected and read.
pub struct Session {
    pub aws: Aws,
    pub desired: Desired,
    pub snapshot: Snapshot,
}

impl Session {
    /// Reads AWS for `desired` with clients from the standard chain.
    pub async fn open(desired: Desired) -> Result<Session, Error> {
        let aws = Aws::connect(&desired.config.region).await;
        Self::open_with(aws, desired).await
    }

    /// Reads AWS for `desired` with the given clients.
    pub async fn open_with(aws: Aws, desired: Desired) -> Result<Session, Error> {
        Self::open_cached(aws, desired, &ReadCache::new()).await
    }

    /// Reads AWS for `desired`, using and updating what earlier reads through the same
    /// clients remembered (the daemon keeps one cache for its clients' life).
    pub async fn open_cached(
        aws: Aws,
        desired: Desired,
        cache: &ReadCache,
    ) -> Result<Session, Error> {
        let snapshot = engine::read_cached(&aws, &desired, cache).await?;
        Ok(Session {
            aws,
            desired,
            snapshot,
        })
    }

    pub fn plan(&self) -> Plan {
        engine::plan(&self.desired, &self.snapshot)
    }

    /// Stack outputs from what was read.
    pub fn deployed_outputs(&self) -> (crate::outputs::Outputs, bool) {
        let attrs: Vec<_> = self
            .snapshot
            .observed
            .iter()
            .map(|o| o.as_ref().map(|o| o.attrs.clone()))
            .collect();
        engine::outputs(&self.desired, &self.snapshot.app, &attrs)
    }

    pub fn full_stack_name(&self, stack: &str) -> String {
        self.desired.config.stack_full_name(stack)
    }
}
