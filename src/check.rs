//! The engine of `smqctl check`: is an SMQ broker healthy ([`run_check`]),
//! and how does it behave ([`run_probe`], a conformance report from
//! SMQ-PROTOCOL.md).
//!
//! [`run_check`] connects with the ordinary client over the URL's transport,
//! times the connect, publishes to `self` and to a fresh topic and waits for
//! each to come back (the round trip), then, when asked, calls an RPC,
//! sends a named request and checks fields of its reply, attaches as a tracer
//! and reads subscriber counts from its snapshot. Each becomes an [`Item`]
//! with a nagios-like [`Status`]; `--warn`/`--critical` [`Thresholds`] grade
//! the times. [`run_probe`] opens raw packet sessions (the transport floor,
//! no client smarts) to see what the broker does with edge cases: the other
//! transport, the largest payload, PubFrag, the server ETID, Observe counts,
//! same-UID takeover, a forged ptid, Ping, a silent connection.
//!
//! Neither ever sends Unobserve: on Mako, the only observer's Unobserve
//! removes the ID from the routing table (`tidT[tid] = nil`), cutting off a
//! topic's subscribers or the broker's own client; an observation ends with
//! the connection instead.
//!
//! Every wait has a deadline (the config's `timeout`); where the broker's
//! answer is "nothing", a Ping sent after the packet is the barrier: the
//! broker answers in order, so a Pong first means nothing else is coming.
//! Plain config in, plain report out; the command prints.
//!
//! May import: `client`, `transport`, `protocol`, `trace` (the attach request
//! and snapshot of the trace schema).

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::client::rpc::{Call, CallError, CallSpec, Caller, Target};
use crate::client::{self, Client, ClientError, ClientOptions, Dest, Event};
use crate::protocol::{self, Connect, ConnectVersion, MAX_PAYLOAD, Packet, Publish};
use crate::trace::schema::{self, AttachRequest, Kind, Snapshot};
use crate::transport::{self, Endpoint, PacketReader, PacketWriter, Scheme};

/// Sub-topic of the check's own echo messages.
const SUB_CHECK: &str = "smqctl.check";

/// Nagios states, in rising order of trouble (`max` is the overall state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        }
    }
}

/// What went wrong with an item (the command maps it to an exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// No answer within the timeout.
    Timeout,
    /// A handler answered with `err`.
    Remote,
    /// An answer that is not the expected one (`--expect`, `--subscribers`).
    Mismatch,
    /// No trace source answered the attach request.
    NoTracer,
    /// A time beyond its `--critical` threshold.
    Threshold,
    /// The connection went during the check.
    Lost,
}

/// One line of the check.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub check: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// `--warn` / `--critical`: the longest connect and round trip still at the
/// better state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Thresholds {
    pub connect: Option<Duration>,
    pub rtt: Option<Duration>,
}

impl Thresholds {
    /// Adds `rtt=50ms`, `connect=1s`, a bare `50ms` (round trip), or several
    /// of them comma-separated.
    pub fn add(&mut self, spec: &str) -> Result<(), String> {
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (what, d) = match part.split_once('=') {
                Some((w, d)) => (w.trim(), d.trim()),
                None => ("rtt", part),
            };
            let d = crate::text::parse_duration(d)
                .map_err(|e| format!("'{part}': {e} (e.g. rtt=50ms or connect=1s)"))?;
            match what {
                "rtt" => self.rtt = Some(d),
                "connect" => self.connect = Some(d),
                other => {
                    return Err(format!(
                        "'{part}': '{other}' is not a threshold (rtt or connect)"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// `--expect PATH=VALUE` on a `--request` reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// Dotted path into the reply JSON (`rows.0.site`; `$.rows[0].site` too).
    pub path: String,
    pub value: Value,
}

/// Parses `PATH=VALUE`; VALUE is JSON when it parses as JSON, else text.
pub fn parse_expect(s: &str) -> Result<Expect, String> {
    let (path, value) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not PATH=VALUE (e.g. rows.0.site=alpha)"))?;
    let path = path.trim();
    let path = path
        .strip_prefix("$.")
        .or(path.strip_prefix('$'))
        .unwrap_or(path);
    let path = path.replace('[', ".").replace(']', "");
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(format!("'{s}': the path is empty or has an empty step"));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.into()));
    Ok(Expect { path, value })
}

/// The value at a dotted path (object keys, array indexes).
pub fn at_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, seg| match cur {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// `--subscribers TOPIC>=N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberMin {
    pub topic: String,
    pub min: u32,
}

pub fn parse_subscribers(s: &str) -> Result<SubscriberMin, String> {
    let (topic, n) = s
        .split_once(">=")
        .ok_or_else(|| format!("'{s}' is not TOPIC>=N (e.g. DeviceState>=1)"))?;
    let min = n
        .trim()
        .parse()
        .map_err(|_| format!("'{s}': '{}' is not a count", n.trim()))?;
    if topic.is_empty() {
        return Err(format!("'{s}': no topic before >="));
    }
    Ok(SubscriberMin {
        topic: topic.to_string(),
        min,
    })
}

/// A named request and what its reply must hold.
#[derive(Debug, Clone)]
pub struct RequestCheck {
    pub name: String,
    pub payload: Bytes,
    pub response: String,
    pub expect: Vec<Expect>,
}

/// What [`run_check`] checks.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    pub opts: ClientOptions,
    pub server_etid: u32,
    /// Every wait: an echo, a reply, the tracer's snapshot.
    pub timeout: Duration,
    /// `--rpc NAME [ARGS]`: a correlated call that must be answered.
    pub rpc: Option<(String, Vec<Value>)>,
    pub request: Option<RequestCheck>,
    pub tracer: bool,
    pub subscribers: Vec<SubscriberMin>,
    pub warn: Thresholds,
    pub critical: Thresholds,
}

/// What [`run_check`] found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub url: String,
    pub etid: u32,
    #[serde(rename = "connect_s", serialize_with = "secs")]
    pub connect: Duration,
    /// Publish to our own ETID until it came back.
    #[serde(rename = "rtt_self_s", serialize_with = "opt_secs")]
    pub rtt_self: Option<Duration>,
    /// Publish to a fresh topic we subscribed to until it came back.
    #[serde(rename = "rtt_topic_s", serialize_with = "opt_secs")]
    pub rtt_topic: Option<Duration>,
    pub items: Vec<Item>,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(crate::latency::secs(d.as_secs_f64()))
}

fn opt_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => secs(d, s),
        None => s.serialize_none(),
    }
}

