//! Client-side byte streams to an SMQ broker, chosen by URL scheme.
//!
//! `ws://`/`wss://` carry one SMQ packet per binary WebSocket message;
//! `http://`/`https://` bootstrap a raw socket with an HTTP request and then carry
//! length-prefixed packets on the same socket. Whatever the scheme, TCP or TLS is
//! hidden behind one trait object ([`ByteStream`]) and callers get a
//! [`PacketReader`] / [`PacketWriter`] pair that moves packet bodies.
//!
//! May import: `protocol`. Knows nothing of SMQ semantics (handshake, IDs).

pub mod raw;
pub mod tls;
pub mod ws;

use std::fmt;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{Sink, SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::protocol::Packet;
use crate::protocol::framing::{self, FrameError};

pub use tls::TlsOptions;

/// Any byte stream a transport runs on: plain TCP or TLS over TCP.
pub trait AsyncStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncStream for T {}
pub type ByteStream = Box<dyn AsyncStream>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Ws,
    Wss,
    Http,
    Https,
}

impl Scheme {
    pub fn is_tls(self) -> bool {
        matches!(self, Scheme::Wss | Scheme::Https)
    }
    pub fn is_websocket(self) -> bool {
        matches!(self, Scheme::Ws | Scheme::Wss)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A parsed broker URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
    /// Path and query, starting with '/'.
    pub path: String,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(
            f,
            "{}://{}:{}{}",
            self.scheme.as_str(),
            host,
            self.port,
            self.path
        )
    }
}

impl Endpoint {
    /// Parses `ws://host[:port]/path` (also wss, http, https). A URL without a
    /// scheme is taken as `ws://`. Default ports: 80 and 443.
    pub fn parse(url: &str) -> Result<Endpoint, TransportError> {
        let bad = |why: &str| TransportError::BadUrl {
            url: url.to_string(),
            why: why.to_string(),
        };
        let (scheme, rest) = match url.split_once("://") {
            Some((s, rest)) => {
                let scheme = match s.to_ascii_lowercase().as_str() {
                    "ws" => Scheme::Ws,
                    "wss" => Scheme::Wss,
                    "http" => Scheme::Http,
                    "https" => Scheme::Https,
                    _ => return Err(bad("scheme must be ws, wss, http or https")),
                };
                (scheme, rest)
            }
            None => (Scheme::Ws, url),
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        if authority.contains('@') {
            return Err(bad(
                "user:password@ in the URL is not supported; use --credentials",
            ));
        }
        let default_port = if scheme.is_tls() { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed '[' in host"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad("port is not a number"))?,
                None if after.is_empty() => default_port,
                None => return Err(bad("unexpected text after ']'")),
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse::<u16>()
                        .map_err(|_| bad("port is not a number 0-65535"))?,
                ),
                None => (authority.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("the host contains spaces"));
        }
        // The path goes into the HTTP request line as it is.
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("the path contains spaces (write them as %20)"));
        }
        Ok(Endpoint {
            scheme,
            host,
            port,
            path,
        })
    }

    fn host_header(&self) -> String {
        let default = if self.scheme.is_tls() { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("bad broker URL '{url}': {why}")]
    BadUrl { url: String, why: String },
    #[error("cannot connect to {addr}: the host name does not resolve ({source})")]
    Resolve {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("timed out after {0:?} connecting to {1}")]
    Timeout(Duration, String),
    /// Timed out with nothing back in a phase where the other scheme's
    /// server would sit silent (a TLS port reading our HTTP request, a plain
    /// port reading our ClientHello).
    #[error("timed out after {after:?} {phase} {addr}: {advice}")]
    SilentTimeout {
        after: Duration,
        phase: &'static str,
        addr: String,
        advice: String,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("{0}")]
    TlsConfig(String),
    /// An HTTP answer that is not an SMQ broker's (a web server, a wrong path).
    #[error("{url} is an HTTP server but not an SMQ endpoint: it answered '{status}'{}", server_note(.server))]
    HttpStatus {
        url: String,
        status: String,
        /// The answer's `Server` header.
        server: Option<String>,
        /// The answer's `Location` header (3xx), as sent.
        location: Option<String>,
    },
    /// A redirect smqctl does not follow (another host, or a second one).
    #[error("{url} answered '{status}' pointing to {location}: {why}")]
    Redirect {
        url: String,
        status: String,
        location: String,
        why: String,
    },
    #[error("the broker at {0} reset the connection")]
    Reset(String),
    /// Closed before any answer to the HTTP request (raw or WebSocket).
    #[error(
        "{0} closed the connection without answering the SMQ request: not an SMQ endpoint, or a TLS port (try {1})"
    )]
    NoAnswer(String, &'static str),
    #[error("WebSocket: {0}")]
    WebSocket(String),
    #[error("connection closed by the broker")]
    Closed,
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("malformed frame from the broker: {0}")]
    Frame(#[from] FrameError),
    #[error("cannot send: {0}")]
    Oversize(FrameError),
    #[error("the broker sent a text WebSocket message; SMQ uses binary messages")]
    TextMessage,
}

