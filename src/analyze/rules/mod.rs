//! The catalogue: one rule per file, each with its doc ([`RuleInfo`]), its
//! severity and its tests. Rule names are part of the interface: keep them
//! stable. To add a rule: a file here with a `pub static INFO: RuleInfo` and
//! a type implementing [`Rule`], then one line in [`catalogue`].
//!
//! May import: crate::analyze, crate::trace (the schema), serde_json, jiff,
//! strsim (edit distance for "did you mean").

use super::{Rule, RuleInfo};

mod client_to_client;
mod dynamic_topics;
mod large_payload;
mod mixed_payload_types;
mod no_subscribers;
mod orphan_response;
mod pending_at_close;
mod reconnect_storm;
mod slow_consumer;
mod stale_etid;
mod unanswered_request;

/// A fresh instance of every rule, in catalogue order.
pub fn catalogue() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(no_subscribers::NoSubscribers::default()),
        Box::new(stale_etid::StaleEtid::default()),
        Box::new(unanswered_request::UnansweredRequest),
        Box::new(orphan_response::OrphanResponse),
        Box::new(pending_at_close::PendingAtClose),
        Box::new(client_to_client::ClientToClient::default()),
        Box::new(dynamic_topics::DynamicTopics::default()),
        Box::new(large_payload::LargePayload),
        Box::new(mixed_payload_types::MixedPayloadTypes::default()),
        Box::new(reconnect_storm::ReconnectStorm::default()),
        Box::new(slow_consumer::SlowConsumer::default()),
    ]
}

/// Every rule's catalogue entry, in catalogue order.
pub fn infos() -> Vec<&'static RuleInfo> {
    catalogue().iter().map(|r| r.info()).collect()
}

/// The rule named `name`.
pub fn info(name: &str) -> Option<&'static RuleInfo> {
    infos().into_iter().find(|i| i.name == name)
}

/// Just the rule named `name` (tests).
#[cfg(test)]
pub(crate) fn only(name: &str) -> Vec<Box<dyn Rule>> {
    let rules: Vec<Box<dyn Rule>> = catalogue()
        .into_iter()
        .filter(|r| r.info().name == name)
        .collect();
    assert_eq!(rules.len(), 1, "no rule named {name}");
    rules
}

/// Feeds `events` straight to one rule (no world: it stays empty), for tests
/// of a rule's own tables; returns what it reported.
#[cfg(test)]
pub(crate) fn observe_all(
    rule: &mut dyn Rule,
    events: impl IntoIterator<Item = crate::trace::schema::Event>,
) -> Vec<super::Finding> {
    let world = super::World::default();
    let config = super::Config::default();
    let mut sink = super::Sink::default();
    let cx = super::Cx {
        world: &world,
        config: &config,
        seq: 0,
        now: None,
    };
    for e in events {
        rule.observe(&cx, &e, &mut sink);
    }
    sink.found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_unique_kebab_case_and_documented() {
        let infos = infos();
        let mut names: Vec<&str> = infos.iter().map(|i| i.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "duplicate rule names");
        for i in infos {
            assert!(
                i.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                i.name
            );
            assert!(
                !i.summary.is_empty() && !i.summary.contains('\n'),
                "{}",
                i.name
            );
            for part in ["Why", "Fix", "Example"] {
                assert!(i.explain.contains(part), "{}: explain lacks {part}", i.name);
            }
            assert!(!i.brokers.is_empty(), "{}", i.name);
        }
    }
}
