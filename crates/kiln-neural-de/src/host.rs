//! The same explicit Runge-Kutta methods, controller and save policies on a plain `f64` state,
//! for small systems where a tensor's per-operation cost would dominate (one trajectory of a
//! 3-dimensional system costs ~0.1 µs per step here, a tensor solve ~40 µs) and for classical
//! data generators that do not need autodiff.

use crate::controller::{hairer_h0, hairer_h1};
use crate::options::{SaveAt, SolveOptions, Stats, StepControl};
use crate::solve::reached;
use crate::tableau::{ButcherTableau, DenseOutput, ErrorEstimator, Method, dense_weights, dop853};
use crate::{Error, Result};

/// States saved by [`solve_host`].
#[derive(Clone, Debug, PartialEq)]
pub struct HostSolution {
    /// Times of the saved states.
    pub ts: Vec<f64>,
    /// Saved states.
    pub ys: Vec<Vec<f64>>,
    /// Counters.
    pub stats: Stats,
}

/// Work buffers of one step: stages (then `f(t₁, y₁)`, then extra dense stages), `y₁`, error.
struct Work {
    k: Vec<Vec<f64>>,
    y1: Vec<f64>,
    scratch: Vec<f64>,
    err: Vec<f64>,
    err3: Vec<f64>,
    zero: Vec<f64>,
}

/// `out = y + h Σ cᵢ kᵢ`.
fn advance(out: &mut [f64], y: &[f64], h: f64, coefficients: &[f64], k: &[Vec<f64>]) {
    out.copy_from_slice(y);
    for (c, ki) in coefficients.iter().zip(k) {
        if *c != 0.0 {
            let hc = h * c;
            for (o, v) in out.iter_mut().zip(ki) {
                *o += hc * v;
            }
        }
    }
}

/// RMS of `e / (atol + rtol max(|y₀|, |y₁|))`, or for DOP853 its combined estimate.
fn error_norm(tab: &ButcherTableau, w: &Work, y0: &[f64], rtol: f64, atol: f64) -> f64 {
    let n = y0.len() as f64;
    let scaled = |e: &[f64]| -> f64 {
        e.iter()
            .zip(y0.iter().zip(&w.y1))
            .map(|(e, (a, b))| (e / (atol + rtol * a.abs().max(b.abs()))).powi(2))
            .sum::<f64>()
    };
    match tab.error {
        ErrorEstimator::Dop853 => {
            let (s5, s3) = (scaled(&w.err), scaled(&w.err3));
            if s5 == 0.0 && s3 == 0.0 {
                0.0
            } else {
                s5 / ((s5 + 0.01 * s3) * n).sqrt()
            }
        }
        _ => (scaled(&w.err) / n).sqrt(),
    }
}

