//! The configuration matrix: the oracle plus every engine variant, built
//! once per process; `judge::case` runs a case on it and judges the runs.

use crate::case::module_info::validates_with;
use crate::case::plan::Plan;
use crate::engine::id::EngineId;
use crate::engine::outcome::EngineRun;
use crate::engine::{build_engine, Engine, ExecutionConfig};
use anyhow::{bail, Context, Result};
use std::collections::HashSet;
use std::sync::OnceLock;

/// Which engines make up the matrix (`[matrix]`).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// The reference engine.
    #[serde(default = "default_oracle")]
    pub oracle: String,
    /// The engines compared with the oracle.
    #[serde(default = "default_engines")]
    pub engines: Vec<String>,
    /// Engines of other implementation families, run only on a case whose
    /// engines disagree, to tell which side is right (`engine::family`).
    #[serde(default = "default_tie_breakers")]
    pub tie_breakers: Vec<String>,
    /// A Wasmtime-only sub-matrix for modules using proposals the oracle
    /// lacks (`+proposals` variants); the first is its reference.
    #[serde(default = "default_proposal_engines")]
    pub proposal_engines: Vec<String>,
    /// A second Wasmtime release (its major) every Wasmtime engine of
    /// `engines` also runs on, as `NAME@MAJOR` (`engine::other_release`):
    /// the previous release as the reference of a release candidate.
    #[serde(default)]
    pub reference_release: Option<u64>,
}

impl Default for MatrixConfig {
    fn default() -> Self {
        MatrixConfig {
            oracle: default_oracle(),
            engines: default_engines(),
            tie_breakers: default_tie_breakers(),
            proposal_engines: default_proposal_engines(),
            reference_release: None,
        }
    }
}

/// The interpreter, the one engine that shares no code with Wasmtime.
pub fn default_oracle() -> String {
    "wasmi".to_string()
}

/// The embedders' default configuration, Cranelift with explicit checks
/// (tail calls on and off), signals-based traps, an unbudgeted variant,
/// the configuration swarm, and the newest release through its C API.
pub fn default_engines() -> Vec<String> {
    [
        "wasmtime-default",
        "cranelift-tail-explicit",
        "cranelift-notail-signals",
        "cranelift-notail-explicit+nofuel",
        "wasmtime-swarm",
        "wasmtime-default@51",
    ]
    .map(String::from)
    .to_vec()
}

impl MatrixConfig {
    /// `engines`, followed by each Wasmtime engine among them on the
    /// reference release when one is set. An injected fault stands for a
    /// bug new in this build: its twin on the reference release is the
    /// engine without it.
    pub fn compared_engines(&self) -> Vec<String> {
        let mut all = self.engines.clone();
        if let Some(major) = self.reference_release {
            for engine in self.engines.iter().map(|e| EngineId::parse(e)) {
                let twin = engine.without_fault().on_release(Some(major)).to_string();
                if is_wasmtime_engine(&engine) && engine.release().is_none() && !all.contains(&twin)
                {
                    all.push(twin);
                }
            }
        }
        all
    }
}

/// Whether `engine` is a Wasmtime variant (possibly with an injected fault
/// or sabotage).
fn is_wasmtime_engine(engine: &EngineId) -> bool {
    let base = engine
        .sabotage()
        .map_or(engine.base(), |(variant, _)| variant);
    crate::engine::WasmtimeVariant::parse(base).is_some()
}

/// Cranelift at opt level none as the reference, the embedders' default
/// and the explicit-checks variant at opt level speed, and Pulley: three
/// implementation families of Wasmtime (Winch refuses these proposals).
pub fn default_proposal_engines() -> Vec<String> {
    [
        "cranelift-tail-signals+opt-none+proposals",
        "wasmtime-default+proposals",
        "cranelift-tail-explicit+proposals",
        "pulley-tail-signals+proposals",
    ]
    .map(String::from)
    .to_vec()
}

