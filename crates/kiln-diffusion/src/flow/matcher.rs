//! `FlowMatcher`: minibatch couplings (independent, exact OT, entropic OT) and the regression
//! targets of conditional flow matching and stochastic interpolants, built on the host.

use burn::config::Config;
use burn::tensor::{Device, Tensor, TensorData};
use kiln_core::rng::Rng;
use serde::{Deserialize, Serialize};

use super::interpolant::{Gamma, Interpolant, Path};
use crate::metrics::{Sinkhorn, assignment, squared_distances};
use crate::{Error, Samples};

/// How the pairs `(x₀, x₁)` of a minibatch are coupled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Coupling {
    /// `x₀[i]` with `x₁[i]`: the product of the marginals.
    Independent,
    /// `x₀[i]` with `x₁[σ(i)]`, `σ` the exact optimal assignment for squared distances.
    ExactOt,
    /// Pairs drawn (with replacement) from the entropic OT plan with regularisation `eps`
    /// (Sinkhorn in the log domain on squared distances).
    Entropic {
        /// The regularisation ε (SB-CFM uses 2σ²).
        eps: f64,
    },
}

/// Configuration of a [`FlowMatcher`].
#[derive(Config, Debug)]
pub struct FlowMatcherConfig {
    /// The minibatch coupling.
    pub coupling: Coupling,
    /// The interpolant between the pairs.
    pub interpolant: Interpolant,
    /// Sinkhorn iterations per batch for [`Coupling::Entropic`].
    #[config(default = 200)]
    pub sinkhorn_iters: usize,
}

impl FlowMatcherConfig {
    /// Independent conditional flow matching (I-CFM) with noise `sigma`.
    pub fn icfm(sigma: f64) -> Self {
        Self::new(
            Coupling::Independent,
            Interpolant {
                path: Path::Linear,
                gamma: Gamma::Constant { sigma },
            },
        )
    }

    /// Exact minibatch optimal-transport CFM with noise `sigma`.
    pub fn otcfm(sigma: f64) -> Self {
        Self::new(
            Coupling::ExactOt,
            Interpolant {
                path: Path::Linear,
                gamma: Gamma::Constant { sigma },
            },
        )
    }

    /// Schrödinger-bridge CFM: entropic plan with ε = 2σ² and a Brownian bridge of scale σ.
    pub fn sbcfm(sigma: f64) -> Self {
        Self::new(
            Coupling::Entropic {
                eps: 2.0 * sigma * sigma,
            },
            Interpolant {
                path: Path::Linear,
                gamma: Gamma::Bridge { sigma },
            },
        )
    }

    /// A stochastic interpolant with `path` and `γ(t) = √(a t(1-t))`, independent coupling.
    pub fn stochastic_interpolant(path: Path, a: f64) -> Self {
        Self::new(
            Coupling::Independent,
            Interpolant {
                path,
                gamma: Gamma::Bridge {
                    sigma: a.max(0.0).sqrt(),
                },
            },
        )
    }

    /// Builds the matcher.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a negative noise level, a non-positive ε, or zero Sinkhorn
    /// iterations.
    pub fn init(&self) -> crate::Result<FlowMatcher> {
        self.interpolant.validate()?;
        if let Coupling::Entropic { eps } = self.coupling
            && !(eps > 0.0 && eps.is_finite())
        {
            return Err(Error::config(
                "coupling.eps",
                eps,
                "entropic OT needs eps > 0 (SB-CFM needs sigma > 0); use ExactOt for eps = 0",
            ));
        }
        if self.sinkhorn_iters == 0 {
            return Err(Error::config(
                "sinkhorn_iters",
                0,
                "allow at least one iteration",
            ));
        }
        Ok(FlowMatcher {
            config: self.clone(),
        })
    }
}

/// Draws minibatch pairs and builds the flow-matching targets.
#[derive(Debug, Clone)]
pub struct FlowMatcher {
    config: FlowMatcherConfig,
}

/// One training batch: times, interpolated points and targets, on a device.
#[derive(Debug, Clone)]
pub struct FlowBatch {
    /// `t`, `[batch, 1]`.
    pub t: Tensor<2>,
    /// `x_t`, `[batch, dim]`.
    pub xt: Tensor<2>,
    /// The conditional velocity `α′x₀ + β′x₁ + γ′z`, `[batch, dim]`.
    pub velocity: Tensor<2>,
    /// The latent `z`, `[batch, dim]` (the target of a denoiser `η(x_t, t)`).
    pub noise: Tensor<2>,
}

/// Mean squared error over every element, `mean((a - b)²)` (torchcfm's loss).
///
/// # Shapes
/// `[batch, dim]`, `[batch, dim]` -> `[1]`
pub fn mse(prediction: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    (prediction - target).square().mean()
}

impl FlowMatcher {
    /// The configuration.
    pub fn config(&self) -> &FlowMatcherConfig {
        &self.config
    }

