//! The analyzer: rules over trace events that say what is wrong in an SMQ app
//! (the pitfalls of the SMQ application guide), with the clients, topics,
//! times and evidence involved, and what to change.
//!
//! Events come in arrival order (file line order, live arrival order), never
//! sorted by `ts`: Lua sources stamp whole seconds. The engine keeps one
//! [`World`] (who is connected, which ETIDs closed and who held them, topics,
//! sub-topics, subscriptions) and updates it with each event *before* the
//! rules see that event, so a rule reads the world as it is after the event.
//! Each rule ([`rules`], one file per rule, with its doc and tests) keeps only
//! its own extra state, and reports [`Finding`]s into a [`Sink`]. The engine
//! merges findings with the same rule and key into one, counting them.
//!
//! Time: [`Cx::now`] is the latest `ts` seen so far (a clock that never goes
//! back), advanced also by [`Analyzer::tick`] in live mode, so timeouts
//! (`unanswered-request`) fire without a later event.
//!
//! Memory is bounded: the world's tables and each rule's pending tables have
//! caps (see [`World`]), and findings beyond [`MAX_FINDINGS`] are counted, not kept.
//!
//! May import: crate::trace (the schema), serde, serde_json, jiff, and the
//! leaf `latency` (the request table's percentiles). No I/O.

pub mod requests;
pub mod rules;

#[cfg(test)]
pub(crate) mod fixture;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use serde::Serialize;

use crate::trace::schema::{Client, DestType, Event, Kind};

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" | "warn" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!(
                "unknown severity '{other}' (one of: info, warning, error)"
            )),
        }
    }
}

/// A rule's catalogue entry: its stable name, default severity, and doc.
#[derive(Debug)]
pub struct RuleInfo {
    /// The stable name (`no-subscribers`): part of the interface.
    pub name: &'static str,
    pub severity: Severity,
    /// One line for `analyze --rules`.
    pub summary: &'static str,
    /// The long doc for `analyze --explain`: what it finds, why it breaks
    /// apps, how to fix it, an example (markdown-ish plain text).
    pub explain: &'static str,
    /// Which brokers can show it, and what a broker that cannot see every
    /// event means for the rule (the Mako hook reports a `createsub` only when
    /// a sub-topic is new, …).
    pub brokers: &'static str,
}

/// A client named in a finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ClientRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    pub etid: u32,
}

impl ClientRef {
    pub fn of(c: &Client) -> Self {
        ClientRef {
            uid: c.uid.clone(),
            etid: c.etid,
        }
    }

    pub fn label(&self) -> String {
        match &self.uid {
            Some(uid) => format!("{uid} (etid {})", self.etid),
            None => format!("etid {}", self.etid),
        }
    }
}

/// Evidence events kept per finding.
pub const MAX_EVIDENCE: usize = 5;
/// Payload characters kept in an evidence event.
pub const EVIDENCE_PAYLOAD: usize = 200;
/// Distinct findings kept; later ones are only counted ([`Analyzer::suppressed`]).
pub const MAX_FINDINGS: usize = 10_000;
/// Clients named in one finding.
pub const MAX_CLIENTS: usize = 16;

/// One thing wrong in the app.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// What is wrong, in one or two sentences naming the clients and topics.
    pub message: String,
    pub clients: Vec<ClientRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtopic: Option<String>,
    pub first_ts: String,
    pub last_ts: String,
    /// How many times it happened (merged findings with the same key).
    pub count: u64,
    /// The schema events that show it, trimmed (payload cut, no snapshot).
    pub evidence: Vec<Event>,
    /// What to change.
    pub fix: String,
    /// What makes two occurrences the same finding (rule-specific: a topic
    /// name, an ETID, a request name…). Not printed.
    #[serde(skip)]
    pub key: String,
}

