//! End-to-end tests: a real [`Broker`] on 127.0.0.1:0, spoken to with raw bytes
//! over TCP (and TLS), and over WebSocket with tokio-tungstenite. Packets are
//! built with `crate::protocol`; byte literals come from the Mako transcript.
//!
//! Timeouts here only guard against hangs; ordering is established with a
//! Ping/Pong fence (the broker answers in order), never with sleeps.

mod handshake;
mod listen;
mod log;
mod mako_compat;
mod observe;
mod routing;
mod server;
mod tracer;
mod transport;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::{Broker, BrokerConfig, Record};
use crate::protocol::framing::{decode_raw, encode_raw};
use crate::protocol::{Connect, ConnectVersion, Packet, Publish};
use crate::trace::schema::Kind;

/// Guard against hangs; every wait in these tests is bounded by it.
pub(super) const LIMIT: Duration = Duration::from_secs(5);

pub(super) async fn within<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

pub(super) struct TestBroker {
    pub broker: Broker,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestBroker {
    pub async fn start(config: BrokerConfig) -> TestBroker {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let broker = Broker::new(config);
        let (stop, stopped) = oneshot::channel::<()>();
        let b = broker.clone();
        let task = tokio::spawn(async move {
            b.run(listener, async {
                let _ = stopped.await;
            })
            .await
        });
        TestBroker {
            broker,
            addr,
            stop: Some(stop),
            task,
        }
    }

    pub async fn default() -> TestBroker {
        Self::start(BrokerConfig::default()).await
    }

    /// Resolves the shutdown future and waits for `run` to return.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        within("broker run() returns", &mut self.task)
            .await
            .expect("run task")
            .expect("run ok");
    }
}

pub(super) fn connect_packet(uid: &str) -> Packet {
    connect_with(uid, "")
}

pub(super) fn connect_with(uid: &str, credentials: &str) -> Packet {
    Packet::Connect(Connect {
        version: ConnectVersion::V1,
        uid: Bytes::copy_from_slice(uid.as_bytes()),
        credentials: Bytes::copy_from_slice(credentials.as_bytes()),
        info: Bytes::from_static(b"test"),
    })
}

pub(super) fn publish(tid: u32, ptid: u32, subtid: u32, payload: &'static [u8]) -> Packet {
    Packet::Publish(Publish {
        tid,
        ptid,
        subtid,
        payload: Bytes::from_static(payload),
    })
}

pub(super) fn hex(s: &str) -> Vec<u8> {
    crate::protocol::test_util::hex(s)
}

pub(super) const RAW_REQUEST: &[u8] =
    b"GET /smq/ HTTP/1.1\r\nHost: 127.0.0.1\r\nSimpleMQ: 1\r\nSendSmqHttpResponse: true\r\n\r\n";
pub(super) const RAW_REQUEST_QUIET: &[u8] =
    b"GET /smq/ HTTP/1.1\r\nHost: 127.0.0.1\r\nSimpleMQ: 1\r\n\r\n";

pub(super) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A raw-transport test client over any byte stream.
pub(super) struct RawClient {
    io: Box<dyn Io>,
    buf: BytesMut,
    pub etid: u32,
}

impl RawClient {
    /// Sends the HTTP request, checks the 200 head and the Init.
    pub async fn open(addr: SocketAddr) -> RawClient {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        Self::open_on(Box::new(tcp)).await
    }

    pub async fn open_on(io: Box<dyn Io>) -> RawClient {
        let mut c = RawClient {
            io,
            buf: BytesMut::new(),
            etid: 0,
        };
        c.write(RAW_REQUEST).await;
        let head = c.read_head().await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        match c.recv().await {
            Packet::Init(i) => assert_eq!(i.version, 1),
            other => panic!("expected Init, got {other:?}"),
        }
        c
    }

    /// Opens and connects with `uid`; stores the ETID.
    pub async fn connect(addr: SocketAddr, uid: &str) -> RawClient {
        let mut c = Self::open(addr).await;
        c.send(&connect_packet(uid)).await;
        c.etid = c.expect_connack().await;
        c
    }

    pub async fn expect_connack(&mut self) -> u32 {
        match self.recv().await {
            Packet::Connack(c) if c.code == 0 => {
                assert!(c.etid != 0 && c.etid != 1, "etid {}", c.etid);
                c.etid
            }
            other => panic!("expected an accepting Connack, got {other:?}"),
        }
    }

    pub async fn write(&mut self, bytes: &[u8]) {
        within("write", self.io.write_all(bytes))
            .await
            .expect("write");
    }

    pub async fn send(&mut self, p: &Packet) {
        let frame = encode_raw(p).expect("fits");
        self.write(&frame).await;
    }

