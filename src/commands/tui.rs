//! `smqctl tui`: a live, searchable view of broker trace events.
//!
//! The engine (state, keys, drawing) is [`crate::tui`]; this file is the
//! command around it: its flags, terminal setup and restore (also on panic
//! and Ctrl-C), a source task feeding a bounded channel of [`Update`]s, the
//! `select!` loop over keys, updates and a frame tick, the export the keys ask
//! for, and the mapping of the engine's [`Action`]s to exit codes.
//!
//! Keeping up with a busy broker: updates are drained in batches (never one
//! redraw per event), frames are drawn at most every [`FRAME`] while events
//! flow, and a key is handled before any pending batch and redrawn at once.
//!
//! May import: `args`, `exit`, `text`, `tui`, `trace`, `client` (the reconnect
//! policy), `output`, `metrics`, ratatui, crossterm.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::StreamExt;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

use crate::args::{AttachArgs, ConnectArgs, FilterArgs, GlobalArgs, at_least_one, client_options};
use crate::client::{Client, ClientOptions, ReconnectPolicy};
use crate::exit::{self, input_error};
use crate::output::ColorChoice;
use crate::trace::attach::{self, AttachConfig};
use crate::trace::file::{self, FileOptions, SpillFile};
use crate::trace::source::{Status, Update};
use crate::tui::act::{self, Report, Request, Target};
use crate::tui::app::{App, Flash};
use crate::tui::input::{self, Action};
use crate::tui::spill::{Spill, Store};
use crate::tui::ui;

/// Shortest time between two frames while events flow (25 frames/s).
pub const FRAME: Duration = Duration::from_millis(40);
/// Most updates applied between two looks at the keyboard.
const BATCH: usize = 1024;
/// Updates a source may queue before it waits for the TUI.
const CHANNEL: usize = 16 * 1024;

pub const EXAMPLES: &str = "\
Examples:
  smqctl tui                                      # attach to the broker at $SMQCTL_URL
  smqctl tui --url ws://device.local/smq.lsp --fallback-topic DeviceState
  smqctl tui --file events.ndjson                 # replay a recorded trace
  smqctl tui --file events.ndjson --replay-rate 500   # at 500 events/s
  smqctl tui --file live.ndjson --follow          # like tail -f
  smqctl tui --file big.ndjson --buffer 50000     # keep more events for scrolling
  smqctl tui --spill history.ndjson               # older events to a file, paged back
  smqctl tui --metrics-listen 9467                # also count the events for Prometheus

Keys: ↑↓ select · Enter detail · Space pause · / search · d drops only ·
t/x topics to keep/hide · e export · r reply · R publish again ·
o observe sender · y copy as `smqctl pub` · Tab views · ? help · q quit

Without a broker-side tracer the TUI runs degraded: it subscribes to the
--fallback-topic topics (and self), shows client-side messages only, and says so
in the header.";

/// `smqctl tui` arguments.
#[derive(Debug, Args)]
pub struct TuiArgs {
    /// Replay trace events from an NDJSON file (one event per line) instead of a broker
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// With --file: events per second (default: as fast as the TUI takes them)
    #[arg(long, value_name = "PER_SECOND", requires = "file", value_parser = positive_rate)]
    pub replay_rate: Option<f64>,
    /// With --file: keep reading as the file grows, like `tail -f`
    #[arg(long, requires = "file")]
    pub follow: bool,
    /// Events kept for scrolling, detail and export (totals are exact regardless)
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = at_least_one::<usize>)]
    pub buffer: usize,
    /// Append the events that leave the --buffer ring to this NDJSON file; scrolling up and search page back into it
    #[arg(long, value_name = "FILE")]
    pub spill: Option<PathBuf>,
    #[command(flatten)]
    pub attach: AttachArgs,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Old name of --fallback-topic (kept so scripts still work)
    #[arg(long = "topic", value_name = "TOPIC", hide = true)]
    pub topic: Vec<String>,
    /// Write the loop's own timings as JSON to this file on exit (performance tests)
    #[arg(long, value_name = "FILE", hide = true)]
    pub stats_file: Option<PathBuf>,
    #[command(flatten)]
    pub metrics: crate::args::MetricsArgs,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

