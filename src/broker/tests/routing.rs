//! Publish routing, subscriptions, malformed input, takeover, fragments,
//! slow consumers.

use bytes::Bytes;

use super::*;
use crate::protocol::framing::encode_raw;
use crate::protocol::{Ack, Change, MAX_PAYLOAD};

#[tokio::test]
async fn topic_publish_reaches_every_subscriber_including_the_publisher_unchanged() {
    let b = TestBroker::default().await;
    let mut a = RawClient::connect(b.addr, "client-a").await;
    let mut p = RawClient::connect(b.addr, "client-p").await;
    let mut w = WsClient::connect(b.addr, "client-w").await;
    let tid = a.subscribe("DeviceState").await;
    assert_eq!(p.subscribe("DeviceState").await, tid);
    w.send(&Packet::Subscribe {
        topic: Bytes::from_static(b"DeviceState"),
    })
    .await;
    assert!(matches!(w.recv().await, Packet::Suback(ack) if ack.tid == tid));

    let msg = publish(tid, p.etid, 0x56e21f5f, br#"{"On":true}"#);
    let frame = encode_raw(&msg).expect("fits");
    p.write(&frame).await;
    assert_eq!(
        a.recv_frame().await,
        frame,
        "raw subscriber gets the frame unchanged"
    );
    assert_eq!(
        p.recv_frame().await,
        frame,
        "the publisher is a subscriber too"
    );
    assert_eq!(w.recv_body().await, frame.slice(2..), "ws gets the body");
    b.stop().await;
}

#[tokio::test]
async fn websocket_publisher_reaches_raw_subscriber() {
    let b = TestBroker::default().await;
    let mut a = RawClient::connect(b.addr, "client-a").await;
    let mut w = WsClient::connect(b.addr, "client-w").await;
    let tid = a.subscribe("T").await;
    let msg = publish(tid, w.etid, 0, b"from ws");
    w.send(&msg).await;
    assert_eq!(a.recv_frame().await, encode_raw(&msg).expect("fits"));
    b.stop().await;
}

#[tokio::test]
async fn publish_to_an_etid_reaches_only_that_client() {
    let b = TestBroker::default().await;
    let mut a = RawClient::connect(b.addr, "client-a").await;
    let mut c = RawClient::connect(b.addr, "client-c").await;
    let mut sender = RawClient::connect(b.addr, "client-b").await;
    let msg = publish(a.etid, sender.etid, 0, b"direct hello");
    sender.send(&msg).await;
    assert_eq!(a.recv().await, msg);
    assert!(c.fence().await.is_empty());
    assert!(sender.fence().await.is_empty());
    b.stop().await;
}

#[tokio::test]
async fn forged_publisher_etid_gets_corrupt_frame_and_only_that_client_closes() {
    let b = TestBroker::default().await;
    let mut other = RawClient::connect(b.addr, "bystander").await;
    let tid = other.subscribe("T").await;
    let mut c = RawClient::connect(b.addr, "capture-C").await;
    c.send(&publish(tid, c.etid.wrapping_add(1), 0, b"forged"))
        .await;
    // Disconnect "corrupt frame", byte for byte as Mako sends it.
    assert_eq!(
        c.recv_frame().await.to_vec(),
        hex("00 10 0b 63 6f 72 72 75 70 74 20 66 72 61 6d 65")
    );
    c.expect_closed().await;
    assert!(
        other.fence().await.is_empty(),
        "the forged message was not routed"
    );
    let mut pubr = RawClient::connect(b.addr, "publisher").await;
    let ok = publish(tid, pubr.etid, 0, b"fine");
    pubr.send(&ok).await;
    assert_eq!(other.recv().await, ok);
    b.stop().await;
}

#[tokio::test]
async fn reserved_type_10_closes_without_an_answer_and_says_why_in_the_trace() {
    let b = TestBroker::default().await;
    let mut d = RawClient::connect(b.addr, "capture-D").await;
    let mut events = b.broker.events();
    d.write(&hex("00 03 0a")).await;
    d.expect_closed().await;
    let seen = events_until(&mut events, Kind::Close).await;
    assert_eq!(
        seen.last().and_then(|r| r.event.reason.as_deref()),
        Some("unknown packet type 10"),
        "{seen:?}"
    );
    b.stop().await;
}

#[tokio::test]
async fn ping_is_answered_with_pong_and_pong_is_ignored() {
    let b = TestBroker::default().await;
    let mut a = RawClient::connect(b.addr, "client-a").await;
    a.write(&hex("00 03 0d 00 03 0c")).await; // Pong, then Ping
    assert_eq!(a.recv_frame().await.to_vec(), hex("00 03 0d"));
    assert!(a.fence().await.is_empty());
    b.stop().await;
}

#[tokio::test]
async fn truncated_or_unexpected_packet_of_any_type_closes_only_that_connection() {
    let b = TestBroker::default().await;
    let mut bystander = RawClient::connect(b.addr, "bystander").await;
    // Every type byte, followed by two bytes: too short for Publish, PubFrag,
    // Unsubscribe, Observe, Unobserve; not allowed from a client for the rest.
    // (Subscribe/Create/Createsub accept any name; Ping/Pong take no body.)
    for t in (0u8..=20).chain([255]) {
        if matches!(t, 4 | 6 | 12 | 13 | 17) {
            continue;
        }
        let mut c = RawClient::connect(b.addr, &format!("victim-{t}")).await;
        c.write(&[0, 5, t, 0, 0]).await;
        c.expect_closed().await;
        assert_eq!(bystander.fence().await, vec![], "type {t}");
    }
    assert_eq!(b.broker.peers().len(), 1);
    b.stop().await;
}

#[tokio::test]
async fn impossible_raw_length_closes() {
    let b = TestBroker::default().await;
    let mut c = RawClient::connect(b.addr, "client-x").await;
    c.write(&hex("00 02")).await;
    c.expect_closed().await;
    b.stop().await;
}

#[tokio::test]
async fn second_connect_closes() {
    let b = TestBroker::default().await;
    let mut c = RawClient::connect(b.addr, "client-x").await;
    c.send(&connect_packet("client-x")).await;
    c.expect_closed().await;
    b.stop().await;
}

#[tokio::test]
async fn client_disconnect_closes_cleanly() {
    let b = TestBroker::default().await;
    let mut g = RawClient::connect(b.addr, "capture-G").await;
    g.write(&hex("00 06 0b 62 79 65")).await; // Disconnect "bye"
    g.expect_closed().await;
    b.stop().await;
}

#[tokio::test]
async fn duplicate_subscribe_is_acked_again_without_a_second_change() {
    let b = TestBroker::default().await;
    let mut a = RawClient::connect(b.addr, "client-a").await;
    let mut o = RawClient::connect(b.addr, "observer").await;
    let tid = b.broker.create("DeviceState");
    o.send(&Packet::Observe { tid }).await;
    assert_eq!(
        o.fence().await,
        vec![Packet::Change(Change { tid, count: 0 })]
    );
    assert_eq!(a.subscribe("DeviceState").await, tid);
    assert_eq!(a.subscribe("DeviceState").await, tid);
    assert_eq!(
        o.fence().await,
        vec![Packet::Change(Change { tid, count: 1 })]
    );
    b.stop().await;
}

#[tokio::test]
async fn create_and_createsub_answer_with_ids_and_echoed_names() {
    let b = TestBroker::default().await;
    let mut a = RawClient::connect(b.addr, "client-a").await;
    a.send(&Packet::Create {
        topic: Bytes::from_static(b"DeviceState"),
    })
    .await;
    a.send(&Packet::Createsub {
        subtopic: Bytes::from_static(b"SetCharger"),
    })
    .await;
    a.send(&Packet::Createsub {
        subtopic: Bytes::from_static(b"SetCharger"),
    })
    .await;
    let acks = a.fence().await;
    let tid = b.broker.topic2tid("DeviceState").expect("created");
    let stid = b.broker.subtopic2tid("SetCharger").expect("created");
    let ack = |tid, name: &'static [u8]| Ack {
        status: 0,
        tid,
        name: Bytes::from_static(name),
    };
    assert_eq!(
        acks,
        vec![
            Packet::Createack(ack(tid, b"DeviceState")),
            Packet::Createsuback(ack(stid, b"SetCharger")),
            Packet::Createsuback(ack(stid, b"SetCharger")),
        ]
    );
    assert_eq!(b.broker.tid2topic(tid).as_deref(), Some("DeviceState"));
    assert_eq!(b.broker.tid2subtopic(stid).as_deref(), Some("SetCharger"));
    assert_eq!(b.broker.tid2topic(a.etid), None, "ETIDs have no topic name");
    b.stop().await;
}

