//! The shapes pass-aimed modules take, and their names.

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
    /// An access that may trap, then a pure loop that never ends for some
    /// arguments (no counter, no trap exit), then an access that would make
    /// the first one dead if the loop always ended: dead-store elimination
    /// and code motion, whose reasoning about the paths to the function's
    /// exit must count a path that never gets there. Only an engine
    /// without fuel or epochs can show such a bug: budgets put a trap exit
    /// into every loop.
    Diverge,
    /// Block, loop and `if` parameters and results of typed references
    /// related by subtyping, `br_on_null`, `br_on_non_null`, `br_on_cast`,
    /// `br_on_cast_fail`, `call_ref`, `return_call_ref` and non-nullable
    /// locals (`typed_refs`): alias analysis and block ordering over
    /// control flow that carries references. Runs on the Wasmtime-only
    /// sub-matrix.
    TypedRefs,
}

impl Shape {
    /// The pass (or component) the shape aims at, whose change between
    /// two releases weighs it (`passes::weigh_by_change`).
    pub fn pass(self) -> crate::case::release_sources::Pass {
        use crate::case::release_sources::Pass;
        match self {
            Shape::StoreStore | Shape::StoreLoad | Shape::LoadLoad | Shape::Diverge => {
                Pass::AliasAnalysis
            }
            Shape::LoopTrap => Pass::Loops,
            Shape::Duplicate | Shape::TypedRefs => Pass::Egraph,
            Shape::Bounds => Pass::BoundsChecks,
            // Calls exercise the ABI and register allocation of the backend.
            Shape::Calls => Pass::X64,
        }
    }

    /// Every shape.
    pub const ALL: [Shape; 9] = [
        Shape::StoreStore,
        Shape::StoreLoad,
        Shape::LoadLoad,
        Shape::LoopTrap,
        Shape::Duplicate,
        Shape::Bounds,
        Shape::Calls,
        Shape::Diverge,
        Shape::TypedRefs,
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
            Shape::Diverge => "diverge",
            Shape::TypedRefs => "typed-refs",
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
            Shape::Diverge => "pass:diverge",
            Shape::TypedRefs => "pass:typed-refs",
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
            Shape::Diverge => "dead-store elimination across a loop that may never end",
            Shape::TypedRefs => {
                "control flow carrying typed references (alias analysis, block ordering)"
            }
        }
    }
}
