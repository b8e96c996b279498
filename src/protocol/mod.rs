//! The SMQ wire format: every packet of SMQ-PROTOCOL.md §3 as a Rust value, with
//! `encode`/`decode` for the packet body (type byte first, no length prefix).
//!
//! This is the floor both the client and the embedded broker stand on, so it knows
//! nothing about sockets, tasks or printing. One file per packet family keeps each
//! codec next to byte-level tests that quote the real broker's transcript; the
//! framing of bodies on the two transports lives in [`framing`].
//!
//! Decoding never panics: every read goes through [`Reader`], which turns a short
//! buffer into a [`DecodeError`] carrying the offset and the reason.
//!
//! May import: nothing else of the crate: this is the ground floor that every
//! other floor may import. The packet files import this one's [`Reader`] and
//! [`DecodeError`]; this one re-exports their packet types (the module face).

pub mod control;
pub mod framing;
pub mod handshake;
pub mod publish;
pub mod rpc;
pub mod topic;

use bytes::{BufMut, Bytes, BytesMut};

pub use control::Change;
pub use handshake::{
    Connack, ConnackCode, Connect, ConnectVersion, Init, MakoConnect, parse_connect_like_mako,
};
pub use publish::Publish;
pub use topic::Ack;

/// Largest payload a Publish may carry: the raw transport's length field is 16 bits
/// and the real broker refuses server-side publishes above this.
pub const MAX_PAYLOAD: usize = 0xFFF0;

/// Size of a Publish header after the type byte: destination, publisher, sub-topic.
pub const PUBLISH_HEADER_LEN: usize = 12;

/// The ETID of the broker's own server-side client unless it was made with `rndtid`.
pub const SERVER_ETID: u32 = 1;

/// Shortest UID the broker accepts is 6 bytes; 5 or fewer are refused with code 1.
pub const MIN_UID_LEN: usize = 6;

/// Packet type bytes, in the order of the specification's table.
pub mod kind {
    pub const INIT: u8 = 1;
    pub const CONNECT: u8 = 2;
    pub const CONNACK: u8 = 3;
    pub const SUBSCRIBE: u8 = 4;
    pub const SUBACK: u8 = 5;
    pub const CREATE: u8 = 6;
    pub const CREATEACK: u8 = 7;
    pub const PUBLISH: u8 = 8;
    pub const UNSUBSCRIBE: u8 = 9;
    pub const DISCONNECT: u8 = 11;
    pub const PING: u8 = 12;
    pub const PONG: u8 = 13;
    pub const OBSERVE: u8 = 14;
    pub const UNOBSERVE: u8 = 15;
    pub const CHANGE: u8 = 16;
    pub const CREATESUB: u8 = 17;
    pub const CREATESUBACK: u8 = 18;
    pub const PUBFRAG: u8 = 19;
}

/// Human name of a packet type byte, for traces and error messages.
pub fn kind_name(kind: u8) -> &'static str {
    match kind {
        kind::INIT => "Init",
        kind::CONNECT => "Connect",
        kind::CONNACK => "Connack",
        kind::SUBSCRIBE => "Subscribe",
        kind::SUBACK => "Suback",
        kind::CREATE => "Create",
        kind::CREATEACK => "Createack",
        kind::PUBLISH => "Publish",
        kind::UNSUBSCRIBE => "Unsubscribe",
        kind::DISCONNECT => "Disconnect",
        kind::PING => "Ping",
        kind::PONG => "Pong",
        kind::OBSERVE => "Observe",
        kind::UNOBSERVE => "Unobserve",
        kind::CHANGE => "Change",
        kind::CREATESUB => "Createsub",
        kind::CREATESUBACK => "Createsuback",
        kind::PUBFRAG => "PubFrag",
        _ => "unknown",
    }
}

/// One SMQ packet. Names, reasons and payloads are raw bytes, exactly as on the
/// wire: the real broker accepts any bytes there, and so must we.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Init(Init),
    Connect(Connect),
    Connack(Connack),
    Subscribe {
        topic: Bytes,
    },
    Suback(Ack),
    Create {
        topic: Bytes,
    },
    Createack(Ack),
    Publish(Publish),
    Unsubscribe {
        tid: u32,
    },
    Disconnect {
        reason: Bytes,
    },
    Ping,
    Pong,
    Observe {
        tid: u32,
    },
    Unobserve {
        tid: u32,
    },
    Change(Change),
    Createsub {
        subtopic: Bytes,
    },
    Createsuback(Ack),
    /// A fragment of a Publish (raw transport only): intermediate fragments carry
    /// destination 0, the last one carries the real header.
    PubFrag(Publish),
}

