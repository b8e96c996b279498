//! Plots of JSON fields, the logic behind the plot view (`6`) and its field
//! picker (`g`): the leaf paths of a payload (`meters.coin_in`, `a[2].kW`),
//! the value at a path, and the plot's series — one per (field, sender),
//! fed with every later message of the field's stream and back-filled from
//! the ring. Plain data, no drawing.
//!
//! Memory is bounded: at most [`MAX_FIELDS`] fields, [`SERIES_CAP`] senders
//! per field (the others' points are counted), [`POINTS`] points per series
//! (the oldest go first). Values that are not numbers are skipped and
//! counted, as are messages without the field.
//!
//! May import: `tui::history`, `trace::schema`, serde_json.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use super::history::{StreamKey, sender_of};
use crate::trace::schema::{Encoding, Event};

/// Most fields plotted at once.
pub const MAX_FIELDS: usize = 8;
/// Most senders with a series, per field.
pub const SERIES_CAP: usize = 256;
/// Most points kept per series.
pub const POINTS: usize = 600;
/// Series shown by default (the busiest); the rest are hidden and counted.
pub const TOP_N: usize = 8;
/// Most series shown at once (`+` stops there).
pub const MAX_SHOWN: usize = 16;
/// Most leaves a picker lists, and how deep it looks.
const MAX_LEAVES: usize = 1000;
const MAX_DEPTH: usize = 16;
/// Array elements a picker lists per array.
const MAX_INDEX: usize = 32;

/// One step of a path: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path into a JSON value.
pub type Path = Vec<Seg>;

/// `meters.coin_in`, `sessions[1].kWh` (not escaped: callers escape for the
/// terminal).
pub fn path_label(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The value at `path`.
pub fn lookup<'a>(v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.as_object()?.get(k),
        Seg::Index(i) => v.as_array()?.get(*i),
    })
}

/// A JSON number as `f64` (finite); anything else is not plotted.
pub fn number(v: &Value) -> Option<f64> {
    v.as_f64().filter(|f| f.is_finite())
}

/// One leaf of a payload, for the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    pub path: Path,
    pub label: String,
    /// The value in compact JSON.
    pub value: String,
    pub numeric: bool,
}

