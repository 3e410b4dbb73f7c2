//! A worker process as the supervisor sees it: spawning it isolated from
//! the terminal and tied to the supervisor's life, reading its reports on a
//! thread, measuring its memory, killing it, and saying how it died.

use super::protocol::{Order, Reply};
use crate::config::WORKER_CONFIG_ENV;
use anyhow::{Context, Result};
use oracles::engine::death::DeathKind;
use oracles::engine::has_explicit_checks;
use oracles::judge::kind::FindingKind;
use oracles::pipeline::findings::of_deaths;
use oracles::EngineRun;
use oracles::Finding;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// Lines of a worker's stderr kept for the report of its death.
const STDERR_TAIL_LINES: usize = 20;

/// Something a worker's reader thread saw.
#[derive(Debug)]
pub enum Event {
    /// A report line from worker `slot` (process `generation`).
    Reply {
        /// The worker slot.
        slot: usize,
        /// Which process in that slot.
        generation: u64,
        /// What it said.
        report: Reply,
    },
    /// The worker's stdout closed: it exited or is exiting.
    Closed {
        /// The worker slot.
        slot: usize,
        /// Which process in that slot.
        generation: u64,
    },
}

/// Why the supervisor killed a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillReason {
    /// An engine's phase, or the whole case, ran past this time limit.
    Timeout(Duration),
    /// Resident memory went past the limit.
    Memory {
        /// What was measured, bytes.
        rss: u64,
        /// The limit, bytes.
        limit: u64,
    },
}

/// How a worker's death is classified: `crash`, `hang` or `oom`, a stable
/// description for signatures and the details for the report; not yet
/// tied to the engine that ran ([`Death::in_engine`] does that).
pub use oracles::engine::death::Death;

/// The finding signature of `death` while `engine` ran (`None`: before any
/// engine, in the generator or the harness).
pub fn death_signature(death: &Death, engine: Option<&str>) -> String {
    match engine {
        Some(engine) => death_finding(death, Some(engine), false, "").signature,
        None => format!("{} worker {} in {}", death.kind, death.how, place(None)),
    }
}

/// The finding `death` is while `engine` ran `case` (`seed 7, worker pid
/// 123`), when the case cannot go on without it: as
/// `oracles::pipeline::findings::of_deaths` makes it for the engine alone,
/// or a death of the harness before any engine ran.
pub fn death_finding(death: &Death, engine: Option<&str>, compiling: bool, case: &str) -> Finding {
    let Some(engine) = engine else {
        return Finding {
            signature: death_signature(death, None),
            kind: FindingKind::from(death.kind),
            summary: format!(
                "{} in {} ({case})\n  {}\n",
                death.kind.as_str().to_uppercase(),
                place(None),
                death.detail.replace('\n', "\n  ")
            ),
            suspect: Some(
                "the worker died before any engine ran: suspect the generator or crosscheck".into(),
            ),
            flips: Vec::new(),
        };
    };
    let run = EngineRun::Died(death.in_engine(compiling, has_explicit_checks(engine)));
    let mut finding = of_deaths(&[(oracles::engine::id::EngineId::parse(engine), run)], &[])
        .pop()
        .expect("one death, one finding");
    if !case.is_empty() {
        finding.summary.push_str(&format!("  ({case})\n"));
    }
    finding
}

/// Where in a case a worker was, for signatures and reports.
pub fn place(engine: Option<&str>) -> &str {
    engine.unwrap_or("the harness, before any engine")
}

/// A running worker process.
pub struct WorkerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    killed_for: Option<KillReason>,
    /// When the memory was last read: limits are enforced after every
    /// report (a dozen per case), `/proc` is read at most every
    /// [`MEMORY_READ_EVERY`].
    memory_read: Option<Instant>,
}

/// How often a worker's resident memory is read from `/proc`. Reading it
/// after every report walked `/proc` 600 times a second: 8% of a core in
/// the supervisor, mostly in the kernel (docs/benchmarks.md).
const MEMORY_READ_EVERY: Duration = Duration::from_millis(50);

