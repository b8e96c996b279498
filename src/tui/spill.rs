//! Longer history without more memory (`--spill FILE`): the events that fall
//! out of the ring go to a [`Store`] (the command gives an NDJSON file), and
//! scrolling up past the ring's first event, or Home, pages them back in a
//! bounded window ([`BACK_CAP`] events) of those that pass the filter. The
//! store is a trait so this file does no I/O itself and is tested with
//! events in memory.
//!
//! Sequence numbers: the ring numbers events from 0 and evicts them in order,
//! each one appended to the store, so spilled event `n` is the store's `n`th
//! and keeps its number when paged back.
//!
//! May import: `trace::schema`.

use std::collections::VecDeque;

use crate::trace::schema::Event;

/// Most paged-back events held at once.
pub const BACK_CAP: usize = 2000;
/// Events read from the store per read.
const CHUNK: u64 = 256;
/// Most spilled events one key scans for matches (a rare search term must not
/// freeze the screen; the next key scans on).
pub const SCAN_MAX: u64 = 50_000;

/// Where spilled events go and come back from.
pub trait Store: Send {
    /// Appends the ring's oldest event as it leaves.
    fn append(&mut self, e: &Event) -> Result<(), String>;
    /// Events appended so far.
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Events `from..to`, oldest first (clamped to [`Store::len`]).
    fn read(&mut self, from: u64, to: u64) -> Result<Vec<Event>, String>;
    /// Writes what is buffered.
    fn flush(&mut self) -> Result<(), String>;
    /// How the screen names it (the file's path).
    fn name(&self) -> String;
}

/// Events in memory, for tests.
#[derive(Debug, Default)]
pub struct MemStore(pub Vec<Event>);

impl Store for MemStore {
    fn append(&mut self, e: &Event) -> Result<(), String> {
        self.0.push(e.clone());
        Ok(())
    }
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
    fn read(&mut self, from: u64, to: u64) -> Result<Vec<Event>, String> {
        let to = (to as usize).min(self.0.len());
        let from = (from as usize).min(to);
        Ok(self.0[from..to].to_vec())
    }
    fn flush(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn name(&self) -> String {
        "memory".into()
    }
}

/// What one paging step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Paged {
    /// Matching events added.
    pub added: usize,
    /// Events dropped from the other end of the window (over [`BACK_CAP`]).
    pub trimmed: usize,
    /// Spilled events read.
    pub scanned: u64,
}

/// The store and the window of it paged back in.
pub struct Spill {
    pub store: Box<dyn Store>,
    /// Paged-back events that pass the filter, oldest first, with their
    /// sequence numbers.
    pub back: VecDeque<(u64, Event)>,
    /// Spilled events `lo..hi` were scanned (the matching ones are in
    /// `back`); `None` before any paging.
    range: Option<(u64, u64)>,
    /// A write failed: nothing more is spilled.
    pub failed: Option<String>,
}

impl std::fmt::Debug for Spill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spill")
            .field("store", &self.store.name())
            .field("spilled", &self.store.len())
            .field("back", &self.back.len())
            .field("range", &self.range)
            .finish()
    }
}

impl Spill {
    pub fn new(store: Box<dyn Store>) -> Spill {
        Spill {
            store,
            back: VecDeque::new(),
            range: None,
            failed: None,
        }
    }

    /// Spills one evicted event; a failure stops spilling and says why once.
    pub fn append(&mut self, e: &Event) -> Option<String> {
        if self.failed.is_some() {
            return None;
        }
        match self.store.append(e) {
            Ok(()) => None,
            Err(why) => {
                let text = format!(
                    "cannot spill to {}: {why}; spilling stopped",
                    self.store.name()
                );
                self.failed = Some(text.clone());
                Some(text)
            }
        }
    }

    /// Forgets the paged-back window (the filter changed, or back to live).
    pub fn clear_back(&mut self) {
        self.back.clear();
        self.range = None;
    }

    /// Whether spilled events lie between the window and the ring.
    pub fn gap(&self) -> bool {
        self.range.is_some_and(|(_, hi)| hi < self.store.len())
    }

    /// Whether events older than the window are left to scan.
    pub fn older_left(&self) -> bool {
        match self.range {
            Some((lo, _)) => lo > 0,
            None => !self.store.is_empty(),
        }
    }

