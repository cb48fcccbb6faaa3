//! Progress of long commands on stderr: a bar (rows/s, ETA) or a spinner when stderr is a
//! terminal, nothing when it is a pipe or a file, so captured output stays clean. Counted
//! words too ("1 batch", "2 batches").

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// Whether stderr is a terminal (progress bars and colours are drawn only then).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

fn drawn(bar: ProgressBar) -> ProgressBar {
    if !stderr_is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

/// A bar over `total` rows: position, rows/s and ETA; `{msg}` says what else is counted.
/// With `total` 0 (not known yet) the bar waits for its first `set_length`.
pub fn rows_bar(total: u64) -> ProgressBar {
    let bar = drawn(if total == 0 { ProgressBar::no_length() } else { ProgressBar::new(total) });
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} rows ({rate} rows/s, eta {eta}) {msg}",
    )
    .expect("a valid template")
    .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{:.0}", state.per_sec());
    });
    bar.set_style(style);
    // Elapsed time and the spinner move while one long step (a file's index build) runs.
    if !bar.is_hidden() {
        bar.enable_steady_tick(Duration::from_millis(250));
    }
    bar
}

/// A spinner with the time elapsed, for work whose size is unknown until it ends.
pub fn spinner(message: &str) -> ProgressBar {
    let bar = drawn(ProgressBar::new_spinner());
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}").expect("a valid template"),
    );
    bar.set_message(message.to_string());
    if !bar.is_hidden() {
        bar.enable_steady_tick(Duration::from_millis(120));
    }
    bar
}

/// Prints `msg` above the bar, or on stderr when no bar is drawn.
pub fn say(bar: &ProgressBar, msg: String) {
    if bar.is_hidden() {
        eprintln!("{msg}");
    } else {
        bar.println(msg);
    }
}

/// `n` with its noun, singular for one: `count(1, "batch", "batches")` is "1 batch".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_say_one_and_many() {
        assert_eq!(count(1, "batch", "batches"), "1 batch");
        assert_eq!(count(0, "batch", "batches"), "0 batches");
        assert_eq!(count(2, "query", "queries"), "2 queries");
    }
}
