//! `smqctl analyze`: the rule engine ([`crate::analyze`]) over a recorded
//! trace (`--file`) or a live broker (attached like `smqctl trace`), printing
//! what is wrong in the app (findings) and a summary with the request table.
//!
//! Counting: with `--file` every finding is printed once, at the end, with its
//! final count (pretty: grouped by severity, errors first). Live, a finding is
//! printed when it is first made (its count then is 1, or what one step
//! found); the summary at the end carries every finding's final count and
//! last time (`counts`, by the finding's `id`). Either way the summary is the
//! last line of a json run.
//!
//! Settings: flags > the `--profile`'s `[profile.NAME.analyze]` table >
//! `./analyze.toml` (the working directory's; `SMQCTL_ANALYZE_CONFIG` names
//! another file) > defaults. `allow` and `deny` add up from every source.
//!
//! May import: `args`, `assert`, `exit`, `analyze`, `output`, `profile`, `trace`,
//! `client`, `text`.

use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use serde_json::json;
use tokio::sync::mpsc;

use crate::analyze::{self, Analyzer, Config, Finding, Severity, Update as Found, rules};
use crate::args::{AssertArgs, AttachArgs, ConnectArgs, GlobalArgs, at_least_one, client_options};
use crate::assert::Gate;
use crate::client::ReconnectPolicy;
use crate::exit;
use crate::output::findings::{
    finding_json, finding_pretty, grouped, summary_json, summary_pretty,
};
use crate::output::{escape_controls, use_color};
use crate::profile::{self, AnalyzeKeys};
use crate::text::{parse_duration, parse_positive_duration};
use crate::trace::attach;
use crate::trace::file::parse_line;
use crate::trace::schema::Event;
use crate::trace::source::{Status, Update};

pub const EXAMPLES: &str = "\
Examples:
  smqctl analyze --file trace.ndjson             # what is wrong in a recorded trace
  smqctl trace -F json > t.ndjson; smqctl analyze -f t.ndjson -F json | jq .
  smqctl analyze                                 # live: the broker at 127.0.0.1:9357
  smqctl analyze --url http://mako.local/smq.lsp -d 60s --fail-on warning   # CI
  smqctl analyze --rules                         # the catalogue of rules
  smqctl analyze --explain unanswered-request    # what a rule finds, why, how to fix
  smqctl analyze -f t.ndjson --allow client-to-client --deny large-payload
  smqctl analyze -f t.ndjson --reply-timeout 2s --ready DeviceReady

Live, findings print as they are made and the summary (counts per rule, the
request/reply table) when the run ends: --duration, Ctrl-C/SIGTERM, or the
broker going away. The broker must be a trace source (`smqctl broker`, or a
Mako app with `smqctl hook lua`): without one (degraded mode) analyze exits 4.

Settings also come from the --profile's [profile.NAME.analyze] table and from
./analyze.toml (or the file SMQCTL_ANALYZE_CONFIG names), with the flags' names
in snake_case: reply_timeout = \"2s\", allow = [\"client-to-client\"], fail_on.

Exit codes: 0 no finding at or above --fail-on, 1 one was made (also when
Ctrl-C or -d ends a live run), 2 bad usage or input (a bad line in --file),
3 cannot connect, 4 no tracer (degraded) or refused, 6 connection lost (with
--no-reconnect), 130 interrupted before the tracer attached.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalyzeFormat {
    /// Findings grouped by severity with their evidence, for people
    Pretty,
    /// One JSON object per finding, then a {"type":"summary"} line
    Json,
}

/// `--fail-on`: the least severity that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Info,
    Warning,
    Error,
}

impl From<FailOn> for Severity {
    fn from(f: FailOn) -> Severity {
        match f {
            FailOn::Info => Severity::Info,
            FailOn::Warning => Severity::Warning,
            FailOn::Error => Severity::Error,
        }
    }
}

