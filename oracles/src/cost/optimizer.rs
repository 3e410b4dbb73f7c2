//! What Cranelift's optimizer does to a module: its functions' final CLIF
//! at opt level none against speed, with the same instrumentation (fuel,
//! an epoch check, or neither), counted as loads, stores and instructions.
//! The difference is what the mid-end removed; instrumentation that keeps
//! it from firing (a check in every loop header that counts as a call, a
//! global counter stored in every iteration) shows as a smaller one.

use crate::engine::{Budget, WasmtimeVariant};
use anyhow::Result;

/// Instruction counts over a module's functions' CLIF.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClifCounts {
    /// Memory loads (`load`, `uload8`, `sload16`, ...).
    pub loads: u64,
    /// Memory stores (`store`, `istore8`, ...).
    pub stores: u64,
    /// Every instruction.
    pub instructions: u64,
}

impl std::ops::AddAssign for ClifCounts {
    fn add_assign(&mut self, other: ClifCounts) {
        self.loads += other.loads;
        self.stores += other.stores;
        self.instructions += other.instructions;
    }
}

/// Counts of `wasm`'s functions compiled by Cranelift at opt level none
/// (`opt_none`) or speed, with `budget`'s instrumentation.
pub fn clif_counts(wasm: &[u8], opt_none: bool, budget: Budget) -> Result<ClifCounts> {
    let variant = WasmtimeVariant {
        opt_none,
        budget,
        ..WasmtimeVariant::embedder_default()
    };
    let mut counts = ClifCounts::default();
    // Functions of the module, not the host's trampolines.
    for file in crate::engine::clif_of_variant(&variant, wasm)?
        .iter()
        .filter(|f| f.name.contains("--function["))
    {
        counts += count(&file.text);
    }
    Ok(counts)
}

/// Counts the instructions of one function's CLIF text.
fn count(clif: &str) -> ClifCounts {
    let mut counts = ClifCounts::default();
    for line in clif.lines().map(str::trim) {
        let is_instruction = !line.is_empty()
            && !line.starts_with(';')
            && !line.ends_with(':')
            && !line.ends_with('{')
            && line != "}"
            && !line.starts_with("function ")
            && !line.contains(" = stack_slot")
            && !line.starts_with("gv")
            && !line.starts_with("sig")
            && !line.starts_with("fn")
            && !line.starts_with("ss");
        if !is_instruction {
            continue;
        }
        // Instructions from the wasm carry its offset first (`@002a`).
        let line = match line.strip_prefix('@') {
            Some(rest) => rest.split_once(' ').map_or("", |(_, i)| i.trim_start()),
            None => line,
        };
        let instruction = line.split_once(" = ").map_or(line, |(_, rhs)| rhs);
        let opcode = instruction.split([' ', '.']).next().unwrap_or_default();
        counts.instructions += 1;
        if opcode == "load" || opcode.starts_with("uload") || opcode.starts_with("sload") {
            counts.loads += 1;
        }
        if opcode == "store" || opcode.starts_with("istore") {
            counts.stores += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_optimizer_removes_a_redundant_load_and_fuel_keeps_loop_code() {
        let clif = "function u0:0(i64 vmctx) tail {\n    gv0 = vmctx\n    sig0 = (i64) tail\n    fn0 = colocated u0:1 sig0\n\nblock0(v0: i64):\n    v1 = load.i32 notrap aligned v0+8\n    v2 = uload8.i32 v0+9\n    istore8 v2, v0+10\n@0031                               store v1, v0+12\n    return\n}";
        assert_eq!(
            count(clif),
            ClifCounts {
                loads: 2,
                stores: 2,
                instructions: 5
            }
        );
        // Two loads of one address: opt level speed keeps one.
        let wasm = wat::parse_str(
            r#"(module (memory 1)
                 (func (export "f") (param i32) (result i32)
                   (i32.add (i32.load (local.get 0)) (i32.load (local.get 0)))))"#,
        )
        .unwrap();
        let none = clif_counts(&wasm, true, Budget::None).unwrap();
        let speed = clif_counts(&wasm, false, Budget::None).unwrap();
        assert!(none.loads > speed.loads, "{none:?} {speed:?}");
        assert!(none.instructions > speed.instructions, "{none:?} {speed:?}");
        // Fuel instruments the function: more loads and stores at speed.
        let fuel = clif_counts(&wasm, false, Budget::Fuel).unwrap();
        assert!(fuel.instructions > speed.instructions, "{fuel:?} {speed:?}");
    }
}
