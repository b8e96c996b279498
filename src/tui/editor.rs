//! The small editor `r` (reply to the sender) and `R` (re-publish) open: two
//! one-line fields, sub-topic and payload, prefilled from the event. Enter
//! sends, Esc cancels, Tab (or ↑↓) moves between the fields. A binary payload
//! is edited as hex. Drawn as an overlay over the events view.
//!
//! May import: `tui::{act, theme}`, `trace::schema`, `output` (escaping),
//! crossterm key types, ratatui.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::act::{self, Request, Target};
use super::theme::Theme;
use crate::output::escape_controls;
use crate::trace::schema::{Encoding, Event};

/// Longest text a field takes (a payload is at most 65,520 bytes; hex doubles it).
const FIELD_MAX: usize = 140_000;

/// Reply to the sender, or publish the same message again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorKind {
    Reply,
    Republish,
}

/// One line of editable text with a cursor (in characters).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Field {
    pub text: String,
    pub cursor: usize,
}

impl Field {
    pub fn new(text: String) -> Field {
        let cursor = text.chars().count();
        Field { text, cursor }
    }

    fn byte_at(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map(|(i, _)| i)
            .unwrap_or(self.text.len())
    }

    fn insert(&mut self, c: char) {
        if self.text.len() + c.len_utf8() > FIELD_MAX {
            return;
        }
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    fn backspace(&mut self) {
        if self.cursor == 0 {
            return;
        }
        self.cursor -= 1;
        let at = self.byte_at(self.cursor);
        self.text.remove(at);
    }

    fn delete(&mut self) {
        if self.cursor < self.text.chars().count() {
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    /// Edits the field; `false` when the key is not an editing key.
    fn key(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let len = self.text.chars().count();
        match key.code {
            KeyCode::Char('u') if ctrl => {
                self.text.clear();
                self.cursor = 0;
            }
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = len,
            KeyCode::Char(c) if !ctrl => self.insert(c),
            KeyCode::Backspace => self.backspace(),
            KeyCode::Delete => self.delete(),
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(len),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = len,
            _ => return false,
        }
        true
    }
}

/// The editor's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editor {
    pub kind: EditorKind,
    pub target: Target,
    /// Where it goes, for the title (`charger-00001 (etid 12)`, `topic X`).
    pub label: String,
    pub subtopic: Field,
    pub payload: Field,
    /// The payload field holds hex (the event's payload was binary).
    pub hex: bool,
    /// 0: sub-topic, 1: payload.
    pub focus: usize,
    /// A note shown under the fields (a truncated preview, a bad hex digit).
    pub note: Option<String>,
}

/// What a key did to the editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Still editing.
    Editing,
    Cancel,
    Send(Request),
}

impl Editor {
    fn from_event(e: &Event, kind: EditorKind, target: Target, label: String) -> Editor {
        let bytes = e.preview_bytes().unwrap_or_default();
        let text = match e.encoding {
            Some(Encoding::Json | Encoding::Text) => std::str::from_utf8(&bytes)
                .ok()
                .filter(|t| !t.chars().any(char::is_control))
                .map(str::to_string),
            _ => None,
        };
        let hex = text.is_none() && !bytes.is_empty();
        let payload = text.unwrap_or_else(|| hex::encode(&bytes));
        Editor {
            kind,
            target,
            label,
            subtopic: Field::new(act::subtopic_text(e)),
            payload: Field::new(payload),
            hex,
            focus: 1,
            note: act::truncation(e).map(|t| format!("{t}: this sends what you see")),
        }
    }

    /// `r`: a one-to-one message to the event's sender (its ETID), prefilled
    /// with the event's sub-topic and payload.
    pub fn reply(e: &Event) -> Result<Editor, String> {
        let (etid, label) =
            act::sender_label(e).ok_or("the selected event has no sender to reply to")?;
        if !act::is_message(e) {
            return Err("the selected event is not a message: nothing to reply to".into());
        }
        Ok(Self::from_event(
            e,
            EditorKind::Reply,
            Target::Id(etid),
            label,
        ))
    }

    /// `R`: the same message to the same destination, editable first.
    pub fn republish(e: &Event) -> Result<Editor, String> {
        if !act::is_message(e) {
            return Err("the selected event is not a message: nothing to publish again".into());
        }
        let (target, label) =
            act::republish_target(e).ok_or("the selected event has no destination")?;
        Ok(Self::from_event(e, EditorKind::Republish, target, label))
    }

    fn field(&mut self) -> &mut Field {
        if self.focus == 0 {
            &mut self.subtopic
        } else {
            &mut self.payload
        }
    }

