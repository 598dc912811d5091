//! One reconcile, level-triggered: load the files → (invalid: report with file:line:col, keep
//! the last good desired state, change nothing) → read AWS → plan → approval → apply within the
//! blast-radius guard → print the outputs and rewrite `outputs.json`.
//!
//! Only the holder of the lease (`super::lease`) applies; another daemon plans, reports the plan
//! as pending and says who leads. An apply is abandoned the moment the lease is lost.
//!
//! It never knows why it runs: a file change, the resync timer, ENTER and a retry after an
//! error all look the same. It only compares what the files say with what AWS has.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;

use super::approval::{Approval, Decision};
use super::lease::{self, Lease, LeaseError};
use super::metrics::ResultKind;
use super::state::{PlanStatus, ResourceStatus, Shared};
use crate::aws::Aws;
use crate::desired::Desired;
use crate::engine::{self, Guard, Outcome, ReadCache};
use crate::error::Error;
use crate::outputs::{self, Outputs};
use crate::plan::{self, Action, Change, Plan, ResourceProblem};
use crate::render;
use crate::session::{self, Session};

/// What a reconcile works on; fixed for the daemon's life.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config_dir: PathBuf,
    pub stage: Option<String>,
    pub state_dir: PathBuf,
    /// Which destructive changes may be applied; the others are held and reported.
    pub guard: Guard,
}

/// How a reconcile ended.
#[derive(Debug)]
pub struct Report {
    pub result: ResultKind,
    pub error: Option<ReconcileError>,
}

/// Why a reconcile failed; the error policy retries it with backoff.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("reading AWS: {0}")]
    Read(Error),
    #[error("{} resource(s) blocked:\n  {}", .0.len(), plan::lines(.0))]
    Blocked(Vec<ResourceProblem>),
    #[error("cannot take the lease, so nothing is applied: {0}")]
    Lease(LeaseError),
    #[error(
        "lost the lease while applying: abandoned the apply (the new leader converges whatever \
         was left half done)"
    )]
    LostLease,
    #[error("{} resource(s) failed:\n  {}", .0.len(), plan::lines(.0))]
    Failed(Vec<ResourceProblem>),
}

impl Report {
    fn ok(result: ResultKind) -> Report {
        Report {
            result,
            error: None,
        }
    }

    pub fn error(e: ReconcileError) -> Report {
        Report {
            result: ResultKind::Error,
            error: Some(e),
        }
    }
}

/// The reconcile function and the little it remembers between runs: the AWS clients (one
/// `Aws` for the daemon's life, so call counts accumulate), the last good desired state, and
/// what was already reported so that a resync does not repeat it.
pub struct Reconciler {
    settings: Settings,
    approval: Arc<Approval>,
    shared: Arc<Shared>,
    aws: Option<Aws>,
    /// Account and physical ids the last read found through `aws` (a Describe by id instead of
    /// a List next time); reset with the clients.
    read_cache: ReadCache,
    last_good: Option<Desired>,
    reported_diags: Option<Vec<String>>,
    reported_held: Vec<String>,
    /// (desired, plan shape) when AWS last matched the files as far as allowed.
    settled: Option<(u64, u64)>,
    last_drift: Option<u64>,
    printed_outputs: Option<Outputs>,
    /// Who may apply; `None` with `--approve never`.
    lease: Option<Arc<Lease>>,
    /// The plan shape last reported as "not the leader", so a resync does not repeat it.
    reported_follower: Option<u64>,
}

impl Reconciler {
    pub fn new(
        settings: Settings,
        approval: Arc<Approval>,
        shared: Arc<Shared>,
        lease: Option<Arc<Lease>>,
    ) -> Reconciler {
        Reconciler {
            settings,
            approval,
            shared,
            aws: None,
            read_cache: ReadCache::new(),
            last_good: None,
            reported_diags: None,
            reported_held: Vec::new(),
            settled: None,
            last_drift: None,
            printed_outputs: None,
            lease,
            reported_follower: None,
        }
    }

    /// The last desired state that loaded and validated.
    pub fn last_good(&self) -> Option<&Desired> {
        self.last_good.as_ref()
    }

    /// One reconcile of the files as they are now; the digest of the files read (taken before
    /// reading them, so what was loaded is at least that new) goes to `/status`.
    pub async fn reconcile(&mut self) -> Report {
        let digest = crate::config::digest(&self.settings.config_dir);
        let report = self.reconcile_files().await;
        self.shared.update(|s| s.config_digest = Some(digest));
        report
    }

