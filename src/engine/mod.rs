//! The engine: read what exists, plan, apply, destroy. The same code serves every command;
//! callers only decide when to run it and whether to approve.
//!
//! Reads start each node as soon as what it is found by is known: most kinds are found by
//! their deterministic name and start at once; a client, a test user or a role attachment waits
//! for the pool whose id finds it. Writes are walked level by level in dependency order; the
//! nodes of one level run concurrently (bounded). One resource failing does not stop the
//! others: its dependents are skipped and every error is reported together.
//!
//! A [`ReadCache`] (kept by the daemon between reconciles) remembers the account id and the
//! physical id of each owned resource found by listing, so a later read describes it directly
//! instead of listing every pool or API. Every resource is still read on every reconcile, so
//! drift is caught on each resync; only the List calls are saved.

mod apply;
mod destroy;
mod plan;
mod read;
#[cfg(test)]
pub(crate) mod testing;

pub use apply::{
    Applied, ApplyReport, Guard, Outcome, Progress, Quiet, apply, apply_with, removal_of,
};
pub use destroy::{DestroyOutcome, Destroyed, destroy};
pub use plan::plan;
pub use read::{ReadCache, read, read_cached, read_focused};

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::AwsError;
use crate::desired::{AppCtx, Desired};
use crate::resource::{Attrs, KindId, Observed, Owned, Owner};

/// How many AWS reads or writes run at once.
pub const CONCURRENCY: usize = 8;

/// Which stacks a read, plan and apply are about. A focused stack's resources are read,
/// planned and applied; another stack's are never planned or written, and are read only when a
/// focused resource needs their attributes and no earlier read through the same [`ReadCache`]
/// knows them. Leftovers (resources we own that no file declares) are looked for with every
/// stack in focus, and on their own ([`Focus::leftovers_only`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Focus {
    /// `None`: every stack.
    stacks: Option<BTreeSet<String>>,
    leftovers: bool,
}

impl Default for Focus {
    fn default() -> Focus {
        Focus::all()
    }
}

impl Focus {
    /// Every stack, and the leftovers.
    pub fn all() -> Focus {
        Focus {
            stacks: None,
            leftovers: true,
        }
    }

    /// These stacks only.
    pub fn stacks<I: IntoIterator<Item = S>, S: Into<String>>(stacks: I) -> Focus {
        Focus {
            stacks: Some(stacks.into_iter().map(Into::into).collect()),
            leftovers: false,
        }
    }

    /// No stack: only the resources we own that no file declares any more.
    pub fn leftovers_only() -> Focus {
        Focus {
            stacks: Some(BTreeSet::new()),
            leftovers: true,
        }
    }

    pub fn includes(&self, stack: &str) -> bool {
        self.stacks.as_ref().is_none_or(|s| s.contains(stack))
    }

    /// Whether leftovers are looked for.
    pub fn leftovers(&self) -> bool {
        self.leftovers
    }

    /// The focused stacks, `None` for every stack.
    pub fn named(&self) -> Option<&BTreeSet<String>> {
        self.stacks.as_ref()
    }
}

/// What one read of AWS found, per node (same indices as `Desired::nodes`), plus the
/// resources we own that no stack file declares any more.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub app: AppCtx,
    pub observed: Vec<Option<Observed>>,
    pub errors: Vec<Option<AwsError>>,
    pub orphans: Vec<Orphan>,
    /// Per node: in focus (read, planned and applied). Out of focus, a node is only a source
    /// of attributes: read this time (`observed`) or known from an earlier read (`known`).
    pub focus: Vec<bool>,
    /// Attributes of nodes out of focus that this read did not read, from earlier reads.
    pub known: Vec<Option<Attrs>>,
}

/// A resource carrying our app and stage tags that no stack file declares: planned for
/// deletion. Only kinds that hold no data are looked for; user pools and buckets removed
/// from the files are retained, never deleted automatically.
#[derive(Debug, Clone)]
pub struct Orphan {
    pub kind: KindId,
    pub owned: Owned,
}

impl Snapshot {
    /// The attributes of what was read, per node: only from resources that exist and are
    /// ours (or adopted). The one owner-filtered path every command reads deployed attributes
    /// through (plan, outputs, users, verify, the daemon), so a same-named resource of someone
    /// else's never lends its id to anything.
    pub fn attrs(&self) -> Vec<Option<Attrs>> {
        self.observed
            .iter()
            .enumerate()
            .map(|(i, o)| match o {
                Some(o) => (o.owner != Owner::Foreign).then(|| o.attrs.clone()),
                None => self.known.get(i).cloned().flatten(),
            })
            .collect()
    }
}

/// Stack outputs resolved from attributes: stack name → (output → value), plus whether all
/// values were known.
pub fn outputs(
    desired: &Desired,
    app: &AppCtx,
    attrs: &[Option<Attrs>],
    focus: &Focus,
) -> (BTreeMap<String, BTreeMap<String, String>>, bool) {
    let mut all_known = true;
    let mut out = BTreeMap::new();
    for stack in desired
        .config
        .stacks
        .iter()
        .filter(|s| focus.includes(&s.name))
    {
        let mut values = BTreeMap::new();
        for o in &stack.outputs {
            let v = desired.output_value(&o.value, app, attrs);
            all_known &= v.is_known();
            values.insert(o.name.clone(), v.into_text());
        }
        out.insert(desired.config.stack_full_name(&stack.name), values);
    }
    (out, all_known)
}
