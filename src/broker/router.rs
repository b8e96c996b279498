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
//! May import: `protocol`, `trace`, and siblings' plain types (no sockets).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::{Notify, mpsc};

use super::{BrokerStats, PeerInfo, ServerHandler, ServerMessage, Tracer};
use crate::protocol::framing;
use crate::protocol::{
    Ack, Change, Connack, PUBLISH_HEADER_LEN, Packet, Publish, display_bytes, kind,
};
use crate::trace::{TraceEvent, Transport};

/// Frames a client may have waiting before further messages to it are dropped.
pub(crate) const QUEUE_FRAMES: usize = 65536;
/// Bytes a client may have waiting before further messages to it are dropped
/// (so one stalled reader of 64 KiB messages cannot hold 256 MiB).
pub(crate) const QUEUE_BYTES: usize = 8 << 20;

/// Identifies one accepted TCP connection; an ETID outlives it on takeover.
pub(crate) type ConnId = u64;

/// The client a packet came from. The connection id matters after a takeover:
/// the old connection's last packets must not act on the new one's ETID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Who {
    pub etid: u32,
    pub conn: ConnId,
}

/// The sending side of one client's queue of encoded frames. The router holds
/// one clone, the client's session another; the writer ends when both are gone.
#[derive(Clone)]
pub(crate) struct Outbox {
    tx: mpsc::Sender<Bytes>,
    /// Raw frames carry the 2-byte length prefix; WebSocket frames do not.
    raw: bool,
    queued: Arc<AtomicUsize>,
}

pub(crate) enum Sent {
    Ok,
    Full,
    Closed,
}

impl Outbox {
    pub(crate) fn new(raw: bool) -> (Outbox, Inbox) {
        let (tx, rx) = mpsc::channel(QUEUE_FRAMES);
        let queued = Arc::new(AtomicUsize::new(0));
        (
            Outbox {
                tx,
                raw,
                queued: queued.clone(),
            },
            Inbox { rx, queued },
        )
    }

    /// Queues one frame already encoded for this client's transport.
    pub(crate) fn send(&self, frame: Bytes) -> Sent {
        let len = frame.len();
        let before = self.queued.fetch_add(len, Ordering::Relaxed);
        if before > 0 && before + len > QUEUE_BYTES {
            self.queued.fetch_sub(len, Ordering::Relaxed);
            return Sent::Full;
        }
        match self.tx.try_send(frame) {
            Ok(()) => Sent::Ok,
            Err(e) => {
                self.queued.fetch_sub(len, Ordering::Relaxed);
                match e {
                    mpsc::error::TrySendError::Full(_) => Sent::Full,
                    mpsc::error::TrySendError::Closed(_) => Sent::Closed,
                }
            }
        }
    }

    /// Encodes and queues a packet the broker generates (acks, Change, ...).
    pub(crate) fn send_packet(&self, packet: &Packet) -> Sent {
        let frame = if self.raw {
            match framing::encode_raw(packet) {
                Ok(f) => f,
                // A name too long to echo in a raw frame; Mako would send a
                // corrupt frame here, we send nothing.
                Err(_) => return Sent::Full,
            }
        } else {
            packet.to_bytes()
        };
        self.send(frame)
    }
}

/// The receiving side of a client's queue, owned by its writer task.
pub(crate) struct Inbox {
    rx: mpsc::Receiver<Bytes>,
    queued: Arc<AtomicUsize>,
}

impl Inbox {
    /// Waits for frames and moves up to `limit` of them into `out`; 0 means every
    /// sender is gone and the queue is empty.
    pub(crate) async fn recv_many(&mut self, out: &mut Vec<Bytes>, limit: usize) -> usize {
        let n = self.rx.recv_many(out, limit).await;
        let bytes: usize = out[out.len() - n..].iter().map(Bytes::len).sum();
        self.queued.fetch_sub(bytes, Ordering::Relaxed);
        n
    }
}

/// One message body on its way to several receivers: the raw-framed copy is made
/// at most once per fan-out, and only if a raw receiver exists.
pub(crate) struct Outgoing {
    body: Bytes,
    raw: Option<Bytes>,
}

impl Outgoing {
    /// `framed` is the same body with its length prefix when it arrived that way.
    pub(crate) fn new(body: Bytes, framed: Option<Bytes>) -> Self {
        Outgoing { body, raw: framed }
    }

