//! What the daemon knows about itself, shared between the reconcile loop (the only writer)
//! and the HTTP endpoint (`/readyz`, `/metrics`, `/status`, the console). Every finished
//! reconcile is also broadcast as the console's [`Activity`] (what its live updates show).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use tokio::sync::broadcast;

use super::metrics::Metrics;
use crate::console::Activity;
use crate::plan::{Action, Plan, Summary};

/// Shared by the loop and the HTTP handlers.
#[derive(Debug)]
pub struct Shared {
    pub metrics: Metrics,
    ready: AtomicBool,
    status: Mutex<Status>,
    /// A reconcile finished (sent by [`Shared::finish`]): ids, actions and errors, never a
    /// secret. Its drift is the daemon's count in `stackwatch_drift_detected_total` growing.
    events: broadcast::Sender<Activity>,
    /// Drift found up to the previous finished reconcile (see [`Activity::drift`]).
    previous_drift: Mutex<u64>,
}

impl Shared {
    pub fn new(approval: &'static str) -> Shared {
        Shared {
            metrics: Metrics::new(),
            ready: AtomicBool::new(false),
            status: Mutex::new(Status {
                approval,
                ..Status::default()
            }),
            events: broadcast::channel(64).0,
            previous_drift: Mutex::new(0),
        }
    }

    /// Every reconcile that finishes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Activity> {
        self.events.subscribe()
    }

    /// Ready once one reconcile has read AWS and finished without error.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Relaxed);
    }

    /// Changes the status under its lock.
    pub fn update(&self, f: impl FnOnce(&mut Status)) {
        f(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Records with `f` that a reconcile of `stack` (its metrics label) finished, and
    /// broadcasts it as an [`Activity`].
    pub fn finish(&self, stack: &str, f: impl FnOnce(&mut Status)) {
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s);
        let event = self.finished(&s, stack);
        // Nobody listening is fine.
        let _ = self.events.send(event);
    }

    /// The event for the reconcile of `stack` that [`Shared::finish`] just recorded.
    fn finished(&self, s: &Status, stack: &str) -> Activity {
        let entry = s.stacks.get(stack);
        let stack = stack.to_string();
        let changes: Vec<String> = s
            .resources
            .iter()
            .filter(|r| r.state != Action::NoChange)
            .filter(|r| match stack.as_str() {
                super::metrics::ALL_STACKS => true,
                "leftovers" => r.state == Action::Delete,
                one => r.stack == one,
            })
            .map(|r| {
                let action = serde_json::to_value(r.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                match r.outcome {
                    Some(o) => format!("{}: {action} ({o})", r.id),
                    None => format!("{}: {action}", r.id),
                }
            })
            .collect();
        let mut previous = self
            .previous_drift
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let drift_now = self.metrics.drift_total();
        let drift = drift_now > *previous;
        *previous = drift_now;
        let last = s.last_reconcile.as_ref();
        Activity {
            seq: s.reconciles,
            finished_at: last.map(|l| l.finished_at.clone()).unwrap_or_default(),
            result: last.map_or("unknown", |l| l.result).to_string(),
            duration_ms: last.map_or(0, |l| l.duration_ms),
            drift,
            changes,
            error: entry.and_then(|e| e.last_error.clone()),
            stack,
        }
    }

    pub fn status(&self) -> Status {
        let mut s = self
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        s.ready = self.is_ready();
        s
    }
}

/// `/status`: the last reconcile, the last plan per resource, errors, and what waits for approval.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// `prompt`, `auto` or `never`.
    pub approval: &'static str,
    pub ready: bool,
    pub reconciles: u64,
    pub last_reconcile: Option<LastReconcile>,
    /// `config::digest` of the files the last finished reconcile read: which version of the
    /// files AWS was last reconciled against (or refused, when they were invalid).
    pub config_digest: Option<String>,
    /// RFC 3339 time of the last successful reconcile.
    pub last_success: Option<String>,
    /// The last reconcile's error, cleared by a success.
    pub last_error: Option<String>,
    /// Problems in the files (file:line:col: message); while any, AWS is left as it is.
    pub config_errors: Vec<String>,
    pub last_plan: Option<PlanStatus>,
    /// The plan waiting for ENTER (prompt) or only reported (never).
    pub pending_plan: Option<PlanStatus>,
    /// Per resource, from the last plan and apply.
    pub resources: Vec<ResourceStatus>,
    /// Who may apply (see `lease`); `null` with `--approve never`, which never applies.
    pub lease: Option<LeaseStatus>,
    /// Per key: each stack reconciled on its own, and `*` for the whole app.
    pub stacks: std::collections::BTreeMap<String, StackStatus>,
    /// The outputs last published, by deployed stack name (`dev-notes-AuthStack`).
    pub outputs: crate::outputs::Outputs,
}

