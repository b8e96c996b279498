//! Live metrics: `--metrics-listen ADDR` serves `GET /metrics` in the
//! OpenMetrics text format (which Prometheus scrapes) while a command runs.
//!
//! Nothing here counts: each source reads an engine's own live counters at
//! scrape time ([`Fleet`]: the fleet's `Stats`; [`Bench`]: `bench::Live`;
//! [`Rpc`]: the RPC load generator's `LoadLive`;
//! [`BrokerSource`]: `Broker::stats`), except [`Trace`], which counts the
//! updates a trace consumer hands it (a tracer's stream has no counters of its
//! own). A command calls [`bind`] at its start (an address in use fails before
//! any work), builds its sources, calls [`Bound::serve`] (or [`start`] for
//! both at once) and keeps the returned [`Server`] alive for the run; adding
//! metrics to another command is a source of a few lines and one [`start`]
//! call. Every name has the `smqctl_` prefix
//! and its unit in it; the README's "Live metrics" table lists them all, and
//! [`NAMES`] is the same list for tests (the Grafana dashboard's check).
//!
//! May import: `fleet` (Probe, the live Stats), `bench` (Live), `client`
//! (the RPC load run's LoadLive), `broker`
//! (Broker::stats), `trace` (schema kinds, source updates), `latency`. Never
//! `commands`, `cli` or `args`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::latency::Latency;

type Fmt = std::fmt::Result;

/// Every metric smqctl serves, without the `smqctl_` prefix and the sample
/// suffixes (`_total`, `_bucket`, `_sum`, `_count`).
pub const NAMES: &[&str] = &[
    "fleet_devices",
    "fleet_devices_online",
    "fleet_devices_connecting",
    "fleet_connects",
    "fleet_reconnects",
    "fleet_messages_sent",
    "fleet_messages_received",
    "fleet_commands",
    "fleet_replies",
    "fleet_errors",
    "fleet_connect_seconds",
    "fleet_ready_seconds",
    "fleet_request_seconds",
    "fleet_verify_received",
    "fleet_verify_duplicated",
    "fleet_verify_lost",
    "bench_connections",
    "bench_messages_sent",
    "bench_messages_received",
    "bench_messages_lost",
    "bench_latency_seconds",
    "bench_rpc_calls",
    "bench_rpc_latency_seconds",
    "broker_connections",
    "broker_connections_accepted",
    "broker_topics",
    "broker_publishes",
    "broker_deliveries",
    "broker_drops",
    "broker_queue_full_drops",
    "broker_tracers",
    "trace_events",
    "trace_skipped_events",
    "trace_attaches",
    "trace_reconnects",
];

/// Latency bucket bounds in seconds (Prometheus histograms: real buckets,
/// counted from the engine's HDR histogram at each scrape).
const BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> Fmt {
    let c = ConstCounter::new(v);
    c.encode(e.encode_descriptor(name, help, None, c.metric_type())?)
}

fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, v: i64) -> Fmt {
    let g = ConstGauge::new(v);
    g.encode(e.encode_descriptor(name, help, None, g.metric_type())?)
}

/// One counter per label value (`label="value"`).
fn counters_by(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &str,
    values: &[(&str, u64)],
) -> Fmt {
    let mut m = e.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (value, n) in values {
        ConstCounter::new(*n).encode(m.encode_family(&[(label, *value)])?)?;
    }
    Ok(())
}

