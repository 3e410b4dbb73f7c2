//! What Cranelift made of a module: every function's final CLIF, as
//! Wasmtime writes it after compilation (`Config::emit_clif`), for the
//! stages that measure what the optimizer did (rule-guided and pass-aimed
//! generation, `cost::optimizer`).

use anyhow::{Context, Result};
use wasmtime::Config;

/// One CLIF file Wasmtime wrote: its name (`wasm[0]--function[1].clif`,
/// with the function's name from a name section when it has one) and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClifFile {
    /// The file's name, which says which function it holds.
    pub name: String,
    /// The function's final CLIF.
    pub text: String,
}

/// Compiles `wasm` with `config`, Wasmtime writing every function's final
/// CLIF into a directory of this call's own, and returns the files.
///
/// Wasmtime creates those files with `O_CREAT|O_TRUNC`, following
/// symlinks: in a directory another local user can name in advance, it
/// overwrites whatever they point at. So the directory is private
/// (`crate::temp`: unpredictable name, exclusive creation, owner-only) and
/// removed afterwards, and an engine is built per call (microseconds)
/// because the directory is part of its configuration.
pub fn compile_for_clif(mut config: Config, wasm: &[u8]) -> Result<Vec<ClifFile>> {
    let dir = crate::temp::private_dir("crosscheck-clif-")?;
    config.emit_clif(dir.path());
    let engine = wasmtime::Engine::new(&config).map_err(|e| anyhow::anyhow!("{e:#}"))?;
    // By its message: `wasmtime::Error` is a type of its own from 48 on.
    wasmtime::Module::new(&engine, wasm)
        .map_err(|e| anyhow::anyhow!("compiling for its CLIF: {e:#}"))?;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.path())
        .with_context(|| format!("listing {}", dir.path().display()))?
    {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        files.push(ClifFile {
            name: name.to_string(),
            text,
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}
