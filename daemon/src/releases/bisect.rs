//! Which release first shows a finding, or first fixes it: a binary search
//! over consecutive Wasmtime major releases, testing as few as it can.

use anyhow::Result;

/// What a finding does on one release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tested {
    /// The major release.
    pub major: u64,
    /// The exact version tested.
    pub version: String,
    /// Whether the release gives the finding's signature.
    pub shows: bool,
    /// The signature the release gave instead, if another.
    pub instead: Option<String>,
}

impl Tested {
    /// One line: `Wasmtime 44 (44.0.3): shown`.
    pub fn describe(&self) -> String {
        let instead = self
            .instead
            .as_ref()
            .map_or(String::new(), |s| format!(" (gives `{s}` instead)"));
        format!(
            "Wasmtime {} ({}): {}{instead}",
            self.major,
            self.version,
            shown(self.shows)
        )
    }
}

/// The answer of a bisection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Absent at the first release of the range, shown from this one on.
    IntroducedIn(Tested),
    /// Shown at the first release of the range, absent from this one on.
    FixedIn(Tested),
    /// Shown at both ends of the range.
    ShownThroughout,
    /// Absent at both ends of the range.
    AbsentThroughout,
}

/// A bisection: the range, every release tested (in the order tested) and
/// the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bisection {
    /// The first and last major release of the range.
    pub range: (u64, u64),
    /// The releases tested.
    pub tested: Vec<Tested>,
    /// What the tests say.
    pub answer: Answer,
}

impl Bisection {
    /// The answer in one line, e.g. `first fixed in Wasmtime 45 (45.0.3);
    /// shown by 44 (44.0.3)`.
    pub fn describe(&self) -> String {
        let (first, last) = self.range;
        // The release before the change, when it was tested (it always is
        // unless the change is at the start of the range).
        let previous = |t: &Tested, how: &str| {
            self.tested
                .iter()
                .find(|p| p.major + 1 == t.major)
                .map_or(String::new(), |p| {
                    format!("; {how} {} ({})", p.major, p.version)
                })
        };
        match &self.answer {
            Answer::IntroducedIn(t) => format!(
                "first shown in Wasmtime {} ({}){}",
                t.major,
                t.version,
                previous(t, "absent from")
            ),
            Answer::FixedIn(t) => format!(
                "first fixed in Wasmtime {} ({}){}",
                t.major,
                t.version,
                previous(t, "shown by")
            ),
            Answer::ShownThroughout => {
                format!("shown by every release tested, Wasmtime {first} to {last}: not fixed in the range")
            }
            Answer::AbsentThroughout => format!(
                "absent from Wasmtime {first} and {last}: not shown by a published release in the range"
            ),
        }
    }

    /// Every release tested, one line each, in release order.
    pub fn tested_lines(&self) -> Vec<String> {
        let mut tested = self.tested.clone();
        tested.sort_by_key(|t| t.major);
        tested.iter().map(Tested::describe).collect()
    }
}

fn shown(shows: bool) -> &'static str {
    if shows {
        "shown"
    } else {
        "absent"
    }
}

/// Bisects the majors `first..=last` with `test`, which runs the finding on
/// a release. Both ends are tested; when they differ, the search assumes
/// one change between them and finds the first release on the other side.
pub fn bisect(
    first: u64,
    last: u64,
    test: &mut dyn FnMut(u64) -> Result<Tested>,
) -> Result<Bisection> {
    anyhow::ensure!(
        first < last,
        "a bisection needs a range of at least two releases, not {first}..{last}"
    );
    let mut tested = Vec::new();
    let low = test(first)?;
    let high = test(last)?;
    let (at_first, at_last) = (low.shows, high.shows);
    tested.push(low);
    tested.push(high.clone());
    if at_first == at_last {
        let answer = if at_first {
            Answer::ShownThroughout
        } else {
            Answer::AbsentThroughout
        };
        return Ok(Bisection {
            range: (first, last),
            tested,
            answer,
        });
    }
    // Invariant: `low` behaves as `first` does, `high` as `last` does.
    let (mut low, mut high, mut changed) = (first, last, high);
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        let result = test(middle)?;
        tested.push(result.clone());
        if result.shows == at_first {
            low = middle;
        } else {
            high = middle;
            changed = result;
        }
    }
    let answer = if at_first {
        Answer::FixedIn(changed)
    } else {
        Answer::IntroducedIn(changed)
    };
    Ok(Bisection {
        range: (first, last),
        tested,
        answer,
    })
}

/// Parses `A..B` (inclusive major releases, e.g. `36..48`).
pub fn parse_range(text: &str) -> Result<(u64, u64)> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| anyhow::anyhow!("--versions {text:?}: expected A..B, e.g. 36..48"))?;
    let major = |part: &str| -> Result<u64> {
        let part = part.trim().trim_start_matches('=');
        super::builds::major_of(part).ok_or_else(|| {
            anyhow::anyhow!("--versions {text:?}: {part:?} is not a Wasmtime release")
        })
    };
    let (first, last) = (major(a)?, major(b)?);
    anyhow::ensure!(
        first < last,
        "--versions {text:?}: the first release must be older than the last"
    );
    Ok((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release_where(shows: impl Fn(u64) -> bool) -> impl FnMut(u64) -> Result<Tested> {
        move |major| {
            Ok(Tested {
                major,
                version: format!("{major}.0.1"),
                shows: shows(major),
                instead: None,
            })
        }
    }

    #[test]
    fn finds_the_first_fixed_release_in_few_tests() {
        let bisection = bisect(36, 48, &mut release_where(|m| m < 45)).unwrap();
        match &bisection.answer {
            Answer::FixedIn(t) => assert_eq!(t.major, 45),
            other => panic!("{other:?}"),
        }
        // Both ends, then at most log2(12) + 1 releases.
        assert!(bisection.tested.len() <= 6, "{:?}", bisection.tested);
        assert!(bisection
            .describe()
            .starts_with("first fixed in Wasmtime 45 (45.0.1); shown by 44"));
    }

    #[test]
    fn finds_the_first_release_that_shows() {
        for change in 37..=48 {
            let bisection = bisect(36, 48, &mut release_where(|m| m >= change)).unwrap();
            assert_eq!(
                bisection.answer,
                Answer::IntroducedIn(Tested {
                    major: change,
                    version: format!("{change}.0.1"),
                    shows: true,
                    instead: None
                })
            );
        }
    }

    #[test]
    fn the_same_answer_at_both_ends_ends_the_search() {
        let bisection = bisect(40, 48, &mut release_where(|_| true)).unwrap();
        assert_eq!(bisection.answer, Answer::ShownThroughout);
        assert_eq!(bisection.tested.len(), 2);
        let bisection = bisect(40, 48, &mut release_where(|_| false)).unwrap();
        assert_eq!(bisection.answer, Answer::AbsentThroughout);
    }

    #[test]
    fn ranges_are_parsed_and_bad_ones_named() {
        assert_eq!(parse_range("36..48").unwrap(), (36, 48));
        assert_eq!(parse_range("38.0.4..47").unwrap(), (38, 47));
        assert!(parse_range("48..36")
            .unwrap_err()
            .to_string()
            .contains("older"));
        assert!(parse_range("36-48")
            .unwrap_err()
            .to_string()
            .contains("A..B"));
        assert!(parse_range("x..48")
            .unwrap_err()
            .to_string()
            .contains("not a Wasmtime release"));
    }
}
