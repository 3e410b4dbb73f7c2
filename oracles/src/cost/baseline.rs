//! Compile blowups relative to the run itself: each engine's recent compile
//! time and compile heap *per instruction* of input, summarised robustly
//! (median and median absolute deviation of the logarithm, so a handful of
//! blowups cannot drag the reference towards themselves), and a case whose
//! cost per instruction is far above its engine's reference. This catches a
//! compiler that got 20 times slower on one shape of code long before the
//! absolute limits, and needs no second engine as a reference.

use super::compile::{best_of, figures, minimum, Blowup};
use super::heap::PeakHeap;
use super::limits::CostLimits;
use crate::engine::clock::CompileCost;
use crate::engine::matrix::Matrix;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// The MAD of a normal distribution is this fraction of its standard
/// deviation; dividing by it makes "k MADs" read as "k standard deviations".
const MAD_TO_SIGMA: f64 = 1.4826;

/// What is measured per instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Compile wall time, nanoseconds per instruction.
    CompileTime,
    /// Peak heap the compile allocated, bytes per instruction.
    CompileHeap,
}

impl Metric {
    /// Both metrics.
    pub const ALL: [Metric; 2] = [Metric::CompileTime, Metric::CompileHeap];

    /// The name used in the store and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::CompileTime => "compile-time",
            Metric::CompileHeap => "compile-heap",
        }
    }

    /// Parses [`Metric::as_str`].
    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// The finding kind a blowup of this metric is.
    pub fn finding_kind(self) -> crate::judge::kind::FindingKind {
        match self {
            Metric::CompileTime => crate::judge::kind::FindingKind::CompileTime,
            Metric::CompileHeap => crate::judge::kind::FindingKind::CompileMemory,
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Metric::CompileTime => "ns",
            Metric::CompileHeap => "bytes",
        }
    }
}

/// A robust summary of one engine's cost per instruction.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// Median of log2(cost per instruction).
    pub log2_median: f64,
    /// Median absolute deviation of log2(cost per instruction).
    pub log2_mad: f64,
    /// How many cases it summarises.
    pub samples: u64,
}

impl Reference {
    /// Summarises samples of log2(cost per instruction); `None` if empty.
    pub fn of(log2_samples: &[f64]) -> Option<Reference> {
        let center = median(log2_samples.to_vec())?;
        let deviations = log2_samples.iter().map(|x| (x - center).abs()).collect();
        Some(Reference {
            log2_median: center,
            log2_mad: median(deviations)?,
            samples: log2_samples.len() as u64,
        })
    }

    /// The median cost per instruction.
    pub fn median(&self) -> f64 {
        self.log2_median.exp2()
    }

    /// How far `per_instruction` is above the median, as a factor.
    pub fn ratio(&self, per_instruction: f64) -> f64 {
        per_instruction / self.median()
    }

    /// How many (normal-equivalent) standard deviations `per_instruction`
    /// is above the median on the log scale; infinite when the samples do
    /// not vary at all and it is above.
    pub fn deviations(&self, per_instruction: f64) -> f64 {
        let distance = per_instruction.max(f64::MIN_POSITIVE).log2() - self.log2_median;
        let sigma = self.log2_mad * MAD_TO_SIGMA;
        if sigma > 0.0 {
            distance / sigma
        } else if distance > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    }
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// The references of every engine and metric that has enough samples:
/// what workers judge a case's compile cost against.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// `(engine, metric)` to its reference.
    pub references: BTreeMap<String, BTreeMap<Metric, Reference>>,
}

impl Baseline {
    /// The reference of `engine` for `metric`, if known.
    pub fn reference(&self, engine: &str, metric: Metric) -> Option<&Reference> {
        self.references.get(engine)?.get(&metric)
    }

    /// This baseline with every reference of `newer` taking the place of
    /// the one it had.
    pub fn updated_by(mut self, newer: Baseline) -> Baseline {
        for (engine, references) in newer.references {
            self.references
                .entry(engine)
                .or_default()
                .extend(references);
        }
        self
    }

    /// Whether no reference is known.
    pub fn is_empty(&self) -> bool {
        self.references.values().all(BTreeMap::is_empty)
    }

