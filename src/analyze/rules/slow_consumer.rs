//! `slow-consumer`: messages dropped because a receiver's queue was full.

use std::collections::HashMap;

use crate::analyze::{ClientRef, Cx, Finding, Rule, RuleInfo, Severity, Sink};
use crate::trace::schema::{DestType, Event};

pub static INFO: RuleInfo = RuleInfo {
    name: "slow-consumer",
    severity: Severity::Error,
    summary: "messages dropped because a receiver's queue was full",
    explain: "\
What: the broker dropped messages for a receiver because that receiver's send
queue was full: it did not read as fast as messages came for it. The finding
names the receiver, how many messages it missed, and what they were (topic,
publisher) in the evidence. The other receivers of the same messages had them.

Why it breaks apps: the broker cannot wait for one slow client without
holding up everyone, so it drops that client's copy, and says so only in its
log: the client misses state changes and commands and never knows. A client
that blocks in its message callback (a synchronous database or HTTP call, a
long computation), a device on a slow link subscribed to a busy topic, or
bulk payloads are the usual causes.

Fix: keep the receiver's callbacks short (hand work to a queue or another
task); subscribe it only to what it needs; send it less, or smaller messages
(move bulk data to HTTP/REST); on Mako, raise the socket queue size if bursts
are short and rare.

Example: a dashboard that writes each `DeviceState` to a database inside its
callback: \"dashboard-1 (etid 12) missed 240 message(s): its send queue was
full\".",
    brokers: "Every source that reports the miss: the Mako hook (a `drop` per \
receiver, from the hub's \"socket queue full\" log line) and the embedded broker \
(the same `drop` per receiver). Embedded-broker traces recorded before it sent \
those only have the message's \"no subscriber could take it (queue full or \
closing)\", which does not say who, and are not reported.",
};

/// Receivers whose misses are counted.
const MAX_RECEIVERS: usize = 10_000;

#[derive(Default)]
pub struct SlowConsumer {
    missed: HashMap<String, u64>,
}

