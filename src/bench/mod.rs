//! `coffer bench`: a closed-loop load generator for any Secrets Manager endpoint (Coffer, moto,
//! AWS).
//!
//! Each of `--connections` workers owns one keep-alive HTTP/1.1 connection and sends its
//! requests one after another, each SigV4-signed as an SDK would ([`client`]). A scenario
//! ([`scenario`]) first creates the secrets it needs (the *setup*, not timed, with its own
//! progress line), then measures for `--duration` (and at most `--requests` requests), then
//! deletes what it created (unless `--keep`). Throughput counts successful answers only; error
//! answers and transport errors are counted apart ([`report`]). Ctrl-C stops the run and prints
//! what was measured; a second Ctrl-C exits at once.

pub mod client;
pub mod credentials;
pub mod histogram;
pub mod report;
pub mod scenario;
pub mod units;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::watch;
use tokio::task::JoinSet;

use self::client::{Answer, Client, Endpoint, RequestSigner};
use self::histogram::LatencyHistogram;
use self::report::{Latency, Progress, ProgressMode, RunReport, ScenarioReport};
use self::scenario::{Call, Load, Scenario, ScenarioArg, ValueMaker, create_call, delete_call};
use self::units::{parse_duration, parse_size};

/// The largest `SecretString` Secrets Manager accepts.
pub const MAX_VALUE_SIZE: usize = 65_536;

/// How many distinct error kinds a scenario prints to stderr as they first happen.
const ERRORS_SHOWN: usize = 5;

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The Secrets Manager endpoint, e.g. http://127.0.0.1:8566.
    #[arg(long)]
    pub endpoint: String,
    /// Scenarios to run in order (several after one flag, repeated flags, or commas); `all`
    /// runs every one.
    #[arg(
        long = "scenario",
        value_enum,
        num_args = 1..,
        value_delimiter = ',',
        default_value = "get-hot"
    )]
    pub scenarios: Vec<ScenarioArg>,
    /// Concurrent connections, each sending one request at a time.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connections: u32,
    /// How long each scenario is measured (e.g. 10s, 500ms, 2m).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Stop each scenario after this many requests (in addition to --duration).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: Option<u64>,
    /// Secrets the setup creates, for the scenarios that use many (defaults: get-spread 10,000;
    /// put, update, describe 1,000; list 100,000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub secrets: Option<u64>,
    /// Size of each secret value (e.g. 512, 1KiB, 64KiB), random printable text.
    #[arg(long, default_value = "1KiB", value_parser = parse_value_size)]
    pub value_size: usize,
    /// Region to sign for (else AWS_REGION, AWS_DEFAULT_REGION, us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// Print one JSON document on stdout (progress lines still go to stderr).
    #[arg(long)]
    pub json: bool,
    /// Concurrent connections of the setup and the cleanup.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub setup_connections: u32,
    /// Keep the secrets the run created (by default they are deleted without recovery).
    #[arg(long)]
    pub keep: bool,
    /// PEM certificates to trust for an https:// endpoint, besides the system's roots.
    #[arg(long, env = "AWS_CA_BUNDLE")]
    pub ca_bundle: Option<std::path::PathBuf>,
}

fn parse_value_size(text: &str) -> Result<usize, String> {
    let size = parse_size(text)?;
    if size == 0 || size > MAX_VALUE_SIZE {
        return Err(format!(
            "a secret value is 1 to {MAX_VALUE_SIZE} bytes (64KiB)"
        ));
    }
    Ok(size)
}

/// What every phase of a run needs.
struct Context {
    args: BenchArgs,
    endpoint: Arc<Endpoint>,
    signer: RequestSigner,
    mode: ProgressMode,
    run_prefix: String,
    stop: watch::Receiver<bool>,
}

impl Context {
    fn client(&self) -> Client {
        Client::new(Arc::clone(&self.endpoint), self.signer.clone())
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }
}

