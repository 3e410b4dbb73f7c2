//! Engines of another Wasmtime release in the same matrix: a name ending in
//! `@MAJOR` (`cranelift-tail-signals@38`) runs that variant on crosscheck
//! built against Wasmtime MAJOR (`crosscheck build-release MAJOR` puts it in
//! the builds cache), in a child process that serves one engine over
//! stdin and stdout ([`serve`]).
//!
//! Two Wasmtime releases cannot share one process without renaming one of
//! them in the dependency graph, which would double the build of every
//! run and tie the workspace to one pair of releases; a child process per
//! engine costs a pipe round trip per case instead, reuses the builds that
//! `bisect` already keeps, and isolates a crash of the other release. The
//! child measures its own compiles (time, CPU, peak heap), so compile
//! costs are comparable across releases.

use crate::case::plan::Plan;
use crate::cost::compile::{measure, CompileCost};
use crate::cost::heap::Heap;
use crate::engine::{build_engine, Engine, ExecutionConfig};
use crate::judge::death::Death;
use crate::judge::outcome::EngineRun;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmparser::WasmFeatures;

/// The hidden subcommand of the crosscheck binary that runs [`serve`].
pub const SERVE_COMMAND: &str = "serve-engine";

/// Changed whenever a message below changes: a build of another release
/// made from older source is refused by name instead of misread.
const PROTOCOL: u32 = 1;

/// `(base name, release major)` of an engine name: `("cranelift-tail-signals",
/// Some(38))` for `cranelift-tail-signals@38`, `(name, None)` for an engine
/// of the linked release.
pub fn split_version(name: &str) -> (&str, Option<u64>) {
    match name.rsplit_once('@') {
        Some((base, major)) => match major.parse() {
            Ok(major) => (base, Some(major)),
            Err(_) => (name, None),
        },
        None => (name, None),
    }
}

/// The major release of Wasmtime this build links (`48` for 48.0.8).
pub fn linked_major() -> u64 {
    crate::versions::WASMTIME
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .expect("Cargo.lock names Wasmtime's version")
}

/// The release an engine runs on: its `@MAJOR`, else the linked one.
pub fn release_of(name: &str) -> u64 {
    split_version(name).1.unwrap_or_else(linked_major)
}

static BUILDS: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Where builds of other releases are found: `<dir>/wasmtime-<major>/`
/// holds `crosscheck` and `version` (the cache of `crosscheck
/// build-release` and `bisect`).
pub fn use_builds(dir: &Path) {
    *BUILDS.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.to_path_buf());
}

/// crosscheck built against Wasmtime `major` and its exact version.
pub fn build_of(major: u64) -> Result<(PathBuf, String)> {
    let cache = BUILDS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let Some(cache) = cache else {
        bail!("no builds cache is set for engines of Wasmtime {major} (this program runs only the linked Wasmtime {})", crate::versions::WASMTIME);
    };
    let dir = cache.join(format!("wasmtime-{major}"));
    let binary = dir.join("crosscheck");
    let version = std::fs::read_to_string(dir.join("version"));
    match version {
        Ok(version) if binary.is_file() => Ok((binary, version.trim().to_string())),
        _ => bail!(
            "no crosscheck built against Wasmtime {major} in {}: run `crosscheck build-release {major}` (minutes) first",
            cache.display()
        ),
    }
}

/// Client to the child: one request per line.
#[derive(Debug, Serialize, Deserialize)]
// Externally tagged: serde's buffering of internally tagged enums cannot
// hold the u128 of a v128 value.
#[serde(rename_all = "snake_case")]
enum Request {
    /// Build this engine with these limits (the first request).
    Open {
        engine: String,
        limits: ExecutionConfig,
    },
    /// Compile, instantiate and run the plan.
    Execute { wasm_hex: String, plan: Plan },
    /// Compile only, measured.
    Compile { wasm_hex: String },
}

