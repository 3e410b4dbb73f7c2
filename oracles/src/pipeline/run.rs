//! One case end to end: seed → module → plan → matrix → verdict.

use crate::case::generate::{generate, GeneratedModule, GeneratorConfig};
use crate::case::module_info::ModuleInfo;
use crate::case::plan::Plan;
use crate::engine::matrix::{Matrix, Step};
use crate::engine::outcome::EngineRun;
use crate::engine::ExecutionConfig;
use crate::judge::case::CaseReport;
use crate::profile::{self, Stage};
use anyhow::{Context, Result};

/// A generated case and what the matrix made of it.
#[derive(Clone, Debug)]
pub struct SeedReport {
    /// The module.
    pub module: GeneratedModule,
    /// Its exports and proposals.
    pub info: ModuleInfo,
    /// The calls made.
    pub plan: Plan,
    /// Per-engine runs and the verdict.
    pub report: CaseReport,
}

/// Generates the case for `seed` and runs it on the matrix. Fails only if
/// the generator does (which is itself worth counting).
pub fn run_seed(
    seed: u64,
    generator: &GeneratorConfig,
    execution: &ExecutionConfig,
    matrix: &Matrix,
) -> Result<SeedReport> {
    run_seed_observed(seed, generator, execution, matrix, &mut |_| {})
}

/// Like [`run_seed`], announcing each engine's steps as in
/// [`Matrix::run_observed`].
pub fn run_seed_observed(
    seed: u64,
    generator: &GeneratorConfig,
    execution: &ExecutionConfig,
    matrix: &Matrix,
    observe: &mut dyn FnMut(Step),
) -> Result<SeedReport> {
    let module = profile::time(Stage::Generation, || generate(seed, generator))?;
    run_module_observed(module, execution, matrix, observe)
        .with_context(|| format!("seed {seed}: wasm-smith produced an invalid module"))
}

/// Runs a given module (a stored finding, a shrinking candidate) with the
/// call plan its seed draws, announcing each engine's steps as in
/// [`Matrix::run_observed`]. Fails if the module does not parse.
pub fn run_module_observed(
    module: GeneratedModule,
    execution: &ExecutionConfig,
    matrix: &Matrix,
    observe: &mut dyn FnMut(Step),
) -> Result<SeedReport> {
    run_module_given(module, &Given::default(), execution, matrix, observe)
}

/// What a run of a module takes as already decided.
#[derive(Clone, Debug, Default)]
pub struct Given {
    /// The calls to make, instead of the plan the module's seed draws
    /// (`crosscheck check --invoke`).
    pub plan: Option<Plan>,
    /// Runs of engines that are not run again (`Matrix::run_given`): the
    /// engines that took earlier worker processes down with this case.
    pub runs: Vec<(String, EngineRun)>,
}

/// Like [`run_module_observed`], with the plan or some engines' runs
/// given.
pub fn run_module_given(
    module: GeneratedModule,
    given: &Given,
    execution: &ExecutionConfig,
    matrix: &Matrix,
    observe: &mut dyn FnMut(Step),
) -> Result<SeedReport> {
    let (info, plan) = profile::time(Stage::Plan, || -> Result<_> {
        let info = ModuleInfo::parse(&module.wasm)?;
        let plan = match &given.plan {
            Some(plan) => plan.clone(),
            None => Plan::from_seed(&info, module.seed, execution.calls_per_export),
        };
        Ok((info, plan))
    })?;
    let report = matrix.run_given(&module.wasm, &plan, &given.runs, observe);
    Ok(SeedReport {
        module,
        info,
        plan,
        report,
    })
}

/// The module of a seed, for the record of a case that did not finish;
/// empty if generation itself fails (the seed still reproduces it).
pub fn module_for_seed(seed: u64, generator: &GeneratorConfig) -> Vec<u8> {
    crate::engine::panics::catch(|| generate(seed, generator))
        .ok()
        .and_then(Result::ok)
        .map(|m| m.wasm)
        .unwrap_or_default()
}
