//! Fuzz health over a window of the store's history: the figures the
//! release gate judges and the dashboard shows.

use super::counter::Counter;
use super::distribution::{is_bucket, Distribution};
use super::exercised::Exercised;
use super::rule_coverage::RuleCoverage;
use super::stats::ALL_ENGINES;
use crate::config::Config;
use crate::store::Status;
use crate::store::{Counters, Run, Store, StoredFinding, Window};
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;

/// The figures of one window.
#[derive(Clone, Debug, Serialize)]
pub struct Health {
    /// Daemon runs in the window, newest first.
    pub runs: Vec<RunFigures>,
    /// Cases finished.
    pub cases: u64,
    /// Seconds the window's runs ran.
    pub seconds: u64,
    /// Cases finished per second of running.
    pub cases_per_second: f64,
    /// Verdicts by label (`agree`, `mismatch`, `inconclusive:fuel`, ...).
    pub verdicts: BTreeMap<String, u64>,
    /// Per engine: `ran`, `rejected-expected`, `crashed`, ... (time
    /// distribution buckets excluded).
    pub engines: BTreeMap<String, BTreeMap<String, u64>>,
    /// Per engine: upper bounds of the median and 99th percentile compile
    /// and run times, from the distribution counters.
    pub costs: BTreeMap<String, CostFigures>,
    /// Instruction coverage: occurrences in the generated modules by name.
    pub instructions: BTreeMap<String, u64>,
    /// Findings hit in the window (merged ones excluded), most hit first.
    pub findings: Vec<FindingFigures>,
    /// What the cases exercised: stack overflows per engine, deep tail
    /// loops completed, stack-passed arguments, cases per feature.
    pub exercised: Exercised,
    /// Rule coverage of rule-guided generation.
    pub rules: RuleCoverage,
}

/// One engine's time distributions, as bucket bounds in microseconds (the
/// true figure is at most the bound and above half of it).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CostFigures {
    /// Median compile time.
    pub compile_p50_us: Option<u64>,
    /// 99th percentile compile time.
    pub compile_p99_us: Option<u64>,
    /// Median CPU time of a compile.
    pub compile_cpu_p50_us: Option<u64>,
    /// 99th percentile CPU time of a compile.
    pub compile_cpu_p99_us: Option<u64>,
    /// Median run time (instantiation and calls).
    pub run_p50_us: Option<u64>,
    /// 99th percentile run time.
    pub run_p99_us: Option<u64>,
    /// Median peak heap of a compile, bytes.
    pub compile_heap_p50: Option<u64>,
    /// 99th percentile peak heap of a compile, bytes.
    pub compile_heap_p99: Option<u64>,
    /// Median size of the generated machine code, bytes (JITs only).
    pub code_bytes_p50: Option<u64>,
    /// 99th percentile size of the generated machine code, bytes.
    pub code_bytes_p99: Option<u64>,
}

/// The bucket bound below which `share` of a distribution's samples lie:
/// `buckets` maps k to the samples of at most 2^k.
fn quantile(buckets: &BTreeMap<u32, u64>, share: f64) -> Option<u64> {
    let total: u64 = buckets.values().sum();
    if total == 0 {
        return None;
    }
    let wanted = (total as f64 * share).ceil() as u64;
    let mut seen = 0;
    for (k, n) in buckets {
        seen += n;
        if seen >= wanted {
            return Some(1u64 << (*k).min(63));
        }
    }
    None
}

