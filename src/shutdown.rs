//! The process's one shutdown signal: SIGINT (Ctrl-C) and SIGTERM (how
//! Kubernetes, systemd and CI stop a process) mean the same thing to every
//! command: stop, say goodbye to the broker (Disconnect), print what was done,
//! exit 130.
//!
//! One listener task (started by the first [`Signals::new`], on the runtime of
//! its caller: the binary has one) counts the signals into a watch channel;
//! every waiter holds a [`Signals`] that remembers how many it has seen, so a
//! signal that arrives between two awaits is never missed. One-shot commands
//! wait with [`requested`] (any signal since the start counts); what also runs
//! inside the shell, where Ctrl-C cancels one command and the shell goes on,
//! takes a [`Signals::new`] of its own (only signals from then on).
//!
//! Once the listener is installed the default action (the process dies at
//! once, leaving half-closed connections and no report) is gone: a command that
//! installs it must heed it. May import: nothing of the crate.

use std::sync::OnceLock;

use tokio::sync::watch;

/// Ctrl-C or SIGTERM stopped the command before its work began (at a
/// prompt): exit 130.
#[derive(Debug, thiserror::Error)]
#[error("interrupted ({name}) {1}", name = .0.name())]
pub struct Interrupted(pub Signal, pub &'static str);

/// Which signal asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C in a terminal, `kill -INT`.
    Interrupt,
    /// SIGTERM: `kill`, Kubernetes, systemd, CI timeouts.
    Terminate,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

/// How many signals arrived so far, and the last one.
#[derive(Debug, Clone, Copy)]
struct Count {
    n: u64,
    last: Signal,
}

static LISTENER: OnceLock<watch::Receiver<Count>> = OnceLock::new();

/// Installs the SIGINT/SIGTERM handlers (once) and returns the count's receiver.
/// Must run inside a tokio runtime.
fn listener() -> watch::Receiver<Count> {
    LISTENER
        .get_or_init(|| {
            let (tx, rx) = watch::channel(Count {
                n: 0,
                last: Signal::Interrupt,
            });
            spawn_listener(tx);
            rx
        })
        .clone()
}

#[cfg(unix)]
fn spawn_listener(tx: watch::Sender<Count>) {
    use tokio::signal::unix::{SignalKind, signal};
    // Registered here, synchronously: from the moment `Signals::new` returns,
    // neither signal kills the process any more.
    let int = signal(SignalKind::interrupt());
    let term = signal(SignalKind::terminate());
    match (int, term) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::spawn(async move {
                loop {
                    let s = tokio::select! {
                        Some(()) = int.recv() => Signal::Interrupt,
                        Some(()) = term.recv() => Signal::Terminate,
                        else => break,
                    };
                    bump(&tx, s);
                }
            });
        }
        // No signal driver (should not happen on Unix): at least Ctrl-C.
        _ => spawn_ctrl_c(tx),
    }
}

#[cfg(not(unix))]
fn spawn_listener(tx: watch::Sender<Count>) {
    spawn_ctrl_c(tx)
}

fn spawn_ctrl_c(tx: watch::Sender<Count>) {
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            bump(&tx, Signal::Interrupt);
        }
    });
}

/// Counts one more signal, `s` the last.
fn bump(tx: &watch::Sender<Count>, s: Signal) {
    tx.send_modify(|c| {
        c.n += 1;
        c.last = s;
    })
}

/// A waiter for the signals that arrive after it was made.
#[derive(Debug, Clone)]
pub struct Signals {
    rx: watch::Receiver<Count>,
    seen: u64,
}

impl Signals {
    /// Starts listening (installing the handlers on first use). Signals that
    /// arrived before this call are not reported.
    // No `Default`: making one installs the process's signal handlers, which
    // is nothing a default value should do behind a caller's back.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Signals {
        let rx = listener();
        let seen = rx.borrow().n;
        Signals { rx, seen }
    }

    /// Like [`Signals::new`], also reporting a signal that arrived before it
    /// (since the handlers were installed).
    pub fn since_start() -> Signals {
        Signals {
            rx: listener(),
            seen: 0,
        }
    }

    /// The next signal. Cancel-safe: a signal is only counted as seen when
    /// this returns it, so it can sit in a `select!` loop.
    pub async fn next(&mut self) -> Signal {
        let seen = self.seen;
        let got = self.rx.wait_for(|c| c.n > seen).await.map(|c| *c);
        match got {
            Ok(c) => {
                self.seen = c.n;
                c.last
            }
            // The listener is gone (its runtime ended): nothing will come.
            Err(_) => std::future::pending().await,
        }
    }
}

/// Resolves once a SIGINT or SIGTERM has arrived since the handlers were
/// installed (`main` installs them before the command starts), however early:
/// for one-shot commands, whose whole run is one `select!` against it.
/// Installs the handlers now if nobody has, not at the first poll.
pub fn requested() -> impl Future<Output = Signal> + Send + 'static {
    let mut s = Signals::since_start();
    async move { s.next().await }
}

/// Ends the process at once with exit code 130 when `more` signals beyond
/// those seen so far arrive: for a second Ctrl-C while a command is stopping
/// (saying goodbye to a broker that does not answer, say), which must not
/// make the user wait for the deadlines.
pub fn exit_after(more: u64) {
    let mut rx = listener();
    let target = rx.borrow().n + more;
    tokio::spawn(async move {
        if let Ok(c) = rx.wait_for(|c| c.n >= target).await.map(|c| *c) {
            eprintln!("smqctl: {} again: exiting without waiting", c.last.name());
            std::process::exit(130);
        }
    });
}
