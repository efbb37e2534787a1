//! kiln-diffusion: score-based diffusion, flow matching, stochastic interpolants and
//! Schrödinger bridges on burn.
//!
//! - [`data`]: seeded 2-D toy sets, Gaussian and mixture sources, `.npz` samples.
//! - [`metrics`]: exact OT (W2 by assignment), Sinkhorn, MMD, energy distance, Gaussian W2.
//! - [`flow`]: conditional flow matching (I-CFM, exact OT-CFM, SB-CFM) and stochastic
//!   interpolants, with the closed-form Gaussian flow as oracle.
//! - [`model`]: the time-conditioned MLP; [`field`]: fields `v(x, t)` and ODE sampling.
//! - [`score`]: forward SDEs (VP, sub-VP, VE, cosine, DDPM), denoising score matching, EDM,
//!   samplers, classifier-free guidance and probability-flow likelihoods.
//! - [`bridge`]: the closed-form Gaussian Schrödinger bridge and Light Schrödinger Bridge.
//! - [`linalg`]: the small host-side linear algebra behind the closed-form oracles.
//!
//! Every ODE and SDE is integrated by kiln-neural-de; this crate defines fields, losses and
//! samplers on top of it.
//!
//! ```
//! use kiln_core::burn::tensor::{Device, Tensor};
//! use kiln_core::rng::Rng;
//! use kiln_diffusion::data::{Gaussian, Toy2d};
//! use kiln_diffusion::field::integrate;
//! use kiln_diffusion::flow::{FlowMatcherConfig, Gamma, GaussianFlow, Interpolant, Path};
//! use kiln_diffusion::metrics::{w2, w2_gaussian};
//! use kiln_diffusion::Samples;
//! use kiln_neural_de::{ExplicitRk, SolveOptions};
//!
//! let device = Device::flex();
//! // One exact-OT-CFM batch from 8 gaussians to moons.
//! let mut rng = Rng::new(0);
//! let matcher = FlowMatcherConfig::otcfm(0.1).init().unwrap();
//! let x0 = Toy2d::EightGaussians.sample_with(64, &mut rng);
//! let x1 = Toy2d::Moons.sample_with(64, &mut rng);
//! let batch = matcher.sample(&x0, &x1, &mut rng, &device).unwrap();
//! assert_eq!(batch.xt.dims(), [64, 2]);
//! // The closed-form flow between two Gaussians, integrated by Dopri5, lands on the target.
//! let (p, q) = (Gaussian::standard(2), Gaussian::isotropic(vec![3.0, 0.0], 0.5).unwrap());
//! let path = Interpolant { path: Path::Linear, gamma: Gamma::Zero };
//! let flow = GaussianFlow::new(p.clone(), q.clone(), path).unwrap();
//! let field = |x: Tensor<2>, t: Tensor<2>| flow.velocity(x, t);
//! let x = p.sample(500, 1).to_tensor(&device);
//! let out = integrate(&field, x, (0.0, 1.0), &ExplicitRk::dopri5(), &SolveOptions::adaptive(1e-5, 1e-5))
//!     .unwrap();
//! let pushed = Samples::from_tensor(out.last().clone()).unwrap();
//! let distance = w2(&pushed, &q.sample(500, 2)).unwrap();
//! assert!(distance < 0.3, "{distance}");
//! assert!((w2_gaussian(&p, &q).unwrap() - (9.0f64 + 2.0 * 0.25).sqrt()).abs() < 1e-9);
//! ```

pub mod bridge;
pub mod data;
mod error;
pub mod field;
pub mod flow;
pub mod linalg;
pub mod metrics;
pub mod model;
mod samples;
pub mod score;

pub use error::{Error, Result};
pub use samples::Samples;
