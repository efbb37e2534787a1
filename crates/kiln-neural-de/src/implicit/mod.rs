//! Implicit solvers for stiff problems: Kværnø's 5(4) ESDIRK ([`Kvaerno5`]).
//!
//! # Method
//! [`Kvaerno5`] is the explicit-first-stage, singly diagonally implicit Runge-Kutta method of
//! Kværnø (BIT 44, 2004) of order 5 with an embedded order-4 solution: 7 stages, diagonal
//! `γ = 0.26`, A- and L-stable and stiffly accurate (the solution is the last stage, so
//! `f(t₁, y₁)` is the last stage derivative and stiff components are damped to zero as `h → ∞`).
//! Stage `i` solves
//!
//! `kᵢ = f(t₀ + cᵢ h, Yᵢ)`, `Yᵢ = y₀ + h Σ_{j<i} aᵢⱼ kⱼ + h γ kᵢ`,
//!
//! the error estimate is the difference between the last two stage values, `Y₇ - Y₆ =
//! h Σ eᵢ kᵢ`, and dense output is the cubic Hermite interpolant through `y₀, y₁, f₀, f₁`.
//! It plugs into [`crate::solve`] like the explicit methods (same controller, save times,
//! events and per-sample steps); each step ends with a fresh `f(t₁, y₁)`, which the next step
//! reuses. Between step ends the Hermite interpolant uses `f₀`, which multiplies a stiff
//! component's error at `t₀` by `λ h`: values inside large stiff steps are less accurate than
//! the step ends. On Robertson's kinetics to t = 100 at rtol 1e-6 the solve takes 39 steps and
//! 753 evaluations (`examples/bench_robertson.rs`).
//!
//! # Newton
//! Each implicit stage is solved for `kᵢ` by simplified Newton with the matrix `I - h γ J`,
//! `J = ∂f/∂y` at `(t₀, y₀)`, factored once per step and reused by all six implicit stages.
//! The first guess extrapolates the earlier stage derivatives in time. An iteration has
//! converged when the estimated remaining error of the stage value, `θ/(1-θ) ‖Δ‖` with the
//! contraction rate `θ`, is below `κ` in the RMS norm scaled by `atol + rtol |Y|`
//! ([`Kvaerno5::with_newton_tol`], [`Kvaerno5::with_newton_kappa`]; `κ` is raised to
//! `10 ε / rtol` when the state's precision `ε` cannot do better). It fails when the rate
//! reaches 1, when the remaining iterations cannot reach the tolerance at the observed rate,
//! after [`Kvaerno5::with_max_newton_iters`] iterations, or on a singular matrix or a non-finite
//! value. A failed step reports [`StepError::Failed`] (with per-sample steps: an infinite error
//! for the failed samples only), so the adaptive driver rejects it and retries with a smaller
//! step. When a failed step would fall below the driver's minimum, and with fixed steps at the
//! first failure, the solve ends with [`crate::Error::NewtonFailed`] (per-sample steps report the
//! failed sample's infinite error norm as [`crate::Error::NonFinite`]).
//!
//! # Jacobian and the block-diagonal assumption
//! The state is `[batch, ...]` and, as documented on [`VectorField`], the field must act on each
//! sample (row) separately. The Jacobian is then block diagonal with one `n × n` block per
//! sample (`n` = features per sample), and all blocks come from `n` extra evaluations
//! ([`Jacobian::FiniteDifference`]) or `2n` ([`Jacobian::CentralDifference`]) that perturb
//! feature `j` of every sample at once. The Newton linear algebra (one LU with partial pivoting
//! per block, and per sample step size with [`Clock::PerSample`]) runs on the host in f64; the
//! field is evaluated on the state's device and dtype. A field that mixes samples gets a wrong
//! Newton matrix: Newton then converges slowly or fails, but a converged step still solves the
//! true stage equations.
//!
//! Values come back from the host, so gradients do not flow through a `Kvaerno5` solve by
//! backprop.

mod newton;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::solver::Solver;
use crate::step::{Clock, RkStep, StepError};
use crate::term::VectorField;
use crate::{Error, Result};
use newton::{BlockLu, Host, NewtonSettings, Stage, epsilon, jacobian, read, solve_stage};

