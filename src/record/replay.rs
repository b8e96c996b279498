//! Replaying a recording against a test broker.
//!
//! [`plan`] is pure: from a [`Recording`] and a [`ReplayConfig`] it decides
//! which clients come back (one per recorded UID that sends, receives a
//! direct message, or subscribed), which messages are sent when (offsets from
//! the first replayed one), and what is skipped and why (sent by the broker
//! itself, outside the window, not `--only`, truncated, destination unknown).
//!
//! [`run`] carries it out: a tracer attaches to the test broker first (for
//! drops, and `--check`), then every replay client connects with its
//! recorded UID (and info) and subscribes to its recorded topics, then the
//! messages go out at their original spacing divided by the speed. A direct
//! message goes to the new ETID of the client that has the recorded
//! destination's UID (with `map_payload_etids`, ETID fields inside JSON
//! payloads are mapped the same way). At the end it waits (bounded) until the
//! tracer has seen what was sent, disconnects everyone and returns a
//! [`Summary`]; with `check`, the per-destination counts and drops the test
//! broker traced are compared with the recording's ([`Summary::differences`]).
//!
//! May import: `client`, `protocol` (SERVER_ETID), `trace` (attach, schema),
//! `record`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::Line;
use super::file::Recording;
use crate::client::{self, Client, ClientError, ClientOptions, ReconnectPolicy, Session, Step};
use crate::trace::attach::{self, AttachConfig};
use crate::trace::schema::{DestType, Event, Kind};
use crate::trace::source::{Status, Update};

/// The UID of the client that replays what the broker itself sent
/// (`--include-server`): a client cannot send as the server.
pub const SERVER_UID: &str = "smqctl-replay-server";

/// How long the end of a replay waits for the test broker's tracer to report
/// what was sent.
const SETTLE: Duration = Duration::from_secs(10);

/// How fast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// The original spacing divided by this.
    Factor(f64),
    /// No waiting.
    Max,
}

/// A window edge: an offset from the recording's first message, or a time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Offset(Duration),
    At(jiff::Timestamp),
}

/// What [`plan`] and [`run`] do.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    pub speed: Speed,
    /// Replay what the broker sent itself (from [`SERVER_UID`]).
    pub include_server: bool,
    /// Only messages these UIDs sent (empty: everybody's).
    pub only: Vec<String>,
    pub from: Option<Bound>,
    pub to: Option<Bound>,
    /// Map ETIDs inside JSON payloads (members named `etid`, `*etid*`,
    /// `tid`, `ptid`) too.
    pub map_payload_etids: bool,
    /// Send payloads the recording has cut, cut (default: skip them).
    pub send_truncated: bool,
    /// The test broker's own ETID (for messages to the server), unless its
    /// tracer says otherwise.
    pub server_etid: u32,
    pub attach_timeout: Duration,
    /// Compare what the test broker routed with the recording.
    pub check: bool,
}

/// Where a planned message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Topic(String),
    /// The replay client with this UID.
    Client(String),
    Server,
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct Planned {
    /// When, from the start of the replay, at speed 1.
    pub at: Duration,
    /// The UID of the replay client that sends it.
    pub sender: String,
    pub target: Target,
    pub subtopic: Option<String>,
    pub payload: Vec<u8>,
    pub json: bool,
    pub truncated: bool,
    /// Dropped on the recorded broker.
    pub dropped: bool,
    /// The file (index) and line it came from.
    pub file: usize,
    pub line: usize,
}

impl Planned {
    /// The destination as `--check` counts it: topic (or `client UID`, or
    /// `server`) and sub-topic.
    pub fn key(&self) -> String {
        let to = match &self.target {
            Target::Topic(t) => t.clone(),
            Target::Client(uid) => format!("client {uid}"),
            Target::Server => "server".into(),
        };
        key(to, self.subtopic.as_deref())
    }
}

fn key(to: String, subtopic: Option<&str>) -> String {
    match subtopic {
        Some(s) => format!("{to} [{s}]"),
        None => to,
    }
}

/// A client to bring back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlannedClient {
    pub info: Option<String>,
    /// Topics it subscribed to in the recording.
    pub topics: BTreeSet<String>,
}

