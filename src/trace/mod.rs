//! Trace events: one schema for everything smqctl can observe about an SMQ broker.
//!
//! Two layers: [`TraceEvent`] (below) is the embedded broker's internal record,
//! with raw IDs, used for its own `-v` logs; [`schema::Event`] is the public wire
//! schema with names resolved, which tracers receive from either broker.
//!
//! The embedded broker emits these through its hooks (the places where Mako's
//! `smq.hub` calls `onconnect`, `onpublish`, `ondrop`, `onclose`, ...). The
//! wire events come from the broker's tracer outboxes or the Mako hook
//! ([`hook`]), reach consumers through [`attach`] (over SMQ) or [`file`]
//! (NDJSON), and are picked with [`filter`].
//!
//! A [`TraceRecord`] is an event plus the wall-clock time it happened; it
//! serialises to one flat JSON object (`{"ts":…,"event":"publish",…}`). Events
//! never carry credentials: the broker reports who was refused and why, not what
//! they sent as a secret. Payloads are kept as [`Bytes`] (no copy) and serialise
//! as text when printable, otherwise as `0x`-prefixed hex (see
//! [`crate::protocol::display_bytes`]).
//!
//! May import: `protocol` (for byte rendering). Nothing here does I/O except
//! [`attach`], the SMQ source, which also imports `client`, and [`file`].

pub mod attach;
pub mod file;
pub mod filter;
pub mod hook;
pub mod schema;
pub mod source;

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::{Serialize, Serializer};

/// An event with the time it was recorded.
#[derive(Debug, Clone, Serialize)]
pub struct TraceRecord {
    /// Milliseconds since the Unix epoch.
    pub ts: u64,
    #[serde(flatten)]
    pub event: TraceEvent,
}

impl TraceRecord {
    /// Stamps `event` with the current time.
    pub fn now(event: TraceEvent) -> Self {
        TraceRecord {
            ts: unix_millis(SystemTime::now()),
            event,
        }
    }
}

/// Milliseconds since the Unix epoch (0 for times before it).
pub fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How a client is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// WebSocket (`ws://`, or `wss://` when `tls` is set alongside).
    Ws,
    /// Raw socket after an HTTP request with a `SimpleMQ` header.
    Raw,
}

/// What happened. IDs are the numbers on the wire; names are rendered text.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TraceEvent {
    /// The broker started accepting connections.
    Listening {
        addr: String,
        tls: bool,
    },
    /// A connection never became an SMQ session (TLS failure, not an SMQ
    /// request, malformed HTTP, timeout).
    HandshakeFailed {
        peer: String,
        reason: String,
    },
    /// A client was accepted (`onconnect`). `takeover` is true when it replaced a
    /// live connection with the same UID and inherited its ETID.
    Connect {
        etid: u32,
        uid: String,
        info: String,
        peer: String,
        transport: Transport,
        tls: bool,
        takeover: bool,
    },
    /// A Connect was refused with a Connack code (never carries credentials).
    Denied {
        uid: String,
        code: u8,
        reason: String,
        peer: String,
    },
    /// A client's session ended (`onclose`), with why.
    Close {
        etid: u32,
        uid: String,
        reason: String,
    },
    /// A message was routed (`onpublish`); `receivers` counts who got it.
    Publish {
        ptid: u32,
        tid: u32,
        subtid: u32,
        #[serde(serialize_with = "ser_bytes")]
        payload: Bytes,
        receivers: usize,
    },
    /// Nobody received a message (`ondrop`).
    Drop {
        ptid: u32,
        tid: u32,
        subtid: u32,
        #[serde(serialize_with = "ser_bytes")]
        payload: Bytes,
        why: String,
    },
    /// One receiver missed a message because its send queue was full (Mako's
    /// "socket queue full").
    QueueFull {
        etid: u32,
        ptid: u32,
        tid: u32,
        /// Messages this receiver has missed so far.
        dropped: u64,
    },
    Subscribe {
        etid: u32,
        tid: u32,
        topic: String,
    },
    Unsubscribe {
        etid: u32,
        tid: u32,
    },
    Create {
        etid: u32,
        tid: u32,
        topic: String,
    },
    /// A Subscribe (`subscribe: true`) or Create was refused by the topic policy.
    TopicDenied {
        etid: u32,
        topic: String,
        subscribe: bool,
    },
    CreateSub {
        etid: u32,
        subtid: u32,
        name: String,
    },
    Observe {
        etid: u32,
        tid: u32,
    },
    Unobserve {
        etid: u32,
        tid: u32,
    },
    /// A client asked to attach a tracer (`$smqctl.trace.attach`); `allowed`
    /// says whether `--trace-allow` let it.
    TracerAttach {
        etid: u32,
        uid: String,
        peer: String,
        allowed: bool,
    },
    /// The broker is closing every connection with this message.
    Shutdown {
        message: String,
    },
}

fn ser_bytes<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::protocol::display_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_serialises_flat_with_timestamp_and_event_tag() {
        let r = TraceRecord {
            ts: 1_700_000_000_123,
            event: TraceEvent::Publish {
                ptid: 2,
                tid: 3,
                subtid: 0,
                payload: Bytes::from_static(b"hello"),
                receivers: 1,
            },
        };
        let v: serde_json::Value = serde_json::to_value(&r).expect("serialises");
        assert_eq!(
            v,
            serde_json::json!({"ts":1_700_000_000_123u64,"event":"publish","ptid":2,"tid":3,
                "subtid":0,"payload":"hello","receivers":1})
        );
    }

    #[test]
    fn binary_payload_serialises_as_hex() {
        let e = TraceEvent::Drop {
            ptid: 1,
            tid: 2,
            subtid: 0,
            payload: Bytes::from_static(&[0xff, 0x00]),
            why: "unknown tid".into(),
        };
        let v = serde_json::to_value(&e).expect("serialises");
        assert_eq!(v["payload"], "0xff00");
        assert_eq!(v["event"], "drop");
    }

    #[test]
    fn now_is_after_2020() {
        let r = TraceRecord::now(TraceEvent::Shutdown {
            message: "bye".into(),
        });
        assert!(r.ts > 1_577_836_800_000);
    }
}
