//! The trace wire schema (version 2): what a tracer receives from a broker.
//! Version 1 (a `json` payload as a string) is still read, and written to a
//! tracer that attaches asking for it.
//!
//! Two sources speak it: the Lua hook smqctl installs into a Mako app
//! (`smqctl hook lua`) and the embedded broker (`smqctl broker`). Every consumer
//! (`smqctl trace`, `smqctl tui`, exported NDJSON files) reads this one type, so
//! a consumer never knows or cares which broker it watches.
//!
//! ## Attaching
//! A tracer is an ordinary SMQ client. It registers a `self` handler for the
//! sub-topic [`SUB_EVENTS`] (so the broker can address it), then publishes an
//! [`AttachRequest`] as JSON to the broker's own ETID (1 unless the app uses
//! `rndtid`) with the sub-topic [`SUB_ATTACH`]. The broker answers on
//! [`SUB_EVENTS`] with one [`Kind::Snapshot`] event (or a [`Kind::Error`] when
//! the tracer is not authorised), then streams one event per message until the
//! tracer disconnects or publishes [`SUB_DETACH`]. Messages whose sub-topic
//! starts with [`RESERVED_PREFIX`] are never traced themselves.
//!
//! ## One event per message
//! Every message is one JSON object ([`Event`]). Names are resolved by the
//! broker (`tid2topic`, `tid2subtopic`, `etid2peer`) at the time of the event,
//! never guessed by the consumer. Optional fields are left out when unknown.
//! Unknown fields and kinds are ignored by readers, so a newer source can add
//! to the schema without breaking older consumers.
//!
//! May import: serde, base64, jiff. Nothing here does I/O.

use base64::Engine;
use serde::{Deserialize, Serialize};

/// Schema version carried in every event's `v` field.
pub const VERSION: u32 = 2;
/// Sub-topic of the events a broker sends to an attached tracer.
pub const SUB_EVENTS: &str = "$smqctl.trace";
/// Sub-topic a tracer publishes its [`AttachRequest`] with, to the broker ETID.
pub const SUB_ATTACH: &str = "$smqctl.trace.attach";
/// Sub-topic a tracer publishes (any payload) to stop receiving events.
pub const SUB_DETACH: &str = "$smqctl.trace.detach";
/// Messages with a sub-topic starting with this are the tracing machinery's
/// own and are never traced (the hook would otherwise trace its own output).
pub const RESERVED_PREFIX: &str = "$smqctl.trace";
/// Default number of payload bytes a preview keeps.
pub const DEFAULT_PREVIEW: usize = 256;
/// Largest payload preview a tracer may ask for: with base64 and the rest of
/// the event it still fits in one SMQ message (0xFFF0 bytes).
pub const MAX_PREVIEW: usize = 32 * 1024;

/// What a tracer asks for when it attaches. Sent as JSON: `{"v":2,"preview":256}`;
/// `v` is the schema version the tracer reads (a version-1 tracer gets
/// version-1 events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachRequest {
    #[serde(default = "version")]
    pub v: u32,
    /// Payload bytes to keep in each event's preview (0: none).
    #[serde(default = "default_preview")]
    pub preview: usize,
}

impl Default for AttachRequest {
    fn default() -> Self {
        AttachRequest {
            v: VERSION,
            preview: DEFAULT_PREVIEW,
        }
    }
}

fn version() -> u32 {
    VERSION
}

