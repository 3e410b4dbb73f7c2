//! Instruction coverage: how often each Wasm instruction occurs in a
//! module's code, by name (`i32.add`, `br_table`, `v128.load`), and the
//! catalogue of every instruction wasmparser knows with its proposal, so a
//! histogram can say what was never generated.

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use wasmparser::{Operator, Parser, Payload};

/// One instruction of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// Its name in the text format's style (`i32.add`, `local.get`, `br_if`).
    pub name: String,
    /// The proposal that introduced it, as wasmparser names it (`mvp`,
    /// `simd`, `tail_call`, `sign_extension`, ...).
    pub proposal: &'static str,
}

/// Every instruction wasmparser can decode, in its order.
pub fn catalogue() -> &'static [Instruction] {
    static CATALOGUE: OnceLock<Vec<Instruction>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        macro_rules! list {
            ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
                vec![$(Instruction {
                    name: text_name(stringify!($visit)),
                    proposal: stringify!($proposal),
                }),*]
            };
        }
        wasmparser::for_each_operator!(list)
    })
}

/// The catalogue's instructions of the given proposals.
pub fn of_proposals<'a>(
    proposals: &'a [String],
) -> impl Iterator<Item = &'static Instruction> + 'a {
    catalogue()
        .iter()
        .filter(move |i| proposals.iter().any(|p| p == i.proposal))
}

/// How often each instruction occurs in the module's function bodies (not
/// in constant expressions), by catalogue name.
pub fn histogram(wasm: &[u8]) -> Result<BTreeMap<&'static str, u64>> {
    let mut counts = vec![0u64; catalogue().len()];
    for payload in Parser::new(0).parse_all(wasm) {
        let Payload::CodeSectionEntry(body) = payload.context("parsing the module")? else {
            continue;
        };
        let mut reader = body
            .get_operators_reader()
            .context("reading a function body")?;
        while !reader.eof() {
            let op = reader.read().context("reading an instruction")?;
            counts[index(&op)] += 1;
        }
    }
    Ok(catalogue()
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(i, n)| (i.name.as_str(), n))
        .collect())
}

/// The number of instructions in the module's function bodies: its size
/// as the cost checks measure it (0 if the module does not parse).
pub fn count(wasm: &[u8]) -> u64 {
    histogram(wasm).map_or(0, |h| h.values().sum())
}

/// The operator's position in [`catalogue`].
fn index(op: &Operator<'_>) -> usize {
    macro_rules! positions {
        ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {{
            #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
            enum Position { $($op),* }
            match op {
                $(Operator::$op { .. } => Position::$op as usize,)*
                // `Operator` is non-exhaustive; wasmparser's own list is.
                _ => unreachable!("an operator missing from wasmparser's list"),
            }
        }};
    }
    wasmparser::for_each_operator!(positions)
}

/// `visit_i32_add` → `i32.add`: the first word names a type or an index
/// space for the instructions written `<prefix>.<rest>` in the text format;
/// control instructions (`br_if`, `call_indirect`, `return_call`) keep
/// their underscores.
fn text_name(visit: &str) -> String {
    const DOTTED: &[&str] = &[
        "i32", "i64", "f32", "f64", "v128", "i8x16", "i16x8", "i32x4", "i64x2", "f32x4", "f64x2",
        "local", "global", "table", "memory", "ref", "data", "elem", "struct", "array", "any",
        "extern", "i31",
    ];
    let name = visit.strip_prefix("visit_").unwrap_or(visit);
    match name.split_once('_') {
        Some((prefix, rest)) if DOTTED.contains(&prefix) => format!("{prefix}.{rest}"),
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_text_format() {
        let names: Vec<&str> = catalogue().iter().map(|i| i.name.as_str()).collect();
        for expected in [
            "i32.add",
            "local.get",
            "br_if",
            "br_table",
            "call_indirect",
            "return_call",
            "memory.grow",
            "ref.is_null",
            "i32.trunc_sat_f32_s",
            "v128.load",
            "select",
        ] {
            assert!(names.contains(&expected), "{expected} missing");
        }
        let unique: std::collections::HashSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len(), "names are unique");
        let mvp = of_proposals(&["mvp".to_string()]).count();
        assert!((150..250).contains(&mvp), "{mvp} MVP instructions");
    }

    #[test]
    fn histogram_counts_every_instruction_of_every_body() {
        let wasm = wat::parse_str(
            r#"(module
                 (global i32 (i32.const 7))
                 (func (param i32) (result i32)
                   local.get 0 i32.const 1 i32.add i32.const 2 i32.add)
                 (func (result i64) i64.const 3 return_call 2)
                 (func (param i64) (result i64) local.get 0))"#,
        )
        .unwrap();
        let h = histogram(&wasm).unwrap();
        let expect: BTreeMap<&str, u64> = [
            ("local.get", 2),
            ("i32.const", 2),
            ("i32.add", 2),
            ("i64.const", 1),
            ("return_call", 1),
            ("end", 3),
        ]
        .into_iter()
        .collect();
        // The global's initializer is a constant expression, not code.
        assert_eq!(h, expect);
        assert!(histogram(&wasm[..wasm.len() - 3]).is_err());
    }
}