/// A histogram in seconds from a latency summary's recorded values.
fn histogram(e: &mut DescriptorEncoder, name: &str, help: &str, lat: &Latency) -> Fmt {
    let mut per = [0u64; BUCKETS.len() + 1];
    let mut sum = 0.0;
    let mut count = 0;
    for (us, n) in lat.buckets() {
        let secs = us as f64 / 1e6;
        sum += secs * n as f64;
        count += n;
        let i = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        per[i] += n;
    }
    let buckets: Vec<(f64, u64)> = BUCKETS
        .iter()
        .copied()
        .chain([f64::INFINITY])
        .zip(per)
        .collect();
    let mut m = e.encode_descriptor(name, help, None, MetricType::Histogram)?;
    m.encode_histogram::<prometheus_client::encoding::NoLabelSet>(sum, count, &buckets, None)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fleet run (`simulate`): reads the fleet's live `Stats` once the run has
/// started (before that: no fleet metrics).
#[derive(Debug, Clone)]
pub struct Fleet(pub crate::fleet::Probe);

impl Collector for Fleet {
    fn encode(&self, mut e: DescriptorEncoder) -> Fmt {
        let Some(o) = self.0.get() else {
            return Ok(());
        };
        let s = &o.stats;
        use std::sync::atomic::Ordering::Relaxed;
        let e = &mut e;
        gauge(
            e,
            "fleet_devices",
            "Devices of this process (the shard)",
            o.target as i64,
        )?;
        gauge(
            e,
            "fleet_devices_online",
            "Devices connected now",
            s.online.load(Relaxed).max(0),
        )?;
        gauge(
            e,
            "fleet_devices_connecting",
            "Devices connecting now",
            s.connecting.load(Relaxed).max(0),
        )?;
        counter(
            e,
            "fleet_connects",
            "Successful connects (first ones and reconnects)",
            s.connects.load(Relaxed),
        )?;
        let by_cause = s.reconnects_by_cause();
        let causes: Vec<(&str, u64)> = crate::fleet::report::RECONNECT_CAUSES
            .iter()
            .copied()
            .zip(by_cause)
            .collect();
        counters_by(
            e,
            "fleet_reconnects",
            "Reconnects by the cause of the drop before them",
            "cause",
            &causes,
        )?;
        let out = s.kinds_out();
        let kinds: Vec<(&str, u64)> = o.kinds_out.iter().map(String::as_str).zip(out).collect();
        counters_by(
            e,
            "fleet_messages_sent",
            "Messages published by the devices, by kind",
            "kind",
            &kinds,
        )?;
        counter(
            e,
            "fleet_messages_received",
            "Messages the devices received",
            s.msgs_in.load(Relaxed),
        )?;
        let cmds = s.kinds_in();
        let cmds: Vec<(&str, u64)> = o.commands.iter().map(String::as_str).zip(cmds).collect();
        counters_by(
            e,
            "fleet_commands",
            "Commands the devices handled, by rule",
            "command",
            &cmds,
        )?;
        counter(
            e,
            "fleet_replies",
            "Replies the devices sent",
            s.replies.load(Relaxed),
        )?;
        counters_by(
            e,
            "fleet_errors",
            "Errors by kind",
            "kind",
            &s.errors_by_kind(),
        )?;
        histogram(
            e,
            "fleet_connect_seconds",
            "Time to connect",
            &lock(&s.connect_latency),
        )?;
        histogram(
            e,
            "fleet_ready_seconds",
            "Time from connect start to the ready message",
            &lock(&s.ready_latency),
        )?;
        histogram(
            e,
            "fleet_request_seconds",
            "Correlated request latency (request to its answer)",
            &lock(&s.request_latency),
        )?;
        counter(
            e,
            "fleet_verify_received",
            "--verify: distinct reports received",
            s.verify_received.load(Relaxed),
        )?;
        counter(
            e,
            "fleet_verify_duplicated",
            "--verify: duplicate reports",
            s.verify_duplicated.load(Relaxed),
        )?;
        gauge(
            e,
            "fleet_verify_lost",
            "--verify: reports sent and never received (set when the run ends)",
            s.verify_lost.load(Relaxed) as i64,
        )?;
        Ok(())
    }
}

/// A bench run (`bench pubsub`, `bench connections`).
#[derive(Debug, Clone)]
pub struct Bench(pub Arc<crate::bench::Live>);

impl Collector for Bench {
    fn encode(&self, mut e: DescriptorEncoder) -> Fmt {
        use std::sync::atomic::Ordering::Relaxed;
        let l = &self.0;
        let e = &mut e;
        gauge(
            e,
            "bench_connections",
            "Connections open now",
            l.connections.load(Relaxed) as i64,
        )?;
        counter(
            e,
            "bench_messages_sent",
            "Messages published",
            l.sent.load(Relaxed),
        )?;
        counter(
            e,
            "bench_messages_received",
            "Messages received by the subscribers",
            l.received.load(Relaxed),
        )?;
        gauge(
            e,
            "bench_messages_lost",
            "Deliveries that never arrived (set when the run ends)",
            l.lost.load(Relaxed) as i64,
        )?;
        histogram(
            e,
            "bench_latency_seconds",
            "One-way publish to receive latency",
            &l.latency(),
        )
    }
}

/// A load run of calls (`bench rpc`): the load generator's live counts.
#[derive(Debug, Clone)]
pub struct Rpc(pub Arc<crate::client::rpc::LoadLive>);

impl Collector for Rpc {
    fn encode(&self, mut e: DescriptorEncoder) -> Fmt {
        use std::sync::atomic::Ordering::Relaxed;
        let l = &self.0;
        let e = &mut e;
        counters_by(
            e,
            "bench_rpc_calls",
            "Calls ended, by result",
            "result",
            &[
                ("ok", l.ok.load(Relaxed)),
                ("error", l.remote.load(Relaxed)),
                ("timeout", l.timeout.load(Relaxed)),
                ("lost", l.lost.load(Relaxed)),
                ("not_sent", l.not_sent.load(Relaxed)),
                ("no_id", l.no_id.load(Relaxed)),
            ],
        )?;
        histogram(
            e,
            "bench_rpc_latency_seconds",
            "Call to reply latency of the answered calls",
            &lock(&l.latency),
        )
    }
}

/// The embedded broker (`broker`): its own counters ([`crate::broker::BrokerStats`]).
#[derive(Clone)]
pub struct BrokerSource(pub crate::broker::Broker);

impl std::fmt::Debug for BrokerSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> Fmt {
        f.write_str("BrokerSource")
    }
}