/// What a replay will do.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub clients: BTreeMap<String, PlannedClient>,
    pub messages: Vec<Planned>,
    /// Messages not replayed, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Recorded ETID → UID (for ETIDs inside payloads).
    pub uids: HashMap<u32, String>,
}

/// Decides what a replay of `rec` sends (see the module doc).
pub fn plan(rec: &Recording, cfg: &ReplayConfig) -> Plan {
    let mut p = Plan::default();
    let mut info: HashMap<String, String> = HashMap::new();
    for l in &rec.lines {
        match &l.item {
            Line::Client(c) => {
                if let Some(uid) = &c.uid {
                    p.uids.insert(c.etid, uid.clone());
                    if let Some(i) = &c.info {
                        info.insert(uid.clone(), i.clone());
                    }
                }
            }
            Line::Subscribe(s) => {
                if let Some(uid) = &s.uid {
                    p.uids.insert(s.etid, uid.clone());
                }
            }
            Line::Message(m) => {
                if let Some(uid) = &m.from.uid {
                    p.uids.insert(m.from.etid, uid.clone());
                }
                if let (DestType::Client, Some(uid)) = (m.to.kind, &m.to.uid) {
                    p.uids.insert(m.to.tid, uid.clone());
                }
            }
            Line::Unknown => {}
        }
    }
    let only = |uid: &str| cfg.only.is_empty() || cfg.only.iter().any(|o| o == uid);
    let first = rec
        .lines
        .iter()
        .find(|l| matches!(l.item, Line::Message(_)))
        .map(|l| l.at);
    let inside = |at: jiff::Timestamp| {
        let offset = |b: &Bound| match (b, first) {
            (Bound::Offset(d), Some(f)) => f
                .checked_add(
                    jiff::SignedDuration::try_from(*d).unwrap_or(jiff::SignedDuration::MAX),
                )
                .unwrap_or(jiff::Timestamp::MAX),
            (Bound::At(t), _) => *t,
            (Bound::Offset(_), None) => at,
        };
        cfg.from.as_ref().is_none_or(|b| at >= offset(b))
            && cfg.to.as_ref().is_none_or(|b| at <= offset(b))
    };
    let mut skip = |why: &str| *p.skipped.entry(why.to_string()).or_insert(0) += 1;
    let mut kept: Vec<(jiff::Timestamp, Planned)> = Vec::new();
    for l in &rec.lines {
        let Line::Message(m) = &l.item else { continue };
        if !inside(l.at) {
            skip("outside --from/--to");
            continue;
        }
        let sender = if m.from.server {
            if !cfg.include_server {
                skip("sent by the broker itself (--include-server replays it)");
                continue;
            }
            SERVER_UID.to_string()
        } else {
            m.from
                .uid
                .clone()
                .or_else(|| p.uids.get(&m.from.etid).cloned())
                .unwrap_or_else(|| format!("smqctl-replay-etid-{}", m.from.etid))
        };
        if !only(&sender) {
            skip("sender not in --only");
            continue;
        }
        let target = match m.to.kind {
            DestType::Topic => match &m.to.name {
                Some(name) => Target::Topic(name.clone()),
                None => {
                    skip("topic name not in the recording");
                    continue;
                }
            },
            DestType::Client => match m.to.uid.clone().or_else(|| p.uids.get(&m.to.tid).cloned()) {
                Some(uid) if only(&uid) => Target::Client(uid),
                Some(_) => {
                    skip("destination client not replayed (--only)");
                    continue;
                }
                None => {
                    skip("destination ETID has no recorded UID");
                    continue;
                }
            },
            DestType::Server => Target::Server,
            DestType::Unknown => {
                skip("destination was unknown to the recorded broker");
                continue;
            }
        };
        if m.truncated && !cfg.send_truncated {
            skip("payload truncated in the recording (--send-truncated sends it cut)");
            continue;
        }
        let Ok(payload) = m.bytes() else {
            skip("payload does not decode"); // the reader checked: never
            continue;
        };
        kept.push((
            l.at,
            Planned {
                at: Duration::ZERO,
                sender,
                target,
                subtopic: m.subtopic.clone(),
                payload,
                json: m.encoding == crate::trace::schema::Encoding::Json,
                truncated: m.truncated,
                dropped: m.outcome == super::Outcome::Dropped,
                file: l.file,
                line: l.line,
            },
        ));
    }
    let base = kept.first().map(|(at, _)| *at);
    for (at, mut m) in kept {
        if let Some(base) = base {
            m.at = at.duration_since(base).try_into().unwrap_or(Duration::ZERO);
        }
        p.clients.entry(m.sender.clone()).or_default();
        if let Target::Client(uid) = &m.target {
            p.clients.entry(uid.clone()).or_default();
        }
        p.messages.push(m);
    }
    // Subscribers come back too: the test broker must have the receivers
    // the recorded one had (or every publish would be a drop there).
    for l in &rec.lines {
        if let Line::Subscribe(s) = &l.item
            && let Some(uid) = s.uid.clone().or_else(|| p.uids.get(&s.etid).cloned())
            && only(&uid)
        {
            p.clients
                .entry(uid)
                .or_default()
                .topics
                .insert(s.topic.clone());
        }
    }
    for (uid, c) in p.clients.iter_mut() {
        c.info = info.get(uid).cloned();
    }
    p
}