/// Why a complete packet body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty packet (no type byte)")]
    Empty,
    #[error("unknown packet type {0}")]
    UnknownType(u8),
    #[error("malformed {packet} at byte {offset}: {reason}")]
    Malformed {
        packet: &'static str,
        offset: usize,
        reason: &'static str,
    },
}

/// Bounds-checked cursor over a packet body; every short read becomes a
/// [`DecodeError::Malformed`] naming the offset, so no decoder can panic.
pub struct Reader {
    buf: Bytes,
    pos: usize,
    packet: &'static str,
}

impl Reader {
    pub fn new(buf: Bytes, packet: &'static str) -> Self {
        // Position 1: the type byte has been read by the dispatcher.
        Reader {
            buf,
            pos: 1,
            packet,
        }
    }

    pub fn error(&self, reason: &'static str) -> DecodeError {
        DecodeError::Malformed {
            packet: self.packet,
            offset: self.pos,
            reason,
        }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| self.error(what))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let bytes = self.take(2, what)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn take(&mut self, n: usize, what: &'static str) -> Result<Bytes, DecodeError> {
        if self.remaining() < n {
            return Err(self.error(what));
        }
        let out = self.buf.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(out)
    }

    /// Everything up to the end of the packet (names, reasons, payloads).
    pub fn rest(&mut self) -> Bytes {
        let start = self.pos.min(self.buf.len());
        self.pos = self.buf.len();
        self.buf.slice(start..)
    }
}

impl Packet {
    /// The type byte this packet is sent with.
    pub fn kind(&self) -> u8 {
        match self {
            Packet::Init(_) => kind::INIT,
            Packet::Connect(_) => kind::CONNECT,
            Packet::Connack(_) => kind::CONNACK,
            Packet::Subscribe { .. } => kind::SUBSCRIBE,
            Packet::Suback(_) => kind::SUBACK,
            Packet::Create { .. } => kind::CREATE,
            Packet::Createack(_) => kind::CREATEACK,
            Packet::Publish(_) => kind::PUBLISH,
            Packet::Unsubscribe { .. } => kind::UNSUBSCRIBE,
            Packet::Disconnect { .. } => kind::DISCONNECT,
            Packet::Ping => kind::PING,
            Packet::Pong => kind::PONG,
            Packet::Observe { .. } => kind::OBSERVE,
            Packet::Unobserve { .. } => kind::UNOBSERVE,
            Packet::Change(_) => kind::CHANGE,
            Packet::Createsub { .. } => kind::CREATESUB,
            Packet::Createsuback(_) => kind::CREATESUBACK,
            Packet::PubFrag(_) => kind::PUBFRAG,
        }
    }

    pub fn name(&self) -> &'static str {
        kind_name(self.kind())
    }

    /// Decodes one complete packet body (type byte first).
    pub fn decode(body: Bytes) -> Result<Packet, DecodeError> {
        let kind = *body.first().ok_or(DecodeError::Empty)?;
        let mut r = Reader::new(body, kind_name(kind));
        Ok(match kind {
            kind::INIT => Packet::Init(Init::decode(&mut r)?),
            kind::CONNECT => Packet::Connect(Connect::decode(&mut r)?),
            kind::CONNACK => Packet::Connack(Connack::decode(&mut r)?),
            kind::SUBSCRIBE => Packet::Subscribe { topic: r.rest() },
            kind::SUBACK => Packet::Suback(Ack::decode(&mut r)?),
            kind::CREATE => Packet::Create { topic: r.rest() },
            kind::CREATEACK => Packet::Createack(Ack::decode(&mut r)?),
            kind::PUBLISH => Packet::Publish(Publish::decode(&mut r)?),
            kind::UNSUBSCRIBE => Packet::Unsubscribe {
                tid: r.u32("topic id")?,
            },
            kind::DISCONNECT => Packet::Disconnect { reason: r.rest() },
            kind::PING => Packet::Ping,
            kind::PONG => Packet::Pong,
            kind::OBSERVE => Packet::Observe {
                tid: r.u32("topic id")?,
            },
            kind::UNOBSERVE => Packet::Unobserve {
                tid: r.u32("topic id")?,
            },
            kind::CHANGE => Packet::Change(Change::decode(&mut r)?),
            kind::CREATESUB => Packet::Createsub { subtopic: r.rest() },
            kind::CREATESUBACK => Packet::Createsuback(Ack::decode(&mut r)?),
            kind::PUBFRAG => Packet::PubFrag(Publish::decode(&mut r)?),
            other => return Err(DecodeError::UnknownType(other)),
        })
    }

    /// Length of the encoded body (type byte included, length prefix excluded).
    pub fn encoded_len(&self) -> usize {
        1 + match self {
            Packet::Init(p) => 5 + p.client_ip.len(),
            Packet::Connect(p) => p.body_len(),
            Packet::Connack(p) => 5 + p.reason.len(),
            Packet::Subscribe { topic } | Packet::Create { topic } => topic.len(),
            Packet::Createsub { subtopic } => subtopic.len(),
            Packet::Suback(a) | Packet::Createack(a) | Packet::Createsuback(a) => 5 + a.name.len(),
            Packet::Publish(p) | Packet::PubFrag(p) => PUBLISH_HEADER_LEN + p.payload.len(),
            Packet::Unsubscribe { .. } | Packet::Observe { .. } | Packet::Unobserve { .. } => 4,
            Packet::Disconnect { reason } => reason.len(),
            Packet::Ping | Packet::Pong => 0,
            Packet::Change(_) => 8,
        }
    }

    /// Appends the encoded body (type byte first) to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_len());
        out.put_u8(self.kind());
        match self {
            Packet::Init(p) => p.encode(out),
            Packet::Connect(p) => p.encode(out),
            Packet::Connack(p) => p.encode(out),
            Packet::Subscribe { topic } | Packet::Create { topic } => out.put_slice(topic),
            Packet::Createsub { subtopic } => out.put_slice(subtopic),
            Packet::Suback(a) | Packet::Createack(a) | Packet::Createsuback(a) => a.encode(out),
            Packet::Publish(p) | Packet::PubFrag(p) => p.encode(out),
            Packet::Unsubscribe { tid } | Packet::Observe { tid } | Packet::Unobserve { tid } => {
                out.put_u32(*tid)
            }
            Packet::Disconnect { reason } => out.put_slice(reason),
            Packet::Ping | Packet::Pong => {}
            Packet::Change(c) => c.encode(out),
        }
    }

    /// The encoded body as one buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }
}

