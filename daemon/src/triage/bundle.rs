//! A finding's reproduction bundle: one directory with everything needed to
//! understand and reproduce it away from the store: the original and shrunk
//! modules as `.wasm` and `.wat`, `finding.json` (seed, engine settings,
//! crate versions, expected and actual outcome, commands), `report.md`
//! (ready for an upstream issue), `repro.sh`, and the configuration used.

use crate::config::Config;
use crate::store::{Store, StoredFinding};
use crate::triage::{command_line, inert};
use anyhow::{Context, Result};
use oracles::engine::id::releases_named_in;
use oracles::engine::other_release::build_of;
use oracles::engine::WasmtimeVariant;
use serde_json::json;
use std::fmt::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Longest WAT put into a report, in lines; the module file has the rest.
const WAT_LINES: usize = 150;

/// The module a report is about: the shrunk one when there is one.
pub struct ReportModule {
    /// Its bytes.
    pub wasm: Vec<u8>,
    /// Where the store keeps it.
    pub path: PathBuf,
    /// The original's size when this one is shrunk.
    pub shrunk_from: Option<usize>,
    /// The Cranelift rule the original module aimed at, if it came from
    /// rule-guided generation (shrinking may drop the custom section that
    /// records it, so it is read from the original).
    pub rule: Option<oracles::case::rules::RuleTarget>,
    /// The pass shape the original module aimed at, if it came from
    /// pass-aimed generation (read from the original, like `rule`).
    pub shape: Option<oracles::case::passes::PassShape>,
    /// Its group's trigger in words (`group N: ... trigger: ...`), once
    /// triaged.
    pub trigger: Option<String>,
    /// Its newest bisection across Wasmtime releases (`crosscheck bisect`).
    pub bisection: Option<crate::store::StoredBisection>,
}

impl ReportModule {
    /// The finding's shrunk module if it has one, else its original.
    pub fn of(store: &Store, f: &StoredFinding) -> Result<ReportModule> {
        let original = store.read_artifact(&f.artifact)?;
        ReportModule::with_original(store, f, original)
    }

    /// Like [`ReportModule::of`], with the original module already read.
    fn with_original(store: &Store, f: &StoredFinding, original: Vec<u8>) -> Result<ReportModule> {
        let rule = aimed_rule(&original);
        let shape = aimed_shape(&original);
        let trigger = match f.group {
            Some(group) => store.group(group)?.map(|g| g.describe()),
            None => None,
        };
        let bisection = store.bisection(f.id)?;
        match &f.shrunk {
            Some(hash) => {
                let path = store.artifact_path(hash);
                Ok(ReportModule {
                    wasm: store.read_artifact(hash)?,
                    path,
                    shrunk_from: Some(original.len()),
                    rule,
                    shape,
                    trigger,
                    bisection,
                })
            }
            None => Ok(ReportModule {
                wasm: original,
                path: store.artifact_path(&f.artifact),
                shrunk_from: None,
                rule,
                shape,
                trigger,
                bisection,
            }),
        }
    }
}

/// The rule a module from rule-guided generation aimed at (its custom
/// section), if any.
pub fn aimed_rule(wasm: &[u8]) -> Option<oracles::case::rules::RuleTarget> {
    oracles::ModuleInfo::parse(wasm).ok()?.rule_target
}

/// The pass shape a module from pass-aimed generation aimed at (its
/// custom section), if any.
pub fn aimed_shape(wasm: &[u8]) -> Option<oracles::case::passes::PassShape> {
    oracles::case::passes::shape_of(wasm)
}

/// The line naming an aimed pass shape and the pass it aims at.
pub fn shape_line(shape: oracles::case::passes::PassShape) -> String {
    format!("aimed at {} (pass shape {})", shape.aims_at(), shape.name())
}

/// The lines naming an aimed rule: where it is and its text.
pub fn rule_lines(rule: &oracles::case::rules::RuleTarget) -> String {
    format!(
        "aimed at Cranelift rule {} (cranelift-codegen {}):\n{}",
        rule.id,
        rule.cranelift,
        rule.text.trim_end()
    )
}

/// The directory `crosscheck bundle` and the background triage write a
/// finding's bundle to by default.
pub fn default_dir(config: &Config, id: i64) -> PathBuf {
    config
        .store
        .data_dir
        .join("bundles")
        .join(format!("finding-{id}"))
}