    async fn reconcile_files(&mut self) -> Report {
        let desired = match session::load(&self.settings.config_dir, self.settings.stage.as_deref())
        {
            Ok(d) => d,
            Err(e) => return self.invalid(e),
        };
        if self.reported_diags.take().is_some() {
            tracing::info!("the stack files are valid again");
        }
        self.shared.update(|s| s.config_errors.clear());
        let desired_fp = fingerprint_desired(&desired);
        self.last_good = Some(desired.clone());
        let aws = self.aws_for(&desired.config.region).await;

        let session = match Session::open_cached(aws, desired, &self.read_cache).await {
            Ok(s) => s,
            Err(e) => {
                self.shared.metrics.errors(1);
                return Report::error(ReconcileError::Read(e));
            }
        };
        // Take or renew the lease on every reconcile, so /status names the holder even when
        // there is nothing to apply.
        let leadership = match &self.lease {
            None => Ok(true),
            Some(lease) => {
                let app = &session.snapshot.app;
                match lease::Target::new(&app.app, &app.stage, &app.account, &app.region) {
                    Ok(target) => lease.ensure(target, session.aws.clone()).await,
                    Err(e) => Err(e),
                }
            }
        };
        let plan = session.plan();
        let text = render::plan_text(&plan, |s| session.full_stack_name(s));
        self.record_plan(&plan);

        let guard = self.settings.guard;
        let held: Vec<&Change> = plan.changes.iter().filter(|c| held_by(guard, c)).collect();
        let actionable = plan.changes.iter().any(|c| match c.action {
            Action::Create | Action::Update => true,
            Action::Replace | Action::Delete => !held_by(guard, c),
            Action::NoChange | Action::Blocked => false,
        });
        let shape = plan_shape(plan.changes.iter());
        if let Some((d, settled_shape)) = self.settled
            && d == desired_fp
            && shape != settled_shape
            && self.last_drift != Some(shape)
        {
            self.last_drift = Some(shape);
            self.shared.metrics.drift_detected();
            tracing::warn!(
                changes = ?PlanStatus::of(&plan).changes,
                "drift: AWS no longer matches the unchanged stack files (changed out of band)"
            );
        }
        self.report_held(&held);

        if !actionable {
            self.approval.clear();
            self.shared.update(|s| s.pending_plan = None);
            let blocked = plan.problems();
            if !blocked.is_empty() {
                self.shared.metrics.errors(blocked.len() as u64);
                return Report::error(ReconcileError::Blocked(blocked));
            }
            self.settle(desired_fp, shape);
            let (outputs, known) = session.deployed_outputs();
            if known {
                self.publish_outputs(outputs);
            }
            return Report::ok(ResultKind::Success);
        }

        match leadership {
            Err(e) => {
                self.shared.metrics.errors(1);
                return Report::error(ReconcileError::Lease(e));
            }
            Ok(false) => return self.follow(&plan, shape),
            Ok(true) => self.reported_follower = None,
        }
        let (decision, show) = self.approval.decide(&text);
        if let Some(show) = show {
            print_stdout(&show);
        }
        match decision {
            Decision::Wait => {
                self.shared
                    .update(|s| s.pending_plan = Some(PlanStatus::of(&plan)));
                return Report::ok(ResultKind::Pending);
            }
            Decision::Apply => {
                self.shared.update(|s| s.pending_plan = None);
            }
        }
        if self.approval.mode() == super::approval::Mode::Auto {
            print_stdout(&text);
        }
        let summary = plan.summary();
        tracing::info!(
            create = summary.create,
            update = summary.update,
            replace = summary.replace,
            delete = summary.delete,
            "deploying"
        );
        let apply = engine::apply(&session.aws, &session.desired, &session.snapshot, guard);
        let report = match &self.lease {
            None => apply.await,
            Some(lease) => {
                let mut leader = lease.subscribe();
                tokio::select! {
                    r = apply => r,
                    _ = async { let _ = leader.wait_for(|l| !*l).await; } => {
                        self.shared.metrics.errors(1);
                        return Report::error(ReconcileError::LostLease);
                    }
                }
            }
        };
        self.read_cache
            .remember_applied(&session.desired, &report.attrs);
        self.record_apply(&report);
        let errors = report.errors();
        if !errors.is_empty() {
            self.shared.metrics.errors(errors.len() as u64);
            return Report::error(ReconcileError::Failed(errors));
        }
        // What the next read should find: only the changes the guard held back.
        self.settle(desired_fp, plan_shape(held.iter().copied()));
        let outputs = engine::outputs(&session.desired, &session.snapshot.app, &report.attrs).0;
        self.printed_outputs = None;
        self.publish_outputs(outputs);
        Report::ok(ResultKind::Success)
    }

    /// Another daemon holds the lease: report the plan, apply nothing.
    fn follow(&mut self, plan: &Plan, shape: u64) -> Report {
        self.approval.clear();
        self.shared
            .update(|s| s.pending_plan = Some(PlanStatus::of(plan)));
        if self.reported_follower != Some(shape) {
            let holder = self
                .shared
                .status()
                .lease
                .and_then(|l| l.holder)
                .unwrap_or_else(|| "another daemon".into());
            let summary = plan.summary();
            tracing::info!(
                %holder,
                create = summary.create,
                update = summary.update,
                replace = summary.replace,
                delete = summary.delete,
                "not the leader: the plan is only reported; the lease holder applies"
            );
            self.reported_follower = Some(shape);
        }
        Report::ok(ResultKind::Pending)
    }

