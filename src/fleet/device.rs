//! One simulated device: connect, subscribe (`self` sub-topics, topics, the
//! barrier last), send the ready message only once the last subscription is
//! acknowledged, then report periodically and answer commands, until told to
//! stop. A lost connection (or a churn drop, a kill, a `restart` command) is
//! followed by a reconnect with the client's backoff and jitter, and everything
//! — subscriptions, barrier, ready message — runs again on the new connection.
//!
//! A device is one tokio task: no thread, no task for its connection, no
//! buffer beyond one reused `String` for payload expansion. Its connection is
//! a lean [`Session`], served inside the device's own `select!` beside its
//! timers (reports, churn, kill) and `stop`; what waits for the connection
//! (the setup's acks, a full queue, a restart's flush) waits through
//! `Session::run_with`; churn, kill and restart are the session's
//! `drop_connection`.
//!
//! May import: `client`, `template`, `protocol`, and its siblings `scenario`, `report`.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::watch;

use super::report::Stats;
use super::scenario::{Action, Dest, Msg, PayloadFormat, Scenario};
use crate::client::{
    Client, ClientError, ClientOptions, Event, Lost, ReconnectPolicy, Secret, Session, Step,
    TryPublishError,
};
use crate::template::{self, Context, Vars};

/// Fleet-wide settings every device reads.
pub struct Shared {
    pub scenario: Scenario,
    /// Endpoint, TLS, timeouts, default credentials; UID and info per device.
    pub base: Arc<ClientOptions>,
    pub broker_tid: u32,
    pub reconnect: ReconnectPolicy,
    /// Probability per minute that an online device drops and reconnects.
    pub churn_per_min: f64,
    /// Drop every device's connection after it has been online this long.
    pub kill_after: Option<Duration>,
    /// First periodic message after a random delay up to this (None: one interval).
    pub stagger: Option<Duration>,
    /// Overrides every periodic interval.
    pub interval: Option<Duration>,
    /// Local source addresses, used round-robin by device index.
    pub bind: Vec<std::net::IpAddr>,
    pub stats: Arc<Stats>,
    /// See [`Shared::initial_state`]; `Default::default()` when building one.
    pub initial_state: std::sync::OnceLock<Arc<Value>>,
}

impl Shared {
    /// The scenario's initial device state, shared by every device until a
    /// command changes a device's own (copy on write).
    fn initial_state(&self) -> Arc<Value> {
        self.initial_state
            .get_or_init(|| Arc::new(Value::Object(self.scenario.state.clone())))
            .clone()
    }
}

/// What a device reports when it stops.
#[derive(Debug, Clone)]
pub struct DeviceResult {
    pub index: u32,
    pub uid: String,
    pub connects: u32,
    /// Last sequence number sent per periodic message (scenario order).
    pub sent: Vec<u64>,
    /// The device gave up (an error retrying cannot fix, e.g. refused credentials).
    pub failed: Option<String>,
}

struct DevVars<'a> {
    index: u32,
    uid: &'a str,
    seq: u64,
}

impl Vars for DevVars<'_> {
    fn write(&self, name: &str, arg: Option<&str>, out: &mut String) -> bool {
        match name {
            "index" => template::write_int(out, self.index.into(), arg),
            "seq" => template::write_int(out, self.seq, arg),
            "uid" => out.push_str(self.uid),
            _ => return false,
        }
        true
    }
}

/// Resolved IDs of one outgoing message on the current connection.
#[derive(Clone, Copy)]
struct Route {
    /// 0: the sender of the command being answered.
    tid: u32,
    subtid: u32,
}

/// Why a session ended.
enum End {
    Stop,
    /// What the connection's poll brought that is not an event: the caller's.
    Poll(Result<Step, ClientError>),
    Churn,
    Kill,
    Restart,
    Setup(ClientError),
}

struct Device {
    index: u32,
    uid: String,
    seqs: Vec<u64>,
    /// Shared with the fleet until a command changes it.
    state: Arc<Value>,
    buf: String,
    connects: u32,
    /// Correlated requests awaiting a response: (ID, sent at). Bounded.
    pending: std::collections::VecDeque<(Box<str>, Instant)>,
}

