//! Shared by `bench_cfm_moons` and `demo_cfm_moons`: torchcfm's 2-D tutorial (8 gaussians ->
//! moons, MLP 3x64 SELU with time input, Adam 1e-3, sigma 0.1), trained with a kiln-core
//! `Trainer`, sampled by Dopri5 and by Euler through kiln-neural-de.

use kiln_core::burn::module::Module;
use kiln_core::burn::tensor::Device;
use kiln_core::report::cpu_seconds;
use kiln_core::rng::Rng;
use kiln_core::train::{Loss, ProgressMode, TrainerConfig};
use kiln_diffusion::Samples;
use kiln_diffusion::data::{Toy2d, moons_grid};
use kiln_diffusion::field::integrate;
use kiln_diffusion::flow::{FlowMatcherConfig, mse};
use kiln_diffusion::metrics::w2;
use kiln_diffusion::model::{TimeMlp, TimeMlpConfig};
use kiln_neural_de::{ExplicitRk, SaveAt, SolveOptions};

/// One trained run.
pub(crate) struct Run {
    /// The trained network (inference copy).
    pub(crate) model: TimeMlp,
    /// Milliseconds per training step (data, coupling, forward, backward, Adam).
    pub(crate) ms_per_step: f64,
    /// CPU milliseconds per step (user + system time of the process), when the platform
    /// reports it: on a shared machine wall time also counts waiting for a core.
    pub(crate) cpu_ms_per_step: Option<f64>,
    /// Loss per step.
    pub(crate) losses: Vec<f64>,
}

/// Trains `steps` steps of I-CFM (`ot = false`) or exact OT-CFM on 8 gaussians -> moons.
pub(crate) fn train(
    ot: bool,
    steps: usize,
    batch: usize,
    seed: u64,
    device: &Device,
) -> kiln_diffusion::Result<Run> {
    let ad = device.clone().autodiff();
    kiln_core::device::seed(&ad, seed);
    let model = TimeMlpConfig::new(2).init(&ad)?;
    let matcher = if ot {
        FlowMatcherConfig::otcfm(0.1)
    } else {
        FlowMatcherConfig::icfm(0.1)
    }
    .init()?;
    let mut rng = Rng::new(seed ^ 0x5eed);
    let trainer = TrainerConfig::new(steps, 1e-3)
        .with_seed(seed)
        .with_log_every(steps.div_ceil(10).max(1))
        .with_progress(ProgressMode::Lines)
        .init()?
        .with_label(if ot { "otcfm" } else { "icfm" });
    let cpu_start = cpu_seconds();
    let outcome = trainer.fit(model, &ad, |m, _| {
        let x0 = Toy2d::EightGaussians.sample_with(batch, &mut rng);
        let x1 = moons_grid(batch, &mut rng);
        let b = matcher.sample(&x0, &x1, &mut rng, &ad)?;
        Ok(Loss::new(mse(m.forward(b.xt, b.t), b.velocity)))
    })?;
    let cpu_ms_per_step = cpu_start
        .zip(cpu_seconds())
        .map(|(a, b)| 1e3 * (b - a) / outcome.steps.max(1) as f64);
    Ok(Run {
        cpu_ms_per_step,
        ms_per_step: 1e3 * outcome.elapsed_s / outcome.steps.max(1) as f64,
        losses: outcome.losses,
        model: outcome.model.valid(),
    })
}

/// Samples pushed from `x0` through the learned flow: Dopri5 (rtol = atol = 1e-4) and 100
/// Euler steps, with the Dopri5 function evaluations.
pub(crate) fn sample(
    model: &TimeMlp,
    x0: &Samples,
    device: &Device,
) -> kiln_diffusion::Result<(Samples, Samples, usize)> {
    let dopri = integrate(
        model,
        x0.to_tensor(device),
        (0.0, 1.0),
        &ExplicitRk::dopri5(),
        &SolveOptions::adaptive(1e-4, 1e-4),
    )?;
    let euler = integrate(
        model,
        x0.to_tensor(device),
        (0.0, 1.0),
        &ExplicitRk::euler(),
        &SolveOptions::fixed(0.01),
    )?;
    Ok((
        Samples::from_tensor(dopri.last().clone())?,
        Samples::from_tensor(euler.last().clone())?,
        dopri.stats.nfe,
    ))
}

#[allow(dead_code)] // used by the demo only
/// Trajectories of the first `count` points of `x0` at 21 times (Dopri5).
pub(crate) fn trajectories(
    model: &TimeMlp,
    x0: &Samples,
    count: usize,
    device: &Device,
) -> kiln_diffusion::Result<Vec<Vec<(f64, f64)>>> {
    let sub = Samples::new(x0.as_slice()[..2 * count].to_vec(), 2)?;
    let times: Vec<f64> = (0..=20).map(|i| i as f64 / 20.0).collect();
    let sol = integrate(
        model,
        sub.to_tensor(device),
        (0.0, 1.0),
        &ExplicitRk::dopri5(),
        &SolveOptions::adaptive(1e-4, 1e-4).save_at(SaveAt::Times(times)),
    )?;
    let states: Vec<Samples> = sol
        .ys
        .iter()
        .map(|y| Samples::from_tensor(y.clone()))
        .collect::<Result<_, _>>()?;
    Ok((0..count)
        .map(|i| states.iter().map(|s| (s.row(i)[0], s.row(i)[1])).collect())
        .collect())
}

/// W2 between two sample sets.
pub(crate) fn w2_of(a: &Samples, b: &Samples) -> kiln_diffusion::Result<f64> {
    w2(a, b)
}
