//! The async SMQ client.
//!
//! [`Client::connect`] runs the Init → Connect → Connack handshake over any
//! transport, then spawns one connection task that owns the socket (`conn.rs`).
//! [`Client`] is a cheap cloneable handle that sends it requests; replies come back
//! on oneshot channels, messages on per-subscription channels or on the
//! [`Event`] stream. Protocol state lives in `state.rs` without I/O; one
//! reconnecting connection the caller polls, [`Session`], is in `session.rs`
//! (a lean one serves its connection in the caller's task instead of a
//! connection task: `inline.rs`);
//! the command and event queues (tokio's, or lean ones for fleets) in
//! `queue.rs`; the
//! RPC caller (named requests and `$RpcReq` calls, from a plain `CallSpec`) in `rpc.rs`.
//!
//! May import: `protocol`, `transport`. Prints only under `--trace-packets`.

mod conn;
mod inline;
pub mod live;
pub mod queue;
pub mod rpc;
pub mod session;
pub mod state;
pub mod trace;
#[cfg(test)]
mod transcript_tests;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::protocol::{ConnackCode, Connect, ConnectVersion, MAX_PAYLOAD, Packet, Publish, kind};
use crate::transport::{self, Endpoint, TlsOptions, TransportError};
pub use live::close_all;
pub use session::{Backoff, Lost, ReconnectPolicy, Session, Step};
pub use state::{Names, SharedNames};

/// Messages buffered per consumer (event stream, each subscription) before the
/// client starts dropping (and counting, see [`Client::dropped`]) instead of
/// growing without bound behind a slow consumer.
pub const QUEUE: usize = 16_384;

/// A secret that never shows itself in Debug output, logs or traces.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<hidden>)")
    }
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub endpoint: Endpoint,
    /// UID sent in Connect; a random `smqctl-xxxxxxxx` when None.
    pub uid: Option<String>,
    pub info: String,
    pub credentials: Option<Secret>,
    /// A shell command that computes the credentials from the broker's Init
    /// (`SMQ_SEED`, `SMQ_IP` in its environment), as RTL clients' `onauth` does.
    pub credentials_cmd: Option<String>,
    pub tls: TlsOptions,
    pub connect_timeout: Duration,
    /// Send Ping after this long without receiving anything.
    pub ping_interval: Duration,
    /// Close when nothing arrives this long after a Ping.
    pub pong_timeout: Duration,
    /// Connect version 1 (RTL's JS/Lua/Python clients) or 2 (the C client).
    pub connect_v2: bool,
    pub trace_packets: bool,
    /// Local source address of the TCP connection (None: the system picks).
    pub bind: Option<std::net::IpAddr>,
    /// WebSocket read buffer (grows for larger frames); small for big fleets.
    pub ws_read_buffer: usize,
    /// Many connections that each carry little (`simulate`): the command and
    /// event queues ([`queue`]) and the raw transport's read buffer hold
    /// memory only while they hold data, for an allocation per message; and
    /// a [`Session`] serves the connection in its caller's task (no task of
    /// its own: the caller awaits the client through [`Session::run_with`]).
    pub lean: bool,
}

impl ClientOptions {
    pub fn new(endpoint: Endpoint) -> Self {
        ClientOptions {
            endpoint,
            uid: None,
            info: String::new(),
            credentials: None,
            credentials_cmd: None,
            tls: TlsOptions::default(),
            connect_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(120),
            pong_timeout: Duration::from_secs(10),
            connect_v2: false,
            trace_packets: false,
            bind: None,
            ws_read_buffer: transport::ws::READ_BUFFER,
            lean: false,
        }
    }
}

/// A generated UID: long enough for the broker (6+ bytes) and unique enough that
/// two tools never take each other over.
pub fn generate_uid() -> String {
    format!(
        "smqctl-{:08x}{:04x}",
        rand::random::<u32>(),
        rand::random::<u16>()
    )
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("broker refused the connection: {meaning} (Connack code {code}){}", reason_suffix(.reason))]
    Refused {
        code: u8,
        meaning: &'static str,
        reason: String,
    },
    #[error("handshake failed: {0}")]
    Handshake(String),
    #[error("broker denied {what} of '{name}'")]
    Denied { what: &'static str, name: String },
    #[error("connection lost: {0}")]
    ConnectionLost(String),
    /// A Create/Createsub/Subscribe the broker never acknowledged (or answered
    /// with another name, which is no answer to it) within the ack deadline.
    #[error(
        "the broker did not acknowledge {what} of '{name}' within {} (connected, but no matching answer)",
        humantime::format_duration(*.after)
    )]
    NoAck {
        what: &'static str,
        name: String,
        after: Duration,
    },
    #[error("payload of {0} bytes is larger than SMQ's limit of {MAX_PAYLOAD} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    Invalid(String),
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

