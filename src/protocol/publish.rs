//! Publish and PubFrag: `u32 destination, u32 publisher ETID, u32 sub-topic ID,
//! payload`. PubFrag shares the layout; only the last fragment (non-zero
//! destination) carries a meaningful header.
//!
//! May import: `protocol` (parent: `Reader`, `DecodeError`), bytes.

use bytes::{BufMut, Bytes, BytesMut};

use super::{DecodeError, Reader};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// Destination: a topic TID or a client's ETID.
    pub tid: u32,
    /// The publisher's ETID (the broker checks it against the sender).
    pub ptid: u32,
    /// Sub-topic ID, 0 for none.
    pub subtid: u32,
    pub payload: Bytes,
}

impl Publish {
    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Publish {
            tid: r.u32("destination tid")?,
            ptid: r.u32("publisher etid")?,
            subtid: r.u32("sub-topic id")?,
            payload: r.rest(),
        })
    }

    pub(super) fn encode(&self, out: &mut BytesMut) {
        out.put_u32(self.tid);
        out.put_u32(self.ptid);
        out.put_u32(self.subtid);
        out.put_slice(&self.payload);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::hex;
    use super::super::{Packet, framing};
    use super::*;

    #[test]
    fn publish_to_topic_with_subtid_from_transcript() {
        // 00 1a length 26 | 08 Publish | 0a 48 cc df topic | 9b c1 dc 36 publisher |
        // 56 e2 1f 5f sub-topic | {"On":true}
        let wire =
            hex("00 1a 08 0a 48 cc df 9b c1 dc 36 56 e2 1f 5f 7b 22 4f 6e 22 3a 74 72 75 65 7d");
        let p = Packet::Publish(Publish {
            tid: 0x0a48ccdf,
            ptid: 0x9bc1dc36,
            subtid: 0x56e21f5f,
            payload: Bytes::from_static(br#"{"On":true}"#),
        });
        assert_eq!(framing::encode_raw(&p).expect("fits").to_vec(), wire);
        assert_eq!(Packet::decode(Bytes::from(wire[2..].to_vec())), Ok(p));
    }

    #[test]
    fn publish_with_empty_payload_is_valid_but_short_header_is_not() {
        // 08 | three zero u32s | no payload
        let p = Packet::decode(Bytes::from(
            vec![8u8; 1].into_iter().chain([0; 12]).collect::<Vec<_>>(),
        ));
        assert!(matches!(p, Ok(Packet::Publish(ref x)) if x.payload.is_empty()));
        // 08 | only 11 header bytes: the broker closes on this
        let short: Vec<u8> = std::iter::once(8).chain([0; 11]).collect();
        assert!(matches!(
            Packet::decode(Bytes::from(short)),
            Err(DecodeError::Malformed { offset: 9, .. })
        ));
    }

    #[test]
    fn pubfrag_intermediate_and_final_from_transcript() {
        // 00 15 | 13 PubFrag | 0 dest | 0 ptid | 0 subtid | "part1-"
        let mid = hex("00 15 13 00 00 00 00 00 00 00 00 00 00 00 00 70 61 72 74 31 2d");
        assert_eq!(
            Packet::decode(Bytes::from(mid[2..].to_vec())),
            Ok(Packet::PubFrag(Publish {
                tid: 0,
                ptid: 0,
                subtid: 0,
                payload: Bytes::from_static(b"part1-")
            }))
        );
        // 00 12 | 13 PubFrag | 44 de 20 5a dest | 94 d8 f3 06 ptid | 0 | "end"
        let last = hex("00 12 13 44 de 20 5a 94 d8 f3 06 00 00 00 00 65 6e 64");
        let Ok(Packet::PubFrag(p)) = Packet::decode(Bytes::from(last[2..].to_vec())) else {
            panic!("not a PubFrag")
        };
        assert_eq!(
            (p.tid, p.ptid, &p.payload[..]),
            (0x44de205a, 0x94d8f306, &b"end"[..])
        );
    }
}