fn server_note(server: &Option<String>) -> String {
    match server {
        Some(s) => format!(" (Server: {s})"),
        None => String::new(),
    }
}

/// Opens the TCP (and TLS) stream, then bootstraps the transport the scheme asks
/// for. The whole thing is bounded by `timeout`.
pub async fn connect(
    ep: &Endpoint,
    tls: &TlsOptions,
    timeout: Duration,
) -> Result<(PacketReader, PacketWriter), TransportError> {
    connect_from(ep, tls, timeout, None, ws::READ_BUFFER, false).await
}

/// TCP from a given local address (port picked by the system): spreads many
/// connections over several source addresses (`simulate --bind`).
async fn tcp_from(host: &str, port: u16, local: std::net::IpAddr) -> std::io::Result<TcpStream> {
    let mut last = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        if addr.is_ipv4() != local.is_ipv4() {
            continue;
        }
        let socket = if local.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.bind(std::net::SocketAddr::new(local, 0))?;
        match socket.connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            format!("{host} has no address of the family of {local}"),
        )
    }))
}

/// Like [`connect`], from the local address `bind` when given, with a
/// WebSocket read buffer of `ws_read_buffer` bytes (`lean`: see
/// [`ws::bootstrap_lean`]). One redirect to the same
/// host and port (Mako answers `/smq` with 302 to `/smq/`) is followed; any
/// other is reported with where it points.
pub async fn connect_from(
    ep: &Endpoint,
    tls: &TlsOptions,
    timeout: Duration,
    bind: Option<std::net::IpAddr>,
    ws_read_buffer: usize,
    lean: bool,
) -> Result<(PacketReader, PacketWriter), TransportError> {
    let progress = Progress::default();
    let work = async {
        let mut ep = ep.clone();
        let mut followed = false;
        loop {
            match connect_once(&ep, tls, timeout, bind, ws_read_buffer, lean, &progress).await {
                Err(TransportError::HttpStatus {
                    url,
                    status,
                    location: Some(location),
                    ..
                }) if is_redirect(&status) => {
                    let location = without_userinfo(&location);
                    match redirect_target(&ep, &location) {
                        Some(next) if !followed => {
                            followed = true;
                            ep = next;
                        }
                        Some(_) => {
                            return Err(TransportError::Redirect {
                                url,
                                status,
                                location,
                                why: "a second redirect (smqctl follows one); give the final URL with --url".into(),
                            });
                        }
                        None => {
                            return Err(TransportError::Redirect {
                                url,
                                status,
                                location,
                                why: "it leaves this host, port or scheme, so smqctl does not follow it; give that URL with --url if it is the broker".into(),
                            });
                        }
                    }
                }
                other => return other,
            }
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| progress.timeout(timeout, ep))?
}

/// How far a connection attempt got, for a timeout that says where it hung.
#[derive(Default)]
struct Progress {
    /// 0 TCP, 1 TLS handshake, 2 HTTP/WebSocket bootstrap.
    phase: std::sync::atomic::AtomicU8,
    /// A plain stream's first bytes (empty: the server said nothing).
    answer: std::sync::Mutex<Option<std::sync::Arc<std::sync::Mutex<Vec<u8>>>>>,
}

impl Progress {
    fn set(&self, phase: u8) {
        self.phase
            .store(phase, std::sync::atomic::Ordering::Relaxed);
    }

    fn timeout(&self, after: Duration, ep: &Endpoint) -> TransportError {
        let addr = format!("{}:{}", ep.host, ep.port);
        let silent = || {
            self.answer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .is_none_or(|a| a.lock().unwrap_or_else(|e| e.into_inner()).is_empty())
        };
        let plain = if ep.scheme.is_websocket() {
            "ws://"
        } else {
            "http://"
        };
        let tls = if ep.scheme.is_websocket() {
            "wss://"
        } else {
            "https://"
        };
        match self.phase.load(std::sync::atomic::Ordering::Relaxed) {
            1 => TransportError::SilentTimeout {
                after,
                phase: "in the TLS handshake with",
                addr,
                advice: format!(
                    "no TLS answer: the port may speak plain HTTP (try {plain}), or the broker is stuck"
                ),
            },
            2 if !ep.scheme.is_tls() && silent() => TransportError::SilentTimeout {
                after,
                phase: "waiting for the HTTP answer of",
                addr,
                advice: format!(
                    "nothing came back: the port may speak TLS (try {tls}), or the broker is stuck"
                ),
            },
            _ => TransportError::Timeout(after, ep.to_string()),
        }
    }
}

fn is_redirect(status: &str) -> bool {
    matches!(
        status
            .split_whitespace()
            .find(|w| w.len() == 3 && w.starts_with('3')),
        Some("301" | "302" | "303" | "307" | "308")
    )
}

/// A Location with any `user:password@` taken out: it never reaches output.
fn without_userinfo(location: &str) -> String {
    match location.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?']).unwrap_or(rest.len());
            match rest[..end].rfind('@') {
                Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                None => location.to_string(),
            }
        }
        None => location.to_string(),
    }
}

