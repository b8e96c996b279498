//! The connection task: owns the socket and the [`State`], and serves the handles'
//! commands, incoming packets and the keepalive timer in one `select!` loop.
//!
//! Commands are drained in batches and written with one flush, which is what lets
//! a publisher reach hundreds of thousands of messages a second. When the loop
//! ends, for whatever reason, every pending request fails at once and the event
//! stream gets `Closed` — nothing waits forever on a dead connection.
//!
//! Leaving is [`Connection::goodbye`], awaited with a deadline: Disconnect,
//! flush, the WebSocket close frame or TCP shutdown, then reading until the
//! broker closes its side, so the broker logs "client sent Disconnect" and no
//! unread byte turns our close into a reset. The process-wide [`Membership`]
//! lets `main` ask every connection to do so before the runtime stops.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::live::Membership;
use super::queue;
use super::state::State;
use super::trace::Tracer;
use super::{ClientError, Command, Event};
use crate::protocol::{Packet, kind};
use crate::transport::{PacketReader, PacketWriter};

/// Commands handled per wake-up before flushing.
pub(super) const BATCH: usize = 256;

/// How long leaving may take: Disconnect out, the broker's close back.
pub(super) const CLOSE_GRACE: Duration = Duration::from_secs(2);

pub(super) struct Connection {
    pub reader: PacketReader,
    pub writer: PacketWriter,
    pub state: State,
    pub commands: queue::Rx<Command>,
    pub events: queue::Tx<Event>,
    pub tracer: Tracer,
    pub ping_interval: Duration,
    pub pong_timeout: Duration,
    pub closed: Arc<std::sync::Mutex<Option<String>>>,
    pub live: Membership,
}

/// A connection just opened: the parts both ways of serving it share.
pub(super) struct Opened {
    pub reader: PacketReader,
    pub writer: PacketWriter,
    pub state: State,
    pub commands: queue::Rx<Command>,
    pub tracer: Tracer,
    pub ping_interval: Duration,
    pub pong_timeout: Duration,
    pub closed: Arc<std::sync::Mutex<Option<String>>>,
    pub live: Membership,
}

/// Why the loop ended.
pub(super) enum End {
    Requested,
    Lost(String),
    /// The broker said `Disconnect "reconnect"`: another connection with our
    /// UID took the ETID over.
    TakenOver(String),
}

impl End {
    /// What the broker's Disconnect means (`reason` as it sent it).
    pub(super) fn disconnected(reason: &[u8]) -> End {
        let reason = String::from_utf8_lossy(reason).into_owned();
        if reason == "reconnect" {
            return End::TakenOver(
                "the broker sent Disconnect \"reconnect\": another client connected with the same UID and took this connection over".into(),
            );
        }
        End::Lost(if reason.is_empty() {
            "the broker sent Disconnect".into()
        } else {
            format!("the broker sent Disconnect \"{reason}\"")
        })
    }

    /// The reason, and whether it was our own request or a takeover.
    pub(super) fn into_parts(self) -> (String, bool, bool) {
        match self {
            End::Requested => ("closed by this client".to_string(), true, false),
            End::Lost(r) => (r, false, false),
            End::TakenOver(r) => (r, false, true),
        }
    }
}

/// What a packet from the broker, after the handshake, asks of the
/// connection that read it. Both connections (the task's in this file, the
/// inline one of lean sessions) decode, trace and apply it here, and act on
/// the answer their own way.
pub(super) enum After {
    Nothing,
    Event(Event),
    /// The broker sent Ping: answer it.
    Pong,
    End(End),
}

/// What a handle's command leaves for its connection once [`bookkeep`] has
/// done the state's part.
pub(super) enum Outgoing {
    Nothing,
    Send(Packet),
    Flush(tokio::sync::oneshot::Sender<Result<(), ClientError>>),
    Disconnect {
        reason: bytes::Bytes,
        done: tokio::sync::oneshot::Sender<()>,
    },
}

/// The state's part of a handle's command (routes, observed ETIDs, the ack a
/// request waits for), the same for both connections (the task's and the
/// inline one); they write, flush and leave their own way.
pub(super) fn bookkeep(state: &mut State, cmd: Command) -> Outgoing {
    match cmd {
        Command::Send(p) => Outgoing::Send(p),
        Command::Request(request) => {
            let super::Request {
                packet,
                ack_kind,
                name,
                reply,
                route,
            } = *request;
            state.expect_ack_routed(ack_kind, name, reply, route);
            Outgoing::Send(packet)
        }
        Command::Route { tid, subtid, sink } => {
            state.add_route(tid, subtid, sink);
            Outgoing::Nothing
        }
        Command::Unroute { tid } => {
            state.remove_routes(tid);
            Outgoing::Nothing
        }
        Command::ObserveEtid(etid) => {
            state.observe_etid(etid);
            Outgoing::Nothing
        }
        Command::Flush(reply) => Outgoing::Flush(reply),
        Command::Disconnect { reason, done } => Outgoing::Disconnect { reason, done },
    }
}

