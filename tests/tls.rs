//! wss:// and https:// against the embedded broker with a test certificate:
//! verified by default, trusted with --cacert, skipped only with --insecure.

use smqctl::broker::{BrokerConfig, load_tls_config};

use crate::harness::{TestBroker, json_lines, publish, ready_sub, run, smqctl, text};

pub struct Certs {
    _dir: tempfile::TempDir,
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// A self-signed certificate for 127.0.0.1 and its key, in a temp dir.
pub fn certs() -> Certs {
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

/// A CA, a server certificate and a client certificate it signed.
pub struct Pki {
    _dir: tempfile::TempDir,
    pub ca: std::path::PathBuf,
    pub server_cert: std::path::PathBuf,
    pub server_key: std::path::PathBuf,
    pub client_cert: std::path::PathBuf,
    pub client_key: std::path::PathBuf,
}

pub fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("ca");
    let server_key = KeyPair::generate().expect("key");
    let server = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .expect("params")
        .signed_by(&server_key, &ca)
        .expect("server cert");
    let client_key = KeyPair::generate().expect("key");
    let client = CertificateParams::new(vec!["device-1".to_string()])
        .expect("params")
        .signed_by(&client_key, &ca)
        .expect("client cert");
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, body: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).expect("write pem");
        p
    };
    Pki {
        ca: write("ca.pem", ca.pem()),
        server_cert: write("server.pem", server.pem()),
        server_key: write("server.key", server_key.serialize_pem()),
        client_cert: write("client.pem", client.pem()),
        client_key: write("client.key", client_key.serialize_pem()),
        _dir: dir,
    }
}

#[test]
fn mutual_tls_needs_the_client_certificate() {
    let p = pki();
    let broker = TestBroker::with_config(BrokerConfig {
        tls: Some(
            smqctl::broker::load_tls_config_with_clients(
                &p.server_cert,
                &p.server_key,
                Some(&p.ca),
            )
            .expect("mtls config"),
        ),
        ..BrokerConfig::default()
    });
    let url = broker.url("wss");
    let ca = p.ca.to_string_lossy().to_string();
    // Without a client certificate the broker ends the handshake.
    let out = run(smqctl().args(["pub", "T", "x", "--cacert", &ca, "--url", &url]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    // With it, messages flow.
    let cert = p.client_cert.to_string_lossy().to_string();
    let key = p.client_key.to_string_lossy().to_string();
    let tls_args = ["--cacert", &ca, "--cert", &cert, "--key", &key];
    let mut sub_args = vec!["Secure", "-C", "1", "-W", "10s"];
    sub_args.extend(tls_args);
    let (sub, _) = ready_sub(&url, &sub_args);
    let mut pub_args = vec!["Secure", "mutual"];
    pub_args.extend(tls_args);
    publish(&url, &pub_args);
    assert_eq!(json_lines(&sub.wait())[0]["payload"], "mutual");
}

#[test]
fn cacert_trusts_a_self_signed_certificate_marked_as_a_ca() {
    // What `openssl req -x509` makes by default: basicConstraints CA:TRUE.
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).expect("cert");
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert_path, key_path) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("write");
    std::fs::write(&key_path, key.serialize_pem()).expect("write");
    let broker = TestBroker::with_config(BrokerConfig {
        tls: Some(load_tls_config(&cert_path, &key_path).expect("tls")),
        ..BrokerConfig::default()
    });
    let ca = cert_path.to_string_lossy().to_string();
    let ok = run(smqctl().args([
        "pub",
        "T",
        "x",
        "--cacert",
        &ca,
        "--url",
        &broker.url("wss"),
    ]));
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    // A different certificate in --cacert is still refused, with a fitting hint.
    let other = certs();
    let other_ca = other.cert.to_string_lossy().to_string();
    let bad = run(smqctl().args([
        "pub",
        "T",
        "x",
        "--cacert",
        &other_ca,
        "--url",
        &broker.url("wss"),
    ]));
    assert_eq!(bad.status.code(), Some(3));
    assert!(
        text(&bad.stderr).contains("check that --cacert holds"),
        "{}",
        text(&bad.stderr)
    );
}

