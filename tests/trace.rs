//! `smqctl trace` against the embedded broker (attached and degraded), and
//! `smqctl hook lua` (the hook's logic is tested in mako_hook.rs).

use std::time::Instant;

use smqctl::broker::{Auth, BrokerConfig};
use smqctl::trace::schema::{DestType, Event, Kind};

use crate::harness::{Running, STEP, TestBroker, publish, ready_sub, run, smqctl, text};

/// Starts `smqctl trace --format json ARGS` and waits until it has attached.
fn tracer(url: &str, args: &[&str]) -> Running {
    let mut cmd = smqctl();
    cmd.arg("trace")
        .args(["--url", url, "--format", "json"])
        .args(args);
    let mut t = Running::spawn(&mut cmd);
    t.stderr_line("attached to the broker's tracer");
    t
}

/// Reads trace events until `done` says the ones seen so far are enough.
fn events_until(t: &mut Running, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + STEP;
    let mut seen = Vec::new();
    while !done(&seen) {
        assert!(Instant::now() < deadline, "events so far: {seen:#?}");
        let line = t.stdout_line();
        let e: Event = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a schema event: {line}: {e}"));
        seen.push(e);
    }
    seen
}

fn uid_of(e: &Event) -> Option<&str> {
    e.from.as_ref().and_then(|c| c.uid.as_deref())
}

fn topic_of(e: &Event) -> Option<&str> {
    e.to.as_ref().and_then(|d| d.name.as_deref())
}

#[test]
fn trace_shows_publish_drop_connect_and_close_with_names_from_the_broker() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let mut t = tracer(&url, &["--uid", "tracer-0001"]);
    let first = events_until(&mut t, |s| !s.is_empty());
    assert_eq!(first[0].kind, Kind::Snapshot, "{first:?}");

    let (sub, _) = ready_sub(
        &url,
        &[
            "DeviceState",
            "--uid",
            "watcher-0001",
            "-C",
            "1",
            "-W",
            "10s",
        ],
    );
    publish(
        &url,
        &[
            "DeviceState",
            r#"{"On":true}"#,
            "--subtopic",
            "SetCharger",
            "--uid",
            "sender-0001",
        ],
    );
    publish(&url, &["Nobody", "hello?", "--uid", "sender-0002"]);
    assert!(sub.wait().status.success());

    let seen = events_until(&mut t, |s| {
        s.iter()
            .any(|e| e.kind == Kind::Close && uid_of(e) == Some("watcher-0001"))
            && s.iter().any(|e| e.kind == Kind::Drop)
    });
    let find = |kind: Kind, uid: &str| {
        seen.iter()
            .find(|e| e.kind == kind && uid_of(e) == Some(uid))
            .unwrap_or_else(|| panic!("no {kind} by {uid} in {seen:#?}"))
    };
    let p = find(Kind::Publish, "sender-0001");
    assert_eq!(topic_of(p), Some("DeviceState"));
    assert_eq!(p.to.as_ref().map(|d| d.kind), Some(DestType::Topic));
    assert_eq!(p.subtopic.as_deref(), Some("SetCharger"));
    assert_eq!((p.receivers, p.verdict), (Some(1), Some(true)));
    assert_eq!(p.payload.as_deref(), Some(r#"{"On":true}"#));
    let d = find(Kind::Drop, "sender-0002");
    assert_eq!(topic_of(d), Some("Nobody"));
    assert_eq!(d.reason.as_deref(), Some("no subscribers"));
    let c = find(Kind::Connect, "watcher-0001");
    assert!(
        c.from
            .as_ref()
            .and_then(|f| f.addr.as_deref())
            .is_some_and(|a| a.starts_with("127.0.0.1:")),
        "{c:?}"
    );
    assert!(topic_of(find(Kind::Subscribe, "watcher-0001")) == Some("DeviceState"));
    find(Kind::Close, "sender-0001");
    // The tracer's own machinery never shows up.
    assert!(
        seen.iter().all(|e| !e.is_reserved()),
        "trace messages traced: {seen:#?}"
    );
}

#[test]
fn trace_count_ends_with_0_and_filters_pick_the_events() {
    let broker = TestBroker::start();
    let url = broker.url("http");
    let t = tracer(&url, &["--drops", "--count", "1", "--timeout", "10s"]);
    publish(&url, &["Routed", "x", "--uid", "sender-0001"]); // a drop: nobody subscribes
    let out = t.wait();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout)
        .expect("utf-8")
        .lines()
        .collect();
    assert_eq!(lines.len(), 1, "only the drop passes the filter: {lines:?}");
    let e: Event = serde_json::from_str(lines[0]).expect("schema");
    assert_eq!((e.kind, topic_of(&e)), (Kind::Drop, Some("Routed")));
}

