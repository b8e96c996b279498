//! `--metrics-listen`: `/metrics` scraped over HTTP from the running binary
//! (broker, simulate, bench, trace) while real traffic goes through, parsed
//! as OpenMetrics text; the README table and the Grafana dashboard name only
//! metrics smqctl serves. The Prometheus test (ignored by default; `.ci/run`
//! installs Debian's `prometheus` and runs it) scrapes with the real server.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::harness::{
    BrokerProcess, Running, STEP, TestBroker, publish, ready_sub, run, smqctl, text,
};

/// One scrape: every sample by `name{labels}`, and the metric families declared.
#[derive(Debug, Default)]
struct Scrape {
    samples: BTreeMap<String, f64>,
    families: BTreeSet<String>,
}

impl Scrape {
    fn get(&self, key: &str) -> Option<f64> {
        self.samples.get(key).copied()
    }

    /// The sum of every sample of `name` (all label values).
    fn sum(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|(k, _)| k.as_str() == name || k.starts_with(&format!("{name}{{")))
            .map(|(_, v)| v)
            .sum()
    }
}

/// A small OpenMetrics text parser, strict enough to fail on what Prometheus
/// would refuse: `# HELP`/`# TYPE` before a family's samples, each sample
/// named for the family it follows (with its type's suffixes), a number as
/// its value, and `# EOF` as the last line.
fn parse(body: &str) -> Scrape {
    let mut s = Scrape::default();
    let mut family: Option<(String, String)> = None;
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "no # EOF at the end:\n{body}");
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .unwrap_or_else(|| panic!("bad TYPE {line:?}"));
            assert!(
                ["counter", "gauge", "histogram"].contains(&kind),
                "type {kind} in {line:?}"
            );
            assert!(s.families.insert(name.to_string()), "family twice: {name}");
            family = Some((name.to_string(), kind.to_string()));
            continue;
        }
        if line.starts_with("# HELP ") || line.starts_with("# UNIT ") {
            continue;
        }
        assert!(!line.starts_with('#'), "unknown comment {line:?}");
        let (key, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line:?}"));
        let value: f64 = value.parse().unwrap_or_else(|e| panic!("{line:?}: {e}"));
        let name = key.split('{').next().unwrap_or(key);
        let (fam, kind) = family
            .as_ref()
            .unwrap_or_else(|| panic!("sample before TYPE: {line:?}"));
        let suffixes: &[&str] = match kind.as_str() {
            "counter" => &["_total"],
            "gauge" => &[""],
            _ => &["_bucket", "_sum", "_count"],
        };
        assert!(
            suffixes.iter().any(|x| name == format!("{fam}{x}")),
            "sample {name} under family {fam} ({kind})"
        );
        if let Some(labels) = key.strip_prefix(name)
            && !labels.is_empty()
        {
            assert!(
                labels.starts_with('{') && labels.ends_with('}') && labels.contains("=\""),
                "labels {labels:?} in {line:?}"
            );
        }
        assert!(
            s.samples.insert(key.to_string(), value).is_none(),
            "twice: {key}"
        );
    }
    s
}

/// GET `url` (http://HOST:PORT/PATH) with a plain HTTP/1.1 request: status and body.
fn get(url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let addr: SocketAddr = host.parse().expect("HOST:PORT");
    let mut s = TcpStream::connect_timeout(&addr, STEP).expect("connect to /metrics");
    s.set_read_timeout(Some(STEP)).expect("timeout");
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read the reply");
    let (head, body) = reply.split_once("\r\n\r\n").expect("HTTP head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("status line of {head:?}"));
    if status == 200 {
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/openmetrics-text"),
            "{head}"
        );
    }
    (status, body.to_string())
}

fn scrape(url: &str) -> Scrape {
    let (status, body) = get(url);
    assert_eq!(status, 200, "{body}");
    let s = parse(&body);
    for f in &s.families {
        let short = f
            .strip_prefix("smqctl_")
            .unwrap_or_else(|| panic!("{f}: no smqctl_ prefix"));
        assert!(
            smqctl::metrics::NAMES.contains(&short),
            "{f} is not in metrics::NAMES"
        );
    }
    s
}

