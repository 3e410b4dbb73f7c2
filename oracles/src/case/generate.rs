//! Seed → module: swarm-configured wasm-smith generation, clamped so that
//! every generated module is safe to compare between wasmi and Wasmtime.

use crate::case::passes::{self, PassesConfig};
use crate::case::rules::{self, RulesConfig};
use crate::case::stack_program::{self, StackProgramConfig};
use crate::case::termination;
use anyhow::{Context, Result};
use arbitrary::{Arbitrary, Unstructured};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Generator settings (`[generator]` in `config.toml`). Together with a seed
/// they determine a module byte for byte.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeneratorConfig {
    /// Bytes of seed-derived entropy handed to `arbitrary`. Too few truncate
    /// modules; past what generation consumes, more change nothing.
    pub entropy_bytes: usize,
    /// Fuel for wasm-smith's `ensure_termination`: loop iterations and calls
    /// one instance may make before it traps with `unreachable`.
    pub termination_fuel: u32,
    /// Upper bound on functions per module.
    pub max_funcs: usize,
    /// Upper bound on instructions per function body.
    pub max_instructions: usize,
    /// Upper bound on globals, types, data and element segments each.
    pub max_items: usize,
    /// Upper bound on memories (more than one needs multi-memory).
    pub max_memories: usize,
    /// Upper bound on tables.
    pub max_tables: usize,
    /// Upper bound on every memory's initial and maximum size, in 64 KiB pages.
    pub max_memory_pages: u64,
    /// Upper bound on every table's initial and maximum size.
    pub max_table_elements: u64,
    /// Share of the wasm-smith cases that may use the proposals the
    /// oracle lacks (typed function references, GC, exceptions, relaxed
    /// SIMD), run on the Wasmtime-only sub-matrix
    /// (`[matrix] proposal_engines`).
    pub proposals_share: f64,
    /// Share of the wasm-smith cases whose loops count their iterations in
    /// a local of their function (`case::termination::count_loops_locally`)
    /// instead of in the termination-fuel global, which every loop would
    /// otherwise load and store: instance state in every iteration keeps
    /// memory optimizations from firing.
    pub local_loop_counters_share: f64,
    /// Share of the wasm-smith cases (without the oracle-less proposals)
    /// that import functions, memories, tables and globals, which the
    /// harness links for every engine alike (`case::imports`): embedders
    /// link them in nearly every deployment, and Wasmtime compiles
    /// accesses to an imported memory, table or global through other code
    /// than to a defined one. 0 also keeps the pass shapes' memories
    /// their own (otherwise a third of them import it).
    pub imports_share: f64,
    /// Share of the wasm-smith cases whose loops and calls carry no
    /// termination counter at all, so a loop may never end: a counter
    /// that traps gives the optimizer a trap exit from every loop, and
    /// one that ends the loop lets every later access run, so the bugs of
    /// passes that reason about divergence (dead stores across a loop
    /// that never exits, code motion out of one) cannot show. The
    /// engines' budgets end such calls.
    pub endless_loops_share: f64,
    /// What the budgets (`[execution] fuel` and `epoch_deadline_ms`) of
    /// such a case's steps are divided by: a call that never ends then
    /// costs a fraction of a full budget on every engine. Recorded in the
    /// module (`case::termination::BUDGET_SECTION`).
    pub endless_loops_budget_divisor: u64,
    /// Stack programs (`[generator.stack]`), a share of all cases.
    pub stack: StackProgramConfig,
    /// Rule-guided cases (`[generator.rules]`), a share of all cases.
    pub rules: RulesConfig,
    /// Pass-aimed cases (`[generator.passes]`), a share of all cases.
    pub passes: PassesConfig,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            entropy_bytes: 32768,
            termination_fuel: 1000,
            max_funcs: 8,
            max_instructions: 1000,
            max_items: 24,
            max_memories: 2,
            max_tables: 2,
            max_memory_pages: 16,
            max_table_elements: 1000,
            proposals_share: 0.05,
            local_loop_counters_share: 0.5,
            imports_share: 0.4,
            endless_loops_share: 0.25,
            endless_loops_budget_divisor: 50,
            stack: StackProgramConfig::default(),
            rules: RulesConfig::default(),
            passes: PassesConfig::default(),
        }
    }
}

