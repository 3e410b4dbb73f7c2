//! One case end to end: seed → module → plan → matrix → verdict.

use crate::case::generate::{generate, GeneratedModule, GeneratorConfig};
use crate::case::module_info::ModuleInfo;
use crate::case::plan::Plan;
use crate::engine::id::EngineId;
use crate::engine::matrix::{Matrix, Step};
use crate::engine::outcome::EngineRun;
use crate::engine::ExecutionConfig;
use crate::judge::case::CaseReport;
use crate::profile::{self, Stage};
use anyhow::Result;

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

/// What a case is made of.
pub enum CaseSource<'a> {
    /// A seed, generated from with `[generator]`.
    Seed(u64, &'a GeneratorConfig),
    /// A given module (a stored finding, a shrinking candidate, a fuzzer's
    /// input) with the seed its call plan and swarm draw from.
    Module(GeneratedModule),
}

/// What a run of a case takes as already decided.
#[derive(Clone, Debug, Default)]
pub struct Given {
    /// The calls to make, instead of the plan the module's seed draws
    /// (`crosscheck check --invoke`).
    pub plan: Option<Plan>,
    /// Runs of engines that are not run again (`Matrix::run_given`): the
    /// engines that took earlier worker processes down with this case.
    pub runs: Vec<(EngineId, EngineRun)>,
}

/// Runs a case on the matrix, the one way every caller does: `given`
/// decides the plan or some engines' runs, `observe` hears each engine's
/// steps (as in [`Matrix::run_observed`]). Fails if the generator fails
/// (itself worth counting) or the module does not parse.
pub fn run_case(
    source: CaseSource<'_>,
    given: &Given,
    execution: &ExecutionConfig,
    matrix: &Matrix,
    observe: &mut dyn FnMut(Step),
) -> Result<SeedReport> {
    let (module, generated) = match source {
        CaseSource::Seed(seed, generator) => (
            profile::time(Stage::Generation, || generate(seed, generator))?,
            true,
        ),
        CaseSource::Module(module) => (module, false),
    };
    let planned = profile::time(Stage::Plan, || -> Result<_> {
        let info = ModuleInfo::parse(&module.wasm)?;
        let plan = match &given.plan {
            Some(plan) => plan.clone(),
            None => Plan::from_seed(&info, module.seed, execution.calls_per_export),
        };
        Ok((info, plan))
    });
    let (info, plan) = match planned {
        Err(e) if generated => {
            return Err(e.context(format!(
                "seed {}: wasm-smith produced an invalid module",
                module.seed
            )))
        }
        other => other?,
    };
    let report = matrix.run_given(&module.wasm, &plan, &given.runs, observe);
    Ok(SeedReport {
        module,
        info,
        plan,
        report,
    })
}

/// Generates the case for `seed` and runs it: [`run_case`] with nothing
/// given and nobody observing.
pub fn run_seed(
    seed: u64,
    generator: &GeneratorConfig,
    execution: &ExecutionConfig,
    matrix: &Matrix,
) -> Result<SeedReport> {
    run_case(
        CaseSource::Seed(seed, generator),
        &Given::default(),
        execution,
        matrix,
        &mut |_| {},
    )
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
