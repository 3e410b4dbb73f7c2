//! Command lines printed for a person to paste into a shell. Module names
//! come from untrusted modules (an export may be called `x$(touch PWNED)`),
//! so every word is quoted for POSIX shells from its raw bytes (the `shlex`
//! crate: single quotes where it can, never Rust's debug escapes), and a
//! line put into a shell comment stays a comment whatever it holds.

/// `word` as one shell word: unchanged when it needs no quoting, else
/// quoted so that the shell passes exactly these bytes. `None` for a word
/// no shell can pass (it holds a NUL byte, which Wasm names may).
pub fn quoted(word: &str) -> Option<String> {
    shlex::try_quote(word).ok().map(|word| word.into_owned())
}

/// Every line of `text` behind `# `, so that a command holding a newline
/// (a quoted name may) cannot end its comment and run the rest.
pub fn commented(text: &str) -> String {
    text.split('\n')
        .map(|line| format!("# {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_plain_and_hostile_ones_are_quoted() {
        assert_eq!(quoted("f").as_deref(), Some("f"));
        assert_eq!(quoted("shrunk.wasm").as_deref(), Some("shrunk.wasm"));
        assert_eq!(
            quoted("x$(touch PWNED)").as_deref(),
            Some("'x$(touch PWNED)'")
        );
        assert_eq!(quoted("").as_deref(), Some("''"));
        assert_eq!(quoted("a\0b"), None);
    }

    #[test]
    fn a_comment_keeps_every_line_commented() {
        assert_eq!(
            commented("wasmtime 'a\ntouch x'"),
            "# wasmtime 'a\n# touch x'"
        );
    }
}
