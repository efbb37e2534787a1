//! Demo `fno-darcy`: an FNO learns the Darcy solution operator from kiln-generated data and is
//! evaluated zero-shot at twice the training resolution.
//!
//! A small version of the `fno-darcy` benchmark so it finishes in about a minute: 400 training
//! samples at 16 × 16, 8 epochs, FNO modes 8 × 8, hidden 24; test sets of 50 samples at 16 × 16
//! and 32 × 32. Plots: coefficient mask, truth, prediction and error at both resolutions, and the
//! training loss. Run with `cargo xtask demo fno-darcy`.

#[path = "common/darcy.rs"]
mod darcy;

use kiln_core::BackendKind;
use kiln_core::plot::{LinePlot, Series};
use kiln_core::report::DemoReport;
use kiln_operators::Result;

fn main() -> Result<()> {
    let backend = BackendKind::from_env()?;
    let device = kiln_core::device(backend)?;
    let mut report = DemoReport::new(
        "fno-darcy",
        "FNO on 2-D Darcy flow: training at 16x16, zero-shot evaluation at 32x32",
        backend.name(),
    )?;
    let train = darcy::generate(16, 400, 11)?;
    let test16 = darcy::generate(16, 50, 12)?;
    let test32 = darcy::generate(32, 50, 13)?;
    let config = darcy::model_config(8, 24);
    let training = darcy::Training {
        epochs: 8,
        batch: 32,
        lr: 8e-3,
        weight_decay: 1e-4,
        seed: 0,
    };
    let trained = darcy::train(&config, &train, &training, &device)?;
    let (e16, p16) = darcy::evaluate(&trained, &test16, &device)?;
    let (e32, p32) = darcy::evaluate(&trained, &test32, &device)?;
    report.metric("rel_l2_16", e16);
    report.metric("rel_l2_32", e32);
    report.metric("s_per_epoch", trained.s_per_epoch);
    report.metric("parameters", darcy::parameters(&trained.model) as f64);
    for (data, preds, tag) in [(&test16, &p16, "16"), (&test32, &p32, "32")] {
        for (file, caption) in darcy::plot_sample(data, preds, report.dir(), tag)? {
            report.plot(file, caption);
        }
    }
    LinePlot::new("training loss (relative L2 per batch)", "step", "loss")
        .log_y()
        .with(Series::loss_curve("train", &trained.losses))
        .save(report.path("loss.png"), (800, 480))?;
    report.plot("loss.png", "training loss: mean relative L2 of each batch");
    report.summary(format!(
        "Darcy -div(a grad u) = 1 on the unit square, u = 0 on the boundary, a = 12 where a GRF \
         (alpha 2, tau 3) is >= 0 and 3 elsewhere; the model sees the {{0, 1}} mask. Small run: \
         400 training samples at 16x16, 8 epochs, FNO modes 8x8 (all 16 frequencies per axis), \
         hidden 24, AdamW 8e-3. Test relative L2 {e16:.4} at 16x16 and {e32:.4} at 32x32 \
         (zero-shot: same weights on a 2x finer grid). The benchmark (1000 samples, 20 epochs, \
         hidden 32) is `cargo xtask bench fno-darcy`."
    ));
    report.finish()?;
    Ok(())
}
