//! RNODE's regularisers (Finlay et al. 2020) integrated alongside the state: the kinetic energy
//! `∫ ‖f(t, y)‖² dt` and the Jacobian's Frobenius norm `∫ ‖∂f/∂y‖²_F dt`, exactly (one
//! Jacobian-vector product per state dimension) or by Hutchinson's estimator
//! `E_ε ‖(∂f/∂y) ε‖²` with Rademacher `ε` (one product). Jacobian-vector products travel forward
//! as jets (burn has no double backward), so backprop through the solve differentiates both
//! integrals with respect to the parameters.

use burn::tensor::{Device, Tensor, TensorData};
use kiln_core::rng::Rng;
use serde::{Deserialize, Serialize};

use crate::options::{SaveAt, SolveOptions, Stats};
use crate::solver::Solver;
use crate::term::{Time, VectorField};
use crate::{Error, solve};

/// A vector field that can also return Jacobian-vector products `(∂f/∂y) v`.
pub trait JvpField: VectorField<2> {
    /// `f(t, y)` and `(∂f/∂y) vₖ` for every direction `vₖ`.
    ///
    /// # Shapes
    /// `y: [batch, n]`, `v: [m, batch, n] -> ([batch, n], [m, batch, n])`
    fn eval_jvp(&self, t: &Time, y: &Tensor<2>, v: &Tensor<3>) -> (Tensor<2>, Tensor<3>);
}

/// How the Jacobian's Frobenius norm is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JacobianNorm {
    /// Not at all.
    Off,
    /// Exactly, with one Jacobian-vector product per state dimension.
    Exact,
    /// Hutchinson's estimator with one Rademacher direction per sample, drawn per solve.
    Hutchinson {
        /// Seed of the directions; vary it between training iterations.
        seed: u64,
    },
}

/// Which RNODE integrals to accumulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rnode {
    /// Integrate the kinetic energy `‖f‖²`.
    pub kinetic: bool,
    /// Integrate the Jacobian's Frobenius norm.
    pub jacobian: JacobianNorm,
}

/// The RNODE integrals of a solve, averaged over the batch.
#[derive(Clone, Debug)]
pub struct RnodeCost {
    /// `mean_batch ∫ ‖f‖² dt`, shape `[1]` (zero when off).
    pub kinetic: Tensor<1>,
    /// `mean_batch ∫ ‖∂f/∂y‖²_F dt` (or its estimate), shape `[1]` (zero when off).
    pub jacobian: Tensor<1>,
}

/// The field on `[y, kinetic, jacobian]`.
struct WithIntegrals<'a, F> {
    field: &'a F,
    n: usize,
    kinetic: bool,
    directions: Option<Tensor<3>>,
}

impl<F: JvpField> VectorField<2> for WithIntegrals<'_, F> {
    fn eval(&self, t: &Time, z: &Tensor<2>) -> Tensor<2> {
        let y = z.clone().narrow(1, 0, self.n);
        let (f, jv) = match &self.directions {
            Some(v) => {
                let (f, jv) = self.field.eval_jvp(t, &y, v);
                (f, Some(jv))
            }
            None => (self.field.eval(t, &y), None),
        };
        let batch = y.dims()[0];
        let zero = || Tensor::<2>::zeros([batch, 1], &y.device());
        let kinetic = if self.kinetic {
            f.clone().square().sum_dim(1)
        } else {
            zero()
        };
        let jacobian = match jv {
            // [m, batch, n] -> [batch, 1]
            Some(jv) => jv.square().sum_dim(2).sum_dim(0).squeeze_dim::<2>(0),
            None => zero(),
        };
        Tensor::cat(vec![f, kinetic, jacobian], 1)
    }
}

/// The directions of the Jacobian norm: `[n, batch, n]` unit vectors, or `[1, batch, n]`
/// Rademacher signs.
fn directions(norm: JacobianNorm, batch: usize, n: usize, device: &Device) -> Option<Tensor<3>> {
    match norm {
        JacobianNorm::Off => None,
        JacobianNorm::Exact => Some(
            Tensor::<2>::eye(n, device)
                .unsqueeze_dim::<3>(1)
                .expand([n, batch, n]),
        ),
        JacobianNorm::Hutchinson { seed } => {
            let mut rng = Rng::new(seed);
            let signs: Vec<f64> = (0..batch * n).map(|_| f64::from(rng.sign())).collect();
            Some(Tensor::from_data(
                TensorData::new(signs, [1, batch, n]),
                device,
            ))
        }
    }
}

/// Solves `dy/dt = f(t, y)` from `y0` at `ts[0]` and returns the states at `ts`
/// `[times, batch, n]`, the RNODE integrals over `[ts[0], ts.last()]` and the solve's counters.
/// The integrals are extra columns of the integrated state, so adaptive steps control their
/// error too (as RNODE does).
///
/// # Errors
/// [`Error::InvalidOption`] for fewer than two times, and every error of [`crate::solve`].
pub fn solve_rnode<F: JvpField, S: Solver>(
    field: &F,
    y0: Tensor<2>,
    ts: &[f64],
    solver: &S,
    options: &SolveOptions,
    rnode: &Rnode,
) -> crate::Result<(Tensor<3>, RnodeCost, Stats)> {
    let (t0, t1) = match ts {
        [first, .., last] => (*first, *last),
        _ => {
            return Err(Error::option(
                "ts",
                format!("{ts:?}"),
                "give at least two times: the initial time and one output time",
            ));
        }
    };
    let [batch, n] = y0.dims();
    let device = y0.device();
    let wrapped = WithIntegrals {
        field,
        n,
        kinetic: rnode.kinetic,
        directions: directions(rnode.jacobian, batch, n, &device),
    };
    let z0 = Tensor::cat(vec![y0, Tensor::zeros([batch, 2], &device)], 1);
    let sol = solve(
        &wrapped,
        solver,
        (t0, t1),
        z0,
        &options.clone().save_at(SaveAt::Times(ts.to_vec())),
    )?;
    let last = sol.last().clone();
    let kinetic = last.clone().narrow(1, n, 1).mean().reshape([1]);
    let jacobian = last.narrow(1, n + 1, 1).mean().reshape([1]);
    let states = Tensor::stack::<3>(sol.ys, 0).narrow(2, 0, n);
    Ok((states, RnodeCost { kinetic, jacobian }, sol.stats))
}