/// Child to client: one reply per line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Reply {
    /// The engine is built.
    Opened {
        protocol: u32,
        wasmtime: String,
        settings: String,
        /// wasmparser's feature names (its bits differ between releases).
        features: Vec<String>,
    },
    /// The engine could not be built (an unknown name in that release).
    Refused { error: String },
    /// Compiling is over; running begins (then `Ran`).
    Compiled,
    /// The run of an `Execute`.
    Ran { run: EngineRun },
    /// The measured compile of a `Compile`: `None` if the engine refused
    /// the module or panicked.
    Measured {
        outcome: Result<(), String>,
        wall_ns: u64,
        cpu_ns: Option<u64>,
        peak_heap: Option<u64>,
    },
}

/// A running child serving one engine.
struct Served {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The last lines the child wrote to stderr, for a death's report.
    stderr: Arc<Mutex<VecDeque<String>>>,
}

/// An engine of another Wasmtime release, run in a child process.
pub struct OtherVersionEngine {
    name: String,
    base: String,
    major: u64,
    version: String,
    binary: PathBuf,
    limits: ExecutionConfig,
    settings: String,
    features: WasmFeatures,
    child: Mutex<Option<Served>>,
}

impl OtherVersionEngine {
    /// Starts `name` (`BASE@MAJOR`) on the cached build of Wasmtime MAJOR.
    pub fn start(name: &str, limits: &ExecutionConfig) -> Result<OtherVersionEngine> {
        let (base, Some(major)) = split_version(name) else {
            bail!("engine {name:?} names no Wasmtime release (BASE@MAJOR)");
        };
        let (binary, version) = build_of(major)?;
        let mut engine = OtherVersionEngine {
            name: name.to_string(),
            base: base.to_string(),
            major,
            version,
            binary,
            limits: limits.clone(),
            settings: String::new(),
            features: WasmFeatures::empty(),
            child: Mutex::new(None),
        };
        let (child, settings, features) = engine.spawn()?;
        engine.settings = settings;
        engine.features = features;
        *engine.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
        Ok(engine)
    }

    /// The exact Wasmtime version the engine runs (`38.0.4`).
    pub fn version(&self) -> &str {
        &self.version
    }

    fn spawn(&self) -> Result<(Served, String, WasmFeatures)> {
        let what = || {
            format!(
                "starting {} (crosscheck built against Wasmtime {}) for engine {:?}",
                self.binary.display(),
                self.version,
                self.name
            )
        };
        let mut child = Command::new(&self.binary)
            .arg(SERVE_COMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(what)?;
        let stdin = child.stdin.take().context("the child's stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("the child's stdout")?);
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(pipe) = child.stderr.take() {
            let tail = Arc::clone(&stderr);
            std::thread::spawn(move || keep_tail(pipe, &tail));
        }
        let mut served = Served {
            child,
            stdin,
            stdout,
            stderr,
        };
        let opened = send(
            &mut served,
            &Request::Open {
                engine: self.base.clone(),
                limits: self.limits.clone(),
            },
        )
        .and_then(|()| receive(&mut served));
        let opened = match opened {
            Ok(reply) => reply,
            Err(e) => {
                let _ = served.child.kill();
                let tail = tail_text(&served.stderr);
                return Err(e).with_context(|| format!("{}; its stderr:\n{tail}", what()));
            }
        };
        match opened {
            Reply::Opened {
                protocol,
                settings,
                features,
                wasmtime,
            } => {
                if protocol != PROTOCOL {
                    bail!(
                        "{} speaks protocol {protocol}, this crosscheck {PROTOCOL}: it was built from other source; rebuild it with `crosscheck build-release {} --rebuild`",
                        self.binary.display(),
                        self.major
                    );
                }
                let features = features
                    .iter()
                    .filter_map(|f| WasmFeatures::from_name(f))
                    .fold(WasmFeatures::empty(), |all, f| all | f);
                let settings = format!(
                    "Wasmtime {wasmtime} ({}): {settings}",
                    self.binary.display()
                );
                Ok((served, settings, features))
            }
            Reply::Refused { error } => bail!(
                "crosscheck built against Wasmtime {} refused engine {:?}: {error}",
                self.version,
                self.base
            ),
            other => bail!("{}: unexpected first reply {other:?}", what()),
        }
    }

    /// Sends `request` to a running child (started again if an earlier
    /// one died) and hands every reply to `on_reply` until it returns
    /// `Some`; if the child dies first, `Err` with its death.
    fn ask<T>(
        &self,
        request: &Request,
        mut on_reply: impl FnMut(Reply) -> Option<T>,
    ) -> Result<T, Death> {
        let mut slot = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            match self.spawn() {
                Ok((child, _, _)) => *slot = Some(child),
                Err(e) => {
                    return Err(Death::new(
                        "crash",
                        format!("the Wasmtime {} process did not start", self.major),
                        format!("{e:#}"),
                        "",
                    ))
                }
            }
        }
        let child = slot.as_mut().expect("started above");
        let answer = send(child, request).and_then(|()| loop {
            match on_reply(receive(child)?) {
                Some(answer) => break Ok(answer),
                None => continue,
            }
        });
        match answer {
            Ok(answer) => Ok(answer),
            Err(error) => {
                let mut dead = slot.take().expect("asked above");
                let died = matches!(
                    error.kind(),
                    std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::BrokenPipe
                );
                if !died {
                    let _ = dead.child.kill();
                }
                let status = dead.child.wait();
                // The reader thread holds the last lines once the pipe closes.
                std::thread::sleep(Duration::from_millis(20));
                let tail = tail_text(&dead.stderr);
                Err(match status {
                    Ok(status) if died => Death::of_exit(status, &tail),
                    Ok(_) => Death::new(
                        "crash",
                        "answered outside the protocol".into(),
                        format!("the Wasmtime {} process answered: {error}", self.major),
                        &tail,
                    ),
                    Err(e) => Death::new("crash", "vanished".into(), e.to_string(), &tail),
                })
            }
        }
    }
}

impl Engine for OtherVersionEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn settings(&self) -> String {
        self.settings.clone()
    }

