//! The measurement engine behind `smqctl bench`: [`pubsub`] pushes messages
//! from publishers through one topic to subscribers and measures throughput
//! and latency; [`connections`] opens idle connections and reads the broker's
//! resident memory around them. Each takes a plain spec and returns plain
//! figures; `commands::bench` turns flags into the spec (and starts an
//! embedded broker for `--embedded`) and prints the figures.
//!
//! Both stop on the one SIGINT/SIGTERM ([`crate::shutdown`]) and keep the
//! figures so far. Errors are a [`BenchError`].
//!
//! May import: `client`, `latency`, `shutdown`. Never `commands`, `cli` or
//! `args`, nor `broker` (the command starts one when asked).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use tokio::sync::mpsc;

use crate::client::{Client, ClientError, ClientOptions, Event};
use crate::latency::Latency;

/// Why a bench run failed. [`BenchError::Client`] is the client's own error
/// (the command hands it on as is, so its exit code and hint apply); the
/// others name the step around their cause.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Connecting a subscriber or a publisher failed.
    #[error("{role}")]
    Connect {
        role: &'static str,
        #[source]
        source: ClientError,
    },
    /// A publisher, subscriber or connect task panicked or was cancelled.
    #[error("{0} task")]
    Task(&'static str, #[source] tokio::task::JoinError),
    #[error(transparent)]
    Slots(#[from] tokio::sync::AcquireError),
    #[error("cannot read /proc/{pid}/status (is {pid} the broker's PID, on Linux?)")]
    Rss {
        pid: u32,
        #[source]
        source: std::io::Error,
    },
    #[error("no VmRSS line in /proc/PID/status")]
    NoRss,
}

impl BenchError {
    /// For the command's error chain: a client error stays the outermost
    /// error, as it was before the engine had an error type of its own, so
    /// the exit code and the hint read it.
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            BenchError::Client(e) => e.into(),
            e => e.into(),
        }
    }
}

fn connect_error(role: &'static str) -> impl FnOnce(ClientError) -> BenchError {
    move |source| BenchError::Connect { role, source }
}

/// What `bench pubsub` measures.
#[derive(Debug, Clone)]
pub struct PubsubSpec {
    /// Every connection's options (each gets its own UID: see [`pubsub`]).
    pub opts: ClientOptions,
    pub topic: String,
    /// Publishing and subscribing connections (at least 1 each).
    pub pubs: usize,
    pub subs: usize,
    /// Messages per publisher, unless `duration` is set.
    pub count: u64,
    /// Publish for this long instead of `count` messages.
    pub duration: Option<Duration>,
    /// At most this many messages per second per publisher (`None` or not
    /// positive: flat out).
    pub rate: Option<f64>,
    /// Payload bytes; the first 8 carry the send time when there is room.
    pub size: usize,
    /// Subscribers give up after this long without a message.
    pub idle_timeout: Duration,
    /// The run's counters as it goes (for `--metrics-listen`).
    pub live: Arc<Live>,
}

/// What a bench run has done so far, readable while it runs: the same
/// counts its report ends with.
#[derive(Debug, Default)]
pub struct Live {
    /// Connections open now (publishers and subscribers, or idle ones).
    pub connections: AtomicU64,
    pub sent: AtomicU64,
    pub received: AtomicU64,
    /// Deliveries that did not arrive: known when the run ends.
    pub lost: AtomicU64,
    /// One-way latency, one histogram per subscriber (each locks only its own).
    latency: std::sync::Mutex<Vec<Arc<std::sync::Mutex<Latency>>>>,
}

impl Live {
    /// A latency histogram of a new subscriber.
    fn subscriber(&self) -> Arc<std::sync::Mutex<Latency>> {
        let l = Arc::new(std::sync::Mutex::new(Latency::new()));
        lock(&self.latency).push(l.clone());
        l
    }