    /// Pages in up to `want` more matching events older than the window
    /// (starting at the newest spilled one the first time).
    pub fn page_older(
        &mut self,
        matches: impl Fn(&Event) -> bool,
        want: usize,
    ) -> Result<Paged, String> {
        let len = self.store.len();
        let (mut lo, mut hi) = self.range.unwrap_or((len, len));
        let mut p = Paged::default();
        while lo > 0 && p.added < want && p.scanned < SCAN_MAX {
            let from = lo.saturating_sub(CHUNK);
            let events = self.store.read(from, lo)?;
            p.scanned += lo - from;
            for (i, e) in events.into_iter().enumerate().rev() {
                let seq = from + i as u64;
                if matches(&e) {
                    self.back.push_front((seq, e));
                    p.added += 1;
                }
            }
            lo = from;
        }
        while self.back.len() > BACK_CAP {
            if let Some((seq, _)) = self.back.pop_back() {
                hi = seq;
                p.trimmed += 1;
            }
        }
        self.range = Some((lo, hi));
        Ok(p)
    }

    /// Pages in up to `want` more matching events newer than the window
    /// (towards the ring).
    pub fn page_newer(
        &mut self,
        matches: impl Fn(&Event) -> bool,
        want: usize,
    ) -> Result<Paged, String> {
        let len = self.store.len();
        let (mut lo, mut hi) = self.range.unwrap_or((len, len));
        let mut p = Paged::default();
        while hi < len && p.added < want && p.scanned < SCAN_MAX {
            let to = (hi + CHUNK).min(len);
            let events = self.store.read(hi, to)?;
            p.scanned += to - hi;
            for (seq, e) in (hi..).zip(events) {
                if matches(&e) {
                    self.back.push_back((seq, e));
                    p.added += 1;
                }
            }
            hi = to;
        }
        while self.back.len() > BACK_CAP {
            if let Some((seq, _)) = self.back.pop_front() {
                lo = seq + 1;
                p.trimmed += 1;
            }
        }
        self.range = Some((lo, hi));
        Ok(p)
    }

