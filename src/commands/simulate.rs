//! `smqctl simulate`: fleets of fake devices that behave like real SMQ devices
//! (subscribe `self` for commands, readiness barrier before the ready message,
//! periodic reports with sequence numbers, answers to commands, reconnect with
//! backoff), from a built-in scenario or a TOML file; and `simulate merge`,
//! which merges the reports of several shards.
//!
//! The engine is [`crate::fleet`] (scenario, device, run, report); this file
//! holds the flags, turns them into a [`FleetConfig`], prints progress and the
//! summary, and merges shard reports.
//!
//! May import: `args`, `exit`, `text`, `client`, `fleet`, `output`, `assert`, `metrics`,
//! `report_html`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::args::{AssertArgs, ConnectArgs, GlobalArgs, SummaryFormat, client_options};
use crate::assert::Gate;
use crate::client::ReconnectPolicy;
use crate::exit::{self, input_error};
use crate::fleet::report::{self, Report};
use crate::fleet::scenario::{self, Scenario};
use crate::fleet::{self, FleetConfig, run_fleet_with};
use crate::text::parse_duration;

pub const EXAMPLES: &str = "\
Examples:
  smqctl broker --handlers <(smqctl simulate --print-handlers charger) &
  smqctl simulate --devices 500                        # 500 chargers, until Ctrl-C
  smqctl simulate -n 10000 --ramp 1000/s --duration 2m --verify --report run.json
  smqctl simulate -n 500 --duration 1m --verify --html run.html   # charts to open in a browser
  smqctl simulate --scenario smib -n 200 --churn 5%    # 5 % of boards drop per minute
  smqctl simulate --scenario ./my-device.toml -n 50 --kill-after 30s
  smqctl simulate --print-scenario player > player.toml   # a starting point
  smqctl simulate -n 100000 --shard 3/10 --report shard-3.json   # one of 10 processes
  smqctl simulate merge shard-*.json
  smqctl simulate -n 60000 --bind 127.0.0.1,127.0.0.2,127.0.0.3   # beyond one address's ports
  smqctl simulate -n 500 --verify --metrics-listen 9465   # http://127.0.0.1:9465/metrics

Built-in scenarios: charger, smib, player (see --print-scenario NAME; the broker
side they expect: --print-handlers NAME, for `smqctl broker --handlers FILE`).
Device indexes start at 0; shard I of N (0-based) simulates a contiguous range.
A device's commands reach it at its ETID: the handler files re-publish each
ready message with the device's ETID (`smqctl sub DeviceReady`), then
`smqctl pub --to-etid ETID --subtopic SetCharger '{\"On\":true}'`.
Output: progress on stderr (a bar on a terminal, a line every --stats-every
otherwise), the summary on stdout; --format json prints stats lines and the
summary as JSON objects, one per line.
Exit codes: 0 done (also Ctrl-C without --duration), 1 --verify found lost or
duplicated reports or a device gave up, 2 bad scenario or arguments, 3 cannot
connect, 130 Ctrl-C before --duration ended.";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SimulateArgs {
    #[command(subcommand)]
    pub action: Option<SimulateAction>,
    /// Devices in the whole fleet (all shards together)
    #[arg(short = 'n', long, default_value_t = 10, value_name = "N",
          value_parser = crate::args::at_least_one::<u32>)]
    pub devices: u32,
    /// Built-in scenario (charger, smib, player) or a scenario TOML file
    #[arg(short, long, default_value = "charger", value_name = "NAME|FILE")]
    pub scenario: String,
    /// Print a built-in scenario's TOML (a starting point for your own) and exit
    #[arg(long, value_name = "NAME")]
    pub print_scenario: Option<String>,
    /// Print the broker handler file a built-in scenario expects and exit
    #[arg(long, value_name = "NAME")]
    pub print_handlers: Option<String>,
    /// Devices started per second ("500/s" or "500"); 0 starts all at once
    #[arg(long, default_value = "1000/s", value_parser = parse_rate, value_name = "RATE/s")]
    pub ramp: f64,
    /// Stop after this long (ramp included); default: until Ctrl-C
    #[arg(short, long, value_parser = parse_duration, value_name = "DURATION")]
    pub duration: Option<Duration>,
    /// First periodic message after a random delay up to this (default: one interval); 0 = lockstep
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub stagger: Option<Duration>,
    /// Override the interval of every periodic message
    #[arg(long, value_parser = crate::text::parse_positive_duration, value_name = "DURATION")]
    pub interval: Option<Duration>,
    /// Share of online devices that drop and reconnect per minute ("0.1" or "10%")
    #[arg(long, value_parser = parse_share, value_name = "P")]
    pub churn: Option<f64>,
    /// Drop each device's connection after it has been online this long (±10 %); it reconnects with backoff
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub kill_after: Option<Duration>,
    /// Simulate only shard I of N (0-based): devices [I*N_dev/N, (I+1)*N_dev/N)
    #[arg(long, value_parser = parse_shard, value_name = "I/N")]
    pub shard: Option<(u32, u32)>,
    /// Subscribe to the scenario's verify topics and count lost/duplicated reports per device
    #[arg(long)]
    pub verify: bool,
    /// Write the full report (summary, latency histograms, every device) as JSON
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Summary and progress format on stdout (default: pretty on a terminal,
    /// json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<SummaryFormat>,
    /// Progress line every this long when stderr is not a terminal (and --format json stats lines)
    #[arg(long, default_value = "5s", value_parser = crate::text::parse_positive_duration, value_name = "DURATION")]
    pub stats_every: Duration,
    #[command(flatten)]
    pub server: crate::args::ServerEtid,
    /// Spread the devices' connections over these local source addresses
    /// (comma-separated), for fleets beyond one address's ephemeral ports
    #[arg(long, value_delimiter = ',', value_name = "ADDR,...")]
    pub bind: Vec<std::net::IpAddr>,
    /// A device whose connection ends gives up instead of reconnecting
    #[arg(long)]
    pub no_reconnect: bool,
    #[command(flatten)]
    pub gates: AssertArgs,
    #[command(flatten)]
    pub metrics: crate::args::MetricsArgs,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

#[derive(Debug, Subcommand)]
pub enum SimulateAction {
    /// Merge the --report files of several shards into one summary
    #[command(
        after_long_help = "Examples:\n  smqctl simulate merge shard-0.json shard-1.json shard-2.json\n  smqctl simulate merge reports/*.json --format json --report all.json\n\nFails (exit 1) when two reports share a device or a device of the fleet is in none."
    )]
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Report files written by `simulate --report`
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Output (default: pretty on a terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<SummaryFormat>,
    /// Also write the merged report here
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let t = t.strip_suffix("/s").unwrap_or(t);
    match t.trim().parse::<f64>() {
        Ok(r) if r >= 0.0 && r.is_finite() => Ok(r),
        _ => Err(format!("'{s}' is not a rate like 500/s (0 = all at once)")),
    }
}

