//! Demo: steady incompressible Navier-Stokes (Kovasznay flow, Re = 20) with a vector-valued PINN.
//!
//! One network maps (x, y) ∈ [-0.5, 1] × [-0.5, 1.5] to (u, v, p); the residual has three
//! columns, momentum x and y and continuity,
//!
//!   u u_x + v u_y + p_x - Δu / Re = 0,   u v_x + v v_y + p_y - Δv / Re = 0,   u_x + v_y = 0,
//!
//! read from one second-order (diagonal) jet of the three outputs. u and v take the exact values
//! on the boundary; the pressure is fixed only up to a constant, so it is compared after removing
//! its mean. Kovasznay's exact flow: u = 1 - e^{λx} cos 2πy, v = λ/(2π) e^{λx} sin 2πy,
//! p = ½(1 - e^{2λx}), λ = Re/2 - √(Re²/4 + 4π²).
//!
//! Run with `cargo xtask demo pinn-kovasznay` (or `cargo run --release -p kiln-pinn --example
//! demo_pinn_kovasznay`); `KILN_BACKEND` picks the backend.

#[path = "common/field_plots.rs"]
mod field_plots;

use std::f64::consts::PI;
use std::time::Instant;

use field_plots::{Grid, save_field, save_losses};
use kiln_core::burn::module::Module;
use kiln_core::burn::tensor::Tensor;
use kiln_core::metrics::relative_l2_values;
use kiln_core::report::DemoReport;
use kiln_core::rng::Rng;
use kiln_core::train::{ProgressMode, Schedule};
use kiln_core::{BackendKind, Jet, MlpConfig, SecondOrder};
use kiln_pinn::geometry::Hyperbox;
use kiln_pinn::{Condition, Fields, Geometry, Pinn, PinnTrainConfig, Problem, Sampler, train};

const RE: f64 = 20.0;
const NX: usize = 76;
const NY: usize = 101;

fn lambda() -> f64 {
    RE / 2.0 - (RE * RE / 4.0 + 4.0 * PI * PI).sqrt()
}

/// The exact (u, v, p).
fn exact(x: f64, y: f64) -> [f64; 3] {
    let l = lambda();
    let e = (l * x).exp();
    [
        1.0 - e * (2.0 * PI * y).cos(),
        l / (2.0 * PI) * e * (2.0 * PI * y).sin(),
        0.5 * (1.0 - (2.0 * l * x).exp()),
    ]
}

/// Momentum x, momentum y and continuity, `[batch, 3]`.
fn navier_stokes(f: &Fields<'_>) -> Tensor<2> {
    let (u, v, p) = (f.u.component(0), f.u.component(1), f.u.component(2));
    let momentum = |w: &Jet, pressure_axis: usize| {
        u.value() * w.d(0) + v.value() * w.d(1) + p.d(pressure_axis)
            - w.laplacian().expect("diagonal jet").div_scalar(RE)
    };
    Tensor::cat(vec![momentum(&u, 0), momentum(&v, 1), u.d(0) + v.d(1)], 1)
}

fn main() -> kiln_pinn::Result<()> {
    let backend = BackendKind::from_env()?;
    let device = kiln_core::autodiff_device(backend)?;
    let mut report = DemoReport::new(
        "pinn-kovasznay",
        "Kovasznay flow (steady Navier-Stokes, Re = 20): a PINN with outputs (u, v, p)",
        backend.name(),
    )?;
    let domain = Hyperbox::new(vec![-0.5, -0.5], vec![1.0, 1.5])?;
    let mut rng = Rng::new(4);
    let interior = domain.sample_interior(1200, Sampler::Sobol, &mut rng)?;
    let boundary = domain.sample_boundary(240, Sampler::Sobol, &mut rng)?;
    let problem = Problem::new(2, 3, &device)
        .with_residual(SecondOrder::Diagonal, |f| Ok(navier_stokes(f)))
        .with_collocation(interior)?
        .with_condition(Condition::dirichlet(
            "boundary_u",
            boundary.points.clone(),
            |p| exact(p[0], p[1])[0],
        )?)?
        .with_condition(
            Condition::dirichlet("boundary_v", boundary.points, |p| exact(p[0], p[1])[1])?
                .with_component(1),
        )?;
    let net = MlpConfig::new(vec![2, 40, 40, 40, 3]).init(&device)?;
    let adam_steps = 2000;
    let lbfgs_max_iter = 700;
    let config = PinnTrainConfig::new(adam_steps, 2e-3)
        .with_schedule(Schedule::Exponential {
            gamma: 0.5,
            every: 1000,
        })
        .with_lbfgs_max_iter(lbfgs_max_iter)
        .with_seed(3)
        .with_progress(ProgressMode::Auto)
        .with_log_every(500);
    let started = Instant::now();
    let out = train(&problem, Pinn::new(net), &device, &config)?;
    let train_seconds = started.elapsed().as_secs_f64();

    let grid = Grid::new(NX, NY, -0.5..1.0, -0.5..1.5)?;
    let plain = device.clone().without_autodiff();
    let model = out.model.valid();
    let mut errors = [0.0; 3];
    let names = ["u", "v", "p"];
    for (k, name) in names.iter().enumerate() {
        let mut pred = problem.predict(&model, &grid.points, k, &plain)?;
        let mut truth = grid.map(|x, y| exact(x, y)[k]);
        if k == 2 {
            // The pressure is determined up to a constant: compare mean-free fields.
            for values in [&mut pred, &mut truth] {
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                values.iter_mut().for_each(|v| *v -= mean);
            }
        }
        errors[k] = relative_l2_values(&pred, &truth)?;
        let field = if k == 2 { "p - mean(p)" } else { name };
        save_field(
            &mut report,
            &grid,
            ("x", "y"),
            &format!("{name}_"),
            field,
            "Kovasznay",
            &pred,
            &truth,
        )?;
        report.metric(format!("rel_l2_{name}"), errors[k]);
    }
    save_losses(
        &mut report,
        "loss.png",
        "training loss (Adam, then L-BFGS)",
        &[("loss", &out.losses)],
    )?;
    report.metric("ms_per_adam_step", out.ms_per_adam_step());
    report.metric("lbfgs_evaluations", out.lbfgs_evaluations as f64);
    report.metric("train_seconds", train_seconds);
    report.metric("final_loss", out.final_loss());
    let summary = format!(
        "A 2-[40]x3-3 tanh PINN learns the Kovasznay flow at Re = {RE} on [-0.5, 1] x [-0.5, 1.5]: \
         outputs (u, v, p), a three-column residual (momentum x, y, continuity) from one diagonal \
         second-order jet, exact u and v on 240 boundary points, 1200 Sobol collocation points, \
         {adam_steps} Adam steps then L-BFGS (at most {lbfgs_max_iter} iterations, {} evaluations), \
         {train_seconds:.0} s (a CI-sized run). Relative L2 on a {NX}x{NY} grid: u {:.2e}, v {:.2e}, \
         p (mean removed) {:.2e}.",
        out.lbfgs_evaluations, errors[0], errors[1], errors[2]
    );
    println!("{summary}");
    report.summary(summary);
    Ok(report.finish()?)
}
