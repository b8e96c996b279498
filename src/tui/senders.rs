//! The senders view (`5`): for one stream (the selected event's destination
//! and sub-topic, taken when `5` is pressed), every sender by UID with its
//! latest ETID, messages since the TUI started watching, time since its last
//! message, its usual interval and its last messages (from the ring). A
//! sender that went silent — nothing for three times its usual interval —
//! is listed first and stands out.
//!
//! May import: `tui::{app, theme, history}`, `trace::schema`, `output`, ratatui.

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::app::App;
use super::history::{Summary, sender_of, short_duration};
use super::theme::{Theme, count, cut};
use crate::output::escape_controls;
use crate::trace::schema::{Encoding, Event};

/// Last messages shown per sender.
const LAST: usize = 3;

/// One row of the view.
#[derive(Debug, Clone, PartialEq)]
pub struct SenderRow<'a> {
    pub sender: &'a str,
    pub summary: &'a Summary,
    pub since: Option<jiff::SignedDuration>,
    pub silent: bool,
}

/// The rows for the view's stream: silent senders first (longest silence
/// first), then by name.
pub fn rows(app: &App) -> Vec<SenderRow<'_>> {
    let Some(st) = app.senders_key.as_ref().and_then(|k| app.senders.stream(k)) else {
        return Vec::new();
    };
    let typical = st.typical_interval();
    let mut rows: Vec<SenderRow> = st
        .senders
        .iter()
        .map(|(name, s)| {
            let since = app.now.and_then(|now| s.since(now));
            let silent = app.now.is_some_and(|now| st.is_silent(s, typical, now));
            SenderRow {
                sender: name,
                summary: s,
                since,
                silent,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.silent
            .cmp(&a.silent)
            .then_with(|| {
                if a.silent {
                    b.since.cmp(&a.since)
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .then_with(|| a.sender.cmp(b.sender))
    });
    rows
}

/// A payload in one short line.
fn preview(e: &Event) -> String {
    match (&e.payload, e.encoding) {
        (Some(p), Some(Encoding::Base64)) => match e.preview_bytes() {
            Some(b) => format!("0x{}", hex::encode(&b[..b.len().min(8)])),
            None => p.clone(),
        },
        (Some(p), _) => escape_controls(&cut(p, 60)),
        (None, _) => String::new(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let Some(key) = &app.senders_key else {
        let block = Block::new()
            .borders(Borders::TOP)
            .border_style(theme.dim())
            .title(Span::styled(" Senders ", theme.title()));
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(""),
                Line::from(Span::styled(
                    "select a message in the events view (1), then press 5: the senders of its topic and sub-topic",
                    theme.dim(),
                )),
            ])
            .alignment(Alignment::Center)
            .block(block),
            area,
        );
        return;
    };
    let rows = rows(app);
    let stream = app.senders.stream(key);
    let silent = rows.iter().filter(|r| r.silent).count();
    let mut title = vec![
        Span::styled(" Senders ", theme.title()),
        Span::styled(escape_controls(&key.label()), theme.title()),
        Span::styled(
            format!(
                "  {} senders · {} messages",
                count(rows.len() as u64),
                count(stream.map_or(0, |s| s.messages))
            ),
            theme.dim(),
        ),
    ];
    if silent > 0 {
        title.push(Span::styled(format!(" · {silent} silent"), theme.warn()));
    }
    if let Some(n) = stream.map(|s| s.untracked).filter(|n| *n > 0) {
        title.push(Span::styled(
            format!(" · {} messages of senders beyond the cap", count(n)),
            theme.dim(),
        ));
    }
    let height = area.height.saturating_sub(2) as usize;
    let selected = app.senders_scroll.min(rows.len().saturating_sub(1));
    let start = selected.saturating_sub(height.saturating_sub(1));
    let visible = &rows[start.min(rows.len())..(start + height).min(rows.len())];

    // The last messages of the visible senders, newest first, from the ring.
    let mut last: HashMap<&str, Vec<String>> =
        visible.iter().map(|r| (r.sender, Vec::new())).collect();
    let mut open = visible.len();
    for e in app.ring.newest_first() {
        if open == 0 {
            break;
        }
        if !key.matches(e) {
            continue;
        }
        let who = sender_of(e);
        if let Some(v) = last.get_mut(who.as_ref())
            && v.len() < LAST
        {
            v.push(preview(e));
            if v.len() == LAST {
                open -= 1;
            }
        }
    }

    let right = |s: String| Cell::from(Line::from(s).alignment(Alignment::Right));
    let table: Vec<Row> = visible
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let s = r.summary;
            let mark = if start + i == selected { "▶ " } else { "  " };
            let etid = if s.etids > 1 {
                format!("{} ({}×)", s.etid, s.etids)
            } else {
                s.etid.to_string()
            };
            let ago = r.since.map(short_duration).unwrap_or_default();
            let every = s.interval().map(short_duration).unwrap_or_default();
            let msgs = last
                .get(r.sender)
                .map(|v| v.join(" · "))
                .unwrap_or_default();
            let row = Row::new(vec![
                Cell::from(format!("{mark}{}", escape_controls(r.sender))),
                right(etid),
                right(count(s.count)),
                right(ago),
                right(every),
                Cell::from(Span::styled(
                    if r.silent { "silent" } else { "" },
                    theme.warn(),
                )),
                Cell::from(Span::styled(msgs, theme.dim())),
            ]);
            if start + i == selected {
                row.style(theme.selected())
            } else if r.silent {
                row.style(theme.warn())
            } else {
                row
            }
        })
        .collect();
    let empty = table.is_empty();
    let name_width = visible
        .iter()
        .map(|r| r.sender.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(6, 32) as u16
        + 2;
    frame.render_widget(
        Table::new(
            table,
            [
                Constraint::Length(name_width),
                Constraint::Length(10),
                Constraint::Length(7),
                Constraint::Length(8),
                Constraint::Length(7),
                Constraint::Length(6),
                Constraint::Fill(3),
            ],
        )
        .header(
            Row::new(vec![
                "  sender",
                "      etid",
                "   msgs",
                "    last",
                "  every",
                "",
                "last messages (newest first)",
            ])
            .style(theme.label()),
        )
        .column_spacing(1)
        .block(
            Block::new()
                .borders(Borders::TOP)
                .border_style(theme.dim())
                .title(Line::from(title)),
        ),
        area,
    );
    if empty && area.height > 3 {
        let r = Rect {
            y: area.y + 2,
            height: 1,
            ..area
        };
        frame.render_widget(
            Paragraph::new(Span::styled("no message of this stream yet", theme.dim()))
                .alignment(Alignment::Center),
            r,
        );
    }
}