fn parse_share(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    };
    match v {
        Ok(v) if v >= 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("'{s}' is not a share like 0.05 or 5%")),
    }
}

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("'{s}' is not a shard like 0/4 (I of N, 0-based)");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n) = (
        i.trim().parse::<u32>().map_err(|_| bad())?,
        n.trim().parse::<u32>().map_err(|_| bad())?,
    );
    if n == 0 {
        return Err(format!("'{s}': N, the number of shards, must be 1 or more"));
    }
    if i >= n {
        return Err(format!(
            "'{s}': I must be below N (0/{n} .. {}/{n})",
            n.saturating_sub(1)
        ));
    }
    Ok((i, n))
}

/// Raises the open-files soft limit to the hard limit (each device is a socket).
fn raise_fd_limit(devices: u64) {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return;
    };
    let want = devices + 64;
    let mut limit = soft;
    // Above the hard limit only with CAP_SYS_RESOURCE (root outside a container).
    if want > hard && setrlimit(Resource::RLIMIT_NOFILE, want, want).is_ok() {
        limit = want;
    } else if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        limit = hard;
    }
    // A socket per device, a few for the runtime, the verifier, stdio.
    if want > limit {
        eprintln!(
            "warning: {devices} devices need about {want} open files but the limit is {limit} (hard limit {hard}); connections beyond it will fail — raise it (ulimit -n, or systemd LimitNOFILE) or use --shard over several processes"
        );
    }
}

