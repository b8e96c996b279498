//! Acting on an event (`r` reply, `R` re-publish, `o` observe, `y` copy): what
//! the TUI asks the command to do, what comes back, and the `smqctl pub …`
//! command line that `y` copies. Pure data and formatting: the command
//! (`commands::tui`) holds the connection that publishes and observes, and
//! writes the clipboard escape (OSC 52) to the terminal.
//!
//! May import: `trace::schema`, `output` (escaping).

use base64::Engine;

use crate::output::escape_controls;
use crate::trace::schema::{DestType, Encoding, Event};

/// Where a publish goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A topic by name (created on first use, as `smqctl pub` does).
    Topic(String),
    /// A client's ETID (one-to-one message) or a TID known only by number.
    Id(u32),
}

/// What the TUI asks the command's connection to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Publish `payload` to `to` with an optional sub-topic (a name, or `#N`
    /// for a sub-topic ID the trace did not name).
    Publish {
        to: Target,
        subtopic: Option<String>,
        payload: Vec<u8>,
        /// How the status line names the destination.
        label: String,
    },
    /// Observe a client's ETID: the broker says when it leaves.
    Observe { etid: u32, label: String },
}

/// What the command reports back about a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// Done; the text says what was sent.
    Done(String),
    /// It could not be done, and why (connection, broker refusal).
    Failed(String),
    /// The broker confirmed nothing yet, but the observation is in place.
    Observing { etid: u32 },
    /// An observed ETID left (its Change with count 0).
    Gone { etid: u32 },
}

/// An observed sender, as the table marks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub label: String,
    /// The broker said it left.
    pub gone: bool,
}

/// How a client reads in the status line: `uid (etid N)`.
pub fn sender_label(e: &Event) -> Option<(u32, String)> {
    let c = e.from.as_ref()?;
    let label = match &c.uid {
        Some(uid) => format!("{} (etid {})", escape_controls(uid), c.etid),
        None if c.server => format!("server (etid {})", c.etid),
        None => format!("etid {}", c.etid),
    };
    Some((c.etid, label))
}

/// Where re-publishing `e` sends it: its topic by name, else the ID it went to.
pub fn republish_target(e: &Event) -> Option<(Target, String)> {
    let d = e.to.as_ref()?;
    match (d.kind, &d.name) {
        (DestType::Topic, Some(name)) => Some((
            Target::Topic(name.clone()),
            format!("topic {}", escape_controls(name)),
        )),
        _ => Some((Target::Id(d.tid), d.label())),
    }
}

/// The sub-topic as the editor and the command line write it: its name, or
/// `#N` when the trace only had the ID.
pub fn subtopic_text(e: &Event) -> String {
    match (&e.subtopic, e.subtid) {
        (Some(s), _) => s.clone(),
        (None, Some(id)) if id != 0 => format!("#{id}"),
        _ => String::new(),
    }
}

/// Whether the event is a message with a payload to act on.
pub fn is_message(e: &Event) -> bool {
    e.payload.is_some() && e.to.is_some()
}

/// Why the preview is not the whole payload, if it is not.
pub fn truncation(e: &Event) -> Option<String> {
    let kept = e.preview_bytes().map(|b| b.len()).unwrap_or(0);
    if e.truncated || e.size.is_some_and(|s| s > kept) {
        Some(format!(
            "the trace kept {kept} of {} payload bytes",
            e.size.unwrap_or(kept)
        ))
    } else {
        None
    }
}

/// Characters a POSIX shell takes literally outside quotes.
fn plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c)
}

