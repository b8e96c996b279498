//! TLS for both transports (`https://` raw and `wss://`).

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

use super::*;
use crate::broker::load_tls_config;

/// A broker with a fresh self-signed certificate for "localhost", and that
/// certificate for the client to trust.
async fn tls_broker() -> (TestBroker, CertificateDer<'static>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).expect("write");
    std::fs::write(&key, ck.signing_key.serialize_pem()).expect("write");
    let tls = load_tls_config(&cert, &key).expect("tls config");
    let b = TestBroker::start(BrokerConfig {
        tls: Some(tls),
        ..Default::default()
    })
    .await;
    (b, ck.cert.der().clone())
}

async fn tls_stream(
    addr: SocketAddr,
    cert: &CertificateDer<'static>,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    within("tls handshake", tls_client(cert).connect(name, tcp))
        .await
        .expect("tls handshake")
}

#[tokio::test]
async fn raw_transport_over_tls_connects_and_routes() {
    let (b, cert) = tls_broker().await;
    let mut a = RawClient::open_on(Box::new(tls_stream(b.addr, &cert).await)).await;
    a.send(&connect_packet("tls-raw-1")).await;
    a.etid = a.expect_connack().await;
    let tid = a.subscribe("Secure").await;
    let msg = publish(tid, a.etid, 0, b"over tls");
    a.send(&msg).await;
    assert_eq!(a.recv().await, msg);
    let peer = b.broker.etid2peer(a.etid).expect("peer");
    assert!(peer.tls);
    b.stop().await;
}

#[tokio::test]
async fn websocket_over_tls_connects_and_routes() {
    let (b, cert) = tls_broker().await;
    let stream = tls_stream(b.addr, &cert).await;
    let mut w = WsClient::open_on(stream, &format!("wss://localhost:{}/smq/", b.addr.port())).await;
    w.send(&connect_packet("tls-ws-01")).await;
    w.etid = w.expect_connack().await;
    let msg = publish(w.etid, w.etid, 0, b"to myself");
    w.send(&msg).await;
    assert_eq!(w.recv().await, msg);
    b.stop().await;
}

#[tokio::test]
async fn plain_tcp_to_a_tls_broker_is_dropped_and_traced() {
    let (b, _cert) = tls_broker().await;
    let mut events = b.broker.events();
    let mut c = RawClient {
        io: Box::new(TcpStream::connect(b.addr).await.expect("connect")),
        buf: Default::default(),
        etid: 0,
    };
    c.write(RAW_REQUEST).await;
    // The broker answers with a TLS alert at most, never an SMQ packet.
    let seen = events_until(&mut events, Kind::Reject).await;
    assert!(
        seen.last()
            .and_then(|r| r.event.reason.as_deref())
            .is_some_and(|why| why.contains("TLS")),
        "{seen:?}"
    );
    b.stop().await;
}

/// When the broker closes a raw TLS connection (here a takeover by the same
/// UID) it ends TLS properly (close_notify): the client reads a clean end of
/// stream, not an unexpected EOF.
#[tokio::test]
async fn broker_closing_a_raw_tls_connection_sends_close_notify() {
    let (b, cert) = tls_broker().await;
    let mut old = RawClient::open_on(Box::new(tls_stream(b.addr, &cert).await)).await;
    old.send(&connect_packet("tls-takeover")).await;
    old.etid = old.expect_connack().await;
    let mut new = RawClient::open_on(Box::new(tls_stream(b.addr, &cert).await)).await;
    new.send(&connect_packet("tls-takeover")).await;
    new.etid = new.expect_connack().await;
    assert_eq!(
        old.recv().await,
        Packet::Disconnect {
            reason: Bytes::from_static(b"reconnect")
        }
    );
    old.expect_closed().await; // panics on a read error such as UnexpectedEof
    b.stop().await;
}
