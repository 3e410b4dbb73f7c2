//! A Wasmtime release's compiler sources, as Cargo keeps them: the crates
//! the release depends on, at their exact versions, unpacked in Cargo's
//! own cache (`$CARGO_HOME/registry/src/<registry>/<crate>-<version>`).
//! From them come the release's Cranelift rules (what rule-guided
//! generation aims at, for a release this build does not link) and the
//! source files of the passes a release diff compares ([`Pass`]).
//!
//! Only read here: the daemon puts them in the cache with `cargo fetch`
//! (`releases::release_sources`), so every process of a run finds the
//! same files, and a machine without them says so instead of generating
//! other cases.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The ISLE files in scope of rule-guided generation, under
/// cranelift-codegen's `src/` (a folder stands for its `.isle` files): the
/// build script embeds the linked release's from the same list.
pub const RULE_FILES: [&str; 2] = ["opts", "isa/x64/lower.isle"];

/// The crate that holds Wasmtime's Cranelift integration (the bounds
/// checks), by its names since and before Wasmtime 36.
const WASMTIME_CRANELIFT: [&str; 2] = ["wasmtime-internal-cranelift", "wasmtime-cranelift"];

/// The crates of a release that `cargo fetch` brings, each alone (one
/// the registry lacks does not keep the others out): Wasmtime's
/// Cranelift integration (which brings cranelift-codegen and regalloc2),
/// the Pulley interpreter and Winch.
pub fn crates_of(wasmtime: &str) -> Vec<(&'static str, String)> {
    vec![
        (WASMTIME_CRANELIFT[0], wasmtime.to_string()),
        ("pulley-interpreter", wasmtime.to_string()),
        ("winch-codegen", wasmtime.to_string()),
    ]
}

/// Where one release's sources are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseSources {
    /// The Wasmtime release (`51.0.0`).
    pub wasmtime: String,
    /// Its cranelift-codegen's version (`0.138.0`).
    pub cranelift: String,
    /// cranelift-codegen's `src/`.
    pub codegen: PathBuf,
    /// Wasmtime's Cranelift integration's `src/`.
    pub wasmtime_cranelift: PathBuf,
    /// The Pulley interpreter's `src/`, when the registry has it.
    pub pulley: Option<PathBuf>,
    /// Winch's code generator's `src/`, when the registry has it.
    pub winch: Option<PathBuf>,
    /// The register allocator's version cranelift-codegen asks for.
    pub regalloc2: Option<String>,
}

/// A compiler pass (or component) whose sources a release diff compares,
/// and which pass-aimed shapes aim at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pass {
    /// Alias analysis: redundant loads, store-to-load forwarding, dead
    /// stores (`alias_analysis.rs`).
    AliasAnalysis,
    /// The e-graph mid-end and its elaboration (`egraph/`), where global
    /// value numbering and loop-invariant code motion happen.
    Egraph,
    /// Loop analysis (`loop_analysis.rs`), which code motion out of loops
    /// relies on.
    Loops,
    /// The bounds checks Wasmtime emits or elides (`bounds_checks.rs`).
    BoundsChecks,
    /// The x64 backend (`isa/x64/`).
    X64,
    /// Pulley: Cranelift's backend for it and the interpreter.
    Pulley,
    /// Winch, the baseline compiler.
    Winch,
}

impl Pass {
    /// Every pass, in the order reports list them.
    pub const ALL: [Pass; 7] = [
        Pass::AliasAnalysis,
        Pass::Egraph,
        Pass::Loops,
        Pass::BoundsChecks,
        Pass::X64,
        Pass::Pulley,
        Pass::Winch,
    ];

    /// Its name in reports and counters.
    pub fn name(self) -> &'static str {
        match self {
            Pass::AliasAnalysis => "alias-analysis",
            Pass::Egraph => "egraph",
            Pass::Loops => "loop-analysis",
            Pass::BoundsChecks => "bounds-checks",
            Pass::X64 => "x64",
            Pass::Pulley => "pulley",
            Pass::Winch => "winch",
        }
    }
}

impl ReleaseSources {
    /// The ISLE sources in scope ([`RULE_FILES`]) as `(path under src/,
    /// text)`, in path order.
    pub fn isle_sources(&self) -> Result<Vec<(String, String)>> {
        let mut files = Vec::new();
        for entry in RULE_FILES {
            let path = self.codegen.join(entry);
            if path.is_dir() {
                for file in std::fs::read_dir(&path)
                    .with_context(|| format!("listing {}", path.display()))?
                {
                    let file = file?.path();
                    if file.extension().is_some_and(|e| e == "isle") {
                        files.push(file);
                    }
                }
            } else {
                files.push(path);
            }
        }
        files.sort();
        files
            .into_iter()
            .map(|path| {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let relative = path
                    .strip_prefix(&self.codegen)
                    .expect("listed under src")
                    .to_string_lossy()
                    .replace('\\', "/");
                Ok((relative, text))
            })
            .collect()
    }

