//! `smqctl trace`: a broker's trace events without the TUI, for logs, CI and
//! pipes. Events come from [`crate::trace::attach`] (attached to the broker's
//! tracer, or degraded to client-side messages when none answers), pass the
//! same [`Filter`] the TUI uses, and print as pretty lines or as the schema's
//! JSON, one event per line (a file `smqctl tui` can replay). Status changes go
//! to stderr so stdout stays pure data. `--findings` runs the analyzer of
//! `smqctl analyze` over every event (filtered out or not) and prints each
//! finding right after the event that made it.
//!
//! May import: `args`, `exit`, `text`, `client`, `trace`, `analyze`, `output`, `metrics`.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use tokio::sync::mpsc;

use crate::analyze::{Analyzer, Config, Update as Found, parse_ts};
use crate::args::{AttachArgs, ConnectArgs, FilterArgs, GlobalArgs, at_least_one, client_options};
use crate::client::ReconnectPolicy;
use crate::exit;
use crate::output::findings::{finding_json, finding_line};
use crate::output::{clock_time, escape_controls, paint, use_color};
use crate::text::{clock_seconds_in, parse_duration};
use crate::trace::attach;
use crate::trace::file::{self, FileOptions};
use crate::trace::filter::Filter;
use crate::trace::schema::{self, Event, Kind};
use crate::trace::source::{Status, Update};

const EXAMPLES: &str = "\
Examples:
  smqctl trace                                   # everything the broker at 127.0.0.1:9357 does
  smqctl trace --drops                           # only messages nobody received
  smqctl trace --kind publish,drop --topic 'Device*' --exclude DeviceHeartbeat
  smqctl trace --grep sim-00042                  # one client (UID, topic, payload text)
  smqctl trace --format json > trace.ndjson      # a file `smqctl tui` can replay
  smqctl trace --format json --count 100 --timeout 10s   # CI: 100 events or exit 5
  smqctl trace --drops --timeout 10s --expect-none       # CI: no drop in 10 s, or exit 1
  smqctl trace --findings                        # events, and what `smqctl analyze` finds in them
  smqctl trace --url http://mako.local/smq.lsp --fallback-topic DeviceState
  smqctl trace --drops --metrics-listen 9467       # events by kind for Prometheus

The broker must be a trace source: `smqctl broker`, or a Mako app with the hook
from `smqctl hook lua`. When none answers (or it refuses), smqctl falls back to
showing what this client receives itself (direct messages and --fallback-topic
topics), says so on stderr, and keeps going; --no-fallback exits 4 instead.

Exit codes: 0 done (--count reached, or --timeout after some events; with
--expect-none: after none), 1 an event with --expect-none, 3 cannot connect,
4 refused (or no tracer with --no-fallback or --expect-none), 5 timed out,
6 connection lost (with --no-reconnect), 130 interrupted.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    /// One readable line per event (colour on a terminal)
    Pretty,
    /// The schema's JSON, one event per line
    Json,
}

