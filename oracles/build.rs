//! Records the versions of the engines and the generator that Cargo.lock
//! pins, for reports and reproduction bundles; tells `engine/wasmtime.rs`
//! which API the linked Wasmtime release has (cfgs named after what a
//! release added, see [`WASMTIME_API`]); and embeds the ISLE rules of the
//! Cranelift that Wasmtime links, for rule-guided generation
//! (`oracles::case::rules`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let lock = manifest_dir.join("..").join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let packages: Vec<toml::Value> = std::fs::read_to_string(&lock)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| table.get("package")?.as_array().cloned())
        .unwrap_or_default();
    let mut wasmtime_version = None;
    for (krate, var) in [
        ("wasmtime", "CROSSCHECK_WASMTIME_VERSION"),
        ("wasmi", "CROSSCHECK_WASMI_VERSION"),
        ("wasm-smith", "CROSSCHECK_WASM_SMITH_VERSION"),
        ("cranelift-codegen", "CROSSCHECK_CRANELIFT_VERSION"),
    ] {
        let version = packages
            .iter()
            .find(|p| p.get("name").and_then(|n| n.as_str()) == Some(krate))
            .and_then(|p| p.get("version")?.as_str())
            .unwrap_or("unknown");
        println!("cargo:rustc-env={var}={version}");
        if krate == "wasmtime" {
            wasmtime_version = Some(version.to_string());
        }
    }
    wasmtime_api_cfgs(wasmtime_version.as_deref().unwrap_or("unknown"));
    embed_isle_rules(&manifest_dir);
}

/// What Wasmtime's public API gained after the oldest supported release
/// (36.0), as `(cfg, first major release that has it)`.
const WASMTIME_API: &[(&str, u64)] = &[
    // `RegallocAlgorithm::SinglePass` (the `+single-pass` variants).
    ("wasmtime_single_pass_regalloc", 37),
    // `VariableOperatorCost`, fuel charged per byte or element of bulk
    // operations: before 48, fuel had flat per-operator costs only
    // (`Config::operator_cost` exists from 43 on, flat).
    ("wasmtime_variable_operator_cost", 48),
    // `Config::compiler_inlining` takes an `Inlining` (before 45, a bool).
    ("wasmtime_inlining_enum", 45),
];

