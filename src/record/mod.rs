//! Recordings: what `smqctl record` writes and `smqctl replay` plays back.
//!
//! A recording (`.smqrec`) is NDJSON. Its first line is a [`Header`] (schema
//! name [`SCHEMA`], [`VERSION`], when and how it was recorded); every later
//! line is one [`Line`], tagged by `type`: a `message` the broker routed,
//! dropped or denied (full payload, up to the recorder's `max_payload`), a
//! `client` it knew (UID, ETID, info) and a `subscribe` (which UID subscribed to
//! which topic), so a replay can bring the same clients back. The README
//! ("Record and replay") documents every field; readers ignore unknown fields
//! and line types, so a newer recorder can add to it.
//!
//! - [`file`]: the writer (one line per write, flushed, `--max-size` rotation
//!   that starts each part with the header and the clients seen so far) and
//!   the reader (errors name the file and line).
//! - [`capture`]: the recorder: trace events (or what a subscriber receives)
//!   in, lines out, with counts.
//! - [`replay`]: the plan (which clients, which messages, what is skipped and
//!   why, ETID mapping) and its run against a test broker, with `--check`.
//!
//! May import: `client`, `protocol` (SERVER_ETID), `trace` (the event schema,
//! attach, filters). Engines take plain configs, never clap types.

pub mod capture;
pub mod file;
pub mod replay;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::trace::schema::{self, Client, Dest, Encoding, Event, Kind};

/// The `schema` field of every recording's header.
pub const SCHEMA: &str = "smqctl-recording";
/// The recording format version this build writes and the newest it reads.
pub const VERSION: u32 = 1;

/// Where the messages came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A broker-side tracer: every message the broker routed.
    Trace,
    /// What one subscriber received (`record --from-sub`): senders are only
    /// ETIDs, and there are no client or subscribe lines.
    Sub,
}

/// The first line of every recording (and of every part of a rotated one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub schema: String,
    pub version: u32,
    /// When recording started (RFC 3339, UTC).
    pub started: String,
    pub source: Source,
    /// The broker it was recorded from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Payload bytes kept per message (`--max-payload`); longer ones are cut
    /// and marked `truncated`.
    pub max_payload: usize,
    /// `--topic` patterns (trace) or subscribed topics (`--from-sub`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// `--exclude` patterns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// `--kind` kinds (empty: publish, drop and deny).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// 1 for the first file; rotation numbers the next ones.
    #[serde(default = "first_part")]
    pub part: u32,
}

fn first_part() -> u32 {
    1
}

impl Header {
    pub fn new(source: Source, max_payload: usize) -> Header {
        Header {
            schema: SCHEMA.into(),
            version: VERSION,
            started: schema::now_ts(),
            source,
            url: None,
            max_payload,
            topics: Vec::new(),
            exclude: Vec::new(),
            kinds: Vec::new(),
            part: 1,
        }
    }
}

/// One line after the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
// Message lines are nearly all of a recording: boxing them would only add an
// allocation to each.
#[allow(clippy::large_enum_variant)]
pub enum Line {
    Message(Message),
    Client(ClientLine),
    Subscribe(SubscribeLine),
    /// A line type this reader does not know (from a newer recorder).
    #[serde(other)]
    Unknown,
}

impl Line {
    /// The line's time, when it has one.
    pub fn ts(&self) -> Option<&str> {
        match self {
            Line::Message(m) => Some(&m.ts),
            Line::Client(c) => Some(&c.ts),
            Line::Subscribe(s) => Some(&s.ts),
            Line::Unknown => None,
        }
    }
}

/// What became of a recorded message on the recorded broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Delivered to `receivers` clients (or the server).
    Routed,
    /// Nobody received it (`reason` says why).
    Dropped,
    /// The app refused it (`onpublish` said no).
    Denied,
}

/// A client the recorded broker knew (from the tracer's snapshot or a connect).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientLine {
    pub ts: String,
    pub etid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
}

/// A client subscribed to a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscribeLine {
    pub ts: String,
    pub etid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    pub topic: String,
}

/// One message, as the broker saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub ts: String,
    pub outcome: Outcome,
    /// The sender (`server: true` for what the broker published itself).
    pub from: Client,
    /// Where it went: a topic (`name`), a client (`tid` is its ETID, `uid`),
    /// or the server.
    pub to: Dest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtopic: Option<String>,
    /// Clients that received it, when the source knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receivers: Option<u32>,
    /// The whole payload's size in bytes.
    pub size: usize,
    pub encoding: Encoding,
    /// `json`: the value itself; `text`: a string; `base64`: the bytes.
    pub payload: serde_json::Value,
    /// The payload is cut (at `max_payload`, or to fit one trace event).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Why it was dropped or denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The deepest JSON payload kept as a value (the line adds a level; readers
/// stop at 128): a deeper one is kept as text.
const MAX_DEPTH: usize = 100;

fn depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

