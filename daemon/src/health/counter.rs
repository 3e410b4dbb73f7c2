//! The names of the counters a case increments, typed. The store, the
//! worker's messages and `/metrics` keep them as text ([`Counter::key`]);
//! whoever reads one parses it once ([`Counter::parse`]) and matches on
//! what it is, instead of taking prefixes off strings.

use oracles::engine::death::DeathKind;
use std::fmt;

/// The engine name under which per-case totals are counted, rather than
/// per engine.
pub const ALL_ENGINES: &str = "*";

/// One counter, per engine or under `ALL_ENGINES` (`*`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Counter {
    /// Cases finished (under `*`), or cases an engine was part of.
    Cases,
    /// Cases the engine compiled and ran.
    Ran,
    /// Cases in which every engine agreed.
    Agree,
    /// Refusals of modules needing a proposal the engine lacks.
    RejectedExpected,
    /// Refusals of modules valid under the engine's own proposals.
    RejectedUnexpected,
    /// Cases in which the engine (or its worker) died, by how.
    Died(Death),
    /// Cases the engine made inconclusive, by reason (`fuel`, ...).
    Inconclusive(String),
    /// Cases per verdict label (`agree`, `mismatch`, `inconclusive:fuel`).
    Verdict(String),
    /// Mismatches blaming a party (`wasmi`, `cranelift-opt`, `undecided`).
    Blame(String),
    /// Mismatches the tie-breakers were brought in for.
    TieBroken,
    /// Findings of a case after its first, by kind.
    Later(String),
    /// Cost findings (compile blowups, slow runs), by kind.
    Blowup(String),
    /// Instructions of every generated module, by opcode (`i32.add`).
    Op(String),
    /// Rule-guided cases per Cranelift rule aimed at.
    Rule(String),
    /// Of those, the cases in which the optimizer rewrote the aimed rule.
    RuleChanged(String),
    /// Of those, with two releases in the matrix: the cases the candidate
    /// (the newer release) ran.
    RuleCandidate(String),
    /// Of those, the cases in which the two releases disagreed.
    RuleDiverged(String),
    /// Of those, checked cases in which the candidate's optimizer rewrote
    /// the aimed rule's root instruction (where the candidate can show it:
    /// `oracles::engine::other_release::CandidateRewrites`).
    RuleCandidateRewrote(String),
    /// What the cases really exercised (`health::exercised`).
    Exercised(Exercise),
    /// Samples of a distribution of at most 2^k (`health::distribution`).
    Bucket(Distribution, u32),
    /// Anything else: counters of other crosscheck versions in a shared
    /// store.
    Other(String),
}

/// A distribution the daemon counts per engine in power-of-two buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Distribution {
    /// Compile wall time, microseconds.
    CompileMicros,
    /// Compile CPU time of the compiling thread, microseconds.
    CompileCpuMicros,
    /// Run time (instantiation and calls), microseconds.
    RunMicros,
    /// Peak heap of a compile, bytes.
    CompileHeap,
    /// Size of the generated machine code, bytes.
    CodeBytes,
    /// A case's module size, instructions (counted for all engines).
    Instructions,
}

/// What marks a counter as a bucket of some distribution.
const BUCKET_MARK: &str = "<=2^";

impl Distribution {
    /// Every distribution.
    pub const ALL: [Distribution; 6] = [
        Distribution::CompileMicros,
        Distribution::CompileCpuMicros,
        Distribution::RunMicros,
        Distribution::CompileHeap,
        Distribution::CodeBytes,
        Distribution::Instructions,
    ];

    /// The counter name before the bucket mark.
    pub fn name(self) -> &'static str {
        match self {
            Distribution::CompileMicros => "compile-us",
            Distribution::CompileCpuMicros => "compile-cpu-us",
            Distribution::RunMicros => "run-us",
            Distribution::CompileHeap => "compile-heap",
            Distribution::CodeBytes => "code-bytes",
            Distribution::Instructions => "instructions",
        }
    }
}

/// How an engine's worker died.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Death {
    /// A panic, a signal or an unknown exit.
    Crashed,
    /// Killed past its time limit.
    Hung,
    /// Killed past its memory limit.
    Oom,
    /// Wrote outside linear memory.
    Breached,
}

/// What a case exercised, as opposed to what was generated.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exercise {
    /// Cases per module feature (`simd`, `stack:tail-loop`).
    Feature(String),
    /// Cases the swarm's drawn engine ran, per setting (`winch`).
    SwarmSetting(String),
    /// Pass-aimed cases in which the optimizer acted, per shape.
    PassActed(String),
    /// Per engine: cases in which it trapped with stack overflow.
    StackOverflow,
    /// One of the per-case totals (`tail-loop-completed`, ...).
    Total(String),
}

/// Builds a counter from the rest of its name after a prefix.
type MakeCounter = fn(String) -> Counter;

