//! One client connection from TCP accept to close: optional TLS, the HTTP
//! request, the transport (WebSocket or raw), Init/Connect/Connack, then the
//! packet loop that feeds the [`Router`](super::router::Router).
//!
//! Each connection is one task. It reads and decides, and drives a writer (a
//! future polled alongside the reads, not a task of its own) that drains the
//! client's queue of frames, already framed for the wire, and writes them in
//! batches (one syscall per batch). Publishers only ever `send` into that
//! queue without waiting, so a slow client loses messages (counted) but never
//! slows anybody else. An idle connection holds no read buffer, no write
//! batch and an empty queue: they are taken when bytes come and given back
//! when they are gone. Every frame read is copied out of the read buffer, so
//! a queued frame holds only its own bytes (the queue's byte budget counts
//! what is really held). WebSocket framing (RFC 6455, server side) is done
//! here too, on the same byte buffers as the raw transport.
//!
//! May import: `protocol`, `trace`, siblings `http`, `outbox` and `router`,
//! tokio, tokio-rustls.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::FutureExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::Shared;
use super::http::{self, HeadError, Request};
use super::outbox::{
    Inbox, Outbox, Outgoing, WS_BINARY, WS_CLOSE, WS_PING, WS_PONG, WS_TEXT, publish_body,
    put_ws_header, ws_frame, ws_frame_body, ws_header_len,
};
use super::router::{NewPeer, Who};
use crate::protocol::{
    Connack, ConnackCode, Connect, DecodeError, Init, MAX_PAYLOAD, MIN_UID_LEN, MakoConnect,
    PUBLISH_HEADER_LEN, Packet, Publish, display_bytes, parse_connect_like_mako,
};
use crate::trace::schema::{self, Event, Kind, Transport};

/// Time allowed for the TLS handshake and for the HTTP request head.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a closing connection gets to write its last frames (Disconnect).
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// First read buffer of a raw connection; it grows with the traffic.
const READ_MIN: usize = 1024;
const READ_MAX: usize = 64 * 1024;
/// Frames written per batch.
const BATCH: usize = 128;
/// Largest copy a raw writer makes to send small frames in one syscall.
const COALESCE: usize = 64 * 1024;

/// A byte stream that can be split into independently owned halves.
pub(crate) trait IoStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    type R: ReadHalf + 'static;
    type W: AsyncWrite + Unpin + Send + 'static;
    fn split_io(self) -> (Self::R, Self::W);
}

/// The reading half of a connection.
pub(crate) trait ReadHalf: AsyncRead + Unpin + Send {
    /// Waits until a read would not block, without holding a buffer, so an
    /// idle connection owns none. Streams that cannot tell (TLS, which holds
    /// its own buffers anyway) are always ready.
    fn ready(&mut self) -> impl Future<Output = io::Result<()>> + Send {
        std::future::ready(Ok(()))
    }
}

impl ReadHalf for tokio::net::tcp::OwnedReadHalf {
    async fn ready(&mut self) -> io::Result<()> {
        self.readable().await
    }
}

impl<T: AsyncRead + Send> ReadHalf for tokio::io::ReadHalf<T> {}
impl ReadHalf for tokio::io::Empty {}
#[cfg(test)]
impl ReadHalf for &[u8] {}

impl IoStream for TcpStream {
    type R = tokio::net::tcp::OwnedReadHalf;
    type W = tokio::net::tcp::OwnedWriteHalf;
    fn split_io(self) -> (Self::R, Self::W) {
        self.into_split()
    }
}

impl IoStream for TlsStream<TcpStream> {
    type R = tokio::io::ReadHalf<Self>;
    type W = tokio::io::WriteHalf<Self>;
    fn split_io(self) -> (Self::R, Self::W) {
        tokio::io::split(self)
    }
}

/// Serves one accepted TCP connection to the end.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    tcp: TcpStream,
    addr: SocketAddr,
    tls: Option<TlsAcceptor>,
) {
    let _ = tcp.set_nodelay(true);
    // Mako turns TCP keepalive on (230 s idle, 23 s between probes) so a
    // half-open client that nobody writes to is noticed and removed.
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(std::time::Duration::from_secs(230))
        .with_interval(std::time::Duration::from_secs(23));
    let _ = socket2::SockRef::from(&tcp).set_tcp_keepalive(&keepalive);
    // The task's allocation is as large as this future's largest state, for the
    // whole life of the connection. Boxing the big short-lived steps (TLS
    // handshake, HTTP head, WebSocket setup) and the session keeps idle
    // connections small.
    let Some(acceptor) = tls else {
        return serve_stream(shared, tcp, addr, false).await;
    };
    let handshake = timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp));
    let stream = match Box::pin(unless_closing(&shared, handshake)).await {
        None => return,
        Some(Ok(Ok(stream))) => stream,
        Some(Ok(Err(e))) => {
            return handshake_failed(&shared, addr, || format!("TLS handshake: {e}"));
        }
        Some(Err(_)) => {
            return handshake_failed(&shared, addr, || "TLS handshake timed out".into());
        }
    };
    Box::pin(serve_stream(shared, stream, addr, true)).await
}

/// Runs a step of the handshake unless the broker shuts down first (`None`).
/// Registered clients are not wrapped: the router tells them with a Disconnect.
async fn unless_closing<F: Future>(shared: &Shared, step: F) -> Option<F::Output> {
    tokio::select! {
        out = step => Some(out),
        _ = shared.closing() => None,
    }
}

/// A connection that never became an SMQ session (only the broker's log hears).
fn handshake_failed(shared: &Shared, addr: SocketAddr, reason: impl FnOnce() -> String) {
    shared.events.local(|| {
        let mut e = Event::new(Kind::Reject, String::new());
        e.from = Some(schema::Client {
            addr: Some(addr.to_string()),
            ..schema::Client::default()
        });
        e.reason = Some(reason());
        e
    });
}

/// A connection whose HTTP request was answered: its halves, the bytes read
/// past the request head, and the transport.
struct Answered<S: IoStream> {
    r: S::R,
    w: S::W,
    leftover: BytesMut,
    ws: bool,
}

