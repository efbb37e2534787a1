//! Loss weights from the neural tangent kernel (Wang, Yu & Perdikaris 2022, "When and why PINNs
//! fail to train: a neural tangent kernel perspective"): λᵢ = Σⱼ Tr(Kⱼⱼ) / Tr(Kᵢᵢ), so that
//! every term's kernel block converges at the same rate.
//!
//! # Convention
//! Term i of [`Problem::terms`] is the mean of its squared per-point residuals rₚ (one per point
//! and equation, e.g. `u(x) - g(x)` for a Dirichlet condition or the PDE residual at a
//! collocation point). Its trace is taken per point, T(i) = (1/Nᵢ) Σₚ ‖∇θ rₚ‖² (the mean
//! diagonal entry of Kᵢᵢ, as in the authors' code), so that a term's weight does not grow with
//! its point count, consistent with the mean in its loss; λᵢ = Σⱼ T(j) / T(i).
//!
//! burn has no per-sample gradients, so two estimators are offered:
//! - [`NtkEstimator::Exact`]: one backward pass per point on a random subsample of at most
//!   `max_points` points per term (the subsample mean estimates the term's mean without bias;
//!   with `max_points >= Nᵢ` it is exact);
//! - [`NtkEstimator::Rademacher`]: with εₚ = ±1 at random, E‖∇θ Σₚ εₚ rₚ‖² = Σₚ ‖∇θ rₚ‖²; one
//!   backward pass per probe over the whole term, averaged over `probes` probes. Its variance
//!   is 2 Σ_{p≠q} (∇rₚ·∇r_q)² per probe.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use kiln_core::rng::Rng;
use kiln_core::train::{Loss, global_grad_norm};

use crate::network::{JetNetwork, Pinn};
use crate::train::Phase;
use crate::weighting::Balanced;
use crate::{Error, Problem, Result};

/// How the per-point NTK traces are estimated; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NtkEstimator {
    /// One backward pass per point on at most `max_points` random points per term.
    Exact {
        /// Points per term (a random subsample when the term has more).
        max_points: usize,
    },
    /// Rademacher probes of the whole term, one backward pass each.
    Rademacher {
        /// Probes averaged per estimate.
        probes: usize,
    },
}

/// NTK-trace loss weights, refreshed every `every` Adam steps (a moving average with factor
/// `alpha`) and frozen under L-BFGS; the API follows
/// [`GradNormBalancer`](crate::weighting::GradNormBalancer).
#[derive(Debug, Clone)]
pub struct NtkWeighting {
    estimator: NtkEstimator,
    balanced: Balanced,
    traces: Option<Vec<f64>>,
    rng: Rng,
}

impl NtkWeighting {
    /// Updates every `every` Adam steps with moving-average factor `alpha` (0 replaces the
    /// weights; 0.9 is usual), estimating traces with `estimator`; `seed` drives the subsamples
    /// and probes.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `every == 0`, `alpha` outside [0, 1), or an estimator with
    /// zero points or probes.
    pub fn new(every: usize, alpha: f64, estimator: NtkEstimator, seed: u64) -> Result<Self> {
        let balanced = Balanced::new(every, alpha)?;
        match estimator {
            NtkEstimator::Exact { max_points: 0 } => {
                return Err(Error::config(
                    "max_points",
                    0,
                    "use at least one point per term",
                ));
            }
            NtkEstimator::Rademacher { probes: 0 } => {
                return Err(Error::config("probes", 0, "use at least one probe"));
            }
            _ => {}
        }
        Ok(NtkWeighting {
            estimator,
            balanced,
            traces: None,
            rng: Rng::new(seed),
        })
    }

    /// The current weights, one per term of [`Problem::terms`] (`None` before the first update).
    pub fn weights(&self) -> Option<&[f64]> {
        self.balanced.weights()
    }

    /// The per-point traces T(i) of the last update.
    pub fn last_traces(&self) -> Option<&[f64]> {
        self.traces.as_deref()
    }