impl WorkerProcess {
    /// Starts `crosscheck worker` with the supervisor's configuration text,
    /// at `niceness` (0: normal priority). Reports arrive on `events`.
    pub fn spawn(
        config_text: &str,
        slot: usize,
        generation: u64,
        events: mpsc::Sender<Event>,
        niceness: i32,
    ) -> Result<WorkerProcess> {
        let exe = std::env::current_exe().context("finding the crosscheck executable")?;
        let mut command = Command::new(exe);
        command
            .arg("worker")
            .env(WORKER_CONFIG_ENV, config_text)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: a Ctrl-C in the terminal reaches only
            // the supervisor, which then stops the workers in order.
            .process_group(0);
        // SAFETY: prctl and setpriority are async-signal-safe and touch no
        // memory of the parent. PDEATHSIG makes the kernel kill the worker
        // if the supervisor dies (even of SIGKILL), so no orphan keeps
        // running a hung case.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if niceness != 0 && libc::setpriority(libc::PRIO_PROCESS, 0, niceness) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command.spawn().context("starting a worker process")?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        std::thread::Builder::new()
            .name(format!("worker-{slot}-out"))
            .spawn(move || read_reports(stdout, slot, generation, events))
            .context("starting a report reader")?;
        let tail = stderr_tail.clone();
        let pid = child.id();
        std::thread::Builder::new()
            .name(format!("worker-{slot}-err"))
            .spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    tracing::debug!(worker = slot, pid, "{line}");
                    let mut tail = tail.lock().unwrap();
                    if tail.len() == STDERR_TAIL_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            })
            .context("starting a log reader")?;
        Ok(WorkerProcess {
            stdin: child.stdin.take(),
            child,
            stderr_tail,
            killed_for: None,
            memory_read: None,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends an order. A failure means the worker is gone; its `Closed`
    /// event follows.
    pub fn order(&mut self, order: &Order) -> bool {
        let Some(stdin) = &mut self.stdin else {
            return false;
        };
        let line = serde_json::to_string(order).expect("orders always encode");
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .is_ok()
    }

    /// Asks the worker to stop after its current case.
    pub fn request_stop(&mut self) {
        self.stdin = None;
    }

    /// Resident memory in bytes of the worker and the processes it started
    /// (engines of another Wasmtime release run in child processes), from
    /// `/proc`.
    pub fn resident_bytes(&self) -> Option<u64> {
        let own = resident_bytes(self.pid())?;
        Some(
            own + descendants(self.pid())
                .into_iter()
                .filter_map(resident_bytes)
                .sum::<u64>(),
        )
    }

    /// Kills the worker (SIGKILL), remembering why.
    pub fn kill(&mut self, reason: KillReason) {
        self.killed_for.get_or_insert(reason);
        let _ = self.child.kill();
    }

    /// Kills the worker if its case ran past a time limit (`over_time`,
    /// from `process::time_limits`) or its resident memory is over
    /// `memory` bytes.
    pub fn enforce_limits(&mut self, over_time: Option<Duration>, memory: u64) {
        if let Some(limit) = over_time {
            self.kill(KillReason::Timeout(limit));
        }
        if self
            .memory_read
            .is_some_and(|at| at.elapsed() < MEMORY_READ_EVERY)
        {
            return;
        }
        self.memory_read = Some(Instant::now());
        if let Some(rss) = self.resident_bytes().filter(|&rss| rss > memory) {
            self.kill(KillReason::Memory { rss, limit: memory });
        }
    }

    /// Kills the worker without it counting as a finding (the daemon is
    /// stopping and the worker did not finish its case in time).
    pub fn kill_quietly(&mut self) -> std::io::Result<()> {
        self.child.kill()
    }

    /// Waits for the process to exit (killing it if it lingers after
    /// closing its stdout) and classifies the exit.
    pub fn reap(mut self) -> (ExitStatus, Death) {
        let deadline = Instant::now() + Duration::from_secs(2);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    let _ = self.child.kill();
                    break self.child.wait().expect("waiting for a killed child");
                }
            }
        };
        // Let the stderr reader drain what the process wrote last.
        std::thread::sleep(Duration::from_millis(50));
        let tail: Vec<String> = self.stderr_tail.lock().unwrap().iter().cloned().collect();
        let death = classify(status, self.killed_for, &tail.join("\n"));
        (status, death)
    }
}

