//! The RPC caller: request/reply the way SMQ apps do it, on a connected
//! [`Client`], described by a plain [`CallSpec`] (no flags, no printing).
//!
//! Named requests publish to a destination with the request name as sub-topic
//! and await the reply on `self` under the response sub-topic (`…Resp`);
//! correlated calls send `{id,name,args}` on `$RpcReq` and match `{id,rsp|err}`
//! on `$RpcResp` (the conventions of [`crate::protocol::rpc`]). One dispatcher
//! task hands replies to the pending calls by correlation key; when the
//! connection drops it fails every pending call at once, so nothing waits for
//! its timeout on a dead socket. `smqctl rpc`, `bench rpc` and the shell's
//! `rpc`/`call` turn their flags into a [`CallSpec`] and print what comes back;
//! [`load`] is the load generator (concurrency, rate, percentiles) of
//! `rpc --count` and `bench rpc`, returning a plain [`LoadReport`].
//!
//! May import: the client (this folder), `protocol` (`protocol::rpc`),
//! `latency`. Never `cli`, `commands` or `output`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::{Client, ClientError, Event, Message, Subscription};
use crate::latency::Latency;
use crate::protocol::rpc::{rpc_error, rpc_request};

/// One kind of call, with everything it needs to know: what to send, where,
/// on which sub-topics, and how long to wait.
#[derive(Debug, Clone)]
pub struct CallSpec {
    pub call: Call,
    pub to: Target,
    /// Sub-topic of the requests: the request name, or `$RpcReq` (or another
    /// name) for correlated calls.
    pub request: String,
    /// Sub-topic the replies arrive on at `self`.
    pub response: String,
    /// For each call's reply, and for the setup (Createsub, Subscribe, Create)
    /// before the first call.
    pub timeout: Duration,
    /// Many replies to one request: the caller reads the reply route itself
    /// (the subscription [`Caller::start`] returns); no dispatcher.
    pub collect: bool,
}

/// What a call sends.
#[derive(Debug, Clone)]
pub enum Call {
    Named {
        payload: Bytes,
        /// The payload as JSON object, when `id_field` needs to write into it.
        object: Option<serde_json::Map<String, Value>>,
        /// Field of request and reply that carries the correlation ID.
        id_field: Option<String>,
    },
    Correlated {
        name: String,
        args: Vec<Value>,
    },
}

/// Where the requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The broker's own client at this ETID.
    Server(u32),
    /// A client's ETID.
    Etid(u32),
    /// Ourselves (a responder on the same connection).
    SelfEtid,
    /// A topic: every subscriber gets the request.
    Topic(String),
}

#[derive(Debug)]
pub struct Reply {
    pub msg: Message,
    pub json: Option<Value>,
    pub latency: Duration,
}

#[derive(Debug)]
pub enum CallError {
    Timeout,
    /// The handler answered `{"err": …}`.
    Remote(String, Reply),
    /// The connection went while the call was in flight (sent, no reply).
    Lost(String),
    /// The connection was already gone: the call was never sent.
    NotSent(String),
    /// A reply came without the correlation field (`--id-field`, `id` of
    /// `--call`): the handler does not echo it, so no reply can be matched.
    /// Said once; every call then fails at once instead of timing out.
    NoId(String),
}

/// Why [`Caller::start`] could not set up the reply route.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The setup as a whole outlived the call's timeout.
    #[error("the broker did not answer the call's setup (Create/Createsub)")]
    SetupTimeout,
    /// Createsub, Subscribe or Create failed (an unanswered one is `NoAck`).
    #[error(transparent)]
    Client(#[from] ClientError),
}

#[derive(Default)]
struct Pending {
    waiting: HashMap<String, oneshot::Sender<Reply>>,
    closed: Option<String>,
    unmatched: u64,
    /// Timed-out calls without a correlation ID whose reply may still arrive;
    /// such a late reply must not be taken for the next call's.
    stale: u64,
    /// Set by the first reply that lacks the correlation field.
    no_id: Option<String>,
}

/// A connected caller: one client, one reply route, many calls.
pub struct Caller {
    client: Client,
    dest: u32,
    dest_label: String,
    request: String,
    req_subtid: u32,
    resp_name: String,
    call: Call,
    timeout: Duration,
    next_id: AtomicU64,
    prefix: String,
    pending: Arc<Mutex<Pending>>,
    /// Dropped with the caller: ends its dispatcher (and so its reply route),
    /// which matters on a connection that outlives the call (the shell).
    _stop: oneshot::Sender<()>,
}

