//! Reply templates: `{{path}}` placeholders filled from a request's JSON.
//!
//! Used by `smqctl serve --reply` and the embedded broker's handler file, so both
//! expand templates the same way. A path is dotted (`{{site.name}}`,
//! `{{args.0}}`); variables starting with `$` come from the context (`{{$ptid}}`,
//! `{{$etid}}`, `{{$n}}`, `{{$now}}`, `{{$request}}`). Values are written as JSON, except
//! strings, which are written escaped but without quotes so that both
//! `"{{name}}"` and `{{count}}` read naturally. A missing value is `null`.
//!
//! Generators work everywhere: `{{$time}}` (RFC 3339, UTC), `{{$rand:1..100}}`
//! (an integer, both ends included), `{{$randf:0.5..2.5}}` (a float, 2 decimals),
//! `{{$choice:a|b|c}}`. A caller may add `$` variables of its own through [`Vars`]
//! (`smqctl simulate` adds `$index`, `$uid`, `$seq`...); integers take a format
//! after a colon: `{{$index:05}}` (zero-padded), `{{$index:06x}}` (hex).
//!
//! May import: nothing of the crate (a leaf every floor may use); serde_json,
//! rand, jiff.

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

/// `$` variables a caller adds to the built-in ones.
pub trait Vars {
    /// Appends the value of `$name` (with its `:arg`, if any) to `out`; false
    /// when the name is not one of this caller's.
    fn write(&self, name: &str, arg: Option<&str>, out: &mut String) -> bool;
}

/// No variables beyond the built-in ones.
pub struct NoVars;

impl Vars for NoVars {
    fn write(&self, _: &str, _: Option<&str>, _: &mut String) -> bool {
        false
    }
}

/// Built-in `$` names (besides the generators, which take an argument).
pub const BUILTIN: &[&str] = &["ptid", "etid", "n", "now", "request", "time"];

/// Writes an integer with an optional format: `05` (zero-padded to 5), `x`/`X`
/// (hex), `08x` (both). An unknown format writes the plain number.
pub fn write_int(out: &mut String, v: u64, spec: Option<&str>) {
    use std::fmt::Write;
    let spec = spec.unwrap_or("");
    let (digits, hex) = match spec.strip_suffix('x') {
        Some(d) => (d, Some(false)),
        None => match spec.strip_suffix('X') {
            Some(d) => (d, Some(true)),
            None => (spec, None),
        },
    };
    let width = digits.parse::<usize>().unwrap_or(0).min(64);
    let _ = match hex {
        None => write!(out, "{v:0width$}"),
        Some(false) => write!(out, "{v:0width$x}"),
        Some(true) => write!(out, "{v:0width$X}"),
    };
}

/// Checks a format given to an integer variable (`05`, `x`, `08X`).
pub fn check_int_spec(spec: &str) -> Result<(), String> {
    let digits = spec.trim_end_matches(['x', 'X']);
    if spec.len() - digits.len() > 1 || (!digits.is_empty() && digits.parse::<u8>().is_err()) {
        return Err(format!(
            "'{spec}' is not an integer format (use e.g. 05, x or 08x)"
        ));
    }
    Ok(())
}

fn parse_range<T: std::str::FromStr + PartialOrd>(arg: &str) -> Option<(T, T)> {
    let (a, b) = arg.split_once("..")?;
    let (a, b) = (a.trim().parse::<T>().ok()?, b.trim().parse::<T>().ok()?);
    (a <= b).then_some((a, b))
}

/// The generators that need no caller: `$time`, `$rand:`, `$randf:`, `$choice:`.
fn write_generator(name: &str, arg: Option<&str>, out: &mut String) -> bool {
    use std::fmt::Write;
    match (name, arg) {
        ("time", _) => {
            let _ = write!(
                out,
                "{}",
                jiff::Timestamp::now()
                    .round(jiff::Unit::Millisecond)
                    .unwrap_or_else(|_| jiff::Timestamp::now())
            );
        }
        ("rand", Some(a)) => match parse_range::<i64>(a) {
            Some((lo, hi)) => {
                let _ = write!(out, "{}", rand::random_range(lo..=hi));
            }
            None => out.push_str("null"),
        },
        ("randf", Some(a)) => match parse_range::<f64>(a) {
            Some((lo, hi)) => {
                let v = lo + (hi - lo) * rand::random::<f64>();
                let _ = write!(out, "{v:.2}");
            }
            None => out.push_str("null"),
        },
        ("choice", Some(a)) => {
            let n = a.split('|').count();
            let pick = a.split('|').nth(rand::random_range(0..n)).unwrap_or("");
            out.push_str(pick);
        }
        _ => return false,
    }
    true
}

