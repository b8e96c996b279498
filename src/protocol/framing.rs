//! How packet bodies travel on the two transports.
//!
//! Raw socket: each body is prefixed by a 2-byte big-endian length that counts
//! itself (length = 2 + body). WebSocket: one body per binary message, no prefix,
//! so WebSocket framing is the identity and only the raw side needs code here.
//!
//! `decode_raw` follows the house rule: a partial frame is `Ok(None)` (read more),
//! a frame that can never be valid is an error.
//!
//! May import: `protocol` (parent: `Packet`), bytes.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::Packet;

/// Largest raw frame: the length field is 16 bits and counts itself.
pub const MAX_RAW_FRAME: usize = 0xFFFF;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("raw frame length {0} is impossible (it counts its own 2 bytes and a type byte)")]
    BadLength(u16),
    #[error("packet of {0} bytes does not fit a raw frame (max {MAX_RAW_FRAME})")]
    TooLarge(usize),
}

/// Takes one complete raw frame's body (without the length prefix) off the front of
/// `buf`, or `Ok(None)` when more bytes are needed.
pub fn decode_raw(buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let len = u16::from_be_bytes([buf[0], buf[1]]);
    if len < 3 {
        return Err(FrameError::BadLength(len));
    }
    if buf.len() < len as usize {
        return Ok(None);
    }
    let mut frame = buf.split_to(len as usize);
    frame.advance(2);
    Ok(Some(frame.freeze()))
}

/// Appends `packet` with its raw length prefix.
pub fn encode_raw_into(packet: &Packet, out: &mut BytesMut) -> Result<(), FrameError> {
    let total = packet.encoded_len() + 2;
    if total > MAX_RAW_FRAME {
        return Err(FrameError::TooLarge(total));
    }
    out.reserve(total);
    out.put_u16(total as u16);
    packet.encode(out);
    Ok(())
}

pub fn encode_raw(packet: &Packet) -> Result<Bytes, FrameError> {
    let mut out = BytesMut::with_capacity(packet.encoded_len() + 2);
    encode_raw_into(packet, &mut out)?;
    Ok(out.freeze())
}

