//! How a finding of the analyzer ([`crate::analyze`]) reads: one JSON object
//! (`smqctl analyze -F json`, `trace --findings` in json), a block for people
//! (`analyze` pretty: the severity, rule, message, clients, topic, times,
//! evidence lines and fix), one line (the TUI's Findings list, `trace
//! --findings` pretty), and the run's summary (counts, the request table).
//! One definition, used by every command and the TUI.
//!
//! Broker text (UIDs, topic names, payloads, reasons) is escaped before it
//! can reach a terminal ([`escape_controls`]); colour only when the caller
//! says so (a terminal and no NO_COLOR: [`super::use_color`]).
//!
//! May import: `analyze` (Finding, Summary, the request table), `trace::schema`,
//! `output` (escaping, paint), serde_json.

use serde_json::{Value, json};

use super::{escape_controls, paint};
use crate::analyze::requests::RequestRow;
use crate::analyze::{Finding, Severity, Summary};
use crate::trace::schema::{Encoding, Event};

/// The SGR colour of a severity.
fn colour(s: Severity) -> &'static str {
    match s {
        Severity::Error => "1;31",
        Severity::Warning => "1;33",
        Severity::Info => "1;36",
    }
}

/// `severity[rule]`, painted when `color`.
fn head(f: &Finding, color: bool) -> String {
    paint(
        color,
        colour(f.severity),
        &format!("{}[{}]", f.severity, f.rule),
    )
}

/// One finding as JSON: `{"type":"finding","id",…}` with the fields of
/// [`Finding`] (`rule`, `severity`, `message`, `clients`, `topic`,
/// `subtopic`, `first_ts`, `last_ts`, `count`, `evidence`, `fix`). `id` is the
/// finding's index in the run (the summary's `findings` list uses it).
pub fn finding_json(id: usize, f: &Finding) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        let mut out = serde_json::Map::with_capacity(map.len() + 2);
        out.insert("type".into(), json!("finding"));
        out.insert("id".into(), json!(id));
        out.append(map);
        return Value::Object(out);
    }
    v
}

/// One line: `error[stale-etid] message (×3)`, escaped.
pub fn finding_line(f: &Finding, color: bool) -> String {
    let times = if f.count > 1 {
        format!(" (×{})", f.count)
    } else {
        String::new()
    };
    format!("{} {}{times}", head(f, color), escape_controls(&f.message))
}

/// The time of day of an RFC 3339 `ts` (`03:44:17.123`, UTC as written).
fn time_of_day(ts: &str) -> &str {
    let t = ts.split_once('T').map_or(ts, |(_, t)| t);
    t.strip_suffix('Z').unwrap_or(t)
}

/// One evidence event in a line: time, kind, from → to [sub-topic], size,
/// payload preview, (reason); every broker text escaped.
pub fn evidence_line(e: &Event) -> String {
    let mut line = format!("{} {}", time_of_day(&e.ts), e.kind.as_str().to_uppercase());
    if let Some(from) = &e.from {
        line.push(' ');
        line.push_str(&escape_controls(&from.label()));
        if from.uid.is_some() || from.server {
            line.push_str(&format!("({})", from.etid));
        }
    }
    if let Some(to) = &e.to {
        line.push_str(" → ");
        line.push_str(&escape_controls(&to.label()));
    }
    if let Some(sub) = &e.subtopic {
        line.push_str(&format!(" [{}]", escape_controls(sub)));
    } else if let Some(id) = e.subtid {
        line.push_str(&format!(" [#{id}]"));
    }
    if let Some(size) = e.size {
        line.push_str(&format!(" {size} B"));
    }
    if let Some(p) = &e.payload {
        let shown = match e.encoding {
            Some(Encoding::Base64) => format!("base64:{p}"),
            _ => escape_controls(p),
        };
        // Evidence keeps 200 characters; a line shows 80 of them.
        let mut cut: String = shown.chars().take(80).collect();
        if e.truncated || cut.len() < shown.len() {
            cut.push('…');
        }
        line.push(' ');
        line.push_str(&cut);
    }
    if let Some(reason) = &e.reason {
        line.push_str(&format!(" ({})", escape_controls(reason)));
    }
    line
}

