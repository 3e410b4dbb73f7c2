//! Reducing a finding's module past wasm-shrink, to what a person would
//! write: wasm-shrink removes what it can prove unused, but leaves code
//! unrelated to the bug around its trigger. These passes work on the
//! module's text (one instruction per line, as `wasmprinter` prints it) and
//! keep a change only when the module still validates and the predicate
//! (the finding's exact signature, run in a worker) holds:
//!
//! 1. whole fields (functions, globals, tables, memories, data and element
//!    segments, exports, types, custom sections), delta debugging over them;
//! 2. instructions and whole `block`/`loop`/`if` regions, in halves, then
//!    quarters, down to one at a time;
//! 3. `block` and `loop` wrappers (their bodies kept);
//! 4. locals nothing mentions, each on its own (several share a line);
//! 5. code after an instruction that never falls through, to its block's
//!    end, at once;
//! 6. whole function bodies, replaced by `unreachable`;
//! 7. instructions replaced by constants, stores to locals and globals by
//!    `drop`;
//! 8. numbers (constants, memory and table sizes, offsets) towards 0 and 1.
//!
//! The passes repeat until none changes anything or the deadline passes.
//! Invalid candidates are refused here, without running anything.

use super::wat_lines::{
    assemble, field_end, in_function, indent, is_instruction, lines_of, matching_end, paren_balance,
};
use anyhow::Result;
use std::time::Instant;

/// What reducing a module gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reduced {
    /// The smallest module for which the predicate held.
    pub wasm: Vec<u8>,
    /// Size before, bytes.
    pub original_size: usize,
    /// Candidates the predicate was asked about (valid modules).
    pub candidates: u64,
    /// Candidates refused without asking: they did not validate.
    pub invalid: u64,
}

/// Reduces `wasm` while `interesting` holds, until no pass changes
/// anything or `deadline` passes. The caller checks that `wasm` itself is
/// interesting.
pub fn reduce(
    wasm: &[u8],
    deadline: Instant,
    interesting: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<Reduced> {
    let mut state = State {
        lines: lines_of(wasm)?,
        wasm: wasm.to_vec(),
        deadline,
        interesting,
        candidates: 0,
        invalid: 0,
        accepted: 0,
    };
    // The text form of the input, if it is smaller (names, custom sections
    // wasmprinter drops are not part of the bug).
    if let Some(text_form) = assemble(&state.lines) {
        if text_form.len() < state.wasm.len() && (state.interesting)(&text_form)? {
            state.wasm = text_form;
        }
    }
    loop {
        state.accepted = 0;
        state.remove_units(Unit::Field)?;
        state.remove_units(Unit::Code)?;
        state.remove_pairs()?;
        state.remove_values_with_their_drops()?;
        state.fold_operands()?;
        state.unwrap_blocks()?;
        state.shorten_locals()?;
        state.remove_unused_locals()?;
        state.remove_dead_code()?;
        state.replace_function_bodies()?;
        state.constants_for_instructions()?;
        state.shrink_numbers()?;
        // Same-size changes count: a global read turned into a constant
        // lets the next round remove the global.
        if state.accepted == 0 || state.out_of_time() {
            break;
        }
    }
    Ok(Reduced {
        wasm: state.wasm,
        original_size: wasm.len(),
        candidates: state.candidates,
        invalid: state.invalid,
    })
}

/// What the delta-debugging pass removes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// Top-level fields of the module.
    Field,
    /// Instructions and whole structured regions inside functions.
    Code,
}

struct State<'a> {
    lines: Vec<String>,
    wasm: Vec<u8>,
    deadline: Instant,
    interesting: &'a mut dyn FnMut(&[u8]) -> Result<bool>,
    candidates: u64,
    invalid: u64,
    /// Changes taken in the current round.
    accepted: u64,
}

