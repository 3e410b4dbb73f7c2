//! Human-readable output of one case: the per-engine table and the verdict.

use oracles::engine::outcome::{EngineRun, Execution, Outcome};
use oracles::{CaseReport, ModuleInfo, Plan};
use std::fmt::Write;

/// Describes the module: size, exports by kind, proposals it uses.
pub fn module_summary(wasm: &[u8], info: &ModuleInfo, plan: &Plan) -> String {
    let funcs = info.functions().count();
    let mut text = format!(
        "module: {} bytes, {} functions ({funcs} exported), {} memories, {} globals, {} tables exported{}\n",
        wasm.len(),
        info.function_count,
        plan.memories.len(),
        plan.globals.len(),
        plan.tables.len(),
        if info.uses_tail_calls { ", uses return_call" } else { "" },
    );
    let _ = write!(text, "plan: {} calls", plan.calls.len());
    if plan.instances > 1 {
        let _ = write!(
            text,
            " on {} instances of the module linking the same imports",
            plan.instances
        );
    }
    text.push('\n');
    if !plan.skipped_exports.is_empty() {
        let _ = writeln!(
            text,
            "not called (parameter types the harness cannot make): {}",
            plan.skipped_exports.join(", ")
        );
    }
    text
}

/// One line per engine: compile time, instantiation, call outcomes, state.
pub fn engine_table(report: &CaseReport) -> String {
    let width = report
        .runs
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut text = String::new();
    if let Some(first) = &report.stack_rerun {
        let _ = writeln!(
            text,
            "first run: {first}\nsome engines overflowed their stack where others did not: \
             re-run with every stack limit [execution] overflow_rerun_factor times larger; \
             the re-run's results:\n"
        );
    }
    let _ = writeln!(
        text,
        "{:width$}  {:>10}  {:<24}  calls",
        "engine", "compile", "instantiation"
    );
    for (name, run) in &report.runs {
        match run {
            EngineRun::Crashed(message) => {
                let _ = writeln!(text, "{name:width$}  {:>10}  CRASHED: {message}", "-");
            }
            EngineRun::Died(death) => {
                let _ = writeln!(
                    text,
                    "{name:width$}  {:>10}  {} {}: {}",
                    "-",
                    oracles::judge::kind::FindingKind::of_death(death)
                        .as_str()
                        .to_uppercase(),
                    if death.compiling {
                        "while compiling"
                    } else {
                        "while running"
                    },
                    death.how
                );
            }
            EngineRun::Rejected(message) => {
                let expected = report
                    .comparison
                    .rejections
                    .iter()
                    .find(|r| &r.engine == name)
                    .is_some_and(|r| r.expected);
                let first_line = message.lines().next().unwrap_or("");
                let _ = writeln!(
                    text,
                    "{name:width$}  {:>10}  rejected ({}): {first_line}",
                    "-",
                    if expected { "expected" } else { "UNEXPECTED" }
                );
            }
            EngineRun::Ran(execution) => {
                let _ = writeln!(
                    text,
                    "{name:width$}  {:>8.2}ms  {:<24}  {}",
                    execution.compile_time.as_secs_f64() * 1e3,
                    match &execution.instantiation {
                        Outcome::Returned(_) => "ok".to_string(),
                        other => truncate(&other.to_string(), 24),
                    },
                    call_summary(execution)
                );
            }
        }
    }
    text
}

fn call_summary(execution: &Execution) -> String {
    let returned = execution
        .calls
        .iter()
        .filter(|o| matches!(o, Outcome::Returned(_)))
        .count();
    let mut traps: Vec<String> = execution
        .calls
        .iter()
        .filter_map(|o| match o {
            Outcome::Trap(kind) => Some(kind.to_string()),
            _ => None,
        })
        .collect();
    traps.sort();
    traps.dedup();
    let others = execution.calls.len()
        - returned
        - execution
            .calls
            .iter()
            .filter(|o| matches!(o, Outcome::Trap(_)))
            .count();
    let mut parts = vec![format!("{returned} returned")];
    let trapped = execution
        .calls
        .iter()
        .filter(|o| matches!(o, Outcome::Trap(_)))
        .count();
    if trapped > 0 {
        parts.push(format!("{trapped} trapped ({})", traps.join(", ")));
    }
    if others > 0 {
        parts.push(format!("{others} limit/error"));
    }
    parts.join(", ")
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// The case's verdict, and every later disagreement that blames someone
/// else. Where engines died (a crash, a hang, an out-of-memory) and those
/// that ran the case to the end agree, the death is the case's verdict:
/// its signature, with the survivors' agreement beside it.
pub fn verdict_text(
    comparison: &oracles::judge::compare::Comparison,
    deaths: &[oracles::Finding],
) -> String {
    let mut text = match deaths.first() {
        Some(death) if !comparison.verdict.is_finding() => format!(
            "verdict: {} (the engines that ran the case to the end: {})",
            death.signature, comparison.verdict
        ),
        _ => format!("verdict: {}", comparison.verdict),
    };
    for later in &comparison.further {
        let later = oracles::Verdict::Mismatch(later.clone());
        text += &format!("\nand, blamed on someone else: {later}");
    }
    text
}

/// A case as `crosscheck check` and `crosscheck case` print it: the
/// module, every engine's row, the verdict of the engines that ran it,
/// and the findings of the engines that died.
pub fn case_text(case: &oracles::SeedReport, invoked: bool) -> String {
    let mut text = module_summary(&case.module.wasm, &case.info, &case.plan);
    text.push('\n');
    text += &engine_table(&case.report);
    if invoked {
        let first_result = case.report.runs.iter().find_map(|(name, run)| match run {
            EngineRun::Ran(exec) => exec.calls.first().map(|o| (name, o)),
            _ => None,
        });
        if let Some((name, outcome)) = first_result {
            let _ = writeln!(text, "\n{name} result: {outcome}");
        }
    }
    let deaths = oracles::pipeline::findings::of_deaths(&case.report.runs, &case.report.drawn);
    let _ = writeln!(text, "\n{}", verdict_text(&case.report.comparison, &deaths));
    for death in deaths {
        let _ = write!(text, "\n{}", death.summary);
        if let Some(suspect) = &death.suspect {
            let _ = writeln!(text, "  {suspect}");
        }
    }
    text
}
