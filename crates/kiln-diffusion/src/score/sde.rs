//! Forward noising processes `x_t = m(t) x₀ + s(t) ε` with linear drift `dx = f(t) x dt + g(t) dW`:
//! VP (linear β), sub-VP, VE (geometric σ), the cosine schedule, and discrete DDPM schedules.

use std::f64::consts::FRAC_PI_2;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A forward SDE with a Gaussian transition kernel `p(x_t | x₀) = N(m(t) x₀, s(t)² I)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ForwardSde {
    /// Variance preserving: `β(t) = β_min + t(β_max - β_min)`, `f = -β/2`, `g = √β`
    /// (score_sde: 0.1 -> 20).
    Vp {
        /// β(0).
        beta_min: f64,
        /// β(1).
        beta_max: f64,
    },
    /// Sub-variance preserving: the VP drift with `g² = β(1 - e^{-2∫β})`,
    /// `s = 1 - e^{-∫β}`.
    SubVp {
        /// β(0).
        beta_min: f64,
        /// β(1).
        beta_max: f64,
    },
    /// Variance exploding: `σ(t) = σ_min (σ_max/σ_min)^t`, no drift,
    /// `s(t)² = σ(t)² - σ_min²` (score_sde: 0.01 -> 50).
    Ve {
        /// σ(0).
        sigma_min: f64,
        /// σ(1).
        sigma_max: f64,
    },
    /// The cosine schedule `ᾱ(t) = cos²(π/2 (t+s)/(1+s)) / cos²(π/2 s/(1+s))` as a VP SDE with
    /// `β(t) = -d ln ᾱ/dt`, clipped at `beta_max` near t = 1.
    Cosine {
        /// The offset s (0.008 in Nichol and Dhariwal).
        offset: f64,
        /// Largest β (999/1000 per step in the discrete schedule; 20 here by default).
        beta_max: f64,
    },
}

impl ForwardSde {
    /// VP with β from 0.1 to 20.
    pub fn vp() -> Self {
        ForwardSde::Vp {
            beta_min: 0.1,
            beta_max: 20.0,
        }
    }

    /// Sub-VP with β from 0.1 to 20.
    pub fn sub_vp() -> Self {
        ForwardSde::SubVp {
            beta_min: 0.1,
            beta_max: 20.0,
        }
    }

    /// VE with σ from 0.01 to 50.
    pub fn ve() -> Self {
        ForwardSde::Ve {
            sigma_min: 0.01,
            sigma_max: 50.0,
        }
    }

    /// The cosine schedule with offset 0.008.
    pub fn cosine() -> Self {
        ForwardSde::Cosine {
            offset: 0.008,
            beta_max: 20.0,
        }
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for non-positive or unordered rates and scales.
    pub fn validate(&self) -> Result<()> {
        match *self {
            ForwardSde::Vp { beta_min, beta_max } | ForwardSde::SubVp { beta_min, beta_max } => {
                if !(beta_min > 0.0 && beta_max >= beta_min && beta_max.is_finite()) {
                    return Err(Error::config(
                        "beta_min, beta_max",
                        format!("{beta_min}, {beta_max}"),
                        "need 0 < beta_min <= beta_max, e.g. 0.1 and 20",
                    ));
                }
            }
            ForwardSde::Ve {
                sigma_min,
                sigma_max,
            } => {
                if !(sigma_min > 0.0 && sigma_max > sigma_min && sigma_max.is_finite()) {
                    return Err(Error::config(
                        "sigma_min, sigma_max",
                        format!("{sigma_min}, {sigma_max}"),
                        "need 0 < sigma_min < sigma_max, e.g. 0.01 and 50",
                    ));
                }
            }
            ForwardSde::Cosine { offset, beta_max } => {
                if !(offset > 0.0 && offset < 1.0 && beta_max > 0.0 && beta_max.is_finite()) {
                    return Err(Error::config(
                        "offset, beta_max",
                        format!("{offset}, {beta_max}"),
                        "need 0 < offset < 1 and beta_max > 0, e.g. 0.008 and 20",
                    ));
                }
            }
        }
        Ok(())
    }

    fn cosine_alpha_bar(offset: f64, t: f64) -> f64 {
        let f = |u: f64| (FRAC_PI_2 * (u + offset) / (1.0 + offset)).cos().powi(2);
        (f(t) / f(0.0)).clamp(0.0, 1.0)
    }

    /// `∫₀ᵗ β` for the VP family (the cosine schedule's `-ln ᾱ`, with the β clip applied).
    fn integrated_beta(&self, t: f64) -> f64 {
        match *self {
            ForwardSde::Vp { beta_min, beta_max } | ForwardSde::SubVp { beta_min, beta_max } => {
                beta_min * t + 0.5 * (beta_max - beta_min) * t * t
            }
            ForwardSde::Ve { .. } => 0.0,
            ForwardSde::Cosine { offset, beta_max } => {
                // Until β reaches its clip the integral is -ln ᾱ; after, it grows linearly.
                let knee = self.cosine_knee(offset, beta_max);
                if t <= knee {
                    -Self::cosine_alpha_bar(offset, t).ln()
                } else {
                    -Self::cosine_alpha_bar(offset, knee).ln() + beta_max * (t - knee)
                }
            }
        }
    }

    /// The time where the cosine schedule's β reaches `beta_max`.
    fn cosine_knee(&self, offset: f64, beta_max: f64) -> f64 {
        // β(t) = π/(1+s) tan(π/2 (t+s)/(1+s)).
        let c = std::f64::consts::PI / (1.0 + offset);
        let u = (beta_max / c).atan() / FRAC_PI_2;
        (u * (1.0 + offset) - offset).clamp(0.0, 1.0)
    }

    /// `β(t)` for the VP family.
    fn beta(&self, t: f64) -> f64 {
        match *self {
            ForwardSde::Vp { beta_min, beta_max } | ForwardSde::SubVp { beta_min, beta_max } => {
                beta_min + t * (beta_max - beta_min)
            }
            ForwardSde::Ve { .. } => 0.0,
            ForwardSde::Cosine { offset, beta_max } => {
                let c = std::f64::consts::PI / (1.0 + offset);
                (c * (FRAC_PI_2 * (t + offset) / (1.0 + offset)).tan()).min(beta_max)
            }
        }
    }

    /// `(m(t), s(t))`: the mean factor and standard deviation of `x_t` given `x₀`.
    pub fn marginal(&self, t: f64) -> (f64, f64) {
        match *self {
            ForwardSde::Vp { .. } | ForwardSde::Cosine { .. } => {
                let ib = self.integrated_beta(t);
                let m = (-0.5 * ib).exp();
                (m, (-(-ib).exp_m1()).max(0.0).sqrt())
            }
            ForwardSde::SubVp { .. } => {
                let ib = self.integrated_beta(t);
                ((-0.5 * ib).exp(), -(-ib).exp_m1())
            }
            ForwardSde::Ve {
                sigma_min,
                sigma_max,
            } => {
                let sigma = sigma_min * (sigma_max / sigma_min).powf(t);
                (1.0, (sigma * sigma - sigma_min * sigma_min).max(0.0).sqrt())
            }
        }
    }

    /// The drift factor `f(t)` (drift `f(t) x`) and the diffusion `g(t)`.
    pub fn coefficients(&self, t: f64) -> (f64, f64) {
        match *self {
            ForwardSde::Vp { .. } | ForwardSde::Cosine { .. } => {
                let b = self.beta(t);
                (-0.5 * b, b.sqrt())
            }
            ForwardSde::SubVp { .. } => {
                let b = self.beta(t);
                let ib = self.integrated_beta(t);
                (-0.5 * b, (b * -(-2.0 * ib).exp_m1()).max(0.0).sqrt())
            }
            ForwardSde::Ve {
                sigma_min,
                sigma_max,
            } => {
                let sigma = sigma_min * (sigma_max / sigma_min).powf(t);
                (0.0, sigma * (2.0 * (sigma_max / sigma_min).ln()).sqrt())
            }
        }
    }

    /// The standard deviation of the prior `N(0, σ² I)` the reverse process starts from at
    /// `t = 1` (1 for the VP family, `√(σ_max² - σ_min²)` for VE).
    pub fn prior_std(&self) -> f64 {
        match *self {
            ForwardSde::Ve { .. } => self.marginal(1.0).1,
            _ => 1.0,
        }
    }
}

/// A discrete DDPM schedule: `β₁ … β_N` and `ᾱ_k = Π_{i ≤ k} (1 - βᵢ)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DdpmSchedule {
    /// The per-step variances.
    pub betas: Vec<f64>,
    /// The cumulative products ᾱ_k (same length).
    pub alpha_bars: Vec<f64>,
}

