//! The calls made on a module's exports, with arguments drawn from the seed.

pub use crate::case::edge_values::interesting_value;
use crate::case::imports::{self, Linked, LinkedItem};
use crate::case::module_info::{ExportKind, ModuleInfo, ValueType};
use crate::case::stack_program::StackExpectation;
use crate::case::value::Value;
use anyhow::{bail, Context, Result};
use arbitrary::Unstructured;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// One call: an exported function and its arguments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    /// Export name.
    pub export: String,
    /// Arguments, typed to match the export's parameters.
    pub args: Vec<Value>,
    /// The instance called: 0, or 1 for the second of a plan with two
    /// ([`Plan::instances`]).
    #[serde(default, skip_serializing_if = "is_first")]
    pub instance: usize,
}

fn is_first(instance: &usize) -> bool {
    *instance == 0
}

/// Everything the harness does with an instance, identical for every engine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Calls in order, each on its instance.
    pub calls: Vec<Invocation>,
    /// Exported memories to read after the calls.
    pub memories: Vec<String>,
    /// Exported globals to read after the calls.
    pub globals: Vec<String>,
    /// Exported tables to read after the calls.
    pub tables: Vec<String>,
    /// Exported functions skipped because a parameter type cannot be made.
    pub skipped_exports: Vec<String>,
    /// A global to set before every call: the termination fuel, refilled
    /// so that every call may run as long as the first.
    pub refuel: Option<(String, Value)>,
    /// What a correct engine does with the stack on these calls: known for
    /// stack programs, so that an overflow is judged instead of re-run.
    pub stack: StackExpectation,
    /// For an engine without fuel or epochs: the first step it must not
    /// take, because no engine with a budget ended it (`None`: every step).
    #[serde(default)]
    pub horizon: Option<Horizon>,
    /// For an engine without fuel or epochs: the longest any engine with a
    /// budget took to end each call (`None` where none ended it). A call
    /// the engine takes far longer over is a hang without the whole phase
    /// limit's wait.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budgeted_times: Vec<Option<Duration>>,
    /// The case's seed (0 for a plan not drawn from one): the arguments
    /// come from it, and so does the configuration the swarm draws
    /// (`engine::swarm`), which shrinking must keep while the module
    /// changes.
    #[serde(default)]
    pub seed: u64,
    /// What every engine links for the module's imports, in import order
    /// (drawn from the seed); empty for a self-contained module. Imported
    /// memories, tables and globals are observed after the calls under
    /// their labels (`imported:<module>.<name>`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<Linked>,
    /// What every engine's budget for each step (fuel, epoch deadline) is
    /// divided by: the module's (`ModuleInfo::budget_divisor`), above 1
    /// for a module whose loops may never end. 0 and 1 leave it whole.
    #[serde(default, skip_serializing_if = "is_whole")]
    pub budget_divisor: u64,
    /// How many instances of the module every engine makes in one store,
    /// all linking the same imports (0 and 1: one). Two instances over
    /// one imported memory are how embedders share a memory between
    /// modules: what one writes the other reads, through code that must
    /// find the memory through its import.
    #[serde(default, skip_serializing_if = "is_one")]
    pub instances: usize,
}

fn is_whole(divisor: &u64) -> bool {
    *divisor <= 1
}

fn is_one(instances: &usize) -> bool {
    *instances <= 1
}

/// The first step of a plan that no engine with a budget ended: an engine
/// without one would run on there until its worker is killed, for no
/// comparison (every engine with a budget stopped there, inconclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Horizon {
    /// Instantiation (the start function) did not end.
    Instantiation,
    /// The call with this index did not end.
    Call(usize),
}

impl Plan {
    /// [`Plan::budgeted_times`] of call `index`.
    pub fn budgeted_time(&self, index: usize) -> Option<Duration> {
        self.budgeted_times.get(index).copied().flatten()
    }

    /// Calls every exported function `rounds` times, round-robin in module
    /// order, with arguments drawn from `seed`, and observes all exported
    /// state. Each call's arguments depend only on the seed, the export's
    /// name and the round, so that removing other exports (as shrinking
    /// does) leaves the remaining calls exactly as they were.
    pub fn from_seed(info: &ModuleInfo, seed: u64, rounds: usize) -> Plan {
        let mut plan = Plan::observing(info, seed);
        if imports::shared_by_two_instances(&plan.imports, seed) {
            plan.instances = 2;
        }
        for round in 0..rounds {
            for (name, signature) in info.functions() {
                if signature.params.contains(&ValueType::Unsupported) {
                    continue;
                }
                let entropy = argument_stream(seed, name, round);
                let mut u = Unstructured::new(&entropy);
                let args = signature
                    .params
                    .iter()
                    .map(|ty| interesting_value(*ty, &mut u))
                    .collect();
                // Drawn after the arguments, which stay as they were.
                let instance = if plan.instances > 1 {
                    usize::from(u.arbitrary::<bool>().unwrap_or(false))
                } else {
                    0
                };
                plan.calls.push(Invocation {
                    export: name.to_string(),
                    args,
                    instance,
                });
            }
        }
        plan.skipped_exports = info
            .functions()
            .filter(|(_, sig)| sig.params.contains(&ValueType::Unsupported))
            .map(|(name, _)| name.to_string())
            .collect();
        plan
    }

