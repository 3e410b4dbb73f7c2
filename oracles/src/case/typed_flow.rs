//! Which constructs of the typed-reference catalogue
//! (`case::passes::typed_refs`) a module holds, whoever generated it: block,
//! loop and `if` types with typed references, the reference branches and
//! calls, GC field writes, non-nullable locals. Counted per case as module features
//! (`typed-ref:<construct>`), so a run says how often its cases held each.

use wasmparser::{
    BlockType, CompositeInnerType, HeapType, Operator, Parser, Payload, RefType, ValType,
};

/// The features of the constructs `wasm` holds, in catalogue order (none
/// if it does not parse).
pub fn constructs(wasm: &[u8]) -> Vec<&'static str> {
    let mut found = [false; FEATURES.len()];
    // Whether each type index is a function type over typed references.
    let mut typed_types: Vec<bool> = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else {
            return Vec::new();
        };
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader.into_iter().flatten() {
                    for sub in group.into_types() {
                        typed_types.push(match &sub.composite_type.inner {
                            CompositeInnerType::Func(f) => {
                                f.params().iter().chain(f.results()).any(is_typed)
                            }
                            _ => false,
                        });
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                if let Ok(locals) = body.get_locals_reader() {
                    if locals
                        .into_iter()
                        .flatten()
                        .any(|(_, ty)| matches!(ty, ValType::Ref(r) if !r.is_nullable()))
                    {
                        found[NON_NULLABLE_LOCAL] = true;
                    }
                }
                let Ok(mut ops) = body.get_operators_reader() else {
                    continue;
                };
                while !ops.eof() {
                    let Ok(op) = ops.read() else { break };
                    if let Some(index) = construct_of(&op, &typed_types) {
                        found[index] = true;
                    }
                }
            }
            _ => {}
        }
    }
    FEATURES
        .iter()
        .zip(found)
        .filter_map(|(name, on)| on.then_some(*name))
        .collect()
}

/// The features, in the order of `case::passes::typed_refs::CONSTRUCTS`.
pub const FEATURES: [&str; 11] = [
    "typed-ref:block-params",
    "typed-ref:if-results",
    "typed-ref:loop-params",
    "typed-ref:br-on-null",
    "typed-ref:br-on-non-null",
    "typed-ref:br-on-cast",
    "typed-ref:br-on-cast-fail",
    "typed-ref:call-ref",
    "typed-ref:return-call-ref",
    "typed-ref:struct-fields",
    "typed-ref:non-nullable-local",
];

const NON_NULLABLE_LOCAL: usize = 10;

/// The construct an operator is, as an index into [`FEATURES`].
fn construct_of(op: &Operator<'_>, typed_types: &[bool]) -> Option<usize> {
    let typed_block = |ty: &BlockType| match ty {
        BlockType::Empty => false,
        BlockType::Type(t) => is_typed(t),
        BlockType::FuncType(i) => typed_types.get(*i as usize).copied().unwrap_or(false),
    };
    Some(match op {
        Operator::Block { blockty } if typed_block(blockty) => 0,
        Operator::If { blockty } if typed_block(blockty) => 1,
        Operator::Loop { blockty } if typed_block(blockty) => 2,
        Operator::BrOnNull { .. } => 3,
        Operator::BrOnNonNull { .. } => 4,
        Operator::BrOnCast { .. } => 5,
        Operator::BrOnCastFail { .. } => 6,
        Operator::CallRef { .. } => 7,
        Operator::ReturnCallRef { .. } => 8,
        Operator::StructSet { .. } => 9,
        _ => return None,
    })
}

/// A reference to a defined type, or a non-nullable one.
fn is_typed(ty: &ValType) -> bool {
    matches!(ty, ValType::Ref(r) if typed_ref(r))
}

fn typed_ref(r: &RefType) -> bool {
    !r.is_nullable() || matches!(r.heap_type(), HeapType::Concrete(_) | HeapType::Exact(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::passes::typed_refs::CONSTRUCTS;

    #[test]
    fn features_follow_the_catalogue_and_a_plain_module_has_none() {
        for (feature, construct) in FEATURES.iter().zip(CONSTRUCTS) {
            assert_eq!(*feature, format!("typed-ref:{construct}"));
        }
        let plain = wat::parse_str(
            r#"(module (func (param i32) (result i32) (block (result i32) (local.get 0))))"#,
        )
        .unwrap();
        assert!(constructs(&plain).is_empty());
    }
}
