//! Stochastic differential equations `dy = f(t, y) dt + g(t, y) dW` on a batch `[batch, n]`.
//!
//! The pieces mirror the ODE side: the equation ([`SdeTerm`]: drift, [`Diffusion`] with
//! [`DiagonalNoise`] or [`GeneralNoise`], and an explicit [`Interpretation`], Itô or
//! Stratonovich), the noise ([`BrownianPath`], usually a seeded [`VirtualBrownianTree`] that
//! returns the same increment and space-time Lévy area whenever an interval is queried again),
//! the solver ([`SdeSolver`]) and one entry point, [`solve`], with fixed steps and the crate's
//! [`crate::SaveAt`] and [`crate::Solution`].
//!
//! | solver | converges to | noise | strong order |
//! |---|---|---|---|
//! | [`EulerMaruyama`] | Itô | any | 0.5 (1 additive) |
//! | [`Milstein`] | Itô or Stratonovich (the term's) | diagonal | 1 |
//! | [`Heun`] | Stratonovich | any | 1 commutative, 0.5 general |
//! | [`ReversibleHeun`] | Stratonovich | any | 0.5 (1 observed on scalar noise); algebraically reversible |
//! | [`Sra1`] | either (additive noise) | additive | 1.5 |
//!
//! A solver whose limit differs from the term's interpretation is refused (unless the noise is
//! additive, where both agree). Gradients flow by backprop through the tensor operations of the
//! solve on an autodiff device.
//!
//! ```
//! use kiln_core::burn::tensor::{Device, Tensor};
//! use kiln_neural_de::Time;
//! use kiln_neural_de::sde::{self, DiagonalNoise, EulerMaruyama, SdeOptions, SdeTerm};
//! use kiln_neural_de::sde::VirtualBrownianTree;
//!
//! let device = Device::flex();
//! // Geometric Brownian motion dy = 0.1 y dt + 0.2 y dW, four paths.
//! let term = SdeTerm::ito(
//!     |_t: &Time, y: &Tensor<2>| y.clone().mul_scalar(0.1),
//!     DiagonalNoise::new(|_t: &Time, y: &Tensor<2>| y.clone().mul_scalar(0.2)),
//! );
//! let brownian = VirtualBrownianTree::new((0.0, 1.0), [4, 1], 42, 1e-3).unwrap();
//! let y0 = Tensor::<2>::ones([4, 1], &device);
//! let solution =
//!     sde::solve(&term, &EulerMaruyama, (0.0, 1.0), y0, &brownian, &SdeOptions::fixed(0.01))
//!         .unwrap();
//! assert_eq!(solution.last().dims(), [4, 1]);
//! ```

mod brownian;
mod reversible_heun;
mod solve;
mod solver;
mod sra1;
mod term;

pub use brownian::{BrownianPath, Increment, VirtualBrownianTree};
pub use reversible_heun::{ReversibleHeun, ReversibleHeunState};
pub use solve::{SdeOptions, solve, solve_with_state};
pub use solver::{EulerMaruyama, Heun, Milstein, SdeSolver, StepNoise};
pub use sra1::Sra1;
pub use term::{
    DiagonalDerivative, DiagonalNoise, Diffusion, DiffusionValue, GeneralNoise, Interpretation,
    MatrixField, NoDerivative, NoiseKind, SdeTerm,
};
