//! Denoising score matching: what the network predicts (ε, score, v or x₀), how losses are
//! weighted over time (uniform, SNR, min-SNR-γ), training batches built on the host, and
//! `ScoreNet`, which turns any of the four predictions into a score (and its Jacobian-vector
//! product, for exact and Hutchinson divergences).

use burn::config::Config;
use burn::tensor::{Device, Tensor, TensorData};
use kiln_core::rng::Rng;
use serde::{Deserialize, Serialize};

use super::sde::ForwardSde;
use crate::model::TimeMlp;
use crate::{Error, Samples};

/// What the network outputs, for `x_t = m x₀ + s ε`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prediction {
    /// The noise ε (DDPM); score = -ε/s.
    Epsilon,
    /// The score ∇ log p_t directly (score_sde's NCSN++ with σ scaling done by the caller).
    Score,
    /// `v = m ε - s x₀` (Salimans and Ho).
    V,
    /// The clean sample x₀; score = -(x - m x₀)/s².
    X0,
}

/// The time weighting `w(t)` of the per-sample squared error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Weighting {
    /// `w = 1` for whatever is predicted.
    Uniform,
    /// `w = SNR(t) = m²/s²`.
    Snr,
    /// `w = min(SNR, γ) / SNR` applied to ε-loss equivalents (Hang et al.'s min-SNR-γ).
    MinSnr {
        /// The clip γ (5 in the paper).
        gamma: f64,
    },
}

/// Configuration of denoising score matching.
#[derive(Config, Debug)]
pub struct DsmConfig {
    /// The forward process.
    pub sde: ForwardSde,
    /// What the network predicts.
    #[config(default = "Prediction::Epsilon")]
    pub prediction: Prediction,
    /// The loss weighting.
    #[config(default = "Weighting::Uniform")]
    pub weighting: Weighting,
    /// Smallest training time (the score blows up at t = 0).
    #[config(default = 1e-5)]
    pub t_min: f64,
}

/// A training batch on a device.
#[derive(Debug, Clone)]
pub struct DsmBatch {
    /// `t`, `[batch, 1]`.
    pub t: Tensor<2>,
    /// `x_t`, `[batch, dim]`.
    pub xt: Tensor<2>,
    /// The regression target, `[batch, dim]`.
    pub target: Tensor<2>,
    /// The weight of each sample, `[batch, 1]`.
    pub weight: Tensor<2>,
}

impl DsmConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// As [`ForwardSde::validate`]; [`Error::InvalidConfig`] for `t_min` outside (0, 1) or a
    /// non-positive γ.
    pub fn validate(&self) -> crate::Result<()> {
        self.sde.validate()?;
        if !(self.t_min > 0.0 && self.t_min < 1.0) {
            return Err(Error::config(
                "t_min",
                self.t_min,
                "must lie in (0, 1), e.g. 1e-5",
            ));
        }
        if let Weighting::MinSnr { gamma } = self.weighting
            && (gamma.is_nan() || gamma <= 0.0)
        {
            return Err(Error::config(
                "weighting.gamma",
                gamma,
                "must be positive, e.g. 5",
            ));
        }
        Ok(())
    }

    /// A batch from data `x0` with `t ~ U(t_min, 1)` and `ε ~ N(0, I)`.
    ///
    /// # Errors
    /// As [`DsmConfig::validate`]; [`Error::ShapeMismatch`] for empty data.
    pub fn batch(&self, x0: &Samples, rng: &mut Rng, device: &Device) -> crate::Result<DsmBatch> {
        self.validate()?;
        if x0.is_empty() {
            return Err(Error::shape(
                "DsmConfig::batch",
                "at least one point",
                &[0, x0.dim()],
            ));
        }
        let (n, d) = (x0.len(), x0.dim());
        let (mut ts, mut xt, mut target, mut weight) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n * d),
            Vec::with_capacity(n * d),
            Vec::with_capacity(n),
        );
        for i in 0..n {
            let t = self.t_min + (1.0 - self.t_min) * rng.uniform();
            let (m, s) = self.sde.marginal(t);
            ts.push(t);
            for &x in x0.row(i) {
                let e = rng.normal();
                xt.push(m * x + s * e);
                target.push(match self.prediction {
                    Prediction::Epsilon => e,
                    Prediction::Score => -e / s,
                    Prediction::V => m * e - s * x,
                    Prediction::X0 => x,
                });
            }
            let snr = m * m / (s * s);
            weight.push(match self.weighting {
                Weighting::Uniform => 1.0,
                Weighting::Snr => snr,
                Weighting::MinSnr { gamma } => snr.min(gamma) / snr,
            });
        }
        let tensor = |v: Vec<f64>, w: usize| Tensor::from_data(TensorData::new(v, [n, w]), device);
        Ok(DsmBatch {
            t: tensor(ts, 1),
            xt: tensor(xt, d),
            target: tensor(target, d),
            weight: tensor(weight, 1),
        })
    }
}

