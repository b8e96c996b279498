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
