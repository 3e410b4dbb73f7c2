//! Whether the pass a module is shaped for really acted on it: the
//! shape's functions compiled at opt level none and speed
//! (`observe::opt_levels::clif_of`), and the instructions the pass removes,
//! merges or moves counted in both. "Generated" is not "exercised": a
//! shape on which the optimizer changed nothing tested the pass's guard,
//! not its transformation.

use super::shape::PassShape;
use crate::observe::opt_levels::{clif_of, count_opcode};
use anyhow::Result;

/// The CLIF opcodes whose count the pass of `shape` changes when it acts.
fn opcodes(shape: PassShape) -> &'static [&'static str] {
    match shape {
        PassShape::StoreStore | PassShape::Diverge => &["store", "istore8", "istore16", "istore32"],
        PassShape::StoreLoad | PassShape::LoadLoad => &[
            "load", "uload8", "sload8", "uload16", "sload16", "uload32", "sload32",
        ],
        PassShape::LoopTrap | PassShape::Duplicate => &[
            "sdiv",
            "udiv",
            "srem",
            "urem",
            "load",
            "sload8",
            "fcvt_to_sint",
            "fcvt_to_uint",
            "call_indirect",
            "imul",
            "iadd",
        ],
        PassShape::Bounds => &[
            "select_spectre_guard",
            "trapnz",
            "trapz",
            "uadd_overflow_trap",
        ],
        PassShape::Calls | PassShape::TypedRefs => &["call", "return_call"],
    }
}

/// Whether [`pass_acted`] can tell for `shape` (not for call shapes, nor
/// typed references, whose aim is the compile itself).
pub fn measurable(shape: PassShape) -> bool {
    !matches!(shape, PassShape::Calls | PassShape::TypedRefs)
}

/// Whether the optimizer changed how often the shape's instructions occur
/// in `wasm`'s functions, or (for loops) in which block the first of them
/// sits. For bounds shapes, whether Wasmtime emitted an explicit bounds
/// check at all (rather than leaving the access to the guard region): the
/// checks are the translator's, not the optimizer's. `None` when the CLIF
/// could not be had, and for call shapes, whose register allocation the
/// CLIF does not show (and Wasmtime's default does not inline).
pub fn pass_acted(wasm: &[u8], shape: PassShape) -> Result<Option<bool>> {
    if !measurable(shape) {
        return Ok(None);
    }
    let functions = crate::case::generate::defined_functions(wasm) as usize;
    let Some((none, speed)) = clif_of(wasm, functions)? else {
        return Ok(None);
    };
    if shape == PassShape::Bounds {
        let checks = |op: &&str| speed.iter().any(|f| count_wasm(f, op) > 0);
        return Ok(Some(opcodes(shape).iter().any(checks)));
    }
    let count = |clif: &[String]| -> Vec<usize> {
        opcodes(shape)
            .iter()
            .map(|op| clif.iter().map(|f| count_wasm(f, op)).sum())
            .collect()
    };
    let moved = shape == PassShape::LoopTrap
        && none
            .iter()
            .zip(&speed)
            .any(|(n, s)| first_block_of(n, opcodes(shape)) != first_block_of(s, opcodes(shape)));
    Ok(Some(count(&none) != count(&speed) || moved))
}

/// How many instructions of `clif` are `opcode`, leaving out the accesses
/// that cannot trap (`notrap`: Wasmtime's own loads of the VM context,
/// which the optimizer always merges): what is counted is the Wasm
/// program's own.
fn count_wasm(clif: &str, opcode: &str) -> usize {
    clif.lines()
        .filter(|line| !line.contains(" notrap "))
        .map(|line| count_opcode(line, opcode))
        .sum()
}

/// How many block headers precede the first of `opcodes` in one
/// function's CLIF: a hoisted instruction moves towards the entry.
fn first_block_of(clif: &str, opcodes: &[&str]) -> Option<usize> {
    let mut blocks = 0;
    for line in clif.lines().map(str::trim) {
        if line.starts_with("block") && line.ends_with(':') {
            blocks += 1;
        }
        if opcodes.iter().any(|op| count_wasm(line, op) > 0) {
            return Some(blocks);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_overwritten_before_anything_can_see_it_is_removed() {
        let wasm = wat::parse_str(
            r#"(module
              (memory (export "m") 1 2)
              (func (export "f") (param $p i32) (param $v1 i64) (param $v2 i64) (result i64)
                (i64.store offset=8 (local.get $p) (local.get $v1))
                (i64.store offset=8 (local.get $p) (local.get $v2))
                (i64.load offset=8 (local.get $p))))"#,
        )
        .unwrap();
        assert_eq!(pass_acted(&wasm, PassShape::StoreLoad).unwrap(), Some(true));
        // The store has no result: its line starts with its source
        // location, which must not be taken for the opcode.
        assert_eq!(
            pass_acted(&wasm, PassShape::StoreStore).unwrap(),
            Some(true)
        );
    }
}
