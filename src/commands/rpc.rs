//! `smqctl rpc` (and `smqctl bench rpc`, the shell's `rpc`/`call`): turns an
//! [`RpcRequest`] into a plain [`CallSpec`] for the caller in
//! [`crate::client::rpc`], runs one call, a collection or a load run on it, and
//! prints the replies or the summary with the documented exit code.
//!
//! Named requests publish to the broker's ETID with the request name as
//! sub-topic and await the reply on `self` under the derived `…Resp` sub-topic;
//! correlated calls send `{id,name,args}` on `$RpcReq` and match `{id,rsp|err}`
//! on `$RpcResp`. One dispatcher task hands replies to the pending calls by
//! correlation key; when the connection drops it fails every pending call at
//! once, so nothing waits for its timeout on a dead socket.
//!
//! Its flags ([`RpcArgs`], shared by `bench rpc`) and long-help [`EXAMPLES`] live
//! here too.
//!
//! May import: `args`, `exit`, `client`, `protocol`, `output`, `latency`,
//! `assert`, `report_html` (load mode's `--html`). Never `cli`.

use std::io::{self, Write};
use std::sync::Arc;

use anyhow::Result;
use bytes::Bytes;
use clap::Args;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::args::{AssertArgs, ConnectArgs, GlobalArgs, RpcRequest, client_options};
use crate::assert::Gate;
use crate::client::rpc::{
    Call, CallError, CallSpec, Caller, LoadLive, LoadReport, LoadSpec, Reply, StartError, Target,
};
use crate::client::{self, Client, ClientError, Event, Subscription};
use crate::exit::{self, input_error, json_error};
use crate::output::{Format, Printer, escape_controls, use_color};
use crate::protocol::rpc::derive_response;
use crate::shutdown::Signals;

/// Examples and notes under `--help`.
pub const EXAMPLES: &str = "\
Examples:
  smqctl rpc SearchSitesReq '{\"SiteName\":\"alpha\"}'     # reply awaited on SearchSitesResp
  smqctl rpc --call add 1 2          # {\"id\":1,\"name\":\"add\",\"args\":[1,2]} on $RpcReq
  smqctl rpc --call setMode --args '[\"eco\", {\"force\":true}]'
  smqctl rpc GetStatusReq '{}' --id-field request_id --count 1000 --concurrency 20
  smqctl rpc --call add 1 2 --count 10000 --concurrency 50 --rate 2000 --format json
  smqctl rpc Hello '{}' --to Presence --collect 2s       # discovery: everyone who answers

Named requests go to the broker's ETID (1, or --server-etid) with the request name as
sub-topic; the reply is awaited on `self` with the sub-topic derived as ...Req ->
...Resp (--resp overrides). --to sends to a client ETID or a topic instead.
Exit codes: 0 ok, 5 no reply within --timeout, 7 the handler answered with err,
6 connection lost while calls were pending; see `smqctl --help` for the rest.";

#[derive(Debug, Args)]
pub struct RpcArgs {
    #[command(flatten)]
    pub req: RpcRequest,
    /// Load mode's gates (`--assert`)
    #[command(flatten)]
    pub gates: AssertArgs,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

/// Where replies are printed: stdout, in the chosen format.
fn printer(
    caller: &Caller,
    format: Format,
    global: &GlobalArgs,
) -> Printer<io::StdoutLock<'static>> {
    let mut p = Printer::new(
        io::stdout().lock(),
        format,
        crate::output::DataType::Auto,
        use_color(global.color),
    );
    p.own_etid = caller.etid();
    p
}

/// The `rsp` of a correlated reply (null when it has none).
fn correlated_result(reply: &Reply) -> Value {
    reply
        .json
        .as_ref()
        .and_then(|j| j.get("rsp"))
        .cloned()
        .unwrap_or(Value::Null)
}

