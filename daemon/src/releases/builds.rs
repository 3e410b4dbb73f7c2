//! crosscheck built against a published Wasmtime release, into a cache.
//!
//! A build copies this crosscheck's source tree, changes the workspace's
//! Wasmtime requirement to the release (the README's version switch, done
//! by program), and builds it in release mode into a target directory
//! shared by every release, so only Wasmtime and what depends on it are
//! compiled again. `engine/wasmtime.rs` builds against every release from
//! 36 on (see `oracles/build.rs`).

use super::spinner::Spinner;
use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use walkdir::WalkDir;

/// The oldest Wasmtime release whose API `engine/wasmtime.rs` handles.
pub const OLDEST_SUPPORTED: u64 = 36;

/// The source tree this binary was built from: where `bisect` builds other
/// releases from unless told otherwise.
pub const BUILT_FROM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The Wasmtime release this binary links.
pub const LINKED: &str = oracles::versions::WASMTIME;

/// crosscheck built against one Wasmtime release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// The major release asked for.
    pub major: u64,
    /// The exact version Cargo chose (the newest of the major).
    pub version: String,
    /// The crosscheck binary.
    pub binary: PathBuf,
}

/// The cache of builds: `<cache>/wasmtime-<major>/` holds each release's
/// binary and version, `<cache>/target` the shared target directory.
pub struct Builds {
    cache: PathBuf,
    source: PathBuf,
    rebuild: bool,
}

impl Builds {
    /// Builds from `source` (a crosscheck checkout) into `cache`; with
    /// `rebuild`, cached binaries are built again.
    pub fn new(cache: &Path, source: &Path, rebuild: bool) -> Builds {
        Builds {
            cache: cache.to_path_buf(),
            source: source.to_path_buf(),
            rebuild,
        }
    }

    /// Where the builds are kept.
    pub fn cache(&self) -> &Path {
        &self.cache
    }

    /// crosscheck built against the newest release of Wasmtime `major`:
    /// this binary when it links that major, else the cached build, else a
    /// new build (minutes; `progress` shows cargo's progress).
    pub fn release(&self, major: u64, spinner: &Spinner) -> Result<Release> {
        if major < OLDEST_SUPPORTED {
            bail!(
                "Wasmtime {major} is older than the oldest release crosscheck supports ({OLDEST_SUPPORTED})"
            );
        }
        if major_of(LINKED) == Some(major) && !self.rebuild {
            return Ok(Release {
                major,
                version: LINKED.to_string(),
                binary: std::env::current_exe().context("finding this crosscheck binary")?,
            });
        }
        let dir = self.cache.join(format!("wasmtime-{major}"));
        let files = source_files(&self.source)?;
        let stamp = source_stamp(&self.source, &files)?;
        if !self.rebuild {
            if let Some(release) = cached(&dir, major, &stamp) {
                return Ok(release);
            }
        }
        self.build(major, &dir, &files, &stamp, spinner)
    }

    fn build(
        &self,
        major: u64,
        dir: &Path,
        files: &[PathBuf],
        stamp: &str,
        spinner: &Spinner,
    ) -> Result<Release> {
        let source = self.cache.join(format!("source-{major}"));
        spinner.step(format!(
            "Wasmtime {major}: copying crosscheck's source from {}",
            self.source.display()
        ));
        copy_source(&self.source, files, &source)?;
        require_release(&source.join("Cargo.toml"), major)?;
        let target = self.cache.join("target");
        let toolchain = super::toolchain::for_checkout(&source)
            .with_context(|| format!("choosing a Rust toolchain for Wasmtime {major}"))?;
        spinner.step(format!(
            "Wasmtime {major}: building crosscheck against it (cargo build --release on {}, minutes)",
            match &toolchain.name {
                Some(name) => format!("{name}, rustc {}", toolchain.version),
                None => format!("rustc {}", toolchain.version),
            }
        ));
        let mut child = toolchain
            .cargo()
            .args([
                "build",
                "--release",
                "-p",
                "crosscheck",
                "--bin",
                "crosscheck",
            ])
            .current_dir(&source)
            .env("CARGO_TARGET_DIR", &target)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting cargo (is it on PATH?)")?;
        let mut tail = Vec::new();
        let mut compiled = 0;
        if let Some(stderr) = child.stderr.take() {
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                let line = line.trim().to_string();
                if let Some(krate) = line.strip_prefix("Compiling ") {
                    compiled += 1;
                    spinner.detail(format!(
                        "Wasmtime {major}: building crosscheck, {compiled} crates compiled, now {krate}"
                    ));
                }
                tail.push(line);
                if tail.len() > 30 {
                    tail.remove(0);
                }
            }
        }
        let status = child.wait().context("waiting for cargo")?;
        if !status.success() {
            bail!(
                "building crosscheck against Wasmtime {major} in {} failed ({status}); cargo's last lines:\n{}",
                source.display(),
                tail.join("\n")
            );
        }
        let version = locked_version(&source.join("Cargo.lock"), "wasmtime")?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let binary = dir.join("crosscheck");
        std::fs::copy(target.join("release").join("crosscheck"), &binary)
            .with_context(|| format!("copying the build to {}", binary.display()))?;
        std::fs::write(dir.join("version"), &version)?;
        std::fs::write(dir.join("stamp"), stamp)?;
        Ok(Release {
            major,
            version,
            binary,
        })
    }
}

