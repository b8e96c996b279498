//! `mixed-payload-types`: a topic or sub-topic that carries JSON and non-JSON
//! payloads.

use std::collections::HashMap;

use crate::analyze::{ClientRef, Cx, Finding, MAX_TOPICS, Rule, RuleInfo, Severity, Sink, trim};
use crate::trace::schema::{DestType, Encoding, Event, Kind};

pub static INFO: RuleInfo = RuleInfo {
    name: "mixed-payload-types",
    severity: Severity::Warning,
    summary: "a topic or sub-topic that carries JSON and non-JSON payloads",
    explain: "\
What: one topic (with its sub-topic), or one sub-topic of direct messages,
carried both JSON payloads (an object or an array) and payloads that are not
JSON at all (text that does not parse, or binary).

Only what is certain counts: a payload whose preview was cut (larger than the
tracer's preview, or than the hook's) may be JSON and is not counted as
text; an empty payload and a bare JSON scalar (`42`, `true`, `\"on\"`, which a
text topic carries as often as a JSON one) count as neither. So a text topic
whose values sometimes happen to parse as JSON is not reported.

Why it breaks apps: a subscriber states the payload type it expects
(`datatype:\"json\"` in JavaScript, pubjson/JSON decoding in Lua); on the
other payloads its callback gets nothing usable or throws, so some messages
silently do nothing. The guide: \"subscribing with datatype:\\\"json\\\" to a binary
message\"; checklist item 15, \"subscription datatype matches each message's
JSON, text, or binary payload\".

Fix: one payload type per topic and sub-topic. Send binary or text on a
sub-topic (or topic) of its own, or wrap it in JSON (`{\"text\":\"…\"}`, base64
in a field).

Example: a device publishes `{\"temp\":21.5}` to `DeviceState` and, after a
firmware change, `21.5 C`: \"`DeviceState` carries JSON (from dev-000001) and
non-JSON text (from dev-000002)\".",
    brokers: "Every source: the event's `encoding` (`json` only when the whole \
payload parsed). A tracer attached with --preview 0 sees no payload and the rule \
has nothing to check.",
};

/// What one payload certainly is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Type {
    Json,
    Text,
    Binary,
}

impl Type {
    fn of(ev: &Event) -> Option<Type> {
        if ev.size == Some(0) {
            return None;
        }
        match ev.encoding? {
            Encoding::Json => {
                let p = ev.payload.as_deref()?.trim_start();
                (p.starts_with('{') || p.starts_with('[')).then_some(Type::Json)
            }
            Encoding::Text if !ev.truncated => Some(Type::Text),
            Encoding::Text => None,
            Encoding::Base64 => Some(Type::Binary),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Type::Json => "JSON",
            Type::Text => "non-JSON text",
            Type::Binary => "binary",
        }
    }
}

/// The first JSON and the first non-JSON message seen on one key.
#[derive(Default)]
struct Seen {
    json: Option<Event>,
    other: Option<(Type, Event)>,
    reported: bool,
}

#[derive(Default)]
pub struct MixedPayloadTypes {
    keys: HashMap<String, Seen>,
}

fn sender(ev: &Event) -> String {
    ev.from
        .as_ref()
        .map(|c| ClientRef::of(c).label())
        .unwrap_or_else(|| "a client".into())
}

impl Rule for MixedPayloadTypes {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, _cx: &Cx, ev: &Event, out: &mut Sink) {
        if !matches!(ev.kind, Kind::Publish | Kind::Drop) || ev.is_miss() || ev.is_reserved() {
            return;
        }
        let Some(to) = &ev.to else {
            return;
        };
        let Some(t) = Type::of(ev) else {
            return;
        };
        let sub = ev.subtopic.as_deref().unwrap_or("");
        let (key, topic) = match (to.kind, &to.name) {
            (DestType::Topic, Some(name)) => (format!("topic\u{0}{name}\u{0}{sub}"), Some(name)),
            (DestType::Client | DestType::Server, _) if !sub.is_empty() => {
                (format!("direct\u{0}{sub}"), None)
            }
            _ => return,
        };
        if self.keys.len() >= MAX_TOPICS && !self.keys.contains_key(&key) {
            return;
        }
        let seen = self.keys.entry(key.clone()).or_default();
        match t {
            Type::Json if seen.json.is_none() => seen.json = Some(trim(ev)),
            Type::Text | Type::Binary if seen.other.is_none() => {
                seen.other = Some((t, trim(ev)));
            }
            _ => {}
        }
        if seen.reported {
            return;
        }
        let (Some(json), Some((other, text))) = (&seen.json, &seen.other) else {
            return;
        };
        seen.reported = true;
        let what = match (topic, sub) {
            (Some(name), "") => format!("`{name}`"),
            (Some(name), sub) => format!("`{name}` / `{sub}`"),
            (None, sub) => format!("direct messages on sub-topic `{sub}`"),
        };
        // This event completed the pair: the other one came first.
        let (first, second) = if t == Type::Json {
            (text, json)
        } else {
            (json, text)
        };
        let mut f = Finding::new(&INFO, key, first)
            .message(format!(
                "{what} carries JSON (from {}) and {} (from {}): a subscriber that decodes JSON \
                 fails on the rest",
                sender(json),
                other.name(),
                sender(text)
            ))
            .fix(
                "one payload type per topic and sub-topic: move the other payloads to a \
                 sub-topic of their own, or wrap them in JSON",
            )
            .evidence(second);
        f.last_ts = ev.ts.clone();
        for e in [json, text] {
            if let Some(c) = &e.from {
                f = f.client(ClientRef::of(c));
            }
        }
        if let Some(name) = topic {
            f = f.topic(name.clone());
        }
        if !sub.is_empty() {
            f = f.subtopic(sub);
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};

