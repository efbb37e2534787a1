//! The closed-form flow between two Gaussians under independent coupling: for
//! `x_t = α x₀ + β x₁ + γ z` with `x₀ ~ N(m₀, Σ₀)`, `x₁ ~ N(m₁, Σ₁)`, `z ~ N(0, I)` independent,
//! `x_t ~ N(μ_t, Σ_t)` and the minimiser of the flow-matching loss is the affine field
//! `v(x, t) = μ′_t + C_t Σ_t⁻¹ (x - μ_t)` with `C_t = αα′Σ₀ + ββ′Σ₁ + γγ′I`; the denoiser is
//! `E[z | x_t = x] = γ Σ_t⁻¹ (x - μ_t)`.

use burn::tensor::{Tensor, TensorData};

use super::interpolant::Interpolant;
use crate::data::Gaussian;
use crate::linalg::{identity, inv_spd, matmul};
use crate::{Error, Result};

/// The exact marginal velocity and denoiser between two Gaussians (the tests' oracle).
#[derive(Debug, Clone)]
pub struct GaussianFlow {
    source: Gaussian,
    target: Gaussian,
    interpolant: Interpolant,
}

impl GaussianFlow {
    /// The flow from `source` to `target` along `interpolant`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for different dimensions; as [`Interpolant::validate`].
    pub fn new(source: Gaussian, target: Gaussian, interpolant: Interpolant) -> Result<Self> {
        if source.dim() != target.dim() {
            return Err(Error::shape(
                "GaussianFlow",
                format!("dimension {}", source.dim()),
                &[target.dim()],
            ));
        }
        interpolant.validate()?;
        Ok(Self {
            source,
            target,
            interpolant,
        })
    }

    fn dim(&self) -> usize {
        self.source.dim()
    }

    /// The law of `x_t`, `N(μ_t, Σ_t)`.
    ///
    /// # Errors
    /// [`Error::Numerical`] when `Σ_t` is singular (e.g. point masses without latent noise).
    pub fn marginal(&self, t: f64) -> Result<Gaussian> {
        let d = self.dim();
        let (a, b, _, _) = self.interpolant.coefficients(t);
        let (g, _) = self.interpolant.gamma(t);
        let eye = identity(d);
        let mean = (0..d)
            .map(|i| a * self.source.mean[i] + b * self.target.mean[i])
            .collect();
        let cov = (0..d * d)
            .map(|k| a * a * self.source.cov[k] + b * b * self.target.cov[k] + g * g * eye[k])
            .collect();
        Gaussian::new(mean, cov)
    }

    /// The velocity as `v(x) = A x + c` at time `t`: `(A` row-major `[d, d]`, `c [d])`.
    ///
    /// # Errors
    /// As [`GaussianFlow::marginal`].
    pub fn velocity_affine(&self, t: f64) -> Result<(Vec<f64>, Vec<f64>)> {
        let d = self.dim();
        let (a, b, da, db) = self.interpolant.coefficients(t);
        let (g, dg) = self.interpolant.gamma(t);
        let marginal = self.marginal(t)?;
        let inv = inv_spd(&marginal.cov, d)?;
        let eye = identity(d);
        let c_t: Vec<f64> = (0..d * d)
            .map(|k| a * da * self.source.cov[k] + b * db * self.target.cov[k] + g * dg * eye[k])
            .collect();
        let lin = matmul(&c_t, &inv, d, d, d);
        let shift: Vec<f64> = (0..d)
            .map(|i| {
                let dmu = da * self.source.mean[i] + db * self.target.mean[i];
                dmu - (0..d)
                    .map(|j| lin[i * d + j] * marginal.mean[j])
                    .sum::<f64>()
            })
            .collect();
        Ok((lin, shift))
    }

    /// The denoiser `E[z | x_t = x] = A x + c` at time `t`.
    ///
    /// # Errors
    /// As [`GaussianFlow::marginal`].
    pub fn denoiser_affine(&self, t: f64) -> Result<(Vec<f64>, Vec<f64>)> {
        let d = self.dim();
        let (g, _) = self.interpolant.gamma(t);
        let marginal = self.marginal(t)?;
        let lin: Vec<f64> = inv_spd(&marginal.cov, d)?.iter().map(|v| g * v).collect();
        let shift = (0..d)
            .map(|i| {
                -(0..d)
                    .map(|j| lin[i * d + j] * marginal.mean[j])
                    .sum::<f64>()
            })
            .collect();
        Ok((lin, shift))
    }

    /// The exact velocity on tensors, `v(x, t)`, for the samplers (`t: [batch, 1]`; each row
    /// may have its own time).
    ///
    /// # Shapes
    /// `x: [batch, dim]`, `t: [batch, 1]` -> `[batch, dim]`
    ///
    /// # Panics
    /// When `Σ_t` is singular at a requested time (check [`GaussianFlow::marginal`] first).
    pub fn velocity(&self, x: Tensor<2>, t: Tensor<2>) -> Tensor<2> {
        apply_affine(x, t, |s| {
            self.velocity_affine(s).expect("Σ_t must be invertible")
        })
    }
}

impl GaussianFlow {
    /// The exact denoiser `E[z | x_t = x]` on tensors (rows may have their own times).
    ///
    /// # Shapes
    /// `x: [batch, dim]`, `t: [batch, 1]` -> `[batch, dim]`
    ///
    /// # Panics
    /// When `Σ_t` is singular at a requested time.
    pub fn denoiser(&self, x: Tensor<2>, t: Tensor<2>) -> Tensor<2> {
        apply_affine(x, t, |s| {
            self.denoiser_affine(s).expect("Σ_t must be invertible")
        })
    }
}

/// Applies the time-dependent affine map `x ↦ A(t) x + c(t)` row by row (one matmul when the
/// batch shares its time).
pub(crate) fn apply_affine(
    x: Tensor<2>,
    t: Tensor<2>,
    affine: impl Fn(f64) -> (Vec<f64>, Vec<f64>),
) -> Tensor<2> {
    let [n, d] = x.dims();
    let device = x.device();
    let times = kiln_core::tensor::to_f64_vec(t);
    if times.iter().all(|s| *s == times[0]) {
        let (a, c) = affine(times[0]);
        let at = Tensor::<2>::from_data(
            TensorData::new(crate::linalg::transpose(&a, d, d), [d, d]),
            &device,
        );
        let c = Tensor::<2>::from_data(TensorData::new(c, [1, d]), &device);
        return x.matmul(at) + c;
    }
    let xs = kiln_core::tensor::to_f64_vec(x);
    let mut out = Vec::with_capacity(n * d);
    for (r, &s) in times.iter().enumerate() {
        let (a, c) = affine(s);
        for i in 0..d {
            out.push(c[i] + (0..d).map(|j| a[i * d + j] * xs[r * d + j]).sum::<f64>());
        }
    }
    Tensor::from_data(TensorData::new(out, [n, d]), &device)
}