/// The diagonal `γ` of Kværnø's 5(4) method.
const GAMMA: f64 = 0.26;

/// Strictly lower rows of the Butcher matrix (the diagonal is `γ` from stage 2 on).
const A: [&[f64]; 7] = [
    &[],
    &[GAMMA],
    &[0.13, 0.8403332099679081],
    &[0.22371961478320504, 0.476755323197997, -0.06470895363112615],
    &[
        0.16648564323248322,
        0.1045001884159172,
        0.03631482272098715,
        -0.13090704451073998,
    ],
    &[
        0.13855640231268224,
        0.0,
        -0.04245337201752043,
        0.02446657898003141,
        0.6194303907248068,
    ],
    &[
        0.13659751177640292,
        0.0,
        -0.05496908796538376,
        -0.04118626728321046,
        0.629933048990164,
        0.06962479448202728,
    ],
];

/// Stages of the method; the 7th stage value is the solution.
const STAGES: usize = 7;

/// `cᵢ = Σⱼ aᵢⱼ + γ` (0 for the explicit first stage).
fn node(i: usize) -> f64 {
    if i == 0 {
        0.0
    } else {
        A[i].iter().sum::<f64>() + GAMMA
    }
}

/// Weights of the solution (the last row of the matrix with `γ`).
fn solution_weights() -> [f64; STAGES] {
    let mut b = [0.0; STAGES];
    b[..6].copy_from_slice(A[6]);
    b[6] = GAMMA;
    b
}

/// Weights of the error estimate `Y₇ - Y₆`.
fn error_weights() -> [f64; STAGES] {
    let mut e = solution_weights();
    for (ej, a) in e.iter_mut().zip(A[5]) {
        *ej -= a;
    }
    e[5] -= GAMMA;
    e
}

/// Weights of the first Newton guess for stage `i`: Lagrange extrapolation in time through the
/// first three stages (fewer for stages 2 and 3); stage 7 starts from stage 6, which sits at
/// the same time and differs from it by the embedded error.
fn predictor_weights(i: usize) -> Vec<f64> {
    let mut w = vec![0.0; i];
    if i == STAGES - 1 {
        w[i - 1] = 1.0;
        return w;
    }
    let nodes = i.min(3);
    let target = node(i);
    for (j, wj) in w.iter_mut().enumerate().take(nodes) {
        *wj = (0..nodes)
            .filter(|&m| m != j)
            .map(|m| (target - node(m)) / (node(j) - node(m)))
            .product();
    }
    w
}

/// How the solver obtains the Jacobian blocks `∂f/∂y` of the Newton matrix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Jacobian {
    /// Forward differences: `n` extra evaluations per step.
    #[default]
    FiniteDifference,
    /// Central differences: `2n` extra evaluations per step, more accurate Jacobians.
    CentralDifference,
}

/// Kværnø's 5(4) ESDIRK method for stiff problems (see the [module docs](self)).
///
/// ```
/// use kiln_core::burn::tensor::{Device, Tensor};
/// use kiln_neural_de::implicit::Kvaerno5;
/// use kiln_neural_de::{SolveOptions, Time, solve};
///
/// let device = Device::flex();
/// // A stiff linear relaxation towards cos t: y' = -1000 (y - cos t).
/// let field = |t: &Time, y: &Tensor<2>| {
///     y.clone().sub(t.broadcast(y).cos()).mul_scalar(-1000.0)
/// };
/// let solver = Kvaerno5::new();
/// let y0 = Tensor::<2>::ones([1, 1], &device);
/// let solution =
///     solve(&field, &solver, (0.0, 1.0), y0, &SolveOptions::adaptive(1e-5, 1e-7)).unwrap();
/// let y1 = solution.last().clone().into_scalar::<f64>();
/// // The slow manifold y ≈ cos t + sin t / 1000.
/// assert!((y1 - (1f64.cos() + 1f64.sin() / 1000.0)).abs() < 1e-4);
/// assert!(solution.stats.accepted < 100);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Kvaerno5 {
    /// Relative tolerance of the Newton norm.
    pub newton_rtol: f64,
    /// Absolute tolerance of the Newton norm.
    pub newton_atol: f64,
    /// Whether an adaptive solve replaces the Newton tolerances by the controller's `rtol` and
    /// `atol` (the default; [`Kvaerno5::with_newton_tol`] turns it off).
    pub newton_tol_from_controller: bool,
    /// Newton stops when its estimated error is below `newton_kappa` in that norm.
    pub newton_kappa: f64,
    /// Most Newton iterations per stage before the step fails.
    pub max_newton_iters: usize,
    /// How the Jacobian is computed.
    pub jacobian: Jacobian,
}