/// A generated module and what was switched on to make it.
#[derive(Clone, Debug)]
pub struct GeneratedModule {
    /// The seed it came from.
    pub seed: u64,
    /// The module binary.
    pub wasm: Vec<u8>,
    /// Which swarm features were on, e.g. `["simd", "tail-call"]`; for a
    /// stack program its shape (`stack:tail-loop`) and what it uses
    /// (`tail-call`, `stack-args`); `rule-guided` for a case aimed at a
    /// Cranelift rule.
    pub features: Vec<&'static str>,
}

/// Which generator made a module: the four ways a case is built, and
/// wasm-smith with the proposals only the Wasmtime sub-matrix runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// wasm-smith's swarm, within what wasmi runs.
    WasmSmith,
    /// wasm-smith with GC, exceptions or relaxed SIMD.
    Proposals,
    /// A stack program (deep recursion, tail-call loops).
    Stack,
    /// A case aimed at a Cranelift rule.
    RuleGuided,
    /// A case aimed at an optimization pass.
    PassAimed,
}

impl Mode {
    /// Every mode, in the order they are shown.
    pub const ALL: [Mode; 5] = [
        Mode::WasmSmith,
        Mode::Proposals,
        Mode::Stack,
        Mode::RuleGuided,
        Mode::PassAimed,
    ];

    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Mode::WasmSmith => "wasm-smith",
            Mode::Proposals => "wasm-smith with proposals",
            Mode::Stack => "stack program",
            Mode::RuleGuided => "rule-guided",
            Mode::PassAimed => "pass-aimed",
        }
    }
}

impl GeneratedModule {
    /// Which generator made the module, read from its features.
    pub fn mode(&self) -> Mode {
        let has = |f: &str| self.features.contains(&f);
        if self.features.iter().any(|f| f.starts_with("stack:")) {
            Mode::Stack
        } else if has("rule-guided") {
            Mode::RuleGuided
        } else if has("pass-aimed") {
            Mode::PassAimed
        } else if has("gc") || has("exceptions") || has("relaxed-simd") {
            Mode::Proposals
        } else {
            Mode::WasmSmith
        }
    }
}

/// The deterministic byte stream for a seed and a purpose, each purpose an
/// independent ChaCha stream. (Call arguments are drawn per call, keyed by
/// export name and round: see `plan`.)
pub fn seed_stream(seed: u64, purpose: StreamPurpose, len: usize) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(purpose as u64);
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    bytes
}

/// What a seed stream is used for.
#[derive(Clone, Copy, Debug)]
pub enum StreamPurpose {
    /// The module itself.
    Module = 0,
}

/// Generates the module for `seed`.
pub fn generate(seed: u64, settings: &GeneratorConfig) -> Result<GeneratedModule> {
    let bytes = seed_stream(seed, StreamPurpose::Module, settings.entropy_bytes);
    generate_from_entropy(seed, &bytes, settings).with_context(|| format!("seed {seed}"))
}

/// Generates the module for a libFuzzer input: the input's bytes are the
/// entropy wasm-smith draws from (so coverage guidance steers generation),
/// and the seed of its call arguments is [`fuzz_input_seed`]. `crosscheck
/// import` and the `differential` fuzz target both come through here, so an
/// artifact gives the daemon's module, plan and signature.
pub fn generate_from_fuzz_input(
    data: &[u8],
    settings: &GeneratorConfig,
) -> Result<GeneratedModule> {
    generate_from_entropy(fuzz_input_seed(data), data, settings)
}

/// The seed of a fuzz input's call arguments: its first eight SHA-256 bytes.
pub fn fuzz_input_seed(data: &[u8]) -> u64 {
    let digest = Sha256::digest(data);
    u64::from_le_bytes(digest[..8].try_into().expect("SHA-256 has 32 bytes"))
}

