//! The fuzz targets' bodies, shared by the cargo-fuzz crate in `fuzz/` and the
//! corpus replay test (`tests/fuzz_corpus.rs`), so the two cannot drift.
//!
//! Each function takes arbitrary bytes, drives one decoder or parser with them
//! and asserts what must hold for every input: no panic (ARCHITECTURE.md habit 3),
//! and where a round trip exists, that it gives back what was decoded. A failed
//! assertion is a finding, exactly like a panic inside the code under test.
//! Not a stable API: hidden from the docs.
//!
//! May import: everything (it is a test entry point, not a floor).

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;

use crate::broker::handlers::HandlerFile;
use crate::broker::{Broker, BrokerConfig, Offline};
use crate::fleet::scenario::{self, Scenario};
use crate::protocol::framing::{self, MAX_RAW_FRAME};
use crate::protocol::{MakoConnect, Packet, display_bytes, kind_name, parse_connect_like_mako};
use crate::template::{self, Context};
use crate::trace::file::parse_line;
use crate::trace::filter::Filter;

/// A target's body: any bytes in, a panic on a finding.
pub type Target = fn(&[u8]);

/// Every target by the name of its `fuzz/fuzz_targets/<name>.rs` and its
/// corpus folder `fuzz/corpus/<name>/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("packet_decode", packet_decode),
    ("raw_framing", raw_framing),
    ("http_head", http_head),
    ("broker_session", broker_session),
    ("trace_reader", trace_reader),
    ("config_toml", config_toml),
    ("template", template),
];

/// The body of the named target, if there is one.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// One packet body (type byte first): decoding never panics; what decodes
/// encodes to `encoded_len` bytes and decodes back to the same packet.
pub fn packet_decode(data: &[u8]) {
    let _ = kind_name(data.first().copied().unwrap_or(0));
    let _ = display_bytes(data);
    if let MakoConnect::Parsed { connect, .. } = parse_connect_like_mako(data) {
        let _ = Packet::Connect(connect).to_bytes();
    }
    let Ok(packet) = Packet::decode(Bytes::copy_from_slice(data)) else {
        return;
    };
    let encoded = packet.to_bytes();
    assert_eq!(encoded.len(), packet.encoded_len(), "{packet:?}");
    let again = Packet::decode(encoded.clone());
    assert_eq!(again.as_ref(), Ok(&packet), "re-decoding {encoded:02x?}");
}

/// A raw-socket byte stream: frames come off the front until one is partial
/// (`Ok(None)`) or impossible (an error); no byte is lost or invented, and each
/// body re-framed with `prefix_raw` frames back to itself.
pub fn raw_framing(data: &[u8]) {
    let mut buf = BytesMut::from(data);
    let mut consumed = 0;
    loop {
        let before = buf.len();
        match framing::decode_raw(&mut buf) {
            Ok(Some(body)) => {
                assert_eq!(before - buf.len(), body.len() + 2, "frame length");
                consumed += body.len() + 2;
                let mut again = BytesMut::new();
                framing::prefix_raw(&body, &mut again).expect("a decoded body fits a frame");
                assert!(again.len() <= MAX_RAW_FRAME);
                assert_eq!(framing::decode_raw(&mut again), Ok(Some(body.clone())));
                assert!(again.is_empty());
                if let Ok(packet) = Packet::decode(body) {
                    let _ = framing::encode_raw(&packet);
                }
            }
            Ok(None) => {
                assert_eq!(buf.len(), before, "a partial frame consumes nothing");
                break;
            }
            Err(_) => break,
        }
    }
    assert_eq!(consumed + buf.len(), data.len());
}

/// The bytes a client sends before SMQ starts: the broker's HTTP head reader
/// returns a request or an error (never hangs on a complete input, never
/// panics). On success the bytes it read past the head, followed by those it
/// left unread, are exactly what follows the head's blank line.
pub fn http_head(data: &[u8]) {
    let mut stream = data;
    let result = crate::broker::read_http_head(&mut stream)
        .now_or_never()
        .expect("reading from a byte slice never waits");
    if let Ok(read_past) = result {
        let mut after_head = read_past.to_vec();
        after_head.extend_from_slice(stream);
        let head = data
            .len()
            .checked_sub(after_head.len())
            .and_then(|n| data.get(..n))
            .expect("more bytes after the head than were sent");
        assert!(
            head.ends_with(b"\n\r\n") || head.ends_with(b"\n\n"),
            "head does not end at a blank line"
        );
        assert!(
            data.ends_with(&after_head),
            "bytes after the head were altered"
        );
    }
}

