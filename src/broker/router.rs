//! The broker's state: topics, sub-topics, connected clients, subscriptions and
//! observers, and the routing rules of SMQ-PROTOCOL.md §4–§7 applied to them.
//!
//! This is Mako's `smq.hub` tables (`tidT`, `topic2tidT`, `uidT`, `observeT`, ...)
//! as plain data behind one `std::sync::Mutex`, held only for a map lookup and a
//! few non-blocking channel sends per packet. It does no I/O: "sending" means
//! `try_send` of a pre-encoded frame into a client's [`Outbox`], which that
//! client's writer task drains. Because every reply (Suback, Change, Connack) is
//! queued while the lock is held, clients see events in the order the broker
//! decided them, as with Mako's single-threaded hub.
//!
//! The server handler is never called here: [`Router::publish`] returns the call
//! to make, and the caller makes it after releasing the lock.
//!
//! Each decision is described once, as a schema event in an
//! [`events::Record`](super::events::Record) built only when somebody listens
//! (`Router::emit`): attached tracers and `Broker::events` share it.
//!
//! May import: `protocol`, `trace::schema`, the leaves `broker::{outbox,
//! events}`, `broker::tracers`, and the broker's plain types (no sockets).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;

use super::events::{Events, Local, REFUSED, Record};
use super::outbox::{Outbox, Outgoing, Sent};
use super::tracers::{self, Pump, TraceAllow, Tracers};
use super::{BrokerStats, PeerInfo, ServerHandler, ServerMessage};
use crate::protocol::{Ack, Change, Connack, Packet, Publish, display_bytes};
use crate::trace::schema::{self, Dest, DestType, Event, Kind, Transport};

/// Identifies one accepted TCP connection; an ETID outlives it on takeover.
pub(crate) type ConnId = u64;

/// The client a packet came from. The connection id matters after a takeover:
/// the old connection's last packets must not act on the new one's ETID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Who {
    pub etid: u32,
    pub conn: ConnId,
}

/// A client as the router knows it.
struct Peer {
    conn: ConnId,
    uid: Bytes,
    info: Bytes,
    addr: SocketAddr,
    transport: Transport,
    tls: bool,
    /// Its queue; [`Outbox::kill`] also ends its session.
    outbox: Outbox,
    /// Topic TIDs this client subscribed to.
    topics: Vec<u32>,
    /// TIDs/ETIDs this client observes (to clean up on close).
    observing: Vec<u32>,
    /// Mako quirk: unsubscribing from your own ETID stops direct delivery.
    direct: bool,
    dropped: u64,
}

struct Topic {
    name: Bytes,
    subs: Vec<u32>,
    /// The broker's server-side client subscribed (counts as a subscriber).
    server: bool,
}

impl Topic {
    fn count(&self) -> u32 {
        (self.subs.len() + usize::from(self.server)) as u32
    }
}

/// A newly accepted connection asking to be registered.
pub(crate) struct NewPeer {
    pub conn: ConnId,
    pub uid: Bytes,
    pub info: Bytes,
    pub addr: SocketAddr,
    pub transport: Transport,
    pub tls: bool,
    pub outbox: Outbox,
}

/// A call of the server handler the caller must make once the lock is released.
pub(crate) type ServerCall = (Arc<dyn ServerHandler>, ServerMessage);

/// What routing one Publish did.
pub(crate) struct Routed {
    /// Clients (and the server) that got it.
    pub receivers: usize,
    pub server: Option<ServerCall>,
    /// A tracer attached: the caller spawns its pump.
    pub tracer: Option<Pump>,
}