impl ClientError {
    /// Worth another connection attempt (network trouble), as opposed to a refusal
    /// that would only repeat itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Transport(TransportError::BadUrl { .. })
            | ClientError::Transport(TransportError::TlsConfig(_))
            | ClientError::Denied { .. }
            | ClientError::PayloadTooLarge(_)
            | ClientError::Invalid(_) => false,
            ClientError::Refused { code, .. } => *code == 2,
            _ => true,
        }
    }
}

/// A message as delivered to the application, with names resolved where known.
#[derive(Debug, Clone)]
pub struct Message {
    pub tid: u32,
    /// Topic name, "self" for direct messages, None when the client never learned it.
    pub topic: Option<Arc<str>>,
    pub ptid: u32,
    pub subtid: u32,
    pub subtopic: Option<Arc<str>>,
    pub payload: Bytes,
    /// Sent to our ETID rather than to a topic.
    pub direct: bool,
    pub received: SystemTime,
}

/// What the connection reports besides routed messages.
#[derive(Debug, Clone)]
pub enum Event {
    /// A message no subscription route claimed.
    Message(Message),
    /// Subscriber count of an observed topic; for an observed ETID, `peer_gone`.
    Change {
        tid: u32,
        name: Option<Arc<str>>,
        count: u32,
        peer_gone: bool,
    },
    /// The connection ended; the reason says who ended it and why.
    Closed {
        reason: String,
        by_request: bool,
        /// Ended by a same-UID takeover; reconnecting would only take it back.
        taken_over: bool,
    },
}

/// Why [`Client::try_publish_ids`] did not queue its message.
#[derive(Debug)]
pub enum TryPublishError {
    /// The command queue is full: the payload, to send with a waiting publish.
    Full(Bytes),
    Failed(ClientError),
}

/// Destination of a publish.
#[derive(Debug, Clone, Copy)]
pub enum Dest<'a> {
    /// A topic name (created on first use) or "self".
    Topic(&'a str),
    /// A numeric TID or a client's ETID.
    Id(u32),
}

pub(crate) enum Command {
    /// Fire and forget (Publish, Unsubscribe, Observe...).
    Send(Packet),
    /// Subscribe/Create/Createsub: answered by the matching ack.
    /// Boxed: rare (a connection's setup), and the largest command, which
    /// would size every command slot and every future that holds one.
    Request(Box<Request>),
    Route {
        tid: u32,
        subtid: Option<u32>,
        sink: mpsc::Sender<Message>,
    },
    Unroute {
        tid: u32,
    },
    ObserveEtid(u32),
    /// Answers once everything queued before it is written to the socket.
    Flush(oneshot::Sender<Result<(), ClientError>>),
    Disconnect {
        reason: Bytes,
        done: oneshot::Sender<()>,
    },
}

/// Subscribe/Create/Createsub: answered by the matching ack.
pub(crate) struct Request {
    packet: Packet,
    ack_kind: u8,
    name: Bytes,
    reply: state::AckReply,
    /// For a Subscribe: where its messages go, installed with the Suback.
    route: Option<state::PendingRoute>,
}

/// Subscription info returned by subscribe calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubInfo {
    pub tid: u32,
    pub subtid: Option<u32>,
}

/// Messages of one subscription.
pub struct Subscription {
    pub info: SubInfo,
    pub rx: mpsc::Receiver<Message>,
}

/// Handle to a live connection. Cloning is cheap; all clones talk to one task.
#[derive(Clone)]
pub struct Client {
    tx: queue::Tx<Command>,
    names: SharedNames,
    etid: u32,
    closed: Arc<std::sync::Mutex<Option<String>>>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
    /// How long a Create/Createsub/Subscribe waits for its ack (the connect
    /// timeout unless the caller has a deadline of its own).
    ack_timeout: Duration,
}

