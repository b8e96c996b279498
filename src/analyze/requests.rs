//! The request/reply tracker: which requests are waiting for their reply, and
//! the summary's request table (per request name: calls, answered, late,
//! unanswered, err, pending, broker-side latency).
//!
//! The conventions (SMQ application guide, "Request/Reply Pattern";
//! `protocol::rpc`): a named request is a message whose sub-topic (or topic)
//! ends in `Req`, `FooReq`; its reply is a direct message back to the
//! requester's ETID with the sub-topic `FooResp` ("reply to ptid"). Named
//! requests carry no id, so replies are matched first in, first out. A
//! correlated call is `{id, name, args}` on the `$RpcReq` sub-topic, answered
//! `{id, rsp}` or `{id, err}` on `$RpcResp` to the caller's ETID, matched by
//! `id`; its table row is the function `name`.
//!
//! Time is the trace's (the engine's `now`, which never goes back): a request
//! has until its time plus `--reply-timeout`. A request the broker dropped (no
//! handler, no subscriber, refused) will never be answered: that is known at
//! once. After a gap in the trace (a re-attach's snapshot, a notice of skipped
//! events) the requests still waiting are forgotten (their replies may have
//! been in the gap), and for `--reply-timeout` after it a reply nobody is seen
//! waiting for is not called an orphan (its request may be in the gap or
//! before the trace began).
//!
//! Bounded: at most [`MAX_PENDING`] waiting requests (the oldest are forgotten,
//! counted in [`Tracker::forgotten`]), [`MAX_LATE`] timed-out ones remembered
//! so a late reply is known as late, and [`MAX_NAMES`] table rows (the rest
//! are counted in one `(other)` row).
//!
//! May import: `analyze` (the engine's types), `trace::schema`, `latency`
//! (the one latency summary), serde, serde_json, jiff. No I/O.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::Serialize;
use serde_json::Value;

use super::{ClientRef, Config, trim};
use crate::latency::Latency;
use crate::trace::schema::{DestType, Encoding, Event, Kind};

/// The sub-topic of correlated calls.
pub const RPC_REQ: &str = "$RpcReq";
/// The sub-topic of their answers.
pub const RPC_RESP: &str = "$RpcResp";
/// Requests waiting for a reply, at most.
pub const MAX_PENDING: usize = 100_000;
/// Timed-out requests remembered (a late reply is then late, not an orphan).
pub const MAX_LATE: usize = 10_000;
/// Rows of the request table; later names share the row [`OTHER`].
pub const MAX_NAMES: usize = 100;
/// The row of the names past [`MAX_NAMES`].
pub const OTHER: &str = "(other)";

/// What a reply is matched by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReplyKey {
    /// A named request: the requester's ETID and the reply's sub-topic.
    Named(u32, String),
    /// A correlated call: the caller's ETID and the call's `id` (its JSON text).
    Rpc(u32, String),
}

/// A request waiting for its reply.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The table row: `FooReq`, or the `$RpcReq` function name.
    pub name: String,
    /// A correlated call (`$RpcReq`).
    pub rpc: bool,
    /// The call's id (correlated calls).
    pub id: Option<String>,
    /// The reply it waits for (`FooResp`, `$RpcResp`).
    pub reply: String,
    pub requester: ClientRef,
    /// The request's `ts` as written, and as a time (`None`: unparsable).
    pub ts: String,
    pub at: Option<jiff::Timestamp>,
    /// The request event (trimmed).
    pub event: Event,
    /// Replies still expected (a request to a topic may have several responders).
    remaining: u32,
    answered: bool,
    key: ReplyKey,
    /// When it times out, on the engine's clock.
    deadline: Option<jiff::Timestamp>,
}

impl Pending {
    /// How the request reads: `SearchSitesReq`, or `$RpcReq add (id 7)`.
    pub fn label(&self) -> String {
        match (self.rpc, &self.id) {
            (true, Some(id)) => format!("{RPC_REQ} {} (id {id})", self.name),
            (true, None) => format!("{RPC_REQ} {}", self.name),
            (false, _) => self.name.clone(),
        }
    }
}

/// What the tracker concluded from one step (an event, or time passing).
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A reply matched its request (`late`: after the timeout).
    Answered {
        request: Box<Pending>,
        reply: Box<Event>,
        late: bool,
        err: bool,
    },
    /// A reply nobody was waiting for.
    Orphan {
        reply: Box<Event>,
        /// `FooReq` for `FooResp`, or the `$RpcReq` call's id.
        expected: String,
        to: ClientRef,
    },
    /// The broker dropped (or refused) the request: it will never be answered.
    Dropped {
        request: Box<Pending>,
        reason: String,
        /// The drop (or deny) event; the request's own event may be the
        /// publish before it (the Mako hook's order).
        event: Box<Event>,
    },
    /// No reply within the timeout.
    TimedOut { request: Box<Pending> },
    /// The requester closed while the request was waiting.
    OpenAtClose {
        request: Box<Pending>,
        close: Box<Event>,
    },
}

/// One row of the request table.
#[derive(Debug, Clone, Default)]
struct Row {
    rpc: bool,
    calls: u64,
    answered: u64,
    late: u64,
    unanswered: u64,
    err: u64,
    latency: Option<Box<Latency>>,
}

