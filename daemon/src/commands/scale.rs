//! `crosscheck scale FILE | --shape NAME`: grow a module (repeat its largest
//! function's body, or a built-in shape at n, 2n, 4n, ...), compile every
//! size on every engine of the matrix, and fit how compile time and peak
//! compile heap grow with the module's size. An exponent well above 1 is
//! superlinear: the kind of regression ../shared/seeds/003 describes.

use crate::config::Config;
use crate::heap::Heap;
use crate::module_file::read_module_file;
use anyhow::{bail, Result};
use clap::Args;
use oracles::compile_cost::{best_of, CompileCost};
use oracles::scaling::{exponent, repeat_largest_function};
use oracles::shapes::Shape;
use std::path::PathBuf;
use std::process::ExitCode;

/// The module at a size: shape parameter or copies of a function body.
type Grow = Box<dyn Fn(u32) -> Result<Vec<u8>>>;

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
    /// function body (default 1).
    #[arg(long)]
    start: Option<u32>,
    /// Sizes measured, each twice the one before.
    #[arg(long, default_value_t = 5)]
    steps: u32,
    /// Compiles per size and engine; the fastest and smallest count.
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// An exponent above this is reported as superlinear.
    #[arg(long, default_value_t = 1.3)]
    superlinear: f64,
}

/// Runs the command. Exit status 1 when some growth is superlinear.
pub fn run(config: &Config, args: ScaleArgs) -> Result<ExitCode> {
    if args.steps < 2 {
        bail!("--steps must be at least 2 to fit a growth exponent");
    }
    let (what, grow): (String, Grow) = match (&args.file, &args.shape) {
        (Some(file), _) => {
            let wasm = read_module_file(file)?;
            (
                format!("{} (largest function repeated)", file.display()),
                Box::new(move |copies| repeat_largest_function(&wasm, copies)),
            )
        }
        (None, Some(name)) => {
            let Some(shape) = Shape::from_name(name) else {
                let names: Vec<&str> = Shape::ALL.iter().map(|s| s.name()).collect();
                bail!("unknown shape {name:?}; shapes: {}", names.join(", "));
            };
            (
                format!("shape {}", shape.name()),
                Box::new(move |n| Ok(shape.module(n))),
            )
        }
        (None, None) => unreachable!("clap requires a file or a shape"),
    };
    let start = args
        .start
        .unwrap_or(if args.file.is_some() { 1 } else { 500 })
        .max(1);
    let matrix = config.matrix()?;
    let names = matrix.names();
    // sizes[step] = (parameter, module bytes); costs[engine][step].
    let mut sizes = Vec::new();
    let mut costs: Vec<Vec<Option<CompileCost>>> = vec![Vec::new(); names.len()];
    for step in 0..args.steps {
        let parameter = start.saturating_mul(1 << step);
        let wasm = grow(parameter)?;
        sizes.push((parameter, wasm.len()));
        for (engine, row) in matrix.engines().iter().zip(costs.iter_mut()) {
            row.push(best_of(engine.as_ref(), &wasm, Some(&Heap), args.runs));
        }
    }

    println!(
        "{what}, compile time (ms) and peak compile heap (MiB), best of {} runs",
        args.runs
    );
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0).max(12) + 2;
    print!("{:<width$}", "size (bytes)");
    for (_, bytes) in &sizes {
        print!("{bytes:>16}");
    }
    println!("{:>10}{:>10}", "time exp", "heap exp");
    let mut superlinear = Vec::new();
    for (name, row) in names.iter().zip(&costs) {
        print!("{name:<width$}");
        for cost in row {
            match cost {
                Some(c) => print!(
                    "{:>16}",
                    format!(
                        "{:.2} / {:.1}",
                        c.wall.as_secs_f64() * 1e3,
                        c.peak_heap.unwrap_or(0) as f64 / f64::from(1 << 20)
                    )
                ),
                None => print!("{:>16}", "refused"),
            }
        }
        let fit = |value: &dyn Fn(&CompileCost) -> f64| {
            let points: Vec<(f64, f64)> = sizes
                .iter()
                .zip(row)
                .filter_map(|((_, bytes), cost)| cost.as_ref().map(|c| (*bytes as f64, value(c))))
                .collect();
            exponent(&points)
        };
        let time = fit(&|c| c.wall.as_secs_f64());
        let heap = fit(&|c| c.peak_heap.unwrap_or(0) as f64);
        for (label, value) in [("time", time), ("heap", heap)] {
            match value {
                Some(e) => {
                    print!("{e:>10.2}");
                    if e > args.superlinear {
                        superlinear.push(format!("{name} {label} grows as size^{e:.2}"));
                    }
                }
                None => print!("{:>10}", "-"),
            }
        }
        println!();
    }
    if superlinear.is_empty() {
        println!("\nno growth above size^{}", args.superlinear);
        Ok(ExitCode::SUCCESS)
    } else {
        println!("\nSUPERLINEAR (above size^{}):", args.superlinear);
        for line in &superlinear {
            println!("  {line}");
        }
        Ok(ExitCode::from(super::EXIT_FINDING))
    }
}
