//! Applying a plan: creates, updates and replaces in dependency order, then leftovers.

use futures::stream::{self, StreamExt};

use super::{CONCURRENCY, Snapshot};
use crate::aws::{Aws, AwsError};
use crate::config::Removal;
use crate::desired::Desired;
use crate::plan::{self, Action, Problem, ResourceProblem};
use crate::resource::{Attrs, Hint, Observed, Spec};

/// What happened to one resource during apply.
#[derive(Debug, Clone)]
pub struct Applied {
    pub id: String,
    pub action: Action,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    /// Applied (or nothing to do).
    Done,
    /// Not applied because the guard holds it back; the reason says which flag allows it.
    Held(String),
    /// Failed or skipped because a dependency failed.
    Failed(Problem),
}

/// Which destructive changes an apply may make. Held-back changes are reported, not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    pub allow_replace: bool,
    pub allow_delete: bool,
}

impl Guard {
    pub const ALLOW_ALL: Guard = Guard {
        allow_replace: true,
        allow_delete: true,
    };
}

/// The result of an apply: per-resource results and the attributes now known.
#[derive(Debug, Clone)]
pub struct ApplyReport {
    pub results: Vec<Applied>,
    pub attrs: Vec<Option<Attrs>>,
}

impl ApplyReport {
    /// The resources that failed, with why.
    pub fn errors(&self) -> Vec<ResourceProblem> {
        self.results
            .iter()
            .filter_map(|a| match &a.outcome {
                Outcome::Failed(e) => Some(ResourceProblem {
                    id: a.id.clone(),
                    problem: e.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Changes the guard held back.
    pub fn held(&self) -> Vec<String> {
        self.results
            .iter()
            .filter_map(|a| match &a.outcome {
                Outcome::Held(e) => Some(format!("{}: {e}", a.id)),
                _ => None,
            })
            .collect()
    }
}

/// Told as each resource's change starts and ends, for a terminal to draw; ids are logical ids
/// (`Applied::id`), and every resource in focus is told, changed or not.
pub trait Progress: Sync {
    fn started(&self, _id: &str) {}
    fn finished(&self, _applied: &Applied, _took: std::time::Duration) {}
}

/// Tells nothing.
pub struct Quiet;

impl Progress for Quiet {}

/// Applies the plan: creates, updates and replaces in dependency order. Each resource's change
/// is recomputed with the attributes known at that moment (so "(known after apply)" values are
/// real). A failure skips only that resource's dependents.
pub async fn apply(aws: &Aws, desired: &Desired, snap: &Snapshot, guard: Guard) -> ApplyReport {
    apply_with(aws, desired, snap, guard, &Quiet).await
}

/// [`apply`], telling `progress` as each resource starts and ends.
pub async fn apply_with(
    aws: &Aws,
    desired: &Desired,
    snap: &Snapshot,
    guard: Guard,
    progress: &dyn Progress,
) -> ApplyReport {
    let n = desired.nodes.len();
    let read = snap.attrs();
    let mut attrs = read.clone();
    let mut failed = vec![false; n];
    let mut results: Vec<Option<Applied>> = vec![None; n];
    for level in desired.levels() {
        let current = attrs.clone();
        let failed_now = failed.clone();
        let in_focus = level.into_iter().filter(|&i| snap.focus[i]);
        let outcomes: Vec<(usize, Applied, Option<Attrs>)> = stream::iter(in_focus)
            .map(|i| {
                let (current, failed_now, read) = (&current, &failed_now, &read);
                async move {
                    let known = Known {
                        read,
                        current,
                        failed: failed_now,
                    };
                    progress.started(&desired.nodes[i].id);
                    let began = std::time::Instant::now();
                    let (applied, attrs) = apply_node(aws, desired, snap, i, known, guard).await;
                    progress.finished(&applied, began.elapsed());
                    (i, applied, attrs)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (i, applied, new_attrs) in outcomes {
            failed[i] = matches!(applied.outcome, Outcome::Failed(_));
            attrs[i] = new_attrs;
            results[i] = Some(applied);
        }
    }
    let mut results: Vec<Applied> = results.into_iter().flatten().collect();
    results.extend(delete_orphans(aws, snap, guard.allow_delete, progress).await);
    ApplyReport { results, attrs }
}

/// Deletes the orphans (kind by kind, in registry order), or holds them back.
async fn delete_orphans(
    aws: &Aws,
    snap: &Snapshot,
    allowed: bool,
    progress: &dyn Progress,
) -> Vec<Applied> {
    let mut out = Vec::new();
    for o in &snap.orphans {
        let id = o.owned.logical_id();
        progress.started(&id);
        let began = std::time::Instant::now();
        let outcome = if !allowed {
            Outcome::Held("deletion not applied: it needs --allow-delete".into())
        } else {
            match o.kind.delete_owned(aws, &o.owned.observed()).await {
                Ok(()) => {
                    tracing::info!(kind = o.kind.kind(), id = %o.owned.id, "deleted (no longer in the stack files)");
                    Outcome::Done
                }
                Err(e) => Outcome::Failed(Problem::Aws(e)),
            }
        };
        let applied = Applied {
            id,
            action: Action::Delete,
            outcome,
        };
        progress.finished(&applied, began.elapsed());
        out.push(applied);
    }
    out
}

/// What an apply knows when it reaches a node, per node index.
#[derive(Clone, Copy)]
struct Known<'a> {
    /// The attributes the read found.
    read: &'a [Option<Attrs>],
    /// The attributes now, after the levels already applied.
    current: &'a [Option<Attrs>],
    failed: &'a [bool],
}

/// Why node `i` cannot be applied before anything is sent: a dependency it needs failed, or is
/// out of focus and was never read, or its own read failed.
fn cannot_start(
    desired: &Desired,
    snap: &Snapshot,
    i: usize,
    read: &[Option<Attrs>],
    failed: &[bool],
) -> Option<Problem> {
    let node = &desired.nodes[i];
    let hard = |d: &&usize| !node.soft_deps.contains(*d);
    if let Some(d) = node.deps.iter().filter(hard).find(|&&d| failed[d]) {
        return Some(Problem::DependsOnFailed(desired.nodes[*d].id.clone()));
    }
    let unread = |&&d: &&usize| !snap.focus[d] && read[d].is_none();
    if let Some(d) = node.deps.iter().filter(hard).find(unread) {
        return Some(Problem::DependsOnUnfocused(desired.nodes[*d].id.clone()));
    }
    snap.errors[i].clone().map(Problem::Aws)
}

/// Applies one node, given the attributes known so far and which nodes failed.
async fn apply_node(
    aws: &Aws,
    desired: &Desired,
    snap: &Snapshot,
    i: usize,
    known: Known<'_>,
    guard: Guard,
) -> (Applied, Option<Attrs>) {
    let Known {
        read,
        current,
        failed,
    } = known;
    let node = &desired.nodes[i];
    let applied = |action, outcome| Applied {
        id: node.id.clone(),
        action,
        outcome,
    };
    if let Some(problem) = cannot_start(desired, snap, i, read, failed) {
        return (applied(Action::Blocked, Outcome::Failed(problem)), None);
    }
    let (mut spec, _) = desired.resolve(i, &snap.app, current);
    if node.soft_deps.iter().any(|&d| failed[d]) {
        // Apply what does not need the failed dep (the next reconcile adds the rest).
        spec = spec.without_unknown_optionals();
    }
    // A node found through another (a client through its pool) whose parent was created or
    // replaced in this apply is read again: what the read found lived in the old parent.
    let reread;
    let mut observed = snap.observed[i].as_ref();
    if node.def.kind().found_through_deps() && node.deps.iter().any(|&d| current[d] != read[d]) {
        let hint = Hint {
            adopt: node.adopt.as_deref(),
            known: None,
        };
        reread = match spec.find(aws, hint).await {
            Ok(o) => o,
            Err(e) => {
                return (
                    applied(Action::Blocked, Outcome::Failed(Problem::Aws(e))),
                    None,
                );
            }
        };
        observed = reread.as_ref();
    }
    let (action, fields) = plan::decide(&spec, observed, desired.replaces(i));
    if action == Action::Replace && !guard.allow_replace && !desired.replace_consented(i) {
        let why = "replacement not applied: it needs --allow-replace".to_string();
        return (
            applied(action, Outcome::Held(why)),
            observed.map(|o| o.attrs.clone()),
        );
    }
    match execute(
        aws,
        &spec,
        observed,
        action,
        &fields,
        removal_of(desired, i),
    )
    .await
    {
        Ok(attrs) => (applied(action, Outcome::Done), attrs),
        Err(e) => (applied(action, Outcome::Failed(e)), None),
    }
}

async fn execute(
    aws: &Aws,
    spec: &Spec,
    observed: Option<&Observed>,
    action: Action,
    fields: &[plan::FieldChange],
    removal: Removal,
) -> Result<Option<Attrs>, Problem> {
    match (action, observed) {
        (Action::NoChange, Some(o)) => Ok(Some(o.attrs.clone())),
        (Action::Create, _) => {
            let o = spec.create(aws).await?;
            tracing::info!(kind = spec.kind(), id = %o.id, "created");
            Ok(Some(o.attrs))
        }
        (Action::Update, Some(o)) => {
            let changed: Vec<&'static str> = fields.iter().map(|f| f.field).collect();
            let new = spec.update(aws, o, &changed).await?;
            tracing::info!(kind = spec.kind(), id = %o.id, fields = ?changed, "updated");
            Ok(Some(new.attrs))
        }
        (Action::Replace, Some(o)) => {
            // A retained resource is released (our tags removed) rather than deleted.
            match removal {
                Removal::Retain => spec.release(aws, o).await,
                Removal::Destroy => spec.delete(aws, o).await,
            }?;
            let new = spec.create(aws).await?;
            tracing::info!(kind = spec.kind(), old = %o.id, new = %new.id, "replaced");
            Ok(Some(new.attrs))
        }
        (Action::Blocked, Some(o)) => Err(Problem::LeftUntouched {
            kind: spec.kind(),
            physical: o.id.clone(),
        }),
        // Update, Replace or Blocked with nothing observed, or Delete (leftovers are deleted
        // apart): the plan never asks for these.
        (action, _) => Err(Problem::Aws(AwsError::refused(
            "applying",
            spec.kind(),
            spec.name(),
            format!("nothing to do in state {action:?}"),
        ))),
    }
}

/// The removal policy that applies to a node: data-holding resources follow `removal`;
/// the rest (clients, identity pools, roles, attachments, APIs) are deleted.
pub fn removal_of(desired: &Desired, i: usize) -> Removal {
    let node = &desired.nodes[i];
    if node.def.kind().holds_data() {
        node.removal
    } else {
        Removal::Destroy
    }
}
