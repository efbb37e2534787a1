//! Multi-scale random Fourier features (Wang, Wang & Perdikaris 2021): the input is embedded at
//! several frequency scales σ₁, σ₂, ..., each embedding goes through one shared MLP body, and a
//! linear head reads the concatenated features, so one network resolves several scales.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use kiln_core::jet::{Activation, FourierFeatures, FourierFeaturesConfig, Jet};
use kiln_core::{Mlp, MlpConfig};

use crate::Error;
use crate::network::JetNetwork;

/// Configuration of a [`MultiScaleFourierMlp`].
#[derive(Config, Debug)]
pub struct MultiScaleFourierMlpConfig {
    /// Number of inputs.
    pub inputs: usize,
    /// Number of outputs.
    pub outputs: usize,
    /// The frequency scales σ (one embedding each).
    pub sigmas: Vec<f64>,
    /// Frequencies per embedding (each gives `2 * frequencies` features).
    pub frequencies: usize,
    /// Hidden widths of the shared body, e.g. `[64, 64]` (at least one).
    pub hidden: Vec<usize>,
    /// Activation.
    #[config(default = "Activation::Tanh")]
    pub activation: Activation,
}

/// A multi-scale Fourier-feature network; see the [`MultiScaleFourierMlpConfig`].
#[derive(Module, Debug)]
pub struct MultiScaleFourierMlp {
    /// One embedding per scale.
    pub embeddings: Vec<FourierFeatures>,
    /// The shared body (its last layer is followed by the activation here).
    pub body: Mlp,
    /// The linear head over the concatenated body outputs.
    pub head: Linear,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    inputs: usize,
}

impl MultiScaleFourierMlpConfig {
    /// Builds the network.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for no scales, a non-positive scale, zero sizes or no hidden layer.
    pub fn init(&self, device: &Device) -> crate::Result<MultiScaleFourierMlp> {
        if self.sigmas.is_empty() || self.sigmas.iter().any(|s| !(*s > 0.0 && s.is_finite())) {
            return Err(Error::config(
                "sigmas",
                format!("{:?}", self.sigmas),
                "give at least one positive finite scale",
            ));
        }
        if self.inputs == 0
            || self.outputs == 0
            || self.frequencies == 0
            || self.hidden.is_empty()
            || self.hidden.contains(&0)
        {
            return Err(Error::config(
                "sizes",
                format!(
                    "inputs {}, outputs {}, frequencies {}, hidden {:?}",
                    self.inputs, self.outputs, self.frequencies, self.hidden
                ),
                "every size must be at least 1 and the body needs a hidden layer",
            ));
        }
        let embeddings = self
            .sigmas
            .iter()
            .map(|&s| {
                FourierFeaturesConfig::new(self.inputs, self.frequencies)
                    .with_sigma(s)
                    .init(device)
            })
            .collect();
        let mut sizes = vec![2 * self.frequencies];
        sizes.extend(&self.hidden);
        let body = MlpConfig::new(sizes)
            .with_activation(self.activation)
            .init(device)?;
        let width = *self.hidden.last().expect("checked non-empty");
        let head = LinearConfig::new(width * self.sigmas.len(), self.outputs)
            .with_initializer(Initializer::XavierNormal { gain: 1.0 })
            .init(device);
        Ok(MultiScaleFourierMlp {
            embeddings,
            body,
            head,
            activation: self.activation,
            inputs: self.inputs,
        })
    }
}

impl JetNetwork for MultiScaleFourierMlp {
    fn input_size(&self) -> usize {
        self.inputs
    }

    fn output_size(&self) -> usize {
        self.head.weight.shape().dims::<2>()[1]
    }

    /// # Shapes
    /// `[batch, inputs] -> [batch, outputs]`
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let features = self
            .embeddings
            .iter()
            .map(|e| {
                self.activation
                    .forward(self.body.forward(e.forward(x.clone())))
            })
            .collect();
        self.head.forward(Tensor::cat(features, 1))
    }

    fn forward_jet(&self, x: Jet) -> Jet {
        let features = self
            .embeddings
            .iter()
            .map(|e| {
                self.body
                    .forward_jet_from(e.forward_jet(x.clone()))
                    .activate(self.activation)
            })
            .collect();
        Jet::concat(features)
            .expect("one jet per scale over the same inputs")
            .linear(&self.head)
    }
}
