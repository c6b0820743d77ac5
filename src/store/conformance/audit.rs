//! The conformance tests of the audit trail.

use std::sync::Arc;

use serde_json::Value;

use super::{T0, create, save, secret, value, with_version};
use crate::audit::{
    self, AuditEvent, AuditQuery, Caller, Draft, Outcome, Recorder, Resource, StoredAuditEvent,
};
use crate::clock::Timestamp;
use crate::store::{NewValue, Store, StoreError};

fn event(
    id: &str,
    at: i64,
    name: &str,
    user: &str,
    resource: &str,
    error: Option<&str>,
) -> AuditEvent {
    let draft = Draft {
        request_id: format!("request-{id}"),
        event_id: id.to_owned(),
        time: Timestamp::from_millis(T0.as_millis() + at),
        source: audit::SECRETS_MANAGER_SOURCE,
        event_name: name.to_owned(),
        region: Some("us-east-1".into()),
        source_ip: Some("127.0.0.1".into()),
        user_agent: None,
        caller: Caller {
            kind: Some("IAMUser"),
            principal_id: Some(format!("AIDA{user}")),
            arn: Some(format!("arn:aws:iam::123456789012:user/{user}")),
            account_id: Some("123456789012".into()),
            access_key_id: Some(format!("AKIA{user}")),
            user_name: Some(user.to_owned()),
        },
        request_parameters: Value::Null,
        recipient_account_id: "123456789012".into(),
    };
    let outcome = match error {
        Some(code) => Outcome::Failure {
            code,
            message: "failed",
        },
        None => Outcome::Success {
            response: Value::Null,
        },
    };
    draft.finish(
        outcome,
        Resource {
            arn: Some(format!(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:{resource}-AbCdEf"
            )),
            name: Some(resource.to_owned()),
        },
    )
}

async fn ids(store: &dyn Store, query: AuditQuery) -> Vec<String> {
    let query = AuditQuery {
        limit: if query.limit == 0 { 100 } else { query.limit },
        ..query
    };
    store
        .query_audit(&query)
        .await
        .unwrap_or_else(|error| panic!("query: {error}"))
        .into_iter()
        .map(|stored| stored.event.event_id)
        .collect()
}