fn default_preview() -> usize {
    DEFAULT_PREVIEW
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A message was routed (`onpublish` said yes).
    Publish,
    /// Nobody received a message (`ondrop`): unknown TID, no subscriber, or
    /// every write failed.
    Drop,
    /// The app refused something: `onpublish` answered false (a message), or
    /// `permittop`/`permitsubtop`/`authenticate` said no (see `reason`).
    Deny,
    /// A client was accepted (`onconnect`).
    Connect,
    /// A client's session ended (`onclose`); `reason` says why.
    Close,
    /// A client subscribed to a topic (`to`).
    Subscribe,
    /// A client unsubscribed from a topic (`to`).
    Unsubscribe,
    /// A client created (looked up) a topic (`to`).
    Create,
    /// A client created (looked up) a sub-topic (`subtid`/`subtopic`).
    Createsub,
    /// The broker's state when the tracer attached (see [`Snapshot`]).
    Snapshot,
    /// A message from the tracing machinery itself: `reason` says what
    /// (for example that events were skipped because the tracer was slow,
    /// with the count in `skipped`).
    Notice,
    /// Attaching failed (`reason`: "not authorized", …); no events follow.
    Error,
    // Broker-local kinds: the embedded broker's own log (`smqctl broker -v`)
    // reads them; they never reach a tracer or a file, so they are neither
    // written nor read on the wire (a "reject" there reads as `Unknown`).
    /// A connection that never became an SMQ session (TLS, HTTP, no Connect).
    #[serde(skip)]
    Reject,
    /// The broker is closing every connection (`reason`).
    #[serde(skip)]
    Shutdown,
    /// A client asked to attach a tracer; `verdict` says whether it may.
    #[serde(skip)]
    Attach,
    /// A client observes `to`.
    #[serde(skip)]
    Observe,
    /// A client stopped observing `to`.
    #[serde(skip)]
    Unobserve,
    /// A kind this reader does not know (from a newer source).
    #[serde(other)]
    Unknown,
}

impl Kind {
    /// Every kind a source emits, in display order (for filters and legends).
    pub const ALL: [Kind; 12] = [
        Kind::Publish,
        Kind::Drop,
        Kind::Deny,
        Kind::Connect,
        Kind::Close,
        Kind::Subscribe,
        Kind::Unsubscribe,
        Kind::Create,
        Kind::Createsub,
        Kind::Snapshot,
        Kind::Notice,
        Kind::Error,
    ];

    /// Whether this kind is the embedded broker's own (never on the wire).
    pub fn is_local(self) -> bool {
        matches!(
            self,
            Kind::Reject | Kind::Shutdown | Kind::Attach | Kind::Observe | Kind::Unobserve
        )
    }

    /// The lowercase name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Publish => "publish",
            Kind::Drop => "drop",
            Kind::Deny => "deny",
            Kind::Connect => "connect",
            Kind::Close => "close",
            Kind::Subscribe => "subscribe",
            Kind::Unsubscribe => "unsubscribe",
            Kind::Create => "create",
            Kind::Createsub => "createsub",
            Kind::Snapshot => "snapshot",
            Kind::Notice => "notice",
            Kind::Error => "error",
            Kind::Unknown => "unknown",
            Kind::Reject => "reject",
            Kind::Shutdown => "shutdown",
            Kind::Attach => "attach",
            Kind::Observe => "observe",
            Kind::Unobserve => "unobserve",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a client is connected to the embedded broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// WebSocket (`ws://`, or `wss://` when `tls` is set alongside).
    Ws,
    /// Raw socket after an HTTP request with a `SimpleMQ` header.
    Raw,
}

/// A connected client as the broker knows it (`etid2peer`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub etid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// Remote address, `ip:port`, when the source knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    /// The broker itself (its own ETID: server-side publishes and handlers).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub server: bool,
}

impl Client {
    /// How the client reads in one line: its UID, `server`, or `etid N`.
    pub fn label(&self) -> String {
        match (&self.uid, self.server) {
            (Some(uid), _) => uid.clone(),
            (None, true) => "server".to_string(),
            (None, false) => format!("etid {}", self.etid),
        }
    }
}

/// What a destination TID turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DestType {
    /// A named topic (`tid2topic` answered).
    Topic,
    /// A connected client's ETID (`etid2peer` answered).
    Client,
    /// The broker's own ETID (server-side handlers).
    Server,
    /// Neither: a stale ETID or a TID nobody created.
    #[serde(other)]
    Unknown,
}

/// A message's destination, resolved by the broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dest {
    pub tid: u32,
    #[serde(rename = "type")]
    pub kind: DestType,
    /// The topic name (for [`DestType::Topic`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The client it belongs to (for [`DestType::Client`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

