//! Integration tests: the embedded broker on 127.0.0.1:0 and the real `smqctl`
//! binary, the way a user runs them. One test binary; modules below.

mod harness;

mod analyze_demo;
mod analyze_ready;
mod analyze_requests;
mod analyze_rules;
mod broker_cli;
mod check;
mod cli_errors;
mod clients;
mod demo;
mod exits;
mod fuzz_corpus;
mod gates;
mod generated;
mod hostile;
mod html_report;
mod inputs;
mod layout;
mod mako_hook;
mod metrics;
mod names;
mod netfaults;
mod profile;
mod pty;
mod pubsub;
mod real_cause;
mod replay;
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
mod tui_act;
mod wireshark;
