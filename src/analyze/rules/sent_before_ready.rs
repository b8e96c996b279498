//! `sent-before-ready`: a direct message to a client before that client's
//! ready message (the "broker sends from onconnect" pitfall).

use std::collections::{HashMap, HashSet};

use crate::analyze::{ClientRef, Cx, Finding, MAX_TOPICS, Rule, RuleInfo, Severity, Sink, trim};
use crate::trace::schema::{DestType, Event, Kind};

pub static INFO: RuleInfo = RuleInfo {
    name: "sent-before-ready",
    severity: Severity::Error,
    summary: "a direct message to a client before its ready message (sending from onconnect)",
    explain: "\
What: the server (or a peer) sent a direct message to a client's ETID before
that client sent its ready message (--ready NAME; default: any sub-topic ending
in `Ready`, such as `DeviceReady` or `ClientReady`). Reported when the client's
ready message arrives, so only clients that do use a readiness handshake are
judged: an app whose clients never send a ready message is never flagged, nor
is a client that never got as far as its ready message. Messages the client
asked for are left out: once the client has sent a direct message to someone,
that someone may answer it, ready or not.

Why it breaks apps: when the broker's `onconnect` fires, the SMQ connection
exists but the client has not yet installed its event subscriptions and its
`self` sub-topic handlers. A direct message that arrives before the handler for
its sub-topic exists is dropped by the client (or lands in a catch-all), so
initial state and commands sent from `onconnect` are lost now and then,
depending on timing: the guide's \"sending broker onconnect messages before the
client has installed event and self subtopic subscriptions\" pitfall.

Fix: send nothing to a client until its ready message arrives. The client
subscribes everything, makes one last subscription whose ack triggers
`DeviceReady` (or `ClientReady`) to the broker, and the broker sends initial
state and commands from its `DeviceReady` handler, not from `onconnect`.

Example: the broker sends `SetDeviceID` to charger-00001 from `onconnect`;
charger-00001 sends `DeviceReady` 40 ms later. Move the `SetDeviceID` send into
the broker's `DeviceReady` handler.",
    brokers: "Every source: connects, direct publishes and the ready message are \
reported by the embedded broker and the Mako hook alike. Events are judged in \
arrival order, so whole-second timestamps (Mako) do not matter. Clients listed in \
a snapshot (attached after they connected) are never judged: their ready message \
may have come before the attach.",
};

/// Distinct pre-ready (sender, sub-topic) pairs kept per client.
const MAX_PENDING: usize = 8;
/// ETIDs a client spoke to, kept per client (beyond, it is taken as having
/// spoken to everyone: nothing it gets is reported).
const MAX_SPOKE: usize = 1024;

/// Messages one client got before its ready message, by (sender, sub-topic).
struct Early {
    sender: ClientRef,
    from_server: bool,
    subtopic: Option<String>,
    first: Event,
    count: u64,
}

/// What the rule knows about one connected client.
#[derive(Default)]
struct Conn {
    ready: bool,
    /// ETIDs this client has sent a direct message to (they may answer it).
    spoke_to: HashSet<u32>,
    early: Vec<Early>,
}

#[derive(Default)]
pub struct SentBeforeReady {
    conns: HashMap<u32, Conn>,
}

/// The destination ETID of a direct message (to a client or the server).
fn direct_to(ev: &Event) -> Option<u32> {
    ev.to
        .as_ref()
        .filter(|d| matches!(d.kind, DestType::Client | DestType::Server))
        .map(|d| d.tid)
}

impl Rule for SentBeforeReady {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, cx: &Cx, ev: &Event, out: &mut Sink) {
        let Some(from) = &ev.from else { return };
        match ev.kind {
            Kind::Connect
                if !from.server
                    && (self.conns.len() < MAX_TOPICS || self.conns.contains_key(&from.etid)) =>
            {
                self.conns.insert(from.etid, Conn::default());
            }
            Kind::Close => {
                self.conns.remove(&from.etid);
            }
            Kind::Publish => {
                let Some(to) = direct_to(ev) else { return };
                // The sender's side: what it said, and whether it is its ready.
                if let Some(c) = self.conns.get_mut(&from.etid) {
                    if c.spoke_to.len() < MAX_SPOKE {
                        c.spoke_to.insert(to);
                    }
                    let ready = ev
                        .subtopic
                        .as_deref()
                        .is_some_and(|s| cx.config.is_ready(s));
                    if ready && !c.ready {
                        c.ready = true;
                        for e in std::mem::take(&mut c.early) {
                            out.push(finding(e, from, ev));
                        }
                    }
                }
                // The receiver's side: a message it did not ask for, before its ready.
                if to == from.etid {
                    return;
                }
                let Some(c) = self.conns.get_mut(&to) else {
                    return;
                };
                if c.ready || c.spoke_to.len() >= MAX_SPOKE || c.spoke_to.contains(&from.etid) {
                    return;
                }
                if let Some(e) = c
                    .early
                    .iter_mut()
                    .find(|e| e.sender.etid == from.etid && e.subtopic == ev.subtopic)
                {
                    e.count += 1;
                } else if c.early.len() < MAX_PENDING {
                    c.early.push(Early {
                        sender: ClientRef::of(from),
                        from_server: from.server,
                        subtopic: ev.subtopic.clone(),
                        first: trim(ev),
                        count: 1,
                    });
                }
            }
            _ => {}
        }
    }
}

