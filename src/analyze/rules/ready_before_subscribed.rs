//! `ready-before-subscribed`: a client sent its ready message and subscribed
//! (or registered a `self` sub-topic) afterwards: the barrier was broken.

use std::collections::{HashMap, HashSet};

use crate::analyze::{ClientRef, Cx, Finding, MAX_TOPICS, Rule, RuleInfo, Severity, Sink, trim};
use crate::trace::schema::{Client, DestType, Event, Kind};

pub static INFO: RuleInfo = RuleInfo {
    name: "ready-before-subscribed",
    severity: Severity::Error,
    summary: "a client subscribed or registered a `self` sub-topic after sending its ready message",
    explain: "\
What: a client sent its ready message (--ready NAME; default: any sub-topic
ending in `Ready`) and then, within 10 seconds of it (its start-up), subscribed
to a topic, or registered a `self` sub-topic that the server or a peer then
sent it a message on. Later subscriptions are taken as the app's dynamic ones
(a page the user opened) and not judged.

A `createsub` alone does not say whether the client registers a handler or is
about to send with that sub-topic, so a sub-topic registered after the ready
message counts only once a direct message arrives on it, and not when the
client sends with it first, nor when the message answers something the client
sent after registering it (a response handler installed just before its
request is fine). A registration that comes after a direct message on that
sub-topic already arrived (after the ready message) is reported at once: that
message found no handler.

Why it breaks apps: the ready message is a barrier. It tells the broker that
every subscription and every `self` handler exists, so the broker starts
sending initial state and commands. A subscription made after it races with
those messages; whatever arrives before it is lost, now and then, depending on
timing: the guide's \"sending ready messages before all command subscriptions
are acknowledged\" pitfall.

Fix: make every subscription and `self` handler registration first, then one
last subscription with an `onack` callback, and send the ready message from
that callback (and only if it was accepted). Repeat it all after a reconnect.

Example: a device sends `DeviceReady`, then calls
subscribe(\"self\", \"SetCharger\"); the broker's `SetCharger` sent on
`DeviceReady` arrives before the handler. Register `SetCharger` first, then
subscribe to `SubscriptionBarrier` with an onack that sends `DeviceReady`.",
    brokers: "Subscriptions: every source. Sub-topic registrations: the embedded \
broker reports every `createsub`; the Mako hook reports one only when the \
sub-topic name is new to the broker, so on Mako a late registration of a \
sub-topic the server already uses is not seen (the rule misses it; it never \
reports one that did not happen). Whole-second timestamps (Mako) make the 10 s \
start-up window exact only to a second.",
};

/// How long after its ready message a client is still starting up.
pub const STARTUP: jiff::SignedDuration = jiff::SignedDuration::from_secs(10);
/// Sub-topics registered after ready, kept per client until used.
const MAX_LATE: usize = 32;
/// ETIDs a client spoke to, kept per client (beyond, every message it gets
/// is taken as an answer: nothing is reported).
const MAX_SPOKE: usize = 1024;

/// A sub-topic registered after the ready message, not used yet.
struct Late {
    createsub: Event,
    seq: u64,
}

#[derive(Default)]
struct Conn {
    /// The ready message, once sent.
    ready: Option<Event>,
    /// Sub-topic IDs registered before it (in time).
    early: HashSet<u32>,
    /// Sub-topic ID → its late registration.
    late: HashMap<u32, Late>,
    /// Sub-topic ID → the first direct message on it after the ready message,
    /// while the client starts up (a registration after it comes too late).
    received: HashMap<u32, Event>,
    /// ETID → arrival index of the client's latest direct message to it.
    spoke: HashMap<u32, u64>,
}

#[derive(Default)]
pub struct ReadyBeforeSubscribed {
    conns: HashMap<u32, Conn>,
}

