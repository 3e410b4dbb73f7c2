//! Shrinking a finding's module with wasm-shrink while a predicate (the
//! finding still reproduces) holds.

use anyhow::Result;
use wasm_shrink::WasmShrink;

/// How a shrink went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shrunk {
    /// The smallest module for which the predicate held.
    pub wasm: Vec<u8>,
    /// Size before, bytes.
    pub original_size: usize,
    /// Predicate evaluations made.
    pub candidates: u64,
}

/// Shrinks `wasm` while `interesting` holds. `attempts` is how many failed
/// candidates in a row end the search; `seed` makes the search reproducible;
/// `on_smaller` hears every new smallest size. The caller has checked that
/// the input itself is interesting, so it is not run again: wasm-shrink
/// starts by asking, and a measured predicate (a slow run, a compile
/// blowup) asked once more on a busy machine could refuse the whole search.
pub fn shrink(
    wasm: &[u8],
    attempts: u32,
    seed: u64,
    interesting: &mut dyn FnMut(&[u8]) -> Result<bool>,
    mut on_smaller: impl FnMut(usize) + 'static,
) -> Result<Shrunk> {
    let mut candidates = 0u64;
    let info = WasmShrink::default()
        .attempts(attempts)
        .seed(seed)
        .on_new_smallest(Some(Box::new(move |smallest: &[u8]| {
            on_smaller(smallest.len());
            Ok(())
        })))
        .run(wasm.to_vec(), &mut |candidate: &[u8]| {
            if candidate == wasm {
                return Ok(true);
            }
            candidates += 1;
            interesting(candidate)
        })?;
    Ok(Shrunk {
        wasm: info.output,
        original_size: wasm.len(),
        candidates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_the_predicate_needs_and_drops_the_rest() {
        let wasm = wat::parse_str(
            r#"(module
                (memory 1)
                (global $g (mut i32) (i32.const 7))
                (func $unused (result i32) i32.const 1 i32.const 2 i32.add)
                (func (export "f") (param i32 i32) (result i32)
                    local.get 0 local.get 1 i32.rem_s
                    global.get $g i32.mul)
                (data (i32.const 0) "some bytes nobody needs"))"#,
        )
        .unwrap();
        let has_rem_s = |w: &[u8]| -> Result<bool> {
            Ok(wasmprinter::print_bytes(w).is_ok_and(|t| t.contains("i32.rem_s")))
        };
        let shrunk = shrink(&wasm, 200, 1, &mut |w| has_rem_s(w), |_| {}).unwrap();
        assert!(has_rem_s(&shrunk.wasm).unwrap());
        assert!(shrunk.wasm.len() < wasm.len() / 2, "{}", shrunk.wasm.len());
        assert_eq!(shrunk.original_size, wasm.len());
        assert!(shrunk.candidates > 0);
    }

    #[test]
    fn the_input_is_taken_as_interesting_without_asking_again() {
        let wasm =
            wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 1))"#).unwrap();
        let mut asked_for_input = false;
        let shrunk = shrink(
            &wasm,
            20,
            1,
            &mut |w| {
                asked_for_input |= w == wasm.as_slice();
                Ok(false)
            },
            |_| {},
        )
        .unwrap();
        assert!(!asked_for_input);
        assert_eq!(shrunk.wasm, wasm);
    }
}