/// A short, stable name for an error kind (summary "errors by kind").
pub fn error_kind(e: &ClientError) -> &'static str {
    match e {
        ClientError::Transport(_) => "connect failed",
        ClientError::Refused { .. } => "refused by broker",
        ClientError::Handshake(_) => "handshake failed",
        ClientError::Denied { .. } => "subscription denied",
        ClientError::ConnectionLost(_) => "connection lost",
        ClientError::NoAck { .. } => "not acknowledged",
        ClientError::PayloadTooLarge(_) => "payload too large",
        ClientError::Invalid(_) => "invalid",
    }
}

fn encode(buf: &str, format: PayloadFormat) -> Result<Bytes, String> {
    match format {
        PayloadFormat::Json | PayloadFormat::Text => Ok(Bytes::copy_from_slice(buf.as_bytes())),
        PayloadFormat::Hex => {
            let digits: String = buf.chars().filter(|c| !c.is_whitespace()).collect();
            hex::decode(digits)
                .map(Bytes::from)
                .map_err(|e| e.to_string())
        }
    }
}

fn jittered(base: Duration, jitter: Duration) -> Duration {
    if jitter.is_zero() {
        return base;
    }
    let j = jitter.mul_f64(rand::random::<f64>() * 2.0);
    (base + j).saturating_sub(jitter)
}

/// Time until the next churn drop: exponential with `per_min` drops per minute.
fn churn_delay(per_min: f64) -> Option<Duration> {
    if per_min <= 0.0 {
        return None;
    }
    let u: f64 = rand::random::<f64>().max(1e-12);
    Duration::try_from_secs_f64(-u.ln() * 60.0 / per_min).ok()
}

impl Device {
    fn expand(&mut self, t: &str, request: Option<&Value>, ctx: &Context, seq: u64) {
        self.buf.clear();
        let vars = DevVars {
            index: self.index,
            uid: &self.uid,
            seq,
        };
        template::expand_into(&mut self.buf, t, request, "", ctx, &vars);
    }

    /// Remembers the ID of the request just sent (in `buf`).
    fn track_request(&mut self, shared: &Shared, path: &str) {
        /// Requests a device waits for at once; older ones count as unanswered.
        const PENDING: usize = 16;
        let Ok(v) = serde_json::from_str::<Value>(&self.buf) else {
            return;
        };
        let Some(id) = template::lookup(&v, path) else {
            return;
        };
        let id = match id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if self.pending.len() >= PENDING {
            self.pending.pop_front();
        }
        self.pending
            .push_back((id.into_boxed_str(), Instant::now()));
        shared.stats.requests.fetch_add(1, Relaxed);
    }

