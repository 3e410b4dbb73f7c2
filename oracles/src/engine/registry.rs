//! Engines by name: the names `config.toml` and the command line use, and
//! building the engine each one stands for.

use super::c_api::CApiEngine;
use super::faults::faulty::{Fault, FaultyEngine};
use super::faults::memory_sabotage::MemorySabotage;
use super::faults::sabotage::{Sabotage, SabotagedEngine};
use super::id::EngineId;
use super::interface::{Engine, ExecutionConfig};
use super::other_release::{build_of, c_api_library_of, OtherReleaseEngine};
use super::swarm::{setting_tied_fault, SwarmEngine, CPU_TIED_FAULT, LAYOUT_TIED_FAULT, SWARM};
use super::wasmi::{WasmiEngine, WASMI_LAZY};
use super::wasmtime::{
    Backend, WasmtimeEngine, WasmtimeVariant, BULK_FUEL_FAULT, EMBEDDER_DEFAULT, STACK_CHECK_FAULT,
};
use anyhow::{bail, Context, Result};

/// The engine names `build_engine` understands, for help and error texts.
pub fn known_engine_names() -> Vec<String> {
    let mut names = vec!["wasmi".to_string(), WASMI_LAZY.to_string()];
    for backend in ["cranelift", "pulley"] {
        for tail in ["tail", "notail"] {
            for stack in ["signals", "explicit"] {
                names.push(format!("{backend}-{tail}-{stack}"));
            }
        }
    }
    // Winch supports neither the tail-call proposal nor explicit checks.
    names.push("winch-notail-signals".to_string());
    // The embedders' configuration, and the fault only it shows.
    names.push(EMBEDDER_DEFAULT.to_string());
    names.push(SWARM.to_string());
    let faulty = |base: &str, fault: &str| EngineId::new(base, Some(fault), None).to_string();
    // Faults only code for a CPU lacking some feature has, and the swarm
    // whose drawn engines carry one.
    let cpu_add = format!("{CPU_TIED_FAULT}add");
    names.push(faulty(&format!("{EMBEDDER_DEFAULT}+x86-64-v1"), &cpu_add));
    names.push(faulty(SWARM, &cpu_add));
    // A fault only a memory reservation with memories that may not move
    // shows, and the swarm whose draws carry it.
    let layout_add = format!("{LAYOUT_TIED_FAULT}add");
    let layout = format!("{EMBEDDER_DEFAULT}+reserve-1m+fixed-memory");
    names.push(faulty(&layout, &layout_add));
    names.push(faulty(SWARM, &layout_add));
    names.push(faulty(EMBEDDER_DEFAULT, Fault::StoreBeforeLoop.suffix()));
    // Faults shared by Cranelift at opt level speed.
    for tail in ["tail", "notail"] {
        for stack in ["signals", "explicit"] {
            let variant = format!("cranelift-{tail}-{stack}");
            for fault in Fault::ALL {
                names.push(faulty(&variant, fault.suffix()));
            }
            names.push(faulty(&variant, STACK_CHECK_FAULT));
            names.push(faulty(&variant, BULK_FUEL_FAULT));
        }
    }
    names.extend(Fault::ALL.iter().map(|f| f.engine_name()));
    names.extend(Sabotage::ALL.iter().map(|s| s.engine_name()));
    for sabotage in MemorySabotage::ALL {
        for tail in ["tail", "notail"] {
            let variant = format!("cranelift-{tail}-explicit");
            names.push(EngineId::sabotaged(&variant, sabotage.suffix()).to_string());
        }
    }
    names
}

/// Builds the engine called `name` (see [`known_engine_names`]).
pub fn build_engine(name: &str, limits: &ExecutionConfig) -> Result<Box<dyn Engine>> {
    let id = EngineId::parse(name);
    if let Some(major) = id.release() {
        return on_other_release(&id, major, limits);
    }
    match id.fault() {
        Some(fault) => with_fault(&id, fault, limits),
        None => without_fault(&id, limits),
    }
}

/// An engine of Wasmtime `major`: crosscheck built against that release
/// serves every engine of it; without one, the release's C API library
/// runs in this process (its symbols are its own, and no pipe carries
/// modules and memories).
fn on_other_release(
    id: &EngineId,
    major: u64,
    limits: &ExecutionConfig,
) -> Result<Box<dyn Engine>> {
    if build_of(major).is_err() {
        if let Some((library, version)) = c_api_library_of(major) {
            let variant = id.on_release(None);
            return Ok(Box::new(CApiEngine::open(
                &library, &version, &variant, limits, id,
            )?));
        }
    }
    Ok(Box::new(OtherReleaseEngine::start(id, limits)?))
}

