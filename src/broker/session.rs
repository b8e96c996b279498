//! One client connection from TCP accept to close: optional TLS, the HTTP
//! request, the transport (WebSocket or raw), Init/Connect/Connack, then the
//! packet loop that feeds the [`Router`](super::router::Router).
//!
//! Each connection is one task, and its stream is not split. The task reads
//! and decides, and drives a writer (a small poll-driven state beside the
//! reader, not a future or a task of its own) that drains the client's queue
//! of frames, already framed for the wire, and writes them in batches (one
//! syscall per batch). The task's allocation is as large as its future for
//! the connection's whole life, so what an idle connection waits on is plain
//! fields: no timers, no `Notified`, no nested futures (the steps before and
//! after, with their timers, are boxed). Publishers only ever `send` into that
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
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::FutureExt;
use futures_util::future::Either;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
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

/// Whether a read would not block, asked without a buffer.
pub(crate) trait ReadReady {
    /// Ready when a read would not block; waiting holds no buffer, so an idle
    /// connection owns none. Streams that cannot tell (TLS, which holds its
    /// own buffers anyway) are always ready.
    fn poll_read_ready(&self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl ReadReady for TcpStream {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        TcpStream::poll_read_ready(self, cx)
    }
}

impl ReadReady for TlsStream<TcpStream> {}
#[cfg(test)]
impl ReadReady for &[u8] {}

/// A connection's byte stream (TCP, or TLS over TCP), read and written by
/// its one task in turn.
pub(crate) trait Stream:
    AsyncRead + AsyncWrite + ReadReady + Unpin + Send + 'static
{
}
impl<S: AsyncRead + AsyncWrite + ReadReady + Unpin + Send + 'static> Stream for S {}

/// Serves one accepted TCP connection to the end.
///
/// The task's allocation is as large as this future's largest state, for the
/// whole life of the connection, so it is one async fn ([`serve_stream`])
/// whose idle state is plain fields: the short-lived steps with their timers
/// (TLS handshake, HTTP head, the wait for Connect, the close) are boxed, the
/// socket is set up before the future (a local a future borrows keeps its
/// room in every later state), and the arguments come in one box (an async
/// fn keeps room for its arguments for its whole life).
pub(crate) fn serve(
    shared: Arc<Shared>,
    tcp: TcpStream,
    addr: SocketAddr,
    tls: Option<TlsAcceptor>,
) -> impl Future<Output = ()> + Send + 'static {
    let _ = tcp.set_nodelay(true);
    // Mako turns TCP keepalive on (230 s idle, 23 s between probes) so a
    // half-open client that nobody writes to is noticed and removed.
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(std::time::Duration::from_secs(230))
        .with_interval(std::time::Duration::from_secs(23));
    let _ = socket2::SockRef::from(&tcp).set_tcp_keepalive(&keepalive);
    match tls {
        None => Either::Left(serve_stream(Box::new(Start {
            shared,
            stream: tcp,
            addr,
            tls: false,
        }))),
        Some(acceptor) => Either::Right(Box::pin(serve_tls(shared, tcp, addr, acceptor))),
    }
}

