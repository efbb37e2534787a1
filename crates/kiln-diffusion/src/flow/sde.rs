//! Sampling a stochastic interpolant with noise: the forward SDE
//! `dX = [b(X, t) + ε s(X, t)] dt + √(2ε) dW` with the score `s = -η(X, t)/γ(t)` from the
//! learned denoiser η (Albergo, Boffi and Vanden-Eijnden), integrated by Euler-Maruyama through
//! kiln-neural-de. It has the interpolant's marginals for every diffusion ε ≥ 0.

use burn::tensor::Tensor;
use kiln_neural_de::Time;
use kiln_neural_de::sde::{
    self, DiagonalNoise, EulerMaruyama, SdeOptions, SdeTerm, VirtualBrownianTree,
};

use super::interpolant::Interpolant;
use crate::field::TimeField;
use crate::{Error, Result};

/// The interpolant's SDE: a velocity `b`, a denoiser η, the interpolant (for γ) and the
/// diffusion ε.
#[derive(Debug, Clone, Copy)]
pub struct InterpolantSde<'a, V: ?Sized, D: ?Sized> {
    /// The velocity field `b(x, t)`.
    pub velocity: &'a V,
    /// The denoiser `η(x, t) ≈ E[z | x_t = x]`.
    pub denoiser: &'a D,
    /// The interpolant the fields were trained on.
    pub interpolant: Interpolant,
    /// The diffusion ε ≥ 0 (0: the probability-flow ODE, sampled by Euler).
    pub diffusion: f64,
}

impl<V: TimeField + ?Sized, D: TimeField + ?Sized> InterpolantSde<'_, V, D> {
    /// Integrates the SDE from `x` at `t_span.0` to `t_span.1` (forward in time) with `steps`
    /// Euler-Maruyama steps on a Brownian tree seeded by `seed`.
    ///
    /// # Shapes
    /// `x: [batch, dim]` -> `[batch, dim]`
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a span outside `[0, 1]` or not increasing, zero steps, a
    /// negative diffusion, or γ(t) = 0 somewhere on the span while the diffusion is positive
    /// (the score is undefined there: stay inside (0, 1) for the bridge γ); the solver's errors.
    pub fn sample(
        &self,
        x: Tensor<2>,
        (t0, t1): (f64, f64),
        steps: usize,
        seed: u64,
    ) -> Result<Tensor<2>> {
        let (velocity, denoiser, interpolant, diffusion) = (
            self.velocity,
            self.denoiser,
            &self.interpolant,
            self.diffusion,
        );
        if !(0.0 <= t0 && t0 < t1 && t1 <= 1.0) {
            return Err(Error::config(
                "t_span",
                format!("({t0}, {t1})"),
                "integrate forward inside [0, 1]",
            ));
        }
        if steps == 0 {
            return Err(Error::config("steps", 0, "take at least one step"));
        }
        if !(diffusion >= 0.0 && diffusion.is_finite()) {
            return Err(Error::config(
                "diffusion",
                diffusion,
                "must be finite and >= 0",
            ));
        }
        interpolant.validate()?;
        let min_gamma = (0..=steps)
            .map(|k| {
                interpolant
                    .gamma(t0 + (t1 - t0) * k as f64 / steps as f64)
                    .0
            })
            .fold(f64::INFINITY, f64::min);
        if diffusion > 0.0 && (min_gamma.is_nan() || min_gamma <= 0.0) {
            return Err(Error::config(
                "t_span",
                format!("({t0}, {t1})"),
                "γ(t) vanishes on the span, so the score -η/γ is undefined: keep away from the bridge's end points or use diffusion = 0",
            ));
        }
        let drift = |t: &Time, y: &Tensor<2>| {
            let s = t.shared().expect("fixed shared steps");
            let tt = t.broadcast(y);
            let b = velocity.eval(y.clone(), tt.clone());
            if diffusion > 0.0 {
                let (g, _) = interpolant.gamma(s);
                b - denoiser.eval(y.clone(), tt).mul_scalar(diffusion / g)
            } else {
                b
            }
        };
        let scale = (2.0 * diffusion).sqrt();
        let noise =
            DiagonalNoise::new(move |_t: &Time, y: &Tensor<2>| y.ones_like().mul_scalar(scale));
        let term = SdeTerm::ito(drift, noise).with_additive_noise();
        let dt = (t1 - t0) / steps as f64;
        let brownian = VirtualBrownianTree::new((t0, t1), x.dims(), seed, dt / 2.0)?;
        let solution = sde::solve(
            &term,
            &EulerMaruyama,
            (t0, t1),
            x,
            &brownian,
            &SdeOptions::fixed(dt),
        )?;
        Ok(solution.last().clone())
    }
}