/// `--to`: numbers are ETIDs (and must be valid ones); names are topics. A
/// number that does not fit is an error, not a topic called "4294967296".
fn parse_target(to: &str) -> Result<Target> {
    if to.trim().is_empty() {
        return Err(input_error("--to needs an ETID or a topic name"));
    }
    if to == "self" {
        return Ok(Target::SelfEtid);
    }
    let looks_numeric = to
        .trim()
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == '+');
    if looks_numeric || to.trim() != to {
        return match to.trim().parse::<u32>() {
            Ok(etid) if etid != 0 => Ok(Target::Etid(etid)),
            _ => Err(input_error(format!(
                "--to '{to}' is not an ETID (1 to 4294967295); topic names are not numbers and have no surrounding spaces"
            ))),
        };
    }
    Ok(Target::Topic(to.to_string()))
}

/// `--call`'s ARGS, each a JSON value: `1`, `true`, `"eco"`, `{"a":1}`. A
/// word that is not JSON is an error, or a string with `--args-text`.
fn call_words(words: &[String], as_text: bool) -> Result<Vec<Value>> {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| match serde_json::from_str(w) {
            Ok(v) => Ok(v),
            Err(_) if as_text => Ok(Value::String(w.clone())),
            Err(e) => Err(input_error(format!(
                "{} (--call arguments are JSON values: quote a string as '\"{w}\"', or --args-text sends words that are not JSON as strings)",
                json_error(&format!("ARG {} '{w}'", i + 1), &e),
                w = escape_controls(w)
            ))),
        })
        .collect()
}

/// Whether a named request's PAYLOAD is meant as JSON (and so is checked).
fn looks_like_json(payload: &str) -> bool {
    payload.trim_start().starts_with(['{', '[', '"'])
}

/// What a call sends, and the sub-topic it goes on.
fn parse_call(args: &RpcRequest) -> Result<(Call, String)> {
    if let Some(name) = &args.call {
        let call_args = match &args.args {
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Array(a)) => a,
                Ok(_) => {
                    return Err(input_error(
                        "--args must be a JSON array, e.g. '[1, \"two\"]'",
                    ));
                }
                Err(e) => return Err(json_error("--args", &e)),
            },
            None => call_words(&args.words, args.args_text)?,
        };
        if args.args.is_some() && !args.words.is_empty() {
            return Err(input_error(
                "give arguments either as ARGS or with --args, not both",
            ));
        }
        return Ok((
            Call::Correlated {
                name: name.clone(),
                args: call_args,
            },
            args.rpc_req.clone(),
        ));
    }
    let (request, payload) = match args.words.as_slice() {
        [] => {
            return Err(input_error(
                "give a REQUEST sub-topic (e.g. SearchSitesReq) or --call NAME",
            ));
        }
        [r] => (r.clone(), "{}".to_string()),
        [r, p] => (r.clone(), p.clone()),
        _ => {
            return Err(input_error(
                "a named request takes REQUEST and one PAYLOAD; quote the JSON",
            ));
        }
    };
    if !args.args_text && looks_like_json(&payload) {
        // As `pub --json`: JSON is checked before anything is sent.
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&payload) {
            return Err(input_error(format!(
                "{} (a PAYLOAD starting with {{ [ or \" must be JSON; --args-text sends it as text)",
                json_error("PAYLOAD", &e)
            )));
        }
    }
    let object = match &args.id_field {
        None => None,
        Some(field) => match serde_json::from_str::<Value>(&payload) {
            Ok(Value::Object(o)) => Some(o),
            _ => {
                return Err(input_error(format!(
                    "--id-field {field} needs a JSON object payload to put the ID into"
                )));
            }
        },
    };
    let bytes = Bytes::from(payload.into_bytes());
    if bytes.len() > crate::protocol::MAX_PAYLOAD {
        return Err(input_error("payload is larger than 65520 bytes"));
    }
    Ok((
        Call::Named {
            payload: bytes,
            object,
            id_field: args.id_field.clone(),
        },
        request,
    ))
}

pub async fn run(args: RpcArgs, global: &GlobalArgs) -> Result<u8> {
    run_observed(args, global, None).await
}

