//! Small text helpers for times and payloads, shared by the client's packet
//! trace, the broker log and the output formats. Pure functions, no I/O.
//!
//! Also the duration parser every flag and config file uses ("250ms", "5s", a
//! bare number of seconds), so engines parse durations without knowing clap.
//!
//! May import: std, hex, humantime, jiff.

use std::time::{Duration, SystemTime};

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

/// Longest duration accepted anywhere: later than this would overflow timers.
pub const LONGEST: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Parses "250ms", "5s", "2m", "1h30m", or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = match s.trim().parse::<f64>() {
        Ok(secs) => Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("'{s}' is not a duration between 0 seconds and 100 years"))?,
        Err(_) => humantime::parse_duration(s)
            .map_err(|e| format!("'{s}' is not a duration like 500ms, 5s or 2m ({e})"))?,
    };
    if d > LONGEST {
        return Err(format!("'{s}' is longer than 100 years"));
    }
    Ok(d)
}

/// Like [`parse_duration`], but zero is refused (keepalive, connect timeout).
pub fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err(format!("'{s}' must be longer than zero")),
        d => Ok(d),
    }
}

/// The 1-based line of byte `offset` in `text` (a parse error's span → "line L").
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

/// Why `FLAG ADDR` (`--listen`, `--metrics-listen`) cannot be bound, in
/// words: `--metrics-listen 127.0.0.1:9464: cannot listen: address already in
/// use (another process listens on port 9464: pick another port, or 0 for a
/// free one)`. The OS error's own text follows for the causes not named here.
pub fn listen_error(flag: &str, addr: &str, e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let port = addr.rsplit_once(':').map_or(addr, |(_, p)| p);
    let cause = match e.kind() {
        ErrorKind::AddrInUse => format!(
            "address already in use (another process listens on port {port}: pick another port, or 0 for a free one)"
        ),
        ErrorKind::AddrNotAvailable => {
            "address not available (no interface of this host has that address)".to_string()
        }
        ErrorKind::PermissionDenied => {
            format!("permission denied (port {port} is privileged here: use one above 1023)")
        }
        _ => e.to_string(),
    };
    format!("{flag} {addr}: cannot listen: {cause}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_error_names_the_flag_the_address_and_a_port_in_use() {
        let in_use = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        assert_eq!(
            listen_error("--metrics-listen", "127.0.0.1:9464", &in_use),
            "--metrics-listen 127.0.0.1:9464: cannot listen: address already in use (another process listens on port 9464: pick another port, or 0 for a free one)"
        );
        let other = std::io::Error::other("boom");
        assert_eq!(
            listen_error("--listen", "[::1]:1", &other),
            "--listen [::1]:1: cannot listen: boom"
        );
    }

    #[test]
    fn durations_accept_units_and_bare_seconds() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("1e30").is_err(), "would overflow timers");
        assert!(parse_duration("200 years").is_err());
        assert!(parse_positive_duration("0").is_err());
        assert_eq!(parse_positive_duration("1ms"), Ok(Duration::from_millis(1)));
    }
}
