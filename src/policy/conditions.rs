//! Condition operators and policy variables, evaluated against a [`RequestContext`].
//!
//! The rules, from the IAM User Guide ("IAM JSON policy elements: Condition operators",
//! "Conditions with multiple context keys or values", "Single-valued vs. multivalued context
//! keys", "IAM policy elements: Variables and tags"):
//!
//! - Several values for one key under one operator are ORed; for a negated operator
//!   (`StringNotEquals`, `StringNotLike`, `NumericNotEquals`, `DateNotEquals`, `NotIpAddress`,
//!   `ArnNotEquals`, `ArnNotLike`, `StringNotEqualsIgnoreCase`) they are NORed: the request's
//!   value must match none of them.
//! - A key absent from the request makes the condition false, except for the negated
//!   operators, where it makes it true; `...IfExists` makes it true whatever the operator.
//! - `Null`: `true` holds when the key is absent, `false` when it is present. A multivalued key
//!   with no values counts as absent.
//! - `ForAnyValue:`: at least one of the request's values matches (false without the key).
//!   `ForAllValues:`: every one of them matches; true when the key is absent or has no values.
//!   For negated operators "matches" means "matches none of the policy's values".
//! - A single-valued operator on a multivalued key (no set operator): our choice, which AWS does
//!   not document, is that a positive operator holds when any of the request's values matches,
//!   and a negated one when none of them matches any policy value.
//! - Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, and `${*}`,
//!   `${?}`, `${$}` for the literal characters) in policies of version `2012-10-17`: what a
//!   variable stands for is literal text, never a wildcard. A variable whose key the request
//!   lacks (or has several values for), with no default, cannot be resolved, and AWS says the
//!   statement then "may be invalid": a condition with such a value is false.
//! - `ArnEquals` and `ArnLike` both take wildcards, and match the six colon-separated fields of
//!   an ARN separately; a value that is not an ARN matches nothing.
//! - `Date...` values are ISO 8601 (`2026-01-31`, `2026-01-31T12:00:00Z`, with fractions or an
//!   offset) or seconds since the epoch; `Numeric...` values are decimal numbers; `Bool` values
//!   are `true`/`false` (ASCII case ignored); `IpAddress` values are addresses or CIDR blocks,
//!   IPv4 or IPv6. A policy value that does not parse matches nothing.

use std::borrow::Cow;
use std::net::IpAddr;

use super::context::{RequestContext, Value};
use super::model::{BaseOperator, Condition, SetOperator};
use super::wildcard::{Case, Token, tokens_match, wildcard_match};

/// Whether `condition` holds for the request. `variables`: whether `${...}` in values is a
/// policy variable ([`super::PolicyVersion::has_policy_variables`]).
pub(super) fn holds(condition: &Condition, request: &RequestContext, variables: bool) -> bool {
    let operator = condition.operator;
    let value = request.lookup(&condition.key);
    if operator.base == BaseOperator::Null {
        let absent = match value {
            None => true,
            Some(Value::Many(many)) => many.is_empty(),
            Some(_) => false,
        };
        return condition.values.iter().any(|v| match parse_bool(v) {
            Some(wants_absent) => wants_absent == absent,
            None => false,
        });
    }
    let negated = is_negated(operator.base);
    // Every policy value, with its variables replaced; `None` if one cannot be resolved.
    let Some(values) = resolve_all(&condition.values, request, variables) else {
        return false;
    };
    let matches_one = |text: Value<'_>| -> bool {
        let any = values
            .iter()
            .any(|expected| matches(operator.base, expected, text));
        any != negated
    };
    match (operator.set, value) {
        (Some(SetOperator::ForAllValues), None) => true,
        (Some(SetOperator::ForAnyValue), None) => operator.if_exists,
        (Some(set), Some(Value::Many(many))) => {
            let mut items = many.iter().map(Value::Str);
            match set {
                SetOperator::ForAllValues => items.all(matches_one),
                SetOperator::ForAnyValue => items.any(matches_one),
            }
        }
        (Some(_), Some(value)) => matches_one(value),
        (None, None) => operator.if_exists || negated,
        (None, Some(Value::Many(many))) => {
            let any = many.iter().any(|item| {
                values
                    .iter()
                    .any(|expected| matches(operator.base, expected, Value::Str(item)))
            });
            any != negated
        }
        (None, Some(value)) => matches_one(value),
    }
}

fn is_negated(base: BaseOperator) -> bool {
    use BaseOperator::*;
    matches!(
        base,
        StringNotEquals
            | StringNotEqualsIgnoreCase
            | StringNotLike
            | NumericNotEquals
            | DateNotEquals
            | NotIpAddress
            | ArnNotEquals
            | ArnNotLike
    )
}

