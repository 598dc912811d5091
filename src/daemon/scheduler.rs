//! When to reconcile: at start, on a signal (file change, ENTER), on the resync timer, and
//! after a failure when the error policy says so. Never two at once: a signal during a
//! reconcile is kept (one `Notify` permit) and causes exactly one trailing run.
//!
//! The loop is pure: generic over what a reconcile is ([`Reconcile`]) and what is done with
//! its report, and driven only by tokio time, the trigger and the cancel token, so its tests
//! run it with paused time (as kube-runtime tests its scheduler).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;

use super::error_policy::ErrorPolicy;
use super::metrics::ResultKind;
use super::reconcile::{Reconciler, Report};
use super::state::{LastReconcile, Shared};

/// How long shutdown lets an in-flight reconcile finish before abandoning it.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// One reconcile: level-triggered, it never learns why it runs.
pub trait Reconcile {
    fn reconcile(&mut self) -> impl Future<Output = Report> + Send;
}

impl Reconcile for Reconciler {
    fn reconcile(&mut self) -> impl Future<Output = Report> + Send {
        Reconciler::reconcile(self)
    }
}

/// The daemon's scheduler: [`run`] recording each report into the shared status.
pub async fn run_daemon(
    reconciler: Reconciler,
    trigger: Arc<Notify>,
    resync: Duration,
    policy: ErrorPolicy,
    shared: Arc<Shared>,
    cancel: CancellationToken,
) {
    let done = |r: &Report, took: Duration| record(&shared, r, took);
    run(reconciler, done, trigger, resync, policy, cancel).await;
}

