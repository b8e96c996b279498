//! Staying connected: [`Session`], one reconnecting connection the caller
//! polls, and the [`Backoff`] (exponential, with jitter) between attempts.
//!
//! A `Session` is driven the way rumqttc drives its `EventLoop`: the caller
//! calls [`Session::poll`] in its own `select!`, beside its timers and its
//! signals, and gets one [`Step`] at a time: about to connect, connected (the
//! caller runs its setup now: subscribe, create...), an event of the live
//! connection, or lost and reconnecting after a delay. No closures are handed
//! in, so a session is `Send` and spawnable; and `poll` is cancel-safe (a
//! dropped poll keeps the backoff deadline; a connect it abandoned finishes in
//! the connection's own task and says goodbye, or, lean, is kept in the
//! session and resumed by the next poll).
//!
//! With [`ClientOptions::lean`] (a fleet's devices) the connection has no task
//! of its own: `poll` serves it in the caller's task (`inline.rs`), so the
//! caller awaits what needs the connection (an ack, a flush, room in a full
//! queue) through [`Session::run_with`], and its goodbyes through the
//! session's own methods.
//!
//! Nothing is replayed behind the caller's back: subscriptions and IDs belong to
//! a connection (a restarted broker hands out new TIDs), so the caller's setup
//! runs again on every [`Step::Connected`]. The rules every caller shares: the
//! first connection is not retried unless [`ReconnectPolicy::retry_first`] (a
//! wrong URL or refused credentials fail at once, not loop), a same-UID
//! takeover ends the session unless [`ReconnectPolicy::end_on_takeover`] is
//! off, an error retrying cannot fix ends it, and only a connection that lasted
//! [`STABLE`] resets the backoff.
//!
//! May import: the client's own items (`Client`, `ClientOptions`, `Event`,
//! `ClientError`); nothing above the client floor (its tests also start the
//! embedded broker, as tests may).

use std::fmt;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;

use super::inline::{Inline, Owned};
use super::{Client, ClientError, ClientOptions, Event};

/// How long a connection must have lasted for the backoff to start over: a
/// broker that accepts and drops at once must not be hammered.
pub const STABLE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
pub struct ReconnectPolicy {
    /// Reconnect after a lost connection at all (`--no-reconnect` turns it off).
    pub enabled: bool,
    pub initial: Duration,
    pub max: Duration,
    /// Retry a failed first connection too (fleet devices); default false: a
    /// wrong URL fails at once.
    pub retry_first: bool,
    /// A same-UID takeover ends the session (default true: two clients with
    /// one UID would take each other over forever); false: reconnect as after
    /// any loss (fleet devices).
    pub end_on_takeover: bool,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            enabled: true,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            retry_first: false,
            end_on_takeover: true,
        }
    }
}

/// Exponential backoff with "equal jitter": half the step fixed, half random, so a
/// fleet that lost its broker together does not come back together.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            attempt: 0,
        }
    }

    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    pub fn next_delay(&mut self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(16)).unwrap_or(u32::MAX);
        let step = self.initial.saturating_mul(factor).min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let half = step / 2;
        half + half.mul_f64(rand::random::<f64>())
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// What one [`Session::poll`] brings.
pub enum Step {
    /// About to connect (`attempt` 0 first, and again after the backoff
    /// started over); [`Session::options_mut`] may still change the options.
    Connecting { attempt: u32 },
    /// Connected. The caller runs its setup now (subscribe, create...), then
    /// keeps polling, or reports a failed setup with [`Session::setup_failed`].
    /// `reconnect`: an earlier connection of this session got that far.
    Connected { client: Client, reconnect: bool },
    /// A message or change of the live connection (its `Closed` never
    /// surfaces: it becomes `Reconnecting`, `Closed` or the error).
    Event(Event),
    /// The connection or an attempt failed; the next poll waits `delay`, then
    /// connects again.
    Reconnecting {
        error: Lost,
        delay: Duration,
        attempt: u32,
    },
    /// Ended by our own Disconnect ([`Session::close`], or a clone of the
    /// client disconnecting); every later poll says so again.
    Closed,
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Connecting { attempt } => write!(f, "Connecting {{ attempt: {attempt} }}"),
            Step::Connected { client, reconnect } => write!(
                f,
                "Connected {{ etid: {}, reconnect: {reconnect} }}",
                client.etid()
            ),
            Step::Event(ev) => write!(f, "Event({ev:?})"),
            Step::Reconnecting {
                error,
                delay,
                attempt,
            } => write!(
                f,
                "Reconnecting {{ error: {error}, delay: {delay:?}, attempt: {attempt} }}"
            ),
            Step::Closed => f.write_str("Closed"),
        }
    }
}

