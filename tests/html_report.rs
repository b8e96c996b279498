//! `--html FILE`: the self-contained HTML report of `simulate` (and its
//! `merge`) and `bench pubsub`. The default suite parses the file (every SVG
//! chart, the page as XML), counts the points of the charts and checks that
//! it references nothing outside itself; the test marked "needs chromium"
//! opens the file in headless Chromium and looks at the screenshot.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{BrokerProcess, TestBroker, run, smqctl, text};

fn handlers_text(scenario: &str) -> String {
    let out = run(smqctl().args(["simulate", "--print-handlers", scenario]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// A small verified charger fleet with `--html` (and `--report`); returns the
/// HTML file's path.
fn simulate_html(dir: &Path, url: &str, extra: &[&str], name: &str) -> PathBuf {
    let html = dir.join(format!("{name}.html"));
    let report = dir.join(format!("{name}.json"));
    let out = run(smqctl()
        .args([
            "simulate",
            "-n",
            "4",
            "--duration",
            "3s",
            "--interval",
            "200ms",
        ])
        .args(["--verify", "--format", "json", "--url", url])
        .args(extra)
        .arg("--html")
        .arg(&html)
        .arg("--report")
        .arg(&report));
    assert!(out.status.success(), "{}", text(&out.stderr));
    html
}

/// Each `<svg>…</svg>` of the page.
fn svgs(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("an <svg> is closed") + start + 6;
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

/// Points of each polyline of one chart.
fn polyline_points(svg: &str) -> Vec<usize> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("SVG: {e}\n{svg}"));
    doc.descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .map(|n| {
            n.attribute("points")
                .unwrap_or("")
                .split_whitespace()
                .count()
        })
        .collect()
}

/// The page is well-formed XML (after its doctype), holds the charts and
/// the parameters, and references nothing outside itself.
fn check_page(html: &str) {
    let body = html
        .strip_prefix("<!DOCTYPE html>\n")
        .expect("starts with a doctype");
    if let Err(e) = roxmltree::Document::parse(body) {
        panic!("the page does not parse as XML: {e}");
    }
    for outside in ["http://", "https://", "src=", "href=", "<script", "url("] {
        assert!(!html.contains(outside), "the page references {outside}");
    }
    assert!(html.contains("<table id=\"params\">"), "{html}");
}

#[test]
fn simulate_html_draws_every_chart_with_points_and_the_parameters() {
    let broker = TestBroker::with_handlers(&handlers_text("charger"));
    let dir = tempfile::tempdir().expect("tempdir");
    let html = simulate_html(dir.path(), &broker.url("ws"), &["--ramp", "4/s"], "run");
    let page = std::fs::read_to_string(&html).expect("the HTML report");
    check_page(&page);
    let charts = svgs(&page);
    // Online, msg/s, connect and ready histograms, request latency, errors.
    assert_eq!(charts.len(), 6, "{page}");
    for title in [
        "Online devices",
        "Messages per second",
        "Connect time",
        "Time to ready",
        "Request latency over time",
        "Errors and reconnects",
    ] {
        assert!(page.contains(&format!("<h2>{title}")), "no {title} chart");
    }
    // A 3 s run sampled once a second, from 0: at least 3 points.
    let online = polyline_points(charts[0]);
    assert_eq!(online.len(), 1, "{}", charts[0]);
    assert!(online[0] >= 3, "online devices: {online:?} points");
    let rates = polyline_points(charts[1]);
    assert_eq!(rates.len(), 2, "out and in");
    assert!(rates.iter().all(|n| *n >= 3), "{rates:?}");
    // Every device connected once: the connect histogram has bars.
    assert!(charts[2].contains("class=\"bar\""), "{}", charts[2]);
    assert!(charts[3].contains("class=\"bar\""), "{}", charts[3]);
    for c in &charts {
        polyline_points(c);
    }
    // Parameters and the verify verdict.
    for p in ["charger", "4/s", "3s", "<td>true</td>", "ws://127.0.0.1:"] {
        assert!(page.contains(p), "no {p} in the parameters");
    }
    assert!(
        page.contains("<p id=\"verdict\" class=\"ok\">verify: "),
        "{page}"
    );
    // The JSON report carries the series the page was drawn from.
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("run.json")).expect("report"),
    )
    .expect("JSON");
    let series = report["series"].as_array().expect("series");
    assert!(series.len() >= 3, "{series:?}");
    assert!(series.iter().any(|s| s["online"] == 4), "{series:?}");
}

