//! The simulated-device engine: a fleet starts the devices of its shard at the
//! ramp rate, keeps time (duration, progress ticks), runs the `--verify`
//! subscriber, stops everyone cleanly (each device sends Disconnect) and builds
//! the [`Report`]. `smqctl simulate` turns its flags into a [`FleetConfig`];
//! `smqctl demo` builds one in code.
//!
//! Layout: [`scenario`] (the TOML model and the built-ins of `builtin/`),
//! [`device`] (one device's lifecycle), this file (ramp, churn, shard, verify),
//! [`report`] (live stats, summary, JSON report, merge of shards).
//!
//! [`run_fleet`] is the in-process entry point:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use smqctl::fleet::{FleetConfig, run_fleet};
//! let mut cfg = FleetConfig::builtin("charger", "ws://127.0.0.1:9357/smq/", 20)?;
//! cfg.duration = Some(std::time::Duration::from_secs(30));
//! let report = run_fleet(cfg, smqctl::shutdown::requested()).await?;
//! println!("{}", report.text());
//! # Ok(()) }
//! ```
//!
//! May import: `client`, `transport`, `protocol`, `template`, `latency`, `text`,
//! its children. Never
//! `commands` or `output`: errors are typed ([`FleetError`], `ScenarioError`)
//! and printing is the command's.

pub mod device;
pub mod report;
pub mod scenario;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};

use self::device::{DeviceResult, Shared};
use self::report::{DeviceRow, Live, Report, Sample, Series, Stats, VerifyReport};
use self::scenario::Scenario;
use crate::client::{Client, ClientOptions, Message, ReconnectPolicy};
use crate::transport::Endpoint;

/// A fleet configuration that cannot run: bad input from the user (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("--shard {i}/{n}: I must be below N (0-based, e.g. 0/4 .. 3/4)")]
    Shard { i: u32, n: u32 },
    #[error("--verify: scenario {0} has no periodic message with a verify_topic")]
    NoVerifyTopic(String),
}

/// Everything a fleet run needs. Build one with [`FleetConfig::new`] or
/// [`FleetConfig::builtin`] and change the public fields.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    pub scenario: Scenario,
    /// Endpoint, TLS, timeouts and default credentials (UID/info come from the scenario).
    pub options: ClientOptions,
    /// Size of the whole fleet (all shards).
    pub devices: u32,
    /// (I, N): simulate only shard I (0-based) of N.
    pub shard: (u32, u32),
    /// Devices started per second; 0 starts them all at once.
    pub ramp: f64,
    /// Stop after this long (from the start, ramp included); None: until `shutdown`.
    pub duration: Option<Duration>,
    /// Share of online devices that drop and reconnect per minute (0.1 = 10 %).
    pub churn_per_min: f64,
    pub kill_after: Option<Duration>,
    /// Random delay before a device's first periodic message (None: one interval).
    pub stagger: Option<Duration>,
    /// Overrides the interval of every periodic message.
    pub interval: Option<Duration>,
    pub broker_tid: u32,
    pub reconnect: ReconnectPolicy,
    /// Subscribe to the scenario's verify topics and account for every report.
    pub verify: bool,
    /// UID of the verify subscriber (random when `None`); it sends the
    /// command line's credentials, so a broker that checks them per UID
    /// can admit it.
    pub verify_uid: Option<String>,
    /// How often the progress callback runs.
    pub tick: Duration,
    /// Local source addresses for the devices' connections, round-robin by
    /// index (each address has its own ~28,000 ephemeral ports to a broker).
    pub bind: Vec<std::net::IpAddr>,
    /// Where the run shows its live counters to an observer (the metrics
    /// endpoint); set once the run has built them.
    pub probe: Probe,
}

/// A fleet's live counters, for whoever watches the run (`--metrics-listen`).
pub struct Observed {
    pub stats: Arc<Stats>,
    /// Names of the message kinds out ([`Stats::kinds_out`]: the ready
    /// message, then the periodic ones) and of the command rules ([`Stats::kinds_in`]).
    pub kinds_out: Vec<String>,
    pub commands: Vec<String>,
    /// Devices of this shard.
    pub target: u64,
}

/// A slot the run fills with its [`Observed`] counters when it starts:
/// clone it into [`FleetConfig::probe`] and read it while the run goes on.
#[derive(Clone, Default)]
pub struct Probe(Arc<std::sync::OnceLock<Observed>>);

