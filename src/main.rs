//! The `smqctl` binary: parse the command line, run the subcommand on a tokio
//! runtime, turn the outcome into an exit code. Errors print as `error: …` with
//! their cause chain and a hint; a closed stdout (`| head`) is not an error.

use std::io::{self, Write};

// `eprintln!`/`println!` panic on a closed pipe (`smqctl … 2>&1 | head -1`);
// these drop the line instead, as lib.rs's do for the rest of the crate.
macro_rules! eprintln {
    ($($arg:tt)*) => {{ let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("{}\n", format_args!($($arg)*))); }};
}
#[allow(unused_macros)]
macro_rules! println {
    ($($arg:tt)*) => {{ let _ = std::io::Write::write_fmt(&mut std::io::stdout(), format_args!("{}\n", format_args!($($arg)*))); }};
}
use std::process::ExitCode;

use clap::FromArgMatches;

use smqctl::cli::{Cli, Command};
use smqctl::commands;
use smqctl::exit::{self, error_text, exit_code, hint};

fn main() -> ExitCode {
    let matches = smqctl::cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // Fill what flags and SMQCTL_* variables left unsaid from --profile.
    if let Some(name) = cli.global.profile.clone()
        && let Some(slots) = cli.command.profile_slots()
        && let Err(e) = smqctl::profile::apply(&name, slots, smqctl::cli::leaf(&matches))
    {
        eprintln!("error: {e}");
        return ExitCode::from(exit::USAGE);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    let heeds = heeds_signals(&cli.command);
    let result = runtime.block_on(async {
        if heeds {
            // From here on SIGINT and SIGTERM no longer kill the process: the
            // command stops on them and the connections below say goodbye.
            smqctl::shutdown::Signals::new();
            if !interactive(&cli.command) {
                // The first signal stops the command, a second ends the
                // process at once (130), whatever the command was doing.
                smqctl::shutdown::exit_after(2);
            }
        }
        let result = run(cli).await;
        if heeds {
            // No signal is the command's any more: one now ends the goodbyes.
            smqctl::shutdown::exit_after(1);
        }
        // Whatever the exit path (done, timeout, error, signal), every
        // connection still open sends Disconnect and closes before the runtime
        // stops under it.
        smqctl::client::close_all(CLOSE_DEADLINE).await;
        result
    });
    // Don't wait for blocking stdin readers and the like.
    runtime.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::from(exit::OK);
            }
            let mut stderr = io::stderr().lock();
            let line = format!("error: {}", error_text(&err));
            let _ = write!(stderr, "{line}");
            let _ = writeln!(stderr);
            if let Some(hint) = hint(&err) {
                let _ = writeln!(stderr, "hint: {hint}");
            }
            ExitCode::from(exit_code(&err))
        }
    }
}

/// How long the connections still open at exit get to close properly.
const CLOSE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(3);

/// Commands that stop cleanly on SIGINT/SIGTERM (see `smqctl::shutdown`). The
/// others are quick, offline, and keep the default: the signal ends them.
fn heeds_signals(command: &Command) -> bool {
    !matches!(
        command,
        Command::Profile(_) | Command::Hook(_) | Command::Completions { .. } | Command::Man { .. }
    )
}

/// Commands where Ctrl-C cancels one step and the command goes on (the
/// shell, the TUI, the demo): only a signal during the exit itself ends the
/// process at once.
fn interactive(command: &Command) -> bool {
    matches!(
        command,
        Command::Shell(_) | Command::Tui(_) | Command::Demo(_)
    )
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    let global = cli.global;
    match cli.command {
        Command::Sub(args) => commands::sub::run(args, &global).await,
        Command::Pub(args) => commands::publish::run(args, &global).await,
        Command::Rpc(args) => commands::rpc::run(args, &global).await,
        Command::Serve(args) => commands::serve::run(args, &global).await,
        Command::Shell(args) => commands::shell::run(*args, &global).await,
        Command::Profile(cmd) => commands::profile::run(cmd),
        Command::Broker(args) => commands::broker::run(args, &global).await,
        Command::Demo(args) => commands::demo::run(args, &global).await,
        Command::Trace(args) => commands::trace::run(args, &global).await,
        Command::Analyze(args) => commands::analyze::run(*args, &global).await,
        Command::Hook(cmd) => commands::hook::run(cmd),
        Command::Tui(args) => commands::tui::run(args, &global).await,
        Command::Bench(cmd) => commands::bench::run(cmd, &global).await,
        Command::Record(args) => commands::record::run(*args, &global).await,
        Command::Replay(args) => commands::replay::run(*args, &global).await,
        Command::Simulate(args) => commands::simulate::run(*args, &global).await,
        Command::Check(args) => commands::check::run(*args, &global).await,
        Command::Completions { shell } => {
            commands::generate::completions(smqctl::cli::command(), shell, &mut io::stdout().lock())
        }
        Command::Man { dir } => commands::generate::man(
            smqctl::cli::command(),
            dir.as_deref(),
            &mut io::stdout().lock(),
        ),
    }
}
