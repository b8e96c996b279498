//! The client against a scripted broker that answers with the bytes recorded
//! from a real Mako broker (`captures/mako-raw-transcript.txt`, connection A).
//! Every packet the client sends must equal the recorded client bytes.
//! The last two tests script how a connection ends: Disconnect, our side's
//! shutdown, the broker's close awaited (and given up on after a grace).

use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{Client, ClientOptions, Dest, Event};
use crate::transport::Endpoint;

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).expect("hex"))
        .collect()
}

async fn read_frame(s: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).await.expect("length");
    let mut body = vec![0u8; u16::from_be_bytes(len) as usize - 2];
    s.read_exact(&mut body).await.expect("body");
    let mut all = len.to_vec();
    all.extend(body);
    all
}

/// Reads one frame and checks it against the transcript's bytes.
async fn expect(s: &mut TcpStream, what: &str, recorded: &str) {
    let got = tokio::time::timeout(Duration::from_secs(5), read_frame(s))
        .await
        .unwrap_or_else(|_| panic!("client did not send {what}"));
    assert_eq!(got, hex(recorded), "{what}");
}

#[tokio::test]
async fn client_sends_exactly_what_mako_recorded() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let broker = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let mut head = vec![0u8; 512];
        let n = s.read(&mut head).await.expect("request");
        let request = String::from_utf8_lossy(&head[..n]).to_string();
        assert_eq!(
            request,
            format!(
                "GET /smq/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nSimpleMQ: 1\r\nSendSmqHttpResponse: true\r\n\r\n"
            )
        );
        // [A] B->C head and Init, exactly as recorded.
        s.write_all(b"HTTP/1.1 200 OK\r\nDate: Sun, 22 Nov 2026 01:31:35 GMT\r\nServer: BarracudaServer.com (Posix)\r\nSmqBroker: true\r\nKeep-Alive: Keep-Alive\r\n\r\n").await.expect("head");
        s.write_all(&hex("00 11 01 01 64 44 7b bc 31 32 37 2e 30 2e 30 2e 31"))
            .await
            .expect("init");
        expect(
            &mut s,
            "Connect",
            "00 19 02 01 09 63 61 70 74 75 72 65 2d 41 00 74 72 61 6e 73 63 72 69 70 74",
        )
        .await;
        s.write_all(&hex("00 08 03 00 42 5e 2d b5"))
            .await
            .expect("connack");
        expect(
            &mut s,
            "Subscribe",
            "00 0e 04 44 65 76 69 63 65 53 74 61 74 65",
        )
        .await;
        s.write_all(&hex(
            "00 13 05 00 0a 48 cc df 44 65 76 69 63 65 53 74 61 74 65",
        ))
        .await
        .expect("suback");
        expect(
            &mut s,
            "Createsub",
            "00 0d 11 53 65 74 43 68 61 72 67 65 72",
        )
        .await;
        s.write_all(&hex(
            "00 12 12 00 56 e2 1f 5f 53 65 74 43 68 61 72 67 65 72",
        ))
        .await
        .expect("createsuback");
        // B's publish fanned out to A, then a direct message to A.
        s.write_all(&hex(
            "00 1a 08 0a 48 cc df 9b c1 dc 36 56 e2 1f 5f 7b 22 4f 6e 22 3a 74 72 75 65 7d",
        ))
        .await
        .expect("fan-out");
        s.write_all(&hex(
            "00 1b 08 42 5e 2d b5 9b c1 dc 36 00 00 00 00 64 69 72 65 63 74 20 68 65 6c 6c 6f",
        ))
        .await
        .expect("direct");
        expect(&mut s, "Unsubscribe", "00 07 09 0a 48 cc df").await;
        expect(&mut s, "Disconnect", "00 03 0b").await;
    });

    let mut opts =
        ClientOptions::new(Endpoint::parse(&format!("http://127.0.0.1:{port}/smq/")).expect("url"));
    opts.uid = Some("capture-A".into());
    opts.info = "transcript".into();
    let (client, mut events) = Client::connect(&opts).await.expect("handshake");
    assert_eq!(client.etid(), 0x425e2db5);
    let mut sub = client.subscribe("DeviceState", None).await.expect("suback");
    assert_eq!(sub.info.tid, 0x0a48ccdf);
    assert_eq!(
        client.createsub("SetCharger").await.expect("createsuback"),
        0x56e21f5f
    );

    let fanned = sub.rx.recv().await.expect("fan-out");
    assert_eq!(fanned.topic.as_deref(), Some("DeviceState"));
    assert_eq!(fanned.subtopic.as_deref(), Some("SetCharger"));
    assert_eq!(
        (fanned.ptid, &fanned.payload[..]),
        (0x9bc1dc36, &br#"{"On":true}"#[..])
    );
    let Some(Event::Message(direct)) = events.recv().await else {
        panic!("direct message expected on the event stream")
    };
    assert!(direct.direct);
    assert_eq!(direct.topic.as_deref(), Some("self"));
    assert_eq!(&direct.payload[..], b"direct hello");

    client.unsubscribe(sub.info.tid).await.expect("unsubscribe");
    client.disconnect("").await;
    broker.await.expect("scripted broker saw every packet");
}

