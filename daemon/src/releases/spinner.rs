//! What a long build or bisection is doing: a spinner with the elapsed time
//! on a terminal, and plain lines on stderr otherwise (a log file, CI), where
//! a spinner would show nothing for the minutes a build takes.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// A spinner, or lines when stderr is no terminal.
pub struct Spinner {
    bar: ProgressBar,
    lines: bool,
}

impl Spinner {
    /// Shows progress on stderr.
    pub fn new() -> Spinner {
        let bar = ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .expect("the template is valid"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Spinner {
            bar,
            lines: !std::io::stderr().is_terminal(),
        }
    }

    /// Shows nothing.
    #[cfg(test)]
    pub fn hidden() -> Spinner {
        Spinner {
            bar: ProgressBar::hidden(),
            lines: false,
        }
    }

    /// A new step (copying the source, building, running a module).
    pub fn step(&self, message: String) {
        if self.lines {
            eprintln!("{message}");
        }
        self.bar.set_message(message);
    }

    /// Detail within a step (the crate being compiled): on the spinner only.
    pub fn detail(&self, message: String) {
        self.bar.set_message(message);
    }

    /// A result that stays, on stdout (above the spinner).
    pub fn result(&self, line: String) {
        self.bar.suspend(|| println!("{line}"));
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Default for Spinner {
    fn default() -> Self {
        Spinner::new()
    }
}
