//! Payload rendering shared by every command (placeholder, being written).

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
