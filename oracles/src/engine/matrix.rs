//! The configuration matrix: the oracle plus every engine variant, built
//! once per process and run on each case.

use crate::case::module_info::validates_with;
use crate::case::plan::Plan;
use crate::engine::{build_engine, Engine, ExecutionConfig};
use crate::judge::compare::{compare, Comparison};
use crate::judge::outcome::EngineRun;
use anyhow::{bail, Context, Result};
use std::collections::HashSet;

/// Which engines make up the matrix (`[matrix]`).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// The reference engine.
    pub oracle: String,
    /// The engines compared with the oracle.
    pub engines: Vec<String>,
}

/// The engines a case runs on; the oracle comes first.
pub struct Matrix {
    engines: Vec<Box<dyn Engine>>,
}

/// Where a case is inside the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The engine with this index begins compiling.
    Compiling(usize),
    /// The engine with this index has compiled and begins to instantiate
    /// and run.
    Running(usize),
}

/// Every engine's run of one module, and the verdict.
#[derive(Clone, Debug)]
pub struct CaseReport {
    /// `(engine name, run)` in matrix order.
    pub runs: Vec<(String, EngineRun)>,
    /// The comparison of those runs.
    pub comparison: Comparison,
}

impl Matrix {
    /// Builds `oracle` followed by `others` (the oracle may also be listed
    /// there; it is run once).
    pub fn new(oracle: &str, others: &[String], limits: &ExecutionConfig) -> Result<Matrix> {
        let mut names = vec![oracle.to_string()];
        let mut seen: HashSet<&str> = HashSet::from([oracle]);
        for name in others {
            if seen.insert(name) {
                names.push(name.clone());
            }
        }
        if names.len() < 2 {
            bail!("the matrix needs at least two engines to compare, got only {oracle:?}");
        }
        let engines = names
            .iter()
            .map(|name| {
                build_engine(name, limits).with_context(|| format!("building engine {name:?}"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Matrix { engines })
    }

    /// The engines, oracle first.
    pub fn engines(&self) -> &[Box<dyn Engine>] {
        &self.engines
    }

    /// The engine names, oracle first.
    pub fn names(&self) -> Vec<&str> {
        self.engines.iter().map(|e| e.name()).collect()
    }

    /// Runs `plan` on every engine and compares.
    pub fn run(&self, wasm: &[u8], plan: &Plan) -> CaseReport {
        self.run_observed(wasm, plan, &mut |_| {})
    }

    /// Like [`Matrix::run`], telling `observe` each engine's steps as they
    /// begin: if the process dies inside an engine, whoever watches it
    /// knows which one, and whether it was compiling or running.
    pub fn run_observed(
        &self,
        wasm: &[u8],
        plan: &Plan,
        observe: &mut dyn FnMut(Step),
    ) -> CaseReport {
        let runs: Vec<EngineRun> = self
            .engines
            .iter()
            .enumerate()
            .map(|(index, e)| {
                observe(Step::Compiling(index));
                crate::engine::panics::catch(|| {
                    e.execute_observed(wasm, plan, &mut || observe(Step::Running(index)))
                })
                .unwrap_or_else(EngineRun::Crashed)
            })
            .collect();
        let names = self.names();
        let comparison = compare(&names, &runs, plan, |i| {
            !validates_with(wasm, self.engines[i].features())
        });
        CaseReport {
            runs: names.iter().map(|n| n.to_string()).zip(runs).collect(),
            comparison,
        }
    }
}
