//! Wall time. This is the only module that reads the system clock: every other module asks a
//! [`Clock`], so tests can move time (the 24-hour version rule, recovery windows) instead of
//! sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;

/// A point in time, in milliseconds since the Unix epoch (AWS reports dates with millisecond
/// precision).
#[derive(
    Debug,
    Default,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(millis: i64) -> Timestamp {
        Timestamp(millis)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch with a fractional part, as AWS JSON 1.1 sends timestamps.
    pub fn as_epoch_seconds(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Midnight (UTC) of the day this instant falls on.
    pub fn start_of_day(self) -> Timestamp {
        Timestamp(self.0.div_euclid(MILLIS_PER_DAY) * MILLIS_PER_DAY)
    }

    pub fn plus_days(self, days: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(days.saturating_mul(MILLIS_PER_DAY)))
    }

    pub fn plus(self, duration: Duration) -> Timestamp {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(millis))
    }

    /// How long ago `earlier` was, as seen from `self` (zero if `earlier` is in the future).
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(self.0 - earlier.0).unwrap_or(0))
    }
}

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Timestamp(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug)]
pub struct ManualClock {
    millis: AtomicI64,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Arc<ManualClock> {
        Arc::new(ManualClock {
            millis: AtomicI64::new(start.0),
        })
    }

    /// A manual clock that starts at the current wall time.
    pub fn starting_now() -> Arc<ManualClock> {
        ManualClock::new(SystemClock.now())
    }

    pub fn advance(&self, duration: Duration) {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        self.millis.fetch_add(millis, Ordering::SeqCst);
    }

    pub fn set(&self, to: Timestamp) {
        self.millis.store(to.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.millis.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_of_day_truncates_to_utc_midnight() {
        // 2026-11-27T20:24:11.123Z
        let t = Timestamp::from_millis(1_795_811_051_123);
        assert_eq!(t.start_of_day().as_millis(), 1_795_737_600_000);
        assert_eq!(t.start_of_day().start_of_day(), t.start_of_day());
    }

    #[test]
    fn epoch_seconds_keep_milliseconds() {
        assert_eq!(
            Timestamp::from_millis(1_569_534_789_046).as_epoch_seconds(),
            1_569_534_789.046
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(Timestamp::from_millis(1000));
        assert_eq!(clock.now().as_millis(), 1000);
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now().as_millis(), 3000);
        assert_eq!(
            clock.now().since(Timestamp::from_millis(1000)),
            Duration::from_secs(2)
        );
    }
}
