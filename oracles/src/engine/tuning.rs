//! Wasmtime settings beyond the matrix's axes, as embedders and
//! Wasmtime's own fuzzers set them: opt level `speed_and_size`, x86-64 CPU
//! features turned off, memory reservations and guard regions, eager table
//! initialization, copy-on-write images off, cross-function inlining,
//! Cranelift's debug verifier and NaN canonicalization. Each is a `+token` of an engine name, so a
//! configuration drawn by the swarm (`engine::swarm`) is an ordinary engine
//! anyone can name again.

use wasmtime::{Config, OptLevel};

/// The x86-64 CPU features Cranelift can be told the host lacks, as
/// `(token, Cranelift flag)`; the bit of a feature is its index.
pub const CPU_FEATURES: [(&str, &str); 16] = [
    ("sse3", "has_sse3"),
    ("ssse3", "has_ssse3"),
    ("sse41", "has_sse41"),
    ("sse42", "has_sse42"),
    ("popcnt", "has_popcnt"),
    ("avx", "has_avx"),
    ("avx2", "has_avx2"),
    ("fma", "has_fma"),
    ("bmi1", "has_bmi1"),
    ("bmi2", "has_bmi2"),
    ("lzcnt", "has_lzcnt"),
    ("avx512f", "has_avx512f"),
    ("avx512vl", "has_avx512vl"),
    ("avx512dq", "has_avx512dq"),
    ("avx512bitalg", "has_avx512bitalg"),
    ("avx512vbmi", "has_avx512vbmi"),
];

/// The x86-64 microarchitecture levels as the features they lack from the
/// list above (`+x86-64-v1`: SSE2 only; `v2`: up to SSE4.2 and POPCNT;
/// `v3`: up to AVX2, BMI, LZCNT and FMA), the CPUs embedders deploy to.
pub const CPU_LEVELS: [(&str, u16); 3] = [
    ("x86-64-v1", 0xffff),
    ("x86-64-v2", !0b1_1111),
    ("x86-64-v3", !0b111_1111_1111),
];

/// Cranelift's flags for the Spectre mitigations of heap and table
/// accesses.
/// Up to how many settings triage flips every set of them (2^n - 1
/// re-runs); past it, one at a time.
pub const SUBSET_LIMIT: usize = 3;

const SPECTRE_FLAGS: [&str; 2] = [
    "enable_heap_access_spectre_mitigation",
    "enable_table_access_spectre_mitigation",
];

/// Settings off Wasmtime's defaults; `Tuning::default()` changes nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tuning {
    /// Opt level `speed_and_size` (`+opt-size`).
    pub opt_size: bool,
    /// CPU features Cranelift must not use, a bit per [`CPU_FEATURES`]
    /// entry (`+no-sse41`, or a level: `+x86-64-v2`).
    pub cpu_off: u16,
    /// `memory_reservation` in bytes (`+reserve-0`, `+reserve-1m`).
    pub reservation: Option<u64>,
    /// `memory_guard_size` in bytes (`+guard-0`, `+guard-64k`).
    pub guard: Option<u64>,
    /// No guard region before linear memories (`+no-guard-before`).
    pub no_guard_before: bool,
    /// Memories never move when they grow (`+fixed-memory`).
    pub fixed_memory: bool,
    /// Data segments copied, not mapped copy-on-write (`+no-cow`).
    pub no_cow: bool,
    /// Tables initialized eagerly at instantiation (`+eager-tables`).
    pub eager_tables: bool,
    /// Cranelift's debug verifier after every pass (`+verifier`).
    pub verifier: bool,
    /// Cross-function inlining (`+inline`).
    pub inlining: bool,
    /// Cranelift's Spectre mitigations of heap and table accesses off
    /// (`+no-spectre`): bounds checks then branch to a trap instead of
    /// selecting a null address that faults.
    pub no_spectre: bool,
    /// Cranelift canonicalizes every NaN a float operation produces
    /// (`+nan-canon`), as embedders that need deterministic floats set it.
    pub nan_canon: bool,
    /// No resource limiter on the store (`+no-limiter`): Wasmtime's own
    /// growth paths without a limiter's say; generated memories and tables
    /// have small maxima, and the worker's memory limit bounds the rest.
    pub no_limiter: bool,
}