impl State<'_> {
    fn out_of_time(&self) -> bool {
        Instant::now() > self.deadline
    }

    /// Takes `lines` if they make a valid module no larger than the
    /// current one for which the predicate holds.
    fn try_lines(&mut self, lines: Vec<String>, allow_same_size: bool) -> Result<bool> {
        if self.out_of_time() {
            return Ok(false);
        }
        let Some(wasm) = assemble(&lines) else {
            self.invalid += 1;
            return Ok(false);
        };
        let smaller = wasm.len() < self.wasm.len()
            || (wasm.len() == self.wasm.len()
                && (allow_same_size || lines.len() < self.lines.len()));
        if !smaller {
            return Ok(false);
        }
        self.candidates += 1;
        if (self.interesting)(&wasm)? {
            self.lines = lines;
            self.wasm = wasm;
            self.accepted += 1;
            return Ok(true);
        }
        Ok(false)
    }

    /// Tries the candidates `make` builds from the current lines (the
    /// `0..count`th), in order, and takes the first the predicate keeps.
    fn take_first(
        &mut self,
        count: usize,
        allow_same_size: bool,
        make: impl Fn(&[String], usize) -> Vec<String>,
    ) -> Result<bool> {
        for k in 0..count {
            let candidate = make(&self.lines, k);
            if self.try_lines(candidate, allow_same_size)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Delta debugging over the units of `kind`: chunks of half of them,
    /// then quarters, ... down to single units; a chunk whose removal keeps
    /// the predicate is gone for good.
    fn remove_units(&mut self, kind: Unit) -> Result<()> {
        let mut chunk = units(&self.lines, kind).len().div_ceil(2).max(1);
        loop {
            let mut start = 0;
            loop {
                let all = units(&self.lines, kind);
                if start >= all.len() || self.out_of_time() {
                    break;
                }
                let end = (start + chunk).min(all.len());
                let removed: Vec<bool> = {
                    let mut removed = vec![false; self.lines.len()];
                    for range in &all[start..end] {
                        removed[range.clone()].iter_mut().for_each(|r| *r = true);
                    }
                    removed
                };
                let candidate = self
                    .lines
                    .iter()
                    .zip(&removed)
                    .filter(|(_, gone)| !**gone)
                    .map(|(l, _)| l.clone())
                    .collect();
                if !self.try_lines(candidate, false)? {
                    start = end;
                }
            }
            if chunk == 1 || self.out_of_time() {
                return Ok(());
            }
            chunk = chunk.div_ceil(2);
        }
    }

    /// Pairs of instructions apart from each other, in small modules: a
    /// value and its consumer far below (`global.get` ... `global.set`),
    /// which neither removes alone without leaving the stack unbalanced.
    fn remove_pairs(&mut self) -> Result<()> {
        const MOST: usize = 60;
        let mut first = 0;
        loop {
            let singles: Vec<usize> = units(&self.lines, Unit::Code)
                .into_iter()
                .filter(|r| r.len() == 1)
                .map(|r| r.start)
                .collect();
            if singles.len() > MOST || first >= singles.len() || self.out_of_time() {
                return Ok(());
            }
            let mut removed = false;
            for &second in &singles[first + 1..] {
                let candidate: Vec<String> = self
                    .lines
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != singles[first] && *i != second)
                    .map(|(_, l)| l.clone())
                    .collect();
                if self.try_lines(candidate, false)? {
                    removed = true;
                    break;
                }
            }
            if !removed {
                first += 1;
            }
        }
    }

    /// A `drop` with a value pushed above it at its depth (a constant, a
    /// read of a local or a global), both removed: runs of constants that
    /// wasm-shrink leaves above a run of drops go pair by pair. Up to
    /// [`PUSHERS_PER_DROP`] values are tried per drop, nearest first.
    fn remove_values_with_their_drops(&mut self) -> Result<()> {
        let mut at = 0;
        while at < self.lines.len() && !self.out_of_time() {
            let mut removed = false;
            if self.lines[at].trim() == "drop" && in_function(&self.lines, at) {
                let pushers: Vec<usize> = same_depth_above(&self.lines, at)
                    .into_iter()
                    .filter(|i| is_pusher(&self.lines[*i]))
                    .take(PUSHERS_PER_DROP)
                    .collect();
                removed = self.take_first(pushers.len(), false, |lines, k| {
                    let mut candidate = lines.to_vec();
                    candidate.remove(at);
                    candidate.remove(pushers[k]);
                    candidate
                })?;
            }
            // After a removal the line at `at - 1` is new to this place.
            at = if removed {
                at.saturating_sub(1)
            } else {
                at + 1
            };
        }
        Ok(())
    }

    /// An instruction and the one to three values pushed right before it
    /// (its operands, when they are constants or reads) replaced by one
    /// constant: `i32.const 3 local.get 0 i32.add` becomes `i32.const 0`,
    /// which replacing the instruction alone cannot do (its operands would
    /// be left on the stack).
    fn fold_operands(&mut self) -> Result<()> {
        let mut at = 0;
        while at < self.lines.len() && !self.out_of_time() {
            let line = self.lines[at].trim_start();
            let foldable = in_function(&self.lines, at)
                && is_instruction(line)
                && !is_pusher(line)
                && matching_end(&self.lines, at).is_none()
                && !["else", "end", "drop"].contains(&line);
            let mut folded = false;
            if foldable {
                let depth = indent(&self.lines[at]);
                for operands in 1..=3.min(at) {
                    let first = at - operands;
                    let all_pushed = (first..at)
                        .all(|i| indent(&self.lines[i]) == depth && is_pusher(&self.lines[i]));
                    if !all_pushed {
                        break;
                    }
                    folded = self.take_first(CONSTANTS.len(), false, |lines, k| {
                        let mut candidate = lines.to_vec();
                        let constant = format!("{}{}", " ".repeat(depth), CONSTANTS[k]);
                        candidate.splice(first..=at, [constant]);
                        candidate
                    })?;
                    if folded {
                        at = first;
                        break;
                    }
                }
            }
            if !folded {
                at += 1;
            }
        }
        Ok(())
    }

    /// Drops the last local of each `(local t1 t2 ...)` declaration (the
    /// indices of the others stay).
    fn shorten_locals(&mut self) -> Result<()> {
        let mut at = 0;
        while at < self.lines.len() && !self.out_of_time() {
            let line = self.lines[at].trim();
            let shorter = line
                .strip_prefix("(local ")
                .and_then(|rest| rest.strip_suffix(')'))
                .map(|types| types.split_whitespace().collect::<Vec<_>>())
                .filter(|types| types.len() > 1 && !types[0].starts_with('$'))
                .map(|types| format!("(local {})", types[..types.len() - 1].join(" ")));
            match shorter {
                Some(shorter) => {
                    let mut candidate = self.lines.clone();
                    candidate[at] = format!("{}{shorter}", " ".repeat(indent(&self.lines[at])));
                    if !self.try_lines(candidate, true)? {
                        at += 1;
                    }
                }
                None => at += 1,
            }
        }
        Ok(())
    }

    /// Removes each named local declaration (`(local $x t)`, several to a
    /// line as `wasmprinter` prints them) that nothing in its function
    /// mentions any more: the others on its line stay, which removing the
    /// line or its last type cannot do.
    fn remove_unused_locals(&mut self) -> Result<()> {
        let mut at = 0;
        while at < self.lines.len() && !self.out_of_time() {
            let groups = local_groups(&self.lines[at]);
            let (start, end) = function_around(&self.lines, at);
            let unused = groups
                .iter()
                .find(|(_, name)| !(start..end).any(|i| i != at && mentions(&self.lines[i], name)));
            if let Some((range, _)) = unused {
                let mut candidate = self.lines.clone();
                candidate[at].replace_range(range.clone(), "");
                if candidate[at].trim().is_empty() {
                    candidate.remove(at);
                }
                if self.try_lines(candidate, true)? {
                    continue;
                }
            }
            at += 1;
        }
        Ok(())
    }

    /// Removes what follows an instruction that never falls through
    /// (`unreachable`, `return`, `br`, `br_table`, a tail call) up to the
    /// end of its block: code nothing can reach.
    fn remove_dead_code(&mut self) -> Result<()> {
        let mut at = 0;
        while at < self.lines.len() && !self.out_of_time() {
            let line = self.lines[at].trim();
            let opcode = line.split_whitespace().next().unwrap_or_default();
            let diverges = in_function(&self.lines, at)
                && matches!(
                    opcode,
                    "unreachable"
                        | "return"
                        | "br"
                        | "br_table"
                        | "return_call"
                        | "return_call_indirect"
                        | "return_call_ref"
                        | "throw"
                        | "rethrow"
                        | "throw_ref"
                );
            if diverges {
                let end = reachable_end(&self.lines, at + 1);
                if end > at + 1 {
                    let mut candidate = self.lines.clone();
                    candidate.drain(at + 1..end);
                    self.try_lines(candidate, false)?;
                }
            }
            at += 1;
        }
        Ok(())
    }

    /// Each function's whole body replaced by `unreachable`: a function that
    /// must stay (it is called, or exported) but whose code the bug does
    /// not need.
    fn replace_function_bodies(&mut self) -> Result<()> {
        let mut at = 0;
        while at < self.lines.len() && !self.out_of_time() {
            if indent(&self.lines[at]) == 2 && self.lines[at].trim_start().starts_with("(func") {
                let end = field_end(&self.lines, at);
                let body: Vec<usize> = (at + 1..end)
                    .filter(|i| is_instruction(&self.lines[*i]))
                    .collect();
                if body.len() > 1
                    || body
                        .first()
                        .is_some_and(|i| self.lines[*i].trim() != "unreachable")
                {
                    let indent = " ".repeat(indent(&self.lines[body[0]]));
                    let mut candidate: Vec<String> = self
                        .lines
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !body.contains(i))
                        .map(|(_, l)| l.clone())
                        .collect();
                    // Before the function's closing parenthesis: `unreachable`,
                    // else what returns the results at once.
                    let close = end - 1 - body.len();
                    let mut trapping = candidate.clone();
                    trapping.insert(close, format!("{indent}unreachable"));
                    if !self.try_lines(trapping, false)? {
                        if let Some(constants) = constant_results(&self.lines[at]) {
                            for (offset, constant) in constants.iter().enumerate() {
                                candidate.insert(close + offset, format!("{indent}{constant}"));
                            }
                            self.try_lines(candidate, false)?;
                        }
                    }
                }
            }
            at += 1;
        }
        Ok(())
    }

    /// Removes the opening and closing lines of `block` and `loop`
    /// regions, keeping their bodies.
    fn unwrap_blocks(&mut self) -> Result<()> {
        let mut at = 0;
        while at < self.lines.len() && !self.out_of_time() {
            let line = self.lines[at].trim_start();
            let opens = line.starts_with("block") || line.starts_with("loop");
            match (opens, matching_end(&self.lines, at)) {
                (true, Some(end)) => {
                    let mut candidate = self.lines.clone();
                    candidate.remove(end);
                    candidate.remove(at);
                    if !self.try_lines(candidate, false)? {
                        at += 1;
                    }
                }
                _ => at += 1,
            }
        }
        Ok(())
    }

    /// Each instruction replaced by a constant 0 or 1 of some type (a value
    /// read from a global, a local, memory or a call becomes a constant, and
    /// what produced it can go), each store to a global or a local by a
    /// `drop` (and the global or local can go).
    fn constants_for_instructions(&mut self) -> Result<()> {
        let mut at = 0;
        while at < self.lines.len() && !self.out_of_time() {
            let line = self.lines[at].trim_start();
            let replaceable = in_function(&self.lines, at)
                && is_instruction(line)
                && !CONSTANTS.contains(&line)
                && matching_end(&self.lines, at).is_none()
                && !["else", "end"].contains(&line);
            // A value stored to a global or a local can be dropped instead.
            let setter = line.starts_with("global.set") || line.starts_with("local.set");
            let options: &[&str] = if setter { &["drop"] } else { &CONSTANTS };
            if replaceable {
                let indent = " ".repeat(indent(&self.lines[at]));
                self.take_first(options.len(), true, |lines, k| {
                    let mut candidate = lines.to_vec();
                    candidate[at] = format!("{indent}{}", options[k]);
                    candidate
                })?;
            }
            at += 1;
        }
        Ok(())
    }

    /// Every integer in the text (constants, sizes, offsets, alignments)
    /// tried at 0, 1 and half its value; floats at 0.
    fn shrink_numbers(&mut self) -> Result<()> {
        let mut at = 0;
        while at < self.lines.len() && !self.out_of_time() {
            let mut token = 0;
            loop {
                let tokens = number_tokens(&self.lines[at]);
                let Some((range, value)) = tokens.get(token).cloned() else {
                    break;
                };
                let smaller = smaller_numbers(&value);
                let changed = self.take_first(smaller.len(), true, |lines, k| {
                    let mut candidate = lines.to_vec();
                    candidate[at].replace_range(range.clone(), &smaller[k]);
                    candidate
                })?;
                if !changed {
                    token += 1;
                }
            }
            at += 1;
        }
        Ok(())
    }
}

