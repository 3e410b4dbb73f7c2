//! Engines of another Wasmtime release in the same matrix: a name ending in
//! `@MAJOR` (`cranelift-tail-signals@38`) runs that variant on crosscheck
//! built against Wasmtime MAJOR (`crosscheck build-release MAJOR` puts it in
//! the builds cache), in a child process that serves one engine over
//! stdin and stdout (`pipeline::serve_engine`).
//!
//! Two Wasmtime releases cannot share one process without renaming one of
//! them in the dependency graph, which would double the build of every
//! run and tie the workspace to one pair of releases; a child process per
//! engine costs a pipe round trip per case instead, reuses the builds that
//! `bisect` already keeps, and isolates a crash of the other release. The
//! child measures its own compiles (time, CPU, peak heap), so compile
//! costs are comparable across releases.

pub use super::id::linked_major;
use super::id::EngineId;
use crate::case::plan::Plan;
use crate::case::rules::catalog::{add_reference_sources, has_reference_sources};
use crate::engine::clock::CompileCost;
use crate::engine::death::{Death, DeathKind};
use crate::engine::outcome::EngineRun;
use crate::engine::{
    has_explicit_checks, Capabilities, Engine, EngineError, ExecutionConfig, MeasuresCompiles,
};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmparser::WasmFeatures;

/// The hidden subcommand of the crosscheck binary that runs `pipeline::serve_engine::serve`.
pub const SERVE_COMMAND: &str = "serve-engine";

/// Changed whenever a message below changes: a build of another release
/// made from older source is refused by name instead of misread.
pub(crate) const PROTOCOL: u32 = 4;

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
        bail!("no builds cache is set for engines of Wasmtime {major} (this program runs only the linked Wasmtime {}, and releases whose C API library `crosscheck build-release {major} --c-api` fetched)", crate::versions::WASMTIME);
    };
    let dir = cache.join(format!("wasmtime-{major}"));
    let binary = dir.join("crosscheck");
    let version = std::fs::read_to_string(dir.join("version"));
    match version {
        Ok(version) if binary.is_file() => Ok((binary, version.trim().to_string())),
        _ => bail!(
            "no crosscheck built against Wasmtime {major} in {}: run `crosscheck build-release {major}` (minutes) first, or `crosscheck build-release {major} --c-api` (seconds: Wasmtime's published C API library of that release, into {})",
            cache.display(),
            c_api_cache().map_or_else(|e| format!("{e:#}"), |dir| dir.display().to_string())
        ),
    }
}

/// The name of a release's C API library in its directory.
pub const LIBRARY_FILE: &str = "libwasmtime.so";

/// Where Wasmtime releases' C API libraries (`engine::c_api`) are kept for
/// every data directory of this user: `$XDG_CACHE_HOME/crosscheck/c-api`
/// (or `$HOME/.cache/...`), a `wasmtime-<major>/` each holding the library
/// and its `version`. `CROSSCHECK_C_API_CACHE` overrides it. Never a
/// shared directory such as `/tmp`, where another user could plant a
/// library: without either variable there is no cache, and the error
/// says so.
pub fn c_api_cache() -> Result<PathBuf> {
    let set = |name| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = set("CROSSCHECK_C_API_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    let base = set("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|h| PathBuf::from(h).join(".cache")));
    match base {
        Some(base) => Ok(base.join("crosscheck").join("c-api")),
        None => bail!(
            "neither XDG_CACHE_HOME nor HOME is set, so there is no private cache for Wasmtime's C API libraries (crosscheck never keeps code it loads in a shared directory such as /tmp): set one of them, or CROSSCHECK_C_API_CACHE"
        ),
    }
}

/// The C API library of Wasmtime `major` and its exact version, if the
/// pinned release of `major` was fetched into [`c_api_cache`] (its bytes
/// are verified when it is loaded).
pub fn c_api_library_of(major: u64) -> Option<(PathBuf, String)> {
    let pin = super::c_api::pinned::of_major(major).ok()?;
    let dir = c_api_cache().ok()?.join(format!("wasmtime-{major}"));
    let library = dir.join(LIBRARY_FILE);
    let version = std::fs::read_to_string(dir.join("version")).ok()?;
    (library.is_file() && version.trim() == pin.version).then(|| (library, pin.version.to_string()))
}

