//! The entry point [`solve`]: integrate `dy/dt = f(t, y)` over `t_span` with one solver, one
//! step-size controller and one save policy, on one shared step sequence (this file) or with
//! steps per sample (`per_sample.rs`), stopping early at an optional event.

use burn::tensor::Tensor;

use crate::controller::{PidController, hairer_h0, hairer_h1};
use crate::cost::Accumulator;
use crate::norm::{error_norm, scaled_rms};
use crate::options::{BatchMode, SaveAt, Solution, SolveOptions, Stats, StepControl, StopReason};
use crate::per_sample;
use crate::solver::Solver;
use crate::step::{Clock, RkStep, StepError, Theta, interpolate};
use crate::term::{Time, VectorField};
use crate::{Error, Result};

/// The event condition `g(t, y)`.
type Condition<'a, const D: usize> = Box<dyn Fn(f64, &Tensor<D>) -> f64 + 'a>;

/// A condition `g(t, y)` whose sign change stops the solve, located to `tol` in time.
///
/// The condition is checked at the end of every accepted step; a root inside the step is found
/// on the solver's interpolant by the Illinois method. A condition that is zero at `t0` fires
/// only after it has left zero, so a solve can restart from an event.
pub struct Event<'a, const D: usize> {
    condition: Condition<'a, D>,
    tol: f64,
}

impl<'a, const D: usize> Event<'a, D> {
    /// Stop where `condition(t, y)` changes sign, located to within `tol` in time.
    pub fn new(condition: impl Fn(f64, &Tensor<D>) -> f64 + 'a, tol: f64) -> Self {
        Self {
            condition: Box::new(condition),
            tol,
        }
    }
}

/// Integrates `dy/dt = field(t, y)` from `t_span.0` to `t_span.1` (either direction) starting at
/// `y0: [batch, ...]`.
///
/// The solve is a sequence of burn tensor operations, so on an autodiff device the result can be
/// differentiated by backprop (discretise-then-optimise); step sizes themselves are not
/// differentiated. See [`crate::adjoint`] for the continuous adjoint.
///
/// # Errors
/// Invalid options ([`Error::InvalidOption`]), a vector field that changes the state's shape
/// ([`Error::ShapeMismatch`]), adaptive steps with a method without error estimate
/// ([`Error::Unsupported`]), and the solve failures [`Error::MaxStepsReached`],
/// [`Error::StepSizeTooSmall`] and [`Error::NonFinite`].
pub fn solve<const D: usize, F: VectorField<D>, S: Solver>(
    field: &F,
    solver: &S,
    t_span: (f64, f64),
    y0: Tensor<D>,
    options: &SolveOptions,
) -> Result<Solution<D>> {
    drive(field, solver, t_span, y0, options, None, None)
}

/// [`solve`] that stops at the first root of `event`'s condition.
///
/// # Errors
/// As [`solve`]; events need [`BatchMode::Shared`].
pub fn solve_with_event<const D: usize, F: VectorField<D>, S: Solver>(
    field: &F,
    solver: &S,
    t_span: (f64, f64),
    y0: Tensor<D>,
    options: &SolveOptions,
    event: &Event<'_, D>,
) -> Result<Solution<D>> {
    if !(event.tol.is_finite() && event.tol > 0.0) {
        return Err(Error::option(
            "event tol",
            event.tol,
            "give a positive time tolerance",
        ));
    }
    drive(field, solver, t_span, y0, options, Some(event), None)
}

/// [`solve`] that adds every accepted step to `cost` (shared steps only; see `cost.rs`).
pub(crate) fn drive_with_cost<const D: usize, F: VectorField<D>, S: Solver>(
    field: &F,
    solver: &S,
    t_span: (f64, f64),
    y0: Tensor<D>,
    options: &SolveOptions,
    cost: &mut Accumulator,
) -> Result<Solution<D>> {
    drive(field, solver, t_span, y0, options, None, Some(cost))
}

