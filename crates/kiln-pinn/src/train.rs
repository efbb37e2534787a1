//! Training a PINN through kiln-core's [`Trainer`](kiln_core::train::Trainer): Adam with a
//! schedule, then L-BFGS with a strong-Wolfe line search run to its tolerance.

use std::cell::Cell;
use std::path::Path;
use std::time::Instant;

use burn::config::Config;
use burn::tensor::Device;
use kiln_core::train::{
    Loss, OptimizerConfig, ProgressMode, Schedule, StepInfo, TrainOutcome, Trainer, TrainerConfig,
};

use crate::network::{JetNetwork, Pinn};
use crate::{Error, Problem};

/// L-BFGS iterations per trainer step (one progress line each).
const LBFGS_CHUNK: usize = 500;

/// Which optimiser phase a loss is evaluated for (adaptive weights must stay frozen under
/// L-BFGS, whose line search assumes one fixed function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// First-order steps.
    Adam,
    /// Quasi-Newton steps with a line search.
    Lbfgs,
}

/// Counts Adam calls and says when something refreshed every `every` of them is due (at the
/// first call, then every `every`); L-BFGS calls neither count nor refresh.
#[derive(Debug, Clone)]
pub(crate) struct Cadence {
    every: usize,
    calls: usize,
}

impl Cadence {
    /// A cadence of `every` (at least 1) Adam calls.
    pub(crate) fn new(every: usize) -> Self {
        Cadence {
            every: every.max(1),
            calls: 0,
        }
    }

    /// Records a call of `phase`; true when a refresh is due at it.
    pub(crate) fn tick(&mut self, phase: Phase) -> bool {
        if phase != Phase::Adam {
            return false;
        }
        let due = self.calls.is_multiple_of(self.every);
        self.calls += 1;
        due
    }
}

/// The two-phase schedule DeepXDE users run: Adam, then L-BFGS.
#[derive(Config, Debug)]
pub struct PinnTrainConfig {
    /// Adam steps (0 skips the phase).
    pub adam_steps: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Learning-rate schedule of the Adam phase.
    #[config(default = "Schedule::Constant")]
    pub schedule: Schedule,
    /// Most L-BFGS iterations (0 skips the phase); L-BFGS stops earlier at its tolerances.
    #[config(default = 0)]
    pub lbfgs_max_iter: usize,
    /// L-BFGS stops when the largest gradient entry falls below this.
    #[config(default = 1e-9)]
    pub lbfgs_tolerance_grad: f64,
    /// L-BFGS stops when the loss or the parameters change by less than this.
    #[config(default = 1e-12)]
    pub lbfgs_tolerance_change: f64,
    /// L-BFGS curvature pairs kept.
    #[config(default = 50)]
    pub lbfgs_history: usize,
    /// Seed of the runs.
    #[config(default = 0)]
    pub seed: u64,
    /// Steps between progress lines of the Adam phase.
    #[config(default = 1000)]
    pub log_every: usize,
    /// How progress is shown.
    #[config(default = "ProgressMode::Auto")]
    pub progress: ProgressMode,
    /// Directory for metrics and checkpoints (`<dir>/adam`, `<dir>/lbfgs`): the same call with
    /// the same directory resumes an interrupted run where its last checkpoint left it and
    /// returns a finished one at once. State kept by a custom loss closure (adaptive weights,
    /// resampled points) is not in the checkpoint. `None`: nothing is written.
    #[config(default = "None")]
    pub output_dir: Option<String>,
    /// Adam steps between checkpoints (with `output_dir`); L-BFGS checkpoints after every
    /// 500 iterations.
    #[config(default = 1000)]
    pub checkpoint_every: usize,
}

/// The trained model and what the run cost.
#[derive(Debug)]
pub struct PinnOutcome<N: JetNetwork> {
    /// The trained model (on the autodiff device).
    pub model: Pinn<N>,
    /// Loss after each Adam step, then after the L-BFGS phase.
    pub losses: Vec<f64>,
    /// Adam steps run in this call (after a resume, those after the checkpoint).
    pub adam_steps: usize,
    /// Wall-clock seconds of the Adam phase.
    pub adam_seconds: f64,
    /// L-BFGS iterations (accepted steps).
    pub lbfgs_iterations: usize,
    /// Loss-and-gradient evaluations L-BFGS made (line-search trials included).
    pub lbfgs_evaluations: usize,
    /// Wall-clock seconds of the L-BFGS phase.
    pub lbfgs_seconds: f64,
}

impl<N: JetNetwork> PinnOutcome<N> {
    /// Milliseconds per Adam step.
    pub fn ms_per_adam_step(&self) -> f64 {
        1e3 * self.adam_seconds / self.adam_steps.max(1) as f64
    }

    /// Loss at the end of training.
    pub fn final_loss(&self) -> f64 {
        self.losses.last().copied().unwrap_or(f64::NAN)
    }
}

