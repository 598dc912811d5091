//! When to reconcile: at start, on a signal (file change, ENTER), on the resync timer, and
//! after a failure when the error policy says so. Never two at once: a signal during a
//! reconcile is kept (one `Notify` permit) and causes exactly one trailing run.

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

/// Runs reconciles until `cancel`.
pub async fn run(
    mut reconciler: Reconciler,
    trigger: Arc<Notify>,
    resync: Duration,
    mut policy: ErrorPolicy,
    shared: Arc<Shared>,
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
                        Ok(r) => record(&shared, &r, started.elapsed()),
                        Err(_) => tracing::warn!(
                            "abandoned the in-flight reconcile; the next start converges what it left half done"
                        ),
                    }
                    return;
                }
            }
        };
        record(&shared, &report, started.elapsed());
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
            s.last_error = Some(e.clone());
        }
    });
}
