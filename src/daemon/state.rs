//! What the daemon knows about itself, shared between the reconcile loop (the only writer)
//! and the HTTP endpoint (`/readyz`, `/metrics`, `/status`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::metrics::Metrics;
use crate::plan::{Action, Plan, Summary};

/// Shared by the loop and the HTTP handlers.
#[derive(Debug)]
pub struct Shared {
    pub metrics: Metrics,
    ready: AtomicBool,
    status: Mutex<Status>,
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
        }
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
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s);
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
}

/// `/status` `stacks.<name>`: the reconciles of one key.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StackStatus {
    pub reconciles: u64,
    pub last_reconcile: Option<LastReconcile>,
    /// Its last reconcile's error; `null` after a success.
    pub last_error: Option<String>,
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
