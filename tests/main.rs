//! Integration tests: the embedded broker on 127.0.0.1:0 and the real `smqctl`
//! binary, the way a user runs them. One test binary; modules below.

mod harness;

mod cli_errors;
mod demo;
mod fuzz_corpus;
mod generated;
mod netfaults;
mod profile;
mod pubsub;
mod robustness;
mod rpc;
mod session;
mod shell;
mod simulate;
mod tls;
mod tmux;
mod trace;
mod tui;