impl PinnTrainConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when both phases are empty or the learning rate is not positive.
    pub fn validate(&self) -> crate::Result<()> {
        if self.adam_steps == 0 && self.lbfgs_max_iter == 0 {
            return Err(Error::config(
                "adam_steps/lbfgs_max_iter",
                "0/0",
                "run at least one phase",
            ));
        }
        if self.checkpoint_every == 0 {
            return Err(Error::config(
                "checkpoint_every",
                0,
                "checkpoint at least every step",
            ));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::config("lr", self.lr, "must be positive and finite"));
        }
        Ok(())
    }
}

/// Trains `model` on `problem` (whose tensors must live on `device`, an autodiff device).
///
/// # Errors
/// As [`PinnTrainConfig::validate`]; training failures (divergence) from kiln-core.
pub fn train<N>(
    problem: &Problem,
    model: Pinn<N>,
    device: &Device,
    config: &PinnTrainConfig,
) -> crate::Result<PinnOutcome<N>>
where
    N: JetNetwork,
{
    train_with(problem, model, device, config, |p, m, _| p.loss(m))
}

/// As [`train`], with a custom loss built from the problem (e.g. adaptive weights or extra
/// eigenvalue terms); the closure learns which [`Phase`] it serves.
///
/// # Errors
/// As [`train`], and whatever `loss` returns.
pub fn train_with<N, F>(
    problem: &Problem,
    model: Pinn<N>,
    device: &Device,
    config: &PinnTrainConfig,
    mut loss: F,
) -> crate::Result<PinnOutcome<N>>
where
    N: JetNetwork,
    F: FnMut(&Problem, &Pinn<N>, Phase) -> crate::Result<Loss>,
{
    config.validate()?;
    let mut model = model;
    let mut losses = Vec::new();
    let mut adam_seconds = 0.0;
    let mut adam_steps = 0;
    if config.adam_steps > 0 {
        let trainer = TrainerConfig::new(config.adam_steps, config.lr)
            .with_optimizer(OptimizerConfig::adam())
            .with_schedule(config.schedule)
            .with_seed(config.seed)
            .with_log_every(config.log_every)
            .with_progress(config.progress)
            .with_checkpoint_every(Some(config.checkpoint_every))
            .init()?
            .with_label("adam");
        let started = Instant::now();
        let out = fit(trainer, config, "adam", model, device, |m: &Pinn<N>| {
            loss(problem, m, Phase::Adam)
        })?;
        adam_seconds = started.elapsed().as_secs_f64();
        adam_steps = out.losses.len() - out.resumed_from;
        losses.extend(out.losses);
        model = out.model;
    }
    let evaluations = Cell::new(0usize);
    let mut lbfgs_seconds = 0.0;
    let mut lbfgs_iterations = 0;
    let mut lbfgs_evaluations = 0;
    if config.lbfgs_max_iter > 0 {
        // Trainer steps of up to `LBFGS_CHUNK` iterations each (burn keeps the curvature pairs
        // across steps, so this follows one long run up to one extra evaluation per step) give
        // progress lines; the trainer stops after the step that meets a tolerance.
        let chunk = config.lbfgs_max_iter.min(LBFGS_CHUNK);
        let steps = config.lbfgs_max_iter.div_ceil(chunk);
        let trainer = TrainerConfig::new(steps, 1.0)
            .with_optimizer(OptimizerConfig::Lbfgs {
                max_iter: chunk,
                history: config.lbfgs_history,
                strong_wolfe: true,
                tolerance_grad: config.lbfgs_tolerance_grad,
                tolerance_change: config.lbfgs_tolerance_change,
            })
            .with_seed(config.seed.wrapping_add(1))
            .with_log_every(1)
            .with_progress(config.progress)
            .with_checkpoint_every(Some(1))
            .init()?
            .with_label("lbfgs");
        let started = Instant::now();
        let out = fit(trainer, config, "lbfgs", model, device, |m: &Pinn<N>| {
            evaluations.set(evaluations.get() + 1);
            loss(problem, m, Phase::Lbfgs)
        })?;
        lbfgs_seconds = started.elapsed().as_secs_f64();
        lbfgs_iterations = out.lbfgs_iterations.unwrap_or(0);
        // The trainer evaluates once more after each step to report the accepted loss.
        lbfgs_evaluations = evaluations
            .get()
            .saturating_sub(out.losses.len() - out.resumed_from);
        losses.extend(out.losses);
        model = out.model;
    }
    Ok(PinnOutcome {
        model,
        losses,
        adam_steps,
        adam_seconds,
        lbfgs_iterations,
        lbfgs_evaluations,
        lbfgs_seconds,
    })
}

/// Runs one phase, resuming from `<output_dir>/<phase>` when the configuration names a directory.
fn fit<N, F>(
    trainer: Trainer,
    config: &PinnTrainConfig,
    phase: &str,
    model: Pinn<N>,
    device: &Device,
    mut loss: F,
) -> crate::Result<TrainOutcome<Pinn<N>>>
where
    N: JetNetwork,
    F: FnMut(&Pinn<N>) -> crate::Result<Loss>,
{
    let loss = |m: &Pinn<N>, _: &StepInfo| Ok(loss(m)?);
    Ok(match &config.output_dir {
        Some(dir) => trainer
            .with_output_dir(Path::new(dir).join(phase))
            .fit_or_resume(model, device, loss)?,
        None => trainer.fit(model, device, loss)?,
    })
}
