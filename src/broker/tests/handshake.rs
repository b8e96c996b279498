//! HTTP bootstrap, Init, Connect/Connack and authentication.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;
use crate::broker::Auth;
use crate::protocol::framing::encode_raw;
use crate::protocol::{Connack, ConnackCode, Init};

/// Reads everything until the broker closes.
async fn read_to_close(tcp: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    within("close", tcp.read_to_end(&mut all))
        .await
        .expect("read");
    all
}

#[tokio::test]
async fn raw_request_with_send_response_gets_mako_shaped_head_then_init() {
    let b = TestBroker::default().await;
    let mut c = RawClient {
        io: Box::new(TcpStream::connect(b.addr).await.expect("connect")),
        buf: Default::default(),
        etid: 0,
    };
    c.write(RAW_REQUEST).await;
    let head = c.read_head().await;
    let lines: Vec<&str> = head.split("\r\n").collect();
    assert_eq!(lines.len(), 7, "{head:?}");
    assert_eq!(lines[0], "HTTP/1.1 200 OK");
    let date = lines[1].strip_prefix("Date: ").expect("Date line");
    assert!(httpdate::parse_http_date(date).is_ok(), "{date}");
    assert_eq!(
        &lines[2..],
        [
            "Server: smqctl",
            "SmqBroker: true",
            "Keep-Alive: Keep-Alive",
            "",
            ""
        ]
    );
    // Init: 00 11 length | 01 Init | 01 version | 4-byte seed | "127.0.0.1"
    let init = c.recv_frame().await;
    assert_eq!(&init[..4], &hex("00 11 01 01")[..]);
    assert_eq!(&init[8..], b"127.0.0.1");
    b.stop().await;
}

#[tokio::test]
async fn raw_request_without_send_response_gets_init_first() {
    let b = TestBroker::default().await;
    let mut tcp = TcpStream::connect(b.addr).await.expect("connect");
    tcp.write_all(RAW_REQUEST_QUIET).await.expect("write");
    let mut first = [0u8; 4];
    within("init", tcp.read_exact(&mut first))
        .await
        .expect("read");
    assert_eq!(
        first.to_vec(),
        hex("00 11 01 01"),
        "no HTTP head, Init right away"
    );
    b.stop().await;
}

#[tokio::test]
async fn packets_sent_together_with_the_request_head_are_used() {
    let b = TestBroker::default().await;
    let mut tcp = TcpStream::connect(b.addr).await.expect("connect");
    let mut bytes = RAW_REQUEST_QUIET.to_vec();
    bytes.extend_from_slice(&encode_raw(&connect_packet("early-bird")).expect("fits"));
    bytes.extend_from_slice(&encode_raw(&Packet::Ping).expect("fits"));
    tcp.write_all(&bytes).await.expect("write");
    let mut c = RawClient {
        io: Box::new(tcp),
        buf: Default::default(),
        etid: 0,
    };
    assert!(matches!(c.recv().await, Packet::Init(_)));
    c.expect_connack().await;
    assert_eq!(c.recv().await, Packet::Pong);
    b.stop().await;
}

#[tokio::test]
async fn websocket_upgrade_gets_101_and_init_in_a_binary_message() {
    let b = TestBroker::default().await;
    // WsClient::open checks the 101 status, the Server header and the Init.
    let mut c = WsClient::open(b.addr).await;
    c.send(&connect_packet("ws-client-1")).await;
    let etid = c.expect_connack().await;
    assert!(etid != 0 && etid != 1);
    assert!(c.fence().await.is_empty());
    b.stop().await;
}

#[tokio::test]
async fn websocket_101_head_has_mako_header_lines() {
    let b = TestBroker::default().await;
    let mut tcp = TcpStream::connect(b.addr).await.expect("connect");
    tcp.write_all(
        b"GET /smq/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .expect("write");
    let mut c = RawClient {
        io: Box::new(tcp),
        buf: Default::default(),
        etid: 0,
    };
    let head = c.read_head().await;
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\nDate: "),
        "{head}"
    );
    for line in [
        "Server: smqctl\r\n",
        "Upgrade: websocket\r\n",
        "Connection: Upgrade\r\n",
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
    ] {
        assert!(head.contains(line), "{line:?} missing in {head:?}");
    }
    // First WebSocket frame: 82 = FIN + binary, 0f = 15-byte Init, unmasked.
    while c.buf.len() < 4 {
        assert!(c.fill().await, "closed");
    }
    assert_eq!(c.buf[..4].to_vec(), hex("82 0f 01 01"));
    b.stop().await;
}

