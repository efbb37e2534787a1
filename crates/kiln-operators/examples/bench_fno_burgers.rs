//! Benchmark `fno-burgers`: the FNO on 1-D viscous Burgers, ν = 0.1, in the FNO paper's setting
//! scaled down to minutes.
//!
//! Data: GRF initial conditions `N(0, 625 (-Δ + 25 I)^-2)` on `[0, 1)`, solution at `t = 1` by
//! kiln's pseudo-spectral ETDRK4 solver at s = 2048 (200 steps), subsampled to 1024 for training
//! and to 256/1024/2048 for testing. 500 training and 100 test samples; FNO modes 16, width 64,
//! 4 blocks, grid channel; Adam 1e-3 with weight decay 1e-4 and a cosine schedule, batch 20,
//! 15 epochs, relative-L2 loss; f32.
//!
//! `cargo xtask bench fno-burgers` writes `target/kiln-bench/fno-burgers.json` with `s_per_epoch`,
//! `cpu_s_per_epoch`, `rel_l2_256`, `rel_l2_1024` and `rel_l2_2048`.

#[path = "common/burgers1d.rs"]
mod burgers1d;

use burgers1d::{subsample, tensor, train_fno1d};

use std::time::Instant;

use burn::module::Module;
use kiln_core::BackendKind;
use kiln_core::report::cpu_seconds;
use kiln_core::train::{OptimizerConfig, ProgressMode, Schedule, TrainerConfig};
use kiln_operators::Result;
use kiln_operators::data::BurgersConfig;
use kiln_operators::fno::Fno1dConfig;
use kiln_operators::loss::relative_l2_per_sample;

const FINE: usize = 2048;
const TRAIN: usize = 500;
const TEST: usize = 100;
const EPOCHS: usize = 15;
const BATCH: usize = 20;

fn main() -> Result<()> {
    let backend = BackendKind::from_env()?;
    let device = kiln_core::device(backend)?;
    let start = Instant::now();
    let generator = BurgersConfig::new(FINE);
    let train = generator.generate(TRAIN, 1)?;
    let test = generator.generate(TEST, 2)?;
    println!(
        "generated the data in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let s = 1024;
    let (x_train, y_train) = (
        subsample(&train.initial, FINE, TRAIN, 2),
        subsample(&train.solution, FINE, TRAIN, 2),
    );

    let ad = device.clone().autodiff();
    kiln_core::device::seed(&ad, 0);
    let model = Fno1dConfig::new(1, 1, 16)
        .with_hidden(64)
        .with_lifting_channels(128)
        .with_projection_channels(128)
        .init(&ad)?;
    let batches = TRAIN / BATCH;
    let trainer = TrainerConfig::new(EPOCHS * batches, 1e-3)
        .with_optimizer(OptimizerConfig::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 1e-4,
        })
        .with_schedule(Schedule::Cosine { min_lr: 0.0 })
        .with_log_every(batches)
        .with_progress(ProgressMode::Auto)
        .init()?;
    let cpu_start = cpu_seconds().unwrap_or(f64::NAN);
    let out = train_fno1d(
        trainer.with_label("fno-burgers"),
        model,
        &ad,
        (&x_train, &y_train),
        (TRAIN, s, BATCH),
    )?;
    let s_per_epoch = out.elapsed_s / EPOCHS as f64;
    let cpu_s_per_epoch = (cpu_seconds().unwrap_or(f64::NAN) - cpu_start) / EPOCHS as f64;
    let model = out.model.valid();
    let mut metrics = serde_json::Map::new();
    metrics.insert("s_per_epoch".into(), s_per_epoch.into());
    metrics.insert("cpu_s_per_epoch".into(), cpu_s_per_epoch.into());
    for every in [8, 2, 1] {
        let n = FINE / every;
        let mut total = 0.0;
        for chunk in (0..TEST).step_by(25) {
            let x =
                subsample(&test.initial, FINE, TEST, every)[chunk * n..(chunk + 25) * n].to_vec();
            let y =
                subsample(&test.solution, FINE, TEST, every)[chunk * n..(chunk + 25) * n].to_vec();
            let pred = model.forward(tensor(x, 25, n, &device));
            total += relative_l2_per_sample(pred, tensor(y, 25, n, &device))?
                .sum()
                .into_scalar::<f64>();
        }
        let err = total / TEST as f64;
        println!("rel_l2_{n}: {err:.4}");
        metrics.insert(format!("rel_l2_{n}"), err.into());
    }
    println!("s/epoch: {s_per_epoch:.3} wall, {cpu_s_per_epoch:.3} CPU");
    metrics.insert("epochs".into(), EPOCHS.into());
    metrics.insert("train_samples".into(), TRAIN.into());
    metrics.insert("parameters".into(), model.num_params().into());
    let record = serde_json::json!({
        "name": "fno-burgers",
        "backend": backend.name(),
        "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "metrics": metrics,
    });
    kiln_core::report::write_bench("fno-burgers", &[record])?;
    Ok(())
}
