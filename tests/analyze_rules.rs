//! `smqctl analyze` end to end for the topic, ETID, payload and connection
//! rules (issue 15): real clients (`smqctl sub`, `pub`, `rpc`) make the
//! mistake against the embedded broker while `smqctl trace -F json` records,
//! then `smqctl analyze --file … -F json` must find exactly that rule.

use std::time::Instant;

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::harness::{
    Closes, Recorded, Recording, Running, STEP, TestBroker, analyze_file, publish, ready_sub, text,
};

/// The one finding of `rule`; fails when anything else was found.
fn only<'a>(findings: &'a [Value], rule: &str) -> &'a Value {
    let rules: Vec<&str> = findings.iter().filter_map(|f| f["rule"].as_str()).collect();
    assert_eq!(rules, [rule], "exactly one {rule} finding: {findings:#?}");
    &findings[0]
}

fn message(f: &Value) -> &str {
    f["message"].as_str().unwrap_or_default()
}

/// A `sub` that stays subscribed to `topic` (so publishes there are not
/// no-subscriber drops) while the test runs.
fn watcher(url: &str, topic: &str, uid: &str) -> Running {
    ready_sub(url, &[topic, "--uid", uid]).0
}

#[test]
fn a_typo_in_a_topic_name_is_no_subscribers_with_did_you_mean() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let rec = Recording::start(&url);
    let _browser = watcher(&url, "DeviceState", "browser-0001");
    for _ in 0..2 {
        publish(
            &url,
            &["DeviceStat", r#"{"On":true}"#, "--uid", "dev-000001"],
        );
    }
    let rec = rec.stop();
    let (findings, _, out) = analyze_file(&rec.path, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a warning: {}",
        text(&out.stderr)
    );
    let f = only(&findings, "no-subscribers");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["topic"], "DeviceStat");
    assert_eq!(f["count"], 2);
    assert_eq!(f["clients"][0]["uid"], "dev-000001");
    assert!(
        message(f).contains("did you mean `DeviceState`?"),
        "{}",
        message(f)
    );
    assert_eq!(f["evidence"][0]["kind"], "drop");
}

#[test]
fn a_topic_nobody_subscribes_is_reported_at_the_end_and_one_with_a_late_subscriber_is_not() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let rec = Recording::start(&url);
    publish(&url, &["Alerts/Overheat", "{}", "--uid", "dev-000001"]);
    // Start-up order: the device publishes before the browser subscribes.
    publish(&url, &["DeviceState", "{}", "--uid", "dev-000001"]);
    let _browser = watcher(&url, "DeviceState", "browser-0001");
    let rec = rec.stop();
    let (findings, _, _) = analyze_file(&rec.path, &[]);
    let f = only(&findings, "no-subscribers");
    assert_eq!(f["topic"], "Alerts/Overheat");
    assert!(
        message(f).contains("nobody subscribed to at any time"),
        "{}",
        message(f)
    );
}

#[test]
fn a_command_to_a_closed_devices_etid_is_stale_etid_naming_the_device_and_the_sender() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let closes = Closes::of(&broker.broker);
    let rec = Recording::start(&url);
    let (device, etid) = ready_sub(
        &url,
        &["self", "--subtopic", "SetRelay", "--uid", "dev-000001"],
    );
    drop(device); // killed: its connection closes
    closes.reason("dev-000001");
    let etid_arg = etid.to_string();
    for _ in 0..2 {
        publish(
            &url,
            &[
                "--to-etid",
                &etid_arg,
                "--subtopic",
                "SetRelay",
                r#"{"on":true}"#,
                "--uid",
                "browser-0001",
            ],
        );
    }
    let rec = rec.stop();
    let (findings, _, out) = analyze_file(&rec.path, &[]);
    assert_eq!(out.status.code(), Some(1), "an error fails --fail-on error");
    let f = only(&findings, "stale-etid");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["count"], 2);
    assert_eq!(f["clients"][0]["uid"], "browser-0001");
    assert_eq!(f["subtopic"], "SetRelay");
    let m = message(f);
    assert!(m.contains(&format!("etid {etid} ")), "{m}");
    assert!(
        m.contains("which dev-000001 held until it closed at 20"),
        "{m}"
    );
    assert!(m.starts_with("browser-0001"), "the sender: {m}");
}