/// The session runs inside this future, not in a box of its own: the task's
/// one allocation holds it, and the short-lived HTTP exchange before it is
/// boxed, so it does not add to the size of every idle connection.
async fn serve_stream<S: IoStream>(shared: Arc<Shared>, stream: S, addr: SocketAddr, tls: bool) {
    let Some(a) = Box::pin(answer_http(&shared, stream, addr)).await else {
        return;
    };
    if a.ws {
        let reader = WsReader::new(a.r, a.leftover);
        let writer = FrameWriter::new(a.w, Transport::Ws);
        run_session(shared, reader, writer, addr, Transport::Ws, tls).await;
    } else {
        let reader = RawReader::new(a.r, a.leftover);
        let writer = FrameWriter::new(a.w, Transport::Raw);
        run_session(shared, reader, writer, addr, Transport::Raw, tls).await;
    }
}

/// Reads the HTTP request and answers it: 101 for WebSocket, the optional
/// 200 for raw, 404 or 400 (then `None`) for anything else.
async fn answer_http<S: IoStream>(
    shared: &Shared,
    mut stream: S,
    addr: SocketAddr,
) -> Option<Answered<S>> {
    let head = timeout(HANDSHAKE_TIMEOUT, http::read_request(&mut stream));
    let head = unless_closing(shared, head).await?;
    let (request, leftover) = match head {
        Ok(Ok(r)) => r,
        Ok(Err(HeadError::TlsOnPlainPort)) => {
            let _ = close_quietly(&mut stream).await;
            handshake_failed(shared, addr, || HeadError::TlsOnPlainPort.to_string());
            return None;
        }
        Ok(Err(e)) => {
            if matches!(e, HeadError::Malformed(_) | HeadError::TooLarge) {
                let _ = refuse_http(&mut stream, 400).await;
            }
            handshake_failed(shared, addr, || e.to_string());
            return None;
        }
        Err(_) => {
            handshake_failed(shared, addr, || "no HTTP request in time".into());
            return None;
        }
    };
    let ws = match request {
        Request::NotSmq => {
            let _ = refuse_http(&mut stream, 404).await;
            handshake_failed(shared, addr, || {
                "HTTP request without SimpleMQ or Sec-WebSocket-Key (answered 404)".into()
            });
            return None;
        }
        Request::WebSocket { key } => {
            let answer = http::ws_switching(&key);
            stream.write_all(answer.as_bytes()).await.ok()?;
            true
        }
        Request::Raw { send_response } => {
            if send_response {
                stream.write_all(http::raw_ok().as_bytes()).await.ok()?;
            }
            false
        }
    };
    let (r, w) = stream.split_io();
    Some(Answered { r, w, leftover, ws })
}

/// Closes our side at once (FIN), then discards what the peer still sends
/// until it closes too (or a second passes), so unread bytes do not turn the
/// close into a reset: the client then sees a clean end of stream.
async fn close_quietly<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> io::Result<()> {
    stream.shutdown().await?;
    let drain = async {
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    };
    timeout(Duration::from_secs(1), drain)
        .await
        .unwrap_or(Ok(()))
}

async fn refuse_http<S: AsyncWrite + Unpin>(stream: &mut S, status: u16) -> io::Result<()> {
    stream
        .write_all(http::error_response(status).as_bytes())
        .await?;
    stream.shutdown().await
}

/// Largest WebSocket frame and message a client may send: the largest SMQ
/// packet and 1 KiB of slack (a larger one is refused with Close 1003).
const WS_MAX: usize = MAX_PAYLOAD + 1 + PUBLISH_HEADER_LEN + 1024;

// ----- reading frames -----

/// One SMQ packet body as received; `framed` is the same bytes framed for the
/// transport it came on (raw length prefix, or a server WebSocket frame), kept
/// so receivers on that transport get it forwarded without a copy.
pub(crate) struct InFrame {
    body: Bytes,
    framed: Option<Bytes>,
}

#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("read error: {0}")]
    Io(#[from] io::Error),
    /// A WebSocket error and the Close status it is answered with.
    #[error("WebSocket error: {1}")]
    Ws(u16, &'static str),
    #[error("raw frame length {0} is impossible")]
    BadLength(u16),
    #[error("empty WebSocket message")]
    Empty,
}

trait FrameReader: Send {
    /// The next complete frame already received, if any. `outbox` takes what
    /// the transport answers by itself (a WebSocket Pong, the Close status).
    fn next_frame(&mut self, outbox: &Outbox) -> Result<Option<InFrame>, ReadError>;
    /// Receives more; `false` at a clean end of stream. Cancel-safe.
    fn fill(&mut self) -> impl Future<Output = Result<bool, ReadError>> + Send;
}

/// The bytes received and not yet framed. An idle connection holds no buffer:
/// it is given back once every frame in it was copied out, and taken again
/// only when the socket is readable.
struct InBuf<R> {
    rd: R,
    buf: BytesMut,
    /// Next read size: doubles while reads fill it, up to READ_MAX.
    chunk: usize,
}

impl<R: ReadHalf> InBuf<R> {
    fn new(rd: R, leftover: BytesMut) -> Self {
        InBuf {
            rd,
            buf: leftover,
            chunk: READ_MIN,
        }
    }

    async fn fill(&mut self) -> io::Result<bool> {
        if self.buf.is_empty() {
            spare::give(std::mem::take(&mut self.buf));
            self.rd.ready().await?;
            self.buf = spare::take();
        }
        if self.buf.capacity() - self.buf.len() < 256 {
            self.buf.reserve(self.chunk);
        }
        let spare = self.buf.capacity() - self.buf.len();
        let n = self.rd.read_buf(&mut self.buf).await?;
        if n == spare && self.chunk < READ_MAX {
            self.chunk *= 2;
        }
        Ok(n > 0)
    }

    /// Room for a frame of `len` bytes whose start is buffered: reserved in
    /// one step, so a large frame is not read through doubling buffers.
    fn need(&mut self, len: usize) {
        if self.buf.len() < len {
            self.buf.reserve(len - self.buf.len());
        }
    }
}

/// One empty read buffer per worker thread, handed from the connection that
/// finished with it to the next that has bytes to read: a buffer is not
/// allocated and freed for every read.
mod spare {
    use std::cell::RefCell;

    use bytes::BytesMut;

    /// Larger buffers are freed rather than kept (at most one per thread).
    const KEEP: usize = 2 * super::READ_MAX;

    thread_local! {
        static SPARE: RefCell<Option<BytesMut>> = const { RefCell::new(None) };
    }

    /// Keeps an emptied buffer for the next reader on this thread.
    pub(super) fn give(mut buf: BytesMut) {
        buf.clear();
        if buf.capacity() == 0 || buf.capacity() > KEEP {
            return;
        }
        SPARE.with(|s| {
            if let Ok(mut s) = s.try_borrow_mut()
                && s.is_none()
            {
                *s = Some(buf);
            }
        });
    }

    /// The spare buffer of this thread, or an empty one (allocated on reserve).
    pub(super) fn take() -> BytesMut {
        SPARE
            .with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.take()))
            .unwrap_or_default()
    }
}

