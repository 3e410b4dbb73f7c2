//! The shape of a module's code: its function bodies as sequences of
//! instruction names, without immediates, in no particular order. Two
//! shrunk findings with the same shape and the same suspect are one bug
//! reached two ways (say, from the start function in one case and from an
//! export in the other, or with other constants), so triage merges them.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmparser::{Parser, Payload};

/// SHA-256 (hex) of the module's code shape: every non-empty function body
/// as the names of its instructions (`i32.const` and `call` alike, whatever
/// their operands), sorted. Exports, the start function, types, data and
/// constants do not count.
pub fn fingerprint(wasm: &[u8]) -> Result<String> {
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let Payload::CodeSectionEntry(body) = payload.context("parsing the module")? else {
            continue;
        };
        let mut names = Vec::new();
        let mut reader = body
            .get_operators_reader()
            .context("reading a function body")?;
        while !reader.eof() {
            names.push(instruction_name(
                &reader.read().context("reading an instruction")?,
            ));
        }
        // A body that is only its closing `end` is what shrinking leaves of
        // a function it could not delete; it says nothing about the bug.
        if names.len() > 1 {
            bodies.push(names.join(" "));
        }
    }
    bodies.sort();
    let mut hasher = Sha256::new();
    for body in &bodies {
        hasher.update(body.as_bytes());
        hasher.update(b"\n");
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// The instruction's name without its operands: the variant name of
/// wasmparser's `Operator` (`I32Const`, `Call`, `Select`, ...).
fn instruction_name(op: &wasmparser::Operator<'_>) -> String {
    let debug = format!("{op:?}");
    let end = debug.find([' ', '{', '(']).unwrap_or(debug.len());
    debug[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(wat: &str) -> String {
        fingerprint(&wat::parse_str(wat).unwrap()).unwrap()
    }

    #[test]
    fn constants_entry_points_and_empty_functions_do_not_count() {
        let from_export = shape(
            r#"(module (func (export "f") (result i32)
                i32.const 1 i32.const 0 i32.div_s))"#,
        );
        let from_start = shape(
            r#"(module (global $g (mut i32) (i32.const 0))
                (func $unused)
                (func $s i32.const 7 i32.const 3 i32.div_s global.set $g)
                (start $s))"#,
        );
        let other_constants = shape(
            r#"(module (func (export "g") (result i32)
                i32.const -5 i32.const 9 i32.div_s))"#,
        );
        assert_eq!(from_export, other_constants);
        // The start variant stores its result: a different instruction.
        assert_ne!(from_export, from_start);
        let from_start_returning = shape(
            r#"(module (func $unused) (func $s (result i32)
                i32.const 7 i32.const 3 i32.div_s)
                (func (export "e")))"#,
        );
        assert_eq!(from_export, from_start_returning);
    }

    #[test]
    fn other_instructions_are_another_shape() {
        let div = shape(r#"(module (func (result i32) i32.const 1 i32.const 2 i32.div_s))"#);
        let rem = shape(r#"(module (func (result i32) i32.const 1 i32.const 2 i32.rem_s))"#);
        assert_ne!(div, rem);
        assert!(fingerprint(b"\0asm\x01\0\0\0\x0a\x05").is_err());
    }
}