#[test]
fn a_tid_that_never_existed_is_stale_etid_too() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let rec = Recording::start(&url);
    publish(
        &url,
        &["--to-etid", "195887105", "hello", "--uid", "demo-device"],
    );
    let rec = rec.stop();
    let (findings, _, _) = analyze_file(&rec.path, &[]);
    let f = only(&findings, "stale-etid");
    assert!(
        // A live trace starts with the attach snapshot: closes before it are unknown.
        message(f).contains("(0x0bad0001), which no client held since the trace attached"),
        "{}",
        message(f)
    );
}

/// A device the server sends to, and a browser that sends to it directly
/// (`server_sends`), or a peer-to-peer app where only clients address it.
fn direct_to_device(server_sends: bool) -> (Vec<Value>, std::process::Output) {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let rec = Recording::start(&url);
    let (_device, etid) = ready_sub(
        &url,
        &["self", "--subtopic", "SetRelay", "--uid", "dev-000001"],
    );
    if server_sends {
        // The server talks to the device itself (its config, its commands).
        assert_eq!(
            broker
                .broker
                .publish(bytes::Bytes::from_static(b"{}"), etid, 0),
            1
        );
    }
    publish(
        &url,
        &[
            "--to-etid",
            &etid.to_string(),
            "--subtopic",
            "SetRelay",
            r#"{"on":true}"#,
            "--uid",
            "browser-0001",
        ],
    );
    let rec = rec.stop();
    let (findings, _, out) = analyze_file(&rec.path, &[]);
    (findings, out)
}

#[test]
fn a_browser_commanding_a_device_the_server_talks_to_is_client_to_client() {
    let (findings, out) = direct_to_device(true);
    assert_eq!(out.status.code(), Some(0), "info");
    let f = only(&findings, "client-to-client");
    assert_eq!(f["severity"], "info");
    assert_eq!(f["clients"][0]["uid"], "browser-0001");
    assert_eq!(f["clients"][1]["uid"], "dev-000001");
    assert_eq!(f["subtopic"], "SetRelay");
    assert!(
        message(f).contains("straight to clients the server also sends to (dev-000001)"),
        "{}",
        message(f)
    );
}

#[test]
fn a_peer_to_peer_message_to_a_device_the_server_never_addresses_is_not_client_to_client() {
    let (findings, _) = direct_to_device(false);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn a_response_topic_per_request_is_dynamic_topics() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let rec = Recording::start(&url);
    for i in 0..7 {
        let topic = format!("resp/{i}");
        let (sub, _) = ready_sub(&url, &[&topic, "-C", "1", "--uid", "browser-0001"]);
        publish(&url, &[&topic, "[]", "--uid", "responder-01"]);
        let out = sub.wait();
        assert!(out.status.success(), "sub -C 1: {}", text(&out.stderr));
    }
    let rec = rec.stop();
    let (findings, _, _) = analyze_file(&rec.path, &["--dynamic-topics", "5"]);
    let f = only(&findings, "dynamic-topics");
    assert_eq!(f["clients"][0]["uid"], "browser-0001");
    assert!(
        message(f).contains("created 6 topics that each carried one message (`resp/1`"),
        "{}",
        message(f)
    );
    // The default threshold (20) is not reached.
    let (findings, _, _) = analyze_file(&rec.path, &[]);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn json_and_text_on_one_topic_is_mixed_payload_types() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let rec = Recording::start(&url);
    let _browser = watcher(&url, "DeviceState", "browser-0001");
    publish(
        &url,
        &["DeviceState", r#"{"temp":21.5}"#, "--uid", "dev-000001"],
    );
    publish(&url, &["DeviceState", "21.5 C", "--uid", "dev-000002"]);
    let rec = rec.stop();
    let (findings, _, _) = analyze_file(&rec.path, &[]);
    let f = only(&findings, "mixed-payload-types");
    assert_eq!(f["topic"], "DeviceState");
    assert!(
        message(f).contains("carries JSON (from dev-000001")
            && message(f).contains("non-JSON text (from dev-000002"),
        "{}",
        message(f)
    );
}

#[test]
fn a_uid_connecting_again_and_again_is_a_reconnect_storm() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let rec = Recording::start(&url);
    let _browser = watcher(&url, "DeviceState", "browser-0001");
    for _ in 0..5 {
        publish(&url, &["DeviceState", "{}", "--uid", "dev-flappy"]);
    }
    let rec = rec.stop();
    let (findings, _, _) = analyze_file(&rec.path, &["--storm", "3"]);
    let f = only(&findings, "reconnect-storm");
    assert_eq!(f["clients"][0]["uid"], "dev-flappy");
    assert_eq!(f["count"], 2, "the 4th and 5th connect");
    assert!(
        message(f).starts_with("dev-flappy connected 5 times within 60 s"),
        "{}",
        message(f)
    );
    let (findings, _, _) = analyze_file(&rec.path, &[]);
    assert!(
        findings.is_empty(),
        "5 is under the default --storm 10: {findings:#?}"
    );
}

