//! `smqctl tui` as a person uses it: the real binary in a pseudo-terminal of a
//! real size, driven by keys, its screen read back (polled with a deadline,
//! never slept on). Replays an NDJSON fixture written by the test, so no broker
//! is needed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::{run, smqctl, text};
use crate::pty::{Pty, PtyCommand};

/// `n` trace events: publishes to DeviceState from sim-000NN, and one drop to
/// `Nobody/Here` in the middle.
fn fixture(dir: &Path, n: usize) -> PathBuf {
    fixture_from(dir, n, 7)
}

/// [`fixture`] with `senders` publishers (sim-00000 … ), each message's
/// payload `{"n":i}`.
fn fixture_from(dir: &Path, n: usize, senders: usize) -> PathBuf {
    let mut out = String::new();
    for i in 0..n {
        let (kind, topic, extra) = if i == n / 2 {
            ("drop", "Nobody/Here", r#","reason":"no subscriber""#)
        } else {
            ("publish", "DeviceState", "")
        };
        out.push_str(&format!(
            concat!(
                r#"{{"v":1,"ts":"2026-11-22T03:44:{:02}.{:03}Z","kind":"{}","#,
                r#""from":{{"etid":{},"uid":"sim-{:05}"}},"to":{{"tid":9,"type":"topic","name":"{}"}},"#,
                r#""size":14,"encoding":"json","payload":"{{\"n\":{}}}"{}}}"#,
                "\n"
            ),
            (i / 1000) % 60,
            i % 1000,
            kind,
            10 + i % senders,
            i % senders,
            topic,
            i,
            extra
        ));
    }
    let path = dir.join("events.ndjson");
    std::fs::write(&path, out).expect("write fixture");
    path
}

#[test]
fn tui_filters_shows_help_exports_and_quits_cleanly_in_a_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = fixture(dir.path(), 200);
    let file_arg = file.to_str().expect("utf-8 path");
    let term = Pty::start(dir.path(), &["tui", "--file", file_arg], 100, 30);

    // A frame may be captured half drawn: each wait checks everything it needs.
    term.wait_for("the table with every event, the drop counted", |s| {
        s.contains("200 shown")
            && s.contains("end of")
            && s.contains("DeviceState")
            && s.contains("sim-000")
            && s.contains("1 drop")
    });

    // Search narrows the table to the one drop.
    term.keys(&["/"]);
    term.text("nobody");
    term.keys(&["Enter"]);
    term.wait_for("the filtered table, other events hidden", |s| {
        s.contains(r#"filter: "nobody""#)
            && s.contains("1 shown")
            && s.contains("DROP")
            && s.contains("Nobody/Here")
            && !s.contains("DeviceState")
    });

    // The detail pane shows the drop's names, IDs and reason.
    term.keys(&["Enter"]);
    term.wait_for("the detail pane with names, IDs and reason", |s| {
        s.contains("Detail")
            && s.contains("topic Nobody/Here · tid 9")
            && s.contains("reason    no subscriber")
    });

    term.keys(&["?"]);
    term.wait_for("the help overlay", |s| {
        s.contains("Keys") && s.contains("drops only") && s.contains("quit")
    });
    term.keys(&["Escape"]);
    term.wait_for("help closed", |s| !s.contains("Keys"));

    // Export writes the filtered events into the working directory.
    term.keys(&["e"]);
    term.wait_for("the export prompt", |s| {
        s.contains("export filtered events to")
    });
    term.keys(&["Enter"]);
    let s = term.wait_for("the export message", |s| s.contains("exported 1 events"));
    let exported: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("smqctl-export-"))
        })
        .collect();
    assert_eq!(exported.len(), 1, "{s}");
    let back = std::fs::read_to_string(&exported[0]).expect("export readable");
    let lines: Vec<serde_json::Value> = back
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["kind"], "drop");
    assert_eq!(lines[0]["to"]["name"], "Nobody/Here");
    // tui_export_wrote_the_json_payload_as_a_string: a version-1 file loads
    // and is exported in version 2, the payload as the JSON value.
    assert_eq!(lines[0]["v"], 2, "{}", lines[0]);
    assert_eq!(
        lines[0]["payload"],
        serde_json::json!({"n": 100}),
        "{}",
        lines[0]
    );

    term.keys(&["q"]);
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    term.assert_restored();
    assert!(
        !exit.screen.contains("Events"),
        "main screen back:\n{}",
        exit.screen
    );
}

