//! The values each number of the configuration may take. A number outside
//! them is refused when the configuration loads, naming the key and the
//! range, instead of panicking deep inside generation (an entropy of
//! 2^64 bytes), making every seed the same module (an entropy of 0) or
//! running a worker out of memory (a billion calls per export).

use anyhow::{bail, Result};
use std::fmt::Display;
use std::ops::RangeInclusive;

/// Fails naming `key` and `range` unless `value` lies in `range` (a NaN
/// lies in none).
pub fn within<T: PartialOrd + Display>(
    key: &str,
    value: T,
    range: RangeInclusive<T>,
) -> Result<()> {
    if !range.contains(&value) {
        bail!(
            "{key} must be between {} and {}, got {value}",
            range.start(),
            range.end()
        );
    }
    Ok(())
}

/// Fails naming `key` unless `value` is a share: between 0 and 1.
pub fn share(key: &str, value: f64) -> Result<()> {
    within(key, value, 0.0..=1.0)
}

/// Bounds of `[generator]`, `[execution]`, `[cost]` and `[triage]`: the
/// sections of the library.
pub fn check_settings(settings: &crate::config::Settings) -> Result<()> {
    let g = &settings.generator;
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
    share("generator.stack.share", g.stack.share)?;
    share("generator.rules.share", g.rules.share)?;
    if g.stack.share + g.rules.share > 1.0 {
        bail!(
            "generator.stack.share and generator.rules.share are shares of all cases: together at most 1, got {} + {}",
            g.stack.share,
            g.rules.share
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
    if g.rules.share > 0.0 {
        if let Some(problem) = crate::case::rules::catalog::Catalog::missing_from_build() {
            bail!(
                "generator.rules.share is {} but this build has no rule-guided generation ({problem}); set [generator.rules] share = 0 to run without it, or rebuild where Cranelift's sources can be found",
                g.rules.share
            );
        }
    }
    within("generator.stack.max_params", g.stack.max_params, 0..=1000)?;
    within("generator.rules.instances", g.rules.instances, 1..=100)?;
    within("generator.rules.tuples", g.rules.tuples, 1..=100)?;
    within(
        "generator.rules.constant_weight",
        g.rules.constant_weight,
        1..=1000,
    )?;
    let e = &settings.execution;
    within("execution.fuel", e.fuel, 1..=1_000_000_000_000)?;
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
    let c = &settings.cost;
    within("cost.remeasure", c.remeasure, 0..=20)?;
    within("cost.scaling.steps", c.scaling.steps, 2..=16)?;
    within("cost.scaling.runs", c.scaling.runs, 1..=100)?;
    let t = &settings.triage;
    within("triage.reproduce_runs", t.reproduce_runs, 1..=100)?;
    within("triage.shrink_attempts", t.shrink_attempts, 1..=1_000_000)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Settings;

    /// Parses `[section]\nline` after a minimal matrix.
    fn refusal(section: &str, line: &str) -> String {
        let text = format!("[matrix]\noracle = \"wasmi\"\nengines = []\n[{section}]\n{line}\n");
        format!(
            "{:#}",
            Settings::parse(&text, "t.toml").expect_err(&format!("{section} {line} is refused"))
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
        super::check_settings(&Settings::defaults()).unwrap();
    }
}