impl Rule for SlowConsumer {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, _cx: &Cx, ev: &Event, out: &mut Sink) {
        let Some((uid, etid)) = ev.missed_by() else {
            return;
        };
        let receiver = ClientRef { uid, etid };
        let key = receiver
            .uid
            .clone()
            .unwrap_or_else(|| format!("etid {etid}"));
        if self.missed.len() >= MAX_RECEIVERS && !self.missed.contains_key(&key) {
            return;
        }
        let n = self.missed.entry(key.clone()).or_insert(0);
        *n += 1;
        let what = match &ev.to {
            Some(d) if d.kind == DestType::Topic => {
                format!(" (latest: a message to `{}`)", d.label())
            }
            Some(d) if d.kind == DestType::Client && d.tid == etid => {
                " (latest: a direct message)".to_string()
            }
            _ => String::new(),
        };
        let mut f = Finding::new(&INFO, key, ev)
            .message(format!(
                "{} missed {n} message(s): its send queue was full, it did not keep up{what}",
                receiver.label()
            ))
            .fix(
                "keep the receiver's callbacks short (hand work to a queue), subscribe it only \
                 to what it needs, send it less or smaller messages",
            )
            .client(receiver);
        if let Some(p) = &ev.from {
            f = f.client(ClientRef::of(p));
        }
        if let Some(d) = &ev.to
            && d.kind == DestType::Topic
            && let Some(name) = &d.name
        {
            f = f.topic(name.clone());
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
    use crate::trace::schema::{Dest, DestType, queue_full_reason};

    #[test]
    fn misses_of_one_receiver_are_one_finding_naming_it_and_counting() {
        let mut fx = Fx::new();
        let miss = queue_full_reason(Some("dashboard-1"), 12);
        let events = [
            fx.connect(12, "dashboard-1"),
            fx.subscribe(12, 100, "DeviceState"),
            fx.connect(5, "dev-000001"),
            fx.publish(5, 100, "DeviceState", None, "{}"),
            fx.drop(5, Fx::topic(100, "DeviceState"), None, "{}", &miss),
            fx.publish(5, 100, "DeviceState", None, "{}"),
            fx.drop(5, Fx::topic(100, "DeviceState"), None, "{}", &miss),
        ];
        let found = run(rules::only("slow-consumer"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.count, 2);
        assert_eq!(
            f.message,
            "dashboard-1 (etid 12) missed 2 message(s): its send queue was full, it did not \
             keep up (latest: a message to `DeviceState`)"
        );
        assert_eq!(f.clients[0].uid.as_deref(), Some("dashboard-1"));
        assert_eq!(f.clients[1].uid.as_deref(), Some("dev-000001"));
        assert_eq!(f.topic.as_deref(), Some("DeviceState"));
    }

    #[test]
    fn the_mako_hooks_miss_outside_a_publish_names_the_receiver_too() {
        let mut fx = Fx::new();
        let to = Dest {
            tid: 12,
            kind: DestType::Client,
            name: None,
            uid: Some("dev-7".into()),
        };
        let mut e = fx.drop(
            1,
            to,
            None,
            "x",
            "socket queue full: dev-7 (etid 12) did not keep up",
        );
        e.from = None;
        let found = run(rules::only("slow-consumer"), Config::default(), &[e]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.ends_with("(latest: a direct message)"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn receivers_without_a_uid_are_told_apart_by_etid_with_the_subtopic() {
        let mut fx = Fx::new();
        let events = [
            fx.drop(
                5,
                Fx::topic(100, "T"),
                Some("Tick"),
                "{}",
                &queue_full_reason(None, 12),
            ),
            fx.drop(
                5,
                Fx::topic(100, "T"),
                Some("Tick"),
                "{}",
                &queue_full_reason(None, 13),
            ),
            fx.drop(
                5,
                Fx::topic(100, "T"),
                Some("Tick"),
                "{}",
                &queue_full_reason(None, 13),
            ),
        ];
        let found = run(rules::only("slow-consumer"), Config::default(), &events);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!((found[0].count, found[1].count), (1, 2));
        assert!(
            found[1].message.starts_with("etid 13 missed 2 message(s)"),
            "{}",
            found[1].message
        );
        assert_eq!(found[0].subtopic.as_deref(), Some("Tick"));
        assert_eq!(found[0].clients[0].uid, None);
    }

    #[test]
    fn a_message_drop_for_other_reasons_is_not_a_slow_consumer() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "dev-000001"),
            fx.drop(5, Fx::topic(100, "T"), None, "{}", "no subscribers"),
            // Ambiguous (closing, or a full queue of whom?): not reported.
            fx.drop(
                5,
                Fx::topic(100, "T"),
                None,
                "{}",
                "no subscriber could take it (queue full or closing)",
            ),
            fx.drop(5, Fx::unknown(9), None, "{}", "unknown tid"),
        ];
        assert!(run(rules::only("slow-consumer"), Config::default(), &events).is_empty());
    }

    #[test]
    fn its_table_stops_growing_at_its_cap() {
        use super::{MAX_RECEIVERS, SlowConsumer};
        let mut fx = Fx::new();
        let mut rule = SlowConsumer::default();
        let misses: Vec<_> = (0..=MAX_RECEIVERS as u32)
            .map(|i| fx.drop(5, Fx::topic(1, "T"), None, "x", &queue_full_reason(None, i)))
            .collect();
        let found = rules::observe_all(&mut rule, misses);
        assert_eq!(
            (rule.missed.len(), found.len()),
            (MAX_RECEIVERS, MAX_RECEIVERS)
        );
        let again = fx.drop(5, Fx::topic(1, "T"), None, "x", &queue_full_reason(None, 0));
        let found = rules::observe_all(&mut rule, [again]);
        assert!(
            found[0].message.contains("missed 2 message(s)"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_miss_whose_destination_is_not_the_receiver_says_no_latest() {
        let mut fx = Fx::new();
        let other = Dest {
            tid: 99,
            kind: DestType::Client,
            name: None,
            uid: None,
        };
        let events = [
            fx.drop(5, other, None, "x", &queue_full_reason(Some("dev-7"), 12)),
            fx.drop(
                5,
                Fx::unknown(12),
                None,
                "x",
                &queue_full_reason(Some("dev-8"), 13),
            ),
        ];
        let found = run(rules::only("slow-consumer"), Config::default(), &events);
        assert_eq!(found.len(), 2);
        for f in &found {
            assert!(f.message.ends_with("it did not keep up"), "{}", f.message);
            assert_eq!(f.topic, None);
        }
    }
}