/// The constants an instruction is replaced by, simplest first.
const CONSTANTS: [&str; 8] = [
    "i32.const 0",
    "i64.const 0",
    "f32.const 0",
    "f64.const 0",
    "i32.const 1",
    "i64.const 1",
    "f32.const 1",
    "f64.const 1",
];

/// How many values above a `drop` are tried as the one it drops.
const PUSHERS_PER_DROP: usize = 8;

/// Whether an instruction line pushes a value and pops none.
fn is_pusher(line: &str) -> bool {
    let opcode = line.split_whitespace().next().unwrap_or_default();
    matches!(
        opcode,
        "i32.const"
            | "i64.const"
            | "f32.const"
            | "f64.const"
            | "v128.const"
            | "local.get"
            | "global.get"
            | "ref.null"
            | "ref.func"
            | "memory.size"
            | "table.size"
    )
}

/// The lines above `at` in its block at its depth, nearest first: lines of
/// nested regions are skipped, and the block's opening ends the list.
fn same_depth_above(lines: &[String], at: usize) -> Vec<usize> {
    let depth = indent(&lines[at]);
    let mut found = Vec::new();
    for i in (0..at).rev() {
        let line = &lines[i];
        if line.trim().is_empty() || indent(line) > depth {
            continue;
        }
        if indent(line) < depth || !is_instruction(line) {
            break;
        }
        found.push(i);
    }
    found
}

