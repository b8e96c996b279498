//! Client protocol state without I/O: the name↔ID caches (both ways, for topics
//! and sub-topics), acks waited for, message routes and observations.
//!
//! The connection task owns a [`State`]; the [`Names`] part is shared with the
//! handles behind a mutex so that `create("X")` on a known name needs no round
//! trip and output can print names instead of numbers.
//!
//! May import: `protocol`, `client` (parent) types.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::{ClientError, Event, Message};
use crate::protocol::{Ack, Publish, kind};

/// Topic and sub-topic names learned from acks, both directions.
#[derive(Debug, Default)]
pub struct Names {
    pub etid: u32,
    topic_by_tid: HashMap<u32, Arc<str>>,
    tid_by_topic: HashMap<Arc<str>, u32>,
    subtopic_by_id: HashMap<u32, Arc<str>>,
    id_by_subtopic: HashMap<Arc<str>, u32>,
}

impl Names {
    pub fn topic(&self, tid: u32) -> Option<Arc<str>> {
        if tid == self.etid && tid != 0 {
            return Some(Arc::from("self"));
        }
        self.topic_by_tid.get(&tid).cloned()
    }

    pub fn tid(&self, topic: &str) -> Option<u32> {
        self.tid_by_topic.get(topic).copied()
    }

    pub fn subtopic(&self, subtid: u32) -> Option<Arc<str>> {
        self.subtopic_by_id.get(&subtid).cloned()
    }

    pub fn subtid(&self, name: &str) -> Option<u32> {
        self.id_by_subtopic.get(name).copied()
    }

    /// Every topic name learned so far with its TID, sorted by name.
    pub fn topics(&self) -> Vec<(Arc<str>, u32)> {
        let mut v: Vec<_> = self
            .tid_by_topic
            .iter()
            .map(|(n, t)| (n.clone(), *t))
            .collect();
        v.sort();
        v
    }

    /// Every sub-topic name learned so far with its ID, sorted by name.
    pub fn subtopics(&self) -> Vec<(Arc<str>, u32)> {
        let mut v: Vec<_> = self
            .id_by_subtopic
            .iter()
            .map(|(n, t)| (n.clone(), *t))
            .collect();
        v.sort();
        v
    }

    pub fn learn_topic(&mut self, name: &str, tid: u32) {
        let name: Arc<str> = Arc::from(name);
        self.topic_by_tid.insert(tid, name.clone());
        self.tid_by_topic.insert(name, tid);
    }

    pub fn learn_subtopic(&mut self, name: &str, subtid: u32) {
        let name: Arc<str> = Arc::from(name);
        self.subtopic_by_id.insert(subtid, name.clone());
        self.id_by_subtopic.insert(name, subtid);
    }
}

pub type SharedNames = Arc<std::sync::Mutex<Names>>;

/// Where messages for one topic (or `self`) go.
#[derive(Default)]
struct Route {
    by_subtid: HashMap<u32, Vec<mpsc::Sender<Message>>>,
    catch_all: Vec<mpsc::Sender<Message>>,
}

pub type AckReply = oneshot::Sender<Result<u32, ClientError>>;

/// A route a Subscribe brings along: installed by [`State::on_ack`] when the
/// Suback is handled, before any packet behind it is read, so a message the
/// broker sends right after the Suback reaches the subscription.
pub struct PendingRoute {
    pub subtid: Option<u32>,
    pub sink: mpsc::Sender<Message>,
}

/// Who waits for one ack.
struct Waiter {
    reply: AckReply,
    route: Option<PendingRoute>,
}

pub struct State {
    pub names: SharedNames,
    /// Messages dropped because a consumer's queue was full (shared with handles).
    pub dropped: Arc<AtomicU64>,
    pending: HashMap<(u8, Bytes), VecDeque<Waiter>>,
    routes: HashMap<u32, Route>,
    /// ETIDs we observe; their Change with count 0 ends the observation.
    observed_etids: HashSet<u32>,
}

impl State {
    pub fn new(names: SharedNames) -> Self {
        State {
            names,
            dropped: Arc::new(AtomicU64::new(0)),
            pending: HashMap::new(),
            routes: HashMap::new(),
            observed_etids: HashSet::new(),
        }
    }

