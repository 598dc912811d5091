//! Destroying what stackwatch owns, in reverse dependency order, honouring removal policies.

use futures::stream::{self, StreamExt};

use super::{CONCURRENCY, Snapshot, removal_of};
use crate::aws::{Aws, AwsError};
use crate::config::Removal;
use crate::desired::Desired;
use crate::resource::Owner;

/// What `destroy` did or would do with one resource.
#[derive(Debug, Clone)]
pub struct Destroyed {
    pub id: String,
    pub kind: &'static str,
    pub physical: String,
    pub outcome: DestroyOutcome,
}

#[derive(Debug, Clone)]
pub enum DestroyOutcome {
    Deleted,
    Retained,
    NotFound,
    NotOurs,
    Failed(AwsError),
}

impl DestroyOutcome {
    pub fn is_deleted(&self) -> bool {
        matches!(self, DestroyOutcome::Deleted)
    }
}

/// Deletes what stackwatch owns, in reverse dependency order, honouring removal policies.
/// Resources without our tags are never touched. When `dry_run`, only reports.
pub async fn destroy(
    aws: &Aws,
    desired: &Desired,
    snap: &Snapshot,
    dry_run: bool,
) -> Vec<Destroyed> {
    let attrs = snap.attrs();
    let mut out = Vec::new();
    let mut levels = desired.levels();
    levels.reverse();
    for level in levels {
        let done: Vec<Destroyed> = stream::iter(level)
            .map(|i| {
                let attrs = &attrs;
                async move {
                    let node = &desired.nodes[i];
                    let (spec, _) = desired.resolve(i, &snap.app, attrs);
                    let observed = snap.observed[i].as_ref();
                    let physical = observed.map_or_else(|| spec.name(), |o| o.id.clone());
                    let outcome = match observed {
                        None => DestroyOutcome::NotFound,
                        Some(o) if o.owner == Owner::Foreign => DestroyOutcome::NotOurs,
                        Some(_) if removal_of(desired, i) == Removal::Retain => {
                            DestroyOutcome::Retained
                        }
                        Some(_) if dry_run => DestroyOutcome::Deleted,
                        Some(o) => match spec.delete(aws, o).await {
                            Ok(()) => DestroyOutcome::Deleted,
                            Err(e) => DestroyOutcome::Failed(e),
                        },
                    };
                    Destroyed {
                        id: node.id.clone(),
                        kind: spec.kind(),
                        physical,
                        outcome,
                    }
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        out.extend(done);
    }
    for o in &snap.orphans {
        let outcome = if dry_run {
            DestroyOutcome::Deleted
        } else {
            match o.kind.delete_owned(aws, &o.owned.observed()).await {
                Ok(()) => DestroyOutcome::Deleted,
                Err(e) => DestroyOutcome::Failed(e),
            }
        };
        out.push(Destroyed {
            id: o.owned.logical_id(),
            kind: o.kind.kind(),
            physical: o.owned.id.clone(),
            outcome,
        });
    }
    out
}
