//! The `smqctl broker -v`/`-vv` log lines, pinned over the events of a real
//! broker (TLS, credentials and a topic policy on, so every kind of line
//! occurs). The log is read by operators and scripts: its wording must not
//! change when the broker's event plumbing does.

use std::net::SocketAddr;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::*;
use crate::broker::{Auth, load_tls_config};
use crate::commands::broker::log_line;
use crate::protocol::{Ack, ConnackCode};
use crate::trace::schema;

const SECRET: &str = "log-s3cret";

/// The lines `-v` and `-vv` print for the events seen so far.
#[derive(Default)]
struct Log {
    v: Vec<String>,
    vv: Vec<String>,
}

/// Reads events into `log` until a `-vv` line contains `want`.
async fn until<R: Clone>(
    rx: &mut broadcast::Receiver<R>,
    log: &mut Log,
    line: impl Fn(&R, u8) -> Option<String>,
    want: &str,
) {
    loop {
        let rec = within(want, rx.recv()).await.expect("events open");
        if let Some(l) = line(&rec, 1) {
            log.v.push(peers_masked(&l));
        }
        if let Some(l) = line(&rec, 2) {
            let l = peers_masked(&l);
            let done = l.contains(want);
            log.vv.push(l);
            if done {
                return;
            }
        }
    }
}