    /// Which metrics of `cost` (a compile of a module of `instructions`
    /// on `engine`) are far above the engine's reference under `limits`,
    /// and why: at least `[cost.outliers] ratio` times the median per instruction,
    /// at least `deviations` deviations above it, and over the
    /// absolute floors (tiny compiles are all noise).
    pub fn outliers(
        &self,
        limits: &CostLimits,
        engine: &str,
        instructions: u64,
        cost: &CompileCost,
    ) -> Vec<Outlier> {
        if instructions < limits.outliers.min_instructions {
            return Vec::new();
        }
        let mut found = Vec::new();
        let mut judge = |metric: Metric, amount: f64, floor: f64| {
            let Some(reference) = self.reference(engine, metric) else {
                return;
            };
            if amount < floor {
                return;
            }
            let per_instruction = amount / instructions as f64;
            let ratio = reference.ratio(per_instruction);
            let deviations = reference.deviations(per_instruction);
            if ratio >= limits.outliers.ratio && deviations >= limits.outliers.deviations {
                found.push(Outlier {
                    metric,
                    per_instruction,
                    reference: *reference,
                    ratio,
                    deviations,
                });
            }
        };
        judge(
            Metric::CompileTime,
            cost.own_time().as_nanos() as f64,
            Duration::from_millis(limits.outliers.floor_ms).as_nanos() as f64,
        );
        if let Some(peak) = cost.peak_heap {
            judge(
                Metric::CompileHeap,
                peak as f64,
                (limits.outliers.floor_mib << 20) as f64,
            );
        }
        found
    }
}

/// A compile far above its engine's reference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outlier {
    /// What is too high.
    pub metric: Metric,
    /// The measured cost per instruction.
    pub per_instruction: f64,
    /// The engine's reference.
    pub reference: Reference,
    /// `per_instruction` over the reference's median.
    pub ratio: f64,
    /// Deviations above the reference's median.
    pub deviations: f64,
}

impl Outlier {
    /// The figures, for a report.
    pub fn describe(&self) -> String {
        let unit = self.metric.unit();
        let deviations = if self.deviations.is_finite() {
            format!("{:.0} deviations", self.deviations)
        } else {
            "any deviation (the reference does not vary)".to_string()
        };
        format!(
            "{} {:.0} {unit} per instruction, {:.0} times this run's median of {:.0} {unit} \
             over {} cases ({deviations} above it)",
            self.metric.as_str(),
            self.per_instruction,
            self.ratio,
            self.reference.median(),
            self.reference.samples
        )
    }
}

/// The compiles among `measured` (engine name and cost, as the matrix ran
/// the case) that are outliers against `baseline`, each confirmed by
/// compiling `wasm` alone `limits.remeasure` times more on its engine: only
/// what the best figures still show is a blowup.
pub fn find_outliers(
    matrix: &Matrix,
    wasm: &[u8],
    instructions: u64,
    measured: &[(String, CompileCost)],
    baseline: &Baseline,
    limits: &CostLimits,
    heap: Option<&dyn PeakHeap>,
) -> Vec<Blowup> {
    let mut found = Vec::new();
    for (name, first) in measured {
        if baseline
            .outliers(limits, name, instructions, first)
            .is_empty()
        {
            continue;
        }
        let Some(engine) = matrix.engines().iter().find(|e| e.name() == name) else {
            continue;
        };
        let best = best_of(engine.as_ref(), wasm, heap, limits.remeasure)
            .map_or(first.clone(), |b| minimum(first, &b));
        for outlier in baseline.outliers(limits, name, instructions, &best) {
            let kind = outlier.metric.finding_kind();
            found.push(Blowup {
                kind,
                engine: name.clone(),
                signature: format!("{kind} {name}"),
                detail: format!(
                    "{name}: compile {} for {instructions} instructions (best of {} runs); {}",
                    figures(&best),
                    1 + limits.remeasure,
                    outlier.describe()
                ),
            });
        }
    }
    found
}

/// The last `capacity` samples of each engine's cost per instruction: a
/// reference that follows the run.
#[derive(Clone, Debug)]
pub struct Window {
    capacity: usize,
    min_instructions: u64,
    samples: BTreeMap<(String, Metric), VecDeque<f64>>,
}

impl Window {
    /// An empty window keeping `limits.outliers.window` samples per engine
    /// and metric, of modules of at least `limits.outliers.min_instructions`.
    pub fn new(limits: &CostLimits) -> Window {
        Window {
            capacity: limits.outliers.window.max(1),
            min_instructions: limits.outliers.min_instructions.max(1),
            samples: BTreeMap::new(),
        }
    }

    /// Adds one compile of a module of `instructions` on `engine`.
    pub fn add(&mut self, engine: &str, instructions: u64, cost: &CompileCost) {
        if instructions < self.min_instructions {
            return;
        }
        let mut push = |metric: Metric, amount: f64| {
            let samples = self
                .samples
                .entry((engine.to_string(), metric))
                .or_default();
            if samples.len() == self.capacity {
                samples.pop_front();
            }
            samples.push_back((amount.max(1.0) / instructions as f64).log2());
        };
        push(Metric::CompileTime, cost.own_time().as_nanos() as f64);
        if let Some(peak) = cost.peak_heap {
            push(Metric::CompileHeap, peak as f64);
        }
    }

