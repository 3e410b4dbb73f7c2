//! Engine-neutral WebAssembly values and their NaN-aware comparison.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A WebAssembly value as observed at a call boundary, in a global or a table.
///
/// Floats are kept as raw bits so that NaN payloads survive until comparison.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Value {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as its bit pattern.
    F32(u32),
    /// An `f64`, as its bit pattern.
    F64(u64),
    /// A `v128`.
    V128(u128),
    /// A `funcref`: `None` is null.
    FuncRef(Option<FuncIdentity>),
    /// An `externref`: the harness never creates host references, so only
    /// null-ness is observable.
    ExternRef {
        /// Whether the reference is null.
        null: bool,
    },
}

/// What can be told about a non-null function reference across engines.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FuncIdentity {
    /// The first export (in module order) that is this very function, if any.
    pub export: Option<String>,
    /// The function's signature, e.g. `(i32 i32) -> (i64)`.
    pub signature: String,
}

impl Value {
    /// Equality as the Wasm specification allows engines to differ: a float
    /// NaN equals any NaN (payloads are non-deterministic). Only values
    /// typed as floats get that tolerance: a `v128` is compared bit for bit,
    /// since an integer lane can hold any NaN-shaped pattern (an `i64` lane
    /// between -2^52 and -1, an `i32` lane of -1) and its difference is
    /// real. Generated code canonicalizes the NaNs of float arithmetic, so
    /// vectors and memory hold canonical NaNs on every engine.
    pub fn same_as(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::F32(a), Value::F32(b)) => a == b || (is_nan32(*a) && is_nan32(*b)),
            (Value::F64(a), Value::F64(b)) => a == b || (is_nan64(*a) && is_nan64(*b)),
            (a, b) => a == b,
        }
    }

    /// The short type name used in reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::I32(_) => "i32",
            Value::I64(_) => "i64",
            Value::F32(_) => "f32",
            Value::F64(_) => "f64",
            Value::V128(_) => "v128",
            Value::FuncRef(_) => "funcref",
            Value::ExternRef { .. } => "externref",
        }
    }
}

fn is_nan32(bits: u32) -> bool {
    f32::from_bits(bits).is_nan()
}

fn is_nan64(bits: u64) -> bool {
    f64::from_bits(bits).is_nan()
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
            Value::F32(bits) => write!(f, "f32:{} ({bits:#010x})", f32::from_bits(*bits)),
            Value::F64(bits) => write!(f, "f64:{} ({bits:#018x})", f64::from_bits(*bits)),
            Value::V128(v) => write!(f, "v128:{v:#034x}"),
            Value::FuncRef(None) => write!(f, "funcref:null"),
            Value::FuncRef(Some(id)) => match &id.export {
                Some(name) => write!(f, "funcref:{name:?}"),
                None => write!(f, "funcref:<unexported {}>", id.signature),
            },
            Value::ExternRef { null: true } => write!(f, "externref:null"),
            Value::ExternRef { null: false } => write!(f, "externref:non-null"),
        }
    }
}

/// Formats a list of values as `[i32:1, f64:2 (0x...)]`.
pub fn display_values(values: &[Value]) -> String {
    let parts: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nans_with_different_payloads_are_the_same() {
        let quiet = f32::NAN.to_bits();
        let payload = quiet | 0x1234;
        let negative = quiet | 0x8000_0000;
        assert!(Value::F32(quiet).same_as(&Value::F32(payload)));
        assert!(Value::F32(quiet).same_as(&Value::F32(negative)));
        assert!(Value::F64(f64::NAN.to_bits()).same_as(&Value::F64(f64::NAN.to_bits() | 7)));
    }

    #[test]
    fn nan_differs_from_numbers_and_signed_zeros_differ() {
        assert!(!Value::F32(f32::NAN.to_bits()).same_as(&Value::F32(1.0f32.to_bits())));
        assert!(!Value::F64(0.0f64.to_bits()).same_as(&Value::F64((-0.0f64).to_bits())));
        assert!(!Value::F32(f32::INFINITY.to_bits()).same_as(&Value::F32(f32::NAN.to_bits())));
    }

    #[test]
    fn nan_shaped_integers_in_vectors_are_compared_exactly() {
        // Two f32 NaN patterns in a lane: as integers, -4194304 and
        // -4194303, a real difference.
        let nan_a = f32::NAN.to_bits() as u128;
        let nan_b = (f32::NAN.to_bits() | 1) as u128;
        assert!(!Value::V128(nan_a).same_as(&Value::V128(nan_b)));
        // An i64 lane of -1 against -2: both f64 NaN patterns.
        assert!(!Value::V128(u64::MAX as u128).same_as(&Value::V128((u64::MAX - 1) as u128)));
        assert!(Value::V128(nan_a).same_as(&Value::V128(nan_a)));
    }

    #[test]
    fn integers_and_refs_compare_exactly() {
        assert!(!Value::I32(1).same_as(&Value::I64(1)));
        let f = |name: &str| {
            Value::FuncRef(Some(FuncIdentity {
                export: Some(name.into()),
                signature: "() -> ()".into(),
            }))
        };
        assert!(f("a").same_as(&f("a")));
        assert!(!f("a").same_as(&f("b")));
        assert!(!f("a").same_as(&Value::FuncRef(None)));
    }
}
