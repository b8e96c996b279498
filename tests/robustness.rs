//! Misbehaving clients: each bad connection is closed and nobody else notices.
//! A hand-rolled raw-socket client sends exactly the bytes under test while a
//! real `smqctl sub` keeps receiving.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::harness::{TestBroker, json_lines, publish, ready_sub};

/// A raw-transport connection after a completed handshake.
struct RawClient {
    s: TcpStream,
    etid: u32,
}

fn read_frame(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let n = u16::from_be_bytes(len) as usize;
    let mut body = vec![0u8; n.saturating_sub(2)];
    s.read_exact(&mut body)?;
    Ok(body)
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut v = ((body.len() + 2) as u16).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

impl RawClient {
    fn connect(broker: &TestBroker, uid: &str) -> RawClient {
        let mut s = TcpStream::connect(broker.addr).expect("tcp");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s.write_all(b"GET /smq/ HTTP/1.1\r\nHost: x\r\nSimpleMQ: 1\r\n\r\n")
            .expect("head");
        let init = read_frame(&mut s).expect("Init");
        assert_eq!(init[0], 1, "Init first");
        let mut connect = vec![2u8, 1, uid.len() as u8];
        connect.extend_from_slice(uid.as_bytes());
        connect.push(0);
        s.write_all(&frame(&connect)).expect("Connect");
        let connack = read_frame(&mut s).expect("Connack");
        assert_eq!(&connack[..2], &[3, 0], "accepted");
        let etid = u32::from_be_bytes([connack[2], connack[3], connack[4], connack[5]]);
        RawClient { s, etid }
    }

    /// Reads until the broker closes; returns the packets that came before.
    fn until_closed(&mut self) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        loop {
            match read_frame(&mut self.s) {
                Ok(p) => got.push(p),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    panic!("broker did not close the connection; got {got:?}")
                }
                Err(_) => return got,
            }
        }
    }
}

#[test]
fn forged_publisher_etid_closes_only_the_forger() {
    let broker = TestBroker::start();
    let url = broker.url("http");
    let (sub, _) = ready_sub(&url, &["Shared", "-C", "1", "-W", "10s"]);
    let mut forger = RawClient::connect(&broker, "forger-01");
    // Create "Shared" to learn its TID.
    forger.s.write_all(&frame(b"\x06Shared")).expect("Create");
    let ack = read_frame(&mut forger.s).expect("Createack");
    let tid = &ack[2..6];
    let mut p = vec![8u8];
    p.extend_from_slice(tid);
    p.extend_from_slice(&(forger.etid ^ 1).to_be_bytes()); // not our ETID
    p.extend_from_slice(&[0, 0, 0, 0]);
    p.extend_from_slice(b"forged");
    forger.s.write_all(&frame(&p)).expect("forged publish");
    let last = forger.until_closed();
    assert_eq!(
        last.last().map(Vec::as_slice),
        Some(&b"\x0bcorrupt frame"[..])
    );
    // Others are unaffected: the subscriber gets the next honest message only.
    publish(&url, &["Shared", "honest"]);
    let lines = json_lines(&sub.wait());
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["payload"], "honest");
}

#[test]
fn malformed_and_truncated_packets_close_only_that_connection() {
    let broker = TestBroker::start();
    let url = broker.url("ws");
    let (sub, _) = ready_sub(&url, &["Survivor", "-C", "1", "-W", "20s"]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "Publish with 11 header bytes",
            frame(&[8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0]),
        ),
        ("Publish type byte only", frame(&[8])),
        ("PubFrag with short header", frame(&[19, 0, 0, 0])),
        ("Unsubscribe with 2-byte tid", frame(&[9, 0, 1])),
        ("Observe with no tid", frame(&[14])),
        ("Unobserve with 3-byte tid", frame(&[15, 0, 0, 1])),
        ("reserved type 10", frame(&[10])),
        ("type 0", frame(&[0])),
        ("type 200", frame(&[200, 1, 2, 3])),
        ("second Connect", frame(b"\x02\x01\x06abcdef\x00")),
        ("Init from a client", frame(&[1, 1, 0, 0, 0, 0])),
        ("Connack from a client", frame(&[3, 0, 0, 0, 0, 1])),
        ("Suback from a client", frame(&[5, 0, 0, 0, 0, 1, b'x'])),
        ("Createack from a client", frame(&[7, 0, 0, 0, 0, 1, b'x'])),
        ("Change from a client", frame(&[16, 0, 0, 0, 1, 0, 0, 0, 1])),
        (
            "Createsuback from a client",
            frame(&[18, 0, 0, 0, 0, 1, b'x']),
        ),
        ("raw length 0", vec![0, 0]),
        ("raw length 2", vec![0, 2, 12]),
    ];
    for (i, (what, bytes)) in cases.iter().enumerate() {
        let mut c = RawClient::connect(&broker, &format!("bad-client-{i:02}"));
        c.s.write_all(bytes).expect("send");
        let _ = c.s.flush();
        let _ = c.until_closed();
        eprintln!("closed after: {what}");
    }
    publish(&url, &["Survivor", "still here"]);
    let lines = json_lines(&sub.wait());
    assert_eq!(lines[0]["payload"], "still here");
}

#[test]
fn short_uid_is_refused_with_code_1_exactly_like_mako() {
    let broker = TestBroker::start();
    let mut s = TcpStream::connect(broker.addr).expect("tcp");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(b"GET /smq/ HTTP/1.1\r\nHost: x\r\nSimpleMQ: 1\r\n\r\n")
        .expect("head");
    let _init = read_frame(&mut s).expect("Init");
    s.write_all(&frame(b"\x02\x01\x05short\x00"))
        .expect("Connect");
    // Transcript [F]: 00 08 03 01 00 00 00 00
    assert_eq!(read_frame(&mut s).expect("Connack"), vec![3, 1, 0, 0, 0, 0]);
}

#[test]
fn pubfrag_fragments_are_assembled_into_one_message() {
    let broker = TestBroker::start();
    let url = broker.url("http");
    let (sub, _) = ready_sub(&url, &["FragTopic", "-C", "1", "-W", "10s"]);
    let mut c = RawClient::connect(&broker, "frag-client");
    c.s.write_all(&frame(b"\x06FragTopic")).expect("Create");
    let ack = read_frame(&mut c.s).expect("Createack");
    let mut last = vec![19u8];
    last.extend_from_slice(&ack[2..6]);
    last.extend_from_slice(&c.etid.to_be_bytes());
    last.extend_from_slice(&[0, 0, 0, 0]);
    last.extend_from_slice(b"end");
    let mid = |chunk: &[u8]| {
        let mut v = vec![19u8];
        v.extend_from_slice(&[0; 12]);
        v.extend_from_slice(chunk);
        frame(&v)
    };
    c.s.write_all(&mid(b"part1-")).expect("frag 1");
    c.s.write_all(&mid(b"part2-")).expect("frag 2");
    c.s.write_all(&frame(&last)).expect("frag 3");
    let lines = json_lines(&sub.wait());
    assert_eq!(lines[0]["payload"], "part1-part2-end");
}
