//! Small text helpers for times and payloads, shared by the client's packet
//! trace, the broker log and the output formats. Pure functions, no I/O.
//!
//! May import: std, hex, humantime.

use std::time::SystemTime;

/// Wall-clock time of day, UTC, to the millisecond: `12:34:56.789`.
pub fn clock_time(t: SystemTime) -> String {
    let ms = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let day_ms = (ms % 86_400_000) as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        day_ms / 3_600_000,
        day_ms / 60_000 % 60,
        day_ms / 1000 % 60,
        day_ms % 1000
    )
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
