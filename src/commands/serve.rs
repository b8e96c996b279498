//! `smqctl serve`: a responder for testing requesters without writing an app.
//!
//! Listens on `self` (or a topic) for a request sub-topic and answers the
//! requester's ETID with the derived `…Resp` sub-topic: a static or templated
//! payload, the request itself, or the output of a command. `--rpc-exec` answers
//! correlated `$RpcReq` calls. Answers run concurrently, so a slow `--exec` or
//! `--delay` does not hold up other requesters.
//!
//! Its flags ([`ServeArgs`]) and long-help [`EXAMPLES`] live here too.
//!
//! May import: `args`, `exit`, `client`, `template`, `output`, `text`, `protocol::rpc`
//! (the Req -> Resp conventions). Never `cli`.

use std::io::{self, BufWriter};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use clap::Args;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

use crate::args::{ConnectArgs, GlobalArgs, at_least_one, client_options, topic_name};
use crate::client::{Client, ClientError, Event, Message, ReconnectPolicy, Session, Step};
use crate::exit::{self, input_error};
use crate::output::{DataType, Format, Printer, use_color};
use crate::protocol::rpc::{derive_response, json_or_string, rpc_reply};
use crate::template::{self, Context};
use crate::text::parse_duration;

/// Examples and notes under `--help`.
pub const EXAMPLES: &str = "\
Examples:
  smqctl serve SearchSitesReq --reply '{\"rows\":[],\"site\":\"{{SiteName}}\"}'
  smqctl serve SearchSitesReq --echo --delay 200ms
  smqctl serve GetStatusReq --exec 'jq -c \"{ok: true, asked: .}\"'
  smqctl serve --rpc-exec ./rpc-handler.sh             # answers $RpcReq {id,name,args}
  smqctl serve Hello --topic Presence --reply '{\"me\":{{$etid}}}'

Requests arrive on `self` with sub-topic REQUEST (or on --topic); the answer goes to
the requester's ETID with the sub-topic REQUEST's ...Req -> ...Resp (--resp).
Templates: {{field}}, {{a.b.0}}, {{$request}}, {{$ptid}}, {{$etid}}, {{$n}}, {{$now}}; strings
are inserted without quotes, other values as JSON.
--exec and --rpc-exec run one process per request: the request JSON on stdin, the
answer from stdout; for --rpc-exec a non-zero exit answers {\"err\": stderr}.
The ETID to send requests to is printed on stderr at start.";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Request sub-topic to answer (e.g. SearchSitesReq); optional with --rpc-exec
    #[arg(value_name = "REQUEST", value_parser = topic_name)]
    pub request: Option<String>,
    /// Answer with this payload (a template)
    #[arg(long, value_name = "TEMPLATE", group = "answer")]
    pub reply: Option<String>,
    /// Answer with the request payload itself
    #[arg(long, group = "answer")]
    pub echo: bool,
    /// Answer with the stdout of this shell command (request on its stdin)
    #[arg(long, value_name = "CMD", group = "answer")]
    pub exec: Option<String>,
    /// Answer $RpcReq calls with this command ({name,args} on stdin, result JSON on stdout)
    #[arg(long, value_name = "CMD")]
    pub rpc_exec: Option<String>,
    /// Request sub-topic for --rpc-exec
    #[arg(long, default_value = crate::protocol::rpc::RPC_REQ, value_name = "NAME")]
    pub rpc_req: String,
    /// Reply sub-topic for --rpc-exec
    #[arg(long, default_value = crate::protocol::rpc::RPC_RESP, value_name = "NAME")]
    pub rpc_resp: String,
    /// Reply sub-topic (default: REQUEST with Req -> Resp)
    #[arg(long, value_name = "NAME", value_parser = topic_name)]
    pub resp: Option<String>,
    /// Listen on this topic instead of `self`
    #[arg(long, value_name = "TOPIC", value_parser = topic_name)]
    pub topic: Option<String>,
    /// Wait this long before answering
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub delay: Option<Duration>,
    /// Kill --exec/--rpc-exec commands that run longer than this
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub exec_timeout: Duration,
    /// Exit after answering this many requests
    #[arg(short = 'C', long, value_name = "N", value_parser = at_least_one::<u64>)]
    pub count: Option<u64>,
    /// How requests are printed (default: pretty on a terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<Format>,
    /// Exit when the connection drops instead of reconnecting
    #[arg(long)]
    pub no_reconnect: bool,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

#[derive(Debug, Clone)]
enum Answer {
    Template(String),
    Echo,
    Exec(String),
}

struct Plan {
    request: Option<String>,
    response: Option<String>,
    answer: Option<Answer>,
    rpc_exec: Option<String>,
    rpc_req: String,
    rpc_resp: String,
    delay: Option<Duration>,
    exec_timeout: Duration,
}

/// Runs `sh -c cmd` with `input` on stdin; stdout on success, an error text otherwise.
async fn run_command(cmd: &str, input: &[u8], timeout: Duration) -> Result<Vec<u8>, String> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run `{cmd}`: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input).await;
    }
    let out = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| {
            format!(
                "`{cmd}` did not finish within {}",
                humantime::format_duration(timeout)
            )
        })?
        .map_err(|e| format!("`{cmd}` failed: {e}"))?;
    if out.status.success() {
        let mut stdout = out.stdout;
        if stdout.last() == Some(&b'\n') {
            stdout.pop();
        }
        Ok(stdout)
    } else {
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        Err(if err.is_empty() {
            format!("`{cmd}` exited with {}", out.status)
        } else {
            err
        })
    }
}

