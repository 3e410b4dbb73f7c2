//! What compiling and running a case costs, and when that is a finding:
//! compile blowups against absolute and oracle-relative limits, outliers
//! against each engine's own distribution in the run, slow runs against
//! sibling configurations, work fuel does not meter, compiles against the
//! reference Wasmtime release, and growth exponents from scaling checks.
//!
//! In: a module, the matrix, `[cost]`, and the measurements the matrix took
//! (wall and CPU time on [`clock`](crate::engine::clock), peak heap through [`heap`]). Out:
//! confirmed blowups and slow runs (re-measured), distributions and
//! exponents.

pub mod baseline;
pub mod compile;
pub mod exponents;
pub mod heap;
pub mod limits;
pub mod optimizer;
pub mod releases;
pub mod run;
pub mod scaling_check;
pub mod scaling_shapes;
pub mod spread;
pub mod unmetered;
