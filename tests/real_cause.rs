//! Errors that name the real cause (issue 14): each fake below (a plain web
//! server, a redirecting front, a port that resets, a refused port, a name
//! that does not resolve) against the real binary, and what it must say.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::harness::{TestBroker, json_lines, publish, ready_sub, run, smqctl, text};

/// Reads one HTTP request head; `None` when the peer goes first.
fn read_head(s: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b).ok()? == 0 {
            return None;
        }
        head.push(b[0]);
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// A server that answers every connection with `answer(request head)` and
/// keeps the connection open a while (so only the answer can end a wait).
fn fake(answer: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            let answer = answer.clone();
            std::thread::spawn(move || {
                if let Some(head) = read_head(&mut s) {
                    let _ = s.write_all(&answer(&head));
                }
                std::thread::sleep(Duration::from_secs(20));
            });
        }
    });
    addr
}

fn pub_to(url: &str) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let out = run(smqctl().args(["pub", "T", "x", "--connect-timeout", "20s", "--url", url]));
    (out, started.elapsed())
}

fn assert_says(out: &std::process::Output, code: i32, says: &[&str]) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{err}");
    for s in says {
        assert!(err.contains(s), "wanted {s:?} in {err}");
    }
}

#[test]
fn a_web_server_that_is_not_smq_was_called_a_closed_broker_or_an_http_version_error() {
    let web = fake(|_| {
        b"HTTP/1.1 200 OK\r\nServer: nginx/1.25.3\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>"
            .to_vec()
    });
    let old = fake(|_| b"HTTP/1.0 404 Not Found\r\nServer: tinyhttpd/0.1\r\n\r\n".to_vec());
    for (addr, status, server) in [
        (web, "200 OK", "Server: nginx/1.25.3"),
        (old, "404 Not Found", "Server: tinyhttpd/0.1"),
    ] {
        for scheme in ["http", "ws"] {
            let (out, took) = pub_to(&format!("{scheme}://{addr}/"));
            assert_says(
                &out,
                3,
                &[
                    "is an HTTP server but not an SMQ endpoint",
                    status,
                    server,
                    "check the URL path",
                ],
            );
            assert!(took < Duration::from_secs(10), "{scheme}: took {took:?}");
        }
    }
}

