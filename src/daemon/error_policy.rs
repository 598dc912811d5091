//! What a failed reconcile does next, in one place (kube-runtime's `error_policy`), chosen by
//! the kind of error:
//! - a transient failure (a timeout, a 5xx, an AWS error a retry may cure) is retried after a
//!   jittered exponential backoff: about 1 s, 2 s, 4 s, … capped at 60 s;
//! - throttling backs off longer: about 5 s, 10 s, … capped at 5 minutes, so the daemon does
//!   not add to the account's rate;
//! - a request AWS refused as invalid (a validation error) cannot succeed by asking again
//!   unchanged: it waits for the next edit of the files (or the resync); what may be cured out
//!   of band (a same-named resource that is not ours, a missing function) is transient;
//! - a lost lease steps down: the new leader converges; this daemon follows until the lease
//!   loop makes it the leader again.
//!
//! The first success resets the backoff. The daemon never exits on an AWS error.

use std::time::Duration;

use crate::backoff::Backoff;

/// What kind of failure a reconcile had, as far as retrying it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Transient,
    Throttled,
    /// AWS refused the request as invalid (a validation error), or the files do not load.
    Invalid,
    LostLease,
}

/// When a failed key runs again without a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeue {
    After(Duration),
    /// Only on the next signal (a file edit, ENTER) or the resync.
    NextEdit,
    /// Not as leader: the resync keeps reporting the plan.
    StepDown,
}

/// What can tell its class.
pub trait Classify {
    fn class(&self) -> ErrorClass;
}

/// Transient failures: about 1 s, 2 s, … 60 s.
pub const TRANSIENT: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
/// Throttling: about 5 s, 10 s, … 5 minutes.
pub const THROTTLED: Backoff = Backoff::new(Duration::from_secs(5), Duration::from_secs(300));

/// Backoff state of one key across reconciles.
#[derive(Debug, Clone)]
pub struct ErrorPolicy {
    transient: Backoff,
    throttled: Backoff,
    failures: u32,
    /// Jitter in [0, 1]; `None` for a random one.
    jitter: Option<f64>,
}

impl Default for ErrorPolicy {
    fn default() -> Self {
        ErrorPolicy::new(TRANSIENT, THROTTLED)
    }
}

impl ErrorPolicy {
    pub fn new(transient: Backoff, throttled: Backoff) -> ErrorPolicy {
        ErrorPolicy {
            transient,
            throttled,
            failures: 0,
            jitter: None,
        }
    }

    /// The same policy with a fixed jitter (1.0: each delay at its ceiling), for tests.
    pub fn with_jitter(mut self, unit: f64) -> ErrorPolicy {
        self.jitter = Some(unit);
        self
    }

    /// Records a failure of `class` and says when to run the key again.
    pub fn on_error(&mut self, class: ErrorClass) -> Requeue {
        let attempt = self.failures;
        self.failures = self.failures.saturating_add(1);
        let delay = |b: Backoff| match self.jitter {
            Some(u) => b.delay_with(attempt, u),
            None => b.delay(attempt),
        };
        match class {
            ErrorClass::Transient => Requeue::After(delay(self.transient)),
            ErrorClass::Throttled => Requeue::After(delay(self.throttled)),
            ErrorClass::Invalid => Requeue::NextEdit,
            ErrorClass::LostLease => Requeue::StepDown,
        }
    }

    /// Records a success: the next failure starts from the base delay again.
    pub fn on_success(&mut self) {
        self.failures = 0;
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(r: Requeue) -> u64 {
        match r {
            Requeue::After(d) => d.as_secs(),
            other => panic!("{other:?}"),
        }
    }

    /// The delays, in seconds, after `n` failures of `class` in a row.
    fn delays(p: &mut ErrorPolicy, class: ErrorClass, n: usize) -> Vec<u64> {
        (0..n).map(|_| secs(p.on_error(class))).collect()
    }

    #[test]
    fn transient_failures_double_cap_and_reset() {
        let mut p = ErrorPolicy::default().with_jitter(1.0);
        let delays = delays(&mut p, ErrorClass::Transient, 9);
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(p.failures(), 9);
        p.on_success();
        assert_eq!(secs(p.on_error(ErrorClass::Transient)), 1);
    }

    #[test]
    fn throttling_backs_off_longer() {
        let mut p = ErrorPolicy::default().with_jitter(1.0);
        let delays = delays(&mut p, ErrorClass::Throttled, 8);
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 300, 300]);
    }

    #[test]
    fn an_invalid_request_waits_for_an_edit_and_a_lost_lease_steps_down() {
        let mut p = ErrorPolicy::default();
        assert_eq!(p.on_error(ErrorClass::Invalid), Requeue::NextEdit);
        assert_eq!(p.on_error(ErrorClass::LostLease), Requeue::StepDown);
    }

    #[test]
    fn random_jitter_stays_within_the_step() {
        for _ in 0..50 {
            let mut p = ErrorPolicy::default();
            p.on_error(ErrorClass::Transient);
            let d = secs(p.on_error(ErrorClass::Transient));
            assert!((1..=2).contains(&d), "{d}");
        }
    }
}
