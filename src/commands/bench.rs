//! `smqctl bench`: measure a broker. `pubsub` pushes messages from publishers
//! through one topic to subscribers and reports throughput and latency;
//! `connections` opens idle connections and reports the broker's memory per
//! connection. These are the figures in the README's Performance section.
//!
//! Thin: flags become a [`crate::bench`] spec (with an in-process broker for
//! `--embedded`), the engine measures, this file prints its figures. Its
//! subcommands ([`BenchCommand`]), their flags and examples live here too.
//!
//! May import: `args`, `exit`, `text`, `bench` (the engine), `broker` (for
//! `--embedded`), `client`, `transport`, `assert` (`--assert`), `commands::rpc`
//! (bench rpc), `metrics`, `report_html` (`--html`). Never `cli`.

use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::args::{
    AssertArgs, ConnectArgs, GlobalArgs, SummaryFormat, at_least_one, client_options,
};
use crate::assert::Gate;
use crate::bench::{BenchError, ConnReport, ConnSpec, Pubsub, PubsubReport, PubsubSpec};
use crate::broker::{Broker, BrokerConfig};
use crate::client::ClientOptions;
use crate::exit;
use crate::text::parse_duration;
use crate::transport::Endpoint;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Publishers -> one topic -> subscribers: msgs/s, MB/s, latency percentiles
    #[command(after_long_help = PUBSUB_EXAMPLES)]
    Pubsub(Box<BenchPubsubArgs>),
    /// RPC load against a handler (same as `smqctl rpc --count`): calls/s and latency
    #[command(
        after_long_help = "Examples:\n  smqctl bench rpc --call add 1 2 --count 20000 --concurrency 50\n  smqctl bench rpc SearchSitesReq '{}' --id-field request_id --count 5000 -c 20"
    )]
    Rpc(Box<BenchRpcArgs>),
    /// Open many idle connections and report the broker's memory per connection
    #[command(after_long_help = CONN_EXAMPLES)]
    Connections(Box<BenchConnArgs>),
}

const PUBSUB_EXAMPLES: &str = "\
Examples:
  smqctl bench pubsub --embedded                       # in-process broker, ws://
  smqctl bench pubsub --embedded --url http://x/       # in-process broker, raw socket
  smqctl bench pubsub --url ws://127.0.0.1:9357/ --count 200000 --size 64
  smqctl bench pubsub --pubs 4 --subs 2 --format json | jq .msgs_per_s
  smqctl bench pubsub --duration 10s --rate 20000       # latency at 20k msgs/s
  smqctl bench pubsub -d 5m --rate 5000 --metrics-listen 9466   # watch it in Prometheus
  smqctl bench pubsub --duration 30s --rate 5000 --html bench.html   # charts

Latency is measured from a timestamp in the first 8 payload bytes (so --size must
be at least 8 for it); publishers and subscribers run in this process. A broker
that drops messages for slow subscribers (Mako does, when a socket queue is full)
shows them as lost.";

const CONN_EXAMPLES: &str = "\
Examples:
  smqctl broker & smqctl bench connections --connections 5000 --broker-pid $!

Reads the broker's resident memory (VmRSS in /proc/PID/status, Linux) before and
after opening the connections and prints the difference per connection.";

#[derive(Debug, Args)]
pub struct BenchPubsubArgs {
    /// Number of publishing connections
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = at_least_one::<usize>)]
    pub pubs: usize,
    /// Number of subscribing connections
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = at_least_one::<usize>)]
    pub subs: usize,
    /// Messages per publisher
    #[arg(long, short = 'C', short_alias = 'n', value_name = "N", default_value_t = 200_000, value_parser = at_least_one::<u64>)]
    pub count: u64,
    /// Publish for this long instead of --count messages
    #[arg(short = 'd', long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// At most this many messages per second per publisher (latency under a
    /// given load; without it publishers go flat out)
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,
    /// Payload size in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 64)]
    pub size: usize,
    /// Topic to use (default: a fresh random one)
    #[arg(long, value_name = "TOPIC")]
    pub topic: Option<String>,
    /// Start a broker inside this process on 127.0.0.1:0 and use it (the --url
    /// scheme still picks the transport: ws:// or http://)
    #[arg(long)]
    pub embedded: bool,
    /// Give up waiting for missing messages after this long without one
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// Output (default: pretty on a terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<SummaryFormat>,
    /// Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub gates: AssertArgs,
    #[command(flatten)]
    pub metrics: crate::args::MetricsArgs,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

