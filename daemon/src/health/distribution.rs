//! Distributions the daemon counts per engine in power-of-two buckets:
//! each sample is counted under `<name><=2^k`, k the smallest exponent with
//! 2^k at or above the figure. The counter names are built and parsed here
//! only.

use crate::store::Counters;
use std::collections::BTreeMap;

/// One distribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distribution {
    /// Compile wall time, microseconds.
    CompileMicros,
    /// Compile CPU time of the compiling thread, microseconds.
    CompileCpuMicros,
    /// Run time (instantiation and calls), microseconds.
    RunMicros,
    /// Peak heap of a compile, bytes.
    CompileHeap,
    /// Size of the generated machine code, bytes.
    CodeBytes,
    /// A case's module size, instructions (counted for all engines).
    Instructions,
}

/// What marks a counter as a bucket of some distribution.
const BUCKET_MARK: &str = "<=2^";

impl Distribution {
    /// Every distribution.
    pub const ALL: [Distribution; 6] = [
        Distribution::CompileMicros,
        Distribution::CompileCpuMicros,
        Distribution::RunMicros,
        Distribution::CompileHeap,
        Distribution::CodeBytes,
        Distribution::Instructions,
    ];

    /// The counter name before the bucket mark.
    pub fn name(self) -> &'static str {
        match self {
            Distribution::CompileMicros => "compile-us",
            Distribution::CompileCpuMicros => "compile-cpu-us",
            Distribution::RunMicros => "run-us",
            Distribution::CompileHeap => "compile-heap",
            Distribution::CodeBytes => "code-bytes",
            Distribution::Instructions => "instructions",
        }
    }

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
        format!("{}{BUCKET_MARK}{}", self.name(), log2_bucket(amount))
    }

    /// The bucket exponent of `counter`, if it is one of this distribution.
    pub fn bucket(self, counter: &str) -> Option<u32> {
        counter
            .strip_prefix(self.name())?
            .strip_prefix(BUCKET_MARK)?
            .parse()
            .ok()
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
    Distribution::ALL
        .iter()
        .any(|d| d.bucket(counter).is_some())
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
