//! `orphan-response`: a reply (`FooResp`, `$RpcResp`) to a client that has no
//! matching request waiting.

use crate::analyze::requests::Outcome;
use crate::analyze::{ClientRef, Cx, Finding, Rule, RuleInfo, Severity, Sink};
use crate::trace::schema::Event;

pub static INFO: RuleInfo = RuleInfo {
    name: "orphan-response",
    severity: Severity::Warning,
    summary: "a FooResp / $RpcResp to a client with no matching request waiting",
    explain: "\
What: a direct message on a reply sub-topic (`SearchSitesResp`, or `$RpcResp`
with an id) reached a client that has no matching request waiting: it never
sent `SearchSitesReq` (or `$RpcReq` with that id), or its request was already
answered. A reply after --reply-timeout is not an orphan: it counts as late in
the request table.

Why it breaks apps: the receiver's pending-call table has nothing to resolve,
so the reply is dropped or, worse, resolves the wrong call: a responder that
answers twice, copies the wrong id, or replies to the wrong ETID (a stored ETID
from an old connection, a broadcast instead of `ptid`).

Fix: reply once per request, to the ETID the request came from (`ptid`),
copying the request's `id` into `$RpcResp`. Responders must not keep ETIDs
across reconnects.

Example: a handler answers `SetChargerReq` twice (once on success, once in a
finally block): the second `SetChargerResp` is an orphan.",
    brokers: "Every source. For --reply-timeout after the trace starts (and after \
a re-attach or skipped events), replies without a request seen are not reported: \
their request may predate the trace. A reply to an ETID that is gone is \
stale-etid's finding, not this one.",
};

#[derive(Default)]
pub struct OrphanResponse;

impl Rule for OrphanResponse {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, _cx: &Cx, _ev: &Event, _out: &mut Sink) {}

    fn request(&mut self, _cx: &Cx, o: &Outcome, out: &mut Sink) {
        let Outcome::Orphan {
            reply,
            expected,
            to,
        } = o
        else {
            return;
        };
        let sub = reply.subtopic.clone().unwrap_or_default();
        let from = reply
            .from
            .as_ref()
            .map(|c| ClientRef::of(c).label())
            .unwrap_or_else(|| "?".into());
        let mut f = Finding::new(&INFO, format!("{}\u{0}{sub}", to.etid), reply)
            .message(format!(
                "{sub} from {from} to {} matches no request waiting ({expected} was not sent, or was already answered)",
                to.label()
            ))
            .fix("reply once per request, to the requester's ETID (ptid), copying its id into $RpcResp")
            .client(to.clone())
            .subtopic(sub);
        if let Some(c) = &reply.from {
            f = f.client(ClientRef::of(c));
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};
    use crate::trace::schema::Snapshot;

    fn config() -> Config {
        Config {
            reply_timeout: Duration::from_secs(2),
            ..Config::default()
        }
    }

    #[test]
    fn a_second_reply_to_one_request_is_an_orphan() {
        let mut fx = Fx::new();
        let connect = fx.connect(5, "ui-000001");
        fx.advance(3.0); // past the grace after the trace's start
        let events = [
            connect,
            fx.direct(5, 1, Some("SetChargerReq"), "{}"),
            fx.direct(1, 5, Some("SetChargerResp"), "{}"),
            fx.direct(1, 5, Some("SetChargerResp"), "{}"),
        ];
        let found = run(rules::only("orphan-response"), config(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.subtopic.as_deref(), Some("SetChargerResp"));
        assert_eq!(f.clients[0].uid.as_deref(), Some("ui-000001"));
        assert!(
            f.message.contains("SetChargerReq was not sent"),
            "{}",
            f.message
        );
    }

    #[test]
    fn an_rpc_reply_with_an_id_nobody_sent_is_an_orphan() {
        let mut fx = Fx::new();
        let mut events = vec![fx.connect(5, "ui-000001")];
        fx.advance(3.0); // past the grace after the trace's start
        events.push(fx.direct(5, 1, Some("$RpcReq"), r#"{"id":1,"name":"add","args":[]}"#));
        events.push(fx.direct(1, 5, Some("$RpcResp"), r#"{"id":9,"rsp":0}"#));
        let found = run(rules::only("orphan-response"), config(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].message.contains("$RpcReq id 9"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_reply_just_after_the_trace_began_is_not_an_orphan() {
        // The request was sent before the tracer attached.
        let mut fx = Fx::new();
        let events = [
            fx.snapshot(Snapshot::default()),
            fx.connect(5, "ui-000001"),
            fx.direct(1, 5, Some("SetChargerResp"), "{}"),
        ];
        assert!(run(rules::only("orphan-response"), config(), &events).is_empty());
    }

    #[test]
    fn a_reply_just_after_a_file_without_a_snapshot_begins_is_not_an_orphan() {
        // A recording cut from a longer one: no snapshot, the request before it.
        let mut fx = Fx::new();
        let mut events = vec![
            fx.connect(6, "ui-000002"),
            fx.direct(1, 5, Some("SetChargerResp"), "{}"),
        ];
        assert!(run(rules::only("orphan-response"), config(), &events).is_empty());
        fx.advance(3.0);
        events.push(fx.direct(1, 5, Some("SetChargerResp"), "{}"));
        assert_eq!(
            run(rules::only("orphan-response"), config(), &events).len(),
            1,
            "after the grace it is one"
        );
    }

    #[test]
    fn a_late_reply_is_late_not_an_orphan() {
        let mut fx = Fx::new();
        let mut events = vec![
            fx.connect(5, "ui-000001"),
            fx.direct(5, 1, Some("SlowReq"), "{}"),
        ];
        fx.advance(5.0);
        events.push(fx.direct(1, 5, Some("SlowResp"), "{}"));
        let mut a = crate::analyze::Analyzer::with_rules(config(), rules::only("orphan-response"));
        for e in &events {
            a.feed(e);
        }
        a.finish();
        assert!(a.findings().is_empty(), "{:#?}", a.findings());
        let row = &a.requests().table()[0];
        assert_eq!(
            (row.calls, row.answered, row.late, row.unanswered),
            (1, 0, 1, 0)
        );
    }
}
