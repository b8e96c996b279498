//! Staying connected: exponential backoff with jitter, and [`run_session`], which
//! connects, runs the caller's setup, feeds it events, and on a lost connection
//! waits and does it all again.
//!
//! Nothing is replayed behind the caller's back: subscriptions and IDs belong to a
//! connection (a restarted broker hands out new TIDs), so the caller's setup runs
//! again on every new connection and the caller sees `Reconnecting`/`Ready` events.

use std::ops::ControlFlow;
use std::time::Duration;

use super::{Client, ClientError, ClientOptions, Event};

/// How long a connection must have lasted for the backoff to start over.
const STABLE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
pub struct ReconnectPolicy {
    pub enabled: bool,
    pub initial: Duration,
    pub max: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            enabled: true,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
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

/// Runs a session that survives lost connections.
///
/// `setup` runs after every successful connection (subscribe, create, ...);
/// `on_event` sees every event, including `Ready` and `Reconnecting`, and returns
/// `Break` to end the session (the client then disconnects politely). The first
/// connection attempt is not retried: a wrong URL or refused credentials should
/// fail at once, not loop.
pub async fn run_session<S, H>(
    opts: &ClientOptions,
    policy: ReconnectPolicy,
    mut setup: S,
    mut on_event: H,
) -> Result<(), ClientError>
where
    S: AsyncFnMut(&Client) -> Result<(), ClientError>,
    H: AsyncFnMut(&Client, Event) -> ControlFlow<()>,
{
    let mut backoff = Backoff::new(policy.initial, policy.max);
    let mut last: Option<Client> = None;
    loop {
        let attempt = async {
            let (client, events) = Client::connect(opts).await?;
            setup(&client).await?;
            Ok::<_, ClientError>((client, events))
        }
        .await;
        let error = match attempt {
            Ok((client, mut events)) => {
                let reconnect = last.is_some();
                last = Some(client.clone());
                let connected_at = std::time::Instant::now();
                let ready = Event::Ready {
                    etid: client.etid(),
                    reconnect,
                };
                if on_event(&client, ready).await.is_break() {
                    client.disconnect("").await;
                    return Ok(());
                }
                let reason = loop {
                    match events.recv().await {
                        None => break "connection task ended".to_string(),
                        Some(Event::Closed {
                            reason,
                            by_request,
                            taken_over,
                        }) => {
                            if by_request {
                                return Ok(());
                            }
                            if taken_over {
                                // Two clients with one UID would take each other
                                // over forever; the newer one keeps it.
                                return Err(ClientError::ConnectionLost(format!(
                                    "{reason}; not reconnecting, which would take it back (use another --uid)"
                                )));
                            }
                            break reason;
                        }
                        Some(ev) => {
                            if on_event(&client, ev).await.is_break() {
                                client.disconnect("").await;
                                return Ok(());
                            }
                        }
                    }
                };
                if !policy.enabled {
                    return Err(ClientError::ConnectionLost(reason));
                }
                // Only a connection that lasted resets the backoff: a broker that
                // accepts and drops at once must not be hammered.
                if connected_at.elapsed() >= STABLE {
                    backoff.reset();
                }
                reason
            }
            Err(e) => {
                if last.is_none() || !policy.enabled || !e.is_retryable() {
                    return Err(e);
                }
                e.to_string()
            }
        };
        let delay = backoff.next_delay();
        if let Some(client) = &last {
            let ev = Event::Reconnecting {
                error,
                delay,
                attempt: backoff.attempt(),
            };
            if on_event(client, ev).await.is_break() {
                return Ok(());
            }
        }
        tokio::time::sleep(delay).await;
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
