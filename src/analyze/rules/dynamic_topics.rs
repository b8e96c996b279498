//! `dynamic-topics`: many topics created by one client and used once each
//! (response topics per request instead of replying to `ptid`).

use std::collections::{HashMap, HashSet};

use crate::analyze::{
    ClientRef, Cx, Finding, MAX_EVIDENCE, MAX_TOPICS, Rule, RuleInfo, Severity, Sink, trim,
};
use crate::trace::schema::{DestType, Event, Kind};

pub static INFO: RuleInfo = RuleInfo {
    name: "dynamic-topics",
    severity: Severity::Warning,
    summary: "many topics created by one client and used once (response topics per request)",
    explain: "\
What: one client keeps creating new topics (Create or Subscribe of a topic
name not seen before in the trace), each of which then carries exactly one
message, more than --dynamic-topics times (default 20). Only topics created
after an earlier one of the same client already had its one message count:
that is the request/response rhythm (make a topic, get one answer, make the
next). A client that creates or subscribes to many topics at start-up and
hears one message on each is not reported, nor is a topic that carries a
second message.

Why it breaks apps: every topic is broker state (a name, a TID, subscriber
lists) that lives until the broker restarts; one new topic per request grows
it without end, costs a round trip per request before the request can even be
sent, and lets anyone who guesses the name read the reply. The guide's
pitfall: \"creating many dynamic response topics instead of replying to ptid\".

Fix: reply to the requester's ETID: the requester registers a `self`
sub-topic handler once (`FooResp`), sends `FooReq` to the server, and the
server answers with sendToPeer(ptid, \"FooResp\", data). Add a correlation id
to the payload when several requests can be in flight.

Example: a browser subscribes to `resp/8f3a…`, sends a request naming it,
gets one reply there, and does it again for every request: \"browser-1
created 21 topics that each carried one message (`resp/1`, `resp/2`, …)\".",
    brokers: "Every source. The Mako hook reports a create/subscribe on every call \
(a topic counts as new the first time the trace names it); topics listed in an \
attach snapshot are not new.",
};

/// Creators remembered.
const MAX_CREATORS: usize = 10_000;
/// Topic names shown in a finding.
const SAMPLES: usize = 3;

/// A topic first named in the trace by a client's Create or Subscribe.
struct Made {
    creator: String,
    name: String,
    /// Messages it carried (0, 1, or 2 meaning "more than one").
    uses: u8,
    /// Created after an earlier topic of the same creator had its one message.
    after_served: bool,
}

#[derive(Default)]
struct Creator {
    client: Option<ClientRef>,
    /// Its topics that carried exactly one message so far.
    served: u32,
    /// Of those, the ones created after an earlier one was served.
    one_shot: u32,
    samples: Vec<String>,
    evidence: Vec<Event>,
    first_ts: Option<String>,
}

#[derive(Default)]
pub struct DynamicTopics {
    /// Topic TIDs the trace has named so far.
    seen: HashSet<u32>,
    made: HashMap<u32, Made>,
    creators: HashMap<String, Creator>,
}

impl DynamicTopics {
    fn see(&mut self, tid: u32) -> bool {
        self.seen.len() < MAX_TOPICS && self.seen.insert(tid)
    }

    fn used(&mut self, cx: &Cx, tid: u32, ev: &Event, out: &mut Sink) {
        let Some(m) = self.made.get_mut(&tid) else {
            return;
        };
        if m.uses >= 2 {
            return;
        }
        m.uses += 1;
        let Some(c) = self.creators.get_mut(&m.creator) else {
            return;
        };
        if m.uses == 2 {
            // Used again: a real topic after all.
            c.served = c.served.saturating_sub(1);
            if m.after_served {
                c.one_shot = c.one_shot.saturating_sub(1);
            }
            return;
        }
        c.served += 1;
        if !m.after_served {
            return;
        }
        c.one_shot += 1;
        if c.samples.len() < SAMPLES {
            c.samples.push(m.name.clone());
        }
        if c.evidence.len() < MAX_EVIDENCE {
            c.evidence.push(trim(ev));
        }
        if c.first_ts.is_none() {
            c.first_ts = Some(ev.ts.clone());
        }
        if c.one_shot != cx.config.dynamic_topics.saturating_add(1) {
            return;
        }
        let who = c
            .client
            .as_ref()
            .map(ClientRef::label)
            .unwrap_or_else(|| m.creator.clone());
        let names: Vec<String> = c.samples.iter().map(|n| format!("`{n}`")).collect();
        let mut f = Finding::new(&INFO, m.creator.clone(), ev)
            .message(format!(
                "{who} created {} topics that each carried one message ({}, …), more than \
                 --dynamic-topics {}: response topics per request instead of replying to ptid?",
                c.one_shot,
                names.join(", "),
                cx.config.dynamic_topics
            ))
            .fix(
                "reply to the requester's ETID (sendToPeer(ptid, \"FooResp\", data), a `self` \
                 sub-topic handler registered once) instead of creating a topic per request",
            );
        if let Some(first) = &c.first_ts {
            f = f.since(first);
        }
        f.evidence = c.evidence.clone();
        if let Some(client) = &c.client {
            f = f.client(client.clone());
        }
        out.push(f);
    }
}

