//! Adaptive solves in which every sample of the batch has its own step size and accepts or
//! rejects on its own error, all samples stepping together as one vectorised attempt.

use burn::tensor::{Bool, Tensor, TensorData};

use crate::norm::error_norm;
use crate::options::{SaveAt, Solution, SolveOptions, Stats, StepControl, StopReason};
use crate::solve::{first_eval, initial_step, reached};
use crate::solver::Solver;
use crate::step::{Clock, StepError, Theta, interpolate};
use crate::term::{Time, VectorField};
use crate::{Error, Result};

/// A `[batch, 1, ..., 1]` mask expanded to the state's shape.
fn mask<const D: usize>(values: &[bool], like: &Tensor<D>) -> Tensor<D, Bool> {
    let mut shape = [1usize; D];
    shape[0] = values.len();
    Tensor::<D, Bool>::from_data(TensorData::new(values.to_vec(), shape), &like.device())
        .expand(like.shape())
}

pub(crate) fn drive<const D: usize, F: VectorField<D>, S: Solver>(
    field: &F,
    solver: &S,
    (t0, t1): (f64, f64),
    y0: Tensor<D>,
    options: &SolveOptions,
) -> Result<Solution<D>> {
    let StepControl::Adaptive(controller) = &options.step else {
        unreachable!("per-sample steps are adaptive");
    };
    if options.save_at == SaveAt::Steps {
        return Err(Error::Unsupported {
            solver: solver.name(),
            what: "SaveAt::Steps with per-sample steps".into(),
            advice: "samples step at different times; use SaveAt::Times or BatchMode::Shared"
                .into(),
        });
    }
    let device = y0.device();
    let batch = y0.dims()[0];
    let direction = if t1 >= t0 { 1.0 } else { -1.0 };
    let mut stats = Stats {
        accepted_per_sample: Some(vec![0; batch]),
        ..Stats::default()
    };
    let mut f0 = first_eval(field, &Time::Shared(t0), &y0)?;
    stats.nfe += 1;
    let k_order = solver.error_order().unwrap_or(0) + 1;
    let order = solver.error_order().unwrap_or(solver.order());
    let mut h: Vec<f64> = initial_step(
        field,
        order,
        controller,
        t0,
        direction,
        &y0,
        &f0,
        true,
        &mut stats.nfe,
    )
    .into_iter()
    .map(|h| h * direction)
    .collect();

    let save_times: Vec<f64> = match &options.save_at {
        SaveAt::Times(times) => times.clone(),
        _ => vec![t1],
    };
    // saved[k] collects the state at save_times[k]; next_save[i] is sample i's next index.
    let mut saved: Vec<Tensor<D>> = vec![y0.zeros_like(); save_times.len()];
    let mut next_save = vec![0usize; batch];
    for (k, &ts) in save_times.iter().enumerate() {
        if ts == t0 {
            saved[k] = y0.clone();
            next_save.iter_mut().for_each(|n| *n = k + 1);
        }
    }
    let mut t = vec![t0; batch];
    let mut err_prev = vec![1.0; batch];
    let mut after_reject = vec![false; batch];
    let mut done: Vec<bool> = t
        .iter()
        .map(|&t| t1 == t0 || reached(t, t1, direction, 0.0))
        .collect();
    let mut y = y0;
    while done.iter().any(|d| !d) {
        if stats.steps >= options.max_steps {
            let i = done.iter().position(|d| !d).unwrap_or(0);
            return Err(Error::MaxStepsReached {
                t: t[i],
                steps: stats.steps,
            });
        }
        let mut clipped = vec![false; batch];
        let h_try: Vec<f64> = (0..batch)
            .map(|i| {
                if done[i] {
                    0.0
                } else if (t[i] + h[i] - t1) * direction >= 0.0 {
                    clipped[i] = true;
                    t1 - t[i]
                } else {
                    h[i]
                }
            })
            .collect();
        let clock = Clock::per_sample(t.clone(), h_try.clone(), &device);
        let mut step = solver.step(field, &clock, &y, &f0, &mut stats.nfe)?;
        stats.steps += 1;
        let errors = error_norm(&step.error, &step.y0, &step.y1, controller, true);
        let mut accept = vec![false; batch];
        let mut factors = vec![1.0; batch];
        for i in 0..batch {
            if done[i] {
                continue;
            }
            let (ok, factor) = controller.decide(errors[i], err_prev[i], k_order, after_reject[i]);
            accept[i] = ok;
            factors[i] = factor;
            if !ok {
                stats.rejected += 1;
                after_reject[i] = true;
                let failed = matches!(step.error, StepError::Failed);
                h[i] = controller.retry(t[i], h_try[i], factor, errors[i], failed)?;
            }
        }

        // Save every pending time that an accepted step of some sample has passed.
        let mut prepared = false;
        loop {
            let mut any = false;
            let mut take = vec![false; batch];
            let mut theta = vec![0.0; batch];
            // Handle one save index at a time; samples may be at different indices.
            let k = (0..batch)
                .filter(|&i| accept[i] && next_save[i] < save_times.len())
                .filter(|&i| {
                    let t_new = if clipped[i] { t1 } else { t[i] + h_try[i] };
                    (save_times[next_save[i]] - t_new) * direction <= 0.0
                })
                .map(|i| next_save[i])
                .min();
            let Some(k) = k else { break };
            for i in 0..batch {
                let t_new = if clipped[i] { t1 } else { t[i] + h_try[i] };
                if accept[i] && next_save[i] == k && (save_times[k] - t_new) * direction <= 0.0 {
                    take[i] = true;
                    theta[i] = ((save_times[k] - t[i]) / h_try[i]).clamp(0.0, 1.0);
                    next_save[i] += 1;
                    any = true;
                }
            }
            if !any {
                break;
            }
            if !prepared {
                solver.prepare_dense(field, &clock, &mut step, &mut stats.nfe);
                prepared = true;
            }
            let value = interpolate(&step, &clock, Theta::PerSample(&theta), |th| {
                solver.dense_weights(th)
            });
            saved[k] = saved[k].clone().mask_where(mask(&take, &y), value);
        }

        if accept.iter().any(|a| *a) {
            let m = mask(&accept, &y);
            y = y.mask_where(m.clone(), step.y1.clone());
            f0 = f0.mask_where(m, step.f1(solver.stages()).clone());
        }
        for i in 0..batch {
            if !accept[i] {
                continue;
            }
            stats.accepted += 1;
            if let Some(per) = stats.accepted_per_sample.as_mut() {
                per[i] += 1;
            }
            t[i] = if clipped[i] { t1 } else { t[i] + h_try[i] };
            err_prev[i] = errors[i].max(1e-4);
            after_reject[i] = false;
            h[i] = controller.next(h_try[i], factors[i]);
            if clipped[i] || reached(t[i], t1, direction, h[i]) {
                done[i] = true;
            }
        }
    }
    Ok(Solution {
        ts: save_times,
        ys: saved,
        stats,
        stop: StopReason::Finished,
    })
}