    /// One call of `export` with arguments parsed from text (`3,8`), checked
    /// against its signature, and all exported state observed.
    pub fn single_call(info: &ModuleInfo, export: &str, args: &[String]) -> Result<Plan> {
        let Some((_, signature)) = info.functions().find(|(name, _)| *name == export) else {
            let known: Vec<&str> = info.functions().map(|(n, _)| n).collect();
            bail!("no exported function named {export:?} (exported functions: {known:?})");
        };
        if args.len() != signature.params.len() {
            bail!(
                "{export:?} has signature {signature} and takes {} argument(s), but {} were given",
                signature.params.len(),
                args.len()
            );
        }
        let args = signature
            .params
            .iter()
            .zip(args)
            .enumerate()
            .map(|(i, (ty, text))| {
                parse_value(*ty, text).with_context(|| format!("argument {} of {export:?}", i + 1))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut plan = Plan::observing(info, 0);
        plan.calls.push(Invocation {
            export: export.to_string(),
            args,
            instance: 0,
        });
        Ok(plan)
    }

    /// The plan without calls: every exported and imported memory, global
    /// and table observed, the imports linked as `seed` draws them (none
    /// if one cannot be linked: every engine then refuses alike, and
    /// `check` names the import before that).
    fn observing(info: &ModuleInfo, seed: u64) -> Plan {
        let imports = imports::link(&info.imports, seed).unwrap_or_default();
        let imported = |wanted: fn(&LinkedItem) -> bool| {
            imports
                .iter()
                .filter(|l| wanted(&l.item))
                .map(Linked::label)
                .collect::<Vec<_>>()
        };
        let memories = imported(|i| matches!(i, LinkedItem::Memory { .. }));
        let globals = imported(|i| matches!(i, LinkedItem::Global { .. }));
        let tables = imported(|i| matches!(i, LinkedItem::Table { .. }));
        Plan {
            seed,
            memories: [info.names_of(|k| matches!(k, ExportKind::Memory)), memories].concat(),
            globals: [info.names_of(|k| matches!(k, ExportKind::Global)), globals].concat(),
            tables: [info.names_of(|k| matches!(k, ExportKind::Table)), tables].concat(),
            imports,
            budget_divisor: info.budget_divisor,
            refuel: info.termination_fuel.map(|fuel| {
                (
                    crate::case::termination::FUEL_EXPORT.to_string(),
                    Value::I32(fuel),
                )
            }),
            stack: info
                .stack_program
                .as_ref()
                .map(|p| p.shape.expectation())
                .unwrap_or_default(),
            ..Plan::default()
        }
    }
}

/// The bytes the arguments of one call are drawn from: ChaCha8 keyed by a
/// SHA-256 of the seed, the export name and the round.
fn argument_stream(seed: u64, export: &str, round: usize) -> Vec<u8> {
    let mut key = Sha256::new();
    key.update(seed.to_le_bytes());
    key.update((round as u64).to_le_bytes());
    key.update(export.as_bytes());
    let mut rng = ChaCha8Rng::from_seed(key.finalize().into());
    let mut bytes = vec![0u8; ARGUMENT_BYTES];
    rng.fill_bytes(&mut bytes);
    bytes
}

/// Entropy per call: at most ~10 bytes per argument are drawn, and
/// generated functions have few parameters.
const ARGUMENT_BYTES: usize = 512;

/// Parses one argument written on the command line for a parameter of `ty`.
/// Integers may be decimal or `0x` hex; floats accept `nan`, `inf`, `-inf`.
pub fn parse_value(ty: ValueType, text: &str) -> Result<Value> {
    let text = text.trim();
    let int = |text: &str| -> Result<i128> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let magnitude = match digits.strip_prefix("0x") {
            Some(hex) => i128::from_str_radix(hex, 16)?,
            None => digits.parse::<i128>()?,
        };
        Ok(if negative { -magnitude } else { magnitude })
    };
    Ok(match ty {
        ValueType::I32 => {
            let v = int(text).with_context(|| format!("{text:?} is not an i32"))?;
            // Accept both signed and unsigned spellings of the 32 bits.
            if !(i32::MIN as i128..=u32::MAX as i128).contains(&v) {
                bail!("{text:?} does not fit in an i32");
            }
            Value::I32(v as u32 as i32)
        }
        ValueType::I64 => {
            let v = int(text).with_context(|| format!("{text:?} is not an i64"))?;
            if !(i64::MIN as i128..=u64::MAX as i128).contains(&v) {
                bail!("{text:?} does not fit in an i64");
            }
            Value::I64(v as u64 as i64)
        }
        ValueType::F32 => Value::F32(
            text.parse::<f32>()
                .with_context(|| format!("{text:?} is not an f32"))?
                .to_bits(),
        ),
        ValueType::F64 => Value::F64(
            text.parse::<f64>()
                .with_context(|| format!("{text:?} is not an f64"))?
                .to_bits(),
        ),
        ValueType::V128 => {
            Value::V128(int(text).with_context(|| format!("{text:?} is not a v128"))? as u128)
        }
        ValueType::FuncRef | ValueType::ExternRef if text == "null" => match ty {
            ValueType::FuncRef => Value::FuncRef(None),
            _ => Value::ExternRef { null: true },
        },
        ValueType::FuncRef | ValueType::ExternRef => {
            bail!("only `null` can be passed as a reference")
        }
        ValueType::Unsupported => bail!("cannot pass a value of this reference type"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(wat: &str) -> ModuleInfo {
        ModuleInfo::parse(&wat::parse_str(wat).unwrap()).unwrap()
    }

    #[test]
    fn arguments_are_deterministic_varied_and_typed() {
        let m = info(r#"(module (func (export "f") (param i32 i64 f32 f64)))"#);
        let a = Plan::from_seed(&m, 5, 50);
        assert_eq!(a, Plan::from_seed(&m, 5, 50));
        assert_eq!(a.calls.len(), 50);
        let i32s: std::collections::HashSet<i32> = a
            .calls
            .iter()
            .map(|c| match c.args[0] {
                Value::I32(v) => v,
                ref other => panic!("{other:?}"),
            })
            .collect();
        assert!(i32s.len() > 10, "arguments barely vary: {i32s:?}");
        assert!(a.calls.iter().any(|c| c.args[0] != Value::I32(0)));
        assert!(matches!(a.calls[0].args[1], Value::I64(_)));
    }

    #[test]
    fn removing_an_export_leaves_the_other_calls_unchanged() {
        let both =
            info(r#"(module (func (export "a") (param i64)) (func (export "b") (param i32 f64)))"#);
        let only_b = info(r#"(module (func (export "b") (param i32 f64)))"#);
        let calls_of_b = |plan: Plan| -> Vec<Invocation> {
            plan.calls.into_iter().filter(|c| c.export == "b").collect()
        };
        assert_eq!(
            calls_of_b(Plan::from_seed(&both, 9, 3)),
            calls_of_b(Plan::from_seed(&only_b, 9, 3))
        );
    }

    #[test]
    fn edge_values_show_up() {
        let m = info(r#"(module (func (export "f") (param i32)))"#);
        let plan = Plan::from_seed(&m, 1, 400);
        let seen: Vec<i32> = plan
            .calls
            .iter()
            .map(|c| match c.args[0] {
                Value::I32(v) => v,
                _ => unreachable!(),
            })
            .collect();
        for edge in [0, 1, -1, i32::MIN, i32::MAX] {
            assert!(seen.contains(&edge), "{edge} never drawn");
        }
    }

    #[test]
    fn single_call_parses_and_checks_arguments() {
        let m = info(r#"(module (func (export "ack") (param i32 i32) (result i32) i32.const 0))"#);
        let plan = Plan::single_call(&m, "ack", &["3".into(), "0x8".into()]).unwrap();
        assert_eq!(plan.calls[0].args, [Value::I32(3), Value::I32(8)]);
        let err = Plan::single_call(&m, "ack", &["3".into()]).unwrap_err();
        assert!(err.to_string().contains("takes 2 argument(s)"), "{err}");
        let err = Plan::single_call(&m, "nope", &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("no exported function named \"nope\""),
            "{err}"
        );
        let err = Plan::single_call(&m, "ack", &["x".into(), "1".into()]).unwrap_err();
        assert!(format!("{err:#}").contains("argument 1"), "{err:#}");
    }

    #[test]
    fn parse_value_accepts_unsigned_spellings_and_specials() {
        assert_eq!(
            parse_value(ValueType::I32, "4294967295").unwrap(),
            Value::I32(-1)
        );
        assert!(parse_value(ValueType::I32, "4294967296").is_err());
        assert!(
            matches!(parse_value(ValueType::F64, "nan").unwrap(), Value::F64(b) if f64::from_bits(b).is_nan())
        );
        assert_eq!(
            parse_value(ValueType::FuncRef, "null").unwrap(),
            Value::FuncRef(None)
        );
    }
}
