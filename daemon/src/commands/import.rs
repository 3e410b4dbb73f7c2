//! `crosscheck import PATH...`: libFuzzer artifacts (inputs of the
//! `differential` fuzz target) and plain `.wasm`/`.wat` modules into the
//! store as findings, run, deduplicated, triaged and shrunk exactly like
//! the daemon's.

use crate::config::Config;
use crate::process::probe::Prober;
use crate::store::{Hit, Store};
use crate::triage::one_finding::triage;
use anyhow::{bail, Context, Result};
use clap::Args;
use oracles::case::generate::{fuzz_input_seed, generate_from_fuzz_input};
use oracles::case::module_file::{module_from_bytes, read_regular_file, MAX_MODULE_BYTES};
use oracles::ModuleInfo;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

/// Arguments of `crosscheck import`.
#[derive(Args)]
pub struct ImportArgs {
    /// Files, or directories of files (a libFuzzer `artifacts/differential`
    /// directory, say). A file with a `\0asm` header or `.wat` text is a
    /// module; anything else is an input of the `differential` fuzz target,
    /// turned into its module as the target does.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Record only; leave re-running and shrinking to the daemon's
    /// background triage or `crosscheck shrink`.
    #[arg(long)]
    no_shrink: bool,
}

/// A hit one file's case recorded.
struct Imported {
    /// The finding.
    id: i64,
    /// Whether the hit created it.
    new: bool,
    /// Whether a suppression rule covers it.
    suppressed: bool,
}