/// Hashes a TID or ETID with one multiplication instead of SipHash (two
/// lookups per delivered message). The broker assigns these IDs itself, so
/// no client can choose keys that collide.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64((self.0 << 8) | u64::from(b));
        }
    }
    fn write_u32(&mut self, id: u32) {
        self.write_u64(u64::from(id));
    }
    fn write_u64(&mut self, id: u64) {
        // Folded multiply: good bits at both ends (hashbrown takes the bucket
        // from the low bits and its tag from the top 7).
        let m = u128::from(id ^ self.0) * 0x9e37_79b9_7f4a_7c15;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

/// A map keyed by TID or ETID.
type IdMap<V> = HashMap<u32, V, BuildHasherDefault<IdHasher>>;

pub(crate) struct Router {
    server_etid: u32,
    topics: IdMap<Topic>,
    topic_ids: HashMap<Bytes, u32>,
    subtopics: IdMap<Bytes>,
    subtopic_ids: HashMap<Bytes, u32>,
    /// Boxed: a hash table is up to half empty after it grows, and an empty
    /// slot of a boxed peer costs 8 bytes, not the ~200 of a peer.
    peers: IdMap<Box<Peer>>,
    uids: HashMap<Bytes, u32>,
    /// Observed TID/ETID -> observing ETIDs.
    observers: IdMap<Vec<u32>>,
    handler: Option<Arc<dyn ServerHandler>>,
    /// `Broker::events` subscribers (the `-v` log, demo, tests).
    events: Events,
    /// Set when the broker shuts down: no new registrations.
    closing: bool,
    /// Topic patterns whose Subscribe/Create is refused (Mako's `permittop`
    /// answering false): exact names, or prefixes ending in `*`.
    deny: Vec<String>,
    stats: BrokerStats,
    /// Attached tracers (schema events); empty costs one check per event.
    tracers: Tracers,
    trace_allow: TraceAllow,
    /// Sub-topic IDs whose names start with `$smqctl.trace`: never traced.
    trace_subtids: Vec<u32>,
}

impl Router {
    pub(crate) fn new(rndtid: bool, events: Events) -> Self {
        let mut r = Router {
            server_etid: 1,
            topics: IdMap::default(),
            topic_ids: HashMap::new(),
            subtopics: IdMap::default(),
            subtopic_ids: HashMap::new(),
            peers: IdMap::default(),
            uids: HashMap::new(),
            observers: IdMap::default(),
            handler: None,
            events,
            closing: false,
            deny: Vec::new(),
            stats: BrokerStats::default(),
            tracers: Tracers::default(),
            trace_allow: TraceAllow::default(),
            trace_subtids: Vec::new(),
        };
        if rndtid {
            r.server_etid = 0; // excluded from the draw below
            r.server_etid = r.new_tid();
        }
        r
    }

    pub(crate) fn server_etid(&self) -> u32 {
        self.server_etid
    }

    pub(crate) fn set_deny(&mut self, patterns: Vec<String>) {
        self.deny = patterns;
    }

    pub(crate) fn set_trace_allow(&mut self, allow: TraceAllow) {
        self.trace_allow = allow;
    }

    /// `permittop`: may this topic be subscribed to or created?
    fn permitted(&self, name: &[u8]) -> bool {
        !self.deny.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix.as_bytes()),
            None => name == p.as_bytes(),
        })
    }

    /// Suback/Createack with status 1 and TID 0, the name echoed, as Mako answers
    /// a refused `permittop`.
    fn deny_topic(&self, etid: u32, name: Bytes, subscribe: bool) {
        self.emit(true, Some(Local::Permittop { subscribe }), None, |r| {
            let mut e = r.event(Kind::Deny, etid);
            e.to = Some(Dest {
                tid: 0,
                kind: DestType::Topic,
                name: Some(display_bytes(&name)),
                uid: None,
            });
            e.reason = Some(format!(
                "permittop refused {} of topic {}",
                if subscribe { "Subscribe" } else { "Create" },
                display_bytes(&name)
            ));
            e
        });
        let ack = Ack {
            status: 1,
            tid: 0,
            name,
        };
        self.reply(
            etid,
            if subscribe {
                Packet::Suback(ack)
            } else {
                Packet::Createack(ack)
            },
        );
    }

    /// A random ID from the shared topic/ETID space: never 0, never in use.
    fn new_tid(&self) -> u32 {
        loop {
            let id = rand::random::<u32>();
            if id != 0
                && id != self.server_etid
                && !self.topics.contains_key(&id)
                && !self.peers.contains_key(&id)
            {
                return id;
            }
        }
    }

    // ----- connections -----

    /// Registers an accepted client and queues its Connack. A live client with the
    /// same UID is told `Disconnect "reconnect"`, removed, and its ETID reused.
    /// `None` when the broker is shutting down.
    pub(crate) fn connect(&mut self, new: NewPeer) -> Option<u32> {
        if self.closing {
            return None;
        }
        let old = self.uids.get(&new.uid).copied();
        let etid = match old {
            Some(etid) => {
                self.evict(etid, "reconnect");
                etid
            }
            None => self.new_tid(),
        };
        new.outbox
            .send_packet(&Packet::Connack(Connack::accepted(etid)));
        self.stats.connections_total += 1;
        let link = Local::Link {
            transport: new.transport,
            tls: new.tls,
        };
        self.emit(true, Some(link), None, |_| {
            let mut e = Event::new(Kind::Connect, String::new());
            e.from = Some(schema::Client {
                etid,
                uid: Some(display_bytes(&new.uid)),
                info: non_empty(&new.info),
                addr: Some(new.addr.to_string()),
                server: false,
            });
            if old.is_some() {
                e.reason = Some(schema::TAKEOVER.into());
            }
            e
        });
        self.uids.insert(new.uid.clone(), etid);
        self.peers.insert(
            etid,
            Box::new(Peer {
                conn: new.conn,
                uid: new.uid,
                info: new.info,
                addr: new.addr,
                transport: new.transport,
                tls: new.tls,
                outbox: new.outbox,
                topics: Vec::new(),
                observing: Vec::new(),
                direct: true,
                dropped: 0,
            }),
        );
        Some(etid)
    }

    /// The session of `conn` ended; a no-op if that ETID now belongs to a newer
    /// connection (takeover) or was already removed (shutdown).
    pub(crate) fn disconnect(&mut self, who: Who, reason: &str) {
        if self.current(who) {
            self.remove_peer(who.etid, reason);
        }
    }

    /// Whether `who` is still the connection registered under its ETID.
    fn current(&self, who: Who) -> bool {
        self.peers
            .get(&who.etid)
            .is_some_and(|p| p.conn == who.conn)
    }

    /// Removes a client everywhere, telling observers (Mako's `terminatePeerT`).
    ///
    /// As in Mako, the leaving client is still registered while the Change
    /// notices go out, so one that observes its own topics hears its departure
    /// before the socket closes.
    fn remove_peer(&mut self, etid: u32, reason: &str) {
        let Some(peer) = self.peers.get(&etid) else {
            return;
        };
        let (uid, topics) = (peer.uid.clone(), peer.topics.clone());
        if self.uids.get(&uid) == Some(&etid) {
            self.uids.remove(&uid);
        }
        self.emit(true, None, None, |r| {
            let mut e = r.event(Kind::Close, etid);
            e.reason = Some(reason.to_string());
            e
        });
        self.tracers.detach(etid);
        for tid in &topics {
            if let Some(topic) = self.topics.get_mut(tid) {
                topic.subs.retain(|&s| s != etid);
            }
            self.notify_count(*tid);
        }
        self.notify(etid, 0);
        // Its observers forget it (their lists would otherwise grow forever in
        // the observe(ptid) presence pattern).
        for observer in self.observers.remove(&etid).unwrap_or_default() {
            if let Some(o) = self.peers.get_mut(&observer) {
                o.observing.retain(|&t| t != etid);
            }
        }
        let Some(peer) = self.peers.remove(&etid) else {
            return;
        };
        for tid in &peer.observing {
            self.drop_observer(*tid, etid);
        }
    }

    /// Sends `Disconnect msg` to every client and removes them all.
    pub(crate) fn shutdown_all(&mut self, msg: &str) {
        self.events.local(|| {
            let mut e = Event::new(Kind::Shutdown, String::new());
            e.reason = Some(msg.to_string());
            e
        });
        // Like Mako's lShutdown: everyone gets the Disconnect first, then the
        // clients are removed one by one.
        let etids: Vec<u32> = self.peers.keys().copied().collect();
        let bye = Packet::Disconnect {
            reason: Bytes::copy_from_slice(msg.as_bytes()),
        };
        for etid in &etids {
            if let Some(p) = self.peers.get(etid) {
                p.outbox.send_packet(&bye);
            }
        }
        for etid in etids {
            if let Some(p) = self.peers.get(&etid) {
                p.outbox.kill();
            }
            self.remove_peer(etid, msg);
        }
    }

    /// Sends `Disconnect msg`, ends the client's session and removes it.
    fn evict(&mut self, etid: u32, msg: &str) {
        if let Some(p) = self.peers.get(&etid) {
            p.outbox.send_packet(&Packet::Disconnect {
                reason: Bytes::copy_from_slice(msg.as_bytes()),
            });
            p.outbox.kill();
        }
        self.remove_peer(etid, msg);
    }

    /// Stops registrations; used when the broker shuts down.
    pub(crate) fn close(&mut self) {
        self.closing = true;
    }

    // ----- topics -----

    /// Mako's `lookupOrCreateTid`.
    pub(crate) fn lookup_or_create(&mut self, name: &[u8]) -> u32 {
        if let Some(&tid) = self.topic_ids.get(name) {
            return tid;
        }
        let tid = self.new_tid();
        let name = Bytes::copy_from_slice(name);
        self.topic_ids.insert(name.clone(), tid);
        self.topics.insert(
            tid,
            Topic {
                name,
                subs: Vec::new(),
                server: false,
            },
        );
        tid
    }

    pub(crate) fn create_subtopic(&mut self, name: &[u8]) -> u32 {
        if let Some(&id) = self.subtopic_ids.get(name) {
            return id;
        }
        let id = loop {
            let id = rand::random::<u32>();
            if id != 0 && !self.subtopics.contains_key(&id) {
                break id;
            }
        };
        let name = Bytes::copy_from_slice(name);
        if tracers::reserved_name(&name) {
            self.trace_subtids.push(id);
        }
        self.subtopic_ids.insert(name.clone(), id);
        self.subtopics.insert(id, name);
        id
    }

    /// Subscribe packet: subscribes, tells observers (only for a new
    /// subscription), then answers Suback with the name echoed.
    pub(crate) fn subscribe(&mut self, who: Who, name: Bytes) {
        if !self.current(who) {
            return;
        }
        let etid = who.etid;
        if !self.permitted(&name) {
            return self.deny_topic(etid, name, true);
        }
        let tid = self.lookup_or_create(&name);
        let Some(peer) = self.peers.get_mut(&etid) else {
            return;
        };
        let added = !peer.topics.contains(&tid);
        if added {
            peer.topics.push(tid);
            if let Some(topic) = self.topics.get_mut(&tid) {
                topic.subs.push(etid);
            }
            self.notify_count(tid);
        }
        self.emit(true, None, None, |r| {
            r.event(Kind::Subscribe, etid).with_to(r.dest(tid))
        });
        self.reply(
            etid,
            Packet::Suback(Ack {
                status: 0,
                tid,
                name,
            }),
        );
    }

    pub(crate) fn create(&mut self, who: Who, name: Bytes) {
        if !self.current(who) {
            return;
        }
        let etid = who.etid;
        if !self.permitted(&name) {
            return self.deny_topic(etid, name, false);
        }
        let tid = self.lookup_or_create(&name);
        self.emit(true, None, None, |r| {
            r.event(Kind::Create, etid).with_to(r.dest(tid))
        });
        self.reply(
            etid,
            Packet::Createack(Ack {
                status: 0,
                tid,
                name,
            }),
        );
    }

    pub(crate) fn createsub(&mut self, who: Who, name: Bytes) {
        if !self.current(who) {
            return;
        }
        let etid = who.etid;
        let subtid = self.create_subtopic(&name);
        // The tracing machinery's own sub-topics are never traced (the log shows them).
        self.emit(!self.is_reserved(subtid), None, None, |r| {
            let mut e = r.event(Kind::Createsub, etid);
            r.set_subtopic(&mut e, subtid);
            e
        });
        self.reply(
            etid,
            Packet::Createsuback(Ack {
                status: 0,
                tid: subtid,
                name,
            }),
        );
    }

    /// Unsubscribe packet: no answer; observers get the new count. Unsubscribing
    /// a topic one is not subscribed to does nothing.
    pub(crate) fn unsubscribe(&mut self, who: Who, tid: u32) {
        if !self.current(who) {
            return;
        }
        let etid = who.etid;
        let Some(peer) = self.peers.get_mut(&etid) else {
            return;
        };
        if tid == etid {
            // Mako quirk (SMQ-PROTOCOL.md §6): the client's own ETID becomes a
            // subscriber-less entry, so direct messages to it are dropped.
            if peer.direct {
                peer.direct = false;
                self.notify(etid, 0);
            }
            return;
        }
        let Some(pos) = peer.topics.iter().position(|&t| t == tid) else {
            return;
        };
        peer.topics.swap_remove(pos);
        if let Some(topic) = self.topics.get_mut(&tid) {
            topic.subs.retain(|&s| s != etid);
        }
        self.emit(true, None, None, |r| {
            r.event(Kind::Unsubscribe, etid).with_to(r.dest(tid))
        });
        self.notify_count(tid);
    }

    /// The server-side client subscribes to a topic (Lua's `smq:subscribe`).
    pub(crate) fn subscribe_server(&mut self, name: &[u8]) -> u32 {
        let tid = self.lookup_or_create(name);
        if let Some(topic) = self.topics.get_mut(&tid)
            && !topic.server
        {
            topic.server = true;
            self.notify_count(tid);
        }
        tid
    }

    pub(crate) fn unsubscribe_server(&mut self, tid: u32) {
        if let Some(topic) = self.topics.get_mut(&tid)
            && topic.server
        {
            topic.server = false;
            self.notify_count(tid);
        }
    }

    // ----- observe / change -----

    /// Observe packet (SMQ-PROTOCOL.md §7).
    pub(crate) fn observe(&mut self, who: Who, tid: u32) {
        let etid = who.etid;
        if tid == etid || !self.current(who) {
            return; // observing yourself is ignored
        }
        self.events
            .local(|| self.event(Kind::Observe, etid).with_to(self.dest(tid)));
        let topic_count = self.topics.get(&tid).map(Topic::count);
        let known =
            topic_count.is_some() || tid == self.server_etid || self.peers.contains_key(&tid);
        if !known {
            self.reply(etid, Packet::Change(Change { tid, count: 0 }));
            return;
        }
        let list = self.observers.entry(tid).or_default();
        if !list.contains(&etid) {
            list.push(etid);
            if let Some(peer) = self.peers.get_mut(&etid) {
                peer.observing.push(tid);
            }
        }
        // A named topic answers with its count now; an ETID only when it goes.
        if let Some(count) = topic_count {
            self.reply(etid, Packet::Change(Change { tid, count }));
        }
    }

    /// Unobserve packet. Unlike Mako (whose `unobserve` clears `tidT[tid]` instead
    /// of `observeT[tid]` when the caller is the only observer) this removes the
    /// observation and nothing else.
    pub(crate) fn unobserve(&mut self, who: Who, tid: u32) {
        if !self.current(who) {
            return;
        }
        let etid = who.etid;
        let Some(peer) = self.peers.get_mut(&etid) else {
            return;
        };
        peer.observing.retain(|&t| t != tid);
        self.drop_observer(tid, etid);
        self.events
            .local(|| self.event(Kind::Unobserve, etid).with_to(self.dest(tid)));
    }

    fn drop_observer(&mut self, tid: u32, etid: u32) {
        if let Some(list) = self.observers.get_mut(&tid) {
            list.retain(|&o| o != etid);
            if list.is_empty() {
                self.observers.remove(&tid);
            }
        }
    }

    /// Tells the observers of a topic its current subscriber count.
    fn notify_count(&mut self, tid: u32) {
        if self.observers.contains_key(&tid) {
            let count = self.topics.get(&tid).map_or(0, Topic::count);
            self.notify(tid, count);
        }
    }

    fn notify(&mut self, tid: u32, count: u32) {
        let Some(list) = self.observers.get(&tid) else {
            return;
        };
        let mut frame = Outgoing::new(Packet::Change(Change { tid, count }).to_bytes(), None);
        for etid in list {
            if let Some(p) = self.peers.get(etid)
                && let Some(f) = frame.for_transport(p.outbox.is_raw())
            {
                p.outbox.send(f);
            }
        }
    }

    fn reply(&self, etid: u32, packet: Packet) {
        if let Some(p) = self.peers.get(&etid) {
            p.outbox.send_packet(&packet);
        }
    }

    // ----- publish -----

    /// Routes one Publish whose ptid has been checked (SMQ-PROTOCOL.md §5);
    /// `from` is `None` for the server client. `msg` carries the header and
    /// payload (for traces and the server handler), `out` the body to forward
    /// unchanged.
    pub(crate) fn publish(
        &mut self,
        from: Option<Who>,
        msg: &Publish,
        mut out: Outgoing,
    ) -> Routed {
        if from.is_some_and(|who| !self.current(who)) {
            // A taken-over connection's last packet: it no longer speaks for the ETID.
            return Routed {
                receivers: 0,
                server: None,
                tracer: None,
            };
        }
        if msg.tid == self.server_etid && self.is_reserved(msg.subtid) {
            return self.trace_control(from, msg);
        }
        let mut receivers = 0usize;
        let mut server = None;
        // Receivers whose queue was full: (etid, messages missed so far).
        let mut full: Vec<(u32, u64)> = Vec::new();
        let why: &str;
        if let Some(topic) = self.topics.get(&msg.tid) {
            for etid in &topic.subs {
                if let Some(peer) = self.peers.get_mut(etid) {
                    receivers += deliver(peer, *etid, &mut out, &mut full, &mut self.stats);
                }
            }
            if topic.server
                && let Some(h) = &self.handler
            {
                server = Some(h.clone());
                receivers += 1;
            }
            why = if !topic.subs.is_empty() {
                "no subscriber could take it (queue full or closing)"
            } else if topic.server {
                "server has no handler"
            } else {
                "no subscribers"
            };
        } else if msg.tid == self.server_etid {
            server = self.handler.clone().filter(|h| h.handles(msg.subtid));
            receivers = usize::from(server.is_some());
            why = "server has no handler";
        } else if let Some(peer) = self.peers.get_mut(&msg.tid) {
            if peer.direct {
                receivers = deliver(peer, msg.tid, &mut out, &mut full, &mut self.stats);
                why = "the receiver could not take it (queue full or closing)";
            } else {
                why = "receiver unsubscribed its own ETID";
            }
        } else {
            why = "unknown tid";
        }
        self.stats.published += 1;
        self.stats.delivered += receivers as u64;
        if receivers == 0 {
            self.stats.dropped += 1;
            self.stats.drops.no_receiver += 1;
        }
        self.trace_message(msg, (receivers == 0).then_some(why), receivers);
        for (etid, missed) in full {
            self.trace_miss(msg, etid, missed);
        }
        Routed {
            receivers,
            tracer: None,
            server: server.map(|h| {
                (
                    h,
                    ServerMessage {
                        tid: msg.tid,
                        ptid: msg.ptid,
                        subtid: msg.subtid,
                        payload: msg.payload.clone(),
                    },
                )
            }),
        }
    }

    /// Records a message nobody will get for a reason outside routing (oversized
    /// fragments, server handler recursion).
    pub(crate) fn dropped(&mut self, msg: &Publish, why: &str, cause: super::DropCause) {
        self.stats.dropped += 1;
        match cause {
            super::DropCause::TooLarge => self.stats.drops.too_large += 1,
            super::DropCause::Recursion => self.stats.drops.recursion += 1,
        }
        self.trace_message(msg, Some(why), 0);
    }

    // ----- events (one per decision, see `events` and `tracers`) -----

    /// Builds the event of one decision, once, only when somebody listens:
    /// attached tracers (if `to_tracers`) and `Broker::events` subscribers,
    /// who also get `local`. `payload` is the message a publish or drop is about.
    fn emit(
        &self,
        to_tracers: bool,
        local: Option<Local>,
        payload: Option<&Bytes>,
        build: impl FnOnce(&Router) -> Event,
    ) {
        let to_tracers = to_tracers && !self.tracers.is_empty();
        if !to_tracers && !self.events.enabled() {
            return;
        }
        let event = build(self);
        debug_assert!(
            !event.kind.is_local(),
            "local kinds go through Events::local"
        );
        let rec = Arc::new(Record::new(event, payload.cloned(), local));
        if to_tracers {
            self.tracers.emit(&rec);
        }
        if self.events.enabled() {
            self.events.send(rec);
        }
    }

    /// Whether a sub-topic ID belongs to the tracing machinery.
    fn is_reserved(&self, subtid: u32) -> bool {
        subtid != 0 && self.trace_subtids.contains(&subtid)
    }

    /// An event of `kind` by the client (or server) at `etid`.
    fn event(&self, kind: Kind, etid: u32) -> Event {
        // The pump stamps the time (outside the lock).
        let mut e = Event::new(kind, String::new());
        e.from = Some(self.client(etid));
        e
    }

    /// Who `etid` is, from the peer table (`etid2peer`).
    pub(crate) fn client(&self, etid: u32) -> schema::Client {
        match self.peers.get(&etid) {
            Some(p) => schema::Client {
                etid,
                uid: Some(display_bytes(&p.uid)),
                info: non_empty(&p.info),
                addr: None,
                server: false,
            },
            None => schema::Client {
                etid,
                server: etid == self.server_etid,
                ..schema::Client::default()
            },
        }
    }

    /// What `tid` is: a topic (`tid2topic`), the server, a client, or unknown.
    pub(crate) fn dest(&self, tid: u32) -> Dest {
        let (kind, name, uid) = if let Some(t) = self.topics.get(&tid) {
            (DestType::Topic, Some(display_bytes(&t.name)), None)
        } else if tid == self.server_etid {
            (DestType::Server, None, None)
        } else if let Some(p) = self.peers.get(&tid) {
            (DestType::Client, None, Some(display_bytes(&p.uid)))
        } else {
            (DestType::Unknown, None, None)
        };
        Dest {
            tid,
            kind,
            name,
            uid,
        }
    }

    /// Sets `subtid` and its name (`tid2subtopic`) unless it is 0.
    fn set_subtopic(&self, e: &mut Event, subtid: u32) {
        if subtid != 0 {
            e.subtid = Some(subtid);
            e.subtopic = self.subtopics.get(&subtid).map(|n| display_bytes(n));
        }
    }

    /// A publish (`why` is `None`) or drop event for one routed message; one
    /// with a sub-topic of the tracing machinery is not traced (only logged).
    fn trace_message(&self, msg: &Publish, why: Option<&str>, receivers: usize) {
        let to_tracers = !self.is_reserved(msg.subtid);
        self.emit(to_tracers, None, Some(&msg.payload), |r| {
            let kind = if why.is_some() {
                Kind::Drop
            } else {
                Kind::Publish
            };
            let mut e = r.event(kind, msg.ptid).with_to(r.dest(msg.tid));
            r.set_subtopic(&mut e, msg.subtid);
            match why {
                Some(why) => e.reason = Some(why.to_string()),
                None => {
                    e.verdict = Some(true);
                    e.receivers = Some(receivers as u32);
                }
            }
            e
        });
    }

    /// One receiver's copy of a message dropped because its send queue was
    /// full: a `drop` per receiver after the message's own event, as the Mako
    /// hook reports it (`schema::queue_full_reason`); the log also says how
    /// many it missed so far.
    fn trace_miss(&self, msg: &Publish, etid: u32, so_far: u64) {
        let to_tracers = !self.is_reserved(msg.subtid);
        let local = Local::Missed { etid, so_far };
        self.emit(to_tracers, Some(local), Some(&msg.payload), |r| {
            let mut e = r.event(Kind::Drop, msg.ptid).with_to(r.dest(msg.tid));
            r.set_subtopic(&mut e, msg.subtid);
            let uid = r.peers.get(&etid).map(|p| display_bytes(&p.uid));
            e.reason = Some(schema::queue_full_reason(uid.as_deref(), etid));
            e
        });
    }

    /// A refused Connect (bad credentials, UID too short...) answered with
    /// Connack `code`: who and why, never what they sent as a secret.
    pub(crate) fn refused(&self, uid: &[u8], code: u8, reason: &str, addr: SocketAddr) {
        self.emit(true, Some(Local::Connack(code)), None, |_| {
            let mut e = Event::new(Kind::Deny, String::new());
            e.from = Some(schema::Client {
                etid: 0,
                uid: Some(display_bytes(uid)),
                info: None,
                addr: Some(addr.to_string()),
                server: false,
            });
            e.reason = Some(format!("{REFUSED}{reason}"));
            e
        });
    }

    /// Attach and detach requests published to the server ETID.
    fn trace_control(&mut self, from: Option<Who>, msg: &Publish) -> Routed {
        let mut routed = Routed {
            receivers: 1,
            server: None,
            tracer: None,
        };
        let Some(who) = from else {
            return routed; // the server cannot trace itself
        };
        let etid = who.etid;
        let name = self.subtopics.get(&msg.subtid).cloned().unwrap_or_default();
        if name == schema::SUB_DETACH.as_bytes() {
            self.tracers.detach(etid);
            return routed;
        }
        if name != schema::SUB_ATTACH.as_bytes() {
            return routed;
        }
        let subtid = self.create_subtopic(schema::SUB_EVENTS.as_bytes());
        let Some(peer) = self.peers.get(&etid) else {
            return routed;
        };
        let allowed = self.trace_allow.permits(peer.addr.ip());
        self.events.local(|| {
            let mut e = self.event(Kind::Attach, etid);
            if let Some(from) = &mut e.from {
                from.addr = Some(peer.addr.to_string());
            }
            e.verdict = Some(allowed);
            e
        });
        if !allowed {
            let mut e = Event::new(Kind::Error, schema::now_ts());
            e.reason = Some("not authorized".into());
            if let Some(body) = tracers::encode(&e, schema::VERSION, etid, self.server_etid, subtid)
            {
                peer.outbox.send_body(body);
            }
            return routed;
        }
        let req: schema::AttachRequest = serde_json::from_slice(&msg.payload).unwrap_or_default();
        let outbox = peer.outbox.clone();
        let (rx, preview) = self.tracers.attach(etid, &req);
        self.tracers.emit_to(etid, self.snapshot_event());
        routed.tracer = Some(Pump {
            rx,
            preview,
            outbox,
            tid: etid,
            ptid: self.server_etid,
            subtid,
            version: req.v,
        });
        routed
    }

    /// The broker's state for a tracer that just attached; lists are cut so
    /// the event fits in one message (the `reason` then says so).
    pub(crate) fn snapshot_event(&self) -> Event {
        let mut topics: Vec<schema::TopicInfo> = self
            .topics
            .iter()
            .map(|(&tid, t)| schema::TopicInfo {
                tid,
                name: display_bytes(&t.name),
                subscribers: Some(t.count()),
            })
            .collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        let mut subtopics: Vec<schema::SubtopicInfo> = self
            .subtopics
            .iter()
            .filter(|(id, _)| !self.is_reserved(**id))
            .map(|(&subtid, n)| schema::SubtopicInfo {
                subtid,
                name: display_bytes(n),
            })
            .collect();
        subtopics.sort_by(|a, b| a.name.cmp(&b.name));
        let mut clients: Vec<schema::Client> = self
            .peers
            .iter()
            .map(|(&etid, p)| schema::Client {
                addr: Some(p.addr.to_string()),
                server: false,
                ..self.client(etid)
            })
            .collect();
        clients.sort_by(|a, b| a.uid.cmp(&b.uid));
        let mut subscriptions: Vec<schema::SubscriptionInfo> = self
            .peers
            .iter()
            .flat_map(|(&etid, p)| {
                p.topics.iter().filter_map(move |tid| {
                    let topic = display_bytes(&self.topics.get(tid)?.name);
                    Some(schema::SubscriptionInfo { etid, topic })
                })
            })
            .collect();
        subscriptions.sort_by(|a, b| (a.etid, &a.topic).cmp(&(b.etid, &b.topic)));
        let mut e = Event::new(Kind::Snapshot, schema::now_ts());
        let total = (topics.len(), subtopics.len(), clients.len());
        let total_subscriptions = subscriptions.len();
        loop {
            e.snapshot = Some(schema::Snapshot {
                server_etid: Some(self.server_etid),
                topics: topics.clone(),
                subtopics: subtopics.clone(),
                clients: clients.clone(),
                subscriptions: subscriptions.clone(),
            });
            let fits = serde_json::to_vec(&e)
                .map(|j| j.len() + 200 < crate::protocol::MAX_PAYLOAD)
                .unwrap_or(false);
            if fits
                || (topics.is_empty()
                    && subtopics.is_empty()
                    && clients.is_empty()
                    && subscriptions.is_empty())
            {
                break;
            }
            topics.truncate(topics.len() / 2);
            subtopics.truncate(subtopics.len() / 2);
            clients.truncate(clients.len() / 2);
            subscriptions.truncate(subscriptions.len() / 2);
            let mut reason = format!(
                "snapshot cut to fit one message: {} of {} topics, {} of {} sub-topics, {} of {} clients",
                topics.len(),
                total.0,
                subtopics.len(),
                total.1,
                clients.len(),
                total.2
            );
            if total_subscriptions > 0 {
                reason.push_str(&format!(
                    ", {} of {total_subscriptions} subscriptions",
                    subscriptions.len()
                ));
            }
            e.reason = Some(reason);
        }
        e
    }

    // ----- server-side API -----

    pub(crate) fn set_handler(&mut self, handler: Arc<dyn ServerHandler>) {
        self.handler = Some(handler);
    }

    pub(crate) fn tid2topic(&self, tid: u32) -> Option<&Bytes> {
        self.topics.get(&tid).map(|t| &t.name)
    }

    pub(crate) fn topic2tid(&self, name: &[u8]) -> Option<u32> {
        self.topic_ids.get(name).copied()
    }

    pub(crate) fn tid2subtopic(&self, subtid: u32) -> Option<&Bytes> {
        self.subtopics.get(&subtid)
    }

    pub(crate) fn subtopic2tid(&self, name: &[u8]) -> Option<u32> {
        self.subtopic_ids.get(name).copied()
    }

    pub(crate) fn peer_info(&self, etid: u32) -> Option<PeerInfo> {
        self.peers.get(&etid).map(|p| PeerInfo {
            etid,
            uid: display_bytes(&p.uid),
            info: display_bytes(&p.info),
            peer: p.addr,
            transport: p.transport,
            tls: p.tls,
            topics: p.topics.clone(),
            dropped: p.dropped,
        })
    }

    pub(crate) fn peer_infos(&self) -> Vec<PeerInfo> {
        self.peers
            .keys()
            .filter_map(|&e| self.peer_info(e))
            .collect()
    }

    #[cfg(test)]
    pub(crate) fn tracers(&self) -> &Tracers {
        &self.tracers
    }

    pub(crate) fn stats(&self) -> BrokerStats {
        BrokerStats {
            connections: self.peers.len(),
            topics: self.topics.len(),
            tracers: self.tracers.len(),
            ..self.stats
        }
    }
}

