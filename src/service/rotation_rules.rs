//! `RotationRules`: which schedules AWS accepts, and when the next rotation is due.
//!
//! # The rules
//!
//! - `AutomaticallyAfterDays` is 1-1000, `Duration` matches `[0-9]+h` in 2-3 characters and
//!   `ScheduleExpression` has 1-256 characters of `[0-9A-Za-z()#?*\-/, ]` (botocore model). A
//!   violation is a `ValidationException` in the front end's words.
//! - `AutomaticallyAfterDays` and `ScheduleExpression` exclude each other.
//! - `rate(N hour|hours)` takes 4-23 hours; `rate(N day|days)` takes 1-999 days.
//! - `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, in UTC. Secrets Manager narrows
//!   the usual AWS cron: the minutes must be `0` (windows open on the hour) and the year `*`.
//!   Exactly one of day-of-month and day-of-week is `?`. Hours take `*`, values, ranges `a-b`,
//!   lists `a,b` and increments `a/n` (which restart every day: `4/12` is 04:00 and 16:00).
//!   Day-of-month adds `L` (last day), `nW` (the weekday nearest day n, in the same month) and
//!   `LW` (last weekday); day-of-week takes 1-7 or `SUN`-`SAT` and adds `L` (Saturday), `nL` /
//!   `DAYL` (the last such day of the month) and `n#k` / `DAY#k` (the k-th such day); these
//!   special forms stand alone, not in lists. Names are case-insensitive. A cron schedule may
//!   not open windows less than four hours apart (across midnight too, when it can open windows
//!   on two days in a row) and must open one at all.
//! - The rotation window opens when the schedule says (midnight for days-based rates and for
//!   `AutomaticallyAfterDays`) and lasts `Duration`, 1-24 hours. Without a `Duration` it lasts
//!   one hour for a schedule in hours (`rate(N hours)`, or a cron with several hours) and until
//!   the end of the UTC day for a schedule in days. A window may not run into the next UTC day
//!   nor into the next window.
//!
//! # Sources
//!
//! The model limits come from botocore's `service-2.json`. The cron fields, the minute and year
//! restrictions, the four-hour minimum, the default windows and the examples are from the
//! Secrets Manager User Guide ("Schedule expressions in Secrets Manager rotation") and the API
//! reference (`RotationRulesType`); `W` is not in that guide's table, it is accepted with the
//! meaning it has in every other AWS cron. The message for combining both schedules is AWS's
//! own, quoted in terraform-provider-aws issues #33329 and #31915. The other `InvalidParameter`
//! messages are as quoted by a third-party pre-flight rule set, not seen in a recorded AWS
//! response; `WindowOverlapsNextWindow` and `NoSchedule` are worded here.
//!
//! # NextRotationDate
//!
//! AWS reports the end of the next rotation window, less one second: a secret rotated on
//! 2026-02-03 with `AutomaticallyAfterDays` 30 was reported due `2026-03-05T23:59:59Z` (a
//! recorded `describe-secret` output), and the API reference's example for
//! `cron(0 16 1,15 * ? *)` with `Duration` `2h` reports a due time of 17:59:59. The next window
//! is the first one that opens after the last rotation: for `AutomaticallyAfterDays` and
//! `rate(N days)` the midnight N days after the day of the last rotation; for `rate(N hours)`
//! the hour N hours after the hour of the last rotation; for `cron()` the first time the
//! expression matches strictly after the last rotation.

use std::fmt;
use std::time::Duration;

use crate::clock::Timestamp;
use crate::protocol::ErrorCode;

const MILLIS_PER_SECOND: i64 = 1000;
const MILLIS_PER_HOUR: i64 = 3_600_000;
const MILLIS_PER_DAY: i64 = 24 * MILLIS_PER_HOUR;

/// The Gregorian calendar repeats every 400 years, which is 146,097 days: a cron expression
/// without a year that matches any day matches one within this many days of any start.
const DAYS_PER_400_YEARS: i64 = 146_097;

const AUTOMATICALLY_AFTER_DAYS: (i64, i64) = (1, 1000);
const DURATION_LENGTH: (usize, usize) = (2, 3);
const DURATION_PATTERN: &str = "[0-9]+h";
const SCHEDULE_LENGTH: (usize, usize) = (1, 256);
const SCHEDULE_PATTERN: &str = r"[0-9A-Za-z\(\)#\?\*\-\/, ]+";
const RATE_HOURS: (u64, u64) = (4, 23);
const RATE_DAYS: (u64, u64) = (1, 999);
const WINDOW_HOURS: (u32, u32) = (1, 24);
/// The shortest time between two rotation windows.
const MIN_HOURS_BETWEEN_WINDOWS: u32 = 4;

/// The `RotationRules` of a `RotateSecret` request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationRulesInput {
    pub automatically_after_days: Option<i64>,
    pub duration: Option<String>,
    pub schedule_expression: Option<String>,
}

/// Why rotation rules were refused. `Display` is the message AWS sends; [`RulesError::code`]
/// the error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesError {
    /// Violations of the model's constraints, in the front end's words (without the leading
    /// "N validation errors detected: ").
    Validation(Vec<String>),
    /// Both `AutomaticallyAfterDays` and `ScheduleExpression`.
    BothFrequencyAndSchedule,
    /// Neither `AutomaticallyAfterDays` nor `ScheduleExpression`.
    NoSchedule,
    /// Not a schedule expression Secrets Manager accepts; the detail says why and is not sent.
    InvalidScheduleExpression(&'static str),
    /// `rate(N hours)` outside 4-23.
    RateHoursOutOfRange,
    /// `rate(N days)` outside 1-999.
    RateDaysOutOfRange,
    /// `Duration` outside 1-24 hours.
    DurationOutOfRange,
    /// `Duration` longer than the hours of `rate(N hours)`.
    DurationLongerThanRate,
    /// A window that would run past midnight UTC.
    WindowPastEndOfDay,
    /// A window of an hourly cron schedule that would run into the next one.
    WindowOverlapsNextWindow,
}

impl RulesError {
    /// The AWS error code this error is sent with.
    pub fn code(&self) -> ErrorCode {
        match self {
            RulesError::Validation(_) => ErrorCode::ValidationException,
            _ => ErrorCode::InvalidParameterException,
        }
    }

    /// Why an expression was refused, for logs (AWS's message does not say).
    pub fn detail(&self) -> Option<&'static str> {
        match self {
            RulesError::InvalidScheduleExpression(detail) => Some(detail),
            _ => None,
        }
    }
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RulesError::Validation(violations) => {
                let count = violations.len();
                let plural = if count == 1 { "" } else { "s" };
                write!(
                    f,
                    "{count} validation error{plural} detected: {}",
                    violations.join("; ")
                )
            }
            RulesError::BothFrequencyAndSchedule => f.write_str(
                "You cannot specify both rotation frequency and schedule expression together.",
            ),
            RulesError::NoSchedule => f.write_str(
                "You must specify either AutomaticallyAfterDays or ScheduleExpression in \
                 RotationRules.",
            ),
            RulesError::InvalidScheduleExpression(_) => f.write_str("Invalid schedule expression."),
            RulesError::RateHoursOutOfRange => {
                f.write_str("Rate in hour should be least 4 and less than 24.")
            }
            RulesError::RateDaysOutOfRange => {
                f.write_str("Rate in day should be greater than 0 and less than 1000.")
            }
            RulesError::DurationOutOfRange => {
                f.write_str("Duration must be at least 1 hour, at most 24 hour.")
            }
            RulesError::DurationLongerThanRate => {
                f.write_str("Duration cannot be greater than Rate in hour.")
            }
            RulesError::WindowPastEndOfDay => {
                f.write_str("Starting hour and duration must be within a day.")
            }
            RulesError::WindowOverlapsNextWindow => {
                f.write_str("The rotation window must not extend into the next rotation window.")
            }
        }
    }
}

impl std::error::Error for RulesError {}

/// What opens the rotation windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// `AutomaticallyAfterDays`: midnight, this many days after the day of the last rotation.
    AfterDays(u32),
    /// `rate(N hours)`: the hour this many hours after the hour of the last rotation.
    RateHours(u32),
    /// `rate(N days)`: like [`Schedule::AfterDays`].
    RateDays(u32),
    /// `cron(...)`.
    Cron(CronSchedule),
}