/// Prefixes an already encoded body, for a broker that forwards bodies unchanged.
pub fn prefix_raw(body: &[u8], out: &mut BytesMut) -> Result<(), FrameError> {
    let total = body.len() + 2;
    if total > MAX_RAW_FRAME {
        return Err(FrameError::TooLarge(total));
    }
    out.reserve(total);
    out.put_u16(total as u16);
    out.put_slice(body);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::hex;
    use super::super::{DecodeError, Packet, Publish};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn partial_frames_need_more_bytes() {
        let mut buf = BytesMut::from(&[0x00][..]);
        assert_eq!(decode_raw(&mut buf), Ok(None));
        // length says 7, only 4 present
        let mut buf = BytesMut::from(&hex("00 07 0e 0a")[..]);
        assert_eq!(decode_raw(&mut buf), Ok(None));
        assert_eq!(buf.len(), 4, "a partial frame stays in the buffer");
    }

    #[test]
    fn impossible_length_is_an_error() {
        for len in [0u8, 1, 2] {
            let mut buf = BytesMut::from(&[0, len, 0x0c][..]);
            assert_eq!(decode_raw(&mut buf), Err(FrameError::BadLength(len as u16)));
        }
    }

    #[test]
    fn two_frames_in_one_read_come_out_one_by_one() {
        // Ping then Pong back to back, then the first 2 bytes of a third frame
        let mut buf = BytesMut::from(&hex("00 03 0c 00 03 0d 00 07")[..]);
        assert_eq!(decode_raw(&mut buf), Ok(Some(Bytes::from_static(&[0x0c]))));
        assert_eq!(decode_raw(&mut buf), Ok(Some(Bytes::from_static(&[0x0d]))));
        assert_eq!(decode_raw(&mut buf), Ok(None));
        assert_eq!(&buf[..], &[0x00, 0x07]);
    }

    #[test]
    fn largest_payload_fits_and_one_more_byte_does_not() {
        let p = |n| {
            Packet::Publish(Publish {
                tid: 1,
                ptid: 2,
                subtid: 0,
                payload: Bytes::from(vec![0u8; n]),
            })
        };
        // 0xFFF0 payload + 12 header + 1 type + 2 length = 0xFFFF
        let frame = encode_raw(&p(super::super::MAX_PAYLOAD)).expect("fits");
        assert_eq!(frame.len(), 0xFFFF);
        assert_eq!(&frame[..2], &[0xff, 0xff]);
        assert_eq!(
            encode_raw(&p(super::super::MAX_PAYLOAD + 1)),
            Err(FrameError::TooLarge(0x10000))
        );
    }

    fn valid_packets() -> Vec<Vec<u8>> {
        [
            "00 11 01 01 64 44 7b bc 31 32 37 2e 30 2e 30 2e 31",
            "00 19 02 01 09 63 61 70 74 75 72 65 2d 41 00 74 72 61 6e 73 63 72 69 70 74",
            "00 11 02 02 00 00 09 63 61 70 74 75 72 65 2d 42 00",
            "00 08 03 00 42 5e 2d b5",
            "00 0e 04 44 65 76 69 63 65 53 74 61 74 65",
            "00 13 05 00 0a 48 cc df 44 65 76 69 63 65 53 74 61 74 65",
            "00 12 12 00 56 e2 1f 5f 53 65 74 43 68 61 72 67 65 72",
            "00 1a 08 0a 48 cc df 9b c1 dc 36 56 e2 1f 5f 7b 22 4f 6e 22 3a 74 72 75 65 7d",
            "00 07 09 0a 48 cc df",
            "00 10 0b 63 6f 72 72 75 70 74 20 66 72 61 6d 65",
            "00 03 0c",
            "00 07 0e 0a 48 cc df",
            "00 0b 10 0a 48 cc df 00 00 00 01",
            "00 12 13 44 de 20 5a 94 d8 f3 06 00 00 00 00 65 6e 64",
        ]
        .iter()
        .map(|s| hex(s))
        .collect()
    }

    /// Feeds bytes through framing and decoding the way a connection does.
    fn feed(bytes: &[u8]) {
        let mut buf = BytesMut::from(bytes);
        while let Ok(Some(body)) = decode_raw(&mut buf) {
            match Packet::decode(body.clone()) {
                Ok(p) => {
                    // What decodes encodes back to the same bytes (fixed-size
                    // packets ignore trailing bytes, as the real broker does),
                    // except the lenient Connect without a credentials length.
                    if !matches!(p, Packet::Connect(_)) {
                        assert!(body.starts_with(&p.to_bytes()));
                    }
                }
                Err(DecodeError::Malformed { offset, .. }) => assert!(offset <= body.len()),
                Err(_) => {}
            }
        }
    }

    proptest! {
        #[test]
        fn decoder_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            feed(&bytes);
            // Also as WebSocket messages (no length prefix).
            let _ = Packet::decode(Bytes::from(bytes));
        }

        #[test]
        fn decoder_never_panics_on_mutated_valid_packets(
            which in 0usize..14,
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
            cut in any::<usize>(),
        ) {
            let mut p = valid_packets()[which].clone();
            for (i, b) in flips {
                let n = p.len();
                p[i % n] = b;
            }
            let cut = cut % (p.len() + 1);
            feed(&p[..cut]);
            feed(&p);
            let _ = Packet::decode(Bytes::from(p[2.min(p.len())..].to_vec()));
        }

        #[test]
        fn every_valid_packet_survives_any_split_point(which in 0usize..14, split in any::<usize>()) {
            let p = valid_packets()[which].clone();
            let split = split % p.len();
            let mut buf = BytesMut::from(&p[..split]);
            prop_assert_eq!(decode_raw(&mut buf), Ok(None));
            buf.extend_from_slice(&p[split..]);
            let body = decode_raw(&mut buf).expect("valid").expect("complete");
            prop_assert!(Packet::decode(body).is_ok());
        }
    }
}