/// Runs the command. Exit status 0 when every file was imported (whether or
/// not it is a finding), 2 when some could not be.
pub fn run(config: &Config, args: ImportArgs) -> Result<ExitCode> {
    let (files, bad) = files_in(&args.paths);
    for err in &bad {
        eprintln!("error: {err:#}");
    }
    let mut store = Store::open(&config.store)?;
    let mut prober = Prober::new(config);
    let (mut new, mut hits, mut clean, mut failed) = (Vec::new(), 0, 0, bad.len());
    for file in &files {
        match import_one(config, &mut store, &mut prober, file) {
            Ok(recorded) if recorded.is_empty() => {
                clean += 1;
                println!(
                    "{}: no finding (the engines agree or the case is undecided)",
                    file.display()
                );
            }
            Ok(recorded) => {
                for Imported {
                    id,
                    new: created,
                    suppressed,
                } in recorded
                {
                    let f = store.require_finding(id)?;
                    if created {
                        let how = if suppressed { "suppressed" } else { "new" };
                        println!("{}: {how} finding {id}: {}", file.display(), f.signature);
                        if !suppressed {
                            new.push(f);
                        }
                    } else {
                        hits += 1;
                        println!(
                            "{}: finding {id} again ({} hits): {}",
                            file.display(),
                            f.hits,
                            f.signature
                        );
                    }
                }
            }
            Err(err) => {
                failed += 1;
                eprintln!("error: {err:#}");
            }
        }
    }
    if !args.no_shrink {
        shrink_new(config, &mut store, &mut prober, &new)?;
    }
    println!(
        "\n{} file(s): {} new finding(s), {hits} hit(s) of known ones, {clean} without a finding, {failed} not imported",
        files.len(),
        new.len()
    );
    for err in &bad {
        println!("not imported: {err:#}");
    }
    Ok(if failed > 0 {
        ExitCode::from(super::EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

/// Triages and shrinks the findings the import created.
fn shrink_new(
    config: &Config,
    store: &mut Store,
    prober: &mut Prober,
    new: &[crate::store::StoredFinding],
) -> Result<()> {
    for finding in new {
        let triaged = triage(
            config,
            store,
            prober,
            finding,
            config.library.triage.shrink_attempts,
            &AtomicBool::new(false),
            |_| {},
        )?;
        match (&triaged.shrunk, triaged.merge) {
            (Some(_), Some((merged, into))) => println!(
                "finding {}: shrunk; finding {merged} merged into finding {into} (same code and suspect)",
                finding.id
            ),
            (Some(shrunk), None) => println!(
                "finding {}: shrunk {} -> {} bytes",
                finding.id,
                shrunk.original_size,
                shrunk.wasm.len()
            ),
            (None, _) => println!(
                "finding {}: reproduced {} of {} times (flaky); not shrunk",
                finding.id, triaged.reproduced, triaged.runs
            ),
        }
    }
    Ok(())
}

/// The files named, directories expanded one level (sorted), hidden
/// files skipped; and, apart, each path that cannot be imported with why
/// (missing, unreadable, an empty directory), so that the rest still is.
fn files_in(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<anyhow::Error>) {
    let mut files = Vec::new();
    let mut bad = Vec::new();
    for path in paths {
        match files_of(path) {
            Ok(found) => files.extend(found),
            Err(e) => bad.push(e),
        }
    }
    (files, bad)
}

/// The files one named path stands for.
fn files_of(path: &Path) -> Result<Vec<PathBuf>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut entries = std::fs::read_dir(path)
        .with_context(|| format!("cannot list {}", path.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("cannot list {}", path.display()))?;
    entries.retain(|p| {
        p.is_file()
            && !p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
    });
    if entries.is_empty() {
        bail!(
            "{} holds no file to import (an empty directory, or only hidden files)",
            path.display()
        );
    }
    entries.sort();
    Ok(entries)
}

/// The module a file holds: a module as is, a fuzz input turned into its
/// module; a file named `.wasm` that is not a module, or an empty file, is
/// refused as such rather than run as a fuzz input.
fn module_of_file(config: &Config, file: &Path, bytes: &[u8]) -> Result<(Vec<u8>, &'static str)> {
    if bytes.is_empty() {
        bail!("{} is empty: not a WebAssembly module", file.display());
    }
    if let Some(module) = module_from_bytes(file, bytes) {
        return Ok((module?, "module"));
    }
    if file.extension().is_some_and(|e| e == "wasm") {
        bail!(
            "{} is not a valid WebAssembly module (no \\0asm header)",
            file.display()
        );
    }
    let module = generate_from_fuzz_input(bytes, &config.library.generator).with_context(|| {
        format!(
            "{}: not a module, and no module can be generated from it as a fuzz input",
            file.display()
        )
    })?;
    Ok((module.wasm, "fuzz input"))
}

/// Runs one file's case in a worker process and records every finding it
/// gives (`oracles::pipeline::findings::of_case_rerunning_suspects`, or
/// the worker's death).
fn import_one(
    config: &Config,
    store: &mut Store,
    prober: &mut Prober<'_>,
    file: &Path,
) -> Result<Vec<Imported>> {
    let bytes = read_regular_file(file, MAX_MODULE_BYTES)?;
    // The file's hash draws the call arguments, so importing it twice
    // counts one hit, and `crosscheck check FILE --seed N` replays it.
    let seed = fuzz_input_seed(&bytes);
    let (wasm, what) = module_of_file(config, file, &bytes)?;
    let info = ModuleInfo::parse(&wasm)
        .with_context(|| format!("{} is not a valid WebAssembly module", file.display()))?;
    oracles::case::imports::link(&info.imports, seed)
        .map_err(|why| anyhow::anyhow!("{} cannot be run: {why}", file.display()))?;
    let found = prober
        .findings(&wasm, seed)
        .with_context(|| format!("running {}", file.display()))?;
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let source = format!("imported {what} {name}");
    let mut recorded = Vec::new();
    for finding in &found {
        let hit = Hit {
            source: Some(&source),
            ..Hit::of_finding(finding, &config.library.triage, Some(seed), &wasm)
        };
        let stored = store.record(&hit)?;
        recorded.push(Imported {
            id: stored.id,
            new: stored.new,
            suppressed: hit.suppressed,
        });
    }
    Ok(recorded)
}