    /// Estimates the per-point NTK trace T(i) of every term of [`Problem::terms`], in order.
    ///
    /// # Errors
    /// As [`Problem::term_residual`].
    pub fn traces<N: JetNetwork>(
        &mut self,
        problem: &Problem,
        model: &Pinn<N>,
    ) -> Result<Vec<f64>> {
        let sizes = problem.term_sizes();
        (0..sizes.len())
            .map(|term| match self.estimator {
                NtkEstimator::Exact { max_points } => {
                    self.exact_trace(problem, model, term, sizes[term], max_points)
                }
                NtkEstimator::Rademacher { probes } => {
                    self.rademacher_trace(problem, model, term, probes)
                }
            })
            .collect()
    }

    /// Recomputes the weights from fresh traces.
    ///
    /// # Errors
    /// As [`NtkWeighting::traces`].
    pub fn update<N: JetNetwork>(&mut self, problem: &Problem, model: &Pinn<N>) -> Result<()> {
        let traces = self.traces(problem, model)?;
        self.balanced.refresh(&traces);
        self.traces = Some(traces);
        Ok(())
    }

    /// The weighted loss; updates the weights every `every` Adam calls, never under L-BFGS.
    /// The NTK weights replace the problem's own term weights (as in
    /// [`GradNormBalancer`](crate::weighting::GradNormBalancer)) and are logged as
    /// `ntk_weight_<term>`.
    ///
    /// # Errors
    /// As [`Problem::terms`].
    pub fn loss<N: JetNetwork>(
        &mut self,
        problem: &Problem,
        model: &Pinn<N>,
        phase: Phase,
    ) -> Result<Loss> {
        if self.balanced.due(phase) {
            self.update(problem, model)?;
        }
        self.balanced.loss(problem, model, "ntk_weight_")
    }

    /// (1/m) Σ over a subsample of m points (and every equation) of ‖∇θ rₚ‖².
    fn exact_trace<N: JetNetwork>(
        &mut self,
        problem: &Problem,
        model: &Pinn<N>,
        term: usize,
        n: usize,
        max_points: usize,
    ) -> Result<f64> {
        let mut index: Vec<usize> = (0..n).collect();
        if n > max_points {
            self.rng.shuffle(&mut index);
            index.truncate(max_points);
        }
        let mut total = 0.0;
        let mut count = 0usize;
        for &p in &index {
            // One forward and one backward pass per point and equation.
            let mut e = 0;
            loop {
                let r = problem.term_residual(model, term, Some(&[p]))?;
                let equations = r.dims()[1];
                total += squared_grad_norm(model, r.narrow(1, e, 1).sum());
                count += 1;
                e += 1;
                if e >= equations {
                    break;
                }
            }
        }
        Ok(total / count as f64)
    }

    /// The mean of `probes` Rademacher estimates ‖∇θ Σₚ εₚ rₚ‖², divided by the entry count.
    fn rademacher_trace<N: JetNetwork>(
        &mut self,
        problem: &Problem,
        model: &Pinn<N>,
        term: usize,
        probes: usize,
    ) -> Result<f64> {
        let mut total = 0.0;
        let mut entries = 1;
        for _ in 0..probes {
            let r = problem.term_residual(model, term, None)?;
            let [rows, cols] = r.dims();
            entries = rows * cols;
            let signs: Vec<f64> = (0..entries).map(|_| f64::from(self.rng.sign())).collect();
            let eps = kiln_core::tensor::from_f64(&signs, [rows, cols], problem.device())?;
            total += squared_grad_norm(model, (r * eps).sum());
        }
        Ok(total / (probes * entries) as f64)
    }
}

/// ‖∇θ s‖² of a one-element tensor over the model's trainable parameters.
fn squared_grad_norm<M: Module>(model: &M, s: Tensor<1>) -> f64 {
    let grads = GradientsParams::from_grads(s.backward(), model);
    global_grad_norm(model, &grads).powi(2)
}