#[tokio::test]
async fn unsubscribed_client_no_longer_receives() {
    let b = TestBroker::default().await;
    let mut a = RawClient::connect(b.addr, "client-a").await;
    let mut p = RawClient::connect(b.addr, "client-p").await;
    let tid = a.subscribe("T").await;
    a.send(&Packet::Unsubscribe { tid }).await;
    assert!(a.fence().await.is_empty(), "Unsubscribe has no answer");
    let mut events = b.broker.events();
    p.send(&publish(tid, p.etid, 0, b"x")).await;
    let seen = events_until(&mut events, Kind::Drop).await;
    assert_eq!(
        seen.last().and_then(|r| r.event.reason.as_deref()),
        Some("no subscribers")
    );
    assert!(a.fence().await.is_empty());
    b.stop().await;
}

#[tokio::test]
async fn same_uid_takes_over_the_etid_and_old_connection_gets_reconnect() {
    let b = TestBroker::default().await;
    let mut e = RawClient::connect(b.addr, "capture-E").await;
    let tid = e.subscribe("T").await;
    let mut o = RawClient::connect(b.addr, "observer").await;
    o.send(&Packet::Observe { tid: e.etid }).await;
    o.send(&Packet::Observe { tid }).await;
    assert_eq!(
        o.fence().await,
        vec![Packet::Change(Change { tid, count: 1 })]
    );

    let e2 = RawClient::connect(b.addr, "capture-E").await;
    assert_eq!(e2.etid, e.etid, "takeover keeps the ETID");
    // Transcript: Disconnect "reconnect" to the old connection, then close.
    assert_eq!(
        e.recv_frame().await.to_vec(),
        hex("00 0c 0b 72 65 63 6f 6e 6e 65 63 74")
    );
    e.expect_closed().await;
    // The old connection's subscription is gone and its observers were told.
    let changes = o.fence().await;
    assert!(
        changes.contains(&Packet::Change(Change { tid, count: 0 })),
        "{changes:?}"
    );
    assert!(
        changes.contains(&Packet::Change(Change {
            tid: e.etid,
            count: 0
        })),
        "{changes:?}"
    );
    assert_eq!(b.broker.etid2peer(e2.etid).map(|p| p.topics), Some(vec![]));
    assert_eq!(b.broker.peers().len(), 2);
    b.stop().await;
}

