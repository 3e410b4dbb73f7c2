//! The typed-reference catalogue: control flow carrying typed function
//! and GC references, which wasm-smith rarely writes. Block, loop and `if`
//! parameters and results of reference types related by subtyping,
//! `br_on_null`, `br_on_non_null`, `br_on_cast`, `br_on_cast_fail`,
//! `call_ref`, `return_call_ref`, GC field writes and reads around them,
//! and locals of non-nullable types, a few
//! of them chained in one function whose every step reaches its result.
//! These modules use typed function references and GC, which the oracle
//! lacks: they run on the Wasmtime-only sub-matrix.

use arbitrary::{Result, Unstructured};
use std::fmt::Write;

/// The text of one construct of the catalogue in the `run` function: it
/// leaves nothing on the stack and adds what it computed to `$acc`. `$r`
/// is a non-nullable `(ref $t0)`, `$m` a nullable one (null or not by
/// `$sel`), `$o` a `(ref null $s0)` holding an `$s1` or an `$s0` by
/// `$sel`.
type Construct = fn(&mut Unstructured<'_>) -> Result<String>;

/// Every construct, in the order of [`CONSTRUCTS`] (whose last one, the
/// non-nullable local, every module has).
const CATALOGUE: [Construct; 10] = [
    block_params,
    if_results,
    loop_params,
    br_on_null,
    br_on_non_null,
    br_on_cast,
    br_on_cast_fail,
    call_ref,
    return_call_ref,
    struct_fields,
];

/// The names of the catalogue's constructs, as module features count them
/// (`typed-ref:<name>`).
pub const CONSTRUCTS: [&str; 11] = [
    "block-params",
    "if-results",
    "loop-params",
    "br-on-null",
    "br-on-non-null",
    "br-on-cast",
    "br-on-cast-fail",
    "call-ref",
    "return-call-ref",
    "struct-fields",
    "non-nullable-local",
];

/// A module of two to six constructs drawn from `u`.
pub fn typed_refs(u: &mut Unstructured<'_>) -> Result<String> {
    let count = u.int_in_range(2..=6)?;
    let mut body = String::new();
    for _ in 0..count {
        let text = u.choose(&CATALOGUE)?(u)?;
        // Now and then inside a block that yields nothing, or an `if` on
        // the selector: more blocks around the references.
        match u.int_in_range(0..=3u8)? {
            0 => write!(body, "    block\n{text}    end\n"),
            1 => write!(body, "    local.get $sel\n    if\n{text}    end\n"),
            _ => write!(body, "{text}"),
        }
        .expect("writing to a String");
    }
    let (k0, k1) = (u.int_in_range(-9..=9i32)?, u.int_in_range(2..=7i32)?);
    Ok(format!(
        r#"(module
  (type $t0 (sub (func (param i32) (result i32))))
  (type $t1 (sub $t0 (func (param i32) (result i32))))
  (type $s0 (sub (struct (field (mut i32)))))
  (type $s1 (sub $s0 (struct (field (mut i32)) (field i32))))
  (global $g (export "g") (mut i32) (i32.const 0))
  (elem declare func $f0 $f1)
  (func $f0 (type $t0) (i32.add (local.get 0) (i32.const {k0})))
  (func $f1 (type $t1)
    (global.set $g (i32.add (global.get $g) (local.get 0)))
    (i32.mul (local.get 0) (i32.const {k1})))
  (func $tail (param i32) (param (ref $t0)) (result i32)
    local.get 0
    local.get 1
    return_call_ref $t0)
  (func (export "run") (param $x i32) (param $sel i32) (result i32)
    (local $acc i32) (local $i i32)
    (local $r (ref $t0)) (local $m (ref null $t0)) (local $o (ref null $s0))
    ref.func $f0
    local.set $r
    local.get $sel
    i32.const 1
    i32.and
    if (result (ref null $t0))
      ref.func $f1
    else
      ref.null $t0
    end
    local.set $m
    local.get $sel
    i32.const 2
    i32.and
    if (result (ref null $s0))
      (struct.new $s1 (local.get $x) (i32.const 5))
    else
      (struct.new $s0 (local.get $x))
    end
    local.set $o
{body}    local.get $acc)
)"#
    ))
}

/// `+= call_ref $t0 ($x, $r)`, the reference left by the construct in `$r`.
const CALL_R: &str = "    local.get $acc\n    local.get $x\n    local.get $r\n    call_ref $t0\n    i32.add\n    local.set $acc\n";