    /// Matches a response to its pending request by ID.
    fn match_response(&mut self, shared: &Shared, path: &str, json: Option<&Value>) {
        let id = json
            .and_then(|v| template::lookup(v, path))
            .map(|id| match id {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        let found = id.and_then(|id| self.pending.iter().position(|(p, _)| **p == *id));
        match found.and_then(|i| self.pending.remove(i)) {
            Some((_, sent)) => {
                shared.stats.answered.fetch_add(1, Relaxed);
                shared
                    .stats
                    .request_latency
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .record(sent.elapsed());
            }
            None => {
                shared.stats.uncorrelated.fetch_add(1, Relaxed);
            }
        }
    }

    fn options(&mut self, shared: &Shared) -> ClientOptions {
        let mut o = ClientOptions::clone(&shared.base);
        o.uid = Some(self.uid.clone());
        if !shared.bind.is_empty() {
            o.bind = Some(shared.bind[self.index as usize % shared.bind.len()]);
        }
        let ctx = Context::default();
        if let Some(info) = &shared.scenario.info {
            self.expand(info, None, &ctx, 0);
            o.info = self.buf.clone();
        }
        if let Some(cred) = &shared.scenario.credentials {
            self.expand(cred, None, &ctx, 0);
            o.credentials = Some(Secret::new(self.buf.clone()));
        }
        o
    }

    async fn route(&self, client: &Client, shared: &Shared, m: &Msg) -> Result<Route, ClientError> {
        let tid = match &m.to {
            Dest::Broker => shared.broker_tid,
            Dest::Sender => 0,
            Dest::SelfEtid => client.etid(),
            Dest::Topic(t) => client.create(t).await?,
            Dest::Etid(n) => *n,
        };
        let subtid = match &m.subtopic {
            Some(s) => client.createsub(s).await?,
            None => 0,
        };
        Ok(Route { tid, subtid })
    }

    /// Subscriptions, routes, barrier: everything before the ready message.
    async fn setup(
        &self,
        client: &Client,
        shared: &Shared,
    ) -> Result<(Option<Route>, Vec<Route>, Vec<Option<Route>>), ClientError> {
        let sc = &shared.scenario;
        // `self` sub-topics: a Createsub each (acknowledged), like RTL clients'
        // subscribe("self", name); direct messages need no Subscribe.
        for s in &sc.self_subs {
            client.createsub(s).await?;
        }
        for t in &sc.topics {
            client.subscribe_to_events(t).await?;
        }
        let ready = match &sc.ready {
            Some(m) => Some(self.route(client, shared, m).await?),
            None => None,
        };
        let mut periodic = Vec::with_capacity(sc.periodic.len());
        for p in &sc.periodic {
            periodic.push(self.route(client, shared, &p.msg).await?);
        }
        let mut replies = Vec::with_capacity(sc.commands.len());
        for c in &sc.commands {
            replies.push(match &c.reply {
                Some(m) => Some(self.route(client, shared, m).await?),
                None => None,
            });
        }
        // The barrier: subscribed last; its Suback means every subscription
        // above is in place at the broker.
        if let Some(b) = &sc.barrier {
            client.subscribe_to_events(b).await?;
        }
        Ok((ready, periodic, replies))
    }

    async fn publish(
        &self,
        client: &Client,
        conn: &mut Session,
        shared: &Shared,
        route: Route,
        ptid: u32,
        format: PayloadFormat,
    ) -> bool {
        let payload = match encode(&self.buf, format) {
            Ok(p) => p,
            Err(_) => {
                shared.stats.error("payload is not hex");
                return false;
            }
        };
        let tid = if route.tid == 0 { ptid } else { route.tid };
        // Queued without waiting; only a full queue (a stalled connection)
        // waits, in a boxed future: the device's own future stays small.
        let sent = match client.try_publish_ids(tid, route.subtid, payload) {
            Ok(()) => true,
            Err(TryPublishError::Full(payload)) => {
                Box::pin(conn.run_with(client.publish_ids(tid, route.subtid, payload)))
                    .await
                    .is_ok()
            }
            Err(TryPublishError::Failed(_)) => false,
        };
        if sent {
            shared.stats.msgs_out.fetch_add(1, Relaxed);
        }
        sent
    }

    async fn session(
        &mut self,
        shared: &Arc<Shared>,
        client: &Client,
        conn: &mut Session,
        stop: &mut watch::Receiver<bool>,
        started: Instant,
    ) -> End {
        let sc = &shared.scenario;
        let stats = &shared.stats;
        let mut setup = Box::pin(tokio::time::timeout(
            shared.base.connect_timeout,
            self.setup(client, shared),
        ));
        let done = tokio::select! {
            r = conn.run_with(&mut setup) => Some(r),
            _ = stop.changed() => None,
        };
        // Freed now, not kept for the whole connection.
        drop(setup);
        let (ready, routes, replies) = match done {
            Some(Ok(Ok(r))) => r,
            Some(Ok(Err(e))) => return End::Setup(e),
            Some(Err(_)) => {
                return End::Setup(ClientError::Handshake(
                    "subscriptions not acknowledged within the connect timeout".into(),
                ));
            }
            None => return End::Stop,
        };
        let ctx = Context {
            ptid: 0,
            etid: client.etid(),
            n: 0,
        };
        if let (Some(m), Some(route)) = (&sc.ready, ready) {
            let state = self.state.clone();
            self.expand(&m.payload, Some(&*state), &ctx, 0);
            if self.publish(client, conn, shared, route, 0, m.format).await {
                stats.kind_out(0);
            }
        }
        stats
            .ready_latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(started.elapsed());
        stats.online.fetch_add(1, Relaxed);
        let end = self
            .serve(shared, client, conn, stop, &ctx, &routes, &replies)
            .await;
        stats.online.fetch_sub(1, Relaxed);
        end
    }

    #[allow(clippy::too_many_arguments)]
    async fn serve(
        &mut self,
        shared: &Arc<Shared>,
        client: &Client,
        conn: &mut Session,
        stop: &mut watch::Receiver<bool>,
        ctx: &Context,
        routes: &[Route],
        replies: &[Option<Route>],
    ) -> End {
        let sc = &shared.scenario;
        let stats = &shared.stats;
        let now = tokio::time::Instant::now();
        let intervals: Vec<Duration> = sc
            .periodic
            .iter()
            .map(|p| shared.interval.unwrap_or(p.interval))
            .collect();
        // Spread the first reports so a fleet that connected together does
        // not report in lockstep.
        let mut next: Vec<tokio::time::Instant> = intervals
            .iter()
            .map(|i| now + shared.stagger.unwrap_or(*i).mul_f64(rand::random::<f64>()))
            .collect();
        let churn_at = churn_delay(shared.churn_per_min).map(|d| now + d);
        let kill_at = shared.kill_after.map(|d| now + jittered(d, d / 10));
        let far = now + Duration::from_secs(86400 * 365);
        loop {
            let (due_i, due) = next
                .iter()
                .enumerate()
                .min_by_key(|(_, t)| **t)
                .map(|(i, t)| (Some(i), *t))
                .unwrap_or((None, far));
            // One timer for whichever comes first: the next report, the
            // churn drop, the kill (one timer entry per device, not three).
            let wake = [churn_at, kill_at]
                .into_iter()
                .flatten()
                .fold(due, std::cmp::min);
            tokio::select! {
                biased;
                _ = stop.changed() => return End::Stop,
                step = conn.poll() => match step {
                    Ok(Step::Event(Event::Message(m))) => {
                        stats.msgs_in.fetch_add(1, Relaxed);
                        // Boxed: commands are rare, and their future would
                        // size every device's task for its whole life.
                        if let Some(end) = Box::pin(self.command(shared, client, conn, ctx, replies, m)).await {
                            return end;
                        }
                    }
                    Ok(Step::Event(_)) => {}
                    other => return End::Poll(other),
                },
                _ = tokio::time::sleep_until(wake), if wake < far => {
                    let now = tokio::time::Instant::now();
                    let Some(i) = due_i.filter(|_| due <= now) else {
                        if churn_at.is_some_and(|t| t <= now) {
                            return End::Churn;
                        }
                        if kill_at.is_some_and(|t| t <= now) {
                            return End::Kill;
                        }
                        continue;
                    };
                    let p = &sc.periodic[i];
                    self.seqs[i] += 1;
                    let seq = self.seqs[i];
                    let state = self.state.clone();
                    self.expand(&p.msg.payload, Some(&*state), ctx, seq);
                    if self.publish(client, conn, shared, routes[i], 0, p.msg.format).await {
                        stats.kind_out(1 + i);
                        if let Some(path) = &p.correlate {
                            self.track_request(shared, path);
                        }
                    } else {
                        // Not sent: the number is not used, so no gap is reported.
                        self.seqs[i] -= 1;
                    }
                    let mut t = due + jittered(intervals[i], p.jitter.min(intervals[i] / 2));
                    let now = tokio::time::Instant::now();
                    if t < now {
                        // Fell behind (overload): no burst to catch up.
                        t = now;
                        stats.late.fetch_add(1, Relaxed);
                    }
                    next[i] = t;
                },
            }
        }
    }

    /// Answers a message per the first command rule that applies.
    async fn command(
        &mut self,
        shared: &Arc<Shared>,
        client: &Client,
        conn: &mut Session,
        ctx: &Context,
        replies: &[Option<Route>],
        m: crate::client::Message,
    ) -> Option<End> {
        let sc = &shared.scenario;
        let stats = &shared.stats;
        let sub = m.subtopic.as_deref();
        let json: Option<Value> = serde_json::from_slice(&m.payload).ok();
        let found = sc.commands.iter().position(|r| {
            Some(r.on.as_str()) == sub
                && match &r.topic {
                    None => m.direct,
                    Some(t) => m.topic.as_deref() == Some(t.as_str()),
                }
                && r.applies(json.as_ref())
        });
        let Some(i) = found else {
            stats.unhandled.fetch_add(1, Relaxed);
            return None;
        };
        stats.kind_in(i);
        let rule = &sc.commands[i];
        if let Some(path) = &rule.correlate {
            self.match_response(shared, path, json.as_ref());
        }
        if rule.update_state
            && let (Some(Value::Object(fields)), Value::Object(state)) =
                (&json, Arc::make_mut(&mut self.state))
        {
            for (k, v) in fields {
                state.insert(k.clone(), v.clone());
            }
        }
        for (k, t) in &rule.set {
            self.expand(t, json.as_ref(), ctx, 0);
            let v =
                serde_json::from_str(&self.buf).unwrap_or_else(|_| Value::String(self.buf.clone()));
            if let Value::Object(state) = Arc::make_mut(&mut self.state) {
                state.insert(k.clone(), v);
            }
        }
        if let (Some(reply), Some(route)) = (&rule.reply, replies[i]) {
            let rctx = Context {
                ptid: m.ptid,
                etid: ctx.etid,
                n: 0,
            };
            self.expand(&reply.payload, json.as_ref(), &rctx, 0);
            if reply.delay.is_zero() {
                if self
                    .publish(client, conn, shared, route, m.ptid, reply.format)
                    .await
                {
                    stats.replies.fetch_add(1, Relaxed);
                }
            } else {
                // Answer later without holding up this device's other work.
                let payload = encode(&self.buf, reply.format);
                let client = client.clone();
                let delay = reply.delay;
                let tid = if route.tid == 0 { m.ptid } else { route.tid };
                let subtid = route.subtid;
                let shared = shared.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if let Ok(p) = payload
                        && client.publish_ids(tid, subtid, p).await.is_ok()
                    {
                        shared.stats.msgs_out.fetch_add(1, Relaxed);
                        shared.stats.replies.fetch_add(1, Relaxed);
                    }
                });
            }
        }
        match rule.action {
            Some(Action::Restart) => {
                let _ = Box::pin(conn.run_with(client.flush())).await;
                Some(End::Restart)
            }
            None => None,
        }
    }
}