#[tokio::test]
async fn new_connection_after_takeover_receives_direct_messages() {
    let b = TestBroker::default().await;
    let mut old = RawClient::connect(b.addr, "same-uid").await;
    let mut new = RawClient::connect(b.addr, "same-uid").await;
    old.recv().await; // Disconnect "reconnect"
    old.expect_closed().await;
    let mut s = RawClient::connect(b.addr, "sender").await;
    let msg = publish(new.etid, s.etid, 0, b"to the new one");
    s.send(&msg).await;
    assert_eq!(new.recv().await, msg);
    b.stop().await;
}

#[tokio::test]
async fn pubfrag_from_transcript_is_assembled_into_one_publish() {
    let b = TestBroker::default().await;
    let mut h = RawClient::connect(b.addr, "capture-H").await;
    let tid = h.subscribe("FragTopic").await;
    let mut last = hex("00 12 13 44 de 20 5a 94 d8 f3 06 00 00 00 00 65 6e 64");
    last[3..7].copy_from_slice(&tid.to_be_bytes());
    last[7..11].copy_from_slice(&h.etid.to_be_bytes());
    h.write(&hex(
        "00 15 13 00 00 00 00 00 00 00 00 00 00 00 00 70 61 72 74 31 2d",
    ))
    .await;
    h.write(&hex(
        "00 15 13 00 00 00 00 00 00 00 00 00 00 00 00 70 61 72 74 32 2d",
    ))
    .await;
    h.write(&last).await;
    let mut expected = hex(
        "00 1e 08 44 de 20 5a 94 d8 f3 06 00 00 00 00 70 61 72 74 31 2d 70 61 72 74 32 2d 65 6e 64",
    );
    expected[3..7].copy_from_slice(&tid.to_be_bytes());
    expected[7..11].copy_from_slice(&h.etid.to_be_bytes());
    assert_eq!(h.recv_frame().await.to_vec(), expected);
    b.stop().await;
}

