//! `large-payload`: messages bigger than `--large` (default 16 KiB).

use crate::analyze::{ClientRef, Cx, Finding, Rule, RuleInfo, Severity, Sink};
use crate::trace::schema::{Event, Kind};

pub static INFO: RuleInfo = RuleInfo {
    name: "large-payload",
    severity: Severity::Warning,
    summary: "payloads over --large (default 16 KiB): move bulk data to HTTP/REST",
    explain: "\
What: a client (or the server) published a message whose payload is larger
than --large bytes (default 16384).

Why it breaks apps: SMQ is for small, frequent messages. One SMQ frame holds at
most 0xFFF0 bytes; a large message holds every receiver's queue while it is
written, so small real-time messages behind it wait, and a slow receiver's
queue fills (drops). Firmware images, logs and files over SMQ are the guide's
\"moving firmware binaries over SMQ instead of REST\" pitfall.

Fix: keep SMQ messages small (state, commands, notifications). Move bulk data
to HTTP/REST: publish a small message that carries a URL, and let the receiver
fetch it.

Example: a device publishes its 40 KiB log to `Logs`; instead it uploads the
log with an HTTP POST and publishes {\"log\":\"/logs/dev-000001/42\"}.",
    brokers: "Every source: the event's `size` is the full payload size, even when \
the payload itself is only a preview.",
};

/// One finding per topic (or destination) and sub-topic.
#[derive(Default)]
pub struct LargePayload;

impl Rule for LargePayload {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, cx: &Cx, ev: &Event, out: &mut Sink) {
        if !matches!(ev.kind, Kind::Publish | Kind::Drop) {
            return;
        }
        let Some(size) = ev.size.filter(|s| *s > cx.config.large) else {
            return;
        };
        let to = ev.to.as_ref().map(|d| d.label()).unwrap_or_default();
        let sub = ev.subtopic.clone();
        let key = format!("{to}\u{0}{}", sub.as_deref().unwrap_or(""));
        let who = ev.from.as_ref().map(ClientRef::of);
        let mut f = Finding::new(&INFO, key, ev)
            .message(format!(
                "{} published {size} bytes to {to}{} (over the {} byte limit of --large)",
                who.as_ref()
                    .map(|c| c.label())
                    .unwrap_or_else(|| "a client".into()),
                sub.as_deref()
                    .map(|s| format!(" / {s}"))
                    .unwrap_or_default(),
                cx.config.large
            ))
            .fix("keep SMQ messages small; move bulk data to HTTP/REST and publish a URL to it");
        if let Some(c) = who {
            f = f.client(c);
        }
        if let Some(d) = &ev.to
            && let Some(name) = &d.name
        {
            f = f.topic(name.clone());
        }
        if let Some(s) = sub {
            f = f.subtopic(s);
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};

    fn config() -> Config {
        Config {
            large: 100,
            ..Config::default()
        }
    }

    #[test]
    fn a_payload_over_the_limit_is_found_with_sender_topic_and_size() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "dev-000001"),
            fx.publish(5, 100, "Logs", Some("Upload"), &"x".repeat(101)),
        ];
        let found = run(rules::only("large-payload"), config(), &events);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.topic.as_deref(), Some("Logs"));
        assert_eq!(f.subtopic.as_deref(), Some("Upload"));
        assert_eq!(f.clients[0].uid.as_deref(), Some("dev-000001"));
        assert!(f.message.contains("101 bytes"), "{}", f.message);
    }

    #[test]
    fn a_payload_at_the_limit_is_not_a_finding() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "dev-000001"),
            fx.publish(5, 100, "Logs", None, &"x".repeat(100)),
        ];
        assert!(run(rules::only("large-payload"), config(), &events).is_empty());
    }
}
