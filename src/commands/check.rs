//! `smqctl check URL`: is this SMQ broker healthy (connect, a publish to
//! `self` and to a fresh topic coming back, optionally an RPC, a request
//! with expected fields, a tracer, subscriber counts), graded by
//! `--warn`/`--critical`, printed for people, JSON, nagios or Prometheus; and
//! `smqctl check --probe URL`, a conformance report of the broker.
//!
//! Thin: flags become a [`crate::check`] config, the engine checks, this file
//! prints and picks the exit code (nagios: 0/1/2/3; otherwise the table's).
//!
//! May import: `args`, `exit`, `check` (the engine), `client`, `transport`,
//! `protocol`, `output`. Never `cli`.

use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::args::{ConnectArgs, GlobalArgs, ServerEtid, client_options};
use crate::check::{
    self, CheckConfig, CheckReport, Failure, ProbeConfig, RequestCheck, Status, Thresholds, Verdict,
};
use crate::exit::{self, input_error, json_error};
use crate::output::escape_controls;
use crate::text::parse_duration;

pub const EXAMPLES: &str = "\
Examples:
  smqctl check ws://127.0.0.1:9357/smq/                    # connect + round trips
  smqctl check http://mako.local/smq.lsp --warn 50ms --critical rtt=200ms,connect=2s
  smqctl check ws://x/smq/ -F nagios                       # SMQ OK - ... | connect=...s;...
  smqctl check ws://x/smq/ --rpc add 1 2 --request SearchSitesReq '{\"SiteName\":\"a\"}' \\
      --expect rows.0.site=a
  smqctl check ws://x/smq/ --tracer --subscribers DeviceState>=1
  smqctl check ws://x/smq/ -F prometheus > /var/lib/node_exporter/smq.prom
  smqctl check --probe ws://127.0.0.1:9357/smq/            # conformance report

Give the URL first when --rpc or --request follow (they take the words after them).
--warn/--critical take rtt=DURATION and connect=DURATION (a bare DURATION is rtt),
comma-separated or repeated; rtt is the slower of the two round trips.
Exit codes with -F nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (cannot connect,
refused, a bad URL or value; a flag clap itself rejects still exits 2). Otherwise: 0 healthy (warnings included), 1 a --critical threshold,
a failed --expect or --subscribers, 3/4 cannot connect or refused, 4 no tracer,
5 no answer in --timeout, 6 connection lost, 7 the handler answered with err;
--probe: 0 when every line passes, 1 when one fails.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Aligned lines for people
    Pretty,
    /// One JSON object
    Json,
    /// One nagios plugin line with perfdata; exit 0/1/2/3
    Nagios,
    /// Prometheus text exposition of the figures
    Prometheus,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Broker URL (overrides --url and SMQCTL_URL)
    #[arg(value_name = "URL")]
    pub url_arg: Option<String>,
    /// A conformance report of the broker instead of a health check
    #[arg(long, conflicts_with_all = ["rpc", "request", "tracer", "subscribers", "warn", "critical"])]
    pub probe: bool,
    /// Call this correlated RPC ($RpcReq) with ARGS (JSON values); it must answer
    #[arg(long, num_args = 1.., value_name = "NAME", allow_negative_numbers = true)]
    pub rpc: Vec<String>,
    /// Send this named request (REQUEST [PAYLOAD]) to the broker; it must answer
    /// on REQUEST with Req -> Resp
    #[arg(long, num_args = 1..=2, value_names = ["NAME", "JSON"])]
    pub request: Vec<String>,
    /// With --request: the reply must have VALUE (JSON, else text) at PATH
    /// (rows.0.site or $.rows[0].site); repeatable
    #[arg(long, value_name = "EXPR", requires = "request", value_parser = check::parse_expect)]
    pub expect: Vec<check::Expect>,
    /// A trace source (the embedded broker, or Mako with the hook) must answer
    /// an attach request
    #[arg(long)]
    pub tracer: bool,
    /// TOPIC must have at least N subscribers (from the tracer's snapshot, else
    /// Observe); repeatable
    #[arg(long, value_name = "EXPR", value_parser = check::parse_subscribers)]
    pub subscribers: Vec<check::SubscriberMin>,
    /// WARNING above this: rtt=DURATION, connect=DURATION (a bare DURATION is rtt)
    #[arg(long, value_name = "EXPR")]
    pub warn: Vec<String>,
    /// CRITICAL above this: rtt=DURATION, connect=DURATION (a bare DURATION is rtt)
    #[arg(long, value_name = "EXPR")]
    pub critical: Vec<String>,
    /// How long each step may wait (an echo, a reply, the tracer)
    #[arg(long, short = 'W', value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Output (default: pretty on a terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<CheckFormat>,
    #[command(flatten)]
    pub server: ServerEtid,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

fn thresholds(specs: &[String], flag: &str) -> Result<Thresholds> {
    let mut t = Thresholds::default();
    for s in specs {
        t.add(s).map_err(|e| input_error(format!("{flag} {e}")))?;
    }
    Ok(t)
}

