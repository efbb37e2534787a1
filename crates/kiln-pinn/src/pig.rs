//! Physics-informed Gaussians (Kang et al. 2024, "PIG: Physics-Informed Gaussians as Adaptive
//! Parametric Mesh Representations"): a field is a light MLP read from a mixture of trainable
//! Gaussians, φ(x) = Σₖ fₖ exp(-½ Σⱼ ((xⱼ - μₖⱼ)/σₖⱼ)²), whose means and widths move during
//! training like an adaptive mesh. Jets are exact: the Gaussians' input derivatives are built
//! analytically with ordinary tensor ops, so reverse mode reaches μ, σ and f through u_xx.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor};
use kiln_core::jet::{Activation, Jet, SecondOrder};
use kiln_core::{Mlp, MlpConfig};

use crate::Error;
use crate::network::JetNetwork;

/// Configuration of a [`Pig`].
#[derive(Config, Debug)]
pub struct PigConfig {
    /// Number of input coordinates d.
    pub inputs: usize,
    /// Number of output fields.
    pub outputs: usize,
    /// Number of Gaussians K.
    pub gaussians: usize,
    /// Feature dimension F carried by each Gaussian.
    #[config(default = 4)]
    pub features: usize,
    /// Hidden width of the one-hidden-layer tanh MLP that reads the features.
    #[config(default = 16)]
    pub hidden: usize,
    /// Initial standard deviation σ of every Gaussian along every axis (in input units).
    #[config(default = 0.1)]
    pub sigma: f64,
    /// `[lo, hi]` per input: the box the initial means are drawn from uniformly
    /// (`None`: the unit cube).
    #[config(default = "None")]
    pub bounds: Option<Vec<[f64; 2]>>,
    /// Standard deviation of the initial feature vectors fₖ ~ N(0, s²).
    #[config(default = 1.0)]
    pub feature_std: f64,
}

/// A physics-informed Gaussian field u(x) = MLP(Σₖ fₖ gₖ(x)) with trainable Gaussians gₖ; built by
/// [`PigConfig::init`].
#[derive(Module, Debug)]
pub struct Pig {
    /// Means μ, `[gaussians, inputs]`.
    pub means: Param<Tensor<2>>,
    /// Log standard deviations log σ (a diagonal covariance, positive by `exp`),
    /// `[gaussians, inputs]`.
    pub log_scales: Param<Tensor<2>>,
    /// Feature vectors f, `[gaussians, features]`.
    pub features: Param<Tensor<2>>,
    /// The MLP from features to outputs, `[features, hidden, outputs]`.
    pub mlp: Mlp,
}

impl PigConfig {
    /// Builds the field: means uniform in the bounds, every σ at its initial value, features
    /// Gaussian, the MLP Glorot-normal.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero size, a non-positive σ or feature scale, or bounds that
    /// do not give one finite `lo < hi` pair per input.
    pub fn init(&self, device: &Device) -> crate::Result<Pig> {
        if self.inputs == 0
            || self.outputs == 0
            || self.gaussians == 0
            || self.features == 0
            || self.hidden == 0
        {
            return Err(Error::config(
                "sizes",
                format!(
                    "inputs {}, outputs {}, gaussians {}, features {}, hidden {}",
                    self.inputs, self.outputs, self.gaussians, self.features, self.hidden
                ),
                "every size must be at least 1",
            ));
        }
        if !(self.sigma > 0.0 && self.sigma.is_finite()) {
            return Err(Error::config(
                "sigma",
                self.sigma,
                "the initial width must be positive and finite",
            ));
        }
        if !(self.feature_std > 0.0 && self.feature_std.is_finite()) {
            return Err(Error::config(
                "feature_std",
                self.feature_std,
                "must be positive and finite",
            ));
        }
        let bounds = match &self.bounds {
            Some(b) => {
                if b.len() != self.inputs
                    || b.iter()
                        .any(|[lo, hi]| !(lo < hi && lo.is_finite() && hi.is_finite()))
                {
                    return Err(Error::config(
                        "bounds",
                        format!("{b:?}"),
                        format!("give {} finite [lo, hi] pairs with lo < hi", self.inputs),
                    ));
                }
                b.clone()
            }
            None => vec![[0.0, 1.0]; self.inputs],
        };
        let (k, d) = (self.gaussians, self.inputs);
        let lo: Vec<f64> = bounds.iter().map(|b| b[0]).collect();
        let width: Vec<f64> = bounds.iter().map(|b| b[1] - b[0]).collect();
        let lo = kiln_core::tensor::from_f64(&lo, [1, d], device)?;
        let width = kiln_core::tensor::from_f64(&width, [1, d], device)?;
        let means =
            Tensor::<2>::random([k, d], Distribution::Uniform(0.0, 1.0), device) * width + lo;
        let log_scales = Tensor::<2>::ones([k, d], device).mul_scalar(self.sigma.ln());
        let features = Tensor::<2>::random(
            [k, self.features],
            Distribution::Normal(0.0, self.feature_std),
            device,
        );
        let mlp = MlpConfig::new(vec![self.features, self.hidden, self.outputs])
            .with_activation(Activation::Tanh)
            .init(device)?;
        Ok(Pig {
            means: Param::from_tensor(means),
            log_scales: Param::from_tensor(log_scales),
            features: Param::from_tensor(features),
            mlp,
        })
    }
}

