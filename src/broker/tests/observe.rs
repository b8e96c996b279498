//! Observe / Unobserve / Change (SMQ-PROTOCOL.md §7).

use super::*;
use crate::protocol::Change;

fn change(tid: u32, count: u32) -> Packet {
    Packet::Change(Change { tid, count })
}

#[tokio::test]
async fn observing_a_topic_answers_its_count_then_tracks_subscribers() {
    let b = TestBroker::default().await;
    let mut a = RawClient::connect(b.addr, "capture-A").await;
    let mut o = RawClient::connect(b.addr, "capture-B").await;
    let tid = a.subscribe("DeviceState").await;
    o.send(&Packet::Observe { tid }).await;
    assert_eq!(o.fence().await, vec![change(tid, 1)]);
    let mut c = RawClient::connect(b.addr, "capture-C").await;
    c.subscribe("DeviceState").await;
    assert_eq!(o.fence().await, vec![change(tid, 2)]);
    a.send(&Packet::Unsubscribe { tid }).await;
    a.fence().await;
    assert_eq!(o.fence().await, vec![change(tid, 1)]);
    c.send(&Packet::Disconnect {
        reason: Default::default(),
    })
    .await;
    c.expect_closed().await;
    assert_eq!(
        o.fence().await,
        vec![change(tid, 0)],
        "a subscriber's disconnect counts"
    );
    b.stop().await;
}

#[tokio::test]
async fn observing_an_etid_is_silent_until_it_disconnects_then_forgotten() {
    let b = TestBroker::default().await;
    let mut a = RawClient::connect(b.addr, "capture-A").await;
    let mut o = RawClient::connect(b.addr, "capture-B").await;
    o.send(&Packet::Observe { tid: a.etid }).await;
    assert_eq!(o.fence().await, vec![], "no immediate Change for an ETID");
    let etid = a.etid;
    a.send(&Packet::Disconnect {
        reason: Default::default(),
    })
    .await;
    a.expect_closed().await;
    assert_eq!(o.fence().await, vec![change(etid, 0)]);
    // Observing the gone ETID again: immediate Change 0 (unknown now).
    o.send(&Packet::Observe { tid: etid }).await;
    assert_eq!(o.fence().await, vec![change(etid, 0)]);
    b.stop().await;
}

#[tokio::test]
async fn observing_an_unknown_tid_answers_change_zero() {
    let b = TestBroker::default().await;
    let mut o = RawClient::connect(b.addr, "observer").await;
    o.send(&Packet::Observe { tid: 0x12345678 }).await;
    assert_eq!(o.fence().await, vec![change(0x12345678, 0)]);
    b.stop().await;
}

#[tokio::test]
async fn observing_own_etid_is_ignored() {
    let b = TestBroker::default().await;
    let mut o = RawClient::connect(b.addr, "observer").await;
    o.send(&Packet::Observe { tid: o.etid }).await;
    assert_eq!(o.fence().await, vec![]);
    b.stop().await;
}

#[tokio::test]
async fn unobserve_stops_changes_and_keeps_the_topic_routable() {
    let b = TestBroker::default().await;
    let mut a = RawClient::connect(b.addr, "client-a").await;
    let mut o = RawClient::connect(b.addr, "observer").await;
    let tid = a.subscribe("T").await;
    o.send(&Packet::Observe { tid }).await;
    o.send(&Packet::Unobserve { tid }).await;
    assert_eq!(o.fence().await, vec![change(tid, 1)]);
    let mut c = RawClient::connect(b.addr, "client-c").await;
    c.subscribe("T").await;
    assert_eq!(o.fence().await, vec![], "no Change after Unobserve");
    // Regression (Mako's unobserve clears the topic's subscribers instead of
    // the observation): the topic still routes to its subscribers.
    let msg = publish(tid, o.etid, 0, b"still here");
    o.send(&msg).await;
    assert_eq!(a.recv().await, msg);
    assert_eq!(c.recv().await, msg);
    b.stop().await;
}

#[tokio::test]
async fn server_subscription_is_included_in_counts() {
    let b = TestBroker::default().await;
    let tid = b.broker.subscribe_server("Telemetry");
    let mut o = RawClient::connect(b.addr, "observer").await;
    o.send(&Packet::Observe { tid }).await;
    assert_eq!(o.fence().await, vec![change(tid, 1)]);
    o.send(&Packet::Subscribe {
        topic: bytes::Bytes::from_static(b"Telemetry"),
    })
    .await;
    let got = o.fence().await;
    assert_eq!(got.first(), Some(&change(tid, 2)), "{got:?}");
    b.stop().await;
}

#[tokio::test]
async fn observer_that_subscribes_sees_change_before_its_suback() {
    let b = TestBroker::default().await;
    let mut o = RawClient::connect(b.addr, "observer").await;
    let tid = b.broker.create("T");
    o.send(&Packet::Observe { tid }).await;
    assert_eq!(o.fence().await, vec![change(tid, 0)]);
    o.send(&Packet::Subscribe {
        topic: bytes::Bytes::from_static(b"T"),
    })
    .await;
    let got = o.fence().await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], change(tid, 1));
    assert!(matches!(&got[1], Packet::Suback(a) if a.tid == tid));
    b.stop().await;
}

/// Observing your own ETID is ignored: a client taken over by its UID gets
/// the Disconnect and nothing about its own departure.
#[tokio::test]
async fn observing_your_own_etid_is_ignored() {
    let b = TestBroker::default().await;
    let mut old = RawClient::connect(b.addr, "self-watcher").await;
    old.send(&Packet::Observe { tid: old.etid }).await;
    assert!(old.fence().await.is_empty());
    let _new = RawClient::connect(b.addr, "self-watcher").await;
    assert_eq!(
        old.recv().await,
        Packet::Disconnect {
            reason: Bytes::from_static(b"reconnect")
        }
    );
    old.expect_closed().await;
    b.stop().await;
}
