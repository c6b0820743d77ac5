//! Two real `coffer` processes on two ports sharing one PostgreSQL database (a fresh one per
//! test): many clients on both nodes change the same secrets at once and the version rules
//! still hold; a write acknowledged by one node is read at once on the other; a node killed
//! with SIGKILL loses nothing it acknowledged; one node at a time runs the purge job.
//!
//! Needs `COFFER_TEST_POSTGRES_URL` (`scripts/test` sets it; see `scripts/postgres-env`).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use common::postgres::TestDatabase;
use common::process::CofferProcess;
use rand::Rng;

const SECRETS: usize = 5;
const WORKERS_PER_NODE: usize = 8;
const OPERATIONS_PER_WORKER: usize = 25;

fn client(node: &CofferProcess) -> Client {
    common::sdk_client(&node.endpoint, common::REGION)
}

fn start_node(database: &TestDatabase) -> CofferProcess {
    CofferProcess::serve_database(&database.url, &["--database-pool-size", "8"])
}

/// The versions of a secret and their labels, from ListSecretVersionIds (deprecated ones too).
async fn versions_of(client: &Client, name: &str) -> BTreeMap<String, BTreeSet<String>> {
    let listed = client
        .list_secret_version_ids()
        .secret_id(name)
        .include_deprecated(true)
        .max_results(100)
        .send()
        .await
        .unwrap_or_else(|error| panic!("list versions of {name}: {error:?}"));
    assert!(
        listed.next_token().is_none(),
        "{name} has over 100 versions"
    );
    listed
        .versions()
        .iter()
        .map(|version| {
            (
                version.version_id().unwrap_or_default().to_owned(),
                version.version_stages().iter().cloned().collect(),
            )
        })
        .collect()
}

/// The labelled versions of a secret, from DescribeSecret.
async fn stages_of(client: &Client, name: &str) -> BTreeMap<String, BTreeSet<String>> {
    common::describe(client, name)
        .await
        .version_ids_to_stages()
        .map(|stages| {
            stages
                .iter()
                .map(|(id, labels)| (id.clone(), labels.iter().cloned().collect()))
                .collect()
        })
        .unwrap_or_default()
}

/// The versions holding `label`.
fn holders(versions: &BTreeMap<String, BTreeSet<String>>, label: &str) -> Vec<String> {
    versions
        .iter()
        .filter(|(_, labels)| labels.contains(label))
        .map(|(id, _)| id.clone())
        .collect()
}

/// Exactly one AWSCURRENT; AWSPREVIOUS on at most one version, never the current one.
fn assert_labels_consistent(name: &str, versions: &BTreeMap<String, BTreeSet<String>>) {
    let current = holders(versions, "AWSCURRENT");
    assert_eq!(current.len(), 1, "{name}: AWSCURRENT on {current:?}");
    let previous = holders(versions, "AWSPREVIOUS");
    assert!(previous.len() <= 1, "{name}: AWSPREVIOUS on {previous:?}");
    assert!(
        !previous.contains(&current[0]),
        "{name}: AWSPREVIOUS and AWSCURRENT on the same version"
    );
}

/// What the clients saw acknowledged: per secret, the value of every version created.
type Acknowledged = Arc<Mutex<HashMap<String, Vec<(String, String)>>>>;

fn acknowledge(acknowledged: &Acknowledged, name: &str, version_id: &str, value: &str) {
    acknowledged
        .lock()
        .expect("lock")
        .entry(name.to_owned())
        .or_default()
        .push((version_id.to_owned(), value.to_owned()));
}

fn known_versions(acknowledged: &Acknowledged, name: &str) -> Vec<String> {
    acknowledged
        .lock()
        .expect("lock")
        .get(name)
        .map(|versions| versions.iter().map(|(id, _)| id.clone()).collect())
        .unwrap_or_default()
}

#[derive(Debug, Default)]
struct Tally {
    updates: usize,
    puts: usize,
    stage_moves: usize,
    stale_stage_moves: usize,
    snapshots_checked: usize,
}

