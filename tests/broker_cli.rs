//! `smqctl broker` through its command line: every flag run as a user runs it
//! (a subprocess on 127.0.0.1:0, files on disk), each test asserting the
//! behaviour the flag promises and that it differs from the default.

use crate::harness::{BrokerProcess, json_lines, publish, ready_sub, run, smqctl, text};
use crate::tls::{certs, pki};

fn rpc(url: &str, args: &[&str]) -> std::process::Output {
    run(smqctl().arg("rpc").args(args).args(["--url", url]))
}

fn file_with(dir: &tempfile::TempDir, name: &str, body: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, body).expect("write test file");
    p.to_string_lossy().into_owned()
}

const HANDLERS: &str = r#"
[[request]]
name = "WhoReq"
reply = '{"asked":"{{name}}","n":{{$n}}}'

[[rpc]]
name = "add"
result = '{{args.1}}'
"#;

#[test]
fn broker_handlers_flag_answers_requests_and_rpc_calls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = file_with(&dir, "handlers.toml", HANDLERS);
    let broker = BrokerProcess::start(&["--handlers", &path]);
    assert!(
        broker
            .proc
            .stderr_seen
            .iter()
            .any(|l| l.contains("2 handler rule(s) from")),
        "no handler banner: {:?}",
        broker.proc.stderr_seen
    );
    let url = broker.url("ws");
    let out = rpc(&url, &["WhoReq", r#"{"name":"ada"}"#, "-F", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reply = &json_lines(&out)[0];
    assert_eq!(reply["subtopic"], "WhoResp", "{reply}");
    assert_eq!(reply["payload"]["asked"], "ada", "{reply}");
    assert_eq!(reply["payload"]["n"], 1, "{reply}");
    assert_eq!(reply["ptid"], broker.etid, "{reply}");
    let out = rpc(&url, &["--call", "add", "1", "41", "-F", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(json_lines(&out)[0]["rsp"], 41);
    // The broker stays up and keeps counting ($n: messages its rules served).
    let out = rpc(&url, &["WhoReq", r#"{"name":"bo"}"#, "-F", "json"]);
    assert_eq!(json_lines(&out)[0]["payload"]["n"], 3);
}

#[test]
fn broker_without_handlers_leaves_the_same_request_unanswered() {
    // The default the --handlers test differs from: no rule, no reply (exit 5).
    let broker = BrokerProcess::start(&[]);
    let out = rpc(
        &broker.url("ws"),
        &["WhoReq", r#"{"name":"ada"}"#, "--timeout", "500ms"],
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
}

#[test]
fn broker_handlers_flag_with_a_bad_file_names_it_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = file_with(&dir, "bad.toml", "[[request]]\nname = 3\n");
    let out = BrokerProcess::fails(&["--handlers", &path]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("bad.toml"),
        "{}",
        text(&out.stderr)
    );
}

fn pub_with(url: &str, extra: &[&str]) -> std::process::Output {
    run(smqctl().args(["pub", "T", "x", "--url", url]).args(extra))
}

fn assert_refused_with_connack_3(out: &std::process::Output, secret: &str) {
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("(Connack code 3)"), "{err}");
    assert!(
        !secret.is_empty() && !err.contains(secret),
        "secret leaked: {err}"
    );
}

#[test]
fn broker_auth_file_refuses_a_wrong_secret_with_connack_3_and_accepts_the_right_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = file_with(
        &dir,
        "users.txt",
        "# who may connect\ndevice-0001:dev-secret\nalice:alice-pw\n",
    );
    let broker = BrokerProcess::start(&["--auth", &path]);
    let url = broker.url("ws");
    // By UID.
    let ok = pub_with(
        &url,
        &["--uid", "device-0001", "--credentials", "dev-secret"],
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let bad = pub_with(
        &url,
        &["--uid", "device-0001", "--credentials", "wrong-one"],
    );
    assert_refused_with_connack_3(&bad, "wrong-one");
    // By user name (credentials user:secret), over the raw socket too.
    let ok = pub_with(&broker.url("http"), &["--credentials", "alice:alice-pw"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let bad = pub_with(&url, &["--credentials", "alice:not-alice"]);
    assert_refused_with_connack_3(&bad, "not-alice");
    // No credentials at all.
    let none = pub_with(&url, &[]);
    assert_eq!(none.status.code(), Some(4), "{}", text(&none.stderr));
}

#[test]
fn broker_credentials_flag_and_env_require_the_shared_secret() {
    let broker = BrokerProcess::start(&["--credentials", "shared-s3cret"]);
    let url = broker.url("ws");
    let bad = pub_with(&url, &["--credentials", "guess"]);
    assert_refused_with_connack_3(&bad, "guess");
    let ok = pub_with(&url, &["--credentials", "shared-s3cret"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    // SMQCTL_BROKER_CREDENTIALS does the same, and the banner never shows it.
    let mut cmd = smqctl();
    cmd.args(["broker", "--listen", "127.0.0.1:0"])
        .env("SMQCTL_BROKER_CREDENTIALS", "env-s3cret");
    let mut env_broker = crate::harness::Running::spawn(&mut cmd);
    let line = env_broker.stdout_line();
    let addr = line.trim_start_matches("listening on ").trim().to_string();
    let banner = env_broker.stderr_line("server ETID");
    assert!(!banner.contains("env-s3cret"), "{banner}");
    let env_url = format!("ws://{addr}/smq/");
    assert_refused_with_connack_3(&pub_with(&env_url, &["--credentials", "guess"]), "guess");
    let ok = pub_with(&env_url, &["--credentials", "env-s3cret"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
}

#[test]
fn broker_without_auth_accepts_any_credentials() {
    // The default the auth tests differ from.
    let broker = BrokerProcess::start(&[]);
    let ok = pub_with(&broker.url("ws"), &["--credentials", "anything"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
}

#[test]
fn broker_deny_topic_refuses_subscribe_and_create_with_exit_4() {
    let broker = BrokerProcess::start(&["--deny-topic", "Secret*", "--deny-topic", "Exact"]);
    let url = broker.url("ws");
    let sub = run(smqctl().args(["sub", "SecretPlans", "-C", "1", "-W", "5s", "--url", &url]));
    assert_eq!(sub.status.code(), Some(4), "{}", text(&sub.stderr));
    assert!(
        text(&sub.stderr).contains("broker denied Subscribe of 'SecretPlans'"),
        "{}",
        text(&sub.stderr)
    );
    let p = run(smqctl().args(["pub", "Exact", "x", "--url", &url]));
    assert_eq!(p.status.code(), Some(4), "{}", text(&p.stderr));
    assert!(
        text(&p.stderr).contains("broker denied Create of 'Exact'"),
        "{}",
        text(&p.stderr)
    );
    // Names the patterns do not cover still work: `Exact` is not a prefix.
    let (sub, _) = ready_sub(&url, &["ExactlyFine", "-C", "1", "-W", "10s"]);
    publish(&url, &["ExactlyFine", "allowed"]);
    let out = sub.wait();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(json_lines(&out)[0]["payload"], "allowed");
}

#[test]
fn broker_without_deny_topic_lets_the_same_topic_through() {
    let broker = BrokerProcess::start(&[]);
    let p = run(smqctl().args(["pub", "SecretPlans", "x", "--url", &broker.url("ws")]));
    assert!(p.status.success(), "{}", text(&p.stderr));
}

#[test]
fn broker_tls_cert_and_key_serve_wss_and_https_verified_with_cacert() {
    let c = certs();
    let (cert, key) = (c.cert.to_string_lossy(), c.key.to_string_lossy());
    let broker = BrokerProcess::start(&["--tls-cert", &cert, "--tls-key", &key]);
    assert!(
        broker
            .proc
            .stderr_seen
            .iter()
            .any(|l| l.contains(&format!("wss://{}/", broker.addr))),
        "banner does not announce wss://: {:?}",
        broker.proc.stderr_seen
    );
    for scheme in ["wss", "https"] {
        let url = broker.url(scheme);
        let (sub, _) = ready_sub(&url, &["Secure", "-C", "1", "-W", "10s", "--cacert", &cert]);
        publish(&url, &["Secure", scheme, "--cacert", &cert]);
        let out = sub.wait();
        assert!(out.status.success(), "{scheme}: {}", text(&out.stderr));
        assert_eq!(json_lines(&out)[0]["payload"], scheme);
    }
    // Verified: without --cacert the self-signed certificate is refused.
    let out = run(smqctl().args(["pub", "T", "x", "--url", &broker.url("wss")]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    // And it is TLS only: plain ws:// to the same port does not get through.
    let out = run(smqctl().args([
        "pub",
        "T",
        "x",
        "--connect-timeout",
        "3s",
        "--url",
        &broker.url("ws"),
    ]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

#[test]
fn broker_tls_client_ca_refuses_a_client_without_a_certificate_and_accepts_one_with() {
    let p = pki();
    let (cert, key, ca) = (
        p.server_cert.to_string_lossy(),
        p.server_key.to_string_lossy(),
        p.ca.to_string_lossy(),
    );
    let broker = BrokerProcess::start(&[
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
        "--tls-client-ca",
        &ca,
    ]);
    let url = broker.url("wss");
    let without = run(smqctl().args(["pub", "T", "x", "--cacert", &ca, "--url", &url]));
    assert_eq!(without.status.code(), Some(3), "{}", text(&without.stderr));
    let (ccert, ckey) = (
        p.client_cert.to_string_lossy(),
        p.client_key.to_string_lossy(),
    );
    let with = run(smqctl().args([
        "pub", "T", "x", "--cacert", &ca, "--cert", &ccert, "--key", &ckey, "--url", &url,
    ]));
    assert!(with.status.success(), "{}", text(&with.stderr));
    // The same client without --tls-client-ca on the broker: no certificate needed.
    let open = BrokerProcess::start(&["--tls-cert", &cert, "--tls-key", &key]);
    let out = run(smqctl().args(["pub", "T", "x", "--cacert", &ca, "--url", &open.url("wss")]));
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn broker_rndtid_gives_a_random_server_etid_that_clients_reach_with_broker_tid() {
    let default = BrokerProcess::start(&[]);
    assert_eq!(default.etid, 1, "the default server ETID");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = file_with(&dir, "handlers.toml", HANDLERS);
    let a = BrokerProcess::start(&["--rndtid", "--handlers", &path]);
    let b = BrokerProcess::start(&["--rndtid"]);
    assert_ne!(a.etid, 1, "--rndtid kept the default ETID");
    assert_ne!(b.etid, 1, "--rndtid kept the default ETID");
    assert_ne!(a.etid, b.etid, "two --rndtid brokers drew the same ETID");
    let url = a.url("ws");
    // Requests reach the handler at its ETID (--broker-tid) ...
    let etid = a.etid.to_string();
    let out = rpc(
        &url,
        &[
            "WhoReq",
            r#"{"name":"x"}"#,
            "--broker-tid",
            &etid,
            "-F",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reply = &json_lines(&out)[0];
    assert_eq!(reply["ptid"], a.etid, "{reply}");
    // ... and not at ETID 1, where no handler is.
    let out = rpc(&url, &["WhoReq", r#"{"name":"x"}"#, "--timeout", "500ms"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
}

/// A raw-socket client (`http://`) that has read the broker's Init and sent
/// nothing yet.
fn raw_after_init(addr: std::net::SocketAddr) -> std::net::TcpStream {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).expect("tcp");
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("read timeout");
    s.write_all(b"GET /smq/ HTTP/1.1\r\nHost: x\r\nSimpleMQ: 1\r\n\r\n")
        .expect("head");
    assert_eq!(raw_frame(&mut s)[0], 1, "Init first");
    s
}

/// One SMQ frame's body (after its 2-byte length).
fn raw_frame(s: &mut std::net::TcpStream) -> Vec<u8> {
    use std::io::Read;
    let mut len = [0u8; 2];
    s.read_exact(&mut len).expect("a frame length");
    let mut body = vec![0u8; (u16::from_be_bytes(len) as usize).saturating_sub(2)];
    s.read_exact(&mut body).expect("a frame");
    body
}

#[test]
fn broker_connect_timeout_flag_sets_how_long_a_client_has_to_send_connect() {
    use std::io::Write;
    use std::time::{Duration, Instant};
    // Short: a silent client gets Connack 2 well before the default 4 s.
    let short = BrokerProcess::start(&["--connect-timeout", "300ms"]);
    let mut silent = raw_after_init(short.addr);
    let t = Instant::now();
    assert_eq!(&raw_frame(&mut silent)[..2], &[3, 2], "Connack 2");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "--connect-timeout 300ms waited {:?}",
        t.elapsed()
    );
    // Long: a Connect 5 s after Init (past the default) is accepted; the
    // default broker, meanwhile, refuses its silent client at 4 s.
    let long = BrokerProcess::start(&["--connect-timeout", "20s"]);
    let default = BrokerProcess::start(&[]);
    let mut slow = raw_after_init(long.addr);
    let mut silent = raw_after_init(default.addr);
    let t = Instant::now();
    assert_eq!(&raw_frame(&mut silent)[..2], &[3, 2], "the default refuses");
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(3500),
        "the default waited only {waited:?}"
    );
    while t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(100)); // the slow client's delay, not a sync
    }
    let uid = b"slow-link-01";
    let mut connect = vec![2u8, 1, uid.len() as u8];
    connect.extend_from_slice(uid);
    connect.push(0);
    let mut frame = ((connect.len() + 2) as u16).to_be_bytes().to_vec();
    frame.extend_from_slice(&connect);
    slow.write_all(&frame).expect("Connect");
    assert_eq!(&raw_frame(&mut slow)[..2], &[3, 0], "accepted after 5 s");
    // Zero is no time at all: a usage error naming the flag.
    let out = BrokerProcess::fails(&["--connect-timeout", "0s"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--connect-timeout"),
        "{}",
        text(&out.stderr)
    );
}
