//! What a failed reconcile does next, in one place (kube-runtime's `error_policy`): retry after
//! an exponential backoff (1 s, 2 s, 4 s, … capped at 60 s), reset by the first success.
//! The daemon never exits on an AWS error; it only waits longer.

use std::time::Duration;

/// Backoff state across reconciles.
#[derive(Debug, Clone)]
pub struct ErrorPolicy {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Default for ErrorPolicy {
    fn default() -> Self {
        ErrorPolicy::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

impl ErrorPolicy {
    pub fn new(base: Duration, cap: Duration) -> ErrorPolicy {
        ErrorPolicy {
            base,
            cap,
            failures: 0,
        }
    }

    /// Records a failure and returns how long to wait before the retry.
    pub fn on_error(&mut self) -> Duration {
        let factor = 2u32.saturating_pow(self.failures.min(31));
        self.failures = self.failures.saturating_add(1);
        self.base.saturating_mul(factor).min(self.cap)
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

    #[test]
    fn doubles_caps_and_resets() {
        let mut p = ErrorPolicy::default();
        let delays: Vec<u64> = (0..9).map(|_| p.on_error().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(p.failures(), 9);
        p.on_success();
        assert_eq!(p.on_error(), Duration::from_secs(1));
    }

    #[test]
    fn never_overflows() {
        let mut p = ErrorPolicy::default();
        for _ in 0..100 {
            assert!(p.on_error() <= Duration::from_secs(60));
        }
    }
}
