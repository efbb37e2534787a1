//! What a solve costs, as differentiable tensors: the sum of the embedded local error estimates
//! and of the stiffness estimates over accepted steps, for regularising learned dynamics towards
//! cheap solves (ERNODE, "Opening the Blackbox", Pal et al. 2021), over every step or only over
//! the steps that contain random time points (the local variant, Pal et al. 2023).
//!
//! For an accepted step `j` from `t_j` with size `h_j`:
//!
//! - the error term is `|h_j| E_j` with `E_j = RMS(e_j / s_j)`, the embedded estimate `e_j`
//!   scaled as the controller scales it (`s_j = atol + rtol max(|y₀|, |y₁|)`, held constant;
//!   `s_j = 1` with fixed steps), so `E_j` is the error norm the controller accepted;
//! - the stiffness term is Shampine's estimate `ρ_j = ‖f(y₁) - f(g_s)‖ / ‖y₁ - g_s‖` of the
//!   dominant eigenvalue's modulus from the last two stage inputs (`g_s` the last internal stage,
//!   `y₁` the FSAL stage); for `y' = λ y` it is `|λ|` exactly.
//!
//! Both sums are built from the solve's own stages, so backprop through [`solve_with_cost`]
//! differentiates them (step sizes held fixed, as for the solution itself).

use burn::tensor::{Device, Tensor};
use kiln_core::rng::Rng;
use serde::{Deserialize, Serialize};

use crate::controller::PidController;
use crate::options::{BatchMode, Solution, SolveOptions, StepControl};
use crate::solver::Solver;
use crate::step::{Clock, RkStep, StepError, lincomb};
use crate::term::VectorField;
use crate::{Error, Result};

/// Which accepted steps the cost sums over.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CostSampling {
    /// Every accepted step (global ERNODE).
    AllSteps,
    /// Only the steps whose interval contains one of `count` times drawn uniformly from the
    /// interval with `seed` (local regularisation).
    RandomTimes {
        /// Number of random times.
        count: usize,
        /// Seed of the draw; vary it between training iterations.
        seed: u64,
    },
}

/// What [`solve_with_cost`] accumulates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostOptions {
    /// Accumulate `Σ |h_j| E_j`.
    pub error: bool,
    /// Accumulate `Σ ρ_j`.
    pub stiffness: bool,
    /// Over which steps.
    pub sampling: CostSampling,
}

impl CostOptions {
    /// Both sums over every accepted step.
    pub fn all_steps() -> Self {
        Self {
            error: true,
            stiffness: true,
            sampling: CostSampling::AllSteps,
        }
    }

    /// Both sums over the steps that contain `count` random times drawn with `seed`.
    pub fn random_times(count: usize, seed: u64) -> Self {
        Self {
            error: true,
            stiffness: true,
            sampling: CostSampling::RandomTimes { count, seed },
        }
    }
}

/// The accumulated cost of a solve.
#[derive(Clone, Debug)]
pub struct SolveCost {
    /// `Σ |h_j| E_j` over the selected accepted steps, shape `[1]` (zero when not asked for).
    pub error: Tensor<1>,
    /// `Σ ρ_j` over the selected accepted steps, shape `[1]` (zero when not asked for).
    pub stiffness: Tensor<1>,
    /// How many accepted steps contributed.
    pub steps: usize,
}