    fn names(&self) -> std::sync::MutexGuard<'_, Names> {
        // A poisoned lock only means another thread panicked mid-update of plain
        // maps; the data is still usable.
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers who waits for the ack of a Subscribe/Create/Createsub of `name`.
    pub fn expect_ack(&mut self, ack_kind: u8, name: Bytes, reply: AckReply) {
        self.expect_ack_routed(ack_kind, name, reply, None);
    }

    /// Like [`State::expect_ack`]; an accepted ack also installs `route` for
    /// the TID it names (a waiter that gave up gets none).
    pub fn expect_ack_routed(
        &mut self,
        ack_kind: u8,
        name: Bytes,
        reply: AckReply,
        route: Option<PendingRoute>,
    ) {
        self.pending
            .entry((ack_kind, name))
            .or_default()
            .push_back(Waiter { reply, route });
    }

    /// Applies an ack: learns the name and answers the oldest waiter.
    pub fn on_ack(&mut self, ack_kind: u8, ack: &Ack) {
        let name = String::from_utf8_lossy(&ack.name).into_owned();
        if ack.accepted() {
            let mut names = self.names();
            if ack_kind == kind::CREATESUBACK {
                names.learn_subtopic(&name, ack.tid);
            } else {
                names.learn_topic(&name, ack.tid);
            }
        }
        let key = (ack_kind, ack.name.clone());
        let Some(queue) = self.pending.get_mut(&key) else {
            return;
        };
        // A waiter that gave up (its ack deadline passed) must not swallow
        // the ack meant for the one behind it.
        while queue.front().is_some_and(|w| w.reply.is_closed()) {
            queue.pop_front();
        }
        let waiter = queue.pop_front();
        if queue.is_empty() {
            self.pending.remove(&key);
            if self.pending.is_empty() {
                // A connection waits for acks only while it sets up: its
                // table need not outlive the setup.
                self.pending = HashMap::new();
            }
        }
        let Some(Waiter { reply, route }) = waiter else {
            return;
        };
        let result = if ack.accepted() {
            // Before the reply and before the next packet is read: what the
            // broker sends behind this Suback is routed already.
            if let Some(r) = route {
                self.add_route(ack.tid, r.subtid, r.sink);
            }
            Ok(ack.tid)
        } else {
            Err(ClientError::Denied {
                what: crate::protocol::kind_name(request_kind(ack_kind)),
                name,
            })
        };
        let _ = reply.send(result);
    }

    /// Fails every pending request: the connection is gone, nobody will answer.
    pub fn fail_all(&mut self, reason: &str) {
        for (_, queue) in self.pending.drain() {
            for Waiter { reply, .. } in queue {
                let _ = reply.send(Err(ClientError::ConnectionLost(reason.to_string())));
            }
        }
    }

    pub fn add_route(&mut self, tid: u32, subtid: Option<u32>, sink: mpsc::Sender<Message>) {
        let route = self.routes.entry(tid).or_default();
        match subtid {
            Some(s) => route.by_subtid.entry(s).or_default().push(sink),
            None => route.catch_all.push(sink),
        }
    }

    pub fn remove_routes(&mut self, tid: u32) {
        self.routes.remove(&tid);
    }

    pub fn observe_etid(&mut self, etid: u32) {
        self.observed_etids.insert(etid);
    }

    /// Builds the user-facing message for a Publish received at `received`.
    pub fn message(&self, p: Publish, received: SystemTime) -> Message {
        let names = self.names();
        Message {
            direct: p.tid == names.etid,
            topic: names.topic(p.tid),
            subtopic: if p.subtid == 0 {
                None
            } else {
                names.subtopic(p.subtid)
            },
            tid: p.tid,
            ptid: p.ptid,
            subtid: p.subtid,
            payload: p.payload,
            received,
        }
    }

