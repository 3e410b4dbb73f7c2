//! Whether two engines of a matrix compile the same module to the same
//! machine code: two variants that always do re-check identical code, and
//! their compile time buys nothing.

use super::matrix::Matrix;
use sha2::{Digest, Sha256};

/// How two engines' machine code compared over many modules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PairIdentity {
    /// The first engine.
    pub a: String,
    /// The second engine.
    pub b: String,
    /// Modules both compiled to byte-identical code.
    pub identical: u64,
    /// Modules both compiled, to different code.
    pub different: u64,
    /// Modules one or both refused.
    pub refused: u64,
}

/// Compares the machine code of every pair of code-generating engines of
/// the matrix (tie-breakers included) on each module; interpreters, which
/// have no machine code, are left out.
pub fn measure(matrix: &Matrix, modules: impl IntoIterator<Item = Vec<u8>>) -> Vec<PairIdentity> {
    let engines: Vec<_> = matrix
        .engines()
        .iter()
        .chain(matrix.tie_breakers())
        .collect();
    let mut pairs: Vec<PairIdentity> = Vec::new();
    for (i, a) in engines.iter().enumerate() {
        for b in &engines[i + 1..] {
            pairs.push(PairIdentity {
                a: a.name().into(),
                b: b.name().into(),
                ..PairIdentity::default()
            });
        }
    }
    // Per engine: `None` for an interpreter, else the code's hash if it
    // compiled the module.
    let mut generates_code = vec![false; engines.len()];
    for wasm in modules {
        let hashes: Vec<Option<Option<[u8; 32]>>> = engines
            .iter()
            .map(|e| {
                e.capabilities().machine_code.map(|generates| {
                    let code = generates.machine_code(&wasm);
                    code.ok().map(|code| Sha256::digest(&code).into())
                })
            })
            .collect();
        let mut pair = pairs.iter_mut();
        for i in 0..engines.len() {
            generates_code[i] |= hashes[i].is_some();
            for j in i + 1..engines.len() {
                let counts = pair.next().expect("one entry per pair");
                match (hashes[i], hashes[j]) {
                    (Some(Some(x)), Some(Some(y))) if x == y => counts.identical += 1,
                    (Some(Some(_)), Some(Some(_))) => counts.different += 1,
                    (Some(_), Some(_)) => counts.refused += 1,
                    _ => {}
                }
            }
        }
    }
    let names_with_code: Vec<&str> = engines
        .iter()
        .zip(&generates_code)
        .filter(|(_, code)| **code)
        .map(|(e, _)| e.name())
        .collect();
    pairs.retain(|p| {
        names_with_code.contains(&p.a.as_str()) && names_with_code.contains(&p.b.as_str())
    });
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ExecutionConfig;

    #[test]
    fn tail_calls_off_compile_the_same_code_and_fuel_does_not() {
        let others: Vec<String> = [
            "cranelift-tail-signals",
            "cranelift-notail-signals",
            "cranelift-notail-signals+nofuel",
        ]
        .map(String::from)
        .to_vec();
        let matrix = Matrix::new("wasmi", &others, &ExecutionConfig::default()).unwrap();
        let module = wat::parse_str(
            r#"(module (func (export "f") (param i32) (result i32)
                (loop (br_if 0 (i32.eqz (local.get 0)))) (local.get 0)))"#,
        )
        .unwrap();
        let pairs = measure(&matrix, [module]);
        let find = |a: &str, b: &str| pairs.iter().find(|p| p.a == a && p.b == b).unwrap();
        // The proposal flag changes validation only: the same code.
        assert_eq!(
            find("cranelift-tail-signals", "cranelift-notail-signals").identical,
            1
        );
        // Fuel checks around the loop and the call are code of their own.
        assert_eq!(
            find(
                "cranelift-notail-signals",
                "cranelift-notail-signals+nofuel"
            )
            .different,
            1
        );
        assert_eq!(pairs.len(), 3);
    }
}
