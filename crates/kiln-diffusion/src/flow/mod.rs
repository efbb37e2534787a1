//! Flow matching and stochastic interpolants.
//!
//! One object covers the family: an [`Interpolant`] `x_t = α(t) x₀ + β(t) x₁ + γ(t) z` (path
//! and latent noise) and a [`Coupling`] of the minibatch pairs `(x₀, x₁)`:
//!
//! | method | coupling | path | γ(t) |
//! |---|---|---|---|
//! | I-CFM (Lipman; Tong et al.) | independent | linear | σ |
//! | exact OT-CFM | exact assignment per batch | linear | σ |
//! | SB-CFM | entropic plan, ε = 2σ² (Sinkhorn) | linear | σ√(t(1-t)) |
//! | stochastic interpolants (Albergo, Boffi, Vanden-Eijnden) | independent | linear or trigonometric | √(a t(1-t)) |
//!
//! [`FlowMatcher::sample`] returns `t`, `x_t`, the velocity target `α′x₀ + β′x₁ + γ′z` and the
//! latent `z` (the denoiser's target; the score of `x_t` is `-E[z | x_t] / γ(t)`).
//! [`GaussianFlow`] is the closed-form minimiser between Gaussians, the oracle of the tests.
//! Samples come from the ODE `dx/dt = b` ([`crate::field::integrate`]) or, with a denoiser,
//! from the SDE [`InterpolantSde`]; both go through kiln-neural-de.

mod gaussian;
mod interpolant;
mod matcher;
mod sde;

pub use gaussian::GaussianFlow;
pub use interpolant::{Gamma, Interpolant, Path};
pub use matcher::{Coupling, FlowBatch, FlowMatcher, FlowMatcherConfig, mse};
pub use sde::InterpolantSde;