/// The cached build in `dir`, if it is complete and built from the source
/// `stamp` names. A build without a stamp was put there by hand (a release
/// candidate, a local checkout) and is used as it is.
fn cached(dir: &Path, major: u64, stamp: &str) -> Option<Release> {
    let version = std::fs::read_to_string(dir.join("version")).ok()?;
    let binary = dir.join("crosscheck");
    let current = match std::fs::read_to_string(dir.join("stamp")) {
        Ok(built_from) => built_from.trim() == stamp,
        Err(_) => true,
    };
    (current && binary.is_file()).then(|| Release {
        major,
        version: version.trim().to_string(),
        binary,
    })
}

/// The major of a version string (`48.0.8` is 48).
pub fn major_of(version: &str) -> Option<u64> {
    version.split('.').next()?.parse().ok()
}

/// What a build needs of the source tree besides its members: the
/// workspace's manifest, lock file and default configuration.
const SOURCE_FILES: [&str; 3] = ["Cargo.toml", "Cargo.lock", "config.toml"];

/// Directories of a member that are not source: build output and fuzzing
/// state.
const NOT_SOURCE: [&str; 4] = ["target", "corpus", "artifacts", "coverage"];

/// The files of the crosscheck workspace at `from` that a build needs,
/// relative to it, sorted.
fn source_files(from: &Path) -> Result<Vec<PathBuf>> {
    let manifest = from.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).with_context(|| {
        format!(
            "{} is not a crosscheck checkout (no Cargo.toml); pass --source",
            from.display()
        )
    })?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("parsing {}", manifest.display()))?;
    let members = table
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .ok_or_else(|| anyhow!("{} has no [workspace] members", manifest.display()))?;
    let mut files: Vec<PathBuf> = SOURCE_FILES.iter().map(PathBuf::from).collect();
    for member in members.iter().filter_map(|m| m.as_str()) {
        let root = from.join(member);
        let walk = WalkDir::new(&root).into_iter().filter_entry(|e| {
            !(e.file_type().is_dir()
                && NOT_SOURCE.contains(&e.file_name().to_string_lossy().as_ref()))
        });
        for entry in walk {
            let entry = entry.with_context(|| format!("reading {}", root.display()))?;
            if entry.file_type().is_file() {
                let relative = entry.path().strip_prefix(from).expect("under the source");
                files.push(relative.to_path_buf());
            }
        }
    }
    files.sort();
    Ok(files)
}

/// What a build is built from: crosscheck's version and a hash of every
/// source file, so that a change to the source builds the releases again.
fn source_stamp(from: &Path, files: &[PathBuf]) -> Result<String> {
    let mut hash = Sha256::new();
    for file in files {
        let bytes = std::fs::read(from.join(file))
            .with_context(|| format!("reading {}", from.join(file).display()))?;
        hash.update(file.to_string_lossy().as_bytes());
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    Ok(format!(
        "crosscheck {} source {}",
        env!("CARGO_PKG_VERSION"),
        hex::encode(hash.finalize())
    ))
}

/// Copies `files` of the workspace at `from` to `to` (replacing an older
/// copy).
fn copy_source(from: &Path, files: &[PathBuf], to: &Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to).with_context(|| format!("removing {}", to.display()))?;
    }
    for file in files {
        let target = to.join(file);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::copy(from.join(file), &target)
            .with_context(|| format!("copying {}", from.join(file).display()))?;
    }
    Ok(())
}

