//! Client flags through the binary, each asserting what the flag changes
//! against the default: `sub --format`/`--datatype`/its queue bound, `pub
//! --interval`, `rpc --collect`/`--rate`, `bench connections`, `bench pubsub
//! --url` against a separate broker process, `simulate --ramp`/`--stagger`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{
    BrokerProcess, Running, STEP, TestBroker, json_lines, publish, run, smqctl, text,
};
use crate::serve::serve;

/// `smqctl sub ARGS -v --url URL` (no --format of its own), once subscribed.
fn sub(url: &str, args: &[&str]) -> Running {
    let mut cmd = smqctl();
    cmd.arg("sub").args(args).args(["--url", url, "-v"]);
    let mut s = Running::spawn(&mut cmd);
    s.stderr_line("as ETID");
    s
}

fn stdout_of(s: Running) -> String {
    let out = s.wait();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn sub_every_format_renders_json_text_through_the_binary() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let base = ["Fmt", "-C", "2", "-W", "10s"];
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        sub(&url, &a)
    };
    let subs = [
        ("json", with(&["--format", "json"])),
        ("raw", with(&["--format", "raw"])),
        ("raw-N", with(&["--format", "raw", "-N"])),
        ("hex", with(&["--format", "hex"])),
        ("pretty", with(&["--format", "pretty"])),
    ];
    publish(&url, &["Fmt", r#"{"On":true}"#]);
    publish(&url, &["Fmt", "abc"]);
    for (name, s) in subs {
        let out = stdout_of(s);
        match name {
            "json" => {
                let lines: Vec<Value> = out
                    .lines()
                    .map(|l| serde_json::from_str(l).expect("json line"))
                    .collect();
                assert_eq!(lines.len(), 2, "{out}");
                assert_eq!(
                    lines[0]["payload"],
                    serde_json::json!({"On": true}),
                    "{out}"
                );
                assert_eq!(lines[0]["encoding"], "json", "{out}");
                assert_eq!(lines[0]["topic"], "Fmt", "{out}");
                assert_eq!(lines[0]["size"], 11, "{out}");
                assert_eq!(lines[1]["payload"], "abc", "{out}");
                assert_eq!(lines[1]["encoding"], "text", "{out}");
            }
            "raw" => assert_eq!(out, "{\"On\":true}\nabc\n"),
            "raw-N" => assert_eq!(out, "{\"On\":true}abc\n", "(the harness adds the last \\n)"),
            "hex" => {
                assert!(
                    out.contains("7b 22 4f 6e 22 3a 74 72  75 65 7d")
                        && out.contains("|{\"On\":true}|"),
                    "{out}"
                );
                assert!(out.contains("61 62 63") && out.contains("|abc|"), "{out}");
                assert!(
                    out.contains("(11 bytes)") && out.contains("(3 bytes)"),
                    "{out}"
                );
            }
            _ => {
                let lines: Vec<&str> = out.lines().collect();
                assert_eq!(lines.len(), 2, "{out}");
                assert!(
                    lines[0].contains("Fmt") && lines[0].contains("{\"On\":true}"),
                    "{out}"
                );
                assert!(
                    lines[1].contains("Fmt") && lines[1].ends_with("abc"),
                    "{out}"
                );
                assert!(!out.starts_with('{'), "pretty printed JSON lines: {out}");
            }
        }
    }
}

#[test]
fn sub_datatype_decides_how_payloads_are_read() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let args = |dt: &'static str| {
        let mut a = vec!["Dt", "-C", "2", "-W", "10s", "--format", "json"];
        if !dt.is_empty() {
            a.extend(["--datatype", dt]);
        }
        a
    };
    let subs = [
        ("auto", sub(&url, &args(""))),
        ("json", sub(&url, &args("json"))),
        ("text", sub(&url, &args("text"))),
        ("binary", sub(&url, &args("binary"))),
    ];
    publish(&url, &["Dt", r#"{"On":true}"#]);
    publish(&url, &["Dt", "abc"]);
    for (dt, s) in subs {
        let out = s.wait();
        assert!(out.status.success(), "{dt}: {}", text(&out.stderr));
        let l = json_lines(&out);
        assert_eq!(l.len(), 2, "{dt}: {l:?}");
        let got = |i: usize| {
            (
                l[i]["encoding"].as_str().unwrap_or("<missing>").to_string(),
                l[i]["payload"].clone(),
                l[i].get("warning").cloned(),
            )
        };
        let on = serde_json::json!({"On": true});
        let (e0, p0, w0) = got(0);
        let (e1, p1, w1) = got(1);
        match dt {
            "auto" => {
                assert_eq!((e0.as_str(), &p0, &w0), ("json", &on, &None), "{dt}");
                assert_eq!(
                    (e1.as_str(), p1.as_str(), &w1),
                    ("text", Some("abc"), &None),
                    "{dt}"
                );
            }
            "json" => {
                assert_eq!((e0.as_str(), &p0, &w0), ("json", &on, &None), "{dt}");
                assert_eq!((e1.as_str(), p1.as_str()), ("text", Some("abc")), "{dt}");
                assert_eq!(w1, Some(Value::from("payload is not json")), "{dt}");
            }
            "text" => {
                assert_eq!(
                    (e0.as_str(), p0.as_str(), &w0),
                    ("text", Some("{\"On\":true}"), &None),
                    "{dt}"
                );
                assert_eq!((e1.as_str(), p1.as_str()), ("text", Some("abc")), "{dt}");
            }
            _ => {
                assert_eq!(
                    (e0.as_str(), p0.as_str()),
                    ("base64", Some("eyJPbiI6dHJ1ZX0=")),
                    "{dt}"
                );
                assert_eq!((e1.as_str(), p1.as_str()), ("base64", Some("YWJj")), "{dt}");
            }
        }
    }
}

#[test]
fn sub_behind_a_stalled_pipe_drops_past_its_queue_bound_and_counts_on_stderr() {
    // More than the sub's queue (QUEUE) plus the pipe's buffer, so it must drop,
    // yet 200-byte messages well under the broker's own bound per client (8 MiB
    // queued, README "The embedded broker"): however late the sub's reader
    // runs, the broker hands it every message, and what the sub does not print
    // it counts. (40,000 of them were about 11 MiB: with the sub's reader
    // descheduled on a loaded machine the broker dropped the excess, which no
    // client can count, and printed + counted fell short of what was sent.)
    const SENT: usize = 24_000;
    // The flood, then one last message, dropped for certain: it comes after
    // the flood, with the queue full and stdout not read yet; then a barrier
    // (see below), printed or dropped.
    const TOTAL: usize = SENT + 2;
    let broker = TestBroker::start();
    let url = broker.url("ws");
    // stdout is a pipe nobody reads until everything was received. Its
    // --trace-packets lines say what the connection has received (written by
    // the connection's task, which a blocked stdout does not hold up), each
    // before that packet is queued: the line of the packet after a message
    // says that message was queued or dropped.
    let mut child = smqctl()
        .args(["sub", "Flood", "--format", "raw", "-v", "--trace-packets"])
        .args(["--url", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sub");
    let (tx, rx) = std::sync::mpsc::channel::<Out>();
    let stderr = child.stderr.take().expect("stderr");
    let etx = tx.clone();
    let stderr_pump = std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            if etx.send(Out::Err(l)).is_err() {
                break;
            }
        }
    });
    // Its own lines, without the packet trace.
    let mut err_lines: Vec<String> = Vec::new();
    let wait_err = |needle: &[&str], limit: Duration, err_lines: &mut Vec<String>| {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(Out::Err(l)) => {
                    if needle.iter().all(|n| l.contains(n)) {
                        return;
                    }
                    if !l.contains(" <- ") && !l.contains(" -> ") {
                        err_lines.push(l);
                    }
                }
                Ok(Out::Line(_)) => unreachable!("stdout is not read yet"),
                Err(_) => panic!("no stderr line with {needle:?} within {limit:?}: {err_lines:?}"),
            }
        }
    };
    wait_err(&["as ETID"], STEP, &mut err_lines);
    // 200-byte lines: the pipe's own buffer holds a few hundred, not thousands.
    let payload = "m".repeat(200);
    publish(&url, &["Flood", &payload, "--count", &SENT.to_string()]);
    publish(&url, &["Flood", "last"]);
    publish(&url, &["Flood", "barrier"]);
    wait_err(
        &["<- Publish", "\"barrier\""],
        Duration::from_secs(120),
        &mut err_lines,
    );
    // Everything was routed to the sub, none of it dropped by the broker.
    let stats = broker.broker.stats();
    assert_eq!(
        (stats.published, stats.delivered, stats.queue_full),
        (TOTAL as u64, TOTAL as u64, 0),
        "the broker did not hand the sub every message: {stats:?}"
    );
    // Now drain stdout, until every message sent is printed or counted.
    let stdout = child.stdout.take().expect("stdout");
    let stdout_pump = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        loop {
            let mut line = Vec::new();
            match r.read_until(b'\n', &mut line) {
                Ok(n) if n > 0 => {
                    if tx.send(Out::Line(line)).is_err() {
                        break;
                    }
                }
                _ => break,
            }
        }
    });
    let mut printed: Vec<Vec<u8>> = Vec::new();
    let mut last_count: Option<usize> = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    while printed.len() + last_count.unwrap_or(0) < TOTAL {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(out) = rx.recv_timeout(left) else {
            break;
        };
        take(out, &mut printed, &mut last_count, &mut err_lines);
    }
    let mut sentinel = false;
    if printed.len() + last_count.unwrap_or(0) == TOTAL {
        // All accounted for: a message published now is the next line
        // (nothing else was still queued).
        publish(&url, &["Flood", "end"]);
        let deadline = Instant::now() + STEP;
        while !sentinel {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(Out::Line(l)) if l == b"end\n" => sentinel = true,
                Ok(out) => take(out, &mut printed, &mut last_count, &mut err_lines),
                Err(_) => break,
            }
        }
    }
    // Stopped and read to the end: every count line it printed is in.
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid fits"));
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let deadline = Instant::now() + STEP;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = (stderr_pump.join(), stdout_pump.join());
    while let Ok(out) = rx.try_recv() {
        take(out, &mut printed, &mut last_count, &mut err_lines);
    }
    let last_count =
        last_count.unwrap_or_else(|| panic!("no dropped-count line on stderr: {err_lines:?}"));
    let printed_n = printed.len();
    assert!(
        printed_n >= smqctl::client::QUEUE,
        "fewer than the queue bound printed: {printed_n}"
    );
    assert!(
        printed
            .iter()
            .all(|l| l.len() == payload.len() + 1 || l == b"barrier\n"),
        "the last message, which came with the queue full, was printed: {err_lines:?}"
    );
    assert_eq!(
        printed_n + last_count,
        TOTAL,
        "printed {printed_n} + dropped {last_count} != sent; stderr: {err_lines:?}"
    );
    assert!(
        sentinel,
        "a message published after all was accounted for was not printed"
    );
}