#[test]
fn tui_reports_a_bad_line_with_its_number_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = fixture(dir.path(), 3);
    let mut text = std::fs::read_to_string(&file).expect("read");
    text.push_str("{not json\n");
    std::fs::write(&file, text).expect("write");
    let file_arg = file.to_str().expect("utf-8 path");
    let term = Pty::start(dir.path(), &["tui", "--file", file_arg], 80, 24);
    term.wait_for("the error in the status line, earlier events shown", |s| {
        s.contains("line 4") && s.contains("3 shown")
    });
    term.keys(&["q"]);
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(2), "{exit:?}");
    term.assert_restored();
    let s = &exit.screen;
    assert!(s.contains("error: ") && s.contains("line 4"), "{s}");
}

#[test]
fn tui_without_a_terminal_says_so_and_exits_2() {
    let out = run(smqctl().args(["tui", "--file", "/nonexistent.ndjson"]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("needs a terminal") && err.contains("smqctl trace"),
        "{err}"
    );
}

/// Performance measurement for the README (not a pass/fail test): replays
/// 20,000 events/s for 20 s through the TUI in a 100×30 pseudo-terminal, presses
/// a key every 500 ms and times until the screen shows it, and prints the loop's own
/// timings (hidden --stats-file). Run against a release binary with
/// `cargo build --release && TUI_PERF_BIN=target/release/smqctl cargo test --test main tui_perf_20k -- --ignored --nocapture`.
#[test]
#[ignore]
fn tui_perf_20k_events_per_second() {
    perf_replay(false);
}

/// [`tui_perf_20k_events_per_second`] with a plot of 10 series open (issue
/// 18): 10 publishers, `g` plots their `n`, `+ +` shows all 10, then the same
/// pause toggles are timed while the plot view is drawn.
/// `TUI_PERF_BIN=target/release/smqctl cargo test --test main tui_perf_20k -- --ignored --nocapture`
/// runs both.
#[test]
#[ignore = "performance measurement; see README → Performance"]
fn tui_perf_20k_events_per_second_with_a_plot_of_10_series() {
    perf_replay(true);
}

fn perf_replay(plot: bool) {
    let rate = 20_000usize;
    let secs = 20usize;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = fixture_from(dir.path(), rate * secs, if plot { 10 } else { 7 });
    let stats = dir.path().join("stats.json");
    let (file_arg, stats_arg) = (
        file.to_str().expect("utf-8"),
        stats.to_str().expect("utf-8"),
    );
    let rate_arg = rate.to_string();
    let bin =
        std::env::var("TUI_PERF_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_smqctl").to_string());
    let bin = std::path::absolute(&bin).expect("binary path");
    println!("binary: {}", bin.display());
    let term = PtyCommand::bin(
        &bin,
        &[
            "tui",
            "--file",
            file_arg,
            "--replay-rate",
            &rate_arg,
            "--stats-file",
            stats_arg,
        ],
    )
    .dir(dir.path())
    .size(100, 30)
    .start();
    measure(&term, secs, &stats, plot);
}

/// Opens the plot view with the 10 publishers' `n` (all 10 series shown).
fn open_plot_of_10_series(term: &Pty) {
    // "following" is in the title before the first event: wait for rows.
    term.wait_for("a publish selected", |s| {
        s.contains("▶ ") && s.contains("sim-0000")
    });
    term.keys(&["g"]);
    term.wait_for("the field picker", |s| {
        s.contains("Plot a field of DeviceState")
    });
    term.keys(&["Enter"]);
    term.keys(&["+", "+"]);
    term.wait_for("the plot of 10 series", |s| {
        s.contains("Plot 1 field · 10 of 10 series")
            && s.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c))
    });
}

