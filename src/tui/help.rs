//! The help overlay: the keys, in the order a newcomer needs them, drawn on
//! top of whatever view is open.
//!
//! May import: `tui::theme`, ratatui.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::theme::Theme;

/// The keys, in the order a newcomer needs them.
pub const KEYS: &[(&str, &str)] = &[
    ("↑↓ j k", "select an event (the end follows new ones)"),
    ("PgUp PgDn", "page up / down"),
    ("Home End", "first event / follow the newest"),
    ("Enter", "open/close the detail pane ([ ] scroll it)"),
    ("D", "diff with the sender's previous message (detail)"),
    ("Space p", "pause/resume (events are still counted)"),
    ("/", "search topic, sub-topic, UID, payload"),
    ("d  m", "drops only / messages only: publish, drop, deny"),
    ("t x + -", "keep / hide topics (globs a,b*) / the selected"),
    ("c", "clear the filter"),
    ("e", "export filtered events to NDJSON"),
    ("r  R", "reply to the sender's ETID / publish it again"),
    ("o  y", "observe the sender (◉; ✖ left) / copy as pub"),
    ("Tab 1-6", "events/stats/topics/findings/senders/plot"),
    ("5", "senders of the selected event's topic+sub-topic"),
    ("g  G", "plot a field of the selected JSON event / unplot"),
    ("Enter", "(topics, findings) show its events; Esc: all"),
    ("?  q", "this help (any key closes) / quit (Ctrl-C too)"),
];

pub fn draw(frame: &mut Frame, area: Rect, theme: Theme) {
    let w = 64.min(area.width);
    let h = (KEYS.len() as u16 + 4).min(area.height);
    let rect = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{k:>10}  "), theme.key()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "DROP = a message nobody received",
        theme.dim(),
    )));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Keys ")),
        rect,
    );
}