#[test]
fn trace_times_out_with_5_when_count_is_not_reached() {
    let broker = TestBroker::start();
    let out = run(smqctl().args([
        "trace",
        "--url",
        &broker.url("ws"),
        "--format",
        "json",
        "--kind",
        "drop",
        "--count",
        "5",
        "--timeout",
        "1s",
    ]));
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("timed out"));
}

#[test]
fn refused_credentials_are_traced_without_the_secret() {
    let broker = TestBroker::with_config(BrokerConfig {
        auth: Some(Auth::Shared("right-secret".into())),
        ..BrokerConfig::default()
    });
    let url = broker.url("ws");
    let mut t = tracer(&url, &["--credentials", "right-secret", "--kind", "deny"]);
    let out = run(smqctl().args([
        "pub",
        "T",
        "x",
        "--url",
        &url,
        "--uid",
        "intruder-01",
        "--credentials",
        "wrong-secret-123",
    ]));
    assert_eq!(out.status.code(), Some(4));
    let seen = events_until(&mut t, |s| !s.is_empty());
    assert_eq!(seen[0].kind, Kind::Deny);
    assert_eq!(uid_of(&seen[0]), Some("intruder-01"));
    let line = serde_json::to_string(&seen[0]).expect("json");
    assert!(!line.contains("wrong-secret-123"), "{line}");
    assert!(!line.contains("right-secret"), "{line}");
}

#[test]
fn without_a_tracer_answering_trace_degrades_to_client_side_messages() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let mut cmd = smqctl();
    cmd.args([
        "trace",
        "--url",
        &url,
        "--format",
        "json",
        "--server-etid",
        "12345", // nobody answers there
        "--attach-timeout",
        "300ms",
        "--fallback-topic",
        "DeviceState",
        "--count",
        "1",
        "--timeout",
        "10s",
    ]);
    let mut t = Running::spawn(&mut cmd);
    let line = t.stderr_line("degraded");
    assert!(line.contains("DeviceState"), "{line}");
    assert!(
        line.contains("no tracer answered: is the hook installed? (README: Mako hook)"),
        "{line}"
    );
    publish(&url, &["DeviceState", "on", "--uid", "sender-0001"]);
    let out = t.wait();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let e: Event = serde_json::from_slice(&out.stdout).expect("one schema event");
    assert_eq!((e.kind, topic_of(&e)), (Kind::Publish, Some("DeviceState")));
    assert_eq!(e.payload.as_deref(), Some("on"));

    let out = run(smqctl().args([
        "trace",
        "--url",
        &url,
        "--server-etid",
        "12345",
        "--attach-timeout",
        "300ms",
        "--no-fallback",
    ]));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("error: no trace source"), "{err}");
    assert!(err.contains("ETID 12345"), "the error says why: {err}");
    assert!(
        err.contains("no tracer answered: is the hook installed? (README: Mako hook)"),
        "an SMQ broker without a tracer points at the hook, not the URL: {err}"
    );
    // The other cause (an rndtid broker), and no claim about which brokers
    // always answer (this one did not).
    assert!(
        err.contains("or is --server-etid right (brokers made with rndtid)?"),
        "{err}"
    );
    assert!(!err.contains("always answers"), "{err}");
    assert!(!err.contains("check the URL path"), "{err}");
    assert!(
        !err.contains("degraded"),
        "--no-fallback never runs degraded, so it must not say it does: {err}"
    );
}

