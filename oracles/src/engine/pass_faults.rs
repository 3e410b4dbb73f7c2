//! Injected faults of Cranelift's optimizer passes, as module rewrites
//! wrong only on a pass shape's edge (`case::passes`): for testing that
//! pass-aimed generation finds them. Never in the defaults.

use super::body_rewrite::rewrite_bodies;
use anyhow::Result;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::Instruction;
use wasmparser::{MemArg, MemArgTarget, Operator};

/// `wasm` with a store of a local's value to a local's address dropped
/// when a later store of the same width and offset to the same local's
/// address follows in its function with a branch, loop, call or trapping
/// instruction between: a dead-store elimination that ignores what lies
/// between two stores, wrong when that makes the first one observable (an
/// early return, a trap, a read in the loop or the callee).
pub fn store_before_store_dropped(wasm: &[u8]) -> Result<Vec<u8>> {
    rewrite_bodies(wasm, &|window| {
        let (first, len) = simple_store(window)?;
        let mut between = false;
        for i in len..window.len() {
            if let Some((later, _)) = simple_store(&window[i..]) {
                if later == first && between {
                    // The address and value pushes go with the store.
                    return Some((Vec::new(), len));
                }
            }
            between |= is_barrier(&window[i]);
        }
        None
    })
}

/// The store at the start of `ops` if it is `local.get a; local.get v;
/// [i32.wrap_i64]; store`: its address local, kind and memory argument,
/// and how many operators it spans.
fn simple_store(ops: &[Operator<'_>]) -> Option<((u32, u8, u64, MemArgTarget), usize)> {
    let Operator::LocalGet {
        local_index: address,
    } = ops.first()?
    else {
        return None;
    };
    let Operator::LocalGet { .. } = ops.get(1)? else {
        return None;
    };
    let (at, len) = match ops.get(2)? {
        Operator::I32WrapI64 => (3, 4),
        _ => (2, 3),
    };
    let (kind, memarg) = store_of(ops.get(at)?)?;
    Some(((*address, kind, memarg.offset, memarg.target), len))
}

/// Whether `op` can make a store before it observable to code after a
/// store that overwrites it: control flow out, a call, a trap.
fn is_barrier(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::If { .. }
            | Operator::Br { .. }
            | Operator::BrIf { .. }
            | Operator::BrTable { .. }
            | Operator::Loop { .. }
            | Operator::Return
            | Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::Unreachable
            | Operator::MemoryGrow { .. }
            | Operator::I32DivU
            | Operator::I32DivS
            | Operator::I32Load { .. }
            | Operator::I64Load { .. }
    )
}

/// A store's opcode kind and memory argument.
fn store_of(op: &Operator<'_>) -> Option<(u8, MemArg)> {
    Some(match op {
        Operator::I32Store { memarg } => (0, *memarg),
        Operator::I64Store { memarg } => (1, *memarg),
        Operator::F32Store { memarg } => (2, *memarg),
        Operator::F64Store { memarg } => (3, *memarg),
        Operator::I32Store8 { memarg } => (4, *memarg),
        Operator::I32Store16 { memarg } => (5, *memarg),
        Operator::I64Store8 { memarg } => (6, *memarg),
        Operator::I64Store16 { memarg } => (7, *memarg),
        Operator::I64Store32 { memarg } => (8, *memarg),
        _ => return None,
    })
}

/// `wasm` with the first integer division or remainder of two locals
/// that a loop runs behind a condition (inside an `if` of its body) also
/// computed (and dropped) just before the loop: a loop-invariant code
/// motion that hoists a trapping instruction out of the condition and the
/// loop. Wrong when the condition never holds, or the loop never runs,
/// and the division traps.
pub fn division_hoisted_out_of_loop(wasm: &[u8]) -> Result<Vec<u8>> {
    rewrite_bodies(wasm, &|window| {
        let Operator::Loop { blockty } = window.first()? else {
            return None;
        };
        let (x, y, division) = first_division_in_loop(&window[1..])?;
        let blockty = RoundtripReencoder.block_type(*blockty).ok()?;
        Some((
            vec![
                Instruction::LocalGet(x),
                Instruction::LocalGet(y),
                division,
                Instruction::Drop,
                Instruction::Loop(blockty),
            ],
            1,
        ))
    })
}