impl CheckReport {
    /// The worst state of any item.
    pub fn status(&self) -> Status {
        self.items
            .iter()
            .map(|i| i.status)
            .max()
            .unwrap_or(Status::Ok)
    }

    /// The round trip the thresholds grade: the slower of the two.
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt_self.max(self.rtt_topic)
    }
}

fn item(check: &str, status: Status, detail: String, failure: Option<Failure>) -> Item {
    Item {
        check: check.into(),
        status,
        detail,
        failure,
    }
}

/// A duration the user gave (a threshold, a timeout), as they would write it.
fn given(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Grades a time against the thresholds.
fn grade(d: Duration, warn: Option<Duration>, crit: Option<Duration>) -> (Status, String) {
    if let Some(c) = crit
        && d > c
    {
        return (Status::Critical, format!(" (over --critical {})", given(c)));
    }
    if let Some(w) = warn
        && d > w
    {
        return (Status::Warning, format!(" (over --warn {})", given(w)));
    }
    (Status::Ok, String::new())
}

/// Runs the check. An error is a broker that could not be reached (or
/// refused us): nothing was checked.
pub async fn run_check(cfg: &CheckConfig) -> Result<CheckReport, ClientError> {
    let started = Instant::now();
    let (client, mut events) = Client::connect(&cfg.opts).await?;
    let connect = started.elapsed();
    let mut report = CheckReport {
        url: cfg.opts.endpoint.to_string(),
        etid: client.etid(),
        connect,
        rtt_self: None,
        rtt_topic: None,
        items: Vec::new(),
    };
    let (status, over) = grade(connect, cfg.warn.connect, cfg.critical.connect);
    report.items.push(item(
        "connect",
        status,
        format!("connected in {}{over}, ETID {}", ms(connect), client.etid()),
        (status == Status::Critical).then_some(Failure::Threshold),
    ));
    let result = checks(cfg, &client, &mut events, &mut report).await;
    client.disconnect("").await;
    if let Err(e) = result {
        report.items.push(item(
            "connection",
            Status::Critical,
            format!("lost during the check: {e}"),
            Some(Failure::Lost),
        ));
    }
    Ok(report)
}

async fn checks(
    cfg: &CheckConfig,
    client: &Client,
    events: &mut mpsc::Receiver<Event>,
    report: &mut CheckReport,
) -> Result<(), ClientError> {
    // `self`: a direct message to our own ETID.
    let mut own = client.subscribe("self", Some(SUB_CHECK)).await?;
    let rtt = echo(
        client,
        Dest::Topic("self"),
        Some(SUB_CHECK),
        &mut own.rx,
        cfg.timeout,
    )
    .await?;
    report.rtt_self = rtt;
    report.items.push(echo_item("self", rtt, cfg));
    // A fresh topic: subscribed (Suback) before the publish.
    let topic = format!("smqctl-check-{:08x}", rand::random::<u32>());
    let mut sub = client.subscribe(&topic, None).await?;
    let rtt = echo(
        client,
        Dest::Id(sub.info.tid),
        None,
        &mut sub.rx,
        cfg.timeout,
    )
    .await?;
    report.rtt_topic = rtt;
    report.items.push(echo_item("topic", rtt, cfg));
    client.unsubscribe(sub.info.tid).await?;

    if let Some((name, args)) = &cfg.rpc {
        let spec = CallSpec {
            call: Call::Correlated {
                name: name.clone(),
                args: args.clone(),
            },
            to: Target::Server(cfg.server_etid),
            request: protocol::rpc::RPC_REQ.into(),
            response: protocol::rpc::RPC_RESP.into(),
            timeout: cfg.timeout,
            collect: false,
        };
        let what = format!("rpc {name}");
        report.items.push(call_item(&what, client, spec, &[]).await);
    }
    if let Some(req) = &cfg.request {
        let spec = CallSpec {
            call: Call::Named {
                payload: req.payload.clone(),
                object: None,
                id_field: None,
            },
            to: Target::Server(cfg.server_etid),
            request: req.name.clone(),
            response: req.response.clone(),
            timeout: cfg.timeout,
            collect: false,
        };
        let what = format!("request {}", req.name);
        report
            .items
            .push(call_item(&what, client, spec, &req.expect).await);
    }
    if cfg.tracer || !cfg.subscribers.is_empty() {
        let snapshot = attach(client, cfg).await?;
        if cfg.tracer {
            report.items.push(match &snapshot {
                Ok(s) => item(
                    "tracer",
                    Status::Ok,
                    format!(
                        "a trace source attached: {} topic(s), {} client(s){}",
                        s.topics.len(),
                        s.clients.len(),
                        s.server_etid
                            .map(|e| format!(", server ETID {e}"))
                            .unwrap_or_default()
                    ),
                    None,
                ),
                Err(why) => item(
                    "tracer",
                    Status::Critical,
                    why.clone(),
                    Some(Failure::NoTracer),
                ),
            });
        }
        for want in &cfg.subscribers {
            let counted = match &snapshot {
                Ok(s) => s
                    .topics
                    .iter()
                    .find(|t| t.name == want.topic)
                    .map(|t| (t.subscribers, "the tracer's snapshot")),
                Err(_) => None,
            };
            let (count, source) = match counted {
                Some((Some(n), source)) => (Some(n), source),
                // No tracer, or it does not count: ask the broker (Observe).
                _ => (
                    observe_count(client, events, &want.topic, cfg.timeout).await?,
                    "Observe",
                ),
            };
            let check = format!("subscribers {}", want.topic);
            report.items.push(match count {
                Some(n) if n >= want.min => item(
                    &check,
                    Status::Ok,
                    format!("{n} subscriber(s), want >= {} ({source})", want.min),
                    None,
                ),
                Some(n) => item(
                    &check,
                    Status::Critical,
                    format!("{n} subscriber(s), want >= {} ({source})", want.min),
                    Some(Failure::Mismatch),
                ),
                None => item(
                    &check,
                    Status::Critical,
                    format!("no count within {}", given(cfg.timeout)),
                    Some(Failure::Timeout),
                ),
            });
        }
    }
    Ok(())
}

fn echo_item(what: &str, rtt: Option<Duration>, cfg: &CheckConfig) -> Item {
    let to = if what == "self" {
        "to self (our ETID)"
    } else {
        "to a fresh topic"
    };
    match rtt {
        Some(d) => {
            let (status, over) = grade(d, cfg.warn.rtt, cfg.critical.rtt);
            item(
                what,
                status,
                format!("a publish {to} came back in {}{over}", ms(d)),
                (status == Status::Critical).then_some(Failure::Threshold),
            )
        }
        None => item(
            what,
            Status::Critical,
            format!(
                "a publish {to} did not come back within {}",
                given(cfg.timeout)
            ),
            Some(Failure::Timeout),
        ),
    }
}

/// Publishes a nonce and waits for it on `rx`: the round trip, or None.
async fn echo(
    client: &Client,
    dest: Dest<'_>,
    subtopic: Option<&str>,
    rx: &mut mpsc::Receiver<client::Message>,
    timeout: Duration,
) -> Result<Option<Duration>, ClientError> {
    let nonce = format!("smqctl check {:016x}", rand::random::<u64>());
    let started = Instant::now();
    client
        .publish(dest, subtopic, Bytes::from(nonce.clone().into_bytes()))
        .await?;
    client.flush().await?;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(m)) if m.payload == nonce.as_bytes() => return Ok(Some(started.elapsed())),
            Ok(Some(_)) => continue,
            Ok(None) => return Err(ClientError::ConnectionLost("connection closed".into())),
            Err(_) => return Ok(None),
        }
    }
}

