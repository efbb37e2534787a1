//! kiln-pinn: physics-informed neural networks with input derivatives carried as jets.
//!
//! - [`geometry`]: intervals, boxes, balls, polygons, space-time products and set operations,
//!   with interior and boundary sampling and outward normals.
//! - [`sampler`]: uniform, grid, Latin-hypercube, Sobol, Halton and Hammersley point sets.
//! - [`Problem`]: a PDE residual over the network's jet, [`Condition`]s (Dirichlet, Neumann,
//!   Robin, periodic, initial value and time derivative, point data) and hard constraints by
//!   output transforms built with [`jet_algebra`].
//! - [`ModifiedMlp`]: the gated modified MLP; [`RwfMlp`]: random weight factorisation;
//!   [`MultiScaleFourierMlp`]: multi-scale random Fourier features; kiln-core's `Mlp` (with optional random Fourier
//!   features) also implements [`JetNetwork`]; [`Pig`]: physics-informed Gaussians, trainable
//!   Gaussian features read by a light MLP (an adaptive mesh with exact jets).
//! - [`Pinn`]: the network plus trainable coefficients (inverse and eigenvalue problems).
//! - [`eigen`]: eigenvalue problems with a trainable eigenvalue, normalisation and
//!   orthogonality losses, and finite-difference references.
//! - [`adaptive`]: residual-based adaptive refinement and periodic resampling.
//! - [`weighting`]: gradient-norm balancing and causal weighting over time chunks; [`ntk`]:
//!   loss weights from the neural tangent kernel's traces (exact or Rademacher estimates).
//! - [`train()`]: Adam then L-BFGS through kiln-core's trainer.
//! - [`quadrature`] and [`mod@reference`]: Gauss-Hermite rules and exact reference solutions
//!   (Burgers by Cole-Hopf).

pub mod adaptive;
pub mod condition;
pub mod eigen;
mod error;
pub mod geometry;
pub mod jet_algebra;
mod modified_mlp;
mod multiscale;
mod network;
pub mod ntk;
mod pig;
pub mod problem;
pub mod quadrature;
pub mod reference;
mod rwf;
pub mod sampler;
mod train;
pub mod tridiagonal;
pub mod weighting;

pub use condition::{Condition, ConditionKind};
pub use error::{Error, Result};
pub use geometry::{Geometry, Points};
pub use modified_mlp::{ModifiedMlp, ModifiedMlpConfig};
pub use multiscale::{MultiScaleFourierMlp, MultiScaleFourierMlpConfig};
pub use network::{JetNetwork, Pinn};
pub use pig::{Pig, PigConfig};
pub use problem::{Fields, Problem, Term};
pub use rwf::{RwfLinear, RwfMlp, RwfMlpConfig};
pub use sampler::Sampler;
pub use train::{Phase, PinnOutcome, PinnTrainConfig, train, train_with};
