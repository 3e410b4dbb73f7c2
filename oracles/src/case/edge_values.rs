//! Values likely to hit edge cases (zero, ±1, extremes, powers of two and
//! their neighbours, special floats, raw bits), drawn from a byte stream:
//! call arguments (`case::plan`), host function results and imported
//! globals (`case::imports`).

use crate::case::module_info::ValueType;
use crate::case::value::Value;
use arbitrary::Unstructured;

/// Draws a value that is likely to hit edge cases: zero, ±1, extremes,
/// powers of two and their neighbours, special floats, or raw random bits.
pub fn interesting_value(ty: ValueType, u: &mut Unstructured<'_>) -> Value {
    let pick = u.int_in_range(0u8..=9).unwrap_or(0);
    match ty {
        ValueType::I32 => Value::I32(interesting_int(pick, u, 32) as i32),
        ValueType::I64 => Value::I64(interesting_int(pick, u, 64) as i64),
        ValueType::F32 => {
            const SPECIAL: [f32; 12] = [
                0.0,
                -0.0,
                1.0,
                -1.0,
                0.5,
                f32::MIN_POSITIVE,
                f32::MAX,
                f32::MIN,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::NAN,
                2147483648.0,
            ];
            let bits = match pick {
                0..=5 => SPECIAL[u.choose_index(SPECIAL.len()).unwrap_or(0)].to_bits(),
                6 => 1, // smallest subnormal
                7 => (u.int_in_range(-40i32..=40).unwrap_or(0) as f32).to_bits(),
                _ => u.arbitrary().unwrap_or(0),
            };
            Value::F32(bits)
        }
        ValueType::F64 => {
            const SPECIAL: [f64; 12] = [
                0.0,
                -0.0,
                1.0,
                -1.0,
                0.5,
                f64::MIN_POSITIVE,
                f64::MAX,
                f64::MIN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
                9223372036854775808.0,
            ];
            let bits = match pick {
                0..=5 => SPECIAL[u.choose_index(SPECIAL.len()).unwrap_or(0)].to_bits(),
                6 => 1,
                7 => (u.int_in_range(-40i32..=40).unwrap_or(0) as f64).to_bits(),
                _ => u.arbitrary().unwrap_or(0),
            };
            Value::F64(bits)
        }
        ValueType::V128 => {
            let bits: u128 = match pick {
                0 => 0,
                1 => u128::MAX,
                2 => 0x8000_0000_8000_0000_8000_0000_8000_0000,
                3 => 0x7fff_ffff_7fff_ffff_7fff_ffff_7fff_ffff,
                _ => u.arbitrary().unwrap_or(0),
            };
            Value::V128(bits)
        }
        ValueType::FuncRef => Value::FuncRef(None),
        ValueType::ExternRef => Value::ExternRef { null: true },
        ValueType::Unsupported => {
            unreachable!("exports with unsupported parameters are not called")
        }
    }
}

/// An integer of `bits` width (as u64 bits, sign-extended where negative).
fn interesting_int(pick: u8, u: &mut Unstructured<'_>, bits: u32) -> u64 {
    let shift = u.int_in_range(0..=bits - 1).unwrap_or(0);
    let (min, max) = if bits == 32 {
        (i32::MIN as i64 as u64, i32::MAX as u64)
    } else {
        (i64::MIN as u64, i64::MAX as u64)
    };
    match pick {
        0 => 0,
        1 => 1,
        2 => u64::MAX, // -1
        3 => min,
        4 => max,
        5 => 1u64 << shift,
        6 => (1u64 << shift).wrapping_sub(1),
        7 => (1u64 << shift).wrapping_add(1),
        8 => u.int_in_range(0u64..=64).unwrap_or(0),
        _ => u.arbitrary().unwrap_or(0),
    }
}