/// Accepted rotation rules: when windows open and how long they stay open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationSchedule {
    schedule: Schedule,
    /// The `Duration` given, if any.
    duration_hours: Option<u32>,
}

impl RotationSchedule {
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The hours of `Duration`, when one was given.
    pub fn duration_hours(&self) -> Option<u32> {
        self.duration_hours
    }

    /// When the first window after a rotation at `last_rotated` opens.
    pub fn next_window_start(&self, last_rotated: Timestamp) -> Timestamp {
        let millis = last_rotated.as_millis();
        match &self.schedule {
            Schedule::AfterDays(days) | Schedule::RateDays(days) => {
                last_rotated.start_of_day().plus_days(i64::from(*days))
            }
            Schedule::RateHours(hours) => Timestamp::from_millis(
                millis
                    .div_euclid(MILLIS_PER_HOUR)
                    .saturating_add(i64::from(*hours))
                    .saturating_mul(MILLIS_PER_HOUR),
            ),
            Schedule::Cron(cron) => cron
                .next_after(last_rotated)
                .unwrap_or(Timestamp::from_millis(i64::MAX)),
        }
    }

    /// How long a window that opens at `start` stays open.
    pub fn window_at(&self, start: Timestamp) -> Duration {
        let hours = match (&self.schedule, self.duration_hours) {
            (_, Some(hours)) => hours,
            (Schedule::AfterDays(_) | Schedule::RateDays(_), None) => 24,
            (Schedule::RateHours(_), None) => 1,
            (Schedule::Cron(cron), None) if cron.is_daily() => {
                // Until the end of the UTC day.
                let hour = start.as_millis().rem_euclid(MILLIS_PER_DAY) / MILLIS_PER_HOUR;
                24 - u32::try_from(hour).unwrap_or(0)
            }
            (Schedule::Cron(_), None) => 1,
        };
        Duration::from_secs(u64::from(hours) * 3600)
    }

    /// The `NextRotationDate` AWS reports after a rotation at `last_rotated`: one second
    /// before the next window closes. Always later than `last_rotated` (except at the very end
    /// of time, where it saturates).
    pub fn next_rotation(&self, last_rotated: Timestamp) -> Timestamp {
        let start = self.next_window_start(last_rotated);
        let end = start.plus(self.window_at(start));
        Timestamp::from_millis(end.as_millis().saturating_sub(MILLIS_PER_SECOND))
    }
}

/// Checks rotation rules as AWS does and returns the schedule they describe.
pub fn parse(rules: &RotationRulesInput) -> Result<RotationSchedule, RulesError> {
    check_model(rules)?;
    let days = rules.automatically_after_days;
    let expression = rules.schedule_expression.as_deref();
    match (days, expression) {
        (Some(_), Some(_)) => return Err(RulesError::BothFrequencyAndSchedule),
        (None, None) => return Err(RulesError::NoSchedule),
        _ => {}
    }
    let duration_hours = rules.duration.as_deref().map(duration_hours).transpose()?;
    let schedule = match (days, expression) {
        // 1-1000, checked with the model.
        (Some(days), _) => Schedule::AfterDays(u32::try_from(days).unwrap_or(u32::MAX)),
        (None, Some(expression)) => parse_expression(expression)?,
        (None, None) => return Err(RulesError::NoSchedule),
    };
    check_window(&schedule, duration_hours)?;
    Ok(RotationSchedule {
        schedule,
        duration_hours,
    })
}

/// The model's constraints, all reported at once as AWS's front end does.
fn check_model(rules: &RotationRulesInput) -> Result<(), RulesError> {
    let mut violations = Vec::new();
    let mut violation = |member: &str, value: &str, constraint: String| {
        violations.push(format!(
            "Value '{value}' at 'rotationRules.{member}' failed to satisfy constraint: \
             {constraint}"
        ));
    };
    if let Some(days) = rules.automatically_after_days {
        let (min, max) = AUTOMATICALLY_AFTER_DAYS;
        if days < min {
            let constraint = format!("Member must have value greater than or equal to {min}");
            violation("automaticallyAfterDays", &days.to_string(), constraint);
        } else if days > max {
            let constraint = format!("Member must have value less than or equal to {max}");
            violation("automaticallyAfterDays", &days.to_string(), constraint);
        }
    }
    if let Some(duration) = &rules.duration {
        if let Some(constraint) = length_violation(duration, DURATION_LENGTH) {
            violation("duration", duration, constraint);
        }
        if !is_duration_pattern(duration) {
            let constraint =
                format!("Member must satisfy regular expression pattern: {DURATION_PATTERN}");
            violation("duration", duration, constraint);
        }
    }
    if let Some(expression) = &rules.schedule_expression {
        if let Some(constraint) = length_violation(expression, SCHEDULE_LENGTH) {
            violation("scheduleExpression", expression, constraint);
        }
        if !is_schedule_pattern(expression) {
            let constraint =
                format!("Member must satisfy regular expression pattern: {SCHEDULE_PATTERN}");
            violation("scheduleExpression", expression, constraint);
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(RulesError::Validation(violations))
    }
}

fn length_violation(value: &str, (min, max): (usize, usize)) -> Option<String> {
    let length = value.chars().count();
    if length < min {
        Some(format!(
            "Member must have length greater than or equal to {min}"
        ))
    } else if length > max {
        Some(format!(
            "Member must have length less than or equal to {max}"
        ))
    } else {
        None
    }
}

/// `[0-9]+h`, matched against the whole value.
fn is_duration_pattern(value: &str) -> bool {
    value
        .strip_suffix('h')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// `[0-9A-Za-z\(\)#\?\*\-\/, ]+`, matched against the whole value.
fn is_schedule_pattern(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "()#?*-/, ".contains(c))
}

/// The hours of a `Duration` that matches its pattern.
fn duration_hours(duration: &str) -> Result<u32, RulesError> {
    let digits = duration.strip_suffix('h').unwrap_or(duration);
    let hours = digits.parse::<u32>().unwrap_or(u32::MAX);
    if (WINDOW_HOURS.0..=WINDOW_HOURS.1).contains(&hours) {
        Ok(hours)
    } else {
        Err(RulesError::DurationOutOfRange)
    }
}

fn parse_expression(expression: &str) -> Result<Schedule, RulesError> {
    if let Some(rate) = expression
        .strip_prefix("rate(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        return parse_rate(rate);
    }
    if let Some(fields) = expression
        .strip_prefix("cron(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        return CronSchedule::parse(fields).map(Schedule::Cron);
    }
    Err(RulesError::InvalidScheduleExpression(
        "neither rate(...) nor cron(...)",
    ))
}

/// `N hour`, `N hours`, `N day` or `N days`.
fn parse_rate(rate: &str) -> Result<Schedule, RulesError> {
    let (value, unit) = rate
        .split_once(' ')
        .ok_or(RulesError::InvalidScheduleExpression(
            "a rate is a value and a unit",
        ))?;
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RulesError::InvalidScheduleExpression(
            "a rate's value is a whole number",
        ));
    }
    // Too many digits for a u64 is out of range all the same.
    let value = value.parse::<u64>().unwrap_or(u64::MAX);
    let in_range = |(min, max): (u64, u64)| (min..=max).contains(&value);
    match unit {
        "hour" | "hours" if in_range(RATE_HOURS) => Ok(Schedule::RateHours(narrow(value))),
        "hour" | "hours" => Err(RulesError::RateHoursOutOfRange),
        "day" | "days" if in_range(RATE_DAYS) => Ok(Schedule::RateDays(narrow(value))),
        "day" | "days" => Err(RulesError::RateDaysOutOfRange),
        _ => Err(RulesError::InvalidScheduleExpression(
            "a rate's unit is hour(s) or day(s)",
        )),
    }
}

