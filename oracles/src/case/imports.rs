//! What the harness links into a module that imports: for every import a
//! memory, table, global or host function of its type, drawn from the
//! case's seed so that every engine links exactly the same; and what the
//! host functions saw (each call's arguments), compared across engines
//! like results: an observation point inside a computation.
//!
//! Owns the import's label in reports (`imported:<module>.<name>`), the
//! host functions' results, and the call log's format. Each engine adapts
//! [`Linked`] to its own API (`engine::wasmtime`, `engine::wasmi`).

use crate::case::edge_values::interesting_value;
use crate::case::module_info::{Import, ImportType, ValueType};
use crate::case::value::{display_values, Value};
use arbitrary::Unstructured;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::{Arc, Mutex};

/// One import and what the harness links for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Linked {
    /// Its position among the module's imports.
    pub index: usize,
    /// The import's module name.
    pub module: String,
    /// The import's field name.
    pub name: String,
    /// What is linked.
    pub item: LinkedItem,
}

/// A memory, table, global or host function made for one import.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LinkedItem {
    /// A host function: returns values drawn from the seed and records its
    /// arguments (`function` numbers it among the imported functions).
    Function {
        /// Its number among the module's imported functions.
        function: usize,
        /// Parameter types.
        params: Vec<ValueType>,
        /// Result types.
        results: Vec<ValueType>,
    },
    /// A zeroed linear memory of `pages` pages.
    Memory {
        /// A 64-bit memory.
        memory64: bool,
        /// Its size, at least the import's minimum.
        pages: u64,
        /// Its maximum: the import's.
        maximum: Option<u64>,
        /// Its page size (custom page sizes), `None` for 64 KiB.
        page_size_log2: Option<u32>,
    },
    /// A table of null references.
    Table {
        /// `funcref` or `externref`.
        element: ValueType,
        /// A 64-bit table.
        table64: bool,
        /// Its size, at least the import's minimum.
        size: u64,
        /// Its maximum: the import's.
        maximum: Option<u64>,
    },
    /// A global holding a seed-drawn value.
    Global {
        /// Its initial value.
        value: Value,
        /// Whether the module may set it.
        mutable: bool,
    },
}

impl Linked {
    /// How reports and plans name the import:
    /// `imported#<index>:<module>.<name>`, its position making it unique
    /// (a module may import one name twice).
    pub fn label(&self) -> String {
        format!("imported#{}:{}.{}", self.index, self.module, self.name)
    }
}

impl fmt::Display for Linked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} {:?}: ", self.module, self.name)?;
        match &self.item {
            LinkedItem::Function {
                params, results, ..
            } => {
                let list = |t: &[ValueType]| {
                    t.iter()
                        .map(ValueType::to_string)
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                write!(
                    f,
                    "host function ({}) -> ({}) returning seed-drawn values",
                    list(params),
                    list(results)
                )
            }
            LinkedItem::Memory {
                memory64,
                pages,
                maximum,
                page_size_log2,
            } => {
                write!(
                    f,
                    "{}memory of {pages} page(s)",
                    if *memory64 { "64-bit " } else { "" }
                )?;
                if let Some(max) = maximum {
                    write!(f, ", maximum {max}")?;
                }
                if let Some(log2) = page_size_log2 {
                    write!(f, ", pages of 2^{log2} bytes")?;
                }
                Ok(())
            }
            LinkedItem::Table {
                element,
                table64,
                size,
                maximum,
            } => {
                let width = if *table64 { "64-bit " } else { "" };
                write!(f, "{width}table of {size} null {element}")?;
                if let Some(max) = maximum {
                    write!(f, ", maximum {max}")?;
                }
                Ok(())
            }
            LinkedItem::Global { value, mutable } => {
                let kind = if *mutable { "mutable" } else { "immutable" };
                write!(f, "{kind} global {value}")
            }
        }
    }
}