    /// The frame for one receiver, or `None` when the body cannot be framed for a
    /// raw client (a WebSocket message above the 16-bit raw limit).
    fn for_transport(&mut self, raw: bool) -> Option<Bytes> {
        if !raw {
            return Some(self.body.clone());
        }
        if self.raw.is_none() {
            let mut out = BytesMut::new();
            framing::prefix_raw(&self.body, &mut out).ok()?;
            self.raw = Some(out.freeze());
        }
        self.raw.clone()
    }
}

/// Builds a Publish body (type byte, header, payload) for server-side publishes
/// and assembled fragments.
pub(crate) fn publish_body(tid: u32, ptid: u32, subtid: u32, payload: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(1 + PUBLISH_HEADER_LEN + payload.len());
    out.put_u8(kind::PUBLISH);
    out.put_u32(tid);
    out.put_u32(ptid);
    out.put_u32(subtid);
    out.put_slice(payload);
    out.freeze()
}

/// A client as the router knows it.
struct Peer {
    conn: ConnId,
    uid: Bytes,
    info: Bytes,
    addr: SocketAddr,
    transport: Transport,
    tls: bool,
    outbox: Outbox,
    kill: Arc<Notify>,
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
    pub kill: Arc<Notify>,
}

/// A call of the server handler the caller must make once the lock is released.
pub(crate) type ServerCall = (Arc<dyn ServerHandler>, ServerMessage);

/// What routing one Publish did.
pub(crate) struct Routed {
    /// Clients (and the server) that got it.
    pub receivers: usize,
    pub server: Option<ServerCall>,
}

pub(crate) struct Router {
    server_etid: u32,
    topics: HashMap<u32, Topic>,
    topic_ids: HashMap<Bytes, u32>,
    subtopics: HashMap<u32, Bytes>,
    subtopic_ids: HashMap<Bytes, u32>,
    peers: HashMap<u32, Peer>,
    uids: HashMap<Bytes, u32>,
    /// Observed TID/ETID -> observing ETIDs.
    observers: HashMap<u32, Vec<u32>>,
    handler: Option<Arc<dyn ServerHandler>>,
    tracer: Tracer,
    /// Set when the broker shuts down: no new registrations.
    closing: bool,
    /// Topic patterns whose Subscribe/Create is refused (Mako's `permittop`
    /// answering false): exact names, or prefixes ending in `*`.
    deny: Vec<String>,
    stats: BrokerStats,
}

