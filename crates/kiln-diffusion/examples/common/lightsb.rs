//! Shared by `bench_lightsb_gaussian` and the LightSB test: a Gaussian-to-Gaussian problem,
//! LightSB training with a kiln-core `Trainer`, and its cBW2-UVP against the closed form.

use kiln_core::burn::module::Module;
use kiln_core::burn::tensor::Device;
use kiln_core::rng::Rng;
use kiln_core::train::{Loss, ProgressMode, Schedule, TrainerConfig};
use kiln_diffusion::bridge::{GaussianBridge, LightSbConfig};
use kiln_diffusion::data::Gaussian;
use kiln_diffusion::linalg::{matmul, transpose};

/// A random SPD matrix `R diag(λ) Rᵀ`, λ in [0.5, 2], R a random rotation (Gram-Schmidt).
pub(crate) fn random_covariance(d: usize, rng: &mut Rng) -> Vec<f64> {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    while basis.len() < d {
        let mut v: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
        for b in &basis {
            let p: f64 = v.iter().zip(b).map(|(a, c)| a * c).sum();
            v.iter_mut().zip(b).for_each(|(a, c)| *a -= p * c);
        }
        let n = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if n > 1e-6 {
            basis.push(v.iter().map(|a| a / n).collect());
        }
    }
    let r: Vec<f64> = (0..d * d).map(|k| basis[k % d][k / d]).collect();
    let lambda: Vec<f64> = (0..d * d)
        .map(|k| {
            if k / d == k % d {
                0.5 + 1.5 * rng.uniform()
            } else {
                0.0
            }
        })
        .collect();
    let m = matmul(&matmul(&r, &lambda, d, d, d), &transpose(&r, d, d), d, d, d);
    // Symmetrise the rounding.
    (0..d * d)
        .map(|k| 0.5 * (m[k] + m[(k % d) * d + k / d]))
        .collect()
}

/// The problem: `N(0, Σ₀) -> N(μ₁, Σ₁)` with random covariances.
pub(crate) fn problem(d: usize, eps: f64, seed: u64) -> GaussianBridge {
    let mut rng = Rng::new(seed);
    let source = Gaussian::new(vec![0.0; d], random_covariance(d, &mut rng)).expect("SPD");
    let mean = (0..d).map(|_| rng.normal()).collect();
    let target = Gaussian::new(mean, random_covariance(d, &mut rng)).expect("SPD");
    GaussianBridge::new(source, target, eps).expect("valid bridge")
}

/// Trains LightSB on `bridge` and returns (cBW2-UVP in %, wall seconds, final loss).
pub(crate) fn train_and_score(
    bridge: &GaussianBridge,
    config: &LightSbConfig,
    steps: usize,
    batch: usize,
    seed: u64,
    device: &Device,
) -> kiln_diffusion::Result<(f64, f64, f64)> {
    let ad = device.clone().autodiff();
    kiln_core::device::seed(&ad, seed);
    let mut rng = Rng::new(seed);
    let init = bridge.target.sample_with(config.components, &mut rng);
    let model = config.init(Some(&init), &ad)?;
    let trainer = TrainerConfig::new(steps, 1e-2)
        .with_schedule(Schedule::Cosine { min_lr: 1e-4 })
        .with_seed(seed)
        .with_log_every(steps.div_ceil(5).max(1))
        .with_progress(ProgressMode::Off)
        .init()?;
    let outcome = trainer.fit(model, &ad, |m, _| {
        let x = bridge.source.sample_with(batch, &mut rng).to_tensor(&ad);
        let y = bridge.target.sample_with(batch, &mut rng).to_tensor(&ad);
        Ok(Loss::new(m.loss(x, y)))
    })?;
    let model = outcome.model.valid();
    let xs = bridge.source.sample(200, seed ^ 0xabc);
    let moments = model.conditional_moments(&xs)?;
    Ok((
        bridge.cbw2_uvp(&xs, &moments)?,
        outcome.elapsed_s,
        outcome.final_loss(),
    ))
}