/// `/status` `stacks.<name>`: the reconciles of one key.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StackStatus {
    pub reconciles: u64,
    pub last_reconcile: Option<LastReconcile>,
    /// Its last reconcile's error; `null` after a success.
    pub last_error: Option<String>,
    /// The digest of the config its last reconcile started from.
    pub config_digest: Option<String>,
}

/// `/status` `lease`: this daemon's id and who holds the lease.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LeaseStatus {
    /// This daemon's holder id (`hostname/pid/random`).
    pub id: String,
    /// True while this daemon holds the lease: only then does it apply.
    pub leader: bool,
    /// The holder's id, when anyone holds an unexpired lease.
    pub holder: Option<String>,
    /// When another holder's lease expires unless renewed (RFC 3339).
    pub holder_expires_at: Option<String>,
    /// `s3://bucket/key` of the lease object, once the config has been loaded.
    pub object: Option<String>,
    pub ttl_seconds: f64,
    /// The last error reading or writing the lease.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LastReconcile {
    pub finished_at: String,
    pub result: &'static str,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanStatus {
    pub summary: Summary,
    pub has_changes: bool,
    /// `id: action` for every resource that would change.
    pub changes: Vec<String>,
}

impl PlanStatus {
    pub fn of(plan: &Plan) -> PlanStatus {
        PlanStatus {
            summary: plan.summary(),
            has_changes: plan.has_changes(),
            changes: plan
                .changes
                .iter()
                .filter(|c| c.action != Action::NoChange)
                .map(|c| {
                    format!(
                        "{}: {}",
                        c.id,
                        serde_json::to_value(c.action)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default()
                    )
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceStatus {
    pub id: String,
    pub stack: String,
    pub kind: &'static str,
    pub physical: String,
    /// The action in the last plan (`nochange` when in sync).
    pub state: Action,
    /// What the last apply did with it: `done`, `held` or `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(
        id: &str,
        stack: &str,
        state: Action,
        outcome: Option<&'static str>,
    ) -> ResourceStatus {
        ResourceStatus {
            id: id.into(),
            stack: stack.into(),
            kind: "S3 bucket",
            physical: "b".into(),
            state,
            outcome,
            error: None,
        }
    }

    /// What the scheduler's `record` does when a reconcile of `stack` finishes.
    fn finish(shared: &Shared, stack: &str, error: Option<&str>) {
        shared.finish(stack, |s| {
            s.reconciles += 1;
            s.last_reconcile = Some(LastReconcile {
                finished_at: "2026-01-01T00:00:00Z".into(),
                result: if error.is_some() { "error" } else { "success" },
                duration_ms: 7,
            });
            let e = s.stacks.entry(stack.into()).or_default();
            e.reconciles += 1;
            e.last_error = error.map(str::to_string);
        });
    }

    #[test]
    fn a_finished_reconcile_is_broadcast_with_its_key_changes_and_drift() {
        let shared = Shared::new("auto");
        let mut rx = shared.subscribe();
        // Other updates (a plan recorded, the lease) send nothing.
        shared.update(|s| {
            s.resources = vec![
                resource(
                    "StorageStack.Uploads",
                    "StorageStack",
                    Action::Update,
                    Some("done"),
                ),
                resource(
                    "AuthStack.Auth.UserPool",
                    "AuthStack",
                    Action::NoChange,
                    None,
                ),
                resource("ApiStack.Api", "ApiStack", Action::Create, None),
            ];
        });
        assert!(rx.try_recv().is_err());

        finish(&shared, "StorageStack", None);
        let e = rx.try_recv().unwrap();
        assert_eq!(
            (e.seq, e.stack.as_str(), e.result.as_str()),
            (1, "StorageStack", "success")
        );
        assert_eq!(e.changes, ["StorageStack.Uploads: update (done)"]);
        assert!(!e.drift);

        // Drift counted during the next reconcile marks it, and only it.
        shared.metrics.drift_detected("StorageStack");
        finish(&shared, "StorageStack", None);
        assert!(rx.try_recv().unwrap().drift);
        finish(&shared, "*", Some("boom"));
        let e = rx.try_recv().unwrap();
        assert!(!e.drift);
        assert_eq!(e.stack, "*");
        assert_eq!(e.error.as_deref(), Some("boom"));
        assert_eq!(
            e.changes.len(),
            2,
            "the whole app's key lists every stack's changes"
        );
    }
}