impl DdpmSchedule {
    /// Ho et al.'s linear schedule: `n` steps from `beta_start` to `beta_end` (1000, 1e-4, 0.02).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `n == 0` or betas outside (0, 1).
    pub fn linear(n: usize, beta_start: f64, beta_end: f64) -> Result<Self> {
        if n == 0 {
            return Err(Error::config("n", 0, "use at least one step, e.g. 1000"));
        }
        let betas = (0..n)
            .map(|k| {
                if n == 1 {
                    beta_start
                } else {
                    beta_start + (beta_end - beta_start) * k as f64 / (n - 1) as f64
                }
            })
            .collect();
        Self::from_betas(betas)
    }

    /// The discrete cosine schedule of Nichol and Dhariwal (β clipped at 0.999).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `n == 0`.
    pub fn cosine(n: usize, offset: f64) -> Result<Self> {
        if n == 0 {
            return Err(Error::config("n", 0, "use at least one step, e.g. 1000"));
        }
        let f = |k: usize| {
            (FRAC_PI_2 * (k as f64 / n as f64 + offset) / (1.0 + offset))
                .cos()
                .powi(2)
        };
        let betas = (1..=n)
            .map(|k| (1.0 - f(k) / f(k - 1)).min(0.999))
            .collect();
        Self::from_betas(betas)
    }

