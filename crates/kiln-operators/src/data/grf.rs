//! Gaussian random fields on periodic 1-D and 2-D domains, sampled spectrally with a
//! Matérn-type (power-law) spectrum.
//!
//! A sample on the unit period is a finite Fourier series whose mode `k` has the standard deviation
//! `λ_k = σ (4π²|k|² + τ²)^(-α/2)`, i.e. the covariance operator is `σ² (-Δ + τ²)^(-α)` on mean-zero
//! periodic functions (FNO's `N(0, 625 (-Δ + 25 I)^-2)` is `σ = 25, τ = 5, α = 2`). Samples are
//! kept as coefficients, so they can be evaluated at any resolution, differentiated, integrated
//! and propagated by the heat semigroup exactly.

use std::f64::consts::{PI, SQRT_2};

use burn::config::Config;
use kiln_core::rng::Rng;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

use crate::Error;

/// Spectrum of a periodic Gaussian random field.
#[derive(Config, Debug, PartialEq)]
pub struct GrfConfig {
    /// Smoothness exponent α (> d/2 for a field with finite variance).
    #[config(default = 2.0)]
    pub alpha: f64,
    /// Inverse length scale τ (> 0).
    #[config(default = 3.0)]
    pub tau: f64,
    /// Amplitude σ.
    #[config(default = 1.0)]
    pub sigma: f64,
    /// Highest frequency kept along each axis (|k_i| <= modes).
    #[config(default = 32)]
    pub modes: usize,
}

impl GrfConfig {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a non-positive or non-finite α, τ, σ or zero modes.
    pub fn validate(&self) -> crate::Result<()> {
        for (field, v) in [
            ("alpha", self.alpha),
            ("tau", self.tau),
            ("sigma", self.sigma),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::config(field, v, "must be a positive finite number"));
            }
        }
        if self.modes == 0 {
            return Err(Error::config("modes", 0, "keep at least one Fourier mode"));
        }
        Ok(())
    }

    /// Standard deviation of the coefficient of frequency `k` (`|k|² = k2`).
    fn lambda(&self, k2: f64) -> f64 {
        self.sigma * (4.0 * PI * PI * k2 + self.tau * self.tau).powf(-self.alpha / 2.0)
    }

    /// Draws a 1-D field `u(x) = Σ_k √2 λ_k (ξ_k cos 2πkx + η_k sin 2πkx)`, `k = 1..=modes`.
    ///
    /// # Errors
    /// As [`GrfConfig::validate`].
    pub fn sample_1d(&self, rng: &mut Rng) -> crate::Result<Fourier1d> {
        self.validate()?;
        let (mut a, mut b) = (
            Vec::with_capacity(self.modes),
            Vec::with_capacity(self.modes),
        );
        for k in 1..=self.modes {
            let l = SQRT_2 * self.lambda((k * k) as f64);
            a.push(l * rng.normal());
            b.push(l * rng.normal());
        }
        Ok(Fourier1d { a, b })
    }

    /// Draws a 2-D field `u = Re Σ_k λ_k (ξ_k + i η_k) e^{2πi k·x}` over `|k1|, |k2| <= modes`,
    /// `k ≠ 0`; its pointwise variance is `Σ_k λ_k²`.
    ///
    /// # Errors
    /// As [`GrfConfig::validate`].
    pub fn sample_2d(&self, rng: &mut Rng) -> crate::Result<Fourier2d> {
        self.validate()?;
        let m = self.modes as i64;
        let side = 2 * self.modes + 1;
        let mut coef = vec![Complex64::new(0.0, 0.0); side * side];
        for k1 in -m..=m {
            for k2 in -m..=m {
                if k1 == 0 && k2 == 0 {
                    continue;
                }
                let l = self.lambda((k1 * k1 + k2 * k2) as f64);
                let idx = (k1 + m) as usize * side + (k2 + m) as usize;
                coef[idx] = Complex64::new(l * rng.normal(), l * rng.normal());
            }
        }
        Ok(Fourier2d {
            modes: self.modes,
            coef,
        })
    }
}

/// A real trigonometric polynomial of period 1 with zero mean:
/// `u(x) = Σ_{k>=1} a_k cos 2πkx + b_k sin 2πkx` (`a[k-1]`, `b[k-1]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Fourier1d {
    /// Cosine coefficients for k = 1, 2, ...
    pub a: Vec<f64>,
    /// Sine coefficients for k = 1, 2, ...
    pub b: Vec<f64>,
}

impl Fourier1d {
    fn terms(&self) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        self.a
            .iter()
            .zip(&self.b)
            .enumerate()
            .map(|(i, (&a, &b))| (2.0 * PI * (i + 1) as f64, a, b))
    }

    /// `u(x)`.
    pub fn eval(&self, x: f64) -> f64 {
        self.terms()
            .map(|(w, a, b)| a * (w * x).cos() + b * (w * x).sin())
            .sum()
    }

    /// `u'(x)`.
    pub fn derivative(&self, x: f64) -> f64 {
        self.terms()
            .map(|(w, a, b)| w * (b * (w * x).cos() - a * (w * x).sin()))
            .sum()
    }

    /// The antiderivative `∫_0^x u(s) ds`, exactly.
    pub fn antiderivative(&self, x: f64) -> f64 {
        self.terms()
            .map(|(w, a, b)| (a * (w * x).sin() + b * (1.0 - (w * x).cos())) / w)
            .sum()
    }

    /// The solution at time `t` of the periodic heat equation `v_t = ν v_xx` with `v(0) = u`.
    pub fn heat(&self, nu: f64, t: f64) -> Fourier1d {
        let decay: Vec<f64> = self
            .terms()
            .map(|(w, _, _)| (-nu * w * w * t).exp())
            .collect();
        Fourier1d {
            a: self.a.iter().zip(&decay).map(|(a, d)| a * d).collect(),
            b: self.b.iter().zip(&decay).map(|(b, d)| b * d).collect(),
        }
    }

    /// Values on the periodic grid `x_j = j / n`, by an inverse FFT (direct sums when the series
    /// has frequencies at or above `n / 2`, which the grid cannot represent without aliasing).
    pub fn on_grid(&self, n: usize) -> Vec<f64> {
        if 2 * self.a.len() >= n {
            return (0..n).map(|j| self.eval(j as f64 / n as f64)).collect();
        }
        let mut spec = vec![Complex64::new(0.0, 0.0); n];
        for (i, (&a, &b)) in self.a.iter().zip(&self.b).enumerate() {
            let k = i + 1;
            spec[k] = Complex64::new(a / 2.0, -b / 2.0);
            spec[n - k] = spec[k].conj();
        }
        FftPlanner::new().plan_fft_inverse(n).process(&mut spec);
        spec.into_iter().map(|c| c.re).collect()
    }
}