#[tokio::test]
async fn publish_with_subtopic_matches_the_recorded_bytes() {
    // Connection B of the transcript: Create, Createsub, then the Publish.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let broker = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let mut head = vec![0u8; 512];
        let _ = s.read(&mut head).await.expect("request");
        s.write_all(b"HTTP/1.1 200 OK\r\nSmqBroker: true\r\n\r\n")
            .await
            .expect("head");
        s.write_all(&hex("00 11 01 01 9d 78 bf 57 31 32 37 2e 30 2e 30 2e 31"))
            .await
            .expect("init");
        // v2 Connect as RTL's C client sends it.
        expect(
            &mut s,
            "Connect v2",
            "00 11 02 02 00 00 09 63 61 70 74 75 72 65 2d 42 00",
        )
        .await;
        s.write_all(&hex("00 08 03 00 9b c1 dc 36"))
            .await
            .expect("connack");
        expect(
            &mut s,
            "Create",
            "00 0e 06 44 65 76 69 63 65 53 74 61 74 65",
        )
        .await;
        s.write_all(&hex(
            "00 13 07 00 0a 48 cc df 44 65 76 69 63 65 53 74 61 74 65",
        ))
        .await
        .expect("createack");
        expect(
            &mut s,
            "Createsub",
            "00 0d 11 53 65 74 43 68 61 72 67 65 72",
        )
        .await;
        s.write_all(&hex(
            "00 12 12 00 56 e2 1f 5f 53 65 74 43 68 61 72 67 65 72",
        ))
        .await
        .expect("createsuback");
        expect(
            &mut s,
            "Publish",
            "00 1a 08 0a 48 cc df 9b c1 dc 36 56 e2 1f 5f 7b 22 4f 6e 22 3a 74 72 75 65 7d",
        )
        .await;
        expect(&mut s, "Observe", "00 07 0e 42 5e 2d b5").await;
        expect(&mut s, "Ping", "00 03 0c").await;
        s.write_all(&hex("00 03 0d")).await.expect("pong");
        // More Pings may come on a slow machine before the Disconnect.
        loop {
            let frame = read_frame(&mut s).await;
            if frame == hex("00 03 0c") {
                s.write_all(&hex("00 03 0d")).await.expect("pong");
                continue;
            }
            assert_eq!(frame, hex("00 06 0b 62 79 65"), "Disconnect with reason");
            break;
        }
    });
    let mut opts =
        ClientOptions::new(Endpoint::parse(&format!("http://127.0.0.1:{port}/smq/")).expect("url"));
    opts.uid = Some("capture-B".into());
    opts.connect_v2 = true;
    opts.ping_interval = Duration::from_millis(200);
    let (client, _events) = Client::connect(&opts).await.expect("handshake");
    client
        .publish(
            Dest::Topic("DeviceState"),
            Some("SetCharger"),
            Bytes::from_static(br#"{"On":true}"#),
        )
        .await
        .expect("publish");
    client.observe(0x425e2db5).await.expect("observe");
    client.flush().await.expect("flush");
    // Idle long enough for the keepalive Ping; the scripted broker answers Pong.
    tokio::time::sleep(Duration::from_millis(400)).await;
    client.disconnect("bye").await;
    broker.await.expect("scripted broker saw every packet");
}