/// Whether `ev` happened within [`STARTUP`] of `ready` (unknown times: yes).
fn in_startup(ready: &Event, ev: &Event) -> bool {
    match (ready.timestamp(), ev.timestamp()) {
        (Some(r), Some(t)) => t.duration_since(r) <= STARTUP,
        _ => true,
    }
}

impl Rule for ReadyBeforeSubscribed {
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
            Kind::Subscribe => {
                let Some(c) = self.conns.get(&from.etid) else {
                    return;
                };
                let Some(ready) = c.ready.as_ref().filter(|r| in_startup(r, ev)) else {
                    return;
                };
                let topic = ev
                    .to
                    .as_ref()
                    .map(|d| d.label())
                    .unwrap_or_else(|| "a topic".into());
                let f = Finding::new(&INFO, format!("topic\u{0}{topic}"), ev)
                    .since(&ready.ts)
                    .message(format!(
                        "{} subscribed to `{topic}` after sending `{}`: messages on it sent in \
                         answer to the ready message can be missed",
                        ClientRef::of(from).label(),
                        ready.subtopic.as_deref().unwrap_or("ready"),
                    ))
                    .topic(topic);
                out.push(with_ready(f, from, ready));
            }
            Kind::Createsub => {
                let (Some(c), Some(subtid)) = (self.conns.get_mut(&from.etid), ev.subtid) else {
                    return;
                };
                let Some(ready) = c.ready.as_ref() else {
                    if c.early.len() < MAX_LATE {
                        c.early.insert(subtid);
                    }
                    return;
                };
                if !in_startup(ready, ev) || c.early.contains(&subtid) {
                    return;
                }
                if let Some(msg) = c.received.remove(&subtid) {
                    let name = ev.subtopic.clone().unwrap_or_else(|| format!("#{subtid}"));
                    let f = Finding::new(&INFO, format!("subtopic\u{0}{name}"), &msg)
                        .since(&ready.ts)
                        .evidence(ev)
                        .message(format!(
                            "{} registered `{name}` after sending `{}`, and after a `{name}` \
                             message had come: that message found no handler",
                            ClientRef::of(from).label(),
                            ready.subtopic.as_deref().unwrap_or("ready"),
                        ))
                        .subtopic(name);
                    let mut f = with_ready(f, from, ready);
                    f.last_ts = ev.ts.clone();
                    out.push(f);
                } else if c.late.len() < MAX_LATE {
                    c.late.entry(subtid).or_insert(Late {
                        createsub: trim(ev),
                        seq: cx.seq,
                    });
                }
            }
            Kind::Publish => {
                let Some(to) = ev
                    .to
                    .as_ref()
                    .filter(|d| matches!(d.kind, DestType::Client | DestType::Server))
                    .map(|d| d.tid)
                else {
                    return;
                };
                if let Some(c) = self.conns.get_mut(&from.etid) {
                    if c.spoke.len() < MAX_SPOKE || c.spoke.contains_key(&to) {
                        c.spoke.insert(to, cx.seq);
                    }
                    if let Some(s) = ev.subtid {
                        // It sends with it: the registration was for sending.
                        c.late.remove(&s);
                    }
                    let ready = ev
                        .subtopic
                        .as_deref()
                        .is_some_and(|s| cx.config.is_ready(s));
                    if ready && c.ready.is_none() {
                        c.ready = Some(trim(ev));
                    }
                }
                if to == from.etid {
                    return;
                }
                let (Some(c), Some(s)) = (self.conns.get_mut(&to), ev.subtid) else {
                    return;
                };
                let Some(late) = c.late.remove(&s) else {
                    if let Some(ready) = &c.ready
                        && in_startup(ready, ev)
                        && !c.early.contains(&s)
                        && c.received.len() < MAX_LATE
                    {
                        c.received.entry(s).or_insert_with(|| trim(ev));
                    }
                    return;
                };
                // An answer to what the client sent after registering the handler.
                if c.spoke.len() >= MAX_SPOKE
                    || c.spoke.get(&from.etid).is_some_and(|at| *at > late.seq)
                {
                    return;
                }
                let Some(ready) = c.ready.as_ref() else {
                    return;
                };
                let Some(receiver) = cx.world.clients.get(&to) else {
                    return;
                };
                let client = Client {
                    etid: to,
                    uid: receiver.uid.clone(),
                    ..Client::default()
                };
                let name = ev.subtopic.clone().unwrap_or_else(|| format!("#{s}"));
                let f = Finding::new(&INFO, format!("subtopic\u{0}{name}"), &late.createsub)
                    .since(&ready.ts)
                    .evidence(ev)
                    .message(format!(
                        "{} registered `{name}` after sending `{}`, and a `{name}` message came: \
                         one sent before the registration is lost",
                        ClientRef::of(&client).label(),
                        ready.subtopic.as_deref().unwrap_or("ready"),
                    ))
                    .subtopic(name);
                let mut f = with_ready(f, &client, ready);
                f.last_ts = ev.ts.clone();
                out.push(f);
            }
            _ => {}
        }
    }
}

