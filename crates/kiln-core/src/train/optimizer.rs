//! Optimiser configurations (Adam, AdamW, RMSprop, L-BFGS from burn-optim) and the optimiser state a run
//! carries and checkpoints.

use std::path::Path;

use burn::optim::decay::WeightDecayConfig;
use burn::optim::{
    AdamConfig, AdamWConfig, LBFGS, LBFGSConfig, LineSearchFn, ModuleOptimizer, RmsPropConfig,
};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Which optimiser to use and its hyper-parameters.
///
/// Adam's ε defaults to 1e-8 as in PyTorch (burn's own default is 1e-5).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerConfig {
    /// Adam, optionally with L2 weight decay.
    Adam {
        /// First-moment decay.
        beta1: f64,
        /// Second-moment decay.
        beta2: f64,
        /// Numerical-stability constant.
        eps: f64,
        /// L2 penalty added to the gradient (0 for none).
        weight_decay: f64,
    },
    /// AdamW: Adam with decoupled weight decay.
    AdamW {
        /// First-moment decay.
        beta1: f64,
        /// Second-moment decay.
        beta2: f64,
        /// Numerical-stability constant.
        eps: f64,
        /// Decoupled weight decay.
        weight_decay: f64,
    },
    /// RMSprop (uncentred), as PyTorch's `RMSprop`.
    RmsProp {
        /// Smoothing constant of the squared-gradient average.
        alpha: f64,
        /// Numerical-stability constant added to the root mean square.
        eps: f64,
        /// Momentum (0 for none).
        momentum: f64,
    },
    /// L-BFGS with an optional strong-Wolfe line search; each trainer step is one outer
    /// iteration of up to `max_iter` inner iterations.
    ///
    /// L-BFGS evaluates the loss several times per step, and its line search assumes the same
    /// function each time: draw random collocation points outside the closure, or reseed the
    /// device with [`StepInfo::seed`](super::StepInfo::seed) at the top of the closure.
    Lbfgs {
        /// Inner iterations per step.
        max_iter: usize,
        /// Curvature pairs kept.
        history: usize,
        /// Use the strong-Wolfe line search (recommended).
        strong_wolfe: bool,
        /// Stop when the largest gradient entry falls below this.
        tolerance_grad: f64,
        /// Stop when the loss or parameters change less than this.
        tolerance_change: f64,
    },
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig::adam()
    }
}

impl OptimizerConfig {
    /// Adam with β = (0.9, 0.999), ε = 1e-8 and no weight decay.
    pub fn adam() -> Self {
        OptimizerConfig::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }

    /// AdamW with β = (0.9, 0.999), ε = 1e-8 and weight decay 0.01 (PyTorch's defaults).
    pub fn adamw() -> Self {
        OptimizerConfig::AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }

    /// RMSprop with PyTorch's defaults: α = 0.99, ε = 1e-8, no momentum (burn's own defaults
    /// are ε = 1e-5 and momentum 0.9).
    pub fn rmsprop() -> Self {
        OptimizerConfig::RmsProp {
            alpha: 0.99,
            eps: 1e-8,
            momentum: 0.0,
        }
    }

