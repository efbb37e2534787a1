//! The interpolant `x_t = α(t) x₀ + β(t) x₁ + γ(t) z`: linear and trigonometric paths and the
//! latent noise scale γ(t), with their time derivatives.

use std::f64::consts::FRAC_PI_2;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The deterministic part `α(t) x₀ + β(t) x₁`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// `α = 1 - t`, `β = t`.
    Linear,
    /// `α = cos(πt/2)`, `β = sin(πt/2)` (variance preserving for independent unit Gaussians).
    Trigonometric,
}

/// The latent noise scale γ(t).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gamma {
    /// No latent noise: a deterministic interpolant.
    Zero,
    /// A constant `σ` (torchcfm's conditional flow matching).
    Constant {
        /// The noise level.
        sigma: f64,
    },
    /// `σ √(t(1-t))`: a Brownian bridge (SB-CFM; the stochastic interpolants' `√(a t(1-t))`
    /// with `a = σ²`).
    Bridge {
        /// The noise level.
        sigma: f64,
    },
}

/// A path and a latent noise scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interpolant {
    /// α and β.
    pub path: Path,
    /// γ.
    pub gamma: Gamma,
}

impl Interpolant {
    /// Checks the noise level.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a negative or non-finite `sigma`.
    pub fn validate(&self) -> Result<()> {
        match self.gamma {
            Gamma::Constant { sigma } | Gamma::Bridge { sigma }
                if !(sigma >= 0.0 && sigma.is_finite()) =>
            {
                Err(Error::config(
                    "gamma.sigma",
                    sigma,
                    "the noise level must be finite and >= 0",
                ))
            }
            _ => Ok(()),
        }
    }

    /// `(α, β, α′, β′)` at `t`.
    pub fn coefficients(&self, t: f64) -> (f64, f64, f64, f64) {
        match self.path {
            Path::Linear => (1.0 - t, t, -1.0, 1.0),
            Path::Trigonometric => {
                let (s, c) = (FRAC_PI_2 * t).sin_cos();
                (c, s, -FRAC_PI_2 * s, FRAC_PI_2 * c)
            }
        }
    }

    /// `(γ, γ′)` at `t`; γ′ is taken as 0 where γ vanishes (the bridge's end points).
    pub fn gamma(&self, t: f64) -> (f64, f64) {
        match self.gamma {
            Gamma::Zero => (0.0, 0.0),
            Gamma::Constant { sigma } => (sigma, 0.0),
            Gamma::Bridge { sigma } => {
                let v = t * (1.0 - t);
                if v <= 0.0 {
                    (0.0, 0.0)
                } else {
                    let r = v.sqrt();
                    (sigma * r, sigma * (1.0 - 2.0 * t) / (2.0 * r))
                }
            }
        }
    }
}
