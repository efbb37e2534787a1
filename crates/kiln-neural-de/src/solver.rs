//! The solver interface (one `step` and an interpolant) and the generic explicit Runge-Kutta
//! solver driven by a [`ButcherTableau`].

use burn::tensor::Tensor;

use crate::step::{Clock, RkStep, dop853_extra_stages, explicit_step};
use crate::tableau::{ButcherTableau, DenseOutput, Method, dense_weights};
use crate::term::VectorField;
use crate::{Error, Result};

/// A one-step method. Drivers call [`Solver::step`] and decide about the step themselves; the
/// solver never sees the controller.
pub trait Solver {
    /// Name for messages and reports.
    fn name(&self) -> String;

    /// Order of the solution.
    fn order(&self) -> usize;

    /// Order of the error estimate, `None` when the method has none.
    fn error_order(&self) -> Option<usize>;

    /// Number of stages: the index of `f(t₁, y₁)` in [`RkStep::k`].
    fn stages(&self) -> usize;

    /// Whether steps can have a different size per sample.
    fn supports_per_sample(&self) -> bool {
        true
    }

    /// The solver adapted to an adaptive solve's tolerances, or `None` to use it unchanged.
    /// Implicit solvers use this to tie Newton's convergence test to `rtol` and `atol`; the
    /// solver still never sees the controller's decisions.
    fn with_tolerances(&self, _rtol: f64, _atol: f64) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }

    /// One step from `y0` with `f0 = f(t₀, y₀)`, counting vector-field evaluations in `nfe`.
    ///
    /// # Errors
    /// Solver-specific failures that a smaller step cannot fix.
    fn step<const D: usize, F: VectorField<D>>(
        &self,
        field: &F,
        clock: &Clock<D>,
        y0: &Tensor<D>,
        f0: &Tensor<D>,
        nfe: &mut usize,
    ) -> Result<RkStep<D>>;

    /// Adds whatever the interpolant needs beyond the step's own stages (DOP853's extra stages).
    fn prepare_dense<const D: usize, F: VectorField<D>>(
        &self,
        _field: &F,
        _clock: &Clock<D>,
        _step: &mut RkStep<D>,
        _nfe: &mut usize,
    ) {
    }

    /// Interpolation weights at `θ`: `y(θ) = y₀ + a (y₁ - y₀) + h Σᵢ bᵢ kᵢ`.
    fn dense_weights(&self, theta: f64) -> (f64, Vec<f64>);

    /// Weights `w` with `y₁ - g_s = h Σᵢ wᵢ kᵢ` between the last internal stage input `g_s` and
    /// the step's end, for Shampine's stiffness estimate `‖f(y₁) - k_s‖ / ‖y₁ - g_s‖`; `None`
    /// when the solver has no such pair of stages.
    fn stiffness_weights(&self) -> Option<Vec<f64>> {
        None
    }
}

/// An explicit Runge-Kutta method given by its tableau.
#[derive(Clone, Debug, PartialEq)]
pub struct ExplicitRk {
    tableau: ButcherTableau,
}

impl ExplicitRk {
    /// One of kiln's methods.
    pub fn new(method: Method) -> Self {
        Self {
            tableau: method.tableau(),
        }
    }

    /// Any explicit method from its tableau.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when the tableau is not explicit and consistent
    /// (`Σⱼ aᵢⱼ = cᵢ`, `Σ bᵢ = 1`) or its weights have the wrong lengths.
    pub fn from_tableau(tableau: ButcherTableau) -> Result<Self> {
        let s = tableau.stages();
        let explicit = tableau.a.iter().enumerate().all(|(i, row)| row.len() == i);
        if !explicit || tableau.c.len() != s || !tableau.is_consistent() {
            return Err(Error::option(
                "tableau",
                tableau.name,
                "need an explicit, consistent tableau: row i of a has i entries, Σⱼ aᵢⱼ = cᵢ, Σ b = 1",
            ));
        }
        if let crate::tableau::ErrorEstimator::Embedded { weights, .. } = &tableau.error
            && weights.len() != s + 1
        {
            return Err(Error::option(
                "tableau.error",
                format!("{} weights", weights.len()),
                &format!(
                    "give {} weights: one per stage and one for f(t1, y1)",
                    s + 1
                ),
            ));
        }
        Ok(Self { tableau })
    }

    /// Forward Euler.
    pub fn euler() -> Self {
        Self::new(Method::Euler)
    }
    /// The classical RK4.
    pub fn rk4() -> Self {
        Self::new(Method::Rk4)
    }
    /// Bogacki-Shampine 3(2).
    pub fn bosh3() -> Self {
        Self::new(Method::Bosh3)
    }
    /// Dormand-Prince 5(4).
    pub fn dopri5() -> Self {
        Self::new(Method::Dopri5)
    }
    /// Tsitouras 5(4).
    pub fn tsit5() -> Self {
        Self::new(Method::Tsit5)
    }
    /// Dormand-Prince 8(5,3).
    pub fn dopri8() -> Self {
        Self::new(Method::Dopri8)
    }

    /// The tableau.
    pub fn tableau(&self) -> &ButcherTableau {
        &self.tableau
    }
}

impl Solver for ExplicitRk {
    fn name(&self) -> String {
        self.tableau.name.to_string()
    }

    fn order(&self) -> usize {
        self.tableau.order
    }

    fn error_order(&self) -> Option<usize> {
        self.tableau.error_order()
    }

    fn stages(&self) -> usize {
        self.tableau.stages()
    }

    fn step<const D: usize, F: VectorField<D>>(
        &self,
        field: &F,
        clock: &Clock<D>,
        y0: &Tensor<D>,
        f0: &Tensor<D>,
        nfe: &mut usize,
    ) -> Result<RkStep<D>> {
        Ok(explicit_step(&self.tableau, field, clock, y0, f0, nfe))
    }

    fn prepare_dense<const D: usize, F: VectorField<D>>(
        &self,
        field: &F,
        clock: &Clock<D>,
        step: &mut RkStep<D>,
        nfe: &mut usize,
    ) {
        if self.tableau.dense == DenseOutput::Dop853 {
            dop853_extra_stages(field, clock, step, nfe);
        }
    }

    fn dense_weights(&self, theta: f64) -> (f64, Vec<f64>) {
        dense_weights(&self.tableau, theta)
    }

    fn stiffness_weights(&self) -> Option<Vec<f64>> {
        let s = self.tableau.stages();
        if s < 2 {
            return None;
        }
        let last = &self.tableau.a[s - 1];
        Some(
            self.tableau
                .b
                .iter()
                .enumerate()
                .map(|(j, b)| b - last.get(j).copied().unwrap_or(0.0))
                .collect(),
        )
    }
}
