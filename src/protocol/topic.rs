//! Subscribe, Create, Createsub and their acknowledgements, plus Unsubscribe.
//!
//! The three requests carry a bare name (running to the end of the packet); the
//! three acks share one layout, [`Ack`]: status, the ID (0 when denied) and the
//! name echoed back, which is how a client matches an ack to its request.
//!
//! May import: `protocol` (parent: `Reader`, `DecodeError`), bytes.

use bytes::{BufMut, Bytes, BytesMut};

use super::{DecodeError, Reader};

/// Suback, Createack and Createsuback: `u8 status, u32 id, name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// 0 accepted, 1 denied.
    pub status: u8,
    /// Topic ID (Suback/Createack) or sub-topic ID (Createsuback); 0 if denied.
    pub tid: u32,
    pub name: Bytes,
}

impl Ack {
    pub fn accepted(&self) -> bool {
        self.status == 0 && self.tid != 0
    }

    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Ack {
            status: r.u8("status")?,
            tid: r.u32("id")?,
            name: r.rest(),
        })
    }

    pub(super) fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.status);
        out.put_u32(self.tid);
        out.put_slice(&self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::hex;
    use super::super::{Packet, framing};
    use super::*;

    fn roundtrip(p: Packet, raw: &str) {
        let wire = hex(raw);
        assert_eq!(framing::encode_raw(&p).expect("fits").to_vec(), wire);
        assert_eq!(Packet::decode(Bytes::from(wire[2..].to_vec())), Ok(p));
    }

    #[test]
    fn subscribe_and_suback_from_transcript() {
        // 00 0e length | 04 Subscribe | "DeviceState"
        roundtrip(
            Packet::Subscribe {
                topic: Bytes::from_static(b"DeviceState"),
            },
            "00 0e 04 44 65 76 69 63 65 53 74 61 74 65",
        );
        // 00 13 length | 05 Suback | 00 ok | 0a 48 cc df tid | "DeviceState"
        roundtrip(
            Packet::Suback(Ack {
                status: 0,
                tid: 0x0a48ccdf,
                name: Bytes::from_static(b"DeviceState"),
            }),
            "00 13 05 00 0a 48 cc df 44 65 76 69 63 65 53 74 61 74 65",
        );
    }

    #[test]
    fn create_and_createack_from_transcript() {
        // 06 Create | "DeviceState"
        roundtrip(
            Packet::Create {
                topic: Bytes::from_static(b"DeviceState"),
            },
            "00 0e 06 44 65 76 69 63 65 53 74 61 74 65",
        );
        // 07 Createack | 00 ok | tid | name
        roundtrip(
            Packet::Createack(Ack {
                status: 0,
                tid: 0x0a48ccdf,
                name: Bytes::from_static(b"DeviceState"),
            }),
            "00 13 07 00 0a 48 cc df 44 65 76 69 63 65 53 74 61 74 65",
        );
    }

    #[test]
    fn createsub_and_createsuback_from_transcript() {
        // 11 Createsub | "SetCharger"
        roundtrip(
            Packet::Createsub {
                subtopic: Bytes::from_static(b"SetCharger"),
            },
            "00 0d 11 53 65 74 43 68 61 72 67 65 72",
        );
        // 12 Createsuback | 00 ok | 56 e2 1f 5f subtid | "SetCharger"
        roundtrip(
            Packet::Createsuback(Ack {
                status: 0,
                tid: 0x56e21f5f,
                name: Bytes::from_static(b"SetCharger"),
            }),
            "00 12 12 00 56 e2 1f 5f 53 65 74 43 68 61 72 67 65 72",
        );
    }

    #[test]
    fn denied_ack_has_status_one_and_tid_zero() {
        // 05 Suback | 01 denied | 00 00 00 00 | "x"
        let p = Packet::decode(Bytes::from_static(b"\x05\x01\x00\x00\x00\x00x")).expect("valid");
        let Packet::Suback(a) = p else {
            panic!("not a Suback")
        };
        assert!(!a.accepted());
    }

    #[test]
    fn unsubscribe_from_transcript_and_short_one_is_malformed() {
        // 00 07 length | 09 Unsubscribe | 0a 48 cc df tid
        roundtrip(
            Packet::Unsubscribe { tid: 0x0a48ccdf },
            "00 07 09 0a 48 cc df",
        );
        assert!(Packet::decode(Bytes::from_static(b"\x09\x0a\x48")).is_err());
    }

    #[test]
    fn short_acks_are_malformed() {
        for t in [5u8, 7, 18] {
            assert!(Packet::decode(Bytes::from(vec![t, 0, 1, 2])).is_err());
        }
    }
}