/// The answer payload for a named request, or None when there is nothing to send.
async fn named_answer(plan: &Plan, m: &Message, n: u64, etid: u32) -> Option<Bytes> {
    let answer = plan.answer.as_ref()?;
    Some(match answer {
        Answer::Echo => m.payload.clone(),
        Answer::Template(t) => {
            let ctx = Context {
                ptid: m.ptid,
                etid,
                n,
            };
            Bytes::from(template::expand_payload(t, &m.payload, &ctx))
        }
        Answer::Exec(cmd) => match run_command(cmd, &m.payload, plan.exec_timeout).await {
            Ok(out) => Bytes::from(out),
            Err(e) => {
                eprintln!(
                    "smqctl serve: not answering request #{n}: {}",
                    crate::output::escape_controls(&e.to_string())
                );
                return None;
            }
        },
    })
}

/// `{id, rsp}` or `{id, err}` for a `$RpcReq` call.
async fn rpc_answer(cmd: &str, m: &Message, timeout: Duration) -> Bytes {
    let req: Value = serde_json::from_slice(&m.payload).unwrap_or(Value::Null);
    let input = json!({"name": req.get("name"), "args": req.get("args")}).to_string();
    let result = run_command(cmd, input.as_bytes(), timeout)
        .await
        .map(|out| json_or_string(&String::from_utf8_lossy(&out)));
    rpc_reply(&req, result)
}

async fn respond(client: Client, plan: Arc<Plan>, m: Message, n: u64) {
    if let Some(d) = plan.delay {
        tokio::time::sleep(d).await;
    }
    let sub = m.subtopic.as_deref();
    let (payload, resp) = if plan.rpc_exec.is_some() && sub == Some(plan.rpc_req.as_str()) {
        let cmd = plan.rpc_exec.as_deref().unwrap_or_default();
        (
            Some(rpc_answer(cmd, &m, plan.exec_timeout).await),
            plan.rpc_resp.clone(),
        )
    } else {
        (
            named_answer(&plan, &m, n, client.etid()).await,
            plan.response.clone().unwrap_or_default(),
        )
    };
    let Some(payload) = payload else { return };
    let subtid = match client.createsub(&resp).await {
        Ok(id) => id,
        Err(e) => {
            eprintln!("smqctl serve: cannot answer: {e}");
            return;
        }
    };
    if let Err(e) = client.publish_ids(m.ptid, subtid, payload).await {
        eprintln!("smqctl serve: cannot answer {}: {e}", m.ptid);
    }
}

