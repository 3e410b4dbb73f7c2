//! `crosscheck scale FILE | --shape NAME`: grow a module (repeat its largest
//! function's body, or a built-in shape at n, 2n, 4n, ...), compile every
//! size on every engine of the matrix, and fit how compile time and peak
//! compile heap grow with the module's size. An exponent well above 1 is
//! superlinear: the kind of regression ../shared/seeds/003 describes.

use crate::config::Config;
use anyhow::{bail, Result};
use clap::Args;
use oracles::case::module_file::read_module_file;
use oracles::cost::heap::Heap;
use oracles::cost::scaling_check::{measure, Clock, Subject};
use oracles::cost::scaling_shapes::ScalingShape;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `crosscheck scale`.
#[derive(Args)]
pub struct ScaleArgs {
    /// A .wasm or .wat module whose largest function is repeated.
    #[arg(required_unless_present = "shape", conflicts_with = "shape")]
    file: Option<PathBuf>,
    /// A built-in shape: call-alternating (one value passed alternately as
    /// first and second argument through a run of calls), nested-blocks,
    /// select-chain, many-locals, br-table.
    #[arg(long, value_name = "NAME")]
    shape: Option<String>,
    /// The first size: the shape's n (default 500), or copies of the
    /// function body (default 1); 1 to 1,000,000, and the largest size
    /// measured (start × 2^(steps-1)) at most 16,777,216.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    start: Option<u32>,
    /// Sizes measured, each twice the one before (2 to 16).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..=16))]
    steps: u32,
    /// Compiles per size and engine; the fastest and smallest count (1 to
    /// 100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    runs: u32,
    /// An exponent above this is reported as superlinear (1 to 10).
    #[arg(long, default_value_t = 1.3, value_parser = superlinear_exponent)]
    superlinear: f64,
}

/// The largest size a scaling measurement builds: far past any size whose
/// growth is still in doubt, and a module that fits in memory.
const MAX_SIZE: u64 = 1 << 24;

/// Parses `--superlinear`: a number within the configuration's bounds for
/// `[cost.scaling] superlinear` (a NaN would flag nothing).
fn superlinear_exponent(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|e| format!("{e}"))?;
    oracles::config::SUPERLINEAR_EXPONENTS
        .contains(&value)
        .then_some(value)
        .ok_or_else(|| {
            let range = oracles::config::SUPERLINEAR_EXPONENTS;
            format!("must be between {} and {}", range.start(), range.end())
        })
}

/// Runs the command. Exit status 1 when some growth is superlinear.
pub fn run(config: &Config, args: ScaleArgs) -> Result<ExitCode> {
    let (what, subject) = match (&args.file, &args.shape) {
        (Some(file), _) => (
            format!("{} (largest function repeated)", file.display()),
            Subject::LargestFunction(read_module_file(file)?),
        ),
        (None, Some(name)) => {
            let Some(shape) = ScalingShape::from_name(name) else {
                let names: Vec<&str> = ScalingShape::ALL.iter().map(|s| s.name()).collect();
                bail!("unknown shape {name:?}; shapes: {}", names.join(", "));
            };
            (format!("shape {}", shape.name()), Subject::Shape(shape))
        }
        (None, None) => unreachable!("clap requires a file or a shape"),
    };
    let start = args.start.unwrap_or(subject.default_start()).max(1);
    let largest = u64::from(start) << (args.steps - 1);
    if largest > MAX_SIZE {
        bail!(
            "--start {start} with --steps {} would measure sizes up to {largest}; the largest size is at most {MAX_SIZE} (a smaller --start or fewer --steps)",
            args.steps
        );
    }
    // Only compiles, never runs a step: every engine is built as named
    // (`wasmtime-default` without the epoch deadline an in-process run
    // would give it), so the growth measured is that of the code users get.
    let mut settings = config.library.clone();
    settings.execution.supervised = true;
    let matrix = settings.matrix()?;
    let growth = measure(
        &matrix,
        &mut |n| subject.module(n),
        start,
        args.steps,
        args.runs,
        Some(&Heap),
    )?;
    print!("{}", growth.table(&what, Clock::Wall));
    let superlinear = growth.superlinear(args.superlinear, Clock::Wall);
    if superlinear.is_empty() {
        println!("\nno growth above size^{}", args.superlinear);
        Ok(ExitCode::SUCCESS)
    } else {
        println!("\nSUPERLINEAR (above size^{}):", args.superlinear);
        for found in &superlinear {
            println!("  {}", found.describe());
        }
        Ok(ExitCode::from(super::EXIT_FINDING))
    }
}
