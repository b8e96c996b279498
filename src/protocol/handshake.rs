//! Init, Connect and Connack: the three packets of the connection handshake.
//!
//! The broker speaks first (Init), the client answers with Connect (version 1 as
//! RTL's Python/Lua/JS clients send it, or version 2 with a maximum packet size as
//! the C client sends it), and the broker accepts or refuses with Connack.
//!
//! May import: `protocol` (parent: `Reader`, `DecodeError`), bytes.

use bytes::{BufMut, Bytes, BytesMut};

use super::{DecodeError, Reader};

/// Init: protocol version, a random seed, and the client's IP as the broker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Init {
    pub version: u8,
    pub seed: u32,
    pub client_ip: Bytes,
}

impl Init {
    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Init {
            version: r.u8("version")?,
            seed: r.u32("seed")?,
            client_ip: r.rest(),
        })
    }

    pub(super) fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.version);
        out.put_u32(self.seed);
        out.put_slice(&self.client_ip);
    }
}

/// Which Connect layout: v2 adds a 16-bit maximum packet size (0 = none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectVersion {
    V1,
    V2 { max_packet_size: u16 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    pub version: ConnectVersion,
    pub uid: Bytes,
    pub credentials: Bytes,
    pub info: Bytes,
}

impl Connect {
    pub(super) fn body_len(&self) -> usize {
        let v2 = matches!(self.version, ConnectVersion::V2 { .. });
        1 + if v2 { 2 } else { 0 }
            + 1
            + self.uid.len()
            + 1
            + self.credentials.len()
            + self.info.len()
    }

    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let version = match r.u8("version")? {
            1 => ConnectVersion::V1,
            2 => ConnectVersion::V2 {
                max_packet_size: r.u16("max packet size")?,
            },
            _ => return Err(r.error("unsupported Connect version (1 or 2)")),
        };
        let uid_len = r.u8("uid length")? as usize;
        let uid = r.take(uid_len, "uid shorter than its length byte")?;
        // The real broker reads a missing credentials length as 0 (Lua's
        // `byte(...) or 0`), so a Connect that ends after the UID is valid.
        let cred_len = if r.remaining() == 0 {
            0
        } else {
            r.u8("credentials length")? as usize
        };
        let credentials = r.take(cred_len, "credentials shorter than their length byte")?;
        Ok(Connect {
            version,
            uid,
            credentials,
            info: r.rest(),
        })
    }

    /// Lengths are single bytes on the wire; callers validate UID and credentials
    /// (at most 255 bytes each) before building a Connect, and longer values are
    /// cut here rather than producing a corrupt packet.
    pub(super) fn encode(&self, out: &mut BytesMut) {
        match self.version {
            ConnectVersion::V1 => out.put_u8(1),
            ConnectVersion::V2 { max_packet_size } => {
                out.put_u8(2);
                out.put_u16(max_packet_size);
            }
        }
        let uid = &self.uid[..self.uid.len().min(255)];
        out.put_u8(uid.len() as u8);
        out.put_slice(uid);
        let cred = &self.credentials[..self.credentials.len().min(255)];
        out.put_u8(cred.len() as u8);
        out.put_slice(cred);
        out.put_slice(&self.info);
    }
}

/// How Mako's `connect()` reads a Connect body (type byte first), which is
/// more forgiving than [`Connect`]'s decoder: a UID or credentials shorter than
/// their length byte are taken as they are (Lua's `string.sub` clamps), and the
/// "UID too short" check uses the declared length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MakoConnect {
    Parsed {
        connect: Connect,
        /// The UID length byte as sent (Mako compares this, not the bytes).
        declared_uid_len: usize,
    },
    /// Not a Connect, or a version other than 1 or 2: Connack 1.
    BadVersion,
    /// Too short to hold the length fields: Mako's Lua raises an error and
    /// sends no Connack at all.
    Truncated,
}

/// Lua's `data:sub(i, j)` with 1-based, inclusive, clamped indices.
fn lua_sub(data: &[u8], i: usize, j: usize) -> Bytes {
    let start = i.max(1) - 1;
    let end = j.min(data.len());
    if start >= end {
        Bytes::new()
    } else {
        Bytes::copy_from_slice(&data[start..end])
    }
}

pub fn parse_connect_like_mako(data: &[u8]) -> MakoConnect {
    let byte = |i: usize| data.get(i - 1).copied();
    let (version, base) = match (byte(1), byte(2)) {
        (Some(2), Some(1)) => (ConnectVersion::V1, 3),
        (Some(2), Some(2)) => match (byte(3), byte(4)) {
            (Some(hi), Some(lo)) => (
                ConnectVersion::V2 {
                    max_packet_size: u16::from_be_bytes([hi, lo]),
                },
                5,
            ),
            _ => return MakoConnect::Truncated,
        },
        _ => return MakoConnect::BadVersion,
    };
    let Some(idlen) = byte(base).map(usize::from) else {
        return MakoConnect::Truncated;
    };
    let uid = lua_sub(data, base + 1, idlen + base);
    let crlen = byte(idlen + base + 1).map(usize::from).unwrap_or(0);
    let credentials = lua_sub(data, idlen + base + 2, idlen + base + 1 + crlen);
    let info = lua_sub(data, idlen + base + 2 + crlen, data.len());
    MakoConnect::Parsed {
        connect: Connect {
            version,
            uid,
            credentials,
            info,
        },
        declared_uid_len: idlen,
    }
}

