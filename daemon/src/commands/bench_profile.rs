//! `crosscheck bench --profile`: where a case's milliseconds go. The
//! seeds run through the worker's own per-case path on one thread (its
//! messages written to a sink), each stage timed by `oracles::profile`;
//! then the daemon runs the same seeds with two workers, for what the
//! pipes, the store and two processes on one machine add.

use crate::config::Config;
use crate::process::supervisor::{self, RunLimits};
use crate::process::worker_loop;
use anyhow::Result;
use oracles::case::generate::Mode;
use oracles::profile::{self, Profile, Spent, Stage};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::time::{Duration, Instant};

/// Cases of one generation mode and where their time went.
#[derive(Default)]
struct Measured {
    cases: u64,
    wall: Duration,
    stages: Profile,
}

impl Measured {
    fn add(&mut self, wall: Duration, stages: Profile) {
        self.cases += 1;
        self.wall += wall;
        for (stage, spent) in stages {
            let sum = self.stages.entry(stage).or_default();
            sum.time += spent.time;
            sum.times += spent.times;
        }
    }

    fn ms_per_case(&self, time: Duration) -> f64 {
        time.as_secs_f64() * 1e3 / self.cases.max(1) as f64
    }

    /// The time of the stages `keep` selects.
    fn sum(&self, keep: impl Fn(&Stage) -> bool) -> Duration {
        self.stages
            .iter()
            .filter(|(stage, _)| keep(stage))
            .map(|(_, spent)| spent.time)
            .sum()
    }
}

/// Prints the profile of `seeds`, then the daemon's figure on them.
pub fn profile(config: &Config, seeds: Range<u64>) -> Result<()> {
    let matrix = config.library.matrix()?;
    let mut all = Measured::default();
    let mut by_mode: BTreeMap<Mode, Measured> = BTreeMap::new();
    let mut sink = std::io::sink();
    profile::start();
    for seed in seeds.clone() {
        // The mode is read from a generation outside the measurement.
        let mode = oracles::generate(seed, &config.library.generator)?.mode();
        profile::take();
        let start = Instant::now();
        worker_loop::run_seed(config, &matrix, seed, None, &mut sink)?;
        let wall = start.elapsed();
        let stages = profile::take();
        by_mode.entry(mode).or_default().add(wall, stages.clone());
        all.add(wall, stages);
    }
    println!(
        "crosscheck bench --profile: {} seeds ({}..{}), the worker's path on one thread",
        all.cases, seeds.start, seeds.end
    );
    let per_case = all.ms_per_case(all.wall);
    println!("{:.1} cases/s, {per_case:.2} ms/case\n", 1e3 / per_case);
    print_stages(&all);
    print_engines(&all);
    print_modes(&by_mode);
    daemon_overhead(config, seeds, per_case)
}

fn print_stages(all: &Measured) {
    println!(
        "{:<44} {:>9} {:>7} {:>9}",
        "stage", "ms/case", "share", "entries"
    );
    let wall = all.wall.as_secs_f64();
    let mut rows: Vec<(String, Spent)> = Vec::new();
    // Each engine's four parts are one row here, detailed below.
    let mut engines = Spent::default();
    for (stage, spent) in &all.stages {
        if stage.engine().is_some() {
            engines.time += spent.time;
            if matches!(stage, Stage::Compile(_)) {
                engines.times += spent.times;
            }
        } else {
            rows.push((stage.to_string(), *spent));
        }
    }
    rows.push(("engines (every engine's runs, below)".into(), engines));
    let counted: Duration = rows.iter().map(|(_, s)| s.time).sum();
    rows.push((
        "not in a stage (loop, drop of the case)".into(),
        Spent {
            time: all.wall.saturating_sub(counted),
            times: 0,
        },
    ));
    rows.sort_by_key(|row| std::cmp::Reverse(row.1.time));
    for (name, spent) in rows {
        println!(
            "{name:<44} {:>9.3} {:>6.1}% {:>9}",
            all.ms_per_case(spent.time),
            100.0 * spent.time.as_secs_f64() / wall,
            spent.times
        );
    }
    println!();
}