    /// The coupled index pairs `(i, j)` of `x₀[i]` and `x₁[j]`, as many as `x₀` has points.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for empty sets, different dimensions, or different sizes
    /// (allowed for the entropic coupling only).
    pub fn pairs(
        &self,
        x0: &Samples,
        x1: &Samples,
        rng: &mut Rng,
    ) -> crate::Result<Vec<(usize, usize)>> {
        // Only the entropic plan couples sets of different sizes.
        let same_len = !matches!(self.config.coupling, Coupling::Entropic { .. });
        x0.check_compatible(x1, same_len, "FlowMatcher::pairs")?;
        let n = x0.len();
        match self.config.coupling {
            Coupling::Independent => Ok((0..n).map(|i| (i, i)).collect()),
            Coupling::ExactOt => {
                let sigma = assignment(&squared_distances(x0, x1), n)?;
                Ok(sigma.into_iter().enumerate().collect())
            }
            Coupling::Entropic { eps } => {
                let plan = Sinkhorn {
                    eps,
                    max_iter: self.config.sinkhorn_iters,
                    tol: 1e-6,
                }
                .plan(&squared_distances(x0, x1), n, x1.len())?;
                Ok(plan.sample_pairs(n, rng))
            }
        }
    }

    /// A training batch from `x₀` (source) and `x₁` (target) samples with `t ~ U(0, 1)`.
    ///
    /// # Errors
    /// As [`FlowMatcher::pairs`].
    pub fn sample(
        &self,
        x0: &Samples,
        x1: &Samples,
        rng: &mut Rng,
        device: &Device,
    ) -> crate::Result<FlowBatch> {
        self.sample_at(x0, x1, None, rng, device)
    }

    /// A training batch at a fixed time `t` (or `t ~ U(0, 1)` for `None`).
    ///
    /// # Errors
    /// As [`FlowMatcher::pairs`], and [`Error::InvalidConfig`] for `t` outside `[0, 1]`.
    pub fn sample_at(
        &self,
        x0: &Samples,
        x1: &Samples,
        t: Option<f64>,
        rng: &mut Rng,
        device: &Device,
    ) -> crate::Result<FlowBatch> {
        if let Some(t) = t
            && !(0.0..=1.0).contains(&t)
        {
            return Err(Error::config("t", t, "times lie in [0, 1]"));
        }
        let pairs = self.pairs(x0, x1, rng)?;
        let (n, d) = (pairs.len(), x0.dim());
        let interpolant = self.config.interpolant;
        let (mut ts, mut xt, mut ut, mut zs) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n * d),
            Vec::with_capacity(n * d),
            Vec::with_capacity(n * d),
        );
        for &(i, j) in &pairs {
            let tk = t.unwrap_or_else(|| rng.uniform());
            let (a, b, da, db) = interpolant.coefficients(tk);
            let (g, dg) = interpolant.gamma(tk);
            ts.push(tk);
            for (p, q) in x0.row(i).iter().zip(x1.row(j)) {
                let z = if g != 0.0 || dg != 0.0 {
                    rng.normal()
                } else {
                    0.0
                };
                xt.push(a * p + b * q + g * z);
                ut.push(da * p + db * q + dg * z);
                zs.push(z);
            }
        }
        let tensor = |v: Vec<f64>, w: usize| Tensor::from_data(TensorData::new(v, [n, w]), device);
        Ok(FlowBatch {
            t: tensor(ts, 1),
            xt: tensor(xt, d),
            velocity: tensor(ut, d),
            noise: tensor(zs, d),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::LightSbConfig;
    use crate::model::{FieldActivation, TimeMlpConfig};
    use crate::score::{DsmConfig, ForwardSde, Prediction, Weighting};

    fn roundtrip<T: serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug>(
        value: &T,
    ) -> String {
        let json = serde_json::to_string(value).unwrap();
        let back: T = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json, "{value:?}");
        json
    }

    #[test]
    fn configs_round_trip_through_json_and_bad_ones_are_refused() {
        for config in [
            FlowMatcherConfig::icfm(0.1),
            FlowMatcherConfig::otcfm(0.0),
            FlowMatcherConfig::sbcfm(0.5),
            FlowMatcherConfig::stochastic_interpolant(Path::Trigonometric, 2.0),
        ] {
            roundtrip(&config);
            config.init().unwrap();
        }
        roundtrip(
            &TimeMlpConfig::new(3)
                .with_activation(FieldActivation::Tanh)
                .with_conditions(2),
        );
        roundtrip(
            &DsmConfig::new(ForwardSde::ve())
                .with_prediction(Prediction::V)
                .with_weighting(Weighting::MinSnr { gamma: 5.0 }),
        );
        roundtrip(&LightSbConfig::new(4, 0.5).with_rotation(true));
        let bad = FlowMatcherConfig::icfm(-1.0)
            .init()
            .unwrap_err()
            .to_string();
        assert!(bad.contains("-1"), "{bad}");
        assert!(
            FlowMatcherConfig::new(
                Coupling::Entropic { eps: 0.0 },
                FlowMatcherConfig::icfm(0.1).interpolant
            )
            .init()
            .is_err()
        );
        assert!(
            DsmConfig::new(ForwardSde::vp())
                .with_t_min(0.0)
                .validate()
                .is_err()
        );
    }
}