/// A value already checked to be small.
fn narrow(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// The window rules: it stays within the UTC day and ends before the next window opens.
fn check_window(schedule: &Schedule, duration_hours: Option<u32>) -> Result<(), RulesError> {
    let Some(duration) = duration_hours else {
        // The default windows always fit.
        return Ok(());
    };
    match schedule {
        // Windows open at midnight and last at most 24 hours.
        Schedule::AfterDays(_) | Schedule::RateDays(_) => Ok(()),
        Schedule::RateHours(hours) if duration > *hours => Err(RulesError::DurationLongerThanRate),
        Schedule::RateHours(_) => Ok(()),
        Schedule::Cron(cron) => {
            let hours = cron.hours();
            let last = hours.last().copied().unwrap_or(0);
            if last + duration > 24 {
                return Err(RulesError::WindowPastEndOfDay);
            }
            // The window may not run into the next one of the same day (and, ending by
            // midnight, it cannot run into the next day's).
            let overlaps = hours.windows(2).any(|pair| pair[0] + duration > pair[1]);
            if overlaps {
                return Err(RulesError::WindowOverlapsNextWindow);
            }
            Ok(())
        }
    }
}

/// The day-of-month field.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DaysOfMonth {
    /// `?`.
    Unspecified,
    /// Bit `d` set for day `d` (1-31).
    Days(u32),
    /// `L`.
    Last,
    /// `LW`.
    LastWeekday,
    /// `nW`.
    NearestWeekday(u32),
}

/// The day-of-week field; days are 1 (Sunday) to 7 (Saturday).
#[derive(Debug, Clone, PartialEq, Eq)]
enum DaysOfWeek {
    /// `?`.
    Unspecified,
    /// Bit `d` set for weekday `d`.
    Days(u32),
    /// `nL`: the last weekday `n` of the month.
    Last(u32),
    /// `n#k`: the `k`-th weekday `n` of the month.
    Nth(u32, u32),
}

/// A Secrets Manager `cron()` expression: on the hour, UTC, every year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    /// Bit `h` set for hour `h` (0-23).
    hours: u32,
    days_of_month: DaysOfMonth,
    /// Bit `m` set for month `m` (1-12).
    months: u32,
    days_of_week: DaysOfWeek,
}

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// How one field's values are read.
struct FieldKind {
    min: u32,
    max: u32,
    /// Names for `min`, `min + 1`, ...
    names: &'static [&'static str],
}

const HOURS: FieldKind = FieldKind {
    min: 0,
    max: 23,
    names: &[],
};
const DAYS_OF_MONTH: FieldKind = FieldKind {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: FieldKind = FieldKind {
    min: 1,
    max: 12,
    names: &MONTH_NAMES,
};
const DAYS_OF_WEEK: FieldKind = FieldKind {
    min: 1,
    max: 7,
    names: &WEEKDAY_NAMES,
};

fn invalid(detail: &'static str) -> RulesError {
    RulesError::InvalidScheduleExpression(detail)
}

impl FieldKind {
    /// A number or a name, within range.
    fn value(&self, text: &str) -> Result<u32, RulesError> {
        let value = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse::<u32>().unwrap_or(u32::MAX)
        } else {
            let index = self
                .names
                .iter()
                .position(|name| name.eq_ignore_ascii_case(text))
                .ok_or(invalid("unknown value in a field"))?;
            self.min + u32::try_from(index).unwrap_or(u32::MAX)
        };
        if (self.min..=self.max).contains(&value) {
            Ok(value)
        } else {
            Err(invalid("value out of range"))
        }
    }

    /// A list of `*`, values, ranges and increments, as a bit set.
    fn set(&self, text: &str) -> Result<u32, RulesError> {
        let mut bits = 0u32;
        for item in text.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((range, step)) => {
                    let step = step.parse::<u32>().map_err(|_| invalid("bad increment"))?;
                    if step == 0 {
                        return Err(invalid("zero increment"));
                    }
                    (range, Some(step))
                }
                None => (item, None),
            };
            let (first, last) = match range {
                "*" => (self.min, self.max),
                // `/8` starts at the field's first value.
                "" if step.is_some() => (self.min, self.max),
                _ => match range.split_once('-') {
                    Some((from, to)) => (self.value(from)?, self.value(to)?),
                    // `a/n` runs to the end of the field; `a` alone is just `a`.
                    None if step.is_some() => (self.value(range)?, self.max),
                    None => {
                        let value = self.value(range)?;
                        (value, value)
                    }
                },
            };
            if first > last {
                return Err(invalid("range runs backwards"));
            }
            let step = step.unwrap_or(1);
            let mut value = first;
            while value <= last {
                bits |= 1 << value;
                value = value.saturating_add(step);
            }
        }
        Ok(bits)
    }
}

impl CronSchedule {
    /// Parses the six fields inside `cron(...)`.
    pub fn parse(fields: &str) -> Result<CronSchedule, RulesError> {
        let fields: Vec<&str> = fields.split(' ').collect();
        let [minutes, hours, days_of_month, months, days_of_week, years] = fields[..] else {
            return Err(invalid("a cron expression has six fields"));
        };
        if minutes != "0" {
            return Err(invalid("the minutes must be 0"));
        }
        if years != "*" {
            return Err(invalid("the year must be *"));
        }
        let hours = HOURS.set(hours)?;
        let months = MONTHS.set(months)?;
        let (days_of_month, days_of_week) = match (days_of_month, days_of_week) {
            ("?", "?") => return Err(invalid("only one of the day fields may be ?")),
            ("?", days_of_week) => (DaysOfMonth::Unspecified, parse_days_of_week(days_of_week)?),
            (days_of_month, "?") => (parse_days_of_month(days_of_month)?, DaysOfWeek::Unspecified),
            _ => return Err(invalid("one of the day fields must be ?")),
        };
        let cron = CronSchedule {
            hours,
            days_of_month,
            months,
            days_of_week,
        };
        cron.check_frequency()?;
        Ok(cron)
    }

    /// The hours at which windows open, in order.
    fn hours(&self) -> Vec<u32> {
        (0..24)
            .filter(|hour| self.hours & (1 << hour) != 0)
            .collect()
    }

    /// A schedule in days (one window a day) rather than in hours.
    fn is_daily(&self) -> bool {
        self.hours.count_ones() == 1
    }

    /// The schedule opens a window at all, and never two within four hours.
    fn check_frequency(&self) -> Result<(), RulesError> {
        let hours = self.hours();
        if hours
            .windows(2)
            .any(|pair| pair[1] - pair[0] < MIN_HOURS_BETWEEN_WINDOWS)
        {
            return Err(invalid("windows less than four hours apart"));
        }
        let (Some(&first), Some(&last)) = (hours.first(), hours.last()) else {
            return Err(invalid("no hour"));
        };
        // From the last window of a day to the first of the next day.
        let overnight_gap_too_short = 24 - last + first < MIN_HOURS_BETWEEN_WINDOWS;
        let start = days_from_civil(2000, 1, 1);
        let mut any_day = false;
        let mut previous_matched = self.matches_day(start - 1);
        for day in start..start + DAYS_PER_400_YEARS {
            let matched = self.matches_day(day);
            if matched && previous_matched && overnight_gap_too_short {
                return Err(invalid(
                    "windows less than four hours apart across midnight",
                ));
            }
            any_day |= matched;
            if any_day && !overnight_gap_too_short {
                return Ok(());
            }
            previous_matched = matched;
        }
        if any_day {
            Ok(())
        } else {
            Err(invalid("never matches a day"))
        }
    }