struct RawReader<R> {
    io: InBuf<R>,
}

impl<R: ReadHalf> RawReader<R> {
    fn new(rd: R, leftover: BytesMut) -> Self {
        RawReader {
            io: InBuf::new(rd, leftover),
        }
    }
}

impl<R: ReadHalf> FrameReader for RawReader<R> {
    fn next_frame(&mut self, _: &Outbox) -> Result<Option<InFrame>, ReadError> {
        let buf = &mut self.io.buf;
        if buf.len() < 2 {
            return Ok(None);
        }
        let len = u16::from_be_bytes([buf[0], buf[1]]);
        if len < 3 {
            return Err(ReadError::BadLength(len));
        }
        let len = len as usize;
        if buf.len() < len {
            self.io.need(len);
            return Ok(None);
        }
        // A copy, not a slice: a slice would keep the whole read buffer (up to
        // 64 KiB) alive for as long as any receiver's queue holds the frame,
        // while the queue's byte budget counts only the frame (issue 10).
        let framed = Bytes::copy_from_slice(&buf[..len]);
        buf.advance(len);
        Ok(Some(InFrame {
            body: framed.slice(2..),
            framed: Some(framed),
        }))
    }

    async fn fill(&mut self) -> Result<bool, ReadError> {
        Ok(self.io.fill().await?)
    }
}

/// The server side of RFC 6455 framing over the raw byte stream (the 101
/// answer is [`http::ws_switching`]): client frames must be masked, control
/// frames short and whole, fragments continue a started message; a Ping is
/// answered with a Pong, a Close with the same status, then the stream ends.
/// Errors close with Mako's statuses (see [`ReadError::Ws`]).
struct WsReader<R> {
    io: InBuf<R>,
    /// A fragmented message being assembled: its opcode and payload so far.
    partial: Option<Box<(u8, BytesMut)>>,
    /// The client's Close came (or an error ended the stream): no more reading.
    closed: bool,
}

impl<R: ReadHalf> WsReader<R> {
    fn new(rd: R, leftover: BytesMut) -> Self {
        WsReader {
            io: InBuf::new(rd, leftover),
            partial: None,
            closed: false,
        }
    }
}

/// Close statuses: 1002 for a protocol error, 1003 for a frame it will not
/// take (BAS's WebSocket server refuses 64-bit lengths; we refuse frames above
/// the largest SMQ packet), 1007 for a text message that is not UTF-8 (Mako
/// does not check).
const PROTOCOL_ERROR: u16 = 1002;
const TOO_BIG: u16 = 1003;
const NOT_UTF8: u16 = 1007;

