//! The queues between a connection task and its handles: commands in, events
//! out. Either a tokio `mpsc` channel (the default: fast, but it allocates a
//! block of 32 slots the moment it is created, 5 KiB for commands and 3 KiB
//! for events) or a lean queue ([`ClientOptions::lean`](super::ClientOptions))
//! that holds memory only while it holds items: a `VecDeque` behind a mutex,
//! released whenever it runs empty. Fleets of simulated devices, each carrying
//! a message a second, use the lean one; they pay an allocation per message
//! instead of 8 KiB per connection.
//!
//! Both keep tokio's semantics: bounded, `send` waits for room, `try_send`
//! says Full or Closed, `recv` yields `None` once every sender is gone (or the
//! receiver closed) and the queue is drained, and `recv` is cancel-safe.
//!
//! May import: nothing of the crate (tokio and futures only).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

use futures_util::task::AtomicWaker;
use tokio::sync::{Notify, mpsc};

pub use tokio::sync::mpsc::error::TrySendError;

/// A queue's two ends, the kind chosen by `lean`.
pub fn queue<T>(capacity: usize, lean: bool) -> (Tx<T>, Rx<T>) {
    if lean {
        let shared = Arc::new(Lean {
            inner: Mutex::new(Inner {
                items: VecDeque::new(),
                capacity: capacity.max(1),
                senders: 1,
                closed: false,
            }),
            receiver: AtomicWaker::new(),
            space: Notify::new(),
        });
        (Tx::Lean(LeanTx(shared.clone())), Rx::Lean(LeanRx(shared)))
    } else {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Tx::Tokio(tx), Rx::Tokio(rx))
    }
}

struct Inner<T> {
    items: VecDeque<T>,
    capacity: usize,
    senders: usize,
    /// The receiver closed or is gone: sends fail.
    closed: bool,
}

struct Lean<T> {
    inner: Mutex<Inner<T>>,
    receiver: AtomicWaker,
    /// Senders waiting for room.
    space: Notify,
}

impl<T> Lean<T> {
    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // Plain data: a panic elsewhere leaves it usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct LeanTx<T>(Arc<Lean<T>>);
pub struct LeanRx<T>(Arc<Lean<T>>);

impl<T> Clone for LeanTx<T> {
    fn clone(&self) -> Self {
        self.0.lock().senders += 1;
        LeanTx(self.0.clone())
    }
}

impl<T> Drop for LeanTx<T> {
    fn drop(&mut self) {
        let last = {
            let mut g = self.0.lock();
            g.senders -= 1;
            g.senders == 0
        };
        if last {
            self.0.receiver.wake();
        }
    }
}

impl<T> Drop for LeanRx<T> {
    fn drop(&mut self) {
        // Items still queued go with it (as tokio's do), and senders fail.
        let items = {
            let mut g = self.0.lock();
            g.closed = true;
            std::mem::take(&mut g.items)
        };
        self.0.space.notify_waiters();
        drop(items);
    }
}

impl<T> LeanTx<T> {
    fn try_push(&self, v: T) -> Result<(), TrySendError<T>> {
        {
            let mut g = self.0.lock();
            if g.closed {
                return Err(TrySendError::Closed(v));
            }
            if g.items.len() >= g.capacity {
                return Err(TrySendError::Full(v));
            }
            g.items.push_back(v);
        }
        self.0.receiver.wake();
        Ok(())
    }

    async fn send(&self, v: T) -> Result<(), T> {
        let mut v = v;
        loop {
            // Registered before looking, so a pop in between wakes us.
            let room = self.0.space.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            match self.try_push(v) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(back)) => return Err(back),
                Err(TrySendError::Full(back)) => v = back,
            }
            room.await;
        }
    }
}

impl<T> LeanRx<T> {
    fn pop(&self, g: &mut Inner<T>) -> Option<T> {
        let v = g.items.pop_front()?;
        if g.items.is_empty() {
            // Nothing held while nothing is queued.
            g.items = VecDeque::new();
        }
        Some(v)
    }

    fn try_recv(&self) -> Option<T> {
        let v = self.pop(&mut self.0.lock());
        if v.is_some() {
            self.0.space.notify_waiters();
        }
        v
    }

    fn poll_recv(&self, cx: &mut std::task::Context<'_>) -> Poll<Option<T>> {
        if let Some(v) = self.try_recv() {
            return Poll::Ready(Some(v));
        }
        self.0.receiver.register(cx.waker());
        let (v, done) = {
            let mut g = self.0.lock();
            let v = self.pop(&mut g);
            let done = v.is_none() && (g.senders == 0 || g.closed);
            (v, done)
        };
        match v {
            Some(v) => {
                self.0.space.notify_waiters();
                Poll::Ready(Some(v))
            }
            None if done => Poll::Ready(None),
            None => Poll::Pending,
        }
    }

