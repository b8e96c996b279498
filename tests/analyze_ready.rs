//! The readiness rules of `smqctl analyze` (issue 15) end to end: real
//! clients against the embedded broker reproduce each mistake (a device that
//! sends `DeviceReady` before subscribing, a broker that sends from
//! "onconnect", a command on a sub-topic nobody registered, MQTT wildcards, a
//! topic named `self`), `smqctl trace -F json` records it, and `smqctl analyze
//! --format json` must find exactly that. Also `trace --findings` and the TUI's
//! Findings view in a pseudo-terminal.

use std::future::Future;
use std::io::{Read, Write};
use std::net::TcpStream;

use bytes::Bytes;
use serde_json::Value;
use smqctl::client::{Client, ClientOptions, Dest, Subscription};
use smqctl::transport::Endpoint;

use crate::harness::{Recording, STEP, TestBroker, analyze_file, ready_sub, run, smqctl, text};
use crate::pty::Pty;

/// The broker side of a charger app: `DeviceReady` re-published as an event
/// (a dashboard subscribes to it, so nothing is dropped).
const READY_EVENT: &str = "[[event]]\nname = \"DeviceReady\"\n";

fn block_on<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(f)
}

async fn connect(url: &str, uid: &str) -> Client {
    let endpoint = Endpoint::parse(url).expect("a broker URL");
    let mut opts = ClientOptions::new(endpoint);
    opts.uid = Some(uid.into());
    let (client, _events) = tokio::time::timeout(STEP, Client::connect(&opts))
        .await
        .expect("connected in time")
        .expect("connected");
    client
}

/// A dashboard that watches `DeviceReady` events.
async fn dashboard(url: &str) -> (Client, Subscription) {
    let d = connect(url, "dashboard-0001").await;
    let s = d.subscribe("DeviceReady", None).await.expect("subscribed");
    (d, s)
}

async fn next(s: &mut Subscription, what: &str) {
    tokio::time::timeout(STEP, s.rx.recv())
        .await
        .unwrap_or_else(|_| panic!("no {what} within {STEP:?}"))
        .unwrap_or_else(|| panic!("{what}: the subscription ended"));
}

fn json(s: &str) -> Bytes {
    Bytes::from(s.as_bytes().to_vec())
}

/// The rule names of `findings`, in order.
fn rules(findings: &[Value]) -> Vec<&str> {
    findings.iter().filter_map(|f| f["rule"].as_str()).collect()
}

#[test]
fn analyze_finds_a_device_that_sends_device_ready_before_subscribing() {
    let broker = TestBroker::with_handlers(READY_EVENT);
    let url = broker.url("ws");
    let server = broker.broker.server_etid();
    let rec = Recording::start(&url);
    block_on(async {
        let (d, mut ready) = dashboard(&url).await;
        let dev = connect(&url, "charger-00001").await;
        let _cmd = dev
            .subscribe("self", Some("SetCharger"))
            .await
            .expect("self");
        dev.publish(Dest::Id(server), Some("DeviceReady"), json("{}"))
            .await
            .expect("ready sent");
        // The mistake: a subscription after the barrier.
        let _late = dev.subscribe("DeviceState", None).await.expect("late");
        next(&mut ready, "DeviceReady event").await;
        dev.disconnect("done").await;
        d.disconnect("done").await;
    });
    let rec = rec.stop();
    let (findings, summary, out) = analyze_file(&rec.path, &[]);
    assert_eq!(
        rules(&findings),
        ["ready-before-subscribed"],
        "{findings:#?}"
    );
    let f = &findings[0];
    assert_eq!(f["severity"], "error");
    assert_eq!(f["topic"], "DeviceState");
    assert_eq!(f["clients"][0]["uid"], "charger-00001");
    assert_eq!(f["evidence"][0]["subtopic"], "DeviceReady");
    assert_eq!(f["evidence"][1]["kind"], "subscribe");
    assert!(
        f["fix"].as_str().is_some_and(|s| s.contains("onack")),
        "{f}"
    );
    assert_eq!(summary["findings"]["error"], 1);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an error fails the default --fail-on"
    );
}

