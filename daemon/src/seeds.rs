//! Seed ranges as written on the command line: `A..B` (B excluded).

use anyhow::{bail, Context, Result};
use std::ops::Range;

/// Parses `A..B` into a non-empty range of seeds.
pub fn parse_seed_range(text: &str) -> Result<Range<u64>> {
    let Some((start, end)) = text.split_once("..") else {
        bail!("bad seed range {text:?}: expected START..END, e.g. 0..1000 (END excluded)");
    };
    let start: u64 = start.trim().parse().with_context(|| {
        format!("bad seed range {text:?}: start {start:?} is not a 64-bit unsigned integer")
    })?;
    let end: u64 = end.trim().parse().with_context(|| {
        format!("bad seed range {text:?}: end {end:?} is not a 64-bit unsigned integer")
    })?;
    if start >= end {
        bail!("bad seed range {text:?}: it is empty (the end is excluded, so END must be greater than START)");
    }
    Ok(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges_and_explains_bad_ones() {
        assert_eq!(parse_seed_range("0..10").unwrap(), 0..10);
        assert_eq!(parse_seed_range("5..6").unwrap(), 5..6);
        for (bad, says) in [
            ("10", "expected START..END"),
            ("a..5", "start \"a\""),
            ("0..-1", "end \"-1\""),
            ("5..5", "empty"),
            ("9..3", "empty"),
        ] {
            let err = format!("{:#}", parse_seed_range(bad).unwrap_err());
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
