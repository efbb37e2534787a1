//! Classifier-free guidance: one network trained with and without its condition (the
//! condition replaced by zeros with probability `p_uncond`), sampled with the guided score
//! `(1 + w) ∇log p(x | c) - w ∇log p(x)`.

use burn::tensor::{Tensor, TensorData};
use kiln_core::rng::Rng;

use super::dsm::{Prediction, ScoreModel, ScoreNet, prediction_to_score};
use super::sde::ForwardSde;
use crate::model::TimeMlp;
use crate::{Error, Result};

/// Zeroes each row of the conditions with probability `p_uncond` (the null condition).
///
/// # Shapes
/// `conditions: [batch, c]` -> `[batch, c]`
///
/// # Errors
/// [`Error::InvalidConfig`] for `p_uncond` outside `[0, 1]`.
pub fn drop_conditions(conditions: Tensor<2>, p_uncond: f64, rng: &mut Rng) -> Result<Tensor<2>> {
    if !(0.0..=1.0).contains(&p_uncond) {
        return Err(Error::config(
            "p_uncond",
            p_uncond,
            "a probability in [0, 1], e.g. 0.1",
        ));
    }
    let [n, _] = conditions.dims();
    let keep: Vec<f64> = (0..n)
        .map(|_| if rng.uniform() < p_uncond { 0.0 } else { 1.0 })
        .collect();
    let mask = Tensor::<2>::from_data(TensorData::new(keep, [n, 1]), &conditions.device());
    Ok(conditions * mask)
}

/// A conditional network read as the guided score `(1 + w) s(x, t, c) - w s(x, t, ∅)`.
#[derive(Debug, Clone)]
pub struct Guided<'a> {
    /// The conditional network (`TimeMlpConfig::conditions > 0`).
    pub model: &'a TimeMlp,
    /// What it predicts.
    pub prediction: Prediction,
    /// The forward process.
    pub sde: ForwardSde,
    /// The condition of every sample, `[batch, conditions]`.
    pub condition: Tensor<2>,
    /// The guidance weight `w` (0: the plain conditional model).
    pub scale: f64,
}

impl Guided<'_> {
    fn combine(&self, conditional: Tensor<2>, unconditional: Tensor<2>) -> Tensor<2> {
        conditional.mul_scalar(1.0 + self.scale) - unconditional.mul_scalar(self.scale)
    }
}

impl ScoreModel for Guided<'_> {
    fn score(&self, x: Tensor<2>, t: f64) -> Tensor<2> {
        let tt = ScoreNet::time(&x, t);
        let null = self.condition.zeros_like();
        let pc = self
            .model
            .forward_conditioned(x.clone(), tt.clone(), self.condition.clone());
        let pu = self.model.forward_conditioned(x.clone(), tt, null);
        let sc = prediction_to_score(self.prediction, &self.sde, x.clone(), pc, t);
        let su = prediction_to_score(self.prediction, &self.sde, x, pu, t);
        self.combine(sc, su)
    }

    fn score_jvp(&self, x: Tensor<2>, t: f64, w: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let tt = ScoreNet::time(&x, t);
        let rep = x.dims()[0] / self.condition.dims()[0].max(1);
        let condition = Tensor::cat(vec![self.condition.clone(); rep.max(1)], 0);
        let null = condition.zeros_like();
        let (pc, jc) = self
            .model
            .forward_jvp(x.clone(), tt.clone(), Some(condition), w.clone());
        let (pu, ju) = self.model.forward_jvp(x.clone(), tt, Some(null), w.clone());
        let p = self.prediction;
        let s = self.combine(
            prediction_to_score(p, &self.sde, x.clone(), pc, t),
            prediction_to_score(p, &self.sde, x, pu, t),
        );
        let j = self.combine(
            prediction_to_score(p, &self.sde, w.clone(), jc, t),
            prediction_to_score(p, &self.sde, w, ju, t),
        );
        (s, j)
    }
}