const INCONCLUSIVE: &str = "inconclusive:";
const VERDICT: &str = "verdict:";
const BLAME: &str = "blame:";
const LATER: &str = "later:";
const BLOWUP: &str = "blowup:";
const OP: &str = "op:";
const RULE: &str = "rule:";
const RULE_CHANGED: &str = "rule-changed:";
const RULE_CANDIDATE: &str = "rule-candidate:";
const RULE_DIVERGED: &str = "rule-diverged:";
const RULE_CANDIDATE_REWROTE: &str = "rule-candidate-rewrote:";
const EXERCISED: &str = "exercised:";
const FEATURE: &str = "feature:";
const SWARM_SETTING: &str = "swarm:";
const PASS_ACTED: &str = "pass-acted:";
const STACK_OVERFLOW: &str = "stack-overflow";

impl Death {
    /// Every way to die.
    pub const ALL: [Death; 4] = [Death::Crashed, Death::Hung, Death::Oom, Death::Breached];

    /// The counter's name.
    pub fn name(self) -> &'static str {
        match self {
            Death::Crashed => "crashed",
            Death::Hung => "hung",
            Death::Oom => "oom",
            Death::Breached => "breached",
        }
    }

    /// The counter of a death of finding kind `kind` (a hang, ...).
    pub fn of_kind(kind: DeathKind) -> Death {
        match kind {
            DeathKind::Crash => Death::Crashed,
            DeathKind::Hang => Death::Hung,
            DeathKind::Oom => Death::Oom,
            DeathKind::Breach => Death::Breached,
        }
    }
}

impl Counter {
    /// The name kept in the store.
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// The distribution and bucket exponent of a stored name, if it is a
    /// [`Counter::Bucket`] (without reading it whole, for the loops over
    /// every counter).
    pub fn bucket_of(name: &str) -> Option<(Distribution, u32)> {
        Distribution::ALL.into_iter().find_map(|d| {
            let k = name.strip_prefix(d.name())?.strip_prefix(BUCKET_MARK)?;
            Some((d, k.parse().ok()?))
        })
    }

    /// The counter a stored name is; [`Counter::Other`] for names this
    /// version does not make.
    pub fn parse(name: &str) -> Counter {
        let plain = match name {
            "cases" => Some(Counter::Cases),
            "ran" => Some(Counter::Ran),
            "agree" => Some(Counter::Agree),
            "rejected-expected" => Some(Counter::RejectedExpected),
            "rejected-unexpected" => Some(Counter::RejectedUnexpected),
            "tie-broken" => Some(Counter::TieBroken),
            _ => Death::ALL
                .into_iter()
                .find(|d| d.name() == name)
                .map(Counter::Died),
        };
        if let Some(counter) = plain {
            return counter;
        }
        let prefixed: [(&str, MakeCounter); 11] = [
            (INCONCLUSIVE, Counter::Inconclusive),
            (VERDICT, Counter::Verdict),
            (BLAME, Counter::Blame),
            (LATER, Counter::Later),
            (BLOWUP, Counter::Blowup),
            (OP, Counter::Op),
            (RULE, Counter::Rule),
            (RULE_CHANGED, Counter::RuleChanged),
            (RULE_CANDIDATE, Counter::RuleCandidate),
            (RULE_DIVERGED, Counter::RuleDiverged),
            (RULE_CANDIDATE_REWROTE, Counter::RuleCandidateRewrote),
        ];
        for (prefix, make) in prefixed {
            if let Some(rest) = name.strip_prefix(prefix) {
                return make(rest.to_string());
            }
        }
        if let Some(what) = name.strip_prefix(EXERCISED) {
            return Counter::Exercised(Exercise::parse(what));
        }
        match Counter::bucket_of(name) {
            Some((d, k)) => Counter::Bucket(d, k),
            None => Counter::Other(name.to_string()),
        }
    }
}

impl Exercise {
    /// What an `exercised:` counter's name after the prefix is.
    pub fn parse(what: &str) -> Exercise {
        if let Some(feature) = what.strip_prefix(FEATURE) {
            Exercise::Feature(feature.to_string())
        } else if let Some(setting) = what.strip_prefix(SWARM_SETTING) {
            Exercise::SwarmSetting(setting.to_string())
        } else if let Some(shape) = what.strip_prefix(PASS_ACTED) {
            Exercise::PassActed(shape.to_string())
        } else if what == STACK_OVERFLOW {
            Exercise::StackOverflow
        } else {
            Exercise::Total(what.to_string())
        }
    }
}

impl fmt::Display for Exercise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exercise::Feature(x) => write!(f, "{FEATURE}{x}"),
            Exercise::SwarmSetting(x) => write!(f, "{SWARM_SETTING}{x}"),
            Exercise::PassActed(x) => write!(f, "{PASS_ACTED}{x}"),
            Exercise::StackOverflow => f.write_str(STACK_OVERFLOW),
            Exercise::Total(x) => f.write_str(x),
        }
    }
}

