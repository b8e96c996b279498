//! The TUI's state as plain data: a ring buffer of recent events, the filtered
//! view over it, exact totals kept apart from the ring, bounded per-topic and
//! per-publisher statistics, the selection, and the UI mode.
//!
//! Nothing here draws or does I/O, so every behaviour (eviction, selection that
//! sticks to an event, follow mode, pause, rate history) is unit-tested with
//! fixed events. Memory is bounded: only the ring holds events; maps keyed by
//! names from the wire stop growing at [`KEY_CAP`] keys and count the rest
//! under "other". The analyzer ([`crate::analyze`]) sees every event too
//! (paused or not), so the findings view is exact like the totals; its own
//! tables are bounded by the engine.
//!
//! The senders view's summaries ([`super::history`]) and the plot's series
//! ([`super::fields`]) are fed here too, with their own caps.
//!
//! May import: `trace` (schema, filter, source), `analyze` (the engine), `text`,
//! `tui::{history, fields}`.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use super::act::{Report, Watch};
use super::editor::Editor;
use super::fields::{Picker, Plot};
use super::history::{SenderBook, StreamKey};
use super::spill::Spill;
use crate::analyze::{Analyzer, Config, Finding, trim};
use crate::trace::filter::Filter;
use crate::trace::schema::{Client, Event, Kind};
use crate::trace::source::Status;

/// Most distinct topics, publishers or clients tracked by name.
pub const KEY_CAP: usize = 1000;
/// Seconds of rate history kept for the sparklines.
pub const RATE_HISTORY: usize = 300;

/// The most recent events, oldest first. Every event gets a sequence number
/// that never changes, so a selection survives evictions and new arrivals.
#[derive(Debug, Clone)]
pub struct Ring {
    cap: usize,
    events: VecDeque<Event>,
    /// Sequence number of `events[0]`.
    first: u64,
}

impl Ring {
    pub fn new(cap: usize) -> Ring {
        Ring {
            cap: cap.max(1),
            events: VecDeque::with_capacity(cap.clamp(1, 1 << 16)),
            first: 0,
        }
    }

    /// Appends `e`, evicting the oldest when full; returns its sequence number.
    pub fn push(&mut self, e: Event) -> u64 {
        self.push_evicting(e).0
    }

    /// [`Ring::push`], also returning the event it evicted (for the spill).
    pub fn push_evicting(&mut self, e: Event) -> (u64, Option<Event>) {
        let mut out = None;
        if self.events.len() == self.cap {
            out = self.events.pop_front();
            self.first += 1;
        }
        self.events.push_back(e);
        (self.first + self.events.len() as u64 - 1, out)
    }

    pub fn get(&self, seq: u64) -> Option<&Event> {
        let i = seq.checked_sub(self.first)?;
        self.events.get(usize::try_from(i).ok()?)
    }

    /// Sequence number of the oldest event kept.
    pub fn first_seq(&self) -> u64 {
        self.first
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.cap
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &Event)> {
        (self.first..).zip(self.events.iter())
    }

    /// The events before `seq`, newest first.
    pub fn before(&self, seq: u64) -> impl Iterator<Item = &Event> {
        let end = usize::try_from(seq.saturating_sub(self.first))
            .unwrap_or(usize::MAX)
            .min(self.events.len());
        self.events.range(..end).rev()
    }

    /// Every event, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().rev()
    }
}

/// A map that stops adding keys at a cap; later keys share one "other" value.
#[derive(Debug, Clone, Default)]
pub struct Bounded<V> {
    pub map: HashMap<String, V>,
    pub other: V,
    /// Updates that went to `other` because the map was full.
    pub overflowed: u64,
    cap: usize,
}

impl<V: Default> Bounded<V> {
    pub fn new(cap: usize) -> Self {
        Bounded {
            map: HashMap::new(),
            other: V::default(),
            overflowed: 0,
            cap,
        }
    }

    /// The value for `key`, or the shared "other" value once the map is full.
    pub fn entry(&mut self, key: &str) -> &mut V {
        if !self.map.contains_key(key) {
            if self.map.len() >= self.cap {
                self.overflowed += 1;
                return &mut self.other;
            }
            self.map.insert(key.to_string(), V::default());
        }
        self.map.get_mut(key).unwrap_or(&mut self.other)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Counts for one topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicStats {
    pub tid: Option<u32>,
    pub publishes: u64,
    pub drops: u64,
    /// Current subscribers: from the attach snapshot, then kept up to date by
    /// subscribe/unsubscribe/close events. `None` when never heard of.
    pub subscribers: Option<u32>,
}

/// Counts for one publisher (by UID, else `etid N`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublisherStats {
    pub publishes: u64,
    pub drops: u64,
    pub bytes: u64,
}

/// A connected client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientEntry {
    pub uid: Option<String>,
    pub info: Option<String>,
    pub addr: Option<String>,
    /// Topics it subscribed to since we watch (to undo on close).
    pub subs: Vec<String>,
}