/// Find what is wrong in an SMQ app: rules over a broker's trace (live or a file)
#[derive(Debug, Args)]
// No fallback: degraded mode is refused (findings need the broker's view).
#[command(after_long_help = EXAMPLES, mut_arg("fallback_topic", |a| a.hide(true)))]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub attach: AttachArgs,
    /// Analyze this NDJSON file (`trace --format json` output, a TUI export)
    /// instead of a live broker
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// List the rules (name, severity, what each finds) and exit
    #[arg(long, conflicts_with = "explain")]
    pub rules: bool,
    /// Print a rule's documentation (what, why it breaks apps, fix, example) and exit
    #[arg(long, value_name = "NAME", value_parser = parse_rule)]
    pub explain: Option<String>,
    /// Output format (default: pretty on a terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<AnalyzeFormat>,
    /// Exit 1 when a finding at or above this severity was made [default: error]
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Turn a rule off (repeatable)
    #[arg(long, value_name = "NAME", value_parser = parse_rule)]
    pub allow: Vec<String>,
    /// Raise a rule's findings to error (repeatable)
    #[arg(long, value_name = "NAME", value_parser = parse_rule)]
    pub deny: Vec<String>,
    #[command(flatten)]
    pub gates: AssertArgs,
    /// unanswered-request: how long a request may wait for its reply [default: 5s]
    #[arg(long, value_name = "DURATION", value_parser = parse_positive_duration)]
    pub reply_timeout: Option<Duration>,
    /// The ready message's sub-topic [default: any sub-topic ending in Ready]
    #[arg(long, value_name = "NAME")]
    pub ready: Option<String>,
    /// large-payload: payloads over this many bytes [default: 16384]
    #[arg(long, value_name = "BYTES", value_parser = at_least_one::<usize>)]
    pub large: Option<usize>,
    /// reconnect-storm: connects by one UID per minute above this [default: 10]
    #[arg(long, value_name = "N", value_parser = at_least_one::<u32>)]
    pub storm: Option<u32>,
    /// dynamic-topics: topics created by one client and used once, above this [default: 20]
    #[arg(long, value_name = "N", value_parser = at_least_one::<u32>)]
    pub dynamic_topics: Option<u32>,
    /// Live: stop after this long and print the summary
    #[arg(short = 'd', long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "file")]
    pub duration: Option<Duration>,
    /// Live: exit when the connection drops instead of reconnecting
    #[arg(long)]
    pub no_reconnect: bool,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

/// A rule name of the catalogue (`--allow`, `--deny`, `--explain`).
pub fn parse_rule(s: &str) -> Result<String, String> {
    if rules::info(s).is_some() {
        return Ok(s.to_string());
    }
    let names: Vec<&str> = rules::infos().iter().map(|i| i.name).collect();
    Err(format!(
        "unknown rule '{s}' (rules: {}; see `smqctl analyze --rules`)",
        names.join(", ")
    ))
}

/// Where `analyze.toml` is read from.
pub fn analyze_file_path() -> PathBuf {
    match std::env::var_os("SMQCTL_ANALYZE_CONFIG").filter(|v| !v.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from("analyze.toml"),
    }
}

/// The engine's config and the --fail-on level from the flags, the profile's
/// table and the file (in that order of precedence).
pub fn settings(
    args: &AnalyzeArgs,
    profile: Option<(&str, AnalyzeKeys)>,
    file: Option<(&Path, AnalyzeKeys)>,
) -> Result<(Config, Severity)> {
    let mut config = Config::default();
    let mut fail_on = Severity::Error;
    // Lowest precedence first; each source overrides what it says.
    let sources = [
        file.map(|(p, k)| (p.display().to_string(), k)),
        profile.map(|(n, k)| (format!("profile '{n}'"), k)),
    ];
    for (origin, keys) in sources.into_iter().flatten() {
        let bad = |what: &str, e: String| exit::input_error(format!("{origin}: {what}: {e}"));
        if let Some(t) = &keys.reply_timeout {
            config.reply_timeout =
                parse_positive_duration(t).map_err(|e| bad("reply_timeout", e))?;
        }
        if let Some(r) = &keys.ready {
            config.ready = Some(r.clone());
        }
        if let Some(n) = keys.large {
            config.large = n;
        }
        if let Some(n) = keys.storm {
            config.storm_per_minute = n;
        }
        if let Some(n) = keys.dynamic_topics {
            config.dynamic_topics = n;
        }
        for r in &keys.allow {
            config
                .allow
                .insert(parse_rule(r).map_err(|e| bad("allow", e))?);
        }
        for r in &keys.deny {
            config
                .deny
                .insert(parse_rule(r).map_err(|e| bad("deny", e))?);
        }
        if let Some(f) = &keys.fail_on {
            fail_on = f.parse().map_err(|e| bad("fail_on", e))?;
        }
    }
    if let Some(t) = args.reply_timeout {
        config.reply_timeout = t;
    }
    if let Some(r) = &args.ready {
        config.ready = Some(r.clone());
    }
    if let Some(n) = args.large {
        config.large = n;
    }
    if let Some(n) = args.storm {
        config.storm_per_minute = n;
    }
    if let Some(n) = args.dynamic_topics {
        config.dynamic_topics = n;
    }
    config.allow.extend(args.allow.iter().cloned());
    config.deny.extend(args.deny.iter().cloned());
    if let Some(f) = args.fail_on {
        fail_on = f.into();
    }
    Ok((config, fail_on))
}

