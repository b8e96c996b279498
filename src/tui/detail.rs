//! The detail pane: every name and ID of the selected event, then its payload
//! preview as pretty JSON with syntax colour, as text, or as a hex dump for
//! binary (base64 in the event) — the same dump `smqctl sub --format hex` prints.
//! With `D`, the payload's changes against the sender's previous message
//! instead ([`super::diff`]).
//!
//! May import: `tui::{app, theme, diff}`, `trace::schema`, `output`, ratatui.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::app::App;
use super::theme::{Theme, clock, kind_label};
use crate::output::{escape_controls, hexdump};
use crate::trace::schema::{DestType, Encoding, Event};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let title = if app.diff {
        " Detail: diff with the sender's previous message (D payload · Enter closes) "
    } else {
        " Detail (Enter closes · [ ] scroll) "
    };
    let block = Block::bordered()
        .border_style(theme.dim())
        .title(Span::styled(title, theme.title()));
    let Some(e) = app.selected_event() else {
        frame.render_widget(
            Paragraph::new(Span::styled("no event selected", theme.dim())).block(block),
            area,
        );
        return;
    };
    let lines = lines(e, app, theme);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((app.detail_scroll, 0)),
        area,
    );
}

fn field<'a>(name: &'a str, value: String, theme: Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{name:<9} "), theme.label()),
        Span::raw(value),
    ])
}

/// The pane's lines for `e`.
pub fn lines<'a>(e: &'a Event, app: &App, theme: Theme) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    out.push(Line::from(vec![
        Span::styled(format!("{:<9} ", "kind"), theme.label()),
        Span::styled(kind_label(e.kind), theme.kind(e.kind)),
        Span::raw(format!(" {}", e.kind)),
    ]));
    out.push(field(
        "time",
        format!("{} ({})", e.ts, clock(e, &app.zone)),
        theme,
    ));
    if let Some(c) = &e.from {
        let mut v = format!("etid {}", c.etid);
        if c.server {
            v = format!("the broker · {v}");
        }
        if let Some(u) = &c.uid {
            v = format!("{} · {v}", escape_controls(u));
        }
        if let Some(i) = c.info.as_deref().filter(|i| !i.is_empty()) {
            v.push_str(&format!(" · info {}", escape_controls(i)));
        }
        if let Some(a) = &c.addr {
            v.push_str(&format!(" · {a}"));
        }
        out.push(field("from", v, theme));
    }
    if let Some(d) = &e.to {
        let v = match d.kind {
            DestType::Topic => format!(
                "topic {} · tid {}",
                escape_controls(d.name.as_deref().unwrap_or("?")),
                d.tid
            ),
            DestType::Client => format!(
                "client {} · etid {}",
                escape_controls(d.uid.as_deref().unwrap_or("?")),
                d.tid
            ),
            DestType::Server => format!("the broker (server etid {})", d.tid),
            DestType::Unknown => format!("unknown tid {} (stale ETID or never created)", d.tid),
        };
        out.push(field("to", v, theme));
    }
    if e.subtopic.is_some() || e.subtid.is_some_and(|s| s != 0) {
        let name = e.subtopic.as_deref().map(escape_controls);
        let v = match (name, e.subtid) {
            (Some(n), Some(id)) => format!("{n} · subtid {id}"),
            (Some(n), None) => n,
            (None, Some(id)) => format!("subtid {id} (no name)"),
            (None, None) => String::new(),
        };
        out.push(field("subtopic", v, theme));
    }
    if let Some(size) = e.size {
        let mut v = format!("{size} bytes");
        if let Some(enc) = e.encoding {
            v.push_str(&format!(" · {}", encoding_name(enc)));
        }
        if e.truncated {
            v.push_str(" · preview truncated");
        }
        out.push(field("size", v, theme));
    }
    if let Some(v) = e.verdict {
        out.push(field("verdict", format!("onpublish said {v}"), theme));
    }
    if let Some(n) = e.receivers {
        out.push(field("receivers", n.to_string(), theme));
    }
    if let Some(r) = &e.reason {
        out.push(Line::from(vec![
            Span::styled(format!("{:<9} ", "reason"), theme.label()),
            Span::styled(escape_controls(r), theme.warn()),
        ]));
    }
    if let Some(n) = e.skipped {
        out.push(field("skipped", format!("{n} events"), theme));
    }
    if let Some(s) = &e.snapshot {
        let server = s
            .server_etid
            .map(|n| format!(" (server etid {n})"))
            .unwrap_or_default();
        out.push(field(
            "snapshot",
            format!(
                "{} topics, {} sub-topics, {} clients{server}",
                s.topics.len(),
                s.subtopics.len(),
                s.clients.len()
            ),
            theme,
        ));
        for t in &s.topics {
            let subs = t
                .subscribers
                .map(|n| format!(" · {n} subscribers"))
                .unwrap_or_default();
            out.push(Line::from(format!(
                "  topic {} · tid {}{subs}",
                escape_controls(&t.name),
                t.tid
            )));
        }
        for c in &s.clients {
            out.push(Line::from(format!(
                "  client {} · etid {}",
                escape_controls(c.uid.as_deref().unwrap_or("?")),
                c.etid
            )));
        }
    }
    if app.diff {
        out.push(Line::from(""));
        let prev = app.previous_of_selected();
        out.extend(super::diff::lines(e, prev, &app.zone, theme));
    } else if let Some(p) = &e.payload {
        out.push(Line::from(""));
        out.extend(payload(e, p, theme));
    }
    out
}

