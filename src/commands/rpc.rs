//! `smqctl rpc` (and `smqctl bench rpc`): request/reply the way SMQ apps do it.
//!
//! Named requests publish to the broker's ETID with the request name as
//! sub-topic and await the reply on `self` under the derived `…Resp` sub-topic;
//! correlated calls send `{id,name,args}` on `$RpcReq` and match `{id,rsp|err}`
//! on `$RpcResp`. One dispatcher task hands replies to the pending calls by
//! correlation key; when the connection drops it fails every pending call at
//! once, so nothing waits for its timeout on a dead socket.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::{client_options, exit, input_error, json_error};
use crate::cli::{GlobalArgs, RpcArgs, RpcRequest};
use crate::client::{Client, ClientError, Event, Message, Subscription};
use crate::latency::Latency;
use crate::output::{Format, Printer, escape_controls, use_color};
use crate::shutdown::Signals;

/// `SearchSitesReq` → `SearchSitesResp`; other names get `Resp` appended.
pub fn derive_response(request: &str) -> String {
    match request.strip_suffix("Req") {
        Some(base) => format!("{base}Resp"),
        None => format!("{request}Resp"),
    }
}

/// The answer to a `$RpcReq` call: `{id, rsp}` or `{id, err}`, with the id
/// copied from the request (responders: `serve --rpc-exec`, broker handlers).
pub fn rpc_reply(request: &Value, result: Result<Value, String>) -> Bytes {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let answer = match result {
        Ok(rsp) => json!({"id": id, "rsp": rsp}),
        Err(err) => json!({"id": id, "err": err}),
    };
    Bytes::from(answer.to_string())
}

