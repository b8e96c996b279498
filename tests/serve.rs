//! `smqctl serve` flags through the binary: `--echo` answers the request itself,
//! `--delay` holds the answer back, `--exec-timeout` bounds a slow command,
//! `--resp`, `--rpc-req`/`--rpc-resp` rename the sub-topics. Each against the
//! default it changes.

use std::time::{Duration, Instant};

use crate::harness::{Running, TestBroker, json_lines, run, smqctl, text};

/// Starts `smqctl serve ARGS` and returns it with the ETID it answers at.
pub fn serve(url: &str, args: &[&str]) -> (Running, String) {
    let mut cmd = smqctl();
    cmd.arg("serve").args(args).args(["--url", url]);
    let mut p = Running::spawn(&mut cmd);
    let etid = p
        .stderr_line("as ETID")
        .rsplit(' ')
        .next()
        .expect("etid")
        .trim()
        .to_string();
    assert!(etid.parse::<u32>().is_ok(), "not an ETID: {etid:?}");
    (p, etid)
}

fn rpc(url: &str, args: &[&str]) -> std::process::Output {
    run(smqctl().arg("rpc").args(args).args(["--url", url]))
}

/// The reply's latency in ms, failing the test when it is missing.
fn latency_ms(out: &std::process::Output) -> f64 {
    let v = &json_lines(out)[0];
    v["latency_ms"]
        .as_f64()
        .unwrap_or_else(|| panic!("no latency_ms in {v}"))
}

#[test]
fn serve_echo_answers_with_the_request_payload_itself() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let (_serve, etid) = serve(&url, &["EchoReq", "--echo"]);
    let req = r#"{"ping":[1,2,3],"who":"echo-test"}"#;
    let out = rpc(&url, &["EchoReq", req, "--to", &etid, "-F", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = &json_lines(&out)[0];
    assert_eq!(v["subtopic"], "EchoResp", "{v}");
    assert_eq!(
        v["payload"],
        serde_json::json!({"ping":[1,2,3],"who":"echo-test"}),
        "{v}"
    );
    // Text comes back byte for byte too.
    let out = rpc(
        &url,
        &["EchoReq", "plain words", "--to", &etid, "-F", "raw"],
    );
    assert_eq!(
        text(&out.stdout).trim_end(),
        "plain words",
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn serve_delay_holds_the_answer_back_and_without_it_the_answer_is_prompt() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let (_slow, slow_etid) = serve(&url, &["WaitReq", "--echo", "--delay", "1500ms"]);
    let (_fast, fast_etid) = serve(&url, &["WaitReq", "--echo"]);
    let slow = rpc(&url, &["WaitReq", "{}", "--to", &slow_etid, "-F", "json"]);
    assert!(slow.status.success(), "{}", text(&slow.stderr));
    let fast = rpc(&url, &["WaitReq", "{}", "--to", &fast_etid, "-F", "json"]);
    assert!(fast.status.success(), "{}", text(&fast.stderr));
    let (slow_ms, fast_ms) = (latency_ms(&slow), latency_ms(&fast));
    assert!(
        slow_ms >= 1500.0,
        "--delay 1500ms answered after {slow_ms} ms"
    );
    assert!(fast_ms < 1500.0, "no --delay answered after {fast_ms} ms");
    // The delay is per request: a second requester is not queued behind the first.
    let started = Instant::now();
    let a = std::thread::spawn({
        let (url, etid) = (url.clone(), slow_etid.clone());
        move || rpc(&url, &["WaitReq", "{}", "--to", &etid])
    });
    let b = rpc(&url, &["WaitReq", "{}", "--to", &slow_etid]);
    let a = a.join().expect("join");
    assert!(a.status.success() && b.status.success());
    assert!(
        started.elapsed() < Duration::from_millis(2900),
        "two delayed requests took {:?}: answered one after the other",
        started.elapsed()
    );
}

#[test]
fn serve_exec_timeout_ends_a_slow_command_with_an_error_answer() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let (_serve, etid) = serve(&url, &["--rpc-exec", "sleep 20", "--exec-timeout", "300ms"]);
    let started = Instant::now();
    let out = rpc(&url, &["--call", "slow", "--to", &etid, "--timeout", "8s"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("did not finish within 300ms"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    // The default (10s) lets the same command outlive a 1 s call timeout.
    let (_serve, etid) = serve(&url, &["--rpc-exec", "sleep 20"]);
    let out = rpc(&url, &["--call", "slow", "--to", &etid, "--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
}

#[test]
fn serve_exec_timeout_for_exec_drops_the_answer_and_says_so() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let (serve_p, etid) = serve(
        &url,
        &["SlowReq", "--exec", "sleep 20", "--exec-timeout", "300ms"],
    );
    let out = rpc(&url, &["SlowReq", "{}", "--to", &etid, "--timeout", "2s"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let mut serve_p = serve_p;
    let line = serve_p.stderr_line("not answering request #1");
    assert!(line.contains("did not finish within 300ms"), "{line}");
}

#[test]
fn serve_resp_and_rpc_req_resp_rename_the_sub_topics() {
    let broker = TestBroker::start();
    let url = broker.url("http");
    let (_serve, etid) = serve(
        &url,
        &[
            "AskReq",
            "--reply",
            r#"{"ok":true}"#,
            "--resp",
            "Answer",
            "--rpc-exec",
            "echo 42",
            "--rpc-req",
            "Call",
            "--rpc-resp",
            "Return",
        ],
    );
    // The named answer arrives on --resp, so the caller must await it there ...
    let out = rpc(
        &url,
        &[
            "AskReq", "{}", "--to", &etid, "--resp", "Answer", "-F", "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = &json_lines(&out)[0];
    assert_eq!(
        (v["subtopic"].as_str(), &v["payload"]["ok"]),
        (Some("Answer"), &serde_json::json!(true)),
        "{v}"
    );
    // ... and the derived default (AskResp) never sees it.
    let out = rpc(&url, &["AskReq", "{}", "--to", &etid, "--timeout", "700ms"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    // Calls on the renamed sub-topics are answered ...
    let out = rpc(
        &url,
        &[
            "--call",
            "f",
            "--to",
            &etid,
            "--rpc-req",
            "Call",
            "--rpc-resp",
            "Return",
            "-F",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = &json_lines(&out)[0];
    assert_eq!(v["rsp"], 42, "{v}");
    // ... and on the default $RpcReq they are not.
    let out = rpc(&url, &["--call", "f", "--to", &etid, "--timeout", "700ms"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
}