/// Writes the finding's bundle into `dir`, whole or not at all: the files
/// are written into a private directory beside it, which then takes its
/// place (an earlier bundle there, or an empty directory, is replaced).
pub fn write(config: &Config, store: &Store, f: &StoredFinding, dir: &Path) -> Result<()> {
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = oracles::temp::private_dir_in(parent, ".bundle-")?;
    write_files(config, store, f, staging.path())?;
    // A bundle is meant to be handed on: readable like any directory.
    std::fs::set_permissions(staging.path(), std::fs::Permissions::from_mode(0o755))?;
    make_room(dir)?;
    let staged = staging.keep();
    std::fs::rename(&staged, dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        anyhow::Error::new(e).context(format!("cannot move the bundle into {}", dir.display()))
    })
}

/// Removes what stands at `dir` if it is an empty directory or an earlier
/// bundle; anything else is refused.
fn make_room(dir: &Path) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return Ok(());
    };
    if !meta.is_dir() {
        anyhow::bail!("{} exists and is not a directory", dir.display());
    }
    if std::fs::remove_dir(dir).is_ok() {
        return Ok(());
    }
    if dir.join("finding.json").is_file() && dir.join("repro.sh").is_file() {
        return std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot replace the bundle in {}", dir.display()));
    }
    anyhow::bail!(
        "{} holds files that are not a bundle: refused",
        dir.display()
    )
}

/// The bundle's files, into `dir`.
fn write_files(config: &Config, store: &Store, f: &StoredFinding, dir: &Path) -> Result<()> {
    let put = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    };
    let original = store.read_artifact(&f.artifact)?;
    put("original.wasm", &original)?;
    put("original.wat", wat_of(&original).as_bytes())?;
    let module = ReportModule::with_original(store, f, original)?;
    let file = if module.shrunk_from.is_some() {
        put("shrunk.wasm", &module.wasm)?;
        put("shrunk.wat", wat_of(&module.wasm).as_bytes())?;
        "shrunk.wasm"
    } else {
        "original.wasm"
    };
    put("report.md", markdown(config, f, &module, file)?.as_bytes())?;
    let description = describe(config, store, f, file, &module.wasm)?;
    put(
        "finding.json",
        serde_json::to_string_pretty(&description)?.as_bytes(),
    )?;
    put(
        "repro.sh",
        repro_script(config, f, file, &module.wasm).as_bytes(),
    )?;
    set_executable(&dir.join("repro.sh"))?;
    put("config.toml", config.shareable_text().as_bytes())?;
    Ok(())
}

/// What a breach's report says first: a possible sandbox escape goes to
/// the engine's private security contact, not to a public issue tracker.
pub const SECURITY_NOTICE: &str = "> **Do not file this as a public issue.** This finding is a possible sandbox escape: compiled code touched memory outside its linear memory. Report it privately, following Wasmtime's security policy (https://github.com/bytecodealliance/wasmtime/security/policy, which points to https://bytecodealliance.org/security), or the policy of the engine under test.\n";

/// The finding as Markdown for an upstream issue (for a breach, for the
/// private security report); `file` is the name the
/// module goes by in the commands.
pub fn markdown(
    config: &Config,
    f: &StoredFinding,
    module: &ReportModule,
    file: &str,
) -> Result<String> {
    let mut out = String::new();
    markdown_heading(&mut out, f, module)?;
    markdown_what_happens(&mut out, f, module)?;
    markdown_module(&mut out, f, module, file)?;
    markdown_reproduction(&mut out, config, f, module, file)?;
    Ok(out)
}

