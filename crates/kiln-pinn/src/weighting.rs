//! Loss weighting beyond fixed weights: gradient-norm balancing (learning-rate annealing, Wang,
//! Teng & Perdikaris 2021) and causal weighting over time chunks (Wang, Sankaran & Perdikaris
//! 2022, "Respecting causality is all you need"), whose weights are exposed as a convergence
//! diagnostic.

use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use kiln_core::train::{Loss, global_grad_norm};

use crate::network::{JetNetwork, Pinn};
use crate::problem::{Term, combine};
use crate::train::{Cadence, Phase};
use crate::{Error, Problem, Result};

/// Gradient-norm balancing: every `every` Adam steps each term's weight is reset towards
/// λᵢ = Σⱼ ‖∇θ Lⱼ‖ / ‖∇θ Lᵢ‖ (a moving average with factor `alpha`), so every term pulls on the
/// parameters equally hard. Weights stay frozen during L-BFGS.
#[derive(Debug, Clone)]
pub struct GradNormBalancer {
    balanced: Balanced,
}

impl GradNormBalancer {
    /// Updates every `every` steps with moving-average factor `alpha` (0 replaces the weights;
    /// 0.9 is usual).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `every == 0` or `alpha` outside [0, 1).
    pub fn new(every: usize, alpha: f64) -> Result<Self> {
        Ok(GradNormBalancer {
            balanced: Balanced::new(every, alpha)?,
        })
    }

    /// The current weights, one per term of [`Problem::terms`] (before the first update: the
    /// problem's own weights).
    pub fn weights(&self) -> Option<&[f64]> {
        self.balanced.weights()
    }

    /// Gradient norms ‖∇θ Lᵢ‖ of every term (one backward pass per term).
    ///
    /// # Errors
    /// As [`Problem::terms`].
    pub fn gradient_norms<N: JetNetwork>(problem: &Problem, model: &Pinn<N>) -> Result<Vec<f64>> {
        let count = problem.terms(model)?.len();
        (0..count)
            .map(|k| {
                let term = problem.terms(model)?.swap_remove(k);
                let grads = GradientsParams::from_grads(term.value.backward(), model);
                Ok(global_grad_norm(model, &grads))
            })
            .collect()
    }

    /// Recomputes the weights from the current gradient norms.
    ///
    /// # Errors
    /// As [`GradNormBalancer::gradient_norms`].
    pub fn update<N: JetNetwork>(&mut self, problem: &Problem, model: &Pinn<N>) -> Result<()> {
        let norms = Self::gradient_norms(problem, model)?;
        self.balanced.refresh(&norms);
        Ok(())
    }

    /// The balanced loss; updates the weights every `every` Adam calls, never under L-BFGS.
    /// The weights are logged as `weight_<term>`.
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
        self.balanced.loss(problem, model, "weight_")
    }
}

/// Term weights λᵢ = Σⱼ sⱼ / sᵢ that equalise per-term scales sᵢ (1 for a zero scale), blended
/// into the previous weights as `alpha` · old + (1 - `alpha`) · new, refreshed every `every`
/// Adam calls and frozen under L-BFGS: the state gradient-norm and NTK weighting share.
#[derive(Debug, Clone)]
pub(crate) struct Balanced {
    weights: Option<Vec<f64>>,
    alpha: f64,
    cadence: Cadence,
}

impl Balanced {
    /// # Errors
    /// [`Error::InvalidConfig`] for `every == 0` or `alpha` outside [0, 1).
    pub(crate) fn new(every: usize, alpha: f64) -> Result<Self> {
        if every == 0 {
            return Err(Error::config("every", every, "update at least every step"));
        }
        if !(0.0..1.0).contains(&alpha) {
            return Err(Error::config("alpha", alpha, "must lie in [0, 1)"));
        }
        Ok(Balanced {
            weights: None,
            alpha,
            cadence: Cadence::new(every),
        })
    }

    pub(crate) fn weights(&self) -> Option<&[f64]> {
        self.weights.as_deref()
    }

    /// Records a loss call of `phase`; true when the weights are due for a refresh.
    pub(crate) fn due(&mut self, phase: Phase) -> bool {
        self.cadence.tick(phase)
    }

    /// Blends the weights that equalise `scales` into the current ones.
    pub(crate) fn refresh(&mut self, scales: &[f64]) {
        let total: f64 = scales.iter().sum();
        let fresh: Vec<f64> = scales
            .iter()
            .map(|s| if *s > 0.0 { total / s } else { 1.0 })
            .collect();
        self.weights = Some(match self.weights.take() {
            Some(old) if old.len() == fresh.len() => old
                .iter()
                .zip(&fresh)
                .map(|(o, f)| self.alpha * o + (1.0 - self.alpha) * f)
                .collect(),
            _ => fresh,
        });
    }

    /// The problem's terms combined with the weights (or their own before the first refresh),
    /// each weight logged as `<prefix><term name>`.
    pub(crate) fn loss<N: JetNetwork>(
        &self,
        problem: &Problem,
        model: &Pinn<N>,
        prefix: &str,
    ) -> Result<Loss> {
        let terms = problem.terms(model)?;
        let names: Vec<String> = terms.iter().map(|t| t.name.clone()).collect();
        let mut loss = combine(terms, self.weights())?;
        for (name, w) in names.iter().zip(self.weights().unwrap_or_default()) {
            let t = Tensor::<1>::from_data(TensorData::from([*w as f32]), problem.device());
            loss = loss.with_term(format!("{prefix}{name}"), t);
        }
        Ok(loss)
    }
}