/// Runs `coffer bench`; the error is what to print before exiting with a failure status.
pub async fn run(args: BenchArgs) -> Result<(), String> {
    let env = |name: &str| std::env::var(name).ok();
    let credentials = Arc::new(credentials::resolve_credentials(&env)?);
    let region = credentials::resolve_region(args.region.as_deref(), &env);
    let endpoint = Arc::new(Endpoint::resolve(&args.endpoint, args.ca_bundle.as_deref()).await?);
    let mode = if !args.json && std::io::stderr().is_terminal() {
        ProgressMode::Bar
    } else {
        ProgressMode::Lines
    };
    let run_id = format!("{:08x}", rand::random::<u32>());
    let (stop_sender, stop) = watch::channel(false);
    let stop_sender = Arc::new(stop_sender);
    let signals = tokio::spawn(stop_on_ctrl_c(Arc::clone(&stop_sender)));
    let context = Context {
        endpoint,
        signer: RequestSigner::new(credentials, region.clone()),
        mode,
        run_prefix: format!("coffer-bench/{run_id}"),
        stop,
        args,
    };

    let mut reports = Vec::new();
    for scenario in Scenario::selected(&context.args.scenarios) {
        if context.stopped() {
            break;
        }
        reports.push(run_scenario(&context, scenario).await);
    }
    signals.abort();
    drop(stop_sender);

    let args = &context.args;
    let report = RunReport {
        tool: "coffer bench",
        version: env!("CARGO_PKG_VERSION"),
        endpoint: args.endpoint.clone(),
        region,
        run_id: context.run_prefix.clone(),
        connections: args.connections as usize,
        duration_limit_seconds: args.duration.as_secs_f64(),
        request_limit: args.requests,
        value_size_bytes: args.value_size,
        scenarios: reports,
    };
    if args.json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|error| format!("cannot encode the report: {error}"))?;
        println!("{text}");
    } else {
        print!("{}", report::render_text(&report));
    }
    let failing: Vec<&str> = report
        .scenarios
        .iter()
        .filter(|s| s.has_errors())
        .map(|s| s.scenario)
        .collect();
    if failing.is_empty() {
        Ok(())
    } else {
        Err(format!("errors in {} (see the report)", failing.join(", ")))
    }
}

/// First Ctrl-C: ask every phase to stop. Second: exit at once.
async fn stop_on_ctrl_c(stop: Arc<watch::Sender<bool>>) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    eprintln!("coffer bench: stopping (Ctrl-C again to exit at once)");
    let _ = stop.send(true);
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(130);
    }
}

