//! The detail pane's diff (`D`): the selected message's payload against the
//! previous message of the same stream (destination and sub-topic) from the
//! same sender. JSON payloads are compared field by field (nested paths):
//! changed, added and removed fields, each marked (`~ + -`) and coloured;
//! anything else byte by byte, as a hex dump with the differing bytes
//! highlighted. Every name and value from the broker is escaped before it
//! reaches the terminal.
//!
//! May import: `tui::{theme, history, fields}`, `trace::schema`, `output`, ratatui.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use serde_json::Value;

use super::fields::{Path, Seg, json_payload, path_label};
use super::history::{StreamKey, sender_of};
use super::theme::{Theme, clock, cut};
use crate::output::escape_controls;
use crate::trace::schema::Event;

/// One difference between two JSON payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Changed {
        path: String,
        old: String,
        new: String,
    },
    Added {
        path: String,
        new: String,
    },
    Removed {
        path: String,
        old: String,
    },
}

/// The differences of two JSON values, and how many leaves are the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonDiff {
    pub changes: Vec<Change>,
    pub unchanged: usize,
}

/// Compares `old` with `new`: objects key by key (in `new`'s order, then the
/// removed keys), arrays index by index; a whole added or removed subtree is
/// one change.
pub fn json_diff(old: &Value, new: &Value) -> JsonDiff {
    fn walk(old: &Value, new: &Value, path: &mut Path, out: &mut JsonDiff) {
        match (old, new) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, nv) in b {
                    path.push(Seg::Key(k.clone()));
                    match a.get(k) {
                        Some(ov) => walk(ov, nv, path, out),
                        None => out.changes.push(Change::Added {
                            path: path_label(path),
                            new: nv.to_string(),
                        }),
                    }
                    path.pop();
                }
                for (k, ov) in a.iter().filter(|(k, _)| !b.contains_key(*k)) {
                    path.push(Seg::Key(k.clone()));
                    out.changes.push(Change::Removed {
                        path: path_label(path),
                        old: ov.to_string(),
                    });
                    path.pop();
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                for i in 0..a.len().max(b.len()) {
                    path.push(Seg::Index(i));
                    match (a.get(i), b.get(i)) {
                        (Some(ov), Some(nv)) => walk(ov, nv, path, out),
                        (None, Some(nv)) => out.changes.push(Change::Added {
                            path: path_label(path),
                            new: nv.to_string(),
                        }),
                        (Some(ov), None) => out.changes.push(Change::Removed {
                            path: path_label(path),
                            old: ov.to_string(),
                        }),
                        (None, None) => {}
                    }
                    path.pop();
                }
            }
            (a, b) if a == b => out.unchanged += 1,
            (a, b) => out.changes.push(Change::Changed {
                path: path_label(path),
                old: a.to_string(),
                new: b.to_string(),
            }),
        }
    }
    let mut out = JsonDiff::default();
    walk(old, new, &mut Vec::new(), &mut out);
    out
}

/// Byte-by-byte differences (position by position).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ByteDiff {
    /// Positions in both that differ.
    pub changed: usize,
    /// Bytes `new` has beyond `old`'s end, and `old` beyond `new`'s.
    pub added: usize,
    pub removed: usize,
    /// For each byte of `new`: whether it differs from `old` (or is added).
    pub differs: Vec<bool>,
}

pub fn byte_diff(old: &[u8], new: &[u8]) -> ByteDiff {
    let differs: Vec<bool> = new
        .iter()
        .enumerate()
        .map(|(i, b)| old.get(i) != Some(b))
        .collect();
    let common = old.len().min(new.len());
    ByteDiff {
        changed: differs[..common].iter().filter(|d| **d).count(),
        added: new.len().saturating_sub(old.len()),
        removed: old.len().saturating_sub(new.len()),
        differs,
    }
}

fn changed_style(theme: Theme) -> Style {
    theme.fg(Color::Yellow).add_modifier(Modifier::BOLD)
}

fn added_style(theme: Theme) -> Style {
    theme.fg(Color::Green).add_modifier(Modifier::BOLD)
}

fn removed_style(theme: Theme) -> Style {
    theme.fg(Color::Red).add_modifier(Modifier::BOLD)
}

/// A value for the pane: escaped, cut to `max` characters.
fn shown(v: &str, max: usize) -> String {
    escape_controls(&cut(v, max))
}

/// The diff section of the detail pane for message `e` and the sender's
/// previous message `prev` (`None`: not in the buffer).
pub fn lines(
    e: &Event,
    prev: Option<&Event>,
    zone: &jiff::tz::TimeZone,
    theme: Theme,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let Some(key) = StreamKey::of(e) else {
        out.push(Line::from(Span::styled(
            "only messages (publish, drop) have a previous message to compare with",
            theme.dim(),
        )));
        return out;
    };
    let who = escape_controls(&sender_of(e));
    let Some(prev) = prev else {
        out.push(Line::from(Span::styled(
            format!(
                "no earlier message from {who} to {} in the buffer (--buffer): nothing to compare",
                escape_controls(&key.label())
            ),
            theme.dim(),
        )));
        return out;
    };
    out.push(Line::from(vec![
        Span::styled("changes since ", theme.label()),
        Span::raw(format!("{who}'s previous message at {}", clock(prev, zone))),
    ]));
    if e.truncated || prev.truncated {
        out.push(Line::from(Span::styled(
            "(payload previews only: one is truncated; --preview shows more)",
            theme.dim(),
        )));
    }
    if let (Some(old), Some(new)) = (json_payload(prev), json_payload(e)) {
        out.extend(json_lines(&json_diff(&old, &new), theme));
    } else {
        let old = prev.preview_bytes().unwrap_or_default();
        let new = e.preview_bytes().unwrap_or_default();
        out.extend(byte_lines(&byte_diff(&old, &new), &new, theme));
    }
    out
}

