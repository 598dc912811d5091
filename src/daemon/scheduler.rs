//! When to reconcile which key: a key is enqueued at start (the whole app), on a signal (a file
//! change names its stack; ENTER and the lease name the whole app), by the resync, which spreads
//! every key (each stack, and the leftovers) over its interval, each in its own slot with a
//! jitter, rather than reading everything in one burst, and after a failure when that key's
//! error policy says so. Per key, as kube-runtime's controller:
//! never two reconciles of one key at once, and a key enqueued while it runs gets exactly one
//! trailing run. Different keys run concurrently, at most `max_concurrent` at a time.
//!
//! The loop is pure: generic over the key and what a reconcile is ([`Reconcile`]), and driven
//! only by tokio time, the key channel and the cancel token, so its tests run it with paused
//! time (as kube-runtime tests its scheduler).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;

use super::error_policy::{Classify, ErrorPolicy, Requeue};
use super::metrics::ResultKind;
use super::reconcile::{Key, Reconciler, Report, result_kind};
use super::state::{LastReconcile, Shared};

/// How long shutdown lets in-flight reconciles finish before abandoning them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// One reconcile of one key: level-triggered, it never learns why it runs.
pub trait Reconcile<K>: Send + Sync + 'static {
    fn reconcile(&self, key: K) -> impl Future<Output = Report> + Send;
}

impl Reconcile<Key> for Reconciler {
    async fn reconcile(&self, key: Key) -> Report {
        Reconciler::reconcile(self, &key).await
    }
}

/// When keys are reconciled without a signal.
pub struct Resync<K> {
    /// Enqueued at start.
    pub first: K,
    /// Every `every` from the start, each key `keys` names is scheduled once: the n keys in
    /// slots `every / n` apart, so a resync's reads are spread over its interval.
    pub every: Duration,
    pub keys: Box<dyn Fn() -> Vec<K> + Send>,
    /// Where in the first half of its slot each key runs, as a fraction of that half in
    /// [0, 1), given the key's place and the round; `no_jitter` puts every key at its slot's
    /// start. Jitter keeps daemons (and rounds) from lining their reads up, and the half slot
    /// left keeps two keys of a round from meeting.
    pub jitter: Box<dyn Fn(usize, u64) -> f64 + Send>,
}

/// Every key at the start of its slot.
pub fn no_jitter(_: usize, _: u64) -> f64 {
    0.0
}

