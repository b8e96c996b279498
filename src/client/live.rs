//! Every live connection of the process, so that none is cut off by the exit.
//!
//! A connection task says goodbye (Disconnect, then the WebSocket close
//! handshake or a TCP shutdown, waiting for the broker's side) when its handles
//! are dropped or asked to; but a process that returns from `main` stops its
//! runtime at once, and a task that had not run yet leaves the broker with
//! "Connection reset without closing handshake". [`close_all`] is the binary's
//! last step: it asks every connection still open to leave and waits, within a
//! deadline, until each has. Each connection task holds a receiver of one
//! process-wide watch channel; the channel's receiver count is the number of
//! live connections.

use std::sync::LazyLock;
use std::time::Duration;

use tokio::sync::watch;

static LIVE: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::channel(false).0);

/// A connection's membership: dropped when its socket is closed.
pub(super) struct Membership(watch::Receiver<bool>);

impl Membership {
    pub(super) fn join() -> Membership {
        Membership(LIVE.subscribe())
    }

    /// A membership of a channel of the test's own (the process-wide one
    /// is shared by every test running at once).
    #[cfg(test)]
    pub(super) fn of(rx: watch::Receiver<bool>) -> Membership {
        Membership(rx)
    }

    /// Resolves when the process is about to exit ([`close_all`]).
    pub(super) async fn closing(&mut self) {
        if self.0.wait_for(|closing| *closing).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Asks every open connection to send Disconnect and close properly, and waits
/// until all have (true) or `deadline` has passed (false). For the end of the
/// process: connections opened afterwards close at once.
pub async fn close_all(deadline: Duration) -> bool {
    LIVE.send_replace(true);
    tokio::time::timeout(deadline, LIVE.closed()).await.is_ok()
}