/// Integrates `dy/dt = f(t, y)` (written into the output slice) on a plain `f64` state with an
/// explicit method, under the same [`SolveOptions`] as [`crate::solve`] (shared steps only).
///
/// # Errors
/// As [`crate::solve`]: invalid options, adaptive steps without an error estimate, and the
/// solve failures `MaxStepsReached`, `StepSizeTooSmall`, `NonFinite`.
pub fn solve_host<F: FnMut(f64, &[f64], &mut [f64])>(
    mut f: F,
    method: Method,
    (t0, t1): (f64, f64),
    y0: &[f64],
    options: &SolveOptions,
) -> Result<HostSolution> {
    options.validate((t0, t1))?;
    let tab = method.tableau();
    let controller = options.controller();
    if controller.is_some() && tab.error_order().is_none() {
        return Err(Error::Unsupported {
            solver: tab.name.into(),
            what: "adaptive step sizes".into(),
            advice: "use SolveOptions::fixed(dt) or an embedded method such as Dopri5".into(),
        });
    }
    let (n, s) = (y0.len(), tab.stages());
    let direction = if t1 >= t0 { 1.0 } else { -1.0 };
    let mut w = Work {
        k: vec![vec![0.0; n]; s + 4],
        y1: vec![0.0; n],
        scratch: vec![0.0; n],
        err: vec![0.0; n],
        err3: vec![0.0; n],
        zero: vec![0.0; n],
    };
    let mut stats = Stats::default();
    let mut y = y0.to_vec();
    let mut f0 = vec![0.0; n];
    f(t0, &y, &mut f0);
    stats.nfe += 1;
    let k_order = tab.error_order().unwrap_or(0) + 1;
    let mut h = match (&options.step, controller) {
        (StepControl::Fixed { dt }, _) => dt * direction,
        (_, Some(c)) => match c.dt0 {
            Some(dt0) => dt0 * direction,
            None => {
                let rms = |x: &[f64]| {
                    (x.iter()
                        .zip(&y)
                        .map(|(x, y)| (x / (c.atol + c.rtol * y.abs())).powi(2))
                        .sum::<f64>()
                        / n as f64)
                        .sqrt()
                };
                let (d0, d1) = (rms(&y), rms(&f0));
                let h0 = hairer_h0(d0, d1);
                for ((o, yi), fi) in w.scratch.iter_mut().zip(&y).zip(&f0) {
                    *o = yi + h0 * direction * fi;
                }
                f(t0 + h0 * direction, &w.scratch, &mut w.err);
                stats.nfe += 1;
                let diff: Vec<f64> = w.err.iter().zip(&f0).map(|(a, b)| a - b).collect();
                let d2 = rms(&diff) / h0;
                let order = tab.error_order().unwrap_or(tab.order);
                hairer_h1(h0, d1, d2, order).min(c.dt_max) * direction
            }
        },
        (StepControl::Adaptive(_), None) => unreachable!("adaptive options have a controller"),
    };
    let times: &[f64] = match &options.save_at {
        SaveAt::Times(ts) => ts,
        _ => &[],
    };
    let (mut ts, mut ys) = (Vec::new(), Vec::new());
    let mut next = 0;
    while next < times.len() && times[next] == t0 {
        ts.push(t0);
        ys.push(y.clone());
        next += 1;
    }
    if options.save_at == SaveAt::Steps {
        ts.push(t0);
        ys.push(y.clone());
    }
    let (mut t, mut err_prev, mut after_reject) = (t0, 1.0, false);
    while t1 != t0 && !reached(t, t1, direction, h) {
        if stats.steps >= options.max_steps {
            return Err(Error::MaxStepsReached {
                t,
                steps: stats.steps,
            });
        }
        let clipped = (t + h - t1) * direction >= 0.0;
        let h_try = if clipped { t1 - t } else { h };
        w.k[0].copy_from_slice(&f0);
        for i in 1..s {
            advance(&mut w.scratch, &y, h_try, &tab.a[i], &w.k);
            f(t + tab.c[i] * h_try, &w.scratch, &mut w.k[i]);
        }
        advance(&mut w.y1, &y, h_try, &tab.b, &w.k);
        f(t + h_try, &w.y1, &mut w.k[s]);
        stats.nfe += s;
        stats.steps += 1;
        let mut factor = 1.0;
        if let Some(c) = controller {
            match &tab.error {
                ErrorEstimator::Embedded { weights, .. } => {
                    advance(&mut w.err, &w.zero, h_try, weights, &w.k)
                }
                ErrorEstimator::Dop853 => {
                    advance(&mut w.err, &w.zero, h_try, &dop853::E5, &w.k);
                    advance(&mut w.err3, &w.zero, h_try, &dop853::E3, &w.k);
                }
                ErrorEstimator::None => unreachable!("checked above"),
            }
            let err = error_norm(&tab, &w, &y, c.rtol, c.atol);
            let (accept, fac) = c.decide(err, err_prev, k_order, after_reject);
            factor = fac;
            if !accept {
                stats.rejected += 1;
                after_reject = true;
                h = c.retry(t, h_try, factor, err, false)?;
                continue;
            }
            err_prev = err.max(1e-4);
        } else if !w.y1.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFinite { t });
        }
        stats.accepted += 1;
        after_reject = false;
        let t_new = if clipped { t1 } else { t + h_try };
        let mut extra = false;
        while next < times.len() && (times[next] - t_new) * direction <= 0.0 {
            let theta = (times[next] - t) / h_try;
            if theta >= 1.0 {
                ts.push(times[next]);
                ys.push(w.y1.clone());
                next += 1;
                continue;
            }
            if tab.dense == DenseOutput::Dop853 && !extra {
                for i in s + 1..16 {
                    advance(&mut w.scratch, &y, h_try, dop853::A[i], &w.k);
                    f(t + dop853::C[i] * h_try, &w.scratch, &mut w.k[i]);
                    stats.nfe += 1;
                }
                extra = true;
            }
            let (a, b) = dense_weights(&tab, theta);
            let mut value = vec![0.0; n];
            advance(&mut value, &y, h_try, &b, &w.k);
            for ((v, y1), y0) in value.iter_mut().zip(&w.y1).zip(&y) {
                *v += a * (y1 - y0);
            }
            ts.push(times[next]);
            ys.push(value);
            next += 1;
        }
        std::mem::swap(&mut y, &mut w.y1);
        f0.copy_from_slice(&w.k[s]);
        t = t_new;
        if options.save_at == SaveAt::Steps {
            ts.push(t);
            ys.push(y.clone());
        }
        if let Some(c) = controller {
            h = c.next(h_try, factor);
        }
    }
    if options.save_at == SaveAt::T1 || ts.is_empty() {
        ts.push(t);
        ys.push(y);
    }
    Ok(HostSolution { ts, ys, stats })
}
