//! `no-subscribers`: publishes to a topic nobody subscribes to, with "did you
//! mean" for the topics with subscribers whose names are close.

use std::collections::{HashMap, HashSet};

use crate::analyze::{
    ClientRef, Cx, Finding, MAX_CLIENTS, MAX_EVIDENCE, MAX_TOPICS, Rule, RuleInfo, Severity, Sink,
    trim,
};
use crate::trace::schema::{DestType, Event, Kind};

pub static INFO: RuleInfo = RuleInfo {
    name: "no-subscribers",
    severity: Severity::Warning,
    summary: "publishes to a topic nobody subscribes to, with \"did you mean\" for close names",
    explain: "\
What: the broker dropped messages published to a topic because nobody
subscribed to it. When a topic that has subscribers has a name within edit
distance 2 of it (`DeviceStat` and `DeviceState`), or differs only in case
(`devicestate`), the finding names it: \"did you mean `DeviceState`?\".

When it fires: at once when a close name exists (a typo is the likely cause).
Otherwise only at the end of the input, and only for a topic that had no
subscriber at any time in the trace: a publish before the first subscriber
came (start-up order: a device publishing before any browser is open), or
after the last one left, is how broadcast topics work and is not a finding.
In live mode such a topic is reported with the summary.

Why it breaks apps: SMQ topics are created on first use, so a misspelt topic
name is never an error: the publisher's messages silently go nowhere and the
subscribers of the real topic wait forever. The guide's advice, \"do not ignore
ondrop, it often reveals missing subscriptions\", is this rule.

Fix: use one constant for each topic name on both sides (publisher and
subscriber), or subscribe where the topic is consumed. If the topic is meant to
be consumed later, nothing needs fixing: allow the rule (--allow
no-subscribers).

Example: a device publishes its state to `DeviceStat` while the browsers
subscribe to `DeviceState`: \"dev-000001 published to `DeviceStat`, which
nobody subscribes to; did you mean `DeviceState`?\"",
    brokers: "Every source: the embedded broker's and the Mako hook's `drop` with \
reason \"no subscribers\". The Mako hook cannot see unsubscribe, so its suggestions \
may name a topic whose subscribers have left; a topic listed in an attach snapshot \
with subscribers counts as subscribed.",
};

/// Topics remembered with drops waiting for the end of the input.
const MAX_PENDING: usize = 10_000;
/// Names suggested in one finding.
const MAX_SUGGESTIONS: usize = 3;

/// Drops to one topic, held until the end of the input.
struct Pending {
    first: Event,
    last_ts: String,
    count: u64,
    publishers: Vec<ClientRef>,
    evidence: Vec<Event>,
}

#[derive(Default)]
pub struct NoSubscribers {
    /// Topic TIDs that had a subscriber at some time in the trace.
    subscribed: HashSet<u32>,
    /// Bumped when `subscribed` grows: cached suggestions are then stale.
    generation: u64,
    /// Suggestions per topic TID, with the generation they were made in.
    suggestions: HashMap<u32, (u64, Vec<String>)>,
    pending: HashMap<u32, Pending>,
}