/// A status a peer may send in a Close frame (RFC 6455 §7.4).
fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Appends `payload` unmasked with the client's key.
fn put_unmasked(out: &mut BytesMut, payload: &[u8], mask: [u8; 4]) {
    let start = out.len();
    out.extend_from_slice(payload);
    let data = &mut out[start..];
    let wide = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut words = data.chunks_exact_mut(8);
    for w in &mut words {
        let mut v = [0u8; 8];
        v.copy_from_slice(w);
        w.copy_from_slice(&(u64::from_ne_bytes(v) ^ wide).to_ne_bytes());
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
}

impl<R: ReadHalf> WsReader<R> {
    fn fail(&mut self, outbox: &Outbox, code: u16, why: &'static str) -> ReadError {
        self.closed = true;
        outbox.set_close_code(code);
        ReadError::Ws(code, why)
    }
}

impl<R: ReadHalf> FrameReader for WsReader<R> {
    fn next_frame(&mut self, outbox: &Outbox) -> Result<Option<InFrame>, ReadError> {
        loop {
            if self.closed {
                return Ok(None);
            }
            let buf = &self.io.buf;
            let [b0, b1, ..] = buf[..] else {
                return Ok(None);
            };
            let (fin, opcode) = (b0 & 0x80 != 0, b0 & 0x0f);
            if b0 & 0x70 != 0 {
                return Err(self.fail(outbox, PROTOCOL_ERROR, "reserved bits set"));
            }
            if b1 & 0x80 == 0 {
                return Err(self.fail(outbox, PROTOCOL_ERROR, "unmasked client frame"));
            }
            let (len, ext) = match b1 & 0x7f {
                126 => match buf.get(2..4) {
                    Some(n) => (u64::from(u16::from_be_bytes([n[0], n[1]])), 2),
                    None => return Ok(None),
                },
                127 => match buf.get(2..10) {
                    Some(n) => {
                        let mut v = [0u8; 8];
                        v.copy_from_slice(n);
                        (u64::from_be_bytes(v), 8)
                    }
                    None => return Ok(None),
                },
                n => (u64::from(n), 0),
            };
            let control = opcode & 0x8 != 0;
            if !matches!(
                opcode,
                0 | WS_TEXT | WS_BINARY | WS_CLOSE | WS_PING | WS_PONG
            ) {
                return Err(self.fail(outbox, PROTOCOL_ERROR, "unknown opcode"));
            }
            if control && (!fin || len > 125) {
                return Err(self.fail(outbox, PROTOCOL_ERROR, "fragmented or long control frame"));
            }
            let so_far = self.partial.as_ref().map_or(0, |p| p.1.len());
            if len > (WS_MAX - so_far) as u64 {
                return Err(self.fail(outbox, TOO_BIG, "message above the largest SMQ packet"));
            }
            let len = len as usize;
            let head = 2 + ext + 4;
            if buf.len() < head + len {
                self.io.need(head + len);
                return Ok(None);
            }
            let mask = [buf[head - 4], buf[head - 3], buf[head - 2], buf[head - 1]];
            let frame = self.io.buf.split_to(head + len);
            let payload = &frame[head..];
            match opcode {
                WS_TEXT | WS_BINARY if self.partial.is_some() => {
                    return Err(self.fail(outbox, PROTOCOL_ERROR, "expected a continuation"));
                }
                WS_TEXT | WS_BINARY if fin => {
                    // Unmasked straight into the frame receivers get.
                    let mut out = BytesMut::with_capacity(ws_header_len(len) + len);
                    put_ws_header(&mut out, WS_BINARY, len);
                    put_unmasked(&mut out, payload, mask);
                    let framed = out.freeze();
                    let body = framed.slice(ws_header_len(len)..);
                    if opcode == WS_TEXT && std::str::from_utf8(&body).is_err() {
                        return Err(self.fail(outbox, NOT_UTF8, "text message is not UTF-8"));
                    }
                    if body.is_empty() {
                        return Err(ReadError::Empty);
                    }
                    return Ok(Some(InFrame {
                        body,
                        framed: Some(framed),
                    }));
                }
                WS_TEXT | WS_BINARY => {
                    let mut out = BytesMut::with_capacity(len);
                    put_unmasked(&mut out, payload, mask);
                    self.partial = Some(Box::new((opcode, out)));
                }
                0 => {
                    let Some(partial) = &mut self.partial else {
                        return Err(self.fail(outbox, PROTOCOL_ERROR, "continuation of nothing"));
                    };
                    put_unmasked(&mut partial.1, payload, mask);
                    if fin {
                        let Some(p) = self.partial.take() else {
                            continue;
                        };
                        let (opcode, body) = *p;
                        if opcode == WS_TEXT && std::str::from_utf8(&body).is_err() {
                            return Err(self.fail(outbox, NOT_UTF8, "text message is not UTF-8"));
                        }
                        if body.is_empty() {
                            return Err(ReadError::Empty);
                        }
                        let framed = ws_frame(WS_BINARY, &body);
                        let body = framed.slice(ws_header_len(body.len())..);
                        return Ok(Some(InFrame {
                            body,
                            framed: Some(framed),
                        }));
                    }
                }
                WS_PING => {
                    let mut pong = BytesMut::with_capacity(len);
                    put_unmasked(&mut pong, payload, mask);
                    outbox.send(ws_frame(WS_PONG, &pong));
                }
                WS_CLOSE => {
                    let mut body = BytesMut::with_capacity(len);
                    put_unmasked(&mut body, payload, mask);
                    // Echoed with the same status; an empty Close with an empty one.
                    match body[..] {
                        [] => {}
                        [hi, lo, ref reason @ ..]
                            if valid_close_code(u16::from_be_bytes([hi, lo]))
                                && std::str::from_utf8(reason).is_ok() =>
                        {
                            outbox.set_close_code(u16::from_be_bytes([hi, lo]));
                        }
                        _ => return Err(self.fail(outbox, PROTOCOL_ERROR, "invalid Close frame")),
                    }
                    self.closed = true;
                    return Ok(None);
                }
                _ => {} // Pong: nothing to do.
            }
        }
    }

    async fn fill(&mut self) -> Result<bool, ReadError> {
        if self.closed {
            return Ok(false);
        }
        Ok(self.io.fill().await?)
    }
}

// ----- writing frames -----

/// Writes queued frames, already framed for the transport, in batches.
struct FrameWriter<W> {
    w: W,
    /// WebSocket: the stream ends with a Close frame.
    ws: bool,
}

impl<W: AsyncWrite + Unpin + Send> FrameWriter<W> {
    fn new(w: W, transport: Transport) -> Self {
        FrameWriter {
            w,
            ws: transport == Transport::Ws,
        }
    }

    async fn write_batch(&mut self, frames: &[Bytes]) -> io::Result<()> {
        if let [one] = frames {
            return self.w.write_all(one).await;
        }
        // One syscall per up to COALESCE bytes of small frames; large frames
        // go out as they are, so the copy stays small.
        let total: usize = frames.iter().map(Bytes::len).sum();
        let mut buf = Vec::with_capacity(total.min(COALESCE));
        for f in frames {
            if buf.len() + f.len() > COALESCE && !buf.is_empty() {
                self.w.write_all(&buf).await?;
                buf.clear();
            }
            if f.len() >= COALESCE {
                self.w.write_all(f).await?;
            } else {
                buf.put_slice(f);
            }
        }
        if buf.is_empty() {
            return Ok(());
        }
        self.w.write_all(&buf).await
    }

    /// A WebSocket ends with a Close: the status of a protocol error, or the
    /// echo of the client's Close, or an empty one. Then our side shuts down.
    async fn close(&mut self, inbox: &Inbox) {
        if self.ws {
            let code = inbox.close_code();
            let payload = if code == 0 {
                &[][..]
            } else {
                &code.to_be_bytes()[..]
            };
            let _ = self.w.write_all(&ws_frame(WS_CLOSE, payload)).await;
        }
        let _ = self.w.shutdown().await;
    }
}

/// Drains a client's queue until every sender is gone, then closes the stream.
/// It runs inside the session's task (polled alongside the reads), not as a
/// task of its own; the batch buffer is given back whenever the queue is empty.
async fn writer_loop<W: AsyncWrite + Unpin + Send>(
    mut writer: FrameWriter<W>,
    mut inbox: Inbox,
) -> io::Result<()> {
    let mut batch = VecDeque::new();
    loop {
        if inbox.recv_many(&mut batch, BATCH).await == 0 {
            writer.close(&inbox).await;
            return Ok(());
        }
        if let Err(e) = writer.write_batch(batch.make_contiguous()).await {
            writer.close(&inbox).await;
            return Err(e);
        }
        inbox.written(&batch);
        batch.clear();
    }
}

/// Removes the client from the router however the session ends.
struct Registered<'a> {
    shared: &'a Shared,
    who: Who,
    reason: String,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.shared.router().disconnect(self.who, &self.reason);
    }
}

// ----- the session -----

