//! Distributions the daemon counts per engine in power-of-two buckets:
//! each sample is counted under `<name><=2^k` ([`Counter::Bucket`]), k the
//! smallest exponent with 2^k at or above the figure.

use super::counter::Counter;
pub use super::counter::Distribution;
use crate::store::Counters;
use std::collections::BTreeMap;

impl Distribution {
    /// The label of a bucket's upper bound in `/metrics`.
    pub fn bound_label(self) -> &'static str {
        match self {
            Distribution::CompileMicros
            | Distribution::CompileCpuMicros
            | Distribution::RunMicros => "le_us",
            Distribution::CompileHeap | Distribution::CodeBytes => "le_bytes",
            Distribution::Instructions => "le",
        }
    }

    /// The counter a sample of `amount` is counted under.
    pub fn counter(self, amount: u64) -> String {
        Counter::Bucket(self, log2_bucket(amount)).key()
    }

    /// The bucket exponent of `counter`, if it is one of this distribution.
    pub fn bucket(self, counter: &str) -> Option<u32> {
        Counter::bucket_of(counter)
            .filter(|(d, _)| *d == self)
            .map(|(_, k)| k)
    }

    /// The buckets per engine: k to the samples of at most 2^k.
    pub fn per_engine(self, counters: &Counters) -> BTreeMap<String, BTreeMap<u32, u64>> {
        let mut per_engine: BTreeMap<String, BTreeMap<u32, u64>> = BTreeMap::new();
        for ((engine, name), value) in counters {
            if let Some(k) = self.bucket(name) {
                *per_engine
                    .entry(engine.clone())
                    .or_default()
                    .entry(k)
                    .or_default() += value;
            }
        }
        per_engine
    }
}

/// Whether a counter is a bucket of a distribution rather than an event
/// count.
pub fn is_bucket(counter: &str) -> bool {
    Counter::bucket_of(counter).is_some()
}

/// The smallest power of two at or above `amount` (at least 1), as its
/// exponent.
fn log2_bucket(amount: u64) -> u32 {
    u64::BITS - (amount.max(1) - 1).leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_round_trip_through_their_names() {
        for d in Distribution::ALL {
            for (amount, k) in [(0, 0), (1, 0), (2, 1), (3, 2), (1024, 10), (1025, 11)] {
                let counter = d.counter(amount);
                assert_eq!(d.bucket(&counter), Some(k), "{counter}");
                assert!(is_bucket(&counter));
                for other in Distribution::ALL.into_iter().filter(|o| *o != d) {
                    assert_eq!(other.bucket(&counter), None, "{counter} is not {other:?}");
                }
            }
        }
        assert_eq!(Distribution::CompileMicros.counter(300), "compile-us<=2^9");
        assert!(!is_bucket("ran") && !is_bucket("verdict:agree"));
    }
}