#[tokio::test]
async fn plain_http_get_gets_404_explaining_smq_and_close() {
    let b = TestBroker::default().await;
    let mut tcp = TcpStream::connect(b.addr).await.expect("connect");
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let answer = String::from_utf8(read_to_close(&mut tcp).await).expect("utf8");
    assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
    assert!(answer.contains("Connection: close\r\n"));
    assert!(
        answer.contains("SMQ broker") && answer.contains("SimpleMQ"),
        "{answer}"
    );
    b.stop().await;
}

#[tokio::test]
async fn malformed_http_gets_400() {
    let b = TestBroker::default().await;
    let mut tcp = TcpStream::connect(b.addr).await.expect("connect");
    tcp.write_all(b"\x00\x03\x0c\r\n\r\n").await.expect("write");
    let answer = String::from_utf8_lossy(&read_to_close(&mut tcp).await).into_owned();
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    b.stop().await;
}

#[tokio::test]
async fn connect_v1_and_v2_are_accepted_with_distinct_etids() {
    let b = TestBroker::default().await;
    let a = RawClient::connect(b.addr, "capture-A").await;
    let mut c = RawClient::open(b.addr).await;
    // Transcript: v2 Connect of capture-B (max packet size 0, no credentials).
    c.write(&hex("00 11 02 02 00 00 09 63 61 70 74 75 72 65 2d 42 00"))
        .await;
    let etid = c.expect_connack().await;
    assert_ne!(a.etid, etid);
    let peer = b.broker.etid2peer(etid).expect("peer known");
    assert_eq!(peer.uid, "capture-B");
    assert_eq!(b.broker.peers().len(), 2);
    b.stop().await;
}

#[tokio::test]
async fn uid_of_five_bytes_is_refused_with_exact_connack_1() {
    let b = TestBroker::default().await;
    let mut c = RawClient::open(b.addr).await;
    // Transcript F: Connect v1 uid="short"
    c.write(&hex("00 0b 02 01 05 73 68 6f 72 74 00")).await;
    assert_eq!(
        c.recv_frame().await.to_vec(),
        hex("00 08 03 01 00 00 00 00")
    );
    c.expect_closed().await;
    b.stop().await;
}

#[tokio::test]
async fn bad_version_or_other_first_packet_is_refused_with_connack_1() {
    let b = TestBroker::default().await;
    for first in [
        hex("00 0c 02 03 06 61 62 63 64 65 66 00"), // Connect version 3
        hex("00 03 0c"),                            // Ping instead of Connect
    ] {
        let mut c = RawClient::open(b.addr).await;
        c.write(&first).await;
        assert_eq!(
            c.recv().await,
            Packet::Connack(Connack::refused(ConnackCode::BadProtocol, Bytes::new()))
        );
        c.expect_closed().await;
    }
    // A Connect without its UID length byte makes Mako's Lua fail: no Connack.
    let mut c = RawClient::open(b.addr).await;
    c.write(&hex("00 04 02 01")).await;
    c.expect_closed().await;
    b.stop().await;
}

#[tokio::test]
async fn connect_shorter_than_its_length_bytes_is_accepted_like_mako() {
    // Mako reads the UID with string.sub and checks the declared length (9 > 5).
    let b = TestBroker::default().await;
    let mut c = RawClient::open(b.addr).await;
    c.write(&hex("00 07 02 01 09 61 62 63")).await; // uid length 9, only "abc"
    let Packet::Connack(ack) = c.recv().await else {
        panic!("Connack expected")
    };
    assert_eq!(ack.code, 0);
    b.stop().await;
}

#[tokio::test]
async fn no_connect_in_time_gets_connack_2() {
    let b = TestBroker::start(BrokerConfig {
        connect_timeout: Duration::from_millis(100),
        ..Default::default()
    })
    .await;
    let mut c = RawClient::open(b.addr).await;
    assert_eq!(
        c.recv_frame().await.to_vec(),
        hex("00 08 03 02 00 00 00 00")
    );
    c.expect_closed().await;
    b.stop().await;
}

