//! Bad input and unreachable or refusing brokers: clear messages, documented
//! exit codes, nothing hangs.

use std::time::{Duration, Instant};

use smqctl::broker::{Auth, BrokerConfig};

use crate::harness::{TestBroker, run, smqctl, text};

#[test]
fn unreachable_broker_is_a_clear_error_with_exit_3() {
    // A port that was just free: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let started = Instant::now();
    let out = run(smqctl().args([
        "pub",
        "T",
        "x",
        "--url",
        &format!("ws://127.0.0.1:{port}/"),
        "--connect-timeout",
        "3s",
    ]));
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: cannot connect to 127.0.0.1:"),
        "{err}"
    );
    assert!(err.contains("hint: is the broker running?"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn silent_server_times_out_within_connect_timeout() {
    // Accepts TCP but never speaks: the handshake must give up on time.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let _keep = std::thread::spawn(move || {
        let conns: Vec<_> = listener.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(5));
        drop(conns);
    });
    let started = Instant::now();
    let out = run(smqctl().args([
        "pub",
        "T",
        "x",
        "--url",
        &format!("http://{addr}/"),
        "--connect-timeout",
        "500ms",
    ]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("timed out"),
        "{}",
        text(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn bad_credentials_show_connack_3_and_the_reason() {
    let broker = TestBroker::with_config(BrokerConfig {
        auth: Some(Auth::Shared("right-secret".into())),
        ..BrokerConfig::default()
    });
    let out = run(smqctl().args([
        "pub",
        "T",
        "x",
        "--credentials",
        "wrong-secret",
        "--url",
        &broker.url("ws"),
    ]));
    assert_eq!(out.status.code(), Some(4));
    let err = text(&out.stderr);
    assert!(
        err.contains("broker refused the connection: bad credentials (Connack code 3)"),
        "{err}"
    );
    assert!(!err.contains("wrong-secret"), "credentials leaked: {err}");
    // And the right secret, from the environment, works.
    let ok = run(smqctl()
        .args(["pub", "T", "x", "--url", &broker.url("ws")])
        .env("SMQCTL_CREDENTIALS", "right-secret"));
    assert!(ok.status.success(), "{}", text(&ok.stderr));
}

#[test]
fn invalid_json_names_line_and_column_and_sends_nothing() {
    // Unreachable URL: if it tried to connect we would see exit 3, not 2.
    let out = run(smqctl().args([
        "pub",
        "T",
        "{\"a\": tru}",
        "--json",
        "--url",
        "ws://127.0.0.1:1/",
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid JSON in MESSAGE at line 1, column"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn oversize_payload_is_refused_before_connecting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.bin");
    std::fs::write(&path, vec![b'x'; 0xFFF1]).expect("write");
    let out = run(smqctl()
        .args(["pub", "T", "-f"])
        .arg(&path)
        .args(["--url", "ws://127.0.0.1:1/"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is larger than 65520 bytes; SMQ payloads are at most 65520"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn largest_payload_is_delivered_whole() {
    let broker = TestBroker::start();
    let url = broker.url("http");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("max.bin");
    std::fs::write(&path, vec![b'y'; 0xFFF0]).expect("write");
    let (sub, _) = crate::harness::ready_sub(&url, &["Big", "-C", "1", "-W", "10s"]);
    let out = run(smqctl()
        .args(["pub", "Big", "-f"])
        .arg(&path)
        .args(["--url", &url]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = crate::harness::json_lines(&sub.wait());
    assert_eq!(lines[0]["size"], 0xFFF0);
}

#[test]
fn not_an_smq_url_says_so() {
    // Plain HTTP server that answers 404 to everything.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut s in listener.incoming().flatten().take(2) {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
    });
    for scheme in ["http", "ws"] {
        let out =
            run(smqctl().args(["pub", "T", "x", "--url", &format!("{scheme}://{addr}/nope")]));
        assert_eq!(out.status.code(), Some(3), "{scheme}");
        assert!(
            text(&out.stderr).contains("404"),
            "{scheme}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn bad_url_is_a_usage_error() {
    let out = run(smqctl().args(["pub", "T", "x", "--url", "mqtt://host/"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("scheme must be ws, wss, http or https"));
}

#[test]
fn missing_payload_is_a_usage_error() {
    let out = run(smqctl().args(["pub", "T"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no payload"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn denied_create_and_subscribe_are_errors_with_exit_4() {
    let broker = TestBroker::with_config(BrokerConfig {
        deny_topics: vec!["Secret*".into()],
        ..BrokerConfig::default()
    });
    let url = broker.url("ws");
    let out = run(smqctl().args(["pub", "SecretPlans", "x", "--url", &url]));
    assert_eq!(out.status.code(), Some(4));
    assert!(
        text(&out.stderr).contains("broker denied Create of 'SecretPlans'"),
        "{}",
        text(&out.stderr)
    );
    let out = run(smqctl().args(["sub", "Secrets", "--no-reconnect", "--url", &url]));
    assert_eq!(out.status.code(), Some(4));
    assert!(
        text(&out.stderr).contains("broker denied Subscribe of 'Secrets'"),
        "{}",
        text(&out.stderr)
    );
    // Other topics are fine.
    let ok = run(smqctl().args(["pub", "Public", "x", "--url", &url]));
    assert!(ok.status.success(), "{}", text(&ok.stderr));
}

#[test]
fn credentials_command_gets_the_seed_and_its_output_is_sent() {
    let broker = TestBroker::with_config(BrokerConfig {
        auth: Some(Auth::Shared("from-the-command".into())),
        ..BrokerConfig::default()
    });
    let url = broker.url("http");
    let cmd = r#"test "$SMQ_SEED" -ge 0 && test "$SMQ_IP" = 127.0.0.1 && echo from-the-command"#;
    let ok = run(smqctl().args([
        "--trace-packets",
        "pub",
        "T",
        "x",
        "--credentials-cmd",
        cmd,
        "--url",
        &url,
    ]));
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(
        !text(&ok.stderr).contains("from-the-command"),
        "secret printed: {}",
        text(&ok.stderr)
    );
    let failing = run(smqctl().args([
        "pub",
        "T",
        "x",
        "--credentials-cmd",
        "echo nope >&2; exit 3",
        "--url",
        &url,
    ]));
    assert_eq!(failing.status.code(), Some(2));
    assert!(
        text(&failing.stderr).contains("the credentials command failed"),
        "{}",
        text(&failing.stderr)
    );
    assert!(
        text(&failing.stderr).contains(": nope"),
        "{}",
        text(&failing.stderr)
    );
    // A command that fails without a word once ended the message on a bare colon.
    let silent = run(smqctl().args([
        "pub",
        "T",
        "x",
        "--credentials-cmd",
        "exit 1",
        "--url",
        &url,
    ]));
    assert_eq!(silent.status.code(), Some(2));
    assert!(
        text(&silent.stderr).contains("failed (exit status: 1) and wrote nothing on stderr"),
        "{}",
        text(&silent.stderr)
    );
}