fn encoding_name(enc: Encoding) -> &'static str {
    match enc {
        Encoding::Json => "json",
        Encoding::Text => "text",
        Encoding::Base64 => "binary",
    }
}

fn payload<'a>(e: &Event, p: &str, theme: Theme) -> Vec<Line<'a>> {
    match e.encoding {
        Some(Encoding::Json) => {
            let pretty = serde_json::from_str::<serde_json::Value>(p)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| p.to_string());
            pretty.lines().map(|l| json_line(l, theme)).collect()
        }
        Some(Encoding::Base64) => match e.preview_bytes() {
            Some(bytes) => hexdump(&bytes)
                .lines()
                .map(|l| Line::from(l.to_string()))
                .collect(),
            None => vec![Line::from(format!("(invalid base64) {p}"))],
        },
        _ => p
            .split('\n')
            .map(|l| Line::from(escape_controls(l)))
            .collect(),
    }
}

/// Colours one line of pretty-printed JSON: keys, strings, numbers, literals.
pub fn json_line<'a>(line: &str, theme: Theme) -> Line<'a> {
    let style = |c: Color| {
        if theme.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    };
    let mut spans = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut plain = String::new();
    let flush = |plain: &mut String, spans: &mut Vec<Span<'a>>| {
        if !plain.is_empty() {
            spans.push(Span::raw(std::mem::take(plain)));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            flush(&mut plain, &mut spans);
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(chars.len());
            let s: String = chars[i..end].iter().collect();
            let is_key = chars[end..].iter().find(|c| !c.is_whitespace()) == Some(&':');
            let color = if is_key { Color::Blue } else { Color::Green };
            spans.push(Span::styled(escape_controls(&s), style(color)));
            i = end;
        } else if c == '-' || c.is_ascii_digit() {
            flush(&mut plain, &mut spans);
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || "+-.".contains(chars[j]))
            {
                j += 1;
            }
            spans.push(Span::styled(
                chars[i..j].iter().collect::<String>(),
                style(Color::Cyan),
            ));
            i = j;
        } else if c.is_ascii_alphabetic() {
            flush(&mut plain, &mut spans);
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_alphabetic() {
                j += 1;
            }
            spans.push(Span::styled(
                chars[i..j].iter().collect::<String>(),
                style(Color::Magenta),
            ));
            i = j;
        } else {
            plain.push(c);
            i += 1;
        }
    }
    flush(&mut plain, &mut spans);
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_colour_keys_strings_numbers_and_literals() {
        let theme = Theme { color: true };
        let line = json_line(r#"  "On": true, "n": -1.5e3, "s": "a\"b""#, theme);
        let parts: Vec<(String, Option<Color>)> = line
            .spans
            .iter()
            .map(|s| (s.content.to_string(), s.style.fg))
            .collect();
        assert_eq!(
            parts,
            vec![
                ("  ".into(), None),
                ("\"On\"".into(), Some(Color::Blue)),
                (": ".into(), None),
                ("true".into(), Some(Color::Magenta)),
                (", ".into(), None),
                ("\"n\"".into(), Some(Color::Blue)),
                (": ".into(), None),
                ("-1.5e3".into(), Some(Color::Cyan)),
                (", ".into(), None),
                ("\"s\"".into(), Some(Color::Blue)),
                (": ".into(), None),
                ("\"a\\\"b\"".into(), Some(Color::Green)),
            ]
        );
        // An unterminated string does not panic or loop.
        let _ = json_line("\"abc\\", theme);
    }
}
