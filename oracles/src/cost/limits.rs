//! The `[cost]` section of `config.toml`: one sub-table per mechanism
//! (`[cost.compile]` absolute and oracle-relative compile limits,
//! `[cost.perf]` run time against siblings, `[cost.outliers]` compile cost
//! against the run's own distribution, `[cost.scaling]` background growth
//! checks, `[cost.releases]` compile cost against the reference Wasmtime
//! release), and `remeasure`, which all confirmations share.

use anyhow::{bail, Result};
use serde::Deserialize;

/// `[cost]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostLimits {
    /// Measurements of a suspect (compile blowup, outlier, slow run); the
    /// smallest figure counts.
    pub remeasure: u32,
    /// `[cost.compile]`: compile blowups (`cost::compile`).
    pub compile: CompileLimits,
    /// `[cost.perf]`: slow runs against siblings (`cost::run`).
    pub perf: PerfLimits,
    /// `[cost.outliers]`: compiles far above their engine's distribution
    /// (`cost::baseline`).
    pub outliers: OutlierLimits,
    /// `[cost.scaling]`: the daemon's background scaling checks
    /// (`cost::scaling_check`).
    pub scaling: ScalingChecks,
    /// `[cost.releases]`: compiles far costlier than on the reference
    /// release (`cost::releases`).
    pub releases: ReleaseLimits,
}

/// `[cost.releases]`: one engine's compile of a module against the same
/// engine's compile on the reference release (`[matrix]
/// reference_release`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReleaseLimits {
    /// A compile taking this many times the reference release's time ...
    pub time_ratio: f64,
    /// ... and at least this many milliseconds is a regression.
    pub time_floor_ms: u64,
    /// A compile allocating this many times the reference release's peak ...
    pub memory_ratio: f64,
    /// ... and at least this many MiB is a regression.
    pub memory_floor_mib: u64,
}

impl Default for ReleaseLimits {
    fn default() -> Self {
        ReleaseLimits {
            time_ratio: 5.0,
            time_floor_ms: 50,
            memory_ratio: 5.0,
            memory_floor_mib: 64,
        }
    }
}

/// `[cost.compile]`: limits on one compile, absolute and relative to the
/// oracle's translation of the same module.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompileLimits {
    /// A compile taking longer than this (seconds of wall time) is a blowup.
    pub seconds: f64,
    /// A compile allocating more than this at its peak (MiB) is a blowup.
    pub memory_mib: u64,
    /// A compile taking this many times the oracle's translation time ...
    pub time_ratio: f64,
    /// ... and at least this many milliseconds is a blowup.
    pub time_floor_ms: u64,
    /// A compile allocating this many times the oracle's peak ...
    pub memory_ratio: f64,
    /// ... and at least this many MiB is a blowup.
    pub memory_floor_mib: u64,
}

/// `[cost.perf]`: run time against the fastest sibling.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PerfLimits {
    /// An engine running a case (instantiation and calls) this many times
    /// slower than its fastest sibling ...
    pub ratio: f64,
    /// ... and taking at least this many milliseconds is a `perf` finding.
    pub floor_ms: u64,
    /// A Cranelift engine with fuel at opt level speed spending more than
    /// this many nanoseconds per unit of fuel ...
    pub unmetered_ns_per_fuel: f64,
    /// ... over at least this many units ...
    pub unmetered_min_fuel: u64,
    /// ... and this many times the rate of its twin at opt level none
    /// (best of the re-runs) does unmetered work (`cost::unmetered`).
    pub unmetered_ratio: f64,
}

/// `[cost.outliers]`: compile cost per instruction against the engine's
/// own recent distribution in this run.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutlierLimits {
    /// A compile costing this many times its engine's median per
    /// instruction ...
    pub ratio: f64,
    /// ... and this many deviations (MAD scaled to a standard deviation,
    /// on the log scale) above it ...
    pub deviations: f64,
    /// ... and taking at least this many milliseconds (time) ...
    pub floor_ms: u64,
    /// ... or allocating at least this many MiB (memory) is a blowup.
    pub floor_mib: u64,
    /// Modules with fewer instructions are neither sampled nor judged per
    /// instruction: their compile is mostly fixed overhead.
    pub min_instructions: u64,
    /// Compiles per engine the reference follows (the most recent).
    pub window: usize,
    /// Compiles per engine needed before its reference is used.
    pub min_samples: usize,
}

/// `[cost.scaling]`: the daemon's scaling checks.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScalingChecks {
    /// A check on the next built-in shape this often, in seconds (0: never) ...
    pub every_secs: u64,
    /// ... and on the shrunk module of every compile blowup, measuring this
    /// many doubling sizes ...
    pub steps: u32,
    /// ... compiled this many times each (the best counts) ...
    pub runs: u32,
    /// ... and flags a time or heap exponent above this.
    pub superlinear: f64,
    /// A scaling check still running after this many seconds is stopped.
    pub timeout_secs: u64,
}

impl Default for CostLimits {
    fn default() -> Self {
        CostLimits {
            remeasure: 3,
            compile: CompileLimits::default(),
            perf: PerfLimits::default(),
            outliers: OutlierLimits::default(),
            scaling: ScalingChecks::default(),
            releases: ReleaseLimits::default(),
        }
    }
}

impl Default for CompileLimits {
    fn default() -> Self {
        CompileLimits {
            seconds: 10.0,
            memory_mib: 2048,
            time_ratio: 1000.0,
            time_floor_ms: 500,
            memory_ratio: 1000.0,
            memory_floor_mib: 256,
        }
    }
}

impl Default for PerfLimits {
    fn default() -> Self {
        PerfLimits {
            ratio: 10.0,
            floor_ms: 20,
            unmetered_ns_per_fuel: 10.0,
            unmetered_min_fuel: 1_000_000,
            unmetered_ratio: 5.0,
        }
    }
}