#[tokio::test]
async fn assembled_pubfrag_with_forged_ptid_is_a_corrupt_frame() {
    let b = TestBroker::default().await;
    let mut h = RawClient::connect(b.addr, "frag-forger").await;
    let tid = b.broker.create("T");
    let frag = |tid: u32, ptid: u32| {
        encode_raw(&Packet::PubFrag(Publish {
            tid,
            ptid,
            subtid: 0,
            payload: Bytes::from_static(b"chunk"),
        }))
        .expect("fits")
    };
    h.write(&frag(0, 0)).await;
    h.write(&frag(tid, h.etid ^ 1)).await;
    assert_eq!(
        h.recv().await,
        Packet::Disconnect {
            reason: Bytes::from_static(b"corrupt frame")
        }
    );
    h.expect_closed().await;
    b.stop().await;
}

#[tokio::test]
async fn pubfrag_on_websocket_closes() {
    let b = TestBroker::default().await;
    let mut w = WsClient::connect(b.addr, "ws-frag").await;
    w.send_bytes(Bytes::from(hex(
        "13 00 00 00 00 00 00 00 00 00 00 00 00 61",
    )))
    .await;
    w.expect_closed().await;
    b.stop().await;
}

#[tokio::test]
async fn text_websocket_message_closes() {
    let b = TestBroker::default().await;
    let mut w = WsClient::connect(b.addr, "ws-text").await;
    within("send", w.ws.send(Message::Text("hello".into())))
        .await
        .expect("send");
    w.expect_closed().await;
    b.stop().await;
}

fn fragment(tid: u32, ptid: u32, len: usize) -> Bytes {
    encode_raw(&Packet::PubFrag(Publish {
        tid,
        ptid,
        subtid: 0,
        payload: Bytes::from(vec![b'x'; len]),
    }))
    .expect("fits")
}

#[tokio::test]
async fn pubfrag_total_above_limit_during_assembly_closes() {
    let b = TestBroker::default().await;
    let mut h = RawClient::connect(b.addr, "frag-big").await;
    h.write(&fragment(0, 0, 40_000)).await;
    h.write(&fragment(0, 0, 40_000)).await;
    h.expect_closed().await;
    b.stop().await;
}

#[tokio::test]
async fn pubfrag_just_above_limit_at_the_end_is_dropped_and_connection_stays() {
    let b = TestBroker::default().await;
    let mut h = RawClient::connect(b.addr, "frag-edge").await;
    let tid = h.subscribe("T").await;
    let mut events = b.broker.events();
    // 0xFFF0 payload bytes pass the running check, but Mako's final check
    // counts the type byte and header too.
    h.write(&fragment(0, 0, 30_000)).await;
    h.write(&fragment(tid, h.etid, MAX_PAYLOAD - 30_000)).await;
    let seen = events_until(&mut events, Kind::Drop).await;
    assert!(
        seen.last()
            .and_then(|r| r.event.reason.as_deref())
            .is_some_and(|why| why.contains("PubFrag")),
        "{seen:?}"
    );
    assert!(
        h.fence().await.is_empty(),
        "nothing delivered, still connected"
    );
    b.stop().await;
}

