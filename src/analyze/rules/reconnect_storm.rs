//! `reconnect-storm`: one UID connecting more than `--storm` times
//! a minute, or its live connection taken over again and again.

use std::collections::{HashMap, VecDeque};

use crate::analyze::{ClientRef, Cx, Finding, Rule, RuleInfo, Severity, Sink, parse_ts, trim};
use crate::trace::schema::{Event, Kind, TAKEOVER};

pub static INFO: RuleInfo = RuleInfo {
    name: "reconnect-storm",
    severity: Severity::Warning,
    summary: "one UID connecting more than --storm times a minute, or same-UID takeovers",
    explain: "\
What: one UID connected more than --storm times (default 10)
within 60 seconds; or a new connection with a UID took over that UID's live
connection at least twice within 60 seconds (the broker gives the newcomer the
ETID and disconnects the other with \"reconnect\"). One takeover alone is not
reported: it is how a device gets back in after its old TCP connection died
without the broker noticing (a half-open connection).

Why it breaks apps: every connect costs a TLS handshake, authentication, the
subscriptions and the readiness barrier, and every close fails the client's
pending requests and tells its observers it left. A client that reconnects in
a tight loop (no back-off, or it is closed at once for a reason it never
fixes: bad credentials, a refused subscription, a broker limit) loads the
broker and never does its work. Repeated takeovers mean two clients share one
UID: each connect throws the other out, which reconnects and throws out the
first.

Fix: back off between reconnects (growing delays with jitter, e.g. the Lua
client's onclose returning 5000 and more); read the close reasons in the
evidence and fix their cause; give every client its own UID (a device serial,
not a constant from the firmware image).

Example: two devices flashed with the same UID `dev-000001`: \"dev-000001's
live connection was taken over 4 times within 60 s: two clients share the
UID\".",
    brokers: "Every source for the connect count (Lua sources have whole-second \
times, which suits a 60 s window). Takeovers: the embedded broker marks the connect \
that took over; on Mako a connect of a UID that is still connected in the trace \
counts as one.",
};

/// The window.
const MINUTE: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);
/// UIDs remembered.
const MAX_UIDS: usize = 100_000;
/// Takeovers within the window that are reported.
const TAKEOVERS: usize = 2;
/// Connect times kept per UID (a storm past this says "at least").
const MAX_WINDOW: usize = 1_000;

#[derive(Default)]
struct Uid {
    /// Connect times within the window (at most the threshold + 1).
    connects: VecDeque<jiff::Timestamp>,
    takeovers: VecDeque<jiff::Timestamp>,
    /// The ETID it holds now (no close seen since its connect).
    live: Option<u32>,
    /// Its latest close (for the evidence: why it left).
    last_close: Option<Event>,
}

#[derive(Default)]
pub struct ReconnectStorm {
    uids: HashMap<String, Uid>,
}

/// Forgets times older than the window before `now`; `keep` at most.
fn slide(times: &mut VecDeque<jiff::Timestamp>, now: jiff::Timestamp, keep: usize) {
    times.push_back(now);
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= MINUTE)
        || times.len() > keep
    {
        times.pop_front();
    }
}

