//! Payload rendering shared by every command: pretty (for people), json (one
//! object per line, for jq), raw (payload bytes) and hex (a dump).
//!
//! Colour is used only when the caller says so (a terminal and no NO_COLOR); see
//! [`use_color`]. A payload is never dropped for being of the "wrong" kind: a JSON
//! subscription that receives text shows the text, marked as not JSON.
//!
//! May import: `client` (Message), `protocol` (SERVER_ETID), `text`, clap
//! (ValueEnum for the format flags), serde_json, base64, jiff.

pub mod findings;

use std::io::{self, IsTerminal, Write};
use std::time::SystemTime;

use base64::Engine;
use clap::ValueEnum;
use serde_json::{Value, json};

use crate::client::Message;
use crate::protocol::SERVER_ETID;
pub use crate::text::{clock_time, clock_time_in, hexdump, preview, timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Time, topic, sub-topic, sender and the payload, for people
    Pretty,
    /// One JSON object per line (for jq)
    Json,
    /// The payload bytes only
    Raw,
    /// A hex dump of the payload
    Hex,
}

/// The one rule for every command's default output: `pretty` when stdout is
/// a terminal, `json` when it is piped or redirected; an explicit `-F` wins.
pub fn format_for_stdout<T>(chosen: Option<T>, pretty: T, json: T) -> T {
    match chosen {
        Some(f) => f,
        None if io::stdout().is_terminal() => pretty,
        None => json,
    }
}

impl Format {
    /// Pretty on a terminal, json when piped ([`format_for_stdout`]).
    pub fn default_for_stdout() -> Format {
        format_for_stdout(None, Format::Pretty, Format::Json)
    }
}

/// `--color`: when stdout gets ANSI colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataType {
    /// JSON if it parses, text if UTF-8, else binary
    Auto,
    Json,
    Text,
    Binary,
}

/// A progress bar on stderr for long work (hidden when stderr is not a
/// terminal): `total` items of `unit`, or a spinner when the total is unknown.
pub fn progress(total: Option<u64>, unit: &str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressState, ProgressStyle};
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let rate = |state: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{:.0}/s", state.per_sec());
    };
    let (bar, template) = match total {
        Some(n) => (
            ProgressBar::new(n),
            format!("{{bar:30}} {{pos}}/{{len}} {unit}  {{rate}}  eta {{eta}}"),
        ),
        None => (
            ProgressBar::new_spinner(),
            format!("{{spinner}} {{pos}} {unit}  {{rate}}"),
        ),
    };
    match ProgressStyle::with_template(&template) {
        Ok(style) => bar.with_style(style.with_key("rate", rate)),
        Err(_) => bar,
    }
}

/// Whether stdout gets ANSI colours.
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// How a payload was read.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Json(Value),
    Text(String),
    Binary,
}

impl Decoded {
    pub fn encoding(&self) -> &'static str {
        match self {
            Decoded::Json(_) => "json",
            Decoded::Text(_) => "text",
            Decoded::Binary => "base64",
        }
    }
}

/// Reads a payload as asked. `json` falls back to text/binary instead of losing
/// the message; the second value says the payload was not what was asked for.
pub fn decode_payload(payload: &[u8], as_type: DataType) -> (Decoded, bool) {
    let text = || std::str::from_utf8(payload).ok().map(str::to_string);
    let json = || serde_json::from_slice::<Value>(payload).ok();
    match as_type {
        DataType::Auto => match json() {
            Some(v) => (Decoded::Json(v), false),
            None => match text() {
                Some(t) => (Decoded::Text(t), false),
                None => (Decoded::Binary, false),
            },
        },
        DataType::Json => match json() {
            Some(v) => (Decoded::Json(v), false),
            None => match text() {
                Some(t) => (Decoded::Text(t), true),
                None => (Decoded::Binary, true),
            },
        },
        DataType::Text => match text() {
            Some(t) => (Decoded::Text(t), false),
            None => (Decoded::Binary, true),
        },
        DataType::Binary => (Decoded::Binary, false),
    }
}

