//! torchdiffeq's `ode_demo` spiral, shared by the `node-spiral` demo and benchmark: the true
//! trajectory of dy/dt = (y³) A, the random mini-batches, and the training run of a neural ODE
//! on them (2-50-2 tanh MLP on y³, Dopri5 at rtol 1e-7, atol 1e-9) under a `Recipe`:
//! torchdiffeq's (constant-rate RMSprop 1e-3, last model), kiln's (the same training, returning
//! the best tested model) or a decaying learning rate; and the regularised solve shared with the
//! `ernode` benchmark.

#![allow(dead_code)]

use std::time::Instant;

use kiln_core::burn::module::Module;
use kiln_core::burn::nn::Initializer;
use kiln_core::burn::tensor::{Device, Tensor, TensorData};
use kiln_core::rng::Rng;
use kiln_core::train::{OptimizerConfig, ProgressMode, Schedule, TrainerConfig};
use kiln_neural_de::models::{
    FieldInput, JacobianNorm, NeuralOde, NeuralOdeConfig, Rnode, solve_rnode,
};
use kiln_neural_de::{
    CostOptions, CostSampling, ExplicitRk, HostSolution, Method, SolveOptions, solve_host,
    solve_with_cost,
};

/// Points of the true trajectory on [0, 25].
pub(crate) const DATA_SIZE: usize = 1000;
/// Length of a training sub-trajectory.
pub(crate) const BATCH_TIME: usize = 10;
/// Sub-trajectories per batch.
pub(crate) const BATCH_SIZE: usize = 20;
/// Iterations between two full-trajectory tests.
pub(crate) const TEST_FREQ: usize = 20;
/// torchdiffeq's default tolerances.
pub(crate) const RTOL: f64 = 1e-7;
/// torchdiffeq's default absolute tolerance.
pub(crate) const ATOL: f64 = 1e-9;

/// The true field's Dopri5 solve at the `DATA_SIZE` data times; its NFE is the floor any field
/// that fits the data faces on the same prediction.
pub(crate) fn true_solve() -> kiln_neural_de::Result<(Vec<f64>, HostSolution)> {
    let ts: Vec<f64> = (0..DATA_SIZE)
        .map(|i| 25.0 * i as f64 / (DATA_SIZE - 1) as f64)
        .collect();
    let sol = solve_host(
        |_t, y: &[f64], dy: &mut [f64]| {
            let (a, b) = (y[0].powi(3), y[1].powi(3));
            // (y³) A with A = [[-0.1, 2], [-2, -0.1]] (a row vector times A).
            dy[0] = -0.1 * a - 2.0 * b;
            dy[1] = 2.0 * a - 0.1 * b;
        },
        Method::Dopri5,
        (0.0, 25.0),
        &[2.0, 0.0],
        &SolveOptions::adaptive(RTOL, ATOL).save_times(ts.clone()),
    )?;
    Ok((ts, sol))
}

/// The true trajectory: times and states `[DATA_SIZE][2]`.
pub(crate) fn true_trajectory() -> kiln_neural_de::Result<(Vec<f64>, Vec<[f64; 2]>)> {
    let (ts, sol) = true_solve()?;
    let ys = sol.ys.iter().map(|y| [y[0], y[1]]).collect();
    Ok((ts, ys))
}

/// The model of the demo: 2-50-2 tanh on y³, weights N(0, 0.1), biases 0.
pub(crate) fn model(device: &Device) -> kiln_neural_de::Result<NeuralOde> {
    NeuralOdeConfig::new(2, vec![50])
        .with_input(FieldInput::Cube)
        .with_initializer(Initializer::Normal {
            mean: 0.0,
            std: 0.1,
        })
        .init(device)
}

/// States `[rows][2]` as a `[rows, 2]` tensor.
pub(crate) fn states(rows: &[[f64; 2]], device: &Device) -> Tensor<2> {
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), 2]), device)
}

