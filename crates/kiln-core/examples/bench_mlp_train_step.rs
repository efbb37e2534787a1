//! Benchmark `mlp-train-step`: one Adam step of a 2-64-64-64-1 tanh MLP on 4096 points
//! (forward, backward, optimiser update), plain and through a second-order (Laplacian) jet,
//! on each CPU backend in the same process so the figures compare as ratios.
//!
//! The machine this runs on is shared and noisy, so the backends and variants take turns in
//! rounds and each figure is the median over all its timed steps.
//!
//! `cargo xtask bench mlp-train-step [-- --backend B]` writes `target/kiln-bench/mlp-train-step.json`: an array
//! with one `{"name", "backend", "threads", "metrics"}` object per backend.

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Tensor};
use kiln_core::{BackendKind, Mlp, MlpConfig, SecondOrder};

const POINTS: usize = 4096;
const WARMUP: usize = 3;
const ROUNDS: usize = 5;
const STEPS_PER_ROUND: usize = 8;

/// One training setup: a model, its optimiser and its inputs on one device.
struct Setup {
    model: Option<Mlp>,
    optim: ModuleOptimizer,
    x: Tensor<2>,
    jet: bool,
    times_ms: Vec<f64>,
}

impl Setup {
    fn new(device: &Device, jet: bool) -> kiln_core::Result<Self> {
        device.seed(1);
        let model = MlpConfig::new(vec![2, 64, 64, 64, 1]).init(device)?;
        let x = Tensor::<2>::random([POINTS, 2], Distribution::Uniform(-1.0, 1.0), device);
        Ok(Setup {
            model: Some(model),
            optim: AdamConfig::new().with_epsilon(1e-8).init(),
            x,
            jet,
            times_ms: Vec::new(),
        })
    }

    /// Runs `n` steps, recording their times when `record`.
    fn run(&mut self, n: usize, record: bool) {
        for _ in 0..n {
            let start = Instant::now();
            let model = self
                .model
                .take()
                .expect("the model is put back after every step");
            let loss = if self.jet {
                let j = model.forward_jet(self.x.clone(), SecondOrder::Diagonal);
                j.laplacian().expect("diagonal jet").square().mean()
            } else {
                model.forward(self.x.clone()).square().mean()
            };
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let model = self.optim.step(1e-3, model, grads);
            // Reading a parameter forces the update to finish before the clock stops.
            let _ = model.layers[0].weight.val().sum().into_scalar::<f64>();
            self.model = Some(model);
            if record {
                self.times_ms.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
    }

    fn median(&self) -> f64 {
        let mut v = self.times_ms.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    }
}

fn main() -> kiln_core::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let backends = kiln_core::report::bench_backends(&[BackendKind::Flex, BackendKind::Ndarray])?;
    let mut setups = Vec::new();
    for &backend in &backends {
        let device = kiln_core::autodiff_device(backend)?;
        for jet in [false, true] {
            let mut setup = Setup::new(&device, jet)?;
            setup.run(WARMUP, false);
            setups.push(setup);
        }
    }
    for _ in 0..ROUNDS {
        for setup in &mut setups {
            setup.run(STEPS_PER_ROUND, true);
        }
    }
    let mut results = Vec::new();
    for (backend, pair) in backends.iter().zip(setups.chunks(2)) {
        let (plain, jet) = (pair[0].median(), pair[1].median());
        println!(
            "mlp-train-step backend={backend} threads={threads} ms_per_step={plain:.3} ms_per_step_jet={jet:.3}"
        );
        results.push(serde_json::json!({
            "name": "mlp-train-step",
            "backend": backend.name(),
            "device": format!("{:?}", pair[0].x.device()),
            "threads": threads,
            "metrics": { "ms_per_step": plain, "ms_per_step_jet": jet, "jet_over_plain": jet / plain },
        }));
    }
    kiln_core::report::write_bench("mlp-train-step", &results)?;
    Ok(())
}
