//! The three one-line bars around the current view: the header (views,
//! source), the filter bar (or the prompt being typed) and the status line
//! (connection status, a transient message, totals).
//!
//! May import: `tui::{app, theme}`, `trace::{schema, source}`, `analyze`
//! (severities), `output` (escaping), ratatui.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::{App, Mode, PromptKind, Tab};
use super::theme::{Theme, count, cut};
use crate::trace::source::Status;

pub fn header(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let mut spans = vec![Span::styled(" smqctl tui ", theme.title())];
    for (tab, label) in [
        (Tab::Events, "1 Events"),
        (Tab::Stats, "2 Stats"),
        (Tab::Topics, "3 Topics"),
        (Tab::Findings, "4 Findings"),
        (Tab::Senders, "5 Senders"),
        (Tab::Plot, "6 Plot"),
    ] {
        // Views 5 and 6 are listed once used (the help lists them all).
        let used = match tab {
            Tab::Senders => app.senders_key.is_some() || app.tab == tab,
            Tab::Plot => !app.plot.is_empty() || app.tab == tab,
            _ => true,
        };
        if !used {
            continue;
        }
        let style = if tab == app.tab {
            theme.selected()
        } else {
            theme.dim()
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(format!(" {label} "), style));
    }
    // How many findings, in the colour of the worst.
    let findings = app.findings();
    if let Some(worst) = findings.iter().map(|f| f.severity).max() {
        let style = match worst {
            crate::analyze::Severity::Error => theme.error(),
            crate::analyze::Severity::Warning => theme.warn(),
            crate::analyze::Severity::Info => theme.dim(),
        };
        spans.push(Span::styled(count(findings.len() as u64), style));
    }
    spans.push(Span::raw("  "));
    if matches!(app.status, Some(Status::Degraded { .. })) {
        spans.push(Span::styled("DEGRADED ", theme.warn()));
    }
    spans.push(Span::styled(app.source.clone(), theme.dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn filter_bar(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
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
        _ if app.pin.is_some() => {
            let pin = app.pin.as_ref().map(|p| (p.label.as_str(), p.seqs.len()));
            let (label, n) = pin.unwrap_or_default();
            Line::from(vec![
                Span::styled(format!("evidence ({n} events, Esc all): "), theme.label()),
                Span::styled(
                    crate::output::escape_controls(&cut(label, 200)),
                    theme.warn(),
                ),
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

pub fn status_line(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let t = &app.totals;
    let rate = app.last_rate();
    let missed = match t.misses {
        0 => String::new(),
        n => format!(" · {} missed", count(n)),
    };
    let mut right = format!(
        " {} ev · {} drop{missed} · {}/s",
        count(t.events),
        count(t.drops()),
        count(rate.messages)
    );
    if app.paused {
        right = format!(" PAUSED +{}{right}", count(app.held));
    }
    let mut right_len = right.chars().count() as u16;
    let left = match &app.flash {
        // Messages quote names from the broker (topics, fields): escaped.
        Some(f) => Span::styled(
            crate::output::escape_controls(&f.text),
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
