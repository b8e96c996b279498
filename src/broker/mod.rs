//! The embedded SMQ broker: behaves like Mako's `smq.hub` (SMQ-PROTOCOL.md §2–§9),
//! quirks included, so smqctl can test clients without a Mako Server.
//!
//! The caller owns the listener and the shutdown signal ([`Broker::run`]); tests
//! bind port 0. Inside, [`router`] is the state without I/O (topics, clients,
//! subscriptions, observers, routing), [`session`] runs one connection (TLS,
//! HTTP bootstrap, WebSocket or raw framing, handshake, its reads and writes
//! in one task), [`http`] parses the request head, [`auth`] checks credentials and
//! [`tls`] loads certificates, `outbox` holds the per-client queues. What
//! happens is published once per decision as a [`Record`] (see [`events`]):
//! to attached tracers (`tracers`) and on [`Broker::events`]; building it
//! costs nothing while nobody listens.
//!
//! [`Broker`] also offers the server-side API of `smq.hub` (create, publish,
//! subscribe as the server client at ETID 1, lookups, shutdown) for features such
//! as RPC handlers: [`handlers`] is the rule set of `smqctl broker --handlers`
//! (named requests, `$RpcReq` functions, events) built on that API.
//!
//! May import: `protocol`, `trace`, `template` (handler replies), `text`. Never
//! `client`: broker and client are siblings that share only the protocol floor.

mod auth;
pub mod events;
pub mod handlers;
mod http;
mod outbox;
mod router;
mod session;
mod tls;
mod tracers;

#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

pub use self::auth::Auth;
use self::events::Events;
pub use self::events::{Local, Record};
pub use self::handlers::{HandlerError, HandlerFile};
use self::outbox::{Outgoing, publish_body};
use self::router::Router;
#[doc(hidden)]
pub use self::session::Offline;
pub use self::tls::{load_tls_config, load_tls_config_with_clients};
pub use self::tracers::{IpNet, TraceAllow};
use crate::protocol::{MAX_PAYLOAD, PUBLISH_HEADER_LEN, Publish};
pub use crate::trace::schema::Transport;

/// Time connections get to receive `Disconnect "broker shutting down"` before
/// [`Broker::run`] returns.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// Connections the kernel may queue for `accept` before it drops SYNs (Linux
/// lowers it to `net.core.somaxconn`). The usual 128 overflowed under a burst
/// of 5,000 connects (1 s SYN retries).
const LISTEN_BACKLOG: u32 = 4096;
/// Mako's limit on nested server-handler calls (a handler publishing to a topic
/// it is subscribed to).
/// Mako refuses when its counter is above 20, so 21 nested calls run.
const MAX_HANDLER_DEPTH: u32 = 21;

#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// Random server ETID instead of 1 (Mako's `rndtid`).
    pub rndtid: bool,
    /// `None`: every client is accepted.
    pub auth: Option<Auth>,
    /// `Some`: every connection does TLS first (`wss://`, `https://`).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Time a client has to send Connect after Init; then Connack 2 and close.
    pub connect_timeout: Duration,
    /// Topics whose Subscribe/Create is refused (exact names or `prefix*`).
    pub deny_topics: Vec<String>,
    /// Which peers may attach a tracer (`$smqctl.trace.attach`).
    pub trace_allow: TraceAllow,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            rndtid: false,
            auth: None,
            tls: None,
            connect_timeout: Duration::from_secs(4),
            deny_topics: Vec::new(),
            trace_allow: TraceAllow::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a usable PEM file: {reason}", path.display())]
    Pem { path: PathBuf, reason: String },
    #[error(
        "TLS setup with certificate {} and key {} failed: {source} (does the key belong to the certificate?)",
        cert.display(),
        key.display()
    )]
    Tls {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
    #[error("{}:{line}: {reason}", path.display())]
    AuthFile {
        path: PathBuf,
        line: usize,
        reason: &'static str,
    },
}