/// One mini-batch: `y0: [BATCH_SIZE, 2]` and targets `[BATCH_TIME, BATCH_SIZE, 2]`. The
/// starts are drawn without replacement from `0..DATA_SIZE - BATCH_TIME`, as torchdiffeq's
/// `np.random.choice(.., replace=False)`.
pub(crate) fn batch(ys: &[[f64; 2]], rng: &mut Rng, device: &Device) -> (Tensor<2>, Tensor<3>) {
    // A partial Fisher-Yates shuffle: the first BATCH_SIZE entries are a uniform sample.
    let mut pool: Vec<usize> = (0..DATA_SIZE - BATCH_TIME).collect();
    for i in 0..BATCH_SIZE {
        let j = i + rng.below(pool.len() - i);
        pool.swap(i, j);
    }
    let starts = &pool[..BATCH_SIZE];
    let y0: Vec<[f64; 2]> = starts.iter().map(|&s| ys[s]).collect();
    let mut target = Vec::with_capacity(BATCH_TIME * BATCH_SIZE * 2);
    for i in 0..BATCH_TIME {
        for &s in starts {
            target.extend_from_slice(&ys[s + i]);
        }
    }
    (
        states(&y0, device),
        Tensor::from_data(TensorData::new(target, [BATCH_TIME, BATCH_SIZE, 2]), device),
    )
}

/// The full-trajectory prediction from y0 = [2, 0]: `[DATA_SIZE, 1, 2]`.
pub(crate) fn predict(
    model: &NeuralOde,
    ts: &[f64],
    device: &Device,
) -> kiln_neural_de::Result<Tensor<3>> {
    model.forward(
        states(&[[2.0, 0.0]], device),
        ts,
        &ExplicitRk::dopri5(),
        &SolveOptions::adaptive(RTOL, ATOL),
    )
}

/// Mean absolute error of the full-trajectory prediction.
pub(crate) fn test_mae(
    model: &NeuralOde,
    ts: &[f64],
    ys: &[[f64; 2]],
    device: &Device,
) -> kiln_neural_de::Result<f64> {
    let pred = predict(model, ts, device)?.reshape([DATA_SIZE, 2]);
    Ok(pred
        .sub(states(ys, device))
        .abs()
        .mean()
        .into_scalar::<f64>())
}

/// A regulariser of the training loss and its weights.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Regulariser {
    /// The plain MAE loss.
    None,
    /// RNODE: `kinetic ∫‖f‖² + jacobian ∫‖∂f/∂y‖²_F` (Hutchinson).
    Rnode { kinetic: f64, jacobian: f64 },
    /// ERNODE: `error Σ|h|E + stiffness Σρ` over all steps, or over the steps at `local`
    /// random times.
    Ernode {
        error: f64,
        stiffness: f64,
        local: Option<usize>,
    },
}

impl Regulariser {
    /// Name for tables.
    pub(crate) fn name(&self) -> String {
        match *self {
            Regulariser::None => "none".into(),
            Regulariser::Rnode { kinetic, jacobian } => {
                format!("RNODE (kinetic {kinetic:e}, Jacobian {jacobian:e})")
            }
            Regulariser::Ernode {
                error,
                stiffness,
                local,
            } => match local {
                None => format!("ERNODE (error {error:e}, stiffness {stiffness:e})"),
                Some(k) => {
                    format!("local ERNODE, {k} time(s) (error {error:e}, stiffness {stiffness:e})")
                }
            },
        }
    }
}

