//! Inputs checked when they are loaded, through the binary: handler files and
//! scenarios whose templates cannot work, and command-line values (hex, topic
//! names, ETIDs, UIDs, intervals) refused with exit 2 before anything connects.

use crate::harness::{BrokerProcess, TestBroker, run, smqctl, text};

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
        // Every device would be refused by the broker (Connack 1): "d1".
        (
            "[device]\nuid = \"d{{$index}}\"\n",
            "line 2",
            "shorter than 6 bytes",
        ),
        // --verify would count every report lost: the payload has no `idx`.
        (
            "[[periodic]]\nto = \"broker\"\ninterval = \"1s\"\nverify_topic = \"T\"\nverify_index = \"idx\"\npayload = '{\"index\":{{$index}},\"seq\":{{$seq}}}'\n",
            "line 6",
            "no field idx",
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
fn serve_reply_templates_and_names_are_checked_before_connecting() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["serve", "XReq", "--reply", "{\"a\":{{x}}"],
            "not JSON once filled in",
        ),
        (&["serve", "XReq", "--reply", "{{$sequence}}"], "$sequence"),
        (
            &["serve", "XReq", "--reply", "ok {{name"],
            "without a closing",
        ),
        (&["serve", "", "--echo"], "cannot be empty"),
        (
            &["serve", "XReq", "--echo", "--topic", ""],
            "cannot be empty",
        ),
    ];
    for (args, word) in cases {
        let out = run(smqctl().args(*args).args(["--url", CLOSED]));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(word), "{args:?}: {err}");
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

/// `smqctl ARGS --url URL`: its exit code and stderr.
fn refused(args: &[&str], url: &str) -> (Option<i32>, String) {
    let out = run(smqctl().args(args).args(["--url", url]));
    (out.status.code(), text(&out.stderr))
}