pub async fn run(args: SimulateArgs, global: &GlobalArgs) -> Result<u8> {
    if let Some(SimulateAction::Merge(m)) = args.action {
        return merge(m);
    }
    if let Some(name) = args
        .print_scenario
        .as_deref()
        .or(args.print_handlers.as_deref())
    {
        let Some((text, handlers)) = scenario::builtin(name) else {
            return Err(input_error(format!(
                "no built-in scenario '{name}' (built-in: {})",
                scenario::builtin_names()
            )));
        };
        let out = if args.print_scenario.is_some() {
            text
        } else {
            handlers
        };
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(out.as_bytes())?;
        stdout.flush()?;
        return Ok(exit::OK);
    }
    if args.conn.uid.is_some() && !args.verify {
        return Err(input_error(
            "--uid does not apply to simulate without --verify: each device's UID comes from the scenario's [device] uid template (with --verify, --uid names the verify subscriber)",
        ));
    }
    let scenario = Scenario::load(&args.scenario).map_err(|e| input_error(e.to_string()))?;
    let gate = Gate::new(args.gates.asserts.clone(), &summary_sample())?;
    // Fail before the run, not after it: a --report path that cannot be
    // written would lose the whole run's report at the end, and a --bind
    // address that is not local would make every connect fail for the whole
    // --duration.
    for path in args.report.iter().chain(&args.html) {
        check_report_path(path)?;
    }
    // The same floor as a scenario file's `interval`.
    if let Some(i) = args.interval
        && i < Duration::from_millis(10)
    {
        return Err(input_error(format!(
            "--interval {i:?}: must be 10ms or longer"
        )));
    }
    for addr in &args.bind {
        std::net::TcpListener::bind((*addr, 0)).map_err(|e| {
            input_error(format!(
                "--bind {addr}: cannot use this source address: {e}"
            ))
        })?;
    }
    // Bound now, served once the fleet's probe exists: an address in use
    // fails before any device connects.
    let metrics = crate::metrics::bind(args.metrics.metrics_listen, "simulate").await?;
    let mut opts = client_options(&args.conn, global).await?;
    // Devices take their UIDs from the scenario; --uid (with --verify) is
    // the verify subscriber's.
    let verify_uid = opts.uid.take();
    let shard = args.shard.unwrap_or((0, 1));
    let range = fleet::shard_range(args.devices, shard.0, shard.1);
    let target = u64::from(range.1 - range.0);
    raise_fd_limit(target);
    let mut cfg = FleetConfig::new(scenario, opts, args.devices);
    cfg.shard = shard;
    cfg.ramp = args.ramp;
    cfg.duration = args.duration;
    cfg.churn_per_min = args.churn.unwrap_or(0.0);
    cfg.kill_after = args.kill_after;
    cfg.stagger = args.stagger;
    cfg.interval = args.interval;
    cfg.broker_tid = args.server.etid;
    cfg.verify = args.verify;
    cfg.verify_uid = verify_uid;
    cfg.bind = args.bind.clone();
    cfg.reconnect = ReconnectPolicy {
        enabled: !args.no_reconnect,
        ..ReconnectPolicy::default()
    };
    let _metrics = metrics
        .map(|m| m.serve(vec![Box::new(crate::metrics::Fleet(cfg.probe.clone()))]))
        .transpose()?;
    let terminal = std::io::stderr().is_terminal();
    cfg.tick = if terminal {
        Duration::from_secs(1)
    } else {
        args.stats_every
    };
    let format = SummaryFormat::for_stdout(args.format);
    let json = format == SummaryFormat::Json;
    let bar = crate::output::progress(Some(target), "online");
    if terminal {
        // The shared bar shows a rate of its own position; a fleet wants its own line.
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:20} {pos}/{len} online {msg}")
        {
            bar.set_style(style);
        }
    }
    let stats_every = args.stats_every;
    let mut last_line = std::time::Instant::now();
    let on_tick = |live: &report::Live| {
        if json {
            let mut v = serde_json::to_value(live).unwrap_or_default();
            if let serde_json::Value::Object(m) = &mut v {
                let mut o = serde_json::Map::new();
                o.insert("type".into(), "stats".into());
                o.extend(std::mem::take(m));
                v = o.into();
            }
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{v}");
            let _ = out.flush();
        }
        if terminal {
            bar.set_position(live.online);
            bar.set_message(format!(
                "conn {} out {:.0}/s in {:.0}/s cmds {}/{} err {} reconn {}",
                live.connecting,
                live.out_per_s,
                live.in_per_s,
                live.commands,
                live.replies,
                live.errors,
                live.reconnects
            ));
        } else if !json && last_line.elapsed() + Duration::from_millis(50) >= stats_every {
            last_line = std::time::Instant::now();
            eprintln!("smqctl: {}", live.line());
        }
    };
    let interrupted = std::sync::atomic::AtomicBool::new(false);
    let shutdown = async {
        crate::shutdown::requested().await;
        interrupted.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let report = run_fleet_with(cfg, shutdown, on_tick).await?;
    bar.finish_and_clear();
    print_report(&report, format)?;
    if let Some(path) = &args.report {
        write_report(&report, path)?;
    }
    // Judged once: the outcomes go to stderr and into the --html page.
    let outcomes = gate.judge(&report.summary_json());
    if let Some(path) = &args.html {
        let opt = |d: Option<Duration>| d.map(|d| format!("{d:?}")).unwrap_or_else(|| "-".into());
        let params = vec![
            ("ramp".to_string(), format!("{}/s", args.ramp)),
            ("duration".into(), opt(args.duration)),
            ("interval".into(), opt(args.interval)),
            (
                "churn".into(),
                args.churn
                    .map(|c| format!("{c}/min"))
                    .unwrap_or_else(|| "-".into()),
            ),
            ("kill after".into(), opt(args.kill_after)),
            ("verify".into(), args.verify.to_string()),
        ];
        let mut page = report.html_page(params);
        page.asserts = super::html_asserts(&outcomes);
        write_html(&page, path)?;
    }
    if let Some(reason) = report
        .verify
        .as_ref()
        .and_then(|v| v.none_came_back(&report.scenario))
    {
        eprintln!("error: --verify: {reason}");
    }
    let interrupted = interrupted.load(std::sync::atomic::Ordering::Relaxed);
    let code = if interrupted && args.duration.is_some() {
        exit::INTERRUPTED
    } else {
        outcome(&report)
    };
    Ok(super::gated_on(&outcomes, code))
}

