//! EDM preconditioning (Karras et al. 2022): `D(x; σ) = c_skip x + c_out F(c_in x, c_noise)`
//! with `c_skip = σ_d²/(σ² + σ_d²)`, `c_out = σ σ_d/√(σ² + σ_d²)`, `c_in = 1/√(σ² + σ_d²)`,
//! `c_noise = ln(σ)/4`, `ln σ ~ N(P_mean, P_std²)`, and the loss weight that makes the
//! network's effective target `(x₀ - c_skip x)/c_out` unit-weighted.

use burn::tensor::{Device, Tensor, TensorData};
use kiln_core::rng::Rng;
use serde::{Deserialize, Serialize};

use super::dsm::DsmBatch;
use crate::model::TimeMlp;
use crate::{Error, Result, Samples};

/// EDM's preconditioning and noise distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EdmPrecond {
    /// The data's standard deviation σ_d (0.5 for images in [-1, 1]).
    pub sigma_data: f64,
    /// Mean of ln σ during training (-1.2).
    pub p_mean: f64,
    /// Standard deviation of ln σ during training (1.2).
    pub p_std: f64,
}

impl EdmPrecond {
    /// EDM's defaults with data scale `sigma_data`.
    pub fn new(sigma_data: f64) -> Self {
        Self {
            sigma_data,
            p_mean: -1.2,
            p_std: 1.2,
        }
    }

    /// `(c_skip, c_out, c_in, c_noise)` at noise level σ.
    pub fn coefficients(&self, sigma: f64) -> (f64, f64, f64, f64) {
        let sd = self.sigma_data;
        let v = sigma * sigma + sd * sd;
        (
            sd * sd / v,
            sigma * sd / v.sqrt(),
            1.0 / v.sqrt(),
            0.25 * sigma.ln(),
        )
    }

    /// EDM's loss weight `λ(σ) = (σ² + σ_d²)/(σ σ_d)²` on `|D - x₀|²`.
    pub fn loss_weight(&self, sigma: f64) -> f64 {
        let sd = self.sigma_data;
        (sigma * sigma + sd * sd) / (sigma * sd).powi(2)
    }

    fn validate(&self) -> Result<()> {
        if !(self.sigma_data > 0.0 && self.p_std > 0.0 && self.p_mean.is_finite()) {
            return Err(Error::config(
                "sigma_data, p_std",
                format!("{}, {}", self.sigma_data, self.p_std),
                "both must be positive (EDM: 0.5 and 1.2)",
            ));
        }
        Ok(())
    }

    /// The denoiser `D(x; σ)` of a network `F` (input `c_in x`, time input `c_noise`).
    ///
    /// # Shapes
    /// `x: [batch, dim]` -> `[batch, dim]`
    pub fn denoise(&self, model: &TimeMlp, x: Tensor<2>, sigma: f64) -> Tensor<2> {
        let (skip, out, cin, noise) = self.coefficients(sigma);
        let t = Tensor::full([x.dims()[0], 1], noise, &x.device());
        x.clone().mul_scalar(skip) + model.forward(x.mul_scalar(cin), t).mul_scalar(out)
    }

    /// A training batch for `F`: input `c_in x`, time input `c_noise`, target
    /// `(x₀ - c_skip x)/c_out` and weight `λ c_out² = 1`, with `x = x₀ + σ ε`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for non-positive scales; [`Error::ShapeMismatch`] for no data.
    pub fn batch(&self, x0: &Samples, rng: &mut Rng, device: &Device) -> Result<DsmBatch> {
        self.validate()?;
        if x0.is_empty() {
            return Err(Error::shape(
                "EdmPrecond::batch",
                "at least one point",
                &[0, x0.dim()],
            ));
        }
        let (n, d) = (x0.len(), x0.dim());
        let (mut ts, mut input, mut target, mut weight) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n * d),
            Vec::with_capacity(n * d),
            Vec::with_capacity(n),
        );
        for i in 0..n {
            let sigma = (self.p_mean + self.p_std * rng.normal()).exp();
            let (skip, out, cin, noise) = self.coefficients(sigma);
            ts.push(noise);
            for &v in x0.row(i) {
                let x = v + sigma * rng.normal();
                input.push(cin * x);
                target.push((v - skip * x) / out);
            }
            weight.push(self.loss_weight(sigma) * out * out);
        }
        let tensor = |v: Vec<f64>, w: usize| Tensor::from_data(TensorData::new(v, [n, w]), device);
        Ok(DsmBatch {
            t: tensor(ts, 1),
            xt: tensor(input, d),
            target: tensor(target, d),
            weight: tensor(weight, 1),
        })
    }
}

/// EDM's deterministic sampler: the probability-flow ODE `dx/dσ = (x - D(x; σ))/σ` on
/// Karras et al.'s noise grid `σ_i = (σ_max^{1/ρ} + i/(N-1) (σ_min^{1/ρ} - σ_max^{1/ρ}))^ρ`,
/// integrated through kiln-neural-de in the grid's parameter `u ∈ [0, 1]` with fixed steps
/// `1/(N-1)` (so Heun visits exactly the grid, EDM's Algorithm 1 without the final step to
/// σ = 0), then denoised once, `D(x; σ_min)`.
///
/// # Shapes
/// `x_max: [batch, dim]` (drawn from `N(0, σ_max² I)`, plus the data mean if any) ->
/// `[batch, dim]`
///
/// # Errors
/// [`Error::InvalidConfig`] for `0 < σ_min < σ_max`, `ρ > 0` or `steps ≥ 2` violated; the
/// solver's errors.
pub fn edm_sample(
    denoiser: impl Fn(Tensor<2>, f64) -> Tensor<2>,
    x_max: Tensor<2>,
    (sigma_min, sigma_max): (f64, f64),
    rho: f64,
    steps: usize,
    solver: &kiln_neural_de::ExplicitRk,
) -> Result<Tensor<2>> {
    if !(sigma_min > 0.0 && sigma_max > sigma_min && sigma_max.is_finite()) {
        return Err(Error::config(
            "sigma_min, sigma_max",
            format!("{sigma_min}, {sigma_max}"),
            "need 0 < sigma_min < sigma_max, e.g. 0.002 and 80",
        ));
    }
    if !(rho > 0.0 && rho.is_finite()) {
        return Err(Error::config("rho", rho, "must be positive (EDM: 7)"));
    }
    if steps < 2 {
        return Err(Error::config(
            "steps",
            steps,
            "the grid needs at least 2 noise levels, e.g. 18",
        ));
    }
    let (a, b) = (sigma_max.powf(1.0 / rho), sigma_min.powf(1.0 / rho));
    let sigma = |u: f64| (a + u * (b - a)).powf(rho);
    let dsigma = |u: f64| rho * (a + u * (b - a)).powf(rho - 1.0) * (b - a);
    let field = |t: &kiln_neural_de::Time, x: &Tensor<2>| {
        let u = t
            .shared()
            .expect("EDM sampling solves with BatchMode::Shared");
        let s = sigma(u);
        (x.clone() - denoiser(x.clone(), s)).mul_scalar(dsigma(u) / s)
    };
    let dt = 1.0 / (steps - 1) as f64;
    let solution = kiln_neural_de::solve(
        &field,
        solver,
        (0.0, 1.0),
        x_max,
        &kiln_neural_de::SolveOptions::fixed(dt),
    )?;
    Ok(denoiser(solution.last().clone(), sigma_min))
}
