//! One self-contained HTML report (`--html FILE` of `simulate`, `bench
//! pubsub`, `bench rpc`/`rpc` load mode): inline CSS and inline SVG charts
//! drawn here, no script and no reference to anything outside the file, so
//! it opens from disk anywhere. Every text that comes from the run (topics,
//! UIDs, error messages a broker sent) is escaped for HTML.
//!
//! The model is plain data ([`Page`]: parameters, line charts, histograms,
//! a verdict, the `--assert` outcomes); the engines fill it, the commands
//! write it.
//!
//! May import: nothing of the crate (a leaf).

use std::fmt::Write as _;

/// A line chart: one or more named series of (x, y) points over a shared x axis.
#[derive(Debug, Clone, Default)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<(String, Vec<(f64, f64)>)>,
}

/// A histogram of latency samples: (upper bound in ms, count) bars.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    pub title: String,
    /// Samples as (microseconds, count), as `Latency::buckets` gives them.
    pub buckets: Vec<(u64, u64)>,
}

/// A chart of the page.
#[derive(Debug, Clone)]
pub enum Chart {
    Line(LineChart),
    Histogram(Histogram),
}

/// One `--assert` outcome, as the terminal shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssertRow {
    /// The expression (`latency_ms.p99 < 20ms`).
    pub expr: String,
    /// The measured value with its unit, or why there is none.
    pub measured: String,
    pub passed: bool,
}

/// The whole page.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub title: String,
    /// The run's parameters and headline figures, in order.
    pub params: Vec<(String, String)>,
    /// A verdict (e.g. the verify result): (ok, text).
    pub verdict: Option<(bool, String)>,
    /// The run's `--assert` outcomes (none: no section).
    pub asserts: Vec<AssertRow>,
    pub charts: Vec<Chart>,
}

/// `&`, `<`, `>`, `"` and `'` as entities; control characters (which XML
/// does not allow) as U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

const W: f64 = 760.0;
const H: f64 = 260.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 40.0;
const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

const CSS: &str = "body{font-family:sans-serif;margin:24px;color:#222;background:#fff}\
h1{font-size:20px}h2{font-size:16px;margin:18px 0 4px}\
table{border-collapse:collapse}td{padding:2px 12px 2px 0;vertical-align:top}\
td.k{color:#555}.ok{color:#2a7a2a;font-weight:bold}.bad{color:#b00;font-weight:bold}\
tr.pass td{background:#e6f4e6}tr.fail td{background:#fbe3e3}code{font-size:13px}\
svg.chart{display:block;border:1px solid #ddd;background:#fcfcfc;margin-bottom:8px}\
.none{color:#888;font-style:italic}";

/// A short number for an axis label.
fn num(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// The frame: axes, min/max labels and the axis titles.
fn frame(s: &mut String, title: &str, x: (f64, f64), y: (f64, f64), xl: &str, yl: &str) {
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, TOP, H - BOTTOM);
    let _ = write!(
        s,
        "<text x=\"{LEFT}\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{}</text>\
<line x1=\"{x0}\" y1=\"{y1}\" x2=\"{x1}\" y2=\"{y1}\" stroke=\"#888\"/>\
<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y1}\" stroke=\"#888\"/>\
<text x=\"{x0}\" y=\"{}\" font-size=\"11\">{}</text>\
<text x=\"{x1}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>\
<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>\
<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>\
<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\
<text x=\"12\" y=\"{}\" font-size=\"11\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">{}</text>",
        escape(title),
        y1 + 14.0,
        escape(&num(x.0)),
        y1 + 14.0,
        escape(&num(x.1)),
        x0 - 4.0,
        y1,
        escape(&num(y.0)),
        x0 - 4.0,
        y0 + 10.0,
        escape(&num(y.1)),
        (x0 + x1) / 2.0,
        H - 6.0,
        escape(xl),
        (y0 + y1) / 2.0,
        (y0 + y1) / 2.0,
        escape(yl),
    );
}