fn print_engines(all: &Measured) {
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "engine (ms/case)", "compile", "instant.", "calls", "rest", "runs"
    );
    let names: BTreeSet<&str> = all.stages.keys().filter_map(Stage::engine).collect();
    let ms =
        |stage: Stage| all.ms_per_case(all.stages.get(&stage).map_or(Duration::ZERO, |s| s.time));
    for name in names {
        let runs = all
            .stages
            .get(&Stage::EngineRest(name.to_string()))
            .map_or(0, |s| s.times);
        println!(
            "{name:<44} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {runs:>7}",
            ms(Stage::Compile(name.into())),
            ms(Stage::Instantiate(name.into())),
            ms(Stage::Calls(name.into())),
            ms(Stage::EngineRest(name.into())),
        );
    }
    println!();
}

fn print_modes(by_mode: &BTreeMap<Mode, Measured>) {
    println!(
        "{:<28} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "generation mode (ms/case)",
        "cases",
        "whole",
        "generate",
        "compile",
        "run",
        "CLIF",
        "other"
    );
    for mode in Mode::ALL {
        let Some(m) = by_mode.get(&mode) else {
            continue;
        };
        let generate = m.sum(|s| *s == Stage::Generation);
        let compile = m.sum(|s| matches!(s, Stage::Compile(_)));
        let run = m.sum(|s| matches!(s, Stage::Instantiate(_) | Stage::Calls(_)));
        let clif = m.sum(|s| *s == Stage::ClifCheck);
        let other = m.wall.saturating_sub(generate + compile + run + clif);
        println!(
            "{:<28} {:>6} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            mode.name(),
            m.cases,
            m.ms_per_case(m.wall),
            m.ms_per_case(generate),
            m.ms_per_case(compile),
            m.ms_per_case(run),
            m.ms_per_case(clif),
            m.ms_per_case(other),
        );
    }
    println!();
}

/// The same seeds on the daemon with two workers (fresh store, no
/// background triage): its cases/s, and what a case costs a worker there
/// beyond the in-process path.
fn daemon_overhead(config: &Config, seeds: Range<u64>, in_process_ms: f64) -> Result<()> {
    let workers = 2;
    let summary = run_daemon(config, seeds, workers)?;
    let rate = summary.cases as f64 / summary.elapsed.as_secs_f64();
    let worker_ms = workers as f64 * 1e3 / rate;
    println!(
        "daemon, {workers} workers: {rate:.1} cases/s; a case takes a worker {worker_ms:.2} ms against {in_process_ms:.2} ms in-process ({:+.1}%: pipes, scheduling, two processes sharing caches and memory bandwidth)",
        100.0 * (worker_ms / in_process_ms - 1.0)
    );
    println!(
        "the supervisor's store writes (checkpoints, hits): {:.3} ms/case, {} restarts",
        summary.store_writes.as_secs_f64() * 1e3 / summary.cases.max(1) as f64,
        summary.restarts
    );
    Ok(())
}

/// The daemon (`crosscheck run`; `bench --daemon` too) on `seeds` with `workers` worker
/// processes, on a fresh temporary store, without background triage: the
/// fuzzing path alone, as the sweep runs it (triage would take CPU from the
/// workers whenever a finding comes up).
pub(super) fn run_daemon(
    config: &Config,
    seeds: std::ops::Range<u64>,
    workers: usize,
) -> Result<supervisor::RunSummary> {
    // Private and unpredictable: the store is created inside it.
    let dir = oracles::temp::private_dir("crosscheck-bench-")?;
    // Workers take their configuration from `text`, in which only the store
    // differs; they never touch the store.
    let mut daemon_config = config.clone();
    daemon_config.store.data_dir = dir.path().to_path_buf();
    daemon_config.daemon.first_seed = seeds.start;
    let limits = RunLimits {
        duration: None,
        cases: Some(seeds.end - seeds.start),
    };
    let summary = supervisor::run(
        &daemon_config,
        workers,
        limits,
        &crate::process::stop_signals::StopSignals::inert(),
        None,
    );
    drop(dir);
    summary
}