/// Show what an SMQ broker does: publishes, drops, denials, connects, closes…
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub struct TraceArgs {
    #[command(flatten)]
    pub attach: AttachArgs,
    /// Read the events from this NDJSON file (`trace --format json` output, a TUI
    /// export) instead of a broker; the same filters, --count and --format apply
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Only events whose topic matches this pattern (`*` wildcard; repeatable)
    #[arg(long, value_name = "PATTERN")]
    pub topic: Vec<String>,
    /// Exit after this many events (snapshots and notices do not count)
    #[arg(short = 'C', long, value_name = "N", value_parser = at_least_one::<u64>)]
    pub count: Option<u64>,
    /// Stop after this long; exit 5 if --count events (without --count: any event) did not arrive
    #[arg(short = 'W', long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Success is no event: exit 0 when none matched within --timeout, 1 at the
    /// first that does (CI: `--drops -W 10s --expect-none`); implies --no-fallback
    #[arg(long, requires = "timeout", conflicts_with = "count")]
    pub expect_none: bool,
    /// When no tracer answers: exit 4 instead of falling back
    #[arg(long)]
    pub no_fallback: bool,
    /// Run the rules of `smqctl analyze` over every event and print each finding
    /// after the event that made it (json: a {"type":"finding"} object; file
    /// readers skip those lines, so the output still replays)
    #[arg(long)]
    pub findings: bool,
    /// Exit when the connection drops instead of reconnecting
    #[arg(long)]
    pub no_reconnect: bool,
    /// Output format (default: pretty on a terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<TraceFormat>,
    #[command(flatten)]
    pub metrics: crate::args::MetricsArgs,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

impl TraceArgs {
    /// The filter these flags describe (the TUI's filter bar builds the same type).
    pub fn filter(&self) -> Filter {
        self.filters.filter(&self.topic)
    }
}

pub async fn run(args: TraceArgs, global: &GlobalArgs) -> Result<u8> {
    let format =
        crate::output::format_for_stdout(args.format, TraceFormat::Pretty, TraceFormat::Json);
    let color = use_color(global.color);
    let cfg = args.attach.config(ReconnectPolicy {
        enabled: !args.no_reconnect,
        ..ReconnectPolicy::default()
    });
    let filter = args.filter();
    let (tx, mut rx) = mpsc::channel(1024);
    // The -W clock starts before the session does, so every deadline inside
    // it (the acks of its Createsub/Subscribe, within --connect-timeout)
    // starts later and ends no earlier: `-W 2s --connect-timeout 2s` against
    // a broker that never acks is a timeout (5), whichever thread the
    // scheduler ran first (it was 3 when the session got ahead of this clock).
    let deadline = args
        .timeout
        .map(|t| tokio::time::Instant::now() + t)
        .unwrap_or_else(|| {
            tokio::time::Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600)
        });
    // Before the source starts: an address in use fails before anything connects.
    let counts = crate::metrics::Trace::default();
    let _metrics = crate::metrics::start(
        args.metrics.metrics_listen,
        "trace",
        vec![Box::new(counts.clone())],
    )
    .await?;
    let source = match &args.file {
        Some(path) => {
            let f = file::open(path)
                .await
                .map_err(|e| exit::input_error(e.to_string()))?;
            let opts = FileOptions {
                path: path.clone(),
                rate: None,
                follow: false,
            };
            tokio::spawn(async move {
                file::run(opts, f, tx).await;
                Ok::<(), crate::client::ClientError>(())
            })
        }
        None => {
            let opts = client_options(&args.conn, global).await?;
            tokio::spawn(attach::session(opts, cfg, tx))
        }
    };
    let mut out = BufWriter::new(io::stdout().lock());
    let mut counted: u64 = 0;
    let timed_out = |counted: u64| -> u8 {
        let done = match args.count {
            Some(_) => false,
            None if args.expect_none => counted == 0,
            None => counted > 0,
        };
        if !done {
            eprintln!(
                "smqctl: timed out after {:?} with {counted} event(s){}",
                args.timeout.unwrap_or_default(),
                args.count.map(|n| format!(" of {n}")).unwrap_or_default()
            );
        }
        if done { exit::OK } else { exit::TIMEOUT }
    };
    let sleep = tokio::time::sleep_until(deadline);
    tokio::pin!(sleep);
    // One waiter for the whole run, not a new one per event.
    let stop = crate::shutdown::requested();
    tokio::pin!(stop);
    let mut findings = args.findings.then(|| Findings {
        analyzer: Analyzer::new(Config::default()),
        clock: None,
        format,
        color,
    });
    let mut ticker = tokio::time::interval(FINDINGS_TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let update = tokio::select! {
            // An expired -W wins over what is queued at the same moment (the
            // session's own end among it), not a random pick between them.
            biased;
            _ = &mut sleep => {
                if let Some(f) = &mut findings {
                    f.finish(&mut out)?;
                }
                let _ = out.flush();
                source.abort();
                return Ok(timed_out(counted));
            }
            _ = &mut stop => {
                if let Some(f) = &mut findings {
                    f.finish(&mut out)?;
                }
                let _ = out.flush();
                return Ok(if args.count.is_some() { exit::INTERRUPTED } else { exit::OK });
            }
            _ = ticker.tick(), if findings.is_some() && args.file.is_none() => {
                if let Some(f) = &mut findings {
                    f.tick(&mut out)?;
                }
                continue;
            }
            u = rx.recv() => u,
        };
        let Some(update) = update else {
            break;
        };
        counts.observe(&update);
        match update {
            Update::Status(s) => {
                // Degraded mode cannot see what --expect-none expects none of.
                if let Status::Degraded { reason, .. } = &s
                    && (args.no_fallback || args.expect_none)
                {
                    // Not the "degraded: showing ..." line: with --no-fallback
                    // nothing is shown, the run ends here.
                    eprintln!(
                        "error: no trace source attached this tracer ({}): {}\nhint: start `smqctl broker`, or install the Mako hook (README: Mako hook; `smqctl hook lua --help`)",
                        if args.no_fallback {
                            "--no-fallback"
                        } else {
                            "--expect-none needs one"
                        },
                        escape_controls(reason)
                    );
                    source.abort();
                    return Ok(exit::REFUSED);
                }
                if let Status::Degraded { .. } = &s
                    && findings.take().is_some()
                {
                    eprintln!(
                        "smqctl: --findings: off in degraded mode (the rules need the broker's view of every client)"
                    );
                }
                if let Status::Ended { reason, error } = &s {
                    if *error && args.file.is_some() {
                        // A broken line: the file is bad input, not shortened silently.
                        let _ = out.flush();
                        return Err(exit::input_error(escape_controls(reason)));
                    }
                    continue; // the session's own result says more
                }
                eprintln!("smqctl: {}", escape_controls(&status_line(&s)));
            }
            Update::Event(ev) => {
                let found = match &mut findings {
                    Some(f) => f.feed(&ev),
                    None => Vec::new(),
                };
                if !filter.matches(&ev) {
                    if let Some(f) = &findings {
                        f.print(&mut out, &found)?;
                    }
                    continue;
                }
                let line = match format {
                    TraceFormat::Json => serde_json::to_string(&ev).context("encoding an event")?,
                    TraceFormat::Pretty => pretty(&ev, color),
                };
                let written = writeln!(out, "{line}")
                    .and_then(|_| match &findings {
                        Some(f) => f.write(&mut out, &found),
                        None => Ok(()),
                    })
                    .and_then(|_| out.flush());
                if let Err(e) = written {
                    source.abort();
                    if e.kind() == io::ErrorKind::BrokenPipe {
                        return Ok(exit::OK);
                    }
                    return Err(e).context("cannot write the output");
                }
                if !matches!(ev.kind, Kind::Snapshot | Kind::Notice) {
                    counted += 1;
                    if args.expect_none {
                        source.abort();
                        eprintln!("error: --expect-none: a {} event arrived", ev.kind.as_str());
                        return Ok(exit::ERROR);
                    }
                    if args.count.is_some_and(|n| counted >= n) {
                        source.abort();
                        if let Some(f) = &mut findings {
                            f.finish(&mut out)?;
                        }
                        return Ok(exit::OK);
                    }
                }
            }
        }
    }
    if let Some(f) = &mut findings {
        f.finish(&mut out)?;
    }
    out.flush().ok();
    let ended = source.await;
    // The session ended (an unacknowledged setup, say) once -W had run out,
    // before the timer's wakeup was seen here: that run timed out.
    if tokio::time::Instant::now() >= deadline {
        return Ok(timed_out(counted));
    }
    match ended {
        Ok(Ok(())) => Ok(exit::OK),
        Ok(Err(e)) => Err(anyhow::Error::from(e)).context("tracing stopped"),
        Err(_) => Ok(exit::OK),
    }
}