/// Cranelift at opt level none (shares the x64 lowering, not the
/// optimizer's rewrites), Pulley (shares the optimizer, not the x64
/// backend) and Winch (shares neither).
pub fn default_tie_breakers() -> Vec<String> {
    [
        "cranelift-tail-signals+opt-none",
        "pulley-tail-signals",
        "winch-notail-signals",
    ]
    .map(String::from)
    .to_vec()
}

/// The engines a case runs on; the oracle comes first. Tie-breakers run
/// only when the engines disagree. A second set with much larger stacks,
/// built the first time it is needed, runs a case again when some engines
/// overflowed their stack and others did not.
pub struct Matrix {
    pub(crate) normal: Engines,
    /// The Wasmtime-only sub-matrix for modules using proposals the oracle
    /// lacks; empty when not configured.
    pub(crate) proposals: Engines,
    /// The limits the engines were built with.
    pub(crate) limits: ExecutionConfig,
    /// `normal` and `proposals` with larger stacks (`None` if they could
    /// not be built: the first run's verdict then stands).
    pub(crate) larger_stacks: OnceLock<Option<Engines>>,
    pub(crate) proposals_larger_stacks: OnceLock<Option<Engines>>,
}

/// The matrix's engines built with one set of limits.
pub(crate) struct Engines {
    pub(crate) engines: Vec<Box<dyn Engine>>,
    pub(crate) tie_breakers: Vec<Box<dyn Engine>>,
    /// The tie-breakers without fuel or epochs, run where an engine
    /// without either ran on: whether another family's code without a
    /// budget's checks ends the step tells a bug in what they do not share
    /// from one that every loop without a trap exit shows
    /// (`pipeline::findings`).
    pub(crate) hang_witnesses: Vec<Box<dyn Engine>>,
    /// Where the set's engines start in [`Matrix::all_names`].
    pub(crate) first_index: usize,
}

