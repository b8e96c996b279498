//! `pending-at-close`: a client closed while a request of its own was still
//! waiting for its reply (the reconnect rule: fail or retry pending calls).

use crate::analyze::requests::Outcome;
use crate::analyze::{Cx, Finding, Rule, RuleInfo, Severity, Sink};
use crate::trace::schema::Event;

pub static INFO: RuleInfo = RuleInfo {
    name: "pending-at-close",
    severity: Severity::Warning,
    summary: "a client closed while a request of its own was unanswered: fail or retry pending calls",
    explain: "\
What: a client's session ended (it disconnected, was dropped, or another
connection took over its UID) while a request it sent (`FooReq`, `$RpcReq`)
was still waiting for its reply, within --reply-timeout.

Why it breaks apps: the reply, if it comes, goes to an ETID that is gone
(the broker drops it), and the client's new connection has a new ETID. A
pending-call table kept across the reconnect waits forever: the guide's
reconnect rule says pending request/reply and RPC calls must be failed,
retried or rebuilt on disconnect.

Fix: on close, reject every pending call (`failPendingRpc(error)`) and clear
the table; after reconnecting, send the requests again if they are still
wanted. Servers should answer fast enough that clients do not give up first.

Example: a device sends `GetConfigReq`, its Wi-Fi drops before the broker's
handler answers, and after reconnecting it waits for a `GetConfigResp` that
was sent to its old ETID.",
    brokers: "Every source (connect and close are always traced). A request the \
broker dropped is not pending (unanswered-request reports it), nor is one that \
already timed out.",
};

#[derive(Default)]
pub struct PendingAtClose;

impl Rule for PendingAtClose {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn observe(&mut self, _cx: &Cx, _ev: &Event, _out: &mut Sink) {}

    fn request(&mut self, _cx: &Cx, o: &Outcome, out: &mut Sink) {
        let Outcome::OpenAtClose { request, close } = o else {
            return;
        };
        let who = request
            .requester
            .uid
            .clone()
            .unwrap_or_else(|| request.requester.etid.to_string());
        let reason = close.reason.as_deref().unwrap_or("closed");
        let mut f = Finding::new(
            &INFO,
            format!("{who}\u{0}{}\u{0}{}", request.rpc, request.name),
            &request.event,
        )
        .message(format!(
            "{} closed ({reason}) with {} sent at {} still waiting for {}",
            request.requester.label(),
            request.label(),
            request.ts,
            request.reply
        ))
        .fix("on disconnect, fail or retry every pending call and clear the table; send the request again after reconnecting")
        .client(request.requester.clone())
        .subtopic(
            request
                .event
                .subtopic
                .clone()
                .unwrap_or_else(|| request.name.clone()),
        )
        .evidence(close);
        f.last_ts = close.ts.clone();
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::fixture::{Fx, run};
    use crate::analyze::{Config, rules};
    use crate::trace::schema::{Dest, DestType};

    #[test]
    fn a_client_that_closes_with_a_request_waiting_is_found() {
        let mut fx = Fx::new();
        let events = [
            fx.connect(5, "dev-000001"),
            fx.direct(5, 1, Some("GetConfigReq"), "{}"),
            fx.close(5, "connection lost"),
        ];
        let found = run(rules::only("pending-at-close"), Config::default(), &events);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert!(
            f.message
                .starts_with("dev-000001 (etid 5) closed (connection lost) with GetConfigReq"),
            "{}",
            f.message
        );
        assert_eq!(f.first_ts, events[1].ts, "from the request");
        assert_eq!(f.last_ts, events[2].ts, "to the close");
        assert_eq!(f.evidence.len(), 2);
    }

    #[test]
    fn a_client_that_closes_after_its_reply_or_a_dropped_request_is_no_finding() {
        let mut fx = Fx::new();
        let server = Dest {
            tid: 1,
            kind: DestType::Server,
            name: None,
            uid: None,
        };
        let events = [
            fx.connect(5, "dev-000001"),
            fx.direct(5, 1, Some("GetConfigReq"), "{}"),
            fx.direct(1, 5, Some("GetConfigResp"), "{}"),
            fx.drop(
                5,
                server,
                Some("FirmwareUpdateReq"),
                "{}",
                "server has no handler",
            ),
            fx.close(5, "client sent Disconnect"),
        ];
        assert!(run(rules::only("pending-at-close"), Config::default(), &events).is_empty());
    }
}