impl Finding {
    /// A finding of `info`'s rule at its default severity, made at event `ev`
    /// (its time, and the event as the first evidence).
    pub fn new(info: &'static RuleInfo, key: impl Into<String>, ev: &Event) -> Self {
        Finding {
            rule: info.name,
            severity: info.severity,
            message: String::new(),
            clients: Vec::new(),
            topic: None,
            subtopic: None,
            first_ts: ev.ts.clone(),
            last_ts: ev.ts.clone(),
            count: 1,
            evidence: vec![trim(ev)],
            fix: String::new(),
            key: key.into(),
        }
    }

    pub fn message(mut self, m: impl Into<String>) -> Self {
        self.message = m.into();
        self
    }

    pub fn fix(mut self, f: impl Into<String>) -> Self {
        self.fix = f.into();
        self
    }

    pub fn client(mut self, c: ClientRef) -> Self {
        if !self.clients.contains(&c) && self.clients.len() < MAX_CLIENTS {
            self.clients.push(c);
        }
        self
    }

    pub fn topic(mut self, t: impl Into<String>) -> Self {
        self.topic = Some(t.into());
        self
    }

    pub fn subtopic(mut self, s: impl Into<String>) -> Self {
        self.subtopic = Some(s.into());
        self
    }

    /// One more evidence event (up to [`MAX_EVIDENCE`]).
    pub fn evidence(mut self, ev: &Event) -> Self {
        if self.evidence.len() < MAX_EVIDENCE {
            self.evidence.push(trim(ev));
        }
        self
    }

    /// Spans from `first` (an earlier event's ts) to the current one.
    pub fn since(mut self, first_ts: &str) -> Self {
        self.first_ts = first_ts.to_string();
        self
    }
}

/// `ev` as evidence: payload cut to [`EVIDENCE_PAYLOAD`] characters, no snapshot.
pub fn trim(ev: &Event) -> Event {
    let mut e = ev.clone();
    e.snapshot = None;
    if let Some(p) = &e.payload
        && p.chars().count() > EVIDENCE_PAYLOAD
    {
        e.payload = Some(p.chars().take(EVIDENCE_PAYLOAD).collect());
        e.truncated = true;
        // A cut JSON text is no longer JSON.
        if e.encoding == Some(crate::trace::schema::Encoding::Json) {
            e.encoding = Some(crate::trace::schema::Encoding::Text);
        }
    }
    e
}

/// Thresholds and choices (each is a flag of `smqctl analyze`).
#[derive(Debug, Clone)]
pub struct Config {
    /// `unanswered-request`: how long a request may wait for its reply.
    pub reply_timeout: Duration,
    /// The ready message's sub-topic (`None`: any sub-topic ending in `Ready`).
    pub ready: Option<String>,
    /// `large-payload`: payloads over this many bytes.
    pub large: usize,
    /// `reconnect-storm`: connects by one UID per minute above this.
    pub storm_per_minute: u32,
    /// `dynamic-topics`: topics created by one client and used once, above this.
    pub dynamic_topics: u32,
    /// Rules turned off (`--allow RULE`).
    pub allow: HashSet<String>,
    /// Rules raised to error (`--deny RULE`).
    pub deny: HashSet<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reply_timeout: Duration::from_secs(5),
            ready: None,
            large: 16 * 1024,
            storm_per_minute: 10,
            dynamic_topics: 20,
            allow: HashSet::new(),
            deny: HashSet::new(),
        }
    }
}

impl Config {
    /// Whether `subtopic` is a ready message.
    pub fn is_ready(&self, subtopic: &str) -> bool {
        match &self.ready {
            Some(name) => subtopic == name,
            None => subtopic.ends_with("Ready"),
        }
    }
}

/// A connected client as the analyzer knows it.
#[derive(Debug, Clone)]
pub struct ClientState {
    pub uid: Option<String>,
    /// `ts` of its connect event (or of the snapshot that listed it).
    pub connected_ts: String,
    /// Arrival index of its connect event.
    pub connected_seq: u64,
    /// Topic TIDs it subscribes to now.
    pub subscribed: HashSet<u32>,
    /// Sub-topic TIDs it created (registered) since it connected.
    pub subtopics: HashSet<u32>,
    /// It was listed in a snapshot: events before the attach are unknown.
    pub from_snapshot: bool,
}