    /// Handles one key.
    pub fn key(&mut self, key: KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Esc => return Outcome::Cancel,
            KeyCode::Enter => return self.send(),
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                self.focus = 1 - self.focus;
            }
            _ => {
                self.field().key(key);
            }
        }
        Outcome::Editing
    }

    /// The request Enter sends, or why not (the note says it).
    fn send(&mut self) -> Outcome {
        let sub = self.subtopic.text.trim();
        let payload = if self.hex {
            let digits: String = self.payload.text.split_whitespace().collect();
            match hex::decode(&digits) {
                Ok(b) => b,
                Err(e) => {
                    self.note = Some(format!("the payload is not hex: {e}"));
                    self.focus = 1;
                    return Outcome::Editing;
                }
            }
        } else {
            self.payload.text.as_bytes().to_vec()
        };
        if let Some(id) = sub.strip_prefix('#')
            && id.parse::<u32>().is_err()
        {
            self.note = Some(format!("'{sub}' is not a sub-topic ID (#N) nor a name"));
            self.focus = 0;
            return Outcome::Editing;
        }
        Outcome::Send(Request::Publish {
            to: self.target.clone(),
            subtopic: (!sub.is_empty()).then(|| sub.to_string()),
            payload,
            label: self.label.clone(),
        })
    }
}

/// Draws the editor over `area` (centred, one line per field).
pub fn draw(frame: &mut Frame, area: Rect, ed: &Editor, theme: Theme) {
    let w = 72.min(area.width);
    let h = 8.min(area.height);
    let rect = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let title = match ed.kind {
        EditorKind::Reply => format!(" Reply to {} ", ed.label),
        EditorKind::Republish => format!(" Publish again to {} ", escape_controls(&ed.label)),
    };
    let inner = w.saturating_sub(2) as usize;
    let field = |name: &str, f: &Field, focused: bool| {
        let label = format!("{name:>10} ");
        let room = inner.saturating_sub(label.chars().count() + 1).max(1);
        // Scroll so the cursor stays in view.
        let chars: Vec<char> = f.text.chars().collect();
        let start = f.cursor.saturating_sub(room - 1);
        let shown: String = chars.iter().skip(start).take(room).collect();
        let mut spans = vec![Span::styled(label, theme.label())];
        if focused {
            let at = f.cursor - start;
            let (before, rest) = split_chars(&shown, at);
            let (cur, after) = split_chars(rest, 1);
            spans.push(Span::raw(escape_controls(before)));
            let cur = if cur.is_empty() {
                " ".to_string()
            } else {
                escape_controls(cur)
            };
            spans.push(Span::styled(
                cur,
                theme.selected().add_modifier(Modifier::REVERSED),
            ));
            spans.push(Span::raw(escape_controls(after)));
        } else {
            spans.push(Span::styled(escape_controls(&shown), theme.dim()));
        }
        Line::from(spans)
    };
    let payload_name = if ed.hex { "payload hex" } else { "payload" };
    let mut lines = vec![
        field("sub-topic", &ed.subtopic, ed.focus == 0),
        field(payload_name, &ed.payload, ed.focus == 1),
        Line::from(""),
    ];
    match &ed.note {
        Some(n) => lines.push(Line::from(Span::styled(escape_controls(n), theme.warn()))),
        None => lines.push(Line::from("")),
    }
    lines.push(Line::from(Span::styled(
        "Enter send · Esc cancel · Tab next field · Ctrl-U clear",
        theme.dim(),
    )));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        rect,
    );
}