#[test]
fn analyze_finds_a_self_handler_registered_after_device_ready() {
    let broker = TestBroker::with_handlers(READY_EVENT);
    let url = broker.url("ws");
    let server = broker.broker.server_etid();
    let rec = Recording::start(&url);
    block_on(async {
        let (d, mut ready) = dashboard(&url).await;
        let dev = connect(&url, "charger-00002").await;
        dev.publish(Dest::Id(server), Some("DeviceReady"), json("{}"))
            .await
            .expect("ready sent");
        next(&mut ready, "DeviceReady event").await;
        // The mistake: the command handler comes after the barrier…
        let mut cmd = dev
            .subscribe("self", Some("SetCharger"))
            .await
            .expect("self");
        // …and the broker's command on DeviceReady finds it only by luck.
        let subtid = broker.broker.createsub("SetCharger");
        let sent = broker
            .broker
            .publish(json(r#"{"On":true}"#), dev.etid(), subtid);
        assert_eq!(sent, 1, "the command reached the device");
        next(&mut cmd, "SetCharger").await;
        dev.disconnect("done").await;
        d.disconnect("done").await;
    });
    let rec = rec.stop();
    let (findings, _, _) = analyze_file(&rec.path, &[]);
    assert_eq!(
        rules(&findings),
        ["ready-before-subscribed"],
        "{findings:#?}"
    );
    let f = &findings[0];
    assert_eq!(f["subtopic"], "SetCharger");
    assert_eq!(f["clients"][0]["uid"], "charger-00002");
    let kinds: Vec<&str> = f["evidence"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["publish", "createsub", "publish"], "{f}");
}

#[test]
fn analyze_finds_a_broker_that_sends_before_device_ready_and_not_after() {
    let broker = TestBroker::with_handlers(READY_EVENT);
    let url = broker.url("ws");
    let server = broker.broker.server_etid();
    let rec = Recording::start(&url);
    block_on(async {
        let (d, mut ready) = dashboard(&url).await;
        let dev = connect(&url, "charger-00003").await;
        let mut id = dev
            .subscribe("self", Some("SetDeviceID"))
            .await
            .expect("self");
        // The mistake: the broker sends as soon as the device is connected
        // (from onconnect), before the device said DeviceReady.
        let subtid = broker.broker.createsub("SetDeviceID");
        let sent = broker
            .broker
            .publish(json(r#"{"id":7}"#), dev.etid(), subtid);
        assert_eq!(sent, 1);
        next(&mut id, "SetDeviceID").await;
        dev.publish(Dest::Id(server), Some("DeviceReady"), json("{}"))
            .await
            .expect("ready sent");
        next(&mut ready, "DeviceReady event").await;
        // After the barrier a command is fine.
        assert_eq!(broker.broker.publish(json("{}"), dev.etid(), subtid), 1);
        next(&mut id, "SetDeviceID after ready").await;
        dev.disconnect("done").await;
        d.disconnect("done").await;
    });
    let rec = rec.stop();
    let (findings, _, _) = analyze_file(&rec.path, &[]);
    assert_eq!(rules(&findings), ["sent-before-ready"], "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["severity"], "error");
    assert_eq!(f["subtopic"], "SetDeviceID");
    assert_eq!(
        f["count"], 1,
        "the command after DeviceReady is not counted"
    );
    assert_eq!(f["clients"][0]["uid"], "charger-00003");
    assert!(
        f["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("the server sent `SetDeviceID`")),
        "{f}"
    );
    assert_eq!(f["evidence"][1]["subtopic"], "DeviceReady");
}

#[test]
fn analyze_finds_a_command_on_a_sub_topic_the_device_never_registered() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let rec = Recording::start(&url);
    block_on(async {
        let a = connect(&url, "charger-00004").await;
        let _a = a.subscribe("self", Some("SetCharger")).await.expect("self");
        // A second registration of the same name: the trace shows its source
        // reports every createsub.
        let b = connect(&url, "charger-00005").await;
        let _b = b.subscribe("self", Some("SetCharger")).await.expect("self");
        let typo = broker.broker.createsub("SetChargr");
        assert_eq!(broker.broker.publish(json("{}"), a.etid(), typo), 1);
        // The right name is fine.
        let right = broker.broker.createsub("SetCharger");
        assert_eq!(broker.broker.publish(json("{}"), b.etid(), right), 1);
        a.disconnect("done").await;
        b.disconnect("done").await;
    });
    let rec = rec.stop();
    let (findings, _, out) = analyze_file(&rec.path, &[]);
    assert_eq!(rules(&findings), ["unregistered-subtopic"], "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["subtopic"], "SetChargr");
    assert_eq!(f["clients"][0]["uid"], "charger-00004");
    assert!(
        f["message"]
            .as_str()
            .is_some_and(|m| m.contains("it registered `SetCharger`")),
        "{f}"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "a warning passes --fail-on error"
    );
}

/// Subscribes to `topic` with hand-made packets (smqctl's own client never
/// sends `self`), over the raw transport; returns once the Suback came.
fn raw_subscribe(broker: &TestBroker, uid: &str, topic: &str) -> TcpStream {
    fn frame(body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 2) as u16).to_be_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }
    fn read_frame(s: &mut TcpStream) -> Vec<u8> {
        let mut len = [0u8; 2];
        s.read_exact(&mut len).expect("a frame length");
        let mut body = vec![0u8; (u16::from_be_bytes(len) as usize).saturating_sub(2)];
        s.read_exact(&mut body).expect("a frame");
        body
    }
    let mut s = TcpStream::connect(broker.addr).expect("tcp");
    s.set_read_timeout(Some(STEP)).expect("timeout");
    s.write_all(b"GET /smq/ HTTP/1.1\r\nHost: x\r\nSimpleMQ: 1\r\n\r\n")
        .expect("head");
    assert_eq!(read_frame(&mut s)[0], 1, "Init first");
    // Connect: version 1, the UID, no credentials, no info.
    let mut connect = vec![2u8, 1, uid.len() as u8];
    connect.extend_from_slice(uid.as_bytes());
    connect.push(0);
    s.write_all(&frame(&connect)).expect("Connect");
    assert_eq!(&read_frame(&mut s)[..2], &[3, 0], "accepted");
    // Subscribe (type 4) with the topic name; the Suback (type 5) follows.
    let mut sub = vec![4u8];
    sub.extend_from_slice(topic.as_bytes());
    s.write_all(&frame(&sub)).expect("Subscribe");
    assert_eq!(read_frame(&mut s)[0], 5, "a Suback");
    s
}

/// `smqctl sub ARGS` until it has subscribed (its Suback came back, so the
/// broker has traced the subscribe), then stopped by SIGINT: a clean exit.
/// Not `sub -W 50ms`: -W runs from the start, so on a loaded machine it ran
/// out before the Subscribe was sent, and no finding came.
fn sub_until_subscribed(url: &str, args: &[&str]) {
    let (sub, _) = ready_sub(url, args);
    sub.interrupt();
    let out = sub.wait();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        text(&out.stderr)
    );
}

#[test]
fn analyze_finds_mqtt_wildcards_and_a_literal_self_topic() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let rec = Recording::start(&url);
    sub_until_subscribed(&url, &["chargers/+/state", "--uid", "dashboard-0002"]);
    // Names that only contain the characters are fine.
    sub_until_subscribed(&url, &["C++/news"]);
    let raw = raw_subscribe(&broker, "c-client-01", "self");
    let rec = rec.stop();
    drop(raw);
    let (findings, _, _) = analyze_file(&rec.path, &[]);
    assert_eq!(
        rules(&findings),
        ["mqtt-wildcard", "literal-self-topic"],
        "{findings:#?}"
    );
    assert_eq!(findings[0]["topic"], "chargers/+/state");
    assert_eq!(findings[0]["clients"][0]["uid"], "dashboard-0002");
    assert_eq!(findings[1]["topic"], "self");
    assert_eq!(findings[1]["clients"][0]["uid"], "c-client-01");
    // --allow turns them off.
    let (none, _, _) = analyze_file(
        &rec.path,
        &["--allow", "mqtt-wildcard", "--allow", "literal-self-topic"],
    );
    assert!(none.is_empty(), "{none:#?}");
}

#[test]
fn trace_findings_interleaves_each_finding_after_the_event_that_made_it() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let mut cmd = smqctl();
    cmd.args(["trace", "--findings", "-F", "json", "--url", &url]);
    let mut t = crate::harness::Running::spawn(&mut cmd);
    t.stderr_line("attached to the broker's tracer");
    sub_until_subscribed(&url, &["devices/#", "--uid", "dashboard-0003"]);
    let mut lines: Vec<Value> = Vec::new();
    let deadline = std::time::Instant::now() + STEP;
    while !lines.iter().any(|l| l["type"] == "finding") {
        assert!(std::time::Instant::now() < deadline, "{lines:#?}");
        let l = t.stdout_line();
        lines.push(serde_json::from_str(&l).unwrap_or_else(|e| panic!("{l}: {e}")));
    }
    t.interrupt();
    let f = lines.last().expect("a finding");
    assert_eq!(f["rule"], "mqtt-wildcard");
    assert_eq!(f["topic"], "devices/#");
    let before = &lines[lines.len() - 2];
    assert_eq!(
        before["kind"], "subscribe",
        "right after its event: {lines:#?}"
    );
    assert_eq!(before["to"]["name"], "devices/#");

    // The same, recorded with --findings, still replays: readers skip the
    // finding lines, and pretty lines show them as FINDING.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("with-findings.ndjson");
    let body: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&path, body.join("\n") + "\n").expect("write");
    let out = run(smqctl()
        .args(["trace", "--findings", "-F", "pretty", "--file"])
        .arg(&path));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pretty = text(&out.stdout);
    let finding_lines: Vec<&str> = pretty.lines().filter(|l| l.contains("FINDING")).collect();
    assert_eq!(finding_lines.len(), 1, "{pretty}");
    assert!(
        finding_lines[0].contains("warning[mqtt-wildcard] dashboard-0003"),
        "{pretty}"
    );
    let (findings, _, _) = analyze_file(&path, &[]);
    assert_eq!(rules(&findings), ["mqtt-wildcard"], "{findings:#?}");
}