#[test]
fn hook_lua_output_creates_the_install_directory_the_readme_names() {
    // README: `smqctl hook lua --output myapp/.lua/smqctl/trace.lua`, where
    // `smqctl/` does not exist yet in an app.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("myapp/.lua/smqctl/trace.lua");
    let out = run(smqctl().args(["hook", "lua", "--output"]).arg(&file));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&file).expect("written");
    assert!(written.contains("smq.hub"), "the Lua hook");
}

#[test]
fn trace_reattaches_after_the_connection_drops() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let mut t = tracer(&url, &["--kind", "drop"]);
    broker.broker.shutdown_all("maintenance");
    t.stderr_line("reconnecting");
    t.stderr_line("attached to the broker's tracer");
    publish(&url, &["Nobody", "x", "--uid", "sender-0001"]);
    let seen = events_until(&mut t, |s| !s.is_empty());
    assert_eq!(
        (seen[0].kind, topic_of(&seen[0])),
        (Kind::Drop, Some("Nobody")),
        "events flow again after the re-attach"
    );
}

#[test]
fn broker_logs_who_attaches_and_refuses_a_bad_trace_allow() {
    let out = run(smqctl().args([
        "broker",
        "--listen",
        "127.0.0.1:0",
        "--trace-allow",
        "10.0.0.0/33",
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--trace-allow"));

    let mut broker = Running::spawn(smqctl().args([
        "broker",
        "--listen",
        "127.0.0.1:0",
        "-v",
        "--trace-allow",
        "10.0.0.0/8",
    ]));
    let line = broker.stdout_line();
    let addr = line.strip_prefix("listening on ").expect("listening line");
    let _t = tracer(&format!("ws://{addr}/"), &["--uid", "tracer-0042"]);
    let log = broker.stderr_line("tracer attached");
    assert!(log.contains("tracer-0042"), "{log}");
}

#[test]
fn trace_json_payload_is_the_json_value_not_a_string_needing_fromjson() {
    let broker = TestBroker::start();
    let url = broker.url("http");
    let t = tracer(&url, &["--drops", "--count", "2", "--timeout", "10s"]);
    publish(
        &url,
        &[
            "Nobody",
            r#"{"On": true, "n": [1, 2]}"#,
            "--uid",
            "sender-0001",
        ],
    );
    publish(&url, &["Nobody", "plain words", "--uid", "sender-0001"]);
    let out = t.wait();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = std::str::from_utf8(&out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let (json, plain) = (&lines[0], &lines[1]);
    assert_eq!(
        (&json["v"], &json["encoding"]),
        (&2.into(), &"json".into()),
        "{json}"
    );
    assert!(json["payload"].is_object(), "payload is the value: {json}");
    assert_eq!(json["payload"]["n"][1], 2, "{json}");
    assert_eq!(plain["encoding"], "text");
    assert_eq!(plain["payload"], "plain words");
}

#[test]
fn trace_drops_with_no_drop_exited_5_with_no_way_to_say_none_is_success() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    // Traffic, but no drop: a subscriber receives every publish.
    let (sub, _) = ready_sub(&url, &["Watched", "-C", "1", "-W", "10s"]);
    let t = tracer(&url, &["--drops", "-W", "2s", "--expect-none"]);
    publish(&url, &["Watched", "x"]);
    let out = t.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(sub.wait().status.success());
    // A drop ends it at once with 1.
    let started = Instant::now();
    let t = tracer(&url, &["--drops", "-W", "20s", "--expect-none"]);
    publish(&url, &["Nobody", "x", "--uid", "sender-0001"]);
    let out = t.wait();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--expect-none: a drop event arrived"),
        "{}",
        text(&out.stderr)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    // Degraded mode cannot see drops: no false success.
    let out = run(smqctl().args([
        "trace",
        "--drops",
        "-W",
        "5s",
        "--expect-none",
        "--server-etid",
        "12345",
        "--attach-timeout",
        "300ms",
        "--url",
        &url,
    ]));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--expect-none needs one"),
        "{}",
        text(&out.stderr)
    );
    // Without -W there is no "none within" to succeed on.
    let out = run(smqctl().args(["trace", "--drops", "--expect-none", "--url", &url]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
