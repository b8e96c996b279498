//! Per-client queues of encoded frames: the [`Outbox`] the router, the tracer
//! pumps and a session's reader queue into, the [`Inbox`] its writer task
//! drains, their frame and byte budgets, and the [`Outgoing`] body shared by
//! one fan-out (rumqttd's `iobufs` in spirit).
//!
//! A leaf of the broker: router, tracers and session import it; it imports
//! nothing of theirs.
//!
//! May import: `protocol` (framing, packet encoding). No sockets, no locks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::mpsc;

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

    /// Whether frames for this client carry the raw length prefix.
    pub(crate) fn is_raw(&self) -> bool {
        self.raw
    }

    /// Queues one frame already encoded for this client's transport.
    pub(crate) fn send(&self, frame: Bytes) -> Sent {
        let len = frame.len() + FRAME_OVERHEAD;
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

/// The receiving side of a client's queue, owned by its writer task.
pub(crate) struct Inbox {
    rx: mpsc::Receiver<Bytes>,
    queued: Arc<AtomicUsize>,
}

impl Inbox {
    /// Waits for frames and moves up to `limit` of them into `out`; 0 means every
    /// sender is gone and the queue is empty. They still count against the
    /// queue's byte budget until [`Inbox::written`].
    pub(crate) async fn recv_many(&mut self, out: &mut Vec<Bytes>, limit: usize) -> usize {
        self.rx.recv_many(out, limit).await
    }

    /// A frame already queued, without waiting (router tests).
    #[cfg(test)]
    pub(crate) fn try_recv(&mut self) -> Option<Bytes> {
        self.rx.try_recv().ok()
    }

    /// Gives the budget of frames from [`Inbox::recv_many`] back once written.
    pub(crate) fn written(&self, frames: &[Bytes]) {
        let bytes: usize = frames.iter().map(|f| f.len() + FRAME_OVERHEAD).sum();
        self.queued.fetch_sub(bytes, Ordering::Relaxed);
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
        let mut batch = Vec::new();
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
            let mut batch = Vec::new();
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
