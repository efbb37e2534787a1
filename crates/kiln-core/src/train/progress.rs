//! Progress reporting: an indicatif bar on a terminal, plain log lines otherwise.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

/// How a run reports progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProgressMode {
    /// A bar when stdout is a terminal, log lines otherwise.
    #[default]
    Auto,
    /// Always a bar.
    Bar,
    /// Always log lines.
    Lines,
    /// Nothing.
    Off,
}

pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    lines: bool,
    every: usize,
    total: usize,
    label: String,
    started: Instant,
    first_step: usize,
}

impl Progress {
    pub(crate) fn new(
        mode: ProgressMode,
        label: &str,
        start: usize,
        total: usize,
        every: usize,
    ) -> Self {
        let terminal = std::io::stdout().is_terminal();
        let (bar, lines) = match mode {
            ProgressMode::Off => (false, false),
            ProgressMode::Bar => (true, false),
            ProgressMode::Lines => (false, true),
            ProgressMode::Auto => (terminal, !terminal),
        };
        let bar = bar.then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {per_sec} {msg}",
                )
                .expect("the progress template is valid"),
            );
            bar.set_prefix(label.to_string());
            bar.set_position(start as u64);
            bar
        });
        Progress {
            bar,
            lines,
            every: every.max(1),
            total,
            label: label.to_string(),
            started: Instant::now(),
            first_step: start,
        }
    }

    /// Reports that `step` (1-based count of finished steps) ended with `loss`.
    pub(crate) fn update(&self, step: usize, loss: f64, lr: f64) {
        if let Some(bar) = &self.bar {
            bar.set_position(step as u64);
            if step.is_multiple_of(self.every) || step == self.total {
                bar.set_message(format!("loss {loss:.3e} lr {lr:.1e}"));
            }
        } else if self.lines && (step.is_multiple_of(self.every) || step == self.total) {
            let elapsed = self.started.elapsed().as_secs_f64();
            let rate = (step - self.first_step) as f64 / elapsed.max(1e-9);
            // Slow steps (L-BFGS runs hundreds of iterations in one) read better as s/step.
            let speed = if rate >= 1.0 {
                format!("{rate:.1} steps/s")
            } else {
                format!("{:.1} s/step", 1.0 / rate.max(1e-12))
            };
            println!(
                "{} step {step}/{} loss {loss:.4e} lr {lr:.2e} ({speed})",
                self.label, self.total
            );
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
