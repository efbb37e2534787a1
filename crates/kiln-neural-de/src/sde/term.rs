//! The stochastic equation `dy = f(t, y) dt + g(t, y) dW`: drift, diffusion (diagonal or general
//! noise), and whether the stochastic integral is read in the Itô or the Stratonovich sense.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::term::{Time, VectorField};

/// How the stochastic integral `∫ g dW` is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Interpretation {
    /// Itô: `g` at the left end of each interval.
    Ito,
    /// Stratonovich (`∘ dW`): `g` at the midpoint; the chain rule of calculus holds.
    Stratonovich,
}

/// The shape of the noise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoiseKind {
    /// One Brownian motion per state component: `g` is `[batch, n]` and multiplies `dW`
    /// elementwise (`m = n`). Milstein assumes that `gᵢ` depends on `yᵢ` only.
    Diagonal,
    /// `m` Brownian motions: `g` is `[batch, n, m]` and multiplies `dW: [batch, m]` as a matrix.
    General,
}

/// A value of the diffusion `g(t, y)`.
#[derive(Clone, Debug)]
pub enum DiffusionValue {
    /// Diagonal noise, `[batch, n]`.
    Diagonal(Tensor<2>),
    /// General noise, `[batch, n, m]`.
    General(Tensor<3>),
}

impl DiffusionValue {
    /// `g dW`: elementwise for diagonal noise, a batched matrix-vector product otherwise.
    ///
    /// # Shapes
    /// `dw: [batch, m] -> [batch, n]`
    pub fn prod(&self, dw: &Tensor<2>) -> Tensor<2> {
        match self {
            DiffusionValue::Diagonal(g) => g.clone().mul(dw.clone()),
            DiffusionValue::General(g) => {
                let [batch, n, _] = g.dims();
                let col: Tensor<3> = dw.clone().unsqueeze_dim(2);
                g.clone().matmul(col).reshape([batch, n])
            }
        }
    }

    /// `a g + b other` (both of the same kind).
    pub(crate) fn combine(&self, a: f64, other: &DiffusionValue, b: f64) -> DiffusionValue {
        match (self, other) {
            (DiffusionValue::Diagonal(x), DiffusionValue::Diagonal(y)) => {
                DiffusionValue::Diagonal(x.clone().mul_scalar(a).add(y.clone().mul_scalar(b)))
            }
            (DiffusionValue::General(x), DiffusionValue::General(y)) => {
                DiffusionValue::General(x.clone().mul_scalar(a).add(y.clone().mul_scalar(b)))
            }
            _ => unreachable!("a diffusion returns one kind of value"),
        }
    }

    /// The shape of the value.
    pub fn dims(&self) -> Vec<usize> {
        match self {
            DiffusionValue::Diagonal(g) => g.dims().to_vec(),
            DiffusionValue::General(g) => g.dims().to_vec(),
        }
    }

    /// `max |g|` on the host (detached).
    pub(crate) fn max_abs(&self) -> f64 {
        match self {
            DiffusionValue::Diagonal(g) => g.clone().detach().abs().max().into_scalar::<f64>(),
            DiffusionValue::General(g) => g.clone().detach().abs().max().into_scalar::<f64>(),
        }
    }
}

/// The diffusion `g(t, y)` of an SDE.
///
/// Use [`DiagonalNoise`] or [`GeneralNoise`] to wrap closures, or implement it on a model.
pub trait Diffusion {
    /// The shape of the noise.
    fn kind(&self) -> NoiseKind;

    /// `g(t, y)`.
    ///
    /// # Shapes
    /// `y: [batch, n] -> [batch, n]` (diagonal) or `[batch, n, m]` (general)
    fn eval(&self, t: &Time, y: &Tensor<2>) -> DiffusionValue;

    /// For diagonal noise, `∂gᵢ/∂yᵢ` if known in closed form (`None`: Milstein uses finite
    /// differences).
    ///
    /// # Shapes
    /// `y: [batch, n] -> [batch, n]`
    fn diagonal_derivative(&self, _t: &Time, _y: &Tensor<2>) -> Option<Tensor<2>> {
        None
    }
}

/// A function `(t, y) -> [batch, n, m]`, the matrix of general noise. Implemented for closures.
pub trait MatrixField {
    /// `g(t, y)`.
    ///
    /// # Shapes
    /// `y: [batch, n] -> [batch, n, m]`
    fn eval(&self, t: &Time, y: &Tensor<2>) -> Tensor<3>;
}

impl<F> MatrixField for F
where
    F: Fn(&Time, &Tensor<2>) -> Tensor<3>,
{
    fn eval(&self, t: &Time, y: &Tensor<2>) -> Tensor<3> {
        self(t, y)
    }
}