/// How often live findings are ticked without events (timeouts fire).
const FINDINGS_TICK: Duration = Duration::from_millis(200);

/// `--findings`: the analyzer, the broker's clock as best known (the latest
/// event's time plus the wall time since it came), and how findings print.
struct Findings {
    analyzer: Analyzer,
    clock: Option<(jiff::Timestamp, std::time::Instant)>,
    format: TraceFormat,
    color: bool,
}

impl Findings {
    fn feed(&mut self, ev: &Event) -> Vec<Found> {
        if let Some(t) = parse_ts(&ev.ts)
            && self.clock.is_none_or(|(l, _)| t >= l)
        {
            self.clock = Some((t, std::time::Instant::now()));
        }
        self.analyzer.feed(ev)
    }

    fn tick(&mut self, out: &mut impl Write) -> Result<()> {
        let Some((t, at)) = self.clock else {
            return Ok(());
        };
        let since = jiff::SignedDuration::try_from(at.elapsed()).unwrap_or_default();
        if let Ok(now) = t.checked_add(since) {
            let found = self.analyzer.tick(now);
            self.print(out, &found)?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut impl Write) -> Result<()> {
        let found = self.analyzer.finish();
        self.print(out, &found)
    }

    /// Writes and flushes the new findings among `found`.
    fn print(&self, out: &mut impl Write, found: &[Found]) -> Result<()> {
        self.write(out, found)
            .and_then(|_| out.flush())
            .or_else(|e| {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .context("cannot write the output")
    }

    /// The new findings among `found`, one line each: a finding made again
    /// is not printed again (`smqctl analyze` counts them).
    fn write(&self, out: &mut impl Write, found: &[Found]) -> io::Result<()> {
        for u in found {
            let Found::New(i) = *u else { continue };
            let Some(f) = self.analyzer.findings().get(i) else {
                continue;
            };
            match self.format {
                TraceFormat::Json => writeln!(out, "{}", finding_json(i, f))?,
                TraceFormat::Pretty => writeln!(out, "{}", finding_pretty_line(f, self.color))?,
            }
        }
        Ok(())
    }
}

/// A finding as a trace line: the time it was (last) made, `FINDING`, and the
/// shared one-line rendering (`error[rule] message`).
fn finding_pretty_line(f: &crate::analyze::Finding, color: bool) -> String {
    let time = pretty(&Event::new(Kind::Notice, f.last_ts.clone()), false);
    let time = time.split(' ').next().unwrap_or_default();
    let label = paint(color, "1;35", &format!("{:<11}", "FINDING"));
    format!("{time} {label} {}", finding_line(f, color))
}

/// One stderr line for a status change.
pub fn status_line(s: &Status) -> String {
    match s {
        Status::Connecting { url } => format!("connecting to {url}"),
        Status::Attached { etid } => format!("attached to the broker's tracer (as ETID {etid})"),
        Status::Degraded { reason, topics, .. } => format!(
            "degraded: {reason}; showing only what this client receives ({})",
            topics.join(", ")
        ),
        Status::Reconnecting {
            reason,
            attempt,
            delay,
        } => format!(
            "connection lost ({reason}); reconnecting in {:.1}s (attempt {attempt})",
            delay.as_secs_f64()
        ),
        Status::Ended { reason, .. } => format!("ended: {reason}"),
    }
}

/// SGR colour codes of the pretty lines (painted by `output::paint`).
const RED: &str = "1;31";
const YELLOW: &str = "1;33";
const DIM: &str = "2";
const GREEN: &str = "32";

/// `who(etid)`: the UID when known.
fn who(c: &schema::Client) -> String {
    match &c.uid {
        Some(uid) => format!("{}({})", escape_controls(uid), c.etid),
        None => c.label(),
    }
}

/// One readable line: local time, kind, from → to, sub-topic, size, preview.
pub fn pretty(e: &Event, color: bool) -> String {
    let time = match e.timestamp().map(std::time::SystemTime::from) {
        // Whole seconds (the Mako hook): no made-up `.000`.
        Some(t) if e.whole_seconds() => clock_seconds_in(t, &crate::text::local_zone()),
        Some(t) => clock_time(t),
        None => e.ts.clone(),
    };
    let kind = e.kind.as_str().to_ascii_uppercase();
    let code = match e.kind {
        Kind::Drop | Kind::Deny | Kind::Error => RED,
        Kind::Notice => YELLOW,
        Kind::Connect | Kind::Close => GREEN,
        Kind::Publish => "",
        _ => DIM,
    };
    let kind = paint(color && !code.is_empty(), code, &format!("{kind:<11}"));
    let mut line = format!("{time} {kind}");
    if let Some(snap) = &e.snapshot {
        line.push_str(&format!(
            " server ETID {}: {} topic(s), {} sub-topic(s), {} client(s)",
            snap.server_etid.map_or("?".into(), |n| n.to_string()),
            snap.topics.len(),
            snap.subtopics.len(),
            snap.clients.len()
        ));
    }
    if let Some(from) = &e.from {
        line.push(' ');
        line.push_str(&who(from));
        if let Some(addr) = &from.addr
            && matches!(e.kind, Kind::Connect | Kind::Deny)
        {
            line.push_str(&format!(" from {addr}"));
        }
    }
    if let Some(to) = &e.to {
        line.push_str(&format!(" → {}", escape_controls(&to.label())));
    }
    if let Some(sub) = &e.subtopic {
        line.push_str(&format!(" [{}]", escape_controls(sub)));
    } else if let Some(id) = e.subtid {
        line.push_str(&format!(" [#{id}]"));
    }
    if let Some(n) = e.receivers {
        line.push_str(&format!(" ×{n}"));
    }
    if let Some(size) = e.size {
        line.push_str(&format!(" {size} B"));
    }
    if let Some(p) = &e.payload {
        let shown = match e.encoding {
            Some(schema::Encoding::Base64) => format!("base64:{p}"),
            _ => escape_controls(p),
        };
        let ell = if e.truncated { "…" } else { "" };
        line.push_str(&format!(" {shown}{ell}"));
    }
    if let Some(reason) = &e.reason {
        let reason = format!("({})", escape_controls(reason));
        line.push(' ');
        line.push_str(&paint(color && code == RED, RED, &reason));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::schema::{Client, Dest, DestType};

    const RED: &str = "\x1b[1;31m";

    #[test]
    fn pretty_lines_name_who_sent_what_where() {
        let mut e =
            Event::new(Kind::Drop, "2026-11-22T03:44:17.123Z".into()).with_payload(b"hello", 256);
        e.from = Some(Client {
            etid: 7,
            uid: Some("sim-00001".into()),
            ..Client::default()
        });
        e.to = Some(Dest {
            tid: 9,
            kind: DestType::Topic,
            name: Some("Nobody".into()),
            uid: None,
        });
        e.subtid = Some(4);
        e.subtopic = Some("SetCharger".into());
        e.reason = Some("no subscribers".into());
        let line = pretty(&e, false);
        assert!(
            line.ends_with(
                "DROP        sim-00001(7) → Nobody [SetCharger] 5 B hello (no subscribers)"
            ),
            "{line}"
        );
        assert!(!line.contains('\x1b'));
        assert!(pretty(&e, true).contains(RED), "drops stand out in colour");
    }

    #[test]
    fn pretty_shows_whole_second_lua_times_without_a_made_up_000() {
        let clock = |ts: &str| {
            let line = pretty(&Event::new(Kind::Connect, ts.into()), false);
            line.split(' ').next().unwrap_or_default().to_string()
        };
        let lua = clock("2026-11-22T03:44:17Z");
        assert_eq!(lua.len(), 8, "HH:MM:SS only: {lua}");
        assert!(lua.ends_with(":17") && !lua.contains('.'), "{lua}");
        let rust = clock("2026-11-22T03:44:17.120Z");
        assert!(
            rust.ends_with(":17.120"),
            "milliseconds kept where the source has them: {rust}"
        );
        assert_eq!(
            clock("2026-11-22T03:44:17.000Z").len(),
            12,
            "a real .000 is kept"
        );
    }

    #[test]
    fn flags_map_onto_the_shared_filter() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            trace: TraceArgs,
        }
        let args = <Cli as clap::Parser>::try_parse_from([
            "trace",
            "--kind",
            "publish",
            "--drops",
            "--topic",
            "Device*",
            "--exclude",
            "DeviceHeartbeat",
            "--grep",
            "sim",
        ])
        .expect("parses")
        .trace;
        let f = args.filter();
        assert_eq!(
            f.kinds.into_iter().collect::<Vec<_>>(),
            [Kind::Publish, Kind::Drop]
        );
        assert_eq!(f.include, ["Device*"]);
        assert_eq!(f.exclude, ["DeviceHeartbeat"]);
        assert_eq!(f.text, "sim");
        assert!(crate::args::parse_kind("DROP").is_ok());
        assert!(
            crate::args::parse_kind("teleport")
                .expect_err("unknown kind")
                .contains("one of: publish")
        );
    }
}
