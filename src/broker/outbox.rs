//! Per-client queues of encoded frames: the [`Outbox`] the router, the tracer
//! pumps and a session's reader queue into, the [`Inbox`] its writer
//! drains, their frame and byte budgets, and the [`Outgoing`] body shared by
//! one fan-out (rumqttd's `iobufs` in spirit). Frames are queued exactly as
//! they go on the wire: with the raw length prefix, or as a whole WebSocket
//! frame (server to client: unmasked, RFC 6455 §5.2), so the writer of either
//! transport only copies bytes.
//!
//! A leaf of the broker: router, tracers and session import it; it imports
//! nothing of theirs.
//!
//! The queue is a short mutex around a `VecDeque` rather than a tokio mpsc
//! channel: a channel allocates a block of 32 slots and its cache-padded state
//! on creation (about 1.5 KiB per client), this queue allocates nothing until a
//! frame waits and gives its buffer back when its writer goes idle. Its lock
//! is never held across an await or while taking another lock.
//!
//! May import: `protocol` (framing, packet encoding). No sockets.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::{BufMut, Bytes, BytesMut};

use crate::protocol::framing;
use crate::protocol::{PUBLISH_HEADER_LEN, Packet, kind};

/// Frames a client may have waiting before further messages to it are dropped.
pub(crate) const QUEUE_FRAMES: usize = 65536;
/// Bytes a client may have waiting (queued, or in the batch its writer is
/// writing) before further messages to it are dropped, so one stalled reader
/// holds at most about this much (README, "The embedded broker"). Each frame
/// is its own allocation (the session copies it out of the read buffer), so
/// what is counted is what is held.
pub(crate) const QUEUE_BYTES: usize = 8 << 20;
/// Bytes charged per frame on top of its length: its queue slot, the
/// allocation's header and the shared reference count. Without it a queue of
/// 20-byte frames would cost several times what it is charged.
pub(crate) const FRAME_OVERHEAD: usize = 64;

/// One client's queue, shared by its [`Outbox`] clones and its [`Inbox`].
struct Queue {
    state: Mutex<State>,
    /// Set by [`Outbox::kill`]: the session stops reading and closes once
    /// what is queued is written.
    killed: AtomicBool,
}

