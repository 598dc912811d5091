//! What a reconcile asks of AWS, as one trait: read the stacks in focus, and apply a plan. The
//! daemon uses [`Sdk`] (the engine through the real SDK clients, which it keeps with what
//! earlier reads found); the reconcile's unit tests use a fake that serves snapshots built
//! from the files and records what it was asked to apply, so each step is tested without an
//! emulator.

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;

use super::state::Shared;
use crate::aws::Aws;
use crate::desired::Desired;
use crate::engine::{self, ApplyReport, Focus, Guard, Progress, ReadCache};
use crate::error::Error;
use crate::session::Session;

pub trait Cloud: Send + Sync {
    /// AWS as it is for the stacks in `focus`.
    fn read<'a>(
        &'a self,
        desired: Arc<Desired>,
        focus: &'a Focus,
    ) -> BoxFuture<'a, Result<Session, Error>>;

    /// Applies what `session` plans, as far as `guard` allows.
    fn apply<'a>(
        &'a self,
        session: &'a Session,
        guard: Guard,
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, ApplyReport>;
}

/// The real AWS: one set of clients for the daemon's life (so call counts accumulate), and
/// the account, physical ids and attributes earlier reads and applies found (a Describe by id
/// instead of a List next time; what a focused read lends), cleared with the clients.
pub struct Sdk {
    shared: Arc<Shared>,
    aws: tokio::sync::Mutex<Option<Aws>>,
    cache: ReadCache,
}

impl Sdk {
    pub fn new(shared: Arc<Shared>) -> Sdk {
        Sdk {
            shared,
            aws: tokio::sync::Mutex::new(None),
            cache: ReadCache::new(),
        }
    }

    /// The clients for `region`, made (and counted in `/metrics`) when the region changes.
    async fn clients(&self, region: &str) -> Aws {
        let mut current = self.aws.lock().await;
        match &*current {
            Some(aws) if aws.region == region => aws.clone(),
            _ => {
                let aws = Aws::connect(region).await;
                self.shared.metrics.track_aws(aws.calls.clone());
                *current = Some(aws.clone());
                self.cache.clear();
                aws
            }
        }
    }
}

impl Cloud for Sdk {
    fn read<'a>(
        &'a self,
        desired: Arc<Desired>,
        focus: &'a Focus,
    ) -> BoxFuture<'a, Result<Session, Error>> {
        async move {
            let aws = self.clients(&desired.config.region).await;
            Session::open_cached(aws, desired, &self.cache, focus).await
        }
        .boxed()
    }

    /// Applies, then remembers what the apply left, so that a later focused read of another
    /// stack resolves its references to what is deployed now.
    fn apply<'a>(
        &'a self,
        session: &'a Session,
        guard: Guard,
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, ApplyReport> {
        async move {
            let s = session;
            let report = engine::apply_with(&s.aws, &s.desired, &s.snapshot, guard, progress).await;
            self.cache.remember_applied(&s.desired, &report.attrs);
            report
        }
        .boxed()
    }
}