fn pick_func(u: &mut Unstructured<'_>) -> Result<&'static str> {
    Ok(*u.choose(&["$f0", "$f1"])?)
}

/// A subtype's reference through a block whose parameter is the subtype
/// and whose result the supertype.
fn block_params(u: &mut Unstructured<'_>) -> Result<String> {
    let (param, func) = if u.arbitrary()? {
        ("(ref $t1)", "$f1")
    } else {
        ("(ref $t0)", pick_func(u)?)
    };
    Ok(format!(
        "    ref.func {func}\n    block (param {param}) (result (ref $t0))\n    end\n    local.set $r\n{CALL_R}"
    ))
}

/// One of two references out of an `if` on the selector.
fn if_results(u: &mut Unstructured<'_>) -> Result<String> {
    let (a, b) = (pick_func(u)?, pick_func(u)?);
    let bit = u.int_in_range(0..=4u32)?;
    Ok(format!(
        "    local.get $sel\n    i32.const {}\n    i32.and\n    if (result (ref $t0))\n      ref.func {a}\n    else\n      ref.func {b}\n    end\n    local.set $r\n{CALL_R}",
        1 << bit
    ))
}

/// A reference carried around a loop as its parameter, a few times.
fn loop_params(u: &mut Unstructured<'_>) -> Result<String> {
    let times = u.int_in_range(1..=4)?;
    Ok(format!(
        "    i32.const 0\n    local.set $i\n    local.get $r\n    loop $l (param (ref $t0)) (result (ref $t0))\n      local.get $i\n      i32.const 1\n      i32.add\n      local.tee $i\n      i32.const {times}\n      i32.lt_u\n      br_if $l\n    end\n    local.set $r\n{CALL_R}"
    ))
}

/// The nullable reference or, where it is null, the fallback `$f0`.
fn br_on_null(_: &mut Unstructured<'_>) -> Result<String> {
    Ok(format!(
        "    block $null\n      local.get $m\n      br_on_null $null\n      local.set $r\n{CALL_R}    end\n"
    ))
}

/// The same through the other branch.
fn br_on_non_null(u: &mut Unstructured<'_>) -> Result<String> {
    let fallback = pick_func(u)?;
    Ok(format!(
        "    block $some (result (ref $t0))\n      local.get $m\n      br_on_non_null $some\n      ref.func {fallback}\n    end\n    local.set $r\n{CALL_R}"
    ))
}

/// The object cast down to `$s1` where it is one (its second field), else
/// a new one.
fn br_on_cast(u: &mut Unstructured<'_>) -> Result<String> {
    let k = u.int_in_range(0..=99i32)?;
    Ok(format!(
        "    local.get $acc\n    block $is (result (ref $s1))\n      local.get $o\n      br_on_cast $is (ref null $s0) (ref $s1)\n      drop\n      (struct.new $s1 (i32.const {k}) (local.get $x))\n    end\n    struct.get $s1 1\n    i32.add\n    local.set $acc\n"
    ))
}

/// The object where it is no `$s1`, else the `$s1` after adding its second
/// field; then its first field, plus one.
fn br_on_cast_fail(_: &mut Unstructured<'_>) -> Result<String> {
    Ok("    block $not (result (ref null $s0))\n      local.get $o\n      br_on_cast_fail $not (ref null $s0) (ref $s1)\n      struct.get $s1 1\n      local.get $acc\n      i32.add\n      local.set $acc\n      local.get $o\n    end\n    ref.as_non_null\n    struct.get $s0 0\n    i32.const 1\n    i32.add\n    local.get $acc\n    i32.add\n    local.set $acc\n".to_string())
}

/// A direct `call_ref` of the nullable reference: traps where it is null.
fn call_ref(u: &mut Unstructured<'_>) -> Result<String> {
    let through = if u.arbitrary()? { "$m" } else { "$r" };
    Ok(format!(
        "    local.get $acc\n    local.get $x\n    local.get {through}\n    call_ref $t0\n    i32.add\n    local.set $acc\n"
    ))
}

/// Two writes of the object's field and a read, through a block that
/// carries the object, or with a call or a branch between: alias analysis
/// over GC fields, whose accesses Cranelift tells apart by alias region.
fn struct_fields(u: &mut Unstructured<'_>) -> Result<String> {
    let between = *u.choose(&[
        "",
        "    local.get $o\n    block (param (ref null $s0)) (result (ref null $s0))\n    end\n    drop\n",
        "    local.get $acc\n    local.get $x\n    local.get $r\n    call_ref $t0\n    i32.add\n    local.set $acc\n",
        "    local.get $sel\n    if\n      local.get $acc\n      i32.const 1\n      i32.add\n      local.set $acc\n    end\n",
    ])?;
    let k = u.int_in_range(1..=9i32)?;
    Ok(format!(
        "    local.get $o\n    ref.as_non_null\n    local.get $x\n    struct.set $s0 0\n{between}    local.get $o\n    ref.as_non_null\n    local.get $x\n    i32.const {k}\n    i32.add\n    struct.set $s0 0\n    local.get $acc\n    local.get $o\n    ref.as_non_null\n    struct.get $s0 0\n    i32.add\n    local.set $acc\n"
    ))
}

/// A tail call through a typed reference.
fn return_call_ref(u: &mut Unstructured<'_>) -> Result<String> {
    let func = pick_func(u)?;
    Ok(format!(
        "    local.get $acc\n    local.get $x\n    ref.func {func}\n    call $tail\n    i32.add\n    local.set $acc\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::module_info::validates_with;
    use crate::engine::{comparable_features, proposal_features};

    #[test]
    fn every_construct_is_written_validates_and_is_counted() {
        let mut counted = std::collections::BTreeMap::new();
        for seed in 0..300u64 {
            let bytes = crate::case::generate::seed_stream(
                seed,
                crate::case::generate::StreamPurpose::Module,
                2048,
            );
            let text = typed_refs(&mut Unstructured::new(&bytes)).unwrap();
            let wasm = wat::parse_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert!(
                validates_with(&wasm, comparable_features() | proposal_features()),
                "{text}"
            );
            for feature in crate::case::typed_flow::constructs(&wasm) {
                *counted.entry(feature).or_insert(0) += 1;
            }
        }
        assert_eq!(
            counted.len(),
            CONSTRUCTS.len(),
            "constructs never written or never counted: {counted:?}"
        );
    }
}
