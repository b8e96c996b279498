//! The shell's command language: one clap definition whose commands flatten the
//! very argument structs of the one-shot `sub`, `pub` and `rpc` commands, so a
//! line in the shell takes the same options as the command line does. Lines are
//! split like a POSIX shell would (quotes, backslashes) with `shlex`.
//!
//! May import: `args` (shared argument structs and parsers), `text`, `output` (Format).

use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::args::{PubMessage, RpcRequest, SubTopics, at_least_one};
use crate::output::Format;
use crate::text::parse_duration;

const SHELL_HELP: &str = "\
Options are the same as those of the one-shot commands (`smqctl pub --help`...).
A line starting with # is a comment. Quote JSON: pub Chat '{\"text\":\"hi\"}'";

const UNOBSERVE_HELP: &str = "\
By default no packet is sent: the session stops showing the ID's changes and
does not observe it again after a reconnect (the broker's observation ends with
the connection). `--send` sends Unobserve too. On a real Mako broker, when this
connection is the ID's only observer, Unobserve removes the ID from the hub's
routing table (tidT[tid] = nil) instead of the observation: the topic's
subscribers stop receiving its messages, and for ETID 1 the broker's own
client is cut off.

Examples:
  unobserve Alerts
  unobserve --send Alerts";

/// One line typed at the prompt or read from a script.
#[derive(Debug, Parser)]
#[command(
    name = "",
    no_binary_name = true,
    disable_help_subcommand = true,
    disable_version_flag = true,
    after_help = SHELL_HELP,
    help_template = "Commands:\n{subcommands}\n\n{after-help}"
)]
pub struct LineCli {
    #[command(subcommand)]
    pub cmd: Line,
}

#[derive(Debug, Subcommand)]
pub enum Line {
    /// Subscribe to topics (or `self`); their messages print as they arrive
    #[command(
        after_help = "Examples:\n  sub DeviceState\n  sub self --subtopic SearchSitesResp\n  sub Alerts --observe"
    )]
    Sub(SubTopics),
    /// Stop a subscription made in this session
    Unsub {
        /// Topics to unsubscribe from (`self` stops printing direct messages)
        #[arg(required = true, value_name = "TOPIC")]
        topics: Vec<String>,
    },
    /// Publish to a topic, to `self` or to an ETID (as `smqctl pub`)
    #[command(
        after_help = "Examples:\n  pub DeviceState '{\"On\":true}' --json\n  pub --to-etid 12 hello\n  pub Frames --hex '01 02 ff'\n  pub Logs -f app.log"
    )]
    Pub(PubMessage),
    /// Named request or $RpcReq call, awaiting the reply (as `smqctl rpc`)
    #[command(
        after_help = "Examples:\n  rpc SearchSitesReq '{\"SiteName\":\"alpha\"}'\n  rpc --call add 1 2\n  rpc Hello '{}' --to Presence --collect 2s"
    )]
    Rpc(RpcRequest),
    /// Correlated $RpcReq call: `call NAME ARGS...` is `rpc --call NAME ARGS...`
    #[command(after_help = "Examples:\n  call add 1 2\n  call setMode eco --timeout 2s")]
    Call {
        /// Function name
        name: String,
        /// Arguments (JSON values, else strings) and any `rpc` option
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        rest: Vec<String>,
    },
    /// Print subscriber-count changes of a topic, or when a client (ETID) leaves
    Observe {
        /// Topic names or client ETIDs
        #[arg(required = true, value_name = "TOPIC|ETID")]
        targets: Vec<String>,
    },
    /// Stop showing a topic's or an ETID's changes here (sends nothing; see --send)
    #[command(after_help = UNOBSERVE_HELP)]
    Unobserve {
        /// Also send the Unobserve packet: on Mako, the only observer's
        /// Unobserve removes the ID from the broker's routing table
        #[arg(long)]
        send: bool,
        /// Topic names or client ETIDs observed in this session (with
        /// --send: any)
        #[arg(required = true, value_name = "TOPIC|ETID")]
        targets: Vec<String>,
    },
    /// Topic and sub-topic names this session knows, with their IDs
    Topics,
    /// This connection's ETID (others send direct messages to it)
    Etid,
    /// Connection state, ETID, subscriptions, counts
    Status,
    /// Show or set how messages are printed: pretty, json, raw, hex
    Format {
        #[arg(value_enum)]
        format: Option<Format>,
    },
    /// Wait until N more messages or changes have been printed (for scripts)
    #[command(
        after_help = "Each wait consumes what it waited for, so `wait -C 2` after two \
messages already printed returns at once, and the next `wait` waits for new ones.\n\
Fails (exit code 5) when they do not arrive in time."
    )]
    Wait {
        /// How many messages (or observed changes)
        #[arg(short = 'C', long, default_value_t = 1, value_name = "N", value_parser = at_least_one::<u64>)]
        count: u64,
        /// Give up after this long
        #[arg(short = 'W', long, default_value = "5s", value_name = "DURATION", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// List the commands, or show one command's options
    Help {
        /// Command to describe
        command: Option<String>,
    },
    /// Leave the shell (Ctrl-D does the same)
    #[command(alias = "exit")]
    Quit,
}

