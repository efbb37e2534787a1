//! Benchmark `mlp-train-step`: one Adam step of a 2-64-64-64-1 tanh MLP on 4096 points
//! (forward, backward, optimiser update), plain and through a second-order (Laplacian) jet,
//! on each CPU backend in the same process so the figures compare as ratios.
//!
//! `cargo xtask bench mlp-train-step` writes `target/kiln-bench/mlp-train-step.json`: an array
//! with one `{"name", "backend", "threads", "metrics"}` object per backend.

use std::time::Instant;

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Tensor};
use kiln_core::{BackendKind, Mlp, MlpConfig, SecondOrder};

const POINTS: usize = 4096;
const WARMUP: usize = 5;
const STEPS: usize = 30;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Milliseconds per step (median over `STEPS` after `WARMUP`).
fn time_steps(device: &Device, jet: bool) -> kiln_core::Result<f64> {
    device.seed(1);
    let mut model: Mlp = MlpConfig::new(vec![2, 64, 64, 64, 1]).init(device)?;
    let mut optim: ModuleOptimizer = burn::optim::AdamConfig::new().with_epsilon(1e-8).init();
    let x = Tensor::<2>::random([POINTS, 2], Distribution::Uniform(-1.0, 1.0), device);
    let mut times = Vec::with_capacity(STEPS);
    for step in 0..WARMUP + STEPS {
        let start = Instant::now();
        let loss = if jet {
            let j = model.forward_jet(x.clone(), SecondOrder::Diagonal);
            j.laplacian().expect("diagonal jet").square().mean()
        } else {
            model.forward(x.clone()).square().mean()
        };
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
        // Reading a parameter forces the update to finish before the clock stops.
        let _ = model.layers[0].weight.val().sum().into_scalar::<f64>();
        if step >= WARMUP {
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(median(times))
}

fn main() -> kiln_core::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "target/kiln-bench/mlp-train-step.json".into());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut results = Vec::new();
    for backend in [BackendKind::Flex, BackendKind::Ndarray] {
        let device = kiln_core::autodiff_device(backend)?;
        let plain = time_steps(&device, false)?;
        let jet = time_steps(&device, true)?;
        println!(
            "mlp-train-step backend={backend} threads={threads} ms_per_step={plain:.3} ms_per_step_jet={jet:.3}"
        );
        results.push(serde_json::json!({
            "name": "mlp-train-step",
            "backend": backend.name(),
            "threads": threads,
            "metrics": { "ms_per_step": plain, "ms_per_step_jet": jet },
        }));
    }
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir).map_err(|e| kiln_core::Error::io(dir, e))?;
    }
    let text = serde_json::to_string_pretty(&results).expect("JSON values serialise");
    std::fs::write(&out, text).map_err(|e| kiln_core::Error::io(&out, e))?;
    println!("wrote {out}");
    Ok(())
}
