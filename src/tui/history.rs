//! Per-sender history of a message stream, the logic behind the senders view
//! (`5`), the plot and the diff: a *stream* is one destination (topic, the
//! broker, a client) and sub-topic; a *sender* is the publisher's UID (else
//! its ETID). Plain data, no drawing.
//!
//! Memory is bounded: the ring keeps the messages themselves; the book keeps
//! one small summary per (stream, sender) — count, first and last time, the
//! latest ETID — at most [`SENDER_CAP`] summaries over all streams and
//! [`STREAM_CAP`] streams; messages beyond are counted, not summarised.
//!
//! May import: `trace::schema`.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::trace::schema::{Client, DestType, Event, Kind};

/// Most (stream, sender) summaries kept, over all streams.
pub const SENDER_CAP: usize = 4096;
/// Most streams summarised.
pub const STREAM_CAP: usize = 1000;

/// One message stream: a destination and a sub-topic (`""` when none).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    /// A topic's name, `server`, or a client's label (see [`dest_key`]).
    pub dest: String,
    pub sub: String,
}

impl StreamKey {
    /// The stream of a message event (publish, or a drop that is not one
    /// receiver's miss); `None` for other events.
    pub fn of(e: &Event) -> Option<StreamKey> {
        let (dest, sub) = keys(e)?;
        Some(StreamKey {
            dest: dest.into_owned(),
            sub: sub.into_owned(),
        })
    }

    /// Whether `e` is a message of this stream (allocates nothing for topics
    /// and named sub-topics).
    pub fn matches(&self, e: &Event) -> bool {
        keys(e).is_some_and(|(d, s)| d == self.dest && s == self.sub)
    }

    /// `DeviceState / Telemetry`, or the destination alone.
    pub fn label(&self) -> String {
        if self.sub.is_empty() {
            self.dest.clone()
        } else {
            format!("{} / {}", self.dest, self.sub)
        }
    }
}

/// Whether `e` is a message a sender sent (publish, or a drop nobody
/// received; not a receiver's miss, which repeats a message already counted).
pub fn is_message(e: &Event) -> bool {
    match e.kind {
        Kind::Publish => true,
        Kind::Drop => !e.is_miss(),
        _ => false,
    }
}

/// The destination part of a stream key: the topic name, `server`, a
/// client's `uid (etid N)`.
pub fn dest_key(e: &Event) -> Option<Cow<'_, str>> {
    let d = e.to.as_ref()?;
    Some(match (d.kind, &d.name) {
        (DestType::Topic, Some(name)) => Cow::Borrowed(name.as_str()),
        (DestType::Server, _) => Cow::Borrowed("server"),
        _ => Cow::Owned(d.label()),
    })
}

/// The sub-topic part: its name, `#ID` when only the ID is known, else `""`.
pub fn sub_key(e: &Event) -> Cow<'_, str> {
    match (&e.subtopic, e.subtid) {
        (Some(s), _) => Cow::Borrowed(s.as_str()),
        (None, Some(id)) if id != 0 => Cow::Owned(format!("#{id}")),
        _ => Cow::Borrowed(""),
    }
}

fn keys(e: &Event) -> Option<(Cow<'_, str>, Cow<'_, str>)> {
    if !is_message(e) {
        return None;
    }
    Some((dest_key(e)?, sub_key(e)))
}

/// The sender of a message: its UID, `server`, else `etid N`.
pub fn sender_key(c: &Client) -> Cow<'_, str> {
    match (&c.uid, c.server) {
        (Some(uid), _) => Cow::Borrowed(uid.as_str()),
        (None, true) => Cow::Borrowed("server"),
        (None, false) => Cow::Owned(format!("etid {}", c.etid)),
    }
}

/// The sender of `e` (`?` when the event has none).
pub fn sender_of(e: &Event) -> Cow<'_, str> {
    e.from.as_ref().map_or(Cow::Borrowed("?"), sender_key)
}

/// What is known of one sender in one stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Messages since the TUI started watching (not only those in the ring).
    pub count: u64,
    /// The ETID of its latest message, and how many ETIDs it used (it
    /// reconnected when more than one).
    pub etid: u32,
    pub etids: u32,
    pub first: Option<jiff::Timestamp>,
    pub last: Option<jiff::Timestamp>,
}

impl Summary {
    /// Mean time between its messages, when it sent two or more.
    pub fn interval(&self) -> Option<jiff::SignedDuration> {
        let (first, last) = (self.first?, self.last?);
        if self.count < 2 {
            return None;
        }
        let span = last.duration_since(first);
        Some(span / i32::try_from(self.count - 1).unwrap_or(i32::MAX))
    }

    /// Time since its last message at `now`.
    pub fn since(&self, now: jiff::Timestamp) -> Option<jiff::SignedDuration> {
        Some(now.duration_since(self.last?))
    }
}