impl Client {
    /// Connects and completes the handshake. Messages no subscription claims, and
    /// connection events, arrive on the returned receiver.
    ///
    /// The handshake runs in the connection's own task, a live connection
    /// from its first byte ([`live`]): a caller that gives up (a command
    /// ending, a `select!` dropping this future) no longer drops the socket
    /// mid-handshake; the task finishes it and leaves with Disconnect.
    pub async fn connect(
        opts: &ClientOptions,
    ) -> Result<(Client, mpsc::Receiver<Event>), ClientError> {
        let (events_tx, events_rx) = mpsc::channel(QUEUE);
        let client = Self::spawn(opts, queue::Tx::Tokio(events_tx)).await?;
        Ok((client, events_rx))
    }

    /// Like [`Client::connect`], the event queue lean when
    /// [`ClientOptions::lean`] says so ([`Session`] connects this way, unless
    /// lean: then its connection has no task, see `inline.rs`).
    pub(crate) async fn connect_queued(
        opts: &ClientOptions,
    ) -> Result<(Client, queue::Rx<Event>), ClientError> {
        let (events_tx, events_rx) = queue::queue(QUEUE, opts.lean);
        let client = Self::spawn(opts, events_tx).await?;
        Ok((client, events_rx))
    }

    /// A lean connection served by its caller's task ([`Session`] with
    /// [`ClientOptions::lean`]): the handle and the connection itself.
    async fn open_inline(
        opts: Arc<ClientOptions>,
    ) -> Result<(Client, Box<inline::Inline>), ClientError> {
        let (client, opened) = Client::open(opts, live::Membership::join()).await?;
        Ok((client, inline::Inline::new(opened)))
    }

    /// Spawns the connection task, which connects, answers with the handle,
    /// then serves the connection. The handshake is a boxed future of its
    /// own: its state (TCP, TLS, WebSocket upgrade) is freed once connected
    /// instead of sizing the task for the connection's whole life.
    async fn spawn(opts: &ClientOptions, events: queue::Tx<Event>) -> Result<Client, ClientError> {
        let (reply, answer) = oneshot::channel();
        let opts = Arc::new(opts.clone());
        let opening = Box::pin(async move {
            let (client, opened) = Client::open(opts, live::Membership::join()).await?;
            Ok((client, conn::Connection::new(opened, events)))
        });
        tokio::spawn(connection_task(opening, reply));
        answer.await.map_err(|_| {
            ClientError::ConnectionLost("the connection task ended during the handshake".into())
        })?
    }

    /// The connect: the handle, and what its connection is made of (served
    /// by a task of its own, [`conn::Connection`], or by the caller's,
    /// [`inline::Inline`]).
    async fn open(
        opts: Arc<ClientOptions>,
        mut membership: live::Membership,
    ) -> Result<(Client, conn::Opened), ClientError> {
        let opts = &opts;
        let uid = opts.uid.clone().unwrap_or_else(generate_uid);
        if uid.len() > 255 {
            return Err(ClientError::Invalid("UID longer than 255 bytes".into()));
        }
        if opts
            .credentials
            .as_ref()
            .is_some_and(|c| c.expose().len() > 255)
        {
            return Err(ClientError::Invalid(
                "credentials longer than 255 bytes".into(),
            ));
        }
        let tracer = trace::Tracer::new(opts.trace_packets);
        let names = SharedNames::default();
        // One budget for the whole connect: TCP, TLS, HTTP and the handshake.
        let budget = opts.connect_timeout;
        let deadline = tokio::time::Instant::now() + budget;
        // The process exiting (close_all) abandons a connect still under way
        // while nothing was established to say goodbye on: the socket is
        // dropped. Once the Connect is going out the broker may have accepted
        // us (and told its tracers): the handshake finishes, within its budget,
        // and the connection leaves with Disconnect (`serve` sees the closing).
        let connect_sent = std::sync::atomic::AtomicBool::new(false);
        let (reader, writer, etid) = {
            let connecting =
                Self::handshake(opts, &uid, &tracer, &names, budget, deadline, &connect_sent);
            tokio::pin!(connecting);
            tokio::select! {
                r = &mut connecting => r?,
                () = membership.closing() => {
                    if !connect_sent.load(std::sync::atomic::Ordering::Relaxed) {
                        return Err(ClientError::ConnectionLost(
                            "the process is exiting: the connect was abandoned".into(),
                        ));
                    }
                    connecting.await?
                }
            }
        };
        names.lock().unwrap_or_else(|e| e.into_inner()).etid = etid;

        let (mut reader, mut writer) = (reader, writer);
        if opts.lean {
            reader.set_lean();
            writer.set_lean();
        }
        let (tx, rx) = queue::queue(1024, opts.lean);
        let closed = Arc::new(std::sync::Mutex::new(None));
        let state = state::State::new(names.clone());
        let dropped = state.dropped.clone();
        let task = conn::Opened {
            reader,
            writer,
            state,
            commands: rx,
            tracer,
            ping_interval: opts.ping_interval,
            pong_timeout: opts.pong_timeout,
            closed: closed.clone(),
            live: membership,
        };
        Ok((
            Client {
                tx,
                names,
                etid,
                closed,
                dropped,
                ack_timeout: opts.connect_timeout,
            },
            task,
        ))
    }

