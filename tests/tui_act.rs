//! Issue 18, acting on what the TUI shows and longer history: `r` reply to a
//! device (a charger of `smqctl simulate` answers SetCharger, and its answer
//! shows), `o` observe a device and see it marked when it is killed, `y`'s
//! command line run through the real binary publishing the same message, and
//! `--spill` paging back to the first of 1,000 events with `--buffer 100`.
//! The real binary on a pseudo-terminal, against `smqctl broker` (a process,
//! with the charger scenario's handlers) and a `smqctl simulate` fleet.

use std::path::{Path, PathBuf};
use std::time::Duration;

use smqctl::trace::schema::{Dest, DestType, Event, Kind};

use crate::harness::{BrokerProcess, Running, TestBroker, run, smqctl, text};
use crate::pty::Pty;

/// `smqctl broker --handlers` with the charger scenario's handler file.
fn charger_broker(dir: &Path) -> BrokerProcess {
    let out = run(smqctl().args(["simulate", "--print-handlers", "charger"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let handlers = dir.join("charger-handlers.toml");
    std::fs::write(&handlers, &out.stdout).expect("write handlers");
    let path = handlers.to_str().expect("utf-8 path");
    BrokerProcess::start(&["--handlers", path])
}

fn fleet(url: &str, devices: &str) -> Running {
    Running::spawn(smqctl().args(["simulate", "-s", "charger", "-n", devices, "--url", url]))
}

/// The TUI on `url`, narrowed to charger-00000's own events: the broker's
/// re-publishes (topics ChargerState and DeviceReady) hidden, the search on
/// the UID.
fn tui_on_first_charger(dir: &Path, url: &str) -> Pty {
    let term = Pty::start(dir, &["tui", "--url", url], 170, 40);
    term.wait_for("the tracer attached and the charger's reports", |s| {
        s.contains("attached") && s.contains("charger-00000") && s.contains("ChargerState")
    });
    term.keys(&["x"]);
    term.text("ChargerState,DeviceReady");
    term.keys(&["Enter", "/"]);
    term.text("charger-00000");
    term.keys(&["Enter"]);
    // The filter line alone names charger-00000 and ChargerState: wait for a
    // selected row of its own (an act key on no selection says "no event
    // selected", which once failed this test under load).
    term.wait_for("only charger-00000's own events, one selected", |s| {
        s.contains(r#""charger-00000" -ChargerState -DeviceReady"#)
            && !s.contains("charger-00001")
            && s.lines().any(|l| {
                l.starts_with('▶') && l.contains("charger-00000") && l.contains("ChargerState")
            })
    });
    term
}

#[test]
fn tui_reply_sends_setcharger_to_the_device_and_its_answer_arrives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = charger_broker(dir.path());
    let url = broker.url("ws");
    let _fleet = fleet(&url, "2");
    let term = tui_on_first_charger(dir.path(), &url);

    term.keys(&["r"]);
    let s = term.wait_for("the reply editor, prefilled", |s| {
        s.contains("Reply to charger-00000 (etid ") && s.contains("sub-topic")
    });
    assert!(s.contains("payload"), "{s}");
    // The payload field is focused: replace it, then the sub-topic.
    term.keys(&["C-u"]);
    term.text(r#"{"On":true}"#);
    term.keys(&["Tab", "C-u"]);
    term.text("SetCharger");
    term.keys(&["Enter"]);
    let s = term.wait_for("sent, said in the status line", |s| {
        s.contains("sent to charger-00000 (etid ") && s.contains("SetCharger 11 bytes")
    });
    assert!(!s.contains("Reply to"), "the editor closed:\n{s}");
    // The device answers SetCharger with a ChargerState report marked reply.
    term.wait_for("the charger's answer", |s| {
        s.contains(r#""On":true,"reply":true"#)
    });

    term.keys(&["q"]);
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    term.assert_restored();
}

#[test]
fn tui_observe_marks_a_device_once_it_is_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = charger_broker(dir.path());
    let url = broker.url("ws");
    let fleet = fleet(&url, "1");
    let term = tui_on_first_charger(dir.path(), &url);

    term.keys(&["o"]);
    term.wait_for("observing, its rows marked", |s| {
        s.contains("observing charger-00000 (etid ") && s.contains("◉ charger-00000")
    });
    drop(fleet); // SIGKILL: the socket closes without a goodbye.
    let s = term.wait_for("marked as gone, said in the status line", |s| {
        s.contains("✖ charger-00000") && s.contains("left (the broker says so)")
    });
    assert!(
        !s.contains("◉ charger-00000"),
        "every row marked gone:\n{s}"
    );

    term.keys(&["q"]);
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    term.assert_restored();
}

#[test]
fn tui_act_keys_in_file_mode_say_they_need_a_broker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = numbered(dir.path(), 5);
    let term = Pty::start(dir.path(), &["tui", "--file", arg(&file)], 100, 30);
    term.wait_for("the events", |s| s.contains("5 shown"));
    for k in ["r", "R", "o"] {
        term.keys(&[k]);
        term.wait_for("the reason", |s| {
            s.contains("acting needs a broker connection (--url)")
        });
        term.keys(&["Down"]); // any key clears the message
        term.wait_for("cleared", |s| !s.contains("acting needs"));
    }
    // y needs no broker: the command line is shown.
    term.keys(&["y"]);
    term.wait_for("the command line", |s| {
        s.contains(r#"copied (OSC 52): smqctl pub --json DeviceState '{"n":4}'"#)
    });
    term.keys(&["q"]);
    assert_eq!(term.wait_exit().code, Some(0));
}

/// `n` publishes to DeviceState from sim-NNNNN with payload `{"n":N}`.
fn numbered(dir: &Path, n: usize) -> PathBuf {
    let mut out = String::new();
    for i in 0..n {
        out.push_str(&format!(
            concat!(
                r#"{{"v":1,"ts":"2026-11-22T03:44:{:02}.{:03}Z","kind":"publish","#,
                r#""from":{{"etid":{},"uid":"sim-{:05}"}},"to":{{"tid":9,"type":"topic","name":"DeviceState"}},"#,
                r#""size":{},"encoding":"json","payload":"{{\"n\":{}}}"}}"#,
                "\n"
            ),
            (i / 1000) % 60,
            i % 1000,
            10 + i,
            i,
            format!("{{\"n\":{i}}}").len(),
            i,
        ));
    }
    let path = dir.join("events.ndjson");
    std::fs::write(&path, out).expect("write fixture");
    path
}

fn arg(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn tui_spill_scrolls_back_to_the_first_of_1000_events_with_buffer_100() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = numbered(dir.path(), 1000);
    let spill = dir.path().join("spill.ndjson");
    let term = Pty::start(
        dir.path(),
        &[
            "tui",
            "--file",
            arg(&file),
            "--buffer",
            "100",
            "--spill",
            arg(&spill),
        ],
        120,
        30,
    );
    term.wait_for("all read, 100 kept, 900 spilled", |s| {
        s.contains("100 shown · 100 kept of 1,000 · 900 spilled · following")
    });
    // PgUp past the ring's first row goes on into the file, to the very first.
    for _ in 0..50 {
        term.keys(&["PPage"]);
    }
    let s = term.wait_for("the first event, paged back from the file", |s| {
        s.contains(r#"{"n":0}"#) && s.contains("sim-00000") && s.contains("paged back")
    });
    assert!(
        s.contains(r#"▶ 03:44:00.000"#),
        "the first row selected:\n{s}"
    );
    // Down steps through it in order.
    term.keys(&["Down"]);
    term.wait_for("the second event", |s| s.contains(r#"{"n":1}"#));
    // End follows the live end again; Home jumps back to the first.
    term.keys(&["End"]);
    term.wait_for("back at the end", |s| {
        s.contains(r#"{"n":999}"#) && !s.contains("paged back")
    });
    term.keys(&["Home"]);
    term.wait_for("the first event again", |s| {
        s.contains(r#"▶ 03:44:00.000"#) && s.contains(r#"{"n":0}"#)
    });
    // A search pages back too: n=5 lives only in the file.
    term.keys(&["/"]);
    term.text(r#""n":5}"#);
    term.keys(&["Enter", "Up"]);
    term.wait_for("the match from the file", |s| {
        s.contains(r#"{"n":5}"#) && s.contains("sim-00005")
    });
    term.keys(&["q"]);
    assert_eq!(term.wait_exit().code, Some(0));
    term.assert_restored();
    // The file has the 900 events that left the ring, in the trace format.
    let lines: Vec<Event> = std::fs::read_to_string(&spill)
        .expect("spill file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a trace event per line"))
        .collect();
    assert_eq!(lines.len(), 900);
    assert_eq!(lines[0].payload.as_deref(), Some(r#"{"n":0}"#));
    assert_eq!(lines[899].payload.as_deref(), Some(r#"{"n":899}"#));
}

/// What `y` copies, run through a shell and the real binary, publishes the
/// same destination, sub-topic and payload bytes.
#[test]
fn tui_copy_command_line_round_trips_through_the_real_binary() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let opts =
        smqctl::client::ClientOptions::new(smqctl::transport::Endpoint::parse(&url).expect("url"));
    let (client, _events) = rt
        .block_on(smqctl::client::Client::connect(&opts))
        .expect("connects");
    let mut sub = rt
        .block_on(client.subscribe("Rt/Topic", None))
        .expect("subscribes");
    let mut direct = rt.block_on(client.subscribe("self", None)).expect("direct");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_smqctl"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let payloads: Vec<&[u8]> = vec![
        br#"{"On":true,"who":"it's $HOME `x`"}"#,
        b"two  words and 'quotes' \"double\" \\ * ? ; & | > <",
        "ünïcödé ✖ 日本".as_bytes(),
        b"-5",
        b"--json",
        b"",
        &[0, 1, 0xfe, 0xff, b'\'', b'\n'],
        b"line 1\nline 2\t\x1b[31m",
    ];
    for (i, payload) in payloads.iter().enumerate() {
        for to_self in [false, true] {
            let mut e = Event::new(Kind::Publish, "2026-11-22T03:44:17Z".into())
                .with_payload(payload, 4096);
            e.to = Some(if to_self {
                Dest {
                    tid: client.etid(),
                    kind: DestType::Client,
                    name: None,
                    uid: None,
                }
            } else {
                Dest {
                    tid: 9,
                    kind: DestType::Topic,
                    name: Some("Rt/Topic".into()),
                    uid: None,
                }
            });
            let sub_name = format!("Sub {i}'s");
            e.subtopic = Some(sub_name.clone());
            let line = smqctl::tui::act::command_line(&e).expect("a command line");
            let out = run(std::process::Command::new("sh")
                .arg("-c")
                .arg(line.replacen("smqctl pub", &format!("smqctl pub --url {url}"), 1))
                .env("PATH", &path)
                .env_remove("SMQCTL_URL"));
            assert!(out.status.success(), "{line}: {}", text(&out.stderr));
            let rx = if to_self { &mut direct.rx } else { &mut sub.rx };
            let got = rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(10), rx.recv()).await })
                .expect("the message arrives")
                .expect("open");
            assert_eq!(&got.payload[..], *payload, "{line}");
            let subtid = rt
                .block_on(client.createsub(&sub_name))
                .expect("sub-topic id");
            assert_eq!(got.subtid, subtid, "{line}");
            assert_eq!(got.direct, to_self, "{line}");
        }
    }
    rt.block_on(client.disconnect("done"));
}

#[test]
fn tui_spill_to_the_file_being_replayed_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = numbered(dir.path(), 3);
    let term = Pty::start(
        dir.path(),
        &["tui", "--file", arg(&file), "--spill", arg(&file)],
        100,
        30,
    );
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(2), "{exit:?}");
    assert!(
        exit.screen.contains("is the --file being replayed"),
        "{}",
        exit.screen
    );
    assert_eq!(
        std::fs::read_to_string(&file)
            .expect("read")
            .lines()
            .count(),
        3,
        "untouched"
    );
}
