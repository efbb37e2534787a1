//! The SDE solver interface and the one-step methods Euler-Maruyama, Milstein and Heun.
//! SRA1 and reversible Heun live in their own files.

use burn::tensor::{DType, Tensor};

use super::term::{Diffusion, DiffusionValue, Interpretation, NoiseKind, SdeTerm};
use crate::term::{Time, VectorField};
use crate::{Error, Result};

/// The noise of one step from `t0` to `t1`: the Brownian increment and, for solvers that ask for
/// it, the space-time Lévy area.
#[derive(Clone, Debug)]
pub struct StepNoise {
    /// Start of the step.
    pub t0: f64,
    /// End of the step (before `t0` when integrating backwards).
    pub t1: f64,
    /// `W_{t1} - W_{t0}`, `[batch, m]`.
    pub w: Tensor<2>,
    /// `H_{t0,t1}`, `[batch, m]`, when [`SdeSolver::needs_levy_area`].
    pub h: Option<Tensor<2>>,
}

impl StepNoise {
    /// `t1 - t0`.
    pub fn dt(&self) -> f64 {
        self.t1 - self.t0
    }

    pub(crate) fn levy_area(&self, solver: &str) -> Result<&Tensor<2>> {
        self.h.as_ref().ok_or_else(|| Error::Unsupported {
            solver: solver.into(),
            what: "a step without the space-time Lévy area".into(),
            advice: "pass StepNoise::h (sde::solve does this for solvers that need it)".into(),
        })
    }
}

/// A fixed-step SDE method. [`crate::sde::solve`] calls [`SdeSolver::check`] and
/// [`SdeSolver::init`] once, then [`SdeSolver::step`] on every step of the grid.
pub trait SdeSolver {
    /// What the solver carries between steps (`()` for one-step methods).
    type State: Clone;

    /// Name for messages and reports.
    fn name(&self) -> String;

    /// Strong order of convergence on the noise the solver accepts (commutative noise for
    /// Milstein and Heun, additive noise for SRA1).
    fn strong_order(&self) -> f64;

    /// Whether steps need the space-time Lévy area [`StepNoise::h`].
    fn needs_levy_area(&self) -> bool {
        false
    }

    /// Checks that the solver converges to this SDE's solution.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for the wrong interpretation or noise.
    fn check<F: VectorField<2>, G: Diffusion>(&self, term: &SdeTerm<F, G>) -> Result<()>;

    /// The state at the start `(t0, y0)`.
    ///
    /// # Errors
    /// Solver-specific checks of the term at `y0`.
    fn init<F: VectorField<2>, G: Diffusion>(
        &self,
        term: &SdeTerm<F, G>,
        t0: f64,
        y0: &Tensor<2>,
        nfe: &mut usize,
    ) -> Result<Self::State>;

    /// One step from `y0`, returning `y1` and the new state; `nfe` counts drift and diffusion
    /// evaluations.
    ///
    /// # Errors
    /// Solver-specific failures.
    fn step<F: VectorField<2>, G: Diffusion>(
        &self,
        term: &SdeTerm<F, G>,
        y0: &Tensor<2>,
        state: Self::State,
        noise: &StepNoise,
        nfe: &mut usize,
    ) -> Result<(Tensor<2>, Self::State)>;
}

/// [`Error::Unsupported`] unless the term reads as `reading` (or has additive noise).
pub(crate) fn require_reading<F: VectorField<2>, G: Diffusion>(
    term: &SdeTerm<F, G>,
    reading: Interpretation,
    solver: &str,
) -> Result<()> {
    if term.reads_as(reading) {
        return Ok(());
    }
    let (what, advice) = match reading {
        Interpretation::Ito => (
            "a Stratonovich SDE with non-additive noise",
            "use Heun, ReversibleHeun or Milstein, or state the SDE in Itô form",
        ),
        Interpretation::Stratonovich => (
            "an Itô SDE with non-additive noise",
            "use EulerMaruyama or Milstein, or state the SDE in Stratonovich form",
        ),
    };
    Err(Error::Unsupported {
        solver: solver.into(),
        what: what.into(),
        advice: advice.into(),
    })
}