/// The notice of a breach, the title, who is blamed, and the versions.
fn markdown_heading(out: &mut String, f: &StoredFinding, module: &ReportModule) -> Result<()> {
    if f.kind == oracles::judge::kind::FindingKind::Breach {
        writeln!(out, "{SECURITY_NOTICE}")?;
    }
    writeln!(
        out,
        "### {}: {}\n",
        f.kind,
        inert::markdown_text(&f.signature)
    )?;
    if let Some(suspect) = &f.suspect {
        writeln!(out, "**Attribution:** {}.\n", inert::markdown_text(suspect))?;
    }
    if let Some(trigger) = &module.trigger {
        writeln!(out, "**Trigger:** {}.\n", inert::markdown_text(trigger))?;
    }
    if let Some(bisection) = &module.bisection {
        writeln!(
            out,
            "**Releases:** {} (bisected over Wasmtime {}).\n",
            bisection.answer, bisection.range
        )?;
    }
    writeln!(
        out,
        "Found by differential fuzzing with crosscheck {} against the wasmi interpreter ({} hit(s); seed {}).\n",
        env!("CARGO_PKG_VERSION"),
        f.hits,
        f.first_seed.map_or("-".into(), |s| s.to_string())
    )?;
    writeln!(out, "| crate | version |\n|---|---|")?;
    writeln!(out, "| wasmtime | {} |", oracles::versions::WASMTIME)?;
    for (major, version) in reference_releases(f) {
        writeln!(out, "| wasmtime (engines `@{major}`) | {version} |")?;
    }
    writeln!(out, "| wasmi | {} |", oracles::versions::WASMI)?;
    writeln!(out, "| wasm-smith | {} |\n", oracles::versions::WASM_SMITH)?;
    Ok(())
}