/// Every leaf of `v` (numbers, strings, booleans, null, empty containers),
/// in the payload's order, at most [`MAX_LEAVES`].
pub fn leaves(v: &Value) -> Vec<Leaf> {
    fn walk(v: &Value, path: &mut Path, out: &mut Vec<Leaf>) {
        if out.len() >= MAX_LEAVES {
            return;
        }
        let children: Vec<(Seg, &Value)> = match v {
            Value::Object(m) if !m.is_empty() && path.len() < MAX_DEPTH => {
                m.iter().map(|(k, v)| (Seg::Key(k.clone()), v)).collect()
            }
            Value::Array(a) if !a.is_empty() && path.len() < MAX_DEPTH => a
                .iter()
                .take(MAX_INDEX)
                .enumerate()
                .map(|(i, v)| (Seg::Index(i), v))
                .collect(),
            _ => {
                if !path.is_empty() {
                    out.push(Leaf {
                        path: path.clone(),
                        label: path_label(path),
                        value: v.to_string(),
                        numeric: number(v).is_some(),
                    });
                }
                return;
            }
        };
        for (seg, child) in children {
            path.push(seg);
            walk(child, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// The payload of `e` as JSON, when it is a complete JSON payload.
pub fn json_payload(e: &Event) -> Option<Value> {
    if e.encoding != Some(Encoding::Json) || e.truncated {
        return None;
    }
    serde_json::from_str(e.payload.as_deref()?).ok()
}

/// The field picker opened by `g` on a JSON message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    pub key: StreamKey,
    pub leaves: Vec<Leaf>,
    /// Typed text narrowing the list (case-insensitive substring).
    pub query: String,
    /// Index into [`Picker::visible`].
    pub selected: usize,
}

impl Picker {
    /// A picker for message `e`'s fields, or why there is none.
    pub fn for_event(e: &Event) -> Result<Picker, String> {
        let Some(key) = StreamKey::of(e) else {
            return Err("select a message (publish) to plot one of its fields".into());
        };
        let Some(v) = json_payload(e) else {
            return Err(match (e.encoding, e.truncated) {
                (Some(Encoding::Json), true) => {
                    "the payload preview is truncated: raise --preview to plot its fields".into()
                }
                _ => "the selected message's payload is not JSON: nothing to plot".into(),
            });
        };
        let leaves = leaves(&v);
        if leaves.is_empty() {
            return Err("the payload has no fields to plot".into());
        }
        // Start on the first number: that is what can be plotted.
        let selected = leaves.iter().position(|l| l.numeric).unwrap_or(0);
        Ok(Picker {
            key,
            leaves,
            query: String::new(),
            selected,
        })
    }

    /// Indexes of the leaves that match the query.
    pub fn visible(&self) -> Vec<usize> {
        let q = self.query.to_lowercase();
        (0..self.leaves.len())
            .filter(|&i| q.is_empty() || self.leaves[i].label.to_lowercase().contains(&q))
            .collect()
    }

    /// The highlighted leaf.
    pub fn chosen(&self) -> Option<&Leaf> {
        let v = self.visible();
        let i = *v.get(self.selected.min(v.len().checked_sub(1)?))?;
        self.leaves.get(i)
    }

    /// Moves the highlight by `delta` rows (clamped).
    pub fn move_by(&mut self, delta: isize) {
        let n = self.visible().len();
        self.selected = self
            .selected
            .min(n.saturating_sub(1))
            .saturating_add_signed(delta)
            .min(n.saturating_sub(1));
    }

    pub fn type_char(&mut self, c: char) {
        if self.query.len() < 256 {
            self.query.push(c);
        }
        self.selected = 0;
    }

    pub fn backspace(&mut self) {
        self.query.pop();
        self.selected = 0;
    }
}

/// One sender's points of one field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub sender: String,
    /// (seconds since the plot's epoch, value), oldest first.
    pub points: VecDeque<(f64, f64)>,
    /// Numeric values seen (its activity, for the top N).
    pub count: u64,
}

/// A plotted field of one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub key: StreamKey,
    pub path: Path,
    pub label: String,
    pub series: Vec<Series>,
    index: HashMap<String, usize>,
    /// Messages of the stream whose value at the path is not a number.
    pub non_numeric: u64,
    /// Messages of the stream without the field (or not JSON at all).
    pub absent: u64,
    /// Numeric values of senders beyond [`SERIES_CAP`].
    pub untracked: u64,
}

impl Field {
    fn new(key: StreamKey, path: Path) -> Field {
        Field {
            label: path_label(&path),
            key,
            path,
            series: Vec::new(),
            index: HashMap::new(),
            non_numeric: 0,
            absent: 0,
            untracked: 0,
        }
    }

    /// Values skipped: not numbers, or not there.
    pub fn skipped(&self) -> u64 {
        self.non_numeric + self.absent
    }

    fn add_point(&mut self, sender: &str, x: f64, y: f64) {
        let i = match self.index.get(sender) {
            Some(&i) => i,
            None if self.series.len() >= SERIES_CAP => {
                self.untracked += 1;
                return;
            }
            None => {
                self.series.push(Series {
                    sender: sender.to_string(),
                    ..Series::default()
                });
                self.index.insert(sender.to_string(), self.series.len() - 1);
                self.series.len() - 1
            }
        };
        let s = &mut self.series[i];
        if s.points.len() == POINTS {
            s.points.pop_front();
        }
        s.points.push_back((x, y));
        s.count += 1;
    }
}

/// The plot: its fields and how many series to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    pub fields: Vec<Field>,
    pub top_n: usize,
    /// Time zero of the x axis (the oldest point's time when the first field
    /// was added).
    pub epoch: Option<jiff::Timestamp>,
}

impl Default for Plot {
    fn default() -> Self {
        Plot {
            fields: Vec::new(),
            top_n: TOP_N,
            epoch: None,
        }
    }
}

/// A series to draw: its field and series index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub field: usize,
    pub series: usize,
}