    fn features(&self) -> WasmFeatures {
        self.features
    }

    fn compile(&self, wasm: &[u8]) -> Result<(), String> {
        match self.measured_compile(wasm) {
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e),
            None => Err("the engine's process died compiling".into()),
        }
    }

    fn measured_compile(&self, wasm: &[u8]) -> Option<Result<CompileCost, String>> {
        let request = Request::Compile {
            wasm_hex: hex::encode(wasm),
        };
        let measured = self.ask(&request, |reply| match reply {
            Reply::Measured {
                outcome,
                wall_ns,
                cpu_ns,
                peak_heap,
            } => Some(outcome.map(|()| CompileCost {
                wall: Duration::from_nanos(wall_ns),
                cpu: cpu_ns.map(Duration::from_nanos),
                peak_heap,
            })),
            _ => None,
        });
        measured.ok()
    }

    fn execute_observed(&self, wasm: &[u8], plan: &Plan, compiled: &mut dyn FnMut()) -> EngineRun {
        let request = Request::Execute {
            wasm_hex: hex::encode(wasm),
            plan: plan.clone(),
        };
        let mut running = false;
        let ran = self.ask(&request, |reply| match reply {
            Reply::Compiled => {
                running = true;
                compiled();
                None
            }
            Reply::Ran { run } => Some(run),
            _ => None,
        });
        ran.unwrap_or_else(|death| EngineRun::Died(death.in_engine(&self.name, !running)))
    }
}

fn send(child: &mut Served, request: &Request) -> std::io::Result<()> {
    let mut line = serde_json::to_string(request).map_err(std::io::Error::other)?;
    line.push('\n');
    child.stdin.write_all(line.as_bytes())?;
    child.stdin.flush()
}