/// The endpoint a redirect leads to when it stays on the same host, port and
/// TLS-ness (the scheme's transport, ws or raw, is kept): `None` otherwise.
fn redirect_target(ep: &Endpoint, location: &str) -> Option<Endpoint> {
    if location.starts_with('/') && !location.starts_with("//") {
        return Some(Endpoint {
            path: location.to_string(),
            ..ep.clone()
        });
    }
    let to = Endpoint::parse(location).ok()?;
    if !location.contains("://")
        || to.scheme.is_tls() != ep.scheme.is_tls()
        || !to.host.eq_ignore_ascii_case(&ep.host)
        || to.port != ep.port
    {
        return None;
    }
    Some(Endpoint {
        path: to.path,
        ..ep.clone()
    })
}

/// One connection attempt: resolve, TCP, TLS, bootstrap; errors say the
/// real cause (no address, reset, TLS on a plain URL or the reverse, an HTTP
/// server that is not SMQ).
async fn connect_once(
    ep: &Endpoint,
    tls: &TlsOptions,
    timeout: Duration,
    bind: Option<std::net::IpAddr>,
    ws_read_buffer: usize,
    lean: bool,
    progress: &Progress,
) -> Result<(PacketReader, PacketWriter), TransportError> {
    let addr = format!("{}:{}", ep.host, ep.port);
    progress.set(0);
    let tcp = match bind {
        None => {
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((ep.host.as_str(), ep.port))
                    .await
                    .map_err(|source| TransportError::Resolve {
                        addr: addr.clone(),
                        source,
                    })?
                    .collect();
            TcpStream::connect(&addrs[..]).await
        }
        Some(local) => tcp_from(&ep.host, ep.port, local).await,
    }
    .map_err(|source| TransportError::Connect {
        addr: addr.clone(),
        source,
    })?;
    let _ = tcp.set_nodelay(true);
    // Plain streams keep their first bytes: a TLS answer to our HTTP
    // request means the URL wants wss:// or https://, an HTTP head that
    // tungstenite refuses still says what server answered.
    // Every write is bounded by the same timeout: a broker that stops
    // reading cannot hold a command forever (see `StallGuard`).
    let (stream, answer): (ByteStream, _) = if ep.scheme.is_tls() {
        progress.set(1);
        let tls = tls::connect(tcp, &ep.host, tls).await?;
        (Box::new(StallGuard::new(tls, timeout)), None)
    } else {
        let (tcp, answer) = tls::FirstBytes::new(tcp);
        *progress.answer.lock().unwrap_or_else(|e| e.into_inner()) = Some(answer.clone());
        (Box::new(StallGuard::new(tcp, timeout)), Some(answer))
    };
    progress.set(2);
    let result = if ep.scheme.is_websocket() && lean {
        ws::bootstrap_lean(stream, ep, ws_read_buffer).await
    } else if ep.scheme.is_websocket() {
        ws::bootstrap(stream, ep, ws_read_buffer).await
    } else {
        raw::bootstrap(stream, ep).await
    };
    let answer = answer.map(|a| a.lock().unwrap_or_else(|e| e.into_inner()).clone());
    match (result, answer) {
        (Err(_), Some(answer)) if tls::looks_like_tls(&answer) => {
            Err(TransportError::Tls(format!(
                "{} answered with TLS: this port speaks TLS; try {}",
                addr,
                if ep.scheme.is_websocket() {
                    "wss://"
                } else {
                    "https://"
                }
            )))
        }
        (Err(TransportError::WebSocket(_)), Some(answer)) if answer.starts_with(b"HTTP/") => {
            // tungstenite refused the answer itself (HTTP/1.0, a bad head).
            let head = raw::Head::parse(&answer);
            Err(TransportError::HttpStatus {
                url: ep.to_string(),
                status: head.status,
                server: head.server,
                location: head.location,
            })
        }
        (Err(TransportError::Closed | TransportError::WebSocket(_)), Some(answer))
            if answer.is_empty() =>
        {
            // Nothing at all came back before the close.
            Err(TransportError::NoAnswer(
                addr,
                if ep.scheme.is_websocket() {
                    "wss://"
                } else {
                    "https://"
                },
            ))
        }
        (Err(e), _) => Err(said_plainly(e, ep)),
        (ok, _) => ok,
    }
}