impl Default for Kvaerno5 {
    fn default() -> Self {
        Self::new()
    }
}

impl Kvaerno5 {
    /// The method with `κ = 0.01`, at most 10 Newton iterations per stage and a
    /// forward-difference Jacobian. Newton's norm uses the controller's `rtol` and `atol` in an
    /// adaptive solve, and `rtol = 1e-6`, `atol = 1e-9` with fixed steps.
    pub fn new() -> Self {
        Self {
            newton_rtol: 1e-6,
            newton_atol: 1e-9,
            newton_tol_from_controller: true,
            newton_kappa: 0.01,
            max_newton_iters: 10,
            jacobian: Jacobian::FiniteDifference,
        }
    }

    /// Sets the tolerances of the Newton norm, overriding the controller's.
    pub fn with_newton_tol(mut self, rtol: f64, atol: f64) -> Self {
        self.newton_rtol = rtol;
        self.newton_atol = atol;
        self.newton_tol_from_controller = false;
        self
    }

    /// Sets the fraction `κ` of the tolerance that Newton must reach (default 0.01).
    pub fn with_newton_kappa(mut self, kappa: f64) -> Self {
        self.newton_kappa = kappa;
        self
    }

    /// Sets the most Newton iterations per stage.
    pub fn with_max_newton_iters(mut self, iters: usize) -> Self {
        self.max_newton_iters = iters;
        self
    }

    /// Sets how the Jacobian is computed.
    pub fn with_jacobian(mut self, jacobian: Jacobian) -> Self {
        self.jacobian = jacobian;
        self
    }

    /// Checks the Newton settings, naming the first bad one.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for non-finite or negative tolerances (or both zero), `κ`
    /// outside (0, 1], or zero iterations.
    pub fn validate(&self) -> Result<()> {
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        if !ok(self.newton_rtol)
            || !ok(self.newton_atol)
            || self.newton_rtol + self.newton_atol == 0.0
        {
            return Err(Error::option(
                "newton_rtol/newton_atol",
                format!("{}/{}", self.newton_rtol, self.newton_atol),
                "give finite, non-negative tolerances, not both zero; use the controller's rtol/atol",
            ));
        }
        if !(self.newton_kappa > 0.0 && self.newton_kappa <= 1.0) {
            return Err(Error::option(
                "newton_kappa",
                self.newton_kappa,
                "use a value in (0, 1], e.g. 0.01",
            ));
        }
        if self.max_newton_iters == 0 {
            return Err(Error::option(
                "max_newton_iters",
                0,
                "allow at least one Newton iteration, e.g. 10",
            ));
        }
        Ok(())
    }

    fn settings(&self, eps: f64) -> NewtonSettings {
        let floor = if self.newton_rtol > 0.0 {
            10.0 * eps / self.newton_rtol
        } else {
            0.0
        };
        NewtonSettings {
            rtol: self.newton_rtol,
            atol: self.newton_atol,
            kappa: self.newton_kappa.max(floor),
            max_iters: self.max_newton_iters,
        }
    }
}

impl Solver for Kvaerno5 {
    fn name(&self) -> String {
        "kvaerno5".into()
    }

    fn order(&self) -> usize {
        5
    }

    fn error_order(&self) -> Option<usize> {
        Some(4)
    }

    fn with_tolerances(&self, rtol: f64, atol: f64) -> Option<Self> {
        self.newton_tol_from_controller.then(|| Self {
            newton_rtol: rtol,
            newton_atol: atol,
            ..self.clone()
        })
    }

    /// Six: `k` holds the seven stage derivatives, the last of them `f(t₁, y₁)`.
    fn stages(&self) -> usize {
        STAGES - 1
    }

