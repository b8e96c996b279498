//! `smqctl bench`: measure a broker. `pubsub` pushes messages from publishers
//! through one topic to subscribers and reports throughput and latency;
//! `connections` opens idle connections and reports the broker's memory per
//! connection. These are the figures in the README's Performance section.
//!
//! Thin: flags become a [`crate::bench`] spec (with an in-process broker for
//! `--embedded`), the engine measures, this file prints its figures.
//!
//! May import: `cli`, `bench` (the engine), `broker` (for `--embedded`),
//! `client`, `transport`, sibling command modules (rpc, for `bench rpc`).

use anyhow::{Result, bail};
use serde_json::json;

use super::{client_options, exit};
use crate::bench::{BenchError, ConnReport, ConnSpec, Pubsub, PubsubReport, PubsubSpec};
use crate::broker::{Broker, BrokerConfig};
use crate::cli::{BenchCommand, BenchConnArgs, BenchPubsubArgs, GlobalArgs, SummaryFormat};
use crate::client::ClientOptions;
use crate::transport::Endpoint;

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
            print_not_ready(&spec, ready, args.format);
            Ok(exit::INTERRUPTED)
        }
        Pubsub::Measured(r) => {
            print_pubsub(&spec, &r, args.format);
            Ok(if r.interrupted {
                exit::INTERRUPTED
            } else if r.lost == 0 {
                exit::OK
            } else {
                exit::ERROR
            })
        }
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
                "send_s": send_secs,
                "elapsed_s": recv_secs,
                "msgs_per_s": rate,
                "mb_per_s": mbps,
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
        count: args.count,
        parallel: args.parallel,
        broker_pid: args.broker_pid,
    };
    let Some((report, idle)) = crate::bench::connections(&spec)
        .await
        .map_err(BenchError::into_anyhow)?
    else {
        return Ok(exit::INTERRUPTED);
    };
    print_connections(args.count, &report, args.format);
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
                "connect_s": connect_secs,
                "broker_rss_before_kib": r.rss_before_kib,
                "broker_rss_after_kib": r.rss_after_kib,
                "bytes_per_connection": r.bytes_per_connection,
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