/// One row of the request table as output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRow {
    /// `FooReq`, or a `$RpcReq` function's name.
    pub name: String,
    /// A `$RpcReq` function (`rpc: true`) or a named request.
    pub rpc: bool,
    pub calls: u64,
    /// Replies within `--reply-timeout`.
    pub answered: u64,
    /// Replies after it (a late reply moves the call from `unanswered` here).
    pub late: u64,
    /// No reply: timed out, dropped by the broker, or the requester closed.
    pub unanswered: u64,
    /// Replies that carry an error (`$RpcResp` `err`, or an `err`/`error` field).
    pub err: u64,
    /// Still waiting when the run ended (younger than `--reply-timeout`).
    pub pending: u64,
    /// Broker-side latency (request event → reply event), in ms:
    /// `{min,p50,p90,p99,p99_9,max}`, or null without replies. Whole seconds
    /// with the Mako hook, whose events have whole-second times.
    pub latency_ms: Value,
}

/// The tracker.
#[derive(Debug, Default)]
pub struct Tracker {
    next: u64,
    pending: HashMap<u64, Pending>,
    by_key: HashMap<ReplyKey, VecDeque<u64>>,
    /// Waiting requests by requester ETID (a close finds its own at once).
    by_requester: HashMap<u32, std::collections::HashSet<u64>>,
    /// Insertion order with deadlines (monotonic: the clock never goes back).
    order: VecDeque<u64>,
    /// Timed-out requests by reply key (a late reply finds them here).
    late: HashMap<ReplyKey, VecDeque<u64>>,
    late_order: VecDeque<u64>,
    late_entries: HashMap<u64, Pending>,
    /// Rows by (a `$RpcReq` function, name): named requests first.
    rows: BTreeMap<(bool, String), Row>,
    /// Waiting requests forgotten (the [`MAX_PENDING`] cap, or a gap).
    pub forgotten: u64,
    /// Until when a reply without a request is not an orphan (after a gap).
    grace_until: Option<jiff::Timestamp>,
    /// The first event was seen (it starts the trace's grace).
    seen_start: bool,
}

/// Whether `sub` names a request (`FooReq`, not `$RpcReq` itself).
fn named_request(name: &str) -> bool {
    name.len() > 3 && name.ends_with("Req") && name != RPC_REQ
}

/// Whether `sub` names a reply (`FooResp`, not `$RpcResp` itself).
fn named_reply(name: &str) -> bool {
    name.len() > 4 && name.ends_with("Resp") && name != RPC_RESP
}

/// The request `FooReq` of the reply `FooResp`.
pub fn request_of(reply: &str) -> String {
    format!("{}Req", reply.strip_suffix("Resp").unwrap_or(reply))
}

/// The reply `FooResp` of the request `FooReq`.
pub fn reply_of(request: &str) -> String {
    format!("{}Resp", request.strip_suffix("Req").unwrap_or(request))
}

/// The value after `"field":` in a JSON text that may be cut short (a
/// truncated preview): a number or a string, as its JSON text.
fn scan_field(text: &str, field: &str) -> Option<String> {
    let needle = format!("\"{field}\"");
    let mut from = 0;
    while let Some(at) = text[from..].find(&needle) {
        let rest = text[from + at + needle.len()..].trim_start();
        from += at + needle.len();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(s) = rest.strip_prefix('"') {
            let end = s.find('"')?;
            return Some(format!("\"{}\"", &s[..end]));
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '+'))
            .unwrap_or(rest.len());
        let token = &rest[..end];
        return (!token.is_empty()).then(|| token.to_string());
    }
    None
}

/// A payload as JSON: the whole value when it parses, else the fields a cut
/// preview still shows.
struct Body {
    id: Option<String>,
    name: Option<String>,
    err: bool,
}

fn body(ev: &Event) -> Body {
    let none = Body {
        id: None,
        name: None,
        err: false,
    };
    let Some(text) = ev.payload.as_deref() else {
        return none;
    };
    if ev.encoding == Some(Encoding::Base64) {
        return none;
    }
    if !ev.truncated
        && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text)
    {
        let err = ["err", "error"].iter().any(|k| {
            map.get(*k)
                .is_some_and(|v| !v.is_null() && v != &Value::Bool(false))
        });
        return Body {
            id: map
                .get("id")
                .filter(|v| !v.is_null())
                .map(|v| v.to_string()),
            name: map.get("name").and_then(Value::as_str).map(str::to_string),
            err,
        };
    }
    if !text.trim_start().starts_with('{') {
        return none;
    }
    let err = ["err", "error"].iter().any(|k| {
        scan_field(text, k).is_some_and(|v| v != "null" && v != "false")
            || text.contains(&format!("\"{k}\":{{"))
            || text.contains(&format!("\"{k}\":["))
    });
    Body {
        id: scan_field(text, "id").filter(|v| v != "null"),
        name: scan_field(text, "name").map(|v| v.trim_matches('"').to_string()),
        err,
    }
}

/// Where a message went, when it went to one ETID (a client or the server).
fn direct_to(ev: &Event) -> Option<(u32, Option<String>)> {
    let to = ev.to.as_ref()?;
    match to.kind {
        DestType::Client | DestType::Server => Some((to.tid, to.uid.clone())),
        _ => None,
    }
}

impl Tracker {
    fn row(&mut self, name: &str, rpc: bool) -> &mut Row {
        let key = (rpc, name.to_string());
        let key = if self.rows.contains_key(&key) || self.rows.len() < MAX_NAMES {
            key
        } else {
            (rpc, OTHER.to_string())
        };
        let row = self.rows.entry(key).or_default();
        row.rpc = rpc;
        row
    }