fn lock(p: &Mutex<Pending>) -> std::sync::MutexGuard<'_, Pending> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// The field a reply must echo for this kind of call, if any.
fn id_field(call: &Call) -> Option<&str> {
    match call {
        Call::Correlated { .. } => Some("id"),
        Call::Named { id_field, .. } => id_field.as_deref(),
    }
}

/// What to say when a reply cannot carry the correlation field `field`.
fn no_id_reason(field: &str, json: Option<&Value>) -> String {
    match json {
        Some(Value::Object(_)) => {
            format!("a reply arrived without `{field}`: the handler does not echo it")
        }
        _ => format!(
            "a reply arrived that is not a JSON object, so it has no `{field}`: the handler does not echo it"
        ),
    }
}

/// The correlation key of a reply, per kind of call.
fn reply_key(call: &Call, json: Option<&Value>) -> Option<String> {
    let field = match call {
        Call::Correlated { .. } => "id",
        Call::Named {
            id_field: Some(f), ..
        } => f.as_str(),
        Call::Named { id_field: None, .. } => return Some(String::new()),
    };
    match json?.get(field)? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Caller {
    /// Registers the reply route on a connected client and starts the
    /// dispatcher. The route is in place before the first request leaves (the
    /// readiness barrier). The setup's acks (Createsub, Subscribe, Create of a
    /// topic) count against `spec.timeout` too: a broker that never answers
    /// them must not hang the call. `events` is the client's event stream when
    /// this caller owns the connection (one-shot `rpc`); a caller sharing a
    /// connection (the shell) passes None and learns of its end from the route
    /// closing. With `spec.collect` the reply subscription is returned for the
    /// caller to read.
    pub async fn start(
        client: &Client,
        events: Option<mpsc::Receiver<Event>>,
        spec: CallSpec,
    ) -> Result<(Arc<Caller>, Option<Subscription>), StartError> {
        let bounded = client.with_ack_timeout(spec.timeout.min(client.ack_timeout()));
        match tokio::time::timeout(spec.timeout, Self::attach(bounded, events, spec)).await {
            Ok(r) => r.map_err(StartError::Client),
            Err(_) => Err(StartError::SetupTimeout),
        }
    }

    async fn attach(
        client: Client,
        events: Option<mpsc::Receiver<Event>>,
        spec: CallSpec,
    ) -> Result<(Arc<Caller>, Option<Subscription>), ClientError> {
        let mut events = events;
        let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
        let req_subtid = client.createsub(&spec.request).await?;
        let sub = client.subscribe("self", Some(&spec.response)).await?;
        let (dest, dest_label) = match &spec.to {
            Target::Server(etid) => (*etid, format!("ETID {etid} (broker)")),
            Target::Etid(etid) => (*etid, format!("ETID {etid}")),
            Target::SelfEtid => (client.etid(), format!("self (ETID {})", client.etid())),
            Target::Topic(name) => (client.create(name).await?, format!("topic {name}")),
        };
        let caller = Arc::new(Caller {
            client,
            dest,
            dest_label,
            request: spec.request,
            req_subtid,
            resp_name: spec.response,
            call: spec.call,
            timeout: spec.timeout,
            next_id: AtomicU64::new(1),
            prefix: format!("smqctl-{:08x}", rand::random::<u32>()),
            pending: Arc::new(Mutex::new(Pending::default())),
            _stop: stop_tx,
        });
        if spec.collect {
            // Many replies to one request: the caller reads the route itself.
            if let Some(mut events) = events {
                tokio::spawn(async move { while events.recv().await.is_some() {} });
            }
            return Ok((caller, Some(sub)));
        }
        let pending = caller.pending.clone();
        let call = caller.call.clone();
        let mut rx = sub.rx;
        tokio::spawn(async move {
            let reason = loop {
                tokio::select! {
                    m = rx.recv() => match m {
                        Some(m) => {
                            let json = serde_json::from_slice::<Value>(&m.payload).ok();
                            let key = reply_key(&call, json.as_ref());
                            let mut p = lock(&pending);
                            if key.as_deref() == Some("") && p.stale > 0 {
                                // The late answer to a call that already timed out.
                                p.stale -= 1;
                                p.unmatched += 1;
                                continue;
                            }
                            if key.is_none()
                                && let Some(field) = id_field(&call)
                            {
                                // No reply of this handler can ever match: every
                                // waiting call fails now (said once), not by timeout.
                                p.unmatched += 1;
                                if p.no_id.is_none() {
                                    p.no_id = Some(no_id_reason(field, json.as_ref()));
                                }
                                p.waiting.clear();
                                continue;
                            }
                            match key.and_then(|k| p.waiting.remove(&k)) {
                                Some(tx) => {
                                    let _ = tx.send(Reply { msg: m, json, latency: Duration::ZERO });
                                }
                                None => p.unmatched += 1,
                            }
                        }
                        None => {
                            // The routes went away with the connection; its Closed
                            // event (already sent) carries the reason.
                            let mut reason = "connection closed".to_string();
                            if let Some(events) = events.as_mut() {
                                while let Some(ev) = events.recv().await {
                                    if let Event::Closed { reason: r, .. } = ev {
                                        reason = r;
                                        break;
                                    }
                                }
                            }
                            break reason;
                        }
                    },
                    _ = &mut stop_rx => return,
                    ev = next_event(&mut events) => match ev {
                        Some(Event::Closed { reason, .. }) => break reason,
                        Some(_) => {}
                        None => break "connection closed".to_string(),
                    },
                }
            };
            // Fail every pending call now: dropping the senders wakes them.
            let mut p = lock(&pending);
            p.closed = Some(reason);
            p.waiting.clear();
        });
        Ok((caller, None))
    }

    /// Sends one call and waits for its reply.
    pub async fn call(&self) -> Result<Reply, CallError> {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (key, payload) = self.build(n);
        let (tx, rx) = oneshot::channel();
        {
            let mut p = lock(&self.pending);
            if let Some(reason) = &p.no_id {
                return Err(CallError::NoId(reason.clone()));
            }
            if let Some(reason) = &p.closed {
                return Err(CallError::NotSent(reason.clone()));
            }
            p.waiting.insert(key.clone(), tx);
        }
        let started = Instant::now();
        if let Err(e) = self
            .client
            .publish_ids(self.dest, self.req_subtid, payload)
            .await
        {
            lock(&self.pending).waiting.remove(&key);
            return Err(CallError::NotSent(e.to_string()));
        }
        match tokio::time::timeout(self.timeout, rx).await {
            Err(_) => {
                let mut p = lock(&self.pending);
                if p.waiting.remove(&key).is_some() && key.is_empty() {
                    p.stale += 1;
                }
                Err(CallError::Timeout)
            }
            Ok(Err(_)) => {
                let p = lock(&self.pending);
                if let Some(reason) = &p.no_id {
                    return Err(CallError::NoId(reason.clone()));
                }
                Err(CallError::Lost(
                    p.closed
                        .clone()
                        .unwrap_or_else(|| "connection closed".into()),
                ))
            }
            Ok(Ok(mut reply)) => {
                reply.latency = started.elapsed();
                if let Call::Correlated { .. } = self.call
                    && let Some(text) = reply.json.as_ref().and_then(rpc_error)
                {
                    return Err(CallError::Remote(text, reply));
                }
                Ok(reply)
            }
        }
    }

    /// Sends the first request once, without waiting (collect mode: the
    /// replies are read from the subscription [`Caller::start`] returned).
    pub async fn send_once(&self) -> Result<(), ClientError> {
        let (_, payload) = self.build(1);
        self.client
            .publish_ids(self.dest, self.req_subtid, payload)
            .await?;
        self.client.flush().await
    }

    /// The correlation key and body of call number `n`.
    fn build(&self, n: u64) -> (String, Bytes) {
        match &self.call {
            Call::Correlated { name, args } => (n.to_string(), rpc_request(n, name, args)),
            Call::Named {
                payload,
                object,
                id_field,
            } => match (id_field, object) {
                (Some(field), Some(obj)) => {
                    let id = format!("{}-{n}", self.prefix);
                    let mut obj = obj.clone();
                    obj.insert(field.clone(), Value::String(id.clone()));
                    (id, Bytes::from(Value::Object(obj).to_string()))
                }
                _ => (String::new(), payload.clone()),
            },
        }
    }

    /// "sent X to ETID 1 (broker) and waited for Y on self".
    pub fn describe(&self) -> String {
        let what = match &self.call {
            Call::Named { .. } => self.request.clone(),
            Call::Correlated { name, .. } => format!("call {name} on {}", self.request_name()),
        };
        format!(
            "sent {what} to {} and waited for {} on self",
            self.dest_label, self.resp_name
        )
    }

    /// The request sub-topic's name, as the client's name cache knows it.
    pub fn request_name(&self) -> String {
        self.client
            .names()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .subtopic(self.req_subtid)
            .map(|s| s.to_string())
            .unwrap_or_default()
    }

    /// Our own ETID (replies that come from ourselves print as such).
    pub fn etid(&self) -> u32 {
        self.client.etid()
    }

    pub fn call_kind(&self) -> &Call {
        &self.call
    }

    /// How long each call waits for its reply.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Why the connection went, once it has: every later call is `NotSent`.
    pub fn closed(&self) -> Option<String> {
        lock(&self.pending).closed.clone()
    }

    /// Replies that matched no waiting call (late, duplicated, or foreign).
    /// Why no reply can be matched (a reply lacked the correlation field).
    pub fn no_id(&self) -> Option<String> {
        lock(&self.pending).no_id.clone()
    }

    pub fn unmatched(&self) -> u64 {
        lock(&self.pending).unmatched
    }
}

/// A load run: `calls` calls, at most `concurrency` in flight, at most
/// `rate` per second (None or 0: as fast as they complete).
#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub calls: u64,
    pub concurrency: usize,
    pub rate: Option<f64>,
    /// Where the run also shows its counts as they come (`--metrics-listen`).
    pub live: Option<Arc<LoadLive>>,
}

