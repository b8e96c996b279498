//! The plot view (`6`): the plotted JSON fields over time as a line chart
//! (ratatui `Chart`), one series per (field, sender), the busiest
//! `Plot::top_n` shown (the rest hidden and counted), with a legend of
//! senders, last values and counts, and what was skipped (values that are
//! not numbers, messages without the field). Also the field picker `g` opens.
//!
//! May import: `tui::{app, theme, fields}`, `output`, `text`, ratatui.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Clear, Dataset, GraphType, Paragraph};

use super::app::App;
use super::fields::{Picker, Plot, Shown};
use super::theme::{Theme, count, cut};
use crate::output::escape_controls;

/// Series colours, in the order the series are listed.
const PALETTE: [Color; 16] = [
    Color::Cyan,
    Color::Yellow,
    Color::Magenta,
    Color::Green,
    Color::LightRed,
    Color::LightBlue,
    Color::White,
    Color::LightGreen,
    Color::LightMagenta,
    Color::LightYellow,
    Color::Red,
    Color::Blue,
    Color::LightCyan,
    Color::Gray,
    Color::Indexed(208),
    Color::Indexed(141),
];

/// The legend's width beside the chart.
const LEGEND: u16 = 36;

/// `12.5`, `-3`, `1.2e7`: a value for an axis or the legend.
pub fn number(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e7 || v.abs() < 1e-3) {
        return format!("{v:.2e}");
    }
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

fn bounds(plot: &Plot, shown: &[Shown]) -> Option<([f64; 2], [f64; 2])> {
    let mut pts = shown
        .iter()
        .flat_map(|s| plot.fields[s.field].series[s.series].points.iter());
    let &(x, y) = pts.next()?;
    let (mut x0, mut x1, mut y0, mut y1) = (x, x, y, y);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x1 - x0 < 1.0 {
        x1 = x0 + 1.0;
    }
    let pad = if y1 > y0 {
        (y1 - y0) * 0.05
    } else {
        y0.abs().max(1.0) * 0.1
    };
    Some(([x0, x1], [y0 - pad, y1 + pad]))
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let plot = &app.plot;
    let (shown, hidden) = plot.shown();
    let mut title = vec![Span::styled(" Plot ", theme.title())];
    if !plot.is_empty() {
        title.push(Span::styled(
            format!(
                "{} field{} · {} of {} series",
                plot.fields.len(),
                if plot.fields.len() == 1 { "" } else { "s" },
                shown.len(),
                plot.series_count()
            ),
            theme.dim(),
        ));
        if hidden > 0 {
            title.push(Span::styled(
                format!(
                    " · {hidden} hidden (top {} by activity; + - more/fewer)",
                    plot.top_n
                ),
                theme.warn(),
            ));
        }
        title.push(Span::styled(" · G removes the last field", theme.dim()));
    }
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.dim())
        .title(Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if plot.is_empty() {
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(""),
                Line::from(Span::styled(
                    "nothing plotted: select a JSON message in the events view (1) and press g",
                    theme.dim(),
                )),
                Line::from(Span::styled(
                    "to plot one of its fields over time, one line per sender",
                    theme.dim(),
                )),
            ])
            .alignment(Alignment::Center),
            inner,
        );
        return;
    }
    let legend_rows = legend(plot, &shown, hidden, theme);
    let (chart_area, legend_area) = if inner.width >= 3 * LEGEND {
        let [c, l] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(LEGEND)]).areas(inner);
        (c, l)
    } else {
        let h = (legend_rows.len() as u16 + 1).min(inner.height / 2);
        let [c, l] = Layout::vertical([Constraint::Fill(1), Constraint::Length(h)]).areas(inner);
        (c, l)
    };
    frame.render_widget(
        Paragraph::new(legend_rows).block(
            Block::new()
                .borders(if inner.width >= 3 * LEGEND {
                    Borders::LEFT
                } else {
                    Borders::TOP
                })
                .border_style(theme.dim()),
        ),
        legend_area,
    );
    chart(frame, chart_area, app, &shown, theme);
}

fn colour(i: usize, theme: Theme) -> Style {
    theme.fg(PALETTE[i % PALETTE.len()])
}