impl Device {
    /// Device `index` before its first connection, its UID rendered.
    fn new(shared: &Shared, index: u32) -> Device {
        let sc = &shared.scenario;
        let mut dev = Device {
            index,
            uid: String::new(),
            seqs: vec![0; sc.periodic.len()],
            state: shared.initial_state(),
            buf: String::new(),
            connects: 0,
            pending: std::collections::VecDeque::new(),
        };
        dev.expand(&sc.uid, None, &Context::default(), 0);
        dev.uid = dev.buf.clone();
        dev
    }
}

/// A device's WebSocket read buffer: devices receive little (commands,
/// Pings), and the buffer grows for a larger frame.
pub const WS_READ_BUFFER: usize = 256;

/// The fleet's options for its devices: lean queues and buffers
/// ([`ClientOptions::lean`]), a small WebSocket read buffer. (The verify
/// subscriber, which receives every report, keeps the ordinary ones.)
pub fn lean_options(base: &ClientOptions) -> ClientOptions {
    let mut o = base.clone();
    o.lean = true;
    o.ws_read_buffer = WS_READ_BUFFER;
    o
}

/// The connect options device `index` uses: its UID, info and credentials
/// rendered from the scenario (the fleet's probe connects as its first device).
pub fn options_for(shared: &Shared, index: u32) -> ClientOptions {
    Device::new(shared, index).options(shared)
}