impl Default for OutlierLimits {
    fn default() -> Self {
        OutlierLimits {
            ratio: 20.0,
            deviations: 3.0,
            floor_ms: 50,
            floor_mib: 64,
            min_instructions: 256,
            window: 4096,
            min_samples: 500,
        }
    }
}

impl Default for ScalingChecks {
    fn default() -> Self {
        ScalingChecks {
            every_secs: 3600,
            steps: 4,
            runs: 3,
            superlinear: 1.3,
            timeout_secs: 600,
        }
    }
}

impl CostLimits {
    /// Every limit `factor` times higher: a shrinking candidate must stay
    /// this far over the limits, so that the shrunk module still reproduces
    /// when measured again on a noisy machine.
    pub fn scaled(&self, factor: f64) -> CostLimits {
        let scale = |v: u64| (v as f64 * factor).ceil() as u64;
        CostLimits {
            remeasure: self.remeasure,
            compile: CompileLimits {
                seconds: self.compile.seconds * factor,
                memory_mib: scale(self.compile.memory_mib),
                time_ratio: self.compile.time_ratio * factor,
                time_floor_ms: scale(self.compile.time_floor_ms),
                memory_ratio: self.compile.memory_ratio * factor,
                memory_floor_mib: scale(self.compile.memory_floor_mib),
            },
            perf: PerfLimits {
                ratio: self.perf.ratio * factor,
                floor_ms: scale(self.perf.floor_ms),
                unmetered_ns_per_fuel: self.perf.unmetered_ns_per_fuel * factor,
                unmetered_ratio: self.perf.unmetered_ratio * factor,
                ..self.perf.clone()
            },
            outliers: OutlierLimits {
                ratio: self.outliers.ratio * factor,
                floor_ms: scale(self.outliers.floor_ms),
                floor_mib: scale(self.outliers.floor_mib),
                ..self.outliers.clone()
            },
            scaling: self.scaling.clone(),
            releases: ReleaseLimits {
                time_ratio: self.releases.time_ratio * factor,
                time_floor_ms: scale(self.releases.time_floor_ms),
                memory_ratio: self.releases.memory_ratio * factor,
                memory_floor_mib: scale(self.releases.memory_floor_mib),
            },
        }
    }
}

/// The flat `[cost]` keys of earlier versions and where each one lives now.
pub const MOVED_KEYS: &[(&str, &str)] = &[
    ("compile_seconds", "[cost.compile] seconds"),
    ("compile_memory_mib", "[cost.compile] memory_mib"),
    ("time_ratio", "[cost.compile] time_ratio"),
    ("time_floor_ms", "[cost.compile] time_floor_ms"),
    ("memory_ratio", "[cost.compile] memory_ratio"),
    ("memory_floor_mib", "[cost.compile] memory_floor_mib"),
    ("perf_ratio", "[cost.perf] ratio"),
    ("perf_floor_ms", "[cost.perf] floor_ms"),
    ("outlier_ratio", "[cost.outliers] ratio"),
    ("outlier_deviations", "[cost.outliers] deviations"),
    ("outlier_floor_ms", "[cost.outliers] floor_ms"),
    ("outlier_floor_mib", "[cost.outliers] floor_mib"),
    (
        "outlier_min_instructions",
        "[cost.outliers] min_instructions",
    ),
    ("outlier_window", "[cost.outliers] window"),
    ("outlier_min_samples", "[cost.outliers] min_samples"),
    ("scale_every_secs", "[cost.scaling] every_secs"),
    ("scale_steps", "[cost.scaling] steps"),
    ("scale_runs", "[cost.scaling] runs"),
    ("scale_superlinear", "[cost.scaling] superlinear"),
    ("scale_timeout_secs", "[cost.scaling] timeout_secs"),
];

/// Refuses a `[cost]` table that still uses the flat keys of earlier
/// versions, naming where each one moved.
pub fn refuse_moved_keys(cost: &toml::Table) -> Result<()> {
    let moved: Vec<String> = MOVED_KEYS
        .iter()
        .filter(|(old, _)| cost.contains_key(*old))
        .map(|(old, new)| format!("[cost] {old} is now {new}"))
        .collect();
    if !moved.is_empty() {
        bail!("[cost] is split into sub-tables: {}", moved.join("; "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_raises_limits_and_keeps_counts() {
        let limits = CostLimits::default().scaled(2.0);
        assert_eq!(limits.compile.seconds, 20.0);
        assert_eq!(limits.compile.memory_mib, 4096);
        assert_eq!(limits.perf.floor_ms, 40);
        assert_eq!(limits.outliers.ratio, 40.0);
        assert_eq!(limits.outliers.deviations, 3.0);
        assert_eq!(limits.outliers.window, 4096);
        assert_eq!(limits.remeasure, 3);
        assert_eq!(limits.scaling, ScalingChecks::default());
    }

    #[test]
    fn the_flat_keys_of_earlier_versions_are_refused_with_their_new_homes() {
        let table: toml::Table = "perf_ratio = 3.0\nscale_steps = 2\nremeasure = 1\n"
            .parse()
            .unwrap();
        let text = format!("{:#}", refuse_moved_keys(&table).unwrap_err());
        assert!(
            text.contains("[cost] perf_ratio is now [cost.perf] ratio"),
            "{text}"
        );
        assert!(
            text.contains("[cost] scale_steps is now [cost.scaling] steps"),
            "{text}"
        );
        let current: toml::Table = "remeasure = 1\n[perf]\nratio = 3.0\n".parse().unwrap();
        refuse_moved_keys(&current).unwrap();
    }
}