/// Decodes `body`, traces it and applies it to `state`.
pub(super) fn after_handshake(
    state: &mut State,
    tracer: &Tracer,
    body: bytes::Bytes,
    received: std::time::SystemTime,
) -> After {
    let packet = match Packet::decode(body) {
        Ok(p) => p,
        Err(e) => {
            return After::End(End::Lost(format!(
                "undecodable packet from the broker: {e}"
            )));
        }
    };
    tracer.received(&packet, &state.names);
    match packet {
        Packet::Publish(p) => {
            let msg = state.message(p, received);
            match state.route(msg) {
                Some(msg) => After::Event(Event::Message(msg)),
                None => After::Nothing,
            }
        }
        Packet::Suback(a) => {
            state.on_ack(kind::SUBACK, &a);
            After::Nothing
        }
        Packet::Createack(a) => {
            state.on_ack(kind::CREATEACK, &a);
            After::Nothing
        }
        Packet::Createsuback(a) => {
            state.on_ack(kind::CREATESUBACK, &a);
            After::Nothing
        }
        Packet::Change(c) => After::Event(state.on_change(c.tid, c.count)),
        Packet::Ping => After::Pong,
        Packet::Pong => After::Nothing,
        Packet::Disconnect { reason } => After::End(End::disconnected(&reason)),
        other => After::End(End::Lost(format!(
            "unexpected {} from the broker after the handshake",
            other.name()
        ))),
    }
}

impl Connection {
    pub fn new(o: Opened, events: queue::Tx<Event>) -> Connection {
        Connection {
            reader: o.reader,
            writer: o.writer,
            state: o.state,
            commands: o.commands,
            events,
            tracer: o.tracer,
            ping_interval: o.ping_interval,
            pong_timeout: o.pong_timeout,
            closed: o.closed,
            live: o.live,
        }
    }

