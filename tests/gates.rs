//! `--assert EXPR` on rpc load mode, bench pubsub, bench rpc and simulate:
//! a run that misses its targets exits 8 and says which, with the value; an
//! unknown name is a usage error before anything connects.

use crate::harness::{TestBroker, json_lines, run, smqctl, text};

const HANDLERS: &str = r#"
[[rpc]]
name = "first"
result = '{{args.0}}'
"#;

/// A URL where nothing listens (a run that connected would exit 3 there).
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/", l.local_addr().expect("addr"));
    drop(l);
    url
}

#[test]
fn rpc_load_passing_assertions_exit_0_and_a_failing_one_exits_8_naming_the_value() {
    let broker = TestBroker::with_handlers(HANDLERS);
    let url = broker.url("ws");
    let base = [
        "rpc", "--call", "first", "1", "--count", "50", "-c", "5", "-F", "json", "--url", &url,
    ];
    let out = run(smqctl().args(base).args([
        "--assert",
        "latency_ms.p99 < 10s",
        "--assert",
        "ok == 50",
        "--assert",
        "calls_per_s > 0",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("assert ok: latency_ms.p99 < 10s (measured "),
        "{err}"
    );
    assert_eq!(
        json_lines(&out)[0]["ok"],
        50,
        "the summary is still printed"
    );

    let out =
        run(smqctl()
            .args(base)
            .args(["--assert", "ok == 50", "--assert", "latency_ms.min < 1us"]));
    assert_eq!(out.status.code(), Some(8), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("assert ok: ok == 50 (measured 50)"), "{err}");
    assert!(
        err.contains("assert FAILED: latency_ms.min < 1us (measured ") && err.contains(" ms)"),
        "{err}"
    );
    assert_eq!(json_lines(&out)[0]["calls"], 50, "results are kept");
}

#[test]
fn an_unknown_assert_name_exits_2_before_connecting() {
    let url = dead_url();
    let cases: [&[&str]; 4] = [
        &[
            "rpc",
            "--call",
            "x",
            "--count",
            "5",
            "--assert",
            "p99 < 20ms",
        ],
        &[
            "bench",
            "rpc",
            "--call",
            "x",
            "--assert",
            "calls_per_second > 1",
        ],
        &["bench", "pubsub", "--assert", "ready.p99 < 5s"],
        &["simulate", "-n", "1", "--assert", "verify.gone == 0"],
    ];
    for args in cases {
        let out = run(smqctl().args(args).args(["--url", &url]));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("summary has no"), "{args:?}: {err}");
        assert!(!err.contains("refused"), "{args:?} connected first: {err}");
    }
    // The suggestion names the real key.
    let out = run(smqctl()
        .args(["bench", "pubsub", "--assert", "p99 < 20ms", "--url"])
        .arg(&url));
    assert!(
        text(&out.stderr).contains("did you mean latency_ms.p99?"),
        "{}",
        text(&out.stderr)
    );
    // A duration against a count, a bad expression, --assert without load mode.
    for (args, needle) in [
        (
            &["bench", "pubsub", "--assert", "lost < 5ms"][..],
            "not a time",
        ),
        (
            &["bench", "pubsub", "--assert", "lost ~ 5"][..],
            "no operator",
        ),
        (
            &["rpc", "--call", "x", "--assert", "ok == 1"][..],
            "add --count",
        ),
    ] {
        let out = run(smqctl().args(args).args(["--url", &url]));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(needle),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn bench_pubsub_and_bench_rpc_gate_on_their_own_summary_keys() {
    let broker = TestBroker::with_handlers(HANDLERS);
    let url = broker.url("ws");
    let out = run(smqctl().args([
        "bench",
        "pubsub",
        "--count",
        "200",
        "--size",
        "16",
        "-F",
        "json",
        "--url",
        &url,
        "--assert",
        "lost == 0",
        "--assert",
        "received == 200",
        "--assert",
        "msgs_per_s > 0",
        "--assert",
        "interrupted == false",
        "--assert",
        "latency_ms.p50 <= latency_ms.max",
    ]));
    // The last one is not an expression (a name is no value): refused by clap.
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    let out = run(smqctl().args([
        "bench",
        "pubsub",
        "--count",
        "200",
        "--size",
        "16",
        "-F",
        "json",
        "--url",
        &url,
        "--assert",
        "lost == 0",
        "--assert",
        "received == 200",
        "--assert",
        "msgs_per_s > 0",
        "--assert",
        "interrupted == false",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let out = run(smqctl().args([
        "bench",
        "rpc",
        "--call",
        "first",
        "1",
        "--count",
        "30",
        "-F",
        "json",
        "--url",
        &url,
        "--assert",
        "calls_per_s >= 1e12",
    ]));
    assert_eq!(out.status.code(), Some(8), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("assert FAILED: calls_per_s >= 1e12 (measured "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn simulate_fails_an_assertion_on_a_value_absent_in_this_run_instead_of_passing() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    // No --verify: verify.lost is a name of simulate's summary, but this run
    // has no verify section, so `verify.lost == 0` must not pass.
    let out = run(smqctl().args([
        "simulate",
        "-n",
        "2",
        "--duration",
        "1s",
        "--ramp",
        "0",
        "-F",
        "json",
        "--url",
        &url,
        "--assert",
        "verify.lost == 0",
        "--assert",
        "failed == 0",
        "--assert",
        "connect_ms.p99 < 10s",
    ]));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{err}");
    assert!(
        err.contains(
            "assert FAILED: verify.lost == 0 (measured nothing: absent in this run's summary)"
        ),
        "{err}"
    );
    assert!(err.contains("assert ok: failed == 0"), "{err}");
    assert!(err.contains("assert ok: connect_ms.p99 < 10s"), "{err}");
    let summary = json_lines(&out)
        .into_iter()
        .find(|v| v["type"] == "summary")
        .expect("the summary is printed");
    assert_eq!(summary["devices"], 2);
}

/// A recorded trace with one large-payload warning (a 20,000-byte publish to a
/// topic that has a reader, so nothing else is wrong).
const ONE_WARNING: &str = r#"{"v":2,"ts":"2026-11-22T03:44:01.000Z","kind":"connect","from":{"etid":5,"uid":"logger-0001"}}
{"v":2,"ts":"2026-11-22T03:44:01.100Z","kind":"subscribe","from":{"etid":6,"uid":"reader-0001"},"to":{"tid":9,"type":"topic","name":"Logs"}}
{"v":2,"ts":"2026-11-22T03:44:01.200Z","kind":"publish","from":{"etid":5,"uid":"logger-0001"},"to":{"tid":9,"type":"topic","name":"Logs"},"size":20000,"encoding":"text","payload":"xxxx","truncated":true,"receivers":1}
"#;

#[test]
fn analyze_gates_on_its_summary_counts_and_refuses_unknown_names_before_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("trace.ndjson");
    std::fs::write(&file, ONE_WARNING).expect("write");
    let file = file.to_str().expect("utf-8 path");
    let base = ["analyze", "-f", file, "-F", "json"];
    // The warning is below --fail-on error (exit 0) but fails a gate on it.
    let out = run(smqctl()
        .args(base)
        .args(["--assert", "findings.warning == 0"]));
    assert_eq!(out.status.code(), Some(8), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("assert FAILED: findings.warning == 0 (measured 1)"),
        "{}",
        text(&out.stderr)
    );
    // The findings and summary are still printed.
    let lines = json_lines(&out);
    assert_eq!(
        lines.last().and_then(|l| l["type"].as_str()),
        Some("summary")
    );
    let out = run(smqctl().args(base).args([
        "--assert",
        "findings.warning <= 1",
        "--assert",
        "rules.large-payload.count == 1",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // An unknown name is a usage error, before the file is even read.
    let out = run(smqctl().args([
        "analyze",
        "-f",
        "/nonexistent/trace.ndjson",
        "--assert",
        "nosuch < 1",
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no 'nosuch'"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn analyze_gates_on_a_rule_that_found_nothing_read_zero_and_a_misspelt_rule_is_unknown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("trace.ndjson");
    std::fs::write(&file, ONE_WARNING).expect("write");
    let file = file.to_str().expect("utf-8 path");
    // no-subscribers found nothing here: its count is 0, not absent.
    let out = run(smqctl().args([
        "analyze",
        "-f",
        file,
        "-F",
        "json",
        "--assert",
        "rules.no-subscribers.count <= 3",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("assert ok: rules.no-subscribers.count <= 3 (measured 0)"),
        "{}",
        text(&out.stderr)
    );
    let out = run(smqctl().args([
        "analyze",
        "-f",
        file,
        "--assert",
        "rules.no-subscriber.count == 0",
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