/// `s` split after `n` characters.
fn split_chars(s: &str, n: usize) -> (&str, &str) {
    let at = s.char_indices().nth(n).map(|(i, _)| i).unwrap_or(s.len());
    s.split_at(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::schema::{Dest, DestType, Kind};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn typed(ed: &mut Editor, s: &str) {
        for c in s.chars() {
            assert_eq!(ed.key(key(KeyCode::Char(c))), Outcome::Editing);
        }
    }

    fn state_report() -> Event {
        let mut e = Event::new(Kind::Publish, "2026-11-22T03:44:17Z".into())
            .with_payload(br#"{"ChargerID":"charger-00001","On":false}"#, 256);
        e.from = Some(crate::tui::app::tests::client(12, "charger-00001"));
        e.to = Some(Dest {
            tid: 1,
            kind: DestType::Server,
            name: None,
            uid: None,
        });
        e.subtopic = Some("ChargerState".into());
        e.subtid = Some(3);
        e
    }

    #[test]
    fn reply_goes_to_the_senders_etid_with_what_was_edited() {
        let mut ed = Editor::reply(&state_report()).expect("an editor");
        assert_eq!(ed.target, Target::Id(12));
        assert_eq!(ed.label, "charger-00001 (etid 12)");
        assert_eq!(ed.subtopic.text, "ChargerState");
        assert_eq!(ed.focus, 1, "the payload is edited first");
        ed.key(ctrl('u'));
        typed(&mut ed, r#"{"On":true}"#);
        ed.key(key(KeyCode::Tab));
        ed.key(ctrl('u'));
        typed(&mut ed, "SetCharger");
        assert_eq!(
            ed.key(key(KeyCode::Enter)),
            Outcome::Send(Request::Publish {
                to: Target::Id(12),
                subtopic: Some("SetCharger".into()),
                payload: br#"{"On":true}"#.to_vec(),
                label: "charger-00001 (etid 12)".into(),
            })
        );
    }

    #[test]
    fn the_cursor_edits_in_the_middle_of_multibyte_text() {
        let mut f = Field::new("héllo".into());
        assert_eq!(f.cursor, 5);
        for _ in 0..3 {
            f.key(key(KeyCode::Left));
        }
        f.key(key(KeyCode::Backspace));
        assert_eq!(f.text, "hllo");
        f.key(key(KeyCode::Char('ë')));
        assert_eq!((f.text.as_str(), f.cursor), ("hëllo", 2));
        f.key(key(KeyCode::Delete));
        assert_eq!(f.text, "hëlo");
        f.key(key(KeyCode::Home));
        f.key(key(KeyCode::Backspace));
        assert_eq!(f.text, "hëlo", "backspace at the start does nothing");
        f.key(key(KeyCode::End));
        f.key(key(KeyCode::Right));
        assert_eq!(f.cursor, 4);
    }

    #[test]
    fn republish_keeps_topic_subtopic_and_payload_and_esc_cancels() {
        let mut e = state_report();
        e.to = Some(crate::tui::app::tests::topic(9, "DeviceState"));
        let mut ed = Editor::republish(&e).expect("an editor");
        assert_eq!(ed.target, Target::Topic("DeviceState".into()));
        let Outcome::Send(Request::Publish {
            to,
            subtopic,
            payload,
            ..
        }) = ed.clone().key(key(KeyCode::Enter))
        else {
            panic!("Enter sends");
        };
        assert_eq!(to, Target::Topic("DeviceState".into()));
        assert_eq!(subtopic.as_deref(), Some("ChargerState"));
        assert_eq!(payload, e.preview_bytes().expect("bytes"));
        assert_eq!(ed.key(key(KeyCode::Esc)), Outcome::Cancel);
    }

    #[test]
    fn a_binary_payload_is_edited_as_hex_and_bad_hex_is_refused() {
        let mut e = state_report();
        e = e.with_payload(&[0, 1, 0xfe], 256);
        let mut ed = Editor::reply(&e).expect("an editor");
        assert!(ed.hex);
        assert_eq!(ed.payload.text, "0001fe");
        typed(&mut ed, "z");
        assert_eq!(ed.key(key(KeyCode::Enter)), Outcome::Editing);
        assert!(
            ed.note.as_deref().is_some_and(|n| n.contains("not hex")),
            "{:?}",
            ed.note
        );
        ed.key(key(KeyCode::Backspace));
        typed(&mut ed, " 7f");
        let Outcome::Send(Request::Publish { payload, .. }) = ed.key(key(KeyCode::Enter)) else {
            panic!("sends");
        };
        assert_eq!(payload, vec![0, 1, 0xfe, 0x7f]);
    }

    #[test]
    fn an_event_that_is_not_a_message_opens_no_editor() {
        let mut e = Event::new(Kind::Connect, "t".into());
        e.from = Some(crate::tui::app::tests::client(12, "x"));
        assert!(
            Editor::reply(&e)
                .expect_err("refused")
                .contains("not a message")
        );
        assert!(
            Editor::republish(&e)
                .expect_err("refused")
                .contains("not a message")
        );
        let mut e = state_report();
        e.from = None;
        assert!(
            Editor::reply(&e)
                .expect_err("refused")
                .contains("no sender")
        );
    }

    #[test]
    fn a_truncated_preview_is_said_in_the_editor() {
        let mut e = state_report();
        e = e.with_payload(&[b'a'; 300], 256);
        let ed = Editor::reply(&e).expect("an editor");
        assert_eq!(
            ed.note.as_deref(),
            Some("the trace kept 256 of 300 payload bytes: this sends what you see")
        );
    }
}