#[test]
fn simulate_merge_html_adds_up_the_series_of_every_shard() {
    let broker = TestBroker::with_handlers(&handlers_text("charger"));
    let url = broker.url("ws");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut reports = Vec::new();
    for i in 0..2 {
        let shard = format!("{i}/2");
        simulate_html(dir.path(), &url, &["--shard", &shard], &format!("s{i}"));
        reports.push(dir.path().join(format!("s{i}.json")));
    }
    let html = dir.path().join("all.html");
    let out = run(smqctl()
        .args(["simulate", "merge", "--format", "json"])
        .args(&reports)
        .arg("--html")
        .arg(&html));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(&html).expect("merged HTML");
    check_page(&page);
    assert!(page.contains("simulate merge: 4 × charger"), "{page}");
    assert!(page.contains("s0.json") && page.contains("s1.json"));
    let online = polyline_points(svgs(&page)[0]);
    assert!(online[0] >= 3, "{online:?}");
    // The online line reaches 4 (2 + 2): its highest point is at the top
    // of the axis, whose label says 4 (× 1.05 headroom rounds to "4.2").
    assert!(page.contains(">4.2</text>"), "{page}");
}

#[test]
fn bench_pubsub_html_draws_the_rate_and_latency_and_the_parameters() {
    // A broker of its own (see tests/names.rs: the in-process one of the
    // test binary loses a message now and then under a bench).
    let broker = BrokerProcess::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let html = dir.path().join("bench.html");
    let out = run(smqctl()
        .args(["bench", "pubsub", "--url", &broker.url("ws")])
        .args(["--duration", "2500ms", "--rate", "200", "--format", "json"])
        .args(["--idle-timeout", "5s"])
        .arg("--html")
        .arg(&html));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(&html).expect("the HTML report");
    check_page(&page);
    let charts = svgs(&page);
    assert_eq!(charts.len(), 2, "{page}");
    let rates = polyline_points(charts[0]);
    assert!(rates.iter().all(|n| *n >= 3), "{rates:?}");
    assert!(page.contains("Latency"), "{page}");
    assert!(page.contains("<td>200/s</td>"), "{page}");
}

