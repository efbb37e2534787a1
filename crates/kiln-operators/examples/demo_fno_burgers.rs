//! Demo `fno-burgers`: an FNO learns the Burgers solution operator `u(·, 0) ↦ u(·, 1)` (ν = 0.1)
//! at 256 points and is evaluated zero-shot at 1024.
//!
//! A small version of the `fno-burgers` benchmark: 300 training and 50 test samples solved by
//! kiln's pseudo-spectral ETDRK4 solver at 1024 points and subsampled; FNO modes 16, width 32,
//! 20 epochs. Plots: a test sample (initial condition, truth, prediction) at both resolutions and
//! the training loss. Run with `cargo xtask demo fno-burgers`.

#[path = "common/burgers1d.rs"]
mod burgers1d;

use burgers1d::{subsample, tensor, train_fno1d};

use burn::module::Module;
use kiln_core::BackendKind;
use kiln_core::plot::{LinePlot, Series};
use kiln_core::report::DemoReport;
use kiln_core::train::{ProgressMode, Schedule, TrainerConfig};
use kiln_operators::Result;
use kiln_operators::data::BurgersConfig;
use kiln_operators::fno::Fno1dConfig;
use kiln_operators::loss::relative_l2_per_sample;

const FINE: usize = 1024;
const TRAIN: usize = 300;
const TEST: usize = 50;
const EPOCHS: usize = 20;
const BATCH: usize = 20;

fn main() -> Result<()> {
    let backend = BackendKind::from_env()?;
    let device = kiln_core::device(backend)?;
    let mut report = DemoReport::new(
        "fno-burgers",
        "FNO on 1-D Burgers (nu = 0.1): trained at 256 points, evaluated at 256 and 1024",
        backend.name(),
    )?;
    let generator = BurgersConfig::new(FINE);
    let train = generator.generate(TRAIN, 1)?;
    let test = generator.generate(TEST, 2)?;
    let s = 256;
    let (x_train, y_train) = (
        subsample(&train.initial, FINE, TRAIN, 4),
        subsample(&train.solution, FINE, TRAIN, 4),
    );
    let ad = device.clone().autodiff();
    kiln_core::device::seed(&ad, 0);
    let model = Fno1dConfig::new(1, 1, 16).with_hidden(32).init(&ad)?;
    let batches = TRAIN / BATCH;
    let trainer = TrainerConfig::new(EPOCHS * batches, 2e-3)
        .with_schedule(Schedule::Cosine { min_lr: 0.0 })
        .with_clip_grad_norm(Some(1.0))
        .with_log_every(batches)
        .with_progress(ProgressMode::Auto)
        .init()?;
    let out = train_fno1d(
        trainer.with_label("fno-burgers"),
        model,
        &ad,
        (&x_train, &y_train),
        (TRAIN, s, BATCH),
    )?;
    let model = out.model.valid();
    report.metric("s_per_epoch", out.elapsed_s / EPOCHS as f64);
    report.metric("parameters", model.num_params() as f64);
    for every in [4, 1] {
        let n = FINE / every;
        let x = subsample(&test.initial, FINE, TEST, every);
        let y = subsample(&test.solution, FINE, TEST, every);
        let pred = model.forward(tensor(x.clone(), TEST, n, &device));
        let err = relative_l2_per_sample(pred.clone(), tensor(y.clone(), TEST, n, &device))?
            .mean()
            .into_scalar::<f64>();
        report.metric(format!("rel_l2_{n}"), err);
        let p: Vec<f64> = pred.narrow(0, 0, 1).into_data().iter::<f64>().collect();
        let line = |v: &[f64]| -> Vec<(f64, f64)> {
            v.iter()
                .enumerate()
                .map(|(j, &u)| (j as f64 / n as f64, u))
                .collect()
        };
        let file = format!("sample_{n}.png");
        LinePlot::new(format!("test sample 0 at t = 1, {n} points"), "x", "u")
            .with(Series::line("truth u(x, 1)", line(&y[..n])))
            .with(Series::line("FNO u(x, 1)", line(&p)))
            .save(report.path(&file), (800, 480))?;
        report.plot(
            file,
            format!("ETDRK4 solution at t = 1 and the FNO prediction at {n} points"),
        );
    }
    LinePlot::new("training loss (relative L2 per batch)", "step", "loss")
        .log_y()
        .with(Series::loss_curve("train", &out.losses))
        .save(report.path("loss.png"), (800, 480))?;
    report.plot("loss.png", "training loss");
    report.summary(
        "Periodic viscous Burgers u_t + u u_x = 0.1 u_xx on [0, 1), GRF initial conditions \
         N(0, 625(-Δ + 25)^-2), solution at t = 1 by pseudo-spectral ETDRK4 at 1024 points. \
         Small run: 300 training samples at 256 points, 20 epochs, FNO modes 16, width 32. \
         rel_l2_256 is the test error at the training resolution, rel_l2_1024 the same weights \
         zero-shot on the 4x finer grid. The benchmark is `cargo xtask bench fno-burgers`.",
    );
    report.finish()?;
    Ok(())
}