/// Runs reconciles until `cancel`; `done` gets every report and how long it took.
pub async fn run<R: Reconcile>(
    mut reconciler: R,
    mut done: impl FnMut(&Report, Duration),
    trigger: Arc<Notify>,
    resync: Duration,
    mut policy: ErrorPolicy,
    cancel: CancellationToken,
) {
    loop {
        let started = Instant::now();
        let report = {
            let fut = reconciler.reconcile();
            tokio::pin!(fut);
            tokio::select! {
                r = &mut fut => r,
                _ = cancel.cancelled() => {
                    tracing::info!(grace = ?SHUTDOWN_GRACE, "shutting down: letting the in-flight reconcile finish");
                    match timeout(SHUTDOWN_GRACE, fut).await {
                        Ok(r) => done(&r, started.elapsed()),
                        Err(_) => tracing::warn!(
                            "abandoned the in-flight reconcile; the next start converges what it left half done"
                        ),
                    }
                    return;
                }
            }
        };
        done(&report, started.elapsed());
        let wait = match &report.error {
            Some(e) => {
                let delay = policy.on_error();
                tracing::error!(retry_in = ?delay, failures = policy.failures(), "reconcile failed: {e}");
                delay
            }
            None => {
                if policy.failures() > 0 {
                    tracing::info!("reconcile succeeded again; backoff reset");
                }
                policy.on_success();
                resync
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = trigger.notified() => {}
            _ = sleep_until(Instant::now() + wait) => {}
        }
    }
}

fn record(shared: &Shared, report: &Report, took: Duration) {
    shared.metrics.reconciled(report.result, took);
    let ok = matches!(report.result, ResultKind::Success | ResultKind::Pending);
    if ok {
        shared.set_ready();
    }
    let now = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    tracing::debug!(result = report.result.as_str(), took = ?took, "reconciled");
    shared.update(|s| {
        s.reconciles += 1;
        s.last_reconcile = Some(LastReconcile {
            finished_at: now.clone(),
            result: report.result.as_str(),
            duration_ms: took.as_millis() as u64,
        });
        if report.result == ResultKind::Success {
            s.last_success = Some(now);
        }
        if ok {
            s.last_error = None;
        }
        if let Some(e) = &report.error {
            s.last_error = Some(e.to_string());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::reconcile::ReconcileError;
    use std::sync::Mutex;

    /// A reconcile that takes `took` of (paused) time, fails while `fail` says so, and logs
    /// when each run started.
    #[derive(Clone)]
    struct Fake {
        took: Duration,
        fail: Arc<Mutex<bool>>,
        starts: Arc<Mutex<Vec<Instant>>>,
        running: Arc<Mutex<u32>>,
        max_running: Arc<Mutex<u32>>,
    }

    impl Fake {
        fn new(took: Duration) -> Fake {
            Fake {
                took,
                fail: Arc::default(),
                starts: Arc::default(),
                running: Arc::default(),
                max_running: Arc::default(),
            }
        }
        fn runs(&self) -> usize {
            self.starts.lock().unwrap().len()
        }
        /// Start times relative to `t0`, in whole milliseconds.
        fn starts_ms(&self, t0: Instant) -> Vec<u128> {
            let starts = self.starts.lock().unwrap();
            starts.iter().map(|s| (*s - t0).as_millis()).collect()
        }
    }

    impl Reconcile for Fake {
        fn reconcile(&mut self) -> impl Future<Output = Report> + Send {
            let me = self.clone();
            async move {
                me.starts.lock().unwrap().push(Instant::now());
                {
                    let mut r = me.running.lock().unwrap();
                    *r += 1;
                    let mut m = me.max_running.lock().unwrap();
                    *m = (*m).max(*r);
                }
                tokio::time::sleep(me.took).await;
                *me.running.lock().unwrap() -= 1;
                if *me.fail.lock().unwrap() {
                    Report::error(ReconcileError::LostLease)
                } else {
                    Report {
                        result: ResultKind::Success,
                        error: None,
                    }
                }
            }
        }
    }

    struct Running {
        trigger: Arc<Notify>,
        cancel: CancellationToken,
        task: tokio::task::JoinHandle<()>,
        t0: Instant,
    }

    fn start(fake: &Fake, resync: Duration) -> Running {
        let trigger = Arc::new(Notify::new());
        let cancel = CancellationToken::new();
        let t0 = Instant::now();
        let task = tokio::spawn(run(
            fake.clone(),
            |_: &Report, _| {},
            trigger.clone(),
            resync,
            ErrorPolicy::default(),
            cancel.clone(),
        ));
        Running {
            trigger,
            cancel,
            task,
            t0,
        }
    }

    /// Lets the spawned loop run until it waits on time again.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn signals_during_a_reconcile_cause_exactly_one_trailing_run_never_two_at_once() {
        let fake = Fake::new(Duration::from_secs(2));
        let r = start(&fake, Duration::from_secs(600));
        settle().await;
        assert_eq!(fake.runs(), 1, "the first reconcile starts at once");
        for _ in 0..5 {
            r.trigger.notify_one();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
        settle().await;
        assert_eq!(
            fake.runs(),
            2,
            "five signals during a run: one trailing run"
        );
        assert_eq!(
            fake.starts_ms(r.t0),
            [0, 2000],
            "the trailing run starts when the first ends"
        );
        assert_eq!(*fake.max_running.lock().unwrap(), 1);
        r.cancel.cancel();
        r.task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn without_signals_it_resyncs_on_the_timer() {
        let fake = Fake::new(Duration::from_millis(500));
        let r = start(&fake, Duration::from_secs(30));
        tokio::time::sleep(Duration::from_secs(100)).await;
        settle().await;
        // 0, then 30 s after each run ends.
        assert_eq!(fake.starts_ms(r.t0), [0, 30_500, 61_000, 91_500]);
        r.cancel.cancel();
        r.task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_and_a_success_resets_the_backoff() {
        let fake = Fake::new(Duration::ZERO);
        *fake.fail.lock().unwrap() = true;
        let r = start(&fake, Duration::from_secs(600));
        tokio::time::sleep(Duration::from_millis(7_500)).await;
        settle().await;
        assert_eq!(
            fake.starts_ms(r.t0),
            [0, 1_000, 3_000, 7_000],
            "1 s, 2 s, 4 s"
        );
        *fake.fail.lock().unwrap() = false;
        tokio::time::sleep(Duration::from_secs(8)).await;
        settle().await;
        assert_eq!(fake.runs(), 5, "the run after 8 s more succeeds");
        // Failing again starts from 1 s.
        *fake.fail.lock().unwrap() = true;
        r.trigger.notify_one();
        settle().await;
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        settle().await;
        let starts = fake.starts_ms(r.t0);
        assert_eq!(starts.len(), 7, "{starts:?}");
        assert_eq!(starts[6] - starts[5], 1_000, "{starts:?}");
        r.cancel.cancel();
        r.task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_waits_for_the_in_flight_run_at_most_the_grace() {
        let fake = Fake::new(Duration::from_secs(3600));
        let r = start(&fake, Duration::from_secs(600));
        settle().await;
        let asked = Instant::now();
        r.cancel.cancel();
        r.task.await.unwrap();
        assert_eq!(asked.elapsed(), SHUTDOWN_GRACE);
        assert_eq!(fake.runs(), 1);
    }
}
