//! The server-side API: handler at the server ETID, server subscriptions,
//! server publishes, trace events, shutdown.

use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::*;
use crate::broker::{ServerHandler, ServerMessage};

/// Answers every message to its publisher with sub-topic "Resp" and the same
/// payload upper-cased, and records what it saw.
struct Echo {
    seen: Mutex<Vec<ServerMessage>>,
}

impl ServerHandler for Echo {
    fn on_message(&self, broker: &Broker, msg: ServerMessage) {
        let resp = broker.createsub("Resp");
        broker.publish(
            Bytes::from(msg.payload.to_ascii_uppercase()),
            msg.ptid,
            resp,
        );
        self.seen.lock().expect("lock").push(msg);
    }
}

#[tokio::test]
async fn handler_at_server_etid_answers_the_publisher() {
    let b = TestBroker::default().await;
    let echo = Arc::new(Echo {
        seen: Mutex::new(Vec::new()),
    });
    b.broker.set_handler(echo.clone());
    let mut c = RawClient::connect(b.addr, "rpc-client").await;
    let req = b.broker.createsub("Req");
    c.send(&publish(1, c.etid, req, b"ping me")).await;
    let answer = c.recv().await;
    let resp = b
        .broker
        .subtopic2tid("Resp")
        .expect("created by the handler");
    assert_eq!(answer, publish(c.etid, 1, resp, b"PING ME"));
    let seen = echo.seen.lock().expect("lock").clone();
    assert_eq!(
        seen,
        vec![ServerMessage {
            tid: 1,
            ptid: c.etid,
            subtid: req,
            payload: Bytes::from_static(b"ping me"),
        }]
    );
    b.stop().await;
}

#[tokio::test]
async fn server_subscribed_topic_reaches_the_handler_and_clients() {
    let b = TestBroker::default().await;
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    b.broker
        .set_handler(Arc::new(move |_: &Broker, m: ServerMessage| {
            sink.lock().expect("lock").push(m.tid);
        }));
    let tid = b.broker.subscribe_server("Telemetry");
    let mut c = RawClient::connect(b.addr, "sensor-01").await;
    assert_eq!(c.subscribe("Telemetry").await, tid);
    let msg = publish(tid, c.etid, 0, b"21.5");
    c.send(&msg).await;
    assert_eq!(c.recv().await, msg);
    assert_eq!(*got.lock().expect("lock"), vec![tid]);
    b.stop().await;
}

#[tokio::test]
async fn server_publish_goes_to_subscribers_with_server_ptid() {
    let b = TestBroker::default().await;
    let mut c = RawClient::connect(b.addr, "listener").await;
    let tid = c.subscribe("News").await;
    assert_eq!(b.broker.publish(Bytes::from_static(b"hello"), tid, 0), 1);
    assert_eq!(c.recv().await, publish(tid, 1, 0, b"hello"));
    assert_eq!(
        b.broker.publish(Bytes::from_static(b"direct"), c.etid, 0),
        1
    );
    assert_eq!(c.recv().await, publish(c.etid, 1, 0, b"direct"));
    assert_eq!(
        b.broker.publish(
            Bytes::from(vec![0; crate::protocol::MAX_PAYLOAD + 1]),
            tid,
            0
        ),
        0,
        "oversized server publish is dropped"
    );
    assert_eq!(b.broker.stats().dropped, 1);
    b.stop().await;
}

#[tokio::test]
async fn handler_that_publishes_to_its_own_topic_stops_at_the_recursion_limit() {
    let b = TestBroker::default().await;
    let calls = Arc::new(Mutex::new(0u32));
    let count = calls.clone();
    let tid = b.broker.subscribe_server("Loop");
    b.broker
        .set_handler(Arc::new(move |broker: &Broker, m: ServerMessage| {
            *count.lock().expect("lock") += 1;
            broker.publish(m.payload, m.tid, 0);
        }));
    b.broker.publish(Bytes::from_static(b"again"), tid, 0);
    assert_eq!(
        *calls.lock().expect("lock"),
        21,
        "Mako: recCounter > 20 stops"
    );
    b.stop().await;
}