/// Client IP as Mako puts it into Init: IPv4-mapped IPv6 addresses lose `::ffff:`.
fn client_ip(addr: &SocketAddr) -> String {
    let ip = addr.ip().to_string();
    match ip.strip_prefix("::ffff:") {
        Some(v4) => v4.to_string(),
        None => ip,
    }
}

async fn run_session<R: FrameReader, W: AsyncWrite + Unpin + Send>(
    shared: Arc<Shared>,
    mut reader: R,
    writer: FrameWriter<W>,
    addr: SocketAddr,
    transport: Transport,
    tls: bool,
) {
    let raw = transport == Transport::Raw;
    let (outbox, inbox) = Outbox::new(raw);
    outbox.send_packet(&Packet::Init(Init {
        version: 1,
        seed: rand::random(),
        client_ip: Bytes::from(client_ip(&addr)),
    }));
    // The writer runs in this task: polled by the selects below while the
    // session waits to read, so a client that does not read never blocks the
    // reading of what it sends.
    let write = writer_loop(writer, inbox);
    tokio::pin!(write);

    let mut uid = Bytes::new(); // for the trace of a refusal
    let first = timeout(
        shared.config.connect_timeout,
        first_frame(&mut reader, &outbox),
    );
    let first = Box::pin(unless_closing(&shared, first));
    let first = tokio::select! {
        first = first => first,
        // The writer failed (the peer is gone) before a Connect came.
        _ = &mut write => return,
    };
    let Some(first) = first else {
        return;
    };
    let registered = match first {
        Err(_) => Err((ConnackCode::ServerUnavailable, "no Connect in time")),
        Ok(Ok(None)) => {
            // Like Mako: no Connack to a client that has gone (a WebSocket
            // Close is answered with Close by the writer).
            handshake_failed(&shared, addr, || "closed before Connect".into());
            drop(outbox);
            let _ = timeout(CLOSE_GRACE, &mut write).await;
            return;
        }
        Ok(Err(_)) => Err((ConnackCode::BadProtocol, "unreadable first packet")),
        // Read the way Mako's connect() reads it, leniency included.
        Ok(Ok(Some(frame))) => match parse_connect_like_mako(&frame.body) {
            MakoConnect::Parsed {
                connect,
                declared_uid_len,
            } => {
                uid = connect.uid.clone();
                accept(
                    &shared,
                    connect,
                    declared_uid_len,
                    addr,
                    transport,
                    tls,
                    &outbox,
                )
            }
            MakoConnect::BadVersion => Err((
                ConnackCode::BadProtocol,
                "first packet is not a v1/v2 Connect",
            )),
            MakoConnect::Truncated => {
                // Mako's Lua fails on this Connect and answers nothing.
                handshake_failed(&shared, addr, || {
                    "Connect too short for its length fields".into()
                });
                return;
            }
        },
    };
    let (etid, conn, kill) = match registered {
        Ok(x) => x,
        Err((code, why)) => {
            // Codes 1 and 2 go out without a reason, byte for byte as Mako's;
            // a refused login says why.
            let reason = if code == ConnackCode::BadCredentials {
                why
            } else {
                ""
            };
            outbox.send_packet(&Packet::Connack(Connack::refused(code, reason)));
            shared.router().refused(&uid, code.as_u8(), why, addr);
            drop(outbox);
            let _ = timeout(CLOSE_GRACE, &mut write).await;
            return;
        }
    };

    let who = Who { etid, conn };
    let mut session = Session {
        shared: &shared,
        who,
        raw,
        outbox,
        frag: None,
    };
    let mut guard = Registered {
        shared: &shared,
        who,
        reason: String::new(),
    };
    let mut writer_done = false;
    // Registered once, not per packet.
    let killed = kill.notified();
    tokio::pin!(killed);
    guard.reason = loop {
        if let Err(reason) = session.handle_buffered(&mut reader) {
            break reason;
        }
        tokio::select! {
            biased;
            _ = &mut killed => break "closed by the broker".into(),
            res = &mut write => {
                writer_done = true;
                break match res {
                    Err(e) => format!("write error: {e}"),
                    Ok(()) => "writer stopped".into(),
                };
            }
            res = reader.fill() => match res {
                Ok(true) => {}
                Ok(false) => break "connection closed by the client".into(),
                Err(e) => break e.to_string(),
            },
        }
    };
    drop(guard);
    drop(session);
    if !writer_done {
        let _ = timeout(CLOSE_GRACE, &mut write).await;
    }
}

/// Checks a Connect and registers the client; the router queues the Connack.
fn accept(
    shared: &Shared,
    c: Connect,
    declared_uid_len: usize,
    addr: SocketAddr,
    transport: Transport,
    tls: bool,
    outbox: &Outbox,
) -> Result<(u32, u64, Arc<Notify>), (ConnackCode, &'static str)> {
    if declared_uid_len < MIN_UID_LEN {
        return Err((ConnackCode::BadProtocol, "UID shorter than 6 bytes"));
    }
    if let Some(auth) = &shared.config.auth {
        auth.check(&c.uid, &c.credentials)
            .map_err(|reason| (ConnackCode::BadCredentials, reason))?;
    }
    let kill = Arc::new(Notify::new());
    let conn = shared.next_conn();
    let etid = shared
        .router()
        .connect(NewPeer {
            conn,
            uid: c.uid,
            info: c.info,
            addr,
            transport,
            tls,
            outbox: outbox.clone(),
            kill: kill.clone(),
        })
        .ok_or((ConnackCode::ServerUnavailable, "broker shutting down"))?;
    Ok((etid, conn, kill))
}

async fn first_frame<R: FrameReader>(
    reader: &mut R,
    outbox: &Outbox,
) -> Result<Option<InFrame>, ReadError> {
    loop {
        if let Some(f) = reader.next_frame(outbox)? {
            return Ok(Some(f));
        }
        if !reader.fill().await? {
            return Ok(None);
        }
    }
}

/// Per-connection packet handling after Connack.
struct Session<'a> {
    shared: &'a Arc<Shared>,
    who: Who,
    raw: bool,
    outbox: Outbox,
    /// PubFrag assembly: 13 header bytes reserved, then the payload so far.
    frag: Option<BytesMut>,
}

/// Why the connection must close.
type Close = String;

