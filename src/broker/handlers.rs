//! `smqctl broker --handlers FILE`: broker-side request handlers from a TOML file,
//! so the seed's broker-mediated patterns run without Mako.
//!
//! Three kinds of rules, all keyed by the sub-topic a client sends to the
//! broker's ETID:
//! - `[[request]]`: named request → reply to the requester's ETID on the derived
//!   `…Resp` sub-topic (static/templated payload or echo, optional delay);
//! - `[[rpc]]`: `$RpcReq` functions answered `{id, rsp}` or `{id, err}`;
//! - `[[event]]`: a report re-published as a broadcast on a topic.
//!
//! Templates are expanded by `crate::template`, the same code `smqctl serve` uses.
//! Used by `smqctl broker`, `smqctl demo`, the test harness and the fleet's
//! built-in scenarios (each ships the handler file its devices expect).
//!
//! May import: the broker's face (`Broker`, `ServerHandler`, `ServerMessage`),
//! `protocol::rpc` (the Req→Resp and `$RpcReq` conventions), `template`, `text`
//! (durations). Never `commands`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use crate::broker::{Broker, ServerHandler, ServerMessage};
use crate::protocol::rpc::{RPC_REQ, RPC_RESP, derive_response, json_or_string, rpc_reply};
use crate::template::{self, Context};

/// The file as written.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HandlerFile {
    /// Sub-topic of correlated calls (default `$RpcReq`).
    #[serde(default = "default_rpc_request")]
    pub rpc_request: String,
    /// Sub-topic of their answers (default `$RpcResp`).
    #[serde(default = "default_rpc_response")]
    pub rpc_response: String,
    #[serde(default)]
    pub request: Vec<RequestRule>,
    #[serde(default)]
    pub rpc: Vec<RpcRule>,
    #[serde(default)]
    pub event: Vec<EventRule>,
}