/// A client whose session ended: who held the ETID, and when it closed.
#[derive(Debug, Clone)]
pub struct Closed {
    pub uid: Option<String>,
    pub closed_ts: String,
    pub closed_seq: u64,
    pub reason: Option<String>,
}

/// A topic as the analyzer knows it.
#[derive(Debug, Clone, Default)]
pub struct TopicState {
    pub name: String,
    /// ETIDs subscribed now.
    pub subscribers: HashSet<u32>,
}

/// Closed ETIDs remembered (oldest forgotten first).
pub const MAX_CLOSED: usize = 10_000;
/// Topics and sub-topics remembered.
pub const MAX_TOPICS: usize = 100_000;

/// The broker's state as seen through the trace so far.
#[derive(Debug, Default)]
pub struct World {
    /// The broker's own ETID (from the snapshot; 1 when unknown).
    pub server_etid: Option<u32>,
    /// Whether a snapshot was seen (the trace did not start with the broker).
    pub attached_late: bool,
    pub clients: HashMap<u32, ClientState>,
    /// The ETID each UID holds now.
    pub uid_etid: HashMap<String, u32>,
    pub closed: HashMap<u32, Closed>,
    /// Closes in order, with their seq: an entry is current while `closed`
    /// holds that ETID with that seq (a reconnect or a later close makes it stale).
    closed_order: VecDeque<(u32, u64)>,
    pub topics: HashMap<u32, TopicState>,
    /// Topic name → TID.
    pub topic_names: HashMap<String, u32>,
    pub subtopics: HashMap<u32, String>,
}

impl World {
    /// The server's ETID (1, Mako's default, when no snapshot said).
    pub fn server(&self) -> u32 {
        self.server_etid.unwrap_or(1)
    }

    /// The topic name of `tid`, when known.
    pub fn topic_name(&self, tid: u32) -> Option<&str> {
        self.topics.get(&tid).map(|t| t.name.as_str())
    }

    fn learn_topic(&mut self, tid: u32, name: &str) {
        if self.topics.len() >= MAX_TOPICS && !self.topics.contains_key(&tid) {
            return;
        }
        let t = self.topics.entry(tid).or_default();
        if t.name != name {
            t.name = name.to_string();
            self.topic_names.insert(name.to_string(), tid);
        }
    }

    fn learn_subtopic(&mut self, subtid: u32, name: &str) {
        // Most events name a sub-topic already known: no allocation for them.
        let room = self.subtopics.len() < MAX_TOPICS;
        match self.subtopics.get_mut(&subtid) {
            Some(known) if known == name => {}
            Some(known) => *known = name.to_string(),
            None if room => {
                self.subtopics.insert(subtid, name.to_string());
            }
            None => {}
        }
    }

    fn connect(&mut self, c: &Client, ts: &str, seq: u64, from_snapshot: bool) {
        if c.server {
            self.server_etid = Some(c.etid);
            return;
        }
        self.closed.remove(&c.etid);
        if let Some(uid) = &c.uid {
            self.uid_etid.insert(uid.clone(), c.etid);
        }
        self.clients.insert(
            c.etid,
            ClientState {
                uid: c.uid.clone(),
                connected_ts: ts.to_string(),
                connected_seq: seq,
                subscribed: HashSet::new(),
                subtopics: HashSet::new(),
                from_snapshot,
            },
        );
    }

