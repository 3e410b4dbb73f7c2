//! A Wasmtime release as Wasmtime publishes it: the C API library of the
//! release (`_libwasmtime.so` inside its `wasmtime` wheel on PyPI, built by
//! Wasmtime's own release CI), fetched with pip into the user's cache
//! (`oracles::engine::other_release::c_api_cache`), where
//! `oracles::engine::c_api` runs engines of it in this process.
//!
//! Seconds instead of a five-minute build, and the only way to run a
//! release whose crates the registry cannot resolve (48.0.11, 49 to 51
//! here). The library is Wasmtime's release build, so the code under test
//! is the code embedders load.

use anyhow::{anyhow, bail, Context, Result};
use oracles::engine::c_api::pinned::{self, PinnedRelease};
use oracles::engine::c_api::CApiEngine;
use oracles::engine::other_release::{c_api_cache, LIBRARY_FILE};
use oracles::engine::{ExecutionConfig, EMBEDDER_DEFAULT};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the library sits inside a wheel for x86-64 Linux.
pub const LIBRARY_IN_WHEEL: &str = "wasmtime/linux-x86_64/_libwasmtime.so";

/// A fetched release: its library and exact version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CApiRelease {
    /// The `libwasmtime.so`.
    pub library: PathBuf,
    /// The wheel's version (`51.0.0`).
    pub version: String,
}

/// The C API library of the pinned release of Wasmtime `major`
/// (`oracles::engine::c_api::pinned`): the cached one, else fetched (with
/// `refetch`, fetched again). Nothing fetched is kept unless the wheel and
/// the library hash to the pinned SHA-256s.
pub fn fetch(major: u64, refetch: bool) -> Result<CApiRelease> {
    let pin = pinned::of_major(major)?;
    if !refetch {
        if let Some((library, version)) = oracles::engine::other_release::c_api_library_of(major) {
            return Ok(CApiRelease { library, version });
        }
    }
    let parent = private_cache()?;
    let dir = parent.join(format!("wasmtime-{major}"));
    // Fetched beside its place and renamed into it: processes fetching the
    // same release at once (tests, workers) never see half a library.
    let staging = oracles::temp::private_dir_in(&parent, &format!(".fetching-{major}-"))?;
    download_and_extract(pin, staging.path())?;
    // What stands there is not the pinned release, or is fetched again; a
    // pinned release another process put there meanwhile is left to it.
    let present = oracles::engine::other_release::c_api_library_of(major).is_some();
    if refetch || !present {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, &dir) {
        let _ = std::fs::remove_dir_all(&staged);
        // Another process put the same release there first.
        if oracles::engine::other_release::c_api_library_of(major).is_none() {
            return Err(e).with_context(|| format!("moving the library into {}", dir.display()));
        }
    }
    Ok(CApiRelease {
        library: dir.join(LIBRARY_FILE),
        version: pin.version.to_string(),
    })
}

/// The cache directory, created owner-only (mode 0700) if it is missing.
fn private_cache() -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let cache = c_api_cache()?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&cache)
        .with_context(|| format!("creating the C API cache {}", cache.display()))?;
    Ok(cache)
}

/// Downloads `pin`'s wheel into `dir` in pip's hash-checking mode,
/// checks both hashes and that the library runs, and leaves the library
/// and its `version` there.
fn download_and_extract(pin: &PinnedRelease, dir: &Path) -> Result<()> {
    let wheels = dir.join("wheel");
    let wheel = download_wheel(pin.version, Some(pin.wheel_sha256), &wheels)?;
    let wheel_sha256 = sha256_of_file(&wheel)?;
    if wheel_sha256 != pin.wheel_sha256 {
        bail!(
            "the wheel {} has SHA-256 {wheel_sha256}, but Wasmtime {} is pinned to {}: refused",
            wheel.display(),
            pin.version,
            pin.wheel_sha256
        );
    }
    let library = dir.join(LIBRARY_FILE);
    extract_library(&wheel, &library)?;
    std::fs::remove_dir_all(&wheels)?;
    // Hashed before anything loads it, then loaded: a library that lacks a
    // function crosscheck calls, or refuses the embedders' configuration,
    // is refused here rather than at every case.
    CApiEngine::open(
        &library,
        pin.version,
        EMBEDDER_DEFAULT,
        &ExecutionConfig::default(),
        EMBEDDER_DEFAULT,
    )
    .with_context(|| format!("checking the C API library of Wasmtime {}", pin.version))?;
    std::fs::write(dir.join("version"), pin.version)?;
    Ok(())
}

