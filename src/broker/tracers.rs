//! Tracers attached to the embedded broker: who may attach, the bounded queue of
//! schema events each one has, and the task that writes them to its socket.
//!
//! The router builds a [`schema::Event`] (names resolved from its own tables)
//! only when somebody listens, as one shared [`Record`], and offers it to every
//! tracer's queue without waiting ([`Tracers::emit`]; broker-local kinds never
//! come here). A tracer whose queue is full loses
//! the event and the loss is counted; once its queue has room again it first
//! receives a `notice` event carrying the count. A [`Pump`] per tracer turns
//! events into JSON and queues them straight into the tracer's outbox (never
//! through routing, so trace messages never produce trace events), waiting
//! while that outbox is full: a slow tracer slows only its own pump, and its
//! pump's queue is bounded, so the broker neither blocks nor grows.
//!
//! May import: `protocol` (the payload limit), `trace::schema`, the leaves
//! `broker::{outbox, events}`. No sockets.

use std::cell::Cell;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::events::Record;
use super::outbox::{Outbox, Sent, publish_body};
use crate::trace::schema::{self, Event, Kind};

/// Events a tracer may have waiting before further ones are skipped (counted).
pub(crate) const TRACER_QUEUE: usize = 4096;
/// How long a pump waits before retrying a full outbox.
const FULL_RETRY: Duration = Duration::from_millis(5);

/// Which peers may attach a tracer (`smqctl broker --trace-allow`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TraceAllow {
    /// Loopback peers only (127.0.0.0/8, ::1).
    #[default]
    Loopback,
    /// Any peer.
    Any,
    /// Loopback peers and these networks.
    Nets(Vec<IpNet>),
}

/// An address range in CIDR notation (`10.0.0.0/8`, `fd00::/8`, or a single address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Result<IpNet, String> {
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = ip
            .trim()
            .parse()
            .map_err(|_| format!("'{s}' is not an IP address or CIDR range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.trim().parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("'{s}': the prefix length must be 0 to {max}")),
            },
        };
        Ok(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) as plain IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl TraceAllow {
    /// `loopback`, `any`, or a comma-separated list of addresses/CIDR ranges
    /// (loopback stays allowed).
    pub fn parse(s: &str) -> Result<TraceAllow, String> {
        match s.trim() {
            "loopback" | "" => Ok(TraceAllow::Loopback),
            "any" | "all" => Ok(TraceAllow::Any),
            list => list
                .split(',')
                .map(IpNet::parse)
                .collect::<Result<Vec<_>, _>>()
                .map(TraceAllow::Nets),
        }
    }

    /// Whether a peer at `ip` may attach.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match self {
            TraceAllow::Any => true,
            TraceAllow::Loopback => ip.is_loopback(),
            TraceAllow::Nets(nets) => ip.is_loopback() || nets.iter().any(|n| n.contains(ip)),
        }
    }
}

/// An event waiting in a tracer's queue: the router's [`Record`], shared with
/// the other tracers and the log. Its time and payload preview are rendered
/// by the tracer's pump, outside the router lock: under the lock the router
/// only resolves names and clones a few strings.
pub(crate) type Queued = Arc<Record>;

/// One attached tracer as the router sees it.
struct Link {
    etid: u32,
    tx: mpsc::Sender<Queued>,
    /// Events lost since the last notice (the router is behind a lock, so a
    /// `Cell` is enough).
    skipped: Cell<u64>,
}

impl Link {
    /// Queues `rec`, first owning up to earlier losses; never waits.
    fn offer(&self, rec: &Queued) {
        let pending = self.skipped.get();
        if pending > 0 {
            let mut notice = Event::new(Kind::Notice, String::new());
            notice.skipped = Some(pending);
            notice.reason = Some(format!(
                "{pending} event(s) skipped: this tracer did not keep up"
            ));
            let notice = Record {
                at: rec.at,
                ..Record::new(notice, None, None)
            };
            if self.tx.try_send(Arc::new(notice)).is_err() {
                self.skipped.set(pending + 1);
                return;
            }
            self.skipped.set(0);
        }
        if self.tx.try_send(rec.clone()).is_err() {
            self.skipped.set(self.skipped.get() + 1);
        }
    }
}

