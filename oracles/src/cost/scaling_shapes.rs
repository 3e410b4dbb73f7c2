//! Built-in module shapes for scaling checks: classic compiler stress
//! patterns whose size grows with one parameter `n`, so that compile time
//! and memory can be measured at n, 2n, 4n, ... and their growth exponent
//! fitted. Each function is valid and terminates.

use wasm_encoder::{
    BlockType, CodeSection, ExportKind, ExportSection, Function, FunctionSection, Module,
    TypeSection, ValType,
};

/// A built-in shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalingShape {
    /// One value passed alternately as the first and the second argument
    /// through a long run of calls, live across all of them: the register
    /// allocator must split its live range at every call (the quadratic
    /// splitting of ../shared/seeds/003).
    CallAlternating,
    /// `n` blocks and loops nested in each other, a branch out of each.
    NestedBlocks,
    /// A chain of `n` compares feeding selects.
    SelectChain,
    /// `n` locals, each written and all summed.
    ManyLocals,
    /// One `br_table` with `n` targets in `n` nested blocks.
    BrTable,
}

impl ScalingShape {
    /// Every shape.
    pub const ALL: [ScalingShape; 5] = [
        ScalingShape::CallAlternating,
        ScalingShape::NestedBlocks,
        ScalingShape::SelectChain,
        ScalingShape::ManyLocals,
        ScalingShape::BrTable,
    ];

    /// The shape's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ScalingShape::CallAlternating => "call-alternating",
            ScalingShape::NestedBlocks => "nested-blocks",
            ScalingShape::SelectChain => "select-chain",
            ScalingShape::ManyLocals => "many-locals",
            ScalingShape::BrTable => "br-table",
        }
    }

    /// The shape called `name`.
    pub fn from_name(name: &str) -> Option<ScalingShape> {
        ScalingShape::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The module at size `n`: one exported function `run` (and helpers).
    pub fn module(self, n: u32) -> Vec<u8> {
        match self {
            ScalingShape::CallAlternating => call_alternating(n),
            ScalingShape::NestedBlocks => nested_blocks(n),
            ScalingShape::SelectChain => select_chain(n),
            ScalingShape::ManyLocals => many_locals(n),
            ScalingShape::BrTable => br_table(n),
        }
    }
}

/// A module of the given function types and bodies; function 0 of the
/// bodies is the last one given, exported as `run`.
fn module(types: &[(Vec<ValType>, Vec<ValType>)], functions: Vec<(u32, Function)>) -> Vec<u8> {
    let mut type_section = TypeSection::new();
    for (params, results) in types {
        type_section
            .ty()
            .function(params.iter().copied(), results.iter().copied());
    }
    let mut function_section = FunctionSection::new();
    let mut code = CodeSection::new();
    let count = functions.len() as u32;
    for (ty, body) in &functions {
        function_section.function(*ty);
        code.function(body);
    }
    let mut exports = ExportSection::new();
    exports.export("run", ExportKind::Func, count - 1);
    let mut module = Module::new();
    module
        .section(&type_section)
        .section(&function_section)
        .section(&exports)
        .section(&code);
    module.finish()
}

fn call_alternating(n: u32) -> Vec<u8> {
    let pair = (vec![ValType::I64, ValType::I64], vec![ValType::I64]);
    let run = (vec![ValType::I64], vec![ValType::I64]);
    let mut callee = Function::new([]);
    callee
        .instructions()
        .local_get(0)
        .local_get(1)
        .i64_add()
        .end();
    let mut body = Function::new([]);
    let mut sink = body.instructions();
    for i in 0..n {
        // v as argument 0, then as argument 1, ...; the result is dropped
        // so that v itself stays live across every call.
        if i % 2 == 0 {
            sink.local_get(0).i64_const(i64::from(i));
        } else {
            sink.i64_const(i64::from(i)).local_get(0);
        }
        sink.call(0).drop();
    }
    sink.local_get(0).end();
    module(&[pair, run], vec![(0, callee), (1, body)])
}

fn nested_blocks(n: u32) -> Vec<u8> {
    let run = (vec![ValType::I32], vec![ValType::I32]);
    let mut body = Function::new([]);
    let mut sink = body.instructions();
    for i in 0..n {
        if i % 2 == 0 {
            sink.block(BlockType::Empty);
        } else {
            // Entered once: the branch at its end leaves it.
            sink.loop_(BlockType::Empty);
        }
    }
    for i in (0..n).rev() {
        // Leave a block, or the block around a loop, when the parameter
        // says so; a loop not branched to ends at its `end`.
        let out_of = if i % 2 == 1 { 1 } else { 0 };
        sink.local_get(0)
            .i32_const(i as i32)
            .i32_gt_u()
            .br_if(out_of)
            .end();
    }
    sink.local_get(0).end();
    module(&[run], vec![(0, body)])
}

fn select_chain(n: u32) -> Vec<u8> {
    let run = (vec![ValType::I32, ValType::I32], vec![ValType::I32]);
    let mut body = Function::new([]);
    let mut sink = body.instructions();
    for i in 0..n {
        sink.local_get(0)
            .local_get(1)
            .local_get(0)
            .local_get(1)
            .i32_lt_s()
            .select()
            .i32_const(i as i32)
            .i32_add()
            .local_set(i % 2);
    }
    sink.local_get(0).end();
    module(&[run], vec![(0, body)])
}

fn many_locals(n: u32) -> Vec<u8> {
    let run = (vec![ValType::I64], vec![ValType::I64]);
    let mut body = Function::new([(n, ValType::I64)]);
    let mut sink = body.instructions();
    for i in 0..n {
        sink.local_get(0)
            .i64_const(i64::from(i))
            .i64_add()
            .local_set(i + 1);
    }
    sink.i64_const(0);
    for i in 0..n {
        sink.local_get(i + 1).i64_add();
    }
    sink.end();
    module(&[run], vec![(0, body)])
}

fn br_table(n: u32) -> Vec<u8> {
    let run = (vec![ValType::I32], vec![ValType::I32]);
    let mut body = Function::new([]);
    let mut sink = body.instructions();
    for _ in 0..n {
        sink.block(BlockType::Empty);
    }
    sink.local_get(0).br_table(0..n, 0);
    for i in 0..n {
        // Each target adds its own constant to the parameter.
        sink.end()
            .local_get(0)
            .i32_const(i as i32)
            .i32_add()
            .local_set(0);
    }
    sink.local_get(0).end();
    module(&[run], vec![(0, body)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_is_valid_and_grows_with_n() {
        for shape in ScalingShape::ALL {
            let small = shape.module(10);
            let large = shape.module(100);
            wasmparser::Validator::new()
                .validate_all(&small)
                .unwrap_or_else(|e| panic!("{}: {e}", shape.name()));
            wasmparser::Validator::new()
                .validate_all(&large)
                .unwrap_or_else(|e| panic!("{}: {e}", shape.name()));
            assert!(large.len() > 5 * small.len(), "{}", shape.name());
        }
    }

    #[test]
    fn the_call_shape_passes_the_value_alternately_as_each_argument() {
        let wat = wasmprinter::print_bytes(ScalingShape::CallAlternating.module(2)).unwrap();
        let body: Vec<&str> = wat
            .lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with("(func (;1;)"))
            .skip(1)
            .take(8)
            .collect();
        assert_eq!(
            body,
            [
                "local.get 0",
                "i64.const 0",
                "call 0",
                "drop",
                "i64.const 1",
                "local.get 0",
                "call 0",
                "drop"
            ]
        );
    }
}
