//! `smqctl simulate` end to end: built-in scenarios against the embedded broker
//! with their handler files, the readiness barrier, commands answered, reconnect
//! after a broker restart, churn, scenario errors, shards and merge.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use smqctl::broker::{Broker, BrokerConfig, ServerMessage};

use crate::harness::{
    Running, STEP, TestBroker, assert_times_rounded, json_lines, publish, ready_sub, run, smqctl,
    text,
};

/// The handler file a built-in scenario expects, as `--print-handlers` prints it.
fn handlers_text(scenario: &str) -> String {
    let out = run(smqctl().args(["simulate", "--print-handlers", scenario]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

fn broker_for(scenario: &str) -> TestBroker {
    TestBroker::with_handlers(&handlers_text(scenario))
}

fn simulate(url: &str, args: &[&str]) -> std::process::Command {
    let mut cmd = smqctl();
    cmd.arg("simulate").args(args).args(["--url", url]);
    cmd
}

/// The `{"type":"summary"}` line of `--format json` output.
fn summary(lines: &[Value]) -> Value {
    lines
        .iter()
        .rev()
        .find(|v| v["type"] == "summary")
        .cloned()
        .unwrap_or_else(|| panic!("no summary line in {lines:?}"))
}

#[test]
fn every_builtin_scenario_runs_a_small_fleet_without_losing_reports() {
    for scenario in ["charger", "smib", "player"] {
        let broker = broker_for(scenario);
        let url = broker.url("ws");
        let out = run(&mut simulate(
            &url,
            &[
                "-s",
                scenario,
                "-n",
                "4",
                "--duration",
                "2500ms",
                "--interval",
                "200ms",
                "--verify",
                "--format",
                "json",
            ],
        ));
        assert!(out.status.success(), "{scenario}: {}", text(&out.stderr));
        // simulate_json_times_had_17_digits: every line's times are in µs.
        json_lines(&out).iter().for_each(assert_times_rounded);
        let s = summary(&json_lines(&out));
        assert_eq!(s["peak_online"], 4, "{scenario}: {s}");
        assert_eq!(s["online_at_end"], 4, "{scenario}: {s}");
        assert_eq!(s["connects"], 4, "{scenario}: {s}");
        assert_eq!(s["failed"], 0, "{scenario}: {s}");
        assert_eq!(s["errors"], serde_json::json!({}), "{scenario}: {s}");
        // Every device sent its ready message once.
        let ready: u64 = match scenario {
            "charger" => s["by_kind_out"]["DeviceReady"].as_u64(),
            "smib" => s["by_kind_out"]["smib/online"].as_u64(),
            _ => s["by_kind_out"]["status (ready)"].as_u64(),
        }
        .unwrap_or(0);
        assert_eq!(ready, 4, "{scenario}: {s}");
        let v = &s["verify"];
        assert!(
            v["received"].as_u64().unwrap_or(0) >= 4,
            "{scenario}: reports seen: {v}"
        );
        assert_eq!(v["received"], v["expected"], "{scenario}: {v}");
        assert_eq!(v["lost"], 0, "{scenario}: {v}");
        assert_eq!(v["duplicated"], 0, "{scenario}: {v}");
        if scenario == "player" {
            // query_posts requests answered by the broker on `response`.
            let answered = s["commands_in"]["response"].as_u64().unwrap_or(0);
            assert!(answered >= 4, "player responses: {s}");
            // ... each matched to its request by request_id.
            assert_eq!(s["requests_answered"], answered, "{s}");
            assert_eq!(s["responses_uncorrelated"], 0, "{s}");
            assert!(s["request_ms"]["p50"].is_number(), "{s}");
        }
    }
}

#[test]
fn ready_is_sent_only_after_the_last_subscription_is_acknowledged() {
    let broker = broker_for("charger");
    let url = broker.url("ws");
    let out = run(smqctl().args([
        "--trace-packets",
        "simulate",
        "-n",
        "1",
        "--duration",
        "1s",
        "--url",
        &url,
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let trace = text(&out.stderr);
    // One device, so its packets are not interleaved with another's.
    let uid = "charger-00000";
    // This device's packets: from its Connect to the next Connect. The last
    // Connect with its UID: the fleet's probe connects as the first device too.
    let start = trace
        .rfind(&format!("uid=\"{uid}\""))
        .unwrap_or_else(|| panic!("no Connect of {uid}: {trace}"));
    let rest = &trace[start..];
    let end = rest[1..]
        .find("-> Connect")
        .map(|e| e + 1)
        .unwrap_or(rest.len());
    let mine = &rest[..end];
    let pos = |needle: &str| {
        mine.find(needle)
            .unwrap_or_else(|| panic!("{uid}: no {needle:?} in {mine}"))
    };
    let command_ack = pos("<- Createsuback ok");
    let command_name = pos("\"SetCharger\"");
    let barrier_ack = pos("<- Suback ok");
    let ready = pos("(DeviceReady)");
    assert!(command_ack < ready && command_name < ready, "{uid}: {mine}");
    assert!(
        barrier_ack < ready,
        "{uid}: ready before the barrier's Suback: {mine}"
    );
    assert!(
        mine[barrier_ack..].contains("SubscriptionBarrier"),
        "{uid}: {mine}"
    );
}

#[test]
fn commands_sent_to_a_device_etid_are_answered_and_change_its_state() {
    let broker = broker_for("charger");
    let url = broker.url("ws");
    // The handler file re-publishes DeviceReady with each device's ETID.
    let (mut ready, _) = ready_sub(&url, &["DeviceReady", "-C", "2"]);
    let (mut states, _) = ready_sub(&url, &["ChargerState"]);
    let sim = Running::spawn(&mut simulate(
        &url,
        &[
            "-n",
            "2",
            "--format",
            "json",
            "--stats-every",
            "200ms",
            "--interval",
            "300ms",
        ],
    ));
    let mut etids = Vec::new();
    for _ in 0..2 {
        let line: Value = serde_json::from_str(&ready.stdout_line()).expect("JSON");
        etids.push(
            line["payload"]["etid"]
                .as_u64()
                .expect("etid in DeviceReady"),
        );
    }
    for etid in &etids {
        publish(
            &url,
            &[
                "--to-etid",
                &etid.to_string(),
                "--subtopic",
                "SetCharger",
                "{\"On\":true}",
            ],
        );
    }
    // Each device answers with a ChargerState reply, and its later periodic
    // reports carry the new state.
    let mut replied = std::collections::HashSet::new();
    let mut reported_on = std::collections::HashSet::new();
    let deadline = Instant::now() + STEP;
    while (replied.len() < 2 || reported_on.len() < 2) && Instant::now() < deadline {
        let v: Value = serde_json::from_str(&states.stdout_line()).expect("JSON");
        let p = &v["payload"];
        let id = p["ChargerID"].as_str().unwrap_or_default().to_string();
        if p["reply"] == true {
            assert_eq!(p["On"], true, "{p}");
            replied.insert(id);
        } else if p["On"] == true && p["seq"].is_u64() {
            reported_on.insert(id);
        }
    }
    assert_eq!(replied.len(), 2, "replies from {replied:?}");
    assert_eq!(reported_on.len(), 2, "On:true reports from {reported_on:?}");
    // Ctrl-C: devices disconnect, then the summary prints.
    sim.interrupt();
    let out = sim.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = summary(&json_lines(&out));
    assert_eq!(s["commands_in"]["SetCharger"], 2, "{s}");
    assert_eq!(s["replies"], 2, "{s}");
    let gone = Instant::now() + STEP;
    while !broker
        .broker
        .peers()
        .iter()
        .all(|p| !p.uid.starts_with("charger-"))
    {
        assert!(
            Instant::now() < gone,
            "devices still connected after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Records what devices send to the broker: (sub-topic, ptid, payload).
type Seen = Arc<Mutex<Vec<(String, u32, Value)>>>;

fn recorder(broker: &Broker) -> Seen {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    broker.set_handler(Arc::new(move |b: &Broker, m: ServerMessage| {
        let name = b.tid2subtopic(m.subtid).unwrap_or_default();
        let v = serde_json::from_slice(&m.payload).unwrap_or(Value::Null);
        s.lock().expect("lock").push((name, m.ptid, v));
    }));
    seen
}

fn wait_for(seen: &Seen, what: &str, pred: impl Fn(&[(String, u32, Value)]) -> bool) {
    let deadline = Instant::now() + STEP;
    loop {
        if pred(&seen.lock().expect("lock")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            seen.lock().expect("lock")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ready_uids(seen: &[(String, u32, Value)]) -> std::collections::BTreeMap<String, u32> {
    seen.iter()
        .filter(|(n, _, _)| n == "DeviceReady")
        .map(|(_, ptid, v)| (v["uid"].as_str().unwrap_or_default().to_string(), *ptid))
        .collect()
}

#[test]
fn after_a_broker_restart_devices_subscribe_again_and_resend_ready() {
    let first = TestBroker::start();
    let addr = first.addr;
    let seen1 = recorder(&first.broker);
    let sim = Running::spawn(&mut simulate(
        &first.url("ws"),
        &[
            "-n",
            "3",
            "--format",
            "json",
            "--stats-every",
            "200ms",
            "--interval",
            "300ms",
        ],
    ));
    wait_for(&seen1, "3 DeviceReady", |s| ready_uids(s).len() == 3);
    drop(first);

    let second = TestBroker::with_config_at(BrokerConfig::default(), &addr.to_string());
    let seen2 = recorder(&second.broker);
    wait_for(&seen2, "3 DeviceReady after the restart", |s| {
        ready_uids(s).len() == 3
    });
    // Their command subscriptions are back: a SetCharger reaches each device
    // and is answered with a ChargerState reply.
    let devices = ready_uids(&seen2.lock().expect("lock"));
    let sub = second.broker.createsub("SetCharger");
    for etid in devices.values() {
        second
            .broker
            .publish(bytes::Bytes::from_static(b"{\"On\":true}"), *etid, sub);
    }
    wait_for(&seen2, "3 replies", |s| {
        s.iter()
            .filter(|(n, _, v)| n == "ChargerState" && v["reply"] == true && v["On"] == true)
            .count()
            == 3
    });
    // On the new broker each device's first message is its ready message:
    // no report before the barrier and DeviceReady.
    {
        let seen = seen2.lock().expect("lock");
        for etid in devices.values() {
            let first = seen.iter().find(|(_, p, _)| p == etid).expect("a message");
            assert_eq!(first.0, "DeviceReady", "first of {etid}: {first:?}");
        }
    }
    sim.interrupt();
    let out = sim.wait();
    let s = summary(&json_lines(&out));
    assert_eq!(s["reconnects"], 3, "{s}");
    assert_eq!(s["by_kind_out"]["DeviceReady"], 6, "{s}");
    assert_eq!(s["commands_in"]["SetCharger"], 3, "{s}");
}

#[test]
fn churn_drops_devices_and_the_fleet_gets_back_to_its_target() {
    let broker = broker_for("charger");
    let out = run(&mut simulate(
        &broker.url("ws"),
        &[
            "-n",
            "30",
            "--churn",
            "300%",
            "--duration",
            "6s",
            "--format",
            "json",
            "--stats-every",
            "200ms",
        ],
    ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    let s = summary(&lines);
    // Present values only: a missing field must fail, not count as 0.
    let count = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("no {k} in {s}"));
    let churned = count("churned");
    assert!(churned >= 1, "{s}");
    // Every drop reconnected, except those still waiting to when the run ended.
    // 30 devices, each dropping 3 times a minute: about 1.5 drops a second, and
    // about one device away at a time, so all 30 are online in most samples.
    let offline_at_end = 30 - count("online_at_end");
    assert!(count("reconnects") + offline_at_end >= churned, "{s}");
    assert_eq!(s["failed"], 0, "{s}");
    // After devices have dropped, the whole fleet is online again at some point.
    let back = lines.iter().any(|v| {
        v["type"] == "stats" && v["reconnects"].as_u64().unwrap_or(0) > 0 && v["online"] == 30
    });
    assert!(back, "never 30 online after a churn drop: {lines:?}");
    // Each reconnect re-ran the barrier and re-sent DeviceReady.
    let ready = s["by_kind_out"]["DeviceReady"].as_u64();
    assert_eq!(ready, Some(30 + count("reconnects")), "{s}");
}

#[test]
fn kill_after_drops_every_device_which_then_reconnects() {
    let broker = broker_for("charger");
    let out = run(&mut simulate(
        &broker.url("ws"),
        &[
            "-n",
            "3",
            "--kill-after",
            "500ms",
            "--duration",
            "2500ms",
            "--format",
            "json",
        ],
    ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = summary(&json_lines(&out));
    assert!(s["killed"].as_u64().unwrap_or(0) >= 3, "{s}");
    assert!(s["reconnects"].as_u64().unwrap_or(0) >= 3, "{s}");
}

#[test]
fn scenario_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "[device]\nuid = \"device-{{$index}}\"\n\n[[periodic]]\nto = \"broker\"\ninterval = \"often\"\n",
            "line 6",
            "interval",
        ),
        (
            "[ready]\nto = \"broker\"\npayload = '{\"a\":{{$sequence}}}'\n",
            "line 3",
            "$sequence",
        ),
        (
            "[[command]]\non = \"Go\"\n[command.reply]\nto = \"mars\"\n",
            "line 4",
            "topic:NAME",
        ),
        ("[subscribe]\nself = [\"A\"]\nbarrier = \n", "line 3", ""),
        (
            "[device]\nuid = \"x\"\ncolour = \"red\"\n",
            "line 3",
            "colour",
        ),
    ];
    for (i, (body, line, word)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, body).expect("write");
        let out = run(smqctl()
            .args(["simulate", "-s"])
            .arg(&path)
            .args(["--url", "ws://127.0.0.1:9/smq/"]));
        assert_eq!(
            out.status.code(),
            Some(2),
            "case {i}: {}",
            text(&out.stderr)
        );
        let err = text(&out.stderr);
        assert!(err.starts_with("error: "), "case {i}: {err}");
        assert!(
            err.contains(&format!("bad{i}.toml, {line}")),
            "case {i}: {err}"
        );
        assert!(err.contains(word), "case {i}: {err}");
    }
    let out = run(smqctl().args(["simulate", "-s", "toaster"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("charger, smib, player"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn shards_cover_every_device_exactly_once_and_merge() {
    let broker = broker_for("charger");
    let url = broker.url("ws");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    // Three processes share one fleet of 7, at the same time.
    let shards: Vec<Running> = (0..3)
        .map(|i| {
            let file = dir.path().join(format!("shard-{i}.json"));
            files.push(file.clone());
            Running::spawn(
                simulate(
                    &url,
                    &[
                        "-n",
                        "7",
                        "--shard",
                        &format!("{i}/3"),
                        "--duration",
                        "1500ms",
                        "--interval",
                        "300ms",
                        "--verify",
                    ],
                )
                .arg("--report")
                .arg(&file),
            )
        })
        .collect();
    for s in shards {
        let out = s.wait();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let mut uids = Vec::new();
    for f in &files {
        let r: Value =
            serde_json::from_str(&std::fs::read_to_string(f).expect("report")).expect("JSON");
        assert_times_rounded(&r);
        for d in r["device_list"].as_array().expect("device_list") {
            uids.push(d["uid"].as_str().unwrap_or_default().to_string());
        }
    }
    uids.sort();
    let want: Vec<String> = (0..7).map(|i| format!("charger-{i:05}")).collect();
    assert_eq!(uids, want, "each device in exactly one shard");

    let out = run(smqctl()
        .args(["simulate", "merge", "--format", "json"])
        .args(&files));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let m = summary(&json_lines(&out));
    assert_eq!(m["devices"], 7, "{m}");
    assert_eq!(m["connects"], 7, "{m}");
    assert_eq!(m["shard"], "0/3,1/3,2/3", "{m}");
    assert_eq!(m["verify"]["lost"], 0, "{m}");

    // A missing shard or one given twice is an error.
    let out = run(smqctl()
        .args(["simulate", "merge"])
        .arg(&files[0])
        .arg(&files[2]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("a shard is missing"),
        "{}",
        text(&out.stderr)
    );
    let out = run(smqctl()
        .args(["simulate", "merge"])
        .arg(&files[1])
        .arg(&files[1]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("overlap"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn print_scenario_gives_a_file_that_runs_as_is() {
    let out = run(smqctl().args(["simulate", "--print-scenario", "smib"]));
    assert!(out.status.success());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("my-smib.toml");
    std::fs::write(&path, &out.stdout).expect("write");
    let broker = broker_for("smib");
    let out = run(smqctl()
        .args([
            "simulate",
            "-n",
            "2",
            "--duration",
            "1s",
            "--format",
            "json",
            "-s",
        ])
        .arg(&path)
        .args(["--url", &broker.url("ws")]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = summary(&json_lines(&out));
    assert_eq!(s["scenario"], "my-smib");
    assert_eq!(s["peak_online"], 2, "{s}");
}

#[test]
fn smib_answers_config_requests_with_its_relay_id_and_restarts() {
    let broker = TestBroker::start();
    let seen = recorder(&broker.broker);
    let sim = Running::spawn(&mut simulate(
        &broker.url("ws"),
        &["-s", "smib", "-n", "1", "--format", "json"],
    ));
    wait_for(&seen, "smib/online", |s| {
        s.iter().any(|(n, _, _)| n == "smib/online")
    });
    let (rly, etid) = {
        let s = seen.lock().expect("lock");
        let (_, etid, v) = s
            .iter()
            .find(|(n, _, _)| n == "smib/online")
            .expect("online");
        (v["rly"].as_str().unwrap_or_default().to_string(), *etid)
    };
    assert_eq!(rly, "e831cd000000");
    let relay = broker.broker.createsub("relay");
    broker.broker.publish(
        bytes::Bytes::from_static(br#"{"typ":"cfg","comp":"mqtt"}"#),
        etid,
        relay,
    );
    wait_for(&seen, "config answer", |s| {
        s.iter().any(|(n, _, v)| {
            n == "smib/config"
                && v["typ"] == "cfg"
                && v["comp"] == "mqtt"
                && v["rly"] == "e831cd000000"
        })
    });
    broker.broker.publish(
        bytes::Bytes::from_static(br#"{"command":"RESTART"}"#),
        etid,
        relay,
    );
    // Acknowledged, then the board reboots: a second smib/online.
    wait_for(&seen, "restart", |s| {
        s.iter().filter(|(n, _, _)| n == "smib/online").count() == 2
    });
    sim.interrupt();
    let out = sim.wait();
    let s = summary(&json_lines(&out));
    assert_eq!(s["restarts"], 1, "{s}");
    assert_eq!(s["commands_in"]["relay[typ=cfg]"], 1, "{s}");
}

#[test]
fn bind_spreads_connections_over_source_addresses() {
    let broker = broker_for("charger");
    let sim = Running::spawn(&mut simulate(
        &broker.url("ws"),
        &[
            "-n",
            "4",
            "--bind",
            "127.0.0.2,127.0.0.3",
            "--format",
            "json",
        ],
    ));
    let deadline = Instant::now() + STEP;
    let sources = loop {
        let peers: Vec<_> = broker
            .broker
            .peers()
            .into_iter()
            .filter(|p| p.uid.starts_with("charger-"))
            .collect();
        if peers.len() == 4 {
            break peers;
        }
        assert!(
            Instant::now() < deadline,
            "devices never all connected: {peers:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    for p in &sources {
        let index: u32 = p.uid["charger-".len()..].parse().expect("index");
        let want = if index.is_multiple_of(2) {
            "127.0.0.2"
        } else {
            "127.0.0.3"
        };
        assert_eq!(p.peer.ip().to_string(), want, "{p:?}");
    }
    sim.interrupt();
    assert!(sim.wait().status.success());
}

#[test]
fn ctrl_c_before_the_duration_ends_still_prints_the_summary_and_exits_130() {
    let broker = broker_for("charger");
    let mut sim = Running::spawn(&mut simulate(
        &broker.url("ws"),
        &[
            "-n",
            "2",
            "--duration",
            "60s",
            "--format",
            "json",
            "--stats-every",
            "100ms",
        ],
    ));
    loop {
        let v: Value = serde_json::from_str(&sim.stdout_line()).expect("JSON");
        if v["type"] == "stats" && v["online"] == 2 {
            break;
        }
    }
    sim.interrupt();
    let out = sim.wait();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let s = summary(&json_lines(&out));
    assert_eq!(s["online_at_end"], 2, "{s}");
    assert!(s["elapsed_s"].as_f64().unwrap_or(60.0) < 30.0, "{s}");
}

#[test]
fn sigterm_like_ctrl_c_disconnects_every_device_prints_the_summary_and_writes_the_report() {
    // The report: killed with SIGTERM (Kubernetes, CI), simulate exited 143
    // with no summary, no report, and devices that never sent Disconnect.
    let broker = broker_for("charger");
    let closes = crate::harness::Closes::of(&broker.broker);
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("r.json");
    let report_arg = report.display().to_string();
    let mut sim = Running::spawn(&mut simulate(
        &broker.url("ws"),
        &[
            "-n",
            "3",
            "--duration",
            "60s",
            "--format",
            "json",
            "--stats-every",
            "100ms",
            "--report",
            &report_arg,
        ],
    ));
    loop {
        let v: Value = serde_json::from_str(&sim.stdout_line()).expect("JSON");
        if v["type"] == "stats" && v["online"] == 3 {
            break;
        }
    }
    sim.terminate();
    let out = sim.wait();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let s = summary(&json_lines(&out));
    assert_eq!(s["online_at_end"], 3, "{s}");
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(&report).expect("the report file was written"),
    )
    .expect("the report is JSON");
    assert_eq!(written["devices"], 3, "{written}");
    assert_eq!(
        written["device_list"].as_array().map(Vec::len),
        Some(3),
        "{written}"
    );
    for (uid, reason) in closes.closed("charger-", 3) {
        assert_eq!(reason, crate::harness::SENT_DISCONNECT, "{uid}");
    }
}

#[test]
fn bad_report_path_bind_address_or_interval_fail_before_the_run() {
    // Both used to be noticed only at the end of the run (the report lost
    // after a long --duration) or never (every connect failing, exit 0).
    // The checks come before any connect: port 9 is never dialled.
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("no/such/dir/run.json");
    let started = Instant::now();
    let report = report.to_str().expect("utf-8 temp path");
    for (flags, says) in [
        (["--report", report], "cannot write the report"),
        (["--bind", "192.0.2.1"], "--bind 192.0.2.1"),
        // The floor of a scenario file's interval.
        (["--interval", "1ms"], "10ms or longer"),
    ] {
        let mut args = vec!["-n", "2", "--duration", "30s"];
        args.extend(flags);
        let out = run(&mut simulate("ws://127.0.0.1:9/smq/", &args));
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
    }
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "no run happened"
    );
    // A writable path is left alone until the report is written.
    let ok = dir.path().join("run.json");
    let out = run(&mut simulate(
        "ws://127.0.0.1:9/smq/",
        &["-n", "1", "--report", ok.to_str().expect("utf-8 temp path")],
    ));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(!ok.exists(), "no empty report left behind");
}

#[test]
fn with_no_reconnect_the_run_ends_once_every_device_has_given_up() {
    // It used to idle with 0 devices online until Ctrl-C (or --duration).
    let broker = TestBroker::start();
    let seen = recorder(&broker.broker);
    let sim = Running::spawn(&mut simulate(
        &broker.url("ws"),
        &["-n", "2", "--no-reconnect", "--format", "json"],
    ));
    wait_for(&seen, "2 DeviceReady", |s| ready_uids(s).len() == 2);
    drop(broker);
    let out = sim.wait(); // fails the test unless it exits on its own
    assert_eq!(out.status.code(), Some(1), "devices gave up: exit 1");
    let s = summary(&json_lines(&out));
    assert_eq!(s["failed"], 2, "{s}");
}

/// A broker that checks credentials per UID (`--auth`), with `sim-NNNNN:secret-N`
/// for three devices and `verifier:verify-secret`, running the charger
/// handlers (which re-publish reports on the verify topic); and a charger
/// scenario whose devices send those identities.
fn per_uid_auth_broker(dir: &std::path::Path) -> (TestBroker, std::path::PathBuf) {
    let users = dir.join("users.txt");
    let mut lines: String = (0..3).map(|i| format!("sim-{i:05}:secret-{i}\n")).collect();
    lines.push_str("verifier:verify-secret\n");
    std::fs::write(&users, lines).expect("write users");
    let scenario = dir.join("sim.toml");
    let charger = text(&run(smqctl().args(["simulate", "--print-scenario", "charger"])).stdout);
    let mine = charger.replace(
        "uid = \"charger-{{$index:05}}\"",
        "uid = \"sim-{{$index:05}}\"\ncredentials = \"secret-{{$index}}\"",
    );
    assert_ne!(
        mine, charger,
        "the charger scenario names its uid as expected"
    );
    std::fs::write(&scenario, mine).expect("write scenario");
    let broker = TestBroker::with_config(BrokerConfig {
        auth: Some(smqctl::broker::Auth::from_file(&users).expect("users file")),
        ..BrokerConfig::default()
    });
    crate::harness::install_handlers(&broker.broker, &handlers_text("charger"));
    (broker, scenario)
}

fn run_per_uid(
    broker: &TestBroker,
    scenario: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let mut cmd = simulate(
        &broker.url("ws"),
        &[
            "-s",
            scenario.to_str().expect("utf-8 temp path"),
            "-n",
            "3",
            "--duration",
            "1500ms",
            "--interval",
            "200ms",
            "--format",
            "json",
        ],
    );
    run(cmd.args(extra))
}

#[test]
fn simulate_probe_connects_as_device_0_so_a_broker_checking_credentials_per_uid_accepts_it() {
    // Its probe used to connect with a random UID and the command line's
    // credentials: `smqctl broker --auth` refused it (exit 4) before any device ran.
    let dir = tempfile::tempdir().expect("tempdir");
    let (broker, scenario) = per_uid_auth_broker(dir.path());
    let seen = recorder(&broker.broker);
    let out = run_per_uid(&broker, &scenario, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = summary(&json_lines(&out));
    assert_eq!(s["failed"], 0, "{s}");
    wait_for(&seen, "3 DeviceReady", |s| ready_uids(s).len() == 3);
}

/// A broker that re-publishes ChargerState reports as the charger handler file
/// does, except that `tamper` decides, per (device index, seq), how many times
/// (0, 1, 2) a report is re-published.
fn lossy_charger_broker(tamper: impl Fn(u64, u64) -> usize + Send + Sync + 'static) -> TestBroker {
    let broker = TestBroker::start();
    let topic = broker.broker.create("ChargerState");
    broker
        .broker
        .set_handler(Arc::new(move |b: &Broker, m: ServerMessage| {
            if b.tid2subtopic(m.subtid).as_deref() != Some("ChargerState") {
                return;
            }
            let v: Value = serde_json::from_slice(&m.payload).unwrap_or(Value::Null);
            let times = match (v["index"].as_u64(), v["seq"].as_u64()) {
                (Some(i), Some(s)) => tamper(i, s),
                _ => 1,
            };
            for _ in 0..times {
                b.publish(m.payload.clone(), topic, 0);
            }
        }));
    broker
}

fn verify_run(broker: &TestBroker) -> (std::process::Output, Value) {
    let out = run(&mut simulate(
        &broker.url("ws"),
        &[
            "-n",
            "2",
            "--duration",
            "2s",
            "--interval",
            "150ms",
            "--verify",
            "--format",
            "json",
        ],
    ));
    let s = summary(&json_lines(&out));
    (out, s["verify"].clone())
}

#[test]
fn verify_counts_a_report_the_broker_dropped_and_exits_1() {
    // Device 0's second report never reaches the verify topic.
    let broker = lossy_charger_broker(|index, seq| usize::from(!(index == 0 && seq == 2)));
    let (out, v) = verify_run(&broker);
    assert_eq!(out.status.code(), Some(1), "{v} {}", text(&out.stderr));
    assert!(v["expected"].as_u64().is_some_and(|e| e >= 6), "{v}");
    assert_eq!(v["lost"], 1, "{v}");
    assert_eq!(v["duplicated"], 0, "{v}");
    assert_eq!(v["devices_with_loss"], 1, "{v}");
    assert_eq!(
        v["received"].as_u64(),
        v["expected"].as_u64().map(|e| e - 1),
        "{v}"
    );
}

#[test]
fn verify_counts_a_report_the_broker_repeated_and_exits_1() {
    // Device 1's third and fourth reports arrive twice each; nothing is lost.
    let broker = lossy_charger_broker(|index, seq| {
        if index == 1 && (seq == 3 || seq == 4) {
            2
        } else {
            1
        }
    });
    let (out, v) = verify_run(&broker);
    assert_eq!(out.status.code(), Some(1), "{v} {}", text(&out.stderr));
    assert_eq!(v["duplicated"], 2, "{v}");
    assert_eq!(v["lost"], 0, "{v}");
    assert_eq!(v["devices_with_loss"], 0, "{v}");
    assert!(v["expected"].as_u64().is_some_and(|e| e >= 6), "{v}");
    assert_eq!(v["received"], v["expected"], "{v}");
}

#[test]
fn verify_with_an_untampered_broker_exits_0() {
    // The same fleet and broker code with nothing dropped: the baseline the two
    // tests above differ from.
    let broker = lossy_charger_broker(|_, _| 1);
    let (out, v) = verify_run(&broker);
    assert_eq!(out.status.code(), Some(0), "{v} {}", text(&out.stderr));
    assert_eq!(v["topics"], serde_json::json!(["ChargerState"]), "{v}");
    assert_eq!(
        (v["lost"].as_u64(), v["duplicated"].as_u64()),
        (Some(0), Some(0)),
        "{v}"
    );
    assert_eq!(v["devices_with_loss"], 0, "{v}");
    assert!(v["expected"].as_u64().is_some_and(|e| e >= 6), "{v}");
}

#[test]
fn verify_stops_waiting_as_soon_as_every_report_arrived() {
    // The verifier gives stragglers 2 s, but only while reports are missing: a
    // run that lost nothing ends right after --duration.
    let broker = lossy_charger_broker(|_, _| 1);
    let started = Instant::now();
    let out = run(&mut simulate(
        &broker.url("ws"),
        &[
            "-n",
            "2",
            "--duration",
            "1s",
            "--interval",
            "200ms",
            "--verify",
            "--format",
            "json",
        ],
    ));
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = summary(&json_lines(&out));
    assert_eq!(s["verify"]["lost"], 0, "{s}");
    assert!(
        took < Duration::from_millis(2500),
        "took {took:?}: waited out the straggler window with nothing missing"
    );
}

#[test]
fn simulate_verify_subscriber_had_a_random_uid_so_a_broker_checking_credentials_per_uid_refused_it()
{
    // The verify subscriber connected with a random UID: a per-UID --auth
    // broker refused it. It now connects as --uid with --credentials.
    let dir = tempfile::tempdir().expect("tempdir");
    let (broker, scenario) = per_uid_auth_broker(dir.path());
    let out = run_per_uid(
        &broker,
        &scenario,
        &[
            "--verify",
            "--uid",
            "verifier",
            "--credentials",
            "verify-secret",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = summary(&json_lines(&out));
    assert_eq!(s["failed"], 0, "{s}");
    let v = &s["verify"];
    assert!(
        v["received"].as_u64().unwrap_or(0) >= 3,
        "reports seen: {v}"
    );
    assert_eq!(v["received"], v["expected"], "{v}");
    assert_eq!(v["lost"], 0, "{v}");
    // Without an identity the broker knows, the verifier is refused, and the
    // error says it was the verifier.
    let out = run_per_uid(&broker, &scenario, &["--verify"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--verify subscriber"),
        "{}",
        text(&out.stderr)
    );
    // --uid without --verify still names what it would be for.
    let out = run_per_uid(&broker, &scenario, &["--uid", "verifier"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("with --verify, --uid names the verify subscriber"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn verify_on_a_scenario_without_a_verify_topic_is_bad_input_exit_2() {
    // The fleet engine reports this as its own FleetError (it used to reach
    // up into the commands for an input error); the exit code must stay 2.
    let dir = tempfile::tempdir().expect("tempdir");
    let charger = text(&run(smqctl().args(["simulate", "--print-scenario", "charger"])).stdout);
    let kept: String = charger
        .lines()
        .filter(|l| !l.trim_start().starts_with("verify_topic"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(
        kept, charger,
        "the charger scenario has a verify_topic line"
    );
    let path = dir.path().join("quiet.toml");
    std::fs::write(&path, kept).expect("write scenario");
    let broker = broker_for("charger");
    let path = path.to_str().expect("utf-8 temp path");
    let out = run(&mut simulate(
        &broker.url("ws"),
        &["-n", "1", "--duration", "5s", "--verify", "-s", path],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("--verify: scenario quiet has no periodic message with a verify_topic"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn simulate_connect_errors_were_a_bare_count_without_their_cause() {
    // Devices come up, the broker goes; every reconnect is refused. The
    // summary names the cause of each error kind (its first message) in
    // pretty, json and the --report file.
    let dir = tempfile::tempdir().expect("tempdir");
    let report_path = dir.path().join("run.json");
    for format in ["json", "pretty"] {
        let broker = TestBroker::start();
        let seen = recorder(&broker.broker);
        let sim = Running::spawn(&mut simulate(
            &broker.url("ws"),
            &[
                "-n",
                "2",
                "--duration",
                "3s",
                "--format",
                format,
                "--report",
                &report_path.to_string_lossy(),
            ],
        ));
        wait_for(&seen, "2 DeviceReady", |s| ready_uids(s).len() == 2);
        drop(broker);
        let out = sim.wait();
        if format == "json" {
            let s = summary(&json_lines(&out));
            assert!(s["errors"]["connect failed"].as_u64() >= Some(1), "{s}");
            let cause = s["error_causes"]["connect failed"]
                .as_str()
                .unwrap_or_default();
            assert!(cause.contains("refused"), "{s}");
            let file: Value = serde_json::from_str(
                &std::fs::read_to_string(&report_path).expect("report written"),
            )
            .expect("report is JSON");
            let cause = file["error_causes"]["connect failed"]
                .as_str()
                .unwrap_or_default();
            assert!(cause.contains("refused"), "{file}");
        } else {
            let s = text(&out.stdout);
            let line = s
                .lines()
                .find(|l| l.starts_with("errors"))
                .unwrap_or_else(|| panic!("no errors line: {s}"));
            assert!(
                line.contains("connect failed")
                    && line.contains("(first: cannot connect to")
                    && line.contains("refused"),
                "{s}"
            );
        }
    }
}

#[test]
fn verify_against_a_broker_without_the_scenarios_handlers_said_lost_as_if_some_reports_went_missing()
 {
    // No handlers: the broker never re-publishes a report on the verify topic.
    let broker = TestBroker::start();
    let (out, v) = verify_run(&broker);
    assert_eq!(out.status.code(), Some(1), "{v} {}", text(&out.stderr));
    assert_eq!(v["received"], 0, "{v}");
    let reason = v["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("none of the")
            && reason.contains("does not re-publish")
            && reason.contains("--print-handlers"),
        "{v}"
    );
    assert!(
        text(&out.stderr).contains("does not re-publish"),
        "{}",
        text(&out.stderr)
    );
    let pretty = run(&mut simulate(
        &broker.url("ws"),
        &[
            "-n",
            "1",
            "--duration",
            "1s",
            "--interval",
            "150ms",
            "--verify",
            "--format",
            "pretty",
        ],
    ));
    assert!(
        text(&pretty.stdout).contains("does not re-publish"),
        "{}",
        text(&pretty.stdout)
    );
    // Partial loss stays partial loss.
    let lossy = lossy_charger_broker(|index, seq| usize::from(!(index == 0 && seq == 2)));
    let (_, v) = verify_run(&lossy);
    assert!(v["reason"].is_null(), "{v}");
}