/// A scripted raw broker up to Connack; returns the socket.
async fn handshake_only(listener: &TcpListener) -> TcpStream {
    let (mut s, _) = listener.accept().await.expect("accept");
    let mut head = vec![0u8; 512];
    let _ = s.read(&mut head).await.expect("request");
    s.write_all(b"HTTP/1.1 200 OK\r\nSmqBroker: true\r\n\r\n")
        .await
        .expect("head");
    s.write_all(&hex("00 11 01 01 64 44 7b bc 31 32 37 2e 30 2e 30 2e 31"))
        .await
        .expect("init");
    let _connect = read_frame(&mut s).await;
    s.write_all(&hex("00 08 03 00 42 5e 2d b5"))
        .await
        .expect("connack");
    s
}

#[tokio::test]
async fn disconnect_waits_for_the_brokers_close_instead_of_dropping_the_socket() {
    // The defect: the process left before its Disconnect was out, or closed
    // with unread bytes (a reset), and the broker logged "Connection reset".
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
    let broker = tokio::spawn(async move {
        let mut s = handshake_only(&listener).await;
        expect(&mut s, "Disconnect", "00 03 0b").await;
        // Then our side of the close: EOF (TCP shutdown), with the client
        // still there to read what the broker says last.
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest))
            .await
            .expect("the client shut its side down after Disconnect")
            .expect("no reset");
        assert_eq!(n, 0, "nothing after Disconnect");
        // A last packet (a Ping) the client must read and discard, then our close.
        s.write_all(&hex("00 03 0c")).await.expect("last packet");
        drop(s);
        let _ = closed_tx.send(());
    });
    let opts =
        ClientOptions::new(Endpoint::parse(&format!("http://127.0.0.1:{port}/smq/")).expect("url"));
    let (client, _events) = Client::connect(&opts).await.expect("handshake");
    let mut closed_rx = closed_rx;
    client.disconnect("").await;
    assert!(
        closed_rx.try_recv().is_ok(),
        "disconnect() returned before the broker had closed its side"
    );
    broker.await.expect("scripted broker");
}

#[tokio::test]
async fn disconnect_gives_up_on_a_broker_that_never_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let broker = tokio::spawn(async move {
        let mut s = handshake_only(&listener).await;
        expect(&mut s, "Disconnect", "00 03 0b").await;
        // Keeps the socket open until the test is over.
        let _ = done_rx.await;
        drop(s);
    });
    let opts =
        ClientOptions::new(Endpoint::parse(&format!("http://127.0.0.1:{port}/smq/")).expect("url"));
    let (client, _events) = Client::connect(&opts).await.expect("handshake");
    let started = std::time::Instant::now();
    tokio::time::timeout(
        super::conn::CLOSE_GRACE + Duration::from_secs(3),
        client.disconnect(""),
    )
    .await
    .expect("disconnect() is bounded by CLOSE_GRACE");
    assert!(started.elapsed() >= super::conn::CLOSE_GRACE / 2);
    let _ = done_tx.send(());
    broker.await.expect("scripted broker");
}