/// A policy value after variable substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Resolved<'a> {
    /// No variable: the value as written (the common case; no allocation).
    Plain(&'a str),
    /// With variables replaced: wildcards written in the policy stay wildcards, the text of
    /// variables is literal.
    Tokens(Vec<Token>),
}

impl Resolved<'_> {
    /// The value as plain text, where a wildcard is just its character.
    fn text(&self) -> Cow<'_, str> {
        match self {
            Resolved::Plain(text) => Cow::Borrowed(text),
            Resolved::Tokens(tokens) => Cow::Owned(
                tokens
                    .iter()
                    .map(|t| match t {
                        Token::Char(c) => *c,
                        Token::Star => '*',
                        Token::One => '?',
                    })
                    .collect(),
            ),
        }
    }

    /// Whether `text` matches this value as a wildcard pattern.
    pub(super) fn like(&self, text: &str, case: Case) -> bool {
        match self {
            Resolved::Plain(pattern) => wildcard_match(pattern, text, case),
            Resolved::Tokens(tokens) => tokens_match(tokens, text, case),
        }
    }

    /// `ArnLike`: field by field, each a wildcard pattern.
    fn arn_like(&self, arn: &str) -> bool {
        let mut arn_fields = arn.splitn(6, ':');
        match self {
            Resolved::Plain(pattern) => {
                let mut fields = pattern.splitn(6, ':');
                let mut count = 0;
                loop {
                    match (fields.next(), arn_fields.next()) {
                        (None, None) => return count == 6,
                        (Some(p), Some(a)) if wildcard_match(p, a, Case::Sensitive) => count += 1,
                        _ => return false,
                    }
                }
            }
            Resolved::Tokens(tokens) => {
                let mut rest: &[Token] = tokens;
                for index in 0..6 {
                    let Some(arn_field) = arn_fields.next() else {
                        return false;
                    };
                    let field = if index == 5 {
                        std::mem::take(&mut rest)
                    } else {
                        let Some(colon) = rest.iter().position(|t| *t == Token::Char(':')) else {
                            return false;
                        };
                        let (field, after) = rest.split_at(colon);
                        rest = &after[1..];
                        field
                    };
                    if !tokens_match(field, arn_field, Case::Sensitive) {
                        return false;
                    }
                }
                arn_fields.next().is_none()
            }
        }
    }
}

fn resolve_all<'a>(
    values: &'a [String],
    request: &RequestContext,
    variables: bool,
) -> Option<Vec<Resolved<'a>>> {
    values
        .iter()
        .map(|value| resolve(value, request, variables))
        .collect()
}

/// `value` with its policy variables replaced; `None` if one cannot be resolved.
pub(super) fn resolve<'a>(
    value: &'a str,
    request: &RequestContext,
    variables: bool,
) -> Option<Resolved<'a>> {
    if !variables || !value.contains("${") {
        return Some(Resolved::Plain(value));
    }
    let mut tokens = Vec::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        push_pattern(&mut tokens, &rest[..start]);
        let (replacement, after) = variable(&rest[start + 2..], request)?;
        tokens.extend(replacement.chars().map(Token::Char));
        rest = after;
    }
    push_pattern(&mut tokens, rest);
    Some(Resolved::Tokens(tokens))
}

fn push_pattern(tokens: &mut Vec<Token>, text: &str) {
    tokens.extend(text.chars().map(|c| match c {
        '*' => Token::Star,
        '?' => Token::One,
        c => Token::Char(c),
    }));
}

/// Reads one variable from just after `${`: its replacement and the text after its `}`.
fn variable<'a, 'r>(text: &'a str, request: &'r RequestContext) -> Option<(Cow<'r, str>, &'a str)> {
    // The name runs to a comma or the closing brace; a default is a quoted string in which
    // `''` stands for one quote.
    let end = text.find([',', '}'])?;
    let name = text[..end].trim();
    let mut rest = &text[end..];
    let mut default = None;
    if let Some(after_comma) = rest.strip_prefix(',') {
        let quoted = after_comma.trim_start().strip_prefix('\'')?;
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        let after_quote = loop {
            let (i, c) = chars.next()?;
            if c != '\'' {
                value.push(c);
            } else if quoted[i + 1..].starts_with('\'') {
                value.push('\'');
                chars.next();
            } else {
                break &quoted[i + 1..];
            }
        };
        default = Some(value);
        rest = after_quote.trim_start();
    }
    let after = rest.strip_prefix('}')?;
    let replacement = match name {
        "*" | "?" | "$" => Cow::Borrowed(match name {
            "*" => "*",
            "?" => "?",
            _ => "$",
        }),
        _ => match request.lookup(name).and_then(Value::text) {
            Some(text) => text,
            None => Cow::Owned(default?),
        },
    };
    Some((replacement, after))
}