impl TuiArgs {
    /// The attach engine's config; the old spelling `--topic` adds to the
    /// `--fallback-topic` list.
    pub fn attach_config(&self) -> AttachConfig {
        let mut cfg = self.attach.config(ReconnectPolicy::default());
        cfg.fallback_topics.extend(self.topic.iter().cloned());
        cfg
    }
}

fn positive_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        Ok(_) => Err("must be more than 0 events per second".into()),
        Err(_) => Err(format!("'{s}' is not a number of events per second")),
    }
}

/// Runs the TUI until the user quits; returns the exit code.
pub async fn run(args: TuiArgs, global: &GlobalArgs) -> Result<u8> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(input_error(
            "smqctl tui needs a terminal: stdin or stdout is not one (for pipes and logs, `smqctl trace` prints the same events)",
        ));
    }
    let counts = crate::metrics::Trace::default();
    let _metrics = crate::metrics::start(
        args.metrics.metrics_listen,
        "tui",
        vec![Box::new(counts.clone())],
    )
    .await?;
    // Opened before connecting: a bad path is an error before anything starts.
    let spill = match &args.spill {
        None => None,
        Some(path) => {
            if args.file.as_deref().is_some_and(|f| same_file(f, path)) {
                return Err(input_error(format!(
                    "--spill {} is the --file being replayed: spill to another file",
                    path.display()
                )));
            }
            let f = SpillFile::open(path).map_err(|e| {
                input_error(format!("--spill: cannot open {}: {e}", path.display()))
            })?;
            Some(f)
        }
    };
    let (tx, rx) = mpsc::channel(CHANNEL);
    let (source, session) = start_source(&args, global, tx).await?;
    let mut app = App::new(args.buffer, source);
    app.spill = spill.map(|f| Spill::new(Box::new(SpillStore(f))));
    // Acting (r, R, o) goes through a connection of its own, opened on the
    // first act: the tracer's connection belongs to the attach engine.
    let (acts, reports, actor) = match &args.file {
        Some(_) => (None, None, None),
        None => {
            let mut opts = client_options(&args.conn, global).await?;
            // Its own UID: the tracer's would be taken over.
            opts.uid = opts.uid.take().map(|u| format!("{u}-act"));
            let (req_tx, req_rx) = mpsc::channel(64);
            let (rep_tx, rep_rx) = mpsc::channel(64);
            let task = tokio::spawn(actor(opts, req_rx, rep_tx));
            (Some(req_tx), Some(rep_rx), Some(task))
        }
    };
    app.can_act = acts.is_some();
    // The trace filter flags start the filter bar where `trace` would filter.
    app.set_filter(args.filters.filter(&[]));
    app.color = match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let mut stats = LoopStats::new(args.stats_file.is_some());

    // Installs a panic hook that restores the terminal before the panic prints.
    let mut terminal = ratatui::try_init().context("cannot set up the terminal")?;
    let live = session.is_some();
    let io = LoopIo {
        updates: rx,
        acts,
        reports,
    };
    let outcome = event_loop(&mut terminal, &mut app, io, &mut stats, live, &counts).await;
    ratatui::restore();
    let spilled = match app.spill.as_mut() {
        Some(sp) => sp.store.flush(),
        None => Ok(()),
    };
    // The act connection (if one was opened) says goodbye.
    if let Some(task) = actor {
        let _ = tokio::time::timeout(Duration::from_secs(3), task).await;
    }

    if let Some(path) = &args.stats_file {
        std::fs::write(path, stats.to_json(&app).to_string())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let code = outcome?;
    if let Err(why) = spilled {
        eprintln!("smqctl tui: {why}");
    }
    if code == exit::OK
        && let Some(Status::Ended {
            reason,
            error: true,
        }) = &app.status
    {
        // A connection that failed exits as `trace` does (3 cannot connect,
        // 4 refused, …): the session's own error carries the code. A bad file
        // is bad input (2).
        if let Some(session) = session
            && let Ok(Ok(Err(e))) =
                tokio::time::timeout(std::time::Duration::from_secs(2), session).await
        {
            return Err(e.into());
        }
        return Err(input_error(reason.clone()));
    }
    Ok(code)
}