/// Why a connection is gone; its Display is the reason callers print.
#[derive(Debug)]
pub enum Lost {
    /// The connect (TCP, TLS, HTTP, handshake) failed.
    Connect(ClientError),
    /// A live connection ended (the broker's close, a read error, a takeover).
    Dropped(String),
    /// The caller's setup failed ([`Session::setup_failed`]).
    Setup(ClientError),
}

impl fmt::Display for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lost::Connect(e) | Lost::Setup(e) => e.fmt(f),
            Lost::Dropped(reason) => f.write_str(reason),
        }
    }
}

/// A lean connect under way in the caller's task, kept across polls.
type Opening =
    std::pin::Pin<Box<dyn Future<Output = Result<(Client, Box<Inline>), ClientError>> + Send>>;

/// How the live connection is served.
enum Link {
    /// By a task of its own, its events through a queue.
    Task(super::queue::Rx<Event>),
    /// By the caller's task, inside `poll` ([`ClientOptions::lean`]).
    Inline(Owned),
}

enum State {
    /// Connect once this deadline has passed (yielding `Connecting` first).
    Wait(Instant),
    /// `Connecting` was yielded: connect on this poll.
    Connect,
    /// A lean connect under way (a cancelled poll resumes it).
    Opening(Opening),
    Live {
        client: Client,
        link: Link,
        since: Instant,
    },
    /// A failed setup, reported as `Reconnecting` on the next poll.
    Report(Lost),
    /// Closed by us, or ended by an error: later polls yield `Closed`.
    Closed,
}

/// One reconnecting connection, polled by its caller (see the module doc).
pub struct Session {
    /// Shared with the caller's other sessions until changed (a fleet's
    /// devices: one copy between connects, see [`Session::set_options`]).
    opts: Arc<ClientOptions>,
    policy: ReconnectPolicy,
    backoff: Backoff,
    state: State,
    /// A connection's setup succeeded (or is running) in this session.
    established: bool,
    /// `established` before the current connection, restored by a failed setup.
    established_before: bool,
    connects: u32,
}

impl Session {
    /// A session that connects on its first poll.
    pub fn new(opts: impl Into<Arc<ClientOptions>>, policy: ReconnectPolicy) -> Session {
        Session {
            opts: opts.into(),
            policy,
            backoff: Backoff::new(policy.initial, policy.max),
            state: State::Wait(Instant::now()),
            established: false,
            established_before: false,
            connects: 0,
        }
    }

    /// The next step. Cancel-safe: a dropped poll keeps a waiting deadline,
    /// and a connect it abandoned starts again on the next call. An error ends
    /// the session (later polls yield `Closed`).
    pub async fn poll(&mut self) -> Result<Step, ClientError> {
        if let State::Connect = self.state
            && self.opts.lean
        {
            // Connected in this task, the connect kept in the state: a
            // cancelled poll resumes it.
            self.state = State::Opening(Box::pin(Client::open_inline(self.opts.clone())));
        }
        match &mut self.state {
            State::Wait(at) => {
                // Boxed: a timer held only between connections must not
                // size every poll (a fleet's device polls in two places).
                Box::pin(tokio::time::sleep_until(*at)).await;
                self.state = State::Connect;
                Ok(Step::Connecting {
                    attempt: self.backoff.attempt(),
                })
            }
            State::Connect => {
                let opened = Client::connect_queued(&self.opts)
                    .await
                    .map(|(client, events)| (client, Link::Task(events)));
                self.opened(opened)
            }
            State::Opening(opening) => {
                let opened = opening
                    .await
                    .map(|(client, c)| (client, Link::Inline(Owned::new(c))));
                self.opened(opened)
            }
            State::Live { link, since, .. } => {
                let since = *since;
                let event = match link {
                    Link::Task(events) => events.recv().await,
                    Link::Inline(c) => match c.get() {
                        Some(c) => Some(std::future::poll_fn(|cx| c.poll_event(cx)).await),
                        None => None,
                    },
                };
                let (reason, stable) = match event {
                    Some(Event::Closed {
                        reason,
                        by_request,
                        taken_over,
                    }) => {
                        if by_request {
                            self.state = State::Closed;
                            return Ok(Step::Closed);
                        }
                        if taken_over && self.policy.end_on_takeover {
                            self.state = State::Closed;
                            // Two clients with one UID would take each
                            // other over forever; the newer one keeps it.
                            return Err(ClientError::ConnectionLost(format!(
                                "{reason}; not reconnecting, which would take it back (use another --uid)"
                            )));
                        }
                        (reason, since.elapsed() >= STABLE)
                    }
                    Some(ev) => return Ok(Step::Event(ev)),
                    None => (
                        "connection task ended".to_string(),
                        since.elapsed() >= STABLE,
                    ),
                };
                self.lost(Lost::Dropped(reason), stable)
            }
            State::Report(_) => match std::mem::replace(&mut self.state, State::Closed) {
                State::Report(lost) => self.lost(lost, false),
                _ => Ok(Step::Closed),
            },
            State::Closed => Ok(Step::Closed),
        }
    }

