//! `smqctl shell`: scripted sessions against the embedded broker (every
//! command, failures stopping the script at their line, a reconnect in the
//! middle of a session), and the interactive prompt in a pseudo-terminal.

use std::io::Write;
use std::process::ChildStdin;
use std::time::Instant;

use serde_json::Value;

use crate::harness::{Running, STEP, TestBroker, publish, run, smqctl, text};
use crate::pty::{Pty, PtyCommand};

const HANDLERS: &str = r#"
[[request]]
name = "SearchSitesReq"
reply = '{"site":"{{SiteName}}"}'

[[rpc]]
name = "first"
result = '{{args.0}}'

[[rpc]]
name = "fail"
error = "out of coffee"
"#;

fn broker_with_handlers() -> TestBroker {
    TestBroker::with_handlers(HANDLERS)
}

/// A shell fed line by line through its stdin (not a terminal: script mode).
fn fed_shell(url: &str) -> (Running, ChildStdin) {
    let mut cmd = smqctl();
    cmd.args(["shell", url, "--format", "json"]);
    Running::spawn_with_stdin(&mut cmd)
}

fn say(stdin: &mut ChildStdin, line: &str) {
    writeln!(stdin, "{line}").expect("write to the shell");
    stdin.flush().expect("flush");
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"))
}

fn script(dir: &tempfile::TempDir, lines: &[&str]) -> String {
    let path = dir.path().join("session.smq");
    std::fs::write(&path, lines.join("\n")).expect("write script");
    path.display().to_string()
}

#[test]
fn two_scripted_sessions_exercise_every_command() {
    let broker = broker_with_handlers();
    let url = broker.url("ws");

    // Session A subscribes; its ETID comes from `etid`.
    let (mut a, mut a_in) = fed_shell(&url);
    say(&mut a_in, "sub Chat self --resolve-subtopic Greeting");
    a.stderr_line("subscribed to Chat");
    say(&mut a_in, "etid");
    let a_etid = json(&a.stdout_line())["etid"].as_u64().expect("etid");

    // Session B publishes, calls, and looks at itself, from a script file.
    let dir = tempfile::tempdir().expect("tempdir");
    let b_script = script(
        &dir,
        &[
            "# session B",
            "pub Chat '{\"n\":1}' --json",
            "pub Chat hello --subtopic Greeting",
            &format!("pub --to-etid {a_etid} 'just for you'"),
            "rpc SearchSitesReq '{\"SiteName\":\"alpha\"}'",
            "call first 42",
            "topics",
            "status",
            "help wait",
            "format pretty",
            "etid",
            "quit",
            "pub NeverSent after-quit",
        ],
    );
    let out = run(smqctl().args([
        "shell", "--format", "json", "--url", &url, "--script", &b_script,
    ]));
    let b_out = text(&out.stdout);
    assert!(out.status.success(), "B failed: {}", text(&out.stderr));
    let b_err = text(&out.stderr);
    assert!(b_err.contains("published 1 message(s) to Chat"), "{b_err}");
    let lines: Vec<&str> = b_out.lines().collect();
    // The named request's reply, as `smqctl rpc --format json` prints it.
    let reply = json(lines[0]);
    assert_eq!(reply["payload"]["site"], "alpha", "{b_out}");
    assert_eq!(reply["subtopic"], "SearchSitesResp");
    // The $RpcReq call's answer.
    let call = json(lines[1]);
    assert_eq!(call["rsp"], 42, "{b_out}");
    // `topics`: self first, then the names this session created.
    let parsed: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let topics: Vec<&Value> = parsed
        .iter()
        .filter(|v| v.get("subscribed").is_some() && v.get("topic").is_some())
        .collect();
    assert_eq!(topics[0]["topic"], "self");
    assert!(topics.iter().any(|t| t["topic"] == "Chat"), "{b_out}");
    assert!(b_out.contains("{\"subtopic\":\"Greeting\""), "{b_out}");
    let status = parsed
        .iter()
        .find(|v| v.get("state").is_some())
        .expect("status line");
    assert_eq!(status["state"], "connected");
    assert_eq!(status["url"], url.as_str());
    assert!(b_out.contains("--count"), "help wait: {b_out}");
    // After `format pretty`, `etid` is a bare number; nothing after `quit` ran.
    let last = lines.last().expect("output");
    assert!(last.parse::<u32>().is_ok(), "{last:?}");
    assert!(!b_err.contains("NeverSent"), "{b_err}");

    // A saw B's three messages, named, and the direct one marked as such.
    say(&mut a_in, "wait --count 3 --timeout 10s");
    say(&mut a_in, "unsub Chat");
    a.stderr_line("unsubscribed from Chat");
    say(&mut a_in, "observe Chat");
    a.stderr_line("observing Chat");
    // Observing reports the current count; B's `sub` then raises it.
    say(&mut a_in, "wait -C 1");
    say(&mut a_in, "unobserve Chat");
    a.stderr_line("no longer showing changes of Chat");
    say(&mut a_in, "quit");
    let out = a.wait();
    assert!(out.status.success(), "A failed: {}", text(&out.stderr));
    let got: Vec<Value> = text(&out.stdout).lines().skip(1).map(json).collect();
    assert_eq!(got[0]["payload"]["n"], 1, "{got:?}");
    assert_eq!(
        (got[1]["payload"].as_str(), got[1]["subtopic"].as_str()),
        (Some("hello"), Some("Greeting"))
    );
    assert_eq!(got[2]["payload"], "just for you");
    assert_eq!(got[2]["direct"], true);
    assert_eq!(got[3]["event"], "change", "{got:?}");
    assert_eq!(got[3]["topic"], "Chat");
    assert_eq!(got[3]["subscribers"], 0);
}