/// The module `entropy` builds, recorded under `seed`: a stack program
/// for a share of entropies (`[generator.stack] share`), a module aimed at
/// a Cranelift rule for another (`[generator.rules] share`), one aimed at
/// an optimizer pass or bounds checks for another (`[generator.passes]
/// share`), else wasm-smith's.
/// Which one, and the proposals wasm-smith's own swarm draw leaves out, are
/// decided by a hash of the entropy, so that the seed's stream and the same
/// bytes as a fuzz input build the same module.
fn generate_from_entropy(
    seed: u64,
    entropy: &[u8],
    settings: &GeneratorConfig,
) -> Result<GeneratedModule> {
    let mut module = build_from_entropy(seed, entropy, settings)?;
    // Whichever generator made it: how often cases hold each construct of
    // the typed-reference catalogue is counted.
    module
        .features
        .extend(crate::case::typed_flow::constructs(&module.wasm));
    Ok(module)
}

/// [`generate_from_entropy`]'s module, before its constructs are counted.
fn build_from_entropy(
    seed: u64,
    entropy: &[u8],
    settings: &GeneratorConfig,
) -> Result<GeneratedModule> {
    let coins = Coins::of(entropy);
    if coins.stack_program(settings.stack.share) {
        let mut u = Unstructured::new(entropy);
        let (wasm, program) =
            stack_program::build(&mut u, &settings.stack).context("building a stack program")?;
        let mut features = vec![match program.shape {
            stack_program::StackShape::TailLoop => "stack:tail-loop",
            stack_program::StackShape::MustOverflow => "stack:must-overflow",
            stack_program::StackShape::Fits => "stack:fits",
        }];
        if program.shape == stack_program::StackShape::TailLoop {
            features.push("tail-call");
        }
        if program.call == stack_program::CallKind::Ref {
            features.push("function-references");
        }
        if program.stack_args {
            features.push("stack-args");
        }
        return Ok(GeneratedModule {
            seed,
            wasm,
            features,
        });
    }
    if coins.rule_guided(settings.stack.share, settings.rules.share)
        && rules::catalog::Catalog::get().problem.is_none()
    {
        let mut u = Unstructured::new(entropy);
        let (wasm, _) =
            rules::build(&mut u, &settings.rules).context("building a rule-guided module")?;
        return Ok(GeneratedModule {
            seed,
            wasm,
            features: vec!["rule-guided"],
        });
    }
    if coins.pass_aimed(
        settings.stack.share,
        settings.rules.share,
        settings.passes.share,
    ) {
        let mut u = Unstructured::new(entropy);
        let imports = settings.imports_share > 0.0;
        let (wasm, shape) = passes::build(&mut u, settings.endless_loops_budget_divisor, imports)
            .context("building a pass-aimed module")?;
        let mut features = vec!["pass-aimed", shape.feature()];
        if imports_of(&wasm) > 0 {
            features.push("imports");
        }
        return Ok(GeneratedModule {
            seed,
            wasm,
            features,
        });
    }
    let proposals = coins.proposals(settings.proposals_share);
    let imports = !proposals && coins.imports(settings.imports_share);
    let module = match swarm_module(seed, entropy, settings, &coins, proposals, imports) {
        // wasm-smith refuses some draws with imports (its type-size
        // budget): the same entropy without them.
        Err(_) if imports => swarm_module(seed, entropy, settings, &coins, false, false)?,
        module => module?,
    };
    if proposals && defined_functions(&module.wasm) == 0 {
        // With GC on, wasm-smith may draw only struct and array types and
        // then no function: such a module tests no compiler.
        return swarm_module(seed, entropy, settings, &coins, false, false);
    }
    Ok(module)
}