impl Collector for BrokerSource {
    fn encode(&self, mut e: DescriptorEncoder) -> Fmt {
        let s = self.0.stats();
        let e = &mut e;
        gauge(
            e,
            "broker_connections",
            "Clients connected now",
            s.connections as i64,
        )?;
        counter(
            e,
            "broker_connections_accepted",
            "Clients accepted since start",
            s.connections_total,
        )?;
        gauge(e, "broker_topics", "Topics known now", s.topics as i64)?;
        counter(
            e,
            "broker_publishes",
            "Publishes routed (clients and server)",
            s.published,
        )?;
        counter(
            e,
            "broker_deliveries",
            "Copies handed to receivers",
            s.delivered,
        )?;
        counters_by(
            e,
            "broker_drops",
            "Publishes nobody received, by reason",
            "reason",
            &[
                ("no_receiver", s.drops.no_receiver),
                ("too_large", s.drops.too_large),
                ("handler_recursion", s.drops.recursion),
            ],
        )?;
        counter(
            e,
            "broker_queue_full_drops",
            "Copies not queued because a receiver's queue was full",
            s.queue_full,
        )?;
        gauge(
            e,
            "broker_tracers",
            "Tracers attached now",
            s.tracers as i64,
        )
    }
}

/// A trace consumer (`trace`, `tui`): counts what its source reports, as
/// the consumer hands it over ([`Trace::observe`]).
#[derive(Debug, Clone, Default)]
pub struct Trace(Arc<Mutex<TraceCounts>>);

#[derive(Debug, Default)]
struct TraceCounts {
    events: BTreeMap<String, u64>,
    skipped: u64,
    attaches: u64,
    reconnects: u64,
}

impl Trace {
    /// Counts one update of the trace source.
    pub fn observe(&self, u: &crate::trace::source::Update) {
        use crate::trace::schema::Kind;
        use crate::trace::source::{Status, Update};
        let mut c = lock(&self.0);
        match u {
            Update::Event(ev) => {
                *c.events.entry(ev.kind.to_string()).or_default() += 1;
                if ev.kind == Kind::Notice {
                    c.skipped += ev.skipped.unwrap_or(0);
                }
            }
            Update::Status(Status::Attached { .. }) => c.attaches += 1,
            Update::Status(Status::Reconnecting { .. }) => c.reconnects += 1,
            Update::Status(_) => {}
        }
    }
}

impl Collector for Trace {
    fn encode(&self, mut e: DescriptorEncoder) -> Fmt {
        let c = lock(&self.0);
        let e = &mut e;
        let kinds: Vec<(&str, u64)> = c.events.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        counters_by(
            e,
            "trace_events",
            "Trace events received, by kind",
            "kind",
            &kinds,
        )?;
        counter(
            e,
            "trace_skipped_events",
            "Events the broker's tracer skipped (its queue to us was full)",
            c.skipped,
        )?;
        counter(
            e,
            "trace_attaches",
            "Times a broker-side tracer attached",
            c.attaches,
        )?;
        counter(
            e,
            "trace_reconnects",
            "Reconnects of the trace connection",
            c.reconnects,
        )
    }
}