fn receive(child: &mut Served) -> std::io::Result<Reply> {
    let mut line = String::new();
    if child.stdout.read_line(&mut line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    serde_json::from_str(&line).map_err(std::io::Error::other)
}

fn keep_tail(pipe: impl std::io::Read, tail: &Mutex<VecDeque<String>>) {
    for line in BufReader::new(pipe).lines().map_while(|l| l.ok()) {
        let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
        tail.push_back(line);
        if tail.len() > 20 {
            tail.pop_front();
        }
    }
}

fn tail_text(tail: &Mutex<VecDeque<String>>) -> String {
    let tail = tail.lock().unwrap_or_else(|e| e.into_inner());
    tail.iter().cloned().collect::<Vec<_>>().join("\n")
}

/// The child's side: builds the engine the first request names and
/// answers requests on `input` until it closes. Dies with its parent.
pub fn serve(input: impl BufRead, mut output: impl Write) -> Result<()> {
    exit_with_parent();
    let mut reply = |reply: &Reply| -> Result<()> {
        let mut line = serde_json::to_string(reply)?;
        line.push('\n');
        output.write_all(line.as_bytes())?;
        output.flush()?;
        Ok(())
    };
    let mut engine: Option<Box<dyn Engine>> = None;
    for line in input.lines() {
        let line = line.context("reading a request")?;
        let request: Request =
            serde_json::from_str(&line).with_context(|| format!("a malformed request {line:?}"))?;
        match request {
            Request::Open {
                engine: name,
                limits,
            } => match build_engine(&name, &limits) {
                Ok(built) => {
                    reply(&Reply::Opened {
                        protocol: PROTOCOL,
                        wasmtime: crate::versions::WASMTIME.to_string(),
                        settings: built.settings(),
                        features: built
                            .features()
                            .iter_names()
                            .map(|(name, _)| name.to_string())
                            .collect(),
                    })?;
                    engine = Some(built);
                }
                Err(e) => reply(&Reply::Refused {
                    error: format!("{e:#}"),
                })?,
            },
            Request::Execute { wasm_hex, plan } => {
                let engine = engine.as_deref().context("Execute before Open")?;
                let wasm = hex::decode(wasm_hex).context("a module that is not hex")?;
                let mut compiled_sent = Ok(());
                let run = crate::engine::matrix::run_caught(engine, &wasm, &plan, &mut || {
                    compiled_sent = reply(&Reply::Compiled);
                });
                compiled_sent?;
                reply(&Reply::Ran { run })?;
            }
            Request::Compile { wasm_hex } => {
                let engine = engine.as_deref().context("Compile before Open")?;
                let wasm = hex::decode(wasm_hex).context("a module that is not hex")?;
                let cost = measure(engine, &wasm, Some(&Heap));
                let (outcome, cost) = match cost {
                    Some(cost) => (Ok(()), Some(cost)),
                    None => (Err("refused or panicked".to_string()), None),
                };
                reply(&Reply::Measured {
                    outcome,
                    wall_ns: cost.as_ref().map_or(0, |c| c.wall.as_nanos() as u64),
                    cpu_ns: cost
                        .as_ref()
                        .and_then(|c| c.cpu)
                        .map(|c| c.as_nanos() as u64),
                    peak_heap: cost.and_then(|c| c.peak_heap),
                })?;
            }
        }
    }
    Ok(())
}

/// Ends this process soon after its parent ends, even in the middle of a
/// compile that hangs: the parent (a worker process) may be killed at its
/// time or memory limit. `PR_SET_PDEATHSIG` would fire when the parent's
/// spawning *thread* ends, which a worker's case threads do.
fn exit_with_parent() {
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: as above.
        if unsafe { libc::getppid() } != parent {
            std::process::exit(1);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_base_and_release() {
        assert_eq!(
            split_version("cranelift-tail-signals+nofuel@38"),
            ("cranelift-tail-signals+nofuel", Some(38))
        );
        assert_eq!(split_version("wasmi"), ("wasmi", None));
        assert_eq!(split_version("a@b"), ("a@b", None));
        assert_eq!(release_of("pulley-tail-signals@36"), 36);
        assert_eq!(release_of("pulley-tail-signals"), linked_major());
    }

    #[test]
    fn a_missing_build_is_named_with_the_command_that_makes_it() {
        let dir = std::env::temp_dir().join(format!("crosscheck-no-builds-{}", std::process::id()));
        use_builds(&dir);
        let err =
            OtherVersionEngine::start("cranelift-tail-signals@37", &ExecutionConfig::default())
                .err()
                .unwrap();
        let text = format!("{err:#}");
        assert!(text.contains("crosscheck build-release 37"), "{text}");
    }
}
