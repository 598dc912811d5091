//! The daemon's Prometheus metrics (prometheus-client), encoded as text on each scrape.
//!
//! AWS calls are not counted here: they are read from the clients' [`CallCounter`]s at
//! scrape time, so the numbers are the requests that really reached the wire.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::aws::CallCounter;

type ResultLabel = [(&'static str, &'static str); 1];
type StackResultLabel = [(&'static str, String); 2];
type StackLabel = [(&'static str, String); 1];

/// The `stack` label of a whole-app reconcile (every stack at once).
pub const ALL_STACKS: &str = "*";

fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.05, 2.0, 12))
}

/// How a reconcile ended, as the `result` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    /// AWS matches the files (after applying, or with nothing to do).
    Success,
    /// A plan waits for approval (`prompt`) or is only reported (`never`).
    Pending,
    /// The files are invalid; nothing was read or changed.
    Invalid,
    /// AWS calls failed; retried with backoff.
    Error,
}

impl ResultKind {
    pub const ALL: [ResultKind; 4] = [
        ResultKind::Success,
        ResultKind::Pending,
        ResultKind::Invalid,
        ResultKind::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResultKind::Success => "success",
            ResultKind::Pending => "pending",
            ResultKind::Invalid => "invalid",
            ResultKind::Error => "error",
        }
    }
}

/// Every metric the daemon exports, plus the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ResultLabel, Counter>,
    duration: Histogram,
    errors: Counter,
    drift: Counter,
    stack_reconciles: Family<StackResultLabel, Counter>,
    stack_duration: Family<StackLabel, Histogram>,
    stack_errors: Family<StackLabel, Counter>,
    stack_drift: Family<StackLabel, Counter>,
    last_success: Gauge<f64, AtomicU64>,
    leader: Gauge,
    in_flight: Gauge,
    aws: Arc<AwsCalls>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// `metric`, registered under `name` (its clones share the value).
fn registered<M>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M
where
    M: prometheus_client::registry::Metric + Clone,
{
    registry.register(name, help, metric.clone());
    metric
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::default();
        let reconciles = Family::<ResultLabel, Counter>::default();
        for k in ResultKind::ALL {
            let _ = reconciles.get_or_create(&[("result", k.as_str())]);
        }
        let stack_duration =
            Family::<StackLabel, Histogram>::new_with_constructor(duration_histogram as fn() -> _);
        let aws = Arc::new(AwsCalls::default());
        r.register_collector(Box::new(aws.clone()));
        Metrics {
            reconciles: registered(
                &mut r,
                "stackwatch_reconciles",
                "Reconciles run, by result (success, pending, invalid, error)",
                reconciles,
            ),
            duration: registered(
                &mut r,
                "stackwatch_reconcile_duration_seconds",
                "How long one reconcile took (load, read, plan, apply)",
                Histogram::new(exponential_buckets(0.05, 2.0, 12)),
            ),
            errors: registered(
                &mut r,
                "stackwatch_errors",
                "Errors met while reconciling: AWS reads or writes that failed, per resource",
                Counter::default(),
            ),
            drift: registered(
                &mut r,
                "stackwatch_drift_detected",
                "Times AWS was found to differ from unchanged stack files (out-of-band changes)",
                Counter::default(),
            ),
            stack_reconciles: registered(
                &mut r,
                "stackwatch_stack_reconciles",
                "Reconciles run, by stack (`*`: the whole app) and result",
                Family::<StackResultLabel, Counter>::default(),
            ),
            stack_duration: registered(
                &mut r,
                "stackwatch_stack_reconcile_duration_seconds",
                "How long one reconcile took, by stack (`*`: the whole app)",
                stack_duration,
            ),
            stack_errors: registered(
                &mut r,
                "stackwatch_stack_errors",
                "Errors met while reconciling, by stack (`*`: the whole app)",
                Family::<StackLabel, Counter>::default(),
            ),
            stack_drift: registered(
                &mut r,
                "stackwatch_stack_drift_detected",
                "Drift found, by stack (`*`: the whole app)",
                Family::<StackLabel, Counter>::default(),
            ),
            last_success: registered(
                &mut r,
                "stackwatch_last_success_timestamp_seconds",
                "Unix time of the last successful reconcile (0 before the first)",
                Gauge::<f64, AtomicU64>::default(),
            ),
            leader: registered(
                &mut r,
                "stackwatch_leader",
                "1 while this daemon holds the lease and may apply, else 0",
                Gauge::default(),
            ),
            in_flight: registered(
                &mut r,
                "stackwatch_reconciles_in_flight",
                "Reconciles running now",
                Gauge::default(),
            ),
            aws,
            registry: r,
        }
    }

    /// Counts a reconcile as running until the returned guard is dropped.
    pub fn in_flight(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// Counts the calls made through `counter` too (one per `Aws` the daemon builds).
    pub fn track_aws(&self, counter: CallCounter) {
        self.aws.add(counter);
    }

    /// Records one finished reconcile of `stack` ([`ALL_STACKS`] for the whole app).
    pub fn reconciled(&self, stack: &str, result: ResultKind, took: Duration) {
        self.reconciles
            .get_or_create(&[("result", result.as_str())])
            .inc();
        self.duration.observe(took.as_secs_f64());
        self.stack_reconciles
            .get_or_create(&[
                ("stack", stack.to_string()),
                ("result", result.as_str().to_string()),
            ])
            .inc();
        self.stack_duration
            .get_or_create(&[("stack", stack.to_string())])
            .observe(took.as_secs_f64());
        if result == ResultKind::Success {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            self.last_success.set(now.as_secs_f64());
        }
    }

    pub fn errors(&self, stack: &str, n: u64) {
        self.errors.inc_by(n);
        self.stack_errors
            .get_or_create(&[("stack", stack.to_string())])
            .inc_by(n);
    }

    pub fn drift_detected(&self, stack: &str) {
        self.drift.inc();
        self.stack_drift
            .get_or_create(&[("stack", stack.to_string())])
            .inc();
    }

    /// Drift found so far, over every key (`stackwatch_drift_detected_total`).
    pub fn drift_total(&self) -> u64 {
        self.drift.get()
    }

    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "encoding metrics");
        }
        out
    }
}