async fn call_item(what: &str, client: &Client, spec: CallSpec, expect: &[Expect]) -> Item {
    let timeout = spec.timeout;
    let caller = match Caller::start(client, None, spec).await {
        Ok((caller, _)) => caller,
        Err(e) => {
            return item(
                what,
                Status::Critical,
                format!("cannot set up the call: {e}"),
                Some(Failure::Timeout),
            );
        }
    };
    match caller.call().await {
        Ok(reply) => {
            let body = reply.json.clone().unwrap_or_else(|| {
                Value::String(String::from_utf8_lossy(&reply.msg.payload).into())
            });
            let rsp = if matches!(caller.call_kind(), Call::Correlated { .. }) {
                body.get("rsp").cloned().unwrap_or(Value::Null)
            } else {
                body.clone()
            };
            for e in expect {
                match at_path(&body, &e.path) {
                    Some(v) if same(v, &e.value) => {}
                    got => {
                        return item(
                            what,
                            Status::Critical,
                            format!(
                                "answered in {}, but {} is {} (expected {})",
                                ms(reply.latency),
                                e.path,
                                got.map_or("absent".to_string(), Value::to_string),
                                e.value
                            ),
                            Some(Failure::Mismatch),
                        );
                    }
                }
            }
            let expected = if expect.is_empty() {
                String::new()
            } else {
                format!(", {} expectation(s) met", expect.len())
            };
            item(
                what,
                Status::Ok,
                format!(
                    "answered in {}{expected}: {}",
                    ms(reply.latency),
                    preview(&rsp)
                ),
                None,
            )
        }
        Err(CallError::Remote(err, _)) => item(
            what,
            Status::Critical,
            format!("the handler answered with an error: {err}"),
            Some(Failure::Remote),
        ),
        Err(CallError::Timeout) | Err(CallError::NoId(_)) => item(
            what,
            Status::Critical,
            format!(
                "no answer within {} ({})",
                given(timeout),
                caller.describe()
            ),
            Some(Failure::Timeout),
        ),
        Err(CallError::Lost(r)) | Err(CallError::NotSent(r)) => item(
            what,
            Status::Critical,
            format!("connection lost: {r}"),
            Some(Failure::Lost),
        ),
    }
}