impl Tuning {
    /// Takes one `+token` of an engine name; `false` if it is none of
    /// these (or repeats one).
    pub fn take(&mut self, token: &str) -> bool {
        let flag = |on: &mut bool| !std::mem::replace(on, true);
        match token {
            "opt-size" => flag(&mut self.opt_size),
            "no-guard-before" => flag(&mut self.no_guard_before),
            "fixed-memory" => flag(&mut self.fixed_memory),
            "no-cow" => flag(&mut self.no_cow),
            "eager-tables" => flag(&mut self.eager_tables),
            "verifier" => flag(&mut self.verifier),
            "inline" => flag(&mut self.inlining),
            "no-spectre" => flag(&mut self.no_spectre),
            "no-limiter" => flag(&mut self.no_limiter),
            "nan-canon" => flag(&mut self.nan_canon),
            _ => self.take_valued(token),
        }
    }

    fn take_valued(&mut self, token: &str) -> bool {
        if let Some(size) = token.strip_prefix("reserve-") {
            return self.reservation.is_none() && {
                self.reservation = parse_size(size);
                self.reservation.is_some()
            };
        }
        if let Some(size) = token.strip_prefix("guard-") {
            return self.guard.is_none() && {
                self.guard = parse_size(size);
                self.guard.is_some()
            };
        }
        if let Some((_, mask)) = CPU_LEVELS.iter().find(|(name, _)| *name == token) {
            self.cpu_off |= mask;
            return true;
        }
        if let Some(feature) = token.strip_prefix("no-") {
            if let Some(bit) = CPU_FEATURES.iter().position(|(name, _)| *name == feature) {
                let had = self.cpu_off & (1 << bit) != 0;
                self.cpu_off |= 1 << bit;
                return !had;
            }
        }
        false
    }