    /// The window at the very first spilled event (Home).
    pub fn page_oldest(
        &mut self,
        matches: impl Fn(&Event) -> bool,
        want: usize,
    ) -> Result<Paged, String> {
        self.back.clear();
        self.range = Some((0, 0));
        self.page_newer(matches, want)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::schema::Kind;

    fn n(e: &Event) -> u64 {
        e.payload
            .as_deref()
            .and_then(|p| p.parse().ok())
            .unwrap_or(u64::MAX)
    }

    fn spill(count: u64) -> Spill {
        let mut s = Spill::new(Box::new(MemStore::default()));
        for i in 0..count {
            let e =
                Event::new(Kind::Publish, "t".into()).with_payload(i.to_string().as_bytes(), 64);
            assert_eq!(s.append(&e), None);
        }
        s
    }

    fn seqs(s: &Spill) -> Vec<u64> {
        s.back.iter().map(|(q, _)| *q).collect()
    }

    #[test]
    fn paging_older_goes_back_from_the_newest_spilled_event_to_the_first() {
        let mut s = spill(1000);
        let p = s.page_older(|_| true, 10).expect("pages");
        assert_eq!((p.added, p.scanned), (CHUNK as usize, CHUNK));
        assert_eq!(s.back.front().map(|(q, _)| *q), Some(1000 - CHUNK));
        assert_eq!(s.back.back().map(|(q, e)| (*q, n(e))), Some((999, 999)));
        while s.older_left() {
            s.page_older(|_| true, 10).expect("pages");
        }
        assert_eq!(seqs(&s), (0..1000).collect::<Vec<_>>());
        assert!(!s.gap());
    }

    #[test]
    fn the_window_stays_bounded_and_pages_forward_into_the_gap() {
        let mut s = spill(5000);
        while s.older_left() {
            s.page_older(|_| true, 100).expect("pages");
        }
        assert_eq!(s.back.len(), BACK_CAP, "bounded");
        assert_eq!(s.back.front().map(|(q, _)| *q), Some(0));
        assert!(s.gap(), "the newer events were let go");
        let last = s.back.back().map(|(q, _)| *q).expect("some");
        let p = s.page_newer(|_| true, 10).expect("pages");
        assert_eq!(p.trimmed, p.added);
        assert_eq!(s.back.len(), BACK_CAP);
        for (want, (q, e)) in (last + 1..).zip(s.back.iter().skip(BACK_CAP - p.added)) {
            assert_eq!((*q, n(e)), (want, want), "in order, without a hole");
        }
    }

    #[test]
    fn a_search_pages_back_only_matching_events_and_stops_at_the_scan_limit() {
        let mut s = spill(SCAN_MAX * 2 + 10);
        // Matches: 3 and the numbers ending in 77777.
        let m = |e: &Event| n(e) == 3 || n(e) % 100_000 == 77_777;
        let p = s.page_older(m, 5).expect("pages");
        assert_eq!(p.added, 1, "{p:?}");
        assert_eq!(seqs(&s), vec![77_777]);
        assert!(p.scanned >= SCAN_MAX && p.scanned < SCAN_MAX + CHUNK);
        let p = s.page_older(m, 5).expect("pages on");
        assert_eq!(p.added, 1);
        assert_eq!(seqs(&s), vec![3, 77_777]);
        assert!(!s.older_left());
    }

    #[test]
    fn home_starts_the_window_at_the_first_spilled_event() {
        let mut s = spill(3000);
        s.page_older(|_| true, 10).expect("pages");
        s.page_oldest(|_| true, 50).expect("pages");
        assert_eq!(s.back.front().map(|(q, _)| *q), Some(0));
        assert!(s.gap());
        s.clear_back();
        assert!(s.back.is_empty() && !s.gap() && s.older_left());
    }

    #[test]
    fn a_failed_write_stops_spilling_and_says_so_once() {
        struct Full;
        impl Store for Full {
            fn append(&mut self, _: &Event) -> Result<(), String> {
                Err("No space left on device".into())
            }
            fn len(&self) -> u64 {
                0
            }
            fn read(&mut self, _: u64, _: u64) -> Result<Vec<Event>, String> {
                Ok(Vec::new())
            }
            fn flush(&mut self) -> Result<(), String> {
                Ok(())
            }
            fn name(&self) -> String {
                "full.ndjson".into()
            }
        }
        let mut s = Spill::new(Box::new(Full));
        let e = Event::new(Kind::Publish, "t".into());
        let said = s.append(&e).expect("says why");
        assert!(
            said.contains("full.ndjson") && said.contains("No space"),
            "{said}"
        );
        assert_eq!(s.append(&e), None, "once");
    }

    /// The TUI's view of it: `--buffer 100` and 1,000 events; scrolling up
    /// past the ring's first row pages the spilled ones in, to the first.
    fn app(buffer: usize, count: u64) -> crate::tui::app::App {
        let mut app = crate::tui::app::App::new(buffer, "test");
        app.spill = Some(Spill::new(Box::new(MemStore::default())));
        app.viewport = 20;
        for i in 0..count {
            let e =
                Event::new(Kind::Publish, "t".into()).with_payload(i.to_string().as_bytes(), 64);
            app.push(e);
        }
        app
    }

    fn selected(app: &crate::tui::app::App) -> u64 {
        app.selected_event().map(n).expect("a selection")
    }

    #[test]
    fn scrolling_up_past_the_ring_pages_back_into_the_spill_to_the_first_event() {
        let mut app = app(100, 1000);
        assert_eq!(app.spill.as_ref().map(|s| s.store.len()), Some(900));
        app.move_selection(-99);
        assert_eq!(selected(&app), 900, "the ring's first event");
        app.move_selection(-1);
        assert_eq!(selected(&app), 899, "the newest spilled one");
        for _ in 0..1000 {
            app.move_selection(-(app.viewport as isize));
        }
        assert_eq!(selected(&app), 0);
        assert_eq!(app.selected_index(), Some(0));
        let (start, end) = app.window(app.viewport);
        assert_eq!(app.row(start).map(|(q, _)| q), Some(0));
        assert!(end > start);
        // Down again crosses into the ring without a hole.
        app.move_selection(899);
        assert_eq!(selected(&app), 899);
        app.move_selection(1);
        assert_eq!(selected(&app), 900);
        // End follows the newest again and lets the paged events go.
        app.select_last();
        assert_eq!(app.back_len(), 0);
        assert_eq!(selected(&app), 999);
    }

    #[test]
    fn home_jumps_to_the_first_spilled_event_and_down_pages_forward() {
        let mut app = app(100, 10_000);
        app.select_first();
        assert_eq!(selected(&app), 0);
        for _ in 0..(10_000 / app.viewport) {
            app.move_selection(app.viewport as isize);
        }
        assert!(app.back_len() <= BACK_CAP, "bounded: {}", app.back_len());
        assert_eq!(
            selected(&app),
            9_999,
            "paged forward through the whole file"
        );
    }

    #[test]
    fn search_pages_back_the_matching_spilled_events() {
        let mut app = app(100, 1000);
        let mut f = app.filter.clone();
        f.text = "77".into();
        app.set_filter(f);
        // In the ring (900..1000): 977. Spilled: 77, 177, …, 877, 770..=779.
        assert_eq!(app.rows(), 1);
        app.move_selection(-1);
        assert!(app.rows() > 1);
        while app.spill.as_ref().is_some_and(|s| s.older_left()) {
            app.move_selection(-1);
        }
        let all: Vec<u64> = (0..app.rows())
            .filter_map(|i| app.row(i))
            .map(|(_, e)| n(e))
            .collect();
        let want: Vec<u64> = (0..1000).filter(|i| i.to_string().contains("77")).collect();
        assert_eq!(all, want);
    }
}