/// One client: `OPERATIONS_PER_WORKER` random operations on random shared secrets, plus a
/// consistency check of what the other node shows after each one.
async fn work(
    worker: usize,
    mine: Client,
    other: Client,
    acknowledged: Acknowledged,
) -> Result<Tally, String> {
    let mut tally = Tally::default();
    for n in 0..OPERATIONS_PER_WORKER {
        let (secret, operation) = {
            let mut rng = rand::rng();
            (rng.random_range(0..SECRETS), rng.random_range(0..3))
        };
        let name = format!("shared-{secret}");
        let token = common::token();
        let value = format!("value {worker}/{n}");
        match operation {
            0 => {
                mine.update_secret()
                    .secret_id(&name)
                    .secret_string(&value)
                    .client_request_token(&token)
                    .description(format!("written by {worker}/{n}"))
                    .send()
                    .await
                    .map_err(|error| format!("UpdateSecret {name}: {error:?}"))?;
                acknowledge(&acknowledged, &name, &token, &value);
                tally.updates += 1;
            }
            1 => {
                mine.put_secret_value()
                    .secret_id(&name)
                    .secret_string(&value)
                    .client_request_token(&token)
                    .send()
                    .await
                    .map_err(|error| format!("PutSecretValue {name}: {error:?}"))?;
                acknowledge(&acknowledged, &name, &token, &value);
                tally.puts += 1;
            }
            _ => {
                // Move AWSCURRENT to a random version this test created, from the version this
                // node says holds it now; another client may move it first (then AWS says the
                // label is not on that version).
                let stages = stages_of(&mine, &name).await;
                let current = holders(&stages, "AWSCURRENT");
                let known = known_versions(&acknowledged, &name);
                let target = {
                    let mut rng = rand::rng();
                    known[rng.random_range(0..known.len())].clone()
                };
                let moved = mine
                    .update_secret_version_stage()
                    .secret_id(&name)
                    .version_stage("AWSCURRENT")
                    .move_to_version_id(&target)
                    .remove_from_version_id(&current[0])
                    .send()
                    .await;
                match moved {
                    Ok(_) => tally.stage_moves += 1,
                    Err(error) if error.code() == Some("InvalidParameterException") => {
                        tally.stale_stage_moves += 1
                    }
                    Err(error) => {
                        return Err(format!("UpdateSecretVersionStage {name}: {error:?}"));
                    }
                }
            }
        }
        let seen = stages_of(&other, &name).await;
        assert_labels_consistent(&name, &seen);
        tally.snapshots_checked += 1;
    }
    Ok(tally)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_keep_the_version_rules_under_concurrent_writes() {
    let database = TestDatabase::create().await;
    let (a, b) = (start_node(&database), start_node(&database));
    let (client_a, client_b) = (client(&a), client(&b));
    let acknowledged: Acknowledged = Arc::default();
    for secret in 0..SECRETS {
        let name = format!("shared-{secret}");
        let token = common::token();
        client_a
            .create_secret()
            .name(&name)
            .secret_string("initial")
            .client_request_token(&token)
            .send()
            .await
            .unwrap_or_else(|error| panic!("create {name}: {error:?}"));
        acknowledge(&acknowledged, &name, &token, "initial");
    }

    let mut workers = Vec::new();
    for worker in 0..2 * WORKERS_PER_NODE {
        let (mine, other) = if worker % 2 == 0 {
            (client_a.clone(), client_b.clone())
        } else {
            (client_b.clone(), client_a.clone())
        };
        workers.push(tokio::spawn(work(
            worker,
            mine,
            other,
            Arc::clone(&acknowledged),
        )));
    }
    let mut total = Tally::default();
    let all = async {
        for worker in workers {
            let tally = worker
                .await
                .expect("no panic")
                .unwrap_or_else(|error| panic!("{error}"));
            total.updates += tally.updates;
            total.puts += tally.puts;
            total.stage_moves += tally.stage_moves;
            total.stale_stage_moves += tally.stale_stage_moves;
            total.snapshots_checked += tally.snapshots_checked;
        }
    };
    tokio::time::timeout(Duration::from_secs(240), all)
        .await
        .expect("400 operations finish within 4 minutes");
    eprintln!("two nodes, {total:?}");
    assert_eq!(
        total.updates + total.puts + total.stage_moves + total.stale_stage_moves,
        2 * WORKERS_PER_NODE * OPERATIONS_PER_WORKER
    );
    assert!(
        total.stage_moves > 0,
        "some label moves went through: {total:?}"
    );

    let acknowledged = acknowledged.lock().expect("lock").clone();
    for (name, written) in &acknowledged {
        let seen_a = versions_of(&client_a, name).await;
        let seen_b = versions_of(&client_b, name).await;
        assert_eq!(seen_a, seen_b, "{name}: both nodes show the same versions");
        assert_labels_consistent(name, &seen_a);
        assert_eq!(
            holders(&seen_a, "AWSPREVIOUS").len(),
            1,
            "{name}: AWSCURRENT moved, so AWSPREVIOUS is somewhere"
        );
        // No lost versions, and nothing that was not acknowledged.
        let expected: BTreeSet<&String> = written.iter().map(|(id, _)| id).collect();
        let present: BTreeSet<&String> = seen_a.keys().collect();
        assert_eq!(present, expected, "{name}: versions");
        assert_eq!(
            stages_of(&client_a, name).await,
            stages_of(&client_b, name).await
        );
        for (version_id, value) in written {
            for client in [&client_a, &client_b] {
                let got = client
                    .get_secret_value()
                    .secret_id(name)
                    .version_id(version_id)
                    .send()
                    .await
                    .unwrap_or_else(|error| panic!("get {name} {version_id}: {error:?}"));
                assert_eq!(got.secret_string(), Some(value.as_str()));
            }
        }

        // AWSPREVIOUS goes to the version AWSCURRENT left, whichever node moves it.
        let current = holders(&seen_a, "AWSCURRENT").remove(0);
        let token = common::token();
        client_b
            .put_secret_value()
            .secret_id(name)
            .secret_string("last")
            .client_request_token(&token)
            .send()
            .await
            .expect("put on node B");
        let after_put = stages_of(&client_a, name).await;
        assert_eq!(
            holders(&after_put, "AWSCURRENT"),
            std::slice::from_ref(&token)
        );
        assert_eq!(
            holders(&after_put, "AWSPREVIOUS"),
            std::slice::from_ref(&current)
        );
        client_a
            .update_secret_version_stage()
            .secret_id(name)
            .version_stage("AWSCURRENT")
            .move_to_version_id(&current)
            .remove_from_version_id(&token)
            .send()
            .await
            .expect("move back on node A");
        let after_move = stages_of(&client_b, name).await;
        assert_eq!(holders(&after_move, "AWSCURRENT"), [current]);
        assert_eq!(holders(&after_move, "AWSPREVIOUS"), [token]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_acknowledged_by_one_node_is_read_at_once_on_the_other() {
    let database = TestDatabase::create().await;
    let (a, b) = (start_node(&database), start_node(&database));
    let (client_a, client_b) = (client(&a), client(&b));
    common::create(&client_a, "raw", "v0").await;
    for round in 0..50 {
        let (writer, reader) = if round % 2 == 0 {
            (&client_a, &client_b)
        } else {
            (&client_b, &client_a)
        };
        let value = format!("v{}", round + 1);
        let written = writer
            .update_secret()
            .secret_id("raw")
            .secret_string(&value)
            .description(&value)
            .send()
            .await
            .expect("update");
        let read = common::get(reader, "raw").await;
        assert_eq!(read.secret_string(), Some(value.as_str()), "round {round}");
        assert_eq!(read.version_id(), written.version_id());
        let described = common::describe(reader, "raw").await;
        assert_eq!(described.description(), Some(value.as_str()));
    }
    // A secret created on one node is found (and its name taken) on the other at once.
    common::create(&client_b, "made-on-b", "x").await;
    let taken = client_a
        .create_secret()
        .name("made-on-b")
        .secret_string("y")
        .send()
        .await;
    assert_eq!(common::error_of(taken).0, "ResourceExistsException");
    client_a
        .delete_secret()
        .secret_id("made-on-b")
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("delete on A");
    let gone = client_b
        .get_secret_value()
        .secret_id("made-on-b")
        .send()
        .await;
    assert_eq!(common::error_of(gone).0, "ResourceNotFoundException");
}

/// A client on one node writing until that node dies: new secrets and new values.
async fn write_until_failure(
    sm: Client,
    prefix: String,
    limit: usize,
    acknowledged: Acknowledged,
) -> usize {
    let mut done = 0;
    for n in 0..limit {
        let name = format!("{prefix}-{}", n / 4);
        let token = common::token();
        let value = format!("{prefix} value {n}");
        let result = if n % 4 == 0 {
            sm.create_secret()
                .name(&name)
                .secret_string(&value)
                .client_request_token(&token)
                .send()
                .await
                .map(|_| ())
                .map_err(|error| format!("{error:?}"))
        } else {
            sm.put_secret_value()
                .secret_id(&name)
                .secret_string(&value)
                .client_request_token(&token)
                .send()
                .await
                .map(|_| ())
                .map_err(|error| format!("{error:?}"))
        };
        match result {
            Ok(()) => {
                acknowledge(&acknowledged, &name, &token, &value);
                done += 1;
            }
            Err(_) => return done,
        }
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_during_writes_loses_nothing_it_acknowledged() {
    let database = TestDatabase::create().await;
    let (victim, survivor) = (start_node(&database), start_node(&database));
    let (client_victim, client_survivor) = (client(&victim), client(&survivor));
    let acknowledged: Acknowledged = Arc::default();
    let mut victim_writers = Vec::new();
    for writer in 0..8 {
        victim_writers.push(tokio::spawn(write_until_failure(
            client_victim.clone(),
            format!("victim-{writer}"),
            // More than can be done before the kill: the writers are busy when it comes.
            2_000,
            Arc::clone(&acknowledged),
        )));
    }
    let mut survivor_writers = Vec::new();
    for writer in 0..4 {
        survivor_writers.push(tokio::spawn(write_until_failure(
            client_survivor.clone(),
            format!("survivor-{writer}"),
            40,
            Arc::clone(&acknowledged),
        )));
    }
    // Kill once the victim has acknowledged a good number of writes (or after 20 s).
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        let victim_done: usize = acknowledged
            .lock()
            .expect("lock")
            .iter()
            .filter(|(name, _)| name.starts_with("victim"))
            .map(|(_, versions)| versions.len())
            .sum();
        if victim_done >= 150 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::task::spawn_blocking(move || victim.stop_with("KILL"))
        .await
        .expect("kill the victim");
    let mut victim_total = 0;
    for writer in victim_writers {
        let done = writer.await.expect("no panic");
        assert!(
            done < 2_000,
            "a victim writer was still writing at the kill"
        );
        victim_total += done;
    }
    let mut survivor_total = 0;
    for writer in survivor_writers {
        survivor_total += writer.await.expect("no panic");
    }
    assert!(
        victim_total > 0,
        "the victim acknowledged writes before it died"
    );
    assert_eq!(
        survivor_total,
        4 * 40,
        "the survivor kept working while the other node died"
    );
    eprintln!("killed node acknowledged {victim_total}, survivor {survivor_total}");

    // Every acknowledged write is there, from the survivor and from a restarted node.
    let restarted = start_node(&database);
    let client_restarted = client(&restarted);
    let acknowledged = acknowledged.lock().expect("lock").clone();
    for (name, written) in &acknowledged {
        for sm in [&client_survivor, &client_restarted] {
            let present = versions_of(sm, name).await;
            for (version_id, value) in written {
                assert!(present.contains_key(version_id), "{name} lost {version_id}");
                let got = sm
                    .get_secret_value()
                    .secret_id(name)
                    .version_id(version_id)
                    .send()
                    .await
                    .unwrap_or_else(|error| panic!("get {name} {version_id}: {error:?}"));
                assert_eq!(got.secret_string(), Some(value.as_str()));
            }
        }
    }
}

/// How many times a node's log says it took over the purge.
fn takeovers(log: &std::path::Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .matches("this node now runs the purge")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_at_a_time_runs_the_purge() {
    let database = TestDatabase::create().await;
    let logs = tempfile::tempdir().expect("temporary directory");
    let (log_a, log_b) = (logs.path().join("a.log"), logs.path().join("b.log"));
    let arguments = [
        "--database-url",
        database.url.as_str(),
        "--purge-interval-secs",
        "1",
    ];
    let a = CofferProcess::serve_logging_to(&arguments, "info", &log_a);
    let b = CofferProcess::serve_logging_to(&arguments, "info", &log_b);
    // Both nodes tick every second for three seconds: one of them holds the job throughout.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (first_a, first_b) = (takeovers(&log_a), takeovers(&log_b));
    assert_eq!(
        first_a + first_b,
        1,
        "exactly one node runs the purge (a: {first_a}, b: {first_b})"
    );
    // The holder stops (releasing the job); the other node takes over at its next tick.
    let (holder, other_log) = if first_a == 1 {
        (a, &log_b)
    } else {
        (b, &log_a)
    };
    let status = tokio::task::spawn_blocking(move || holder.stop_with("TERM"))
        .await
        .expect("stop the holder");
    assert!(status.success());
    let started = Instant::now();
    while takeovers(other_log) == 0 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(takeovers(other_log), 1, "the other node took over");
}