    /// The `+tokens` in canonical order (what [`Tuning::take`] reads back).
    pub fn tokens(&self) -> Vec<String> {
        let flags = [
            (self.opt_size, "opt-size"),
            (self.no_guard_before, "no-guard-before"),
            (self.fixed_memory, "fixed-memory"),
            (self.no_cow, "no-cow"),
            (self.eager_tables, "eager-tables"),
            (self.verifier, "verifier"),
            (self.inlining, "inline"),
            (self.no_spectre, "no-spectre"),
            (self.no_limiter, "no-limiter"),
            (self.nan_canon, "nan-canon"),
        ];
        let mut tokens: Vec<String> = flags
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, token)| token.to_string())
            .collect();
        if let Some(bytes) = self.reservation {
            tokens.push(format!("reserve-{}", show_size(bytes)));
        }
        if let Some(bytes) = self.guard {
            tokens.push(format!("guard-{}", show_size(bytes)));
        }
        tokens.extend(cpu_tokens(self.cpu_off));
        tokens
    }

    /// Whether it sets anything about linear memory's layout, which
    /// explicit-checks variants fix (no reservation, no guard).
    pub fn lays_out_memory(&self) -> bool {
        self.reservation.is_some()
            || self.guard.is_some()
            || self.no_guard_before
            || self.fixed_memory
    }

    /// Applies the settings to `config` (after the variant's own).
    pub fn apply(&self, config: &mut Config) {
        if self.opt_size {
            config.cranelift_opt_level(OptLevel::SpeedAndSize);
        }
        for (bit, (_, flag)) in CPU_FEATURES.iter().enumerate() {
            if self.cpu_off & (1 << bit) != 0 {
                // SAFETY: turning a CPU feature off only narrows the
                // instructions Cranelift may emit; Wasmtime still checks
                // that the host has every feature left on.
                unsafe {
                    config.cranelift_flag_set(flag, "false");
                }
            }
        }
        if let Some(bytes) = self.reservation {
            config.memory_reservation(bytes);
        }
        if let Some(bytes) = self.guard {
            config.memory_guard_size(bytes);
        }
        if self.no_guard_before {
            config.guard_before_linear_memory(false);
        }
        if self.fixed_memory {
            config.memory_may_move(false);
        }
        if self.no_cow {
            config.memory_init_cow(false);
        }
        if self.eager_tables {
            config.table_lazy_init(false);
        }
        if self.verifier {
            config.cranelift_debug_verifier(true);
        }
        if self.nan_canon {
            config.cranelift_nan_canonicalization(true);
        }
        if self.no_spectre {
            for flag in SPECTRE_FLAGS {
                // SAFETY: without the mitigations, an out-of-bounds access
                // still traps (an explicit check or a guard page); only
                // speculative execution is no longer fenced.
                unsafe {
                    config.cranelift_flag_set(flag, "false");
                }
            }
        }
        if self.inlining {
            #[cfg(wasmtime_inlining_enum)]
            config.compiler_inlining(wasmtime::Inlining::Yes);
            #[cfg(not(wasmtime_inlining_enum))]
            config.compiler_inlining(true);
        }
    }

    /// The equivalent `wasmtime run` flags.
    pub fn cli_flags(&self) -> Vec<String> {
        // The opt level is the variant's flag (`-O opt-level`).
        let mut flags = Vec::new();
        for (bit, (_, flag)) in CPU_FEATURES.iter().enumerate() {
            if self.cpu_off & (1 << bit) != 0 {
                flags.push(format!("-C cranelift-{flag}=false"));
            }
        }
        if let Some(bytes) = self.reservation {
            flags.push(format!("-O memory-reservation={bytes}"));
        }
        if let Some(bytes) = self.guard {
            flags.push(format!("-O memory-guard-size={bytes}"));
        }
        let mut off = |on: bool, flag: &str| {
            if on {
                flags.push(flag.to_string());
            }
        };
        off(self.no_guard_before, "-O guard-before-linear-memory=n");
        off(self.fixed_memory, "-O memory-may-move=n");
        off(self.no_cow, "-O memory-init-cow=n");
        off(self.eager_tables, "-O table-lazy-init=n");
        off(self.verifier, "-C cranelift-debug-verifier=y");
        off(
            self.nan_canon,
            "-C cranelift-enable_nan_canonicalization=true",
        );
        off(self.inlining, "-C inlining=y");
        if self.no_spectre {
            flags.extend(SPECTRE_FLAGS.map(|f| format!("-C cranelift-{f}=false")));
        }
        // `wasmtime run` installs no limiter of its own: `+no-limiter` has
        // no flag, and the others' limiter is crosscheck's.
        flags
    }

    /// Every non-empty set of the settings (of up to [`SUBSET_LIMIT`]
    /// settings; one at a time beyond), smallest sets first, each with the
    /// tuning that lacks them and how many it lacks: the neighbours triage
    /// flips to find the smallest set of settings that matters (a bug that
    /// needs two settings vanishes when either goes, one that needs either
    /// only when both go).
    pub fn without_subsets(&self) -> Vec<(String, Tuning, usize)> {
        let tokens = self.tokens();
        let largest = if tokens.len() <= SUBSET_LIMIT {
            tokens.len()
        } else {
            1
        };
        let mut out = Vec::new();
        for size in 1..=largest {
            for mask in 1u32..(1 << tokens.len()) {
                if mask.count_ones() as usize != size {
                    continue;
                }
                let dropped = |i: usize| mask & (1 << i) != 0;
                let mut tuning = Tuning::default();
                for (i, t) in tokens.iter().enumerate() {
                    if !dropped(i) {
                        tuning.take(t);
                    }
                }
                let words: Vec<String> = (0..tokens.len())
                    .filter(|i| dropped(*i))
                    .map(|i| Tuning::describe(&tokens[i]))
                    .collect();
                out.push((
                    format!("{} -> Wasmtime's default", words.join(" and ")),
                    tuning,
                    size,
                ));
            }
        }
        out
    }

    /// The settings in words, for attribution: what the odd engines of a
    /// family have that the rest lack.
    pub fn describe(token: &str) -> String {
        match token {
            "opt-size" => "Cranelift at opt level speed_and_size".into(),
            "no-guard-before" => "linear memory without a guard region before it".into(),
            "fixed-memory" => "linear memory that never moves".into(),
            "no-cow" => "memory images copied instead of mapped".into(),
            "eager-tables" => "eager table initialization".into(),
            "verifier" => "Cranelift's debug verifier".into(),
            "inline" => "cross-function inlining".into(),
            "no-spectre" => "bounds checks without Spectre mitigations".into(),
            "no-limiter" => "a store without a resource limiter".into(),
            "nan-canon" => "Cranelift's NaN canonicalization".into(),
            t if t.starts_with("reserve-") => format!("a memory reservation of {}", &t[8..]),
            t if t.starts_with("guard-") => format!("a guard region of {}", &t[6..]),
            t if t.starts_with("x86-64-") => format!("code for {t} CPUs"),
            t => match t.strip_prefix("no-") {
                Some(feature) => format!("code without {feature}"),
                None => t.into(),
            },
        }
    }
}