fn line_svg(c: &LineChart) -> String {
    let pts = c.series.iter().flat_map(|(_, p)| p.iter());
    let (mut xmin, mut xmax, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for &(x, y) in pts {
        let (x, y) = (finite(x), finite(y));
        xmin = xmin.min(x);
        xmax = xmax.max(x);
        ymax = ymax.max(y);
    }
    let mut s = format!(
        "<svg class=\"chart\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\">"
    );
    if !xmin.is_finite() {
        frame(
            &mut s,
            &c.title,
            (0.0, 1.0),
            (0.0, 1.0),
            &c.x_label,
            &c.y_label,
        );
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#888\" text-anchor=\"middle\">no samples</text></svg>",
            W / 2.0,
            H / 2.0
        );
        return s;
    }
    if xmax <= xmin {
        xmax = xmin + 1.0;
    }
    if ymax <= 0.0 {
        ymax = 1.0;
    }
    let ytop = ymax * 1.05;
    frame(
        &mut s,
        &c.title,
        (xmin, xmax),
        (0.0, ytop),
        &c.x_label,
        &c.y_label,
    );
    let sx = |x: f64| LEFT + (finite(x) - xmin) / (xmax - xmin) * (W - LEFT - RIGHT);
    let sy = |y: f64| (H - BOTTOM) - finite(y).max(0.0) / ytop * (H - BOTTOM - TOP);
    for (i, (name, points)) in c.series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut p = String::new();
        for &(x, y) in points {
            let _ = write!(p, "{:.1},{:.1} ", sx(x), sy(y));
        }
        let _ = write!(
            s,
            "<polyline class=\"series\" data-series=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            escape(name),
            p.trim_end()
        );
        if points.len() == 1 {
            let (x, y) = points[0];
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                sx(x),
                sy(y)
            );
        }
        // Legend, top right.
        let lx = W - RIGHT - 150.0;
        let ly = TOP + 4.0 + 14.0 * i as f64;
        let _ = write!(
            s,
            "<rect x=\"{lx}\" y=\"{ly}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
<text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>",
            lx + 14.0,
            ly + 9.0,
            escape(name)
        );
    }
    s.push_str("</svg>");
    s
}

/// Up to 40 bars of equal width in milliseconds from 0 to the largest sample.
fn hist_svg(h: &Histogram) -> String {
    let mut s = format!(
        "<svg class=\"chart\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\">"
    );
    let max_us = h.buckets.iter().map(|(us, _)| *us).max().unwrap_or(0);
    let total: u64 = h.buckets.iter().map(|(_, n)| n).sum();
    if total == 0 {
        frame(&mut s, &h.title, (0.0, 1.0), (0.0, 1.0), "ms", "count");
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#888\" text-anchor=\"middle\">no samples</text></svg>",
            W / 2.0,
            H / 2.0
        );
        return s;
    }
    const BARS: usize = 40;
    let width_us = (max_us as f64 / BARS as f64).max(1.0);
    let mut bars = [0u64; BARS];
    for &(us, n) in &h.buckets {
        let i = ((us as f64 / width_us) as usize).min(BARS - 1);
        bars[i] += n;
    }
    let top = bars.iter().copied().max().unwrap_or(1).max(1) as f64;
    let xmax_ms = width_us * BARS as f64 / 1000.0;
    frame(&mut s, &h.title, (0.0, xmax_ms), (0.0, top), "ms", "count");
    let bw = (W - LEFT - RIGHT) / BARS as f64;
    for (i, &n) in bars.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let bh = n as f64 / top * (H - BOTTOM - TOP);
        let _ = write!(
            s,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#1f77b4\"><title>{:.3}–{:.3} ms: {n}</title></rect>",
            LEFT + bw * i as f64 + 1.0,
            H - BOTTOM - bh,
            (bw - 2.0).max(1.0),
            bh,
            width_us * i as f64 / 1000.0,
            width_us * (i + 1) as f64 / 1000.0,
        );
    }
    s.push_str("</svg>");
    s
}

