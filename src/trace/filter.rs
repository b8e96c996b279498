//! Event filters shared by `smqctl trace` (flags) and `smqctl tui` (filter bar),
//! so both show exactly the same events for the same filter.
//!
//! A filter is a conjunction: the event's kind must be enabled, its topic must
//! match an include pattern (when there are any) and no exclude pattern, and the
//! free text must occur (case-insensitively) in the topic, sub-topic, UIDs or
//! payload preview. Patterns are topic names with `*` wildcards.
//!
//! May import: `trace::schema`. Nothing here does I/O.

use std::collections::BTreeSet;

use super::schema::{Event, Kind};

/// Which events to keep. The default keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Kinds to keep; empty keeps every kind.
    pub kinds: BTreeSet<Kind>,
    /// Topic patterns to keep (any); empty keeps every topic.
    pub include: Vec<String>,
    /// Topic patterns to hide (any).
    pub exclude: Vec<String>,
    /// Free text, matched case-insensitively.
    pub text: String,
}

impl Filter {
    /// Whether `e` passes.
    pub fn matches(&self, e: &Event) -> bool {
        if !self.kinds.is_empty() && !self.kinds.contains(&e.kind) {
            return false;
        }
        let topic = e.to.as_ref().and_then(|d| d.name.as_deref());
        if !self.include.is_empty()
            && !topic.is_some_and(|t| self.include.iter().any(|p| glob(p, t)))
        {
            return false;
        }
        if topic.is_some_and(|t| self.exclude.iter().any(|p| glob(p, t))) {
            return false;
        }
        self.text.is_empty() || text_matches(e, &self.text)
    }

    /// Whether this filter keeps everything.
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Adds `kind` when absent, removes it when present.
    pub fn toggle_kind(&mut self, kind: Kind) {
        if !self.kinds.remove(&kind) {
            self.kinds.insert(kind);
        }
    }
}

fn text_matches(e: &Event, needle: &str) -> bool {
    let needle = needle.to_lowercase();
    let has = |s: Option<&str>| s.is_some_and(|s| s.to_lowercase().contains(&needle));
    let to = e.to.as_ref();
    let from = e.from.as_ref();
    has(to.and_then(|d| d.name.as_deref()))
        || has(to.and_then(|d| d.uid.as_deref()))
        || has(e.subtopic.as_deref())
        || has(from.and_then(|c| c.uid.as_deref()))
        || has(from.and_then(|c| c.info.as_deref()))
        || has(e.payload.as_deref())
        || has(e.reason.as_deref())
}

/// `*` matches any run of characters (including none); everything else is literal.
pub fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::schema::{Client, Dest, DestType};

    fn publish(topic: &str, uid: &str, payload: &str) -> Event {
        let mut e = Event::new(Kind::Publish, "2026-01-01T00:00:00Z".into())
            .with_payload(payload.as_bytes(), 256);
        e.to = Some(Dest {
            tid: 5,
            kind: DestType::Topic,
            name: Some(topic.into()),
            uid: None,
        });
        e.from = Some(Client {
            etid: 9,
            uid: Some(uid.into()),
            ..Client::default()
        });
        e
    }

    #[test]
    fn globs_match_like_shell_patterns() {
        assert!(glob("a*", "abc"));
        assert!(glob("*c", "abc"));
        assert!(glob("a*c", "abc"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(glob("*", ""));
        assert!(!glob("a*c", "ab"));
        assert!(!glob("abc", "abcd"));
        assert!(!glob("a*a", "a"), "the two ends must not overlap");
    }

    #[test]
    fn glob_uses_each_middle_part_once_and_moves_past_it() {
        // Killed mutants: `rest[i + mid.len()..]` as `i * mid.len()` (found the
        // same `b` twice) or `i - mid.len()`.
        assert!(!glob("a*b*b*c", "abc"));
        assert!(glob("a*b*b*c", "abbc"));
        assert!(glob("*ab*cd*", "xxabyycdzz"));
        assert!(
            !glob("*cd*ab*", "xxabyycdzz"),
            "middle parts match in order"
        );
    }

    #[test]
    fn every_condition_must_hold() {
        let e = publish("DeviceState", "sim-00001", r#"{"On":true}"#);
        assert!(Filter::default().matches(&e));

        let mut f = Filter::default();
        f.toggle_kind(Kind::Drop);
        assert!(!f.matches(&e), "drops only hides publishes");
        f.toggle_kind(Kind::Publish);
        assert!(f.matches(&e));

        let f = Filter {
            include: vec!["Device*".into()],
            ..Filter::default()
        };
        assert!(f.matches(&e));
        let f = Filter {
            include: vec!["Device*".into()],
            exclude: vec!["*State".into()],
            ..Filter::default()
        };
        assert!(!f.matches(&e), "exclude wins over include");
    }

    #[test]
    fn text_searches_names_uids_and_payload_case_insensitively() {
        let e = publish("DeviceState", "sim-00001", r#"{"On":true}"#);
        for needle in ["devicestate", "SIM-0000", "\"on\":true"] {
            let f = Filter {
                text: needle.into(),
                ..Filter::default()
            };
            assert!(f.matches(&e), "{needle}");
        }
        let f = Filter {
            text: "nowhere".into(),
            ..Filter::default()
        };
        assert!(!f.matches(&e));
    }

    #[test]
    fn include_patterns_hide_events_without_a_topic() {
        let e = Event::new(Kind::Connect, "2026-01-01T00:00:00Z".into());
        let f = Filter {
            include: vec!["*".into()],
            ..Filter::default()
        };
        assert!(!f.matches(&e));
        assert!(Filter::default().matches(&e));
    }
}
