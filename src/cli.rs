//! The clap tree only: [`Cli`] (global flags + one subcommand) and the
//! [`Command`] enum, each variant wrapping a `commands::X::XArgs` with that
//! command's examples as its long help. Doc comments are the help text. A new
//! subcommand is one variant here plus its file under `commands/`.
//!
//! It also says, per variant, where a `--profile` fills in
//! ([`Command::profile_slots`]).
//!
//! Nothing imports it but main.rs. May import: `args` (GlobalArgs),
//! `commands` (each command's XArgs and EXAMPLES), `profile` (Slots).

use std::path::PathBuf;

use clap::{ArgMatches, Parser, Subcommand};

use crate::args::GlobalArgs;
use crate::profile;

const ABOUT: &str =
    "Debug, test and load-test SMQ publish/subscribe systems (Mako Server / Barracuda App Server)";

const MAIN_EXAMPLES: &str = "\
Examples:
  smqctl broker                                  # embedded broker on 127.0.0.1:9357
  smqctl sub DeviceState                         # print what arrives on a topic
  smqctl pub DeviceState '{\"On\":true}' --json   # publish JSON to it
  smqctl sub self --url http://mako.local/smq.lsp  # direct messages, raw transport
  smqctl --trace-packets pub Chat hello          # show every packet on stderr
  smqctl demo                                    # broker + device fleet + traffic, in the TUI
  smqctl tui --url ws://mako.local/smq.lsp       # live trace view (needs the Lua hook)
  smqctl record -o incident.smqrec               # every message the broker routes, to a file
  smqctl replay incident.smqrec --speed 10 --check   # again, on a test broker; compare
  smqctl simulate -n 500 --scenario charger      # 500 fake devices
  smqctl shell ws://127.0.0.1:9357/              # stay connected at a prompt

Exit codes:
  0 success   1 error   2 bad usage or input   3 cannot connect
  4 refused or denied by the broker   5 timed out   6 connection lost
  7 the remote handler answered with an error (rpc)   8 an --assert gate failed
  130 interrupted (Ctrl-C, SIGTERM); `check -F nagios`: 0 OK 1 WARNING 2 CRITICAL 3 UNKNOWN";

#[derive(Debug, Parser)]
#[command(name = "smqctl", version, about = ABOUT, after_long_help = MAIN_EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Subscribe to topics (or `self`) and print what arrives
    #[command(after_long_help = crate::commands::sub::EXAMPLES)]
    Sub(crate::commands::sub::SubArgs),
    /// Publish JSON, text or binary to a topic, to `self` or to a client's ETID
    #[command(name = "pub", after_long_help = crate::commands::publish::EXAMPLES)]
    Pub(crate::commands::publish::PubArgs),
    /// Call a broker or peer handler: named request/response or correlated $RpcReq
    #[command(after_long_help = crate::commands::rpc::EXAMPLES)]
    Rpc(crate::commands::rpc::RpcArgs),
    /// Answer requests (static, templated, echo or from a command), like `nats reply`
    #[command(after_long_help = crate::commands::serve::EXAMPLES)]
    Serve(crate::commands::serve::ServeArgs),
    /// Run the embedded SMQ broker (WebSocket and raw transport on one port)
    #[command(after_long_help = crate::commands::broker::EXAMPLES)]
    Broker(crate::commands::broker::BrokerArgs),
    /// Run everything at once: embedded broker, charger fleet, operator traffic, TUI
    #[command(after_long_help = crate::commands::demo::EXAMPLES)]
    Demo(crate::commands::demo::DemoArgs),
    /// Show what a broker does: publishes, drops, denials, connects, closes (live)
    Trace(crate::commands::trace::TraceArgs),
    /// Find what is wrong in an SMQ app: rules over a broker's trace (live or a file)
    Analyze(Box<crate::commands::analyze::AnalyzeArgs>),
    /// Write Lua for other tools: the Mako/BAS trace hook, the Wireshark dissector
    #[command(subcommand)]
    Hook(crate::commands::hook::HookCommand),
    /// Watch broker trace events live: table, detail, filters, stats, export
    #[command(after_long_help = crate::commands::tui::EXAMPLES)]
    Tui(crate::commands::tui::TuiArgs),
    /// Record what a broker routes into a .smqrec file (full payloads), for replay
    #[command(after_long_help = crate::commands::record::EXAMPLES)]
    Record(Box<crate::commands::record::RecordArgs>),
    /// Replay a recording on a test broker: same topics, UIDs and spacing (--check compares)
    #[command(after_long_help = crate::commands::replay::EXAMPLES)]
    Replay(Box<crate::commands::replay::ReplayArgs>),
    /// Stay connected: subscribe, publish, call and observe at a prompt, or run a script
    #[command(after_long_help = crate::commands::shell::SHELL_EXAMPLES)]
    Shell(Box<crate::commands::shell::ShellArgs>),
    /// Manage connection profiles (config.toml): list, show, add, remove
    #[command(subcommand, after_long_help = crate::commands::profile::PROFILE_EXAMPLES)]
    Profile(crate::commands::profile::ProfileCommand),
    /// Measure a broker: message throughput and latency, cost of idle connections
    #[command(subcommand)]
    Bench(crate::commands::bench::BenchCommand),
    /// Is this broker healthy? Connect and round-trip times, handlers, tracer;
    /// nagios and Prometheus output; --probe for a conformance report
    #[command(after_long_help = crate::commands::check::EXAMPLES)]
    Check(Box<crate::commands::check::CheckArgs>),
    /// Simulate a fleet of devices (connect, ready, report, answer commands, reconnect)
    #[command(after_long_help = crate::commands::simulate::EXAMPLES)]
    Simulate(Box<crate::commands::simulate::SimulateArgs>),
    /// Print a shell completion script
    #[command(
        after_long_help = "Examples:\n  smqctl completions bash > /etc/bash_completion.d/smqctl\n  smqctl completions zsh > ~/.zfunc/_smqctl"
    )]
    Completions {
        /// Shell to generate for
        shell: clap_complete::Shell,
    },
    /// Write man pages (smqctl.1 and one per subcommand)
    #[command(
        after_long_help = "Examples:\n  smqctl man --dir /usr/local/share/man/man1\n  smqctl man | man -l -"
    )]
    Man {
        /// Directory to write every page into; without it, smqctl.1 goes to stdout
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Commands that never connect: they take no connection flags, and their help
/// hides the connection globals (`--profile`, `--trace-packets`) too.
pub const LOCAL_COMMANDS: [&str; 4] = ["hook", "profile", "completions", "man"];

/// Global flags that only mean something to a command that connects.
const CONNECTION_GLOBALS: [&str; 2] = ["profile", "trace_packets"];

/// The clap tree as the binary parses it (and as help, completions and man
/// pages show it): [`Cli`], with the connection globals hidden in the
/// [`LOCAL_COMMANDS`]. They are still accepted there (a script that sets them
/// for every command keeps working): each local command gets a hidden copy of
/// the global, which clap then propagates to its own subcommands instead.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let hidden: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| CONNECTION_GLOBALS.contains(&a.get_id().as_str()))
        .map(|a| a.clone().hide(true))
        .collect();
    for name in LOCAL_COMMANDS {
        cmd = cmd.mut_subcommand(name, |c| c.args(hidden.iter().cloned()));
    }
    cmd
}