impl From<&Client> for ClientEntry {
    fn from(c: &Client) -> Self {
        ClientEntry {
            uid: c.uid.clone(),
            info: c.info.clone(),
            addr: c.addr.clone(),
            subs: Vec::new(),
        }
    }
}

/// One second of the rate history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateSample {
    /// Messages the broker saw: publish, drop and deny events.
    pub messages: u64,
    pub drops: u64,
}

/// Exact totals, whatever the ring kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub events: u64,
    pub by_kind: BTreeMap<Kind, u64>,
    /// Sum of payload sizes of publish/drop/deny events.
    pub bytes: u64,
    /// Events skipped by the source (from notices' `skipped`).
    pub skipped: u64,
    /// Receiver misses (`drop` events of one receiver's copy, its queue was
    /// full: `Event::is_miss`): counted here, not as messages or drops, so a
    /// message the other receivers had is not counted twice.
    pub misses: u64,
}

impl Totals {
    pub fn kind(&self, k: Kind) -> u64 {
        self.by_kind.get(&k).copied().unwrap_or(0)
    }

    /// Messages nobody received (drop events that are not receiver misses).
    pub fn drops(&self) -> u64 {
        self.kind(Kind::Drop).saturating_sub(self.misses)
    }

    /// Messages the broker saw: publish, drop and deny events, misses apart.
    pub fn messages(&self) -> u64 {
        self.kind(Kind::Publish) + self.drops() + self.kind(Kind::Deny)
    }
}

/// Which main view is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Events,
    Stats,
    Topics,
    Findings,
    /// The senders of one stream (`5`).
    Senders,
    /// Plots of JSON fields (`6`).
    Plot,
}

/// The analyzer behind the findings view (not `Debug` itself: its rules are
/// trait objects).
pub struct Analysis(pub Analyzer);

impl std::fmt::Debug for Analysis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analysis")
            .field("events", &self.0.events())
            .field("findings", &self.0.findings().len())
            .finish()
    }
}

/// The event table narrowed to one finding's evidence (Enter in the findings
/// view): the ring's events that are that evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// `rule: message`, for the filter bar.
    pub label: String,
    pub seqs: BTreeSet<u64>,
}

/// What a one-line prompt edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// The filter's free text (applied as typed).
    Text,
    /// Topic patterns to keep, comma-separated.
    Include,
    /// Topic patterns to hide, comma-separated.
    Exclude,
    /// Where to export the filtered events.
    Export,
}

/// A one-line input at the filter bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
    /// The filter before editing, restored by Esc.
    pub before: Filter,
}

/// Keyboard focus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    Prompt(Prompt),
    /// The reply / re-publish editor (`r`, `R`).
    Editor(Editor),
    /// The plot's field picker (`g`).
    Picker(Picker),
}

/// A transient message at the bottom (export result, errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
}

/// Everything the TUI shows.
#[derive(Debug)]
pub struct App {
    pub ring: Ring,
    /// Sequence numbers of the ring's events that pass `filter`, in order.
    pub view: VecDeque<u64>,
    pub filter: Filter,
    pub totals: Totals,
    pub topics: Bounded<TopicStats>,
    pub publishers: Bounded<PublisherStats>,
    pub clients: BTreeMap<u32, ClientEntry>,
    /// Connections beyond [`KEY_CAP`] clients (counted, not listed).
    pub clients_untracked: u64,
    pub rates: VecDeque<RateSample>,
    pub current: RateSample,
    /// The second `current` counts (seconds since the app started).
    pub second: u64,

    pub paused: bool,
    /// Events that arrived while paused: counted, not kept in the ring.
    pub held: u64,
    /// Follow the newest event (the selection is the last row).
    pub follow: bool,
    /// The selected event when not following.
    pub selected: Option<u64>,
    /// The event shown in the table's first row, when scrolled.
    pub top: Option<u64>,
    /// Table rows that fit on screen (set by the loop from the layout).
    pub viewport: usize,
    pub detail: bool,
    pub detail_scroll: u16,
    /// Selected row of the topics view (topics sorted by name).
    pub topics_scroll: usize,
    /// The findings engine, fed with every event.
    pub analysis: Analysis,
    /// Selected row of the findings view (findings in the order made).
    pub findings_scroll: usize,
    /// The event table shows only this finding's evidence.
    pub pin: Option<Pin>,
    pub tab: Tab,
    pub mode: Mode,
    /// Per-stream, per-sender summaries (the senders view).
    pub senders: SenderBook,
    /// The stream the senders view shows (set from the selected event by `5`).
    pub senders_key: Option<StreamKey>,
    /// Selected row of the senders view.
    pub senders_scroll: usize,
    /// The plot view's fields and series.
    pub plot: Plot,
    /// The detail pane shows the diff with the sender's previous message (`D`).
    pub diff: bool,
    /// The broker's time as best known: the newest event's, moved on by the
    /// live loop's ticks (times since a sender's last message count from it).
    pub now: Option<jiff::Timestamp>,