/// A message for the broker's own server-side client: published to the server
/// ETID, or to a topic the server subscribed with [`Broker::subscribe_server`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMessage {
    /// Destination: the server ETID or a topic TID.
    pub tid: u32,
    /// Publisher's ETID: publish to it to answer.
    pub ptid: u32,
    pub subtid: u32,
    pub payload: Bytes,
}

/// Receives [`ServerMessage`]s. Called outside any broker lock, on the task of
/// the publishing connection, so it may call [`Broker::publish`] to answer and
/// should return quickly.
pub trait ServerHandler: Send + Sync {
    fn on_message(&self, broker: &Broker, msg: ServerMessage);

    /// Whether a message to the server's ETID with this sub-topic has a
    /// handler (Mako: a `subscribe("self", {subtopic=…})` or a global `onmsg`).
    /// One without is traced as a drop ("server has no handler"), where Mako's
    /// default `onmsg` logs "Server dropping". Default: every sub-topic.
    fn handles(&self, _subtid: u32) -> bool {
        true
    }
}

impl<F: Fn(&Broker, ServerMessage) + Send + Sync> ServerHandler for F {
    fn on_message(&self, broker: &Broker, msg: ServerMessage) {
        self(broker, msg)
    }
}

/// A connected client (Mako's peer table entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub etid: u32,
    pub uid: String,
    pub info: String,
    pub peer: SocketAddr,
    pub transport: Transport,
    pub tls: bool,
    /// Topic TIDs the client is subscribed to.
    pub topics: Vec<u32>,
    /// Messages it missed because its send queue was full.
    pub dropped: u64,
}

/// Counters since the broker was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BrokerStats {
    /// Clients connected now.
    pub connections: usize,
    /// Topics known now (they live as long as the broker).
    pub topics: usize,
    pub connections_total: u64,
    /// Publishes routed (clients and server).
    pub published: u64,
    /// Copies handed to receivers (one publish to N subscribers counts N).
    pub delivered: u64,
    /// Publishes nobody received.
    pub dropped: u64,
    /// Copies not queued because a receiver's queue was full.
    pub queue_full: u64,
    /// `dropped`, by reason.
    pub drops: Drops,
    /// Tracers attached now.
    pub tracers: usize,
}

/// Publishes nobody received, by reason (they add up to [`BrokerStats::dropped`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Drops {
    /// Routed, but no receiver took it (none subscribed, unknown TID, full or closing queue).
    pub no_receiver: u64,
    /// Above the payload limit (0xFFF0 bytes, or a PubFrag above the maximum).
    pub too_large: u64,
    /// A server handler's publish nested too deep.
    pub recursion: u64,
}

/// Why [`router`] drops a message outside routing.
#[derive(Debug, Clone, Copy)]
pub(crate) enum DropCause {
    TooLarge,
    Recursion,
}

pub(crate) struct Shared {
    config: BrokerConfig,
    router: Mutex<Router>,
    events: Events,
    next_conn: AtomicU64,
    /// Becomes true when `run` shuts down; connections still in their
    /// handshake give up (registered ones are told by the router).
    closing: watch::Sender<bool>,
}

impl Shared {
    /// The router lock; a panic elsewhere while holding it leaves consistent
    /// enough state (every method completes its map updates), so poisoning is
    /// ignored rather than taking the broker down.
    pub(crate) fn router(&self) -> MutexGuard<'_, Router> {
        self.router.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resolves once the broker shuts down.
    pub(crate) async fn closing(&self) {
        let mut rx = self.closing.subscribe();
        let _ = rx.wait_for(|closing| *closing).await;
    }