impl Probe {
    /// The run's counters, once it has started.
    pub fn get(&self) -> Option<&Observed> {
        self.0.get()
    }
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.get().is_some() {
            "Probe(running)"
        } else {
            "Probe(empty)"
        })
    }
}

impl FleetConfig {
    pub fn new(scenario: Scenario, options: ClientOptions, devices: u32) -> FleetConfig {
        FleetConfig {
            scenario,
            options,
            devices,
            shard: (0, 1),
            ramp: 1000.0,
            duration: None,
            churn_per_min: 0.0,
            kill_after: None,
            stagger: None,
            interval: None,
            broker_tid: crate::protocol::SERVER_ETID,
            reconnect: ReconnectPolicy::default(),
            verify: false,
            verify_uid: None,
            tick: Duration::from_secs(1),
            bind: Vec::new(),
            probe: Probe::default(),
        }
    }

    /// A built-in scenario (`charger`, `smib`, `player`) against `url`.
    pub fn builtin(name: &str, url: &str, devices: u32) -> Result<FleetConfig> {
        let scenario = Scenario::load(name)?;
        let endpoint = Endpoint::parse(url).map_err(crate::client::ClientError::from)?;
        Ok(FleetConfig::new(
            scenario,
            ClientOptions::new(endpoint),
            devices,
        ))
    }
}

/// Device indexes of shard `i` of `n`: a contiguous range, so that shards
/// 0..n cover 0..fleet exactly once.
pub fn shard_range(fleet: u32, i: u32, n: u32) -> (u32, u32) {
    let n = u64::from(n.max(1));
    let f = u64::from(fleet);
    let i = u64::from(i);
    ((f * i / n) as u32, (f * (i + 1) / n) as u32)
}

/// Per-device sequence tracking of the verifier. SMQ keeps one publisher's
/// messages in order, so a number at or below the highest seen is a duplicate.
#[derive(Default, Clone, Copy)]
struct Track {
    received: u64,
    highest: u64,
    duplicated: u64,
}

/// Per (periodic message, device index): what the verifier saw; and the
/// number of distinct reports.
type Seen = (HashMap<(usize, u32), Track>, u64);

struct Verifier {
    client: Client,
    finish: oneshot::Sender<u64>,
    task: tokio::task::JoinHandle<Seen>,
    /// Periodic index per verify topic.
    periodic: Vec<usize>,
    topics: Vec<String>,
}

async fn start_verifier(
    cfg: &FleetConfig,
    range: (u32, u32),
    stats: Arc<Stats>,
) -> Result<Verifier> {
    let mut opts = cfg.options.clone();
    opts.uid = cfg.verify_uid.clone();
    let (client, _events) = Client::connect(&opts)
        .await
        .context("the --verify subscriber cannot connect")?;
    let mut periodic = Vec::new();
    let mut topics = Vec::new();
    let mut paths = Vec::new();
    // Room for a burst of every device's report at once.
    let (tx, mut rx) = mpsc::channel::<Message>(1 << 20);
    let mut tids = HashMap::new();
    for (i, p) in cfg.scenario.periodic.iter().enumerate() {
        if let Some(v) = &p.verify {
            let info = client.subscribe_into(&v.topic, None, tx.clone()).await?;
            tids.insert(info.tid, topics.len());
            periodic.push(i);
            topics.push(v.topic.clone());
            paths.push((v.index_path.clone(), v.seq_path.clone()));
        }
    }
    if topics.is_empty() {
        anyhow::bail!(FleetError::NoVerifyTopic(cfg.scenario.name.clone()));
    }
    drop(tx);
    let (finish, mut finish_rx) = oneshot::channel::<u64>();
    let periodic_of: Vec<usize> = periodic.clone();
    let task = tokio::spawn(async move {
        let mut seen: HashMap<(usize, u32), Track> = HashMap::new();
        let mut distinct = 0u64;
        let mut expected: Option<u64> = None;
        let mut last = Instant::now();
        let mut batch = Vec::new();
        loop {
            if expected.is_some_and(|e| distinct >= e) {
                break;
            }
            let wait = if expected.is_some() {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(3600)
            };
            tokio::select! {
                // In batches: one wake-up takes what has queued (the verifier
                // is one task among a fleet's thousands and must not fall
                // behind them).
                n = rx.recv_many(&mut batch, 4096) => {
                    if n == 0 {
                        break;
                    }
                    last = Instant::now();
                    for m in batch.drain(..) {
                    let Some(&t) = tids.get(&m.tid) else { continue };
                    let Ok(v) = serde_json::from_slice::<Value>(&m.payload) else { continue };
                    let (ip, sp) = &paths[t];
                    let index = crate::template::lookup(&v, ip).and_then(Value::as_u64);
                    let seq = crate::template::lookup(&v, sp).and_then(Value::as_u64);
                    let (Some(index), Some(seq)) = (index, seq) else { continue };
                    let Ok(index) = u32::try_from(index) else { continue };
                    if index < range.0 || index >= range.1 {
                        continue;
                    }
                    let tr = seen.entry((periodic_of[t], index)).or_default();
                    if seq <= tr.highest {
                        tr.duplicated += 1;
                        stats.verify_duplicated.fetch_add(1, Relaxed);
                    } else {
                        tr.highest = seq;
                        tr.received += 1;
                        distinct += 1;
                        stats.verify_received.fetch_add(1, Relaxed);
                    }
                    }
                }
                e = &mut finish_rx, if expected.is_none() => {
                    expected = Some(e.unwrap_or(0));
                    last = Instant::now();
                }
                _ = tokio::time::sleep(wait) => {
                    // Stragglers: give up after 2 s without a message.
                    if expected.is_some() && last.elapsed() > Duration::from_secs(2) {
                        break;
                    }
                }
            }
        }
        (seen, distinct)
    });
    Ok(Verifier {
        client,
        finish,
        task,
        periodic,
        topics,
    })
}

