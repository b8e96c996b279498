//! `stale-etid`: a message to an ETID that is gone (or never was).

use std::collections::HashMap;

use crate::analyze::{ClientRef, Cx, Finding, MAX_CLIENTS, Rule, RuleInfo, Severity, Sink};
use crate::trace::schema::{DestType, Event, Kind};

pub static INFO: RuleInfo = RuleInfo {
    name: "stale-etid",
    severity: Severity::Error,
    summary: "a message to an ETID that is gone: who held it, when it closed, who keeps sending",
    explain: "\
What: a client (or the server) sent a message to a TID the broker does not
know: no topic has it and no connected client holds it. When a client that
closed in this trace held it, the finding names that client's UID and when it
closed; otherwise it says that no client held it in this trace (a TID nobody
created, or an ETID of a client that closed before the trace started). It
names everyone who keeps sending to it.

Why it breaks apps: an ETID (ephemeral topic ID) belongs to one connection.
When the client closes, its ETID is dead; when it reconnects it gets a new
one. A peer or device table keyed by an old ETID keeps sending commands into
nothing: the broker drops them, the device never acts, and nobody is told.
The guide's pitfall: \"reusing an old peer/device list after reconnect even
though ephemeral TIDs may have changed\".

Fix: remove a peer's entry when it closes (the broker's onclose, or
observe(ptid) in a client), and look peers up again by UID (or repeat
discovery) after they reconnect. Never store an ETID across connections.

Example: the server keeps `devices[\"dev-000001\"] = 0x5a3c0f21` after
dev-000001 closed at 10:02:03 and reconnected as 0x7e01aa10: \"server sent to
etid 1514934049 (0x5a3c0f21), which dev-000001 held until it closed at
10:02:03\".",
    brokers: "Every source: the embedded broker's and the Mako hook's `drop` to a \
destination of type `unknown` (\"unknown tid\"). Who held an ETID is known only \
for closes inside the trace: a trace that attached late (snapshot) says so.",
};

/// ETIDs whose senders are remembered.
const MAX_TRACKED: usize = 10_000;

#[derive(Default)]
pub struct StaleEtid {
    /// Per dead TID: everyone who sent to it.
    senders: HashMap<u32, Vec<ClientRef>>,
}

impl Rule for StaleEtid {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, cx: &Cx, ev: &Event, out: &mut Sink) {
        if ev.kind != Kind::Drop {
            return;
        }
        let Some(to) = ev.to.as_ref().filter(|d| d.kind == DestType::Unknown) else {
            return;
        };
        let tid = to.tid;
        let sender = ev.from.as_ref().map(ClientRef::of);
        if self.senders.len() < MAX_TRACKED || self.senders.contains_key(&tid) {
            let list = self.senders.entry(tid).or_default();
            if let Some(c) = &sender
                && !list.contains(c)
                && list.len() < MAX_CLIENTS
            {
                list.push(c.clone());
            }
        }
        let names: Vec<String> = self
            .senders
            .get(&tid)
            .map(|l| l.iter().map(ClientRef::label).collect())
            .unwrap_or_default();
        let by = if names.is_empty() {
            sender
                .as_ref()
                .map(ClientRef::label)
                .unwrap_or_else(|| "a client".into())
        } else {
            names.join(", ")
        };
        let target = format!("etid {tid} ({tid:#010x})");
        let (message, fix) = match cx.world.closed.get(&tid) {
            Some(c) => {
                let holder = c.uid.as_deref().unwrap_or("a client without a UID");
                let why = c
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                let now = c
                    .uid
                    .as_ref()
                    .and_then(|u| cx.world.uid_etid.get(u))
                    .map(|e| format!("; {holder} is connected again as etid {e}"))
                    .unwrap_or_default();
                (
                    format!(
                        "{by} sent to {target}, which {holder} held until it closed at {}{why}{now}",
                        c.closed_ts
                    ),
                    format!(
                        "forget {holder}'s ETID when it closes (onclose, or observe its ETID) and \
                         look it up again by UID after it reconnects"
                    ),
                )
            }
            None => {
                let late = if cx.world.attached_late {
                    " since the trace attached (a client that closed before may have held it)"
                } else {
                    " in this trace"
                };
                (
                    format!(
                        "{by} sent to {target}, which no client held{late} and no topic has: \
                         a TID nobody created, or an ETID from an earlier connection"
                    ),
                    "send only to ETIDs learned from a live peer (its ptid, or the broker's \
                     connection table) and drop them when the peer closes"
                        .to_string(),
                )
            }
        };
        let mut f = Finding::new(&INFO, tid.to_string(), ev)
            .message(message)
            .fix(fix);
        if let Some(c) = sender {
            f = f.client(c);
        }
        if let Some(s) = &ev.subtopic {
            f = f.subtopic(s.clone());
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};
    use crate::trace::schema::{Client, Snapshot};

