//! Issue 14, "same name, same meaning": one spelling per flag across commands,
//! old spellings kept as hidden aliases, one piped default, one boolean parser
//! for the SMQCTL_* yes/no variables. Each test runs the real binary.

use crate::harness::{TestBroker, run, smqctl, text};

#[test]
fn smqctl_insecure_1_is_accepted_like_true() {
    // Today's bug: SMQCTL_INSECURE=1 failed every command with exit 2.
    let c = crate::tls::certs();
    let broker = TestBroker::with_config(smqctl::broker::BrokerConfig {
        tls: Some(smqctl::broker::load_tls_config(&c.cert, &c.key).expect("tls config")),
        ..smqctl::broker::BrokerConfig::default()
    });
    for yes in ["1", "true", "yes", "on", "ON"] {
        let out = run(smqctl().env("SMQCTL_INSECURE", yes).args([
            "pub",
            "T",
            "x",
            "--url",
            &broker.url("wss"),
        ]));
        assert!(
            out.status.success(),
            "SMQCTL_INSECURE={yes}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("warning: --insecure"), "{yes}");
    }
    for no in ["0", "false", "no", "off", ""] {
        let out = run(smqctl().env("SMQCTL_INSECURE", no).args([
            "pub",
            "T",
            "x",
            "--url",
            &broker.url("wss"),
        ]));
        // Verified (and refused: the certificate is self-signed), not a usage error.
        assert_eq!(
            out.status.code(),
            Some(3),
            "SMQCTL_INSECURE={no:?}: {}",
            text(&out.stderr)
        );
    }
    let out = run(smqctl().env("SMQCTL_INSECURE", "maybe").args([
        "pub",
        "T",
        "x",
        "--url",
        &broker.url("wss"),
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not a yes/no value"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn smqctl_trace_packets_1_turns_packet_tracing_on() {
    let broker = TestBroker::start();
    let out = run(smqctl().env("SMQCTL_TRACE_PACKETS", "1").args([
        "pub",
        "T",
        "x",
        "--url",
        &broker.url("ws"),
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Publish"),
        "{}",
        text(&out.stderr)
    );
    let out = run(smqctl().env("SMQCTL_TRACE_PACKETS", "0").args([
        "pub",
        "T",
        "x",
        "--url",
        &broker.url("ws"),
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("Publish"),
        "{}",
        text(&out.stderr)
    );
}