#[test]
fn a_failing_line_stops_the_script_with_its_exit_code() {
    let broker = broker_with_handlers();
    let url = broker.url("http");
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: &[(&[&str], i32, &str)] = &[
        // Bad usage: exit 2, and the line after it never runs.
        (&["etid", "pub", "etid"], 2, "line 2 (pub)"),
        (
            &["etid", "publish Chat x"],
            2,
            "line 2 (publish Chat x): unrecognized subcommand",
        ),
        (&["pub Chat '{bad' --json"], 2, "invalid JSON in MESSAGE"),
        // Nothing arrives: wait times out with 5.
        (
            &["sub self", "wait -C 1 -W 200ms", "etid"],
            5,
            "line 2 (wait -C 1 -W 200ms)",
        ),
        // The handler answers with an error: 7, as `smqctl rpc` exits.
        (
            &["# comment", "", "call fail", "etid"],
            7,
            "line 3 (call fail)",
        ),
        (&["unsub Nothing"], 2, "not subscribed to 'Nothing'"),
    ];
    for (lines, code, needle) in cases {
        let path = script(&dir, lines);
        let out = run(smqctl().args([
            "shell", "--format", "json", "--url", &url, "--script", &path,
        ]));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{lines:?}: {err}");
        assert!(err.contains(needle), "{lines:?}: {err}");
        // Only the first `etid` (if any) printed: nothing ran after the failure.
        let etids = text(&out.stdout).matches("\"etid\"").count();
        assert!(
            etids <= 1,
            "{lines:?} ran past the failure: {}",
            text(&out.stdout)
        );
    }
}

#[test]
fn missing_script_and_unreachable_broker_fail_clearly() {
    let out = run(smqctl().args([
        "shell",
        "--script",
        "/nonexistent/x.smq",
        "--url",
        "ws://127.0.0.1:9/",
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot read script /nonexistent/x.smq"),
        "{}",
        text(&out.stderr)
    );
    let out = run(smqctl()
        .args([
            "shell",
            "--url",
            "ws://127.0.0.1:9/smq/",
            "--connect-timeout",
            "2s",
        ])
        .stdin(std::process::Stdio::null()));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

#[test]
fn reconnect_keeps_the_session_subscribes_again_and_shows_the_new_etid() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let (mut sh, mut input) = fed_shell(&url);
    say(&mut input, "sub Updates");
    sh.stderr_line("subscribed to Updates");
    say(&mut input, "etid");
    let before = json(&sh.stdout_line())["etid"].as_u64().expect("etid");

    broker.broker.shutdown_all("maintenance");
    let lost = sh.stderr_line("connection lost");
    assert!(
        lost.contains("maintenance") && lost.contains("reconnecting in"),
        "{lost}"
    );
    let back = sh.stderr_line("reconnected to");
    assert!(back.contains("subscribed again: Updates"), "{back}");
    let new_etid: u64 = back
        .split("new ETID ")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no ETID in {back:?}"));

    // The subscription made before the outage delivers again.
    publish(&url, &["Updates", "after the outage"]);
    say(&mut input, "wait -C 1 -W 10s");
    say(&mut input, "etid");
    say(&mut input, "status");
    say(&mut input, "quit");
    let out = sh.wait();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout).lines().map(json).collect();
    assert_eq!(lines[1]["payload"], "after the outage", "{lines:?}");
    assert_eq!(lines[2]["etid"].as_u64(), Some(new_etid));
    assert_ne!(new_etid, before, "a new connection gets a new ETID");
    assert_eq!(lines[3]["reconnects"], 1);
    assert_eq!(lines[3]["subscribed"][0], "Updates");
}

#[test]
fn no_reconnect_ends_a_script_with_code_6() {
    let broker = TestBroker::start();
    let url = broker.url("http");
    let mut cmd = smqctl();
    cmd.args(["shell", &url, "--no-reconnect"]);
    let (mut sh, mut input) = Running::spawn_with_stdin(&mut cmd);
    say(&mut input, "sub Updates");
    sh.stderr_line("subscribed to Updates");
    broker.broker.shutdown_all("going away");
    sh.stderr_line("connection ended");
    say(&mut input, "pub Updates x");
    let out = sh.wait();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("line 2 (pub Updates x)"),
        "{}",
        text(&out.stderr)
    );
}