    #[test]
    fn json_and_text_on_one_topic_are_found_with_both_publishers() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "dev-000001"),
            fx.connect(6, "dev-000002"),
            fx.publish(5, 100, "DeviceState", None, r#"{"temp":21.5}"#),
            fx.publish(5, 100, "DeviceState", None, r#"{"temp":21.6}"#),
            fx.publish(6, 100, "DeviceState", None, "21.5 C"),
            fx.publish(6, 100, "DeviceState", None, "21.6 C"),
        ];
        let found = run(
            rules::only("mixed-payload-types"),
            Config::default(),
            &events,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(
            f.message,
            "`DeviceState` carries JSON (from dev-000001 (etid 5)) and non-JSON text (from \
             dev-000002 (etid 6)): a subscriber that decodes JSON fails on the rest"
        );
        assert_eq!(f.topic.as_deref(), Some("DeviceState"));
        assert_eq!(f.subtopic, None);
        assert_eq!(f.clients.len(), 2);
        assert_eq!(f.evidence, vec![events[2].clone(), events[4].clone()]);
        assert_eq!(
            (f.first_ts.as_str(), f.last_ts.as_str()),
            (events[2].ts.as_str(), events[4].ts.as_str())
        );
    }

    #[test]
    fn binary_on_a_direct_sub_topic_of_json_is_found() {
        let mut fx = Fx::new();
        let mut bin = fx.direct(1, 5, Some("Firmware"), "x");
        bin.encoding = Some(crate::trace::schema::Encoding::Base64);
        bin.payload = Some("AP8=".into());
        let events = [
            fx.connect(5, "dev-000001"),
            bin,
            fx.direct(1, 5, Some("Firmware"), "later text"),
            fx.direct(1, 5, Some("Firmware"), r#"{"url":"/fw/2"}"#),
        ];
        let found = run(
            rules::only("mixed-payload-types"),
            Config::default(),
            &events,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0]
                .message
                .starts_with("direct messages on sub-topic `Firmware` carries JSON"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("and binary"),
            "{}",
            found[0].message
        );
        // The first non-JSON message is the evidence, not a later one.
        assert_eq!(
            found[0].evidence[0].encoding,
            Some(crate::trace::schema::Encoding::Base64)
        );
    }

    #[test]
    fn a_topics_subtopic_is_named_and_arrays_are_json() {
        let mut fx = Fx::new();
        let events = [
            fx.publish(5, 100, "Plant", Some("Temp"), "[21.5]"),
            fx.publish(5, 100, "Plant", Some("Temp"), "warm"),
        ];
        let found = run(
            rules::only("mixed-payload-types"),
            Config::default(),
            &events,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0]
                .message
                .starts_with("`Plant` / `Temp` carries JSON"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].subtopic.as_deref(), Some("Temp"));
    }

    #[test]
    fn misses_denials_tracer_messages_and_direct_messages_without_a_subtopic_are_not_counted() {
        let mut fx = Fx::new();
        let miss = crate::trace::schema::queue_full_reason(Some("slow"), 9);
        let mut deny = fx.publish(5, 100, "DeviceState", None, "text");
        deny.kind = crate::trace::schema::Kind::Deny;
        let mut own = fx.publish(5, 100, "DeviceState", None, "text");
        own.subtopic = Some(crate::trace::schema::SUB_EVENTS.into());
        let events = [
            fx.publish(5, 100, "DeviceState", None, r#"{"a":1}"#),
            fx.drop(5, Fx::topic(100, "DeviceState"), None, "text", &miss),
            deny,
            own,
            fx.direct(5, 6, None, r#"{"a":1}"#),
            fx.direct(5, 6, None, "text"),
        ];
        assert!(
            run(
                rules::only("mixed-payload-types"),
                Config::default(),
                &events
            )
            .is_empty()
        );
    }

    #[test]
    fn cut_previews_json_scalars_and_empty_payloads_are_not_mixing() {
        let mut fx = Fx::new();
        // A large JSON payload whose preview was cut reads as truncated text.
        let mut cut = fx.publish(5, 100, "DeviceState", None, r#"{"log":"aaaa"#);
        cut.truncated = true;
        let events = [
            fx.connect(5, "dev-000001"),
            fx.publish(5, 100, "DeviceState", None, r#"{"temp":21.5}"#),
            cut,
            fx.publish(5, 100, "DeviceState", None, ""),
            // A text topic whose values sometimes parse as JSON scalars.
            fx.publish(5, 101, "Chat", None, "hello"),
            fx.publish(5, 101, "Chat", None, "42"),
            fx.publish(5, 101, "Chat", None, "true"),
            // The same sub-topic name on different topics is not one key.
            fx.publish(5, 102, "A", Some("S"), "{}"),
            fx.publish(5, 103, "B", Some("S"), "text"),
        ];
        assert!(
            run(
                rules::only("mixed-payload-types"),
                Config::default(),
                &events
            )
            .is_empty()
        );
    }

    #[test]
    fn its_table_stops_growing_at_its_cap() {
        use super::MixedPayloadTypes;
        use crate::analyze::MAX_TOPICS;
        let mut fx = Fx::new();
        let mut rule = MixedPayloadTypes::default();
        let names: Vec<String> = (0..=MAX_TOPICS).map(|i| format!("t{i}")).collect();
        let first = names.iter().map(|n| fx.publish(5, 1, n, None, "{}"));
        let first: Vec<_> = first.collect();
        rules::observe_all(&mut rule, first);
        assert_eq!(rule.keys.len(), MAX_TOPICS);
        // A kept key still finds its mix.
        let found = rules::observe_all(&mut rule, [fx.publish(5, 1, "t0", None, "text")]);
        assert_eq!(found.len(), 1);
    }
}