/// One shell word that a POSIX shell reads back as exactly `s`.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(plain) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Whether `s` can travel on one line as quoted text: no control characters
/// (a newline would end the line; escapes would reach the terminal).
fn printable(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// `smqctl pub …` that publishes `e`'s message again: same destination,
/// sub-topic and payload (`--json` for JSON, `--hex` for binary or text with
/// control characters). The URL comes from `$SMQCTL_URL` (or put `--url`
/// right after `smqctl pub`: the words may follow a `--`); the line never
/// carries credentials.
pub fn command_line(e: &Event) -> Result<String, String> {
    if !is_message(e) {
        return Err("the selected event is not a message: nothing to copy as `smqctl pub`".into());
    }
    let Some(bytes) = e.preview_bytes() else {
        return Err("the selected event's payload cannot be decoded".into());
    };
    let mut flags: Vec<String> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    match republish_target(e) {
        Some((Target::Topic(name), _)) => words.push(name),
        Some((Target::Id(id), _)) => flags.push(format!("--to-etid {id}")),
        None => return Err("the selected event has no destination".into()),
    }
    let sub = subtopic_text(e);
    if sub.starts_with('#') {
        return Err(format!(
            "the sub-topic is known only by its ID ({sub}): `smqctl pub --subtopic` needs its name"
        ));
    }
    if !sub.is_empty() {
        flags.push(format!("--subtopic {}", shell_quote(&sub)));
    }
    let text = std::str::from_utf8(&bytes).ok().filter(|t| printable(t));
    match (e.encoding, text) {
        // An empty word would be refused as the TOPIC slot `--to-etid` uses.
        _ if bytes.is_empty() => flags.push("-f /dev/null".into()),
        (Some(Encoding::Json), Some(t)) => {
            flags.push("--json".into());
            words.push(t.to_string());
        }
        (Some(Encoding::Text), Some(t)) => words.push(t.to_string()),
        _ => {
            flags.push("--hex".into());
            words.push(hex::encode(&bytes));
        }
    }
    let mut line = String::from("smqctl pub");
    for f in &flags {
        line.push(' ');
        line.push_str(f);
    }
    // A word starting with '-' would read as a flag.
    if words.iter().any(|w| w.starts_with('-')) {
        line.push_str(" --");
    }
    for w in &words {
        line.push(' ');
        line.push_str(&shell_quote(w));
    }
    Ok(line)
}

/// The OSC 52 escape that asks the terminal to put `text` on the clipboard.
pub fn osc52(text: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{b64}\x07")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::schema::{Dest, Kind};

    fn event(to: Dest, sub: Option<&str>, payload: &[u8]) -> Event {
        let mut e =
            Event::new(Kind::Publish, "2026-11-22T03:44:17Z".into()).with_payload(payload, 256);
        e.from = Some(crate::tui::app::tests::client(12, "charger-00001"));
        e.to = Some(to);
        e.subtopic = sub.map(str::to_string);
        e.subtid = sub.map(|_| 20);
        e
    }

    fn topic(name: &str) -> Dest {
        crate::tui::app::tests::topic(9, name)
    }

    #[test]
    fn shell_quote_leaves_plain_words_and_quotes_the_rest() {
        assert_eq!(shell_quote("DeviceState"), "DeviceState");
        assert_eq!(shell_quote("a/b-c.d"), "a/b-c.d");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("two words"), "'two words'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$HOME `x` \\ *"), r"'$HOME `x` \ *'");
    }

    #[test]
    fn command_line_of_a_json_publish_with_a_subtopic() {
        let e = event(
            topic("DeviceState"),
            Some("Telemetry"),
            br#"{"On":true,"who":"it's"}"#,
        );
        assert_eq!(
            command_line(&e).expect("a line"),
            r#"smqctl pub --subtopic Telemetry --json DeviceState '{"On":true,"who":"it'\''s"}'"#
        );
    }

    #[test]
    fn command_line_of_a_direct_message_uses_to_etid() {
        let to = Dest {
            tid: 77,
            kind: DestType::Client,
            name: None,
            uid: Some("charger-00002".into()),
        };
        let e = event(to, Some("SetCharger"), b"on please");
        assert_eq!(
            command_line(&e).expect("a line"),
            "smqctl pub --to-etid 77 --subtopic SetCharger 'on please'"
        );
    }

    #[test]
    fn command_line_of_binary_or_control_characters_is_hex() {
        let e = event(topic("Frames"), None, &[0, 1, 0xfe, 0xff]);
        assert_eq!(
            command_line(&e).expect("a line"),
            "smqctl pub --hex Frames 0001feff"
        );
        let e = event(topic("Logs"), None, b"line 1\nline 2\x1b[31m");
        let line = command_line(&e).expect("a line");
        assert!(!line.contains('\n') && !line.contains('\x1b'), "{line:?}");
        assert!(line.starts_with("smqctl pub --hex Logs 6c696e65"), "{line}");
    }

    #[test]
    fn command_line_of_an_empty_payload_reads_it_from_dev_null() {
        let e = event(topic("Pings"), None, b"");
        assert_eq!(
            command_line(&e).expect("a line"),
            "smqctl pub -f /dev/null Pings"
        );
    }

    #[test]
    fn command_line_of_a_payload_starting_with_a_dash_ends_the_flags() {
        let e = event(topic("Numbers"), None, b"-5");
        assert_eq!(
            command_line(&e).expect("a line"),
            "smqctl pub --json -- Numbers -5"
        );
    }

    #[test]
    fn command_line_refuses_what_pub_cannot_send() {
        let e = Event::new(Kind::Connect, "t".into());
        assert!(
            command_line(&e)
                .expect_err("refused")
                .contains("not a message")
        );
        let mut e = event(topic("A"), Some("x"), b"1");
        e.subtopic = None;
        assert!(command_line(&e).expect_err("refused").contains("#20"));
    }

    #[test]
    fn truncation_says_how_much_the_trace_kept() {
        let e = Event::new(Kind::Publish, "t".into()).with_payload(&[b'a'; 300], 256);
        assert_eq!(
            truncation(&e).as_deref(),
            Some("the trace kept 256 of 300 payload bytes")
        );
        let e = event(topic("A"), None, b"whole");
        assert_eq!(truncation(&e), None);
    }

    #[test]
    fn osc52_carries_the_text_in_base64() {
        assert_eq!(
            osc52("smqctl pub A b"),
            "\x1b]52;c;c21xY3RsIHB1YiBBIGI=\x07"
        );
    }

    /// The keys through the engine: what each asks the loop, and the marks.
    #[test]
    fn act_keys_ask_the_loop_and_observe_marks_until_the_sender_leaves() {
        use crate::tui::app::{App, Mode};
        use crate::tui::input::{Action, handle_key};
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let mut app = App::new(10, "test");
        app.push(event(topic("DeviceState"), Some("Telemetry"), b"{}"));
        // A replay has no broker: r, R and o say so, y still copies.
        for c in ['r', 'R', 'o'] {
            assert_eq!(handle_key(&mut app, key(c)), Action::Redraw);
            let f = app.flash.take().expect("a message");
            assert!(f.error && f.text.contains("needs a broker"), "{f:?}");
            assert_eq!(app.mode, Mode::Normal);
        }
        assert_eq!(
            handle_key(&mut app, key('y')),
            Action::Copy("smqctl pub --subtopic Telemetry --json DeviceState '{}'".into())
        );
        app.can_act = true;
        assert_eq!(
            handle_key(&mut app, key('o')),
            Action::Act(Request::Observe {
                etid: 12,
                label: "charger-00001 (etid 12)".into()
            })
        );
        assert_eq!(app.observed.get(&12).map(|w| w.gone), Some(false));
        assert_eq!(handle_key(&mut app, key('o')), Action::Redraw, "not twice");
        assert!(
            app.flash
                .take()
                .is_some_and(|f| f.text.contains("already observing"))
        );
        app.act_report(Report::Observing { etid: 12 });
        assert!(
            app.flash
                .take()
                .is_some_and(|f| f.text.contains("observing charger-00001"))
        );
        app.act_report(Report::Gone { etid: 99 });
        assert!(app.flash.is_none(), "an ETID nobody observed");
        app.act_report(Report::Gone { etid: 12 });
        assert_eq!(app.observed.get(&12).map(|w| w.gone), Some(true));
        // r opens the editor; Esc closes it without acting.
        handle_key(&mut app, key('r'));
        assert!(matches!(app.mode, Mode::Editor(_)));
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(handle_key(&mut app, esc), Action::Redraw);
        assert_eq!(app.mode, Mode::Normal);
        // 'q' in the editor is text, not quit.
        handle_key(&mut app, key('R'));
        assert_eq!(handle_key(&mut app, key('q')), Action::Redraw);
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(
            handle_key(&mut app, enter),
            Action::Act(Request::Publish {
                to: Target::Topic("DeviceState".into()),
                subtopic: Some("Telemetry".into()),
                payload: b"{}q".to_vec(),
                label: "topic DeviceState".into(),
            })
        );
    }
}