fn config(args: &CheckArgs, opts: crate::client::ClientOptions) -> Result<CheckConfig> {
    let rpc = match args.rpc.split_first() {
        None => None,
        Some((name, words)) => {
            let values = words
                .iter()
                .map(|w| serde_json::from_str(w).unwrap_or_else(|_| Value::String(w.clone())))
                .collect();
            Some((name.clone(), values))
        }
    };
    let request = match args.request.as_slice() {
        [] => None,
        [name, rest @ ..] => {
            let payload = rest.first().cloned().unwrap_or_else(|| "{}".into());
            if payload.trim_start().starts_with(['{', '[']) {
                serde_json::from_str::<serde::de::IgnoredAny>(&payload)
                    .map_err(|e| json_error("--request PAYLOAD", &e))?;
            }
            Some(RequestCheck {
                name: name.clone(),
                payload: payload.into_bytes().into(),
                response: crate::protocol::rpc::derive_response(name),
                expect: args.expect.clone(),
            })
        }
    };
    Ok(CheckConfig {
        opts,
        server_etid: args.server.etid,
        timeout: args.timeout,
        rpc,
        request,
        tracer: args.tracer,
        subscribers: args.subscribers.clone(),
        warn: thresholds(&args.warn, "--warn")?,
        critical: thresholds(&args.critical, "--critical")?,
    })
}

pub async fn run(args: CheckArgs, global: &GlobalArgs) -> Result<u8> {
    let format =
        crate::output::format_for_stdout(args.format, CheckFormat::Pretty, CheckFormat::Json);
    let nagios = format == CheckFormat::Nagios;
    let mut conn = args.conn.clone();
    if let Some(url) = &args.url_arg {
        conn.url = url.clone();
    }
    // Nagios wants one line and 3 for anything that kept the check from running.
    let prepared = async {
        let opts = client_options(&conn, global).await?;
        Ok::<_, anyhow::Error>((config(&args, opts.clone())?, opts))
    }
    .await;
    let (cfg, opts) = match prepared {
        Ok(p) => p,
        Err(e) if nagios => return Ok(unknown(&e)),
        Err(e) => return Err(e),
    };
    if args.probe {
        return probe(&args, &opts, format).await;
    }
    let checked = tokio::select! {
        r = check::run_check(&cfg) => r,
        _ = crate::shutdown::requested() => return Ok(exit::INTERRUPTED),
    };
    let report = match checked {
        Ok(r) => r,
        Err(e) if nagios => return Ok(unknown(&e.into())),
        Err(e) => return Err(e.into()),
    };
    print(&report, &cfg, format);
    Ok(if nagios {
        report.status() as u8
    } else {
        usual_code(&report)
    })
}

/// Nagios UNKNOWN: the check could not run.
fn unknown(e: &anyhow::Error) -> u8 {
    println!("SMQ UNKNOWN - {}", exit::error_text(e).replace('|', "/"));
    Status::Unknown as u8
}

/// The exit code of the table for the first failed item.
fn usual_code(report: &CheckReport) -> u8 {
    let failed = report
        .items
        .iter()
        .filter(|i| i.status >= Status::Critical)
        .find_map(|i| i.failure);
    match failed {
        None => exit::OK,
        Some(Failure::Timeout) => exit::TIMEOUT,
        Some(Failure::Remote) => exit::REMOTE,
        Some(Failure::Lost) => exit::LOST,
        Some(Failure::NoTracer) => exit::REFUSED,
        Some(Failure::Mismatch | Failure::Threshold) => exit::ERROR,
    }
}

fn secs(d: Option<Duration>) -> String {
    d.map_or(String::new(), |d| format!("{:.6}", d.as_secs_f64()))
}

/// `connect=0.001234s;0.5;1;0` — value, warn, crit, min (nagios perfdata).
fn perf(name: &str, v: Option<Duration>, warn: Option<Duration>, crit: Option<Duration>) -> String {
    let v = v.map_or("U".to_string(), |d| format!("{}s", secs(Some(d))));
    format!("{name}={v};{};{};0", secs(warn), secs(crit))
}