struct State {
    frames: VecDeque<Bytes>,
    /// Bytes (with [`FRAME_OVERHEAD`]) queued or taken but not yet written.
    bytes: usize,
    /// The session's task, waiting for frames (`wants_frames`) or, while its
    /// writer waits for the socket, only for a kill.
    waker: Option<Waker>,
    /// Whether a send wakes `waker` (a kill and the last sender's drop always do).
    wants_frames: bool,
    /// Live [`Outbox`] clones; at 0 the writer drains and ends. (A `u32`:
    /// the queue of every idle client is 8 bytes smaller with the kill flag.)
    senders: u32,
    /// Whether the [`Inbox`] still exists (else sends are `Closed`).
    receiver: bool,
    /// WebSocket: the status of the Close frame the writer ends with (0:
    /// none, an empty Close), set by the reader on an error or a client's Close.
    close_code: u16,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves the state consistent (every
        // update is a single assignment), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The sending side of one client's queue of encoded frames. The router holds
/// one clone, the client's session another; the writer ends when both are gone.
pub(crate) struct Outbox {
    queue: Arc<Queue>,
    /// Raw frames carry the 2-byte length prefix; WebSocket frames do not.
    raw: bool,
}

impl Clone for Outbox {
    fn clone(&self) -> Self {
        self.queue.lock().senders += 1;
        Outbox {
            queue: self.queue.clone(),
            raw: self.raw,
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.queue.lock();
            st.senders -= 1;
            if st.senders > 0 {
                return;
            }
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

pub(crate) enum Sent {
    Ok,
    Full,
    Closed,
}

impl Outbox {
    pub(crate) fn new(raw: bool) -> (Outbox, Inbox) {
        let queue = Arc::new(Queue {
            state: Mutex::new(State {
                frames: VecDeque::new(),
                bytes: 0,
                waker: None,
                wants_frames: false,
                senders: 1,
                receiver: true,
                close_code: 0,
            }),
            killed: AtomicBool::new(false),
        });
        (
            Outbox {
                queue: queue.clone(),
                raw,
            },
            Inbox {
                queue,
                #[cfg(test)]
                raw,
            },
        )
    }

    /// Whether frames for this client carry the raw length prefix.
    pub(crate) fn is_raw(&self) -> bool {
        self.raw
    }

    /// Queues one frame already encoded for this client's transport.
    pub(crate) fn send(&self, frame: Bytes) -> Sent {
        let len = frame.len() + FRAME_OVERHEAD;
        let waker = {
            let mut st = self.queue.lock();
            if !st.receiver {
                return Sent::Closed;
            }
            if st.frames.len() >= QUEUE_FRAMES || (st.bytes > 0 && st.bytes + len > QUEUE_BYTES) {
                return Sent::Full;
            }
            st.bytes += len;
            st.frames.push_back(frame);
            if !st.wants_frames {
                return Sent::Ok;
            }
            st.wants_frames = false;
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Sent::Ok
    }

    /// Queues a message body (type byte onwards), framed for this transport.
    pub(crate) fn send_body(&self, body: Bytes) -> Sent {
        if !self.raw {
            return self.send(ws_frame(WS_BINARY, &body));
        }
        let mut out = BytesMut::new();
        match framing::prefix_raw(&body, &mut out) {
            Ok(()) => self.send(out.freeze()),
            Err(_) => Sent::Full,
        }
    }

    /// Ends the client's session (the router queued its Disconnect first): it
    /// stops reading, and its writer closes once the queue is written (or the
    /// close grace is over), even while it waits for a client that does not read.
    pub(crate) fn kill(&self) {
        self.queue.killed.store(true, Ordering::Release);
        let waker = self.queue.lock().waker.take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// WebSocket: the status the connection's closing Close frame carries
    /// (the first one set wins: the error, or the echo of the client's Close).
    pub(crate) fn set_close_code(&self, code: u16) {
        let mut st = self.queue.lock();
        if st.close_code == 0 {
            st.close_code = code;
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
            ws_frame(WS_BINARY, &packet.to_bytes())
        };
        self.send(frame)
    }
}

/// The receiving side of a client's queue, owned by its writer.
pub(crate) struct Inbox {
    queue: Arc<Queue>,
    #[cfg(test)]
    raw: bool,
}

impl Inbox {
    /// Waits for frames and moves up to `limit` of them into `out`; 0 means every
    /// sender is gone and the queue is empty. They still count against the
    /// queue's byte budget until [`Inbox::written`]. Cancel-safe.
    ///
    /// Finding the queue empty, it frees the buffers of both `out` (when empty)
    /// and the queue before it waits, so an idle client holds none.
    pub(crate) async fn recv_many(&mut self, out: &mut VecDeque<Bytes>, limit: usize) -> usize {
        poll_fn(|cx| self.poll_recv_many(cx, out, limit)).await
    }

    /// [`Inbox::recv_many`] as a poll: `Pending` registers the task for the
    /// next frame (and for a kill).
    pub(crate) fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut VecDeque<Bytes>,
        limit: usize,
    ) -> Poll<usize> {
        let mut st = self.queue.lock();
        if st.frames.is_empty() {
            if st.frames.capacity() > 0 {
                st.frames = VecDeque::new();
            }
            if out.is_empty() && out.capacity() > 0 {
                *out = VecDeque::new();
            }
            if st.senders == 0 {
                return Poll::Ready(0);
            }
            register(&mut st.waker, cx);
            st.wants_frames = true;
            return Poll::Pending;
        }
        let n = st.frames.len().min(limit);
        if out.is_empty() && n == st.frames.len() {
            // The whole queue: swap buffers instead of moving frames.
            std::mem::swap(&mut st.frames, out);
        } else {
            out.extend(st.frames.drain(..n));
        }
        Poll::Ready(n)
    }

    /// Registers the task for a kill only: its writer waits for the socket,
    /// and sends must not wake it for nothing.
    pub(crate) fn watch_kill(&self, cx: &mut Context<'_>) {
        let mut st = self.queue.lock();
        register(&mut st.waker, cx);
        st.wants_frames = false;
    }

    /// Whether [`Outbox::kill`] ended the session. Checked after the task
    /// registered its waker (under the queue's lock), a kill is never missed.
    pub(crate) fn killed(&self) -> bool {
        self.queue.killed.load(Ordering::Acquire)
    }

    /// A frame already queued, without waiting (router tests); the body alone
    /// for a WebSocket client.
    #[cfg(test)]
    pub(crate) fn try_recv(&mut self) -> Option<Bytes> {
        let frame = self.queue.lock().frames.pop_front()?;
        if self.raw {
            return Some(frame);
        }
        let (opcode, body) = ws_frame_body(&frame).expect("a whole WebSocket frame");
        assert_eq!(opcode, WS_BINARY);
        Some(body)
    }

    /// WebSocket: the status of the closing Close frame (0: none).
    pub(crate) fn close_code(&self) -> u16 {
        self.queue.lock().close_code
    }

    /// Gives the budget of frames from [`Inbox::recv_many`] back once written.
    pub(crate) fn written<'a>(&self, frames: impl IntoIterator<Item = &'a Bytes>) {
        let bytes: usize = frames.into_iter().map(|f| f.len() + FRAME_OVERHEAD).sum();
        self.queue.lock().bytes -= bytes;
    }
}

fn register(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        w => *w = Some(cx.waker().clone()),
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        let frames = {
            let mut st = self.queue.lock();
            st.receiver = false;
            st.bytes = 0;
            std::mem::take(&mut st.frames)
        };
        drop(frames);
    }
}

/// WebSocket opcodes (RFC 6455 §5.2).
pub(crate) const WS_TEXT: u8 = 0x1;
pub(crate) const WS_BINARY: u8 = 0x2;
pub(crate) const WS_CLOSE: u8 = 0x8;
pub(crate) const WS_PING: u8 = 0x9;
pub(crate) const WS_PONG: u8 = 0xa;

/// Length of a server frame's header for a payload of `len` bytes.
pub(crate) fn ws_header_len(len: usize) -> usize {
    match len {
        0..=125 => 2,
        126..=0xffff => 4,
        _ => 10,
    }
}

/// Writes the header of an unfragmented, unmasked frame (FIN set).
pub(crate) fn put_ws_header(out: &mut BytesMut, opcode: u8, len: usize) {
    out.put_u8(0x80 | opcode);
    match len {
        0..=125 => out.put_u8(len as u8),
        126..=0xffff => {
            out.put_u8(126);
            out.put_u16(len as u16);
        }
        _ => {
            out.put_u8(127);
            out.put_u64(len as u64);
        }
    }
}

/// A whole server-to-client WebSocket frame holding `payload`.
pub(crate) fn ws_frame(opcode: u8, payload: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(ws_header_len(payload.len()) + payload.len());
    put_ws_header(&mut out, opcode, payload.len());
    out.put_slice(payload);
    out.freeze()
}

/// The opcode and payload of one whole unmasked frame made by [`ws_frame`]
/// (`None` if `frame` is not exactly one such frame).
pub(crate) fn ws_frame_body(frame: &Bytes) -> Option<(u8, Bytes)> {
    let (&b0, rest) = frame.split_first()?;
    let (&b1, rest) = rest.split_first()?;
    let (len, head) = match b1 {
        0..=125 => (usize::from(b1), 2),
        126 => (
            usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?])),
            4,
        ),
        127 => {
            let n: [u8; 8] = rest.get(..8)?.try_into().ok()?;
            (usize::try_from(u64::from_be_bytes(n)).ok()?, 10)
        }
        _ => return None, // masked
    };
    (b0 & 0xf0 == 0x80 && frame.len() == head + len).then(|| (b0 & 0x0f, frame.slice(head..)))
}

/// One message body on its way to several receivers: the copy framed for each
/// transport is made at most once per fan-out, and only if a receiver on that
/// transport exists (or it arrived framed that way: then it is forwarded as is).
pub(crate) struct Outgoing {
    body: Bytes,
    raw: Option<Bytes>,
    ws: Option<Bytes>,
}

impl Outgoing {
    /// `framed` is the same body with its length prefix when it arrived that way.
    pub(crate) fn new(body: Bytes, framed: Option<Bytes>) -> Self {
        Outgoing {
            body,
            raw: framed,
            ws: None,
        }
    }