/// One constant per result of the function whose header is `header`, when
/// every result type has one (`v128.const i64x2 0 0`, `ref.null func`).
fn constant_results(header: &str) -> Option<Vec<String>> {
    let mut constants = Vec::new();
    let mut rest = header;
    while let Some(at) = rest.find("(result") {
        let group = &rest[at + "(result".len()..];
        let close = group.find(')')?;
        for ty in group[..close].split_whitespace() {
            constants.push(match ty {
                "i32" | "i64" | "f32" | "f64" => format!("{ty}.const 0"),
                "v128" => "v128.const i64x2 0 0".to_string(),
                "funcref" => "ref.null func".to_string(),
                "externref" => "ref.null extern".to_string(),
                _ => return None,
            });
        }
        rest = &group[close..];
    }
    Some(constants)
}

/// The lines of the function field around line `at`: its header to one
/// past its closing line (the whole text when `at` is in none).
fn function_around(lines: &[String], at: usize) -> (usize, usize) {
    let start = (0..=at)
        .rev()
        .find(|i| indent(&lines[*i]) == 2 && lines[*i].trim_start().starts_with("(func"));
    match start {
        Some(start) => (start, field_end(lines, start)),
        None => (0, lines.len()),
    }
}

/// The `(local $name type)` groups of a line: each one's byte range
/// (with the space before it) and its name.
fn local_groups(line: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let mut groups = Vec::new();
    let mut from = 0;
    while let Some(found) = line[from..].find("(local $") {
        let open = from + found;
        let Some(close) = line[open..].find(')').map(|c| open + c + 1) else {
            break;
        };
        let name = line[open + "(local ".len()..close - 1]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        let start = if line[..open].ends_with(' ') && !line[..open].trim().is_empty() {
            open - 1
        } else {
            open
        };
        groups.push((start..close, name));
        from = close;
    }
    groups
}

