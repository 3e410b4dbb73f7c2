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

/// `wasm` with a store of a local's value to a local's address dropped
/// when the same store (width, offset, address local) follows a loop that
/// has no exit through a trap and does nothing else observable: a
/// dead-store elimination whose post-dominance ignores a path that never
/// ends, as Cranelift's did in Wasmtime 48.0.0 to 50 (the first store's
/// trap is lost, and the engine runs on in the loop). Right whenever the
/// loop ends, and wrong only where it does not and the first store traps:
/// only an engine without fuel or epochs shows it (a budget is a trap exit
/// of every loop, and keeps the store).
pub fn store_across_endless_loop_dropped(wasm: &[u8]) -> Result<Vec<u8>> {
    rewrite_bodies(wasm, &|window| {
        let (first, len) = simple_store(window)?;
        let mut depth = 0usize;
        let mut loops = 0;
        for i in len..window.len() {
            match &window[i] {
                Operator::Block { .. } => depth += 1,
                Operator::Loop { .. } => {
                    depth += 1;
                    loops += 1;
                }
                Operator::End if depth == 0 => return None,
                Operator::End => depth -= 1,
                _ if depth == 0 && loops > 0 => {
                    let (later, _) = simple_store(&window[i..])?;
                    return (later == first).then_some((Vec::new(), len));
                }
                // A branch out of what lies between would skip the second
                // store.
                Operator::Br { relative_depth } | Operator::BrIf { relative_depth }
                    if *relative_depth as usize >= depth =>
                {
                    return None
                }
                op if is_pure(op) => {}
                _ => return None,
            }
        }
        None
    })
}

/// Whether `op` can neither trap nor be seen outside its function, nor
/// leave a loop other than by a branch: what a loop may hold and still
/// have no exit through a trap.
fn is_pure(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::Br { .. }
            | Operator::BrIf { .. }
            | Operator::LocalGet { .. }
            | Operator::LocalSet { .. }
            | Operator::LocalTee { .. }
            | Operator::I32Const { .. }
            | Operator::I32Add
            | Operator::I32Sub
            | Operator::I32And
            | Operator::I32Or
            | Operator::I32Xor
            | Operator::I32Eqz
            | Operator::I32Eq
            | Operator::I32Ne
            | Operator::I32LtU
            | Operator::I32LeU
            | Operator::I32GtU
            | Operator::I32GeU
            | Operator::I32LtS
            | Operator::I32GtS
    )
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

/// `wasm` with every load from an imported memory taking its address
/// modulo 64 KiB: a bounds check of imported memories that masks the
/// address into the memory (as one sized by the engine's reservation
/// rather than the memory would let through) instead of trapping. Defined
/// memories are untouched, so only a module that imports a memory and
/// reads it past its first page shows it.
pub fn imported_memory_address_wrapped(wasm: &[u8]) -> Result<Vec<u8>> {
    let imported = imported_memories(wasm)?;
    rewrite_bodies(wasm, &|window| {
        let load = window.first()?;
        let memarg = load_memarg(load)?;
        let MemArgTarget::Memory(memory) = memarg.target else {
            return None;
        };
        let memory64 = *imported.get(memory as usize)?;
        let load = load_instruction(load)?;
        let wrap = if memory64 {
            [Instruction::I64Const(1 << 16), Instruction::I64RemU]
        } else {
            [Instruction::I32Const(1 << 16), Instruction::I32RemU]
        };
        Some(([wrap.to_vec(), vec![load]].concat(), 1))
    })
}