    /// Acting (`r`, `R`, `o`) has a broker to act on (not `--file`).
    pub can_act: bool,
    /// `--spill`: where evicted events go, and those paged back from it.
    pub spill: Option<Spill>,
    /// Senders observed with `o`, by ETID (bounded by [`KEY_CAP`]).
    pub observed: BTreeMap<u32, Watch>,
    pub status: Option<Status>,
    /// Where events come from, for the title (`file x.ndjson`, a URL).
    pub source: String,
    pub flash: Option<Flash>,
    pub color: bool,
    /// Zone for clock times (local; UTC in tests).
    pub zone: jiff::tz::TimeZone,
}

impl App {
    pub fn new(capacity: usize, source: impl Into<String>) -> App {
        App {
            ring: Ring::new(capacity),
            view: VecDeque::new(),
            filter: Filter::default(),
            totals: Totals::default(),
            topics: Bounded::new(KEY_CAP),
            publishers: Bounded::new(KEY_CAP),
            clients: BTreeMap::new(),
            clients_untracked: 0,
            rates: VecDeque::with_capacity(RATE_HISTORY),
            current: RateSample::default(),
            second: 0,
            paused: false,
            held: 0,
            follow: true,
            selected: None,
            top: None,
            viewport: 10,
            detail: false,
            detail_scroll: 0,
            topics_scroll: 0,
            analysis: Analysis(Analyzer::new(Config::default())),
            findings_scroll: 0,
            pin: None,
            tab: Tab::Events,
            mode: Mode::Normal,
            can_act: false,
            spill: None,
            observed: BTreeMap::new(),
            senders: SenderBook::default(),
            senders_key: None,
            senders_scroll: 0,
            plot: Plot::default(),
            diff: false,
            now: None,
            status: None,
            source: source.into(),
            flash: None,
            color: true,
            zone: crate::text::local_zone(),
        }
    }

    /// Records one event: totals and statistics always, the ring and the view
    /// unless paused.
    pub fn push(&mut self, e: Event) {
        self.count(&e);
        self.analysis.0.feed(&e);
        let ts = e.timestamp();
        if let Some(t) = ts {
            self.now = Some(self.now.map_or(t, |n| n.max(t)));
        }
        self.senders.observe(&e, ts);
        if self.paused {
            self.held += 1;
            return;
        }
        // The plot shows what the ring holds: frozen while paused too.
        self.plot.observe(&e, ts);
        let matches = self.filter.matches(&e) && self.pin.is_none();
        let (seq, evicted) = self.ring.push_evicting(e);
        if let (Some(out), Some(sp)) = (evicted, self.spill.as_mut())
            && let Some(why) = sp.append(&out)
        {
            self.flash = Some(Flash {
                text: why,
                error: true,
            });
        }
        let first = self.ring.first_seq();
        while self.view.front().is_some_and(|&s| s < first) {
            self.view.pop_front();
        }
        if matches {
            self.view.push_back(seq);
        }
    }

    /// Applies what the command says about an act (`r`, `R`, `o`).
    pub fn act_report(&mut self, r: Report) {
        let (text, error) = match r {
            Report::Done(t) => (t, false),
            Report::Failed(t) => (t, true),
            Report::Observing { etid } => match self.observed.get(&etid) {
                Some(w) => (
                    format!("observing {}: marked ◉ until it leaves", w.label),
                    false,
                ),
                None => return,
            },
            Report::Gone { etid } => match self.observed.get_mut(&etid) {
                Some(w) => {
                    w.gone = true;
                    (
                        format!("{} left (the broker says so): marked ✖", w.label),
                        true,
                    )
                }
                None => return,
            },
        };
        self.flash = Some(Flash { text, error });
    }

    /// Applies a status update from the source.
    pub fn set_status(&mut self, s: Status) {
        self.status = Some(s);
    }