async fn serve_tls(shared: Arc<Shared>, tcp: TcpStream, addr: SocketAddr, acceptor: TlsAcceptor) {
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
    let start = Start {
        shared,
        stream,
        addr,
        tls: true,
    };
    serve_stream(Box::new(start)).await
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

/// What a connection starts with.
struct Start<S> {
    shared: Arc<Shared>,
    stream: S,
    addr: SocketAddr,
    tls: bool,
}

impl<S> Start<S> {
    // The box is the point: taken apart here, it is freed before the
    // session starts (see `serve_stream`).
    #[allow(clippy::boxed_local)]
    fn unbox(start: Box<Self>) -> Self {
        *start
    }
}

/// A connection whose HTTP request was answered: its stream, the bytes read
/// past the request head, and the transport.
struct Answered<S> {
    io: S,
    leftover: BytesMut,
    ws: bool,
}

/// Reads the HTTP request and answers it: 101 for WebSocket, the optional
/// 200 for raw, 404 or 400 (then `None`) for anything else.
async fn answer_http<S: Stream>(
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
    Some(Answered {
        io: stream,
        leftover,
        ws,
    })
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
    /// Receives more from `io`; `false` at a clean end of stream.
    fn poll_fill<S: AsyncRead + ReadReady + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<Result<bool, ReadError>>;
}

/// The bytes received and not yet framed. An idle connection holds no buffer:
/// it is given back once every frame in it was copied out (or a read found
/// nothing), and taken again only when the socket is readable.
struct InBuf {
    buf: BytesMut,
    /// Next read size: doubles while reads fill it, up to READ_MAX.
    chunk: usize,
}

impl InBuf {
    fn new(leftover: BytesMut) -> Self {
        InBuf {
            buf: leftover,
            chunk: READ_MIN,
        }
    }

    fn poll_fill<S: AsyncRead + ReadReady + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<bool>> {
        if self.buf.is_empty() {
            spare::give(std::mem::take(&mut self.buf));
            ready!(io.poll_read_ready(cx))?;
            self.buf = spare::take();
        }
        if self.buf.capacity() - self.buf.len() < 256 {
            self.buf.reserve(self.chunk);
        }
        let spare = self.buf.capacity() - self.buf.len();
        // Cancel-safe and stateless between polls: made anew for each poll.
        let polled = pin!(io.read_buf(&mut self.buf)).poll(cx);
        let n = match polled {
            Poll::Ready(n) => n?,
            Poll::Pending => {
                if self.buf.is_empty() {
                    spare::give(std::mem::take(&mut self.buf));
                }
                return Poll::Pending;
            }
        };
        if n == spare && self.chunk < READ_MAX {
            self.chunk *= 2;
        }
        Poll::Ready(Ok(n > 0))
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

struct RawReader {
    io: InBuf,
}

impl RawReader {
    fn new(leftover: BytesMut) -> Self {
        RawReader {
            io: InBuf::new(leftover),
        }
    }
}

impl FrameReader for RawReader {
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

    fn poll_fill<S: AsyncRead + ReadReady + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<Result<bool, ReadError>> {
        self.io.poll_fill(io, cx).map_err(ReadError::from)
    }
}

/// The server side of RFC 6455 framing over the raw byte stream (the 101
/// answer is [`http::ws_switching`]): client frames must be masked, control
/// frames short and whole, fragments continue a started message; a Ping is
/// answered with a Pong, a Close with the same status, then the stream ends.
/// Errors close with Mako's statuses (see [`ReadError::Ws`]).
struct WsReader {
    io: InBuf,
    /// A fragmented message being assembled: its opcode and payload so far.
    partial: Option<Box<(u8, BytesMut)>>,
    /// The client's Close came (or an error ended the stream): no more reading.
    closed: bool,
}

impl WsReader {
    fn new(leftover: BytesMut) -> Self {
        WsReader {
            io: InBuf::new(leftover),
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

impl WsReader {
    fn fail(&mut self, outbox: &Outbox, code: u16, why: &'static str) -> ReadError {
        self.closed = true;
        outbox.set_close_code(code);
        ReadError::Ws(code, why)
    }
}

impl FrameReader for WsReader {
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

    fn poll_fill<S: AsyncRead + ReadReady + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<Result<bool, ReadError>> {
        if self.closed {
            return Poll::Ready(Ok(false));
        }
        self.io.poll_fill(io, cx).map_err(ReadError::from)
    }
}

/// The reader of either transport.
enum Reader {
    Raw(RawReader),
    Ws(WsReader),
}

impl FrameReader for Reader {
    fn next_frame(&mut self, outbox: &Outbox) -> Result<Option<InFrame>, ReadError> {
        match self {
            Reader::Raw(r) => r.next_frame(outbox),
            Reader::Ws(r) => r.next_frame(outbox),
        }
    }

    fn poll_fill<S: AsyncRead + ReadReady + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<Result<bool, ReadError>> {
        match self {
            Reader::Raw(r) => r.poll_fill(io, cx),
            Reader::Ws(r) => r.poll_fill(io, cx),
        }
    }
}

// ----- writing frames -----

/// Writes a client's queued frames, already framed for the transport, in
/// batches: small frames copied together (one syscall per up to COALESCE
/// bytes), large ones and lone ones as they are. Driven by polls from the
/// session's task rather than being a future, so an idle connection keeps
/// only these fields; the batch and the copy are given back whenever the
/// queue is empty.
struct FrameWriter {
    /// Frames taken from the queue; their budget is given back once all of
    /// them are written.
    batch: VecDeque<Bytes>,
    /// Frames of `batch` written whole.
    done: usize,
    /// `done..staged`: the frames of the write in progress.
    staged: usize,
    /// The staged frames copied together; empty when the one frame at
    /// `done` is written as it is.
    joined: Vec<u8>,
    /// Bytes of the write in progress already written.
    pos: usize,
    /// WebSocket: the stream ends with a Close frame.
    ws: bool,
    end: End,
    /// The write error the writer stopped on, returned once the stream is closed.
    error: Option<io::Error>,
}

/// How far a [`FrameWriter`] is with closing the stream.
enum End {
    /// Open; true when bytes were written since the last flush. TLS takes a
    /// write into its own buffer even when the socket is full; without a
    /// flush before the writer waits for frames, the end of a burst stayed
    /// there until the next frame for that client. (In `End`, not a field of
    /// its own: the writer stays 96 bytes.)
    Open(bool),
    /// Writing the Close frame (WebSocket; empty on raw): its bytes, their
    /// number and how many are written.
    Close([u8; 4], u8, u8),
    Shutdown,
    Done,
}

impl FrameWriter {
    fn new(transport: Transport) -> Self {
        FrameWriter {
            batch: VecDeque::new(),
            done: 0,
            staged: 0,
            joined: Vec::new(),
            pos: 0,
            ws: transport == Transport::Ws,
            end: End::Open(false),
            error: None,
        }
    }

    /// Writes until the queue is empty (`Pending`, registered for the next
    /// frame and for a kill) or the socket is full (`Pending`, registered for
    /// the socket and a kill). Ready once every sender is gone, or a write
    /// failed, and the stream is closed: a WebSocket with a Close frame (the
    /// status of a protocol error, the echo of the client's Close, or empty),
    /// then our side shut down.
    fn poll<S: AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
        inbox: &mut Inbox,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            match &mut self.end {
                End::Open(_) => {}
                End::Close(frame, len, pos) => {
                    if *pos < *len {
                        let rest = &frame[usize::from(*pos)..usize::from(*len)];
                        match Pin::new(&mut *io).poll_write(cx, rest) {
                            Poll::Pending => return Poll::Pending,
                            // n <= 4: the frame's length is a u8.
                            Poll::Ready(Ok(n)) if n > 0 => {
                                *pos += n as u8;
                                continue;
                            }
                            // The peer is gone: close without it.
                            Poll::Ready(_) => {}
                        }
                    }
                    self.end = End::Shutdown;
                    continue;
                }
                End::Shutdown => {
                    let _ = ready!(Pin::new(&mut *io).poll_shutdown(cx));
                    self.end = End::Done;
                    continue;
                }
                End::Done => return Poll::Ready(self.error.take().map_or(Ok(()), Err)),
            }
            if self.done == self.batch.len() {
                if !self.batch.is_empty() {
                    inbox.written(&self.batch);
                    self.batch.clear();
                    (self.done, self.staged) = (0, 0);
                }
                match inbox.poll_recv_many(cx, &mut self.batch, BATCH) {
                    Poll::Pending => {
                        if self.joined.capacity() > 0 {
                            self.joined = Vec::new();
                        }
                        if matches!(self.end, End::Open(true)) {
                            // Registered for the next frame above; now also
                            // for the socket, until what TLS holds is out.
                            match Pin::new(&mut *io).poll_flush(cx) {
                                Poll::Ready(Ok(())) => self.end = End::Open(false),
                                Poll::Ready(Err(e)) => {
                                    self.error = Some(e);
                                    self.close(inbox);
                                    continue;
                                }
                                Poll::Pending => inbox.watch_kill(cx),
                            }
                        }
                        return Poll::Pending;
                    }
                    Poll::Ready(0) => {
                        self.close(inbox);
                        continue;
                    }
                    Poll::Ready(_) => {}
                }
            }
            if self.staged == self.done {
                self.stage();
            }
            let chunk = if self.joined.is_empty() {
                &self.batch[self.done][self.pos..]
            } else {
                &self.joined[self.pos..]
            };
            let len = chunk.len();
            let n = if len == 0 {
                0
            } else {
                match Pin::new(&mut *io).poll_write(cx, chunk) {
                    Poll::Pending => {
                        inbox.watch_kill(cx);
                        return Poll::Pending;
                    }
                    Poll::Ready(Ok(0)) => {
                        self.error = Some(io::ErrorKind::WriteZero.into());
                        self.close(inbox);
                        continue;
                    }
                    Poll::Ready(Ok(n)) => {
                        self.end = End::Open(true);
                        n
                    }
                    Poll::Ready(Err(e)) => {
                        self.error = Some(e);
                        self.close(inbox);
                        continue;
                    }
                }
            };
            if n < len {
                self.pos += n;
                continue;
            }
            self.pos = 0;
            self.joined.clear();
            self.done = self.staged;
        }
    }

    /// Picks the frames of the next write from `done` on: one frame as it is
    /// (alone in the batch, or large), else small frames copied together up
    /// to COALESCE bytes.
    fn stage(&mut self) {
        let first = self.batch[self.done].len();
        if self.batch.len() - self.done == 1 || first >= COALESCE {
            self.staged = self.done + 1;
            return;
        }
        let total: usize = self.batch.range(self.done..).map(Bytes::len).sum();
        self.joined.reserve(total.min(COALESCE));
        let mut next = self.done;
        while let Some(f) = self.batch.get(next) {
            if f.len() >= COALESCE || self.joined.len() + f.len() > COALESCE {
                break;
            }
            self.joined.put_slice(f);
            next += 1;
        }
        self.staged = next;
    }

    /// Starts closing: the Close frame for a WebSocket, then the shutdown.
    fn close(&mut self, inbox: &Inbox) {
        let mut frame = [0x80 | WS_CLOSE, 0, 0, 0];
        let len = match (self.ws, inbox.close_code()) {
            (false, _) => 0,
            (true, 0) => 2,
            (true, code) => {
                frame[1] = 2;
                frame[2..].copy_from_slice(&code.to_be_bytes());
                4
            }
        };
        self.end = End::Close(frame, len, 0);
    }
}

/// One connection's stream with its reading and writing state, driven by the
/// session's task: reads and writes are polled in turn, so a client that does
/// not read never blocks the reading of what it sends.
struct Link<S, R> {
    io: S,
    reader: R,
    writer: FrameWriter,
    inbox: Inbox,
}

impl<S: Stream, R: FrameReader> Link<S, R> {
    /// The next frame from the client (`None`: a clean end of stream).
    fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
        outbox: &Outbox,
    ) -> Poll<Result<Option<InFrame>, ReadError>> {
        loop {
            if let Some(f) = self.reader.next_frame(outbox)? {
                return Poll::Ready(Ok(Some(f)));
            }
            if !ready!(self.reader.poll_fill(&mut self.io, cx))? {
                return Poll::Ready(Ok(None));
            }
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.writer.poll(&mut self.io, &mut self.inbox, cx)
    }

    /// Lets the writer write what is queued and close, for at most
    /// CLOSE_GRACE (every sender but the router's is gone by now).
    async fn finish(&mut self) {
        let _ = timeout(CLOSE_GRACE, poll_fn(|cx| self.poll_write(cx))).await;
    }
}

/// Removes the client from the router however the session ends (the task
/// may also be dropped at shutdown: then without a reason).
struct Registered<'a> {
    session: Session<'a>,
    ended: bool,
}

impl Registered<'_> {
    fn end(mut self, reason: &str) {
        self.ended = true;
        let who = self.session.who;
        self.session.shared.router().disconnect(who, reason);
    }
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let who = self.session.who;
            self.session.shared.router().disconnect(who, "");
        }
    }
}