/// The weighted mean squared error `mean(w · |pred - target|²)`.
///
/// # Shapes
/// `prediction: [batch, dim]` -> `[1]`
pub fn dsm_loss(prediction: Tensor<2>, batch: &DsmBatch) -> Tensor<1> {
    ((prediction - batch.target.clone()).square() * batch.weight.clone()).mean()
}

/// A score model: `∇ log p_t(x)` at a time shared by the batch, and its Jacobian-vector
/// product `(∂ score/∂x) w` (needed for likelihoods).
pub trait ScoreModel {
    /// The score.
    ///
    /// # Shapes
    /// `x: [batch, dim]` -> `[batch, dim]`
    fn score(&self, x: Tensor<2>, t: f64) -> Tensor<2>;

    /// The score and `(∂ score/∂x) w`.
    ///
    /// # Shapes
    /// `x, w: [batch, dim]` -> (`[batch, dim]`, `[batch, dim]`)
    fn score_jvp(&self, x: Tensor<2>, t: f64, w: Tensor<2>) -> (Tensor<2>, Tensor<2>);
}

/// A [`TimeMlp`] read as a score through its [`Prediction`] and the forward SDE.
#[derive(Debug, Clone)]
pub struct ScoreNet<'a> {
    /// The network `(x, t) -> prediction`.
    pub model: &'a TimeMlp,
    /// What it predicts.
    pub prediction: Prediction,
    /// The forward process it was trained on.
    pub sde: ForwardSde,
}

/// The score from a network prediction `p` at `x` and time `t` (`affine = false` drops the
/// terms in `x`, which turns it into the map of Jacobian-vector products when `p` is one).
pub(crate) fn prediction_to_score(
    prediction: Prediction,
    sde: &ForwardSde,
    x: Tensor<2>,
    p: Tensor<2>,
    t: f64,
) -> Tensor<2> {
    let (m, s) = sde.marginal(t);
    match prediction {
        Prediction::Epsilon => p.mul_scalar(-1.0 / s),
        Prediction::Score => p,
        Prediction::X0 => p.mul_scalar(m / (s * s)) - x.mul_scalar(1.0 / (s * s)),
        Prediction::V => {
            // ε = (s x + m v)/(m² + s²), score = -ε/s.
            let norm = m * m + s * s;
            p.mul_scalar(-m / (s * norm)) - x.mul_scalar(1.0 / norm)
        }
    }
}

impl ScoreNet<'_> {
    pub(crate) fn time(x: &Tensor<2>, t: f64) -> Tensor<2> {
        Tensor::full([x.dims()[0], 1], t, &x.device())
    }

    /// The network's prediction converted to ε at shared time `t`.
    ///
    /// # Shapes
    /// `x: [batch, dim]` -> `[batch, dim]`
    pub fn epsilon(&self, x: Tensor<2>, t: f64) -> Tensor<2> {
        let s = self.sde.marginal(t).1;
        self.score(x, t).mul_scalar(-s)
    }
}

impl ScoreModel for ScoreNet<'_> {
    fn score(&self, x: Tensor<2>, t: f64) -> Tensor<2> {
        let p = self.model.forward(x.clone(), Self::time(&x, t));
        prediction_to_score(self.prediction, &self.sde, x, p, t)
    }

    fn score_jvp(&self, x: Tensor<2>, t: f64, w: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let (p, jp) = self
            .model
            .forward_jvp(x.clone(), Self::time(&x, t), None, w.clone());
        let score = prediction_to_score(self.prediction, &self.sde, x, p, t);
        // The conversion is affine in (x, p): its differential maps (w, J_p w) the same way.
        let jw = prediction_to_score(self.prediction, &self.sde, w, jp, t);
        (score, jw)
    }
}