/// A finding for people: the head line, clients, topic, times, the evidence
/// lines and the fix (several lines, no trailing newline).
pub fn finding_pretty(f: &Finding, color: bool) -> String {
    let mut out = finding_line(f, color);
    if !f.clients.is_empty() {
        let names: Vec<String> = f
            .clients
            .iter()
            .map(|c| escape_controls(&c.label()))
            .collect();
        out.push_str(&format!("\n  clients:  {}", names.join(", ")));
    }
    match (&f.topic, &f.subtopic) {
        (Some(t), Some(s)) => out.push_str(&format!(
            "\n  topic:    {} / {}",
            escape_controls(t),
            escape_controls(s)
        )),
        (Some(t), None) => out.push_str(&format!("\n  topic:    {}", escape_controls(t))),
        (None, Some(s)) => out.push_str(&format!("\n  subtopic: {}", escape_controls(s))),
        (None, None) => {}
    }
    if f.first_ts == f.last_ts {
        out.push_str(&format!("\n  at:       {}", escape_controls(&f.first_ts)));
    } else {
        let times = if f.count > 1 {
            format!(" ({} times)", f.count)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "\n  from:     {} to {}{times}",
            escape_controls(&f.first_ts),
            escape_controls(&f.last_ts),
        ));
    }
    for e in &f.evidence {
        out.push_str("\n  | ");
        out.push_str(&evidence_line(e));
    }
    if !f.fix.is_empty() {
        let fix = paint(color, "1", "fix:");
        out.push_str(&format!("\n  {fix}      {}", escape_controls(&f.fix)));
    }
    out
}

/// Severities from the worst down (the pretty output's grouping).
pub const WORST_FIRST: [Severity; 3] = [Severity::Error, Severity::Warning, Severity::Info];

/// Findings grouped by severity (errors first), each group in the order the
/// findings were made: the order file mode prints them in. Returns indices.
pub fn grouped(findings: &[Finding]) -> Vec<usize> {
    let mut order = Vec::with_capacity(findings.len());
    for s in WORST_FIRST {
        order.extend((0..findings.len()).filter(|&i| findings[i].severity == s));
    }
    order
}

/// The summary as the final JSON line: `{"type":"summary","events",
/// "findings":{"error","warning","info"},"suppressed","rules":{RULE:
/// {"findings","count"}},"counts":[{"id","rule","severity","count",
/// "last_ts"}],…}` plus `extra`'s fields (the request table, the run's end).
pub fn summary_json(s: &Summary, extra: Value) -> Value {
    let mut v = json!({
        "type": "summary",
        "events": s.events,
        "skipped": s.skipped,
        "findings": s.by_severity,
        "suppressed": s.suppressed,
        "rules": s.by_rule,
        "counts": s.findings,
        "requests": s.requests,
        "requests_forgotten": s.requests_forgotten,
    });
    if let (Value::Object(map), Value::Object(more)) = (&mut v, extra) {
        for (k, x) in more {
            map.insert(k, x);
        }
    }
    v
}

/// The summary's first line: `1234 events; 3 findings: 1 error, 2 warnings, 0 info`.
pub fn summary_line(s: &Summary, color: bool) -> String {
    let n = |sev| s.by_severity.get(&sev).copied().unwrap_or(0);
    let plural = |k: u64, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
    let part = |sev: Severity, one: &str, many: &str| {
        let text = plural(n(sev), one, many);
        if n(sev) > 0 {
            paint(color, colour(sev), &text)
        } else {
            text
        }
    };
    let mut line = format!(
        "{}; {}: {}, {}, {}",
        plural(s.events, "event", "events"),
        plural(s.total(), "finding", "findings"),
        part(Severity::Error, "error", "errors"),
        part(Severity::Warning, "warning", "warnings"),
        part(Severity::Info, "info", "info"),
    );
    if s.skipped > 0 {
        line.push_str(&format!(
            " (the trace source skipped {} events: findings may be missing)",
            s.skipped
        ));
    }
    if s.suppressed > 0 {
        line.push_str(&format!(
            " ({} more not kept: the limit of {} findings was reached)",
            s.suppressed,
            crate::analyze::MAX_FINDINGS
        ));
    }
    line
}