    /// Whether a window opens on this day (days since the epoch).
    fn matches_day(&self, day: i64) -> bool {
        let (year, month, day_of_month) = civil_from_days(day);
        if self.months & (1 << month) == 0 {
            return false;
        }
        let length = days_in_month(year, month);
        let weekday = weekday(day);
        // The weekday of another day of the same month.
        let weekday_of = |other: u32| -> u32 {
            let offset = i64::from(other) - i64::from(day_of_month);
            u32::try_from((i64::from(weekday) - 1 + offset).rem_euclid(7) + 1).unwrap_or(0)
        };
        let day_of_month_ok = match &self.days_of_month {
            DaysOfMonth::Unspecified => true,
            DaysOfMonth::Days(bits) => bits & (1 << day_of_month) != 0,
            DaysOfMonth::Last => day_of_month == length,
            DaysOfMonth::LastWeekday => {
                let last_weekday = match weekday_of(length) {
                    1 => length - 2, // Sunday: the Friday before.
                    7 => length - 1, // Saturday: the Friday before.
                    _ => length,
                };
                day_of_month == last_weekday
            }
            DaysOfMonth::NearestWeekday(target) => {
                // Not in this month when the month is shorter (`31W` in April).
                *target <= length && {
                    let nearest = match weekday_of(*target) {
                        7 if *target == 1 => 3,               // Saturday the 1st: Monday the 3rd.
                        7 => target - 1,                      // Saturday: Friday.
                        1 if *target == length => target - 2, // Sunday, last: Friday.
                        1 => target + 1,                      // Sunday: Monday.
                        _ => *target,
                    };
                    day_of_month == nearest
                }
            }
        };
        let day_of_week_ok = match &self.days_of_week {
            DaysOfWeek::Unspecified => true,
            DaysOfWeek::Days(bits) => bits & (1 << weekday) != 0,
            DaysOfWeek::Last(target) => weekday == *target && day_of_month + 7 > length,
            DaysOfWeek::Nth(target, nth) => {
                weekday == *target && (day_of_month - 1) / 7 + 1 == *nth
            }
        };
        day_of_month_ok && day_of_week_ok
    }

    /// The first time after `after` (strictly) at which a window opens; `None` only past the
    /// range of [`Timestamp`] (a parsed schedule opens a window at least every 400 years).
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        // Windows open on the hour: start with the first whole hour after `after`.
        let first_hour = after
            .as_millis()
            .div_euclid(MILLIS_PER_HOUR)
            .checked_add(1)?;
        let mut day = first_hour.div_euclid(24);
        let mut from_hour = u32::try_from(first_hour.rem_euclid(24)).ok()?;
        // Every pass moves at least a day ahead, so this visits 400 years at most.
        for _ in 0..=DAYS_PER_400_YEARS {
            let (year, month, _) = civil_from_days(day);
            if self.months & (1 << month) == 0 {
                // Skip to the first day of the next month.
                let (year, month) = if month == 12 {
                    (year + 1, 1)
                } else {
                    (year, month + 1)
                };
                day = days_from_civil(year, month, 1);
                from_hour = 0;
                continue;
            }
            if self.matches_day(day) {
                let later_hours = self.hours >> from_hour << from_hour;
                if later_hours != 0 {
                    let hour = i64::from(later_hours.trailing_zeros());
                    let millis = day
                        .checked_mul(MILLIS_PER_DAY)?
                        .checked_add(hour * MILLIS_PER_HOUR)?;
                    return Some(Timestamp::from_millis(millis));
                }
            }
            day = day.checked_add(1)?;
            from_hour = 0;
        }
        None
    }
}

fn parse_days_of_month(field: &str) -> Result<DaysOfMonth, RulesError> {
    match field {
        "L" => return Ok(DaysOfMonth::Last),
        "LW" => return Ok(DaysOfMonth::LastWeekday),
        _ => {}
    }
    if let Some(day) = field.strip_suffix('W') {
        return Ok(DaysOfMonth::NearestWeekday(DAYS_OF_MONTH.value(day)?));
    }
    Ok(DaysOfMonth::Days(DAYS_OF_MONTH.set(field)?))
}

fn parse_days_of_week(field: &str) -> Result<DaysOfWeek, RulesError> {
    if field == "L" {
        // `L` alone is the last day of the week.
        return Ok(DaysOfWeek::Days(1 << DAYS_OF_WEEK.max));
    }
    if let Some((day, nth)) = field.split_once('#') {
        let nth = nth.parse::<u32>().map_err(|_| invalid("bad # number"))?;
        if !(1..=5).contains(&nth) {
            return Err(invalid("# takes 1-5"));
        }
        return Ok(DaysOfWeek::Nth(DAYS_OF_WEEK.value(day)?, nth));
    }
    if let Some(day) = field.strip_suffix('L') {
        return Ok(DaysOfWeek::Last(DAYS_OF_WEEK.value(day)?));
    }
    Ok(DaysOfWeek::Days(DAYS_OF_WEEK.set(field)?))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_400_YEARS + day_of_era - 719_468
}