    fn step<const D: usize, F: VectorField<D>>(
        &self,
        field: &F,
        clock: &Clock<D>,
        y0: &Tensor<D>,
        f0: &Tensor<D>,
        nfe: &mut usize,
    ) -> Result<RkStep<D>> {
        self.validate()?;
        let dims = y0.dims();
        if f0.dims() != dims {
            return Err(Error::ShapeMismatch {
                context: "Kvaerno5::step's f0".into(),
                expected: format!("the state's shape {dims:?}"),
                found: f0.dims().to_vec(),
            });
        }
        let batch = dims[0];
        let size: usize = dims.iter().product();
        if size == 0 {
            return Ok(RkStep {
                y0: y0.clone(),
                y1: y0.clone(),
                k: vec![f0.clone(); STAGES],
                error: StepError::Embedded(y0.zeros_like()),
            });
        }
        let n = size / batch;
        let (h, per_sample) = match clock {
            Clock::Shared { h, .. } => (vec![*h; batch], false),
            Clock::PerSample { h, .. } => (h.clone(), true),
        };
        let dtype = y0.dtype();
        let settings = self.settings(epsilon(dtype));
        let mut host = Host {
            field,
            dims,
            device: y0.device(),
            dtype,
            nfe,
        };
        let y0_host = read(y0.clone());
        let f0_host = read(f0.clone());
        let failed_step = |y0: &Tensor<D>, f0: &Tensor<D>| RkStep {
            y0: y0.clone(),
            y1: y0.full_like(f64::NAN),
            k: vec![f0.clone(); STAGES],
            error: StepError::Failed,
        };

        let jac = jacobian(
            &mut host,
            clock,
            self.jacobian,
            &y0_host,
            &f0_host,
            batch,
            n,
            &settings,
        )?;
        let h_gamma: Vec<f64> = h.iter().map(|h| h * GAMMA).collect();
        let lus: Vec<Option<BlockLu>> = (0..batch)
            .map(|b| {
                let mut m: Vec<f64> = jac[b * n * n..(b + 1) * n * n]
                    .iter()
                    .map(|j| -h_gamma[b] * j)
                    .collect();
                for i in 0..n {
                    m[i * n + i] += 1.0;
                }
                BlockLu::factor(m, n)
            })
            .collect();
        let mut failed: Vec<bool> = lus.iter().map(Option::is_none).collect();
        let give_up = |failed: &[bool]| {
            if per_sample {
                failed.iter().all(|f| *f)
            } else {
                failed.iter().any(|f| *f)
            }
        };
        if give_up(&failed) {
            return Ok(failed_step(y0, f0));
        }

        let mut k: Vec<Vec<f64>> = vec![f0_host];
        for (i, row) in A.iter().enumerate().skip(1) {
            let base = combine(&y0_host, &h, row, &k, n);
            let mut ki = vec![0.0; size];
            for (w, kj) in predictor_weights(i).iter().zip(&k) {
                for (x, v) in ki.iter_mut().zip(kj) {
                    *x += w * v;
                }
            }
            let time = clock.time_at(node(i), &host.device);
            let stage = Stage {
                base: &base,
                h_gamma: &h_gamma,
                lus: &lus,
                time: &time,
            };
            solve_stage(
                &mut host,
                &stage,
                &mut ki,
                &mut failed,
                &settings,
                !per_sample,
            )?;
            if give_up(&failed) {
                return Ok(failed_step(y0, f0));
            }
            // Failed samples continue from finite values; the driver rejects them anyway.
            for (b, &f) in failed.iter().enumerate() {
                if f {
                    ki[b * n..(b + 1) * n].copy_from_slice(&k[0][b * n..(b + 1) * n]);
                }
            }
            k.push(ki);
        }

        let mut y1 = combine(&y0_host, &h, &solution_weights(), &k, n);
        let zero = vec![0.0; size];
        let mut error = combine(&zero, &h, &error_weights(), &k, n);
        for (b, &f) in failed.iter().enumerate() {
            if f {
                y1[b * n..(b + 1) * n].copy_from_slice(&y0_host[b * n..(b + 1) * n]);
                error[b * n..(b + 1) * n].fill(f64::INFINITY);
            }
        }
        let y1 = host.upload(&y1);
        let f1 = host.eval_tensor(&clock.time_at(1.0, &host.device), &y1)?;
        let mut stages: Vec<Tensor<D>> = Vec::with_capacity(STAGES);
        stages.push(f0.clone());
        for ki in &k[1..STAGES - 1] {
            stages.push(host.upload(ki));
        }
        stages.push(f1);
        Ok(RkStep {
            y0: y0.clone(),
            y1,
            k: stages,
            error: StepError::Embedded(host.upload(&error)),
        })
    }