impl Dest {
    /// How the destination reads in one line: the topic name, `uid (etid N)`,
    /// `server`, or `#tid` when unknown.
    pub fn label(&self) -> String {
        match (self.kind, &self.name, &self.uid) {
            (DestType::Topic, Some(name), _) => name.clone(),
            (DestType::Client, _, Some(uid)) => format!("{uid} (etid {})", self.tid),
            (DestType::Client, _, None) => format!("etid {}", self.tid),
            (DestType::Server, _, _) => "server".to_string(),
            _ => format!("#{}", self.tid),
        }
    }
}

/// How an event's `payload` string encodes the message bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// The complete payload is valid JSON and `payload` is its text, untruncated.
    Json,
    /// UTF-8 text, cut at `preview` bytes (on a character boundary) when
    /// `truncated` is set.
    Text,
    /// Raw bytes, base64 of the first `preview` bytes.
    Base64,
}

/// A topic in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicInfo {
    pub tid: u32,
    pub name: String,
    /// Subscriber count, when the source knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribers: Option<u32>,
}

/// A sub-topic in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubtopicInfo {
    pub subtid: u32,
    pub name: String,
}

/// The broker's state when a tracer attaches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The broker's own ETID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_etid: Option<u32>,
    #[serde(default)]
    pub topics: Vec<TopicInfo>,
    #[serde(default)]
    pub subtopics: Vec<SubtopicInfo>,
    #[serde(default)]
    pub clients: Vec<Client>,
}

/// One trace event. See the module documentation for the protocol around it.
///
/// On the wire (version 2) a `json` payload is the JSON value itself; in
/// memory [`Event::payload`] is always its text. Serialising writes the
/// current [`VERSION`] ([`Versioned`] writes an older one for an old tracer);
/// reading accepts both: in version 1 every payload is a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Schema version the event was read in (or [`VERSION`] when made here).
    pub v: u32,
    /// When it happened, RFC 3339 in UTC (`2026-11-22T03:44:17.123Z`; the
    /// fraction is optional: Lua sources may only have whole seconds).
    pub ts: String,
    pub kind: Kind,
    /// Who acted: the publisher, the client that connected, subscribed, closed…
    pub from: Option<Client>,
    /// Where a message went, or which topic was (un)subscribed/created.
    pub to: Option<Dest>,
    pub subtid: Option<u32>,
    pub subtopic: Option<String>,
    /// Full payload size in bytes.
    pub size: Option<usize>,
    pub encoding: Option<Encoding>,
    /// The payload preview as text (see [`Encoding`]): for `json`, the JSON
    /// text (compact once it has been through a file or a tracer).
    pub payload: Option<String>,
    /// The preview is shorter than the payload.
    pub truncated: bool,
    /// The app's `onpublish` answer (false on [`Kind::Deny`] of a message).
    pub verdict: Option<bool>,
    /// How many clients received a message, when the source knows it.
    pub receivers: Option<u32>,
    /// Why: drop, close, deny, notice and error events.
    pub reason: Option<String>,
    /// Events the source skipped for this tracer ([`Kind::Notice`]).
    pub skipped: Option<u64>,
    pub snapshot: Option<Snapshot>,
}

/// The oldest schema version this build reads and can write (for a tracer
/// that attaches asking for it).
pub const OLDEST_VERSION: u32 = 1;

/// `ev` as written in schema version `v` (clamped to what this build knows):
/// version 1 carries a `json` payload as a string, version 2 as the value.
pub struct Versioned<'a>(pub &'a Event, pub u32);

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Versioned(self, VERSION).serialize(s)
    }
}

/// A payload on the wire: a string, or (version 2, `json`) the value itself.
enum WirePayload<'a> {
    Text(&'a str),
    Json(serde_json::Value),
}

impl Serialize for WirePayload<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            WirePayload::Text(t) => s.serialize_str(t),
            WirePayload::Json(v) => v.serialize(s),
        }
    }
}

/// The deepest JSON payload written as a value (the event around it adds one
/// level, and readers stop at 128).
const MAX_PAYLOAD_DEPTH: usize = 100;

/// How deeply `v` nests arrays and objects (a scalar is 0).
fn depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[derive(Serialize)]
struct WireOut<'a> {
    v: u32,
    ts: &'a str,
    kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a Client>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a Dest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subtid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subtopic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<Encoding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<WirePayload<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    receivers: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot: Option<&'a Snapshot>,
}