/// A front that answers `/smq` with a redirect to `location` and passes
/// every other request to `broker` byte for byte (as Mako serves `/smq/`).
fn redirecting_front(
    broker: SocketAddr,
    location: impl Fn(SocketAddr) -> String + Send + Sync + 'static,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            let location = location(addr);
            std::thread::spawn(move || {
                let Some(head) = read_head(&mut s) else {
                    return;
                };
                if head.starts_with("GET /smq ") {
                    let _ = s.write_all(
                        format!(
                            "HTTP/1.1 302 Found\r\nServer: BarracudaServer.com (Posix)\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    std::thread::sleep(Duration::from_secs(20));
                    return;
                }
                let Ok(mut up) = TcpStream::connect(broker) else {
                    return;
                };
                if up.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let (Ok(mut up2), Ok(mut s2)) = (up.try_clone(), s.try_clone()) else {
                    return;
                };
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut up2, &mut s2);
                    let _ = s2.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut s, &mut up);
                let _ = up.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    addr
}

#[test]
fn mako_302_from_smq_to_smq_slash_was_printed_as_an_error_instead_of_followed() {
    let broker = TestBroker::start();
    let same = redirecting_front(broker.addr, |me| format!("http://{me}/smq/"));
    let relative = redirecting_front(broker.addr, |_| "/smq/".to_string());
    for front in [same, relative] {
        for scheme in ["ws", "http"] {
            let url = format!("{scheme}://{front}/smq");
            let (sub, _) = ready_sub(&url, &["Redirected", "-C", "1", "-W", "10s"]);
            publish(&url, &["Redirected", "followed"]);
            let out = sub.wait();
            assert!(out.status.success(), "{url}: {}", text(&out.stderr));
            assert_eq!(json_lines(&out)[0]["payload"], "followed", "{url}");
        }
    }
    // Another host (or port) is not followed: the error says where it points.
    let away = redirecting_front(broker.addr, |_| {
        "http://user:secret@localhost:1/smq/".to_string()
    });
    for scheme in ["ws", "http"] {
        let (out, _) = pub_to(&format!("{scheme}://{away}/smq"));
        assert_says(
            &out,
            3,
            &["302 Found", "pointing to http://localhost:1/smq/", "--url"],
        );
        assert!(
            !text(&out.stderr).contains("secret"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_reset_connection_was_answered_with_is_the_broker_running() {
    // Accepts, reads the request, then resets (SO_LINGER 0 and close).
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            let _ = read_head(&mut s);
            let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
            drop(s);
        }
    });
    for scheme in ["http", "ws"] {
        let (out, _) = pub_to(&format!("{scheme}://{addr}/smq/"));
        assert_says(&out, 3, &["reset the connection"]);
        assert!(
            !text(&out.stderr).contains("is the broker running"),
            "{}",
            text(&out.stderr)
        );
    }
    // A refused port keeps its hint.
    let closed = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let (out, _) = pub_to(&format!("ws://{closed}/smq/"));
    assert_says(&out, 3, &["refused", "is the broker running?"]);
}

#[test]
fn a_host_name_that_does_not_resolve_was_answered_with_is_the_broker_running() {
    // In a network namespace of our own (no interface up, no DNS server
    // reachable) so no lookup leaves the machine.
    if !std::process::Command::new("unshare")
        .args(["-rn", "true"])
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("skipped: cannot create a network namespace here");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_smqctl");
    let out = run(std::process::Command::new("unshare")
        .args([
            "-rn",
            bin,
            "pub",
            "T",
            "x",
            "--url",
            "ws://no-such-host.invalid/smq/",
        ])
        .env_remove("SMQCTL_URL"));
    assert_says(
        &out,
        3,
        &["the host name does not resolve", "check the host name"],
    );
    assert!(
        !text(&out.stderr).contains("is the broker running"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn tui_to_a_refused_port_or_a_404_url_exited_2_instead_of_3_as_trace_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let closed = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let not_found =
        fake(|_| b"HTTP/1.1 404 Not Found\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n".to_vec());
    for (url, says) in [
        (format!("ws://{closed}/smq/"), "refused"),
        (format!("ws://{not_found}/nope"), "404"),
    ] {
        let trace = run(smqctl().args(["trace", "-W", "5s", "--url", &url]));
        assert_eq!(trace.status.code(), Some(3), "{}", text(&trace.stderr));
        let term = crate::pty::Pty::start(dir.path(), &["tui", "--url", &url], 120, 24);
        term.wait_for("the error in the status line", |s| s.contains(says));
        term.keys(&["q"]);
        let exit = term.wait_exit();
        assert_eq!(exit.code, Some(3), "{url}: {exit:?}");
    }
}

#[test]
fn rpc_id_field_the_handler_does_not_echo_threw_replies_away_and_timed_out_call_after_call() {
    let broker = TestBroker::with_handlers(
        r#"
[[request]]
name = "NoEchoReq"
reply = '{"ok":true}'
"#,
    );
    let url = broker.url("ws");
    let started = Instant::now();
    let one = run(smqctl().args([
        "rpc",
        "NoEchoReq",
        "{}",
        "--id-field",
        "rid",
        "--timeout",
        "20s",
        "--url",
        &url,
    ]));
    assert_says(
        &one,
        5,
        &["a reply arrived without `rid`: the handler does not echo it"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let load = run(smqctl().args([
        "rpc",
        "NoEchoReq",
        "{}",
        "--id-field",
        "rid",
        "--count",
        "50",
        "--concurrency",
        "5",
        "--timeout",
        "20s",
        "-F",
        "pretty",
        "--url",
        &url,
    ]));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(load.status.code(), Some(5), "{}", text(&load.stderr));
    let out = text(&load.stdout);
    assert_eq!(
        out.matches("a reply arrived without `rid`").count(),
        1,
        "said once: {out}"
    );
    assert!(out.contains("unmatched replies"), "{out}");
    assert!(out.contains("no id 50"), "{out}");
}

#[test]
fn a_silent_port_timed_out_without_saying_it_may_be_the_other_scheme() {
    // Reads whatever comes and never answers: a plain server waiting for the
    // end of an "HTTP head" that is our ClientHello, or a TLS port reading our
    // HTTP request as a record.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut b = [0u8; 4096];
                while s.read(&mut b).unwrap_or(0) > 0 {}
            });
        }
    });
    for (scheme, says) in [
        ("wss", "in the TLS handshake with"),
        ("https", "try http://"),
        ("ws", "try wss://"),
        ("http", "waiting for the HTTP answer of"),
    ] {
        let out = run(smqctl().args([
            "pub",
            "T",
            "x",
            "--connect-timeout",
            "1s",
            "--url",
            &format!("{scheme}://{addr}/smq/"),
        ]));
        assert_says(&out, 3, &[says]);
    }
}

#[test]
fn a_server_that_closes_without_answering_was_called_the_broker_closing_the_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            let _ = read_head(&mut s);
            drop(s);
        }
    });
    for (scheme, try_) in [("http", "try https://"), ("ws", "try wss://")] {
        let (out, _) = pub_to(&format!("{scheme}://{addr}/smq/"));
        assert_says(
            &out,
            3,
            &[
                "closed the connection without answering the SMQ request",
                try_,
            ],
        );
        assert!(
            !text(&out.stderr).contains("Handshake not finished"),
            "{}",
            text(&out.stderr)
        );
    }
}