/// `wasm` with every loop's iteration also moving the first 64 KiB of
/// memory 0 down a byte and back up, its first byte kept on the stack and
/// stored again: work fuel does not meter (a bulk copy costs one unit
/// whatever its length) and nothing can observe, as a code motion that
/// moves a loop's metered work past its fuel check would leave. The
/// module is unchanged without a 32-bit memory 0 of 64 KiB pages.
pub fn unmetered_copy_in_loops(wasm: &[u8]) -> Result<Vec<u8>> {
    if !first_memory_has_wasm_pages(wasm)? {
        return Ok(wasm.to_vec());
    }
    let copy = |dst: i32, src: i32| {
        [
            Instruction::I32Const(dst),
            Instruction::I32Const(src),
            Instruction::I32Const(0xffff),
            Instruction::MemoryCopy {
                src_mem: 0,
                dst_mem: 0,
            },
        ]
    };
    let memarg = wasm_encoder::MemArg {
        offset: 0,
        align: 0,
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    };
    rewrite_bodies(wasm, &|window| {
        let Operator::Loop { blockty } = window.first()? else {
            return None;
        };
        let blockty = RoundtripReencoder.block_type(*blockty).ok()?;
        let moved = [
            vec![
                Instruction::Loop(blockty),
                // Only where memory 0 has a page.
                Instruction::MemorySize(0),
                Instruction::If(wasm_encoder::BlockType::Empty),
                Instruction::I32Const(0),
                Instruction::I32Const(0),
                Instruction::I32Load8U(memarg),
            ],
            copy(0, 1).to_vec(),
            copy(1, 0).to_vec(),
            vec![Instruction::I32Store8(memarg), Instruction::End],
        ];
        Some((moved.concat(), 1))
    })
}

/// Whether memory 0 (imported or defined) is 32-bit with 64 KiB pages.
fn first_memory_has_wasm_pages(wasm: &[u8]) -> Result<bool> {
    let fits =
        |m: &wasmparser::MemoryType| !m.memory64 && m.page_size_log2.is_none_or(|log2| log2 == 16);
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload? {
            wasmparser::Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if let wasmparser::TypeRef::Memory(m) = import?.ty {
                        return Ok(fits(&m));
                    }
                }
            }
            wasmparser::Payload::MemorySection(reader) => {
                if let Some(m) = reader.into_iter().next() {
                    return Ok(fits(&m?));
                }
            }
            _ => {}
        }
    }
    Ok(false)
}

/// Whether each imported memory, in index order, is 64-bit.
fn imported_memories(wasm: &[u8]) -> Result<Vec<bool>> {
    let mut memories = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::ImportSection(reader) = payload? {
            for import in reader.into_imports() {
                if let wasmparser::TypeRef::Memory(m) = import?.ty {
                    memories.push(m.memory64);
                }
            }
        }
    }
    Ok(memories)
}

