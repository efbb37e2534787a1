//! Time-dependent fields `(x, t) -> v` (networks or closed forms) and ODE sampling through
//! kiln-neural-de's `solve`.

use burn::tensor::Tensor;
use kiln_neural_de::{ExplicitRk, Solution, SolveOptions, Time, solve};

use crate::Result;
use crate::model::TimeMlp;

/// A field `v(x, t)` on a batch: a velocity, a score, a noise prediction...
///
/// Implemented by [`TimeMlp`] and by closures `Fn(Tensor<2>, Tensor<2>) -> Tensor<2>`.
pub trait TimeField {
    /// `v(x, t)`.
    ///
    /// # Shapes
    /// `x: [batch, dim]`, `t: [batch, 1]` -> `[batch, dim]`
    fn eval(&self, x: Tensor<2>, t: Tensor<2>) -> Tensor<2>;
}

impl TimeField for TimeMlp {
    fn eval(&self, x: Tensor<2>, t: Tensor<2>) -> Tensor<2> {
        self.forward(x, t)
    }
}

impl<F: Fn(Tensor<2>, Tensor<2>) -> Tensor<2>> TimeField for F {
    fn eval(&self, x: Tensor<2>, t: Tensor<2>) -> Tensor<2> {
        self(x, t)
    }
}

/// Integrates `dx/dt = v(x, t)` from `x0` over `t_span` with kiln-neural-de (e.g. Dopri5 with
/// `SolveOptions::adaptive(1e-4, 1e-4)`, or Euler with `SolveOptions::fixed(0.01)`).
///
/// # Shapes
/// `x0: [batch, dim]`; every saved state is `[batch, dim]`.
///
/// # Errors
/// The solver's errors ([`crate::Error::Solve`]).
pub fn integrate<F: TimeField + ?Sized>(
    field: &F,
    x0: Tensor<2>,
    t_span: (f64, f64),
    solver: &ExplicitRk,
    options: &SolveOptions,
) -> Result<Solution<2>> {
    let vf = |t: &Time, y: &Tensor<2>| field.eval(y.clone(), t.broadcast(y));
    Ok(solve(&vf, solver, t_span, x0, options)?)
}