/// [`run`], a load run also counting into `live` as calls end (`bench rpc
/// --metrics-listen`).
pub async fn run_observed(
    args: RpcArgs,
    global: &GlobalArgs,
    live: Option<Arc<LoadLive>>,
) -> Result<u8> {
    // Check the request before connecting: a typo never reaches the broker.
    spec(&args.req)?;
    let gate = load_gate(&args)?;
    let opts = client_options(&args.conn, global).await?;
    let stop = crate::shutdown::requested();
    tokio::pin!(stop);
    let (client, events) = tokio::select! {
        c = Client::connect(&opts) => c?,
        _ = &mut stop => return Ok(exit::INTERRUPTED),
    };
    // run_on stops on the signal itself (load mode prints what it has).
    let signals = Signals::since_start();
    let code = run_gated(
        &client,
        Some(events),
        &args.req,
        global,
        signals,
        &gate,
        live,
    )
    .await;
    client.disconnect("").await;
    code
}

/// `--assert` judges load mode's summary; its names are checked here, before
/// connecting.
fn load_gate(args: &RpcArgs) -> Result<Gate> {
    if args.gates.asserts.is_empty() {
        return Ok(Gate::default());
    }
    if args.req.count.is_none() {
        return Err(input_error(
            "--assert judges the summary of load mode: add --count N (or use `smqctl bench rpc`)",
        ));
    }
    let mut latency = crate::latency::Latency::new();
    latency.record(std::time::Duration::from_millis(1));
    let sample = LoadReport::<()> {
        calls: 1,
        ok: 1,
        remote: 0,
        timeout: 0,
        lost: 0,
        not_sent: 0,
        unmatched: 0,
        no_id: 0,
        latency,
        first_error: None,
        elapsed: std::time::Duration::from_secs(1),
        interrupted: None,
        series: Vec::new(),
    };
    Ok(Gate::new(
        args.gates.asserts.clone(),
        &load_json(&sample, args.req.concurrency.max(1)),
    )?)
}

/// The plain description of the call the flags ask for; every mistake in them
/// is an input error here, before anything is sent.
fn spec(args: &RpcRequest) -> Result<CallSpec> {
    let (call, request) = parse_call(args)?;
    let concurrent = args.count.is_some() && args.concurrency > 1;
    if concurrent && matches!(call, Call::Named { id_field: None, .. }) {
        return Err(input_error(
            "concurrent named requests need --id-field FIELD: without an ID in the request and its reply, \
             replies cannot be matched to requests (use --concurrency 1, or --call for $RpcReq)",
        ));
    }
    let response = match &call {
        Call::Named { .. } => args
            .resp
            .clone()
            .unwrap_or_else(|| derive_response(&request)),
        Call::Correlated { .. } => args.rpc_resp.clone(),
    };
    let to = match args.to.as_deref() {
        None => Target::Server(args.server.etid),
        Some(to) => parse_target(to)?,
    };
    Ok(CallSpec {
        call,
        to,
        request,
        response,
        timeout: args.timeout,
        collect: args.responses.is_some() || args.collect.is_some(),
    })
}

/// Runs one request (single call, collection or load) on a connected client and
/// returns the exit code; the one-shot `rpc` and the shell's `rpc`/`call` both
/// come here. The reply route is removed again afterwards. It stops on
/// `signals` (exit 130; load mode prints the calls so far): the shell passes
/// a `Signals::new()`, since an earlier Ctrl-C belonged to an earlier command.
pub async fn run_on(
    client: &Client,
    events: Option<mpsc::Receiver<Event>>,
    args: &RpcRequest,
    global: &GlobalArgs,
    signals: Signals,
) -> Result<u8> {
    run_gated(
        client,
        events,
        args,
        global,
        signals,
        &Gate::default(),
        None,
    )
    .await
}