#[tokio::test]
async fn trace_events_cover_connect_publish_drop_and_close() {
    let b = TestBroker::default().await;
    let mut events = b.broker.events();
    let mut a = RawClient::connect(b.addr, "traced-01").await;
    let tid = a.subscribe("T").await;
    a.send(&publish(tid, a.etid, 0, b"seen")).await;
    a.recv().await;
    a.send(&publish(0x0bad_0bad, a.etid, 0, b"lost")).await;
    a.send(&publish(1, a.etid, 0, b"no handler")).await;
    a.send(&Packet::Disconnect {
        reason: Default::default(),
    })
    .await;
    a.expect_closed().await;
    let seen = events_until(&mut events, Kind::Close).await;
    let etid = a.etid;
    let from = |r: &Record| r.event.from.as_ref().map(|c| (c.etid, c.uid.clone()));
    let to = |r: &Record| r.event.to.as_ref().map(|d| (d.tid, d.name.clone()));
    let reason = |r: &Record| r.event.reason.clone();
    let kinds: Vec<Kind> = seen.iter().map(|r| r.event.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::Connect,
            Kind::Subscribe,
            Kind::Publish,
            Kind::Drop,
            Kind::Drop,
            Kind::Close
        ],
        "{seen:?}"
    );
    assert_eq!(from(&seen[0]), Some((etid, Some("traced-01".into()))));
    assert_eq!(to(&seen[1]), Some((tid, Some("T".into()))));
    assert_eq!(seen[2].event.receivers, Some(1));
    assert_eq!(seen[2].payload.as_deref(), Some(&b"seen"[..]));
    assert_eq!(to(&seen[3]).map(|t| t.0), Some(0x0bad_0bad));
    assert_eq!(reason(&seen[3]).as_deref(), Some("unknown tid"));
    assert_eq!(to(&seen[4]).map(|t| t.0), Some(1));
    assert_eq!(reason(&seen[4]).as_deref(), Some("server has no handler"));
    assert_eq!(from(&seen[5]).map(|f| f.0), Some(etid));
    b.stop().await;
}

#[tokio::test]
async fn broker_shutdown_sends_disconnect_to_every_client() {
    let b = TestBroker::default().await;
    let mut a = RawClient::connect(b.addr, "client-a").await;
    let mut w = WsClient::connect(b.addr, "client-w").await;
    let addr = b.addr;
    b.stop().await;
    assert_eq!(
        a.recv().await,
        Packet::Disconnect {
            reason: Bytes::from_static(b"broker shutting down")
        }
    );
    a.expect_closed().await;
    assert_eq!(
        w.recv().await,
        Packet::Disconnect {
            reason: Bytes::from_static(b"broker shutting down")
        }
    );
    w.expect_closed().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
}

#[tokio::test]
async fn shutdown_all_disconnects_clients_but_keeps_accepting() {
    let b = TestBroker::default().await;
    let mut a = RawClient::connect(b.addr, "client-a").await;
    b.broker.shutdown_all("maintenance");
    assert_eq!(
        a.recv().await,
        Packet::Disconnect {
            reason: Bytes::from_static(b"maintenance")
        }
    );
    a.expect_closed().await;
    assert!(b.broker.peers().is_empty());
    let _again = RawClient::connect(b.addr, "client-a").await;
    b.stop().await;
}

/// Handles only the sub-topic it was made for, like a Mako app that registered
/// `subscribe("self", {subtopic="Known"})` and no global `onmsg`.
struct OnlyKnown {
    known: u32,
    calls: Mutex<u32>,
}

impl ServerHandler for OnlyKnown {
    fn handles(&self, subtid: u32) -> bool {
        subtid == self.known
    }
    fn on_message(&self, _: &Broker, _: ServerMessage) {
        *self.calls.lock().expect("lock") += 1;
    }
}

#[tokio::test]
async fn a_request_no_server_handler_takes_is_a_drop() {
    let b = TestBroker::default().await;
    let known = b.broker.createsub("KnownReq");
    let unknown = b.broker.createsub("FirmwareUpdateReq");
    let h = Arc::new(OnlyKnown {
        known,
        calls: Mutex::new(0),
    });
    b.broker.set_handler(h.clone());
    let mut events = b.broker.events();
    let mut a = RawClient::connect(b.addr, "asks-01").await;
    a.send(&publish(1, a.etid, known, b"{}")).await;
    a.send(&publish(1, a.etid, unknown, b"{}")).await;
    a.send(&Packet::Disconnect {
        reason: Default::default(),
    })
    .await;
    a.expect_closed().await;
    let seen = events_until(&mut events, Kind::Close).await;
    assert!(
        seen.iter().any(|r| r.event.kind == Kind::Publish
            && r.event.subtid == Some(known)
            && r.event.receivers == Some(1)),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|r| r.event.kind == Kind::Drop
            && r.event.subtid == Some(unknown)
            && r.event.reason.as_deref() == Some("server has no handler")),
        "{seen:?}"
    );
    assert_eq!(
        *h.calls.lock().expect("lock"),
        1,
        "only the known request reached it"
    );
    b.stop().await;
}

/// A message assembled from PubFrag fragments reaches the server handler
/// whole, not as its last fragment.
#[tokio::test]
async fn handler_gets_the_whole_payload_of_an_assembled_pubfrag() {
    let b = TestBroker::default().await;
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    b.broker
        .set_handler(Arc::new(move |_: &Broker, m: ServerMessage| {
            sink.lock().expect("lock").push(m.payload);
        }));
    let tid = b.broker.subscribe_server("Assembled");
    let mut c = RawClient::connect(b.addr, "fragmenter").await;
    let frag = |tid: u32, ptid: u32, payload: &'static [u8]| {
        crate::protocol::framing::encode_raw(&Packet::PubFrag(Publish {
            tid,
            ptid,
            subtid: 0,
            payload: Bytes::from_static(payload),
        }))
        .expect("fits")
    };
    c.write(&frag(0, 0, b"first-")).await;
    c.write(&frag(tid, c.etid, b"last")).await;
    c.fence().await;
    assert_eq!(
        *got.lock().expect("lock"),
        vec![Bytes::from_static(b"first-last")]
    );
    b.stop().await;
}