/// wasm-smith's module for `entropy`, with the proposals the oracle lacks
/// when `proposals` is set, and imports when `imports` is.
fn swarm_module(
    seed: u64,
    entropy: &[u8],
    settings: &GeneratorConfig,
    coins: &Coins,
    proposals: bool,
    imports: bool,
) -> Result<GeneratedModule> {
    let mut u = Unstructured::new(entropy);
    let mut config =
        wasm_smith::Config::arbitrary(&mut u).context("drawing the swarm configuration")?;
    clamp_for_differential(&mut config, settings);
    // wasm-smith's own draw never turns these on; wasmi and Wasmtime both
    // support them. One-byte pages force explicit bounds checks in every
    // Wasmtime configuration, but make memories tiny: on half the modules
    // they halved what the cases compute (an injected i64.mul fault was
    // exposed by 3 instead of 7 of 1,000 seeds), so a quarter.
    config.wide_arithmetic_enabled = coins.wide_arithmetic;
    config.custom_page_sizes_enabled = coins.custom_page_sizes;
    if proposals {
        // For the Wasmtime-only sub-matrix: each proposal on a coin flip,
        // at least one of them (GC brings typed function references, and
        // with tail calls `return_call_ref`).
        config.gc_enabled = coins.gc || !(coins.exceptions || coins.relaxed_simd);
        config.reference_types_enabled |= config.gc_enabled;
        config.exceptions_enabled = coins.exceptions;
        if coins.exceptions {
            config.max_tags = settings.max_items.clamp(1, 4);
        }
        config.relaxed_simd_enabled = coins.relaxed_simd;
        config.simd_enabled |= config.relaxed_simd_enabled;
    }
    // wasm-smith adds functions past the minimum on a coin flip, so counts
    // are geometric (mostly one or two) and calls between functions are
    // rare. Drawing the minimum too spreads them over the whole range.
    config.min_funcs = u
        .int_in_range(1..=config.max_funcs)
        .context("drawing the function count")?;
    if imports {
        // wasm-smith draws the imports' names and types; every one it
        // draws here (no tags, shared memories or typed references) is
        // one the harness links.
        config.max_imports = u
            .int_in_range(1..=settings.max_items.clamp(1, 8))
            .context("drawing the import count")?;
    }
    let mut features = enabled_features(&config);
    let module = wasm_smith::Module::new(config, &mut u).context("wasm-smith generation")?;
    let wasm = if coins.endless_loops(settings.endless_loops_share) {
        features.push("endless-loops");
        termination::with_budget_divisor(module.to_bytes(), settings.endless_loops_budget_divisor)
    } else {
        bounded(module, settings, coins, &mut features)?
    };
    // wasm-smith may draw none: counted where the module has some.
    if imports && imports_of(&wasm) > 0 {
        features.push("imports");
    }
    Ok(GeneratedModule {
        seed,
        wasm,
        features,
    })
}

/// `module` with wasm-smith's termination counter, counted in locals for
/// a share of cases, and exported so that every call gets it refilled.
fn bounded(
    mut module: wasm_smith::Module,
    settings: &GeneratorConfig,
    coins: &Coins,
    features: &mut Vec<&'static str>,
) -> Result<Vec<u8>> {
    let fuel_global = module
        .ensure_termination(settings.termination_fuel)
        .context("ensure_termination")?;
    let mut wasm = module.to_bytes();
    if coins.local_loops(settings.local_loop_counters_share) {
        wasm = termination::count_loops_locally(&wasm, fuel_global, settings.termination_fuel)
            .context("counting loop iterations in locals")?;
        features.push("local-loop-counters");
    }
    termination::export_fuel_global(&wasm, fuel_global).context("exporting the termination fuel")
}

/// How many imports `wasm` has (0 if it does not parse).
fn imports_of(wasm: &[u8]) -> u32 {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .find_map(|payload| match payload {
            Ok(wasmparser::Payload::ImportSection(s)) => Some(s.count()),
            _ => None,
        })
        .unwrap_or(0)
}

/// How many functions `wasm` defines (0 if it does not parse).
pub(crate) fn defined_functions(wasm: &[u8]) -> u32 {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .find_map(|payload| match payload {
            Ok(wasmparser::Payload::FunctionSection(s)) => Some(s.count()),
            _ => None,
        })
        .unwrap_or(0)
}