/// Whether `line` mentions the identifier `name` (not as part of a longer
/// one).
fn mentions(line: &str, name: &str) -> bool {
    line.match_indices(name).any(|(i, _)| {
        let next = line[i + name.len()..].chars().next();
        !next.is_some_and(|c| c.is_alphanumeric() || "_.#$-".contains(c))
    })
}

/// One past the last line reachable by falling through from `from` in
/// its block: the first `end` or `else` of the enclosing block, or the
/// function's end, with whole nested regions skipped.
fn reachable_end(lines: &[String], from: usize) -> usize {
    let mut at = from;
    while at < lines.len() {
        let line = lines[at].trim();
        if line == "end"
            || line == "else"
            || line.starts_with("catch")
            || !is_instruction(&lines[at])
        {
            return at;
        }
        at = match matching_end(lines, at) {
            Some(end) => end + 1,
            None => at + 1,
        };
    }
    at
}

/// The removable units of `kind`, as line ranges, in order.
fn units(lines: &[String], kind: Unit) -> Vec<std::ops::Range<usize>> {
    let mut units = Vec::new();
    let mut at = 1; // after `(module`
    while at < lines.len() {
        let line = &lines[at];
        if indent(line) != 2 || line.trim() == ")" {
            at += 1;
            continue;
        }
        let end = field_end(lines, at);
        match kind {
            Unit::Field => units.push(at..end),
            Unit::Code if line.trim_start().starts_with("(func") => {
                for inner in at + 1..end.saturating_sub(1) {
                    let body = &lines[inner];
                    if paren_balance(body) != 0 || body.trim() == ")" {
                        continue;
                    }
                    if body.trim_start().starts_with("(local") {
                        units.push(inner..inner + 1);
                    }
                    if is_instruction(body) {
                        units.push(inner..inner + 1);
                        if let Some(close) = matching_end(lines, inner) {
                            units.push(inner..close + 1);
                            // With the instruction before: an `if`'s
                            // condition, a block's parameter.
                            if is_instruction(&lines[inner - 1]) {
                                units.push(inner - 1..close + 1);
                            }
                        }
                    }
                }
            }
            Unit::Code => {}
        }
        at = end;
    }
    units
}