/// Bytes shown as text when they are printable UTF-8, else as a hex string; used
/// when a name or reason has to appear in a message.
pub fn display_bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if !s.chars().any(|c| c.is_control()) => s.to_string(),
        _ => format!("0x{}", hex::encode(b)),
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    /// Parses "00 11 01 ..." as written in the captured transcript.
    pub fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|h| u8::from_str_radix(h, 16).expect("test vector hex"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_reserved_types_are_errors_not_panics() {
        // Type 10 is reserved: the real broker closes the connection on it.
        assert_eq!(
            Packet::decode(Bytes::from_static(&[10])),
            Err(DecodeError::UnknownType(10))
        );
        assert_eq!(
            Packet::decode(Bytes::from_static(&[0])),
            Err(DecodeError::UnknownType(0))
        );
        assert_eq!(Packet::decode(Bytes::new()), Err(DecodeError::Empty));
    }

    #[test]
    fn every_kind_round_trips_through_encode_and_decode() {
        let name = Bytes::from_static(b"DeviceState");
        let ack = Ack {
            status: 0,
            tid: 0x0a48ccdf,
            name: name.clone(),
        };
        let publish = Publish {
            tid: 7,
            ptid: 8,
            subtid: 9,
            payload: Bytes::from_static(b"x"),
        };
        let all = vec![
            Packet::Init(Init {
                version: 1,
                seed: 42,
                client_ip: Bytes::from_static(b"127.0.0.1"),
            }),
            Packet::Connect(Connect {
                version: ConnectVersion::V2 {
                    max_packet_size: 1400,
                },
                uid: Bytes::from_static(b"abcdefgh"),
                credentials: Bytes::from_static(b"pw"),
                info: Bytes::from_static(b"info"),
            }),
            Packet::Connack(Connack {
                code: 3,
                etid: 0,
                reason: Bytes::from_static(b"no"),
            }),
            Packet::Subscribe {
                topic: name.clone(),
            },
            Packet::Suback(ack.clone()),
            Packet::Create {
                topic: name.clone(),
            },
            Packet::Createack(ack.clone()),
            Packet::Publish(publish.clone()),
            Packet::Unsubscribe { tid: 5 },
            Packet::Disconnect {
                reason: Bytes::from_static(b"bye"),
            },
            Packet::Ping,
            Packet::Pong,
            Packet::Observe { tid: 5 },
            Packet::Unobserve { tid: 5 },
            Packet::Change(Change { tid: 5, count: 2 }),
            Packet::Createsub {
                subtopic: name.clone(),
            },
            Packet::Createsuback(ack),
            Packet::PubFrag(publish),
        ];
        for p in all {
            let bytes = p.to_bytes();
            assert_eq!(bytes.len(), p.encoded_len(), "{}", p.name());
            assert_eq!(Packet::decode(bytes).as_ref(), Ok(&p), "{}", p.name());
        }
    }

    #[test]
    fn display_bytes_shows_text_or_hex() {
        assert_eq!(display_bytes(b"abc"), "abc");
        assert_eq!(display_bytes(&[0xff, 0x00]), "0xff00");
    }
}