/// A load run's counts so far, readable while it runs: the report's own
/// figures, updated as each call ends.
#[derive(Debug, Default)]
pub struct LoadLive {
    pub ok: AtomicU64,
    pub remote: AtomicU64,
    pub timeout: AtomicU64,
    pub lost: AtomicU64,
    pub not_sent: AtomicU64,
    pub no_id: AtomicU64,
    /// Of the answered calls (ok and remote).
    pub latency: Mutex<Latency>,
}

/// What a load run did. `S` is what the stop future gave, when it ended the run.
#[derive(Debug)]
pub struct LoadReport<S> {
    pub calls: u64,
    pub ok: u64,
    /// Answered `{err}`.
    pub remote: u64,
    pub timeout: u64,
    /// Sent, then the connection went before the reply.
    pub lost: u64,
    /// Never sent: the connection was already gone.
    pub not_sent: u64,
    /// Replies that matched no waiting call.
    pub unmatched: u64,
    /// Calls that failed because the handler's replies lack the correlation
    /// field ([`CallError::NoId`]): sent or not, none can get a reply.
    pub no_id: u64,
    /// Of the answered calls (ok and remote).
    pub latency: Latency,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    pub interrupted: Option<S>,
    /// The run once a second (at most [`MAX_LOAD_SAMPLES`]: past it every
    /// other sample goes and the stride doubles).
    pub series: Vec<LoadSample>,
}

