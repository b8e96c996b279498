//! The stats view: messages/s and drops/s sparklines over the rate history,
//! then the busiest topics (messages and drops), the top publishers and the
//! connected clients, all from the exact counters in [`App`].
//!
//! May import: `tui::{app, theme}`, `trace::schema`, ratatui.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Row, Sparkline, Table};

use super::app::{App, RateSample};
use super::theme::{Theme, count, cut};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let [msgs, drops, lists] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Min(0),
    ])
    .areas(area);
    spark(frame, msgs, app, theme, "messages/s", |s| s.messages, false);
    spark(frame, drops, app, theme, "drops/s", |s| s.drops, true);
    let [topics, publishers, clients] = Layout::horizontal([
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
    ])
    .areas(lists);
    top_topics(frame, topics, app, theme);
    top_publishers(frame, publishers, app, theme);
    client_list(frame, clients, app, theme);
}

fn spark(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    theme: Theme,
    name: &str,
    value: fn(&RateSample) -> u64,
    drops: bool,
) {
    let width = area.width as usize;
    let skip = app.rates.len().saturating_sub(width);
    let data: Vec<u64> = app.rates.iter().skip(skip).map(value).collect();
    let now = data.last().copied().unwrap_or(0);
    let peak = data.iter().copied().max().unwrap_or(0);
    let total = if drops {
        app.totals.drops()
    } else {
        app.totals.messages()
    };
    // Receiver misses (a full queue) are not drops of a message: said apart.
    let missed = match app.totals.misses {
        n if drops && n > 0 => format!(" · {} missed by full queues", count(n)),
        _ => String::new(),
    };
    let title = Line::from(vec![
        Span::styled(format!(" {name} "), theme.title()),
        Span::styled(
            format!(
                "now {} · peak {} · total {}{missed}",
                count(now),
                count(peak),
                count(total)
            ),
            theme.dim(),
        ),
    ]);
    let style = match (theme.color, drops) {
        (false, _) => ratatui::style::Style::new(),
        (true, true) => ratatui::style::Style::new().fg(Color::Red),
        (true, false) => ratatui::style::Style::new().fg(Color::Green),
    };
    frame.render_widget(
        Sparkline::default()
            .block(
                Block::new()
                    .borders(Borders::TOP)
                    .border_style(theme.dim())
                    .title(title),
            )
            .data(&data)
            .style(style),
        area,
    );
}

fn list_block<'a>(title: String, theme: Theme) -> Block<'a> {
    Block::new()
        .borders(Borders::TOP)
        .border_style(theme.dim())
        .title(Span::styled(title, theme.title()))
}

fn top_topics(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let mut rows: Vec<(&str, u64, u64)> = app
        .topics
        .map
        .iter()
        .map(|(k, v)| (k.as_str(), v.publishes, v.drops))
        .filter(|r| r.1 + r.2 > 0)
        .collect();
    rows.sort_by(|a, b| (b.1 + b.2).cmp(&(a.1 + a.2)).then(a.0.cmp(b.0)));
    let other = &app.topics.other;
    let name_w = area.width.saturating_sub(16) as usize;
    let mut table: Vec<Row> = rows
        .iter()
        .take(area.height as usize)
        .map(|(name, p, d)| {
            let drops = if *d > 0 {
                Span::styled(count(*d), theme.kind(crate::trace::schema::Kind::Drop))
            } else {
                Span::styled("0", theme.dim())
            };
            Row::new(vec![
                Line::from(cut(name, name_w)),
                Line::from(count(*p)),
                Line::from(drops),
            ])
        })
        .collect();
    if other.publishes + other.drops > 0 {
        table.push(Row::new(vec![
            "(other)".to_string(),
            count(other.publishes),
            count(other.drops),
        ]));
    }
    let title = format!(" Topics ({}) ", app.topics.len());
    frame.render_widget(counts_table(table, "topic", title, theme), area);
}

fn top_publishers(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let mut rows: Vec<(&str, u64, u64)> = app
        .publishers
        .map
        .iter()
        .map(|(k, v)| (k.as_str(), v.publishes, v.drops))
        .collect();
    rows.sort_by(|a, b| (b.1 + b.2).cmp(&(a.1 + a.2)).then(a.0.cmp(b.0)));
    let name_w = area.width.saturating_sub(16) as usize;
    let table: Vec<Row> = rows
        .iter()
        .take(area.height as usize)
        .map(|(name, p, d)| Row::new(vec![cut(name, name_w), count(*p), count(*d)]))
        .collect();
    let title = format!(" Publishers ({}) ", app.publishers.len());
    frame.render_widget(counts_table(table, "publisher", title, theme), area);
}

/// A `name · msgs · drops` table in a titled list block.
fn counts_table<'a>(rows: Vec<Row<'a>>, name: &'a str, title: String, theme: Theme) -> Table<'a> {
    Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(7),
            Constraint::Length(6),
        ],
    )
    .header(Row::new(vec![name, "msgs", "drops"]).style(theme.label()))
    .block(list_block(title, theme))
}

fn client_list(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let n = app.clients.len() as u64 + app.clients_untracked;
    let name_w = area.width.saturating_sub(12) as usize;
    let table: Vec<Row> = app
        .clients
        .iter()
        .take(area.height as usize)
        .map(|(etid, c)| {
            Row::new(vec![
                cut(c.uid.as_deref().unwrap_or("?"), name_w),
                etid.to_string(),
            ])
        })
        .collect();
    frame.render_widget(
        // ETIDs are u32: ten digits, never cut.
        Table::new(table, [Constraint::Fill(1), Constraint::Length(10)])
            .header(Row::new(vec!["client", "etid"]).style(theme.label()))
            .block(list_block(format!(" Connected ({}) ", count(n)), theme)),
        area,
    );
}
