//! Inputs checked when they are loaded, through the binary: handler files and
//! scenarios whose templates cannot work, and command-line values (hex, topic
//! names, ETIDs, UIDs, intervals) refused with exit 2 before anything connects.

use crate::harness::{BrokerProcess, run, smqctl, text};

fn file_with(dir: &tempfile::TempDir, name: &str, body: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, body).expect("write test file");
    p.to_string_lossy().into_owned()
}

/// A port nothing listens on: a command that got as far as connecting would
/// exit 3 there, so exit 2 proves the input was refused first.
const CLOSED: &str = "ws://127.0.0.1:9/smq/";

#[test]
fn handler_templates_that_cannot_work_stop_the_broker_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        // `{{` never closed: the placeholder would go out as it stands.
        (
            "[[request]]\nname = \"AReq\"\nreply = '{\"a\":\"{{name\"}'\n",
            "line 3",
            "without a closing",
        ),
        // Starts like JSON but is not JSON once filled in (a missing brace).
        (
            "[[request]]\nname = \"AReq\"\n\nreply = '{\"a\":{{x}}'\n",
            "line 4",
            "not JSON once filled in",
        ),
        // An RPC call has only id, name and args: `{{site}}` is always null.
        (
            "[[rpc]]\nname = \"f\"\nresult = '{\"s\":{{site}}}'\n",
            "line 3",
            "can never be filled in",
        ),
        (
            "[[event]]\nname = \"E\"\n\n\npayload = '{\"n\":{{$sequence}}}'\n",
            "line 5",
            "$sequence",
        ),
    ];
    for (i, (body, line, word)) in cases.iter().enumerate() {
        let path = file_with(&dir, &format!("h{i}.toml"), body);
        let out = BrokerProcess::fails(&["--handlers", &path]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {i}: {err}");
        assert!(
            !text(&out.stdout).contains("listening on"),
            "case {i}: the broker started"
        );
        assert!(
            err.contains(&format!("h{i}.toml, {line}")),
            "case {i}: {err}"
        );
        assert!(err.contains(word), "case {i}: {err}");
    }
}

#[test]
fn scenario_fields_no_state_can_have_stop_the_fleet_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        // A periodic report reads only the state: `Onn` is never there.
        (
            "[state]\nOn = false\n\n[[periodic]]\nto = \"broker\"\ninterval = \"1s\"\npayload = '{\"on\":{{Onn}}}'\n",
            "line 7",
            "can never be filled in",
        ),
        // The UID is filled in before any state or command exists.
        (
            "[device]\nuid = \"d-{{name}}\"\n",
            "line 2",
            "only $ variables",
        ),
        // A text state value written without quotes: not JSON once filled in.
        (
            "[state]\nname = \"alpha\"\n[ready]\nto = \"broker\"\npayload = '{\"n\":{{name}}}'\n",
            "line 5",
            "not JSON",
        ),
        (
            "[ready]\nto = \"broker\"\npayload = '{\"a\":{{}}}'\n",
            "line 3",
            "names no field",
        ),
    ];
    for (i, (body, line, word)) in cases.iter().enumerate() {
        let path = file_with(&dir, &format!("s{i}.toml"), body);
        let out = run(smqctl().args(["simulate", "-s", &path, "--url", CLOSED]));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {i}: {err}");
        assert!(
            err.contains(&format!("s{i}.toml, {line}")),
            "case {i}: {err}"
        );
        assert!(err.contains(word), "case {i}: {err}");
    }
}

#[test]
fn builtin_scenarios_and_their_handler_files_still_load() {
    for name in ["charger", "smib", "player"] {
        let out = run(smqctl().args(["simulate", "--print-handlers", name]));
        assert!(out.status.success(), "{}", text(&out.stderr));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = file_with(&dir, "h.toml", &text(&out.stdout));
        let broker = BrokerProcess::start(&["--handlers", &path]);
        let out = run(smqctl()
            .args([
                "simulate", "-s", name, "-n", "2", "-d", "1s", "--format", "json", "--url",
            ])
            .arg(broker.url("ws")));
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
    }
}
