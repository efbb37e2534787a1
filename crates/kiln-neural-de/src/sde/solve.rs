//! The SDE entry point: fixed steps on a grid symmetric under time reversal, Brownian increments
//! from a [`BrownianPath`], and the saved states.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::brownian::BrownianPath;
use super::solver::{SdeSolver, StepNoise};
use super::term::{Diffusion, DiffusionValue, NoiseKind, SdeTerm};
use crate::options::{SaveAt, Solution, SolveOptions, Stats, StopReason};
use crate::term::{Time, VectorField};
use crate::{Error, Result};

/// Options of [`solve`]: the step size, what to save and the step budget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SdeOptions {
    /// Largest step: the interval is cut into `⌈|t1 - t0| / dt⌉` equal steps.
    pub dt: f64,
    /// What to save; [`SaveAt::Times`] between grid points interpolates linearly.
    pub save_at: SaveAt,
    /// Most steps before the options are refused.
    pub max_steps: usize,
}

impl SdeOptions {
    /// Steps of at most `dt`, saving the final state.
    pub fn fixed(dt: f64) -> Self {
        Self {
            dt,
            save_at: SaveAt::T1,
            max_steps: 10_000_000,
        }
    }

    /// Sets what to save.
    pub fn save_at(mut self, save_at: SaveAt) -> Self {
        self.save_at = save_at;
        self
    }

    /// Saves at the given times.
    pub fn save_times(self, times: impl Into<Vec<f64>>) -> Self {
        self.save_at(SaveAt::Times(times.into()))
    }

    /// Sets the step budget.
    pub fn max_steps(mut self, max_steps: usize) -> Self {
        self.max_steps = max_steps;
        self
    }

    /// The number of steps over `t_span`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a non-finite interval, a non-positive `dt`, save times outside
    /// the interval or out of order, or more steps than `max_steps`.
    pub fn steps(&self, t_span: (f64, f64)) -> Result<usize> {
        SolveOptions::fixed(self.dt)
            .save_at(self.save_at.clone())
            .max_steps(self.max_steps)
            .validate(t_span)?;
        let ratio = (t_span.1 - t_span.0).abs() / self.dt;
        // Tolerate rounding in dt = T / n.
        let n = (ratio * (1.0 - 1e-12)).ceil();
        if n > self.max_steps as f64 {
            return Err(Error::option(
                "dt",
                self.dt,
                &format!(
                    "it needs {n} steps but max_steps = {}; raise max_steps or the step",
                    self.max_steps
                ),
            ));
        }
        Ok(n as usize)
    }
}

/// Integrates the SDE `term` from `t_span.0` to `t_span.1` (either direction) starting at
/// `y0: [batch, n]`, driven by `brownian`.
///
/// The grid has `⌈|t1 - t0| / dt⌉` equal steps; its points are computed from the nearer end so
/// that a backward solve visits exactly the same times. The solve is a sequence of burn tensor
/// operations: on an autodiff device, the result backpropagates to `y0` and to parameters of the
/// drift and diffusion (the noise is a constant). `stats.nfe` counts drift and diffusion
/// evaluations.
///
/// # Errors
/// Invalid options or a Brownian path that does not cover the interval
/// ([`Error::InvalidOption`]), shapes that do not fit ([`Error::ShapeMismatch`]), a solver that
/// does not fit the SDE ([`Error::Unsupported`]), and [`Error::NonFinite`].
pub fn solve<F, G, S, B>(
    term: &SdeTerm<F, G>,
    solver: &S,
    t_span: (f64, f64),
    y0: Tensor<2>,
    brownian: &B,
    options: &SdeOptions,
) -> Result<Solution<2>>
where
    F: VectorField<2>,
    G: Diffusion,
    S: SdeSolver,
    B: BrownianPath + ?Sized,
{
    solve_with_state(term, solver, t_span, y0, None, brownian, options).map(|(s, _)| s)
}

/// [`solve`] from a given solver state (`None`: [`SdeSolver::init`]), returning the final state
/// too, e.g. to run [`super::ReversibleHeun`] backwards from where a forward solve ended.
///
/// # Errors
/// As [`solve`].
pub fn solve_with_state<F, G, S, B>(
    term: &SdeTerm<F, G>,
    solver: &S,
    (t0, t1): (f64, f64),
    y0: Tensor<2>,
    state: Option<S::State>,
    brownian: &B,
    options: &SdeOptions,
) -> Result<(Solution<2>, S::State)>
where
    F: VectorField<2>,
    G: Diffusion,
    S: SdeSolver,
    B: BrownianPath + ?Sized,
{
    let n = options.steps((t0, t1))?;
    check_brownian(brownian, (t0, t1), y0.dims()[0])?;
    solver.check(term)?;
    let mut stats = Stats::default();
    check_shapes(term, brownian, t0, &y0, &mut stats.nfe)?;
    let mut state = match state {
        Some(state) => state,
        None => solver.init(term, t0, &y0, &mut stats.nfe)?,
    };
    let device = y0.device();
    let h = if n == 0 { 0.0 } else { (t1 - t0) / n as f64 };
    let time = |k: usize| {
        if 2 * k < n {
            t0 + k as f64 * h
        } else if 2 * k > n {
            t1 - (n - k) as f64 * h
        } else {
            0.5 * (t0 + t1)
        }
    };
    let mut saver = Saver::new(&options.save_at);
    let mut ts = Vec::new();
    let mut ys = Vec::new();
    if options.save_at == SaveAt::Steps {
        ts.push(t0);
        ys.push(y0.clone());
    }
    if n == 0 {
        saver.save_all(&y0, &mut ts, &mut ys);
    }
    let mut y = y0;
    for k in 0..n {
        let (ta, tb) = (time(k), time(k + 1));
        let increment = brownian.increment(ta, tb)?;
        let noise = StepNoise {
            t0: ta,
            t1: tb,
            w: increment.w_tensor(&device),
            h: solver
                .needs_levy_area()
                .then(|| increment.h_tensor(&device)),
        };
        let (y_new, state_new) = solver.step(term, &y, state, &noise, &mut stats.nfe)?;
        if !y_new
            .clone()
            .detach()
            .abs()
            .max()
            .into_scalar::<f64>()
            .is_finite()
        {
            return Err(Error::NonFinite { t: ta });
        }
        stats.steps += 1;
        stats.accepted += 1;
        saver.save_between(ta, tb, &y, &y_new, &mut ts, &mut ys);
        if options.save_at == SaveAt::Steps {
            ts.push(tb);
            ys.push(y_new.clone());
        }
        y = y_new;
        state = state_new;
    }
    if options.save_at == SaveAt::T1 {
        ts.push(t1);
        ys.push(y);
    }
    let solution = Solution {
        ts,
        ys,
        stats,
        stop: StopReason::Finished,
    };
    Ok((solution, state))
}

