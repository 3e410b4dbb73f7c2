//! Pass-aimed generation: cases shaped for Cranelift's optimizer passes
//! and Wasmtime's bounds checks, where rule-guided generation aims at ISLE
//! rules.
//!
//! Most of what is new and risky in Cranelift is not a rewrite rule: alias
//! analysis (redundant-load elimination, store-to-load forwarding, and the
//! dead-store elimination new in Wasmtime 48), loop-invariant code motion,
//! global value numbering and elaboration in the e-graph, inlining, the
//! register allocator, and the bounds checks Wasmtime emits or elides by
//! the memory's reservation, guard, index type and page size. Generated
//! code rarely has two stores to one address with a loop or a trap between
//! them. Each [`Shape`] here is a small template realized from the seed
//! ([`templates`]), with run-time values through parameters and memory so
//! nothing folds away; the module records its shape in a [`SECTION`]
//! custom section, and [`acted`] tells whether the pass really acted on it
//! (the CLIF at opt level none against speed).
//!
//! In: a seed's entropy and `[generator.passes]`. Out: a module aimed at
//! one shape, handed on like every generated module.

pub mod acted;
mod shape;
pub mod templates;
pub mod typed_refs;

pub use shape::Shape;

use anyhow::{Context, Result};
use arbitrary::Unstructured;
use serde::{Deserialize, Serialize};
use wasm_encoder::{CustomSection, Encode, Section};

/// The custom section naming the shape a module aims at.
pub const SECTION: &str = "crosscheck-pass";

/// Settings of pass-aimed generation (`[generator.passes]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PassesConfig {
    /// Share of all cases aimed at a pass shape (0 turns the mode off).
    pub share: f64,
}

impl Default for PassesConfig {
    fn default() -> Self {
        PassesConfig { share: 0.1 }
    }
}

/// Builds a module aimed at one shape, drawn from `u`. A shape whose loop
/// may never end asks for its budgets divided by `endless_budget_divisor`
/// (`case::termination::BUDGET_SECTION`), like wasm-smith's modules
/// without counters. With `imports`, a third of the shapes with a memory
/// import it ([`templates::with_imported_memory`]).
pub fn build(
    u: &mut Unstructured<'_>,
    endless_budget_divisor: u64,
    imports: bool,
) -> Result<(Vec<u8>, Shape)> {
    let shape = *u.choose(&Shape::ALL).context("drawing a pass shape")?;
    let text = templates::realize(shape, u, imports).context("drawing the shape's variables")?;
    let mut wasm = wat::parse_str(&text)
        .with_context(|| format!("assembling the {} template:\n{text}", shape.name()))?;
    let section = CustomSection {
        name: SECTION.into(),
        data: shape.name().as_bytes().into(),
    };
    wasm.push(section.id());
    section.encode(&mut wasm);
    if shape == Shape::Diverge {
        wasm = crate::case::termination::with_budget_divisor(wasm, endless_budget_divisor);
    }
    Ok((wasm, shape))
}

/// The shape a module's [`SECTION`] names, if it has one.
pub fn shape_of(wasm: &[u8]) -> Option<Shape> {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .find_map(|payload| match payload {
            Ok(wasmparser::Payload::CustomSection(s)) if s.name() == SECTION => {
                Shape::from_name(std::str::from_utf8(s.data()).ok()?)
            }
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::module_info::validates_with;
    use crate::engine::comparable_features;

    #[test]
    fn every_shape_assembles_validates_and_names_itself() {
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..400u64 {
            let bytes = crate::case::generate::seed_stream(
                seed,
                crate::case::generate::StreamPurpose::Module,
                4096,
            );
            let mut u = Unstructured::new(&bytes);
            let (wasm, shape) = build(
                &mut u,
                crate::case::generate::GeneratorConfig::default().endless_loops_budget_divisor,
                true,
            )
            .unwrap_or_else(|e| panic!("seed {seed}: {e:#}"));
            // Typed references need the proposals only the Wasmtime
            // sub-matrix runs.
            let features = match shape {
                Shape::TypedRefs => comparable_features() | crate::engine::proposal_features(),
                _ => comparable_features(),
            };
            assert!(
                validates_with(&wasm, features),
                "seed {seed}: {}",
                wasmprinter::print_bytes(&wasm).unwrap()
            );
            assert_eq!(
                shape == Shape::TypedRefs,
                !validates_with(&wasm, comparable_features()),
                "seed {seed}"
            );
            assert_eq!(shape_of(&wasm), Some(shape));
            seen.insert(shape);
        }
        assert_eq!(seen.len(), Shape::ALL.len());
    }

    #[test]
    fn with_imports_a_third_of_the_shapes_with_a_memory_import_it_and_still_export_it() {
        let (mut with_memory, mut imported) = (0, 0);
        for seed in 0..600u64 {
            let bytes = crate::case::generate::seed_stream(
                seed,
                crate::case::generate::StreamPurpose::Module,
                4096,
            );
            let (wasm, _) = build(&mut Unstructured::new(&bytes), 50, true).unwrap();
            let (alone, _) = build(&mut Unstructured::new(&bytes), 50, false).unwrap();
            let no_imports = crate::case::module_info::ModuleInfo::parse(&alone).unwrap();
            assert!(no_imports.imports.is_empty(), "seed {seed}");
            let info = crate::case::module_info::ModuleInfo::parse(&wasm).unwrap();
            let exports_m =
                info.names_of(|k| matches!(k, crate::case::module_info::ExportKind::Memory));
            if !exports_m.iter().any(|name| name == "m") {
                continue;
            }
            with_memory += 1;
            let memory_imports = info
                .imports
                .iter()
                .filter(|i| matches!(i.ty, crate::case::module_info::ImportType::Memory { .. }))
                .count();
            assert!(memory_imports <= 1, "seed {seed}");
            imported += memory_imports;
        }
        let share = imported as f64 / with_memory as f64;
        assert!((0.2..0.45).contains(&share), "{imported} of {with_memory}");
    }
}