/// Sets the cfgs of [`WASMTIME_API`] for the linked release. An unknown
/// version (no Cargo.lock beside the workspace) is taken as the newest.
fn wasmtime_api_cfgs(version: &str) {
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    if major < 36 {
        println!(
            "cargo:warning=Wasmtime {version} is older than the oldest release crosscheck supports (36.0)"
        );
    }
    for (cfg, since) in WASMTIME_API {
        println!("cargo:rustc-check-cfg=cfg({cfg})");
        if major >= *since {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}

/// The environment variable that lets a build go on without the ISLE
/// sources, rule-guided generation off.
const WITHOUT_RULES: &str = "CROSSCHECK_WITHOUT_RULES";

/// The rule files rule-guided generation aims at, relative to
/// cranelift-codegen's `src/`: the mid-end's simplifications and the x64
/// lowering.
const RULE_FILES: [&str; 2] = ["opts", "isa/x64/lower.isle"];

/// Writes `isle_rules.rs` into OUT_DIR: the ISLE sources of the
/// cranelift-codegen package in this build's dependency graph (so they
/// follow the linked Wasmtime), each checked with cranelift-isle's parser.
/// When they cannot be found or parsed, the build warns and the file says
/// why; rule-guided generation is then off and says so at run time.
fn embed_isle_rules(manifest_dir: &Path) {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("isle_rules.rs");
    println!("cargo:rerun-if-env-changed={WITHOUT_RULES}");
    println!("cargo:rerun-if-env-changed=CARGO_HOME");
    let (files, problem) = match isle_sources(manifest_dir) {
        Ok(files) => (files, None),
        // Off only when asked for: a build that silently lacks the mode
        // that finds Cranelift's rule bugs is worse than no build.
        Err(problem) if std::env::var_os(WITHOUT_RULES).is_some_and(|v| v == "1") => {
            println!("cargo:warning=rule-guided generation is off ({WITHOUT_RULES}=1): {problem}");
            (Vec::new(), Some(problem))
        }
        Err(problem) => panic!(
            "rule-guided generation cannot be built: {problem}\n\
             Build with {WITHOUT_RULES}=1 to do without it (then set [generator.rules] share = 0)."
        ),
    };
    let mut text = String::from("/// The embedded ISLE sources: (path under cranelift-codegen's src/, text).\npub const SOURCES: &[(&str, &str)] = &[\n");
    for (relative, absolute) in &files {
        println!("cargo:rerun-if-changed={}", absolute.display());
        writeln!(
            text,
            "    ({relative:?}, include_str!({:?})),",
            absolute.display().to_string()
        )
        .unwrap();
    }
    text.push_str(
        "];\n/// Why there are no sources, if there are none.\npub const PROBLEM: Option<&str> = ",
    );
    match problem {
        Some(problem) => writeln!(text, "Some({problem:?});").unwrap(),
        None => text.push_str("None;\n"),
    }
    std::fs::write(&out, text).expect("writing isle_rules.rs");
}

/// `(path relative to src/, absolute path)` of every rule file, sorted.
fn isle_sources(manifest_dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let src = cranelift_codegen_src(manifest_dir)?;
    let mut files = Vec::new();
    for entry in RULE_FILES {
        let path = src.join(entry);
        if path.is_dir() {
            let listing = std::fs::read_dir(&path)
                .map_err(|e| format!("cannot list {}: {e}", path.display()))?;
            for file in listing.flatten() {
                let file = file.path();
                if file.extension().is_some_and(|e| e == "isle") {
                    files.push(file);
                }
            }
        } else {
            files.push(path);
        }
    }
    files.sort();
    let mut sources = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let lexer = cranelift_isle::lexer::Lexer::new(0, &text)
            .map_err(|e| format!("cannot lex {}: {e:?}", path.display()))?;
        cranelift_isle::parser::parse(lexer)
            .map_err(|e| format!("cranelift-isle cannot parse {}: {e:?}", path.display()))?;
        let relative = path
            .strip_prefix(&src)
            .expect("listed under src")
            .to_string_lossy()
            .replace('\\', "/");
        sources.push((relative, path));
    }
    if sources.is_empty() {
        return Err(format!("no ISLE files under {}", src.display()));
    }
    Ok(sources)
}

/// The `src/` directory of the cranelift-codegen package that this build
/// compiles: the one Wasmtime's Cranelift integration depends on in
/// Cargo.lock, at its exact version, in the source Cargo has already
/// unpacked for this build (every package of a build is downloaded before
/// any build script runs). Only packages this build compiles are asked
/// for, so a build of one package on an empty registry finds them; a
/// path dependency (a `[patch]` checkout) is asked of `cargo metadata`.
fn cranelift_codegen_src(manifest_dir: &Path) -> Result<PathBuf, String> {
    let lock = manifest_dir.join("..").join("Cargo.lock");
    let text = std::fs::read_to_string(&lock)
        .map_err(|e| format!("cannot read {}: {e}", lock.display()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("{} does not parse: {e}", lock.display()))?;
    let packages: Vec<toml::Table> = table
        .get("package")
        .and_then(|p| p.as_array())
        .map(|all| all.iter().filter_map(|p| p.as_table().cloned()).collect())
        .unwrap_or_default();
    let field =
        |p: &toml::Table, key: &str| p.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let codegens: Vec<&toml::Table> = packages
        .iter()
        .filter(|p| field(p, "name").as_deref() == Some("cranelift-codegen"))
        .collect();
    // The one Wasmtime compiles with, when the lock holds several.
    let wanted = packages
        .iter()
        .filter(|p| {
            matches!(
                field(p, "name").as_deref(),
                Some("wasmtime-internal-cranelift" | "wasmtime-cranelift")
            )
        })
        .flat_map(|p| {
            p.get("dependencies")
                .and_then(|d| d.as_array())
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|d| d.as_str().map(str::to_string))
        .find(|d| d == "cranelift-codegen" || d.starts_with("cranelift-codegen "));
    let codegen = match (codegens.as_slice(), wanted.as_deref()) {
        ([], _) => return Err(format!("cranelift-codegen is not in {}", lock.display())),
        ([one], _) => *one,
        (many, Some(dep)) => {
            let version = dep.split(' ').nth(1).unwrap_or_default();
            many.iter()
                .find(|p| field(p, "version").as_deref() == Some(version))
                .copied()
                .ok_or_else(|| format!("no cranelift-codegen {version} in {}", lock.display()))?
        }
        (_, None) => {
            return Err(
                "several cranelift-codegen versions and no Wasmtime depending on one".into(),
            )
        }
    };
    let version = field(codegen, "version").unwrap_or_default();
    let source = field(codegen, "source").unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let found = if source.starts_with("registry+") || source.starts_with("sparse+") {
        // Every registry's unpacked sources: registry/src/<index>/<name>-<version>.
        subdirectories(&cargo_home.join("registry").join("src"))
            .into_iter()
            .map(|index| index.join(format!("cranelift-codegen-{version}")))
            .find(|dir| dir.join("src").join("opts").is_dir())
    } else if let Some(revision) = source
        .strip_prefix("git+")
        .and_then(|s| s.split_once('#'))
        .map(|(_, rev)| rev.to_string())
    {
        // git/checkouts/<repository>-<hash>/<short revision>/cranelift/codegen.
        subdirectories(&cargo_home.join("git").join("checkouts"))
            .into_iter()
            .flat_map(|repository| subdirectories(&repository))
            .filter(|checkout| {
                checkout
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|short| revision.starts_with(short))
            })
            .map(|checkout| checkout.join("cranelift").join("codegen"))
            .find(|dir| dir.join("src").join("opts").is_dir())
    } else {
        None
    };
    match found {
        Some(dir) => {
            println!(
                "cargo:rerun-if-changed={}",
                dir.join("Cargo.toml").display()
            );
            Ok(dir.join("src"))
        }
        None if source.is_empty() => cranelift_codegen_src_of_path_dependency(manifest_dir),
        None => Err(format!(
            "the sources of cranelift-codegen {version} ({source}) are not unpacked under {}",
            cargo_home.display()
        )),
    }
}

/// The directories in `dir` (none if it cannot be listed).
fn subdirectories(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|listing| {
            listing
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.is_dir())
                .collect()
        })
        .unwrap_or_default()
}

