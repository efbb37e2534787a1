//! `TimeMlp`: the time-conditioned network of flow matching and score models, `(x, t) -> v`,
//! an MLP on `[x, t]` (torchcfm's `MLP` with `time_varying=True`), with Jacobian-vector products
//! in forward mode for exact and Hutchinson divergences.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation;
use burn::tensor::{Device, Tensor};

use crate::Error;

const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

/// Hidden-layer activations of a [`TimeMlp`].
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum FieldActivation {
    /// SELU (torchcfm's default for its 2-D examples).
    Selu,
    /// SiLU / swish.
    Silu,
    /// Hyperbolic tangent.
    Tanh,
    /// ReLU.
    Relu,
}

impl FieldActivation {
    /// σ(z).
    pub fn forward<const D: usize>(self, z: Tensor<D>) -> Tensor<D> {
        match self {
            // λ(max(z, 0) + α(exp(min(z, 0)) - 1)): three element-wise ops and no mask.
            FieldActivation::Selu => {
                let neg = z
                    .clone()
                    .clamp_max(0.0)
                    .exp()
                    .sub_scalar(1.0)
                    .mul_scalar(SELU_ALPHA);
                (activation::relu(z) + neg).mul_scalar(SELU_SCALE)
            }
            FieldActivation::Silu => activation::silu(z),
            FieldActivation::Tanh => z.tanh(),
            FieldActivation::Relu => activation::relu(z),
        }
    }

    /// σ′(z).
    pub fn derivative<const D: usize>(self, z: Tensor<D>) -> Tensor<D> {
        match self {
            FieldActivation::Selu => {
                let neg = z.clone().clamp_max(0.0).exp().mul_scalar(SELU_ALPHA);
                let positive = z.greater_elem(0.0).float();
                // z > 0: 1; z ≤ 0: α e^z (the exp of min(z, 0) is 1 for z > 0, so mask it).
                (positive.clone() + neg * positive.neg().add_scalar(1.0)).mul_scalar(SELU_SCALE)
            }
            FieldActivation::Silu => {
                let s = activation::sigmoid(z.clone());
                s.clone() * (z * s.neg().add_scalar(1.0)).add_scalar(1.0)
            }
            FieldActivation::Tanh => z.tanh().square().neg().add_scalar(1.0),
            FieldActivation::Relu => z.greater_elem(0.0).float(),
        }
    }
}

/// Configuration of a [`TimeMlp`].
#[derive(Config, Debug)]
pub struct TimeMlpConfig {
    /// Dimension of the data `x` (and of the output).
    pub dim: usize,
    /// Hidden widths (torchcfm's tutorial: three layers of 64).
    #[config(default = "vec![64, 64, 64]")]
    pub hidden: Vec<usize>,
    /// Activation between layers.
    #[config(default = "FieldActivation::Selu")]
    pub activation: FieldActivation,
    /// Extra conditioning inputs appended after `t` (e.g. a class embedding); 0 for none.
    #[config(default = 0)]
    pub conditions: usize,
}

/// `v(x, t[, c])`: an MLP on the concatenation `[x, t, c]`, PyTorch-style (Kaiming-uniform)
/// initialisation.
#[derive(Module, Debug)]
pub struct TimeMlp {
    /// Linear layers, input to output.
    pub layers: Vec<Linear>,
    #[module(skip)]
    activation: FieldActivation,
    #[module(skip)]
    dim: usize,
    #[module(skip)]
    conditions: usize,
}

impl TimeMlpConfig {
    /// Builds the network.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `dim == 0` or a zero hidden width.
    pub fn init(&self, device: &Device) -> crate::Result<TimeMlp> {
        if self.dim == 0 {
            return Err(Error::config(
                "dim",
                0,
                "the data needs at least one dimension",
            ));
        }
        if self.hidden.contains(&0) {
            return Err(Error::config(
                "hidden",
                format!("{:?}", self.hidden),
                "every hidden width must be at least 1",
            ));
        }
        let mut widths = vec![self.dim + 1 + self.conditions];
        widths.extend(&self.hidden);
        widths.push(self.dim);
        let layers = widths
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Ok(TimeMlp {
            layers,
            activation: self.activation,
            dim: self.dim,
            conditions: self.conditions,
        })
    }
}

impl TimeMlp {
    /// The data dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// `v(x, t)`.
    ///
    /// # Shapes
    /// `x: [batch, dim]`, `t: [batch, 1]` -> `[batch, dim]`
    pub fn forward(&self, x: Tensor<2>, t: Tensor<2>) -> Tensor<2> {
        self.forward_input(Tensor::cat(vec![x, t], 1))
    }

    /// `v(x, t, c)` with conditioning inputs `c`.
    ///
    /// # Shapes
    /// `x: [batch, dim]`, `t: [batch, 1]`, `c: [batch, conditions]` -> `[batch, dim]`
    pub fn forward_conditioned(&self, x: Tensor<2>, t: Tensor<2>, c: Tensor<2>) -> Tensor<2> {
        self.forward_input(Tensor::cat(vec![x, t, c], 1))
    }

    fn forward_input(&self, mut h: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        for (k, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h);
            if k < last {
                h = self.activation.forward(h);
            }
        }
        h
    }

    /// Number of conditioning inputs.
    pub fn conditions(&self) -> usize {
        self.conditions
    }

    /// `v(x, t[, c])` and the Jacobian-vector product `(∂v/∂x) w`, in forward mode.
    ///
    /// # Shapes
    /// `x, w: [batch, dim]`, `t: [batch, 1]`, `c: [batch, conditions]` (`None` when the network
    /// has no conditions) -> (`[batch, dim]`, `[batch, dim]`)
    pub fn forward_jvp(
        &self,
        x: Tensor<2>,
        t: Tensor<2>,
        c: Option<Tensor<2>>,
        w: Tensor<2>,
    ) -> (Tensor<2>, Tensor<2>) {
        let [batch, _] = x.dims();
        let zero_t = Tensor::zeros([batch, 1 + self.conditions], &x.device());
        let mut h = match c {
            Some(c) => Tensor::cat(vec![x, t, c], 1),
            None => Tensor::cat(vec![x, t], 1),
        };
        let mut dh = Tensor::cat(vec![w, zero_t], 1);
        let last = self.layers.len() - 1;
        for (k, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h);
            dh = dh.matmul(layer.weight.val());
            if k < last {
                dh = dh * self.activation.derivative(h.clone());
                h = self.activation.forward(h);
            }
        }
        (h, dh)
    }
}
