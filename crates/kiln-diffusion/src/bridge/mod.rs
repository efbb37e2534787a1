//! Schrödinger bridges with the Wiener reference of variance ε: the closed-form bridge between
//! Gaussians ([`GaussianBridge`]) and Light Schrödinger Bridge ([`LightSb`]), whose
//! Gaussian-mixture potential gives the conditional plan `π(y | x)` in closed form.

mod gaussian;
mod lightsb;

pub use gaussian::GaussianBridge;
pub use lightsb::{LightSb, LightSbConfig};