    fn close(&mut self, etid: u32, ev: &Event, seq: u64) {
        let state = self.clients.remove(&etid);
        // Only the topics it subscribes to (not every topic: a close costs
        // what the client had, however many topics the broker has).
        match &state {
            Some(s) => {
                for tid in &s.subscribed {
                    if let Some(t) = self.topics.get_mut(tid) {
                        t.subscribers.remove(&etid);
                    }
                }
            }
            // Never seen connecting (a trace that began without a snapshot):
            // its subscriptions may be anywhere.
            None => {
                for t in self.topics.values_mut() {
                    t.subscribers.remove(&etid);
                }
            }
        }
        let uid = state
            .and_then(|s| s.uid)
            .or_else(|| ev.from.as_ref().and_then(|c| c.uid.clone()));
        if let Some(u) = &uid
            && self.uid_etid.get(u) == Some(&etid)
        {
            self.uid_etid.remove(u);
        }
        // Forget the oldest closed ETID when full (stale order entries are skipped).
        while self.closed.len() >= MAX_CLOSED && !self.closed.contains_key(&etid) {
            let Some((old, at)) = self.closed_order.pop_front() else {
                break;
            };
            if self.closed.get(&old).is_some_and(|c| c.closed_seq == at) {
                self.closed.remove(&old);
            }
        }
        self.closed_order.push_back((etid, seq));
        if self.closed_order.len() > 2 * MAX_CLOSED {
            let closed = &self.closed;
            self.closed_order
                .retain(|(e, at)| closed.get(e).is_some_and(|c| c.closed_seq == *at));
        }
        self.closed.insert(
            etid,
            Closed {
                uid,
                closed_ts: ev.ts.clone(),
                closed_seq: seq,
                reason: ev.reason.clone(),
            },
        );
    }

    /// Apply one event.
    fn apply(&mut self, ev: &Event, seq: u64) {
        if let (Some(subtid), Some(name)) = (ev.subtid, &ev.subtopic) {
            self.learn_subtopic(subtid, name);
        }
        if let Some(to) = &ev.to
            && to.kind == DestType::Topic
            && let Some(name) = &to.name
        {
            self.learn_topic(to.tid, name);
        }
        let from = ev.from.as_ref();
        match ev.kind {
            Kind::Snapshot => {
                self.attached_late = true;
                if let Some(s) = &ev.snapshot {
                    if s.server_etid.is_some() {
                        self.server_etid = s.server_etid;
                    }
                    for t in &s.topics {
                        self.learn_topic(t.tid, &t.name);
                    }
                    for st in &s.subtopics {
                        self.learn_subtopic(st.subtid, &st.name);
                    }
                    for c in &s.clients {
                        if !self.clients.contains_key(&c.etid) {
                            self.connect(c, &ev.ts, seq, true);
                        }
                    }
                }
            }
            Kind::Connect => {
                if let Some(c) = from {
                    self.connect(c, &ev.ts, seq, false);
                }
            }
            Kind::Close => {
                if let Some(c) = from {
                    self.close(c.etid, ev, seq);
                }
            }
            Kind::Subscribe | Kind::Unsubscribe => {
                if let (Some(c), Some(to)) = (from, &ev.to) {
                    let subscribe = ev.kind == Kind::Subscribe;
                    if let Some(t) = self.topics.get_mut(&to.tid) {
                        if subscribe {
                            t.subscribers.insert(c.etid);
                        } else {
                            t.subscribers.remove(&c.etid);
                        }
                    }
                    if let Some(s) = self.clients.get_mut(&c.etid) {
                        if subscribe {
                            s.subscribed.insert(to.tid);
                        } else {
                            s.subscribed.remove(&to.tid);
                        }
                    }
                }
            }
            Kind::Createsub => {
                if let (Some(c), Some(subtid)) = (from, ev.subtid)
                    && let Some(s) = self.clients.get_mut(&c.etid)
                {
                    s.subtopics.insert(subtid);
                }
            }
            _ => {}
        }
    }
}

/// What a rule sees with each event.
pub struct Cx<'a> {
    pub world: &'a World,
    pub config: &'a Config,
    /// Arrival index of the current event (0-based).
    pub seq: u64,
    /// The latest time seen (never goes back).
    pub now: Option<jiff::Timestamp>,
}

/// Where rules put findings.
#[derive(Default)]
pub struct Sink {
    found: Vec<Finding>,
}

impl Sink {
    pub fn push(&mut self, f: Finding) {
        self.found.push(f);
    }
}