impl Serialize for Versioned<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Versioned(e, v) = *self;
        let v = v.clamp(OLDEST_VERSION, VERSION);
        let mut encoding = e.encoding;
        let payload = e.payload.as_deref().map(|text| {
            if v >= 2 && encoding == Some(Encoding::Json) {
                match serde_json::from_str::<serde_json::Value>(text) {
                    // Nested in the event, the value must still parse (serde_json
                    // stops at 128 levels): a deeper one stays a string.
                    Ok(value) if depth(&value) < MAX_PAYLOAD_DEPTH => {
                        return WirePayload::Json(value);
                    }
                    // Not JSON after all (a hand-made event): say text.
                    _ => encoding = Some(Encoding::Text),
                }
            }
            WirePayload::Text(text)
        });
        WireOut {
            v,
            ts: &e.ts,
            kind: e.kind,
            from: e.from.as_ref(),
            to: e.to.as_ref(),
            subtid: e.subtid,
            subtopic: e.subtopic.as_deref(),
            size: e.size,
            encoding,
            payload,
            truncated: e.truncated,
            verdict: e.verdict,
            receivers: e.receivers,
            reason: e.reason.as_deref(),
            skipped: e.skipped,
            snapshot: e.snapshot.as_ref(),
        }
        .serialize(s)
    }
}

#[derive(Deserialize)]
struct WireIn {
    #[serde(default = "version")]
    v: u32,
    ts: String,
    kind: Kind,
    #[serde(default)]
    from: Option<Client>,
    #[serde(default)]
    to: Option<Dest>,
    #[serde(default)]
    subtid: Option<u32>,
    #[serde(default)]
    subtopic: Option<String>,
    #[serde(default)]
    size: Option<usize>,
    #[serde(default)]
    encoding: Option<Encoding>,
    /// The payload as it is on the wire, read without building a value
    /// (see [`payload_text`]).
    #[serde(default)]
    payload: Option<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    truncated: bool,
    #[serde(default)]
    verdict: Option<bool>,
    #[serde(default)]
    receivers: Option<u32>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    skipped: Option<u64>,
    #[serde(default)]
    snapshot: Option<Snapshot>,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = WireIn::deserialize(d)?;
        // Version 1 (and any string outside a version-2 `json` payload) is
        // the text; a version-2 `json` payload is the value: keep its text.
        let json_value = w.v >= 2 && w.encoding == Some(Encoding::Json);
        let payload = w.payload.map(|p| payload_text(p.get(), json_value));
        Ok(Event {
            v: w.v,
            ts: w.ts,
            kind: w.kind,
            from: w.from,
            to: w.to,
            subtid: w.subtid,
            subtopic: w.subtopic,
            size: w.size,
            encoding: w.encoding,
            payload,
            truncated: w.truncated,
            verdict: w.verdict,
            receivers: w.receivers,
            reason: w.reason,
            skipped: w.skipped,
            snapshot: w.snapshot,
        })
    }
}

/// A payload's text from its JSON on the wire: a string's text, or (a
/// version-2 `json` payload, or any non-string) the value as compact JSON.
/// Compact JSON without escapes is already that text, so it is taken as it
/// is: no value is built for most events (`analyze --file` reads a million).
fn payload_text(raw: &str, json_value: bool) -> String {
    let is_string = raw.starts_with('"');
    if is_string && !json_value {
        if !raw.contains('\\')
            && let Some(text) = raw[1..].strip_suffix('"')
        {
            return text.to_string();
        }
        if let Ok(text) = serde_json::from_str::<String>(raw) {
            return text;
        }
    } else if written_as_serde_writes(raw) {
        return raw.to_string();
    }
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::String(text)) if !json_value => text,
        Ok(value) => value.to_string(),
        Err(_) => raw.to_string(),
    }
}

/// Whether serde_json would write the JSON text `raw` back byte for byte: no
/// whitespace and no escapes (it writes neither), and no exponent (it writes
/// `1e3` as `1e+3`).
fn written_as_serde_writes(raw: &str) -> bool {
    let mut in_string = false;
    let mut after_digit = false;
    for b in raw.bytes() {
        match b {
            b'\\' | b' ' | b'\n' | b'\r' | b'\t' => return false,
            b'"' => in_string = !in_string,
            b'e' | b'E' if !in_string && after_digit => return false,
            _ => {}
        }
        after_digit = b.is_ascii_digit() || (after_digit && b == b'.');
    }
    true
}

