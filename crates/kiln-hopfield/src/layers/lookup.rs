//! `HopfieldLayer`: state patterns retrieve from a learned table of stored patterns (and,
//! optionally, separately learned values), a differentiable associative lookup.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::{Device, Tensor};

use super::hopfield::{Hopfield, HopfieldConfig};
use super::input::{HopfieldInput, HopfieldOutput};
use crate::Error;

/// Configuration of a [`HopfieldLayer`].
#[derive(Config, Debug)]
pub struct HopfieldLayerConfig {
    /// The association; its `stored_size` is the width of the learned patterns, and its
    /// `value_size` (if any) the width of the separate learned values.
    pub hopfield: HopfieldConfig,
    /// Number of learned stored patterns (table entries).
    pub num_patterns: usize,
    /// Learn a separate value for every stored pattern (else the patterns are the values).
    #[config(default = false)]
    pub separate_values: bool,
    /// Initialiser of the learned patterns and values.
    #[config(default = "Initializer::Normal { mean: 0.0, std: 1.0 }")]
    pub initializer: Initializer,
}

impl HopfieldLayerConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty table, a `value_size` without separate values, or
    /// an invalid `hopfield` configuration.
    pub fn validate(&self) -> crate::Result<()> {
        if self.num_patterns == 0 {
            return Err(Error::config(
                "num_patterns",
                0,
                "learn at least one stored pattern",
            ));
        }
        if !self.separate_values
            && let Some(v) = self.hopfield.value_size
            && v != self.hopfield.stored_size
        {
            return Err(Error::config(
                "hopfield.value_size",
                v,
                "without separate values the stored patterns are the values; set \
                 separate_values = true or value_size = None",
            ));
        }
        self.hopfield.validate()
    }

    /// Builds the layer on `device`.
    ///
    /// # Errors
    /// As [`HopfieldLayerConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<HopfieldLayer> {
        self.validate()?;
        let dims = self.hopfield.dims()?;
        let table = |width: usize| {
            self.initializer.init_with(
                [self.num_patterns, width],
                Some(width),
                Some(self.num_patterns),
                device,
            )
        };
        Ok(HopfieldLayer {
            hopfield: self.hopfield.init(device)?,
            patterns: table(dims.stored_size),
            values: self.separate_values.then(|| table(dims.value_size)),
        })
    }
}

/// A Hopfield lookup layer: every state pattern retrieves from the same learned stored
/// patterns, `[B, S, state_size] → [B, S, output_size]`.
#[derive(Module, Debug)]
pub struct HopfieldLayer {
    /// The association.
    pub hopfield: Hopfield,
    /// Learned stored patterns, `[num_patterns, stored_size]`.
    pub patterns: Param<Tensor<2>>,
    /// Learned values, `[num_patterns, value_size]` (`None`: the patterns are the values).
    pub values: Option<Param<Tensor<2>>>,
}

impl HopfieldLayer {
    /// Looks up every state pattern in the learned table.
    ///
    /// # Shapes
    /// `state`: `[B, S, state_size]` → `[B, S, output_size]`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `state` does not fit the layer.
    pub fn forward(&self, state: Tensor<3>) -> crate::Result<Tensor<3>> {
        self.hopfield.forward_output(self.input(state))
    }

    /// Looks up and also returns the association weights.
    ///
    /// # Shapes
    /// `state`: `[B, S, state_size]` → output `[B, S, output_size]`, weights
    /// `[B, num_heads, S, num_patterns]`.
    ///
    /// # Errors
    /// As [`HopfieldLayer::forward`].
    pub fn forward_with_weights(&self, state: Tensor<3>) -> crate::Result<HopfieldOutput> {
        self.hopfield.forward_with(self.input(state))
    }

    /// The layer's input: `state` against the table (and values), repeated for the batch.
    fn input(&self, state: Tensor<3>) -> HopfieldInput {
        let [batch, _, _] = state.dims();
        let table = |p: &Param<Tensor<2>>| {
            let [n, w] = p.dims();
            p.val().unsqueeze_dim::<3>(0).expand([batch, n, w])
        };
        let mut input = HopfieldInput::new(state, table(&self.patterns));
        input.values = self.values.as_ref().map(table);
        input
    }
}
