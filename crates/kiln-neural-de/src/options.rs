//! What a solve is asked to do (step control, what to save, batch mode, step budget) and what it
//! returns (saved states, statistics, why it stopped).

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::controller::PidController;
use crate::{Error, Result};

/// Fixed steps or adaptive steps under a controller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StepControl {
    /// Constant step `dt` (the last step is shortened to end exactly at `t1`).
    Fixed {
        /// Step size, positive; the sign follows the direction of integration.
        dt: f64,
    },
    /// Adaptive steps from the solver's error estimate.
    Adaptive(PidController),
}

/// Which states a solve returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SaveAt {
    /// Only the state at the final time.
    T1,
    /// The states at these times, in the direction of integration, inside the interval;
    /// values between steps come from the solver's interpolant, not from extra steps.
    Times(Vec<f64>),
    /// The state after every accepted step, starting with `t0`.
    Steps,
}

/// How a batch `[batch, ...]` shares step sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BatchMode {
    /// One step sequence for the batch; the error norm is taken over all samples (torchdiffeq).
    Shared,
    /// Every sample accepts or rejects on its own error and has its own step size. The vector
    /// field must act on each sample separately.
    PerSample,
}

/// Options of [`crate::solve`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SolveOptions {
    /// Step-size control.
    pub step: StepControl,
    /// What to save.
    pub save_at: SaveAt,
    /// Shared or per-sample steps.
    pub batch: BatchMode,
    /// Most steps (accepted and rejected) before [`Error::MaxStepsReached`].
    pub max_steps: usize,
}

impl SolveOptions {
    /// Fixed steps of size `dt`, saving the final state.
    pub fn fixed(dt: f64) -> Self {
        Self {
            step: StepControl::Fixed { dt },
            save_at: SaveAt::T1,
            batch: BatchMode::Shared,
            max_steps: 1_000_000,
        }
    }

    /// Adaptive steps with a [`PidController`] at tolerances `rtol`, `atol`.
    pub fn adaptive(rtol: f64, atol: f64) -> Self {
        Self::with_controller(PidController::new(rtol, atol))
    }

    /// Adaptive steps with the given controller.
    pub fn with_controller(controller: PidController) -> Self {
        Self {
            step: StepControl::Adaptive(controller),
            save_at: SaveAt::T1,
            batch: BatchMode::Shared,
            max_steps: 100_000,
        }
    }

    /// Sets what to save.
    pub fn save_at(mut self, save_at: SaveAt) -> Self {
        self.save_at = save_at;
        self
    }

    /// Saves at the given times.
    pub fn save_times(self, times: impl Into<Vec<f64>>) -> Self {
        self.save_at(SaveAt::Times(times.into()))
    }

    /// Gives every sample its own step sizes.
    pub fn per_sample(mut self) -> Self {
        self.batch = BatchMode::PerSample;
        self
    }

    /// Sets the step budget.
    pub fn max_steps(mut self, max_steps: usize) -> Self {
        self.max_steps = max_steps;
        self
    }

    /// The controller, if steps are adaptive.
    pub fn controller(&self) -> Option<&PidController> {
        match &self.step {
            StepControl::Adaptive(c) => Some(c),
            StepControl::Fixed { .. } => None,
        }
    }

    /// Checks the options against the interval `t_span`, naming the first bad value.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a non-finite interval, a non-positive step, save times
    /// outside the interval or out of order, or a zero step budget.
    pub fn validate(&self, t_span: (f64, f64)) -> Result<()> {
        let (t0, t1) = t_span;
        if !(t0.is_finite() && t1.is_finite()) {
            return Err(Error::option(
                "t_span",
                format!("({t0}, {t1})"),
                "both ends must be finite",
            ));
        }
        match &self.step {
            StepControl::Fixed { dt } => {
                if !(dt.is_finite() && *dt > 0.0) {
                    return Err(Error::option(
                        "dt",
                        dt,
                        "give a positive step; the direction comes from t_span",
                    ));
                }
            }
            StepControl::Adaptive(c) => c.validate()?,
        }
        if self.max_steps == 0 {
            return Err(Error::option("max_steps", 0, "allow at least one step"));
        }
        if let SaveAt::Times(ts) = &self.save_at {
            if ts.is_empty() {
                return Err(Error::option(
                    "save_at",
                    "Times([])",
                    "give at least one time, or use SaveAt::T1",
                ));
            }
            let dir = if t1 >= t0 { 1.0 } else { -1.0 };
            let (lo, hi) = if t1 >= t0 { (t0, t1) } else { (t1, t0) };
            for (i, &t) in ts.iter().enumerate() {
                if !(t >= lo && t <= hi) {
                    return Err(Error::option(
                        "save_at",
                        t,
                        &format!("save times must lie in [{lo}, {hi}]"),
                    ));
                }
                if i > 0 && (t - ts[i - 1]) * dir < 0.0 {
                    return Err(Error::option(
                        "save_at",
                        format!("{} then {t}", ts[i - 1]),
                        "save times must be ordered in the direction of integration",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Counters of a solve.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Evaluations of the vector field (each one covers the whole batch).
    pub nfe: usize,
    /// Steps attempted (with per-sample steps: vectorised step attempts).
    pub steps: usize,
    /// Accepted steps.
    pub accepted: usize,
    /// Rejected steps.
    pub rejected: usize,
    /// With per-sample steps, the accepted steps of every sample.
    pub accepted_per_sample: Option<Vec<usize>>,
}

/// Why a solve stopped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StopReason {
    /// It reached `t1`.
    Finished,
    /// The event condition crossed zero at `t`.
    Event {
        /// Located time of the root.
        t: f64,
    },
}

/// The states a solve saved.
#[derive(Clone, Debug)]
pub struct Solution<const D: usize> {
    /// Times of the saved states.
    pub ts: Vec<f64>,
    /// Saved states, each `[batch, ...]` like `y0`.
    pub ys: Vec<Tensor<D>>,
    /// Counters.
    pub stats: Stats,
    /// Why the solve stopped.
    pub stop: StopReason,
}

impl<const D: usize> Solution<D> {
    /// The last saved state.
    pub fn last(&self) -> &Tensor<D> {
        self.ys
            .last()
            .expect("a solution always holds at least one state")
    }

    /// The saved states stacked along a new leading time axis: `[times, batch, ...]`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] unless `D2 == D + 1`.
    pub fn stacked<const D2: usize>(&self) -> Result<Tensor<D2>> {
        if D2 != D + 1 {
            return Err(Error::ShapeMismatch {
                context: "Solution::stacked".into(),
                expected: format!("a rank-{} output for rank-{D} states", D + 1),
                found: vec![D2],
            });
        }
        Ok(Tensor::stack(self.ys.clone(), 0))
    }
}