    fn count(&mut self, e: &Event) {
        let t = &mut self.totals;
        t.events += 1;
        *t.by_kind.entry(e.kind).or_insert(0) += 1;
        let miss = e.is_miss();
        if miss {
            t.misses += 1;
        }
        let is_message = matches!(e.kind, Kind::Publish | Kind::Drop | Kind::Deny) && !miss;
        if is_message {
            t.bytes += e.size.unwrap_or(0) as u64;
            self.current.messages += 1;
        }
        if let Some(n) = e.skipped {
            t.skipped += n;
        }
        let topic =
            e.to.as_ref()
                .and_then(|d| d.name.as_deref())
                .map(str::to_string);
        match e.kind {
            Kind::Publish | Kind::Drop if !miss => {
                let drop = e.kind == Kind::Drop;
                if drop {
                    self.current.drops += 1;
                }
                if let Some(name) = &topic {
                    let s = self.topics.entry(name);
                    s.tid = e.to.as_ref().map(|d| d.tid);
                    if drop {
                        s.drops += 1;
                    } else {
                        s.publishes += 1;
                    }
                }
                let who = publisher_key(e);
                let p = self.publishers.entry(&who);
                if drop {
                    p.drops += 1;
                } else {
                    p.publishes += 1;
                }
                p.bytes += e.size.unwrap_or(0) as u64;
            }
            Kind::Subscribe | Kind::Unsubscribe => {
                if let Some(name) = &topic {
                    let sub = e.kind == Kind::Subscribe;
                    let s = self.topics.entry(name);
                    s.tid = e.to.as_ref().map(|d| d.tid);
                    let n = s.subscribers.unwrap_or(0);
                    s.subscribers = Some(if sub {
                        n.saturating_add(1)
                    } else {
                        n.saturating_sub(1)
                    });
                    if let Some(c) = e.from.as_ref().and_then(|c| self.clients.get_mut(&c.etid)) {
                        if sub {
                            if c.subs.len() < KEY_CAP {
                                c.subs.push(name.clone());
                            }
                        } else if let Some(i) = c.subs.iter().position(|t| t == name) {
                            c.subs.swap_remove(i);
                        }
                    }
                }
            }
            Kind::Create => {
                if let Some(name) = &topic {
                    self.topics.entry(name).tid = e.to.as_ref().map(|d| d.tid);
                }
            }
            Kind::Connect => {
                if let Some(c) = &e.from {
                    if self.clients.len() < KEY_CAP || self.clients.contains_key(&c.etid) {
                        self.clients.insert(c.etid, ClientEntry::from(c));
                    } else {
                        self.clients_untracked += 1;
                    }
                }
            }
            Kind::Close => {
                if let Some(c) = &e.from {
                    match self.clients.remove(&c.etid) {
                        Some(gone) => {
                            for t in gone.subs {
                                let s = self.topics.entry(&t);
                                s.subscribers = s.subscribers.map(|n| n.saturating_sub(1));
                            }
                        }
                        None => self.clients_untracked = self.clients_untracked.saturating_sub(1),
                    }
                }
            }
            Kind::Snapshot => {
                if let Some(snap) = &e.snapshot {
                    // A snapshot is the broker's truth at (re)attach time.
                    self.clients.clear();
                    self.clients_untracked = 0;
                    for c in &snap.clients {
                        if self.clients.len() < KEY_CAP {
                            self.clients.insert(c.etid, ClientEntry::from(c));
                        } else {
                            self.clients_untracked += 1;
                        }
                    }
                    for s in self.topics.map.values_mut() {
                        s.subscribers = None;
                    }
                    for t in &snap.topics {
                        let s = self.topics.entry(&t.name);
                        s.tid = Some(t.tid);
                        s.subscribers = t.subscribers.or(Some(0));
                    }
                }
            }
            _ => {}
        }
    }

    /// Moves the rate history to `second` (seconds since start), closing the
    /// seconds in between.
    pub fn roll_to(&mut self, second: u64) {
        let gap = second.saturating_sub(self.second);
        for i in 0..gap.min(RATE_HISTORY as u64) {
            let sample = if i == 0 {
                std::mem::take(&mut self.current)
            } else {
                RateSample::default()
            };
            if self.rates.len() == RATE_HISTORY {
                self.rates.pop_front();
            }
            self.rates.push_back(sample);
        }
        if gap > 0 {
            self.current = RateSample::default();
            self.second = second;
        }
    }

    /// Messages per second over the last complete second.
    pub fn last_rate(&self) -> RateSample {
        self.rates.back().copied().unwrap_or_default()
    }

    /// Replaces the filter and rebuilds the view; the selection stays on the
    /// same event (or the next one that passes).
    pub fn set_filter(&mut self, f: Filter) {
        self.filter = f;
        self.rebuild_view();
    }

    fn rebuild_view(&mut self) {
        let pin = self.pin.as_ref().map(|p| &p.seqs);
        self.view = self
            .ring
            .iter()
            .filter(|(s, e)| pin.is_none_or(|p| p.contains(s)) && self.filter.matches(e))
            .map(|(s, _)| s)
            .collect();
        self.top = None;
        if let Some(sp) = self.spill.as_mut() {
            sp.clear_back();
        }
    }

    /// Every finding so far, in the order first made.
    pub fn findings(&self) -> &[Finding] {
        self.analysis.0.findings()
    }

    /// The selected finding of the findings view.
    pub fn selected_finding(&self) -> Option<&Finding> {
        let f = self.findings();
        f.get(self.findings_scroll.min(f.len().checked_sub(1)?))
    }

    /// Narrows the event table to the evidence of finding `i` (the events
    /// still in the ring) and shows it; `false` when none is left.
    pub fn pin_finding(&mut self, i: usize) -> bool {
        let Some(f) = self.findings().get(i) else {
            return false;
        };
        let seqs: BTreeSet<u64> = self
            .ring
            .iter()
            .filter(|(_, e)| {
                f.evidence.iter().any(|ev| {
                    ev.ts == e.ts && ev.kind == e.kind && ev.subtid == e.subtid && *ev == trim(e)
                })
            })
            .map(|(s, _)| s)
            .collect();
        if seqs.is_empty() {
            return false;
        }
        self.pin = Some(Pin {
            label: format!("{}: {}", f.rule, f.message),
            seqs,
        });
        self.rebuild_view();
        self.tab = Tab::Events;
        self.select_first();
        true
    }

