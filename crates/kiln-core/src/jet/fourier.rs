//! Random Fourier-feature embeddings γ(x) = [sin(2πxB), cos(2πxB)], with jets.
//!
//! They let a coordinate network fit high-frequency and multi-scale fields (Tancik et al. 2020;
//! Wang, Wang & Perdikaris 2021). The frequency matrix `B` is drawn once, stored with the model
//! (so checkpoints keep it) and never trained.

use std::f64::consts::PI;

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor};

use super::{Jet, SecondOrder};

/// Configuration of a [`FourierFeatures`] embedding.
#[derive(Config, Debug)]
pub struct FourierFeaturesConfig {
    /// Number of input coordinates.
    pub inputs: usize,
    /// Number of frequencies; the embedding has `2 * frequencies` features
    /// (plus `inputs` when `include_input`).
    pub frequencies: usize,
    /// Standard deviation σ of the Gaussian frequencies, B ~ N(0, σ²).
    #[config(default = 1.0)]
    pub sigma: f64,
    /// Whether to append the raw coordinates to the features.
    #[config(default = false)]
    pub include_input: bool,
}

/// A fixed random Fourier-feature embedding: γ(x) = [sin(2πxB), cos(2πxB)], B never trained.
#[derive(Module, Debug)]
pub struct FourierFeatures {
    /// The frequency matrix `[inputs, frequencies]`; excluded from training.
    pub frequencies: Param<Tensor<2>>,
    #[module(skip)]
    include_input: bool,
}

impl FourierFeaturesConfig {
    /// Number of features the embedding produces.
    pub fn output_size(&self) -> usize {
        2 * self.frequencies + if self.include_input { self.inputs } else { 0 }
    }

    /// Draws the frequency matrix on `device`.
    pub fn init(&self, device: &Device) -> FourierFeatures {
        let b = Tensor::<2>::random(
            [self.inputs, self.frequencies],
            Distribution::Normal(0.0, self.sigma),
            device,
        );
        FourierFeatures {
            frequencies: Param::from_tensor(b).set_require_grad(false),
            include_input: self.include_input,
        }
    }
}

impl FourierFeatures {
    fn scaled(&self) -> Tensor<2> {
        self.frequencies.val().mul_scalar(2.0 * PI)
    }

    /// Embeds the coordinates.
    ///
    /// # Shapes
    /// `[batch, inputs] -> [batch, 2 * frequencies (+ inputs)]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let z = x.clone().matmul(self.scaled());
        let mut parts = vec![z.clone().sin(), z.cos()];
        if self.include_input {
            parts.push(x);
        }
        Tensor::cat(parts, 1)
    }

    /// Embeds a jet of coordinates, carrying its derivatives through sin and cos.
    pub fn forward_jet(&self, x: Jet) -> Jet {
        let z = x.clone().matmul(self.scaled());
        let second = z.order() != SecondOrder::None;
        let v = z.value();
        let (s, c) = (v.clone().sin(), v.cos());
        let sin = z
            .clone()
            .compose(s.clone(), c.clone(), second.then(|| s.clone().neg()));
        let cos = z.compose(c.clone(), s.neg(), second.then(|| c.neg()));
        let mut parts = vec![sin, cos];
        if self.include_input {
            parts.push(x);
        }
        Jet::concat(parts).expect("sin, cos and input jets share inputs, order and batch")
    }
}