/// Toggles pause every 500 ms for `secs - 2` s, timing each key until the screen
/// shows it, then quits and prints the figures and the TUI's own loop stats.
/// With `plot`, the plot view of 10 series is open while it measures.
fn measure(term: &Pty, secs: usize, stats: &Path, plot: bool) {
    term.wait_for("the table", |s| s.contains("following"));
    if plot {
        open_plot_of_10_series(term);
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut paused = false;
    while started.elapsed() < Duration::from_secs(secs as u64 - 2) {
        std::thread::sleep(Duration::from_millis(500));
        let t0 = Instant::now();
        term.keys(&["p"]);
        paused = !paused;
        let want_paused = paused;
        term.wait_for("the pause toggle", |s| s.contains("PAUSED") == want_paused);
        latencies.push(t0.elapsed());
    }
    term.keys(&["q"]);
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    latencies.sort();
    let n = latencies.len();
    println!(
        "key → screen (key written to the pseudo-terminal until its parsed screen shows it), {n} presses: p50 {:?}, p90 {:?}, max {:?}",
        latencies[n / 2],
        latencies[n * 9 / 10],
        latencies[n - 1]
    );
    let stats = std::fs::read_to_string(stats).expect("stats file");
    println!("loop stats: {stats}");
}

/// The same measurement live: the embedded broker (a separate process) traces
/// `bench pubsub --rate 20000` (one publish event per message) to the TUI.
#[test]
#[ignore = "performance measurement; see README → Performance"]
fn tui_perf_live_20k_events_per_second() {
    use std::io::BufRead;
    let secs = 20usize;
    let bin =
        std::env::var("TUI_PERF_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_smqctl").to_string());
    let bin = std::path::absolute(&bin).expect("binary path");
    let mut broker = Command::new(&bin)
        .args(["broker", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start broker");
    let mut first = String::new();
    std::io::BufReader::new(broker.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("broker prints its address");
    let addr = first.trim().trim_start_matches("listening on ").to_string();
    let url = format!("ws://{addr}/");
    let dir = tempfile::tempdir().expect("tempdir");
    let stats = dir.path().join("stats.json");
    let term = PtyCommand::bin(
        &bin,
        &[
            "tui",
            "--url",
            &url,
            "--stats-file",
            stats.to_str().expect("utf-8"),
        ],
    )
    .dir(dir.path())
    .size(100, 30)
    .start();
    term.wait_for("attached", |s| s.contains("attached"));
    let load = Command::new(&bin)
        .args([
            "bench", "pubsub", "--url", &url, "--size", "64", "--rate", "20000",
        ])
        .args(["--duration", &format!("{}s", secs - 1)])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start bench");
    measure(&term, secs, &stats, false);
    let load = load.wait_with_output().expect("bench finishes");
    println!("load: {}", text(&load.stdout).trim());
    let _ = broker.kill();
    let _ = broker.wait();
}

#[test]
fn tui_ctrl_c_restores_the_terminal_and_exits_130() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = fixture(dir.path(), 10);
    let file_arg = file.to_str().expect("utf-8 path");
    let term = Pty::start(dir.path(), &["tui", "--file", file_arg], 80, 24);
    term.wait_for("the table", |s| s.contains("10 shown"));
    term.keys(&["C-c"]);
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(130), "{exit:?}");
    term.assert_restored();
    assert!(
        !exit.screen.contains("Events"),
        "main screen back:\n{}",
        exit.screen
    );
}

#[test]
fn tui_live_against_the_embedded_broker_shows_names_and_drops() {
    let broker = crate::harness::TestBroker::start();
    let url = broker.url("ws");
    let dir = tempfile::tempdir().expect("tempdir");
    let term = Pty::start(dir.path(), &["tui", "--url", &url], 100, 30);
    term.wait_for("the tracer attached", |s| s.contains("attached"));

    let (_sub, _) = crate::harness::ready_sub(&url, &["DeviceState", "--uid", "dash-1"]);
    crate::harness::publish(&url, &["DeviceState", "{\"On\":true}", "--uid", "lamp-7"]);
    crate::harness::publish(&url, &["Nobody/Here", "lost", "--uid", "lamp-7"]);
    let s = term.wait_for("the publish and the drop", |s| {
        s.contains("DROP") && s.contains("Nobody/Here") && s.contains("DeviceState")
    });
    assert!(
        s.contains("lamp-7"),
        "the publisher's UID, resolved by the broker:\n{s}"
    );

    term.keys(&["d"]);
    term.wait_for("drops only", |s| {
        s.contains("kinds drop") && !s.contains(" PUB ")
    });
    term.keys(&["Enter"]);
    let s = term.wait_for("the drop's detail", |s| {
        s.contains("Detail") && s.contains("no subscribers")
    });
    assert!(s.contains("topic Nobody/Here"), "{s}");

    // Every connection is dropped: the TUI reconnects and attaches again, as a
    // new ETID in the status line.
    let etid = |s: &str| {
        s.split("attached (etid ")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .map(str::to_string)
    };
    let before = etid(&s).expect("the status line shows the tracer's ETID");
    broker.broker.shutdown_all("restart");
    term.wait_for("attached again under a new ETID", |s| {
        etid(s).is_some_and(|e| e != before)
    });

    term.keys(&["q"]);
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    term.assert_restored();
}

#[test]
fn tui_redraws_at_the_new_size_when_the_terminal_is_resized() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = fixture(dir.path(), 10);
    let file_arg = file.to_str().expect("utf-8 path");
    let term = Pty::start(dir.path(), &["tui", "--file", file_arg], 80, 24);
    // The status line on the last row; at 80 columns the drop's preview is cut.
    let status_on_row = |s: &str, row: usize| {
        s.lines()
            .nth(row)
            .is_some_and(|l| l.contains("end of") && l.contains("1 drop"))
    };
    let s = term.wait_for("the table at 80×24", |s| {
        s.contains("10 shown") && status_on_row(s, 23)
    });
    assert!(!s.contains(r#"(no subscriber) {"n":5}"#), "{s}");
    term.resize(120, 40);
    term.wait_for("the whole frame redrawn at 120×40", |s| {
        status_on_row(s, 39)
            && s.contains(r#"(no subscriber) {"n":5}"#)
            && s.lines()
                .any(|l| l.contains(" sub ") && l.contains("preview"))
    });
    term.keys(&["q"]);
    assert_eq!(term.wait_exit().code, Some(0));
    term.assert_restored();
}

// ---- SIGTERM, as Kubernetes or CI stop a process (issue 11 §3) ----

#[test]
fn tui_live_on_sigterm_exits_130_restores_the_terminal_and_sends_disconnect() {
    let broker = crate::harness::TestBroker::start();
    let url = broker.url("ws");
    let closes = crate::harness::Closes::of(&broker.broker);
    let dir = tempfile::tempdir().expect("tempdir");
    let term = Pty::start(
        dir.path(),
        &["tui", "--url", &url, "--uid", "tui-sigterm"],
        100,
        30,
    );
    term.wait_for("the tracer attached", |s| s.contains("attached"));
    closes.connected("tui-sigterm");
    term.terminate();
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(130), "{exit:?}");
    term.assert_restored();
    assert!(
        !exit.screen.contains("Events"),
        "main screen back:\n{}",
        exit.screen
    );
    assert_eq!(
        closes.reason("tui-sigterm"),
        crate::harness::SENT_DISCONNECT
    );
}

#[test]
fn tui_replaying_a_file_on_sigterm_exits_130_and_restores_the_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = fixture(dir.path(), 10);
    let file_arg = file.to_str().expect("utf-8 path");
    let term = Pty::start(dir.path(), &["tui", "--file", file_arg], 80, 24);
    term.wait_for("the table", |s| s.contains("10 shown"));
    term.terminate();
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(130), "{exit:?}");
    term.assert_restored();
    assert!(
        !exit.screen.contains("Events"),
        "main screen back:\n{}",
        exit.screen
    );
}