    /// Shows every event again (the filter stays).
    pub fn unpin(&mut self) {
        if self.pin.take().is_some() {
            self.rebuild_view();
        }
    }

    /// Live mode: time passed at the broker without an event (timeouts fire).
    pub fn tick_analysis(&mut self, now: jiff::Timestamp) {
        self.analysis.0.tick(now);
        self.now = Some(self.now.map_or(now, |n| n.max(now)));
    }

    /// The source ended: what the rules still hold pending becomes findings.
    pub fn finish_analysis(&mut self) {
        self.analysis.0.finish();
    }

    /// Pauses or resumes; resuming follows the newest event again.
    pub fn toggle_pause(&mut self) {
        self.paused = !self.paused;
        if !self.paused {
            self.held = 0;
        }
    }

    /// Events paged back from the spill, shown above the ring's.
    pub fn back_len(&self) -> usize {
        self.spill.as_ref().map_or(0, |s| s.back.len())
    }

    /// Rows of the events table: the paged-back events, then `view`.
    pub fn rows(&self) -> usize {
        self.back_len() + self.view.len()
    }

    /// Row `i` of the events table with its sequence number.
    pub fn row(&self, i: usize) -> Option<(u64, &Event)> {
        let b = self.back_len();
        if i < b {
            let (s, e) = self.spill.as_ref()?.back.get(i)?;
            return Some((*s, e));
        }
        let s = *self.view.get(i - b)?;
        Some((s, self.ring.get(s)?))
    }

    /// Index of the first row whose sequence number is `seq` or later.
    fn row_of(&self, seq: u64) -> usize {
        if let Some(sp) = &self.spill
            && sp.back.back().is_some_and(|(s, _)| *s >= seq)
        {
            return sp.back.partition_point(|(s, _)| *s < seq);
        }
        self.back_len() + self.view.partition_point(|&s| s < seq)
    }

    /// Index (in [`App::row`]) of the selected row.
    pub fn selected_index(&self) -> Option<usize> {
        let n = self.rows();
        if n == 0 {
            return None;
        }
        match (self.follow, self.selected) {
            (false, Some(sel)) => Some(self.row_of(sel).min(n - 1)),
            _ => Some(n - 1),
        }
    }

    /// The selected event.
    pub fn selected_event(&self) -> Option<&Event> {
        Some(self.row(self.selected_index()?)?.1)
    }

    /// How many matching events one paging step looks for.
    fn page_size(&self) -> usize {
        (self.viewport * 2).max(64)
    }

    /// Pages older spilled events in above the first row; returns how many.
    fn page_older(&mut self) -> usize {
        let want = self.page_size();
        let Some(sp) = self.spill.as_mut().filter(|s| s.older_left()) else {
            return 0;
        };
        if self.pin.is_some() {
            return 0;
        }
        let f = &self.filter;
        let name = sp.store.name();
        match sp.page_older(|e| f.matches(e), want) {
            Ok(p) => {
                if p.added == 0 {
                    self.flash = Some(Flash {
                        text: format!(
                            "no match in {} more events of {name}{}",
                            p.scanned,
                            if sp.older_left() {
                                " (↑ searches on)"
                            } else {
                                ""
                            }
                        ),
                        error: false,
                    });
                }
                p.added
            }
            Err(why) => {
                self.flash = Some(Flash {
                    text: why,
                    error: true,
                });
                0
            }
        }
    }

    /// Pages spilled events newer than the window in below it; returns
    /// (added, dropped from the window's top).
    fn page_newer(&mut self) -> (usize, usize) {
        let want = self.page_size();
        let Some(sp) = self.spill.as_mut().filter(|s| s.gap()) else {
            return (0, 0);
        };
        let f = &self.filter;
        match sp.page_newer(|e| f.matches(e), want) {
            Ok(p) => (p.added, p.trimmed),
            Err(why) => {
                self.flash = Some(Flash {
                    text: why,
                    error: true,
                });
                (0, 0)
            }
        }
    }

    /// The selected event's sequence number (of the ring or, paged back
    /// from `--spill`, of the file).
    pub fn selected_seq(&self) -> Option<u64> {
        Some(self.row(self.selected_index()?)?.0)
    }

    /// The previous message of the selected event's stream from its sender
    /// (what the diff compares with), when still in the ring.
    pub fn previous_of_selected(&self) -> Option<&Event> {
        let seq = self.selected_seq()?;
        let e = self.ring.get(seq)?;
        super::history::previous(e, self.ring.before(seq))
    }

    /// Opens the field picker on the selected event; `Err` says why not.
    pub fn open_picker(&mut self) -> Result<(), String> {
        let e = self.selected_event().ok_or("no event selected")?;
        self.mode = Mode::Picker(Picker::for_event(e)?);
        Ok(())
    }

