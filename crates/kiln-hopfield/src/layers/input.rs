//! What the Hopfield layers take and give: state, stored and value patterns with padding and
//! association masks, and the retrieved patterns with their association weights.

use burn::tensor::{Bool, Tensor};

/// What a [`Hopfield`](super::Hopfield) layer associates: state and stored patterns, optional
/// separate values and optional masks.
///
/// Masks are `true` where a stored pattern must **not** be retrieved (the PyTorch convention).
#[derive(Debug, Clone)]
pub struct HopfieldInput {
    /// State patterns `R`, `[B, S, state_size]`.
    pub state: Tensor<3>,
    /// Stored patterns `Y`, `[B, N, stored_size]`.
    pub stored: Tensor<3>,
    /// Value patterns, `[B, N, value_size]` (`None`: the stored patterns).
    pub values: Option<Tensor<3>>,
    /// Padding mask `[B, N]`: stored patterns to ignore in each batch entry.
    pub padding_mask: Option<Tensor<2, Bool>>,
    /// Association mask `[S, N]` (shared) or `[B, S, N]`: pairs that may not associate.
    pub association_mask: Option<AssociationMask>,
}

/// An association mask, shared by the batch or per batch entry (`true` = excluded).
#[derive(Debug, Clone)]
pub enum AssociationMask {
    /// `[S, N]`, the same for every batch entry.
    Shared(Tensor<2, Bool>),
    /// `[B, S, N]`.
    PerBatch(Tensor<3, Bool>),
}

impl HopfieldInput {
    /// State and stored patterns without values or masks.
    pub fn new(state: Tensor<3>, stored: Tensor<3>) -> Self {
        HopfieldInput {
            state,
            stored,
            values: None,
            padding_mask: None,
            association_mask: None,
        }
    }

    /// Retrieves `values` (`[B, N, value_size]`) instead of the stored patterns.
    pub fn with_values(mut self, values: Tensor<3>) -> Self {
        self.values = Some(values);
        self
    }

    /// Ignores the stored patterns where `mask` (`[B, N]`) is true.
    pub fn with_padding_mask(mut self, mask: Tensor<2, Bool>) -> Self {
        self.padding_mask = Some(mask);
        self
    }

    /// Forbids the (state, stored) pairs where `mask` is true.
    pub fn with_association_mask(mut self, mask: AssociationMask) -> Self {
        self.association_mask = Some(mask);
        self
    }
}

/// The result of [`Hopfield::forward_with`](super::Hopfield::forward_with).
#[derive(Debug, Clone)]
pub struct HopfieldOutput {
    /// The retrieved (and projected) patterns, `[B, S, output_size]`.
    pub output: Tensor<3>,
    /// Association weights of the last update before dropout, `[B, num_heads, S, N]`.
    pub weights: Tensor<4>,
    /// Updates made.
    pub steps: usize,
}