    /// A connect's result: live, or the first loss.
    fn opened(&mut self, opened: Result<(Client, Link), ClientError>) -> Result<Step, ClientError> {
        match opened {
            Ok((client, link)) => {
                self.connects += 1;
                let reconnect = self.established;
                self.established_before = self.established;
                self.established = true;
                self.state = State::Live {
                    client: client.clone(),
                    link,
                    since: Instant::now(),
                };
                Ok(Step::Connected { client, reconnect })
            }
            Err(e) => self.lost(Lost::Connect(e), false),
        }
    }

    /// Awaits `f` while serving an inline connection ([`ClientOptions::lean`]):
    /// what a caller awaits of the client (an ack, a flush, room in a full
    /// queue) needs the connection served meanwhile, and the connection is
    /// served by this task. Its events wait for the next [`Session::poll`].
    /// With a connection task of its own (or none), just `f`.
    pub async fn run_with<F: Future>(&mut self, f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(v) = f.as_mut().poll(cx) {
                return Poll::Ready(v);
            }
            if let State::Live {
                link: Link::Inline(c),
                ..
            } = &mut self.state
                && let Some(c) = c.get()
            {
                c.pump(cx);
                // What the connection did may have answered `f`.
                return f.as_mut().poll(cx);
            }
            Poll::Pending
        })
        .await
    }

    /// Ends the session on `lost` when the policy says so, else schedules the
    /// next attempt and reports it.
    fn lost(&mut self, lost: Lost, stable: bool) -> Result<Step, ClientError> {
        if self.is_fatal(&lost) {
            self.state = State::Closed;
            return Err(match lost {
                Lost::Connect(e) | Lost::Setup(e) => e,
                Lost::Dropped(reason) => ClientError::ConnectionLost(reason),
            });
        }
        if stable {
            self.backoff.reset();
        }
        let delay = self.backoff.next_delay();
        self.state = State::Wait(Instant::now() + delay);
        Ok(Step::Reconnecting {
            error: lost,
            delay,
            attempt: self.backoff.attempt(),
        })
    }

    fn is_fatal(&self, lost: &Lost) -> bool {
        if !self.policy.enabled {
            return true;
        }
        match lost {
            Lost::Connect(e) | Lost::Setup(e) => self.ends_on(e),
            Lost::Dropped(_) => false,
        }
    }

    /// A failed connect or setup that ends the session (reconnect enabled).
    fn ends_on(&self, e: &ClientError) -> bool {
        !e.is_retryable() || (!self.established && !self.policy.retry_first)
    }

    /// The live connection's client, if there is one.
    pub fn client(&self) -> Option<&Client> {
        match &self.state {
            State::Live { client, .. } => Some(client),
            _ => None,
        }
    }

    /// The options of the next connect (set them on `Connecting`).
    pub fn options_mut(&mut self) -> &mut ClientOptions {
        Arc::make_mut(&mut self.opts)
    }

    /// Replaces the options of the next connect with shared ones: a fleet
    /// sets each device's own on `Connecting` and puts the fleet's back once
    /// connected, so that a device holds no copy of its own between connects.
    pub fn set_options(&mut self, opts: Arc<ClientOptions>) {
        self.opts = opts;
    }

    /// Connections made so far (whether or not their setup succeeded).
    pub fn connects(&self) -> u32 {
        self.connects
    }

    /// The caller's setup on the current connection failed with `e`: the
    /// connection is closed, and `Err(e)` comes back when `e` is not
    /// retryable, reconnect is off, or no connection has been set up yet and
    /// the policy does not retry the first; else the next poll yields
    /// `Reconnecting` with [`Lost::Setup`].
    pub async fn setup_failed(&mut self, e: ClientError) -> Result<(), ClientError> {
        let was = std::mem::replace(&mut self.state, State::Closed);
        self.established = self.established_before;
        if !self.policy.enabled || self.ends_on(&e) {
            leave(was, "").await;
            return Err(e);
        }
        self.state = State::Report(Lost::Setup(e));
        leave(was, "").await;
        Ok(())
    }

    /// Our own drop (churn, kill, restart): Disconnect with `reason`, and
    /// connect again after `delay` (None: the backoff's next delay). No
    /// `Reconnecting` step follows; the next poll waits, then `Connecting`.
    pub async fn drop_connection(&mut self, reason: &str, delay: Option<Duration>) {
        let was = std::mem::replace(&mut self.state, State::Connect);
        if let State::Live { since, .. } = &was
            && since.elapsed() >= STABLE
        {
            self.backoff.reset();
        }
        let delay = delay.unwrap_or_else(|| self.backoff.next_delay());
        // Set before the Disconnect so that a cancelled drop still waits.
        self.state = State::Wait(Instant::now() + delay);
        // Goodbye in every state, as `close` and `setup_failed` say it: a
        // lean connect under way finishes and leaves with Disconnect too.
        let live = matches!(was, State::Live { .. });
        leave(was, reason).await;
        if live {
            // The delay counts from the broker's close on.
            self.state = State::Wait(Instant::now() + delay);
        }
    }

    /// Sends Disconnect on a live connection (if any) and ends the session:
    /// later polls yield `Closed`.
    pub async fn close(&mut self) {
        leave(std::mem::replace(&mut self.state, State::Closed), "").await;
    }
}

