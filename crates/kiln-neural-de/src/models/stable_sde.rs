//! The three stable neural SDE classes of Oh, Lim and Kim ("Stable Neural Stochastic
//! Differential Equations in Analyzing Irregular Time Series Data", ICLR 2024), with their
//! stability conditions built into the architecture.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use kiln_core::jet::Activation;
use kiln_core::{Mlp, MlpConfig};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::sde::{DiagonalNoise, SdeTerm};
use crate::term::{Time, VectorField};

/// Which stable class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StableClass {
    /// `dz = γ(z) dt + σ(t) dW`.
    Langevin,
    /// `dz = γ(t, z) dt + σ(t) z dW`.
    LinearNoise,
    /// `dz = γ(t, z) z dt + σ(t) z dW`.
    Geometric,
}

/// Configuration of a [`StableSde`].
#[derive(Config, Debug)]
pub struct StableSdeConfig {
    /// The class.
    pub class: StableClass,
    /// Dimension of the state.
    pub state: usize,
    /// Hidden widths of the drift and diffusion networks.
    pub hidden: Vec<usize>,
    /// Activation of the drift network: Lipschitz-1 ones (tanh, sine, sigmoid, softplus) keep
    /// [`StableSde::lipschitz_bound`] a bound.
    #[config(default = "Activation::Tanh")]
    pub activation: Activation,
}

impl StableSdeConfig {
    /// Builds the model on `device`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a zero state or hidden width.
    pub fn init(&self, device: &Device) -> crate::Result<StableSde> {
        if self.state == 0 || self.hidden.contains(&0) {
            return Err(Error::option(
                "state/hidden",
                format!("{} / {:?}", self.state, self.hidden),
                "every width must be at least 1",
            ));
        }
        let time_in_drift = usize::from(self.class != StableClass::Langevin);
        let sizes = |input: usize| {
            let mut s = vec![input];
            s.extend(&self.hidden);
            s.push(self.state);
            s
        };
        Ok(StableSde {
            drift: MlpConfig::new(sizes(self.state + time_in_drift))
                .with_activation(self.activation)
                .init(device)?,
            sigma: MlpConfig::new(sizes(1))
                .with_activation(Activation::Tanh)
                .init(device)?,
            class: self.class,
        })
    }
}

/// A stable neural SDE (Itô) of one of the three classes of Oh, Lim and Kim (ICLR 2024):
///
/// | class | drift | diffusion |
/// |---|---|---|
/// | Langevin-type (LSDE) | `γ(z)` | `σ(t)` (additive) |
/// | linear noise (LNSDE) | `γ(t, z)` | `σ(t) ⊙ z` |
/// | geometric (GSDE) | `γ(t, z) ⊙ z` | `σ(t) ⊙ z` |
///
/// By construction: `γ` is an MLP with 1-Lipschitz activations, hence globally Lipschitz with
/// constant at most `Π ‖Wᵢ‖_F` ([`StableSde::lipschitz_bound`]) and of linear growth; `σ(t)` ends
/// in a sigmoid, so `0 < σ < 1` (bounded diffusion); the LSDE's drift does not see `t` and its
/// diffusion does not see `z`; the LNSDE's diffusion is linear in `z`; the GSDE's drift and
/// diffusion vanish at `z = 0`, so `z = 0` is an equilibrium and, in exact arithmetic, paths
/// started positive stay positive (`log z` follows an SDE with bounded diffusion).
#[derive(Module, Debug)]
pub struct StableSde {
    /// The drift network `γ`.
    pub drift: Mlp,
    /// The diffusion network before its sigmoid, `t -> σ(t)`.
    pub sigma: Mlp,
    #[module(skip)]
    class: StableClass,
}

impl StableSde {
    /// The class.
    pub fn class(&self) -> StableClass {
        self.class
    }

