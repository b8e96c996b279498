//! `smqctl demo` under `smqctl analyze` (issue 15): the demo's trace (its
//! viewer is `smqctl trace -F json` off a terminal) analyzed as a file finds
//! the demo's three deliberate mistakes — an alert to a topic nobody
//! subscribes to, a command to a stale ETID, a request the broker has no
//! handler for — and nothing else: the fleet passes its readiness barrier,
//! the operator's commands and RPC calls are answered.
//!
//! Needs the rules of all three analyze branches (a-core: unanswered-request;
//! a-rules: no-subscribers, stale-etid; a-ready: the readiness rules, which
//! must stay silent here).

use serde_json::Value;

use crate::harness::{analyze_file, run, smqctl, text};

#[test]
fn demo_under_analyze_finds_its_three_deliberate_mistakes_and_nothing_else() {
    // 25 operator actions at 150 ms: each mistake comes at least once
    // (Alerts/Overheat every 8th, the stale ETID every 16th from the 7th,
    // FirmwareUpdateReq on the 15th and while no device is known yet).
    let out = run(smqctl().args([
        "demo",
        "--devices",
        "4",
        "--every",
        "150ms",
        "--duration",
        "6s",
        "--format",
        "json",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("demo.ndjson");
    std::fs::write(&path, &out.stdout).expect("write the demo's trace");

    let (findings, summary, analyzed) = analyze_file(&path, &[]);
    let mut rules: Vec<&str> = findings.iter().filter_map(|f| f["rule"].as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    assert_eq!(
        rules,
        ["no-subscribers", "stale-etid", "unanswered-request"],
        "{findings:#?}"
    );
    let of =
        |rule: &str| -> Vec<&Value> { findings.iter().filter(|f| f["rule"] == rule).collect() };
    for f in of("no-subscribers") {
        assert_eq!(f["topic"], "Alerts/Overheat", "{f}");
    }
    for f in of("stale-etid") {
        let m = f["message"].as_str().unwrap_or_default();
        assert!(
            m.contains(&0x0bad_0001u32.to_string()) || m.to_lowercase().contains("0x0bad0001"),
            "{f}"
        );
    }
    for f in of("unanswered-request") {
        let m = f["message"].as_str().unwrap_or_default();
        assert!(
            m.contains("FirmwareUpdateReq") && m.contains("server has no handler"),
            "{f}"
        );
    }
    assert_eq!(
        analyzed.status.code(),
        Some(1),
        "errors fail the run: {summary}"
    );
}
