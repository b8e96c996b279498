//! The HTTP request that starts every SMQ connection, and the broker's answers.
//!
//! Both transports begin with an HTTP request on the same URL: a WebSocket
//! upgrade (`Sec-WebSocket-Key`) or a raw-socket request (`SimpleMQ` header).
//! Mako decides between them on those two headers alone, and so do we; anything
//! else is not SMQ and gets a 404 (malformed HTTP gets a 400). Bytes that arrive
//! after the request head belong to the SMQ stream, so the reader hands them back.
//!
//! May import: tokio I/O, tungstenite's accept-key helper, httpdate.

use std::time::SystemTime;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest request head we accept; real clients send a few hundred bytes.
pub(crate) const MAX_HEAD: usize = 8 * 1024;

/// The first byte of a TLS ClientHello (record type "handshake").
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// What the request asked for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// WebSocket upgrade with this `Sec-WebSocket-Key`.
    WebSocket { key: String },
    /// Raw socket; `send_response` when `SendSmqHttpResponse: true` was sent.
    Raw { send_response: bool },
    /// An HTTP request without either SMQ header.
    NotSmq,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum HeadError {
    #[error("connection closed before the HTTP request was complete")]
    Closed,
    #[error("HTTP request head larger than {MAX_HEAD} bytes")]
    TooLarge,
    #[error("TLS handshake on a plain port (closed at once so the client can say so)")]
    TlsOnPlainPort,
    #[error("malformed HTTP request: {0}")]
    Malformed(&'static str),
    #[error("reading the HTTP request: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads up to the blank line ending the request head. Returns the request and
/// the bytes read past it.
pub(crate) async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<(Request, BytesMut), HeadError> {
    let mut buf = BytesMut::with_capacity(1024);
    let mut searched = 0;
    loop {
        if let Some(end) = find_blank_line(&buf, searched) {
            let head = buf.split_to(end);
            return Ok((parse(&head)?, buf));
        }
        if buf.len() >= MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        searched = buf.len().saturating_sub(2);
        let room = MAX_HEAD - buf.len();
        buf.reserve(room.min(1024));
        let n = (&mut *stream).take(room as u64).read_buf(&mut buf).await?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        // 0x16 starts a TLS handshake record: a wss:// or https:// client on
        // this plain port. No HTTP request starts with it, and the client
        // waits for a TLS answer that will never come, so we stop here.
        if buf.first() == Some(&TLS_HANDSHAKE_RECORD) {
            return Err(HeadError::TlsOnPlainPort);
        }
    }
}

/// Where the head ends: just past the empty line that ends it. Lines may end
/// in CRLF or, as some clients send and Mako accepts, a bare LF.
fn find_blank_line(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    rest.iter().enumerate().find_map(|(i, &b)| {
        if b != b'\n' {
            return None;
        }
        match &rest[i + 1..] {
            [b'\n', ..] => Some(from + i + 2),
            [b'\r', b'\n', ..] => Some(from + i + 3),
            _ => None,
        }
    })
}

fn parse(head: &[u8]) -> Result<Request, HeadError> {
    let text = std::str::from_utf8(head).map_err(|_| HeadError::Malformed("not UTF-8"))?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed(
            "request line is not `METHOD target HTTP/1.x`",
        ));
    };
    if method.is_empty() || target.is_empty() || !version.starts_with("HTTP/1.") {
        return Err(HeadError::Malformed(
            "request line is not `METHOD target HTTP/1.x`",
        ));
    }
    let (mut ws_key, mut simplemq, mut send_response) = (None, false, false);
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or(HeadError::Malformed("header line without ':'"))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("sec-websocket-key") {
            ws_key = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("simplemq") {
            simplemq = true;
        } else if name.eq_ignore_ascii_case("sendsmqhttpresponse") {
            // Mako compares the value with "true" exactly.
            send_response = value == "true";
        }
    }
    Ok(match (ws_key, simplemq) {
        (Some(key), _) => Request::WebSocket { key },
        (None, true) => Request::Raw { send_response },
        (None, false) => Request::NotSmq,
    })
}

fn date() -> String {
    httpdate::fmt_http_date(SystemTime::now())
}

/// The raw transport's answer when `SendSmqHttpResponse: true` was sent; the
/// same header lines as Mako's, with our server name.
pub(crate) fn raw_ok() -> String {
    format!(
        "HTTP/1.1 200 OK\r\nDate: {}\r\nServer: smqctl\r\nSmqBroker: true\r\nKeep-Alive: Keep-Alive\r\n\r\n",
        date()
    )
}

