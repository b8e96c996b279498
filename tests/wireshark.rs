//! The Wireshark dissector (`smqctl hook wireshark`, src/trace/wireshark.lua).
//!
//! The tshark tests (ignored by default: they need Debian's `tshark`; `.ci/run`
//! installs it and runs them by name) record smqctl sessions against `smqctl
//! broker` through a TCP proxy in the test, write what passed both ways as a
//! pcap (Ethernet/IPv4/TCP headers made up around the real bytes), decode it
//! with `tshark -X lua_script:…`, and compare every SMQ packet with what the
//! clients' own `--trace-packets` printed. The real broker's transcript in
//! ../shared/captures becomes a capture too and must decode cleanly. The
//! default suite only checks that the script is Lua that names every packet.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::harness::{BrokerProcess, Running, STEP, run, smqctl, text};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every packet type of SMQ-PROTOCOL.md §3.
const TYPES: [(u8, &str); 18] = [
    (1, "Init"),
    (2, "Connect"),
    (3, "Connack"),
    (4, "Subscribe"),
    (5, "Suback"),
    (6, "Create"),
    (7, "Createack"),
    (8, "Publish"),
    (9, "Unsubscribe"),
    (11, "Disconnect"),
    (12, "Ping"),
    (13, "Pong"),
    (14, "Observe"),
    (15, "Unobserve"),
    (16, "Change"),
    (17, "Createsub"),
    (18, "Createsuback"),
    (19, "PubFrag"),
];

fn type_number(name: &str) -> Option<u8> {
    TYPES.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
}

