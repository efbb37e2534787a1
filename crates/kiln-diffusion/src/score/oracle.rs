//! Closed-form scores for the tests and demos: Gaussian data under any forward SDE, and the
//! ideal denoiser of a finite data set (the posterior mean under Gaussian noise, which is a
//! modern-Hopfield retrieval step with β = 1/σ² when the points have equal norms).

use burn::tensor::activation::softmax;
use burn::tensor::{Tensor, TensorData};

use super::dsm::ScoreModel;
use super::sde::ForwardSde;
use crate::data::Gaussian;
use crate::linalg::{identity, inv_spd, transpose};
use crate::{Error, Result};

/// The exact score of Gaussian data `N(μ, Σ)` under `sde`: `x_t ~ N(m μ, m² Σ + s² I)`.
#[derive(Debug, Clone)]
pub struct GaussianScore {
    /// The data law.
    pub data: Gaussian,
    /// The forward process.
    pub sde: ForwardSde,
}

impl GaussianScore {
    /// The law of `x_t`.
    ///
    /// # Errors
    /// [`Error::Numerical`] when it is singular (t = 0 with singular data covariance).
    pub fn marginal(&self, t: f64) -> Result<Gaussian> {
        let d = self.data.dim();
        let (m, s) = self.sde.marginal(t);
        let eye = identity(d);
        Gaussian::new(
            self.data.mean.iter().map(|v| m * v).collect(),
            (0..d * d)
                .map(|k| m * m * self.data.cov[k] + s * s * eye[k])
                .collect(),
        )
    }

    fn precision(&self, t: f64, x: &Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let d = self.data.dim();
        let marginal = self
            .marginal(t)
            .expect("the marginal covariance is positive definite for t > 0");
        let p = inv_spd(&marginal.cov, d).expect("positive definite");
        let device = x.device();
        (
            Tensor::from_data(TensorData::new(transpose(&p, d, d), [d, d]), &device),
            Tensor::from_data(TensorData::new(marginal.mean, [1, d]), &device),
        )
    }
}

impl ScoreModel for GaussianScore {
    fn score(&self, x: Tensor<2>, t: f64) -> Tensor<2> {
        let (p, mean) = self.precision(t, &x);
        (x - mean).matmul(p).neg()
    }

    fn score_jvp(&self, x: Tensor<2>, t: f64, w: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let (p, mean) = self.precision(t, &x);
        ((x - mean).matmul(p.clone()).neg(), w.matmul(p).neg())
    }
}

/// The ideal denoiser of a finite data set `{ξ_k}` (uniform weights) at noise level `σ`:
/// `E[ξ | ξ + σ ε = x] = Σ_k softmax_k(-|x - ξ_k|² / (2σ²)) ξ_k`.
///
/// # Shapes
/// `data: [N, dim]`, `x: [batch, dim]` -> `[batch, dim]`
///
/// # Errors
/// [`Error::InvalidConfig`] for `σ ≤ 0`; [`Error::ShapeMismatch`] for different dimensions or
/// an empty data set.
pub fn ideal_denoiser(data: &Tensor<2>, x: &Tensor<2>, sigma: f64) -> Result<Tensor<2>> {
    if !(sigma > 0.0 && sigma.is_finite()) {
        return Err(Error::config(
            "sigma",
            sigma,
            "the noise level must be positive and finite",
        ));
    }
    let [n, d] = data.dims();
    let [_, dx] = x.dims();
    if n == 0 || d != dx {
        return Err(Error::shape(
            "ideal_denoiser",
            format!("data [N > 0, {dx}]"),
            &[n, d],
        ));
    }
    // -|x - ξ|²/(2σ²) = (x·ξ - |ξ|²/2)/σ² + (terms constant in k).
    let half_norms = data.clone().square().sum_dim(1).mul_scalar(0.5).transpose(); // [1, N]
    let logits =
        (x.clone().matmul(data.clone().transpose()) - half_norms).mul_scalar(1.0 / (sigma * sigma));
    Ok(softmax(logits, 1).matmul(data.clone()))
}