/// Each engine's compile and run time, compile heap and code size figures
/// from the counters.
fn cost_figures(counters: &Counters) -> BTreeMap<String, CostFigures> {
    let compile = Distribution::CompileMicros.per_engine(counters);
    let compile_cpu = Distribution::CompileCpuMicros.per_engine(counters);
    let run = Distribution::RunMicros.per_engine(counters);
    let heap = Distribution::CompileHeap.per_engine(counters);
    let code = Distribution::CodeBytes.per_engine(counters);
    let empty = BTreeMap::new();
    let of = |d: &BTreeMap<String, BTreeMap<u32, u64>>, engine: &str, share: f64| {
        quantile(d.get(engine).unwrap_or(&empty), share)
    };
    compile
        .keys()
        .chain(run.keys())
        .map(|engine| {
            (
                engine.clone(),
                CostFigures {
                    compile_p50_us: of(&compile, engine, 0.5),
                    compile_p99_us: of(&compile, engine, 0.99),
                    compile_cpu_p50_us: of(&compile_cpu, engine, 0.5),
                    compile_cpu_p99_us: of(&compile_cpu, engine, 0.99),
                    run_p50_us: of(&run, engine, 0.5),
                    run_p99_us: of(&run, engine, 0.99),
                    compile_heap_p50: of(&heap, engine, 0.5),
                    compile_heap_p99: of(&heap, engine, 0.99),
                    code_bytes_p50: of(&code, engine, 0.5),
                    code_bytes_p99: of(&code, engine, 0.99),
                },
            )
        })
        .collect()
}

/// A run as the dashboard and the gate show it.
#[derive(Clone, Debug, Serialize)]
pub struct RunFigures {
    /// Run id.
    pub id: i64,
    /// Unix seconds.
    pub started_at: i64,
    /// Unix seconds; `None` while running.
    pub ended_at: Option<i64>,
    /// Why it stopped.
    pub stop_reason: Option<String>,
    /// Cases finished.
    pub cases: i64,
    /// Findings first seen in it.
    pub new_findings: i64,
    /// Worker processes.
    pub workers: i64,
    /// The matrix, oracle first.
    pub engines: String,
    /// Seconds it ran (to its latest checkpoint while running).
    pub seconds: i64,
}

impl From<&Run> for RunFigures {
    fn from(run: &Run) -> Self {
        RunFigures {
            id: run.id,
            started_at: run.started_at,
            ended_at: run.ended_at,
            stop_reason: run.stop_reason.clone(),
            cases: run.cases,
            new_findings: run.new_findings,
            workers: run.workers,
            engines: run.engines.clone(),
            seconds: (run.ended_at.unwrap_or(run.updated_at) - run.started_at).max(0),
        }
    }
}

/// A finding with what the current configuration says about it.
#[derive(Clone, Debug, Serialize)]
pub struct FindingFigures {
    /// The stored finding.
    #[serde(flatten)]
    pub finding: FindingJson,
    /// `open` and not covered by a suppression rule of the current
    /// configuration (the store's status may predate the rule).
    pub needs_attention: bool,
}

/// A finding's fields as JSON.
#[derive(Clone, Debug, Serialize)]
pub struct FindingJson {
    /// Row id.
    pub id: i64,
    /// Dedup key.
    pub signature: String,
    /// What kind of finding it is.
    pub kind: oracles::judge::kind::FindingKind,
    /// `open`, `fixed`, `ignored`, `suppressed`.
    pub status: Status,
    /// Cases that hit it.
    pub hits: i64,
    /// Unix seconds.
    pub first_seen: i64,
    /// Unix seconds.
    pub last_seen: i64,
    /// The seed of its first case.
    pub first_seed: Option<u64>,
    /// Who is probably wrong, in words.
    pub suspect: Option<String>,
    /// Re-runs that gave the signature, once triaged (`3/3`).
    pub reproducible: Option<String>,
    /// Bytes of the shrunk module.
    pub shrunk_size: Option<i64>,
    /// Where the module came from when not from its seed.
    pub source: Option<String>,
    /// The finding it was merged into (its status is then `merged`).
    pub merged_into: Option<i64>,
    /// Its group (the findings of one trigger), once triaged.
    pub group: Option<i64>,
}

impl FindingJson {
    /// Whether triage found it flaky (`crate::store::is_flaky`).
    pub fn is_flaky(&self) -> bool {
        crate::store::is_flaky(self.reproducible.as_deref())
    }
}

impl From<&StoredFinding> for FindingJson {
    fn from(f: &StoredFinding) -> Self {
        FindingJson {
            id: f.id,
            signature: f.signature.clone(),
            kind: f.kind,
            status: f.status,
            hits: f.hits,
            first_seen: f.first_seen,
            last_seen: f.last_seen,
            first_seed: f.first_seed,
            suspect: f.suspect.clone(),
            reproducible: f.reproducible.clone(),
            shrunk_size: f.shrunk_size,
            source: f.source.clone(),
            merged_into: f.merged_into,
            group: f.group,
        }
    }
}

