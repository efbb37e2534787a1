//! kiln-hopfield: associative memories and Hopfield layers.
//!
//! - [`classical`]: binary Hopfield networks (Hebbian, projection and Storkey storage,
//!   synchronous and asynchronous dynamics, energy, masks, Glauber temperature).
//! - [`dense`]: dense associative memories (polynomial, rectified-polynomial and exponential
//!   interactions; the P-body Hebbian network).
//! - [`multitask`]: the multitasking Hebbian network on diluted patterns.
//! - [`modern`]: modern continuous Hopfield retrieval and its energy.
//! - [`layers`]: `Hopfield`, `HopfieldPooling` and `HopfieldLayer` as burn modules.
//! - [`loss`]: InfoLOOB with Hopfield retrieval (CLOOB).
//! - [`patterns`]: seeded pattern generators.

pub mod classical;
pub mod dense;
mod error;
mod fused;
pub mod layers;
pub mod loss;
pub mod modern;
pub mod multitask;
pub mod patterns;

pub use error::{Error, Result};