/// The states of `model` at `ts` from the (already augmented) `z0`, `[times, batch, width]`,
/// with the penalty that `reg` adds to the loss and the NFE of the solve.
pub(crate) fn regularised_solve(
    model: &NeuralOde,
    z0: Tensor<2>,
    ts: &[f64],
    options: &SolveOptions,
    reg: Regulariser,
    seed: u64,
) -> kiln_neural_de::Result<(Tensor<3>, Tensor<1>, usize)> {
    let solver = ExplicitRk::dopri5();
    let device = z0.device();
    Ok(match reg {
        Regulariser::None => {
            let sol = kiln_neural_de::solve(
                model,
                &solver,
                (ts[0], ts[ts.len() - 1]),
                z0,
                &options.clone().save_times(ts.to_vec()),
            )?;
            let nfe = sol.stats.nfe;
            (Tensor::stack(sol.ys, 0), Tensor::zeros([1], &device), nfe)
        }
        Regulariser::Rnode { kinetic, jacobian } => {
            let rnode = Rnode {
                kinetic: kinetic > 0.0,
                jacobian: if jacobian > 0.0 {
                    JacobianNorm::Hutchinson { seed }
                } else {
                    JacobianNorm::Off
                },
            };
            let (pred, cost, stats) = solve_rnode(model, z0, ts, &solver, options, &rnode)?;
            let penalty = cost
                .kinetic
                .mul_scalar(kinetic)
                .add(cost.jacobian.mul_scalar(jacobian));
            (pred, penalty, stats.nfe)
        }
        Regulariser::Ernode {
            error,
            stiffness,
            local,
        } => {
            let cost_options = CostOptions {
                error: error > 0.0,
                stiffness: stiffness > 0.0,
                sampling: match local {
                    None => CostSampling::AllSteps,
                    Some(count) => CostSampling::RandomTimes { count, seed },
                },
            };
            let (sol, cost) = solve_with_cost(
                model,
                &solver,
                (ts[0], ts[ts.len() - 1]),
                z0,
                &options.clone().save_times(ts.to_vec()),
                &cost_options,
            )?;
            let penalty = cost
                .error
                .mul_scalar(error)
                .add(cost.stiffness.mul_scalar(stiffness));
            (Tensor::stack(sol.ys, 0), penalty, sol.stats.nfe)
        }
    })
}

/// The training loss of one batch under `reg`, and the NFE of its solve.
fn batch_loss(
    model: &NeuralOde,
    y0: Tensor<2>,
    target: Tensor<3>,
    ts: &[f64],
    reg: Regulariser,
    seed: u64,
) -> kiln_neural_de::Result<(Tensor<1>, usize)> {
    let options = SolveOptions::adaptive(RTOL, ATOL);
    let (pred, penalty, nfe) = regularised_solve(model, y0, ts, &options, reg, seed)?;
    Ok((pred.sub(target).abs().mean().add(penalty), nfe))
}

/// How the spiral model is optimised and which model a run returns: everything else (data,
/// batches, network, solver, the tests every TEST_FREQ iterations) is torchdiffeq's recipe.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Recipe {
    /// The optimiser.
    pub(crate) optimizer: OptimizerConfig,
    /// Base learning rate.
    pub(crate) lr: f64,
    /// Learning-rate schedule over the run.
    pub(crate) schedule: Schedule,
    /// Return the tested model with the lowest full-trajectory MAE (the tests the recipe runs
    /// anyway) instead of the last one.
    pub(crate) keep_best: bool,
}

impl Recipe {
    /// torchdiffeq's `ode_demo`: RMSprop (PyTorch defaults) at a constant 1e-3; the last model.
    pub(crate) fn torchdiffeq() -> Self {
        Recipe {
            optimizer: OptimizerConfig::rmsprop(),
            lr: 1e-3,
            schedule: Schedule::Constant,
            keep_best: false,
        }
    }

    /// kiln's configuration: torchdiffeq's recipe, returning the best tested model.
    pub(crate) fn kiln() -> Self {
        Recipe {
            keep_best: true,
            ..Recipe::torchdiffeq()
        }
    }

    /// RMSprop from 1e-3 annealed to zero by a cosine over the run; the last model (converges
    /// instead of oscillating, so its final MAE is a stable measure of accuracy).
    pub(crate) fn cosine() -> Self {
        Recipe {
            schedule: Schedule::Cosine { min_lr: 0.0 },
            ..Recipe::torchdiffeq()
        }
    }

    /// RMSprop 1e-3 for the first half, 1e-4 for the second; the last model.
    pub(crate) fn step_decay() -> Self {
        Recipe {
            schedule: Schedule::Step {
                gamma: 0.1,
                every: 1000,
            },
            ..Recipe::torchdiffeq()
        }
    }