// ---- interactive, in a pseudo-terminal ----

/// The last line of the screen that is not blank (where the prompt is).
fn prompt_line(screen: &str) -> String {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string()
}

/// `smqctl shell URL` at a prompt in a 160×40 terminal (history kept in
/// `state`), once the prompt shows the ETID.
fn interactive_shell(url: &str, state: &std::path::Path) -> Pty {
    let t = PtyCommand::smqctl(&["shell", url])
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", state)
        .env("SMQCTL_CONFIG", "/nonexistent")
        .size(160, 40)
        .start();
    t.wait_for("the prompt with the ETID", |s| {
        prompt_line(s).starts_with("smq [ETID ")
    });
    t
}

#[test]
fn interactive_prompt_completes_prints_above_the_line_and_obeys_ctrl_c_and_ctrl_d() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let state = tempfile::tempdir().expect("tempdir");
    let t = interactive_shell(&url, state.path());

    // Typing a command runs it.
    t.text("sub DeviceState");
    t.keys(&["Enter"]);
    t.wait_for("the subscription", |s| {
        s.contains("subscribed to DeviceState")
    });

    // Tab completes a command, then a topic name seen in the session.
    t.text("pu");
    t.keys(&["Tab"]);
    t.wait_for("`pub ` completed", |s| prompt_line(s).ends_with("> pub"));
    t.text("Dev");
    t.keys(&["Tab"]);
    t.wait_for("the topic completed", |s| {
        prompt_line(s).ends_with("> pub DeviceState")
    });
    t.text("half-typed");
    t.wait_for("the typed text", |s| prompt_line(s).ends_with("half-typed"));

    // A message arriving now prints above the prompt; the line survives.
    publish(&url, &["DeviceState", "{\"On\":true}"]);
    let s = t.wait_for("the message", |s| s.contains("{\"On\":true}"));
    let prompt = prompt_line(&s);
    assert!(
        prompt.ends_with("> pub DeviceState half-typed"),
        "line torn: {prompt:?}\n{s}"
    );
    let msg_row = s
        .lines()
        .position(|l| l.contains("{\"On\":true}"))
        .expect("message row");
    let prompt_row = s
        .lines()
        .collect::<Vec<_>>()
        .iter()
        .rposition(|l| l.contains("half-typed"))
        .expect("prompt row");
    assert!(msg_row < prompt_row, "message below the prompt:\n{s}");

    // Ctrl-C cancels the line: the prompt comes back empty, the shell stays.
    t.keys(&["C-c"]);
    t.wait_for("an empty prompt", |s| {
        prompt_line(s).trim_end().ends_with(">")
    });
    t.text("etid");
    t.keys(&["Enter"]);
    t.wait_for("the ETID printed", |s| {
        s.lines()
            .any(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_digit()))
    });

    // Ctrl-D leaves with status 0, and the history was kept.
    t.keys(&["C-d"]);
    let exit = t.wait_exit();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    t.assert_restored();
    let history =
        std::fs::read_to_string(state.path().join("smqctl/history")).expect("history file");
    assert!(
        history.contains("sub DeviceState") && history.contains("etid"),
        "{history}"
    );
    assert!(
        !history.contains("half-typed"),
        "a cancelled line is not history: {history}"
    );
}