/// `peer=127.0.0.1:PORT` with the port (the client's, random) as `*`.
fn peers_masked(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("peer=127.0.0.1:") {
        let (head, tail) = rest.split_at(at + "peer=127.0.0.1:".len());
        out.push_str(head);
        out.push('*');
        rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// Consecutive equal lines once (how many publishes fit before a queue fills
/// depends on the socket buffers).
fn dedup(mut lines: Vec<String>) -> Vec<String> {
    lines.dedup();
    lines
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

async fn raw_tls(b: &TestBroker, cert: &CertificateDer<'static>, uid: &str) -> RawClient {
    let mut c = RawClient::open_on(Box::new(tls_stream(b.addr, cert).await)).await;
    c.send(&connect_with(uid, SECRET)).await;
    c.etid = c.expect_connack().await;
    c
}

/// Sends a packet whose answer is an Ack (Suback, Createack, Createsuback).
pub(super) async fn acked(c: &mut RawClient, p: Packet) -> Ack {
    c.send(&p).await;
    loop {
        match c.recv().await {
            Packet::Suback(a) | Packet::Createack(a) | Packet::Createsuback(a) => return a,
            Packet::Change(_) => continue,
            other => panic!("expected an ack, got {other:?}"),
        }
    }
}

pub(super) fn name(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// Asks to attach a tracer the way `smqctl trace` does.
pub(super) async fn attach(c: &mut RawClient) {
    acked(
        c,
        Packet::Createsub {
            subtopic: name(schema::SUB_EVENTS),
        },
    )
    .await;
    let sub = acked(
        c,
        Packet::Createsub {
            subtopic: name(schema::SUB_ATTACH),
        },
    )
    .await;
    c.send(&publish(1, c.etid, sub.tid, br#"{"v":1,"preview":64}"#))
        .await;
    c.fence().await;
}

#[tokio::test]
async fn verbose_log_lines_are_pinned_for_every_kind_of_broker_event() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).expect("write");
    std::fs::write(&key, ck.signing_key.serialize_pem()).expect("write");
    let tls = load_tls_config(&cert, &key).expect("tls config");
    let cert = ck.cert.der().clone();
    let b = TestBroker::start(BrokerConfig {
        tls: Some(tls.clone()),
        auth: Some(Auth::Shared(SECRET.into())),
        deny_topics: vec!["Secret*".into()],
        ..Default::default()
    })
    .await;
    let mut rx = b.broker.events();
    let mut log = Log::default();
    let line = |r: &std::sync::Arc<_>, v| log_line(r, v);

    // Connect over WebSocket and raw socket, both TLS; a takeover.
    let ws = tls_stream(b.addr, &cert).await;
    let mut w = WsClient::open_on(ws, &format!("wss://localhost:{}/smq/", b.addr.port())).await;
    w.send(&connect_with("ws-client", SECRET)).await;
    w.etid = w.expect_connack().await;
    until(&mut rx, &mut log, line, "connect").await;
    let mut a = raw_tls(&b, &cert, "raw-client").await;
    until(&mut rx, &mut log, line, "connect").await;
    let mut again = raw_tls(&b, &cert, "raw-client").await;
    assert_eq!(again.etid, a.etid, "takeover keeps the ETID");
    until(&mut rx, &mut log, line, "took over").await;
    assert_eq!(
        a.recv().await,
        Packet::Disconnect {
            reason: Bytes::from_static(b"reconnect")
        }
    );

    // Refused: bad credentials, and a handshake that never became SMQ.
    let mut bad = RawClient::open_on(Box::new(tls_stream(b.addr, &cert).await)).await;
    bad.send(&connect_with("bad-secret", "wrong")).await;
    match bad.recv().await {
        Packet::Connack(c) => assert_eq!(c.code, ConnackCode::BadCredentials.as_u8()),
        other => panic!("expected a refusing Connack, got {other:?}"),
    }
    until(&mut rx, &mut log, line, "denied uid").await;
    let mut junk = tls_stream(b.addr, &cert).await;
    tokio::io::AsyncWriteExt::write_all(&mut junk, b"NOT HTTP\r\n\r\n")
        .await
        .expect("write");
    until(&mut rx, &mut log, line, "rejected").await;

    // Topics: subscribe, create, a denied Subscribe and Create, createsub,
    // observe, unobserve, unsubscribe.
    let c = &mut again;
    let t = acked(
        c,
        Packet::Subscribe {
            topic: name("Plant/Temp"),
        },
    )
    .await
    .tid;
    until(&mut rx, &mut log, line, "subscribe").await;
    let created = acked(
        c,
        Packet::Create {
            topic: name("Plant/Created"),
        },
    )
    .await
    .tid;
    until(&mut rx, &mut log, line, "create").await;
    acked(
        c,
        Packet::Subscribe {
            topic: name("Secret/Key"),
        },
    )
    .await;
    until(&mut rx, &mut log, line, "denied Subscribe").await;
    acked(
        c,
        Packet::Create {
            topic: name("SecretToo"),
        },
    )
    .await;
    until(&mut rx, &mut log, line, "denied Create").await;
    let sub = acked(
        c,
        Packet::Createsub {
            subtopic: name("Reading"),
        },
    )
    .await
    .tid;
    until(&mut rx, &mut log, line, "createsub").await;
    c.send(&Packet::Observe { tid: created }).await;
    c.fence().await;
    until(&mut rx, &mut log, line, "observe").await;
    c.send(&Packet::Unobserve { tid: created }).await;
    c.fence().await;
    until(&mut rx, &mut log, line, "unobserve").await;

    // Messages: one delivered, one to nobody, one to an unknown TID.
    w.send(&publish(t, w.etid, sub, b"21.5 C")).await;
    assert_eq!(c.recv().await, publish(t, w.etid, sub, b"21.5 C"));
    until(&mut rx, &mut log, line, "publish").await;
    w.send(&publish(created, w.etid, 0, b"nobody listens"))
        .await;
    until(&mut rx, &mut log, line, "drop").await;
    w.send(&publish(0x0bad_0bad, w.etid, 0, b"lost")).await;
    until(&mut rx, &mut log, line, "unknown tid").await;
    c.send(&Packet::Unsubscribe { tid: t }).await;
    c.fence().await;
    until(&mut rx, &mut log, line, "unsubscribe").await;

    // A tracer from loopback attaches; one from elsewhere is refused.
    let mut tracer = raw_tls(&b, &cert, "tracer-near").await;
    until(&mut rx, &mut log, line, "connect").await;
    attach(&mut tracer).await;
    until(&mut rx, &mut log, line, "tracer attached").await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let local = listener.local_addr().expect("addr");
    let far_cert = cert.clone();
    let client = tokio::spawn(async move {
        let mut c = RawClient::open_on(Box::new(tls_stream(local, &far_cert).await)).await;
        c.send(&connect_with("tracer-far", SECRET)).await;
        c.etid = c.expect_connack().await;
        attach(&mut c).await;
        c
    });
    let (tcp, _) = listener.accept().await.expect("accept");
    let far: SocketAddr = "192.0.2.7:5000".parse().expect("addr");
    tokio::spawn(crate::broker::session::serve(
        b.broker.shared.clone(),
        tcp,
        far,
        Some(TlsAcceptor::from(tls)),
    ));
    let far = within("far tracer", client).await.expect("far tracer");
    until(&mut rx, &mut log, line, "tracer refused").await;

    // A receiver that reads nothing: its queue fills, the rest is dropped.
    let mut slow = raw_tls(&b, &cert, "slow-reader").await;
    let slow_etid = slow.etid;
    until(&mut rx, &mut log, line, "connect").await;
    let q = slow.subscribe("Bulk").await;
    until(&mut rx, &mut log, line, "subscribe").await;
    let big = Bytes::from(vec![b'x'; 60_000]);
    let mut sent = 0;
    while b.broker.stats().queue_full == 0 {
        assert!(sent < 10_000, "the queue never filled");
        b.broker.publish(big.clone(), q, 0);
        sent += 1;
        if sent % 64 == 0 {
            // Keep the log reader within the broadcast capacity.
            while let Ok(rec) = rx.try_recv() {
                for (v, out) in [(1, &mut log.v), (2, &mut log.vv)] {
                    if let Some(l) = line(&rec, v) {
                        out.push(peers_masked(&l));
                    }
                }
            }
        }
    }
    // The message's own drop, then the receiver's miss (as the Mako hook orders them).
    until(&mut rx, &mut log, line, "drop").await;
    until(&mut rx, &mut log, line, "queue full").await;

    // Client Disconnect, then shutdown closes the rest (in no set order).
    w.send(&Packet::Disconnect {
        reason: Bytes::new(),
    })
    .await;
    until(&mut rx, &mut log, line, "close").await;
    let left = b.broker.peers().len();
    assert_eq!(left, 4, "{:?}", b.broker.peers());
    b.broker.shutdown_all("maintenance window");
    until(&mut rx, &mut log, line, "shutdown").await;
    for _ in 0..left {
        until(&mut rx, &mut log, line, "close").await;
    }
    b.stop().await;
    drop(slow);

    let (ws, raw, near, far) = (w.etid, again.etid, tracer.etid, far.etid);
    let (attach_events, attach) = (
        subtid_of(&log.vv, schema::SUB_EVENTS),
        subtid_of(&log.vv, schema::SUB_ATTACH),
    );
    let x60 = "x".repeat(60);
    let mut want: Vec<String> = vec![
        format!(r#"connect etid={ws} uid="ws-client" info="test" peer=127.0.0.1:* transport=ws+tls"#),
        format!(r#"connect etid={raw} uid="raw-client" info="test" peer=127.0.0.1:* transport=raw+tls"#),
        format!(r#"close etid={raw} uid="raw-client" reason=reconnect"#),
        format!(r#"connect etid={raw} uid="raw-client" info="test" peer=127.0.0.1:* transport=raw+tls (took over the same UID)"#),
        r#"denied uid="bad-secret" peer=127.0.0.1:* code=3 reason="bad credentials""#.into(),
        "rejected peer=127.0.0.1:*: malformed HTTP request: request line is not `METHOD target HTTP/1.x`".into(),
        format!(r#"subscribe etid={raw} "Plant/Temp" tid={t}"#),
        format!(r#"create etid={raw} "Plant/Created" tid={created}"#),
        format!(r#"denied Subscribe of "Secret/Key" to etid={raw}"#),
        format!(r#"denied Create of "SecretToo" to etid={raw}"#),
        format!(r#"createsub etid={raw} "Reading" subtid={sub}"#),
        format!("observe etid={raw} tid={created}"),
        format!("unobserve etid={raw} tid={created}"),
        format!(r#"publish ptid={ws} tid={t} subtid={sub} 6 bytes to 1 receiver(s): "21.5 C""#),
        format!("drop ptid={ws} tid={created} subtid=0 14 bytes (no subscribers)"),
        format!("drop ptid={ws} tid={} subtid=0 4 bytes (unknown tid)", 0x0bad_0bad_u32),
        format!("unsubscribe etid={raw} tid={t}"),
        format!(r#"connect etid={near} uid="tracer-near" info="test" peer=127.0.0.1:* transport=raw+tls"#),
        format!(r#"createsub etid={near} "$smqctl.trace" subtid={attach_events}"#),
        format!(r#"createsub etid={near} "$smqctl.trace.attach" subtid={attach}"#),
        format!(r#"tracer attached etid={near} uid="tracer-near" peer=127.0.0.1:*"#),
        format!(r#"connect etid={far} uid="tracer-far" info="test" peer=192.0.2.7:5000 transport=raw+tls"#),
        format!(r#"createsub etid={far} "$smqctl.trace" subtid={attach_events}"#),
        format!(r#"createsub etid={far} "$smqctl.trace.attach" subtid={attach}"#),
        format!(r#"tracer refused etid={far} uid="tracer-far" peer=192.0.2.7:5000 (not in --trace-allow)"#),
        format!(r#"connect etid={} uid="slow-reader" info="test" peer=127.0.0.1:* transport=raw+tls"#, slow_etid),
        format!(r#"subscribe etid={slow_etid} "Bulk" tid={q}"#),
        format!(r#"publish ptid=1 tid={q} subtid=0 60000 bytes to 1 receiver(s): "{x60}"…"#),
        format!("drop ptid=1 tid={q} subtid=0 60000 bytes (no subscriber could take it (queue full or closing))"),
        format!("queue full: etid={slow_etid} missed a message for tid={q} (1 so far)"),
        format!(r#"close etid={ws} uid="ws-client" reason=client sent Disconnect"#),
        "shutdown: maintenance window".into(),
    ];
    let mut closes: Vec<String> = [
        (raw, "raw-client"),
        (near, "tracer-near"),
        (far, "tracer-far"),
        (slow_etid, "slow-reader"),
    ]
    .iter()
    .map(|(e, u)| format!(r#"close etid={e} uid="{u}" reason=maintenance window"#))
    .collect();
    closes.sort();
    want.extend(closes);
    let sorted_tail = |mut lines: Vec<String>| {
        let at = lines
            .iter()
            .position(|l| l.starts_with("shutdown"))
            .expect("shutdown line");
        lines[at + 1..].sort();
        lines
    };
    let vv = sorted_tail(dedup(log.vv));
    assert_eq!(vv, want, "-vv lines");
    // -v: only the lifecycle and refusals, the same words.
    let every = [
        "publish ",
        "drop ",
        "subscribe ",
        "unsubscribe ",
        "create ",
        "createsub ",
        "observe ",
        "unobserve ",
    ];
    want.retain(|l| !every.iter().any(|p| l.starts_with(p)));
    let v = sorted_tail(dedup(log.v));
    assert_eq!(v, want, "-v lines");
}

/// The sub-topic ID a `createsub` line gave `name`.
fn subtid_of(lines: &[String], name: &str) -> String {
    let needle = format!(" {name:?} subtid=");
    lines
        .iter()
        .find_map(|l| l.split_once(&needle).map(|(_, id)| id.to_string()))
        .unwrap_or_else(|| panic!("no createsub of {name} in {lines:#?}"))
}
