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
pub mod templates;

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

/// What a pass-aimed module is shaped for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// Two stores to one address (or aliasing addresses) with a branch,
    /// trap, loop, call, `memory.grow` or other memory's store between:
    /// dead-store elimination.
    StoreStore,
    /// A store and a later load of the same address across the same:
    /// store-to-load forwarding.
    StoreLoad,
    /// Two loads of one address across the same: redundant-load
    /// elimination.
    LoadLoad,
    /// A trapping operation with loop-invariant operands that runs only on
    /// some iterations of a loop: loop-invariant code motion.
    LoopTrap,
    /// One pure or trapping expression in several blocks and branches:
    /// value numbering and elaboration.
    Duplicate,
    /// Accesses at the edges of memory's size, page and guard region, on
    /// 32- and 64-bit memories, before and after `memory.grow`: bounds
    /// checks.
    Bounds,
    /// Small callees with traps and several results, calls with stack
    /// arguments and tail calls, more live values across calls than
    /// registers: inlining and the register allocator.
    Calls,
}

impl Shape {
    /// Every shape.
    pub const ALL: [Shape; 7] = [
        Shape::StoreStore,
        Shape::StoreLoad,
        Shape::LoadLoad,
        Shape::LoopTrap,
        Shape::Duplicate,
        Shape::Bounds,
        Shape::Calls,
    ];

    /// Its name in sections, features and counters.
    pub fn name(self) -> &'static str {
        match self {
            Shape::StoreStore => "store-store",
            Shape::StoreLoad => "store-load",
            Shape::LoadLoad => "load-load",
            Shape::LoopTrap => "loop-trap",
            Shape::Duplicate => "duplicate",
            Shape::Bounds => "bounds",
            Shape::Calls => "calls",
        }
    }

    /// The shape named `name`.
    pub fn from_name(name: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The module feature naming it (`pass:store-store`).
    pub fn feature(self) -> &'static str {
        match self {
            Shape::StoreStore => "pass:store-store",
            Shape::StoreLoad => "pass:store-load",
            Shape::LoadLoad => "pass:load-load",
            Shape::LoopTrap => "pass:loop-trap",
            Shape::Duplicate => "pass:duplicate",
            Shape::Bounds => "pass:bounds",
            Shape::Calls => "pass:calls",
        }
    }

    /// The pass it aims at, in words.
    pub fn aims_at(self) -> &'static str {
        match self {
            Shape::StoreStore => "dead-store elimination",
            Shape::StoreLoad => "store-to-load forwarding",
            Shape::LoadLoad => "redundant-load elimination",
            Shape::LoopTrap => "loop-invariant code motion",
            Shape::Duplicate => "value numbering and elaboration",
            Shape::Bounds => "Wasmtime's bounds checks",
            Shape::Calls => "inlining and register allocation around calls",
        }
    }
}

/// Builds a module aimed at one shape, drawn from `u`.
pub fn build(u: &mut Unstructured<'_>) -> Result<(Vec<u8>, Shape)> {
    let shape = *u.choose(&Shape::ALL).context("drawing a pass shape")?;
    let text = templates::realize(shape, u).context("drawing the shape's variables")?;
    let mut wasm = wat::parse_str(&text)
        .with_context(|| format!("assembling the {} template:\n{text}", shape.name()))?;
    let section = CustomSection {
        name: SECTION.into(),
        data: shape.name().as_bytes().into(),
    };
    wasm.push(section.id());
    section.encode(&mut wasm);
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
            let (wasm, shape) = build(&mut u).unwrap_or_else(|e| panic!("seed {seed}: {e:#}"));
            assert!(
                validates_with(&wasm, comparable_features()),
                "seed {seed}: {}",
                wasmprinter::print_bytes(&wasm).unwrap()
            );
            assert_eq!(shape_of(&wasm), Some(shape));
            seen.insert(shape);
        }
        assert_eq!(seen.len(), Shape::ALL.len());
    }
}