/// A connection reset, or a TLS error that arrives after the handshake (a
/// TLS 1.3 broker refuses a client certificate on the first read), in words.
fn said_plainly(e: TransportError, ep: &Endpoint) -> TransportError {
    let TransportError::Io(io) = &e else {
        return e;
    };
    if let Some(re) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return TransportError::Tls(format!(
            "the TLS session with {} failed: {}",
            ep.host,
            tls::plain_words(re, &ep.host, &[])
        ));
    }
    if io.kind() == std::io::ErrorKind::ConnectionReset {
        return TransportError::Reset(format!("{}:{}", ep.host, ep.port));
    }
    e
}

type WsStream = WebSocketStream<ByteStream>;

/// A stream whose writes fail (`TimedOut`) once they have made no progress
/// for `limit`: the peer stopped reading and the kernel buffers are full.
/// Slow progress is fine; the clock restarts with every byte accepted.
/// Reads pass through untouched.
pub struct StallGuard<S> {
    inner: S,
    limit: Duration,
    stalled: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl<S> StallGuard<S> {
    pub fn new(inner: S, limit: Duration) -> Self {
        StallGuard {
            inner,
            limit,
            stalled: None,
        }
    }

    /// Ready results restart the clock; Pending ones start it (once) and
    /// fail when it runs out.
    fn watch<T>(
        &mut self,
        cx: &mut std::task::Context<'_>,
        poll: std::task::Poll<std::io::Result<T>>,
    ) -> std::task::Poll<std::io::Result<T>> {
        use std::task::Poll;
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.stalled = None;
                Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "the broker has not read what we sent for {limit:?} (it stopped reading; the limit is --connect-timeout)"
                    ),
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for StallGuard<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StallGuard<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let poll = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let poll = std::pin::Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let poll = std::pin::Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, poll)
    }
}

/// Receives packet bodies (type byte first).
pub enum PacketReader {
    Raw {
        rd: ReadHalf<ByteStream>,
        buf: BytesMut,
        /// No read buffer while no partial packet waits ([`PacketReader::set_lean`]).
        lean: bool,
    },
    Ws(SplitStream<WsStream>),
}

impl PacketReader {
    /// For many connections that each receive little: the raw transport
    /// reads through a stack buffer and keeps only the bytes of a packet not
    /// yet complete, so an idle connection holds no read buffer (WebSocket:
    /// see `ws_read_buffer`).
    pub fn set_lean(&mut self) {
        if let PacketReader::Raw { lean, .. } = self {
            *lean = true;
        }
    }

