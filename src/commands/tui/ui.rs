//! Drawing: a pure function of [`App`] into a ratatui frame. The screen is a
//! header (views, source), the filter bar, the current view, and a status line
//! (connection status and totals); the help overlay draws on top. The views
//! live in their own files; this one holds the frame, the shared styles and
//! small formatting helpers.
//!
//! Colour is optional (`App::color`, off for NO_COLOR): without it, the things
//! that must stand out (drops, the selection) use bold and reverse video.
//!
//! May import: `commands::tui::{app, events, detail, stats, topics}`, `trace`,
//! `text`, ratatui.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::app::{App, Mode, PromptKind, Tab};
use crate::trace::schema::Kind;
use crate::trace::source::Status;

/// Styles, with or without colour.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn title(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn label(self) -> Style {
        self.fg(Color::Blue)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn error(self) -> Style {
        if self.color {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    pub fn selected(self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::Indexed(237))
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    /// The kind column: drops stand out (white on red, or reverse video).
    pub fn kind(self, k: Kind) -> Style {
        match k {
            Kind::Drop => {
                if self.color {
                    Style::new()
                        .fg(Color::White)
                        .bg(Color::Red)
                        .add_modifier(Modifier::BOLD)
                } else {
                    Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
                }
            }
            Kind::Publish => self.fg(Color::Green),
            Kind::Deny => self.fg(Color::Magenta).add_modifier(Modifier::BOLD),
            Kind::Connect | Kind::Snapshot => self.fg(Color::Cyan),
            Kind::Close => self.fg(Color::Yellow),
            Kind::Subscribe | Kind::Unsubscribe => self.fg(Color::Blue),
            Kind::Notice => self.warn(),
            Kind::Error => self.error(),
            Kind::Create | Kind::Createsub | Kind::Unknown => self.dim(),
            // Broker-local: never sent to a tracer, shown like an unknown kind.
            Kind::Reject
            | Kind::Shutdown
            | Kind::Attach
            | Kind::Queuefull
            | Kind::Observe
            | Kind::Unobserve => self.dim(),
        }
    }
}

/// Short label of a kind for the table.
pub fn kind_label(k: Kind) -> &'static str {
    match k {
        Kind::Publish => "PUB",
        Kind::Drop => "DROP",
        Kind::Deny => "DENY",
        Kind::Connect => "CONN",
        Kind::Close => "CLOSE",
        Kind::Subscribe => "SUB",
        Kind::Unsubscribe => "UNSUB",
        Kind::Create => "CREATE",
        Kind::Createsub => "SUBTOP",
        Kind::Snapshot => "SNAP",
        Kind::Notice => "NOTICE",
        Kind::Error => "ERROR",
        // Broker-local kinds never reach a tracer.
        Kind::Unknown
        | Kind::Reject
        | Kind::Shutdown
        | Kind::Attach
        | Kind::Queuefull
        | Kind::Observe
        | Kind::Unobserve => "?",
    }
}

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Rows the events table has for rows of data in a terminal of `area`
/// (used by the loop for paging).
pub fn table_rows(area: Rect, app: &App) -> usize {
    let main = areas(area).main;
    let table = if app.detail {
        super::events::split(main).0
    } else {
        main
    };
    // Title line and column header.
    table.height.saturating_sub(2) as usize
}

struct Areas {
    header: Rect,
    filter: Rect,
    main: Rect,
    status: Rect,
}