fn preview(v: &Value) -> String {
    let t = v.to_string();
    if t.chars().count() > 80 {
        format!("{}…", t.chars().take(80).collect::<String>())
    } else {
        t
    }
}

/// Attaches as a tracer: the snapshot, or why there is none. Detaches again.
async fn attach(
    client: &Client,
    cfg: &CheckConfig,
) -> Result<Result<Snapshot, String>, ClientError> {
    let (tx, mut rx) = mpsc::channel(64);
    client
        .subscribe_into("self", Some(schema::SUB_EVENTS), tx)
        .await?;
    let body = serde_json::to_vec(&AttachRequest::default()).unwrap_or_default();
    let to = Dest::Id(cfg.server_etid);
    client
        .publish(to, Some(schema::SUB_ATTACH), body.into())
        .await?;
    let answer = tokio::time::timeout(cfg.timeout, rx.recv()).await;
    let _ = client
        .publish(to, Some(schema::SUB_DETACH), Bytes::new())
        .await;
    Ok(match answer {
        Ok(Some(msg)) => match serde_json::from_slice::<schema::Event>(&msg.payload) {
            Ok(ev) if ev.kind == Kind::Snapshot => Ok(ev.snapshot.unwrap_or_default()),
            Ok(ev) => Err(format!(
                "the trace source refused: {}",
                ev.reason.as_deref().unwrap_or("no reason given")
            )),
            Err(e) => Err(format!("the answer is not a trace event: {e}")),
        },
        Ok(None) => return Err(ClientError::ConnectionLost("connection closed".into())),
        Err(_) => Err(format!(
            "no trace source answered at ETID {} within {} (Mako: install the hook, `smqctl hook lua`)",
            cfg.server_etid,
            given(cfg.timeout)
        )),
    })
}

/// A topic's subscriber count from Observe's immediate Change.
async fn observe_count(
    client: &Client,
    events: &mut mpsc::Receiver<Event>,
    topic: &str,
    timeout: Duration,
) -> Result<Option<u32>, ClientError> {
    let tid = client.create(topic).await?;
    client.observe(tid).await?;
    let deadline = tokio::time::Instant::now() + timeout;
    let count = loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(Event::Change { tid: t, count, .. })) if t == tid => break Some(count),
            Ok(Some(Event::Closed { reason, .. })) => {
                return Err(ClientError::ConnectionLost(reason));
            }
            Ok(Some(_)) => continue,
            Ok(None) => return Err(ClientError::ConnectionLost("connection closed".into())),
            Err(_) => break None,
        }
    };
    // No Unobserve (see `server_etid`): on Mako it would drop the topic from
    // routing when we are its only observer. The disconnect ends it.
    Ok(count)
}

// ----- the probe -----

/// A probe line's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Info,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Info => "info",
        }
    }
}

/// One line of the conformance report.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeLine {
    pub verdict: Verdict,
    pub check: String,
    pub detail: String,
}

fn line(verdict: Verdict, check: &str, detail: impl Into<String>) -> ProbeLine {
    ProbeLine {
        verdict,
        check: check.into(),
        detail: detail.into(),
    }
}

/// What [`run_probe`] connects to.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// The URL, TLS and credentials (the raw sessions use these too).
    pub opts: ClientOptions,
    /// Each step's deadline.
    pub timeout: Duration,
    /// The longest a silent connection may stay open (the Connect wait probe).
    pub connect_wait_limit: Duration,
}

/// A raw packet session: the transport floor and hand-made packets.
struct Raw {
    rd: PacketReader,
    wr: PacketWriter,
    etid: u32,
    timeout: Duration,
}

enum Got {
    Packet(Packet),
    Closed,
    Silent,
}

impl Raw {
    /// Connects and completes the handshake with `uid`.
    async fn open(cfg: &ProbeConfig, ep: &Endpoint, uid: &str) -> Result<Raw, String> {
        let (rd, wr) = transport::connect(ep, &cfg.opts.tls, cfg.timeout)
            .await
            .map_err(|e| e.to_string())?;
        let mut r = Raw {
            rd,
            wr,
            etid: 0,
            timeout: cfg.timeout,
        };
        match r.recv().await {
            Got::Packet(Packet::Init(_)) => {}
            Got::Packet(p) => return Err(format!("expected Init, got {}", p.name())),
            Got::Closed => return Err("closed before Init".into()),
            Got::Silent => return Err("no Init".into()),
        }
        let connect = Packet::Connect(Connect {
            version: ConnectVersion::V1,
            uid: Bytes::from(uid.as_bytes().to_vec()),
            credentials: cfg
                .opts
                .credentials
                .as_ref()
                .map(|c| Bytes::from(c.expose().as_bytes().to_vec()))
                .unwrap_or_default(),
            info: Bytes::from_static(b"smqctl check --probe"),
        });
        r.send(&connect).await?;
        match r.recv().await {
            Got::Packet(Packet::Connack(c)) if c.code == 0 => r.etid = c.etid,
            Got::Packet(Packet::Connack(c)) => {
                return Err(format!(
                    "refused: Connack code {} {}",
                    c.code,
                    String::from_utf8_lossy(&c.reason)
                ));
            }
            Got::Packet(p) => return Err(format!("expected Connack, got {}", p.name())),
            Got::Closed => return Err("closed before Connack".into()),
            Got::Silent => return Err("no Connack".into()),
        }
        Ok(r)
    }