/// A line of [`sub_behind_a_stalled_pipe_drops_past_its_queue_bound_and_counts_on_stderr`]'s
/// sub: stdout (a payload) or stderr.
enum Out {
    Line(Vec<u8>),
    Err(String),
}

/// Files one line: a payload, the latest dropped count, or (the packet trace
/// left out) one of its stderr lines.
fn take(out: Out, printed: &mut Vec<Vec<u8>>, count: &mut Option<usize>, err: &mut Vec<String>) {
    match out {
        Out::Line(l) => printed.push(l),
        Out::Err(l) => {
            if l.contains("message(s) dropped: output could not keep up") {
                *count = l
                    .rsplit('(')
                    .next()
                    .and_then(|r| r.split(' ').next())
                    .and_then(|n| n.parse().ok())
                    .or(*count);
            }
            if !l.contains(" <- ") && !l.contains(" -> ") {
                err.push(l);
            }
        }
    }
}

fn ts_ms(v: &Value) -> i64 {
    let s = v["ts"].as_str().unwrap_or_else(|| panic!("no ts in {v}"));
    s.parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("ts {s:?}: {e}"))
        .as_millisecond()
}

fn gaps_ms(lines: &[Value]) -> Vec<i64> {
    lines
        .windows(2)
        .map(|w| ts_ms(&w[1]) - ts_ms(&w[0]))
        .collect()
}