/// The first `local.get x; local.get y; i32.div*/rem*` inside an `if` of
/// the loop body `ops` starts (up to its `end`).
fn first_division_in_loop(ops: &[Operator<'_>]) -> Option<(u32, u32, Instruction<'static>)> {
    // The kinds of the blocks open inside the loop body: `true` for `if`.
    let mut open: Vec<bool> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } => open.push(false),
            Operator::If { .. } => open.push(true),
            Operator::End if open.is_empty() => return None,
            Operator::End => {
                open.pop();
            }
            _ => {}
        }
        if !open.contains(&true) {
            continue;
        }
        let division = match op {
            Operator::I32DivS => Instruction::I32DivS,
            Operator::I32DivU => Instruction::I32DivU,
            Operator::I32RemS => Instruction::I32RemS,
            Operator::I32RemU => Instruction::I32RemU,
            _ => continue,
        };
        if let (
            Some(Operator::LocalGet { local_index: x }),
            Some(Operator::LocalGet { local_index: y }),
        ) = (
            i.checked_sub(2).map(|j| &ops[j]),
            i.checked_sub(1).map(|j| &ops[j]),
        ) {
            return Some((*x, *y, division));
        }
    }
    None
}

/// A store a later load may be forwarded from: its address local, value
/// local, kind, offset and memory, and whether a call followed it.
type PendingStore = (u32, u32, u8, u64, MemArgTarget, bool);

/// `wasm` with a load of a local's address replaced by the local value
/// an earlier store of the same width wrote there, when a call lies between
/// (and neither local changes): store-to-load forwarding that forgets the
/// callee may overwrite the location. Wrong when the callee stores there.
pub fn load_forwarded_across_call(wasm: &[u8]) -> Result<Vec<u8>> {
    // The last full-width store of a local to a local's address, and
    // whether a call followed it: the operators come left to right.
    let pending: std::cell::Cell<Option<PendingStore>> = std::cell::Cell::new(None);
    rewrite_bodies(wasm, &|window| {
        if let (
            Some(((address, kind, offset, target), 3)),
            Some(Operator::LocalGet { local_index }),
        ) = (simple_store(window), window.get(1))
        {
            if matches!(kind, 0 | 1) {
                pending.set(Some((address, *local_index, kind, offset, target, false)));
            }
            return None;
        }
        let (address, value, kind, offset, target, called) = pending.get()?;
        match window.first()? {
            Operator::Call { .. } | Operator::CallIndirect { .. } => {
                pending.set(Some((address, value, kind, offset, target, true)));
            }
            Operator::LocalSet { local_index } | Operator::LocalTee { local_index }
                if *local_index == address || *local_index == value =>
            {
                pending.set(None);
            }
            Operator::End | Operator::Else | Operator::Br { .. } | Operator::Return => {
                pending.set(None);
            }
            Operator::LocalGet { local_index } if *local_index == address && called => {
                let loaded = match (window.get(1)?, kind) {
                    (Operator::I32Load { memarg }, 0) | (Operator::I64Load { memarg }, 1) => memarg,
                    _ => return None,
                };
                if loaded.offset == offset && loaded.target == target {
                    return Some((vec![Instruction::LocalGet(value)], 2));
                }
            }
            _ => {}
        }
        None
    })
}

/// The offset from which an access is at the edge of Wasmtime's default
/// guard region (32 MiB) or past it.
const GUARD_EDGE: u64 = (32 << 20) - 8;

/// `wasm` with every load whose offset immediate is at or past the edge
/// of Wasmtime's default guard region reading 0 instead of its memory: a
/// bounds check dropped where the guard region was taken to cover the
/// offset. Wrong whenever such a load is out of bounds, which it is on
/// every memory these modules have.
pub fn bounds_check_dropped_at_guard_edge(wasm: &[u8]) -> Result<Vec<u8>> {
    rewrite_bodies(wasm, &|window| {
        let (memarg, zero) = match window.first()? {
            Operator::I32Load { memarg } => (memarg, Instruction::I32Const(0)),
            Operator::I64Load { memarg } => (memarg, Instruction::I64Const(0)),
            Operator::I32Load8U { memarg } | Operator::I32Load16S { memarg } => {
                (memarg, Instruction::I32Const(0))
            }
            Operator::I64Load32S { memarg } => (memarg, Instruction::I64Const(0)),
            _ => return None,
        };
        (memarg.offset >= GUARD_EDGE).then(|| (vec![Instruction::Drop, zero], 1))
    })
}