/// Choices made from a hash of a case's entropy (bytes the argument seed,
/// [`fuzz_input_seed`], does not use).
struct Coins {
    kind: u64,
    wide_arithmetic: bool,
    custom_page_sizes: bool,
    sub_matrix: u64,
    gc: bool,
    exceptions: bool,
    relaxed_simd: bool,
    local_loops: u64,
    imports: u64,
    endless_loops: u64,
}

impl Coins {
    fn of(entropy: &[u8]) -> Coins {
        let digest = Sha256::digest(entropy);
        Coins {
            kind: u64::from_le_bytes(digest[8..16].try_into().expect("32 bytes")),
            wide_arithmetic: digest[16] & 1 == 1,
            custom_page_sizes: digest[17] & 3 == 0,
            sub_matrix: u64::from_le_bytes(digest[18..26].try_into().expect("32 bytes")),
            gc: digest[26] & 1 == 1,
            exceptions: digest[27] & 1 == 1,
            relaxed_simd: digest[28] & 1 == 1,
            // 24 bits, as the high bits of a uniform u64.
            local_loops: u64::from_le_bytes([0, 0, 0, 0, 0, digest[29], digest[30], digest[31]]),
            // The first digest's bytes are all taken: a hash of it.
            imports: rehashed(&digest, b"imports"),
            endless_loops: rehashed(&digest, b"endless-loops"),
        }
    }

    /// Whether this wasm-smith case's loops carry no counter, `share` of
    /// the time.
    fn endless_loops(&self, share: f64) -> bool {
        below(self.endless_loops, share)
    }

    /// Whether this wasm-smith case imports, `share` of the time.
    fn imports(&self, share: f64) -> bool {
        below(self.imports, share)
    }

    /// Whether this case's loops count in locals, `share` of the time.
    fn local_loops(&self, share: f64) -> bool {
        below(self.local_loops, share)
    }

    /// Whether this case is a stack program, `share` of the time.
    fn stack_program(&self, share: f64) -> bool {
        below(self.kind, share)
    }

    /// Whether this case is aimed at a rule: the `rules` share of the
    /// draws above the stack programs' `stack` share.
    fn rule_guided(&self, stack: f64, rules: f64) -> bool {
        !below(self.kind, stack) && below(self.kind, stack.clamp(0.0, 1.0) + rules.clamp(0.0, 1.0))
    }

    /// Whether this case is aimed at a pass shape: the `passes` share of
    /// the draws above the stack programs' and rule-guided cases' shares.
    fn pass_aimed(&self, stack: f64, rules: f64, passes: f64) -> bool {
        let before = stack.clamp(0.0, 1.0) + rules.clamp(0.0, 1.0);
        !below(self.kind, before) && below(self.kind, before + passes.clamp(0.0, 1.0))
    }

    /// Whether this case may use the proposals the oracle lacks, `share`
    /// of the time.
    fn proposals(&self, share: f64) -> bool {
        below(self.sub_matrix, share)
    }
}

/// A uniform draw of its own for `what`: the entropy digest's bytes are
/// all taken, so a hash of it.
fn rehashed(digest: &[u8], what: &[u8]) -> u64 {
    u64::from_le_bytes(
        Sha256::digest([digest, what].concat())[..8]
            .try_into()
            .expect("32 bytes"),
    )
}

/// Whether a uniform `draw` falls in the lowest `share` of its range.
fn below(draw: u64, share: f64) -> bool {
    (draw as f64) < share.clamp(0.0, 1.0) * (u64::MAX as f64)
}

