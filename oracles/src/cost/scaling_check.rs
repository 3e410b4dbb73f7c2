//! Scaling checks: a module grown to doubling sizes, compiled on every
//! engine of a matrix (best of a few compiles per size), and the growth
//! exponent of compile time and peak compile heap fitted per engine. An
//! exponent well above 1 is superlinear: the kind of regression
//! ../shared/seeds/003 describes (a register allocator splitting one live
//! range at every call). `crosscheck scale` prints it; the daemon runs it
//! on the built-in shapes periodically and on the modules of blowups.

use super::compile::best_of;
use super::heap::PeakHeap;
use crate::cost::exponents::{exponent, repeat_largest_function};
use crate::cost::scaling_shapes::ScalingShape;
use crate::engine::clock::CompileCost;
use crate::engine::matrix::Matrix;
use anyhow::Result;
use std::fmt::Write;
use std::time::Duration;

/// What a scaling check grows.
#[derive(Clone, Debug)]
pub enum Subject {
    /// A built-in shape at size n.
    Shape(ScalingShape),
    /// A module with its largest function's body repeated n times.
    LargestFunction(Vec<u8>),
}

impl Subject {
    /// The first size unless told otherwise: a shape's n of 500, or one
    /// copy of the function.
    pub fn default_start(&self) -> u32 {
        match self {
            Subject::Shape(_) => 500,
            Subject::LargestFunction(_) => 1,
        }
    }

    /// The module at size `n`.
    pub fn module(&self, n: u32) -> Result<Vec<u8>> {
        match self {
            Subject::Shape(shape) => Ok(shape.module(n)),
            Subject::LargestFunction(wasm) => repeat_largest_function(wasm, n),
        }
    }
}

/// Which clock a time exponent is fitted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Wall time: what a user waits.
    Wall,
    /// The compiling thread's CPU time: what the compile costs, whatever
    /// else the machine runs (a background check on a busy machine).
    Cpu,
}

/// One engine's compiles of every size.
#[derive(Clone, Debug)]
pub struct EngineGrowth {
    /// The engine.
    pub engine: String,
    /// Best compile per size; `None` where the engine refused the module.
    pub costs: Vec<Option<CompileCost>>,
}

/// Compile cost over doubling module sizes, per engine.
#[derive(Clone, Debug)]
pub struct Growth {
    /// Module size in bytes at each step.
    pub sizes: Vec<usize>,
    /// Compiles per size and engine; the smallest figures count.
    pub runs: u32,
    /// Every engine of the matrix, oracle first.
    pub engines: Vec<EngineGrowth>,
}

/// A growth exponent over the limit.
#[derive(Clone, Debug, PartialEq)]
pub struct Superlinear {
    /// The engine.
    pub engine: String,
    /// `time` or `heap`.
    pub metric: &'static str,
    /// The fitted exponent.
    pub exponent: f64,
}

impl Superlinear {
    /// `cranelift time grows as size^1.85`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} grows as size^{:.2}",
            self.engine, self.metric, self.exponent
        )
    }
}

/// The exponents of `first` that `second` (a measurement made again) also
/// finds superlinear, each with the lower of its two values: a scaling
/// check is confirmed like any other suspect, so that a burst of load on
/// the machine during one measurement does not make a finding.
pub fn confirmed(first: &[Superlinear], second: &[Superlinear]) -> Vec<Superlinear> {
    first
        .iter()
        .filter_map(|a| {
            let b = second
                .iter()
                .find(|b| b.engine == a.engine && b.metric == a.metric)?;
            Some(Superlinear {
                exponent: a.exponent.min(b.exponent),
                ..a.clone()
            })
        })
        .collect()
}

/// Compiles `grow(start)`, `grow(2 * start)`, ... (`steps` sizes) on every
/// engine of `matrix`, best of `runs` each, with the peak heap measured
/// when `heap` is given.
pub fn measure(
    matrix: &Matrix,
    grow: &mut dyn FnMut(u32) -> Result<Vec<u8>>,
    start: u32,
    steps: u32,
    runs: u32,
    heap: Option<&dyn PeakHeap>,
) -> Result<Growth> {
    let mut sizes = Vec::new();
    let mut engines: Vec<EngineGrowth> = matrix
        .engines()
        .iter()
        .map(|e| EngineGrowth {
            engine: e.name().to_string(),
            costs: Vec::new(),
        })
        .collect();
    for step in 0..steps {
        let wasm = grow(start.max(1).saturating_mul(1 << step))?;
        sizes.push(wasm.len());
        for (engine, growth) in matrix.engines().iter().zip(&mut engines) {
            growth
                .costs
                .push(best_of(engine.as_ref(), &wasm, heap, runs));
        }
    }
    Ok(Growth {
        sizes,
        runs,
        engines,
    })
}

impl EngineGrowth {
    /// The exponent of compile time on `clock` against module size.
    pub fn time_exponent(&self, sizes: &[usize], clock: Clock) -> Option<f64> {
        self.fit(sizes, |c| {
            match clock {
                Clock::Wall => Some(c.wall),
                Clock::Cpu => c.cpu,
            }
            .map(|t| t.as_secs_f64())
        })
    }