    /// TCP, TLS, HTTP and the SMQ handshake (Init, Connect, Connack), all
    /// within `budget`: the transport halves and our ETID.
    async fn handshake(
        opts: &ClientOptions,
        uid: &str,
        tracer: &trace::Tracer,
        names: &SharedNames,
        budget: Duration,
        deadline: tokio::time::Instant,
        connect_sent: &std::sync::atomic::AtomicBool,
    ) -> Result<(transport::PacketReader, transport::PacketWriter, u32), ClientError> {
        let (mut reader, mut writer) = transport::connect_from(
            &opts.endpoint,
            &opts.tls,
            budget,
            opts.bind,
            opts.ws_read_buffer,
            opts.lean,
        )
        .await?;
        let handshake = async {
            let init = match recv_packet(&mut reader, tracer, names).await? {
                Packet::Init(init) => init,
                other => {
                    return Err(ClientError::Handshake(format!(
                        "expected Init from the broker, got {}",
                        other.name()
                    )));
                }
            };
            let computed = match &opts.credentials_cmd {
                Some(cmd) => Some(
                    tokio::time::timeout_at(deadline, credentials_from_command(cmd, &init))
                        .await
                        .map_err(|_| {
                            ClientError::Invalid(format!(
                                "the credentials command did not finish within the connect timeout ({budget:?})"
                            ))
                        })??,
                ),
                None => None,
            };
            let connect = Packet::Connect(Connect {
                version: if opts.connect_v2 {
                    ConnectVersion::V2 { max_packet_size: 0 }
                } else {
                    ConnectVersion::V1
                },
                uid: Bytes::from(uid.as_bytes().to_vec()),
                credentials: computed
                    .as_ref()
                    .or(opts.credentials.as_ref())
                    .map(|c| Bytes::from(c.expose().as_bytes().to_vec()))
                    .unwrap_or_default(),
                info: Bytes::from(opts.info.clone().into_bytes()),
            });
            tracer.sent(&connect, names);
            connect_sent.store(true, std::sync::atomic::Ordering::Relaxed);
            writer.send(connect.to_bytes()).await?;
            match recv_packet(&mut reader, tracer, names).await? {
                Packet::Connack(c) if c.code == 0 => Ok(c.etid),
                Packet::Connack(c) => Err(ClientError::Refused {
                    code: c.code,
                    meaning: ConnackCode::from_u8(c.code).meaning(),
                    reason: String::from_utf8_lossy(&c.reason).into_owned(),
                }),
                other => Err(ClientError::Handshake(format!(
                    "expected Connack, got {}",
                    other.name()
                ))),
            }
        };
        let etid = tokio::time::timeout_at(deadline, handshake)
            .await
            .map_err(|_| {
                ClientError::Handshake(format!(
                    "no answer to the SMQ handshake within {budget:?} (is {} an SMQ broker?)",
                    opts.endpoint
                ))
            })??;
        Ok((reader, writer, etid))
    }

    /// Our ETID: the address others publish to for direct messages.
    pub fn etid(&self) -> u32 {
        self.etid
    }

    pub fn names(&self) -> &SharedNames {
        &self.names
    }

