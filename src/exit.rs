//! Exit codes and input errors: the one table the README and `smqctl --help`
//! document, and [`exit_code`], which maps any error to its code from the most
//! specific cause in its chain. Also how an error is printed ([`error_text`],
//! [`hint`]).
//!
//! May import: `client`, `transport`, `broker` (error types to map, the
//! handler-file error included), `profile` (ProfileError), `shutdown`
//! (Interrupted), `fleet` (FleetError), `assert` (AssertError), `output`
//! (escaping). Never `commands`
//! or `cli`.

use crate::client::ClientError;
use crate::shutdown::Interrupted;
use crate::transport::TransportError;

// Documented exit codes (README, `smqctl --help`).
pub const OK: u8 = 0;
pub const ERROR: u8 = 1;
pub const USAGE: u8 = 2;
pub const CONNECT: u8 = 3;
pub const REFUSED: u8 = 4;
pub const TIMEOUT: u8 = 5;
pub const LOST: u8 = 6;
pub const REMOTE: u8 = 7;
/// The run itself succeeded but an `--assert` gate failed.
pub const ASSERT: u8 = 8;
/// Ctrl-C before the work was done (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

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
            return INTERRUPTED;
        }
        if cause.downcast_ref::<InputError>().is_some()
            || cause
                .downcast_ref::<crate::profile::ProfileError>()
                .is_some()
            || cause.downcast_ref::<crate::broker::BrokerError>().is_some()
            || cause
                .downcast_ref::<crate::broker::handlers::HandlerError>()
                .is_some()
            || cause.downcast_ref::<crate::fleet::FleetError>().is_some()
            || cause.downcast_ref::<crate::assert::AssertError>().is_some()
        {
            // Unreadable or invalid files and settings given on the command line.
            return USAGE;
        }
        if let Some(e) = cause.downcast_ref::<ClientError>() {
            return match e {
                ClientError::Transport(TransportError::BadUrl { .. }) => USAGE,
                ClientError::Transport(TransportError::TlsConfig(_)) => USAGE,
                // An unanswered Create/Subscribe is setup that never completed,
                // like a handshake timeout (rpc maps it to 5 within --timeout).
                ClientError::Transport(_)
                | ClientError::Handshake(_)
                | ClientError::NoAck { .. } => CONNECT,
                ClientError::Refused { .. } | ClientError::Denied { .. } => REFUSED,
                ClientError::ConnectionLost(_) => LOST,
                ClientError::PayloadTooLarge(_) | ClientError::Invalid(_) => USAGE,
            };
        }
        if let Some(e) = cause.downcast_ref::<TransportError>() {
            return match e {
                TransportError::BadUrl { .. } | TransportError::TlsConfig(_) => USAGE,
                _ => CONNECT,
            };
        }
    }
    ERROR
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
        let transport = match cause.downcast_ref::<ClientError>() {
            Some(ClientError::Transport(t)) => Some(t),
            _ => cause.downcast_ref::<TransportError>(),
        };
        match transport {
            // Only a refused connection means nobody listens there.
            Some(TransportError::Connect { source, .. })
                if source.kind() == std::io::ErrorKind::ConnectionRefused =>
            {
                return Some(
                    "is the broker running? `smqctl broker` starts one on 127.0.0.1:9357; --url or SMQCTL_URL point elsewhere",
                );
            }
            Some(TransportError::Resolve { .. }) => {
                return Some("check the host name in --url or SMQCTL_URL");
            }
            Some(TransportError::HttpStatus { .. }) => {
                return Some(
                    "check the URL path: it must be the page that runs the SMQ broker (e.g. /smq.lsp on Mako)",
                );
            }
            _ => {}
        }
        if let Some(ClientError::Refused { code: 3, .. }) = cause.downcast_ref::<ClientError>() {
            return Some(
                "pass the right secret with --credentials, SMQCTL_CREDENTIALS or --ask-credentials",
            );
        }
    }
    None
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
        assert_eq!(exit_code(&refused), REFUSED);
        let lost: anyhow::Error = ClientError::ConnectionLost("x".into()).into();
        assert_eq!(exit_code(&lost), LOST);
        let input = input_error("bad JSON").context("reading the message");
        assert_eq!(exit_code(&input), USAGE);
        let other = anyhow::anyhow!("disk full");
        assert_eq!(exit_code(&other), ERROR);
        let no_ack: anyhow::Error = ClientError::NoAck {
            what: "Subscribe",
            name: "T".into(),
            after: std::time::Duration::from_secs(2),
        }
        .into();
        assert_eq!(exit_code(&no_ack), CONNECT);
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