impl Plot {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Adds `path` of stream `key`, back-filled from `ring` (oldest first);
    /// `Err` says why not (already plotted, too many fields).
    pub fn add<'a>(
        &mut self,
        key: StreamKey,
        path: Path,
        ring: impl Iterator<Item = &'a Event> + Clone,
    ) -> Result<(), String> {
        if self.fields.iter().any(|f| f.key == key && f.path == path) {
            return Err(format!(
                "{} of {} is already plotted",
                path_label(&path),
                key.label()
            ));
        }
        if self.fields.len() >= MAX_FIELDS {
            return Err(format!(
                "at most {MAX_FIELDS} fields in one plot (G removes the last one)"
            ));
        }
        if self.epoch.is_none() {
            self.epoch = ring
                .clone()
                .filter(|e| key.matches(e))
                .find_map(Event::timestamp);
        }
        let mut field = Field::new(key, path);
        for e in ring {
            if field.key.matches(e) {
                let v = json_payload(e);
                self.feed(&mut field, e, v.as_ref(), e.timestamp());
            }
        }
        self.fields.push(field);
        Ok(())
    }

    fn feed(&self, f: &mut Field, e: &Event, v: Option<&Value>, ts: Option<jiff::Timestamp>) {
        let Some(value) = v.and_then(|v| lookup(v, &f.path)) else {
            f.absent += 1;
            return;
        };
        let (Some(y), Some(t), Some(epoch)) = (number(value), ts, self.epoch) else {
            f.non_numeric += 1;
            return;
        };
        let x = t.duration_since(epoch).as_secs_f64();
        f.add_point(&sender_of(e), x, y);
    }

    /// Feeds a new event (at `ts`) to every field of its stream.
    pub fn observe(&mut self, e: &Event, ts: Option<jiff::Timestamp>) {
        if self.fields.is_empty() || !self.fields.iter().any(|f| f.key.matches(e)) {
            return;
        }
        if self.epoch.is_none() {
            self.epoch = ts;
        }
        let v = json_payload(e);
        let mut fields = std::mem::take(&mut self.fields);
        for f in fields.iter_mut().filter(|f| f.key.matches(e)) {
            self.feed(f, e, v.as_ref(), ts);
        }
        self.fields = fields;
    }

    /// Removes the field added last; the plot starts over when none is left.
    pub fn remove_last(&mut self) -> Option<Field> {
        let f = self.fields.pop();
        if self.fields.is_empty() {
            self.epoch = None;
        }
        f
    }

    /// Series in all fields.
    pub fn series_count(&self) -> usize {
        self.fields.iter().map(|f| f.series.len()).sum()
    }

    /// The `top_n` busiest series over all fields (most values first; ties
    /// by field, then sender), and how many are hidden.
    pub fn shown(&self) -> (Vec<Shown>, usize) {
        let mut all: Vec<(u64, &str, Shown)> = self
            .fields
            .iter()
            .enumerate()
            .flat_map(|(fi, f)| {
                f.series.iter().enumerate().map(move |(si, s)| {
                    (
                        s.count,
                        s.sender.as_str(),
                        Shown {
                            field: fi,
                            series: si,
                        },
                    )
                })
            })
            .collect();
        all.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(a.2.field.cmp(&b.2.field))
                .then(a.1.cmp(b.1))
        });
        let hidden = all.len().saturating_sub(self.top_n);
        all.truncate(self.top_n);
        // Drawn in a stable order: by field, then sender.
        let mut shown: Vec<Shown> = all.into_iter().map(|(_, _, s)| s).collect();
        shown.sort_by(|a, b| {
            a.field.cmp(&b.field).then_with(|| {
                self.fields[a.field].series[a.series]
                    .sender
                    .cmp(&self.fields[b.field].series[b.series].sender)
            })
        });
        (shown, hidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::schema::{Client, Dest, DestType, Kind};

    fn v(s: &str) -> Value {
        serde_json::from_str(s).expect("json")
    }

    pub fn msg(uid: &str, sub: &str, secs: u32, payload: &str) -> Event {
        let mut e = Event::new(Kind::Publish, format!("2026-11-22T03:44:{secs:02}Z"))
            .with_payload(payload.as_bytes(), 1024);
        e.from = Some(Client {
            etid: 1,
            uid: Some(uid.into()),
            info: None,
            addr: None,
            server: false,
        });
        e.to = Some(Dest {
            tid: 1,
            kind: DestType::Server,
            name: None,
            uid: None,
        });
        e.subtopic = Some(sub.into());
        e
    }

    #[test]
    fn leaves_are_nested_paths_in_payload_order() {
        let l = leaves(&v(
            r#"{"id":7,"meters":{"coin_in":12.5,"coin_out":"n/a"},"s":[{"kWh":1},2],"e":{}}"#,
        ));
        let labels: Vec<_> = l.iter().map(|l| (l.label.as_str(), l.numeric)).collect();
        assert_eq!(
            labels,
            vec![
                ("id", true),
                ("meters.coin_in", true),
                ("meters.coin_out", false),
                ("s[0].kWh", true),
                ("s[1]", true),
                ("e", false),
            ]
        );
        let root = v(r#"{"meters":{"coin_in":12.5}}"#);
        assert_eq!(lookup(&root, &l[1].path).and_then(number), Some(12.5));
        assert!(lookup(&root, &l[3].path).is_none());
        assert!(leaves(&v("5")).is_empty(), "a bare number has no field");
    }

    #[test]
    fn the_picker_starts_on_the_first_number_and_typing_narrows_it() {
        let e = msg(
            "a",
            "S",
            0,
            r#"{"ChargerID":"c-1","On":true,"kW":3.5,"seq":1}"#,
        );
        let mut p = Picker::for_event(&e).expect("json");
        assert_eq!(p.chosen().map(|l| l.label.as_str()), Some("kW"));
        p.move_by(-5);
        assert_eq!(p.chosen().map(|l| l.label.as_str()), Some("ChargerID"));
        p.type_char('s');
        p.type_char('E');
        assert_eq!(p.visible(), vec![3]);
        p.move_by(3);
        assert_eq!(p.chosen().map(|l| l.label.as_str()), Some("seq"));
        p.type_char('x');
        assert!(p.chosen().is_none());
        let text = msg("a", "S", 0, "plain words");
        assert!(
            Picker::for_event(&text)
                .expect_err("text")
                .contains("not JSON")
        );
        let mut cut = e.clone();
        cut.truncated = true;
        assert!(
            Picker::for_event(&cut)
                .expect_err("cut")
                .contains("truncated")
        );
    }

    #[test]
    fn non_numeric_and_missing_values_are_skipped_and_counted() {
        let ring = [
            msg("a", "S", 0, r#"{"kW":1}"#),
            msg("a", "S", 1, r#"{"kW":"high"}"#),
            msg("b", "S", 1, r#"{"kW":2.5}"#),
            msg("a", "S", 2, r#"{"other":1}"#),
            msg("a", "OTHER", 2, r#"{"kW":9}"#),
            msg("a", "S", 3, "not json"),
        ];
        let mut plot = Plot::default();
        let key = StreamKey::of(&ring[0]).expect("message");
        plot.add(key.clone(), vec![Seg::Key("kW".into())], ring.iter())
            .expect("added");
        let f = &plot.fields[0];
        assert_eq!((f.non_numeric, f.absent), (1, 2));
        assert_eq!(f.skipped(), 3);
        let pts: Vec<_> = f
            .series
            .iter()
            .map(|s| {
                (
                    s.sender.as_str(),
                    s.points.iter().copied().collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(pts, vec![("a", vec![(0.0, 1.0)]), ("b", vec![(1.0, 2.5)])]);
        // Later events are fed too.
        plot.observe(
            &msg("a", "S", 5, r#"{"kW":4}"#),
            "2026-11-22T03:44:05Z".parse().ok(),
        );
        plot.observe(
            &msg("a", "S", 6, r#"{"kW":null}"#),
            "2026-11-22T03:44:06Z".parse().ok(),
        );
        let f = &plot.fields[0];
        assert_eq!(f.series[0].points.back(), Some(&(5.0, 4.0)));
        assert_eq!(f.non_numeric, 2);
        assert!(
            plot.add(key, vec![Seg::Key("kW".into())], ring.iter())
                .is_err()
        );
    }

    #[test]
    fn only_the_top_n_busiest_series_are_shown_and_the_rest_counted() {
        let mut ring = Vec::new();
        for (i, uid) in ["a", "b", "c", "d"].iter().enumerate() {
            for s in 0..=i {
                ring.push(msg(uid, "S", s as u32, r#"{"kW":1}"#));
            }
        }
        let mut plot = Plot {
            top_n: 2,
            ..Plot::default()
        };
        let key = StreamKey::of(&ring[0]).expect("message");
        plot.add(key, vec![Seg::Key("kW".into())], ring.iter())
            .expect("added");
        let (shown, hidden) = plot.shown();
        let names: Vec<_> = shown
            .iter()
            .map(|s| plot.fields[s.field].series[s.series].sender.as_str())
            .collect();
        assert_eq!(names, vec!["c", "d"]);
        assert_eq!(hidden, 2);
        plot.top_n = 10;
        assert_eq!(plot.shown().1, 0);
        assert_eq!(plot.shown().0.len(), 4);
    }

    #[test]
    fn series_keep_at_most_their_points_and_fields_their_senders() {
        let mut plot = Plot::default();
        let first = msg("a", "S", 0, r#"{"n":0}"#);
        let key = StreamKey::of(&first).expect("message");
        plot.add(key, vec![Seg::Key("n".into())], std::iter::once(&first))
            .expect("added");
        let t0: jiff::Timestamp = "2026-11-22T03:44:00Z".parse().expect("time");
        for i in 0..(POINTS + 10) {
            let e = msg("a", "S", 0, &format!("{{\"n\":{i}}}"));
            plot.observe(&e, Some(t0));
        }
        let s = &plot.fields[0].series[0];
        assert_eq!(s.points.len(), POINTS);
        assert_eq!(s.count, POINTS as u64 + 11);
        assert_eq!(s.points.back().map(|p| p.1), Some((POINTS + 9) as f64));
        for i in 0..SERIES_CAP + 3 {
            plot.observe(&msg(&format!("d{i}"), "S", 0, r#"{"n":1}"#), Some(t0));
        }
        assert_eq!(plot.fields[0].series.len(), SERIES_CAP);
        assert_eq!(plot.fields[0].untracked, 4);
        assert!(plot.remove_last().is_some());
        assert!(plot.is_empty() && plot.epoch.is_none());
    }
}
