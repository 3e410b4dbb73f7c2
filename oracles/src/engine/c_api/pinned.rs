//! The Wasmtime releases whose C API library crosscheck loads, each pinned
//! to one wheel and one library by SHA-256, as `Cargo.lock` pins every
//! crate: the library runs inside the worker, so a wheel from a hostile
//! index or a file planted in the cache must never be loaded.
//!
//! Moving to a new patch release is one change here: `crosscheck c-api-pin
//! VERSION` fetches that release's wheel and prints the entry to put in
//! [`PINNED`].

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// One release's wheel and library, pinned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinnedRelease {
    /// The release's exact version (`51.0.0`).
    pub version: &'static str,
    /// The wheel's file name on PyPI (x86-64 Linux).
    pub wheel: &'static str,
    /// SHA-256 of the wheel, as pip's `--hash` takes it.
    pub wheel_sha256: &'static str,
    /// SHA-256 of `_libwasmtime.so` inside the wheel.
    pub library_sha256: &'static str,
}

impl PinnedRelease {
    /// The release's major version.
    pub fn major(&self) -> u64 {
        major_of(self.version).expect("a pinned version starts with its major")
    }
}

/// Every release whose library crosscheck fetches and loads.
pub const PINNED: &[PinnedRelease] = &[PinnedRelease {
    version: "51.0.0",
    wheel: "wasmtime-51.0.0-py3-none-manylinux1_x86_64.whl",
    wheel_sha256: "cb4a48bae3de3c0ca99a67e05debbe4bfe48bea7f25ac71ee42fb3fd681ef93c",
    library_sha256: "e3b6f82a76730979875b0c336e573583e1bd9deb052ac44be771e19b1dc51e00",
}];

/// The major version a version string starts with.
fn major_of(version: &str) -> Option<u64> {
    version.split('.').next()?.parse().ok()
}

/// The pinned release of `major`, or an error naming the pinned ones.
pub fn of_major(major: u64) -> Result<&'static PinnedRelease> {
    PINNED
        .iter()
        .find(|pin| pin.major() == major)
        .ok_or_else(|| not_pinned(&format!("Wasmtime {major}")))
}

/// The pinned release of exactly `version`, or an error naming the
/// pinned ones.
pub fn of_version(version: &str) -> Result<&'static PinnedRelease> {
    PINNED
        .iter()
        .find(|pin| pin.version == version)
        .ok_or_else(|| not_pinned(&format!("Wasmtime {version}")))
}

fn not_pinned(what: &str) -> anyhow::Error {
    let pinned: Vec<&str> = PINNED.iter().map(|pin| pin.version).collect();
    anyhow::anyhow!(
        "{what}'s C API library is not pinned: crosscheck loads only the libraries whose SHA-256 its source records ({}); `crosscheck c-api-pin VERSION` prints the entry that pins another release",
        pinned.join(", ")
    )
}

/// The SHA-256 of everything `reader` yields, in lowercase hex.
pub fn sha256_of(mut reader: impl Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Opens `path` for loading as `pin`'s library: a regular file (not a
/// link), owned by this user, in a directory owned by this user, neither
/// writable by anyone else, whose bytes hash to the pinned SHA-256. The
/// open file is returned so that the bytes loaded are the bytes hashed
/// (load it through `/proc/self/fd/N`, never by its path again).
pub fn open_verified(path: &Path, pin: &PinnedRelease) -> Result<File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| {
            format!(
                "opening Wasmtime {}'s C API library {} (a symbolic link is refused)",
                pin.version,
                path.display()
            )
        })?;
    let meta = file
        .metadata()
        .with_context(|| format!("reading the metadata of {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} is not a regular file: refused", path.display());
    }
    refuse_foreign(path, &meta)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir_meta = std::fs::metadata(dir)
        .with_context(|| format!("reading the metadata of {}", dir.display()))?;
    refuse_foreign(dir, &dir_meta)?;
    let actual = sha256_of(&file).with_context(|| format!("reading {}", path.display()))?;
    if actual != pin.library_sha256 {
        bail!(
            "refusing to load {}: its SHA-256 is {actual}, but Wasmtime {}'s C API library is pinned to {} (damaged, truncated or replaced; `crosscheck build-release {} --c-api --rebuild` fetches it again)",
            path.display(),
            pin.version,
            pin.library_sha256,
            pin.major()
        );
    }
    Ok(file)
}

/// Refuses a file or directory that another user owns or may write.
fn refuse_foreign(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        bail!(
            "refusing {}: it belongs to user {}, not to this user ({me})",
            path.display(),
            meta.uid()
        );
    }
    if meta.mode() & 0o022 != 0 {
        bail!(
            "refusing {}: others may write it (mode {:o}); it must be writable by its owner only",
            path.display(),
            meta.mode() & 0o7777
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn pin_of(bytes: &[u8]) -> PinnedRelease {
        PinnedRelease {
            library_sha256: Box::leak(sha256_of(bytes).unwrap().into_boxed_str()),
            ..PINNED[0]
        }
    }

    #[test]
    fn every_pin_is_well_formed_and_found_by_major_and_version() {
        for pin in PINNED {
            assert_eq!(pin.wheel_sha256.len(), 64, "{pin:?}");
            assert_eq!(pin.library_sha256.len(), 64, "{pin:?}");
            assert!(pin.wheel.starts_with(&format!("wasmtime-{}-", pin.version)));
            assert_eq!(of_major(pin.major()).unwrap(), pin);
            assert_eq!(of_version(pin.version).unwrap(), pin);
        }
        let err = of_major(7).unwrap_err().to_string();
        assert!(
            err.contains("Wasmtime 7") && err.contains("c-api-pin"),
            "{err}"
        );
    }

    #[test]
    fn only_the_pinned_bytes_owned_and_private_are_opened() {
        let dir = tempfile::tempdir().unwrap();
        let library = dir.path().join("libwasmtime.so");
        std::fs::write(&library, b"the real bytes").unwrap();
        let pin = pin_of(b"the real bytes");
        open_verified(&library, &pin).unwrap();

        // Other bytes, a truncated copy.
        std::fs::write(&library, b"the real").unwrap();
        let err = format!("{:#}", open_verified(&library, &pin).unwrap_err());
        assert!(
            err.contains(&library.display().to_string())
                && err.contains(pin.library_sha256)
                && err.contains(&sha256_of(&b"the real"[..]).unwrap()),
            "{err}"
        );

        // A link to the right bytes.
        let real = dir.path().join("real.so");
        std::fs::write(&real, b"the real bytes").unwrap();
        let link = dir.path().join("link.so");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let err = format!("{:#}", open_verified(&link, &pin).unwrap_err());
        assert!(err.contains("symbolic link"), "{err}");

        // Writable by others: the file, then its directory.
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o666)).unwrap();
        let err = format!("{:#}", open_verified(&real, &pin).unwrap_err());
        assert!(err.contains("others may write it"), "{err}");
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = format!("{:#}", open_verified(&real, &pin).unwrap_err());
        assert!(
            err.contains(&dir.path().display().to_string()) && err.contains("others may write"),
            "{err}"
        );
    }
}