impl Event {
    /// An event of `kind` at `ts` with nothing else set.
    pub fn new(kind: Kind, ts: String) -> Self {
        Event {
            v: VERSION,
            ts,
            kind,
            from: None,
            to: None,
            subtid: None,
            subtopic: None,
            size: None,
            encoding: None,
            payload: None,
            truncated: false,
            verdict: None,
            receivers: None,
            reason: None,
            skipped: None,
            snapshot: None,
        }
    }

    /// Sets the destination.
    pub fn with_to(mut self, to: Dest) -> Self {
        self.to = Some(to);
        self
    }

    /// Sets `size`, `encoding`, `payload` and `truncated` from the message
    /// bytes, keeping at most `limit` bytes of preview.
    pub fn with_payload(mut self, data: &[u8], limit: usize) -> Self {
        let p = Preview::of(data, limit);
        self.size = Some(data.len());
        self.encoding = Some(p.encoding);
        self.payload = Some(p.text);
        self.truncated = p.truncated;
        self
    }

    /// The time as a timestamp, if `ts` parses.
    pub fn timestamp(&self) -> Option<jiff::Timestamp> {
        self.ts.parse().ok()
    }

    /// Whether `ts` is in whole seconds (no fraction: the Mako Lua hook has
    /// only `os.date`), so a display must show seconds and not invent `.000`.
    pub fn whole_seconds(&self) -> bool {
        self.ts
            .split_once(['T', 't'])
            .is_some_and(|(_, time)| !time.contains(['.', ',']))
    }

    /// The payload bytes the preview holds (decoded from base64 when needed).
    pub fn preview_bytes(&self) -> Option<Vec<u8>> {
        let p = self.payload.as_ref()?;
        match self.encoding? {
            Encoding::Json | Encoding::Text => Some(p.as_bytes().to_vec()),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD.decode(p).ok(),
        }
    }

    /// Whether this is one of the tracing machinery's own messages.
    pub fn is_reserved(&self) -> bool {
        self.subtopic
            .as_deref()
            .is_some_and(|s| s.starts_with(RESERVED_PREFIX))
    }

    /// Whether this is a receiver miss: a `drop` of one receiver's copy of a
    /// message (its send queue was full), not of the message itself — the
    /// other receivers may have had it. See [`QUEUE_FULL`].
    pub fn is_miss(&self) -> bool {
        self.kind == Kind::Drop
            && self
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with(QUEUE_FULL))
    }

    /// The receiver of a miss ([`Event::is_miss`]): its UID (when the source
    /// knew it) and ETID, read back from the reason [`queue_full_reason`] wrote.
    pub fn missed_by(&self) -> Option<(Option<String>, u32)> {
        if !self.is_miss() {
            return None;
        }
        let rest = self.reason.as_deref()?.strip_prefix(QUEUE_FULL)?;
        let at = rest.rfind(" (etid ")?;
        let (uid, tail) = rest.split_at(at);
        let digits = tail[" (etid ".len()..].split(')').next()?;
        let etid = digits.parse().ok()?;
        let uid = (uid != UNKNOWN_RECEIVER).then(|| uid.to_string());
        Some((uid, etid))
    }
}

/// The `reason` of a [`Kind::Connect`] (embedded broker) that replaced a live
/// connection with the same UID: the new connection got the old one's ETID, the
/// old one was told `Disconnect "reconnect"` and closed (reason "reconnect").
pub const TAKEOVER: &str = "took over a live connection with the same UID";

/// How the `reason` of a receiver miss starts: a `drop` event, one per receiver
/// whose send queue was full, next to the message's own `publish` (or `drop`,
/// when nobody had it). Both sources write it: the Mako hook (from the hub's
/// "socket queue full" log line) and the embedded broker. Counters of messages
/// count a miss apart (it is not one more message).
pub const QUEUE_FULL: &str = "socket queue full: ";