    fn close(&self) {
        self.0.lock().closed = true;
        self.0.space.notify_waiters();
    }
}

/// The sending end (cloneable).
pub enum Tx<T> {
    Tokio(mpsc::Sender<T>),
    Lean(LeanTx<T>),
}

impl<T> Clone for Tx<T> {
    fn clone(&self) -> Self {
        match self {
            Tx::Tokio(t) => Tx::Tokio(t.clone()),
            Tx::Lean(t) => Tx::Lean(t.clone()),
        }
    }
}

impl<T> Tx<T> {
    /// Waits for room; `Err` gives the item back when the receiver is gone.
    pub async fn send(&self, v: T) -> Result<(), T> {
        match self {
            Tx::Tokio(t) => t.send(v).await.map_err(|e| e.0),
            Tx::Lean(t) => t.send(v).await,
        }
    }

    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        match self {
            Tx::Tokio(t) => t.try_send(v),
            Tx::Lean(t) => t.try_push(v),
        }
    }

    /// The receiver is gone or closed.
    pub fn is_closed(&self) -> bool {
        match self {
            Tx::Tokio(t) => t.is_closed(),
            Tx::Lean(t) => t.0.lock().closed,
        }
    }
}

/// The receiving end.
pub enum Rx<T> {
    Tokio(mpsc::Receiver<T>),
    Lean(LeanRx<T>),
}

impl<T> Rx<T> {
    /// The next item; `None` once closed (or every sender gone) and drained.
    /// Cancel-safe.
    pub async fn recv(&mut self) -> Option<T> {
        match self {
            Rx::Tokio(r) => r.recv().await,
            Rx::Lean(r) => poll_fn(|cx| r.poll_recv(cx)).await,
        }
    }

    /// [`Rx::recv`] as a poll (a connection driven by its owner's task).
    pub fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Option<T>> {
        match self {
            Rx::Tokio(r) => r.poll_recv(cx),
            Rx::Lean(r) => r.poll_recv(cx),
        }
    }

    pub fn try_recv(&mut self) -> Option<T> {
        match self {
            Rx::Tokio(r) => r.try_recv().ok(),
            Rx::Lean(r) => r.try_recv(),
        }
    }

    /// No more sends; what is queued can still be received.
    pub fn close(&mut self) {
        match self {
            Rx::Tokio(r) => r.close(),
            Rx::Lean(r) => r.close(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn lean_queue_keeps_order_bounds_waits_for_room_and_ends_with_its_senders() {
        let (tx, mut rx) = queue::<u32>(2, true);
        tx.send(1).await.expect("room");
        tx.try_send(2).expect("room");
        assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
        // A send on a full queue waits until the receiver takes one.
        let tx2 = tx.clone();
        let waiting = tokio::spawn(async move { tx2.send(3).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "a full queue makes send wait");
        assert_eq!(rx.recv().await, Some(1));
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("room made")
            .expect("join")
            .expect("sent");
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.try_recv(), Some(3));
        assert_eq!(rx.try_recv(), None);
        drop(tx);
        assert_eq!(rx.recv().await, None, "every sender gone: the end");
    }

    #[tokio::test]
    async fn lean_queue_holds_no_memory_while_empty_and_fails_sends_once_closed() {
        let (tx, mut rx) = queue::<[u8; 100]>(8, true);
        let capacity = |rx: &Rx<[u8; 100]>| match rx {
            Rx::Lean(r) => r.0.lock().items.capacity(),
            Rx::Tokio(_) => unreachable!("a lean queue"),
        };
        assert_eq!(capacity(&rx), 0, "nothing allocated before the first item");
        tx.send([1; 100]).await.expect("room");
        assert!(capacity(&rx) > 0);
        assert_eq!(rx.recv().await.map(|v| v[0]), Some(1));
        assert_eq!(capacity(&rx), 0, "released once drained");
        rx.close();
        assert!(tx.is_closed());
        assert!(tx.send([2; 100]).await.is_err());
        assert!(matches!(
            tx.try_send([3; 100]),
            Err(TrySendError::Closed(_))
        ));
        drop(rx);
        let (tx, rx) = queue::<u8>(8, true);
        drop(rx);
        assert!(tx.is_closed() && tx.send(1).await.is_err());
    }

    #[tokio::test]
    async fn lean_recv_wakes_on_a_send_from_another_task() {
        let (tx, mut rx) = queue::<u32>(4, true);
        let t = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            tx.send(7).await.expect("room");
        });
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("woken by the send");
        assert_eq!(got, Some(7));
        t.await.expect("join");
        assert_eq!(
            tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("woken by the last sender's drop"),
            None
        );
    }
}
