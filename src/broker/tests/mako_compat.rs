//! Inputs Mako accepts or answers in a particular way (issue 10, "closer to
//! Mako"): LF-only request heads, WebSocket text messages, a Close before
//! Connect, and Close status codes for WebSocket protocol errors.

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::*;

#[tokio::test]
async fn raw_request_head_with_lf_only_line_endings_is_answered() {
    let b = TestBroker::default().await;
    let tcp = TcpStream::connect(b.addr).await.expect("connect");
    let mut c = RawClient {
        io: Box::new(tcp),
        buf: Default::default(),
        etid: 0,
    };
    c.write(b"GET /smq/ HTTP/1.1\nHost: x\nSimpleMQ: 1\nSendSmqHttpResponse: true\n\n")
        .await;
    // Within the test's 5 s limit, where the head timeout is 10 s.
    let head = c.read_head().await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(matches!(c.recv().await, Packet::Init(_)));
    c.send(&connect_packet("lf-only-client")).await;
    c.expect_connack().await;
    b.stop().await;
}

#[tokio::test]
async fn websocket_text_message_after_connect_is_read_as_binary_like_mako() {
    let b = TestBroker::default().await;
    let mut c = WsClient::connect(b.addr, "text-sender").await;
    // Subscribe "Topic" (type 4), then Ping (type 12), both as text messages.
    within("send text", c.ws.send(Message::text("\u{4}Topic")))
        .await
        .expect("send");
    within("send text", c.ws.send(Message::text("\u{c}")))
        .await
        .expect("send");
    match c.recv().await {
        Packet::Suback(a) => {
            assert!(a.accepted());
            assert_eq!(&a.name[..], b"Topic");
        }
        other => panic!("expected a Suback, got {other:?}"),
    }
    assert_eq!(c.recv().await, Packet::Pong);
    b.stop().await;
}

#[tokio::test]
async fn websocket_close_before_connect_is_echoed_with_1000() {
    let b = TestBroker::default().await;
    let mut c = WsClient::open(b.addr).await; // has received Init
    let close = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    within("send close", c.ws.send(Message::Close(Some(close))))
        .await
        .expect("send");
    match within("close echo", c.ws.next()).await {
        Some(Ok(Message::Close(Some(f)))) => assert_eq!(u16::from(f.code), 1000),
        other => panic!("expected Close 1000, got {other:?}"),
    }
    // Then the stream ends, with no Connack.
    assert!(matches!(
        within("end", c.ws.next()).await,
        None | Some(Err(_))
    ));
    b.stop().await;
}

