//! Tab completion at the shell prompt: command names, the options of the
//! command being typed (read from its clap definition, so they never drift),
//! and topic and sub-topic names the session has seen.
//!
//! May import: `client` (names), sibling `line` and `session`.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use clap::CommandFactory;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};
use tokio::sync::watch;

use super::line::LineCli;
use super::session::{Conn, Wanted, lock};

/// Options whose value is a sub-topic name.
const SUBTOPIC_OPTIONS: &[&str] = &[
    "--subtopic",
    "--resolve-subtopic",
    "--resp",
    "--rpc-req",
    "--rpc-resp",
];

pub struct ShellHelper {
    pub wanted: Arc<Mutex<Wanted>>,
    pub conn: watch::Receiver<Conn>,
}

/// The names the session knows, for completion.
#[derive(Default)]
pub struct Known {
    pub topics: Vec<String>,
    pub subscribed: Vec<String>,
    /// Topics and ETIDs observed in this session (`unobserve` takes these).
    pub observed: Vec<String>,
    pub subtopics: Vec<String>,
}

impl ShellHelper {
    fn known(&self) -> Known {
        let mut k = Known::default();
        {
            let w = lock(&self.wanted);
            k.subscribed = w.subs.keys().cloned().collect();
            k.observed = w.observed.iter().cloned().collect();
            k.topics.extend(w.subs.keys().cloned());
            k.topics.extend(
                w.observed
                    .iter()
                    .filter(|o| o.parse::<u32>().is_err())
                    .cloned(),
            );
            k.subtopics.extend(w.subtopics.iter().cloned());
        }
        if let Conn::Up(client) = &*self.conn.borrow() {
            let names = client.names().lock().unwrap_or_else(|e| e.into_inner());
            k.topics
                .extend(names.topics().into_iter().map(|(n, _)| n.to_string()));
            k.subtopics
                .extend(names.subtopics().into_iter().map(|(n, _)| n.to_string()));
        }
        k.topics.push("self".into());
        for v in [&mut k.topics, &mut k.subtopics] {
            v.sort();
            v.dedup();
        }
        k
    }
}

/// Candidates for the word ending at `pos`: (start of the word, candidates).
pub fn candidates(line: &str, pos: usize, known: &Known) -> (usize, Vec<String>) {
    let before = &line[..pos];
    let start = before
        .rfind(char::is_whitespace)
        .map(|i| i + 1)
        .unwrap_or(0);
    let word = &before[start..];
    let prior: Vec<&str> = before[..start].split_whitespace().collect();
    let cli = LineCli::command();
    let commands = || {
        cli.get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect::<Vec<_>>()
    };
    let list: Vec<String> = match prior.as_slice() {
        [] => commands(),
        [cmd, ..] => {
            let name = if *cmd == "call" { "rpc" } else { cmd };
            let Some(sub) = cli.find_subcommand(name) else {
                return (start, Vec::new());
            };
            let prev = prior.last().copied().unwrap_or("");
            let takes_value = |flag: &str| {
                sub.get_arguments().any(|a| {
                    let long = a.get_long().map(|l| format!("--{l}"));
                    let short = a.get_short().map(|s| format!("-{s}"));
                    (long.as_deref() == Some(flag) || short.as_deref() == Some(flag))
                        && a.get_action().takes_values()
                })
            };
            if word.starts_with('-') {
                let mut opts: Vec<String> = sub
                    .get_arguments()
                    .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                    .collect();
                opts.push("--help".into());
                opts
            } else if SUBTOPIC_OPTIONS.contains(&prev) {
                known.subtopics.clone()
            } else if prev == "--to" {
                known.topics.clone()
            } else if prev == "--format" || prev == "-F" || (*cmd == "format" && prior.len() == 1) {
                ["pretty", "json", "raw", "hex"].map(String::from).to_vec()
            } else if takes_value(prev) {
                Vec::new()
            } else {
                match *cmd {
                    "sub" | "pub" | "observe" => known.topics.clone(),
                    "unobserve" => known.observed.clone(),
                    "unsub" => known.subscribed.clone(),
                    "rpc" => known.subtopics.clone(),
                    "help" => commands(),
                    _ => Vec::new(),
                }
            }
        }
    };
    let mut out: Vec<String> = list.into_iter().filter(|c| c.starts_with(word)).collect();
    out.sort();
    out.dedup();
    (start, out)
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, list) = candidates(line, pos, &self.known());
        Ok((
            start,
            list.into_iter()
                .map(|c| Pair {
                    display: c.clone(),
                    replacement: format!("{c} "),
                })
                .collect(),
        ))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl Validator for ShellHelper {}

impl Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Known {
        Known {
            topics: vec!["Alerts".into(), "DeviceState".into(), "self".into()],
            subscribed: vec!["DeviceState".into()],
            observed: vec!["Alerts".into(), "12".into()],
            subtopics: vec!["SearchSitesReq".into(), "SetCharger".into()],
        }
    }

    #[test]
    fn completes_commands_options_topics_and_subtopics() {
        let k = known();
        assert_eq!(candidates("su", 2, &k), (0, vec!["sub".to_string()]));
        assert_eq!(
            candidates("un", 2, &k).1,
            ["unobserve", "unsub"].map(String::from)
        );
        assert_eq!(candidates("sub De", 6, &k), (4, vec!["DeviceState".into()]));
        assert_eq!(candidates("unsub ", 6, &k).1, ["DeviceState"]);
        // `unobserve` offers what the session observes, and its --send.
        assert_eq!(candidates("unobserve ", 10, &k).1, ["12", "Alerts"]);
        assert_eq!(candidates("unobserve --send A", 18, &k).1, ["Alerts"]);
        assert_eq!(candidates("unobserve --s", 13, &k).1, ["--send"]);
        assert!(
            candidates("pub X --to-", 11, &k)
                .1
                .contains(&"--to-etid".into())
        );
        assert_eq!(candidates("pub X --subtopic Set", 20, &k).1, ["SetCharger"]);
        assert_eq!(candidates("rpc Sea", 7, &k).1, ["SearchSitesReq"]);
        assert_eq!(candidates("format j", 8, &k).1, ["json"]);
        // A value that is not a name gets no suggestions.
        assert!(candidates("pub X --count ", 14, &k).1.is_empty());
    }
}