    /// Name for tables.
    pub(crate) fn name(&self) -> String {
        let schedule = match self.schedule {
            Schedule::Constant => "constant".to_string(),
            Schedule::Cosine { .. } => "cosine to 0".to_string(),
            Schedule::Step { gamma, every } => format!("x{gamma} every {every} iterations"),
            Schedule::Exponential { gamma, every } => format!("x{gamma} per {every} iterations"),
        };
        let optimizer = match self.optimizer {
            OptimizerConfig::Adam { .. } => "Adam",
            _ => "RMSprop",
        };
        let pick = if self.keep_best {
            "best tested model"
        } else {
            "last model"
        };
        format!("{optimizer} {:e}, {schedule}, {pick}", self.lr)
    }
}

/// What a training run measured.
pub(crate) struct Run {
    /// The returned model (on the plain device): the last one, or the best tested one.
    pub(crate) model: NeuralOde,
    /// (iteration, full-trajectory MAE) every TEST_FREQ iterations and at the end.
    pub(crate) mae: Vec<(usize, f64)>,
    /// (iteration, full-trajectory MAE) of the returned model.
    pub(crate) returned: (usize, f64),
    /// Training loss after each iteration.
    pub(crate) losses: Vec<f64>,
    /// Milliseconds per training iteration, tests excluded (as torchdiffeq's time meter).
    pub(crate) ms_per_iter: f64,
    /// Mean vector-field evaluations per training solve.
    pub(crate) nfe_per_iter: f64,
}

/// Trains the spiral model for `iterations` on the autodiff `device`.
pub(crate) fn train(
    iterations: usize,
    seed: u64,
    reg: Regulariser,
    recipe: Recipe,
    device: &Device,
) -> kiln_neural_de::Result<Run> {
    kiln_core::device::seed(device, seed);
    let (ts, ys) = true_trajectory()?;
    let model = model(device)?;
    let plain = device.clone().without_autodiff();
    let trainer = TrainerConfig::new(iterations, recipe.lr)
        .with_optimizer(recipe.optimizer)
        .with_schedule(recipe.schedule)
        .with_seed(seed)
        .with_log_every(TEST_FREQ * 10)
        .with_progress(ProgressMode::Lines)
        .init()?;
    let mut rng = Rng::new(seed);
    let mut mae = Vec::new();
    let mut test_seconds = 0.0;
    let mut nfe = 0usize;
    let batch_ts = ts[..BATCH_TIME].to_vec();
    let mut best: Option<(usize, f64, NeuralOde)> = None;
    let outcome = trainer.fit(model, device, |model: &NeuralOde, info| {
        if info.step > 0 && info.step % TEST_FREQ == 0 {
            let started = Instant::now();
            let tested = model.valid();
            let value = test_mae(&tested, &ts, &ys, &plain)?;
            mae.push((info.step, value));
            if recipe.keep_best && best.as_ref().is_none_or(|b| value < b.1) {
                best = Some((info.step, value, tested));
            }
            test_seconds += started.elapsed().as_secs_f64();
        }
        let (y0, target) = batch(&ys, &mut rng, device);
        let (loss, evaluations) = batch_loss(model, y0, target, &batch_ts, reg, info.seed)?;
        nfe += evaluations;
        Ok(loss.into())
    })?;
    let last = outcome.model.valid();
    let last_mae = test_mae(&last, &ts, &ys, &plain)?;
    mae.push((iterations, last_mae));
    let (model, returned) = match best {
        Some((step, value, model)) if value < last_mae => (model, (step, value)),
        _ => (last, (iterations, last_mae)),
    };
    Ok(Run {
        model,
        mae,
        returned,
        losses: outcome.losses,
        ms_per_iter: (outcome.elapsed_s - test_seconds) * 1e3 / iterations as f64,
        nfe_per_iter: nfe as f64 / iterations as f64,
    })
}
