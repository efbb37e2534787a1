//! The irregularly sampled time-series task of the `ernode` benchmark, a small-scale analogue of
//! the latent-ODE / PhysioNet setting of the ERNODE papers: series of a damped pendulum
//! (x' = v, v' = -sin x - 0.1 v) from random initial states, observed at 16 random times in
//! (0, 5] drawn afresh for every batch, with 20% of the values missing and Gaussian noise
//! (σ = 0.05); an augmented neural ODE (2 observed + 2 latent dimensions, 4-32-32-4 tanh MLP)
//! starts from the noisy first observation and is fitted by the masked mean squared error
//! (Adam 1e-2 with a cosine decay, Dopri5 at rtol 1e-4, atol 1e-6, f64). The latent dimensions
//! are unobserved, so their dynamics are free: there is room for a regulariser to make the
//! field cheaper without changing the fit. Accuracy: mean squared error against the
//! noise-free truth on 128 fresh series at 101 regular times in [0, 5].

use std::time::Instant;

use kiln_core::burn::module::Module;
use kiln_core::burn::tensor::{Device, Tensor, TensorData};
use kiln_core::rng::Rng;
use kiln_core::train::{OptimizerConfig, ProgressMode, Schedule, TrainerConfig};
use kiln_neural_de::models::{NeuralOde, NeuralOdeConfig};
use kiln_neural_de::{ExplicitRk, Method, SolveOptions, solve_host};

use crate::spiral::{Regulariser, regularised_solve};

/// End of the observation window.
const T_END: f64 = 5.0;
/// Random observation times per batch (besides t = 0).
const OBSERVATIONS: usize = 16;
/// Series per training batch.
const BATCH: usize = 32;
/// Standard deviation of the observation noise.
const NOISE: f64 = 0.05;
/// Probability that a value (after t = 0) is missing.
const MISSING: f64 = 0.2;
/// Tolerances of the model's solves (training and prediction).
pub(crate) const RTOL: f64 = 1e-4;
/// Absolute tolerance of the model's solves.
pub(crate) const ATOL: f64 = 1e-6;
/// Fresh series in the test set.
const TEST_SERIES: usize = 128;
/// Regular test times in [0, T_END].
const TEST_POINTS: usize = 101;

/// The true pendulum states at `ts` from `y0`.
fn truth(y0: [f64; 2], ts: &[f64]) -> kiln_neural_de::Result<Vec<[f64; 2]>> {
    let sol = solve_host(
        |_t, y: &[f64], dy: &mut [f64]| {
            dy[0] = y[1];
            dy[1] = -y[0].sin() - 0.1 * y[1];
        },
        Method::Dopri5,
        (ts[0], ts[ts.len() - 1]),
        &y0,
        &SolveOptions::adaptive(1e-10, 1e-12).save_times(ts.to_vec()),
    )?;
    Ok(sol.ys.iter().map(|y| [y[0], y[1]]).collect())
}

/// A batch: times, the observed first states `[batch, 2]`, targets and their mask
/// `[times, batch, 2]` (missing values are 0 in both).
struct Batch {
    ts: Vec<f64>,
    y0: Tensor<2>,
    target: Tensor<3>,
    mask: Tensor<3>,
}

fn draw(
    rng: &mut Rng,
    series: usize,
    ts: Vec<f64>,
    noise: f64,
    missing: f64,
    device: &Device,
) -> kiln_neural_de::Result<Batch> {
    let mut paths = Vec::with_capacity(series);
    for _ in 0..series {
        let y0 = [4.0 * rng.uniform() - 2.0, 2.0 * rng.uniform() - 1.0];
        paths.push(truth(y0, &ts)?);
    }
    let (n, mut y0, mut target, mut mask) = (ts.len(), Vec::new(), Vec::new(), Vec::new());
    for path in &paths {
        y0.extend(path[0].iter().map(|v| v + noise * rng.normal()));
    }
    for i in 0..n {
        for path in &paths {
            for &v in &path[i] {
                let seen = i == 0 || rng.uniform() >= missing;
                target.push(if seen { v + noise * rng.normal() } else { 0.0 });
                mask.push(if seen { 1.0 } else { 0.0 });
            }
        }
    }
    Ok(Batch {
        ts,
        y0: Tensor::from_data(TensorData::new(y0, [series, 2]), device),
        target: Tensor::from_data(TensorData::new(target, [n, series, 2]), device),
        mask: Tensor::from_data(TensorData::new(mask, [n, series, 2]), device),
    })
}