/// One rule: its catalogue entry and what it does with each event.
pub trait Rule: Send {
    fn info(&self) -> &'static RuleInfo;
    /// One event, in arrival order, after the world has taken it in.
    fn observe(&mut self, cx: &Cx, ev: &Event, out: &mut Sink);
    /// Time passed without an event (live mode), or before each event: fire
    /// timeouts here.
    fn tick(&mut self, _cx: &Cx, _out: &mut Sink) {}
    /// The end of the input: report what is still pending.
    fn finish(&mut self, _cx: &Cx, _out: &mut Sink) {}
    /// What the request tracker ([`requests`]) concluded in this step (a
    /// reply matched, an orphan reply, a dropped or timed-out request, a
    /// requester that closed with one waiting), after `observe`.
    fn request(&mut self, _cx: &Cx, _o: &requests::Outcome, _out: &mut Sink) {}
}

/// `ts` as a timestamp (RFC 3339; `None` when it does not parse).
pub fn parse_ts(ts: &str) -> Option<jiff::Timestamp> {
    ts.parse().ok()
}

/// What happened to a finding in one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// A new finding (index into [`Analyzer::findings`]).
    New(usize),
    /// An existing finding happened again.
    Again(usize),
}

/// The engine: the world, the rules, and the findings so far.
pub struct Analyzer {
    config: Config,
    world: World,
    rules: Vec<Box<dyn Rule>>,
    now: Option<jiff::Timestamp>,
    seq: u64,
    findings: Vec<Finding>,
    index: HashMap<(&'static str, String), usize>,
    suppressed: u64,
    events: u64,
    skipped: u64,
    tracker: requests::Tracker,
}

impl Analyzer {
    /// Every catalogue rule not allowed away by `config.allow`.
    pub fn new(config: Config) -> Self {
        let rules = rules::catalogue()
            .into_iter()
            .filter(|r| !config.allow.contains(r.info().name))
            .collect();
        Self::with_rules(config, rules)
    }

    /// Just these rules (tests, and a rule's own fixture).
    pub fn with_rules(config: Config, rules: Vec<Box<dyn Rule>>) -> Self {
        Analyzer {
            config,
            world: World::default(),
            rules,
            now: None,
            seq: 0,
            findings: Vec::new(),
            index: HashMap::new(),
            suppressed: 0,
            events: 0,
            skipped: 0,
            tracker: requests::Tracker::default(),
        }
    }

