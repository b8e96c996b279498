//! `smqctl demo` as a newcomer runs it: off a terminal it prints the trace of
//! the whole show (broker, charger fleet, operator with deliberate mistakes); in
//! a terminal (a pseudo-terminal) it opens the TUI attached to its own broker.

use serde_json::Value;

use crate::harness::{json_lines, run, smqctl, text};
use crate::pty::Pty;

fn uid(e: &Value) -> &str {
    e["from"]["uid"].as_str().unwrap_or("")
}

fn position(events: &[Value], what: &str, pred: impl Fn(&Value) -> bool) -> usize {
    events
        .iter()
        .position(pred)
        .unwrap_or_else(|| panic!("no {what} in the demo's trace"))
}

#[test]
fn demo_off_a_terminal_traces_fleet_rpc_and_deliberate_drops() {
    let out = run(smqctl().args([
        "demo",
        "--devices",
        "3",
        "--every",
        "150ms",
        "--duration",
        "5s",
        "--format",
        "json",
    ]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
    let events = json_lines(&out);
    assert_eq!(events[0]["kind"], "snapshot", "the tracer attaches first");

    // No anonymous client: the fleet's probe used to show up as `smqctl-…`.
    let strangers: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["kind"] == "connect" && !(uid(e) == "demo-operator" || uid(e).starts_with("charger-"))
        })
        .collect();
    assert!(
        strangers.is_empty(),
        "demo_probe_shows_up_as_an_anonymous_client: {strangers:?}"
    );

    // Every charger connects, passes the readiness barrier, then says DeviceReady.
    for i in 0..3 {
        let name = format!("charger-{i:05}");
        let connect = position(&events, "connect", |e| {
            e["kind"] == "connect" && uid(e) == name
        });
        let barrier = position(&events, "barrier subscription", |e| {
            e["kind"] == "subscribe" && uid(e) == name && e["to"]["name"] == "SubscriptionBarrier"
        });
        let ready = position(&events, "DeviceReady", |e| {
            e["kind"] == "publish" && uid(e) == name && e["subtopic"] == "DeviceReady"
        });
        assert!(
            connect < barrier && barrier < ready,
            "{name}: connect {connect}, barrier {barrier}, ready {ready}"
        );
    }

    // The operator's commands reach devices by ETID, named as clients.
    assert!(events.iter().any(|e| {
        e["kind"] == "publish"
            && uid(e) == "demo-operator"
            && e["subtopic"] == "SetCharger"
            && e["to"]["type"] == "client"
            && e["to"]["uid"]
                .as_str()
                .is_some_and(|u| u.starts_with("charger-"))
    }));
    // RPC: an answer and a handler error, both from the server.
    // demo_json_payload_was_a_string_needing_fromjson: it is the value.
    let rpc = |pred: &dyn Fn(&Value) -> bool| {
        events.iter().any(|e| {
            e["subtopic"] == "$RpcResp"
                && e["from"]["server"] == true
                && e["encoding"] == "json"
                && e["payload"].is_object()
                && pred(&e["payload"])
        })
    };
    assert!(rpc(&|p| p.get("rsp").is_some()), "an answered $RpcReq");
    assert!(
        rpc(&|p| p["err"]
            .as_str()
            .is_some_and(|t| t.contains("not allowed from the demo"))),
        "an $RpcReq error"
    );
    assert!(
        events
            .iter()
            .filter(|e| e["encoding"] == "json")
            .all(|e| !e["payload"].is_string() && e["v"] == 2),
        "every json payload is the JSON value"
    );

    // The deliberate mistakes are visible as drops, with reasons.
    let drops: Vec<&Value> = events.iter().filter(|e| e["kind"] == "drop").collect();
    assert!(
        drops
            .iter()
            .any(|e| e["to"]["name"] == "Alerts/Overheat" && e["reason"] == "no subscribers"),
        "{drops:?}"
    );
    assert!(
        drops
            .iter()
            .any(|e| e["to"]["type"] == "unknown" && e["subtopic"] == "SetCharger"),
        "a command to a stale ETID: {drops:?}"
    );
    assert!(
        drops.iter().any(|e| e["to"]["type"] == "server"
            && e["subtopic"] == "FirmwareUpdateReq"
            && e["reason"] == "server has no handler"),
        "a request nobody handles: {drops:?}"
    );
    // ...and nothing else is dropped: reports have a subscriber.
    assert!(
        drops.iter().all(|e| uid(e) == "demo-operator"),
        "only the operator's mistakes drop: {drops:?}"
    );
    assert!(
        stderr.contains("3 chargers online at peak"),
        "summary:\n{stderr}"
    );
}

#[test]
fn demo_in_a_terminal_opens_the_tui_and_quits_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let term = Pty::start(
        dir.path(),
        &["demo", "--devices", "3", "--every", "150ms"],
        100,
        30,
    );
    term.wait_for("the TUI attached with a drop", |s| {
        s.contains("attached") && s.contains("DROP")
    });
    term.keys(&["d"]);
    // Polled until the whole frame is drawn: a capture can catch a redraw
    // half-way. (The selected row's marker sits next to the time, so kind
    // labels are looked for anywhere on a line.)
    let only_drops = |s: &str| {
        let rows = |kind: &str| s.lines().filter(|l| l.contains(kind)).count();
        s.contains("kinds drop")
            && rows("DROP") >= 1
            && ["PUB", "CONN", "CREATE", "SUB", "CLOSE"]
                .iter()
                .all(|k| rows(k) == 0)
    };
    term.wait_for("only drops listed", only_drops);
    term.keys(&["q"]);
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    term.assert_restored();
    assert!(
        exit.screen.contains("chargers online at peak"),
        "summary after the TUI:\n{}",
        exit.screen
    );
}

#[test]
fn demo_in_a_terminal_on_sigterm_exits_130_restores_the_terminal_and_frees_its_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let term = Pty::start(
        dir.path(),
        &["demo", "--devices", "3", "--every", "150ms"],
        100,
        30,
    );
    term.wait_for("the TUI attached with a drop", |s| {
        s.contains("attached") && s.contains("DROP")
    });
    term.terminate();
    let exit = term.wait_exit();
    // Everything runs in its one process: nothing it started outlives it.
    let left = term.leftover_processes();
    assert!(left.is_empty(), "left behind by the demo: {left:?}");
    // The viewer's code: the TUI stopped by a signal, as on Ctrl-C.
    assert_eq!(exit.code, Some(130), "{exit:?}");
    term.assert_restored();
    let s = &exit.screen;
    assert!(
        s.contains("chargers online at peak"),
        "the fleet stopped and the summary printed:\n{s}"
    );
    // Its embedded broker is gone with it: nothing listens on its port.
    let addr = s
        .split("broker on ws://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no broker address on the screen:\n{s}"));
    let addr: std::net::SocketAddr = addr.parse().expect("the broker's address");
    assert!(
        std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2)).is_err(),
        "something still listens on the demo's broker port {addr}"
    );
}