/// Runs one device until `stop` turns true.
pub async fn run(shared: Arc<Shared>, index: u32, mut stop: watch::Receiver<bool>) -> DeviceResult {
    let stats = &shared.stats;
    let mut dev = Device::new(&shared, index);
    // A device retries its first connection too, and a takeover is one more
    // lost connection: a fleet comes back the way real devices do.
    let policy = ReconnectPolicy {
        retry_first: true,
        end_on_takeover: false,
        ..shared.reconnect
    };
    let mut conn = Session::new(shared.base.clone(), policy);
    let mut failed = None;
    let mut started = Instant::now();
    // Why the last connection ended (an index of `RECONNECT_CAUSES`): the
    // cause of the reconnect that follows. Anything but a scenario's own drop
    // is a lost connection.
    const LOST: usize = 3;
    let mut cause = LOST;
    // Counted in `stats.connecting` from Connecting until the attempt's end.
    let mut connecting = false;
    // A step the serving loop handed back, handled here before polling again.
    let mut pending = None;
    let no_reconnect = || Some("connection ended and --no-reconnect is set".to_string());
    loop {
        if *stop.borrow() {
            break;
        }
        let step = match pending.take() {
            Some(step) => step,
            None => tokio::select! {
                step = conn.poll() => step,
                _ = stop.changed() => break,
            },
        };
        // The step ends a connect attempt: its failure is the connect's.
        let attempt_ended = connecting && !matches!(step, Ok(Step::Connecting { .. }));
        if attempt_ended {
            stats.connecting.fetch_sub(1, Relaxed);
            connecting = false;
        }
        match step {
            Ok(Step::Connecting { .. }) => {
                // Rebuilt per attempt: templates may use random values or
                // the time. Held only until connected (see below).
                conn.set_options(Arc::new(dev.options(&shared)));
                started = Instant::now();
                stats.connecting.fetch_add(1, Relaxed);
                connecting = true;
            }
            Ok(Step::Connected { client, .. }) => {
                stats
                    .connect_latency
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .record(started.elapsed());
                stats.connects.fetch_add(1, Relaxed);
                if dev.connects > 0 {
                    stats.reconnects.fetch_add(1, Relaxed);
                    stats.reconnect_cause(cause);
                }
                cause = LOST;
                dev.connects += 1;
                // The device's own options are rebuilt on the next attempt:
                // until then, the fleet's one copy.
                conn.set_options(shared.base.clone());
                let end = dev
                    .session(&shared, &client, &mut conn, &mut stop, started)
                    .await;
                let again = |initial: Duration| Some(jittered(initial, initial / 2));
                let (reason, delay) = match end {
                    End::Stop => break,
                    End::Poll(step) => {
                        pending = Some(step);
                        continue;
                    }
                    End::Setup(e) => {
                        stats.error_because(error_kind(&e), || e.to_string());
                        let retryable = e.is_retryable();
                        if let Err(e) = Box::pin(conn.setup_failed(e)).await {
                            failed = if retryable {
                                no_reconnect()
                            } else {
                                Some(e.to_string())
                            };
                            break;
                        }
                        continue;
                    }
                    End::Churn => {
                        stats.churned.fetch_add(1, Relaxed);
                        cause = 0;
                        ("churn", again(shared.reconnect.initial))
                    }
                    End::Kill => {
                        stats.killed.fetch_add(1, Relaxed);
                        cause = 1;
                        ("kill", None)
                    }
                    End::Restart => {
                        stats.restarts.fetch_add(1, Relaxed);
                        cause = 2;
                        ("restart", again(shared.reconnect.initial))
                    }
                };
                Box::pin(conn.drop_connection(reason, delay)).await;
                if !shared.reconnect.enabled {
                    failed = no_reconnect();
                    break;
                }
            }
            // Only while serving (handled there); none between connections.
            Ok(Step::Event(_)) => {}
            Ok(Step::Reconnecting { error, .. }) => match error {
                Lost::Connect(e) => stats.error_because(error_kind(&e), || e.to_string()),
                Lost::Dropped(reason) => stats.error_because("connection lost", || reason.clone()),
                // Counted when the setup failed.
                Lost::Setup(_) => {}
            },
            Ok(Step::Closed) => break,
            // A failed connect (not retryable, or --no-reconnect), or a lost
            // connection with --no-reconnect.
            Err(e) if attempt_ended => {
                stats.error_because(error_kind(&e), || e.to_string());
                failed = Some(e.to_string());
                break;
            }
            Err(e) => {
                stats.error_because("connection lost", || e.to_string());
                failed = no_reconnect();
                break;
            }
        }
    }
    if connecting {
        stats.connecting.fetch_sub(1, Relaxed);
    }
    Box::pin(conn.close()).await;
    if failed.is_some() {
        stats.failed.fetch_add(1, Relaxed);
    }
    DeviceResult {
        index,
        uid: dev.uid,
        connects: dev.connects,
        sent: dev.seqs,
        failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fleet of these tests: charger devices of a ws:// URL.
    fn charger_fleet() -> Shared {
        let ep = crate::transport::Endpoint::parse("ws://127.0.0.1:1/").expect("url");
        Shared {
            scenario: Scenario::load("charger").expect("charger"),
            base: Arc::new(lean_options(&ClientOptions::new(ep))),
            broker_tid: 1,
            reconnect: ReconnectPolicy::default(),
            churn_per_min: 0.0,
            kill_after: None,
            stagger: None,
            interval: None,
            bind: vec![],
            stats: Arc::new(Stats::new(2, 1)),
            initial_state: Default::default(),
        }
    }

    /// A device's task is most of what a device costs: 3,304 bytes (debug
    /// build) when a publish awaited a full command in four nested futures,
    /// three timers sat side by side and a command's handling was inline;
    /// 2,432 after; 2,080 once the session held its options behind an `Arc`
    /// and boxed its backoff timer (its connection, now served in this task,
    /// is a box of its own: `an_inline_connection_stays_small`).
    #[test]
    fn a_device_task_future_stays_small() {
        let shared = Arc::new(charger_fleet());
        let (_stop, stop_rx) = watch::channel(false);
        let task = run(shared, 0, stop_rx);
        let size = std::mem::size_of_val(&task);
        eprintln!("device task future: {size} bytes");
        assert!(size < 2300, "a device's future is {size} bytes");
    }

    #[test]
    fn devices_share_the_initial_state_until_a_command_changes_theirs() {
        let shared = charger_fleet();
        let a = Device::new(&shared, 0);
        let mut b = Device::new(&shared, 1);
        assert!(Arc::ptr_eq(&a.state, &b.state), "one copy for the fleet");
        if let Value::Object(m) = Arc::make_mut(&mut b.state) {
            m.insert("On".into(), Value::Bool(true));
        }
        assert!(!Arc::ptr_eq(&a.state, &b.state));
        assert_eq!(a.state["On"], Value::Bool(false), "the others keep theirs");
        assert_eq!(b.state["On"], Value::Bool(true));
    }

    #[test]
    fn hex_payloads_become_bytes_and_bad_hex_is_refused() {
        assert_eq!(
            encode("de ad\nbe ef", PayloadFormat::Hex).as_deref(),
            Ok(&[0xde, 0xad, 0xbe, 0xef][..])
        );
        assert!(encode("xyz", PayloadFormat::Hex).is_err());
        assert_eq!(
            encode("{\"a\":1}", PayloadFormat::Json).as_deref(),
            Ok(&b"{\"a\":1}"[..])
        );
    }

    #[test]
    fn jitter_stays_within_its_bounds_and_churn_follows_its_rate() {
        let base = Duration::from_millis(1000);
        for _ in 0..200 {
            let d = jittered(base, Duration::from_millis(100));
            assert!(
                d >= Duration::from_millis(900) && d <= Duration::from_millis(1100),
                "{d:?}"
            );
        }
        assert_eq!(jittered(base, Duration::ZERO), base);
        assert!(churn_delay(0.0).is_none());
        // Mean of an exponential with 6 drops per minute: 10 s.
        let n = 4000;
        let mean: f64 = (0..n)
            .map(|_| churn_delay(6.0).map(|d| d.as_secs_f64()).unwrap_or(0.0))
            .sum::<f64>()
            / n as f64;
        assert!((8.0..12.0).contains(&mean), "mean {mean}");
    }
}