/// Once the broker has shut down it registers nobody: a Connect arriving
/// after the shutdown (here fed without sockets, so no race decides it) is
/// not accepted.
#[tokio::test]
async fn connect_after_shutdown_is_not_registered() {
    let b = TestBroker::default().await;
    let broker = b.broker.clone();
    b.stop().await;
    let mut late = crate::broker::Offline::new(&broker);
    let i = late.add_client(true);
    let connect =
        crate::protocol::framing::encode_raw(&connect_packet("late-client")).expect("fits");
    late.feed(i, &connect);
    assert!(!late.is_live(i), "registered after shutdown");
    assert_eq!(broker.stats().connections, 0);
}

/// Tasks alive in this test's runtime.
fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

#[tokio::test]
async fn writer_stuck_on_a_client_that_reads_nothing_ends_with_its_session() {
    let b = TestBroker::default().await;
    let before = alive_tasks();
    let mut slow = RawClient::connect(b.addr, "reads-nothing").await;
    let tid = slow.subscribe("Bulk").await;
    // Fill its socket and then its queue: the writer task blocks in a write.
    let big = Bytes::from(vec![b'x'; 60_000]);
    let mut sent = 0;
    while b.broker.stats().queue_full == 0 {
        assert!(sent < 10_000, "the queue never filled");
        b.broker.publish(big.clone(), tid, 0);
        sent += 1;
        tokio::task::yield_now().await;
    }
    assert!(alive_tasks() > before, "session and writer run");
    b.broker.shutdown_all("maintenance");
    // The session waits 2 s (CLOSE_GRACE) for its writer, then ends, and its
    // writer with it, though the client still holds the connection open.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while alive_tasks() > before {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(ended.is_ok(), "a writer task outlived its session");
    assert!(b.broker.peers().is_empty());
    drop(slow);
    b.stop().await;
}

#[tokio::test]
async fn message_to_a_topic_only_the_server_subscribed_is_delivered_not_dropped() {
    let b = TestBroker::default().await;
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    b.broker
        .set_handler(Arc::new(move |_: &Broker, m: ServerMessage| {
            sink.lock().expect("lock").push(m.payload);
        }));
    let tid = b.broker.subscribe_server("Telemetry");
    let mut events = b.broker.events();
    let mut c = RawClient::connect(b.addr, "sensor-02").await;
    c.send(&publish(tid, c.etid, 0, b"21.5")).await;
    let routed = loop {
        let rec = within("publish event", events.recv())
            .await
            .expect("events");
        if matches!(rec.event.kind, Kind::Publish | Kind::Drop) {
            break rec;
        }
    };
    assert_eq!(
        (routed.event.kind, routed.event.receivers),
        (Kind::Publish, Some(1)),
        "{routed:?}"
    );
    assert_eq!(
        *got.lock().expect("lock"),
        vec![Bytes::from_static(b"21.5")]
    );
    let stats = b.broker.stats();
    assert_eq!((stats.published, stats.delivered, stats.dropped), (1, 1, 0));
    b.stop().await;
}

#[tokio::test]
async fn event_of_a_server_publish_says_it_came_from_the_server() {
    let b = TestBroker::default().await;
    let mut c = RawClient::connect(b.addr, "listener-02").await;
    let tid = c.subscribe("News").await;
    let mut events = b.broker.events();
    assert_eq!(b.broker.publish(Bytes::from_static(b"hello"), tid, 0), 1);
    let seen = events_until(&mut events, Kind::Publish).await;
    let from = seen.last().and_then(|r| r.event.from.clone());
    assert_eq!(
        from.map(|f| (f.etid, f.server, f.uid)),
        Some((b.broker.server_etid(), true, None)),
        "{seen:?}"
    );
    b.stop().await;
}

#[tokio::test]
async fn close_event_keeps_the_reason_a_client_gave_in_its_disconnect() {
    let b = TestBroker::default().await;
    let mut events = b.broker.events();
    for (uid, reason, want) in [
        ("leaves-quietly", "", "client sent Disconnect"),
        (
            "leaves-saying",
            "going home",
            "client sent Disconnect \"going home\"",
        ),
    ] {
        let mut c = RawClient::connect(b.addr, uid).await;
        c.send(&Packet::Disconnect {
            reason: Bytes::copy_from_slice(reason.as_bytes()),
        })
        .await;
        c.expect_closed().await;
        let seen = events_until(&mut events, Kind::Close).await;
        let close = seen.last().expect("close event");
        assert_eq!(close.event.reason.as_deref(), Some(want), "{seen:?}");
    }
    b.stop().await;
}
