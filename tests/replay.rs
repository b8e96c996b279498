//! `smqctl record` and `smqctl replay` end to end: a charger fleet and an
//! operator recorded on one embedded broker, replayed on a fresh one and
//! checked through that broker's trace; bad recordings, rotation, Ctrl-C,
//! `--check` finding a difference, and payloads too long to keep.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{
    Running, STEP, TestBroker, json_lines, publish, ready_sub, run, smqctl, text,
};

fn handlers(scenario: &str) -> String {
    let out = run(smqctl().args(["simulate", "--print-handlers", scenario]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// `smqctl record -o PATH --url URL -F json ARGS`, started and attached.
fn recording(url: &str, path: &Path, args: &[&str]) -> Running {
    let mut cmd = smqctl();
    cmd.arg("record")
        .arg("-o")
        .arg(path)
        .args(["--url", url, "-F", "json"])
        .args(args);
    let mut rec = Running::spawn(&mut cmd);
    rec.stderr_line("attached");
    rec
}

/// The JSON lines of a recording file (header first).
fn lines_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn messages_of(path: &Path) -> Vec<Value> {
    lines_of(path)
        .into_iter()
        .filter(|v| v["type"] == "message")
        .collect()
}

/// Waits until the recording at `path` holds `n` message lines.
fn wait_for_messages(path: &Path, n: usize) {
    let deadline = Instant::now() + STEP;
    loop {
        let have = std::fs::read_to_string(path)
            .map(|t| {
                t.lines()
                    .filter(|l| l.contains(r#""type":"message""#))
                    .count()
            })
            .unwrap_or(0);
        if have >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} holds {have} of {n} messages",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stop(rec: Running) -> Value {
    rec.interrupt();
    let out = rec.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    json_lines(&out)
        .into_iter()
        .rev()
        .find(|v| v["type"] == "summary")
        .unwrap_or_else(|| panic!("no summary: {}", text(&out.stdout)))
}

fn replay(files: &[&Path], url: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = smqctl();
    cmd.arg("replay").args(files).args(["--url", url]);
    if !args.contains(&"-F") {
        cmd.args(["-F", "json"]);
    }
    run(cmd.args(args))
}

fn summary(out: &std::process::Output) -> Value {
    json_lines(out)
        .into_iter()
        .rev()
        .find(|v| v["type"] == "summary")
        .unwrap_or_else(|| panic!("no summary: {}{}", text(&out.stdout), text(&out.stderr)))
}

/// "destination [sub-topic]" of a recorded message or a trace event.
fn dest_key(v: &Value) -> String {
    let to = &v["to"];
    let d = match to["type"].as_str() {
        Some("topic") => to["name"].as_str().unwrap_or("?").to_string(),
        Some("client") => format!("client {}", to["uid"].as_str().unwrap_or("?")),
        Some("server") => "server".into(),
        _ => format!("#{}", to["tid"]),
    };
    match v["subtopic"].as_str() {
        Some(s) => format!("{d} [{s}]"),
        None => d,
    }
}

/// (sender UID, destination [sub-topic]) → count, for client-sent messages.
fn tally<'a>(msgs: impl Iterator<Item = &'a Value>) -> BTreeMap<(String, String), u64> {
    let mut t = BTreeMap::new();
    for m in msgs {
        if m["from"]["server"] == true {
            continue;
        }
        let uid = m["from"]["uid"].as_str().unwrap_or("?").to_string();
        *t.entry((uid, dest_key(m))).or_insert(0) += 1;
    }
    t
}

#[test]
fn a_recorded_fleet_and_operator_replay_on_a_fresh_broker_with_the_same_topics_uids_counts_and_remapped_direct_messages()
 {
    let rules = handlers("charger");
    let a = TestBroker::with_handlers(&rules);
    let b = TestBroker::with_handlers(&rules);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("incident.smqrec");
    let rec = recording(&a.url("ws"), &file, &[]);
    // A watcher subscribed to the handlers' re-published ChargerState.
    let (watcher, _) = ready_sub(&a.url("ws"), &["ChargerState", "--uid", "dashboard-1"]);
    let mut sim = smqctl();
    sim.args(["simulate", "-n", "2", "--interval", "200ms", "-d", "3s"])
        .args(["--url", &a.url("ws"), "-F", "json"]);
    let sim = Running::spawn(&mut sim);
    // The operator sends SetCharger to each device's ETID, and an alarm
    // nobody subscribed to (a drop).
    let deadline = Instant::now() + STEP;
    let devices = loop {
        let d: Vec<(String, u32)> = a
            .broker
            .peers()
            .into_iter()
            // Subscribed: a device, not the fleet's probe connection.
            .filter(|p| p.uid.starts_with("charger-") && !p.topics.is_empty())
            .map(|p| (p.uid, p.etid))
            .collect();
        if d.len() == 2 {
            break d;
        }
        assert!(Instant::now() < deadline, "devices did not connect: {d:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    for (_, etid) in &devices {
        publish(
            &a.url("ws"),
            &[
                "--uid",
                "operator-1",
                "--to-etid",
                &etid.to_string(),
                "--subtopic",
                "SetCharger",
                r#"{"On":true}"#,
            ],
        );
    }
    publish(
        &a.url("ws"),
        &["--uid", "operator-1", "Alarms", r#"{"level":3}"#],
    );
    let out = sim.wait();
    assert!(out.status.success(), "simulate: {}", text(&out.stderr));
    drop(watcher);
    let recorded = stop(rec);
    let msgs = messages_of(&file);
    assert_eq!(recorded["messages"], msgs.len(), "{recorded}");
    let want = tally(msgs.iter());
    for (uid, _) in &devices {
        assert!(
            want.contains_key(&("operator-1".into(), format!("client {uid} [SetCharger]"))),
            "the direct SetCharger to {uid} was recorded: {want:?}"
        );
        assert!(
            want.keys()
                .any(|(u, d)| u == uid && d == "server [ChargerState]"),
            "{uid}'s reports were recorded: {want:?}"
        );
    }
    assert!(
        msgs.iter()
            .any(|m| m["outcome"] == "dropped" && dest_key(m) == "Alarms"),
        "the alarm nobody received is a drop"
    );
    assert!(
        msgs.iter().any(|m| m["from"]["server"] == true),
        "the handlers' re-publishes are recorded, marked server-sent"
    );

    // The second broker's own trace sees the replay.
    let mut trace = smqctl();
    trace.args(["trace", "--url", &b.url("ws"), "-F", "json"]);
    let mut trace = Running::spawn(&mut trace);
    trace.stderr_line("attached");
    let out = replay(&[&file], &b.url("ws"), &["--speed", "10"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = summary(&out);
    let client_sent: u64 = want.values().sum();
    assert_eq!(s["sent"], client_sent, "{s}");
    assert_eq!(
        s["skipped"]["sent by the broker itself (--include-server replays it)"],
        msgs.len() as u64 - client_sent,
        "{s}"
    );
    // Read B's trace until it has shown every replayed message.
    let uids: Vec<String> = want.keys().map(|(u, _)| u.clone()).collect();
    let mut seen = Vec::new();
    let mut etid_of: BTreeMap<String, u64> = BTreeMap::new();
    let deadline = Instant::now() + STEP;
    while tally(seen.iter()).values().sum::<u64>() < client_sent {
        assert!(Instant::now() < deadline, "B's trace showed {seen:?}");
        let v: Value = serde_json::from_str(&trace.stdout_line()).expect("trace JSON");
        if v["kind"] == "connect"
            && let Some(uid) = v["from"]["uid"].as_str()
        {
            etid_of.insert(uid.to_string(), v["from"]["etid"].as_u64().unwrap_or(0));
        }
        let from_replay = v["from"]["uid"]
            .as_str()
            .is_some_and(|u| uids.iter().any(|x| x == u));
        if from_replay && ["publish", "drop", "deny"].contains(&v["kind"].as_str().unwrap_or("")) {
            seen.push(v);
        }
    }
    assert_eq!(
        tally(seen.iter()),
        want,
        "same senders, destinations, sub-topics, counts"
    );
    // Direct messages went to the devices' new ETIDs on B, not the old ones.
    for (uid, old) in &devices {
        let new = etid_of[uid];
        assert_ne!(new, u64::from(*old), "{uid} has a new ETID on B");
        let direct: Vec<&Value> = seen
            .iter()
            .filter(|v| v["to"]["type"] == "client" && v["to"]["uid"] == uid.as_str())
            .collect();
        assert_eq!(direct.len(), 1, "{uid}: {direct:?}");
        assert_eq!(direct[0]["to"]["tid"], new, "reached {uid} at its new ETID");
        assert_eq!(direct[0]["kind"], "publish", "and was delivered");
    }
    // The alarm is a drop on B too, and --check agrees with the recording.
    assert!(
        seen.iter()
            .any(|v| v["kind"] == "drop" && dest_key(v) == "Alarms")
    );
    let out = replay(&[&file], &b.url("ws"), &["--speed", "max", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(summary(&out)["differences"], serde_json::json!([]));
}

#[test]
fn a_corrupt_recording_is_refused_with_its_file_and_line_number_exit_2() {
    let b = TestBroker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let header = r#"{"schema":"smqctl-recording","version":1,"started":"2026-11-22T03:44:17Z","source":"trace","max_payload":100}"#;
    let good = r#"{"type":"message","ts":"2026-11-22T03:44:18Z","outcome":"dropped","from":{"etid":7,"uid":"device-7"},"to":{"tid":9,"type":"topic","name":"T"},"size":2,"encoding":"json","payload":[1]}"#;
    let write = |name: &str, body: String| -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, body).expect("write");
        p
    };
    let cases = [
        (
            write(
                "bad-line.smqrec",
                format!("{header}\n{good}\n{{\"type\":\"message\",\"ts\":\n{good}\n"),
            ),
            "bad-line.smqrec line 3: not a recording line",
        ),
        (
            write("not-ours.smqrec", format!("{good}\n")),
            "not-ours.smqrec line 1: not a recording header",
        ),
        (
            write(
                "newer.smqrec",
                format!("{}\n", header.replace(r#""version":1"#, r#""version":9"#)),
            ),
            "newer.smqrec line 1: recording format version 9",
        ),
        (
            write(
                "bad-ts.smqrec",
                format!(
                    "{header}\n{}\n",
                    good.replace("2026-11-22T03:44:18Z", "yesterday")
                ),
            ),
            "bad-ts.smqrec line 2: ts \"yesterday\" is not an RFC 3339 time",
        ),
        (
            write(
                "bad-b64.smqrec",
                format!(
                    "{header}\n{}\n",
                    good.replace(
                        r#""encoding":"json","payload":[1]"#,
                        r#""encoding":"base64","payload":"!!""#
                    )
                ),
            ),
            "bad-b64.smqrec line 2: the base64 payload does not decode",
        ),
    ];
    for (path, want) in &cases {
        let out = replay(&[path], &b.url("ws"), &[]);
        assert_eq!(out.status.code(), Some(2), "{want}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(want),
            "wanted {want:?} in {}",
            text(&out.stderr)
        );
    }
    // A last line cut by a crash (no newline) is skipped with a warning;
    // everything before it replays.
    let cut = write(
        "crashed.smqrec",
        format!("{header}\n{good}\n{}", &good[..40]),
    );
    let out = replay(&[&cut], &b.url("ws"), &["--speed", "max"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("crashed.smqrec line 3 is incomplete"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(summary(&out)["sent"], 1);
}

#[test]
fn max_size_rotates_into_numbered_parts_each_with_a_header_that_replay_reads_in_order() {
    let a = TestBroker::start();
    let b = TestBroker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("day.smqrec");
    let rec = recording(&a.url("ws"), &file, &["--max-size", "2K"]);
    let payload = format!(r#"{{"pad":"{}"}}"#, "x".repeat(200));
    publish(
        &a.url("ws"),
        &["--uid", "sender-1", "Pad", &payload, "-C", "30"],
    );
    wait_for_messages(&file, 1);
    // The parts after the first: wait until all 30 are somewhere.
    let parts = |n: u32| -> Vec<PathBuf> {
        (1..=n)
            .map(|i| match i {
                1 => file.clone(),
                i => dir.path().join(format!("day.{i}.smqrec")),
            })
            .take_while(|p| p.exists())
            .collect()
    };
    let deadline = Instant::now() + STEP;
    while parts(100)
        .iter()
        .map(|p| messages_of(p).len())
        .sum::<usize>()
        < 30
    {
        assert!(
            Instant::now() < deadline,
            "not all 30 recorded: {:?}",
            parts(100)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let s = stop(rec);
    let files = parts(100);
    assert!(
        files.len() >= 3,
        "30 × ~300 bytes in 2 KiB parts: {files:?}"
    );
    assert_eq!(
        s["files"].as_array().map(Vec::len),
        Some(files.len()),
        "{s}"
    );
    for (i, f) in files.iter().enumerate() {
        let size = std::fs::metadata(f).expect("size").len();
        assert!(size <= 2048, "{} is {size} bytes", f.display());
        let first = &lines_of(f)[0];
        assert_eq!(first["schema"], "smqctl-recording", "{}", f.display());
        assert_eq!(first["part"], i + 1, "{}", f.display());
    }
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = replay(&refs, &b.url("ws"), &["--speed", "max", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let s = summary(&out);
    assert_eq!(s["sent"], 30, "{s}");
    assert_eq!(
        s["recorded"]["Pad"]["dropped"], 30,
        "nobody subscribed, then or now: {s}"
    );
}

#[test]
fn ctrl_c_keeps_every_recorded_line_and_prints_the_counts() {
    let a = TestBroker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    for (signal, count, code) in [("INT", Some("1000"), 130), ("TERM", None, 0)] {
        let file = dir.path().join(format!("{signal}.smqrec"));
        let args: Vec<&str> = count.map(|c| vec!["-C", c]).unwrap_or_default();
        let rec = recording(&a.url("ws"), &file, &args);
        publish(&a.url("ws"), &["T", "hello", "-C", "5"]);
        wait_for_messages(&file, 5);
        if signal == "INT" {
            rec.interrupt();
        } else {
            rec.terminate();
        }
        let out = rec.wait();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{signal}: {}",
            text(&out.stderr)
        );
        let s = summary(&out);
        assert_eq!(
            (s["messages"].clone(), s["dropped"].clone()),
            (5.into(), 5.into()),
            "{s}"
        );
        assert_eq!(s["stopped"], "signal");
        let body = std::fs::read_to_string(&file).expect("the file is kept");
        assert!(body.ends_with('\n'), "every line complete");
        assert_eq!(messages_of(&file).len(), 5, "{signal}");
    }
}

#[test]
fn check_names_the_destination_whose_drops_differ_and_exits_1() {
    let a = TestBroker::start();
    let b = TestBroker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("drops.smqrec");
    let rec = recording(&a.url("ws"), &file, &[]);
    // On A nobody listens to State: three drops.
    publish(
        &a.url("ws"),
        &["--uid", "sender-1", "State", "1", "-C", "3"],
    );
    wait_for_messages(&file, 3);
    stop(rec);
    // On B somebody does (the "fix"): the drops are gone.
    let (_listener, _) = ready_sub(&b.url("ws"), &["State"]);
    let out = replay(
        &[&file],
        &b.url("ws"),
        &["--speed", "max", "--check", "-F", "pretty"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("check: 1 destination(s) differ:")
            && shown.contains("State: recorded 3 (3 dropped), replayed 3 (0 dropped)"),
        "{shown}"
    );
    // Without --check the same replay is a success.
    let out = replay(&[&file], &b.url("ws"), &["--speed", "max"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn payloads_are_recorded_whole_above_the_preview_limit_and_cut_ones_are_counted_and_never_replayed_silently()
 {
    let a = TestBroker::start();
    let b = TestBroker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    // Whole: 40 000 bytes, above the 32 KiB trace preview limit.
    let whole = dir.path().join("whole.smqrec");
    let rec = recording(&a.url("ws"), &whole, &["-C", "1"]);
    let big = "y".repeat(40_000);
    publish(&a.url("ws"), &["Big", &big]);
    let out = rec.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let m = &messages_of(&whole)[0];
    assert_eq!(
        (m["size"].clone(), m["truncated"].clone()),
        (40_000.into(), Value::Null)
    );
    assert_eq!(m["payload"].as_str().map(str::len), Some(40_000));
    // Cut: --max-payload 8.
    let cut = dir.path().join("cut.smqrec");
    let rec = recording(&a.url("ws"), &cut, &["--max-payload", "8", "-C", "1"]);
    publish(
        &a.url("ws"),
        &["--uid", "sender-1", "Long", "0123456789abcdef"],
    );
    let out = rec.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(summary(&out)["truncated"], 1);
    assert!(
        text(&out.stderr).contains("1 payload(s) truncated"),
        "{}",
        text(&out.stderr)
    );
    let m = &messages_of(&cut)[0];
    assert_eq!(
        (m["truncated"].clone(), m["payload"].clone()),
        (true.into(), "01234567".into())
    );
    // Replay skips it and says why; --send-truncated sends the 8 bytes, and says so.
    let out = replay(&[&cut], &b.url("ws"), &["--speed", "max"]);
    let s = summary(&out);
    assert_eq!(s["sent"], 0, "{s}");
    assert_eq!(
        s["skipped"]["payload truncated in the recording (--send-truncated sends it cut)"], 1,
        "{s}"
    );
    let (mut sub, _) = ready_sub(&b.url("ws"), &["Long"]);
    let out = replay(
        &[&cut],
        &b.url("ws"),
        &["--speed", "max", "--send-truncated"],
    );
    let s = summary(&out);
    assert_eq!(
        (s["sent"].clone(), s["sent_truncated"].clone()),
        (1.into(), 1.into()),
        "{s}"
    );
    let got: Value = serde_json::from_str(&sub.stdout_line()).expect("JSON");
    assert_eq!(got["payload"], "01234567");
}

#[test]
fn from_sub_records_what_a_subscriber_receives_without_a_tracer() {
    let a = TestBroker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("sub.smqrec");
    let mut cmd = smqctl();
    cmd.arg("record").arg("-o").arg(&file).args([
        "--url",
        &a.url("ws"),
        "-F",
        "json",
        "--from-sub",
        "State",
        "-C",
        "2",
    ]);
    let mut rec = Running::spawn(&mut cmd);
    rec.stderr_line("subscribed to State and self");
    publish(&a.url("ws"), &["State", r#"{"n":1}"#]);
    publish(&a.url("ws"), &["Other", r#"{"n":2}"#]);
    publish(&a.url("ws"), &["State", r#"{"n":3}"#]);
    let out = rec.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(lines_of(&file)[0]["source"], "sub");
    let got: Vec<Value> = messages_of(&file)
        .iter()
        .map(|m| m["payload"]["n"].clone())
        .collect();
    assert_eq!(
        got,
        [Value::from(1), Value::from(3)],
        "only what the subscriber got"
    );
}

#[test]
fn replay_keeps_the_recorded_spacing_divided_by_speed_and_max_does_not_wait() {
    let b = TestBroker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let header = r#"{"schema":"smqctl-recording","version":1,"started":"2026-11-22T03:44:17Z","source":"trace","max_payload":100}"#;
    let msg = |ts: &str, n: u32| {
        format!(
            r#"{{"type":"message","ts":"{ts}","outcome":"routed","from":{{"etid":7,"uid":"device-7"}},"to":{{"tid":9,"type":"topic","name":"Tick"}},"size":1,"encoding":"json","payload":{n}}}"#
        )
    };
    let file = dir.path().join("spaced.smqrec");
    std::fs::write(
        &file,
        format!(
            "{header}\n{}\n{}\n",
            msg("2026-11-22T03:44:18Z", 1),
            msg("2026-11-22T03:44:24Z", 2)
        ),
    )
    .expect("write");
    let (mut sub, _) = ready_sub(&b.url("ws"), &["Tick"]);
    let timed = |speed: &str| {
        let t = Instant::now();
        let out = replay(&[&file], &b.url("ws"), &["--speed", speed]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(summary(&out)["sent"], 2);
        t.elapsed()
    };
    let ten = timed("10");
    assert!(
        ten >= Duration::from_millis(600),
        "6 s at --speed 10 took {ten:?}"
    );
    let max = timed("max");
    assert!(max < Duration::from_secs(6), "--speed max waited: {max:?}");
    let got: Vec<Value> = (0..4)
        .map(|_| {
            serde_json::from_str::<Value>(&sub.stdout_line()).expect("JSON")["payload"].clone()
        })
        .collect();
    assert_eq!(got, [1, 2, 1, 2].map(Value::from), "in order, both times");
}

#[test]
fn ctrl_c_stops_a_replay_with_its_summary_and_exit_130() {
    let b = TestBroker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let header = r#"{"schema":"smqctl-recording","version":1,"started":"2026-11-22T03:44:17Z","source":"trace","max_payload":100}"#;
    let msg = |ts: &str| {
        format!(
            r#"{{"type":"message","ts":"{ts}","outcome":"routed","from":{{"etid":7,"uid":"device-7"}},"to":{{"tid":9,"type":"topic","name":"Tick"}},"size":1,"encoding":"json","payload":1}}"#
        )
    };
    let file = dir.path().join("long.smqrec");
    std::fs::write(
        &file,
        format!(
            "{header}\n{}\n{}\n",
            msg("2026-11-22T03:44:18Z"),
            msg("2026-11-22T04:44:18Z")
        ),
    )
    .expect("write");
    let (mut sub, _) = ready_sub(&b.url("ws"), &["Tick"]);
    let mut cmd = smqctl();
    cmd.arg("replay")
        .arg(&file)
        .args(["--url", &b.url("ws"), "-F", "json"]);
    let running = Running::spawn(&mut cmd);
    sub.stdout_line(); // the first one arrived; the second is an hour away
    running.interrupt();
    let out = running.wait();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let s = summary(&out);
    assert_eq!(
        (s["sent"].clone(), s["interrupted"].clone()),
        (1.into(), true.into()),
        "{s}"
    );
}

#[test]
fn without_a_tracer_record_and_replay_check_exit_4_and_say_what_to_do() {
    // Nobody answers an attach sent to a wrong server ETID: as on a Mako app
    // without the hook.
    let a = TestBroker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("none.smqrec");
    let out = run(smqctl().arg("record").arg("-o").arg(&file).args([
        "--url",
        &a.url("ws"),
        "--server-etid",
        "424242",
        "--attach-timeout",
        "300ms",
    ]));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("no tracer attached this recorder") && err.contains("--from-sub"),
        "{err}"
    );
    let header = r#"{"schema":"smqctl-recording","version":1,"started":"2026-11-22T03:44:17Z","source":"trace","max_payload":100}"#;
    std::fs::write(&file, format!("{header}\n")).expect("write");
    let out = replay(
        &[&file],
        &a.url("ws"),
        &[
            "--check",
            "--server-etid",
            "424242",
            "--attach-timeout",
            "300ms",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--check needs a tracer on the test broker"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn subscribers_from_before_the_recording_come_back_on_replay_so_check_agrees() {
    let a = TestBroker::start();
    let b = TestBroker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("midway.smqrec");
    // The dashboard subscribed long before anyone started recording.
    let (_dashboard, _) = ready_sub(&a.url("ws"), &["State", "--uid", "dashboard-7"]);
    let rec = recording(&a.url("ws"), &file, &[]);
    publish(
        &a.url("ws"),
        &["--uid", "sender-1", "State", "1", "-C", "3"],
    );
    wait_for_messages(&file, 3);
    stop(rec);
    let subs: Vec<Value> = lines_of(&file)
        .into_iter()
        .filter(|v| v["type"] == "subscribe")
        .collect();
    assert_eq!(subs.len(), 1, "{subs:?}");
    assert_eq!(
        (subs[0]["uid"].clone(), subs[0]["topic"].clone()),
        ("dashboard-7".into(), "State".into())
    );
    assert!(messages_of(&file).iter().all(|m| m["outcome"] == "routed"));
    // On B the dashboard is a replay client subscribed to State: routed again.
    let out = replay(&[&file], &b.url("ws"), &["--speed", "max", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let s = summary(&out);
    assert_eq!(s["clients"], 2, "sender-1 and dashboard-7: {s}");
    assert_eq!(
        (
            s["traced"]["routed"].clone(),
            s["traced"]["dropped"].clone()
        ),
        (3.into(), 0.into()),
        "delivered to the dashboard again: {s}"
    );
}

#[test]
fn on_a_terminal_replay_shows_a_progress_bar_then_the_summary() {
    let b = TestBroker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let header = r#"{"schema":"smqctl-recording","version":1,"started":"2026-11-22T03:44:17Z","source":"trace","max_payload":100}"#;
    let msg = |ts: &str| {
        format!(
            r#"{{"type":"message","ts":"{ts}","outcome":"dropped","from":{{"etid":7,"uid":"device-7"}},"to":{{"tid":9,"type":"topic","name":"Tick"}},"size":1,"encoding":"json","payload":1}}"#
        )
    };
    let file = dir.path().join("bar.smqrec");
    std::fs::write(
        &file,
        format!(
            "{header}\n{}\n{}\n",
            msg("2026-11-22T03:44:18Z"),
            msg("2026-11-22T03:44:21Z")
        ),
    )
    .expect("write");
    let url = b.url("ws");
    let path = file.to_string_lossy().into_owned();
    let pty = crate::pty::PtyCommand::smqctl(&["replay", &path, "--url", &url]).start();
    pty.wait_for("the bar at 1 of 2", |s| s.contains("1/2 messages"));
    let exit = pty.wait_exit();
    assert_eq!(exit.code, Some(0), "{}", exit.screen);
    assert!(
        exit.screen.contains("replayed 2 of 2 planned message(s)")
            && exit.screen.contains("the test broker routed 0, dropped 2"),
        "{}",
        exit.screen
    );
}

#[test]
fn map_payload_etids_rewrites_a_recorded_etid_in_json_to_the_replay_clients_new_one() {
    let b = TestBroker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let header = r#"{"schema":"smqctl-recording","version":1,"started":"2026-11-22T03:44:17Z","source":"trace","max_payload":100}"#;
    let msg = |uid: &str, etid: u32, payload: &str| {
        format!(
            r#"{{"type":"message","ts":"2026-11-22T03:44:18Z","outcome":"routed","from":{{"etid":{etid},"uid":"{uid}"}},"to":{{"tid":99,"type":"topic","name":"Registry"}},"size":1,"encoding":"json","payload":{payload}}}"#
        )
    };
    let file = dir.path().join("registry.smqrec");
    // device-7 announces itself; the registry then tells everyone its ETID (7).
    std::fs::write(
        &file,
        format!(
            "{header}\n{}\n{}\n",
            msg("device-7", 7, r#"{"hello":true}"#),
            msg("registry-1", 9, r#"{"device":"device-7","etid":7,"seq":7}"#)
        ),
    )
    .expect("write");
    let (mut sub, _) = ready_sub(&b.url("ws"), &["Registry"]);
    for (flag, mapped) in [(None, false), (Some("--map-payload-etids"), true)] {
        let mut args = vec!["--speed", "max"];
        args.extend(flag);
        let out = replay(&[&file], &b.url("ws"), &args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        // Two connections: either may arrive first.
        let mut two: Vec<Value> = (0..2)
            .map(|_| serde_json::from_str(&sub.stdout_line()).expect("JSON"))
            .collect();
        two.sort_by_key(|v| v["payload"]["hello"] != true);
        let (hello, told) = (&two[0], &two[1]);
        let new_etid = hello["ptid"].as_u64().expect("device-7's new ETID");
        assert_ne!(new_etid, 7);
        let want = if mapped { new_etid } else { 7 };
        assert_eq!(told["payload"]["etid"], want, "{flag:?}: {told}");
        assert_eq!(told["payload"]["seq"], 7, "not an ETID member: left alone");
    }
}