fn areas(area: Rect) -> Areas {
    let [header, filter, main, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    Areas {
        header,
        filter,
        main,
        status,
    }
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let theme = Theme { color: app.color };
    let a = areas(frame.area());
    header(frame, a.header, app, theme);
    filter_bar(frame, a.filter, app, theme);
    match app.tab {
        Tab::Events => super::events::draw(frame, a.main, app, theme),
        Tab::Stats => super::stats::draw(frame, a.main, app, theme),
        Tab::Topics => super::topics::draw(frame, a.main, app, theme),
    }
    status_line(frame, a.status, app, theme);
    if app.mode == Mode::Help {
        help(frame, frame.area(), theme);
    }
}

fn header(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let mut spans = vec![Span::styled(" smqctl tui ", theme.title())];
    for (tab, label) in [
        (Tab::Events, "1 Events"),
        (Tab::Stats, "2 Stats"),
        (Tab::Topics, "3 Topics"),
    ] {
        let style = if tab == app.tab {
            theme.selected()
        } else {
            theme.dim()
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(format!(" {label} "), style));
    }
    spans.push(Span::raw("  "));
    if matches!(app.status, Some(Status::Degraded { .. })) {
        spans.push(Span::styled("DEGRADED ", theme.warn()));
    }
    spans.push(Span::styled(app.source.clone(), theme.dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn filter_bar(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let line = match &app.mode {
        Mode::Prompt(p) => {
            let label = match p.kind {
                PromptKind::Text => "/ search: ",
                PromptKind::Include => "topics to keep (a,b*): ",
                PromptKind::Exclude => "topics to hide (a,b*): ",
                PromptKind::Export => "export filtered events to: ",
            };
            let hint = match p.kind {
                PromptKind::Export => "  (Enter write · Esc cancel)",
                _ => "  (Enter keep · Esc undo)",
            };
            Line::from(vec![
                Span::styled(label, theme.key()),
                Span::raw(p.input.clone()),
                Span::styled("█", theme.dim()),
                Span::styled(hint, theme.dim()),
            ])
        }
        _ if app.filter.is_empty() => Line::from(vec![
            Span::styled("filter: ", theme.label()),
            Span::styled("none", theme.dim()),
            Span::styled(
                "   / search · d drops · m messages · t/x topics · ? help",
                theme.dim(),
            ),
        ]),
        _ => {
            let f = &app.filter;
            let mut spans = vec![Span::styled("filter: ", theme.label())];
            if !f.kinds.is_empty() {
                let kinds: Vec<&str> = f.kinds.iter().map(|k| k.as_str()).collect();
                spans.push(Span::styled(
                    format!("kinds {} ", kinds.join("+")),
                    theme.warn(),
                ));
            }
            if !f.text.is_empty() {
                spans.push(Span::raw(format!("\"{}\" ", f.text)));
            }
            for p in &f.include {
                spans.push(Span::raw(format!("+{p} ")));
            }
            for p in &f.exclude {
                spans.push(Span::raw(format!("-{p} ")));
            }
            spans.push(Span::styled("  c clear", theme.dim()));
            Line::from(spans)
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The connection status in a few words, and its style.
pub fn status_text(app: &App, theme: Theme) -> (String, Style) {
    match &app.status {
        None if app.totals.events == 0 => ("waiting for events".into(), theme.dim()),
        None => (format!("● reading {}", app.source), theme.dim()),
        Some(Status::Connecting { url }) => (format!("connecting to {url}…"), theme.warn()),
        Some(Status::Attached { etid }) => (
            format!("● attached (etid {etid})"),
            theme.fg(Color::Green).add_modifier(Modifier::BOLD),
        ),
        Some(Status::Degraded { reason, topics, .. }) => (
            format!(
                "◐ degraded, client-side only ({}): {reason}",
                if topics.is_empty() {
                    "no topics".to_string()
                } else {
                    topics.join(", ")
                }
            ),
            theme.warn(),
        ),
        Some(Status::Reconnecting {
            reason,
            attempt,
            delay,
        }) => (
            format!(
                "↻ reconnecting in {:.1}s (attempt {attempt}): {reason}",
                delay.as_secs_f64()
            ),
            theme.warn(),
        ),
        Some(Status::Ended { reason, error }) => (
            format!("■ {reason}"),
            if *error { theme.error() } else { theme.dim() },
        ),
    }
}

fn status_line(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let t = &app.totals;
    let rate = app.last_rate();
    let mut right = format!(
        " {} ev · {} drop · {}/s",
        count(t.events),
        count(t.kind(Kind::Drop)),
        count(rate.messages)
    );
    if app.paused {
        right = format!(" PAUSED +{}{right}", count(app.held));
    }
    let mut right_len = right.chars().count() as u16;
    let left = match &app.flash {
        Some(f) => Span::styled(
            f.text.clone(),
            if f.error { theme.error() } else { theme.warn() },
        ),
        None => {
            let (text, style) = status_text(app, theme);
            Span::styled(text, style)
        }
    };
    // A message (e.g. the exported file's full path), or a status with a
    // reason (degraded, reconnecting, ended), takes the whole line when it does
    // not fit beside the counters: the why matters more than the totals.
    let has_reason = app.flash.is_some()
        || matches!(
            app.status,
            Some(Status::Degraded { .. } | Status::Reconnecting { .. } | Status::Ended { .. })
        );
    if has_reason && left.content.chars().count() as u16 + right_len > area.width {
        // Pausing stays visible: it explains why the table stands still.
        right = if app.paused {
            format!(" PAUSED +{}", count(app.held))
        } else {
            String::new()
        };
        right_len = right.chars().count() as u16;
    }
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right_len)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)), left_area);
    let right_style = if app.paused {
        theme.warn()
    } else {
        theme.dim()
    };
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(right, right_style))),
        right_area,
    );
}

/// The keys, in the order a newcomer needs them.
pub const KEYS: &[(&str, &str)] = &[
    ("↑↓ j k", "select an event (the end follows new ones)"),
    ("PgUp PgDn", "page up / down"),
    ("Home End", "first event / follow the newest"),
    ("Enter", "open/close the detail pane ([ ] scroll it)"),
    ("Space p", "pause/resume (events are still counted)"),
    ("/", "search topic, sub-topic, UID, payload"),
    ("d", "drops only (toggle)"),
    ("m", "messages only: publish, drop, deny"),
    ("t  x", "topics to keep / hide (globs a,b*)"),
    ("+  -", "keep only / hide the selected topic"),
    ("c", "clear the filter"),
    ("e", "export filtered events to NDJSON"),
    ("Tab 1 2 3", "events / stats / topics view"),
    ("Enter", "(topics view) show that topic's events"),
    ("?", "this help (any key closes)"),
    ("q Ctrl-C", "quit"),
];

fn help(frame: &mut Frame, area: Rect, theme: Theme) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn cut_marks_what_it_removes() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("ééé", 2), "é…");
    }
}
