//! Whether Cranelift's optimizer changed the code of a rule-guided
//! module's pattern: its functions compiled at opt level none and speed,
//! otherwise alike, and their machine code compared. A difference shows
//! that the mid-end rewrote the pattern (not necessarily by the aimed
//! rule); lowering rules apply at both levels, so for them no difference
//! is expected.

use anyhow::Result;
use std::sync::OnceLock;
use wasmtime::{Config, Engine, Module, OptLevel};

/// The two engines, built once per process.
fn engines() -> &'static (Engine, Engine) {
    static ENGINES: OnceLock<(Engine, Engine)> = OnceLock::new();
    ENGINES.get_or_init(|| {
        let build = |level| {
            let mut config = Config::new();
            config.cranelift_opt_level(level);
            config.wasm_wide_arithmetic(true);
            Engine::new(&config).expect("a default engine with one opt level changed")
        };
        (build(OptLevel::None), build(OptLevel::Speed))
    })
}

/// Whether any of the first `functions` defined functions of `wasm`
/// compiles to different machine code at opt level speed than at none.
pub fn optimizer_changed(wasm: &[u8], functions: usize) -> Result<bool> {
    let (none, speed) = engines();
    let code = |engine: &Engine| -> Result<Vec<Vec<u8>>> {
        let module = Module::new(engine, wasm)
            .map_err(|e| anyhow::Error::from(e).context("compiling the rule's module"))?;
        let text = module.text();
        Ok(module
            .functions()
            .take(functions)
            .map(|f| text[f.offset..f.offset + f.len].to_vec())
            .collect())
    };
    Ok(code(none)? != code(speed)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foldable_pattern_changes_and_a_plain_add_does_not() {
        let folded = wat::parse_str(
            r#"(module (func (param i32) (result i32)
                 local.get 0 i32.const 0 i32.add))"#,
        )
        .unwrap();
        assert!(optimizer_changed(&folded, 1).unwrap());
        let plain = wat::parse_str(
            r#"(module (func (param i32 i32) (result i32)
                 local.get 0 local.get 1 i32.add))"#,
        )
        .unwrap();
        assert!(!optimizer_changed(&plain, 1).unwrap());
    }
}