    async fn send(&mut self, p: &Packet) -> Result<(), String> {
        self.wr.send(p.to_bytes()).await.map_err(|e| e.to_string())
    }

    async fn recv(&mut self) -> Got {
        self.recv_within(self.timeout).await
    }

    async fn recv_within(&mut self, limit: Duration) -> Got {
        match tokio::time::timeout(limit, self.rd.recv()).await {
            Ok(Ok(Some(body))) => match Packet::decode(body) {
                Ok(p) => Got::Packet(p),
                Err(_) => Got::Closed,
            },
            Ok(Ok(None)) | Ok(Err(_)) => Got::Closed,
            Err(_) => Got::Silent,
        }
    }

    /// Packets until the Pong of a Ping sent now (the broker answers in
    /// order); None when the connection closed or nothing came.
    async fn until_pong(&mut self) -> Option<Vec<Packet>> {
        self.send(&Packet::Ping).await.ok()?;
        let mut seen = Vec::new();
        loop {
            match self.recv().await {
                Got::Packet(Packet::Pong) => return Some(seen),
                Got::Packet(p) => seen.push(p),
                Got::Closed | Got::Silent => return None,
            }
        }
    }

    /// The ack of a Subscribe/Create (its TID), skipping other packets.
    async fn ack(&mut self, p: Packet) -> Result<u32, String> {
        let what = p.name();
        self.send(&p).await?;
        loop {
            match self.recv().await {
                Got::Packet(Packet::Suback(a) | Packet::Createack(a)) if a.accepted() => {
                    return Ok(a.tid);
                }
                Got::Packet(Packet::Suback(_) | Packet::Createack(_)) => {
                    return Err(format!("{what} denied"));
                }
                Got::Packet(_) => continue,
                Got::Closed => return Err(format!("closed after {what}")),
                Got::Silent => return Err(format!("no answer to {what}")),
            }
        }
    }

    /// The next Publish (skipping others), or None.
    async fn next_publish(&mut self) -> Option<Publish> {
        loop {
            match self.recv().await {
                Got::Packet(Packet::Publish(p)) => return Some(p),
                Got::Packet(_) => continue,
                Got::Closed | Got::Silent => return None,
            }
        }
    }

    async fn close(mut self) {
        let _ = self
            .send(&Packet::Disconnect {
                reason: Bytes::new(),
            })
            .await;
        let _ = self.wr.close().await;
    }
}

fn uid() -> String {
    format!("smqctl-probe-{:08x}", rand::random::<u32>())
}

fn other_transport(ep: &Endpoint) -> Endpoint {
    let scheme = match ep.scheme {
        Scheme::Ws => Scheme::Http,
        Scheme::Http => Scheme::Ws,
        Scheme::Wss => Scheme::Https,
        Scheme::Https => Scheme::Wss,
    };
    Endpoint {
        scheme,
        ..ep.clone()
    }
}

fn raw_endpoint(ep: &Endpoint) -> Endpoint {
    if ep.scheme.is_websocket() {
        other_transport(ep)
    } else {
        ep.clone()
    }
}

/// Runs the conformance probe. An error: the URL itself cannot be reached
/// (nothing probed).
pub async fn run_probe(cfg: &ProbeConfig) -> Result<Vec<ProbeLine>, ClientError> {
    // Reachable at all, and not refused: else there is nothing to probe
    // (the client's error keeps its exit code and hint).
    let (client, _events) = Client::connect(&cfg.opts).await?;
    client.disconnect("").await;
    let ep = cfg.opts.endpoint.clone();
    let mut lines = Vec::new();
    // The Connect wait takes seconds: it runs beside the rest.
    let wait = connect_wait(cfg, &ep);
    let rest = async {
        let started = Instant::now();
        let mut main = Raw::open(cfg, &ep, &uid())
            .await
            .map_err(ClientError::Handshake)?;
        lines.push(line(
            Verdict::Pass,
            &format!("transport {}", transport_name(ep.scheme)),
            format!(
                "{ep}: connected in {}, ETID {}",
                ms(started.elapsed()),
                main.etid
            ),
        ));
        let other = other_transport(&ep);
        let started = Instant::now();
        lines.push(match Raw::open(cfg, &other, &uid()).await {
            Ok(r) => {
                let l = line(
                    Verdict::Pass,
                    &format!("transport {}", transport_name(other.scheme)),
                    format!(
                        "{other}: connected in {}, ETID {}",
                        ms(started.elapsed()),
                        r.etid
                    ),
                );
                r.close().await;
                l
            }
            Err(e) => line(
                Verdict::Fail,
                &format!("transport {}", transport_name(other.scheme)),
                format!("{other}: {e} (the same URL serves both transports on Mako)"),
            ),
        });
        lines.push(ping(&mut main).await);
        lines.push(max_payload(&mut main).await);
        lines.push(pubfrag(cfg, &raw_endpoint(&ep)).await);
        lines.push(server_etid(&mut main).await);
        lines.extend(observe_counts(cfg, &ep, &mut main).await);
        lines.push(takeover(cfg, &ep).await);
        lines.push(forged_ptid(cfg, &ep).await);
        main.close().await;
        Ok::<_, ClientError>(())
    };
    let (wait, rest) = tokio::join!(wait, rest);
    rest?;
    lines.push(wait);
    Ok(lines)
}

