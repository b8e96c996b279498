//! `mqtt-wildcard`: topic names with MQTT-style wildcard segments (`#`, `+`,
//! `*`): SMQ has no wildcards, so such a name is just a literal topic.

use crate::analyze::{ClientRef, Cx, Finding, Rule, RuleInfo, Severity, Sink};
use crate::trace::schema::{DestType, Event, Kind};

pub static INFO: RuleInfo = RuleInfo {
    name: "mqtt-wildcard",
    severity: Severity::Warning,
    summary: "a topic name with an MQTT-style wildcard segment (`#`, `+`, `*`): SMQ has none",
    explain: "\
What: a client subscribed to, created or published to a topic whose name has
a segment (between `/`) that is exactly `#`, `+` or `*`, such as `devices/#`,
`+/state` or `sensors/*`. Names that merely contain those characters
(`C++/news`, `a+b`) are not reported.

Why it breaks apps: SMQ topic names are opaque strings turned into topic IDs;
there are no wildcards and no topic hierarchy. `devices/#` is one more literal
topic: its subscriber receives nothing published to `devices/dev-01`, and
nothing says so (the guide's \"treating SMQ like MQTT and trying to use
wildcard subscriptions\" pitfall).

Fix: subscribe to each topic by its full name, or publish every device's
messages on one shared topic (`DeviceState`) and tell devices apart by a field
in the payload or by the sender's ETID (`ptid`); use sub-topics for message
types.

Example: a dashboard subscribes to `chargers/+/state`; instead the chargers
report to the broker, which publishes `ChargerState` with `ChargerID` in the
payload, and the dashboard subscribes to `ChargerState`.",
    brokers: "Every source: subscribe, create and publish events carry the topic \
name the broker resolved.",
};

/// Whether `name` has a segment that is an MQTT (or glob) wildcard.
pub fn has_wildcard(name: &str) -> bool {
    name.split('/').any(|seg| matches!(seg, "#" | "+" | "*"))
}

#[derive(Default)]
pub struct MqttWildcard;

impl Rule for MqttWildcard {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, _cx: &Cx, ev: &Event, out: &mut Sink) {
        let verb = match ev.kind {
            Kind::Subscribe => "subscribed to",
            Kind::Create => "created",
            Kind::Publish | Kind::Drop => "published to",
            _ => return,
        };
        let Some(name) = ev
            .to
            .as_ref()
            .filter(|d| d.kind == DestType::Topic)
            .and_then(|d| d.name.as_deref())
            .filter(|n| has_wildcard(n))
        else {
            return;
        };
        let who = ev.from.as_ref().map(ClientRef::of);
        let mut f = Finding::new(&INFO, name, ev)
            .message(format!(
                "{} {verb} `{name}`: SMQ has no wildcards, so this is a literal topic of that \
                 name and matches no other",
                who.as_ref()
                    .map(|c| c.label())
                    .unwrap_or_else(|| "a client".into()),
            ))
            .fix(
                "use full topic names; publish one shared topic and tell senders apart by \
                 payload field or ptid",
            )
            .topic(name);
        if let Some(c) = who {
            f = f.client(c);
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::has_wildcard;
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};

    #[test]
    fn a_subscription_to_an_mqtt_wildcard_topic_is_found() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "dashboard-1"),
            fx.subscribe(5, 100, "chargers/+/state"),
            fx.connect(6, "dashboard-2"),
            fx.subscribe(6, 100, "chargers/+/state"),
            fx.publish(6, 101, "devices/#", None, "{}"),
            fx.create(6, 102, "*"),
        ];
        let found = run(rules::only("mqtt-wildcard"), Config::default(), &events);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert_eq!(found[0].topic.as_deref(), Some("chargers/+/state"));
        assert_eq!(found[0].count, 2);
        assert_eq!(found[0].clients.len(), 2);
        // A merged finding says what its latest occurrence did.
        assert!(
            found[0]
                .message
                .starts_with("dashboard-2 (etid 6) subscribed to `chargers/+/state`")
        );
        assert!(found[1].message.contains("published to `devices/#`"));
        assert!(found[2].message.contains("created `*`"));
    }

    #[test]
    fn names_that_only_contain_wildcard_characters_are_not_found() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "dashboard-1"),
            fx.subscribe(5, 100, "C++/news"),
            fx.subscribe(5, 101, "rate+1"),
            fx.subscribe(5, 102, "#hashtag"),
            fx.publish(5, 103, "a*b", None, "{}"),
            fx.direct(5, 1, Some("#"), "{}"),
        ];
        assert!(run(rules::only("mqtt-wildcard"), Config::default(), &events).is_empty());
    }

    #[test]
    fn wildcard_segments() {
        for yes in ["#", "+", "*", "a/#", "+/b", "a/*/c"] {
            assert!(has_wildcard(yes), "{yes}");
        }
        for no in ["", "a", "a#", "++", "a/b", "a/+b", "**"] {
            assert!(!has_wildcard(no), "{no}");
        }
    }
}
