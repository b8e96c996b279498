//! The listener [`crate::broker::listen`] binds: its backlog.

use std::time::Duration;

use tokio::net::TcpStream;

#[test]
fn listen_backlog_is_4096_capped_by_somaxconn() {
    use crate::broker::backlog_within;
    assert_eq!(backlog_within(Some(4096)), 4096);
    assert_eq!(backlog_within(Some(65535)), 4096);
    assert_eq!(backlog_within(Some(200)), 200);
    // Unreadable or nonsense: ask for ours, the kernel caps it anyway.
    assert_eq!(backlog_within(None), 4096);
    assert_eq!(backlog_within(Some(0)), 4096);
}

/// Issue 10: with the default backlog of 128, a burst of connects overflowed
/// the accept queue (SYNs dropped, 1 s retries). Nobody accepts here, so every
/// connect must complete from the kernel's queue alone.
#[tokio::test]
async fn listener_queues_a_burst_of_600_connects_nobody_accepted_yet() {
    const BURST: usize = 600;
    let backlog = crate::broker::listen_backlog() as usize;
    if backlog < BURST {
        eprintln!(
            "SKIPPED: net.core.somaxconn caps the backlog at {backlog}, below the {BURST} this test needs"
        );
        return;
    }
    let listener = crate::broker::listen("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut conns = Vec::with_capacity(BURST);
    for i in 0..BURST {
        let c = tokio::time::timeout(Duration::from_secs(3), TcpStream::connect(addr))
            .await
            .unwrap_or_else(|_| panic!("connect {i} waited: the accept queue was full"))
            .expect("connect");
        conns.push(c);
    }
    drop(listener);
}