impl fmt::Display for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Counter::Cases => f.write_str("cases"),
            Counter::Ran => f.write_str("ran"),
            Counter::Agree => f.write_str("agree"),
            Counter::RejectedExpected => f.write_str("rejected-expected"),
            Counter::RejectedUnexpected => f.write_str("rejected-unexpected"),
            Counter::TieBroken => f.write_str("tie-broken"),
            Counter::Died(death) => f.write_str(death.name()),
            Counter::Inconclusive(x) => write!(f, "{INCONCLUSIVE}{x}"),
            Counter::Verdict(x) => write!(f, "{VERDICT}{x}"),
            Counter::Blame(x) => write!(f, "{BLAME}{x}"),
            Counter::Later(x) => write!(f, "{LATER}{x}"),
            Counter::Blowup(x) => write!(f, "{BLOWUP}{x}"),
            Counter::Op(x) => write!(f, "{OP}{x}"),
            Counter::Rule(x) => write!(f, "{RULE}{x}"),
            Counter::RuleChanged(x) => write!(f, "{RULE_CHANGED}{x}"),
            Counter::RuleCandidate(x) => write!(f, "{RULE_CANDIDATE}{x}"),
            Counter::RuleDiverged(x) => write!(f, "{RULE_DIVERGED}{x}"),
            Counter::RuleCandidateRewrote(x) => write!(f, "{RULE_CANDIDATE_REWROTE}{x}"),
            Counter::Exercised(what) => write!(f, "{EXERCISED}{what}"),
            Counter::Bucket(d, k) => write!(f, "{}{BUCKET_MARK}{k}", d.name()),
            Counter::Other(x) => f.write_str(x),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_reads_back_as_itself_under_the_name_the_store_keeps() {
        let text = |s: &str| s.to_string();
        let all = [
            (Counter::Cases, "cases"),
            (Counter::Ran, "ran"),
            (Counter::Agree, "agree"),
            (Counter::RejectedExpected, "rejected-expected"),
            (Counter::RejectedUnexpected, "rejected-unexpected"),
            (Counter::TieBroken, "tie-broken"),
            (Counter::Died(Death::Crashed), "crashed"),
            (Counter::Died(Death::Hung), "hung"),
            (Counter::Died(Death::Oom), "oom"),
            (Counter::Died(Death::Breached), "breached"),
            (Counter::Inconclusive(text("fuel")), "inconclusive:fuel"),
            (
                Counter::Verdict(text("inconclusive:fuel")),
                "verdict:inconclusive:fuel",
            ),
            (Counter::Blame(text("wasmi")), "blame:wasmi"),
            (Counter::Later(text("crash")), "later:crash"),
            (Counter::Blowup(text("compile-time")), "blowup:compile-time"),
            (Counter::Op(text("i32.add")), "op:i32.add"),
            (Counter::Rule(text("12")), "rule:12"),
            (Counter::RuleChanged(text("12")), "rule-changed:12"),
            (
                Counter::RuleCandidate(text("opts/icmp.isle:5@51")),
                "rule-candidate:opts/icmp.isle:5@51",
            ),
            (Counter::RuleDiverged(text("12")), "rule-diverged:12"),
            (
                Counter::RuleCandidateRewrote(text("opts/icmp.isle:5@51")),
                "rule-candidate-rewrote:opts/icmp.isle:5@51",
            ),
            (
                Counter::Exercised(Exercise::Feature(text("stack:tail-loop"))),
                "exercised:feature:stack:tail-loop",
            ),
            (
                Counter::Exercised(Exercise::SwarmSetting(text("no-sse41"))),
                "exercised:swarm:no-sse41",
            ),
            (
                Counter::Exercised(Exercise::PassActed(text("store-store"))),
                "exercised:pass-acted:store-store",
            ),
            (
                Counter::Exercised(Exercise::StackOverflow),
                "exercised:stack-overflow",
            ),
            (
                Counter::Bucket(Distribution::CompileMicros, 10),
                "compile-us<=2^10",
            ),
            (
                Counter::Bucket(Distribution::Instructions, 0),
                "instructions<=2^0",
            ),
            (
                Counter::Exercised(Exercise::Total(text("tail-loop-completed"))),
                "exercised:tail-loop-completed",
            ),
            (
                Counter::Other(text("a-counter-of-another-version")),
                "a-counter-of-another-version",
            ),
        ];
        for (counter, name) in all {
            assert_eq!(counter.key(), name);
            assert_eq!(Counter::parse(name), counter, "{name}");
        }
        assert_eq!(Death::of_kind(DeathKind::Hang), Death::Hung);
        assert_eq!(Death::of_kind(DeathKind::Crash), Death::Crashed);
    }
}
