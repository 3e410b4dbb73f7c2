//! Temporary directories crosscheck writes into: through `tempfile`, with
//! unpredictable names, created exclusively and owner-only (mode 0700),
//! so that no other local user can plant a file or a symbolic link in
//! them, and removed when dropped.

use anyhow::{Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use tempfile::TempDir;

/// A new private directory in the system's temporary directory.
pub fn private_dir(prefix: &str) -> Result<TempDir> {
    builder(prefix)
        .tempdir()
        .with_context(|| format!("creating a private temporary directory {prefix}*"))
}

/// A new private directory in `parent` (to be renamed into place there).
pub fn private_dir_in(parent: &Path, prefix: &str) -> Result<TempDir> {
    builder(prefix)
        .tempdir_in(parent)
        .with_context(|| format!("creating a private directory in {}", parent.display()))
}

fn builder(prefix: &str) -> tempfile::Builder<'_, '_> {
    let mut builder = tempfile::Builder::new();
    builder
        .prefix(prefix)
        .permissions(std::fs::Permissions::from_mode(0o700));
    builder
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn directories_are_owner_only_and_gone_after_use() {
        let dir = private_dir("crosscheck-test-").unwrap();
        let path = dir.path().to_path_buf();
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o700);
        let inner = private_dir_in(&path, ".inner-").unwrap();
        assert_eq!(
            std::fs::metadata(inner.path()).unwrap().mode() & 0o777,
            0o700
        );
        drop(inner);
        drop(dir);
        assert!(!path.exists());
    }
}