/// A cranelift-codegen that is a path dependency (a `[patch]` of a local
/// Wasmtime checkout): where the workspace's `[patch]` tables point
/// (cranelift-codegen itself, or Wasmtime's crate inside its repository,
/// `crates/wasmtime`, beside `cranelift/codegen`), else where `cargo
/// metadata`, offline, says it is.
fn cranelift_codegen_src_of_path_dependency(manifest_dir: &Path) -> Result<PathBuf, String> {
    let workspace = manifest_dir.join("..");
    let manifest = workspace.join("Cargo.toml");
    println!("cargo:rerun-if-changed={}", manifest.display());
    let patched = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| table.get("patch")?.as_table().cloned())
        .unwrap_or_default();
    for registry in patched.values().filter_map(|r| r.as_table()) {
        let path_of = |name: &str| {
            registry
                .get(name)
                .and_then(|p| p.get("path"))
                .and_then(|p| p.as_str())
                .map(|p| workspace.join(p))
        };
        let candidates = [
            path_of("cranelift-codegen"),
            path_of("wasmtime").map(|crate_dir| crate_dir.join("../../cranelift/codegen")),
        ];
        if let Some(dir) = candidates
            .into_iter()
            .flatten()
            .find(|dir| dir.join("src").join("opts").is_dir())
        {
            return Ok(dir.join("src"));
        }
    }
    cranelift_codegen_src_from_metadata(manifest_dir)
}

/// Where `cargo metadata`, offline, says cranelift-codegen is.
fn cranelift_codegen_src_from_metadata(manifest_dir: &Path) -> Result<PathBuf, String> {
    let target = std::env::var("TARGET").unwrap_or_default();
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(manifest_dir.join("Cargo.toml"))
        .other_options(vec![
            "--offline".to_string(),
            "--filter-platform".to_string(),
            target,
        ])
        .exec()
        .map_err(|e| {
            format!("cranelift-codegen is a path dependency and `cargo metadata` failed: {e}")
        })?;
    let package = metadata
        .packages
        .iter()
        .find(|p| p.name.as_str() == "cranelift-codegen")
        .ok_or("cranelift-codegen is not in the dependency graph")?;
    let src = package
        .manifest_path
        .parent()
        .ok_or("cranelift-codegen's manifest has no directory")?
        .join("src");
    if !src.join("opts").is_dir() {
        return Err(format!(
            "cranelift-codegen {} at {src} ships no ISLE sources (src/opts)",
            package.version
        ));
    }
    Ok(src.into_std_path_buf())
}
