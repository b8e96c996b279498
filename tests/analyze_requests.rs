//! `smqctl analyze` end to end (issue 15): the command (file and live, formats,
//! --fail-on, --rules, --explain, settings from a profile and analyze.toml,
//! degraded mode refused) and the request/reply rules with real clients
//! against the embedded broker.

use crate::harness::{
    Recording, Running, TestBroker, analyze_file, json_lines, publish, run, smqctl, text,
};

fn big() -> String {
    "x".repeat(20_000)
}

/// A recording where one client publishes 20000 bytes to `Logs` twice.
fn large_payload_recording(broker: &TestBroker) -> crate::harness::Recorded {
    let url = broker.url("ws");
    let rec = Recording::start(&url);
    for _ in 0..2 {
        publish(&url, &["Logs", &big(), "--uid", "logger-0001"]);
    }
    rec.stop()
}

#[test]
fn analyze_file_reports_a_large_payload_once_with_its_final_count() {
    let broker = TestBroker::start();
    let rec = large_payload_recording(&broker);
    let (findings, summary, out) = analyze_file(&rec.path, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a warning passes the default --fail-on error"
    );
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["type"], "finding");
    assert_eq!(f["rule"], "large-payload");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["topic"], "Logs");
    assert_eq!(f["count"], 2, "file mode prints each finding once, counted");
    assert_eq!(f["clients"][0]["uid"], "logger-0001");
    assert_eq!(f["evidence"].as_array().map(Vec::len), Some(2));
    assert!(f["fix"].as_str().is_some_and(|s| s.contains("HTTP")));
    assert_eq!(summary["findings"]["warning"], 1);
    assert_eq!(summary["findings"]["error"], 0);
    assert_eq!(summary["rules"]["large-payload"]["count"], 2);
    assert_eq!(summary["counts"][0]["id"], f["id"]);
    assert_eq!(summary["ended"], "end of file");
    assert!(
        summary["events"].as_u64().is_some_and(|n| n >= 4),
        "{summary}"
    );
}

