//! Classical solvers that generate operator-learning datasets, deterministically from a seed.
//!
//! - [`GrfConfig`]: periodic Gaussian random fields (1-D/2-D, Matérn-type spectrum).
//! - [`darcy`]: 2-D Darcy flow by finite volumes and conjugate gradients.
//! - [`burgers`]: 1-D viscous Burgers by pseudo-spectral ETDRK4, with the Cole-Hopf solution.
//! - [`exact`]: antiderivative and heat-semigroup operators.
//! - [`OperatorData`]: input/output arrays `[N, ...]`, written and read as `.npz`.

pub mod burgers;
pub mod darcy;
mod dataset;
pub mod exact;
mod grf;

pub use burgers::{BurgersConfig, BurgersSet, BurgersSolver, cole_hopf_sine};
pub use darcy::{DarcyConfig, DarcySet, solve_darcy};
pub use dataset::{ArrayNames, OperatorData};
pub use exact::{AntiderivativeConfig, HeatConfig, unit_grid};
pub use grf::{Fourier1d, Fourier2d, GrfConfig};