/// `f(t, y)` and `g(t, y)`.
pub(crate) fn eval_both<F: VectorField<2>, G: Diffusion>(
    term: &SdeTerm<F, G>,
    t: f64,
    y: &Tensor<2>,
    nfe: &mut usize,
) -> (Tensor<2>, DiffusionValue) {
    let time = Time::Shared(t);
    *nfe += 2;
    (term.drift.eval(&time, y), term.diffusion.eval(&time, y))
}

/// `f dt + g dW`.
pub(crate) fn control(f: &Tensor<2>, g: &DiffusionValue, noise: &StepNoise) -> Tensor<2> {
    f.clone().mul_scalar(noise.dt()).add(g.prod(&noise.w))
}

/// Euler-Maruyama, `y₁ = y₀ + f(t₀, y₀) Δt + g(t₀, y₀) ΔW`: Itô, strong order 0.5 (1.0 for
/// additive noise), weak order 1.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EulerMaruyama;

impl SdeSolver for EulerMaruyama {
    type State = ();

    fn name(&self) -> String {
        "EulerMaruyama".into()
    }

    fn strong_order(&self) -> f64 {
        0.5
    }

    fn check<F: VectorField<2>, G: Diffusion>(&self, term: &SdeTerm<F, G>) -> Result<()> {
        require_reading(term, Interpretation::Ito, &self.name())
    }

    fn init<F: VectorField<2>, G: Diffusion>(
        &self,
        _term: &SdeTerm<F, G>,
        _t0: f64,
        _y0: &Tensor<2>,
        _nfe: &mut usize,
    ) -> Result<()> {
        Ok(())
    }

    fn step<F: VectorField<2>, G: Diffusion>(
        &self,
        term: &SdeTerm<F, G>,
        y0: &Tensor<2>,
        _state: (),
        noise: &StepNoise,
        nfe: &mut usize,
    ) -> Result<(Tensor<2>, ())> {
        let (f0, g0) = eval_both(term, noise.t0, y0, nfe);
        Ok((y0.clone().add(control(&f0, &g0, noise)), ()))
    }
}

/// Stochastic Heun, `ỹ = y₀ + f₀ Δt + g₀ ΔW`, `y₁ = y₀ + ½(f₀ + f(t₁, ỹ)) Δt + ½(g₀ + g(t₁, ỹ)) ΔW`:
/// Stratonovich, strong order 1 for commutative noise (0.5 in general).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Heun;

impl SdeSolver for Heun {
    type State = ();

    fn name(&self) -> String {
        "Heun".into()
    }

    fn strong_order(&self) -> f64 {
        1.0
    }

    fn check<F: VectorField<2>, G: Diffusion>(&self, term: &SdeTerm<F, G>) -> Result<()> {
        require_reading(term, Interpretation::Stratonovich, &self.name())
    }

    fn init<F: VectorField<2>, G: Diffusion>(
        &self,
        _term: &SdeTerm<F, G>,
        _t0: f64,
        _y0: &Tensor<2>,
        _nfe: &mut usize,
    ) -> Result<()> {
        Ok(())
    }

    fn step<F: VectorField<2>, G: Diffusion>(
        &self,
        term: &SdeTerm<F, G>,
        y0: &Tensor<2>,
        _state: (),
        noise: &StepNoise,
        nfe: &mut usize,
    ) -> Result<(Tensor<2>, ())> {
        let (f0, g0) = eval_both(term, noise.t0, y0, nfe);
        let k0 = control(&f0, &g0, noise);
        let predictor = y0.clone().add(k0.clone());
        let (f1, g1) = eval_both(term, noise.t1, &predictor, nfe);
        let k1 = control(&f1, &g1, noise);
        Ok((y0.clone().add(k0.add(k1).mul_scalar(0.5)), ()))
    }
}

/// Milstein's method for diagonal noise whose `gᵢ` depends on `yᵢ` only:
/// `y₁ = y₀ + f Δt + g ΔW + ½ g ∂g/∂y (ΔW² - Δt)` (Itô) or `... + ½ g ∂g/∂y ΔW²`
/// (Stratonovich), following the term's interpretation. Strong order 1.
///
/// `g ∂g/∂y` comes from [`Diffusion::diagonal_derivative`] when the diffusion provides it, else
/// from a central difference `(g(y + δg) - g(y - δg)) / 2δ` with
/// `δ = fd_step · max(1, max|y|) / max|g|`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Milstein {
    /// Relative finite-difference step; `None` picks `ε^(1/3)` of the state's precision.
    pub fd_step: Option<f64>,
}