/// [`run_on`] with load mode's `--assert` gates, a load run also counting
/// into `live`.
async fn run_gated(
    client: &Client,
    events: Option<mpsc::Receiver<Event>>,
    args: &RpcRequest,
    global: &GlobalArgs,
    mut signals: Signals,
    gate: &Gate,
    live: Option<Arc<LoadLive>>,
) -> Result<u8> {
    let spec = spec(args)?;
    let format = args.format.unwrap_or_else(Format::default_for_stdout);
    let setup = tokio::select! {
        r = Caller::start(client, events, spec) => r,
        _ = signals.next() => return Ok(exit::INTERRUPTED),
    };
    let (caller, collect_sub) = match setup {
        Ok(attached) => attached,
        Err(e @ StartError::Client(ClientError::NoAck { .. })) => {
            eprintln!(
                "error: no reply within {}: {}",
                humantime::format_duration(args.timeout),
                escape_controls(&e.to_string())
            );
            return Ok(exit::TIMEOUT);
        }
        Err(StartError::Client(e)) => return Err(e.into()),
        Err(e @ StartError::SetupTimeout) => {
            eprintln!(
                "error: no reply within {}: {e}",
                humantime::format_duration(args.timeout)
            );
            return Ok(exit::TIMEOUT);
        }
    };
    if let Some(sub) = collect_sub {
        tokio::select! {
            r = collect(&caller, sub, args, format, global) => r,
            _ = signals.next() => Ok(exit::INTERRUPTED),
        }
    } else if let Some(n) = args.count {
        let spec = LoadSpec {
            calls: n,
            concurrency: args.concurrency.max(1),
            rate: args.rate,
            live,
        };
        load(&caller, spec, format, signals, gate, args.html.as_deref()).await
    } else {
        tokio::select! {
            r = single(&caller, format, global) => r,
            s = signals.next() => {
                eprintln!("error: interrupted ({}) while waiting for the reply: {}", s.name(), caller.describe());
                Ok(exit::INTERRUPTED)
            }
        }
    }
}

async fn single(caller: &Caller, format: Format, global: &GlobalArgs) -> Result<u8> {
    let mut printer = printer(caller, format, global);
    match caller.call().await {
        Ok(reply) => {
            print_reply(caller, &mut printer, &reply)?;
            Ok(exit::OK)
        }
        Err(CallError::Remote(err, reply)) => {
            if format == Format::Json {
                print_reply(caller, &mut printer, &reply)?;
            }
            eprintln!(
                "error: the handler answered with an error: {}",
                escape_controls(&err)
            );
            Ok(exit::REMOTE)
        }
        Err(CallError::Timeout) => {
            eprintln!(
                "error: no reply within {}: {}",
                humantime::format_duration(caller.timeout()),
                caller.describe()
            );
            Ok(exit::TIMEOUT)
        }
        Err(CallError::Lost(reason)) => {
            eprintln!(
                "error: connection lost while waiting for the reply: {}",
                escape_controls(&reason)
            );
            Ok(exit::LOST)
        }
        Err(CallError::NotSent(reason)) => {
            eprintln!(
                "error: connection lost before the request was sent: {}",
                escape_controls(&reason)
            );
            Ok(exit::LOST)
        }
        Err(CallError::NoId(reason)) => {
            eprintln!("error: {}", escape_controls(&reason));
            Ok(exit::TIMEOUT)
        }
    }
}

/// One reply, the same shape for named requests and `--call`: pretty and hex
/// show the reply message as `sub` does, json is the message envelope (the
/// payload as its JSON value) with `latency_ms`; `--call`'s json also keeps the
/// reply's `id` and `rsp` (or `err`) at the top, and its raw is the `rsp` alone.
fn print_reply(caller: &Caller, printer: &mut Printer<impl Write>, reply: &Reply) -> Result<()> {
    let correlated = matches!(caller.call_kind(), Call::Correlated { .. });
    match printer.format {
        Format::Json => {
            let mut obj = printer.message_json(&reply.msg);
            if let (true, Some(Value::Object(answer)), Value::Object(o)) =
                (correlated, &reply.json, &mut obj)
            {
                for key in ["id", "rsp", "err"] {
                    if let Some(v) = answer.get(key) {
                        o.insert(key.into(), v.clone());
                    }
                }
            }
            obj["latency_ms"] = json!(crate::latency::ms(reply.latency));
            printer.write_line(&obj.to_string())?;
        }
        Format::Raw if correlated => {
            let rsp = correlated_result(reply);
            printer.write_line(&rsp.to_string())?;
        }
        _ => printer.message(&reply.msg)?,
    }
    printer.flush()?;
    Ok(())
}

