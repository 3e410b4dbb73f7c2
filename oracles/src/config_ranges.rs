//! The values each number of the configuration may take. A number outside
//! them is refused when the configuration loads, naming the key and the
//! range, instead of panicking deep inside generation (an entropy of
//! 2^64 bytes), making every seed the same module (an entropy of 0) or
//! running a worker out of memory (a billion calls per export).

use anyhow::{bail, Result};
use std::fmt::Display;
use std::ops::RangeInclusive;

/// Fails naming `key` and `range` unless `value` lies in `range` (a NaN
/// lies in none).
pub fn within<T: PartialOrd + Display>(
    key: &str,
    value: T,
    range: RangeInclusive<T>,
) -> Result<()> {
    if !range.contains(&value) {
        bail!(
            "{key} must be between {} and {}, got {value}",
            range.start(),
            range.end()
        );
    }
    Ok(())
}

/// Fails naming `key` unless `value` is a share: between 0 and 1.
pub fn share(key: &str, value: f64) -> Result<()> {
    within(key, value, 0.0..=1.0)
}