impl Default for Milstein {
    fn default() -> Self {
        Self::new()
    }
}

impl Milstein {
    /// Milstein with the default finite-difference step.
    pub fn new() -> Self {
        Self { fd_step: None }
    }

    /// Sets the relative finite-difference step.
    pub fn with_fd_step(mut self, fd_step: f64) -> Self {
        self.fd_step = Some(fd_step);
        self
    }

    /// `g ∂g/∂y` at `(t, y)` for diagonal noise with value `g`.
    fn g_dg<F: VectorField<2>, G: Diffusion>(
        &self,
        term: &SdeTerm<F, G>,
        t: f64,
        y: &Tensor<2>,
        g: &Tensor<2>,
        nfe: &mut usize,
    ) -> Tensor<2> {
        let time = Time::Shared(t);
        if let Some(dg) = term.diffusion.diagonal_derivative(&time, y) {
            *nfe += 1;
            return g.clone().mul(dg);
        }
        let g_max = g.clone().detach().abs().max().into_scalar::<f64>();
        if g_max == 0.0 || !g_max.is_finite() {
            return g.zeros_like();
        }
        let y_max = y.clone().detach().abs().max().into_scalar::<f64>();
        let relative = self.fd_step.unwrap_or_else(|| {
            let eps = if y.dtype() == DType::F64 {
                f64::EPSILON
            } else {
                f64::from(f32::EPSILON)
            };
            eps.cbrt()
        });
        let delta = relative * y_max.max(1.0) / g_max;
        let step = g.clone().mul_scalar(delta);
        let plus = diagonal(term.diffusion.eval(&time, &y.clone().add(step.clone())));
        let minus = diagonal(term.diffusion.eval(&time, &y.clone().sub(step)));
        *nfe += 2;
        plus.sub(minus).mul_scalar(0.5 / delta)
    }
}

fn diagonal(g: DiffusionValue) -> Tensor<2> {
    match g {
        DiffusionValue::Diagonal(g) => g,
        DiffusionValue::General(_) => unreachable!("checked: Milstein runs on diagonal noise"),
    }
}

impl SdeSolver for Milstein {
    type State = ();

    fn name(&self) -> String {
        "Milstein".into()
    }

    fn strong_order(&self) -> f64 {
        1.0
    }

    fn check<F: VectorField<2>, G: Diffusion>(&self, term: &SdeTerm<F, G>) -> Result<()> {
        if term.diffusion.kind() != NoiseKind::Diagonal && !term.additive {
            return Err(Error::Unsupported {
                solver: self.name(),
                what: "general (non-diagonal) multiplicative noise".into(),
                advice: "use DiagonalNoise, or EulerMaruyama / Heun for general noise".into(),
            });
        }
        if let Some(step) = self.fd_step
            && !(step.is_finite() && step > 0.0)
        {
            return Err(Error::option(
                "fd_step",
                step,
                "give a positive relative step, e.g. 1e-5 in f64",
            ));
        }
        Ok(())
    }

    fn init<F: VectorField<2>, G: Diffusion>(
        &self,
        _term: &SdeTerm<F, G>,
        _t0: f64,
        _y0: &Tensor<2>,
        _nfe: &mut usize,
    ) -> Result<()> {
        Ok(())
    }

    fn step<F: VectorField<2>, G: Diffusion>(
        &self,
        term: &SdeTerm<F, G>,
        y0: &Tensor<2>,
        _state: (),
        noise: &StepNoise,
        nfe: &mut usize,
    ) -> Result<(Tensor<2>, ())> {
        let (f0, g0) = eval_both(term, noise.t0, y0, nfe);
        let y1 = y0.clone().add(control(&f0, &g0, noise));
        if term.additive {
            return Ok((y1, ()));
        }
        let g = diagonal(g0);
        let g_dg = self.g_dg(term, noise.t0, y0, &g, nfe);
        let w2 = noise.w.clone().square();
        let iterated = match term.interpretation {
            Interpretation::Ito => w2.sub_scalar(noise.dt()),
            Interpretation::Stratonovich => w2,
        };
        Ok((y1.add(g_dg.mul(iterated).mul_scalar(0.5)), ()))
    }
}