pub async fn audit_events_append_and_filter_in_order(store: Arc<dyn Store>) {
    let events = [
        event("e1", 0, "GetSecretValue", "alice", "db", None),
        event(
            "e2",
            1_000,
            "PutSecretValue",
            "bob",
            "db",
            Some("AccessDeniedException"),
        ),
        event("e3", 2_000, "GetSecretValue", "bob", "api", None),
        event(
            "e4",
            3_000,
            "DeleteSecret",
            "alice",
            "api",
            Some("ResourceNotFoundException"),
        ),
    ];
    for event in &events {
        store.append_audit(event.clone());
    }
    store
        .flush_audit()
        .await
        .unwrap_or_else(|error| panic!("flush: {error}"));
    let all = store
        .query_audit(&AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap_or_else(|error| panic!("query: {error}"));
    let read: Vec<AuditEvent> = all.iter().map(|stored| stored.event.clone()).collect();
    assert_eq!(read, events, "events round-trip in order");
    assert!(
        all.windows(2)
            .all(|pair| pair[0].sequence < pair[1].sequence)
    );

    let by = |query: AuditQuery| ids(&*store, query);
    assert_eq!(
        by(AuditQuery {
            event_name: Some("GetSecretValue".into()),
            ..AuditQuery::default()
        })
        .await,
        ["e1", "e3"]
    );
    for user in ["bob", "arn:aws:iam::123456789012:user/bob", "AKIAbob"] {
        assert_eq!(
            by(AuditQuery {
                user: Some(user.into()),
                ..AuditQuery::default()
            })
            .await,
            ["e2", "e3"],
            "{user}"
        );
    }
    for resource in [
        "api",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCdEf",
    ] {
        assert_eq!(
            by(AuditQuery {
                resource: Some(resource.into()),
                ..AuditQuery::default()
            })
            .await,
            ["e3", "e4"],
            "{resource}"
        );
    }
    assert_eq!(
        by(AuditQuery {
            error_code: Some("AccessDeniedException".into()),
            ..AuditQuery::default()
        })
        .await,
        ["e2"]
    );
    assert_eq!(
        by(AuditQuery {
            since: Some(Timestamp::from_millis(T0.as_millis() + 1_000)),
            until: Some(Timestamp::from_millis(T0.as_millis() + 3_000)),
            ..AuditQuery::default()
        })
        .await,
        ["e2", "e3"]
    );
    let first_two = by(AuditQuery {
        limit: 2,
        ..AuditQuery::default()
    })
    .await;
    assert_eq!(first_two, ["e1", "e2"]);
    assert_eq!(
        by(AuditQuery {
            after: Some(all[1].sequence),
            ..AuditQuery::default()
        })
        .await,
        ["e3", "e4"]
    );
}

fn recorder(id: &str, name: &str) -> Arc<Recorder> {
    Recorder::new(Draft {
        request_id: format!("request-{id}"),
        event_id: id.to_owned(),
        time: T0,
        source: audit::SECRETS_MANAGER_SOURCE,
        event_name: name.to_owned(),
        region: Some("us-east-1".into()),
        source_ip: None,
        user_agent: None,
        caller: Caller::default(),
        request_parameters: Value::Null,
        recipient_account_id: "123456789012".into(),
    })
}

async fn trail(store: &dyn Store) -> Vec<StoredAuditEvent> {
    store
        .flush_audit()
        .await
        .unwrap_or_else(|error| panic!("flush: {error}"));
    store
        .query_audit(&AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap_or_else(|error| panic!("query: {error}"))
}

pub async fn a_change_commits_its_event_and_a_conflict_none(store: Arc<dyn Store>) {
    // A create inside a call carries the call's event, with what the change produced.
    let created = recorder("create", "CreateSecret");
    let before = created
        .run(create(
            &*store,
            &with_version(secret("us-east-1", "db"), "v1"),
        ))
        .await;
    assert!(
        created
            .unrecorded(Outcome::Success {
                response: Value::Null
            })
            .is_none(),
        "the write carried the event"
    );
    let events = trail(&*store).await;
    assert_eq!(events.len(), 1);
    let stored = &events[0].event;
    assert_eq!(stored.event_id, "create");
    assert_eq!(stored.resource_arn.as_deref(), Some(before.arn.as_str()));
    assert_eq!(stored.resource_name.as_deref(), Some("db"));
    assert_eq!(stored.error_code, None);
    let json: Value = serde_json::from_str(&stored.json).unwrap_or_default();
    assert_eq!(json["responseElements"]["arn"], before.arn.as_str());
    assert_eq!(json["responseElements"]["versionId"], "v1");

    // A save that loses the compare-and-swap inserts no event; the retry that wins inserts one.
    let mut winner = before.clone();
    winner.description = Some("first".into());
    save(&*store, &before, &winner, &[])
        .await
        .unwrap_or_else(|error| panic!("save: {error}"));
    let racing = recorder("update", "UpdateSecret");
    let mut stale = before.clone();
    stale.description = Some("stale".into());
    let v2 = value("second");
    let lost = racing
        .run(save(
            &*store,
            &before,
            &with_version(stale, "v2"),
            &[NewValue {
                version_id: "v2",
                value: &v2,
            }],
        ))
        .await;
    assert!(matches!(lost, Err(StoreError::Conflict)));
    assert_eq!(
        trail(&*store).await.len(),
        1,
        "a conflicting save inserts no event"
    );
    let fresh = store
        .load_by_arn(&before.arn)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("secret vanished"));
    let mut retried = fresh.clone();
    retried.description = Some("retried".into());
    racing
        .run(save(&*store, &fresh, &retried, &[]))
        .await
        .unwrap_or_else(|error| panic!("retry: {error}"));
    // A later write of the same call carries nothing more.
    let mut again = retried.clone();
    again.revision += 1;
    let mut twice = again.clone();
    twice.description = Some("twice".into());
    racing
        .run(save(&*store, &again, &twice, &[]))
        .await
        .unwrap_or_else(|error| panic!("second write: {error}"));
    let events = trail(&*store).await;
    let names: Vec<&str> = events.iter().map(|e| e.event.name.as_str()).collect();
    assert_eq!(
        names,
        ["CreateSecret", "UpdateSecret"],
        "one event per call"
    );

    // A write outside any call (a background job) carries no event.
    let mut job = twice.clone();
    job.revision += 1;
    let mut purged = job.clone();
    purged.description = Some("job".into());
    save(&*store, &job, &purged, &[])
        .await
        .unwrap_or_else(|error| panic!("job write: {error}"));
    assert_eq!(trail(&*store).await.len(), 2);
}