    pub async fn run(mut self) {
        let end = self.serve().await;
        // The socket is closed (or lost): the process need not wait for us.
        drop(self.live);
        let (reason, by_request, taken_over) = end.into_parts();
        *self.closed.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason.clone());
        self.state.fail_all(&reason);
        // Close the queue first so late senders fail instead of waiting.
        self.commands.close();
        while let Some(cmd) = self.commands.try_recv() {
            match cmd {
                Command::Request(request) => {
                    let _ = request
                        .reply
                        .send(Err(ClientError::ConnectionLost(reason.clone())));
                }
                Command::Flush(reply) => {
                    let _ = reply.send(Err(ClientError::ConnectionLost(reason.clone())));
                }
                _ => {}
            }
        }
        let _ = self
            .events
            .send(Event::Closed {
                reason,
                by_request,
                taken_over,
            })
            .await;
    }

    async fn serve(&mut self) -> End {
        let mut last_rx = Instant::now();
        let mut ping_sent: Option<Instant> = None;
        // One timer for the connection's life, reset lazily: it fires at a
        // deadline that may have moved on since (traffic came), and only
        // then looks at the real one. No timer work per packet.
        let keepalive = tokio::time::sleep_until(last_rx + self.ping_interval);
        tokio::pin!(keepalive);
        loop {
            tokio::select! {
                cmd = self.commands.recv() => {
                    let Some(cmd) = cmd else {
                        // Every handle is gone: leave politely.
                        Box::pin(self.goodbye(Default::default())).await;
                        return End::Requested;
                    };
                    if let Some(end) = self.batch(cmd).await {
                        return end;
                    }
                }
                body = self.reader.recv() => {
                    let body = match body {
                        Ok(Some(b)) => b,
                        Ok(None) => return End::Lost("the broker closed the connection".into()),
                        Err(e) => return End::Lost(e.to_string()),
                    };
                    last_rx = Instant::now();
                    ping_sent = None;
                    if let Some(end) = self.received(body).await {
                        return end;
                    }
                }
                _ = self.live.closing() => {
                    // The process is exiting (`client::close_all`).
                    Box::pin(self.goodbye(Default::default())).await;
                    return End::Requested;
                }
                () = &mut keepalive => {
                    let deadline = match ping_sent {
                        Some(t) => t + self.pong_timeout,
                        None => last_rx + self.ping_interval,
                    };
                    if Instant::now() < deadline {
                        keepalive.as_mut().reset(deadline);
                        continue;
                    }
                    if ping_sent.is_some() {
                        return End::Lost(format!(
                            "no answer to Ping within {:?}; the broker or the network is gone",
                            self.pong_timeout
                        ));
                    }
                    if let Err(e) = self.send(Packet::Ping).await.and(self.flush().await) {
                        return End::Lost(e);
                    }
                    let sent = Instant::now();
                    ping_sent = Some(sent);
                    keepalive.as_mut().reset(sent + self.pong_timeout);
                }
            }
        }
    }

    /// Handles `first` and the packets that are already here behind it (up
    /// to [`BATCH`]): one receive time for all of them, one pass of the
    /// `select!` loop.
    async fn received(&mut self, first: bytes::Bytes) -> Option<End> {
        let now = std::time::SystemTime::now();
        let mut next = Some(first);
        let mut handled = 0;
        while let Some(body) = next.take() {
            handled += 1;
            // The hot path: a message is handed on without an await.
            match after_handshake(&mut self.state, &self.tracer, body, now) {
                After::Nothing => {}
                After::Event(ev) => self.event(ev),
                // Boxed: rare, and its state must not size the task.
                After::Pong => {
                    if let Err(e) = Box::pin(self.pong()).await {
                        return Some(End::Lost(e));
                    }
                }
                After::End(end) => return Some(end),
            }
            if handled < BATCH {
                next = match self.reader.try_recv() {
                    Ok(std::task::Poll::Ready(Some(b))) => Some(b),
                    Ok(std::task::Poll::Ready(None)) => {
                        return Some(End::Lost("the broker closed the connection".into()));
                    }
                    Ok(std::task::Poll::Pending) => None,
                    Err(e) => return Some(End::Lost(e.to_string())),
                };
            }
        }
        None
    }

    /// Sends Disconnect and closes the connection the way the protocol wants
    /// (called boxed: it runs once, and its state must not size the task for
    /// the connection's whole life):
    /// everything queued and the Disconnect flushed, our side closed (WebSocket
    /// close frame, TCP shutdown), then the broker's close awaited (what it
    /// still sends is read and discarded). Bounded by [`CLOSE_GRACE`]: a dead
    /// network does not hold the process.
    async fn goodbye(&mut self, reason: bytes::Bytes) {
        let leave = async {
            if self.send(Packet::Disconnect { reason }).await.is_err() {
                return;
            }
            if self.writer.close().await.is_err() {
                return;
            }
            while let Ok(Some(_)) = self.reader.recv().await {}
        };
        let _ = tokio::time::timeout(CLOSE_GRACE, leave).await;
    }

    /// Encodes before the future starts: the packet is not part of its
    /// state (which would size every connection's task).
    fn send(&mut self, packet: Packet) -> impl Future<Output = Result<(), String>> + '_ {
        self.tracer.sent(&packet, &self.state.names);
        // Raw: encoded straight into the write buffer now; WebSocket: a body
        // of its own, queued by the future.
        let next = self
            .writer
            .encode_raw(&packet)
            .ok_or_else(|| packet.to_bytes());
        async move {
            match next {
                Ok(done) => done.map_err(|e| e.to_string()),
                Err(body) => self.writer.queue(body).await.map_err(|e| e.to_string()),
            }
        }
    }

    async fn flush(&mut self) -> Result<(), String> {
        self.writer.flush().await.map_err(|e| e.to_string())
    }

    /// Handles `first` and whatever else is already queued, then flushes once.
    async fn batch(&mut self, first: Command) -> Option<End> {
        let mut next = Some(first);
        let mut flushes = Vec::new();
        let mut handled = 0;
        while let Some(cmd) = next.take() {
            handled += 1;
            match bookkeep(&mut self.state, cmd) {
                Outgoing::Nothing => {}
                Outgoing::Send(p) => {
                    if let Err(e) = self.send(p).await {
                        return Some(End::Lost(e));
                    }
                }
                Outgoing::Flush(reply) => flushes.push(reply),
                Outgoing::Disconnect { reason, done } => {
                    Box::pin(self.goodbye(reason)).await;
                    for f in flushes {
                        let _ = f.send(Ok(()));
                    }
                    let _ = done.send(());
                    return Some(End::Requested);
                }
            }
            if handled < BATCH {
                next = self.commands.try_recv();
            }
        }
        let result = self.flush().await;
        for f in flushes {
            let _ = f.send(result.clone().map_err(ClientError::ConnectionLost));
        }
        result.err().map(End::Lost)
    }

    /// Queues an event; a consumer that is too slow loses it (counted), the
    /// connection never waits for it.
    fn event(&self, ev: Event) {
        if let Err(queue::TrySendError::Full(_)) = self.events.try_send(ev) {
            self.state
                .dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The answer to the broker's Ping, flushed.
    async fn pong(&mut self) -> Result<(), String> {
        self.send(Packet::Pong).await?;
        self.flush().await
    }
}
