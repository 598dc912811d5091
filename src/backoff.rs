//! The one backoff every loop that waits after a failure uses: capped exponential delays with
//! jitter ("equal jitter": a random point in the upper half of the delay), so that retries of
//! many keys, or of many daemons, do not line up. Used by the named AWS retries, the create
//! that must not be sent twice, and the daemon's error policy.

use std::time::Duration;

/// Delays `base`, `2 × base`, `4 × base`, … up to `cap`, each jittered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    pub const fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff { base, cap }
    }

    /// The delay before retry number `attempt` (0 for the first), without jitter.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(31));
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The delay before retry number `attempt`, jittered by `unit` in [0, 1]: from half the
    /// ceiling (`unit` 0) to the ceiling (`unit` 1).
    pub fn delay_with(&self, attempt: u32, unit: f64) -> Duration {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        half + (ceiling - half).mul_f64(unit.clamp(0.0, 1.0))
    }

    /// The delay before retry number `attempt`, with a random jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, random_unit())
    }
}

/// A random number in [0, 1) from the OS (a fixed midpoint should the OS refuse).
fn random_unit() -> f64 {
    match getrandom::u64() {
        Ok(n) => (n >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));

    #[test]
    fn doubles_and_caps() {
        let c: Vec<u64> = (0..9).map(|a| B.ceiling(a).as_secs()).collect();
        assert_eq!(c, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(B.ceiling(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn the_jitter_stays_in_the_upper_half_of_the_ceiling() {
        assert_eq!(B.delay_with(3, 0.0), Duration::from_secs(4));
        assert_eq!(B.delay_with(3, 1.0), Duration::from_secs(8));
        assert_eq!(B.delay_with(3, 0.5), Duration::from_secs(6));
        assert_eq!(B.delay_with(3, 7.0), Duration::from_secs(8));
    }

    #[test]
    fn random_delays_spread_within_the_bounds() {
        let delays: Vec<Duration> = (0..200).map(|_| B.delay(4)).collect();
        assert!(delays.iter().all(|d| *d >= Duration::from_secs(8)));
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(16)));
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() > 100, "jitter spreads the delays");
    }
}