/// The scrape has every family of metrics::NAMES that starts with `group`
/// (the list the README and the dashboard are checked against is what is served).
fn assert_serves_group(s: &Scrape, group: &str) {
    let want: BTreeSet<String> = smqctl::metrics::NAMES
        .iter()
        .filter(|n| n.starts_with(group))
        .map(|n| format!("smqctl_{n}"))
        .collect();
    let got: BTreeSet<String> = s
        .families
        .iter()
        .filter(|f| f.starts_with(&format!("smqctl_{group}")))
        .cloned()
        .collect();
    assert_eq!(got, want, "families of {group}");
}

/// Scrapes until `ok` holds (the engines count asynchronously), failing
/// after STEP with the last scrape.
fn scrape_until(url: &str, what: &str, ok: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = Instant::now() + STEP;
    loop {
        let s = scrape(url);
        if ok(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{what} not within {STEP:?}: {s:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The `metrics at http://.../metrics` line's URL.
fn metrics_url(line: &str) -> String {
    let at = line
        .find("http://")
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    line[at..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn broker_with_metrics() -> (BrokerProcess, String) {
    let b = BrokerProcess::start(&["--metrics-listen", "127.0.0.1:0"]);
    let line = b
        .proc
        .stderr_seen
        .iter()
        .find(|l| l.contains("metrics at"))
        .cloned()
        .unwrap_or_else(|| panic!("no metrics line: {:?}", b.proc.stderr_seen));
    let url = metrics_url(&line);
    (b, url)
}

#[test]
fn broker_metrics_count_connections_publishes_and_drops_of_real_traffic() {
    let (b, url) = broker_with_metrics();
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.contains(":0/"),
        "{url}"
    );
    let s = scrape(&url);
    assert_eq!(s.get("smqctl_broker_connections"), Some(0.0), "{s:#?}");
    assert_serves_group(&s, "broker_");
    let before = s.get("smqctl_broker_publishes_total").expect("publishes");
    let u = b.url("ws");
    let subs: Vec<Running> = (0..3).map(|_| ready_sub(&u, &["metrics/t"]).0).collect();
    scrape_until(&url, "connections == 3", |s| {
        s.get("smqctl_broker_connections") == Some(3.0)
            && s.get("smqctl_broker_topics") >= Some(1.0)
    });
    publish(&u, &["metrics/t", "one"]);
    publish(&u, &["metrics/nobody", "two"]);
    let s = scrape_until(&url, "two more publishes", |s| {
        s.get("smqctl_broker_publishes_total") >= Some(before + 2.0)
    });
    // One publish to 3 subscribers, one to nobody.
    assert!(
        s.get("smqctl_broker_deliveries_total") >= Some(3.0),
        "{s:#?}"
    );
    assert!(
        s.get("smqctl_broker_drops_total{reason=\"no_receiver\"}") >= Some(1.0),
        "{s:#?}"
    );
    assert_eq!(s.get("smqctl_broker_queue_full_drops_total"), Some(0.0));
    assert!(
        s.get("smqctl_broker_connections_accepted_total") >= Some(5.0),
        "{s:#?}"
    );
    drop(subs);
    scrape_until(&url, "connections back to 0", |s| {
        s.get("smqctl_broker_connections") == Some(0.0)
    });
    // Anything but /metrics is a 404.
    assert_eq!(get(&url.replace("/metrics", "/other")).0, 404);
}

#[test]
fn broker_metrics_count_an_attached_tracer_and_trace_metrics_its_events() {
    let (b, url) = broker_with_metrics();
    let mut trace = Running::spawn(smqctl().args([
        "trace",
        "--metrics-listen",
        "0",
        "-F",
        "json",
        "--url",
        &b.url("ws"),
    ]));
    let trace_url = metrics_url(&trace.stderr_line("metrics at"));
    assert!(
        trace_url.starts_with("http://127.0.0.1:"),
        "PORT alone is loopback: {trace_url}"
    );
    scrape_until(&url, "one tracer", |s| {
        s.get("smqctl_broker_tracers") == Some(1.0)
    });
    scrape_until(&trace_url, "attached once", |s| {
        s.get("smqctl_trace_attaches_total") == Some(1.0)
    });
    // Nobody subscribes: the broker drops it, and the tracer tells.
    publish(&b.url("ws"), &["traced", "x"]);
    let s = scrape_until(&trace_url, "a drop event", |s| {
        s.get("smqctl_trace_events_total{kind=\"drop\"}") >= Some(1.0)
            && s.get("smqctl_trace_events_total{kind=\"connect\"}") >= Some(1.0)
    });
    assert_eq!(s.get("smqctl_trace_reconnects_total"), Some(0.0));
    assert_serves_group(&s, "trace_");
    trace.interrupt();
    drop(trace);
    scrape_until(&url, "no tracer", |s| {
        s.get("smqctl_broker_tracers") == Some(0.0)
    });
}

fn charger_broker() -> TestBroker {
    let out = run(smqctl().args(["simulate", "--print-handlers", "charger"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    TestBroker::with_handlers(&text(&out.stdout))
}

#[test]
fn simulate_metrics_show_the_fleet_online_and_its_messages_growing() {
    let broker = charger_broker();
    let mut sim = Running::spawn(smqctl().args([
        "simulate",
        "-n",
        "3",
        "--ramp",
        "0",
        "--interval",
        "200ms",
        "--verify",
        "-d",
        "60s",
        "--metrics-listen",
        "127.0.0.1:0",
        "--url",
        &broker.url("ws"),
    ]));
    let url = metrics_url(&sim.stderr_line("metrics at"));
    let s = scrape_until(&url, "3 devices online", |s| {
        s.get("smqctl_fleet_devices_online") == Some(3.0)
    });
    assert_eq!(s.get("smqctl_fleet_devices"), Some(3.0));
    assert_serves_group(&s, "fleet_");
    assert!(s.get("smqctl_fleet_connects_total") >= Some(3.0), "{s:#?}");
    assert_eq!(s.sum("smqctl_fleet_reconnects_total"), 0.0, "{s:#?}");
    let sent = s.sum("smqctl_fleet_messages_sent_total");
    let s = scrape_until(&url, "messages sent growing and verified", |s| {
        s.sum("smqctl_fleet_messages_sent_total") >= sent + 6.0
            && s.get("smqctl_fleet_verify_received_total") >= Some(3.0)
    });
    // The connect histogram: one observation per connect, in real buckets.
    let connects = s
        .get("smqctl_fleet_connect_seconds_count")
        .expect("histogram");
    assert!(connects >= 3.0, "{s:#?}");
    assert_eq!(
        s.get("smqctl_fleet_connect_seconds_bucket{le=\"+Inf\"}"),
        Some(connects)
    );
    assert!(s.get("smqctl_fleet_connect_seconds_sum") > Some(0.0));
    assert_eq!(s.get("smqctl_fleet_verify_duplicated_total"), Some(0.0));
    sim.interrupt();
    let out = sim.wait();
    assert!(
        text(&out.stderr).contains("metrics at"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn simulate_metrics_count_reconnects_by_their_cause() {
    let broker = charger_broker();
    let mut sim = Running::spawn(smqctl().args([
        "simulate",
        "-n",
        "2",
        "--ramp",
        "0",
        "--kill-after",
        "300ms",
        "-d",
        "60s",
        "--metrics-listen",
        "0",
        "--url",
        &broker.url("ws"),
    ]));
    let url = metrics_url(&sim.stderr_line("metrics at"));
    let s = scrape_until(&url, "reconnects after kills", |s| {
        s.get("smqctl_fleet_reconnects_total{cause=\"kill\"}") >= Some(2.0)
    });
    // Every reconnect here followed a kill: none is counted as another cause.
    for cause in ["churn", "restart", "lost"] {
        assert_eq!(
            s.get(&format!(
                "smqctl_fleet_reconnects_total{{cause=\"{cause}\"}}"
            )),
            Some(0.0),
            "{s:#?}"
        );
    }
    sim.interrupt();
    let _ = sim.wait();
}

#[test]
fn bench_pubsub_metrics_count_sent_received_and_latency_while_it_runs() {
    let mut bench = Running::spawn(smqctl().args([
        "bench",
        "pubsub",
        "--embedded",
        "-d",
        "60s",
        "--rate",
        "200",
        "--metrics-listen",
        "0",
        "-F",
        "json",
    ]));
    let url = metrics_url(&bench.stderr_line("metrics at"));
    let s = scrape_until(&url, "messages received", |s| {
        s.get("smqctl_bench_messages_received_total") >= Some(20.0)
    });
    assert!(
        s.get("smqctl_bench_messages_sent_total") >= Some(20.0),
        "{s:#?}"
    );
    assert_eq!(s.get("smqctl_bench_connections"), Some(2.0), "{s:#?}");
    assert_serves_group(&s, "bench_m");
    assert_serves_group(&s, "bench_c");
    assert_serves_group(&s, "bench_l");
    assert!(
        s.get("smqctl_bench_latency_seconds_count") >= Some(20.0),
        "{s:#?}"
    );
    bench.interrupt();
    let _ = bench.wait();
}

#[test]
fn bench_rpc_metrics_count_answered_calls_and_their_latency_while_it_runs() {
    let broker = TestBroker::with_handlers("[[rpc]]\nname = \"first\"\nresult = '{{args.0}}'\n");
    let mut bench = Running::spawn(smqctl().args([
        "bench",
        "rpc",
        "--call",
        "first",
        "7",
        "-C",
        "100000",
        "--rate",
        "100",
        "--metrics-listen",
        "0",
        "-F",
        "json",
        "--url",
        &broker.url("ws"),
    ]));
    let url = metrics_url(&bench.stderr_line("metrics at"));
    let s = scrape_until(&url, "answered calls", |s| {
        s.get("smqctl_bench_rpc_calls_total{result=\"ok\"}") >= Some(10.0)
    });
    assert_eq!(
        s.get("smqctl_bench_rpc_calls_total{result=\"timeout\"}"),
        Some(0.0)
    );
    assert!(
        s.get("smqctl_bench_rpc_latency_seconds_count") >= Some(10.0),
        "{s:#?}"
    );
    assert_serves_group(&s, "bench_rpc_");
    bench.interrupt();
    let _ = bench.wait();
}

#[test]
fn metrics_listen_that_is_not_an_address_is_a_usage_error_naming_it() {
    let out = run(smqctl().args(["broker", "--metrics-listen", "nowhere"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--metrics-listen") && text(&out.stderr).contains("nowhere"),
        "{}",
        text(&out.stderr)
    );
    let out = run(smqctl()
        .env("SMQCTL_METRICS_LISTEN", "127.0.0.1:99999")
        .args(["broker", "--listen", "127.0.0.1:0"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("port"), "{}", text(&out.stderr));
}

/// Every command that takes `--metrics-listen`, on a port already in use:
/// exit 1 at startup with the address and the cause, and nothing connected
/// to the broker first (`trace` used to attach before it bound the port).
#[test]
fn metrics_listen_on_a_port_in_use_fails_at_startup_naming_the_address_and_the_cause_in_every_command()
 {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    // A "broker" that only counts connections: nothing may reach it.
    let broker = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    broker.set_nonblocking(true).expect("nonblocking");
    let url = format!("ws://{}/", broker.local_addr().expect("addr"));
    let dir = tempfile::tempdir().expect("tempdir");
    let html = dir.path().join("never.html");
    let html = html.to_str().expect("utf-8 path");
    let commands: Vec<Vec<&str>> = vec![
        vec!["broker", "--listen", "127.0.0.1:0"],
        vec!["bench", "pubsub", "--url", &url, "--count", "10"],
        vec![
            "bench",
            "pubsub",
            "--embedded",
            "--count",
            "10",
            "--html",
            html,
        ],
        vec!["bench", "rpc", "--url", &url, "--call", "f"],
        vec!["bench", "connections", "--url", &url, "--connections", "2"],
        vec!["simulate", "--url", &url, "-n", "2", "--duration", "2s"],
        vec!["trace", "--url", &url, "-W", "3s"],
    ];
    let want = format!(
        "error: --metrics-listen 127.0.0.1:{port}: cannot listen: address already in use (another process listens on port {port}"
    );
    for args in &commands {
        let out = run(smqctl().args(args).args(["--metrics-listen", &port]));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(&want), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line, no more: {err}");
        match broker.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok((_, from)) => panic!("{args:?} connected to the broker ({from}) before failing"),
            Err(e) => panic!("accept: {e}"),
        }
    }
    assert!(
        !std::path::Path::new(html).exists(),
        "no report of a run that never ran"
    );

    // The TUI (it needs a terminal) says the same and leaves it as it was.
    let term = crate::pty::PtyCommand::smqctl(&["tui", "--url", &url, "--metrics-listen", &port])
        .size(200, 24)
        .start();
    let exit = term.wait_exit();
    assert_eq!(exit.code, Some(1), "{}", exit.screen);
    assert!(
        exit.screen.contains(&format!(
            "127.0.0.1:{port}: cannot listen: address already in use"
        )),
        "{}",
        exit.screen
    );
    term.assert_restored();
    assert!(matches!(broker.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock));

    // `broker --listen` on a port in use: the same words, the same exit code.
    let out = run(smqctl().args(["broker", "--listen", &format!("127.0.0.1:{port}")]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!(
            "error: --listen 127.0.0.1:{port}: cannot listen: address already in use"
        )),
        "{}",
        text(&out.stderr)
    );
}

/// `smqctl_NAME` words in `text` (sample suffixes dropped).
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("smqctl_") {
        let name: String = text[at + 7..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let name = ["_total", "_bucket", "_sum", "_count"]
            .iter()
            .find_map(|x| name.strip_suffix(x))
            .unwrap_or(&name)
            .to_string();
        names.insert(name);
    }
    names
}

#[test]
fn grafana_dashboard_queries_only_metrics_smqctl_serves() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/grafana-fleet.json");
    let raw = std::fs::read_to_string(path).expect("contrib/grafana-fleet.json");
    let v: serde_json::Value = serde_json::from_str(&raw).expect("the dashboard is JSON");
    let panels = v["panels"].as_array().expect("panels");
    assert!(panels.len() >= 4, "{} panels", panels.len());
    let mut exprs = String::new();
    for p in panels {
        for t in p["targets"].as_array().into_iter().flatten() {
            exprs.push_str(t["expr"].as_str().unwrap_or_default());
            exprs.push('\n');
        }
    }
    let used = metric_names(&exprs);
    assert!(!used.is_empty(), "no smqctl_ metric queried");
    let unknown: Vec<&String> = used
        .iter()
        .filter(|n| !smqctl::metrics::NAMES.contains(&n.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "the dashboard queries metrics smqctl does not serve: {unknown:?}"
    );
}

#[test]
fn readme_metrics_table_lists_every_metric_served() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let start = readme
        .find("## Live metrics")
        .expect("a Live metrics section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let documented = metric_names(section);
    for n in smqctl::metrics::NAMES {
        assert!(
            documented.contains(*n),
            "smqctl_{n} is not in the README's table"
        );
    }
    let extra: Vec<&String> = documented
        .iter()
        .filter(|n| !smqctl::metrics::NAMES.contains(&n.as_str()))
        .collect();
    assert!(
        extra.is_empty(),
        "the README documents metrics that do not exist: {extra:?}"
    );
}

/// A free loopback port (bound and released: Prometheus takes a port by flag).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// `query` through Prometheus's HTTP API: each result's labels and value.
fn prom_query(api: &str, query: &str) -> Vec<(serde_json::Value, f64)> {
    let (status, body) = get_plain(&format!("{api}/api/v1/query?query={query}"));
    assert_eq!(status, 200, "{query}: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("API answers JSON");
    assert_eq!(v["status"], "success", "{v}");
    v["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let value = r["value"][1]
                .as_str()
                .and_then(|x| x.parse().ok())
                .unwrap_or(f64::NAN);
            (r["metric"].clone(), value)
        })
        .collect()
}

/// GET without the /metrics content-type check (Prometheus's own API).
fn get_plain(url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let addr: SocketAddr = host.parse().expect("HOST:PORT");
    let Ok(mut s) = TcpStream::connect_timeout(&addr, STEP) else {
        return (0, String::new());
    };
    s.set_read_timeout(Some(STEP)).expect("timeout");
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let Some((head, body)) = reply.split_once("\r\n\r\n") else {
        return (0, reply);
    };
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        unchunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Polls a Prometheus query until `ok` holds for its results (scrapes are
/// every second; a generous deadline for a loaded machine).
fn prom_until(
    api: &str,
    query: &str,
    ok: impl Fn(&[(serde_json::Value, f64)]) -> bool,
) -> Vec<(serde_json::Value, f64)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = prom_query(api, query);
        if ok(&r) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus: {query} gave {r:?} for 60 s"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
#[ignore = "needs prometheus"]
fn prometheus_scrapes_a_running_simulate_and_broker() {
    let bin = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("prometheus is not installed (Debian: apt-get install prometheus)");
    let dir = tempfile::tempdir().expect("temp dir");
    let handlers = dir.path().join("charger.toml");
    let out = run(smqctl().args(["simulate", "--print-handlers", "charger"]));
    std::fs::write(&handlers, &out.stdout).expect("write handlers");
    let b = BrokerProcess::start(&[
        "--handlers",
        handlers.to_str().expect("utf-8 path"),
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    let broker_metrics = metrics_url(
        b.proc
            .stderr_seen
            .iter()
            .find(|l| l.contains("metrics at"))
            .expect("broker metrics line"),
    );
    let mut sim = Running::spawn(smqctl().args([
        "simulate",
        "-n",
        "4",
        "--ramp",
        "0",
        "--interval",
        "300ms",
        "-d",
        "120s",
        "--metrics-listen",
        "127.0.0.1:0",
        "--url",
        &b.url("ws"),
    ]));
    let sim_metrics = metrics_url(&sim.stderr_line("metrics at"));
    let target = |url: &str| {
        url.trim_start_matches("http://")
            .trim_end_matches("/metrics")
            .to_string()
    };
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: broker\n    static_configs:\n      - targets: ['{}']\n  - job_name: simulate\n    static_configs:\n      - targets: ['{}']\n",
            target(&broker_metrics),
            target(&sim_metrics)
        ),
    )
    .expect("write config");
    let port = free_port();
    let api = format!("http://127.0.0.1:{port}");
    let mut cmd = std::process::Command::new(bin);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(std::process::Stdio::null());
    let mut prom = Running::spawn(&mut cmd);
    let deadline = Instant::now() + Duration::from_secs(60);
    while get_plain(&format!("{api}/-/ready")).0 != 200 {
        assert!(
            Instant::now() < deadline,
            "Prometheus not ready within 60 s; its log: {:?}",
            prom.stderr_line_within("never", Duration::from_millis(100))
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Both targets up: Prometheus parsed what smqctl serves.
    prom_until(&api, "up", |r| {
        r.len() == 2 && r.iter().all(|(_, v)| *v == 1.0)
    });
    prom_until(&api, "smqctl_fleet_devices_online", |r| {
        r.len() == 1 && r[0].1 == 4.0 && r[0].0["job"] == "simulate"
    });
    // 4 devices connected to the broker (it counts them itself).
    prom_until(&api, "smqctl_broker_connections", |r| {
        r.len() == 1 && r[0].1 >= 4.0
    });
    // Counters grow between scrapes: the fleet publishes, the broker routes.
    prom_until(&api, "sum(smqctl_fleet_messages_sent_total)", |r| {
        r.len() == 1 && r[0].1 >= 8.0
    });
    prom_until(&api, "smqctl_broker_publishes_total", |r| {
        r.len() == 1 && r[0].1 >= 8.0
    });
    // The histogram is one Prometheus understands: a quantile of its buckets.
    prom_until(
        &api,
        "histogram_quantile(0.5,smqctl_fleet_connect_seconds_bucket)",
        |r| r.len() == 1 && r[0].1 > 0.0 && r[0].1 <= 60.0,
    );
    sim.interrupt();
    let _ = sim.wait();
}