/// Every attached tracer.
#[derive(Default)]
pub(crate) struct Tracers {
    links: Vec<Link>,
}

impl Tracers {
    /// The hot-path check: nothing else is done while this is true.
    pub(crate) fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Tracers attached now.
    pub(crate) fn len(&self) -> usize {
        self.links.len()
    }

    /// Registers (or re-registers) the tracer at `etid`; its events arrive on
    /// the returned receiver; the preview size is what `req` may have
    /// ([`schema::AttachRequest::preview_limit`]).
    pub(crate) fn attach(
        &mut self,
        etid: u32,
        req: &schema::AttachRequest,
    ) -> (mpsc::Receiver<Queued>, usize) {
        self.detach(etid);
        let (tx, rx) = mpsc::channel(TRACER_QUEUE);
        self.links.push(Link {
            etid,
            tx,
            skipped: Cell::new(0),
        });
        (rx, req.preview_limit())
    }

    /// Forgets the tracer at `etid` (its pump ends after what it has queued).
    pub(crate) fn detach(&mut self, etid: u32) -> bool {
        let before = self.links.len();
        self.links.retain(|l| l.etid != etid);
        self.links.len() != before
    }

    #[cfg(test)]
    pub(crate) fn is_attached(&self, etid: u32) -> bool {
        self.links.iter().any(|l| l.etid == etid)
    }

    /// Offers `rec` to every tracer; its payload becomes each one's preview.
    pub(crate) fn emit(&self, rec: &Queued) {
        debug_assert!(!rec.event.kind.is_local(), "{}", rec.event.kind);
        for link in &self.links {
            link.offer(rec);
        }
    }

    /// Offers `ev` to one tracer only (its snapshot).
    pub(crate) fn emit_to(&self, etid: u32, ev: Event) {
        if let Some(link) = self.links.iter().find(|l| l.etid == etid) {
            link.offer(&Arc::new(Record::new(ev, None, None)));
        }
    }

    #[cfg(test)]
    pub(crate) fn skipped(&self, etid: u32) -> Option<u64> {
        self.links
            .iter()
            .find(|l| l.etid == etid)
            .map(|l| l.skipped.get())
    }
}

/// Writes one tracer's events into its outbox as Publish messages
/// (sub-topic [`schema::SUB_EVENTS`], from the server ETID).
pub(crate) struct Pump {
    pub(crate) rx: mpsc::Receiver<Queued>,
    /// Payload bytes kept in each preview.
    pub(crate) preview: usize,
    pub(crate) outbox: Outbox,
    /// The tracer's ETID.
    pub(crate) tid: u32,
    /// The server ETID.
    pub(crate) ptid: u32,
    /// The ID of [`schema::SUB_EVENTS`].
    pub(crate) subtid: u32,
    /// The schema version the tracer asked for (a version-1 tracer reads a
    /// `json` payload as a string).
    pub(crate) version: u32,
}

impl Pump {
    /// Runs until the tracer detaches or disconnects.
    pub(crate) async fn run(mut self) {
        while let Some(q) = self.rx.recv().await {
            let Some(body) = self.fitted(q) else {
                continue;
            };
            loop {
                match self.outbox.send_body(body.clone()) {
                    Sent::Ok => break,
                    Sent::Closed => return,
                    Sent::Full => {
                        if self.rx.is_closed() {
                            return; // detached or gone while its socket stalled
                        }
                        tokio::time::sleep(FULL_RETRY).await;
                    }
                }
            }
        }
    }
}