impl Rule for DynamicTopics {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, cx: &Cx, ev: &Event, out: &mut Sink) {
        if let Some(s) = &ev.snapshot {
            for t in &s.topics {
                self.see(t.tid);
            }
        }
        let Some(to) = ev.to.as_ref().filter(|d| d.kind == DestType::Topic) else {
            return;
        };
        match ev.kind {
            Kind::Create | Kind::Subscribe => {
                let Some(from) = ev.from.as_ref() else {
                    return;
                };
                // (`made` only holds seen TIDs: `seen`'s cap bounds it too.)
                if !self.see(to.tid) {
                    return;
                }
                let client = ClientRef::of(from);
                let key = client.uid.clone().unwrap_or_else(|| client.label());
                if self.creators.len() >= MAX_CREATORS && !self.creators.contains_key(&key) {
                    return;
                }
                let c = self.creators.entry(key.clone()).or_default();
                c.client.get_or_insert(client);
                let after_served = c.served > 0;
                self.made.insert(
                    to.tid,
                    Made {
                        creator: key,
                        name: to.name.clone().unwrap_or_else(|| to.label()),
                        uses: 0,
                        after_served,
                    },
                );
            }
            Kind::Publish | Kind::Drop if !ev.is_miss() => {
                self.see(to.tid);
                self.used(cx, to.tid, ev, out);
            }
            _ => {
                self.see(to.tid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};
    use crate::trace::schema::Event;

    fn config() -> Config {
        Config {
            dynamic_topics: 3,
            ..Config::default()
        }
    }

    /// `n` rounds of: browser-1 subscribes to a new response topic, the
    /// server publishes one reply there.
    fn per_request_topics(fx: &mut Fx, n: u32) -> Vec<Event> {
        let mut ev = vec![fx.connect(5, "browser-1")];
        for i in 0..n {
            let name = format!("resp/{i}");
            ev.push(fx.subscribe(5, 200 + i, &name));
            ev.push(fx.direct(5, 1, Some("ListReq"), &format!(r#"{{"reply":"{name}"}}"#)));
            ev.push(fx.publish(1, 200 + i, &name, None, "[]"));
        }
        ev
    }

    #[test]
    fn a_response_topic_per_request_is_found_past_the_threshold() {
        let mut fx = Fx::new();
        let events = per_request_topics(&mut fx, 6);
        let found = run(rules::only("dynamic-topics"), config(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        // resp/0 is the first one served; resp/1.. come after it: the 4th of
        // those (resp/4) is over the threshold of 3.
        assert!(
            f.message.starts_with(
                "browser-1 (etid 5) created 4 topics that each carried one message (`resp/1`, `resp/2`, `resp/3`, …)"
            ),
            "{}",
            f.message
        );
        assert_eq!(f.clients[0].uid.as_deref(), Some("browser-1"));
        assert_eq!(f.first_ts, events[6].ts, "the first one-shot reply");
        assert_eq!(f.last_ts, events[15].ts);
        assert_eq!(f.evidence.len(), 4);
    }

    #[test]
    fn a_one_shot_topic_used_again_no_longer_counts_and_misses_are_not_uses() {
        let mut fx = Fx::new();
        let mut events = per_request_topics(&mut fx, 3);
        // A receiver's miss of resp/1's message is not a second message.
        events.push(fx.drop(
            1,
            Fx::topic(201, "resp/1"),
            None,
            "[]",
            &crate::trace::schema::queue_full_reason(None, 9),
        ));
        // resp/1 carries a second message: a real topic after all.
        events.push(fx.publish(1, 201, "resp/1", None, "[]"));
        events.extend(per_request_topics(&mut fx, 5).into_iter().skip(10));
        // one-shot: resp/2, resp/3, resp/4 (resp/1 used twice): 3, not over 3.
        assert!(run(rules::only("dynamic-topics"), config(), &events).is_empty());
        let mut fx = Fx::new();
        let mut events = per_request_topics(&mut fx, 3);
        events.push(fx.drop(
            1,
            Fx::topic(201, "resp/1"),
            None,
            "[]",
            &crate::trace::schema::queue_full_reason(None, 9),
        ));
        events.extend(per_request_topics(&mut fx, 5).into_iter().skip(10));
        let found = run(rules::only("dynamic-topics"), config(), &events);
        assert_eq!(found.len(), 1, "the miss did not count: {found:#?}");
    }

    #[test]
    fn evidence_stops_at_five() {
        let mut fx = Fx::new();
        let events = per_request_topics(&mut fx, 9);
        let config = Config {
            dynamic_topics: 6,
            ..Config::default()
        };
        let found = run(rules::only("dynamic-topics"), config, &events);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].evidence.len(), crate::analyze::MAX_EVIDENCE);
        assert!(
            found[0].message.contains("created 7 topics"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn at_the_threshold_it_is_not_a_finding() {
        let mut fx = Fx::new();
        let events = per_request_topics(&mut fx, 4);
        assert!(run(rules::only("dynamic-topics"), config(), &events).is_empty());
    }

    #[test]
    fn many_topics_subscribed_at_start_up_with_one_message_each_are_not_dynamic() {
        let mut fx = Fx::new();
        let mut events = vec![fx.connect(5, "dashboard")];
        for i in 0..10 {
            events.push(fx.subscribe(5, 300 + i, &format!("Device/{i}/State")));
        }
        for i in 0..10 {
            events.push(fx.publish(1, 300 + i, &format!("Device/{i}/State"), None, "{}"));
        }
        assert!(run(rules::only("dynamic-topics"), config(), &events).is_empty());
    }

    #[test]
    fn new_topics_that_are_used_again_are_not_dynamic() {
        let mut fx = Fx::new();
        let mut events = vec![fx.connect(5, "browser-1")];
        for i in 0..6 {
            let name = format!("t/{i}");
            events.push(fx.subscribe(5, 200 + i, &name));
            events.push(fx.publish(1, 200 + i, &name, None, "1"));
            events.push(fx.publish(1, 200 + i, &name, None, "2"));
        }
        assert!(run(rules::only("dynamic-topics"), config(), &events).is_empty());
    }

    #[test]
    fn topics_the_attach_snapshot_listed_are_not_new() {
        let mut fx = Fx::new();
        let snap = crate::trace::schema::Snapshot {
            topics: (0..6)
                .map(|i| crate::trace::schema::TopicInfo {
                    tid: 200 + i,
                    name: format!("resp/{i}"),
                    subscribers: None,
                })
                .collect(),
            ..Default::default()
        };
        let mut events = vec![fx.snapshot(snap)];
        events.extend(per_request_topics(&mut fx, 6));
        assert!(run(rules::only("dynamic-topics"), config(), &events).is_empty());
    }

    #[test]
    fn its_tables_stop_growing_at_their_caps() {
        use super::{DynamicTopics, MAX_CREATORS};
        use crate::analyze::MAX_TOPICS;
        let mut fx = Fx::new();
        let mut rule = DynamicTopics::default();
        let creators = (0..=MAX_CREATORS as u32).map(|i| fx.subscribe(1000 + i, i, "t"));
        rules::observe_all(&mut rule, creators);
        assert_eq!(rule.creators.len(), MAX_CREATORS);
        assert_eq!(
            rule.made.len(),
            MAX_CREATORS,
            "the last creator's topic is not kept"
        );
        let made = (0..=MAX_TOPICS as u32).map(|i| fx.subscribe(1000, 1_000_000 + i, "t"));
        rules::observe_all(&mut rule, made);
        assert_eq!(rule.seen.len(), MAX_TOPICS);
        // The creator over the cap had its topic seen, not made.
        assert_eq!(rule.made.len(), MAX_TOPICS - 1);
    }
}