/// Messages and drops to one destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KeyCounts {
    pub messages: u64,
    pub dropped: u64,
}

/// What the test broker's tracer saw the replay clients send.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Traced {
    pub routed: u64,
    pub dropped: u64,
    pub denied: u64,
    pub by_destination: BTreeMap<String, KeyCounts>,
}

/// A destination where the replay and the recording differ (`--check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub destination: String,
    pub recorded: KeyCounts,
    pub replayed: KeyCounts,
}

/// What a replay did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Replay clients connected.
    pub clients: usize,
    /// Messages planned (after the skips below).
    pub planned: u64,
    pub sent: u64,
    /// Of `sent`, payloads the recording had cut (`--send-truncated`).
    pub sent_truncated: u64,
    /// Messages not sent, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Messages the replay clients received (subscriptions and direct).
    pub received: u64,
    /// What the test broker's tracer saw; None without a tracer.
    pub traced: Option<Traced>,
    /// Why there is no tracer, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_tracer: Option<String>,
    /// Per-destination counts the recording expects of what was sent.
    pub recorded: BTreeMap<String, KeyCounts>,
    /// `--check`: destinations whose counts or drops differ.
    pub differences: Vec<Difference>,
    /// Stopped by SIGINT/SIGTERM before the end.
    pub interrupted: bool,
    pub seconds: f64,
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot connect replay client {uid}")]
    Connect {
        uid: String,
        #[source]
        source: ClientError,
    },
    #[error("cannot reach the test broker")]
    Tracer(#[source] ClientError),
    /// `check` needs a tracer and none attached (the reason).
    #[error("no tracer on the test broker: {0}")]
    NoTracer(String),
}

/// One replay client.
struct Replayer {
    client: Client,
    poller: tokio::task::JoinHandle<()>,
}