    /// `framed` is the same body as a whole server-to-client WebSocket frame.
    pub(crate) fn from_ws(body: Bytes, framed: Option<Bytes>) -> Self {
        Outgoing {
            body,
            raw: None,
            ws: framed,
        }
    }

    /// The frame for one receiver, or `None` when the body cannot be framed for a
    /// raw client (a WebSocket message above the 16-bit raw limit).
    pub(crate) fn for_transport(&mut self, raw: bool) -> Option<Bytes> {
        if !raw {
            return Some(
                self.ws
                    .get_or_insert_with(|| ws_frame(WS_BINARY, &self.body))
                    .clone(),
            );
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 19: a tokio mpsc channel allocated 1.5 KiB per client before any
    /// frame; an idle client's queue and its writer's batch must hold nothing.
    #[tokio::test]
    async fn an_idle_queue_and_its_drained_batch_hold_no_buffer() {
        let (outbox, mut inbox) = Outbox::new(true);
        for _ in 0..100 {
            assert!(matches!(
                outbox.send(Bytes::from_static(b"\0\x05\x0caa")),
                Sent::Ok
            ));
        }
        let mut batch = VecDeque::new();
        assert_eq!(inbox.recv_many(&mut batch, 128).await, 100);
        inbox.written(&batch);
        batch.clear();
        assert!(batch.capacity() > 0);
        // The queue is empty: the next wait gives both buffers back.
        assert!(futures_util::FutureExt::now_or_never(inbox.recv_many(&mut batch, 128)).is_none());
        assert_eq!(batch.capacity(), 0);
        assert_eq!(inbox.queue.lock().frames.capacity(), 0);
        assert_eq!(inbox.queue.lock().bytes, 0, "the whole budget is back");
        drop(outbox);
        assert_eq!(inbox.recv_many(&mut batch, 128).await, 0, "no sender left");
    }

    /// Issue 19: the session's task waits on the queue's state, not on a
    /// `Notify` of its own. A kill must wake it even while its writer waits
    /// for a full socket (else a client that does not read outlives its
    /// takeover), and sends must not (they would wake a stuck client's task
    /// once per message); while it waits for frames, a send wakes it.
    #[test]
    fn a_kill_wakes_a_writer_waiting_for_the_socket_and_sends_do_not() {
        use std::sync::atomic::AtomicUsize;
        struct Count(AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let woken = || count.0.load(Ordering::SeqCst);
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let frame = Bytes::from_static(b"\0\x03\x0c");

        let (outbox, inbox) = Outbox::new(true);
        inbox.watch_kill(&mut cx);
        assert!(matches!(outbox.send(frame.clone()), Sent::Ok));
        assert_eq!(woken(), 0, "a send woke a writer waiting for the socket");
        assert!(!inbox.killed());
        outbox.kill();
        assert_eq!(woken(), 1, "the kill did not wake the session");
        assert!(inbox.killed());

        let (outbox, mut inbox) = Outbox::new(true);
        let mut batch = VecDeque::new();
        assert!(inbox.poll_recv_many(&mut cx, &mut batch, 8).is_pending());
        assert!(matches!(outbox.send(frame), Sent::Ok));
        assert_eq!(woken(), 2, "a send did not wake an idle writer");
        assert!(!inbox.killed());
    }

    #[test]
    fn sends_to_a_client_whose_writer_is_gone_are_closed() {
        let (outbox, inbox) = Outbox::new(false);
        drop(inbox);
        assert!(matches!(
            outbox.send(Bytes::from_static(b"x")),
            Sent::Closed
        ));
    }

    #[test]
    fn ws_frames_round_trip_at_every_header_length() {
        for len in [0usize, 1, 125, 126, 0xffff, 0x10000, 70_000] {
            let payload = vec![7u8; len];
            let frame = ws_frame(WS_BINARY, &payload);
            assert_eq!(frame.len(), ws_header_len(len) + len);
            let (op, body) = ws_frame_body(&frame).expect("one whole frame");
            assert_eq!((op, body.len()), (WS_BINARY, len));
        }
    }

    #[test]
    fn byte_budget_limits_a_queue_of_large_frames() {
        let (outbox, _inbox) = Outbox::new(true);
        let big = Bytes::from(vec![0u8; 60_000]);
        let accepted = (0..1000)
            .take_while(|_| matches!(outbox.send(big.clone()), Sent::Ok))
            .count();
        assert_eq!(accepted, QUEUE_BYTES / (60_000 + FRAME_OVERHEAD));
    }

    #[tokio::test]
    async fn frames_being_written_still_count_against_the_byte_budget() {
        let (outbox, mut inbox) = Outbox::new(true);
        let big = Bytes::from(vec![0u8; 60_000]);
        while let Sent::Ok = outbox.send(big.clone()) {}
        let mut batch = VecDeque::new();
        assert!(inbox.recv_many(&mut batch, 8).await > 0);
        // Taken by the writer but not yet written: the client still holds them.
        assert!(matches!(outbox.send(big.clone()), Sent::Full));
        inbox.written(&batch);
        assert!(matches!(outbox.send(big), Sent::Ok));
    }

    #[tokio::test]
    async fn a_queue_takes_frames_up_to_exactly_its_byte_budget_and_all_of_it_again_once_written() {
        // 65 472 bytes + the overhead = 64 KiB: 128 of them are the budget exactly.
        let frame = Bytes::from(vec![0u8; (64 << 10) - FRAME_OVERHEAD]);
        let (outbox, mut inbox) = Outbox::new(true);
        for round in 0..2 {
            let accepted = (0..1000)
                .take_while(|_| matches!(outbox.send(frame.clone()), Sent::Ok))
                .count();
            assert_eq!(accepted, QUEUE_BYTES >> 16, "round {round}");
            // Written out: the whole budget is free again, none of it leaked.
            let mut batch = VecDeque::new();
            while batch.len() < accepted {
                inbox.recv_many(&mut batch, accepted).await;
            }
            inbox.written(&batch);
        }
    }

    #[test]
    fn small_frames_are_charged_their_overhead() {
        // 100-byte frames: the byte budget (with 64 bytes each on top) binds
        // before the frame count does.
        let (outbox, _inbox) = Outbox::new(false);
        let small = Bytes::from(vec![0u8; 100]);
        let accepted = (0..QUEUE_FRAMES)
            .take_while(|_| matches!(outbox.send(small.clone()), Sent::Ok))
            .count();
        assert_eq!(accepted, QUEUE_BYTES / (100 + FRAME_OVERHEAD));
    }
}