impl Rule for ReconnectStorm {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, cx: &Cx, ev: &Event, out: &mut Sink) {
        if ev.kind == Kind::Snapshot {
            for c in ev.snapshot.iter().flat_map(|s| &s.clients) {
                if let Some(uid) = &c.uid
                    && (self.uids.len() < MAX_UIDS || self.uids.contains_key(uid))
                {
                    self.uids.entry(uid.clone()).or_default().live = Some(c.etid);
                }
            }
            return;
        }
        if !matches!(ev.kind, Kind::Connect | Kind::Close) {
            return;
        }
        let Some(from) = ev.from.as_ref().filter(|c| !c.server) else {
            return;
        };
        let Some(uid) = &from.uid else {
            return;
        };
        if self.uids.len() >= MAX_UIDS && !self.uids.contains_key(uid) {
            return;
        }
        let u = self.uids.entry(uid.clone()).or_default();
        if ev.kind == Kind::Close {
            if u.live == Some(from.etid) {
                u.live = None;
            }
            u.last_close = Some(trim(ev));
            return;
        }
        let Some(now) = parse_ts(&ev.ts).or(cx.now) else {
            return;
        };
        let takeover = ev.reason.as_deref() == Some(TAKEOVER) || u.live.is_some();
        u.live = Some(from.etid);
        let limit = cx.config.storm_per_minute as usize;
        let keep = MAX_WINDOW.max(limit + 1);
        slide(&mut u.connects, now, keep);
        let who = ClientRef::of(from);
        if u.connects.len() > limit {
            let n = u.connects.len();
            let at_least = if n == keep { "at least " } else { "" };
            let mut f = Finding::new(&INFO, format!("{uid}\u{0}connects"), ev)
                .message(format!(
                    "{uid} connected {at_least}{n} times within 60 s (more than --storm \
                     {limit} a minute)"
                ))
                .fix(
                    "back off between reconnects (growing delays with jitter) and fix why each \
                     connection ends (the close reasons in the evidence)",
                )
                .client(who.clone());
            if let Some(c) = &u.last_close {
                f = f.evidence(c);
            }
            out.push(f);
        }
        if takeover {
            slide(&mut u.takeovers, now, TAKEOVERS);
            if u.takeovers.len() >= TAKEOVERS {
                let mut f = Finding::new(&INFO, format!("{uid}\u{0}takeovers"), ev)
                    .message(format!(
                        "{uid}'s live connection was taken over {} times within 60 s by a new \
                         connection with the same UID: two clients share the UID, or one \
                         reconnects without closing the old connection",
                        u.takeovers.len()
                    ))
                    .fix(
                        "give every client its own UID (a device serial, not a constant of the \
                         firmware image), and close the old connection before reconnecting",
                    )
                    .client(who);
                if let Some(c) = &u.last_close {
                    f = f.evidence(c);
                }
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};
    use crate::trace::schema::{Client, Snapshot, TAKEOVER};

    fn config() -> Config {
        Config {
            storm_per_minute: 3,
            ..Config::default()
        }
    }

    #[test]
    fn connecting_more_than_the_limit_within_a_minute_is_a_storm() {
        let mut fx = Fx::new();
        let mut events = Vec::new();
        for _ in 0..5 {
            events.push(fx.connect(5, "dev-000001"));
            events.push(fx.close(5, "bad credentials"));
            fx.advance(10.0);
        }
        let found = run(rules::only("reconnect-storm"), config(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.count, 2, "the 4th and the 5th connect");
        assert_eq!(
            f.message,
            "dev-000001 connected 5 times within 60 s (more than --storm 3 a minute)"
        );
        assert_eq!(f.evidence[1].reason.as_deref(), Some("bad credentials"));
        assert_eq!(f.first_ts, events[6].ts);
        assert_eq!(f.last_ts, events[8].ts);
    }

    #[test]
    fn a_connect_exactly_a_minute_after_the_first_starts_a_new_window() {
        let mut fx = Fx::new();
        let mut events = Vec::new();
        for _ in 0..4 {
            events.push(fx.connect(5, "dev-000001")); // +0.1 s
            events.push(fx.close(5, "closed")); // +0.1 s
            fx.advance(19.8); // connects 20.000 s apart
        }
        assert!(run(rules::only("reconnect-storm"), config(), &events).is_empty());
    }

    #[test]
    fn a_storm_past_the_kept_window_says_at_least() {
        let mut fx = Fx::new();
        let mut events = Vec::new();
        for _ in 0..1_002 {
            events.push(fx.connect(5, "dev-000001"));
            events.push(fx.close(5, "closed"));
            fx.advance(-0.199); // all within a few seconds
        }
        let found = run(rules::only("reconnect-storm"), config(), &events);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].count, 1_002 - 3);
        assert!(
            found[0].message.contains("connected at least 1000 times"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn reconnects_spread_over_minutes_are_not_a_storm() {
        let mut fx = Fx::new();
        let mut events = Vec::new();
        for _ in 0..8 {
            events.push(fx.connect(5, "dev-000001"));
            events.push(fx.close(5, "network"));
            fx.advance(20.0);
        }
        // Other UIDs do not add up.
        for i in 0..8 {
            events.push(fx.connect(10 + i, &format!("dev-{i}")));
        }
        assert!(run(rules::only("reconnect-storm"), config(), &events).is_empty());
    }

    #[test]
    fn takeovers_twice_within_a_minute_mean_a_shared_uid() {
        let mut fx = Fx::new();
        let first = fx.connect(5, "dev-000001");
        let takeover = |fx: &mut Fx| {
            let close = fx.close(5, "reconnect");
            let mut c = fx.connect(5, "dev-000001");
            c.reason = Some(TAKEOVER.into());
            [close, c]
        };
        let mut events = vec![first];
        events.extend(takeover(&mut fx));
        events.extend(takeover(&mut fx));
        let found = run(rules::only("reconnect-storm"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0]
                .message
                .starts_with("dev-000001's live connection was taken over 2 times"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].evidence[1].reason.as_deref(), Some("reconnect"));
    }

    #[test]
    fn a_connect_of_a_uid_still_connected_is_a_takeover_where_no_reason_says_so() {
        let mut fx = Fx::new();
        let snap = Snapshot {
            clients: vec![Client {
                etid: 5,
                uid: Some("dev-000001".into()),
                ..Client::default()
            }],
            ..Snapshot::default()
        };
        let events = [
            fx.snapshot(snap),
            fx.connect(5, "dev-000001"),
            fx.connect(5, "dev-000001"),
        ];
        let found = run(rules::only("reconnect-storm"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message.contains("taken over 2 times"));
    }

    #[test]
    fn one_takeover_after_a_half_open_connection_is_not_reported() {
        let mut fx = Fx::new();
        let events = [fx.connect(5, "dev-000001"), fx.connect(5, "dev-000001"), {
            fx.advance(120.0);
            fx.connect(5, "dev-000001")
        }];
        assert!(run(rules::only("reconnect-storm"), Config::default(), &events).is_empty());
    }

    #[test]
    fn its_table_stops_growing_at_its_cap() {
        use super::{MAX_UIDS, ReconnectStorm};
        let mut fx = Fx::new();
        let mut rule = ReconnectStorm::default();
        let connects: Vec<_> = (0..=MAX_UIDS as u32)
            .map(|i| fx.connect(i, &format!("u{i}")))
            .collect();
        rules::observe_all(&mut rule, connects);
        assert_eq!(rule.uids.len(), MAX_UIDS);
        let client = |etid, uid: &str| Client {
            etid,
            uid: Some(uid.into()),
            ..Client::default()
        };
        let snap = Snapshot {
            clients: vec![client(7, "late"), client(99, "u2")],
            ..Snapshot::default()
        };
        rules::observe_all(&mut rule, [fx.snapshot(snap)]);
        assert_eq!(rule.uids.len(), MAX_UIDS);
        assert_eq!(
            rule.uids["u2"].live,
            Some(99),
            "a known UID is still followed"
        );
        rules::observe_all(&mut rule, [fx.connect(77, "u0"), fx.connect(5, "new")]);
        assert_eq!(rule.uids.len(), MAX_UIDS);
        assert_eq!(rule.uids["u0"].live, Some(77));
    }

    #[test]
    fn a_limit_above_the_kept_window_keeps_one_more_connect_than_the_limit() {
        let mut fx = Fx::new();
        let mut events = Vec::new();
        for _ in 0..2_002 {
            events.push(fx.connect(5, "dev-000001"));
            events.push(fx.close(5, "closed"));
            fx.advance(-0.199);
        }
        let config = Config {
            storm_per_minute: 2_000,
            ..Config::default()
        };
        let found = run(rules::only("reconnect-storm"), config, &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].count, 2);
        assert!(
            found[0].message.contains("connected at least 2001 times"),
            "{}",
            found[0].message
        );
    }
}