impl Router {
    pub(crate) fn new(rndtid: bool, tracer: Tracer) -> Self {
        let mut r = Router {
            server_etid: 1,
            topics: HashMap::new(),
            topic_ids: HashMap::new(),
            subtopics: HashMap::new(),
            subtopic_ids: HashMap::new(),
            peers: HashMap::new(),
            uids: HashMap::new(),
            observers: HashMap::new(),
            handler: None,
            tracer,
            closing: false,
            deny: Vec::new(),
            stats: BrokerStats::default(),
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
        self.tracer.emit(|| TraceEvent::TopicDenied {
            etid,
            topic: display_bytes(&name),
            subscribe,
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
        self.tracer.emit(|| TraceEvent::Connect {
            etid,
            uid: display_bytes(&new.uid),
            info: display_bytes(&new.info),
            peer: new.addr.to_string(),
            transport: new.transport,
            tls: new.tls,
            takeover: old.is_some(),
        });
        self.uids.insert(new.uid.clone(), etid);
        self.peers.insert(
            etid,
            Peer {
                conn: new.conn,
                uid: new.uid,
                info: new.info,
                addr: new.addr,
                transport: new.transport,
                tls: new.tls,
                outbox: new.outbox,
                kill: new.kill,
                topics: Vec::new(),
                observing: Vec::new(),
                direct: true,
                dropped: 0,
            },
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
        self.tracer.emit(|| TraceEvent::Close {
            etid,
            uid: display_bytes(&uid),
            reason: reason.to_string(),
        });
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
        self.tracer.emit(|| TraceEvent::Shutdown {
            message: msg.to_string(),
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
            let kill = self.peers.get(&etid).map(|p| p.kill.clone());
            self.remove_peer(etid, msg);
            if let Some(k) = kill {
                k.notify_one();
            }
        }
    }

    /// Sends `Disconnect msg`, ends the client's session and removes it.
    fn evict(&mut self, etid: u32, msg: &str) {
        if let Some(p) = self.peers.get(&etid) {
            p.outbox.send_packet(&Packet::Disconnect {
                reason: Bytes::copy_from_slice(msg.as_bytes()),
            });
            p.kill.notify_one();
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
        self.tracer.emit(|| TraceEvent::Subscribe {
            etid,
            tid,
            topic: display_bytes(&name),
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
        self.tracer.emit(|| TraceEvent::Create {
            etid,
            tid,
            topic: display_bytes(&name),
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
        self.tracer.emit(|| TraceEvent::CreateSub {
            etid,
            subtid,
            name: display_bytes(&name),
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
        self.tracer.emit(|| TraceEvent::Unsubscribe { etid, tid });
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
        self.tracer.emit(|| TraceEvent::Observe { etid, tid });
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
        self.tracer.emit(|| TraceEvent::Unobserve { etid, tid });
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
                && let Some(f) = frame.for_transport(p.outbox.raw)
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
            };
        }
        let mut receivers = 0usize;
        let mut server = None;
        let why: &str;
        if let Some(topic) = self.topics.get(&msg.tid) {
            for etid in &topic.subs {
                if let Some(peer) = self.peers.get_mut(etid) {
                    receivers += deliver(peer, *etid, &mut out, msg, &self.tracer, &mut self.stats);
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
            server = self.handler.clone();
            receivers = usize::from(server.is_some());
            why = "server has no handler";
        } else if let Some(peer) = self.peers.get_mut(&msg.tid) {
            if peer.direct {
                receivers = deliver(peer, msg.tid, &mut out, msg, &self.tracer, &mut self.stats);
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
        }
        if self.tracer.enabled() {
            let (ptid, tid, subtid, payload) = (msg.ptid, msg.tid, msg.subtid, msg.payload.clone());
            self.tracer.send(if receivers == 0 {
                TraceEvent::Drop {
                    ptid,
                    tid,
                    subtid,
                    payload,
                    why: why.to_string(),
                }
            } else {
                TraceEvent::Publish {
                    ptid,
                    tid,
                    subtid,
                    payload,
                    receivers,
                }
            });
        }
        Routed {
            receivers,
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
    pub(crate) fn dropped(&mut self, msg: &Publish, why: &str) {
        self.stats.dropped += 1;
        self.tracer.emit(|| TraceEvent::Drop {
            ptid: msg.ptid,
            tid: msg.tid,
            subtid: msg.subtid,
            payload: msg.payload.clone(),
            why: why.to_string(),
        });
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

    pub(crate) fn stats(&self) -> BrokerStats {
        BrokerStats {
            connections: self.peers.len(),
            topics: self.topics.len(),
            ..self.stats
        }
    }
}

/// Queues a message for one receiver; 1 if queued, 0 if dropped.
fn deliver(
    peer: &mut Peer,
    etid: u32,
    out: &mut Outgoing,
    msg: &Publish,
    tracer: &Tracer,
    stats: &mut BrokerStats,
) -> usize {
    let Some(frame) = out.for_transport(peer.outbox.raw) else {
        return 0;
    };
    match peer.outbox.send(frame) {
        Sent::Ok => 1,
        Sent::Full => {
            peer.dropped += 1;
            stats.queue_full += 1;
            tracer.emit(|| TraceEvent::QueueFull {
                etid,
                ptid: msg.ptid,
                tid: msg.tid,
                dropped: peer.dropped,
            });
            0
        }
        Sent::Closed => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        Router::new(false, Tracer::new())
    }

    struct Client {
        etid: u32,
        who: Who,
        inbox: Inbox,
    }

    impl Client {
        fn drain(&mut self) -> Vec<Packet> {
            let mut out = Vec::new();
            while let Ok(f) = self.inbox.rx.try_recv() {
                out.push(Packet::decode(f).expect("broker sends valid packets"));
            }
            out
        }
    }

    fn join(r: &mut Router, uid: &str) -> Client {
        let (outbox, inbox) = Outbox::new(false);
        let conn = rand::random();
        let etid = r
            .connect(NewPeer {
                conn,
                uid: Bytes::copy_from_slice(uid.as_bytes()),
                info: Bytes::new(),
                addr: "127.0.0.1:1".parse().expect("addr"),
                transport: Transport::Ws,
                tls: false,
                outbox,
                kill: Arc::new(Notify::new()),
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
        let r = Router::new(true, Tracer::new());
        assert!(r.server_etid() != 0);
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

    #[test]
    fn byte_budget_limits_a_queue_of_large_frames() {
        let (outbox, _inbox) = Outbox::new(true);
        let big = Bytes::from(vec![0u8; 60_000]);
        let accepted = (0..1000)
            .take_while(|_| matches!(outbox.send(big.clone()), Sent::Ok))
            .count();
        assert_eq!(accepted, QUEUE_BYTES / 60_000);
    }
}
