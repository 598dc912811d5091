//! One reconcile, level-triggered, as a pipeline of small steps: load the files (invalid: report
//! with file:line:col, keep the last good desired state, change nothing) → scope (what the key
//! covers, under its lock) → read AWS (and take or renew the lease) → plan → gate (a pure
//! decision: nothing to do, blocked, follow the leader, or apply; then approval) → apply within
//! the blast-radius guard → publish (settle, print the outputs and rewrite `outputs.json`).
//! It returns `Result<Outcome, ReconcileError>`; the error's class picks the retry.
//!
//! Only the holder of the lease (`super::lease`) applies; another daemon plans, reports the plan
//! as pending and says who leads. An apply is abandoned the moment the lease is lost.
//!
//! It never knows why it runs: a file change, the resync timer, ENTER and a retry after an
//! error all look the same. It only compares what the files say with what AWS has, for its
//! key: one stack ([`Key::Stack`], a save of that stack's file) or the whole app ([`Key::App`],
//! the start, ENTER, `stackwatch.yaml`, and any change it cannot pin on one stack), or the
//! leftovers ([`Key::Leftovers`], the resync's share of leftover discovery). A stack's
//! reconcile reads, plans and applies only that stack (`engine::Focus`); the others lend the
//! attributes it references from the daemon's read cache. When its apply changes an attribute,
//! the stacks that `uses` it are enqueued, and only those. Keys run concurrently, each on its
//! own resources; the app's key runs alone.
//!
//! With `--approve prompt` (or `never`), the plan shown is the union of every stack's part,
//! each replaced by the next reconcile that reads that stack; ENTER approves what is shown and
//! asks for a reconcile of the whole app, which applies it only if a fresh read still plans
//! exactly that.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::approval::{Approval, Decision};
use super::cloud::{Cloud, Sdk};
use super::error_policy::{Classify, ErrorClass};
use super::lease::{self, Lease, LeaseError};
use super::metrics::ResultKind;
use super::state::{PlanStatus, ResourceStatus, Shared};
use crate::aws::AwsError;
use crate::desired::Desired;
use crate::engine::{self, Focus, Guard};
use crate::error::Error;
use crate::outputs::{self, Outputs};
use crate::plan::{self, Action, Change, Plan, Problem, ResourceProblem};
use crate::render;
use crate::session::Session;

/// What a reconcile works on; fixed for the daemon's life.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The config directory, or a namespace's objects.
    pub origin: crate::origin::Origin,
    pub stage: Option<String>,
    pub state_dir: PathBuf,
    /// Which destructive changes may be applied; the others are held and reported.
    pub guard: Guard,
    /// How plans are drawn on stdout.
    pub style: render::Style,
}

/// How a reconcile that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// AWS matches the files, as far as the guard allows.
    Success,
    /// A plan waits: for approval, or for the leader to apply it.
    Pending,
    /// The files do not load; AWS was left as it is until they are fixed.
    Invalid,
}

/// A reconcile's result: how it ended, or why it failed (never both).
pub type Report = Result<Outcome, ReconcileError>;

/// The `result` label of a reconcile's metrics and `/status` entry.
pub fn result_kind(report: &Report) -> ResultKind {
    match report {
        Ok(Outcome::Success) => ResultKind::Success,
        Ok(Outcome::Pending) => ResultKind::Pending,
        Ok(Outcome::Invalid) => ResultKind::Invalid,
        Err(_) => ResultKind::Error,
    }
}

/// Why a reconcile failed; the error policy decides by its class when to try again.
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

impl Classify for ReconcileError {
    fn class(&self) -> ErrorClass {
        match self {
            ReconcileError::Read(Error::Aws(e)) => class_of([e]),
            ReconcileError::Read(Error::Config(_)) => ErrorClass::Invalid,
            ReconcileError::Read(_) | ReconcileError::Lease(_) => ErrorClass::Transient,
            ReconcileError::LostLease => ErrorClass::LostLease,
            ReconcileError::Blocked(ps) | ReconcileError::Failed(ps) => problems_class(ps),
        }
    }
}

/// Throttled when AWS asked any call to slow down; invalid when every call AWS refused was
/// refused as invalid; otherwise transient.
fn class_of<'a>(errors: impl IntoIterator<Item = &'a AwsError>) -> ErrorClass {
    let errors: Vec<&AwsError> = errors.into_iter().collect();
    if errors.iter().any(|e| e.is_throttling()) {
        ErrorClass::Throttled
    } else if !errors.is_empty() && errors.iter().all(|e| e.is_invalid_request()) {
        ErrorClass::Invalid
    } else {
        ErrorClass::Transient
    }
}