impl Pump {
    /// The Publish body carrying `q`'s event with as much of its payload as
    /// the preview size allows and one message can carry: an event too big
    /// at the full preview is cut (halving the preview, marked `truncated`)
    /// until it fits, never skipped for its payload. `None` only when even
    /// no payload at all does not fit.
    fn fitted(&self, q: Queued) -> Option<bytes::Bytes> {
        let mut preview = self.preview;
        loop {
            let ev = q.clone().into_event(preview);
            if let Some(body) = encode(&ev, self.version, self.tid, self.ptid, self.subtid) {
                return Some(body);
            }
            if preview == 0 || ev.payload.is_none() {
                return None;
            }
            preview /= 2;
        }
    }
}

/// The Publish body carrying `ev` in schema `version`, or `None` when it would
/// exceed one message.
pub(crate) fn encode(
    ev: &Event,
    version: u32,
    tid: u32,
    ptid: u32,
    subtid: u32,
) -> Option<bytes::Bytes> {
    let json = serde_json::to_vec(&schema::Versioned(ev, version)).ok()?;
    (json.len() <= crate::protocol::MAX_PAYLOAD).then(|| publish_body(tid, ptid, subtid, &json))
}

/// Whether a sub-topic name belongs to the tracing machinery.
pub(crate) fn reserved_name(name: &[u8]) -> bool {
    name.starts_with(schema::RESERVED_PREFIX.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(preview: usize, full: bool) -> schema::AttachRequest {
        schema::AttachRequest {
            preview,
            full,
            ..schema::AttachRequest::default()
        }
    }

    fn take(rx: &mut mpsc::Receiver<Queued>, preview: usize) -> Event {
        rx.try_recv().expect("queued").into_event(preview)
    }

    fn ev(n: u32) -> Queued {
        let mut e = Event::new(Kind::Publish, format!("t{n}"));
        e.subtid = Some(n);
        Arc::new(Record::new(e, None, None))
    }

    #[test]
    fn allow_lists_parse_and_widen_loopback() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let lo = TraceAllow::default();
        assert!(lo.permits(ip("127.0.0.1")));
        assert!(lo.permits(ip("::1")));
        assert!(lo.permits(ip("::ffff:127.0.0.1")));
        assert!(!lo.permits(ip("192.168.1.20")), "not authorized by default");
        let nets = TraceAllow::parse("10.0.0.0/8, fd00::/8").expect("parses");
        assert!(nets.permits(ip("10.1.2.3")));
        assert!(nets.permits(ip("::ffff:10.1.2.3")));
        assert!(nets.permits(ip("fd12::1")));
        assert!(nets.permits(ip("127.0.0.1")));
        assert!(!nets.permits(ip("11.0.0.1")));
        let one = TraceAllow::parse("192.168.1.20").expect("parses");
        assert!(one.permits(ip("192.168.1.20")) && !one.permits(ip("192.168.1.21")));
        assert!(
            TraceAllow::parse("any")
                .expect("any")
                .permits(ip("8.8.8.8"))
        );
        assert!(
            TraceAllow::parse("0.0.0.0/0")
                .expect("all v4")
                .permits(ip("8.8.8.8"))
        );
        assert!(TraceAllow::parse("10.0.0.0/33").is_err());
        assert!(TraceAllow::parse("nonsense").is_err());
    }

    #[test]
    fn an_ipv6_range_admits_its_own_addresses_only() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let nets = TraceAllow::parse("fd00::/8").expect("parses");
        assert!(nets.permits(ip("fd12::1")) && nets.permits(ip("fdff:ffff::1")));
        assert!(
            !nets.permits(ip("fe80::1")),
            "link-local is outside fd00::/8"
        );
        assert!(!nets.permits(ip("2001:db8::1")));
        assert!(
            !nets.permits(ip("10.1.2.3")),
            "an IPv4 peer is not in a v6 range"
        );
        let one = TraceAllow::parse("2001:db8::7").expect("one address");
        assert!(one.permits(ip("2001:db8::7")) && !one.permits(ip("2001:db8::8")));
    }

    #[test]
    fn a_full_tracer_queue_skips_and_later_says_how_many() {
        let mut t = Tracers::default();
        let (mut rx, _) = t.attach(7, &req(16, false));
        for n in 0..TRACER_QUEUE as u32 + 5 {
            t.emit(&ev(n));
        }
        assert_eq!(t.skipped(7), Some(5), "5 events did not fit");
        // The tracer catches up on everything queued...
        for n in 0..TRACER_QUEUE as u32 {
            assert_eq!(take(&mut rx, 16).subtid, Some(n));
        }
        // ...and the next event is preceded by a notice with the count.
        t.emit(&ev(99));
        let notice = take(&mut rx, 16);
        assert_eq!((notice.kind, notice.skipped), (Kind::Notice, Some(5)));
        assert!(notice.timestamp().is_some(), "the pump stamps the time");
        assert_eq!(take(&mut rx, 16).subtid, Some(99));
        assert_eq!(t.skipped(7), Some(0));
    }

    #[test]
    fn the_skip_notice_carries_the_time_of_the_event_it_comes_before() {
        let mut t = Tracers::default();
        let (mut rx, _) = t.attach(7, &req(16, false));
        for n in 0..TRACER_QUEUE as u32 + 1 {
            t.emit(&ev(n));
        }
        for _ in 0..TRACER_QUEUE {
            rx.try_recv().expect("queued");
        }
        let at = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        let rec = Arc::new(Record {
            at,
            ..Record::new(Event::new(Kind::Publish, String::new()), None, None)
        });
        t.emit(&rec);
        let notice = rx.try_recv().expect("the notice");
        assert_eq!((notice.event.kind, notice.at), (Kind::Notice, at));
        assert_eq!(rx.try_recv().expect("the event").at, at);
    }

    #[test]
    fn len_counts_the_tracers_attached_now() {
        let mut t = Tracers::default();
        assert_eq!(t.len(), 0);
        let _a = t.attach(7, &req(16, false));
        let _b = t.attach(8, &req(16, false));
        let _c = t.attach(7, &req(16, false)); // a re-attach, not a third
        assert_eq!(t.len(), 2);
        t.detach(8);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn notice_that_does_not_fit_keeps_counting() {
        let mut t = Tracers::default();
        let (mut rx, _) = t.attach(7, &req(16, false));
        for n in 0..TRACER_QUEUE as u32 + 2 {
            t.emit(&ev(n));
        }
        rx.try_recv().expect("one slot frees");
        t.emit(&ev(1000)); // the notice takes the slot, the event is lost
        assert_eq!(t.skipped(7), Some(1));
        for _ in 1..TRACER_QUEUE {
            rx.try_recv().expect("queued");
        }
        let notice = take(&mut rx, 16);
        assert_eq!(notice.skipped, Some(2));
    }

    #[test]
    fn a_v1_tracer_gets_the_json_payload_as_a_string_and_a_v2_tracer_the_value() {
        let e = Event::new(Kind::Publish, "t".into()).with_payload(br#"{"On":true}"#, 256);
        let body = |v: u32| -> serde_json::Value {
            let b = encode(&e, v, 5, 1, 3).expect("fits");
            serde_json::from_slice(&b[1 + crate::protocol::PUBLISH_HEADER_LEN..]).expect("json")
        };
        let (v1, v2) = (body(1), body(2));
        assert_eq!(
            (&v1["v"], &v1["payload"]),
            (&1.into(), &r#"{"On":true}"#.into())
        );
        assert_eq!((&v2["v"], &v2["payload"]["On"]), (&2.into(), &true.into()));
        assert_eq!(
            body(9)["v"],
            schema::VERSION,
            "a newer tracer gets this build's newest"
        );
    }

    #[test]
    fn previews_are_cut_per_tracer() {
        let mut t = Tracers::default();
        let (mut small, ps) = t.attach(1, &req(2, false));
        let (mut big, pb) = t.attach(2, &req(schema::MAX_PREVIEW + 1, false));
        assert_eq!((ps, pb), (2, schema::MAX_PREVIEW), "previews are capped");
        t.emit(&Arc::new(Record::new(
            Event::new(Kind::Publish, "t".into()),
            Some(bytes::Bytes::from_static(b"hello")),
            None,
        )));
        let s = take(&mut small, ps);
        let b = take(&mut big, pb);
        assert_eq!((s.payload.as_deref(), s.truncated), (Some("he"), true));
        assert_eq!((b.payload.as_deref(), b.truncated), (Some("hello"), false));
        assert_eq!(s.size, Some(5));
        assert!(t.detach(1) && !t.detach(1));
        assert!(!t.is_attached(1) && t.is_attached(2));
    }

    #[test]
    fn a_full_tracer_gets_whole_payloads_and_one_too_big_for_a_message_cut_to_fit_not_skipped() {
        let mut t = Tracers::default();
        let (_rx, limit) = t.attach(3, &req(usize::MAX, true));
        assert_eq!(
            limit,
            schema::MAX_FULL_PREVIEW,
            "full previews go to one message"
        );
        let (_rx, limit) = t.attach(4, &req(usize::MAX, false));
        assert_eq!(
            limit,
            schema::MAX_PREVIEW,
            "an ordinary tracer keeps the old cap"
        );
        let (tx, rx) = mpsc::channel(4);
        let pump = Pump {
            rx,
            preview: schema::MAX_FULL_PREVIEW,
            outbox: Outbox::new(false).0,
            tid: 5,
            ptid: 1,
            subtid: 3,
            version: schema::VERSION,
        };
        let event_of = |payload: Vec<u8>| -> Event {
            let q = Arc::new(Record::new(
                Event::new(Kind::Publish, "t".into()),
                Some(bytes::Bytes::from(payload)),
                None,
            ));
            let body = pump.fitted(q).expect("an event, not a skip");
            let json = &body[1 + crate::protocol::PUBLISH_HEADER_LEN..];
            assert!(
                json.len() <= crate::protocol::MAX_PAYLOAD,
                "fits one message"
            );
            serde_json::from_slice(json).expect("event")
        };
        // 40 000 bytes of text: above MAX_PREVIEW, whole in a full event.
        let text = vec![b'a'; 40_000];
        let e = event_of(text.clone());
        assert_eq!(
            (e.truncated, e.payload.map(|p| p.len())),
            (false, Some(40_000))
        );
        // 60 000 binary bytes: base64 cannot fit one message; cut, marked.
        let e = event_of(vec![0xff; 60_000]);
        assert!(e.truncated, "marked truncated");
        assert_eq!(e.size, Some(60_000), "the full size is still said");
        assert!(
            e.preview_bytes()
                .is_some_and(|b| !b.is_empty() && b.len() < 60_000)
        );
        drop(tx);
    }

    #[test]
    fn an_event_too_big_even_without_its_payload_is_skipped_not_cut_forever() {
        let (tx, rx) = mpsc::channel(4);
        let pump = Pump {
            rx,
            preview: schema::MAX_PREVIEW,
            outbox: Outbox::new(false).0,
            tid: 5,
            ptid: 1,
            subtid: 3,
            version: schema::VERSION,
        };
        let mut e = Event::new(Kind::Drop, "t".into());
        e.reason = Some("r".repeat(crate::protocol::MAX_PAYLOAD + 10));
        let q = Arc::new(Record::new(e, Some(bytes::Bytes::from_static(b"x")), None));
        assert!(pump.fitted(q).is_none(), "no preview size makes it fit");
        drop(tx);
    }
}
