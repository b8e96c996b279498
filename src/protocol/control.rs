//! Disconnect, Ping/Pong, Observe/Unobserve and Change: the small control packets.
//! Their encode/decode is a line each in `mod.rs`'s dispatch; Change has a struct
//! of its own because callers pass it around.
//!
//! May import: `protocol` (parent: `Reader`, `DecodeError`), bytes.

use bytes::{BufMut, BytesMut};

use super::{DecodeError, Reader};

/// Change: the subscriber count of an observed topic, or 0 when an observed ETID
/// has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub tid: u32,
    pub count: u32,
}

impl Change {
    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Change {
            tid: r.u32("topic id")?,
            count: r.u32("subscriber count")?,
        })
    }

    pub(super) fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.tid);
        out.put_u32(self.count);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::hex;
    use super::super::{Packet, framing};
    use super::*;
    use bytes::Bytes;

    fn roundtrip(p: Packet, raw: &str) {
        let wire = hex(raw);
        assert_eq!(framing::encode_raw(&p).expect("fits").to_vec(), wire);
        assert_eq!(Packet::decode(Bytes::from(wire[2..].to_vec())), Ok(p));
    }

    #[test]
    fn control_packets_from_transcript() {
        roundtrip(Packet::Ping, "00 03 0c"); // 0c Ping
        roundtrip(Packet::Pong, "00 03 0d"); // 0d Pong
        roundtrip(
            Packet::Disconnect {
                reason: Bytes::new(),
            },
            "00 03 0b",
        );
        // 0b Disconnect | "bye"
        roundtrip(
            Packet::Disconnect {
                reason: Bytes::from_static(b"bye"),
            },
            "00 06 0b 62 79 65",
        );
        // 0b Disconnect | "corrupt frame" (the broker's reaction to a forged ptid)
        roundtrip(
            Packet::Disconnect {
                reason: Bytes::from_static(b"corrupt frame"),
            },
            "00 10 0b 63 6f 72 72 75 70 74 20 66 72 61 6d 65",
        );
        // 0e Observe | 0a 48 cc df tid
        roundtrip(Packet::Observe { tid: 0x0a48ccdf }, "00 07 0e 0a 48 cc df");
        // 0f Unobserve | tid
        roundtrip(
            Packet::Unobserve { tid: 0x0a48ccdf },
            "00 07 0f 0a 48 cc df",
        );
        // 10 Change | 0a 48 cc df tid | 00 00 00 01 count
        roundtrip(
            Packet::Change(Change {
                tid: 0x0a48ccdf,
                count: 1,
            }),
            "00 0b 10 0a 48 cc df 00 00 00 01",
        );
    }

    #[test]
    fn short_observe_and_change_are_malformed() {
        assert!(Packet::decode(Bytes::from_static(b"\x0e\x00")).is_err());
        assert!(Packet::decode(Bytes::from_static(b"\x0f")).is_err());
        assert!(Packet::decode(Bytes::from_static(b"\x10\x00\x00\x00\x01\x00")).is_err());
    }
}
