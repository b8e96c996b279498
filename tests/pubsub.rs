//! Round trips through the embedded broker with the real binary: both transports,
//! direct messages, sub-topics, observe, takeover.

use crate::harness::{TestBroker, json_lines, publish, ready_sub, run, smqctl, text};

fn round_trip(scheme: &str) {
    let broker = TestBroker::start();
    let url = broker.url(scheme);
    let (sub, _) = ready_sub(
        &url,
        &[
            "DeviceState",
            "-C",
            "2",
            "-W",
            "10s",
            "--resolve-subtopic",
            "SetCharger",
        ],
    );
    publish(
        &url,
        &[
            "DeviceState",
            r#"{"On":true}"#,
            "--json",
            "--subtopic",
            "SetCharger",
        ],
    );
    publish(&url, &["DeviceState", "plain text"]);
    let out = sub.wait();
    assert!(out.status.success(), "sub failed: {}", text(&out.stderr));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["topic"], "DeviceState");
    assert_eq!(
        lines[0]["subtopic"], "SetCharger",
        "sub-topic name resolved"
    );
    assert_eq!(lines[0]["encoding"], "json");
    assert_eq!(lines[0]["payload"]["On"], true);
    assert_eq!(lines[1]["encoding"], "text");
    assert_eq!(lines[1]["payload"], "plain text");
    assert_eq!(lines[1]["subtid"], 0);
    assert!(lines[0]["ptid"].as_u64().unwrap_or(0) != 0);
    let tid = broker
        .broker
        .topic2tid("DeviceState")
        .expect("broker knows the topic");
    assert_eq!(lines[0]["tid"].as_u64(), Some(tid as u64));
}

#[test]
fn pub_sub_round_trip_over_websocket() {
    round_trip("ws");
}

#[test]
fn pub_sub_round_trip_over_raw_socket() {
    round_trip("http");
}

#[test]
fn direct_message_reaches_the_etid_and_shows_as_self() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let (sub, etid) = ready_sub(&url, &["self", "-C", "1", "-W", "10s"]);
    publish(&url, &["--to-etid", &etid.to_string(), "direct hello"]);
    let out = sub.wait();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    assert_eq!(lines[0]["topic"], "self");
    assert_eq!(lines[0]["direct"], true);
    assert_eq!(lines[0]["tid"].as_u64(), Some(etid as u64));
    assert_eq!(lines[0]["payload"], "direct hello");
}

#[test]
fn subtopic_filter_shows_only_the_named_message_type() {
    let broker = TestBroker::start();
    let url = broker.url("http");
    let (sub, _) = ready_sub(
        &url,
        &[
            "Commands",
            "--subtopic",
            "SetCharger",
            "-C",
            "1",
            "-W",
            "10s",
        ],
    );
    publish(&url, &["Commands", "--subtopic", "Reboot", "first"]);
    publish(&url, &["Commands", "second"]);
    publish(&url, &["Commands", "--subtopic", "SetCharger", "third"]);
    let lines = json_lines(&sub.wait());
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["payload"], "third");
    assert_eq!(lines[0]["subtopic"], "SetCharger");
}

#[test]
fn observe_prints_subscriber_counts() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let (mut watcher, _) = ready_sub(&url, &["Presence", "--observe"]);
    // Immediate count: just the watcher itself.
    let first: serde_json::Value = serde_json::from_str(&watcher.stdout_line()).expect("json");
    assert_eq!(
        (first["event"].as_str(), first["subscribers"].as_u64()),
        (Some("change"), Some(1))
    );
    assert_eq!(first["topic"], "Presence");
    let (other, _) = ready_sub(&url, &["Presence"]);
    let second: serde_json::Value = serde_json::from_str(&watcher.stdout_line()).expect("json");
    assert_eq!(second["subscribers"].as_u64(), Some(2));
    drop(other); // killed: its subscription goes away
    let third: serde_json::Value = serde_json::from_str(&watcher.stdout_line()).expect("json");
    assert_eq!(third["subscribers"].as_u64(), Some(1));
}

#[test]
fn same_uid_takes_over_and_the_old_client_is_told_why() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    // The old one may reconnect after ordinary losses, but not after a takeover:
    // two clients with one UID would otherwise take each other over forever.
    let (old, etid1) = ready_sub(&url, &["T", "--uid", "device-0001"]);
    let (_new, etid2) = ready_sub(&url, &["T", "--uid", "device-0001"]);
    assert_eq!(etid1, etid2, "takeover keeps the ETID");
    let out = old.wait();
    assert_eq!(out.status.code(), Some(6), "connection lost exit code");
    let err = text(&out.stderr);
    assert!(err.contains("\"reconnect\""), "{err}");
    assert!(
        err.contains("another client connected with the same UID"),
        "{err}"
    );
    assert!(!err.contains("reconnecting in"), "no takeover loop: {err}");
}