/// The senders of one stream.
#[derive(Debug, Clone, Default)]
pub struct StreamSenders {
    pub senders: HashMap<String, Summary>,
    /// Messages of senders that found the book full (counted, not summarised).
    pub untracked: u64,
    pub messages: u64,
}

impl StreamSenders {
    /// The stream's usual interval: the median of its senders' intervals.
    pub fn typical_interval(&self) -> Option<jiff::SignedDuration> {
        let mut all: Vec<_> = self
            .senders
            .values()
            .filter_map(Summary::interval)
            .collect();
        if all.is_empty() {
            return None;
        }
        all.sort();
        Some(all[all.len() / 2])
    }

    /// Whether `s` went silent at `now`: nothing for three times its usual
    /// interval (its own, else the stream's) and at least two seconds.
    pub fn is_silent(
        &self,
        s: &Summary,
        typical: Option<jiff::SignedDuration>,
        now: jiff::Timestamp,
    ) -> bool {
        let (Some(since), Some(every)) = (s.since(now), s.interval().or(typical)) else {
            return false;
        };
        since > (every * 3).max(jiff::SignedDuration::from_secs(2))
    }
}

/// Summaries of every stream's senders, bounded.
#[derive(Debug, Clone, Default)]
pub struct SenderBook {
    streams: HashMap<String, HashMap<String, StreamSenders>>,
    stream_count: usize,
    summaries: usize,
    /// Messages of streams beyond [`STREAM_CAP`].
    pub untracked_streams: u64,
}

impl SenderBook {
    /// Counts message `e` (at `ts`) for its stream and sender.
    pub fn observe(&mut self, e: &Event, ts: Option<jiff::Timestamp>) {
        let Some((dest, sub)) = keys(e) else {
            return;
        };
        let known = self
            .streams
            .get(dest.as_ref())
            .is_some_and(|m| m.contains_key(sub.as_ref()));
        if !known {
            if self.stream_count >= STREAM_CAP {
                self.untracked_streams += 1;
                return;
            }
            self.stream_count += 1;
            self.streams
                .entry(dest.to_string())
                .or_default()
                .insert(sub.to_string(), StreamSenders::default());
        }
        let Some(stream) = self
            .streams
            .get_mut(dest.as_ref())
            .and_then(|m| m.get_mut(sub.as_ref()))
        else {
            return;
        };
        stream.messages += 1;
        let who = sender_of(e);
        if !stream.senders.contains_key(who.as_ref()) {
            if self.summaries >= SENDER_CAP {
                stream.untracked += 1;
                return;
            }
            self.summaries += 1;
            stream.senders.insert(who.to_string(), Summary::default());
        }
        let Some(s) = stream.senders.get_mut(who.as_ref()) else {
            return;
        };
        s.count += 1;
        let etid = e.from.as_ref().map_or(0, |c| c.etid);
        if s.etids == 0 || s.etid != etid {
            s.etids += 1;
            s.etid = etid;
        }
        if let Some(t) = ts {
            s.first = Some(s.first.map_or(t, |f| f.min(t)));
            s.last = Some(s.last.map_or(t, |l| l.max(t)));
        }
    }

    pub fn stream(&self, key: &StreamKey) -> Option<&StreamSenders> {
        self.streams.get(&key.dest)?.get(&key.sub)
    }

    /// Summaries kept, over all streams.
    pub fn summaries(&self) -> usize {
        self.summaries
    }
}

/// The message before `e` in its stream from the same sender, searching
/// `older` (the ring's events before `e`, newest first).
pub fn previous<'a>(e: &Event, older: impl Iterator<Item = &'a Event>) -> Option<&'a Event> {
    let key = StreamKey::of(e)?;
    let who = sender_of(e);
    older
        .filter(|o| key.matches(o))
        .find(|o| sender_of(o) == who)
}