#[test]
fn reconnect_observes_again_what_the_session_observed() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let (mut sh, mut input) = fed_shell(&url);
    say(&mut input, "observe Presence");
    sh.stderr_line("observing Presence");
    broker.broker.shutdown_all("restart");
    let back = sh.stderr_line("reconnected to");
    assert!(
        back.contains("subscribed again: observe Presence"),
        "{back}"
    );
    // Another client subscribing is seen only if the new connection observes.
    let (_peer, _) = crate::harness::ready_sub(&url, &["Presence"]);
    let deadline = Instant::now() + STEP;
    loop {
        let line = json(&sh.stdout_line());
        if line["event"] == "change" && line["subscribers"] == 1 && line["topic"] == "Presence" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no change with the peer's subscription"
        );
    }
    say(&mut input, "quit");
    assert!(sh.wait().status.success());
}

#[test]
fn a_pasted_block_of_lines_runs_as_one_command_per_line() {
    // Bracketed paste hands the editor the block as one line with newlines;
    // it used to run as `etid status topics` (error: unexpected argument).
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let state = tempfile::tempdir().expect("tempdir");
    let t = interactive_shell(&url, state.path());
    t.paste("sub PastedTopic\nstatus\n");
    t.keys(&["Enter"]);
    let s = t.wait_for("both commands' output", |s| {
        s.contains("subscribed to PastedTopic") && s.contains("state       connected")
    });
    assert!(!s.contains("unexpected argument"), "{s}");
    t.keys(&["C-d"]);
    let exit = t.wait_exit();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    t.assert_restored();
}

#[test]
fn interactive_shell_on_sigterm_mid_line_says_so_below_the_line_restores_the_terminal_and_disconnects()
 {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let closes = crate::harness::Closes::of(&broker.broker);
    let state = tempfile::tempdir().expect("tempdir");
    let t = PtyCommand::smqctl(&["shell", "--url", &url, "--uid", "shell-sigterm"])
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", state.path())
        .env("SMQCTL_CONFIG", "/nonexistent")
        .size(160, 40)
        .start();
    t.wait_for("the prompt with the ETID", |s| {
        prompt_line(s).starts_with("smq [ETID ")
    });
    // The line editor has the terminal raw, with a half-typed line.
    t.text("pub half-typed");
    t.wait_for("the typed text", |s| prompt_line(s).ends_with("half-typed"));
    assert!(!t.state().cooked, "the line editor reads in raw mode");
    t.terminate();
    let exit = t.wait_exit();
    assert_eq!(exit.code, Some(130), "{exit:?}");
    // The last word on the screen, below the abandoned line: not handed to
    // the line editor's thread, which printed it above the line when it ran
    // before the process exited, and not at all when it did not.
    let lines: Vec<&str> = exit.screen.lines().collect();
    let typed = lines.iter().rposition(|l| l.ends_with("half-typed"));
    let note = lines
        .iter()
        .rposition(|l| l.contains("terminated (SIGTERM)"));
    assert!(
        matches!((typed, note), (Some(t), Some(n)) if n > t),
        "{exit:?}"
    );
    t.assert_restored();
    assert_eq!(
        closes.reason("shell-sigterm"),
        crate::harness::SENT_DISCONNECT
    );
}

#[test]
fn wait_timeout_and_format_confirmation_print_at_the_prompt_as_in_scripts() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    // A script: the timeout and the new format are said on stderr.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = script(&dir, &["format json", "wait -W 300ms"]);
    let out = run(smqctl().args(["shell", "--url", &url, "--script", &path]));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("messages print as json"), "{err}");
    assert!(err.contains("timed out after 300ms"), "{err}");
    // At the prompt: the same lines, above the next prompt.
    let state = tempfile::tempdir().expect("tempdir");
    let t = interactive_shell(&url, state.path());
    t.text("format json");
    t.keys(&["Enter"]);
    t.wait_for("the format confirmed", |s| {
        s.contains("messages print as json")
    });
    t.text("wait -W 300ms");
    t.keys(&["Enter"]);
    let s = t.wait_for("the timeout", |s| s.contains("timed out after 300ms"));
    assert!(s.contains("0 of 1 message(s) arrived"), "{s}");
    t.wait_for("the next prompt", |s| {
        prompt_line(s).starts_with("smq [ETID ")
    });
    t.keys(&["C-d"]);
    assert_eq!(t.wait_exit().code, Some(0));
}

