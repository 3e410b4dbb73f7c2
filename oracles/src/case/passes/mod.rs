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
//! them. Each [`PassShape`] here is a small template realized from the seed
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

pub use shape::PassShape;

use crate::case::release_diff::PassChange;
use crate::case::release_sources::Pass;
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
    /// With two releases in the matrix: draw the shapes by how much their
    /// pass changed between them ([`weigh_by_change`]) instead of alike.
    pub weigh_by_change: bool,
}

impl Default for PassesConfig {
    fn default() -> Self {
        PassesConfig {
            share: 0.1,
            // On 48 -> 51 it draws the alias-analysis shapes most, and 48's
            // known dead-store hang with them: a known hang's short limit
            // keeps that at 1.10 times the wall time (docs/releases.md).
            weigh_by_change: true,
        }
    }
}

/// How often each shape is drawn, where two releases are in the matrix:
/// by how much its pass changed between them (`weigh_by_change`); `None`:
/// every shape alike.
static WEIGHTS: std::sync::RwLock<Option<Vec<(PassShape, u32)>>> = std::sync::RwLock::new(None);

/// Weighs the shapes by how much their pass changed between the two
/// releases of the matrix ([`weights_for`]). Call before the first case,
/// in every process that generates (as the rules of another release are
/// added), so one seed is one module everywhere.
pub fn weigh_by_change(changes: &[(Pass, PassChange)]) {
    *WEIGHTS.write().unwrap_or_else(|e| e.into_inner()) = Some(weights_for(changes));
}

/// Each shape's weight by the changes of its pass
/// (`case::release_diff::diff_passes`): 1, plus up to 4 more as its
/// pass's changed lines approach the most any shape's pass changed; a
/// pass whose change is unknown adds nothing.
pub fn weights_for(changes: &[(Pass, PassChange)]) -> Vec<(PassShape, u32)> {
    let lines = |pass: Pass| {
        changes
            .iter()
            .find(|(p, c)| *p == pass && !c.unknown)
            .map_or(0, |(_, c)| c.weight())
    };
    let most = PassShape::ALL
        .iter()
        .map(|s| lines(s.pass()))
        .max()
        .unwrap_or(0);
    PassShape::ALL
        .iter()
        .map(|s| {
            let extra = if most == 0 {
                0
            } else {
                (4 * lines(s.pass())).div_ceil(most)
            };
            (*s, 1 + extra as u32)
        })
        .collect()
}

/// The shapes' weights in force, if any.
pub fn weights() -> Option<Vec<(PassShape, u32)>> {
    WEIGHTS.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The shape `u` draws: uniformly, or by `weights`.
fn draw_shape(u: &mut Unstructured<'_>, weights: Option<&[(PassShape, u32)]>) -> Result<PassShape> {
    let Some(weights) = weights else {
        return Ok(*u.choose(&PassShape::ALL).context("drawing a pass shape")?);
    };
    let total: u32 = weights.iter().map(|(_, w)| w).sum();
    let mut pick = u
        .int_in_range(0..=total - 1)
        .context("drawing a pass shape")?;
    for (shape, weight) in weights {
        if pick < *weight {
            return Ok(*shape);
        }
        pick -= weight;
    }
    unreachable!("the pick is below the total weight")
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
) -> Result<(Vec<u8>, PassShape)> {
    let shape = draw_shape(u, weights().as_deref())?;
    let text = templates::realize(shape, u, imports).context("drawing the shape's variables")?;
    let mut wasm = wat::parse_str(&text)
        .with_context(|| format!("assembling the {} template:\n{text}", shape.name()))?;
    let section = CustomSection {
        name: SECTION.into(),
        data: shape.name().as_bytes().into(),
    };
    wasm.push(section.id());
    section.encode(&mut wasm);
    if shape == PassShape::Diverge {
        wasm = crate::case::termination::with_budget_divisor(wasm, endless_budget_divisor);
    }
    Ok((wasm, shape))
}

/// The shape a module's [`SECTION`] names, if it has one.
pub fn shape_of(wasm: &[u8]) -> Option<PassShape> {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .find_map(|payload| match payload {
            Ok(wasmparser::Payload::CustomSection(s)) if s.name() == SECTION => {
                PassShape::from_name(std::str::from_utf8(s.data()).ok()?)
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
                PassShape::TypedRefs => comparable_features() | crate::engine::proposal_features(),
                _ => comparable_features(),
            };
            assert!(
                validates_with(&wasm, features),
                "seed {seed}: {}",
                wasmprinter::print_bytes(&wasm).unwrap()
            );
            assert_eq!(
                shape == PassShape::TypedRefs,
                !validates_with(&wasm, comparable_features()),
                "seed {seed}"
            );
            assert_eq!(shape_of(&wasm), Some(shape));
            seen.insert(shape);
        }
        assert_eq!(seen.len(), PassShape::ALL.len());
    }

    #[test]
    fn shapes_weigh_by_how_much_their_pass_changed() {
        let change = |lines: usize| PassChange {
            lines_added: lines,
            ..PassChange::default()
        };
        let changes = [
            (Pass::AliasAnalysis, change(1000)),
            (Pass::BoundsChecks, change(10)),
            (Pass::X64, change(500)),
            (
                Pass::Winch,
                PassChange {
                    unknown: true,
                    ..change(5000)
                },
            ),
        ];
        let weights: std::collections::BTreeMap<PassShape, u32> =
            weights_for(&changes).into_iter().collect();
        assert_eq!(weights[&PassShape::StoreStore], 5);
        assert_eq!(weights[&PassShape::Diverge], 5);
        assert_eq!(weights[&PassShape::Calls], 3);
        assert_eq!(weights[&PassShape::Bounds], 2);
        assert_eq!(weights[&PassShape::LoopTrap], 1);
        // Drawn by weight: the alias-analysis shapes (20 of 28) most often.
        let table = weights_for(&changes);
        let mut drawn: std::collections::BTreeMap<PassShape, u32> = Default::default();
        for seed in 0..2000u64 {
            let bytes = crate::case::generate::seed_stream(
                seed,
                crate::case::generate::StreamPurpose::Module,
                64,
            );
            let shape = draw_shape(&mut Unstructured::new(&bytes), Some(&table)).unwrap();
            *drawn.entry(shape).or_default() += 1;
        }
        let alias: u32 = [
            PassShape::StoreStore,
            PassShape::StoreLoad,
            PassShape::LoadLoad,
            PassShape::Diverge,
        ]
        .iter()
        .map(|s| drawn.get(s).copied().unwrap_or(0))
        .sum();
        assert!((1200..1550).contains(&alias), "{drawn:?}");
        assert!(
            drawn[&PassShape::LoopTrap] < drawn[&PassShape::StoreStore] / 3,
            "{drawn:?}"
        );
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
