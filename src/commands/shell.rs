//! `smqctl shell`: one connection kept open while you subscribe, publish, call
//! and observe, at a rustyline prompt or from a script.
//!
//! The same engine runs both: lines come from the [line editor](crate::shell::editor) (a thread of its
//! own, since rustyline blocks) or from a script (`--script FILE`, or stdin when
//! it is not a terminal); each is parsed by [`line`](mod@line) with the one-shot commands'
//! argument structs and executed against the [`session`]'s live client, through
//! the one-shot commands' own payload, publish, rpc and rendering functions. A
//! script stops at the first failing line with that command's exit code.
//!
//! Signals: a script stops on SIGINT or SIGTERM (exit 130). At the prompt,
//! SIGINT cancels the running command and the shell goes on (Ctrl-C typed at
//! the prompt is a key for the line editor, not a signal); SIGTERM ends the
//! shell as Ctrl-D does, and puts the terminal back the way it was.
//!
//! May import: `args`, `exit`, `text`, `client`, `output`, [`crate::shell`] (the engine:
//! line grammar, session, completion, editor), sibling command modules (publish, rpc).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use serde_json::json;
use tokio::sync::mpsc;

use super::{publish, rpc};
use crate::args::{ConnectArgs, GlobalArgs, SubTopics, client_options};
use crate::client::ReconnectPolicy;
use crate::exit::{self, error_text, hint, input_error};
use crate::output::{Format, use_color};
use crate::shell::editor::{Read, SharedOut, start_editor, terminal};
use crate::shell::line::{Line, Parsed};
use crate::shell::prompt::LivePrompt;
use crate::shell::session::{Conn, Out, Session, lock};
use crate::shell::{complete, line, session};
use crate::shutdown::{Signal, Signals};

pub const SHELL_EXAMPLES: &str = "\
Examples:
  smqctl shell                                   # prompt on ws://127.0.0.1:9357/smq/
  smqctl shell wss://broker.example/smq.lsp --profile prod
  smqctl shell --script smoke.smq                # run a script, stop at the first failure
  printf 'sub self\\nwait -C 1 -W 10s\\n' | smqctl shell

At the prompt: `help` lists the commands, `help pub` shows one; Tab completes
commands, options and the topic and sub-topic names seen; Ctrl-C cancels the
line (or a running command), Ctrl-D leaves. History: $XDG_STATE_HOME/smqctl/history.

A script has one command per line (# comments); messages print to stdout (json
unless --format says otherwise), notes to stderr. `wait -C N -W 10s` waits for N
more messages or changes, so scripts never need to sleep. A failing line stops
the script: `error: line N: ...` and the command's exit code (see smqctl --help).";

