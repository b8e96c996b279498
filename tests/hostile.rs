//! A hostile fake broker (raw `http://` transport on 127.0.0.1:0, just enough SMQ
//! for a handshake) run against the client commands: every command ends with
//! its documented exit code within its timeout, prints no broker-supplied
//! control characters, and never panics.
//!
//! The table below is the spec: behaviour × command → exit code.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use smqctl::protocol::framing::{decode_raw, encode_raw};
use smqctl::protocol::{Ack, Connack, Init, Packet, Publish};

use crate::harness::{run, smqctl, text};

/// Reason text that would clear the screen, set the title and forge a line.
const EVIL: &str = "\x1b[2J\x1b]0;pwned\x07\rFAKE: ok";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Hostile {
    /// Connack, then nothing: no Createack, Suback, Createsuback ever.
    NeverAck,
    /// Every request is acked with another name (no answer to it).
    WrongName,
    /// Connack, then an undecodable packet.
    GarbageAfterConnack,
    /// Connack, then a raw length of 0xFFFF and only a few bytes of it.
    HugeFrameThenSilence,
    /// Acks as a broker should, while sending Ping after Ping.
    PingFlood,
    /// Acks, then 65,000-byte publishes to every topic it handed out.
    HugePayloads,
    /// Refuses the Connect with a reason full of escape sequences.
    EvilConnackReason,
    /// Accepts, then sends Disconnect with a reason full of escape sequences.
    EvilDisconnectReason,
    /// Acks as a broker should, answers no call, and drops the connection
    /// when the second Publish arrives (a broker killed under load).
    DiesAtTheSecondPublish,
    /// Acks the first request, then never reads again (small receive
    /// buffer) while keeping the connection open.
    StopsReadingAfterTheFirstAck,
}

struct FakeBroker {
    url: String,
}

fn frame(p: &Packet) -> Bytes {
    encode_raw(p).expect("encodable")
}

fn read_head(s: &mut TcpStream) -> Option<()> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b).ok()? == 0 {
            return None;
        }
        head.push(b[0]);
    }
    Some(())
}

