//! Ctrl-C and SIGTERM stop every network command wherever it is waiting
//! (issue 11 §3, review of the shutdown work): reading a payload, at the
//! credentials prompt, in the shell's `rpc` load run, in a handshake that
//! never completes, while `simulate` and `bench` connect. Readiness comes from
//! the process's own output or from the kernel (its signal handlers are
//! installed), never from sleeps.

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use std::io::Write;

use serde_json::Value;

use crate::harness::{Running, STEP, TestBroker, json_lines, smqctl, text};
use crate::pty::PtyCommand;

/// Waits until `pid` catches SIGINT and SIGTERM (its handlers are installed,
/// `/proc/PID/status` SigCgt): from then on a signal is the command's to heed,
/// not the default action's.
fn signals_caught(pid: u32) {
    let deadline = Instant::now() + STEP;
    // Bit n-1 for signal n: SIGINT 2, SIGTERM 15.
    let want = (1u64 << 1) | (1u64 << 14);
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .unwrap_or(0);
        if caught & want == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "pid {pid} did not install its SIGINT/SIGTERM handlers within {STEP:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn pub_reading_its_payload_from_an_open_pipe_stops_on_sigterm_with_130() {
    // `pub t --stdin < fifo` (or `-f fifo`) whose writer never closes: the
    // synchronous read ran before any select!, so SIGTERM did nothing.
    for args in [
        &["pub", "t", "--stdin"][..],
        &["pub", "t", "-f", "/dev/stdin"],
    ] {
        let mut cmd = smqctl();
        // No broker needed: nothing is sent before the payload is read.
        cmd.args(args).args(["--url", "ws://127.0.0.1:9/"]);
        let (running, stdin) = Running::spawn_with_stdin(&mut cmd);
        signals_caught(running.pid());
        running.terminate();
        let out = running.wait();
        drop(stdin);
        assert_eq!(
            out.status.code(),
            Some(130),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("interrupted (SIGTERM) while reading the payload"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn credentials_prompt_stops_on_sigterm_and_ctrl_c_with_130_and_echo_back_on() {
    // At "Credentials: " SIGTERM did nothing (echo stayed off) and Ctrl-C
    // ended with 1: the blocking prompt ran before any select!.
    for how in ["SIGTERM", "SIGINT"] {
        let pty = PtyCommand::smqctl(&[
            "sub",
            "t",
            "--ask-credentials",
            "--url",
            "ws://127.0.0.1:9/",
        ])
        .start();
        pty.wait_for("the credentials prompt", |s| s.contains("Credentials:"));
        // Typed at the prompt: not echoed.
        pty.text("sekrit");
        if how == "SIGTERM" {
            let pid = i32::try_from(pty.pid()).expect("pid fits");
            kill(Pid::from_raw(pid), Signal::SIGTERM).expect("kill -TERM");
        } else {
            // Ctrl-C in the terminal: SIGINT to the foreground process.
            pty.keys(&["C-c"]);
        }
        let exit = pty.wait_exit();
        assert_eq!(exit.code, Some(130), "{how}: {}", exit.screen);
        assert!(
            exit.screen
                .contains(&format!("interrupted ({how}) at the credentials prompt")),
            "{how}: {}",
            exit.screen
        );
        assert!(
            !exit.screen.contains("sekrit"),
            "{how}: echoed: {}",
            exit.screen
        );
        pty.assert_restored();
    }
}

#[test]
fn shell_rpc_load_interrupted_prints_its_partial_results() {
    // In the shell the rpc load saw the signal, aborted its issuer and then
    // waited for it (Pending): the shell's own signal branch dropped it, and
    // the "M of N calls" summary was lost.
    let broker = TestBroker::start();
    let url = broker.url("ws");
    for format in ["pretty", "json"] {
        // A responder per run: what one run left unread on its stdout must not
        // count as the next run's calls.
        let uid = format!("sig-serve-{format}");
        let mut serve = Running::spawn(
            smqctl().args(["serve", "EchoReq", "--echo", "--url", &url, "--uid", &uid]),
        );
        let line = serve.stderr_line("as ETID");
        let etid = line.rsplit(' ').next().expect("etid").to_string();
        let mut cmd = smqctl();
        cmd.args(["shell", "--script", "-", "--url", &url]);
        let (shell, mut stdin) = Running::spawn_with_stdin(&mut cmd);
        writeln!(
            stdin,
            "rpc EchoReq --to {etid} --count 100000000 --concurrency 1 -F {format}"
        )
        .expect("write the script");
        // One call at a time: the 5th request served means 4 calls completed.
        for _ in 0..5 {
            serve.stdout_line();
        }
        shell.terminate();
        let out = shell.wait();
        drop(stdin);
        assert_eq!(
            out.status.code(),
            Some(130),
            "{format}: {}",
            text(&out.stderr)
        );
        let stdout = text(&out.stdout);
        if format == "json" {
            let s: &Value = &json_lines(&out)[0];
            assert_eq!(s["interrupted"], true, "{s}");
            assert!(s["completed"].as_u64().expect("completed") >= 4, "{s}");
        } else {
            assert!(
                stdout.contains(" of 100000000 calls, concurrency 1, ")
                    && stdout.contains("(SIGTERM)"),
                "{stdout}\n{}",
                text(&out.stderr)
            );
        }
    }
}

/// A listener on 127.0.0.1:0 that accepts and never answers; `accepted` gets
/// one message per connection it holds.
fn silent_listener() -> (String, std::sync::mpsc::Receiver<std::net::TcpStream>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(s) = s else { return };
            // The test holds the socket open: nothing is read or written.
            if tx.send(s).is_err() {
                return;
            }
        }
    });
    (format!("http://{addr}/smq/"), rx)
}

#[test]
fn a_stuck_handshake_does_not_delay_the_exit_after_ctrl_c() {
    // open() held a live-connection membership but never watched closing():
    // close_all waited its full 3 s for a connection that was never made.
    let (url, accepted) = silent_listener();
    let running =
        Running::spawn(smqctl().args(["pub", "t", "x", "--connect-timeout", "60s", "--url", &url]));
    let _held = accepted.recv_timeout(STEP).expect("smqctl connects");
    signals_caught(running.pid());
    let asked = Instant::now();
    running.interrupt();
    let out = running.wait();
    let took = asked.elapsed();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(
        took < Duration::from_secs(2),
        "exit took {took:?} after SIGINT"
    );
}

/// A broker (raw http:// transport) that completes the handshake, then reads
/// nothing and answers nothing: a Disconnect is never acknowledged by a close.
fn deaf_broker() -> (String, std::sync::mpsc::Receiver<std::net::TcpStream>) {
    use smqctl::protocol::framing::{decode_raw, encode_raw};
    use smqctl::protocol::{Connack, Init, Packet};
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if !matches!(s.read(&mut b), Ok(1)) {
                        return;
                    }
                    head.push(b[0]);
                }
                let mut hello = b"HTTP/1.1 200 OK\r\nSmqBroker: true\r\n\r\n".to_vec();
                let init = Packet::Init(Init {
                    version: 1,
                    seed: 7,
                    client_ip: bytes::Bytes::from_static(b"127.0.0.1"),
                });
                hello.extend_from_slice(&encode_raw(&init).expect("encodable"));
                if s.write_all(&hello).is_err() {
                    return;
                }
                let mut buf = bytes::BytesMut::new();
                let mut chunk = [0u8; 4096];
                while !matches!(decode_raw(&mut buf), Ok(Some(_))) {
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let connack = Packet::Connack(Connack::accepted(60));
                if s.write_all(&encode_raw(&connack).expect("encodable"))
                    .is_ok()
                {
                    let _ = tx.send(s);
                }
            });
        }
    });
    (format!("http://{addr}/smq/"), rx)
}