/// The class of a plan's or an apply's problems, from AWS's answers among them. A resource that
/// is not ours, or a dependency's problem, may be cured out of band (the same-named resource
/// deleted), so it is retried as transient.
fn problems_class(problems: &[ResourceProblem]) -> ErrorClass {
    class_of(problems.iter().filter_map(|p| match &p.problem {
        Problem::Aws(e) => Some(e),
        _ => None,
    }))
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
/// event is mapped to a key with. And a count of the watcher's signals: the files are hashed
/// again only when it moved (or long ago), not for every key.
#[derive(Debug, Clone, Default)]
pub struct StackFiles {
    stacks: Arc<Mutex<BTreeMap<PathBuf, String>>>,
    signals: Arc<AtomicU64>,
}

/// How long a digest of the files stands without a signal from the watcher: what a missed
/// event (an inotify queue overflow) can cost.
const DIGEST_MAX_AGE: Duration = Duration::from_secs(10);

impl StackFiles {
    /// The files may have changed (the watcher saw something, or a reconcile of everything was
    /// asked for).
    pub fn touch(&self) {
        self.signals.fetch_add(1, Ordering::SeqCst);
    }

    fn signals(&self) -> u64 {
        self.signals.load(Ordering::SeqCst)
    }

    fn set(&self, desired: &Desired) {
        let map = desired
            .config
            .stacks
            .iter()
            // An object's document (`Stack/authstack`) is no file: kept as it is named.
            .map(|s| {
                let path = std::fs::canonicalize(&s.file).unwrap_or_else(|_| s.file.to_path_buf());
                (path, s.name.clone())
            })
            .collect();
        *self.stacks.lock().unwrap_or_else(|p| p.into_inner()) = map;
    }

    /// What the resync spreads over its interval: every stack of the last good load, and the
    /// leftovers.
    pub fn resync_keys(&self) -> Vec<Key> {
        let map = self.stacks.lock().unwrap_or_else(|p| p.into_inner());
        let stacks: std::collections::BTreeSet<&String> = map.values().collect();
        std::iter::once(Key::Leftovers)
            .chain(stacks.into_iter().map(|s| Key::Stack(s.clone())))
            .collect()
    }

    /// The keys a batch of changed paths asks for: the stacks of files that still exist and
    /// held one stack at the last load; anything else (`stackwatch.yaml`, a new, deleted or
    /// renamed file, a ConfigMap swap, an unknown change) is the whole app.
    pub fn keys_for(&self, paths: &[PathBuf]) -> Vec<Key> {
        self.touch();
        let map = self.stacks.lock().unwrap_or_else(|p| p.into_inner());
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

/// The reconcile function and the little it remembers between runs, shared by the scheduler's
/// concurrent keys: the AWS clients (one `Aws` for the daemon's life, so call counts
/// accumulate), one read cache, the last load, and what was already reported so that a resync
/// does not repeat it.
///
/// Keys run side by side, each reading and applying only its own resources: two stacks, or a
/// stack and the leftovers, never touch the same resource, and the scheduler never runs one key
/// twice at once. The app's key acts on everything, so it runs alone (`scope`).
pub struct Reconciler {
    settings: Settings,
    approval: Arc<Approval>,
    shared: Arc<Shared>,
    /// Who may apply; `None` with `--approve never`.
    lease: Option<Arc<Lease>>,
    /// Which stack each file holds, for the watcher's events.
    files: StackFiles,
    /// Enqueues the stacks that use a stack whose attributes an apply changed.
    enqueue: Option<mpsc::UnboundedSender<Key>>,
    /// How AWS is read and written: the SDK (with its clients and read cache), or a unit
    /// test's fake.
    cloud: Arc<dyn Cloud>,
    /// Held for reading by a stack's or the leftovers' reconcile, for writing by the app's.
    scope: tokio::sync::RwLock<()>,
    memory: Mutex<Memory>,
}

/// What the reconciles remember between runs; each touches it briefly, never across a call
/// to AWS.
#[derive(Default)]
struct Memory {
    /// Reconciles started; and which one last set `/status`'s config digest.
    started: u64,
    digest_set_by: u64,
    /// The last load, by the digest of the files it read (see [`Reconciler::load`]).
    loaded: Option<(String, Arc<Desired>)>,
    /// The last digest of the files: the watcher's signal count then, when, and the digest.
    digest: Option<(u64, Instant, String)>,
    /// Per stack, the resources it declared when a reconcile last read it: a stack that
    /// declares fewer now left a resource for leftover discovery.
    declared: BTreeMap<String, BTreeSet<String>>,
    reported_diags: Option<Vec<String>>,
    /// Held changes already warned about, by id: (stack, action, message).
    reported_held: BTreeMap<String, (String, Action, String)>,
    /// Per key, (desired, plan shape) when AWS last matched the files as far as allowed.
    settled: BTreeMap<Key, (u64, u64)>,
    last_drift: BTreeMap<Key, u64>,
    printed_outputs: Option<Outputs>,
    /// Per key, the plan shape last reported as "not the leader", so a resync does not repeat it.
    reported_follower: BTreeMap<Key, u64>,
    /// With `--approve prompt` or `never`: the pending plan in parts, one per stack and one for
    /// the leftovers, each replaced by the next reconcile that reads it. What is shown (and
    /// what ENTER approves) is their union.
    parts: BTreeMap<Key, Vec<Change>>,
}

impl Reconciler {
    pub fn new(
        settings: Settings,
        approval: Arc<Approval>,
        shared: Arc<Shared>,
        lease: Option<Arc<Lease>>,
    ) -> Reconciler {
        Reconciler {
            cloud: Arc::new(Sdk::new(shared.clone())),
            settings,
            approval,
            shared,
            lease,
            files: StackFiles::default(),
            enqueue: None,
            scope: tokio::sync::RwLock::new(()),
            memory: Mutex::new(Memory::default()),
        }
    }

    /// This reconciler reading and writing through `cloud` instead of the SDK.
    #[cfg(test)]
    fn with_cloud(mut self, cloud: Arc<dyn Cloud>) -> Reconciler {
        self.cloud = cloud;
        self
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
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
    /// (taken before reading them, so what was loaded is at least that new) goes to `/status`,
    /// unless a reconcile that started later already put its own there.
    pub async fn reconcile(&self, key: &Key) -> Report {
        let _running = self.shared.metrics.in_flight();
        let digest = self.digest();
        let seq = {
            let mut m = self.memory();
            m.started += 1;
            m.started
        };
        let report = match self.pipeline(key, &digest).await {
            Some(report) => report,
            None => {
                tracing::debug!(%key, "a stack read alone could not plan it; reconciling the app");
                self.pipeline(&Key::App, &digest)
                    .await
                    .unwrap_or_else(|| unreachable!("the app's reconcile is never widened"))
            }
        };
        let newest = {
            let mut m = self.memory();
            let newest = seq > m.digest_set_by;
            if newest {
                m.digest_set_by = seq;
            }
            newest
        };
        let label = key.stack_label().to_string();
        self.shared.update(|s| {
            s.stacks.entry(label).or_default().config_digest = Some(digest.clone());
            if newest {
                s.config_digest = Some(digest);
            }
        });
        report
    }

    /// The digest of the files, hashed again only when the watcher signalled since the last
    /// time or that was [`DIGEST_MAX_AGE`] ago: a key's reconcile does not read every file.
    fn digest(&self) -> String {
        let signals = self.files.signals();
        if let Some((s, at, d)) = &self.memory().digest
            && *s == signals
            && at.elapsed() < DIGEST_MAX_AGE
        {
            return d.clone();
        }
        let d = self.settings.origin.digest();
        self.memory().digest = Some((signals, Instant::now(), d.clone()));
        d
    }

    /// The files loaded and validated: the last load again while the files are byte for byte
    /// what it read (each key's reconcile loads, and parsing every stack file for each of a
    /// hundred stacks would cost more than their reads). A load is kept only when the files did
    /// not change while it read them. The graph is shared with the sessions, never copied.
    fn load(&self, digest: &str) -> Result<Arc<Desired>, Error> {
        if let Some((d, desired)) = &self.memory().loaded
            && d == digest
        {
            return Ok(desired.clone());
        }
        let config = self.settings.origin.load(self.settings.stage.as_deref())?;
        let desired = Arc::new(Desired::build(config)?);
        self.files.set(&desired);
        if self.settings.origin.digest() == digest {
            self.memory().loaded = Some((digest.to_string(), desired.clone()));
        }
        Ok(desired)
    }

    /// What a key reconciles: one stack when the files still declare it and it still declares
    /// every resource it did when last read (a removed resource is found by leftover discovery,
    /// which only a whole read does); the leftovers alone; otherwise (the app key, a stack gone
    /// or renamed, or never read yet) every stack. With `--approve prompt` or `never`, a key is
    /// focused only while every other stack's part of the pending plan is known (after a
    /// deploy, the first change reads the whole app again).
    fn focus(&self, key: &Key, desired: &Desired) -> (Key, Focus) {
        let m = self.memory();
        let parts_known = self.approval.mode() == super::approval::Mode::Auto
            || desired
                .config
                .stacks
                .iter()
                .all(|s| m.parts.contains_key(&Key::Stack(s.name.clone())));
        match key {
            Key::Stack(s)
                if parts_known
                    && desired.config.stack(s).is_some()
                    && m.declared
                        .get(s)
                        .is_some_and(|old| old.is_subset(&declared_by(desired, s))) =>
            {
                (key.clone(), Focus::stacks([s.clone()]))
            }
            Key::Leftovers if parts_known => (Key::Leftovers, Focus::leftovers_only()),
            _ => (Key::App, Focus::all()),
        }
    }

    /// One key's reconcile as a pipeline: load → scope → read → plan → gate → apply → publish.
    /// The scope lock is held around the steps, and the lease is watched around the apply.
    /// `None`: the key's stacks cannot be planned on their own (they need resources of another
    /// stack that are not deployed), so the caller reconciles the whole app instead.
    async fn pipeline(&self, key: &Key, digest: &str) -> Option<Report> {
        let desired = match self.load_step(digest) {
            Ok(d) => d,
            Err(e) => return Some(Ok(self.invalid(e))),
        };
        let (_scope, key, focus) = self.scope_step(key, &desired).await;
        let desired_fp = fingerprint_desired(&desired, &focus);
        let session = match self.read_step(desired, &focus).await {
            Ok(s) => s,
            Err(e) => return Some(self.failed(&key, 1, ReconcileError::Read(e))),
        };
        let leadership = self.lease_step(&session, &focus).await;
        let plan = session.plan();
        if needs_whole_app(&plan, &focus) {
            return None;
        }
        self.record_plan(&plan, &focus);
        let guard = self.settings.guard;
        let shape = plan_shape(plan.changes.iter());
        self.detect_drift(&key, desired_fp, shape, &plan);
        let held: Vec<&Change> = plan.changes.iter().filter(|c| held_by(guard, c)).collect();
        self.report_held(&held, &focus);
        // With --approve prompt or never, what is shown and approved is every stack's part.
        let shown = (self.approval.mode() != super::approval::Mode::Auto)
            .then(|| self.union(&plan, &focus, &session.desired));
        let gate = gate(&plan, guard, shown.as_ref(), &leadership);
        let planned = Planned {
            key: &key,
            session: &session,
            focus: &focus,
            plan: &plan,
            desired_fp,
        };
        Some(match gate {
            Gate::Settled | Gate::OthersWait => self.settled(&planned, shown.as_ref()),
            Gate::Blocked(problems) => {
                let n = problems.len() as u64;
                self.show_others(shown.as_ref(), &session);
                self.failed(&key, n, ReconcileError::Blocked(problems))
            }
            Gate::LeaseFailed => match leadership {
                Err(e) => self.failed(&key, 1, ReconcileError::Lease(e)),
                Ok(_) => unreachable!("the gate says the lease failed"),
            },
            Gate::Follow => Ok(self.follow(&key, shown.as_ref().unwrap_or(&plan), shape)),
            Gate::Apply => {
                if self.approved(&session, &focus, &plan, shown.as_ref()) {
                    self.apply_step(&planned, &held).await
                } else {
                    Ok(Outcome::Pending)
                }
            }
        })
    }

    /// Load: the files, validated (the last load again while they are unchanged).
    fn load_step(&self, digest: &str) -> Result<Arc<Desired>, Error> {
        let desired = self.load(digest)?;
        if self.memory().reported_diags.take().is_some() {
            tracing::info!("the stack files are valid again");
        }
        self.shared.update(|s| s.config_errors.clear());
        Ok(desired)
    }

    /// Scope: what the key covers, decided under the lock it runs in (a stack's key that waited
    /// for the app's reconcile sees what that reconcile read). The guard it returns holds the
    /// lock for the rest of the reconcile.
    async fn scope_step(&self, key: &Key, desired: &Desired) -> (ScopeGuard<'_>, Key, Focus) {
        if *key != Key::App {
            let part = self.scope.read().await;
            let (k, focus) = self.focus(key, desired);
            if k != Key::App {
                return (ScopeGuard::Part(part), k, focus);
            }
        }
        let whole = self.scope.write().await;
        (ScopeGuard::Whole(whole), Key::App, Focus::all())
    }

    /// Read: what AWS has for the focus (through the read cache).
    async fn read_step(&self, desired: Arc<Desired>, focus: &Focus) -> Result<Session, Error> {
        let session = self.cloud.read(desired, focus).await?;
        self.remember_declared(&session.desired, focus);
        Ok(session)
    }

    /// The lease, taken or renewed unless the last look at it is recent (see
    /// [`Lease::current`]), so `/status` names the holder even when there is nothing to apply.
    /// `Ok(true)`: this daemon may apply.
    async fn lease_step(&self, session: &Session, focus: &Focus) -> Result<bool, LeaseError> {
        let Some(lease) = &self.lease else {
            return Ok(true);
        };
        let app = &session.snapshot.app;
        let target = lease::Target::new(&app.app, &app.stage, &app.account, &app.region)?;
        lease
            .current(target, session.aws.clone(), focus.named().is_none())
            .await
    }

    /// Nothing to apply: AWS matches the files as far as the guard allows (or only another
    /// stack's part of the pending plan waits, shown without this part).
    fn settled(&self, p: &Planned<'_>, shown: Option<&Plan>) -> Report {
        let (session, focus) = (p.session, p.focus);
        self.show_others(shown, session);
        let expected: Vec<&Change> = p.plan.changes.iter().collect();
        self.settle(p.key, &session.desired, focus, p.desired_fp, &expected);
        // A focused reconcile publishes its own stacks' outputs, once they are deployed.
        let (outputs, known) = session.deployed_outputs(focus);
        if known && session.focus_deployed() {
            self.publish_outputs(session, focus, outputs, false);
        }
        Ok(Outcome::Success)
    }

    /// With nothing of its own to apply: the pending union, when another stack's part still
    /// waits, is shown again without this part; else nothing is pending.
    fn show_others(&self, union: Option<&Plan>, session: &Session) {
        let guard = self.settings.guard;
        match union {
            Some(union) if actionable(union, guard) => {
                let full_name = |s: &str| session.full_stack_name(s);
                let text = render::plan_text(union, full_name, self.settings.style);
                let what = render::plan_headline(union, full_name);
                if let (_, Some(show)) = self.approval.decide(&text, &what, false) {
                    print_stdout(&show);
                }
                self.shared
                    .update(|s| s.pending_plan = Some(PlanStatus::of(union)));
            }
            _ => {
                self.approval.clear();
                self.shared.update(|s| s.pending_plan = None);
            }
        }
    }

    /// The gate's approval: always with `--approve auto` (the plan is printed); otherwise the
    /// union is shown, and applied only once approved and only by a reconcile that holds it all.
    fn approved(
        &self,
        session: &Session,
        focus: &Focus,
        plan: &Plan,
        shown: Option<&Plan>,
    ) -> bool {
        let full_name = |s: &str| session.full_stack_name(s);
        let style = self.settings.style;
        let Some(union) = shown else {
            print_stdout(&render::plan_text(plan, full_name, style));
            return true;
        };
        let text = render::plan_text(union, full_name, style);
        let what = render::plan_headline(union, full_name);
        let (decision, show) = self.approval.decide(&text, &what, focus.named().is_none());
        if let Some(show) = show {
            print_stdout(&show);
        }
        if decision == Decision::Wait {
            self.shared
                .update(|s| s.pending_plan = Some(PlanStatus::of(union)));
            return false;
        }
        self.shared.update(|s| s.pending_plan = None);
        true
    }

    /// Apply, abandoned the moment the lease is lost; then publish: settle what the next read
    /// should find, and print and write the outputs.
    async fn apply_step(&self, p: &Planned<'_>, held: &[&Change]) -> Report {
        let Planned {
            key,
            session,
            focus,
            plan,
            desired_fp,
        } = *p;
        let summary = plan.summary();
        tracing::info!(
            create = summary.create,
            update = summary.update,
            replace = summary.replace,
            delete = summary.delete,
            "deploying"
        );
        let progress = crate::term::Deploy::new(plan, self.settings.style);
        let apply = self.cloud.apply(session, self.settings.guard, &progress);
        let report = match &self.lease {
            None => apply.await,
            Some(lease) => {
                let mut leader = lease.subscribe();
                tokio::select! {
                    r = apply => r,
                    _ = async { let _ = leader.wait_for(|l| !*l).await; } => {
                        return self.failed(key, 1, ReconcileError::LostLease);
                    }
                }
            }
        };
        self.enqueue_users(session, focus, &report.attrs);
        self.record_apply(&report);
        let errors = report.errors();
        print_stdout(&progress.summary(errors.len()));
        if !errors.is_empty() {
            let n = errors.len() as u64;
            return self.failed(key, n, ReconcileError::Failed(errors));
        }
        // What the next read should find: only the changes the guard held back.
        self.settle(key, &session.desired, focus, desired_fp, held);
        if self.approval.mode() != super::approval::Mode::Auto {
            self.applied_parts();
        }
        let app = &session.snapshot.app;
        let outputs = engine::outputs(&session.desired, app, &report.attrs, focus).0;
        self.publish_outputs(session, focus, outputs, true);
        Ok(Outcome::Success)
    }

    /// A failed reconcile, counted: `n` errors for the key's stack label.
    fn failed(&self, key: &Key, n: u64, e: ReconcileError) -> Report {
        self.shared.metrics.errors(key.stack_label(), n);
        Err(e)
    }

    /// The stacks this read covered declare these resources now.
    fn remember_declared(&self, desired: &Desired, focus: &Focus) {
        let mut m = self.memory();
        if focus.named().is_none() {
            m.declared.clear();
        }
        for stack in stacks_in(desired, focus) {
            m.declared
                .insert(stack.to_string(), declared_by(desired, stack));
        }
    }

    /// The files did not change since `key` last settled, yet the plan did: drift, counted and
    /// warned once per new shape.
    fn detect_drift(&self, key: &Key, desired_fp: u64, shape: u64, plan: &Plan) {
        let mut m = self.memory();
        if let Some(&(d, settled_shape)) = m.settled.get(key)
            && d == desired_fp
            && shape != settled_shape
            && m.last_drift.get(key) != Some(&shape)
        {
            m.last_drift.insert(key.clone(), shape);
            drop(m);
            self.shared.metrics.drift_detected(key.stack_label());
            tracing::warn!(
                changes = ?PlanStatus::of(plan).changes,
                "drift: AWS no longer matches the unchanged stack files (changed out of band)"
            );
        }
    }

    /// The pending plan with this reconcile's parts replaced by what it planned: the parts of
    /// the stacks it read, and the leftovers' part when it looked for leftovers. Stacks in the
    /// files' order, the leftovers last.
    fn union(&self, plan: &Plan, focus: &Focus, desired: &Desired) -> Plan {
        // A stack's own plan never carries leftovers; a leftover is a delete.
        let leftover = |c: &&Change| c.action == Action::Delete;
        let mut m = self.memory();
        if focus.named().is_none() {
            m.parts.clear();
        }
        for stack in stacks_in(desired, focus) {
            let part = plan
                .changes
                .iter()
                .filter(|c| c.stack == stack && !leftover(c))
                .cloned()
                .collect();
            m.parts.insert(Key::Stack(stack.to_string()), part);
        }
        if focus.leftovers() {
            let part = plan.changes.iter().filter(leftover).cloned().collect();
            m.parts.insert(Key::Leftovers, part);
        }
        m.parts.retain(|k, _| match k {
            Key::Stack(s) => desired.config.stack(s).is_some(),
            _ => true,
        });
        let order = desired
            .config
            .stacks
            .iter()
            .map(|s| Key::Stack(s.name.clone()))
            .chain([Key::Leftovers]);
        let changes = order
            .filter_map(|k| m.parts.get(&k))
            .flatten()
            .cloned()
            .collect();
        Plan { changes }
    }

    /// After the whole pending plan was applied, its parts are what AWS was before: forgotten,
    /// so that the next reconcile reads the whole app again.
    fn applied_parts(&self) {
        self.memory().parts.clear();
    }

    /// Another daemon holds the lease: report the plan, apply nothing.
    fn follow(&self, key: &Key, plan: &Plan, shape: u64) -> Outcome {
        self.shared
            .update(|s| s.pending_plan = Some(PlanStatus::of(plan)));
        if self.memory().reported_follower.insert(key.clone(), shape) != Some(shape) {
            let holder = self
                .shared
                .status()
                .lease
                .and_then(|l| l.holder)
                .unwrap_or_else(|| "another daemon".into());
            let summary = plan.summary();
            tracing::info!(
                %holder,
                %key,
                create = summary.create,
                update = summary.update,
                replace = summary.replace,
                delete = summary.delete,
                "not the leader: the plan is only reported; the lease holder applies"
            );
        }
        Outcome::Pending
    }

    /// The files do not load: say where, keep the last good state, touch nothing.
    fn invalid(&self, e: Error) -> Outcome {
        let diags: Vec<String> = match &e {
            Error::Config(c) => c.0.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        };
        let mut m = self.memory();
        if m.reported_diags.as_ref() != Some(&diags) {
            for d in &diags {
                tracing::error!("invalid config: {d}");
            }
            let kept = if m.declared.is_empty() {
                "nothing loaded yet"
            } else {
                "keeping the last good desired state"
            };
            tracing::warn!(
                problems = diags.len(),
                "the stack files are invalid; {kept}; AWS is left unchanged until they are fixed"
            );
            m.reported_diags = Some(diags.clone());
        }
        m.parts.clear();
        drop(m);
        self.approval.clear();
        self.shared.update(|s| {
            s.config_errors = diags;
            s.pending_plan = None;
        });
        Outcome::Invalid
    }

    /// AWS now matches the files as far as allowed: what the next read of `key` should find
    /// is `expected` (the changes the guard holds back). A whole-app reconcile settles each
    /// stack's key too, so drift is caught by whichever key next reads that stack.
    fn settle(
        &self,
        key: &Key,
        desired: &Desired,
        focus: &Focus,
        desired_fp: u64,
        expected: &[&Change],
    ) {
        let mut m = self.memory();
        m.settled.insert(
            key.clone(),
            (desired_fp, plan_shape(expected.iter().copied())),
        );
        m.last_drift.remove(key);
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
                m.settled.insert(k.clone(), (fp, shape));
                m.last_drift.remove(&k);
            }
            let leftovers = Focus::leftovers_only();
            let deletes = expected
                .iter()
                .copied()
                .filter(|c| c.action == Action::Delete);
            m.settled.insert(
                Key::Leftovers,
                (
                    fingerprint_desired(desired, &leftovers),
                    plan_shape(deletes),
                ),
            );
            m.last_drift.remove(&Key::Leftovers);
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

    /// Warns once about each change the guard holds back, and again only after it was not held
    /// for a while; a reconcile forgets the held changes of what it read.
    fn report_held(&self, held: &[&Change], focus: &Focus) {
        let mut m = self.memory();
        m.reported_held.retain(|_, (stack, action, _)| {
            !(focus.includes(stack) && *action != Action::Delete
                || focus.leftovers() && *action == Action::Delete)
        });
        for c in held {
            let flag = if c.action == Action::Delete {
                "--allow-delete"
            } else {
                "--allow-replace"
            };
            let text = format!("{} ({:?}) needs {flag}", c.id, c.action);
            let before = m
                .reported_held
                .insert(c.id.clone(), (c.stack.clone(), c.action, text.clone()));
            if before.is_none_or(|(_, _, t)| t != text) {
                tracing::warn!("not applied: {text}");
            }
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
                engine::Outcome::Done => {}
                engine::Outcome::Held(why) => tracing::warn!(id = %r.id, "{why}"),
                engine::Outcome::Failed(e) => tracing::error!(id = %r.id, "{e}"),
            }
        }
        self.shared.update(|s| {
            for res in &mut s.resources {
                if let Some(r) = report.results.iter().find(|r| r.id == res.id) {
                    let (outcome, error) = match &r.outcome {
                        engine::Outcome::Done => ("done", None),
                        engine::Outcome::Held(why) => ("held", Some(why.clone())),
                        engine::Outcome::Failed(e) => ("failed", Some(e.to_string())),
                    };
                    res.outcome = Some(outcome);
                    res.error = error;
                }
            }
        });
    }

    /// Prints the outputs block and rewrites outputs.json, when they changed or `deployed` (after
    /// an apply, as `sst` prints them after each deploy). A focused reconcile knows its own
    /// stacks' outputs: they replace theirs, and the other stacks' stay as last published
    /// (another key may have just changed them).
    fn publish_outputs(&self, session: &Session, focus: &Focus, outputs: Outputs, deployed: bool) {
        let mut m = self.memory();
        let outputs = match focus.named() {
            None => outputs,
            Some(stacks) => {
                let mine: BTreeSet<String> =
                    stacks.iter().map(|s| session.full_stack_name(s)).collect();
                let mut all = m.printed_outputs.clone().unwrap_or_default();
                all.retain(|stack, _| !mine.contains(stack));
                all.extend(outputs.into_iter().filter(|(s, _)| mine.contains(s)));
                all
            }
        };
        if !deployed && m.printed_outputs.as_ref() == Some(&outputs) {
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
        self.shared.update(|s| s.outputs = outputs.clone());
        m.printed_outputs = Some(outputs);
    }
}

/// Where a planned reconcile goes next: decided from the plan, the guard, the pending union
/// (with `--approve prompt` or `never`) and the lease, with no side effect.
#[derive(Debug)]
enum Gate {
    /// Nothing to apply, and nothing else waits.
    Settled,
    /// Nothing of its own to apply; another stack's part of the pending plan waits.
    OthersWait,
    /// Nothing it may apply, and resources it cannot plan.
    Blocked(Vec<ResourceProblem>),
    /// Something to apply, but the lease could not be read or taken.
    LeaseFailed,
    /// Something to apply, and another daemon leads: report only.
    Follow,
    /// Something to apply, as leader: approval, then apply.
    Apply,
}

fn gate(
    plan: &Plan,
    guard: Guard,
    union: Option<&Plan>,
    leadership: &Result<bool, LeaseError>,
) -> Gate {
    if !actionable(plan, guard) {
        let problems = plan.problems();
        return if !problems.is_empty() {
            Gate::Blocked(problems)
        } else if union.is_some_and(|u| actionable(u, guard)) {
            Gate::OthersWait
        } else {
            Gate::Settled
        };
    }
    match leadership {
        Err(_) => Gate::LeaseFailed,
        Ok(false) => Gate::Follow,
        Ok(true) => Gate::Apply,
    }
}

/// A stack read alone planned a dependency on a stack out of focus that is not deployed: only
/// a read of the whole app can plan it.
fn needs_whole_app(plan: &Plan, focus: &Focus) -> bool {
    focus.named().is_some()
        && plan
            .changes
            .iter()
            .any(|c| matches!(c.error, Some(Problem::DependsOnUnfocused(_))))
}

/// The scope lock a reconcile holds: shared for a stack's or the leftovers' key, exclusive for
/// the app's.
/// Held, never read: dropping it releases the lock.
enum ScopeGuard<'a> {
    Part(#[expect(dead_code, reason = "held for its drop")] tokio::sync::RwLockReadGuard<'a, ()>),
    Whole(#[expect(dead_code, reason = "held for its drop")] tokio::sync::RwLockWriteGuard<'a, ()>),
}

/// What a reconcile may apply: a create or update, or a delete or replacement the guard allows.
fn actionable(plan: &Plan, guard: Guard) -> bool {
    plan.changes.iter().any(|c| match c.action {
        Action::Create | Action::Update => true,
        Action::Replace | Action::Delete => !held_by(guard, c),
        Action::NoChange | Action::Blocked => false,
    })
}

/// The names of the stacks `focus` covers, in the files' order.
fn stacks_in<'a>(desired: &'a Desired, focus: &'a Focus) -> impl Iterator<Item = &'a str> {
    desired
        .config
        .stacks
        .iter()
        .map(|s| s.name.as_str())
        .filter(|s| focus.includes(s))
}

/// The logical ids of the resources a stack declares.
fn declared_by(desired: &Desired, stack: &str) -> BTreeSet<String> {
    desired
        .nodes
        .iter()
        .filter(|n| n.stack == stack)
        .map(|n| n.id.clone())
        .collect()
}

/// What one reconcile read and planned: what the gate's outcomes act on.
#[derive(Clone, Copy)]
struct Planned<'a> {
    key: &'a Key,
    session: &'a Session,
    focus: &'a Focus,
    plan: &'a Plan,
    /// The fingerprint of the focused part of the files.
    desired_fp: u64,
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
    crate::term::print(text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::ApiError;
    use crate::aws::Aws;

    fn change(id: &str, stack: &str, action: Action) -> Change {
        Change {
            id: id.into(),
            stack: stack.into(),
            kind: "IAM role",
            physical: id.into(),
            action,
            fields: Vec::new(),
            error: None,
            notes: Vec::new(),
        }
    }

    fn plan(changes: Vec<Change>) -> Plan {
        Plan { changes }
    }

    const STRICT: Guard = Guard {
        allow_replace: false,
        allow_delete: false,
    };
    const LEADER: Result<bool, LeaseError> = Ok(true);

    fn aws_error(code: &str) -> AwsError {
        AwsError::from_api("creating", "IAM role", "r", ApiError::coded(code, code))
    }

    fn blocked(id: &str, problem: Problem) -> Change {
        Change {
            error: Some(problem),
            ..change(id, "AuthStack", Action::Blocked)
        }
    }

    /// A fake of the AWS-facing trait: the files' graph, deployed as declared, with `drift`
    /// (node, state field, value) as someone changed it by hand; it records the ids of every
    /// plan it is asked to apply, and how many reads it served.
    #[derive(Default)]
    struct Fake {
        /// Cleared by an apply: AWS then matches the files.
        drift: Mutex<Option<(&'static str, &'static str, serde_json::Value)>>,
        fail_read: bool,
        reads: Mutex<u32>,
        applied: Mutex<Vec<Vec<String>>>,
    }

    impl Cloud for Fake {
        fn read<'a>(
            &'a self,
            desired: Arc<Desired>,
            focus: &'a Focus,
        ) -> futures::future::BoxFuture<'a, Result<Session, Error>> {
            *self.reads.lock().unwrap() += 1;
            let mut snapshot = crate::engine::testing::deployed(&desired);
            snapshot.focus = desired
                .nodes
                .iter()
                .map(|n| focus.includes(&n.stack))
                .collect();
            if let Some((id, field, value)) = &*self.drift.lock().unwrap() {
                let i = desired.nodes.iter().position(|n| n.id == *id).unwrap();
                let observed = snapshot.observed[i].as_mut().unwrap();
                observed.state.insert(field, value.clone());
            }
            let fail = self.fail_read;
            Box::pin(async move {
                if fail {
                    return Err(Error::Aws(AwsError::refused("reading", "S3", "x", "down")));
                }
                let aws = Aws::connect("us-east-1").await;
                Ok(Session {
                    aws,
                    desired,
                    snapshot,
                })
            })
        }

        fn apply<'a>(
            &'a self,
            session: &'a Session,
            _guard: Guard,
            _progress: &'a dyn engine::Progress,
        ) -> futures::future::BoxFuture<'a, engine::ApplyReport> {
            let plan = session.plan();
            let changed: Vec<&Change> = plan
                .changes
                .iter()
                .filter(|c| c.action != Action::NoChange)
                .collect();
            let ids = changed.iter().map(|c| c.id.clone()).collect();
            self.applied.lock().unwrap().push(ids);
            *self.drift.lock().unwrap() = None;
            let results = changed
                .iter()
                .map(|c| engine::Applied {
                    id: c.id.clone(),
                    action: c.action,
                    outcome: engine::Outcome::Done,
                })
                .collect();
            let attrs = session.snapshot.attrs();
            Box::pin(async move { engine::ApplyReport { results, attrs } })
        }
    }

    const BUCKET: &str = "stack: App\nresources:\n  Uploads:\n    kind: bucket\n";

    /// A reconciler in auto mode, without a lease, on `stack`, reading through `fake`.
    fn reconciler(stack: &str, fake: Arc<Fake>) -> (tempfile::TempDir, Reconciler) {
        let dir = crate::config::testing::app_dir("", &[("app.yaml", stack)]);
        let settings = Settings {
            origin: crate::origin::Origin::Files(dir.path().to_path_buf()),
            stage: None,
            state_dir: dir.path().join(".stackwatch"),
            guard: STRICT,
            style: render::Style::PLAIN,
        };
        let approval = Arc::new(Approval::new(super::super::approval::Mode::Auto));
        let r = Reconciler::new(settings, approval, Arc::new(Shared::new("auto")), None);
        (dir, r.with_cloud(fake))
    }

    #[tokio::test]
    async fn a_key_in_sync_settles_without_applying() {
        let fake = Arc::new(Fake::default());
        let (_dir, r) = reconciler(BUCKET, fake.clone());
        assert!(matches!(r.reconcile(&Key::App).await, Ok(Outcome::Success)));
        assert!(fake.applied.lock().unwrap().is_empty());
        assert_eq!(*fake.reads.lock().unwrap(), 1);
    }

    #[tokio::test]
    async fn drift_is_applied_then_the_stack_settles() {
        let fake = Arc::new(Fake {
            drift: Mutex::new(Some((
                "App.Uploads",
                "cors",
                serde_json::json!(["by hand"]),
            ))),
            ..Fake::default()
        });
        let (dir, r) = reconciler(BUCKET, fake.clone());
        assert!(matches!(r.reconcile(&Key::App).await, Ok(Outcome::Success)));
        assert_eq!(
            *fake.applied.lock().unwrap(),
            [vec!["App.Uploads".to_string()]]
        );
        assert!(
            dir.path().join(".stackwatch/outputs.json").exists(),
            "published after apply"
        );
        // The stack's own key reads only its stack.
        assert!(matches!(
            r.reconcile(&Key::Stack("App".into())).await,
            Ok(Outcome::Success)
        ));
        assert_eq!(*fake.reads.lock().unwrap(), 2);
    }

    #[tokio::test]
    async fn invalid_files_are_reported_and_aws_is_never_read() {
        let fake = Arc::new(Fake::default());
        let (_dir, r) = reconciler(
            "stack: App\nresources:\n  B:\n    kind: bucket\n    colour: red\n",
            fake.clone(),
        );
        assert!(matches!(r.reconcile(&Key::App).await, Ok(Outcome::Invalid)));
        assert_eq!(*fake.reads.lock().unwrap(), 0);
    }

    /// A reconciler whose config is a namespace's objects: the app, and `stacks` as specs.
    fn object_reconciler(stacks: &[serde_json::Value], fake: Arc<Fake>) -> Reconciler {
        use crate::operator::store::{Object, Store};
        let store = Store::new("notes");
        store.set_listed("App");
        store.set_listed("Stack");
        store.put_app(Object {
            name: "notes".into(),
            uid: None,
            generation: Some(1),
            spec: serde_json::json!({"app": "notes", "stage": "dev", "region": "us-east-1"}),
            deleting: false,
            finalizers: vec![],
        });
        for spec in stacks {
            let name = crate::operator::crd::object_name(spec["stack"].as_str().unwrap());
            store.put_stack(Object {
                name,
                uid: None,
                generation: Some(1),
                spec: spec.clone(),
                deleting: false,
                finalizers: vec![],
            });
        }
        let settings = Settings {
            origin: crate::origin::Origin::Kubernetes(store),
            stage: None,
            state_dir: std::env::temp_dir().join(format!("sw-objects-{}", std::process::id())),
            guard: STRICT,
            style: render::Style::PLAIN,
        };
        let approval = Arc::new(Approval::new(super::super::approval::Mode::Auto));
        Reconciler::new(settings, approval, Arc::new(Shared::new("auto")), None).with_cloud(fake)
    }

    #[tokio::test]
    async fn stack_objects_reconcile_and_an_invalid_one_is_reported_at_its_field_path() {
        let fake = Arc::new(Fake::default());
        let bucket =
            serde_json::json!({"stack": "App", "resources": {"Uploads": {"kind": "bucket"}}});
        let r = object_reconciler(&[bucket], fake.clone());
        assert!(matches!(r.reconcile(&Key::App).await, Ok(Outcome::Success)));
        assert_eq!(*fake.reads.lock().unwrap(), 1);

        let fake = Arc::new(Fake::default());
        let bad = serde_json::json!({"stack": "App", "resources": {
            "Uploads": {"kind": "bucket", "colour": "red"}}});
        let r = object_reconciler(&[bad], fake.clone());
        assert!(matches!(r.reconcile(&Key::App).await, Ok(Outcome::Invalid)));
        assert_eq!(*fake.reads.lock().unwrap(), 0, "AWS is never read");
        let errors = r.shared.status().config_errors;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("Stack app, spec.resources.Uploads.colour: "),
            "{errors:?}"
        );
    }

    #[tokio::test]
    async fn a_failed_read_is_a_read_error_and_nothing_is_applied() {
        let fake = Arc::new(Fake {
            fail_read: true,
            ..Fake::default()
        });
        let (_dir, r) = reconciler(BUCKET, fake.clone());
        assert!(matches!(
            r.reconcile(&Key::App).await,
            Err(ReconcileError::Read(_))
        ));
        assert!(fake.applied.lock().unwrap().is_empty());
    }

    #[test]
    fn a_key_hashes_the_files_again_only_after_a_signal() {
        let (dir, r) = reconciler("stack: A\n", Arc::new(Fake::default()));
        let before = r.digest();
        std::fs::write(dir.path().join("stacks/a.yaml"), "stack: B\n").unwrap();
        assert_eq!(r.digest(), before, "no signal: the last digest stands");
        let keys = r
            .stack_files()
            .keys_for(&[dir.path().join("stacks/a.yaml")]);
        assert_eq!(keys, [Key::App], "a file no load has mapped is the app's");
        assert_ne!(
            r.digest(),
            before,
            "the watcher's signal makes it hash again"
        );
    }

    #[test]
    fn the_gate_applies_what_it_may_and_only_as_leader() {
        let update = plan(vec![change("A.Role", "A", Action::Update)]);
        assert!(matches!(gate(&update, STRICT, None, &LEADER), Gate::Apply));
        assert!(matches!(
            gate(&update, STRICT, None, &Ok(false)),
            Gate::Follow
        ));
        let lost = Err(LeaseError::Timeout(
            "renewing".into(),
            std::time::Duration::from_secs(5),
        ));
        assert!(matches!(
            gate(&update, STRICT, None, &lost),
            Gate::LeaseFailed
        ));
    }

    #[test]
    fn the_gate_settles_what_the_guard_holds_and_reports_what_is_blocked() {
        let held = plan(vec![
            change("A.Pool", "A", Action::Replace),
            change("B.Old", "B", Action::Delete),
            change("A.Role", "A", Action::NoChange),
        ]);
        assert!(matches!(gate(&held, STRICT, None, &LEADER), Gate::Settled));
        assert!(matches!(
            gate(&held, Guard::ALLOW_ALL, None, &LEADER),
            Gate::Apply
        ));
        // Nothing to apply here does not ask for the lease at all.
        assert!(matches!(
            gate(
                &held,
                STRICT,
                None,
                &Err(LeaseError::Timeout("x".into(), std::time::Duration::ZERO))
            ),
            Gate::Settled
        ));
        let with_blocked = plan(vec![blocked(
            "A.Role",
            Problem::DependsOnBlocked("A.Pool".into()),
        )]);
        match gate(&with_blocked, STRICT, None, &LEADER) {
            Gate::Blocked(p) => assert_eq!(p[0].id, "A.Role"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_gate_waits_for_another_stacks_part_of_the_pending_plan() {
        let mine = plan(vec![change("A.Role", "A", Action::NoChange)]);
        let union = plan(vec![
            change("A.Role", "A", Action::NoChange),
            change("B.Bucket", "B", Action::Update),
        ]);
        assert!(matches!(
            gate(&mine, STRICT, Some(&union), &LEADER),
            Gate::OthersWait
        ));
        assert!(matches!(
            gate(&mine, STRICT, Some(&mine), &LEADER),
            Gate::Settled
        ));
    }

    #[test]
    fn only_a_focused_plan_that_needs_an_undeployed_stack_widens_to_the_app() {
        let p = plan(vec![blocked(
            "A.Role",
            Problem::DependsOnUnfocused("B.Bucket".into()),
        )]);
        assert!(needs_whole_app(&p, &Focus::stacks(["A"])));
        assert!(!needs_whole_app(&p, &Focus::all()));
        let other = plan(vec![blocked(
            "A.Role",
            Problem::DependsOnBlocked("A.Pool".into()),
        )]);
        assert!(!needs_whole_app(&other, &Focus::stacks(["A"])));
    }

    #[test]
    fn errors_choose_their_class() {
        let failed = |codes: &[&str]| {
            ReconcileError::Failed(
                codes
                    .iter()
                    .map(|c| ResourceProblem {
                        id: "A.Role".into(),
                        problem: Problem::Aws(aws_error(c)),
                    })
                    .collect(),
            )
            .class()
        };
        assert_eq!(failed(&["ThrottlingException"]), ErrorClass::Throttled);
        assert_eq!(
            failed(&["ValidationException", "ThrottlingException"]),
            ErrorClass::Throttled
        );
        assert_eq!(failed(&["MalformedPolicyDocument"]), ErrorClass::Invalid);
        assert_eq!(
            failed(&["MalformedPolicyDocument", "InternalFailure"]),
            ErrorClass::Transient
        );
        assert_eq!(failed(&["ServiceUnavailable"]), ErrorClass::Transient);
        let not_ours = ReconcileError::Blocked(vec![ResourceProblem {
            id: "A.Pool".into(),
            problem: Problem::NotOurs {
                kind: "Cognito user pool",
                physical: "p".into(),
                hint: "adopt: p".into(),
                at: "a.yaml:1:1".into(),
            },
        }]);
        assert_eq!(not_ours.class(), ErrorClass::Transient, "cured out of band");
        assert_eq!(ReconcileError::LostLease.class(), ErrorClass::LostLease);
        let refused = ReconcileError::Read(Error::Aws(AwsError::refused("x", "y", "z", "no")));
        assert_eq!(refused.class(), ErrorClass::Transient);
        let config = ReconcileError::Read(Error::Config(crate::config::ConfigError(vec![])));
        assert_eq!(config.class(), ErrorClass::Invalid);
        let io = ReconcileError::Read(Error::Refused("connection refused".into()));
        assert_eq!(io.class(), ErrorClass::Transient);
    }
}