/// Text for a terminal: control characters (escape sequences, newlines, bells)
/// are shown as escapes so a payload can neither restyle the terminal nor break
/// the one-line-per-message layout.
pub fn escape_controls(t: &str) -> String {
    if !t.chars().any(char::is_control) {
        return t.to_string();
    }
    let mut out = String::with_capacity(t.len() + 8);
    for c in t.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `text` in the SGR colour `code` (e.g. `"1;31"`) when `on`, else as it is.
pub(crate) fn paint(on: bool, code: &str, text: &str) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Label for a sender ETID.
fn sender(ptid: u32, own_etid: u32) -> String {
    if ptid == own_etid {
        format!("{ptid} (self)")
    } else if ptid == SERVER_ETID {
        format!("{ptid} (broker)")
    } else {
        ptid.to_string()
    }
}

/// Prints messages and events in the chosen format.
pub struct Printer<W: Write> {
    out: W,
    pub format: Format,
    pub datatype: DataType,
    pub color: bool,
    pub newline: bool,
    pub own_etid: u32,
    /// Zone of the clock times in pretty and hex output (local by default).
    pub zone: jiff::tz::TimeZone,
}

impl<W: Write> Printer<W> {
    pub fn new(out: W, format: Format, datatype: DataType, color: bool) -> Self {
        Printer {
            out,
            format,
            datatype,
            color,
            newline: true,
            own_etid: 0,
            zone: crate::text::local_zone(),
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// A line of the caller's own making (summaries, RPC results).
    pub fn write_line(&mut self, line: &str) -> io::Result<()> {
        writeln!(self.out, "{line}")
    }

    /// The JSON object printed for a message in `--format json`.
    pub fn message_json(&self, m: &Message) -> Value {
        let (decoded, mismatch) = decode_payload(&m.payload, self.datatype);
        let payload = match &decoded {
            Decoded::Json(v) => v.clone(),
            Decoded::Text(t) => Value::String(t.clone()),
            Decoded::Binary => {
                Value::String(base64::engine::general_purpose::STANDARD.encode(&m.payload))
            }
        };
        let mut obj = json!({
            "ts": timestamp(m.received),
            "topic": m.topic.as_deref(),
            "tid": m.tid,
            "subtopic": m.subtopic.as_deref(),
            "subtid": m.subtid,
            "ptid": m.ptid,
            "direct": m.direct,
            "size": m.payload.len(),
            "encoding": decoded.encoding(),
            "payload": payload,
        });
        if mismatch {
            obj["warning"] =
                Value::String(format!("payload is not {:?}", self.datatype).to_lowercase());
        }
        obj
    }

    pub fn message(&mut self, m: &Message) -> io::Result<()> {
        match self.format {
            Format::Json => {
                let line = self.message_json(m);
                writeln!(self.out, "{line}")
            }
            Format::Raw => {
                self.out.write_all(&m.payload)?;
                if self.newline {
                    self.out.write_all(b"\n")?;
                }
                Ok(())
            }
            Format::Hex => {
                let head = self.header(m);
                write!(
                    self.out,
                    "{head} ({} bytes)\n{}",
                    m.payload.len(),
                    hexdump(&m.payload)
                )
            }
            Format::Pretty => {
                let head = self.header(m);
                let (decoded, mismatch) = decode_payload(&m.payload, self.datatype);
                let body = match &decoded {
                    Decoded::Json(v) => {
                        // Short JSON is shown as it was sent (spacing, duplicate
                        // keys and all); long JSON is indented for reading.
                        let sent = String::from_utf8_lossy(&m.payload);
                        let sent = sent.trim();
                        if sent.len() <= 100 && !sent.contains('\n') {
                            // JSON whitespace may hold a bare \r.
                            escape_controls(sent)
                        } else {
                            serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
                        }
                    }
                    Decoded::Text(t) => escape_controls(t),
                    Decoded::Binary => format!(
                        "<{} bytes binary>\n{}",
                        m.payload.len(),
                        hexdump(&m.payload).trim_end()
                    ),
                };
                let note = if mismatch {
                    paint(
                        self.color,
                        "33",
                        &format!(" (not {:?})", self.datatype).to_lowercase(),
                    )
                } else {
                    String::new()
                };
                match &decoded {
                    Decoded::Json(_) if body.contains('\n') => {
                        // Long JSON: indented under its header line.
                        writeln!(self.out, "{head}{note}")?;
                        for line in body.lines() {
                            writeln!(self.out, "  {line}")?;
                        }
                        Ok(())
                    }
                    _ => writeln!(self.out, "{head}{note}  {body}"),
                }
            }
        }
    }

    fn header(&self, m: &Message) -> String {
        let topic = match (&m.topic, m.direct) {
            (Some(t), _) => escape_controls(t),
            (None, _) => format!("tid:{}", m.tid),
        };
        let mut s = format!(
            "{} {}",
            paint(self.color, "2", &clock_time_in(m.received, &self.zone)),
            paint(self.color, "1;36", &topic)
        );
        if m.subtid != 0 {
            let sub = match &m.subtopic {
                Some(n) => escape_controls(n),
                None => format!("subtid:{}", m.subtid),
            };
            s.push_str(&format!(" [{}]", paint(self.color, "33", &sub)));
        }
        s.push_str(&paint(
            self.color,
            "2",
            &format!(" from {}", sender(m.ptid, self.own_etid)),
        ));
        s
    }

    /// A subscriber-count change (from --observe).
    pub fn change(
        &mut self,
        tid: u32,
        name: Option<&str>,
        count: u32,
        peer_gone: bool,
    ) -> io::Result<()> {
        let now = SystemTime::now();
        match self.format {
            Format::Json => {
                let obj = json!({
                    "ts": timestamp(now),
                    "event": if peer_gone { "peer_gone" } else { "change" },
                    "topic": name,
                    "tid": tid,
                    "subscribers": count,
                });
                writeln!(self.out, "{obj}")
            }
            Format::Raw | Format::Hex => Ok(()),
            Format::Pretty => {
                let topic = name
                    .map(escape_controls)
                    .unwrap_or_else(|| format!("tid:{tid}"));
                let what = if peer_gone {
                    "client disconnected".to_string()
                } else {
                    format!("subscribers: {count}")
                };
                writeln!(
                    self.out,
                    "{} {} {}",
                    paint(self.color, "2", &clock_time_in(now, &self.zone)),
                    paint(self.color, "1;35", &topic),
                    what
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::sync::Arc;
    use std::time::Duration;

    fn msg(payload: &'static [u8]) -> Message {
        Message {
            tid: 10,
            topic: Some(Arc::from("DeviceState")),
            ptid: 99,
            subtid: 3,
            subtopic: Some(Arc::from("SetCharger")),
            payload: Bytes::from_static(payload),
            direct: false,
            received: SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
        }
    }

    fn render(format: Format, datatype: DataType, m: &Message) -> String {
        let mut p = Printer::new(Vec::new(), format, datatype, false);
        p.zone = jiff::tz::TimeZone::UTC;
        p.message(m).expect("write to Vec");
        String::from_utf8(p.out).expect("utf8")
    }

    #[test]
    fn json_line_carries_names_ids_and_decoded_payload() {
        let line = render(Format::Json, DataType::Auto, &msg(br#"{"On":true}"#));
        let v: Value = serde_json::from_str(line.trim_end()).expect("one JSON object");
        assert_eq!(line.matches('\n').count(), 1);
        assert_eq!(v["topic"], "DeviceState");
        assert_eq!(v["subtopic"], "SetCharger");
        assert_eq!(
            (v["tid"].as_u64(), v["subtid"].as_u64(), v["ptid"].as_u64()),
            (Some(10), Some(3), Some(99))
        );
        assert_eq!(v["encoding"], "json");
        assert_eq!(v["payload"]["On"], true);
        assert_eq!(v["size"], 11);
        assert_eq!(v["ts"], "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn json_subscription_receiving_text_keeps_the_message() {
        let line = render(Format::Json, DataType::Json, &msg(b"not json"));
        let v: Value = serde_json::from_str(line.trim_end()).expect("json");
        assert_eq!(v["encoding"], "text");
        assert_eq!(v["payload"], "not json");
        assert_eq!(v["warning"], "payload is not json");
        let pretty = render(Format::Pretty, DataType::Json, &msg(b"not json"));
        assert!(
            pretty.contains("(not json)") && pretty.contains("not json"),
            "{pretty}"
        );
    }

    #[test]
    fn binary_payloads_are_base64_in_json_and_dumped_in_pretty() {
        let m = msg(&[0xff, 0x00, 0x41]);
        let v: Value = serde_json::from_str(render(Format::Json, DataType::Auto, &m).trim_end())
            .expect("json");
        assert_eq!(
            (v["encoding"].as_str(), v["payload"].as_str()),
            (Some("base64"), Some("/wBB"))
        );
        let pretty = render(Format::Pretty, DataType::Auto, &m);
        assert!(
            pretty.contains("<3 bytes binary>") && pretty.contains("ff 00 41"),
            "{pretty}"
        );
    }

    #[test]
    fn pretty_line_shows_time_names_and_sender() {
        let out = render(Format::Pretty, DataType::Auto, &msg(br#"{"On":true}"#));
        assert_eq!(
            out,
            "22:13:20.123 DeviceState [SetCharger] from 99  {\"On\":true}\n"
        );
    }

    #[test]
    fn long_json_is_indented_under_the_header() {
        let long = br#"{"Location":"Garage bay 3, north wall","Sessions":[{"id":1,"kWh":12.5},{"id":2,"kWh":3.25}],"On":true}"#;
        let out = render(Format::Pretty, DataType::Auto, &msg(long));
        let mut lines = out.lines();
        assert_eq!(
            lines.next(),
            Some("22:13:20.123 DeviceState [SetCharger] from 99")
        );
        assert_eq!(lines.next(), Some("  {"));
        assert!(out.ends_with("  }\n"), "{out}");
    }

    #[test]
    fn every_format_renders_a_mixed_session_stably() {
        let mut direct = msg(b"direct hello");
        direct.topic = Some(Arc::from("self"));
        direct.direct = true;
        direct.subtid = 0;
        direct.subtopic = None;
        let mut unnamed = msg(&[0xde, 0xad, 0xbe, 0xef, 0x00, 0x41]);
        unnamed.topic = None;
        unnamed.subtopic = None;
        unnamed.ptid = SERVER_ETID;
        let session = [msg(br#"{"On":true,"Power":7.4}"#), direct, unnamed];
        let mut all = String::new();
        for format in [Format::Pretty, Format::Json, Format::Hex] {
            let mut p = Printer::new(Vec::new(), format, DataType::Auto, false);
            p.own_etid = 99;
            p.zone = jiff::tz::TimeZone::UTC;
            for m in &session {
                p.message(m).expect("write to Vec");
            }
            all.push_str(&format!(
                "--- {format:?}\n{}",
                String::from_utf8(p.out).expect("utf8")
            ));
        }
        insta::assert_snapshot!(all);
    }

    #[test]
    fn pretty_text_cannot_drive_the_terminal() {
        let out = render(
            Format::Pretty,
            DataType::Auto,
            &msg(b"evil\x1b]0;pwned\x07\x1b[2Jline1\nline2"),
        );
        assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
        assert!(
            out.ends_with("evil\\u{1b}]0;pwned\\u{7}\\u{1b}[2Jline1\\nline2\n"),
            "{out:?}"
        );
        assert_eq!(out.lines().count(), 1);
    }

    #[test]
    fn broker_supplied_topic_and_subtopic_names_cannot_drive_the_terminal() {
        let mut m = msg(b"{\r\"a\":1}");
        m.topic = Some(Arc::from("T\x1b[2J\x1b]0;title\x07"));
        m.subtopic = Some(Arc::from("S\rFAKE: ok"));
        for format in [Format::Pretty, Format::Hex] {
            let out = render(format, DataType::Auto, &m);
            assert!(
                !out.contains('\x1b') && !out.contains('\x07') && !out.contains('\r'),
                "{format:?}: {out:?}"
            );
            assert!(out.contains("T\\u{1b}[2J"), "{out:?}");
        }
        let mut p = Printer::new(Vec::new(), Format::Pretty, DataType::Auto, false);
        p.change(5, Some("X\x1b[31m"), 2, false)
            .expect("write to Vec");
        let out = String::from_utf8(p.out).expect("utf8");
        assert!(!out.contains('\x1b'), "{out:?}");
    }

    #[test]
    fn json_numbers_and_duplicate_keys_are_shown_as_sent() {
        let sent = br#"{"n":123456789012345678901234567890,"f":1.50,"d":{"a":1,"a":2}}"#;
        let pretty = render(Format::Pretty, DataType::Auto, &msg(sent));
        assert!(
            pretty.ends_with(&format!("  {}\n", String::from_utf8_lossy(sent))),
            "{pretty}"
        );
        let json = render(Format::Json, DataType::Auto, &msg(sent));
        assert!(
            json.contains(r#""payload":{"n":123456789012345678901234567890,"f":1.50,"#),
            "{json}"
        );
    }

    #[test]
    fn raw_is_payload_bytes_and_hex_is_a_dump() {
        assert_eq!(render(Format::Raw, DataType::Auto, &msg(b"abc")), "abc\n");
        let hex = render(Format::Hex, DataType::Auto, &msg(b"abc"));
        assert!(
            hex.ends_with("00000000  61 62 63                                          |abc|\n"),
            "{hex:?}"
        );
    }
}