/// An engine of the linked release with nothing injected, or one of the
/// deliberately wrong engines that have names of their own.
fn without_fault(id: &EngineId, limits: &ExecutionConfig) -> Result<Box<dyn Engine>> {
    let name = id.as_str();
    if name == SWARM {
        return Ok(Box::new(SwarmEngine::new(limits, None)?));
    }
    if name == "wasmi" || name == WASMI_LAZY {
        return Ok(Box::new(WasmiEngine::named(name, limits)?));
    }
    if let Some(fault) = Fault::ALL.iter().find(|f| f.engine_name() == name) {
        return Ok(Box::new(FaultyEngine::new(*fault, limits)?));
    }
    if let Some(sabotage) = Sabotage::ALL.iter().find(|s| s.engine_name() == name) {
        return Ok(Box::new(SabotagedEngine::new(*sabotage, limits)?));
    }
    if let Some((base, suffix)) = id.sabotage() {
        let sabotage = MemorySabotage::from_suffix(suffix).with_context(|| {
            format!(
                "unknown sabotage {suffix:?} in engine {name:?}; memory sabotages: {}",
                MemorySabotage::ALL.map(|s| s.suffix()).join(", ")
            )
        })?;
        let variant = WasmtimeVariant::parse(base)
            .with_context(|| format!("engine {name:?}: {base:?} is not a Wasmtime variant"))?;
        return Ok(Box::new(WasmtimeEngine::sabotaged(
            name, variant, sabotage, limits,
        )?));
    }
    if let Some(variant) = id.variant() {
        return Ok(Box::new(WasmtimeEngine::new(variant, limits)?));
    }
    bail!(
        "unknown engine {name:?}; known engines: {} (a Cranelift variant may add +opt-none and +single-pass, any Wasmtime variant +nofuel (an epoch deadline instead of fuel) or +nobudget (neither), and settings of the configuration swarm (+opt-size, +no-sse41, +x86-64-v2, +reserve-1m, +guard-64k, +no-guard-before, +fixed-memory, +no-cow, +eager-tables, +verifier, +inline); any engine may end in @MAJOR to run on crosscheck built against that Wasmtime release)",
        known_engine_names().join(", ")
    )
}

/// An engine with `+fault-<fault>` injected, for testing the harness.
fn with_fault(id: &EngineId, fault: &str, limits: &ExecutionConfig) -> Result<Box<dyn Engine>> {
    let (name, base) = (id.as_str(), id.base());
    if base == SWARM {
        return Ok(Box::new(SwarmEngine::new(limits, Some(fault.to_string()))?));
    }
    // A faulty wasmi with a second fault (`wasmi-fault-add+fault-rem-s`):
    // one engine wrong in two unrelated ways, for testing grouping.
    if base.starts_with("wasmi-fault-") {
        let second = Fault::from_suffix(fault)
            .with_context(|| format!("unknown fault {fault:?} in engine {name:?}"))?;
        return Ok(Box::new(FaultyEngine::named(
            second,
            build_engine(base, limits)?,
            name.to_string(),
        )));
    }
    if fault == STACK_CHECK_FAULT {
        return match id.variant() {
            Some(v) if v.backend == Backend::Cranelift => {
                Ok(Box::new(WasmtimeEngine::without_stack_check(name, v, limits)?))
            }
            _ => bail!(
                "engine {name:?}: the stack-check fault acts on a Cranelift variant, not on {base:?}"
            ),
        };
    }
    if fault == BULK_FUEL_FAULT {
        return match id.variant() {
            Some(v) if v.backend == Backend::Cranelift => {
                Ok(Box::new(WasmtimeEngine::charging_bulk_twice(name, v, limits)?))
            }
            _ => bail!(
                "engine {name:?}: the {BULK_FUEL_FAULT} fault acts on a Cranelift variant, not on {base:?}"
            ),
        };
    }
    if fault.starts_with(CPU_TIED_FAULT) || fault.starts_with(LAYOUT_TIED_FAULT) {
        return setting_tied_fault(name, base, fault, limits);
    }
    let known = Fault::from_suffix(fault).with_context(|| {
        format!(
            "unknown fault {fault:?} in engine {name:?}; faults: {}, {STACK_CHECK_FAULT}, {BULK_FUEL_FAULT}",
            Fault::ALL.map(|f| f.suffix()).join(", ")
        )
    })?;
    match id.variant() {
        Some(v) if v.backend == Backend::Cranelift && !v.opt_none => {
            let inner = WasmtimeEngine::new(v, limits)?;
            Ok(Box::new(FaultyEngine::named(
                known,
                Box::new(inner),
                name.to_string(),
            )))
        }
        _ => bail!(
            "engine {name:?}: faults act on a Cranelift variant at opt level speed ({}), not on {base:?}",
            EngineId::new("cranelift-tail-signals", Some(fault), None)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_engine_names_are_refused_with_the_list() {
        let err = build_engine("cranelift-fast", &ExecutionConfig::default())
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(text.contains("unknown engine \"cranelift-fast\""), "{text}");
        assert!(text.contains("cranelift-tail-signals"), "{text}");
    }

    #[test]
    fn every_known_name_builds() {
        for name in known_engine_names() {
            let engine = build_engine(&name, &ExecutionConfig::default())
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
            assert_eq!(engine.name(), name);
        }
    }
}