/// The client, the ready message as evidence, and the fix.
fn with_ready(f: Finding, client: &Client, ready: &Event) -> Finding {
    let name = ready.subtopic.as_deref().unwrap_or("ready");
    let mut f = f.client(ClientRef::of(client)).fix(format!(
        "subscribe and register every `self` sub-topic first, then one last subscription \
         whose onack sends `{name}`"
    ));
    // The ready message first: it opened the window.
    f.evidence.insert(0, ready.clone());
    f.evidence.truncate(crate::analyze::MAX_EVIDENCE);
    f
}

#[cfg(test)]
mod tests {
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, Finding, rules};
    use crate::trace::schema::Event;

    fn found(events: &[Event]) -> Vec<Finding> {
        run(
            rules::only("ready-before-subscribed"),
            Config::default(),
            events,
        )
    }

    #[test]
    fn a_subscription_right_after_device_ready_is_found() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "charger-00001"),
            fx.subscribe(5, 100, "SubscriptionBarrier"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
            fx.subscribe(5, 101, "DeviceState"),
        ];
        let found = found(&events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.topic.as_deref(), Some("DeviceState"));
        assert_eq!(f.clients[0].uid.as_deref(), Some("charger-00001"));
        assert_eq!(f.first_ts, events[2].ts);
        assert_eq!(f.last_ts, events[3].ts);
        assert_eq!(f.evidence[0].subtopic.as_deref(), Some("DeviceReady"));
        assert_eq!(f.evidence[1].kind, crate::trace::schema::Kind::Subscribe);
        assert!(
            f.message.contains("after sending `DeviceReady`"),
            "{}",
            f.message
        );
        assert!(f.fix.contains("onack sends `DeviceReady`"), "{}", f.fix);
    }

    #[test]
    fn a_self_handler_registered_after_ready_is_found_when_its_message_comes() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "charger-00001"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
            fx.createsub(5, "SetCharger"),
            fx.direct(1, 5, Some("SetCharger"), r#"{"On":true}"#),
            fx.direct(1, 5, Some("SetCharger"), r#"{"On":false}"#),
        ];
        let found = found(&events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.subtopic.as_deref(), Some("SetCharger"));
        assert_eq!(f.count, 1, "one late registration, one finding");
        assert_eq!(f.clients.len(), 1);
        assert_eq!(f.clients[0].uid.as_deref(), Some("charger-00001"));
        assert_eq!(f.clients[0].etid, 5);
        assert_eq!(f.evidence.len(), 3);
        assert_eq!(f.first_ts, events[1].ts);
        assert_eq!(f.last_ts, events[3].ts);
        assert!(
            f.message.contains("registered `SetCharger`"),
            "{}",
            f.message
        );
    }

    #[test]
    fn a_self_handler_registered_after_its_first_message_came_is_found_at_once() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "charger-00001"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
            fx.direct(1, 5, Some("SetCharger"), r#"{"On":true}"#),
            fx.createsub(5, "SetCharger"),
        ];
        let found = found(&events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.subtopic.as_deref(), Some("SetCharger"));
        assert_eq!(f.evidence.len(), 3);
        assert_eq!(f.evidence[1].subtopic.as_deref(), Some("SetCharger"));
        assert_eq!(f.evidence[2].kind, crate::trace::schema::Kind::Createsub);
        assert_eq!(f.first_ts, events[1].ts);
        assert_eq!(f.last_ts, events[3].ts);
        assert!(f.message.contains("found no handler"), "{}", f.message);
    }

    #[test]
    fn a_sub_topic_registered_after_ready_to_send_with_is_not_found() {
        // The common false positive: a createsub after ready that is for a
        // report the client sends, not for a handler.
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "charger-00001"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
            fx.createsub(5, "ChargerState"),
            fx.direct(5, 1, Some("ChargerState"), "{}"),
            // An echo of the same name later is not a late handler either.
            fx.direct(1, 5, Some("ChargerState"), "{}"),
        ];
        assert!(found(&events).is_empty());
    }

    #[test]
    fn a_response_handler_registered_just_before_its_request_is_not_found() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "browser-0001"),
            fx.direct(5, 1, Some("ClientReady"), "{}"),
            fx.createsub(5, "SearchResp"),
            fx.createsub(5, "SearchReq"),
            fx.direct(5, 1, Some("SearchReq"), "{}"),
            fx.direct(1, 5, Some("SearchResp"), "[]"),
        ];
        assert!(found(&events).is_empty());
    }

    #[test]
    fn subscriptions_before_ready_or_long_after_start_up_are_not_found() {
        let mut fx = Fx::new();
        let mut events = vec![
            fx.connect(5, "browser-0001"),
            fx.subscribe(5, 100, "DeviceState"),
            fx.createsub(5, "SetCharger"),
            fx.direct(5, 1, Some("ClientReady"), "{}"),
            fx.direct(1, 5, Some("SetCharger"), "{}"),
        ];
        fx.advance(10.0);
        // A page the user opened a while later.
        events.push(fx.subscribe(5, 101, "Alarms"));
        events.push(fx.createsub(5, "AlarmDetail"));
        events.push(fx.direct(1, 5, Some("AlarmDetail"), "{}"));
        assert!(found(&events).is_empty(), "{:#?}", found(&events));
    }

    #[test]
    fn a_handler_registered_before_ready_and_again_after_it_is_not_found() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "charger-00001"),
            fx.createsub(5, "SetCharger"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
            fx.direct(1, 5, Some("SetCharger"), "{}"),
            fx.createsub(5, "SetCharger"),
            fx.direct(1, 5, Some("SetCharger"), "{}"),
        ];
        assert!(found(&events).is_empty(), "{:#?}", found(&events));
    }

    #[test]
    fn late_registrations_received_and_early_ones_are_kept_up_to_max_late() {
        let max = super::MAX_LATE;
        // Late registrations: MAX_LATE kept, so MAX_LATE findings.
        let mut fx = Fx::new();
        let mut events = vec![
            fx.connect(5, "charger-00001"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
        ];
        for i in 0..=max {
            events.push(fx.createsub(5, &format!("Cmd{i}")));
        }
        for i in 0..=max {
            events.push(fx.direct(1, 5, Some(&format!("Cmd{i}")), "{}"));
        }
        assert_eq!(found(&events).len(), max, "late");
        // Messages before their registration: MAX_LATE remembered.
        let mut fx = Fx::new();
        let mut events = vec![
            fx.connect(5, "charger-00001"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
        ];
        for i in 0..=max {
            events.push(fx.direct(1, 5, Some(&format!("Cmd{i}")), "{}"));
        }
        for i in 0..=max {
            events.push(fx.createsub(5, &format!("Cmd{i}")));
        }
        assert_eq!(found(&events).len(), max, "received");
        // Early registrations: MAX_LATE remembered, the one past it is not,
        // so registering it again after ready (after its message) is found.
        let mut fx = Fx::new();
        let mut events = vec![fx.connect(5, "charger-00001")];
        for i in 0..=max {
            events.push(fx.createsub(5, &format!("Cmd{i}")));
        }
        events.push(fx.direct(5, 1, Some("DeviceReady"), "{}"));
        for i in [0, max - 1, max] {
            events.push(fx.direct(1, 5, Some(&format!("Cmd{i}")), "{}"));
            events.push(fx.createsub(5, &format!("Cmd{i}")));
        }
        let found = found(&events);
        let subs: Vec<_> = found.iter().filter_map(|f| f.subtopic.clone()).collect();
        assert_eq!(subs, [format!("Cmd{max}")], "early");
    }

    #[test]
    fn a_client_that_spoke_to_max_spoke_etids_is_taken_as_answered() {
        for spoke in [super::MAX_SPOKE - 1, super::MAX_SPOKE] {
            let mut fx = Fx::new();
            let mut events = vec![
                fx.connect(5, "browser-0001"),
                fx.direct(5, 1, Some("ClientReady"), "{}"),
                fx.createsub(5, "Push"),
            ];
            for to in 0..spoke as u32 - 1 {
                events.push(fx.direct(5, 10_000 + to, None, "{}"));
            }
            events.push(fx.direct(1, 5, Some("Push"), "{}"));
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
        events.push(fx.direct(last, 1, Some("DeviceReady"), "{}"));
        events.push(fx.subscribe(last, 100, "Past"));
        // A tracked one reconnects at the cap: its barrier starts over.
        events.push(fx.direct(10, 1, Some("DeviceReady"), "{}"));
        events.push(fx.connect(10, "c-000001"));
        events.push(fx.subscribe(10, 101, "Before"));
        events.push(fx.direct(10, 1, Some("DeviceReady"), "{}"));
        events.push(fx.subscribe(10, 102, "After"));
        let found = found(&events);
        let topics: Vec<_> = found.iter().filter_map(|f| f.topic.as_deref()).collect();
        assert_eq!(topics, ["After"]);
    }

    #[test]
    fn the_start_up_window_ends_at_ten_seconds_exactly() {
        let mut fx = Fx::new();
        let mut events = vec![
            fx.connect(5, "browser-0001"),
            fx.direct(5, 1, Some("ClientReady"), "{}"),
        ];
        // The fixture's clock moves 0.1 s per event: 9.9 + 0.1 = 10 s after.
        fx.advance(9.9);
        events.push(fx.subscribe(5, 100, "AtTen"));
        events.push(fx.subscribe(5, 101, "Later"));
        let found = found(&events);
        let topics: Vec<_> = found.iter().filter_map(|f| f.topic.as_deref()).collect();
        assert_eq!(topics, ["AtTen"]);
    }

    #[test]
    fn a_report_before_the_ready_message_does_not_open_the_window() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "charger-00001"),
            fx.direct(5, 1, Some("ChargerState"), "{}"),
            fx.subscribe(5, 100, "DeviceState"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
        ];
        assert!(found(&events).is_empty(), "{:#?}", found(&events));
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
        events.push(fx.direct(next, 1, Some("DeviceReady"), "{}"));
        events.push(fx.subscribe(next, 100, "Late"));
        assert_eq!(found(&events).len(), 1);
    }

    #[test]
    fn a_reconnect_starts_the_barrier_again() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "charger-00001"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
            fx.close(5, "reconnect"),
            fx.connect(5, "charger-00001"),
            fx.subscribe(5, 101, "DeviceState"),
            fx.direct(5, 1, Some("DeviceReady"), "{}"),
        ];
        assert!(found(&events).is_empty());
    }
}