async fn collect(
    caller: &Caller,
    mut sub: Subscription,
    args: &RpcRequest,
    format: Format,
    global: &GlobalArgs,
) -> Result<u8> {
    caller.send_once().await?;
    let mut printer = printer(caller, format, global);
    let window = args.collect.unwrap_or(args.timeout);
    let deadline = tokio::time::Instant::now() + window;
    let mut got = 0u64;
    loop {
        if args.responses.is_some_and(|n| got >= n) {
            break;
        }
        match tokio::time::timeout_at(deadline, sub.rx.recv()).await {
            Ok(Some(m)) => {
                got += 1;
                printer.message(&m)?;
                printer.flush()?;
            }
            Ok(None) => {
                eprintln!("error: connection lost after {got} replies");
                return Ok(exit::LOST);
            }
            Err(_) => break,
        }
    }
    match args.responses {
        Some(n) if got < n => {
            eprintln!(
                "error: {got} of {n} replies within {}: {}",
                humantime::format_duration(window),
                caller.describe()
            );
            Ok(exit::TIMEOUT)
        }
        None if got == 0 => {
            eprintln!(
                "error: no reply within {}: {}",
                humantime::format_duration(window),
                caller.describe()
            );
            Ok(exit::TIMEOUT)
        }
        _ => Ok(exit::OK),
    }
}

/// Load mode: the engine makes the calls ([`client::rpc::load`]); this prints
/// its report and picks the exit code.
async fn load(
    caller: &Arc<Caller>,
    spec: LoadSpec,
    format: Format,
    mut signals: Signals,
    gate: &Gate,
    html: Option<&std::path::Path>,
) -> Result<u8> {
    if let Some(path) = html {
        let existed = path.exists();
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| {
                crate::exit::input_error(format!(
                    "cannot write the HTML report to {}: {e}",
                    path.display()
                ))
            })?;
        if !existed {
            let _ = std::fs::remove_file(path);
        }
    }
    let bar = crate::output::progress(Some(spec.calls), "calls");
    let concurrency = spec.concurrency;
    let spec_rate = spec.rate;
    let r = client::rpc::load(caller, spec, signals.next(), || bar.inc(1)).await;
    bar.finish_and_clear();
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    let rate = r.answered() as f64 / secs;
    let target = caller.describe();
    let n = r.calls;
    match format {
        Format::Json => println!("{}", load_json(&r, concurrency)),
        _ => {
            match &r.interrupted {
                None => println!("{n} calls, concurrency {concurrency}: {target}"),
                Some(s) => println!(
                    "{} of {n} calls, concurrency {concurrency}, interrupted ({}): {target}",
                    r.completed(),
                    s.name()
                ),
            }
            println!(
                "ok {}  error {}  timeout {}  lost {}  not sent {}{}   in {secs:.3} s = {rate:.0} calls/s",
                r.ok,
                r.remote,
                r.timeout,
                r.lost,
                r.not_sent,
                if r.no_id > 0 {
                    format!("  no id {}", r.no_id)
                } else {
                    String::new()
                }
            );
            if r.unmatched > 0 {
                println!("unmatched replies {}", r.unmatched);
            }
            println!("latency   {}", r.latency.line());
            if let Some(e) = &r.first_error {
                println!("first error: {}", escape_controls(e));
            }
        }
    }
    // Judged once: the outcomes go to stderr and into the --html page.
    let outcomes = gate.judge(&load_json(&r, concurrency));
    if let Some(path) = html {
        let mut page = load_page(&r, &target, concurrency, spec_rate, secs, rate);
        page.asserts = super::html_asserts(&outcomes);
        std::fs::write(path, page.render()).map_err(|e| {
            anyhow::anyhow!("cannot write the HTML report to {}: {e}", path.display())
        })?;
    }
    let code = if r.interrupted.is_some() {
        exit::INTERRUPTED
    } else if r.lost > 0 || r.not_sent > 0 {
        exit::LOST
    } else if r.timeout > 0 || r.no_id > 0 {
        exit::TIMEOUT
    } else if r.remote > 0 {
        exit::REMOTE
    } else {
        exit::OK
    };
    Ok(super::gated_on(&outcomes, code))
}