/// `101 Switching Protocols` for a WebSocket upgrade.
pub(crate) fn ws_switching(key: &str) -> String {
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nDate: {}\r\nServer: smqctl\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nKeep-Alive: Keep-Alive\r\n\r\n",
        date()
    )
}

/// An error response that ends the connection.
pub(crate) fn error_response(status: u16) -> String {
    let (reason, body) = match status {
        404 => (
            "Not Found",
            "This is an SMQ broker (smqctl). Connect with an SMQ client over WebSocket \
             (ws:// or wss://) or a raw socket (http:// with a `SimpleMQ: 1` header).\n",
        ),
        _ => (
            "Bad Request",
            "Malformed HTTP request; this is an SMQ broker (smqctl).\n",
        ),
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nDate: {}\r\nServer: smqctl\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        date(),
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(bytes: &[u8]) -> Result<(Request, BytesMut), HeadError> {
        let mut s = bytes;
        read_request(&mut s).await
    }

    #[tokio::test]
    async fn raw_request_with_and_without_response_flag() {
        let (r, rest) = read(
            b"GET /smq/ HTTP/1.1\r\nHost: x\r\nSimpleMQ: 1\r\nSendSmqHttpResponse: true\r\n\r\n",
        )
        .await
        .expect("valid");
        assert_eq!(
            r,
            Request::Raw {
                send_response: true
            }
        );
        assert!(rest.is_empty());
        let (r, _) = read(b"GET / HTTP/1.1\r\nsimplemq: 1\r\n\r\n")
            .await
            .expect("valid");
        assert_eq!(
            r,
            Request::Raw {
                send_response: false
            }
        );
    }

    #[tokio::test]
    async fn bytes_after_the_head_are_returned() {
        let (_, rest) = read(b"GET / HTTP/1.1\r\nSimpleMQ: 1\r\n\r\n\x00\x03\x0c")
            .await
            .expect("valid");
        assert_eq!(&rest[..], b"\x00\x03\x0c");
    }

    #[tokio::test]
    async fn websocket_key_wins_and_header_names_ignore_case() {
        let (r, _) = read(b"GET /smq HTTP/1.1\r\nSEC-WEBSOCKET-KEY:  dGhlIHNhbXBsZSBub25jZQ==\r\nSimpleMQ: 1\r\n\r\n")
            .await
            .expect("valid");
        assert_eq!(
            r,
            Request::WebSocket {
                key: "dGhlIHNhbXBsZSBub25jZQ==".into()
            }
        );
        // RFC 6455's example key and accept value.
        assert!(
            ws_switching("dGhlIHNhbXBsZSBub25jZQ==")
                .contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")
        );
    }

    #[tokio::test]
    async fn plain_get_is_not_smq_and_garbage_is_malformed() {
        let (r, _) = read(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("valid");
        assert_eq!(r, Request::NotSmq);
        assert!(matches!(
            read(b"HELLO\r\n\r\n").await,
            Err(HeadError::Malformed(_))
        ));
        assert!(matches!(
            read(b"GET / HTTP/1.1\r\nno colon\r\n\r\n").await,
            Err(HeadError::Malformed(_))
        ));
        assert!(matches!(
            read(b"GET / HTTP/1.1\r\n").await,
            Err(HeadError::Closed)
        ));
    }

    #[tokio::test]
    async fn a_request_line_without_a_method_or_a_target_or_http_1_is_malformed() {
        for line in [
            " /smq/ HTTP/1.1",   // no method
            "GET  HTTP/1.1",     // no target
            "GET /smq/ FTP/1.0", // not HTTP/1.x
            "GET /smq/ HTTP/2",
        ] {
            let head = format!("{line}\r\nSimpleMQ: 1\r\n\r\n");
            assert!(
                matches!(read(head.as_bytes()).await, Err(HeadError::Malformed(_))),
                "{line:?}"
            );
        }
    }

    #[tokio::test]
    async fn tls_client_hello_on_the_plain_port_is_not_waited_on() {
        // A ClientHello's record header: handshake, TLS 1.0 record version.
        // Without a blank line the reader would wait for more until the
        // handshake timeout; it must stop at the first byte instead.
        assert!(matches!(
            read(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03").await,
            Err(HeadError::TlsOnPlainPort)
        ));
        let mut slow = one_byte_reader(b"\x16\x03\x01\x02\x00");
        assert!(matches!(
            read_request(&mut slow).await,
            Err(HeadError::TlsOnPlainPort)
        ));
    }

    #[tokio::test]
    async fn head_with_lf_only_line_endings_is_answered_like_mako() {
        let (r, rest) = read(b"GET /smq/ HTTP/1.1\nHost: x\nSimpleMQ: 1\n\n\x00\x03\x0c")
            .await
            .expect("LF-only head");
        assert_eq!(
            r,
            Request::Raw {
                send_response: false
            }
        );
        assert_eq!(&rest[..], b"\x00\x03\x0c");
        // Mixed endings, and a CRLF head whose bytes arrive one at a time.
        let (r, _) = read(b"GET / HTTP/1.1\r\nSec-WebSocket-Key: k\n\r\n")
            .await
            .expect("mixed endings");
        assert_eq!(r, Request::WebSocket { key: "k".into() });
        let head = b"GET / HTTP/1.1\r\nSimpleMQ: 1\r\n\r\nAB";
        let mut slow = one_byte_reader(head);
        let (r, rest) = read_request(&mut slow).await.expect("byte by byte");
        assert!(matches!(r, Request::Raw { .. }));
        assert!(rest.is_empty(), "read no further than the head");
        let mut after = Vec::new();
        slow.read_to_end(&mut after).await.expect("rest");
        assert_eq!(after, b"AB");
    }

    /// A reader that hands out one byte per read.
    fn one_byte_reader(bytes: &'static [u8]) -> impl AsyncRead + Unpin {
        struct OneByte(&'static [u8]);
        impl AsyncRead for OneByte {
            fn poll_read(
                mut self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                if let Some((first, rest)) = self.0.split_first() {
                    buf.put_slice(&[*first]);
                    self.0 = rest;
                }
                std::task::Poll::Ready(Ok(()))
            }
        }
        OneByte(bytes)
    }

    #[tokio::test]
    async fn a_head_of_seven_kilobytes_is_read_like_a_short_one() {
        // Real clients behind proxies send long cookies: well under MAX_HEAD.
        let mut head = b"GET /smq/ HTTP/1.1\r\nCookie: ".to_vec();
        head.extend(std::iter::repeat_n(b'c', 7 * 1024));
        head.extend_from_slice(b"\r\nSimpleMQ: 1\r\n\r\n");
        let (r, rest) = read(&head).await.expect("a 7 KiB head");
        assert_eq!(
            r,
            Request::Raw {
                send_response: false
            }
        );
        assert!(rest.is_empty());
    }

    #[tokio::test]
    async fn a_head_just_over_the_limit_is_refused_whatever_the_read_sizes() {
        // Reads of 1000 bytes do not land on MAX_HEAD: the last one must stop
        // there, not read on to a blank line past it.
        let mut head = b"GET /smq/ HTTP/1.1\r\nCookie: ".to_vec();
        head.extend(std::iter::repeat_n(b'c', MAX_HEAD + 200 - head.len()));
        head.extend_from_slice(b"\r\nSimpleMQ: 1\r\n\r\n");
        let mut chunks = chunk_reader(head, 1000);
        assert!(matches!(
            read_request(&mut chunks).await,
            Err(HeadError::TooLarge)
        ));
    }

    /// A reader that hands out at most `n` bytes per read.
    fn chunk_reader(bytes: Vec<u8>, n: usize) -> impl AsyncRead + Unpin {
        struct Chunks(Vec<u8>, usize, usize);
        impl AsyncRead for Chunks {
            fn poll_read(
                mut self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let (at, n) = (self.1, self.2);
                let end = (at + n).min(self.0.len()).min(at + buf.remaining());
                buf.put_slice(&self.0[at..end]);
                self.1 = end;
                std::task::Poll::Ready(Ok(()))
            }
        }
        Chunks(bytes, 0, n)
    }

    #[tokio::test]
    async fn oversized_head_is_refused() {
        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'a', MAX_HEAD + 10));
        assert!(matches!(read(&big).await, Err(HeadError::TooLarge)));
    }

    #[test]
    fn error_response_has_matching_content_length() {
        let r = error_response(404);
        let (head, body) = r.split_once("\r\n\r\n").expect("head and body");
        assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert!(head.contains("Connection: close"));
    }
}
