//! kiln-neural-de: differential-equation solvers on burn tensors.
//!
//! The design separates the equation ([`VectorField`]), the solver ([`Solver`]: one step and
//! an interpolant), the step-size controller ([`PidController`]), what to save ([`SaveAt`]) and
//! how gradients flow (backprop through [`solve`], or [`adjoint`]). One entry point,
//! [`solve`], integrates a batch `[batch, ...]` on one shared step sequence or with step sizes
//! per sample ([`BatchMode::PerSample`]).
//!
//! On top of the solvers: [`models`] (neural ODEs, neural CDEs, stable neural SDEs, RNODE's
//! regularisers), [`interpolate`] (control paths through irregular, missing data) and
//! [`solve_with_cost`] (the solver's own error and stiffness estimates as differentiable costs,
//! ERNODE).
//!
//! ```
//! use kiln_core::burn::tensor::{Device, Tensor};
//! use kiln_neural_de::{ExplicitRk, SolveOptions, Time, solve};
//!
//! let device = Device::flex();
//! // dy/dt = -y from y(0) = 1: y(1) = exp(-1).
//! let y0 = Tensor::<2>::ones([1, 1], &device);
//! let decay = |_t: &Time, y: &Tensor<2>| y.clone().neg();
//! let solution = solve(&decay, &ExplicitRk::dopri5(), (0.0, 1.0), y0, &SolveOptions::adaptive(1e-8, 1e-10))
//!     .unwrap();
//! let y1 = solution.last().clone().into_scalar::<f64>();
//! assert!((y1 - (-1.0f64).exp()).abs() < 1e-6);
//! ```

pub mod adjoint;
mod controller;
pub mod cost;
mod error;
mod host;
pub mod implicit;
pub mod interpolate;
pub mod models;
mod norm;
mod options;
mod per_sample;
pub mod sde;
mod solve;
mod solver;
pub mod step;
pub mod tableau;
mod term;

pub use controller::PidController;
pub use cost::{CostOptions, CostSampling, SolveCost, solve_with_cost};
pub use error::{Error, Result};
pub use host::{HostSolution, solve_host};
pub use implicit::{Jacobian, Kvaerno5};
pub use options::{BatchMode, SaveAt, Solution, SolveOptions, Stats, StepControl, StopReason};
pub use solve::{Event, solve, solve_with_event};
pub use solver::{ExplicitRk, Solver};
pub use tableau::{ButcherTableau, Method};
pub use term::{Time, VectorField};
