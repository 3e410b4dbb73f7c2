//! The configuration schema: `config.toml` parsed once, each section typed
//! by the stage it configures (`[matrix]` and `[execution]` the engines,
//! `[generator]` the case, `[cost]` the cost checks, `[triage]` triage).
//! The sections of the program running the library (the daemon's
//! `[store]`, `[daemon]`, `[log]`, `[gate]`, `[dashboard]`) are kept as
//! tables for it to type; the fuzz targets ignore them.

use crate::case::generate::GeneratorConfig;
use crate::config_ranges::{share, within};
use crate::cost::limits::{refuse_moved_keys, CostLimits};
use crate::engine::id::EngineId;
use crate::engine::matrix::{Matrix, MatrixConfig};
use crate::engine::other_release::add_rules_of_release;
use crate::engine::{Backend, ExecutionConfig};
use crate::triage::config::TriageConfig;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeSet;

/// The default configuration file of the workspace, compiled in.
pub const DEFAULT_CONFIG: &str = include_str!("../../config.toml");

/// The environment variable naming a configuration file for the fuzz targets.
pub const CONFIG_VARIABLE: &str = "CROSSCHECK_CONFIG";

/// Where the default configuration comes from, in error messages.
pub const DEFAULT_ORIGIN: &str = "the embedded default config.toml";

/// `config.toml` as the library reads it: the sections that decide what a
/// case is, how it runs and how its findings are judged and triaged; the
/// daemon's sections are kept as text for the daemon's `Config`, which
/// holds this as its `library`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryConfig {
    /// `[matrix]`.
    #[serde(default)]
    pub matrix: MatrixConfig,
    /// `[generator]`.
    #[serde(default)]
    pub generator: GeneratorConfig,
    /// `[execution]`.
    #[serde(default)]
    pub execution: ExecutionConfig,
    /// `[cost]`.
    #[serde(default)]
    pub cost: CostLimits,
    /// `[triage]`.
    #[serde(default)]
    pub triage: TriageConfig,
    /// `[store]`, typed by the daemon.
    #[serde(default)]
    pub store: toml::Table,
    /// `[daemon]`, typed by the daemon.
    #[serde(default)]
    pub daemon: toml::Table,
    /// `[log]`, typed by the daemon.
    #[serde(default)]
    pub log: toml::Table,
    /// `[gate]`, typed by the daemon.
    #[serde(default)]
    pub gate: toml::Table,
    /// `[dashboard]`, typed by the daemon.
    #[serde(default)]
    pub dashboard: toml::Table,
}

impl LibraryConfig {
    /// Parses configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<LibraryConfig> {
        let invalid = || format!("invalid configuration in {origin}");
        let settings: LibraryConfig = match toml::from_str(text) {
            Ok(settings) => settings,
            Err(err) => {
                // A key of the flat `[cost]` of earlier versions gets its
                // new home named rather than "unknown field".
                if let Ok(table) = toml::from_str::<toml::Table>(text) {
                    if let Some(toml::Value::Table(cost)) = table.get("cost") {
                        refuse_moved_keys(cost).with_context(invalid)?;
                    }
                }
                return Err(without_secrets(text, err)).with_context(invalid);
            }
        };
        settings.triage.validate().with_context(invalid)?;
        check_bounds(&settings).with_context(invalid)?;
        Ok(settings)
    }

    /// The embedded defaults.
    pub fn defaults() -> LibraryConfig {
        LibraryConfig::parse(DEFAULT_CONFIG, DEFAULT_ORIGIN)
            .expect("the embedded config.toml is valid")
    }

    /// The file `CROSSCHECK_CONFIG` names, or the compiled-in defaults.
    pub fn from_environment() -> Result<LibraryConfig> {
        match std::env::var_os(CONFIG_VARIABLE) {
            None => LibraryConfig::parse(DEFAULT_CONFIG, DEFAULT_ORIGIN),
            Some(path) => {
                let path = std::path::PathBuf::from(path);
                let text = read_config_file(&path)
                    .with_context(|| format!("named by {CONFIG_VARIABLE}"))?;
                LibraryConfig::parse(&text, &path.display().to_string())
            }
        }
    }

    /// Adds the Cranelift rules of every other Wasmtime release the matrix
    /// names (`NAME@MAJOR`) to the rule catalogue
    /// (`engine::other_release::add_rules_of_release`), before any case is
    /// generated or rule coverage counted. A release that cannot answer is
    /// left out with a debug line: building the matrix names the problem.
    pub fn add_rules_of_other_releases(&self) {
        // Engines that run Cranelift's mid-end, on another release.
        let majors: BTreeSet<u64> = self
            .matrix
            .compared_engines()
            .iter()
            .filter_map(|name| {
                let id = EngineId::parse(name);
                let runs_cranelift = id.variant().is_some_and(|v| v.backend != Backend::Winch);
                id.release().filter(|_| runs_cranelift)
            })
            .collect();
        for major in majors {
            if let Err(e) = add_rules_of_release(major) {
                tracing::debug!("the rules of Wasmtime {major} are not aimed at: {e:#}");
            }
        }
    }

    /// Builds the engine matrix.
    pub fn matrix(&self) -> Result<Matrix> {
        Matrix::new(
            &self.matrix.oracle,
            &self.matrix.compared_engines(),
            &self.execution,
        )?
        .with_tie_breakers(&self.matrix.tie_breakers, &self.execution)?
        .with_proposal_engines(&self.matrix.proposal_engines, &self.execution)
    }
}