/// `850ms`, `12.3s`, `4m05s`, `2h10m`, `3d4h`: a short duration for a column.
pub fn short_duration(d: jiff::SignedDuration) -> String {
    let ms = d.as_millis().max(0);
    let s = ms / 1000;
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{:.1}s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{}m{:02}s", s / 60, s % 60),
        3_600_000..86_400_000 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::schema::{Dest, DestType};

    fn msg(uid: &str, etid: u32, topic: &str, sub: Option<&str>, secs: u32) -> Event {
        let mut e = Event::new(Kind::Publish, format!("2026-11-22T03:44:{secs:02}Z"))
            .with_payload(b"{}", 64);
        e.from = Some(Client {
            etid,
            uid: Some(uid.into()),
            info: None,
            addr: None,
            server: false,
        });
        e.to = Some(Dest {
            tid: 9,
            kind: DestType::Topic,
            name: Some(topic.into()),
            uid: None,
        });
        e.subtopic = sub.map(str::to_string);
        e
    }

    fn feed(book: &mut SenderBook, e: &Event) {
        book.observe(e, e.timestamp());
    }

    #[test]
    fn senders_are_summarised_per_stream_with_count_times_and_etids() {
        let mut book = SenderBook::default();
        for (uid, etid, sub, s) in [
            ("a", 1, Some("S"), 0),
            ("a", 1, Some("S"), 2),
            ("b", 2, Some("S"), 1),
            ("a", 3, Some("S"), 4),
            ("a", 1, None, 5),
        ] {
            feed(&mut book, &msg(uid, etid, "T", sub, s));
        }
        let key = StreamKey {
            dest: "T".into(),
            sub: "S".into(),
        };
        let st = book.stream(&key).expect("stream");
        assert_eq!(st.messages, 4);
        let a = &st.senders["a"];
        assert_eq!((a.count, a.etid, a.etids), (4 - 1, 3, 2));
        assert_eq!(a.interval(), Some(jiff::SignedDuration::from_secs(2)));
        assert_eq!(st.senders["b"].count, 1);
        assert_eq!(st.senders["b"].interval(), None);
        let other = StreamKey {
            dest: "T".into(),
            sub: String::new(),
        };
        assert_eq!(book.stream(&other).expect("no sub").messages, 1);
        assert_eq!(book.summaries(), 3);
    }

    #[test]
    fn a_sender_that_stopped_is_silent_and_one_that_reports_is_not() {
        let mut book = SenderBook::default();
        for s in 0..10 {
            feed(&mut book, &msg("steady", 1, "T", None, s));
            if s < 4 {
                feed(&mut book, &msg("quiet", 2, "T", None, s));
            }
        }
        feed(&mut book, &msg("once", 3, "T", None, 9));
        let key = StreamKey::of(&msg("x", 1, "T", None, 0)).expect("a message");
        let st = book.stream(&key).expect("stream");
        let now: jiff::Timestamp = "2026-11-22T03:44:09.500Z".parse().expect("time");
        let typical = st.typical_interval();
        assert_eq!(typical, Some(jiff::SignedDuration::from_secs(1)));
        assert!(!st.is_silent(&st.senders["steady"], typical, now));
        assert!(
            st.is_silent(&st.senders["quiet"], typical, now),
            "6.5 s > 3 × 1 s"
        );
        assert!(
            !st.is_silent(&st.senders["once"], typical, now),
            "uses the stream's interval"
        );
    }

    #[test]
    fn the_book_stops_summarising_at_its_cap_and_counts_the_rest() {
        let mut book = SenderBook::default();
        for i in 0..SENDER_CAP + 10 {
            feed(&mut book, &msg(&format!("d{i}"), i as u32, "T", None, 0));
        }
        let key = StreamKey::of(&msg("x", 1, "T", None, 0)).expect("a message");
        let st = book.stream(&key).expect("stream");
        assert_eq!(st.senders.len(), SENDER_CAP);
        assert_eq!(st.untracked, 10);
        assert_eq!(st.messages, SENDER_CAP as u64 + 10);
        for i in 0..STREAM_CAP + 5 {
            feed(&mut book, &msg("d0", 0, &format!("t{i}"), None, 0));
        }
        assert!(book.untracked_streams >= 5);
    }

    #[test]
    fn previous_is_the_same_senders_last_message_of_the_stream() {
        let ring = [
            msg("a", 1, "T", Some("S"), 0),
            msg("b", 2, "T", Some("S"), 1),
            msg("a", 1, "T", None, 2),
            msg("a", 1, "U", Some("S"), 3),
            msg("a", 1, "T", Some("S"), 4),
        ];
        let (last, older) = ring.split_last().expect("events");
        let prev = previous(last, older.iter().rev()).expect("found");
        assert_eq!(prev.ts, ring[0].ts);
        assert!(previous(&ring[1], ring[..1].iter().rev()).is_none());
        // Receiver misses are not messages of their own.
        let mut miss = msg("a", 1, "T", Some("S"), 5);
        miss.kind = Kind::Drop;
        miss.reason = Some(crate::trace::schema::queue_full_reason(Some("slow"), 4));
        assert!(StreamKey::of(&miss).is_none());
    }

    #[test]
    fn short_durations_fit_a_column() {
        let d = |ms: i64| short_duration(jiff::SignedDuration::from_millis(ms));
        assert_eq!(d(850), "850ms");
        assert_eq!(d(12_340), "12.3s");
        assert_eq!(d(245_000), "4m05s");
        assert_eq!(d(7_800_000), "2h10m");
        assert_eq!(d(3 * 86_400_000 + 4 * 3_600_000), "3d4h");
        assert_eq!(d(-5), "0ms");
    }
}
