//! SRA1 (Rößler 2010): a two-stage stochastic Runge-Kutta method of strong order 1.5 for
//! additive noise, using the Brownian increment and the space-time Lévy area of every step.

use burn::tensor::Tensor;

use super::solver::{SdeSolver, StepNoise, eval_both};
use super::term::{Diffusion, SdeTerm};
use crate::term::{Time, VectorField};
use crate::{Error, Result};

/// SRA1 for `dy = f(t, y) dt + g(t) dW` (additive noise; Itô and Stratonovich coincide).
///
/// With `W = W_{t₀,t₁}`, `H = H_{t₀,t₁}`, `h = t₁ - t₀`, `g₀ = g(t₀)`, `g₁ = g(t₁)`:
/// `z = y₀ + ¾ h f(t₀, y₀) + g₀ (¾ W + 3/2 H)`,
/// `y₁ = y₀ + h (⅓ f(t₀, y₀) + ⅔ f(t₀ + ¾h, z)) + g₀ W + (g₁ - g₀)(W/2 - H)`,
/// where the last term integrates the time dependence of `g` (`∫ (r - t₀) dW = h (W/2 - H)`).
/// Strong order 1.5; on ODEs (`g = 0`) it is the second-order Runge-Kutta method with `c₂ = ¾`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sra1;

impl SdeSolver for Sra1 {
    type State = ();

    fn name(&self) -> String {
        "SRA1".into()
    }

    fn strong_order(&self) -> f64 {
        1.5
    }

    fn needs_levy_area(&self) -> bool {
        true
    }

    fn check<F: VectorField<2>, G: Diffusion>(&self, term: &SdeTerm<F, G>) -> Result<()> {
        if !term.additive {
            return Err(Error::Unsupported {
                solver: self.name(),
                what: "noise that is not declared additive".into(),
                advice: "declare g independent of y with SdeTerm::with_additive_noise, or use \
                         Milstein, Heun or EulerMaruyama for multiplicative noise"
                    .into(),
            });
        }
        Ok(())
    }

    /// Checks that `g(t0, y)` does not change when `y` does.
    fn init<F: VectorField<2>, G: Diffusion>(
        &self,
        term: &SdeTerm<F, G>,
        t0: f64,
        y0: &Tensor<2>,
        nfe: &mut usize,
    ) -> Result<()> {
        let time = Time::Shared(t0);
        let at_y0 = term.diffusion.eval(&time, y0);
        let moved = y0.clone().mul_scalar(2.0).add_scalar(1.0);
        let elsewhere = term.diffusion.eval(&time, &moved);
        *nfe += 2;
        let scale = at_y0.max_abs();
        let change = at_y0.combine(1.0, &elsewhere, -1.0).max_abs();
        if change.is_nan() || change > 1e-12 * scale.max(1.0) {
            return Err(Error::Unsupported {
                solver: self.name(),
                what: format!(
                    "a diffusion that depends on y (g changed by {change:e} when y moved)"
                ),
                advice: "SRA1 needs additive noise; use Milstein, Heun or EulerMaruyama".into(),
            });
        }
        Ok(())
    }

    fn step<F: VectorField<2>, G: Diffusion>(
        &self,
        term: &SdeTerm<F, G>,
        y0: &Tensor<2>,
        _state: (),
        noise: &StepNoise,
        nfe: &mut usize,
    ) -> Result<(Tensor<2>, ())> {
        let h_area = noise.levy_area(&self.name())?;
        let dt = noise.dt();
        let w = &noise.w;
        let (f1, g0) = eval_both(term, noise.t0, y0, nfe);
        let g1 = term.diffusion.eval(&Time::Shared(noise.t1), y0);
        *nfe += 1;
        let stage_noise = w
            .clone()
            .mul_scalar(0.75)
            .add(h_area.clone().mul_scalar(1.5));
        let z = y0
            .clone()
            .add(f1.clone().mul_scalar(0.75 * dt))
            .add(g0.prod(&stage_noise));
        let f2 = term.drift.eval(&Time::Shared(noise.t0 + 0.75 * dt), &z);
        *nfe += 1;
        let drift = f1.mul_scalar(dt / 3.0).add(f2.mul_scalar(2.0 * dt / 3.0));
        let time_correction = g1
            .combine(1.0, &g0, -1.0)
            .prod(&w.clone().mul_scalar(0.5).sub(h_area.clone()));
        let y1 = y0.clone().add(drift).add(g0.prod(w)).add(time_correction);
        Ok((y1, ()))
    }
}