#[tokio::test]
async fn shared_secret_refuses_wrong_credentials_with_connack_3_and_reason() {
    let b = TestBroker::start(BrokerConfig {
        auth: Some(Auth::Shared("letmein".into())),
        ..Default::default()
    })
    .await;
    let mut events = b.broker.events();
    let mut bad = RawClient::open(b.addr).await;
    bad.send(&connect_with("device-01", "guess")).await;
    assert_eq!(
        bad.recv().await,
        Packet::Connack(Connack::refused(
            ConnackCode::BadCredentials,
            "bad credentials"
        ))
    );
    bad.expect_closed().await;
    let seen = events_until(&mut events, Kind::Deny).await;
    let denied = format!("{:?}", seen.last());
    assert!(
        denied.contains("device-01") && denied.contains("Connack(3)"),
        "{denied}"
    );
    assert!(
        !denied.contains("guess"),
        "credentials must not appear in traces"
    );

    let mut good = RawClient::open(b.addr).await;
    good.send(&connect_with("device-01", "letmein")).await;
    good.expect_connack().await;
    b.stop().await;
}

#[tokio::test]
async fn users_map_checks_secret_per_uid() {
    let users = HashMap::from([("device-02".to_string(), "pw2".to_string())]);
    let b = TestBroker::start(BrokerConfig {
        auth: Some(Auth::Users(users)),
        ..Default::default()
    })
    .await;
    for (uid, cred, ok) in [
        ("device-02", "pw2", true),
        ("device-02", "pw1", false),
        ("device-99", "pw2", false),
    ] {
        let mut c = RawClient::open(b.addr).await;
        c.send(&connect_with(uid, cred)).await;
        match c.recv().await {
            Packet::Connack(ack) => assert_eq!(ack.code == 0, ok, "{uid}/{cred}: {ack:?}"),
            other => panic!("expected Connack, got {other:?}"),
        }
    }
    b.stop().await;
}

#[tokio::test]
async fn init_carries_a_fresh_seed_and_the_client_ip() {
    let b = TestBroker::default().await;
    let mut seeds = Vec::new();
    for _ in 0..3 {
        let mut tcp = TcpStream::connect(b.addr).await.expect("connect");
        tcp.write_all(RAW_REQUEST_QUIET).await.expect("write");
        let mut c = RawClient {
            io: Box::new(tcp),
            buf: Default::default(),
            etid: 0,
        };
        let Packet::Init(Init {
            seed, client_ip, ..
        }) = c.recv().await
        else {
            panic!("expected Init")
        };
        assert_eq!(&client_ip[..], b"127.0.0.1");
        seeds.push(seed);
    }
    seeds.dedup();
    assert!(seeds.len() > 1, "seeds are random: {seeds:?}");
    b.stop().await;
}

#[tokio::test]
async fn rndtid_broker_has_random_server_etid() {
    let b = TestBroker::start(BrokerConfig {
        rndtid: true,
        ..Default::default()
    })
    .await;
    assert!(!matches!(b.broker.server_etid(), 0 | 1));
    b.stop().await;
}

/// A wss:// or https:// client on the plain port: the broker closes its side
/// at once but keeps reading (and discarding) what the client still sends, so
/// the client sees a clean end of stream, not a reset, and can still write.
#[tokio::test]
async fn tls_hello_on_the_plain_port_gets_a_clean_close_not_a_reset() {
    let b = TestBroker::default().await;
    let mut tcp = TcpStream::connect(b.addr).await.expect("connect");
    // A ClientHello record header, then far more than the broker reads for a
    // request head: most of it is still unread when the broker decides.
    let mut hello = vec![0x16, 0x03, 0x01, 0x02, 0x00, 0x01];
    hello.resize(64 * 1024, 0);
    within("write hello", tcp.write_all(&hello))
        .await
        .expect("write hello");
    let mut got = Vec::new();
    let end = within("end of stream", tcp.read_to_end(&mut got)).await;
    assert!(
        matches!(end, Ok(0)),
        "want a clean end of stream with nothing sent, got {end:?} after {} byte(s)",
        got.len()
    );
    // Our side is still open and the broker still drains it.
    within("write after the close", tcp.write_all(&[0u8; 1024]))
        .await
        .expect("the broker still reads after closing its side");
    drop(tcp);
    b.stop().await;
}

/// Six bytes is the shortest UID the broker takes (five is refused above).
#[tokio::test]
async fn uid_of_six_bytes_is_accepted() {
    let b = TestBroker::default().await;
    let c = RawClient::connect(b.addr, "six-ch").await;
    assert_eq!(
        b.broker.etid2peer(c.etid).map(|p| p.uid),
        Some("six-ch".to_string())
    );
    b.stop().await;
}