/// A jitter that differs per process, key and round (std's randomly seeded hasher; no new
/// dependency for a number that needs no cryptographic quality).
pub fn random_jitter() -> Box<dyn Fn(usize, u64) -> f64 + Send> {
    use std::hash::{BuildHasher, Hasher};
    let state = std::collections::hash_map::RandomState::new();
    Box::new(move |i, round| {
        let mut h = state.build_hasher();
        h.write_usize(i);
        h.write_u64(round);
        (h.finish() >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// The daemon's scheduler: [`run`] recording each report into the shared status.
pub async fn run_daemon(
    reconciler: Arc<Reconciler>,
    keys: mpsc::UnboundedReceiver<Key>,
    resync: Duration,
    files: super::reconcile::StackFiles,
    shared: Arc<Shared>,
    cancel: CancellationToken,
) {
    let done = |key: &Key, r: &Report, took: Duration| record(&shared, key, r, took);
    let resync = Resync {
        first: Key::App,
        every: resync,
        keys: Box::new(move || files.resync_keys()),
        jitter: random_jitter(),
    };
    run(
        reconciler,
        done,
        keys,
        resync,
        ErrorPolicy::default(),
        MAX_CONCURRENT,
        cancel,
    )
    .await;
}

/// How many keys the daemon reconciles at once.
pub const MAX_CONCURRENT: usize = 4;

/// What the loop knows of its keys: which run, which wait for their turn, which must run once
/// more when they finish, each key's next run without a signal (its retry, or the resync), and
/// each key's error policy.
struct Keys<K> {
    active: BTreeSet<K>,
    rerun: BTreeSet<K>,
    queue: VecDeque<K>,
    timers: BTreeMap<K, Instant>,
    policies: BTreeMap<K, ErrorPolicy>,
    /// The policy each key starts with.
    policy: ErrorPolicy,
}

impl<K: Clone + Ord + std::fmt::Debug> Keys<K> {
    fn new(first: K, policy: ErrorPolicy) -> Keys<K> {
        Keys {
            active: BTreeSet::new(),
            rerun: BTreeSet::new(),
            queue: VecDeque::from([first]),
            timers: BTreeMap::new(),
            policies: BTreeMap::new(),
            policy,
        }
    }

    /// Runs the key now (once more after its run, if it is running), ahead of its timer.
    fn enqueue(&mut self, k: K) {
        if self.active.contains(&k) {
            self.rerun.insert(k);
        } else if !self.queue.contains(&k) {
            self.queue.push_back(k);
        }
    }

    /// The next key to start, while fewer than `max` run.
    fn start(&mut self, max: usize) -> Option<K> {
        if self.active.len() >= max.max(1) {
            return None;
        }
        let key = self.queue.pop_front()?;
        self.active.insert(key.clone());
        Some(key)
    }

    /// A run ended: its error policy sets the key's retry; a signal during the run runs it again.
    fn finished(&mut self, key: K, report: &Report) {
        self.active.remove(&key);
        let p = self
            .policies
            .entry(key.clone())
            .or_insert_with(|| self.policy.clone());
        match report {
            Err(e) => match p.on_error(e.class()) {
                Requeue::After(delay) => {
                    tracing::error!(key = ?key, retry_in = ?delay, failures = p.failures(), "reconcile failed: {e}");
                    self.timers.insert(key.clone(), Instant::now() + delay);
                }
                Requeue::NextEdit => {
                    tracing::error!(key = ?key, "reconcile failed; asking again unchanged cannot succeed, so it waits for the next edit (or the resync): {e}");
                }
                Requeue::StepDown => tracing::warn!(key = ?key, "stepped down: {e}"),
            },
            Ok(_) => {
                if p.failures() > 0 {
                    tracing::info!(key = ?key, "reconcile succeeded again; backoff reset");
                }
                p.on_success();
            }
        }
        if self.rerun.remove(&key) {
            self.timers.remove(&key);
            self.queue.push_back(key);
        }
    }

    /// A resync round starting at `at`: each key in its slot of `every`, with its jitter. A key
    /// already waiting (a retry, or still queued) keeps its turn.
    fn schedule_round(&mut self, resync: &Resync<K>, at: Instant, every: Duration, round: u64) {
        let keys = (resync.keys)();
        let n = keys.len().max(1) as u32;
        let half_slot = every / n / 2;
        for (i, k) in keys.into_iter().enumerate() {
            if self.timers.contains_key(&k) || self.queue.contains(&k) {
                continue;
            }
            let jitter = (resync.jitter)(i, round).clamp(0.0, 1.0);
            let when = at + every * i as u32 / n + half_slot.mul_f64(jitter);
            self.timers.insert(k, when);
        }
    }

    /// Enqueues the keys whose timer is due.
    fn due(&mut self, now: Instant) {
        let due: Vec<K> = self
            .timers
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            self.timers.remove(&k);
            self.enqueue(k);
        }
    }

    /// When the loop must wake without a signal.
    fn next_wake(&self, next_resync: Instant) -> Instant {
        self.timers
            .values()
            .min()
            .map_or(next_resync, |t| (*t).min(next_resync))
    }
}

/// Runs reconciles until `cancel`; `done` gets every key's report and how long it took.
/// `policy` is the error policy each key starts with.
pub async fn run<K, R>(
    reconciler: Arc<R>,
    mut done: impl FnMut(&K, &Report, Duration),
    mut signals: mpsc::UnboundedReceiver<K>,
    resync: Resync<K>,
    policy: ErrorPolicy,
    max_concurrent: usize,
    cancel: CancellationToken,
) where
    K: Clone + Ord + Send + std::fmt::Debug + 'static,
    R: Reconcile<K>,
{
    let mut running: JoinSet<(K, Report, Duration)> = JoinSet::new();
    let mut keys = Keys::new(resync.first.clone(), policy);
    let every = resync.every.max(Duration::from_millis(1));
    let mut next_resync = Instant::now() + every;
    let mut round: u64 = 0;
    let mut signals_open = true;
    loop {
        while let Some(key) = keys.start(max_concurrent) {
            let r = reconciler.clone();
            running.spawn(async move {
                let started = Instant::now();
                let report = r.reconcile(key.clone()).await;
                (key, report, started.elapsed())
            });
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            k = signals.recv(), if signals_open => match k {
                None => signals_open = false,
                // A signal runs the key now, ahead of its retry or resync.
                Some(k) => {
                    keys.timers.remove(&k);
                    keys.enqueue(k);
                }
            },
            Some(joined) = running.join_next() => {
                let Ok((key, report, took)) = joined else {
                    tracing::error!("a reconcile task panicked");
                    continue;
                };
                done(&key, &report, took);
                keys.finished(key, &report);
            },
            _ = sleep_until(keys.next_wake(next_resync)) => {
                let now = Instant::now();
                if now >= next_resync {
                    keys.schedule_round(&resync, next_resync, every, round);
                    next_resync += every;
                    round += 1;
                }
                keys.due(now);
            },
        }
    }
    shut_down(running, done).await;
}

/// Lets the in-flight reconciles finish, for at most [`SHUTDOWN_GRACE`].
async fn shut_down<K>(
    mut running: JoinSet<(K, Report, Duration)>,
    mut done: impl FnMut(&K, &Report, Duration),
) where
    K: Send + 'static,
{
    if running.is_empty() {
        return;
    }
    tracing::info!(grace = ?SHUTDOWN_GRACE, in_flight = running.len(), "shutting down: letting in-flight reconciles finish");
    let finished = timeout(SHUTDOWN_GRACE, async {
        while let Some(joined) = running.join_next().await {
            if let Ok((key, report, took)) = joined {
                done(&key, &report, took);
            }
        }
    })
    .await;
    if finished.is_err() {
        running.abort_all();
        tracing::warn!(
            "abandoned the in-flight reconciles; the next start converges what they left half done"
        );
    }
}

fn record(shared: &Shared, key: &Key, report: &Report, took: Duration) {
    shared
        .metrics
        .reconciled(key.stack_label(), result_kind(report), took);
    let result = result_kind(report);
    let ok = matches!(result, ResultKind::Success | ResultKind::Pending);
    if ok {
        shared.set_ready();
    }
    let now = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    tracing::debug!(key = %key, result = result.as_str(), took = ?took, "reconciled");
    shared.finish(key.stack_label(), |s| {
        s.reconciles += 1;
        s.last_reconcile = Some(LastReconcile {
            finished_at: now.clone(),
            result: result.as_str(),
            duration_ms: took.as_millis() as u64,
        });
        if result == ResultKind::Success {
            s.last_success = Some(now);
        }
        if ok {
            s.last_error = None;
        }
        if let Err(e) = report {
            s.last_error = Some(e.to_string());
        }
        let stack = s.stacks.entry(key.stack_label().to_string()).or_default();
        stack.reconciles += 1;
        stack.last_reconcile = s.last_reconcile.clone();
        stack.last_error = report.as_ref().err().map(ToString::to_string);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{ApiError, AwsError};
    use crate::daemon::reconcile::{Outcome, ReconcileError};
    use crate::error::Error;

    fn transient() -> ReconcileError {
        ReconcileError::Read(Error::Refused("the network is down".into()))
    }

    fn aws(code: &str) -> ReconcileError {
        let api = ApiError::coded(code, format!("{code}: as AWS says it"));
        ReconcileError::Read(Error::Aws(AwsError::from_api("reading", "thing", "x", api)))
    }
    use std::sync::Mutex;

    /// A reconcile that takes `took` of (paused) time, fails while `fail` says so, and logs
    /// when each run of each key started, and how many ran at once.
    #[derive(Default)]
    struct Fake {
        took: Duration,
        fail: Mutex<bool>,
        /// What a failing run answers; a transient error unless set.
        error: Mutex<Option<fn() -> ReconcileError>>,
        starts: Mutex<Vec<(&'static str, Instant)>>,
        running: Mutex<BTreeMap<&'static str, u32>>,
        max_per_key: Mutex<u32>,
        max_total: Mutex<u32>,
    }

    impl Fake {
        fn new(took: Duration) -> Arc<Fake> {
            Arc::new(Fake {
                took,
                ..Fake::default()
            })
        }
        fn runs(&self, key: &str) -> usize {
            self.starts
                .lock()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k == key)
                .count()
        }
        /// One key's start times relative to `t0`, in whole milliseconds.
        fn starts_ms(&self, key: &str, t0: Instant) -> Vec<u128> {
            let starts = self.starts.lock().unwrap();
            starts
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, s)| (*s - t0).as_millis())
                .collect()
        }
    }

    impl Reconcile<&'static str> for Fake {
        async fn reconcile(&self, key: &'static str) -> Report {
            {
                self.starts.lock().unwrap().push((key, Instant::now()));
                {
                    let mut r = self.running.lock().unwrap();
                    *r.entry(key).or_default() += 1;
                    let total: u32 = r.values().sum();
                    let mut m = self.max_per_key.lock().unwrap();
                    *m = (*m).max(r[key]);
                    let mut t = self.max_total.lock().unwrap();
                    *t = (*t).max(total);
                }
                tokio::time::sleep(self.took).await;
                *self.running.lock().unwrap().get_mut(key).unwrap() -= 1;
                if *self.fail.lock().unwrap() {
                    Err(self.error.lock().unwrap().map_or_else(transient, |e| e()))
                } else {
                    Ok(Outcome::Success)
                }
            }
        }
    }

    struct Running {
        keys: mpsc::UnboundedSender<&'static str>,
        cancel: CancellationToken,
        task: tokio::task::JoinHandle<()>,
        t0: Instant,
    }

    /// Runs the scheduler over `fake`, starting with `"app"`; the resync schedules `"app"`.
    fn start(fake: &Arc<Fake>, resync: Duration, max_concurrent: usize) -> Running {
        start_with(fake, resync, max_concurrent, &["app"])
    }

    /// As [`start`], the resync spreading `resync_keys`.
    fn start_with(
        fake: &Arc<Fake>,
        resync: Duration,
        max_concurrent: usize,
        resync_keys: &'static [&'static str],
    ) -> Running {
        start_jittered(
            fake,
            resync,
            max_concurrent,
            resync_keys,
            Box::new(no_jitter),
        )
    }

    fn start_jittered(
        fake: &Arc<Fake>,
        resync: Duration,
        max_concurrent: usize,
        resync_keys: &'static [&'static str],
        jitter: Box<dyn Fn(usize, u64) -> f64 + Send>,
    ) -> Running {
        let (tx, rx) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let t0 = Instant::now();
        let task = tokio::spawn(run(
            fake.clone(),
            |_: &&'static str, _: &Report, _| {},
            rx,
            Resync {
                first: "app",
                every: resync,
                keys: Box::new(move || resync_keys.to_vec()),
                jitter,
            },
            ErrorPolicy::default().with_jitter(1.0),
            max_concurrent,
            cancel.clone(),
        ));
        Running {
            keys: tx,
            cancel,
            task,
            t0,
        }
    }

    impl Running {
        async fn stop(self) {
            self.cancel.cancel();
            self.task.await.unwrap();
        }
    }

    /// Lets the spawned loop run until it waits on time again.
    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    /// Lets `by` pass, then lets the loop run until it waits on time again.
    async fn advance(by: Duration) {
        tokio::time::sleep(by).await;
        settle().await;
    }

    #[tokio::test(start_paused = true)]
    async fn signals_during_a_reconcile_cause_exactly_one_trailing_run_never_two_at_once() {
        let fake = Fake::new(Duration::from_secs(2));
        let r = start(&fake, Duration::from_secs(600), 4);
        settle().await;
        assert_eq!(fake.runs("app"), 1, "the first reconcile starts at once");
        for _ in 0..5 {
            r.keys.send("app").unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        advance(Duration::from_secs(10)).await;
        assert_eq!(
            fake.runs("app"),
            2,
            "five signals during a run: one trailing run"
        );
        assert_eq!(
            fake.starts_ms("app", r.t0),
            [0, 2000],
            "the trailing run starts when the first ends"
        );
        assert_eq!(*fake.max_per_key.lock().unwrap(), 1);
        r.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn different_keys_run_concurrently_and_one_key_never_twice_at_once() {
        let fake = Fake::new(Duration::from_secs(2));
        let r = start(&fake, Duration::from_secs(600), 4);
        settle().await;
        for key in ["AuthStack", "ApiStack", "AuthStack", "AuthStack"] {
            r.keys.send(key).unwrap();
        }
        settle().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        r.keys.send("AuthStack").unwrap();
        advance(Duration::from_secs(10)).await;
        assert_eq!(fake.starts_ms("app", r.t0), [0]);
        assert_eq!(fake.starts_ms("ApiStack", r.t0), [0]);
        assert_eq!(
            fake.starts_ms("AuthStack", r.t0),
            [0, 2000],
            "queued three times before it ran: one run; enqueued while running: one rerun"
        );
        assert_eq!(*fake.max_total.lock().unwrap(), 3, "three keys at once");
        assert_eq!(*fake.max_per_key.lock().unwrap(), 1);
        r.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_max_concurrent_keys_run_and_the_rest_wait_their_turn() {
        let fake = Fake::new(Duration::from_secs(1));
        let r = start(&fake, Duration::from_secs(600), 2);
        for key in ["a", "b", "c"] {
            r.keys.send(key).unwrap();
        }
        advance(Duration::from_secs(5)).await;
        assert_eq!(*fake.max_total.lock().unwrap(), 2);
        assert_eq!(fake.starts_ms("a", r.t0), [0]);
        assert_eq!(fake.starts_ms("b", r.t0), [1000]);
        assert_eq!(fake.starts_ms("c", r.t0), [1000]);
        r.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn without_signals_the_resync_runs_on_the_timer() {
        let fake = Fake::new(Duration::from_millis(500));
        let r = start(&fake, Duration::from_secs(30), 4);
        advance(Duration::from_secs(100)).await;
        assert_eq!(fake.starts_ms("app", r.t0), [0, 30_000, 60_000, 90_000]);
        r.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn the_resync_spreads_its_keys_evenly_over_the_interval() {
        let fake = Fake::new(Duration::from_millis(500));
        let keys: &'static [&'static str] = &["leftovers", "a", "b"];
        let r = start_with(&fake, Duration::from_secs(30), 4, keys);
        advance(Duration::from_secs(95)).await;
        assert_eq!(
            fake.starts_ms("app", r.t0),
            [0],
            "the whole app only at start"
        );
        assert_eq!(fake.starts_ms("leftovers", r.t0), [30_000, 60_000, 90_000]);
        assert_eq!(fake.starts_ms("a", r.t0), [40_000, 70_000]);
        assert_eq!(fake.starts_ms("b", r.t0), [50_000, 80_000]);
        assert_eq!(
            *fake.max_total.lock().unwrap(),
            1,
            "never two at once: spread"
        );
        r.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn the_jitter_moves_each_key_within_the_first_half_of_its_slot() {
        let fake = Fake::new(Duration::from_millis(500));
        let keys: &'static [&'static str] = &["leftovers", "a", "b"];
        // Key i of round r lands at (i + r) / 4 of its half slot (5 s of a 10 s slot).
        let jitter = Box::new(|i: usize, round: u64| (i as u64 + round) as f64 / 4.0);
        let r = start_jittered(&fake, Duration::from_secs(30), 4, keys, jitter);
        advance(Duration::from_secs(95)).await;
        assert_eq!(fake.starts_ms("leftovers", r.t0), [30_000, 61_250, 92_500]);
        assert_eq!(fake.starts_ms("a", r.t0), [41_250, 72_500]);
        assert_eq!(fake.starts_ms("b", r.t0), [52_500, 83_750]);
        assert_eq!(*fake.max_total.lock().unwrap(), 1, "never two at once");
        r.stop().await;
    }

    #[test]
    fn the_random_jitter_stays_in_range_and_varies() {
        let jitter = random_jitter();
        let values: Vec<f64> = (0..50).map(|i| jitter(i % 5, i as u64 / 5)).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)), "{values:?}");
        let distinct: std::collections::BTreeSet<u64> =
            values.iter().map(|v| v.to_bits()).collect();
        assert!(distinct.len() > 40, "{values:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_per_key_and_a_success_resets_the_backoff() {
        let fake = Fake::new(Duration::ZERO);
        *fake.fail.lock().unwrap() = true;
        let r = start(&fake, Duration::from_secs(600), 4);
        advance(Duration::from_millis(7_500)).await;
        assert_eq!(
            fake.starts_ms("app", r.t0),
            [0, 1_000, 3_000, 7_000],
            "1 s, 2 s, 4 s"
        );
        // Another key starts its own backoff from 1 s.
        r.keys.send("AuthStack").unwrap();
        advance(Duration::from_millis(1_100)).await;
        assert_eq!(fake.starts_ms("AuthStack", r.t0), [7_500, 8_500]);
        *fake.fail.lock().unwrap() = false;
        advance(Duration::from_secs(8)).await;
        assert_eq!(fake.runs("app"), 5, "the run after 8 s more succeeds");
        // Failing again starts from 1 s.
        *fake.fail.lock().unwrap() = true;
        r.keys.send("app").unwrap();
        settle().await;
        advance(Duration::from_millis(1_100)).await;
        let starts = fake.starts_ms("app", r.t0);
        assert_eq!(starts.len(), 7, "{starts:?}");
        assert_eq!(starts[6] - starts[5], 1_000, "{starts:?}");
        r.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn the_error_decides_the_requeue() {
        let fake = Fake::new(Duration::ZERO);
        *fake.fail.lock().unwrap() = true;
        *fake.error.lock().unwrap() = Some(|| aws("ThrottlingException"));
        let r = start(&fake, Duration::from_secs(600), 4);
        advance(Duration::from_millis(16_000)).await;
        assert_eq!(
            fake.starts_ms("app", r.t0),
            [0, 5_000, 15_000],
            "throttling: 5 s, 10 s"
        );
        // An invalid request is not asked again unchanged; a signal (an edit) runs it.
        *fake.error.lock().unwrap() = Some(|| aws("ValidationException"));
        r.keys.send("AuthStack").unwrap();
        advance(Duration::from_secs(100)).await;
        assert_eq!(fake.runs("AuthStack"), 1, "no retry of an invalid request");
        r.keys.send("AuthStack").unwrap();
        settle().await;
        assert_eq!(fake.runs("AuthStack"), 2, "the next edit runs it");
        // A lost lease steps down: no retry either.
        *fake.error.lock().unwrap() = Some(|| ReconcileError::LostLease);
        r.keys.send("ApiStack").unwrap();
        advance(Duration::from_secs(100)).await;
        assert_eq!(fake.runs("ApiStack"), 1, "stepped down");
        r.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_waits_for_the_in_flight_runs_at_most_the_grace() {
        let fake = Fake::new(Duration::from_secs(3600));
        let r = start(&fake, Duration::from_secs(600), 4);
        r.keys.send("AuthStack").unwrap();
        settle().await;
        let asked = Instant::now();
        r.stop().await;
        assert_eq!(asked.elapsed(), SHUTDOWN_GRACE);
        assert_eq!(fake.runs("app"), 1);
        assert_eq!(fake.runs("AuthStack"), 1);
    }
}