/// Records the fleet once a second into a bounded [`Series`] (the `--html`
/// charts and the report's `series`).
struct Sampler {
    started: Instant,
    next: Instant,
    last: (Instant, u64, u64),
    /// Request latency samples (µs → count) at the previous sample.
    last_requests: HashMap<u64, u64>,
    series: Series,
}

impl Sampler {
    const EVERY: Duration = Duration::from_secs(1);

    fn new(started: Instant) -> Sampler {
        Sampler {
            started,
            next: started + Self::EVERY,
            last: (started, 0, 0),
            last_requests: HashMap::new(),
            series: {
                let mut s = Series::new();
                s.push(Sample::default());
                s
            },
        }
    }

    fn sample(&mut self, stats: &Stats) -> Sample {
        let now = Instant::now();
        let live = stats.live();
        let dt = (now - self.last.0).as_secs_f64().max(1e-9);
        let out = live.msgs_out.saturating_sub(self.last.1) as f64 / dt;
        let inn = live.msgs_in.saturating_sub(self.last.2) as f64 / dt;
        self.last = (now, live.msgs_out, live.msgs_in);
        // The requests answered since the last sample: today's counts less
        // those of then.
        let buckets = stats
            .request_latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .buckets();
        let mut window = crate::latency::Latency::new();
        let mut now_counts = HashMap::with_capacity(buckets.len());
        for (us, n) in buckets {
            let before = self.last_requests.get(&us).copied().unwrap_or(0);
            if n > before {
                window.record_us_n(us, n - before);
            }
            now_counts.insert(us, n);
        }
        self.last_requests = now_counts;
        let q = |k: &str| window.to_json().get(k).and_then(Value::as_f64);
        Sample {
            t_s: crate::latency::secs(self.started.elapsed().as_secs_f64()),
            online: live.online,
            out_per_s: crate::latency::rate(out),
            in_per_s: crate::latency::rate(inn),
            errors: live.errors,
            reconnects: live.reconnects,
            request_p50_ms: q("p50"),
            request_p99_ms: q("p99"),
        }
    }

    fn maybe(&mut self, stats: &Stats) {
        if Instant::now() >= self.next {
            self.next += Self::EVERY;
            let s = self.sample(stats);
            self.series.push(s);
        }
    }

    fn finish(mut self, stats: &Stats) -> Vec<Sample> {
        let last = self.sample(stats);
        self.series.finish(last)
    }
}

/// Runs a fleet until `duration` passes or `shutdown` completes.
pub async fn run_fleet(cfg: FleetConfig, shutdown: impl Future) -> Result<Report> {
    run_fleet_with(cfg, shutdown, |_| {}).await
}

