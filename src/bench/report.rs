//! What the bench shows: progress on stderr (an `indicatif` bar on a terminal, else a line a
//! second), and the results on stdout as a table or one JSON document.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::histogram::LatencyHistogram;
use super::units::format_size;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// An `indicatif` bar on stderr.
    Bar,
    /// A line on stderr every second.
    Lines,
}

/// Progress of one phase (a setup, a measurement, a cleanup).
pub struct Progress {
    mode: ProgressMode,
    label: String,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A phase whose progress goes from 0 to `total` (`unit` says what is counted).
    pub fn start(mode: ProgressMode, label: String, total: u64) -> Progress {
        let bar = (mode == ProgressMode::Bar).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{prefix:>22} [{elapsed_precise}] {wide_bar} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(label.clone());
            bar
        });
        Progress { mode, label, bar }
    }

    /// How often [`Progress::update`] should be called.
    pub fn tick(&self) -> Duration {
        match self.mode {
            ProgressMode::Bar => Duration::from_millis(100),
            ProgressMode::Lines => Duration::from_secs(1),
        }
    }

    pub fn update(&self, position: u64, message: String) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(position);
                bar.set_message(message);
            }
            None => eprintln!("coffer bench: {}: {message}", self.label),
        }
    }

    /// A line above the bar (or on its own).
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Latency {
    pub fn of(histogram: &LatencyHistogram) -> Latency {
        let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
        Latency {
            p50: ms(histogram.percentile(50.0)),
            p90: ms(histogram.percentile(90.0)),
            p99: ms(histogram.percentile(99.0)),
            max: ms(histogram.max()),
            mean: ms(histogram.mean()),
        }
    }
}

/// The measurement of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub scenario: &'static str,
    pub operation: &'static str,
    /// Secrets created by the setup.
    pub secrets: usize,
    pub setup_seconds: f64,
    /// Wall time of the measurement (start to the last answer).
    pub seconds: f64,
    /// Successful (2xx) answers.
    pub ok: u64,
    /// `ok / seconds`: errors are not counted.
    pub requests_per_second: f64,
    /// Answers with another status.
    pub non_2xx: u64,
    /// Failed connections, sends or reads, and time-outs.
    pub transport_errors: u64,
    /// Error answers by `__type`, and transport errors under `transport`.
    pub errors: BTreeMap<String, u64>,
    /// Latency of the successful requests, in milliseconds.
    pub latency_ms: Latency,
    /// Secrets the writers created during the run because theirs had used their version
    /// budget (put/update); these creations are not timed.
    pub fresh_secrets: u64,
    /// Stopped early by Ctrl-C.
    pub interrupted: bool,
    /// Why the scenario could not run (its setup failed).
    pub failed: Option<String>,
}

impl ScenarioReport {
    pub fn has_errors(&self) -> bool {
        self.failed.is_some() || self.non_2xx > 0 || self.transport_errors > 0
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub tool: &'static str,
    pub version: &'static str,
    pub endpoint: String,
    pub region: String,
    pub run_id: String,
    pub connections: usize,
    pub duration_limit_seconds: f64,
    pub request_limit: Option<u64>,
    pub value_size_bytes: usize,
    pub scenarios: Vec<ScenarioReport>,
}

fn format_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// The human-readable table.
pub fn render_text(report: &RunReport) -> String {
    let mut out = String::new();
    let limit = match report.request_limit {
        Some(n) => format!(", at most {n} requests"),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "coffer bench: {} (region {}), {} connections, {} s per scenario{limit}, values of {}, \
         run {}",
        report.endpoint,
        report.region,
        report.connections,
        report.duration_limit_seconds,
        format_size(report.value_size_bytes),
        report.run_id
    );
    let _ = writeln!(
        out,
        "{:<11} {:>8} {:>12} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "scenario",
        "secrets",
        "requests/s",
        "ok",
        "non-2xx",
        "transport",
        "p50",
        "p90",
        "p99",
        "max"
    );
    for s in &report.scenarios {
        if let Some(reason) = &s.failed {
            let _ = writeln!(out, "{:<11} not run: {reason}", s.scenario);
            continue;
        }
        let _ = writeln!(
            out,
            "{:<11} {:>8} {:>12.1} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}{}",
            s.scenario,
            s.secrets,
            s.requests_per_second,
            s.ok,
            s.non_2xx,
            s.transport_errors,
            format_ms(s.latency_ms.p50),
            format_ms(s.latency_ms.p90),
            format_ms(s.latency_ms.p99),
            format_ms(s.latency_ms.max),
            if s.interrupted { "  (interrupted)" } else { "" }
        );
    }
    for s in &report.scenarios {
        if !s.errors.is_empty() {
            let errors: Vec<String> = s
                .errors
                .iter()
                .map(|(kind, count)| format!("{kind} x{count}"))
                .collect();
            let _ = writeln!(out, "{} errors: {}", s.scenario, errors.join(", "));
        }
        if s.fresh_secrets > 0 {
            let _ = writeln!(
                out,
                "{}: {} fresh secrets created during the run (version budget; not timed)",
                s.scenario, s.fresh_secrets
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(ok: u64, non_2xx: u64) -> ScenarioReport {
        let mut histogram = LatencyHistogram::new();
        histogram.record(Duration::from_micros(1500));
        ScenarioReport {
            scenario: "get-hot",
            operation: "GetSecretValue",
            secrets: 1,
            setup_seconds: 0.01,
            seconds: 2.0,
            ok,
            requests_per_second: ok as f64 / 2.0,
            non_2xx,
            transport_errors: 0,
            errors: if non_2xx > 0 {
                BTreeMap::from([("ThrottlingException".to_owned(), non_2xx)])
            } else {
                BTreeMap::new()
            },
            latency_ms: Latency::of(&histogram),
            fresh_secrets: 0,
            interrupted: false,
            failed: None,
        }
    }

    #[test]
    fn latencies_are_milliseconds_with_microsecond_precision() {
        assert_eq!(scenario(1, 0).latency_ms.p50, 1.5);
    }

    #[test]
    fn the_table_shows_throughput_and_errors_apart() {
        let report = RunReport {
            tool: "coffer bench",
            version: "0",
            endpoint: "http://127.0.0.1:1".into(),
            region: "us-east-1".into(),
            run_id: "r".into(),
            connections: 4,
            duration_limit_seconds: 2.0,
            request_limit: None,
            value_size_bytes: 1024,
            scenarios: vec![scenario(200, 3)],
        };
        let text = render_text(&report);
        assert!(text.contains("100.0"), "{text}");
        assert!(text.contains("ThrottlingException x3"), "{text}");
        assert!(text.contains("1.50 ms"), "{text}");
        assert!(report.scenarios[0].has_errors());
        assert!(!scenario(1, 0).has_errors());
    }
}
