//! The shapes pass-aimed modules take, and their names.

/// What a pass-aimed module is shaped for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PassShape {
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

impl PassShape {
    /// The pass (or component) the shape aims at, whose change between
    /// two releases weighs it (`passes::weigh_by_change`).
    pub fn pass(self) -> crate::case::release_sources::Pass {
        use crate::case::release_sources::Pass;
        match self {
            PassShape::StoreStore
            | PassShape::StoreLoad
            | PassShape::LoadLoad
            | PassShape::Diverge => Pass::AliasAnalysis,
            PassShape::LoopTrap => Pass::Loops,
            PassShape::Duplicate | PassShape::TypedRefs => Pass::Egraph,
            PassShape::Bounds => Pass::BoundsChecks,
            // Calls exercise the ABI and register allocation of the backend.
            PassShape::Calls => Pass::X64,
        }
    }

    /// Every shape.
    pub const ALL: [PassShape; 9] = [
        PassShape::StoreStore,
        PassShape::StoreLoad,
        PassShape::LoadLoad,
        PassShape::LoopTrap,
        PassShape::Duplicate,
        PassShape::Bounds,
        PassShape::Calls,
        PassShape::Diverge,
        PassShape::TypedRefs,
    ];

    /// Its name in sections, features and counters.
    pub fn name(self) -> &'static str {
        match self {
            PassShape::StoreStore => "store-store",
            PassShape::StoreLoad => "store-load",
            PassShape::LoadLoad => "load-load",
            PassShape::LoopTrap => "loop-trap",
            PassShape::Duplicate => "duplicate",
            PassShape::Bounds => "bounds",
            PassShape::Calls => "calls",
            PassShape::Diverge => "diverge",
            PassShape::TypedRefs => "typed-refs",
        }
    }

    /// The shape named `name`.
    pub fn from_name(name: &str) -> Option<PassShape> {
        PassShape::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The module feature naming it (`pass:store-store`).
    pub fn feature(self) -> &'static str {
        match self {
            PassShape::StoreStore => "pass:store-store",
            PassShape::StoreLoad => "pass:store-load",
            PassShape::LoadLoad => "pass:load-load",
            PassShape::LoopTrap => "pass:loop-trap",
            PassShape::Duplicate => "pass:duplicate",
            PassShape::Bounds => "pass:bounds",
            PassShape::Calls => "pass:calls",
            PassShape::Diverge => "pass:diverge",
            PassShape::TypedRefs => "pass:typed-refs",
        }
    }

    /// The pass it aims at, in words.
    pub fn aims_at(self) -> &'static str {
        match self {
            PassShape::StoreStore => "dead-store elimination",
            PassShape::StoreLoad => "store-to-load forwarding",
            PassShape::LoadLoad => "redundant-load elimination",
            PassShape::LoopTrap => "loop-invariant code motion",
            PassShape::Duplicate => "value numbering and elaboration",
            PassShape::Bounds => "Wasmtime's bounds checks",
            PassShape::Calls => "inlining and register allocation around calls",
            PassShape::Diverge => "dead-store elimination across a loop that may never end",
            PassShape::TypedRefs => {
                "control flow carrying typed references (alias analysis, block ordering)"
            }
        }
    }
}