/// Like [`run_fleet`], calling `on_tick` every `cfg.tick` with live figures.
pub async fn run_fleet_with(
    cfg: FleetConfig,
    shutdown: impl Future,
    mut on_tick: impl FnMut(&Live),
) -> Result<Report> {
    let (i, n) = cfg.shard;
    if n == 0 || i >= n {
        anyhow::bail!(FleetError::Shard { i, n });
    }
    let range = shard_range(cfg.devices, i, n);
    let target = u64::from(range.1 - range.0);
    let sc = &cfg.scenario;
    // The ready message by its sub-topic, unless a periodic message shares it.
    let ready_name = match sc.ready.as_ref().and_then(|m| m.subtopic.clone()) {
        Some(n) if sc.periodic.iter().any(|p| p.name == n) => format!("{n} (ready)"),
        Some(n) => n,
        None => "ready".into(),
    };
    let mut names_out = vec![ready_name];
    names_out.extend(sc.periodic.iter().map(|p| p.name.clone()));
    let names_in: Vec<String> = sc
        .commands
        .iter()
        .map(|c| {
            let m: Vec<String> = c
                .matches
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    )
                })
                .collect();
            if m.is_empty() {
                c.on.clone()
            } else {
                format!("{}[{}]", c.on, m.join(","))
            }
        })
        .collect();

    let shared = Arc::new(Shared {
        scenario: cfg.scenario.clone(),
        base: Arc::new(device::lean_options(&cfg.options)),
        broker_tid: cfg.broker_tid,
        reconnect: cfg.reconnect,
        churn_per_min: cfg.churn_per_min,
        kill_after: cfg.kill_after,
        stagger: cfg.stagger,
        interval: cfg.interval,
        bind: cfg.bind.clone(),
        stats: Arc::new(Stats::new(names_out.len(), names_in.len())),
        initial_state: Default::default(),
    });
    let _ = cfg.probe.0.set(Observed {
        stats: shared.stats.clone(),
        kinds_out: names_out.clone(),
        commands: names_in.clone(),
        target,
    });

    // Fail fast: one probe connection says whether the broker is there at all.
    // It is the first device, UID and credentials rendered from the scenario:
    // a broker that checks credentials per UID must accept it as it will the
    // device (and traces show no stranger).
    // Both raced against the shutdown signal: stopped while connecting, the
    // run starts no device and still reports (nothing done).
    tokio::pin!(shutdown);
    let setup = async {
        let (probe, _) = Client::connect(&device::options_for(&shared, range.0)).await?;
        probe.disconnect("").await;
        if cfg.verify {
            Ok::<_, anyhow::Error>(Some(
                start_verifier(&cfg, range, shared.stats.clone()).await?,
            ))
        } else {
            Ok(None)
        }
    };
    let (verifier, stopped_early) = tokio::select! {
        r = setup => (r?, false),
        _ = &mut shutdown => (None, true),
    };

    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let mut handles = Vec::with_capacity(target as usize);
    let mut next_index = range.0;
    let mut peak = 0u64;
    let mut all_online: Option<f64> = None;
    let mut last_tick = (started, 0u64, 0u64);
    let deadline = cfg.duration.map(|d| tokio::time::Instant::now() + d);
    let mut poll = tokio::time::interval(Duration::from_millis(100));
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut next_tick = started + cfg.tick;
    let mut sampler = Sampler::new(started);
    loop {
        if stopped_early {
            break;
        }
        // Start every device that is due by now.
        let due = if cfg.ramp > 0.0 {
            let by_now = (started.elapsed().as_secs_f64() * cfg.ramp).floor() as u64 + 1;
            (range.0 as u64 + by_now).min(range.1 as u64) as u32
        } else {
            range.1
        };
        while next_index < due {
            handles.push(tokio::spawn(device::run(
                shared.clone(),
                next_index,
                stop_rx.clone(),
            )));
            next_index += 1;
        }
        let online = shared.stats.online.load(Relaxed).max(0) as u64;
        peak = peak.max(online);
        // Devices end on their own only when they give up (--no-reconnect):
        // once every one has, there is nothing left to run or wait for.
        if online == 0
            && next_index >= range.1
            && !handles.is_empty()
            && handles.iter().all(|h| h.is_finished())
        {
            break;
        }
        if all_online.is_none() && online >= target {
            all_online = Some(crate::latency::secs(started.elapsed().as_secs_f64()));
        }
        sampler.maybe(&shared.stats);
        if Instant::now() >= next_tick {
            next_tick += cfg.tick;
            let mut live = shared.stats.live();
            let now = Instant::now();
            let dt = (now - last_tick.0).as_secs_f64().max(1e-9);
            live.elapsed_s = crate::latency::secs(started.elapsed().as_secs_f64());
            live.target = target;
            live.started = u64::from(next_index - range.0);
            live.out_per_s = crate::latency::rate((live.msgs_out - last_tick.1) as f64 / dt);
            live.in_per_s = crate::latency::rate((live.msgs_in - last_tick.2) as f64 / dt);
            last_tick = (now, live.msgs_out, live.msgs_in);
            on_tick(&live);
        }
        let over = tokio::select! {
            _ = poll.tick() => false,
            _ = &mut shutdown => true,
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600))), if deadline.is_some() => true,
        };
        if over {
            break;
        }
    }
    let elapsed = crate::latency::secs(started.elapsed().as_secs_f64());
    let series = sampler.finish(&shared.stats);
    let online_at_end = shared.stats.online.load(Relaxed).max(0) as u64;
    let _ = stop_tx.send(true);
    // Every device says goodbye (Disconnect); a device stuck in a dead
    // connection gets the connect timeout and a little more.
    let grace = cfg.options.connect_timeout + Duration::from_secs(5);
    let mut results: Vec<DeviceResult> = Vec::with_capacity(handles.len());
    let joined = tokio::time::timeout(grace, async {
        for h in handles.iter_mut() {
            if let Ok(r) = h.await {
                results.push(r);
            }
        }
    })
    .await;
    if joined.is_err() {
        for h in &handles {
            h.abort();
        }
        shared.stats.error("device did not stop in time");
    }

    let mut report = Report::from_stats(
        &shared.stats,
        &names_out,
        &names_in,
        &sc.name,
        &cfg.options.endpoint.to_string(),
        cfg.shard,
        cfg.devices,
    );
    report.devices = target;
    report.elapsed_s = elapsed;
    report.online_at_end = online_at_end;
    report.peak_online = peak;
    report.all_online_s = all_online;
    report.series = series;

    if let Some(v) = verifier {
        let expected: u64 = results
            .iter()
            .map(|r| {
                v.periodic
                    .iter()
                    .map(|&p| r.sent.get(p).copied().unwrap_or(0))
                    .sum::<u64>()
            })
            .sum();
        let _ = v.finish.send(expected);
        let (seen, distinct) = v.task.await.unwrap_or_default();
        if v.client.is_closed() {
            // It does not reconnect: what was published after this is unseen.
            report
                .errors
                .insert("verify subscriber disconnected".into(), 1);
        }
        v.client.disconnect("").await;
        let mut vr = VerifyReport {
            topics: v.topics.clone(),
            expected,
            received: distinct,
            ..VerifyReport::default()
        };
        for r in &results {
            let mut lost_here = 0;
            for &p in &v.periodic {
                let sent = r.sent.get(p).copied().unwrap_or(0);
                let t = seen.get(&(p, r.index)).copied().unwrap_or_default();
                lost_here += sent.saturating_sub(t.received);
                vr.duplicated += t.duplicated;
            }
            vr.lost += lost_here;
            if lost_here > 0 {
                vr.devices_with_loss += 1;
            }
        }
        shared.stats.verify_lost.store(vr.lost, Relaxed);
        report.verify = Some(vr);
    }
    results.sort_by_key(|r| r.index);
    report.device_list = results
        .into_iter()
        .map(|r| DeviceRow {
            index: r.index,
            uid: r.uid,
            connects: r.connects,
            sent: r.sent.iter().sum(),
            failed: r.failed,
        })
        .collect();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_index_once() {
        for fleet in [0u32, 1, 7, 10, 1001] {
            for n in 1..=9u32 {
                let mut covered = Vec::new();
                for i in 0..n {
                    let (a, b) = shard_range(fleet, i, n);
                    covered.extend(a..b);
                }
                assert_eq!(
                    covered,
                    (0..fleet).collect::<Vec<_>>(),
                    "fleet {fleet} in {n}"
                );
            }
        }
    }
}