    /// The exponent of peak compile heap against module size.
    pub fn heap_exponent(&self, sizes: &[usize]) -> Option<f64> {
        self.fit(sizes, |c| c.peak_heap.map(|b| b as f64))
    }

    fn fit(&self, sizes: &[usize], value: impl Fn(&CompileCost) -> Option<f64>) -> Option<f64> {
        let points: Vec<(f64, f64)> = sizes
            .iter()
            .zip(&self.costs)
            .filter_map(|(bytes, cost)| Some((*bytes as f64, value(cost.as_ref()?)?)))
            .collect();
        exponent(&points)
    }
}

impl Growth {
    /// Every engine's time (on `clock`) or heap exponent above `limit`.
    pub fn superlinear(&self, limit: f64, clock: Clock) -> Vec<Superlinear> {
        let mut found = Vec::new();
        for growth in &self.engines {
            let exponents = [
                ("time", growth.time_exponent(&self.sizes, clock)),
                ("heap", growth.heap_exponent(&self.sizes)),
            ];
            for (metric, value) in exponents {
                if let Some(exponent) = value.filter(|e| *e > limit) {
                    found.push(Superlinear {
                        engine: growth.engine.clone(),
                        metric,
                        exponent,
                    });
                }
            }
        }
        found
    }

    /// The table `crosscheck scale` prints: compile time on `clock` (ms)
    /// and peak heap (MiB) per engine and size, and the exponents.
    pub fn table(&self, what: &str, clock: Clock) -> String {
        let mut out = String::new();
        let clock_name = match clock {
            Clock::Wall => "compile time",
            Clock::Cpu => "compile CPU time",
        };
        let _ = writeln!(
            out,
            "{what}, {clock_name} (ms) and peak compile heap (MiB), best of {} runs",
            self.runs
        );
        let width = self
            .engines
            .iter()
            .map(|g| g.engine.len())
            .max()
            .unwrap_or(0)
            .max(12)
            + 2;
        let _ = write!(out, "{:<width$}", "size (bytes)");
        for bytes in &self.sizes {
            let _ = write!(out, "{bytes:>16}");
        }
        let _ = writeln!(out, "{:>10}{:>10}", "time exp", "heap exp");
        for growth in &self.engines {
            let _ = write!(out, "{:<width$}", growth.engine);
            for cost in &growth.costs {
                let cell = match cost {
                    Some(c) => {
                        let time = match clock {
                            Clock::Wall => Some(c.wall),
                            Clock::Cpu => c.cpu,
                        };
                        // An unmeasured heap (a C API library's) is "-", not 0.
                        format!(
                            "{} / {}",
                            time.map_or("-".to_string(), |t| format!("{:.2}", ms(t))),
                            c.peak_heap.map_or("-".to_string(), |b| format!(
                                "{:.1}",
                                b as f64 / f64::from(1 << 20)
                            ))
                        )
                    }
                    None => "refused".to_string(),
                };
                let _ = write!(out, "{cell:>16}");
            }
            for value in [
                growth.time_exponent(&self.sizes, clock),
                growth.heap_exponent(&self.sizes),
            ] {
                let _ = match value {
                    Some(e) => write!(out, "{e:>10.2}"),
                    None => write!(out, "{:>10}", "-"),
                };
            }
            let _ = writeln!(out);
        }
        out
    }
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExecutionConfig;

    #[test]
    fn a_quadratic_compiler_is_superlinear_and_the_oracle_is_not() {
        let matrix = Matrix::new(
            "wasmi",
            &["wasmi-fault-quadratic".to_string()],
            &ExecutionConfig::default(),
        )
        .unwrap();
        let growth = measure(
            &matrix,
            &mut |n| Ok(ScalingShape::SelectChain.module(n)),
            250,
            4,
            2,
            None,
        )
        .unwrap();
        assert_eq!(growth.sizes.len(), 4);
        assert!(growth.sizes.windows(2).all(|w| w[1] > w[0]));
        let found = growth.superlinear(1.3, Clock::Cpu);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].engine.as_str(), found[0].metric),
            ("wasmi-fault-quadratic", "time")
        );
        assert!(found[0].exponent > 1.6, "{found:?}");
        // Measured again, the quadratic compiler stays superlinear.
        let again = growth.superlinear(1.3, Clock::Cpu);
        assert_eq!(confirmed(&found, &again).len(), 1);
        let noise = Superlinear {
            engine: "wasmi".into(),
            metric: "time",
            exponent: 1.4,
        };
        let lower = Superlinear {
            exponent: 1.5,
            ..found[0].clone()
        };
        assert_eq!(
            confirmed(
                &[noise.clone(), found[0].clone()],
                std::slice::from_ref(&lower)
            ),
            [lower]
        );
        assert!(confirmed(&[noise], &[]).is_empty());
        let table = growth.table("shape select-chain", Clock::Cpu);
        assert!(
            table.starts_with("shape select-chain, compile CPU time (ms)"),
            "{table}"
        );
        assert_eq!(table.lines().count(), 4, "{table}");
    }
}
