//! `--assert EXPR`: gates on a run's summary, so a pipeline fails a run that
//! misses its targets (exit 8). An assertion is `NAME OP VALUE`: NAME a dotted
//! path of the command's own `-F json` summary (`lost`, `latency_ms.p99`,
//! `verify.lost`), OP one of `< <= > >= == !=`, VALUE a plain number, a
//! duration (`300us`, `20ms`, `1.5s`) or `true`/`false`.
//!
//! The unit of a name comes from its key, read from the last segment up: the
//! first segment that ends in `_ms`, `_us` or `_s` gives it (`latency_ms.p99`
//! and `ready_ms.p99` are milliseconds, `elapsed_s` seconds); `_per_s` is a
//! rate, not a time, and ends the search (`calls_per_s` has no time unit). A
//! duration literal is converted to that unit; a plain number is taken in it;
//! a duration against a name without a time unit is a usage error.
//!
//! [`Gate::new`] checks the names against a sample summary of the command
//! (the same function that prints the summary, fed sample figures), so a
//! name that no summary of that command has is a usage error before the run;
//! an empty object in the sample is an open map (`errors.timeout`: any key).
//! [`Gate::judge`] evaluates the real summary; a name absent (or null) in this
//! run's summary fails, it never passes vacuously. Works on any
//! `serde_json::Value`, so every command with a JSON summary can gate on it.
//!
//! May import: serde_json (a leaf).

use std::fmt;

use serde_json::Value;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }
}

/// The time unit a summary key is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Secs,
    Millis,
    Micros,
}

impl Unit {
    fn per_sec(self) -> f64 {
        match self {
            Unit::Secs => 1.0,
            Unit::Millis => 1e3,
            Unit::Micros => 1e6,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Unit::Secs => "s",
            Unit::Millis => "ms",
            Unit::Micros => "us",
        }
    }
}

/// The right-hand side of an assertion.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    /// A duration, in seconds.
    Duration(f64),
    Bool(bool),
}

/// One parsed `--assert` expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    pub name: String,
    pub op: Op,
    pub value: Literal,
    text: String,
}

impl fmt::Display for Assertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The unit of a dotted summary name (see the module doc).
pub fn unit_of(name: &str) -> Option<Unit> {
    for seg in name.rsplit('.') {
        if seg.ends_with("_per_s") {
            return None;
        }
        if seg.ends_with("_ms") {
            return Some(Unit::Millis);
        }
        if seg.ends_with("_us") {
            return Some(Unit::Micros);
        }
        if seg.ends_with("_s") {
            return Some(Unit::Secs);
        }
    }
    None
}

/// Parses `NAME OP VALUE` (spaces optional); the clap value parser of `--assert`.
pub fn parse(expr: &str) -> Result<Assertion, String> {
    let ops = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    let at = expr.find(['<', '>', '=', '!']).ok_or_else(|| {
        format!("'{expr}' has no operator: write NAME OP VALUE, e.g. 'latency_ms.p99 < 20ms' (OP: < <= > >= == !=)")
    })?;
    let (name, rest) = expr.split_at(at);
    let (op, rest) = ops
        .iter()
        .find_map(|(s, op)| rest.strip_prefix(s).map(|r| (*op, r)))
        .ok_or_else(|| {
            format!(
                "'{expr}': '{}' is not an operator (< <= > >= == !=)",
                &rest[..1]
            )
        })?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .chars()
            // `-`: keys such as analyze's rule names (`rules.no-subscribers.count`).
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        || name.starts_with('.')
        || name.ends_with('.')
        || name.contains("..")
    {
        return Err(format!(
            "'{expr}': '{name}' is not a summary name (a dotted JSON key such as lost or latency_ms.p99)"
        ));
    }
    let value = rest.trim();
    let literal = parse_literal(value).ok_or_else(|| {
        format!("'{expr}': '{value}' is not a number, a duration (300us, 20ms, 1.5s) or true/false")
    })?;
    if matches!(literal, Literal::Bool(_)) && !matches!(op, Op::Eq | Op::Ne) {
        return Err(format!("'{expr}': true/false compare with == or != only"));
    }
    Ok(Assertion {
        name: name.to_string(),
        op,
        value: literal,
        text: format!("{name} {} {value}", op.as_str()),
    })
}