    fn stale(fx: &mut Fx, from: u32, tid: u32) -> crate::trace::schema::Event {
        fx.drop(
            from,
            Fx::unknown(tid),
            Some("SetRelay"),
            "{}",
            "unknown tid",
        )
    }

    #[test]
    fn a_command_to_a_closed_device_names_its_uid_close_time_and_senders() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(9, "dev-000001"),
            fx.close(9, "peer closed"),
            fx.connect(10, "dev-000001"),
            fx.connect(5, "browser-1"),
            stale(&mut fx, 1, 9),
            stale(&mut fx, 5, 9),
            stale(&mut fx, 1, 9),
        ];
        let found = run(rules::only("stale-etid"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.count, 3);
        let m = &f.message;
        assert!(m.contains("dev-000001 held until it closed at"), "{m}");
        assert!(m.contains(&events[1].ts), "the close time: {m}");
        assert!(m.contains("(peer closed)"), "{m}");
        assert!(m.contains("connected again as etid 10"), "{m}");
        assert!(m.starts_with("etid 1, browser-1 (etid 5)"), "{m}");
        assert_eq!(f.clients.len(), 2);
        assert_eq!(f.subtopic.as_deref(), Some("SetRelay"));
        assert_eq!(f.first_ts, events[4].ts);
        assert_eq!(f.last_ts, events[6].ts);
    }

    #[test]
    fn a_tid_no_client_ever_held_is_still_a_stale_destination() {
        let mut fx = Fx::new();
        let events = [fx.connect(5, "demo-device"), stale(&mut fx, 5, 0x0bad_0001)];
        let found = run(rules::only("stale-etid"), Config::default(), &events);
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(m.contains("etid 195887105 (0x0bad0001)"), "{m}");
        assert!(m.contains("no client held in this trace"), "{m}");
    }

    #[test]
    fn a_trace_that_attached_late_does_not_claim_the_etid_never_existed() {
        let mut fx = Fx::new();
        let snap = Snapshot {
            server_etid: Some(1),
            clients: vec![Client {
                etid: 5,
                uid: Some("browser-1".into()),
                ..Client::default()
            }],
            ..Snapshot::default()
        };
        let events = [fx.snapshot(snap), stale(&mut fx, 5, 77)];
        let found = run(rules::only("stale-etid"), Config::default(), &events);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("since the trace attached"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_message_to_a_live_client_or_a_topic_is_not_stale() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(9, "dev-000001"),
            fx.close(9, "closed"),
            // The ETID came back: a takeover or a new connection holds it.
            fx.connect(9, "dev-000001"),
            fx.direct(1, 9, Some("SetRelay"), "{}"),
            fx.drop(1, Fx::topic(100, "Nobody"), None, "{}", "no subscribers"),
        ];
        assert!(run(rules::only("stale-etid"), Config::default(), &events).is_empty());
    }

    #[test]
    fn its_senders_table_stops_growing_at_its_cap() {
        use super::{MAX_TRACKED, StaleEtid};
        use crate::analyze::MAX_CLIENTS;
        let mut fx = Fx::new();
        let mut rule = StaleEtid::default();
        rules::observe_all(
            &mut rule,
            (0..=MAX_TRACKED as u32).map(|i| stale(&mut fx, 5, 1000 + i)),
        );
        assert_eq!(rule.senders.len(), MAX_TRACKED);
        let found = rules::observe_all(
            &mut rule,
            (0..=MAX_CLIENTS as u32).map(|i| stale(&mut fx, 50 + i, 1000)),
        );
        assert_eq!(rule.senders[&1000].len(), MAX_CLIENTS, "5, then 15 more");
        assert_eq!(
            found.len(),
            MAX_CLIENTS + 1,
            "every message is still reported"
        );
        // Past the cap a new TID is reported with its own sender.
        let found = rules::observe_all(&mut rule, [stale(&mut fx, 7, 99)]);
        assert!(
            found[0].message.starts_with("etid 7 sent"),
            "{}",
            found[0].message
        );
    }
}