/// What the harness links for `imports` (a module's, in order) in the
/// case of `seed`; `Err` names the first import it cannot satisfy.
pub fn link(imports: &[Import], seed: u64) -> Result<Vec<Linked>, String> {
    let mut functions = 0;
    imports
        .iter()
        .enumerate()
        .map(|(index, import)| {
            let bytes = stream(seed, b"import", index as u64, 0, 64);
            let mut u = Unstructured::new(&bytes);
            let item = match &import.ty {
                ImportType::Unlinkable(why) => {
                    return Err(format!(
                        "import {:?} {:?} cannot be linked: {why}",
                        import.module, import.name
                    ))
                }
                ImportType::Function { params, results } => {
                    functions += 1;
                    LinkedItem::Function {
                        function: functions - 1,
                        params: params.clone(),
                        results: results.clone(),
                    }
                }
                ImportType::Memory {
                    memory64,
                    minimum,
                    maximum,
                    page_size_log2,
                } => LinkedItem::Memory {
                    memory64: *memory64,
                    pages: grown(*minimum, *maximum, &mut u),
                    maximum: *maximum,
                    page_size_log2: *page_size_log2,
                },
                ImportType::Table {
                    element,
                    table64,
                    minimum,
                    maximum,
                } => LinkedItem::Table {
                    element: *element,
                    table64: *table64,
                    size: grown(*minimum, *maximum, &mut u),
                    maximum: *maximum,
                },
                ImportType::Global { ty, mutable } => LinkedItem::Global {
                    value: interesting_value(*ty, &mut u),
                    mutable: *mutable,
                },
            };
            Ok(Linked {
                index,
                module: import.module.clone(),
                name: import.name.clone(),
                item,
            })
        })
        .collect()
}

/// Whether the case of `seed` makes two instances of its module over the
/// same `linked` imports: half the cases that import a memory, so that
/// calls on both instances meet in it.
pub fn shared_by_two_instances(linked: &[Linked], seed: u64) -> bool {
    let imports_memory = linked
        .iter()
        .any(|l| matches!(l.item, LinkedItem::Memory { .. }));
    imports_memory && stream(seed, b"instances", 0, 0, 1)[0] & 1 == 1
}

/// A size of at least `minimum` (the import's), now and then a little
/// larger, within `maximum`: a memory or table larger than the module
/// asked for is as valid, and exercises bounds that are not the declared
/// ones.
fn grown(minimum: u64, maximum: Option<u64>, u: &mut Unstructured<'_>) -> u64 {
    let extra = match u.int_in_range(0u8..=5).unwrap_or(0) {
        0..=2 => 0,
        3 | 4 => 1,
        _ => 3,
    };
    let size = minimum.saturating_add(extra);
    maximum.map_or(size, |max| size.min(max))
}

/// The bytes one draw is made from: ChaCha8 keyed by a SHA-256 of the
/// seed, a purpose, and two numbers.
fn stream(seed: u64, purpose: &[u8], a: u64, b: u64, len: usize) -> Vec<u8> {
    let mut key = Sha256::new();
    key.update(purpose);
    key.update(seed.to_le_bytes());
    key.update(a.to_le_bytes());
    key.update(b.to_le_bytes());
    let mut rng = ChaCha8Rng::from_seed(key.finalize().into());
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    bytes
}

/// How many calls of a step a log keeps whole, for the report: the rest
/// are counted and digested.
const KEPT_CALLS: usize = 8;

/// One call of a host function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostCall {
    /// The import called, by label.
    pub import: String,
    /// Its arguments.
    pub args: Vec<Value>,
}

/// The host function calls of one step (instantiation or one call).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HostLog {
    /// How many calls.
    pub count: u64,
    /// A digest of every call (NaN payloads left out: the specification
    /// lets them differ).
    pub digest: [u8; 8],
    /// The first calls.
    pub first: Vec<HostCall>,
}

impl HostLog {
    /// Whether two logs record the same calls.
    pub fn same_as(&self, other: &HostLog) -> bool {
        self.count == other.count && self.digest == other.digest
    }
}

