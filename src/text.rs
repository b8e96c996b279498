//! Small text helpers for times and payloads, shared by the client's packet
//! trace, the broker log and the output formats. Pure functions, no I/O.
//!
//! May import: std, hex, humantime, jiff.

use std::time::SystemTime;

/// The local time zone, read once (`TZ`, else /etc/localtime; UTC if neither).
pub fn local_zone() -> jiff::tz::TimeZone {
    static ZONE: std::sync::OnceLock<jiff::tz::TimeZone> = std::sync::OnceLock::new();
    ZONE.get_or_init(jiff::tz::TimeZone::system).clone()
}

/// Wall-clock time of day in the local zone, to the millisecond: `12:34:56.789`.
pub fn clock_time(t: SystemTime) -> String {
    clock_time_in(t, &local_zone())
}

/// Time of day in `zone`, to the millisecond.
pub fn clock_time_in(t: SystemTime, zone: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::try_from(t) {
        Ok(ts) => ts
            .to_zoned(zone.clone())
            .strftime("%H:%M:%S%.3f")
            .to_string(),
        Err(_) => "??:??:??.???".to_string(),
    }
}

/// Time of day in `zone`, to the second: `12:34:56`. For times a source
/// only has in whole seconds (a fraction would be made up).
pub fn clock_seconds_in(t: SystemTime, zone: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::try_from(t) {
        Ok(ts) => ts.to_zoned(zone.clone()).strftime("%H:%M:%S").to_string(),
        Err(_) => "??:??:??".to_string(),
    }
}

/// RFC 3339 UTC with milliseconds, for machine output.
pub fn timestamp(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// A one-line preview of a payload for traces and logs: quoted text when it is
/// UTF-8, else hex, cut at `max` bytes with an ellipsis.
pub fn preview(payload: &[u8], max: usize) -> String {
    let shown = &payload[..payload.len().min(max)];
    let more = if payload.len() > max { "…" } else { "" };
    match std::str::from_utf8(shown) {
        Ok(s) => format!("{s:?}{more}"),
        Err(_) => format!("0x{}{more}", hex::encode(shown)),
    }
}

/// `hexdump -C` style lines.
pub fn hexdump(data: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in data.chunks(16).enumerate() {
        let mut hex = String::with_capacity(50);
        for (j, b) in chunk.iter().enumerate() {
            if j == 8 {
                hex.push(' ');
            }
            hex.push_str(&format!("{b:02x} "));
        }
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        out.push_str(&format!("{:08x}  {hex:<49} |{ascii}|\n", i * 16));
    }
    out
}