fn dissector(args: &[&str]) -> String {
    let out = run(smqctl().args(["hook", "wireshark"]).args(args));
    assert!(
        out.status.success(),
        "hook wireshark: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

// ---- default suite: no tshark ---------------------------------------------

#[test]
fn hook_wireshark_writes_lua_that_compiles_and_names_every_packet_type() {
    let lua_src = dissector(&[]);
    let lua = mlua::Lua::new();
    // Compiles (Wireshark's own API is not here to run it against).
    lua.load(&lua_src)
        .set_name("@smq.lua")
        .into_function()
        .unwrap_or_else(|e| panic!("the dissector is not valid Lua: {e}"));
    for (t, name) in TYPES {
        assert!(
            lua_src.contains(&format!("[{t}] = \"{name}\"")),
            "type {t} ({name}) has no name in the dissector"
        );
    }
    for field in [
        "smq.type",
        "smq.tid",
        "smq.ptid",
        "smq.subtid",
        "smq.uid",
        "smq.payload",
        "smq.topic",
        "smq.subtopic",
        "smq.length",
    ] {
        assert!(
            lua_src.contains(&format!("\"{field}\"")),
            "no field {field}"
        );
    }
    assert!(lua_src.contains("local SMQ_PORT = 0 --"));

    // --port goes into the script; --output writes the same text.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("plugins/smq.lua");
    let out = run(smqctl()
        .args(["hook", "wireshark", "--port", "8080", "--output"])
        .arg(&file));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&file).expect("read the written dissector");
    assert!(written.contains("local SMQ_PORT = 8080 --"));
    assert_eq!(written, dissector(&["--port", "8080"]));
    assert!(
        text(&out.stderr).contains("lua_script:"),
        "{}",
        text(&out.stderr)
    );
}

/// A stand-in for the part of Wireshark's Lua API the script uses while it
/// loads: it records what the script registers.
const WIRESHARK_STUB: &str = r#"
local seen = { fields = {}, experts = {}, protos = {}, heuristics = {}, ports = {},
    decode_as = 0 }
local names = setmetatable({}, { __index = function(_, k) return k end })
ProtoField = setmetatable({}, { __index = function(_, kind)
    return function(abbr)
        local f = { abbr = abbr, kind = kind }
        seen.fields[#seen.fields + 1] = f
        return f
    end
end })
ProtoExpert = { new = function(abbr)
    local e = { abbr = abbr }
    seen.experts[#seen.experts + 1] = e
    return e
end }
Proto = function(name)
    local p = { name = name, prefs = {} }
    function p:register_heuristic(list) seen.heuristics[#seen.heuristics + 1] = list end
    seen.protos[#seen.protos + 1] = p
    return p
end
Pref = { bool = function() return false end }
Field = { new = function() return function() return nil end end }
DissectorTable = { get = function()
    return {
        add_for_decode_as = function() seen.decode_as = seen.decode_as + 1 end,
        add = function(_, port) seen.ports[#seen.ports + 1] = port end,
    }
end }
base, expert = names, { group = names, severity = names }
DESEGMENT_ONE_MORE_SEGMENT = 0x0fffffff
return seen
"#;

#[test]
fn hook_wireshark_script_registers_every_field_and_expert_it_makes() {
    for (args, port) in [(&[][..], None), (&["--port", "8080"][..], Some(8080))] {
        let lua = mlua::Lua::new();
        let seen: mlua::Table = lua.load(WIRESHARK_STUB).eval().expect("stub");
        lua.load(dissector(args))
            .set_name("@smq.lua")
            .exec()
            .unwrap_or_else(|e| panic!("the dissector fails while loading: {e}"));
        let protos: Vec<mlua::Table> = seen
            .get::<mlua::Table>("protos")
            .expect("protos")
            .sequence_values()
            .collect::<Result<_, _>>()
            .expect("protos");
        assert_eq!(protos.len(), 1, "one protocol");
        let smq = &protos[0];
        assert_eq!(smq.get::<String>("name").expect("name"), "smq");
        assert!(
            smq.get::<mlua::Function>("dissector").is_ok(),
            "no dissector"
        );
        assert!(
            smq.get::<mlua::Function>("init").is_ok(),
            "no init (state per capture)"
        );
        // Every field and expert it made is registered (Wireshark refuses to
        // add an unregistered one to the tree, at the first packet that needs it).
        for (made, registered) in [("fields", "fields"), ("experts", "experts")] {
            let made: Vec<mlua::Table> = seen
                .get::<mlua::Table>(made)
                .expect("made")
                .sequence_values()
                .collect::<Result<_, _>>()
                .expect("made");
            let list: mlua::Table = smq
                .get(registered)
                .unwrap_or_else(|e| panic!("smq.{registered} not set: {e}"));
            let list: Vec<mlua::Table> = list
                .sequence_values()
                .collect::<Result<_, _>>()
                .expect("list");
            assert!(made.len() > 5);
            for m in &made {
                let abbr: String = m.get("abbr").expect("abbr");
                assert!(
                    list.iter().any(|r| r.equals(m).unwrap_or(false)),
                    "{abbr} is made but not in smq.{registered}"
                );
                assert!(abbr.starts_with("smq."), "{abbr}");
            }
            assert_eq!(list.len(), made.len(), "smq.{registered} has extras");
        }
        let heuristics: Vec<String> = seen
            .get::<mlua::Table>("heuristics")
            .expect("h")
            .sequence_values()
            .collect::<Result<_, _>>()
            .expect("h");
        assert_eq!(heuristics, ["tcp", "ws"]);
        assert_eq!(seen.get::<i64>("decode_as").expect("decode_as"), 1);
        let ports: Vec<i64> = seen
            .get::<mlua::Table>("ports")
            .expect("ports")
            .sequence_values()
            .collect::<Result<_, _>>()
            .expect("ports");
        assert_eq!(ports, port.into_iter().collect::<Vec<i64>>());
    }
}

#[test]
fn hook_wireshark_port_zero_or_out_of_range_is_refused_naming_the_flag() {
    for bad in ["0", "65536", "http"] {
        let out = run(smqctl().args(["hook", "wireshark", "--port", bad]));
        assert_eq!(out.status.code(), Some(2), "--port {bad}");
        assert!(
            text(&out.stderr).contains("--port"),
            "{}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
}

// ---- a recording TCP proxy and a pcap writer --------------------------------

enum Seg {
    Open,
    Data(Vec<u8>),
    Close,
}

struct Event {
    at: SystemTime,
    conn: usize,
    from_client: bool,
    seg: Seg,
}

#[derive(Clone, Copy)]
struct Conn {
    client: SocketAddr,
    server: SocketAddr,
}

#[derive(Default)]
struct Log {
    conns: Vec<Conn>,
    events: Vec<Event>,
    closed: usize,
}

impl Log {
    fn push(&mut self, conn: usize, from_client: bool, seg: Seg) {
        self.events.push(Event {
            at: SystemTime::now(),
            conn,
            from_client,
            seg,
        });
    }
}

/// Forwards 127.0.0.1:PORT to the broker and logs every chunk each way.
struct Recorder {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn pump(mut from: TcpStream, mut to: TcpStream, log: Arc<Mutex<Log>>, conn: usize, up: bool) {
    let mut buf = vec![0u8; 65536];
    loop {
        let n = from.read(&mut buf).unwrap_or(0);
        let mut l = log.lock().unwrap_or_else(|e| e.into_inner());
        if n == 0 {
            l.push(conn, up, Seg::Close);
            l.closed += 1;
            drop(l);
            let _ = to.shutdown(Shutdown::Write);
            return;
        }
        // Logged before it is forwarded, so an answer is always logged after.
        l.push(conn, up, Seg::Data(buf[..n].to_vec()));
        drop(l);
        if to.write_all(&buf[..n]).is_err() {
            let _ = from.shutdown(Shutdown::Read);
        }
    }
}

impl Recorder {
    fn start(upstream: SocketAddr) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("proxy addr");
        let log = Arc::new(Mutex::new(Log::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (l2, s2) = (log.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, peer)) => {
                        client.set_nonblocking(false).expect("blocking");
                        let server = TcpStream::connect(upstream).expect("connect the broker");
                        let conn = {
                            let mut l = l2.lock().unwrap_or_else(|e| e.into_inner());
                            l.conns.push(Conn {
                                client: peer,
                                server: addr,
                            });
                            let conn = l.conns.len() - 1;
                            l.push(conn, true, Seg::Open);
                            conn
                        };
                        let (c2, s3) = (
                            client.try_clone().expect("clone"),
                            server.try_clone().expect("clone"),
                        );
                        let (la, lb) = (l2.clone(), l2.clone());
                        std::thread::spawn(move || pump(client, server, la, conn, true));
                        std::thread::spawn(move || pump(s3, c2, lb, conn, false));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(e) => panic!("proxy accept: {e}"),
                }
            }
        });
        Recorder {
            addr,
            log,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}/smq/", self.addr)
    }

    /// Waits until both directions of every connection have closed.
    fn finish(mut self) -> Log {
        let deadline = Instant::now() + STEP;
        loop {
            {
                let l = self.log.lock().unwrap_or_else(|e| e.into_inner());
                if l.closed == 2 * l.conns.len() {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "proxied connections still open after {STEP:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().expect("proxy thread");
        }
        let mut l = self.log.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *l)
    }
}

/// How the data of a capture is cut into TCP segments.
#[derive(Clone, Copy, PartialEq)]
enum Cut {
    /// As the proxy read it.
    AsRead,
    /// Every chunk in pieces of at most N bytes (packets split across segments).
    Every(usize),
    /// Consecutive chunks one way joined into one segment (several packets each).
    Joined,
}

/// Writes the log as a pcap: a SYN handshake per connection, a segment per
/// chunk (cut as asked), a FIN per closed direction.
fn write_pcap(path: &Path, log: &Log, cut: Cut) {
    use etherparse::PacketBuilder;
    let file = std::fs::File::create(path).expect("create the pcap");
    let mut w = pcap_file::pcap::PcapWriter::new(file).expect("pcap header");
    // seq numbers per connection: (client's next, server's next)
    let mut seq: Vec<(u32, u32)> = vec![(1000, 50_000); log.conns.len()];
    let mut frame =
        |at: SystemTime, c: Conn, from_client: bool, seq: (u32, u32), flags: &str, data: &[u8]| {
            let (src, dst) = if from_client {
                (c.client, c.server)
            } else {
                (c.server, c.client)
            };
            let ip = |a: SocketAddr| match a.ip() {
                std::net::IpAddr::V4(v4) => v4.octets(),
                std::net::IpAddr::V6(_) => panic!("the proxy is on IPv4 loopback"),
            };
            let (my_seq, their_seq) = if from_client { seq } else { (seq.1, seq.0) };
            let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
                .ipv4(ip(src), ip(dst), 64)
                .tcp(src.port(), dst.port(), my_seq, 65535);
            if flags.contains('S') {
                b = b.syn();
            }
            if flags.contains('A') {
                b = b.ack(their_seq);
            }
            if flags.contains('P') {
                b = b.psh();
            }
            if flags.contains('F') {
                b = b.fin();
            }
            let mut bytes = Vec::with_capacity(b.size(data.len()));
            b.write(&mut bytes, data).expect("build a frame");
            let ts = at
                .duration_since(SystemTime::UNIX_EPOCH)
                .expect("time after 1970");
            let len = u32::try_from(bytes.len()).expect("frame fits");
            w.write_packet(&pcap_file::pcap::PcapPacket::new(ts, len, &bytes))
                .expect("write a frame");
        };
    // Joined: merge runs of data one way on one connection.
    struct Piece {
        at: SystemTime,
        conn: usize,
        from_client: bool,
        data: Option<Vec<u8>>,
        open: bool,
    }
    let mut events: Vec<Piece> = Vec::new();
    for e in &log.events {
        let (data, open) = match &e.seg {
            Seg::Data(d) => {
                if cut == Cut::Joined
                    && let Some(last) = events.iter_mut().rev().find(|x| x.conn == e.conn)
                    && last.from_client == e.from_client
                    && let Some(prev) = last.data.as_mut()
                {
                    prev.extend_from_slice(d);
                    continue;
                }
                (Some(d.clone()), false)
            }
            Seg::Open => (None, true),
            Seg::Close => (None, false),
        };
        events.push(Piece {
            at: e.at,
            conn: e.conn,
            from_client: e.from_client,
            data,
            open,
        });
    }
    for Piece {
        at,
        conn,
        from_client,
        data,
        open,
    } in events
    {
        let c = log.conns[conn];
        let s = &mut seq[conn];
        if open {
            frame(at, c, true, (s.0, 0), "S", &[]);
            s.0 += 1;
            frame(at, c, false, *s, "SA", &[]);
            s.1 += 1;
            frame(at, c, true, *s, "A", &[]);
            continue;
        }
        match data {
            Some(d) => {
                let piece = match cut {
                    Cut::Every(n) => n,
                    _ => d.len().max(1),
                };
                for chunk in d.chunks(piece) {
                    frame(at, c, from_client, *s, "PA", chunk);
                    let n = u32::try_from(chunk.len()).expect("chunk fits");
                    if from_client {
                        s.0 = s.0.wrapping_add(n);
                    } else {
                        s.1 = s.1.wrapping_add(n);
                    }
                }
            }
            None => {
                frame(at, c, from_client, *s, "FA", &[]);
                if from_client {
                    s.0 += 1;
                } else {
                    s.1 += 1;
                }
            }
        }
    }
}

// ---- tshark -----------------------------------------------------------------

/// One SMQ packet as tshark decoded it: its frame's TCP ports and the
/// `smq.*` fields (experts apart).
#[derive(Debug, Clone)]
struct Decoded {
    frame: u64,
    /// `frame.protocols`, e.g. `eth:ethertype:ip:tcp:http:websocket:smq`.
    protocols: String,
    srcport: u16,
    dstport: u16,
    fields: BTreeMap<String, String>,
    /// (expert field name, severity) of each expert item in the packet.
    experts: Vec<(String, String)>,
    /// Wireshark's "Malformed Packet" mark (`_ws.malformed`).
    malformed: bool,
}

impl Decoded {
    fn get(&self, k: &str) -> Option<&str> {
        self.fields.get(k).map(String::as_str)
    }
}

const SEVERITY_ERROR: &str = "8388608";
const SEVERITY_WARN: &str = "6291456";
const SEVERITY_NOTE: &str = "4194304";

fn write_dissector(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, dissector(args)).expect("write the dissector");
    path
}

/// These tests need the real thing: say so plainly where it is missing.
fn assert_tshark_installed() {
    let found = Command::new("tshark")
        .arg("-v")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "tshark is not installed: `apt-get install tshark` (.ci/run installs it)"
    );
}

/// Runs tshark with the dissector on a capture: every SMQ packet in order.
/// HOME is a fresh directory, so no plugin or preference of the machine
/// takes part.
fn tshark(lua: &Path, pcap: &Path, extra: &[&str]) -> Vec<Decoded> {
    assert_tshark_installed();
    let home = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new("tshark");
    cmd.env("HOME", home.path())
        .arg("-X")
        .arg(format!("lua_script:{}", lua.display()))
        .arg("-r")
        .arg(pcap)
        .args(["-T", "json", "--no-duplicate-keys"])
        .args(extra);
    let out = Running::spawn(&mut cmd).wait();
    assert!(out.status.success(), "tshark failed: {}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        !stderr.to_lowercase().contains("lua"),
        "tshark complained about the script: {stderr}"
    );
    let frames: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("tshark's JSON does not parse: {e}: {}", text(&out.stdout)));
    let mut packets = Vec::new();
    for f in frames.as_array().expect("a JSON array of frames") {
        let layers = &f["_source"]["layers"];
        let num = |v: &Value| v.as_str().and_then(|s| s.parse::<u64>().ok());
        let frame = num(&layers["frame"]["frame.number"]).expect("frame.number");
        let port = |k: &str| {
            num(&layers["tcp"][k])
                .and_then(|p| u16::try_from(p).ok())
                .expect("a TCP port")
        };
        let list = match &layers["smq"] {
            Value::Array(a) => a.clone(),
            Value::Null => Vec::new(),
            one => vec![one.clone()],
        };
        for p in list {
            let mut d = Decoded {
                frame,
                protocols: layers["frame"]["frame.protocols"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                srcport: port("tcp.srcport"),
                dstport: port("tcp.dstport"),
                fields: BTreeMap::new(),
                experts: Vec::new(),
                malformed: false,
            };
            collect(&p, &mut d);
            // The bootstrap head has its own item without a type.
            if d.fields.contains_key("smq.type") || !d.experts.is_empty() {
                packets.push(d);
            }
        }
        let all = f.to_string();
        assert!(
            !all.contains("Lua Error"),
            "frame {frame}: the dissector failed: {all}"
        );
    }
    packets
}

fn collect(v: &Value, d: &mut Decoded) {
    let Some(obj) = v.as_object() else { return };
    for (k, x) in obj {
        if k == "_ws.malformed" {
            // Expert info of the MALFORMED group marks the packet as such.
            d.malformed = true;
        } else if k == "_ws.expert" {
            for e in x.as_array().cloned().unwrap_or_else(|| vec![x.clone()]) {
                let name = e
                    .as_object()
                    .and_then(|o| o.keys().find(|k| !k.starts_with("_ws.")).cloned())
                    .unwrap_or_default();
                let sev = e["_ws.expert.severity"].as_str().unwrap_or("").to_string();
                d.experts.push((name, sev));
            }
        } else if let Some(s) = x.as_str() {
            if k.starts_with("smq.") {
                d.fields.insert(k.clone(), s.to_string());
            }
        } else if x.is_object() {
            collect(x, d);
        }
    }
}

// ---- what --trace-packets printed ---------------------------------------------

/// One packet of a client's `--trace-packets`: sent (`->`) or received, and
/// the dissector fields it tells, in the dissector's spelling.
#[derive(Debug, Clone, PartialEq)]
struct Traced {
    from_client: bool,
    fields: BTreeMap<String, String>,
}

/// Splits a trace line's description into words; a quoted string (Rust
/// `{:?}` quoting) and a `(name with spaces)` are one word each.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    let mut paren = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(match n {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        other => other,
                    });
                }
            }
            '"' if !paren => {
                quoted = !quoted;
                cur.push('"');
            }
            '(' if !quoted && cur.is_empty() => {
                paren = true;
                cur.push('(');
            }
            ')' if paren => {
                paren = false;
                cur.push(')');
            }
            ' ' if !quoted && !paren => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn unquote(s: &str) -> String {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
        .to_string()
}

/// `HH:MM:SS.mmm -> Publish tid=10 (DeviceState) ...` into dissector fields.
fn parse_trace_line(line: &str) -> Option<Traced> {
    let (_, rest) = line.split_once(' ')?;
    let from_client = match rest.get(..3)? {
        "-> " => true,
        "<- " => false,
        _ => return None,
    };
    let w = words(&rest[3..]);
    let ptype = type_number(w.first()?)?;
    // key=value words, `(name)` after a key, a lone "quoted" name, `N bytes`.
    let mut kv: BTreeMap<String, String> = BTreeMap::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut lone_name = None;
    let mut last_key = String::new();
    let mut ok = None;
    for (i, word) in w.iter().enumerate().skip(1) {
        if let Some(name) = word.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
            names.insert(last_key.clone(), name.to_string());
        } else if word.starts_with('"') {
            if i == 1 || (i == 3 && ok.is_some()) {
                lone_name = Some(unquote(word));
            }
        } else if let Some((k, v)) = word.split_once('=') {
            kv.insert(k.to_string(), unquote(v));
            last_key = k.to_string();
        } else if word == "bytes" {
            kv.insert("bytes".into(), w[i - 1].clone());
        } else if word == "ok" || word == "DENIED" {
            ok = Some(word == "ok");
        }
    }
    let mut f = BTreeMap::new();
    f.insert("smq.type".to_string(), ptype.to_string());
    let mut put = |k: &str, v: Option<&String>| {
        if let Some(v) = v {
            f.insert(format!("smq.{k}"), v.clone());
        }
    };
    // A client names its own ETID "self"; the dissector names topics only.
    let topic = |k: &str| names.get(k).filter(|n| *n != "self");
    match ptype {
        1 => {
            put("version", kv.get("version"));
            put("seed", kv.get("seed"));
        }
        2 => {
            put("version", kv.get("version"));
            put("max_packet", kv.get("max-packet"));
            put("uid", kv.get("uid").filter(|u| !u.is_empty()));
            put("info", kv.get("info").filter(|u| !u.is_empty()));
        }
        3 => {
            put("code", kv.get("code"));
            put("etid", kv.get("etid"));
            put("reason", kv.get("reason"));
        }
        4 | 6 => put("topic", lone_name.as_ref()),
        17 => put("subtopic", lone_name.as_ref()),
        5 | 7 | 18 => {
            let status = if ok? { "0" } else { "1" }.to_string();
            put("status", Some(&status));
            let (id, name) = if ptype == 18 {
                ("subtid", "subtopic")
            } else {
                ("tid", "topic")
            };
            put(id, kv.get("id"));
            put(name, lone_name.as_ref().filter(|n| !n.is_empty()));
        }
        8 | 19 => {
            put("tid", kv.get("tid"));
            put("ptid", kv.get("ptid"));
            put("subtid", kv.get("subtid"));
            put("payload_len", kv.get("bytes"));
            put("topic", topic("tid"));
            put("subtopic", names.get("subtid"));
        }
        9 | 14 | 15 => {
            put("tid", kv.get("tid"));
            put("topic", topic("tid"));
        }
        16 => {
            put("tid", kv.get("tid"));
            put("count", kv.get("subscribers"));
            put("topic", topic("tid"));
        }
        11 => put("reason", kv.get("reason")),
        _ => {}
    }
    Some(Traced {
        from_client,
        fields: f,
    })
}