#[test]
fn tui_metrics_listen_counts_the_events_it_shows_by_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = fixture(dir.path(), 200);
    // The address line goes to the terminal the TUI then draws over: the
    // test names the port (a free one, bound and released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let term = Pty::start(
        dir.path(),
        &[
            "tui",
            "--file",
            file.to_str().expect("utf-8 path"),
            "--metrics-listen",
            &addr,
        ],
        100,
        30,
    );
    term.wait_for("every event read", |s| s.contains("200 shown"));
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect to /metrics");
    std::io::Write::write_all(
        &mut stream,
        format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .expect("send");
    let mut reply = String::new();
    std::io::Read::read_to_string(&mut stream, &mut reply).expect("read");
    assert!(
        reply.contains("smqctl_trace_events_total{kind=\"publish\"} 199\n"),
        "{reply}"
    );
    assert!(
        reply.contains("smqctl_trace_events_total{kind=\"drop\"} 1\n"),
        "{reply}"
    );
    term.keys(&["q"]);
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    term.assert_restored();
}

/// Issue 18: live against `smqctl broker` (a process, with the charger
/// handlers) and a small `simulate` charger fleet, `g` on a device's
/// `ChargerState` report picks `kW` and the plot view draws it, one line per
/// device, with the devices' UIDs in the legend; `5` lists the devices.
#[test]
fn tui_plots_kw_of_a_live_charger_fleet_with_one_series_per_device() {
    let dir = tempfile::tempdir().expect("tempdir");
    let handlers = run(smqctl().args(["simulate", "--print-handlers", "charger"]));
    assert!(handlers.status.success(), "{}", text(&handlers.stderr));
    let handlers_file = dir.path().join("charger-handlers.toml");
    std::fs::write(&handlers_file, &handlers.stdout).expect("write handlers");
    let broker = crate::harness::BrokerProcess::start(&[
        "--handlers",
        handlers_file.to_str().expect("utf-8 path"),
    ]);
    let url = broker.url("ws");
    let term = Pty::start(dir.path(), &["tui", "--url", &url], 120, 36);
    term.wait_for("the tracer attached", |s| s.contains("attached"));
    let _fleet = crate::harness::Running::spawn(smqctl().args([
        "simulate",
        "-n",
        "3",
        "--ramp",
        "0",
        "--duration",
        "300s",
        "--url",
        &url,
    ]));
    // Hide the broker's re-publish on the ChargerState topic, keep the
    // devices' reports (sub-topic ChargerState, to the broker).
    term.keys(&["x"]);
    term.text("ChargerState");
    term.keys(&["Enter", "/"]);
    term.text("ChargerState");
    term.keys(&["Enter"]);
    term.wait_for("the three devices' reports", |s| {
        (0..3).all(|i| s.contains(&format!("charger-0000{i}"))) && s.contains("server")
    });
    term.keys(&["g"]);
    term.wait_for("the field picker", |s| {
        s.contains("Plot a field of server / ChargerState") && s.contains("ChargerID")
    });
    term.text("kW");
    term.wait_for("kW highlighted", |s| s.contains("▶ kW"));
    term.keys(&["Enter"]);
    let s = term.wait_for("the chart with a line per device", |s| {
        s.contains("Plot 1 field · 3 of 3 series")
            && s.contains("kW · server / ChargerState")
            && (0..3).all(|i| s.contains(&format!("━ charger-0000{i}")))
            && s.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c))
    });
    assert!(s.contains("6 Plot"), "the header lists the plot view:\n{s}");
    term.keys(&["1", "5"]);
    term.wait_for("the senders of the stream", |s| {
        s.contains("Senders server / ChargerState")
            && s.contains("3 senders")
            && (0..3).all(|i| s.contains(&format!("charger-0000{i}")))
    });
    term.keys(&["q"]);
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    term.assert_restored();
}