/// Whether the request's `actual` value matches one policy value under a positive operator
/// (the negated operators are their positive counterpart, negated by the caller).
fn matches(base: BaseOperator, expected: &Resolved<'_>, actual: Value<'_>) -> bool {
    use BaseOperator::*;
    match base {
        StringEquals | StringNotEquals | BinaryEquals => {
            actual.text().is_some_and(|a| *a == *expected.text())
        }
        StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => actual
            .text()
            .is_some_and(|a| lowercase(&a).eq(lowercase(&expected.text()))),
        StringLike | StringNotLike => actual
            .text()
            .is_some_and(|a| expected.like(&a, Case::Sensitive)),
        ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
            actual.text().is_some_and(|a| expected.arn_like(&a))
        }
        NumericEquals | NumericNotEquals => compare_numbers(expected, actual, |a, e| a == e),
        NumericLessThan => compare_numbers(expected, actual, |a, e| a < e),
        NumericLessThanEquals => compare_numbers(expected, actual, |a, e| a <= e),
        NumericGreaterThan => compare_numbers(expected, actual, |a, e| a > e),
        NumericGreaterThanEquals => compare_numbers(expected, actual, |a, e| a >= e),
        DateEquals | DateNotEquals => compare_dates(expected, actual, |a, e| a == e),
        DateLessThan => compare_dates(expected, actual, |a, e| a < e),
        DateLessThanEquals => compare_dates(expected, actual, |a, e| a <= e),
        DateGreaterThan => compare_dates(expected, actual, |a, e| a > e),
        DateGreaterThanEquals => compare_dates(expected, actual, |a, e| a >= e),
        Bool => {
            let actual = match actual {
                Value::Bool(b) => Some(b),
                Value::Str(text) => parse_bool(text),
                _ => None,
            };
            actual.is_some_and(|a| parse_bool(&expected.text()) == Some(a))
        }
        IpAddress | NotIpAddress => {
            let actual = match actual {
                Value::Ip(ip) => Some(ip),
                Value::Str(text) => text.trim().parse().ok(),
                _ => None,
            };
            match (actual, parse_cidr(&expected.text())) {
                (Some(ip), Some((network, prefix))) => in_network(ip, network, prefix),
                _ => false,
            }
        }
        Null => false, // handled before
    }
}

fn lowercase(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().flat_map(char::to_lowercase)
}

fn compare_numbers(
    expected: &Resolved<'_>,
    actual: Value<'_>,
    compare: impl Fn(f64, f64) -> bool,
) -> bool {
    let actual = match actual {
        Value::Number(n) => Some(n),
        Value::Str(text) => parse_number(text),
        _ => None,
    };
    match (actual, parse_number(&expected.text())) {
        (Some(a), Some(e)) => compare(a, e),
        _ => false,
    }
}

fn compare_dates(
    expected: &Resolved<'_>,
    actual: Value<'_>,
    compare: impl Fn(i64, i64) -> bool,
) -> bool {
    let actual = match actual {
        Value::Date(ms) => Some(ms),
        Value::Number(seconds) => seconds_to_millis(seconds),
        Value::Str(text) => parse_date(text),
        _ => None,
    };
    match (actual, parse_date(&expected.text())) {
        (Some(a), Some(e)) => compare(a, e),
        _ => false,
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A decimal number: digits with an optional sign, fraction and exponent. Not `inf` or `NaN`,
/// which Rust's parser would take.
fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
        && text.chars().any(|c| c.is_ascii_digit());
    plain.then(|| text.parse().ok()).flatten()
}

fn seconds_to_millis(seconds: f64) -> Option<i64> {
    let ms = (seconds * 1000.0).round();
    (ms.is_finite() && ms.abs() < 9.0e15).then_some(ms as i64)
}

/// A date: seconds since the epoch (`1767225600`, `1767225600.5`), or ISO 8601 in the forms
/// `YYYY-MM-DD`, `YYYY-MM-DDThh:mm`, `YYYY-MM-DDThh:mm:ss`, with an optional fraction of a
/// second, and `Z`, `±hh:mm` or `±hhmm` (none means UTC). In milliseconds since the epoch.
pub(super) fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Some(seconds) = parse_number(text)
        && !text.contains(['e', 'E'])
        && text.matches('-').count() <= 1
    {
        return seconds_to_millis(seconds);
    }
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * 86_400_000;
    let mut rest = &text[10..];
    if let Some(time) = rest.strip_prefix(['T', 't']) {
        let tb = time.as_bytes();
        if tb.len() < 5 || tb[2] != b':' {
            return None;
        }
        let hour = time.get(0..2).and_then(|h| h.parse::<i64>().ok())?;
        let minute = time.get(3..5).and_then(|m| m.parse::<i64>().ok())?;
        let mut second = 0;
        let mut after = &time[5..];
        if let Some(s) = after.strip_prefix(':') {
            second = s.get(0..2).and_then(|s| s.parse::<i64>().ok())?;
            after = &s[2..];
            if let Some(fraction) = after.strip_prefix('.') {
                let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
                if len == 0 {
                    return None;
                }
                let millis: String = fraction[..len]
                    .chars()
                    .chain("000".chars())
                    .take(3)
                    .collect();
                ms += millis.parse::<i64>().ok()?;
                after = &fraction[len..];
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        ms += ((hour * 60 + minute) * 60 + second) * 1000;
        rest = after;
    }
    let offset_minutes = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let zone = rest[1..].replace(':', "");
            if zone.len() != 4 || !zone.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let hours: i64 = zone[..2].parse().ok()?;
            let minutes: i64 = zone[2..].parse().ok()?;
            sign * (hours * 60 + minutes)
        }
    };
    Some(ms - offset_minutes * 60_000)
}

