//! The events view: the live table (time, kind, from, to, sub-topic, size,
//! preview) over the filtered ring, and the detail pane of the selected event
//! below it when open. Only the visible rows are formatted, so a frame costs
//! the same with 10 or 10 million events behind it.
//!
//! May import: `tui::{app, theme, detail}`, `trace::schema`, `output`, ratatui.

use base64::Engine;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use super::app::App;
use super::theme::{Theme, clock, count, cut, kind_label};
use crate::output::escape_controls;
use crate::trace::schema::{Encoding, Event, Kind};

/// Table area and detail area when the detail pane is open.
pub fn split(area: Rect) -> (Rect, Rect) {
    let [table, detail] =
        Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(area);
    (table, detail)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let (table_area, detail_area) = if app.detail {
        let (t, d) = split(area);
        (t, Some(d))
    } else {
        (area, None)
    };
    table(frame, table_area, app, theme);
    if let Some(d) = detail_area {
        super::detail::draw(frame, d, app, theme);
    }
}

/// Who acted: UID, else `etid N`.
pub fn from_label(e: &Event) -> String {
    match &e.from {
        Some(c) => c.label(),
        None => String::new(),
    }
}

/// The from column: the sender, marked ◉ while observed (`o`) and ✖ once the
/// broker said it left.
fn from_cell<'a>(app: &App, e: &Event, theme: Theme) -> Cell<'a> {
    let label = from_label(e);
    match e.from.as_ref().and_then(|c| app.observed.get(&c.etid)) {
        Some(w) if w.gone => Cell::from(Line::from(vec![
            Span::styled("✖ ", theme.error()),
            Span::raw(label),
        ])),
        Some(_) => Cell::from(Line::from(vec![
            Span::styled("◉ ", theme.warn()),
            Span::raw(label),
        ])),
        None => Cell::from(label),
    }
}

/// The one-line preview column: payload for messages (prefixed by the reason
/// for drops and denials), otherwise what the event is about.
pub fn preview(e: &Event) -> String {
    let payload = match (&e.payload, e.encoding) {
        (Some(p), Some(Encoding::Base64)) => {
            match base64::engine::general_purpose::STANDARD.decode(p) {
                Ok(b) => format!("0x{}", hex::encode(&b[..b.len().min(32)])),
                Err(_) => p.clone(),
            }
        }
        (Some(p), _) => escape_controls(p),
        (None, _) => String::new(),
    };
    let reason = e.reason.as_deref().map(escape_controls);
    match e.kind {
        Kind::Snapshot => match &e.snapshot {
            Some(s) => format!(
                "{} topics, {} sub-topics, {} clients",
                s.topics.len(),
                s.subtopics.len(),
                s.clients.len()
            ),
            None => String::new(),
        },
        Kind::Connect => {
            let c = e.from.as_ref();
            let mut parts = Vec::new();
            if let Some(a) = c.and_then(|c| c.addr.as_deref()) {
                parts.push(a.to_string());
            }
            if let Some(i) = c.and_then(|c| c.info.as_deref()).filter(|i| !i.is_empty()) {
                parts.push(format!("info {}", escape_controls(i)));
            }
            parts.join(" · ")
        }
        Kind::Notice => match (reason, e.skipped) {
            (Some(r), Some(n)) => format!("{r} ({n} skipped)"),
            (Some(r), None) => r,
            (None, Some(n)) => format!("{n} skipped"),
            (None, None) => String::new(),
        },
        _ => match reason {
            Some(r) if payload.is_empty() => format!("({r})"),
            Some(r) => format!("({r}) {payload}"),
            None => payload,
        },
    }
}

fn table(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let height = area.height.saturating_sub(2) as usize;
    let (start, end) = app.window(height);
    let selected = app.selected_index();
    let wide = area.width >= 90;
    let mut title = vec![Span::styled(" Events ", theme.title())];
    let mut info = format!(
        "{} shown · {} kept of {}",
        count(app.rows() as u64),
        count(app.ring.len() as u64),
        count(app.totals.events)
    );
    if let Some(sp) = &app.spill {
        info.push_str(&format!(" · {} spilled", count(sp.store.len())));
        if !sp.back.is_empty() {
            info.push_str(&format!(", {} paged back", count(sp.back.len() as u64)));
        }
    }
    if app.paused {
        info.push_str(" · PAUSED");
    } else if app.follow {
        info.push_str(" · following");
    }
    title.push(Span::styled(info, theme.dim()));

    let rows: Vec<Row> = (start..end)
        .filter_map(|i| {
            let (_, e) = app.row(i)?;
            let mark = if Some(i) == selected { "▶" } else { " " };
            let to = e.to.as_ref().map(|d| d.label()).unwrap_or_default();
            let sub = match (&e.subtopic, e.subtid) {
                (Some(s), _) => s.clone(),
                (None, Some(id)) if id != 0 => format!("#{id}"),
                _ => String::new(),
            };
            let size = e.size.map(|s| s.to_string()).unwrap_or_default();
            let mut cells = vec![
                Cell::from(mark),
                Cell::from(Span::styled(clock(e, &app.zone), theme.dim())),
                Cell::from(Span::styled(kind_label(e.kind), theme.kind(e.kind))),
                from_cell(app, e, theme),
                Cell::from(to),
            ];
            if wide {
                cells.push(Cell::from(sub));
            }
            cells.push(Cell::from(Line::from(size).alignment(Alignment::Right)));
            cells.push(Cell::from(Span::styled(cut(&preview(e), 200), theme.dim())));
            let row = Row::new(cells);
            Some(if Some(i) == selected {
                row.style(theme.selected())
            } else {
                row
            })
        })
        .collect();

    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(12),
        Constraint::Length(6),
        Constraint::Fill(2),
        Constraint::Fill(2),
    ];
    let mut header = vec!["", "time", "kind", "from", "to"];
    if wide {
        widths.push(Constraint::Fill(1));
        header.push("sub");
    }
    widths.push(Constraint::Length(6));
    header.push("  size");
    widths.push(Constraint::Fill(3));
    header.push("preview");
    let empty = rows.is_empty();
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.label()))
        .column_spacing(1)
        .block(
            Block::new()
                .borders(Borders::TOP)
                .border_style(theme.dim())
                .title(Line::from(title)),
        );
    frame.render_widget(table, area);
    if empty && area.height > 3 {
        let msg = if app.totals.events == 0 {
            "no events yet"
        } else {
            "no event matches the filter (c clears it)"
        };
        let msg = match &app.spill {
            Some(sp) if app.totals.events > 0 && sp.older_left() => {
                "no event in the buffer matches the filter (↑ searches the spill file)"
            }
            _ => msg,
        };
        let r = Rect {
            y: area.y + 2,
            height: 1,
            ..area
        };
        frame.render_widget(
            ratatui::widgets::Paragraph::new(Span::styled(msg, theme.dim()))
                .alignment(Alignment::Center),
            r,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_column_shows_whole_second_lua_times_without_a_made_up_000() {
        let utc = jiff::tz::TimeZone::UTC;
        let at = |ts: &str| clock(&Event::new(Kind::Publish, ts.into()), &utc);
        assert_eq!(at("2026-11-22T03:44:17Z"), "03:44:17");
        assert_eq!(at("2026-11-22T03:44:17.120Z"), "03:44:17.120");
        assert_eq!(at("not a time"), "not a time");
    }
}
