//! One module per subcommand. Each takes its parsed arguments, builds what it
//! needs (a client, a broker), owns its output, and returns the process exit code.
//! This file holds what they share: turning [`ConnectArgs`] into client options
//! and mapping errors to the documented exit codes.
//!
//! May import: everything below it (cli, client, broker, output, protocol).

pub mod bench;
pub mod broker;
pub mod demo;
pub mod generate;
pub mod hook;
pub mod profile;
pub mod publish;
pub mod rpc;
pub mod serve;
pub mod shell;
pub mod simulate;
pub mod sub;
pub mod trace;
pub mod tui;

use anyhow::{Context, Result};

use crate::cli::{ConnectArgs, GlobalArgs};
use crate::client::{ClientError, ClientOptions, Secret};
use crate::transport::{Endpoint, TlsOptions, TransportError};

/// Documented exit codes (README, `smqctl --help`).
pub mod exit {
    pub const OK: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const CONNECT: u8 = 3;
    pub const REFUSED: u8 = 4;
    pub const TIMEOUT: u8 = 5;
    pub const LOST: u8 = 6;
    pub const REMOTE: u8 = 7;
    /// Ctrl-C before the work was done (128 + SIGINT, as shells report it).
    pub const INTERRUPTED: u8 = 130;
}

/// Ctrl-C or SIGTERM stopped the command before its work began (at a
/// prompt): exit 130.
#[derive(Debug, thiserror::Error)]
#[error("interrupted ({name}) {1}", name = .0.name())]
pub struct Interrupted(pub crate::shutdown::Signal, pub &'static str);

/// Bad input from the user (payload, file, arguments clap cannot check): exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

pub fn input_error(msg: impl Into<String>) -> anyhow::Error {
    InputError(msg.into()).into()
}

/// "invalid JSON in ORIGIN at line L, column C: reason" (serde's own position
/// suffix removed so the position is said once).
pub fn json_error(origin: &str, e: &serde_json::Error) -> anyhow::Error {
    let text = e.to_string();
    let reason = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text,
    };
    input_error(format!(
        "invalid JSON in {origin} at line {}, column {}: {reason}",
        e.line(),
        e.column()
    ))
}

/// The exit code for an error, from the most specific cause in its chain.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.downcast_ref::<Interrupted>().is_some() {
            return exit::INTERRUPTED;
        }
        if cause.downcast_ref::<InputError>().is_some()
            || cause
                .downcast_ref::<crate::profile::ProfileError>()
                .is_some()
            || cause.downcast_ref::<crate::broker::BrokerError>().is_some()
            || cause
                .downcast_ref::<broker::handlers::HandlerError>()
                .is_some()
        {
            // Unreadable or invalid files and settings given on the command line.
            return exit::USAGE;
        }
        if let Some(e) = cause.downcast_ref::<ClientError>() {
            return match e {
                ClientError::Transport(TransportError::BadUrl { .. }) => exit::USAGE,
                ClientError::Transport(TransportError::TlsConfig(_)) => exit::USAGE,
                // An unanswered Create/Subscribe is setup that never completed,
                // like a handshake timeout (rpc maps it to 5 within --timeout).
                ClientError::Transport(_)
                | ClientError::Handshake(_)
                | ClientError::NoAck { .. } => exit::CONNECT,
                ClientError::Refused { .. } | ClientError::Denied { .. } => exit::REFUSED,
                ClientError::ConnectionLost(_) => exit::LOST,
                ClientError::PayloadTooLarge(_) | ClientError::Invalid(_) => exit::USAGE,
            };
        }
        if let Some(e) = cause.downcast_ref::<TransportError>() {
            return match e {
                TransportError::BadUrl { .. } | TransportError::TlsConfig(_) => exit::USAGE,
                _ => exit::CONNECT,
            };
        }
    }
    exit::ERROR
}

/// "what failed: why: cause…" — the error and its cause chain on one line, each
/// cause said once (many errors already quote their source).
/// Escaped for the terminal: errors quote broker text (Connack and Disconnect
/// reasons, topic names) that must not drive it.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    crate::output::escape_controls(&line)
}

/// A hint to print under an error, when there is an obvious next step.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    for cause in err.chain() {
        match cause.downcast_ref::<ClientError>() {
            Some(ClientError::Transport(TransportError::Connect { .. })) => {
                return Some(
                    "is the broker running? `smqctl broker` starts one on 127.0.0.1:9357; --url or SMQCTL_URL point elsewhere",
                );
            }
            Some(ClientError::Transport(TransportError::HttpStatus { .. })) => {
                return Some(
                    "check the URL path: it must be the page that runs the SMQ broker (e.g. /smq.lsp on Mako)",
                );
            }
            Some(ClientError::Refused { code: 3, .. }) => {
                return Some(
                    "pass the right secret with --credentials, SMQCTL_CREDENTIALS or --ask-credentials",
                );
            }
            _ => {}
        }
    }
    None
}