/// Rewrites the workspace manifest so that it requires Wasmtime `major`
/// (its newest release) instead of what it required, without a local
/// `[patch]` of Wasmtime: the published release is what is asked for.
fn require_release(manifest: &Path, major: u64) -> Result<()> {
    let text = std::fs::read_to_string(manifest)?;
    let mut table: toml::Table = text.parse()?;
    let dependency = table
        .get_mut("workspace")
        .and_then(|w| w.get_mut("dependencies"))
        .and_then(|d| d.get_mut("wasmtime"))
        .ok_or_else(|| {
            anyhow!(
                "{} has no workspace dependency on wasmtime",
                manifest.display()
            )
        })?;
    let requirement = toml::Value::String(major.to_string());
    match dependency {
        toml::Value::Table(spec) => {
            spec.insert("version".into(), requirement);
        }
        other => *other = requirement,
    }
    if let Some(patches) = table
        .get_mut("patch")
        .and_then(|p| p.get_mut("crates-io"))
        .and_then(|c| c.as_table_mut())
    {
        patches.remove("wasmtime");
    }
    std::fs::write(manifest, toml::to_string(&table)?)?;
    Ok(())
}

/// The version of `krate` that `lock` pins.
fn locked_version(lock: &Path, krate: &str) -> Result<String> {
    let table: toml::Table = std::fs::read_to_string(lock)
        .with_context(|| format!("reading {}", lock.display()))?
        .parse()
        .with_context(|| format!("parsing {}", lock.display()))?;
    table
        .get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .find(|p| p.get("name").and_then(|n| n.as_str()) == Some(krate))
        .and_then(|p| p.get("version")?.as_str())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("{} pins no {krate}", lock.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requirement_changes_and_a_local_patch_goes() {
        let dir = std::env::temp_dir().join(format!("crosscheck-require-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let manifest = dir.join("Cargo.toml");
        std::fs::write(
            &manifest,
            "[workspace]\nmembers = [\"a\"]\n[workspace.dependencies]\n\
             wasmtime = { version = \"48\", features = [\"winch\", \"pulley\"] }\n\
             [patch.crates-io]\nwasmtime = { path = \"../wasmtime/crates/wasmtime\" }\n",
        )
        .unwrap();
        require_release(&manifest, 40).unwrap();
        let table: toml::Table = std::fs::read_to_string(&manifest).unwrap().parse().unwrap();
        let wasmtime = &table["workspace"]["dependencies"]["wasmtime"];
        assert_eq!(wasmtime["version"].as_str(), Some("40"));
        assert_eq!(wasmtime["features"].as_array().unwrap().len(), 2);
        assert!(table["patch"]["crates-io"].get("wasmtime").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_cached_build_of_other_source_is_not_used_and_one_by_hand_is() {
        let dir = std::env::temp_dir().join(format!("crosscheck-stamp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let source = dir.join("source");
        std::fs::create_dir_all(source.join("a/src")).unwrap();
        std::fs::create_dir_all(source.join("a/target")).unwrap();
        for (file, text) in [
            ("Cargo.toml", "[workspace]\nmembers = [\"a\"]\n"),
            ("Cargo.lock", ""),
            ("config.toml", ""),
            ("a/src/lib.rs", "pub fn f() {}\n"),
            ("a/target/out", "build output"),
        ] {
            std::fs::write(source.join(file), text).unwrap();
        }
        let files = source_files(&source).unwrap();
        assert_eq!(files.len(), 4, "{files:?}");
        let stamp = source_stamp(&source, &files).unwrap();
        let build = dir.join("wasmtime-40");
        std::fs::create_dir_all(&build).unwrap();
        std::fs::write(build.join("crosscheck"), "").unwrap();
        std::fs::write(build.join("version"), "40.0.3\n").unwrap();
        // By hand: no stamp.
        assert_eq!(cached(&build, 40, &stamp).unwrap().version, "40.0.3");
        std::fs::write(build.join("stamp"), &stamp).unwrap();
        assert!(cached(&build, 40, &stamp).is_some());
        std::fs::write(source.join("a/src/lib.rs"), "pub fn g() {}\n").unwrap();
        let changed = source_stamp(&source, &files).unwrap();
        assert_ne!(changed, stamp);
        assert!(cached(&build, 40, &changed).is_none());
        let copy = dir.join("copy");
        copy_source(&source, &files, &copy).unwrap();
        assert!(copy.join("a/src/lib.rs").is_file() && !copy.join("a/target").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn releases_before_the_oldest_supported_are_refused() {
        let builds = Builds::new(Path::new("/nonexistent"), Path::new("/nonexistent"), false);
        let err = builds.release(35, &Spinner::hidden()).unwrap_err();
        assert!(err
            .to_string()
            .contains("oldest release crosscheck supports (36)"));
    }

    #[test]
    fn the_linked_release_is_this_binary() {
        let builds = Builds::new(Path::new("/nonexistent"), Path::new("/nonexistent"), false);
        let major = major_of(LINKED).unwrap();
        let release = builds.release(major, &Spinner::hidden()).unwrap();
        assert_eq!(release.version, LINKED);
        assert_eq!(release.binary, std::env::current_exe().unwrap());
    }
}
