//! `smqctl rpc`, `smqctl serve`, the broker's handler file and `smqctl bench`,
//! end to end with the real binary.

use std::time::{Duration, Instant};

use smqctl::broker::handlers::HandlerFile;

use crate::harness::{
    Running, TestBroker, assert_times_rounded, json_lines, publish, ready_sub, run, smqctl, text,
};

const HANDLERS: &str = r#"
[[request]]
name = "SearchSitesReq"
reply = '{"rows":[{"site":"{{SiteName}}"}],"n":{{$n}}}'

[[request]]
name = "SlowReq"
echo = true
delay = "20s"

[[request]]
name = "LateReq"
echo = true
delay = "1500ms"

[[rpc]]
name = "first"
result = '{{args.0}}'

[[rpc]]
name = "fail"
error = "out of coffee"

[[event]]
name = "ChargerState"
"#;

fn broker_with_handlers() -> TestBroker {
    TestBroker::with_handlers(HANDLERS)
}

fn rpc(url: &str, args: &[&str]) -> std::process::Output {
    run(smqctl().arg("rpc").args(args).args(["--url", url]))
}

#[test]
fn named_request_gets_the_broker_handlers_reply() {
    let broker = broker_with_handlers();
    for scheme in ["ws", "http"] {
        let out = rpc(
            &broker.url(scheme),
            &["SearchSitesReq", r#"{"SiteName":"alpha"}"#, "-F", "json"],
        );
        assert!(out.status.success(), "{scheme}: {}", text(&out.stderr));
        let reply = &json_lines(&out)[0];
        assert_eq!(reply["subtopic"], "SearchSitesResp");
        assert_eq!(reply["direct"], true);
        assert_eq!(reply["payload"]["rows"][0]["site"], "alpha");
        assert_eq!(reply["ptid"], 1, "answered by the broker's ETID");
        assert!(reply["latency_ms"].as_f64().is_some());
    }
}

#[test]
fn correlated_calls_return_rsp_or_fail_with_err() {
    let broker = broker_with_handlers();
    let url = broker.url("ws");
    let out = rpc(
        &url,
        &["--call", "first", r#"{"x":[1,2]}"#, "7", "-F", "raw"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), r#"{"x":[1,2]}"#);
    let out = rpc(
        &url,
        &[
            "--call",
            "first",
            "--args",
            r#"["from --args"]"#,
            "-F",
            "json",
        ],
    );
    let v = &json_lines(&out)[0];
    assert_eq!(
        (v["id"].as_u64(), v["rsp"].as_str()),
        (Some(1), Some("from --args"))
    );
    let out = rpc(&url, &["--call", "fail"]);
    assert_eq!(out.status.code(), Some(7));
    assert!(
        text(&out.stderr).contains("out of coffee"),
        "{}",
        text(&out.stderr)
    );
    let out = rpc(&url, &["--call", "nosuch", "1"]);
    assert_eq!(out.status.code(), Some(7));
    assert!(text(&out.stderr).contains("RPC function not found"));
}

#[test]
fn no_reply_times_out_saying_what_was_sent_and_awaited() {
    let broker = broker_with_handlers();
    let started = Instant::now();
    // --timeout bounds the call's setup (its acks) too: 300 ms ran out on a
    // loaded machine before the request left, and the message said so instead.
    let out = rpc(&broker.url("ws"), &["UnknownReq", "{}", "--timeout", "2s"]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        text(&out.stderr).trim(),
        "error: no reply within 2s: sent UnknownReq to ETID 1 (broker) and waited for UnknownResp on self"
    );
    assert!(started.elapsed() < Duration::from_secs(12));
}

#[test]
fn dropped_connection_fails_pending_calls_at_once() {
    let broker = broker_with_handlers();
    let mut cmd = smqctl();
    cmd.args([
        "-v",
        "rpc",
        "SlowReq",
        "{}",
        "--timeout",
        "60s",
        "--url",
        &broker.url("http"),
    ]);
    let started = Instant::now();
    let call = Running::spawn(&mut cmd);
    // Wait until the request reached the broker, then drop everyone.
    let deadline = Instant::now() + Duration::from_secs(10);
    while broker.broker.stats().published == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    broker.broker.shutdown_all("maintenance");
    let out = call.wait();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("maintenance"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "did not wait for the 60 s timeout"
    );
}

#[test]
fn a_bad_to_is_refused_before_connecting() {
    // It used to be checked only after the connect (and Createsub, Subscribe),
    // so an unreachable broker said exit 3 for what is a typo (exit 2).
    let out = rpc("ws://127.0.0.1:1/", &["HelloReq", "--to", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--to '0' is not an ETID"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn concurrent_named_requests_without_an_id_are_refused() {
    let out = rpc(
        "ws://127.0.0.1:1/",
        &[
            "SearchSitesReq",
            "{}",
            "--count",
            "10",
            "--concurrency",
            "4",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("need --id-field"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn load_mode_reports_counts_rate_and_percentiles() {
    let broker = broker_with_handlers();
    let out = rpc(
        &broker.url("ws"),
        &[
            "--call",
            "first",
            "1",
            "--count",
            "500",
            "--concurrency",
            "10",
            "-F",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = &json_lines(&out)[0];
    assert_eq!(
        (s["ok"].as_u64(), s["error"].as_u64(), s["timeout"].as_u64()),
        (Some(500), Some(0), Some(0))
    );
    assert!(s["calls_per_s"].as_f64().unwrap_or(0.0) > 0.0);
    // Present values only: `None <= None` would pass with no latency at all.
    let lat = |k: &str| {
        s["latency_ms"][k]
            .as_f64()
            .unwrap_or_else(|| panic!("no latency_ms.{k} in {s}"))
    };
    let (p50, p99, max) = (lat("p50"), lat("p99"), lat("max"));
    assert!(p50 > 0.0 && p50 <= p99 && p99 <= max, "{s}");
    // Errors are counted, not hidden.
    let out = rpc(
        &broker.url("http"),
        &["--call", "fail", "--count", "20", "-c", "5", "-F", "json"],
    );
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(json_lines(&out)[0]["error"], 20);
}

#[test]
fn serve_answers_named_requests_with_templates_and_id_fields() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let mut cmd = smqctl();
    cmd.args([
        "serve",
        "GetStatusReq",
        "--reply",
        r#"{"request_id":"{{request_id}}","device":"{{device}}","from":{{$etid}}}"#,
        "--url",
        &url,
    ]);
    let mut serve = Running::spawn(&mut cmd);
    let line = serve.stderr_line("as ETID");
    let etid = line.rsplit(' ').next().expect("etid").to_string();
    let out = rpc(
        &url,
        &[
            "GetStatusReq",
            r#"{"device":"smib-7"}"#,
            "--to",
            &etid,
            "--id-field",
            "request_id",
            "--count",
            "200",
            "--concurrency",
            "20",
            "-F",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = &json_lines(&out)[0];
    assert_eq!(s["ok"], 200, "{s}");
    assert_eq!(s["unmatched_replies"], 0);
    let one = rpc(
        &url,
        &[
            "GetStatusReq",
            r#"{"device":"smib-7"}"#,
            "--to",
            &etid,
            "-F",
            "json",
        ],
    );
    let v = &json_lines(&one)[0];
    assert_eq!(v["payload"]["device"], "smib-7");
    assert_eq!(v["payload"]["from"].as_u64(), etid.parse().ok());
}

#[test]
fn serve_exec_and_rpc_exec_run_a_command_per_request() {
    let broker = TestBroker::start();
    let url = broker.url("http");
    let mut cmd = smqctl();
    cmd.args([
        "serve",
        "UpperReq",
        "--exec",
        "tr a-z A-Z",
        "--rpc-exec",
        r#"read req; case "$req" in *'"add"'*) echo 3;; *) echo "unknown: $req" >&2; exit 1;; esac"#,
        "--url",
        &url,
    ]);
    let mut serve = Running::spawn(&mut cmd);
    let etid = serve
        .stderr_line("as ETID")
        .rsplit(' ')
        .next()
        .expect("etid")
        .to_string();
    let out = rpc(&url, &["UpperReq", "shout", "--to", &etid, "-F", "raw"]);
    assert_eq!(text(&out.stdout).trim(), "SHOUT", "{}", text(&out.stderr));
    let out = rpc(
        &url,
        &["--call", "add", "1", "2", "--to", &etid, "-F", "raw"],
    );
    assert_eq!(text(&out.stdout).trim(), "3", "{}", text(&out.stderr));
    let out = rpc(&url, &["--call", "mul", "--to", &etid]);
    assert_eq!(out.status.code(), Some(7));
    assert!(
        text(&out.stderr).contains("unknown:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn discovery_collects_every_peer_that_answers() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let mut peers = Vec::new();
    let mut etids = Vec::new();
    for _ in 0..2 {
        let mut cmd = smqctl();
        cmd.args([
            "serve",
            "Hello",
            "--topic",
            "Presence",
            "--reply",
            r#"{"me":{{$etid}}}"#,
            "--url",
            &url,
        ]);
        let mut p = Running::spawn(&mut cmd);
        etids.push(
            p.stderr_line("as ETID")
                .rsplit(' ')
                .next()
                .expect("etid")
                .parse::<u64>()
                .expect("num"),
        );
        peers.push(p);
    }
    let out = rpc(
        &url,
        &[
            "Hello",
            "{}",
            "--to",
            "Presence",
            "--responses",
            "2",
            "-F",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut who: Vec<u64> = json_lines(&out)
        .iter()
        .map(|l| l["payload"]["me"].as_u64().unwrap_or(0))
        .collect();
    who.sort();
    etids.sort();
    assert_eq!(who, etids);
}

#[test]
fn event_rule_rebroadcasts_a_report_to_the_topic() {
    let broker = broker_with_handlers();
    let url = broker.url("ws");
    let (sub, _) = ready_sub(&url, &["ChargerState", "-C", "1", "-W", "10s"]);
    publish(
        &url,
        &[
            "--to-etid",
            "1",
            "--subtopic",
            "ChargerState",
            r#"{"ChargerID":3,"On":true}"#,
        ],
    );
    let lines = json_lines(&sub.wait());
    assert_eq!(lines[0]["topic"], "ChargerState");
    assert_eq!(lines[0]["payload"]["ChargerID"], 3);
    assert_eq!(lines[0]["ptid"], 1, "published by the broker");
}

#[test]
fn bench_pubsub_and_bench_rpc_report_json_summaries() {
    let out = run(smqctl().args([
        "bench",
        "pubsub",
        "--embedded",
        "--count",
        "2000",
        "--format",
        "json",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = &json_lines(&out)[0];
    assert_eq!(
        (
            s["sent"].as_u64(),
            s["received"].as_u64(),
            s["lost"].as_u64()
        ),
        (Some(2000), Some(2000), Some(0))
    );
    // The embedded broker says what it dropped (nothing); a broker of its own cannot.
    assert_eq!(
        (s["dropped_here"].as_u64(), s["broker_dropped"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    assert!(s["msgs_per_s"].as_f64().unwrap_or(0.0) > 0.0);
    let broker = broker_with_handlers();
    let out = run(smqctl()
        .args([
            "bench", "rpc", "--call", "first", "1", "--count", "300", "-c", "8", "--format",
            "json", "--url",
        ])
        .arg(broker.url("http")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(json_lines(&out)[0]["ok"], 300);
}

#[test]
fn late_replies_of_timed_out_calls_are_not_counted_as_answers() {
    // Without correlation IDs a late reply could be taken for the next call's.
    let broker = broker_with_handlers();
    let out = rpc(
        &broker.url("ws"),
        &[
            "LateReq",
            "{}",
            "--count",
            "4",
            // Under LateReq's delay, yet enough for the setup's acks, which
            // count against it too (200 ms ran out on a loaded machine).
            "--timeout",
            "1s",
            "-F",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let s = &json_lines(&out)[0];
    assert_eq!(
        (s["ok"].as_u64(), s["timeout"].as_u64()),
        (Some(0), Some(4)),
        "{s}"
    );
}

#[test]
fn the_readme_handler_file_example_loads_and_answers() {
    // Keeps the documented file format true.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let start = readme.find("# handlers.toml").expect("example in README");
    let example = &readme[start..start + readme[start..].find("```").expect("end of block")];
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("handlers.toml");
    std::fs::write(&path, example).expect("write");
    let broker = TestBroker::start();
    let handlers = HandlerFile::load(&path)
        .expect("README example is valid")
        .install(&broker.broker);
    broker.broker.set_handler(std::sync::Arc::new(handlers));
    let url = broker.url("ws");
    let out = rpc(
        &url,
        &["SearchSitesReq", r#"{"SiteName":"alpha"}"#, "-F", "json"],
    );
    assert_eq!(
        json_lines(&out)[0]["payload"]["rows"][0]["site"],
        "alpha",
        "{}",
        text(&out.stderr)
    );
    let out = rpc(&url, &["--call", "getConfig", "1", "2", "-F", "raw"]);
    assert_eq!(text(&out.stdout).trim(), r#"{"mode":"eco","asked":[1,2]}"#);
    let out = rpc(&url, &["--call", "reboot"]);
    assert_eq!(out.status.code(), Some(7));
}

#[test]
fn a_request_rule_can_announce_an_event_after_replying() {
    let broker = TestBroker::with_handlers(
        "[[request]]\nname = \"SetChargerReq\"\nreply = '{\"ok\":true}'\nevent_topic = \"ChargerState\"\nevent_payload = '{\"id\":{{ChargerID}},\"on\":{{On}}}'\n",
    );
    let url = broker.url("http");
    let (sub, _) = ready_sub(&url, &["ChargerState", "-C", "1", "-W", "10s"]);
    let out = rpc(
        &url,
        &[
            "SetChargerReq",
            r#"{"ChargerID":7,"On":false}"#,
            "-F",
            "json",
        ],
    );
    assert_eq!(
        json_lines(&out)[0]["payload"]["ok"],
        true,
        "{}",
        text(&out.stderr)
    );
    let event = &json_lines(&sub.wait())[0];
    assert_eq!(event["payload"], serde_json::json!({"id": 7, "on": false}));
    assert_eq!(event["ptid"], 1);
}

#[test]
fn responses_short_of_n_exit_5_saying_how_many_came() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let _peers: Vec<_> = (0..2)
        .map(|_| {
            crate::serve::serve(
                &url,
                &[
                    "Hello",
                    "--topic",
                    "Presence",
                    "--reply",
                    r#"{"me":{{$etid}}}"#,
                ],
            )
        })
        .collect();
    let out = rpc(
        &url,
        &[
            "Hello",
            "{}",
            "--to",
            "Presence",
            "--responses",
            "3",
            "--timeout",
            "1s",
            "-F",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("2 of 3 replies within 1s"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(json_lines(&out).len(), 2, "the replies that came are kept");
}

#[test]
fn collect_with_no_answer_at_all_exits_5() {
    let broker = TestBroker::start();
    let out = rpc(
        &broker.url("ws"),
        &["Hello", "{}", "--to", "Nobody", "--collect", "500ms"],
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no reply within 500ms"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn remote_error_prints_the_reply_in_json_only() {
    let broker = broker_with_handlers();
    let url = broker.url("ws");
    let out = rpc(&url, &["--call", "fail", "-F", "json"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["err"], "out of coffee", "{lines:?}");
    // Other formats: the error goes to stderr only.
    let out = rpc(&url, &["--call", "fail", "-F", "raw"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "", "raw output of an error reply");
    assert!(text(&out.stderr).contains("out of coffee"));
}

/// Digits after the decimal point of a JSON number as printed.
fn decimals(v: &serde_json::Value) -> usize {
    v.to_string().split_once('.').map_or(0, |(_, f)| f.len())
}

#[test]
fn rpc_call_format_hex_printed_the_bare_result_instead_of_the_reply_like_named_requests() {
    let broker = broker_with_handlers();
    let url = broker.url("ws");
    let call = rpc(&url, &["--call", "first", "7", "-F", "hex"]);
    let named = rpc(&url, &["SearchSitesReq", "{}", "-F", "hex"]);
    for (what, out) in [("--call", &call), ("named", &named)] {
        assert!(out.status.success(), "{what}: {}", text(&out.stderr));
        let s = text(&out.stdout);
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines.len() >= 2, "{what}: a header and a dump: {s}");
        assert!(lines[0].contains(" bytes)"), "{what}: {s}");
        assert!(lines[1].starts_with("00000000  7b 22"), "{what}: {s}");
    }
    assert!(
        text(&call.stdout).contains("[$RpcResp]"),
        "{}",
        text(&call.stdout)
    );
    // Pretty: the same one-line shape, header then the reply.
    let call = rpc(&url, &["--call", "first", "7", "-F", "pretty"]);
    let named = rpc(&url, &["SearchSitesReq", "{}", "-F", "pretty"]);
    let shape = |out: &std::process::Output| {
        let s = text(&out.stdout);
        let line = s.lines().next().unwrap_or_default().to_string();
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        (words.len(), words.get(1).cloned(), line)
    };
    let (c, n) = (shape(&call), shape(&named));
    assert_eq!((c.0, &c.1), (n.0, &n.1), "{} / {}", c.2, n.2);
    assert!(
        c.2.contains("[$RpcResp]") && c.2.ends_with(r#"{"id":1,"rsp":7}"#),
        "{}",
        c.2
    );
    // Raw stays the result alone.
    let out = rpc(&url, &["--call", "first", "7", "-F", "raw"]);
    assert_eq!(text(&out.stdout).trim(), "7");
}

#[test]
fn rpc_call_json_is_the_message_envelope_with_the_payload_as_a_value_and_rsp_kept() {
    let broker = broker_with_handlers();
    let url = broker.url("ws");
    let out = rpc(&url, &["--call", "first", r#"{"a":[1,2]}"#, "-F", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = &json_lines(&out)[0];
    assert_eq!(
        (&v["encoding"], &v["subtopic"]),
        (&"json".into(), &"$RpcResp".into()),
        "{v}"
    );
    assert!(v["payload"].is_object(), "{v}");
    assert_eq!(v["payload"]["rsp"]["a"][1], 2, "{v}");
    assert_eq!((&v["id"], &v["rsp"]["a"][0]), (&1.into(), &1.into()), "{v}");
    let named = &json_lines(&rpc(&url, &["SearchSitesReq", "{}", "-F", "json"]))[0];
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v
            .as_object()
            .map(|o| {
                o.keys()
                    .filter(|k| !["id", "rsp", "err"].contains(&k.as_str()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(keys(v), keys(named), "one envelope for both kinds");
}

#[test]
fn rpc_sent_an_invalid_json_payload_without_saying_line_and_column() {
    let broker = broker_with_handlers();
    let url = broker.url("ws");
    let out = rpc(&url, &["SearchSitesReq", "{\n  \"SiteName\": alpha\n}"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("invalid JSON in PAYLOAD at line 2, column"),
        "{err}"
    );
    // Plain words are still a text payload; --args-text sends JSON-looking text unchecked.
    let out = rpc(&url, &["LateReq", "plain", "-F", "raw"]);
    assert_eq!(text(&out.stdout).trim(), "plain", "{}", text(&out.stderr));
    let out = rpc(&url, &["LateReq", "[not json", "--args-text", "-F", "raw"]);
    assert_eq!(
        text(&out.stdout).trim(),
        "[not json",
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn rpc_call_sent_words_that_are_not_json_as_strings_without_args_text() {
    let broker = broker_with_handlers();
    let url = broker.url("ws");
    let out = rpc(&url, &["--call", "first", "eco"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("ARG 1 'eco'") && err.contains("--args-text"),
        "{err}"
    );
    let out = rpc(
        &url,
        &["--call", "first", "eco", "--args-text", "-F", "raw"],
    );
    assert_eq!(
        text(&out.stdout).trim(),
        r#""eco""#,
        "{}",
        text(&out.stderr)
    );
    // Valid JSON arguments are what they were: values.
    let out = rpc(&url, &["--call", "first", r#""eco""#, "-F", "raw"]);
    assert_eq!(
        text(&out.stdout).trim(),
        r#""eco""#,
        "{}",
        text(&out.stderr)
    );
    let out = rpc(&url, &["--call", "first", "-2.5", "-F", "raw"]);
    assert_eq!(text(&out.stdout).trim(), "-2.5", "{}", text(&out.stderr));
}

#[test]
fn json_latencies_were_printed_with_17_digits_instead_of_microseconds() {
    let broker = broker_with_handlers();
    let url = broker.url("ws");
    for args in [
        &["--call", "first", "1", "-F", "json"][..],
        &["SearchSitesReq", "{}", "-F", "json"][..],
    ] {
        let v = &json_lines(&rpc(&url, args))[0];
        assert!(v["latency_ms"].as_f64().is_some(), "{v}");
        assert!(decimals(&v["latency_ms"]) <= 3, "{v}");
    }
    let load = &json_lines(&rpc(
        &url,
        &[
            "--call",
            "first",
            "1",
            "--count",
            "50",
            "--concurrency",
            "4",
            "-F",
            "json",
        ],
    ))[0];
    for k in ["min", "p50", "p90", "p99", "p99_9", "max"] {
        assert!(decimals(&load["latency_ms"][k]) <= 3, "{k}: {load}");
    }
    assert!(decimals(&load["elapsed_s"]) <= 6, "{load}");
    assert!(decimals(&load["calls_per_s"]) <= 3, "{load}");
    assert_times_rounded(load);
    let bench = run(smqctl().args([
        "bench", "pubsub", "--url", &url, "--count", "300", "--size", "16", "--format", "json",
    ]));
    assert!(bench.status.success(), "{}", text(&bench.stderr));
    let b = &json_lines(&bench)[0];
    assert!(b["latency_ms"]["p50"].as_f64().is_some(), "{b}");
    assert_times_rounded(b);
}