/// Says goodbye on the connection of `was` (Disconnect with `reason`, the
/// broker's close awaited): a live one here; a lean connect still under way
/// finishes in a task of its own, then leaves.
async fn leave(was: State, reason: &str) {
    match was {
        State::Live {
            link: Link::Task(_),
            client,
            ..
        } => client.disconnect(reason).await,
        State::Live {
            link: Link::Inline(mut c),
            ..
        } => {
            if let Some(c) = c.get() {
                c.leave(bytes::Bytes::from(reason.as_bytes().to_vec()))
                    .await;
            }
        }
        State::Opening(opening) => {
            let live = super::live::Membership::join();
            let reason = bytes::Bytes::from(reason.as_bytes().to_vec());
            tokio::spawn(async move {
                if let Ok((_client, mut c)) = opening.await {
                    c.leave(reason).await;
                }
                drop(live);
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_with_jitter_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let d: Vec<Duration> = (0..8).map(|_| b.next_delay()).collect();
        // Step n is min(100ms * 2^n, 2s); the delay lies in [step/2, step].
        for (n, delay) in d.iter().enumerate() {
            let step = Duration::from_millis(100 * (1 << n)).min(Duration::from_secs(2));
            assert!(
                *delay >= step / 2 && *delay <= step,
                "attempt {n}: {delay:?}"
            );
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}

/// Sessions against the embedded broker on 127.0.0.1:0 (and a port nobody
/// listens on). Timeouts only guard against hangs; where a test measures a
/// delay, it bounds it from below exactly and from above generously.
#[cfg(test)]
mod session_tests {
    use std::net::SocketAddr;

    use tokio::net::TcpListener;
    use tokio::sync::oneshot;

    use super::*;
    use crate::transport::Endpoint;

    /// Guard against hangs.
    const LIMIT: Duration = Duration::from_secs(10);

    async fn within<F: std::future::Future>(what: &str, f: F) -> F::Output {
        tokio::time::timeout(LIMIT, f)
            .await
            .unwrap_or_else(|_| panic!("timed out: {what}"))
    }

    /// The embedded broker on a port of its own; it stops when the sender drops.
    async fn broker() -> (SocketAddr, oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let broker = crate::broker::Broker::new(crate::broker::BrokerConfig::default());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            broker
                .run(listener, async {
                    let _ = stopped.await;
                })
                .await
        });
        (addr, stop)
    }

    fn options(addr: SocketAddr, uid: &str) -> ClientOptions {
        let url = format!("http://{addr}/smq/");
        let mut o = ClientOptions::new(Endpoint::parse(&url).expect("url"));
        o.uid = Some(uid.to_string());
        o.connect_timeout = Duration::from_secs(5);
        o
    }

    /// A port that refuses connections: bound to find a free one, then closed.
    async fn refusing() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("addr")
    }

    fn policy(initial: Duration) -> ReconnectPolicy {
        ReconnectPolicy {
            initial,
            max: initial,
            ..ReconnectPolicy::default()
        }
    }

    async fn step(s: &mut Session, what: &str) -> Step {
        within(what, s.poll())
            .await
            .unwrap_or_else(|e| panic!("{what}: session ended: {e}"))
    }

    async fn connected(s: &mut Session) -> (Client, bool) {
        assert!(matches!(
            step(s, "connecting").await,
            Step::Connecting { .. }
        ));
        match step(s, "connected").await {
            Step::Connected { client, reconnect } => (client, reconnect),
            other => panic!("expected Connected, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn first_connect_failure_is_not_retried_unless_retry_first() {
        let addr = refusing().await;
        let fast = policy(Duration::from_millis(20));

        let mut s = Session::new(options(addr, "first-fail-1"), fast);
        assert!(matches!(
            step(&mut s, "connecting").await,
            Step::Connecting { attempt: 0 }
        ));
        let e = within("connect fails", s.poll())
            .await
            .expect_err("refused");
        assert!(matches!(e, ClientError::Transport(_)), "{e}");
        assert!(matches!(step(&mut s, "after the end").await, Step::Closed));

        let retry = ReconnectPolicy {
            retry_first: true,
            ..fast
        };
        let mut s = Session::new(options(addr, "first-fail-2"), retry);
        for attempt in 0..3 {
            match step(&mut s, "connecting").await {
                Step::Connecting { attempt: a } => assert_eq!(a, attempt),
                other => panic!("expected Connecting, got {other:?}"),
            }
            match step(&mut s, "retried").await {
                Step::Reconnecting {
                    error: Lost::Connect(ClientError::Transport(_)),
                    attempt: a,
                    ..
                } => assert_eq!(a, attempt + 1),
                other => panic!("expected Reconnecting, got {other:?}"),
            }
        }

        // A failed setup on the first connection is a first failure too.
        let (addr, _stop) = broker().await;
        let mut s = Session::new(options(addr, "first-setup-1"), fast);
        connected(&mut s).await;
        let e = s
            .setup_failed(ClientError::ConnectionLost("setup broke".into()))
            .await
            .expect_err("first setup failure ends it");
        assert_eq!(e.to_string(), "connection lost: setup broke");
        let mut s = Session::new(options(addr, "first-setup-2"), retry);
        connected(&mut s).await;
        s.setup_failed(ClientError::ConnectionLost("setup broke".into()))
            .await
            .expect("retried");
        match step(&mut s, "reported").await {
            Step::Reconnecting {
                error: Lost::Setup(_),
                ..
            } => {}
            other => panic!("expected Reconnecting after setup, got {other:?}"),
        }
        // That connection did not count: the next one is no reconnect.
        let (_client, reconnect) = connected(&mut s).await;
        assert!(!reconnect);
        // An error retrying cannot fix ends it even with retry_first.
        let e = s
            .setup_failed(ClientError::Invalid("bad name".into()))
            .await
            .expect_err("not retryable");
        assert_eq!(e.to_string(), "bad name");
    }

    #[tokio::test]
    async fn takeover_ends_the_session_unless_told_otherwise() {
        let (addr, _stop) = broker().await;
        let fast = policy(Duration::from_millis(20));

        let mut s = Session::new(options(addr, "taken-over-1"), fast);
        connected(&mut s).await;
        let (_newer, _events) = within(
            "second client",
            Client::connect(&options(addr, "taken-over-1")),
        )
        .await
        .expect("second client connects");
        let e = loop {
            match within("taken over", s.poll()).await {
                Ok(Step::Event(_)) => continue,
                Ok(other) => panic!("expected the end, got {other:?}"),
                Err(e) => break e,
            }
        };
        assert!(
            e.to_string()
                .contains("not reconnecting, which would take it back (use another --uid)"),
            "{e}"
        );
        assert!(matches!(step(&mut s, "after the end").await, Step::Closed));

        let keep = ReconnectPolicy {
            end_on_takeover: false,
            ..fast
        };
        let mut s = Session::new(options(addr, "taken-over-2"), keep);
        let (first, reconnect) = connected(&mut s).await;
        assert!(!reconnect);
        let (_newer, _events) = within(
            "second client",
            Client::connect(&options(addr, "taken-over-2")),
        )
        .await
        .expect("second client connects");
        loop {
            match step(&mut s, "taken over").await {
                Step::Event(_) => continue,
                Step::Reconnecting {
                    error: Lost::Dropped(_),
                    ..
                } => break,
                other => panic!("expected Reconnecting, got {other:?}"),
            }
        }
        let (again, reconnect) = connected(&mut s).await;
        assert!(reconnect, "the second connection is a reconnect");
        assert_eq!(s.connects(), 2);
        assert!(first.is_closed());
        assert!(!again.is_closed());
        s.close().await;
        assert!(matches!(step(&mut s, "closed").await, Step::Closed));
        assert!(s.client().is_none());
    }

    #[tokio::test]
    async fn a_cancelled_poll_keeps_its_backoff_deadline() {
        let addr = refusing().await;
        let slow = ReconnectPolicy {
            retry_first: true,
            ..policy(Duration::from_secs(3))
        };
        let mut s = Session::new(options(addr, "cancelled-1"), slow);
        assert!(matches!(
            step(&mut s, "connecting").await,
            Step::Connecting { .. }
        ));
        let t0 = Instant::now();
        let delay = match step(&mut s, "refused").await {
            Step::Reconnecting { delay, .. } => delay,
            other => panic!("expected Reconnecting, got {other:?}"),
        };
        // Polls given up on (as a select! with a timer arm does), for most
        // of the delay: none may restart the wait.
        while t0.elapsed() < delay.mul_f64(0.9) {
            if let Ok(r) = tokio::time::timeout(Duration::from_millis(50), s.poll()).await {
                let early = t0.elapsed();
                panic!("a poll {early:?} into a delay of {delay:?} returned {r:?}");
            }
        }
        let last = Instant::now();
        assert!(matches!(
            step(&mut s, "connecting again").await,
            Step::Connecting { .. }
        ));
        assert!(t0.elapsed() >= delay, "connected before the delay");
        // A fresh wait would be a whole delay again (at least 1.5 s here).
        assert!(
            last.elapsed() < delay / 2,
            "the last poll waited {:?} of a {delay:?} delay",
            last.elapsed()
        );
    }

    /// A lean session serves its connection in the caller's task: the
    /// setup's ack comes through `run_with`, messages through `poll`, and a
    /// poll that a `select!` drops (here: most of them, after a millisecond)
    /// loses none of them, nor their order; the goodbye of a drop and the
    /// reconnect work as with a connection task.
    #[tokio::test]
    async fn a_lean_session_serves_its_connection_inline_and_a_cancelled_poll_loses_nothing() {
        let (addr, _stop) = broker().await;
        let mut lean = options(addr, "inline-1");
        lean.lean = true;
        let mut s = Session::new(lean, policy(Duration::from_millis(20)));
        let (client, _) = connected(&mut s).await;
        assert!(inline(&s), "a lean session's connection is served inline");
        let tid = within(
            "subscribe",
            s.run_with(client.subscribe_to_events("inline/t")),
        )
        .await
        .expect("subscribed");
        let (publisher, _events) = within("publisher", Client::connect(&options(addr, "inline-p")))
            .await
            .expect("publisher connects");
        let mut watcher = within("watch", publisher.subscribe("inline/t", None))
            .await
            .expect("watching");
        const N: usize = 500;
        for i in 0..N {
            publisher
                .publish(
                    super::super::Dest::Topic("inline/t"),
                    None,
                    bytes::Bytes::from(i.to_string()),
                )
                .await
                .expect("published");
        }
        within("flushed", publisher.flush()).await.expect("flushed");
        let mut got = Vec::new();
        let t0 = Instant::now();
        while got.len() < N {
            assert!(t0.elapsed() < LIMIT, "only {} of {N} messages", got.len());
            match tokio::time::timeout(Duration::from_millis(1), s.poll()).await {
                Err(_) => continue,
                Ok(Ok(Step::Event(Event::Message(m)))) => {
                    assert_eq!(m.tid, tid);
                    got.push(String::from_utf8_lossy(&m.payload).into_owned());
                }
                Ok(Ok(Step::Event(_))) => {}
                Ok(other) => panic!("expected messages, got {other:?}"),
            }
        }
        let want: Vec<String> = (0..N).map(|i| i.to_string()).collect();
        assert_eq!(got, want, "every message, in order");
        // A publish queued by the handle goes out before the drop's goodbye.
        client
            .try_publish_ids(tid, 0, bytes::Bytes::from_static(b"last"))
            .expect("queued");
        within(
            "drop",
            s.drop_connection("churn", Some(Duration::from_millis(50))),
        )
        .await;
        assert!(client.is_closed(), "the dropped connection is closed");
        loop {
            let m = within("the last publish", watcher.rx.recv())
                .await
                .expect("the watcher's subscription lives");
            if &m.payload[..] == b"last" {
                break;
            }
        }
        let (again, reconnect) = connected(&mut s).await;
        assert!(reconnect);
        assert!(inline(&s), "a lean reconnect is served inline too");
        assert!(!again.is_closed());
        within("close", s.close()).await;
        assert!(again.is_closed());
        assert!(matches!(step(&mut s, "closed").await, Step::Closed));
    }

    /// The live connection has no task of its own.
    fn inline(s: &Session) -> bool {
        matches!(
            s.state,
            State::Live {
                link: Link::Inline(_),
                ..
            }
        )
    }

    /// Large frames from a lean handle go out in many writes, most of them
    /// in polls a `select!` then drops: every payload arrives whole and in
    /// order (what a cancelled poll had written of a frame is not lost nor
    /// written twice).
    #[tokio::test]
    async fn a_lean_session_cancelled_every_millisecond_sends_large_frames_whole_and_in_order() {
        let (addr, _stop) = broker().await;
        let (watcher_client, _events) =
            within("watcher", Client::connect(&options(addr, "inline-big-w")))
                .await
                .expect("watcher connects");
        let mut watcher = within("watch", watcher_client.subscribe("inline/big", None))
            .await
            .expect("watching");
        let mut lean = options(addr, "inline-big");
        lean.lean = true;
        let mut s = Session::new(lean, policy(Duration::from_millis(20)));
        let (client, _) = connected(&mut s).await;
        assert!(inline(&s), "a lean session's connection is served inline");
        let tid = within("create", s.run_with(client.create("inline/big")))
            .await
            .expect("created");
        const N: usize = 50;
        let payload = |i: usize| {
            let mut p = vec![(i % 251) as u8; 40_000];
            p[..8].copy_from_slice(&(i as u64).to_be_bytes());
            bytes::Bytes::from(p)
        };
        for i in 0..N {
            client.try_publish_ids(tid, 0, payload(i)).expect("queued");
        }
        let mut got = 0;
        let t0 = Instant::now();
        while got < N {
            assert!(t0.elapsed() < LIMIT, "only {got} of {N} payloads");
            match tokio::time::timeout(Duration::from_millis(1), s.poll()).await {
                Err(_) | Ok(Ok(Step::Event(_))) => {}
                Ok(other) => panic!("expected the connection to stay, got {other:?}"),
            }
            while let Ok(m) = watcher.rx.try_recv() {
                assert!(
                    m.payload == payload(got),
                    "payload {got} arrived damaged or out of order"
                );
                got += 1;
            }
        }
        within("close", s.close()).await;
    }

    /// A fake broker for one raw (`http://`) connection: the HTTP answer and
    /// Init, the client's Connect (then `connect` fires), the Connack once
    /// `release` fires or is dropped; then it reads every packet, answers
    /// none, and hands each to the receiver (which ends with the stream).
    async fn fake_broker(
        release: oneshot::Receiver<()>,
    ) -> (
        SocketAddr,
        oneshot::Receiver<()>,
        tokio::sync::mpsc::UnboundedReceiver<crate::protocol::Packet>,
    ) {
        use crate::protocol::framing::{decode_raw, encode_raw};
        use crate::protocol::{Connack, Init, Packet};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (connect_tx, connect_rx) = oneshot::channel();
        let (seen_tx, seen_rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = bytes::BytesMut::new();
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                if s.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                    return;
                }
            }
            buf.clear();
            let mut hello = b"HTTP/1.1 200 OK\r\nSmqBroker: true\r\n\r\n".to_vec();
            let init = Packet::Init(Init {
                version: 1,
                seed: 7,
                client_ip: bytes::Bytes::from_static(b"127.0.0.1"),
            });
            hello.extend_from_slice(&encode_raw(&init).expect("encodable"));
            if s.write_all(&hello).await.is_err() {
                return;
            }
            loop {
                if let Ok(Some(_connect)) = decode_raw(&mut buf) {
                    break;
                }
                if s.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                    return;
                }
            }
            let _ = connect_tx.send(());
            let _ = release.await;
            let connack = encode_raw(&Packet::Connack(Connack::accepted(50))).expect("encodable");
            if s.write_all(&connack).await.is_err() {
                return;
            }
            loop {
                match decode_raw(&mut buf) {
                    Ok(Some(body)) => {
                        if let Ok(p) = Packet::decode(body) {
                            let _ = seen_tx.send(p);
                        }
                        continue;
                    }
                    Ok(None) => {}
                    Err(_) => return,
                }
                if s.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                    return;
                }
            }
        });
        (addr, connect_rx, seen_rx)
    }

    /// Lean options with a fast keepalive: Ping after 200 ms of silence,
    /// its Pong within 100 ms.
    fn fast_keepalive(addr: SocketAddr, uid: &str) -> ClientOptions {
        let mut o = options(addr, uid);
        o.lean = true;
        o.ping_interval = Duration::from_millis(200);
        o.pong_timeout = Duration::from_millis(100);
        o
    }

    fn no_reconnect() -> ReconnectPolicy {
        ReconnectPolicy {
            enabled: false,
            ..ReconnectPolicy::default()
        }
    }

    /// The inline keepalive against a broker that answers: an idle second
    /// (five Pings) and the connection is still there.
    #[tokio::test]
    async fn a_lean_session_answered_pings_keep_its_idle_connection() {
        let (addr, _stop) = broker().await;
        let mut s = Session::new(fast_keepalive(addr, "keepalive-1"), no_reconnect());
        let (client, _) = connected(&mut s).await;
        assert!(inline(&s));
        match tokio::time::timeout(Duration::from_secs(1), s.poll()).await {
            Err(_) => {}
            Ok(r) => panic!("an idle connection whose Pings are answered ended: {r:?}"),
        }
        assert!(!client.is_closed());
        within("close", s.close()).await;
    }

    /// The inline keepalive against a peer that completed the handshake and
    /// then says nothing, not even a Pong: "no answer to Ping", after the
    /// Ping interval and the Pong timeout, and not much later.
    #[tokio::test]
    async fn a_lean_session_to_a_silent_peer_ends_with_no_answer_to_ping_in_time() {
        let (release, released) = oneshot::channel();
        drop(release);
        let (addr, _connect, mut seen) = fake_broker(released).await;
        let t0 = Instant::now();
        let mut s = Session::new(fast_keepalive(addr, "silent-1"), no_reconnect());
        connected(&mut s).await;
        assert!(inline(&s));
        let e = within("the Pong timeout", s.poll())
            .await
            .expect_err("a silent peer ends the session");
        let took = t0.elapsed();
        assert!(e.to_string().contains("no answer to Ping"), "{e}");
        assert!(took >= Duration::from_millis(300), "ended after {took:?}");
        assert!(took < Duration::from_secs(3), "ended after {took:?}");
        let first = within("the Ping", seen.recv()).await;
        assert!(
            matches!(first, Some(crate::protocol::Packet::Ping)),
            "the peer saw {first:?}"
        );
    }

    /// A drop while a lean connect is under way (its Connect sent, the
    /// Connack still coming) says goodbye as well: the connect finishes,
    /// then leaves with Disconnect, as `close` and `setup_failed` do; no
    /// socket dropped on a broker that may have accepted us.
    #[tokio::test]
    async fn drop_connection_during_a_lean_connect_still_leaves_with_disconnect() {
        let (release, released) = oneshot::channel();
        let (addr, mut connect, mut seen) = fake_broker(released).await;
        let mut lean = options(addr, "opening-1");
        lean.lean = true;
        let mut s = Session::new(lean, policy(Duration::from_millis(20)));
        assert!(matches!(
            step(&mut s, "connecting").await,
            Step::Connecting { .. }
        ));
        // Polls given up on until the Connect is out: the connect is kept.
        let t0 = Instant::now();
        loop {
            assert!(t0.elapsed() < LIMIT, "no Connect");
            if let Ok(r) = tokio::time::timeout(Duration::from_millis(10), s.poll()).await {
                panic!("a step before the Connack: {r:?}");
            }
            if connect.try_recv().is_ok() {
                break;
            }
        }
        assert!(matches!(s.state, State::Opening(_)));
        within(
            "drop",
            s.drop_connection("churn", Some(Duration::from_secs(60))),
        )
        .await;
        let _ = release.send(());
        loop {
            match within("the goodbye", seen.recv()).await {
                Some(crate::protocol::Packet::Disconnect { reason }) => {
                    assert_eq!(&reason[..], b"churn");
                    break;
                }
                Some(_) => {}
                None => panic!("the connect under way was dropped without Disconnect"),
            }
        }
    }

    #[tokio::test]
    async fn drop_connection_reconnects_after_the_given_delay() {
        let (addr, _stop) = broker().await;
        // A backoff far longer than the given delay: the given one must win.
        let mut s = Session::new(options(addr, "dropped-1"), policy(Duration::from_secs(30)));
        let (first, _) = connected(&mut s).await;
        let delay = Duration::from_millis(600);
        let t0 = Instant::now();
        within("drop", s.drop_connection("churn", Some(delay))).await;
        assert!(first.is_closed(), "the dropped connection is closed");
        assert!(s.client().is_none());
        // No Reconnecting step: straight to Connecting, after the delay.
        assert!(matches!(
            step(&mut s, "connecting").await,
            Step::Connecting { .. }
        ));
        assert!(
            t0.elapsed() >= delay,
            "reconnected after {:?}",
            t0.elapsed()
        );
        match step(&mut s, "connected").await {
            Step::Connected { reconnect, .. } => assert!(reconnect),
            other => panic!("expected Connected, got {other:?}"),
        }
        assert!(t0.elapsed() < LIMIT);
        assert_eq!(s.connects(), 2);
    }
}