/// Sorted random observation times in (0, T_END], after t = 0.
fn random_times(rng: &mut Rng) -> Vec<f64> {
    let mut ts: Vec<f64> = (0..OBSERVATIONS).map(|_| T_END * rng.uniform()).collect();
    ts.sort_by(f64::total_cmp);
    ts.dedup();
    ts.retain(|&t| t > 0.0);
    ts.insert(0, 0.0);
    ts
}

/// What a run of the time-series task measured.
pub(crate) struct SeriesRun {
    /// Test mean squared error against the noise-free truth.
    pub(crate) test_mse: f64,
    /// NFE of the prediction of the whole test set (one shared-step solve).
    pub(crate) pred_nfe: usize,
    /// Milliseconds of the prediction of the whole test set (fastest of five).
    pub(crate) pred_ms: f64,
    /// Milliseconds per training iteration.
    pub(crate) ms_per_iter: f64,
    /// Mean NFE per training solve.
    pub(crate) nfe_per_iter: f64,
}

/// Fits the augmented neural ODE for `iterations` under `reg` on the autodiff `device`.
pub(crate) fn train(
    iterations: usize,
    seed: u64,
    reg: Regulariser,
    device: &Device,
) -> kiln_neural_de::Result<SeriesRun> {
    kiln_core::device::seed(device, seed);
    let model = NeuralOdeConfig::new(2, vec![32, 32])
        .with_augment(2)
        .init(device)?;
    let plain = device.clone().without_autodiff();
    let trainer = TrainerConfig::new(iterations, 1e-2)
        .with_optimizer(OptimizerConfig::adam())
        .with_schedule(Schedule::Cosine { min_lr: 0.0 })
        .with_seed(seed)
        .with_log_every(100)
        .with_progress(ProgressMode::Lines)
        .init()?;
    let mut rng = Rng::new(seed);
    let options = SolveOptions::adaptive(RTOL, ATOL);
    let mut nfe = 0usize;
    let outcome = trainer.fit(model, device, |model: &NeuralOde, info| {
        let ts = random_times(&mut rng);
        let batch = draw(&mut rng, BATCH, ts, NOISE, MISSING, device)?;
        let z0 = model.augmented_initial(batch.y0)?;
        let (pred, penalty, evaluations) =
            regularised_solve(model, z0, &batch.ts, &options, reg, info.seed)?;
        nfe += evaluations;
        let pred = model.observed(pred);
        let mse = pred
            .sub(batch.target)
            .square()
            .mul(batch.mask.clone())
            .sum()
            .div(batch.mask.sum());
        Ok(mse.add(penalty).into())
    })?;
    let model = outcome.model.valid();
    // The test set is the same for every run: seeded independently of `seed`.
    let test_ts: Vec<f64> = (0..TEST_POINTS)
        .map(|i| T_END * i as f64 / (TEST_POINTS - 1) as f64)
        .collect();
    let test = draw(
        &mut Rng::new(0x7e57),
        TEST_SERIES,
        test_ts.clone(),
        0.0,
        0.0,
        &plain,
    )?;
    let mut times = Vec::new();
    let mut result = None;
    for _ in 0..5 {
        let started = Instant::now();
        let (pred, stats) =
            model.forward_with_stats(test.y0.clone(), &test_ts, &ExplicitRk::dopri5(), &options)?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        result = Some((pred, stats.nfe));
    }
    times.sort_by(f64::total_cmp);
    let (pred, pred_nfe) = result.expect("five predictions");
    let test_mse = pred.sub(test.target).square().mean().into_scalar::<f64>();
    Ok(SeriesRun {
        test_mse,
        pred_nfe,
        pred_ms: times[0],
        ms_per_iter: outcome.elapsed_s * 1e3 / iterations as f64,
        nfe_per_iter: nfe as f64 / iterations as f64,
    })
}