fn read_reports(
    stdout: std::process::ChildStdout,
    slot: usize,
    generation: u64,
    events: mpsc::Sender<Event>,
) {
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        match serde_json::from_str::<Reply>(&line) {
            Ok(report) => {
                let event = Event::Reply {
                    slot,
                    generation,
                    report,
                };
                if events.send(event).is_err() {
                    return;
                }
            }
            // Something in the worker wrote to stdout: not ours to trust.
            Err(_) => tracing::warn!(worker = slot, "ignoring a stray output line: {line:?}"),
        }
    }
    let _ = events.send(Event::Closed { slot, generation });
}

/// Resident set size of a process in bytes, if it exists.
pub fn resident_bytes(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * page.max(1) as u64)
}

/// Every process below `pid` (its children, theirs, ...), from
/// `/proc/<pid>/task/<tid>/children`.
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut next = vec![pid];
    while let Some(parent) = next.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{parent}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                found.push(child);
                next.push(child);
            }
        }
    }
    found
}

/// Classifies a worker's exit as a finding kind and a stable description
/// (not yet tied to an engine: `compiling` is false).
pub fn classify(status: ExitStatus, killed_for: Option<KillReason>, stderr_tail: &str) -> Death {
    match killed_for {
        Some(KillReason::Timeout(limit)) => Death::new(
            DeathKind::Hang,
            "ran past its time limit".into(),
            format!(
                "killed after {} s in one step (compiling, instantiating, or one call of the plan)",
                limit.as_secs()
            ),
            stderr_tail,
        ),
        Some(KillReason::Memory { rss, limit }) => Death::new(
            DeathKind::Oom,
            "resident memory exceeded the limit".into(),
            format!(
                "killed at {} MiB resident, limit {} MiB",
                rss >> 20,
                limit >> 20
            ),
            stderr_tail,
        ),
        None => Death::of_exit(status, stderr_tail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_engine(death: &Death, engine: &str, compiling: bool) -> Death {
        death.in_engine(compiling, has_explicit_checks(engine))
    }
    use std::os::unix::process::ExitStatusExt;

    fn signalled(signal: i32) -> ExitStatus {
        ExitStatus::from_raw(signal)
    }

    #[test]
    fn deaths_are_classified_with_stable_descriptions() {
        let segv = classify(signalled(libc::SIGSEGV), None, "");
        assert_eq!(
            (segv.kind.as_str(), segv.how.as_str()),
            ("crash", "killed by SIGSEGV")
        );
        let abort = classify(signalled(libc::SIGABRT), None, "assertion failed");
        assert_eq!(abort.kind.as_str(), "crash");
        assert!(abort.detail.contains("assertion failed"));
        let alloc = classify(
            signalled(libc::SIGABRT),
            None,
            "memory allocation of 1048576 bytes failed",
        );
        assert_eq!(alloc.kind.as_str(), "oom");
        let hang = classify(
            signalled(libc::SIGKILL),
            Some(KillReason::Timeout(Duration::from_secs(30))),
            "",
        );
        assert_eq!(
            (hang.kind.as_str(), hang.detail.as_str()),
            (
                "hang",
                "killed after 30 s in one step (compiling, instantiating, or one call of the plan)"
            )
        );
        let oom = classify(
            signalled(libc::SIGKILL),
            Some(KillReason::Memory {
                rss: 5 << 30,
                limit: 4 << 30,
            }),
            "",
        );
        assert_eq!(oom.kind.as_str(), "oom");
        assert!(oom.detail.contains("5120 MiB"));
        assert_eq!(
            classify(signalled(libc::SIGKILL), None, "").kind.as_str(),
            "oom"
        );
        let panic = classify(ExitStatus::from_raw(101 << 8), None, "thread 'x' panicked");
        assert_eq!(
            (panic.kind.as_str(), panic.how.as_str()),
            ("crash", "exited with status 101")
        );
    }

    #[test]
    fn a_limit_hit_while_compiling_is_a_compile_blowup_and_while_running_a_hang_or_oom() {
        let timeout = classify(
            signalled(libc::SIGKILL),
            Some(KillReason::Timeout(Duration::from_secs(30))),
            "",
        );
        let compiling = death_finding(&timeout, Some("cranelift"), true, "seed 7");
        assert_eq!(
            (compiling.kind.as_str(), compiling.signature.as_str()),
            ("compile-time", "compile-time cranelift")
        );
        assert!(
            compiling.summary.starts_with(
                "COMPILE-TIME\n  cranelift did not finish compiling: ran past its time limit\n  killed after 30 s"
            ),
            "{}",
            compiling.summary
        );
        assert!(compiling.summary.ends_with("(seed 7)\n"));
        let running = death_finding(&timeout, Some("cranelift"), false, "seed 7");
        // An engine with fuel or an epoch deadline escaped its budget; one
        // without either ran on where engines with one ended.
        assert_eq!(
            (running.kind.as_str(), running.signature.as_str()),
            (
                "limit-escape",
                "limit-escape cranelift ran on past its fuel or epoch deadline"
            )
        );
        // With no engine that ended to weigh it against, the hang is
        // blamed on the family, never on the one engine the limit reached.
        let unbudgeted = death_finding(&timeout, Some("wasmtime-default"), false, "seed 7");
        assert_eq!(
            (unbudgeted.kind.as_str(), unbudgeted.signature.as_str()),
            (
                "mismatch",
                "mismatch run {cranelift-opt}=hang blame cranelift-opt"
            )
        );
        let memory = KillReason::Memory {
            rss: 5 << 30,
            limit: 4 << 30,
        };
        let oom = classify(signalled(libc::SIGKILL), Some(memory), "");
        assert_eq!(
            death_finding(&oom, Some("cranelift"), true, "seed 7").signature,
            "compile-memory cranelift"
        );
        // A crash while compiling stays a crash; a death outside any engine
        // is the harness's whatever the phase.
        let segv = classify(signalled(libc::SIGSEGV), None, "");
        assert_eq!(
            death_finding(&segv, Some("cranelift"), true, "seed 7")
                .kind
                .as_str(),
            "crash"
        );
        assert_eq!(
            death_finding(&timeout, None, true, "seed 7").kind.as_str(),
            "hang"
        );
    }

    #[test]
    fn crashes_with_evidence_of_an_access_outside_linear_memory_are_breaches() {
        let segv = classify(signalled(libc::SIGSEGV), None, "");
        // Code with explicit bounds checks never faults by design.
        let breach = in_engine(&segv, "cranelift-tail-explicit", false);
        assert_eq!(breach.kind.as_str(), "breach");
        assert_eq!(
            breach.how,
            "a memory fault in code compiled with explicit bounds checks (killed by SIGSEGV)"
        );
        let finding = death_finding(
            &segv,
            Some("cranelift-notail-explicit+fault-add"),
            false,
            "seed 1",
        );
        assert_eq!(finding.kind.as_str(), "breach");
        // Not while compiling, not under guard pages, not wasmi.
        assert_eq!(
            in_engine(&segv, "cranelift-tail-explicit", true)
                .kind
                .as_str(),
            "crash"
        );
        assert_eq!(
            in_engine(&segv, "cranelift-tail-signals", false)
                .kind
                .as_str(),
            "crash"
        );
        assert_eq!(in_engine(&segv, "wasmi", false).kind.as_str(), "crash");
        // Wasmtime's own words, whatever the variant and signal.
        let abort = classify(
            signalled(libc::SIGABRT),
            None,
            "Wasmtime caught a segfault for a wasm program because the faulting instruction\nis allowed to segfault due to how linear memories are implemented. The address\nthat was accessed, however, is not known to any linear memory in use within this\nStore.",
        );
        let breach = in_engine(&abort, "cranelift-tail-signals", false);
        assert_eq!(
            (breach.kind.as_str(), breach.how.as_str()),
            (
                "breach",
                "Wasmtime caught a fault outside every linear memory (killed by SIGABRT)"
            )
        );
        assert_eq!(
            death_signature(&abort, Some("cranelift-tail-signals")),
            "breach Wasmtime caught a fault outside every linear memory (killed by SIGABRT) in cranelift-tail-signals"
        );
        // A hang stays a hang.
        let hang = classify(
            signalled(libc::SIGKILL),
            Some(KillReason::Timeout(Duration::from_secs(1))),
            "",
        );
        assert_eq!(
            in_engine(&hang, "cranelift-tail-explicit", false)
                .kind
                .as_str(),
            "hang"
        );
    }

    #[test]
    fn resident_memory_of_this_process_is_measured() {
        let rss = resident_bytes(std::process::id()).unwrap();
        assert!(rss > 1 << 20, "{rss}");
        assert_eq!(resident_bytes(u32::MAX), None);
    }

    #[test]
    fn the_processes_a_worker_started_are_found() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let below = descendants(std::process::id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(below.contains(&child.id()), "{below:?}");
    }
}