/// The finding for messages `e` that `client` got before its ready message `ready`.
fn finding(e: Early, client: &crate::trace::schema::Client, ready: &Event) -> Finding {
    let who = ClientRef::of(client);
    let sender = if e.from_server {
        "the server".to_string()
    } else {
        e.sender.label()
    };
    let what = e
        .subtopic
        .as_deref()
        .map(|s| format!("`{s}`"))
        .unwrap_or_else(|| "a message without sub-topic".into());
    let ready_name = ready.subtopic.as_deref().unwrap_or("ready");
    let times = if e.count == 1 {
        String::new()
    } else {
        format!(" ({} times)", e.count)
    };
    let key = format!(
        "{}\u{0}{}",
        if e.from_server {
            "server".to_string()
        } else {
            e.sender
                .uid
                .clone()
                .unwrap_or_else(|| e.sender.etid.to_string())
        },
        e.subtopic.as_deref().unwrap_or("")
    );
    let mut f = Finding::new(&INFO, key, &e.first)
        .message(format!(
            "{sender} sent {what} to {}{times} before its `{ready_name}`: the client may not \
             have subscribed yet, so the message can be lost",
            who.label()
        ))
        .fix(format!(
            "send nothing to a client before its `{ready_name}`: move the send from onconnect \
             into the `{ready_name}` handler"
        ))
        .client(who)
        .evidence(ready);
    if !e.from_server {
        f = f.client(e.sender);
    }
    if let Some(s) = e.subtopic {
        f = f.subtopic(s);
    }
    f.last_ts = ready.ts.clone();
    f.count = e.count;
    f
}

