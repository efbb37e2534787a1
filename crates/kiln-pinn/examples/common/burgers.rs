//! Shared by the Burgers demo and benchmark: one training configuration, run and scored on the
//! Cole-Hopf grid.
#![allow(dead_code, unreachable_pub)]

use std::time::Instant;

use kiln_core::burn::module::Module;
use kiln_core::burn::tensor::Device;
use kiln_core::jet::FourierFeaturesConfig;
use kiln_core::metrics::relative_l2_values;
use kiln_core::train::{ProgressMode, Schedule};
use kiln_core::{Mlp, MlpConfig};
use kiln_pinn::reference::burgers::{BurgersSetup, NU, burgers_problem};
use kiln_pinn::{Pinn, PinnTrainConfig, Points, train};

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
        }
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct RunResult {
    /// Milliseconds per Adam step.
    pub ms_per_adam_step: f64,
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

/// Trains `config` on `device` (autodiff) and scores it against `exact` (grid points and values).
pub fn run(
    device: &Device,
    config: &RunConfig,
    exact: &(Points, Vec<f64>),
) -> kiln_pinn::Result<RunResult> {
    device.seed(config.seed);
    let mut mlp = MlpConfig::new(config.widths.clone());
    if let Some((frequencies, sigma)) = config.fourier {
        mlp = mlp.with_fourier(Some(
            FourierFeaturesConfig::new(2, frequencies)
                .with_sigma(sigma)
                .with_include_input(true),
        ));
    }
    let net: Mlp = mlp.init(device)?;
    let problem = burgers_problem(&config.setup, NU, false, device)?;
    let train_config = PinnTrainConfig::new(config.adam_steps, config.lr)
        .with_schedule(config.schedule)
        .with_lbfgs_max_iter(config.lbfgs_max_iter)
        .with_log_every(1000)
        .with_progress(ProgressMode::Auto)
        .with_seed(config.seed);
    let started = Instant::now();
    let out = train(&problem, Pinn::new(net), device, &train_config)?;
    let wall_s = started.elapsed().as_secs_f64();
    let plain = device.clone().without_autodiff();
    let prediction = problem.predict(&out.model.valid(), &exact.0, 0, &plain)?;
    let rel_l2 = relative_l2_values(&prediction, &exact.1)?;
    println!(
        "burgers [{}]: rel L2 {rel_l2:.3e}, {:.2} ms/Adam step, {} L-BFGS evaluations, {wall_s:.1} s, final loss {:.3e}",
        config.label,
        out.ms_per_adam_step(),
        out.lbfgs_evaluations,
        out.final_loss()
    );
    Ok(RunResult {
        ms_per_adam_step: out.ms_per_adam_step(),
        lbfgs_evaluations: out.lbfgs_evaluations,
        rel_l2,
        wall_s,
        final_loss: out.final_loss(),
        prediction,
        losses: out.losses,
    })
}
