//! Schema events for rule tests, shaped like the embedded broker's: a clock
//! that moves 100 ms per event (or as told), clients by ETID with UIDs, topics
//! and sub-topics by name with TIDs the fixture assigns.
#![allow(dead_code)] // builders the rules' tests use as they need them

use std::collections::HashMap;

use crate::trace::schema::{Client, Dest, DestType, Encoding, Event, Kind, Snapshot};

use super::{Analyzer, Config, Finding, Rule};

pub(crate) struct Fx {
    /// Seconds since the fixture's epoch.
    t: f64,
    step: f64,
    uids: HashMap<u32, String>,
    subtids: HashMap<String, u32>,
    pub server: u32,
}

impl Fx {
    pub fn new() -> Self {
        Fx {
            t: 0.0,
            step: 0.1,
            uids: HashMap::new(),
            subtids: HashMap::new(),
            server: 1,
        }
    }

    /// Move the clock by `secs` (may be negative: a source's clock that jumps back).
    pub fn advance(&mut self, secs: f64) {
        self.t += secs;
    }

    fn ts(&mut self) -> String {
        self.t += self.step;
        let ms = (self.t * 1000.0).round() as i64;
        let base = jiff::Timestamp::from_second(1_796_000_000).expect("in range");
        let at = base
            .checked_add(jiff::SignedDuration::from_millis(ms))
            .expect("in range");
        format!("{at:.3}")
    }

    fn client(&self, etid: u32) -> Client {
        Client {
            etid,
            uid: self.uids.get(&etid).cloned(),
            info: None,
            addr: None,
            server: etid == self.server,
        }
    }

    fn ev(&mut self, kind: Kind, from: u32) -> Event {
        let mut e = Event::new(kind, self.ts());
        e.from = Some(self.client(from));
        e
    }

    pub fn subtid(&mut self, name: &str) -> u32 {
        let next = 0x1000 + self.subtids.len() as u32;
        *self.subtids.entry(name.to_string()).or_insert(next)
    }

    fn set_sub(&mut self, e: &mut Event, sub: Option<&str>) {
        if let Some(s) = sub {
            e.subtid = Some(self.subtid(s));
            e.subtopic = Some(s.to_string());
        }
    }

    fn set_payload(e: &mut Event, payload: &str) {
        e.size = Some(payload.len());
        let json = serde_json::from_str::<serde_json::Value>(payload).is_ok();
        e.encoding = Some(if json { Encoding::Json } else { Encoding::Text });
        e.payload = Some(payload.to_string());
    }

    pub fn topic(tid: u32, name: &str) -> Dest {
        Dest {
            tid,
            kind: DestType::Topic,
            name: Some(name.to_string()),
            uid: None,
        }
    }

    pub fn connect(&mut self, etid: u32, uid: &str) -> Event {
        self.uids.insert(etid, uid.to_string());
        self.ev(Kind::Connect, etid)
    }

    pub fn close(&mut self, etid: u32, reason: &str) -> Event {
        let mut e = self.ev(Kind::Close, etid);
        e.reason = Some(reason.to_string());
        e
    }

    pub fn subscribe(&mut self, etid: u32, tid: u32, topic: &str) -> Event {
        let mut e = self.ev(Kind::Subscribe, etid);
        e.to = Some(Self::topic(tid, topic));
        e
    }

    pub fn unsubscribe(&mut self, etid: u32, tid: u32, topic: &str) -> Event {
        let mut e = self.ev(Kind::Unsubscribe, etid);
        e.to = Some(Self::topic(tid, topic));
        e
    }

    pub fn create(&mut self, etid: u32, tid: u32, topic: &str) -> Event {
        let mut e = self.ev(Kind::Create, etid);
        e.to = Some(Self::topic(tid, topic));
        e
    }

    /// A client registers (creates) a sub-topic, e.g. for a `self` handler.
    pub fn createsub(&mut self, etid: u32, name: &str) -> Event {
        let mut e = self.ev(Kind::Createsub, etid);
        self.set_sub(&mut e, Some(name));
        e
    }

    /// A publish to a named topic that reached one subscriber.
    pub fn publish(
        &mut self,
        from: u32,
        tid: u32,
        topic: &str,
        sub: Option<&str>,
        payload: &str,
    ) -> Event {
        let mut e = self.ev(Kind::Publish, from);
        e.to = Some(Self::topic(tid, topic));
        self.set_sub(&mut e, sub);
        Self::set_payload(&mut e, payload);
        e.verdict = Some(true);
        e.receivers = Some(1);
        e
    }

    /// A direct message to a connected client's ETID (or the server's).
    pub fn direct(&mut self, from: u32, to: u32, sub: Option<&str>, payload: &str) -> Event {
        let mut e = self.ev(Kind::Publish, from);
        e.to = Some(if to == self.server {
            Dest {
                tid: to,
                kind: DestType::Server,
                name: None,
                uid: None,
            }
        } else {
            Dest {
                tid: to,
                kind: DestType::Client,
                name: None,
                uid: self.uids.get(&to).cloned(),
            }
        });
        self.set_sub(&mut e, sub);
        Self::set_payload(&mut e, payload);
        e.verdict = Some(true);
        e.receivers = Some(1);
        e
    }

    /// A message nobody received: `to` as the broker resolved it, and why.
    pub fn drop(
        &mut self,
        from: u32,
        to: Dest,
        sub: Option<&str>,
        payload: &str,
        reason: &str,
    ) -> Event {
        let mut e = self.ev(Kind::Drop, from);
        e.to = Some(to);
        self.set_sub(&mut e, sub);
        Self::set_payload(&mut e, payload);
        e.reason = Some(reason.to_string());
        e
    }

    /// A destination nobody knows (a stale ETID, a TID nobody created).
    pub fn unknown(tid: u32) -> Dest {
        Dest {
            tid,
            kind: DestType::Unknown,
            name: None,
            uid: None,
        }
    }

    pub fn snapshot(&mut self, snapshot: Snapshot) -> Event {
        let mut e = Event::new(Kind::Snapshot, self.ts());
        e.snapshot = Some(snapshot);
        e
    }
}

/// Feed `events` through `rules` (plus finish) and return the findings.
pub(crate) fn run(rules: Vec<Box<dyn Rule>>, config: Config, events: &[Event]) -> Vec<Finding> {
    let mut a = Analyzer::with_rules(config, rules);
    for e in events {
        a.feed(e);
    }
    a.finish();
    a.findings().to_vec()
}
