//! Per-call termination fuel.
//!
//! wasm-smith's `ensure_termination` keeps one fuel counter per instance, so
//! a first call that recurses or loops drains it and every later call traps
//! at once, observing nothing. crosscheck exports the counter under a
//! reserved name and refills it before every call, identically on every
//! engine: each call may run as long as the first.

use anyhow::{anyhow, Result};
use wasm_encoder::reencode::{utils, Error, Reencode};
use wasm_encoder::{ExportKind, ExportSection, SectionId};

/// The reserved export name of the termination-fuel global.
pub const FUEL_EXPORT: &str = "__crosscheck_termination_fuel";

/// Adds the export `FUEL_EXPORT` for global `global`, creating the export
/// section if the module has none.
pub fn export_fuel_global(wasm: &[u8], global: u32) -> Result<Vec<u8>> {
    struct AddExport {
        global: u32,
        added: bool,
    }
    impl Reencode for AddExport {
        type Error = std::convert::Infallible;

        fn parse_export_section(
            &mut self,
            exports: &mut ExportSection,
            section: wasmparser::ExportSectionReader<'_>,
        ) -> Result<(), Error<Self::Error>> {
            utils::parse_export_section(self, exports, section)?;
            exports.export(FUEL_EXPORT, ExportKind::Global, self.global);
            self.added = true;
            Ok(())
        }

        fn intersperse_section_hook(
            &mut self,
            module: &mut wasm_encoder::Module,
            _after: Option<SectionId>,
            before: Option<SectionId>,
        ) -> Result<(), Error<Self::Error>> {
            // Without an export section of its own, the module gets one just
            // before the first section that must follow exports.
            let past_exports = match before {
                None => true,
                Some(id) => matches!(
                    id,
                    SectionId::Start
                        | SectionId::Element
                        | SectionId::DataCount
                        | SectionId::Code
                        | SectionId::Data
                ),
            };
            if past_exports && !self.added {
                let mut exports = ExportSection::new();
                exports.export(FUEL_EXPORT, ExportKind::Global, self.global);
                module.section(&exports);
                self.added = true;
            }
            Ok(())
        }
    }
    let mut reencoder = AddExport {
        global,
        added: false,
    };
    let mut module = wasm_encoder::Module::new();
    reencoder
        .parse_core_module(&mut module, wasmparser::Parser::new(0), wasm)
        .map_err(|e| anyhow!("re-encoding the module to export its fuel global: {e:?}"))?;
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::module_info::ModuleInfo;

    #[test]
    fn the_fuel_global_is_exported_and_recognized() {
        let wasm = wat::parse_str(
            r#"(module (global (mut i32) (i32.const 77)) (global (mut i32) (i32.const 1000))
                 (func (export "f")))"#,
        )
        .unwrap();
        let with_export = export_fuel_global(&wasm, 1).unwrap();
        let info = ModuleInfo::parse(&with_export).unwrap();
        assert_eq!(info.termination_fuel, Some(1000));
        assert!(ModuleInfo::parse(&wasm).unwrap().termination_fuel.is_none());
    }

    #[test]
    fn an_export_section_is_created_in_order_when_missing() {
        for wat in [
            "(module (global (mut i32) (i32.const 5)))",
            "(module (global (mut i32) (i32.const 5)) (func) (start 0))",
            "(module (memory 1) (global (mut i32) (i32.const 5)) (func) (data (i32.const 0) \"x\"))",
        ] {
            let wasm = export_fuel_global(&wat::parse_str(wat).unwrap(), 0).unwrap();
            let info = ModuleInfo::parse(&wasm).unwrap_or_else(|e| panic!("{wat}: {e:#}"));
            assert_eq!(info.termination_fuel, Some(5), "{wat}");
        }
    }
}
