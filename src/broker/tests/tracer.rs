//! What an attached tracer (a client that asked on `$smqctl.trace.attach`)
//! receives over its own connection: the events of other clients' decisions,
//! never those of the tracing machinery itself.

use super::log::{acked, attach, name};
use super::*;
use crate::trace::schema;

/// Reads the tracer's trace messages until an event of `kind` arrives; returns
/// every event read (as JSON), that one last.
async fn trace_until(tracer: &mut RawClient, kind: &str) -> Vec<serde_json::Value> {
    let mut seen = Vec::new();
    loop {
        if let Packet::Publish(m) = tracer.recv().await {
            let ev: serde_json::Value = serde_json::from_slice(&m.payload).expect("event json");
            let done = ev["kind"] == kind;
            seen.push(ev);
            if done {
                return seen;
            }
        }
    }
}

#[tokio::test]
async fn tracer_gets_a_clients_createsub_but_not_the_tracing_machinerys_own() {
    let b = TestBroker::default().await;
    let mut tracer = RawClient::connect(b.addr, "tracer-01").await;
    attach(&mut tracer).await;
    // A reserved sub-topic created after attaching: only the log shows it.
    acked(
        &mut tracer,
        Packet::Createsub {
            subtopic: name(schema::SUB_DETACH),
        },
    )
    .await;
    let mut c = RawClient::connect(b.addr, "asker-01").await;
    let sub = acked(
        &mut c,
        Packet::Createsub {
            subtopic: name("SetCharger"),
        },
    )
    .await;
    let seen = trace_until(&mut tracer, "createsub").await;
    let last = seen.last().expect("the createsub event");
    assert_eq!(last["subtopic"], "SetCharger", "{seen:?}");
    assert_eq!(last["subtid"], sub.tid, "{seen:?}");
    assert_eq!(last["from"]["uid"], "asker-01", "{seen:?}");
    // (The snapshot came before `attach` returned.) Nothing of the tracer's
    // own `$smqctl.trace.detach` sub-topic in between.
    let kinds: Vec<&str> = seen.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["connect", "createsub"], "{seen:?}");
    b.stop().await;
}

/// Attaches `c` as a tracer and returns the snapshot event it gets first.
async fn attach_for_snapshot(c: &mut RawClient) -> serde_json::Value {
    acked(
        c,
        Packet::Createsub {
            subtopic: name(schema::SUB_EVENTS),
        },
    )
    .await;
    let sub = acked(
        c,
        Packet::Createsub {
            subtopic: name(schema::SUB_ATTACH),
        },
    )
    .await;
    c.send(&publish(1, c.etid, sub.tid, br#"{"v":1,"preview":64}"#))
        .await;
    trace_until(c, "snapshot").await.pop().expect("snapshot")
}

fn listed(snap: &serde_json::Value, list: &str) -> usize {
    snap["snapshot"][list].as_array().map_or(0, |a| a.len())
}

#[tokio::test]
async fn snapshot_too_large_for_one_message_halves_every_list_until_it_fits() {
    const TOPICS: usize = 4096;
    const SUBTOPICS: usize = 2048;
    const CLIENTS: usize = 16;
    let b = TestBroker::default().await;
    for i in 0..TOPICS {
        b.broker
            .create(&format!("topic/with/a/rather/long/name/{i:05}"));
    }
    for i in 0..SUBTOPICS {
        b.broker
            .createsub(&format!("subtopic/with/a/long/name/{i:05}"));
    }
    let mut others = Vec::new();
    for i in 1..CLIENTS {
        others.push(RawClient::connect(b.addr, &format!("client-{i:02}")).await);
    }
    let mut tracer = RawClient::connect(b.addr, "tracer-00").await;
    let snap = attach_for_snapshot(&mut tracer).await;
    let (t, s, c) = (
        listed(&snap, "topics"),
        listed(&snap, "subtopics"),
        listed(&snap, "clients"),
    );
    // Cut k times: each list is its total halved k times (4096 topics of
    // about 80 bytes need 3 or 4 halvings to fit in 0xFFF0 bytes).
    assert!(t > 1 && TOPICS.is_multiple_of(t), "{t} topics kept");
    let k = (TOPICS / t).trailing_zeros();
    assert!((1..=5).contains(&k), "{t} topics kept");
    assert_eq!((s, c), (SUBTOPICS >> k, CLIENTS >> k), "cut {k} times");
    assert_eq!(
        snap["reason"],
        format!(
            "snapshot cut to fit one message: {t} of {TOPICS} topics, {s} of {SUBTOPICS} sub-topics, {c} of {CLIENTS} clients"
        )
    );
    drop(others);
    b.stop().await;
}

#[tokio::test]
async fn snapshot_of_only_sub_topics_is_cut_too_when_the_other_lists_run_empty() {
    const SUBTOPICS: usize = 4096;
    let b = TestBroker::default().await;
    for i in 0..SUBTOPICS {
        b.broker
            .createsub(&format!("subtopic/with/a/long/name/{i:05}"));
    }
    // No topics, one client (the tracer, gone after the first cut).
    let mut tracer = RawClient::connect(b.addr, "tracer-00").await;
    let snap = attach_for_snapshot(&mut tracer).await;
    let s = listed(&snap, "subtopics");
    assert!(
        s > 1 && s < SUBTOPICS && SUBTOPICS.is_multiple_of(s),
        "{s} kept"
    );
    assert_eq!((listed(&snap, "topics"), listed(&snap, "clients")), (0, 0));
    b.stop().await;
}