    /// Next packet body; `Ok(None)` on a clean close. Cancel-safe, so it can sit in
    /// a `select!` next to a command channel.
    pub async fn recv(&mut self) -> Result<Option<Bytes>, TransportError> {
        match self {
            PacketReader::Raw { rd, buf, lean } if *lean => raw::recv_lean(rd, buf).await,
            PacketReader::Raw { rd, buf, .. } => raw::recv(rd, buf).await,
            PacketReader::Ws(ws) => loop {
                match ws.next().await {
                    None => return Ok(None),
                    Some(Err(e)) => return Err(ws::map_err(e)),
                    Some(Ok(Message::Binary(b))) => return Ok(Some(b)),
                    Some(Ok(Message::Close(_))) => return Ok(None),
                    Some(Ok(Message::Text(_))) => return Err(TransportError::TextMessage),
                    Some(Ok(_)) => continue, // ping/pong frames are tungstenite's business
                }
            },
        }
    }
}

impl PacketReader {
    /// A packet that is already here, without waiting: raw, a whole frame
    /// left in the read buffer; WebSocket, one poll of the stream (a frame
    /// in tungstenite's buffer, or one read that does not block).
    /// `Pending`: nothing ready now; `Ready(None)`: a clean close, as from
    /// [`PacketReader::recv`].
    pub fn try_recv(&mut self) -> Result<std::task::Poll<Option<Bytes>>, TransportError> {
        use futures_util::FutureExt;
        use std::task::Poll;
        match self {
            PacketReader::Raw { buf, .. } => Ok(match framing::decode_raw(buf)? {
                Some(b) => Poll::Ready(Some(b)),
                None => Poll::Pending,
            }),
            PacketReader::Ws(ws) => loop {
                return match ws.next().now_or_never() {
                    None => Ok(Poll::Pending),
                    Some(None) | Some(Some(Ok(Message::Close(_)))) => Ok(Poll::Ready(None)),
                    Some(Some(Err(e))) => Err(ws::map_err(e)),
                    Some(Some(Ok(Message::Binary(b)))) => Ok(Poll::Ready(Some(b))),
                    Some(Some(Ok(Message::Text(_)))) => Err(TransportError::TextMessage),
                    Some(Some(Ok(_))) => continue, // ping/pong frames, as in recv
                };
            },
        }
    }
}

impl PacketReader {
    /// [`PacketReader::recv`] as a poll, for a connection driven by its
    /// owner's task (a state machine, not a future): everything it keeps
    /// between polls is in the reader (a partial packet, tungstenite's
    /// buffer), so a poll that returned `Pending` loses nothing. The raw
    /// transport reads through a stack buffer, as the lean `recv` does.
    pub fn poll_recv(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<Option<Bytes>, TransportError>> {
        use std::task::Poll;
        match self {
            PacketReader::Raw { rd, buf, lean } => loop {
                if let Some(body) = framing::decode_raw(buf)? {
                    if *lean && buf.is_empty() {
                        *buf = BytesMut::new();
                    }
                    return Poll::Ready(Ok(Some(body)));
                }
                let mut chunk = [0u8; 2048];
                let mut rb = tokio::io::ReadBuf::new(&mut chunk);
                match std::pin::Pin::new(&mut *rd).poll_read(cx, &mut rb) {
                    Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                        return Poll::Ready(if buf.is_empty() {
                            Ok(None)
                        } else {
                            Err(TransportError::Closed)
                        });
                    }
                    Poll::Ready(Ok(())) => buf.extend_from_slice(rb.filled()),
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                    Poll::Pending => return Poll::Pending,
                }
            },
            PacketReader::Ws(ws) => loop {
                return match ws.poll_next_unpin(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(None) | Poll::Ready(Some(Ok(Message::Close(_)))) => {
                        Poll::Ready(Ok(None))
                    }
                    Poll::Ready(Some(Err(e))) => Poll::Ready(Err(ws::map_err(e))),
                    Poll::Ready(Some(Ok(Message::Binary(b)))) => Poll::Ready(Ok(Some(b))),
                    Poll::Ready(Some(Ok(Message::Text(_)))) => {
                        Poll::Ready(Err(TransportError::TextMessage))
                    }
                    Poll::Ready(Some(Ok(_))) => continue, // ping/pong frames, as in recv
                };
            },
        }
    }
}