#[test]
fn bench_rpc_html_draws_calls_and_latency_percentiles_over_time() {
    let broker = TestBroker::with_handlers("[[rpc]]\nname = \"first\"\nresult = '{{args.0}}'\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let html = dir.path().join("rpc.html");
    let out = run(smqctl()
        .args([
            "bench",
            "rpc",
            "--call",
            "first",
            "1",
            "--url",
            &broker.url("ws"),
        ])
        .args(["--count", "500", "--rate", "200", "-c", "4", "-F", "json"])
        .arg("--html")
        .arg(&html));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(&html).expect("the HTML report");
    check_page(&page);
    let charts = svgs(&page);
    assert_eq!(charts.len(), 4, "{page}");
    // 500 calls at 200/s: about 2.5 s, sampled once a second from 0.
    let calls = polyline_points(charts[0]);
    assert!(calls[0] >= 3, "{calls:?}");
    let latency = polyline_points(charts[1]);
    assert_eq!(latency.len(), 2, "p50 and p99");
    assert!(latency.iter().all(|n| *n >= 2), "{latency:?}");
    assert!(charts[2].contains("class=\"bar\""), "{}", charts[2]);
    assert!(
        page.contains("<td>200/s</td>") && page.contains("<td>4</td>"),
        "{page}"
    );
    assert!(
        page.contains("class=\"ok\">500 of 500 calls answered ok"),
        "{page}"
    );

    // Outside load mode --html is refused (it needs --count).
    let out = run(smqctl()
        .args(["rpc", "--call", "first", "1", "--url", &broker.url("ws")])
        .arg("--html")
        .arg(&html));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// The page's `--assert` section: its headline (class, text) and each row as
/// (row class, verdict cell class, verdict, expression, measured), read
/// from the parsed page.
#[allow(clippy::type_complexity)]
fn assert_section(
    html: &str,
) -> (
    (String, String),
    Vec<(String, String, String, String, String)>,
) {
    let body = html.strip_prefix("<!DOCTYPE html>\n").expect("doctype");
    let doc = roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("XML: {e}\n{html}"));
    let by_id = |id: &str| {
        doc.descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap_or_else(|| panic!("no id={id} in the page:\n{html}"))
    };
    let all_text = |n: roxmltree::Node| -> String {
        n.descendants()
            .filter(|d| d.is_text())
            .filter_map(|d| d.text())
            .collect::<String>()
    };
    let verdict = by_id("asserts-verdict");
    let head = (
        verdict.attribute("class").unwrap_or("").to_string(),
        all_text(verdict),
    );
    let rows = by_id("asserts")
        .children()
        .filter(|n| n.has_tag_name("tr"))
        .map(|tr| {
            let tds: Vec<roxmltree::Node> =
                tr.children().filter(|n| n.has_tag_name("td")).collect();
            assert_eq!(tds.len(), 3, "{html}");
            (
                tr.attribute("class").unwrap_or("").to_string(),
                tds[0].attribute("class").unwrap_or("").to_string(),
                all_text(tds[0]),
                all_text(tds[1]),
                all_text(tds[2]),
            )
        })
        .collect();
    (head, rows)
}

/// `--assert` outcomes were on stderr (and the exit code) only: the page
/// now lists each one, and it is written when one fails (exit 8 kept).
#[test]
fn html_report_shows_the_assert_outcomes_and_is_written_when_an_assertion_fails() {
    let broker = TestBroker::with_handlers("[[rpc]]\nname = \"first\"\nresult = '{{args.0}}'\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let html = dir.path().join("rpc.html");
    let out = run(smqctl()
        .args([
            "bench",
            "rpc",
            "--call",
            "first",
            "1",
            "--url",
            &broker.url("ws"),
        ])
        .args(["--count", "50", "-c", "2", "-F", "json"])
        .args(["--assert", "ok == 50", "--assert", "latency_ms.max < 60s"])
        .args(["--assert", "ok < 50"])
        .arg("--html")
        .arg(&html));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{err}");
    assert!(
        err.contains("smqctl: assert FAILED: ok < 50 (measured 50)"),
        "{err}"
    );
    let page = std::fs::read_to_string(&html).expect("the HTML report of a failed gate");
    check_page(&page);
    let (head, rows) = assert_section(&page);
    assert_eq!(head.0, "bad", "{page}");
    assert!(head.1.starts_with("2 of 3 passed"), "{head:?}");
    assert_eq!(rows.len(), 3, "{rows:?}");
    let row =
        |i: usize| -> (&str, &str, &str, &str) { (&rows[i].0, &rows[i].1, &rows[i].2, &rows[i].3) };
    assert_eq!(row(0), ("pass", "ok", "pass", "ok == 50"));
    assert_eq!(rows[0].4, "measured 50");
    // `<` is text in the page (escaped), not markup.
    assert_eq!(row(1), ("pass", "ok", "pass", "latency_ms.max < 60s"));
    assert!(
        page.contains("<code>latency_ms.max &lt; 60s</code>"),
        "{page}"
    );
    assert!(
        rows[1].4.starts_with("measured ") && rows[1].4.ends_with(" ms"),
        "{rows:?}"
    );
    assert_eq!(row(2), ("fail", "bad", "FAIL", "ok < 50"));
    assert_eq!(rows[2].4, "measured 50");

    // simulate: every assertion passing, the headline says so in green.
    let sim = dir.path().join("sim.html");
    let handlers = TestBroker::with_handlers(&handlers_text("charger"));
    let out = run(smqctl()
        .args([
            "simulate",
            "-n",
            "2",
            "--duration",
            "2s",
            "--interval",
            "200ms",
        ])
        .args(["--verify", "-F", "json", "--url", &handlers.url("ws")])
        .args(["--assert", "verify.lost == 0", "--assert", "devices == 2"])
        .arg("--html")
        .arg(&sim));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(&sim).expect("simulate's HTML report");
    check_page(&page);
    let (head, rows) = assert_section(&page);
    assert_eq!(head, ("ok".to_string(), "2 of 2 passed".to_string()));
    let exprs: Vec<(&str, &str)> = rows.iter().map(|r| (r.0.as_str(), r.3.as_str())).collect();
    assert_eq!(
        exprs,
        [("pass", "verify.lost == 0"), ("pass", "devices == 2")]
    );
    assert_eq!(rows[1].4, "measured 2");

    // bench pubsub: the same section (a loss would make the run's own exit 1).
    let bench = dir.path().join("bench.html");
    let out = run(smqctl()
        .args([
            "bench",
            "pubsub",
            "--embedded",
            "--count",
            "200",
            "-F",
            "json",
        ])
        .args(["--assert", "sent == 200", "--assert", "sent < 200"])
        .arg("--html")
        .arg(&bench));
    assert!(
        matches!(out.status.code(), Some(8) | Some(1)),
        "{}",
        text(&out.stderr)
    );
    let page = std::fs::read_to_string(&bench).expect("bench pubsub's HTML report");
    check_page(&page);
    let (head, rows) = assert_section(&page);
    assert_eq!(head.0, "bad", "{page}");
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r.0.as_str(), r.3.as_str(), r.4.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("pass", "sent == 200", "measured 200"),
            ("fail", "sent < 200", "measured 200")
        ]
    );
}