impl Session<'_> {
    fn handle_buffered<R: FrameReader>(&mut self, reader: &mut R) -> Result<(), Close> {
        while let Some(frame) = reader.next_frame(&self.outbox).map_err(|e| e.to_string())? {
            self.handle(frame)?;
        }
        Ok(())
    }

    fn handle(&mut self, frame: InFrame) -> Result<(), Close> {
        let packet = Packet::decode(frame.body.clone()).map_err(|e| match e {
            DecodeError::UnknownType(t) => format!("unknown packet type {t}"),
            other => other.to_string(),
        })?;
        let who = self.who;
        match packet {
            Packet::Publish(p) if self.raw => {
                self.publish(p, Outgoing::new(frame.body, frame.framed))
            }
            Packet::Publish(p) => self.publish(p, Outgoing::from_ws(frame.body, frame.framed)),
            Packet::PubFrag(p) => self.pubfrag(p),
            Packet::Subscribe { topic } => {
                self.shared.router().subscribe(who, topic);
                Ok(())
            }
            Packet::Create { topic } => {
                self.shared.router().create(who, topic);
                Ok(())
            }
            Packet::Createsub { subtopic } => {
                self.shared.router().createsub(who, subtopic);
                Ok(())
            }
            Packet::Unsubscribe { tid } => {
                self.shared.router().unsubscribe(who, tid);
                Ok(())
            }
            Packet::Observe { tid } => {
                self.shared.router().observe(who, tid);
                Ok(())
            }
            Packet::Unobserve { tid } => {
                self.shared.router().unobserve(who, tid);
                Ok(())
            }
            Packet::Ping => {
                self.outbox.send_packet(&Packet::Pong);
                Ok(())
            }
            Packet::Pong => Ok(()),
            Packet::Disconnect { reason } if reason.is_empty() => {
                Err("client sent Disconnect".into())
            }
            Packet::Disconnect { reason } => Err(format!(
                "client sent Disconnect \"{}\"",
                display_bytes(&reason)
            )),
            other => Err(format!("unexpected {} from a client", other.name())),
        }
    }

    fn publish(&mut self, p: Publish, out: Outgoing) -> Result<(), Close> {
        if p.ptid != self.who.etid {
            self.outbox.send_packet(&Packet::Disconnect {
                reason: Bytes::from_static(b"corrupt frame"),
            });
            return Err(format!(
                "corrupt frame: publisher ETID {:#x} is not the sender's {:#x}",
                p.ptid, self.who.etid
            ));
        }
        let routed = self.shared.router().publish(Some(self.who), &p, out);
        self.shared.after_routing(routed);
        Ok(())
    }

    /// Mako's `managePubFrag`: fragments up to the first non-zero destination are
    /// joined; over 0xFFF0 during assembly closes, over the limit at the end drops.
    fn pubfrag(&mut self, p: Publish) -> Result<(), Close> {
        if !self.raw {
            return Err("PubFrag on a WebSocket connection".into());
        }
        const HEAD: usize = 1 + PUBLISH_HEADER_LEN;
        match &mut self.frag {
            Some(buf) => {
                if buf.len() - HEAD + p.payload.len() > MAX_PAYLOAD {
                    self.frag = None;
                    return Err("PubFrag fragments above 0xFFF0 bytes".into());
                }
                buf.put_slice(&p.payload);
            }
            None => {
                let mut buf = BytesMut::with_capacity(HEAD + p.payload.len());
                buf.put_bytes(0, HEAD);
                buf.put_slice(&p.payload);
                self.frag = Some(buf);
            }
        }
        if p.tid == 0 {
            return Ok(());
        }
        let Some(mut buf) = self.frag.take() else {
            return Ok(());
        };
        let header = publish_body(p.tid, p.ptid, p.subtid, &[]);
        buf[..HEAD].copy_from_slice(&header);
        let body = buf.freeze();
        let msg = Publish {
            payload: body.slice(HEAD..),
            ..p
        };
        // Mako compares the whole body (type byte and header included).
        if body.len() > MAX_PAYLOAD {
            self.shared.router().dropped(
                &msg,
                "PubFrag above the maximum payload",
                super::DropCause::TooLarge,
            );
            return Ok(());
        }
        self.publish(msg, Outgoing::new(body, None))
    }
}

// ----- I/O-free driving (fuzzing) -----

/// Clients of a broker fed bytes without sockets: the Connect handling and the
/// packet loop of a real connection ([`accept`], [`Session::handle`]), minus the
/// reading and writing tasks. Each client's queued frames are handed back to the
/// caller instead of being written. Only [`crate::fuzzing`] uses it.
#[doc(hidden)]
pub struct Offline {
    shared: Arc<Shared>,
    clients: Vec<OfflineClient>,
}

struct OfflineClient {
    raw: bool,
    outbox: Outbox,
    inbox: Inbox,
    /// Raw stream bytes not yet framed (`rd` is never read).
    reader: RawReader<tokio::io::Empty>,
    /// `Some` once the Connect was accepted: the ETID and PubFrag assembly.
    live: Option<(Who, Option<BytesMut>)>,
    closed: bool,
}

impl Offline {
    pub fn new(broker: &super::Broker) -> Offline {
        Offline {
            shared: broker.shared.clone(),
            clients: Vec::new(),
        }
    }

    /// A new connection (raw or WebSocket) that has been sent its Init; returns
    /// its index.
    pub fn add_client(&mut self, raw: bool) -> usize {
        let (outbox, inbox) = Outbox::new(raw);
        outbox.send_packet(&Packet::Init(Init {
            version: 1,
            seed: 0,
            client_ip: Bytes::from_static(b"10.0.0.1"),
        }));
        self.clients.push(OfflineClient {
            raw,
            outbox,
            inbox,
            reader: RawReader::new(tokio::io::empty(), BytesMut::new()),
            live: None,
            closed: false,
        });
        self.clients.len() - 1
    }

    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// What client `i` sends: stream bytes for a raw client (framed as the raw
    /// reader frames them), one message body for a WebSocket client. Returns
    /// false once the connection is closed.
    pub fn feed(&mut self, i: usize, bytes: &[u8]) -> bool {
        let Some(c) = self.clients.get_mut(i) else {
            return false;
        };
        if c.closed {
            return false;
        }
        let shared = &self.shared;
        if !c.raw {
            let frame = InFrame {
                body: Bytes::copy_from_slice(bytes),
                framed: None,
            };
            return Self::frame(shared, c, frame);
        }
        c.reader.io.buf.extend_from_slice(bytes);
        loop {
            match c.reader.next_frame(&c.outbox) {
                Ok(Some(frame)) => {
                    if !Self::frame(shared, c, frame) {
                        return false;
                    }
                }
                Ok(None) => return true,
                Err(e) => {
                    Self::close_client(shared, c, &e.to_string());
                    return false;
                }
            }
        }
    }