/// What the raw transport buffers before [`PacketWriter::poll_ready`] writes
/// it out: a stalled socket does not grow the buffer without bound.
pub const RAW_HIGH_WATER: usize = 64 * 1024;

/// Sends packet bodies. `queue` buffers, `flush` writes everything queued, so a
/// burst of publishes costs one syscall.
pub enum PacketWriter {
    Raw {
        wr: WriteHalf<ByteStream>,
        buf: BytesMut,
        /// Release the write buffer after each flush ([`PacketWriter::set_lean`]).
        lean: bool,
    },
    Ws(SplitSink<WsStream, Message>),
}

impl PacketWriter {
    /// For many connections that each send little: the raw transport's write
    /// buffer is released after every flush (WebSocket: no change).
    pub fn set_lean(&mut self) {
        if let PacketWriter::Raw { lean, .. } = self {
            *lean = true;
        }
    }

    pub async fn queue(&mut self, body: Bytes) -> Result<(), TransportError> {
        match self {
            PacketWriter::Raw { buf, .. } => {
                framing::prefix_raw(&body, buf).map_err(TransportError::Oversize)
            }
            PacketWriter::Ws(sink) => sink.feed(Message::Binary(body)).await.map_err(ws::map_err),
        }
    }

    /// On the raw transport, encodes `packet` straight into the write buffer
    /// (synchronously, so a caller's future need not hold the packet);
    /// `None` on WebSocket, whose frames take a body of their own.
    pub fn encode_raw(&mut self, packet: &Packet) -> Option<Result<(), TransportError>> {
        match self {
            PacketWriter::Raw { buf, .. } => {
                Some(framing::encode_raw_into(packet, buf).map_err(TransportError::Oversize))
            }
            PacketWriter::Ws(_) => None,
        }
    }

    pub async fn flush(&mut self) -> Result<(), TransportError> {
        match self {
            PacketWriter::Raw { wr, buf, lean } => {
                if !buf.is_empty() {
                    wr.write_all(buf).await?;
                    buf.clear();
                }
                if *lean {
                    *buf = BytesMut::new();
                }
                wr.flush().await?;
                Ok(())
            }
            PacketWriter::Ws(sink) => sink.flush().await.map_err(ws::map_err),
        }
    }

    pub async fn send(&mut self, body: Bytes) -> Result<(), TransportError> {
        self.queue(body).await?;
        self.flush().await
    }