/// Connack return codes, with the meaning a user should read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnackCode {
    Accepted,
    BadProtocol,
    ServerUnavailable,
    BadCredentials,
    CertificateRequired,
    CertificateNotAccepted,
    AccessDenied,
    Other(u8),
}

impl ConnackCode {
    pub fn from_u8(code: u8) -> Self {
        match code {
            0 => ConnackCode::Accepted,
            1 => ConnackCode::BadProtocol,
            2 => ConnackCode::ServerUnavailable,
            3 => ConnackCode::BadCredentials,
            4 => ConnackCode::CertificateRequired,
            5 => ConnackCode::CertificateNotAccepted,
            6 => ConnackCode::AccessDenied,
            other => ConnackCode::Other(other),
        }
    }

    pub fn as_u8(self) -> u8 {
        match self {
            ConnackCode::Accepted => 0,
            ConnackCode::BadProtocol => 1,
            ConnackCode::ServerUnavailable => 2,
            ConnackCode::BadCredentials => 3,
            ConnackCode::CertificateRequired => 4,
            ConnackCode::CertificateNotAccepted => 5,
            ConnackCode::AccessDenied => 6,
            ConnackCode::Other(c) => c,
        }
    }

    pub fn meaning(self) -> &'static str {
        match self {
            ConnackCode::Accepted => "connection accepted",
            ConnackCode::BadProtocol => "unacceptable protocol version or UID shorter than 6 bytes",
            ConnackCode::ServerUnavailable => "server unavailable (or no Connect in time)",
            ConnackCode::BadCredentials => "bad credentials",
            ConnackCode::CertificateRequired => "client certificate required",
            ConnackCode::CertificateNotAccepted => "client certificate not accepted",
            ConnackCode::AccessDenied => "access denied",
            ConnackCode::Other(_) => "unknown refusal code",
        }
    }
}

/// Connack: code, the client's ETID (0 on refusal) and, on refusal, a reason text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connack {
    pub code: u8,
    pub etid: u32,
    pub reason: Bytes,
}

impl Connack {
    pub fn accepted(etid: u32) -> Self {
        Connack {
            code: 0,
            etid,
            reason: Bytes::new(),
        }
    }

    pub fn refused(code: ConnackCode, reason: impl Into<Bytes>) -> Self {
        Connack {
            code: code.as_u8(),
            etid: 0,
            reason: reason.into(),
        }
    }