    fn frame(shared: &Arc<Shared>, c: &mut OfflineClient, frame: InFrame) -> bool {
        let Some((who, frag)) = c.live.take() else {
            // The first frame: a Connect, read the way `run_session` reads it.
            let accepted = match parse_connect_like_mako(&frame.body) {
                MakoConnect::Parsed {
                    connect,
                    declared_uid_len,
                } => {
                    let addr = SocketAddr::from(([10, 0, 0, 1], 40000));
                    let transport = if c.raw { Transport::Raw } else { Transport::Ws };
                    accept(
                        shared,
                        connect,
                        declared_uid_len,
                        addr,
                        transport,
                        false,
                        &c.outbox,
                    )
                    .ok()
                }
                MakoConnect::BadVersion | MakoConnect::Truncated => None,
            };
            let Some((etid, conn, _kill)) = accepted else {
                c.closed = true;
                return false;
            };
            c.live = Some((Who { etid, conn }, None));
            return true;
        };
        let mut session = Session {
            shared,
            who,
            raw: c.raw,
            outbox: c.outbox.clone(),
            frag,
        };
        let result = session.handle(frame);
        c.live = Some((who, session.frag.take()));
        match result {
            Ok(()) => true,
            Err(reason) => {
                Self::close_client(shared, c, &reason);
                false
            }
        }
    }

    fn close_client(shared: &Shared, c: &mut OfflineClient, reason: &str) {
        c.closed = true;
        if let Some((who, _)) = c.live.take() {
            shared.router().disconnect(who, reason);
        }
    }

    /// Closes client `i` as if its TCP connection ended.
    pub fn close(&mut self, i: usize) {
        if let Some(c) = self.clients.get_mut(i) {
            Self::close_client(&self.shared, c, "connection closed by the client");
        }
    }

    /// Takes the frames queued for client `i`: raw frames for a raw client,
    /// message bodies for a WebSocket client. Panics on a queued WebSocket
    /// frame that is not one whole unmasked binary frame.
    pub fn drain(&mut self, i: usize) -> Vec<Bytes> {
        let mut out = VecDeque::new();
        if let Some(c) = self.clients.get_mut(i) {
            while c
                .inbox
                .recv_many(&mut out, usize::MAX)
                .now_or_never()
                .is_some_and(|n| n > 0)
            {}
            if !c.raw {
                return out
                    .into_iter()
                    .map(|f| match ws_frame_body(&f) {
                        Some((WS_BINARY, body)) => body,
                        _ => panic!("broker queued a bad WebSocket frame {f:02x?}"),
                    })
                    .collect();
            }
        }
        out.into()
    }

    /// Whether client `i` was sent its Connack and is registered.
    pub fn is_live(&self, i: usize) -> bool {
        self.clients.get(i).is_some_and(|c| c.live.is_some())
    }
}