/// Checks every `$` placeholder of `template`: built-in, a generator with a valid
/// argument, or one of `known` (the caller's [`Vars`]). Returns the first problem.
pub fn check(template: &str, known: &[&str]) -> Result<(), String> {
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("'{{' without a closing '}}'".into());
        };
        let key = after[..end].trim();
        if key.is_empty() {
            return Err("'{{}}' names no field (the whole request is {{$request}})".into());
        }
        if !key.starts_with('$') && key.split('.').any(str::is_empty) {
            return Err(format!(
                "'{{{{{key}}}}}': a field path is names joined by single dots (a.b.0)"
            ));
        }
        if let Some(var) = key.strip_prefix('$') {
            let (name, arg) = match var.split_once(':') {
                Some((n, a)) => (n, Some(a)),
                None => (var, None),
            };
            let ok = match (name, arg) {
                ("rand", Some(a)) => parse_range::<i64>(a).is_some(),
                ("randf", Some(a)) => parse_range::<f64>(a).is_some(),
                ("choice", Some(a)) => !a.is_empty(),
                ("rand" | "randf" | "choice", None) => false,
                (n, None) => BUILTIN.contains(&n) || known.contains(&n),
                (n, Some(spec)) => known.contains(&n) && check_int_spec(spec).is_ok(),
            };
            if !ok {
                return Err(match name {
                    "rand" => format!("'{{{{{key}}}}}': write $rand:MIN..MAX, e.g. $rand:1..100"),
                    "randf" => {
                        format!("'{{{{{key}}}}}': write $randf:MIN..MAX, e.g. $randf:0.5..2.5")
                    }
                    "choice" => format!("'{{{{{key}}}}}': write $choice:a|b|c"),
                    _ => {
                        let mut all: Vec<&str> = BUILTIN.to_vec();
                        all.extend_from_slice(known);
                        format!(
                            "unknown placeholder '{{{{{key}}}}}' (known: ${}, $rand:A..B, $randf:A..B, $choice:a|b)",
                            all.join(", $")
                        )
                    }
                });
            }
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// Checks a payload template as a request handler uses it ([`check`] with no
/// caller variables), and that one starting like JSON (`{` or `[`) is still
/// JSON once filled in with sample values: request fields as `null`, the
/// request as `{}`, 1 for `$ptid`, `$etid` and `$n`.
pub fn check_payload(template: &str) -> Result<(), String> {
    check(template, &[])?;
    let trimmed = template.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let sample = Context {
            ptid: 1,
            etid: 1,
            n: 1,
        };
        let out = expand(
            template,
            Some(&Value::Object(Default::default())),
            "",
            &sample,
        );
        if let Err(e) = serde_json::from_str::<Value>(&out) {
            return Err(format!(
                "is not JSON once filled in with sample values ({e}): {out}"
            ));
        }
    }
    Ok(())
}

/// The field paths (`{{a.b}}`, not the `$` variables) a template reads, in order.
pub fn fields(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            break;
        };
        let key = after[..end].trim();
        if !key.starts_with('$') {
            out.push(key);
        }
        rest = &after[end + 2..];
    }
    out
}

/// Expands every `{{…}}` in `template`. `request` is the request payload parsed as
/// JSON (None when it was not JSON; `{{$request}}` then gives the raw text).
pub fn expand(template: &str, request: Option<&Value>, raw_request: &str, ctx: &Context) -> String {
    let mut out = String::with_capacity(template.len());
    expand_into(&mut out, template, request, raw_request, ctx, &NoVars);
    out
}