    pub(crate) fn next_conn(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// What routing left to do outside the lock: start an attached tracer's
    /// pump, call the server handler.
    pub(crate) fn after_routing(self: &Arc<Self>, routed: router::Routed) {
        if let Some(pump) = routed.tracer {
            tokio::spawn(pump.run());
        }
        if let Some((handler, msg)) = routed.server {
            self.call_handler(handler, msg);
        }
    }

    /// Calls the server handler, guarding against unbounded recursion when a
    /// handler publishes to something it receives.
    pub(crate) fn call_handler(
        self: &Arc<Self>,
        handler: Arc<dyn ServerHandler>,
        msg: ServerMessage,
    ) {
        thread_local! {
            static DEPTH: Cell<u32> = const { Cell::new(0) };
        }
        struct Depth;
        impl Drop for Depth {
            fn drop(&mut self) {
                DEPTH.set(DEPTH.get().saturating_sub(1));
            }
        }
        if DEPTH.get() >= MAX_HANDLER_DEPTH {
            let p = Publish {
                tid: msg.tid,
                ptid: msg.ptid,
                subtid: msg.subtid,
                payload: msg.payload,
            };
            self.router().dropped(
                &p,
                "server handler recursion too deep",
                DropCause::Recursion,
            );
            return;
        }
        DEPTH.set(DEPTH.get() + 1);
        let _depth = Depth;
        handler.on_message(
            &Broker {
                shared: self.clone(),
            },
            msg,
        );
    }
}

/// The HTTP request head reader every connection starts with, for the fuzzer:
/// the bytes read past the head, or why the head was refused.
#[doc(hidden)]
pub async fn read_http_head<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<bytes::BytesMut, String> {
    http::read_request(stream)
        .await
        .map(|(_, rest)| rest)
        .map_err(|e| e.to_string())
}

/// The embedded broker. Cheap to clone; clones share one broker.
#[derive(Clone)]
pub struct Broker {
    shared: Arc<Shared>,
}

impl Broker {
    pub fn new(config: BrokerConfig) -> Broker {
        let events = Events::new();
        let mut router = Router::new(config.rndtid, events.clone());
        router.set_deny(config.deny_topics.clone());
        router.set_trace_allow(config.trace_allow.clone());
        Broker {
            shared: Arc::new(Shared {
                config,
                router: Mutex::new(router),
                events,
                next_conn: AtomicU64::new(1),
                closing: watch::channel(false).0,
            }),
        }
    }

    /// Every decision from now on, one [`Record`] each (the `-v` log, demo,
    /// tests); tracers get the same events over SMQ, minus the broker-local kinds.
    pub fn events(&self) -> broadcast::Receiver<Arc<Record>> {
        self.shared.events.subscribe()
    }

