//! Smooth activations and their first and second derivatives, as tensor ops.
//!
//! Each activation knows σ, σ′ and σ″ in closed form so a [`Jet`](super::Jet) can carry input
//! derivatives through it with the chain rule.

use burn::config::Config;
use burn::tensor::Tensor;

/// √(2/π), the scale inside the tanh approximation of GELU.
const GELU_C: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of the tanh approximation of GELU.
const GELU_A: f64 = 0.044_715;

/// A twice-differentiable activation function.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Hyperbolic tangent.
    Tanh,
    /// Sine (SIREN-style networks, periodic problems).
    Sin,
    /// softplus(z) = ln(1 + eᶻ), computed stably.
    Softplus,
    /// SiLU / swish: z·sigmoid(z).
    Silu,
    /// GELU in its tanh approximation: ½z(1 + tanh(√(2/π)(z + 0.044715z³))).
    Gelu,
    /// Logistic sigmoid.
    Sigmoid,
}

/// σ(z), σ′(z) and, when asked for, σ″(z), element-wise.
pub(crate) struct Derivatives<const D: usize> {
    pub(crate) value: Tensor<D>,
    pub(crate) first: Tensor<D>,
    pub(crate) second: Option<Tensor<D>>,
}

impl Activation {
    /// Every activation, for tests and command-line parsing.
    pub const ALL: [Activation; 6] = [
        Activation::Tanh,
        Activation::Sin,
        Activation::Softplus,
        Activation::Silu,
        Activation::Gelu,
        Activation::Sigmoid,
    ];

    /// Applies the activation element-wise.
    pub fn forward<const D: usize>(self, z: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Tanh => super::tanh::tanh(z),
            Activation::Sin => z.sin(),
            Activation::Softplus => softplus(z),
            Activation::Silu => z.clone() * sigmoid(z),
            Activation::Gelu => {
                let t = gelu_inner(z.clone()).tanh();
                z.mul_scalar(0.5) * t.add_scalar(1.0)
            }
            Activation::Sigmoid => sigmoid(z),
        }
    }

    /// σ, σ′ and (if `second`) σ″ at `z`.
    pub(crate) fn derivatives<const D: usize>(self, z: Tensor<D>, second: bool) -> Derivatives<D> {
        let (value, first, second) = match self {
            Activation::Tanh if z.is_tracked() => tanh_tracked(z, second),
            Activation::Tanh => {
                let (t, d1) = super::tanh::tanh_and_derivative(z);
                let d2 = second.then(|| t.clone().mul(d1.clone()).mul_scalar(-2.0));
                (t, d1, d2)
            }
            Activation::Sin => {
                let s = z.clone().sin();
                let d2 = second.then(|| s.clone().neg());
                (s, z.cos(), d2)
            }
            Activation::Softplus => {
                let s = sigmoid(z.clone());
                let d2 = second.then(|| s.clone() * s.clone().neg().add_scalar(1.0));
                (softplus(z), s, d2)
            }
            Activation::Silu => {
                let s = sigmoid(z.clone());
                let one_minus_s = s.clone().neg().add_scalar(1.0);
                // σ′ = s(1 + z(1 − s)), σ″ = s(1 − s)(2 + z(1 − 2s)).
                let d1 = s.clone() * (z.clone() * one_minus_s.clone()).add_scalar(1.0);
                let d2 = second.then(|| {
                    let one_minus_2s = s.clone().mul_scalar(-2.0).add_scalar(1.0);
                    s.clone() * one_minus_s * (z.clone() * one_minus_2s).add_scalar(2.0)
                });
                (z * s, d1, d2)
            }
            Activation::Gelu => {
                // g = ½z(1 + t), t = tanh(u), u = c(z + a z³).
                let t = gelu_inner(z.clone()).tanh();
                let sech2 = t.clone().square().neg().add_scalar(1.0);
                let du = z
                    .clone()
                    .square()
                    .mul_scalar(3.0 * GELU_A)
                    .add_scalar(1.0)
                    .mul_scalar(GELU_C);
                let value = z.clone().mul_scalar(0.5) * t.clone().add_scalar(1.0);
                // g′ = ½(1 + t) + ½ z sech²(u) u′.
                let d1 = t.clone().add_scalar(1.0).mul_scalar(0.5)
                    + z.clone().mul_scalar(0.5) * sech2.clone() * du.clone();
                // g″ = sech²(u) [u′ + ½ z (u″ − 2 t u′²)], u″ = 6 a c z.
                let d2 = second.then(|| {
                    let ddu = z.clone().mul_scalar(6.0 * GELU_A * GELU_C);
                    let inner = ddu - t.clone() * du.clone().square().mul_scalar(2.0);
                    sech2.clone() * (du.clone() + z.clone().mul_scalar(0.5) * inner)
                });
                (value, d1, d2)
            }
            Activation::Sigmoid => {
                let s = sigmoid(z);
                let d1 = s.clone() * s.clone().neg().add_scalar(1.0);
                let d2 = second.then(|| d1.clone() * s.clone().mul_scalar(-2.0).add_scalar(1.0));
                (s, d1, d2)
            }
        };
        Derivatives {
            value,
            first,
            second,
        }
    }
}

/// tanh and its derivatives at a tensor on an autodiff graph, evaluated off the graph.
///
/// Differentiating `z.tanh()` makes the backward pass evaluate tanh a second time and spend four
/// more ops on 1 − t². Instead t, t′, t″ and t‴ are computed without autodiff and tied back to
/// `z` through δ = z − z̄ (z̄ the same values as constants, so δ is exactly zero):
/// σ = t + t′δ, σ′ = t′ + t″δ, σ″ = t″ + t‴δ. The values are exactly t, t′, t″ and their
/// derivatives with respect to `z` are t′, t″, t‴, which is all reverse mode needs.
fn tanh_tracked<const D: usize>(
    z: Tensor<D>,
    second: bool,
) -> (Tensor<D>, Tensor<D>, Option<Tensor<D>>) {
    let constant = z.clone().without_autodiff();
    let (t, d1) = super::tanh::tanh_and_derivative(constant.clone());
    let d2 = t.clone().mul(d1.clone()).mul_scalar(-2.0);
    let delta = z - constant;
    let second = second.then(|| {
        // t‴ = −2(t′² + t t″).
        let d3 = (d1.clone().square() + t.clone() * d2.clone()).mul_scalar(-2.0);
        delta.clone() * d3 + d2.clone()
    });
    let value = delta.clone() * d1.clone() + t;
    let first = delta * d2 + d1;
    (value, first, second)
}

/// The logistic sigmoid 1 / (1 + e^(−z)).
///
/// Written out rather than taken from burn because burn-ndarray evaluates its sigmoid in f32
/// even for f64 tensors, which spoils f64 derivatives. For large |z| it saturates cleanly:
/// e^(−z) overflows to +∞ and the result is 0, or underflows to 0 and the result is 1.
fn sigmoid<const D: usize>(z: Tensor<D>) -> Tensor<D> {
    z.neg().exp().add_scalar(1.0).recip()
}

/// softplus(z) = max(z, 0) + ln(1 + e^(−|z|)), which neither overflows nor loses small values.
fn softplus<const D: usize>(z: Tensor<D>) -> Tensor<D> {
    z.clone().clamp_min(0.0) + z.abs().neg().exp().log1p()
}

/// u = √(2/π)(z + 0.044715 z³).
fn gelu_inner<const D: usize>(z: Tensor<D>) -> Tensor<D> {
    (z.clone() + z.powi_scalar(3).mul_scalar(GELU_A)).mul_scalar(GELU_C)
}