/// A responder's output as a JSON value: parsed when it is JSON, else a string.
pub fn json_or_string(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// What a call sends.
#[derive(Debug, Clone)]
enum Mode {
    Named {
        request: String,
        payload: Bytes,
        /// The payload as JSON object, when --id-field needs to write into it.
        object: Option<serde_json::Map<String, Value>>,
        id_field: Option<String>,
    },
    Correlated {
        name: String,
        args: Vec<Value>,
    },
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
}

#[derive(Default)]
struct Pending {
    waiting: HashMap<String, oneshot::Sender<Reply>>,
    closed: Option<String>,
    unmatched: u64,
    /// Timed-out calls without a correlation ID whose reply may still arrive;
    /// such a late reply must not be taken for the next call's.
    stale: u64,
}

/// A connected caller: one client, one reply route, many calls.
pub struct Caller {
    client: Client,
    dest: u32,
    dest_label: String,
    req_subtid: u32,
    resp_name: String,
    mode: Mode,
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

/// The correlation key of a reply, per mode.
fn reply_key(mode: &Mode, json: Option<&Value>) -> Option<String> {
    let field = match mode {
        Mode::Correlated { .. } => "id",
        Mode::Named {
            id_field: Some(f), ..
        } => f.as_str(),
        Mode::Named { id_field: None, .. } => return Some(String::new()),
    };
    match json?.get(field)? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Caller {
    /// Sends one call and waits for its reply.
    pub async fn call(&self) -> Result<Reply, CallError> {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (key, payload) = self.build(n);
        let (tx, rx) = oneshot::channel();
        {
            let mut p = lock(&self.pending);
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
            Ok(Err(_)) => Err(CallError::Lost(
                lock(&self.pending)
                    .closed
                    .clone()
                    .unwrap_or_else(|| "connection closed".into()),
            )),
            Ok(Ok(mut reply)) => {
                reply.latency = started.elapsed();
                if let Mode::Correlated { .. } = self.mode
                    && let Some(err) = reply.json.as_ref().and_then(|j| j.get("err"))
                {
                    let text = match err {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    return Err(CallError::Remote(text, reply));
                }
                Ok(reply)
            }
        }
    }

    fn build(&self, n: u64) -> (String, Bytes) {
        match &self.mode {
            Mode::Correlated { name, args } => {
                let body = json!({"id": n, "name": name, "args": args});
                (n.to_string(), Bytes::from(body.to_string()))
            }
            Mode::Named {
                payload,
                object,
                id_field,
                ..
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

    /// "sent X (N bytes) to ETID 1 (broker) and waited for Y on self".
    fn describe(&self) -> String {
        let what = match &self.mode {
            Mode::Named { request, .. } => request.clone(),
            Mode::Correlated { name, .. } => format!("call {name} on {}", self.req_name()),
        };
        format!(
            "sent {what} to {} and waited for {} on self",
            self.dest_label, self.resp_name
        )
    }

    /// Where replies are printed: stdout, in the chosen format.
    fn printer(&self, format: Format, global: &GlobalArgs) -> Printer<io::StdoutLock<'static>> {
        let mut p = Printer::new(
            io::stdout().lock(),
            format,
            crate::output::DataType::Auto,
            use_color(global.color),
        );
        p.own_etid = self.client.etid();
        p
    }

    fn req_name(&self) -> String {
        self.client
            .names()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .subtopic(self.req_subtid)
            .map(|s| s.to_string())
            .unwrap_or_default()
    }
}

/// Where `--to` sends: a client's ETID, ourselves, or a topic.
enum Target {
    Etid(u32),
    SelfEtid,
    Topic(String),
}

impl Target {
    /// Numbers are ETIDs (and must be valid ones); names are topics. A number
    /// that does not fit is an error, not a topic called "4294967296".
    fn parse(to: &str) -> Result<Target> {
        if to.trim().is_empty() {
            return Err(input_error("--to needs an ETID or a topic name"));
        }
        if to == "self" {
            return Ok(Target::SelfEtid);
        }
        let looks_numeric = to
            .trim()
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '+');
        if looks_numeric || to.trim() != to {
            return match to.trim().parse::<u32>() {
                Ok(etid) if etid != 0 => Ok(Target::Etid(etid)),
                _ => Err(input_error(format!(
                    "--to '{to}' is not an ETID (1 to 4294967295); topic names are not numbers and have no surrounding spaces"
                ))),
            };
        }
        Ok(Target::Topic(to.to_string()))
    }
}

/// Registers the reply route on a connected client and starts the dispatcher.
/// The route is in place before the first request leaves (the readiness
/// barrier). `events` is the client's event stream when this caller owns the
/// connection (one-shot `rpc`); a caller sharing a connection (the shell) passes
/// None and learns of its end from the route closing.
async fn attach(
    client: Client,
    events: Option<mpsc::Receiver<Event>>,
    args: &RpcRequest,
    mode: Mode,
) -> Result<(Arc<Caller>, Option<Subscription>)> {
    let mut events = events;
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let (req_name, resp_name) = match &mode {
        Mode::Named { request, .. } => (
            request.clone(),
            args.resp
                .clone()
                .unwrap_or_else(|| derive_response(request)),
        ),
        Mode::Correlated { .. } => (args.rpc_req.clone(), args.rpc_resp.clone()),
    };
    let req_subtid = client.createsub(&req_name).await?;
    let sub = client.subscribe("self", Some(&resp_name)).await?;
    let (dest, dest_label) = match args.to.as_deref().map(Target::parse).transpose()? {
        None => (
            args.broker_tid,
            format!("ETID {} (broker)", args.broker_tid),
        ),
        Some(Target::Etid(etid)) => (etid, format!("ETID {etid}")),
        Some(Target::SelfEtid) => (client.etid(), format!("self (ETID {})", client.etid())),
        Some(Target::Topic(name)) => (client.create(&name).await?, format!("topic {name}")),
    };
    let caller = Arc::new(Caller {
        client,
        dest,
        dest_label,
        req_subtid,
        resp_name,
        mode,
        timeout: args.timeout,
        next_id: AtomicU64::new(1),
        prefix: format!("smqctl-{:08x}", rand::random::<u32>()),
        pending: Arc::new(Mutex::new(Pending::default())),
        _stop: stop_tx,
    });
    let collecting = args.responses.is_some() || args.collect.is_some();
    if collecting {
        // Many replies to one request: the caller reads the route itself.
        if let Some(mut events) = events {
            tokio::spawn(async move { while events.recv().await.is_some() {} });
        }
        return Ok((caller, Some(sub)));
    }
    let pending = caller.pending.clone();
    let mode = caller.mode.clone();
    let mut rx = sub.rx;
    tokio::spawn(async move {
        let reason = loop {
            tokio::select! {
                m = rx.recv() => match m {
                    Some(m) => {
                        let json = serde_json::from_slice::<Value>(&m.payload).ok();
                        let key = reply_key(&mode, json.as_ref());
                        let mut p = lock(&pending);
                        if key.as_deref() == Some("") && p.stale > 0 {
                            // The late answer to a call that already timed out.
                            p.stale -= 1;
                            p.unmatched += 1;
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

/// The next event, or never when the connection's events belong to someone else.
async fn next_event(events: &mut Option<mpsc::Receiver<Event>>) -> Option<Event> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn parse_mode(args: &RpcRequest) -> Result<Mode> {
    if let Some(name) = &args.call {
        let call_args = match &args.args {
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Array(a)) => a,
                Ok(_) => {
                    return Err(input_error(
                        "--args must be a JSON array, e.g. '[1, \"two\"]'",
                    ));
                }
                Err(e) => return Err(json_error("--args", &e)),
            },
            None => args
                .words
                .iter()
                .map(|w| serde_json::from_str(w).unwrap_or_else(|_| Value::String(w.clone())))
                .collect(),
        };
        if args.args.is_some() && !args.words.is_empty() {
            return Err(input_error(
                "give arguments either as ARGS or with --args, not both",
            ));
        }
        return Ok(Mode::Correlated {
            name: name.clone(),
            args: call_args,
        });
    }
    let (request, payload) = match args.words.as_slice() {
        [] => {
            return Err(input_error(
                "give a REQUEST sub-topic (e.g. SearchSitesReq) or --call NAME",
            ));
        }
        [r] => (r.clone(), "{}".to_string()),
        [r, p] => (r.clone(), p.clone()),
        _ => {
            return Err(input_error(
                "a named request takes REQUEST and one PAYLOAD; quote the JSON",
            ));
        }
    };
    let object = match &args.id_field {
        None => None,
        Some(field) => match serde_json::from_str::<Value>(&payload) {
            Ok(Value::Object(o)) => Some(o),
            _ => {
                return Err(input_error(format!(
                    "--id-field {field} needs a JSON object payload to put the ID into"
                )));
            }
        },
    };
    let bytes = Bytes::from(payload.into_bytes());
    if bytes.len() > crate::protocol::MAX_PAYLOAD {
        return Err(input_error("payload is larger than 65520 bytes"));
    }
    Ok(Mode::Named {
        request,
        payload: bytes,
        object,
        id_field: args.id_field.clone(),
    })
}

pub async fn run(args: RpcArgs, global: &GlobalArgs) -> Result<u8> {
    // Check the request before connecting: a typo never reaches the broker.
    parse_checked(&args.req)?;
    let opts = client_options(&args.conn, global).await?;
    let stop = crate::shutdown::requested();
    tokio::pin!(stop);
    let (client, events) = tokio::select! {
        c = Client::connect(&opts) => c?,
        _ = &mut stop => return Ok(exit::INTERRUPTED),
    };
    // run_on stops on the signal itself (load mode prints what it has).
    let signals = Signals::since_start();
    let code = run_on(&client, Some(events), &args.req, global, signals).await;
    client.disconnect("").await;
    code
}

fn parse_checked(args: &RpcRequest) -> Result<Mode> {
    let mode = parse_mode(args)?;
    let concurrent = args.count.is_some() && args.concurrency > 1;
    if concurrent && matches!(mode, Mode::Named { id_field: None, .. }) {
        return Err(input_error(
            "concurrent named requests need --id-field FIELD: without an ID in the request and its reply, \
             replies cannot be matched to requests (use --concurrency 1, or --call for $RpcReq)",
        ));
    }
    Ok(mode)
}

/// Runs one request (single call, collection or load) on a connected client and
/// returns the exit code; the one-shot `rpc` and the shell's `rpc`/`call` both
/// come here. The reply route is removed again afterwards. It stops on
/// `signals` (exit 130; load mode prints the calls so far): the shell passes
/// a `Signals::new()`, since an earlier Ctrl-C belonged to an earlier command.
pub async fn run_on(
    client: &Client,
    events: Option<mpsc::Receiver<Event>>,
    args: &RpcRequest,
    global: &GlobalArgs,
    mut signals: Signals,
) -> Result<u8> {
    let mode = parse_checked(args)?;
    let format = args.format.unwrap_or_else(Format::default_for_stdout);
    // The acks of the setup (Createsub, Create of a topic) count against
    // --timeout too: a broker that never answers them must not hang the call.
    let bounded = client.with_ack_timeout(args.timeout.min(client.ack_timeout()));
    let setup = tokio::select! {
        r = tokio::time::timeout(args.timeout, attach(bounded, events, args, mode)) => r,
        _ = signals.next() => return Ok(exit::INTERRUPTED),
    };
    let (caller, collect_sub) = match setup {
        Ok(Ok(attached)) => attached,
        Ok(Err(e)) => match e.downcast_ref::<ClientError>() {
            Some(ClientError::NoAck { .. }) => {
                eprintln!(
                    "error: no reply within {}: {}",
                    humantime::format_duration(args.timeout),
                    escape_controls(&e.to_string())
                );
                return Ok(exit::TIMEOUT);
            }
            _ => return Err(e),
        },
        Err(_) => {
            eprintln!(
                "error: no reply within {}: the broker did not answer the call's setup (Create/Createsub)",
                humantime::format_duration(args.timeout)
            );
            return Ok(exit::TIMEOUT);
        }
    };
    if let Some(sub) = collect_sub {
        tokio::select! {
            r = collect(&caller, sub, args, format, global) => r,
            _ = signals.next() => Ok(exit::INTERRUPTED),
        }
    } else if let Some(n) = args.count {
        load(
            &caller,
            n,
            args.concurrency.max(1),
            args.rate,
            format,
            signals,
        )
        .await
    } else {
        tokio::select! {
            r = single(&caller, format, global) => r,
            s = signals.next() => {
                eprintln!("error: interrupted ({}) while waiting for the reply: {}", s.name(), caller.describe());
                Ok(exit::INTERRUPTED)
            }
        }
    }
}

async fn single(caller: &Caller, format: Format, global: &GlobalArgs) -> Result<u8> {
    let mut printer = caller.printer(format, global);
    match caller.call().await {
        Ok(reply) => {
            print_reply(caller, &mut printer, &reply)?;
            Ok(exit::OK)
        }
        Err(CallError::Remote(err, reply)) => {
            if format == Format::Json {
                print_reply(caller, &mut printer, &reply)?;
            }
            eprintln!(
                "error: the handler answered with an error: {}",
                escape_controls(&err)
            );
            Ok(exit::REMOTE)
        }
        Err(CallError::Timeout) => {
            eprintln!(
                "error: no reply within {}: {}",
                humantime::format_duration(caller.timeout),
                caller.describe()
            );
            Ok(exit::TIMEOUT)
        }
        Err(CallError::Lost(reason)) => {
            eprintln!(
                "error: connection lost while waiting for the reply: {}",
                escape_controls(&reason)
            );
            Ok(exit::LOST)
        }
        Err(CallError::NotSent(reason)) => {
            eprintln!(
                "error: connection lost before the request was sent: {}",
                escape_controls(&reason)
            );
            Ok(exit::LOST)
        }
    }
}

fn print_reply(caller: &Caller, printer: &mut Printer<impl Write>, reply: &Reply) -> Result<()> {
    let latency_ms = reply.latency.as_secs_f64() * 1000.0;
    match (&caller.mode, printer.format) {
        (Mode::Correlated { .. }, Format::Json) => {
            let mut obj = reply.json.clone().unwrap_or(Value::Null);
            if let Value::Object(o) = &mut obj {
                o.insert("latency_ms".into(), json!(latency_ms));
            }
            printer.write_line(&obj.to_string())?;
        }
        (Mode::Correlated { .. }, Format::Pretty) => {
            let rsp = reply
                .json
                .as_ref()
                .and_then(|j| j.get("rsp"))
                .cloned()
                .unwrap_or(Value::Null);
            printer.write_line(&serde_json::to_string_pretty(&rsp)?)?;
        }
        (Mode::Correlated { .. }, _) => {
            let rsp = reply
                .json
                .as_ref()
                .and_then(|j| j.get("rsp"))
                .cloned()
                .unwrap_or(Value::Null);
            printer.write_line(&rsp.to_string())?;
        }
        (Mode::Named { .. }, Format::Json) => {
            let mut obj = printer.message_json(&reply.msg);
            obj["latency_ms"] = json!(latency_ms);
            printer.write_line(&obj.to_string())?;
        }
        (Mode::Named { .. }, _) => printer.message(&reply.msg)?,
    }
    printer.flush()?;
    Ok(())
}

async fn collect(
    caller: &Caller,
    mut sub: Subscription,
    args: &RpcRequest,
    format: Format,
    global: &GlobalArgs,
) -> Result<u8> {
    let (_, payload) = caller.build(1);
    caller
        .client
        .publish_ids(caller.dest, caller.req_subtid, payload)
        .await?;
    caller.client.flush().await?;
    let mut printer = caller.printer(format, global);
    let window = args.collect.unwrap_or(args.timeout);
    let deadline = tokio::time::Instant::now() + window;
    let mut got = 0u64;
    loop {
        if args.responses.is_some_and(|n| got >= n) {
            break;
        }
        match tokio::time::timeout_at(deadline, sub.rx.recv()).await {
            Ok(Some(m)) => {
                got += 1;
                printer.message(&m)?;
                printer.flush()?;
            }
            Ok(None) => {
                eprintln!("error: connection lost after {got} replies");
                return Ok(exit::LOST);
            }
            Err(_) => break,
        }
    }
    match args.responses {
        Some(n) if got < n => {
            eprintln!(
                "error: {got} of {n} replies within {}: {}",
                humantime::format_duration(window),
                caller.describe()
            );
            Ok(exit::TIMEOUT)
        }
        None if got == 0 => {
            eprintln!(
                "error: no reply within {}: {}",
                humantime::format_duration(window),
                caller.describe()
            );
            Ok(exit::TIMEOUT)
        }
        _ => Ok(exit::OK),
    }
}

#[derive(Default)]
struct Tally {
    ok: u64,
    remote: u64,
    timeout: u64,
    /// Sent, then the connection went before the reply.
    lost: u64,
    /// Never sent: the connection was already gone.
    unsent: u64,
    latency: Latency,
    first_error: Option<String>,
}

async fn load(
    caller: &Arc<Caller>,
    n: u64,
    concurrency: usize,
    rate: Option<f64>,
    format: Format,
    mut signals: Signals,
) -> Result<u8> {
    let bar = crate::output::progress(Some(n), "calls");
    let (tx, mut rx) = mpsc::unbounded_channel::<Result<Reply, CallError>>();
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
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
                if lock(&caller.pending).closed.is_some() {
                    // Connection gone: the rest fail at once, not one tick or
                    // timeout each.
                    let reason = lock(&caller.pending).closed.clone().unwrap_or_default();
                    let _ = tx.send(Err(CallError::NotSent(reason)));
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
    let mut t = Tally::default();
    let mut interrupted = None;
    loop {
        let r = if interrupted.is_some() {
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
                s = signals.next() => {
                    // Stop issuing.
                    issuer.abort();
                    interrupted = Some(s);
                    continue;
                }
            }
        };
        match r {
            Ok(reply) => {
                t.ok += 1;
                t.latency.record(reply.latency);
            }
            Err(CallError::Remote(e, reply)) => {
                t.remote += 1;
                t.latency.record(reply.latency);
                t.first_error.get_or_insert(e);
            }
            Err(CallError::Timeout) => t.timeout += 1,
            Err(CallError::Lost(reason)) => {
                t.lost += 1;
                t.first_error.get_or_insert(reason);
            }
            Err(CallError::NotSent(reason)) => {
                t.unsent += 1;
                t.first_error.get_or_insert(reason);
            }
        }
        bar.inc(1);
    }
    if interrupted.is_none() {
        let _ = issuer.await;
    }
    // Once interrupted the aborted issuer is not awaited: that await can be
    // Pending, and the shell, seeing the same signal, would drop this future
    // before the summary below is printed. From here on nothing waits.
    bar.finish_and_clear();
    let done = t.ok + t.remote + t.timeout + t.lost;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let rate = (t.ok + t.remote) as f64 / secs;
    let unmatched = lock(&caller.pending).unmatched;
    let target = caller.describe();
    match format {
        Format::Json => println!(
            "{}",
            json!({
                "calls": n,
                "completed": done,
                "interrupted": interrupted.is_some(),
                "concurrency": concurrency,
                "ok": t.ok,
                "error": t.remote,
                "timeout": t.timeout,
                "lost": t.lost,
                "not_sent": t.unsent,
                "unmatched_replies": unmatched,
                "elapsed_s": secs,
                "calls_per_s": rate,
                "latency_ms": t.latency.to_json(),
            })
        ),
        _ => {
            match interrupted {
                None => println!("{n} calls, concurrency {concurrency}: {target}"),
                Some(s) => println!(
                    "{done} of {n} calls, concurrency {concurrency}, interrupted ({}): {target}",
                    s.name()
                ),
            }
            println!(
                "ok {}  error {}  timeout {}  lost {}  not sent {}   in {secs:.3} s = {rate:.0} calls/s",
                t.ok, t.remote, t.timeout, t.lost, t.unsent
            );
            println!("latency   {}", t.latency.line());
            if let Some(e) = &t.first_error {
                println!("first error: {}", escape_controls(e));
            }
        }
    }
    Ok(if interrupted.is_some() {
        exit::INTERRUPTED
    } else if t.lost > 0 || t.unsent > 0 {
        exit::LOST
    } else if t.timeout > 0 {
        exit::TIMEOUT
    } else if t.remote > 0 {
        exit::REMOTE
    } else {
        exit::OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_names_are_derived_from_requests() {
        assert_eq!(derive_response("SearchSitesReq"), "SearchSitesResp");
        assert_eq!(derive_response("Hello"), "HelloResp");
    }

    #[test]
    fn to_is_an_etid_self_or_a_topic_and_bad_numbers_are_errors() {
        assert!(matches!(Target::parse("123"), Ok(Target::Etid(123))));
        assert!(matches!(Target::parse("self"), Ok(Target::SelfEtid)));
        assert!(matches!(Target::parse("Presence"), Ok(Target::Topic(t)) if t == "Presence"));
        assert!(matches!(Target::parse(" 5"), Ok(Target::Etid(5))));
        for bad in ["0", "-1", "4294967296", "", "  "] {
            assert!(Target::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reply_keys_follow_the_mode() {
        let corr = Mode::Correlated {
            name: "add".into(),
            args: vec![],
        };
        assert_eq!(
            reply_key(&corr, Some(&json!({"id": 7, "rsp": 3}))),
            Some("7".into())
        );
        let named = Mode::Named {
            request: "XReq".into(),
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
    }
}