fn drive<const D: usize, F: VectorField<D>, S: Solver>(
    field: &F,
    solver: &S,
    t_span: (f64, f64),
    y0: Tensor<D>,
    options: &SolveOptions,
    event: Option<&Event<'_, D>>,
    cost: Option<&mut Accumulator>,
) -> Result<Solution<D>> {
    options.validate(t_span)?;
    let adapted;
    let solver = match options
        .controller()
        .and_then(|c| solver.with_tolerances(c.rtol, c.atol))
    {
        Some(s) => {
            adapted = s;
            &adapted
        }
        None => solver,
    };
    if let StepControl::Adaptive(_) = options.step
        && solver.error_order().is_none()
    {
        return Err(Error::Unsupported {
            solver: solver.name(),
            what: "adaptive step sizes".into(),
            advice: "this method has no error estimate; use SolveOptions::fixed(dt) or a method \
                     such as Dopri5, Tsit5 or Bosh3"
                .into(),
        });
    }
    if options.batch == BatchMode::PerSample && options.controller().is_some() {
        if event.is_some() {
            return Err(Error::Unsupported {
                solver: solver.name(),
                what: "events with per-sample steps".into(),
                advice: "use BatchMode::Shared with events".into(),
            });
        }
        if !solver.supports_per_sample() {
            return Err(Error::Unsupported {
                solver: solver.name(),
                what: "per-sample step sizes".into(),
                advice: "use BatchMode::Shared with this solver".into(),
            });
        }
        return per_sample::drive(field, solver, t_span, y0, options);
    }
    shared(field, solver, t_span, y0, options, event, cost)
}

/// `f0 = f(t0, y0)`, checking that the field keeps the state's shape.
pub(crate) fn first_eval<const D: usize, F: VectorField<D>>(
    field: &F,
    t0: &Time,
    y0: &Tensor<D>,
) -> Result<Tensor<D>> {
    let f0 = field.eval(t0, y0);
    if f0.dims() != y0.dims() {
        return Err(Error::ShapeMismatch {
            context: "the vector field's output".into(),
            expected: format!("the state's shape {:?}", y0.dims()),
            found: f0.dims().to_vec(),
        });
    }
    Ok(f0)
}

/// Hairer's initial step sizes (one, or one per sample), positive.
#[allow(clippy::too_many_arguments)]
pub(crate) fn initial_step<const D: usize, F: VectorField<D>>(
    field: &F,
    order: usize,
    controller: &PidController,
    t0: f64,
    direction: f64,
    y0: &Tensor<D>,
    f0: &Tensor<D>,
    per_sample: bool,
    nfe: &mut usize,
) -> Vec<f64> {
    if let Some(dt0) = controller.dt0 {
        let n = if per_sample { y0.dims()[0] } else { 1 };
        return vec![dt0; n];
    }
    let device = y0.device();
    let d0 = scaled_rms(y0, y0, controller, per_sample);
    let d1 = scaled_rms(f0, y0, controller, per_sample);
    let h0: Vec<f64> = d0.iter().zip(&d1).map(|(&a, &b)| hairer_h0(a, b)).collect();
    let signed: Vec<f64> = h0.iter().map(|h| h * direction).collect();
    let clock = if per_sample {
        Clock::per_sample(vec![t0; signed.len()], signed, &device)
    } else {
        Clock::Shared {
            t: t0,
            h: signed[0],
        }
    };
    let y_trial = y0.clone().add(clock.scale(f0.clone()));
    let f_trial = field.eval(&clock.time_at(1.0, &device), &y_trial);
    *nfe += 1;
    let d2 = scaled_rms(&f_trial.sub(f0.clone()), y0, controller, per_sample);
    h0.iter()
        .zip(d1.iter().zip(&d2))
        .map(|(&h0, (&d1, &d2))| hairer_h1(h0, d1, d2 / h0, order).min(controller.dt_max))
        .collect()
}

/// Whether `t` has reached `t1` (up to rounding) in `direction`.
pub(crate) fn reached(t: f64, t1: f64, direction: f64, h: f64) -> bool {
    (t1 - t) * direction <= 1e-12 * h.abs().max(f64::MIN_POSITIVE) + 4.0 * f64::EPSILON * t.abs()
}

fn max_abs<const D: usize>(y: &Tensor<D>) -> f64 {
    y.clone().detach().abs().max().into_scalar::<f64>()
}