fn parse_literal(s: &str) -> Option<Literal> {
    match s {
        "true" => return Some(Literal::Bool(true)),
        "false" => return Some(Literal::Bool(false)),
        _ => {}
    }
    let number = |t: &str| {
        let t = t.trim();
        // Rust's float parser takes "inf" and "NaN"; a target never is one.
        (!t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)))
            .then(|| t.parse::<f64>().ok())
            .flatten()
            .filter(|x| x.is_finite())
    };
    for (suffix, per_sec) in [("us", 1e6), ("µs", 1e6), ("ms", 1e3), ("s", 1.0)] {
        if let Some(n) = s.strip_suffix(suffix) {
            return number(n).map(|x| Literal::Duration(x / per_sec));
        }
    }
    number(s).map(Literal::Number)
}

/// Why a set of assertions cannot gate a command's summary (a usage error).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--assert '{assertion}': {reason}")]
pub struct AssertError {
    pub assertion: String,
    pub reason: String,
}

/// What a name resolves to in a sample summary.
enum Found<'a> {
    Value(&'a Value),
    /// Under an open map (an empty object in the sample): any key.
    OpenMap,
    Missing,
}

fn lookup<'a>(v: &'a Value, name: &str) -> Found<'a> {
    let mut cur = v;
    for seg in name.split('.') {
        match cur {
            Value::Object(m) if m.is_empty() => return Found::OpenMap,
            Value::Object(m) => match m.get(seg) {
                Some(next) => cur = next,
                None => return Found::Missing,
            },
            _ => return Found::Missing,
        }
    }
    Found::Value(cur)
}

/// Every dotted name of numbers and booleans (and nulls: a value the sample
/// does not fill) in a summary, for error messages.
pub fn names(v: &Value) -> Vec<String> {
    fn walk(v: &Value, prefix: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(m) if m.is_empty() && !prefix.is_empty() => {
                out.push(format!("{prefix}.*"))
            }
            Value::Object(m) => {
                for (k, child) in m {
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(child, &name, out);
                }
            }
            Value::Number(_) | Value::Bool(_) | Value::Null => out.push(prefix.to_string()),
            Value::String(_) | Value::Array(_) => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out
}

/// The assertions of one run, checked against its command's summary shape.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    asserts: Vec<Assertion>,
}

/// The verdict on one assertion.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub assertion: String,
    pub passed: bool,
    /// The measured value with its unit, or why there is none.
    pub measured: String,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed { "ok" } else { "FAILED" };
        write!(
            f,
            "assert {verdict}: {} (measured {})",
            self.assertion, self.measured
        )
    }
}