impl fmt::Display for HostLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} host call(s)", self.count)?;
        for call in &self.first {
            write!(f, "; {}{}", call.import, display_values(&call.args))?;
        }
        if self.count as usize > self.first.len() {
            f.write_str("; ...")?;
        }
        Ok(())
    }
}

/// The host functions' side of one run: the results they return (a stream
/// per function, drawn from the seed) and the log of each step. Shared by
/// the engine's host closures and the driver, which starts each step.
#[derive(Clone)]
pub struct Host(Arc<Mutex<HostState>>);

struct HostState {
    seed: u64,
    labels: Vec<String>,
    /// How often each host function was called in the whole run.
    calls: Vec<u64>,
    steps: Vec<HostLog>,
    hasher: Sha256,
}

impl Host {
    /// The host of a run linking `linked`.
    pub fn new(linked: &[Linked], seed: u64) -> Host {
        let labels: Vec<String> = linked
            .iter()
            .filter(|l| matches!(l.item, LinkedItem::Function { .. }))
            .map(Linked::label)
            .collect();
        Host(Arc::new(Mutex::new(HostState {
            seed,
            calls: vec![0; labels.len()],
            labels,
            steps: Vec::new(),
            hasher: Sha256::new(),
        })))
    }

    /// Starts the log of the next step.
    pub fn begin_step(&self) {
        let mut state = self.lock();
        // Without host functions there is nothing to log: no digest per
        // call of every case.
        if state.labels.is_empty() {
            return;
        }
        state.finish_step();
        state.steps.push(HostLog::default());
    }

    /// Records a call of host function `function` with `args` and returns
    /// its results, typed `results`.
    pub fn call(&self, function: usize, args: Vec<Value>, results: &[ValueType]) -> Vec<Value> {
        let mut state = self.lock();
        let seed = state.seed;
        let nth = state.calls[function];
        state.calls[function] += 1;
        state.hasher.update((function as u64).to_le_bytes());
        for arg in &args {
            state.hasher.update(canonical_bytes(arg));
        }
        let kept = state
            .steps
            .last()
            .is_some_and(|l| l.first.len() < KEPT_CALLS);
        let import = kept.then(|| state.labels[function].clone());
        if let Some(log) = state.steps.last_mut() {
            log.count += 1;
            if let Some(import) = import {
                log.first.push(HostCall { import, args });
            }
        }
        let bytes = stream(seed, b"host results", function as u64, nth, 256);
        let mut u = Unstructured::new(&bytes);
        results
            .iter()
            .map(|ty| interesting_value(*ty, &mut u))
            .collect()
    }

