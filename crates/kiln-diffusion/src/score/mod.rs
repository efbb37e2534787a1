//! Score-based diffusion: forward processes, denoising score matching, EDM preconditioning,
//! samplers (reverse SDE, predictor-corrector, probability-flow ODE, DDIM), classifier-free
//! guidance, probability-flow likelihoods, and closed-form scores for the oracles.
//!
//! Every ODE and SDE is integrated by kiln-neural-de; the Langevin corrector and DDIM are
//! discrete maps.

mod dsm;
mod edm;
mod guidance;
mod likelihood;
mod oracle;
mod sample;
mod sde;

pub use dsm::{DsmBatch, DsmConfig, Prediction, ScoreModel, ScoreNet, Weighting, dsm_loss};
pub use edm::{EdmPrecond, edm_sample};
pub use guidance::{Guided, drop_conditions};
pub use likelihood::{Divergence, LogLikelihood, log_likelihood};
pub use oracle::{GaussianScore, ideal_denoiser};
pub use sample::{
    Langevin, ddim, ddim_discrete, ddim_update, predictor_corrector, prior_sample,
    probability_flow, reverse_sde,
};
pub use sde::{DdpmSchedule, ForwardSde};
