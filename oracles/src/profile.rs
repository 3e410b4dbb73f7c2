//! Where a case's time goes. A thread that [`start`]s recording sums the
//! wall time it spends in each [`Stage`] until the sums are taken
//! ([`take`]); a stage nested in another counts only for itself, so the
//! sums add up to the time measured and no more. Off until started: the
//! daemon's workers never read a profile, so they build no stage names,
//! read no clock and fill no map for one.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// One step of a case, as the profile counts it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Generating the module (wasm-smith, or crosscheck's generators).
    Generation,
    /// Parsing the module's exports and drawing the call plan.
    Plan,
    /// Drawing the case's engines (the configuration swarm) and building
    /// the drawn one.
    Draw,
    /// An engine's compile (or translation) of the module.
    Compile(String),
    /// An engine's instantiation, start function included.
    Instantiate(String),
    /// An engine's calls and the reading of the exported state.
    Calls(String),
    /// What an engine's run cost beyond its compile, instantiation and
    /// calls (building a store, catching a panic).
    EngineRest(String),
    /// Comparing the runs (validation of the module against each engine's
    /// features included).
    Compare,
    /// Judging again with the tie-breakers' runs.
    TieBreak,
    /// The CLIF compiles that say whether the optimizer rewrote an aimed
    /// rule or pass (`observe::opt_levels::clif_of`).
    ClifCheck,
    /// The instruction histogram of the module (coverage).
    Coverage,
    /// The case's counters (verdicts, blame, what was exercised).
    Counters,
    /// Turning a case into its findings (cost evidence, flips).
    Findings,
    /// Encoding the worker's messages and writing them to the supervisor.
    Reply,
}

impl Stage {
    /// The engine the stage belongs to, if it is one engine's.
    pub fn engine(&self) -> Option<&str> {
        match self {
            Stage::Compile(e) | Stage::Instantiate(e) | Stage::Calls(e) | Stage::EngineRest(e) => {
                Some(e)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Generation => f.write_str("generation"),
            Stage::Plan => f.write_str("exports and call plan"),
            Stage::Draw => f.write_str("drawing the swarm's engine"),
            Stage::Compile(e) => write!(f, "{e}: compile"),
            Stage::Instantiate(e) => write!(f, "{e}: instantiate"),
            Stage::Calls(e) => write!(f, "{e}: calls and state"),
            Stage::EngineRest(e) => write!(f, "{e}: store, harness"),
            Stage::Compare => f.write_str("comparison"),
            Stage::TieBreak => f.write_str("tie-breaking judgement"),
            Stage::ClifCheck => f.write_str("CLIF compiles (rule and pass checks)"),
            Stage::Coverage => f.write_str("instruction histogram (coverage)"),
            Stage::Counters => f.write_str("counters (verdicts, exercised)"),
            Stage::Findings => f.write_str("findings (cost evidence, flips)"),
            Stage::Reply => f.write_str("worker messages (JSON, pipe)"),
        }
    }
}

/// Time and entries of one stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Spent {
    /// Wall time, without the stages nested in it.
    pub time: Duration,
    /// How many times the stage was entered.
    pub times: u64,
}

/// The sums of one thread since the last [`take`].
pub type Profile = BTreeMap<Stage, Spent>;

#[derive(Default)]
struct Recorder {
    /// Whether this thread records ([`start`]).
    on: bool,
    totals: Profile,
    /// Open stages, innermost last: since when, and how much of that
    /// nested stages took.
    open: Vec<(Instant, Duration)>,
}

thread_local! {
    static RECORDER: RefCell<Recorder> = RefCell::new(Recorder::default());
}

/// Starts recording on this thread, from empty sums.
pub fn start() {
    RECORDER.with(|r| {
        *r.borrow_mut() = Recorder {
            on: true,
            ..Recorder::default()
        }
    });
}

/// Whether this thread records.
pub fn recording() -> bool {
    RECORDER.with(|r| r.borrow().on)
}

/// Runs `work` as `stage`.
pub fn time<T>(stage: Stage, work: impl FnOnce() -> T) -> T {
    time_as(|| stage, work)
}

/// Runs `work` as the stage `stage` names, made only when recording (an
/// engine's name copied into it).
pub fn time_as<T>(stage: impl FnOnce() -> Stage, work: impl FnOnce() -> T) -> T {
    let _open = recording().then(|| Open::enter(stage()));
    work()
}

/// Counts `time` spent in `stage` inside the stage open now (measured by
/// someone else: an engine's own compile time).
pub fn add(stage: Stage, time: Duration) {
    RECORDER.with(|r| {
        let mut r = r.borrow_mut();
        if !r.on {
            return;
        }
        if let Some((_, nested)) = r.open.last_mut() {
            *nested += time;
        }
        let spent = r.totals.entry(stage).or_default();
        spent.time += time;
        spent.times += 1;
    });
}

/// The sums of this thread since the last call, which starts new ones.
pub fn take() -> Profile {
    RECORDER.with(|r| std::mem::take(&mut r.borrow_mut().totals))
}

/// A stage being timed; closed when dropped, unwinding included.
struct Open {
    stage: Option<Stage>,
}

impl Open {
    fn enter(stage: Stage) -> Open {
        RECORDER.with(|r| r.borrow_mut().open.push((Instant::now(), Duration::ZERO)));
        Open { stage: Some(stage) }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let Some(stage) = self.stage.take() else {
            return;
        };
        RECORDER.with(|r| {
            let mut r = r.borrow_mut();
            let Some((since, nested)) = r.open.pop() else {
                return;
            };
            let whole = since.elapsed();
            if let Some((_, outer)) = r.open.last_mut() {
                *outer += whole;
            }
            let spent = r.totals.entry(stage).or_default();
            spent.time += whole.saturating_sub(nested);
            spent.times += 1;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_stages_count_only_for_themselves_and_add_up_to_the_whole() {
        start();
        let start = Instant::now();
        time(Stage::Findings, || {
            std::thread::sleep(Duration::from_millis(5));
            time(Stage::Coverage, || {
                std::thread::sleep(Duration::from_millis(10))
            });
            add(Stage::Compile("e".into()), Duration::from_millis(3));
        });
        let whole = start.elapsed();
        let profile = take();
        let coverage = profile[&Stage::Coverage].time;
        let findings = profile[&Stage::Findings].time;
        let compile = profile[&Stage::Compile("e".into())].time;
        assert!(coverage >= Duration::from_millis(10));
        assert_eq!(compile, Duration::from_millis(3));
        // Findings' own time excludes the nested 10 ms and the added 3 ms.
        assert!(findings >= Duration::from_millis(2), "{findings:?}");
        assert!(coverage + findings + compile <= whole);
        assert_eq!(profile[&Stage::Findings].times, 1);
        assert!(take().is_empty(), "take starts new sums");
    }

    #[test]
    fn nothing_is_recorded_on_a_thread_that_did_not_start() {
        std::thread::spawn(|| {
            assert!(!recording());
            let built = std::cell::Cell::new(false);
            time_as(
                || {
                    built.set(true);
                    Stage::Compare
                },
                || (),
            );
            add(Stage::Compile("e".into()), Duration::from_millis(3));
            assert!(!built.get(), "a stage name was built while not recording");
            assert!(take().is_empty());
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_stage_left_by_a_panic_is_closed() {
        start();
        let caught = std::panic::catch_unwind(|| time(Stage::Compare, || panic!("engine")));
        assert!(caught.is_err());
        time(Stage::Plan, || ());
        let profile = take();
        assert_eq!(profile[&Stage::Compare].times, 1);
        assert_eq!(profile[&Stage::Plan].times, 1);
    }
}