/// The date of a day since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(DAYS_PER_400_YEARS);
    let day_of_era = days.rem_euclid(DAYS_PER_400_YEARS);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are small and positive by construction.
    let narrow = |value: i64| u32::try_from(value).unwrap_or(0);
    (year, narrow(month), narrow(day))
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The weekday of a day since 1970-01-01, 1 (Sunday) to 7 (Saturday). 1970-01-01 was a
/// Thursday.
fn weekday(days: i64) -> u32 {
    u32::try_from((days + 4).rem_euclid(7) + 1).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A UTC time, on top of the (separately tested) calendar helpers.
    fn at(year: i64, month: u32, day: u32, hour: i64, minute: i64, second: i64) -> Timestamp {
        let days = days_from_civil(year, month, day);
        Timestamp::from_millis(
            days * MILLIS_PER_DAY + hour * MILLIS_PER_HOUR + (minute * 60 + second) * 1000,
        )
    }

    fn rules(
        days: Option<i64>,
        duration: Option<&str>,
        expression: Option<&str>,
    ) -> RotationRulesInput {
        RotationRulesInput {
            automatically_after_days: days,
            duration: duration.map(String::from),
            schedule_expression: expression.map(String::from),
        }
    }

    fn expression(expression: &str) -> Result<RotationSchedule, RulesError> {
        parse(&rules(None, None, Some(expression)))
    }

    fn with_duration(expression: &str, duration: &str) -> Result<RotationSchedule, RulesError> {
        parse(&rules(None, Some(duration), Some(expression)))
    }

    fn cron(fields: &str) -> CronSchedule {
        CronSchedule::parse(fields).expect("a valid cron expression")
    }

    fn refused(result: Result<RotationSchedule, RulesError>) -> RulesError {
        result.expect_err("refused")
    }

    fn invalid_expression(expression: &str) {
        let error = refused(self::expression(expression));
        assert!(
            matches!(error, RulesError::InvalidScheduleExpression(_)),
            "{expression}: {error:?}"
        );
        assert_eq!(error.to_string(), "Invalid schedule expression.");
        assert_eq!(error.code(), ErrorCode::InvalidParameterException);
    }

    // The calendar.

    #[test]
    fn days_from_civil_matches_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(days_from_civil(2100, 3, 1), 47_541);
        assert_eq!(days_from_civil(1600, 1, 1), -135_140);
        // The clock's own test date: 2026-11-27.
        assert_eq!(
            days_from_civil(2026, 11, 27) * MILLIS_PER_DAY,
            1_795_737_600_000
        );
    }

    #[test]
    fn weekdays_count_from_sunday() {
        assert_eq!(weekday(0), 5); // 1970-01-01, a Thursday
        assert_eq!(weekday(days_from_civil(2024, 2, 29)), 5); // Thursday
        assert_eq!(weekday(days_from_civil(2000, 3, 1)), 4); // Wednesday
        assert_eq!(weekday(days_from_civil(1600, 1, 1)), 7); // Saturday
        assert_eq!(weekday(days_from_civil(2024, 9, 1)), 1); // Sunday
        assert_eq!(weekday(days_from_civil(2100, 3, 1)), 2); // Monday
    }

    #[test]
    fn leap_years_follow_the_gregorian_rules() {
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2023, 2), 28);
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2024, 4), 30);
        assert_eq!(days_in_month(2024, 12), 31);
    }

    // The model's constraints.

    #[test]
    fn automatically_after_days_is_1_to_1000() {
        for days in [1, 1000] {
            assert!(parse(&rules(Some(days), None, None)).is_ok());
        }
        let error = refused(parse(&rules(Some(0), None, None)));
        assert_eq!(error.code(), ErrorCode::ValidationException);
        assert_eq!(
            error.to_string(),
            "1 validation error detected: Value '0' at 'rotationRules.automaticallyAfterDays' \
             failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
        let error = refused(parse(&rules(Some(1001), None, None)));
        assert_eq!(
            error.to_string(),
            "1 validation error detected: Value '1001' at \
             'rotationRules.automaticallyAfterDays' failed to satisfy constraint: Member must \
             have value less than or equal to 1000"
        );
    }

    #[test]
    fn duration_must_match_its_pattern_and_length() {
        let error = refused(with_duration("rate(1 day)", "3x"));
        assert_eq!(error.code(), ErrorCode::ValidationException);
        assert_eq!(
            error.to_string(),
            "1 validation error detected: Value '3x' at 'rotationRules.duration' failed to \
             satisfy constraint: Member must satisfy regular expression pattern: [0-9]+h"
        );
        let error = refused(with_duration("rate(1 day)", "100h"));
        assert_eq!(
            error.to_string(),
            "1 validation error detected: Value '100h' at 'rotationRules.duration' failed to \
             satisfy constraint: Member must have length less than or equal to 3"
        );
        let error = refused(with_duration("rate(1 day)", ""));
        assert_eq!(
            error.to_string(),
            "2 validation errors detected: Value '' at 'rotationRules.duration' failed to \
             satisfy constraint: Member must have length greater than or equal to 2; Value '' \
             at 'rotationRules.duration' failed to satisfy constraint: Member must satisfy \
             regular expression pattern: [0-9]+h"
        );
        for bad in ["h", "hh", "1hh", " 1h", "-1h", "1H"] {
            let error = refused(with_duration("rate(1 day)", bad));
            assert_eq!(error.code(), ErrorCode::ValidationException, "{bad}");
        }
    }

    #[test]
    fn schedule_expression_must_match_its_pattern_and_length() {
        let error = refused(expression(""));
        assert_eq!(error.code(), ErrorCode::ValidationException);
        assert_eq!(
            error.to_string(),
            "2 validation errors detected: Value '' at 'rotationRules.scheduleExpression' \
             failed to satisfy constraint: Member must have length greater than or equal to 1; \
             Value '' at 'rotationRules.scheduleExpression' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [0-9A-Za-z\\(\\)#\\?\\*\\-\\/, ]+"
        );
        let error = refused(expression("rate(4 hours);"));
        assert_eq!(
            error.to_string(),
            "1 validation error detected: Value 'rate(4 hours);' at \
             'rotationRules.scheduleExpression' failed to satisfy constraint: Member must \
             satisfy regular expression pattern: [0-9A-Za-z\\(\\)#\\?\\*\\-\\/, ]+"
        );
        let long = format!("cron(0 0 * * ? *){}", " ".repeat(240));
        let error = refused(expression(&long));
        assert!(
            error
                .to_string()
                .ends_with("Member must have length less than or equal to 256"),
            "{error}"
        );
        assert_eq!(error.code(), ErrorCode::ValidationException);
    }

    #[test]
    fn every_model_violation_is_reported_at_once() {
        let error = refused(parse(&rules(Some(0), Some("1x"), Some("rate(1 day)"))));
        let RulesError::Validation(violations) = &error else {
            panic!("{error:?}");
        };
        assert_eq!(violations.len(), 2);
        assert!(
            error
                .to_string()
                .starts_with("2 validation errors detected: ")
        );
    }

    // The choice of schedule.

    #[test]
    fn both_schedules_together_are_refused() {
        let error = refused(parse(&rules(Some(30), None, Some("rate(10 days)"))));
        assert_eq!(error, RulesError::BothFrequencyAndSchedule);
        assert_eq!(error.code(), ErrorCode::InvalidParameterException);
        assert_eq!(
            error.to_string(),
            "You cannot specify both rotation frequency and schedule expression together."
        );
    }

    #[test]
    fn no_schedule_is_refused() {
        for input in [rules(None, None, None), rules(None, Some("2h"), None)] {
            let error = refused(parse(&input));
            assert_eq!(error, RulesError::NoSchedule);
            assert_eq!(error.code(), ErrorCode::InvalidParameterException);
        }
    }

    #[test]
    fn duration_is_1_to_24_hours() {
        for hours in ["1h", "01h", "12h", "24h"] {
            assert!(with_duration("rate(2 days)", hours).is_ok(), "{hours}");
        }
        for hours in ["0h", "00h", "25h", "99h"] {
            let error = refused(with_duration("rate(2 days)", hours));
            assert_eq!(error, RulesError::DurationOutOfRange, "{hours}");
            assert_eq!(
                error.to_string(),
                "Duration must be at least 1 hour, at most 24 hour."
            );
            assert_eq!(error.code(), ErrorCode::InvalidParameterException);
        }
        // With AutomaticallyAfterDays too.
        assert!(parse(&rules(Some(7), Some("3h"), None)).is_ok());
        assert_eq!(
            refused(parse(&rules(Some(7), Some("25h"), None))),
            RulesError::DurationOutOfRange
        );
    }

    // rate().

    #[test]
    fn rates_take_hours_or_days_singular_or_plural() {
        let cases = [
            ("rate(4 hours)", Schedule::RateHours(4)),
            ("rate(4 hour)", Schedule::RateHours(4)),
            ("rate(23 hours)", Schedule::RateHours(23)),
            ("rate(1 day)", Schedule::RateDays(1)),
            ("rate(1 days)", Schedule::RateDays(1)),
            ("rate(10 days)", Schedule::RateDays(10)),
            ("rate(999 days)", Schedule::RateDays(999)),
            ("rate(007 days)", Schedule::RateDays(7)),
        ];
        for (text, schedule) in cases {
            let parsed = expression(text).expect(text);
            assert_eq!(parsed.schedule(), &schedule, "{text}");
        }
    }

    #[test]
    fn hourly_rates_are_4_to_23_hours() {
        for text in [
            "rate(0 hours)",
            "rate(3 hours)",
            "rate(24 hours)",
            "rate(100 hours)",
        ] {
            let error = refused(expression(text));
            assert_eq!(error, RulesError::RateHoursOutOfRange, "{text}");
            assert_eq!(
                error.to_string(),
                "Rate in hour should be least 4 and less than 24."
            );
            assert_eq!(error.code(), ErrorCode::InvalidParameterException);
        }
    }

    #[test]
    fn daily_rates_are_1_to_999_days() {
        for text in [
            "rate(0 days)",
            "rate(1000 days)",
            "rate(99999999999999999999999999 days)",
        ] {
            let error = refused(expression(text));
            assert_eq!(error, RulesError::RateDaysOutOfRange, "{text}");
            assert_eq!(
                error.to_string(),
                "Rate in day should be greater than 0 and less than 1000."
            );
        }
    }

    #[test]
    fn malformed_rates_are_invalid_expressions() {
        for text in [
            "rate(4 minutes)",
            "rate(1 week)",
            "rate(4hours)",
            "rate( 4 hours)",
            "rate(4  hours)",
            "rate(x days)",
            "rate(-1 days)",
            "rate(4 Hours)",
            "RATE(4 hours)",
            "rate(4 hours) ",
            "rate 4 hours",
            "rate()",
            "4 hours",
        ] {
            invalid_expression(text);
        }
    }

    #[test]
    fn an_hourly_rate_window_fits_between_rotations() {
        assert!(with_duration("rate(6 hours)", "6h").is_ok());
        let error = refused(with_duration("rate(6 hours)", "7h"));
        assert_eq!(error, RulesError::DurationLongerThanRate);
        assert_eq!(
            error.to_string(),
            "Duration cannot be greater than Rate in hour."
        );
        assert_eq!(error.code(), ErrorCode::InvalidParameterException);
    }

    // cron(): what is accepted.

    #[test]
    fn the_user_guide_examples_are_accepted() {
        for text in [
            "cron(0 /8 * * ? *)",
            "cron(0 8/8 * * ? *)",
            "cron(0 2/10 * * ? *)",
            "cron(0 10 * * ? *)",
            "cron(0 18 ? * SAT *)",
            "cron(0 8 1 * ? *)",
            "cron(0 1 ? 1/3 SUN#1 *)",
            "cron(0 17 L * ? *)",
            "cron(0 8 ? * MON-FRI *)",
            "cron(0 16 1,15 * ? *)",
            "cron(0 0 ? * SUN#1 *)",
            "cron(0 4/12 * * ? *)",
            "cron(0 10 ? FEB,MAY,AUG,NOV TUE#2 *)",
            "cron(0 11 ? 3,6,9,12 3L *)",
            "cron(0 12 ? * SUNL *)",
            "cron(0 9 15W * ? *)",
            "cron(0 9 LW * ? *)",
            "cron(0 9 ? * L *)",
            "cron(0 9 1-15/2 JAN-JUN ? *)",
            "cron(0 9 ? * mon-fri *)",
        ] {
            assert!(expression(text).is_ok(), "{text}: {:?}", expression(text));
        }
    }

    #[test]
    fn cron_fields_are_read_as_documented() {
        assert_eq!(cron("0 /8 * * ? *").hours(), vec![0, 8, 16]);
        assert_eq!(cron("0 2/10 * * ? *").hours(), vec![2, 12, 22]);
        assert_eq!(cron("0 4/12 * * ? *").hours(), vec![4, 16]);
        assert_eq!(cron("0 0-12/6 * * ? *").hours(), vec![0, 6, 12]);
        assert_eq!(cron("0 1,5,9 * * ? *").hours(), vec![1, 5, 9]);
        assert_eq!(
            cron("0 1 ? 1/3 * *").months,
            1 << 1 | 1 << 4 | 1 << 7 | 1 << 10
        );
        assert_eq!(cron("0 1 ? JAN,apr * *").months, 1 << 1 | 1 << 4);
        assert_eq!(
            cron("0 1 ? * MON-FRI *").days_of_week,
            DaysOfWeek::Days(0b0111_1100)
        );
        assert_eq!(
            cron("0 1 ? * 1/2 *").days_of_week,
            DaysOfWeek::Days(0b1010_1010)
        );
        assert_eq!(cron("0 1 ? * L *").days_of_week, DaysOfWeek::Days(1 << 7));
        assert_eq!(cron("0 1 ? * FRIL *").days_of_week, DaysOfWeek::Last(6));
        assert_eq!(cron("0 1 ? * 3#2 *").days_of_week, DaysOfWeek::Nth(3, 2));
        assert_eq!(cron("0 1 L * ? *").days_of_month, DaysOfMonth::Last);
        assert_eq!(cron("0 1 LW * ? *").days_of_month, DaysOfMonth::LastWeekday);
        assert_eq!(
            cron("0 1 15W * ? *").days_of_month,
            DaysOfMonth::NearestWeekday(15)
        );
        assert!(cron("0 1 * * ? *").is_daily());
        assert!(!cron("0 1,13 * * ? *").is_daily());
    }

    // cron(): what is refused.

    #[test]
    fn cron_syntax_errors_are_invalid_expressions() {
        for text in [
            "cron(0 0 * * ?)",
            "cron(0 0 * * ? * *)",
            "cron(0  0 * * ? *)",
            "cron(5 0 * * ? *)",
            "cron(* 0 * * ? *)",
            "cron(0 0 * * ? 2026)",
            "cron(0 0 ? * ? *)",
            "cron(0 0 * * * *)",
            "cron(0 0 1 * MON *)",
            "cron(0 24 * * ? *)",
            "cron(0 0 0 * ? *)",
            "cron(0 0 32 * ? *)",
            "cron(0 0 1 13 ? *)",
            "cron(0 0 1 0 ? *)",
            "cron(0 0 ? * 0 *)",
            "cron(0 0 ? * 8 *)",
            "cron(0 0 ? * FOO *)",
            "cron(0 0 ? * MON#0 *)",
            "cron(0 0 ? * MON#6 *)",
            "cron(0 0 ? * #1 *)",
            "cron(0 0 5-1 * ? *)",
            "cron(0 0/0 * * ? *)",
            "cron(0 0/x * * ? *)",
            "cron(0 , * * ? *)",
            "cron(0 0 1, * ? *)",
            "cron(0 0 W * ? *)",
            "cron(0 0 32W * ? *)",
            "cron(0 0 ? * 8L *)",
            "cron(0 0 * JANUARY ? *)",
            "cron(0 0 * * ? *",
            "cron 0 0 * * ? *",
            "CRON(0 0 * * ? *)",
        ] {
            invalid_expression(text);
        }
    }

    #[test]
    fn cron_windows_less_than_four_hours_apart_are_refused() {
        for text in [
            "cron(0 * * * ? *)",
            "cron(0 /2 * * ? *)",
            "cron(0 /3 * * ? *)",
            "cron(0 1,3 * * ? *)",
            "cron(0 1-2 * * ? *)",
            // 22:00, then 00:00 the next day.
            "cron(0 0,22 * * ? *)",
            "cron(0 0,22 ? * MON,TUE *)",
            // The 31st of a month and the 1st of the next.
            "cron(0 0,22 1,31 * ? *)",
        ] {
            invalid_expression(text);
        }
        for text in [
            "cron(0 /4 * * ? *)",
            "cron(0 0,20 * * ? *)",
            // Never on two days in a row, so 22:00 is never followed by 00:00.
            "cron(0 0,22 L * ? *)",
            "cron(0 0,22 ? * MON,WED *)",
            "cron(0 0,22 1,15 * ? *)",
        ] {
            assert!(expression(text).is_ok(), "{text}: {:?}", expression(text));
        }
    }

    #[test]
    fn cron_that_never_opens_a_window_is_refused() {
        for text in [
            "cron(0 0 30 2 ? *)",
            "cron(0 0 31 4 ? *)",
            "cron(0 0 31 APR,JUN,SEP,NOV ? *)",
            "cron(0 0 31W 4 ? *)",
        ] {
            invalid_expression(text);
        }
        // Once in four years (or eight, over 2100) is still a schedule.
        assert!(expression("cron(0 0 29 2 ? *)").is_ok());
    }

    #[test]
    fn a_cron_window_stays_within_the_day() {
        assert!(with_duration("cron(0 20 * * ? *)", "4h").is_ok());
        let error = refused(with_duration("cron(0 20 * * ? *)", "5h"));
        assert_eq!(error, RulesError::WindowPastEndOfDay);
        assert_eq!(
            error.to_string(),
            "Starting hour and duration must be within a day."
        );
        assert_eq!(error.code(), ErrorCode::InvalidParameterException);
        assert!(with_duration("cron(0 0 * * ? *)", "24h").is_ok());
        // The last window of an hourly schedule counts.
        assert!(with_duration("cron(0 0/6 * * ? *)", "6h").is_ok());
        assert_eq!(
            refused(with_duration("cron(0 0/6 * * ? *)", "7h")),
            RulesError::WindowPastEndOfDay
        );
    }

    #[test]
    fn a_cron_window_ends_before_the_next_one() {
        assert!(with_duration("cron(0 0,8,12 * * ? *)", "4h").is_ok());
        let error = refused(with_duration("cron(0 0,8,12 * * ? *)", "5h"));
        assert_eq!(error, RulesError::WindowOverlapsNextWindow);
        assert_eq!(
            error.to_string(),
            "The rotation window must not extend into the next rotation window."
        );
        assert_eq!(error.code(), ErrorCode::InvalidParameterException);
    }

    // cron(): when windows open.

    fn next(fields: &str, after: Timestamp) -> Timestamp {
        cron(fields).next_after(after).expect("a next window")
    }

    #[test]
    fn next_after_is_strictly_after_and_on_the_hour() {
        let daily = "0 10 * * ? *";
        assert_eq!(
            next(daily, at(2024, 5, 1, 9, 59, 59)),
            at(2024, 5, 1, 10, 0, 0)
        );
        assert_eq!(
            next(daily, at(2024, 5, 1, 10, 0, 0)),
            at(2024, 5, 2, 10, 0, 0)
        );
        let just_before = Timestamp::from_millis(at(2024, 5, 1, 10, 0, 0).as_millis() - 1);
        assert_eq!(next(daily, just_before), at(2024, 5, 1, 10, 0, 0));
        // Year end.
        assert_eq!(
            next(daily, at(2024, 12, 31, 11, 0, 0)),
            at(2025, 1, 1, 10, 0, 0)
        );
        // Before the epoch.
        assert_eq!(
            next(daily, at(1969, 12, 31, 11, 0, 0)),
            at(1970, 1, 1, 10, 0, 0)
        );
    }

    #[test]
    fn hour_increments_restart_every_day() {
        let every_ten = "0 2/10 * * ? *";
        assert_eq!(
            next(every_ten, at(2024, 5, 1, 2, 0, 0)),
            at(2024, 5, 1, 12, 0, 0)
        );
        assert_eq!(
            next(every_ten, at(2024, 5, 1, 12, 0, 0)),
            at(2024, 5, 1, 22, 0, 0)
        );
        assert_eq!(
            next(every_ten, at(2024, 5, 1, 22, 0, 0)),
            at(2024, 5, 2, 2, 0, 0)
        );
    }

    #[test]
    fn last_day_of_the_month_knows_leap_years() {
        let last = "0 17 L * ? *";
        assert_eq!(
            next(last, at(2024, 2, 1, 0, 0, 0)),
            at(2024, 2, 29, 17, 0, 0)
        );
        assert_eq!(
            next(last, at(2023, 2, 1, 0, 0, 0)),
            at(2023, 2, 28, 17, 0, 0)
        );
        assert_eq!(
            next(last, at(2100, 2, 1, 0, 0, 0)),
            at(2100, 2, 28, 17, 0, 0)
        );
        assert_eq!(
            next(last, at(2000, 2, 1, 0, 0, 0)),
            at(2000, 2, 29, 17, 0, 0)
        );
        assert_eq!(
            next(last, at(2024, 1, 31, 17, 0, 0)),
            at(2024, 2, 29, 17, 0, 0)
        );
        assert_eq!(
            next(last, at(2024, 4, 1, 0, 0, 0)),
            at(2024, 4, 30, 17, 0, 0)
        );
    }

    #[test]
    fn the_31st_skips_shorter_months() {
        let day_31 = "0 0 31 * ? *";
        assert_eq!(
            next(day_31, at(2024, 4, 1, 0, 0, 0)),
            at(2024, 5, 31, 0, 0, 0)
        );
        assert_eq!(
            next(day_31, at(2024, 5, 31, 0, 0, 0)),
            at(2024, 7, 31, 0, 0, 0)
        );
    }

    #[test]
    fn february_29th_waits_for_a_leap_year() {
        let leap_day = "0 0 29 2 ? *";
        assert_eq!(
            next(leap_day, at(2024, 3, 1, 0, 0, 0)),
            at(2028, 2, 29, 0, 0, 0)
        );
        // 2100 is not a leap year: eight years from 2096 to 2104.
        assert_eq!(
            next(leap_day, at(2096, 3, 1, 0, 0, 0)),
            at(2104, 2, 29, 0, 0, 0)
        );
    }

    #[test]
    fn nearest_weekday() {
        // 2024-06-15 is a Saturday: the Friday before.
        assert_eq!(
            next("0 9 15W * ? *", at(2024, 6, 1, 0, 0, 0)),
            at(2024, 6, 14, 9, 0, 0)
        );
        // 2024-09-15 is a Sunday: the Monday after.
        assert_eq!(
            next("0 9 15W * ? *", at(2024, 9, 1, 0, 0, 0)),
            at(2024, 9, 16, 9, 0, 0)
        );
        // A weekday is itself: 2024-05-15 is a Wednesday.
        assert_eq!(
            next("0 9 15W * ? *", at(2024, 5, 1, 0, 0, 0)),
            at(2024, 5, 15, 9, 0, 0)
        );
        // 2024-06-01 is a Saturday: not back into May, forward to Monday the 3rd.
        assert_eq!(
            next("0 9 1W * ? *", at(2024, 5, 31, 0, 0, 0)),
            at(2024, 6, 3, 9, 0, 0)
        );
        // 2025-08-31 is a Sunday and the last day: back to Friday the 29th.
        assert_eq!(
            next("0 9 31W * ? *", at(2025, 8, 1, 0, 0, 0)),
            at(2025, 8, 29, 9, 0, 0)
        );
        // 31W skips months without a 31st.
        assert_eq!(
            next("0 9 31W * ? *", at(2025, 9, 1, 0, 0, 0)),
            at(2025, 10, 31, 9, 0, 0)
        );
    }

    #[test]
    fn last_weekday_of_the_month() {
        // 2025-08-31 is a Sunday: Friday the 29th.
        assert_eq!(
            next("0 9 LW * ? *", at(2025, 8, 1, 0, 0, 0)),
            at(2025, 8, 29, 9, 0, 0)
        );
        // 2024-08-31 is a Saturday: Friday the 30th.
        assert_eq!(
            next("0 9 LW * ? *", at(2024, 8, 1, 0, 0, 0)),
            at(2024, 8, 30, 9, 0, 0)
        );
        // 2024-07-31 is a Wednesday.
        assert_eq!(
            next("0 9 LW * ? *", at(2024, 7, 1, 0, 0, 0)),
            at(2024, 7, 31, 9, 0, 0)
        );
    }

    #[test]
    fn nth_weekday_of_the_month() {
        // The first Sunday of September 2024 is the 1st.
        assert_eq!(
            next("0 0 ? * SUN#1 *", at(2024, 8, 5, 0, 0, 0)),
            at(2024, 9, 1, 0, 0, 0)
        );
        // The third Tuesday of May 2024 is the 21st.
        assert_eq!(
            next("0 0 ? * TUE#3 *", at(2024, 5, 1, 0, 0, 0)),
            at(2024, 5, 21, 0, 0, 0)
        );
        // A fifth Friday: May 2024 has one (the 31st), June 2024 does not, August does (30th).
        let fifth_friday = "0 0 ? * 6#5 *";
        assert_eq!(
            next(fifth_friday, at(2024, 5, 1, 0, 0, 0)),
            at(2024, 5, 31, 0, 0, 0)
        );
        assert_eq!(
            next(fifth_friday, at(2024, 6, 1, 0, 0, 0)),
            at(2024, 8, 30, 0, 0, 0)
        );
        // Quarterly, first Sunday, 1 AM: January, April, July, October.
        let quarterly = "0 1 ? 1/3 SUN#1 *";
        assert_eq!(
            next(quarterly, at(2024, 1, 8, 0, 0, 0)),
            at(2024, 4, 7, 1, 0, 0)
        );
        assert_eq!(
            next(quarterly, at(2024, 10, 7, 0, 0, 0)),
            at(2025, 1, 5, 1, 0, 0)
        );
    }

    #[test]
    fn last_weekday_n_of_the_month() {
        // The last Friday of May 2024 is the 31st; of February 2024 the 23rd.
        assert_eq!(
            next("0 0 ? * FRIL *", at(2024, 5, 1, 0, 0, 0)),
            at(2024, 5, 31, 0, 0, 0)
        );
        assert_eq!(
            next("0 0 ? * 6L *", at(2024, 2, 1, 0, 0, 0)),
            at(2024, 2, 23, 0, 0, 0)
        );
        // The last Sunday of March 2024 is the 31st.
        assert_eq!(
            next("0 0 ? * SUNL *", at(2024, 3, 1, 0, 0, 0)),
            at(2024, 3, 31, 0, 0, 0)
        );
        // `L` alone is Saturday: 2024-05-04.
        assert_eq!(
            next("0 0 ? * L *", at(2024, 5, 1, 0, 0, 0)),
            at(2024, 5, 4, 0, 0, 0)
        );
    }

    #[test]
    fn weekday_ranges_and_months() {
        // 2024-05-03 is a Friday: the next weekday window is Monday the 6th.
        let weekdays = "0 8 ? * MON-FRI *";
        assert_eq!(
            next(weekdays, at(2024, 5, 3, 9, 0, 0)),
            at(2024, 5, 6, 8, 0, 0)
        );
        // Only in February: from March to the next February.
        assert_eq!(
            next("0 8 1 FEB ? *", at(2024, 3, 1, 0, 0, 0)),
            at(2025, 2, 1, 8, 0, 0)
        );
        assert_eq!(
            next("0 16 1,15 * ? *", at(2022, 10, 1, 16, 30, 0)),
            at(2022, 10, 15, 16, 0, 0)
        );
    }

    // NextRotationDate.

    #[test]
    fn after_days_is_due_at_the_end_of_the_day_n_days_later() {
        // Recorded on AWS: rotation configured 2026-02-03T17:42:23Z with 30 days, reported
        // due 2026-03-06T00:59:59+01:00.
        let schedule = parse(&rules(Some(30), None, None)).expect("valid");
        let configured = Timestamp::from_millis(1_770_140_543_578);
        assert_eq!(
            schedule.next_rotation(configured),
            Timestamp::from_millis(1_772_755_199_000)
        );
        assert_eq!(
            schedule.next_rotation(configured),
            at(2026, 3, 5, 23, 59, 59)
        );
        assert_eq!(
            schedule.next_window_start(configured),
            at(2026, 3, 5, 0, 0, 0)
        );
        // A window given with the days starts at midnight too.
        let short = parse(&rules(Some(1), Some("3h"), None)).expect("valid");
        assert_eq!(short.next_rotation(configured), at(2026, 2, 4, 2, 59, 59));
    }

    #[test]
    fn cron_is_due_when_its_next_window_closes() {
        // The API reference's example: cron(0 16 1,15 * ? *) with a 2h window is due at
        // 17:59:59 on a window day.
        let schedule = with_duration("cron(0 16 1,15 * ? *)", "2h").expect("valid");
        let rotated = at(2022, 10, 1, 16, 30, 0);
        assert_eq!(
            schedule.next_rotation(rotated),
            Timestamp::from_millis(1_665_856_799_000)
        );
        // Without a window, a daily cron runs to the end of the day.
        let daily = expression("cron(0 16 1,15 * ? *)").expect("valid");
        assert_eq!(daily.next_rotation(rotated), at(2022, 10, 15, 23, 59, 59));
        // An hourly cron has a one-hour window.
        let hourly = expression("cron(0 4/12 * * ? *)").expect("valid");
        assert_eq!(
            hourly.next_rotation(at(2024, 5, 1, 4, 20, 0)),
            at(2024, 5, 1, 16, 59, 59)
        );
        // A rotation before today's window is due by the end of today's window.
        assert_eq!(
            daily.next_rotation(at(2022, 10, 15, 9, 0, 0)),
            at(2022, 10, 15, 23, 59, 59)
        );
    }

    #[test]
    fn rates_are_due_after_their_interval() {
        let days = expression("rate(10 days)").expect("valid");
        assert_eq!(
            days.next_rotation(at(2024, 5, 1, 13, 0, 0)),
            at(2024, 5, 11, 23, 59, 59)
        );
        let days_with_window = with_duration("rate(10 days)", "4h").expect("valid");
        assert_eq!(
            days_with_window.next_rotation(at(2024, 5, 1, 13, 0, 0)),
            at(2024, 5, 11, 3, 59, 59)
        );
        let hours = expression("rate(4 hours)").expect("valid");
        assert_eq!(
            hours.next_rotation(at(2024, 5, 1, 0, 37, 0)),
            at(2024, 5, 1, 4, 59, 59)
        );
        assert_eq!(
            hours.next_rotation(at(2024, 5, 1, 22, 10, 0)),
            at(2024, 5, 2, 2, 59, 59)
        );
        let hours_with_window = with_duration("rate(6 hours)", "2h").expect("valid");
        assert_eq!(hours_with_window.duration_hours(), Some(2));
        assert_eq!(hours.duration_hours(), None);
        assert_eq!(
            hours_with_window.next_rotation(at(2024, 5, 1, 6, 0, 0)),
            at(2024, 5, 1, 13, 59, 59)
        );
    }

    // Properties.

    /// Valid-looking cron expressions (some are refused, e.g. days that never occur).
    fn cron_strategy() -> impl Strategy<Value = String> {
        let hours = prop_oneof![
            (0u32..24).prop_map(|hour| hour.to_string()),
            (0u32..24, 4u32..13).prop_map(|(start, step)| format!("{start}/{step}")),
            (0u32..12, 4u32..12).prop_map(|(first, gap)| format!("{first},{}", first + gap)),
        ];
        let days = prop_oneof![
            Just(("*".to_string(), "?".to_string())),
            Just(("L".to_string(), "?".to_string())),
            Just(("LW".to_string(), "?".to_string())),
            (1u32..32).prop_map(|day| (format!("{day}W"), "?".to_string())),
            (1u32..32).prop_map(|day| (day.to_string(), "?".to_string())),
            (1u32..29, 1u32..4).prop_map(|(day, step)| (format!("{day}/{step}"), "?".into())),
            Just(("?".to_string(), "*".to_string())),
            Just(("?".to_string(), "MON-FRI".to_string())),
            (1u32..8, 1u32..6).prop_map(|(day, nth)| ("?".to_string(), format!("{day}#{nth}"))),
            (1u32..8).prop_map(|day| ("?".to_string(), format!("{day}L"))),
        ];
        let months = prop_oneof![
            Just("*".to_string()),
            (1u32..13).prop_map(|month| month.to_string()),
            (1u32..13).prop_map(|month| format!("{month}/3")),
            Just("JAN,JUL".to_string()),
        ];
        (hours, days, months).prop_map(|(hours, (day_of_month, day_of_week), months)| {
            format!("cron(0 {hours} {day_of_month} {months} {day_of_week} *)")
        })
    }

    fn rules_strategy() -> impl Strategy<Value = RotationRulesInput> {
        let duration = proptest::option::of((1u32..25).prop_map(|hours| format!("{hours}h")));
        let schedule = prop_oneof![
            (1i64..=1000).prop_map(|days| (Some(days), None)),
            (4u32..24).prop_map(|hours| (None, Some(format!("rate({hours} hours)")))),
            (1u32..1000).prop_map(|days| (None, Some(format!("rate({days} days)")))),
            cron_strategy().prop_map(|expression| (None, Some(expression))),
        ];
        (schedule, duration).prop_map(|((days, expression), duration)| RotationRulesInput {
            automatically_after_days: days,
            duration,
            schedule_expression: expression,
        })
    }

    /// Between 1900 and 2200.
    fn time_strategy() -> impl Strategy<Value = Timestamp> {
        (-2_208_988_800_000i64..7_258_118_400_000).prop_map(Timestamp::from_millis)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn the_next_rotation_is_always_later(rules in rules_strategy(), last in time_strategy()) {
            let Ok(schedule) = parse(&rules) else {
                // Some generated rules are refused (a window past midnight, a day that never
                // comes); the property is about accepted ones.
                return Ok(());
            };
            let start = schedule.next_window_start(last);
            let due = schedule.next_rotation(last);
            prop_assert!(start > last, "{:?}: start {:?} after {:?}", rules, start, last);
            prop_assert!(due > last, "{:?}: due {:?} after {:?}", rules, due, last);
            prop_assert!(due > start);
            prop_assert_eq!(start.as_millis().rem_euclid(MILLIS_PER_HOUR), 0);
        }

        #[test]
        fn next_after_is_the_first_matching_hour(
            expression in cron_strategy(),
            after in time_strategy(),
        ) {
            let fields = &expression["cron(".len()..expression.len() - 1];
            let Ok(cron) = CronSchedule::parse(fields) else { return Ok(()) };
            let next = cron.next_after(after);
            prop_assert!(next.is_some(), "{} never after {:?}", expression, after);
            let next = next.unwrap_or_default().as_millis();
            prop_assert!(next > after.as_millis());
            prop_assert_eq!(next.rem_euclid(MILLIS_PER_HOUR), 0);
            let matches = |millis: i64| {
                let hour = millis.rem_euclid(MILLIS_PER_DAY) / MILLIS_PER_HOUR;
                cron.hours & (1 << hour) != 0 && cron.matches_day(millis.div_euclid(MILLIS_PER_DAY))
            };
            prop_assert!(matches(next), "{} at {}", expression, next);
            // No hour in between matches (checked hour by hour over up to two years).
            let first = after.as_millis().div_euclid(MILLIS_PER_HOUR) + 1;
            let last = next / MILLIS_PER_HOUR;
            if last - first < 2 * 366 * 24 {
                for hour in first..last {
                    prop_assert!(!matches(hour * MILLIS_PER_HOUR), "{} skipped {}", expression, hour);
                }
            }
        }

        #[test]
        fn civil_dates_round_trip(day in -1_000_000i64..1_000_000) {
            let (year, month, day_of_month) = civil_from_days(day);
            prop_assert!((1..=12).contains(&month));
            prop_assert!(day_of_month >= 1 && day_of_month <= days_in_month(year, month));
            prop_assert_eq!(days_from_civil(year, month, day_of_month), day);
            prop_assert_eq!(weekday(day + 7), weekday(day));
        }
    }
}
