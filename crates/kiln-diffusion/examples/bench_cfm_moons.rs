//! Benchmark `cfm-moons`: torchcfm's 2-D tutorial. 8 gaussians -> moons, MLP 3x64 SELU with a
//! time input, batch 256, Adam (lr 1e-3, eps 1e-8), 20000 steps, sigma 0.1, for I-CFM and exact
//! minibatch OT-CFM; 2000 samples by Dopri5 (rtol = atol = 1e-4) and by 100 Euler steps through
//! kiln-neural-de; W2 (exact assignment) against 2000 fresh moons points.
//!
//! `cargo xtask bench cfm-moons` writes `target/kiln-bench/cfm-moons.json` (`ms_per_step_icfm`,
//! `ms_per_step_otcfm`, `w2_icfm`, `w2_otcfm` from the Dopri5 samples, plus the Euler W2s and
//! the noise floor). `--steps N` shortens the run for a quick check.

#[path = "common/cfm_moons.rs"]
mod cfm_moons;

use std::time::Instant;

use kiln_core::rng::Rng;
use kiln_core::{BackendKind, Precision};
use kiln_diffusion::data::{Toy2d, moons_grid};
use kiln_diffusion::metrics::{assignment, squared_distances};

const BATCH: usize = 256;
const SAMPLES: usize = 2000;

fn main() -> kiln_diffusion::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let steps = args
        .iter()
        .position(|a| a == "--steps")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let backend = BackendKind::from_env()?;
    let device = kiln_core::device(backend)?;
    kiln_core::device::configure_precision(&device, Precision::F32)?;
    let x0 = Toy2d::EightGaussians.sample(SAMPLES, 2024);
    // The tutorial's sets: moons on an angle grid with random offsets (see `moons_grid`).
    let reference = moons_grid(SAMPLES, &mut Rng::new(2025));
    let floor = cfm_moons::w2_of(&moons_grid(SAMPLES, &mut Rng::new(2026)), &reference)?;
    let mut metrics = serde_json::Map::new();
    metrics.insert("steps".into(), steps.into());
    metrics.insert("w2_noise_floor".into(), floor.into());
    for (ot, name) in [(false, "icfm"), (true, "otcfm")] {
        let run = cfm_moons::train(ot, steps, BATCH, 42, &device)?;
        let start = Instant::now();
        let (dopri, euler, nfe) = cfm_moons::sample(&run.model, &x0, &device)?;
        let sample_s = start.elapsed().as_secs_f64();
        let w_dopri = cfm_moons::w2_of(&dopri, &reference)?;
        let w_euler = cfm_moons::w2_of(&euler, &reference)?;
        println!(
            "{name}: {:.3} ms/step (cpu {:?}), final loss {:.4}, W2 dopri5 {w_dopri:.4} (nfe {nfe}), W2 euler100 {w_euler:.4}, sampling {sample_s:.2} s",
            run.ms_per_step,
            run.cpu_ms_per_step,
            run.losses.last().copied().unwrap_or(f64::NAN)
        );
        metrics.insert(format!("ms_per_step_{name}"), run.ms_per_step.into());
        if let Some(cpu) = run.cpu_ms_per_step {
            metrics.insert(format!("cpu_ms_per_step_{name}"), cpu.into());
        }
        metrics.insert(format!("w2_{name}"), w_dopri.into());
        metrics.insert(format!("w2_euler_{name}"), w_euler.into());
        metrics.insert(format!("nfe_dopri5_{name}"), nfe.into());
        metrics.insert(
            format!("final_loss_{name}"),
            run.losses.last().copied().unwrap_or(f64::NAN).into(),
        );
    }
    // The exact assignment alone, on batches like the training ones.
    let mut rng = Rng::new(77);
    let mut times = Vec::new();
    for _ in 0..200 {
        let a = Toy2d::EightGaussians.sample_with(BATCH, &mut rng);
        let b = moons_grid(BATCH, &mut rng);
        let start = Instant::now();
        let cost = squared_distances(&a, &b);
        let _ = assignment(&cost, BATCH)?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let assign_ms = times[times.len() / 2];
    println!("exact assignment of {BATCH} x {BATCH}: median {assign_ms:.3} ms");
    metrics.insert("ms_assignment_median".into(), assign_ms.into());
    println!("W2 noise floor (two moons sets of {SAMPLES}): {floor:.4}");
    let record = serde_json::json!({
        "name": "cfm-moons",
        "backend": backend.name(),
        "threads": 1,
        "metrics": metrics,
    });
    kiln_core::report::write_bench("cfm-moons", &[record])?;
    Ok(())
}