impl Drop for Offline {
    fn drop(&mut self) {
        for c in &mut self.clients {
            Self::close_client(&self.shared, c, "fuzz input ended");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::{Broker, BrokerConfig};

    /// Issue 10: a frame that was a slice of the read buffer kept the whole
    /// buffer (up to 64 KiB) alive while it waited in a stalled receiver's
    /// queue; each frame must own exactly its own bytes.
    #[tokio::test]
    async fn raw_frames_do_not_keep_the_read_buffer_alive() {
        let mut wire = vec![0u8, 5, 12, 0xaa, 0xbb];
        wire.extend_from_slice(&[0xfe, 0xff]);
        wire.extend(std::iter::repeat_n(7u8, 0xfeff - 2));
        let mut reader = RawReader::new(&wire[..], BytesMut::new());
        reader.io.chunk = READ_MAX;
        let (outbox, _inbox) = Outbox::new(true);
        let mut frames = Vec::new();
        while frames.len() < 2 {
            match reader.next_frame(&outbox).expect("valid frames") {
                Some(f) => frames.push(f),
                None => assert!(reader.fill().await.expect("read"), "frames complete"),
            }
        }
        drop(reader);
        for (f, len) in frames.into_iter().zip([5, 0xfeff]) {
            assert_eq!(&f.body[..], &f.framed.as_ref().expect("raw")[2..]);
            drop(f.body);
            let framed = f
                .framed
                .expect("raw")
                .try_into_mut()
                .expect("nothing else holds it");
            assert_eq!(framed.len(), len);
            assert!(
                framed.capacity() <= len + 64,
                "a {len}-byte frame holds a {}-byte allocation",
                framed.capacity()
            );
        }
    }

    /// A client frame as a browser sends it: masked with `key`.
    fn masked(b0: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut out = vec![b0];
        match payload.len() {
            n @ 0..=125 => out.push(0x80 | n as u8),
            n => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        out
    }

    fn ws_reader(wire: &[u8]) -> WsReader<&[u8]> {
        WsReader::new(&[][..], BytesMut::from(wire))
    }

    /// Issue 19 (own WebSocket framing): a message in three fragments with a
    /// Ping between them arrives whole and unmasked, the Ping is answered with
    /// a Pong of the same payload, and the frame kept for WebSocket receivers
    /// is a valid server frame of the same body.
    #[test]
    fn ws_fragments_are_joined_and_a_ping_between_them_is_answered() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let body: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
        let mut wire = masked(0x02, &body[..100], key); // binary, not FIN
        wire.extend(masked(0x89, b"are you there", key)); // Ping
        wire.extend(masked(0x00, &body[100..201], key)); // continuation
        wire.extend(masked(0x80, &body[201..], key)); // final continuation
        let mut reader = ws_reader(&wire);
        let (outbox, mut inbox) = Outbox::new(false);
        let frame = reader.next_frame(&outbox).expect("valid").expect("whole");
        assert_eq!(&frame.body[..], &body[..]);
        let framed = frame.framed.expect("server frame");
        assert_eq!(
            ws_frame_body(&framed),
            Some((WS_BINARY, frame.body.clone()))
        );
        let mut queued = VecDeque::new();
        assert_eq!(inbox.recv_many(&mut queued, 8).now_or_never(), Some(1));
        assert_eq!(
            ws_frame_body(&queued[0]),
            Some((WS_PONG, Bytes::from_static(b"are you there")))
        );
        assert!(reader.next_frame(&outbox).expect("nothing more").is_none());
    }

    #[test]
    fn ws_a_close_is_echoed_with_its_status_and_ends_the_stream() {
        let mut wire = masked(0x88, &[0x03, 0xe9, b'b', b'y', b'e'], [1, 2, 3, 4]);
        wire.extend(masked(0x82, b"\x0c", [1, 2, 3, 4])); // after the Close: ignored
        let mut reader = ws_reader(&wire);
        let (outbox, inbox) = Outbox::new(false);
        assert!(reader.next_frame(&outbox).expect("valid").is_none());
        assert_eq!(inbox.close_code(), 1001);
        assert!(
            !reader
                .fill()
                .now_or_never()
                .expect("at once")
                .expect("no error")
        );
    }

    #[test]
    fn ws_frame_errors_name_the_status_they_close_with() {
        let key = [9, 8, 7, 6];
        let cases: [(&str, Vec<u8>, u16); 5] = [
            ("continuation of nothing", masked(0x80, b"x", key), 1002),
            ("fragmented Ping", masked(0x09, b"x", key), 1002),
            ("Close of one byte", masked(0x88, b"x", key), 1002),
            ("Close status 1005", masked(0x88, &[0x03, 0xed], key), 1002),
            (
                "text that is not UTF-8",
                masked(0x81, &[0xc3, 0x28], key),
                1007,
            ),
        ];
        for (what, wire, code) in cases {
            let mut reader = ws_reader(&wire);
            let (outbox, inbox) = Outbox::new(false);
            match reader.next_frame(&outbox) {
                Err(ReadError::Ws(c, _)) => assert_eq!(c, code, "{what}"),
                Err(e) => panic!("{what}: {e}"),
                Ok(_) => panic!("{what}: accepted"),
            }
            assert_eq!(inbox.close_code(), code, "{what}: the Close says it");
        }
        // A new message while a fragmented one is open.
        let mut wire = masked(0x02, b"a", key);
        wire.extend(masked(0x82, b"b", key));
        let (outbox, _inbox) = Outbox::new(false);
        assert!(matches!(
            ws_reader(&wire).next_frame(&outbox),
            Err(ReadError::Ws(1002, _))
        ));
    }

    /// Issue 19: each idle connection owned a 1 KiB read buffer (4 KiB and
    /// tungstenite's state on WebSocket) while it waited; once every frame is
    /// copied out, waiting for the next bytes must hold none.
    #[tokio::test]
    async fn an_idle_connection_waits_for_bytes_without_a_read_buffer() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let mut client = TcpStream::connect(listener.local_addr().expect("addr"))
            .await
            .expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        let (r, _w) = server.into_split();
        let (outbox, _inbox) = Outbox::new(true);
        let mut reader = RawReader::new(r, BytesMut::with_capacity(1024));
        client.write_all(&[0, 3, 12]).await.expect("Ping");
        let frame = loop {
            if let Some(f) = reader.next_frame(&outbox).expect("valid") {
                break f;
            }
            assert!(
                timeout(Duration::from_secs(20), reader.fill())
                    .await
                    .expect("in time")
                    .expect("read")
            );
        };
        assert_eq!(&frame.body[..], &[12]);
        assert!(
            reader.fill().now_or_never().is_none(),
            "nothing to read yet"
        );
        assert_eq!(reader.io.buf.capacity(), 0, "an idle reader holds a buffer");
    }

    /// A connection's tasks are allocated at their futures' largest size for the
    /// connection's whole life; the big handshake steps must stay boxed so idle
    /// connections cost a few KiB (regression: `serve` once weighed 8 KB).
    #[tokio::test]
    async fn connection_task_futures_stay_small() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let broker = Broker::new(BrokerConfig::default());
        let shared = broker.shared.clone();
        let pair = || async {
            let client = TcpStream::connect(addr).await.expect("connect");
            let (server, _) = listener.accept().await.expect("accept");
            (client, server)
        };

        let (_c, s) = pair().await;
        let serve_size = std::mem::size_of_val(&serve(shared.clone(), s, addr, None));
        eprintln!("serve future: {serve_size} bytes");

        let (_c, s) = pair().await;
        let (r, w) = s.into_split();
        let (_outbox, inbox) = Outbox::new(true);
        let writer = writer_loop(FrameWriter::new(w, Transport::Raw), inbox);
        let writer = std::mem::size_of_val(&writer);
        assert!(writer <= 512, "raw writer future is {writer} bytes");
        let (_c, s) = pair().await;
        let (r2, w2) = s.into_split();
        let raw = run_session(
            shared.clone(),
            RawReader::new(r, BytesMut::new()),
            FrameWriter::new(w2, Transport::Raw),
            addr,
            Transport::Raw,
            false,
        );
        let raw = std::mem::size_of_val(&raw);
        eprintln!("raw session future: {raw} bytes");
        assert!(raw <= 1280, "raw session future is {raw} bytes");

        let session = run_session(
            shared,
            WsReader::new(r2, BytesMut::new()),
            FrameWriter::new(tokio::io::sink(), Transport::Ws),
            addr,
            Transport::Ws,
            false,
        );
        let session = std::mem::size_of_val(&session);
        eprintln!("ws session future: {session} bytes");
        assert!(session <= 1280, "ws session future is {session} bytes");
        // The session runs inside the task's future (one allocation); what
        // comes before it (HTTP head, answers) is boxed, so the task is
        // hardly larger than the larger session.
        let largest = raw.max(session);
        assert!(
            serve_size <= largest + 512,
            "serve future is {serve_size} bytes for sessions of {largest}"
        );
    }
}