/// The summary, and the rule, pass shape or settings that explain it.
fn markdown_what_happens(out: &mut String, f: &StoredFinding, module: &ReportModule) -> Result<()> {
    writeln!(
        out,
        "#### What happens\n\n{}",
        inert::fenced("text", &f.summary)
    )?;
    if let Some(rule) = &module.rule {
        writeln!(
            out,
            "#### The rule it aimed at\n\nThe module was generated to exercise Cranelift rule `{}` of cranelift-codegen {}:\n\n{}",
            rule.id,
            rule.cranelift,
            inert::fenced("lisp", &rule.text)
        )?;
    }
    if let Some(shape) = &module.shape {
        writeln!(
            out,
            "#### The pass it aimed at\n\nThe module was generated in the shape `{}`, for {}.\n",
            shape.name(),
            shape.aims_at()
        )?;
    }
    if let Some(flips) = f.flips.as_deref().filter(|f| !f.is_empty()) {
        writeln!(
            out,
            "#### One setting changed\n\nThe shrunk module run again with one setting of the suspected engine changed, against the other side:\n"
        )?;
        for line in flips.lines() {
            writeln!(out, "- {}", inert::markdown_text(line))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The module as text, cut after [`WAT_LINES`] lines.
fn markdown_module(
    out: &mut String,
    f: &StoredFinding,
    module: &ReportModule,
    file: &str,
) -> Result<()> {
    writeln!(
        out,
        "#### The module\n\n`{file}`: {} bytes{} (sha256 of the original: `{}`).\n",
        module.wasm.len(),
        module
            .shrunk_from
            .map_or(String::new(), |size| format!(", shrunk from {size} bytes")),
        f.artifact
    )?;
    let wat = wat_of(&module.wasm);
    let lines: Vec<&str> = wat.lines().collect();
    let mut shown = String::new();
    for line in lines.iter().take(WAT_LINES) {
        writeln!(shown, "{line}")?;
    }
    if lines.len() > WAT_LINES {
        writeln!(
            shown,
            ";; ... {} more lines in {file}",
            lines.len() - WAT_LINES
        )?;
    }
    writeln!(out, "{}", inert::fenced("wat", &shown))?;
    Ok(())
}

/// The commands that reproduce it, and the engines' settings.
fn markdown_reproduction(
    out: &mut String,
    config: &Config,
    f: &StoredFinding,
    module: &ReportModule,
    file: &str,
) -> Result<()> {
    let mut commands = String::new();
    if let Some(note) = linked_note(f, &module.wasm) {
        writeln!(commands, "{note}")?;
    }
    for (engine, command) in wasmtime_commands(config, f, file, &module.wasm) {
        writeln!(commands, "# {engine}\n{command}")?;
    }
    writeln!(
        commands,
        "# all engines, compared\n{}",
        check_command(f, file)
    )?;
    writeln!(
        out,
        "#### Reproduction\n\n{}",
        inert::fenced("sh", &commands)
    )?;
    writeln!(out, "Engine settings:\n")?;
    for (name, settings) in engine_settings(config)? {
        writeln!(out, "- `{name}`: {settings}")?;
    }
    Ok(())
}

/// `finding.json`: the finding's record with the context a reader needs.
fn describe(
    config: &Config,
    store: &Store,
    f: &StoredFinding,
    file: &str,
    wasm: &[u8],
) -> Result<serde_json::Value> {
    let original = store.read_artifact(&f.artifact).unwrap_or_default();
    let merged: Vec<_> = store
        .merged_from(f.id)?
        .into_iter()
        .map(|m| json!({"id": m.id, "signature": m.signature, "hits": m.hits}))
        .collect();
    let engines: Vec<_> = engine_settings(config)?
        .into_iter()
        .map(|(name, settings)| json!({"name": name, "settings": settings}))
        .collect();
    Ok(json!({
        "id": f.id,
        "signature": f.signature,
        "kind": f.kind,
        "status": f.status,
        "hits": f.hits,
        "first_seen": f.first_seen,
        "last_seen": f.last_seen,
        "seed": f.first_seed,
        "source": f.source,
        "suspect": f.suspect,
        "reproducible": f.reproducible,
        "config_flips": f.flips.as_deref().map(|text| text.lines().collect::<Vec<_>>()),
        "merged_into": f.merged_into,
        "group": f.group,
        "trigger": f.fingerprint.as_deref().and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok()),
        "aimed_rule": aimed_rule(&original).map(|r| json!({"id": r.id, "cranelift": r.cranelift, "text": r.text})),
        "aimed_pass_shape": aimed_shape(&original).map(|shape| json!({"shape": shape.name(), "pass": shape.aims_at()})),
        "also_seen_as": merged,
        "module": file,
        "shrunk_size": f.shrunk_size,
        "versions": versions_json(f),
        "engines": engines,
        "outcome": outcome_json(config, f),
        "commands": {
            "repro": format!("crosscheck repro {}", f.id),
            "report": format!("crosscheck report {}", f.id),
            "check": check_command(f, file),
            "wasmtime": wasmtime_commands(config, f, file, wasm)
                .into_iter()
                .map(|(engine, command)| json!({"engine": engine, "command": command}))
                .collect::<Vec<_>>(),
        },
    }))
}

/// What the oracle's side observed against the others; for a crash,
/// hang or oom, which no side observed, what happened.
fn outcome_json(config: &Config, f: &StoredFinding) -> serde_json::Value {
    let groups = outcome_groups(&f.summary);
    let oracle = config.library.matrix.oracle.as_str();
    let (expected, actual): (Vec<_>, Vec<_>) = groups
        .iter()
        .partition(|(engines, _)| engines.iter().any(|e| e == oracle));
    let side = |sides: Vec<&(Vec<String>, String)>| {
        sides
            .into_iter()
            .map(|(engines, observed)| json!({"engines": engines, "observed": observed}))
            .collect::<Vec<_>>()
    };
    if groups.is_empty() {
        // A crash, hang or oom: no side observed anything to compare.
        json!({
            "summary": f.summary,
            "expected": "the case runs to completion on every engine",
            "actual": f.summary.lines().next().unwrap_or_default(),
        })
    } else {
        json!({
            "summary": f.summary,
            "expected": side(expected),
            "actual": side(actual),
        })
    }
}

/// The versions of everything that ran the case.
fn versions_json(f: &StoredFinding) -> serde_json::Value {
    json!({
        "crosscheck": env!("CARGO_PKG_VERSION"),
        "wasmtime": oracles::versions::WASMTIME,
        "wasmi": oracles::versions::WASMI,
        "wasm-smith": oracles::versions::WASM_SMITH,
        "wasmtime_other_releases": reference_releases(f)
            .into_iter()
            .map(|(major, version)| (format!("@{major}"), version))
            .collect::<std::collections::BTreeMap<_, _>>(),
    })
}

/// `repro.sh`: the commands, runnable from the bundle directory.
fn repro_script(config: &Config, f: &StoredFinding, file: &str, wasm: &[u8]) -> String {
    let mut out = String::from("#!/bin/sh\n");
    let _ = writeln!(
        out,
        "# Finding {}: {}\n# Every engine, compared (exit status 1: the finding reproduces).\n# CROSSCHECK names the binary if it is not on PATH.\ncd \"$(dirname \"$0\")\"\n\"${{CROSSCHECK:-crosscheck}}\" --config config.toml {}\n",
        f.id,
        inert::one_line(&f.signature),
        check_command(f, file).trim_start_matches("crosscheck ")
    );
    match linked_note(f, wasm) {
        Some(note) => {
            let _ = writeln!(out, "{note}");
        }
        None => {
            let _ = writeln!(out, "# The same module on one Wasmtime variant at a time:");
        }
    }
    for (engine, command) in wasmtime_commands(config, f, file, wasm) {
        let _ = writeln!(out, "# {engine}\n{}", command_line::commented(&command));
    }
    out
}

/// `crosscheck check` on the bundle's module with the finding's arguments.
fn check_command(f: &StoredFinding, file: &str) -> String {
    format!(
        "crosscheck check {file} --seed {}",
        f.first_seed.unwrap_or(0)
    )
}

/// For a module with imports, what crosscheck linked for them, as shell
/// comments: no `wasmtime run` line can link them, so only `crosscheck
/// check` reproduces the finding.
fn linked_note(f: &StoredFinding, wasm: &[u8]) -> Option<String> {
    let info = oracles::ModuleInfo::parse(wasm).ok()?;
    let linked = oracles::case::imports::link(&info.imports, f.first_seed.unwrap_or(0)).ok()?;
    if linked.is_empty() {
        return None;
    }
    let mut note = String::from(
        "# The module imports; `wasmtime run` cannot link what crosscheck links for them:",
    );
    for item in linked {
        note.push_str(&format!("\n#   {}", inert::one_line(&item.to_string())));
    }
    Some(note)
}

/// The `wasmtime run` line of every Wasmtime variant of the matrix, on
/// `file`, whose bytes are `wasm`: every word quoted for the shell from the
/// raw export name (see [`command_line`]); none for a module with imports,
/// which `wasmtime run` cannot link as crosscheck does.
pub fn wasmtime_commands(
    config: &Config,
    f: &StoredFinding,
    file: &str,
    wasm: &[u8],
) -> Vec<(String, String)> {
    if linked_note(f, wasm).is_some() {
        return Vec::new();
    }
    let functions: Vec<String> = oracles::ModuleInfo::parse(wasm)
        .map(|info| {
            info.names_of(|kind| {
                matches!(kind, oracles::case::module_info::ExportKind::Func { .. })
            })
        })
        .unwrap_or_default();
    let call = match invoked_call(&f.summary, &functions) {
        Some((export, args)) => {
            let words: Option<Vec<String>> = std::iter::once(export.as_str())
                .chain(std::iter::once(file))
                .chain(args.iter().map(String::as_str))
                .map(command_line::quoted)
                .collect();
            match words {
                Some(words) => format!(" --invoke={}", words.join(" ")),
                None => return Vec::new(),
            }
        }
        None => match command_line::quoted(file) {
            Some(file) => format!(" {file}"),
            None => return Vec::new(),
        },
    };
    let engines = &config.library.matrix.engines;
    let taken: Vec<&str> = std::iter::once(config.library.matrix.oracle.as_str())
        .chain(engines.iter().map(String::as_str))
        .collect();
    let seed = f.first_seed.unwrap_or(0);
    engines
        .iter()
        .filter_map(|name| {
            // The swarm's line is that of the engine it draws for the
            // finding's seed.
            let (label, variant) = if name == oracles::engine::swarm::SWARM {
                let drawn = oracles::engine::swarm::draw_avoiding(seed, &taken, wasm)?;
                (
                    format!("{name}, drawn for seed {seed}: {}", drawn.name()),
                    drawn,
                )
            } else {
                (name.clone(), WasmtimeVariant::parse(name)?)
            };
            let command = format!(
                "wasmtime run {}{call}",
                variant.cli_flags(&config.library.execution)
            );
            Some((label, command.trim_end().to_string()))
        })
        .collect()
}

/// Every engine of the matrix with its settings in words.
fn engine_settings(config: &Config) -> Result<Vec<(String, String)>> {
    Ok(config
        .library
        .matrix()?
        .engines()
        .iter()
        .map(|engine| (engine.name().to_string(), engine.settings()))
        .collect())
}

/// The module as WAT, or why it cannot be printed.
pub fn wat_of(wasm: &[u8]) -> String {
    wasmprinter::print_bytes(wasm).unwrap_or_else(|e| format!(";; not printable: {e}\n"))
}

/// The sides of a mismatch from its verdict text: lines
/// `  {wasmi, cranelift-tail-signals}: trap integer-division-by-zero`.
fn outcome_groups(summary: &str) -> Vec<(Vec<String>, String)> {
    summary
        .lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix('{')?;
            let (engines, observed) = rest.split_once("}: ")?;
            Some((
                engines.split(", ").map(str::to_string).collect(),
                observed.to_string(),
            ))
        })
        .collect()
}