/// The request table for people: one row per request name (`$RpcReq`
/// functions as `$RpcReq add`), latency percentiles in ms.
pub fn request_table(rows: &[RequestRow]) -> String {
    let label = |r: &RequestRow| {
        let name = escape_controls(&r.name);
        if r.rpc {
            format!("{}{name}", "$RpcReq ")
        } else {
            name
        }
    };
    let width = rows
        .iter()
        .map(|r| label(r).chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    let mut out = format!(
        "{:<width$}  {:>7} {:>8} {:>5} {:>10} {:>5} {:>7}  {:>9} {:>9} {:>9} {:>9}",
        "request",
        "calls",
        "answered",
        "late",
        "unanswered",
        "err",
        "pending",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms"
    );
    for r in rows {
        let ms = |k: &str| {
            r.latency_ms
                .get(k)
                .and_then(Value::as_f64)
                .map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
        };
        out.push_str(&format!(
            "\n{:<width$}  {:>7} {:>8} {:>5} {:>10} {:>5} {:>7}  {:>9} {:>9} {:>9} {:>9}",
            label(r),
            r.calls,
            r.answered,
            r.late,
            r.unanswered,
            r.err,
            r.pending,
            ms("p50"),
            ms("p90"),
            ms("p99"),
            ms("max"),
        ));
    }
    out
}

/// The summary for people: the summary line, then one line per rule that
/// found something (`  stale-etid  2 findings, 14 times`), then the request
/// table (when there were requests).
pub fn summary_pretty(s: &Summary, color: bool) -> String {
    let mut out = summary_line(s, color);
    let found = || s.by_rule.iter().filter(|(_, t)| t.findings > 0);
    let width = found().map(|(r, _)| r.len()).max().unwrap_or(0);
    for (rule, t) in found() {
        out.push_str(&format!(
            "\n  {rule:<width$}  {} finding{}, {} time{}",
            t.findings,
            if t.findings == 1 { "" } else { "s" },
            t.count,
            if t.count == 1 { "" } else { "s" },
        ));
    }
    if !s.requests.is_empty() {
        out.push_str("\n\n");
        out.push_str(&request_table(&s.requests));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{ClientRef, RuleInfo};
    use crate::trace::schema::{Client, Dest, DestType, Kind};

    static INFO: RuleInfo = RuleInfo {
        name: "stale-etid",
        severity: Severity::Error,
        summary: "s",
        explain: "e",
        brokers: "b",
    };

    fn finding() -> Finding {
        let mut e = Event::new(Kind::Drop, "2026-11-22T03:44:17.123Z".into());
        e.from = Some(Client {
            etid: 7,
            uid: Some("op\x1b[31m".into()),
            ..Client::default()
        });
        e.to = Some(Dest {
            tid: 9,
            kind: DestType::Unknown,
            name: None,
            uid: None,
        });
        e.subtopic = Some("SetCharger".into());
        e.payload = Some("{\"On\":true}".into());
        e.size = Some(11);
        e.reason = Some("unknown tid\n".into());
        Finding::new(&INFO, "9", &e)
            .message("op sent to etid 9, gone\x07")
            .client(ClientRef {
                uid: Some("op\x1b[31m".into()),
                etid: 7,
            })
            .subtopic("SetCharger")
            .fix("look it up again")
    }

    #[test]
    fn pretty_findings_escape_broker_text_and_colour_only_when_asked() {
        let f = finding();
        let plain = finding_pretty(&f, false);
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(!plain.contains('\x07'), "{plain}");
        assert!(plain.starts_with("error[stale-etid] op sent to etid 9, gone\\u{7}"));
        assert!(
            plain.contains("\n  clients:  op\\u{1b}[31m (etid 7)"),
            "{plain}"
        );
        assert!(plain.contains("\n  subtopic: SetCharger"), "{plain}");
        assert!(
            plain.contains(
                "\n  | 03:44:17.123 DROP op\\u{1b}[31m(7) → #9 [SetCharger] 11 B {\"On\":true} (unknown tid\\n)"
            ),
            "{plain}"
        );
        assert!(plain.ends_with("fix:      look it up again"), "{plain}");
        let painted = finding_pretty(&f, true);
        assert!(
            painted.starts_with("\x1b[1;31merror[stale-etid]\x1b[0m"),
            "{painted}"
        );
    }

    #[test]
    fn a_finding_in_json_has_type_id_and_every_field() {
        let v = finding_json(3, &finding());
        assert_eq!(v["type"], "finding");
        assert_eq!(v["id"], 3);
        assert_eq!(v["rule"], "stale-etid");
        assert_eq!(v["severity"], "error");
        assert_eq!(v["clients"][0]["etid"], 7);
        assert_eq!(v["subtopic"], "SetCharger");
        assert_eq!(v["count"], 1);
        assert_eq!(v["evidence"][0]["kind"], "drop");
        assert_eq!(v["fix"], "look it up again");
        assert!(v.get("key").is_none(), "the merge key is not output");
        assert!(v.get("topic").is_none(), "unknown fields are left out");
    }

    #[test]
    fn grouping_puts_errors_first_and_keeps_the_order_within_a_severity() {
        let mut w = finding();
        w.severity = Severity::Warning;
        let e1 = finding();
        let e2 = finding();
        let all = [w, e1, e2];
        assert_eq!(grouped(&all), vec![1, 2, 0]);
    }
}
