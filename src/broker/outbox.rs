//! Per-client queues of encoded frames: the [`Outbox`] the router, the tracer
//! pumps and a session's reader queue into, the [`Inbox`] its writer task
//! drains, their frame and byte budgets, and the [`Outgoing`] body shared by
//! one fan-out (rumqttd's `iobufs` in spirit).
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
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

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
}

struct State {
    frames: VecDeque<Bytes>,
    /// Bytes (with [`FRAME_OVERHEAD`]) queued or taken but not yet written.
    bytes: usize,
    /// The writer waiting for frames.
    waker: Option<Waker>,
    /// Live [`Outbox`] clones; at 0 the writer drains and ends.
    senders: usize,
    /// Whether the [`Inbox`] still exists (else sends are `Closed`).
    receiver: bool,
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
                senders: 1,
                receiver: true,
            }),
        });
        (
            Outbox {
                queue: queue.clone(),
                raw,
            },
            Inbox { queue },
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
            return self.send(body);
        }
        let mut out = BytesMut::new();
        match framing::prefix_raw(&body, &mut out) {
            Ok(()) => self.send(out.freeze()),
            Err(_) => Sent::Full,
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

/// The receiving side of a client's queue, owned by its writer.
pub(crate) struct Inbox {
    queue: Arc<Queue>,
}

impl Inbox {
    /// Waits for frames and moves up to `limit` of them into `out`; 0 means every
    /// sender is gone and the queue is empty. They still count against the
    /// queue's byte budget until [`Inbox::written`]. Cancel-safe.
    ///
    /// Finding the queue empty, it frees the buffers of both `out` (when empty)
    /// and the queue before it waits, so an idle client holds none.
    pub(crate) async fn recv_many(&mut self, out: &mut VecDeque<Bytes>, limit: usize) -> usize {
        poll_fn(|cx| {
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
                match &mut st.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    w => *w = Some(cx.waker().clone()),
                }
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
        })
        .await
    }

    /// A frame already queued, without waiting (router tests).
    #[cfg(test)]
    pub(crate) fn try_recv(&mut self) -> Option<Bytes> {
        self.queue.lock().frames.pop_front()
    }

    /// Gives the budget of frames from [`Inbox::recv_many`] back once written.
    pub(crate) fn written<'a>(&self, frames: impl IntoIterator<Item = &'a Bytes>) {
        let bytes: usize = frames.into_iter().map(|f| f.len() + FRAME_OVERHEAD).sum();
        self.queue.lock().bytes -= bytes;
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
    pub(crate) fn for_transport(&mut self, raw: bool) -> Option<Bytes> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