/// What a line turned into.
#[derive(Debug)]
pub enum Parsed {
    /// Blank or a comment.
    Empty,
    Command(Box<Line>),
    /// `--help` or `help`-like output clap produced: print it, not an error.
    Help(String),
}

/// Splits and parses one line. Errors are the usage message to show.
pub fn parse(line: &str) -> Result<Parsed, String> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(Parsed::Empty);
    }
    let mut words = shlex::split(trimmed)
        .ok_or_else(|| "unbalanced quotes or a trailing backslash".to_string())?;
    if words.first().map(String::as_str) == Some("call") {
        // `call NAME ARGS...` is `rpc --call NAME ARGS...`: one implementation.
        words[0] = "--call".into();
        words.insert(0, "rpc".into());
    }
    match LineCli::try_parse_from(&words) {
        Ok(cli) => Ok(Parsed::Command(Box::new(cli.cmd))),
        Err(e) => {
            use clap::error::ErrorKind;
            let text = e.render().to_string();
            match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Ok(Parsed::Help(text)),
                _ => {
                    // The first paragraph says what is wrong; clap's usage line
                    // names the line parser, not anything the user typed.
                    let first = text.split("\n\n").next().unwrap_or(&text);
                    if e.kind() == ErrorKind::InvalidSubcommand {
                        return Err(format!(
                            "{} (`help` lists the commands)",
                            first.trim().trim_start_matches("error: ")
                        ));
                    }
                    Err(format!(
                        "{} (try `help` or `{} --help`)",
                        first.trim().trim_start_matches("error: "),
                        words.first().map(String::as_str).unwrap_or("sub")
                    ))
                }
            }
        }
    }
}

/// The help text for `help [COMMAND]`.
pub fn help(command: Option<&str>) -> Result<String, String> {
    use clap::CommandFactory;
    let mut cmd = LineCli::command();
    match command {
        None => Ok(cmd.render_help().to_string().replace("\n\n\n", "\n\n")),
        Some(name) => {
            let known: Vec<String> = cmd
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            match cmd.find_subcommand_mut(name) {
                Some(sub) => Ok(sub.render_long_help().to_string()),
                None => Err(format!(
                    "no command '{name}'; commands: {}",
                    known.join(", ")
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(line: &str) -> Line {
        match parse(line) {
            Ok(Parsed::Command(c)) => *c,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn line_definition_is_consistent() {
        use clap::CommandFactory;
        LineCli::command().debug_assert();
    }

    #[test]
    fn lines_take_the_one_shot_commands_options() {
        match cmd("pub Chat '{\"a\": 1}' --json --subtopic Msg") {
            Line::Pub(p) => {
                assert_eq!(p.topic.as_deref(), Some("Chat"));
                assert_eq!(p.message.as_deref(), Some("{\"a\": 1}"));
                assert!(p.json);
                assert_eq!(p.subtopic.as_deref(), Some("Msg"));
            }
            other => panic!("{other:?}"),
        }
        match cmd("unobserve --send Alerts 12") {
            Line::Unobserve { send, targets } => {
                assert!(send);
                assert_eq!(targets, ["Alerts", "12"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            cmd("unobserve Alerts"),
            Line::Unobserve { send: false, .. }
        ));
        match cmd("sub A self --subtopic X --observe") {
            Line::Sub(s) => {
                assert_eq!(s.topics, ["A", "self"]);
                assert_eq!(s.subtopics, ["X"]);
                assert!(s.observe);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn call_is_rpc_with_call() {
        match cmd("call add 1 -2 --timeout 2s") {
            Line::Rpc(r) => {
                assert_eq!(r.call.as_deref(), Some("add"));
                assert_eq!(r.words, ["1", "-2"]);
                assert_eq!(r.timeout, Duration::from_secs(2));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn blanks_comments_help_and_mistakes() {
        assert!(matches!(parse("   "), Ok(Parsed::Empty)));
        assert!(matches!(parse("# note"), Ok(Parsed::Empty)));
        assert!(matches!(parse("pub --help"), Ok(Parsed::Help(h)) if h.contains("--to-etid")));
        let err = parse("publish X").expect_err("unknown command");
        assert!(err.contains("publish"), "{err}");
        assert!(parse("pub 'open").is_err());
        assert!(help(Some("wait")).expect("known").contains("--count"));
        assert!(
            help(Some("nope"))
                .expect_err("unknown")
                .contains("commands: sub")
        );
    }
}