/// `bench rpc`: the load mode of `smqctl rpc`, and live metrics.
#[derive(Debug, Args)]
pub struct BenchRpcArgs {
    #[command(flatten)]
    pub rpc: super::rpc::RpcArgs,
    #[command(flatten)]
    pub metrics: crate::args::MetricsArgs,
}

#[derive(Debug, Args)]
pub struct BenchConnArgs {
    /// Connections to open (`--count` and `-n` are old spellings, kept hidden)
    #[arg(long, alias = "count", short_alias = 'n', value_name = "N", default_value_t = 5000, value_parser = at_least_one::<usize>)]
    pub connections: usize,
    /// Connections opened at the same time
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = at_least_one::<usize>)]
    pub parallel: usize,
    /// PID of the broker process, to read its memory (Linux)
    #[arg(long, value_name = "PID")]
    pub broker_pid: Option<u32>,
    /// Keep the connections open this long after the measurement
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub hold: Duration,
    /// Output (default: pretty on a terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<SummaryFormat>,
    #[command(flatten)]
    pub metrics: crate::args::MetricsArgs,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

pub async fn run(cmd: BenchCommand, global: &GlobalArgs) -> Result<u8> {
    match cmd {
        BenchCommand::Pubsub(args) => pubsub(*args, global).await,
        BenchCommand::Connections(args) => connections(*args, global).await,
        BenchCommand::Rpc(args) => {
            let BenchRpcArgs { mut rpc, metrics } = *args;
            // The load mode of `smqctl rpc`, with a default count.
            rpc.req.count.get_or_insert(10_000);
            let live = std::sync::Arc::new(crate::client::rpc::LoadLive::default());
            let _metrics = crate::metrics::start(
                metrics.metrics_listen,
                "bench rpc",
                vec![Box::new(crate::metrics::Rpc(live.clone()))],
            )
            .await?;
            super::rpc::run_observed(rpc, global, Some(live)).await
        }
    }
}