/// Three clients started with one UID: each takes the connection over from
/// the one before (`sub` then exits rather than take it back).
fn shared_uid(url: &str, clients: usize) -> Recorded {
    let rec = Recording::start(url);
    let mut running = Vec::new();
    for _ in 0..clients {
        running.push(ready_sub(url, &["self", "--uid", "dev-000001"]).0);
    }
    rec.stop()
}

#[test]
fn takeovers_of_one_uid_are_a_reconnect_storm_and_one_takeover_is_not() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let rec = shared_uid(&url, 3);
    let (findings, _, _) = analyze_file(&rec.path, &[]);
    let f = only(&findings, "reconnect-storm");
    assert!(
        message(f).starts_with("dev-000001's live connection was taken over 2 times"),
        "{}",
        message(f)
    );
    let rec = shared_uid(&url, 2);
    let (findings, _, _) = analyze_file(&rec.path, &[]);
    assert!(
        findings.is_empty(),
        "one takeover (a half-open connection): {findings:#?}"
    );
}

#[test]
fn a_subscriber_that_stops_reading_is_a_slow_consumer_and_the_other_still_gets_it() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let rec = Recording::start(&url);
    let (mut fast, _) = ready_sub(&url, &["Bulk", "--uid", "fast-reader"]);
    let (slow, _) = ready_sub(&url, &["Bulk", "--uid", "slow-reader"]);
    slow.signal(Signal::SIGSTOP); // reads nothing from now on
    // 16000 bytes: under --large, so only the queue matters.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bulk.txt");
    std::fs::write(&file, "x".repeat(16_000)).expect("write the payload");
    let file = file.to_string_lossy().into_owned();
    let deadline = Instant::now() + STEP * 4;
    while broker.broker.stats().queue_full == 0 {
        assert!(
            Instant::now() < deadline,
            "the stopped reader's queue never filled"
        );
        publish(
            &url,
            &["Bulk", "-f", &file, "-C", "200", "--uid", "bulk-pub-01"],
        );
    }
    fast.stdout_line(); // the reading subscriber got messages
    let rec = rec.stop();
    slow.signal(Signal::SIGCONT);
    drop(slow);
    let (findings, _, out) = analyze_file(&rec.path, &[]);
    assert_eq!(out.status.code(), Some(1), "an error");
    let f = only(&findings, "slow-consumer");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["clients"][0]["uid"], "slow-reader");
    assert_eq!(f["clients"][1]["uid"], "bulk-pub-01");
    assert_eq!(f["topic"], "Bulk");
    let missed = broker.broker.stats().queue_full;
    assert!(
        f["count"].as_u64().is_some_and(|n| n >= 1 && n <= missed),
        "{} of {missed} misses",
        f["count"]
    );
    assert!(message(f).contains("send queue was full"), "{}", message(f));
}
