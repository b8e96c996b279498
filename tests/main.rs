//! Integration tests: the embedded broker on 127.0.0.1:0 and the real `smqctl`
//! binary, the way a user runs them. One test binary; modules below.

mod harness;

mod broker_cli;
mod cli_errors;
mod clients;
mod demo;
mod exits;
mod fuzz_corpus;
mod generated;
mod hostile;
mod html_report;
mod inputs;
mod layout;
mod mako_hook;
mod names;
mod netfaults;
mod profile;
mod pty;
mod pubsub;
mod real_cause;
mod robustness;
mod rpc;
mod serve;
mod session;
mod shell;
mod signals;
mod simulate;
mod tls;
mod trace;
mod tui;
