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
