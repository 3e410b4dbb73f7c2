//! The same functions compiled at opt level none and at speed, otherwise
//! alike (Wasmtime's defaults with the proposals generated modules use),
//! and an instruction counted in both: what the mid-end removed, merged
//! or moved shows as a difference.

use anyhow::{Context, Result};
use std::sync::OnceLock;
use wasmtime::{Config, OptLevel};

use super::clif::compile_for_clif;

/// The configuration compiled at `level`: Wasmtime's defaults with the
/// proposals rule-guided modules use.
fn config_at(level: OptLevel) -> Config {
    let mut config = Config::new();
    config.cranelift_opt_level(level);
    config
        .wasm_wide_arithmetic(true)
        .wasm_custom_page_sizes(true)
        .wasm_memory64(true)
        .wasm_multi_memory(true);
    config
}

/// The final CLIF of the first `functions` defined functions of `wasm`, at
/// opt level none and at speed; `None` when the engines could not be
/// built.
pub fn clif_of(wasm: &[u8], functions: usize) -> Result<Option<(Vec<String>, Vec<String>)>> {
    crate::profile::time(crate::profile::Stage::ClifCheck, || {
        clif_texts(wasm, functions)
    })
}

/// Whether this build's Wasmtime accepts the configurations at all
/// (asked once per process; an older release may lack a proposal).
fn engines_build() -> bool {
    static BUILD: OnceLock<bool> = OnceLock::new();
    *BUILD.get_or_init(|| {
        [OptLevel::None, OptLevel::Speed]
            .into_iter()
            .all(|level| wasmtime::Engine::new(&config_at(level)).is_ok())
    })
}

fn clif_texts(wasm: &[u8], functions: usize) -> Result<Option<(Vec<String>, Vec<String>)>> {
    if !engines_build() {
        return Ok(None);
    }
    let read = |level| -> Result<Vec<String>> {
        let files = compile_for_clif(config_at(level), wasm)?;
        (0..functions)
            .map(|index| {
                // A function with a name (a name section) has it in its
                // file's name: `wasm[0]--function[1]--side.clif`.
                let prefix = format!("wasm[0]--function[{index}]");
                files
                    .iter()
                    .find(|f| {
                        f.name
                            .strip_prefix(&prefix)
                            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with("--"))
                    })
                    .map(|f| f.text.clone())
                    .with_context(|| format!("no CLIF file of function {index}"))
            })
            .collect()
    };
    Ok(Some((read(OptLevel::None)?, read(OptLevel::Speed)?)))
}

/// How many instructions of `clif` are `opcode`.
pub fn count_opcode(clif: &str, opcode: &str) -> usize {
    clif.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(';') && !l.ends_with(':') && !l.ends_with('{'))
        .filter(|l| {
            let instruction = match l.split_once(" = ") {
                Some((_, rhs)) => rhs,
                // An instruction without results (a store, a trap) starts
                // with its source location, `@002f`.
                None if l.starts_with('@') => l.split_once(' ').map_or("", |(_, r)| r.trim_start()),
                None => l,
            };
            let name = instruction.split([' ', '.']).next().unwrap_or_default();
            name == opcode
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcodes_are_counted_by_name_not_by_prefix() {
        let clif = "function u0:0(i64 vmctx, i32) -> i32 tail {\nblock0(v0: i64, v1: i32):\n    v2 = iconst.i32 8\n    v3 = udiv v1, v2\n    v4 = uextend.i64 v3\n    store notrap v1, v0+8\n    return v3\n}";
        assert_eq!(count_opcode(clif, "udiv"), 1);
        assert_eq!(count_opcode(clif, "uextend"), 1);
        assert_eq!(count_opcode(clif, "store"), 1);
        assert_eq!(count_opcode(clif, "iconst"), 1);
        assert_eq!(count_opcode(clif, "iadd"), 0);
    }
}
