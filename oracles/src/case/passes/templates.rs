//! The shapes' templates, as WebAssembly text with the seed's choices
//! filled in: which access widths, which aliasing address pairs, what
//! stands between the two accesses, which trapping operation, which
//! offsets at which edges. Every value the shape computes on comes from a
//! parameter, a global or memory, so nothing folds away, and every result
//! reaches an exported memory, a global or a return value, where the
//! comparison sees it.

use super::shape::PassShape;
use arbitrary::{Result, Unstructured};

/// The module text of `shape`, drawn from `u`; with `imports`, its memory
/// is imported a third of the time.
pub fn realize(shape: PassShape, u: &mut Unstructured<'_>, imports: bool) -> Result<String> {
    let text = match shape {
        PassShape::StoreStore | PassShape::StoreLoad | PassShape::LoadLoad => memory_pair(shape, u),
        PassShape::LoopTrap => loop_trap(u),
        PassShape::Duplicate => duplicate(u),
        PassShape::Bounds => bounds(u),
        PassShape::Calls => calls(u),
        PassShape::Diverge => diverge(u),
        PassShape::TypedRefs => super::typed_refs::typed_refs(u),
    }?;
    // Drawn last, so that every other choice of the seed stays as it was.
    Ok(if imports && u.ratio(1, 3)? {
        with_imported_memory(&text)
    } else {
        text
    })
}

/// `text` with its memory `m` imported (`env.m`, still exported as `m`):
/// Wasmtime finds an imported memory's base and bound through the
/// import rather than in its own instance, and checks bounds without
/// knowing the memory's reservation, so the same accesses take other
/// code paths. The harness links the memory (`case::imports`), now and
/// then larger than the module's minimum, and sometimes into two
/// instances of the module at once.
pub fn with_imported_memory(text: &str) -> String {
    text.replacen(
        "(memory (export \"m\")",
        "(memory (export \"m\") (import \"env\" \"m\")",
        1,
    )
}

/// An access width: the store and load instructions and how an `i64`
/// parameter becomes the stored value.
struct Width {
    store: &'static str,
    load: &'static str,
    value: &'static str,
    /// How the loaded value becomes the `i64` the function returns.
    widen: &'static str,
}

const WIDTHS: [Width; 5] = [
    Width {
        store: "i64.store",
        load: "i64.load",
        value: "",
        widen: "",
    },
    Width {
        store: "i32.store",
        load: "i32.load",
        value: "i32.wrap_i64",
        widen: "i64.extend_i32_u",
    },
    Width {
        store: "i32.store8",
        load: "i32.load8_u",
        value: "i32.wrap_i64",
        widen: "i64.extend_i32_u",
    },
    Width {
        store: "i64.store32",
        load: "i64.load32_s",
        value: "",
        widen: "",
    },
    Width {
        store: "i32.store16",
        load: "i32.load16_s",
        value: "i32.wrap_i64",
        widen: "i64.extend_i32_s",
    },
];

/// `(op arg)`, or `arg` when `op` is empty.
fn apply(op: &str, arg: &str) -> String {
    if op.is_empty() {
        arg.to_string()
    } else {
        format!("({op} {arg})")
    }
}

/// What stands between the two accesses of a memory pair: each a way the
/// first access can be observed, or the second one's value change, that a
/// pass must respect.
const BETWEEN: [&str; 12] = [
    // Nothing: the pass may act.
    "",
    // An early return: the first store is all memory has.
    "(if (i32.and (local.get $c) (i32.const 4)) (then (return (i64.const -1))))",
    // A trap on some arguments.
    "(if (i32.and (local.get $c) (i32.const 8)) (then unreachable))",
    // A division that traps when the low bits of $c are zero.
    "(drop (i32.div_u (i32.const 100) (i32.and (local.get $c) (i32.const 3))))",
    // A loop ended by a local counter, which may trap inside.
    "(local.set $i (i32.and (local.get $c) (i32.const 7)))
     (block $done (loop $again
       (br_if $done (i32.eqz (local.get $i)))
       (local.set $i (i32.sub (local.get $i) (i32.const 1)))
       (if (i32.eq (local.get $i) (i32.const 5)) (then unreachable))
       (br $again)))",
    // A loop ended by a value loaded from the address just stored to.
    "(local.set $i (i32.const 4))
     (block $done (loop $again
       (br_if $done (i32.eqz (local.get $i)))
       (local.set $i (i32.sub (local.get $i) (i32.const 1)))
       (br_if $done (i32.load8_u (local.get $a)))
       (br $again)))",
    // A call that stores to the address or traps, by argument; twice as
    // likely as the others, since passes must treat calls as clobbering.
    "(call $side (local.get $a) (local.get $c))",
    "(call $side (local.get $a) (local.get $c))",
    // Memory may grow (and move).
    "(drop (memory.grow (i32.and (local.get $c) (i32.const 1))))",
    // A store to the other memory.
    "(i64.store $other (i32.and (local.get $c) (i32.const 0xfff8)) (local.get $v2))",
    // An access that traps out of bounds on some arguments.
    "(drop (i32.load offset=65532 (local.get $c)))",
    // A store through an address that may alias.
    "(i32.store8 (i32.and (local.get $c) (i32.const 0xff)) (i32.const 0x5a))",
];

