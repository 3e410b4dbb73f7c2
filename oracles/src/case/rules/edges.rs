//! Constants and run-time values at the edges of a rule: where its guards
//! accept and just where they reject, and the values a wrong rewrite of
//! such a constant gets wrong.

use super::wasm_ops::WTy;
use arbitrary::Unstructured;

/// Where a value goes, which decides its interesting edges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// An ordinary operand.
    Operand,
    /// The amount of a shift or rotate.
    ShiftAmount,
    /// A divisor.
    Divisor,
    /// A linear-memory address.
    Address,
}

/// What a constant's pattern says about it.
#[derive(Clone, Copy, Debug)]
pub struct ConstantGuards<'a> {
    /// Literals in its pattern (`(iconst_u ty 1)`).
    pub literals: &'a [i128],
    /// Extractor names around it and in the rule's guards.
    pub names: &'a [String],
    /// Literals in the rule's guards (`if-let`s).
    pub rule_literals: &'a [i128],
}

/// The bits of an integer constant of `ty` (a scalar or a lane): from the
/// pattern's literals and their neighbours, the edges its extractors'
/// names promise (powers of two, immediate ranges, non-zero), the role's
/// edges, or the type's; as the value's bits, sign-extended to 128.
pub fn int_constant(
    u: &mut Unstructured<'_>,
    ty: WTy,
    guards: ConstantGuards<'_>,
    role: Role,
) -> i128 {
    let bits = ty.lane_bits();
    let mut specific: Vec<i128> = Vec::new();
    for &l in guards.literals.iter().chain(guards.rule_literals) {
        specific.extend([l, l - 1, l + 1]);
    }
    let has = |needle: &str| guards.names.iter().any(|n| n.contains(needle));
    let k = i128::from(u.int_in_range(0..=bits - 1).unwrap_or(0));
    if has("power_of_two") || has("pow2") {
        specific.extend([1 << k, (1 << k) - 1, (1 << k) + 1, -(1 << k)]);
    }
    if has("non_zero") {
        specific.extend([0, 1, -1]);
    }
    if has("simm32") || has("imm32") || has("i32_from") {
        specific.extend(IMM32_EDGES);
    }
    if has("imm8") || has("u8") {
        specific.extend(IMM8_EDGES);
    }
    if has("sextend") || has("uextend") || has("ireduce") || has("extend") {
        // Where a narrower type's values end, signed and unsigned.
        for n in [8, 16, 32].into_iter().filter(|n| *n < bits) {
            let half = 1i128 << (n - 1);
            specific.extend([half - 1, half, -half, -half - 1, 2 * half - 1, 2 * half]);
        }
    }
    if has("ty_bits") || has("shift") || has("trailing_zeros") || has("ilog2") {
        // Widths and their differences: what a guard on `ty_bits` computes.
        let w = i128::from(bits);
        specific.extend([w, w - 1, w + 1, w / 2, w - 8, w - 16, w - 32]);
    }
    specific.extend(role_edges(role, bits));
    let pick = u.int_in_range(0u8..=9).unwrap_or(0);
    let value = if !specific.is_empty() && pick < 7 {
        specific[u.choose_index(specific.len()).unwrap_or(0)]
    } else if pick < 9 {
        let general = type_edges(bits, k);
        general[u.choose_index(general.len()).unwrap_or(0)]
    } else {
        i128::from(u.arbitrary::<i64>().unwrap_or(0))
    };
    wrap(value, bits)
}

/// The run-time value of an integer operand of `ty`: around the rule's
/// constants (c, c-1, c+1, -c, !c), the type's edges (0, 1, -1, MIN, MAX)
/// and the role's; as the value's bits, sign-extended to 128.
pub fn int_runtime(u: &mut Unstructured<'_>, ty: WTy, constants: &[i128], role: Role) -> i128 {
    let bits = ty.lane_bits();
    let k = i128::from(u.int_in_range(0..=bits - 1).unwrap_or(0));
    let pick = u.int_in_range(0u8..=9).unwrap_or(0);
    let value = match pick {
        0..=3 if !constants.is_empty() => {
            let c = constants[u.choose_index(constants.len()).unwrap_or(0)];
            match u.int_in_range(0u8..=4).unwrap_or(0) {
                0 => c,
                1 => c - 1,
                2 => c + 1,
                3 => -c,
                _ => !c,
            }
        }
        0..=5 => {
            let edges = role_edges(role, bits);
            if edges.is_empty() || pick > 3 {
                let general = type_edges(bits, k);
                general[u.choose_index(general.len()).unwrap_or(0)]
            } else {
                edges[u.choose_index(edges.len()).unwrap_or(0)]
            }
        }
        6..=7 => {
            let edges = role_edges(role, bits);
            if edges.is_empty() {
                (1 << k) - i128::from(u.int_in_range(0u8..=2).unwrap_or(0)) + 1
            } else {
                edges[u.choose_index(edges.len()).unwrap_or(0)]
            }
        }
        _ => i128::from(u.arbitrary::<i64>().unwrap_or(0)),
    };
    wrap(value, bits)
}