    /// Ready to take a packet ([`PacketWriter::start_send`] or
    /// [`PacketWriter::encode_raw`]): WebSocket, tungstenite's buffer has
    /// room; raw, the write buffer is under [`RAW_HIGH_WATER`] (else it is
    /// written out first). The poll forms below are for a connection driven
    /// by its owner's task: what they keep between polls is in the writer.
    pub fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), TransportError>> {
        match self {
            PacketWriter::Raw { buf, .. } if buf.len() >= RAW_HIGH_WATER => self.poll_flush(cx),
            PacketWriter::Raw { .. } => std::task::Poll::Ready(Ok(())),
            PacketWriter::Ws(sink) => std::pin::Pin::new(sink).poll_ready(cx).map_err(ws::map_err),
        }
    }

    /// Queues one packet body; call only after [`PacketWriter::poll_ready`]
    /// said Ready.
    pub fn start_send(&mut self, body: Bytes) -> Result<(), TransportError> {
        match self {
            PacketWriter::Raw { buf, .. } => {
                framing::prefix_raw(&body, buf).map_err(TransportError::Oversize)
            }
            PacketWriter::Ws(sink) => std::pin::Pin::new(sink)
                .start_send(Message::Binary(body))
                .map_err(ws::map_err),
        }
    }

    /// [`PacketWriter::flush`] as a poll.
    pub fn poll_flush(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), TransportError>> {
        use bytes::Buf;
        use std::task::Poll;
        match self {
            PacketWriter::Raw { wr, buf, lean } => {
                while !buf.is_empty() {
                    match std::pin::Pin::new(&mut *wr).poll_write(cx, buf) {
                        Poll::Ready(Ok(0)) => {
                            return Poll::Ready(Err(std::io::Error::from(
                                std::io::ErrorKind::WriteZero,
                            )
                            .into()));
                        }
                        Poll::Ready(Ok(n)) => buf.advance(n),
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                if *lean && buf.capacity() > 0 {
                    *buf = BytesMut::new();
                }
                std::pin::Pin::new(&mut *wr)
                    .poll_flush(cx)
                    .map_err(Into::into)
            }
            PacketWriter::Ws(sink) => std::pin::Pin::new(sink).poll_flush(cx).map_err(ws::map_err),
        }
    }

    /// [`PacketWriter::close`] as a poll.
    pub fn poll_close(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), TransportError>> {
        use std::task::Poll;
        match self.poll_flush(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        match self {
            PacketWriter::Raw { wr, .. } => std::pin::Pin::new(&mut *wr)
                .poll_shutdown(cx)
                .map_err(Into::into),
            PacketWriter::Ws(sink) => std::pin::Pin::new(sink).poll_close(cx).map_err(ws::map_err),
        }
    }

    /// Flushes and shuts the stream down (WebSocket: a close frame).
    pub async fn close(&mut self) -> Result<(), TransportError> {
        self.flush().await?;
        match self {
            PacketWriter::Raw { wr, .. } => Ok(wr.shutdown().await?),
            PacketWriter::Ws(sink) => sink.close().await.map_err(ws::map_err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stall_guard_allows_slow_progress_and_fails_a_write_that_makes_none() {
        use tokio::io::AsyncReadExt;
        let (near, mut far) = tokio::io::duplex(1024);
        let mut guarded = StallGuard::new(near, Duration::from_millis(300));
        // The peer reads 1 KiB every 50 ms: 20 KiB take about a second, far
        // beyond the limit, and still succeed.
        let reader = tokio::spawn(async move {
            let mut b = [0u8; 1024];
            for _ in 0..20 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if far.read_exact(&mut b).await.is_err() {
                    break;
                }
            }
            far // kept open, never read again
        });
        guarded
            .write_all(&[7u8; 20 * 1024])
            .await
            .expect("slow but steady progress");
        let _far = reader.await.expect("reader");
        let started = std::time::Instant::now();
        let err = guarded
            .write_all(&[7u8; 4096])
            .await
            .expect_err("nobody reads any more");
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        assert!(err.to_string().contains("stopped reading"), "{err}");
        assert!(started.elapsed() >= Duration::from_millis(250));
    }

    #[test]
    fn urls_parse_with_defaults() {
        let e = Endpoint::parse("ws://127.0.0.1:9357/smq/").expect("valid");
        assert_eq!(
            (e.scheme, e.host.as_str(), e.port, e.path.as_str()),
            (Scheme::Ws, "127.0.0.1", 9357, "/smq/")
        );
        let e = Endpoint::parse("https://example.com").expect("valid");
        assert_eq!(
            (e.scheme, e.port, e.path.as_str()),
            (Scheme::Https, 443, "/")
        );
        let e = Endpoint::parse("localhost:80/smq.lsp?x=1").expect("valid");
        assert_eq!(
            (e.scheme, e.host.as_str(), e.path.as_str()),
            (Scheme::Ws, "localhost", "/smq.lsp?x=1")
        );
        let e = Endpoint::parse("http://[::1]:8080/smq").expect("valid");
        assert_eq!((e.host.as_str(), e.port), ("::1", 8080));
        assert_eq!(e.to_string(), "http://[::1]:8080/smq");
        assert_eq!(e.host_header(), "[::1]:8080");
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (url, why) in [
            ("mqtt://x", "scheme"),
            ("ws://host:99999/", "port"),
            ("ws:///path", "no host"),
            ("ws://user:pw@host/", "--credentials"),
            ("not a url at all", "spaces"),
            ("ws://host/my app/", "%20"),
        ] {
            let err = Endpoint::parse(url).expect_err(url).to_string();
            assert!(err.contains(why), "{url}: {err}");
        }
    }
}