/// The numbers of a line (outside strings) with their byte ranges, except
/// those that name things (`$x`) or are part of a word.
fn number_tokens(line: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let mut tokens = Vec::new();
    let mut in_string = false;
    let mut start: Option<usize> = None;
    let bytes = line.as_bytes();
    let is_token_char = |c: u8| {
        c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.' | b'_' | b'$' | b':' | b'=')
    };
    let mut i = 0;
    while i <= bytes.len() {
        let c = bytes.get(i).copied();
        if in_string {
            if c == Some(b'\\') {
                i += 2;
                continue;
            }
            if c == Some(b'"') {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match (start, c) {
            (None, Some(b'"')) => in_string = true,
            (None, Some(c)) if is_token_char(c) => start = Some(i),
            (Some(s), c) if !c.is_some_and(is_token_char) => {
                let token = &line[s..i];
                if is_number(token) {
                    tokens.push((s..i, token.to_string()));
                }
                start = None;
                if c == Some(b'"') {
                    in_string = true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    tokens
}

fn is_number(token: &str) -> bool {
    let digits = token.trim_start_matches(['-', '+']);
    let (digits, hex) = match digits.strip_prefix("0x") {
        Some(hex_digits) => (hex_digits, true),
        None => (digits, false),
    };
    !digits.is_empty()
        && digits
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()))
        && digits
            .chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, '_' | '.' | 'p' | 'P' | '+' | '-'))
}

/// Simpler values to try for a number token, simplest first.
fn smaller_numbers(token: &str) -> Vec<String> {
    let plain = token.replace('_', "");
    let integer = if let Some(hex) = plain.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()
    } else if let Some(hex) = plain.strip_prefix("-0x") {
        i128::from_str_radix(hex, 16).ok().map(|v| -v)
    } else {
        plain.parse::<i128>().ok()
    };
    match integer {
        Some(0) => Vec::new(),
        Some(1) => vec!["0".into()],
        Some(v) => {
            let mut out = vec!["0".to_string(), "1".to_string()];
            if v.abs() > 2 {
                out.push((v / 2).to_string());
            }
            out
        }
        // A float: zero, if it is not zero already.
        None if plain.trim_start_matches(['-', '+']).parse::<f64>().ok() == Some(0.0) => Vec::new(),
        None => vec!["0".into()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(wasm: &[u8]) -> String {
        wasmprinter::print_bytes(wasm).unwrap()
    }

    #[test]
    fn a_select_of_a_zero_test_reduces_to_the_few_instructions_that_matter() {
        // The shape of the wasmi bug, buried in unrelated code.
        let wasm = wat::parse_str(
            r#"(module
                (memory 1)
                (global $g (mut i32) (i32.const 7))
                (func $unused (result i32) i32.const 1 i32.const 2 i32.add)
                (func (export "f") (param i32 i32) (result i32) (local i64)
                    (local.set 2 (i64.const 123456789))
                    (block (result i32)
                      (i32.add (global.get $g) (i32.const 40000))
                      drop
                      (select (i32.const 1) (local.get 1) (i32.eqz (local.get 0)))))
                (data (i32.const 0) "some (bytes nobody needs"))"#,
        )
        .unwrap();
        let has_trigger = |w: &[u8]| -> Result<bool> {
            let t = text(w);
            Ok(t.contains("i32.eqz") && t.contains("select") && t.contains("export"))
        };
        let reduced = reduce(
            &wasm,
            Instant::now() + std::time::Duration::from_secs(60),
            &mut |w| has_trigger(w),
        )
        .unwrap();
        let shown = text(&reduced.wasm);
        assert!(has_trigger(&reduced.wasm).unwrap(), "{shown}");
        assert!(
            reduced.wasm.len() <= 45,
            "{} bytes: {shown}",
            reduced.wasm.len()
        );
        for gone in ["memory", "global", "data", "i64.const", "i32.add"] {
            assert!(!shown.contains(gone), "{gone} left: {shown}");
        }
        assert!(reduced.candidates > 0 && reduced.invalid > 0);
    }

    #[test]
    fn unused_locals_dead_code_and_bodies_nobody_needs_go() {
        // A division trapping on a value kept in a local (which must stay),
        // next to locals nothing uses (declared on the same line), code
        // after a `return`, and a called function whose body does not
        // matter.
        let wasm = wat::parse_str(
            r#"(module
                (func $helper (param i32) (result i32)
                    (i32.mul (local.get 0) (i32.add (local.get 0) (i32.const 3))))
                (func (export "f") (param i32) (result i32) (local i64 f64 i32 i64)
                    (local.set 3 (call $helper (local.get 0)))
                    (i32.div_s (i32.const 1) (local.get 3))
                    return
                    (drop (i32.add (local.get 3) (i32.const 9)))
                    (i32.const 5)))"#,
        )
        .unwrap();
        let has_trigger = |w: &[u8]| -> Result<bool> {
            let t = text(w);
            Ok(t.contains("i32.div_s")
                && t.contains("call")
                && t.contains("local.set")
                && t.contains("export"))
        };
        let reduced = reduce(
            &wasm,
            Instant::now() + std::time::Duration::from_secs(60),
            &mut |w| has_trigger(w),
        )
        .unwrap();
        let shown = text(&reduced.wasm);
        assert!(has_trigger(&reduced.wasm).unwrap(), "{shown}");
        for gone in ["i64", "f64", "i32.mul", "i32.const 9", "i32.const 5"] {
            assert!(!shown.contains(gone), "{gone} left: {shown}");
        }
        assert!(
            reduced.wasm.len() <= 52,
            "{} bytes: {shown}",
            reduced.wasm.len()
        );
    }

    #[test]
    fn runs_of_values_and_drops_folded_operands_and_constant_bodies_go() {
        // What wasm-shrink leaves: 40 values pushed above the trigger and
        // dropped below it (too many for the pair search), an addition of
        // two constants, and a called function whose body must return.
        let pushed = "i32.const 1 i64.const 2 f32.const 3 i32.const 4 ".repeat(10);
        let drops = "drop ".repeat(40);
        let wasm = wat::parse_str(format!(
            r#"(module
                (func $other (result v128)
                    i32.const 3 i32.const 4 i32.add drop
                    v128.const i64x2 7 9)
                (func (export "f") (param i32) (result v128)
                    {pushed}
                    i32.const 7 i32.const 1 i32.const 0 local.get 0 i32.eqz select i32.div_u drop
                    {drops}
                    call $other))"#
        ))
        .unwrap();
        let has_trigger = |w: &[u8]| -> Result<bool> {
            let t = text(w);
            Ok(t.contains("select")
                && t.contains("i32.div_u")
                && t.contains("call")
                && !t.contains("unreachable"))
        };
        let reduced = reduce(
            &wasm,
            Instant::now() + std::time::Duration::from_secs(120),
            &mut |w| has_trigger(w),
        )
        .unwrap();
        let shown = text(&reduced.wasm);
        assert!(has_trigger(&reduced.wasm).unwrap(), "{shown}");
        for gone in ["i64.const", "f32.const", "i32.add", "i32.const 4"] {
            assert!(!shown.contains(gone), "{gone} left: {shown}");
        }
        assert!(shown.matches("drop").count() <= 1, "{shown}");
        assert!(
            reduced.wasm.len() <= 70,
            "{} bytes: {shown}",
            reduced.wasm.len()
        );
    }

    #[test]
    fn text_lines_keep_strings_and_split_closing_parentheses() {
        let wasm = wat::parse_str(
            r#"(module (memory 1) (func (result i32) (i32.const 5)) (data (i32.const 0) "a (b ;; c"))"#,
        )
        .unwrap();
        let lines = lines_of(&wasm).unwrap();
        assert!(
            lines.iter().any(|l| l.contains("\"a (b ;; c\"")),
            "{lines:?}"
        );
        assert!(lines.iter().all(|l| paren_balance(l) >= -1), "{lines:?}");
        assert_eq!(assemble(&lines).as_deref(), Some(wasm.as_slice()));
        assert_eq!(
            number_tokens("    i32.const -42 (;x;) offset=16"),
            vec![(14..17, "-42".to_string())]
        );
        assert_eq!(smaller_numbers("-42"), ["0", "1", "-21"]);
        assert_eq!(smaller_numbers("0x10"), ["0", "1", "8"]);
    }
}
