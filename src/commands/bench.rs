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
//! `--embedded`), `client`, `transport`, `commands::rpc` (bench rpc),
//! `report_html` (`--html`). Never `cli`.

use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::args::{ConnectArgs, GlobalArgs, SummaryFormat, at_least_one, client_options};
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
    Rpc(Box<super::rpc::RpcArgs>),
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
    pub conn: ConnectArgs,
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
    pub conn: ConnectArgs,
}

pub async fn run(cmd: BenchCommand, global: &GlobalArgs) -> Result<u8> {
    match cmd {
        BenchCommand::Pubsub(args) => pubsub(*args, global).await,
        BenchCommand::Connections(args) => connections(*args, global).await,
        BenchCommand::Rpc(mut args) => {
            // The load mode of `smqctl rpc`, with a default count.
            args.req.count.get_or_insert(10_000);
            super::rpc::run(*args, global).await
        }
    }
}

/// An in-process broker on 127.0.0.1:0 for `--embedded`.
async fn embedded_broker() -> Result<(std::net::SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    let listener = crate::broker::listen("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let broker = Broker::new(BrokerConfig::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = broker
            .run(listener, async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok((addr, stop))
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
    let (addr, _stop) = if args.embedded {
        let (a, s) = embedded_broker().await?;
        (Some(a), Some(s))
    } else {
        (None, None)
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
    };
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
            print_pubsub(&spec, &r, SummaryFormat::for_stdout(args.format));
            if let Some(path) = &args.html {
                std::fs::write(path, pubsub_page(&spec, &r).render()).map_err(|e| {
                    anyhow::anyhow!("cannot write the HTML report to {}: {e}", path.display())
                })?;
            }
            Ok(if r.interrupted {
                exit::INTERRUPTED
            } else if r.lost == 0 {
                exit::OK
            } else {
                // Exit 1 says why on stderr too, whatever the format.
                eprintln!(
                    "smqctl bench: {} of {} message(s) lost (the subscribers waited --idle-timeout {} for the rest)",
                    r.lost,
                    r.sent,
                    humantime::format_duration(spec.idle_timeout)
                );
                exit::ERROR
            })
        }
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

fn print_pubsub(spec: &PubsubSpec, r: &PubsubReport, format: SummaryFormat) {
    let url = spec.opts.endpoint.to_string();
    let topic = &spec.topic;
    let (sent, received, lost) = (r.sent, r.received, r.lost);
    let (send_secs, recv_secs) = (r.send_secs, r.recv_secs);
    let (rate, mbps, size) = (r.msgs_per_s, r.mb_per_s, spec.size);
    match format {
        SummaryFormat::Json => {
            let v = json!({
                "interrupted": r.interrupted,
                "url": url,
                "topic": topic,
                "pubs": spec.pubs,
                "subs": spec.subs,
                "size": size,
                "sent": sent,
                "received": received,
                "lost": lost,
                "send_s": crate::latency::secs(send_secs),
                "elapsed_s": crate::latency::secs(recv_secs),
                "msgs_per_s": crate::latency::rate(rate),
                "mb_per_s": crate::latency::rate(mbps),
                "latency_ms": r.latency.to_json(),
            });
            println!("{v}");
        }
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
            println!(
                "sent      {sent:>10} msgs in {send_secs:.3} s  ({:.0} msgs/s)",
                sent as f64 / send_secs
            );
            println!(
                "received  {received:>10} msgs in {recv_secs:.3} s  ({rate:.0} msgs/s, {mbps:.1} MB/s)  lost {lost}"
            );
            println!("latency   {}", r.latency.line());
        }
    }
}

async fn connections(args: BenchConnArgs, global: &GlobalArgs) -> Result<u8> {
    let spec = ConnSpec {
        opts: client_options(&args.conn, global).await?,
        count: args.connections,
        parallel: args.parallel,
        broker_pid: args.broker_pid,
    };
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
