//! Rewriting the instruction sequences of a module's function bodies: what
//! the injected faults (`faulty`, `rule_faults`) are made of.

use anyhow::Result;
use wasm_encoder::reencode::{Error, Reencode, RoundtripReencoder};
use wasm_encoder::{CodeSection, Instruction};
use wasmparser::{Operator, Parser};

/// A rewrite of function bodies: given the operators from the current one
/// on, the instructions replacing the first few, and how many it replaces.
pub(super) type Window<'a> =
    dyn Fn(&[Operator<'_>]) -> Option<(Vec<Instruction<'static>>, usize)> + 'a;

/// `wasm` re-encoded with `rewrite` applied at every operator of every
/// function body, left to right, never overlapping.
pub(super) fn rewrite_bodies(wasm: &[u8], rewrite: &Window<'_>) -> Result<Vec<u8>> {
    let mut module = wasm_encoder::Module::new();
    Rewriter(rewrite)
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .map_err(|e| anyhow::anyhow!("re-encoding the module: {e:?}"))?;
    Ok(module.finish())
}

struct Rewriter<'a, 'b>(&'a Window<'b>);

impl Reencode for Rewriter<'_, '_> {
    type Error = std::convert::Infallible;

    fn parse_function_body(
        &mut self,
        code: &mut CodeSection,
        func: wasmparser::FunctionBody<'_>,
    ) -> Result<(), Error<Self::Error>> {
        let mut f = self.new_function_with_parsed_locals(&func)?;
        let mut reader = func.get_operators_reader()?;
        let mut ops = Vec::new();
        while !reader.eof() {
            ops.push(reader.read()?);
        }
        let mut i = 0;
        while i < ops.len() {
            if let Some((replacement, consumed)) = (self.0)(&ops[i..]) {
                for instruction in &replacement {
                    f.instruction(instruction);
                }
                i += consumed;
                continue;
            }
            f.instruction(&RoundtripReencoder.instruction(ops[i].clone())?);
            i += 1;
        }
        code.function(&f);
        Ok(())
    }
}