    /// Requests waiting now.
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }

    /// The request table, by name.
    pub fn table(&self) -> Vec<RequestRow> {
        let mut waiting: HashMap<(bool, &str), u64> = HashMap::new();
        for p in self.pending.values().filter(|p| !p.answered) {
            let name = if self.rows.contains_key(&(p.rpc, p.name.clone())) {
                p.name.as_str()
            } else {
                OTHER
            };
            *waiting.entry((p.rpc, name)).or_default() += 1;
        }
        self.rows
            .iter()
            .map(|((rpc, name), r)| RequestRow {
                name: name.clone(),
                rpc: *rpc,
                calls: r.calls,
                answered: r.answered,
                late: r.late,
                unanswered: r.unanswered,
                err: r.err,
                pending: waiting.get(&(*rpc, name.as_str())).copied().unwrap_or(0),
                latency_ms: r.latency.as_ref().map_or(Value::Null, |l| l.to_json()),
            })
            .collect()
    }

    /// One step: the timeouts up to `now`, then the event (if any).
    pub fn step(
        &mut self,
        ev: Option<&Event>,
        now: Option<jiff::Timestamp>,
        config: &Config,
        out: &mut Vec<Outcome>,
    ) {
        self.expire(now, out);
        if let Some(ev) = ev {
            self.observe(ev, now, config, out);
        }
    }

    fn expire(&mut self, now: Option<jiff::Timestamp>, out: &mut Vec<Outcome>) {
        let Some(now) = now else { return };
        while let Some(&id) = self.order.front() {
            let Some(p) = self.pending.get(&id) else {
                self.order.pop_front();
                continue;
            };
            match p.deadline {
                Some(d) if d < now => {}
                // Deadlines grow with insertion: nothing later is due either.
                Some(_) => break,
                // Made before any time was known: it cannot time out; forget it.
                None => {
                    self.order.pop_front();
                    if self.remove(id).is_some() {
                        self.forgotten += 1;
                    }
                    continue;
                }
            }
            self.order.pop_front();
            let Some(p) = self.remove(id) else { continue };
            if p.answered {
                // A request to a topic that got its first reply: done.
                continue;
            }
            self.row(&p.name.clone(), p.rpc).unanswered += 1;
            self.remember_late(p.clone());
            out.push(Outcome::TimedOut {
                request: Box::new(p),
            });
        }
    }

    fn remember_late(&mut self, p: Pending) {
        if self.late_entries.len() >= MAX_LATE
            && let Some(old) = self.late_order.pop_front()
            && let Some(o) = self.late_entries.remove(&old)
            && let Some(q) = self.late.get_mut(&o.key)
        {
            q.retain(|x| *x != old);
            if q.is_empty() {
                self.late.remove(&o.key);
            }
        }
        let id = self.next;
        self.next += 1;
        self.late.entry(p.key.clone()).or_default().push_back(id);
        self.late_order.push_back(id);
        self.late_entries.insert(id, p);
    }

    fn take_late(&mut self, key: &ReplyKey) -> Option<Pending> {
        let q = self.late.get_mut(key)?;
        let id = q.pop_front()?;
        if q.is_empty() {
            self.late.remove(key);
        }
        self.late_entries.remove(&id)
    }

    fn remove(&mut self, id: u64) -> Option<Pending> {
        let p = self.pending.remove(&id)?;
        if let Some(v) = self.by_requester.get_mut(&p.requester.etid) {
            v.remove(&id);
            if v.is_empty() {
                self.by_requester.remove(&p.requester.etid);
            }
        }
        if let Some(q) = self.by_key.get_mut(&p.key) {
            // Replies and timeouts mostly take the oldest: no scan for those.
            if q.front() == Some(&id) {
                q.pop_front();
            } else {
                q.retain(|x| *x != id);
            }
            if q.is_empty() {
                self.by_key.remove(&p.key);
            }
        }
        Some(p)
    }

    /// Forget everything waiting (a gap: the replies may have been in it).
    fn gap(&mut self, now: Option<jiff::Timestamp>, config: &Config) {
        self.forgotten += self.pending.len() as u64;
        self.pending.clear();
        self.by_key.clear();
        self.by_requester.clear();
        self.order.clear();
        self.late.clear();
        self.late_order.clear();
        self.late_entries.clear();
        self.grace_until = now.and_then(|n| n.checked_add(config.reply_timeout).ok());
    }

    fn in_grace(&self, now: Option<jiff::Timestamp>) -> bool {
        match (self.grace_until, now) {
            (Some(g), Some(n)) => n <= g,
            _ => false,
        }
    }

    fn observe(
        &mut self,
        ev: &Event,
        now: Option<jiff::Timestamp>,
        config: &Config,
        out: &mut Vec<Outcome>,
    ) {
        if !self.seen_start {
            // The trace starts: a reply to a request from before it is no orphan.
            self.seen_start = true;
            self.grace_until = now.and_then(|n| n.checked_add(config.reply_timeout).ok());
        }
        match ev.kind {
            // A snapshot after the first event is a re-attach.
            Kind::Snapshot if self.seen_start => self.gap(now, config),
            Kind::Notice if ev.skipped.is_some_and(|n| n > 0) => self.gap(now, config),
            Kind::Close => {
                if let Some(c) = &ev.from {
                    self.closed(c.etid, ev, out);
                }
            }
            Kind::Publish | Kind::Drop => self.message(ev, now, config, out),
            // A message onpublish refused (not a refused Create/Subscribe).
            Kind::Deny if ev.verdict == Some(false) => self.message(ev, now, config, out),
            _ => {}
        }
    }

    fn closed(&mut self, etid: u32, ev: &Event, out: &mut Vec<Outcome>) {
        let Some(ids) = self.by_requester.remove(&etid) else {
            return;
        };
        let mut ids: Vec<u64> = ids.into_iter().collect();
        // In the order they were sent.
        ids.sort_unstable();
        for id in ids {
            // Re-inserted by nothing: `remove` finds the index entry gone.
            let Some(p) = self.remove(id) else { continue };
            if p.answered {
                // A request to a topic that got its reply, still counting more.
                continue;
            }
            self.row(&p.name.clone(), p.rpc).unanswered += 1;
            out.push(Outcome::OpenAtClose {
                request: Box::new(p),
                close: Box::new(trim(ev)),
            });
        }
    }

    fn message(
        &mut self,
        ev: &Event,
        now: Option<jiff::Timestamp>,
        config: &Config,
        out: &mut Vec<Outcome>,
    ) {
        let Some(from) = ev.from.as_ref() else { return };
        let sub = ev.subtopic.as_deref();
        let topic = ev
            .to
            .as_ref()
            .filter(|d| d.kind == DestType::Topic)
            .and_then(|d| d.name.as_deref());
        // A reply: a direct message on `FooResp` / `$RpcResp`.
        if ev.kind == Kind::Publish
            && let Some((to, uid)) = direct_to(ev)
            && let Some(s) = sub
            && (s == RPC_RESP || named_reply(s))
        {
            self.reply(ev, to, uid, s, now, out);
            return;
        }
        // A request: on `FooReq` / `$RpcReq` (sub-topic), or to a topic `FooReq`.
        let (name, rpc) = match (sub, topic) {
            (Some(RPC_REQ), _) => (RPC_REQ, true),
            (Some(s), _) if named_request(s) => (s, false),
            (None, Some(t)) if named_request(t) => (t, false),
            _ => return,
        };
        let requester = ClientRef::of(from);
        let (key, row, id) = if rpc {
            let b = body(ev);
            let fname = b.name.unwrap_or_else(|| "?".to_string());
            match b.id {
                Some(id) => (Some(ReplyKey::Rpc(from.etid, id.clone())), fname, Some(id)),
                // No id to match a reply by: counted, not waited for.
                None => (None, fname, None),
            }
        } else {
            (
                Some(ReplyKey::Named(from.etid, reply_of(name))),
                name.to_string(),
                None,
            )
        };
        let reply = if rpc {
            RPC_RESP.to_string()
        } else {
            reply_of(name)
        };
        if ev.kind != Kind::Publish {
            // Dropped or refused: never answered. The Mako hook reports a
            // message to the server that no handler takes as a publish and
            // then its drop: that is the same call, not a second one.
            let reason = ev
                .reason
                .clone()
                .unwrap_or_else(|| format!("the broker's {}", ev.kind));
            let cut = trim(ev).payload;
            let same = key.as_ref().and_then(|k| {
                let id = *self.by_key.get(k)?.back()?;
                let p = self.pending.get(&id)?;
                (!p.answered && p.event.payload == cut && p.event.subtid == ev.subtid).then_some(id)
            });
            let request = match same.and_then(|id| self.remove(id)) {
                Some(p) => p,
                None => {
                    self.row(&row, rpc).calls += 1;
                    Pending {
                        name: row.clone(),
                        rpc,
                        id,
                        reply,
                        requester,
                        ts: ev.ts.clone(),
                        at: ev.timestamp(),
                        event: trim(ev),
                        remaining: 0,
                        answered: false,
                        key: key.unwrap_or(ReplyKey::Named(from.etid, String::new())),
                        deadline: None,
                    }
                }
            };
            self.row(&request.name.clone(), rpc).unanswered += 1;
            out.push(Outcome::Dropped {
                request: Box::new(request),
                reason,
                event: Box::new(trim(ev)),
            });
            return;
        }
        self.row(&row, rpc).calls += 1;
        let Some(key) = key else { return };
        if self.pending.len() >= MAX_PENDING {
            while let Some(old) = self.order.pop_front() {
                if self.remove(old).is_some() {
                    self.forgotten += 1;
                    break;
                }
            }
        }
        let at = ev.timestamp();
        // The deadline counts from the engine's clock, so it never lies
        // before an earlier request's (a source's clock that jumps back).
        let start = match (at, now) {
            (Some(a), Some(n)) if n > a => Some(n),
            (Some(a), _) => Some(a),
            (None, n) => n,
        };
        let deadline = start.and_then(|s| s.checked_add(config.reply_timeout).ok());
        let remaining = ev.receivers.unwrap_or(1).max(1);
        let id_n = self.next;
        self.next += 1;
        self.by_key.entry(key.clone()).or_default().push_back(id_n);
        self.by_requester.entry(from.etid).or_default().insert(id_n);
        self.order.push_back(id_n);
        self.pending.insert(
            id_n,
            Pending {
                name: row,
                rpc,
                id,
                reply,
                requester,
                ts: ev.ts.clone(),
                at,
                event: trim(ev),
                remaining,
                answered: false,
                key,
                deadline,
            },
        );
    }

    fn reply(
        &mut self,
        ev: &Event,
        to: u32,
        uid: Option<String>,
        sub: &str,
        now: Option<jiff::Timestamp>,
        out: &mut Vec<Outcome>,
    ) {
        let rpc = sub == RPC_RESP;
        let b = if rpc || ev.payload.as_deref().is_some_and(|p| p.contains("err")) {
            body(ev)
        } else {
            Body {
                id: None,
                name: None,
                err: false,
            }
        };
        let key = if rpc {
            b.id.clone().map(|id| ReplyKey::Rpc(to, id))
        } else {
            Some(ReplyKey::Named(to, sub.to_string()))
        };
        if let Some(key) = &key
            && let Some(q) = self.by_key.get(key)
        {
            // The oldest request still unanswered; else the oldest that still
            // takes replies (a request to a topic with several responders).
            let pick = q
                .iter()
                .copied()
                .find(|id| self.pending.get(id).is_some_and(|p| !p.answered))
                .or_else(|| q.front().copied());
            if let Some(id) = pick
                && let Some(p) = self.pending.get_mut(&id)
            {
                p.remaining = p.remaining.saturating_sub(1);
                let first = !p.answered;
                p.answered = true;
                let done = p.remaining == 0;
                let request = p.clone();
                if done {
                    self.remove(id);
                }
                if first {
                    self.answered(request, ev, false, b.err, out);
                }
                return;
            }
        }
        if let Some(key) = &key
            && let Some(p) = self.take_late(key)
        {
            self.answered(p, ev, true, b.err, out);
            return;
        }
        if self.in_grace(now) {
            return;
        }
        let expected = if rpc {
            match &b.id {
                Some(id) => format!("{RPC_REQ} id {id}"),
                None => format!("{RPC_REQ} (the reply has no id)"),
            }
        } else {
            request_of(sub)
        };
        out.push(Outcome::Orphan {
            reply: Box::new(trim(ev)),
            expected,
            to: ClientRef { uid, etid: to },
        });
    }

    fn answered(
        &mut self,
        request: Pending,
        reply: &Event,
        late: bool,
        err: bool,
        out: &mut Vec<Outcome>,
    ) {
        let took = match (request.at, reply.timestamp()) {
            (Some(a), Some(b)) => b
                .duration_since(a)
                .try_into()
                .ok()
                .or(Some(std::time::Duration::ZERO)),
            _ => None,
        };
        let row = self.row(&request.name.clone(), request.rpc);
        if late {
            row.late += 1;
            row.unanswered = row.unanswered.saturating_sub(1);
        } else {
            row.answered += 1;
        }
        if err {
            row.err += 1;
        }
        if let Some(d) = took {
            row.latency.get_or_insert_with(Default::default).record(d);
        }
        out.push(Outcome::Answered {
            request: Box::new(request),
            reply: Box::new(trim(reply)),
            late,
            err,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::analyze::fixture::Fx;
    use crate::analyze::{Analyzer, Config};

    impl Tracker {
        /// (waiting, remembered as late, index entries): what a long run holds.
        fn sizes(&self) -> (usize, usize, usize) {
            (
                self.pending.len(),
                self.late_entries.len(),
                self.order.len() + self.by_key.len() + self.by_requester.len(),
            )
        }
    }

    fn analyzer(timeout_ms: u64) -> Analyzer {
        Analyzer::with_rules(
            Config {
                reply_timeout: Duration::from_millis(timeout_ms),
                ..Config::default()
            },
            Vec::new(),
        )
    }

    #[test]
    fn requests_that_are_never_answered_expire_so_memory_stays_bounded() {
        let mut fx = Fx::new();
        let mut a = analyzer(1000);
        a.feed(&fx.connect(5, "dev-000001"));
        let mut most = (0, 0, 0);
        for id in 0..60_000u32 {
            // 100 ms apart: about 10 wait at a time, the rest time out.
            let call = format!(r#"{{"id":{id},"name":"get","args":[]}}"#);
            a.feed(&fx.direct(5, 1, Some("$RpcReq"), &call));
            let s = a.requests().sizes();
            most = (most.0.max(s.0), most.1.max(s.1), most.2.max(s.2));
        }
        assert!(most.0 <= 12, "waiting: {most:?}");
        assert_eq!(most.1, MAX_LATE, "late ones are capped: {most:?}");
        assert!(most.2 <= 40, "indexes: {most:?}");
        let row = &a.requests().table()[0];
        assert_eq!(row.calls, 60_000);
        assert!(row.unanswered >= 59_980, "{row:?}");
    }

    #[test]
    fn a_flood_of_requests_at_one_instant_is_capped_and_counted_as_forgotten() {
        let mut fx = Fx::new();
        let mut a = analyzer(5000);
        a.feed(&fx.connect(5, "dev-000001"));
        // One instant: nothing can time out.
        for id in 0..(MAX_PENDING as u32 + 500) {
            let call = format!(r#"{{"id":{id},"name":"get"}}"#);
            let mut e = fx.direct(5, 1, Some("$RpcReq"), &call);
            e.ts = "2026-11-22T03:44:17.000Z".into();
            a.feed(&e);
        }
        assert_eq!(a.requests().sizes().0, MAX_PENDING);
        assert_eq!(a.requests().forgotten, 500);
    }

    #[test]
    fn table_rows_past_the_cap_share_one_other_row() {
        let mut fx = Fx::new();
        let mut a = analyzer(5000);
        a.feed(&fx.connect(5, "dev-000001"));
        for n in 0..(MAX_NAMES + 20) {
            a.feed(&fx.direct(5, 1, Some(&format!("Op{n}Req")), "{}"));
        }
        let rows = a.requests().table();
        assert_eq!(rows.len(), MAX_NAMES + 1, "{} rows", rows.len());
        let other = rows
            .iter()
            .find(|r| r.name == OTHER)
            .expect("an (other) row");
        assert_eq!((other.calls, other.pending), (20, 20));
    }

    #[test]
    fn a_gap_in_the_trace_forgets_what_was_waiting_instead_of_reporting_it() {
        let mut fx = Fx::new();
        let mut a = Analyzer::with_rules(
            Config {
                reply_timeout: Duration::from_secs(1),
                ..Config::default()
            },
            crate::analyze::rules::only("unanswered-request"),
        );
        a.feed(&fx.snapshot(Default::default()));
        a.feed(&fx.connect(5, "dev-000001"));
        a.feed(&fx.direct(5, 1, Some("GetReq"), "{}"));
        // The tracer re-attached: a second snapshot (events in between lost).
        a.feed(&fx.snapshot(Default::default()));
        fx.advance(5.0);
        a.feed(&fx.connect(6, "dev-000002"));
        a.finish();
        assert!(a.findings().is_empty(), "{:#?}", a.findings());
        assert_eq!(a.requests().forgotten, 1);
        let mut notice = Event::new(Kind::Notice, "2026-11-22T03:44:17.000Z".into());
        notice.skipped = Some(3);
        a.feed(&fx.direct(6, 1, Some("GetReq"), "{}"));
        a.feed(&notice);
        assert_eq!(a.requests().forgotten, 2, "skipped events are a gap too");
        assert_eq!(a.summary().skipped, 3);
    }

    #[test]
    fn a_cut_preview_still_gives_the_rpc_id_and_name() {
        let mut e = Event::new(Kind::Publish, "2026-11-22T03:44:17.000Z".into());
        e.payload = Some(r#"{"id": 42, "name":"upload","args":["AAAA"#.into());
        e.encoding = Some(Encoding::Text);
        e.truncated = true;
        let b = body(&e);
        assert_eq!(b.id.as_deref(), Some("42"));
        assert_eq!(b.name.as_deref(), Some("upload"));
        assert!(!b.err);
        e.payload = Some(r#"{"id":"a-7","err":"boom","rsp":"#.into());
        let b = body(&e);
        assert_eq!(b.id.as_deref(), Some("\"a-7\""));
        assert!(b.err);
        e.payload = Some(r#"{"id":7,"err":null,"rsp":1}"#.into());
        e.truncated = false;
        e.encoding = Some(Encoding::Json);
        assert!(!body(&e).err, "err: null is no error");
        assert_eq!(
            scan_field(r#"{"idx":1,"id":2}"#, "id").as_deref(),
            Some("2")
        );
    }

    #[test]
    fn a_refused_message_is_a_dropped_request_but_a_refused_subscribe_is_none() {
        let mut fx = Fx::new();
        let mut a = analyzer(5000);
        a.feed(&fx.connect(5, "ui-000001"));
        let mut refused = fx.direct(5, 1, Some("SetChargerReq"), "{}");
        refused.kind = Kind::Deny;
        refused.verdict = Some(false);
        refused.reason = Some("onpublish refused the message".into());
        let mut sub = fx.subscribe(5, 100, "AlarmReq");
        sub.kind = Kind::Deny;
        sub.reason = Some("permittop refused Subscribe of topic AlarmReq".into());
        let mut out = Vec::new();
        a.tracker.step(Some(&sub), a.now, &a.config, &mut out);
        assert!(out.is_empty(), "{out:?}");
        a.tracker.step(Some(&refused), a.now, &a.config, &mut out);
        match out.as_slice() {
            [Outcome::Dropped { reason, .. }] => {
                assert_eq!(reason, "onpublish refused the message")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(a.requests().table().len(), 1, "only SetChargerReq");
    }

    #[test]
    fn the_table_counts_errors_latency_closes_and_a_reply_at_the_deadline_is_in_time() {
        let mut fx = Fx::new();
        let mut a = analyzer(2000);
        a.feed(&fx.connect(5, "ui-000001"));
        a.feed(&fx.direct(5, 1, Some("$RpcReq"), r#"{"id":1,"name":"f","args":[]}"#));
        fx.advance(1.9); // with the fixture's 0.1 s step: exactly the 2 s deadline
        a.feed(&fx.direct(1, 5, Some("$RpcResp"), r#"{"id":1,"err":"boom"}"#));
        a.feed(&fx.direct(5, 1, Some("GetReq"), "{}"));
        a.feed(&fx.close(5, "connection lost"));
        let rows = a.requests().table();
        let get = rows.iter().find(|r| r.name == "GetReq").expect("GetReq");
        assert_eq!((get.calls, get.unanswered), (1, 1), "closed while waiting");
        let f = rows.iter().find(|r| r.name == "f").expect("f");
        assert_eq!(
            (f.answered, f.late, f.unanswered, f.err),
            (1, 0, 0, 1),
            "{f:?}"
        );
        let max = f.latency_ms["max"].as_f64().unwrap_or(0.0);
        assert!((1990.0..2010.0).contains(&max), "2 s, to 3 digits: {f:?}");
        // A request made before any time was known cannot time out: forgotten.
        let mut b = analyzer(2000);
        let mut early = fx.direct(6, 1, Some("GetReq"), "{}");
        early.ts = "not a time".into();
        b.feed(&early);
        b.feed(&fx.connect(7, "ui-000002"));
        assert_eq!(b.requests().forgotten, 1);
    }

    #[test]
    fn a_request_to_a_topic_takes_a_reply_from_each_receiver() {
        let mut fx = Fx::new();
        let mut a = Analyzer::with_rules(
            Config::default(),
            crate::analyze::rules::only("orphan-response"),
        );
        a.feed(&fx.connect(5, "ui-000001"));
        fx.advance(10.0);
        let mut req = fx.publish(5, 100, "Devices", Some("PingReq"), "{}");
        req.receivers = Some(3);
        a.feed(&req);
        for from in [6, 7, 8] {
            a.feed(&fx.direct(from, 5, Some("PingResp"), "{}"));
        }
        assert!(a.findings().is_empty(), "{:#?}", a.findings());
        a.feed(&fx.direct(9, 5, Some("PingResp"), "{}"));
        assert_eq!(a.findings().len(), 1, "a fourth is one too many");
        let row = &a.requests().table()[0];
        assert_eq!((row.calls, row.answered, row.pending), (1, 1, 0));
    }

    #[test]
    fn request_and_reply_names_need_a_name_before_req_or_resp_and_are_not_the_rpc_sub_topics() {
        assert!(named_request("GetReq") && named_request("xReq"));
        assert!(!named_request("Req"), "Req alone names nothing");
        assert!(!named_request("Temperature"), "no Req suffix");
        assert!(!named_request("ReqTemp"), "Req not at the end");
        assert!(!named_request(RPC_REQ), "$RpcReq is the correlated call");
        assert!(named_reply("GetResp") && named_reply("xResp"));
        assert!(!named_reply("Resp"), "Resp alone names nothing");
        assert!(!named_reply("Responses"), "no Resp suffix");
        assert!(!named_reply(RPC_RESP), "$RpcResp is the correlated answer");
        // Through the tracker: only the named request gets a table row.
        let mut fx = Fx::new();
        let mut a = analyzer(5000);
        a.feed(&fx.connect(5, "ui-000001"));
        for sub in ["Req", "Temperature", "GetReq"] {
            a.feed(&fx.direct(5, 1, Some(sub), "{}"));
        }
        let names: Vec<String> = a.requests().table().into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["GetReq"]);
    }

    #[test]
    fn a_cut_preview_finds_a_field_after_the_same_word_as_a_value_and_keeps_signed_decimal_numbers()
    {
        // `"id"` first appears as a value (no colon after it): look further.
        assert_eq!(
            scan_field(r#"{"name":"id","id":5,"args":["#, "id").as_deref(),
            Some("5")
        );
        assert_eq!(
            scan_field(r#"{"id":-1.5e+3,"name":"f","args":["#, "id").as_deref(),
            Some("-1.5e+3")
        );
        assert_eq!(scan_field(r#"{"name":"id"}"#, "id"), None);
    }

    #[test]
    fn a_whole_json_call_is_matched_by_its_own_id_not_an_id_inside_its_args() {
        let mut fx = Fx::new();
        let mut a = analyzer(5000);
        a.feed(&fx.connect(5, "ui-000001"));
        // The args come first and hold an "id" of their own.
        a.feed(&fx.direct(
            5,
            1,
            Some("$RpcReq"),
            r#"{"name":"setUser","args":[{"id":9}],"id":1}"#,
        ));
        a.feed(&fx.direct(1, 5, Some("$RpcResp"), r#"{"id":1,"rsp":true}"#));
        let rows = a.requests().table();
        let row = rows.iter().find(|r| r.name == "setUser").expect("setUser");
        assert_eq!((row.calls, row.answered, row.pending), (1, 1, 0), "{row:?}");
    }

    #[test]
    fn a_cut_preview_is_an_error_for_an_err_value_object_or_array_but_not_null_or_false() {
        let mut e = Event::new(Kind::Publish, "2026-11-22T03:44:17.000Z".into());
        e.encoding = Some(Encoding::Text);
        e.truncated = true;
        let err = |e: &mut Event, p: &str| {
            e.payload = Some(p.into());
            body(e).err
        };
        assert!(err(&mut e, r#"{"id":7,"err":"boom","rsp":"#));
        assert!(err(&mut e, r#"{"id":7,"err":{"code":5,"msg":"#));
        assert!(err(&mut e, r#"{"id":7,"error":["disk","#));
        assert!(!err(&mut e, r#"{"id":7,"err":null,"rsp":"#));
        assert!(!err(&mut e, r#"{"id":7,"err":false,"rsp":"#));
        assert!(!err(&mut e, r#"{"id":7,"rsp":["#));
    }

    #[test]
    fn waiting_counts_the_requests_still_waiting_for_their_reply() {
        let mut fx = Fx::new();
        let mut a = analyzer(5000);
        a.feed(&fx.connect(5, "ui-000001"));
        assert_eq!(a.requests().waiting(), 0);
        a.feed(&fx.direct(5, 1, Some("GetReq"), "{}"));
        a.feed(&fx.direct(5, 1, Some("GetReq"), "{}"));
        a.feed(&fx.direct(5, 1, Some("SetReq"), "{}"));
        assert_eq!(a.requests().waiting(), 3);
        a.feed(&fx.direct(1, 5, Some("GetResp"), "{}"));
        assert_eq!(a.requests().waiting(), 2, "one GetReq answered");
    }

    fn server() -> crate::trace::schema::Dest {
        crate::trace::schema::Dest {
            tid: 1,
            kind: DestType::Server,
            name: None,
            uid: None,
        }
    }

    #[test]
    fn a_dropped_request_behind_a_waiting_one_leaves_the_waiting_one_to_its_reply() {
        let mut fx = Fx::new();
        let mut a = analyzer(5000);
        a.feed(&fx.connect(5, "ui-000001"));
        fx.advance(10.0); // past the grace at the trace's start
        a.feed(&fx.direct(5, 1, Some("GetReq"), r#"{"n":1}"#));
        a.feed(&fx.direct(5, 1, Some("GetReq"), r#"{"n":2}"#));
        // The second one's drop (the Mako hook's publish-then-drop): it is
        // taken out from behind the first, which still waits.
        a.feed(&fx.drop(
            5,
            server(),
            Some("GetReq"),
            r#"{"n":2}"#,
            "the server has no handler for it",
        ));
        a.feed(&fx.direct(1, 5, Some("GetResp"), "{}"));
        let row = &a.requests().table()[0];
        assert_eq!(
            (row.calls, row.answered, row.unanswered, row.pending),
            (2, 1, 1, 0),
            "{row:?}"
        );
    }

    #[test]
    fn each_timed_out_request_is_remembered_apart_so_every_late_reply_is_late() {
        let mut fx = Fx::new();
        let mut a = analyzer(1000);
        a.feed(&fx.connect(5, "ui-000001"));
        for round in 0..2 {
            a.feed(&fx.direct(5, 1, Some("GetReq"), "{}"));
            a.feed(&fx.direct(5, 1, Some("GetReq"), "{}"));
            fx.advance(2.0);
            a.feed(&fx.connect(6 + round, "ui-000002")); // time passes: both time out
        }
        for _ in 0..4 {
            a.feed(&fx.direct(1, 5, Some("GetResp"), "{}"));
        }
        let row = &a.requests().table()[0];
        assert_eq!(
            (row.calls, row.answered, row.late, row.unanswered),
            (4, 0, 4, 0),
            "{row:?}"
        );
    }

    #[test]
    fn past_the_late_cap_the_newest_timed_out_requests_are_the_ones_remembered() {
        let mut fx = Fx::new();
        let mut a = analyzer(1000);
        a.feed(&fx.connect(5, "ui-000001"));
        for _ in 0..(MAX_LATE + 5) {
            a.feed(&fx.direct(5, 1, Some("GetReq"), "{}"));
        }
        fx.advance(5.0);
        a.feed(&fx.connect(6, "ui-000002")); // the last ones time out too
        for _ in 0..=MAX_LATE {
            a.feed(&fx.direct(1, 5, Some("GetResp"), "{}"));
        }
        let row = &a.requests().table()[0];
        assert_eq!(row.late as usize, MAX_LATE, "{row:?}");
        assert_eq!(row.unanswered, 5, "the 5 oldest stay unanswered: {row:?}");
    }

    #[test]
    fn a_message_to_a_topic_named_like_a_request_is_a_request_answered_on_its_resp() {
        let mut fx = Fx::new();
        let mut a = analyzer(5000);
        a.feed(&fx.connect(5, "ui-000001"));
        a.feed(&fx.publish(5, 101, "Temperature", None, "{}"));
        a.feed(&fx.publish(5, 100, "GetConfigReq", None, "{}"));
        assert_eq!(a.requests().table().len(), 1, "Temperature is no request");
        let row = &a.requests().table()[0];
        assert_eq!(
            (row.name.as_str(), row.calls, row.pending),
            ("GetConfigReq", 1, 1)
        );
        a.feed(&fx.direct(7, 5, Some("GetConfigResp"), "{}"));
        let row = &a.requests().table()[0];
        assert_eq!((row.answered, row.pending), (1, 0), "{row:?}");
    }

    #[test]
    fn only_a_notice_of_skipped_events_is_a_gap_that_forgets_what_waits() {
        let mut fx = Fx::new();
        let mut a = analyzer(5000);
        a.feed(&fx.connect(5, "ui-000001"));
        a.feed(&fx.direct(5, 1, Some("GetReq"), "{}"));
        let mut notice = Event::new(Kind::Notice, "2026-11-22T03:44:17.000Z".into());
        notice.reason = Some("a tracer's note".into());
        a.feed(&notice);
        notice.skipped = Some(0);
        a.feed(&notice);
        assert_eq!(a.requests().forgotten, 0, "no events were skipped");
        assert_eq!(a.requests().waiting(), 1);
        notice.skipped = Some(1);
        a.feed(&notice);
        assert_eq!(a.requests().forgotten, 1);
    }

    #[test]
    fn a_drop_of_another_request_is_a_call_of_its_own_and_leaves_the_waiting_one() {
        let mut fx = Fx::new();
        let mut a = analyzer(5000);
        a.feed(&fx.connect(5, "ui-000001"));
        a.feed(&fx.direct(5, 1, Some("GetReq"), r#"{"n":1}"#));
        // A drop whose payload is not the waiting request's: a second call.
        a.feed(&fx.drop(
            5,
            server(),
            Some("GetReq"),
            r#"{"n":2}"#,
            "the server has no handler for it",
        ));
        let row = &a.requests().table()[0];
        assert_eq!(
            (row.calls, row.unanswered, row.pending),
            (2, 1, 1),
            "{row:?}"
        );
    }

    #[test]
    fn a_request_stamped_before_the_engines_clock_has_the_whole_timeout_from_the_clock() {
        let mut fx = Fx::new();
        let mut a = analyzer(1000);
        a.feed(&fx.connect(5, "ui-000001"));
        fx.advance(10.0);
        a.feed(&fx.connect(6, "ui-000002")); // the clock is at 10 s
        // The source's clock jumps back 5 s: the request's own time is 5 s.
        fx.advance(-5.0);
        a.feed(&fx.direct(5, 1, Some("GetReq"), "{}"));
        fx.advance(5.5); // 0.6 s after the clock
        a.feed(&fx.direct(1, 5, Some("GetResp"), "{}"));
        let row = &a.requests().table()[0];
        assert_eq!((row.answered, row.late), (1, 0), "in time: {row:?}");
    }

    #[test]
    fn a_reply_goes_to_the_oldest_unanswered_request_before_one_still_taking_more_replies() {
        let mut fx = Fx::new();
        let mut a = analyzer(5000);
        a.feed(&fx.connect(5, "ui-000001"));
        let mut ping = fx.publish(5, 100, "Devices", Some("PingReq"), "{}");
        ping.receivers = Some(2);
        a.feed(&ping);
        a.feed(&fx.direct(6, 5, Some("PingResp"), "{}")); // the first of its two
        let mut again = fx.publish(5, 100, "Devices", Some("PingReq"), "{}");
        again.receivers = Some(1);
        a.feed(&again);
        a.feed(&fx.direct(7, 5, Some("PingResp"), "{}")); // the second call's
        let row = &a.requests().table()[0];
        assert_eq!((row.calls, row.answered, row.pending), (2, 2, 0), "{row:?}");
    }
}