impl Message {
    /// The message of a publish, drop or deny event; `None` for other events
    /// (and for a deny of something that was not a message).
    pub fn from_event(ev: &Event) -> Option<Message> {
        let outcome = match ev.kind {
            Kind::Publish => Outcome::Routed,
            Kind::Drop => Outcome::Dropped,
            Kind::Deny => Outcome::Denied,
            _ => return None,
        };
        let (from, to, size) = (ev.from.clone()?, ev.to.clone()?, ev.size?);
        let text = ev.payload.clone().unwrap_or_default();
        let mut encoding = ev.encoding.unwrap_or(Encoding::Text);
        let payload = match encoding {
            Encoding::Json => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(v) if depth(&v) < MAX_DEPTH => v,
                _ => {
                    encoding = Encoding::Text;
                    serde_json::Value::String(text)
                }
            },
            Encoding::Text | Encoding::Base64 => serde_json::Value::String(text),
        };
        Some(Message {
            ts: ev.ts.clone(),
            outcome,
            from,
            to,
            subtopic: ev.subtopic.clone(),
            receivers: ev.receivers,
            size,
            encoding,
            payload,
            truncated: ev.truncated,
            reason: match outcome {
                Outcome::Routed => None,
                _ => ev.reason.clone(),
            },
        })
    }

    /// The payload bytes to send again (a `json` payload compact).
    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        match (self.encoding, &self.payload) {
            (Encoding::Json, v) => Ok(v.to_string().into_bytes()),
            (Encoding::Text, serde_json::Value::String(s)) => Ok(s.as_bytes().to_vec()),
            (Encoding::Base64, serde_json::Value::String(s)) => {
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|e| format!("the base64 payload does not decode: {e}"))
            }
            (e, _) => Err(format!(
                "a {} payload must be a string",
                serde_json::to_value(e)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::schema::DestType;

    fn publish(payload: &[u8], limit: usize) -> Event {
        let mut e = Event::new(Kind::Publish, "2026-11-22T03:44:17.123Z".into())
            .with_payload(payload, limit);
        e.from = Some(Client {
            etid: 7,
            uid: Some("charger-00001".into()),
            ..Client::default()
        });
        e.to = Some(Dest {
            tid: 9,
            kind: DestType::Topic,
            name: Some("ChargerState".into()),
            uid: None,
        });
        e.subtopic = Some("Report".into());
        e.receivers = Some(2);
        e
    }

    #[test]
    fn a_message_line_keeps_json_as_the_value_and_binary_as_base64_and_gives_the_bytes_back() {
        let m =
            Message::from_event(&publish(br#"{"kW":1.50,"b":1,"a":2}"#, 1024)).expect("message");
        let line = serde_json::to_string(&Line::Message(m.clone())).expect("writes");
        assert!(
            line.starts_with(
                r#"{"type":"message","ts":"2026-11-22T03:44:17.123Z","outcome":"routed","#
            ),
            "{line}"
        );
        assert!(
            line.contains(r#""payload":{"kW":1.50,"b":1,"a":2}"#),
            "{line}"
        );
        let back: Line = serde_json::from_str(&line).expect("reads");
        assert_eq!(back, Line::Message(m.clone()));
        assert_eq!(m.bytes().expect("bytes"), br#"{"kW":1.50,"b":1,"a":2}"#);
        let bin = Message::from_event(&publish(&[0, 0xff, 7], 1024)).expect("message");
        assert_eq!(bin.encoding, Encoding::Base64);
        assert_eq!(bin.bytes().expect("bytes"), [0, 0xff, 7]);
        let cut = Message::from_event(&publish(b"hello world", 5)).expect("message");
        assert_eq!((cut.truncated, cut.size), (true, 11));
        assert_eq!(cut.bytes().expect("bytes"), b"hello");
    }

    #[test]
    fn only_message_events_become_message_lines() {
        let connect = Event::new(Kind::Connect, schema::now_ts());
        assert!(Message::from_event(&connect).is_none());
        let mut deny_connect = Event::new(Kind::Deny, schema::now_ts());
        deny_connect.from = Some(Client::default());
        assert!(
            Message::from_event(&deny_connect).is_none(),
            "a refused connection is not a message"
        );
        let mut drop = publish(b"x", 16);
        drop.kind = Kind::Drop;
        drop.reason = Some("no subscribers".into());
        let m = Message::from_event(&drop).expect("message");
        assert_eq!(
            (m.outcome, m.reason.as_deref()),
            (Outcome::Dropped, Some("no subscribers"))
        );
    }

    #[test]
    fn unknown_line_types_and_fields_are_read_as_unknown_not_errors() {
        let l: Line = serde_json::from_str(r#"{"type":"teleport","warp":9}"#).expect("lenient");
        assert_eq!(l, Line::Unknown);
        let c: Line = serde_json::from_str(
            r#"{"type":"client","ts":"2026-01-01T00:00:00Z","etid":3,"new":1}"#,
        )
        .expect("lenient");
        assert!(matches!(c, Line::Client(ClientLine { etid: 3, .. })));
    }
}