impl Health {
    /// Reads the window's figures; suppression rules come from `config`.
    pub fn load(store: &Store, config: &Config, window: Window) -> Result<Health> {
        let runs = store.window_runs(window)?;
        let start = store.window_start(window)?;
        let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
        let counters = store.counters_of_runs(&ids)?;
        let runs: Vec<RunFigures> = runs.iter().map(RunFigures::from).collect();
        let seconds = runs.iter().map(|r| r.seconds as u64).sum::<u64>();
        let (cases, verdicts, engines, instructions) = split_counters(&counters);
        let findings = store
            .findings_hit_since(start)?
            .iter()
            .map(|f| FindingFigures {
                needs_attention: f.status == Status::Open && !suppressed_now(store, config, f),
                finding: f.into(),
            })
            .collect();
        Ok(Health {
            runs,
            cases,
            seconds,
            cases_per_second: if seconds == 0 {
                0.0
            } else {
                cases as f64 / seconds as f64
            },
            verdicts,
            engines,
            costs: cost_figures(&counters),
            instructions,
            findings,
            exercised: Exercised::from_counters(&counters),
            rules: RuleCoverage::from_counters(&counters),
        })
    }

    /// The share of cases whose verdict label starts with `prefix`.
    pub fn verdict_share(&self, prefix: &str) -> f64 {
        if self.cases == 0 {
            return 0.0;
        }
        let n: u64 = self
            .verdicts
            .iter()
            .filter(|(label, _)| label.starts_with(prefix))
            .map(|(_, n)| n)
            .sum();
        n as f64 / self.cases as f64
    }
}

/// Whether a rule of the current configuration covers the finding.
fn suppressed_now(store: &Store, config: &Config, finding: &StoredFinding) -> bool {
    let wasm = store.read_artifact(&finding.artifact).unwrap_or_default();
    config
        .library
        .triage
        .suppression_for(&finding.signature, finding.suspect.as_deref(), &wasm)
        .is_some()
}

type Split = (
    u64,
    BTreeMap<String, u64>,
    BTreeMap<String, BTreeMap<String, u64>>,
    BTreeMap<String, u64>,
);

/// Cases, verdicts, per-engine counters and instruction counts.
fn split_counters(counters: &Counters) -> Split {
    let mut cases = 0;
    let mut verdicts = BTreeMap::new();
    let mut engines: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut instructions = BTreeMap::new();
    for ((engine, name), value) in counters {
        if engine == ALL_ENGINES {
            match Counter::parse(name) {
                Counter::Cases => cases = *value,
                Counter::Verdict(label) => {
                    verdicts.insert(label, *value);
                }
                Counter::Op(op) => {
                    instructions.insert(op, *value);
                }
                _ => {}
            }
        } else if !is_bucket(name) {
            engines
                .entry(engine.clone())
                .or_default()
                .insert(name.clone(), *value);
        }
    }
    (cases, verdicts, engines, instructions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_power_of_two_buckets() {
        let buckets: BTreeMap<u32, u64> = [(3, 50), (4, 49), (10, 1)].into_iter().collect();
        assert_eq!(quantile(&buckets, 0.5), Some(8));
        assert_eq!(quantile(&buckets, 0.99), Some(16));
        assert_eq!(quantile(&buckets, 1.0), Some(1024));
        assert_eq!(quantile(&BTreeMap::new(), 0.5), None);
        let counters: Counters = [
            (("wasmi".to_string(), "compile-us<=2^8".to_string()), 10),
            (("wasmi".to_string(), "run-us<=2^9".to_string()), 10),
            (("wasmi".to_string(), "ran".to_string()), 10),
        ]
        .into_iter()
        .collect();
        let figures = &cost_figures(&counters)["wasmi"];
        assert_eq!(
            (figures.compile_p50_us, figures.run_p99_us),
            (Some(256), Some(512))
        );
    }
}
