//! `crosscheck bisect ID --versions A..B`: which published Wasmtime release
//! first shows a finding, or first fixes it. Each release tested is
//! crosscheck built against it (cached, see `releases::builds`), asked
//! whether the finding's module still gives its signature.

use super::build_release::BuildsArgs;
use crate::config::Config;
use crate::releases::bisect::{bisect, parse_range, Tested};
use crate::releases::spinner::Spinner;
use crate::store::Store;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::Path;
use std::process::{Command, ExitCode};

/// Arguments of `crosscheck bisect`.
#[derive(Args)]
pub struct BisectArgs {
    /// The finding's id.
    id: i64,
    /// The Wasmtime major releases to search, oldest and newest, e.g.
    /// 36..48 (each major's newest patch release is tested).
    #[arg(long, value_name = "A..B")]
    versions: String,
    #[command(flatten)]
    builds: BuildsArgs,
    /// Run the original module even if a shrunk one exists.
    #[arg(long)]
    original: bool,
}

/// Runs the command: prints every release tested and the answer, and
/// records the answer with the finding (`findings show`, `report`, the
/// dashboard).
pub fn run(config: &Config, args: BisectArgs) -> Result<ExitCode> {
    let (first, last) = parse_range(&args.versions)?;
    let mut store = Store::open_existing(&config.store)?;
    let finding = store.require_finding(args.id)?;
    let hash = match (&finding.shrunk, args.original) {
        (Some(shrunk), false) => shrunk,
        _ => &finding.artifact,
    };
    let wasm = store.read_artifact(hash)?;
    let builds = args.builds.builds(config);
    let work = builds.cache().join("bisect");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let module = work.join(format!("finding-{}.wasm", finding.id));
    std::fs::write(&module, &wasm)?;
    // Every release judges with this configuration (the same source reads
    // it the same way).
    let config_file = work.join("config.toml");
    std::fs::write(&config_file, config.shareable_text())?;
    // A compile outlier is judged against the distribution it was found by.
    let baseline = work.join("baseline.json");
    std::fs::write(&baseline, serde_json::to_string(&store.baseline()?)?)?;
    let seed = finding.first_seed.unwrap_or(0);
    let signature = finding.case_signature().to_string();
    println!(
        "finding {}: `{signature}`, {} module ({} bytes), Wasmtime {first} to {last}",
        finding.id,
        if hash == &finding.artifact {
            "original"
        } else {
            "shrunk"
        },
        wasm.len()
    );
    let spinner = Spinner::new();
    let mut test = |major: u64| -> Result<Tested> {
        let release = builds.release(major, &spinner)?;
        spinner.step(format!("Wasmtime {}: running the module", release.version));
        let files = Files {
            config: &config_file,
            module: &module,
            baseline: &baseline,
        };
        let tested = run_on(&release.binary, &files, seed, &signature).with_context(|| {
            format!(
                "running finding {} on Wasmtime {}",
                finding.id, release.version
            )
        })?;
        let tested = Tested {
            major,
            version: release.version,
            ..tested
        };
        spinner.result(tested.describe());
        Ok(tested)
    };
    let bisection = bisect(first, last, &mut test);
    spinner.finish();
    let bisection = bisection?;
    let answer = bisection.describe();
    let tested = bisection.tested_lines();
    println!("{answer}");
    store.record_bisection(finding.id, &format!("{first}..{last}"), &answer, &tested)?;
    Ok(ExitCode::SUCCESS)
}

/// What every release is handed.
struct Files<'a> {
    config: &'a Path,
    module: &'a Path,
    baseline: &'a Path,
}

/// Runs the module on the crosscheck `binary` (`check --expect`): whether
/// it gives `signature`, and what it gives instead.
fn run_on(binary: &Path, files: &Files<'_>, seed: u64, signature: &str) -> Result<Tested> {
    let output = Command::new(binary)
        .arg("--config")
        .arg(files.config)
        .arg("check")
        .arg(files.module)
        .args(["--seed", &seed.to_string(), "--expect", signature])
        .arg("--baseline")
        .arg(files.baseline)
        .output()
        .with_context(|| format!("starting {}", binary.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let found = stdout
        .lines()
        .find_map(|line| line.strip_prefix("signature: "))
        .map(str::trim);
    let shows = match (output.status.code(), found) {
        (Some(code), Some(_)) if code == i32::from(super::EXIT_FINDING) => true,
        (Some(code), Some(_)) if code == i32::from(super::EXIT_AGREE) => false,
        _ => bail!(
            "{} did not answer ({}): {}",
            binary.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    };
    Ok(Tested {
        major: 0,
        version: String::new(),
        shows,
        instead: found.filter(|f| !shows && *f != "none").map(str::to_string),
    })
}