// ----- the session -----

/// Client IP as Mako puts it into Init: IPv4-mapped IPv6 addresses lose `::ffff:`.
fn client_ip(addr: SocketAddr) -> String {
    let ip = addr.ip().to_string();
    match ip.strip_prefix("::ffff:") {
        Some(v4) => v4.to_string(),
        None => ip,
    }
}

/// How the wait for Connect ended.
enum Connected {
    Live(Who),
    /// Refused, or closed before Connect: the writer gets CLOSE_GRACE for
    /// what is queued (a Connack, the WebSocket Close).
    Close,
    /// Gone without an answer.
    Abandon,
}

/// One connection from its HTTP request to its end, the session inline: the
/// task's one allocation holds it (see [`serve`]).
async fn serve_stream<S: Stream>(start: Box<Start<S>>) {
    // Unboxed by a call, so the box is freed now, not when the session ends
    // (`*start` here would free it at the end of this function).
    let Start {
        shared,
        stream,
        addr,
        tls,
    } = Start::unbox(start);
    let Some(Answered { io, leftover, ws }) = Box::pin(answer_http(&shared, stream, addr)).await
    else {
        return;
    };
    let (reader, transport) = if ws {
        (Reader::Ws(WsReader::new(leftover)), Transport::Ws)
    } else {
        (Reader::Raw(RawReader::new(leftover)), Transport::Raw)
    };
    let raw = !ws;
    let (outbox, inbox) = Outbox::new(raw);
    outbox.send_packet(&Packet::Init(Init {
        version: 1,
        seed: rand::random(),
        client_ip: Bytes::from(client_ip(addr)),
    }));
    let mut link = Link {
        io,
        reader,
        writer: FrameWriter::new(transport),
        inbox,
    };
    // Boxed, with its timer and the shutdown watch: not kept for the
    // connection's life.
    let first = poll_fn(|cx| {
        if link.poll_write(cx).is_ready() {
            // The writer failed (the peer is gone) before a Connect came.
            return Poll::Ready(None);
        }
        link.poll_frame(cx, &outbox).map(Some)
    });
    let first = timeout(shared.config.connect_timeout, first);
    let first = match Box::pin(unless_closing(&shared, first)).await {
        None | Some(Ok(None)) => return,
        Some(Ok(Some(first))) => Ok(first),
        Some(Err(_)) => Err(()),
    };
    let who = match connected(&shared, first, addr, transport, tls, &outbox) {
        Connected::Live(who) => who,
        Connected::Close => {
            drop(outbox);
            Box::pin(link.finish()).await;
            return;
        }
        Connected::Abandon => return,
    };

    let mut guard = Registered {
        session: Session {
            shared: &shared,
            who,
            raw,
            outbox: &outbox,
            frag: None,
        },
        ended: false,
    };
    // `(reason, whether the writer is done)`.
    let (reason, writer_done) = poll_fn(|cx| {
        let session = &mut guard.session;
        loop {
            if let Err(reason) = session.handle_buffered(&mut link.reader) {
                return Poll::Ready((reason, false));
            }
            if link.inbox.killed() {
                return Poll::Ready((KILLED.into(), false));
            }
            if let Poll::Ready(res) = link.poll_write(cx) {
                let reason = match res {
                    Err(e) => format!("write error: {e}"),
                    Ok(()) => "writer stopped".into(),
                };
                return Poll::Ready((reason, true));
            }
            let reason: Close = match link.reader.poll_fill(&mut link.io, cx) {
                Poll::Ready(Ok(true)) => continue,
                Poll::Ready(Ok(false)) => "connection closed by the client".into(),
                Poll::Ready(Err(e)) => e.to_string(),
                // The writer registered this task for a kill under the
                // queue's lock: a kill since the check above is seen here,
                // or wakes it.
                Poll::Pending if link.inbox.killed() => KILLED.into(),
                Poll::Pending => return Poll::Pending,
            };
            return Poll::Ready((reason, false));
        }
    })
    .await;
    guard.end(&reason);
    drop(outbox);
    if !writer_done {
        Box::pin(link.finish()).await;
    }
}

