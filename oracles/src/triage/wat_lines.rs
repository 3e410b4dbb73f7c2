//! A module as text with one unit per line, for passes that edit it line
//! by line (`reduce`, `trigger`): every instruction on a line of its own
//! (as `wasmprinter` prints it), a `)` that closes an enclosing field on
//! a line of its own, comments dropped, and functions typed by their
//! params and results alone (so that `wat` finds or makes their types).
//! Every function, global, local, type, memory and table is named
//! (`$#func3`, wasmprinter's names for unnamed items) and referred to by
//! name, so removing one renumbers nothing; the names are not kept in the
//! binary.

use anyhow::{Context, Result};

/// The module as text, one unit per line: a trailing `)` that closes an
/// enclosing field is moved to a line of its own, comments dropped.
pub fn lines_of(wasm: &[u8]) -> Result<Vec<String>> {
    let mut text = String::new();
    wasmprinter::Config::new()
        .name_unnamed(true)
        .print(wasm, &mut wasmprinter::PrintFmtWrite(&mut text))
        .context("printing the module to edit it")?;
    let mut lines = Vec::new();
    for raw in text.lines() {
        let line = strip_comments(raw);
        if line.trim().is_empty() {
            continue;
        }
        // A function's type given by its params and results alone: `wat`
        // finds or makes the type, so unused types can go.
        let line = if line.trim_start().starts_with("(func") {
            strip_type_use(&line)
        } else {
            line
        };
        let balance = paren_balance(&line);
        if balance < 0 {
            let keep = line.trim_end();
            let cut = keep.len() - (-balance) as usize;
            let (head, closers) = keep.split_at(cut);
            if !head.trim().is_empty() {
                lines.push(head.to_string());
            }
            let indent = line.len() - line.trim_start().len();
            for (i, _) in closers.char_indices() {
                lines.push(format!(
                    "{})",
                    " ".repeat(indent.saturating_sub(2 * (i + 1)))
                ));
            }
        } else {
            lines.push(line);
        }
    }
    Ok(lines)
}

/// The line without `;;` and `(; ;)` comments (outside strings).
fn strip_comments(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.char_indices().peekable();
    let mut in_string = false;
    while let Some((i, c)) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            ';' if line[i..].starts_with(";;") => break,
            '(' if line[i..].starts_with("(;") => {
                let close = line[i..].find(";)").map_or(line.len(), |at| i + at + 2);
                while chars.peek().is_some_and(|(j, _)| *j < close) {
                    chars.next();
                }
            }
            _ => out.push(c),
        }
    }
    out.trim_end().to_string()
}

/// A function header without its `(type N)`.
fn strip_type_use(header: &str) -> String {
    match header.find("(type ") {
        Some(at) => match header[at..].find(')') {
            Some(len) => format!("{}{}", &header[..at], &header[at + len + 1..]),
            None => header.to_string(),
        },
        None => header.to_string(),
    }
}

/// Opening minus closing parentheses outside strings.
pub fn paren_balance(line: &str) -> i64 {
    let mut balance = 0;
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' => balance += 1,
            ')' => balance -= 1,
            _ => {}
        }
    }
    balance
}

/// The number of leading spaces.
pub fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// One past the last line of the field opening at `at`.
pub fn field_end(lines: &[String], at: usize) -> usize {
    let mut balance = 0;
    for (i, line) in lines.iter().enumerate().skip(at) {
        balance += paren_balance(line);
        if balance <= 0 {
            return i + 1;
        }
    }
    lines.len()
}

/// Whether line `at` is inside a function's body.
pub fn in_function(lines: &[String], at: usize) -> bool {
    let field = (0..at)
        .rev()
        .find(|i| indent(&lines[*i]) == 2 && lines[*i].trim() != ")");
    field.is_some_and(|start| {
        lines[start].trim_start().starts_with("(func") && field_end(lines, start) > at
    })
}

/// Whether a body line is an instruction (not a `(local ...)`
/// declaration, a `(param ...)` or the like).
pub fn is_instruction(line: &str) -> bool {
    let trimmed = line.trim_start();
    !trimmed.starts_with('(') && !trimmed.is_empty()
}

/// The `end` closing the structured instruction (`block`, `loop`, `if`,
/// `try_table`) opening at `at`, by indentation.
pub fn matching_end(lines: &[String], at: usize) -> Option<usize> {
    let opener = lines[at].trim_start();
    let structured = ["block", "loop", "if", "try_table"]
        .iter()
        .any(|k| opener == *k || opener.starts_with(&format!("{k} ")));
    if !structured {
        return None;
    }
    let depth = indent(&lines[at]);
    lines
        .iter()
        .enumerate()
        .skip(at + 1)
        .find(|(_, l)| indent(l) <= depth && !l.trim().is_empty())
        .filter(|(_, l)| l.trim() == "end" && indent(l) == depth)
        .map(|(i, _)| i)
}

/// The module the lines spell, if it parses and validates.
pub fn assemble(lines: &[String]) -> Option<Vec<u8>> {
    let named = wat::parse_str(lines.join("\n")).ok()?;
    let wasm = without_names(&named)?;
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&wasm)
        .ok()?;
    Some(wasm)
}

/// The module without its `name` custom section (the text's names).
fn without_names(wasm: &[u8]) -> Option<Vec<u8>> {
    let mut out = wasm.get(..8)?.to_vec();
    let mut section_start: usize = 8;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.ok()?;
        let Some((_, contents)) = payload.as_section() else {
            continue;
        };
        let is_name =
            matches!(&payload, wasmparser::Payload::CustomSection(c) if c.name() == "name");
        let end = usize::try_from(contents.end).ok()?;
        if !is_name {
            out.extend_from_slice(wasm.get(section_start..end)?);
        }
        section_start = end;
    }
    Some(out)
}