#[tokio::test]
async fn slow_subscriber_loses_messages_but_never_slows_others() {
    let b = TestBroker::default().await;
    let mut slow = RawClient::connect(b.addr, "slow-reader").await;
    let mut fast = RawClient::connect(b.addr, "fast-reader").await;
    let mut p = RawClient::connect(b.addr, "publisher").await;
    let tid = slow.subscribe("Flood").await;
    fast.subscribe("Flood").await;
    let msg = encode_raw(&Packet::Publish(Publish {
        tid,
        ptid: p.etid,
        subtid: 0,
        payload: Bytes::from(vec![7u8; 8000]),
    }))
    .expect("fits");
    let batch: Vec<u8> = msg.iter().copied().cycle().take(msg.len() * 100).collect();
    // 80 rounds of 100 messages: 64 MB, far more than socket buffers and the
    // slow reader's queue (8 MiB) hold. The fast reader keeps up; the slow
    // one never reads.
    for _ in 0..80 {
        p.write(&batch).await;
        for _ in 0..100 {
            assert_eq!(fast.recv_frame().await, msg);
        }
    }
    let dropped = b
        .broker
        .etid2peer(slow.etid)
        .expect("still connected")
        .dropped;
    assert!(dropped > 0, "the slow reader's queue overflowed");
    assert_eq!(b.broker.etid2peer(fast.etid).map(|p| p.dropped), Some(0));
    assert_eq!(b.broker.stats().queue_full, dropped);
    drop(slow); // its writer is stuck on a full socket; let it fail at once
    b.stop().await;
}

/// `--deny-topic`: an exact name or a `prefix*` refuses Subscribe and Create
/// with status 1, TID 0 and the name echoed (Mako's `permittop`); names that
/// only resemble a pattern are accepted as usual.
#[tokio::test]
async fn denied_topic_gets_status_1_and_tid_0_and_lookalike_names_are_accepted() {
    let b = TestBroker::start(BrokerConfig {
        deny_topics: vec!["secret".into(), "admin/*".into()],
        ..BrokerConfig::default()
    })
    .await;
    let mut c = RawClient::connect(b.addr, "deny-client").await;
    for (name, subscribe) in [
        ("secret", true),
        ("secret", false),
        ("admin/x", true),
        ("admin/", false),
    ] {
        let topic = Bytes::copy_from_slice(name.as_bytes());
        c.send(&if subscribe {
            Packet::Subscribe { topic }
        } else {
            Packet::Create { topic }
        })
        .await;
        let ack = match c.recv().await {
            Packet::Suback(a) if subscribe => a,
            Packet::Createack(a) if !subscribe => a,
            other => panic!("{name} (subscribe {subscribe}): got {other:?}"),
        };
        assert_eq!(
            (ack.status, ack.tid, &ack.name[..]),
            (1, 0, name.as_bytes()),
            "{name} (subscribe {subscribe})"
        );
    }
    for name in ["secret2", "secre", "admin", "xadmin/x"] {
        let tid = c.subscribe(name).await; // asserts status 0 and the name
        assert_ne!(tid, 0, "{name}");
    }
    b.stop().await;
}

/// `Broker::stats()`: clients and topics now, connections ever (a takeover
/// counts as a new connection), publishes routed, copies delivered and
/// publishes nobody got.
#[tokio::test]
async fn broker_stats_count_connections_topics_and_what_was_routed() {
    let b = TestBroker::default().await;
    let mut a = RawClient::connect(b.addr, "stats-a").await;
    let mut p = RawClient::connect(b.addr, "stats-p").await;
    let mut old = RawClient::connect(b.addr, "stats-x").await;
    let _new = RawClient::connect(b.addr, "stats-x").await;
    old.recv().await; // Disconnect "reconnect"
    old.expect_closed().await;
    let tid = a.subscribe("Counted").await;
    assert_eq!(p.subscribe("Counted").await, tid);
    p.send(&Packet::Create {
        topic: Bytes::from_static(b"Nobody"),
    })
    .await;
    let empty = match p.recv().await {
        Packet::Createack(ack) if ack.status == 0 => ack.tid,
        other => panic!("expected Createack, got {other:?}"),
    };
    let to_two = publish(tid, p.etid, 0, b"to two");
    p.send(&to_two).await;
    p.send(&publish(empty, p.etid, 0, b"to nobody")).await;
    assert_eq!(p.fence().await, vec![to_two.clone()]);
    assert_eq!(a.recv().await, to_two);
    assert_eq!(
        b.broker.stats(),
        crate::broker::BrokerStats {
            connections: 3,
            topics: 2,
            connections_total: 4,
            published: 2,
            delivered: 2,
            dropped: 1,
            queue_full: 0,
            drops: crate::broker::Drops {
                no_receiver: 1,
                ..Default::default()
            },
            tracers: 0,
        }
    );
    b.stop().await;
}