#[derive(Debug, Args)]
pub struct ShellArgs {
    /// Broker URL (overrides --url and SMQCTL_URL)
    #[arg(value_name = "URL")]
    pub url_arg: Option<String>,
    /// Run the commands in FILE (`-` for stdin) instead of prompting
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// How messages print (default: pretty at a prompt or terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<Format>,
    /// End the session (exit 6) when the connection drops instead of reconnecting
    #[arg(long)]
    pub no_reconnect: bool,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

/// What running one line led to.
enum Step {
    /// Done, with this exit code (non-zero: the command failed and said why).
    Code(u8),
    Quit,
}

pub async fn run(args: ShellArgs, global: &GlobalArgs) -> Result<u8> {
    let mut conn = args.conn.clone();
    if let Some(url) = &args.url_arg {
        conn.url = url.clone();
    }
    let opts = client_options(&conn, global).await?;
    let interactive = args.script.is_none() && std::io::stdin().is_terminal();
    let format = args.format.unwrap_or(if interactive {
        Format::Pretty
    } else {
        Format::default_for_stdout()
    });
    let policy = ReconnectPolicy {
        enabled: !args.no_reconnect,
        ..ReconnectPolicy::default()
    };
    let color = use_color(global.color);
    if interactive {
        interactive_loop(opts, policy, format, color, global).await
    } else {
        let lines = script_lines(args.script.as_deref())?;
        let (session, driver) = Session::new(opts, policy, Out::Std, format, color);
        let main = async {
            tokio::select! {
                r = session.wait_up() => r?,
                _ = crate::shutdown::requested() => return Ok(exit::INTERRUPTED),
            }
            let code = script_loop(&session, lines, global).await;
            session.close().await;
            code
        };
        tokio::select! {
            code = main => code,
            _ = driver => unreachable_driver(),
        }
    }
}

/// Lines of the script, numbered, read as they come (so a pipe can feed a
/// session step by step).
fn script_lines(path: Option<&std::path::Path>) -> Result<mpsc::Receiver<(usize, String)>> {
    let (tx, rx) = mpsc::channel(64);
    let reader: Box<dyn BufRead + Send> = match path {
        Some(p) if p != std::path::Path::new("-") => {
            let file = std::fs::File::open(p)
                .map_err(|e| input_error(format!("cannot read script {}: {e}", p.display())))?;
            Box::new(std::io::BufReader::new(file))
        }
        _ => Box::new(std::io::BufReader::new(std::io::stdin())),
    };
    std::thread::spawn(move || {
        for (i, line) in reader.lines().enumerate() {
            let Ok(line) = line else { break };
            if tx.blocking_send((i + 1, line)).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

/// How long a command interrupted by Ctrl-C/SIGTERM gets to finish printing
/// what it has (an rpc load run's summary) before the shell moves on.
const SIGNAL_GRACE: Duration = Duration::from_millis(500);

/// Runs one command line unless SIGINT/SIGTERM comes first; then the command
/// gets [`SIGNAL_GRACE`] to finish on its own (an rpc load run printing what it
/// has, since it stops on the signal itself) and the signal is returned.
async fn exec_unless_signalled(
    session: &Session,
    cmd: Line,
    global: &GlobalArgs,
    signals: &mut Signals,
) -> std::result::Result<Result<Step>, Signal> {
    let run = exec(session, cmd, global);
    tokio::pin!(run);
    tokio::select! {
        biased;
        r = &mut run => Ok(r),
        s = signals.next() => {
            let _ = tokio::time::timeout(SIGNAL_GRACE, &mut run).await;
            Err(s)
        }
    }
}

async fn script_loop(
    session: &Session,
    mut lines: mpsc::Receiver<(usize, String)>,
    global: &GlobalArgs,
) -> Result<u8> {
    let mut signals = Signals::since_start();
    loop {
        let next = tokio::select! {
            l = lines.recv() => l,
            // Waiting for the next line on a pipe.
            _ = signals.next() => return Ok(exit::INTERRUPTED),
        };
        let Some((n, text)) = next else { break };
        let failed = |what: String| {
            eprintln!("error: line {n} ({}): {what}", text.trim());
        };
        let cmd = match line::parse(&text) {
            Ok(Parsed::Empty) => continue,
            Ok(Parsed::Help(h)) => {
                session.out.data(&h);
                continue;
            }
            Ok(Parsed::Command(c)) => c,
            Err(usage) => {
                failed(usage);
                return Ok(exit::USAGE);
            }
        };
        let outcome = match exec_unless_signalled(session, *cmd, global, &mut signals).await {
            Ok(outcome) => outcome,
            Err(s) => {
                failed(format!("interrupted ({})", s.name()));
                return Ok(exit::INTERRUPTED);
            }
        };
        match outcome {
            Ok(Step::Quit) => return Ok(exit::OK),
            Ok(Step::Code(0)) => {}
            Ok(Step::Code(code)) => {
                failed(format!("the command failed (exit code {code})"));
                return Ok(code);
            }
            Err(e) => {
                failed(error_text(&e));
                if let Some(h) = hint(&e) {
                    eprintln!("hint: {h}");
                }
                return Ok(crate::exit::exit_code(&e));
            }
        }
    }
    Ok(exit::OK)
}

async fn interactive_loop(
    opts: crate::client::ClientOptions,
    policy: ReconnectPolicy,
    format: Format,
    color: bool,
    global: &GlobalArgs,
) -> Result<u8> {
    // The session needs the printer, the printer the editor, the editor's
    // completer the session's state: start the session on a placeholder sink
    // shared by both, then point it at the editor.
    let sink = SharedOut::default();
    let (session, driver) = Session::new(opts, policy, sink.out(), format, color);
    tokio::select! {
        code = prompt_loop(&session, sink, global) => code,
        _ = driver => unreachable_driver(),
    }
}

/// The connection driver never returns (it parks once the session ends).
fn unreachable_driver() -> Result<u8> {
    Err(anyhow::anyhow!("the connection task stopped unexpectedly"))
}

async fn prompt_loop(session: &Session, sink: SharedOut, global: &GlobalArgs) -> Result<u8> {
    tokio::select! {
        r = session.wait_up() => r?,
        _ = crate::shutdown::requested() => return Ok(exit::INTERRUPTED),
    }
    let helper = complete::ShellHelper {
        wanted: session.wanted.clone(),
        conn: session.conn.clone(),
    };
    // What the terminal was before the line editor: SIGTERM can come while it
    // has the terminal in raw mode, and the shell must not leave it so.
    let saved = terminal::save();
    let (mut editor, out) = start_editor(helper)?;
    sink.set(out.clone());
    let mut signals = Signals::new();
    out.note("type `help` for the commands, Tab to complete, Ctrl-D to leave");
    // Ctrl-C while a command runs cancels it instead of ending the shell.
    let mut code = exit::OK;
    // SIGTERM came while the line editor was reading a line.
    let mut mid_line = false;
    // A pasted block arrives as one line with newlines in it (bracketed
    // paste): run it as the commands it is, one per line, as a script would.
    let mut pasted = std::collections::VecDeque::new();
    loop {
        if let Some(reason) = session.ended() {
            out.note(&format!("connection ended: {reason}"));
            code = exit::LOST;
            break;
        }
        let text = match pasted.pop_front() {
            Some(t) => t,
            None => {
                // Follows the connection while the line is being typed.
                editor.ask(LivePrompt::new(session.conn.clone()))?;
                let read = loop {
                    tokio::select! {
                        r = editor.answer() => break Some(r?),
                        // SIGINT from outside at the prompt: nothing to cancel.
                        s = signals.next() => if s == Signal::Terminate { break None },
                    }
                };
                let Some(read) = read else {
                    // Said after the terminal is restored, not through the
                    // editor's printer: with a line being read, the printer
                    // hands the text to the editor's thread, which prints it
                    // when it next runs, maybe after this process has gone.
                    mid_line = true;
                    code = exit::INTERRUPTED;
                    break;
                };
                match read {
                    Read::Line(t) if t.contains(['\n', '\r']) => {
                        pasted.extend(t.lines().map(str::to_string));
                        continue;
                    }
                    Read::Line(t) => t,
                    Read::Interrupted => continue,
                    Read::Eof => break,
                }
            }
        };
        let cmd = match line::parse(&text) {
            Ok(Parsed::Empty) => continue,
            Ok(Parsed::Help(h)) => {
                out.data(&h);
                continue;
            }
            Ok(Parsed::Command(c)) => c,
            Err(usage) => {
                out.data(&format!("error: {usage}\n"));
                continue;
            }
        };
        let outcome = match exec_unless_signalled(session, *cmd, global, &mut signals).await {
            Ok(outcome) => outcome,
            Err(s) => {
                pasted.clear();
                if s == Signal::Terminate {
                    out.note("terminated (SIGTERM)");
                    code = exit::INTERRUPTED;
                    break;
                }
                out.note("interrupted");
                continue;
            }
        };
        match outcome {
            Ok(Step::Quit) => break,
            Ok(Step::Code(_)) => {}
            Err(e) => {
                let mut text = format!("error: {}\n", error_text(&e));
                if let Some(h) = hint(&e) {
                    text.push_str(&format!("hint: {h}\n"));
                }
                out.data(&text);
            }
        }
    }
    session.close().await;
    if code == exit::INTERRUPTED {
        // SIGTERM, maybe with the line editor in the middle of a line.
        terminal::restore(saved);
        if mid_line {
            terminal::say("terminated (SIGTERM)");
        }
    }
    Ok(code)
}

/// Runs one parsed command.
async fn exec(session: &Session, cmd: Line, global: &GlobalArgs) -> Result<Step> {
    let out = &session.out;
    let format = session.format();
    match cmd {
        Line::Quit => return Ok(Step::Quit),
        Line::Help { command } => {
            let text = line::help(command.as_deref()).map_err(input_error)?;
            out.data(&text);
        }
        Line::Format { format: None } => {
            out.data(&format!("{}\n", format!("{format:?}").to_lowercase()))
        }
        Line::Format { format: Some(f) } => {
            lock(&session.wanted).format = Some(f);
            out.note(&format!(
                "messages print as {}",
                format!("{f:?}").to_lowercase()
            ));
        }
        Line::Sub(sub) => subscribe(session, sub).await?,
        Line::Unsub { topics } => {
            let client = session.client().await?;
            for topic in &topics {
                if lock(&session.wanted).subs.remove(topic).is_none() {
                    let subscribed: Vec<String> =
                        lock(&session.wanted).subs.keys().cloned().collect();
                    return Err(input_error(format!(
                        "not subscribed to '{topic}' in this session (subscribed: {})",
                        list_or_none(&subscribed)
                    )));
                }
                let tid = if topic == "self" {
                    Some(client.etid())
                } else {
                    client
                        .names()
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .tid(topic)
                };
                if let Some(tid) = tid {
                    client.unsubscribe(tid).await?;
                }
                out.note(&format!("unsubscribed from {topic}"));
            }
            client.flush().await?;
        }
        Line::Pub(msg) => {
            let prepared = publish::prepare_message(&msg, false, false)?;
            let client = session.client().await?;
            let sent = publish::send_prepared(&client, &msg, prepared).await?;
            client.flush().await?;
            let sub = msg
                .subtopic
                .as_ref()
                .map(|s| format!(" [{s}]"))
                .unwrap_or_default();
            out.note(&format!(
                "published {} message(s) to {}{sub}",
                sent.count, sent.to
            ));
        }
        Line::Rpc(mut req) => {
            req.format.get_or_insert(format);
            let client = session.client().await?;
            let code = rpc::run_on(&client, None, &req, global, Signals::new()).await?;
            return Ok(Step::Code(code));
        }
        Line::Call { .. } => unreachable_call()?,
        Line::Observe { targets } => {
            let client = session.client().await?;
            let mut notes = Vec::new();
            for t in &targets {
                // Again after a local `unobserve`: shown again, and observed
                // again (Observe is idempotent; a topic answers with its count).
                let tid = session::observe(&client, t, true).await?;
                let mut w = lock(&session.wanted);
                w.hidden.remove(t);
                w.observed.insert(t.clone());
                notes.push(format!("observing {t} (tid {tid})"));
            }
            // The note means the line is done: it is printed after the flush.
            client.flush().await?;
            for n in notes {
                out.note(&n);
            }
        }
        Line::Unobserve {
            send: true,
            targets,
        } => {
            let client = session.client().await?;
            let mut notes = Vec::new();
            for t in &targets {
                let tid = session::observe(&client, t, false).await?;
                let mut w = lock(&session.wanted);
                w.observed.remove(t);
                w.hidden.remove(t);
                notes.push(format!(
                    "warning: sent Unobserve for {t} (tid {tid}): on a Mako broker, when this is the ID's only observer, \
                     Unobserve removes the ID from the hub's routing table (tidT[tid] = nil): the topic's subscribers \
                     stop receiving its messages (for ETID 1: the broker's own client is cut off)"
                ));
            }
            // The note means the line is done: it is printed after the flush.
            client.flush().await?;
            for n in notes {
                out.note(&n);
            }
        }
        Line::Unobserve {
            send: false,
            targets,
        } => unobserve_here(session, &targets)?,
        Line::Topics => topics(session, format).await?,
        Line::Etid => {
            let client = session.client().await?;
            out.data(&match format {
                Format::Json => format!("{}\n", json!({"etid": client.etid()})),
                _ => format!("{}\n", client.etid()),
            });
        }
        Line::Status => status(session, format),
        Line::Wait { count, timeout } => return wait(session, count, timeout).await,
    }
    Ok(Step::Code(exit::OK))
}

/// `unobserve` without `--send`: the changes of each target stop showing
/// here and it is not observed again after a reconnect; no packet is sent
/// (on Mako the only observer's Unobserve removes the ID from the hub's
/// routing table). Says so the first time.
fn unobserve_here(session: &Session, targets: &[String]) -> Result<()> {
    // Nothing is sent: no need to wait for a reconnect (whose connection
    // does not observe these any more).
    let client = match &*session.conn.borrow() {
        Conn::Up(c) => Some(c.clone()),
        _ => None,
    };
    let mut notes = Vec::new();
    {
        let mut w = lock(&session.wanted);
        let observed: Vec<String> = w.observed.iter().cloned().collect();
        if let Some(t) = targets.iter().find(|t| !w.observed.contains(*t)) {
            return Err(input_error(format!(
                "not observing '{t}' in this session (observed: {}); `unobserve --send {t}` sends Unobserve anyway",
                list_or_none(&observed)
            )));
        }
        if !w.said_unobserve {
            w.said_unobserve = true;
            notes.push(
                "unobserve sends nothing to the broker: the changes stop showing here, and the observation \
                 ends with this connection (on Mako the only observer's Unobserve would remove the ID from \
                 the hub's routing table; `unobserve --send` sends it anyway)"
                    .to_string(),
            );
        }
        for t in targets {
            let tid = match (t.parse::<u32>(), &client) {
                (Ok(etid), _) => Some(etid),
                (Err(_), Some(c)) => c.names().lock().unwrap_or_else(|e| e.into_inner()).tid(t),
                (Err(_), None) => None,
            };
            w.observed.remove(t);
            match tid {
                Some(tid) => {
                    w.hidden.insert(t.clone(), tid);
                    notes.push(format!(
                        "no longer showing changes of {t} (tid {tid}); no Unobserve sent"
                    ));
                }
                None => notes.push(format!(
                    "no longer showing changes of {t}; no Unobserve sent"
                )),
            }
        }
    }
    for n in notes {
        session.out.note(&n);
    }
    Ok(())
}

fn unreachable_call() -> Result<()> {
    // `call` lines are rewritten to `rpc --call` before parsing.
    Err(input_error("write `call NAME ARGS...`"))
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

async fn subscribe(session: &Session, sub: SubTopics) -> Result<()> {
    let client = session.client().await?;
    // Record first: a reconnect while this runs must subscribe them too.
    {
        let mut w = lock(&session.wanted);
        for topic in &sub.topics {
            w.subs.insert(topic.clone(), sub.subtopics.clone());
        }
        w.subtopics.extend(sub.subtopics.iter().cloned());
        w.subtopics.extend(sub.resolve_subtopics.iter().cloned());
    }
    let result = async {
        let mut tids = Vec::new();
        for topic in &sub.topics {
            tids.push(client.subscribe_to_events(topic).await?);
        }
        for name in sub.subtopics.iter().chain(&sub.resolve_subtopics) {
            client.createsub(name).await?;
        }
        if sub.observe {
            for (topic, tid) in sub.topics.iter().zip(&tids) {
                if topic != "self" {
                    client.observe(*tid).await?;
                    lock(&session.wanted).observed.insert(topic.clone());
                }
            }
        }
        client.flush().await?;
        Ok::<_, crate::client::ClientError>(tids)
    }
    .await;
    match result {
        Ok(tids) => {
            let done: Vec<String> = sub
                .topics
                .iter()
                .zip(&tids)
                .map(|(t, tid)| format!("{t} (tid {tid})"))
                .collect();
            session
                .out
                .note(&format!("subscribed to {}", done.join(", ")));
            Ok(())
        }
        Err(e) => {
            // A denied topic is not wanted again on reconnect.
            let mut w = lock(&session.wanted);
            for topic in &sub.topics {
                w.subs.remove(topic);
            }
            Err(e.into())
        }
    }
}

async fn topics(session: &Session, format: Format) -> Result<()> {
    let client = session.client().await?;
    let (topics, subtopics) = {
        let names = client.names().lock().unwrap_or_else(|e| e.into_inner());
        (names.topics(), names.subtopics())
    };
    let w = lock(&session.wanted);
    let mut text = String::new();
    let etid = client.etid();
    let self_row = (std::sync::Arc::<str>::from("self"), etid);
    for (name, tid) in std::iter::once(self_row).chain(topics) {
        let subscribed = w.subs.contains_key(name.as_ref());
        let observed = w.observed.contains(name.as_ref());
        text.push_str(&match format {
            Format::Json => format!(
                "{}\n",
                json!({"topic": name.as_ref(), "tid": tid, "subscribed": subscribed, "observed": observed})
            ),
            _ => format!(
                "topic     {name:<24} tid {tid:<10}{}{}\n",
                if subscribed { " subscribed" } else { "" },
                if observed { " observed" } else { "" }
            ),
        });
    }
    for (name, id) in subtopics {
        text.push_str(&match format {
            Format::Json => format!("{}\n", json!({"subtopic": name.as_ref(), "subtid": id})),
            _ => format!("subtopic  {name:<24} id  {id}\n"),
        });
    }
    session.out.data(&text);
    Ok(())
}

fn status(session: &Session, format: Format) {
    let conn = session.conn.borrow().clone();
    let (state, etid) = match &conn {
        Conn::Up(c) => ("connected".to_string(), Some(c.etid())),
        Conn::Connecting => ("connecting".to_string(), None),
        Conn::Down { reason, attempt } => {
            (format!("reconnecting (attempt {attempt}): {reason}"), None)
        }
        Conn::Ended(r) => (format!("disconnected: {r}"), None),
    };
    let w = lock(&session.wanted);
    let subs: Vec<String> = w.subs.keys().cloned().collect();
    let observed: Vec<String> = w.observed.iter().cloned().collect();
    let events = *session.events.borrow();
    let text = match format {
        Format::Json => format!(
            "{}\n",
            json!({
                "url": session.url, "state": state, "etid": etid,
                "subscribed": subs, "observed": observed,
                "events": events, "reconnects": w.reconnects,
                "format": format!("{:?}", w.format.unwrap_or(session.format)).to_lowercase(),
            })
        ),
        _ => format!(
            "url         {}\nstate       {state}\netid        {}\nsubscribed  {}\nobserved    {}\nevents      {events}\nreconnects  {}\n",
            session.url,
            etid.map(|e| e.to_string()).unwrap_or_else(|| "-".into()),
            list_or_none(&subs),
            list_or_none(&observed),
            w.reconnects
        ),
    };
    session.out.data(&text);
}

/// Waits until `count` more events than earlier waits consumed have printed.
async fn wait(session: &Session, count: u64, timeout: Duration) -> Result<Step> {
    let target = {
        let mut w = lock(&session.wanted);
        w.consumed += count;
        w.consumed
    };
    let mut rx = session.events.clone();
    let got = tokio::time::timeout(timeout, rx.wait_for(|n| *n >= target)).await;
    match got {
        Ok(Ok(_)) => Ok(Step::Code(exit::OK)),
        Ok(Err(_)) => {
            Err(crate::client::ClientError::ConnectionLost("the session ended".into()).into())
        }
        Err(_) => {
            let seen = *session.events.borrow();
            let before = target - count;
            // What did not arrive stays owed: the next wait does not count it twice.
            lock(&session.wanted).consumed = seen.max(before);
            session.out.note(&format!(
                "timed out after {}: {} of {count} message(s) arrived",
                humantime::format_duration(timeout),
                seen.saturating_sub(before)
            ));
            Ok(Step::Code(exit::TIMEOUT))
        }
    }
}