/// Client to the child: one request per line.
#[derive(Debug, Serialize, Deserialize)]
// Externally tagged: serde's buffering of internally tagged enums cannot
// hold the u128 of a v128 value.
#[serde(rename_all = "snake_case")]
// One request per module crosses a pipe as JSON: the in-memory size of a
// variant costs nothing next to that.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Request {
    /// Build this engine with these limits (the first request).
    Open {
        engine: String,
        limits: ExecutionConfig,
        /// `limits.supervised`, which configuration files cannot set: the
        /// child ends with its parent, so it is supervised when that is.
        #[serde(default)]
        supervised: bool,
    },
    /// Compile, instantiate and run the plan.
    Execute { wasm_hex: String, plan: Plan },
    /// Compile only, measured.
    Compile { wasm_hex: String },
    /// The ISLE sources of the child's Cranelift (no `Open` needed).
    RuleSources,
    /// Whether the child's optimizer rewrote the root instruction of its
    /// rule `rule` (`file:line`) in the first `functions` functions
    /// (`case::rules::code_change`; no `Open` needed).
    Rewrote {
        wasm_hex: String,
        functions: usize,
        rule: String,
    },
}

/// Child to client: one reply per line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// One reply per module crosses a pipe as JSON (as `Request`).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Reply {
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
    /// The child's ISLE sources: `(path under cranelift-codegen's src/,
    /// text)`.
    RuleSources { sources: Vec<(String, String)> },
    /// The measured compile of a `Compile`; `Err` if the engine refused
    /// the module or panicked.
    Measured { cost: Result<CompileCost, String> },
    /// The answer to a `Rewrote`: `None` for a rule that is not a mid-end
    /// rule of the child's Cranelift.
    Rewrote {
        rewrote: Result<Option<bool>, String>,
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

impl Served {
    /// Starts `binary serve-engine`, its stderr's last lines kept.
    fn start(binary: &Path) -> Result<Served> {
        let mut child = Command::new(binary)
            .arg(SERVE_COMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take().context("the child's stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("the child's stdout")?);
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(pipe) = child.stderr.take() {
            let tail = Arc::clone(&stderr);
            std::thread::spawn(move || keep_tail(pipe, &tail));
        }
        Ok(Served {
            child,
            stdin,
            stdout,
            stderr,
        })
    }
}

/// Makes rule-guided generation aim also at the rules of Wasmtime
/// `major`'s Cranelift that the linked one lacks (once per process): its
/// cached build hands over its ISLE sources; for a release run through
/// its C API library, they are read from its crates in Cargo's cache
/// (`case::release_sources`, fetched by the daemon before). Every process
/// that generates cases or reports rule coverage for a matrix with that
/// release calls it before the first case, so one seed is one module
/// everywhere.
pub fn add_rules_of_release(major: u64) -> Result<()> {
    if has_reference_sources(major) {
        return Ok(());
    }
    let (binary, version) = match (build_of(major), c_api_library_of(major)) {
        (Ok(found), _) => found,
        (Err(_), Some((_, version))) => {
            let sources = crate::case::release_sources::locate(&version)
                .and_then(|found| found.isle_sources())
                .with_context(|| format!("the Cranelift rules of Wasmtime {version}"))?;
            add_reference_sources(major, sources);
            return Ok(());
        }
        (Err(e), None) => return Err(e),
    };
    let asking =
        || format!("asking crosscheck built against Wasmtime {version} for its Cranelift rules");
    let mut served = Served::start(&binary).with_context(asking)?;
    let reply = send(&mut served, &Request::RuleSources)
        .and_then(|()| receive(&mut served))
        .with_context(asking)?;
    // Closing its stdin ends the child.
    drop(served.stdin);
    let _ = served.child.wait();
    match reply {
        Reply::RuleSources { sources } => {
            add_reference_sources(major, sources);
            Ok(())
        }
        other => bail!("{}: unexpected reply {other:?}", asking()),
    }
}

/// How the candidate (the newer) of two releases in a matrix shows
/// whether its optimizer rewrote an aimed rule's instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CandidateRewrites {
    /// The candidate is the linked release, checked in this process
    /// (`case::rules::code_change`); its rules are the catalog's own.
    Linked,
    /// The candidate is crosscheck built against this release, asked
    /// ([`rewrote_on_release`]); its rules are the catalog's `@MAJOR` ones.
    Build(u64),
    /// The candidate cannot show it, and why.
    Unobservable(String),
}

/// How the candidate of this process's matrix shows its optimizer's
/// rewrites; `None` with one release (no other release's rules were read).
pub fn candidate_rewrites() -> Option<CandidateRewrites> {
    let other = crate::case::rules::catalog::reference_majors()
        .into_iter()
        .max()?;
    Some(if other < linked_major() {
        CandidateRewrites::Linked
    } else if build_of(other).is_ok() {
        CandidateRewrites::Build(other)
    } else {
        CandidateRewrites::Unobservable(format!(
            "Wasmtime {other} runs through its C API library, which writes no CLIF: whether a rule fired there is not known"
        ))
    })
}

/// Whether the optimizer of crosscheck built against Wasmtime `major`
/// rewrote the root instruction of its rule `rule` (`file:line`, as that
/// release numbers it) in the first `functions` functions of `wasm`:
/// what `case::rules::code_change` tells of the linked release, asked of
/// the build (one child per release and process, kept for later asks).
/// `Ok(None)`: not a mid-end rule there. `Err`: no build of `major` (a
/// release run through its C API library writes no CLIF), or the child
/// failed.
pub fn rewrote_on_release(
    major: u64,
    wasm: &[u8],
    functions: usize,
    rule: &str,
) -> Result<Option<bool>> {
    static CHILDREN: Mutex<Vec<(u64, Served)>> = Mutex::new(Vec::new());
    let mut children = CHILDREN.lock().unwrap_or_else(|e| e.into_inner());
    let position = match children.iter().position(|(m, _)| *m == major) {
        Some(position) => position,
        None => {
            let (binary, _) = build_of(major)?;
            children.push((major, Served::start(&binary)?));
            children.len() - 1
        }
    };
    let request = Request::Rewrote {
        wasm_hex: hex::encode(wasm),
        functions,
        rule: rule.to_string(),
    };
    let served = &mut children[position].1;
    let reply = send(served, &request).and_then(|()| receive(served));
    let asking = || {
        format!(
            "asking crosscheck built against Wasmtime {major} whether its optimizer rewrote {rule}"
        )
    };
    match reply {
        Ok(Reply::Rewrote { rewrote }) => {
            rewrote.map_err(|e| anyhow::anyhow!(e)).with_context(asking)
        }
        other => {
            // A child that failed once is not asked again: the next ask
            // starts another.
            let (_, mut dead) = children.remove(position);
            let _ = dead.child.kill();
            let _ = dead.child.wait();
            match other {
                Ok(reply) => bail!("{}: unexpected reply {reply:?}", asking()),
                Err(e) => Err(e).with_context(asking),
            }
        }
    }
}

/// An engine of another Wasmtime release, run in a child process.
pub struct OtherReleaseEngine {
    name: String,
    base: String,
    major: u64,
    version: String,
    binary: PathBuf,
    limits: ExecutionConfig,
    settings: String,
    features: WasmFeatures,
    /// Idle children: a thread takes one for a request (starting one when
    /// none is idle) and gives it back after, so threads sharing the
    /// matrix (`sweep --jobs`) do not wait for each other.
    idle: Mutex<Vec<Served>>,
}

impl OtherReleaseEngine {
    /// Starts `name` (`BASE@MAJOR`) on the cached build of Wasmtime MAJOR.
    pub fn start(name: &str, limits: &ExecutionConfig) -> Result<OtherReleaseEngine> {
        let id = EngineId::parse(name);
        let Some(major) = id.release() else {
            bail!("engine {name:?} names no Wasmtime release (BASE@MAJOR)");
        };
        let base = id.on_release(None);
        let (binary, version) = build_of(major)?;
        let mut engine = OtherReleaseEngine {
            name: name.to_string(),
            base: base.to_string(),
            major,
            version,
            binary,
            limits: limits.clone(),
            settings: String::new(),
            features: WasmFeatures::empty(),
            idle: Mutex::new(Vec::new()),
        };
        let (child, settings, features) = engine.spawn()?;
        engine.settings = settings;
        engine.features = features;
        engine.idle_children().push(child);
        Ok(engine)
    }

    fn idle_children(&self) -> std::sync::MutexGuard<'_, Vec<Served>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
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
        let mut served = Served::start(&self.binary).with_context(what)?;
        let opened = send(
            &mut served,
            &Request::Open {
                engine: self.base.clone(),
                limits: self.limits.clone(),
                supervised: self.limits.supervised,
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

    /// Sends `request` to an idle child (a new one when none is idle) and
    /// hands every reply to `on_reply` until it returns `Some`; if the
    /// child dies first, `Err` with its death (and the child is gone).
    fn ask<T>(
        &self,
        request: &Request,
        mut on_reply: impl FnMut(Reply) -> Option<T>,
    ) -> Result<T, Death> {
        let idle = self.idle_children().pop();
        let mut child = match idle {
            Some(child) => child,
            None => match self.spawn() {
                Ok((child, _, _)) => child,
                Err(e) => {
                    return Err(Death::new(
                        DeathKind::Crash,
                        format!("the Wasmtime {} process did not start", self.major),
                        format!("{e:#}"),
                        "",
                    ))
                }
            },
        };
        let answer = send(&mut child, request).and_then(|()| loop {
            match on_reply(receive(&mut child)?) {
                Some(answer) => break Ok(answer),
                None => continue,
            }
        });
        match answer {
            Ok(answer) => {
                self.idle_children().push(child);
                Ok(answer)
            }
            Err(error) => {
                let mut dead = child;
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
                        DeathKind::Crash,
                        "answered outside the protocol".into(),
                        format!("the Wasmtime {} process answered: {error}", self.major),
                        &tail,
                    ),
                    Err(e) => Death::new(DeathKind::Crash, "vanished".into(), e.to_string(), &tail),
                })
            }
        }
    }
}

impl MeasuresCompiles for OtherReleaseEngine {
    fn measured_compile(&self, wasm: &[u8]) -> Result<CompileCost, EngineError> {
        let request = Request::Compile {
            wasm_hex: hex::encode(wasm),
        };
        let measured = self.ask(&request, |reply| match reply {
            Reply::Measured { cost } => Some(cost),
            _ => None,
        });
        match measured {
            Ok(cost) => cost.map_err(EngineError::Refused),
            Err(death) => Err(EngineError::Unavailable(format!(
                "the Wasmtime {} process died compiling: {}",
                self.major, death.how
            ))),
        }
    }
}

impl Engine for OtherReleaseEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn settings(&self) -> String {
        self.settings.clone()
    }

    fn features(&self) -> WasmFeatures {
        self.features
    }

    fn compile(&self, wasm: &[u8]) -> Result<(), EngineError> {
        self.measured_compile(wasm).map(drop)
    }

    fn capabilities(&self) -> Capabilities<'_> {
        Capabilities {
            measures_compiles: Some(self),
            ..Capabilities::default()
        }
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
        ran.unwrap_or_else(|death| {
            EngineRun::Died(death.in_engine(!running, has_explicit_checks(&self.base)))
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_build_is_named_with_the_command_that_makes_it() {
        let dir = std::env::temp_dir().join(format!("crosscheck-no-builds-{}", std::process::id()));
        use_builds(&dir);
        let err =
            OtherReleaseEngine::start("cranelift-tail-signals@37", &ExecutionConfig::default())
                .err()
                .unwrap();
        let text = format!("{err:#}");
        assert!(text.contains("crosscheck build-release 37"), "{text}");
    }
}