fn transport_name(s: Scheme) -> &'static str {
    if s.is_websocket() { "websocket" } else { "raw" }
}

async fn ping(main: &mut Raw) -> ProbeLine {
    let started = Instant::now();
    match main.until_pong().await {
        Some(_) => line(
            Verdict::Pass,
            "ping",
            format!("Ping answered with Pong in {}", ms(started.elapsed())),
        ),
        None => line(Verdict::Fail, "ping", "no Pong to a Ping"),
    }
}

/// A payload of exactly 0xFFF0 bytes to ourselves must come back whole.
async fn max_payload(main: &mut Raw) -> ProbeLine {
    let payload = Bytes::from(vec![b'x'; MAX_PAYLOAD]);
    let p = Packet::Publish(Publish {
        tid: main.etid,
        ptid: main.etid,
        subtid: 0,
        payload: payload.clone(),
    });
    if let Err(e) = main.send(&p).await {
        return line(Verdict::Fail, "payload 0xFFF0", format!("cannot send: {e}"));
    }
    match main.next_publish().await {
        Some(p) if p.payload == payload => line(
            Verdict::Pass,
            "payload 0xFFF0",
            "a 65520-byte payload (the largest a raw frame holds) came back whole; smqctl refuses larger ones",
        ),
        Some(p) => line(
            Verdict::Fail,
            "payload 0xFFF0",
            format!("came back with {} bytes instead of 65520", p.payload.len()),
        ),
        None => line(Verdict::Fail, "payload 0xFFF0", "did not come back"),
    }
}

/// Two PubFrags on the raw transport: joined into one Publish.
async fn pubfrag(cfg: &ProbeConfig, raw: &Endpoint) -> ProbeLine {
    let name = "pubfrag (raw)";
    let mut r = match Raw::open(cfg, raw, &uid()).await {
        Ok(r) => r,
        Err(e) => return line(Verdict::Fail, name, format!("{raw}: {e}")),
    };
    let first = Packet::PubFrag(Publish {
        tid: 0,
        ptid: r.etid,
        subtid: 0,
        payload: Bytes::from_static(b"frag-one|"),
    });
    let last = Packet::PubFrag(Publish {
        tid: r.etid,
        ptid: r.etid,
        subtid: 0,
        payload: Bytes::from_static(b"frag-two"),
    });
    let sent = async {
        r.send(&first).await?;
        r.send(&last).await
    }
    .await;
    let out = match sent {
        Err(e) => line(Verdict::Fail, name, format!("cannot send: {e}")),
        Ok(()) => match r.next_publish().await {
            Some(p) if &p.payload[..] == b"frag-one|frag-two" => line(
                Verdict::Pass,
                name,
                "two fragments (destination 0, then the real one) arrived as one Publish",
            ),
            Some(p) => line(
                Verdict::Fail,
                name,
                format!("arrived as {:?}", String::from_utf8_lossy(&p.payload)),
            ),
            None => line(Verdict::Fail, name, "no joined Publish came back"),
        },
    };
    r.close().await;
    out
}

/// Observe ETID 1: an immediate Change (count 0) means nobody has that ETID,
/// so the broker's own client is elsewhere (`rndtid`).
async fn server_etid(main: &mut Raw) -> ProbeLine {
    let name = "rndtid";
    let sent = main
        .send(&Packet::Observe {
            tid: protocol::SERVER_ETID,
        })
        .await;
    let seen = match sent {
        Ok(()) => main.until_pong().await,
        Err(_) => None,
    };
    let out = match seen {
        None => line(Verdict::Fail, name, "no Pong after Observe of ETID 1"),
        Some(seen) => {
            let gone = seen.iter().any(|p| {
                matches!(p, Packet::Change(c) if c.tid == protocol::SERVER_ETID && c.count == 0)
            });
            if gone {
                line(
                    Verdict::Info,
                    name,
                    "rndtid: the server ETID is not 1 (Observe of ETID 1 answered count 0 at once): pass --server-etid to rpc, trace and simulate",
                )
            } else {
                line(
                    Verdict::Info,
                    name,
                    "the server ETID is 1 (no rndtid: Observe of ETID 1 stayed quiet)",
                )
            }
        }
    };
    // No Unobserve: Mako's unobserve by the only observer removes the ID
    // from its routing table (`tidT[tid] = nil`), which for ETID 1 would cut
    // the broker's own client off. The observation ends with the connection.
    out
}

