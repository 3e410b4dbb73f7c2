//! The child's side of an engine of another Wasmtime release
//! (`engine::other_release`): crosscheck built against that release,
//! started as `crosscheck serve-engine`, builds the engine the first request
//! names and answers requests on stdin with replies on stdout, one JSON
//! line each.

use crate::case::rules::catalog::embedded_sources;
use crate::cost::compile::measure;
use crate::cost::heap::Heap;
use crate::engine::build_engine;
use crate::engine::matrix::run_caught;
use crate::engine::other_release::{Reply, Request, PROTOCOL};
use crate::engine::{Engine, ExecutionConfig};
use anyhow::{Context, Result};
use std::io::{BufRead, Write};
use std::time::Duration;

/// Builds the engine the first request names and answers requests on
/// `input` until it closes. Dies with its parent.
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
                supervised,
            } => match build_engine(
                &name,
                &ExecutionConfig {
                    supervised,
                    ..limits
                },
            ) {
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
                let run = run_caught(engine, &wasm, &plan, &mut || {
                    compiled_sent = reply(&Reply::Compiled);
                });
                compiled_sent?;
                reply(&Reply::Ran { run })?;
            }
            Request::RuleSources | Request::Rewrote { .. } => reply(&about_the_compiler(request)?)?,
            Request::Compile { wasm_hex } => {
                let engine = engine.as_deref().context("Compile before Open")?;
                let wasm = hex::decode(wasm_hex).context("a module that is not hex")?;
                let cost = measure(engine, &wasm, Some(&Heap))
                    .ok_or_else(|| "refused or panicked".to_string());
                reply(&Reply::Measured { cost })?;
            }
        }
    }
    Ok(())
}

/// The answer to a request about this release's Cranelift rather than an
/// engine: its rules' sources, or whether its optimizer rewrote a rule.
fn about_the_compiler(request: Request) -> Result<Reply> {
    Ok(match request {
        Request::Rewrote {
            wasm_hex,
            functions,
            rule,
        } => {
            let wasm = hex::decode(wasm_hex).context("a module that is not hex")?;
            let target = crate::case::rules::RuleTarget {
                id: rule,
                cranelift: String::new(),
                instances: functions,
                text: String::new(),
            };
            let rewrote =
                crate::case::rules::code_change::optimizer_rewrote(&wasm, functions, &target)
                    .map_err(|e| format!("{e:#}"));
            Reply::Rewrote { rewrote }
        }
        _ => Reply::RuleSources {
            sources: embedded_sources()
                .iter()
                .map(|(file, text)| (file.to_string(), text.to_string()))
                .collect(),
        },
    })
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