fn non_empty(b: &Bytes) -> Option<String> {
    (!b.is_empty()).then(|| display_bytes(b))
}

/// Queues a message for one receiver; 1 if queued, 0 if dropped. A full
/// queue is noted in `full` (etid, missed so far) for the log.
fn deliver(
    peer: &mut Peer,
    etid: u32,
    out: &mut Outgoing,
    full: &mut Vec<(u32, u64)>,
    stats: &mut BrokerStats,
) -> usize {
    let Some(frame) = out.for_transport(peer.outbox.is_raw()) else {
        return 0;
    };
    match peer.outbox.send(frame) {
        Sent::Ok => 1,
        Sent::Full => {
            peer.dropped += 1;
            stats.queue_full += 1;
            full.push((etid, peer.dropped));
            0
        }
        Sent::Closed => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::outbox::{Inbox, QUEUE_FRAMES};

    fn router() -> Router {
        Router::new(false, Events::new())
    }

    struct Client {
        etid: u32,
        who: Who,
        inbox: Inbox,
    }

    impl Client {
        fn drain(&mut self) -> Vec<Packet> {
            let mut out = Vec::new();
            while let Some(f) = self.inbox.try_recv() {
                out.push(Packet::decode(f).expect("broker sends valid packets"));
            }
            out
        }
    }

    fn join(r: &mut Router, uid: &str) -> Client {
        join_from(r, uid, "127.0.0.1:1")
    }

    fn join_from(r: &mut Router, uid: &str, addr: &str) -> Client {
        let (outbox, inbox) = Outbox::new(false);
        let conn = rand::random();
        let etid = r
            .connect(NewPeer {
                conn,
                uid: Bytes::copy_from_slice(uid.as_bytes()),
                info: Bytes::new(),
                addr: addr.parse().expect("addr"),
                transport: Transport::Ws,
                tls: false,
                outbox,
            })
            .expect("open");
        let mut c = Client {
            etid,
            who: Who { etid, conn },
            inbox,
        };
        assert_eq!(c.drain(), vec![Packet::Connack(Connack::accepted(etid))]);
        c
    }

    fn change(tid: u32, count: u32) -> Packet {
        Packet::Change(Change { tid, count })
    }

    #[test]
    fn etids_and_topic_ids_share_one_space_and_are_never_zero_or_server() {
        let mut r = router();
        let a = join(&mut r, "client-a");
        let t = r.lookup_or_create(b"x");
        assert_ne!(a.etid, t);
        for id in [a.etid, t] {
            assert!(id != 0 && id != 1);
        }
        assert_eq!(r.lookup_or_create(b"x"), t, "topics keep their id");
    }

    #[test]
    fn rndtid_gives_a_random_server_etid() {
        // Against the default (1): `!= 0` alone passed with rndtid ignored.
        assert_eq!(Router::new(false, Events::new()).server_etid(), 1);
        let a = Router::new(true, Events::new()).server_etid();
        let b = Router::new(true, Events::new()).server_etid();
        assert!(a != 0 && a != 1 && b != 0 && b != 1, "{a} {b}");
        assert_ne!(a, b, "two rndtid routers drew the same ETID");
    }

    #[test]
    fn subscribe_notifies_observers_before_the_suback_and_only_once() {
        let mut r = router();
        let mut a = join(&mut r, "client-a");
        let mut b = join(&mut r, "client-b");
        let tid = r.lookup_or_create(b"T");
        r.observe(b.who, tid);
        assert_eq!(b.drain(), vec![change(tid, 0)]);
        r.subscribe(a.who, Bytes::from_static(b"T"));
        r.subscribe(a.who, Bytes::from_static(b"T"));
        assert_eq!(
            b.drain(),
            vec![change(tid, 1)],
            "duplicate subscribe is silent"
        );
        let suback = Packet::Suback(Ack {
            status: 0,
            tid,
            name: Bytes::from_static(b"T"),
        });
        assert_eq!(a.drain(), vec![suback.clone(), suback]);
    }

    #[test]
    fn leaving_client_that_observes_its_topic_hears_its_own_departure() {
        // Mako's terminatePeerT sends the Changes before closing the socket.
        let mut r = router();
        let mut a = join(&mut r, "client-a");
        let b = join(&mut r, "client-b");
        r.subscribe(a.who, Bytes::from_static(b"T"));
        r.subscribe(b.who, Bytes::from_static(b"T"));
        let tid = r.lookup_or_create(b"T");
        r.observe(a.who, tid);
        a.drain();
        r.disconnect(a.who, "client sent Disconnect");
        assert_eq!(a.drain(), vec![change(tid, 1)]);
    }

    #[test]
    fn observers_forget_a_client_that_left() {
        // The observe(ptid) presence pattern must not grow observer lists forever.
        let mut r = router();
        let watcher = join(&mut r, "watcher");
        for i in 0..50 {
            let peer = join(&mut r, &format!("peer-{i:04}"));
            r.observe(watcher.who, peer.etid);
            r.disconnect(peer.who, "gone");
        }
        let w = r.peers.get(&watcher.etid).expect("watcher");
        assert!(w.observing.is_empty(), "{:?}", w.observing);
        assert!(r.observers.is_empty());
    }

    #[test]
    fn shutdown_sends_every_disconnect_before_any_change() {
        let mut r = router();
        let mut a = join(&mut r, "client-a");
        let mut b = join(&mut r, "client-b");
        r.subscribe(a.who, Bytes::from_static(b"T"));
        r.subscribe(b.who, Bytes::from_static(b"T"));
        let tid = r.lookup_or_create(b"T");
        r.observe(a.who, tid);
        r.observe(b.who, tid);
        a.drain();
        b.drain();
        r.shutdown_all("bye");
        for c in [&mut a, &mut b] {
            let got = c.drain();
            assert_eq!(
                got.first(),
                Some(&Packet::Disconnect {
                    reason: Bytes::from_static(b"bye")
                }),
                "{got:?}"
            );
        }
    }

    #[test]
    fn unobserve_removes_only_the_observation() {
        let mut r = router();
        let mut a = join(&mut r, "client-a");
        let mut b = join(&mut r, "client-b");
        let tid = r.lookup_or_create(b"T");
        r.observe(b.who, tid);
        r.unobserve(b.who, tid);
        b.drain();
        r.subscribe(a.who, Bytes::from_static(b"T"));
        assert_eq!(b.drain(), vec![], "no Change after unobserve");
        // The topic itself is intact (Mako would have lost its subscribers here).
        let p = Publish {
            tid,
            ptid: b.etid,
            subtid: 0,
            payload: Bytes::from_static(b"still routed"),
        };
        r.publish(
            None,
            &p,
            Outgoing::new(Packet::Publish(p.clone()).to_bytes(), None),
        );
        assert_eq!(a.drain().last(), Some(&Packet::Publish(p)));
    }

    /// One step of a random session against the router.
    #[derive(Debug, Clone)]
    enum Op {
        Join(usize),
        Leave(usize),
        Subscribe(usize, usize),
        Unsubscribe(usize, usize),
        ObserveTopic(usize, usize),
        ObservePeer(usize, usize),
        Unobserve(usize, usize),
        Publish(usize, usize),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let c = 0usize..4; // clients (the same UID again means takeover)
        let t = 0usize..3; // topics
        prop_oneof![
            c.clone().prop_map(Op::Join),
            c.clone().prop_map(Op::Leave),
            (c.clone(), t.clone()).prop_map(|(a, b)| Op::Subscribe(a, b)),
            (c.clone(), t.clone()).prop_map(|(a, b)| Op::Unsubscribe(a, b)),
            (c.clone(), t.clone()).prop_map(|(a, b)| Op::ObserveTopic(a, b)),
            (c.clone(), c.clone()).prop_map(|(a, b)| Op::ObservePeer(a, b)),
            (c.clone(), t.clone()).prop_map(|(a, b)| Op::Unobserve(a, b)),
            (c, t).prop_map(|(a, b)| Op::Publish(a, b)),
        ]
    }

    /// The router's tables agree with each other after any sequence of
    /// operations: subscriptions both ways, observers only of live clients, and
    /// every Change a client receives carries the true subscriber count.
    fn check_invariants(r: &Router) {
        for (tid, topic) in &r.topics {
            for etid in &topic.subs {
                let peer = r.peers.get(etid).expect("subscriber is a live client");
                assert!(peer.topics.contains(tid), "peer {etid} lacks topic {tid}");
            }
        }
        for (etid, peer) in &r.peers {
            for tid in &peer.topics {
                assert!(
                    r.topics[tid].subs.contains(etid),
                    "topic {tid} lacks {etid}"
                );
            }
            for tid in &peer.observing {
                assert!(
                    r.observers.get(tid).is_some_and(|o| o.contains(etid)),
                    "{etid} observes {tid} but is not listed"
                );
            }
        }
        for (tid, list) in &r.observers {
            assert!(!list.is_empty(), "empty observer list for {tid}");
            for o in list {
                let peer = r.peers.get(o).expect("observer is a live client");
                assert!(peer.observing.contains(tid));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn tables_stay_consistent_under_any_sequence(ops in proptest::collection::vec(op(), 1..60)) {
            let mut r = router();
            let mut clients: Vec<Option<Client>> = (0..4).map(|_| None).collect();
            let names = [&b"A"[..], b"B", b"C"];
            for op in ops {
                match op {
                    Op::Join(i) => {
                        // Same UID as a live client: a takeover.
                        let c = join(&mut r, &format!("client-{i:02}"));
                        clients[i] = Some(c);
                    }
                    Op::Leave(i) => {
                        if let Some(c) = clients[i].take() {
                            r.disconnect(c.who, "left");
                        }
                    }
                    Op::Subscribe(i, t) => {
                        if let Some(c) = &clients[i] {
                            r.subscribe(c.who, Bytes::from_static(names[t]));
                        }
                    }
                    Op::Unsubscribe(i, t) => {
                        if let Some(c) = &clients[i] {
                            let tid = r.lookup_or_create(names[t]);
                            r.unsubscribe(c.who, tid);
                        }
                    }
                    Op::ObserveTopic(i, t) => {
                        if let Some(c) = &clients[i] {
                            let tid = r.lookup_or_create(names[t]);
                            r.observe(c.who, tid);
                        }
                    }
                    Op::ObservePeer(i, j) => {
                        if let (Some(c), Some(d)) = (&clients[i], &clients[j]) {
                            r.observe(c.who, d.etid);
                        }
                    }
                    Op::Unobserve(i, t) => {
                        if let Some(c) = &clients[i] {
                            let tid = r.lookup_or_create(names[t]);
                            r.unobserve(c.who, tid);
                        }
                    }
                    Op::Publish(i, t) => {
                        if let Some(c) = &clients[i] {
                            let tid = r.lookup_or_create(names[t]);
                            let p = Publish { tid, ptid: c.etid, subtid: 0, payload: Bytes::from_static(b"x") };
                            r.publish(Some(c.who), &p, Outgoing::new(Packet::Publish(p.clone()).to_bytes(), None));
                        }
                    }
                }
                check_invariants(&r);
                // Every Change any live client got matches the count right now
                // or an earlier state; the last one per topic must be current.
                for c in clients.iter_mut().flatten() {
                    let mut last = std::collections::HashMap::new();
                    for p in c.drain() {
                        if let Packet::Change(ch) = p {
                            last.insert(ch.tid, ch.count);
                        }
                    }
                    for (tid, count) in last {
                        if let Some(topic) = r.topics.get(&tid) {
                            proptest::prop_assert_eq!(count as usize, topic.subs.len(), "stale Change for {}", tid);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn taken_over_connection_can_no_longer_act_for_the_etid() {
        let mut r = router();
        let mut old = join(&mut r, "same-uid");
        let mut new = join(&mut r, "same-uid");
        assert_eq!(old.etid, new.etid);
        assert_eq!(
            old.drain(),
            vec![Packet::Disconnect {
                reason: Bytes::from_static(b"reconnect")
            }]
        );
        // Packets the old connection had already read arrive after the takeover.
        r.subscribe(old.who, Bytes::from_static(b"T"));
        let p = Publish {
            tid: new.etid,
            ptid: old.etid,
            subtid: 0,
            payload: Bytes::from_static(b"stale"),
        };
        let routed = r.publish(
            Some(old.who),
            &p,
            Outgoing::new(Packet::Publish(p.clone()).to_bytes(), None),
        );
        assert_eq!(routed.receivers, 0);
        r.disconnect(old.who, "closed");
        assert_eq!(
            new.drain(),
            vec![],
            "no Suback, no message, still registered"
        );
        assert_eq!(r.peer_info(new.etid).map(|p| p.topics), Some(vec![]));
    }

    #[test]
    fn server_subscription_counts_as_a_subscriber() {
        let mut r = router();
        let mut b = join(&mut r, "client-b");
        let tid = r.subscribe_server(b"T");
        r.observe(b.who, tid);
        assert_eq!(b.drain(), vec![change(tid, 1)]);
        r.unsubscribe_server(tid);
        assert_eq!(b.drain(), vec![change(tid, 0)]);
    }

    #[test]
    fn unsubscribing_own_etid_stops_direct_delivery_like_mako() {
        let mut r = router();
        let mut a = join(&mut r, "client-a");
        let mut b = join(&mut r, "client-b");
        r.observe(b.who, a.etid);
        r.unsubscribe(a.who, a.etid);
        assert_eq!(b.drain(), vec![change(a.etid, 0)]);
        let p = Publish {
            tid: a.etid,
            ptid: b.etid,
            subtid: 0,
            payload: Bytes::new(),
        };
        r.publish(
            None,
            &p,
            Outgoing::new(Packet::Publish(p.clone()).to_bytes(), None),
        );
        assert_eq!(a.drain(), vec![]);
    }

    #[test]
    fn full_queue_drops_for_that_receiver_only_and_counts_it() {
        let mut r = router();
        let mut slow = join(&mut r, "client-slow");
        let mut fast = join(&mut r, "client-fast");
        r.subscribe(slow.who, Bytes::from_static(b"T"));
        r.subscribe(fast.who, Bytes::from_static(b"T"));
        slow.drain();
        fast.drain();
        let tid = r.topic2tid(b"T").expect("topic");
        let p = Publish {
            tid,
            ptid: fast.etid,
            subtid: 0,
            payload: Bytes::from_static(b"x"),
        };
        let body = Packet::Publish(p.clone()).to_bytes();
        let mut fast_got = 0;
        for _ in 0..QUEUE_FRAMES + 10 {
            r.publish(None, &p, Outgoing::new(body.clone(), None));
            fast_got += fast.drain().len();
        }
        assert_eq!(fast_got, QUEUE_FRAMES + 10);
        assert_eq!(slow.drain().len(), QUEUE_FRAMES);
        assert_eq!(r.peer_info(slow.etid).map(|p| p.dropped), Some(10));
        assert_eq!(r.stats().queue_full, 10);
    }

    // ----- tracers -----

    /// Publishes an attach request from `c`; returns the pump the caller would run.
    fn attach(r: &mut Router, c: &Client, preview: usize) -> Option<Pump> {
        attach_with(r, c, format!(r#"{{"v":1,"preview":{preview}}}"#))
    }

    /// Publishes the attach request `body` from `c`.
    fn attach_with(r: &mut Router, c: &Client, body: String) -> Option<Pump> {
        let sub = r.create_subtopic(schema::SUB_ATTACH.as_bytes());
        let p = Publish {
            tid: r.server_etid(),
            ptid: c.etid,
            subtid: sub,
            payload: Bytes::from(body),
        };
        let body = Packet::Publish(p.clone()).to_bytes();
        r.publish(Some(c.who), &p, Outgoing::new(body, None)).tracer
    }

    fn events(pump: &mut Pump) -> Vec<Event> {
        let mut out = Vec::new();
        while let Ok(q) = pump.rx.try_recv() {
            out.push(q.into_event(pump.preview));
        }
        out
    }

    fn send(r: &mut Router, c: &Client, tid: u32, subtid: u32, payload: &'static [u8]) {
        let p = Publish {
            tid,
            ptid: c.etid,
            subtid,
            payload: Bytes::from_static(payload),
        };
        let body = Packet::Publish(p.clone()).to_bytes();
        r.publish(Some(c.who), &p, Outgoing::new(body, None));
    }

    /// Before, a full queue was only in the broker's own log (a local kind):
    /// a tracer (and so `analyze`'s slow-consumer) never saw who missed what.
    #[test]
    fn a_full_queue_is_a_drop_per_missed_receiver_for_tracers_after_the_message_event() {
        let mut r = router();
        let mut slow = join(&mut r, "client-slow");
        let mut fast = join(&mut r, "client-fast");
        r.subscribe(slow.who, Bytes::from_static(b"T"));
        r.subscribe(fast.who, Bytes::from_static(b"T"));
        let tracer = join(&mut r, "tracer-01");
        let mut pump = attach(&mut r, &tracer, 16).expect("loopback tracer attaches");
        slow.drain();
        fast.drain();
        let tid = r.topic2tid(b"T").expect("topic");
        for _ in 0..QUEUE_FRAMES {
            send(&mut r, &fast, tid, 0, b"x");
            fast.drain();
            events(&mut pump);
        }
        // Slow's queue is full now: fast still gets it.
        send(&mut r, &fast, tid, 0, b"one more");
        let got = events(&mut pump);
        let kinds: Vec<Kind> = got.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [Kind::Publish, Kind::Drop], "{got:#?}");
        assert_eq!(got[0].receivers, Some(1));
        let miss = &got[1];
        assert!(miss.is_miss(), "{miss:?}");
        assert_eq!(
            miss.missed_by(),
            Some((Some("client-slow".to_string()), slow.etid))
        );
        assert_eq!(miss.from.as_ref().map(|c| c.etid), Some(fast.etid));
        assert_eq!(miss.to.as_ref().and_then(|d| d.name.as_deref()), Some("T"));
        assert_eq!(miss.payload.as_deref(), Some("one more"));
        // Nobody takes it now (fast's queue left alone too): the message's
        // drop, then one miss per receiver.
        for _ in 0..QUEUE_FRAMES {
            send(&mut r, &slow, tid, 0, b"y");
        }
        events(&mut pump);
        send(&mut r, &slow, tid, 0, b"z");
        // (A notice may say the tracer's own queue skipped some of the y's.)
        let got: Vec<Event> = events(&mut pump)
            .into_iter()
            .filter(|e| e.kind != Kind::Notice)
            .collect();
        let reasons: Vec<&str> = got.iter().filter_map(|e| e.reason.as_deref()).collect();
        assert_eq!(reasons.len(), 3, "{got:#?}");
        assert_eq!(
            reasons[0],
            "no subscriber could take it (queue full or closing)"
        );
        let mut missed: Vec<u32> = got[1..]
            .iter()
            .filter_map(|e| e.missed_by().map(|(_, etid)| etid))
            .collect();
        missed.sort_unstable();
        let mut both = vec![slow.etid, fast.etid];
        both.sort_unstable();
        assert_eq!(missed, both);
    }

    #[test]
    fn attached_tracer_gets_a_snapshot_then_events_with_names_resolved() {
        let mut r = router();
        let early = join(&mut r, "sub-early");
        r.subscribe(early.who, Bytes::from_static(b"DeviceState"));
        let tracer = join(&mut r, "tracer-01");
        let mut pump = attach(&mut r, &tracer, 4).expect("loopback tracer attaches");
        let snap = events(&mut pump);
        assert_eq!(snap.len(), 1, "{snap:?}");
        let s = snap[0].snapshot.as_ref().expect("snapshot");
        assert_eq!(s.server_etid, Some(1));
        assert_eq!(s.topics.len(), 1);
        assert_eq!(
            (s.topics[0].name.as_str(), s.topics[0].subscribers),
            ("DeviceState", Some(1))
        );
        let uids: Vec<_> = s.clients.iter().filter_map(|c| c.uid.as_deref()).collect();
        assert_eq!(uids, ["sub-early", "tracer-01"]);
        assert!(s.clients.iter().all(|c| c.addr.is_some()));
        assert!(
            s.subtopics.iter().all(|x| !x.name.starts_with("$smqctl")),
            "{:?}",
            s.subtopics
        );

        let a = join(&mut r, "publisher-a");
        let set = r.create_subtopic(b"SetCharger");
        let tid = r.topic2tid(b"DeviceState").expect("topic");
        send(&mut r, &a, tid, set, b"{\"On\":true}");
        let lonely = r.lookup_or_create(b"Nobody");
        send(&mut r, &a, lonely, 0, b"hello");
        send(&mut r, &a, 1, 0, b"to server");
        send(&mut r, &a, early.etid, 0, b"direct");
        send(&mut r, &a, 0xdead_beef, 0, b"lost");
        r.disconnect(a.who, "client sent Disconnect");
        let got = events(&mut pump);
        let kinds: Vec<Kind> = got.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Connect,
                Kind::Publish,
                Kind::Drop,
                Kind::Drop,
                Kind::Publish,
                Kind::Drop,
                Kind::Close
            ]
        );
        let from = got[1].from.as_ref().expect("from");
        assert_eq!(
            (from.etid, from.uid.as_deref()),
            (a.etid, Some("publisher-a"))
        );
        let to = got[1].to.as_ref().expect("to");
        assert_eq!(
            (to.kind, to.name.as_deref()),
            (DestType::Topic, Some("DeviceState"))
        );
        assert_eq!(got[1].subtopic.as_deref(), Some("SetCharger"));
        assert_eq!((got[1].receivers, got[1].verdict), (Some(1), Some(true)));
        assert_eq!(got[1].size, Some(11));
        assert_eq!(
            (got[1].payload.as_deref(), got[1].truncated),
            (Some("{\"On"), true),
            "preview cut at what the tracer asked for"
        );
        assert_eq!(got[2].reason.as_deref(), Some("no subscribers"));
        assert_eq!(got[2].to.as_ref().map(|d| d.label()), Some("Nobody".into()));
        assert_eq!(got[3].to.as_ref().map(|d| d.kind), Some(DestType::Server));
        let direct = got[4].to.as_ref().expect("to");
        assert_eq!(
            (direct.kind, direct.uid.as_deref()),
            (DestType::Client, Some("sub-early"))
        );
        assert_eq!(got[5].to.as_ref().map(|d| d.kind), Some(DestType::Unknown));
        assert_eq!(got[6].reason.as_deref(), Some("client sent Disconnect"));
        assert_eq!(
            got[6].from.as_ref().and_then(|c| c.uid.as_deref()),
            Some("publisher-a"),
            "the name is resolved before the client is forgotten"
        );
    }

    #[test]
    fn one_record_per_decision_reaches_log_and_tracer_and_local_kinds_only_the_log() {
        let mut r = router();
        let mut log = r.events.subscribe();
        let tracer = join(&mut r, "tracer-01");
        let mut pump = attach(&mut r, &tracer, 256).expect("attached");
        let mut logged = Vec::new();
        while let Ok(rec) = log.try_recv() {
            logged.push(rec.event.kind);
        }
        assert_eq!(
            logged,
            [Kind::Connect, Kind::Attach],
            "the log hears the attach"
        );
        assert_eq!(events(&mut pump).len(), 1, "the tracer only its snapshot");

        let watcher = join(&mut r, "watcher");
        let t = r.lookup_or_create(b"T");
        r.observe(watcher.who, t);
        r.unobserve(watcher.who, t);
        r.subscribe(watcher.who, Bytes::from_static(b"T"));
        r.disconnect(watcher.who, "gone");
        r.shutdown_all("bye");
        let mut logged = Vec::new();
        while let Ok(rec) = log.try_recv() {
            logged.push(rec);
        }
        let kinds: Vec<Kind> = logged.iter().map(|r| r.event.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Connect,
                Kind::Observe,
                Kind::Unobserve,
                Kind::Subscribe,
                Kind::Close,
                Kind::Shutdown,
                Kind::Close
            ]
        );
        let mut queued = Vec::new();
        while let Ok(q) = pump.rx.try_recv() {
            queued.push(q);
        }
        let traced: Vec<Kind> = queued.iter().map(|q| q.event.kind).collect();
        assert_eq!(
            traced,
            [Kind::Connect, Kind::Subscribe, Kind::Close, Kind::Close],
            "no broker-local kind reaches a tracer"
        );
        // The tracer's record is the log's: built once.
        assert!(Arc::ptr_eq(&queued[0], &logged[0]));
        assert!(Arc::ptr_eq(&queued[1], &logged[3]));
    }

    #[test]
    fn trace_messages_are_never_traced_nor_routed_to_the_handler() {
        let mut r = router();
        let seen = Arc::new(std::sync::Mutex::new(0));
        let s = seen.clone();
        r.set_handler(Arc::new(
            move |_: &super::super::Broker, _m: ServerMessage| {
                *s.lock().expect("lock") += 1;
            },
        ));
        let tracer = join(&mut r, "tracer-01");
        let mut pump = attach(&mut r, &tracer, 256).expect("attached");
        events(&mut pump);
        // A second attach, a publish with a reserved sub-topic to a topic, a detach.
        let mut again = attach(&mut r, &tracer, 256).expect("re-attached");
        assert!(pump.rx.is_closed(), "the first attachment was replaced");
        let other = join(&mut r, "other-client");
        let reserved = r.create_subtopic(b"$smqctl.trace.private");
        let t = r.lookup_or_create(b"T");
        send(&mut r, &other, t, reserved, b"x");
        let detach = r.create_subtopic(schema::SUB_DETACH.as_bytes());
        let kinds: Vec<Kind> = events(&mut again).iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [Kind::Snapshot, Kind::Connect],
            "no createsub, publish or drop"
        );
        assert!(r.tracers().is_attached(tracer.etid));
        send(&mut r, &tracer, 1, detach, b"");
        assert!(!r.tracers().is_attached(tracer.etid));
        assert_eq!(
            *seen.lock().expect("lock"),
            0,
            "the app handler saw none of it"
        );
    }

    #[test]
    fn tracer_from_a_non_loopback_address_is_refused_with_an_error_event() {
        let mut r = router();
        let mut far = join_from(&mut r, "far-tracer", "192.0.2.7:5000");
        assert!(attach(&mut r, &far, 256).is_none());
        assert!(r.tracers().is_empty());
        let got = far.drain();
        let [Packet::Publish(p)] = got.as_slice() else {
            panic!("one error message expected: {got:?}");
        };
        assert_eq!(p.tid, far.etid);
        assert_eq!(
            r.tid2subtopic(p.subtid).map(|b| b.to_vec()),
            Some(schema::SUB_EVENTS.as_bytes().to_vec())
        );
        let e: Event = serde_json::from_slice(&p.payload).expect("schema event");
        assert_eq!(
            (e.kind, e.reason.as_deref()),
            (Kind::Error, Some("not authorized"))
        );

        r.set_trace_allow(TraceAllow::parse("192.0.2.0/24").expect("cidr"));
        assert!(
            attach(&mut r, &far, 256).is_some(),
            "widened by --trace-allow"
        );
    }

    #[test]
    fn slow_tracer_loses_events_not_publishers_and_is_forgotten_on_close() {
        let mut r = router();
        let tracer = join(&mut r, "tracer-01");
        let mut pump = attach(&mut r, &tracer, 256).expect("attached");
        let mut sub = join(&mut r, "subscriber");
        r.subscribe(sub.who, Bytes::from_static(b"T"));
        sub.drain();
        let t = r.topic2tid(b"T").expect("T");
        let publisher = join(&mut r, "publisher");
        let n = tracers::TRACER_QUEUE + 1000;
        for _ in 0..n {
            send(&mut r, &publisher, t, 0, b"x");
        }
        assert_eq!(sub.drain().len(), n, "every message still routed");
        let skipped = r.tracers().skipped(tracer.etid).expect("attached");
        assert!(skipped >= 1000, "{skipped}");
        assert_eq!(events(&mut pump).len(), tracers::TRACER_QUEUE);
        send(&mut r, &publisher, t, 0, b"x");
        let got = events(&mut pump);
        assert_eq!(got[0].skipped, Some(skipped));
        r.disconnect(tracer.who, "gone");
        assert!(r.tracers().is_empty());
    }

    #[test]
    fn a_tracer_gets_the_schema_version_it_attached_with() {
        let mut r = router();
        for (body, want) in [
            (r#"{"v":1,"preview":8}"#, 1),
            (r#"{"v":2,"preview":8}"#, 2),
            (r#"{"preview":8}"#, schema::VERSION),
        ] {
            let tracer = join(&mut r, "tracer-01");
            let pump = attach_with(&mut r, &tracer, body.into()).expect("attached");
            assert_eq!(pump.version, want, "{body}");
            r.disconnect(tracer.who, "next");
        }
    }

    #[tokio::test]
    async fn the_pump_delivers_events_as_publish_messages_to_the_tracer() {
        let mut r = router();
        let mut tracer = join(&mut r, "tracer-01");
        let pump = attach(&mut r, &tracer, 256).expect("attached");
        let (subtid, server) = (pump.subtid, pump.ptid);
        let task = tokio::spawn(pump.run());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let got = loop {
            let got = tracer.drain();
            if !got.is_empty() || std::time::Instant::now() > deadline {
                break got;
            }
            tokio::task::yield_now().await;
        };
        let Some(Packet::Publish(p)) = got.first() else {
            panic!("snapshot expected: {got:?}");
        };
        assert_eq!((p.tid, p.ptid, p.subtid), (tracer.etid, server, subtid));
        let e: Event = serde_json::from_slice(&p.payload).expect("schema");
        assert_eq!(e.kind, Kind::Snapshot);
        r.disconnect(tracer.who, "gone");
        tokio::time::timeout(std::time::Duration::from_secs(10), task)
            .await
            .expect("pump ends when the tracer leaves")
            .expect("no panic");
    }
}
