//! The training loop shared by every kiln crate.
//!
//! The caller supplies the loss as a closure of the model, so PINNs, neural operators, neural
//! ODEs and diffusion models all train through the same [`Trainer`]: optimiser (Adam, AdamW,
//! L-BFGS), learning-rate [`Schedule`], global gradient-norm clipping, a step budget, progress,
//! per-step metrics in `metrics.jsonl`, checkpoints that resume the same run, and a divergence
//! guard that stops on a NaN or infinite loss.

mod checkpoint;
mod clip;
mod log;
mod optimizer;
mod progress;
mod schedule;

pub use clip::{clip_grad_norm, global_grad_norm};
pub use log::{StepRecord, read_metrics};
pub use optimizer::OptimizerConfig;
pub use progress::ProgressMode;
pub use schedule::Schedule;

use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use burn::config::Config;
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};

use crate::{Error, LastFinite};
use log::MetricsLog;
use optimizer::Optimizer;

/// Configuration of a training run.
#[derive(Config, Debug, PartialEq)]
pub struct TrainerConfig {
    /// Total number of optimiser steps. With L-BFGS each step runs up to `max_iter` iterations
    /// and the run stops early, after the step that met one of its tolerances (see
    /// [`TrainOutcome::converged`]).
    pub steps: usize,
    /// Base learning rate (L-BFGS: initial step length, usually 1).
    pub lr: f64,
    /// The optimiser.
    #[config(default = "OptimizerConfig::adam()")]
    pub optimizer: OptimizerConfig,
    /// The learning-rate schedule.
    #[config(default = "Schedule::Constant")]
    pub schedule: Schedule,
    /// Clip the global gradient norm to this value (first-order optimisers only).
    #[config(default = "None")]
    pub clip_grad_norm: Option<f64>,
    /// Seed of the run: each step reseeds the device with a value derived from it.
    #[config(default = 0)]
    pub seed: u64,
    /// Steps between progress lines.
    #[config(default = 100)]
    pub log_every: usize,
    /// Steps between checkpoints (needs an output directory); `None` saves only at the end.
    #[config(default = "None")]
    pub checkpoint_every: Option<usize>,
    /// How progress is shown.
    #[config(default = "ProgressMode::Auto")]
    pub progress: ProgressMode,
}

impl TrainerConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> crate::Result<()> {
        if self.steps == 0 {
            return Err(Error::config(
                "steps",
                self.steps,
                "train for at least one step",
            ));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::config(
                "lr",
                self.lr,
                "the learning rate must be a positive finite number",
            ));
        }
        if let Some(c) = self.clip_grad_norm
            && (c.is_nan() || c <= 0.0)
        {
            return Err(Error::config(
                "clip_grad_norm",
                c,
                "must be > 0 (or None to disable clipping)",
            ));
        }
        if self.clip_grad_norm.is_some() && matches!(self.optimizer, OptimizerConfig::Lbfgs { .. })
        {
            return Err(Error::config(
                "clip_grad_norm",
                format!("{:?}", self.clip_grad_norm),
                "L-BFGS controls its step with a line search; set clip_grad_norm to None",
            ));
        }
        if self.log_every == 0 {
            return Err(Error::config("log_every", 0, "must be at least 1 step"));
        }
        if self.checkpoint_every == Some(0) {
            return Err(Error::config(
                "checkpoint_every",
                0,
                "must be at least 1 step (or None)",
            ));
        }
        self.optimizer.validate()?;
        self.schedule.validate()
    }

    /// Builds a trainer.
    ///
    /// # Errors
    /// As [`TrainerConfig::validate`].
    pub fn init(&self) -> crate::Result<Trainer> {
        self.validate()?;
        Ok(Trainer {
            config: self.clone(),
            out_dir: None,
            label: "train".into(),
            stop_after: None,
        })
    }

    /// Whether a checkpoint written under `other` belongs to the same run as `self`: everything
    /// that shapes the loss curve must agree; logging and checkpoint cadence may differ.
    fn same_run(&self, other: &TrainerConfig) -> bool {
        self.difference(other).is_empty()
    }

    fn difference(&self, other: &TrainerConfig) -> String {
        let mut diffs = Vec::new();
        macro_rules! cmp {
            ($field:ident) => {
                if self.$field != other.$field {
                    diffs.push(format!(
                        "{}: {:?} in the checkpoint, {:?} now",
                        stringify!($field),
                        self.$field,
                        other.$field
                    ));
                }
            };
        }
        cmp!(steps);
        cmp!(lr);
        cmp!(optimizer);
        cmp!(schedule);
        cmp!(clip_grad_norm);
        cmp!(seed);
        diffs.join("; ")
    }
}