    /// Plots the picker's chosen field (back-filled from the ring) and shows
    /// the plot view; `Err` says why not.
    pub fn plot_chosen(&mut self, p: &Picker) -> Result<String, String> {
        let leaf = p.chosen().ok_or("no field matches")?;
        let label = format!("{} of {}", leaf.label, p.key.label());
        self.plot
            .add(p.key.clone(), leaf.path.clone(), self.ring.events.iter())?;
        self.tab = Tab::Plot;
        Ok(label)
    }

    /// Shows the senders of the selected event's stream; `Err` says why not.
    pub fn show_senders(&mut self) -> Result<(), String> {
        if let Some(key) = self.selected_event().and_then(StreamKey::of) {
            if self.senders_key.as_ref() != Some(&key) {
                self.senders_scroll = 0;
            }
            self.senders_key = Some(key);
        }
        self.tab = Tab::Senders;
        if self.senders_key.is_none() {
            return Err("select a message in the events view first: 5 shows its senders".into());
        }
        Ok(())
    }

    /// The rows to show for `height` table rows: (first index, end index).
    /// Follow shows the tail; otherwise the remembered top, moved just enough
    /// to keep the selection visible.
    pub fn window(&self, height: usize) -> (usize, usize) {
        let len = self.rows();
        let height = height.max(1);
        let Some(sel) = self.selected_index() else {
            return (0, 0);
        };
        let mut start = if self.follow {
            len.saturating_sub(height)
        } else {
            match self.top {
                Some(top) => self.row_of(top),
                None => sel.saturating_sub(height / 2),
            }
        };
        if sel < start {
            start = sel;
        }
        if sel >= start + height {
            start = sel + 1 - height;
        }
        start = start.min(len.saturating_sub(height));
        (start, (start + height).min(len))
    }

    /// Moves the selection by `delta` rows; reaching the last row follows.
    /// Moving up past the first row pages older spilled events in
    /// (`--spill`); moving down out of them pages in the newer ones.
    pub fn move_selection(&mut self, delta: isize) {
        let Some(mut cur) = self.selected_index() else {
            if delta < 0 && self.page_older() > 0 {
                self.select_index(self.back_len() - 1, false);
            }
            return;
        };
        let b = self.back_len();
        if delta < 0 && (cur as isize) + delta < 0 {
            cur += self.page_older();
        } else if delta > 0 && cur < b && cur as isize + delta >= b as isize {
            let (_, trimmed) = self.page_newer();
            cur = cur.saturating_sub(trimmed);
        }
        let last = self.rows() - 1;
        let target = cur.saturating_add_signed(delta).min(last);
        self.select_index(target, delta > 0 && target == last);
    }

    /// Selects the first row: with `--spill`, the first spilled event that
    /// passes the filter.
    pub fn select_first(&mut self) {
        let want = self.page_size();
        if self.pin.is_none()
            && let Some(sp) = self.spill.as_mut().filter(|s| !s.store.is_empty())
        {
            let f = &self.filter;
            if let Err(why) = sp.page_oldest(|e| f.matches(e), want) {
                self.flash = Some(Flash {
                    text: why,
                    error: true,
                });
            }
            self.top = None;
        }
        if self.rows() > 0 {
            self.select_index(0, false);
        }
    }

    /// Follows the newest event (and lets the paged-back ones go).
    pub fn select_last(&mut self) {
        self.follow = true;
        self.selected = None;
        self.top = None;
        if let Some(sp) = self.spill.as_mut() {
            sp.clear_back();
        }
    }

    fn select_index(&mut self, i: usize, follow: bool) {
        let (start, _) = self.window(self.viewport);
        self.follow = follow;
        self.selected = if follow {
            None
        } else {
            self.row(i).map(|(s, _)| s)
        };
        self.detail_scroll = 0;
        if follow {
            self.top = None;
            return;
        }
        // Keep the current top, then let window() move it to show the row.
        self.top = self.row(start).map(|(s, _)| s);
        let (start, _) = self.window(self.viewport);
        self.top = self.row(start).map(|(s, _)| s);
    }

    /// Events of the current view, oldest first (what export writes).
    pub fn filtered(&self) -> impl Iterator<Item = &Event> {
        self.view.iter().filter_map(|&s| self.ring.get(s))
    }

    /// Topics by name with their counts, for the topics and stats views.
    pub fn topic_rows(&self) -> Vec<(&str, &TopicStats)> {
        let mut rows: Vec<(&str, &TopicStats)> = self
            .topics
            .map
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(b.0));
        rows
    }
}