/// Runs `plan` against the broker of `opts` (its UID is replaced per client).
pub async fn run(
    opts: ClientOptions,
    plan: Plan,
    cfg: &ReplayConfig,
    progress: &indicatif::ProgressBar,
) -> Result<Summary, ReplayError> {
    let started = Instant::now();
    let mut summary = Summary {
        planned: plan.messages.len() as u64,
        skipped: plan.skipped.clone(),
        ..Summary::default()
    };
    let uids: Arc<BTreeSet<String>> = Arc::new(plan.clients.keys().cloned().collect());
    let stop = crate::shutdown::requested();
    tokio::pin!(stop);

    // 1. The tracer, before anyone replays, so it sees everything.
    let mut topts = opts.clone();
    topts.uid = None;
    let (ttx, mut trx) = mpsc::channel(4096);
    let tcfg = AttachConfig {
        server_etid: cfg.server_etid,
        preview: 0,
        full: false,
        attach_timeout: cfg.attach_timeout,
        fallback_topics: Vec::new(),
        reconnect: ReconnectPolicy {
            enabled: false,
            ..ReconnectPolicy::default()
        },
    };
    let tracer = tokio::spawn(attach::session(topts, tcfg, ttx));
    let mut server_etid = cfg.server_etid;
    let attached = loop {
        match trx.recv().await {
            Some(Update::Event(ev)) if ev.kind == Kind::Snapshot => {
                if let Some(id) = ev.snapshot.as_ref().and_then(|s| s.server_etid) {
                    server_etid = id;
                }
                break true;
            }
            Some(Update::Status(Status::Degraded { reason, .. })) => {
                if cfg.check {
                    drop(trx);
                    let _ = tokio::time::timeout(Duration::from_secs(3), tracer).await;
                    return Err(ReplayError::NoTracer(reason));
                }
                summary.no_tracer = Some(reason);
                break false;
            }
            Some(_) => {}
            None => {
                let err = match tracer.await {
                    Ok(Err(e)) => e,
                    _ => ClientError::ConnectionLost("the tracer ended".into()),
                };
                return Err(ReplayError::Tracer(err));
            }
        }
    };
    let traced = Arc::new(Mutex::new(Traced::default()));
    let (seen_tx, mut seen_rx) = watch::channel(0u64);
    let collector = {
        let traced = traced.clone();
        let uids = uids.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            while let Some(u) = trx.recv().await {
                let Update::Event(ev) = u else { continue };
                if count_traced(&ev, &uids, &traced) {
                    n += 1;
                    let _ = seen_tx.send(n);
                }
            }
        })
    };

    // 2. The replay clients, all connected before the first message.
    let received = Arc::new(AtomicU64::new(0));
    let connecting = plan.clients.iter().map(|(uid, pc)| {
        let mut o = opts.clone();
        o.uid = Some(uid.clone());
        // The recorded info; else --info; else say who this is.
        o.info = match (&pc.info, opts.info.is_empty()) {
            (Some(info), _) => info.clone(),
            (None, false) => opts.info.clone(),
            (None, true) => "smqctl replay".into(),
        };
        let topics = pc.topics.clone();
        let received = received.clone();
        let uid = uid.clone();
        async move {
            connect(o, &topics, received)
                .await
                .map(|r| (uid.clone(), r))
                .map_err(|source| ReplayError::Connect { uid, source })
        }
    });
    let mut clients: BTreeMap<String, Replayer> = BTreeMap::new();
    let mut failed = None;
    for r in futures_util::future::join_all(connecting).await {
        match r {
            Ok((uid, c)) => {
                clients.insert(uid, c);
            }
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    if let Some(e) = failed {
        finish(&clients, collector, tracer).await;
        return Err(e);
    }
    summary.clients = clients.len();
    let etids: HashMap<&str, u32> = clients
        .iter()
        .map(|(uid, r)| (uid.as_str(), r.client.etid()))
        .collect();
    let remap: HashMap<u32, u32> = plan
        .uids
        .iter()
        .filter_map(|(old, uid)| etids.get(uid.as_str()).map(|new| (*old, *new)))
        .collect();

    // 3. The messages, at their time.
    progress.set_length(plan.messages.len() as u64);
    let t0 = Instant::now();
    for m in &plan.messages {
        if let Speed::Factor(f) = cfg.speed {
            let at = t0 + m.at.div_f64(f);
            tokio::select! {
                biased;
                _ = &mut stop => {
                    summary.interrupted = true;
                    break;
                }
                _ = tokio::time::sleep_until(at) => {}
            }
        } else if (&mut stop).now_or_never().is_some() {
            summary.interrupted = true;
            break;
        }
        let Some(r) = clients.get(&m.sender) else {
            continue; // every sender has a client (plan)
        };
        let dest = match &m.target {
            Target::Topic(t) => client::Dest::Topic(t),
            Target::Client(uid) => match etids.get(uid.as_str()) {
                Some(id) => client::Dest::Id(*id),
                None => continue, // every target client has a client (plan)
            },
            Target::Server => client::Dest::Id(server_etid),
        };
        let payload = if m.json && cfg.map_payload_etids {
            map_payload(&m.payload, &remap)
        } else {
            m.payload.clone()
        };
        match r
            .client
            .publish(dest, m.subtopic.as_deref(), Bytes::from(payload))
            .await
        {
            Ok(()) => {
                summary.sent += 1;
                summary.sent_truncated += u64::from(m.truncated);
                let k = summary.recorded.entry(m.key()).or_default();
                k.messages += 1;
                k.dropped += u64::from(m.dropped);
            }
            Err(e) => {
                *summary
                    .skipped
                    .entry(format!("sending failed ({e})"))
                    .or_insert(0) += 1;
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    for r in clients.values() {
        let _ = r.client.flush().await;
    }

    // 4. What the test broker saw.
    if attached {
        let sent = summary.sent;
        // Interrupted: the user wants out, not a complete count.
        let settle = if summary.interrupted {
            Duration::from_secs(1)
        } else {
            SETTLE
        };
        let _ = tokio::time::timeout(settle, seen_rx.wait_for(|n| *n >= sent)).await;
        let t = traced.lock().map(|t| t.clone()).unwrap_or_default();
        if cfg.check {
            summary.differences = compare(&summary.recorded, &t.by_destination);
        }
        summary.traced = Some(t);
    }
    finish(&clients, collector, tracer).await;
    // After the goodbyes: what was on its way has mostly arrived (a count
    // for people, not for --check).
    summary.received = received.load(Ordering::Relaxed);
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Disconnects the replay clients and the tracer.
async fn finish(
    clients: &BTreeMap<String, Replayer>,
    collector: tokio::task::JoinHandle<()>,
    tracer: tokio::task::JoinHandle<Result<(), ClientError>>,
) {
    futures_util::future::join_all(clients.values().map(|r| r.client.disconnect("replay done")))
        .await;
    for r in clients.values() {
        r.poller.abort();
    }
    // Its receiver gone, the tracer's session says goodbye.
    collector.abort();
    let _ = tokio::time::timeout(Duration::from_secs(3), tracer).await;
}

/// Connects one replay client and subscribes it; its session is polled in a
/// task of its own (which counts what arrives) until it closes.
async fn connect(
    opts: ClientOptions,
    topics: &BTreeSet<String>,
    received: Arc<AtomicU64>,
) -> Result<Replayer, ClientError> {
    let policy = ReconnectPolicy {
        enabled: false,
        ..ReconnectPolicy::default()
    };
    let mut session = Session::new(opts, policy);
    let client = loop {
        match session.poll().await? {
            Step::Connected { client, .. } => break client,
            Step::Closed => {
                return Err(ClientError::ConnectionLost(
                    "closed while connecting".into(),
                ));
            }
            _ => {}
        }
    };
    let (tx, mut rx) = mpsc::channel(1024);
    for t in topics {
        client.subscribe_into(t, None, tx.clone()).await?;
    }
    drop(tx);
    let counted = received.clone();
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            counted.fetch_add(1, Ordering::Relaxed);
        }
    });
    let poller = tokio::spawn(async move {
        loop {
            match session.poll().await {
                Ok(Step::Event(client::Event::Message(_))) => {
                    received.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Step::Closed) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    Ok(Replayer { client, poller })
}

/// Counts a traced message event from one of the replay clients; true if it was one.
fn count_traced(ev: &Event, uids: &BTreeSet<String>, traced: &Mutex<Traced>) -> bool {
    if !matches!(ev.kind, Kind::Publish | Kind::Drop | Kind::Deny) || ev.is_reserved() {
        return false;
    }
    let (Some(from), Some(to)) = (&ev.from, &ev.to) else {
        return false;
    };
    if !from.uid.as_ref().is_some_and(|u| uids.contains(u)) {
        return false;
    }
    let dest = match to.kind {
        DestType::Topic => to.name.clone().unwrap_or_else(|| format!("#{}", to.tid)),
        DestType::Client => match &to.uid {
            Some(uid) => format!("client {uid}"),
            None => format!("client etid {}", to.tid),
        },
        DestType::Server => "server".into(),
        DestType::Unknown => format!("#{}", to.tid),
    };
    let Ok(mut t) = traced.lock() else {
        return false;
    };
    let k = t
        .by_destination
        .entry(key(dest, ev.subtopic.as_deref()))
        .or_default();
    k.messages += 1;
    match ev.kind {
        Kind::Drop => {
            k.dropped += 1;
            t.dropped += 1;
        }
        Kind::Deny => t.denied += 1,
        _ => t.routed += 1,
    }
    true
}

/// The destinations where recorded and replayed counts differ.
pub fn compare(
    recorded: &BTreeMap<String, KeyCounts>,
    replayed: &BTreeMap<String, KeyCounts>,
) -> Vec<Difference> {
    let keys: BTreeSet<&String> = recorded.keys().chain(replayed.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let r = recorded.get(k).copied().unwrap_or_default();
            let p = replayed.get(k).copied().unwrap_or_default();
            (r != p).then(|| Difference {
                destination: k.clone(),
                recorded: r,
                replayed: p,
            })
        })
        .collect()
}

/// `payload` (JSON) with the recorded ETIDs in ETID members replaced by the
/// replay clients' (unchanged when it does not parse or nothing matches).
pub fn map_payload(payload: &[u8], remap: &HashMap<u32, u32>) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return payload.to_vec();
    };
    if map_value(&mut v, remap) == 0 {
        return payload.to_vec();
    }
    v.to_string().into_bytes()
}

fn is_etid_member(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("etid") || n == "tid" || n == "ptid"
}

fn map_value(v: &mut serde_json::Value, remap: &HashMap<u32, u32>) -> usize {
    match v {
        serde_json::Value::Object(o) => o
            .iter_mut()
            .map(|(k, x)| {
                let old = x.as_u64().and_then(|n| u32::try_from(n).ok());
                match old.and_then(|n| remap.get(&n)) {
                    Some(new) if is_etid_member(k) => {
                        *x = serde_json::Value::from(*new);
                        1
                    }
                    _ => map_value(x, remap),
                }
            })
            .sum(),
        serde_json::Value::Array(a) => a.iter_mut().map(|x| map_value(x, remap)).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::file::Located;
    use crate::record::{ClientLine, Header, Message, Outcome, Source, SubscribeLine};
    use crate::trace::schema::{Client as Who, Dest, Encoding};

    fn at(s: u64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000 + s as i64).expect("ts")
    }

    fn msg(s: u64, from: Who, to: Dest) -> Line {
        Line::Message(Message {
            ts: at(s).to_string(),
            outcome: Outcome::Routed,
            from,
            to,
            subtopic: None,
            receivers: Some(1),
            size: 2,
            encoding: Encoding::Json,
            payload: serde_json::json!({"etid": 7, "seq": 7}),
            truncated: false,
            reason: None,
        })
    }

    fn who(etid: u32, uid: Option<&str>) -> Who {
        Who {
            etid,
            uid: uid.map(str::to_string),
            ..Who::default()
        }
    }

    fn topic(name: &str) -> Dest {
        Dest {
            tid: 100,
            kind: DestType::Topic,
            name: Some(name.into()),
            uid: None,
        }
    }

    fn recording(items: Vec<(u64, Line)>) -> Recording {
        Recording {
            header: Header::new(Source::Trace, 1024),
            lines: items
                .into_iter()
                .enumerate()
                .map(|(i, (s, item))| Located {
                    file: 0,
                    line: i + 2,
                    at: at(s),
                    item,
                })
                .collect(),
            warnings: Vec::new(),
        }
    }

    fn cfg() -> ReplayConfig {
        ReplayConfig {
            speed: Speed::Max,
            include_server: false,
            only: Vec::new(),
            from: None,
            to: None,
            map_payload_etids: false,
            send_truncated: false,
            server_etid: 1,
            attach_timeout: Duration::from_secs(1),
            check: false,
        }
    }

    fn sample() -> Recording {
        let server = Who {
            etid: 1,
            server: true,
            ..Who::default()
        };
        let to_dev = Dest {
            tid: 7,
            kind: DestType::Client,
            name: None,
            uid: None,
        };
        let mut cut = msg(9, who(7, None), topic("State"));
        if let Line::Message(m) = &mut cut {
            m.truncated = true;
        }
        recording(vec![
            (
                0,
                Line::Client(ClientLine {
                    ts: at(0).to_string(),
                    etid: 7,
                    uid: Some("dev-a".into()),
                    info: Some("device a".into()),
                }),
            ),
            (
                0,
                Line::Subscribe(SubscribeLine {
                    ts: at(0).to_string(),
                    etid: 8,
                    uid: Some("watcher".into()),
                    topic: "State".into(),
                }),
            ),
            (1, msg(1, who(7, None), topic("State"))),
            (3, msg(3, who(9, Some("operator")), to_dev)),
            (4, msg(4, server, topic("Events"))),
            (9, cut),
        ])
    }

    #[test]
    fn the_plan_brings_back_senders_receivers_and_subscribers_and_says_why_it_skips() {
        let p = plan(&sample(), &cfg());
        let uids: Vec<&String> = p.clients.keys().collect();
        assert_eq!(uids, ["dev-a", "operator", "watcher"]);
        assert_eq!(p.clients["dev-a"].info.as_deref(), Some("device a"));
        assert!(p.clients["watcher"].topics.contains("State"));
        assert_eq!(p.messages.len(), 2);
        // The first replayed message is at 0; the spacing is kept.
        assert_eq!(
            p.messages.iter().map(|m| m.at).collect::<Vec<_>>(),
            [Duration::ZERO, Duration::from_secs(2)]
        );
        assert_eq!(
            p.messages[0].sender, "dev-a",
            "the UID from the client line"
        );
        assert_eq!(
            p.messages[1].target,
            Target::Client("dev-a".into()),
            "a direct message goes to the UID that had the ETID"
        );
        assert_eq!(p.messages[1].key(), "client dev-a");
        assert_eq!(
            p.skipped.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "payload truncated in the recording (--send-truncated sends it cut)",
                "sent by the broker itself (--include-server replays it)"
            ]
        );
        let all = plan(
            &sample(),
            &ReplayConfig {
                include_server: true,
                send_truncated: true,
                ..cfg()
            },
        );
        assert_eq!(all.messages.len(), 4);
        assert!(all.clients.contains_key(SERVER_UID));
        assert!(all.skipped.is_empty(), "{:?}", all.skipped);
    }

    #[test]
    fn only_and_the_time_window_narrow_the_plan() {
        let p = plan(
            &sample(),
            &ReplayConfig {
                only: vec!["operator".into()],
                ..cfg()
            },
        );
        // The operator's direct message goes to dev-a, which is not replayed.
        assert!(p.messages.is_empty());
        assert_eq!(p.skipped["destination client not replayed (--only)"], 1);
        let p = plan(
            &sample(),
            &ReplayConfig {
                from: Some(Bound::Offset(Duration::from_secs(2))),
                ..cfg()
            },
        );
        assert_eq!(p.messages.len(), 1, "only the one at +2 s is left");
        assert_eq!(p.messages[0].at, Duration::ZERO, "and it starts the replay");
        assert_eq!(p.skipped["outside --from/--to"], 1);
    }

    #[test]
    fn payload_etids_are_mapped_only_in_etid_members() {
        let remap = HashMap::from([(7, 42)]);
        let out = map_payload(
            br#"{"etid":7,"seq":7,"to":{"ptid":7},"list":[{"tid":7}]}"#,
            &remap,
        );
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            r#"{"etid":42,"seq":7,"to":{"ptid":42},"list":[{"tid":42}]}"#
        );
        let untouched = br#"{ "seq" : 7 }"#;
        assert_eq!(map_payload(untouched, &remap), untouched, "byte for byte");
    }

    #[test]
    fn compare_names_each_destination_that_differs() {
        let k = |m, d| KeyCounts {
            messages: m,
            dropped: d,
        };
        let rec = BTreeMap::from([("A".to_string(), k(3, 1)), ("B".to_string(), k(2, 0))]);
        let rep = BTreeMap::from([("A".to_string(), k(3, 0)), ("B".to_string(), k(2, 0))]);
        let d = compare(&rec, &rep);
        assert_eq!(
            d,
            [Difference {
                destination: "A".into(),
                recorded: k(3, 1),
                replayed: k(3, 0)
            }]
        );
        assert!(compare(&rec, &rec).is_empty());
    }
}