/// Whether `b` is a name a user meant when typing `a`: the same but for case,
/// or within edit distance 2 (and fewer edits than the shorter name has
/// characters, so `ab` does not suggest `cd`).
pub(crate) fn close(a: &str, b: &str) -> Option<usize> {
    if a == b {
        return None;
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    if la.abs_diff(lb) > 2 {
        return None; // more than 2 edits (and not the same but for case)
    }
    if a.to_lowercase() == b.to_lowercase() {
        return Some(0);
    }
    let d = strsim::levenshtein(a, b);
    let shorter = la.min(lb);
    (d <= 2 && d < shorter).then_some(d)
}

impl NoSubscribers {
    fn mark_subscribed(&mut self, tid: u32) {
        if self.subscribed.len() < MAX_TOPICS && self.subscribed.insert(tid) {
            self.generation += 1;
        }
        self.pending.remove(&tid);
    }

    fn suggest(&mut self, cx: &Cx, tid: u32, name: &str) -> Vec<String> {
        if let Some((g, s)) = self.suggestions.get(&tid)
            && *g == self.generation
        {
            return s.clone();
        }
        let mut near: Vec<(usize, &str)> = self
            .subscribed
            .iter()
            .filter_map(|t| cx.world.topic_name(*t))
            .filter_map(|n| close(name, n).map(|d| (d, n)))
            .collect();
        near.sort_unstable();
        near.dedup();
        let s: Vec<String> = near
            .into_iter()
            .take(MAX_SUGGESTIONS)
            .map(|(_, n)| n.to_string())
            .collect();
        if self.suggestions.len() < MAX_PENDING || self.suggestions.contains_key(&tid) {
            self.suggestions.insert(tid, (self.generation, s.clone()));
        }
        s
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

fn who(ev: &Event) -> String {
    ev.from
        .as_ref()
        .map(|c| ClientRef::of(c).label())
        .unwrap_or_else(|| "a client".into())
}

impl Rule for NoSubscribers {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, cx: &Cx, ev: &Event, out: &mut Sink) {
        match ev.kind {
            Kind::Subscribe => {
                if let Some(to) = &ev.to {
                    self.mark_subscribed(to.tid);
                }
            }
            Kind::Snapshot => {
                let busy: Vec<u32> = ev
                    .snapshot
                    .iter()
                    .flat_map(|s| &s.topics)
                    .filter(|t| t.subscribers.is_some_and(|n| n > 0))
                    .map(|t| t.tid)
                    .collect();
                for tid in busy {
                    self.mark_subscribed(tid);
                }
            }
            Kind::Drop if ev.reason.as_deref() == Some("no subscribers") => {
                let Some(to) = ev.to.as_ref().filter(|d| d.kind == DestType::Topic) else {
                    return;
                };
                if self.subscribed.contains(&to.tid) {
                    return; // its subscribers left: how broadcast topics work
                }
                let name = to.name.clone().unwrap_or_else(|| to.label());
                let near = self.suggest(cx, to.tid, &name);
                if near.is_empty() {
                    if self.pending.len() >= MAX_PENDING && !self.pending.contains_key(&to.tid) {
                        return;
                    }
                    let p = self.pending.entry(to.tid).or_insert_with(|| Pending {
                        first: trim(ev),
                        last_ts: ev.ts.clone(),
                        count: 0,
                        publishers: Vec::new(),
                        evidence: Vec::new(),
                    });
                    p.count += 1;
                    p.last_ts = ev.ts.clone();
                    if let Some(c) = ev.from.as_ref().map(ClientRef::of)
                        && !p.publishers.contains(&c)
                        && p.publishers.len() < MAX_CLIENTS
                    {
                        p.publishers.push(c);
                    }
                    if p.evidence.len() < MAX_EVIDENCE {
                        p.evidence.push(trim(ev));
                    }
                    return;
                }
                let mut f = Finding::new(&INFO, name.clone(), ev)
                    .message(format!(
                        "{} published to `{name}`, which nobody subscribes to; did you mean {}?",
                        who(ev),
                        quoted(&near)
                    ))
                    .fix(format!(
                        "publish to {} (the topic the subscribers use): one constant for the \
                         topic name on both sides",
                        quoted(&near)
                    ))
                    .topic(name);
                if let Some(c) = ev.from.as_ref() {
                    f = f.client(ClientRef::of(c));
                }
                if let Some(s) = &ev.subtopic {
                    f = f.subtopic(s.clone());
                }
                // Drops held before a close name had subscribers join it.
                if let Some(p) = self.pending.remove(&to.tid) {
                    f.count += p.count;
                    f.first_ts = p.first.ts.clone();
                    let mut evidence = p.evidence;
                    evidence.extend(f.evidence);
                    evidence.truncate(MAX_EVIDENCE);
                    f.evidence = evidence;
                    for c in p.publishers {
                        f = f.client(c);
                    }
                }
                out.push(f);
            }
            _ => {}
        }
    }

    fn finish(&mut self, cx: &Cx, out: &mut Sink) {
        let mut left: Vec<(u32, Pending)> = self.pending.drain().collect();
        left.sort_by_key(|(_, p)| p.first.ts.clone());
        for (tid, p) in left {
            let name = cx
                .world
                .topic_name(tid)
                .map(str::to_string)
                .or_else(|| p.first.to.as_ref().and_then(|d| d.name.clone()))
                .unwrap_or_else(|| format!("#{tid}"));
            let names: Vec<String> = p.publishers.iter().map(ClientRef::label).collect();
            let by = if names.is_empty() {
                "a client".to_string()
            } else {
                names.join(", ")
            };
            let mut f = Finding::new(&INFO, name.clone(), &p.first)
                .message(format!(
                    "{by} published {} message(s) to `{name}`, which nobody subscribed to at \
                     any time in the trace",
                    p.count
                ))
                .fix(format!(
                    "subscribe to `{name}` where it is consumed, check the name against the \
                     subscribers' topics, or stop publishing it"
                ))
                .topic(name);
            f.count = p.count;
            f.last_ts = p.last_ts;
            f.evidence = p.evidence;
            f.clients = p.publishers;
            if let Some(s) = &p.first.subtopic {
                f = f.subtopic(s.clone());
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::close;
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};
    use crate::trace::schema::{Snapshot, TopicInfo};

    fn no_subs(fx: &mut Fx, from: u32, tid: u32, topic: &str) -> crate::trace::schema::Event {
        fx.drop(from, Fx::topic(tid, topic), None, "{}", "no subscribers")
    }

    #[test]
    fn a_typo_of_a_subscribed_topic_says_did_you_mean_at_once() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "browser-1"),
            fx.subscribe(5, 100, "DeviceState"),
            fx.connect(6, "dev-000001"),
            no_subs(&mut fx, 6, 101, "DeviceStat"),
            no_subs(&mut fx, 6, 101, "DeviceStat"),
        ];
        let found = run(rules::only("no-subscribers"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.count, 2);
        assert_eq!(f.topic.as_deref(), Some("DeviceStat"));
        assert!(
            f.message.contains("did you mean `DeviceState`?"),
            "{}",
            f.message
        );
        assert!(
            f.message.starts_with("dev-000001 (etid 6)"),
            "{}",
            f.message
        );
        assert_eq!(f.clients[0].uid.as_deref(), Some("dev-000001"));
        assert_eq!(f.evidence.len(), 2);
    }

    #[test]
    fn drops_held_before_a_close_name_got_subscribers_join_the_typo_finding() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(6, "dev-000001"),
            no_subs(&mut fx, 6, 101, "DeviceStat"),
            fx.connect(5, "browser-1"),
            fx.subscribe(5, 100, "DeviceState"),
            no_subs(&mut fx, 6, 101, "DeviceStat"),
        ];
        let found = run(rules::only("no-subscribers"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.count, 2);
        assert_eq!(f.first_ts, events[1].ts);
        assert_eq!(f.evidence, vec![events[1].clone(), events[4].clone()]);
        assert!(
            f.message.contains("did you mean `DeviceState`?"),
            "{}",
            f.message
        );
        assert_eq!(f.clients.len(), 1);
    }

    #[test]
    fn at_most_three_close_names_are_suggested_closest_first() {
        let mut fx = Fx::new();
        let mut events = vec![fx.connect(5, "browser-1")];
        for (tid, name) in [(100, "Tempo"), (101, "temp"), (102, "Temps"), (103, "Tamp")] {
            events.push(fx.subscribe(5, tid, name));
        }
        events.push(fx.connect(6, "dev-000001"));
        events.push(no_subs(&mut fx, 6, 110, "Temp"));
        let found = run(rules::only("no-subscribers"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0]
                .message
                .ends_with("did you mean `temp` or `Tamp` or `Tempo`?"),
            "case first, then by distance and name: {}",
            found[0].message
        );
        assert!(
            found[0]
                .fix
                .starts_with("publish to `temp` or `Tamp` or `Tempo`")
        );
    }

    #[test]
    fn topics_reported_at_the_end_come_in_the_order_of_their_first_drop_with_their_subtopic() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(6, "dev-000001"),
            no_subs(&mut fx, 6, 120, "Zeta"),
            fx.drop(
                6,
                Fx::topic(121, "Alpha"),
                Some("Hot"),
                "{}",
                "no subscribers",
            ),
        ];
        let found = run(rules::only("no-subscribers"), Config::default(), &events);
        let topics: Vec<_> = found.iter().filter_map(|f| f.topic.as_deref()).collect();
        assert_eq!(topics, ["Zeta", "Alpha"]);
        assert_eq!(found[1].subtopic.as_deref(), Some("Hot"));
        assert_eq!(found[0].subtopic, None);
        assert!(found[0].fix.contains("`Zeta`"), "{}", found[0].fix);
    }

    #[test]
    fn a_drop_without_a_publisher_still_reads() {
        let mut fx = Fx::new();
        let mut e = no_subs(&mut fx, 6, 120, "Zeta");
        e.from = None;
        let found = run(rules::only("no-subscribers"), Config::default(), &[e]);
        assert!(
            found[0]
                .message
                .starts_with("a client published 1 message(s) to `Zeta`"),
            "{}",
            found[0].message
        );
        assert!(found[0].clients.is_empty());
    }

    #[test]
    fn a_topic_nobody_ever_subscribed_is_reported_at_the_end() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(6, "dev-000001"),
            no_subs(&mut fx, 6, 101, "Alerts/Overheat"),
            fx.connect(7, "dev-000002"),
            no_subs(&mut fx, 7, 101, "Alerts/Overheat"),
            no_subs(&mut fx, 7, 101, "Alerts/Overheat"),
        ];
        let found = run(rules::only("no-subscribers"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.count, 3);
        assert_eq!(f.first_ts, events[1].ts);
        assert_eq!(f.last_ts, events[4].ts);
        assert_eq!(f.clients.len(), 2);
        assert_eq!(f.evidence.len(), 3);
        assert!(!f.message.contains("did you mean"), "{}", f.message);
        assert!(f.message.contains("3 message(s)"), "{}", f.message);
    }

    #[test]
    fn a_publish_before_the_first_subscriber_or_after_the_last_left_is_not_a_finding() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(6, "dev-000001"),
            // Start-up order: the device is first, the browser comes later.
            no_subs(&mut fx, 6, 100, "DeviceState"),
            fx.connect(5, "browser-1"),
            fx.subscribe(5, 100, "DeviceState"),
            fx.publish(6, 100, "DeviceState", None, "{}"),
            fx.close(5, "closed"),
            // The browser left: nobody watches, nothing is wrong.
            no_subs(&mut fx, 6, 100, "DeviceState"),
        ];
        assert!(run(rules::only("no-subscribers"), Config::default(), &events).is_empty());
    }

    #[test]
    fn a_topic_subscribed_in_the_attach_snapshot_is_suggested_and_not_reported() {
        let mut fx = Fx::new();
        let snap = Snapshot {
            topics: vec![TopicInfo {
                tid: 100,
                name: "DeviceState".into(),
                subscribers: Some(2),
            }],
            ..Snapshot::default()
        };
        let events = [
            fx.snapshot(snap),
            fx.connect(6, "dev-000001"),
            no_subs(&mut fx, 6, 100, "DeviceState"),
            no_subs(&mut fx, 6, 102, "devicestate"),
        ];
        let found = run(rules::only("no-subscribers"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].topic.as_deref(), Some("devicestate"));
        assert!(found[0].message.contains("`DeviceState`"));
    }

    #[test]
    fn a_topic_the_attach_snapshot_lists_with_no_subscribers_is_not_subscribed() {
        // Kills `no_subscribers.rs:158:65` `n > 0` as `n >= 0`: a topic the
        // snapshot lists with 0 subscribers was taken as subscribed, so its
        // drops were never reported and a close name suggested it.
        let mut fx = Fx::new();
        let snap = Snapshot {
            topics: vec![
                TopicInfo {
                    tid: 100,
                    name: "DeviceState".into(),
                    subscribers: Some(0),
                },
                TopicInfo {
                    tid: 101,
                    name: "Alarm".into(),
                    subscribers: Some(1),
                },
            ],
            ..Snapshot::default()
        };
        let events = [
            fx.snapshot(snap),
            fx.connect(6, "dev-000001"),
            no_subs(&mut fx, 6, 100, "DeviceState"),
            no_subs(&mut fx, 6, 102, "devicestate"),
            no_subs(&mut fx, 6, 101, "Alarm"),
        ];
        let found = run(rules::only("no-subscribers"), Config::default(), &events);
        let topics: Vec<_> = found.iter().filter_map(|f| f.topic.as_deref()).collect();
        assert_eq!(topics, ["DeviceState", "devicestate"], "{found:#?}");
        for f in &found {
            assert!(
                f.message.contains("nobody subscribed to at any time"),
                "{}",
                f.message
            );
        }
    }

    #[test]
    fn other_drops_are_not_this_rule() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(6, "dev-000001"),
            fx.drop(6, Fx::unknown(7), None, "x", "unknown tid"),
            fx.drop(6, Fx::topic(3, "T"), None, "x", "server has no handler"),
        ];
        assert!(run(rules::only("no-subscribers"), Config::default(), &events).is_empty());
    }

    #[test]
    fn close_names_are_case_only_or_two_edits_but_not_short_unrelated_ones() {
        assert_eq!(close("DeviceStat", "DeviceState"), Some(1));
        assert_eq!(close("devicestate", "DeviceState"), Some(0));
        assert_eq!(close("DevStat", "DeviceState"), None);
        assert_eq!(close("DeviceSt", "DeviceState"), None, "three edits");
        assert_eq!(close("ab", "cd"), None, "as many edits as characters");
        assert_eq!(close("ab", "ac"), Some(1));
        assert_eq!(close("ab", "ab"), None, "itself");
        assert_eq!(close("Tmp", "Temp"), Some(1));
        assert_eq!(close("Temperature", "TEMPERATURE"), Some(0));
        assert_eq!(close("Dev", "Device"), None, "three characters more");
        assert_eq!(close("Temp", "Temp12"), Some(2), "two characters more");
    }

    #[test]
    fn its_tables_stop_growing_at_their_caps() {
        use super::{MAX_PENDING, NoSubscribers};
        use crate::analyze::{MAX_CLIENTS, MAX_EVIDENCE, MAX_TOPICS};
        let mut fx = Fx::new();
        let mut rule = NoSubscribers::default();
        let base = 1_000_000;
        let drops = (0..=MAX_PENDING as u32).map(|i| no_subs(&mut fx, 6, base + i, "U"));
        rules::observe_all(&mut rule, drops);
        assert_eq!(rule.pending.len(), MAX_PENDING);
        assert_eq!(rule.suggestions.len(), MAX_PENDING);
        let subs = (0..=MAX_TOPICS as u32).map(|i| fx.subscribe(5, i, "T"));
        rules::observe_all(&mut rule, subs);
        assert_eq!(rule.subscribed.len(), MAX_TOPICS);
        // A topic already held still counts, from every publisher up to the cap.
        let again = (0..=MAX_CLIENTS as u32).map(|i| {
            fx.connect(100 + i, &format!("dev-{i:06}"));
            no_subs(&mut fx, 100 + i, base, "U")
        });
        rules::observe_all(&mut rule, again);
        let p = &rule.pending[&base];
        assert_eq!(p.count, MAX_CLIENTS as u64 + 2);
        assert_eq!(p.publishers.len(), MAX_CLIENTS);
        assert_eq!(p.evidence.len(), MAX_EVIDENCE);
    }
}
