//! `crosscheck report ID`: a finding as Markdown, ready to paste into an
//! upstream issue: what happens, who is suspected, versions, the module as
//! WAT, and the `wasmtime run` line of every Wasmtime variant.

use crate::config::Config;
use crate::probe::read_module;
use crate::store::Store;
use anyhow::Result;
use clap::Args;
use oracles::engine::WasmtimeVariant;
use std::fmt::Write;
use std::process::ExitCode;

/// Longest WAT put into a report, in lines; the module file has the rest.
const WAT_LINES: usize = 150;

/// Arguments of `crosscheck report`.
#[derive(Args)]
pub struct ReportArgs {
    /// The finding's id.
    id: i64,
}

/// Runs the command.
pub fn run(config: &Config, args: ReportArgs) -> Result<ExitCode> {
    let store = Store::open_existing(&config.store.data_dir)?;
    let f = store.require_finding(args.id)?;
    let original = read_module(&store.artifact_path(&f.artifact))?;
    let (module_path, wasm) = match &f.shrunk {
        Some(hash) => (
            store.artifact_path(hash),
            read_module(&store.artifact_path(hash))?,
        ),
        None => (store.artifact_path(&f.artifact), original.clone()),
    };
    let matrix = config.matrix()?;
    let file = format!("finding-{}.wasm", f.id);
    let mut out = String::new();
    writeln!(out, "### {}: {}\n", f.kind, f.signature)?;
    if let Some(suspect) = &f.suspect {
        writeln!(out, "**Attribution:** {suspect}.\n")?;
    }
    writeln!(
        out,
        "Found by differential fuzzing with crosscheck {} against the wasmi interpreter ({} hit(s); seed {}).\n",
        env!("CARGO_PKG_VERSION"),
        f.hits,
        f.first_seed.map_or("-".into(), |s| s.to_string())
    )?;
    writeln!(out, "| crate | version |\n|---|---|")?;
    writeln!(out, "| wasmtime | {} |", oracles::versions::WASMTIME)?;
    writeln!(out, "| wasmi | {} |", oracles::versions::WASMI)?;
    writeln!(out, "| wasm-smith | {} |\n", oracles::versions::WASM_SMITH)?;

    writeln!(
        out,
        "#### What happens\n\n```text\n{}\n```\n",
        f.summary.trim_end()
    )?;

    writeln!(
        out,
        "#### The module\n\n`{file}`: {} bytes{} (sha256 of the original: `{}`).\n",
        wasm.len(),
        if f.shrunk.is_some() {
            format!(", shrunk from {} bytes", original.len())
        } else {
            String::new()
        },
        f.artifact
    )?;
    let wat = wasmprinter::print_bytes(&wasm).unwrap_or_else(|e| format!(";; not printable: {e}"));
    let lines: Vec<&str> = wat.lines().collect();
    writeln!(out, "```wat")?;
    for line in lines.iter().take(WAT_LINES) {
        writeln!(out, "{line}")?;
    }
    if lines.len() > WAT_LINES {
        writeln!(
            out,
            ";; ... {} more lines in {file}",
            lines.len() - WAT_LINES
        )?;
    }
    writeln!(out, "```\n")?;

    writeln!(out, "#### Reproduction\n")?;
    let invoke = invoked_call(&f.summary);
    writeln!(out, "```sh")?;
    for engine in matrix.engines() {
        if let Some(variant) = WasmtimeVariant::parse(engine.name()) {
            let call = match &invoke {
                Some((export, args)) => format!(" --invoke {export:?} {file} {args}"),
                None => format!(" {file}"),
            };
            writeln!(
                out,
                "# {}\nwasmtime run {}{call}",
                engine.name(),
                variant.cli_flags(&config.execution)
            )?;
        }
    }
    let seed = f.first_seed.unwrap_or(0);
    writeln!(
        out,
        "# all engines, compared\ncrosscheck check {file} --seed {seed}"
    )?;
    writeln!(out, "```\n")?;
    writeln!(out, "Engine settings:\n")?;
    for engine in matrix.engines() {
        writeln!(out, "- `{}`: {}", engine.name(), engine.settings())?;
    }
    print!("{out}");
    eprintln!("module to attach: {}", module_path.display());
    Ok(ExitCode::SUCCESS)
}

/// The export and the arguments of a call mismatch, from the verdict text
/// `MISMATCH at call #0 "f"(i32:3, i32:5)`, as `wasmtime run` takes them.
fn invoked_call(summary: &str) -> Option<(String, String)> {
    let rest = summary.lines().next()?.strip_prefix("MISMATCH at call #")?;
    let (_, rest) = rest.split_once(" \"")?;
    let (export, rest) = rest.split_once("\"(")?;
    let args = rest.strip_suffix(')')?;
    let plain: Vec<&str> = args
        .split(", ")
        .filter(|a| !a.is_empty())
        // `f32:1.5 (0x3fc00000)` -> `1.5`
        .map(|a| a.split_once(':').map_or(a, |(_, v)| v))
        .map(|v| v.split_whitespace().next().unwrap_or(v))
        .collect();
    Some((export.to_string(), plain.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_of_a_mismatch_becomes_invoke_arguments() {
        assert_eq!(
            invoked_call(
                "MISMATCH at call #3 \"f\"(i32:3, i64:-5, f32:1.5 (0x3fc00000))\n  {wasmi}: ..."
            ),
            Some(("f".into(), "3 -5 1.5".into()))
        );
        assert_eq!(
            invoked_call("MISMATCH at call #0 \"g\"()\n"),
            Some(("g".into(), String::new()))
        );
        assert_eq!(invoked_call("MISMATCH at memory \"0\"\n"), None);
        assert_eq!(invoked_call("CRASH in wasmi\n"), None);
    }
}