    /// Every subscriber's latency so far, merged.
    pub fn latency(&self) -> Latency {
        let mut all = Latency::new();
        for l in lock(&self.latency).iter() {
            all.merge(&lock(l));
        }
        all
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How a `bench pubsub` run ended.
#[derive(Debug)]
pub enum Pubsub {
    /// Stopped by a signal while connecting: nothing measured.
    NotReady {
        /// Clients connected (and subscribed) before the signal.
        ready: usize,
    },
    Measured(PubsubReport),
}

/// The figures of a `bench pubsub` run.
#[derive(Debug)]
pub struct PubsubReport {
    /// Stopped by a signal: the figures so far.
    pub interrupted: bool,
    pub sent: u64,
    pub received: u64,
    /// Deliveries expected (sent × subscribers) that did not arrive.
    pub lost: u64,
    /// Of `lost`: messages that reached this process but were dropped because
    /// a subscriber's own queue was full ([`Client::dropped`]; it holds a
    /// whole `--count` run, so this stays 0 unless the consumer fell behind).
    pub dropped_here: u64,
    /// From the first publish to the last publisher's flush.
    pub send_secs: f64,
    /// From the first publish to the last message received.
    pub recv_secs: f64,
    pub msgs_per_s: f64,
    pub mb_per_s: f64,
    /// One-way latency from the payload's send stamp.
    pub latency: Latency,
    /// Messages per second sent and received, about once a second (at most
    /// [`MAX_SAMPLES`]: past it every other one goes and the stride doubles).
    pub series: Vec<RateSample>,
}

/// Sent and received messages per second since the previous sample.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateSample {
    pub t_s: f64,
    pub sent_per_s: f64,
    pub received_per_s: f64,
}

/// Most samples [`PubsubReport::series`] keeps.
pub const MAX_SAMPLES: usize = 600;

/// Samples the live counters once a second until `stop`.
async fn sample_rates(started: Instant, live: Arc<Live>, stop: Arc<AtomicBool>) -> Vec<RateSample> {
    let mut out = vec![RateSample::default()];
    let counts = || {
        (
            live.sent.load(Ordering::Relaxed),
            live.received.load(Ordering::Relaxed),
        )
    };
    // The run's own counts: rates are differences from here on.
    let (s0, r0) = counts();
    let mut last = (started, s0, r0);
    let (mut stride, mut tick) = (1u64, 0u64);
    let mut every = tokio::time::interval_at(
        tokio::time::Instant::from_std(started) + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    loop {
        let stopping = tokio::select! {
            _ = every.tick() => false,
            _ = async {
                while !stop.load(Ordering::Acquire) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            } => true,
        };
        tick += 1;
        // The end of the run, unless within half a second of the last
        // sample (its rates would be noise).
        let end = stopping && last.0.elapsed() >= Duration::from_millis(500);
        if end || (!stopping && tick.is_multiple_of(stride)) {
            let now = Instant::now();
            let (s, r) = counts();
            let dt = (now - last.0).as_secs_f64().max(1e-9);
            out.push(RateSample {
                t_s: crate::latency::secs((now - started).as_secs_f64()),
                sent_per_s: crate::latency::rate(s.saturating_sub(last.1) as f64 / dt),
                received_per_s: crate::latency::rate(r.saturating_sub(last.2) as f64 / dt),
            });
            last = (now, s, r);
            if out.len() >= MAX_SAMPLES {
                let mut i = 0;
                out.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                stride *= 2;
            }
        }
        if stopping {
            return out;
        }
    }
}

/// Messages a subscriber takes off its queue at a time.
const RECV_BATCH: usize = 256;

/// Messages counted before the live counters hear of them while a publisher
/// goes flat out or a subscriber's queue stays full: `--metrics-listen` and
/// `--html` sample them about once a second; a drained queue, a paced pause
/// and the end of a task add the rest at once.
const SHARE_EVERY: u64 = 1024;

/// Bytes a publisher's payload buffer reserves at a time.
const PAYLOAD_ARENA: usize = 64 * 1024;

/// Deliveries per subscriber that may be on their way (sent, not yet
/// received) before the publishers wait: a flat-out run measures what the
/// path delivers instead of overflowing the broker's queue for the subscriber
/// (65,536 messages in smqctl's, which then drops, as Mako's does).
const WINDOW: u64 = 16_384;

/// How long the window waits without any delivery arriving before it lets
/// the publishers go on (what is missing was dropped on the way).
const STALL: Duration = Duration::from_millis(100);

/// Waits while more than [`WINDOW`] deliveries per subscriber are on their
/// way, unless the run is interrupted or over (`until`), or nothing arrives
/// for [`STALL`].
async fn window(
    live: &Live,
    gone: &AtomicU64,
    subs: u64,
    interrupted: &AtomicBool,
    until: Option<Instant>,
) {
    let arrived = || live.received.load(Ordering::Relaxed) + gone.load(Ordering::Relaxed);
    let mut progress = (arrived(), Instant::now());
    loop {
        let now_arrived = arrived();
        let in_flight = (live.sent.load(Ordering::Relaxed) * subs).saturating_sub(now_arrived);
        if in_flight <= WINDOW * subs
            || interrupted.load(Ordering::Relaxed)
            || until.is_some_and(|t| Instant::now() >= t)
        {
            return;
        }
        if now_arrived != progress.0 {
            progress = (now_arrived, Instant::now());
        } else if progress.1.elapsed() >= STALL {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Adds a subscriber's messages not yet counted to the live count.
fn share(live: &Live, unshared: &mut u64) {
    if *unshared > 0 {
        live.received.fetch_add(*unshared, Ordering::Relaxed);
        *unshared = 0;
    }
}

/// Runs `bench pubsub`: subscribers first, each ready (Suback) before
/// anything is published, then the publishers; subscribers stop once they
/// have everything that was sent, or after the idle timeout.
pub async fn pubsub(spec: &PubsubSpec) -> Result<Pubsub, BenchError> {
    let mut opts = spec.opts.clone();
    // Each connection needs its own UID, or they would take each other over.
    opts.uid = None;
    let opts = Arc::new(opts);
    let topic = spec.topic.as_str();
    let epoch = Instant::now();
    // Ctrl-C or SIGTERM: the publishers stop, the subscribers take what is
    // still on its way, and the figures so far are returned.
    let interrupted = Arc::new(AtomicBool::new(false));
    let watcher = {
        let interrupted = interrupted.clone();
        tokio::spawn(async move {
            crate::shutdown::requested().await;
            interrupted.store(true, Ordering::Release);
        })
    };
    let _watcher = AbortOnDrop(watcher);

    // Raced against the signal (a broker that does not answer holds a
    // connect for the whole connect timeout).
    let ready = AtomicUsize::new(0);
    let setup = async {
        let mut subs = Vec::new();
        for _ in 0..spec.subs {
            let (client, _events) = Client::connect(&opts)
                .await
                .map_err(connect_error("subscriber"))?;
            // Room for every message of a run (up to 4M): what the bench measures
            // is the broker, not this process's scheduling of its own consumer.
            let room = (spec.count.saturating_mul(spec.pubs as u64)).min(1 << 22) as usize;
            let sub = client.subscribe_with_capacity(topic, None, room).await?;
            subs.push((client, sub));
            ready.fetch_add(1, Ordering::Relaxed);
            spec.live.connections.fetch_add(1, Ordering::Relaxed);
        }
        let mut pubs = Vec::new();
        for _ in 0..spec.pubs {
            let (client, _events) = Client::connect(&opts)
                .await
                .map_err(connect_error("publisher"))?;
            let tid = client.create(topic).await?;
            pubs.push((client, tid));
            ready.fetch_add(1, Ordering::Relaxed);
            spec.live.connections.fetch_add(1, Ordering::Relaxed);
        }
        Ok::<_, BenchError>((subs, pubs))
    };
    let setup = tokio::select! {
        r = setup => Some(r?),
        _ = crate::shutdown::requested() => None,
    };
    let (subs, pubs) = match setup {
        Some(clients) if !interrupted.load(Ordering::Acquire) => clients,
        // Nothing measured yet; the connections close on the way out.
        _ => {
            return Ok(Pubsub::NotReady {
                ready: ready.load(Ordering::Relaxed),
            });
        }
    };

    let idle = spec.idle_timeout;
    // Publishers add what they sent; subscribers stop once they have it all
    // (after the publishers are done), or after `idle` without a message.
    let sent_total = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    // Deliveries the subscribers' own queues dropped (they never arrive:
    // the publishers' window must not wait for them).
    let gone = Arc::new(AtomicU64::new(0));
    let sub_tasks: Vec<_> = subs
        .into_iter()
        .map(|(client, mut sub)| {
            let sent_total = sent_total.clone();
            let done = done.clone();
            let gone = gone.clone();
            let live = spec.live.clone();
            let lat = live.subscriber();
            tokio::spawn(async move {
                let mut got = 0u64;
                let mut last = Instant::now();
                // Taken in batches: one clock read, one lock of the histogram
                // and (every SHARE_EVERY) one count for the live figures per
                // batch, not per message.
                let mut batch = Vec::with_capacity(RECV_BATCH);
                let mut unshared = 0u64;
                let mut seen_dropped = 0u64;
                let mut count = |unshared: &mut u64| {
                    share(&live, unshared);
                    let d = client.dropped();
                    gone.fetch_add(d.saturating_sub(seen_dropped), Ordering::Relaxed);
                    seen_dropped = d;
                };
                loop {
                    if done.load(Ordering::Acquire) && got >= sent_total.load(Ordering::Acquire) {
                        break;
                    }
                    let n = match tokio::time::timeout(
                        Duration::from_millis(100),
                        sub.rx.recv_many(&mut batch, RECV_BATCH),
                    )
                    .await
                    {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(_) => {
                            count(&mut unshared);
                            if done.load(Ordering::Acquire) && last.elapsed() > idle {
                                break;
                            }
                            continue;
                        }
                    };
                    last = Instant::now();
                    let now = last.duration_since(epoch).as_nanos() as u64;
                    let mut timed = lock(&lat);
                    for m in batch.drain(..) {
                        if m.payload.len() >= 8 {
                            let mut stamp = [0u8; 8];
                            stamp.copy_from_slice(&m.payload[..8]);
                            let sent = u64::from_be_bytes(stamp);
                            timed.record(Duration::from_nanos(now.saturating_sub(sent)));
                        }
                    }
                    drop(timed);
                    got += n as u64;
                    unshared += n as u64;
                    // Counted at once when the queue is drained (a subscriber
                    // that keeps up, a paced run), else every SHARE_EVERY.
                    if unshared >= SHARE_EVERY || n < RECV_BATCH {
                        count(&mut unshared);
                    }
                }
                count(&mut unshared);
                let dropped = client.dropped();
                client.disconnect("").await;
                live.connections.fetch_sub(1, Ordering::Relaxed);
                let lat = lock(&lat).clone();
                (got, last, lat, dropped)
            })
        })
        .collect();

    let started = Instant::now();
    let sampling_done = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample_rates(
        started,
        spec.live.clone(),
        sampling_done.clone(),
    ));
    let size = spec.size;
    let count = spec.count;
    let duration = spec.duration;
    let pace = spec.rate.filter(|r| *r > 0.0);
    let subs = spec.subs as u64;
    // Every publisher's count reaches the window's sum often enough.
    let count_every = (SHARE_EVERY / spec.pubs.max(1) as u64).max(16);
    let pub_tasks: Vec<_> = pubs
        .into_iter()
        .map(|(client, tid)| {
            let sent_total = sent_total.clone();
            let interrupted = interrupted.clone();
            let gone = gone.clone();
            let live = spec.live.clone();
            tokio::spawn(async move {
                let filler = vec![b'x'; size.saturating_sub(8)];
                // Payloads are cut from one buffer: an allocation per
                // PAYLOAD_ARENA bytes, not per message (the connection has
                // written and dropped them by the time the space is reused).
                let mut arena = BytesMut::new();
                let mut i = 0u64;
                let mut uncounted = 0u64;
                loop {
                    // One clock read: the run's elapsed time and the stamp.
                    let now = Instant::now();
                    let elapsed = now.saturating_duration_since(started);
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
                            live.sent.fetch_add(uncounted, Ordering::Relaxed);
                            uncounted = 0;
                            client.flush().await?;
                            // A slow pace still notices the signal soon.
                            tokio::time::sleep((due - elapsed).min(Duration::from_millis(100)))
                                .await;
                            continue;
                        }
                    }
                    if arena.capacity() < size {
                        arena.reserve(size.max(PAYLOAD_ARENA));
                    }
                    if size >= 8 {
                        arena.put_u64(now.saturating_duration_since(epoch).as_nanos() as u64);
                        arena.put_slice(&filler);
                    } else {
                        arena.put_bytes(b'x', size);
                    }
                    client.publish_ids(tid, 0, arena.split().freeze()).await?;
                    i += 1;
                    uncounted += 1;
                    if uncounted >= count_every {
                        live.sent.fetch_add(uncounted, Ordering::Relaxed);
                        uncounted = 0;
                        let until = duration.map(|d| started + d);
                        window(&live, &gone, subs, &interrupted, until).await;
                    }
                }
                live.sent.fetch_add(uncounted, Ordering::Relaxed);
                client.flush().await?;
                sent_total.fetch_add(i, Ordering::AcqRel);
                let finished = Instant::now();
                client.disconnect("").await;
                live.connections.fetch_sub(1, Ordering::Relaxed);
                Ok::<_, ClientError>(finished)
            })
        })
        .collect();

    let mut sent_done = started;
    for t in pub_tasks {
        sent_done = sent_done.max(t.await.map_err(|e| BenchError::Task("publisher", e))??);
    }
    done.store(true, Ordering::Release);
    let mut received = 0u64;
    let mut last_rx = started;
    let mut latency = Latency::new();
    let mut dropped_here = 0u64;
    for t in sub_tasks {
        let (got, last, lat, dropped) = t.await.map_err(|e| BenchError::Task("subscriber", e))?;
        received += got;
        dropped_here += dropped;
        last_rx = last_rx.max(last);
        latency.merge(&lat);
    }
    sampling_done.store(true, Ordering::Release);
    let series = sampler.await.unwrap_or_default();
    let send_secs = (sent_done - started).as_secs_f64().max(1e-9);
    let recv_secs = (last_rx - started).as_secs_f64().max(1e-9);
    let sent = sent_total.load(Ordering::Acquire);
    let want = sent * spec.subs as u64;
    let msgs_per_s = received as f64 / recv_secs;
    spec.live
        .lost
        .store(want.saturating_sub(received), Ordering::Relaxed);
    Ok(Pubsub::Measured(PubsubReport {
        interrupted: interrupted.load(Ordering::Acquire),
        sent,
        received,
        lost: want.saturating_sub(received),
        dropped_here,
        send_secs,
        recv_secs,
        msgs_per_s,
        mb_per_s: msgs_per_s * size as f64 / 1_000_000.0,
        latency,
        series,
    }))
}

/// Ends a helper task with the function that started it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What `bench connections` opens.
#[derive(Debug, Clone)]
pub struct ConnSpec {
    /// Every connection's options (own UIDs and no keepalive: see [`connections`]).
    pub opts: ClientOptions,
    pub count: usize,
    /// Connections opened at the same time (at least 1).
    pub parallel: usize,
    /// The broker's process, to read its memory (Linux `/proc`).
    pub broker_pid: Option<u32>,
    /// Connections open so far (for `--metrics-listen`).
    pub live: Arc<Live>,
}

/// The figures of a `bench connections` run.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnReport {
    pub connect_secs: f64,
    /// The broker's resident memory before and after, in KiB (with a PID).
    pub rss_before_kib: Option<u64>,
    pub rss_after_kib: Option<u64>,
    pub bytes_per_connection: Option<f64>,
}

/// The idle connections a `bench connections` run keeps open until
/// [`Idle::close`] (the command holds them for `--hold`).
pub struct Idle(Vec<(Client, mpsc::Receiver<Event>)>);

impl Idle {
    /// Says goodbye on every connection at once.
    pub async fn close(self) {
        let closing = self.0.iter().map(|(c, _)| c.disconnect(""));
        futures_util::future::join_all(closing).await;
    }
}

/// Runs `bench connections`: opens `count` idle connections and reads the
/// broker's memory before and (after settling) with them. `None`: a signal
/// came while opening (those already open close on the way out, through
/// `client::close_all`).
pub async fn connections(spec: &ConnSpec) -> Result<Option<(ConnReport, Idle)>, BenchError> {
    let mut opts = spec.opts.clone();
    opts.uid = None;
    // Idle means idle: no keepalive traffic during the measurement.
    opts.ping_interval = Duration::from_secs(24 * 3600);
    let opts = Arc::new(opts);
    let before = spec.broker_pid.map(rss_kib).transpose()?;
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(spec.parallel.max(1)));
    let opening = async {
        let mut tasks = Vec::with_capacity(spec.count);
        for _ in 0..spec.count {
            let opts = opts.clone();
            let permit = sem.clone().acquire_owned().await?;
            let live = spec.live.clone();
            tasks.push(tokio::spawn(async move {
                let r = Client::connect(&opts).await;
                if r.is_ok() {
                    live.connections.fetch_add(1, Ordering::Relaxed);
                }
                drop(permit);
                r
            }));
        }
        let mut clients = Vec::with_capacity(spec.count);
        for t in tasks {
            clients.push(t.await.map_err(|e| BenchError::Task("connect", e))??);
        }
        Ok::<_, BenchError>(clients)
    };
    let clients = tokio::select! {
        c = opening => c?,
        _ = crate::shutdown::requested() => return Ok(None),
    };
    let connect_secs = started.elapsed().as_secs_f64();
    // Let the broker settle (buffers, allocator) before reading its memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = spec.broker_pid.map(rss_kib).transpose()?;
    let bytes_per_connection = match (before, after) {
        (Some(b), Some(a)) => Some(a.saturating_sub(b) as f64 * 1024.0 / spec.count as f64),
        _ => None,
    };
    let report = ConnReport {
        connect_secs,
        rss_before_kib: before,
        rss_after_kib: after,
        bytes_per_connection,
    };
    Ok(Some((report, Idle(clients))))
}