#[cfg(test)]
mod tests {
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};

    fn found(events: &[crate::trace::schema::Event]) -> Vec<crate::analyze::Finding> {
        run(rules::only("sent-before-ready"), Config::default(), events)
    }

    #[test]
    fn a_command_sent_between_connect_and_device_ready_is_found() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "charger-00001"),
            fx.direct(1, 5, Some("SetDeviceID"), r#"{"id":7}"#),
            fx.direct(1, 5, Some("SetDeviceID"), r#"{"id":7}"#),
            fx.createsub(5, "SetDeviceID"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
            fx.direct(1, 5, Some("SetCharger"), r#"{"On":true}"#),
        ];
        let found = found(&events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.rule, "sent-before-ready");
        assert_eq!(f.subtopic.as_deref(), Some("SetDeviceID"));
        assert_eq!(f.count, 2);
        assert_eq!(f.clients[0].uid.as_deref(), Some("charger-00001"));
        assert_eq!(f.clients.len(), 1, "the server is not a client to name");
        assert_eq!(f.first_ts, events[1].ts);
        assert_eq!(f.last_ts, events[4].ts);
        assert_eq!(f.evidence.len(), 2);
        assert_eq!(f.evidence[1].subtopic.as_deref(), Some("DeviceReady"));
        assert!(
            f.message.starts_with("the server sent `SetDeviceID`"),
            "{}",
            f.message
        );
        assert!(f.message.contains("(2 times)"), "{}", f.message);
        assert!(f.fix.contains("DeviceReady"), "{}", f.fix);
    }

    #[test]
    fn a_peer_that_sends_early_is_named_and_one_finding_covers_the_fleet() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(7, "browser-0001"),
            fx.connect(5, "charger-00001"),
            fx.connect(6, "charger-00002"),
            fx.direct(7, 5, Some("Hello"), "{}"),
            fx.direct(7, 6, Some("Hello"), "{}"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
            fx.direct(6, 1, Some("DeviceReady"), "{}"),
        ];
        let found = found(&events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.count, 2);
        let uids: Vec<_> = f.clients.iter().filter_map(|c| c.uid.as_deref()).collect();
        assert_eq!(uids, ["charger-00001", "browser-0001", "charger-00002"]);
        assert!(
            f.message.starts_with("browser-0001 (etid 7) sent"),
            "{}",
            f.message
        );
    }

    #[test]
    fn an_app_without_a_readiness_handshake_is_not_judged() {
        // The common false positive: nobody ever sends a ready message, so
        // messages right after connect are the app's design, not this mistake.
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "sensor-0001"),
            fx.direct(1, 5, Some("Config"), "{}"),
            fx.direct(5, 1, Some("Reading"), "{}"),
            fx.close(5, "gone"),
        ];
        assert!(found(&events).is_empty());
    }

    #[test]
    fn answers_to_the_clients_own_requests_before_ready_are_not_found() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "browser-0001"),
            fx.direct(5, 1, Some("LoginReq"), "{}"),
            fx.direct(1, 5, Some("LoginResp"), "{}"),
            fx.direct(5, 1, Some("ClientReady"), "{}"),
        ];
        assert!(found(&events).is_empty());
    }

    #[test]
    fn messages_after_ready_and_before_a_reconnect_ready_are_judged_per_connection() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "charger-00001"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
            fx.direct(1, 5, Some("SetCharger"), "{}"),
            fx.close(5, "reconnect"),
            // The reconnect: a new session, and the barrier starts again.
            fx.connect(5, "charger-00001"),
            fx.direct(1, 5, Some("SetCharger"), "{}"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
            // A second ready in the same session changes nothing.
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
        ];
        let found = found(&events);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].first_ts, events[5].ts);
    }

    #[test]
    fn the_ready_name_can_be_set_and_a_message_to_oneself_is_not_early() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "charger-00001"),
            fx.direct(5, 5, Some("Loopback"), "{}"),
            fx.direct(1, 5, Some("Init"), "{}"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
            fx.direct(5, 1, Some("Hello"), "{}"),
        ];
        let config = Config {
            ready: Some("Hello".into()),
            ..Config::default()
        };
        let found = run(rules::only("sent-before-ready"), config, &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].subtopic.as_deref(), Some("Init"));
        assert!(
            found[0].message.contains("before its `Hello`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_client_keeps_at_most_max_pending_early_pairs() {
        let mut fx = Fx::new();
        let mut events = vec![fx.connect(5, "charger-00001")];
        for i in 0..=super::MAX_PENDING {
            events.push(fx.direct(1, 5, Some(&format!("Init{i}")), "{}"));
        }
        events.push(fx.direct(5, 1, Some("DeviceReady"), "{}"));
        assert_eq!(found(&events).len(), super::MAX_PENDING);
    }

    #[test]
    fn a_client_that_spoke_to_max_spoke_etids_is_taken_as_answered() {
        for spoke in [super::MAX_SPOKE - 1, super::MAX_SPOKE] {
            let mut fx = Fx::new();
            let mut events = vec![fx.connect(5, "browser-0001")];
            for to in 0..spoke as u32 {
                events.push(fx.direct(5, 10_000 + to, Some("Hello"), "{}"));
            }
            events.push(fx.direct(1, 5, Some("Init"), "{}"));
            events.push(fx.direct(5, 1, Some("ClientReady"), "{}"));
            let n = found(&events).len();
            assert_eq!(n, usize::from(spoke < super::MAX_SPOKE), "spoke to {spoke}");
        }
    }

    #[test]
    fn clients_past_the_cap_are_not_tracked_and_a_reconnect_at_the_cap_starts_over() {
        use crate::analyze::MAX_TOPICS;
        let mut fx = Fx::new();
        let mut events = Vec::with_capacity(MAX_TOPICS + 8);
        for etid in 0..=MAX_TOPICS as u32 {
            events.push(fx.connect(10 + etid, "c-000001"));
        }
        let last = 10 + MAX_TOPICS as u32;
        // The one past the cap: not tracked, never reported.
        events.push(fx.direct(1, last, Some("Init"), "{}"));
        events.push(fx.direct(last, 1, Some("DeviceReady"), "{}"));
        // A tracked one that was ready reconnects at the cap: judged again.
        events.push(fx.direct(10, 1, Some("DeviceReady"), "{}"));
        events.push(fx.connect(10, "c-000001"));
        events.push(fx.direct(1, 10, Some("Again"), "{}"));
        events.push(fx.direct(10, 1, Some("DeviceReady"), "{}"));
        let found = found(&events);
        let subs: Vec<_> = found.iter().filter_map(|f| f.subtopic.as_deref()).collect();
        assert_eq!(subs, ["Again"]);
    }

    #[test]
    fn closed_clients_free_their_place_in_the_table() {
        use crate::analyze::MAX_TOPICS;
        let mut fx = Fx::new();
        let mut events = Vec::with_capacity(2 * MAX_TOPICS + 8);
        for etid in 0..MAX_TOPICS as u32 {
            events.push(fx.connect(10 + etid, "c-000001"));
            events.push(fx.close(10 + etid, "gone"));
        }
        let next = 10 + MAX_TOPICS as u32;
        events.push(fx.connect(next, "c-000001"));
        events.push(fx.direct(1, next, Some("Init"), "{}"));
        events.push(fx.direct(next, 1, Some("DeviceReady"), "{}"));
        assert_eq!(found(&events).len(), 1);
    }

    #[test]
    fn clients_from_a_snapshot_are_not_judged() {
        let mut fx = Fx::new();
        let snap = crate::trace::schema::Snapshot {
            server_etid: Some(1),
            clients: vec![crate::trace::schema::Client {
                etid: 5,
                uid: Some("charger-00001".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let events = [
            fx.snapshot(snap),
            fx.direct(1, 5, Some("SetCharger"), "{}"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
        ];
        assert!(found(&events).is_empty());
    }
}
