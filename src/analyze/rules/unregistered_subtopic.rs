//! `unregistered-subtopic`: a direct message on a sub-topic the receiving
//! client never registered (on sources that report every registration).

use std::collections::{HashMap, HashSet};

use crate::analyze::{ClientRef, Cx, Finding, MAX_TOPICS, Rule, RuleInfo, Severity, Sink};
use crate::trace::schema::{DestType, Event, Kind};

pub static INFO: RuleInfo = RuleInfo {
    name: "unregistered-subtopic",
    severity: Severity::Warning,
    summary: "a direct message on a sub-topic the receiving client never registered",
    explain: "\
What: a direct message reached a client's ETID with a sub-topic that client
never registered (no `createsub` of it by that client, in this session or an
earlier one of the same UID), while the client did register other sub-topics,
so it dispatches direct messages by sub-topic.

Why it breaks apps: a client's `self` handlers are per sub-topic
(subscribe(\"self\", \"SetCharger\", …)). A direct message whose sub-topic has no
handler is dropped by the client library, or goes to a global handler the app
rarely has; the broker counts it as delivered, so nothing anywhere says it was
lost. Usually a typo (`SetChargr`), a renamed message, or a handler the client
installs only later.

Fix: send sub-topics the receiver registers, named in one shared place; or
register the handler (subscribe \"self\" with that sub-topic) before the
readiness barrier.

Example: the operator sends `SetChargr` to charger-00001, which registered
only `SetCharger`: fix the name on the sending side.",
    brokers: "Only sources that report every `createsub`. The Mako hook reports a \
`createsub` only when the sub-topic name is new to the broker, so there a client's \
registration of a name the server already uses is invisible. The rule therefore \
stays silent until the trace itself proves that its source reports every \
registration: a `createsub` of a sub-topic already known (from the snapshot or an \
earlier event), which Mako never sends. Candidates seen before that proof are held \
(up to 64) and reported once it comes; the embedded broker gives the proof as soon \
as two clients register the same name. Clients listed in a snapshot are not judged \
(their registrations came before the attach), nor clients that registered no \
sub-topic at all (they may take every direct message in one handler). Memory: \
the registrations of up to 10,000 UIDs, 64 sub-topics each (beyond that a client \
is not judged).",
};

/// Findings held until the source is known to report every registration.
const MAX_HELD: usize = 64;
/// UIDs whose registrations are remembered (later ones are not judged).
const MAX_UIDS: usize = 10_000;
/// Sub-topics remembered per UID (one with more is not judged).
const MAX_PER_UID: usize = 64;

#[derive(Default)]
pub struct UnregisteredSubtopic {
    /// The source reports every `createsub` (proven by a repeat).
    complete: bool,
    /// Sub-topic IDs seen so far (only until `complete`).
    seen: HashSet<u32>,
    /// UID (or `#etid`) → sub-topic IDs it registered, over its sessions.
    registered: HashMap<String, HashSet<u32>>,
    held: Vec<Finding>,
}

fn who(uid: Option<&str>, etid: u32) -> String {
    uid.map(str::to_string)
        .unwrap_or_else(|| format!("#{etid}"))
}

impl UnregisteredSubtopic {
    fn learn(&mut self, subtid: u32) {
        if !self.complete && self.seen.len() < MAX_TOPICS {
            self.seen.insert(subtid);
        }
    }
}

impl Rule for UnregisteredSubtopic {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, cx: &Cx, ev: &Event, out: &mut Sink) {
        if ev.kind == Kind::Snapshot {
            if let Some(s) = &ev.snapshot {
                for st in &s.subtopics {
                    self.learn(st.subtid);
                }
            }
            return;
        }
        let Some(subtid) = ev.subtid.filter(|s| *s != 0) else {
            return;
        };
        let Some(from) = &ev.from else { return };
        if ev.kind == Kind::Createsub {
            if !self.complete && self.seen.contains(&subtid) {
                self.complete = true;
                self.seen = HashSet::new();
                for f in std::mem::take(&mut self.held) {
                    out.push(f);
                }
            }
            self.learn(subtid);
            let key = who(from.uid.as_deref(), from.etid);
            if self.registered.len() < MAX_UIDS || self.registered.contains_key(&key) {
                let own = self.registered.entry(key).or_default();
                if own.len() < MAX_PER_UID {
                    own.insert(subtid);
                }
            }
            return;
        }
        self.learn(subtid);
        if ev.kind != Kind::Publish {
            return;
        }
        let Some(to) = ev.to.as_ref().filter(|d| d.kind == DestType::Client) else {
            return;
        };
        let Some(receiver) = cx.world.clients.get(&to.tid) else {
            return;
        };
        if receiver.from_snapshot {
            return;
        }
        let Some(own) = self
            .registered
            .get(&who(receiver.uid.as_deref(), to.tid))
            .filter(|r| !r.is_empty() && r.len() < MAX_PER_UID)
        else {
            return;
        };
        if own.contains(&subtid) {
            return;
        }
        let name = ev.subtopic.clone().unwrap_or_else(|| format!("#{subtid}"));
        let mut names: Vec<&str> = own
            .iter()
            .filter_map(|s| cx.world.subtopics.get(s).map(String::as_str))
            .collect();
        names.sort_unstable();
        let shown = names
            .iter()
            .take(5)
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let more = if names.len() > 5 { ", …" } else { "" };
        let rcv = ClientRef {
            uid: receiver.uid.clone(),
            etid: to.tid,
        };
        let f = Finding::new(&INFO, name.clone(), ev)
            .message(format!(
                "{} sent `{name}` to {}, which never registered `{name}` (it registered \
                 {shown}{more}): its client library drops the message silently",
                if from.server {
                    "the server".to_string()
                } else {
                    ClientRef::of(from).label()
                },
                rcv.label(),
            ))
            .fix(format!(
                "send a sub-topic the receiver registers, or register `{name}` on it \
                 (subscribe \"self\" with that sub-topic) before its readiness barrier"
            ))
            .client(rcv)
            .subtopic(name);
        let f = if from.server {
            f
        } else {
            f.client(ClientRef::of(from))
        };
        if self.complete {
            out.push(f);
        } else if self.held.len() < MAX_HELD {
            self.held.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, Finding, rules};
    use crate::trace::schema::{Event, Snapshot, SubtopicInfo};

    fn found(events: &[Event]) -> Vec<Finding> {
        run(
            rules::only("unregistered-subtopic"),
            Config::default(),
            events,
        )
    }

    #[test]
    fn a_typo_in_a_command_name_is_found_once_the_source_is_known_complete() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "charger-00001"),
            fx.connect(6, "charger-00002"),
            fx.connect(7, "operator-01"),
            fx.createsub(5, "SetCharger"),
            fx.createsub(7, "SetChargr"),
            fx.direct(7, 5, Some("SetChargr"), r#"{"On":true}"#),
            // The second registration of a known name: only a source that
            // reports every createsub sends it.
            fx.createsub(6, "SetCharger"),
            fx.direct(7, 6, Some("SetChargr"), r#"{"On":true}"#),
            fx.direct(7, 5, Some("SetCharger"), r#"{"On":true}"#),
        ];
        let found = found(&events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.subtopic.as_deref(), Some("SetChargr"));
        assert_eq!(f.count, 2);
        assert_eq!(f.first_ts, events[5].ts, "the held one keeps its time");
        let uids: Vec<_> = f.clients.iter().filter_map(|c| c.uid.as_deref()).collect();
        assert_eq!(uids, ["charger-00001", "operator-01", "charger-00002"]);
        assert!(
            f.message
                .contains("which never registered `SetChargr` (it registered `SetCharger`)"),
            "{}",
            f.message
        );
    }

    #[test]
    fn nothing_is_found_when_the_source_may_hide_registrations() {
        // The common false positive on Mako: charger-00002 registered
        // `SetCharger` after charger-00001 did, and Mako did not report it.
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "charger-00001"),
            fx.connect(6, "charger-00002"),
            fx.createsub(5, "SetCharger"),
            fx.createsub(6, "Reboot"),
            fx.direct(1, 6, Some("SetCharger"), "{}"),
        ];
        assert!(found(&events).is_empty());
    }

    #[test]
    fn a_snapshot_sub_topic_registered_again_proves_the_source_complete() {
        let mut fx = Fx::new();
        let snap = Snapshot {
            server_etid: Some(1),
            subtopics: vec![SubtopicInfo {
                subtid: fx.subtid("DeviceReady"),
                name: "DeviceReady".into(),
            }],
            ..Snapshot::default()
        };
        let events = [
            fx.snapshot(snap),
            fx.connect(5, "charger-00001"),
            fx.createsub(5, "DeviceReady"),
            fx.direct(1, 5, Some("SetCharger"), "{}"),
        ];
        let found = found(&events);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].clients.len(), 1, "the server is not named");
        assert!(found[0].message.starts_with("the server sent `SetCharger`"));
    }

    #[test]
    fn a_client_that_registered_nothing_or_came_from_the_snapshot_is_not_judged() {
        let mut fx = Fx::new();
        let snap = Snapshot {
            server_etid: Some(1),
            clients: vec![crate::trace::schema::Client {
                etid: 8,
                uid: Some("old-000001".into()),
                ..Default::default()
            }],
            ..Snapshot::default()
        };
        let events = [
            fx.snapshot(snap),
            fx.connect(5, "charger-00001"),
            fx.connect(6, "catchall-01"),
            fx.createsub(5, "SetCharger"),
            fx.createsub(5, "SetCharger"),
            // catchall-01 takes every direct message in one handler.
            fx.direct(1, 6, Some("Anything"), "{}"),
            fx.createsub(8, "Old"),
            fx.direct(1, 8, Some("Other"), "{}"),
            fx.direct(1, 5, Some("SetCharger"), "{}"),
        ];
        assert!(found(&events).is_empty(), "{:#?}", found(&events));
    }

    #[test]
    fn at_most_max_held_candidates_wait_for_the_proof() {
        let mut fx = Fx::new();
        let mut events = vec![
            fx.connect(5, "charger-00001"),
            fx.createsub(5, "SetCharger"),
        ];
        for i in 0..=super::MAX_HELD {
            events.push(fx.direct(1, 5, Some(&format!("Typo{i}")), "{}"));
        }
        events.push(fx.createsub(5, "SetCharger"));
        assert_eq!(found(&events).len(), super::MAX_HELD);
    }

    #[test]
    fn a_client_with_max_per_uid_registrations_is_not_judged() {
        for n in [
            super::MAX_PER_UID - 1,
            super::MAX_PER_UID,
            super::MAX_PER_UID + 1,
        ] {
            let mut fx = Fx::new();
            let mut events = vec![fx.connect(5, "charger-00001")];
            for i in 0..n {
                events.push(fx.createsub(5, &format!("Cmd{i}")));
            }
            events.push(fx.createsub(5, "Cmd0"));
            events.push(fx.direct(1, 5, Some("Typo"), "{}"));
            let got = found(&events).len();
            assert_eq!(
                got,
                usize::from(n < super::MAX_PER_UID),
                "{n} registrations"
            );
        }
    }

    #[test]
    fn uids_past_the_cap_are_not_judged() {
        let mut fx = Fx::new();
        let mut events = Vec::new();
        for i in 0..=super::MAX_UIDS as u32 {
            events.push(fx.connect(10 + i, &format!("c-{i:06}")));
            events.push(fx.createsub(10 + i, "SetCharger"));
        }
        let last = 10 + super::MAX_UIDS as u32;
        events.push(fx.direct(1, last, Some("Typo"), "{}"));
        events.push(fx.direct(1, 10, Some("Typo2"), "{}"));
        // One already known registers more at the cap: still remembered.
        events.push(fx.createsub(11, "Other"));
        events.push(fx.direct(1, 11, Some("Other"), "{}"));
        let found = found(&events);
        let subs: Vec<_> = found.iter().filter_map(|f| f.subtopic.as_deref()).collect();
        assert_eq!(subs, ["Typo2"]);
    }

    #[test]
    fn sub_topics_seen_past_the_cap_are_not_taken_as_known() {
        use crate::analyze::{Analyzer, MAX_TOPICS};
        let mut fx = Fx::new();
        let mut a = Analyzer::with_rules(Config::default(), rules::only("unregistered-subtopic"));
        a.feed(&fx.connect(5, "charger-00001"));
        a.feed(&fx.createsub(5, "A"));
        for i in 0..MAX_TOPICS - 1 {
            a.feed(&fx.publish(5, 100, "T", Some(&format!("S{i}")), "{}"));
        }
        // Seen once the table is full: not remembered.
        a.feed(&fx.direct(1, 5, Some("Typo"), "{}"));
        a.feed(&fx.createsub(6, "Typo"));
        assert!(a.findings().is_empty(), "no proof from a name past the cap");
        a.feed(&fx.createsub(6, "S0"));
        assert_eq!(a.findings().len(), 1, "a name seen before the cap is proof");
    }

    #[test]
    fn the_message_names_five_registered_sub_topics_and_marks_more() {
        for (n, more) in [(5, false), (6, true)] {
            let mut fx = Fx::new();
            let mut events = vec![fx.connect(5, "charger-00001")];
            for i in 0..n {
                events.push(fx.createsub(5, &format!("Cmd{i}")));
            }
            events.push(fx.createsub(5, "Cmd0"));
            events.push(fx.direct(1, 5, Some("Typo"), "{}"));
            let found = found(&events);
            assert_eq!(found.len(), 1);
            let m = &found[0].message;
            assert!(m.contains("`Cmd0`, `Cmd1`, `Cmd2`, `Cmd3`, `Cmd4`"), "{m}");
            assert_eq!(m.contains(", …)"), more, "{n}: {m}");
            assert!(!m.contains("`Cmd5`"), "{m}");
        }
    }

    #[test]
    fn registrations_of_an_earlier_session_of_the_same_uid_count() {
        // A client library keeps its sub-topic IDs over a reconnect and does
        // not register them again.
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "charger-00001"),
            fx.createsub(5, "SetCharger"),
            fx.createsub(5, "SetCharger"),
            fx.close(5, "network"),
            fx.connect(9, "charger-00001"),
            fx.direct(1, 9, Some("SetCharger"), "{}"),
        ];
        assert!(found(&events).is_empty());
    }
}