    /// The files do not load: say where, keep the last good state, touch nothing.
    fn invalid(&mut self, e: Error) -> Report {
        let diags: Vec<String> = match &e {
            Error::Config(c) => c.0.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        };
        if self.reported_diags.as_ref() != Some(&diags) {
            for d in &diags {
                tracing::error!("invalid config: {d}");
            }
            let kept = if self.last_good.is_some() {
                "keeping the last good desired state"
            } else {
                "nothing loaded yet"
            };
            tracing::warn!(
                problems = diags.len(),
                "the stack files are invalid; {kept}; AWS is left unchanged until they are fixed"
            );
            self.reported_diags = Some(diags.clone());
        }
        self.approval.clear();
        self.shared.update(|s| {
            s.config_errors = diags;
            s.pending_plan = None;
        });
        Report::ok(ResultKind::Invalid)
    }

    async fn aws_for(&mut self, region: &str) -> Aws {
        match &self.aws {
            Some(aws) if aws.region == region => aws.clone(),
            _ => {
                let aws = Aws::connect(region).await;
                self.shared.metrics.track_aws(aws.calls.clone());
                self.aws = Some(aws.clone());
                self.read_cache = ReadCache::new();
                aws
            }
        }
    }

    fn settle(&mut self, desired_fp: u64, shape: u64) {
        self.settled = Some((desired_fp, shape));
        self.last_drift = None;
    }

    fn report_held(&mut self, held: &[&Change]) {
        let now: Vec<String> = held
            .iter()
            .map(|c| {
                let flag = if c.action == Action::Delete {
                    "--allow-delete"
                } else {
                    "--allow-replace"
                };
                format!("{} ({:?}) needs {flag}", c.id, c.action)
            })
            .collect();
        if now != self.reported_held {
            for h in &now {
                tracing::warn!("not applied: {h}");
            }
            self.reported_held = now;
        }
    }

    fn record_plan(&self, plan: &Plan) {
        let resources = plan
            .changes
            .iter()
            .map(|c| ResourceStatus {
                id: c.id.clone(),
                stack: c.stack.clone(),
                kind: c.kind,
                physical: c.physical.clone(),
                state: c.action,
                outcome: held_by(self.settings.guard, c).then_some("held"),
                error: c.error.as_ref().map(ToString::to_string),
            })
            .collect();
        let last = PlanStatus::of(plan);
        self.shared.update(|s| {
            s.resources = resources;
            s.last_plan = Some(last);
        });
    }

    fn record_apply(&self, report: &engine::ApplyReport) {
        for r in &report.results {
            match &r.outcome {
                Outcome::Done => {}
                Outcome::Held(why) => tracing::warn!(id = %r.id, "{why}"),
                Outcome::Failed(e) => tracing::error!(id = %r.id, "{e}"),
            }
        }
        self.shared.update(|s| {
            for res in &mut s.resources {
                if let Some(r) = report.results.iter().find(|r| r.id == res.id) {
                    let (outcome, error) = match &r.outcome {
                        Outcome::Done => ("done", None),
                        Outcome::Held(why) => ("held", Some(why.clone())),
                        Outcome::Failed(e) => ("failed", Some(e.to_string())),
                    };
                    res.outcome = Some(outcome);
                    res.error = error;
                }
            }
        });
    }

    /// Prints the outputs block and rewrites outputs.json, when they changed.
    fn publish_outputs(&mut self, outputs: Outputs) {
        if self.printed_outputs.as_ref() == Some(&outputs) {
            return;
        }
        print_stdout(&format!("\n{}", render::outputs_text(&outputs, "deployed")));
        match outputs::write(&self.settings.state_dir, &outputs) {
            Ok(()) => tracing::info!(
                path = %self.settings.state_dir.join("outputs.json").display(),
                "outputs written"
            ),
            Err(e) => tracing::warn!(
                error = %e,
                "writing {}",
                self.settings.state_dir.join("outputs.json").display()
            ),
        }
        self.printed_outputs = Some(outputs);
    }
}

/// Whether the guard keeps this change from being applied.
fn held_by(guard: Guard, c: &Change) -> bool {
    match c.action {
        Action::Replace => !guard.allow_replace,
        Action::Delete => !guard.allow_delete,
        _ => false,
    }
}

/// The resources that change and how (not the values): stable across reads of the same state.
fn plan_shape<'a>(changes: impl Iterator<Item = &'a Change>) -> u64 {
    let mut h = DefaultHasher::new();
    for c in changes.filter(|c| c.action != Action::NoChange) {
        c.id.hash(&mut h);
        format!("{:?}", c.action).hash(&mut h);
        for f in &c.fields {
            f.field.hash(&mut h);
        }
    }
    h.finish()
}

/// What the files ask for, ignoring where it was written (line numbers, comments).
fn fingerprint_desired(desired: &Desired) -> u64 {
    let mut h = DefaultHasher::new();
    for n in &desired.nodes {
        format!(
            "{}{:?}{:?}{:?}{:?}",
            n.id, n.def, n.removal, n.adopt, n.tags
        )
        .hash(&mut h);
    }
    h.finish()
}

fn print_stdout(text: &str) {
    super::approval::print_block(text);
}
