//! A connection served by its owner's task: the same protocol as the
//! connection task (`conn.rs`), as a state machine polled by a [`Session`]
//! inside its caller's `select!` instead of a task of its own. For fleets of
//! lean connections ([`ClientOptions::lean`]): a simulated device carries one
//! task, not two, and no event queue (events wait in a local buffer that holds
//! memory only while it holds events).
//!
//! Cancel-safe at every point by construction: nothing is held in a future;
//! everything a poll keeps (a partial packet, a packet the writer has not yet
//! taken, a Pong owed, the goodbye's progress) lives in the struct, so a
//! `select!` that drops a poll for another branch loses nothing.
//!
//! The commands of the connection's [`Client`] handles still arrive through
//! the (lean) command queue, which the owner's task drains whenever it polls;
//! a caller that waits for an answer (an ack, a flush, room in a full queue)
//! waits through [`Session::run_with`], which polls the connection meanwhile.
//!
//! May import: `protocol`, `transport`, the client's own items.
//!
//! [`Session`]: super::Session
//! [`Session::run_with`]: super::Session::run_with
//! [`ClientOptions::lean`]: super::ClientOptions
//! [`Client`]: super::Client

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};

use super::conn::{After, BATCH, CLOSE_GRACE, End, Opened, Outgoing, after_handshake, bookkeep};
use super::state::State;
use super::trace::Tracer;
use super::{ClientError, Command, Event, QUEUE, queue};
use crate::protocol::Packet;
use crate::transport::{PacketReader, PacketWriter};

pub(super) struct Inline {
    reader: PacketReader,
    writer: PacketWriter,
    state: State,
    commands: queue::Rx<Command>,
    /// Events not yet taken by the owner (bounded by [`QUEUE`], released
    /// when drained).
    events: VecDeque<Event>,
    tracer: Tracer,
    ping_interval: Duration,
    pong_timeout: Duration,
    closed: Arc<std::sync::Mutex<Option<String>>>,
    /// A live connection of the process until finished: `close_all` waits
    /// for it (a dropped owner's goodbye takes it along, see [`Owned`]).
    live: Option<super::live::Membership>,
    /// The keepalive (and, while leaving, the goodbye's deadline).
    timer: Pin<Box<Sleep>>,
    last_rx: Instant,
    ping_sent: Option<Instant>,
    /// Written to the writer, not yet flushed.
    unflushed: bool,
    /// A Pong (answer to the broker's Ping) or our Ping waits for the writer.
    owe_pong: bool,
    owe_ping: bool,
    /// `Client::flush` calls answered by the next completed flush.
    flushes: Vec<oneshot::Sender<Result<(), ClientError>>>,
    /// The goodbye under way (rare: boxed).
    leaving: Option<Box<Leaving>>,
    /// The connection ended and its `Closed` event is queued.
    finished: bool,
}

struct Leaving {
    /// The Disconnect's reason, until the Disconnect is written.
    reason: Option<Bytes>,
    /// Our side closed (close frame, TCP shutdown).
    shut: bool,
    /// `Client::disconnect` calls waiting for the end.
    done: Vec<oneshot::Sender<()>>,
}

impl Inline {
    pub fn new(o: Opened) -> Box<Inline> {
        // The owner's task says goodbye itself (`Session::close`, or the
        // goodbye a dropped connection spawns); the membership keeps the
        // process from exiting under it meanwhile (an aborted owner's drop
        // may run after `close_all` began).
        let now = Instant::now();
        Box::new(Inline {
            reader: o.reader,
            writer: o.writer,
            state: o.state,
            commands: o.commands,
            events: VecDeque::new(),
            tracer: o.tracer,
            ping_interval: o.ping_interval,
            pong_timeout: o.pong_timeout,
            closed: o.closed,
            live: Some(o.live),
            timer: Box::pin(tokio::time::sleep_until(now + o.ping_interval)),
            last_rx: now,
            ping_sent: None,
            unflushed: false,
            owe_pong: false,
            owe_ping: false,
            flushes: Vec::new(),
            leaving: None,
            finished: false,
        })
    }

