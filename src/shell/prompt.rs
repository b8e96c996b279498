//! The prompt that follows the connection: `smq [ETID 42]> ` becomes
//! `smq [reconnecting #2]> ` while the line editor waits, without a key press.
//!
//! rustyline asks the prompt for its text on every redraw (the notes printed
//! above the line redraw it) but measures its width once per line, so the text
//! keeps the width the prompt had when the line began: padded with spaces
//! after `> ` when shorter, shortened (`[reconnecting #2]> `, `recon #2> `)
//! when longer.
//!
//! May import: `session` (the connection state), rustyline, tokio's watch.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::watch;

use super::session::Conn;

/// How many changes one line shows; after that the prompt keeps the last one
/// until the next line (a prompt left for hours through an outage).
const CHANGES: usize = 64;

/// A rustyline prompt reading the connection state on every redraw.
pub struct LivePrompt {
    conn: watch::Receiver<Conn>,
    width: usize,
    /// Texts shown so far, append-only, so a redraw can borrow the newest.
    shown: Vec<OnceLock<String>>,
    newest: AtomicUsize,
}

/// `smq [LABEL]> ` for a connection state.
pub fn text(conn: &Conn) -> String {
    format!("smq [{}]> ", conn.label())
}

impl LivePrompt {
    pub fn new(conn: watch::Receiver<Conn>) -> LivePrompt {
        let first = text(&conn.borrow());
        let width = first.chars().count();
        let shown: Vec<OnceLock<String>> = (0..CHANGES).map(|_| OnceLock::new()).collect();
        let _ = shown[0].set(first);
        LivePrompt {
            conn,
            width,
            shown,
            newest: AtomicUsize::new(0),
        }
    }

    /// The state's prompt at exactly this line's width.
    fn fitted(&self) -> String {
        let conn = self.conn.borrow();
        fit(&conn, self.width)
    }
}

/// The prompt for `conn` in exactly `width` columns.
pub fn fit(conn: &Conn, width: usize) -> String {
    let label = conn.label();
    let short = match conn {
        Conn::Down { attempt, .. } => format!("recon #{attempt}"),
        _ => label.clone(),
    };
    let candidates = [
        format!("smq [{label}]> "),
        format!("[{label}]> "),
        format!("{label}> "),
        format!("{short}> "),
    ];
    let mut s = candidates
        .into_iter()
        .find(|c| c.chars().count() <= width)
        .unwrap_or_else(|| {
            let keep = width.saturating_sub(2);
            let start = short.chars().count().saturating_sub(keep);
            format!("{}> ", short.chars().skip(start).collect::<String>())
        });
    while s.chars().count() < width {
        s.push(' ');
    }
    s
}

impl rustyline::Prompt for LivePrompt {
    fn raw(&self) -> &str {
        let now = self.newest.load(Ordering::Relaxed);
        let current = self.shown[now].get().map_or("", String::as_str);
        let wanted = self.fitted();
        if wanted != current && now + 1 < CHANGES && self.shown[now + 1].set(wanted).is_ok() {
            self.newest.store(now + 1, Ordering::Relaxed);
            return self.shown[now + 1].get().map_or("", String::as_str);
        }
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down(attempt: u32) -> Conn {
        Conn::Down {
            reason: "gone".into(),
            attempt,
        }
    }

    #[test]
    fn a_changed_state_keeps_the_width_the_line_began_with() {
        // A ten-digit ETID leaves room for the whole label.
        assert_eq!(fit(&down(3), 23), "smq [reconnecting #3]> ");
        assert_eq!(fit(&down(12), 23), "[reconnecting #12]>    ");
        // A short ETID's prompt: shortened, never wider.
        assert_eq!(fit(&down(2), 14), "recon #2>     ");
        assert_eq!(fit(&down(2), 8), "con #2> ");
        assert_eq!(fit(&Conn::Ended("x".into()), 40).chars().count(), 40);
    }

    #[test]
    fn the_prompt_follows_the_connection_between_redraws() {
        use rustyline::Prompt;
        let (tx, rx) = watch::channel(Conn::Connecting);
        let p = LivePrompt::new(rx);
        assert_eq!(p.raw(), "smq [connecting]> ");
        tx.send_replace(down(1));
        assert_eq!(p.raw(), "reconnecting #1>  ");
        assert_eq!(
            p.raw().chars().count(),
            "smq [connecting]> ".chars().count()
        );
        tx.send_replace(Conn::Ended("bye".into()));
        assert_eq!(p.raw(), "[disconnected]>   ");
    }
}