/// The largest configuration file read.
const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// Reads a configuration file: a regular file of at most 16 MiB, UTF-8.
pub fn read_config_file(path: &std::path::Path) -> Result<String> {
    let bytes = crate::case::module_file::read_regular_file(path, MAX_CONFIG_BYTES)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    String::from_utf8(bytes)
        .with_context(|| format!("config file {} is not UTF-8 text", path.display()))
}

/// Whether a line of configuration may hold a secret: the store's URL (a
/// password in its user part, `?password=` or `password=` words) or any
/// key that names a password.
fn may_hold_secret(line: &str) -> bool {
    let line = line.trim_start().to_ascii_lowercase();
    line.starts_with("url") || line.contains("password") || line.contains("://")
}

/// A TOML error as a message that never quotes a secret: TOML's own
/// message shows the offending line, so when that line may hold a
/// password only its number and what is wrong with it are said.
pub fn without_secrets(text: &str, err: toml::de::Error) -> anyhow::Error {
    let Some(span) = err.span() else {
        return err.into();
    };
    let line_start = text[..span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    if !may_hold_secret(&text[line_start..line_end]) {
        return err.into();
    }
    let number = text[..line_start].matches('\n').count() + 1;
    // The message may quote the value too: only its first line, with any
    // quoted text left out.
    let message = err.message().lines().next().unwrap_or_default();
    let message = match message.find('"') {
        Some(at) => format!("{}…", &message[..at]),
        None => message.to_string(),
    };
    anyhow::anyhow!(
        "TOML error at line {number} (the line is not shown: it may hold a password): {message}"
    )
}

/// Bounds of `[generator]`, `[execution]`, `[cost]` and `[triage]`: the
/// sections of the library.
fn check_bounds(settings: &LibraryConfig) -> Result<()> {
    check_generator_bounds(&settings.generator)?;
    check_execution_bounds(&settings.execution)?;
    check_cost_bounds(&settings.cost)?;
    let c = &settings.cost;
    within("cost.remeasure", c.remeasure, 0..=20)?;
    within("cost.scaling.steps", c.scaling.steps, 2..=16)?;
    within("cost.scaling.runs", c.scaling.runs, 1..=100)?;
    let t = &settings.triage;
    within("triage.reproduce_runs", t.reproduce_runs, 1..=100)?;
    within("triage.shrink_attempts", t.shrink_attempts, 1..=1_000_000)?;
    within("triage.drain_seconds", t.drain_seconds, 0..=86_400)?;
    Ok(())
}

/// The float keys of `[cost]`: a NaN or an infinity would make every
/// comparison false (no finding ever) or true (a finding on every correct
/// module), so each is bounded by its meaning.
fn check_cost_bounds(c: &CostLimits) -> Result<()> {
    // A ratio below 1 calls an engine slower than itself.
    const RATIO: std::ops::RangeInclusive<f64> = 1.0..=1e9;
    within("cost.compile.seconds", c.compile.seconds, 0.001..=86_400.0)?;
    within("cost.compile.time_ratio", c.compile.time_ratio, RATIO)?;
    within("cost.compile.memory_ratio", c.compile.memory_ratio, RATIO)?;
    within("cost.perf.ratio", c.perf.ratio, RATIO)?;
    within("cost.perf.unmetered_ratio", c.perf.unmetered_ratio, RATIO)?;
    within(
        "cost.perf.unmetered_ns_per_fuel",
        c.perf.unmetered_ns_per_fuel,
        0.001..=1e9,
    )?;
    within("cost.outliers.ratio", c.outliers.ratio, RATIO)?;
    within(
        "cost.outliers.deviations",
        c.outliers.deviations,
        0.0..=1000.0,
    )?;
    within("cost.releases.time_ratio", c.releases.time_ratio, RATIO)?;
    within("cost.releases.memory_ratio", c.releases.memory_ratio, RATIO)?;
    within(
        "cost.scaling.superlinear",
        c.scaling.superlinear,
        SUPERLINEAR_EXPONENTS,
    )
}

/// The growth exponents a "superlinear" threshold may take: above linear,
/// and no higher than any real compile's growth.
pub const SUPERLINEAR_EXPONENTS: std::ops::RangeInclusive<f64> = 1.0..=10.0;

fn check_generator_bounds(g: &GeneratorConfig) -> Result<()> {
    within(
        "generator.entropy_bytes",
        g.entropy_bytes,
        1024..=(16 << 20),
    )?;
    within(
        "generator.termination_fuel",
        g.termination_fuel,
        1..=10_000_000,
    )?;
    within("generator.max_funcs", g.max_funcs, 1..=10_000)?;
    within(
        "generator.max_instructions",
        g.max_instructions,
        1..=100_000,
    )?;
    within("generator.max_items", g.max_items, 0..=10_000)?;
    within("generator.max_memories", g.max_memories, 0..=100)?;
    within("generator.max_tables", g.max_tables, 0..=100)?;
    within("generator.max_memory_pages", g.max_memory_pages, 0..=65_536)?;
    within(
        "generator.max_table_elements",
        g.max_table_elements,
        0..=10_000_000,
    )?;
    share("generator.proposals_share", g.proposals_share)?;
    share(
        "generator.local_loop_counters_share",
        g.local_loop_counters_share,
    )?;
    share("generator.imports_share", g.imports_share)?;
    share("generator.endless_loops_share", g.endless_loops_share)?;
    within(
        "generator.endless_loops_budget_divisor",
        g.endless_loops_budget_divisor,
        1..=1_000_000,
    )?;
    share("generator.stack.share", g.stack.share)?;
    share("generator.rules.share", g.rules.share)?;
    share("generator.passes.share", g.passes.share)?;
    if g.stack.share + g.rules.share + g.passes.share > 1.0 {
        bail!(
            "generator.stack.share, generator.rules.share and generator.passes.share are shares of all cases: together at most 1, got {} + {} + {}",
            g.stack.share,
            g.rules.share,
            g.passes.share
        );
    }
    within(
        "generator.stack.min_tail_iterations",
        g.stack.min_tail_iterations,
        1..=g.stack.max_tail_iterations.max(1),
    )?;
    within(
        "generator.stack.max_tail_iterations",
        g.stack.max_tail_iterations,
        1..=100_000_000,
    )?;
    within("generator.stack.max_params", g.stack.max_params, 0..=1000)?;
    check_rule_bounds(g)
}

/// `[generator.rules]`, and whether this build can aim at rules at all.
fn check_rule_bounds(g: &GeneratorConfig) -> Result<()> {
    if g.rules.share > 0.0 {
        if let Some(problem) = crate::case::rules::catalog::Catalog::missing_from_build() {
            bail!(
                "generator.rules.share is {} but this build has no rule-guided generation ({problem}); set [generator.rules] share = 0 to run without it, or rebuild where Cranelift's sources can be found",
                g.rules.share
            );
        }
    }
    share("generator.rules.changed_share", g.rules.changed_share)?;
    within("generator.rules.instances", g.rules.instances, 1..=100)?;
    within("generator.rules.tuples", g.rules.tuples, 1..=100)?;
    within(
        "generator.rules.constant_weight",
        g.rules.constant_weight,
        1..=1000,
    )?;
    Ok(())
}

fn check_execution_bounds(e: &ExecutionConfig) -> Result<()> {
    within("execution.fuel", e.fuel, 1..=1_000_000_000_000)?;
    within(
        "execution.epoch_deadline_ms",
        e.epoch_deadline_ms,
        10..=600_000,
    )?;
    within("execution.calls_per_export", e.calls_per_export, 1..=100)?;
    within(
        "execution.max_memory_bytes",
        e.max_memory_bytes,
        (64 << 10)..=(4 << 30),
    )?;
    within(
        "execution.max_table_elements",
        e.max_table_elements,
        1..=10_000_000,
    )?;
    within(
        "execution.max_wasm_stack",
        e.max_wasm_stack,
        (4 << 10)..=(16 << 20),
    )?;
    within(
        "execution.wasmi_max_recursion_depth",
        e.wasmi_max_recursion_depth,
        1..=1_000_000,
    )?;
    within(
        "execution.wasmi_max_stack_values",
        e.wasmi_max_stack_values,
        1..=100_000_000,
    )?;
    within(
        "execution.overflow_rerun_factor",
        e.overflow_rerun_factor,
        1..=64,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_parse_into_the_library_defaults() {
        let settings = LibraryConfig::defaults();
        // config.toml documents the defaults: it must not drift from the code.
        assert_eq!(settings.generator, GeneratorConfig::default());
        assert_eq!(settings.execution, ExecutionConfig::default());
        assert_eq!(settings.cost, CostLimits::default());
        assert_eq!(settings.triage, TriageConfig::default());
        assert_eq!(settings.matrix, MatrixConfig::default());
        // The newest release runs through its C API library, which the
        // daemon fetches (`daemon/tests/c_api.rs`): the rest builds here.
        let mut linked = settings.clone();
        linked.matrix.engines.retain(|e| e != "wasmtime-default@51");
        assert_eq!(
            linked.matrix.engines.len() + 1,
            settings.matrix.engines.len()
        );
        assert_eq!(linked.matrix().unwrap().names().len(), 6);
        assert!(settings.daemon.contains_key("workers"));
        let err =
            LibraryConfig::parse("[matrix]\noracle = 1\nengines = []\n", "x.toml").unwrap_err();
        assert!(format!("{err:#}").contains("x.toml"), "{err:#}");
    }

    #[test]
    fn unknown_sections_and_moved_cost_keys_are_named() {
        let base = "[matrix]\noracle = \"wasmi\"\nengines = []\n";
        let err = LibraryConfig::parse(&format!("{base}[stor]\ndata_dir = \"x\"\n"), "t.toml")
            .unwrap_err();
        assert!(format!("{err:#}").contains("stor"), "{err:#}");
        let err = LibraryConfig::parse(&format!("{base}[cost]\ncompile_seconds = 1.0\n"), "t.toml")
            .unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("t.toml") && text.contains("[cost.compile] seconds"),
            "{text}"
        );
        let err = LibraryConfig::parse(&format!("{base}[triage]\nniceness = 40\n"), "t.toml")
            .unwrap_err();
        assert!(format!("{err:#}").contains("triage.niceness"), "{err:#}");
    }

    /// Parses `[section]\nline` after a minimal matrix.
    fn refusal(section: &str, line: &str) -> String {
        let text = format!("[matrix]\noracle = \"wasmi\"\nengines = []\n[{section}]\n{line}\n");
        format!(
            "{:#}",
            LibraryConfig::parse(&text, "t.toml")
                .expect_err(&format!("{section} {line} is refused"))
        )
    }

    #[test]
    fn every_bounded_number_is_refused_with_its_key_and_range() {
        for (section, line, said) in [
            (
                "generator",
                "entropy_bytes = 18446744073709551615",
                "generator.entropy_bytes must be between 1024 and 16777216, got 18446744073709551615",
            ),
            (
                "generator",
                "entropy_bytes = 0",
                "generator.entropy_bytes must be between 1024",
            ),
            ("generator", "max_funcs = 0", "generator.max_funcs must be between 1"),
            (
                "generator",
                "max_instructions = 0",
                "generator.max_instructions must be between 1",
            ),
            (
                "generator",
                "proposals_share = 1.5",
                "generator.proposals_share must be between 0 and 1, got 1.5",
            ),
            (
                "generator.stack",
                "share = 7.5",
                "generator.stack.share must be between 0 and 1, got 7.5",
            ),
            ("generator.stack", "share = nan", "generator.stack.share"),
            (
                "generator.rules",
                "share = -0.1",
                "generator.rules.share must be between 0 and 1",
            ),
            (
                "generator.rules",
                "share = 0.95",
                "together at most 1, got 0.1 + 0.95",
            ),
            (
                "execution",
                "calls_per_export = 1000000000",
                "execution.calls_per_export must be between 1 and 100, got 1000000000",
            ),
            (
                "execution",
                "calls_per_export = 0",
                "execution.calls_per_export must be between 1",
            ),
            ("execution", "fuel = 0", "execution.fuel must be between 1"),
            (
                "execution",
                "max_wasm_stack = 1099511627776",
                "execution.max_wasm_stack must be between 4096 and 16777216",
            ),
            (
                "execution",
                "overflow_rerun_factor = 0",
                "execution.overflow_rerun_factor must be between 1 and 64",
            ),
            ("cost.scaling", "steps = 1000", "cost.scaling.steps must be between 2 and 16"),
            ("cost.scaling", "runs = 0", "cost.scaling.runs must be between 1"),
            ("triage", "reproduce_runs = 0", "triage.reproduce_runs must be between 1"),
        ] {
            let text = refusal(section, line);
            assert!(text.contains("t.toml"), "{text}");
            assert!(text.contains(said), "[{section}] {line}: {text}");
        }
    }

    #[test]
    fn the_defaults_lie_within_every_bound() {
        check_bounds(&LibraryConfig::defaults()).unwrap();
    }
}