struct Saver<'a> {
    save_at: &'a SaveAt,
    next: usize,
}

impl Saver<'_> {
    /// Pending save times in `(t, t_new]` (in `direction`), consumed.
    fn take(&mut self, t: f64, t_new: f64, direction: f64) -> Vec<f64> {
        let SaveAt::Times(times) = self.save_at else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while self.next < times.len() {
            let ts = times[self.next];
            if (ts - t_new) * direction <= 0.0 && (ts - t) * direction >= 0.0 {
                out.push(ts);
                self.next += 1;
            } else {
                break;
            }
        }
        out
    }
}

fn shared<const D: usize, F: VectorField<D>, S: Solver>(
    field: &F,
    solver: &S,
    (t0, t1): (f64, f64),
    y0: Tensor<D>,
    options: &SolveOptions,
    event: Option<&Event<'_, D>>,
    mut cost: Option<&mut Accumulator>,
) -> Result<Solution<D>> {
    let direction = if t1 >= t0 { 1.0 } else { -1.0 };
    let mut stats = Stats::default();
    let mut f0 = first_eval(field, &Time::Shared(t0), &y0)?;
    stats.nfe += 1;
    let controller = options.controller();
    let k_order = solver.error_order().unwrap_or(0) + 1;
    let mut h = match &options.step {
        StepControl::Fixed { dt } => dt * direction,
        StepControl::Adaptive(c) => {
            let order = solver.error_order().unwrap_or(solver.order());
            initial_step(
                field,
                order,
                c,
                t0,
                direction,
                &y0,
                &f0,
                false,
                &mut stats.nfe,
            )[0] * direction
        }
    };
    let mut ts = Vec::new();
    let mut ys = Vec::new();
    let mut saver = Saver {
        save_at: &options.save_at,
        next: 0,
    };
    if options.save_at == SaveAt::Steps {
        ts.push(t0);
        ys.push(y0.clone());
    }
    for ts_k in saver.take(t0, t0, direction) {
        ts.push(ts_k);
        ys.push(y0.clone());
    }
    let mut g_old = event.map(|e| (e.condition)(t0, &y0));
    let mut t = t0;
    let mut y = y0;
    let mut err_prev = 1.0;
    let mut after_reject = false;
    let mut stop = StopReason::Finished;
    while t1 != t0 && !reached(t, t1, direction, h) {
        if stats.steps >= options.max_steps {
            return Err(Error::MaxStepsReached {
                t,
                steps: stats.steps,
            });
        }
        let clipped = (t + h - t1) * direction >= 0.0;
        let h_try = if clipped { t1 - t } else { h };
        let clock = Clock::Shared { t, h: h_try };
        let mut step = solver.step(field, &clock, &y, &f0, &mut stats.nfe)?;
        stats.steps += 1;
        let mut factor = 1.0;
        if let Some(c) = controller {
            let err = error_norm(&step.error, &step.y0, &step.y1, c, false)[0];
            let (accept, f) = c.decide(err, err_prev, k_order, after_reject);
            factor = f;
            if !accept {
                stats.rejected += 1;
                after_reject = true;
                h = c.retry(
                    t,
                    h_try,
                    factor,
                    err,
                    matches!(step.error, StepError::Failed),
                )?;
                continue;
            }
            err_prev = err.max(1e-4);
        } else if matches!(step.error, StepError::Failed) {
            return Err(Error::NewtonFailed { t, dt: h_try.abs() });
        } else if !max_abs(&step.y1).is_finite() {
            return Err(Error::NonFinite { t });
        }
        stats.accepted += 1;
        after_reject = false;
        // A step that ends within rounding of t1 ends at t1, so the save times at t1 are
        // taken (fixed steps such as 10 × 0.1 reach 0.9999999999999999).
        let t_new = if clipped || reached(t + h_try, t1, direction, h_try) {
            t1
        } else {
            t + h_try
        };
        if let Some(acc) = cost.as_deref_mut() {
            acc.record(&step, &clock, (t, t_new), solver.stages(), controller);
        }

        if let (Some(e), Some(g0)) = (event, g_old) {
            let g1 = (e.condition)(t_new, &step.y1);
            // A condition that starts at zero (e.g. a restart at the event) does not fire
            // until it has left zero.
            if g0 != 0.0 && (g1 == 0.0 || g0.signum() != g1.signum()) {
                let root = locate_root(e, solver, field, &clock, &mut step, (g0, g1), &mut stats);
                let y_root = value_at(solver, field, &clock, &mut step, root, &mut stats);
                for ts_k in saver.take(t, t + root * h_try, direction) {
                    let theta = (ts_k - t) / h_try;
                    ts.push(ts_k);
                    ys.push(value_at(
                        solver, field, &clock, &mut step, theta, &mut stats,
                    ));
                }
                let t_root = t + root * h_try;
                if matches!(options.save_at, SaveAt::T1 | SaveAt::Steps) {
                    ts.push(t_root);
                    ys.push(y_root);
                }
                stop = StopReason::Event { t: t_root };
                t = t_root;
                break;
            }
            g_old = Some(g1);
        }

        for ts_k in saver.take(t, t_new, direction) {
            let theta = (ts_k - t) / h_try;
            ts.push(ts_k);
            ys.push(value_at(
                solver, field, &clock, &mut step, theta, &mut stats,
            ));
        }
        if options.save_at == SaveAt::Steps {
            ts.push(t_new);
            ys.push(step.y1.clone());
        }
        f0 = step.f1(solver.stages()).clone();
        y = step.y1;
        t = t_new;
        if let Some(c) = controller {
            h = c.next(h_try, factor);
        }
    }
    if options.save_at == SaveAt::T1 && stop == StopReason::Finished {
        ts.push(t1);
        ys.push(y.clone());
    }
    if ts.is_empty() {
        // Degenerate interval: every save time equals t0 == t1.
        ts.push(t);
        ys.push(y);
    }
    Ok(Solution {
        ts,
        ys,
        stats,
        stop,
    })
}