/// The CPU tokens of a mask: a level when it is exactly one, else a
/// `no-<feature>` per bit.
fn cpu_tokens(mask: u16) -> Vec<String> {
    if mask == 0 {
        return Vec::new();
    }
    if let Some((name, _)) = CPU_LEVELS.iter().find(|(_, m)| *m == mask) {
        return vec![name.to_string()];
    }
    CPU_FEATURES
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1 << bit) != 0)
        .map(|(_, (name, _))| format!("no-{name}"))
        .collect()
}

/// `0`, `64k`, `1m`, `2g`: a byte count with a binary unit.
fn parse_size(text: &str) -> Option<u64> {
    let (digits, shift) = match text.as_bytes().last()? {
        b'k' => (&text[..text.len() - 1], 10),
        b'm' => (&text[..text.len() - 1], 20),
        b'g' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    let value: u64 = digits.parse().ok()?;
    let bytes = value.checked_shl(shift)?;
    (bytes >> shift == value && show_size(bytes) == text).then_some(bytes)
}

/// The inverse of [`parse_size`], in the largest unit that divides.
fn show_size(bytes: u64) -> String {
    for (unit, shift) in [("g", 30), ("m", 20), ("k", 10)] {
        if bytes != 0 && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(tokens: &[&str]) -> Option<Tuning> {
        let mut tuning = Tuning::default();
        tokens.iter().all(|t| tuning.take(t)).then_some(tuning)
    }

    #[test]
    fn tokens_round_trip_in_canonical_order() {
        let tuning = parsed(&[
            "no-avx2",
            "guard-64k",
            "verifier",
            "reserve-1m",
            "opt-size",
            "no-sse41",
        ])
        .unwrap();
        assert_eq!(
            tuning.tokens(),
            [
                "opt-size",
                "verifier",
                "reserve-1m",
                "guard-64k",
                "no-sse41",
                "no-avx2"
            ]
        );
        assert_eq!(
            parsed(
                &tuning
                    .tokens()
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
            ),
            Some(tuning)
        );
        assert_eq!(parsed(&["x86-64-v2"]).unwrap().tokens(), ["x86-64-v2"]);
        assert_eq!(parsed(&["x86-64-v1"]).unwrap().cpu_off, 0xffff);
    }

    #[test]
    fn sizes_and_repeats_are_checked() {
        assert_eq!(parsed(&["reserve-0"]).unwrap().reservation, Some(0));
        assert_eq!(parsed(&["guard-2g"]).unwrap().guard, Some(2 << 30));
        for bad in [
            &["reserve-"][..],
            &["guard-1024"],
            &["guard-64q"],
            &["verifier", "verifier"],
            &["no-sse41", "no-sse41"],
            &["no-mmx"],
            &["reserve-0", "reserve-1m"],
        ] {
            assert!(parsed(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn every_set_of_settings_has_a_neighbour_without_it_smallest_first() {
        let tuning = parsed(&["verifier", "no-bmi2"]).unwrap();
        let neighbours = tuning.without_subsets();
        assert_eq!(neighbours.len(), 3);
        assert_eq!(neighbours[0].1, parsed(&["no-bmi2"]).unwrap());
        assert_eq!(neighbours[1].1, parsed(&["verifier"]).unwrap());
        assert_eq!((neighbours[2].1, neighbours[2].2), (Tuning::default(), 2));
        assert!(neighbours[2].0.contains(" and "), "{}", neighbours[2].0);
        let three = parsed(&["verifier", "no-bmi2", "fixed-memory"]).unwrap();
        let sizes: Vec<usize> = three.without_subsets().iter().map(|n| n.2).collect();
        assert_eq!(sizes, [1, 1, 1, 2, 2, 2, 3]);
    }
}