/// The bits of a float of `ty` (f32 or f64): the specials (zeros,
/// infinities, NaN, the smallest normal and subnormal, the integer-range
/// edges conversions care about), the constants' values and neighbours,
/// or random bits.
pub fn float_value(u: &mut Unstructured<'_>, ty: WTy, constants: &[i128]) -> u64 {
    let wide = ty.lane_bits() == 64;
    let pick = u.int_in_range(0u8..=9).unwrap_or(0);
    let special: [f64; 16] = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        2147483648.0,
        -2147483649.0,
        4294967296.0,
        9223372036854775808.0,
        -9223372036854775808.0,
        18446744073709551616.0,
        f64::from(f32::MAX),
        f64::from(f32::MIN_POSITIVE),
    ];
    let as_bits = |v: f64| {
        if wide {
            v.to_bits()
        } else {
            u64::from((v as f32).to_bits())
        }
    };
    match pick {
        0..=4 => as_bits(special[u.choose_index(special.len()).unwrap_or(0)]),
        5..=6 if !constants.is_empty() => {
            let c = constants[u.choose_index(constants.len()).unwrap_or(0)] as u64;
            // A float constant's bits, or the next float either way.
            match u.int_in_range(0u8..=2).unwrap_or(0) {
                0 => c,
                1 => c.wrapping_add(1),
                _ => c.wrapping_sub(1),
            }
        }
        5..=7 => as_bits(f64::from(u.int_in_range(-40i32..=40).unwrap_or(0))),
        8 => 1,
        _ => {
            let bits: u64 = u.arbitrary().unwrap_or(0);
            if wide {
                bits
            } else {
                bits & 0xffff_ffff
            }
        }
    }
}

/// Edges of an immediate field of x64: imm8 and imm32, signed and
/// unsigned.
const IMM8_EDGES: [i128; 6] = [127, 128, -128, -129, 255, 256];
const IMM32_EDGES: [i128; 6] = [
    0x7fff_ffff,
    0x8000_0000,
    -0x8000_0000,
    -0x8000_0001,
    0xffff_ffff,
    0x1_0000_0000,
];

fn role_edges(role: Role, bits: u32) -> Vec<i128> {
    let w = i128::from(bits);
    match role {
        Role::Operand => Vec::new(),
        Role::ShiftAmount => vec![0, 1, w - 1, w, w + 1, 2 * w - 1, 2 * w, -1, 255, 256],
        Role::Divisor => vec![0, 1, -1, 2, 3, 7, 10, -2, 1 << (w - 1), (1 << (w - 1)) - 1],
        Role::Address => vec![
            0,
            1,
            8,
            65536 - 16,
            65536 - 8,
            65536 - 4,
            65536 - 1,
            65536,
            0x7fff_ffff,
            0xffff_fff0,
        ],
    }
}

fn type_edges(bits: u32, k: i128) -> Vec<i128> {
    let min = -(1i128 << (bits - 1));
    let max = (1i128 << (bits - 1)) - 1;
    let mut edges = vec![
        0,
        1,
        -1,
        min,
        max,
        min + 1,
        max - 1,
        1 << k,
        (1 << k) - 1,
        -(1 << k),
    ];
    edges.extend(IMM8_EDGES);
    if bits == 64 {
        edges.extend(IMM32_EDGES);
    }
    edges
}

/// `value` wrapped to `bits` and sign-extended back.
pub fn wrap(value: i128, bits: u32) -> i128 {
    let shift = 128 - bits;
    (value << shift) >> shift
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_of_two_guards_give_powers_of_two_and_neighbours() {
        let names = vec!["u64_extract_power_of_two".to_string()];
        let guards = ConstantGuards {
            literals: &[],
            names: &names,
            rule_literals: &[],
        };
        let mut seen_power = 0;
        let mut seen_neighbour = 0;
        for seed in 0..400u32 {
            let bytes: Vec<u8> = (0..64)
                .map(|i| (seed.wrapping_mul(2654435761) >> (i % 24)) as u8 ^ i as u8)
                .collect();
            let mut u = Unstructured::new(&bytes);
            let c =
                int_constant(&mut u, WTy::I32, guards, Role::Divisor) as i64 as u64 & 0xffff_ffff;
            if c.is_power_of_two() {
                seen_power += 1;
            } else if (c.wrapping_sub(1) & 0xffff_ffff).is_power_of_two()
                || (c + 1).is_power_of_two()
            {
                seen_neighbour += 1;
            }
        }
        assert!(seen_power > 100, "{seen_power} powers of two");
        assert!(seen_neighbour > 30, "{seen_neighbour} neighbours");
    }

    #[test]
    fn values_wrap_to_their_width() {
        assert_eq!(wrap(0x8000_0000, 32), -0x8000_0000);
        assert_eq!(wrap(-129, 8), 127);
        assert_eq!(wrap(1 << 64, 64), 0);
    }
}