fn legend<'a>(plot: &Plot, shown: &[Shown], hidden: usize, theme: Theme) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    for (fi, f) in plot.fields.iter().enumerate() {
        out.push(Line::from(vec![
            Span::styled(escape_controls(&cut(&f.label, 16)), theme.title()),
            Span::styled(
                format!(" · {}", escape_controls(&cut(&f.key.label(), 30))),
                theme.dim(),
            ),
        ]));
        if f.skipped() > 0 {
            out.push(Line::from(Span::styled(
                format!(
                    " skipped {} non-numeric · {} absent",
                    count(f.non_numeric),
                    count(f.absent)
                ),
                theme.warn(),
            )));
        }
        for (i, s) in shown.iter().enumerate().filter(|(_, s)| s.field == fi) {
            let series = &f.series[s.series];
            let last = series
                .points
                .back()
                .map(|p| number(p.1))
                .unwrap_or_default();
            out.push(Line::from(vec![
                Span::styled(" ━ ", colour(i, theme).add_modifier(Modifier::BOLD)),
                Span::raw(format!(
                    "{:<15} {:>8} {:>6}",
                    escape_controls(&cut(&series.sender, 15)),
                    cut(&last, 8),
                    count(series.count)
                )),
            ]));
        }
        if f.untracked > 0 {
            out.push(Line::from(Span::styled(
                format!(" {} values of senders beyond the cap", count(f.untracked)),
                theme.dim(),
            )));
        }
    }
    if hidden > 0 {
        out.push(Line::from(Span::styled(
            format!(" +{hidden} series hidden (+ shows more)"),
            theme.warn(),
        )));
    }
    out
}

fn chart(frame: &mut Frame, area: Rect, app: &App, shown: &[Shown], theme: Theme) {
    let plot = &app.plot;
    let Some((xb, yb)) = bounds(plot, shown) else {
        frame.render_widget(
            Paragraph::new(Span::styled("no numeric value yet", theme.dim()))
                .alignment(Alignment::Center),
            area,
        );
        return;
    };
    let data: Vec<Vec<(f64, f64)>> = shown
        .iter()
        .map(|s| {
            plot.fields[s.field].series[s.series]
                .points
                .iter()
                .copied()
                .collect()
        })
        .collect();
    let datasets: Vec<Dataset> = data
        .iter()
        .enumerate()
        .map(|(i, d)| {
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(colour(i, theme))
                .data(d)
        })
        .collect();
    let at = |x: f64| match plot.epoch {
        Some(t0) => t0
            .checked_add(jiff::SignedDuration::from_secs_f64(x))
            .map(|t| crate::text::clock_seconds_in(std::time::SystemTime::from(t), &app.zone))
            .unwrap_or_default(),
        None => number(x),
    };
    let x_labels = [at(xb[0]), at((xb[0] + xb[1]) / 2.0), at(xb[1])];
    let y_labels = [number(yb[0]), number((yb[0] + yb[1]) / 2.0), number(yb[1])];
    frame.render_widget(
        Chart::new(datasets)
            .legend_position(None)
            .x_axis(
                Axis::default()
                    .bounds(xb)
                    .labels(x_labels)
                    .style(theme.dim()),
            )
            .y_axis(
                Axis::default()
                    .bounds(yb)
                    .labels(y_labels)
                    .style(theme.dim()),
            ),
        area,
    );
}

/// The field picker, drawn over the current view.
pub fn draw_picker(frame: &mut Frame, area: Rect, p: &Picker, theme: Theme) {
    let visible = p.visible();
    let w = 64.min(area.width);
    let h = (visible.len() as u16 + 4).clamp(6, 20).min(area.height);
    let rect = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let rows = h.saturating_sub(3) as usize;
    let selected = p.selected.min(visible.len().saturating_sub(1));
    let start = selected.saturating_sub(rows.saturating_sub(1));
    let mut lines = vec![Line::from(vec![
        Span::styled("field: ", theme.key()),
        Span::raw(escape_controls(&p.query)),
        Span::styled("█", theme.dim()),
        Span::styled("  type to narrow · ↑↓ · Enter plots · Esc", theme.dim()),
    ])];
    for (n, &i) in visible.iter().enumerate().skip(start).take(rows) {
        let leaf = &p.leaves[i];
        let mark = if n == selected { "▶ " } else { "  " };
        let value = if leaf.numeric {
            Span::raw(escape_controls(&cut(&leaf.value, 24)))
        } else {
            Span::styled(
                format!("{} (not a number)", escape_controls(&cut(&leaf.value, 14))),
                theme.dim(),
            )
        };
        let line = Line::from(vec![
            Span::raw(format!(
                "{mark}{:<30} ",
                escape_controls(&cut(&leaf.label, 30))
            )),
            value,
        ]);
        lines.push(if n == selected {
            line.style(theme.selected())
        } else {
            line
        });
    }
    if visible.is_empty() {
        lines.push(Line::from(Span::styled("no field matches", theme.dim())));
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(Span::styled(
            format!(
                " Plot a field of {} ",
                escape_controls(&cut(&p.key.label(), 40))
            ),
            theme.title(),
        ))),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_for_axes_and_the_legend() {
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(21.99999), "22");
        assert_eq!(number(12_345_678.0), "1.23e7");
        assert_eq!(number(0.0001), "1.00e-4");
    }
}