#[test]
fn the_prompt_shows_reconnecting_while_it_waits_for_a_line_not_the_old_etid() {
    let broker = crate::harness::BrokerProcess::start(&[]);
    let url = broker.url("ws");
    let state = tempfile::tempdir().expect("tempdir");
    let t = interactive_shell(&url, state.path());
    // The broker goes away while nobody types: the prompt says so by itself.
    drop(broker);
    let s = t.wait_for("the prompt to say reconnecting", |s| {
        // At the width the line began with: the whole label, or as much as fits.
        prompt_line(s).contains("reconnecting #")
    });
    assert!(s.contains("connection lost"), "{s}");
    // The line still edits and runs where the prompt ends.
    t.text("status");
    t.wait_for("the typed text", |s| {
        let p = prompt_line(s);
        p.contains("reconnecting #") && p.ends_with(" status")
    });
    t.keys(&["Enter"]);
    t.wait_for("status while down", |s| s.contains("reconnecting (attempt"));
    t.keys(&["C-d"]);
    let exit = t.wait_exit();
    assert_eq!(exit.code, Some(0), "{exit:?}");
}

/// `unobserve` sent Unobserve, which on a real Mako broker removes the ID
/// from the hub's routing table when this is its only observer (cutting off
/// a topic's subscribers). Now it only stops showing the changes (said once);
/// `unobserve --send` sends the packet, with the warning. Checked on what the
/// embedded broker records receiving.
#[test]
fn unobserve_sends_no_unobserve_packet_unless_asked_with_send() {
    use smqctl::trace::schema::Kind;
    let broker = TestBroker::start();
    let mut events = broker.broker.events();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = script(
        &dir,
        &[
            "observe Chat Alerts",
            // Each topic answers with its count now.
            "wait -C 2",
            "unobserve Chat",
            "unobserve Alerts",
            // Subscribing changes Chat's count: the broker still tells this
            // connection (nothing was sent), the shell no longer shows it.
            "sub Chat",
            "pub Chat hello",
            "wait -C 1",
            "unobserve --send Alerts",
            "quit",
        ],
    );
    let out = run(smqctl().args([
        "shell",
        "--format",
        "json",
        "--url",
        &broker.url("ws"),
        "--script",
        &path,
    ]));
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(
        err.matches("unobserve sends nothing to the broker").count(),
        1,
        "said once: {err}"
    );
    assert!(
        err.contains("no longer showing changes of Chat (tid "),
        "{err}"
    );
    assert!(
        err.contains("no longer showing changes of Alerts (tid "),
        "{err}"
    );
    assert!(
        err.contains("warning: sent Unobserve for Alerts (tid ") && err.contains("tidT[tid] = nil"),
        "{err}"
    );
    // Stdout: the two first counts and the message; not Chat's new count.
    let got: Vec<Value> = text(&out.stdout).lines().map(json).collect();
    let changes: Vec<&Value> = got.iter().filter(|v| v["event"] == "change").collect();
    assert_eq!(changes.len(), 2, "{got:?}");
    assert!(changes.iter().all(|c| c["subscribers"] == 0), "{got:?}");
    assert!(got.iter().any(|v| v["payload"] == "hello"), "{got:?}");

    // What the broker received: two Observes, one Unobserve (Alerts), then the close.
    let mut seen: Vec<(Kind, Option<String>)> = Vec::new();
    let deadline = Instant::now() + STEP;
    while !seen.iter().any(|(k, _)| *k == Kind::Close) {
        assert!(
            Instant::now() < deadline,
            "no close within {STEP:?}: {seen:?}"
        );
        match events.try_recv() {
            Ok(rec) => {
                let name = rec.event.to.as_ref().and_then(|d| d.name.clone());
                seen.push((rec.event.kind, name));
            }
            Err(tokio::sync::broadcast::error::TryRecvError::Empty) => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("broker events: {e}"),
        }
    }
    let of = |kind: Kind| -> Vec<Option<&str>> {
        seen.iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n.as_deref())
            .collect()
    };
    assert_eq!(
        of(Kind::Observe),
        [Some("Chat"), Some("Alerts")],
        "{seen:?}"
    );
    assert_eq!(of(Kind::Unobserve), [Some("Alerts")], "{seen:?}");
}
