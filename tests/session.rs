//! Connection lifetime: reconnect after the broker drops us (re-running the
//! subscriptions), and keepalive giving up on a silent broker.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::harness::{Running, TestBroker, json_lines, publish, ready_sub, smqctl, text};

#[test]
fn sub_reconnects_and_subscribes_again_after_the_broker_drops_it() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let (mut sub, etid) = ready_sub(&url, &["Updates", "-C", "1", "-W", "20s"]);
    broker.broker.shutdown_all("maintenance");
    let line = sub.stderr_line("reconnecting in");
    assert!(line.contains("maintenance"), "{line}");
    let again = sub.stderr_line("reconnected to");
    assert!(again.contains("subscribed to Updates"), "{again}");
    // The new subscription works: a message published now arrives.
    publish(&url, &["Updates", "after the outage"]);
    let out = sub.wait();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    assert_eq!(lines[0]["payload"], "after the outage");
    let _ = etid;
}

#[test]
fn no_reconnect_exits_with_code_6_when_the_broker_drops_us() {
    let broker = TestBroker::start();
    let url = broker.url("http");
    let (sub, _) = ready_sub(&url, &["Updates", "--no-reconnect"]);
    broker.broker.shutdown_all("going away");
    let out = sub.wait();
    assert_eq!(out.status.code(), Some(6));
    assert!(
        text(&out.stderr).contains("going away"),
        "{}",
        text(&out.stderr)
    );
}

/// A broker that completes the raw handshake and then never answers anything.
fn silent_broker() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        if let Some(Ok(mut s)) = listener.incoming().next() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf); // HTTP request
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nSmqBroker: true\r\n\r\n");
            let _ = s.write_all(&[0, 9, 1, 1, 0, 0, 0, 1, b'x']); // Init (length 9)
            let _ = s.read(&mut buf); // Connect
            let _ = s.write_all(&[0, 8, 3, 0, 0, 0, 0, 9]); // Connack ok, ETID 9
            // Swallow everything (the Ping) and never answer.
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
        }
    });
    addr
}

#[test]
fn missing_pong_closes_the_connection_after_the_timeout() {
    let addr = silent_broker();
    let started = Instant::now();
    let mut cmd = smqctl();
    cmd.args([
        "--trace-packets",
        "sub",
        "self",
        "--no-reconnect",
        "--ping-interval",
        "300ms",
        "--pong-timeout",
        "300ms",
        "--url",
        &format!("http://{addr}/"),
    ]);
    let out = Running::spawn(&mut cmd).wait();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("-> Ping"), "{err}");
    assert!(err.contains("no answer to Ping within 300ms"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
