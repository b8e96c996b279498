//! `smqctl bench`: measure a broker. `pubsub` pushes messages from publishers
//! through one topic to subscribers and reports throughput and latency;
//! `connections` opens idle connections and reports the broker's memory per
//! connection. These are the figures in the README's Performance section.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::{BufMut, BytesMut};
use serde_json::json;

use super::{client_options, exit};
use crate::broker::{Broker, BrokerConfig};
use crate::cli::{BenchCommand, BenchConnArgs, BenchPubsubArgs, GlobalArgs, SummaryFormat};
use crate::client::{Client, ClientOptions};
use crate::latency::Latency;
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
    // Each connection needs its own UID, or they would take each other over.
    opts.uid = None;
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
    let opts = Arc::new(options_for(&args, global, addr).await?);
    let topic = args
        .topic
        .clone()
        .unwrap_or_else(|| format!("bench-{:08x}", rand::random::<u32>()));
    let epoch = Instant::now();
    // Ctrl-C or SIGTERM: the publishers stop, the subscribers take what is
    // still on its way, and the figures so far print (exit 130).
    let interrupted = Arc::new(AtomicBool::new(false));
    let watcher = {
        let interrupted = interrupted.clone();
        tokio::spawn(async move {
            crate::shutdown::requested().await;
            interrupted.store(true, Ordering::Release);
        })
    };
    let _watcher = AbortOnDrop(watcher);

    // Subscribers first, each ready (Suback) before anything is published;
    // raced against the signal (a broker that does not answer holds a connect
    // for the whole connect timeout).
    let ready = std::sync::atomic::AtomicUsize::new(0);
    let setup = async {
        let mut subs = Vec::new();
        for _ in 0..args.subs {
            let (client, _events) = Client::connect(&opts).await.context("subscriber")?;
            // Room for every message of a run (up to 4M): what the bench measures
            // is the broker, not this process's scheduling of its own consumer.
            let room = (args.count.saturating_mul(args.pubs as u64)).min(1 << 22) as usize;
            let sub = client.subscribe_with_capacity(&topic, None, room).await?;
            subs.push((client, sub));
            ready.fetch_add(1, Ordering::Relaxed);
        }
        let mut pubs = Vec::new();
        for _ in 0..args.pubs {
            let (client, _events) = Client::connect(&opts).await.context("publisher")?;
            let tid = client.create(&topic).await?;
            pubs.push((client, tid));
            ready.fetch_add(1, Ordering::Relaxed);
        }
        Ok::<_, anyhow::Error>((subs, pubs))
    };
    let setup = tokio::select! {
        r = setup => Some(r?),
        _ = crate::shutdown::requested() => None,
    };
    let (subs, pubs) = match setup {
        Some(clients) if !interrupted.load(Ordering::Acquire) => clients,
        // Nothing measured yet; the connections close on the way out.
        _ => {
            let ready = ready.load(Ordering::Relaxed);
            let clients = args.subs + args.pubs;
            match args.format {
                SummaryFormat::Json => println!(
                    "{}",
                    json!({
                        "interrupted": true,
                        "url": opts.endpoint.to_string(),
                        "topic": topic,
                        "pubs": args.pubs,
                        "subs": args.subs,
                        "connected": ready,
                        "sent": 0,
                        "received": 0,
                    })
                ),
                SummaryFormat::Pretty => println!(
                    "pubsub: interrupted while connecting ({ready} of {clients} client(s) ready): nothing measured, {}",
                    opts.endpoint
                ),
            }
            return Ok(exit::INTERRUPTED);
        }
    };

    let idle = args.idle_timeout;
    // Publishers add what they sent; subscribers stop once they have it all
    // (after the publishers are done), or after `idle` without a message.
    let sent_total = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sub_tasks: Vec<_> = subs
        .into_iter()
        .map(|(client, mut sub)| {
            let sent_total = sent_total.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut lat = Latency::new();
                let mut got = 0u64;
                let mut last = Instant::now();
                loop {
                    if done.load(Ordering::Acquire) && got >= sent_total.load(Ordering::Acquire) {
                        break;
                    }
                    match tokio::time::timeout(Duration::from_millis(100), sub.rx.recv()).await {
                        Ok(Some(m)) => {
                            got += 1;
                            last = Instant::now();
                            if m.payload.len() >= 8 {
                                let mut stamp = [0u8; 8];
                                stamp.copy_from_slice(&m.payload[..8]);
                                let sent = u64::from_be_bytes(stamp);
                                let now = epoch.elapsed().as_nanos() as u64;
                                lat.record(Duration::from_nanos(now.saturating_sub(sent)));
                            }
                        }
                        Ok(None) => break,
                        Err(_) if done.load(Ordering::Acquire) && last.elapsed() > idle => break,
                        Err(_) => {}
                    }
                }
                client.disconnect("").await;
                (got, last, lat)
            })
        })
        .collect();

    let started = Instant::now();
    let size = args.size;
    let count = args.count;
    let duration = args.duration;
    let pace = args.rate.filter(|r| *r > 0.0);
    let pub_tasks: Vec<_> = pubs
        .into_iter()
        .map(|(client, tid)| {
            let sent_total = sent_total.clone();
            let interrupted = interrupted.clone();
            tokio::spawn(async move {
                let filler = vec![b'x'; size.saturating_sub(8)];
                let mut i = 0u64;
                loop {
                    let elapsed = started.elapsed();
                    if interrupted.load(Ordering::Relaxed) {
                        break;
                    }
                    match duration {
                        Some(d) if elapsed >= d => break,
                        None if i >= count => break,
                        _ => {}
                    }
                    if let Some(r) = pace {
                        let due = Duration::from_secs_f64(i as f64 / r);
                        if due > elapsed {
                            client.flush().await?;
                            // A slow pace still notices the signal soon.
                            tokio::time::sleep((due - elapsed).min(Duration::from_millis(100)))
                                .await;
                            continue;
                        }
                    }
                    let mut p = BytesMut::with_capacity(size);
                    if size >= 8 {
                        p.put_u64(epoch.elapsed().as_nanos() as u64);
                        p.put_slice(&filler);
                    } else {
                        p.put_bytes(b'x', size);
                    }
                    client.publish_ids(tid, 0, p.freeze()).await?;
                    i += 1;
                }
                client.flush().await?;
                sent_total.fetch_add(i, Ordering::AcqRel);
                let finished = Instant::now();
                client.disconnect("").await;
                Ok::<_, crate::client::ClientError>(finished)
            })
        })
        .collect();

    let mut sent_done = started;
    for t in pub_tasks {
        sent_done = sent_done.max(t.await.context("publisher task")??);
    }
    done.store(true, Ordering::Release);
    let mut received = 0u64;
    let mut last_rx = started;
    let mut latency = Latency::new();
    for t in sub_tasks {
        let (got, last, lat) = t.await.context("subscriber task")?;
        received += got;
        last_rx = last_rx.max(last);
        latency.merge(&lat);
    }
    let send_secs = (sent_done - started).as_secs_f64().max(1e-9);
    let recv_secs = (last_rx - started).as_secs_f64().max(1e-9);
    let sent = sent_total.load(Ordering::Acquire);
    let want = sent * args.subs as u64;
    let lost = want.saturating_sub(received);
    let rate = received as f64 / recv_secs;
    let mbps = rate * size as f64 / 1_000_000.0;
    let url = opts.endpoint.to_string();
    let interrupted = interrupted.load(Ordering::Acquire);
    match args.format {
        SummaryFormat::Json => {
            let v = json!({
                "interrupted": interrupted,
                "url": url,
                "topic": topic,
                "pubs": args.pubs,
                "subs": args.subs,
                "size": size,
                "sent": sent,
                "received": received,
                "lost": lost,
                "send_s": send_secs,
                "elapsed_s": recv_secs,
                "msgs_per_s": rate,
                "mb_per_s": mbps,
                "latency_ms": latency.to_json(),
            });
            println!("{v}");
        }
        SummaryFormat::Pretty => {
            let what = match duration {
                Some(d) => format!("for {}", humantime::format_duration(d)),
                None => format!("{count} x {size} B each"),
            };
            let paced = pace
                .map(|r| format!(", at most {r:.0} msgs/s each"))
                .unwrap_or_default();
            let stopped = if interrupted {
                " (interrupted: the figures so far)"
            } else {
                ""
            };
            println!(
                "pubsub: {} publisher(s) -> \"{topic}\" -> {} subscriber(s), {what}{paced}, {url}{stopped}",
                args.pubs, args.subs
            );
            println!(
                "sent      {sent:>10} msgs in {send_secs:.3} s  ({:.0} msgs/s)",
                sent as f64 / send_secs
            );
            println!(
                "received  {received:>10} msgs in {recv_secs:.3} s  ({rate:.0} msgs/s, {mbps:.1} MB/s)  lost {lost}"
            );
            println!("latency   {}", latency.line());
        }
    }
    Ok(if interrupted {
        exit::INTERRUPTED
    } else if lost == 0 {
        exit::OK
    } else {
        exit::ERROR
    })
}