/// What the loss closure learns about the step it is computing.
#[derive(Debug, Clone, Copy)]
pub struct StepInfo {
    /// 0-based index of the step.
    pub step: usize,
    /// Total steps of the run.
    pub total: usize,
    /// Learning rate of this step.
    pub lr: f64,
    /// A seed unique to this step of this run; the device was reseeded with it before the
    /// closure ran, so random tensors drawn inside repeat when the run is resumed.
    pub seed: u64,
}

/// A loss value, with optional named terms that are logged to `metrics.jsonl`.
#[derive(Debug, Clone)]
pub struct Loss {
    /// The scalar to minimise (a one-element tensor on an autodiff device).
    pub total: Tensor<1>,
    /// Named parts of the loss (residual, boundary, data...), logged but not differentiated.
    pub terms: Vec<(String, Tensor<1>)>,
}

impl Loss {
    /// A loss with no named terms.
    pub fn new(total: Tensor<1>) -> Self {
        Loss {
            total,
            terms: Vec::new(),
        }
    }

    /// Adds a named term for the metrics log.
    pub fn with_term(mut self, name: impl Into<String>, value: Tensor<1>) -> Self {
        self.terms.push((name.into(), value));
        self
    }
}

impl From<Tensor<1>> for Loss {
    fn from(total: Tensor<1>) -> Self {
        Loss::new(total)
    }
}

/// The result of a run.
#[derive(Debug)]
pub struct TrainOutcome<M> {
    /// The trained model (still on the autodiff device; call `.valid()` for inference).
    pub model: M,
    /// Loss after each finished step, from step 1 (including steps done before a resume).
    pub losses: Vec<f64>,
    /// Steps finished in total.
    pub steps: usize,
    /// Step at which this process started (non-zero after a resume).
    pub resumed_from: usize,
    /// Wall-clock seconds spent in this process.
    pub elapsed_s: f64,
    /// L-BFGS iterations run in total (kept in the optimiser's state, so a resumed run counts
    /// the iterations before the resume too); `None` for first-order optimisers.
    pub lbfgs_iterations: Option<usize>,
    /// Whether L-BFGS met one of its tolerances (gradient, loss or step change) before its
    /// iteration budget, which ends the run; always `false` for first-order optimisers.
    pub converged: bool,
}

impl<M> TrainOutcome<M> {
    /// Loss after the last step.
    pub fn final_loss(&self) -> f64 {
        self.losses.last().copied().unwrap_or(f64::NAN)
    }
}

/// Runs optimisation loops; build one with [`TrainerConfig::init`].
#[derive(Debug, Clone)]
pub struct Trainer {
    config: TrainerConfig,
    out_dir: Option<PathBuf>,
    label: String,
    stop_after: Option<usize>,
}