    /// Hands a message to the most specific route (sub-topic, then the topic's
    /// catch-all). Returns it when no route took it, for the general event stream.
    pub fn route(&mut self, msg: Message) -> Option<Message> {
        let Some(route) = self.routes.get_mut(&msg.tid) else {
            return Some(msg);
        };
        let sinks = match route.by_subtid.get_mut(&msg.subtid) {
            Some(s) if !s.is_empty() => s,
            _ => &mut route.catch_all,
        };
        sinks.retain(|s| !s.is_closed());
        // A full queue drops (and counts) rather than blocking the connection:
        // acks and keepalive must go on while a consumer is slow.
        let deliver =
            |s: &mpsc::Sender<Message>, m: Message, dropped: &AtomicU64| match s.try_send(m) {
                Ok(()) => None,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    dropped.fetch_add(1, Ordering::Relaxed);
                    None
                }
                Err(mpsc::error::TrySendError::Closed(m)) => Some(m),
            };
        match sinks.len() {
            0 => Some(msg),
            1 => deliver(&sinks[0], msg, &self.dropped),
            _ => {
                for s in sinks.iter() {
                    let _ = deliver(s, msg.clone(), &self.dropped);
                }
                None
            }
        }
    }

    /// Turns a Change into an event; an ETID's count 0 ends its observation.
    pub fn on_change(&mut self, tid: u32, count: u32) -> Event {
        let name = self.names().topic(tid);
        let gone = count == 0 && self.observed_etids.remove(&tid);
        Event::Change {
            tid,
            name,
            count,
            peer_gone: gone,
        }
    }
}