/// The receiver's name in a miss when the source does not know its UID.
const UNKNOWN_RECEIVER: &str = "a client";

/// The `reason` of a receiver miss: `socket queue full: UID (etid N) did not
/// keep up`, as the Mako hook writes it.
pub fn queue_full_reason(uid: Option<&str>, etid: u32) -> String {
    format!(
        "{QUEUE_FULL}{} (etid {etid}) did not keep up",
        uid.unwrap_or(UNKNOWN_RECEIVER)
    )
}

/// `t` in the `ts` format, with milliseconds.
pub fn ts_of(t: std::time::SystemTime) -> String {
    jiff::Timestamp::try_from(t)
        .and_then(|t| t.round(jiff::Unit::Millisecond))
        .map(|t| format!("{t:.3}"))
        .unwrap_or_else(|_| now_ts())
}

/// The current time in the `ts` format, with milliseconds.
pub fn now_ts() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Millisecond)
        .map(|t| format!("{t:.3}"))
        .unwrap_or_else(|_| jiff::Timestamp::now().to_string())
}

/// A bounded rendering of a payload, as carried in an [`Event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub encoding: Encoding,
    pub text: String,
    pub truncated: bool,
}

impl Preview {
    /// JSON when the whole payload is valid JSON and fits in `limit`; text when
    /// it is UTF-8 (cut back to a character boundary); base64 otherwise.
    pub fn of(data: &[u8], limit: usize) -> Preview {
        if let Ok(s) = std::str::from_utf8(data) {
            if data.len() <= limit && serde_json::from_slice::<serde::de::IgnoredAny>(data).is_ok()
            {
                return Preview {
                    encoding: Encoding::Json,
                    text: s.to_string(),
                    truncated: false,
                };
            }
            let mut end = limit.min(s.len());
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            return Preview {
                encoding: Encoding::Text,
                text: s[..end].to_string(),
                truncated: end < s.len(),
            };
        }
        let end = limit.min(data.len());
        Preview {
            encoding: Encoding::Base64,
            text: base64::engine::general_purpose::STANDARD.encode(&data[..end]),
            truncated: end < data.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receiver_miss_names_its_receiver_as_the_mako_hook_writes_it() {
        let mut e = Event::new(Kind::Drop, now_ts());
        e.reason = Some(queue_full_reason(Some("dev (etid 9) x"), 77));
        assert!(e.is_miss());
        assert_eq!(e.missed_by(), Some((Some("dev (etid 9) x".into()), 77)));
        // The hook's own text, for a peer without a UID.
        e.reason = Some("socket queue full: a client (etid 5) did not keep up".into());
        assert_eq!(e.missed_by(), Some((None, 5)));
        e.reason = Some("no subscribers".into());
        assert!(!e.is_miss());
        assert_eq!(e.missed_by(), None);
        e.reason = Some(queue_full_reason(Some("dev"), 5));
        e.kind = Kind::Publish;
        assert!(!e.is_miss(), "only a drop is a miss");
    }

    #[test]
    fn broker_local_kinds_are_never_written_nor_read_on_the_wire() {
        for kind in [
            Kind::Reject,
            Kind::Shutdown,
            Kind::Attach,
            Kind::Observe,
            Kind::Unobserve,
        ] {
            assert!(kind.is_local() && !Kind::ALL.contains(&kind), "{kind}");
            let e = Event::new(kind, "2026-11-22T03:44:17.123Z".into());
            assert!(serde_json::to_vec(&e).is_err(), "{kind} serialised");
            let read: Kind = serde_json::from_str(&format!("{:?}", kind.as_str())).expect("reads");
            assert_eq!(read, Kind::Unknown, "{kind} read from the wire");
        }
        assert!(Kind::ALL.iter().all(|k| !k.is_local()));
    }

    #[test]
    fn whole_seconds_tells_a_lua_ts_from_one_with_a_fraction() {
        let ts = |s: &str| Event::new(Kind::Publish, s.into());
        assert!(ts("2026-11-22T03:44:17Z").whole_seconds());
        assert!(!ts("2026-11-22T03:44:17.123Z").whole_seconds());
        assert!(!ts("2026-11-22T03:44:17.000Z").whole_seconds());
        assert!(
            !ts(&now_ts()).whole_seconds(),
            "the embedded broker has milliseconds"
        );
        assert!(!ts("garbage").whole_seconds());
    }

    #[test]
    fn a_publish_event_serialises_with_only_the_fields_it_has() {
        let mut e = Event::new(Kind::Publish, "2026-11-22T03:44:17.123Z".into())
            .with_payload(br#"{"On":true}"#, 256);
        e.from = Some(Client {
            etid: 7,
            uid: Some("sim-00001".into()),
            info: None,
            addr: None,
            server: false,
        });
        e.to = Some(Dest {
            tid: 9,
            kind: DestType::Topic,
            name: Some("DeviceState".into()),
            uid: None,
        });
        e.verdict = Some(true);
        let v = serde_json::to_value(&e).expect("serialises");
        assert_eq!(
            v,
            serde_json::json!({"v":2,"ts":"2026-11-22T03:44:17.123Z","kind":"publish",
                "from":{"etid":7,"uid":"sim-00001"},
                "to":{"tid":9,"type":"topic","name":"DeviceState"},
                "size":11,"encoding":"json","payload":{"On":true},"verdict":true})
        );
        let back: Event = serde_json::from_value(v).expect("reads back");
        assert_eq!(back, e);
    }

    #[test]
    fn a_json_payload_is_the_value_in_v2_and_a_string_in_v1_and_both_read() {
        let e = Event::new(Kind::Publish, "2026-11-22T03:44:17.123Z".into())
            .with_payload(br#""quoted""#, 256);
        let v2 = serde_json::to_value(&e).expect("v2");
        assert_eq!(
            (&v2["v"], &v2["payload"]),
            (&serde_json::json!(2), &serde_json::json!("quoted"))
        );
        let v1 = serde_json::to_value(Versioned(&e, 1)).expect("v1");
        assert_eq!(
            (&v1["v"], &v1["payload"]),
            (&serde_json::json!(1), &serde_json::json!("\"quoted\""))
        );
        for (what, wire) in [("v2", v2), ("v1", v1)] {
            let back: Event = serde_json::from_value(wire).expect(what);
            assert_eq!(back.payload.as_deref(), Some(r#""quoted""#), "{what}");
            assert_eq!(
                back.preview_bytes().as_deref(),
                Some(&br#""quoted""#[..]),
                "{what}"
            );
        }
        // A file written by version 1 (payload a string) still loads.
        let old: Event = serde_json::from_str(
            r#"{"v":1,"ts":"2026-11-22T03:44:17Z","kind":"publish","encoding":"json","payload":"{\"n\":1.50}"}"#,
        )
        .expect("v1 line");
        assert_eq!(old.payload.as_deref(), Some(r#"{"n":1.50}"#));
        let again = serde_json::to_string(&old).expect("rewritten as v2");
        assert!(again.contains(r#""payload":{"n":1.50}"#), "{again}");
        // A payload too deep to nest in the event stays a string, marked text.
        let deep = format!("{}{}", "[".repeat(127), "]".repeat(127));
        let e = Event::new(Kind::Publish, now_ts()).with_payload(deep.as_bytes(), 1024);
        assert_eq!(e.encoding, Some(Encoding::Json));
        let line = serde_json::to_string(&e).expect("writes");
        let back: Event = serde_json::from_str(&line).expect("reads back");
        assert_eq!(
            (back.encoding, back.payload.as_deref()),
            (Some(Encoding::Text), Some(deep.as_str()))
        );
        // A json encoding whose text is not JSON (hand-made) is written as text.
        let mut odd = Event::new(Kind::Publish, now_ts());
        odd.encoding = Some(Encoding::Json);
        odd.payload = Some("{cut".into());
        let w = serde_json::to_value(&odd).expect("writes");
        assert_eq!(
            (&w["encoding"], &w["payload"]),
            (&serde_json::json!("text"), &serde_json::json!("{cut"))
        );
    }

    #[test]
    fn a_payload_read_without_building_a_value_is_the_text_a_value_gives() {
        let slow = |raw: &str, json_value: bool| match serde_json::from_str(raw) {
            Ok(serde_json::Value::String(text)) if !json_value => text,
            Ok(value) => value.to_string(),
            Err(e) => panic!("{raw}: {e}"),
        };
        for raw in [
            r#"{"n":1.50,"s":"é","a":[1,{"b":null}]}"#,
            r#"{"a": 1, "b":[ 2 ]}"#,
            "\"quoted\"",
            r#""a\"b\u00e9""#,
            r#"{"a":"x\ny"}"#,
            "[1,2]",
            "null",
            "-0.5e3",
            "[1E5,2.5e1,true,false]",
            r#"{"temp":21.5,"on":true,"e":1}"#,
            "\"\"",
        ] {
            for json_value in [false, true] {
                assert_eq!(
                    payload_text(raw, json_value),
                    slow(raw, json_value),
                    "{raw}"
                );
            }
        }
    }

    #[test]
    fn readers_ignore_unknown_fields_and_kinds() {
        let e: Event = serde_json::from_str(
            r#"{"v":2,"ts":"2026-01-01T00:00:00Z","kind":"teleport","warp":9,
                "to":{"tid":3,"type":"wormhole"}}"#,
        )
        .expect("lenient");
        assert_eq!(e.kind, Kind::Unknown);
        assert_eq!(e.to.expect("to").kind, DestType::Unknown);
    }

    #[test]
    fn previews_pick_json_text_or_base64_and_never_split_a_character() {
        assert_eq!(Preview::of(b"[1,2]", 256).encoding, Encoding::Json);
        let long_json = Preview::of(b"[1,2,3]", 4);
        assert_eq!(
            (
                long_json.encoding,
                long_json.text.as_str(),
                long_json.truncated
            ),
            (Encoding::Text, "[1,2", true)
        );
        // "é" is two bytes: a 2-byte limit must not cut it in half.
        let cut = Preview::of("aé".as_bytes(), 2);
        assert_eq!((cut.text.as_str(), cut.truncated), ("a", true));
        let bin = Preview::of(&[0xff, 0, 1], 2);
        assert_eq!(
            (bin.encoding, bin.text.as_str(), bin.truncated),
            (Encoding::Base64, "/wA=", true)
        );
        let e = Event::new(Kind::Drop, now_ts()).with_payload(&[0xff, 0, 1], 256);
        assert_eq!(e.preview_bytes(), Some(vec![0xff, 0, 1]));
        assert!(e.timestamp().is_some(), "now_ts parses: {}", e.ts);
    }

    #[test]
    fn destination_labels_read_as_names() {
        let d = |kind, name: Option<&str>, uid: Option<&str>| Dest {
            tid: 42,
            kind,
            name: name.map(str::to_string),
            uid: uid.map(str::to_string),
        };
        assert_eq!(d(DestType::Topic, Some("t"), None).label(), "t");
        assert_eq!(d(DestType::Client, None, Some("u")).label(), "u (etid 42)");
        assert_eq!(d(DestType::Server, None, None).label(), "server");
        assert_eq!(d(DestType::Unknown, None, None).label(), "#42");
    }

    #[test]
    fn the_broker_itself_reads_as_server_and_clients_by_uid() {
        let server = Client {
            etid: 1,
            server: true,
            ..Client::default()
        };
        assert_eq!(server.label(), "server");
        let v = serde_json::to_value(&server).expect("serialises");
        assert_eq!(v, serde_json::json!({"etid":1,"server":true}));
        let stale = Client {
            etid: 9,
            ..Client::default()
        };
        assert_eq!(stale.label(), "etid 9");
        assert_eq!(
            serde_json::to_value(&stale).expect("serialises"),
            serde_json::json!({"etid":9}),
            "`server` is left out when false"
        );
        let device = Client {
            uid: Some("charger-00001".into()),
            ..stale
        };
        assert_eq!(device.label(), "charger-00001");
    }

    #[test]
    fn own_messages_are_recognised_by_subtopic() {
        let mut e = Event::new(Kind::Publish, now_ts());
        e.subtopic = Some(SUB_ATTACH.into());
        assert!(e.is_reserved());
        e.subtopic = Some("SetCharger".into());
        assert!(!e.is_reserved());
    }
}