impl Command {
    /// Where `--profile` fills in this command: its connection flags and its
    /// `--format`, if it has them. None for commands that never connect
    /// (broker, profile, completions...): they do not read the profile, and
    /// work while a broken one is selected.
    pub fn profile_slots(&mut self) -> Option<profile::Slots<'_>> {
        use crate::commands::bench::BenchCommand;
        let slots = |conn, format| {
            Some(profile::Slots {
                conn,
                format,
                uid: true,
            })
        };
        match self {
            Command::Sub(a) => slots(&mut a.conn, Some(&mut a.format)),
            Command::Pub(a) => slots(&mut a.conn, None),
            Command::Rpc(a) => slots(&mut a.conn, Some(&mut a.req.format)),
            Command::Serve(a) => slots(&mut a.conn, Some(&mut a.format)),
            Command::Record(a) => slots(&mut a.conn, None),
            // Each replay client takes its recorded UID, never the profile's.
            Command::Replay(a) => Some(profile::Slots {
                conn: &mut a.conn,
                format: None,
                uid: false,
            }),
            Command::Shell(a) => slots(&mut a.conn, Some(&mut a.format)),
            Command::Trace(a) => slots(&mut a.conn, None),
            Command::Check(a) => slots(&mut a.conn, None),
            Command::Tui(a) => slots(&mut a.conn, None),
            Command::Analyze(a) => slots(&mut a.conn, None),
            // A simulated device's UID comes from its scenario (`simulate`
            // refuses --uid); a profile's `uid` is for one-connection commands.
            Command::Simulate(a) => Some(profile::Slots {
                conn: &mut a.conn,
                format: None,
                uid: false,
            }),
            Command::Bench(b) => match b {
                BenchCommand::Pubsub(a) => slots(&mut a.conn, None),
                BenchCommand::Rpc(a) => slots(&mut a.rpc.conn, None),
                BenchCommand::Connections(a) => slots(&mut a.conn, None),
            },
            Command::Broker(_)
            | Command::Demo(_)
            | Command::Hook(_)
            | Command::Profile(_)
            | Command::Completions { .. }
            | Command::Man { .. } => None,
        }
    }
}

/// The matches of the leaf subcommand (`bench rpc`'s, not `bench`'s): they hold
/// the connection arguments and where each value came from.
pub fn leaf(matches: &ArgMatches) -> &ArgMatches {
    let mut leaf = matches;
    while let Some((_, m)) = leaf.subcommand() {
        leaf = m;
    }
    leaf
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn preview_above_32768_is_refused_in_trace_and_tui() {
        use clap::Parser;
        for cmd in ["trace", "tui"] {
            let e = Cli::try_parse_from(["smqctl", cmd, "--preview", "32769"])
                .expect_err("above the tracer limit")
                .to_string();
            assert!(
                e.contains("32769 is above the maximum of 32768 bytes"),
                "{cmd}: {e}"
            );
            assert!(
                Cli::try_parse_from(["smqctl", cmd, "--preview", "32768"]).is_ok(),
                "{cmd}: the limit itself is allowed"
            );
        }
    }
}