/// `--rules`: one line per rule.
pub fn catalogue_text() -> String {
    let infos = rules::infos();
    let width = infos.iter().map(|i| i.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for i in infos {
        out.push_str(&format!(
            "{:<width$}  {:<7}  {}\n",
            i.name,
            i.severity.as_str(),
            i.summary
        ));
    }
    out
}

/// `--explain NAME`: the rule's doc.
pub fn explain_text(name: &str) -> Option<String> {
    let i = rules::info(name)?;
    Some(format!(
        "{} ({})\n\n{}\n\nBrokers: {}\n",
        i.name, i.severity, i.explain, i.brokers
    ))
}

/// Where a run's output goes, and how it looks.
struct Out {
    w: BufWriter<io::StdoutLock<'static>>,
    format: AnalyzeFormat,
    color: bool,
    /// Pretty blocks printed so far (a blank line between two).
    blocks: usize,
}

impl Out {
    fn finding(&mut self, id: usize, f: &Finding) -> io::Result<()> {
        match self.format {
            AnalyzeFormat::Json => writeln!(self.w, "{}", finding_json(id, f))?,
            AnalyzeFormat::Pretty => {
                if self.blocks > 0 {
                    writeln!(self.w)?;
                }
                writeln!(self.w, "{}", finding_pretty(f, self.color))?;
            }
        }
        self.blocks += 1;
        Ok(())
    }

    fn summary(&mut self, a: &Analyzer, ended: &str) -> io::Result<()> {
        let s = a.summary();
        match self.format {
            AnalyzeFormat::Json => {
                let extra = json!({ "ended": ended });
                writeln!(self.w, "{}", summary_json(&s, extra))?;
            }
            AnalyzeFormat::Pretty => {
                if self.blocks > 0 {
                    writeln!(self.w)?;
                }
                writeln!(self.w, "{}", summary_pretty(&s, self.color))?;
            }
        }
        self.w.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// `code`, or exit 8 when an `--assert` gate on the summary failed.
fn judged(gate: &Gate, a: &Analyzer, ended: &str, code: u8) -> u8 {
    super::gated(
        gate,
        &summary_json(&a.summary(), json!({ "ended": ended })),
        code,
    )
}

/// The exit code of a finished run.
fn verdict(a: &Analyzer, fail_on: Severity) -> u8 {
    if a.summary().any_at_or_above(fail_on) {
        exit::ERROR
    } else {
        exit::OK
    }
}

pub async fn run(args: AnalyzeArgs, global: &GlobalArgs) -> Result<u8> {
    if args.rules {
        print!("{}", catalogue_text());
        return Ok(exit::OK);
    }
    if let Some(name) = &args.explain {
        // parse_rule checked the name.
        print!("{}", explain_text(name).unwrap_or_default());
        return Ok(exit::OK);
    }
    let profile_keys = match &global.profile {
        Some(name) => profile::analyze_keys(name)
            .map_err(|e| exit::input_error(e.to_string()))?
            .map(|k| (name.as_str(), k)),
        None => None,
    };
    let file_path = analyze_file_path();
    let file_keys = profile::load_analyze_file(&file_path)
        .map_err(|e| exit::input_error(e.to_string()))?
        .map(|k| (file_path.as_path(), k));
    let (config, fail_on) = settings(&args, profile_keys, file_keys)?;
    // Every --assert name is checked against the summary's keys before the run.
    let sample = summary_json(
        &Analyzer::new(config.clone()).summary(),
        json!({ "ended": "" }),
    );
    let gate = Gate::new(args.gates.asserts.clone(), &sample)?;
    let format =
        crate::output::format_for_stdout(args.format, AnalyzeFormat::Pretty, AnalyzeFormat::Json);
    let mut out = Out {
        w: BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
        format,
        color: use_color(global.color),
        blocks: 0,
    };
    let mut a = Analyzer::new(config);
    match &args.file {
        Some(path) => {
            analyze_file(path, &mut a)?;
            a.finish();
            for i in grouped_for(format, a.findings()) {
                out.finding(i, &a.findings()[i])?;
            }
            out.summary(&a, "end of file")?;
            Ok(judged(&gate, &a, "end of file", verdict(&a, fail_on)))
        }
        None => live(args, global, a, fail_on, &gate, out).await,
    }
}

/// The order file mode prints findings in: grouped for people, as made in json.
fn grouped_for(format: AnalyzeFormat, findings: &[Finding]) -> Vec<usize> {
    match format {
        AnalyzeFormat::Pretty => grouped(findings),
        AnalyzeFormat::Json => (0..findings.len()).collect(),
    }
}

/// Events parsed per batch handed from the reading thread to the engine.
const BATCH: usize = 1024;

/// What the reading thread hands over: parsed events, or why it stopped.
enum Read {
    Events(Vec<Event>),
    Bad(anyhow::Error),
}

/// Feeds every event of the NDJSON file at `path` (a bad line is bad input:
/// exit 2, naming the file and line). One thread reads and parses, this one
/// runs the engine: on two cores the two halves of the work overlap. Stops
/// early, keeping what was read, on Ctrl-C/SIGTERM.
pub fn analyze_file(path: &Path, a: &mut Analyzer) -> Result<()> {
    let f = std::fs::File::open(path)
        .map_err(|e| exit::input_error(format!("cannot open {}: {e}", path.display())))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Read>(16);
    let mut stop = Box::pin(crate::shutdown::requested());
    std::thread::scope(|scope| {
        scope.spawn(move || read_events(path, f, tx));
        let mut batches: u64 = 0;
        for read in rx {
            match read {
                Read::Events(events) => {
                    for ev in &events {
                        a.feed(ev);
                    }
                }
                // Dropping `rx` (returning) ends the reader at its next send.
                Read::Bad(e) => return Err(e),
            }
            batches += 1;
            if batches.is_multiple_of(64)
                && futures_util::FutureExt::now_or_never(&mut stop).is_some()
            {
                eprintln!(
                    "smqctl: interrupted after {} events of {}; the findings so far follow",
                    a.events(),
                    path.display()
                );
                return Ok(());
            }
        }
        Ok(())
    })
}

/// The reading thread: lines → events, in batches, until the end, a bad line
/// or the engine going away.
fn read_events(path: &Path, f: std::fs::File, tx: std::sync::mpsc::SyncSender<Read>) {
    let mut reader = io::BufReader::with_capacity(256 * 1024, f);
    let mut line = String::new();
    let mut n: usize = 0;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        line.clear();
        let read = match reader.read_line(&mut line) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Read::Bad(exit::input_error(format!(
                    "cannot read {} at line {}: {e}",
                    path.display(),
                    n + 1
                ))));
                return;
            }
        };
        if read == 0 {
            break;
        }
        n += 1;
        match parse_line(&line) {
            Ok(Some(ev)) => batch.push(ev),
            Ok(None) => {}
            Err(reason) => {
                if !batch.is_empty() && tx.send(Read::Events(std::mem::take(&mut batch))).is_err() {
                    return;
                }
                let _ = tx.send(Read::Bad(exit::input_error(format!(
                    "{} line {n}: not a trace event: {}",
                    path.display(),
                    escape_controls(&reason)
                ))));
                return;
            }
        }
        if batch.len() >= BATCH
            && tx
                .send(Read::Events(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(BATCH),
                )))
                .is_err()
        {
            return;
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(Read::Events(batch));
    }
}

