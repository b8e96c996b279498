//! `smqctl check` and `smqctl check --probe` against `smqctl broker` (a real
//! broker process): healthy, over a threshold, unreachable, handlers
//! answering or not as expected, and the conformance probe.

use crate::harness::{BrokerProcess, TestBroker, json_lines, run, smqctl, text};
use smqctl::trace::schema::Kind;

const HANDLERS: &str = r#"
[[request]]
name = "SearchSitesReq"
reply = '{"rows":[{"site":"{{SiteName}}"}],"n":2}'

[[rpc]]
name = "first"
result = '{{args.0}}'
"#;

fn check(url: &str, args: &[&str]) -> std::process::Output {
    run(smqctl().arg("check").arg(url).args(args))
}

fn with_handlers() -> (tempfile::TempDir, BrokerProcess) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("handlers.toml");
    std::fs::write(&path, HANDLERS).expect("write handlers");
    let broker = BrokerProcess::start(&["--handlers", path.to_str().expect("utf-8 path")]);
    (dir, broker)
}

/// A URL where nothing listens.
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/smq/", l.local_addr().expect("addr"));
    drop(l);
    url
}

#[test]
fn a_healthy_broker_is_ok_on_both_transports_in_json_and_nagios() {
    let broker = BrokerProcess::start(&[]);
    for scheme in ["ws", "http"] {
        let out = check(&broker.url(scheme), &["-F", "json", "--tracer"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{scheme}: {}",
            text(&out.stderr)
        );
        let v = &json_lines(&out)[0];
        assert_eq!(v["status"], "ok", "{v}");
        assert!(v["connect_s"].as_f64().is_some_and(|s| s > 0.0), "{v}");
        assert!(v["rtt_self_s"].as_f64().is_some_and(|s| s > 0.0), "{v}");
        assert!(v["rtt_topic_s"].as_f64().is_some_and(|s| s > 0.0), "{v}");
        let checks: Vec<&str> = v["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["check"].as_str())
            .collect();
        assert_eq!(checks, ["connect", "self", "topic", "tracer"], "{v}");
    }
    let out = check(
        &broker.url("ws"),
        &["-F", "nagios", "--warn", "connect=30s,rtt=30s"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    assert!(line.starts_with("SMQ OK - "), "{line}");
    assert!(line.contains(" | connect="), "{line}");
    assert!(line.contains(";30.000000;;0 rtt="), "{line}");
    assert_eq!(line.lines().count(), 1, "one nagios line: {line}");
}

#[test]
fn a_critical_round_trip_threshold_is_nagios_critical_with_perfdata() {
    let broker = BrokerProcess::start(&[]);
    let out = check(&broker.url("ws"), &["-F", "nagios", "--critical", "rtt=0s"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    assert!(line.starts_with("SMQ CRITICAL - "), "{line}");
    assert!(line.contains("over --critical"), "{line}");
    let perf = line
        .split_once(" | ")
        .map(|(_, p)| p.trim())
        .expect("perfdata");
    let rtt = perf
        .split(' ')
        .find(|p| p.starts_with("rtt="))
        .expect("rtt perfdata");
    // rtt=VALUEs;warn;crit;min
    let fields: Vec<&str> = rtt["rtt=".len()..].split(';').collect();
    assert!(fields[0].ends_with('s'), "{rtt}");
    assert_eq!(&fields[1..], ["", "0.000000", "0"], "{rtt}");
    // The usual codes without nagios: a critical threshold is exit 1.
    let out = check(&broker.url("ws"), &["-F", "json", "--critical", "0s"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(json_lines(&out)[0]["status"], "critical");
}

#[test]
fn an_unreachable_broker_is_unknown_in_nagios_and_exit_3_otherwise() {
    let url = dead_url();
    let out = check(&url, &["-F", "nagios"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("SMQ UNKNOWN - cannot connect"),
        "{}",
        text(&out.stdout)
    );
    let out = check(&url, &["-F", "json"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("cannot connect"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "nothing was checked");
    let out = run(smqctl().args(["check", "--probe", &url]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    // A bad threshold keeps the check from running: UNKNOWN, or exit 2.
    let out = check(&url, &["-F", "nagios", "--warn", "rtt=fast"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stdout).starts_with("SMQ UNKNOWN - --warn 'rtt=fast'"),
        "{}",
        text(&out.stdout)
    );
    let out = check(&url, &["-F", "json", "--critical", "latency=1s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("rtt or connect"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_request_reply_is_checked_with_expect_and_an_rpc_must_answer() {
    let (_dir, broker) = with_handlers();
    let url = broker.url("ws");
    let out = check(
        &url,
        &[
            "--request",
            "SearchSitesReq",
            r#"{"SiteName":"alpha"}"#,
            "--expect",
            "rows.0.site=alpha",
            "--expect",
            "$.n=2",
            "--rpc",
            "first",
            "7",
            "-F",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = &json_lines(&out)[0];
    let items = v["items"].as_array().expect("items");
    let req = items
        .iter()
        .find(|i| i["check"] == "request SearchSitesReq")
        .expect("request item");
    assert_eq!(req["status"], "ok", "{req}");
    assert!(
        req["detail"]
            .as_str()
            .unwrap_or("")
            .contains("2 expectation(s) met"),
        "{req}"
    );
    let rpc = items
        .iter()
        .find(|i| i["check"] == "rpc first")
        .expect("rpc item");
    assert_eq!(rpc["status"], "ok", "{rpc}");
    assert!(
        rpc["detail"].as_str().unwrap_or("").ends_with(": 7"),
        "{rpc}"
    );

    let out = check(
        &url,
        &[
            "--request",
            "SearchSitesReq",
            r#"{"SiteName":"beta"}"#,
            "--expect",
            "rows.0.site=alpha",
            "-F",
            "nagios",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    assert!(
        line.contains(r#"rows.0.site is "beta" (expected "alpha")"#),
        "{line}"
    );
    let out = check(
        &url,
        &[
            "--request",
            "SearchSitesReq",
            "{}",
            "--expect",
            "rows.0.site=alpha",
            "-F",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a mismatch is exit 1 without nagios"
    );
    // A request nobody answers: no answer within --timeout, exit 5.
    let out = check(
        &url,
        &["--request", "NobodyReq", "-W", "300ms", "-F", "json"],
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
}

#[test]
fn subscribers_below_the_minimum_are_critical() {
    let broker = BrokerProcess::start(&[]);
    let url = broker.url("ws");
    let out = check(&url, &["--subscribers", "Nobody>=1", "-F", "nagios"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 subscriber(s), want >= 1"),
        "{}",
        text(&out.stdout)
    );
    let out = check(&url, &["--subscribers", "Nobody>=0", "-F", "nagios"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

fn probe_lines(url: &str, args: &[&str]) -> (Option<i32>, Vec<serde_json::Value>) {
    let out = run(smqctl()
        .args(["check", "--probe", url, "-F", "json"])
        .args(args));
    let v = json_lines(&out).into_iter().next().unwrap_or_default();
    let lines = v["lines"].as_array().cloned().unwrap_or_default();
    (out.status.code(), lines)
}

#[test]
fn the_probe_passes_against_smqctl_broker_on_both_transports() {
    let broker = BrokerProcess::start(&[]);
    for scheme in ["ws", "http"] {
        let (code, lines) = probe_lines(&broker.url(scheme), &[]);
        let failed: Vec<_> = lines.iter().filter(|l| l["verdict"] == "fail").collect();
        assert!(failed.is_empty(), "{scheme}: {failed:?}");
        assert_eq!(code, Some(0), "{scheme}");
        let checks: Vec<&str> = lines.iter().filter_map(|l| l["check"].as_str()).collect();
        for want in [
            "transport websocket",
            "transport raw",
            "ping",
            "payload 0xFFF0",
            "pubfrag (raw)",
            "rndtid",
            "observe counts",
            "same-UID takeover",
            "ptid forgery",
            "connect wait",
        ] {
            assert!(checks.contains(&want), "{scheme}: no {want} in {checks:?}");
        }
        let rndtid = lines
            .iter()
            .find(|l| l["check"] == "rndtid")
            .expect("rndtid");
        assert_eq!(rndtid["verdict"], "info");
        assert!(
            rndtid["detail"]
                .as_str()
                .unwrap_or("")
                .contains("server ETID is 1"),
            "{rndtid}"
        );
    }
}

#[test]
fn the_probe_says_rndtid_when_the_broker_has_a_random_server_etid() {
    let broker = BrokerProcess::start(&["--rndtid"]);
    assert_ne!(broker.etid, 1);
    let (code, lines) = probe_lines(&broker.url("ws"), &[]);
    assert_eq!(code, Some(0), "{lines:?}");
    let rndtid = lines
        .iter()
        .find(|l| l["check"] == "rndtid")
        .expect("rndtid");
    let detail = rndtid["detail"].as_str().unwrap_or("");
    assert!(
        detail.starts_with("rndtid: the server ETID is not 1"),
        "{detail}"
    );
}

#[test]
fn prometheus_output_is_text_exposition_with_help_type_and_labelled_samples() {
    let broker = BrokerProcess::start(&[]);
    let url = broker.url("ws");
    let out = check(&url, &["-F", "prometheus", "--subscribers", "Nobody>=1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let body = text(&out.stdout);
    let label = format!("{{url=\"{url}\"}}");
    for (name, value) in [("smq_check_up", Some("0")), ("smq_check_status", Some("2"))] {
        assert!(body.contains(&format!("# TYPE {name} gauge")), "{body}");
        let sample = format!("{name}{label} {}", value.unwrap_or(""));
        assert!(body.lines().any(|l| l == sample), "{sample} in {body}");
    }
    for name in [
        "smq_check_connect_seconds",
        "smq_check_rtt_self_seconds",
        "smq_check_rtt_topic_seconds",
    ] {
        let line = body
            .lines()
            .find(|l| l.starts_with(&format!("{name}{label} ")))
            .unwrap_or_else(|| panic!("no {name} in {body}"));
        let v: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("a number");
        assert!(v > 0.0, "{line}");
    }
    assert!(
        body.contains(&format!(
            "smq_check_item_ok{{url=\"{url}\",check=\"subscribers Nobody\"}} 0"
        )),
        "{body}"
    );
    // Every line is a comment or `name{labels} value`.
    for l in body.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = l.rsplit_once(' ').expect("name value");
        assert!(
            series.starts_with("smq_check_") && series.ends_with('}'),
            "{l}"
        );
        assert!(value.parse::<f64>().is_ok(), "{l}");
    }
}

#[test]
fn check_and_probe_observe_but_never_send_unobserve_which_on_mako_drops_the_id_from_routing() {
    let broker = TestBroker::start();
    let mut events = broker.broker.events();
    let url = broker.url("ws");
    let out = check(&url, &["--subscribers", "Devices>=0", "-F", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(smqctl().args(["check", "--probe", &url, "-F", "json"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let (mut observes, mut unobserves) = (0, 0);
    loop {
        match events.try_recv() {
            Ok(rec) if rec.event.kind == Kind::Observe => observes += 1,
            Ok(rec) if rec.event.kind == Kind::Unobserve => unobserves += 1,
            Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {}
            Err(_) => break,
        }
    }
    assert!(
        observes >= 3,
        "the check and the probe observe ({observes})"
    );
    assert_eq!(unobserves, 0);
}