/// Mixes the run seed and the step into one well-spread 64-bit seed (SplitMix64).
fn step_seed(seed: u64, step: usize) -> u64 {
    let mut z = seed ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Sums every parameter times zero: a loss whose gradient is zero for all parameters.
struct ZeroLoss {
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for ZeroLoss {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let zero = param.val().sum().mul_scalar(0.0);
        self.total = Some(match self.total.take() {
            Some(t) => t + zero,
            None => zero,
        });
    }
}

fn zero_grads<M: Module>(model: &M) -> GradientsParams {
    let mut visitor = ZeroLoss { total: None };
    model.visit(&mut visitor);
    match visitor.total {
        Some(t) => GradientsParams::from_grads(t.backward(), model),
        None => GradientsParams::new(),
    }
}

impl Trainer {
    /// Writes `metrics.jsonl` and checkpoints under `dir` (created if missing).
    pub fn with_output_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Names the run in progress output.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Stops after `steps` finished steps, checkpointing there, as if the process had been
    /// interrupted; [`Trainer::fit_or_resume`] then continues the same run.
    pub fn with_stop_after(mut self, steps: usize) -> Self {
        self.stop_after = Some(steps);
        self
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainerConfig {
        &self.config
    }

    /// Trains `model` from scratch, minimising `loss_fn`.
    ///
    /// `device` is the autodiff device the model lives on; it is reseeded at every step with
    /// [`StepInfo::seed`].
    ///
    /// # Errors
    /// - [`Error::Diverged`] when the loss becomes NaN or infinite, naming the step and the last
    ///   finite loss;
    /// - whatever `loss_fn` returns;
    /// - I/O and record errors from the metrics log and checkpoints.
    pub fn fit<M, F>(&self, model: M, device: &Device, loss_fn: F) -> crate::Result<TrainOutcome<M>>
    where
        M: Module + Clone,
        F: FnMut(&M, &StepInfo) -> crate::Result<Loss>,
    {
        self.run(model, device, loss_fn, false)
    }

    /// Continues the run from the checkpoint in the output directory, or starts it when there is
    /// none. The resumed run follows the same loss curve as an uninterrupted one.
    ///
    /// # Errors
    /// As [`Trainer::fit`], plus [`Error::Checkpoint`] when the checkpoint belongs to a run with
    /// another configuration.
    pub fn fit_or_resume<M, F>(
        &self,
        model: M,
        device: &Device,
        loss_fn: F,
    ) -> crate::Result<TrainOutcome<M>>
    where
        M: Module + Clone,
        F: FnMut(&M, &StepInfo) -> crate::Result<Loss>,
    {
        self.run(model, device, loss_fn, true)
    }

    fn run<M, F>(
        &self,
        model: M,
        device: &Device,
        mut loss_fn: F,
        resume: bool,
    ) -> crate::Result<TrainOutcome<M>>
    where
        M: Module + Clone,
        F: FnMut(&M, &StepInfo) -> crate::Result<Loss>,
    {
        crate::alloc::retain_freed_memory();
        let config = &self.config;
        let mut optim = config.optimizer.init();
        let mut model = model;
        let mut losses = Vec::with_capacity(config.steps);
        let mut resumed_converged = false;
        if let Some(out) = &self.out_dir {
            fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
            if resume && checkpoint::exists(out) {
                let (m, o, state) = checkpoint::load(out, device, model, optim, config)?;
                model = m;
                optim = o;
                losses = state.losses;
                resumed_converged = state.converged;
            }
        }
        let start = losses.len();
        let mut metrics = match &self.out_dir {
            Some(out) => Some(MetricsLog::open(out, start)?),
            None => None,
        };
        // A run whose L-BFGS had converged resumes as finished.
        let last = if resumed_converged {
            start
        } else {
            self.stop_after
                .map_or(config.steps, |s| s.min(config.steps))
        };
        let progress = progress::Progress::new(
            config.progress,
            &self.label,
            start,
            config.steps,
            config.log_every,
        );
        let started = Instant::now();
        let mut converged = resumed_converged;
        // L-BFGS's running iteration count (read back after each step; restored on resume).
        let mut lbfgs_iterations = optim.lbfgs_iterations();

        for step in start..last {
            let info = StepInfo {
                step,
                total: config.steps,
                lr: config.schedule.lr(config.lr, step, config.steps),
                seed: step_seed(config.seed, step),
            };
            device.seed(info.seed);
            let (next, loss, grad_norm, terms) = match &mut optim {
                Optimizer::First(first) => {
                    let out = loss_fn(&model, &info)?;
                    let loss = out.total.clone().into_scalar::<f64>();
                    check_finite(step, loss, losses.last().copied())?;
                    let terms = read_terms(out.terms);
                    let mut grads = GradientsParams::from_grads(out.total.backward(), &model);
                    let norm = match config.clip_grad_norm {
                        Some(max) => clip_grad_norm(&model, &mut grads, max),
                        None => global_grad_norm(&model, &grads),
                    };
                    if !norm.is_finite() {
                        return Err(Error::NonFiniteGradient {
                            step: step + 1,
                            norm,
                            loss,
                        });
                    }
                    (first.step(info.lr, model, grads), loss, Some(norm), terms)
                }
                Optimizer::Lbfgs(lbfgs) => {
                    let mut failure = None;
                    let mut evaluations = 0;
                    let (next, _) = lbfgs.step(info.lr, model, |m: M| match loss_fn(&m, &info) {
                        Ok(out) => {
                            evaluations += 1;
                            let value = out.total.clone().into_scalar::<f64>();
                            (value, GradientsParams::from_grads(out.total.backward(), &m))
                        }
                        Err(e) => {
                            failure.get_or_insert(e);
                            (f64::NAN, zero_grads(&m))
                        }
                    });
                    if let Some(e) = failure {
                        return Err(e);
                    }
                    let before = lbfgs_iterations.unwrap_or(0);
                    let after = optimizer::lbfgs_iterations(lbfgs).unwrap_or(before);
                    lbfgs_iterations = Some(after);
                    if let OptimizerConfig::Lbfgs { max_iter, .. } = config.optimizer {
                        // burn also ends a step after max_iter * 5/4 evaluations (line-search
                        // trials included): that is the budget running out, not convergence.
                        converged = after - before < max_iter && evaluations < max_iter * 5 / 4;
                    }
                    // Report the loss at the parameters L-BFGS accepted.
                    let out = loss_fn(&next, &info)?;
                    let loss = out.total.into_scalar::<f64>();
                    check_finite(step, loss, losses.last().copied())?;
                    (next, loss, None, read_terms(out.terms))
                }
            };
            model = next;
            losses.push(loss);
            let done = step + 1;
            if let Some(log) = &mut metrics {
                log.write(&StepRecord {
                    step: done,
                    loss,
                    lr: info.lr,
                    grad_norm,
                    terms,
                    elapsed_s: started.elapsed().as_secs_f64(),
                })?;
            }
            progress.update(done, loss, info.lr);
            if converged {
                break;
            }
            if let (Some(out), Some(every)) = (&self.out_dir, config.checkpoint_every)
                && done.is_multiple_of(every)
                && done < last
            {
                metrics.as_mut().map_or(Ok(()), MetricsLog::flush)?;
                checkpoint::save(
                    out,
                    &model,
                    &optim,
                    &checkpoint::new_state(done, config, &losses, false),
                )?;
            }
        }
        progress.finish();
        if let Some(log) = &mut metrics {
            log.flush()?;
        }
        if let Some(out) = &self.out_dir
            && losses.len() > start
        {
            checkpoint::save(
                out,
                &model,
                &optim,
                &checkpoint::new_state(losses.len(), config, &losses, converged),
            )?;
        }
        Ok(TrainOutcome {
            model,
            steps: losses.len(),
            losses,
            resumed_from: start,
            elapsed_s: started.elapsed().as_secs_f64(),
            lbfgs_iterations,
            converged,
        })
    }
}

fn check_finite(step: usize, loss: f64, last_finite: Option<f64>) -> crate::Result<()> {
    if loss.is_finite() {
        Ok(())
    } else {
        Err(Error::Diverged {
            step: step + 1,
            loss,
            last_finite: LastFinite(last_finite),
        })
    }
}

fn read_terms(terms: Vec<(String, Tensor<1>)>) -> Vec<(String, f64)> {
    terms
        .into_iter()
        .map(|(name, t)| (name, t.into_scalar::<f64>()))
        .collect()
}