/// An in-process broker on 127.0.0.1:0 for `--embedded` (the handle reads
/// its counters after the run).
async fn embedded_broker() -> Result<(
    std::net::SocketAddr,
    Broker,
    tokio::sync::oneshot::Sender<()>,
)> {
    let listener = crate::broker::listen("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let broker = Broker::new(BrokerConfig::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = broker.clone();
    tokio::spawn(async move {
        let _ = running
            .run(listener, async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok((addr, broker, stop))
}

async fn options_for(
    args: &BenchPubsubArgs,
    global: &GlobalArgs,
    addr: Option<std::net::SocketAddr>,
) -> Result<ClientOptions> {
    let mut opts = client_options(&args.conn, global).await?;
    if let Some(addr) = addr {
        if opts.endpoint.scheme.is_tls() {
            bail!("--embedded serves plain ws:// and http:// only");
        }
        opts.endpoint = Endpoint {
            host: addr.ip().to_string(),
            port: addr.port(),
            ..opts.endpoint
        };
    }
    Ok(opts)
}

async fn pubsub(args: BenchPubsubArgs, global: &GlobalArgs) -> Result<u8> {
    if args.pubs == 0 || args.subs == 0 {
        bail!("--pubs and --subs must be at least 1");
    }
    // Fail before the run, not after it (and leave no file behind).
    if let Some(path) = &args.html {
        let existed = path.exists();
        if let Err(e) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
        {
            return Err(crate::exit::input_error(format!(
                "cannot write the HTML report to {}: {e}",
                path.display()
            )));
        }
        if !existed {
            let _ = std::fs::remove_file(path);
        }
    }
    // Bound before the embedded broker and the connections: an address in use
    // fails before anything runs.
    let metrics = crate::metrics::bind(args.metrics.metrics_listen, "bench pubsub").await?;
    let (addr, embedded, _stop) = if args.embedded {
        let (a, b, s) = embedded_broker().await?;
        (Some(a), Some(b), Some(s))
    } else {
        (None, None, None)
    };
    let spec = PubsubSpec {
        opts: options_for(&args, global, addr).await?,
        topic: args
            .topic
            .clone()
            .unwrap_or_else(|| format!("bench-{:08x}", rand::random::<u32>())),
        pubs: args.pubs,
        subs: args.subs,
        count: args.count,
        duration: args.duration,
        rate: args.rate,
        size: args.size,
        idle_timeout: args.idle_timeout,
        live: Default::default(),
    };
    // Every --assert name is checked before anything is measured.
    let gate = Gate::new(args.gates.asserts.clone(), &pubsub_sample(&spec))?;
    let _metrics = metrics
        .map(|m| m.serve(vec![Box::new(crate::metrics::Bench(spec.live.clone()))]))
        .transpose()?;
    // Ctrl-C or SIGTERM: the engine stops and returns the figures so far (exit 130).
    match crate::bench::pubsub(&spec)
        .await
        .map_err(BenchError::into_anyhow)?
    {
        Pubsub::NotReady { ready } => {
            print_not_ready(&spec, ready, SummaryFormat::for_stdout(args.format));
            Ok(exit::INTERRUPTED)
        }
        Pubsub::Measured(r) => {
            // The embedded broker's own count of copies it did not queue
            // because a subscriber's queue was full (a fresh broker: all this run's).
            let broker_dropped = embedded.map(|b| b.stats().queue_full);
            let losses = Losses::of(&r, broker_dropped);
            print_pubsub(&spec, &r, &losses, SummaryFormat::for_stdout(args.format));
            // Judged once: the outcomes go to stderr and into the --html page.
            let outcomes = gate.judge(&pubsub_json(&spec, &r, &losses));
            if let Some(path) = &args.html {
                let mut page = pubsub_page(&spec, &r);
                page.asserts = super::html_asserts(&outcomes);
                std::fs::write(path, page.render()).map_err(|e| {
                    anyhow::anyhow!("cannot write the HTML report to {}: {e}", path.display())
                })?;
            }
            let code = if r.interrupted {
                exit::INTERRUPTED
            } else if r.lost == 0 {
                exit::OK
            } else {
                // Exit 1 says why on stderr too, whatever the format.
                eprintln!(
                    "smqctl bench: {}",
                    losses.explain(&r, spec.subs, spec.idle_timeout)
                );
                exit::ERROR
            };
            Ok(super::gated_on(&outcomes, code))
        }
    }
}

/// Where the lost deliveries of a run went, as far as this process can tell.
#[derive(Debug, PartialEq)]
struct Losses {
    /// Dropped by this process's subscriber queues.
    here: u64,
    /// Dropped by the embedded broker for a full subscriber queue (`None`:
    /// a broker of its own, which does not say).
    broker: Option<u64>,
    /// The rest: neither dropped here nor (with --embedded) by the broker.
    unexplained: u64,
}

impl Losses {
    fn of(r: &PubsubReport, broker: Option<u64>) -> Losses {
        let known = r.dropped_here + broker.unwrap_or(0);
        Losses {
            here: r.dropped_here,
            broker,
            unexplained: r.lost.saturating_sub(known),
        }
    }

    /// The stderr line of a run that lost messages.
    fn explain(&self, r: &PubsubReport, subs: usize, idle: Duration) -> String {
        let mut parts = Vec::new();
        if let Some(b) = self.broker.filter(|b| *b > 0) {
            parts.push(format!(
                "{b} dropped by the embedded broker (a subscriber's queue was full)"
            ));
        }
        if self.here > 0 {
            parts.push(format!(
                "{} dropped by this process's subscriber queue(s), which fell behind",
                self.here
            ));
        }
        if self.unexplained > 0 {
            let whose = match self.broker {
                Some(_) => "never arrived",
                // A broker of its own may drop for a full queue (Mako does) without saying.
                None => "never arrived (dropped by the broker or lost on the way)",
            };
            parts.push(format!(
                "{} {whose}; the subscribers waited --idle-timeout {} for them",
                self.unexplained,
                humantime::format_duration(idle)
            ));
        }
        format!(
            "{} of {} message(s) lost ({} sent x {subs} subscriber(s)): {}",
            r.lost,
            r.sent * subs as u64,
            r.sent,
            parts.join("; ")
        )
    }
}

/// The `--html` page of a `bench pubsub` run.
fn pubsub_page(spec: &PubsubSpec, r: &PubsubReport) -> crate::report_html::Page {
    use crate::report_html::{Chart, Histogram, LineChart, Page};
    let mut params = vec![
        ("broker".to_string(), spec.opts.endpoint.to_string()),
        ("topic".into(), spec.topic.clone()),
        ("publishers".into(), spec.pubs.to_string()),
        ("subscribers".into(), spec.subs.to_string()),
        ("size".into(), format!("{} B", spec.size)),
        (
            "run".into(),
            match spec.duration {
                Some(d) => format!("for {}", humantime::format_duration(d)),
                None => format!("{} message(s) per publisher", spec.count),
            },
        ),
        (
            "rate".into(),
            spec.rate
                .filter(|r| *r > 0.0)
                .map(|r| format!("{r}/s"))
                .unwrap_or_else(|| "flat out".into()),
        ),
    ];
    params.push((
        "result".into(),
        format!(
            "sent {} in {:.3} s, received {} in {:.3} s ({:.0} msgs/s, {:.1} MB/s), lost {}{}",
            r.sent,
            r.send_secs,
            r.received,
            r.recv_secs,
            r.msgs_per_s,
            r.mb_per_s,
            r.lost,
            if r.interrupted { " (interrupted)" } else { "" }
        ),
    ));
    params.push(("latency".into(), r.latency.line()));
    let xy = |f: fn(&crate::bench::RateSample) -> f64| -> Vec<(f64, f64)> {
        r.series.iter().map(|s| (s.t_s, f(s))).collect()
    };
    Page {
        title: format!(
            "smqctl bench pubsub: {} -> {} -> {}",
            spec.pubs, spec.topic, spec.subs
        ),
        params,
        verdict: Some((
            r.lost == 0 && !r.interrupted,
            format!(
                "{} of {} deliveries lost",
                r.lost,
                r.sent * spec.subs as u64
            ),
        )),
        // The caller adds the --assert outcomes.
        asserts: Vec::new(),
        charts: vec![
            Chart::Line(LineChart {
                title: "Messages per second".into(),
                x_label: "seconds".into(),
                y_label: "msg/s".into(),
                series: vec![
                    ("sent".into(), xy(|s| s.sent_per_s)),
                    ("received".into(), xy(|s| s.received_per_s)),
                ],
            }),
            Chart::Histogram(Histogram {
                title: "Latency (one way)".into(),
                buckets: r.latency.buckets(),
            }),
        ],
    }
}

/// A signal came while connecting: nothing measured.
fn print_not_ready(spec: &PubsubSpec, ready: usize, format: SummaryFormat) {
    let clients = spec.subs + spec.pubs;
    match format {
        SummaryFormat::Json => println!(
            "{}",
            json!({
                "interrupted": true,
                "url": spec.opts.endpoint.to_string(),
                "topic": spec.topic,
                "pubs": spec.pubs,
                "subs": spec.subs,
                "connected": ready,
                "sent": 0,
                "received": 0,
            })
        ),
        SummaryFormat::Pretty => println!(
            "pubsub: interrupted while connecting ({ready} of {clients} client(s) ready): nothing measured, {}",
            spec.opts.endpoint
        ),
    }
}

/// The `-F json` summary of a measured run; also what `--assert` judges.
fn pubsub_json(spec: &PubsubSpec, r: &PubsubReport, losses: &Losses) -> serde_json::Value {
    json!({
        "interrupted": r.interrupted,
        "url": spec.opts.endpoint.to_string(),
        "topic": spec.topic,
        "pubs": spec.pubs,
        "subs": spec.subs,
        "size": spec.size,
        "sent": r.sent,
        "received": r.received,
        "lost": r.lost,
        "dropped_here": losses.here,
        "broker_dropped": losses.broker,
        "send_s": crate::latency::secs(r.send_secs),
        "sent_per_s": crate::latency::rate(r.sent as f64 / r.send_secs),
        "elapsed_s": crate::latency::secs(r.recv_secs),
        "msgs_per_s": crate::latency::rate(r.msgs_per_s),
        "mb_per_s": crate::latency::rate(r.mb_per_s),
        "latency_ms": r.latency.to_json(),
    })
}

/// A summary with every field filled: the names `--assert` may use.
fn pubsub_sample(spec: &PubsubSpec) -> serde_json::Value {
    let mut latency = crate::latency::Latency::new();
    latency.record(Duration::from_millis(1));
    pubsub_json(
        spec,
        &PubsubReport {
            interrupted: false,
            sent: 1,
            received: 1,
            lost: 0,
            dropped_here: 0,
            send_secs: 1.0,
            recv_secs: 1.0,
            msgs_per_s: 1.0,
            mb_per_s: 1.0,
            latency,
            series: Vec::new(),
        },
        &Losses {
            here: 0,
            broker: Some(0),
            unexplained: 0,
        },
    )
}

fn print_pubsub(spec: &PubsubSpec, r: &PubsubReport, losses: &Losses, format: SummaryFormat) {
    let url = spec.opts.endpoint.to_string();
    let topic = &spec.topic;
    let (sent, received, lost) = (r.sent, r.received, r.lost);
    let (send_secs, recv_secs) = (r.send_secs, r.recv_secs);
    let (rate, mbps, size) = (r.msgs_per_s, r.mb_per_s, spec.size);
    match format {
        SummaryFormat::Json => println!("{}", pubsub_json(spec, r, losses)),
        SummaryFormat::Pretty => {
            let what = match spec.duration {
                Some(d) => format!("for {}", humantime::format_duration(d)),
                None => format!("{} x {size} B each", spec.count),
            };
            let paced = spec
                .rate
                .filter(|r| *r > 0.0)
                .map(|r| format!(", at most {r:.0} msgs/s each"))
                .unwrap_or_default();
            let stopped = if r.interrupted {
                " (interrupted: the figures so far)"
            } else {
                ""
            };
            println!(
                "pubsub: {} publisher(s) -> \"{topic}\" -> {} subscriber(s), {what}{paced}, {url}{stopped}",
                spec.pubs, spec.subs
            );
            let publishers = if spec.pubs > 1 {
                format!(" from {} publishers", spec.pubs)
            } else {
                String::new()
            };
            println!(
                "sent      {sent:>10} msgs in {send_secs:.3} s  ({:.0} msgs/s{publishers})",
                sent as f64 / send_secs
            );
            let mut why = Vec::new();
            if let Some(b) = losses.broker.filter(|b| *b > 0) {
                why.push(format!("{b} dropped by the broker"));
            }
            if losses.here > 0 {
                why.push(format!("{} dropped here", losses.here));
            }
            let why = if why.is_empty() {
                String::new()
            } else {
                format!(" ({})", why.join(", "))
            };
            // With several subscribers every message arrives once per
            // subscriber: the count and the rate are deliveries.
            let (unit, across) = if spec.subs > 1 {
                ("deliveries", format!(" across {} subscribers", spec.subs))
            } else {
                ("msgs", String::new())
            };
            println!(
                "received  {received:>10} {unit} in {recv_secs:.3} s  ({rate:.0} {unit}/s{across}, {mbps:.1} MB/s)  lost {lost}{why}"
            );
            println!("latency   {}", r.latency.line());
        }
    }
}

async fn connections(args: BenchConnArgs, global: &GlobalArgs) -> Result<u8> {
    // A PID whose memory cannot be read is bad input, said before connecting
    // (the same read during the run, a broker that died, stays an error).
    if let Some(pid) = args.broker_pid
        && let Err(e) = std::fs::read_to_string(format!("/proc/{pid}/status"))
    {
        return Err(crate::exit::input_error(format!(
            "--broker-pid {pid}: cannot read /proc/{pid}/status (is {pid} the broker's PID, on Linux?): {e}"
        )));
    }
    let metrics = crate::metrics::bind(args.metrics.metrics_listen, "bench connections").await?;
    let spec = ConnSpec {
        opts: client_options(&args.conn, global).await?,
        count: args.connections,
        parallel: args.parallel,
        broker_pid: args.broker_pid,
        live: Default::default(),
    };
    let _metrics = metrics
        .map(|m| m.serve(vec![Box::new(crate::metrics::Bench(spec.live.clone()))]))
        .transpose()?;
    let Some((report, idle)) = crate::bench::connections(&spec)
        .await
        .map_err(BenchError::into_anyhow)?
    else {
        return Ok(exit::INTERRUPTED);
    };
    print_connections(
        args.connections,
        &report,
        SummaryFormat::for_stdout(args.format),
    );
    let code = tokio::select! {
        _ = tokio::time::sleep(args.hold) => exit::OK,
        _ = crate::shutdown::requested() => exit::INTERRUPTED,
    };
    idle.close().await;
    Ok(code)
}

fn print_connections(count: usize, r: &ConnReport, format: SummaryFormat) {
    let connect_secs = r.connect_secs;
    match format {
        SummaryFormat::Json => println!(
            "{}",
            json!({
                "connections": count,
                "connect_s": crate::latency::secs(connect_secs),
                "broker_rss_before_kib": r.rss_before_kib,
                "broker_rss_after_kib": r.rss_after_kib,
                "bytes_per_connection": r.bytes_per_connection.map(crate::latency::rate),
            })
        ),
        SummaryFormat::Pretty => {
            println!(
                "opened {count} idle connections in {connect_secs:.2} s ({:.0}/s)",
                count as f64 / connect_secs.max(1e-9)
            );
            if let (Some(b), Some(a), Some(p)) =
                (r.rss_before_kib, r.rss_after_kib, r.bytes_per_connection)
            {
                println!(
                    "broker RSS {b} KiB -> {a} KiB: {:.1} KiB per idle connection",
                    p / 1024.0
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(sent: u64, received: u64, lost: u64, dropped_here: u64) -> PubsubReport {
        PubsubReport {
            interrupted: false,
            sent,
            received,
            lost,
            dropped_here,
            send_secs: 1.0,
            recv_secs: 1.0,
            msgs_per_s: 1.0,
            mb_per_s: 1.0,
            latency: crate::latency::Latency::new(),
            series: Vec::new(),
        }
    }

    #[test]
    fn a_loss_says_who_dropped_what_and_what_never_arrived() {
        let idle = Duration::from_secs(3);
        // 100 sent to 2 subscribers: 200 deliveries, 20 missing.
        let r = report(100, 180, 20, 5);
        let embedded = Losses::of(&r, Some(12));
        assert_eq!(
            embedded,
            Losses {
                here: 5,
                broker: Some(12),
                unexplained: 3
            }
        );
        let line = embedded.explain(&r, 2, idle);
        assert!(
            line.starts_with("20 of 200 message(s) lost (100 sent x 2 subscriber(s)): "),
            "{line}"
        );
        assert!(
            line.contains("12 dropped by the embedded broker (a subscriber's queue was full)"),
            "{line}"
        );
        assert!(
            line.contains("5 dropped by this process's subscriber queue(s)"),
            "{line}"
        );
        assert!(
            line.contains("3 never arrived; the subscribers waited --idle-timeout 3s"),
            "{line}"
        );
        // A broker of its own does not say what it dropped: the rest may be its.
        let own = Losses::of(&r, None);
        assert_eq!(own.unexplained, 15);
        let line = own.explain(&r, 2, idle);
        assert!(!line.contains("embedded"), "{line}");
        assert!(
            line.contains("15 never arrived (dropped by the broker or lost on the way)"),
            "{line}"
        );
        // Everything explained: no "never arrived" at all.
        let r = report(10, 0, 10, 0);
        let line = Losses::of(&r, Some(10)).explain(&r, 1, idle);
        assert!(!line.contains("never arrived"), "{line}");
        assert!(line.contains("10 dropped by the embedded broker"), "{line}");
    }
}