fn print(r: &CheckReport, cfg: &CheckConfig, format: CheckFormat) {
    let status = r.status();
    match format {
        CheckFormat::Json => {
            let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
            v["status"] = json!(status);
            v["rtt_s"] = json!(r.rtt().map(|d| crate::latency::secs(d.as_secs_f64())));
            println!("{v}");
        }
        CheckFormat::Pretty => {
            println!("{} {}", status.as_str(), r.url);
            let width = r.items.iter().map(|i| i.check.chars().count()).max();
            for i in &r.items {
                println!(
                    "  {:<8} {:<width$} {}",
                    i.status.as_str(),
                    escape_controls(&i.check),
                    escape_controls(&i.detail),
                    width = width.unwrap_or(0)
                );
            }
        }
        CheckFormat::Nagios => {
            let worst: Vec<String> = r
                .items
                .iter()
                .filter(|i| i.status == status && status != Status::Ok)
                .map(|i| format!("{}: {}", i.check, i.detail))
                .collect();
            let summary = if worst.is_empty() {
                format!(
                    "{} connected in {:.1} ms, round trip {:.1} ms, {} check(s)",
                    r.url,
                    r.connect.as_secs_f64() * 1000.0,
                    r.rtt().unwrap_or_default().as_secs_f64() * 1000.0,
                    r.items.len()
                )
            } else {
                worst.join("; ")
            };
            // `|` starts the perfdata: not in the text.
            let summary = escape_controls(&summary).replace('|', "/");
            println!(
                "SMQ {} - {summary} | {} {}",
                status.as_str(),
                perf(
                    "connect",
                    Some(r.connect),
                    cfg.warn.connect,
                    cfg.critical.connect
                ),
                perf("rtt", r.rtt(), cfg.warn.rtt, cfg.critical.rtt)
            );
        }
        CheckFormat::Prometheus => {
            let url = prom_label(&r.url);
            let gauge = |name: &str, help: &str, v: String| {
                println!("# HELP {name} {help}\n# TYPE {name} gauge\n{name}{{url=\"{url}\"}} {v}");
            };
            gauge("smq_check_up", "1 when every check is OK or WARNING", {
                u8::from(status <= Status::Warning).to_string()
            });
            gauge(
                "smq_check_status",
                "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
                (status as u8).to_string(),
            );
            gauge(
                "smq_check_connect_seconds",
                "time to connect (TCP, TLS, HTTP, SMQ handshake)",
                secs(Some(r.connect)),
            );
            let nan = |d: Option<Duration>| if d.is_some() { secs(d) } else { "NaN".into() };
            gauge(
                "smq_check_rtt_self_seconds",
                "publish to our own ETID until it came back",
                nan(r.rtt_self),
            );
            gauge(
                "smq_check_rtt_topic_seconds",
                "publish to a fresh topic until it came back",
                nan(r.rtt_topic),
            );
            println!(
                "# HELP smq_check_item_ok 1 when the check is OK or WARNING\n# TYPE smq_check_item_ok gauge"
            );
            for i in &r.items {
                let check = prom_label(&i.check);
                println!(
                    "smq_check_item_ok{{url=\"{url}\",check=\"{check}\"}} {}",
                    u8::from(i.status <= Status::Warning)
                );
            }
        }
    }
}

async fn probe(
    args: &CheckArgs,
    opts: &crate::client::ClientOptions,
    format: CheckFormat,
) -> Result<u8> {
    if opts.credentials_cmd.is_some() {
        // The probe's hand-made Connects send --credentials as given.
        return Err(input_error(
            "--probe cannot compute credentials (--credentials-cmd); pass --credentials",
        ));
    }
    let cfg = ProbeConfig {
        opts: opts.clone(),
        timeout: args.timeout,
        connect_wait_limit: Duration::from_secs(12),
    };
    let lines = tokio::select! {
        r = check::run_probe(&cfg) => r,
        _ = crate::shutdown::requested() => return Ok(exit::INTERRUPTED),
    };
    let lines = match lines {
        Ok(l) => l,
        Err(e) if format == CheckFormat::Nagios => return Ok(unknown(&e.into())),
        Err(e) => return Err(e.into()),
    };
    let url = opts.endpoint.to_string();
    let failed = lines.iter().filter(|l| l.verdict == Verdict::Fail).count();
    match format {
        CheckFormat::Json => {
            println!("{}", json!({"url": url, "failed": failed, "lines": lines}));
        }
        CheckFormat::Pretty => {
            println!("probe {url}");
            for l in &lines {
                println!(
                    "  {:<5} {:<20} {}",
                    l.verdict.as_str(),
                    l.check,
                    escape_controls(&l.detail)
                );
            }
        }
        CheckFormat::Prometheus => {
            let url = prom_label(&url);
            println!(
                "# HELP smq_probe_pass 1 pass, 0 fail, for each line of the conformance probe (info lines left out)\n# TYPE smq_probe_pass gauge"
            );
            for l in lines.iter().filter(|l| l.verdict != Verdict::Info) {
                println!(
                    "smq_probe_pass{{url=\"{url}\",check=\"{}\"}} {}",
                    prom_label(&l.check),
                    u8::from(l.verdict == Verdict::Pass)
                );
            }
        }
        CheckFormat::Nagios => {
            let status = if failed > 0 {
                Status::Critical
            } else {
                Status::Ok
            };
            let which: Vec<&str> = lines
                .iter()
                .filter(|l| l.verdict == Verdict::Fail)
                .map(|l| l.check.as_str())
                .collect();
            let which = if which.is_empty() {
                String::new()
            } else {
                format!(" ({})", which.join(", "))
            };
            println!(
                "SMQ {} - probe of {url}: {} line(s), {failed} failed{which} | failed={failed};;1;0",
                status.as_str(),
                lines.len()
            );
            return Ok(status as u8);
        }
    }
    Ok(if failed > 0 { exit::ERROR } else { exit::OK })
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn prom_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
