//! Shared by the Burgers demo and benchmark: one training configuration, run and scored on the
//! Cole-Hopf grid.
#![allow(dead_code, unreachable_pub)]

use std::time::Instant;

use kiln_core::burn::module::Module;
use kiln_core::burn::tensor::Device;
use kiln_core::jet::FourierFeaturesConfig;
use kiln_core::metrics::relative_l2_values;
use kiln_core::train::{ProgressMode, Schedule};
use kiln_core::{MlpConfig, Precision};
use kiln_pinn::adaptive::rar_refine;
use kiln_pinn::reference::burgers::{BurgersSetup, NU, burgers_problem, burgers_problem_hard};
use kiln_pinn::{
    Geometry, JetNetwork, ModifiedMlpConfig, Pinn, PinnOutcome, PinnTrainConfig, Points, Sampler,
    train,
};

/// One configuration of the Burgers PINN.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Name in reports.
    pub label: &'static str,
    /// MLP widths, input to output.
    pub widths: Vec<usize>,
    /// Random Fourier features (frequencies, σ) on (x, t), if any.
    pub fourier: Option<(usize, f64)>,
    /// Points and sampler.
    pub setup: BurgersSetup,
    /// Adam steps.
    pub adam_steps: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Adam schedule.
    pub schedule: Schedule,
    /// Most L-BFGS iterations.
    pub lbfgs_max_iter: usize,
    /// Seed of the weights.
    pub seed: u64,
    /// Modified MLP (gated) of the same widths instead of the plain MLP.
    pub modified: bool,
    /// Initial and boundary values by an output transform instead of loss terms.
    pub hard: bool,
    /// RAR rounds after the first Adam phase: (rounds, points added per round, Adam steps after
    /// each round).
    pub rar: Option<(usize, usize, usize)>,
    /// Floating-point precision of the whole run (configure the device before the first tensor).
    pub precision: Precision,
}