/// Causal weighting of the residual over `chunks` time slices: chunk i's mean squared residual
/// Lᵢ gets the weight wᵢ = exp(-ε Σ_{k<i} Lₖ), computed without gradient, so later times are
/// trained only once earlier ones are resolved. The smallest weight approaching 1 signals that
/// the whole time window has converged. Under L-BFGS the weights are frozen at their values
/// at the phase's first evaluation (its line search needs one fixed function);
/// [`CausalWeighting::unfreeze`] lets a following L-BFGS phase freeze fresh ones.
#[derive(Debug, Clone)]
pub struct CausalWeighting {
    /// `[points, chunks]`: 1/count(chunk) where a point lies in the chunk, else 0.
    averaging: Tensor<2>,
    epsilon: f64,
    chunks: usize,
    frozen: Option<Tensor<1>>,
}

impl CausalWeighting {
    /// Slices the problem's collocation points by their coordinate `time_axis` into `chunks`
    /// equal time intervals.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for no collocation points, a bad axis, `chunks == 0`, a negative
    /// ε or an empty chunk.
    pub fn new(problem: &Problem, time_axis: usize, chunks: usize, epsilon: f64) -> Result<Self> {
        let Some(points) = problem.collocation() else {
            return Err(Error::config(
                "collocation",
                "none",
                "causal weights slice the collocation points; set them first",
            ));
        };
        if time_axis >= points.dim() || chunks == 0 || !(epsilon >= 0.0 && epsilon.is_finite()) {
            return Err(Error::config(
                "causal weighting",
                format!("axis {time_axis}, {chunks} chunks, epsilon {epsilon}"),
                format!(
                    "need axis < {}, at least one chunk and a finite epsilon >= 0",
                    points.dim()
                ),
            ));
        }
        let t = points.column(time_axis);
        let (lo, hi) = t
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let width = (hi - lo).max(f64::MIN_POSITIVE);
        let index: Vec<usize> = t
            .iter()
            .map(|x| (((x - lo) / width * chunks as f64) as usize).min(chunks - 1))
            .collect();
        let mut counts = vec![0usize; chunks];
        for &i in &index {
            counts[i] += 1;
        }
        if let Some(empty) = counts.iter().position(|&c| c == 0) {
            return Err(Error::config(
                "chunks",
                chunks,
                format!("time chunk {empty} holds no collocation point; use fewer chunks"),
            ));
        }
        let mut data = vec![0.0; t.len() * chunks];
        for (p, &i) in index.iter().enumerate() {
            data[p * chunks + i] = 1.0 / counts[i] as f64;
        }
        let averaging = kiln_core::tensor::from_f64(&data, [t.len(), chunks], problem.device())?;
        Ok(CausalWeighting {
            averaging,
            epsilon,
            chunks,
            frozen: None,
        })
    }

    /// Per-chunk mean squared residuals `[chunks]` and their causal weights `[chunks]` (detached).
    fn chunk_losses<N: JetNetwork>(
        &self,
        problem: &Problem,
        model: &Pinn<N>,
    ) -> Result<(Tensor<1>, Tensor<1>)> {
        let r = problem.residual_at(model, problem.collocation_tensor()?)?;
        let [_, equations] = r.dims();
        let per_point = r.square().sum_dim(1).div_scalar(equations as f64); // [points, 1]
        let losses = per_point
            .transpose()
            .matmul(self.averaging.clone())
            .reshape([self.chunks]);
        // Exclusive cumulative sum: Σ_{k<i} L_k.
        let before = losses.clone().cumsum(0) - losses.clone();
        let weights = before.mul_scalar(-self.epsilon).exp().detach();
        Ok((losses, weights))
    }

    /// The causal weights for the current model (1 for the first chunk).
    ///
    /// # Errors
    /// As [`Problem::residual_at`].
    pub fn weights<N: JetNetwork>(&self, problem: &Problem, model: &Pinn<N>) -> Result<Vec<f64>> {
        let (_, w) = self.chunk_losses(problem, model)?;
        Ok(kiln_core::tensor::to_f64_vec(w))
    }

    /// The loss with the residual replaced by its causally weighted mean (1/M) Σ wᵢ Lᵢ; logs the
    /// smallest causal weight as `causal_min_weight`. Under [`Phase::Adam`] the weights follow
    /// the model at every call; under [`Phase::Lbfgs`] they stay at their values at the first
    /// L-BFGS call until [`CausalWeighting::unfreeze`] or the next Adam call.
    ///
    /// # Errors
    /// As [`Problem::terms`].
    pub fn loss<N: JetNetwork>(
        &mut self,
        problem: &Problem,
        model: &Pinn<N>,
        phase: Phase,
    ) -> Result<Loss> {
        let (losses, fresh) = self.chunk_losses(problem, model)?;
        let weights = match phase {
            Phase::Adam => {
                self.frozen = None;
                fresh
            }
            Phase::Lbfgs => self.frozen.get_or_insert(fresh).clone(),
        };
        let min_weight = weights.clone().min();
        let residual = (losses * weights).mean();
        let mut terms = vec![Term {
            name: "residual".into(),
            weight: problem.residual_weight(),
            value: residual,
        }];
        terms.extend(problem.condition_terms(model)?);
        Ok(combine(terms, None)?.with_term("causal_min_weight", min_weight))
    }

    /// Forgets the weights frozen for an L-BFGS phase, so that the next one freezes the current
    /// weights (for alternating L-BFGS rounds that march forward in time).
    pub fn unfreeze(&mut self) {
        self.frozen = None;
    }
}