    /// The request/reply tracker (the summary's request table).
    pub fn requests(&self) -> &requests::Tracker {
        &self.tracker
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every finding so far, in the order first made.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Findings not kept because [`MAX_FINDINGS`] were already kept.
    pub fn suppressed(&self) -> u64 {
        self.suppressed
    }

    /// Events fed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// One event, in arrival order.
    pub fn feed(&mut self, ev: &Event) -> Vec<Update> {
        if let Some(t) = parse_ts(&ev.ts)
            && self.now.is_none_or(|now| t > now)
        {
            self.now = Some(t);
        }
        let seq = self.seq;
        self.seq += 1;
        self.events += 1;
        if ev.kind == Kind::Notice {
            self.skipped += ev.skipped.unwrap_or(0);
        }
        self.world.apply(ev, seq);
        self.step(Some(ev), seq, false)
    }

    /// Time passed with no event (live mode): `now` is the broker's clock as
    /// best known (the latest event's time plus the wall time since).
    pub fn tick(&mut self, now: jiff::Timestamp) -> Vec<Update> {
        if self.now.is_none_or(|n| now > n) {
            self.now = Some(now);
        }
        self.step(None, self.seq, false)
    }

    /// The end of the input: what rules still hold pending becomes findings.
    pub fn finish(&mut self) -> Vec<Update> {
        self.step(None, self.seq, true)
    }

    /// The tracker, then every rule: tick, the event, the tracker's outcomes
    /// (and at the end, finish).
    fn step(&mut self, ev: Option<&Event>, seq: u64, end: bool) -> Vec<Update> {
        let mut outcomes = Vec::new();
        self.tracker.step(ev, self.now, &self.config, &mut outcomes);
        let mut sink = Sink::default();
        let cx = Cx {
            world: &self.world,
            config: &self.config,
            seq,
            now: self.now,
        };
        for r in &mut self.rules {
            r.tick(&cx, &mut sink);
            if let Some(ev) = ev {
                r.observe(&cx, ev, &mut sink);
            }
            for o in &outcomes {
                r.request(&cx, o, &mut sink);
            }
            if end {
                r.finish(&cx, &mut sink);
            }
        }
        self.merge(sink)
    }

    fn merge(&mut self, sink: Sink) -> Vec<Update> {
        let mut updates = Vec::new();
        for mut f in sink.found {
            if self.config.deny.contains(f.rule) {
                f.severity = Severity::Error;
            }
            if let Some(&i) = self.index.get(&(f.rule, f.key.clone())) {
                let old = &mut self.findings[i];
                old.count += f.count;
                old.last_ts = f.last_ts;
                old.message = f.message;
                for c in f.clients {
                    if !old.clients.contains(&c) && old.clients.len() < MAX_CLIENTS {
                        old.clients.push(c);
                    }
                }
                for e in f.evidence {
                    if old.evidence.len() < MAX_EVIDENCE {
                        old.evidence.push(e);
                    }
                }
                updates.push(Update::Again(i));
            } else if self.findings.len() >= MAX_FINDINGS {
                self.suppressed += f.count;
            } else {
                self.index
                    .insert((f.rule, f.key.clone()), self.findings.len());
                updates.push(Update::New(self.findings.len()));
                self.findings.push(f);
            }
        }
        updates
    }
}

/// Findings of one rule in a [`Summary`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuleTally {
    /// Distinct findings.
    pub findings: u64,
    /// Occurrences (the sum of their counts).
    pub count: u64,
}

/// One finding's final state in a [`Summary`]: live output prints a finding
/// when it is first made, so its final count and last time are here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinalCount {
    /// The finding's index in [`Analyzer::findings`] (its `id` in output).
    pub id: usize,
    pub rule: &'static str,
    pub severity: Severity,
    pub count: u64,
    pub last_ts: String,
}

/// What a run found, in numbers (the `{"type":"summary"}` line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Events fed.
    pub events: u64,
    /// Events the trace source skipped (its notices: the tracer was slow).
    pub skipped: u64,
    /// Distinct findings by severity (every severity present, 0 when none).
    pub by_severity: std::collections::BTreeMap<Severity, u64>,
    /// Findings by rule (rules that found something).
    pub by_rule: std::collections::BTreeMap<&'static str, RuleTally>,
    /// Findings not kept once [`MAX_FINDINGS`] were (counted only).
    pub suppressed: u64,
    /// Every finding's final count.
    pub findings: Vec<FinalCount>,
    /// The request table (per request name).
    pub requests: Vec<requests::RequestRow>,
    /// Requests waiting for a reply that were forgotten (a gap in the trace, or the cap).
    pub requests_forgotten: u64,
}

impl Summary {
    /// Whether a finding at `level` or above was made.
    pub fn any_at_or_above(&self, level: Severity) -> bool {
        self.by_severity.iter().any(|(s, n)| *s >= level && *n > 0)
    }

    /// Distinct findings kept.
    pub fn total(&self) -> u64 {
        self.by_severity.values().sum()
    }
}