/// A real zero-mean trigonometric polynomial on the unit torus,
/// `u(x, y) = Re Σ c_k e^{2πi (k1 x + k2 y)}` over `|k1|, |k2| <= modes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fourier2d {
    /// Highest frequency per axis.
    pub modes: usize,
    /// Coefficients, row `k1 + modes`, column `k2 + modes`.
    pub coef: Vec<Complex64>,
}

impl Fourier2d {
    /// Values at the tensor grid `xs × ys`, row-major with `x` fastest: `out[iy * xs.len() + ix]`.
    pub fn at_grid(&self, xs: &[f64], ys: &[f64]) -> Vec<f64> {
        let m = self.modes as i64;
        let side = 2 * self.modes + 1;
        let phase = |k: i64, x: f64| Complex64::from_polar(1.0, 2.0 * PI * k as f64 * x);
        let mut out = Vec::with_capacity(xs.len() * ys.len());
        let ex: Vec<Vec<Complex64>> = xs
            .iter()
            .map(|&x| (-m..=m).map(|k| phase(k, x)).collect())
            .collect();
        for &y in ys {
            let ey: Vec<Complex64> = (-m..=m).map(|k| phase(k, y)).collect();
            // g(k1) = Σ_k2 c(k1, k2) e^{2πi k2 y}
            let g: Vec<Complex64> = (0..side)
                .map(|r| {
                    self.coef[r * side..(r + 1) * side]
                        .iter()
                        .zip(&ey)
                        .map(|(c, e)| c * e)
                        .sum()
                })
                .collect();
            for e in &ex {
                out.push(g.iter().zip(e).map(|(g, e)| (g * e).re).sum());
            }
        }
        out
    }

    /// Values on the periodic grid `x_j = j / n` in both axes.
    pub fn on_grid(&self, n: usize) -> Vec<f64> {
        let xs: Vec<f64> = (0..n).map(|j| j as f64 / n as f64).collect();
        self.at_grid(&xs, &xs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fft_grid_matches_the_direct_sum_and_calculus_identities_hold() {
        let grf = GrfConfig::new().with_modes(8);
        let u = grf.sample_1d(&mut Rng::new(3)).unwrap();
        let grid = u.on_grid(64);
        for (j, v) in grid.iter().enumerate() {
            assert!((v - u.eval(j as f64 / 64.0)).abs() < 1e-12);
        }
        // d/dx antiderivative = u, by a central difference.
        let (x, h) = (0.37, 1e-5);
        let fd = (u.antiderivative(x + h) - u.antiderivative(x - h)) / (2.0 * h);
        assert!((fd - u.eval(x)).abs() < 1e-7, "{fd} vs {}", u.eval(x));
        let fd = (u.eval(x + h) - u.eval(x - h)) / (2.0 * h);
        assert!((fd - u.derivative(x)).abs() < 1e-5);
        assert_eq!(u.antiderivative(0.0), 0.0);
    }

    #[test]
    fn the_sample_variance_matches_the_spectrum() {
        let grf = GrfConfig::new().with_modes(6).with_tau(2.0);
        let expected_1d: f64 = (1..=6)
            .map(|k| 2.0 * grf.lambda((k * k) as f64).powi(2))
            .sum();
        let mut rng = Rng::new(11);
        let n = 4000;
        let v1: f64 = (0..n)
            .map(|_| grf.sample_1d(&mut rng).unwrap().eval(0.3).powi(2))
            .sum::<f64>()
            / n as f64;
        assert!((v1 / expected_1d - 1.0).abs() < 0.08, "{v1} {expected_1d}");
        let m = 6i64;
        let expected_2d: f64 = (-m..=m)
            .flat_map(|a| (-m..=m).map(move |b| (a * a + b * b) as f64))
            .filter(|&k2| k2 > 0.0)
            .map(|k2| grf.lambda(k2).powi(2))
            .sum();
        let v2: f64 = (0..n)
            .map(|_| grf.sample_2d(&mut rng).unwrap().at_grid(&[0.2], &[0.7])[0].powi(2))
            .sum::<f64>()
            / n as f64;
        assert!((v2 / expected_2d - 1.0).abs() < 0.08, "{v2} {expected_2d}");
    }

    #[test]
    fn bad_spectra_are_rejected() {
        assert!(GrfConfig::new().with_tau(0.0).validate().is_err());
        assert!(GrfConfig::new().with_alpha(f64::NAN).validate().is_err());
        assert!(GrfConfig::new().with_modes(0).validate().is_err());
    }
}