impl Gate {
    /// Checks every name against `sample` (a summary of the command with
    /// every field filled): unknown names, names of text or lists, and
    /// durations against names without a time unit are errors.
    pub fn new(asserts: Vec<Assertion>, sample: &Value) -> Result<Gate, AssertError> {
        for a in &asserts {
            let err = |reason: String| AssertError {
                assertion: a.text.clone(),
                reason,
            };
            match lookup(sample, &a.name) {
                Found::Missing => {
                    let all = names(sample);
                    let last = a.name.rsplit('.').next().unwrap_or(&a.name);
                    let mut close: Vec<&String> = all
                        .iter()
                        .filter(|n| n.rsplit('.').next() == Some(last))
                        .collect();
                    if close.is_empty() {
                        close = all.iter().filter(|n| n.contains(&a.name)).collect();
                    }
                    let hint = if close.is_empty() {
                        format!("names: {}", all.join(", "))
                    } else {
                        format!(
                            "did you mean {}?",
                            close
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(" or ")
                        )
                    };
                    return Err(err(format!(
                        "this command's summary has no '{}' ({hint})",
                        a.name
                    )));
                }
                Found::Value(Value::String(_)) => {
                    return Err(err(format!("'{}' is text, not a number", a.name)));
                }
                Found::Value(Value::Array(_)) => {
                    return Err(err(format!("'{}' is a list, not a number", a.name)));
                }
                Found::Value(Value::Object(_)) => {
                    return Err(err(format!(
                        "'{}' is a group; name one of its keys ({})",
                        a.name,
                        names(sample)
                            .into_iter()
                            .filter(|n| n.starts_with(&format!("{}.", a.name)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                Found::Value(Value::Bool(_)) if !matches!(a.value, Literal::Bool(_)) => {
                    return Err(err(format!(
                        "'{}' is true or false; compare it with == true or == false",
                        a.name
                    )));
                }
                Found::Value(Value::Number(_)) if matches!(a.value, Literal::Bool(_)) => {
                    return Err(err(format!("'{}' is a number, not true/false", a.name)));
                }
                _ => {}
            }
            if matches!(a.value, Literal::Duration(_)) && unit_of(&a.name).is_none() {
                return Err(err(format!(
                    "'{}' is not a time (its key has no _s, _ms or _us); compare it with a plain number",
                    a.name
                )));
            }
        }
        Ok(Gate { asserts })
    }

    pub fn is_empty(&self) -> bool {
        self.asserts.is_empty()
    }

    /// Evaluates every assertion on this run's summary.
    pub fn judge(&self, summary: &Value) -> Vec<Outcome> {
        self.asserts.iter().map(|a| judge_one(a, summary)).collect()
    }
}

fn judge_one(a: &Assertion, summary: &Value) -> Outcome {
    let outcome = |passed: bool, measured: String| Outcome {
        assertion: a.text.clone(),
        passed,
        measured,
    };
    let value = match lookup(summary, &a.name) {
        Found::Value(v) if !v.is_null() => v,
        _ => return outcome(false, "nothing: absent in this run's summary".into()),
    };
    match (&a.value, value) {
        (Literal::Bool(want), Value::Bool(got)) => outcome(a.op.holds(got, want), got.to_string()),
        (Literal::Bool(_), other) => outcome(false, format!("{other}, not true/false")),
        (lit, Value::Number(n)) => {
            let Some(got) = n.as_f64() else {
                return outcome(false, format!("{n}, not a number"));
            };
            let unit = unit_of(&a.name);
            let want = match (lit, unit) {
                (Literal::Duration(secs), Some(u)) => secs * u.per_sec(),
                (Literal::Number(x), _) => *x,
                // Gate::new refuses durations on names without a unit.
                _ => return outcome(false, format!("{n} (no time unit)")),
            };
            let shown = match unit {
                Some(u) => format!("{n} {}", u.suffix()),
                None => n.to_string(),
            };
            outcome(a.op.holds(got, want), shown)
        }
        (_, other) => outcome(false, format!("{other}, not a number")),
    }
}

/// Whether every outcome passed.
pub fn all_passed(outcomes: &[Outcome]) -> bool {
    outcomes.iter().all(|o| o.passed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gate(exprs: &[&str], sample: &Value) -> Result<Gate, AssertError> {
        let asserts = exprs
            .iter()
            .map(|e| parse(e).expect("parses"))
            .collect::<Vec<_>>();
        Gate::new(asserts, sample)
    }

    fn sample() -> Value {
        json!({
            "lost": 0,
            "calls_per_s": 1.0,
            "elapsed_s": 1.0,
            "interrupted": false,
            "url": "ws://x/",
            "latency_ms": {"p50": 1.0, "p99": 1.0},
            "errors": {},
            "all_online_s": null,
        })
    }

    #[test]
    fn expressions_parse_with_or_without_spaces_and_units_convert_to_seconds() {
        let a = parse("latency_ms.p99<20ms").expect("parses");
        assert_eq!(
            (a.name.as_str(), a.op, &a.value),
            ("latency_ms.p99", Op::Lt, &Literal::Duration(0.02))
        );
        assert_eq!(a.to_string(), "latency_ms.p99 < 20ms");
        assert_eq!(parse("x >= 1.5s").expect("s").value, Literal::Duration(1.5));
        assert_eq!(
            parse("x != 300us").expect("us").value,
            Literal::Duration(300e-6)
        );
        assert_eq!(
            parse("calls_per_s >= 1e4").expect("n").value,
            Literal::Number(1e4)
        );
        assert_eq!(
            parse("interrupted == false").expect("b").value,
            Literal::Bool(false)
        );
        for bad in [
            "p99",
            "p99 < ",
            "< 3",
            "p99 = 3",
            "p99 <> 3",
            "p99 < fast",
            "p99 < 3m",
            "a b < 3",
            "x < inf",
            "x < NaN",
            "x > true",
            ".x < 1",
            "x. < 1",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_unit_comes_from_the_nearest_key_with_a_time_suffix_and_rates_have_none() {
        assert_eq!(unit_of("latency_ms.p99"), Some(Unit::Millis));
        assert_eq!(unit_of("ready_ms.p99_9"), Some(Unit::Millis));
        assert_eq!(unit_of("elapsed_s"), Some(Unit::Secs));
        assert_eq!(unit_of("x_us"), Some(Unit::Micros));
        assert_eq!(unit_of("calls_per_s"), None);
        assert_eq!(unit_of("lost"), None);
        assert_eq!(unit_of("verify.lost"), None);
    }

    #[test]
    fn a_duration_compares_in_the_keys_own_unit() {
        let g = gate(
            &[
                "latency_ms.p99 < 20ms",
                "latency_ms.p99 < 1s",
                "elapsed_s <= 1500ms",
            ],
            &sample(),
        )
        .expect("names exist");
        let run = json!({"latency_ms": {"p99": 25.0}, "elapsed_s": 1.2});
        let out = g.judge(&run);
        assert_eq!(
            out.iter().map(|o| o.passed).collect::<Vec<_>>(),
            [false, true, true]
        );
        assert_eq!(out[0].measured, "25.0 ms");
        assert!(!all_passed(&out));
    }

    #[test]
    fn unknown_names_text_groups_and_times_on_counts_are_refused_before_the_run() {
        let s = sample();
        let e = gate(&["p99 < 20ms"], &s).expect_err("unknown");
        assert!(e.to_string().contains("did you mean latency_ms.p99"), "{e}");
        let e = gate(&["nosuch > 1"], &s).expect_err("unknown");
        assert!(
            e.to_string().contains("names: ") && e.to_string().contains("calls_per_s"),
            "{e}"
        );
        assert!(gate(&["url == 1"], &s).is_err());
        assert!(gate(&["latency_ms > 1"], &s).is_err());
        assert!(gate(&["lost < 1s"], &s).is_err());
        assert!(gate(&["calls_per_s > 10ms"], &s).is_err());
        assert!(gate(&["interrupted > 1"], &s).is_err());
        assert!(gate(&["lost == true"], &s).is_err());
        // Open maps and nulls of the sample are names too.
        assert!(gate(&["errors.timeout == 0", "all_online_s < 5s"], &s).is_ok());
    }

    #[test]
    fn a_value_absent_in_this_run_fails_instead_of_passing_vacuously() {
        let g = gate(
            &["errors.timeout == 0", "all_online_s < 5s", "lost != 1"],
            &sample(),
        )
        .expect("names");
        let out = g.judge(&json!({"errors": {}, "all_online_s": null}));
        assert!(out.iter().all(|o| !o.passed), "{out:?}");
        assert!(out[0].measured.contains("absent"), "{}", out[0]);
    }

    #[test]
    fn booleans_and_every_operator_compare() {
        let g = gate(
            &[
                "interrupted == false",
                "lost == 0",
                "lost <= 0",
                "lost >= 0",
                "lost != 1",
                "lost > -1",
                "lost < 1",
            ],
            &sample(),
        )
        .expect("names");
        assert!(all_passed(
            &g.judge(&json!({"interrupted": false, "lost": 0}))
        ));
        let out = g.judge(&json!({"interrupted": true, "lost": 1}));
        assert_eq!(
            out.iter().map(|o| o.passed).collect::<Vec<_>>(),
            [false, false, false, true, false, true, false]
        );
        assert_eq!(out[1].to_string(), "assert FAILED: lost == 0 (measured 1)");
    }
}