/// Ends a helper task with the function that started it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Resident memory of a process in KiB (Linux /proc).
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).with_context(|| {
        format!("cannot read /proc/{pid}/status (is {pid} the broker's PID, on Linux?)")
    })?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .context("no VmRSS line in /proc/PID/status")
}

async fn connections(args: BenchConnArgs, global: &GlobalArgs) -> Result<u8> {
    let mut opts = client_options(&args.conn, global).await?;
    opts.uid = None;
    // Idle means idle: no keepalive traffic during the measurement.
    opts.ping_interval = Duration::from_secs(24 * 3600);
    let opts = Arc::new(opts);
    let before = args.broker_pid.map(rss_kib).transpose()?;
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(args.parallel.max(1)));
    let stop = crate::shutdown::requested();
    tokio::pin!(stop);
    let opening = async {
        let mut tasks = Vec::with_capacity(args.count);
        for _ in 0..args.count {
            let opts = opts.clone();
            let permit = sem.clone().acquire_owned().await?;
            tasks.push(tokio::spawn(async move {
                let r = Client::connect(&opts).await;
                drop(permit);
                r
            }));
        }
        let mut clients = Vec::with_capacity(args.count);
        for t in tasks {
            clients.push(t.await.context("connect task")??);
        }
        anyhow::Ok(clients)
    };
    let clients = tokio::select! {
        c = opening => c?,
        // Those already open close on the way out (client::close_all).
        _ = &mut stop => return Ok(exit::INTERRUPTED),
    };
    let connect_secs = started.elapsed().as_secs_f64();
    // Let the broker settle (buffers, allocator) before reading its memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = args.broker_pid.map(rss_kib).transpose()?;
    let per_conn = match (before, after) {
        (Some(b), Some(a)) => Some(a.saturating_sub(b) as f64 * 1024.0 / args.count as f64),
        _ => None,
    };
    match args.format {
        SummaryFormat::Json => println!(
            "{}",
            json!({
                "connections": args.count,
                "connect_s": connect_secs,
                "broker_rss_before_kib": before,
                "broker_rss_after_kib": after,
                "bytes_per_connection": per_conn,
            })
        ),
        SummaryFormat::Pretty => {
            println!(
                "opened {} idle connections in {connect_secs:.2} s ({:.0}/s)",
                args.count,
                args.count as f64 / connect_secs.max(1e-9)
            );
            if let (Some(b), Some(a), Some(p)) = (before, after, per_conn) {
                println!(
                    "broker RSS {b} KiB -> {a} KiB: {:.1} KiB per idle connection",
                    p / 1024.0
                );
            }
        }
    }
    let code = tokio::select! {
        _ = tokio::time::sleep(args.hold) => exit::OK,
        _ = &mut stop => exit::INTERRUPTED,
    };
    let closing = clients.iter().map(|(c, _)| c.disconnect(""));
    futures_util::future::join_all(closing).await;
    Ok(code)
}