/// A client that left is forgotten: its UID connecting again is a new client
/// with a new ETID, not the old one brought back.
#[tokio::test]
async fn uid_that_disconnected_gets_a_new_etid_when_it_connects_again() {
    let b = TestBroker::default().await;
    let mut first = RawClient::connect(b.addr, "comes-back").await;
    first
        .send(&Packet::Disconnect {
            reason: Bytes::new(),
        })
        .await;
    first.expect_closed().await;
    let second = RawClient::connect(b.addr, "comes-back").await;
    assert_ne!(second.etid, first.etid, "the old ETID came back");
    assert!(b.broker.etid2peer(first.etid).is_none());
    assert_eq!(
        b.broker.etid2peer(second.etid).map(|p| p.uid),
        Some("comes-back".to_string())
    );
    b.stop().await;
}

/// Fragments that add up to the largest body (type byte and header
/// included) are delivered: the limit is inclusive, as Mako's.
#[tokio::test]
async fn pubfrag_adding_up_to_exactly_the_largest_body_is_delivered() {
    let b = TestBroker::default().await;
    let mut h = RawClient::connect(b.addr, "frag-exact").await;
    let tid = h.subscribe("T").await;
    let total = MAX_PAYLOAD - 13;
    h.write(&fragment(0, 0, 30_000)).await;
    h.write(&fragment(tid, h.etid, total - 30_000)).await;
    match h.recv().await {
        Packet::Publish(p) => {
            assert_eq!((p.tid, p.ptid, p.payload.len()), (tid, h.etid, total));
        }
        other => panic!("expected the assembled Publish, got {other:?}"),
    }
    b.stop().await;
}

/// Createsub: the sub-topic's ID with the name echoed; the same name gets the
/// same ID, another name another one.
#[tokio::test]
async fn createsub_answers_the_subtopic_id_and_the_same_id_for_the_same_name() {
    let b = TestBroker::default().await;
    let mut c = RawClient::connect(b.addr, "createsub-client").await;
    let mut ids = Vec::new();
    for name in ["Reply", "Other", "Reply"] {
        c.send(&Packet::Createsub {
            subtopic: Bytes::from_static(name.as_bytes()),
        })
        .await;
        match c.recv().await {
            Packet::Createsuback(a) => {
                assert_eq!((a.status, &a.name[..]), (0, name.as_bytes()));
                assert_ne!(a.tid, 0, "{name}");
                ids.push(a.tid);
            }
            other => panic!("expected Createsuback for {name}, got {other:?}"),
        }
    }
    assert_eq!(ids[0], ids[2], "same name, same ID");
    assert_ne!(ids[0], ids[1], "another name, another ID");
    assert_eq!(b.broker.subtopic2tid("Reply"), Some(ids[0]));
    b.stop().await;
}

/// A raw client that closes its TCP connection is removed at once: whoever
/// observes its ETID hears count 0.
#[tokio::test]
async fn raw_client_that_closes_its_connection_is_removed_and_observers_told() {
    let b = TestBroker::default().await;
    let mut watcher = RawClient::connect(b.addr, "watcher-raw").await;
    let leaver = RawClient::connect(b.addr, "leaver-raw").await;
    let etid = leaver.etid;
    watcher.send(&Packet::Observe { tid: etid }).await;
    assert!(
        watcher.fence().await.is_empty(),
        "an ETID answers only when it goes"
    );
    drop(leaver);
    assert_eq!(
        watcher.recv().await,
        Packet::Change(Change {
            tid: etid,
            count: 0
        })
    );
    assert!(b.broker.etid2peer(etid).is_none());
    b.stop().await;
}