#[tokio::test]
async fn messages_right_behind_the_suback_reach_the_subscription_not_the_event_stream() {
    // The defect (`bench pubsub --embedded` lost its first messages now and
    // then): subscribe() sent its route to the connection task only after the
    // Suback had been handled, so a Publish read right behind the Suback found
    // no route and went to the event stream. The scripted broker sends the
    // Suback and three messages in one write; on this single-threaded runtime
    // the connection task reads them all before the caller runs again.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let broker = tokio::spawn(async move {
        let mut s = handshake_only(&listener).await;
        expect(
            &mut s,
            "Subscribe",
            "00 0e 04 44 65 76 69 63 65 53 74 61 74 65",
        )
        .await;
        let mut burst = hex("00 13 05 00 0a 48 cc df 44 65 76 69 63 65 53 74 61 74 65");
        for n in [b'1', b'2', b'3'] {
            // Publish to 0a48ccdf from 9bc1dc36, no sub-topic, payload "m<n>".
            burst.extend(hex("00 11 08 0a 48 cc df 9b c1 dc 36 00 00 00 00 6d"));
            burst.push(n);
        }
        s.write_all(&burst).await.expect("suback and messages");
        expect(&mut s, "Disconnect", "00 03 0b").await;
    });
    let opts =
        ClientOptions::new(Endpoint::parse(&format!("http://127.0.0.1:{port}/smq/")).expect("url"));
    let (client, mut events) = Client::connect(&opts).await.expect("handshake");
    let mut sub = client.subscribe("DeviceState", None).await.expect("suback");
    assert_eq!(sub.info.tid, 0x0a48ccdf);
    for want in ["m1", "m2", "m3"] {
        let got = tokio::time::timeout(Duration::from_secs(5), sub.rx.recv()).await;
        let Ok(Some(m)) = got else {
            let mut elsewhere = Vec::new();
            while let Ok(Event::Message(m)) = events.try_recv() {
                elsewhere.push(String::from_utf8_lossy(&m.payload).into_owned());
            }
            panic!("{want} never reached the subscription; the event stream got {elsewhere:?}");
        };
        assert_eq!(&m.payload[..], want.as_bytes());
    }
    client.disconnect("").await;
    broker.await.expect("scripted broker");
}

#[tokio::test]
async fn traffic_postpones_the_keepalive_ping_and_silence_brings_it() {
    // The keepalive timer is reset lazily (it fires at a deadline traffic
    // may have moved on, then looks at the real one): while the broker
    // keeps sending, no Ping may go out; once it is silent, one must.
    let interval = Duration::from_millis(1500);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (quiet_tx, quiet_rx) = tokio::sync::oneshot::channel::<()>();
    let broker = tokio::spawn(async move {
        let mut s = handshake_only(&listener).await;
        // A Pong every 100 ms for twice the interval: traffic all along.
        let busy = std::time::Instant::now();
        while busy.elapsed() < interval * 2 {
            s.write_all(&hex("00 03 0d")).await.expect("pong");
            let early = tokio::time::timeout(Duration::from_millis(100), read_frame(&mut s)).await;
            assert!(
                early.is_err(),
                "the client sent {early:?} {:?} into a stream of traffic (interval {interval:?})",
                busy.elapsed()
            );
        }
        let silent = std::time::Instant::now();
        let ping = tokio::time::timeout(interval * 4, read_frame(&mut s))
            .await
            .expect("a Ping once the broker went silent");
        assert_eq!(ping, hex("00 03 0c"), "Ping");
        assert!(
            silent.elapsed() >= interval - Duration::from_millis(200),
            "Ping {:?} into the silence",
            silent.elapsed()
        );
        s.write_all(&hex("00 03 0d")).await.expect("pong");
        let _ = quiet_tx.send(());
        expect(&mut s, "Disconnect", "00 03 0b").await;
    });
    let mut opts =
        ClientOptions::new(Endpoint::parse(&format!("http://127.0.0.1:{port}/smq/")).expect("url"));
    opts.ping_interval = interval;
    let (client, _events) = Client::connect(&opts).await.expect("handshake");
    tokio::time::timeout(Duration::from_secs(30), quiet_rx)
        .await
        .expect("the broker's script ran within 30 s")
        .expect("the broker's script ran");
    assert!(!client.is_closed(), "a Pong answered the Ping");
    client.disconnect("").await;
    broker.await.expect("scripted broker");
}