    pub(super) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Connack {
            code: r.u8("return code")?,
            etid: r.u32("etid")?,
            reason: r.rest(),
        })
    }

    pub(super) fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.code);
        out.put_u32(self.etid);
        out.put_slice(&self.reason);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::hex;
    use super::super::{Packet, framing};
    use super::*;

    fn body(raw: &str) -> Bytes {
        // Transcript lines include the 2-byte raw length; strip it.
        Bytes::from(hex(raw)[2..].to_vec())
    }

    #[test]
    fn init_from_real_broker() {
        // 00 11 length 17 | 01 Init | 01 version | 64 44 7b bc seed | "127.0.0.1"
        let p = Packet::decode(body("00 11 01 01 64 44 7b bc 31 32 37 2e 30 2e 30 2e 31"));
        assert_eq!(
            p,
            Ok(Packet::Init(Init {
                version: 1,
                seed: 0x64447bbc,
                client_ip: Bytes::from_static(b"127.0.0.1")
            }))
        );
    }

    #[test]
    fn connect_v1_encodes_like_rtl_clients() {
        // 00 19 length | 02 Connect | 01 v1 | 09 uid length | "capture-A" |
        // 00 no credentials | "transcript" info
        let c = Packet::Connect(Connect {
            version: ConnectVersion::V1,
            uid: Bytes::from_static(b"capture-A"),
            credentials: Bytes::new(),
            info: Bytes::from_static(b"transcript"),
        });
        let wire =
            hex("00 19 02 01 09 63 61 70 74 75 72 65 2d 41 00 74 72 61 6e 73 63 72 69 70 74");
        assert_eq!(framing::encode_raw(&c).expect("fits").to_vec(), wire);
        assert_eq!(Packet::decode(Bytes::from(wire[2..].to_vec())), Ok(c));
    }

    #[test]
    fn connect_v2_carries_max_packet_size() {
        // 00 11 length | 02 Connect | 02 v2 | 00 00 max size none | 09 "capture-B" |
        // 00 no credentials | no info
        let p = Packet::decode(body("00 11 02 02 00 00 09 63 61 70 74 75 72 65 2d 42 00"));
        assert_eq!(
            p,
            Ok(Packet::Connect(Connect {
                version: ConnectVersion::V2 { max_packet_size: 0 },
                uid: Bytes::from_static(b"capture-B"),
                credentials: Bytes::new(),
                info: Bytes::new(),
            }))
        );
    }

    #[test]
    fn connect_without_credentials_length_reads_as_empty() {
        // 02 Connect | 01 v1 | 06 uid length | "abcdef" and nothing after it
        let p = Packet::decode(Bytes::from_static(b"\x02\x01\x06abcdef")).expect("valid");
        let Packet::Connect(c) = p else {
            panic!("not a Connect")
        };
        assert!(c.credentials.is_empty() && c.info.is_empty());
    }

    #[test]
    fn connect_with_truncated_uid_or_credentials_is_malformed() {
        // uid length 9 but only 3 bytes follow
        assert!(matches!(
            Packet::decode(Bytes::from_static(b"\x02\x01\x09abc")),
            Err(DecodeError::Malformed { offset: 3, .. })
        ));
        // credentials length 5 but only 2 bytes follow
        assert!(Packet::decode(Bytes::from_static(b"\x02\x01\x06abcdef\x05pw")).is_err());
        // version 3 does not exist
        assert!(Packet::decode(Bytes::from_static(b"\x02\x03\x06abcdef\x00")).is_err());
    }

    #[test]
    fn connack_accepted_and_refused() {
        // 00 08 length | 03 Connack | 00 accepted | 42 5e 2d b5 etid
        assert_eq!(
            Packet::decode(body("00 08 03 00 42 5e 2d b5")),
            Ok(Packet::Connack(Connack::accepted(0x425e2db5)))
        );
        // 03 Connack | 01 refused: short UID | 00 00 00 00 etid | no reason
        assert_eq!(
            Packet::decode(body("00 08 03 01 00 00 00 00")),
            Ok(Packet::Connack(Connack::refused(
                ConnackCode::BadProtocol,
                Bytes::new()
            )))
        );
        let refused = Packet::Connack(Connack::refused(ConnackCode::BadCredentials, "denied"));
        // 03 | 03 bad credentials | 0 etid | "denied"
        assert_eq!(
            refused.to_bytes().as_ref(),
            b"\x03\x03\x00\x00\x00\x00denied"
        );
        assert_eq!(ConnackCode::from_u8(3).meaning(), "bad credentials");
    }

    #[test]
    fn mako_reads_short_uids_and_credentials_as_they_are() {
        // 02 Connect | 01 v1 | 09 declared uid length | only "abc"
        let MakoConnect::Parsed {
            connect,
            declared_uid_len,
        } = parse_connect_like_mako(b"\x02\x01\x09abc")
        else {
            panic!("Mako accepts this")
        };
        assert_eq!((&connect.uid[..], declared_uid_len), (&b"abc"[..], 9));
        assert!(connect.credentials.is_empty() && connect.info.is_empty());
        // credentials declared 10, 2 present
        let MakoConnect::Parsed { connect, .. } =
            parse_connect_like_mako(b"\x02\x01\x06abcdef\x0apw")
        else {
            panic!("Mako accepts this")
        };
        assert_eq!(&connect.credentials[..], b"pw");
        // v2 with a short uid
        assert!(matches!(
            parse_connect_like_mako(b"\x02\x02\x00\x00\x08abc"),
            MakoConnect::Parsed {
                declared_uid_len: 8,
                ..
            }
        ));
        // the transcript's Connect reads the same either way
        let wire = hex("02 01 09 63 61 70 74 75 72 65 2d 41 00 74 72 61 6e 73 63 72 69 70 74");
        let MakoConnect::Parsed { connect, .. } = parse_connect_like_mako(&wire) else {
            panic!("valid")
        };
        assert_eq!(
            Packet::decode(Bytes::from(wire)),
            Ok(Packet::Connect(connect))
        );
    }

    #[test]
    fn mako_refuses_other_versions_and_errors_on_missing_length_bytes() {
        assert_eq!(
            parse_connect_like_mako(b"\x02\x03\x06abcdef"),
            MakoConnect::BadVersion
        );
        assert_eq!(
            parse_connect_like_mako(b"\x04DeviceState"),
            MakoConnect::BadVersion
        );
        assert_eq!(parse_connect_like_mako(b"\x02\x01"), MakoConnect::Truncated);
        assert_eq!(
            parse_connect_like_mako(b"\x02\x02\x00"),
            MakoConnect::Truncated
        );
    }

    #[test]
    fn short_connack_is_malformed() {
        assert!(matches!(
            Packet::decode(Bytes::from_static(b"\x03\x00\x01")),
            Err(DecodeError::Malformed {
                packet: "Connack",
                ..
            })
        ));
    }
}
