//! Reply templates: `{{path}}` placeholders filled from a request's JSON.
//!
//! Used by `smqctl serve --reply` and the embedded broker's handler file, so both
//! expand templates the same way. A path is dotted (`{{site.name}}`,
//! `{{args.0}}`); variables starting with `$` come from the context (`{{$ptid}}`,
//! `{{$etid}}`, `{{$n}}`, `{{$now}}`, `{{$request}}`). Values are written as JSON, except
//! strings, which are written escaped but without quotes so that both
//! `"{{name}}"` and `{{count}}` read naturally. A missing value is `null`.
//!
//! May import: serde_json only.

use serde_json::Value;

/// Values a template can refer to besides the request's own fields.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The requester's ETID.
    pub ptid: u32,
    /// The answering side's own ETID (the broker's server ETID, or serve's).
    pub etid: u32,
    /// 1 for the first request served, 2 for the next...
    pub n: u64,
}

/// Looks up a dotted path (`a.b.0`) in a JSON value.
pub fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = root;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        cur = match cur {
            Value::Object(m) => m.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn render(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let quoted = Value::String(s.clone()).to_string();
            quoted[1..quoted.len() - 1].to_string()
        }
        other => other.to_string(),
    }
}

/// Expands every `{{…}}` in `template`. `request` is the request payload parsed as
/// JSON (None when it was not JSON; `{{$request}}` then gives the raw text).
pub fn expand(template: &str, request: Option<&Value>, raw_request: &str, ctx: &Context) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = after[..end].trim();
        let value = match key {
            "$ptid" => ctx.ptid.to_string(),
            "$etid" => ctx.etid.to_string(),
            "$n" => ctx.n.to_string(),
            "$now" => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
                .to_string(),
            "$request" => match request {
                Some(v) => v.to_string(),
                None => render(&Value::String(raw_request.to_string())),
            },
            path => request
                .and_then(|r| lookup(r, path))
                .map(render)
                .unwrap_or_else(|| "null".to_string()),
        };
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Expands `template` against a request payload as received: its fields when it
/// is JSON, `{{$request}}` as its text either way.
pub fn expand_payload(template: &str, payload: &[u8], ctx: &Context) -> String {
    let json = serde_json::from_slice::<Value>(payload).ok();
    let raw = String::from_utf8_lossy(payload);
    expand(template, json.as_ref(), &raw, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context {
        Context {
            ptid: 42,
            etid: 7,
            n: 3,
        }
    }

    #[test]
    fn fields_fill_in_as_json_with_strings_unquoted() {
        let req = json!({"SiteName": "alpha \"A\"", "count": 5, "tags": ["x"], "site": {"id": 7}});
        let t = r#"{"name":"{{SiteName}}","n":{{count}},"first":"{{tags.0}}","id":{{site.id}},"all":{{tags}}}"#;
        let out = expand(t, Some(&req), "", &ctx());
        assert_eq!(
            out,
            r#"{"name":"alpha \"A\"","n":5,"first":"x","id":7,"all":["x"]}"#
        );
        assert!(serde_json::from_str::<Value>(&out).is_ok());
    }

    #[test]
    fn context_variables_and_missing_values() {
        let out = expand(
            "{{$ptid}} {{$n}} {{nope}} {{ $request }}",
            Some(&json!({"a":1})),
            "",
            &ctx(),
        );
        assert_eq!(out, r#"42 3 null {"a":1}"#);
        let raw = expand("got {{$request}}", None, "plain text", &ctx());
        assert_eq!(raw, "got plain text");
    }

    #[test]
    fn unclosed_braces_are_left_alone() {
        assert_eq!(expand("a {{b", None, "", &ctx()), "a {{b");
    }
}