fn default_rpc_request() -> String {
    RPC_REQ.into()
}
fn default_rpc_response() -> String {
    RPC_RESP.into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestRule {
    /// Request sub-topic, e.g. "SearchSitesReq".
    pub name: String,
    /// Reply payload template.
    pub reply: Option<Spanned<String>>,
    /// Answer with the request payload.
    #[serde(default)]
    pub echo: bool,
    /// Reply sub-topic (default: name with Req -> Resp).
    pub response: Option<String>,
    /// Wait this long before answering, e.g. "200ms".
    pub delay: Option<Spanned<String>>,
    /// After answering, also publish an event on this topic (e.g. a
    /// `SetChargerReq` that announces the new `ChargerState` to everyone).
    pub event_topic: Option<String>,
    /// Event payload template (default: the request payload).
    pub event_payload: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpcRule {
    /// Function name in `{id, name, args}`.
    pub name: String,
    /// Template of the `rsp` value (JSON; text that is not JSON becomes a string).
    pub result: Option<Spanned<String>>,
    /// Answer `{id, err}` with this text instead.
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRule {
    /// Sub-topic a client sends to the broker, e.g. "ChargerState".
    pub name: String,
    /// Topic to publish the event on (default: the same name).
    pub topic: Option<String>,
    /// Event payload template (default: the received payload unchanged).
    pub payload: Option<Spanned<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("cannot read handler file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("handler file {path}{}: {message}", .line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Invalid {
        path: String,
        line: Option<usize>,
        message: String,
    },
}

enum Action {
    Reply {
        template: Option<String>,
        resp_subtid: u32,
        delay: Option<Duration>,
        /// Topic TID and payload template of the follow-up event, if any.
        event: Option<(u32, Option<String>)>,
    },
    Rpc,
    Event {
        topic: u32,
        template: Option<String>,
    },
}

/// The loaded rules, with every name already turned into the broker's IDs.
pub struct Handlers {
    by_subtid: HashMap<u32, Action>,
    rpc_req: u32,
    rpc_resp: u32,
    functions: HashMap<String, RpcRule>,
    served: AtomicU64,
}

impl HandlerFile {
    pub fn load(path: &Path) -> Result<HandlerFile, HandlerError> {
        let text = std::fs::read_to_string(path).map_err(|source| HandlerError::Read {
            path: path.display().to_string(),
            source,
        })?;
        HandlerFile::parse(&text, &path.display().to_string())
    }

    /// Reads and checks handler rules from `text`; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<HandlerFile, HandlerError> {
        let invalid = |message: String| HandlerError::Invalid {
            path: origin.to_string(),
            line: None,
            message,
        };
        // Its line and message, as a scenario's: TOML's own text is a
        // multi-line snippet that the terminal would see as `\n`s.
        let file: HandlerFile = toml::from_str(text).map_err(|e| HandlerError::Invalid {
            path: origin.to_string(),
            line: e.span().map(|s| crate::text::line_of(text, s.start)),
            message: e.message().trim().to_string(),
        })?;
        let at = |s: &Spanned<String>, message: String| HandlerError::Invalid {
            path: origin.to_string(),
            line: Some(crate::text::line_of(text, s.span().start)),
            message,
        };
        for r in &file.request {
            if r.reply.is_some() == r.echo {
                return Err(invalid(format!(
                    "[[request]] {}: give exactly one of `reply` or `echo = true`",
                    r.name
                )));
            }
            if let Some(d) = &r.delay {
                crate::text::parse_duration(d.get_ref())
                    .map_err(|e| at(d, format!("[[request]] {}: delay: {e}", r.name)))?;
            }
            let what = format!("[[request]] {}", r.name);
            if let Some(t) = &r.reply {
                check_template(t, &format!("{what} reply"), None).map_err(|m| at(t, m))?;
            }
            if let Some(t) = &r.event_payload {
                check_template(t, &format!("{what} event_payload"), None).map_err(|m| at(t, m))?;
            }
        }
        for f in &file.rpc {
            if f.result.is_some() == f.error.is_some() {
                return Err(invalid(format!(
                    "[[rpc]] {}: give exactly one of `result` or `error`",
                    f.name
                )));
            }
            if let Some(t) = &f.result {
                check_template(t, &format!("[[rpc]] {} result", f.name), Some(RPC_FIELDS))
                    .map_err(|m| at(t, m))?;
            }
        }
        for e in &file.event {
            if let Some(t) = &e.payload {
                check_template(t, &format!("[[event]] {} payload", e.name), None)
                    .map_err(|m| at(t, m))?;
            }
        }
        Ok(file)
    }

    /// Registers the names with the broker and returns the handler.
    pub fn install(self, broker: &Broker) -> Handlers {
        let mut by_subtid = HashMap::new();
        for r in self.request {
            let resp = r
                .response
                .clone()
                .unwrap_or_else(|| derive_response(&r.name));
            by_subtid.insert(
                broker.createsub(&r.name),
                Action::Reply {
                    template: r.reply.map(Spanned::into_inner),
                    resp_subtid: broker.createsub(&resp),
                    delay: r
                        .delay
                        .and_then(|d| crate::text::parse_duration(d.get_ref()).ok()),
                    event: r
                        .event_topic
                        .as_deref()
                        .map(|t| (broker.create(t), r.event_payload.map(Spanned::into_inner))),
                },
            );
        }
        for e in self.event {
            let topic = broker.create(e.topic.as_deref().unwrap_or(&e.name));
            by_subtid.insert(
                broker.createsub(&e.name),
                Action::Event {
                    topic,
                    template: e.payload.map(Spanned::into_inner),
                },
            );
        }
        let rpc_req = broker.createsub(&self.rpc_request);
        let rpc_resp = broker.createsub(&self.rpc_response);
        if !self.rpc.is_empty() {
            by_subtid.insert(rpc_req, Action::Rpc);
        }
        Handlers {
            by_subtid,
            rpc_req,
            rpc_resp,
            functions: self.rpc.into_iter().map(|f| (f.name.clone(), f)).collect(),
            served: AtomicU64::new(0),
        }
    }
}

impl Handlers {
    pub fn rules(&self) -> usize {
        self.by_subtid.len() - usize::from(self.by_subtid.contains_key(&self.rpc_req))
            + self.functions.len()
    }

    fn rpc_answer(&self, msg: &ServerMessage, ctx: &Context) -> Bytes {
        let req: Value = serde_json::from_slice(&msg.payload).unwrap_or(Value::Null);
        let name = req.get("name").and_then(Value::as_str).unwrap_or("");
        let result = match self.functions.get(name) {
            None => Err("RPC function not found".to_string()),
            Some(RpcRule { error: Some(e), .. }) => Err(e.clone()),
            Some(RpcRule {
                result: Some(t), ..
            }) => Ok(json_or_string(&template::expand(
                t.get_ref(),
                Some(&req),
                "",
                ctx,
            ))),
            Some(_) => Ok(Value::Null),
        };
        rpc_reply(&req, result)
    }
}

/// The fields of a `$RpcReq` call a `[[rpc]]` result can read.
const RPC_FIELDS: &[&str] = &["id", "name", "args"];

/// Checks one payload template when the file is loaded: well-formed, JSON
/// once filled in if it starts like JSON ([`template::check_payload`]), and
/// each field one the request can have (`fields`: the only top-level names it
/// has; None: any).
fn check_template(t: &Spanned<String>, what: &str, fields: Option<&[&str]>) -> Result<(), String> {
    let text = t.get_ref();
    template::check_payload(text).map_err(|e| format!("{what}: {e}"))?;
    if let Some(allowed) = fields {
        for f in template::fields(text) {
            let top = f.split('.').next().unwrap_or(f);
            if !allowed.contains(&top) {
                return Err(format!(
                    "{what}: '{{{{{f}}}}}' can never be filled in: a call has only {} (its arguments are {{{{args.0}}}}, {{{{args.1}}}}...)",
                    allowed.join(", ")
                ));
            }
        }
    }
    Ok(())
}

fn expand(template: &str, payload: &[u8], ctx: &Context) -> Bytes {
    Bytes::from(template::expand_payload(template, payload, ctx))
}

impl ServerHandler for Handlers {
    fn handles(&self, subtid: u32) -> bool {
        self.by_subtid.contains_key(&subtid)
    }

    fn on_message(&self, broker: &Broker, msg: ServerMessage) {
        let Some(action) = self.by_subtid.get(&msg.subtid) else {
            return;
        };
        let ctx = Context {
            ptid: msg.ptid,
            etid: broker.server_etid(),
            n: self.served.fetch_add(1, Ordering::Relaxed) + 1,
        };
        match action {
            Action::Rpc => {
                let answer = self.rpc_answer(&msg, &ctx);
                broker.publish(answer, msg.ptid, self.rpc_resp);
            }
            Action::Event { topic, template } => {
                let payload = match template {
                    Some(t) => expand(t, &msg.payload, &ctx),
                    None => msg.payload.clone(),
                };
                broker.publish(payload, *topic, 0);
            }
            Action::Reply {
                template,
                resp_subtid,
                delay,
                event,
            } => {
                let payload = match template {
                    Some(t) => expand(t, &msg.payload, &ctx),
                    None => msg.payload.clone(),
                };
                // The reply first, then the broadcast: the requester learns the
                // outcome before everyone else hears about it.
                let event = event.as_ref().map(|(topic, t)| {
                    let body = match t {
                        Some(t) => expand(t, &msg.payload, &ctx),
                        None => msg.payload.clone(),
                    };
                    (*topic, body)
                });
                let (to, sub) = (msg.ptid, *resp_subtid);
                let send = move |broker: &Broker| {
                    broker.publish(payload, to, sub);
                    if let Some((topic, body)) = event {
                        broker.publish(body, topic, 0);
                    }
                };
                match delay {
                    None => send(broker),
                    Some(d) => {
                        let (broker, d) = (broker.clone(), *d);
                        tokio::spawn(async move {
                            tokio::time::sleep(d).await;
                            send(&broker);
                        });
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("h.toml");
        std::fs::write(&p, text).expect("write");
        (dir, p)
    }

    #[test]
    fn mistakes_in_the_file_are_explained() {
        let (_d, p) = write("[[request]]\nname = \"XReq\"\n");
        let e = HandlerFile::load(&p).expect_err("invalid").to_string();
        assert!(
            e.contains("give exactly one of `reply` or `echo = true`"),
            "{e}"
        );
        let (_d, p) = write("[[request]]\nname = \"XReq\"\nreplly = \"{}\"\n");
        let e = HandlerFile::load(&p).expect_err("invalid").to_string();
        assert!(e.contains("unknown field `replly`"), "{e}");
        let (_d, p) = write("[[rpc]]\nname = \"f\"\n");
        assert!(HandlerFile::load(&p).is_err());
        let (_d, p) = write("[[request]]\nname = \"XReq\"\necho = true\ndelay = \"soon\"\n");
        assert!(HandlerFile::load(&p).is_err());
    }

    #[test]
    fn templates_that_cannot_render_or_are_not_json_are_refused_with_their_line() {
        let cases = [
            (
                "[[request]]\nname = \"AReq\"\nreply = '{\"a\":\"{{name\"}'\n",
                3,
                "without a closing",
            ),
            (
                "[[request]]\nname = \"AReq\"\n\nreply = '{\"a\":{{x}}'\n",
                4,
                "not JSON",
            ),
            (
                "[[event]]\nname = \"E\"\npayload = '{{$sequence}}'\n",
                3,
                "$sequence",
            ),
            (
                "[[rpc]]\nname = \"f\"\nresult = '{{site}}'\n",
                3,
                "only id, name, args",
            ),
            (
                "[[request]]\nname = \"AReq\"\nreply = \"ok\"\nevent_topic = \"T\"\nevent_payload = '[{{}}]'\n",
                5,
                "names no field",
            ),
        ];
        for (text, line, word) in cases {
            let e = HandlerFile::parse(text, "h.toml").expect_err(text);
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("handler file h.toml, line {line}: ")),
                "{msg}"
            );
            assert!(msg.contains(word), "{msg}");
        }
        // Text replies, fields of the request and the RPC arguments stay allowed.
        let ok = "[[request]]\nname = \"PReq\"\nreply = \"pong {{$n}} {{who}}\"\n[[rpc]]\nname = \"f\"\nresult = '{\"a\":{{args.0}},\"id\":{{id}}}'\n";
        HandlerFile::parse(ok, "ok.toml").unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn rpc_answers_result_error_and_unknown_function() {
        let file: HandlerFile = toml::from_str(
            "[[rpc]]\nname = \"first\"\nresult = '{{args.0}}'\n[[rpc]]\nname = \"fail\"\nerror = \"nope\"\n",
        )
        .expect("toml");
        let broker = Broker::new(crate::broker::BrokerConfig::default());
        let h = file.install(&broker);
        let call = |body: &str| {
            let msg = ServerMessage {
                tid: 1,
                ptid: 9,
                subtid: h.rpc_req,
                payload: Bytes::from(body.to_string()),
            };
            let out = h.rpc_answer(&msg, &Context::default());
            serde_json::from_slice::<Value>(&out).expect("json")
        };
        assert_eq!(
            call(r#"{"id":4,"name":"first","args":[{"a":1}]}"#),
            json!({"id":4,"rsp":{"a":1}})
        );
        assert_eq!(
            call(r#"{"id":5,"name":"first","args":["x"]}"#),
            json!({"id":5,"rsp":"x"})
        );
        assert_eq!(
            call(r#"{"id":6,"name":"fail","args":[]}"#),
            json!({"id":6,"err":"nope"})
        );
        assert_eq!(
            call(r#"{"id":7,"name":"other"}"#),
            json!({"id":7,"err":"RPC function not found"})
        );
    }

    #[test]
    fn rules_counts_each_request_and_rpc_function_but_not_the_rpc_sub_topic_itself() {
        // What `smqctl broker --handlers` says it loaded ("N handler rule(s)").
        let broker = Broker::new(crate::broker::BrokerConfig::default());
        let two_requests = "[[request]]\nname = \"AReq\"\necho = true\n[[request]]\nname = \"BReq\"\nreply = '{}'\n";
        let file: HandlerFile = toml::from_str(two_requests).expect("toml");
        assert_eq!(file.install(&broker).rules(), 2);
        let rpc = "[[rpc]]\nname = \"f\"\nresult = '1'\n[[rpc]]\nname = \"g\"\nresult = '2'\n[[rpc]]\nname = \"h\"\nerror = \"no\"\n";
        let file: HandlerFile = toml::from_str(&format!("{two_requests}{rpc}")).expect("toml");
        assert_eq!(file.install(&broker).rules(), 5);
        let file: HandlerFile = toml::from_str(rpc).expect("toml");
        assert_eq!(file.install(&broker).rules(), 3);
    }

    #[test]
    fn rpc_functions_answer_on_rpcreq_and_rpcresp_unless_the_file_names_others() {
        // `smqctl rpc --call` sends on $RpcReq and waits on $RpcResp by default.
        let broker = Broker::new(crate::broker::BrokerConfig::default());
        let file: HandlerFile =
            toml::from_str("[[rpc]]\nname = \"f\"\nresult = '1'\n").expect("toml");
        let h = file.install(&broker);
        assert_eq!(broker.subtopic2tid(RPC_REQ), Some(h.rpc_req));
        assert_eq!(broker.subtopic2tid(RPC_RESP), Some(h.rpc_resp));
        let file: HandlerFile = toml::from_str(
            "rpc_request = \"MyReq\"\nrpc_response = \"MyResp\"\n[[rpc]]\nname = \"f\"\nresult = '1'\n",
        )
        .expect("toml");
        let h = file.install(&broker);
        assert_eq!(broker.subtopic2tid("MyReq"), Some(h.rpc_req));
        assert_eq!(broker.subtopic2tid("MyResp"), Some(h.rpc_resp));
    }

    #[test]
    fn rpcreq_is_handled_only_when_the_file_has_rpc_functions() {
        // Without [[rpc]] a call on $RpcReq is the broker's "server has no
        // handler" drop, not an "RPC function not found" answer.
        let broker = Broker::new(crate::broker::BrokerConfig::default());
        let with: HandlerFile =
            toml::from_str("[[rpc]]\nname = \"f\"\nresult = '1'\n").expect("toml");
        let h = with.install(&broker);
        assert!(h.handles(h.rpc_req));
        let without: HandlerFile =
            toml::from_str("[[request]]\nname = \"AReq\"\necho = true\n").expect("toml");
        let h = without.install(&broker);
        assert!(!h.handles(h.rpc_req));
        assert!(h.handles(broker.subtopic2tid("AReq").expect("created")));
    }

    #[tokio::test]
    async fn an_installed_request_rule_answers_the_requester_with_its_expanded_template() {
        // The handler file at work in a running broker: the request on the
        // server's ETID, the reply on the requester's `...Resp` sub-topic.
        use crate::client::{Client, ClientOptions, Dest};
        let broker = Broker::new(crate::broker::BrokerConfig::default());
        let file: HandlerFile =
            toml::from_str("[[request]]\nname = \"PingReq\"\nreply = 'pong {{$n}} {{who}}'\n")
                .expect("toml");
        broker.set_handler(std::sync::Arc::new(file.install(&broker)));
        let listener = crate::broker::listen("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let running = broker.clone();
        tokio::spawn(async move { running.run(listener, std::future::pending()).await });
        let url = format!("ws://{addr}/");
        let opts = ClientOptions::new(crate::transport::Endpoint::parse(&url).expect("url"));
        let (client, _events) = Client::connect(&opts).await.expect("connect");
        let mut replies = client
            .subscribe("self", Some("PingResp"))
            .await
            .expect("route");
        for n in 1..=2 {
            let body = Bytes::from_static(br#"{"who":"me"}"#);
            let to = Dest::Id(broker.server_etid());
            client
                .publish(to, Some("PingReq"), body)
                .await
                .expect("publish");
            client.flush().await.expect("flush");
            let reply = tokio::time::timeout(std::time::Duration::from_secs(10), replies.rx.recv())
                .await
                .expect("a reply within 10 s")
                .expect("the route is open");
            assert_eq!(&reply.payload[..], format!("pong {n} me").as_bytes());
        }
        client.disconnect("").await;
    }
}