#[test]
fn fail_on_and_deny_decide_the_exit_code() {
    let broker = TestBroker::start();
    let rec = large_payload_recording(&broker);
    let code = |args: &[&str]| analyze_file(&rec.path, args).2.status.code();
    assert_eq!(code(&[]), Some(0));
    assert_eq!(code(&["--fail-on", "warning"]), Some(1));
    assert_eq!(code(&["--fail-on", "info"]), Some(1));
    assert_eq!(code(&["--fail-on", "error"]), Some(0));
    assert_eq!(
        code(&["--deny", "large-payload"]),
        Some(1),
        "denied: an error"
    );
    let (findings, _, out) = analyze_file(
        &rec.path,
        &["--allow", "large-payload", "--fail-on", "info"],
    );
    assert!(
        findings.is_empty(),
        "allowed: the rule is off: {findings:#?}"
    );
    assert_eq!(out.status.code(), Some(0));
    let (_, _, out) = analyze_file(&rec.path, &["--large", "30000", "--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(0), "--large raises the limit");
}

#[test]
fn pretty_output_groups_findings_with_evidence_and_a_summary_line() {
    let broker = TestBroker::start();
    let rec = large_payload_recording(&broker);
    let out = run(smqctl()
        .args(["analyze", "-F", "pretty", "--file"])
        .arg(&rec.path));
    let shown = text(&out.stdout);
    assert!(
        shown.starts_with("warning[large-payload] logger-0001"),
        "{shown}"
    );
    assert!(shown.contains("\n  topic:    Logs\n"), "{shown}");
    assert!(shown.contains("\n  | "), "evidence lines: {shown}");
    assert!(
        shown.contains("1 finding: 0 errors, 1 warning, 0 info"),
        "{shown}"
    );
    assert!(
        !shown.contains('\x1b'),
        "no colour when NO_COLOR / not a terminal"
    );
}

#[test]
fn rules_lists_the_catalogue_and_explain_prints_a_rules_doc() {
    let out = run(smqctl().args(["analyze", "--rules"]));
    assert!(out.status.success());
    let list = text(&out.stdout);
    assert!(
        list.lines()
            .any(|l| l.starts_with("large-payload") && l.contains("warning")),
        "{list}"
    );
    let out = run(smqctl().args(["analyze", "--explain", "large-payload"]));
    assert!(out.status.success());
    let doc = text(&out.stdout);
    for part in ["What:", "Why", "Fix:", "Example:", "Brokers:"] {
        assert!(doc.contains(part), "{part}: {doc}");
    }
}

#[test]
fn an_unknown_rule_name_is_a_usage_error_listing_the_rules() {
    for flag in ["--explain", "--allow", "--deny"] {
        let out = run(smqctl().args(["analyze", flag, "large-payloads"]));
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = text(&out.stderr);
        assert!(err.contains("unknown rule 'large-payloads'"), "{err}");
        assert!(
            err.contains("large-payload,") || err.contains("large-payload;"),
            "{err}"
        );
    }
}

#[test]
fn a_broken_line_in_the_file_is_bad_input_naming_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.ndjson");
    std::fs::write(
        &path,
        "{\"ts\":\"2026-11-22T03:44:17Z\",\"kind\":\"connect\",\"from\":{\"etid\":5}}\n\nnot json\n",
    )
    .expect("write");
    let out = run(smqctl().args(["analyze", "--file"]).arg(&path));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("line 3: not a trace event"),
        "{}",
        text(&out.stderr)
    );
    let out = run(smqctl().args(["analyze", "--file", "/nonexistent/t.ndjson"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot open /nonexistent/t.ndjson"));
}

#[test]
fn settings_come_from_analyze_toml_and_the_profile_and_flags_win() {
    let broker = TestBroker::start();
    let rec = large_payload_recording(&broker);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("analyze.toml"), "fail_on = \"warning\"\n").expect("write");
    let in_dir = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = smqctl();
        cmd.current_dir(dir.path())
            .args(["analyze", "-F", "json", "--file"])
            .arg(&rec.path)
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd).status.code()
    };
    assert_eq!(in_dir(&[], &[]), Some(1), "analyze.toml's fail_on");
    assert_eq!(
        in_dir(&["--fail-on", "error"], &[]),
        Some(0),
        "the flag wins"
    );
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[profile.ci]\nurl = \"ws://127.0.0.1:1/\"\n[profile.ci.analyze]\nlarge = 30000\n",
    )
    .expect("write");
    let cfg = config.to_str().expect("utf-8 path");
    assert_eq!(
        in_dir(&["--profile", "ci"], &[("SMQCTL_CONFIG", cfg)]),
        Some(0),
        "the profile's large raises the limit: no warning left for fail_on"
    );
    std::fs::write(
        dir.path().join("analyze.toml"),
        "allow = [\"no-such-rule\"]\n",
    )
    .expect("write");
    let mut cmd = smqctl();
    cmd.current_dir(dir.path())
        .args(["analyze", "--file"])
        .arg(&rec.path);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("analyze.toml: allow: unknown rule 'no-such-rule'"),
        "{err}"
    );
    std::fs::write(dir.path().join("analyze.toml"), "fail-on = \"warning\"\n").expect("write");
    let mut cmd = smqctl();
    cmd.current_dir(dir.path())
        .args(["analyze", "--file"])
        .arg(&rec.path);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(2), "an unknown key is refused");
    assert!(
        text(&out.stderr).contains("fail-on"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn live_analyze_without_a_tracer_is_refused_with_exit_4() {
    let broker = TestBroker::start();
    let out = run(smqctl().args([
        "analyze",
        "--url",
        &broker.url("ws"),
        "--server-etid",
        "12345",
        "--attach-timeout",
        "300ms",
    ]));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("error: no trace source attached this tracer"),
        "{err}"
    );
    assert!(err.contains("smqctl hook lua"), "{err}");
    assert!(out.stdout.is_empty(), "no summary of nothing");
}

#[test]
fn live_analyze_prints_a_finding_as_it_happens_and_the_summary_at_the_end() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let mut a = Running::spawn(smqctl().args(["analyze", "-F", "json", "--url", &url]));
    a.stderr_line("attached to the broker's tracer");
    publish(&url, &["Logs", &big(), "--uid", "logger-0001"]);
    let first: serde_json::Value = serde_json::from_str(&a.stdout_line()).expect("a finding line");
    assert_eq!(first["rule"], "large-payload");
    assert_eq!(first["count"], 1, "printed when first made");
    publish(&url, &["Logs", &big(), "--uid", "logger-0001"]);
    publish(&url, &["Logs", &big(), "--uid", "logger-0001"]);
    // Let the two later publishes reach the analyzer: a marker finding
    // (another topic) comes after them.
    publish(&url, &["Marker", &big(), "--uid", "logger-0001"]);
    let marker: serde_json::Value = serde_json::from_str(&a.stdout_line()).expect("a finding line");
    assert_eq!(marker["topic"], "Marker");
    a.interrupt();
    let out = a.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    let summary = lines.last().expect("a summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["ended"], "interrupted");
    let counts = summary["counts"].as_array().expect("counts");
    let logs = counts
        .iter()
        .find(|c| c["id"] == first["id"])
        .expect("the first finding's final count");
    assert_eq!(logs["count"], 3, "the summary carries the final count");
}