    /// The roots whose files make up `pass`, each as `(label, path)`: a
    /// file or a folder. Empty where the registry lacks the crate.
    pub fn roots_of(&self, pass: Pass) -> Vec<(String, PathBuf)> {
        let codegen = |p: &str| (format!("cranelift-codegen/{p}"), self.codegen.join(p));
        match pass {
            Pass::AliasAnalysis => vec![codegen("alias_analysis.rs")],
            Pass::Egraph => vec![codegen("egraph"), codegen("egraph.rs")],
            Pass::Loops => vec![codegen("loop_analysis.rs")],
            Pass::BoundsChecks => vec![
                (
                    "wasmtime-cranelift/bounds_checks.rs".into(),
                    self.wasmtime_cranelift.join("bounds_checks.rs"),
                ),
                (
                    "wasmtime-cranelift/translate/code_translator/bounds_checks.rs".into(),
                    self.wasmtime_cranelift
                        .join("translate/code_translator/bounds_checks.rs"),
                ),
            ],
            Pass::X64 => vec![codegen("isa/x64")],
            Pass::Pulley => {
                let mut roots = vec![codegen("isa/pulley_shared")];
                roots.extend(
                    self.pulley
                        .as_ref()
                        .map(|p| ("pulley-interpreter".to_string(), p.clone())),
                );
                roots
            }
            Pass::Winch => self
                .winch
                .as_ref()
                .map(|w| ("winch-codegen".to_string(), w.clone()))
                .into_iter()
                .collect(),
        }
    }
}

/// Cargo's unpacked registries (`$CARGO_HOME/registry/src/*`), where
/// `cargo fetch` puts the crates it downloads.
pub fn registry_sources() -> Vec<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(home) = home else {
        return Vec::new();
    };
    let mut registries: Vec<PathBuf> = std::fs::read_dir(home.join("registry").join("src"))
        .map(|dirs| dirs.flatten().map(|d| d.path()).collect())
        .unwrap_or_default();
    registries.sort();
    registries
}

/// The unpacked crate `name` at `version`, in any registry.
pub fn crate_dir(name: &str, version: &str) -> Option<PathBuf> {
    registry_sources()
        .into_iter()
        .map(|registry| registry.join(format!("{name}-{version}")))
        .find(|dir| dir.join("Cargo.toml").is_file())
}

/// The version of `dependency` a crate's (normalized, as published)
/// `Cargo.toml` asks for, without its operator: `0.138.0` for
/// `version = "0.138.0"` or `"=0.138.0"`.
pub fn dependency_version(manifest: &Path, dependency: &str) -> Result<String> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{} does not parse", manifest.display()))?;
    let entry = table
        .get("dependencies")
        .and_then(|d| d.get(dependency))
        .with_context(|| format!("{} has no dependency {dependency}", manifest.display()))?;
    let requirement = match entry {
        toml::Value::String(v) => v.as_str(),
        other => other
            .get("version")
            .and_then(|v| v.as_str())
            .with_context(|| format!("{dependency} in {} has no version", manifest.display()))?,
    };
    Ok(requirement
        .trim_start_matches(['=', '^', '~', ' '])
        .to_string())
}

/// The sources of Wasmtime `wasmtime` (a full version, `51.0.0`) in
/// Cargo's cache; `Err` says which crate is missing and how to get it.
pub fn locate(wasmtime: &str) -> Result<ReleaseSources> {
    let Some(integration) = WASMTIME_CRANELIFT
        .iter()
        .find_map(|name| crate_dir(name, wasmtime))
    else {
        bail!(
            "Wasmtime {wasmtime}'s Cranelift integration ({}) is not in Cargo's cache; `crosscheck diff-release` fetches it",
            WASMTIME_CRANELIFT.join(" or ")
        );
    };
    let cranelift = dependency_version(&integration.join("Cargo.toml"), "cranelift-codegen")?;
    let codegen = crate_dir("cranelift-codegen", &cranelift).with_context(|| {
        format!("cranelift-codegen {cranelift} (of Wasmtime {wasmtime}) is not in Cargo's cache")
    })?;
    if !codegen.join("src").join(RULE_FILES[0]).is_dir() {
        bail!("cranelift-codegen {cranelift} ships no ISLE sources (src/opts)");
    }
    Ok(ReleaseSources {
        wasmtime: wasmtime.to_string(),
        regalloc2: dependency_version(&codegen.join("Cargo.toml"), "regalloc2").ok(),
        cranelift,
        codegen: codegen.join("src"),
        wasmtime_cranelift: integration.join("src"),
        pulley: crate_dir("pulley-interpreter", wasmtime).map(|d| d.join("src")),
        winch: crate_dir("winch-codegen", wasmtime).map(|d| d.join("src")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dependency_s_version_is_read_whatever_its_operator() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("Cargo.toml");
        std::fs::write(
            &manifest,
            "[package]\nname = \"x\"\n[dependencies]\nplain = \"=1.2.3\"\n\
             [dependencies.cranelift-codegen]\nversion = \"0.138.0\"\nfeatures = [\"unwind\"]\n",
        )
        .unwrap();
        assert_eq!(
            dependency_version(&manifest, "cranelift-codegen").unwrap(),
            "0.138.0"
        );
        assert_eq!(dependency_version(&manifest, "plain").unwrap(), "1.2.3");
        let missing = dependency_version(&manifest, "regalloc2").unwrap_err();
        assert!(missing.to_string().contains("no dependency regalloc2"));
    }

    #[test]
    fn the_linked_release_s_sources_are_found_and_hold_its_rules() {
        // Every build of crosscheck unpacked the linked release's crates.
        let linked = locate(crate::versions::WASMTIME).unwrap();
        assert_eq!(linked.cranelift, env!("CROSSCHECK_CRANELIFT_VERSION"));
        let sources = linked.isle_sources().unwrap();
        assert!(sources.iter().any(|(f, _)| f == "isa/x64/lower.isle"));
        assert!(sources.iter().any(|(f, _)| f == "opts/arithmetic.isle"));
        assert_eq!(
            sources.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
            crate::case::rules::catalog::embedded_sources()
                .iter()
                .map(|(f, _)| *f)
                .collect::<Vec<_>>(),
        );
        assert!(linked.roots_of(Pass::AliasAnalysis)[0].1.is_file());
        assert!(locate("0.0.1").is_err());
    }
}
