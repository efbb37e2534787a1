//! kiln-operators: neural operators and the classical solvers that generate their data.
//!
//! - [`data`]: Gaussian random fields, Darcy (finite volumes + CG), Burgers (pseudo-spectral
//!   ETDRK4, Cole-Hopf reference), exact antiderivative/heat operators, `.npz` datasets.
//! - [`fno`]: Fourier neural operators in 1-D and 2-D (spectral convolutions as DFT matmuls).
//! - [`deeponet`]: DeepONet (unstacked/stacked, Cartesian-product batches, trunk jets).
//! - [`loss`]: relative L2 (neuraloperator's `LpLoss` convention) and H1, normalisers.

pub mod data;
pub mod deeponet;
mod error;
pub mod fno;
pub mod loss;

pub use error::{Error, Result};
