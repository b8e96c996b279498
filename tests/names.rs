//! Issue 14, "same name, same meaning": one spelling per flag across commands,
//! old spellings kept as hidden aliases, one piped default, one boolean parser
//! for the SMQCTL_* yes/no variables. Each test runs the real binary.

use crate::harness::{TestBroker, json_lines, run, smqctl, text};

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

const RPC_HANDLERS: &str = r#"
[[rpc]]
name = "first"
result = '{{args.0}}'
"#;

#[test]
fn pub_dash_c_is_the_message_count_as_in_sub() {
    // Today's bug: `pub -C 3` was an error while `sub -C 3` worked.
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let (sub, _) = crate::harness::ready_sub(&url, &["Counted", "-C", "3", "-W", "10s"]);
    crate::harness::publish(&url, &["Counted", "m", "-C", "3"]);
    let out = sub.wait();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(json_lines(&out).len(), 3);
}

#[test]
fn rpc_count_is_dash_c_and_the_old_dash_n_still_works() {
    let broker = TestBroker::with_handlers(RPC_HANDLERS);
    for flag in ["-C", "-n", "--count"] {
        let out = run(smqctl()
            .args([
                "rpc", "--call", "first", "1", flag, "7", "-F", "json", "--url",
            ])
            .arg(broker.url("ws")));
        assert!(out.status.success(), "{flag}: {}", text(&out.stderr));
        assert_eq!(json_lines(&out)[0]["ok"].as_u64(), Some(7), "{flag}");
    }
    // `-c` stays the concurrency (in flight at once), not a count.
    let help = text(&run(smqctl().args(["rpc", "--help"])).stdout);
    assert!(help.contains("-c, --concurrency <N>"), "{help}");
    assert!(help.contains("-C, --count <N>"), "{help}");
    assert!(
        !help.contains("-n,"),
        "the old short form is hidden: {help}"
    );
}

#[test]
fn bench_pubsub_dash_c_is_messages_and_the_old_dash_n_still_works() {
    for flag in ["-C", "-n", "--count"] {
        let out = run(smqctl().args([
            "bench",
            "pubsub",
            "--embedded",
            flag,
            "300",
            "--format",
            "json",
        ]));
        assert!(out.status.success(), "{flag}: {}", text(&out.stderr));
        assert_eq!(json_lines(&out)[0]["sent"].as_u64(), Some(300), "{flag}");
    }
}

#[test]
fn bench_connections_count_is_named_connections_old_spellings_still_work() {
    let broker = TestBroker::start();
    for flag in ["--connections", "--count", "-n"] {
        let out = run(smqctl()
            .args([
                "bench",
                "connections",
                flag,
                "3",
                "--format",
                "json",
                "--url",
            ])
            .arg(broker.url("ws")));
        assert!(out.status.success(), "{flag}: {}", text(&out.stderr));
        assert_eq!(json_lines(&out)[0]["connections"], 3, "{flag}");
    }
    let help = text(&run(smqctl().args(["bench", "connections", "--help"])).stdout);
    assert!(help.contains("--connections <N>"), "{help}");
    assert!(
        !help.contains("--count <"),
        "the old name is hidden: {help}"
    );
}