fn json_lines(d: &JsonDiff, theme: Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let width = d
        .changes
        .iter()
        .map(|c| match c {
            Change::Changed { path, .. }
            | Change::Added { path, .. }
            | Change::Removed { path, .. } => path.chars().count(),
        })
        .max()
        .unwrap_or(0)
        .min(30);
    let name = |p: &str| format!("{:<width$}  ", shown(p, 30));
    for c in &d.changes {
        out.push(match c {
            Change::Changed { path, old, new } => Line::from(vec![
                Span::styled(format!("~ {}", name(path)), changed_style(theme)),
                Span::styled(shown(old, 40), theme.dim()),
                Span::raw(" → "),
                Span::styled(shown(new, 40), changed_style(theme)),
            ]),
            Change::Added { path, new } => Line::from(vec![
                Span::styled(format!("+ {}", name(path)), added_style(theme)),
                Span::styled(shown(new, 80), added_style(theme)),
            ]),
            Change::Removed { path, old } => Line::from(vec![
                Span::styled(format!("- {}", name(path)), removed_style(theme)),
                Span::styled(shown(old, 80), removed_style(theme)),
            ]),
        });
    }
    let count = |pred: fn(&Change) -> bool| d.changes.iter().filter(|c| pred(c)).count();
    let changed = count(|c| matches!(c, Change::Changed { .. }));
    let added = count(|c| matches!(c, Change::Added { .. }));
    let removed = count(|c| matches!(c, Change::Removed { .. }));
    out.push(Line::from(Span::styled(
        if d.changes.is_empty() {
            format!("same payload ({} fields)", d.unchanged)
        } else {
            format!(
                "{changed} changed · {added} added · {removed} removed · {} unchanged",
                d.unchanged
            )
        },
        theme.dim(),
    )));
    out
}

fn byte_lines(d: &ByteDiff, new: &[u8], theme: Theme) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(Span::styled(
        format!(
            "{} bytes changed · {} added · {} removed (bytes that differ are highlighted)",
            d.changed, d.added, d.removed
        ),
        theme.dim(),
    ))];
    let mark = |i: usize| {
        if d.differs.get(i).copied().unwrap_or(false) {
            changed_style(theme).add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        }
    };
    for (row, chunk) in new.chunks(16).enumerate() {
        let base = row * 16;
        let mut spans = vec![Span::raw(format!("{base:08x}  "))];
        for i in 0..16 {
            if i == 8 {
                spans.push(Span::raw(" "));
            }
            match chunk.get(i) {
                Some(b) => {
                    spans.push(Span::styled(format!("{b:02x}"), mark(base + i)));
                    spans.push(Span::raw(" "));
                }
                None => spans.push(Span::raw("   ")),
            }
        }
        spans.push(Span::raw(" |"));
        for (i, b) in chunk.iter().enumerate() {
            let c = if b.is_ascii_graphic() || *b == b' ' {
                *b as char
            } else {
                '.'
            };
            spans.push(Span::styled(c.to_string(), mark(base + i)));
        }
        spans.push(Span::raw("|"));
        out.push(Line::from(spans));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value {
        serde_json::from_str(s).expect("json")
    }

    #[test]
    fn json_diff_finds_changed_added_and_removed_nested_fields() {
        let d = json_diff(
            &v(r#"{"id":7,"kW":11.5,"m":{"a":1,"b":[1,2]},"gone":true}"#),
            &v(r#"{"id":7,"kW":12,"m":{"a":1,"b":[1,3,4]},"site":"north"}"#),
        );
        assert_eq!(
            d.changes,
            vec![
                Change::Changed {
                    path: "kW".into(),
                    old: "11.5".into(),
                    new: "12".into()
                },
                Change::Changed {
                    path: "m.b[1]".into(),
                    old: "2".into(),
                    new: "3".into()
                },
                Change::Added {
                    path: "m.b[2]".into(),
                    new: "4".into()
                },
                Change::Added {
                    path: "site".into(),
                    new: "\"north\"".into()
                },
                Change::Removed {
                    path: "gone".into(),
                    old: "true".into()
                },
            ]
        );
        assert_eq!(d.unchanged, 3, "id, m.a, m.b[0]");
        assert!(
            json_diff(&v(r#"{"a":[1]}"#), &v(r#"{"a":[1]}"#))
                .changes
                .is_empty()
        );
        // A type change is a change, not a descent.
        let d = json_diff(&v(r#"{"a":{"x":1}}"#), &v(r#"{"a":5}"#));
        assert_eq!(d.changes.len(), 1);
    }

    #[test]
    fn byte_diff_marks_the_bytes_that_differ() {
        let d = byte_diff(b"SMQ\x01\x02", b"SMQ\x01\x03\x04\x05");
        assert_eq!((d.changed, d.added, d.removed), (1, 2, 0));
        assert_eq!(
            d.differs,
            vec![false, false, false, false, true, true, true]
        );
        let d = byte_diff(b"abcd", b"xb");
        assert_eq!((d.changed, d.added, d.removed), (1, 0, 2));
    }

    #[test]
    fn broker_text_in_a_diff_is_escaped() {
        let d = json_diff(
            &v(r#"{"k":"a"}"#),
            &v("{\"k\":\"\u{9b}31m\",\"\\u001b[2J\":1}"),
        );
        let text: String = json_lines(&d, Theme { color: false })
            .iter()
            .flat_map(|l| l.spans.iter().map(|s| s.content.to_string()))
            .collect();
        assert!(!text.chars().any(|c| c.is_control()), "{text:?}");
        assert!(text.contains("\\u{9b}31m"), "{text:?}");
    }
}
