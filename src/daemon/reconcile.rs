//! One reconcile, level-triggered: load the files → (invalid: report with file:line:col, keep
//! the last good desired state, change nothing) → read AWS → plan → approval → apply within the
//! blast-radius guard → print the outputs and rewrite `outputs.json`.
//!
//! Only the holder of the lease (`super::lease`) applies; another daemon plans, reports the plan
//! as pending and says who leads. An apply is abandoned the moment the lease is lost.
//!
//! It never knows why it runs: a file change, the resync timer, ENTER and a retry after an
//! error all look the same. It only compares what the files say with what AWS has, for its
//! key: one stack ([`Key::Stack`], a save of that stack's file) or the whole app ([`Key::App`],
//! the start, the resync, `stackwatch.yaml`, and any change it cannot pin on one stack). A
//! stack's reconcile reads, plans and applies only that stack (`engine::Focus`); the others
//! lend the attributes it references from the daemon's read cache. When its apply changes an
//! attribute, the stacks that `uses` it are enqueued, and only those.

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::approval::{Approval, Decision};
use super::lease::{self, Lease, LeaseError};
use super::metrics::ResultKind;
use super::state::{PlanStatus, ResourceStatus, Shared};
use crate::aws::Aws;
use crate::desired::Desired;
use crate::engine::{self, Focus, Guard, Outcome, ReadCache};
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

/// What one reconcile is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    /// Every stack, and the resources no file declares any more.
    App,
    /// Only the resources no file declares any more (the resync's share of the whole app).
    Leftovers,
    /// One stack, by name.
    Stack(String),
}

impl Key {
    /// The `stack` label of its metrics and `/status` entry.
    pub fn stack_label(&self) -> &str {
        match self {
            Key::App => super::metrics::ALL_STACKS,
            Key::Leftovers => "leftovers",
            Key::Stack(s) => s,
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::App => f.write_str("app"),
            Key::Leftovers => f.write_str("leftovers"),
            Key::Stack(s) => f.write_str(s),
        }
    }
}

/// Which stack each stack file held at the last good load, by canonical path: what a file
/// event is mapped to a key with.
#[derive(Debug, Clone, Default)]
pub struct StackFiles(Arc<Mutex<BTreeMap<PathBuf, String>>>);

impl StackFiles {
    fn set(&self, desired: &Desired) {
        let map = desired
            .config
            .stacks
            .iter()
            .filter_map(|s| Some((std::fs::canonicalize(&s.file).ok()?, s.name.clone())))
            .collect();
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = map;
    }

    /// What the resync spreads over its interval: every stack of the last good load, and the
    /// leftovers.
    pub fn resync_keys(&self) -> Vec<Key> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let stacks: std::collections::BTreeSet<&String> = map.values().collect();
        std::iter::once(Key::Leftovers)
            .chain(stacks.into_iter().map(|s| Key::Stack(s.clone())))
            .collect()
    }

    /// The keys a batch of changed paths asks for: the stacks of files that still exist and
    /// held one stack at the last load; anything else (`stackwatch.yaml`, a new, deleted or
    /// renamed file, a ConfigMap swap, an unknown change) is the whole app.
    pub fn keys_for(&self, paths: &[PathBuf]) -> Vec<Key> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut keys = Vec::new();
        for p in paths {
            match std::fs::canonicalize(p).ok().and_then(|c| map.get(&c)) {
                Some(stack) => keys.push(Key::Stack(stack.clone())),
                None => return vec![Key::App],
            }
        }
        if keys.is_empty() {
            return vec![Key::App];
        }
        keys.sort();
        keys.dedup();
        keys
    }
}

/// The reconciler shared by the scheduler's concurrent keys. One reconcile holds it at a time:
/// keys are read, planned and applied one after another, each only as wide as its key.
pub struct Keyed {
    inner: tokio::sync::Mutex<Reconciler>,
}

impl Keyed {
    pub fn new(reconciler: Reconciler) -> Keyed {
        Keyed {
            inner: tokio::sync::Mutex::new(reconciler),
        }
    }