/// The dissector fields a trace line can tell about, per packet type.
fn comparable(ptype: &str) -> &'static [&'static str] {
    match ptype {
        "1" => &["smq.type", "smq.version", "smq.seed"],
        "2" => &[
            "smq.type",
            "smq.version",
            "smq.max_packet",
            "smq.uid",
            "smq.info",
        ],
        "3" => &["smq.type", "smq.code", "smq.etid", "smq.reason"],
        "4" | "6" => &["smq.type", "smq.topic"],
        "17" => &["smq.type", "smq.subtopic"],
        "5" | "7" => &["smq.type", "smq.status", "smq.tid", "smq.topic"],
        "18" => &["smq.type", "smq.status", "smq.subtid", "smq.subtopic"],
        "8" | "19" => &[
            "smq.type",
            "smq.tid",
            "smq.ptid",
            "smq.subtid",
            "smq.payload_len",
            "smq.topic",
            "smq.subtopic",
        ],
        "9" | "14" | "15" => &["smq.type", "smq.tid", "smq.topic"],
        "16" => &["smq.type", "smq.tid", "smq.count", "smq.topic"],
        "11" => &["smq.type", "smq.reason"],
        _ => &["smq.type"],
    }
}

fn as_traced(d: &Decoded, client_port: u16) -> Traced {
    let ptype = d.get("smq.type").unwrap_or("?").to_string();
    let fields = comparable(&ptype)
        .iter()
        .filter_map(|k| d.fields.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    Traced {
        from_client: d.srcport == client_port,
        fields,
    }
}

// ---- sessions against `smqctl broker` -----------------------------------------

/// The clients of a recorded session, in the order they connected: their
/// `--trace-packets` lines.
struct Session {
    log: Log,
    traces: Vec<Vec<Traced>>,
}

fn traced(out: &std::process::Output, who: &str) -> Vec<Traced> {
    let lines: Vec<Traced> = text(&out.stderr)
        .lines()
        .filter_map(parse_trace_line)
        .collect();
    assert!(
        lines.len() >= 4,
        "{who}: too few --trace-packets lines: {}",
        text(&out.stderr)
    );
    lines
}

/// A subscriber (topic, its own ETID, an observation, a sub-topic name), a
/// publisher to the topic with a sub-topic, and a direct message to the
/// subscriber's ETID, each client with `--trace-packets`, through the proxy.
fn record_session(scheme: &str) -> Session {
    let broker = BrokerProcess::start(&[]);
    let rec = Recorder::start(broker.addr);
    let url = rec.url(scheme);
    let mut sub = Running::spawn(smqctl().args([
        "--trace-packets",
        "sub",
        "DeviceState",
        "self",
        "--observe",
        "--resolve-subtopic",
        "SetCharger",
        "-C",
        "3",
        "-v",
        "--format",
        "json",
        "--url",
        &url,
    ]));
    let line = sub.stderr_line("as ETID");
    let etid: u32 = line
        .split("as ETID ")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no ETID in {line:?}"));
    let etid = etid.to_string();
    let pub1 = run(smqctl().args([
        "--trace-packets",
        "pub",
        "DeviceState",
        r#"{"On":true}"#,
        "--subtopic",
        "SetCharger",
        "-C",
        "2",
        "--url",
        &url,
    ]));
    assert!(pub1.status.success(), "pub: {}", text(&pub1.stderr));
    let pub2 = run(smqctl().args([
        "--trace-packets",
        "pub",
        "--to-etid",
        &etid,
        "direct hello",
        "--url",
        &url,
    ]));
    assert!(
        pub2.status.success(),
        "pub --to-etid: {}",
        text(&pub2.stderr)
    );
    let sub = sub.wait();
    assert!(sub.status.success(), "sub: {}", text(&sub.stderr));
    let messages = text(&sub.stdout)
        .lines()
        .filter(|l| l.contains("\"payload\""))
        .count();
    assert_eq!(messages, 3, "{}", text(&sub.stdout));

    // A shell: observe and unobserve, unsubscribe, and Ping/Pong while it
    // waits idle for a message (sent once its trace shows a Pong).
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("session.smq");
    std::fs::write(
        &script,
        "sub ShellTopic\nobserve ShellTopic\npub ShellTopic hi\nwait -C 2 -W 10s\n\
         wait -C 1 -W 15s\nunobserve --send ShellTopic\nunsub ShellTopic\n",
    )
    .expect("write the script");
    let mut shell = Running::spawn(
        smqctl()
            .args(["--trace-packets", "shell", "--script"])
            .arg(&script)
            .args(["--ping-interval", "300ms", "--url", &url]),
    );
    shell.stderr_line("<- Pong");
    let pub3 = run(smqctl().args([
        "--trace-packets",
        "pub",
        "ShellTopic",
        "late",
        "--url",
        &url,
    ]));
    assert!(pub3.status.success(), "pub: {}", text(&pub3.stderr));
    let shell = shell.wait();
    assert!(shell.status.success(), "shell: {}", text(&shell.stderr));

    let log = rec.finish();
    assert_eq!(log.conns.len(), 5, "one connection per client");
    drop(broker);
    Session {
        traces: vec![
            traced(&sub, "sub"),
            traced(&pub1, "pub"),
            traced(&pub2, "pub --to-etid"),
            traced(&shell, "shell"),
            traced(&pub3, "pub"),
        ],
        log,
    }
}

/// tshark's packets of each connection (with their frame numbers), as the
/// client's trace would say them.
fn by_connection(log: &Log, decoded: &[Decoded]) -> Vec<Vec<(u64, Traced)>> {
    log.conns
        .iter()
        .map(|c| {
            let port = c.client.port();
            decoded
                .iter()
                .filter(|d| d.srcport == port || d.dstport == port)
                .map(|d| {
                    let t = as_traced(d, port);
                    let want = if t.from_client { "C->B" } else { "B->C" };
                    assert_eq!(d.get("smq.direction"), Some(want), "frame {}", d.frame);
                    (d.frame, t)
                })
                .collect()
        })
        .collect()
}

fn assert_no_expert_errors(decoded: &[Decoded], what: &str) {
    let errors: Vec<_> = decoded
        .iter()
        .filter(|d| d.experts.iter().any(|(_, s)| s == SEVERITY_ERROR))
        .collect();
    assert!(errors.is_empty(), "{what}: expert errors: {errors:#?}");
}

/// Same packets, same fields: per connection and direction, in order (the
/// two directions interleave as the proxy read them, not as the client
/// printed them). The capture may hold more broker packets than the client
/// printed only at the end, answers to its goodbye (the Change an observer
/// gets for its own Unsubscribe) that it closed without reading.
fn assert_same_as_trace(session: &Session, decoded: &[Decoded], what: &str) {
    assert_no_expert_errors(decoded, what);
    let got = by_connection(&session.log, decoded);
    let goodbye = [9, 15, 11].map(|t: u8| t.to_string());
    for (i, (trace, dis)) in session.traces.iter().zip(&got).enumerate() {
        let sent_by_client: Vec<&(u64, Traced)> =
            dis.iter().filter(|(_, p)| p.from_client).collect();
        let goodbye_frame = sent_by_client
            .iter()
            .rev()
            .take_while(|(_, p)| goodbye.iter().any(|g| p.fields.get("smq.type") == Some(g)))
            .last()
            .map_or(u64::MAX, |(f, _)| *f);
        for dir in [true, false] {
            let t: Vec<&Traced> = trace.iter().filter(|p| p.from_client == dir).collect();
            let d: Vec<&(u64, Traced)> = dis.iter().filter(|(_, p)| p.from_client == dir).collect();
            let n = t.len().min(d.len());
            let (d_same, extra) = d.split_at(n);
            let d_same: Vec<&Traced> = d_same.iter().map(|(_, p)| p).collect();
            let way = if dir {
                "client to broker"
            } else {
                "broker to client"
            };
            assert_eq!(
                d_same, t,
                "{what}: connection {i}, {way}: tshark (left) and --trace-packets (right) differ"
            );
            assert!(
                d.len() >= t.len(),
                "{what}: connection {i}, {way}: tshark lacks {:?}",
                &t[n..]
            );
            for (frame, p) in extra {
                assert!(
                    !dir && *frame > goodbye_frame,
                    "{what}: connection {i}, {way}: frame {frame} {p:?} is not in the trace and \
                     not an answer to the client's goodbye (frame {goodbye_frame})"
                );
            }
        }
    }
}

fn session_decodes_like_trace_packets(scheme: &str) {
    let session = record_session(scheme);
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = write_dissector(dir.path(), "smq.lua", &[]);
    let port = session.log.conns[0].server.port().to_string();
    let on_port = write_dissector(dir.path(), "smq-port.lua", &["--port", &port]);
    // Without a port: the raw bootstrap heuristic, or Wireshark's own HTTP and
    // WebSocket dissectors handing each message to the SMQ heuristic. With
    // --port: this dissector frames the stream itself, across any cut.
    // Decode As (`-d`, the table Wireshark's dialog fills) does what --port does.
    let decode_as = format!("tcp.port=={port},smq");
    let runs: [(&Path, Cut, &[&str], &str); 8] = [
        (&plain, Cut::AsRead, &[], "heuristic, as read"),
        (&plain, Cut::Joined, &[], "heuristic, segments joined"),
        (&on_port, Cut::AsRead, &[], "--port, as read"),
        (&on_port, Cut::Every(5), &[], "--port, 5-byte segments"),
        (&on_port, Cut::Joined, &[], "--port, segments joined"),
        (
            &plain,
            Cut::Every(5),
            &["-d", &decode_as],
            "Decode As, 5-byte segments",
        ),
        // Two passes, as Wireshark reads a packet again when it is clicked.
        (&plain, Cut::AsRead, &["-2"], "heuristic, two passes"),
        (
            &on_port,
            Cut::Every(5),
            &["-2"],
            "--port, 5-byte segments, two passes",
        ),
    ];
    let mut types = std::collections::BTreeSet::new();
    for (i, (lua, cut, args, what)) in runs.into_iter().enumerate() {
        let pcap = dir.path().join(format!("{scheme}-{i}.pcap"));
        write_pcap(&pcap, &session.log, cut);
        let decoded = tshark(lua, &pcap, args);
        let want = if scheme == "ws" { "websocket" } else { "raw" };
        assert!(
            decoded.iter().all(|d| d.get("smq.transport") == Some(want)),
            "{scheme} {what}: not all {want}"
        );
        // Who framed it: Wireshark's WebSocket dissector without a port, this
        // one on the port.
        let path = if scheme == "ws" && *lua == plain && !args.contains(&"-d") {
            ":tcp:http:websocket:smq"
        } else {
            ":tcp:smq"
        };
        assert!(
            decoded.iter().all(|d| d.protocols.contains(path)),
            "{scheme} {what}: not all {path}: {:?}",
            decoded.iter().map(|d| &d.protocols).collect::<Vec<_>>()
        );
        assert_same_as_trace(&session, &decoded, &format!("{scheme} {what}"));
        types.extend(
            decoded
                .iter()
                .filter_map(|d| d.get("smq.type_name"))
                .map(String::from),
        );
    }
    for t in [
        "Init",
        "Connect",
        "Connack",
        "Subscribe",
        "Suback",
        "Create",
        "Createack",
        "Createsub",
        "Createsuback",
        "Publish",
        "Observe",
        "Change",
        "Disconnect",
        "Unobserve",
        "Unsubscribe",
        "Ping",
        "Pong",
    ] {
        assert!(
            types.contains(t),
            "{scheme}: the session had no {t}: {types:?}"
        );
    }
}

#[test]
#[ignore = "needs tshark"]
fn tshark_decodes_a_websocket_session_as_the_clients_traced_it() {
    session_decodes_like_trace_packets("ws");
}

#[test]
#[ignore = "needs tshark"]
fn tshark_decodes_a_raw_session_as_the_clients_traced_it() {
    session_decodes_like_trace_packets("http");
}

// ---- the real broker's transcript ----------------------------------------------

/// `../shared/captures/` beside the repository (for a git worktree in a
/// subfolder, beside that folder).
fn shared_capture(name: &str) -> PathBuf {
    let root = Path::new(ROOT);
    let candidates = [
        root.join("../shared/captures").join(name),
        root.join("../../shared/captures").join(name),
    ];
    candidates
        .iter()
        .find(|p| p.exists())
        .cloned()
        .unwrap_or_else(|| panic!("no {name} in ../shared/captures beside {ROOT}"))
}

/// One packet of the transcript: which connection, which way, its bytes
/// (length prefix first).
struct TranscriptPacket {
    conn: usize,
    from_client: bool,
    bytes: Vec<u8>,
}

/// The transcript as a log: every tagged connection ([A], [B], ...) with a
/// made-up client port, the broker on 54041 as recorded; its HTTP heads and
/// packets byte for byte, 1 ms apart. Also the packets alone, in order.
fn transcript_log() -> (Log, Vec<TranscriptPacket>) {
    let path = shared_capture("mako-raw-transcript.txt");
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut log = Log::default();
    let mut tags: Vec<String> = Vec::new();
    let mut packets = Vec::new();
    let mut at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_311_095);
    // The HTTP head being read: (connection, from client, text so far).
    let mut head: Option<(usize, bool, String)> = None;
    let flush = |log: &mut Log, head: &mut Option<(usize, bool, String)>| {
        if let Some((conn, up, text)) = head.take() {
            log.push(conn, up, Seg::Data(text.into_bytes()));
        }
    };
    for line in src.lines() {
        if let Some(h) = head.as_mut()
            && let Some(l) = line
                .strip_prefix("    ")
                .and_then(|l| l.strip_suffix("\\r\\n"))
        {
            h.2.push_str(l);
            h.2.push_str("\r\n");
            continue;
        }
        flush(&mut log, &mut head);
        let Some(rest) = line.strip_prefix('[') else {
            continue;
        };
        let Some((tag, rest)) = rest.split_once("] ") else {
            continue;
        };
        let (from_client, rest) = if let Some(r) = rest.strip_prefix("C->B ") {
            (true, r)
        } else if let Some(r) = rest.strip_prefix("B->C ") {
            (false, r)
        } else {
            continue;
        };
        if rest.starts_with('<') {
            continue; // <nothing within 2 s>, <socket closed>
        }
        let conn = match tags.iter().position(|t| t == tag) {
            Some(i) => i,
            None => {
                tags.push(tag.to_string());
                let n = u16::try_from(tags.len()).expect("few connections");
                log.conns.push(Conn {
                    client: SocketAddr::from(([127, 0, 0, 1], 40_000 + n)),
                    server: SocketAddr::from(([127, 0, 0, 1], 54_041)),
                });
                log.push(log.conns.len() - 1, true, Seg::Open);
                log.conns.len() - 1
            }
        };
        at += Duration::from_millis(1);
        if rest.starts_with("HTTP") {
            head = Some((conn, from_client, String::new()));
            continue;
        }
        let (_, hex) = rest
            .rsplit_once(": ")
            .unwrap_or_else(|| panic!("no bytes in transcript line {line:?}"));
        let bytes: Vec<u8> = hex
            .split(' ')
            .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|e| panic!("{line:?}: {e}")))
            .collect();
        log.push(conn, from_client, Seg::Data(bytes.clone()));
        if let Some(e) = log.events.last_mut() {
            e.at = at;
        }
        packets.push(TranscriptPacket {
            conn,
            from_client,
            bytes,
        });
    }
    flush(&mut log, &mut head);
    (log, packets)
}

