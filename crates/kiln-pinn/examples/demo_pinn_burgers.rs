//! Demo: Burgers' equation u_t + u u_x = (0.01/π) u_xx with a PINN, against the Cole-Hopf solution.
//!
//! A reduced version of the `pinn-burgers` benchmark's best configuration sized for CI: initial
//! and boundary values built into the output, a 2-[32]x4-1 tanh MLP on 3000 Sobol collocation
//! points, 2500 Adam steps with a cosine decay, then L-BFGS (at most 2000 iterations). Heatmaps show the exact solution (Gauss-Hermite quadrature of the Cole-Hopf
//! formula), the prediction and the error on the 256 × 100 grid.
//!
//! Run with `cargo xtask demo pinn-burgers` (or `cargo run --release -p kiln-pinn --example
//! demo_pinn_burgers`); `KILN_BACKEND` picks the backend.

#[path = "common/burgers.rs"]
mod burgers;

use burgers::{RunConfig, run};
use kiln_core::BackendKind;
use kiln_core::plot::{Heatmap, LinePlot, Series};
use kiln_core::report::DemoReport;
use kiln_core::train::Schedule;
use kiln_pinn::Sampler;
use kiln_pinn::reference::burgers::{ColeHopf, NU};

const NX: usize = 256;
const NT: usize = 100;

fn main() -> kiln_pinn::Result<()> {
    let backend = BackendKind::from_env()?;
    let device = kiln_core::autodiff_device(backend)?;
    let mut report = DemoReport::new(
        "pinn-burgers",
        "Burgers' shock with a PINN vs the Cole-Hopf solution",
        backend.name(),
    )?;
    let exact = ColeHopf::new(NU, 200)?.grid(NX, NT, 0.99);
    let mut config = RunConfig::deepxde();
    config.label = "demo";
    config.hard = true;
    config.widths = vec![2, 32, 32, 32, 32, 1];
    config.setup.interior = 3000;
    config.setup.sampler = Sampler::Sobol;
    config.adam_steps = 2500;
    config.schedule = Schedule::Cosine { min_lr: 1e-5 };
    config.lbfgs_max_iter = 2000;
    let result = run(&device, &config, &exact)?;

    report.metric("rel_l2", result.rel_l2);
    report.metric("ms_per_adam_step", result.ms_per_adam_step);
    report.metric("lbfgs_evaluations", result.lbfgs_evaluations as f64);
    report.metric("train_seconds", result.wall_s);
    report.metric("final_loss", result.final_loss);
    report.metric("lbfgs_iterations", result.lbfgs_iterations as f64);
    report.summary(format!(
        "A 2-[32]x4-1 tanh PINN with the initial and boundary values built into its output \
         (u = -sin(πx) + t(1 - x²) N(x, t), so only the residual u_t + u u_x - ν u_xx is trained, \
         from second-order jets) on {} Sobol collocation points: {} Adam steps (lr 1e-3, cosine \
         decay), then L-BFGS with a strong-Wolfe line search, {} iterations ({} loss \
         evaluations, at most {} allowed). Against the Cole-Hopf solution (Gauss-Hermite \
         quadrature, 200 nodes) on the 256 × 100 grid the relative L2 error is {:.2e}; the \
         benchmark's best configuration (`cargo xtask bench pinn-burgers`, 8000 points, twice \
         the Adam steps, L-BFGS to its tolerance) reaches < 1e-3. The error concentrates at the \
         shock at x = 0.",
        config.setup.interior,
        config.adam_steps,
        result.lbfgs_iterations,
        result.lbfgs_evaluations,
        config.lbfgs_max_iter,
        result.rel_l2
    ));

    let error: Vec<f64> = result
        .prediction
        .iter()
        .zip(&exact.1)
        .map(|(p, e)| (p - e).abs())
        .collect();
    for (file, title, values) in [
        ("exact.png", "exact u(x, t) (Cole-Hopf)", exact.1.clone()),
        (
            "predicted.png",
            "PINN prediction",
            result.prediction.clone(),
        ),
        ("error.png", "|prediction - exact|", error),
    ] {
        // Heatmap rows are y = t, columns x: the grid is stored with x fastest, as required.
        Heatmap {
            title: title.into(),
            x_label: "x".into(),
            y_label: "t".into(),
            values,
            nx: NX,
            ny: NT,
            x_range: -1.0..1.0,
            y_range: 0.0..0.99,
        }
        .save(report.path(file), (800, 480))?;
        report.plot(file, title);
    }
    // Profiles at three times.
    let mut profile = LinePlot::new("u(x, t) at t = 0.25, 0.5, 0.99", "x", "u");
    for (j, label) in [(25usize, "t = 0.25"), (50, "t = 0.5"), (NT - 1, "t = 0.99")] {
        let xs = (0..NX).map(|i| exact.0.row(j * NX + i)[0]);
        let pts = |v: &[f64]| {
            xs.clone()
                .zip(v[j * NX..(j + 1) * NX].iter().copied())
                .collect()
        };
        profile = profile
            .with(Series::line(
                format!("PINN {label}"),
                pts(&result.prediction),
            ))
            .with(Series::markers(
                format!("exact {label}"),
                pts(&exact.1).into_iter().step_by(8).collect(),
            ));
    }
    profile.save(report.path("profiles.png"), (800, 480))?;
    report.plot(
        "profiles.png",
        "profiles: PINN (lines) vs Cole-Hopf (markers)",
    );
    LinePlot::new("training loss (Adam, then L-BFGS)", "step", "loss")
        .log_y()
        .with(Series::loss_curve("loss", &result.losses))
        .save(report.path("loss.png"), (800, 480))?;
    report.plot("loss.png", "training loss");
    Ok(report.finish()?)
}
