//! Neural differential equations built on the solvers: neural ODEs, neural CDEs on
//! [`crate::interpolate`] control paths, stable neural SDEs, latent ODEs with ODE-RNN encoders,
//! and cost regularisers
//! (RNODE's kinetic energy and Jacobian norm here; ERNODE's solver costs in
//! [`crate::solve_with_cost`]).
//!
//! Models are burn modules built from `#[derive(Config)]` configurations. A model's vector field
//! is a [`crate::VectorField`] and a burn `Module`, so it can be integrated by [`crate::solve`]
//! (gradients by backprop through the steps) or by [`crate::adjoint::solve_adjoint`] (continuous
//! adjoint), and trained with kiln-core's `Trainer`.

mod latent_ode;
mod ncde;
mod node;
mod rnode;
mod stable_sde;

pub use latent_ode::{LatentOde, LatentOdeConfig, LatentOdeOutput};
pub use ncde::{NeuralCde, NeuralCdeConfig};
pub use node::{FieldInput, NeuralOde, NeuralOdeConfig};
pub use rnode::{JacobianNorm, JvpField, Rnode, RnodeCost, solve_rnode};
pub use stable_sde::{StableClass, StableDiffusion, StableDrift, StableSde, StableSdeConfig};