/// Load mode's `-F json` summary; also what `--assert` judges.
fn load_json<S>(r: &LoadReport<S>, concurrency: usize) -> Value {
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    json!({
        "calls": r.calls,
        "completed": r.completed(),
        "interrupted": r.interrupted.is_some(),
        "concurrency": concurrency,
        "ok": r.ok,
        "error": r.remote,
        "timeout": r.timeout,
        "lost": r.lost,
        "not_sent": r.not_sent,
        "unmatched_replies": r.unmatched,
        "no_id": r.no_id,
        "elapsed_s": crate::latency::secs(secs),
        "calls_per_s": crate::latency::rate(r.answered() as f64 / secs),
        "latency_ms": r.latency.to_json(),
    })
}

/// The `--html` page of a load run.
fn load_page<S>(
    r: &client::rpc::LoadReport<S>,
    target: &str,
    concurrency: usize,
    rate_limit: Option<f64>,
    secs: f64,
    calls_per_s: f64,
) -> crate::report_html::Page {
    use crate::report_html::{Chart, Histogram, LineChart, Page};
    let params = vec![
        ("target".to_string(), target.to_string()),
        ("calls".into(), r.calls.to_string()),
        ("concurrency".into(), concurrency.to_string()),
        (
            "rate".into(),
            rate_limit
                .filter(|r| *r > 0.0)
                .map(|r| format!("{r}/s"))
                .unwrap_or_else(|| "flat out".into()),
        ),
        (
            "result".into(),
            format!(
                "ok {}, error {}, timeout {}, lost {}, not sent {}, no id {}, unmatched replies {} in {secs:.3} s = {calls_per_s:.0} calls/s{}",
                r.ok,
                r.remote,
                r.timeout,
                r.lost,
                r.not_sent,
                r.no_id,
                r.unmatched,
                if r.interrupted.is_some() {
                    " (interrupted)"
                } else {
                    ""
                }
            ),
        ),
        ("latency".into(), r.latency.line()),
        (
            "first error".into(),
            r.first_error.clone().unwrap_or_else(|| "-".into()),
        ),
    ];
    let failed = r.remote + r.timeout + r.lost + r.not_sent + r.no_id;
    let xy = |f: &dyn Fn(&client::rpc::LoadSample) -> Option<f64>| -> Vec<(f64, f64)> {
        r.series
            .iter()
            .filter_map(|s| f(s).map(|y| (s.t_s, y)))
            .collect()
    };
    let line = |title: &str, y: &str, series: Vec<(String, Vec<(f64, f64)>)>| {
        Chart::Line(LineChart {
            title: title.into(),
            x_label: "seconds".into(),
            y_label: y.into(),
            series,
        })
    };
    Page {
        title: format!("smqctl rpc load: {} calls to {target}", r.calls),
        params,
        verdict: Some((
            failed == 0 && r.interrupted.is_none(),
            format!("{} of {} calls answered ok, {failed} failed", r.ok, r.calls),
        )),
        // The caller adds the --assert outcomes.
        asserts: Vec::new(),
        charts: vec![
            line(
                "Calls answered per second",
                "calls/s",
                vec![("answered".into(), xy(&|s| Some(s.answered_per_s)))],
            ),
            line(
                "Request latency over time",
                "ms",
                vec![
                    ("p50".into(), xy(&|s| s.p50_ms)),
                    ("p99".into(), xy(&|s| s.p99_ms)),
                ],
            ),
            Chart::Histogram(Histogram {
                title: "Latency".into(),
                buckets: r.latency.buckets(),
            }),
            line(
                "Failed calls (totals)",
                "calls",
                vec![("failed".into(), xy(&|s| Some(s.failed as f64)))],
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_is_an_etid_self_or_a_topic_and_bad_numbers_are_errors() {
        assert!(matches!(parse_target("123"), Ok(Target::Etid(123))));
        assert!(matches!(parse_target("self"), Ok(Target::SelfEtid)));
        assert!(matches!(parse_target("Presence"), Ok(Target::Topic(t)) if t == "Presence"));
        assert!(matches!(parse_target(" 5"), Ok(Target::Etid(5))));
        for bad in ["0", "-1", "4294967296", "", "  "] {
            assert!(parse_target(bad).is_err(), "{bad:?}");
        }
    }

    /// The request flags as the command line gives them.
    fn req(words: &[&str]) -> RpcRequest {
        #[derive(clap::Parser)]
        struct Line {
            #[command(flatten)]
            req: RpcRequest,
        }
        use clap::Parser;
        Line::try_parse_from(std::iter::once("rpc").chain(words.iter().copied()))
            .unwrap_or_else(|e| panic!("{words:?}: {e}"))
            .req
    }

    fn call_of(words: &[&str]) -> Result<(Call, String)> {
        parse_call(&req(words))
    }

    fn err_of(words: &[&str]) -> String {
        match call_of(words) {
            Ok((c, r)) => panic!("{words:?} accepted: {c:?} on {r}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_topic_name_may_hold_digits_signs_and_a_number_may_have_a_sign() {
        assert!(matches!(parse_target("12a"), Ok(Target::Topic(t)) if t == "12a"));
        assert!(matches!(parse_target("a-1+"), Ok(Target::Topic(t)) if t == "a-1+"));
        assert!(matches!(parse_target("+7"), Ok(Target::Etid(7))));
        // Spaces around a name are a mistake, not part of the topic.
        assert!(parse_target(" Presence").is_err());
        assert!(parse_target("Presence ").is_err());
        assert!(matches!(parse_target("selfish"), Ok(Target::Topic(t)) if t == "selfish"));
    }

    #[test]
    fn call_arguments_are_json_words_or_one_json_array() {
        let (call, on) = call_of(&["--call", "add", "1", "\"two\"", "{\"a\":true}"]).expect("ok");
        let Call::Correlated { name, args } = call else {
            panic!("--call is correlated")
        };
        assert_eq!(name, "add");
        assert_eq!(args, vec![json!(1), json!("two"), json!({"a": true})]);
        assert_eq!(on, crate::protocol::rpc::RPC_REQ);
        let (call, on) =
            call_of(&["--call", "f", "--args", "[1, \"x\"]", "--rpc-req", "MyReq"]).expect("ok");
        assert!(
            matches!(call, Call::Correlated { args, .. } if args == vec![json!(1), json!("x")])
        );
        assert_eq!(on, "MyReq");
        // No arguments at all: an empty list.
        let (call, _) = call_of(&["--call", "ping"]).expect("ok");
        assert!(matches!(call, Call::Correlated { args, .. } if args.is_empty()));
    }

    #[test]
    fn a_call_argument_that_is_not_json_is_an_error_unless_sent_as_text() {
        let e = err_of(&["--call", "setMode", "eco"]);
        assert!(
            e.contains("ARG 1 'eco'") && e.contains("--args-text"),
            "{e}"
        );
        let (call, _) = call_of(&["--call", "setMode", "--args-text", "eco", "2"]).expect("ok");
        // Only the words that are not JSON become strings.
        assert!(
            matches!(call, Call::Correlated { args, .. } if args == vec![json!("eco"), json!(2)])
        );
    }

    #[test]
    fn call_args_must_be_one_array_and_not_given_twice() {
        let e = err_of(&["--call", "f", "--args", "{\"a\":1}"]);
        assert!(e.contains("--args must be a JSON array"), "{e}");
        let e = err_of(&["--call", "f", "--args", "[1"]);
        assert!(e.contains("--args"), "{e}");
        let e = err_of(&["--call", "f", "--args", "[1]", "2"]);
        assert!(e.contains("either as ARGS or with --args"), "{e}");
    }

    #[test]
    fn a_named_request_takes_a_request_and_at_most_one_payload() {
        let e = err_of(&[]);
        assert!(e.contains("give a REQUEST sub-topic"), "{e}");
        let (call, on) = call_of(&["GetStatusReq"]).expect("ok");
        assert_eq!(on, "GetStatusReq");
        assert!(
            matches!(call, Call::Named { payload, object: None, id_field: None } if payload == "{}")
        );
        let (call, _) = call_of(&["SetReq", "{\"on\":1}"]).expect("ok");
        assert!(matches!(call, Call::Named { payload, .. } if payload == "{\"on\":1}"));
        let e = err_of(&["SetReq", "{}", "extra"]);
        assert!(e.contains("one PAYLOAD"), "{e}");
    }

    #[test]
    fn a_payload_that_looks_like_json_must_be_json_unless_sent_as_text() {
        for bad in ["{\"on\":", "[1,", "\"open", "  {x}"] {
            let e = err_of(&["SetReq", bad]);
            assert!(
                e.contains("PAYLOAD") && e.contains("--args-text"),
                "{bad}: {e}"
            );
            let (call, _) = call_of(&["SetReq", "--args-text", bad]).expect("as text");
            assert!(matches!(call, Call::Named { payload, .. } if payload == bad.as_bytes()));
        }
        // Plain text is not JSON-looking: sent as it is.
        let (call, _) = call_of(&["SetReq", "on please"]).expect("text");
        assert!(matches!(call, Call::Named { payload, .. } if payload == "on please"));
        assert!(looks_like_json(" [") && looks_like_json("\"") && !looks_like_json("x{"));
    }

    #[test]
    fn id_field_needs_an_object_payload_to_put_the_id_into() {
        let (call, _) = call_of(&["GetReq", "{\"q\":1}", "--id-field", "request_id"]).expect("ok");
        let Call::Named {
            object, id_field, ..
        } = call
        else {
            panic!("named")
        };
        assert_eq!(id_field.as_deref(), Some("request_id"));
        assert_eq!(object.map(Value::Object), Some(json!({"q": 1})));
        let e = err_of(&["GetReq", "[1]", "--id-field", "request_id"]);
        assert!(
            e.contains("--id-field request_id needs a JSON object payload"),
            "{e}"
        );
    }

    #[test]
    fn a_payload_of_the_largest_size_is_sent_and_one_byte_more_is_refused() {
        let max = crate::protocol::MAX_PAYLOAD;
        let at = "x".repeat(max);
        assert!(call_of(&["BigReq", &at]).is_ok());
        let above = "x".repeat(max + 1);
        let e = err_of(&["BigReq", &above]);
        assert!(e.contains("larger than 65520 bytes"), "{e}");
    }

    #[test]
    fn concurrent_named_requests_need_an_id_field_and_nothing_else_does() {
        let refused = |w: &[&str]| spec(&req(w)).map(|_| ()).map_err(|e| e.to_string());
        let e = refused(&["GetReq", "-C", "10", "-c", "2"]).expect_err("no id field");
        assert!(e.contains("need --id-field"), "{e}");
        // One at a time, no load mode, an ID field, or a correlated call: fine.
        assert_eq!(refused(&["GetReq", "-C", "10", "-c", "1"]), Ok(()));
        assert_eq!(refused(&["GetReq", "-c", "4"]), Ok(()));
        assert_eq!(
            refused(&["GetReq", "{}", "-C", "10", "-c", "2", "--id-field", "id"]),
            Ok(())
        );
        assert_eq!(refused(&["--call", "add", "-C", "10", "-c", "8"]), Ok(()));
    }

    #[test]
    fn spec_derives_the_reply_sub_topic_target_and_collection() {
        let s = spec(&req(&["SearchSitesReq"])).expect("ok");
        assert_eq!(
            (s.request.as_str(), s.response.as_str()),
            ("SearchSitesReq", "SearchSitesResp")
        );
        assert!(matches!(s.to, Target::Server(e) if e == crate::protocol::SERVER_ETID));
        assert!(!s.collect);
        let s = spec(&req(&["SearchSitesReq", "--resp", "Answers", "--to", "42"])).expect("ok");
        assert_eq!(s.response, "Answers");
        assert!(matches!(s.to, Target::Etid(42)));
        let s = spec(&req(&[
            "--call",
            "f",
            "--rpc-resp",
            "MyResp",
            "--server-etid",
            "9",
        ]))
        .expect("ok");
        assert_eq!(s.response, "MyResp");
        assert!(matches!(s.to, Target::Server(9)));
        assert!(spec(&req(&["R", "--responses", "2"])).expect("ok").collect);
        assert!(spec(&req(&["R", "--collect", "1s"])).expect("ok").collect);
        assert!(spec(&req(&["R", "--to", "0"])).is_err());
    }
}