pub async fn run(args: ServeArgs, global: &GlobalArgs) -> Result<u8> {
    if args.request.is_none() && args.rpc_exec.is_none() {
        return Err(input_error(
            "give a REQUEST sub-topic to answer, or --rpc-exec CMD",
        ));
    }
    let answer = if let Some(t) = &args.reply {
        template::check_payload(t).map_err(|e| input_error(format!("--reply {e}")))?;
        Some(Answer::Template(t.clone()))
    } else if args.echo {
        Some(Answer::Echo)
    } else {
        args.exec.clone().map(Answer::Exec)
    };
    if args.request.is_some() && answer.is_none() {
        return Err(input_error(
            "say how to answer: --reply TEMPLATE, --echo or --exec CMD",
        ));
    }
    let plan = Arc::new(Plan {
        response: args
            .request
            .as_deref()
            .map(|r| args.resp.clone().unwrap_or_else(|| derive_response(r))),
        request: args.request.clone(),
        answer,
        rpc_exec: args.rpc_exec.clone(),
        rpc_req: args.rpc_req.clone(),
        rpc_resp: args.rpc_resp.clone(),
        delay: args.delay,
        exec_timeout: args.exec_timeout,
    });
    let opts = client_options(&args.conn, global).await?;
    let format = args.format.unwrap_or_else(Format::default_for_stdout);
    let mut printer = Printer::new(
        BufWriter::new(io::stdout()),
        format,
        DataType::Auto,
        use_color(global.color),
    );
    let policy = ReconnectPolicy {
        enabled: !args.no_reconnect,
        ..ReconnectPolicy::default()
    };
    let listen_on = args.topic.clone().unwrap_or_else(|| "self".into());
    let mut served = 0u64;
    let mut inflight = JoinSet::new();
    let limit = args.count;

    let mut session = Session::new(opts, policy);
    let shutdown = crate::shutdown::requested();
    tokio::pin!(shutdown);
    loop {
        let step = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            step = session.poll() => step?,
        };
        match step {
            Step::Connected { client, .. } => {
                let done = tokio::select! {
                    biased;
                    _ = &mut shutdown => break,
                    done = setup(&client, &plan, &listen_on) => done,
                };
                if let Err(e) = done {
                    session.setup_failed(e).await?;
                    continue;
                }
                let etid = client.etid();
                printer.own_etid = etid;
                let what: Vec<String> = plan
                    .request
                    .iter()
                    .map(|r| format!("{r} (answering {})", plan.response.as_deref().unwrap_or("")))
                    .chain(
                        plan.rpc_exec
                            .iter()
                            .map(|_| format!("{} calls", plan.rpc_req)),
                    )
                    .collect();
                eprintln!(
                    "smqctl serve: serving {} on {listen_on} as ETID {etid}",
                    what.join(" and ")
                );
            }
            Step::Event(Event::Message(m)) => {
                let sub = m.subtopic.as_deref();
                let wanted = sub.is_some()
                    && (sub == plan.request.as_deref()
                        || (plan.rpc_exec.is_some() && sub == Some(plan.rpc_req.as_str())));
                let Some(client) = session.client().filter(|_| wanted).cloned() else {
                    continue;
                };
                served += 1;
                let _ = printer.message(&m).and_then(|_| printer.flush());
                inflight.spawn(respond(client.clone(), plan.clone(), m, served));
                while inflight.try_join_next().is_some() {}
                if limit.is_some_and(|n| served >= n) {
                    tokio::select! {
                        biased;
                        _ = &mut shutdown => break,
                        () = async { while inflight.join_next().await.is_some() {} } => {}
                    }
                    let _ = client.flush().await;
                    break;
                }
            }
            Step::Reconnecting { error, delay, .. } => {
                eprintln!(
                    "smqctl serve: connection lost ({}); reconnecting in {:.1}s",
                    crate::output::escape_controls(&error.to_string()),
                    delay.as_secs_f64()
                );
            }
            Step::Closed => break,
            Step::Connecting { .. } | Step::Event(_) => {}
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), session.close()).await;
    Ok(exit::OK)
}

/// One connection's setup: learn every sub-topic ID first so requests can be
/// recognised by name, then listen; flushed, so it has reached the broker.
async fn setup(client: &Client, plan: &Plan, listen_on: &str) -> Result<(), ClientError> {
    let names = [&plan.request, &plan.response]
        .into_iter()
        .flatten()
        .cloned()
        .chain(plan.rpc_exec.as_ref().map(|_| plan.rpc_req.clone()))
        .chain(plan.rpc_exec.as_ref().map(|_| plan.rpc_resp.clone()));
    for name in names {
        client.createsub(&name).await?;
    }
    client.subscribe_to_events(listen_on).await?;
    client.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn commands_get_stdin_and_failures_carry_stderr() {
        let out = run_command("tr a-z A-Z", b"hello\n", Duration::from_secs(5)).await;
        assert_eq!(out, Ok(b"HELLO".to_vec()));
        let err = run_command("echo boom >&2; exit 3", b"", Duration::from_secs(5)).await;
        assert_eq!(err, Err("boom".to_string()));
        let slow = run_command("sleep 5", b"", Duration::from_millis(100)).await;
        assert!(slow.is_err_and(|e| e.contains("did not finish")));
    }
}