/// The attach session's task: its error names the exit code.
type SessionTask = tokio::task::JoinHandle<Result<(), crate::client::ClientError>>;

/// Starts the task that feeds `tx`; returns what the header calls the source
/// and, for a broker, the session task.
async fn start_source(
    args: &TuiArgs,
    global: &GlobalArgs,
    tx: mpsc::Sender<Update>,
) -> Result<(String, Option<SessionTask>)> {
    match &args.file {
        Some(path) => {
            let f = file::open(path)
                .await
                .map_err(|e| input_error(e.to_string()))?;
            let opts = FileOptions {
                path: path.clone(),
                rate: args.replay_rate,
                follow: args.follow,
            };
            tokio::spawn(file::run(opts, f, tx));
            Ok((format!("file {}", path.display()), None))
        }
        None => {
            let opts = client_options(&args.conn, global).await?;
            let cfg = args.attach_config();
            let session = tokio::spawn(attach::session(opts, cfg, tx));
            Ok((args.conn.url.clone(), Some(session)))
        }
    }
}

/// The loop's channels: updates from the source, and (with a broker) acts
/// out to the actor and its reports back.
struct LoopIo {
    updates: mpsc::Receiver<Update>,
    acts: Option<mpsc::Sender<Request>>,
    reports: Option<mpsc::Receiver<Report>>,
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    io: LoopIo,
    stats: &mut LoopStats,
    live: bool,
    counts: &crate::metrics::Trace,
) -> Result<u8> {
    let LoopIo {
        updates: mut rx,
        acts,
        mut reports,
    } = io;
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(FRAME);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // SIGINT or SIGTERM from outside (a key Ctrl-C is a key here): quit, and
    // the caller restores the terminal.
    let interrupt = crate::shutdown::requested();
    tokio::pin!(interrupt);
    let start = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    let mut source_open = true;
    let mut dirty = true;
    let mut urgent = true;
    let mut last_draw = Instant::now();
    let mut key_at: Option<Instant> = None;
    // The broker's clock as best known: the newest event's time and when it
    // came (live timeouts of the findings engine run on it, not on ours).
    let mut broker_clock: Option<(jiff::Timestamp, Instant)> = None;
    loop {
        if urgent || (dirty && last_draw.elapsed() >= FRAME) {
            let t0 = Instant::now();
            terminal.draw(|f| ui::draw(f, app))?;
            let size = terminal.size()?;
            app.viewport = ui::table_rows(Rect::new(0, 0, size.width, size.height), app);
            last_draw = Instant::now();
            stats.draw(t0, last_draw, key_at.take());
            dirty = false;
            urgent = false;
        }
        tokio::select! {
            biased;
            _ = &mut interrupt => return Ok(exit::INTERRUPTED),
            ev = keys.next() => match ev {
                Some(Ok(TermEvent::Key(k))) => {
                    let at = Instant::now();
                    match input::handle_key(app, k) {
                        Action::None => {}
                        Action::Redraw => {
                            urgent = true;
                            key_at = Some(at);
                        }
                        Action::Quit => return Ok(exit::OK),
                        Action::Interrupt => return Ok(exit::INTERRUPTED),
                        Action::Export(path) => {
                            export(app, &path);
                            urgent = true;
                            key_at = Some(at);
                        }
                        Action::Act(req) => {
                            let sent = acts.as_ref().is_some_and(|tx| tx.try_send(req).is_ok());
                            if !sent {
                                app.flash = Some(Flash {
                                    text: "the act connection is busy: try again".into(),
                                    error: true,
                                });
                            }
                            urgent = true;
                            key_at = Some(at);
                        }
                        Action::Copy(line) => {
                            copy(terminal, app, &line);
                            urgent = true;
                            key_at = Some(at);
                        }
                    }
                }
                Some(Ok(TermEvent::Resize(..))) => urgent = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).context("cannot read the terminal"),
                None => return Ok(exit::OK),
            },
            // Before updates, so a flood of them cannot starve the clock.
            at = tick.tick() => {
                stats.tick(at.into_std(), rx.len());
                let second = start.elapsed().as_secs();
                if second != app.second {
                    app.roll_to(second);
                    if live && let Some((t, at)) = broker_clock {
                        let since = jiff::SignedDuration::try_from(at.elapsed()).unwrap_or_default();
                        if let Ok(now) = t.checked_add(since) {
                            app.tick_analysis(now);
                        }
                    }
                    dirty = true;
                }
            },
            Some(r) = recv_report(&mut reports) => {
                app.act_report(r);
                urgent = true;
            },
            n = rx.recv_many(&mut batch, BATCH), if source_open => {
                if n == 0 {
                    source_open = false;
                    app.finish_analysis();
                    dirty = true;
                } else {
                    stats.batch(n, rx.len());
                    let newest = batch.iter().rev().find_map(|u| match u {
                        Update::Event(e) => e.timestamp(),
                        Update::Status(_) => None,
                    });
                    if let Some(t) = newest {
                        broker_clock = Some((t, Instant::now()));
                    }
                    for u in batch.drain(..) {
                        counts.observe(&u);
                        match u {
                            Update::Event(e) => app.push(*e),
                            Update::Status(s) => app.set_status(s),
                        }
                    }
                    dirty = true;
                }
            },
        }
    }
}

