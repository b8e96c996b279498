//! WebSocket bootstrap: an ordinary client handshake on the broker URL; afterwards
//! every SMQ packet is one binary message. No subprotocol is negotiated.
//!
//! May import: `transport` (parent), tungstenite.

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Error as WsError};

use super::{ByteStream, Endpoint, PacketReader, PacketWriter, TransportError};
use futures_util::StreamExt;

/// Default read buffer of a WebSocket connection.
pub const READ_BUFFER: usize = 8 * 1024;

/// Frames tungstenite gathers before it writes them (a flush writes the rest):
/// a burst of publishes costs a write per this many bytes, not one per frame.
/// The buffer only grows to what is queued between flushes.
pub const WRITE_BUFFER: usize = 32 * 1024;

/// SMQ packets are at most 0xFFFF bytes; small buffers keep many connections cheap.
pub fn config() -> WebSocketConfig {
    config_with(READ_BUFFER)
}

/// [`config`] with another read buffer size (it grows for larger frames):
/// `simulate` uses a small one, its devices receive little.
pub fn config_with(read_buffer: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(read_buffer)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(Some(0x1_0000 + 64))
        .max_frame_size(Some(0x1_0000 + 64))
}

pub async fn bootstrap(
    stream: ByteStream,
    ep: &Endpoint,
    read_buffer: usize,
) -> Result<(PacketReader, PacketWriter), TransportError> {
    let url = ep.to_string();
    let config = config_with(read_buffer);
    let (ws, _response) =
        tokio_tungstenite::client_async_with_config(url.as_str(), stream, Some(config))
            .await
            .map_err(|e| match e {
                WsError::Http(resp) => {
                    let header = |name: &str| {
                        resp.headers()
                            .get(name)
                            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    };
                    TransportError::HttpStatus {
                        url: url.clone(),
                        status: format!(
                            "{} {}",
                            resp.status().as_u16(),
                            resp.status().canonical_reason().unwrap_or("")
                        ),
                        server: header("server"),
                        location: header("location"),
                    }
                }
                other => map_err(other),
            })?;
    let (sink, stream) = ws.split();
    Ok((PacketReader::Ws(stream), PacketWriter::Ws(sink)))
}

/// [`bootstrap`] for many connections that each receive little: the upgrade
/// is done here (the same request tungstenite sends, the answer read by
/// [`raw::read_head`](super::raw::read_head)), so the connection starts with a
/// read buffer of `read_buffer` bytes. After tungstenite's own handshake the
/// connection keeps its handshake buffer, 4 KiB, as its read buffer for life.
pub async fn bootstrap_lean(
    mut stream: ByteStream,
    ep: &Endpoint,
    read_buffer: usize,
) -> Result<(PacketReader, PacketWriter), TransportError> {
    use tokio::io::AsyncWriteExt;
    let key = tungstenite::handshake::client::generate_key();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n",
        ep.path,
        ep.host_header()
    );
    stream.write_all(request.as_bytes()).await?;
    stream.flush().await?;
    let (head, rest) = super::raw::read_head(&mut stream, ep).await?;
    if !head.status.starts_with("HTTP/") || head.code() != "101" {
        return Err(TransportError::HttpStatus {
            url: ep.to_string(),
            status: head.status,
            server: head.server,
            location: head.location,
        });
    }
    let expected = tungstenite::handshake::derive_accept_key(key.as_bytes());
    if head.accept.as_deref() != Some(expected.as_str()) {
        return Err(TransportError::WebSocket(format!(
            "{ep} answered the upgrade without the right Sec-WebSocket-Accept"
        )));
    }
    // What came behind the head (the broker's Init) is the stream's start,
    // copied to its exact size.
    let ws = tokio_tungstenite::WebSocketStream::from_partially_read(
        stream,
        rest.to_vec(),
        tungstenite::protocol::Role::Client,
        Some(config_with(read_buffer)),
    )
    .await;
    let (sink, stream) = ws.split();
    Ok((PacketReader::Ws(stream), PacketWriter::Ws(sink)))
}

pub fn map_err(e: tungstenite::Error) -> TransportError {
    match e {
        WsError::ConnectionClosed | WsError::AlreadyClosed => TransportError::Closed,
        WsError::Io(io) => TransportError::Io(io),
        WsError::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake) => {
            TransportError::Closed
        }
        other => TransportError::WebSocket(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A fake broker: reads the upgrade request, answers 101 with the accept
    /// key `accept` gives for the request's key, then a binary frame
    /// (`\x01\x02`) in the same write.
    async fn fake(accept: fn(&str) -> String) -> Result<Vec<u8>, TransportError> {
        let (client, mut server) = tokio::io::duplex(4096);
        let ep = Endpoint::parse("ws://127.0.0.1:1/smq/").expect("valid");
        tokio::spawn(async move {
            let mut req = vec![0u8; 2048];
            let n = server.read(&mut req).await.expect("read");
            let req = String::from_utf8_lossy(&req[..n]).to_string();
            let key = req
                .lines()
                .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                .expect("a key")
                .trim()
                .to_string();
            let answer = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                accept(&key)
            );
            let mut bytes = answer.into_bytes();
            bytes.extend_from_slice(b"\x82\x02\x01\x02");
            server.write_all(&bytes).await.expect("write");
            let mut rest = [0u8; 64];
            let _ = server.read(&mut rest).await;
        });
        let (mut reader, _writer) = bootstrap_lean(Box::new(client), &ep, 256).await?;
        let body = reader.recv().await?.expect("a packet");
        Ok(body.to_vec())
    }

    #[tokio::test]
    async fn lean_upgrade_checks_the_accept_key_and_keeps_what_came_behind_the_head() {
        let got = fake(|key| tungstenite::handshake::derive_accept_key(key.as_bytes()))
            .await
            .expect("upgraded");
        assert_eq!(
            got, b"\x01\x02",
            "the frame in the 101's segment is the first packet"
        );
        let err = fake(|_| "d3Jvbmc=".into())
            .await
            .expect_err("a wrong accept key");
        assert!(err.to_string().contains("Sec-WebSocket-Accept"), "{err}");
    }
}
