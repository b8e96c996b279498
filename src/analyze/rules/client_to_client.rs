//! `client-to-client`: in an app whose clients talk to the server, a client
//! publishes straight to another client's ETID.

use std::collections::HashMap;

use crate::analyze::{
    ClientRef, Cx, Finding, MAX_CLIENTS, MAX_EVIDENCE, Rule, RuleInfo, Severity, Sink, trim,
};
use crate::trace::schema::{DestType, Event, Kind};

pub static INFO: RuleInfo = RuleInfo {
    name: "client-to-client",
    severity: Severity::Info,
    summary: "in an app whose clients talk to the server, a client sends straight to another client's ETID",
    explain: "\
What: a client sent a message straight to another client's ETID (a direct
message that the broker routed to that client), in an app where clients also
send requests to the server (some client sent a direct message to the
server's ETID in this trace). That mix is the signal: in a broker-mediated
app the server's handlers are the way between clients. Apps where clients
only talk to each other (chat, games, the guide's peer-to-peer discovery with
hello and ptid) have no server-directed traffic and are not reported. Until
the first server-directed message, client-to-client messages are held, then
reported together.

Why it breaks apps: the broker's authorization (`onpublish`, the handlers that
check `browsersT[tid]`/`devicesT[tid]` before acting) is bypassed: any client
that learns a device's ETID can command it directly. The guide: \"letting
browsers talk directly to devices in a system where the broker must enforce
authorization\".

Fix: send the request to the server (its ETID, a request sub-topic such as
`SetRelayReq`), let its handler validate it and forward it with
sendToPeer; and make the broker's `onpublish` drop client-to-client messages
(`if ptid ~= 1 and tid ~= 1 then return false end`, with your server ETID).
If peers may talk directly, allow the rule (--allow client-to-client).

Example: browser-1 publishes `SetRelay` to dev-000001's ETID while it sends
its other requests to the server: \"browser-1 sent 3 message(s) straight to
other clients' ETIDs (dev-000001) in an app whose clients talk to the
server\".",
    brokers: "Every source: `publish`/`drop` events to a destination of type \
`client` from a client that is not the server. An `onpublish` that refuses \
them shows as `deny` and is not reported.",
};

/// Senders remembered.
const MAX_SENDERS: usize = 1_000;

/// What one sender sent to peers so far.
#[derive(Default)]
struct Sender {
    sent: u64,
    receivers: Vec<String>,
}

#[derive(Default)]
pub struct ClientToClient {
    /// Some client sent a direct message to the server.
    server_traffic: bool,
    senders: HashMap<String, Sender>,
    /// Findings held before `server_traffic`, in the order they came.
    pending: Vec<Finding>,
}

