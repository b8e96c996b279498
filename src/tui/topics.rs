//! The topics view: every topic seen (from the attach snapshot and events) with
//! its TID, current subscriber count, messages and drops. A topic that drops
//! messages and has no subscriber — the classic "published to nobody"
//! mistake — is flagged (when the subscriber count is known: from the attach
//! snapshot or subscribe events; `?` otherwise).
//!
//! Enter on a topic shows its events (a topic filter) in the events view.
//!
//! May import: `tui::{app, theme}`, `trace::schema`, ratatui.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use super::app::App;
use super::theme::{Theme, count};
use crate::trace::schema::Kind;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let rows = app.topic_rows();
    let height = area.height.saturating_sub(2) as usize;
    let selected = app.topics_scroll.min(rows.len().saturating_sub(1));
    let start = selected.saturating_sub(height.saturating_sub(1));
    let right = |s: String| Cell::from(Line::from(s).alignment(Alignment::Right));
    let table: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(start)
        .take(height)
        .map(|(i, (name, s))| {
            let subs = match s.subscribers {
                Some(n) => n.to_string(),
                None => "?".into(),
            };
            // Only when the count is known: a replay from mid-stream has no snapshot.
            let nobody = s.drops > 0 && s.subscribers == Some(0);
            let drops = if s.drops > 0 {
                Cell::from(
                    Line::from(Span::styled(count(s.drops), theme.kind(Kind::Drop)))
                        .alignment(Alignment::Right),
                )
            } else {
                right("0".into())
            };
            let mark = if i == selected { "▶ " } else { "  " };
            let row = Row::new(vec![
                Cell::from(format!("{mark}{name}")),
                right(s.tid.map(|t| t.to_string()).unwrap_or_default()),
                right(subs),
                right(count(s.publishes)),
                drops,
                Cell::from(Span::styled(
                    if nobody { "no subscriber" } else { "" },
                    theme.warn(),
                )),
            ]);
            if i == selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let other = &app.topics.other;
    let mut title = format!(" Topics ({}) ", count(rows.len() as u64));
    if app.topics.overflowed > 0 {
        title.push_str(&format!(
            "+ other: {} msgs, {} drops ",
            count(other.publishes),
            count(other.drops)
        ));
    }
    frame.render_widget(
        Table::new(
            table,
            [
                Constraint::Fill(2),
                // TIDs are u32: ten digits, never cut (a right-aligned cell
                // that is too narrow shows only the last digits).
                Constraint::Length(10),
                Constraint::Length(5),
                Constraint::Length(9),
                Constraint::Length(7),
                Constraint::Fill(1),
            ],
        )
        .header(
            Row::new(vec![
                "  topic",
                "       tid",
                " subs",
                "     msgs",
                "  drops",
                "",
            ])
            .style(theme.label()),
        )
        .block(
            Block::new()
                .borders(Borders::TOP)
                .border_style(theme.dim())
                .title(Span::styled(title, theme.title())),
        ),
        area,
    );
}