/// The interpolant at `θ` of an accepted step (the step's end exactly at `θ = 1`).
fn value_at<const D: usize, F: VectorField<D>, S: Solver>(
    solver: &S,
    field: &F,
    clock: &Clock<D>,
    step: &mut RkStep<D>,
    theta: f64,
    stats: &mut Stats,
) -> Tensor<D> {
    if theta >= 1.0 {
        return step.y1.clone();
    }
    if theta <= 0.0 {
        return step.y0.clone();
    }
    solver.prepare_dense(field, clock, step, &mut stats.nfe);
    interpolate(step, clock, Theta::Shared(theta), |th| {
        solver.dense_weights(th)
    })
}

/// The root of the event condition inside an accepted step, as a fraction θ of the step.
fn locate_root<const D: usize, F: VectorField<D>, S: Solver>(
    event: &Event<'_, D>,
    solver: &S,
    field: &F,
    clock: &Clock<D>,
    step: &mut RkStep<D>,
    (g0, g1): (f64, f64),
    stats: &mut Stats,
) -> f64 {
    if g1 == 0.0 {
        return 1.0;
    }
    let Clock::Shared { t, h } = *clock else {
        unreachable!("events run on shared steps");
    };
    let tol = event.tol / h.abs();
    let (mut a, mut b, mut ga, mut gb) = (0.0, 1.0, g0, g1);
    let mut side = 0;
    for iteration in 0..200 {
        if b - a <= tol {
            break;
        }
        // Illinois steps, every other one replaced by bisection so the bracket always shrinks.
        let mut m = (a * gb - b * ga) / (gb - ga);
        if iteration % 2 == 1 || !(m > a && m < b) {
            m = 0.5 * (a + b);
        }
        let gm = (event.condition)(t + m * h, &value_at(solver, field, clock, step, m, stats));
        if gm == 0.0 {
            return m;
        }
        if gm.signum() == ga.signum() {
            a = m;
            ga = gm;
            if side == -1 {
                gb *= 0.5;
            }
            side = -1;
        } else {
            b = m;
            gb = gm;
            if side == 1 {
                ga *= 0.5;
            }
            side = 1;
        }
    }
    // The end of the bracket past the crossing, so the returned state has crossed.
    b
}
