//! [`Latency`]: an HDR histogram summarised as min/p50/p90/p99/p99.9/max — the
//! one latency summary of the project (bench pubsub, rpc load mode, bench rpc).
//! Also the one rounding of times in JSON output ([`ms`], [`secs`],
//! [`rounded`]): microseconds, so `0.137`, never `0.13718899999999998`.
//!
//! May import: hdrhistogram, serde_json.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::json;

/// `x` rounded to `places` decimals, so JSON prints it with at most that many
/// (`n / 10^places` is the double nearest to the decimal, which serde writes
/// back as that decimal).
pub fn rounded(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    let r = (x * scale).round() / scale;
    if r.is_finite() { r } else { x }
}

/// `d` in milliseconds, rounded to the microsecond: every latency in JSON output.
pub fn ms(d: Duration) -> f64 {
    rounded(d.as_secs_f64() * 1000.0, 3)
}

/// `x` milliseconds rounded to the microsecond (for values already in ms).
pub fn round_ms(x: f64) -> f64 {
    rounded(x, 3)
}

/// `x` seconds rounded to the microsecond: every elapsed time in JSON output.
pub fn secs(x: f64) -> f64 {
    rounded(x, 6)
}

/// A rate (per second) in JSON output: three decimals are plenty.
pub fn rate(x: f64) -> f64 {
    rounded(x, 3)
}

/// Latency percentiles from an HDR histogram of microseconds.
#[derive(Debug, Clone)]
pub struct Latency {
    hist: Histogram<u64>,
}

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    pub fn new() -> Self {
        // 1 µs .. 1 hour, 3 significant digits.
        let hist = Histogram::new_with_bounds(1, 3_600_000_000, 3)
            .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable_hist()));
        Latency { hist }
    }

    pub fn record(&mut self, d: Duration) {
        let us = (d.as_micros() as u64).clamp(1, 3_600_000_000);
        let _ = self.hist.record(us);
    }

    pub fn merge(&mut self, other: &Latency) {
        let _ = self.hist.add(&other.hist);
    }

    /// The recorded values (µs) with their counts: a compact, mergeable form for
    /// reports written to files (`smqctl simulate --report`, then `merge`).
    pub fn buckets(&self) -> Vec<(u64, u64)> {
        self.hist
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect()
    }

    /// Records `count` samples of `us` microseconds (the inverse of [`Latency::buckets`]).
    pub fn record_us_n(&mut self, us: u64, count: u64) {
        let _ = self.hist.record_n(us.clamp(1, 3_600_000_000), count);
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    fn ms(&self, q: f64) -> f64 {
        round_ms(self.hist.value_at_quantile(q) as f64 / 1000.0)
    }

    /// `{min,p50,p90,p99,p99_9,max}` in milliseconds.
    pub fn to_json(&self) -> serde_json::Value {
        if self.count() == 0 {
            return serde_json::Value::Null;
        }
        json!({
            "min": round_ms(self.hist.min() as f64 / 1000.0),
            "p50": self.ms(0.5),
            "p90": self.ms(0.9),
            "p99": self.ms(0.99),
            "p99_9": self.ms(0.999),
            "max": round_ms(self.hist.max() as f64 / 1000.0),
        })
    }

    /// One line: `min 0.05 ms  p50 0.91 ms  …`.
    pub fn line(&self) -> String {
        if self.count() == 0 {
            return "no samples".into();
        }
        format!(
            "min {:.3} ms  p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms",
            self.hist.min() as f64 / 1000.0,
            self.ms(0.5),
            self.ms(0.9),
            self.ms(0.99),
            self.ms(0.999),
            self.hist.max() as f64 / 1000.0
        )
    }
}

fn unreachable_hist() -> Histogram<u64> {
    // new(3) only fails for sigfig > 5; keep a valid fallback anyway.
    Histogram::new(2).unwrap_or_else(|_| panic!("hdrhistogram refuses 2 significant digits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_times_are_rounded_to_microseconds_not_printed_with_17_digits() {
        let d = Duration::from_nanos(137_188_999);
        assert_eq!(serde_json::json!(ms(d)).to_string(), "137.189");
        assert_eq!(
            serde_json::json!(round_ms(0.13718899999999998)).to_string(),
            "0.137"
        );
        assert_eq!(serde_json::json!(secs(1.000_000_4)).to_string(), "1.0");
        assert_eq!(serde_json::json!(rate(2000.0 / 3.0)).to_string(), "666.667");
        for n in 0..20_000u64 {
            let t = serde_json::json!(round_ms(n as f64 * 0.001_000_1)).to_string();
            let decimals = t.split_once('.').map_or(0, |(_, f)| f.len());
            assert!(decimals <= 3, "{t}");
        }
        assert!(rounded(f64::MAX, 3).is_finite());
    }

    #[test]
    fn latency_percentiles_come_from_the_samples() {
        let mut l = Latency::new();
        for ms in 1..=100u64 {
            l.record(Duration::from_millis(ms));
        }
        let v = l.to_json();
        let p50 = v["p50"].as_f64().unwrap_or(0.0);
        let p99 = v["p99"].as_f64().unwrap_or(0.0);
        assert!((49.9..=50.1).contains(&p50), "{p50}");
        assert!((98.9..=99.1).contains(&p99), "{p99}");
        assert!((v["min"].as_f64().unwrap_or(0.0) - 1.0).abs() < 0.01);
        assert!((v["max"].as_f64().unwrap_or(0.0) - 100.0).abs() < 0.1);
        assert!(Latency::new().to_json().is_null());
        let mut copy = Latency::new();
        for (us, n) in l.buckets() {
            copy.record_us_n(us, n);
        }
        assert_eq!(copy.to_json(), v, "buckets round-trip");
    }
}