    fn dense_weights(&self, theta: f64) -> (f64, Vec<f64>) {
        let (t2, t3) = (theta * theta, theta * theta * theta);
        let mut b = vec![0.0; STAGES];
        b[0] = t3 - 2.0 * t2 + theta;
        b[STAGES - 1] = t3 - t2;
        (3.0 * t2 - 2.0 * t3, b)
    }
}

/// `base + h_b Σⱼ wⱼ kⱼ` per sample `b` (rows of `n` values), on the host.
fn combine(base: &[f64], h: &[f64], weights: &[f64], k: &[Vec<f64>], n: usize) -> Vec<f64> {
    let mut sum = vec![0.0; base.len()];
    for (w, kj) in weights.iter().zip(k) {
        if *w != 0.0 {
            for (s, v) in sum.iter_mut().zip(kj) {
                *s += w * v;
            }
        }
    }
    base.iter()
        .zip(sum)
        .enumerate()
        .map(|(idx, (y, s))| y + h[idx / n] * s)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn newton_tolerances_follow_the_controller_unless_set() {
        let adapted = Kvaerno5::new().with_tolerances(1e-10, 1e-12).unwrap();
        assert_eq!((adapted.newton_rtol, adapted.newton_atol), (1e-10, 1e-12));
        let fixed = Kvaerno5::new().with_newton_tol(1e-4, 1e-6);
        assert!(fixed.with_tolerances(1e-10, 1e-12).is_none());
    }

    use super::*;

    #[test]
    fn tableau_is_consistent_and_stiffly_accurate() {
        let c = [
            0.0,
            0.52,
            1.230_333_209_967_908,
            0.895_765_984_350_075_9,
            0.436_393_609_858_647_56,
            1.0,
            1.0,
        ];
        for (i, ci) in c.iter().enumerate() {
            assert!((node(i) - ci).abs() < 1e-14, "c[{i}] = {} vs {ci}", node(i));
        }
        assert!((solution_weights().iter().sum::<f64>() - 1.0).abs() < 1e-14);
        assert!(error_weights().iter().sum::<f64>().abs() < 1e-14);
        // The 5th-order conditions Σ bᵢ cᵢ^(q-1) = 1/q for q = 1..5.
        let b = solution_weights();
        for q in 1..=5 {
            let s: f64 = (0..STAGES).map(|i| b[i] * node(i).powi(q - 1)).sum();
            assert!((s - 1.0 / f64::from(q)).abs() < 1e-12, "q = {q}: {s}");
        }
    }

    #[test]
    fn predictors_reproduce_polynomials_in_time() {
        // Weights sum to one and extrapolate a line exactly.
        for i in 1..STAGES {
            let w = predictor_weights(i);
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            if (2..STAGES - 1).contains(&i) {
                let line: f64 = w
                    .iter()
                    .enumerate()
                    .map(|(j, wj)| wj * (2.0 + 3.0 * node(j)))
                    .sum();
                assert!((line - (2.0 + 3.0 * node(i))).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn hermite_weights_interpolate_the_ends() {
        let solver = Kvaerno5::new();
        let (a, b) = solver.dense_weights(1.0);
        assert!((a - 1.0).abs() < 1e-15 && b.iter().all(|x| x.abs() < 1e-15));
        let (a, b) = solver.dense_weights(0.0);
        assert!(a.abs() < 1e-15 && b.iter().all(|x| x.abs() < 1e-15));
    }

    #[test]
    fn validation_names_the_field() {
        let e = Kvaerno5::new()
            .with_newton_kappa(2.0)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("newton_kappa"));
        let e = Kvaerno5::new()
            .with_newton_tol(-1.0, 0.0)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("newton_rtol"));
        let e = Kvaerno5::new()
            .with_max_newton_iters(0)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("max_newton_iters"));
    }
}
