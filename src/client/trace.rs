//! `--trace-packets`: every packet sent and received, decoded, on stderr.
//!
//! Lines show the direction, the packet type, its fields, IDs with the names this
//! client knows, and a payload preview. Credentials are never printed, only their
//! length.

use std::io::Write;

use super::state::SharedNames;
use crate::protocol::{ConnackCode, ConnectVersion, Packet, display_bytes};

pub struct Tracer {
    enabled: bool,
}

impl Tracer {
    pub fn new(enabled: bool) -> Self {
        Tracer { enabled }
    }

    pub fn sent(&self, p: &Packet, names: &SharedNames) {
        if self.enabled {
            self.print("->", p, names);
        }
    }

    pub fn received(&self, p: &Packet, names: &SharedNames) {
        if self.enabled {
            self.print("<-", p, names);
        }
    }

    fn print(&self, dir: &str, p: &Packet, names: &SharedNames) {
        let line = describe(p, names);
        let ts = crate::text::clock_time(std::time::SystemTime::now());
        let _ = writeln!(std::io::stderr().lock(), "{ts} {dir} {line}");
    }
}

/// One-line description of a packet, with names from the cache.
pub fn describe(p: &Packet, names: &SharedNames) -> String {
    let names = names.lock().unwrap_or_else(|e| e.into_inner());
    let id = |tid: u32| match names.topic(tid) {
        Some(n) => format!("{tid} ({n})"),
        None => format!("{tid}"),
    };
    let sub = |subtid: u32| match names.subtopic(subtid) {
        Some(n) => format!("{subtid} ({n})"),
        None => format!("{subtid}"),
    };
    let name = p.name();
    match p {
        Packet::Init(i) => format!(
            "Init version={} seed={:#010x} client-ip={}",
            i.version,
            i.seed,
            display_bytes(&i.client_ip)
        ),
        Packet::Connect(c) => {
            let v = match c.version {
                ConnectVersion::V1 => "1".to_string(),
                ConnectVersion::V2 { max_packet_size } => format!("2 max-packet={max_packet_size}"),
            };
            let creds = if c.credentials.is_empty() {
                "none".to_string()
            } else {
                format!("<hidden, {} bytes>", c.credentials.len())
            };
            format!(
                "Connect version={v} uid={:?} credentials={creds} info={:?}",
                display_bytes(&c.uid),
                display_bytes(&c.info)
            )
        }
        Packet::Connack(c) => {
            let meaning = ConnackCode::from_u8(c.code).meaning();
            let mut s = format!("Connack code={} ({meaning}) etid={}", c.code, c.etid);
            if !c.reason.is_empty() {
                s.push_str(&format!(" reason={:?}", display_bytes(&c.reason)));
            }
            s
        }
        Packet::Subscribe { topic } | Packet::Create { topic } => {
            format!("{name} {:?}", display_bytes(topic))
        }
        Packet::Createsub { subtopic } => format!("{name} {:?}", display_bytes(subtopic)),
        Packet::Suback(a) | Packet::Createack(a) | Packet::Createsuback(a) => format!(
            "{name} {} id={} {:?}",
            if a.accepted() { "ok" } else { "DENIED" },
            a.tid,
            display_bytes(&a.name)
        ),
        Packet::Publish(m) | Packet::PubFrag(m) => format!(
            "{name} tid={} ptid={} subtid={} {} bytes {}",
            id(m.tid),
            id(m.ptid),
            sub(m.subtid),
            m.payload.len(),
            crate::text::preview(&m.payload, 64)
        ),
        Packet::Unsubscribe { tid } | Packet::Observe { tid } | Packet::Unobserve { tid } => {
            format!("{name} tid={}", id(*tid))
        }
        Packet::Disconnect { reason } if reason.is_empty() => "Disconnect".into(),
        Packet::Disconnect { reason } => format!("Disconnect reason={:?}", display_bytes(reason)),
        Packet::Ping | Packet::Pong => name.to_string(),
        Packet::Change(c) => format!("Change tid={} subscribers={}", id(c.tid), c.count),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Connect, Publish};
    use bytes::Bytes;

    #[test]
    fn credentials_are_never_shown() {
        let names = SharedNames::default();
        let p = Packet::Connect(Connect {
            version: ConnectVersion::V1,
            uid: Bytes::from_static(b"device-1"),
            credentials: Bytes::from_static(b"hunter2"),
            info: Bytes::new(),
        });
        let line = describe(&p, &names);
        assert!(!line.contains("hunter2"), "{line}");
        assert!(line.contains("<hidden, 7 bytes>"), "{line}");
    }

    #[test]
    fn publish_shows_known_names() {
        let names = SharedNames::default();
        {
            let mut n = names.lock().expect("lock");
            n.etid = 5;
            n.learn_topic("DeviceState", 10);
            n.learn_subtopic("SetCharger", 3);
        }
        let p = Packet::Publish(Publish {
            tid: 10,
            ptid: 5,
            subtid: 3,
            payload: Bytes::from_static(b"{\"On\":true}"),
        });
        assert_eq!(
            describe(&p, &names),
            r#"Publish tid=10 (DeviceState) ptid=5 (self) subtid=3 (SetCharger) 11 bytes "{\"On\":true}""#
        );
    }
}
