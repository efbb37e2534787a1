//! `HopfieldPooling`: learned (or supplied) query patterns retrieve from a set of stored
//! patterns, pooling `[B, N, d]` into `[B, num_queries, d_out]` (attention-based multiple
//! instance pooling).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::{Bool, Device, Tensor};

use super::hopfield::{Hopfield, HopfieldConfig};
use super::input::{HopfieldInput, HopfieldOutput};
use crate::Error;

/// Configuration of a [`HopfieldPooling`] layer.
#[derive(Config, Debug)]
pub struct HopfieldPoolingConfig {
    /// The association; its `state_size` is the width of the query patterns and its
    /// `stored_size` the width of the pooled set's elements.
    pub hopfield: HopfieldConfig,
    /// Number of learned query patterns (pooled outputs per set).
    #[config(default = 1)]
    pub num_queries: usize,
    /// Initialiser of the learned query patterns.
    #[config(default = "Initializer::Normal { mean: 0.0, std: 1.0 }")]
    pub initializer: Initializer,
}

impl HopfieldPoolingConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero queries or an invalid `hopfield` configuration.
    pub fn validate(&self) -> crate::Result<()> {
        if self.num_queries == 0 {
            return Err(Error::config(
                "num_queries",
                0,
                "pool with at least one query pattern",
            ));
        }
        self.hopfield.validate()
    }

    /// Builds the layer on `device`.
    ///
    /// # Errors
    /// As [`HopfieldPoolingConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<HopfieldPooling> {
        self.validate()?;
        let width = self.hopfield.state_size;
        Ok(HopfieldPooling {
            hopfield: self.hopfield.init(device)?,
            queries: self.initializer.init_with(
                [self.num_queries, width],
                Some(width),
                Some(self.num_queries),
                device,
            ),
        })
    }
}

/// Hopfield pooling: a fixed set of query patterns (learned, or supplied per call) retrieves
/// from each set of stored patterns, so every set of any size becomes `num_queries` vectors.
#[derive(Module, Debug)]
pub struct HopfieldPooling {
    /// The association.
    pub hopfield: Hopfield,
    /// Learned query (state) patterns, `[num_queries, state_size]`.
    pub queries: Param<Tensor<2>>,
}

impl HopfieldPooling {
    /// Pools each set with the learned queries.
    ///
    /// # Shapes
    /// `stored`: `[B, N, stored_size]` → `[B, num_queries, output_size]`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `stored` does not fit the layer.
    pub fn forward(&self, stored: Tensor<3>) -> crate::Result<Tensor<3>> {
        Ok(self.forward_masked(stored, None)?.output)
    }

    /// Pools with the learned queries, ignoring padded elements (`padding_mask` `[B, N]`,
    /// `true` = ignore), and returns the association weights too.
    ///
    /// # Shapes
    /// `stored`: `[B, N, stored_size]` → output `[B, num_queries, output_size]`, weights
    /// `[B, num_heads, num_queries, N]`.
    ///
    /// # Errors
    /// As [`Hopfield::forward_with`].
    pub fn forward_masked(
        &self,
        stored: Tensor<3>,
        padding_mask: Option<Tensor<2, Bool>>,
    ) -> crate::Result<HopfieldOutput> {
        let [batch, _, _] = stored.dims();
        let [q, w] = self.queries.dims();
        let queries = self
            .queries
            .val()
            .unsqueeze_dim::<3>(0)
            .expand([batch, q, w]);
        self.forward_with_queries(queries, stored, padding_mask)
    }

    /// Pools with supplied query patterns instead of the learned ones.
    ///
    /// # Shapes
    /// `queries`: `[B, Q, state_size]`, `stored`: `[B, N, stored_size]`, `padding_mask`:
    /// `[B, N]` → output `[B, Q, output_size]`.
    ///
    /// # Errors
    /// As [`Hopfield::forward_with`].
    pub fn forward_with_queries(
        &self,
        queries: Tensor<3>,
        stored: Tensor<3>,
        padding_mask: Option<Tensor<2, Bool>>,
    ) -> crate::Result<HopfieldOutput> {
        let mut input = HopfieldInput::new(queries, stored);
        input.padding_mask = padding_mask;
        self.hopfield.forward_with(input)
    }
}