/// Like [`expand`], appending to `out` (reuse one buffer on a hot path), with
/// the caller's own `$` variables.
pub fn expand_into(
    out: &mut String,
    template: &str,
    request: Option<&Value>,
    raw_request: &str,
    ctx: &Context,
    vars: &dyn Vars,
) {
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return;
        };
        let key = after[..end].trim();
        rest = &after[end + 2..];
        if let Some(var) = key.strip_prefix('$') {
            let (name, arg) = match var.split_once(':') {
                Some((n, a)) => (n, Some(a)),
                None => (var, None),
            };
            match name {
                "ptid" => write_int(out, ctx.ptid.into(), arg),
                "etid" => write_int(out, ctx.etid.into(), arg),
                "n" => write_int(out, ctx.n, arg),
                "now" => write_int(
                    out,
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() as u64)
                        .unwrap_or(0),
                    arg,
                ),
                "request" => match request {
                    Some(v) => out.push_str(&v.to_string()),
                    None => out.push_str(&render(&Value::String(raw_request.to_string()))),
                },
                _ => {
                    if !vars.write(name, arg, out) && !write_generator(name, arg, out) {
                        out.push_str("null");
                    }
                }
            }
            continue;
        }
        match request.and_then(|r| lookup(r, key)) {
            Some(v) => out.push_str(&render(v)),
            None => out.push_str("null"),
        }
    }
    out.push_str(rest);
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

    struct Sim;
    impl Vars for Sim {
        fn write(&self, name: &str, arg: Option<&str>, out: &mut String) -> bool {
            match name {
                "index" => write_int(out, 42, arg),
                _ => return false,
            }
            true
        }
    }

    #[test]
    fn caller_variables_formats_and_generators() {
        let mut out = String::new();
        expand_into(
            &mut out,
            "{{$index}} {{$index:05}} {{$index:04x}} {{$rand:3..3}} {{$choice:on}} {{$randf:1..1}}",
            None,
            "",
            &ctx(),
            &Sim,
        );
        assert_eq!(out, "42 00042 002a 3 on 1.00");
        let t = expand("{{$time}}", None, "", &ctx());
        assert!(t.parse::<jiff::Timestamp>().is_ok(), "{t}");
        for _ in 0..50 {
            let v: i64 = expand("{{$rand:1..3}}", None, "", &ctx())
                .parse()
                .unwrap_or(0);
            assert!((1..=3).contains(&v));
        }
    }

    #[test]
    fn check_names_the_unknown_or_malformed_placeholder() {
        assert!(check("{{$index:05}} {{a.b}} {{$rand:1..9}} {{$time}}", &["index"]).is_ok());
        let e = check("x {{$indx}}", &["index"]).expect_err("must be refused");
        assert!(e.contains("$indx") && e.contains("$index"), "{e}");
        assert!(
            check("{{$rand:9..1}}", &[])
                .expect_err("must be refused")
                .contains("MIN..MAX")
        );
        assert!(check("{{$index:zz}}", &["index"]).is_err());
        assert!(check("{{open", &[]).is_err());
        assert!(check("a {{}} b", &[]).is_err());
        assert!(check("{{a..b}}", &[]).is_err());
        assert!(check("{{$rand:1..9}}", &[]).is_ok());
    }

    #[test]
    fn check_payload_refuses_json_that_breaks_once_filled_in() {
        assert!(check_payload(r#"{"a":{{x}},"n":{{$n}}}"#).is_ok());
        assert!(check_payload("pong {{x}} {").is_ok(), "text stays text");
        let e = check_payload(r#"{"a":{{x}}"#).expect_err("unbalanced");
        assert!(e.contains("not JSON once filled in"), "{e}");
        assert!(check_payload(r#"["{{x"]"#).is_err());
    }

    #[test]
    fn fields_lists_the_paths_but_not_the_variables() {
        assert_eq!(fields("{{a.b}} {{$n}} {{ c }} {{open"), vec!["a.b", "c"]);
    }

    #[test]
    fn unclosed_braces_are_left_alone() {
        assert_eq!(expand("a {{b", None, "", &ctx()), "a {{b");
    }
}