/// The path must cover the interval and have the batch's size.
fn check_brownian<B: BrownianPath + ?Sized>(
    brownian: &B,
    (t0, t1): (f64, f64),
    batch: usize,
) -> Result<()> {
    let (lo, hi) = brownian.t_span();
    let slack = 4.0 * f64::EPSILON * lo.abs().max(hi.abs()).max(hi - lo);
    if t0.min(t1) < lo - slack || t0.max(t1) > hi + slack {
        return Err(Error::option(
            "brownian",
            format!("a path on [{lo}, {hi}]"),
            &format!("the solve runs over ({t0}, {t1}); build the path over the whole interval"),
        ));
    }
    let [b, _] = brownian.shape();
    if b != batch {
        return Err(Error::ShapeMismatch {
            context: "the Brownian path's batch".into(),
            expected: format!("the state's batch {batch}"),
            found: brownian.shape().to_vec(),
        });
    }
    Ok(())
}

/// `f` keeps the state's shape and `g` fits the state and the noise.
fn check_shapes<F: VectorField<2>, G: Diffusion, B: BrownianPath + ?Sized>(
    term: &SdeTerm<F, G>,
    brownian: &B,
    t0: f64,
    y0: &Tensor<2>,
    nfe: &mut usize,
) -> Result<()> {
    let time = Time::Shared(t0);
    let [batch, n] = y0.dims();
    let [_, m] = brownian.shape();
    let f = term.drift.eval(&time, y0);
    let g = term.diffusion.eval(&time, y0);
    *nfe += 2;
    if f.dims() != y0.dims() {
        return Err(Error::ShapeMismatch {
            context: "the drift's output".into(),
            expected: format!("the state's shape {:?}", y0.dims()),
            found: f.dims().to_vec(),
        });
    }
    let (expected, fits) = match (&g, term.diffusion.kind()) {
        (DiffusionValue::Diagonal(g), NoiseKind::Diagonal) => {
            (vec![batch, n], g.dims() == [batch, n] && m == n)
        }
        (DiffusionValue::General(g), NoiseKind::General) => {
            (vec![batch, n, m], g.dims() == [batch, n, m])
        }
        _ => (vec![batch, n], false),
    };
    if !fits {
        return Err(Error::ShapeMismatch {
            context: format!(
                "the diffusion's output with noise of shape {:?}",
                brownian.shape()
            ),
            expected: format!("{expected:?} (diagonal noise needs m = n)"),
            found: g.dims(),
        });
    }
    Ok(())
}

/// Hands out the pending [`SaveAt::Times`] in order.
struct Saver<'a> {
    times: &'a [f64],
    next: usize,
}

impl<'a> Saver<'a> {
    fn new(save_at: &'a SaveAt) -> Self {
        let times = match save_at {
            SaveAt::Times(ts) => ts.as_slice(),
            _ => &[],
        };
        Self { times, next: 0 }
    }

    /// Saves pending times in the step `[ta, tb]`, snapping to the ends and interpolating
    /// linearly in between.
    fn save_between(
        &mut self,
        ta: f64,
        tb: f64,
        ya: &Tensor<2>,
        yb: &Tensor<2>,
        ts: &mut Vec<f64>,
        ys: &mut Vec<Tensor<2>>,
    ) {
        let h = tb - ta;
        while let Some(&t) = self.times.get(self.next) {
            let theta = (t - ta) / h;
            if theta > 1.0 + 1e-12 {
                break;
            }
            let y = if theta <= 1e-12 {
                ya.clone()
            } else if theta >= 1.0 - 1e-12 {
                yb.clone()
            } else {
                ya.clone().add(yb.clone().sub(ya.clone()).mul_scalar(theta))
            };
            ts.push(t);
            ys.push(y);
            self.next += 1;
        }
    }

    /// With no steps, every save time is `t0`.
    fn save_all(&mut self, y: &Tensor<2>, ts: &mut Vec<f64>, ys: &mut Vec<Tensor<2>>) {
        for &t in &self.times[self.next..] {
            ts.push(t);
            ys.push(y.clone());
        }
        self.next = self.times.len();
    }
}