/// Keeps the swarm's choices but turns off what the engine pair cannot
/// compare deterministically, and bounds sizes so cases stay fast.
///
/// This never hides a divergence: it only removes non-determinism the spec
/// allows (NaN payloads, relaxed SIMD), proposals one side lacks, and imports
/// the harness does not provide.
pub fn clamp_for_differential(config: &mut wasm_smith::Config, settings: &GeneratorConfig) {
    // Proposals that are unsupported by wasmi or inherently non-deterministic.
    config.gc_enabled = false;
    config.exceptions_enabled = false;
    config.threads_enabled = false;
    config.shared_everything_threads_enabled = false;
    config.relaxed_simd_enabled = false;
    config.custom_descriptors_enabled = false;
    config.compact_imports_enabled = false;
    config.acquire_release_atomics_enabled = false;
    config.multibyte_array_access_enabled = false;
    config.allow_invalid_funcs = false;
    // The spec lets NaN payloads differ; canonicalize them at their source.
    config.canonicalize_nans = true;
    // Everything exported is everything observable.
    config.export_everything = true;
    config.max_imports = 0;
    config.min_imports = 0;
    config.available_imports = None;
    config.memory_max_size_required = true;
    config.table_max_size_required = true;

    let pages_bytes = settings.max_memory_pages.saturating_mul(65536);
    clamp(
        &mut config.max_funcs,
        &mut config.min_funcs,
        settings.max_funcs,
    );
    config.max_instructions = config.max_instructions.min(settings.max_instructions);
    clamp(
        &mut config.max_globals,
        &mut config.min_globals,
        settings.max_items,
    );
    clamp(
        &mut config.max_types,
        &mut config.min_types,
        settings.max_items,
    );
    clamp(
        &mut config.max_data_segments,
        &mut config.min_data_segments,
        settings.max_items,
    );
    clamp(
        &mut config.max_element_segments,
        &mut config.min_element_segments,
        settings.max_items,
    );
    clamp(
        &mut config.max_elements,
        &mut config.min_elements,
        settings.max_items.max(1) * 4,
    );
    clamp(&mut config.max_tags, &mut config.min_tags, 0);
    config.max_memories = config.max_memories.min(settings.max_memories);
    config.min_memories = config.min_memories.min(config.max_memories as u32);
    config.max_tables = config.max_tables.min(settings.max_tables);
    config.min_tables = config.min_tables.min(config.max_tables as u32);
    config.max_memory32_bytes = config.max_memory32_bytes.min(pages_bytes);
    config.max_memory64_bytes = config.max_memory64_bytes.min(u128::from(pages_bytes));
    config.max_table_elements = config.max_table_elements.min(settings.max_table_elements);
    // A module without functions exercises no compiler: always have one,
    // and a type for it (wasm-smith makes no function without a type).
    config.max_funcs = config.max_funcs.max(1);
    config.min_funcs = config.min_funcs.max(1);
    config.max_types = config.max_types.max(1);
    config.min_types = config.min_types.max(1);
}

/// Lowers a maximum and keeps its minimum below it: wasm-smith panics when
/// `min > max`.
fn clamp(max: &mut usize, min: &mut usize, limit: usize) {
    *max = (*max).min(limit);
    *min = (*min).min(*max);
}