    /// `γ` as the class uses it (`γ(z)`, or `γ(t, z)`).
    ///
    /// # Shapes
    /// `z: [batch, n] -> [batch, n]`
    pub fn gamma(&self, t: &Time, z: &Tensor<2>) -> Tensor<2> {
        match self.class {
            StableClass::Langevin => self.drift.forward(z.clone()),
            _ => self
                .drift
                .forward(Tensor::cat(vec![z.clone(), t.broadcast(z)], 1)),
        }
    }

    /// `σ(t) ∈ (0, 1)`, one value per state dimension.
    ///
    /// # Shapes
    /// `like: [batch, n] -> [batch, n]`
    pub fn sigma(&self, t: &Time, like: &Tensor<2>) -> Tensor<2> {
        Activation::Sigmoid.forward(self.sigma.forward(t.broadcast(like)))
    }

    /// The drift `f(t, z)`.
    ///
    /// # Shapes
    /// `z: [batch, n] -> [batch, n]`
    pub fn drift(&self, t: &Time, z: &Tensor<2>) -> Tensor<2> {
        let gamma = self.gamma(t, z);
        match self.class {
            StableClass::Geometric => gamma.mul(z.clone()),
            _ => gamma,
        }
    }

    /// The diagonal diffusion `g(t, z)`.
    ///
    /// # Shapes
    /// `z: [batch, n] -> [batch, n]`
    pub fn diffusion(&self, t: &Time, z: &Tensor<2>) -> Tensor<2> {
        let sigma = self.sigma(t, z);
        match self.class {
            StableClass::Langevin => sigma,
            _ => sigma.mul(z.clone()),
        }
    }

    /// An upper bound of the drift network's Lipschitz constant, `Π ‖Wᵢ‖_F` (activations
    /// 1-Lipschitz); for the GSDE it bounds `γ`, not `γ z`.
    pub fn lipschitz_bound(&self) -> f64 {
        self.drift
            .layers
            .iter()
            .map(|l| l.weight.val().square().sum().sqrt().into_scalar::<f64>())
            .product()
    }

    /// The model as an Itô [`SdeTerm`] for [`crate::sde::solve`] (additive for the LSDE).
    pub fn term(&self) -> SdeTerm<StableDrift<'_>, DiagonalNoise<StableDiffusion<'_>>> {
        let term = SdeTerm::ito(StableDrift(self), DiagonalNoise::new(StableDiffusion(self)));
        if self.class == StableClass::Langevin {
            term.with_additive_noise()
        } else {
            term
        }
    }

    /// Mean negative log-likelihood of observed transitions `z_k -> z_{k+1}` over `dt` under the
    /// model's Euler-Maruyama transition density `N(z_k + f dt, g² dt)` (the pseudo-likelihood
    /// for fitting drift and diffusion to finely sampled paths), without the constant.
    ///
    /// # Shapes
    /// `t: [batch]` times of `z_k`, `z`, `z_next: [batch, n] -> [1]`
    pub fn transition_nll(
        &self,
        t: Tensor<1>,
        z: Tensor<2>,
        z_next: Tensor<2>,
        dt: f64,
    ) -> Tensor<1> {
        let time = Time::PerSample(t);
        let mean = z.clone().add(self.drift(&time, &z).mul_scalar(dt));
        let var = self.diffusion(&time, &z).square().mul_scalar(dt);
        let residual = z_next.sub(mean).square().div(var.clone().mul_scalar(2.0));
        residual.add(var.log().mul_scalar(0.5)).mean()
    }
}

/// The drift of a [`StableSde`] as a vector field.
#[derive(Clone, Copy, Debug)]
pub struct StableDrift<'a>(pub &'a StableSde);

impl VectorField<2> for StableDrift<'_> {
    fn eval(&self, t: &Time, z: &Tensor<2>) -> Tensor<2> {
        self.0.drift(t, z)
    }
}

/// The diagonal diffusion of a [`StableSde`] as a vector field.
#[derive(Clone, Copy, Debug)]
pub struct StableDiffusion<'a>(pub &'a StableSde);

impl VectorField<2> for StableDiffusion<'_> {
    fn eval(&self, t: &Time, z: &Tensor<2>) -> Tensor<2> {
        self.0.diffusion(t, z)
    }
}