    /// L-BFGS with 20 inner iterations, history 50 and a strong-Wolfe line search.
    pub fn lbfgs() -> Self {
        OptimizerConfig::Lbfgs {
            max_iter: 20,
            history: 50,
            strong_wolfe: true,
            tolerance_grad: 1e-9,
            tolerance_change: 1e-12,
        }
    }

    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        match *self {
            OptimizerConfig::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
            }
            | OptimizerConfig::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => {
                for (field, beta) in [("optimizer.beta1", beta1), ("optimizer.beta2", beta2)] {
                    if !(0.0..1.0).contains(&beta) {
                        return Err(Error::config(field, beta, "must lie in [0, 1)"));
                    }
                }
                if eps.is_nan() || eps <= 0.0 {
                    return Err(Error::config(
                        "optimizer.eps",
                        eps,
                        "must be > 0 (1e-8 is usual)",
                    ));
                }
                if weight_decay.is_nan() || weight_decay < 0.0 {
                    return Err(Error::config(
                        "optimizer.weight_decay",
                        weight_decay,
                        "must be >= 0",
                    ));
                }
                Ok(())
            }
            OptimizerConfig::RmsProp {
                alpha,
                eps,
                momentum,
            } => {
                if !(0.0..1.0).contains(&alpha) {
                    return Err(Error::config(
                        "optimizer.alpha",
                        alpha,
                        "must lie in [0, 1) (0.99 is usual)",
                    ));
                }
                if eps.is_nan() || eps <= 0.0 {
                    return Err(Error::config(
                        "optimizer.eps",
                        eps,
                        "must be > 0 (1e-8 is usual)",
                    ));
                }
                if momentum.is_nan() || momentum < 0.0 {
                    return Err(Error::config(
                        "optimizer.momentum",
                        momentum,
                        "must be >= 0",
                    ));
                }
                Ok(())
            }
            OptimizerConfig::Lbfgs {
                max_iter, history, ..
            } => {
                if max_iter == 0 {
                    return Err(Error::config(
                        "optimizer.max_iter",
                        max_iter,
                        "must be at least 1",
                    ));
                }
                if history == 0 {
                    return Err(Error::config(
                        "optimizer.history",
                        history,
                        "must be at least 1",
                    ));
                }
                Ok(())
            }
        }
    }

    pub(crate) fn init(&self) -> Optimizer {
        match *self {
            OptimizerConfig::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => {
                let mut config = AdamConfig::new()
                    .with_beta_1(beta1 as f32)
                    .with_beta_2(beta2 as f32)
                    .with_epsilon(eps as f32);
                if weight_decay > 0.0 {
                    config =
                        config.with_weight_decay(Some(WeightDecayConfig::new(weight_decay as f32)));
                }
                Optimizer::First(config.init())
            }
            OptimizerConfig::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => Optimizer::First(
                AdamWConfig::new()
                    .with_beta_1(beta1 as f32)
                    .with_beta_2(beta2 as f32)
                    .with_epsilon(eps as f32)
                    .with_weight_decay(weight_decay as f32)
                    .init(),
            ),
            OptimizerConfig::RmsProp {
                alpha,
                eps,
                momentum,
            } => Optimizer::First(
                RmsPropConfig::new()
                    .with_alpha(alpha as f32)
                    .with_epsilon(eps as f32)
                    .with_momentum(momentum as f32)
                    .init(),
            ),
            OptimizerConfig::Lbfgs {
                max_iter,
                history,
                strong_wolfe,
                tolerance_grad,
                tolerance_change,
            } => {
                let line_search = if strong_wolfe {
                    LineSearchFn::StrongWolfe
                } else {
                    LineSearchFn::None
                };
                Optimizer::Lbfgs(Box::new(
                    LBFGSConfig::new()
                        .with_max_iter(max_iter)
                        .with_history_size(history)
                        .with_line_search_fn(line_search)
                        .with_tolerance_grad(tolerance_grad)
                        .with_tolerance_change(tolerance_change)
                        .init(),
                ))
            }
        }
    }
}

/// L-BFGS's global iteration counter. burn returns no iteration count from a step and keeps the
/// record's scalars private, so the counter is read back from the serialised state (its small
/// history vectors included; once per trainer step). `None` when the state cannot be read.
pub(crate) fn lbfgs_iterations(optim: &LBFGS) -> Option<usize> {
    let bytes = optim.into_bytes().ok()?;
    let reader = burn_pack::Reader::from_bytes(bytes).ok()?;
    let count = reader.scalars().get("g_iter").copied();
    Some(count.and_then(|s| usize::try_from(s).ok()).unwrap_or(0))
}

/// The optimiser of a run, with its state.
pub(crate) enum Optimizer {
    /// First-order optimisers that take one gradient per step.
    First(ModuleOptimizer),
    /// L-BFGS, which re-evaluates the loss inside its step.
    Lbfgs(Box<LBFGS>),
}

impl Optimizer {
    /// Iterations L-BFGS has run in total, `None` for first-order optimisers.
    pub(crate) fn lbfgs_iterations(&self) -> Option<usize> {
        match self {
            Optimizer::First(_) => None,
            Optimizer::Lbfgs(optim) => lbfgs_iterations(optim),
        }
    }

    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        let result = match self {
            Optimizer::First(optim) => optim.save(path),
            Optimizer::Lbfgs(optim) => optim.save(path),
        };
        result.map_err(|source| Error::Record {
            path: path.to_path_buf(),
            source,
        })
    }

    pub(crate) fn load(self, path: &Path) -> Result<Self> {
        let record_err = |source| Error::Record {
            path: path.to_path_buf(),
            source,
        };
        Ok(match self {
            Optimizer::First(optim) => Optimizer::First(optim.load(path).map_err(record_err)?),
            Optimizer::Lbfgs(optim) => {
                Optimizer::Lbfgs(Box::new(optim.load(path).map_err(record_err)?))
            }
        })
    }
}
