//! `client-to-client`: a client publishes straight to another client's ETID,
//! in an app where the server talks to that client.

use std::collections::{HashMap, HashSet};

use crate::analyze::{
    ClientRef, Cx, Finding, MAX_CLIENTS, MAX_EVIDENCE, Rule, RuleInfo, Severity, Sink, trim,
};
use crate::trace::schema::{DestType, Event, Kind};

pub static INFO: RuleInfo = RuleInfo {
    name: "client-to-client",
    severity: Severity::Info,
    summary: "a client sends straight to another client's ETID that the server also sends to",
    explain: "\
What: a client sent a message straight to another client's ETID (a direct
message the broker routed to that client), where the server also sends direct
messages to that client in this trace. That is the signal of an app whose
clients talk through the server: the server addresses the receiver (commands,
replies, initial state after its ready message), so a client that addresses it
too takes a shortcut around the server. Apps where clients talk only to each
other (chat, games, the guide's peer-to-peer discovery with hello and ptid),
and clients the server never sends to, are not reported: a client that learns
a peer's ETID from a broadcast and sends to it is peer-to-peer by design.
Messages to a client are held until the server sends to it (then reported
together) and forgotten when it closes first.

Why it breaks apps: the broker's authorization (`onpublish`, the handlers that
check `browsersT[tid]`/`devicesT[tid]` before acting) is bypassed: any client
that learns a device's ETID can command it directly. The guide: \"letting
browsers talk directly to devices in a system where the broker must enforce
authorization\".

Fix: send the request to the server (its ETID, a request sub-topic such as
`SetRelayReq`), let its handler validate it and forward it with sendToPeer;
and make the broker's `onpublish` drop client-to-client messages
(`if ptid ~= 1 and tid ~= 1 then return false end`, with your server ETID).
If peers may talk directly, allow the rule (--allow client-to-client).

Example: the server sends `SetRelay` commands to dev-000001 after checking
them, and browser-1 publishes `SetRelay` to dev-000001's ETID itself:
\"browser-1 sent 3 message(s) straight to clients the server also sends to
(dev-000001)\".",
    brokers: "Every source: `publish`/`drop` events to a destination of type \
`client`, from a client and from the server (`from.server`). An `onpublish` that \
refuses them shows as `deny` and is not reported.",
};

/// Senders remembered, receivers the server sent to, held findings.
const MAX_TRACKED: usize = 10_000;

/// What one sender sent to peers the server also sends to.
#[derive(Default)]
struct Sender {
    sent: u64,
    receivers: Vec<String>,
}

/// Messages from one sender to one receiver, held until the server sends to
/// the receiver.
struct Held {
    receiver: ClientRef,
    sender: ClientRef,
    key: String,
    first: Event,
    last_ts: String,
    count: u64,
    evidence: Vec<Event>,
}

#[derive(Default)]
pub struct ClientToClient {
    /// Client ETIDs the server sent a direct message to (while connected).
    fed: HashSet<u32>,
    senders: HashMap<String, Sender>,
    held: Vec<Held>,
}

impl ClientToClient {
    /// The finding for `n` messages from `h.sender` to `h.receiver`.
    fn report(&mut self, h: Held, out: &mut Sink) {
        if self.senders.len() >= MAX_TRACKED && !self.senders.contains_key(&h.key) {
            return;
        }
        let s = self.senders.entry(h.key.clone()).or_default();
        s.sent += h.count;
        let name = h.receiver.uid.clone().unwrap_or_else(|| h.receiver.label());
        if !s.receivers.contains(&name) && s.receivers.len() < MAX_CLIENTS {
            s.receivers.push(name);
        }
        let mut f = Finding::new(&INFO, h.key, &h.first)
            .message(format!(
                "{} sent {} message(s) straight to clients the server also sends to ({}): \
                 the server's checks are bypassed",
                h.sender.label(),
                s.sent,
                s.receivers.join(", ")
            ))
            .client(h.sender)
            .client(h.receiver)
            .fix(
                "send the request to the server and let its handler validate and forward it; \
                 make the broker's onpublish drop client-to-client messages",
            );
        if let Some(sub) = &h.first.subtopic {
            f = f.subtopic(sub.clone());
        }
        f.count = h.count;
        f.last_ts = h.last_ts;
        f.evidence = h.evidence;
        out.push(f);
    }
}

