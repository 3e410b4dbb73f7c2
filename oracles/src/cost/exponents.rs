//! Growth exponents: how a cost grows with input size, from measurements at
//! doubling sizes. A least-squares line through (log size, log cost) has
//! the exponent as its slope: about 1 for linear work, 2 for quadratic.

use anyhow::{anyhow, bail, Context, Result};
use wasm_encoder::reencode::{utils, Error, Reencode};
use wasm_encoder::{BlockType, CodeSection, Instruction};
use wasmparser::{Parser, Payload};

/// `wasm` with the body of its largest function repeated `copies` times:
/// every copy but the last wrapped in a block of the function's result
/// type, whose results are dropped (a function of several results gets a
/// block of its own type, fed its parameters, which the block drops
/// first). Branches to the function's outermost label end a copy; the
/// module stays valid and the function's code grows linearly with
/// `copies`.
pub fn repeat_largest_function(wasm: &[u8], copies: u32) -> Result<Vec<u8>> {
    let target = largest_function(wasm)?;
    struct Repeat {
        target: u32,
        ty: u32,
        params: u32,
        results: Vec<wasmparser::ValType>,
        copies: u32,
        next: u32,
    }
    impl Reencode for Repeat {
        type Error = std::convert::Infallible;

        fn parse_function_body(
            &mut self,
            code: &mut CodeSection,
            func: wasmparser::FunctionBody<'_>,
        ) -> Result<(), Error<Self::Error>> {
            let index = self.next;
            self.next += 1;
            if index != self.target {
                return utils::parse_function_body(self, code, func);
            }
            let mut f = self.new_function_with_parsed_locals(&func)?;
            let mut body = Vec::new();
            let mut reader = func.get_operators_reader()?;
            while !reader.eof() {
                body.push(self.parse_instruction(&mut reader)?);
            }
            let (block, params) = match self.results.as_slice() {
                [] => (BlockType::Empty, 0),
                [ty] => (BlockType::Result(self.val_type(*ty)?), 0),
                _ => (BlockType::FunctionType(self.ty), self.params),
            };
            for _ in 1..self.copies {
                for param in 0..params {
                    f.instruction(&Instruction::LocalGet(param));
                }
                f.instruction(&Instruction::Block(block));
                for _ in 0..params {
                    f.instruction(&Instruction::Drop);
                }
                // Without the function's own final `end`, which the block's
                // closing `end` takes the place of.
                for instruction in &body[..body.len().saturating_sub(1)] {
                    f.instruction(instruction);
                }
                f.instruction(&Instruction::End);
                for _ in &self.results {
                    f.instruction(&Instruction::Drop);
                }
            }
            for instruction in &body {
                f.instruction(instruction);
            }
            code.function(&f);
            Ok(())
        }
    }
    let mut reencoder = Repeat {
        target: target.index,
        ty: target.ty,
        params: target.params,
        results: target.results,
        copies: copies.max(1),
        next: 0,
    };
    let mut module = wasm_encoder::Module::new();
    reencoder
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .map_err(|e| anyhow!("re-encoding the module: {e:?}"))?;
    Ok(module.finish())
}

/// The function whose body is grown: its index among the defined
/// functions, its type index, parameter count and result types.
struct Target {
    index: u32,
    ty: u32,
    params: u32,
    results: Vec<wasmparser::ValType>,
}

fn largest_function(wasm: &[u8]) -> Result<Target> {
    let mut signatures: Vec<Option<(u32, Vec<wasmparser::ValType>)>> = Vec::new();
    let mut defined_types = Vec::new();
    let mut best: Option<(u64, u32)> = None;
    let mut next = 0u32;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.context("parsing the module")? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.context("reading a type")?.into_types() {
                        signatures.push(match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => {
                                Some((f.params().len() as u32, f.results().to_vec()))
                            }
                            _ => None,
                        });
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    defined_types.push(ty.context("reading a function")?);
                }
            }
            // Code entries are the defined functions only, in the order of
            // the function section.
            Payload::CodeSectionEntry(body) => {
                let index = next;
                next += 1;
                let ty = defined_types.get(index as usize).copied();
                let growable = ty
                    .and_then(|t| signatures.get(t as usize))
                    .is_some_and(Option::is_some);
                let range = body.range();
                let size = range.end - range.start;
                if growable && best.is_none_or(|(s, _)| size > s) {
                    best = Some((size, index));
                }
            }
            _ => {}
        }
    }
    let Some((_, index)) = best else {
        bail!("the module has no function to grow");
    };
    let ty = defined_types[index as usize];
    let (params, results) = signatures[ty as usize]
        .clone()
        .expect("growable functions have a function type");
    Ok(Target {
        index,
        ty,
        params,
        results,
    })
}