/// The publisher's display key: its UID, `server`, else `etid N`, else `?`.
pub fn publisher_key(e: &Event) -> String {
    match &e.from {
        Some(c) => c.label(),
        None => "?".to_string(),
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::trace::schema::{Client, Dest, DestType, Snapshot, TopicInfo};

    pub fn client(etid: u32, uid: &str) -> Client {
        Client {
            etid,
            uid: Some(uid.into()),
            info: None,
            addr: None,
            server: false,
        }
    }

    pub fn topic(tid: u32, name: &str) -> Dest {
        Dest {
            tid,
            kind: DestType::Topic,
            name: Some(name.into()),
            uid: None,
        }
    }

    /// A publish (or drop) of `payload` from `uid` to `topic`.
    pub fn message(kind: Kind, uid: &str, name: &str, payload: &[u8]) -> Event {
        let mut e = Event::new(kind, "2026-11-22T03:44:17.123Z".into()).with_payload(payload, 256);
        e.from = Some(client(7, uid));
        e.to = Some(topic(9, name));
        e
    }

    fn numbered(n: usize) -> Event {
        message(Kind::Publish, "p", &format!("t{n}"), b"x")
    }

    fn app_with(cap: usize, n: usize) -> App {
        let mut app = App::new(cap, "test");
        for i in 0..n {
            app.push(numbered(i));
        }
        app
    }

    #[test]
    fn the_ring_keeps_the_newest_events_and_totals_stay_exact() {
        let app = app_with(5, 12);
        assert_eq!(app.ring.len(), 5);
        assert_eq!(app.ring.first_seq(), 7);
        assert_eq!(
            app.view.iter().copied().collect::<Vec<_>>(),
            vec![7, 8, 9, 10, 11]
        );
        assert!(app.ring.get(6).is_none());
        let newest = app
            .ring
            .get(11)
            .and_then(|e| e.to.as_ref())
            .and_then(|d| d.name.clone());
        assert_eq!(newest.as_deref(), Some("t11"));
        assert_eq!(app.totals.events, 12);
        assert_eq!(app.totals.kind(Kind::Publish), 12);
        assert_eq!(app.publishers.map["p"].publishes, 12);
    }

    /// A message two receivers had and a third missed (its queue was full) is
    /// one message, not a message and a drop.
    #[test]
    fn a_receiver_miss_is_not_counted_as_one_more_message_or_drop() {
        let mut app = App::new(10, "test");
        app.push(message(Kind::Publish, "a", "X", b"1"));
        let mut miss = message(Kind::Drop, "a", "X", b"1");
        miss.reason = Some(crate::trace::schema::queue_full_reason(Some("slow"), 12));
        app.push(miss);
        app.push(message(Kind::Drop, "a", "Y", b"2"));
        app.roll_to(1);
        let t = &app.totals;
        assert_eq!((t.messages(), t.drops(), t.misses), (2, 1, 1));
        assert_eq!(t.events, 3, "the miss is still an event");
        assert_eq!(t.kind(Kind::Drop), 2);
        assert_eq!(
            (app.topics.map["X"].publishes, app.topics.map["X"].drops),
            (1, 0)
        );
        assert_eq!(app.publishers.map["a"].drops, 1);
        assert_eq!(
            app.rates
                .iter()
                .map(|s| (s.messages, s.drops))
                .collect::<Vec<_>>(),
            vec![(2, 1)]
        );
    }

    #[test]
    fn topic_and_publisher_maps_stop_growing_at_the_cap() {
        let mut app = App::new(10, "test");
        for i in 0..(KEY_CAP + 50) {
            app.push(message(
                Kind::Drop,
                &format!("u{i}"),
                &format!("t{i}"),
                b"x",
            ));
        }
        assert_eq!(app.topics.len(), KEY_CAP);
        assert_eq!(app.topics.other.drops, 50);
        assert_eq!(app.publishers.len(), KEY_CAP);
        assert_eq!(app.publishers.other.drops, 50);
        assert_eq!(app.totals.kind(Kind::Drop), KEY_CAP as u64 + 50);
    }

    #[test]
    fn the_filter_view_follows_evictions_and_filter_changes() {
        let mut app = App::new(4, "test");
        app.push(message(Kind::Publish, "a", "A", b"1"));
        app.push(message(Kind::Drop, "a", "B", b"2"));
        let mut f = Filter::default();
        f.toggle_kind(Kind::Drop);
        app.set_filter(f);
        assert_eq!(app.view.iter().copied().collect::<Vec<_>>(), vec![1]);
        app.push(message(Kind::Publish, "a", "A", b"3"));
        app.push(message(Kind::Drop, "a", "C", b"4"));
        assert_eq!(app.view.iter().copied().collect::<Vec<_>>(), vec![1, 3]);
        // Three more evict seqs 0..=2: the drop at 1 leaves the view too.
        for _ in 0..3 {
            app.push(message(Kind::Publish, "a", "A", b"5"));
        }
        assert_eq!(app.view.iter().copied().collect::<Vec<_>>(), vec![3]);
        let names: Vec<_> = app
            .filtered()
            .filter_map(|e| e.to.as_ref()?.name.clone())
            .collect();
        assert_eq!(names, vec!["C"]);
        app.set_filter(Filter::default());
        assert_eq!(app.view.len(), 4);
    }

    #[test]
    fn the_selection_stays_on_its_event_while_new_ones_arrive() {
        let mut app = app_with(100, 10);
        app.viewport = 4;
        assert!(app.follow);
        assert_eq!(app.selected_index(), Some(9));
        app.move_selection(-3);
        assert!(!app.follow);
        assert_eq!(app.selected, Some(6));
        for i in 10..20 {
            app.push(numbered(i));
        }
        assert_eq!(
            app.selected_event()
                .and_then(|e| e.to.as_ref()?.name.clone())
                .as_deref(),
            Some("t6")
        );
        // The window does not move either.
        let (start, end) = app.window(4);
        assert!((start..end).contains(&6), "{start}..{end}");
        assert_eq!(start, app.window(4).0);
    }

    #[test]
    fn reaching_the_end_follows_again_and_home_leaves_follow() {
        let mut app = app_with(100, 10);
        app.viewport = 4;
        app.select_first();
        assert_eq!(app.selected_index(), Some(0));
        assert_eq!(app.window(4), (0, 4));
        app.move_selection(5);
        assert_eq!(app.selected_index(), Some(5));
        let (start, end) = app.window(4);
        assert!(start <= 5 && 5 < end);
        app.move_selection(100);
        assert!(app.follow);
        app.push(numbered(10));
        assert_eq!(app.selected_index(), Some(10));
        assert_eq!(app.window(4), (7, 11));
        app.move_selection(-1);
        assert_eq!(app.selected, Some(9));
        app.select_last();
        assert_eq!(app.selected_index(), Some(10));
    }

    #[test]
    fn an_evicted_selection_moves_to_the_oldest_kept_event() {
        let mut app = app_with(5, 5);
        app.select_first();
        assert_eq!(app.selected, Some(0));
        app.push(numbered(5));
        app.push(numbered(6));
        assert_eq!(app.selected_index(), Some(0));
        assert_eq!(app.view[0], 2);
        assert!(!app.follow);
    }

    #[test]
    fn paused_events_are_counted_but_the_view_is_frozen() {
        let mut app = app_with(100, 3);
        app.toggle_pause();
        app.push(message(Kind::Drop, "a", "X", b"1"));
        app.push(message(Kind::Drop, "a", "X", b"1"));
        assert_eq!(app.view.len(), 3);
        assert_eq!(app.held, 2);
        assert_eq!(app.totals.events, 5);
        assert_eq!(app.topics.map["X"].drops, 2);
        app.toggle_pause();
        assert_eq!(app.held, 0);
        app.push(numbered(9));
        assert_eq!(app.view.len(), 4);
    }

    #[test]
    fn rate_history_closes_each_second_and_fills_gaps_with_zeros() {
        let mut app = App::new(10, "test");
        app.push(numbered(0));
        app.push(message(Kind::Drop, "a", "X", b"1"));
        app.push(message(Kind::Connect, "a", "X", b""));
        app.roll_to(1);
        app.push(numbered(1));
        app.roll_to(4);
        let r: Vec<_> = app.rates.iter().map(|s| (s.messages, s.drops)).collect();
        assert_eq!(r, vec![(2, 1), (1, 0), (0, 0), (0, 0)]);
        assert_eq!(app.last_rate(), RateSample::default());
        app.roll_to(4);
        assert_eq!(app.rates.len(), 4, "same second: nothing closes");
        app.roll_to(10_000);
        assert_eq!(app.rates.len(), RATE_HISTORY);
    }

    #[test]
    fn subscribers_and_clients_come_from_snapshot_and_events() {
        let mut app = App::new(10, "test");
        let mut snap = Event::new(Kind::Snapshot, "2026-11-22T03:44:17Z".into());
        snap.snapshot = Some(Snapshot {
            server_etid: Some(1),
            topics: vec![TopicInfo {
                tid: 9,
                name: "A".into(),
                subscribers: Some(2),
            }],
            subtopics: vec![],
            clients: vec![client(5, "old")],
            subscriptions: vec![],
        });
        app.push(snap);
        assert_eq!(app.topics.map["A"].subscribers, Some(2));
        let mut conn = Event::new(Kind::Connect, "t".into());
        conn.from = Some(client(6, "new"));
        app.push(conn);
        let mut sub = Event::new(Kind::Subscribe, "t".into());
        sub.from = Some(client(6, "new"));
        sub.to = Some(topic(9, "A"));
        app.push(sub.clone());
        sub.to = Some(topic(10, "B"));
        app.push(sub);
        assert_eq!(app.topics.map["A"].subscribers, Some(3));
        assert_eq!(app.topics.map["B"].subscribers, Some(1));
        assert_eq!(app.clients.len(), 2);
        let mut close = Event::new(Kind::Close, "t".into());
        close.from = Some(client(6, "new"));
        app.push(close);
        assert_eq!(app.clients.len(), 1);
        assert_eq!(app.topics.map["A"].subscribers, Some(2));
        assert_eq!(app.topics.map["B"].subscribers, Some(0));
    }
}
