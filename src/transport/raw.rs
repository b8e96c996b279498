//! Raw-socket bootstrap: `GET <path>` with `SimpleMQ: 1` and
//! `SendSmqHttpResponse: true`, an HTTP 200 head back, then length-prefixed SMQ
//! packets on the same socket. Bytes that arrive after the head (the broker sends
//! Init at once) stay in the read buffer as the start of the SMQ stream.
//!
//! May import: `transport` (parent), `protocol::framing`.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadHalf};

use super::{ByteStream, Endpoint, PacketReader, PacketWriter, TransportError};
use crate::protocol::framing;

/// Longest HTTP response head we accept before calling the peer broken.
const MAX_HEAD: usize = 16 * 1024;

/// What [`recv`] reserves for a read when its buffer is (nearly) full.
const READ_CHUNK: usize = 16 * 1024;

pub async fn bootstrap(
    mut stream: ByteStream,
    ep: &Endpoint,
) -> Result<(PacketReader, PacketWriter), TransportError> {
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nSimpleMQ: 1\r\nSendSmqHttpResponse: true\r\n\r\n",
        ep.path,
        ep.host_header()
    );
    stream.write_all(request.as_bytes()).await?;
    stream.flush().await?;
    let (head, buf) = read_head(&mut stream, ep).await?;
    // Mako's broker marks its answer with `SmqBroker: true`; a 200 without it
    // is a web server's page, not the SMQ stream.
    if !head.status.starts_with("HTTP/") || head.code() != "200" || !head.smq_broker {
        return Err(TransportError::HttpStatus {
            url: ep.to_string(),
            status: head.status,
            server: head.server,
            location: head.location,
        });
    }
    let (rd, wr) = tokio::io::split(stream);
    Ok((
        PacketReader::Raw {
            rd,
            buf,
            lean: false,
        },
        PacketWriter::Raw {
            wr,
            buf: BytesMut::new(),
            lean: false,
        },
    ))
}

/// Reads an HTTP answer head: the head, and the bytes that came after it
/// (the start of the SMQ stream).
pub(super) async fn read_head(
    stream: &mut ByteStream,
    ep: &Endpoint,
) -> Result<(Head, BytesMut), TransportError> {
    let mut buf = BytesMut::with_capacity(1024);
    let head_end = loop {
        if let Some(i) = find_head_end(&buf) {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(TransportError::HttpStatus {
                url: ep.to_string(),
                status: "an HTTP head longer than 16 KiB".into(),
                server: Head::parse(&buf).server,
                location: None,
            });
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(if buf.is_empty() {
                TransportError::Closed
            } else {
                TransportError::HttpStatus {
                    url: ep.to_string(),
                    status: "a truncated HTTP head".into(),
                    server: Head::parse(&buf).server,
                    location: None,
                }
            });
        }
    };
    let head = Head::parse(&buf.split_to(head_end));
    Ok((head, buf))
}

/// What an HTTP answer head says about who answered.
#[derive(Debug, Default)]
pub(super) struct Head {
    /// The status line, e.g. `HTTP/1.1 404 Not Found`.
    pub status: String,
    pub server: Option<String>,
    pub location: Option<String>,
    /// `SmqBroker: true`, the mark of Mako's broker.
    pub smq_broker: bool,
    /// `Sec-WebSocket-Accept` of a WebSocket upgrade.
    pub accept: Option<String>,
}

impl Head {
    /// Parses as much of a head as `bytes` holds (it may be cut short).
    pub fn parse(bytes: &[u8]) -> Head {
        let text = String::from_utf8_lossy(bytes);
        let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
        let mut head = Head {
            status: lines.next().unwrap_or_default().trim().to_string(),
            ..Head::default()
        };
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "server" => head.server = Some(value.to_string()),
                "location" => head.location = Some(value.to_string()),
                "smqbroker" => head.smq_broker = value.eq_ignore_ascii_case("true"),
                "sec-websocket-accept" => head.accept = Some(value.to_string()),
                _ => {}
            }
        }
        head
    }

    pub fn code(&self) -> &str {
        self.status.split_whitespace().nth(1).unwrap_or("")
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Cancel-safe: a partial frame stays in `buf` and `read_buf` loses nothing when
/// dropped.
pub async fn recv(
    rd: &mut ReadHalf<ByteStream>,
    buf: &mut BytesMut,
) -> Result<Option<Bytes>, TransportError> {
    loop {
        if let Some(body) = framing::decode_raw(buf)? {
            return Ok(Some(body));
        }
        if buf.capacity() - buf.len() < 512 {
            // A read takes up to READ_CHUNK: a stream of small messages
            // costs a read per ~200 of them, not per ~50.
            buf.reserve(READ_CHUNK);
        }
        if rd.read_buf(buf).await? == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(TransportError::Closed)
            };
        }
    }
}