#[test]
fn pub_hex_with_odd_or_unpaired_digits_is_refused_not_sent_as_one_byte() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    for hex in ["0 1", "abc", "0x1 02", "01:2"] {
        let (code, err) = refused(&["pub", "T", "--hex", hex], &url);
        assert_eq!(code, Some(2), "{hex}: {err}");
        assert!(err.contains("odd number of digits"), "{hex}: {err}");
    }
    // Whole bytes in every spelling still go out.
    let (code, err) = refused(&["pub", "T", "--hex", "0x01,02 ff:0a"], &url);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn empty_topic_names_a_zero_etid_and_interval_without_count_are_refused() {
    let cases: &[(&[&str], &str)] = &[
        (&["pub", "", "x"], "cannot be empty"),
        (&["pub", "T", "x", "--subtopic", ""], "cannot be empty"),
        (&["sub", ""], "cannot be empty"),
        (&["sub", "T", "--subtopic", ""], "cannot be empty"),
        (&["pub", "--to-etid", "0", "x"], "0 is not an ETID"),
        (&["pub", "T", "x", "--interval", "1s"], "give --count N"),
    ];
    for (args, word) in cases {
        let (code, err) = refused(args, CLOSED);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(word), "{args:?}: {err}");
    }
    // --interval with --stdin-lines paces the lines: allowed.
    let broker = TestBroker::start();
    let out = run(smqctl()
        .args(["pub", "T", "--stdin-lines", "--interval", "10ms", "--url"])
        .arg(broker.url("ws"))
        .stdin(std::process::Stdio::null()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_uid_shorter_than_6_bytes_is_refused_before_connecting_in_every_command() {
    // A live broker: a command that connected would be refused with Connack 1
    // (exit 4); exit 2 and no connection means the UID was checked first.
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let commands: &[&[&str]] = &[
        &["sub", "T", "-W", "1s"],
        &["pub", "T", "x"],
        &["rpc", "XReq", "--timeout", "500ms"],
        &["serve", "XReq", "--echo"],
        &["trace", "-W", "1s"],
        &["bench", "pubsub"],
        &["bench", "rpc", "--call", "f"],
        &["bench", "connections"],
        &[
            "simulate", "-s", "charger", "--verify", "-n", "1", "-d", "1s",
        ],
        &["shell"],
    ];
    for args in commands {
        let out = run(smqctl()
            .args(*args)
            .args(["--uid", "abcde", "--url", &url])
            .stdin(std::process::Stdio::null()));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("shorter than 6 bytes"), "{args:?}: {err}");
    }
    // The same through the environment, and six bytes are fine.
    let out = run(smqctl()
        .args(["pub", "T", "x", "--url", &url])
        .env("SMQCTL_UID", "a"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = run(smqctl().args(["pub", "T", "x", "--uid", "abcdef", "--url", &url]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The TUI (it needs a terminal) refuses it too, before drawing.
    let pty = crate::pty::PtyCommand::smqctl(&["tui", "--uid", "abcde", "--url", &url]).start();
    let exit = pty.wait_exit();
    assert_eq!(exit.code, Some(2), "{}", exit.screen);
    assert!(
        exit.screen.contains("shorter than 6 bytes"),
        "{}",
        exit.screen
    );
}

/// A `--cacert` (or `--pin-cert`, `--cert`/`--key`) that is missing or not
/// PEM was only read at the TLS handshake: against a closed port the user
/// was told `Connection refused` (exit 3) and never about the file. Now it is
/// read before connecting, in every command: exit 2 naming the file.
#[test]
fn a_tls_file_that_is_missing_or_not_pem_was_blamed_on_the_connection_instead_of_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_pem = file_with(&dir, "ca.txt", "this is not a certificate\n");
    let missing = dir.path().join("nowhere.pem");
    let missing = missing.to_str().expect("utf-8 path");
    // A closed port: a command that got as far as connecting exits 3.
    let url = "wss://127.0.0.1:9/smq/";
    let commands: &[&[&str]] = &[
        &["sub", "T", "-W", "1s"],
        &["pub", "T", "x"],
        &["rpc", "XReq", "--timeout", "500ms"],
        &["serve", "XReq", "--echo"],
        &["trace", "-W", "1s"],
        &["bench", "pubsub"],
        &["bench", "rpc", "--call", "f"],
        &["bench", "connections"],
        &["simulate", "-n", "1", "-d", "1s"],
        &["shell"],
        &["check"],
    ];
    for args in commands {
        let out = run(smqctl()
            .args(*args)
            .args(["--cacert", &not_pem, "--url", url]));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("no PEM certificate found in {not_pem}")),
            "{args:?}: {err}"
        );
        assert!(!err.contains("refused"), "{args:?}: {err}");
    }
    let cases: &[(&[&str], &str)] = &[
        (&["--cacert", missing], "cannot read certificates from"),
        (&["--pin-cert", &not_pem], "no PEM certificate found in"),
        (
            &["--cert", &not_pem, "--key", &not_pem],
            "no PEM certificate found in",
        ),
    ];
    for (flags, says) in cases {
        let out = run(smqctl().args(["pub", "T", "x", "--url", url]).args(*flags));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
        assert!(err.contains(says), "{flags:?}: {err}");
    }
    // ws:// has no TLS: the files are not read (a warning says they are ignored).
    let out = run(smqctl().args(["pub", "T", "x", "--cacert", &not_pem, "--url", CLOSED]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

/// A handler file that is not TOML was reported with TOML's multi-line
/// snippet, which reached the terminal as `\n  |\n2 | …`; now it is the
/// file, the line and the reason, as for a scenario.
#[test]
fn a_handler_file_that_is_not_toml_was_reported_as_a_snippet_of_escaped_newlines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = file_with(&dir, "h.toml", "[[rpc]]\nname = \n");
    let out = BrokerProcess::fails(&["--handlers", &path]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("error: handler file {path}, line 2: ")),
        "{err}"
    );
    assert!(!err.contains("\\n") && !err.contains(" | "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// `bench connections --broker-pid` with a PID that is no process exited 1
/// (a run-time error) though it is checked before anything connects: it is
/// bad input, exit 2, naming the flag and the PID.
#[test]
fn bench_connections_broker_pid_of_no_process_exited_1_instead_of_2() {
    // A "broker" that only counts connections: nothing may reach it.
    let broker = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    broker.set_nonblocking(true).expect("nonblocking");
    let url = format!("ws://{}/", broker.local_addr().expect("addr"));
    // PIDs stop far below this (pid_max is at most 2^22).
    let out = run(smqctl().args([
        "bench",
        "connections",
        "--connections",
        "2",
        "--broker-pid",
        "99999999",
        "--url",
        &url,
    ]));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--broker-pid 99999999: cannot read /proc/99999999/status"),
        "{err}"
    );
    assert!(
        matches!(broker.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "it connected first"
    );
}