fn brief(d: &Decoded, log: &Log) -> (usize, bool, BTreeMap<String, String>) {
    let conn = log
        .conns
        .iter()
        .position(|c| c.client.port() == d.srcport || c.client.port() == d.dstport)
        .expect("a known connection");
    let from_client = d.srcport == log.conns[conn].client.port();
    (conn, from_client, d.fields.clone())
}

#[test]
#[ignore = "needs tshark"]
fn tshark_decodes_the_real_brokers_transcript_cleanly_every_packet_in_order() {
    let (log, packets) = transcript_log();
    assert_eq!(packets.len(), 60, "transcript packets");
    assert_eq!(log.conns.len(), 9, "transcript connections");
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = write_dissector(dir.path(), "smq.lua", &[]);
    let pcap = dir.path().join("transcript.pcap");
    write_pcap(&pcap, &log, Cut::AsRead);
    let decoded = tshark(&plain, &pcap, &[]);

    // Every packet, in order, framed as its length prefix says.
    assert_eq!(decoded.len(), packets.len(), "{decoded:#?}");
    for (d, p) in decoded.iter().zip(&packets) {
        let (conn, from_client, _) = brief(d, &log);
        assert_eq!(
            (conn, from_client),
            (p.conn, p.from_client),
            "frame {}",
            d.frame
        );
        let len = u16::from_be_bytes([p.bytes[0], p.bytes[1]]);
        assert_eq!(
            usize::from(len),
            p.bytes.len(),
            "the transcript's own length"
        );
        assert_eq!(d.get("smq.length"), Some(len.to_string().as_str()));
        assert_eq!(d.get("smq.type"), Some(p.bytes[2].to_string().as_str()));
        assert_eq!(d.get("smq.transport"), Some("raw"));
    }

    // Clean: the reserved type 10 is the one warning, the refused short UID
    // the one note, and nothing is an error.
    let experts: Vec<(String, String)> = decoded
        .iter()
        .flat_map(|d| d.experts.iter().map(|(n, s)| (n.clone(), s.clone())))
        .collect();
    assert_eq!(
        experts,
        vec![
            (
                "smq.unknown_type.expert".to_string(),
                SEVERITY_WARN.to_string()
            ),
            ("smq.refused.expert".to_string(), SEVERITY_NOTE.to_string()),
        ]
    );
    assert!(
        !decoded
            .iter()
            .any(|d| d.malformed || d.fields.contains_key("smq.malformed"))
    );

    let find = |conn: usize, from_client: bool, t: &str| -> Vec<&Decoded> {
        decoded
            .iter()
            .filter(|d| {
                let (c, up, _) = brief(d, &log);
                c == conn && up == from_client && d.get("smq.type") == Some(t)
            })
            .collect()
    };
    // [A] learned DeviceState (Suback) and SetCharger (Createsuback): the
    // fan-out it receives is named; [B] never created SetCharger.
    let a_in = find(0, false, "8");
    assert_eq!(a_in[0].get("smq.topic"), Some("DeviceState"));
    assert_eq!(a_in[0].get("smq.subtopic"), Some("SetCharger"));
    assert_eq!(
        a_in[0].get("smq.payload"),
        Some("7b:22:4f:6e:22:3a:74:72:75:65:7d")
    );
    assert_eq!(
        a_in[1].get("smq.topic"),
        None,
        "a direct message names no topic"
    );
    let b_out = find(1, true, "8");
    assert_eq!(b_out[0].get("smq.topic"), Some("DeviceState"));
    assert_eq!(b_out[0].get("smq.subtopic"), None);
    assert_eq!(find(0, true, "2")[0].get("smq.uid"), Some("capture-A"));
    assert_eq!(find(0, true, "2")[0].get("smq.info"), Some("transcript"));
    assert_eq!(find(1, true, "2")[0].get("smq.max_packet"), Some("0"));
    assert_eq!(
        find(2, false, "11")[0].get("smq.reason"),
        Some("corrupt frame")
    );
    // [H]: two intermediate PubFrags and the final one, joined.
    let frags = find(7, true, "19");
    assert_eq!(frags.len(), 3);
    assert_eq!(frags[0].get("smq.frag"), Some("intermediate"));
    assert_eq!(frags[2].get("smq.frag"), Some("final"));
    assert_eq!(frags[2].get("smq.frag.count"), Some("3"));
    assert_eq!(frags[2].get("smq.frag.total"), Some("15"));
    assert_eq!(frags[2].get("smq.topic"), Some("FragTopic"));

    // The README's one-liner: one line per SMQ packet.
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README");
    let one_liner = "tshark -X lua_script:smq.lua -r capture.pcap -Y smq.summary -T fields \
                     -e smq.summary -E aggregator=$'\\n'";
    assert!(readme.contains(one_liner), "the README lost its one-liner");
    let home = tempfile::tempdir().expect("tempdir");
    let out = Running::spawn(
        Command::new("tshark")
            .env("HOME", home.path())
            .arg("-X")
            .arg(format!("lua_script:{}", plain.display()))
            .arg("-r")
            .arg(&pcap)
            .args(["-Y", "smq.summary", "-T", "fields", "-e", "smq.summary"])
            .args(["-E", "aggregator=\n"]),
    )
    .wait();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert_eq!(lines.len(), packets.len(), "{lines:#?}");
    assert_eq!(
        lines[0],
        "B->C Init version=1 seed=0x64447bbc client-ip=127.0.0.1"
    );
    assert_eq!(
        lines[1],
        "C->B Connect version=1 uid=\"capture-A\" info=\"transcript\""
    );

    // Cut into 1-byte segments (named port: the heuristic needs the request
    // head in one segment) or joined, or read twice as Wireshark does when a
    // packet is clicked (`-2`: the second pass must see what the first
    // learned, not learn again): the same packets, the same fields.
    let on_port = write_dissector(dir.path(), "smq-port.lua", &["--port", "54041"]);
    // Per connection and direction (joined segments reorder connections).
    let per_way = |ds: &[Decoded]| {
        let mut m: BTreeMap<(usize, bool), Vec<BTreeMap<String, String>>> = BTreeMap::new();
        for d in ds {
            let (c, up, f) = brief(d, &log);
            m.entry((c, up)).or_default().push(f);
        }
        m
    };
    let want = per_way(&decoded);
    for (lua, cut, args, what) in [
        (&on_port, Cut::Every(1), &[][..], "1-byte segments"),
        (&plain, Cut::Joined, &[][..], "segments joined"),
        (&plain, Cut::AsRead, &["-2"][..], "two passes"),
        (
            &on_port,
            Cut::Every(1),
            &["-2"][..],
            "1-byte segments, two passes",
        ),
    ] {
        let pcap = dir.path().join("cut.pcap");
        write_pcap(&pcap, &log, cut);
        let again = tshark(lua, &pcap, args);
        assert_eq!(again.len(), decoded.len(), "{what}");
        assert_eq!(per_way(&again), want, "{what}");
    }
}