/// Builds client options from the command line; prompts for credentials if
/// asked (Ctrl-C or SIGTERM at the prompt: [`Interrupted`], exit 130).
pub async fn client_options(conn: &ConnectArgs, global: &GlobalArgs) -> Result<ClientOptions> {
    let endpoint = Endpoint::parse(&conn.url).map_err(ClientError::from)?;
    let credentials = if conn.ask_credentials {
        Some(ask_credentials().await?)
    } else {
        conn.credentials.clone().map(Secret::new)
    };
    let tls = TlsOptions {
        cacert: conn.cacert.clone(),
        cert: conn.cert.clone(),
        key: conn.key.clone(),
        insecure: conn.insecure,
        pin_cert: conn.pin_cert.clone(),
    };
    if endpoint.scheme.is_tls() {
        if conn.insecure {
            eprintln!(
                "warning: --insecure: the broker's TLS certificate is not verified; anyone on the network path can impersonate it"
            );
        }
        if let Some(pin) = &conn.pin_cert {
            eprintln!(
                "warning: --pin-cert: the broker's certificate is accepted when it is the one in {}, whatever host name and dates it carries",
                pin.display()
            );
        }
    } else if conn.insecure
        || conn.cacert.is_some()
        || conn.pin_cert.is_some()
        || conn.cert.is_some()
    {
        eprintln!(
            "warning: TLS options are ignored for {} (not wss:// or https://)",
            endpoint
        );
    }
    if let Some(uid) = &conn.uid
        && uid.len() < crate::protocol::MIN_UID_LEN
    {
        eprintln!(
            "warning: UID '{uid}' is shorter than 6 bytes; SMQ brokers refuse it (Connack 1)"
        );
    }
    let mut opts = ClientOptions::new(endpoint);
    opts.uid = conn.uid.clone();
    opts.info = conn.info.clone();
    opts.credentials = credentials;
    opts.credentials_cmd = conn.credentials_cmd.clone();
    opts.tls = tls;
    opts.connect_timeout = conn.connect_timeout;
    opts.ping_interval = conn.ping_interval;
    opts.pong_timeout = conn.pong_timeout;
    opts.connect_v2 = conn.connect_v2;
    opts.trace_packets = global.trace_packets;
    Ok(opts)
}

/// "Credentials: " on the terminal, read without echo. The read blocks, so it
/// runs on a blocking thread raced against Ctrl-C/SIGTERM (the terminal's
/// Ctrl-C is a SIGINT: the handlers are installed). The terminal's settings
/// come back on every path, a signal included.
#[cfg(unix)]
async fn ask_credentials() -> Result<Secret> {
    use std::io::{BufRead, Write};

    use nix::sys::termios::{LocalFlags, SetArg, Termios, tcgetattr, tcsetattr};

    /// Puts the saved settings back when dropped.
    struct Restore(std::fs::File, Termios);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = tcsetattr(&self.0, SetArg::TCSANOW, &self.1);
        }
    }

    let cannot = "cannot read credentials from the terminal";
    let stop = crate::shutdown::requested();
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context(cannot)?;
    let saved = tcgetattr(&tty).context(cannot)?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    quiet.local_flags.insert(LocalFlags::ECHONL);
    let mut out = tty.try_clone().context(cannot)?;
    let reader = tty.try_clone().context(cannot)?;
    let restore = Restore(tty, saved);
    // Echo off before the prompt shows: nothing typed after it is echoed.
    tcsetattr(&restore.0, SetArg::TCSANOW, &quiet).context(cannot)?;
    out.write_all(b"Credentials: ")
        .and_then(|()| out.flush())
        .context(cannot)?;
    let read = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(reader)
            .read_line(&mut line)
            .map(|_| line)
    });
    tokio::select! {
        r = read => {
            drop(restore);
            let mut line = r
                .map_err(|e| anyhow::anyhow!("{cannot}: {e}"))?
                .context(cannot)?;
            while line.ends_with(['\n', '\r']) {
                line.pop();
            }
            Ok(Secret::new(line))
        }
        s = stop => {
            drop(restore);
            // The line the prompt was on ends; the reader thread stays
            // blocked and is not waited for at exit.
            let _ = out.write_all(b"\n");
            Err(Interrupted(s, "at the credentials prompt").into())
        }
    }
}

#[cfg(not(unix))]
async fn ask_credentials() -> Result<Secret> {
    let stop = crate::shutdown::requested();
    let read = tokio::task::spawn_blocking(|| rpassword::prompt_password("Credentials: "));
    tokio::select! {
        r = read => {
            let secret = r
                .map_err(|e| anyhow::anyhow!("cannot read credentials from the terminal: {e}"))?
                .context("cannot read credentials from the terminal")?;
            Ok(Secret::new(secret))
        }
        s = stop => Err(Interrupted(s, "at the credentials prompt").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_documented_exit_codes() {
        let refused: anyhow::Error = ClientError::Refused {
            code: 3,
            meaning: "bad credentials",
            reason: String::new(),
        }
        .into();
        assert_eq!(exit_code(&refused), exit::REFUSED);
        let lost: anyhow::Error = ClientError::ConnectionLost("x".into()).into();
        assert_eq!(exit_code(&lost), exit::LOST);
        let input = input_error("bad JSON").context("reading the message");
        assert_eq!(exit_code(&input), exit::USAGE);
        let other = anyhow::anyhow!("disk full");
        assert_eq!(exit_code(&other), exit::ERROR);
        let no_ack: anyhow::Error = ClientError::NoAck {
            what: "Subscribe",
            name: "T".into(),
            after: std::time::Duration::from_secs(2),
        }
        .into();
        assert_eq!(exit_code(&no_ack), exit::CONNECT);
    }

    #[test]
    fn connack_reason_with_escape_sequences_cannot_drive_the_terminal() {
        let refused: anyhow::Error = ClientError::Refused {
            code: 3,
            meaning: "bad credentials",
            reason: "\x1b[2J\x1b]0;pwned\x07\rFAKE: ok".into(),
        }
        .into();
        let line = error_text(&refused);
        assert!(
            !line.contains('\x1b') && !line.contains('\x07') && !line.contains('\r'),
            "{line:?}"
        );
        assert!(line.contains("\\rFAKE: ok"), "{line:?}");
    }
}