/// Downloads the x86-64 Linux wheel of Wasmtime `version` into `dest`
/// with pip; with `sha256`, in pip's hash-checking mode, so that pip
/// itself refuses any other file.
pub fn download_wheel(version: &str, sha256: Option<&str>, dest: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .arg("--dest")
        .arg(dest);
    let requirement = match sha256 {
        Some(sha256) => {
            let file = dest.join("requirements.txt");
            std::fs::write(
                &file,
                format!("wasmtime=={version} --hash=sha256:{sha256}\n"),
            )?;
            pip.arg("--require-hashes").arg("-r").arg(&file);
            format!("wasmtime=={version} (pinned by SHA-256)")
        }
        None => {
            pip.arg(format!("wasmtime=={version}"));
            format!("wasmtime=={version}")
        }
    };
    let output = pip
        .output()
        .context("starting `python3 -m pip` (crosscheck fetches Wasmtime's C API library with pip: install Python 3 with pip)")?;
    if !output.status.success() {
        bail!(
            "`python3 -m pip download {requirement}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let wheel = std::fs::read_dir(dest)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.extension().is_some_and(|e| e == "whl"))
        .ok_or_else(|| anyhow!("pip downloaded no wheel of {requirement}"))?;
    let got = version_of_wheel(&wheel)?;
    if got != version {
        bail!("pip downloaded {} for {requirement}", wheel.display());
    }
    Ok(wheel)
}

/// The SHA-256 of a file, in lowercase hex.
pub fn sha256_of_file(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    pinned::sha256_of(file).with_context(|| format!("reading {}", path.display()))
}

/// The version in a wheel's file name (`wasmtime-51.0.0-py3-none-...`).
fn version_of_wheel(wheel: &Path) -> Result<String> {
    let name = wheel
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match name.split('-').collect::<Vec<_>>().as_slice() {
        ["wasmtime", version, ..] if version.split('.').all(|p| p.parse::<u64>().is_ok()) => {
            Ok(version.to_string())
        }
        _ => bail!("{name:?} is not the file name of a wasmtime wheel"),
    }
}

/// Writes the library inside `wheel` to `to`.
pub fn extract_library(wheel: &Path, to: &Path) -> Result<()> {
    let file =
        std::fs::File::open(wheel).with_context(|| format!("opening {}", wheel.display()))?;
    let mut archive = zip::ZipArchive::new(file)
        .with_context(|| format!("{} is not a wheel (a zip archive)", wheel.display()))?;
    let mut entry = archive.by_name(LIBRARY_IN_WHEEL).with_context(|| {
        format!(
            "{} holds no {LIBRARY_IN_WHEEL} (a wheel for another platform?)",
            wheel.display()
        )
    })?;
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    entry
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {LIBRARY_IN_WHEEL} from {}", wheel.display()))?;
    std::fs::write(to, bytes).with_context(|| format!("writing {}", to.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_wheel_names_and_other_files_are_refused() {
        let wheel = Path::new("/x/wasmtime-51.0.0-py3-none-manylinux1_x86_64.whl");
        assert_eq!(version_of_wheel(wheel).unwrap(), "51.0.0");
        let err = version_of_wheel(Path::new("/x/numpy-2.0.0-cp311.whl")).unwrap_err();
        assert!(err.to_string().contains("numpy-2.0.0"), "{err}");
    }

    #[test]
    fn an_archive_without_the_library_is_named() {
        let dir = std::env::temp_dir().join(format!("crosscheck-wheel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let wheel = dir.join("wasmtime-1.0.0-py3-none-any.whl");
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&wheel).unwrap());
        writer
            .start_file(
                "wasmtime/__init__.py",
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
        writer.finish().unwrap();
        let err = extract_library(&wheel, &dir.join("lib.so")).unwrap_err();
        assert!(format!("{err:#}").contains(LIBRARY_IN_WHEEL), "{err:#}");
        let not_zip = dir.join("wasmtime-2.0.0-py3-none-any.whl");
        std::fs::write(&not_zip, b"truncated").unwrap();
        let err = extract_library(&not_zip, &dir.join("lib.so")).unwrap_err();
        assert!(format!("{err:#}").contains("is not a wheel"), "{err:#}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
