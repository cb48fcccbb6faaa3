//! The long steps of `cargo xtask bench` under one progress bar (indicatif): each step is a
//! child process whose output goes to its own log file, its latest line shown beside the bar;
//! a finished step prints its time, a failed one the tail of its log.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use crate::root;

/// Runs and times the steps.
pub struct Steps {
    bar: ProgressBar,
    logs: PathBuf,
    /// (label, seconds) of every finished step, in order.
    pub timings: Vec<(String, f64)>,
    started: Instant,
}

impl Steps {
    /// A bar for `total` steps (more can be added); logs go under `logs`, emptied first.
    pub fn new(total: u64, logs: PathBuf) -> Result<Self> {
        // Logs of an earlier run would be mistaken for this one's.
        if logs.exists() {
            std::fs::remove_dir_all(&logs)?;
        }
        std::fs::create_dir_all(&logs)?;
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "[{elapsed_precise}] {bar:24} {pos}/{len} {prefix:.bold} {wide_msg}",
            )?
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Ok(Self { bar, logs, timings: Vec::new(), started: Instant::now() })
    }

    /// Announces `n` more steps.
    pub fn add(&self, n: u64) {
        self.bar.inc_length(n);
    }

    /// Prints a line above the bar (or to stderr when there is no terminal to draw on).
    pub fn say(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// Runs `program args` from the workspace root as the step `label`.
    pub fn run(&mut self, label: &str, program: &str, args: &[&str]) -> Result<()> {
        self.bar.set_prefix(label.to_string());
        self.bar.set_message(String::new());
        let slug: String = label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        let log_path = self.logs.join(format!("{:02}-{slug}.log", self.timings.len() + 1));
        let mut log = File::create(&log_path)?;
        writeln!(log, "$ {program} {}", args.join(" "))?;
        let clock = Instant::now();
        let mut child = Command::new(program)
            .args(args)
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {program}"))?;
        let (tx, rx) = mpsc::channel::<String>();
        let pipes: Vec<Box<dyn std::io::Read + Send>> = vec![
            Box::new(child.stdout.take().context("stdout")?),
            Box::new(child.stderr.take().context("stderr")?),
        ];
        let readers: Vec<_> = pipes
            .into_iter()
            .map(|pipe| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(pipe).lines().map_while(std::io::Result::ok) {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        for line in rx {
            writeln!(log, "{line}")?;
            let shown = line.trim();
            if !shown.is_empty() {
                self.bar.set_message(shown.chars().take(120).collect::<String>());
            }
        }
        for r in readers {
            r.join().ok();
        }
        let status = child.wait()?;
        let seconds = clock.elapsed().as_secs_f64();
        self.bar.inc(1);
        if !status.success() {
            self.bar.abandon();
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
            bail!("step `{label}` failed with {status} after {seconds:.0}s (log: {})", log_path.display());
        }
        self.say(&format!("  {label}: {seconds:.1}s"));
        self.timings.push((label.to_string(), seconds));
        Ok(())
    }

    /// Clears the bar; returns the whole run's seconds.
    pub fn finish(&self) -> f64 {
        self.bar.finish_and_clear();
        self.started.elapsed().as_secs_f64()
    }
}