/// Marks a [`DiagonalNoise`] without a closed-form derivative.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoDerivative;

/// An optional closed-form `∂gᵢ/∂yᵢ` of diagonal noise: [`NoDerivative`] or a [`VectorField`].
pub trait DiagonalDerivative {
    /// `∂gᵢ/∂yᵢ`, or `None`.
    fn derivative(&self, t: &Time, y: &Tensor<2>) -> Option<Tensor<2>>;
}

impl DiagonalDerivative for NoDerivative {
    fn derivative(&self, _t: &Time, _y: &Tensor<2>) -> Option<Tensor<2>> {
        None
    }
}

impl<F: VectorField<2>> DiagonalDerivative for F {
    fn derivative(&self, t: &Time, y: &Tensor<2>) -> Option<Tensor<2>> {
        Some(self.eval(t, y))
    }
}

/// Diagonal noise from a field `g(t, y): [batch, n] -> [batch, n]`, optionally with its
/// derivative `∂gᵢ/∂yᵢ` for Milstein.
#[derive(Clone, Debug)]
pub struct DiagonalNoise<G, Dg = NoDerivative> {
    g: G,
    dg: Dg,
}

impl<G: VectorField<2>> DiagonalNoise<G> {
    /// Diagonal noise with diffusion `g`.
    pub fn new(g: G) -> Self {
        Self {
            g,
            dg: NoDerivative,
        }
    }

    /// Adds the closed-form derivative `∂gᵢ/∂yᵢ` (`[batch, n] -> [batch, n]`).
    pub fn with_derivative<Dg: VectorField<2>>(self, dg: Dg) -> DiagonalNoise<G, Dg> {
        DiagonalNoise { g: self.g, dg }
    }
}

impl<G: VectorField<2>, Dg: DiagonalDerivative> Diffusion for DiagonalNoise<G, Dg> {
    fn kind(&self) -> NoiseKind {
        NoiseKind::Diagonal
    }

    fn eval(&self, t: &Time, y: &Tensor<2>) -> DiffusionValue {
        DiffusionValue::Diagonal(self.g.eval(t, y))
    }

    fn diagonal_derivative(&self, t: &Time, y: &Tensor<2>) -> Option<Tensor<2>> {
        self.dg.derivative(t, y)
    }
}

/// General noise from a field `g(t, y): [batch, n] -> [batch, n, m]`.
#[derive(Clone, Debug)]
pub struct GeneralNoise<G> {
    g: G,
}

impl<G: MatrixField> GeneralNoise<G> {
    /// General noise with diffusion matrix `g`.
    pub fn new(g: G) -> Self {
        Self { g }
    }
}

impl<G: MatrixField> Diffusion for GeneralNoise<G> {
    fn kind(&self) -> NoiseKind {
        NoiseKind::General
    }

    fn eval(&self, t: &Time, y: &Tensor<2>) -> DiffusionValue {
        DiffusionValue::General(self.g.eval(t, y))
    }
}

/// An SDE `dy = f(t, y) dt + g(t, y) dW` (Itô) or `dy = f dt + g ∘ dW` (Stratonovich) on a
/// state `[batch, n]`.
///
/// With additive noise (`g` independent of `y`, declared with
/// [`SdeTerm::with_additive_noise`]) both readings agree and every solver applies.
#[derive(Clone, Debug)]
pub struct SdeTerm<F, G> {
    /// The drift `f(t, y)`.
    pub drift: F,
    /// The diffusion `g(t, y)`.
    pub diffusion: G,
    /// Itô or Stratonovich.
    pub interpretation: Interpretation,
    /// Whether `g` is declared independent of `y`.
    pub additive: bool,
}

impl<F: VectorField<2>, G: Diffusion> SdeTerm<F, G> {
    /// An Itô SDE.
    pub fn ito(drift: F, diffusion: G) -> Self {
        Self {
            drift,
            diffusion,
            interpretation: Interpretation::Ito,
            additive: false,
        }
    }

    /// A Stratonovich SDE.
    pub fn stratonovich(drift: F, diffusion: G) -> Self {
        Self {
            drift,
            diffusion,
            interpretation: Interpretation::Stratonovich,
            additive: false,
        }
    }

    /// Declares that `g` does not depend on `y` (it may depend on `t`). SRA1 requires it and
    /// checks it at the start of a solve.
    pub fn with_additive_noise(mut self) -> Self {
        self.additive = true;
        self
    }

    /// Whether a solver converging to `interpretation` converges to this SDE's solution.
    pub fn reads_as(&self, interpretation: Interpretation) -> bool {
        self.additive || self.interpretation == interpretation
    }
}