impl RunConfig {
    /// DeepXDE's example: 2-[20]x3-1 tanh, Glorot normal, Adam 1e-3 for 15000 steps, then L-BFGS.
    pub fn deepxde() -> Self {
        RunConfig {
            label: "deepxde",
            widths: vec![2, 20, 20, 20, 1],
            fourier: None,
            setup: BurgersSetup::default(),
            adam_steps: 15_000,
            lr: 1e-3,
            schedule: Schedule::Constant,
            lbfgs_max_iter: 15_000,
            seed: 1,
            modified: false,
            hard: false,
            rar: None,
            precision: Precision::F32,
        }
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct RunResult {
    /// Milliseconds per Adam step.
    pub ms_per_adam_step: f64,
    /// L-BFGS iterations.
    pub lbfgs_iterations: usize,
    /// L-BFGS loss-and-gradient evaluations.
    pub lbfgs_evaluations: usize,
    /// Relative L2 error on the grid.
    pub rel_l2: f64,
    /// Whole training time, seconds.
    pub wall_s: f64,
    /// Final loss.
    pub final_loss: f64,
    /// Predictions on the grid (x fastest).
    pub prediction: Vec<f64>,
    /// Loss history.
    pub losses: Vec<f64>,
}

/// Trains `config` on `device` (autodiff, configured to `config.precision`) and scores it
/// against `exact` (grid points and values).
pub fn run(
    device: &Device,
    config: &RunConfig,
    exact: &(Points, Vec<f64>),
) -> kiln_pinn::Result<RunResult> {
    device.seed(config.seed);
    let fourier = config.fourier.map(|(frequencies, sigma)| {
        FourierFeaturesConfig::new(2, frequencies)
            .with_sigma(sigma)
            .with_include_input(true)
    });
    if config.modified {
        let hidden = config.widths.len() - 2;
        let net = ModifiedMlpConfig::new(2, config.widths[1], hidden, 1)
            .with_fourier(fourier)
            .init(device)?;
        run_with(device, config, exact, net)
    } else {
        let net = MlpConfig::new(config.widths.clone())
            .with_fourier(fourier)
            .init(device)?;
        run_with(device, config, exact, net)
    }
}

fn run_with<N: JetNetwork>(
    device: &Device,
    config: &RunConfig,
    exact: &(Points, Vec<f64>),
    net: N,
) -> kiln_pinn::Result<RunResult> {
    let mut problem = if config.hard {
        burgers_problem_hard(&config.setup, NU, device)?
    } else {
        burgers_problem(&config.setup, NU, false, device)?
    };
    let phase = |adam_steps: usize, lr: f64, schedule: Schedule, lbfgs: usize, seed: u64| {
        PinnTrainConfig::new(adam_steps, lr)
            .with_schedule(schedule)
            .with_lbfgs_max_iter(lbfgs)
            .with_log_every(1000)
            .with_progress(ProgressMode::Auto)
            .with_seed(seed)
    };
    let started = Instant::now();
    let mut outcomes: Vec<PinnOutcome<N>> = Vec::new();
    let rar = config.rar.unwrap_or((0, 0, 0));
    let first_lbfgs = if rar.0 == 0 { config.lbfgs_max_iter } else { 0 };
    let out = train(
        &problem,
        Pinn::new(net),
        device,
        &phase(
            config.adam_steps,
            config.lr,
            config.schedule,
            first_lbfgs,
            config.seed,
        ),
    )?;
    let mut model = out.model.clone();
    outcomes.push(out);
    if rar.0 > 0 {
        let domain = kiln_pinn::geometry::SpaceTime::new(
            kiln_pinn::geometry::Hyperbox::interval(-1.0, 1.0)?,
            0.0,
            config.setup.t_end,
        )?;
        let mut rng = kiln_core::rng::Rng::new(config.seed.wrapping_add(17));
        for round in 0..rar.0 {
            let candidates =
                domain.sample_interior(20 * rar.1.max(500), Sampler::Uniform, &mut rng)?;
            rar_refine(&mut problem, &model, &candidates, rar.1)?;
            let last = round + 1 == rar.0;
            let lbfgs = if last { config.lbfgs_max_iter } else { 0 };
            let out = train(
                &problem,
                model,
                device,
                &phase(
                    rar.2,
                    config.lr.min(1e-4),
                    Schedule::Constant,
                    lbfgs,
                    config.seed.wrapping_add(round as u64 + 1),
                ),
            )?;
            model = out.model.clone();
            outcomes.push(out);
        }
    }
    let wall_s = started.elapsed().as_secs_f64();
    let plain = device.clone().without_autodiff();
    let prediction = problem.predict(&model.valid(), &exact.0, 0, &plain)?;
    let rel_l2 = relative_l2_values(&prediction, &exact.1)?;
    let adam_steps: usize = outcomes.iter().map(|o| o.adam_steps).sum();
    let adam_seconds: f64 = outcomes.iter().map(|o| o.adam_seconds).sum();
    let ms_per_adam_step = 1e3 * adam_seconds / adam_steps.max(1) as f64;
    let lbfgs_iterations = outcomes.iter().map(|o| o.lbfgs_iterations).sum();
    let lbfgs_evaluations = outcomes.iter().map(|o| o.lbfgs_evaluations).sum();
    let losses: Vec<f64> = outcomes.iter().flat_map(|o| o.losses.clone()).collect();
    let final_loss = losses.last().copied().unwrap_or(f64::NAN);
    println!(
        "burgers [{}]: rel L2 {rel_l2:.3e}, {ms_per_adam_step:.2} ms/Adam step, {lbfgs_iterations} L-BFGS iterations ({lbfgs_evaluations} evaluations), {wall_s:.1} s, final loss {final_loss:.3e}, {} collocation points",
        config.label,
        problem.collocation().map_or(0, |p| p.len()),
    );
    Ok(RunResult {
        ms_per_adam_step,
        lbfgs_iterations,
        lbfgs_evaluations,
        rel_l2,
        wall_s,
        final_loss,
        prediction,
        losses,
    })
}
