//! What a reconcile asks of AWS, as one trait: read the stacks in focus, and apply a plan. The
//! daemon uses [`Sdk`] (the engine, through the real SDK clients); the reconcile's unit tests
//! use a fake that serves snapshots built from the files and records what it was asked to
//! apply, so each step is tested without an emulator.

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::aws::Aws;
use crate::desired::Desired;
use crate::engine::{self, ApplyReport, Focus, Guard, Progress, ReadCache};
use crate::error::Error;
use crate::session::Session;

pub trait Cloud: Send + Sync {
    /// AWS as it is for `focus`, through `aws` and what `cache` remembers.
    fn read<'a>(
        &'a self,
        aws: Aws,
        desired: Arc<Desired>,
        cache: &'a ReadCache,
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

/// The real AWS, through the engine.
pub struct Sdk;

impl Cloud for Sdk {
    fn read<'a>(
        &'a self,
        aws: Aws,
        desired: Arc<Desired>,
        cache: &'a ReadCache,
        focus: &'a Focus,
    ) -> BoxFuture<'a, Result<Session, Error>> {
        Session::open_cached(aws, desired, cache, focus).boxed()
    }

    fn apply<'a>(
        &'a self,
        session: &'a Session,
        guard: Guard,
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, ApplyReport> {
        let s = session;
        engine::apply_with(&s.aws, &s.desired, &s.snapshot, guard, progress).boxed()
    }
}