/// Products `a[i] * a[j]` over the second-derivative pairs of `order`, in the jet's storage
/// order (the diagonal, or the upper triangle row by row), along axis 0.
fn pair_products<const D: usize>(a: Tensor<D>, order: SecondOrder) -> Tensor<D> {
    let n = a.dims()[0];
    match order {
        SecondOrder::None | SecondOrder::Diagonal => a.square(),
        SecondOrder::Full => Tensor::cat(
            (0..n)
                .map(|i| a.clone().narrow(0, i, 1) * a.clone().narrow(0, i, n - i))
                .collect(),
            0,
        ),
    }
}

impl Pig {
    /// Number of Gaussians.
    pub fn gaussians(&self) -> usize {
        self.means.dims()[0]
    }

    /// The standard deviations σ = exp(log σ), `[gaussians, inputs]`.
    pub fn scales(&self) -> Tensor<2> {
        self.log_scales.val().exp()
    }

    /// The Gaussians' values gₖ(x) = exp(-½ Σⱼ ((xⱼ - μₖⱼ)/σₖⱼ)²).
    ///
    /// # Shapes
    /// `[batch, inputs] -> [batch, gaussians]`
    pub fn gaussian_values(&self, x: Tensor<2>) -> Tensor<2> {
        let [batch, _] = x.dims();
        let k = self.gaussians();
        let y = (x.unsqueeze_dim::<3>(1) - self.means.val().unsqueeze_dim::<3>(0))
            * self.log_scales.val().neg().exp().unsqueeze_dim::<3>(0);
        y.square()
            .sum_dim(2)
            .reshape([batch, k])
            .mul_scalar(-0.5)
            .exp()
    }

    /// The embedding φ(x) = Σₖ fₖ gₖ(x).
    ///
    /// # Shapes
    /// `[batch, inputs] -> [batch, features]`
    pub fn embed(&self, x: Tensor<2>) -> Tensor<2> {
        self.gaussian_values(x).matmul(self.features.val())
    }

    /// The Gaussians' jet over the input jet `x` (any jet of coordinates, not only the identity):
    /// with yₖⱼ = (xⱼ - μₖⱼ)/σₖⱼ and q = Σⱼ yⱼ², g = exp(-q/2) has
    /// gₐ = -½ g qₐ and g_ab = g (¼ qₐ q_b - ½ q_ab), where qₐ = 2 Σⱼ yⱼ yⱼₐ and
    /// q_ab = 2 Σⱼ (yⱼₐ yⱼ_b + yⱼ yⱼ_ab). For x itself this is the textbook
    /// ∂ⱼg = -g (xⱼ-μⱼ)/σⱼ², ∂ⱼⱼg = g((xⱼ-μⱼ)²/σⱼ⁴ - 1/σⱼ²), ∂ᵢⱼg = g (xᵢ-μᵢ)(xⱼ-μⱼ)/(σᵢ²σⱼ²).
    ///
    /// # Shapes
    /// `x`: value `[batch, inputs]`; the result's value is `[batch, gaussians]`.
    pub fn gaussian_jet(&self, x: Jet) -> Jet {
        let order = x.order();
        let [batch, _] = x.dims();
        let k = self.gaussians();
        let n = x.inputs();
        let inv = self.log_scales.val().neg().exp(); // [K, d]
        let y = (x.value().unsqueeze_dim::<3>(1) - self.means.val().unsqueeze_dim::<3>(0))
            * inv.clone().unsqueeze_dim::<3>(0); // [B, K, d]
        let inv4 = inv.unsqueeze_dim::<3>(0).unsqueeze_dim::<4>(0); // [1, 1, K, d]
        let dy = x.gradient().unsqueeze_dim::<4>(2) * inv4.clone(); // [n, B, K, d]
        let q = y.clone().square().sum_dim(2).reshape([batch, k]);
        let y4 = y.unsqueeze_dim::<4>(0); // [1, B, K, d]
        let dq = (y4.clone() * dy.clone())
            .sum_dim(3)
            .reshape([n, batch, k])
            .mul_scalar(2.0);
        let g = q.mul_scalar(-0.5).exp(); // [B, K]
        let g3 = g.clone().unsqueeze_dim::<3>(0);
        let second = x.second().map(|x2| {
            let slots = x2.dims()[0];
            let d2y = x2.unsqueeze_dim::<4>(2) * inv4; // [S, B, K, d]
            let d2q = (pair_products(dy, order) + y4 * d2y)
                .sum_dim(3)
                .reshape([slots, batch, k])
                .mul_scalar(2.0);
            (pair_products(dq.clone(), order).mul_scalar(0.25) - d2q.mul_scalar(0.5)) * g3.clone()
        });
        let dg = dq.mul_scalar(-0.5) * g3;
        Jet::from_parts(g, dg, second, order).expect("Gaussian jet slots follow the input jet")
    }
}

impl JetNetwork for Pig {
    fn input_size(&self) -> usize {
        self.means.dims()[1]
    }

    fn output_size(&self) -> usize {
        self.mlp.outputs()
    }

    /// # Shapes
    /// `[batch, inputs] -> [batch, outputs]`
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.mlp.forward(self.embed(x))
    }

    fn forward_jet(&self, x: Jet) -> Jet {
        let phi = self.gaussian_jet(x).matmul(self.features.val());
        self.mlp.forward_jet_from(phi)
    }
}