/// The request whose ack this is.
fn request_kind(ack_kind: u8) -> u8 {
    match ack_kind {
        kind::SUBACK => kind::SUBSCRIBE,
        kind::CREATEACK => kind::CREATE,
        _ => kind::CREATESUB,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        let names = SharedNames::default();
        names.lock().expect("fresh").etid = 77;
        State::new(names)
    }

    fn publish(tid: u32, subtid: u32) -> Publish {
        Publish {
            tid,
            ptid: 5,
            subtid,
            payload: Bytes::from_static(b"x"),
        }
    }

    #[test]
    fn acks_answer_waiters_in_order_and_teach_names() {
        let mut s = state();
        let (tx1, mut rx1) = oneshot::channel();
        let (tx2, mut rx2) = oneshot::channel();
        s.expect_ack(kind::SUBACK, Bytes::from_static(b"T"), tx1);
        s.expect_ack(kind::SUBACK, Bytes::from_static(b"T"), tx2);
        let ack = Ack {
            status: 0,
            tid: 9,
            name: Bytes::from_static(b"T"),
        };
        s.on_ack(kind::SUBACK, &ack);
        assert_eq!(rx1.try_recv().expect("answered").expect("ok"), 9);
        assert!(rx2.try_recv().is_err(), "second waiter still waits");
        s.on_ack(kind::SUBACK, &ack);
        assert_eq!(rx2.try_recv().expect("answered").expect("ok"), 9);
        assert_eq!(s.names().topic(9).as_deref(), Some("T"));
        assert_eq!(s.names().tid("T"), Some(9));
    }

    #[test]
    fn ack_after_a_waiter_timed_out_goes_to_the_next_waiter_not_the_gone_one() {
        let mut s = state();
        let (gone, gone_rx) = oneshot::channel();
        let (tx, mut rx) = oneshot::channel();
        s.expect_ack(kind::SUBACK, Bytes::from_static(b"T"), gone);
        s.expect_ack(kind::SUBACK, Bytes::from_static(b"T"), tx);
        drop(gone_rx); // its deadline passed
        let ack = Ack {
            status: 0,
            tid: 9,
            name: Bytes::from_static(b"T"),
        };
        s.on_ack(kind::SUBACK, &ack);
        assert_eq!(rx.try_recv().expect("answered").expect("ok"), 9);
        assert!(s.pending.is_empty());
    }

    #[test]
    fn denied_ack_is_an_error_naming_the_request() {
        let mut s = state();
        let (tx, mut rx) = oneshot::channel();
        s.expect_ack(kind::CREATEACK, Bytes::from_static(b"Secret"), tx);
        s.on_ack(
            kind::CREATEACK,
            &Ack {
                status: 1,
                tid: 0,
                name: Bytes::from_static(b"Secret"),
            },
        );
        let err = rx.try_recv().expect("answered").expect_err("denied");
        assert_eq!(err.to_string(), "broker denied Create of 'Secret'");
    }

    #[test]
    fn pending_requests_fail_when_the_connection_drops() {
        let mut s = state();
        let (tx, mut rx) = oneshot::channel();
        s.expect_ack(kind::SUBACK, Bytes::from_static(b"T"), tx);
        s.fail_all("broker closed");
        assert!(matches!(
            rx.try_recv(),
            Ok(Err(ClientError::ConnectionLost(_)))
        ));
    }

    #[test]
    fn routing_prefers_subtopic_then_catch_all_then_event_stream() {
        let mut s = state();
        s.names
            .lock()
            .expect("lock")
            .learn_subtopic("SetCharger", 3);
        let (sub_tx, mut sub_rx) = mpsc::channel(8);
        let (all_tx, mut all_rx) = mpsc::channel(8);
        s.add_route(10, Some(3), sub_tx);
        s.add_route(10, None, all_tx);
        assert!(
            s.route(s.message(publish(10, 3), SystemTime::now()))
                .is_none()
        );
        let m = sub_rx.try_recv().expect("sub-topic route");
        assert_eq!(m.subtopic.as_deref(), Some("SetCharger"));
        assert!(
            s.route(s.message(publish(10, 4), SystemTime::now()))
                .is_none()
        );
        assert_eq!(all_rx.try_recv().expect("catch-all").subtid, 4);
        // Unrouted topic: back to the caller's event stream.
        assert!(
            s.route(s.message(publish(11, 0), SystemTime::now()))
                .is_some()
        );
    }

    #[test]
    fn direct_messages_are_named_self() {
        let s = state();
        let m = s.message(publish(77, 0), SystemTime::now());
        assert!(m.direct);
        assert_eq!(m.topic.as_deref(), Some("self"));
    }

    #[test]
    fn etid_observation_ends_with_count_zero() {
        let mut s = state();
        s.observe_etid(1234);
        assert!(matches!(
            s.on_change(1234, 0),
            Event::Change {
                peer_gone: true,
                ..
            }
        ));
        assert!(matches!(
            s.on_change(1234, 0),
            Event::Change {
                peer_gone: false,
                ..
            }
        ));
    }

    #[test]
    fn suback_installs_its_route_before_answering_and_only_for_a_waiter_still_there() {
        let mut s = state();
        let ack = |status, tid| Ack {
            status,
            tid,
            name: Bytes::from_static(b"T"),
        };
        // Accepted: the route is there by the time the caller hears the TID.
        let (tx, mut rx) = oneshot::channel();
        let (sink, mut msgs) = mpsc::channel(4);
        let route = PendingRoute { subtid: None, sink };
        s.expect_ack_routed(kind::SUBACK, Bytes::from_static(b"T"), tx, Some(route));
        s.on_ack(kind::SUBACK, &ack(0, 9));
        assert!(
            s.route(s.message(publish(9, 0), SystemTime::now()))
                .is_none(),
            "routed"
        );
        assert_eq!(msgs.try_recv().expect("on the route").tid, 9);
        assert_eq!(rx.try_recv().expect("answered").expect("ok"), 9);
        // Denied: no route for the TID the refusal names.
        let (tx, _rx) = oneshot::channel();
        let (sink, _msgs) = mpsc::channel(4);
        let route = PendingRoute { subtid: None, sink };
        s.expect_ack_routed(kind::SUBACK, Bytes::from_static(b"T"), tx, Some(route));
        s.on_ack(kind::SUBACK, &ack(1, 10));
        assert!(
            s.route(s.message(publish(10, 0), SystemTime::now()))
                .is_some(),
            "no route"
        );
        // Gave up (ack deadline passed): its route is not installed either.
        let (tx, gone) = oneshot::channel();
        let (sink, _msgs) = mpsc::channel(4);
        let route = PendingRoute { subtid: None, sink };
        s.expect_ack_routed(kind::SUBACK, Bytes::from_static(b"T"), tx, Some(route));
        drop(gone);
        s.on_ack(kind::SUBACK, &ack(0, 11));
        assert!(
            s.route(s.message(publish(11, 0), SystemTime::now()))
                .is_some(),
            "no route"
        );
    }
}
