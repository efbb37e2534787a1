//! An MLP with random weight factorisation (Wang et al. 2022): every weight matrix is written as
//! W = V · diag(e^s) with a trainable per-neuron scale s ~ N(μ, σ) drawn at initialisation, which
//! changes the optimisation geometry without changing what the network can represent.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor};
use kiln_core::jet::{Activation, Jet};

use crate::Error;
use crate::network::JetNetwork;

/// Configuration of an [`RwfMlp`].
#[derive(Config, Debug)]
pub struct RwfMlpConfig {
    /// Layer widths from input to output (at least two).
    pub sizes: Vec<usize>,
    /// Activation between layers.
    #[config(default = "Activation::Tanh")]
    pub activation: Activation,
    /// Mean μ of the log-scales.
    #[config(default = 1.0)]
    pub mean: f64,
    /// Standard deviation σ of the log-scales.
    #[config(default = 0.1)]
    pub std: f64,
}

/// One factorised layer: `x (V diag(e^s)) + b`.
#[derive(Module, Debug)]
pub struct RwfLinear {
    /// The direction matrix `[in, out]`.
    pub v: Param<Tensor<2>>,
    /// The log-scales `[out]`.
    pub s: Param<Tensor<1>>,
    /// The bias `[out]`.
    pub bias: Param<Tensor<1>>,
}

impl RwfLinear {
    fn weight(&self) -> Tensor<2> {
        let [_, out] = self.v.val().dims();
        self.v.val() * self.s.val().exp().reshape([1, out])
    }

    fn bias_row(&self) -> Tensor<2> {
        let out = self.bias.val().dims()[0];
        self.bias.val().reshape([1, out])
    }
}

/// An MLP of [`RwfLinear`] layers; see the [`RwfMlpConfig`].
#[derive(Module, Debug)]
pub struct RwfMlp {
    /// The layers, input to output.
    pub layers: Vec<RwfLinear>,
    #[module(skip)]
    activation: Activation,
}

impl RwfMlpConfig {
    /// Builds the network: W Glorot-normal, s ~ N(μ, σ), V = W diag(e^(-s)), b = 0.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for fewer than two sizes, a zero width, or σ < 0.
    pub fn init(&self, device: &Device) -> crate::Result<RwfMlp> {
        if self.sizes.len() < 2 || self.sizes.contains(&0) {
            return Err(Error::config(
                "sizes",
                format!("{:?}", self.sizes),
                "give at least input and output widths, all >= 1",
            ));
        }
        if !(self.std >= 0.0 && self.std.is_finite() && self.mean.is_finite()) {
            return Err(Error::config(
                "mean/std",
                format!("{}/{}", self.mean, self.std),
                "need a finite mean and a finite std >= 0",
            ));
        }
        let layers = self
            .sizes
            .windows(2)
            .map(|w| {
                let (a, b) = (w[0], w[1]);
                let glorot = (2.0 / (a + b) as f64).sqrt();
                let weight = Tensor::<2>::random([a, b], Distribution::Normal(0.0, glorot), device);
                let s = Tensor::<1>::random([b], Distribution::Normal(self.mean, self.std), device);
                let v = weight * s.clone().neg().exp().reshape([1, b]);
                RwfLinear {
                    v: Param::from_tensor(v),
                    s: Param::from_tensor(s),
                    bias: Param::from_tensor(Tensor::zeros([b], device)),
                }
            })
            .collect();
        Ok(RwfMlp {
            layers,
            activation: self.activation,
        })
    }
}

impl JetNetwork for RwfMlp {
    fn input_size(&self) -> usize {
        self.layers[0].v.val().dims()[0]
    }

    fn output_size(&self) -> usize {
        self.layers
            .last()
            .expect("at least one layer")
            .v
            .val()
            .dims()[1]
    }

    /// # Shapes
    /// `[batch, inputs] -> [batch, outputs]`
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        let mut h = x;
        for (k, layer) in self.layers.iter().enumerate() {
            h = h.matmul(layer.weight()) + layer.bias_row();
            if k < last {
                h = self.activation.forward(h);
            }
        }
        h
    }

    fn forward_jet(&self, x: Jet) -> Jet {
        let last = self.layers.len() - 1;
        let mut h = x;
        for (k, layer) in self.layers.iter().enumerate() {
            let z = h.matmul(layer.weight());
            // The bias shifts the value only.
            h = Jet::from_parts(
                z.value() + layer.bias_row(),
                z.gradient(),
                z.second(),
                z.order(),
            )
            .expect("parts of one jet");
            if k < last {
                h = h.activate(self.activation);
            }
        }
        h
    }
}