impl Rule for ClientToClient {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, _cx: &Cx, ev: &Event, out: &mut Sink) {
        if !matches!(ev.kind, Kind::Publish | Kind::Drop) || ev.is_miss() {
            return;
        }
        let (Some(from), Some(to)) = (&ev.from, &ev.to) else {
            return;
        };
        if from.server {
            return;
        }
        match to.kind {
            DestType::Server if !self.server_traffic => {
                self.server_traffic = true;
                for f in std::mem::take(&mut self.pending) {
                    out.push(f);
                }
            }
            DestType::Client if to.tid != from.etid => {
                let sender = ClientRef::of(from);
                let receiver = ClientRef {
                    uid: to.uid.clone(),
                    etid: to.tid,
                };
                let key = sender.uid.clone().unwrap_or_else(|| sender.label());
                if self.senders.len() >= MAX_SENDERS && !self.senders.contains_key(&key) {
                    return;
                }
                let s = self.senders.entry(key.clone()).or_default();
                s.sent += 1;
                let name = receiver.uid.clone().unwrap_or_else(|| receiver.label());
                if !s.receivers.contains(&name) && s.receivers.len() < MAX_CLIENTS {
                    s.receivers.push(name);
                }
                let message = format!(
                    "{} sent {} message(s) straight to other clients' ETIDs ({}) in an app whose \
                     clients talk to the server: the broker's authorization is bypassed",
                    sender.label(),
                    s.sent,
                    s.receivers.join(", ")
                );
                if let Some(held) = self.pending.iter_mut().find(|f| f.key == key) {
                    held.count += 1;
                    held.last_ts = ev.ts.clone();
                    held.message = message;
                    if !held.clients.contains(&receiver) && held.clients.len() < MAX_CLIENTS {
                        held.clients.push(receiver);
                    }
                    if held.evidence.len() < MAX_EVIDENCE {
                        held.evidence.push(trim(ev));
                    }
                    return;
                }
                let mut f = Finding::new(&INFO, key, ev)
                    .message(message)
                    .client(sender)
                    .client(receiver)
                    .fix(
                        "send the request to the server and let its handler validate and \
                         forward it; make the broker's onpublish drop client-to-client messages",
                    );
                if let Some(sub) = &ev.subtopic {
                    f = f.subtopic(sub.clone());
                }
                if self.server_traffic {
                    out.push(f);
                } else {
                    self.pending.push(f);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};

    #[test]
    fn a_browser_commanding_a_device_directly_while_it_uses_the_server_is_found() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "browser-1"),
            fx.connect(6, "dev-000001"),
            // Before any server traffic: held.
            fx.direct(5, 6, Some("SetRelay"), r#"{"on":true}"#),
            fx.direct(5, 1, Some("DeviceListReq"), "{}"),
            fx.direct(5, 6, Some("SetRelay"), r#"{"on":false}"#),
        ];
        let found = run(rules::only("client-to-client"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.count, 2);
        assert_eq!(f.first_ts, events[2].ts);
        assert_eq!(f.last_ts, events[4].ts);
        assert!(
            f.message.starts_with(
                "browser-1 (etid 5) sent 2 message(s) straight to other clients' ETIDs (dev-000001)"
            ),
            "{}",
            f.message
        );
        assert_eq!(f.clients[0].uid.as_deref(), Some("browser-1"));
        assert_eq!(f.clients[1].uid.as_deref(), Some("dev-000001"));
        assert_eq!(f.evidence.len(), 2);
    }

    #[test]
    fn held_messages_are_counted_when_server_traffic_shows_up() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "browser-1"),
            fx.connect(6, "dev-000001"),
            fx.connect(7, "dev-000002"),
            fx.direct(5, 6, None, "a"),
            fx.direct(5, 7, None, "b"),
            fx.direct(6, 1, Some("DeviceReady"), "{}"),
        ];
        let found = run(rules::only("client-to-client"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.count, 2);
        assert!(f.message.contains("sent 2 message(s)"), "{}", f.message);
        assert!(
            f.message.contains("(dev-000001, dev-000002)"),
            "{}",
            f.message
        );
        assert_eq!(f.last_ts, events[4].ts);
    }

    #[test]
    fn a_peer_to_peer_app_without_server_traffic_is_not_reported() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "chat-a"),
            fx.connect(6, "chat-b"),
            fx.subscribe(5, 100, "Hello"),
            fx.publish(6, 100, "Hello", None, r#"{"name":"b"}"#),
            fx.direct(5, 6, Some("Hello"), r#"{"name":"a"}"#),
            fx.direct(6, 5, Some("Chat"), "hi"),
        ];
        assert!(run(rules::only("client-to-client"), Config::default(), &events).is_empty());
    }

    #[test]
    fn the_server_sending_to_clients_and_a_client_to_itself_are_not_client_to_client() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "browser-1"),
            fx.direct(5, 1, Some("ListReq"), "{}"),
            fx.direct(1, 5, Some("ListResp"), "[]"),
            fx.direct(5, 5, Some("Note"), "self"),
        ];
        assert!(run(rules::only("client-to-client"), Config::default(), &events).is_empty());
    }
}