/// One second (or stride) of a load run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadSample {
    pub t_s: f64,
    /// Calls answered (ok or `{err}`) per second since the previous sample.
    pub answered_per_s: f64,
    /// Calls that failed so far (error, timeout, lost, not sent, no id).
    pub failed: u64,
    /// Latency (ms) of the calls answered since the previous sample.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// Most samples [`LoadReport::series`] keeps.
pub const MAX_LOAD_SAMPLES: usize = 600;

/// Collects [`LoadSample`]s: `tick` once a second.
struct LoadSampler {
    started: Instant,
    last: Instant,
    window: Latency,
    answered: u64,
    stride: u64,
    ticks: u64,
    out: Vec<LoadSample>,
}

impl LoadSampler {
    fn new(started: Instant) -> LoadSampler {
        LoadSampler {
            started,
            last: started,
            window: Latency::new(),
            answered: 0,
            stride: 1,
            ticks: 0,
            out: vec![LoadSample::default()],
        }
    }

    fn answered(&mut self, d: Duration) {
        self.window.record(d);
        self.answered += 1;
    }

    fn sample(&mut self, failed: u64) {
        let now = Instant::now();
        let dt = (now - self.last).as_secs_f64().max(1e-9);
        let q = |w: &Latency, k: &str| w.to_json().get(k).and_then(serde_json::Value::as_f64);
        self.out.push(LoadSample {
            t_s: crate::latency::secs((now - self.started).as_secs_f64()),
            answered_per_s: crate::latency::rate(self.answered as f64 / dt),
            failed,
            p50_ms: q(&self.window, "p50"),
            p99_ms: q(&self.window, "p99"),
        });
        self.last = now;
        self.window = Latency::new();
        self.answered = 0;
        if self.out.len() >= MAX_LOAD_SAMPLES {
            let mut i = 0;
            self.out.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.stride *= 2;
        }
    }