/// A WebSocket connection spoken to byte by byte, so that broken frames can
/// be sent. Returns it after Init and an accepted Connect.
async fn hand_rolled_ws(addr: std::net::SocketAddr, uid: &str) -> (TcpStream, Vec<u8>) {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(
        b"GET /smq/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .expect("upgrade");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(within("101", tcp.read_u8()).await.expect("head"));
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    let (op, init) = read_ws_frame(&mut tcp).await;
    assert_eq!((op, init[0]), (2, 1), "Init in a binary message");
    let connect = connect_packet(uid).to_bytes();
    // Masked with a zero key, as a client must mask.
    let mut frame = vec![0x82, 0x80 | connect.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(&connect);
    tcp.write_all(&frame).await.expect("Connect");
    let (op, connack) = read_ws_frame(&mut tcp).await;
    assert_eq!((op, &connack[..2]), (2, &[3u8, 0][..]), "accepted");
    (tcp, head)
}

/// One unmasked frame from the broker: opcode and payload.
async fn read_ws_frame(tcp: &mut TcpStream) -> (u8, Bytes) {
    let mut h = [0u8; 2];
    within("frame", tcp.read_exact(&mut h))
        .await
        .expect("frame header");
    let len = match h[1] & 0x7f {
        126 => within("len", tcp.read_u16()).await.expect("len") as usize,
        127 => within("len", tcp.read_u64()).await.expect("len") as usize,
        n => n as usize,
    };
    let mut body = vec![0u8; len];
    within("payload", tcp.read_exact(&mut body))
        .await
        .expect("payload");
    (h[0] & 0x0f, Bytes::from(body))
}

#[tokio::test]
async fn websocket_protocol_errors_get_a_close_with_1002_or_1003() {
    let b = TestBroker::default().await;
    let cases: [(&str, Vec<u8>, u16); 4] = [
        ("unmasked frame", vec![0x82, 0x01, 12], 1002),
        ("reserved bits set", vec![0xc2, 0x81, 0, 0, 0, 0, 12], 1002),
        ("unknown opcode 3", vec![0x83, 0x81, 0, 0, 0, 0, 12], 1002),
        (
            "frame above the largest SMQ packet (64-bit length)",
            vec![0x82, 0xff, 0, 0, 0, 0, 0, 1, 0x86, 0xa0, 0, 0, 0, 0],
            1003,
        ),
    ];
    for (i, (what, bytes, code)) in cases.into_iter().enumerate() {
        let (mut tcp, _) = hand_rolled_ws(b.addr, &format!("ws-error-{i:02}")).await;
        tcp.write_all(&bytes).await.expect("bad frame");
        let (op, payload) = read_ws_frame(&mut tcp).await;
        assert_eq!(op, 8, "{what}: a Close frame");
        assert_eq!(
            u16::from_be_bytes([payload[0], payload[1]]),
            code,
            "{what}: status"
        );
        let mut rest = Vec::new();
        let _ = within("close", tcp.read_to_end(&mut rest)).await;
        assert!(
            rest.is_empty(),
            "{what}: nothing after the Close: {rest:02x?}"
        );
    }
    b.stop().await;
}

/// The WebSocket size limit fits the largest SMQ packet and no more: a
/// Publish of the largest payload gets through, a larger message is refused
/// with Close 1003 (Mako's status for a frame it will not take).
#[tokio::test]
async fn largest_packet_passes_over_websocket_and_a_larger_message_gets_close_1003() {
    let b = TestBroker::default().await;
    let mut w = WsClient::connect(b.addr, "ws-largest").await;
    w.send(&Packet::Subscribe {
        topic: Bytes::from_static(b"Large"),
    })
    .await;
    let tid = match w.recv().await {
        Packet::Suback(ack) if ack.status == 0 => ack.tid,
        other => panic!("expected Suback, got {other:?}"),
    };
    let largest = Packet::Publish(Publish {
        tid,
        ptid: w.etid,
        subtid: 0,
        payload: Bytes::from(vec![b'L'; crate::protocol::MAX_PAYLOAD]),
    });
    w.send(&largest).await;
    assert_eq!(w.recv().await, largest, "the largest Publish comes back");
    // 70 000 bytes: above the largest packet (65 533 bytes) and the 1 KiB of
    // slack the limit adds, so only a limit that is off by far lets it in.
    w.send_bytes(Bytes::from(vec![8u8; 70_000])).await;
    loop {
        match within("close", w.ws.next()).await {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(frame.code, CloseCode::from(1003));
                break;
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected Close 1003, got {other:?}"),
        }
    }
    b.stop().await;
}

/// A text message that is not UTF-8 is a WebSocket error: Close 1007.
#[tokio::test]
async fn websocket_text_message_that_is_not_utf8_gets_close_1007() {
    let b = TestBroker::default().await;
    let (mut tcp, _) = hand_rolled_ws(b.addr, "ws-bad-utf8").await;
    // FIN + text, masked with a zero key, two bytes that are no UTF-8.
    tcp.write_all(&[0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe])
        .await
        .expect("bad text");
    let (op, payload) = read_ws_frame(&mut tcp).await;
    assert_eq!(op, 8, "a Close frame");
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1007);
    b.stop().await;
}
