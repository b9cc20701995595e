//! A fixed-size, lock-free latency histogram.
//!
//! Workers record durations with two relaxed atomic adds; readers scan a constant number of
//! buckets, so a percentile query costs the same after ten tasks or ten billion. Buckets are
//! log-linear (8 sub-buckets per power of two), which bounds the relative error of a reported
//! percentile to 12.5% while covering microseconds to centuries.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

const LINEAR: u64 = 16;
const SUB_BITS: u32 = 3;
const SUB: u64 = 1 << SUB_BITS;
const BUCKETS: usize = (LINEAR + (64 - 4) * SUB) as usize;

pub(crate) struct Histogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum_us: AtomicU64,
    max_us: AtomicU64,
}

/// Counts at or below each of a list of bounds, as a Prometheus histogram exposes them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cumulative {
    /// `le[i]`: values at or below `bounds[i]` (cumulative, so non-decreasing).
    pub le: Vec<u64>,
    pub count: u64,
    /// The sum of every recorded value, in microseconds.
    pub sum_us: u64,
}

/// Percentiles of a histogram, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

fn index(us: u64) -> usize {
    if us < LINEAR {
        return us as usize;
    }
    let msb = 63 - us.leading_zeros();
    let sub = (us >> (msb - SUB_BITS)) & (SUB - 1);
    (LINEAR + u64::from(msb - 4) * SUB + sub) as usize
}

/// The largest value that lands in bucket `i`, so percentiles never under-report.
fn upper_bound(i: usize) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        return i;
    }
    let msb = (i - LINEAR) / SUB + 4;
    let sub = (i - LINEAR) % SUB;
    let base = (1u64 << msb) | (sub << (msb - u64::from(SUB_BITS)));
    base | ((1u64 << (msb - u64::from(SUB_BITS))) - 1)
}

impl Histogram {
    pub(crate) fn new() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
            max_us: AtomicU64::new(0),
        }
    }

    pub(crate) fn record(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.buckets[index(us)].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
        self.max_us.fetch_max(us, Relaxed);
    }

    pub(crate) fn percentiles(&self) -> Percentiles {
        // Snapshot first: concurrent records may land mid-scan, and ranks must come from
        // the same counts that are walked.
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        let max_us = self.max_us.load(Relaxed);
        if total == 0 {
            return Percentiles::default();
        }
        let at = |q: f64| {
            let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return upper_bound(i).min(max_us) as f64 / 1000.0;
                }
            }
            max_us as f64 / 1000.0
        };
        Percentiles {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: max_us as f64 / 1000.0,
        }
    }

    /// Counts at or below each bound (microseconds, ascending). A bucket of this histogram
    /// is counted under a bound only when all of it lies there, so a value may be counted
    /// one bound late, never early (the bucket error, 12.5%, again).
    pub(crate) fn cumulative(&self, bounds_us: &[u64]) -> Cumulative {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let mut le = Vec::with_capacity(bounds_us.len());
        let (mut i, mut seen) = (0, 0);
        for &bound in bounds_us {
            while i < counts.len() && upper_bound(i) <= bound {
                seen += counts[i];
                i += 1;
            }
            le.push(seen);
        }
        Cumulative {
            le,
            // From the same snapshot, so `count >= le[last]` always holds.
            count: counts.iter().sum(),
            sum_us: self.sum_us.load(Relaxed),
        }
    }

    #[cfg(test)]
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_cover_their_values() {
        for us in (0..100_000u64).chain([u64::MAX / 3, u64::MAX]) {
            let i = index(us);
            assert!(i < BUCKETS);
            assert!(upper_bound(i) >= us, "{us} above bucket {i} bound");
            if i > 0 {
                assert!(upper_bound(i - 1) < us, "{us} fits an earlier bucket");
            }
        }
    }

    #[test]
    fn percentiles_are_within_bucket_error() {
        let h = Histogram::new();
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let p = h.percentiles();
        assert_eq!(h.count(), 100);
        assert!((50.0..=50.0 * 1.125).contains(&p.p50), "{p:?}");
        assert!((90.0..=90.0 * 1.125).contains(&p.p90), "{p:?}");
        assert!((99.0..=100.0).contains(&p.p99), "{p:?}");
        assert_eq!(p.max, 100.0);
    }

    #[test]
    fn cumulative_counts_are_never_early_and_at_most_one_bound_late() {
        let h = Histogram::new();
        for us in [5, 10, 100, 1_000, 1_000, 50_000] {
            h.record(Duration::from_micros(us));
        }
        let c = h.cumulative(&[10, 100, 1_000, 10_000, 1_000_000]);
        let exact = [2, 3, 5, 5, 6];
        // 100 sits in the bucket 96..=103 and 1,000 in 960..=1023: each is counted under the
        // next bound.
        assert_eq!(c.le, vec![2, 2, 3, 5, 6]);
        for (i, (&le, &e)) in c.le.iter().zip(&exact).enumerate() {
            assert!(le <= e && (i == 0 || c.le[i] >= exact[i - 1]), "{:?}", c.le);
        }
        assert_eq!(c.count, 6);
        assert_eq!(c.sum_us, 52_115);
        assert_eq!(Histogram::new().cumulative(&[1]).le, vec![0]);
    }

    #[test]
    fn empty_histogram_reports_zero() {
        assert_eq!(Histogram::new().percentiles(), Percentiles::default());
    }
}
