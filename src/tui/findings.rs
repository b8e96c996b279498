//! The findings view: what the analyzer ([`crate::analyze`], the engine behind
//! `smqctl analyze`) found in the events so far, live — one row per finding
//! (severity, rule, count, last time, message) and the selected finding's
//! detail below (message, fix, clients, topic, evidence). Enter on a finding
//! shows its evidence in the events view (see [`App::pin_finding`]).
//!
//! Everything from the wire (names, UIDs, payloads in messages) is escaped
//! before it reaches the terminal.
//!
//! May import: `tui::{app, theme}`, `analyze` (findings), `trace::schema`,
//! `output` (escaping), ratatui.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use super::app::App;
use super::theme::{Theme, clock, count, cut, kind_label};
use crate::analyze::{Finding, Severity};
use crate::output::escape_controls;
use crate::trace::schema::{Event, Kind};

/// The severity label and its style.
pub fn severity(s: Severity, theme: Theme) -> (&'static str, Style) {
    match s {
        Severity::Error => ("ERROR", theme.error()),
        Severity::Warning => ("WARN", theme.warn()),
        Severity::Info => ("INFO", theme.dim()),
    }
}

fn at(ts: &str, app: &App) -> String {
    clock(&Event::new(Kind::Notice, ts.to_string()), &app.zone)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let [list, detail] =
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(area);
    table(frame, list, app, theme);
    pane(frame, detail, app, theme);
}

fn table(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let findings = app.findings();
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let mut title = format!(
        " Findings ({}) · {} · {} ",
        findings.len(),
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    let suppressed = app.analysis.0.suppressed();
    if suppressed > 0 {
        title.push_str(&format!("· {} more not kept ", count(suppressed)));
    }
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.dim())
        .title(Span::styled(title, theme.title()));
    if findings.is_empty() {
        let text = format!(
            "no findings in {} events so far: the analyzer checks every event against the \
             rules of `smqctl analyze --rules`",
            count(app.analysis.0.events())
        );
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme.dim()))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    let height = area.height.saturating_sub(2) as usize;
    let selected = app.findings_scroll.min(findings.len() - 1);
    let start = selected.saturating_sub(height.saturating_sub(1));
    let rows: Vec<Row> = findings
        .iter()
        .enumerate()
        .skip(start)
        .take(height)
        .map(|(i, f)| {
            let (sev, style) = severity(f.severity, theme);
            let mark = if i == selected { "▶ " } else { "  " };
            let row = Row::new(vec![
                Cell::from(Line::from(vec![Span::raw(mark), Span::styled(sev, style)])),
                Cell::from(f.rule),
                Cell::from(Line::from(count(f.count)).alignment(Alignment::Right)),
                Cell::from(at(&f.last_ts, app)),
                Cell::from(escape_controls(&f.message)),
            ]);
            if i == selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(7),
                Constraint::Length(23),
                Constraint::Length(6),
                Constraint::Length(12),
                Constraint::Fill(1),
            ],
        )
        .header(Row::new(vec!["  sev", "rule", " count", "last", "message"]).style(theme.label()))
        .block(block),
        area,
    );
}

/// One evidence event in a line: time, kind, from → to, sub-topic, size.
fn evidence_line(e: &Event, app: &App, theme: Theme) -> Line<'static> {
    let from = e.from.as_ref().map(|c| c.label()).unwrap_or_default();
    let to = e.to.as_ref().map(|d| d.label()).unwrap_or_default();
    let mut text = format!(" {from}");
    if !to.is_empty() {
        text.push_str(&format!(" → {to}"));
    }
    if let Some(s) = &e.subtopic {
        text.push_str(&format!(" / {s}"));
    }
    if let Some(r) = &e.reason {
        text.push_str(&format!(" ({r})"));
    }
    Line::from(vec![
        Span::styled(format!("  {} ", clock(e, &app.zone)), theme.dim()),
        Span::styled(format!("{:<6}", kind_label(e.kind)), theme.kind(e.kind)),
        Span::raw(escape_controls(&text)),
    ])
}

fn pane(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.dim())
        .title(Span::styled(" Finding ", theme.title()));
    let Some(f) = app.selected_finding() else {
        frame.render_widget(block, area);
        return;
    };
    frame.render_widget(
        Paragraph::new(lines(f, app, theme))
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}

fn lines(f: &Finding, app: &App, theme: Theme) -> Vec<Line<'static>> {
    let (sev, style) = severity(f.severity, theme);
    let mut when = format!("first {}", at(&f.first_ts, app));
    if f.last_ts != f.first_ts {
        when.push_str(&format!(" · last {}", at(&f.last_ts, app)));
    }
    let mut out = vec![
        Line::from(vec![
            Span::styled(sev, style),
            Span::raw(" "),
            Span::styled(f.rule, theme.title()),
            Span::raw(format!(" ×{}  ", count(f.count))),
            Span::styled(when, theme.dim()),
        ]),
        Line::from(escape_controls(&f.message)),
        Line::from(vec![
            Span::styled("fix: ", theme.key()),
            Span::raw(escape_controls(&f.fix)),
        ]),
    ];
    let mut about = Vec::new();
    if !f.clients.is_empty() {
        let names: Vec<String> = f.clients.iter().map(|c| c.label()).collect();
        about.push(format!("clients: {}", names.join(", ")));
    }
    if let Some(t) = &f.topic {
        about.push(format!("topic: {t}"));
    }
    if let Some(s) = &f.subtopic {
        about.push(format!("sub-topic: {s}"));
    }
    if !about.is_empty() {
        out.push(Line::from(Span::styled(
            escape_controls(&about.join(" · ")),
            theme.label(),
        )));
    }
    out.push(Line::from(Span::styled(
        cut(
            &format!(
                "evidence ({}; Enter shows it in the events view, Esc there shows all):",
                f.evidence.len()
            ),
            200,
        ),
        theme.dim(),
    )));
    out.extend(f.evidence.iter().map(|e| evidence_line(e, app, theme)));
    out
}