/// [`recv`] without a read buffer of its own while no partial packet waits:
/// each read goes to a buffer on the stack (inside one poll, never held
/// across an await) and only the bytes that came are kept, in a buffer that
/// is released once a packet takes its last byte. Cancel-safe like [`recv`].
pub async fn recv_lean(
    rd: &mut ReadHalf<ByteStream>,
    buf: &mut BytesMut,
) -> Result<Option<Bytes>, TransportError> {
    loop {
        if let Some(body) = framing::decode_raw(buf)? {
            if buf.is_empty() {
                // The rest of the allocation goes with the body.
                *buf = BytesMut::new();
            }
            return Ok(Some(body));
        }
        let n = std::future::poll_fn(|cx| {
            let mut chunk = [0u8; 2048];
            let mut rb = tokio::io::ReadBuf::new(&mut chunk);
            match std::pin::Pin::new(&mut *rd).poll_read(cx, &mut rb) {
                std::task::Poll::Ready(Ok(())) => {
                    buf.extend_from_slice(rb.filled());
                    std::task::Poll::Ready(Ok(rb.filled().len()))
                }
                std::task::Poll::Ready(Err(e)) => std::task::Poll::Ready(Err(e)),
                std::task::Poll::Pending => std::task::Poll::Pending,
            }
        })
        .await?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(TransportError::Closed)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bytes_after_the_http_head_start_the_smq_stream() {
        let (client, mut server) = tokio::io::duplex(4096);
        let ep = Endpoint::parse("http://127.0.0.1:1/smq/").expect("valid");
        let broker = tokio::spawn(async move {
            let mut req = vec![0u8; 1024];
            let n = server.read(&mut req).await.expect("read");
            let req = String::from_utf8_lossy(&req[..n]).to_string();
            // Head and Init in one write, as the real broker's bytes often arrive.
            server
                .write_all(b"HTTP/1.1 200 OK\r\nSmqBroker: true\r\nKeep-Alive: Keep-Alive\r\n\r\n\x00\x0c\x01\x01\x00\x00\x00\x07ip-x")
                .await
                .expect("write");
            req
        });
        let (mut reader, _writer) = bootstrap(Box::new(client), &ep).await.expect("bootstrap");
        let req = broker.await.expect("join");
        assert!(req.starts_with("GET /smq/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\n"));
        assert!(req.contains("SimpleMQ: 1\r\n") && req.contains("SendSmqHttpResponse: true\r\n"));
        let body = reader.recv().await.expect("recv").expect("a packet");
        assert_eq!(&body[..], b"\x01\x01\x00\x00\x00\x07ip-x");
    }

    #[tokio::test]
    async fn a_lean_reader_holds_no_read_buffer_between_packets_and_keeps_partial_ones() {
        let (client, mut server) = tokio::io::duplex(4096);
        let stream: ByteStream = Box::new(client);
        let (mut rd, _wr) = tokio::io::split(stream);
        let mut buf = BytesMut::new();
        // Two packets in one write, then half of a third.
        server
            .write_all(b"\x00\x05\x0aAB\x00\x04\x0bC\x00\x06\x0c")
            .await
            .expect("write");
        let a = recv_lean(&mut rd, &mut buf)
            .await
            .expect("recv")
            .expect("packet");
        assert_eq!(&a[..], b"\x0aAB");
        let b = recv_lean(&mut rd, &mut buf)
            .await
            .expect("recv")
            .expect("packet");
        assert_eq!(&b[..], b"\x0bC");
        // The partial third packet is all the buffer holds.
        let pending = tokio::time::timeout(
            std::time::Duration::from_millis(100),
            recv_lean(&mut rd, &mut buf),
        )
        .await;
        assert!(pending.is_err(), "half a packet is not a packet");
        assert_eq!(&buf[..], b"\x00\x06\x0c");
        server.write_all(b"DEF").await.expect("write");
        let c = recv_lean(&mut rd, &mut buf)
            .await
            .expect("recv")
            .expect("packet");
        assert_eq!(&c[..], b"\x0cDEF");
        assert_eq!(
            buf.capacity(),
            0,
            "no read buffer while no partial packet waits"
        );
        drop(server);
        assert!(
            recv_lean(&mut rd, &mut buf)
                .await
                .expect("clean close")
                .is_none()
        );
    }

    #[tokio::test]
    async fn non_200_answer_is_reported_with_its_status_line() {
        let (client, mut server) = tokio::io::duplex(4096);
        let ep = Endpoint::parse("http://127.0.0.1:1/nope").expect("valid");
        tokio::spawn(async move {
            let mut req = vec![0u8; 1024];
            let _ = server.read(&mut req).await;
            let _ = server.write_all(b"HTTP/1.1 404 Not Found\r\n\r\n").await;
        });
        let err = bootstrap(Box::new(client), &ep)
            .await
            .err()
            .expect("must fail")
            .to_string();
        assert!(err.contains("404 Not Found"), "{err}");
    }

    #[test]
    fn head_parse_finds_server_location_and_the_smq_mark() {
        let h = Head::parse(
            b"HTTP/1.1 302 Found\r\nserver: nginx/1.25\r\nLocation: http://h/smq/\r\nSmqBroker: true\r\n\r\n",
        );
        assert_eq!(h.status, "HTTP/1.1 302 Found");
        assert_eq!(h.code(), "302");
        assert_eq!(h.server.as_deref(), Some("nginx/1.25"));
        assert_eq!(h.location.as_deref(), Some("http://h/smq/"));
        assert!(h.smq_broker);
        assert!(!Head::parse(b"HTTP/1.1 200 OK\r\n").smq_broker);
    }
}