    /// Accepts connections until `shutdown` resolves, then sends every client
    /// `Disconnect "broker shutting down"`, gives them a moment to receive it,
    /// and returns. Accept errors (e.g. out of file descriptors) are retried.
    /// A broker that has shut down stays shut: it refuses further clients
    /// (Connack 2), so make a new one to serve again.
    pub async fn run(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let acceptor = self.shared.config.tls.clone().map(TlsAcceptor::from);
        let mut tasks = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                accepted = listener.accept() => match accepted {
                    Ok((tcp, addr)) => {
                        tasks.spawn(session::serve(self.shared.clone(), tcp, addr, acceptor.clone()));
                    }
                    Err(_) => {
                        // Transient (EMFILE, ECONNABORTED, ...): back off a little
                        // instead of spinning.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
        }
        drop(listener);
        self.shared.closing.send_replace(true);
        {
            let mut router = self.shared.router();
            router.close();
            router.shutdown_all("broker shutting down");
        }
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        tasks.abort_all();
        Ok(())
    }

    /// The server-side client's ETID: 1 unless made with `rndtid`.
    pub fn server_etid(&self) -> u32 {
        self.shared.router().server_etid()
    }

    /// The topic's TID, created if new (Mako's `create`).
    pub fn create(&self, topic: &str) -> u32 {
        self.shared.router().lookup_or_create(topic.as_bytes())
    }

    /// The sub-topic's ID, created if new.
    pub fn createsub(&self, name: &str) -> u32 {
        self.shared.router().create_subtopic(name.as_bytes())
    }

    /// Publishes as the server client (ptid = server ETID) through the same
    /// routing as a client's Publish, including trace events and drop counting.
    /// Returns how many receivers got it; payloads above 0xFFF0 are dropped.
    pub fn publish(&self, payload: Bytes, dest_tid_or_etid: u32, subtid: u32) -> usize {
        let ptid = self.server_etid();
        if payload.len() > MAX_PAYLOAD {
            let msg = Publish {
                tid: dest_tid_or_etid,
                ptid,
                subtid,
                payload,
            };
            self.shared
                .router()
                .dropped(&msg, "payload above 0xFFF0 bytes", DropCause::TooLarge);
            return 0;
        }
        let body = publish_body(dest_tid_or_etid, ptid, subtid, &payload);
        let msg = Publish {
            tid: dest_tid_or_etid,
            ptid,
            subtid,
            payload: body.slice(1 + PUBLISH_HEADER_LEN..),
        };
        let routed = self
            .shared
            .router()
            .publish(None, &msg, Outgoing::new(body, None));
        let receivers = routed.receivers;
        self.shared.after_routing(routed);
        receivers
    }

    /// Topic name of a TID; `None` for ETIDs and unknown IDs.
    pub fn tid2topic(&self, tid: u32) -> Option<String> {
        self.shared.router().tid2topic(tid).map(lossy)
    }

    pub fn topic2tid(&self, name: &str) -> Option<u32> {
        self.shared.router().topic2tid(name.as_bytes())
    }

    pub fn tid2subtopic(&self, subtid: u32) -> Option<String> {
        self.shared.router().tid2subtopic(subtid).map(lossy)
    }

    pub fn subtopic2tid(&self, name: &str) -> Option<u32> {
        self.shared.router().subtopic2tid(name.as_bytes())
    }

    /// The client with this ETID (not the server client).
    pub fn etid2peer(&self, etid: u32) -> Option<PeerInfo> {
        self.shared.router().peer_info(etid)
    }

    /// Every connected client (not the server client).
    pub fn peers(&self) -> Vec<PeerInfo> {
        self.shared.router().peer_infos()
    }

    /// Receives messages published to the server ETID and to topics subscribed
    /// with [`Broker::subscribe_server`]. Without a handler those are dropped.
    pub fn set_handler(&self, handler: Arc<dyn ServerHandler>) {
        self.shared.router().set_handler(handler);
    }

    /// The server client subscribes to a topic; counts as a subscriber.
    pub fn subscribe_server(&self, topic: &str) -> u32 {
        self.shared.router().subscribe_server(topic.as_bytes())
    }

    pub fn unsubscribe_server(&self, tid: u32) {
        self.shared.router().unsubscribe_server(tid)
    }

    /// Sends `Disconnect msg` to every client and closes them. The broker keeps
    /// accepting new connections.
    pub fn shutdown_all(&self, msg: &str) {
        self.shared.router().shutdown_all(msg)
    }

    pub fn stats(&self) -> BrokerStats {
        self.shared.router().stats()
    }
}

/// Binds a listener for [`Broker::run`] with a backlog that absorbs bursts of
/// connects ([`listen_backlog`]); otherwise like `TcpListener::bind` (the first
/// address `addr` resolves to that can be bound, `SO_REUSEADDR` on Unix).
pub async fn listen(addr: &str) -> std::io::Result<TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        match bind_one(a) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}

fn bind_one(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(listen_backlog())
}

/// The backlog [`listen`] asks for: [`LISTEN_BACKLOG`], or the system's
/// `net.core.somaxconn` when that is lower.
pub fn listen_backlog() -> u32 {
    let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse().ok());
    backlog_within(somaxconn)
}

fn backlog_within(somaxconn: Option<u32>) -> u32 {
    match somaxconn {
        Some(max) if max > 0 => LISTEN_BACKLOG.min(max),
        _ => LISTEN_BACKLOG,
    }
}

fn lossy(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}