#[test]
fn a_second_signal_ends_a_slow_goodbye_at_once_with_130() {
    // After the first signal a connection whose broker never answers the
    // goodbye held the exit for the close deadline (3 s); a second signal
    // did not help.
    let (url, connected) = deaf_broker();
    let running = Running::spawn(smqctl().args(["sub", "t", "-C", "1", "--url", &url]));
    let _held = connected.recv_timeout(STEP).expect("smqctl connects");
    signals_caught(running.pid());
    let asked = Instant::now();
    // Two kinds, so the two cannot merge into one delivery.
    running.interrupt();
    running.terminate();
    let out = running.wait();
    let took = asked.elapsed();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(
        took < Duration::from_millis(1500),
        "exit took {took:?} after the second signal"
    );
}

#[test]
fn simulate_stopped_while_connecting_still_reports() {
    // The probe and the --verify subscriber connected before any select!:
    // SIGTERM waited for the connect timeout, and no summary came.
    let (url, accepted) = silent_listener();
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.json");
    let report_arg = report.to_str().expect("utf-8 path");
    let running = Running::spawn(smqctl().args([
        "simulate",
        "-n",
        "2",
        "--duration",
        "10m",
        "--verify",
        "--connect-timeout",
        "60s",
        "--format",
        "json",
        "--report",
        report_arg,
        "--url",
        &url,
    ]));
    let _held = accepted.recv_timeout(STEP).expect("the probe connects");
    signals_caught(running.pid());
    running.terminate();
    let out = running.wait();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    let summary = lines
        .iter()
        .find(|v| v["type"] == "summary")
        .unwrap_or_else(|| panic!("no summary line: {}", text(&out.stdout)));
    assert_eq!(summary["peak_online"], 0, "{summary}");
    let written = std::fs::read_to_string(&report).expect("the --report file is written");
    let v: Value = serde_json::from_str(&written).expect("the report is JSON");
    assert_eq!(v["peak_online"], 0, "{v}");
}

#[test]
fn bench_pubsub_stopped_while_connecting_exits_130_with_what_it_has() {
    let (url, accepted) = silent_listener();
    let running = Running::spawn(smqctl().args([
        "bench",
        "pubsub",
        "--connect-timeout",
        "60s",
        "--format",
        "json",
        "--url",
        &url,
    ]));
    let _held = accepted
        .recv_timeout(STEP)
        .expect("the first client connects");
    signals_caught(running.pid());
    running.terminate();
    let out = running.wait();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let s: &Value = &json_lines(&out)[0];
    assert_eq!(s["interrupted"], true, "{s}");
    assert_eq!(s["connected"], 0, "{s}");
    assert_eq!(s["sent"], 0, "{s}");
}