#[test]
fn pub_interval_spaces_the_messages_out() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let s = sub(&url, &["Tick", "-C", "3", "-W", "15s", "--format", "json"]);
    publish(&url, &["Tick", "t", "--count", "3", "--interval", "500ms"]);
    let out = s.wait();
    let spaced = gaps_ms(&json_lines(&out));
    assert_eq!(spaced.len(), 2, "{spaced:?}");
    assert!(
        spaced.iter().all(|&g| g >= 450),
        "--interval 500ms: gaps {spaced:?} ms"
    );
    let s = sub(&url, &["Tick", "-C", "3", "-W", "15s", "--format", "json"]);
    publish(&url, &["Tick", "t", "--count", "3"]);
    let burst = gaps_ms(&json_lines(&s.wait()));
    assert!(
        burst.iter().all(|&g| g < 450),
        "no --interval: gaps {burst:?} ms"
    );
}

#[test]
fn rpc_collect_gathers_every_answer_for_the_whole_window() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let peers: Vec<_> = (0..2)
        .map(|_| {
            serve(
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
    let started = Instant::now();
    let out = run(smqctl().args([
        "rpc",
        "Hello",
        "{}",
        "--to",
        "Presence",
        "--collect",
        "1500ms",
        "-F",
        "json",
        "--url",
        &url,
    ]));
    let took = started.elapsed();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut who: Vec<String> = json_lines(&out)
        .iter()
        .map(|l| l["payload"]["me"].to_string())
        .collect();
    who.sort();
    let mut etids: Vec<String> = peers.iter().map(|(_, e)| e.clone()).collect();
    etids.sort();
    assert_eq!(who, etids);
    assert!(
        took >= Duration::from_millis(1500),
        "--collect 1500ms ended after {took:?}"
    );
    // Without --collect the first answer ends the call.
    let out = run(smqctl().args([
        "rpc", "Hello", "{}", "--to", "Presence", "-F", "json", "--url", &url,
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(json_lines(&out).len(), 1);
}

fn load_summary(url: &str, extra: &[&str]) -> Value {
    let out = run(smqctl()
        .args([
            "rpc", "WhoReq", "{}", "--count", "20", "-F", "json", "--url", url,
        ])
        .args(extra));
    assert!(out.status.success(), "{}", text(&out.stderr));
    json_lines(&out)[0].clone()
}

#[test]
fn rpc_rate_paces_load_mode_calls() {
    let broker = TestBroker::with_handlers("[[request]]\nname = \"WhoReq\"\necho = true\n");
    let url = broker.url("ws");
    let paced = load_summary(&url, &["--rate", "20"]);
    let free = load_summary(&url, &[]);
    let secs = |v: &Value| {
        v["elapsed_s"]
            .as_f64()
            .unwrap_or_else(|| panic!("no elapsed_s in {v}"))
    };
    assert_eq!(paced["ok"], 20, "{paced}");
    // 20 calls at 20/s: the last one starts 0.95 s after the first.
    assert!(secs(&paced) >= 0.9, "--rate 20: {paced}");
    let rate = paced["calls_per_s"].as_f64().unwrap_or(f64::MAX);
    assert!(rate <= 23.0, "--rate 20 made {rate} calls/s");
    assert_eq!(free["ok"], 20, "{free}");
    assert!(secs(&free) < 0.9, "unpaced: {free}");
}

#[test]
fn bench_connections_opens_them_all_and_reads_the_broker_memory() {
    let mut broker = BrokerProcess::start(&["-v"]);
    let pid = broker.proc.pid().to_string();
    let out = run(smqctl().args([
        "bench",
        "connections",
        "--count",
        "40",
        "--parallel",
        "8",
        "--broker-pid",
        &pid,
        "--format",
        "json",
        "--url",
        &broker.url("ws"),
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = &json_lines(&out)[0];
    assert_eq!(v["connections"], 40, "{v}");
    let kib = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("no {k} in {v}"));
    assert!(
        kib("broker_rss_before_kib") > 0 && kib("broker_rss_after_kib") > 0,
        "{v}"
    );
    assert!(v["bytes_per_connection"].as_f64().is_some(), "{v}");
    // The broker really saw 40 distinct clients (its -v log).
    for _ in 0..40 {
        broker.proc.stderr_line("connect etid=");
    }
    // Without --broker-pid there is no memory figure.
    let out = run(smqctl().args([
        "bench",
        "connections",
        "--count",
        "3",
        "--format",
        "json",
        "--url",
        &broker.url("ws"),
    ]));
    let v = &json_lines(&out)[0];
    assert!(v["bytes_per_connection"].is_null(), "{v}");
}

#[test]
fn bench_pubsub_url_measures_a_separate_broker_process() {
    let mut broker = BrokerProcess::start(&["-vv"]);
    let out = run(smqctl().args([
        "bench",
        "pubsub",
        "--count",
        "500",
        "--topic",
        "BenchTopic",
        "--format",
        "json",
        "--url",
        &broker.url("ws"),
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = &json_lines(&out)[0];
    assert_eq!(
        (
            s["sent"].as_u64(),
            s["received"].as_u64(),
            s["lost"].as_u64()
        ),
        (Some(500), Some(500), Some(0)),
        "{s}"
    );
    assert_eq!(s["dropped_here"].as_u64(), Some(0), "{s}");
    assert!(
        s["broker_dropped"].is_null(),
        "a broker of its own does not say: {s}"
    );
    // It went through that broker: its -vv log shows the subscription.
    broker.proc.stderr_line("\"BenchTopic\"");
}

fn simulate_summary(url: &str, args: &[&str]) -> Value {
    let out = run(smqctl()
        .args(["simulate", "--format", "json", "--url", url])
        .args(args));
    assert!(out.status.success(), "{}", text(&out.stderr));
    json_lines(&out)
        .into_iter()
        .rev()
        .find(|v| v["type"] == "summary")
        .expect("summary line")
}

fn charger_broker() -> TestBroker {
    let out = run(smqctl().args(["simulate", "--print-handlers", "charger"]));
    TestBroker::with_handlers(&text(&out.stdout))
}

#[test]
fn simulate_ramp_starts_devices_at_the_given_rate() {
    let broker = charger_broker();
    let url = broker.url("ws");
    let slow = simulate_summary(&url, &["-n", "4", "--ramp", "2/s", "--duration", "3s"]);
    let fast = simulate_summary(&url, &["-n", "4", "--duration", "1500ms"]);
    let online = |v: &Value| {
        v["all_online_s"]
            .as_f64()
            .unwrap_or_else(|| panic!("never all online: {v}"))
    };
    // The 4th device starts 1.5 s in at 2/s; at the default 1000/s at once.
    assert!(online(&slow) >= 1.4, "--ramp 2/s: {slow}");
    assert!(online(&fast) < 1.4, "default ramp: {fast}");
}

#[test]
fn simulate_stagger_zero_sends_every_first_report_at_once() {
    let broker = charger_broker();
    let url = broker.url("ws");
    let common = ["-n", "8", "--interval", "30s", "--duration", "2s"];
    let reports = |extra: &[&str]| {
        let mut a = common.to_vec();
        a.extend_from_slice(extra);
        let v = simulate_summary(&url, &a);
        assert!(v["by_kind_out"].is_object(), "no by_kind_out: {v}");
        v["by_kind_out"]["ChargerState"].as_u64()
    };
    // Lockstep: each device's first report goes out right after ready.
    assert_eq!(reports(&["--stagger", "0"]), Some(8));
    // Spread over 30 s (the default is one interval, also 30 s): in the first
    // 2 s only a few (all 8 with chance 1/15^8).
    assert!(reports(&["--stagger", "30s"]).unwrap_or(0) < 8);
    assert!(reports(&[]).unwrap_or(0) < 8);
}