    pub async fn reconcile(&self, key: Key) -> Report {
        self.inner.lock().await.reconcile(&key).await
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
    /// Per key, (desired, plan shape) when AWS last matched the files as far as allowed.
    settled: BTreeMap<Key, (u64, u64)>,
    last_drift: BTreeMap<Key, u64>,
    /// Which stack each file holds, for the watcher's events.
    files: StackFiles,
    /// The last load, by the digest of the files it read (see [`Reconciler::load`]).
    loaded: Option<(String, Desired)>,
    /// Enqueues the stacks that use a stack whose attributes an apply changed.
    enqueue: Option<mpsc::UnboundedSender<Key>>,
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
            settled: BTreeMap::new(),
            last_drift: BTreeMap::new(),
            files: StackFiles::default(),
            loaded: None,
            enqueue: None,
            printed_outputs: None,
            lease,
            reported_follower: None,
        }
    }

    /// The last desired state that loaded and validated.
    pub fn last_good(&self) -> Option<&Desired> {
        self.last_good.as_ref()
    }

    /// Which stack each file holds (kept current by every good load), for mapping file events
    /// to keys.
    pub fn stack_files(&self) -> StackFiles {
        self.files.clone()
    }

    /// Where to enqueue the stacks that use a stack whose attributes an apply changed.
    pub fn set_enqueue(&mut self, tx: mpsc::UnboundedSender<Key>) {
        self.enqueue = Some(tx);
    }

    /// One reconcile of `key` against the files as they are now; the digest of the files read
    /// (taken before reading them, so what was loaded is at least that new) goes to `/status`.
    pub async fn reconcile(&mut self, key: &Key) -> Report {
        let digest = crate::config::digest(&self.settings.config_dir);
        let report = self.reconcile_files(key, &digest).await;
        self.shared.update(|s| s.config_digest = Some(digest));
        report
    }

    /// The files loaded and validated: the last load again while the files are byte for byte
    /// what it read (each key's reconcile loads, and parsing every stack file for each of a
    /// hundred stacks would cost more than their reads). A load is kept only when the files did
    /// not change while it read them.
    fn load(&mut self, digest: &str) -> Result<Desired, Error> {
        if let Some((d, desired)) = &self.loaded
            && d == digest
        {
            return Ok(desired.clone());
        }
        self.loaded = None;
        let desired = session::load(&self.settings.config_dir, self.settings.stage.as_deref())?;
        self.files.set(&desired);
        if crate::config::digest(&self.settings.config_dir) == digest {
            self.loaded = Some((digest.to_string(), desired.clone()));
        }
        Ok(desired)
    }

    /// What a key reconciles: one stack in auto mode when the files still declare it and it
    /// still declares every resource it did (a removed resource is found by leftover discovery,
    /// which only a whole read does); the leftovers alone in auto mode; otherwise (the app key,
    /// a stack gone or renamed, a plan waiting for ENTER, which shows and approves the whole
    /// plan) every stack.
    fn focus(&self, key: &Key, desired: &Desired) -> (Key, Focus) {
        let ids = |d: &Desired, s: &str| -> std::collections::BTreeSet<String> {
            d.nodes
                .iter()
                .filter(|n| n.stack == s)
                .map(|n| n.id.clone())
                .collect()
        };
        match key {
            Key::Stack(s)
                if self.approval.mode() == super::approval::Mode::Auto
                    && desired.config.stack(s).is_some()
                    && self
                        .last_good
                        .as_ref()
                        .is_none_or(|old| ids(old, s).is_subset(&ids(desired, s))) =>
            {
                (key.clone(), Focus::stacks([s.clone()]))
            }
            Key::Leftovers if self.approval.mode() == super::approval::Mode::Auto => {
                (Key::Leftovers, Focus::leftovers_only())
            }
            _ => (Key::App, Focus::all()),
        }
    }

    async fn reconcile_files(&mut self, key: &Key, digest: &str) -> Report {
        let desired = match self.load(digest) {
            Ok(d) => d,
            Err(e) => return self.invalid(e),
        };
        if self.reported_diags.take().is_some() {
            tracing::info!("the stack files are valid again");
        }
        self.shared.update(|s| s.config_errors.clear());
        let (key, focus) = self.focus(key, &desired);
        let desired_fp = fingerprint_desired(&desired, &focus);
        self.last_good = Some(desired.clone());
        let aws = self.aws_for(&desired.config.region).await;

        let session = match Session::open_cached(aws, desired, &self.read_cache, &focus).await {
            Ok(s) => s,
            Err(e) => {
                self.shared.metrics.errors(key.stack_label(), 1);
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
                    Ok(target) => {
                        lease
                            .ensure(target, session.aws.clone(), focus.named().is_none())
                            .await
                    }
                    Err(e) => Err(e),
                }
            }
        };
        let plan = session.plan();
        let text = render::plan_text(&plan, |s| session.full_stack_name(s));
        self.record_plan(&plan, &focus);

        let guard = self.settings.guard;
        let held: Vec<&Change> = plan.changes.iter().filter(|c| held_by(guard, c)).collect();
        let actionable = plan.changes.iter().any(|c| match c.action {
            Action::Create | Action::Update => true,
            Action::Replace | Action::Delete => !held_by(guard, c),
            Action::NoChange | Action::Blocked => false,
        });
        let shape = plan_shape(plan.changes.iter());
        if let Some(&(d, settled_shape)) = self.settled.get(&key)
            && d == desired_fp
            && shape != settled_shape
            && self.last_drift.get(&key) != Some(&shape)
        {
            self.last_drift.insert(key.clone(), shape);
            self.shared.metrics.drift_detected(key.stack_label());
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
                self.shared
                    .metrics
                    .errors(key.stack_label(), blocked.len() as u64);
                return Report::error(ReconcileError::Blocked(blocked));
            }
            let expected: Vec<&Change> = plan.changes.iter().collect();
            self.settle(&key, &session.desired, &focus, desired_fp, &expected);
            let (outputs, known) = session.deployed_outputs();
            if known {
                self.publish_outputs(outputs);
            }
            return Report::ok(ResultKind::Success);
        }

        match leadership {
            Err(e) => {
                self.shared.metrics.errors(key.stack_label(), 1);
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
                        self.shared.metrics.errors(key.stack_label(), 1);
                        return Report::error(ReconcileError::LostLease);
                    }
                }
            }
        };
        self.read_cache
            .remember_applied(&session.desired, &report.attrs);
        self.enqueue_users(&session, &focus, &report.attrs);
        self.record_apply(&report);
        let errors = report.errors();
        if !errors.is_empty() {
            self.shared
                .metrics
                .errors(key.stack_label(), errors.len() as u64);
            return Report::error(ReconcileError::Failed(errors));
        }
        // What the next read should find: only the changes the guard held back.
        self.settle(&key, &session.desired, &focus, desired_fp, &held);
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

    /// AWS now matches the files as far as allowed: what the next read of `key` should find
    /// is `expected` (the changes the guard holds back). A whole-app reconcile settles each
    /// stack's key too, so drift is caught by whichever key next reads that stack.
    fn settle(
        &mut self,
        key: &Key,
        desired: &Desired,
        focus: &Focus,
        desired_fp: u64,
        expected: &[&Change],
    ) {
        self.settled.insert(
            key.clone(),
            (desired_fp, plan_shape(expected.iter().copied())),
        );
        self.last_drift.remove(key);
        if focus.named().is_none() {
            for stack in &desired.config.stacks {
                let one = Focus::stacks([stack.name.clone()]);
                let fp = fingerprint_desired(desired, &one);
                // A stack's own plan never carries leftovers (deletes).
                let shape = plan_shape(
                    expected
                        .iter()
                        .copied()
                        .filter(|c| c.stack == stack.name && c.action != Action::Delete),
                );
                let k = Key::Stack(stack.name.clone());
                self.settled.insert(k.clone(), (fp, shape));
                self.last_drift.remove(&k);
            }
            let leftovers = Focus::leftovers_only();
            let deletes = expected
                .iter()
                .copied()
                .filter(|c| c.action == Action::Delete);
            self.settled.insert(
                Key::Leftovers,
                (
                    fingerprint_desired(desired, &leftovers),
                    plan_shape(deletes),
                ),
            );
            self.last_drift.remove(&Key::Leftovers);
        }
    }

    /// After a focused apply: the stacks that `uses` a focused stack whose attributes changed
    /// are enqueued (a bucket renamed or replaced re-plans the policy that names it); a change
    /// that leaves every attribute as it was (a bucket's CORS) enqueues nothing.
    fn enqueue_users(
        &self,
        session: &Session,
        focus: &Focus,
        after: &[Option<crate::resource::Attrs>],
    ) {
        let (Some(tx), Some(focused)) = (&self.enqueue, focus.named()) else {
            return;
        };
        let before = session.snapshot.attrs();
        let desired = &session.desired;
        let changed: std::collections::BTreeSet<&str> = desired
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| focused.contains(&n.stack) && before[*i] != after[*i])
            .map(|(_, n)| n.stack.as_str())
            .collect();
        for stack in &desired.config.stacks {
            if stack.uses.iter().any(|u| changed.contains(u.as_str())) {
                tracing::info!(stack = %stack.name, uses = ?changed, "attributes it references changed; enqueued");
                let _ = tx.send(Key::Stack(stack.name.clone()));
            }
        }
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

    /// The plan into `/status`: a focused plan replaces its stacks' resources only.
    fn record_plan(&self, plan: &Plan, focus: &Focus) {
        let resources: Vec<ResourceStatus> = plan
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
            // A leftover is listed again by every read that looks for leftovers.
            s.resources.retain(|r| {
                !focus.includes(&r.stack) && (!focus.leftovers() || r.state != Action::Delete)
            });
            s.resources.extend(resources);
            s.resources.sort_by(|a, b| a.id.cmp(&b.id));
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

/// What the files ask for in `focus`, ignoring where it was written (line numbers, comments).
fn fingerprint_desired(desired: &Desired, focus: &Focus) -> u64 {
    let mut h = DefaultHasher::new();
    for n in desired.nodes.iter().filter(|n| focus.includes(&n.stack)) {
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