/// The export and the arguments of a call mismatch, from the verdict text
/// `MISMATCH at call #0 "f"(i32:3, i32:5)`, as `wasmtime run` takes them.
/// The text shows the name escaped; the raw name is the export among
/// `exports` whose escaped form it is, so that no unescaping is guessed.
fn invoked_call(summary: &str, exports: &[String]) -> Option<(String, Vec<String>)> {
    let rest = summary.lines().next()?.strip_prefix("MISMATCH at call #")?;
    let (_, rest) = rest.split_once(' ')?;
    let named = exports
        .iter()
        .find_map(|name| Some((name, rest.strip_prefix(&format!("{name:?}("))?)));
    let (export, args) = match (named, exports) {
        (Some(found), _) => found,
        // Reduction renames exports (to ""): a shrunk module's one
        // function is the one the original's call was made on.
        (None, [only]) => (only, rest.split_once("\"(")?.1),
        (None, _) => return None,
    };
    let args = args.strip_suffix(')')?;
    let plain = args
        .split(", ")
        .filter(|a| !a.is_empty())
        // `f32:1.5 (0x3fc00000)` -> `1.5`
        .map(|a| a.split_once(':').map_or(a, |(_, v)| v))
        .map(|v| v.split_whitespace().next().unwrap_or(v).to_string())
        .collect();
    Some((export.clone(), plain))
}