    /// Reads the HTTP response head; bytes after it stay buffered.
    pub async fn read_head(&mut self) -> String {
        loop {
            if let Some(pos) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = self.buf.split_to(pos + 4);
                return String::from_utf8(head.to_vec()).expect("utf8 head");
            }
            assert!(self.fill().await, "closed before the HTTP head ended");
        }
    }

    async fn fill(&mut self) -> bool {
        self.buf.reserve(4096);
        match within("read", self.io.read_buf(&mut self.buf)).await {
            Ok(n) => n > 0,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => false,
            Err(e) => panic!("read error: {e}"),
        }
    }

    /// Next frame exactly as received (length prefix included).
    pub async fn recv_frame(&mut self) -> Bytes {
        loop {
            if self.buf.len() >= 2 {
                let len = u16::from_be_bytes([self.buf[0], self.buf[1]]) as usize;
                if self.buf.len() >= len {
                    return self.buf.split_to(len).freeze();
                }
            }
            assert!(
                self.fill().await,
                "connection closed while waiting for a frame"
            );
        }
    }

    pub async fn recv(&mut self) -> Packet {
        let mut frame = BytesMut::from(&self.recv_frame().await[..]);
        let body = decode_raw(&mut frame)
            .expect("valid frame")
            .expect("complete");
        Packet::decode(body).expect("broker sends valid packets")
    }

    /// Asserts the broker closes the connection and sends nothing more.
    pub async fn expect_closed(&mut self) {
        while self.fill().await {}
        assert!(
            self.buf.is_empty(),
            "unexpected bytes before close: {:02x?}",
            &self.buf[..]
        );
    }

    /// Ping/Pong fence: everything the broker queued for us before it handled
    /// this Ping is returned, in order.
    pub async fn fence(&mut self) -> Vec<Packet> {
        self.send(&Packet::Ping).await;
        let mut before = Vec::new();
        loop {
            match self.recv().await {
                Packet::Pong => return before,
                p => before.push(p),
            }
        }
    }

    pub async fn subscribe(&mut self, topic: &str) -> u32 {
        self.send(&Packet::Subscribe {
            topic: Bytes::copy_from_slice(topic.as_bytes()),
        })
        .await;
        loop {
            match self.recv().await {
                Packet::Suback(a) => {
                    assert_eq!(&a.name[..], topic.as_bytes());
                    assert!(a.accepted());
                    return a.tid;
                }
                Packet::Change(_) => continue, // we may observe the topic ourselves
                other => panic!("expected Suback, got {other:?}"),
            }
        }
    }
}

/// A WebSocket test client.
pub(super) struct WsClient<S> {
    pub ws: WebSocketStream<S>,
    pub etid: u32,
}

impl WsClient<TcpStream> {
    pub async fn open(addr: SocketAddr) -> WsClient<TcpStream> {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        WsClient::open_on(tcp, &format!("ws://{addr}/smq/")).await
    }

    pub async fn connect(addr: SocketAddr, uid: &str) -> WsClient<TcpStream> {
        let mut c = Self::open(addr).await;
        c.send(&connect_packet(uid)).await;
        c.etid = c.expect_connack().await;
        c
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsClient<S> {
    pub async fn open_on(stream: S, url: &str) -> WsClient<S> {
        let (ws, resp) = within("ws handshake", tokio_tungstenite::client_async(url, stream))
            .await
            .expect("ws handshake");
        assert_eq!(resp.status().as_u16(), 101);
        assert_eq!(
            resp.headers().get("server").and_then(|v| v.to_str().ok()),
            Some("smqctl")
        );
        let mut c = WsClient { ws, etid: 0 };
        match c.recv().await {
            Packet::Init(i) => assert_eq!(i.version, 1),
            other => panic!("expected Init, got {other:?}"),
        }
        c
    }

    pub async fn send(&mut self, p: &Packet) {
        self.send_bytes(p.to_bytes()).await;
    }

    pub async fn send_bytes(&mut self, b: Bytes) {
        within("ws send", self.ws.send(Message::Binary(b)))
            .await
            .expect("ws send");
    }

    pub async fn recv_body(&mut self) -> Bytes {
        loop {
            match within("ws recv", self.ws.next()).await {
                Some(Ok(Message::Binary(b))) => return b,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a binary message, got {other:?}"),
            }
        }
    }

    pub async fn recv(&mut self) -> Packet {
        Packet::decode(self.recv_body().await).expect("broker sends valid packets")
    }

    pub async fn expect_connack(&mut self) -> u32 {
        match self.recv().await {
            Packet::Connack(c) if c.code == 0 => c.etid,
            other => panic!("expected an accepting Connack, got {other:?}"),
        }
    }

    /// Asserts the broker ends the WebSocket without sending more SMQ packets.
    pub async fn expect_closed(&mut self) {
        loop {
            match within("ws close", self.ws.next()).await {
                None | Some(Ok(Message::Close(_))) | Some(Err(_)) => return,
                Some(Ok(Message::Binary(b))) => panic!("unexpected packet before close: {b:02x?}"),
                Some(Ok(_)) => continue,
            }
        }
    }

    pub async fn fence(&mut self) -> Vec<Packet> {
        self.send(&Packet::Ping).await;
        let mut before = Vec::new();
        loop {
            match self.recv().await {
                Packet::Pong => return before,
                p => before.push(p),
            }
        }
    }
}

/// Collects broker events until one of `kind` arrives; returns everything seen.
pub(super) async fn events_until(
    rx: &mut broadcast::Receiver<Arc<Record>>,
    kind: Kind,
) -> Vec<Arc<Record>> {
    let mut seen = Vec::new();
    loop {
        let rec = within("broker event", rx.recv())
            .await
            .expect("event channel open");
        let done = rec.event.kind == kind;
        seen.push(rec);
        if done {
            return seen;
        }
    }
}

/// A rustls client config that trusts exactly `cert_der`.
pub(super) fn tls_client(
    cert_der: &rustls::pki_types::CertificateDer<'static>,
) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert_der.clone()).expect("add root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}