/// A summary with every field filled (latencies, verify, all online): the
/// names `--assert` may use. Its maps (errors, by_kind_out, commands_in) are
/// open: any key.
fn summary_sample() -> serde_json::Value {
    let mut latency = crate::latency::Latency::new();
    latency.record(Duration::from_millis(1));
    Report {
        all_online_s: Some(1.0),
        connect_ms: latency.to_json(),
        ready_ms: latency.to_json(),
        request_ms: latency.to_json(),
        verify: Some(report::VerifyReport::default()),
        ..Report::default()
    }
    .summary_json()
}

fn outcome(report: &Report) -> u8 {
    let bad_verify = report
        .verify
        .as_ref()
        .is_some_and(|v| v.lost > 0 || v.duplicated > 0);
    if bad_verify || report.failed > 0 {
        exit::ERROR
    } else {
        exit::OK
    }
}

fn print_report(report: &Report, format: SummaryFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        SummaryFormat::Json => writeln!(out, "{}", report.summary_json())?,
        // Error causes quote the broker (Connack and close reasons): escaped.
        SummaryFormat::Pretty => {
            for line in report.text().lines() {
                writeln!(out, "{}", crate::output::escape_controls(line))?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// The report file can be created (or rewritten); leaves no file behind.
fn check_report_path(path: &std::path::Path) -> Result<()> {
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| {
            input_error(format!(
                "cannot write the report to {}: {e}",
                path.display()
            ))
        })?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

fn write_report(report: &Report, path: &std::path::Path) -> Result<()> {
    let text = serde_json::to_string_pretty(report)?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("cannot write the report to {}", path.display()))
}

fn write_html(page: &crate::report_html::Page, path: &std::path::Path) -> Result<()> {
    std::fs::write(path, page.render())
        .with_context(|| format!("cannot write the HTML report to {}", path.display()))
}

fn merge(args: MergeArgs) -> Result<u8> {
    let mut reports = Vec::new();
    for path in &args.reports {
        let text = std::fs::read_to_string(path)
            .map_err(|e| input_error(format!("cannot read report {}: {e}", path.display())))?;
        let r: Report = serde_json::from_str(&text)
            .map_err(|e| crate::exit::json_error(&path.display().to_string(), &e))?;
        reports.push(r);
    }
    let (merged, missing) = match report::merge(reports) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: cannot merge: {e}");
            return Ok(exit::ERROR);
        }
    };
    print_report(&merged, SummaryFormat::for_stdout(args.format))?;
    if let Some(path) = &args.report {
        write_report(&merged, path)?;
    }
    if let Some(path) = &args.html {
        let files: Vec<String> = args
            .reports
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let mut page = merged.html_page(vec![("merged from".into(), files.join(", "))]);
        page.title = format!(
            "smqctl simulate merge: {} × {}",
            merged.devices, merged.scenario
        );
        write_html(&page, path)?;
    }
    if !missing.is_empty() {
        let first: Vec<String> = missing.iter().take(10).map(u32::to_string).collect();
        eprintln!(
            "error: {} of {} device(s) are in no report (first: {}); a shard is missing",
            missing.len(),
            merged.fleet,
            first.join(", ")
        );
        return Ok(exit::ERROR);
    }
    Ok(outcome(&merged))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_shares_and_shards_parse() {
        assert_eq!(parse_rate("500/s"), Ok(500.0));
        assert_eq!(parse_rate("0"), Ok(0.0));
        assert!(parse_rate("-1").is_err() && parse_rate("fast").is_err());
        assert_eq!(parse_share("5%"), Ok(0.05));
        assert_eq!(parse_share("0.2"), Ok(0.2));
        assert!(parse_share("x").is_err());
        assert_eq!(parse_shard("3/10"), Ok((3, 10)));
        assert!(
            parse_shard("10/10").is_err()
                && parse_shard("1/0").is_err()
                && parse_shard("1").is_err()
        );
        // Zero shards is its own mistake, not "I must be below N (0/0 .. 0/0)".
        let zero = parse_shard("0/0").expect_err("no shards");
        assert!(zero.contains("1 or more") && !zero.contains(".."), "{zero}");
    }
}
