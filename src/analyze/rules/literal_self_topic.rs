//! `literal-self-topic`: a topic literally named `self` on the wire: `self`
//! is a client-side name for the client's own ETID, never a shared topic.

use crate::analyze::{ClientRef, Cx, Finding, Rule, RuleInfo, Severity, Sink};
use crate::trace::schema::{DestType, Event, Kind};

pub static INFO: RuleInfo = RuleInfo {
    name: "literal-self-topic",
    severity: Severity::Warning,
    summary: "a topic literally named `self`: `self` means the client's own ETID, not a topic",
    explain: "\
What: a client subscribed to, created or published to a topic named `self` on
the wire.

Why it breaks apps: `self` is a name client libraries resolve locally to the
client's own ETID: subscribe(\"self\", \"SetCharger\") registers a handler for
direct messages and sends no Subscribe at all. A client that sends `self` to the
broker (a hand-written client, or a name built as a string) creates an ordinary
shared topic called `self`: everyone who makes that mistake receives everyone
else's \"direct\" messages, and messages sent to the client's ETID still go
elsewhere (the guide's \"forgetting that self is a special topic name, not a
literal shared topic\" pitfall).

Fix: resolve `self` in the client: direct messages need no subscription on the
wire, only a handler for their sub-topic; to send to a client, publish to its
ETID (the `ptid` of its messages).

Example: a C client sends Subscribe \"self\" and gets TID 0x5e1f0001 back; the
broker's replies to the client's ETID never reach that subscription.",
    brokers: "Every source: subscribe, create and publish events carry the topic \
name. RTL's and smqctl's clients never send `self`; the server-side API resolves \
it to the broker's own ETID.",
};

#[derive(Default)]
pub struct LiteralSelfTopic;

impl Rule for LiteralSelfTopic {
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
        let is_self = ev
            .to
            .as_ref()
            .is_some_and(|d| d.kind == DestType::Topic && d.name.as_deref() == Some("self"));
        if !is_self {
            return;
        }
        let who = ev.from.as_ref().map(ClientRef::of);
        let mut f = Finding::new(&INFO, "self", ev)
            .message(format!(
                "{} {verb} a topic literally named `self`: a shared topic, not its own ETID",
                who.as_ref()
                    .map(|c| c.label())
                    .unwrap_or_else(|| "a client".into()),
            ))
            .fix(
                "resolve `self` in the client (its own ETID): register a handler per \
                 sub-topic, send nothing for it to the broker",
            )
            .topic("self");
        if let Some(c) = who {
            f = f.client(c);
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};

    #[test]
    fn a_subscribe_to_a_topic_named_self_is_found() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "c-client-01"),
            fx.subscribe(5, 100, "self"),
            fx.connect(6, "c-client-02"),
            fx.publish(6, 100, "self", Some("Hello"), "{}"),
        ];
        let found = run(
            rules::only("literal-self-topic"),
            Config::default(),
            &events,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].count, 2);
        assert_eq!(found[0].topic.as_deref(), Some("self"));
        assert!(
            found[0]
                .message
                .starts_with("c-client-02 (etid 6) published to a topic literally named `self`")
        );
        assert_eq!(found[0].clients.len(), 2);
    }

    #[test]
    fn a_create_of_a_topic_named_self_is_found_and_says_created() {
        let mut fx = Fx::new();
        let events = [fx.connect(7, "c-client-03"), fx.create(7, 100, "self")];
        let found = run(
            rules::only("literal-self-topic"),
            Config::default(),
            &events,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].message,
            "c-client-03 (etid 7) created a topic literally named `self`: a shared topic, not \
             its own ETID"
        );
        assert_eq!(found[0].topic.as_deref(), Some("self"));
    }

    #[test]
    fn direct_messages_and_similar_names_are_not_found() {
        // The client's own ETID (what `self` really means) and topics that
        // only look like it.
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "browser-0001"),
            fx.direct(5, 5, Some("self"), "{}"),
            fx.subscribe(5, 100, "Self"),
            fx.subscribe(5, 101, "self/test"),
            fx.createsub(5, "self"),
        ];
        assert!(
            run(
                rules::only("literal-self-topic"),
                Config::default(),
                &events
            )
            .is_empty()
        );
    }
}