impl Page {
    /// The page as one HTML document.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>{}</title><style>{CSS}</style></head><body>\n<h1>{}</h1>\n",
            escape(&self.title),
            escape(&self.title)
        );
        if let Some((ok, text)) = &self.verdict {
            let _ = writeln!(
                s,
                "<p id=\"verdict\" class=\"{}\">{}</p>",
                if *ok { "ok" } else { "bad" },
                escape(text)
            );
        }
        if !self.asserts.is_empty() {
            let passed = self.asserts.iter().filter(|a| a.passed).count();
            let all = passed == self.asserts.len();
            let _ = writeln!(
                s,
                "<h2>Assertions</h2>\n<p id=\"asserts-verdict\" class=\"{}\">{passed} of {} passed{}</p>\n<table id=\"asserts\">",
                if all { "ok" } else { "bad" },
                self.asserts.len(),
                if all {
                    ""
                } else {
                    ": the run missed its targets"
                }
            );
            for a in &self.asserts {
                let (row, class, word) = if a.passed {
                    ("pass", "ok", "pass")
                } else {
                    ("fail", "bad", "FAIL")
                };
                let _ = writeln!(
                    s,
                    "<tr class=\"{row}\"><td class=\"{class}\">{word}</td><td><code>{}</code></td><td>measured {}</td></tr>",
                    escape(&a.expr),
                    escape(&a.measured)
                );
            }
            s.push_str("</table>\n");
        }
        s.push_str("<h2>Parameters</h2>\n<table id=\"params\">\n");
        for (k, v) in &self.params {
            let _ = writeln!(
                s,
                "<tr><td class=\"k\">{}</td><td>{}</td></tr>",
                escape(k),
                escape(v)
            );
        }
        s.push_str("</table>\n");
        for c in &self.charts {
            let (title, svg) = match c {
                Chart::Line(l) => (&l.title, line_svg(l)),
                Chart::Histogram(h) => (&h.title, hist_svg(h)),
            };
            let _ = writeln!(s, "<h2>{}</h2>\n{svg}", escape(title));
        }
        s.push_str("</body></html>\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_turns_markup_from_a_broker_into_text() {
        assert_eq!(
            escape("<script>alert('x')</script>&\"\u{7}"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;\u{FFFD}"
        );
    }

    #[test]
    fn page_escapes_parameters_and_draws_a_polyline_per_series() {
        let p = Page {
            title: "run <1>".into(),
            params: vec![("topic".into(), "a<b>&c".into())],
            verdict: Some((false, "lost 3".into())),
            asserts: Vec::new(),
            charts: vec![
                Chart::Line(LineChart {
                    title: "online".into(),
                    series: vec![("online".into(), vec![(0.0, 0.0), (1.0, 5.0), (2.0, 10.0)])],
                    ..LineChart::default()
                }),
                Chart::Histogram(Histogram {
                    title: "connect".into(),
                    buckets: vec![(1000, 3), (5000, 1)],
                }),
                Chart::Line(LineChart {
                    title: "empty".into(),
                    ..LineChart::default()
                }),
            ],
        };
        let html = p.render();
        assert!(html.contains("a&lt;b&gt;&amp;c"), "{html}");
        assert!(!html.contains("a<b>"));
        assert!(html.contains("run &lt;1&gt;"));
        assert!(html.contains("class=\"bad\">lost 3"));
        assert_eq!(html.matches("<svg").count(), 3);
        assert_eq!(html.matches("<polyline").count(), 1);
        assert_eq!(html.matches("class=\"bar\"").count(), 2);
        assert!(html.contains("no samples"));
        // Three points, the last at the top right corner of the plot.
        let pts = html
            .split("points=\"")
            .nth(1)
            .and_then(|r| r.split('"').next());
        assert_eq!(pts.map(|p| p.split(' ').count()), Some(3));
    }

    #[test]
    fn assert_outcomes_show_each_expression_its_value_and_a_coloured_verdict_escaped() {
        let p = Page {
            title: "run".into(),
            asserts: vec![
                AssertRow {
                    expr: "lost == 0".into(),
                    measured: "0".into(),
                    passed: true,
                },
                AssertRow {
                    expr: "latency_ms.p99 < 1ms".into(),
                    measured: "<b>2.5</b> ms".into(),
                    passed: false,
                },
            ],
            ..Page::default()
        };
        let html = p.render();
        assert!(
            html.contains("<p id=\"asserts-verdict\" class=\"bad\">1 of 2 passed"),
            "{html}"
        );
        assert!(
            html.contains("<tr class=\"pass\"><td class=\"ok\">pass</td><td><code>lost == 0</code></td><td>measured 0</td></tr>"),
            "{html}"
        );
        assert!(
            html.contains("<tr class=\"fail\"><td class=\"bad\">FAIL</td><td><code>latency_ms.p99 &lt; 1ms</code></td><td>measured &lt;b&gt;2.5&lt;/b&gt; ms</td></tr>"),
            "{html}"
        );
        assert!(!html.contains("<b>"), "{html}");
        // No --assert: no section.
        assert!(!Page::default().render().contains("Assertions"));
    }
}
