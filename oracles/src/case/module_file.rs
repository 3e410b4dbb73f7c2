//! Reading a user's module file: a `.wasm` binary or `.wat` text.

use anyhow::{bail, Context, Result};
use std::path::Path;

/// The module in `bytes` (read from `path`): a binary as is, text parsed;
/// `None` if it is neither (no `\0asm` header, not a `.wat`/`.wast` file and
/// not starting with `(`).
pub fn module_from_bytes(path: &Path, bytes: &[u8]) -> Option<Result<Vec<u8>>> {
    if bytes.starts_with(b"\0asm") {
        return Some(Ok(bytes.to_vec()));
    }
    let is_text = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("wat" | "wast")
    ) || bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'(');
    if !is_text {
        return None;
    }
    Some((|| {
        let text = std::str::from_utf8(bytes)
            .with_context(|| format!("{} is not UTF-8 text", path.display()))?;
        wat::parse_str(text)
            .with_context(|| format!("{} is not a valid .wat module", path.display()))
    })())
}

/// Reads a `.wasm` binary or a `.wat` text module, with errors that name
/// the file.
pub fn read_module_file(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    match module_from_bytes(path, &bytes) {
        Some(module) => module,
        None => bail!(
            "{} is neither a WebAssembly binary (no \\0asm header) nor a .wat text module",
            path.display()
        ),
    }
}
