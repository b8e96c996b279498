//! Who may connect: the broker's stand-in for the `authenticate(credentials, info)`
//! hook of Mako's `smq.hub`.
//!
//! Either one shared secret for everybody, or a table `uid-or-user -> secret`
//! loaded from a file. Secrets never leave this module: callers get a yes/no and a
//! reason text that is safe to send in a Connack and to put into trace events.
//!
//! May import: std and [`super::BrokerError`] only.

use std::collections::HashMap;
use std::path::Path;

use super::BrokerError;

/// How Connect credentials are checked.
#[derive(Clone)]
pub enum Auth {
    /// Every client must send this secret as its credentials.
    Shared(String),
    /// Per client: the key is a UID (credentials must equal the secret) or a user
    /// name (credentials `user:secret`). The UID is looked up first.
    Users(HashMap<String, String>),
}

// Hand-written so that a stray `{:?}` never prints a secret.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Shared(_) => f.write_str("Auth::Shared(<secret>)"),
            Auth::Users(m) => write!(f, "Auth::Users({} entries)", m.len()),
        }
    }
}

/// Reason text of a refused Connect (code 3); the same for every failure so a
/// client cannot probe which UIDs or users exist.
pub(crate) const BAD_CREDENTIALS: &str = "bad credentials";

impl Auth {
    /// Reads `uid-or-user:secret` lines. Blank lines and lines starting with `#`
    /// are ignored; whitespace around the key and the secret is trimmed.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Auth, BrokerError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| BrokerError::ReadFile {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|(line, reason)| BrokerError::AuthFile {
            path: path.to_path_buf(),
            line,
            reason,
        })
    }

    /// Parses the file format of [`Auth::from_file`]; the error is (line, reason).
    fn parse(text: &str) -> Result<Auth, (usize, &'static str)> {
        let mut users = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, secret)) = line.split_once(':') else {
                return Err((line_no, "expected `uid-or-user:secret`"));
            };
            let key = key.trim();
            if key.is_empty() {
                return Err((line_no, "empty uid or user name before ':'"));
            }
            if users
                .insert(key.to_string(), secret.trim().to_string())
                .is_some()
            {
                return Err((line_no, "this uid or user name appears twice"));
            }
        }
        Ok(Auth::Users(users))
    }

    /// Decides a Connect; `Err` carries the reason text for the Connack.
    pub(crate) fn check(&self, uid: &[u8], credentials: &[u8]) -> Result<(), &'static str> {
        let ok = match self {
            Auth::Shared(secret) => ct_eq(credentials, secret.as_bytes()),
            Auth::Users(users) => match std::str::from_utf8(uid).ok().and_then(|u| users.get(u)) {
                Some(secret) => ct_eq(credentials, secret.as_bytes()),
                None => user_colon_secret(users, credentials),
            },
        };
        if ok { Ok(()) } else { Err(BAD_CREDENTIALS) }
    }
}

fn user_colon_secret(users: &HashMap<String, String>, credentials: &[u8]) -> bool {
    let Some(colon) = credentials.iter().position(|&b| b == b':') else {
        return false;
    };
    let (user, pass) = (&credentials[..colon], &credentials[colon + 1..]);
    std::str::from_utf8(user)
        .ok()
        .and_then(|u| users.get(u))
        .is_some_and(|secret| ct_eq(pass, secret.as_bytes()))
}

/// Compares without an early exit on the first differing byte (length still shows).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_secret_must_match_exactly() {
        let a = Auth::Shared("s3cret".into());
        assert_eq!(a.check(b"anyuid", b"s3cret"), Ok(()));
        assert_eq!(a.check(b"anyuid", b"s3cre"), Err(BAD_CREDENTIALS));
        assert_eq!(a.check(b"anyuid", b""), Err(BAD_CREDENTIALS));
    }

    #[test]
    fn credentials_whose_byte_differences_cancel_out_are_refused() {
        // 'a'^'b' twice: an XOR-accumulating compare would take "ab" for "ba".
        let a = Auth::Shared("ba".into());
        assert_eq!(a.check(b"uid", b"ab"), Err(BAD_CREDENTIALS));
        let a = Auth::Shared("s3cret".into());
        assert_eq!(a.check(b"uid", b"3scret"), Err(BAD_CREDENTIALS));
        assert_eq!(a.check(b"uid", b"s3cert"), Err(BAD_CREDENTIALS));
    }

    #[test]
    fn users_file_maps_uid_or_user_to_secret() {
        let a = Auth::parse("# comment\n\n device-0001 : pw1 \nalice:wonder land\n")
            .expect("valid file");
        assert_eq!(a.check(b"device-0001", b"pw1"), Ok(()));
        assert_eq!(a.check(b"device-0001", b"pw2"), Err(BAD_CREDENTIALS));
        // Unknown UID: credentials may name a user instead.
        assert_eq!(a.check(b"browser-77", b"alice:wonder land"), Ok(()));
        assert_eq!(a.check(b"browser-77", b"alice:wrong"), Err(BAD_CREDENTIALS));
        assert_eq!(a.check(b"browser-77", b"pw1"), Err(BAD_CREDENTIALS));
    }

    #[test]
    fn bad_users_file_line_is_reported_with_its_number() {
        assert_eq!(
            Auth::parse("a:b\n\nnocolon\n").map(|_| ()),
            Err((3, "expected `uid-or-user:secret`"))
        );
        assert_eq!(Auth::parse(":x").map(|_| ()).map_err(|e| e.0), Err(1));
        assert_eq!(Auth::parse("a:1\na:2").map(|_| ()).map_err(|e| e.0), Err(2));
    }

    #[test]
    fn from_file_error_names_the_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("users.txt");
        std::fs::write(&path, "ok:1\nbroken\n").expect("write");
        let msg = Auth::from_file(&path).expect_err("bad line").to_string();
        assert!(msg.contains("users.txt") && msg.contains(":2"), "{msg}");
        let missing = Auth::from_file(dir.path().join("nope")).expect_err("missing");
        assert!(missing.to_string().contains("nope"), "{missing}");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let s = format!("{:?}", Auth::Shared("topsecret".into()));
        assert!(!s.contains("topsecret"));
    }

    #[test]
    fn debug_output_says_which_kind_of_auth_without_a_secret() {
        // Not vacuous: a Debug that prints nothing hides secrets too.
        let shared = format!("{:?}", Auth::Shared("topsecret".into()));
        assert_eq!(shared, "Auth::Shared(<secret>)");
        let users = Auth::parse("alice:pw-a\nbob:pw-b\n").expect("valid");
        assert_eq!(format!("{users:?}"), "Auth::Users(2 entries)");
    }
}
