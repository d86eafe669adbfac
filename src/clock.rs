//! Time as an input: the real clock in production, a settable one in tests, so reminders,
//! escalations and expiry are tested by moving time forward instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in unix milliseconds.
    fn now_ms(&self) -> Millis;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `now`.
    pub fn at(now: Millis) -> Self {
        ManualClock(Arc::new(AtomicI64::new(now)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, ms: Millis) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, now: Millis) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

/// One hour in milliseconds.
pub const HOUR: Millis = 3_600_000;
/// One day in milliseconds.
pub const DAY: Millis = 24 * HOUR;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::at(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance(DAY);
        assert_eq!(c.now_ms(), 1_000 + DAY);
        assert!(SystemClock.now_ms() > 1_700_000_000_000);
    }
}

/// The system clock moved forward by a settable offset: the sandbox's `:wait` uses it to let
/// reminders and escalations come due without waiting days.
#[derive(Debug, Clone, Default)]
pub struct OffsetClock(Arc<AtomicI64>);

impl OffsetClock {
    /// Moves the clock forward.
    pub fn advance(&self, ms: Millis) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now_ms(&self) -> Millis {
        SystemClock.now_ms() + self.0.load(Ordering::SeqCst)
    }
}

/// The calendar date (year, month, day) of a unix-millisecond time, in UTC.
pub fn date_of(ms: Millis) -> (i64, u32, u32) {
    // Howard Hinnant's days-to-civil algorithm.
    let z = ms.div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The time zone of the people who read the bot: every date and time shown is in it.
pub const ZONE: &str = "Europe/Oslo";

/// [`ZONE`] from the bundled time-zone database (summer time included).
fn zone() -> &'static jiff::tz::TimeZone {
    static OSLO: once_cell::sync::Lazy<jiff::tz::TimeZone> = once_cell::sync::Lazy::new(|| {
        jiff::tz::db().get(ZONE).expect("the bundled time-zone database knows Europe/Oslo")
    });
    &OSLO
}

/// A unix-millisecond time in [`ZONE`]; times outside jiff's range (years -9999 to 9999) are
/// clamped to it.
fn zoned(ms: Millis) -> jiff::ZonedDateTime {
    let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    });
    ts.to_zoned_datetime(zone().clone())
}

/// `dd.mm.yyyy`, as Norwegians write dates, in Europe/Oslo.
pub fn format_date(ms: Millis) -> String {
    zoned(ms).strftime("%d.%m.%Y").to_string()
}

/// `dd.mm.yyyy hh:mm`, in Europe/Oslo (the 24-hour clock).
pub fn format_time(ms: Millis) -> String {
    zoned(ms).strftime("%d.%m.%Y %H:%M").to_string()
}

/// Monday = 0 ... Sunday = 6.
pub fn weekday(ms: Millis) -> i64 {
    // 1970-01-01 was a Thursday.
    (ms.div_euclid(DAY) + 3).rem_euclid(7)
}

/// `ms` moved forward by `days` working days (Monday to Friday; public holidays are not
/// known to the bot and count as working days).
pub fn add_working_days(ms: Millis, days: u32) -> Millis {
    let mut t = ms;
    let mut left = days;
    while left > 0 {
        t += DAY;
        if weekday(t) < 5 {
            left -= 1;
        }
    }
    t
}

#[cfg(test)]
mod calendar_tests {
    use super::*;

    #[test]
    fn times_are_shown_in_oslo_summer_time_included() {
        // 2026-07-01 12:00 UTC is 14:00 in Oslo (summer time, UTC+2).
        let july = 1_782_907_200_000;
        assert_eq!(format_time(july), "01.07.2026 14:00");
        // Summer time begins 2026-03-29 at 01:00 UTC: 00:59 UTC is 01:59, 01:00 UTC is 03:00.
        let spring = 1_774_746_000_000;
        assert_eq!(format_time(spring - 60_000), "29.03.2026 01:59");
        assert_eq!(format_time(spring), "29.03.2026 03:00");
        // 23:30 UTC on New Year's Eve is already the next day and year in Oslo.
        let eve = 1_798_759_800_000;
        assert_eq!(date_of(eve), (2026, 12, 31));
        assert_eq!(format_date(eve), "01.01.2027");
        assert_eq!(format_time(eve), "01.01.2027 00:30");
    }

    #[test]
    fn dates_and_weekdays() {
        assert_eq!(date_of(0), (1970, 1, 1));
        // 2026-11-23 is a Monday.
        let mon = 1_795_392_000_000;
        assert_eq!(date_of(mon), (2026, 11, 23));
        assert_eq!(weekday(mon), 0);
        assert_eq!(format_date(mon), "23.11.2026");
        // Winter: Oslo is an hour ahead of UTC.
        assert_eq!(format_time(mon + 9 * HOUR + 5 * 60_000), "23.11.2026 10:05");
        assert_eq!(date_of(951_782_400_000), (2000, 2, 29));
        // Friday + 3 working days = Wednesday.
        let fri = mon + 4 * DAY;
        assert_eq!(weekday(add_working_days(fri, 3)), 2);
        assert_eq!(add_working_days(fri, 3) - fri, 5 * DAY);
        assert_eq!(add_working_days(mon, 3) - mon, 3 * DAY);
    }
}