    /// The logs of every step, in order; empty when nothing is linked.
    pub fn logs(&self) -> Vec<HostLog> {
        let mut state = self.lock();
        if state.labels.is_empty() {
            return Vec::new();
        }
        state.finish_step();
        std::mem::take(&mut state.steps)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HostState> {
        // A panic inside a host function leaves the log as it was.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl HostState {
    /// Seals the current step's digest and starts a fresh one.
    fn finish_step(&mut self) {
        let digest = std::mem::take(&mut self.hasher).finalize();
        if let Some(log) = self.steps.last_mut() {
            if log.digest == [0; 8] {
                log.digest.copy_from_slice(&digest[..8]);
            }
        }
    }
}

/// A value's bytes for the digest: every NaN alike.
fn canonical_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::I32(v) => v.to_le_bytes().to_vec(),
        Value::I64(v) => v.to_le_bytes().to_vec(),
        Value::F32(bits) if f32::from_bits(*bits).is_nan() => b"nan32".to_vec(),
        Value::F64(bits) if f64::from_bits(*bits).is_nan() => b"nan64".to_vec(),
        Value::F32(bits) => bits.to_le_bytes().to_vec(),
        Value::F64(bits) => bits.to_le_bytes().to_vec(),
        Value::V128(bits) => bits.to_le_bytes().to_vec(),
        Value::FuncRef(f) => vec![b'f', f.is_some() as u8],
        Value::ExternRef { null } => vec![b'e', *null as u8],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::module_info::ModuleInfo;

    fn imports(wat: &str) -> Vec<Import> {
        ModuleInfo::parse(&wat::parse_str(wat).unwrap())
            .unwrap()
            .imports
    }

    #[test]
    fn every_kind_is_linked_by_type_and_alike_for_a_seed() {
        let declared = imports(
            r#"(module
                (import "env" "f" (func (param i32 f64) (result i64)))
                (import "env" "m" (memory i64 1 3))
                (import "env" "t" (table 2 10 funcref))
                (import "env" "g" (global (mut i32)))
                (import "env" "c" (global f32)))"#,
        );
        let linked = link(&declared, 7).unwrap();
        assert_eq!(linked, link(&declared, 7).unwrap());
        assert!(matches!(
            &linked[0].item,
            LinkedItem::Function { function: 0, params, results }
                if params == &[ValueType::I32, ValueType::F64] && results == &[ValueType::I64]
        ));
        assert!(matches!(
            linked[1].item,
            LinkedItem::Memory {
                memory64: true,
                pages: 1..=3,
                maximum: Some(3),
                ..
            }
        ));
        assert!(matches!(
            linked[2].item,
            LinkedItem::Table {
                element: ValueType::FuncRef,
                size: 2..=10,
                ..
            }
        ));
        assert!(matches!(
            linked[3].item,
            LinkedItem::Global {
                value: Value::I32(_),
                mutable: true
            }
        ));
        assert!(matches!(
            linked[4].item,
            LinkedItem::Global {
                value: Value::F32(_),
                mutable: false
            }
        ));
        assert_eq!(linked[1].label(), "imported#1:env.m");
        let sizes: std::collections::BTreeSet<u64> = (0..64)
            .map(|seed| match link(&declared, seed).unwrap()[2].item {
                LinkedItem::Table { size, .. } => size,
                _ => unreachable!(),
            })
            .collect();
        assert!(
            sizes.len() > 1,
            "a table is never larger than asked: {sizes:?}"
        );
    }

    #[test]
    fn what_cannot_be_linked_is_named() {
        let declared = imports(r#"(module (import "env" "shared" (memory 1 2 shared)))"#);
        let err = link(&declared, 0).unwrap_err();
        assert!(err.contains("\"env\" \"shared\""), "{err}");
        assert!(err.contains("shared"), "{err}");
    }

    #[test]
    fn host_results_are_drawn_per_call_and_the_log_digests_every_call() {
        let declared = imports(r#"(module (import "m" "f" (func (param f32) (result i32 i64))))"#);
        let linked = link(&declared, 3).unwrap();
        let run = |args: &[Value]| {
            let host = Host::new(&linked, 3);
            host.begin_step();
            let results: Vec<Vec<Value>> = args
                .iter()
                .map(|a| host.call(0, vec![a.clone()], &[ValueType::I32, ValueType::I64]))
                .collect();
            (results, host.logs())
        };
        let args: Vec<Value> = (0..20).map(|i| Value::F32((i as f32).to_bits())).collect();
        let (results, logs) = run(&args);
        assert_eq!((results.clone(), logs.clone()), run(&args));
        assert!(results.windows(2).any(|w| w[0] != w[1]));
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].count, 20);
        assert_eq!(logs[0].first.len(), KEPT_CALLS);
        let mut late_change = args.clone();
        late_change[19] = Value::F32(99.0f32.to_bits());
        assert!(!logs[0].same_as(&run(&late_change).1[0]));
        let mut other_nan = args;
        other_nan[19] = Value::F32(f32::NAN.to_bits());
        let mut nan_payload = other_nan.clone();
        nan_payload[19] = Value::F32(f32::NAN.to_bits() | 5);
        assert!(run(&other_nan).1[0].same_as(&run(&nan_payload).1[0]));
    }
}
