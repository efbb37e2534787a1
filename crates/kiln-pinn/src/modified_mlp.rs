//! The modified MLP of Wang, Teng & Perdikaris (2021): two encoders U, V of the input gate every
//! hidden layer, H ← (1 - Z) ⊙ U + Z ⊙ V with Z = σ(H W + b), which eases the stiff gradient
//! flow of PINN losses. Jet-capable through [`crate::jet_algebra`].

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use kiln_core::jet::{Activation, FourierFeatures, FourierFeaturesConfig, Jet};

use crate::Error;
use crate::jet_algebra::{add, mul, sub};
use crate::network::JetNetwork;

/// Configuration of a [`ModifiedMlp`].
#[derive(Config, Debug)]
pub struct ModifiedMlpConfig {
    /// Number of inputs.
    pub inputs: usize,
    /// Width of every hidden layer.
    pub width: usize,
    /// Number of gated hidden layers (at least 1).
    pub depth: usize,
    /// Number of outputs.
    pub outputs: usize,
    /// Activation.
    #[config(default = "Activation::Tanh")]
    pub activation: Activation,
    /// Optional random Fourier features of the input (its `inputs` must match).
    #[config(default = "None")]
    pub fourier: Option<FourierFeaturesConfig>,
}

/// A modified MLP: encoders U, V and gated hidden layers H ← U + Z ⊙ (V - U).
#[derive(Module, Debug)]
pub struct ModifiedMlp {
    /// Optional input embedding.
    pub fourier: Option<FourierFeatures>,
    /// Encoder U.
    pub encoder_u: Linear,
    /// Encoder V.
    pub encoder_v: Linear,
    /// Hidden layers (the first maps the input, the rest map width to width).
    pub hidden: Vec<Linear>,
    /// Output layer.
    pub output: Linear,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    inputs: usize,
}

impl ModifiedMlpConfig {
    /// Builds the network (Glorot-normal weights).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero sizes or a Fourier embedding over the wrong input count.
    pub fn init(&self, device: &Device) -> crate::Result<ModifiedMlp> {
        if self.inputs == 0 || self.width == 0 || self.depth == 0 || self.outputs == 0 {
            return Err(Error::config(
                "sizes",
                format!(
                    "inputs {}, width {}, depth {}, outputs {}",
                    self.inputs, self.width, self.depth, self.outputs
                ),
                "every size must be at least 1",
            ));
        }
        if let Some(f) = &self.fourier
            && f.inputs != self.inputs
        {
            return Err(Error::config(
                "fourier.inputs",
                f.inputs,
                format!("must equal inputs = {}", self.inputs),
            ));
        }
        let embed = self
            .fourier
            .as_ref()
            .map_or(self.inputs, |f| f.output_size());
        let linear = |a, b| {
            LinearConfig::new(a, b)
                .with_initializer(Initializer::XavierNormal { gain: 1.0 })
                .init(device)
        };
        Ok(ModifiedMlp {
            fourier: self.fourier.as_ref().map(|f| f.init(device)),
            encoder_u: linear(embed, self.width),
            encoder_v: linear(embed, self.width),
            hidden: (0..self.depth)
                .map(|k| linear(if k == 0 { embed } else { self.width }, self.width))
                .collect(),
            output: linear(self.width, self.outputs),
            activation: self.activation,
            inputs: self.inputs,
        })
    }
}

impl JetNetwork for ModifiedMlp {
    fn input_size(&self) -> usize {
        self.inputs
    }

    fn output_size(&self) -> usize {
        self.output.weight.shape().dims::<2>()[1]
    }

    /// # Shapes
    /// `[batch, inputs] -> [batch, outputs]`
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let x = match &self.fourier {
            Some(f) => f.forward(x),
            None => x,
        };
        let act = self.activation;
        let u = act.forward(self.encoder_u.forward(x.clone()));
        let v = act.forward(self.encoder_v.forward(x.clone()));
        let mut h = x;
        for layer in &self.hidden {
            let z = act.forward(layer.forward(h));
            h = u.clone() + z * (v.clone() - u.clone());
        }
        self.output.forward(h)
    }

    fn forward_jet(&self, x: Jet) -> Jet {
        let x = match &self.fourier {
            Some(f) => f.forward_jet(x),
            None => x,
        };
        let act = self.activation;
        let u = x.clone().linear(&self.encoder_u).activate(act);
        let v = x.clone().linear(&self.encoder_v).activate(act);
        let gap = sub(&v, &u).expect("encoders share inputs, order, batch and width");
        let mut h = x;
        for layer in &self.hidden {
            let z = h.linear(layer).activate(act);
            h = mul(&z, &gap)
                .and_then(|zg| add(&u, &zg))
                .expect("hidden jets share inputs, order, batch and width");
        }
        h.linear(&self.output)
    }
}