/// Runs `cmd` to its end within `limit`; killed past it.
fn run_within(cmd: &mut Command, limit: Duration) -> std::process::Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chromium (apt-get install chromium)");
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait().expect("wait for chromium") {
            Some(_) => break,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                panic!("chromium did not finish within {limit:?}");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    child.wait_with_output().expect("chromium's output")
}

fn chromium(profile: &Path) -> Command {
    let mut c = Command::new("chromium");
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(["--enable-logging=stderr", "--v=0"]);
    c
}

/// Pixels near `rgb` in the decoded screenshot.
fn pixels_near(png_path: &Path, rgb: (u8, u8, u8)) -> (usize, usize) {
    let file = std::fs::File::open(png_path).expect("screenshot");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("PNG size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    let channels = info.color_type.samples();
    let near = |a: u8, b: u8| a.abs_diff(b) <= 24;
    let mut hits = 0;
    let mut colours = std::collections::HashSet::new();
    for px in buf[..info.buffer_size()].chunks(channels) {
        if channels >= 3 {
            colours.insert((px[0], px[1], px[2]));
            if near(px[0], rgb.0) && near(px[1], rgb.1) && near(px[2], rgb.2) {
                hits += 1;
            }
        }
    }
    (hits, colours.len())
}

#[test]
#[ignore = "needs chromium"]
fn html_report_renders_its_charts_in_headless_chromium() {
    let broker = TestBroker::with_handlers(&handlers_text("charger"));
    let dir = tempfile::tempdir().expect("tempdir");
    let html = simulate_html(
        dir.path(),
        &broker.url("ws"),
        &["--ramp", "4/s", "--assert", "verify.lost == 0"],
        "run",
    );
    let url = format!("file://{}", html.display());
    let profile = dir.path().join("profile");

    let out = run_within(
        chromium(&profile).arg("--dump-dom").arg(&url),
        Duration::from_secs(120),
    );
    let dom = text(&out.stdout);
    let log = text(&out.stderr);
    assert!(out.status.success(), "chromium: {log}");
    assert_eq!(dom.matches("<svg").count(), 6, "{dom}");
    assert!(dom.contains("<polyline"), "{dom}");
    assert!(dom.contains("id=\"params\""), "{dom}");
    // The --assert outcome is in the rendered page, as a passing row.
    assert!(dom.contains("id=\"asserts\""), "{dom}");
    assert!(
        dom.contains("<code>verify.lost == 0</code>") && dom.contains(">1 of 1 passed<"),
        "{dom}"
    );
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");

    let shot = dir.path().join("out.png");
    let out = run_within(
        chromium(&profile)
            .arg(format!("--screenshot={}", shot.display()))
            .arg("--window-size=1280,2000")
            .arg(&url),
        Duration::from_secs(120),
    );
    assert!(out.status.success(), "chromium: {}", text(&out.stderr));
    // The charts drew their lines and bars: pixels of the first series
    // colour (blue, online devices and the histograms' bars) and of the
    // second (red, messages in), not a page of one colour.
    let (blue, colours) = pixels_near(&shot, (0x1f, 0x77, 0xb4));
    let (red, _) = pixels_near(&shot, (0xd6, 0x27, 0x28));
    assert!(colours > 10, "the screenshot has {colours} colours");
    assert!(blue > 500, "{blue} blue chart pixels");
    assert!(red > 100, "{red} red chart pixels");
}