/// Why a session the router ended (takeover, shutdown) closes.
const KILLED: &str = "closed by the broker";

/// Settles the first frame: registered (the router queued the Connack), or
/// refused (Connack with the reason), or dropped the way Mako drops it.
fn connected(
    shared: &Shared,
    first: Result<Result<Option<InFrame>, ReadError>, ()>,
    addr: SocketAddr,
    transport: Transport,
    tls: bool,
    outbox: &Outbox,
) -> Connected {
    let mut uid = Bytes::new(); // for the trace of a refusal
    let registered = match first {
        Err(()) => Err((ConnackCode::ServerUnavailable, "no Connect in time")),
        Ok(Ok(None)) => {
            // Like Mako: no Connack to a client that has gone (a WebSocket
            // Close is answered with Close by the writer).
            handshake_failed(shared, addr, || "closed before Connect".into());
            return Connected::Close;
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
                    shared,
                    connect,
                    declared_uid_len,
                    addr,
                    transport,
                    tls,
                    outbox,
                )
            }
            MakoConnect::BadVersion => Err((
                ConnackCode::BadProtocol,
                "first packet is not a v1/v2 Connect",
            )),
            MakoConnect::Truncated => {
                // Mako's Lua fails on this Connect and answers nothing.
                handshake_failed(shared, addr, || {
                    "Connect too short for its length fields".into()
                });
                return Connected::Abandon;
            }
        },
    };
    match registered {
        Ok((etid, conn)) => Connected::Live(Who { etid, conn }),
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
            Connected::Close
        }
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
) -> Result<(u32, u64), (ConnackCode, &'static str)> {
    if declared_uid_len < MIN_UID_LEN {
        return Err((ConnackCode::BadProtocol, "UID shorter than 6 bytes"));
    }
    if let Some(auth) = &shared.config.auth {
        auth.check(&c.uid, &c.credentials)
            .map_err(|reason| (ConnackCode::BadCredentials, reason))?;
    }
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
        })
        .ok_or((ConnackCode::ServerUnavailable, "broker shutting down"))?;
    Ok((etid, conn))
}