    fn lock_names(&self) -> std::sync::MutexGuard<'_, Names> {
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lost(&self) -> ClientError {
        let reason = self
            .closed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| "connection closed".into());
        ClientError::ConnectionLost(reason)
    }

    async fn command(&self, cmd: Command) -> Result<(), ClientError> {
        self.tx.send(cmd).await.map_err(|_| self.lost())
    }

    /// The same connection with another ack deadline: a command whose whole
    /// run is bounded (`rpc --timeout`) gives its own.
    pub fn with_ack_timeout(&self, ack_timeout: Duration) -> Client {
        Client {
            ack_timeout,
            ..self.clone()
        }
    }

    /// The deadline of every Create/Createsub/Subscribe on this handle.
    pub fn ack_timeout(&self) -> Duration {
        self.ack_timeout
    }

    /// Sends a request and waits for its ack, at most `ack_timeout`: a broker
    /// that never answers (or answers another name) must not hang the caller.
    async fn request(&self, packet: Packet, ack_kind: u8, name: &str) -> Result<u32, ClientError> {
        self.request_routed(packet, ack_kind, name, None).await
    }

    /// [`Client::request`] whose accepted ack also installs `route` (in the
    /// connection task, before it reads on).
    async fn request_routed(
        &self,
        packet: Packet,
        ack_kind: u8,
        name: &str,
        route: Option<state::PendingRoute>,
    ) -> Result<u32, ClientError> {
        let what = packet.name();
        let (reply, rx) = oneshot::channel();
        let exchange = async {
            self.command(Command::Request(Box::new(Request {
                packet,
                ack_kind,
                name: Bytes::from(name.as_bytes().to_vec()),
                reply,
                route,
            })))
            .await?;
            rx.await.map_err(|_| self.lost())?
        };
        match tokio::time::timeout(self.ack_timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::NoAck {
                what,
                name: name.to_string(),
                after: self.ack_timeout,
            }),
        }
    }

    /// Topic name → TID, asking the broker (Create) only the first time.
    pub async fn create(&self, topic: &str) -> Result<u32, ClientError> {
        if topic == "self" {
            return Ok(self.etid);
        }
        check_name("topic", topic)?;
        if let Some(tid) = self.lock_names().tid(topic) {
            return Ok(tid);
        }
        let p = Packet::Create {
            topic: Bytes::from(topic.as_bytes().to_vec()),
        };
        self.request(p, kind::CREATEACK, topic).await
    }

    /// Sub-topic name → sub-topic ID (Createsub on first use).
    pub async fn createsub(&self, name: &str) -> Result<u32, ClientError> {
        check_name("sub-topic", name)?;
        if let Some(id) = self.lock_names().subtid(name) {
            return Ok(id);
        }
        let p = Packet::Createsub {
            subtopic: Bytes::from(name.as_bytes().to_vec()),
        };
        self.request(p, kind::CREATESUBACK, name).await
    }

    /// Subscribes to a topic (or registers for direct messages with "self") and
    /// routes its messages (only those of `subtopic`, if given) to `sink`. Returns
    /// after the broker's Suback, so nothing published afterwards is missed.
    pub async fn subscribe_into(
        &self,
        topic: &str,
        subtopic: Option<&str>,
        sink: mpsc::Sender<Message>,
    ) -> Result<SubInfo, ClientError> {
        let subtid = match subtopic {
            Some(s) => Some(self.createsub(s).await?),
            None => None,
        };
        if topic == "self" {
            // Direct messages need no subscription on the wire; sending one would
            // create an ordinary topic called "self".
            let tid = self.etid;
            self.command(Command::Route { tid, subtid, sink }).await?;
            return Ok(SubInfo { tid, subtid });
        }
        check_name("topic", topic)?;
        let p = Packet::Subscribe {
            topic: Bytes::from(topic.as_bytes().to_vec()),
        };
        // The route travels with the Subscribe and is installed as the Suback
        // is handled: a route sent after the Suback came back raced the
        // messages right behind it, which went to the event stream instead.
        let route = state::PendingRoute { subtid, sink };
        let tid = self
            .request_routed(p, kind::SUBACK, topic, Some(route))
            .await?;
        Ok(SubInfo { tid, subtid })
    }

    /// Subscribes without a route of its own: the topic's messages arrive on the
    /// event stream returned by [`Client::connect`]. "self" needs no packet at all.
    pub async fn subscribe_to_events(&self, topic: &str) -> Result<u32, ClientError> {
        if topic == "self" {
            return Ok(self.etid);
        }
        check_name("topic", topic)?;
        let p = Packet::Subscribe {
            topic: Bytes::from(topic.as_bytes().to_vec()),
        };
        self.request(p, kind::SUBACK, topic).await
    }

    /// Like [`Client::subscribe_into`], with a channel of its own.
    pub async fn subscribe(
        &self,
        topic: &str,
        subtopic: Option<&str>,
    ) -> Result<Subscription, ClientError> {
        self.subscribe_with_capacity(topic, subtopic, QUEUE).await
    }

    /// Like [`Client::subscribe`], buffering up to `capacity` messages before
    /// dropping (benchmarks, which must not lose to their own scheduling).
    pub async fn subscribe_with_capacity(
        &self,
        topic: &str,
        subtopic: Option<&str>,
        capacity: usize,
    ) -> Result<Subscription, ClientError> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let info = self.subscribe_into(topic, subtopic, tx).await?;
        Ok(Subscription { info, rx })
    }

    /// Stops delivery of a topic. Never sends Unsubscribe for our own ETID: the
    /// real broker would stop direct delivery to us.
    pub async fn unsubscribe(&self, tid: u32) -> Result<(), ClientError> {
        self.command(Command::Unroute { tid }).await?;
        if tid != self.etid {
            self.command(Command::Send(Packet::Unsubscribe { tid }))
                .await?;
        }
        Ok(())
    }

    /// Resolves a destination to a TID/ETID.
    pub async fn resolve(&self, dest: Dest<'_>) -> Result<u32, ClientError> {
        match dest {
            Dest::Id(id) => Ok(id),
            Dest::Topic(name) => self.create(name).await,
        }
    }

    /// Publishes `payload` to a topic, to "self", or to an ETID, with an optional
    /// sub-topic. Queued for the socket; call [`Client::flush`] to know it left.
    pub async fn publish(
        &self,
        dest: Dest<'_>,
        subtopic: Option<&str>,
        payload: Bytes,
    ) -> Result<(), ClientError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(ClientError::PayloadTooLarge(payload.len()));
        }
        let tid = self.resolve(dest).await?;
        let subtid = match subtopic {
            Some(s) => self.createsub(s).await?,
            None => 0,
        };
        self.publish_ids(tid, subtid, payload).await
    }

    /// Publish with IDs already resolved (the hot path of benchmarks).
    pub async fn publish_ids(
        &self,
        tid: u32,
        subtid: u32,
        payload: Bytes,
    ) -> Result<(), ClientError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(ClientError::PayloadTooLarge(payload.len()));
        }
        self.command(Command::Send(Packet::Publish(Publish {
            tid,
            ptid: self.etid,
            subtid,
            payload,
        })))
        .await
    }

    /// [`Client::publish_ids`] without waiting: a full command queue gives
    /// the payload back ([`TryPublishError::Full`]). For callers that keep
    /// their own futures small (`simulate`'s devices) and wait, boxed, only
    /// when the queue is full.
    pub fn try_publish_ids(
        &self,
        tid: u32,
        subtid: u32,
        payload: Bytes,
    ) -> Result<(), TryPublishError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(TryPublishError::Failed(ClientError::PayloadTooLarge(
                payload.len(),
            )));
        }
        let cmd = Command::Send(Packet::Publish(Publish {
            tid,
            ptid: self.etid,
            subtid,
            payload,
        }));
        match self.tx.try_send(cmd) {
            Ok(()) => Ok(()),
            Err(queue::TrySendError::Full(Command::Send(Packet::Publish(p)))) => {
                Err(TryPublishError::Full(p.payload))
            }
            Err(_) => Err(TryPublishError::Failed(self.lost())),
        }
    }

    /// Observe a topic's subscriber count, or an ETID's departure.
    pub async fn observe(&self, tid: u32) -> Result<(), ClientError> {
        if self.lock_names().topic(tid).is_none() {
            self.command(Command::ObserveEtid(tid)).await?;
        }
        self.command(Command::Send(Packet::Observe { tid })).await
    }

    pub async fn unobserve(&self, tid: u32) -> Result<(), ClientError> {
        self.command(Command::Send(Packet::Unobserve { tid })).await
    }

    /// Waits until everything queued so far has been written to the socket.
    pub async fn flush(&self) -> Result<(), ClientError> {
        let (tx, rx) = oneshot::channel();
        self.command(Command::Flush(tx)).await?;
        rx.await.map_err(|_| self.lost())?
    }

    /// Sends Disconnect (with an optional reason), flushes, closes and waits
    /// for the broker's side of the close (at most a couple of seconds).
    pub async fn disconnect(&self, reason: &str) {
        let (done, rx) = oneshot::channel();
        let cmd = Command::Disconnect {
            reason: Bytes::from(reason.as_bytes().to_vec()),
            done,
        };
        if self.tx.send(cmd).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Messages dropped so far because a consumer (the event stream or a
    /// subscription) did not keep up; see [`QUEUE`].
    pub fn dropped(&self) -> u64 {
        self.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// True once the connection task has ended.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The connect under way: its own allocation, freed once connected.
type Opening =
    std::pin::Pin<Box<dyn Future<Output = Result<(Client, conn::Connection), ClientError>> + Send>>;

/// A connection's task: finish the connect, answer with the handle, then
/// serve the connection until it ends.
async fn connection_task(opening: Opening, reply: oneshot::Sender<Result<Client, ClientError>>) {
    // Awaited apart from the match: a scrutinee's temporaries (the boxed
    // connect) would live until the match ends, i.e. the connection's end.
    let opened = opening.await;
    match opened {
        Ok((client, task)) => {
            // A caller that is gone drops the handles it was sent:
            // the task sees no handle left and says goodbye.
            let _ = reply.send(Ok(client));
            task.run().await;
        }
        Err(e) => {
            let _ = reply.send(Err(e));
        }
    }
}

/// Names travel in one packet whose ack echoes them: keep them well inside a
/// frame (the same bound as payloads).
fn check_name(what: &str, name: &str) -> Result<(), ClientError> {
    if name.len() > MAX_PAYLOAD {
        return Err(ClientError::Invalid(format!(
            "{what} name of {} bytes is longer than {MAX_PAYLOAD} bytes",
            name.len()
        )));
    }
    Ok(())
}

/// Runs the `--credentials-cmd` with the Init's seed and client IP; its stdout
/// (one trailing newline removed) is the secret. Never printed.
async fn credentials_from_command(
    cmd: &str,
    init: &crate::protocol::Init,
) -> Result<Secret, ClientError> {
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env("SMQ_SEED", init.seed.to_string())
        .env("SMQ_IP", String::from_utf8_lossy(&init.client_ip).as_ref())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| ClientError::Invalid(format!("cannot run the credentials command: {e}")))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = said.trim();
        return Err(ClientError::Invalid(if said.is_empty() {
            format!(
                "the credentials command failed ({}) and wrote nothing on stderr",
                out.status
            )
        } else {
            format!("the credentials command failed ({}): {said}", out.status)
        }));
    }
    let mut secret = String::from_utf8(out.stdout).map_err(|_| {
        ClientError::Invalid("the credentials command printed non-UTF-8 text".into())
    })?;
    if secret.ends_with('\n') {
        secret.pop();
        if secret.ends_with('\r') {
            secret.pop();
        }
    }
    if secret.len() > 255 {
        return Err(ClientError::Invalid(
            "credentials longer than 255 bytes".into(),
        ));
    }
    Ok(Secret::new(secret))
}

async fn recv_packet(
    reader: &mut transport::PacketReader,
    tracer: &trace::Tracer,
    names: &SharedNames,
) -> Result<Packet, ClientError> {
    let body = reader.recv().await?.ok_or_else(|| {
        ClientError::Handshake("the broker closed the connection during the handshake".into())
    })?;
    let packet = Packet::decode(body)
        .map_err(|e| ClientError::Handshake(format!("undecodable packet from the broker: {e}")))?;
    tracer.received(&packet, names);
    Ok(packet)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every connection's task lives as long as the connection: neither the
    /// connect (TCP, TLS, the WebSocket upgrade) nor the goodbye, each run
    /// once, nor a packet held across a write may size it. 3,192 bytes
    /// (debug build) before; 2,184 after.
    #[test]
    fn a_connection_task_is_not_sized_by_its_handshake() {
        let (reply, _answer) = oneshot::channel();
        let opening: Opening = Box::pin(async { Err(ClientError::Invalid(String::new())) });
        let task = connection_task(opening, reply);
        let size = std::mem::size_of_val(&task);
        eprintln!("connection task future: {size} bytes");
        assert!(size < 2500, "the connection task's future is {size} bytes");
    }
}