/// A self-signed certificate for `names`, `ca` marking it as a CA (OpenSSL's
/// default), valid from `from` to `until` (years), written with its key.
fn self_signed(
    dir: &std::path::Path,
    tag: &str,
    names: &[&str],
    ca: bool,
    years: Option<(i32, i32)>,
) -> (std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let key = KeyPair::generate().expect("key");
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("params");
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    if let Some((from, until)) = years {
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(until, 1, 1);
    }
    let cert = params.self_signed(&key).expect("cert");
    let (c, k) = (
        dir.join(format!("{tag}.pem")),
        dir.join(format!("{tag}.key")),
    );
    std::fs::write(&c, cert.pem()).expect("write");
    std::fs::write(&k, key.serialize_pem()).expect("write");
    (c, k)
}

fn broker_with(cert: &std::path::Path, key: &std::path::Path) -> TestBroker {
    TestBroker::with_config(BrokerConfig {
        tls: Some(load_tls_config(cert, key).expect("tls")),
        ..BrokerConfig::default()
    })
}

fn pub_with(url: &str, tls: &[&str]) -> std::process::Output {
    let mut c = smqctl();
    c.args(["pub", "T", "x", "--url", url]).args(tls);
    run(&mut c)
}

fn assert_refused(out: &std::process::Output, says: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains(says), "wanted {says:?} in {err}");
    assert!(!err.contains("OtherError"), "rustls jargon in {err}");
}

#[test]
fn cacert_skips_no_hostname_check_for_a_pinned_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    for ca in [false, true] {
        let (cert, key) = self_signed(dir.path(), "elsewhere", &["elsewhere.example"], ca, None);
        let broker = broker_with(&cert, &key);
        let out = pub_with(&broker.url("wss"), &["--cacert", &cert.to_string_lossy()]);
        assert_refused(
            &out,
            "the broker's certificate is not for 127.0.0.1 (it is for elsewhere.example)",
        );
    }
}

#[test]
fn cacert_skips_no_expiry_check_for_a_pinned_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    for ca in [false, true] {
        let (cert, key) = self_signed(dir.path(), "old", &["127.0.0.1"], ca, Some((2020, 2021)));
        let broker = broker_with(&cert, &key);
        let out = pub_with(&broker.url("wss"), &["--cacert", &cert.to_string_lossy()]);
        assert_refused(
            &out,
            "the broker's certificate expired on 2021-01-01T00:00:00Z",
        );
    }
}

#[test]
fn cacert_bundle_that_contains_the_leaf_still_checks_the_name() {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("ca");
    let leaf_key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["elsewhere.example".to_string()])
        .expect("params")
        .signed_by(&leaf_key, &ca)
        .expect("leaf");
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key, bundle) = (
        dir.path().join("leaf.pem"),
        dir.path().join("leaf.key"),
        dir.path().join("bundle.pem"),
    );
    std::fs::write(&cert, leaf.pem()).expect("write");
    std::fs::write(&key, leaf_key.serialize_pem()).expect("write");
    std::fs::write(&bundle, format!("{}{}", ca.pem(), leaf.pem())).expect("write");
    let broker = broker_with(&cert, &key);
    let out = pub_with(&broker.url("wss"), &["--cacert", &bundle.to_string_lossy()]);
    assert_refused(&out, "is not for 127.0.0.1");
}

#[test]
fn pin_cert_trusts_one_exact_certificate_whatever_its_name_and_warns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = self_signed(
        dir.path(),
        "pinned",
        &["elsewhere.example"],
        true,
        Some((2020, 2021)),
    );
    let broker = broker_with(&cert, &key);
    let ok = pub_with(&broker.url("wss"), &["--pin-cert", &cert.to_string_lossy()]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stderr).contains("warning: --pin-cert"),
        "{}",
        text(&ok.stderr)
    );
    // Another certificate, even one for the right name, is not the pinned one.
    let (other, _) = self_signed(dir.path(), "other", &["127.0.0.1"], false, None);
    let bad = pub_with(
        &broker.url("wss"),
        &["--pin-cert", &other.to_string_lossy()],
    );
    assert_refused(&bad, "not the one given with --pin-cert");
}

