//! Latency histogram: `hdrhistogram` in microseconds with three significant digits, so every
//! percentile is within 0.1% of the true value, from 1 µs up to 10 minutes (longer latencies are
//! recorded as 10 minutes).

use std::time::Duration;

use hdrhistogram::Histogram;

const LOWEST_US: u64 = 1;
const HIGHEST_US: u64 = 600_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;

/// Latencies of successful requests.
#[derive(Debug, Clone)]
pub struct LatencyHistogram(Histogram<u64>);

impl Default for LatencyHistogram {
    fn default() -> LatencyHistogram {
        LatencyHistogram::new()
    }
}

impl LatencyHistogram {
    pub fn new() -> LatencyHistogram {
        match Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS) {
            Ok(histogram) => LatencyHistogram(histogram),
            // The bounds are constants that hdrhistogram accepts.
            Err(error) => unreachable!("histogram bounds: {error}"),
        }
    }

    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .clamp(LOWEST_US, HIGHEST_US);
        self.0.saturating_record(micros);
    }

    pub fn merge(&mut self, other: &LatencyHistogram) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// The latency at `percentile` (0-100); zero when empty.
    pub fn percentile(&self, percentile: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        Duration::from_micros(self.0.value_at_percentile(percentile))
    }

    pub fn max(&self) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        Duration::from_micros(self.0.max())
    }

    pub fn mean(&self) -> Duration {
        Duration::from_secs_f64(self.0.mean() / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within_a_thousandth(actual: Duration, expected: Duration) -> bool {
        let (actual, expected) = (actual.as_secs_f64(), expected.as_secs_f64());
        (actual - expected).abs() <= expected * 0.001
    }

    #[test]
    fn percentiles_of_a_uniform_spread() {
        let mut histogram = LatencyHistogram::new();
        for ms in 1..=1000 {
            histogram.record(Duration::from_millis(ms));
        }
        assert_eq!(histogram.count(), 1000);
        for (percentile, expected_ms) in [(50.0, 500), (90.0, 900), (99.0, 990), (100.0, 1000)] {
            let actual = histogram.percentile(percentile);
            assert!(
                within_a_thousandth(actual, Duration::from_millis(expected_ms)),
                "p{percentile} = {actual:?}, expected {expected_ms} ms"
            );
        }
        assert!(within_a_thousandth(
            histogram.max(),
            Duration::from_millis(1000)
        ));
        assert!(within_a_thousandth(
            histogram.mean(),
            Duration::from_micros(500_500)
        ));
    }

    #[test]
    fn a_slow_tail_shows_in_p99_and_max_only() {
        let mut histogram = LatencyHistogram::new();
        for _ in 0..990 {
            histogram.record(Duration::from_micros(100));
        }
        for _ in 0..10 {
            histogram.record(Duration::from_secs(2));
        }
        assert!(within_a_thousandth(
            histogram.percentile(50.0),
            Duration::from_micros(100)
        ));
        assert!(within_a_thousandth(
            histogram.percentile(99.0),
            Duration::from_micros(100)
        ));
        assert!(within_a_thousandth(
            histogram.percentile(99.5),
            Duration::from_secs(2)
        ));
        assert!(within_a_thousandth(histogram.max(), Duration::from_secs(2)));
    }

    #[test]
    fn merging_adds_counts_and_extremes_are_clamped() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        a.record(Duration::ZERO);
        b.record(Duration::from_secs(3600));
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.percentile(0.0), Duration::from_micros(1));
        assert!(within_a_thousandth(a.max(), Duration::from_secs(600)));
    }

    #[test]
    fn an_empty_histogram_reports_zero() {
        let histogram = LatencyHistogram::new();
        assert_eq!(histogram.percentile(99.0), Duration::ZERO);
        assert_eq!(histogram.max(), Duration::ZERO);
    }
}
