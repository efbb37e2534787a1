//! Demo `cfm-moons`: conditional flow matching from 8 gaussians to moons (torchcfm's 2-D
//! tutorial at a demo's budget): I-CFM and exact minibatch OT-CFM, 2000 training steps each
//! (the benchmark runs 20000), samples by Dopri5 through kiln-neural-de, scatter plots of the
//! samples and of the flow's trajectories, loss curves, and W2 against the target.
//!
//! `cargo xtask demo cfm-moons` writes the plots and `report.json` to
//! `target/kiln-report/cfm-moons/`.

#[path = "common/cfm_moons.rs"]
mod cfm_moons;

use kiln_core::plot::{LinePlot, ScatterPlot, Series};
use kiln_core::report::DemoReport;
use kiln_core::rng::Rng;
use kiln_core::{BackendKind, Precision};
use kiln_diffusion::data::{Toy2d, moons_grid};

const STEPS: usize = 2000;
const SAMPLES: usize = 1000;

fn main() -> kiln_diffusion::Result<()> {
    let backend = BackendKind::from_env()?;
    let device = kiln_core::device(backend)?;
    kiln_core::device::configure_precision(&device, Precision::F32)?;
    let mut report = DemoReport::new(
        "cfm-moons",
        "Conditional flow matching, 8 gaussians -> moons: I-CFM and exact OT-CFM",
        backend.name(),
    )?;
    let x0 = Toy2d::EightGaussians.sample(SAMPLES, 7);
    let reference = moons_grid(SAMPLES, &mut Rng::new(8));
    report.metric(
        "w2_noise_floor",
        cfm_moons::w2_of(&moons_grid(SAMPLES, &mut Rng::new(9)), &reference)?,
    );
    let mut losses = LinePlot::new("Training loss", "step", "CFM loss").log_y();
    for (ot, name) in [(false, "icfm"), (true, "otcfm")] {
        let run = cfm_moons::train(ot, STEPS, 256, 42, &device)?;
        let (dopri, euler, nfe) = cfm_moons::sample(&run.model, &x0, &device)?;
        report.metric(format!("ms_per_step_{name}"), run.ms_per_step);
        if let Some(cpu) = run.cpu_ms_per_step {
            report.metric(format!("cpu_ms_per_step_{name}"), cpu);
        }
        report.metric(format!("w2_{name}"), cfm_moons::w2_of(&dopri, &reference)?);
        report.metric(
            format!("w2_euler100_{name}"),
            cfm_moons::w2_of(&euler, &reference)?,
        );
        report.metric(format!("nfe_dopri5_{name}"), nfe as f64);
        // A 50-step moving average keeps the curve readable.
        let smooth: Vec<f64> = run
            .losses
            .windows(50)
            .map(|w| w.iter().sum::<f64>() / 50.0)
            .collect();
        losses = losses.with(Series::loss_curve(name, &smooth));
        let file = format!("samples_{name}.png");
        ScatterPlot::new(format!("{name}: Dopri5 samples"), "x", "y")
            .with("target (moons)", reference.xy())
            .with("source (8 gaussians)", x0.xy())
            .with(name, dopri.xy())
            .save(report.path(&file), (700, 700))?;
        report.plot(
            &file,
            format!("{name} samples (Dopri5, rtol = atol = 1e-4) over source and target"),
        );
        let paths = cfm_moons::trajectories(&run.model, &x0, 200, &device)?;
        let start = paths.iter().map(|p| p[0]).collect();
        let end = paths.iter().map(|p| p[p.len() - 1]).collect();
        let middle = paths
            .iter()
            .flat_map(|p| p[1..p.len() - 1].to_vec())
            .collect();
        let file = format!("trajectories_{name}.png");
        ScatterPlot::new(format!("{name}: trajectories, t = 0 ... 1"), "x", "y")
            .with("flow", middle)
            .with("t = 0", start)
            .with("t = 1", end)
            .save(report.path(&file), (700, 700))?;
        report.plot(&file, format!("{name}: 200 trajectories saved at 21 times"));
    }
    losses.save(report.path("losses.png"), (800, 500))?;
    report.plot("losses.png", "Training loss (moving average over 50 steps)");
    report.summary(format!(
        "torchcfm's 2-D tutorial at a demo budget: MLP 3x64 SELU with time input, batch 256, Adam \
         1e-3, sigma 0.1, {STEPS} steps per method (the cfm-moons benchmark runs 20000). Samples: \
         {SAMPLES} points pushed through the learned field by Dopri5 (rtol = atol = 1e-4) and by \
         100 Euler steps; w2_* is the exact-assignment W2 to {SAMPLES} target points; \
         w2_noise_floor is W2 between two target sets. OT-CFM's straighter paths need fewer \
         Dopri5 evaluations (nfe_dopri5_*)."
    ));
    report.finish()?;
    Ok(())
}
