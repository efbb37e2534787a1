//! Demo: Poisson's equation on a holed domain built by set operations.
//!
//! -Δu = 2π² sin(πx) sin(πy) on Ω = [-1, 1]² minus the disk of radius 0.4 at (0.3, 0.2), with the
//! manufactured solution u = sin(πx) sin(πy) imposed on ∂Ω (outer square and hole). Collocation
//! points are Sobol points kept inside Ω; boundary points come from both boundaries in proportion
//! to their lengths.
//!
//! Run with `cargo xtask demo pinn-poisson-2d` (or `cargo run --release -p kiln-pinn --example
//! demo_pinn_poisson_2d`); `KILN_BACKEND` picks the backend.

use std::f64::consts::PI;

use kiln_core::burn::module::Module;
use kiln_core::metrics::relative_l2_values;
use kiln_core::plot::{Heatmap, LinePlot, ScatterPlot, Series};
use kiln_core::report::DemoReport;
use kiln_core::rng::Rng;
use kiln_core::train::ProgressMode;
use kiln_core::{BackendKind, MlpConfig, SecondOrder};
use kiln_pinn::geometry::{Ball, Difference, Hyperbox};
use kiln_pinn::{Condition, Geometry, Pinn, PinnTrainConfig, Points, Problem, Sampler, train};

const N: usize = 101;

fn exact(p: &[f64]) -> f64 {
    (PI * p[0]).sin() * (PI * p[1]).sin()
}

fn main() -> kiln_pinn::Result<()> {
    let backend = BackendKind::from_env()?;
    let device = kiln_core::autodiff_device(backend)?;
    let mut report = DemoReport::new(
        "pinn-poisson-2d",
        "Poisson on a square with a hole (set operations) vs a manufactured solution",
        backend.name(),
    )?;
    let domain = Difference::new(
        Hyperbox::new(vec![-1.0, -1.0], vec![1.0, 1.0])?,
        Ball::disk(0.3, 0.2, 0.4)?,
    )?;
    let mut rng = Rng::new(1);
    let interior = domain.sample_interior(1000, Sampler::Sobol, &mut rng)?;
    let boundary = domain.sample_boundary(200, Sampler::Uniform, &mut rng)?;
    let problem = Problem::new(2, 1, &device)
        .with_residual(SecondOrder::Diagonal, |f| {
            let x = f.x.clone().narrow(1, 0, 1).mul_scalar(PI).sin();
            let y = f.x.clone().narrow(1, 1, 1).mul_scalar(PI).sin();
            Ok(f.u.laplacian().expect("diagonal jet") + (x * y).mul_scalar(2.0 * PI * PI))
        })
        .with_collocation(interior.clone())?
        .with_condition(Condition::dirichlet(
            "boundary",
            boundary.points.clone(),
            exact,
        )?)?;
    device.seed(5);
    let net = MlpConfig::new(vec![2, 32, 32, 32, 1]).init(&device)?;
    let config = PinnTrainConfig::new(1500, 2e-3)
        .with_lbfgs_max_iter(700)
        .with_progress(ProgressMode::Auto)
        .with_log_every(500);
    let out = train(&problem, Pinn::new(net), &device, &config)?;

    // Evaluate on a grid; points outside Ω are NaN (left blank in the heatmaps).
    let mut grid = Vec::with_capacity(2 * N * N);
    for j in 0..N {
        for i in 0..N {
            grid.extend([
                -1.0 + 2.0 * i as f64 / (N - 1) as f64,
                -1.0 + 2.0 * j as f64 / (N - 1) as f64,
            ]);
        }
    }
    let grid = Points::new(2, grid)?;
    let plain = device.clone().without_autodiff();
    let pred = problem.predict(&out.model.valid(), &grid, 0, &plain)?;
    let inside: Vec<bool> = grid.rows().map(|p| domain.contains(p)).collect();
    let truth: Vec<f64> = grid.rows().map(exact).collect();
    let (mut p_in, mut t_in) = (Vec::new(), Vec::new());
    for k in 0..pred.len() {
        if inside[k] {
            p_in.push(pred[k]);
            t_in.push(truth[k]);
        }
    }
    let err = relative_l2_values(&p_in, &t_in)?;
    let mask = |v: Vec<f64>| -> Vec<f64> {
        v.into_iter()
            .zip(&inside)
            .map(|(x, &i)| if i { x } else { f64::NAN })
            .collect()
    };
    let abs_err: Vec<f64> = pred
        .iter()
        .zip(&truth)
        .map(|(a, b)| (a - b).abs())
        .collect();
    for (file, title, values) in [
        ("predicted.png", "PINN u(x, y)", mask(pred.clone())),
        ("exact.png", "exact sin(πx) sin(πy)", mask(truth.clone())),
        ("error.png", "|PINN - exact|", mask(abs_err)),
    ] {
        Heatmap {
            title: title.into(),
            x_label: "x".into(),
            y_label: "y".into(),
            values,
            nx: N,
            ny: N,
            x_range: -1.0..1.0,
            y_range: -1.0..1.0,
        }
        .save(report.path(file), (640, 560))?;
        report.plot(file, title);
    }
    let pairs = |p: &Points| p.rows().map(|r| (r[0], r[1])).collect::<Vec<_>>();
    ScatterPlot::new("collocation (Sobol) and boundary points", "x", "y")
        .with("interior", pairs(&interior))
        .with("boundary", pairs(&boundary.points))
        .save(report.path("points.png"), (640, 600))?;
    report.plot("points.png", "training points");
    LinePlot::new("training loss (Adam, then L-BFGS)", "step", "loss")
        .log_y()
        .with(Series::loss_curve("loss", &out.losses))
        .save(report.path("loss.png"), (800, 480))?;
    report.plot("loss.png", "training loss");
    report.metric("rel_l2", err);
    report.metric("ms_per_adam_step", out.ms_per_adam_step());
    report.metric("lbfgs_evaluations", out.lbfgs_evaluations as f64);
    report.metric("final_loss", out.final_loss());
    report.summary(format!(
        "A 2-[32]x3-1 tanh PINN solves -Δu = 2π² sin(πx) sin(πy) on the square [-1, 1]² minus a \
         disk (a `Difference` geometry), with u = sin(πx) sin(πy) on both the outer and the hole's \
         boundary: 1000 Sobol collocation points, 200 boundary points, 1500 Adam steps then \
         L-BFGS (at most 700 iterations, {} evaluations). The Laplacian comes from a diagonal second-order jet. Relative \
         L2 error on the {N}x{N} grid points inside the domain: {err:.2e}.",
        out.lbfgs_evaluations
    ));
    Ok(report.finish()?)
}