/// How often the live engine is ticked without events (timeouts fire).
const TICK: Duration = Duration::from_millis(200);

/// The broker's clock as best known: the latest event's time plus the wall
/// time since it arrived.
struct Clock {
    last: Option<(jiff::Timestamp, std::time::Instant)>,
}

impl Clock {
    fn saw(&mut self, ev: &Event) {
        if let Some(t) = analyze::parse_ts(&ev.ts)
            && self.last.is_none_or(|(l, _)| t >= l)
        {
            self.last = Some((t, std::time::Instant::now()));
        }
    }

    fn now(&self) -> Option<jiff::Timestamp> {
        let (t, at) = self.last?;
        let since = jiff::SignedDuration::try_from(at.elapsed()).ok()?;
        t.checked_add(since).ok()
    }
}

async fn live(
    args: AnalyzeArgs,
    global: &GlobalArgs,
    mut a: Analyzer,
    fail_on: Severity,
    gate: &Gate,
    mut out: Out,
) -> Result<u8> {
    let cfg = args.attach.config(ReconnectPolicy {
        enabled: !args.no_reconnect,
        ..ReconnectPolicy::default()
    });
    let opts = client_options(&args.conn, global).await?;
    let (tx, mut rx) = mpsc::channel(4096);
    let source = tokio::spawn(attach::session(opts, cfg, tx));
    let deadline = tokio::time::Instant::now() + args.duration.unwrap_or(crate::text::LONGEST);
    let sleep = tokio::time::sleep_until(deadline);
    tokio::pin!(sleep);
    let stop = crate::shutdown::requested();
    tokio::pin!(stop);
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut clock = Clock { last: None };
    let mut attached = false;
    let show = |out: &mut Out, a: &Analyzer, found: Vec<Found>| -> io::Result<()> {
        for u in found {
            if let Found::New(i) = u {
                out.finding(i, &a.findings()[i])?;
            }
        }
        out.flush()
    };
    let ended = loop {
        let update = tokio::select! {
            biased;
            _ = &mut sleep => break "duration",
            _ = &mut stop => break "interrupted",
            _ = ticker.tick() => {
                if let Some(now) = clock.now() {
                    let found = a.tick(now);
                    show(&mut out, &a, found)?;
                }
                continue;
            }
            u = rx.recv() => u,
        };
        let Some(update) = update else {
            break "disconnected";
        };
        match update {
            Update::Status(Status::Degraded { reason, .. }) => {
                source.abort();
                let _ = out.flush();
                eprintln!(
                    "error: no trace source attached this tracer: {}\nhint: analyze needs the broker's view of every client: start `smqctl broker`, or install the Mako hook (README: Mako hook; `smqctl hook lua --help`)",
                    escape_controls(&reason)
                );
                return Ok(exit::REFUSED);
            }
            Update::Status(Status::Ended { .. }) => continue,
            Update::Status(s) => {
                if let Status::Attached { .. } = s {
                    attached = true;
                }
                eprintln!(
                    "smqctl: {}",
                    escape_controls(&crate::commands::trace::status_line(&s))
                );
            }
            Update::Event(ev) => {
                clock.saw(&ev);
                let found = a.feed(&ev);
                show(&mut out, &a, found)?;
            }
        }
    };
    source.abort();
    let result = source.await;
    if attached {
        let found = a.finish();
        show(&mut out, &a, found)?;
        out.summary(&a, ended)?;
    }
    match result {
        Ok(Err(e)) if ended == "disconnected" => {
            Err(anyhow::Error::from(e)).context("analyzing stopped")
        }
        // Stopped before the tracer ever attached: nothing was analyzed.
        _ if !attached && ended == "interrupted" => Ok(exit::INTERRUPTED),
        _ => Ok(judged(gate, &a, ended, verdict(&a, fail_on))),
    }
}