    /// The next event (the last one is `Closed`). Cancel-safe.
    pub fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Event> {
        loop {
            if let Some(ev) = self.events.pop_front() {
                if self.events.is_empty() {
                    self.events = VecDeque::new();
                }
                return Poll::Ready(ev);
            }
            if self.finished {
                return Poll::Pending;
            }
            match self.poll_io(cx) {
                Poll::Ready(end) => self.finish(end),
                Poll::Pending if self.events.is_empty() => return Poll::Pending,
                Poll::Pending => {}
            }
        }
    }

    /// Serves the connection without taking events (they wait in the
    /// buffer): for a caller waiting on something else (an ack).
    pub fn pump(&mut self, cx: &mut Context<'_>) {
        if !self.finished
            && let Poll::Ready(end) = self.poll_io(cx)
        {
            self.finish(end);
        }
    }

    /// Says goodbye (what is queued first, then Disconnect with `reason`,
    /// then the broker's close awaited, within [`CLOSE_GRACE`]) and ends.
    pub fn leave(&mut self, reason: Bytes) -> impl Future<Output = ()> + '_ {
        if !self.finished && self.leaving.is_none() {
            self.begin_leave(reason);
        }
        std::future::poll_fn(|cx| {
            self.pump(cx);
            if self.finished {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    fn begin_leave(&mut self, reason: Bytes) {
        self.leaving = Some(Box::new(Leaving {
            reason: Some(reason),
            shut: false,
            done: Vec::new(),
        }));
        self.timer.as_mut().reset(Instant::now() + CLOSE_GRACE);
    }

    /// Everything but handing events out: writes (what is owed, then the
    /// handles' commands), the flush, reads, the keepalive.
    fn poll_io(&mut self, cx: &mut Context<'_>) -> Poll<End> {
        if self.leaving.is_some() {
            return self.poll_leave(cx);
        }
        let mut handled = 0;
        // A writer that cannot take more wakes us when it can: what is owed
        // waits for that, not for a wake-up of our own (no spinning).
        let mut blocked = false;
        loop {
            match self.writer.poll_ready(cx) {
                Poll::Pending => {
                    blocked = true;
                    break;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(End::Lost(e.to_string())),
                Poll::Ready(Ok(())) => {}
            }
            if std::mem::take(&mut self.owe_pong) {
                if let Err(e) = self.send(Packet::Pong) {
                    return Poll::Ready(End::Lost(e));
                }
                continue;
            }
            if std::mem::take(&mut self.owe_ping) {
                if let Err(e) = self.send(Packet::Ping) {
                    return Poll::Ready(End::Lost(e));
                }
                // The Pong is awaited from now on, not from when the Ping
                // was owed: until the writer took it, it had not left.
                let now = Instant::now();
                self.ping_sent = Some(now);
                self.timer.as_mut().reset(now + self.pong_timeout);
                continue;
            }
            if handled >= BATCH {
                // More may wait: come back after the others had their turn.
                cx.waker().wake_by_ref();
                break;
            }
            match self.commands.poll_recv(cx) {
                Poll::Ready(Some(cmd)) => {
                    handled += 1;
                    if let Err(e) = self.command(cmd) {
                        return Poll::Ready(End::Lost(e));
                    }
                    if self.leaving.is_some() {
                        return self.poll_leave(cx);
                    }
                }
                Poll::Ready(None) => {
                    // Every handle is gone: leave politely.
                    self.begin_leave(Bytes::new());
                    return self.poll_leave(cx);
                }
                Poll::Pending => break,
            }
        }
        if self.unflushed {
            match self.writer.poll_flush(cx) {
                Poll::Ready(Ok(())) => {
                    self.unflushed = false;
                    for f in std::mem::take(&mut self.flushes) {
                        let _ = f.send(Ok(()));
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(End::Lost(e.to_string())),
                Poll::Pending => {}
            }
        }
        let mut received = None;
        for n in 0.. {
            if n == BATCH {
                cx.waker().wake_by_ref();
                break;
            }
            match self.reader.poll_recv(cx) {
                Poll::Ready(Ok(Some(body))) => {
                    let now = *received.get_or_insert_with(std::time::SystemTime::now);
                    if let Some(end) = self.received(body, now) {
                        return Poll::Ready(end);
                    }
                }
                Poll::Ready(Ok(None)) => {
                    return Poll::Ready(End::Lost("the broker closed the connection".into()));
                }
                Poll::Ready(Err(e)) => return Poll::Ready(End::Lost(e.to_string())),
                Poll::Pending => break,
            }
        }
        if received.is_some() {
            self.last_rx = Instant::now();
            self.ping_sent = None;
        }
        // The keepalive: one timer, reset lazily (see conn.rs).
        while self.timer.as_mut().poll(cx).is_ready() {
            let deadline = match self.ping_sent {
                Some(t) => t + self.pong_timeout,
                None => self.last_rx + self.ping_interval,
            };
            let now = Instant::now();
            if now < deadline {
                self.timer.as_mut().reset(deadline);
                continue;
            }
            if self.ping_sent.is_some() {
                return Poll::Ready(End::Lost(format!(
                    "no answer to Ping within {:?}; the broker or the network is gone",
                    self.pong_timeout
                )));
            }
            // Due: owed until the writer takes it (its Pong is awaited
            // from then on, see above); a writer blocked meanwhile only
            // delays the look at it again.
            self.owe_ping = true;
            self.timer.as_mut().reset(now + self.ping_interval);
        }
        if (self.owe_ping || self.owe_pong) && !blocked {
            // Owed since the writes above: written on the next pass.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    /// The goodbye: what is queued, the Disconnect, our close, the broker's.
    /// Errors end it as well: there is nothing left to say on a broken
    /// connection.
    fn poll_leave(&mut self, cx: &mut Context<'_>) -> Poll<End> {
        if self.timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(End::Requested);
        }
        let Some(reason) = self.leaving.as_ref().map(|l| l.reason.is_some()) else {
            return Poll::Ready(End::Requested);
        };
        if reason {
            loop {
                match self.writer.poll_ready(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(_)) => return Poll::Ready(End::Requested),
                    Poll::Pending => return Poll::Pending,
                }
                // Queued before the goodbye: sent before it.
                let Some(cmd) = self.commands.try_recv() else {
                    break;
                };
                if self.command(cmd).is_err() {
                    return Poll::Ready(End::Requested);
                }
            }
            let reason = self
                .leaving
                .as_mut()
                .and_then(|l| l.reason.take())
                .unwrap_or_default();
            if self.send(Packet::Disconnect { reason }).is_err() {
                return Poll::Ready(End::Requested);
            }
        }
        if self.leaving.as_ref().is_some_and(|l| !l.shut) {
            match self.writer.poll_close(cx) {
                Poll::Ready(Ok(())) => {
                    self.unflushed = false;
                    for f in std::mem::take(&mut self.flushes) {
                        let _ = f.send(Ok(()));
                    }
                    if let Some(l) = self.leaving.as_mut() {
                        l.shut = true;
                    }
                }
                Poll::Ready(Err(_)) => return Poll::Ready(End::Requested),
                Poll::Pending => return Poll::Pending,
            }
        }
        // What the broker still sends is read and discarded, until its close.
        loop {
            match self.reader.poll_recv(cx) {
                Poll::Ready(Ok(Some(_))) => continue,
                Poll::Ready(_) => return Poll::Ready(End::Requested),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// One command of a handle; the writer is ready.
    fn command(&mut self, cmd: Command) -> Result<(), String> {
        match bookkeep(&mut self.state, cmd) {
            Outgoing::Nothing => {}
            Outgoing::Send(p) => self.send(p)?,
            Outgoing::Flush(reply) => {
                self.flushes.push(reply);
                self.unflushed = true;
            }
            Outgoing::Disconnect { reason, done } => match self.leaving.as_mut() {
                Some(l) => l.done.push(done),
                None => {
                    self.begin_leave(reason);
                    if let Some(l) = self.leaving.as_mut() {
                        l.done.push(done);
                    }
                }
            },
        }
        Ok(())
    }

    /// Hands `packet` to the writer (which is ready).
    fn send(&mut self, packet: Packet) -> Result<(), String> {
        self.tracer.sent(&packet, &self.state.names);
        self.unflushed = true;
        let sent = match self.writer.encode_raw(&packet) {
            Some(done) => done,
            None => self.writer.start_send(packet.to_bytes()),
        };
        sent.map_err(|e| e.to_string())
    }

    fn received(&mut self, body: Bytes, now: std::time::SystemTime) -> Option<End> {
        match after_handshake(&mut self.state, &self.tracer, body, now) {
            After::Nothing => {}
            After::Event(ev) => self.event(ev),
            After::Pong => self.owe_pong = true,
            After::End(end) => return Some(end),
        }
        None
    }

    /// Queues an event; an owner that is too slow loses it (counted).
    fn event(&mut self, ev: Event) {
        if self.events.len() >= QUEUE {
            self.state
                .dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        } else {
            self.events.push_back(ev);
        }
    }

    /// The end (as the connection task's): every waiter answered, the
    /// handles' queue closed, `Closed` queued last.
    fn finish(&mut self, end: End) {
        self.finished = true;
        // The socket is closed (or lost): the process need not wait for us.
        self.live = None;
        let (reason, by_request, taken_over) = end.into_parts();
        *self.closed.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason.clone());
        self.state.fail_all(&reason);
        self.commands.close();
        let lost = || ClientError::ConnectionLost(reason.clone());
        while let Some(cmd) = self.commands.try_recv() {
            match cmd {
                Command::Request(request) => {
                    let _ = request.reply.send(Err(lost()));
                }
                Command::Flush(reply) => {
                    let _ = reply.send(Err(lost()));
                }
                Command::Disconnect { done, .. } => {
                    let _ = done.send(());
                }
                _ => {}
            }
        }
        for f in std::mem::take(&mut self.flushes) {
            let _ = f.send(Err(lost()));
        }
        if let Some(l) = self.leaving.take() {
            for d in l.done {
                let _ = d.send(());
            }
        }
        self.events.push_back(Event::Closed {
            reason,
            by_request,
            taken_over,
        });
    }
}

/// An inline connection that says goodbye when dropped unfinished (its
/// owner's task ended or was aborted without closing it): the goodbye runs
/// in a task of its own, still a live connection for `close_all`.
pub(super) struct Owned(Option<Box<Inline>>);

impl Owned {
    pub fn new(c: Box<Inline>) -> Owned {
        Owned(Some(c))
    }

    pub fn get(&mut self) -> Option<&mut Inline> {
        self.0.as_deref_mut()
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        let Some(mut c) = self.0.take() else {
            return;
        };
        if c.finished {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                c.leave(Bytes::new()).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::AsyncWriteExt;

    /// Counts its wake-ups.
    struct Count(AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A raw connection over an in-memory pipe whose far end is `broker`;
    /// `buffer`: the pipe's capacity each way.
    fn connection(buffer: usize) -> (Box<Inline>, tokio::io::DuplexStream, queue::Tx<Command>) {
        connection_with(
            buffer,
            Duration::from_secs(120),
            Duration::from_secs(10),
            super::super::live::Membership::join(),
        )
    }

    /// [`connection`] with its keepalive and its process membership.
    fn connection_with(
        buffer: usize,
        ping_interval: Duration,
        pong_timeout: Duration,
        live: super::super::live::Membership,
    ) -> (Box<Inline>, tokio::io::DuplexStream, queue::Tx<Command>) {
        let (near, broker) = tokio::io::duplex(buffer);
        let stream: crate::transport::ByteStream = Box::new(near);
        let (rd, wr) = tokio::io::split(stream);
        let (tx, rx) = queue::queue(16, true);
        let c = Inline::new(Opened {
            reader: PacketReader::Raw {
                rd,
                buf: bytes::BytesMut::new(),
                lean: true,
            },
            writer: PacketWriter::Raw {
                wr,
                buf: bytes::BytesMut::new(),
                lean: true,
            },
            state: State::new(Default::default()),
            commands: rx,
            tracer: Tracer::new(false),
            ping_interval,
            pong_timeout,
            closed: Default::default(),
            live,
        });
        (c, broker, tx)
    }

    /// Guard against hangs.
    const LIMIT: Duration = Duration::from_secs(10);

    /// A publish of 40,000 bytes of `n`.
    fn big(n: u8) -> Packet {
        Packet::Publish(crate::protocol::Publish {
            tid: 1,
            ptid: 2,
            subtid: 0,
            payload: Bytes::from(vec![n; 40_000]),
        })
    }

    /// The next packet the broker's end reads (None: our side closed).
    async fn read_packet(
        rd: &mut (impl tokio::io::AsyncRead + Unpin),
        buf: &mut bytes::BytesMut,
    ) -> Option<Packet> {
        use tokio::io::AsyncReadExt;
        loop {
            if let Some(body) = crate::protocol::framing::decode_raw(buf).expect("raw framing") {
                return Some(Packet::decode(body).expect("decodable"));
            }
            if rd.read_buf(buf).await.ok()? == 0 {
                return None;
            }
        }
    }

    /// The connection served until it ends: its `Closed` event.
    async fn served(c: &mut Inline) -> Event {
        loop {
            let ev = std::future::poll_fn(|cx| c.poll_event(cx)).await;
            if let Event::Closed { .. } = ev {
                return ev;
            }
        }
    }

    /// A Pong owed to a broker that stopped reading (our writes blocked)
    /// waits for the writer's wake-up: the connection must not wake itself
    /// over and over, spinning its owner's task at full CPU.
    #[tokio::test]
    async fn an_owed_pong_on_a_blocked_writer_does_not_wake_its_task_in_a_loop() {
        let (mut c, mut broker, tx) = connection(64);
        // More than the raw writer buffers before it must write, towards a
        // broker that never reads: the writer is blocked.
        for _ in 0..2 {
            let p = Packet::Publish(crate::protocol::Publish {
                tid: 1,
                ptid: 2,
                subtid: 0,
                payload: Bytes::from(vec![7; 40_000]),
            });
            tx.try_send(Command::Send(p)).expect("room");
        }
        // The broker's Ping (raw framing: length, then the packet).
        let ping = Packet::Ping.to_bytes();
        let mut framed = ((ping.len() + 2) as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&ping);
        broker.write_all(&framed).await.expect("ping sent");
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        for _ in 0..3 {
            assert!(c.poll_event(&mut cx).is_pending(), "nothing to hand out");
        }
        assert!(c.owe_pong, "the Ping was read and its Pong is owed");
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            0,
            "a blocked writer wakes the task, not the connection itself"
        );
        // The broker reads again: the publishes, then the owed Pong.
        let (mut rd, _wr) = tokio::io::split(broker);
        let pong = async {
            let mut buf = bytes::BytesMut::new();
            let mut publishes = 0;
            loop {
                match read_packet(&mut rd, &mut buf).await {
                    Some(Packet::Publish(_)) => publishes += 1,
                    Some(Packet::Pong) => return publishes,
                    Some(other) => panic!("unexpected {}", other.name()),
                    None => panic!("closed before the Pong"),
                }
            }
        };
        let publishes = tokio::select! {
            ev = served(&mut c) => panic!("the connection ended: {ev:?}"),
            n = tokio::time::timeout(LIMIT, pong) => n.expect("the owed Pong arrives"),
        };
        assert_eq!(
            publishes, 2,
            "the Pong came after what was queued before it"
        );
    }

    /// The Pong timeout counts from the Ping's write: a Ping owed while
    /// the writer is blocked (a broker that reads slowly, 80 KB queued
    /// ahead of it) had not left, and must not end the connection with "no
    /// answer to Ping" (the connection task only starts waiting once it
    /// wrote its Ping).
    #[tokio::test]
    async fn the_pong_timeout_starts_when_the_ping_is_written_not_while_a_blocked_writer_holds_it()
    {
        let (mut c, broker, tx) = connection_with(
            64,
            Duration::from_millis(50),
            Duration::from_millis(100),
            super::super::live::Membership::join(),
        );
        for n in 0..2 {
            tx.try_send(Command::Send(big(n))).expect("room");
        }
        // The broker reads nothing for a Ping interval and several Pong
        // timeouts: the Ping waits in the connection.
        let early = tokio::time::timeout(Duration::from_millis(500), served(&mut c)).await;
        assert!(
            early.is_err(),
            "ended while its Ping had not left: {:?}",
            early.ok()
        );
        // It reads again: the publishes, then the Ping, which it answers.
        let (mut rd, mut wr) = tokio::io::split(broker);
        let answer = async {
            let mut buf = bytes::BytesMut::new();
            let mut publishes = Vec::new();
            loop {
                match read_packet(&mut rd, &mut buf).await {
                    Some(Packet::Publish(p)) => publishes.push(p.payload[0]),
                    Some(Packet::Ping) => break,
                    Some(other) => panic!("unexpected {}", other.name()),
                    None => panic!("closed before the Ping"),
                }
            }
            let pong = crate::protocol::framing::encode_raw(&Packet::Pong).expect("encodable");
            wr.write_all(&pong).await.expect("Pong sent");
            publishes
        };
        let publishes = tokio::select! {
            ev = served(&mut c) => panic!("the connection ended: {ev:?}"),
            p = tokio::time::timeout(LIMIT, answer) => p.expect("the Ping arrives"),
        };
        assert_eq!(publishes, [0, 1]);
    }

    /// An owner task aborted with its connection unfinished (a fleet device
    /// that did not stop in time): `abort()` only schedules the drop, so
    /// the connection must stay a member for `close_all` until its goodbye
    /// is done, or the process exits under it and the broker sees a reset.
    #[tokio::test]
    async fn an_aborted_owner_keeps_its_inline_connection_registered_until_the_goodbye() {
        let (members, rx) = tokio::sync::watch::channel(false);
        let (c, broker, tx) = connection_with(
            4096,
            Duration::from_secs(120),
            Duration::from_secs(10),
            super::super::live::Membership::of(rx),
        );
        assert_eq!(
            members.receiver_count(),
            1,
            "a live inline connection is a member"
        );
        let owner = tokio::spawn(async move {
            let _c = Owned::new(c);
            std::future::pending::<()>().await;
        });
        tokio::task::yield_now().await;
        owner.abort();
        assert_eq!(members.receiver_count(), 1, "still a member after abort()");
        // The goodbye: Disconnect, our close; then the broker closes its side.
        let (mut rd, wr) = tokio::io::split(broker);
        let mut buf = bytes::BytesMut::new();
        let goodbye = async {
            loop {
                match read_packet(&mut rd, &mut buf).await {
                    Some(Packet::Disconnect { .. }) => return true,
                    Some(_) => {}
                    None => return false,
                }
            }
        };
        let said = tokio::time::timeout(LIMIT, goodbye)
            .await
            .expect("the goodbye");
        assert!(said, "the aborted owner's connection sent Disconnect");
        assert_eq!(
            members.receiver_count(),
            1,
            "a member until the broker's close"
        );
        drop((rd, wr));
        tokio::time::timeout(LIMIT, members.closed())
            .await
            .expect("no longer a member once closed");
        drop(tx);
    }

    /// What a fleet device's connection costs for its whole life, now that
    /// it has no task: the connection task's future was 2,184 bytes (debug
    /// build) and its event queue a block of its own.
    #[test]
    fn an_inline_connection_stays_small() {
        let size = std::mem::size_of::<Inline>();
        eprintln!("inline connection: {size} bytes");
        assert!(size < 520, "an inline connection is {size} bytes");
    }
}
