//! A fully connected coordinate network with jets: the default field of PINNs and DeepONets.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use crate::Error;
use crate::jet::{Activation, FourierFeatures, FourierFeaturesConfig, Jet, SecondOrder};

/// Configuration of an [`Mlp`].
#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Layer widths from input to output, e.g. `[2, 64, 64, 1]`; at least two entries.
    pub sizes: Vec<usize>,
    /// Activation between hidden layers (none after the last layer).
    #[config(default = "Activation::Tanh")]
    pub activation: Activation,
    /// Optional Fourier-feature embedding of the input; its `inputs` must equal `sizes[0]`.
    #[config(default = "None")]
    pub fourier: Option<FourierFeaturesConfig>,
    /// Weight initialiser (Glorot/Xavier normal by default, as DeepXDE).
    #[config(default = "Initializer::XavierNormal { gain: 1.0 }")]
    pub initializer: Initializer,
}

/// A multilayer perceptron `x -> u(x)` that can also propagate input-derivative jets.
#[derive(Module, Debug)]
pub struct Mlp {
    /// The optional input embedding.
    pub fourier: Option<FourierFeatures>,
    /// The linear layers, input to output.
    pub layers: Vec<Linear>,
    #[module(skip)]
    activation: Activation,
}

impl MlpConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for fewer than two sizes, a zero width, or a Fourier embedding
    /// whose input count differs from `sizes[0]`.
    pub fn validate(&self) -> crate::Result<()> {
        if self.sizes.len() < 2 {
            return Err(Error::config(
                "sizes",
                format!("{:?}", self.sizes),
                "give at least the input and output widths, e.g. [2, 64, 64, 1]",
            ));
        }
        if self.sizes.contains(&0) {
            return Err(Error::config(
                "sizes",
                format!("{:?}", self.sizes),
                "every layer width must be at least 1",
            ));
        }
        if let Some(f) = &self.fourier
            && f.inputs != self.sizes[0]
        {
            return Err(Error::config(
                "fourier.inputs",
                f.inputs,
                format!("must equal sizes[0] = {}", self.sizes[0]),
            ));
        }
        Ok(())
    }

    /// Builds the network on `device`.
    ///
    /// # Errors
    /// As [`MlpConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<Mlp> {
        self.validate()?;
        let fourier = self.fourier.as_ref().map(|f| f.init(device));
        let first = self
            .fourier
            .as_ref()
            .map_or(self.sizes[0], |f| f.output_size());
        let mut widths = self.sizes.clone();
        widths[0] = first;
        let layers = widths
            .windows(2)
            .map(|w| {
                LinearConfig::new(w[0], w[1])
                    .with_initializer(self.initializer.clone())
                    .init(device)
            })
            .collect();
        Ok(Mlp {
            fourier,
            layers,
            activation: self.activation,
        })
    }
}

impl Mlp {
    /// Number of input coordinates.
    pub fn inputs(&self) -> usize {
        match &self.fourier {
            Some(f) => f.frequencies.shape().dims::<2>()[0],
            None => self.layers[0].weight.shape().dims::<2>()[0],
        }
    }

    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        let last = self.layers.last().expect("an Mlp has at least one layer");
        last.weight.shape().dims::<2>()[1]
    }

    /// The hidden-layer activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Evaluates the network.
    ///
    /// # Shapes
    /// `[batch, inputs] -> [batch, outputs]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let mut h = match &self.fourier {
            Some(f) => f.forward(x),
            None => x,
        };
        let last = self.layers.len() - 1;
        for (k, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h);
            if k < last {
                h = self.activation.forward(h);
            }
        }
        h
    }

    /// Evaluates the network and its derivatives with respect to the inputs.
    ///
    /// # Shapes
    /// `x`: `[batch, inputs]`; the jet's value is `[batch, outputs]`.
    pub fn forward_jet(&self, x: Tensor<2>, order: SecondOrder) -> Jet {
        self.forward_jet_from(Jet::input(x, order))
    }

    /// Pushes an existing jet (e.g. of transformed coordinates) through the network.
    pub fn forward_jet_from(&self, x: Jet) -> Jet {
        let mut h = match &self.fourier {
            Some(f) => f.forward_jet(x),
            None => x,
        };
        let last = self.layers.len() - 1;
        for (k, layer) in self.layers.iter().enumerate() {
            h = h.linear(layer);
            if k < last {
                h = h.activate(self.activation);
            }
        }
        h
    }
}