    /// A schedule from its betas.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty list or a beta outside (0, 1).
    pub fn from_betas(betas: Vec<f64>) -> Result<Self> {
        if betas.is_empty() {
            return Err(Error::config("betas", "[]", "give at least one step"));
        }
        if let Some(b) = betas.iter().find(|b| !(**b > 0.0 && **b < 1.0)) {
            return Err(Error::config("betas", b, "every beta must lie in (0, 1)"));
        }
        let mut acc = 1.0;
        let alpha_bars = betas
            .iter()
            .map(|b| {
                acc *= 1.0 - b;
                acc
            })
            .collect();
        Ok(Self { betas, alpha_bars })
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.betas.len()
    }

    /// Whether the schedule is empty (never, once built).
    pub fn is_empty(&self) -> bool {
        self.betas.is_empty()
    }

    /// `(√ᾱ_k, √(1 - ᾱ_k))` for step `k` in `1..=N`; `k = 0` is the data (1, 0).
    pub fn marginal(&self, k: usize) -> (f64, f64) {
        if k == 0 {
            return (1.0, 0.0);
        }
        let a = self.alpha_bars[k - 1];
        (a.sqrt(), (1.0 - a).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// d/dt of m and s² against the SDE's coefficients: dm/dt = f m, ds²/dt = 2 f s² + g².
    #[test]
    fn marginals_solve_the_moment_equations() {
        for sde in [
            ForwardSde::vp(),
            ForwardSde::sub_vp(),
            ForwardSde::ve(),
            ForwardSde::cosine(),
        ] {
            sde.validate().unwrap();
            for &t in &[0.05, 0.3, 0.6, 0.9] {
                let h = 1e-6;
                let (m1, s1) = sde.marginal(t + h);
                let (m0, s0) = sde.marginal(t - h);
                let (m, s) = sde.marginal(t);
                let (f, g) = sde.coefficients(t);
                let dm = (m1 - m0) / (2.0 * h);
                let ds2 = (s1 * s1 - s0 * s0) / (2.0 * h);
                assert!(
                    (dm - f * m).abs() < 1e-5 * (1.0 + m.abs()),
                    "{sde:?} t={t}: dm {dm} vs {}",
                    f * m
                );
                let rhs = 2.0 * f * s * s + g * g;
                assert!(
                    (ds2 - rhs).abs() < 1e-5 * (1.0 + rhs.abs()),
                    "{sde:?} t={t}: ds² {ds2} vs {rhs}"
                );
            }
        }
        assert!(
            ForwardSde::Ve {
                sigma_min: 1.0,
                sigma_max: 0.5
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn ddpm_schedules_match_their_products() {
        let s = DdpmSchedule::linear(1000, 1e-4, 0.02).unwrap();
        let prod: f64 = s.betas.iter().map(|b| 1.0 - b).product();
        assert!((s.alpha_bars[999] - prod).abs() < 1e-15);
        // ᾱ_N ≈ exp(-Σβ) ≈ 4e-5 for Ho et al.'s schedule.
        assert!(s.alpha_bars[999] < 1e-4 && s.alpha_bars[999] > 1e-5);
        let c = DdpmSchedule::cosine(1000, 0.008).unwrap();
        let f = |u: f64| (FRAC_PI_2 * (u + 0.008) / 1.008).cos().powi(2);
        assert!((c.alpha_bars[499] - f(0.5) / f(0.0)).abs() < 1e-9);
        assert!(DdpmSchedule::linear(0, 1e-4, 0.02).is_err());
        assert!(DdpmSchedule::from_betas(vec![0.5, 1.0]).is_err());
    }
}