impl Engines {
    fn build(names: &[String], limits: &ExecutionConfig) -> Result<Engines> {
        let engines = names
            .iter()
            .map(|name| {
                build_engine(name, limits).with_context(|| format!("building engine {name:?}"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Engines {
            engines,
            tie_breakers: Vec::new(),
            hang_witnesses: Vec::new(),
            first_index: 0,
        })
    }

    pub(crate) fn names(&self) -> Vec<&str> {
        self.engines.iter().map(|e| e.name()).collect()
    }

    /// The same engines (names round-trip through `build_engine`) built
    /// with other limits.
    pub(crate) fn rebuilt(&self, limits: &ExecutionConfig) -> Result<Engines> {
        let names = |set: &[Box<dyn Engine>]| -> Vec<String> {
            set.iter().map(|e| e.name().to_string()).collect()
        };
        let mut rebuilt = Engines::build(&names(&self.engines), limits)?;
        rebuilt.tie_breakers = Engines::build(&names(&self.tie_breakers), limits)?.engines;
        rebuilt.hang_witnesses = Engines::build(&names(&self.hang_witnesses), limits)?.engines;
        rebuilt.first_index = self.first_index;
        Ok(rebuilt)
    }
}

/// `name` (a Wasmtime variant with fuel or an epoch deadline) without
/// either, as a hang witness; `None` for any other engine.
fn unbudgeted_twin(name: &str) -> Option<String> {
    let id = EngineId::parse(name);
    if id.fault().is_some() || id.release().is_some() {
        return None;
    }
    let variant = id.variant()?;
    (variant.budget != crate::engine::Budget::None).then(|| {
        crate::engine::WasmtimeVariant {
            budget: crate::engine::Budget::None,
            ..variant
        }
        .name()
    })
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
        Ok(Matrix {
            normal: Engines::build(&names, limits)?,
            proposals: Engines::build(&[], limits)?,
            limits: limits.clone(),
            larger_stacks: OnceLock::new(),
            proposals_larger_stacks: OnceLock::new(),
        })
    }

    /// The same matrix with a Wasmtime-only sub-matrix of `names` (the
    /// first its reference) for modules that use proposals the oracle
    /// lacks but these engines support.
    pub fn with_proposal_engines(
        mut self,
        names: &[String],
        limits: &ExecutionConfig,
    ) -> Result<Matrix> {
        if names.len() == 1 {
            bail!("the proposal sub-matrix needs at least two engines, got only {names:?}");
        }
        let first_index = self.all_names().len();
        self.proposals = Engines::build(names, limits).context("building the proposal engines")?;
        self.proposals.first_index = first_index;
        Ok(self)
    }

    /// The same matrix with `names` as tie-breakers (an engine already in
    /// the matrix is not run twice).
    pub fn with_tie_breakers(
        mut self,
        names: &[String],
        limits: &ExecutionConfig,
    ) -> Result<Matrix> {
        for name in names {
            if self.all_names().contains(&name.as_str()) {
                continue;
            }
            let engine = build_engine(name, limits)
                .with_context(|| format!("building tie-breaker {name:?}"))?;
            self.normal.tie_breakers.push(engine);
        }
        for name in names.iter().filter_map(|name| unbudgeted_twin(name)) {
            if self.all_names().contains(&name.as_str()) {
                continue;
            }
            let engine = build_engine(&name, limits)
                .with_context(|| format!("building hang witness {name:?}"))?;
            self.normal.hang_witnesses.push(engine);
        }
        // The proposal engines' steps are numbered after the tie-breakers
        // and hang witnesses.
        self.proposals.first_index = self.normal.engines.len()
            + self.normal.tie_breakers.len()
            + self.normal.hang_witnesses.len();
        Ok(self)
    }

    /// The tie-breakers.
    pub fn tie_breakers(&self) -> &[Box<dyn Engine>] {
        &self.normal.tie_breakers
    }

    /// Every engine name, the matrix's (oracle first), the tie-breakers',
    /// the hang witnesses', then the proposal engines': what a [`Step`]
    /// index refers to.
    pub fn all_names(&self) -> Vec<&str> {
        self.normal
            .engines
            .iter()
            .chain(&self.normal.tie_breakers)
            .chain(&self.normal.hang_witnesses)
            .chain(&self.proposals.engines)
            .map(|e| e.name())
            .collect()
    }

    /// Whether `wasm` goes to the Wasmtime-only sub-matrix: it needs a
    /// proposal the oracle lacks, and the sub-matrix's reference accepts it.
    pub fn runs_on_proposal_engines(&self, wasm: &[u8]) -> bool {
        match (self.normal.engines.first(), self.proposals.engines.first()) {
            (Some(oracle), Some(reference)) => {
                !validates_with(wasm, oracle.features())
                    && validates_with(wasm, reference.features())
            }
            _ => false,
        }
    }

    /// The engines, oracle first.
    pub fn engines(&self) -> &[Box<dyn Engine>] {
        &self.normal.engines
    }

    /// The engine names, oracle first.
    pub fn names(&self) -> Vec<&str> {
        self.normal.names()
    }
}

/// Runs `plan` on `engine`, calling `compiled` when running begins; a
/// panic is the engine's crash, named as a runtime panic after compiling.
pub fn run_caught(
    engine: &dyn Engine,
    wasm: &[u8],
    plan: &Plan,
    compiled: &mut dyn FnMut(),
) -> EngineRun {
    let mut running = false;
    crate::engine::panics::catch(|| {
        engine.execute_observed(wasm, plan, &mut || {
            running = true;
            compiled()
        })
    })
    .unwrap_or_else(|message| EngineRun::Crashed(panic_text(running, message)))
}

/// Prefix of the crash message of a panic raised after the engine compiled
/// the module: in its runtime (instantiating, calling, reading state), not
/// in its compiler.
pub const RUNTIME_PANIC: &str = "runtime panic, not compiling: ";

/// A panic's crash message: compile panics keep their message (their
/// signatures are the store's and the known-bug rules'), runtime panics
/// say so.
fn panic_text(running: bool, message: String) -> String {
    if running {
        format!("{RUNTIME_PANIC}{message}")
    } else {
        message
    }
}