/// A running reconcile, counted in `stackwatch_reconciles_in_flight` until dropped.
#[derive(Debug)]
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// `stackwatch_aws_calls_total{service,operation,kind}`, summed over every call counter.
#[derive(Debug, Default)]
struct AwsCalls {
    counters: Mutex<Vec<CallCounter>>,
}

impl AwsCalls {
    fn add(&self, counter: CallCounter) {
        self.counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(counter);
    }

    fn totals(&self) -> BTreeMap<(String, String, &'static str), u64> {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let mut totals = BTreeMap::new();
        for c in counters.iter().flat_map(CallCounter::snapshot) {
            let kind = if c.write { "write" } else { "read" };
            *totals.entry((c.service, c.operation, kind)).or_default() += c.count;
        }
        totals
    }
}

impl Collector for AwsCalls {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let totals = self.totals();
        let mut family = encoder.encode_descriptor(
            "stackwatch_aws_calls",
            "AWS API requests sent, by service, operation and kind (read or write)",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for ((service, operation, kind), n) in totals {
            let labels = [
                ("service", service.as_str()),
                ("operation", operation.as_str()),
                ("kind", kind),
            ];
            ConstCounter::new(n).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_every_family() {
        let m = Metrics::new();
        m.reconciled("AuthStack", ResultKind::Success, Duration::from_millis(120));
        m.reconciled(ALL_STACKS, ResultKind::Error, Duration::from_millis(80));
        m.errors("AuthStack", 2);
        m.drift_detected("AuthStack");
        m.set_leader(true);
        let running = m.in_flight();
        assert!(m.encode().contains("stackwatch_reconciles_in_flight 1"));
        drop(running);
        let text = m.encode();
        for needle in [
            "stackwatch_reconciles_total{result=\"success\"} 1",
            "stackwatch_reconciles_total{result=\"error\"} 1",
            "stackwatch_reconcile_duration_seconds_count 2",
            "stackwatch_stack_reconciles_total{stack=\"AuthStack\",result=\"success\"} 1",
            "stackwatch_stack_reconciles_total{stack=\"*\",result=\"error\"} 1",
            "stackwatch_stack_reconcile_duration_seconds_count{stack=\"AuthStack\"} 1",
            "stackwatch_stack_errors_total{stack=\"AuthStack\"} 2",
            "stackwatch_stack_drift_detected_total{stack=\"AuthStack\"} 1",
            "stackwatch_errors_total 2",
            "stackwatch_drift_detected_total 1",
            "# TYPE stackwatch_aws_calls counter",
            "stackwatch_last_success_timestamp_seconds ",
            "stackwatch_leader 1",
            "stackwatch_reconciles_in_flight 0",
        ] {
            assert!(text.contains(needle), "{needle} missing in:\n{text}");
        }
    }
}