/// A plain load again, as an instruction to encode.
fn load_instruction(op: &Operator<'_>) -> Option<Instruction<'static>> {
    let m = RoundtripReencoder.mem_arg(*load_memarg(op)?).ok()?;
    Some(match op {
        Operator::I32Load { .. } => Instruction::I32Load(m),
        Operator::I64Load { .. } => Instruction::I64Load(m),
        Operator::F32Load { .. } => Instruction::F32Load(m),
        Operator::F64Load { .. } => Instruction::F64Load(m),
        Operator::I32Load8S { .. } => Instruction::I32Load8S(m),
        Operator::I32Load8U { .. } => Instruction::I32Load8U(m),
        Operator::I32Load16S { .. } => Instruction::I32Load16S(m),
        Operator::I32Load16U { .. } => Instruction::I32Load16U(m),
        Operator::I64Load8S { .. } => Instruction::I64Load8S(m),
        Operator::I64Load8U { .. } => Instruction::I64Load8U(m),
        Operator::I64Load16S { .. } => Instruction::I64Load16S(m),
        Operator::I64Load16U { .. } => Instruction::I64Load16U(m),
        Operator::I64Load32S { .. } => Instruction::I64Load32S(m),
        _ => Instruction::I64Load32U(m),
    })
}

/// The memory argument of a plain load.
fn load_memarg<'a>(op: &'a Operator<'_>) -> Option<&'a MemArg> {
    match op {
        Operator::I32Load { memarg }
        | Operator::I64Load { memarg }
        | Operator::F32Load { memarg }
        | Operator::F64Load { memarg }
        | Operator::I32Load8S { memarg }
        | Operator::I32Load8U { memarg }
        | Operator::I32Load16S { memarg }
        | Operator::I32Load16U { memarg }
        | Operator::I64Load8S { memarg }
        | Operator::I64Load8U { memarg }
        | Operator::I64Load16S { memarg }
        | Operator::I64Load16U { memarg }
        | Operator::I64Load32S { memarg }
        | Operator::I64Load32U { memarg } => Some(memarg),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first function's body of `wat` after `fault`, as text.
    fn rewritten(fault: fn(&[u8]) -> Result<Vec<u8>>, wat: &str) -> String {
        let wasm = fault(&wat::parse_str(wat).unwrap()).unwrap();
        wasmprinter::print_bytes(wasm).unwrap()
    }

    fn module(between: &str) -> String {
        format!(
            "(module (memory 1)
               (func (param $a i32) (param $c i32) (param $v i64) (local $i i32)
                 (i64.store (local.get $a) (local.get $v))
                 {between}
                 (i64.store (local.get $a) (local.get $v))))"
        )
    }

    #[test]
    fn only_loads_of_imported_memories_wrap() {
        let text = rewritten(
            imported_memory_address_wrapped,
            r#"(module (import "e" "m" (memory 1)) (import "e" "w" (memory i64 1)) (memory 1)
                 (func (param i32 i64) (result i32)
                   (i32.load (local.get 0))
                   (i32.load 1 (local.get 1))
                   (i32.load 2 (local.get 0))
                   i32.add i32.add))"#,
        );
        assert_eq!(text.matches("i32.const 65536").count(), 1, "{text}");
        assert_eq!(text.matches("i64.const 65536").count(), 1, "{text}");
        assert_eq!(text.matches("rem_u").count(), 2, "{text}");
    }

    #[test]
    fn only_a_store_across_a_loop_without_a_trap_exit_is_dropped() {
        let stores = |text: &str| text.matches("i64.store").count();
        for endless in [
            "(loop $spin (br_if $spin (i32.and (local.get $c) (i32.const 16))))",
            "(block $out (loop $spin (br_if $out (i32.eqz (local.get $c))) (br $spin)))",
            "(local.set $i (local.get $c)) (loop $spin (local.set $i (i32.add (local.get $i) (i32.const 2))) (br_if $spin (i32.ne (local.get $i) (i32.const 16))))",
        ] {
            let text = rewritten(store_across_endless_loop_dropped, &module(endless));
            assert_eq!(stores(&text), 1, "{text}");
        }
        for kept in [
            // A trap exit.
            "(loop $spin (if (local.get $c) (then unreachable)) (br_if $spin (local.get $c)))",
            // No loop at all.
            "(local.set $i (local.get $c))",
            // A branch out of the function, past the second store.
            "(loop $spin (br_if 1 (local.get $c)) (br $spin))",
        ] {
            let text = rewritten(store_across_endless_loop_dropped, &module(kept));
            assert_eq!(stores(&text), 2, "{kept}: {text}");
        }
    }

    #[test]
    fn of_the_default_mix_only_modules_with_endless_loops_give_it_a_store_to_drop() {
        use crate::case::generate::{generate, GeneratorConfig};
        use crate::case::passes::{shape_of, PassShape};
        let settings = GeneratorConfig::default();
        let mut fired = 0;
        for seed in 0..1500 {
            let wasm = generate(seed, &settings).unwrap().wasm;
            if store_across_endless_loop_dropped(&wasm).unwrap() != wasm {
                // Counted loops (wasm-smith's global or local counters,
                // the other shapes' counters) have a trap exit, or end.
                let endless = crate::case::module_info::ModuleInfo::parse(&wasm)
                    .unwrap()
                    .budget_divisor
                    > 1;
                assert!(
                    shape_of(&wasm) == Some(PassShape::Diverge) || endless,
                    "seed {seed}"
                );
                fired += 1;
            }
        }
        assert!(
            fired > 0,
            "no module of 1,500 had a store across an endless loop"
        );
    }
}