    /// The references of every engine and metric with at least
    /// `min_samples` samples.
    pub fn baseline(&self, min_samples: usize) -> Baseline {
        let mut baseline = Baseline::default();
        for ((engine, metric), samples) in &self.samples {
            if samples.len() < min_samples.max(1) {
                continue;
            }
            let (front, back) = samples.as_slices();
            if let Some(reference) = Reference::of(&[front, back].concat()) {
                baseline
                    .references
                    .entry(engine.clone())
                    .or_default()
                    .insert(*metric, reference);
            }
        }
        baseline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(micros: u64, heap: u64) -> CompileCost {
        CompileCost {
            wall: Duration::from_micros(micros),
            cpu: None,
            peak_heap: Some(heap),
        }
    }

    fn limits() -> CostLimits {
        let mut limits = CostLimits::default();
        limits.outliers.min_samples = 50;
        limits.outliers.window = 200;
        limits
    }

    /// A window of ordinary compiles: 2 µs and 2 KiB per instruction, give
    /// or take a few percent.
    fn ordinary_window(limits: &CostLimits) -> Window {
        let mut window = Window::new(limits);
        for i in 0..300u64 {
            let n = 500 + 37 * (i % 50);
            let jitter = 100 + (i * 7919) % 11;
            window.add(
                "jit",
                n,
                &cost(2 * n * jitter / 100, 2048 * n * jitter / 100),
            );
        }
        window
    }

    #[test]
    fn the_reference_is_the_median_and_ignores_a_few_extremes() {
        let limits = limits();
        let mut window = ordinary_window(&limits);
        // A few blowups inside the window do not move the reference.
        for _ in 0..5 {
            window.add("jit", 1000, &cost(1_000_000, 1 << 30));
        }
        let baseline = window.baseline(limits.outliers.min_samples);
        let time = baseline.reference("jit", Metric::CompileTime).unwrap();
        assert!((time.median() - 2000.0).abs() < 150.0, "{time:?}");
        assert_eq!(time.samples, 200, "the window keeps its capacity");
        let heap = baseline.reference("jit", Metric::CompileHeap).unwrap();
        assert!((heap.median() - 2048.0).abs() < 150.0, "{heap:?}");
        assert_eq!(Window::new(&limits).baseline(1), Baseline::default());
        assert!(window.baseline(10_000).is_empty());
    }

    #[test]
    fn a_compile_far_above_its_engines_reference_is_an_outlier_and_an_ordinary_one_is_not() {
        let limits = limits();
        let baseline = ordinary_window(&limits).baseline(limits.outliers.min_samples);
        let judge = |n: u64, c: CompileCost| -> Vec<Metric> {
            baseline
                .outliers(&limits, "jit", n, &c)
                .iter()
                .map(|o| o.metric)
                .collect()
        };
        // 4,000 instructions: 8 ms and 8 MiB is what the run expects.
        assert!(judge(4000, cost(8_000, 8 << 20)).is_empty());
        assert!(judge(4000, cost(30_000, 30 << 20)).is_empty(), "4x");
        // 40 times the expected time: over the floor of 50 ms and far out.
        assert_eq!(judge(4000, cost(320_000, 8 << 20)), [Metric::CompileTime]);
        assert_eq!(
            judge(4000, cost(320_000, 320 << 20)),
            [Metric::CompileTime, Metric::CompileHeap]
        );
        // Far out per instruction but under the floors: noise.
        assert!(judge(300, cost(20_000, 20 << 20)).is_empty());
        // Too small a module to judge per instruction.
        assert!(judge(50, cost(320_000, 320 << 20)).is_empty());
        // An engine with no reference is never judged.
        assert!(baseline
            .outliers(&limits, "other", 4000, &cost(10_000_000, 1 << 30))
            .is_empty());
        let outlier = baseline.outliers(&limits, "jit", 4000, &cost(320_000, 0))[0];
        let text = outlier.describe();
        // The median is about 2,100 ns: 2,000 plus the jitter's 5%.
        assert!(
            text.starts_with(
                "compile-time 80000 ns per instruction, 38 times this run's median of 2100 ns over 200 cases"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_newer_reference_replaces_an_older_one() {
        let old = Baseline {
            references: BTreeMap::from([(
                "jit".to_string(),
                BTreeMap::from([
                    (Metric::CompileTime, Reference::of(&[1.0]).unwrap()),
                    (Metric::CompileHeap, Reference::of(&[2.0]).unwrap()),
                ]),
            )]),
        };
        let newer = Baseline {
            references: BTreeMap::from([(
                "jit".to_string(),
                BTreeMap::from([(Metric::CompileTime, Reference::of(&[5.0]).unwrap())]),
            )]),
        };
        let merged = old.updated_by(newer);
        let jit = &merged.references["jit"];
        assert_eq!(jit[&Metric::CompileTime].log2_median, 5.0);
        assert_eq!(jit[&Metric::CompileHeap].log2_median, 2.0);
        let constant = Reference::of(&[3.0, 3.0, 3.0]).unwrap();
        assert_eq!(constant.deviations(16.0), f64::INFINITY);
        assert_eq!(constant.deviations(8.0), 0.0);
        let json = serde_json::to_string(&merged).unwrap();
        assert_eq!(serde_json::from_str::<Baseline>(&json).unwrap(), merged);
    }
}
