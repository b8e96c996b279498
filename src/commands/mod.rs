//! One module per subcommand: its flags (`XArgs`), examples, `run` and
//! printing. Each turns its flags into what an engine needs (a client, a
//! broker, a fleet config), owns its output, and returns the process exit code.
//! Shared flag groups live in `crate::args`, exit codes and input errors in
//! `crate::exit`; this file is only the list.
//!
//! May import: everything below it (args, exit, profile, output, trace, broker,
//! client, protocol, the leaves). Never `cli`.

pub mod analyze;
pub mod bench;
pub mod broker;
pub mod demo;
pub mod generate;
pub mod hook;
pub mod profile;
pub mod publish;
pub mod record;
pub mod replay;
pub mod rpc;
pub mod serve;
pub mod shell;
pub mod simulate;
pub mod sub;
pub mod trace;
pub mod tui;