/// Two addresses of one location (or of possibly overlapping ones): the
/// same base and offset, or another base/offset pair with the same sum.
fn address_pair(u: &mut Unstructured<'_>) -> Result<(String, String)> {
    let offset: u32 = *u.choose(&[0, 4, 8, 16, 100, 4096])?;
    let first = format!("offset={offset} (local.get $a)");
    // The same address half of the time: the pass's own case.
    let second = match u.int_in_range(0..=3u8)? {
        0 | 3 => first.clone(),
        1 => {
            let shift = offset.min(*u.choose(&[4u32, 8, 16])?);
            format!(
                "offset={} (i32.add (local.get $a) (i32.const {shift}))",
                offset - shift
            )
        }
        _ => format!("offset={offset} (i32.and (local.get $c) (i32.const 0x1ff8))"),
    };
    Ok((first, second))
}

/// How `$a` is computed from the parameter `$p`: masked into memory, or
/// raw, so that the accesses trap for some arguments.
fn base(u: &mut Unstructured<'_>) -> Result<&'static str> {
    Ok(*u.choose(&[
        "(i32.and (local.get $p) (i32.const 0xfff8))",
        "(i32.and (local.get $p) (i32.const 0x1ff))",
        "(local.get $p)",
    ])?)
}

/// Store-store, store-load and load-load pairs.
fn memory_pair(shape: PassShape, u: &mut Unstructured<'_>) -> Result<String> {
    let width = u.choose(&WIDTHS)?;
    let (first, second) = address_pair(u)?;
    let between = u.choose(&BETWEEN)?;
    let base = base(u)?;
    let v = |name: &str| apply(width.value, &format!("(local.get {name})"));
    let load = |address: &str| apply(width.widen, &format!("({} {address})", width.load));
    let body = match shape {
        PassShape::StoreStore => format!(
            "({store} {first} {v1})
             {between}
             ({store} {second} {v2})
             {read}",
            store = width.store,
            v1 = v("$v1"),
            v2 = v("$v2"),
            read = load(&first),
        ),
        PassShape::StoreLoad => format!(
            "({store} {first} {v1})
             {between}
             {read}",
            store = width.store,
            v1 = v("$v1"),
            read = load(&second),
        ),
        _ => format!(
            "(local.set $x {read1})
             {between}
             (i64.add (local.get $x) (i64.mul {read2} (i64.const 3)))",
            read1 = load(&first),
            read2 = load(&second),
        ),
    };
    Ok(format!(
        "(module
          (memory (export \"m\") 1 2)
          (memory $other (export \"o\") 1 1)
          (func $side (param $a i32) (param $c i32)
            (if (i32.and (local.get $c) (i32.const 1))
              (then (i64.store (local.get $a) (i64.const 0x5555))))
            (if (i32.and (local.get $c) (i32.const 2)) (then unreachable)))
          (func (export \"f\") (param $p i32) (param $c i32) (param $v1 i64) (param $v2 i64)
            (result i64)
            (local $a i32) (local $i i32) (local $x i64)
            (local.set $a {base})
            {body}))"
    ))
}

/// Loops that never end for some arguments and do nothing observable: no
/// counter, no trap, no call, no memory access, so that nothing but the
/// missing exit tells a pass the loop matters. `{endless}` is the
/// condition (0 or 1) under which they never end.
const ENDLESS_LOOPS: [&str; 3] = [
    // Repeats while the condition holds.
    "(loop $spin (br_if $spin {endless}))",
    // Leaves through an enclosing block when it does not.
    "(block $out (loop $spin
       (br_if $out (i32.eqz {endless}))
       (br $spin)))",
    // Counts in a local that reaches its exit only when the condition
    // does not hold: otherwise the count starts odd and steps over the
    // exit for ever (in 2^31 steps, which no budget waits for).
    "(local.set $i {endless})
     (loop $spin
       (local.set $i (i32.add (local.get $i) (i32.const 2)))
       (br_if $spin (i32.ne (local.get $i) (i32.const 0x10))))",
];

/// What the endless loop's body may hold besides its exit: nothing, or a
/// trap on some arguments, which gives the loop an exit through a trap
/// (a pass must then keep the first access: the control case).
const LOOP_BODY_TRAPS: [&str; 2] = [
    "",
    "(if (i32.and (local.get $c) (i32.const 32)) (then unreachable))",
];

/// The bytes an access of `width` touches.
fn bytes_of(width: &Width) -> u32 {
    match width.store {
        "i64.store" => 8,
        "i32.store" | "i64.store32" => 4,
        "i32.store16" => 2,
        _ => 1,
    }
}

/// A store or load that may trap (out of bounds for some `$p`), a loop
/// that may never end, and a store to the same address after it: a
/// dead-store elimination that takes the second store for one that always
/// follows drops the first, and with it the trap, so that the engine runs
/// on in the loop where every other engine traps. The loop is endless
/// either exactly when the first access is out of bounds (every correct
/// engine traps before it, so budgets are never spent on it), or when a
/// bit of an argument is set.
fn diverge(u: &mut Unstructured<'_>) -> Result<String> {
    let width = u.choose(&WIDTHS)?;
    let base = base(u)?;
    let offset: u32 = *u.choose(&[0, 8, 4096, 65528])?;
    let address = format!("offset={offset} (local.get $a)");
    // The first address at which the access no longer fits in the page.
    let first_out = 65536 - offset - bytes_of(width) + 1;
    let endless = match u.int_in_range(0..=2u8)? {
        0 | 1 => format!("(i32.ge_u (local.get $a) (i32.const {first_out}))"),
        _ => "(i32.ne (i32.and (local.get $c) (i32.const 16)) (i32.const 0))".to_string(),
    };
    let spin = u.choose(&ENDLESS_LOOPS)?.replace("{endless}", &endless);
    let trap = u.choose(&LOOP_BODY_TRAPS)?;
    // The trap goes at the top of the loop's body.
    let spin = spin.replacen("(loop $spin", &format!("(loop $spin {trap}"), 1);
    let v = |name: &str| apply(width.value, &format!("(local.get {name})"));
    let first = match u.int_in_range(0..=2u8)? {
        // The store a dead-store elimination would drop.
        0 | 1 => format!("({} {address} {})", width.store, v("$v1")),
        // A load whose value nobody uses: it may only be dropped if it
        // cannot trap.
        _ => format!("(drop ({} {address}))", width.load),
    };
    Ok(format!(
        "(module
          (memory (export \"m\") 1 1)
          (func (export \"f\") (param $p i32) (param $c i32) (param $v1 i64) (param $v2 i64)
            (result i64)
            (local $a i32) (local $i i32)
            (local.set $a {base})
            {first}
            {spin}
            ({store} {address} {v2})
            {read}))",
        store = width.store,
        v2 = v("$v2"),
        read = apply(width.widen, &format!("({} {address})", width.load)),
    ))
}

/// A trapping operation with loop-invariant operands: how it is written
/// and what it needs beside the function.
const INVARIANT_TRAPS: [&str; 6] = [
    "(i32.div_s (local.get $x) (local.get $y))",
    "(i32.rem_u (local.get $x) (local.get $y))",
    "(i32.wrap_i64 (i64.div_s (i64.extend_i32_s (local.get $x)) (i64.extend_i32_s (local.get $y))))",
    "(i32.trunc_f64_s (f64.div (f64.convert_i32_s (local.get $x)) (f64.const 0.25)))",
    "(i32.load offset=16 (local.get $x))",
    "(call_indirect (type $unary) (local.get $x) (local.get $y))",
];

/// When the trapping operation runs inside the loop: on one iteration, on
/// none, or behind an invariant condition.
const ONLY_WHEN: [&str; 4] = [
    "(i32.eq (local.get $i) (i32.const 3))",
    "(i32.gt_u (local.get $i) (i32.const 100))",
    "(i32.and (local.get $y) (i32.const 16))",
    "(i32.eqz (local.get $i))",
];

/// Loop-invariant code motion: a trapping operation the loop runs only
/// some of the time.
fn loop_trap(u: &mut Unstructured<'_>) -> Result<String> {
    let trap = u.choose(&INVARIANT_TRAPS)?;
    let when = u.choose(&ONLY_WHEN)?;
    let after = u.choose(&[
        "(local.get $acc)",
        "(i32.add (local.get $acc) (i32.mul (local.get $x) (local.get $y)))",
        "(i32.xor (local.get $acc) (i32.load offset=8 (i32.and (local.get $x) (i32.const 0xfff0))))",
    ])?;
    Ok(format!(
        "(module
          (type $unary (func (param i32) (result i32)))
          (memory (export \"m\") 1 1)
          (table 2 funcref)
          (elem (i32.const 0) $neg $twice)
          (func $neg (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))
          (func $twice (param i32) (result i32) (i32.shl (local.get 0) (i32.const 1)))
          (func (export \"f\") (param $x i32) (param $y i32) (param $n i32) (result i32)
            (local $i i32) (local $acc i32)
            (local.set $i (i32.and (local.get $n) (i32.const 15)))
            (block $done (loop $again
              (br_if $done (i32.eqz (local.get $i)))
              (local.set $i (i32.sub (local.get $i) (i32.const 1)))
              (if {when}
                (then (local.set $acc (i32.add (local.get $acc) {trap}))))
              (i32.store offset=32 (i32.and (local.get $i) (i32.const 0xff)) (local.get $acc))
              (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
              (br $again)))
            {after}))"
    ))
}

/// Operations that may trap, and pure ones, for duplicated expressions.
const DUPLICATED: [&str; 6] = [
    "(i32.div_u (local.get $x) (local.get $y))",
    "(i32.rem_s (local.get $x) (local.get $y))",
    "(i32.div_s (local.get $x) (local.get $y))",
    "(i32.mul (i32.add (local.get $x) (i32.const 7)) (local.get $y))",
    "(i32.load8_s offset=3 (local.get $y))",
    "(i32.trunc_f32_u (f32.convert_i32_s (local.get $x)))",
];

/// Value numbering and elaboration: one expression in several places.
fn duplicate(u: &mut Unstructured<'_>) -> Result<String> {
    let e = u.choose(&DUPLICATED)?;
    let other = u.choose(&DUPLICATED)?;
    let body = match u.int_in_range(0..=3u8)? {
        0 => format!(
            "(if (result i32) (local.get $c)
               (then (i32.add {e} (i32.const 1)))
               (else (i32.sub {e} {other})))"
        ),
        1 => format!("(select {e} {other} (local.get $c))"),
        2 => format!(
            "(block $skip (br_if $skip (local.get $c)) (global.set $g {e}))
             (i32.add {e} (global.get $g))"
        ),
        _ => format!(
            "(if (local.get $c) (then (global.set $g {e})))
             (if (result i32) (i32.and (local.get $c) (i32.const 2))
               (then {e}) (else (select {other} {e} (local.get $x))))"
        ),
    };
    Ok(format!(
        "(module
          (memory (export \"m\") 1 1)
          (global $g (export \"g\") (mut i32) (i32.const 0))
          (func (export \"f\") (param $x i32) (param $y i32) (param $c i32) (result i32)
            {body}))"
    ))
}

/// Bounds checks: accesses whose effective address is at, below and past
/// the memory's end and the guard region's edges.
fn bounds(u: &mut Unstructured<'_>) -> Result<String> {
    let memory64 = u.arbitrary::<bool>()?;
    let small_pages = u.ratio(1, 4)?;
    let (page, min, max) = if small_pages {
        (1u64, u.int_in_range(1..=70000u64)?, 140000u64)
    } else {
        (65536, u.int_in_range(1..=2u64)?, 4)
    };
    let pagesize = if small_pages { " (pagesize 1)" } else { "" };
    let index = if memory64 { "i64" } else { "i32" };
    let mut offsets: Vec<u64> = vec![
        0,
        1,
        4095,
        65528,
        65535,
        65536,
        (32 << 20) - 4,
        32 << 20,
        0x7fff_fffc,
        0x8000_0000,
        0xffff_fffc,
        0xffff_ffff,
    ];
    if memory64 {
        offsets.extend([1 << 32, (1 << 33) + 8, 0x7fff_ffff_ffff_fff0]);
    }
    let offset = *u.choose(&offsets)?;
    let width = u.choose(&WIDTHS)?;
    // An address just below the memory's current end, at its end, or
    // past it by a few bytes, computed at run time from `memory.size`.
    let distance = "(i32.and (local.get $d) (i32.const 15))";
    let distance = if memory64 {
        format!("(i64.extend_i32_u {distance})")
    } else {
        distance.to_string()
    };
    let near_end =
        format!("({index}.sub ({index}.mul (memory.size) ({index}.const {page})) {distance})");
    let load = |address: &str| {
        apply(
            width.widen,
            &format!("({} offset={offset} {address})", width.load),
        )
    };
    Ok(format!(
        "(module
          (memory (export \"m\") {index} {min} {max}{pagesize})
          (func (export \"load\") (param $p {index}) (result i64) {load_p})
          (func (export \"store\") (param $p {index}) (param $v i64)
            ({store} offset={offset} (local.get $p) {value}))
          (func (export \"end\") (param $d i32) (result i64) {load_end})
          (func (export \"grow\") (param $n i32) (result {index})
            (memory.grow ({index}.const 1)))
          (func (export \"end-again\") (param $d i32) (result i64) {load_end}))",
        load_p = load("(local.get $p)"),
        load_end = load(&near_end),
        store = width.store,
        value = apply(width.value, "(local.get $v)"),
    ))
}

/// Calls: a small callee with a trap and two results (inlining), a callee
/// with arguments on the stack, a tail call out, and more live values
/// across the calls than registers.
fn calls(u: &mut Unstructured<'_>) -> Result<String> {
    let tail = u.ratio(1, 3)?;
    let live_i64 = u.int_in_range(4..=18usize)?;
    let live_f64 = u.int_in_range(0..=18usize)?;
    let live_v128 = u.int_in_range(0..=8usize)?;
    let mut locals = String::new();
    let mut init = String::new();
    let mut sum = String::from("(local.get $r)");
    for i in 0..live_i64 {
        locals.push_str(&format!(" (local $i{i} i64)"));
        init.push_str(&format!(
            "(local.set $i{i} (i64.mul (i64.extend_i32_s (local.get $x)) (i64.const {})))\n",
            2 * i + 3
        ));
        sum = format!("(i64.add {sum} (i64.rotl (local.get $i{i}) (i64.const {i})))");
    }
    for i in 0..live_f64 {
        locals.push_str(&format!(" (local $f{i} f64)"));
        init.push_str(&format!(
            "(local.set $f{i} (f64.add (f64.convert_i32_s (local.get $y)) (f64.const {i}.5)))\n"
        ));
        sum = format!("(i64.add {sum} (i64.trunc_sat_f64_s (local.get $f{i})))");
    }
    for i in 0..live_v128 {
        locals.push_str(&format!(" (local $v{i} v128)"));
        init.push_str(&format!(
            "(local.set $v{i} (i32x4.splat (i32.add (local.get $x) (i32.const {i}))))\n"
        ));
        sum = format!("(i64.add {sum} (i64x2.extract_lane 1 (local.get $v{i})))");
    }
    let out = if tail {
        "(return_call $many (local.get $r) (local.get $r) (local.get $r) (local.get $r)
           (local.get $r) (local.get $r) (local.get $r) (local.get $r) (local.get $r)
           (local.get $r))"
            .to_string()
    } else {
        "(local.get $r)".to_string()
    };
    Ok(format!(
        "(module
          (memory (export \"m\") 1 1)
          (func $small (param $a i32) (param $b i32) (result i32 i64)
            (if (i32.eq (local.get $b) (i32.const -1)) (then unreachable))
            (i32.div_s (local.get $a) (i32.or (local.get $b) (i32.const 1)))
            (i64.extend_i32_s (local.get $a)))
          (func $many (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)
            (i64.add (i64.add (i64.add (local.get 0) (local.get 1)) (i64.add (local.get 2) (local.get 9)))
                     (i64.sub (local.get 5) (local.get 8))))
          (func (export \"f\") (param $x i32) (param $y i32) (result i64)
            (local $r i64) (local $q i32) (local $w i64){locals}
            {init}
            (call $small (local.get $x) (local.get $y))
            (local.set $w)
            (local.set $q)
            (i64.store (i32.and (local.get $q) (i32.const 0xfff8)) (local.get $w))
            (local.set $r (call $many (local.get $w) (i64.extend_i32_s (local.get $q))
               (local.get $w) (local.get $w) (local.get $w) (i64.const 5) (local.get $w)
               (local.get $w) (i64.extend_i32_u (local.get $y)) (local.get $w)))
            (local.set $r {sum})
            {out}))"
    ))
}
