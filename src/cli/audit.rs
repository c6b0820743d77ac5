//! `coffer audit`: the audit trail of a data directory or PostgreSQL database, filtered, as a
//! table or as JSON lines (one CloudTrail event per line: the export format). Opening the
//! trail needs no root key: events hold no secrets.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{DEFAULT_DATA_DIR, open_store};
use crate::audit::{AuditQuery, StoredAuditEvent, iso_time};
use crate::clock::Timestamp;
use crate::config::{DatabaseUrl, Storage, database_path};

/// Events read per query.
const PAGE: usize = 1_000;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The data directory of the embedded database.
    #[arg(long, env = "COFFER_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// The PostgreSQL database instead of a data directory.
    #[arg(long, env = "COFFER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<DatabaseUrl>,
    /// Events at or after this time (`2026-01-02T03:04:05Z`, `2026-01-02`, or epoch seconds).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<Timestamp>,
    /// Events before this time (same forms as `--since`).
    #[arg(long, value_parser = parse_time)]
    pub until: Option<Timestamp>,
    /// Events of this operation (`GetSecretValue`, `CreateKey`...).
    #[arg(long = "event")]
    pub event_name: Option<String>,
    /// Events of this caller: a user's ARN, a user name (`root` for the root) or an access
    /// key id.
    #[arg(long)]
    pub user: Option<String>,
    /// Events concerning this secret (or KMS key): its ARN or name.
    #[arg(long, alias = "resource")]
    pub secret: Option<String>,
    /// Events that failed with this error code (`AccessDeniedException`...).
    #[arg(long = "error")]
    pub error_code: Option<String>,
    /// At most this many events (the oldest first).
    #[arg(long)]
    pub limit: Option<usize>,
    /// JSON lines: one CloudTrail event per line (the export format).
    #[arg(long)]
    pub json: bool,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

pub async fn run(args: AuditArgs) -> Result<(), String> {
    let storage = match &args.database_url {
        Some(url) => Storage::Postgres {
            url: url.clone(),
            pool_size: 2,
        },
        None => {
            let path = database_path(&args.data_dir);
            if !path.exists() {
                return Err(format!("no database at {}", path.display()));
            }
            Storage::DataDir(args.data_dir.clone())
        }
    };
    let store = open_store(&storage).await?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|error| format!("cannot create {}: {error}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let write_error = |error: std::io::Error| format!("cannot write the events: {error}");
    if !args.json {
        writeln!(
            out,
            "{:<20}  {:<32}  {:<40}  {:<40}  ERROR",
            "TIME", "EVENT", "USER", "RESOURCE"
        )
        .map_err(write_error)?;
    }
    let mut remaining = args.limit.unwrap_or(usize::MAX);
    let mut after = None;
    while remaining > 0 {
        let query = AuditQuery {
            since: args.since,
            until: args.until,
            event_name: args.event_name.clone(),
            user: args.user.clone(),
            resource: args.secret.clone(),
            error_code: args.error_code.clone(),
            after,
            limit: remaining.min(PAGE),
        };
        let page = store
            .query_audit(&query)
            .await
            .map_err(|error| format!("cannot read the audit trail: {error}"))?;
        for stored in &page {
            if args.json {
                writeln!(out, "{}", stored.event.json).map_err(write_error)?;
            } else {
                writeln!(out, "{}", table_row(stored)).map_err(write_error)?;
            }
        }
        remaining -= page.len();
        match page.last() {
            Some(last) if page.len() == query.limit => after = Some(last.sequence),
            _ => break,
        }
    }
    out.flush().map_err(write_error)
}

fn table_row(stored: &StoredAuditEvent) -> String {
    let event = &stored.event;
    let user = event
        .user_arn
        .as_deref()
        .or(event.access_key_id.as_deref())
        .unwrap_or("-");
    let resource = event
        .resource_arn
        .as_deref()
        .or(event.resource_name.as_deref())
        .unwrap_or("-");
    format!(
        "{:<20}  {:<32}  {:<40}  {:<40}  {}",
        iso_time(event.time),
        event.name,
        user,
        resource,
        event.error_code.as_deref().unwrap_or("-")
    )
}

/// `2026-01-02T03:04:05Z`, `2026-01-02` (midnight UTC) or epoch seconds.
fn parse_time(text: &str) -> Result<Timestamp, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(Timestamp::from_millis(seconds.saturating_mul(1000)));
    }
    let invalid =
        || format!("{text:?} is not a time like 2026-01-02T03:04:05Z, 2026-01-02 or epoch seconds");
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time.strip_suffix('Z').ok_or_else(invalid)?)),
        None => (text, None),
    };
    let number = |part: Option<&str>| -> Result<i64, String> {
        part.and_then(|part| part.parse().ok()).ok_or_else(invalid)
    };
    let mut date_parts = date.split('-');
    let (year, month, day) = (
        number(date_parts.next())?,
        number(date_parts.next())?,
        number(date_parts.next())?,
    );
    if date_parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(invalid());
    }
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    if let Some(time) = time {
        let mut time_parts = time.split(':');
        let (hour, minute, second) = (
            number(time_parts.next())?,
            number(time_parts.next())?,
            number(time_parts.next())?,
        );
        if time_parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
            return Err(invalid());
        }
        seconds += hour * 3_600 + minute * 60 + second;
    }
    Ok(Timestamp::from_millis(seconds * 1000))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_three_forms() {
        let at = |text: &str| parse_time(text).map(Timestamp::as_millis);
        assert_eq!(at("1700000000"), Ok(1_700_000_000_000));
        assert_eq!(at("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000));
        assert_eq!(at("2023-11-14"), Ok(1_699_920_000_000));
        assert_eq!(at("1970-01-01"), Ok(0));
        assert!(parse_time("2023-13-01").is_err());
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("2023-11-14T22:13:20").is_err());
        assert_eq!(
            iso_time(Timestamp::from_millis(1_700_000_000_000)),
            "2023-11-14T22:13:20Z"
        );
    }
}
