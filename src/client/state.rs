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
    topics: NameMap,
    subtopics: NameMap,
}

impl Names {
    pub fn topic(&self, tid: u32) -> Option<Arc<str>> {
        if tid == self.etid && tid != 0 {
            return Some(Arc::from("self"));
        }
        self.topics.name(tid)
    }

    pub fn tid(&self, topic: &str) -> Option<u32> {
        self.topics.id(topic)
    }

    pub fn subtopic(&self, subtid: u32) -> Option<Arc<str>> {
        self.subtopics.name(subtid)
    }

    pub fn subtid(&self, name: &str) -> Option<u32> {
        self.subtopics.id(name)
    }

    /// Every topic name learned so far with its TID, sorted by name.
    pub fn topics(&self) -> Vec<(Arc<str>, u32)> {
        self.topics.all()
    }

    /// Every sub-topic name learned so far with its ID, sorted by name.
    pub fn subtopics(&self) -> Vec<(Arc<str>, u32)> {
        self.subtopics.all()
    }

    pub fn learn_topic(&mut self, name: &str, tid: u32) {
        self.topics.learn(name, tid);
    }

    pub fn learn_subtopic(&mut self, name: &str, subtid: u32) {
        self.subtopics.learn(name, subtid);
    }
}

/// Names learned before a [`NameMap`] moves them into its maps.
const SHORT_LIST: usize = 16;

/// Names ↔ IDs of one kind. A connection that knows a handful (a fleet's
/// device: 4) keeps them in one short list, searched from its newest entry,
/// instead of two hash maps of their own; past [`SHORT_LIST`] they move into
/// the maps. Either way the answers are the maps': a name's newest ID, an
/// ID's newest name (a name learned again with another ID leaves the old ID
/// naming it).
#[derive(Debug, Default)]
struct NameMap {
    list: Vec<(Arc<str>, u32)>,
    /// The maps, once past the short list.
    maps: Option<Box<Maps>>,
}

#[derive(Debug, Default)]
struct Maps {
    by_id: HashMap<u32, Arc<str>>,
    by_name: HashMap<Arc<str>, u32>,
}

impl NameMap {
    fn name(&self, id: u32) -> Option<Arc<str>> {
        if let Some(m) = &self.maps {
            return m.by_id.get(&id).cloned();
        }
        self.list
            .iter()
            .rev()
            .find(|(_, i)| *i == id)
            .map(|(n, _)| n.clone())
    }

    fn id(&self, name: &str) -> Option<u32> {
        if let Some(m) = &self.maps {
            return m.by_name.get(name).copied();
        }
        self.list
            .iter()
            .rev()
            .find(|(n, _)| **n == *name)
            .map(|(_, i)| *i)
    }

    fn learn(&mut self, name: &str, id: u32) {
        if self.maps.is_none() {
            if self.name(id).as_deref() == Some(name) && self.id(name) == Some(id) {
                // Known: an ack of a name learned before changes nothing.
                return;
            }
            if self.list.len() < SHORT_LIST {
                let name = self
                    .list
                    .iter()
                    .find(|(n, _)| **n == *name)
                    .map(|(n, _)| n.clone())
                    .unwrap_or_else(|| Arc::from(name));
                self.list.push((name, id));
                return;
            }
            let mut m = Box::<Maps>::default();
            for (n, i) in std::mem::take(&mut self.list) {
                m.by_id.insert(i, n.clone());
                m.by_name.insert(n, i);
            }
            self.maps = Some(m);
        }
        if let Some(maps) = self.maps.as_mut() {
            let name: Arc<str> = Arc::from(name);
            maps.by_id.insert(id, name.clone());
            maps.by_name.insert(name, id);
        }
    }

    fn all(&self) -> Vec<(Arc<str>, u32)> {
        let mut v: Vec<(Arc<str>, u32)> = if let Some(m) = &self.maps {
            m.by_name.iter().map(|(n, t)| (n.clone(), *t)).collect()
        } else {
            let mut seen: Vec<(Arc<str>, u32)> = Vec::new();
            for (n, _) in &self.list {
                if !seen.iter().any(|(s, _)| s == n)
                    && let Some(i) = self.id(n)
                {
                    seen.push((n.clone(), i));
                }
            }
            seen
        };
        v.sort();
        v
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

    /// A short list in place of two hash maps per kind of name must answer
    /// what the maps answered, before and after it moves into them, names
    /// and IDs learned again with other partners included.
    #[test]
    fn names_in_a_short_list_answer_as_the_maps_did_before_and_after_the_move() {
        let mut m = NameMap::default();
        let mut by_id: HashMap<u32, String> = HashMap::new();
        let mut by_name: HashMap<String, u32> = HashMap::new();
        let check = |m: &NameMap, by_id: &HashMap<u32, String>, by_name: &HashMap<String, u32>| {
            for id in 0..40 {
                assert_eq!(
                    m.name(id).as_deref(),
                    by_id.get(&id).map(String::as_str),
                    "id {id}"
                );
            }
            for n in 0..40 {
                let name = format!("n{n}");
                assert_eq!(m.id(&name), by_name.get(&name).copied(), "{name}");
            }
            let mut want: Vec<(String, u32)> =
                by_name.iter().map(|(n, i)| (n.clone(), *i)).collect();
            want.sort();
            let got: Vec<(String, u32)> = m
                .all()
                .into_iter()
                .map(|(n, i)| (n.to_string(), i))
                .collect();
            assert_eq!(got, want);
        };
        // Repeats, a name with a new ID, an ID with a new name, then enough
        // to pass the short list.
        let learns = [(1, 1), (2, 2), (1, 1), (1, 3), (4, 2), (2, 2), (5, 5)]
            .into_iter()
            .chain((6..30).map(|n| (n, n + 100)))
            .chain([(1, 7), (30, 3)]);
        for (n, id) in learns {
            let name = format!("n{n}");
            m.learn(&name, id);
            by_id.insert(id, name.clone());
            by_name.insert(name, id);
            check(&m, &by_id, &by_name);
            if by_name.len() < 5 {
                assert!(m.maps.is_none(), "a few names stay in the list");
            }
        }
        assert!(
            m.maps.is_some() && m.list.capacity() == 0,
            "moved, the list released"
        );
    }

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
