//! The request/reply conventions SMQ applications build on top of Publish
//! (SMQ-PROTOCOL.md, request/response patterns): a named request `FooReq` is
//! answered on `FooResp`, and a correlated call is `{id, name, args}` on the
//! `$RpcReq` sub-topic, answered `{id, rsp}` or `{id, err}` on `$RpcResp`.
//!
//! One definition for every side that speaks them: the caller
//! (`client::rpc`), the responders (`smqctl serve --rpc-exec`, the broker's
//! handlers) and the demo operator. No I/O: JSON values and bytes in, JSON
//! values and bytes out.
//!
//! May import: bytes, serde_json (nothing else of the crate).

use bytes::Bytes;
use serde_json::{Value, json};

/// Default sub-topic of correlated calls.
pub const RPC_REQ: &str = "$RpcReq";

/// Default sub-topic of their answers.
pub const RPC_RESP: &str = "$RpcResp";

/// `SearchSitesReq` → `SearchSitesResp`; other names get `Resp` appended.
pub fn derive_response(request: &str) -> String {
    match request.strip_suffix("Req") {
        Some(base) => format!("{base}Resp"),
        None => format!("{request}Resp"),
    }
}

/// The body of a correlated call: `{"id":ID,"name":NAME,"args":[...]}`.
pub fn rpc_request(id: u64, name: &str, args: &[Value]) -> Bytes {
    Bytes::from(json!({"id": id, "name": name, "args": args}).to_string())
}

/// The answer to a `$RpcReq` call: `{id, rsp}` or `{id, err}`, with the id
/// copied from the request (responders: `serve --rpc-exec`, broker handlers).
pub fn rpc_reply(request: &Value, result: Result<Value, String>) -> Bytes {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let answer = match result {
        Ok(rsp) => json!({"id": id, "rsp": rsp}),
        Err(err) => json!({"id": id, "err": err}),
    };
    Bytes::from(answer.to_string())
}

/// The error text of a `{id, err}` answer (a non-string `err` as its JSON), or
/// None when the reply carries no `err`.
pub fn rpc_error(reply: &Value) -> Option<String> {
    match reply.get("err")? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A responder's output as a JSON value: parsed when it is JSON, else a string.
pub fn json_or_string(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_names_are_derived_from_requests() {
        assert_eq!(derive_response("SearchSitesReq"), "SearchSitesResp");
        assert_eq!(derive_response("Hello"), "HelloResp");
    }

    #[test]
    fn a_call_body_is_id_name_args_in_that_order() {
        let body = rpc_request(7, "add", &[json!(1), json!("two")]);
        assert_eq!(&body[..], br#"{"id":7,"name":"add","args":[1,"two"]}"#);
    }

    fn parsed(body: Bytes) -> Value {
        serde_json::from_slice(&body).expect("a reply is JSON")
    }

    #[test]
    fn replies_copy_the_id_and_errors_are_detected() {
        let req = json!({"id": 4, "name": "f", "args": []});
        let ok: Value = parsed(rpc_reply(&req, Ok(json!(3))));
        assert_eq!(ok, json!({"id": 4, "rsp": 3}));
        assert_eq!(rpc_error(&ok), None);
        let err: Value = parsed(rpc_reply(&req, Err("nope".into())));
        assert_eq!(rpc_error(&err).as_deref(), Some("nope"));
        assert_eq!(
            rpc_error(&json!({"id": 1, "err": {"code": 2}})).as_deref(),
            Some(r#"{"code":2}"#)
        );
        // No id in the request: the answer says null, not a missing field.
        let anon: Value = parsed(rpc_reply(&json!({}), Ok(json!(1))));
        assert_eq!(anon, json!({"id": null, "rsp": 1}));
    }

    #[test]
    fn responder_output_is_json_when_it_parses() {
        assert_eq!(json_or_string("[1,2]"), json!([1, 2]));
        assert_eq!(json_or_string("plain text"), json!("plain text"));
    }
}
