//! One module per subcommand: its flags (`XArgs`), examples, `run` and
//! printing. Each turns its flags into what an engine needs (a client, a
//! broker, a fleet config), owns its output, and returns the process exit code.
//! Shared flag groups live in `crate::args`, exit codes and input errors in
//! `crate::exit`; this file is the list, and [`gated`], the end of every
//! command that takes `--assert`.
//!
//! May import: everything below it (args, exit, profile, output, trace, broker,
//! client, protocol, assert, the leaves). Never `cli`.

pub mod analyze;
pub mod bench;
pub mod broker;
pub mod check;
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

/// Judges a run's `--assert` gates on its summary (the JSON it printed): each
/// outcome on stderr, and exit 8 ([`crate::exit::ASSERT`]) when one failed
/// and the run itself succeeded; a run that failed on its own (lost
/// messages, timeouts, Ctrl-C) keeps its own code, the outcomes still print.
pub fn gated(gate: &crate::assert::Gate, summary: &serde_json::Value, code: u8) -> u8 {
    gated_on(&gate.judge(summary), code)
}

/// [`gated`] on outcomes already judged (a command that also puts them in
/// its `--html` page).
pub fn gated_on(outcomes: &[crate::assert::Outcome], code: u8) -> u8 {
    if outcomes.is_empty() {
        return code;
    }
    for o in outcomes {
        eprintln!("smqctl: {}", crate::output::escape_controls(&o.to_string()));
    }
    if code == crate::exit::OK && !crate::assert::all_passed(outcomes) {
        crate::exit::ASSERT
    } else {
        code
    }
}

/// The `--assert` outcomes as rows of the `--html` page.
pub fn html_asserts(outcomes: &[crate::assert::Outcome]) -> Vec<crate::report_html::AssertRow> {
    outcomes
        .iter()
        .map(|o| crate::report_html::AssertRow {
            expr: o.assertion.clone(),
            measured: o.measured.clone(),
            passed: o.passed,
        })
        .collect()
}