/// A recorded session where the broker sends `SetDeviceID` before the
/// device's `DeviceReady`, written as the embedded broker would.
fn early_command_file(dir: &std::path::Path) -> std::path::PathBuf {
    let lines = [
        r#"{"v":2,"ts":"2026-11-22T03:44:10.000Z","kind":"connect","from":{"etid":21,"uid":"charger-00001"}}"#,
        r#"{"v":2,"ts":"2026-11-22T03:44:10.100Z","kind":"subscribe","from":{"etid":22,"uid":"dashboard-1"},"to":{"tid":9,"type":"topic","name":"DeviceState"}}"#,
        r#"{"v":2,"ts":"2026-11-22T03:44:10.200Z","kind":"publish","from":{"etid":1,"server":true},"to":{"tid":21,"type":"client","uid":"charger-00001"},"subtid":31,"subtopic":"SetDeviceID","size":8,"encoding":"json","payload":{"id":7}}"#,
        r#"{"v":2,"ts":"2026-11-22T03:44:10.300Z","kind":"publish","from":{"etid":21,"uid":"charger-00001"},"to":{"tid":1,"type":"server"},"subtid":32,"subtopic":"DeviceReady","size":2,"encoding":"json","payload":{}}"#,
        r#"{"v":2,"ts":"2026-11-22T03:44:10.400Z","kind":"publish","from":{"etid":21,"uid":"charger-00001"},"to":{"tid":9,"type":"topic","name":"DeviceState"},"size":2,"encoding":"json","payload":{},"receivers":1}"#,
    ];
    let path = dir.join("early.ndjson");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    path
}

#[test]
fn tui_findings_view_lists_a_finding_and_enter_shows_its_evidence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = early_command_file(dir.path());
    let file_arg = file.to_str().expect("utf-8 path");
    let term = Pty::start(dir.path(), &["tui", "--file", file_arg], 100, 30);
    term.wait_for("every event replayed", |s| {
        s.contains("5 shown") && s.contains("end of")
    });
    term.keys(&["4"]);
    term.wait_for("the findings view with the finding and its fix", |s| {
        s.contains("Findings (1)")
            && s.contains("sent-before-ready")
            && s.contains("fix: send nothing to a client before its `DeviceReady`")
    });
    term.keys(&["Enter"]);
    term.wait_for("the events view narrowed to the evidence", |s| {
        s.contains("evidence (2 events, Esc all)") && s.contains("2 shown")
    });
    term.keys(&["Escape"]);
    term.wait_for("every event again", |s| {
        s.contains("5 shown") && s.contains("filter: none")
    });
    term.keys(&["q"]);
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    term.assert_restored();
}