impl Analyzer {
    /// The numbers so far (call after [`Analyzer::finish`] for the final ones).
    pub fn summary(&self) -> Summary {
        let mut by_severity = std::collections::BTreeMap::new();
        for s in [Severity::Info, Severity::Warning, Severity::Error] {
            by_severity.insert(s, 0);
        }
        // Every rule that ran, with zeros when it found nothing: a gate such
        // as `rules.no-subscribers.count <= 3` then reads 0, not "absent", and
        // a misspelt rule name is an unknown name.
        let mut by_rule: std::collections::BTreeMap<&'static str, RuleTally> = self
            .rules
            .iter()
            .map(|r| (r.info().name, RuleTally::default()))
            .collect();
        let mut findings = Vec::with_capacity(self.findings.len());
        for (id, f) in self.findings.iter().enumerate() {
            *by_severity.entry(f.severity).or_default() += 1;
            let t = by_rule.entry(f.rule).or_default();
            t.findings += 1;
            t.count += f.count;
            findings.push(FinalCount {
                id,
                rule: f.rule,
                severity: f.severity,
                count: f.count,
                last_ts: f.last_ts.clone(),
            });
        }
        Summary {
            events: self.events,
            skipped: self.skipped,
            by_severity,
            by_rule,
            suppressed: self.suppressed,
            findings,
            requests: self.tracker.table(),
            requests_forgotten: self.tracker.forgotten,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::Fx;
    use super::*;

    #[test]
    fn the_world_follows_connects_subscriptions_and_closes() {
        let mut fx = Fx::new();
        let mut a = Analyzer::with_rules(Config::default(), Vec::new());
        a.feed(&fx.connect(5, "dev-000001"));
        a.feed(&fx.subscribe(5, 100, "DeviceState"));
        assert!(a.world().topics[&100].subscribers.contains(&5));
        assert_eq!(a.world().uid_etid["dev-000001"], 5);
        a.feed(&fx.close(5, "gone"));
        assert!(a.world().topics[&100].subscribers.is_empty());
        let closed = &a.world().closed[&5];
        assert_eq!(closed.uid.as_deref(), Some("dev-000001"));
        assert_eq!(closed.reason.as_deref(), Some("gone"));
        assert!(!a.world().uid_etid.contains_key("dev-000001"));
    }

    #[test]
    fn findings_with_the_same_key_merge_and_deny_raises_to_error() {
        let mut config = Config::default();
        config.deny.insert("large-payload".into());
        config.large = 10;
        let mut fx = Fx::new();
        let mut a = Analyzer::with_rules(config, rules::only("large-payload"));
        a.feed(&fx.connect(5, "dev-000001"));
        let big = "x".repeat(50);
        let u1 = a.feed(&fx.publish(5, 100, "Logs", None, &big));
        let u2 = a.feed(&fx.publish(5, 100, "Logs", None, &big));
        assert_eq!(u1, vec![Update::New(0)]);
        assert_eq!(u2, vec![Update::Again(0)]);
        let f = &a.findings()[0];
        assert_eq!(f.count, 2);
        assert_eq!(f.severity, Severity::Error);
        assert_ne!(f.first_ts, f.last_ts);
    }

    #[test]
    fn merged_findings_name_each_client_once_and_keep_capped_clients_and_evidence() {
        let config = Config {
            large: 10,
            ..Config::default()
        };
        let mut fx = Fx::new();
        let mut a = Analyzer::with_rules(config, rules::only("large-payload"));
        let big = "x".repeat(50);
        for etid in 0..3 {
            a.feed(&fx.connect(10 + etid, &format!("dev-00000{etid}")));
        }
        // The same sender twice, then another: two clients, three evidence events.
        a.feed(&fx.publish(10, 100, "Logs", None, &big));
        a.feed(&fx.publish(10, 100, "Logs", None, &big));
        a.feed(&fx.publish(11, 100, "Logs", None, &big));
        let f = &a.findings()[0];
        let etids: Vec<u32> = f.clients.iter().map(|c| c.etid).collect();
        assert_eq!(etids, [10, 11]);
        assert_eq!(f.evidence.len(), 3);
        for etid in 0..(MAX_CLIENTS as u32 + 4) {
            a.feed(&fx.connect(100 + etid, &format!("dev-{etid:06}")));
            a.feed(&fx.publish(100 + etid, 100, "Logs", None, &big));
        }
        let f = &a.findings()[0];
        assert_eq!(a.findings().len(), 1, "one topic, one finding");
        assert_eq!(f.clients.len(), MAX_CLIENTS);
        assert_eq!(f.evidence.len(), MAX_EVIDENCE);
        assert_eq!(f.count, 3 + MAX_CLIENTS as u64 + 4);
    }

    #[test]
    fn findings_past_the_cap_are_counted_not_kept() {
        let config = Config {
            large: 10,
            ..Config::default()
        };
        let mut fx = Fx::new();
        let mut a = Analyzer::with_rules(config, rules::only("large-payload"));
        a.feed(&fx.connect(10, "dev-000001"));
        let big = "x".repeat(50);
        for tid in 0..(MAX_FINDINGS as u32 + 3) {
            a.feed(&fx.publish(10, tid, &format!("T{tid}"), None, &big));
        }
        assert_eq!(a.findings().len(), MAX_FINDINGS);
        assert_eq!(a.suppressed(), 3);
        let s = a.summary();
        assert_eq!(s.suppressed, 3);
        assert_eq!(s.by_rule["large-payload"].findings, MAX_FINDINGS as u64);
        // A kept one still counts when it happens again.
        a.feed(&fx.publish(10, 0, "T0", None, &big));
        assert_eq!(a.findings()[0].count, 2);
    }

    #[test]
    fn evidence_payloads_are_cut_and_json_cut_says_text() {
        let mut fx = Fx::new();
        let long = format!("{{\"a\":\"{}\"}}", "y".repeat(500));
        let e = trim(&fx.publish(5, 100, "T", None, &long));
        assert_eq!(
            e.payload.as_ref().map(|p| p.chars().count()),
            Some(EVIDENCE_PAYLOAD)
        );
        assert!(e.truncated);
        assert_eq!(e.encoding, Some(crate::trace::schema::Encoding::Text));
    }

    #[test]
    fn closed_etids_are_capped_oldest_first_and_reconnects_do_not_grow_the_order() {
        let mut fx = Fx::new();
        let mut a = Analyzer::with_rules(Config::default(), Vec::new());
        for etid in 0..(MAX_CLOSED as u32 + 10) {
            a.feed(&fx.connect(10 + etid, "dev-000001"));
            a.feed(&fx.close(10 + etid, "gone"));
        }
        assert_eq!(a.world().closed.len(), MAX_CLOSED);
        assert!(
            !a.world().closed.contains_key(&10),
            "the oldest is forgotten"
        );
        assert!(a.world().closed.contains_key(&(10 + MAX_CLOSED as u32 + 9)));
        for _ in 0..(3 * MAX_CLOSED) {
            a.feed(&fx.connect(7, "dev-000002"));
            a.feed(&fx.close(7, "gone"));
        }
        assert!(a.world().closed_order.len() <= 2 * MAX_CLOSED + 1);
        assert_eq!(a.world().closed.len(), MAX_CLOSED);
        assert!(a.world().closed.contains_key(&7));
    }

    #[test]
    fn sub_topic_names_are_learned_renamed_and_capped() {
        let mut fx = Fx::new();
        let mut a = Analyzer::with_rules(Config::default(), Vec::new());
        a.feed(&fx.connect(5, "dev-000001"));
        let e = fx.createsub(5, "DeviceReady");
        let subtid = e.subtid.expect("a sub-topic");
        a.feed(&e);
        assert_eq!(a.world().subtopics[&subtid], "DeviceReady");
        assert!(a.world().clients[&5].subtopics.contains(&subtid));
        let mut renamed = e.clone();
        renamed.subtopic = Some("DeviceHello".into());
        a.feed(&renamed);
        assert_eq!(a.world().subtopics[&subtid], "DeviceHello");
        let mut w = World::default();
        for id in 0..=(MAX_TOPICS as u32) {
            w.learn_subtopic(id, "S");
        }
        assert_eq!(
            w.subtopics.len(),
            MAX_TOPICS,
            "one past the cap is not kept"
        );
        w.learn_subtopic(0, "T");
        assert_eq!(
            w.subtopics[&0], "T",
            "a known one is still renamed at the cap"
        );
    }

    #[test]
    fn the_clock_never_goes_back() {
        let mut fx = Fx::new();
        let mut a = Analyzer::with_rules(Config::default(), Vec::new());
        fx.advance(10.0);
        a.feed(&fx.connect(5, "dev-000001"));
        let later = a.now;
        fx.advance(-5.0);
        a.feed(&fx.connect(6, "dev-000002"));
        assert_eq!(a.now, later);
    }
}