/// Observe a fresh topic from `main`; another connection subscribes,
/// unsubscribes, subscribes and leaves: Change 0, 1, 0, 1, 0.
async fn observe_counts(cfg: &ProbeConfig, ep: &Endpoint, main: &mut Raw) -> Vec<ProbeLine> {
    let name = "observe counts";
    let topic = format!("smqctl-probe-{:08x}", rand::random::<u32>());
    let fail = |d: String| vec![line(Verdict::Fail, name, d)];
    let tid = match main
        .ack(Packet::Create {
            topic: Bytes::from(topic.clone().into_bytes()),
        })
        .await
    {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    if main.send(&Packet::Observe { tid }).await.is_err() {
        return fail("cannot send Observe".into());
    }
    let counts = |seen: &[Packet]| -> Vec<u32> {
        seen.iter()
            .filter_map(|p| match p {
                Packet::Change(c) if c.tid == tid => Some(c.count),
                _ => None,
            })
            .collect()
    };
    let mut got = Vec::new();
    match main.until_pong().await {
        Some(seen) => got.extend(counts(&seen)),
        None => return fail("no Pong after Observe".into()),
    }
    let mut other = match Raw::open(cfg, ep, &uid()).await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let sub = Packet::Subscribe {
        topic: Bytes::from(topic.clone().into_bytes()),
    };
    let steps: [Packet; 3] = [sub.clone(), Packet::Unsubscribe { tid }, sub];
    for step in steps {
        let acked = match step {
            Packet::Subscribe { .. } => other.ack(step).await.map(|_| ()),
            _ => match other.send(&step).await {
                Ok(()) => other.until_pong().await.map(|_| ()).ok_or("no Pong".into()),
                Err(e) => Err(e),
            },
        };
        if let Err(e) = acked {
            return fail(e);
        }
        match main.until_pong().await {
            Some(seen) => got.extend(counts(&seen)),
            None => return fail("no Pong".into()),
        }
    }
    other.close().await;
    // The subscriber's departure: wait for its Change (the close takes a moment).
    loop {
        match main.recv().await {
            Got::Packet(Packet::Change(c)) if c.tid == tid => {
                got.push(c.count);
                break;
            }
            Got::Packet(_) => continue,
            _ => break,
        }
    }
    let want = [0, 1, 0, 1, 0];
    vec![if got == want {
        line(
            Verdict::Pass,
            name,
            "Observe answered 0 at once, then 1 on Subscribe, 0 on Unsubscribe, 1, and 0 when the subscriber left",
        )
    } else {
        line(
            Verdict::Fail,
            name,
            format!(
                "Change counts {got:?}, expected {want:?} (observe, subscribe, unsubscribe, subscribe, leave)"
            ),
        )
    }]
}

/// A second connection with the same UID: same ETID, the first told "reconnect".
async fn takeover(cfg: &ProbeConfig, ep: &Endpoint) -> ProbeLine {
    let name = "same-UID takeover";
    let id = uid();
    let mut first = match Raw::open(cfg, ep, &id).await {
        Ok(r) => r,
        Err(e) => return line(Verdict::Fail, name, e),
    };
    let second = match Raw::open(cfg, ep, &id).await {
        Ok(r) => r,
        Err(e) => return line(Verdict::Fail, name, format!("the second connection: {e}")),
    };
    let reason = loop {
        match first.recv().await {
            Got::Packet(Packet::Disconnect { reason }) => {
                break Some(String::from_utf8_lossy(&reason).into_owned());
            }
            Got::Packet(_) => continue,
            Got::Closed => break Some(String::new()),
            Got::Silent => break None,
        }
    };
    let second_etid = second.etid;
    let same_etid = second_etid == first.etid;
    second.close().await;
    match reason {
        Some(r) if r == "reconnect" && same_etid => line(
            Verdict::Pass,
            name,
            format!(
                "the new connection got the same ETID {}; the old one was told Disconnect \"reconnect\"",
                first.etid
            ),
        ),
        Some(r) => line(
            Verdict::Fail,
            name,
            format!(
                "the old connection ended with {:?}; ETIDs {} and {} (expected the same ETID and \"reconnect\")",
                r, first.etid, second_etid
            ),
        ),
        None => line(
            Verdict::Fail,
            name,
            "the old connection stayed open after the same UID connected again",
        ),
    }
}

/// A Publish whose publisher field is not our ETID: `Disconnect "corrupt frame"`.
async fn forged_ptid(cfg: &ProbeConfig, ep: &Endpoint) -> ProbeLine {
    let name = "ptid forgery";
    let mut r = match Raw::open(cfg, ep, &uid()).await {
        Ok(r) => r,
        Err(e) => return line(Verdict::Fail, name, e),
    };
    let forged = Packet::Publish(Publish {
        tid: r.etid,
        ptid: r.etid.wrapping_add(1).max(2),
        subtid: 0,
        payload: Bytes::from_static(b"forged"),
    });
    if let Err(e) = r.send(&forged).await {
        return line(Verdict::Fail, name, format!("cannot send: {e}"));
    }
    let answer = loop {
        match r.recv().await {
            Got::Packet(Packet::Disconnect { reason }) => {
                break Some(String::from_utf8_lossy(&reason).into_owned());
            }
            Got::Packet(Packet::Publish(_)) => break None,
            Got::Packet(_) => continue,
            Got::Closed => break Some(String::new()),
            Got::Silent => break None,
        }
    };
    match answer {
        Some(r) if r == "corrupt frame" => line(
            Verdict::Pass,
            name,
            "a Publish with another ETID as publisher got Disconnect \"corrupt frame\"",
        ),
        Some(r) => line(
            Verdict::Fail,
            name,
            format!("closed with {r:?} instead of Disconnect \"corrupt frame\""),
        ),
        None => line(
            Verdict::Fail,
            name,
            "the forged Publish was accepted (delivered, or the connection stayed open)",
        ),
    }
}

/// Opens the transport, reads Init and says nothing: the broker must give
/// up on us (Connack 2 and close; Mako waits 4 s).
async fn connect_wait(cfg: &ProbeConfig, ep: &Endpoint) -> ProbeLine {
    let name = "connect wait";
    let (rd, wr) = match transport::connect(ep, &cfg.opts.tls, cfg.timeout).await {
        Ok(pair) => pair,
        Err(e) => return line(Verdict::Fail, name, e.to_string()),
    };
    let mut r = Raw {
        rd,
        wr,
        etid: 0,
        timeout: cfg.timeout,
    };
    let started = Instant::now();
    let mut code = None;
    let closed = loop {
        match r
            .recv_within(cfg.connect_wait_limit.saturating_sub(started.elapsed()))
            .await
        {
            Got::Packet(Packet::Connack(c)) => code = Some(c.code),
            Got::Packet(_) => continue,
            Got::Closed => break true,
            Got::Silent => break false,
        }
    };
    let after = started.elapsed();
    let _ = r.wr.close().await;
    let said = match code {
        Some(c) => format!("Connack code {c}, then closed"),
        None => "closed".into(),
    };
    if closed {
        line(
            Verdict::Pass,
            name,
            format!(
                "a connection that sent no Connect was {said} after {:.1} s (Mako waits 4 s)",
                after.as_secs_f64()
            ),
        )
    } else {
        line(
            Verdict::Fail,
            name,
            format!(
                "a connection that sent no Connect was still open after {:.1} s",
                after.as_secs_f64()
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thresholds_take_rtt_and_connect_and_a_bare_duration_is_rtt() {
        let mut t = Thresholds::default();
        t.add("50ms").expect("bare");
        assert_eq!(t.rtt, Some(Duration::from_millis(50)));
        t.add("connect=2s, rtt=1s").expect("both");
        assert_eq!(
            (t.connect, t.rtt),
            (Some(Duration::from_secs(2)), Some(Duration::from_secs(1)))
        );
        assert!(
            t.add("latency=1s")
                .expect_err("unknown")
                .contains("rtt or connect")
        );
        assert!(t.add("rtt=fast").is_err());
    }

    #[test]
    fn grading_is_critical_over_critical_then_warning_over_warn() {
        let (w, c) = (
            Some(Duration::from_millis(10)),
            Some(Duration::from_millis(20)),
        );
        assert_eq!(grade(Duration::from_millis(5), w, c).0, Status::Ok);
        assert_eq!(grade(Duration::from_millis(15), w, c).0, Status::Warning);
        assert_eq!(grade(Duration::from_millis(25), w, c).0, Status::Critical);
        assert_eq!(grade(Duration::from_secs(99), None, None).0, Status::Ok);
        assert!(Status::Ok < Status::Warning && Status::Critical < Status::Unknown);
        assert_eq!(
            [
                Status::Ok,
                Status::Warning,
                Status::Critical,
                Status::Unknown
            ]
            .map(|s| s as u8),
            [0, 1, 2, 3],
            "the nagios exit codes"
        );
    }

    #[test]
    fn expect_paths_read_objects_and_arrays_and_values_are_json_or_text() {
        let reply = json!({"rows": [{"site": "alpha", "n": 2}], "ok": true});
        let e = parse_expect("$.rows[0].site=alpha").expect("jsonpath-ish");
        assert_eq!(e.path, "rows.0.site");
        assert_eq!(e.value, json!("alpha"));
        assert!(at_path(&reply, &e.path).is_some_and(|v| same(v, &e.value)));
        let e = parse_expect("rows.0.n=2.0").expect("number");
        assert!(at_path(&reply, &e.path).is_some_and(|v| same(v, &e.value)));
        let e = parse_expect("ok=true").expect("bool");
        assert_eq!(e.value, json!(true));
        assert!(at_path(&reply, "rows.1.site").is_none());
        assert!(at_path(&reply, "rows.x").is_none());
        for bad in ["noequals", "=1", "a..b=1"] {
            assert!(parse_expect(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subscribers_take_topic_at_least_n() {
        assert_eq!(
            parse_subscribers("DeviceState>=3"),
            Ok(SubscriberMin {
                topic: "DeviceState".into(),
                min: 3
            })
        );
        for bad in ["DeviceState", ">=1", "T>=x", "T>=-1"] {
            assert!(parse_subscribers(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_other_transport_keeps_host_port_path_and_tls() {
        let ep = Endpoint::parse("wss://h:8443/smq.lsp").expect("url");
        let raw = other_transport(&ep);
        assert_eq!(raw.to_string(), "https://h:8443/smq.lsp");
        assert_eq!(other_transport(&raw), ep);
        assert_eq!(raw_endpoint(&raw), raw);
    }
}