/// Resident memory of a process in KiB (Linux /proc).
fn rss_kib(pid: u32) -> Result<u64, BenchError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|source| BenchError::Rss { pid, source })?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or(BenchError::NoRss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::{Broker, BrokerConfig};
    use crate::transport::Endpoint;

    /// An embedded broker on 127.0.0.1:0 and options pointing at it.
    async fn broker() -> (ClientOptions, tokio::sync::oneshot::Sender<()>) {
        let listener = crate::broker::listen("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = Broker::new(BrokerConfig::default())
                .run(listener, async {
                    let _ = stopped.await;
                })
                .await;
        });
        let url = format!("ws://{addr}/");
        let opts = ClientOptions::new(Endpoint::parse(&url).expect("url"));
        (opts, stop)
    }

    #[tokio::test]
    async fn pubsub_counts_every_delivery_to_every_subscriber_and_times_each() {
        let (opts, _stop) = broker().await;
        let spec = PubsubSpec {
            opts,
            topic: "bench-engine-test".into(),
            pubs: 2,
            subs: 3,
            count: 200,
            duration: None,
            rate: None,
            size: 16,
            idle_timeout: Duration::from_secs(10),
            live: Arc::default(),
        };
        let Pubsub::Measured(r) = pubsub(&spec).await.expect("run") else {
            panic!("not interrupted, yet nothing measured");
        };
        assert!(!r.interrupted);
        assert_eq!(r.sent, 400, "2 publishers x 200");
        assert_eq!(r.received, 1200, "each of 3 subscribers gets all 400");
        assert_eq!((r.lost, r.dropped_here), (0, 0));
        assert_eq!(
            r.latency.count(),
            1200,
            "every 16-byte payload carries its stamp"
        );
        assert!(r.msgs_per_s > 0.0 && r.mb_per_s > 0.0);
    }

    #[tokio::test]
    async fn fan_in_and_fan_out_count_every_delivery_once_on_the_raw_transport() {
        // 20 -> 1 and 1 -> 20: the batched counting (subscribers take their
        // queue 256 at a time, publishers count every 1024) must still add up
        // to every message of every publisher, once per subscriber.
        let (ws, _stop) = broker().await;
        let raw =
            Endpoint::parse(&ws.endpoint.to_string().replace("ws://", "http://")).expect("raw url");
        for (pubs, subs) in [(20, 1), (1, 20)] {
            let live = Arc::new(Live::default());
            let spec = PubsubSpec {
                opts: ClientOptions::new(raw.clone()),
                topic: format!("bench-fan-{pubs}-{subs}"),
                pubs,
                subs,
                count: 1500,
                duration: None,
                rate: None,
                size: 64,
                idle_timeout: Duration::from_secs(10),
                live: live.clone(),
            };
            let Pubsub::Measured(r) = pubsub(&spec).await.expect("run") else {
                panic!("nothing measured");
            };
            let sent = 1500 * pubs as u64;
            let want = sent * subs as u64;
            assert_eq!(
                (r.sent, r.received, r.lost),
                (sent, want, 0),
                "{pubs} -> {subs}"
            );
            assert_eq!(
                r.latency.count(),
                want,
                "{pubs} -> {subs}: every delivery timed"
            );
            assert_eq!(
                (
                    live.sent.load(Ordering::Relaxed),
                    live.received.load(Ordering::Relaxed)
                ),
                (sent, want),
                "{pubs} -> {subs}: the live counters end where the report does"
            );
        }
    }

    #[tokio::test]
    async fn pubsub_payloads_too_small_for_a_stamp_are_counted_but_not_timed() {
        let (opts, _stop) = broker().await;
        let spec = PubsubSpec {
            opts,
            topic: "bench-engine-tiny".into(),
            pubs: 1,
            subs: 1,
            count: 50,
            duration: None,
            rate: None,
            size: 4,
            idle_timeout: Duration::from_secs(10),
            live: Arc::default(),
        };
        let Pubsub::Measured(r) = pubsub(&spec).await.expect("run") else {
            panic!("nothing measured");
        };
        assert_eq!((r.sent, r.received, r.lost), (50, 50, 0));
        assert_eq!(r.latency.count(), 0);
    }

    #[tokio::test]
    async fn messages_the_subscribers_own_queue_dropped_are_counted_apart_from_the_lost() {
        // A --duration run sizes the subscriber's queue by --count: 1 here, so
        // a burst overflows it in this process, not in the broker or on the
        // way. Those must be told apart from messages that never arrived.
        let (opts, _stop) = broker().await;
        let spec = PubsubSpec {
            opts,
            topic: "bench-engine-overflow".into(),
            pubs: 1,
            subs: 1,
            count: 1,
            duration: Some(Duration::from_millis(300)),
            rate: None,
            size: 16,
            idle_timeout: Duration::from_secs(3),
            live: Arc::default(),
        };
        let Pubsub::Measured(r) = pubsub(&spec).await.expect("run") else {
            panic!("nothing measured");
        };
        assert!(r.sent > 100, "a burst: {r:?}");
        assert!(r.dropped_here > 0, "a queue of 1 overflows: {r:?}");
        assert_eq!(r.received + r.dropped_here, r.sent, "{r:?}");
        assert_eq!(r.lost, r.dropped_here, "every loss is one of ours: {r:?}");
    }

    #[tokio::test]
    async fn connections_opens_them_all_and_reads_memory_only_with_a_pid() {
        let (opts, _stop) = broker().await;
        let spec = ConnSpec {
            opts,
            count: 5,
            parallel: 2,
            broker_pid: Some(std::process::id()),
            live: Arc::default(),
        };
        let (report, idle) = connections(&spec).await.expect("run").expect("no signal");
        assert_eq!(idle.0.len(), 5);
        let (before, after) = (report.rss_before_kib, report.rss_after_kib);
        assert!(before.is_some_and(|b| b > 0) && after.is_some_and(|a| a > 0));
        assert!(report.bytes_per_connection.is_some());
        idle.close().await;

        let spec = ConnSpec {
            broker_pid: None,
            live: Arc::default(),
            count: 1,
            ..spec
        };
        let (report, idle) = connections(&spec).await.expect("run").expect("no signal");
        assert_eq!(report.rss_before_kib, None);
        assert_eq!(report.bytes_per_connection, None);
        idle.close().await;
    }

    #[tokio::test]
    async fn pubsub_names_the_subscriber_whose_connect_failed_and_keeps_the_cause() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("ws://{}/", closed.local_addr().expect("addr"));
        drop(closed);
        let spec = PubsubSpec {
            opts: ClientOptions::new(Endpoint::parse(&url).expect("url")),
            topic: "t".into(),
            pubs: 1,
            subs: 1,
            count: 1,
            duration: None,
            rate: None,
            size: 8,
            idle_timeout: Duration::from_secs(1),
            live: Arc::default(),
        };
        let err = pubsub(&spec).await.expect_err("nothing listens there");
        assert!(
            matches!(
                err,
                BenchError::Connect {
                    role: "subscriber",
                    source: ClientError::Transport(_)
                }
            ),
            "{err:?}"
        );
        // The command's chain reads the client error, as with the context it had.
        let err = err.into_anyhow();
        assert_eq!(err.to_string(), "subscriber");
        assert!(
            err.chain()
                .any(|c| c.downcast_ref::<ClientError>().is_some())
        );
    }

    #[test]
    fn a_client_error_stays_outermost_for_the_exit_code_and_hint() {
        let err = BenchError::from(ClientError::ConnectionLost("gone".into())).into_anyhow();
        assert!(matches!(
            err.downcast_ref::<ClientError>(),
            Some(ClientError::ConnectionLost(r)) if r == "gone"
        ));
    }

    #[test]
    fn rss_of_a_missing_process_names_the_pid() {
        let err = rss_kib(u32::MAX).expect_err("no such process").to_string();
        assert!(err.contains(&u32::MAX.to_string()), "{err}");
    }
}