/// How many times larger the largest size must be than the smallest for
/// an exponent: over sizes that barely differ (a module whose largest
/// function is a sliver of it, repeated), timer noise alone makes slopes
/// like size^27; over half again, noise of a tenth moves it by 0.24.
pub const MIN_SIZE_SPAN: f64 = 1.5;

/// The slope of the least-squares line through `(ln size, ln cost)`, or
/// `None` with fewer than two usable points or sizes spanning less than
/// [`MIN_SIZE_SPAN`] (costs of zero carry no information and are skipped).
pub fn exponent(points: &[(f64, f64)]) -> Option<f64> {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(size, cost)| *size > 0.0 && *cost > 0.0)
        .map(|(size, cost)| (size.ln(), cost.ln()))
        .collect();
    if logs.len() < 2 {
        return None;
    }
    let (smallest, largest) = logs.iter().fold((f64::MAX, f64::MIN), |(lo, hi), (x, _)| {
        (lo.min(*x), hi.max(*x))
    });
    if largest - smallest < MIN_SIZE_SPAN.ln() {
        return None;
    }
    let n = logs.len() as f64;
    let mean_x = logs.iter().map(|(x, _)| x).sum::<f64>() / n;
    let mean_y = logs.iter().map(|(_, y)| y).sum::<f64>() / n;
    let sxx: f64 = logs.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    let sxy: f64 = logs.iter().map(|(x, y)| (x - mean_x) * (y - mean_y)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_quadratic_and_degenerate_inputs() {
        let linear: Vec<(f64, f64)> = (0..5)
            .map(|k| (1000.0 * 2f64.powi(k), 3.0 * 2f64.powi(k)))
            .collect();
        assert!((exponent(&linear).unwrap() - 1.0).abs() < 1e-9);
        let quadratic: Vec<(f64, f64)> = (0..5)
            .map(|k| {
                let n = 100.0 * 2f64.powi(k);
                (n, 0.5 * n * n)
            })
            .collect();
        assert!((exponent(&quadratic).unwrap() - 2.0).abs() < 1e-9);
        assert_eq!(exponent(&[(10.0, 1.0)]), None);
        assert_eq!(exponent(&[(10.0, 1.0), (10.0, 2.0)]), None);
        assert_eq!(exponent(&[(10.0, 0.0), (20.0, 1.0)]), None);
        // Sizes 1% apart: noise, not growth.
        assert_eq!(exponent(&[(1000.0, 1.0), (1010.0, 1.3)]), None);
        assert!(exponent(&[(1000.0, 1.0), (1600.0, 2.0)]).is_some());
    }

    #[test]
    fn the_largest_function_is_repeated_and_the_module_stays_valid() {
        let wasm = wat::parse_str(
            r#"(module
                (func $small (result i32) i32.const 1)
                (func (export "big") (param i32) (result i32)
                    i32.const 7 local.get 0 i32.eqz br_if 0 drop
                    local.get 0 i32.const 3 i32.add))"#,
        )
        .unwrap();
        wasmparser::Validator::new().validate_all(&wasm).unwrap();
        let grown = repeat_largest_function(&wasm, 8).unwrap();
        wasmparser::Validator::new().validate_all(&grown).unwrap();
        let once = repeat_largest_function(&wasm, 1).unwrap();
        assert_eq!(once.len(), wasm.len());
        let text = wasmprinter::print_bytes(&grown).unwrap();
        assert_eq!(text.matches("i32.add").count(), 8, "{text}");
        assert_eq!(text.matches("i32.const 1\n").count(), 1, "{text}");
        assert!(repeat_largest_function(&wat::parse_str("(module)").unwrap(), 2).is_err());
    }

    #[test]
    fn a_function_of_several_results_is_repeated_too() {
        let wasm = wat::parse_str(
            r#"(module
                (func (export "pair") (param i32 i64) (result i64 i32)
                    local.get 1 local.get 0 local.get 0 i32.eqz br_if 0 drop drop
                    local.get 1 i64.const 5 i64.mul local.get 0))"#,
        )
        .unwrap();
        let grown = repeat_largest_function(&wasm, 4).unwrap();
        wasmparser::Validator::new().validate_all(&grown).unwrap();
        let text = wasmprinter::print_bytes(&grown).unwrap();
        assert_eq!(text.matches("i64.mul").count(), 4, "{text}");
    }
}
