//! Reading a user's module file: a `.wasm` binary or `.wat` text.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Reads the regular file `path`, of at most `max_bytes`: a FIFO, a
/// device (`/dev/zero`), a socket or a directory is refused by what it is,
/// without blocking on it or reading it without end.
pub fn read_regular_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>> {
    // Non-blocking, so that opening a FIFO with no writer returns at once.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?;
    let kind = meta.file_type();
    let what = if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if kind.is_char_device() || kind.is_block_device() {
        Some("a device")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    };
    if let Some(what) = what {
        bail!(
            "cannot read {}: it is {what}; crosscheck reads regular files only",
            path.display()
        );
    }
    if meta.len() > max_bytes {
        bail!(
            "cannot read {}: it has {} bytes, more than the {max_bytes} crosscheck reads",
            path.display(),
            meta.len()
        );
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // A file that grows while it is read stops at the limit too.
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > max_bytes {
        bail!(
            "cannot read {}: it grew past the {max_bytes} bytes crosscheck reads",
            path.display()
        );
    }
    Ok(bytes)
}

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

/// The largest module file read: Wasmtime's own limit on a module's size
/// is far above any module a fuzzer or a reproduction needs.
pub const MAX_MODULE_BYTES: u64 = 128 << 20;

/// Reads a `.wasm` binary or a `.wat` text module, with errors that name
/// the file.
pub fn read_module_file(path: &Path) -> Result<Vec<u8>> {
    let bytes = read_regular_file(path, MAX_MODULE_BYTES)?;
    match module_from_bytes(path, &bytes) {
        Some(module) => module,
        None => bail!(
            "{} is neither a WebAssembly binary (no \\0asm header) nor a .wat text module",
            path.display()
        ),
    }
}