/// Reads packets until the peer goes or `on` says stop.
fn read_packets(mut s: TcpStream, mut on: impl FnMut(Packet) -> bool) {
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 8192];
    loop {
        match decode_raw(&mut buf) {
            Ok(Some(body)) => {
                if let Ok(p) = Packet::decode(body)
                    && !on(p)
                {
                    return;
                }
                continue;
            }
            Ok(None) => {}
            Err(_) => return,
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn serve(mut s: TcpStream, how: Hostile) {
    let _ = s.set_nodelay(true);
    if read_head(&mut s).is_none() {
        return;
    }
    let head = b"HTTP/1.1 200 OK\r\nSmqBroker: true\r\n\r\n";
    let init = Packet::Init(Init {
        version: 1,
        seed: 7,
        client_ip: Bytes::from_static(b"127.0.0.1"),
    });
    let mut hello = head.to_vec();
    hello.extend_from_slice(&frame(&init));
    if s.write_all(&hello).is_err() {
        return;
    }
    // Wait for the Connect.
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Ok(Some(_connect)) = decode_raw(&mut buf) {
            break;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let etid = 50;
    if how == Hostile::EvilConnackReason {
        let refuse = Packet::Connack(Connack {
            code: 6,
            etid: 0,
            reason: Bytes::from_static(EVIL.as_bytes()),
        });
        let _ = s.write_all(&frame(&refuse));
        std::thread::sleep(Duration::from_millis(200));
        return;
    }
    if s.write_all(&frame(&Packet::Connack(Connack::accepted(etid))))
        .is_err()
    {
        return;
    }
    let writer = Arc::new(Mutex::new(s.try_clone().expect("clone socket")));
    let send = {
        let writer = writer.clone();
        move |bytes: &[u8]| {
            writer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .write_all(bytes)
                .is_ok()
        }
    };
    match how {
        Hostile::GarbageAfterConnack => {
            send(&[0x00, 0x06, 0xEE, 0x01, 0x02, 0x03]);
        }
        Hostile::HugeFrameThenSilence => {
            send(&[0xFF, 0xFF, 0x08, 0x00]);
        }
        Hostile::EvilDisconnectReason => {
            send(&frame(&Packet::Disconnect {
                reason: Bytes::from_static(EVIL.as_bytes()),
            }));
            std::thread::sleep(Duration::from_millis(200));
            return;
        }
        Hostile::PingFlood => {
            let send = send.clone();
            std::thread::spawn(move || {
                let ping = frame(&Packet::Ping);
                let burst: Vec<u8> = ping.iter().copied().cycle().take(ping.len() * 64).collect();
                // 64 Pings a millisecond; the pause lets the acks take the
                // socket's lock now and then.
                while send(&burst) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            });
        }
        _ => {}
    }
    let tids: Arc<Mutex<Vec<u32>>> = Arc::default();
    if how == Hostile::HugePayloads {
        let send = send.clone();
        let tids = tids.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            loop {
                let now: Vec<u32> = tids.lock().unwrap_or_else(|e| e.into_inner()).clone();
                for tid in now {
                    n += 1;
                    let p = Packet::Publish(Publish {
                        tid,
                        ptid: 60,
                        subtid: 0,
                        payload: Bytes::from(vec![b'A' + (n % 26) as u8; 65_000]),
                    });
                    if !send(&frame(&p)) {
                        return;
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
    }
    let mut next = 100u32;
    let mut publishes = 0;
    read_packets(s, |p| {
        let (name, ack): (Bytes, fn(Ack) -> Packet) = match p {
            Packet::Subscribe { topic } => (topic, Packet::Suback),
            Packet::Create { topic } => (topic, Packet::Createack),
            Packet::Createsub { subtopic } => (subtopic, Packet::Createsuback),
            Packet::Publish(_) => {
                publishes += 1;
                return !(how == Hostile::DiesAtTheSecondPublish && publishes == 2);
            }
            _ => return true,
        };
        let name = match how {
            Hostile::NeverAck | Hostile::GarbageAfterConnack | Hostile::HugeFrameThenSilence => {
                return true;
            }
            Hostile::WrongName => {
                let mut other = name.to_vec();
                other.extend_from_slice(b"-not-yours");
                Bytes::from(other)
            }
            _ => name,
        };
        next += 1;
        tids.lock().unwrap_or_else(|e| e.into_inner()).push(next);
        send(&frame(&ack(Ack {
            status: 0,
            tid: next,
            name,
        })));
        if how == Hostile::StopsReadingAfterTheFirstAck {
            let _ = socket2::SockRef::from(&*writer.lock().unwrap_or_else(|e| e.into_inner()))
                .set_recv_buffer_size(4096);
            std::thread::sleep(Duration::from_secs(60));
            return false;
        }
        true
    });
    let _ = writer
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .shutdown(std::net::Shutdown::Both);
}

impl FakeBroker {
    fn start(how: Hostile) -> FakeBroker {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(s) = s else { return };
                std::thread::spawn(move || serve(s, how));
            }
        });
        FakeBroker {
            url: format!("http://{addr}/smq/"),
        }
    }
}

/// The command lines under test; every deadline is 2 s.
fn command(name: &str, url: &str, script: &std::path::Path) -> Vec<String> {
    let base: &[&str] = match name {
        // -W beyond --connect-timeout: an unacknowledged Subscribe ends it first.
        "sub" => &["sub", "T1", "-C", "1", "-W", "5s"],
        "pub" => &["pub", "T1", "hello"],
        "rpc" => &["rpc", "FooReq", "{}", "--timeout", "2s"],
        "call" => &["rpc", "--call", "add", "1", "2", "--timeout", "2s"],
        // A reconnecting shell waits out its backoff (up to 30 s) for the link
        // to return, by design; a script that must not wait says so.
        "shell" => &["shell", "--no-reconnect", "--script"],
        "trace" => &["trace", "-W", "2s", "--attach-timeout", "1s"],
        other => panic!("unknown command {other}"),
    };
    let mut v: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    if name == "shell" {
        v.push(script.display().to_string());
    }
    v.extend(["--connect-timeout", "2s", "--url", url].map(String::from));
    v
}

#[test]
fn hostile_brokers_never_hang_a_command_and_every_exit_is_the_documented_one() {
    use Hostile::*;
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("sub-then-wait.smq");
    std::fs::write(&script, "sub T1\nwait -W 2s\n").expect("write script");
    let commands = ["sub", "pub", "rpc", "call", "shell", "trace"];
    // Exit codes per command, in the order of `commands`: 3 = setup not
    // acknowledged within --connect-timeout, 4 = refused, 5 = the command's own
    // timeout, 6 = connection lost.
    let table: &[(Hostile, [i32; 6])] = &[
        (NeverAck, [3, 3, 5, 5, 3, 5]),
        (WrongName, [3, 3, 5, 5, 3, 5]),
        (GarbageAfterConnack, [6, 6, 6, 6, 6, 6]),
        (HugeFrameThenSilence, [3, 3, 5, 5, 3, 5]),
        (PingFlood, [5, 0, 5, 5, 5, 5]),
        (HugePayloads, [0, 0, 5, 5, 0, 5]),
        (EvilConnackReason, [4, 4, 4, 4, 4, 4]),
        (EvilDisconnectReason, [6, 6, 6, 6, 6, 6]),
    ];
    // Deadlines are 2 s (connect, ack, --timeout, -W); a loaded machine gets
    // generous slack, a hang does not.
    let limit = Duration::from_secs(12);
    // One thread per behaviour: the runs mostly wait on timers.
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = table
            .iter()
            .map(|(how, codes)| scope.spawn(|| check(*how, codes, &commands, &script, limit)))
            .collect();
        runs.into_iter()
            .flat_map(|r| r.join().expect("no panic in a check"))
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs every command against one hostile behaviour; returns what went wrong.
fn check(
    how: Hostile,
    codes: &[i32; 6],
    commands: &[&str; 6],
    script: &std::path::Path,
    limit: Duration,
) -> Vec<String> {
    let mut failures = Vec::new();
    {
        let broker = FakeBroker::start(how);
        for (cmd, want) in commands.iter().zip(codes) {
            let argv = command(cmd, &broker.url, script);
            let mut c = smqctl();
            c.args(&argv);
            let started = Instant::now();
            let out = run(&mut c);
            let took = started.elapsed();
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            let code = out.status.code().unwrap_or(-1);
            let mut wrong = Vec::new();
            if code != *want {
                wrong.push(format!("exit {code}, want {want}"));
            }
            if took > limit {
                wrong.push(format!("took longer than {limit:?}"));
            }
            if stderr.contains("panicked") {
                wrong.push("panicked".into());
            }
            let printed = format!("{stdout}{stderr}");
            if printed.contains('\x1b') || printed.contains('\x07') || printed.contains('\r') {
                wrong.push("printed raw control characters".into());
            }
            if !wrong.is_empty() {
                failures.push(failure(how, cmd, &argv, code, *want, took, &wrong, &stderr));
            }
        }
    }
    failures
}

/// One failed cell of the table, readable on its own: behaviour, command,
/// exit got and wanted, how long it ran, the command line and the last lines
/// of stderr (escaped: the broker's text may hold control characters).
#[allow(clippy::too_many_arguments)]
fn failure(
    how: Hostile,
    cmd: &str,
    argv: &[String],
    code: i32,
    want: i32,
    took: Duration,
    wrong: &[String],
    stderr: &str,
) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let tail = lines[lines.len().saturating_sub(6)..]
        .iter()
        .map(|l| format!("\n    | {l:?}"))
        .collect::<String>();
    format!(
        "{how:?} × {cmd}: exit {code} (want {want}) after {took:.2?}: {}\n  argv: smqctl {}\n  stderr (last {} of {} lines):{tail}",
        wrong.join(", "),
        argv.join(" "),
        lines.len().min(6),
        lines.len(),
    )
}

/// `trace -W 2s --connect-timeout 2s` against a broker that never acks the
/// tracer's Createsub exited 3 ("not acknowledged") instead of 5 (timed out)
/// when the scheduler let the session connect before -W's clock started, or
/// ran the main task late enough that the session's end and -W were both
/// ready. Many traces at once, every deadline equal: each one must say 5.
#[test]
fn trace_w_and_an_unacked_setup_with_equal_deadlines_exited_3_or_5_by_scheduling() {
    let brokers = [
        FakeBroker::start(Hostile::NeverAck),
        FakeBroker::start(Hostile::WrongName),
    ];
    let results: Vec<(i32, Duration, String)> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..12)
            .map(|i| {
                let url = brokers[i % 2].url.clone();
                scope.spawn(move || {
                    let started = Instant::now();
                    let out = run(smqctl().args([
                        "trace",
                        "-W",
                        "1s",
                        "--attach-timeout",
                        "1s",
                        "--connect-timeout",
                        "1s",
                        "--url",
                        &url,
                    ]));
                    (
                        out.status.code().unwrap_or(-1),
                        started.elapsed(),
                        text(&out.stderr),
                    )
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("no panic in a run"))
            .collect()
    });
    let wrong: Vec<String> = results
        .iter()
        .filter(|(code, _, _)| *code != 5)
        .map(|(code, took, err)| format!("exit {code} (want 5) after {took:.2?}: {err:?}"))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn rpc_load_after_a_broker_kill_counts_calls_never_sent_apart_from_calls_lost_in_flight() {
    // It reported "lost 68,021" for calls that never left.
    let broker = FakeBroker::start(Hostile::DiesAtTheSecondPublish);
    let out = run(smqctl().args([
        "rpc",
        "--call",
        "add",
        "1",
        "2",
        "--count",
        "100",
        "-c",
        "2",
        "--timeout",
        "10s",
        "--format",
        "json",
        "--url",
        &broker.url,
    ]));
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(text(&out.stdout).trim()).expect("one JSON summary");
    // Two calls were in flight when the broker went; 98 never left.
    assert_eq!(
        (summary["lost"].as_u64(), summary["not_sent"].as_u64()),
        (Some(2), Some(98)),
        "{summary}"
    );
    let pretty = run(smqctl().args([
        "rpc",
        "--call",
        "add",
        "--count",
        "10",
        "-c",
        "2",
        "--timeout",
        "10s",
        "-F",
        "pretty",
        "--url",
        &broker.url,
    ]));
    let shown = text(&pretty.stdout);
    assert!(shown.contains("lost 2  not sent 8"), "{shown}");
}

#[test]
fn pub_final_flush_had_no_deadline_so_a_broker_that_stops_reading_hung_it() {
    // The broker acks the Create, then reads nothing more: once the kernel
    // buffers are full, every write waits. They are bounded by
    // --connect-timeout now; `pub` ends with exit 6 (connection lost).
    let fake = FakeBroker::start(Hostile::StopsReadingAfterTheFirstAck);
    let payload = "x".repeat(60_000);
    let started = Instant::now();
    let out = run(smqctl().args([
        "pub",
        "T1",
        &payload,
        "--count",
        "5000",
        "--connect-timeout",
        "2s",
        "--url",
        &fake.url,
    ]));
    let took = started.elapsed();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("stopped reading"), "{err}");
    // 2 s without progress, plus connecting and filling the buffers.
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

/// SIGTERM after the broker has accepted the Connect but before its Connack
/// reached the client: the exit (`client::close_all`) abandoned the
/// handshake and dropped the socket, so a broker that had registered the
/// client (and told its tracers) logged a reset, not "client sent
/// Disconnect". (`exits.rs`'s SIGTERM test waited for the broker's connect
/// event and signalled at once: on a loaded machine the Connack was often
/// still on its way.) This broker holds the Connack until the signal has
/// had time to stop the command: the client must wait for it and leave
/// with Disconnect.
#[test]
fn sigterm_with_the_connack_on_its_way_still_ends_with_disconnect() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/smq/", listener.local_addr().expect("addr"));
    for args in [&["sub", "t"][..], &["trace"][..]] {
        let mut cmd = smqctl();
        cmd.args(args)
            .args(["--connect-timeout", "30s", "--url", &url]);
        let client = crate::harness::Running::spawn(&mut cmd);
        let (mut s, _) = listener.accept().expect("the client connects");
        s.set_read_timeout(Some(crate::harness::STEP))
            .expect("timeout");
        read_head(&mut s).expect("the HTTP head");
        let init = Packet::Init(Init {
            version: 1,
            seed: 7,
            client_ip: Bytes::from_static(b"127.0.0.1"),
        });
        let mut hello = b"HTTP/1.1 200 OK\r\nSmqBroker: true\r\n\r\n".to_vec();
        hello.extend_from_slice(&frame(&init));
        s.write_all(&hello).expect("head and Init");
        let mut buf = BytesMut::new();
        let mut chunk = [0u8; 4096];
        while decode_raw(&mut buf).expect("a frame").is_none() {
            let n = s.read(&mut chunk).expect("the Connect");
            assert!(n > 0, "{args:?}: closed before its Connect");
            buf.extend_from_slice(&chunk[..n]);
        }
        // Accepted, as far as this broker is concerned; the Connack waits.
        client.terminate();
        // A window, not a synchronisation: the client stops on the signal
        // within it (the defect dropped the socket then); a slower one only
        // makes this run check less, never fail. Well inside the 3 s the
        // exit gives its connections to close.
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        match s.read(&mut chunk) {
            Ok(0) => panic!("{args:?}: the client dropped an accepted connect on SIGTERM"),
            Ok(n) => panic!("{args:?}: {n} bytes before the Connack"),
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "{args:?}: {e}"
            ),
        }
        s.write_all(&frame(&Packet::Connack(Connack::accepted(50))))
            .expect("Connack");
        s.set_read_timeout(Some(crate::harness::STEP))
            .expect("timeout");
        let mut seen = Vec::new();
        read_packets(s, |p| {
            let done = matches!(p, Packet::Disconnect { .. });
            seen.push(p.name());
            !done
        });
        assert_eq!(
            seen.last(),
            Some(&"Disconnect"),
            "{args:?}: what came after the Connack"
        );
        let out = client.wait();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}