fn enabled_features(config: &wasm_smith::Config) -> Vec<&'static str> {
    let switches = [
        (config.bulk_memory_enabled, "bulk-memory"),
        (config.reference_types_enabled, "reference-types"),
        (config.simd_enabled, "simd"),
        (config.multi_value_enabled, "multi-value"),
        (
            config.saturating_float_to_int_enabled,
            "saturating-float-to-int",
        ),
        (config.sign_extension_ops_enabled, "sign-extension"),
        (config.tail_call_enabled, "tail-call"),
        (config.memory64_enabled, "memory64"),
        (config.extended_const_enabled, "extended-const"),
        (config.max_memories > 1, "multi-memory"),
        (config.disallow_traps, "disallow-traps"),
        (config.allow_floats, "floats"),
        (config.wide_arithmetic_enabled, "wide-arithmetic"),
        (config.custom_page_sizes_enabled, "custom-page-sizes"),
        (config.gc_enabled, "gc"),
        (config.exceptions_enabled, "exceptions"),
        (config.relaxed_simd_enabled, "relaxed-simd"),
    ];
    switches
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_and_different_seeds_differ() {
        let settings = GeneratorConfig::default();
        let a = generate(42, &settings).unwrap();
        let b = generate(42, &settings).unwrap();
        assert_eq!(a.wasm, b.wasm);
        assert_eq!(a.features, b.features);
        let distinct: std::collections::HashSet<Vec<u8>> = (0..20)
            .map(|s| generate(s, &settings).unwrap().wasm)
            .collect();
        assert!(
            distinct.len() >= 18,
            "only {} distinct modules",
            distinct.len()
        );
    }

    #[test]
    fn a_quarter_of_wasm_smith_cases_have_no_counters_half_the_rest_count_in_locals() {
        let settings = GeneratorConfig::default();
        let (mut local, mut global, mut endless, mut loops) = (0, 0, 0, 0);
        for seed in 0..300 {
            let case = generate(seed, &settings).unwrap();
            if ["rule-guided", "stack", "pass-aimed"]
                .iter()
                .any(|f| case.features.iter().any(|g| g.starts_with(f)))
            {
                continue;
            }
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                .validate_all(&case.wasm)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            let text = wasmprinter::print_bytes(&case.wasm).unwrap();
            let has_loop = text.contains("loop");
            loops += has_loop as u32;
            let info = crate::case::module_info::ModuleInfo::parse(&case.wasm).unwrap();
            if case.features.contains(&"endless-loops") {
                // No counter, and budgets divided instead.
                assert_eq!(info.termination_fuel, None, "seed {seed}");
                assert_eq!(info.budget_divisor, settings.endless_loops_budget_divisor);
                endless += 1;
            } else {
                assert!(info.termination_fuel.is_some(), "seed {seed}");
                assert_eq!(info.budget_divisor, 1);
                if case.features.contains(&"local-loop-counters") {
                    local += 1;
                } else {
                    global += 1;
                }
            }
        }
        assert!(loops > 20, "{loops} modules with loops");
        let share = local as f64 / (local + global) as f64;
        assert!(
            (0.35..=0.65).contains(&share),
            "{local} local, {global} global"
        );
        let endless_share = endless as f64 / (endless + local + global) as f64;
        assert!(
            (0.15..=0.35).contains(&endless_share),
            "{endless} without counters of {}",
            endless + local + global
        );
    }

    #[test]
    fn a_seeds_stream_as_fuzz_input_builds_the_seeds_module() {
        // `crosscheck seed-corpus` relies on this: the fuzz target fed a
        // seed's stream builds the daemon's module for that seed.
        let settings = GeneratorConfig::default();
        for seed in [0, 7, 42] {
            let stream = seed_stream(seed, StreamPurpose::Module, settings.entropy_bytes);
            let from_input = generate_from_fuzz_input(&stream, &settings).unwrap();
            let from_seed = generate(seed, &settings).unwrap();
            assert_eq!(from_input.wasm, from_seed.wasm, "seed {seed}");
            assert_eq!(from_input.features, from_seed.features, "seed {seed}");
            assert_ne!(
                from_input.seed, seed,
                "arguments come from the input's hash"
            );
        }
    }

    #[test]
    fn streams_are_deterministic_and_differ_per_seed() {
        let module = seed_stream(7, StreamPurpose::Module, 64);
        assert_ne!(module, seed_stream(8, StreamPurpose::Module, 64));
        assert_eq!(module, seed_stream(7, StreamPurpose::Module, 64));
        // A longer draw extends the shorter one: sizes never reshuffle bytes.
        assert_eq!(
            &seed_stream(7, StreamPurpose::Module, 128)[..64],
            &module[..]
        );
    }

    #[test]
    fn clamping_never_panics_and_respects_limits() {
        // wasm-smith's modules only: stack programs, rule-guided and
        // pass-aimed modules have their own shapes.
        let settings = GeneratorConfig {
            max_funcs: 3,
            max_items: 0,
            stack: StackProgramConfig {
                share: 0.0,
                ..StackProgramConfig::default()
            },
            rules: RulesConfig {
                share: 0.0,
                ..RulesConfig::default()
            },
            passes: PassesConfig {
                share: 0.0,
                ..PassesConfig::default()
            },
            ..GeneratorConfig::default()
        };
        for seed in 0..200 {
            // Even with no room for other items, there is a function.
            let m = generate(seed, &settings).unwrap();
            let parser = wasmparser::Parser::new(0);
            let mut funcs = 0;
            for payload in parser.parse_all(&m.wasm) {
                if let wasmparser::Payload::FunctionSection(s) = payload.unwrap() {
                    funcs = s.count();
                }
            }
            assert!((1..=3).contains(&funcs), "seed {seed}: {funcs} functions");
        }
    }

    #[test]
    fn a_share_of_seeds_are_stack_programs_and_proposals_are_drawn() {
        let settings = GeneratorConfig::default();
        let mut stack = 0;
        let mut rules = 0;
        let mut wide = 0;
        let mut pages = 0;
        let mut aimed_at_passes = 0;
        for seed in 0..1000 {
            let m = generate(seed, &settings).unwrap();
            let info = crate::case::module_info::ModuleInfo::parse(&m.wasm).unwrap();
            let is_stack = m.features.iter().any(|f| f.starts_with("stack:"));
            assert_eq!(is_stack, info.stack_program.is_some(), "seed {seed}");
            let is_rule = m.features.contains(&"rule-guided");
            assert_eq!(is_rule, info.rule_target.is_some(), "seed {seed}");
            let is_pass = m.features.contains(&"pass-aimed");
            assert_eq!(is_pass, passes::shape_of(&m.wasm).is_some(), "seed {seed}");
            aimed_at_passes += usize::from(is_pass);
            rules += usize::from(is_rule);
            stack += usize::from(is_stack);
            wide += usize::from(m.features.contains(&"wide-arithmetic"));
            pages += usize::from(m.features.contains(&"custom-page-sizes"));
        }
        // 10% of 1000 seeds, give or take the binomial spread.
        assert!((60..=140).contains(&stack), "{stack} stack programs");
        assert!((140..=260).contains(&rules), "{rules} rule-guided modules");
        assert!(
            (60..=140).contains(&aimed_at_passes),
            "{aimed_at_passes} pass-aimed modules"
        );
        // Wide arithmetic for half of wasm-smith's modules, custom page
        // sizes for a quarter.
        let smith = (1000 - stack - rules - aimed_at_passes) as f64;
        assert!(
            wide as f64 > 0.4 * smith && (0.15 * smith..0.35 * smith).contains(&(pages as f64)),
            "{wide} / {pages} of {smith}"
        );
        let none = GeneratorConfig {
            stack: StackProgramConfig {
                share: 0.0,
                ..StackProgramConfig::default()
            },
            ..GeneratorConfig::default()
        };
        assert!((0..200).all(|seed| !generate(seed, &none)
            .unwrap()
            .features
            .iter()
            .any(|f| f.starts_with("stack:"))));
    }

    #[test]
    fn every_module_has_a_function_to_compile() {
        let settings = GeneratorConfig::default();
        for seed in 0..300 {
            let m = generate(seed, &settings).unwrap();
            let info = crate::case::module_info::ModuleInfo::parse(&m.wasm).unwrap();
            assert!(info.function_count >= 1, "seed {seed} has no function");
        }
    }

    #[test]
    fn swarm_varies_features_and_some_modules_use_tail_calls() {
        let settings = GeneratorConfig::default();
        let mut with_tail = 0;
        let mut without_tail = 0;
        let mut uses_return_call = 0;
        for seed in 0..300 {
            let m = generate(seed, &settings).unwrap();
            if m.features.contains(&"tail-call") {
                with_tail += 1;
            } else {
                without_tail += 1;
            }
            if crate::case::module_info::ModuleInfo::parse(&m.wasm)
                .unwrap()
                .uses_tail_calls
            {
                uses_return_call += 1;
            }
        }
        assert!(
            with_tail > 50 && without_tail > 50,
            "{with_tail} / {without_tail}"
        );
        assert!(
            uses_return_call > 10,
            "only {uses_return_call} modules use return_call"
        );
    }
}
