//! One run of the engine from a config directory: load and validate, connect, read, plan.
//! Every command starts here; validation happens before any AWS client exists, so invalid
//! config can never change AWS.

use std::path::Path;
use std::sync::Arc;

use crate::aws::Aws;
use crate::config::{self, Config};
use crate::desired::Desired;
use crate::engine::{self, Focus, ReadCache, Snapshot};
use crate::error::Error;
use crate::plan::Plan;
use crate::resource::auth::AuthKind;

/// Loads and validates the config, offline.
pub fn load(dir: &Path, stage: Option<&str>) -> Result<Desired, Error> {
    let config = config::load(dir, stage)?;
    Ok(Desired::build(config)?)
}

/// Loads the config as if no test users were declared: for commands that never create them,
/// so their password variables need not be set.
pub fn config_without_test_users(dir: &Path, stage: Option<&str>) -> Result<Config, Error> {
    let mut config = config::load(dir, stage)?;
    drop_test_users(&mut config);
    Ok(config)
}

/// Forgets the declared test users (see [`config_without_test_users`]).
pub fn drop_test_users(config: &mut Config) {
    for st in &mut config.stacks {
        for r in &mut st.resources {
            if let Some(spec) = AuthKind::without_test_users(&r.spec) {
                r.spec = spec;
            }
        }
    }
}

/// A loaded config, connected and read. The desired graph is shared, not copied: the daemon
/// keeps the last load and lends it to every key's session.
pub struct Session {
    pub aws: Aws,
    pub desired: Arc<Desired>,
    pub snapshot: Snapshot,
}

impl Session {
    /// Reads AWS for `desired` with clients from the standard chain.
    pub async fn open(desired: Desired) -> Result<Session, Error> {
        Self::open_focused(desired, &Focus::all()).await
    }

    /// Reads AWS for the stacks in `focus` (see [`Focus`]) with clients from the standard chain.
    pub async fn open_focused(desired: Desired, focus: &Focus) -> Result<Session, Error> {
        let desired = Arc::new(desired);
        let aws = Aws::connect(&desired.config.region).await;
        let snapshot = engine::read_focused(&aws, &desired, &ReadCache::new(), focus).await?;
        Ok(Session {
            aws,
            desired,
            snapshot,
        })
    }

    /// Reads AWS for `desired` with the given clients.
    pub async fn open_with(aws: Aws, desired: Desired) -> Result<Session, Error> {
        Self::open_cached(aws, desired, &ReadCache::new(), &Focus::all()).await
    }

    /// Reads AWS for `desired`, using and updating what earlier reads through the same
    /// clients remembered (the daemon keeps one cache for its clients' life).
    pub async fn open_cached(
        aws: Aws,
        desired: impl Into<Arc<Desired>>,
        cache: &ReadCache,
        focus: &Focus,
    ) -> Result<Session, Error> {
        let desired = desired.into();
        let snapshot = engine::read_focused(&aws, &desired, cache, focus).await?;
        Ok(Session {
            aws,
            desired,
            snapshot,
        })
    }

    pub fn plan(&self) -> Plan {
        engine::plan(&self.desired, &self.snapshot)
    }

    /// Stack outputs from what was read: only resources that are ours count, so an output is
    /// unknown rather than another owner's id.
    pub fn deployed_outputs(&self, focus: &Focus) -> (crate::outputs::Outputs, bool) {
        engine::outputs(
            &self.desired,
            &self.snapshot.app,
            &self.snapshot.attrs(),
            focus,
        )
    }

    /// Whether the stacks in focus are deployed: some resource is in focus, and every one in
    /// focus was found, not someone else's.
    pub fn focus_deployed(&self) -> bool {
        let snap = &self.snapshot;
        let mut focused = (0..snap.focus.len()).filter(|&i| snap.focus[i]).peekable();
        focused.peek().is_some()
            && focused.all(|i| {
                snap.observed[i]
                    .as_ref()
                    .is_some_and(|o| o.owner != crate::resource::Owner::Foreign)
            })
    }

    /// One deployed attribute (`AuthStack`, `Auth`, `userPoolId`) of a resource that is ours;
    /// `None` when it is not deployed, not ours, or empty.
    pub fn attr(&self, stack: &str, resource: &str, attr: &str) -> Option<String> {
        let r = crate::config::template::Ref::Attr {
            stack: stack.into(),
            resource: resource.into(),
            attr: attr.into(),
        };
        let (i, a) = self.desired.lookup(&r)?;
        let o = self.snapshot.observed.get(i)?.as_ref()?;
        if o.owner == crate::resource::Owner::Foreign {
            return None;
        }
        o.attrs.get(a).filter(|v| !v.is_empty()).cloned()
    }

    pub fn full_stack_name(&self, stack: &str) -> String {
        self.desired.config.stack_full_name(stack)
    }
}