fn set_executable(path: &Path) -> Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

/// The other Wasmtime releases the finding's engines ran on (`NAME@MAJOR`)
/// and their exact versions, from the builds cache (the major alone when
/// the build is gone).
fn reference_releases(f: &crate::store::StoredFinding) -> Vec<(u64, String)> {
    releases_named_in(&format!("{} {}", f.signature, f.summary))
        .into_iter()
        .map(|major| {
            let version = build_of(major).map_or_else(|_| major.to_string(), |(_, v)| v);
            (major, version)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_of_a_mismatch_becomes_invoke_arguments() {
        let exports = ["f".to_string(), "g".to_string(), "a\"b\n".to_string()];
        let words = |v: &[&str]| v.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(
            invoked_call(
                "MISMATCH at call #3 \"f\"(i32:3, i64:-5, f32:1.5 (0x3fc00000))\n  {wasmi}: ...",
                &exports
            ),
            Some(("f".into(), words(&["3", "-5", "1.5"])))
        );
        assert_eq!(
            invoked_call("MISMATCH at call #0 \"g\"()\n", &exports),
            Some(("g".into(), Vec::new()))
        );
        // The escaped name in the text is the raw name of an export.
        assert_eq!(
            invoked_call("MISMATCH at call #0 \"a\\\"b\\n\"()\n", &exports),
            Some(("a\"b\n".into(), Vec::new()))
        );
        assert_eq!(
            invoked_call("MISMATCH at call #0 \"h\"()\n", &exports),
            None
        );
        assert_eq!(invoked_call("MISMATCH at memory \"0\"\n", &exports), None);
        assert_eq!(invoked_call("CRASH in wasmi\n", &exports), None);
    }

    #[test]
    fn the_sides_of_a_mismatch_are_read_from_its_verdict_text() {
        let summary = "MISMATCH at call #0 \"f\"()\n  {wasmi, cranelift-tail-signals}: trap integer-division-by-zero\n  {wasmi-fault-i64-mul}: [i32:0]\n";
        assert_eq!(
            outcome_groups(summary),
            vec![
                (
                    vec!["wasmi".to_string(), "cranelift-tail-signals".to_string()],
                    "trap integer-division-by-zero".to_string()
                ),
                (
                    vec!["wasmi-fault-i64-mul".to_string()],
                    "[i32:0]".to_string()
                ),
            ]
        );
        assert!(outcome_groups("CRASH in wasmi (seed 3)\n  SIGSEGV\n").is_empty());
    }
}