#[test]
fn pub_reads_stdin_lines_as_separate_messages() {
    let broker = TestBroker::start();
    let url = broker.url("http");
    let (sub, _) = ready_sub(&url, &["Logs", "-C", "3", "-W", "10s"]);
    let mut cmd = smqctl();
    cmd.args(["pub", "Logs", "--stdin-lines", "--url", &url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"one\ntwo\nthree\n").expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let payloads: Vec<_> = json_lines(&sub.wait())
        .iter()
        .map(|l| l["payload"].clone())
        .collect();
    assert_eq!(payloads, ["one", "two", "three"]);
}

#[test]
fn binary_payload_round_trips_as_base64() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let (sub, _) = ready_sub(&url, &["Frames", "-C", "1", "-W", "10s"]);
    publish(&url, &["Frames", "--hex", "ff 00 41 0a"]);
    let lines = json_lines(&sub.wait());
    assert_eq!(lines[0]["encoding"], "base64");
    assert_eq!(lines[0]["payload"], "/wBBCg==");
    assert_eq!(lines[0]["size"], 4);
}

#[test]
fn sub_times_out_with_exit_code_5() {
    let broker = TestBroker::start();
    let out = run(smqctl().args([
        "sub",
        "Quiet",
        "-C",
        "1",
        "-W",
        "300ms",
        "--url",
        &broker.url("ws"),
    ]));
    assert_eq!(out.status.code(), Some(5));
    assert!(
        text(&out.stderr).contains("timed out"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn trace_packets_decodes_traffic_and_hides_credentials() {
    let broker = TestBroker::start();
    let out = run(smqctl().args([
        "--trace-packets",
        "pub",
        "Chat",
        "hello",
        "--credentials",
        "hunter2-secret",
        "--url",
        &broker.url("http"),
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("<- Init version=1"), "{err}");
    assert!(err.contains("-> Connect version=1"), "{err}");
    assert!(err.contains("credentials=<hidden, 14 bytes>"), "{err}");
    assert!(err.contains("<- Createack ok"), "{err}");
    assert!(err.contains("(Chat)") && err.contains("\"hello\""), "{err}");
    assert!(!err.contains("hunter2"), "credentials leaked: {err}");
}

#[test]
fn pub_count_delivers_every_message_before_exiting() {
    let broker = TestBroker::start();
    for scheme in ["ws", "http"] {
        let url = broker.url(scheme);
        let (sub, _) = ready_sub(&url, &["Burst", "-C", "5000", "-W", "20s"]);
        publish(&url, &["Burst", "tick", "--count", "5000"]);
        let out = sub.wait();
        assert!(out.status.success(), "{scheme}: {}", text(&out.stderr));
        let ticks = json_lines(&out)
            .iter()
            .filter(|l| l["payload"] == "tick")
            .count();
        assert_eq!(ticks, 5000, "{scheme}");
    }
}

#[test]
fn pub_reads_a_whole_stdin_as_one_message() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let (sub, _) = ready_sub(&url, &["Doc", "-C", "1", "-W", "10s"]);
    let mut child = smqctl()
        .args(["pub", "Doc", "--stdin", "--json", "--url", &url])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"{\n  \"lines\": 2\n}\n").expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = json_lines(&sub.wait());
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["payload"]["lines"], 2);
}

#[test]
fn stdin_lines_binary_sends_non_utf8_lines_byte_for_byte() {
    let broker = TestBroker::start();
    let url = broker.url("http");
    let (sub, _) = ready_sub(&url, &["Bytes", "-C", "3", "-W", "10s"]);
    let mut child = smqctl()
        .args(["pub", "Bytes", "--stdin-lines", "--binary", "--url", &url])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"a\r\nb\xff\nc\n").expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = json_lines(&sub.wait());
    assert_eq!(lines[0]["payload"], "a", "CRLF stripped");
    assert_eq!(
        (lines[1]["encoding"].as_str(), lines[1]["payload"].as_str()),
        (Some("base64"), Some("Yv8="))
    );
    assert_eq!(lines[2]["payload"], "c");
}

#[test]
fn sub_that_cannot_write_its_output_fails() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut cmd = smqctl();
    cmd.args(["sub", "Full", "-v", "--format", "json", "--url", &url]);
    cmd.stdout(full).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    // Wait until it subscribed, then give it something to write.
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let ready = lines.next().expect("a line").expect("utf8");
    assert!(ready.contains("as ETID"), "{ready}");
    publish(&url, &["Full", "x"]);
    let deadline = std::time::Instant::now() + crate::harness::STEP;
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("sub did not exit after failing to write");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(1));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("cannot write the output")),
        "{rest:?}"
    );
}
