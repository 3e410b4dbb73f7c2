//! crosscheck built against a published Wasmtime release, into a cache.
//!
//! A build copies this crosscheck's source tree, changes the workspace's
//! Wasmtime requirement to the release (the README's version switch, done
//! by program), and builds it in release mode into a target directory
//! shared by every release, so only Wasmtime and what depends on it are
//! compiled again. `engine/wasmtime.rs` builds against every release from
//! 36 on (see `oracles/build.rs`).

use anyhow::{anyhow, bail, Context, Result};
use indicatif::ProgressBar;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use walkdir::WalkDir;

/// The oldest Wasmtime release whose API `engine/wasmtime.rs` handles.
pub const OLDEST_SUPPORTED: u64 = 36;

/// The source tree this binary was built from: where `bisect` builds other
/// releases from unless told otherwise.
pub const BUILT_FROM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// What a cached build was built from; a build from another crosscheck is
/// built again (its `check --expect` may differ).
const STAMP: &str = concat!("crosscheck ", env!("CARGO_PKG_VERSION"));

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

    /// crosscheck built against the newest release of Wasmtime `major`:
    /// this binary when it links that major, else the cached build, else a
    /// new build (minutes; `progress` shows cargo's progress).
    pub fn release(&self, major: u64, progress: &ProgressBar) -> Result<Release> {
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
        if !self.rebuild {
            if let Some(release) = cached(&dir, major) {
                return Ok(release);
            }
        }
        self.build(major, &dir, progress)
    }

    fn build(&self, major: u64, dir: &Path, progress: &ProgressBar) -> Result<Release> {
        let source = self.cache.join(format!("source-{major}"));
        progress.set_message(format!(
            "Wasmtime {major}: copying crosscheck's source from {}",
            self.source.display()
        ));
        copy_source(&self.source, &source)?;
        require_release(&source.join("Cargo.toml"), major)?;
        let target = self.cache.join("target");
        progress.set_message(format!("Wasmtime {major}: building crosscheck (minutes)"));
        let mut child = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
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
                    progress.set_message(format!(
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
        std::fs::write(dir.join("stamp"), STAMP)?;
        Ok(Release {
            major,
            version,
            binary,
        })
    }
}

/// The cached build in `dir`, if it is complete and from this crosscheck.
fn cached(dir: &Path, major: u64) -> Option<Release> {
    let stamp = std::fs::read_to_string(dir.join("stamp")).ok()?;
    let version = std::fs::read_to_string(dir.join("version")).ok()?;
    let binary = dir.join("crosscheck");
    (stamp.trim() == STAMP && binary.is_file()).then(|| Release {
        major,
        version: version.trim().to_string(),
        binary,
    })
}

/// The major of a version string (`48.0.8` is 48).
pub fn major_of(version: &str) -> Option<u64> {
    version.split('.').next()?.parse().ok()
}

/// What a build needs of the source tree: the workspace's manifest, lock
/// file and default configuration, and its members without their build
/// output.
const SOURCE_FILES: [&str; 3] = ["Cargo.toml", "Cargo.lock", "config.toml"];

/// Copies the workspace at `from` to `to` (replacing an older copy).
fn copy_source(from: &Path, to: &Path) -> Result<()> {
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
    let members: Vec<String> = table
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .ok_or_else(|| anyhow!("{} has no [workspace] members", manifest.display()))?
        .iter()
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect();
    if to.exists() {
        std::fs::remove_dir_all(to).with_context(|| format!("removing {}", to.display()))?;
    }
    for file in SOURCE_FILES {
        let target = to.join(file);
        std::fs::create_dir_all(to)?;
        std::fs::copy(from.join(file), &target)
            .with_context(|| format!("copying {} from {}", file, from.display()))?;
    }
    for member in members {
        let root = from.join(&member);
        let walk = WalkDir::new(&root).into_iter().filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            // Build output and fuzzing state are not source.
            !(e.file_type().is_dir()
                && ["target", "corpus", "artifacts", "coverage"].contains(&name.as_ref()))
        });
        for entry in walk {
            let entry = entry.with_context(|| format!("reading {}", root.display()))?;
            let relative = entry.path().strip_prefix(from).expect("under the source");
            let target = to.join(relative);
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&target)?;
            } else if entry.file_type().is_file() {
                std::fs::copy(entry.path(), &target)
                    .with_context(|| format!("copying {}", entry.path().display()))?;
            }
        }
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
    fn releases_before_the_oldest_supported_are_refused() {
        let builds = Builds::new(Path::new("/nonexistent"), Path::new("/nonexistent"), false);
        let err = builds.release(35, &ProgressBar::hidden()).unwrap_err();
        assert!(err
            .to_string()
            .contains("oldest release crosscheck supports (36)"));
    }

    #[test]
    fn the_linked_release_is_this_binary() {
        let builds = Builds::new(Path::new("/nonexistent"), Path::new("/nonexistent"), false);
        let major = major_of(LINKED).unwrap();
        let release = builds.release(major, &ProgressBar::hidden()).unwrap();
        assert_eq!(release.version, LINKED);
        assert_eq!(release.binary, std::env::current_exe().unwrap());
    }
}