#[test]
fn wss_to_a_plain_port_fails_at_the_first_non_tls_answer_naming_it() {
    use std::io::{Read, Write};
    // A plain HTTP server that answers anything with 400 at once, and keeps
    // the connection open (so only the answer can end the handshake).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut b = [0u8; 1024];
                if s.read(&mut b).unwrap_or(0) > 0 {
                    let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
                }
                std::thread::sleep(std::time::Duration::from_secs(20));
            });
        }
    });
    let started = std::time::Instant::now();
    let out = pub_with(&format!("wss://{addr}/smq/"), &[]);
    let took = started.elapsed();
    assert_refused(&out, "plain HTTP ('HTTP/1.1 400 Bad Request')");
    assert!(
        text(&out.stderr).contains("try ws://"),
        "{}",
        text(&out.stderr)
    );
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
}

#[test]
fn wss_to_the_embedded_brokers_plain_port_waits_for_the_handshake_timeout() {
    // The broker used to read the ClientHello as an HTTP head and wait 10 s
    // for its end; now it closes at once and the client says why.
    let broker = TestBroker::start();
    let c = certs();
    for scheme in ["wss", "https"] {
        let started = std::time::Instant::now();
        let out = run(smqctl().args([
            "sub",
            "T",
            "-W",
            "30s",
            "--url",
            &broker.url(scheme),
            "--cacert",
            &c.cert.to_string_lossy(),
        ]));
        let took = started.elapsed();
        assert_refused(&out, "closed the connection without a TLS answer");
        assert!(
            text(&out.stderr).contains("try ws://"),
            "{}",
            text(&out.stderr)
        );
        assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    }
}

#[test]
fn ws_to_a_tls_port_says_it_speaks_tls_and_suggests_wss() {
    let c = certs();
    let broker = tls_broker(&c);
    for (scheme, try_) in [("ws", "try wss://"), ("http", "try https://")] {
        let out = pub_with(&broker.url(scheme), &[]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.contains("answered with TLS") && err.contains(try_),
            "{err}"
        );
    }
}

#[test]
fn a_ca_certificate_presented_as_the_brokers_own_was_printed_as_other_error_ca_used_as_end_entity()
{
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut root_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root =
        CertifiedIssuer::self_signed(root_params, KeyPair::generate().expect("key")).expect("ca");
    // An intermediate CA for 127.0.0.1, used by the broker as its own.
    let mut mid_params = CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    mid_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let mid_key = KeyPair::generate().expect("key");
    let mid = mid_params.signed_by(&mid_key, &root).expect("mid");
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key, ca) = (
        dir.path().join("mid.pem"),
        dir.path().join("mid.key"),
        dir.path().join("root.pem"),
    );
    std::fs::write(&cert, mid.pem()).expect("write");
    std::fs::write(&key, mid_key.serialize_pem()).expect("write");
    std::fs::write(&ca, root.pem()).expect("write");
    let broker = broker_with(&cert, &key);
    let out = pub_with(&broker.url("wss"), &["--cacert", &ca.to_string_lossy()]);
    assert_refused(
        &out,
        "the broker presented a CA certificate as its own certificate",
    );
    assert!(
        !text(&out.stderr).contains("CaUsedAsEndEntity"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn mtls_without_a_client_certificate_said_only_exit_3_not_what_the_broker_wants() {
    let p = pki();
    let broker = TestBroker::with_config(BrokerConfig {
        tls: Some(
            smqctl::broker::load_tls_config_with_clients(
                &p.server_cert,
                &p.server_key,
                Some(&p.ca),
            )
            .expect("mtls config"),
        ),
        ..BrokerConfig::default()
    });
    let ca = p.ca.to_string_lossy().to_string();
    for scheme in ["wss", "https"] {
        let out = pub_with(&broker.url(scheme), &["--cacert", &ca]);
        assert_refused(
            &out,
            "the broker requires a client certificate: give --cert and --key",
        );
        assert!(
            !text(&out.stderr).contains("AlertReceived"),
            "{}",
            text(&out.stderr)
        );
    }
}
