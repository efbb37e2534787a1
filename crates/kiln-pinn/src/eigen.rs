//! Eigenvalue problems H ψ = E ψ with a trainable eigenvalue: the residual reads E from the
//! model's coefficient 0, a normalisation loss keeps ψ away from the trivial zero solution, and
//! orthogonality losses against earlier states find excited states one by one.
//!
//! Integrals over the domain are means over the collocation points times the domain's volume, so
//! collocation points should be evenly spread (a grid or a low-discrepancy sampler).
//! [`finite_difference_eigenvalues`] gives independent reference values for 1-D Schrödinger
//! operators.

use burn::tensor::{Device, Tensor};
use kiln_core::SecondOrder;
use kiln_core::train::Loss;

use crate::network::{JetNetwork, Pinn};
use crate::problem::{Term, combine};
use crate::train::{PinnOutcome, PinnTrainConfig, train_with};
use crate::tridiagonal::symmetric_tridiagonal_eigenvalues;
use crate::{Error, Problem, Result};

/// A PINN eigenvalue problem built around a [`Problem`] whose residual is `H ψ - E ψ` with E read
/// from the model's coefficient 0 (see [`crate::Fields::coefficient`]).
#[derive(Debug, Clone)]
pub struct EigenSolver {
    problem: Problem,
    volume: f64,
    normalisation_weight: f64,
    orthogonality_weight: f64,
    /// Earlier states at the collocation points, normalised and detached.
    previous: Vec<Tensor<2>>,
}

impl EigenSolver {
    /// Wraps `problem` (with a residual and collocation points) whose domain has measure `volume`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a non-positive volume or a problem without collocation points.
    pub fn new(problem: Problem, volume: f64) -> Result<Self> {
        if !(volume > 0.0 && volume.is_finite()) {
            return Err(Error::config(
                "volume",
                volume,
                "must be positive and finite",
            ));
        }
        if problem.collocation().is_none() {
            return Err(Error::config(
                "collocation",
                "none",
                "the normalisation integral needs collocation points",
            ));
        }
        Ok(EigenSolver {
            problem,
            volume,
            normalisation_weight: 1.0,
            orthogonality_weight: 1.0,
            previous: Vec::new(),
        })
    }

    /// Weights of the normalisation and orthogonality losses (default 1 and 1).
    pub fn with_weights(mut self, normalisation: f64, orthogonality: f64) -> Self {
        self.normalisation_weight = normalisation;
        self.orthogonality_weight = orthogonality;
        self
    }

    /// The wrapped problem.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    fn collocation(&self) -> Result<Tensor<2>> {
        let points = self.problem.collocation().ok_or_else(|| {
            Error::config(
                "collocation",
                "none",
                "set collocation points on the problem",
            )
        })?;
        points.to_tensor(self.problem.device())
    }

    /// ∫ a b over the domain as a mean times the volume. `[n, 1]` inputs, `[1]` output.
    fn integral(&self, a: Tensor<2>, b: Tensor<2>) -> Tensor<1> {
        (a * b).mean().mul_scalar(self.volume)
    }

    /// Records a found state so later runs are kept orthogonal to it.
    ///
    /// # Errors
    /// As [`Problem::field`].
    pub fn add_previous<N: JetNetwork>(&mut self, model: &Pinn<N>) -> Result<()> {
        let psi = self
            .problem
            .field(model, self.collocation()?, SecondOrder::None)?
            .value()
            .detach();
        let norm = self
            .integral(psi.clone(), psi.clone())
            .sqrt()
            .reshape([1, 1]);
        self.previous.push(psi / norm);
        Ok(())
    }

    /// The loss terms: the problem's (the residual divided by ∫ψ², which makes it blind to the
    /// scale of ψ, and the conditions), `normalisation` (∫ψ² - 1)² and `orthogonality`
    /// Σₖ (∫ψ ψₖ)² / ∫ψ² (also scale-blind).
    ///
    /// # Errors
    /// As [`Problem::terms`].
    pub fn terms<N: JetNetwork>(&self, model: &Pinn<N>) -> Result<Vec<Term>> {
        let mut terms = self.problem.terms(model)?;
        let psi = self
            .problem
            .field(model, self.collocation()?, SecondOrder::None)?
            .value();
        let mass = self.integral(psi.clone(), psi.clone());
        // The residual divided by ∫ψ² is invariant under ψ -> cψ, so shrinking ψ towards the
        // trivial zero solution no longer lowers it.
        for term in terms.iter_mut().filter(|t| t.name == "residual") {
            term.value = term.value.clone() / mass.clone().add_scalar(1e-12);
        }
        let norm = mass.clone().sub_scalar(1.0);
        terms.push(Term {
            name: "normalisation".into(),
            weight: self.normalisation_weight,
            value: norm.square(),
        });
        if let Some(total) = self
            .previous
            .iter()
            .map(|prev| self.integral(psi.clone(), prev.clone()).square())
            .reduce(|a, b| a + b)
        {
            // Also divided by ∫ψ²: the squared cosine of the angle to the earlier states.
            let total = total / mass.clone().add_scalar(1e-12);
            terms.push(Term {
                name: "orthogonality".into(),
                weight: self.orthogonality_weight,
                value: total,
            });
        }
        Ok(terms)
    }

    /// The weighted loss of [`EigenSolver::terms`].
    ///
    /// # Errors
    /// As [`EigenSolver::terms`].
    pub fn loss<N: JetNetwork>(&self, model: &Pinn<N>) -> Result<Loss> {
        combine(self.terms(model)?, None)
    }

    /// Trains a model whose coefficient 0 is the eigenvalue guess.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the model has no coefficients; training errors.
    pub fn train<N: JetNetwork>(
        &self,
        model: Pinn<N>,
        device: &Device,
        config: &PinnTrainConfig,
    ) -> Result<PinnOutcome<N>> {
        if model.coefficients.is_none() {
            return Err(Error::config(
                "coefficients",
                "none",
                "give the model its eigenvalue guess with Pinn::with_coefficients",
            ));
        }
        train_with(&self.problem, model, device, config, |_, m, _| self.loss(m))
    }
}

/// The `count` lowest eigenvalues of `-c ψ'' + V(x) ψ = E ψ` on `[a, b]` with ψ(a) = ψ(b) = 0, by
/// second-order central differences on `n` interior points (error O(h²)).
///
/// # Errors
/// [`Error::InvalidConfig`] for `a >= b`, `c <= 0`, `n < 2` or `count > n`; non-finite potentials.
pub fn finite_difference_eigenvalues(
    potential: impl Fn(f64) -> f64,
    c: f64,
    (a, b): (f64, f64),
    n: usize,
    count: usize,
) -> Result<Vec<f64>> {
    if !(a < b && c > 0.0 && n >= 2 && count <= n) {
        return Err(Error::config(
            "finite differences",
            format!("[{a}, {b}], c = {c}, n = {n}, count = {count}"),
            "need a < b, c > 0, n >= 2 interior points and count <= n",
        ));
    }
    let h = (b - a) / (n + 1) as f64;
    let diag: Vec<f64> = (1..=n)
        .map(|i| 2.0 * c / (h * h) + potential(a + i as f64 * h))
        .collect();
    let off = vec![-c / (h * h); n - 1];
    let mut values = symmetric_tridiagonal_eigenvalues(&diag, &off)?;
    values.truncate(count);
    Ok(values)
}