/// Whether two paths name one existing file.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// The spill file as the engine's store.
struct SpillStore(SpillFile);

impl Store for SpillStore {
    fn append(&mut self, e: &crate::trace::schema::Event) -> Result<(), String> {
        self.0.append(e).map_err(|e| e.to_string())
    }
    fn len(&self) -> u64 {
        self.0.len()
    }
    fn read(&mut self, from: u64, to: u64) -> Result<Vec<crate::trace::schema::Event>, String> {
        self.0.read(from, to)
    }
    fn flush(&mut self) -> Result<(), String> {
        let shown = self.0.path().display().to_string();
        self.0
            .flush()
            .map_err(|e| format!("cannot write {shown}: {e}"))
    }
    fn name(&self) -> String {
        self.0.path().display().to_string()
    }
}

/// The next report of the actor (pending forever without one).
async fn recv_report(reports: &mut Option<mpsc::Receiver<Report>>) -> Option<Report> {
    match reports {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// `y`: the command line to the clipboard (OSC 52: the terminal does it, also
/// over ssh) and in the status line.
fn copy(terminal: &mut ratatui::DefaultTerminal, app: &mut App, line: &str) {
    use std::io::Write;
    let out = terminal.backend_mut();
    let written = out
        .write_all(act::osc52(line).as_bytes())
        .and_then(|()| out.flush());
    app.flash = Some(match written {
        Ok(()) => Flash {
            text: format!("copied (OSC 52): {line}"),
            error: false,
        },
        Err(e) => Flash {
            text: format!("cannot write to the terminal ({e}): {line}"),
            error: true,
        },
    });
}

/// Carries out the acts of `r`, `R` and `o` on a client connection of its
/// own, opened on the first act (and again after it closed), and reports
/// back: what was sent, and when an observed sender leaves (the broker's
/// Change with count 0). Never sends Unobserve (a real Mako broker mishandles
/// it: see `broker::router`); observations end with the connection.
async fn actor(
    opts: ClientOptions,
    mut rx: mpsc::Receiver<Request>,
    reports: mpsc::Sender<Report>,
) {
    let mut client: Option<Client> = None;
    while let Some(req) = rx.recv().await {
        let c = match client.take().filter(|c| !c.is_closed()) {
            Some(c) => c,
            None => match Client::connect(&opts).await {
                Ok((c, events)) => {
                    tokio::spawn(forward(events, reports.clone()));
                    c
                }
                Err(e) => {
                    let why = format!("cannot open the connection to act on: {e}");
                    let _ = reports.send(Report::Failed(why)).await;
                    continue;
                }
            },
        };
        let report = match carry_out(&c, req).await {
            Ok(r) => r,
            Err(e) => Report::Failed(e),
        };
        client = Some(c);
        if reports.send(report).await.is_err() {
            break;
        }
    }
    if let Some(c) = client {
        c.disconnect("smqctl tui closed").await;
    }
}

async fn carry_out(c: &Client, req: Request) -> Result<Report, String> {
    match req {
        Request::Publish {
            to,
            subtopic,
            payload,
            label,
        } => {
            let n = payload.len();
            let tid = match &to {
                Target::Topic(name) => c.create(name).await,
                Target::Id(id) => Ok(*id),
            }
            .map_err(|e| format!("cannot publish to {label}: {e}"))?;
            let subtid = match subtopic.as_deref() {
                None => Ok(0),
                Some(s) => match s.strip_prefix('#').and_then(|id| id.parse::<u32>().ok()) {
                    Some(id) => Ok(id),
                    None => c.createsub(s).await,
                },
            }
            .map_err(|e| format!("cannot publish to {label}: {e}"))?;
            c.publish_ids(tid, subtid, payload.into())
                .await
                .map_err(|e| format!("cannot publish to {label}: {e}"))?;
            c.flush()
                .await
                .map_err(|e| format!("cannot publish to {label}: {e}"))?;
            let sub = match &subtopic {
                Some(s) => format!(" {}", crate::output::escape_controls(s)),
                None => String::new(),
            };
            Ok(Report::Done(format!(
                "sent to {label}:{sub} {n} bytes (from etid {})",
                c.etid()
            )))
        }
        Request::Observe { etid, label } => {
            c.observe(etid)
                .await
                .map_err(|e| format!("cannot observe {label}: {e}"))?;
            Ok(Report::Observing { etid })
        }
    }
}

/// The act connection's own events: an observed ETID leaving, the
/// connection closing under us.
async fn forward(mut events: mpsc::Receiver<crate::client::Event>, reports: mpsc::Sender<Report>) {
    while let Some(ev) = events.recv().await {
        let report = match ev {
            crate::client::Event::Change {
                tid,
                peer_gone: true,
                ..
            } => Report::Gone { etid: tid },
            crate::client::Event::Closed {
                reason,
                by_request: false,
                ..
            } => Report::Failed(format!(
                "the act connection closed ({reason}): observations ended; the next act reconnects"
            )),
            _ => continue,
        };
        if reports.send(report).await.is_err() {
            return;
        }
    }
}

fn export(app: &mut App, path: &str) {
    let p = PathBuf::from(path);
    let shown = std::path::absolute(&p).unwrap_or(p.clone());
    app.flash = Some(match file::export(&p, app.filtered()) {
        Ok(n) => Flash {
            text: format!("exported {n} events to {}", shown.display()),
            error: false,
        },
        Err(e) => Flash {
            text: format!("cannot export to {}: {e}", shown.display()),
            error: true,
        },
    });
}

/// The loop's own timings (hidden `--stats-file`), for the README's
/// performance figures: how far behind the loop ran and what a frame cost.
struct LoopStats {
    on: bool,
    started: Instant,
    events: u64,
    batches: u64,
    max_batch: usize,
    /// Updates still queued after a batch was taken (the loop's backlog).
    max_backlog: usize,
    /// How late the frame tick fired (the loop was busy elsewhere).
    tick_late: hdrhistogram::Histogram<u64>,
    draw_us: hdrhistogram::Histogram<u64>,
    /// Key received → its frame flushed.
    key_us: hdrhistogram::Histogram<u64>,
    rss_kib: Vec<u64>,
    last_rss: Instant,
}

fn histogram() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant bounds are valid")
}

impl LoopStats {
    fn new(on: bool) -> Self {
        LoopStats {
            on,
            started: Instant::now(),
            events: 0,
            batches: 0,
            max_batch: 0,
            max_backlog: 0,
            tick_late: histogram(),
            draw_us: histogram(),
            key_us: histogram(),
            rss_kib: Vec::new(),
            last_rss: Instant::now(),
        }
    }

    fn batch(&mut self, n: usize, backlog: usize) {
        if !self.on {
            return;
        }
        self.events += n as u64;
        self.batches += 1;
        self.max_batch = self.max_batch.max(n);
        self.max_backlog = self.max_backlog.max(backlog);
    }

    fn tick(&mut self, scheduled: Instant, backlog: usize) {
        if !self.on {
            return;
        }
        let late = Instant::now().saturating_duration_since(scheduled);
        let _ = self.tick_late.record((late.as_micros() as u64).max(1));
        self.max_backlog = self.max_backlog.max(backlog);
        if self.last_rss.elapsed() >= Duration::from_secs(1) {
            self.last_rss = Instant::now();
            if let Some(kib) = rss_kib() {
                self.rss_kib.push(kib);
            }
        }
    }

    fn draw(&mut self, t0: Instant, done: Instant, key: Option<Instant>) {
        if !self.on {
            return;
        }
        let _ = self
            .draw_us
            .record((done.duration_since(t0).as_micros() as u64).max(1));
        if let Some(k) = key {
            let _ = self
                .key_us
                .record((done.duration_since(k).as_micros() as u64).max(1));
        }
    }

    fn to_json(&self, app: &App) -> serde_json::Value {
        let h = |h: &hdrhistogram::Histogram<u64>| {
            serde_json::json!({
                "count": h.len(),
                "p50_us": h.value_at_quantile(0.5),
                "p99_us": h.value_at_quantile(0.99),
                "max_us": h.max(),
            })
        };
        let secs = self.started.elapsed().as_secs_f64();
        serde_json::json!({
            "seconds": crate::latency::secs(secs),
            "updates": self.events,
            "updates_per_s": crate::latency::rate(self.events as f64 / secs.max(1e-9)),
            "events_total": app.totals.events,
            "ring": app.ring.len(),
            "batches": self.batches,
            "max_batch": self.max_batch,
            "max_backlog": self.max_backlog,
            "tick_late": h(&self.tick_late),
            "draw": h(&self.draw_us),
            "key_to_frame": h(&self.key_us),
            "rss_kib": self.rss_kib,
        })
    }
}

/// Resident memory of this process in KiB (Linux; `None` elsewhere).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::schema::Kind;
    use crate::tui::app::tests::message;

    #[test]
    fn export_writes_the_filtered_events_and_says_where() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut app = App::new(10, "test");
        app.push(message(Kind::Publish, "a", "A", b"1"));
        app.push(message(Kind::Drop, "a", "B", b"2"));
        let mut f = app.filter.clone();
        f.toggle_kind(Kind::Drop);
        app.set_filter(f);
        let path = dir.path().join("out.ndjson");
        let shown = path.to_str().expect("utf-8").to_string();
        export(&mut app, &shown);
        let flash = app.flash.take().expect("a message");
        assert!(!flash.error);
        assert_eq!(flash.text, format!("exported 1 events to {shown}"));
        let back = file::read_file(&path).expect("reads back");
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].kind, Kind::Drop);
        // A second export to the same name refuses to overwrite it.
        export(&mut app, &shown);
        let flash = app.flash.take().expect("a message");
        assert!(
            flash.error && flash.text.contains("cannot export"),
            "{flash:?}"
        );
    }

    /// `TuiArgs` on its own command line, as `smqctl tui` parses it.
    #[derive(clap::Parser)]
    #[command(no_binary_name = true)]
    struct Tui {
        #[command(flatten)]
        args: TuiArgs,
    }

    #[test]
    fn tui_topic_still_means_fallback_topic() {
        use clap::Parser;
        let t = Tui::try_parse_from([
            "--topic",
            "Old",
            "--fallback-topic",
            "New",
            "--topic",
            "Old2",
        ])
        .expect("both spellings parse");
        assert_eq!(
            t.args.attach_config().fallback_topics,
            ["New", "Old", "Old2"]
        );
        let t = Tui::try_parse_from(["--topic", "DeviceState"]).expect("the old name alone");
        assert_eq!(t.args.attach_config().fallback_topics, ["DeviceState"]);
    }

    #[test]
    fn tui_help_does_not_list_the_old_topic_name() {
        use clap::CommandFactory;
        let help = Tui::command().render_long_help().to_string();
        assert!(help.contains("--fallback-topic"), "{help}");
        assert!(!help.contains("--topic"), "{help}");
    }
}