impl Rule for ClientToClient {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, _cx: &Cx, ev: &Event, out: &mut Sink) {
        if ev.kind == Kind::Close {
            if let Some(c) = &ev.from {
                self.fed.remove(&c.etid);
                self.held.retain(|h| h.receiver.etid != c.etid);
            }
            return;
        }
        if !matches!(ev.kind, Kind::Publish | Kind::Drop) || ev.is_miss() {
            return;
        }
        let (Some(from), Some(to)) = (&ev.from, &ev.to) else {
            return;
        };
        if to.kind != DestType::Client || to.tid == from.etid {
            return;
        }
        if from.server {
            if self.fed.len() < MAX_TRACKED && self.fed.insert(to.tid) {
                let (now, later): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.held)
                    .into_iter()
                    .partition(|h| h.receiver.etid == to.tid);
                self.held = later;
                for h in now {
                    self.report(h, out);
                }
            }
            return;
        }
        let sender = ClientRef::of(from);
        let receiver = ClientRef {
            uid: to.uid.clone(),
            etid: to.tid,
        };
        let key = sender.uid.clone().unwrap_or_else(|| sender.label());
        if let Some(h) = self
            .held
            .iter_mut()
            .find(|h| h.key == key && h.receiver.etid == to.tid)
        {
            h.count += 1;
            h.last_ts = ev.ts.clone();
            if h.evidence.len() < MAX_EVIDENCE {
                h.evidence.push(trim(ev));
            }
            return;
        }
        let h = Held {
            receiver,
            sender,
            key,
            first: trim(ev),
            last_ts: ev.ts.clone(),
            count: 1,
            evidence: vec![trim(ev)],
        };
        if self.fed.contains(&to.tid) {
            self.report(h, out);
        } else if self.held.len() < MAX_TRACKED {
            self.held.push(h);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};

    #[test]
    fn a_browser_commanding_a_device_the_server_commands_is_found() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "browser-1"),
            fx.connect(6, "dev-000001"),
            // Before the server sent to the device: held.
            fx.direct(5, 6, Some("SetRelay"), r#"{"on":true}"#),
            fx.direct(1, 6, Some("SetRelay"), r#"{"on":false}"#),
            fx.direct(5, 6, Some("SetRelay"), r#"{"on":true}"#),
        ];
        let found = run(rules::only("client-to-client"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.count, 2);
        assert_eq!(f.first_ts, events[2].ts);
        assert_eq!(f.last_ts, events[4].ts);
        assert_eq!(
            f.message,
            "browser-1 (etid 5) sent 2 message(s) straight to clients the server also sends \
             to (dev-000001): the server's checks are bypassed"
        );
        assert_eq!(f.clients[0].uid.as_deref(), Some("browser-1"));
        assert_eq!(f.clients[1].uid.as_deref(), Some("dev-000001"));
        assert_eq!(f.subtopic.as_deref(), Some("SetRelay"));
        assert_eq!(f.evidence, vec![events[2].clone(), events[4].clone()]);
    }

    #[test]
    fn held_messages_to_several_receivers_count_as_the_server_reaches_each() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "browser-1"),
            fx.connect(6, "dev-000001"),
            fx.connect(7, "dev-000002"),
            fx.direct(5, 6, None, "a"),
            fx.direct(5, 6, None, "a"),
            fx.direct(5, 7, None, "b"),
            fx.direct(1, 6, Some("Config"), "{}"),
            fx.direct(1, 7, Some("Config"), "{}"),
        ];
        let found = run(rules::only("client-to-client"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.count, 3);
        assert!(f.message.contains("sent 3 message(s)"), "{}", f.message);
        assert!(
            f.message.contains("(dev-000001, dev-000002)"),
            "{}",
            f.message
        );
        assert_eq!(f.clients.len(), 3);
    }

    /// The demo's operator: it learns chargers' ETIDs from the server's
    /// broadcast and commands them; the server never sends to them itself.
    #[test]
    fn peer_to_peer_messages_to_clients_the_server_never_sends_to_are_not_reported() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "operator"),
            fx.connect(6, "charger-1"),
            fx.direct(6, 1, Some("DeviceReady"), "{}"),
            fx.direct(5, 1, Some("$RpcReq"), "{}"),
            fx.direct(1, 5, Some("$RpcResp"), "{}"),
            fx.direct(5, 6, Some("SetCharger"), "{}"),
        ];
        assert!(run(rules::only("client-to-client"), Config::default(), &events).is_empty());
    }

    #[test]
    fn only_the_receiver_the_server_reached_is_reported_and_misses_are_not_messages() {
        let mut fx = Fx::new();
        let miss = crate::trace::schema::queue_full_reason(Some("dev-000001"), 6);
        let mut events = vec![
            fx.connect(5, "browser-1"),
            fx.connect(6, "dev-000001"),
            fx.connect(7, "dev-000002"),
        ];
        for _ in 0..7 {
            events.push(fx.direct(5, 6, None, "a"));
        }
        let to6 = crate::trace::schema::Dest {
            tid: 6,
            kind: crate::trace::schema::DestType::Client,
            name: None,
            uid: Some("dev-000001".into()),
        };
        events.push(fx.drop(5, to6, None, "a", &miss));
        events.push(fx.direct(5, 7, None, "b"));
        events.push(fx.direct(1, 6, Some("Config"), "{}"));
        let found = run(rules::only("client-to-client"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.count, 7);
        assert_eq!(f.evidence.len(), crate::analyze::MAX_EVIDENCE);
        assert!(f.message.contains("sent 7 message(s)"), "{}", f.message);
        assert!(
            f.message
                .ends_with("(dev-000001): the server's checks are bypassed"),
            "{}",
            f.message
        );
    }

    #[test]
    fn a_receiver_the_server_reached_before_it_closed_is_not_reached_after() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "browser-1"),
            fx.connect(6, "dev-000001"),
            fx.direct(1, 6, None, "{}"),
            fx.close(6, "reconnect"),
            fx.connect(6, "dev-000001"),
            fx.direct(5, 6, None, "a"),
        ];
        assert!(run(rules::only("client-to-client"), Config::default(), &events).is_empty());
    }

    #[test]
    fn held_messages_are_forgotten_when_the_receiver_closes_before_the_server_sends() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "browser-1"),
            fx.connect(6, "dev-000001"),
            fx.direct(5, 6, None, "a"),
            fx.close(6, "closed"),
            // A new client with the same ETID the server then sends to.
            fx.connect(6, "dev-000002"),
            fx.direct(1, 6, None, "{}"),
            fx.direct(5, 5, Some("Note"), "to itself"),
        ];
        assert!(run(rules::only("client-to-client"), Config::default(), &events).is_empty());
    }

    #[test]
    fn its_tables_stop_growing_at_their_caps() {
        use super::{ClientToClient, MAX_TRACKED};
        use crate::analyze::MAX_CLIENTS;
        let mut fx = Fx::new();
        let mut rule = ClientToClient::default();
        // Held messages from many senders to a client the server never reached.
        let held = (0..=MAX_TRACKED as u32).map(|i| fx.direct(100_000 + i, 6, None, "a"));
        rules::observe_all(&mut rule, held);
        assert_eq!(rule.held.len(), MAX_TRACKED);
        rule.held.clear();
        let fed = (0..=MAX_TRACKED as u32).map(|i| fx.direct(1, 200_000 + i, None, "{}"));
        rules::observe_all(&mut rule, fed);
        assert_eq!(rule.fed.len(), MAX_TRACKED);
        // One sender to more receivers than a finding names.
        let many = (0..=MAX_CLIENTS as u32).map(|i| {
            fx.connect(200_000 + i, &format!("dev-{i:06}"));
            fx.direct(5, 200_000 + i, None, "a")
        });
        let found = rules::observe_all(&mut rule, many);
        assert_eq!(found.len(), MAX_CLIENTS + 1);
        let s = &rule.senders["etid 5"];
        assert_eq!(
            (s.sent, s.receivers.len()),
            (MAX_CLIENTS as u64 + 1, MAX_CLIENTS)
        );
        // Senders past the cap are not reported.
        rule.senders.clear();
        let senders = (0..=MAX_TRACKED as u32).map(|i| fx.direct(300_000 + i, 200_000, None, "a"));
        let found = rules::observe_all(&mut rule, senders);
        assert_eq!(
            (rule.senders.len(), found.len()),
            (MAX_TRACKED, MAX_TRACKED)
        );
    }

    #[test]
    fn topic_messages_and_messages_to_oneself_are_not_client_to_client() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "browser-1"),
            fx.direct(1, 5, Some("Hello"), "{}"),
            fx.direct(5, 5, Some("Note"), "to itself"),
            fx.publish(5, 100, "DeviceState", None, "{}"),
            fx.publish(1, 100, "DeviceState", None, "{}"),
            fx.publish(5, 100, "DeviceState", None, "{}"),
        ];
        assert!(run(rules::only("client-to-client"), Config::default(), &events).is_empty());
    }
}
