//! `unanswered-request`: a request (`FooReq`, `$RpcReq` id N) with no reply
//! (`FooResp`, `$RpcResp` id N) back to the requester within `--reply-timeout`,
//! or at once when the broker dropped the request (no handler, no subscriber).

use crate::analyze::requests::{Outcome, Pending};
use crate::analyze::{Cx, Finding, Rule, RuleInfo, Severity, Sink};
use crate::trace::schema::Event;

pub static INFO: RuleInfo = RuleInfo {
    name: "unanswered-request",
    severity: Severity::Error,
    summary: "a FooReq / $RpcReq with no FooResp / $RpcResp back to the requester within --reply-timeout",
    explain: "\
What: a client (or the server) sent a request, a message whose sub-topic (or
topic) ends in `Req` (`SearchSitesReq`) or a correlated call `{id, name, args}`
on `$RpcReq`, and no reply came back to the requester's ETID: no
`SearchSitesResp`, no `$RpcResp` with the same id, within --reply-timeout
(default 5s, by the trace's clock). A request the broker dropped is found at
once, with the broker's reason: \"server has no handler\" (nothing registered
for that sub-topic on the server), \"no subscribers\" (a request to a topic
nobody listens to), or refused by the app's onpublish.

Why it breaks apps: the caller waits: a UI spinner that never stops, a device
that retries forever, a pending-call table that only grows. A handler that
throws before it replies, or answers only on success, looks like this too.

Fix: register the handler (`registerBrokerHandler(\"SearchSitesReq\", ...)`,
or `[[request]]`/`[[rpc]]` rules for `smqctl broker --handlers`), and answer
every request, errors included, with `sendToPeer(ptid, \"SearchSitesResp\", ...)`
or `{id=request.id, err=...}` on `$RpcResp`. Callers should time out and fail
the call instead of waiting forever.

Example: the operator UI sends `FirmwareUpdateReq` to the broker's ETID; the
broker has no handler for it, so the trace shows a drop \"server has no
handler\" and the UI never hears back. Add the handler, or send the request
where one is registered.",
    brokers: "Every source. The embedded broker and the Mako hook both trace a message \
the server has no handler for as a drop (the hook reads Mako's \"Server dropping\" log \
line). With the Mako hook, times are whole seconds, so a reply within the same second \
counts as immediate and the timeout is only as exact as a second. Replies must be \
direct messages on FooResp (the convention): a handler that answers on another \
sub-topic looks unanswered. After a re-attach or skipped events, requests still \
waiting are forgotten rather than reported.",
};

#[derive(Default)]
pub struct UnansweredRequest;

fn finding(p: &Pending, why: &str, at: &Event) -> Finding {
    let mut f = Finding::new(&INFO, format!("{}\u{0}{}\u{0}{why}", p.rpc, p.name), at)
        .client(p.requester.clone())
        .subtopic(p.event.subtopic.clone().unwrap_or_else(|| p.name.clone()));
    if let Some(t) = p.event.to.as_ref().and_then(|d| d.name.clone()) {
        f = f.topic(t);
    }
    f
}