async fn run_scenario(context: &Context, scenario: Scenario) -> ScenarioReport {
    let count = scenario.secrets(context.args.secrets.map(|n| n as usize));
    let names: Arc<Vec<String>> = Arc::new(
        (0..count)
            .map(|i| scenario::secret_name(&context.run_prefix, scenario, i))
            .collect(),
    );
    let mut report = ScenarioReport {
        scenario: scenario.name(),
        operation: scenario.operation(),
        secrets: count,
        setup_seconds: 0.0,
        seconds: 0.0,
        ok: 0,
        requests_per_second: 0.0,
        non_2xx: 0,
        transport_errors: 0,
        errors: BTreeMap::new(),
        latency_ms: Latency::of(&LatencyHistogram::new()),
        fresh_secrets: 0,
        interrupted: false,
        failed: None,
    };

    let setup_started = Instant::now();
    let setup = if names.is_empty() {
        Ok(0)
    } else {
        for_each_name(
            context,
            &format!("setup {}", scenario.name()),
            "created",
            Arc::clone(&names),
            Arc::new(|name: &str, values: &mut ValueMaker| create_call(name, &values.next_value())),
            &[],
            true,
        )
        .await
    };
    report.setup_seconds = round3(setup_started.elapsed().as_secs_f64());
    let mut created: Vec<String> = match &setup {
        Ok(done) | Err((done, _)) => names.iter().take(*done).cloned().collect(),
    };

    match setup {
        Err((_, reason)) => {
            report.failed = Some(format!("setup: {reason}"));
            report.interrupted = context.stopped();
        }
        Ok(_) => {
            let measured = measure(context, scenario, &names).await;
            report.seconds = round3(measured.seconds);
            report.ok = measured.ok;
            report.requests_per_second = if measured.seconds > 0.0 {
                round3(measured.ok as f64 / measured.seconds)
            } else {
                0.0
            };
            report.non_2xx = measured.non_2xx;
            report.transport_errors = measured.transport_errors;
            report.errors = measured.errors;
            report.latency_ms = Latency::of(&measured.histogram);
            report.fresh_secrets = measured.fresh;
            report.interrupted = measured.interrupted;
            created.extend(measured.created);
        }
    }

    if !context.args.keep && !created.is_empty() {
        let cleanup = for_each_name(
            context,
            &format!("cleanup {}", scenario.name()),
            "deleted",
            Arc::new(created),
            Arc::new(|name: &str, _: &mut ValueMaker| delete_call(name)),
            &["ResourceNotFoundException"],
            false,
        )
        .await;
        if let Err((done, reason)) = cleanup {
            eprintln!(
                "coffer bench: cleanup of {} stopped after {done} deletions: {reason} \
                 (secrets are named {}/{}/...)",
                scenario.name(),
                context.run_prefix,
                scenario.name()
            );
        }
    }
    report
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

type MakeCall = Arc<dyn Fn(&str, &mut ValueMaker) -> Call + Send + Sync>;

/// Sends one call per name with `--setup-connections` workers (the setup's creations and the
/// cleanup's deletions). Returns how many names were handed out (a prefix of `names`), or that
/// count and why it stopped: the first error answer (other than the `tolerated` types), a
/// transport error that persisted over three tries, or Ctrl-C when `interruptible`.
async fn for_each_name(
    context: &Context,
    label: &str,
    verb: &'static str,
    names: Arc<Vec<String>>,
    make_call: MakeCall,
    tolerated: &'static [&'static str],
    interruptible: bool,
) -> Result<usize, (usize, String)> {
    let total = names.len();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let abort = Arc::new(AtomicBool::new(false));
    let failure: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let progress = Progress::start(context.mode, label.to_owned(), total as u64);
    let workers = (context.args.setup_connections as usize).min(total).max(1);
    let mut set = JoinSet::new();
    for _ in 0..workers {
        let mut client = context.client();
        let (names, next, done, abort, failure, make_call) = (
            Arc::clone(&names),
            Arc::clone(&next),
            Arc::clone(&done),
            Arc::clone(&abort),
            Arc::clone(&failure),
            Arc::clone(&make_call),
        );
        let stop = context.stop.clone();
        let value_size = context.args.value_size;
        set.spawn(async move {
            let mut values = ValueMaker::new(&mut StdRng::from_os_rng(), value_size);
            loop {
                if abort.load(Ordering::Relaxed) || (interruptible && *stop.borrow()) {
                    return;
                }
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(name) = names.get(index) else {
                    return;
                };
                let mut tries = 0;
                let outcome = loop {
                    let call = make_call(name, &mut values);
                    match client.call(call.operation, call.body).await {
                        Ok(answer) => break Ok(answer),
                        Err(error) if tries >= 2 => break Err(format!("transport: {error}")),
                        Err(_) => {
                            tries += 1;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                };
                let problem = match outcome {
                    Ok(answer) if answer.is_success() => None,
                    Ok(answer) if tolerated.contains(&answer.error_type().as_str()) => None,
                    Ok(answer) => Some(describe_error(&answer)),
                    Err(error) => Some(error),
                };
                if let Some(problem) = problem {
                    abort.store(true, Ordering::Relaxed);
                    if let Ok(mut failure) = failure.lock() {
                        failure.get_or_insert(format!("{name}: {problem}"));
                    }
                    return;
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let mut tick = ticker(progress.tick());
    loop {
        tokio::select! {
            joined = set.join_next() => {
                if joined.is_none() {
                    break;
                }
            }
            _ = tick.tick() => {
                let done = done.load(Ordering::Relaxed);
                progress.update(done, format!("{done}/{total} {verb}"));
            }
        }
    }
    progress.finish();
    let handed_out = next.load(Ordering::Relaxed).min(total);
    let failure = failure.lock().ok().and_then(|mut f| f.take());
    match failure {
        Some(reason) => Err((handed_out, reason)),
        None if interruptible && context.stopped() => {
            Err((handed_out, "interrupted (Ctrl-C)".into()))
        }
        None => Ok(handed_out),
    }
}

/// An interval whose first tick comes after one period (not at once).
fn ticker(period: Duration) -> tokio::time::Interval {
    tokio::time::interval_at(tokio::time::Instant::now() + period, period)
}

fn describe_error(answer: &Answer) -> String {
    match answer.error_message() {
        Some(message) => format!(
            "{} (HTTP {}): {message}",
            answer.error_type(),
            answer.status
        ),
        None => format!("{} (HTTP {})", answer.error_type(), answer.status),
    }
}

/// Counters every worker of a measurement updates.
struct Shared {
    deadline: Instant,
    cap: Option<u64>,
    issued: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
    shown_errors: Mutex<Vec<String>>,
}

impl Shared {
    /// Prints an error kind to stderr the first time it happens (at most [`ERRORS_SHOWN`]).
    fn show_error(&self, progress: &Progress, scenario: Scenario, kind: &str, detail: &str) {
        let Ok(mut shown) = self.shown_errors.lock() else {
            return;
        };
        if shown.len() >= ERRORS_SHOWN || shown.iter().any(|k| k == kind) {
            return;
        }
        shown.push(kind.to_owned());
        progress.note(&format!("coffer bench: {}: {detail}", scenario.name()));
    }
}

/// What one measurement found.
#[derive(Default)]
struct Measured {
    seconds: f64,
    histogram: LatencyHistogram,
    ok: u64,
    non_2xx: u64,
    transport_errors: u64,
    errors: BTreeMap<String, u64>,
    created: Vec<String>,
    fresh: u64,
    interrupted: bool,
}

impl Measured {
    fn absorb(&mut self, other: Measured) {
        self.histogram.merge(&other.histogram);
        self.ok += other.ok;
        self.non_2xx += other.non_2xx;
        self.transport_errors += other.transport_errors;
        for (kind, count) in other.errors {
            *self.errors.entry(kind).or_default() += count;
        }
        self.created.extend(other.created);
        self.fresh += other.fresh;
        self.interrupted |= other.interrupted;
    }
}

async fn measure(context: &Context, scenario: Scenario, names: &Arc<Vec<String>>) -> Measured {
    let duration = context.args.duration;
    let connections = context.args.connections as usize;
    let started = Instant::now();
    let shared = Arc::new(Shared {
        deadline: started + duration,
        cap: context.args.requests,
        issued: AtomicU64::new(0),
        ok: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        shown_errors: Mutex::new(Vec::new()),
    });
    let progress = Arc::new(Progress::start(
        context.mode,
        scenario.name().to_owned(),
        u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
    ));
    let mut set = JoinSet::new();
    for worker in 0..connections {
        let load = Load::new(
            scenario,
            names,
            &context.run_prefix,
            worker,
            connections,
            context.args.value_size,
        );
        set.spawn(run_worker(
            scenario,
            context.client(),
            load,
            Arc::clone(&shared),
            Arc::clone(&progress),
            context.stop.clone(),
        ));
    }
    let mut total = Measured::default();
    let mut tick = ticker(progress.tick());
    loop {
        tokio::select! {
            joined = set.join_next() => match joined {
                Some(Ok(measured)) => total.absorb(measured),
                Some(Err(error)) => {
                    progress.note(&format!("coffer bench: a worker failed: {error}"));
                }
                None => break,
            },
            _ = tick.tick() => {
                let elapsed = started.elapsed();
                let ok = shared.ok.load(Ordering::Relaxed);
                let failed = shared.failed.load(Ordering::Relaxed);
                let rate = ok as f64 / elapsed.as_secs_f64().max(1e-9);
                progress.update(
                    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                    format!("{:.1}s {ok} ok, {failed} errors, {rate:.0} req/s", elapsed.as_secs_f64()),
                );
            }
        }
    }
    total.seconds = started.elapsed().as_secs_f64();
    if let Ok(progress) = Arc::try_unwrap(progress) {
        progress.finish();
    }
    total
}

/// One worker: its own connection, one request at a time until the deadline, the request cap
/// or Ctrl-C.
async fn run_worker(
    scenario: Scenario,
    mut client: Client,
    mut load: Load,
    shared: Arc<Shared>,
    progress: Arc<Progress>,
    mut stop: watch::Receiver<bool>,
) -> Measured {
    let mut measured = Measured::default();
    loop {
        if *stop.borrow() {
            measured.interrupted = true;
            break;
        }
        if Instant::now() >= shared.deadline {
            break;
        }
        if let Some(replenish) = load.replenish() {
            // Not timed and not counted: the writer's secrets have used their version budget.
            let call = create_call(&replenish.name, &replenish.value);
            match client.call(call.operation, call.body).await {
                Ok(answer) if answer.is_success() => {
                    measured.created.push(replenish.name.clone());
                    measured.fresh += 1;
                    load.add_target(replenish.name);
                    continue;
                }
                Ok(answer) => {
                    let detail = format!("creating a fresh secret: {}", describe_error(&answer));
                    shared.show_error(&progress, scenario, "fresh", &detail);
                }
                Err(error) => {
                    let detail = format!("creating a fresh secret: transport: {error}");
                    shared.show_error(&progress, scenario, "fresh", &detail);
                }
            }
            // This worker cannot go on without exceeding the version budget.
            break;
        }
        if let Some(cap) = shared.cap
            && shared.issued.fetch_add(1, Ordering::Relaxed) >= cap
        {
            break;
        }
        let started = Instant::now();
        let (call, created) = load.next_call();
        let outcome = tokio::select! {
            outcome = client.call(call.operation, call.body) => outcome,
            _ = stop.wait_for(|stopped| *stopped) => {
                measured.interrupted = true;
                break;
            }
        };
        let latency = started.elapsed();
        match outcome {
            Ok(answer) if answer.is_success() => {
                measured.histogram.record(latency);
                measured.ok += 1;
                shared.ok.fetch_add(1, Ordering::Relaxed);
                load.on_success(&answer.body);
                measured.created.extend(created);
            }
            Ok(answer) => {
                let kind = answer.error_type();
                measured.non_2xx += 1;
                shared.failed.fetch_add(1, Ordering::Relaxed);
                shared.show_error(&progress, scenario, &kind, &describe_error(&answer));
                *measured.errors.entry(kind).or_default() += 1;
            }
            Err(error) => {
                measured.transport_errors += 1;
                shared.failed.fetch_add(1, Ordering::Relaxed);
                shared.show_error(
                    &progress,
                    scenario,
                    "transport",
                    &format!("transport: {error}"),
                );
                *measured.errors.entry("transport".into()).or_default() += 1;
                // Do not spin when the server is down.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    measured
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<BenchArgs, String> {
        let mut argv = vec!["coffer", "bench", "--endpoint", "http://127.0.0.1:8566"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Command::Bench(args),
            }) => Ok(args),
            Ok(other) => Err(format!("not bench: {other:?}")),
            Err(error) => Err(error.to_string()),
        }
    }

    #[test]
    fn defaults() {
        let args = parse(&[]).expect("parse");
        assert_eq!(args.scenarios, vec![ScenarioArg::GetHot]);
        assert_eq!(args.connections, 64);
        assert_eq!(args.duration, Duration::from_secs(10));
        assert_eq!(args.value_size, 1024);
        assert_eq!(args.requests, None);
        assert_eq!(args.secrets, None);
        assert!(!args.json && !args.keep);
    }

    #[test]
    fn every_option() {
        let args = parse(&[
            "--scenario",
            "get-hot",
            "describe",
            "--scenario",
            "put,list",
            "--connections",
            "16",
            "--duration",
            "500ms",
            "--requests",
            "1000",
            "--secrets",
            "10000",
            "--value-size",
            "64KiB",
            "--region",
            "eu-west-3",
            "--json",
            "--setup-connections",
            "8",
            "--keep",
        ])
        .expect("parse");
        assert_eq!(
            args.scenarios,
            vec![
                ScenarioArg::GetHot,
                ScenarioArg::Describe,
                ScenarioArg::Put,
                ScenarioArg::List
            ]
        );
        assert_eq!(args.connections, 16);
        assert_eq!(args.duration, Duration::from_millis(500));
        assert_eq!(args.requests, Some(1000));
        assert_eq!(args.secrets, Some(10_000));
        assert_eq!(args.value_size, 65_536);
        assert_eq!(args.region.as_deref(), Some("eu-west-3"));
        assert_eq!(args.setup_connections, 8);
        assert!(args.json && args.keep);
        assert_eq!(
            parse(&["--duration", "2m"]).map(|a| a.duration),
            Ok(Duration::from_secs(120))
        );
        assert_eq!(
            parse(&["--value-size", "512"]).map(|a| a.value_size),
            Ok(512)
        );
        assert_eq!(
            parse(&["--scenario", "all"]).map(|a| Scenario::selected(&a.scenarios).len()),
            Ok(7)
        );
    }

    #[test]
    fn bad_options_are_refused() {
        for args in [
            &["--duration", "ten"][..],
            &["--duration", "0s"],
            &["--value-size", "0"],
            &["--value-size", "65537"],
            &["--connections", "0"],
            &["--requests", "0"],
            &["--scenario", "nope"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
        assert!(
            Cli::try_parse_from(["coffer", "bench"]).is_err(),
            "--endpoint is required"
        );
    }
}