#[test]
fn server_etid_is_one_flag_with_its_env_var_and_broker_tid_still_works() {
    // An ETID where nothing listens: the request goes there and is not answered
    // within -W, so the flag (or variable) demonstrably took effect.
    let broker = TestBroker::with_handlers(RPC_HANDLERS);
    let url = broker.url("ws");
    let call = |extra: &[&str], env: Option<&str>| {
        let mut cmd = smqctl();
        cmd.args(["rpc", "--call", "first", "1", "-W", "300ms", "--url", &url]);
        cmd.args(extra);
        if let Some(v) = env {
            cmd.env("SMQCTL_SERVER_ETID", v);
        }
        run(&mut cmd)
    };
    let ok = call(&[], None);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    for (extra, env) in [
        (&["--server-etid", "77"][..], None),
        (&["--broker-tid", "77"][..], None),
        (&[][..], Some("77")),
    ] {
        let out = call(extra, env);
        assert_eq!(
            out.status.code(),
            Some(5),
            "{extra:?} {env:?}: {}",
            text(&out.stderr)
        );
    }
    // The flag beats the variable.
    let out = call(&["--server-etid", "1"], Some("77"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    // simulate takes the same flag, its old name and the variable.
    for args in [&["--server-etid", "9"][..], &["--broker-tid", "9"][..]] {
        let out = run(smqctl()
            .args(["simulate", "--print-scenario", "charger"])
            .args(args));
        assert!(
            out.status.success(),
            "simulate {args:?}: {}",
            text(&out.stderr)
        );
    }
}

/// The first stdout line parses as one JSON object (the piped default).
fn first_line_is_json(out: &std::process::Output, what: &str) -> serde_json::Value {
    assert!(out.status.success(), "{what}: {}", text(&out.stderr));
    let first = text(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    serde_json::from_str(&first).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {first:?}"))
}

#[test]
fn bench_simulate_and_merge_print_json_when_piped_and_take_dash_f() {
    // Today's bug: bench pubsub and simulate stayed pretty when piped (while
    // bench rpc switched), and none of them took -F.
    let broker = TestBroker::with_handlers(&text(
        &run(smqctl().args(["simulate", "--print-handlers", "charger"])).stdout,
    ));
    let url = broker.url("ws");
    let v = first_line_is_json(
        &run(smqctl().args(["bench", "pubsub", "--embedded", "-C", "100"])),
        "bench pubsub",
    );
    assert_eq!(v["sent"].as_u64(), Some(100), "{v}");
    let v = first_line_is_json(
        &run(smqctl().args(["bench", "connections", "--connections", "2", "--url", &url])),
        "bench connections",
    );
    assert_eq!(v["connections"], 2, "{v}");
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("r.json");
    let out = run(smqctl()
        .args([
            "simulate",
            "-n",
            "2",
            "--duration",
            "1s",
            "--url",
            &url,
            "--report",
        ])
        .arg(&report));
    first_line_is_json(&out, "simulate");
    assert!(
        json_lines(&out).iter().any(|v| v["type"] == "summary"),
        "{}",
        text(&out.stdout)
    );
    let merged = run(smqctl().args(["simulate", "merge"]).arg(&report));
    first_line_is_json(&merged, "simulate merge");
    // -F pretty (and the long form) still gives the text for people.
    for (cmd, args) in [
        (
            "bench pubsub",
            vec!["bench", "pubsub", "--embedded", "-C", "100", "-F", "pretty"],
        ),
        (
            "simulate merge",
            vec!["simulate", "merge", "--format", "pretty"],
        ),
    ] {
        let mut c = smqctl();
        c.args(&args);
        if cmd == "simulate merge" {
            c.arg(&report);
        }
        let out = run(&mut c);
        assert!(out.status.success(), "{cmd}: {}", text(&out.stderr));
        let first = text(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(
            serde_json::from_str::<serde_json::Value>(&first).is_err(),
            "{cmd} -F pretty printed JSON: {first}"
        );
    }
}

#[test]
fn duration_is_dash_d_on_simulate_bench_and_demo() {
    for cmd in [&["simulate"][..], &["bench", "pubsub"], &["demo"]] {
        let help = text(&run(smqctl().args(cmd).arg("--help")).stdout);
        assert!(
            help.contains("-d, --duration <DURATION>"),
            "{cmd:?}: {help}"
        );
    }
    let started = std::time::Instant::now();
    let out = run(smqctl().args([
        "bench",
        "pubsub",
        "--embedded",
        "-d",
        "500ms",
        "--rate",
        "200",
    ]));
    let v = first_line_is_json(&out, "bench pubsub -d");
    assert!(v["sent"].as_u64().unwrap_or(0) > 0, "{v}");
    let out = run(smqctl().args([
        "demo",
        "--devices",
        "1",
        "--every",
        "150ms",
        "-d",
        "1s",
        "-F",
        "json",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!json_lines(&out).is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

/// `n` recorded trace events: publishes to DeviceState from sim-0000N, one
/// drop to Nobody/Here in the middle.
fn trace_file(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let mut out = String::new();
    for i in 0..n {
        let (kind, topic, extra) = if i == n / 2 {
            ("drop", "Nobody/Here", r#","reason":"no subscriber""#)
        } else {
            ("publish", "DeviceState", "")
        };
        out.push_str(&format!(
            concat!(
                r#"{{"v":1,"ts":"2026-11-22T03:44:{:02}.000Z","kind":"{}","#,
                r#""from":{{"etid":{},"uid":"sim-{:05}"}},"to":{{"tid":9,"type":"topic","name":"{}"}},"#,
                r#""size":7,"encoding":"text","payload":"n{}"{}}}"#,
                "\n"
            ),
            i % 60,
            kind,
            10 + i,
            i,
            topic,
            i,
            extra
        ));
    }
    let path = dir.join("events.ndjson");
    std::fs::write(&path, out).expect("write trace file");
    path
}

#[test]
fn trace_file_reads_a_recording_with_the_same_filters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = trace_file(dir.path(), 10);
    let f = f.to_str().expect("utf-8 path");
    let trace = |args: &[&str]| {
        let out = run(smqctl()
            .args(["trace", "--file", f, "-F", "json"])
            .args(args));
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        json_lines(&out)
    };
    assert_eq!(trace(&[]).len(), 10);
    let drops = trace(&["--drops"]);
    assert_eq!(drops.len(), 1);
    assert_eq!(drops[0]["to"]["name"], "Nobody/Here");
    assert_eq!(trace(&["--kind", "publish"]).len(), 9);
    assert_eq!(trace(&["--exclude", "Device*"]).len(), 1);
    assert_eq!(trace(&["--topic", "Device*"]).len(), 9);
    let one = trace(&["--grep", "sim-00003"]);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["from"]["uid"], "sim-00003");
    assert_eq!(trace(&["-C", "3"]).len(), 3);
    // Piped, the default is json too.
    let out = run(smqctl().args(["trace", "--file", f]));
    assert_eq!(json_lines(&out).len(), 10);
    // A broken line is bad input naming the file and line, not a short read.
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(
        &bad,
        "{\"v\":1,\"ts\":\"2026-11-22T03:44:00Z\",\"kind\":\"notice\"}\nnot json\n",
    )
    .expect("write");
    let out = run(smqctl().args(["trace", "--file"]).arg(&bad));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("line 2"),
        "{}",
        text(&out.stderr)
    );
    let out = run(smqctl().args(["trace", "--file", "/nonexistent.ndjson"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn tui_accepts_the_trace_filter_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = trace_file(dir.path(), 10);
    let f = f.to_str().expect("utf-8 path");
    let term = crate::pty::Pty::start(dir.path(), &["tui", "--file", f, "--drops"], 100, 30);
    term.wait_for("only the drop shown", |s| {
        s.contains("1 shown") && s.contains("Nobody/Here") && s.contains("end of")
    });
    term.keys(&["q"]);
    assert_eq!(term.wait_exit().code, Some(0));
    let term = crate::pty::Pty::start(
        dir.path(),
        &[
            "tui",
            "--file",
            f,
            "--kind",
            "publish",
            "--exclude",
            "Nobody*",
            "--grep",
            "sim-00004",
        ],
        100,
        30,
    );
    term.wait_for("only sim-00004's publish", |s| {
        s.contains("1 shown") && s.contains("sim-00004") && s.contains("end of")
    });
    term.keys(&["q"]);
    assert_eq!(term.wait_exit().code, Some(0));
}