/// The running `/metrics` endpoint; dropping it stops the server.
pub struct Server {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// The address it is bound to (the real port when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The scrape answer: the registry in OpenMetrics text.
pub fn render(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail; a source's error would be a bug.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    out
}

/// The `--metrics-listen` socket, bound at a command's start (so an address
/// in use fails before any work is done) and served once the command's
/// sources exist ([`Bound::serve`]).
#[derive(Debug)]
pub struct Bound {
    listener: tokio::net::TcpListener,
    command: &'static str,
}

/// Binds `--metrics-listen`'s address for `command`; `None`: no
/// `--metrics-listen`. An address that cannot be bound is an error naming the
/// flag, the address and the cause (`address already in use`): exit 1, as
/// `broker --listen` on a port in use.
pub async fn bind(addr: Option<SocketAddr>, command: &'static str) -> Result<Option<Bound>> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!(crate::text::listen_error(
            "--metrics-listen",
            &addr.to_string(),
            &e
        ))
    })?;
    Ok(Some(Bound { listener, command }))
}

impl Bound {
    /// Serves `sources` at `http://ADDR/metrics` until the returned [`Server`]
    /// is dropped, and says where on stderr (`smqctl COMMAND: metrics at ...`).
    pub fn serve(self, sources: Vec<Box<dyn Collector>>) -> Result<Server> {
        let mut registry = Registry::with_prefix("smqctl");
        for s in sources {
            registry.register_collector(s);
        }
        let command = self.command;
        let server = serve_on(self.listener, registry)
            .with_context(|| format!("--metrics-listen: smqctl {command} cannot serve"))?;
        eprintln!(
            "smqctl {command}: metrics at http://{}/metrics",
            server.addr()
        );
        if !server.addr().ip().is_loopback() {
            eprintln!(
                "smqctl {command}: note: the metrics on {} are reachable from other hosts",
                server.addr().ip()
            );
        }
        Ok(server)
    }
}

/// [`bind`] and [`Bound::serve`] at once, for a command whose sources exist
/// before any work starts.
pub async fn start(
    addr: Option<SocketAddr>,
    command: &'static str,
    sources: Vec<Box<dyn Collector>>,
) -> Result<Option<Server>> {
    bind(addr, command)
        .await?
        .map(|b| b.serve(sources))
        .transpose()
}

/// Answers `GET /metrics` on `listener` (404 elsewhere) with `registry`.
fn serve_on(listener: tokio::net::TcpListener, registry: Registry) -> std::io::Result<Server> {
    let addr = listener.local_addr()?;
    let registry = Arc::new(registry);
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    // An accept error (out of descriptors) is retried after a pause.
                    let Ok((stream, _)) = accepted else {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    };
                    let registry = registry.clone();
                    conns.spawn(async move {
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let svc = hyper::service::service_fn(move |req| {
                            let registry = registry.clone();
                            async move { Ok::<_, Infallible>(answer(&req, &registry)) }
                        });
                        // A slow or silent scraper holds its own connection only.
                        let serve = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, svc);
                        let _ = tokio::time::timeout(std::time::Duration::from_secs(60), serve).await;
                    });
                }
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
    });
    Ok(Server { addr, task })
}

fn answer(req: &Request<Incoming>, registry: &Registry) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, kind: &str, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        if let Ok(v) = kind.parse() {
            r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
        }
        r
    };
    match (req.method(), req.uri().path()) {
        (&hyper::Method::GET | &hyper::Method::HEAD, "/metrics") => reply(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            render(registry),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "smqctl serves /metrics only\n".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_count_the_recorded_latencies_cumulatively() {
        let mut lat = Latency::new();
        lat.record(std::time::Duration::from_micros(300));
        lat.record(std::time::Duration::from_millis(3));
        lat.record(std::time::Duration::from_secs(90));
        #[derive(Debug)]
        struct One(Latency);
        impl Collector for One {
            fn encode(&self, mut e: DescriptorEncoder) -> Fmt {
                histogram(&mut e, "x_seconds", "x", &self.0)
            }
        }
        let mut r = Registry::with_prefix("smqctl");
        r.register_collector(Box::new(One(lat)));
        let text = render(&r);
        assert!(
            text.contains("smqctl_x_seconds_bucket{le=\"0.0005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("smqctl_x_seconds_bucket{le=\"0.005\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("smqctl_x_seconds_bucket{le=\"60.0\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("smqctl_x_seconds_bucket{le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("smqctl_x_seconds_count 3\n"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