impl Rule for UnansweredRequest {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, _cx: &Cx, _ev: &Event, _out: &mut Sink) {}

    fn request(&mut self, cx: &Cx, o: &Outcome, out: &mut Sink) {
        match o {
            Outcome::Dropped {
                request,
                reason,
                event,
            } => {
                let to = request
                    .event
                    .to
                    .as_ref()
                    .map(|d| d.label())
                    .unwrap_or_else(|| "?".into());
                let mut f = finding(request, "dropped", &request.event)
                    .message(format!(
                        "{} from {} to {to} was dropped by the broker ({reason}): no {} will come back",
                        request.label(),
                        request.requester.label(),
                        request.reply,
                    ))
                    .fix(if reason.contains("handler") {
                        format!(
                            "register a broker handler for {} (or send it where one is), and answer every request with {} to the requester's ETID",
                            request.event.subtopic.as_deref().unwrap_or(&request.name),
                            request.reply
                        )
                    } else {
                        format!(
                            "send {} where a responder is (a handler on the server's ETID, or a topic someone subscribes to)",
                            request.name
                        )
                    });
                if request.event.kind != event.kind {
                    // The publish, then its drop (the Mako hook): both are evidence.
                    f = f.evidence(event);
                    f.last_ts = event.ts.clone();
                }
                out.push(f);
            }
            Outcome::TimedOut { request } => {
                let f = finding(request, "timeout", &request.event)
                    .message(format!(
                        "{} from {} got no {} back within {:?} (--reply-timeout)",
                        request.label(),
                        request.requester.label(),
                        request.reply,
                        cx.config.reply_timeout,
                    ))
                    .fix(format!(
                        "answer every {} with {} to the requester's ETID (ptid), errors included; callers should time out and fail the call",
                        request.name, request.reply
                    ));
                out.push(f);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};
    use crate::trace::schema::{Dest, DestType, Kind};

    fn config() -> Config {
        Config {
            reply_timeout: Duration::from_secs(2),
            ..Config::default()
        }
    }

    fn server() -> Dest {
        Dest {
            tid: 1,
            kind: DestType::Server,
            name: None,
            uid: None,
        }
    }

    #[test]
    fn a_request_with_no_reply_within_the_timeout_is_found() {
        let mut fx = Fx::new();
        let mut events = vec![
            fx.connect(5, "ui-000001"),
            fx.direct(5, 1, Some("SearchSitesReq"), "{\"q\":1}"),
        ];
        fx.advance(3.0);
        events.push(fx.connect(6, "ui-000002"));
        let found = run(rules::only("unanswered-request"), config(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.subtopic.as_deref(), Some("SearchSitesReq"));
        assert_eq!(f.clients[0].uid.as_deref(), Some("ui-000001"));
        assert!(
            f.message.contains("got no SearchSitesResp back within 2s"),
            "{}",
            f.message
        );
        assert_eq!(f.first_ts, events[1].ts, "the request's time");
    }

    #[test]
    fn a_reply_to_the_requesters_etid_in_time_is_no_finding() {
        let mut fx = Fx::new();
        let mut events = vec![
            fx.connect(5, "ui-000001"),
            fx.direct(5, 1, Some("SearchSitesReq"), "{\"q\":1}"),
        ];
        fx.advance(1.0);
        events.push(fx.direct(1, 5, Some("SearchSitesResp"), "{\"sites\":[]}"));
        fx.advance(10.0);
        events.push(fx.connect(6, "ui-000002"));
        assert!(run(rules::only("unanswered-request"), config(), &events).is_empty());
    }

    #[test]
    fn a_request_the_broker_dropped_is_found_at_once_with_the_reason() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "ui-000001"),
            fx.drop(
                5,
                server(),
                Some("FirmwareUpdateReq"),
                "{}",
                "server has no handler",
            ),
        ];
        // No later event, no timeout: the drop alone says it.
        let found = run(rules::only("unanswered-request"), config(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0]
                .message
                .contains("dropped by the broker (server has no handler)")
        );
        assert!(
            found[0]
                .fix
                .contains("register a broker handler for FirmwareUpdateReq")
        );
    }

    #[test]
    fn rpc_calls_are_matched_by_id_not_by_order() {
        let mut fx = Fx::new();
        let mut events = vec![
            fx.connect(5, "ui-000001"),
            fx.direct(5, 1, Some("$RpcReq"), r#"{"id":1,"name":"add","args":[1]}"#),
            fx.direct(5, 1, Some("$RpcReq"), r#"{"id":2,"name":"slow","args":[]}"#),
            fx.direct(1, 5, Some("$RpcResp"), r#"{"id":1,"rsp":1}"#),
        ];
        fx.advance(3.0);
        events.push(fx.connect(6, "ui-000002"));
        let found = run(rules::only("unanswered-request"), config(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].message.starts_with("$RpcReq slow (id 2)"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_reply_to_another_client_does_not_answer_the_request() {
        let mut fx = Fx::new();
        let mut events = vec![
            fx.connect(5, "ui-000001"),
            fx.connect(6, "ui-000002"),
            fx.direct(5, 1, Some("SearchSitesReq"), "{}"),
            fx.direct(1, 6, Some("SearchSitesResp"), "{}"),
        ];
        fx.advance(3.0);
        events.push(fx.connect(7, "ui-000003"));
        let found = run(rules::only("unanswered-request"), config(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].clients[0].etid, 5);
    }

    #[test]
    fn the_mako_hooks_publish_then_drop_of_one_request_is_one_call() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "ui-000001"),
            fx.direct(5, 1, Some("FirmwareUpdateReq"), "{}"),
            fx.drop(
                5,
                server(),
                Some("FirmwareUpdateReq"),
                "{}",
                "the server has no handler for it",
            ),
        ];
        let mut a =
            crate::analyze::Analyzer::with_rules(config(), rules::only("unanswered-request"));
        for e in &events {
            a.feed(e);
        }
        a.finish();
        assert_eq!(a.findings().len(), 1);
        assert_eq!(a.findings()[0].count, 1);
        let kinds: Vec<_> = a.findings()[0].evidence.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [Kind::Publish, Kind::Drop],
            "the publish and its drop"
        );
        let rows = a.requests().table();
        assert_eq!(
            (rows[0].calls, rows[0].unanswered, rows[0].pending),
            (1, 1, 0)
        );
    }
}