/// Per-connection packet handling after Connack.
struct Session<'a> {
    shared: &'a Arc<Shared>,
    who: Who,
    raw: bool,
    outbox: &'a Outbox,
    /// PubFrag assembly: 13 header bytes reserved, then the payload so far
    /// (boxed: rare, and the session lives in every idle connection's task).
    frag: Option<Box<BytesMut>>,
}

/// Why the connection must close.
type Close = String;

impl Session<'_> {
    fn handle_buffered<R: FrameReader>(&mut self, reader: &mut R) -> Result<(), Close> {
        while let Some(frame) = reader.next_frame(self.outbox).map_err(|e| e.to_string())? {
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
                self.frag = Some(Box::new(buf));
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
        let body = (*buf).freeze();
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
    /// Raw stream bytes not yet framed.
    reader: RawReader,
    /// `Some` once the Connect was accepted: the ETID and PubFrag assembly.
    live: Option<(Who, Option<Box<BytesMut>>)>,
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
            reader: RawReader::new(BytesMut::new()),
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
            // The first frame: a Connect, read the way `serve_stream` reads it.
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
            let Some((etid, conn)) = accepted else {
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
            outbox: &c.outbox,
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

    async fn fill<R: FrameReader, S: AsyncRead + ReadReady + Unpin>(
        reader: &mut R,
        io: &mut S,
    ) -> Result<bool, ReadError> {
        poll_fn(|cx| reader.poll_fill(io, cx)).await
    }

    /// Issue 10: a frame that was a slice of the read buffer kept the whole
    /// buffer (up to 64 KiB) alive while it waited in a stalled receiver's
    /// queue; each frame must own exactly its own bytes.
    #[tokio::test]
    async fn raw_frames_do_not_keep_the_read_buffer_alive() {
        let mut wire = vec![0u8, 5, 12, 0xaa, 0xbb];
        wire.extend_from_slice(&[0xfe, 0xff]);
        wire.extend(std::iter::repeat_n(7u8, 0xfeff - 2));
        let mut src = &wire[..];
        let mut reader = RawReader::new(BytesMut::new());
        reader.io.chunk = READ_MAX;
        let (outbox, _inbox) = Outbox::new(true);
        let mut frames = Vec::new();
        while frames.len() < 2 {
            match reader.next_frame(&outbox).expect("valid frames") {
                Some(f) => frames.push(f),
                None => assert!(
                    fill(&mut reader, &mut src).await.expect("read"),
                    "frames complete"
                ),
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

    fn ws_reader(wire: &[u8]) -> WsReader {
        WsReader::new(BytesMut::from(wire))
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
            !fill(&mut reader, &mut &[][..])
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

    /// A stream that keeps what it is given until flushed, as TLS does when
    /// the socket is full: `poll_write` succeeds, the records wait in rustls.
    #[derive(Default)]
    struct HoldsUntilFlushed {
        held: Vec<u8>,
        wire: Vec<u8>,
    }

    impl AsyncWrite for HoldsUntilFlushed {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.held.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            let held = std::mem::take(&mut self.held);
            self.wire.extend(held);
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.poll_flush(cx)
        }
    }

    /// Review of issue 19 (wss:// and https://): the writer went idle once
    /// the queue was empty without flushing, and TLS kept the end of a burst
    /// until the next frame for that client, however long that took.
    #[test]
    fn a_tls_writer_flushes_before_it_waits_for_frames() {
        let (outbox, mut inbox) = Outbox::new(true);
        let mut writer = FrameWriter::new(Transport::Raw);
        let mut io = HoldsUntilFlushed::default();
        for i in 0..3u8 {
            assert!(matches!(
                outbox.send(Bytes::from(vec![i; 100])),
                crate::broker::outbox::Sent::Ok
            ));
        }
        let idle = poll_fn(|cx| writer.poll(&mut io, &mut inbox, cx)).now_or_never();
        assert!(idle.is_none(), "the writer waits for the next frame");
        assert!(io.held.is_empty(), "{} bytes left in TLS", io.held.len());
        assert_eq!(io.wire.len(), 300);
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
        let (mut server, _) = listener.accept().await.expect("accept");
        let (outbox, _inbox) = Outbox::new(true);
        let mut reader = RawReader::new(BytesMut::with_capacity(1024));
        client.write_all(&[0, 3, 12]).await.expect("Ping");
        let frame = loop {
            if let Some(f) = reader.next_frame(&outbox).expect("valid") {
                break f;
            }
            assert!(
                timeout(Duration::from_secs(20), fill(&mut reader, &mut server))
                    .await
                    .expect("in time")
                    .expect("read")
            );
        };
        assert_eq!(&frame.body[..], &[12]);
        assert!(
            fill(&mut reader, &mut server).now_or_never().is_none(),
            "nothing to read yet"
        );
        assert_eq!(reader.io.buf.capacity(), 0, "an idle reader holds a buffer");
    }

    /// A connection's task is allocated at its future's largest size for the
    /// connection's whole life: the big handshake steps and timers must stay
    /// boxed and the idle state plain fields (regression: `serve` once weighed
    /// 8 KB, and 1.6 KB with a select over a writer future, a `Notified`, a
    /// readiness future, the arguments of three nested async fns and a split
    /// stream).
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
        let (_c, stream) = pair().await;
        let start = Box::new(Start {
            shared,
            stream,
            addr,
            tls: false,
        });
        let session = std::mem::size_of_val(&serve_stream(start));
        let writer = std::mem::size_of::<FrameWriter>();
        let link = std::mem::size_of::<Link<TcpStream, Reader>>();
        eprintln!(
            "serve future: {serve_size} bytes, session future: {session}, \
             link (stream, reader, writer, queue): {link}, frame writer: {writer}"
        );
        // Measured 2026-12-01 (rustc 1.95, x86_64): 96, 208 and 384 bytes;
        // tokio rounds the task (header, future, trailer) up to 128 bytes,
        // so a session under about 400 bytes keeps it at 512.
        assert!(writer <= 96, "frame writer is {writer} bytes");
        assert!(link <= 208, "link is {link} bytes");
        assert!(session <= 384, "session future is {session} bytes");
        // The TLS path is boxed: the task is hardly larger than the session.
        assert!(
            serve_size <= session + 8,
            "serve future is {serve_size} bytes for a session of {session}"
        );
    }
}