/// A broker session fed a sequence of frames from up to four clients, without
/// sockets (the same Connect handling and packet loop as a real connection).
///
/// Input: byte 0 picks the clients' transports (bit i set: client i is raw),
/// then records of `[selector][len][len bytes]`: selector & 3 is the client,
/// selector & 0x80 closes it instead. For a raw client the bytes are stream
/// data, for a WebSocket client one message. Every frame the broker queues
/// must decode as a packet; after every client left, no client remains.
pub fn broker_session(data: &[u8]) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    else {
        return;
    };
    // Tracer pumps and delayed handler replies spawn tasks: they need a
    // runtime, and dropping it ends them.
    let _enter = runtime.enter();
    let broker = Broker::new(BrokerConfig::default());
    let mut events = broker.events();
    if let Some((_, handlers)) = scenario::builtin("charger")
        && let Ok(file) = HandlerFile::parse(handlers, "charger-handlers")
    {
        broker.set_handler(std::sync::Arc::new(file.install(&broker)));
    }
    let transports = data.first().copied().unwrap_or(0);
    let mut offline = Offline::new(&broker);
    for i in 0..4 {
        offline.add_client(transports & (1 << i) != 0);
    }
    let mut rest = data.get(1..).unwrap_or_default();
    while let [selector, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (chunk, tail) = tail.split_at(n);
        rest = tail;
        let client = usize::from(selector & 3);
        if selector & 0x80 != 0 {
            offline.close(client);
        } else {
            offline.feed(client, chunk);
        }
        for i in 0..offline.clients() {
            check_outgoing(transports & (1 << i) != 0, offline.drain(i));
        }
        while events.try_recv().is_ok() {}
    }
    drop(offline);
    assert!(broker.peers().is_empty(), "clients left registered");
    let _ = broker.stats();
}

fn check_outgoing(raw: bool, frames: Vec<Bytes>) {
    for frame in frames {
        let body = if raw {
            let mut buf = BytesMut::from(&frame[..]);
            let body = framing::decode_raw(&mut buf)
                .ok()
                .flatten()
                .unwrap_or_else(|| panic!("broker queued a bad raw frame {frame:02x?}"));
            assert!(buf.is_empty(), "one queued frame holds one packet");
            body
        } else {
            frame
        };
        if let Err(e) = Packet::decode(body.clone()) {
            panic!("broker queued an undecodable packet ({e}): {body:02x?}");
        }
    }
}

/// Lines of a recorded trace (NDJSON): every line parses or is refused with
/// a message; what parses serializes and parses back, and filters and previews
/// can be applied to it.
pub fn trace_reader(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let filter = Filter {
        include: vec!["a*".into()],
        exclude: vec!["*/x".into()],
        text: "a".into(),
        ..Filter::default()
    };
    for line in text.lines() {
        let Ok(Some(event)) = parse_line(line) else {
            continue;
        };
        let _ = filter.matches(&event);
        let _ = event.timestamp();
        let _ = event.preview_bytes();
        let _ = event.is_reserved();
        let json = serde_json::to_string(&event).expect("an event serializes");
        let again = parse_line(&json);
        assert!(matches!(again, Ok(Some(_))), "re-reading {json}: {again:?}");
    }
}

/// The TOML a user writes: a simulate scenario and a broker handler file are
/// accepted or refused with an error, never a panic.
pub fn config_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = Scenario::parse("fuzz", "fuzz.toml", text) {
        let _ = s.verify_topics();
    }
    let _ = HandlerFile::parse(text, "fuzz.toml");
}

/// The template engine: the first line is a template, the rest a request
/// payload. Checking never panics, expansion never panics (checked or not),
/// and text without `{{` expands to itself.
pub fn template(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (tpl, payload) = text.split_once('\n').unwrap_or((&text, ""));
    let _ = template::check(tpl, &["uid", "index"]);
    let ctx = Context {
        ptid: 7,
        etid: 1,
        n: 3,
    };
    let out = template::expand_payload(tpl, payload.as_bytes(), &ctx);
    if !tpl.contains("{{") {
        assert_eq!(out, tpl);
    }
    let mut int = String::new();
    if let Some(spec) = payload.lines().next()
        && template::check_int_spec(spec).is_ok()
    {
        template::write_int(&mut int, u64::from(ctx.ptid), Some(spec));
    }
}