// ---- malformed packets -----------------------------------------------------------

fn raw_packet(body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(body.len() + 2).expect("short packet");
    let mut v = len.to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

/// A WebSocket frame; client frames are masked (RFC 6455).
fn ws_frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut v = vec![0x80 | opcode];
    let len = u8::try_from(payload.len()).expect("short payload");
    assert!(len < 126);
    match mask {
        Some(key) => {
            v.push(0x80 | len);
            v.extend_from_slice(&key);
            v.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => {
            v.push(len);
            v.extend_from_slice(payload);
        }
    }
    v
}

#[test]
#[ignore = "needs tshark"]
fn tshark_flags_bad_length_truncated_and_reserved_packets_with_expert_info() {
    let mut log = Log::default();
    let server = SocketAddr::from(([127, 0, 0, 1], 8080));
    for port in [40_001, 40_002] {
        log.conns.push(Conn {
            client: SocketAddr::from(([127, 0, 0, 1], port)),
            server,
        });
    }
    let init = raw_packet(b"\x01\x01\x64\x44\x7b\xbc127.0.0.1");
    // Raw: bootstrap, Init, then one bad packet per segment.
    log.push(0, true, Seg::Open);
    log.push(
        0,
        true,
        Seg::Data(b"GET /smq/ HTTP/1.1\r\nHost: x\r\nSimpleMQ: 1\r\n\r\n".to_vec()),
    );
    log.push(0, false, Seg::Data(init.clone()));
    // A good Connect with credentials: they never show, only their length.
    let connect = raw_packet(b"\x02\x01\x08device-1\x07hunter2info");
    log.push(0, true, Seg::Data(connect));
    let bad: [(Vec<u8>, &str, &str); 5] = [
        // A Publish with 5 of its 12 header bytes.
        (
            raw_packet(b"\x08\x00\x00\x00\x01\x00"),
            "smq.truncated.expert",
            SEVERITY_ERROR,
        ),
        // A UID longer than the packet.
        (
            raw_packet(b"\x02\x01\x09abcdef"),
            "smq.truncated.expert",
            SEVERITY_ERROR,
        ),
        (
            raw_packet(b"\xc8"),
            "smq.unknown_type.expert",
            SEVERITY_WARN,
        ),
        (raw_packet(b"\x0c\x00"), "smq.extra.expert", SEVERITY_WARN),
        // A length that does not even cover itself and the type byte.
        (vec![0x00, 0x01], "smq.bad_length.expert", SEVERITY_ERROR),
    ];
    for (bytes, _, _) in &bad {
        log.push(0, true, Seg::Data(bytes.clone()));
    }
    // WebSocket on the named port, framed by the dissector: an empty message
    // and a PubFrag (raw transport only).
    log.push(1, true, Seg::Open);
    log.push(
        1,
        true,
        Seg::Data(
            b"GET /smq/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                .to_vec(),
        ),
    );
    log.push(
        1,
        false,
        Seg::Data(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
                .to_vec(),
        ),
    );
    log.push(1, false, Seg::Data(ws_frame(2, &init[2..], None)));
    let key = Some([0x12, 0x34, 0x56, 0x78]);
    log.push(1, true, Seg::Data(ws_frame(2, &[], key)));
    let pubfrag = b"\x13\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00part";
    log.push(1, true, Seg::Data(ws_frame(2, pubfrag, key)));

    let dir = tempfile::tempdir().expect("tempdir");
    let lua = write_dissector(dir.path(), "smq.lua", &["--port", "8080"]);
    let pcap = dir.path().join("bad.pcap");
    write_pcap(&pcap, &log, Cut::AsRead);
    let decoded = tshark(&lua, &pcap, &[]);
    let raw: Vec<&Decoded> = decoded
        .iter()
        .filter(|d| d.srcport == 40_001 || d.dstport == 40_001)
        .collect();
    assert_eq!(raw.len(), 2 + bad.len(), "{raw:#?}");
    assert_eq!(raw[0].get("smq.type_name"), Some("Init"));
    assert!(raw[0].experts.is_empty(), "{:?}", raw[0]);
    let c = raw[1];
    assert_eq!(c.get("smq.uid"), Some("device-1"));
    assert_eq!(c.get("smq.cred_len"), Some("7"));
    assert_eq!(c.get("smq.info"), Some("info"));
    assert!(c.experts.is_empty(), "{c:?}");
    let shown = format!("{:?}", c.fields);
    assert!(
        !shown.contains("hunter2") && !shown.contains("68:75:6e:74:65:72:32"),
        "credentials shown: {shown}"
    );
    for (d, (bytes, name, severity)) in raw[2..].iter().zip(&bad) {
        assert_eq!(
            d.experts,
            vec![(name.to_string(), severity.to_string())],
            "{bytes:02x?}: {d:#?}"
        );
        let malformed = *severity == SEVERITY_ERROR;
        assert_eq!(
            d.fields.contains_key("smq.malformed"),
            malformed,
            "{bytes:02x?}"
        );
        assert_eq!(d.malformed, malformed, "{bytes:02x?}: Wireshark's mark");
    }
    assert_eq!(raw[4].get("smq.type"), Some("200"));
    assert_eq!(raw[4].get("smq.type_name"), Some("Reserved"));

    let ws: Vec<&Decoded> = decoded
        .iter()
        .filter(|d| d.srcport == 40_002 || d.dstport == 40_002)
        .collect();
    assert_eq!(ws.len(), 3, "{ws:#?}");
    assert_eq!(ws[0].get("smq.type_name"), Some("Init"));
    assert_eq!(ws[0].get("smq.transport"), Some("websocket"));
    assert_eq!(ws[0].get("smq.client_ip"), Some("127.0.0.1"));
    assert_eq!(
        ws[1].experts,
        vec![(
            "smq.bad_length.expert".to_string(),
            SEVERITY_ERROR.to_string()
        )]
    );
    assert_eq!(ws[2].get("smq.type_name"), Some("PubFrag"), "unmasked");
    assert_eq!(ws[2].get("smq.payload"), Some("70:61:72:74"));
    assert_eq!(
        ws[2].experts,
        vec![(
            "smq.pubfrag_ws.expert".to_string(),
            SEVERITY_WARN.to_string()
        )]
    );
}
