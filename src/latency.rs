//! [`Latency`]: an HDR histogram summarised as min/p50/p90/p99/p99.9/max — the
//! one latency summary of the project (bench pubsub, rpc load mode, bench rpc).
//!
//! May import: hdrhistogram, serde_json.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::json;

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
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }

    /// `{min,p50,p90,p99,p99_9,max}` in milliseconds.
    pub fn to_json(&self) -> serde_json::Value {
        if self.count() == 0 {
            return serde_json::Value::Null;
        }
        json!({
            "min": self.hist.min() as f64 / 1000.0,
            "p50": self.ms(0.5),
            "p90": self.ms(0.9),
            "p99": self.ms(0.99),
            "p99_9": self.ms(0.999),
            "max": self.hist.max() as f64 / 1000.0,
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