    fn tick(&mut self, failed: u64) {
        self.ticks += 1;
        if self.ticks.is_multiple_of(self.stride) {
            self.sample(failed);
        }
    }
}

impl<S> LoadReport<S> {
    /// Calls that ended (answered, timed out or lost; not the never-sent).
    pub fn completed(&self) -> u64 {
        self.ok + self.remote + self.timeout + self.lost + self.no_id
    }

    /// Calls that got an answer, `{err}` included.
    pub fn answered(&self) -> u64 {
        self.ok + self.remote
    }
}

/// Makes `spec.calls` calls on `caller` and counts what came back, calling
/// `on_result` once per finished call (a progress bar). When `stop` completes
/// first, issuing stops, calls already answered count, those in flight are
/// abandoned, and the report says what `stop` gave; from then on nothing is
/// awaited, so a caller racing the same signal still gets the report.
pub async fn load<S>(
    caller: &Arc<Caller>,
    spec: LoadSpec,
    stop: impl Future<Output = S>,
    mut on_result: impl FnMut(),
) -> LoadReport<S> {
    let LoadSpec {
        calls: n,
        concurrency,
        rate,
        live,
    } = spec;
    let live = live.unwrap_or_default();
    let (tx, mut rx) = mpsc::unbounded_channel::<Result<Reply, CallError>>();
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut ticker = rate.filter(|r| *r > 0.0).map(|r| {
        let mut t = tokio::time::interval(Duration::from_secs_f64(1.0 / r));
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    let started = Instant::now();
    let issuer = {
        let caller = caller.clone();
        let sem = sem.clone();
        tokio::spawn(async move {
            for _ in 0..n {
                if let Some(reason) = caller.closed() {
                    // Connection gone: the rest fail at once, not one tick or
                    // timeout each.
                    let _ = tx.send(Err(CallError::NotSent(reason)));
                    continue;
                }
                if let Some(reason) = caller.no_id() {
                    // No reply can match: likewise.
                    let _ = tx.send(Err(CallError::NoId(reason)));
                    continue;
                }
                if let Some(t) = ticker.as_mut() {
                    t.tick().await;
                }
                let Ok(permit) = sem.clone().acquire_owned().await else {
                    break;
                };
                let caller = caller.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let r = caller.call().await;
                    // Counted before the next call may start.
                    let _ = tx.send(r);
                    drop(permit);
                });
            }
        })
    };
    let mut t = LoadReport {
        calls: n,
        ok: 0,
        remote: 0,
        timeout: 0,
        lost: 0,
        not_sent: 0,
        unmatched: 0,
        no_id: 0,
        latency: Latency::default(),
        first_error: None,
        elapsed: Duration::ZERO,
        interrupted: None,
        series: Vec::new(),
    };
    let mut sampler = LoadSampler::new(started);
    let mut every = tokio::time::interval_at(
        tokio::time::Instant::from_std(started) + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    let failed = |t: &LoadReport<S>| t.remote + t.timeout + t.lost + t.not_sent + t.no_id;
    tokio::pin!(stop);
    loop {
        let r = if t.interrupted.is_some() {
            // Calls already answered count; those in flight are abandoned.
            match rx.try_recv() {
                Ok(r) => r,
                Err(_) => break,
            }
        } else {
            tokio::select! {
                r = rx.recv() => match r {
                    Some(r) => r,
                    None => break,
                },
                s = &mut stop => {
                    // Stop issuing.
                    issuer.abort();
                    t.interrupted = Some(s);
                    continue;
                }
                _ = every.tick() => {
                    sampler.tick(failed(&t));
                    continue;
                }
            }
        };
        let counter = match &r {
            Ok(_) => &live.ok,
            Err(CallError::Remote(..)) => &live.remote,
            Err(CallError::Timeout) => &live.timeout,
            Err(CallError::Lost(_)) => &live.lost,
            Err(CallError::NotSent(_)) => &live.not_sent,
            Err(CallError::NoId(_)) => &live.no_id,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let Ok(reply) | Err(CallError::Remote(_, reply)) = &r {
            live.latency
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record(reply.latency);
        }
        match r {
            Ok(reply) => {
                t.ok += 1;
                t.latency.record(reply.latency);
                sampler.answered(reply.latency);
            }
            Err(CallError::Remote(e, reply)) => {
                t.remote += 1;
                t.latency.record(reply.latency);
                sampler.answered(reply.latency);
                t.first_error.get_or_insert(e);
            }
            Err(CallError::Timeout) => t.timeout += 1,
            Err(CallError::Lost(reason)) => {
                t.lost += 1;
                t.first_error.get_or_insert(reason);
            }
            Err(CallError::NotSent(reason)) => {
                t.not_sent += 1;
                t.first_error.get_or_insert(reason);
            }
            Err(CallError::NoId(reason)) => {
                t.no_id += 1;
                t.first_error.get_or_insert(reason);
            }
        }
        on_result();
    }
    if t.interrupted.is_none() {
        let _ = issuer.await;
    }
    // Once interrupted the aborted issuer is not awaited: that await can be
    // Pending, and the shell, seeing the same signal, would drop this future
    // before its caller prints the report. From here on nothing waits.
    t.elapsed = started.elapsed();
    t.unmatched = caller.unmatched();
    // The end of the run, unless within half a second of the last sample.
    if sampler.last.elapsed() >= Duration::from_millis(500) {
        sampler.sample(failed(&t));
    }
    t.series = sampler.out;
    t
}

/// The next event, or never when the connection's events belong to someone else.
async fn next_event(events: &mut Option<mpsc::Receiver<Event>>) -> Option<Event> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reply_keys_follow_the_mode() {
        let corr = Call::Correlated {
            name: "add".into(),
            args: vec![],
        };
        assert_eq!(
            reply_key(&corr, Some(&json!({"id": 7, "rsp": 3}))),
            Some("7".into())
        );
        let named = Call::Named {
            payload: Bytes::new(),
            object: None,
            id_field: Some("request_id".into()),
        };
        assert_eq!(
            reply_key(&named, Some(&json!({"request_id": "a-1"}))),
            Some("a-1".into())
        );
        assert_eq!(reply_key(&named, Some(&json!({}))), None);
        assert_eq!(reply_key(&named, None), None);
        // Without an ID field every reply has the empty key: first come, first matched.
        let plain = Call::Named {
            payload: Bytes::new(),
            object: None,
            id_field: None,
        };
        assert_eq!(reply_key(&plain, None), Some(String::new()));
    }

    use crate::broker::{Broker, BrokerConfig};
    use crate::client::{ClientOptions, Dest};
    use crate::protocol::rpc::{RPC_REQ, RPC_RESP};
    use crate::transport::Endpoint;

    /// An embedded broker on 127.0.0.1:0 and options pointing at it.
    async fn broker() -> (ClientOptions, oneshot::Sender<()>) {
        let listener = crate::broker::listen("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = Broker::new(BrokerConfig::default())
                .run(listener, async {
                    let _ = stopped.await;
                })
                .await;
        });
        let url = format!("ws://{addr}/");
        (
            ClientOptions::new(Endpoint::parse(&url).expect("url")),
            stop,
        )
    }

    /// A peer answering correlated calls with `answer(id)` (None: silence).
    /// Returns its ETID and a count of the requests it saw.
    async fn responder(
        opts: &ClientOptions,
        answer: impl Fn(u64) -> Option<Value> + Send + 'static,
    ) -> (Client, Arc<AtomicU64>) {
        let (peer, _events) = Client::connect(opts).await.expect("responder");
        let mut reqs = peer.subscribe("self", Some(RPC_REQ)).await.expect("route");
        let seen = Arc::new(AtomicU64::new(0));
        let (p, n) = (peer.clone(), seen.clone());
        tokio::spawn(async move {
            while let Some(m) = reqs.rx.recv().await {
                n.fetch_add(1, Ordering::SeqCst);
                let req: Value = serde_json::from_slice(&m.payload).expect("a JSON request");
                let id = req["id"].as_u64().expect("a numeric id");
                if let Some(reply) = answer(id) {
                    let body = Bytes::from(reply.to_string());
                    let _ = p.publish(Dest::Id(m.ptid), Some(RPC_RESP), body).await;
                }
            }
        });
        (peer, seen)
    }

    async fn caller_to(
        opts: &ClientOptions,
        peer: u32,
        timeout: Duration,
    ) -> (Client, Arc<Caller>) {
        let (client, events) = Client::connect(opts).await.expect("caller");
        let spec = CallSpec {
            call: Call::Correlated {
                name: "f".into(),
                args: vec![],
            },
            to: Target::Etid(peer),
            request: RPC_REQ.into(),
            response: RPC_RESP.into(),
            timeout,
            collect: false,
        };
        let (caller, sub) = Caller::start(&client, Some(events), spec)
            .await
            .expect("start");
        assert!(sub.is_none(), "not a collection");
        (client, caller)
    }

    fn spec(calls: u64, concurrency: usize, rate: Option<f64>) -> LoadSpec {
        LoadSpec {
            calls,
            concurrency,
            rate,
            live: None,
        }
    }

    #[test]
    fn completed_counts_every_ended_call_but_the_never_sent_and_answered_the_replies() {
        let r = LoadReport::<()> {
            calls: 100,
            ok: 1,
            remote: 2,
            timeout: 4,
            lost: 8,
            not_sent: 32,
            unmatched: 64,
            no_id: 16,
            latency: Latency::default(),
            first_error: None,
            elapsed: Duration::ZERO,
            interrupted: None,
            series: Vec::new(),
        };
        assert_eq!(r.completed(), 1 + 2 + 4 + 8 + 16);
        assert_eq!(r.answered(), 1 + 2);
    }

    /// A named request with an ID field: call n's body is the payload object
    /// with the field set to a fresh ID, and that ID is the correlation key
    /// (kills the mutant that drops this arm: every call then sent the bare
    /// payload and had no key to match its reply by).
    #[tokio::test]
    async fn a_named_request_with_an_id_field_carries_a_fresh_id_per_call() {
        let (opts, _stop) = broker().await;
        let (client, events) = Client::connect(&opts).await.expect("caller");
        let object: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"cmd":"getConfig","n":7}"#).expect("object");
        let spec = CallSpec {
            call: Call::Named {
                payload: Bytes::from(Value::Object(object.clone()).to_string()),
                object: Some(object),
                id_field: Some("reqid".into()),
            },
            to: Target::Etid(1),
            request: "FooReq".into(),
            response: "FooResp".into(),
            timeout: Duration::from_secs(5),
            collect: false,
        };
        let (caller, _sub) = Caller::start(&client, Some(events), spec)
            .await
            .expect("start");
        let (key3, body3) = caller.build(3);
        let (key4, _) = caller.build(4);
        assert!(
            key3.ends_with("-3") && key3.starts_with("smqctl-"),
            "{key3}"
        );
        assert_ne!(key3, key4, "one ID per call");
        let sent: Value = serde_json::from_slice(&body3).expect("a JSON body");
        assert_eq!(
            sent,
            serde_json::json!({"cmd": "getConfig", "n": 7, "reqid": key3}),
            "the payload's fields and the ID"
        );
    }

    #[tokio::test]
    async fn load_counts_answers_remote_errors_and_timeouts_once_each_and_times_the_answered() {
        let (opts, _stop) = broker().await;
        // Calls 4, 8, 12 answer {err}; 1, 5, 9 get no answer; the rest rsp.
        let (peer, _) = responder(&opts, |id| match id % 4 {
            0 => Some(serde_json::json!({"id": id, "err": format!("boom {id}")})),
            1 => None,
            _ => Some(serde_json::json!({"id": id, "rsp": id * 10})),
        })
        .await;
        let (_client, caller) = caller_to(&opts, peer.etid(), Duration::from_millis(500)).await;
        let mut results = 0;
        let r = load(
            &caller,
            spec(12, 3, None),
            std::future::pending::<()>(),
            || results += 1,
        )
        .await;
        assert_eq!(
            (
                r.calls, r.ok, r.remote, r.timeout, r.lost, r.not_sent, r.no_id
            ),
            (12, 6, 3, 3, 0, 0, 0),
            "{r:?}"
        );
        assert_eq!(results, 12, "one progress step per call");
        assert_eq!(
            r.latency.count(),
            9,
            "answered calls are timed, {{err}} too"
        );
        assert!(
            r.first_error
                .as_deref()
                .is_some_and(|e| e.starts_with("boom")),
            "{r:?}"
        );
        assert!(r.interrupted.is_none());
    }

    #[tokio::test]
    async fn load_of_a_handler_that_echoes_no_id_fails_every_call_as_no_id_at_once() {
        let (opts, _stop) = broker().await;
        let (peer, _) = responder(&opts, |_| Some(serde_json::json!({"rsp": 1}))).await;
        let (_client, caller) = caller_to(&opts, peer.etid(), Duration::from_secs(20)).await;
        let started = Instant::now();
        let r = load(
            &caller,
            spec(5, 1, None),
            std::future::pending::<()>(),
            || {},
        )
        .await;
        assert_eq!(
            (r.ok, r.timeout, r.no_id, r.not_sent),
            (0, 0, 5, 0),
            "{r:?}"
        );
        assert!(
            r.first_error
                .as_deref()
                .is_some_and(|e| e.contains("without `id`")),
            "{r:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not one timeout each"
        );
    }

    #[tokio::test]
    async fn load_counts_calls_in_flight_when_the_connection_goes_as_lost_and_the_rest_as_not_sent()
    {
        let (opts, _stop) = broker().await;
        let (peer, seen) = responder(&opts, |_| None).await;
        let (client, caller) = caller_to(&opts, peer.etid(), Duration::from_secs(20)).await;
        let run = load(
            &caller,
            spec(6, 2, None),
            std::future::pending::<()>(),
            || {},
        );
        let cut = async {
            let deadline = Instant::now() + Duration::from_secs(10);
            while seen.load(Ordering::SeqCst) < 2 {
                assert!(
                    Instant::now() < deadline,
                    "the two first calls never arrived"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            client.disconnect("").await;
        };
        let (r, ()) = tokio::join!(run, cut);
        assert_eq!((r.ok, r.timeout, r.lost, r.not_sent), (0, 0, 2, 4), "{r:?}");
        assert_eq!(r.completed(), 2, "the never-sent did not end");
        assert!(r.first_error.is_some(), "{r:?}");
    }

    #[tokio::test]
    async fn load_rate_spaces_the_calls_and_zero_means_flat_out() {
        let (opts, _stop) = broker().await;
        let (peer, _) = responder(&opts, |id| Some(serde_json::json!({"id": id, "rsp": 0}))).await;
        let (_client, caller) = caller_to(&opts, peer.etid(), Duration::from_secs(5)).await;
        // 20/s: five calls take four intervals of 50 ms (the first goes at once).
        let r = load(
            &caller,
            spec(5, 5, Some(20.0)),
            std::future::pending::<()>(),
            || {},
        )
        .await;
        assert_eq!(r.ok, 5, "{r:?}");
        assert!(
            r.elapsed >= Duration::from_millis(190),
            "paced: {:?}",
            r.elapsed
        );
        assert!(
            r.elapsed < Duration::from_secs(3),
            "at 20/s, not slower: {:?}",
            r.elapsed
        );
        for rate in [Some(0.0), None] {
            let r = load(
                &caller,
                spec(5, 5, rate),
                std::future::pending::<()>(),
                || {},
            )
            .await;
            assert_eq!(r.ok, 5, "{rate:?}: {r:?}");
        }
    }

    #[tokio::test]
    async fn load_stopped_keeps_what_was_answered_and_says_what_stopped_it() {
        let (opts, _stop) = broker().await;
        // Call 1 is answered, every later one hangs.
        let (peer, seen) = responder(&opts, |id| {
            (id == 1).then(|| serde_json::json!({"id": 1, "rsp": 0}))
        })
        .await;
        let (_client, caller) = caller_to(&opts, peer.etid(), Duration::from_secs(20)).await;
        let stop = async {
            let deadline = Instant::now() + Duration::from_secs(10);
            while seen.load(Ordering::SeqCst) < 2 {
                assert!(Instant::now() < deadline, "calls never arrived");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            "stopped"
        };
        let started = Instant::now();
        let r = load(&caller, spec(50, 1, None), stop, || {}).await;
        assert_eq!(r.interrupted, Some("stopped"));
        assert_eq!((r.ok, r.timeout, r.lost), (1, 0, 0), "{r:?}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no call waited out its timeout"
        );
    }
}
