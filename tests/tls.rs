//! wss:// and https:// against the embedded broker with a test certificate:
//! verified by default, trusted with --cacert, skipped only with --insecure.

use smqctl::broker::{BrokerConfig, load_tls_config};

use crate::harness::{TestBroker, json_lines, publish, ready_sub, run, smqctl, text};

struct Certs {
    _dir: tempfile::TempDir,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
}

fn certs() -> Certs {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("test certificate");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).expect("write cert");
    std::fs::write(&key, ck.signing_key.serialize_pem()).expect("write key");
    Certs {
        _dir: dir,
        cert,
        key,
    }
}

fn tls_broker(c: &Certs) -> TestBroker {
    TestBroker::with_config(BrokerConfig {
        tls: Some(load_tls_config(&c.cert, &c.key).expect("tls config")),
        ..BrokerConfig::default()
    })
}

fn tls_round_trip(scheme: &str) {
    let c = certs();
    let broker = tls_broker(&c);
    let url = broker.url(scheme);
    let cacert = c.cert.to_string_lossy().to_string();
    let (sub, _) = ready_sub(
        &url,
        &["Secure", "-C", "1", "-W", "10s", "--cacert", &cacert],
    );
    publish(&url, &["Secure", "over tls", "--cacert", &cacert]);
    let out = sub.wait();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(json_lines(&out)[0]["payload"], "over tls");
}

#[test]
fn pub_sub_over_wss() {
    tls_round_trip("wss");
}

#[test]
fn pub_sub_over_https_raw() {
    tls_round_trip("https");
}

#[test]
fn unknown_certificate_is_rejected_by_default_with_a_hint() {
    let c = certs();
    let broker = tls_broker(&c);
    let out = run(smqctl().args(["pub", "T", "x", "--url", &broker.url("wss")]));
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("certificate"), "{err}");
    assert!(err.contains("--cacert"), "{err}");
}

#[test]
fn insecure_connects_but_warns() {
    let c = certs();
    let broker = tls_broker(&c);
    let out = run(smqctl().args(["pub", "T", "x", "--insecure", "--url", &broker.url("https")]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("warning: --insecure"),
        "{}",
        text(&out.stderr)
    );
}