/// `2026-01-31T12:00:00Z`, as `aws:CurrentTime` is written (milliseconds only when not zero).
pub(super) fn format_iso8601(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    if milli == 0 {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// An address or CIDR block: the address and the prefix length (the full length without one).
fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let text = text.trim();
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address: IpAddr = address.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
        Some(_) => return None,
    };
    (prefix <= max).then_some((address, prefix))
}

fn in_network(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_and_epoch_dates() {
        let jan_2026 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        for (text, expected) in [
            ("2026-01-01", Some(jan_2026)),
            ("2026-01-01T00:00:00Z", Some(jan_2026)),
            ("2026-01-01T00:00Z", Some(jan_2026)),
            ("2026-01-01T00:00:00.250Z", Some(jan_2026 + 250)),
            ("2026-01-01T01:00:00+01:00", Some(jan_2026)),
            ("2025-12-31T19:00:00-0500", Some(jan_2026)),
            ("1767225600", Some(jan_2026)),
            ("1767225600.5", Some(jan_2026 + 500)),
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2024-02-29", Some(1_709_164_800_000)),
            ("2023-02-29", None),
            ("2026-13-01", None),
            ("2026-01-01T24:00:00Z", None),
            ("2026-01-01T00:00:00X", None),
            ("yesterday", None),
            ("", None),
        ] {
            assert_eq!(parse_date(text), expected, "{text}");
        }
    }

    #[test]
    fn dates_format_as_aws_current_time() {
        assert_eq!(format_iso8601(1_767_225_600_000), "2026-01-01T00:00:00Z");
        assert_eq!(
            format_iso8601(1_709_164_800_123),
            "2024-02-29T00:00:00.123Z"
        );
        assert_eq!(format_iso8601(0), "1970-01-01T00:00:00Z");
        for ms in [0, 951_782_400_000, 1_767_225_600_000, -86_400_000] {
            assert_eq!(parse_date(&format_iso8601(ms)), Some(ms));
        }
    }

    #[test]
    fn cidr_blocks() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or_else(|e| panic!("{s}: {e}"));
        let inside = |address: &str, cidr: &str| {
            let (network, prefix) = parse_cidr(cidr).unwrap_or_else(|| panic!("{cidr}"));
            in_network(ip(address), network, prefix)
        };
        assert!(inside("203.0.113.7", "203.0.113.0/24"));
        assert!(!inside("203.0.114.7", "203.0.113.0/24"));
        assert!(inside("203.0.113.7", "203.0.113.7"));
        assert!(!inside("203.0.113.8", "203.0.113.7"));
        assert!(inside("8.8.8.8", "0.0.0.0/0"));
        assert!(inside("2001:db8::1", "2001:DB8::/32"));
        assert!(!inside("2001:db9::1", "2001:db8::/32"));
        assert!(!inside("203.0.113.7", "::/0"));
        assert!(inside("::1", "::/0"));
        for bad in [
            "203.0.113.0/33",
            "203.0.113.0/",
            "2001:db8::/129",
            "x",
            "10.0.0.0/-1",
        ] {
            assert_eq!(parse_cidr(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_are_decimal_only() {
        assert_eq!(parse_number("10"), Some(10.0));
        assert_eq!(parse_number("-1.5"), Some(-1.5));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        for bad in ["inf", "NaN", "", "1,000", "0x10", "ten"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }
}
