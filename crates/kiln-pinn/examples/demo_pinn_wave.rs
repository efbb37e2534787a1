//! Demo: the 1-D wave equation u_tt = c² u_xx with an initial velocity condition, against its
//! Fourier (d'Alembert) solution.
//!
//! x ∈ [0, 1], t ∈ [0, 1], c = 1, u(0, t) = u(1, t) = 0, u(x, 0) = sin(πx) + ½ sin(3πx) and
//! u_t(x, 0) = 0; the exact solution is the standing-wave sum
//! u = sin(πx) cos(πct) + ½ sin(3πx) cos(3πct) (equivalently d'Alembert's ½[f(x - ct) + f(x + ct)]
//! with f extended oddly and periodically). The walls are built into the field,
//! u = 4x(1 - x) N(x, t) (soft walls leave the late times unresolved in this budget: about 0.4
//! relative error); both initial conditions are soft terms weighted 100, the initial velocity a
//! `Condition::initial_derivative` on the time axis.
//!
//! Run with `cargo xtask demo pinn-wave` (or `cargo run --release -p kiln-pinn --example
//! demo_pinn_wave`); `KILN_BACKEND` picks the backend.

#[path = "common/field_plots.rs"]
mod field_plots;

use std::f64::consts::PI;
use std::time::Instant;

use field_plots::{Grid, save_field, save_losses};
use kiln_core::burn::module::Module;
use kiln_core::metrics::relative_l2_values;
use kiln_core::plot::{LinePlot, Series};
use kiln_core::report::DemoReport;
use kiln_core::rng::Rng;
use kiln_core::train::{ProgressMode, Schedule};
use kiln_core::{BackendKind, MlpConfig, SecondOrder};
use kiln_pinn::geometry::{Hyperbox, SpaceTime};
use kiln_pinn::jet_algebra::{add_scalar, mul};
use kiln_pinn::{Condition, Geometry, Pinn, PinnTrainConfig, Problem, Sampler, train};

const C: f64 = 1.0;
const NX: usize = 101;
const NT: usize = 101;

fn exact(x: f64, t: f64) -> f64 {
    (PI * x).sin() * (PI * C * t).cos() + 0.5 * (3.0 * PI * x).sin() * (3.0 * PI * C * t).cos()
}

fn main() -> kiln_pinn::Result<()> {
    let backend = BackendKind::from_env()?;
    let device = kiln_core::autodiff_device(backend)?;
    let mut report = DemoReport::new(
        "pinn-wave",
        "1-D wave equation with an initial-velocity condition vs its Fourier solution",
        backend.name(),
    )?;
    let (points, width, adam_steps, lbfgs_max_iter) = (1200, 40, 2000, 800);
    let ic_weight = 100.0;
    let domain = SpaceTime::new(Hyperbox::interval(0.0, 1.0)?, 0.0, 1.0)?;
    let mut rng = Rng::new(3);
    let interior = domain.sample_interior(points, Sampler::Sobol, &mut rng)?;
    let initial = domain.sample_initial(120, Sampler::Sobol, &mut rng)?;
    let problem = Problem::new(2, 1, &device)
        .with_residual(SecondOrder::Diagonal, |f| {
            let (uxx, utt) = (f.u.d2(0, 0), f.u.d2(1, 1));
            Ok(utt.expect("diagonal jet") - uxx.expect("diagonal jet").mul_scalar(C * C))
        })
        .with_collocation(interior)?
        .with_condition(
            Condition::initial_value("initial", initial.clone(), |p| exact(p[0], 0.0))?
                .with_weight(ic_weight),
        )?
        .with_condition(
            Condition::initial_derivative("initial_velocity", initial, 1, |_| 0.0)?
                .with_weight(ic_weight),
        )?
        .with_transform(|x, n| {
            // u = 4x(1 - x) N(x, t): zero on both walls for any network.
            let s = x.component(0);
            let walls = mul(&s, &add_scalar(&s.clone().mul_scalar(-1.0), 1.0))?;
            mul(&walls.mul_scalar(4.0), &n)
        });
    let net = MlpConfig::new(vec![2, width, width, width, 1]).init(&device)?;
    let config = PinnTrainConfig::new(adam_steps, 2e-3)
        .with_schedule(Schedule::Exponential {
            gamma: 0.5,
            every: 1000,
        })
        .with_lbfgs_max_iter(lbfgs_max_iter)
        .with_seed(0)
        .with_progress(ProgressMode::Auto)
        .with_log_every(500);
    let started = Instant::now();
    let out = train(&problem, Pinn::new(net), &device, &config)?;
    let train_seconds = started.elapsed().as_secs_f64();

    let grid = Grid::new(NX, NT, 0.0..1.0, 0.0..1.0)?;
    let plain = device.clone().without_autodiff();
    let pred = problem.predict(&out.model.valid(), &grid.points, 0, &plain)?;
    let truth = grid.map(exact);
    let err = relative_l2_values(&pred, &truth)?;
    save_field(
        &mut report,
        &grid,
        ("x", "t"),
        "",
        "u(x, t)",
        "Fourier series",
        &pred,
        &truth,
    )?;
    // Snapshots at four times.
    let mut profile = LinePlot::new("u(x, t): PINN (lines) vs exact (markers)", "x", "u");
    for j in [0, NT / 3, NT / 2, NT - 1] {
        let t = j as f64 / (NT - 1) as f64;
        let row = |v: &[f64]| -> Vec<(f64, f64)> {
            (0..NX)
                .map(|i| (i as f64 / (NX - 1) as f64, v[j * NX + i]))
                .collect()
        };
        profile = profile
            .with(Series::line(format!("PINN t = {t:.2}"), row(&pred)))
            .with(Series::markers(
                format!("exact t = {t:.2}"),
                row(&truth).into_iter().step_by(5).collect(),
            ));
    }
    profile.save(report.path("profiles.png"), (800, 480))?;
    report.plot("profiles.png", "snapshots: PINN vs exact");
    save_losses(
        &mut report,
        "loss.png",
        "training loss (Adam, then L-BFGS)",
        &[("loss", &out.losses)],
    )?;
    report.metric("rel_l2", err);
    report.metric("ms_per_adam_step", out.ms_per_adam_step());
    report.metric("lbfgs_evaluations", out.lbfgs_evaluations as f64);
    report.metric("train_seconds", train_seconds);
    report.metric("final_loss", out.final_loss());
    let summary = format!(
        "A 2-[{width}]x3-1 tanh PINN solves u_tt = u_xx on [0, 1] x [0, 1] with zero walls built \
         in (u = 4x(1 - x) N), u(x, 0) = sin(πx) + ½ sin(3πx) and u_t(x, 0) = 0 (an initial-derivative condition), \
         both initial terms weighted {ic_weight}: {points} Sobol collocation points and \
         120 initial points, {adam_steps} Adam steps then L-BFGS (at most {lbfgs_max_iter} \
         iterations, {} evaluations), {train_seconds:.0} s (a CI-sized run). Relative L2 error \
         against the standing-wave solution on a {NX}x{NT} grid: {err:.2e}.",
        out.lbfgs_evaluations
    );
    println!("{summary}");
    report.summary(summary);
    Ok(report.finish()?)
}