/// [`crate::solve`] that also returns the differentiable cost of its accepted steps (see the
/// [module docs](crate::cost)).
///
/// # Errors
/// As [`crate::solve`]; [`Error::Unsupported`] for per-sample steps or a method without an
/// embedded estimate when the error term is asked for; [`Error::InvalidOption`] for zero random
/// times.
pub fn solve_with_cost<const D: usize, F: VectorField<D>, S: Solver>(
    field: &F,
    solver: &S,
    t_span: (f64, f64),
    y0: Tensor<D>,
    options: &SolveOptions,
    cost: &CostOptions,
) -> Result<(Solution<D>, SolveCost)> {
    if options.batch == BatchMode::PerSample && matches!(options.step, StepControl::Adaptive(_)) {
        return Err(Error::Unsupported {
            solver: solver.name(),
            what: "solve costs with per-sample steps".into(),
            advice: "use BatchMode::Shared (the cost is one sum over the batch's steps)".into(),
        });
    }
    if cost.error && solver.error_order().is_none() {
        return Err(Error::Unsupported {
            solver: solver.name(),
            what: "the local error cost".into(),
            advice: "use a method with an embedded estimate (Dopri5, Tsit5, Bosh3)".into(),
        });
    }
    let stiffness_weights = if cost.stiffness {
        Some(
            solver
                .stiffness_weights()
                .ok_or_else(|| Error::Unsupported {
                    solver: solver.name(),
                    what: "the stiffness cost".into(),
                    advice: "use an explicit Runge-Kutta method (ExplicitRk)".into(),
                })?,
        )
    } else {
        None
    };
    let times = match &cost.sampling {
        CostSampling::AllSteps => None,
        CostSampling::RandomTimes { count: 0, .. } => {
            return Err(Error::option(
                "sampling.count",
                0,
                "draw at least one random time",
            ));
        }
        CostSampling::RandomTimes { count, seed } => {
            let mut rng = Rng::new(*seed);
            let (lo, hi) = (t_span.0.min(t_span.1), t_span.0.max(t_span.1));
            Some(
                (0..*count)
                    .map(|_| lo + (hi - lo) * rng.uniform())
                    .collect(),
            )
        }
    };
    let device = y0.device();
    let mut acc = Accumulator {
        error: cost.error,
        stiffness_weights,
        times,
        device: device.clone(),
        error_sum: None,
        stiffness_sum: None,
        steps: 0,
    };
    let solution = crate::solve::drive_with_cost(field, solver, t_span, y0, options, &mut acc)?;
    let zero = || Tensor::<1>::zeros([1], &device);
    Ok((
        solution,
        SolveCost {
            error: acc.error_sum.unwrap_or_else(zero),
            stiffness: acc.stiffness_sum.unwrap_or_else(zero),
            steps: acc.steps,
        },
    ))
}

/// Guards the square roots at zero (their derivative is infinite there).
const TINY: f64 = 1e-30;

/// Running sums of a solve's cost.
pub(crate) struct Accumulator {
    error: bool,
    stiffness_weights: Option<Vec<f64>>,
    times: Option<Vec<f64>>,
    device: Device,
    error_sum: Option<Tensor<1>>,
    stiffness_sum: Option<Tensor<1>>,
    steps: usize,
}

fn add(sum: &mut Option<Tensor<1>>, term: Tensor<1>) {
    *sum = Some(match sum.take() {
        Some(s) => s.add(term),
        None => term,
    });
}

impl Accumulator {
    /// Adds an accepted shared step from `t` to `t_new`.
    pub(crate) fn record<const D: usize>(
        &mut self,
        step: &RkStep<D>,
        clock: &Clock<D>,
        (t, t_new): (f64, f64),
        stages: usize,
        controller: Option<&PidController>,
    ) {
        if let Some(times) = &self.times {
            let (lo, hi) = (t.min(t_new), t.max(t_new));
            if !times.iter().any(|&s| s >= lo && s <= hi) {
                return;
            }
        }
        let Clock::Shared { h, .. } = *clock else {
            unreachable!("solve costs run on shared steps");
        };
        self.steps += 1;
        if self.error {
            let e = match &step.error {
                StepError::Embedded(e) => Some(e.clone()),
                StepError::Dop853 { e5, .. } => Some(e5.clone()),
                StepError::None | StepError::Failed => None,
            };
            if let Some(e) = e {
                let scaled = match controller {
                    Some(c) => e.div(
                        step.y0
                            .clone()
                            .detach()
                            .abs()
                            .max_pair(step.y1.clone().detach().abs())
                            .mul_scalar(c.rtol)
                            .add_scalar(c.atol),
                    ),
                    None => e,
                };
                let rms = scaled.square().mean().add_scalar(TINY).sqrt();
                add(&mut self.error_sum, rms.mul_scalar(h.abs()));
            }
        }
        if let Some(w) = &self.stiffness_weights {
            let terms: Vec<(f64, &Tensor<D>)> = w.iter().copied().zip(&step.k).collect();
            let dk = step.k[stages].clone().sub(step.k[stages - 1].clone());
            let rho = match lincomb(&terms) {
                Some(dg) => {
                    let dg = dg.mul_scalar(h);
                    dk.square()
                        .sum()
                        .div(dg.square().sum().add_scalar(TINY))
                        .add_scalar(TINY)
                        .sqrt()
                }
                None => Tensor::zeros([1], &self.device),
            };
            add(&mut self.stiffness_sum, rho);
        }
    }
}
