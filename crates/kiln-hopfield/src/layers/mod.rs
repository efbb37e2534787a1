//! Hopfield layers as burn modules, following the design of hopfield-layers (Ramsauer et al.
//! 2020): [`Hopfield`] associates state patterns with stored patterns,
//! [`HopfieldPooling`] pools sets with learned or supplied queries, and [`HopfieldLayer`] looks
//! states up in a learned table.
//!
//! Every layer takes batch-first tensors: state patterns `[B, S, state_size]`, stored patterns
//! `[B, N, stored_size]`. Masks are `true` where a stored pattern is excluded.

mod core;
mod hopfield;
mod input;
mod lookup;
mod pooling;

pub use hopfield::{Hopfield, HopfieldConfig, HopfieldDims};
pub use input::{AssociationMask, HopfieldInput, HopfieldOutput};
pub use lookup::{HopfieldLayer, HopfieldLayerConfig};
pub use pooling::{HopfieldPooling, HopfieldPoolingConfig};
