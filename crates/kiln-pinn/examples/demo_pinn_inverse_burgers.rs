//! Demo: an inverse problem, the viscosity of Burgers' equation recovered from observations.
//!
//! u_t + u u_x = ν u_xx on x ∈ [-1, 1], t ∈ [0, 1) with u(x, 0) = -sin(πx): 2000 observations of
//! the exact Cole-Hopf solution at random (x, t) (ν_true = 0.01/π) are a point-data condition,
//! and the residual, evaluated at the same points, reads ν from the model's trainable coefficient
//! c through ν = e^c (positive, and steps in c are relative steps in ν). No boundary or initial
//! condition is given: the data alone pin the field. Training first fits the data alone with
//! Adam, then fits data (weight 100) and residual jointly, starting from ν₀ = 0.05, about 16
//! times the true value: a short Adam phase, then L-BFGS, which does most of the identification
//! (Adam alone stalls with a smoothed shock and ν several times too large; the ν plot shows it).
//! The run passes when the recovered ν is within 2 % of the truth, and exits with an error
//! otherwise.
//!
//! Run with `cargo xtask demo pinn-inverse-burgers` (or `cargo run --release -p kiln-pinn
//! --example demo_pinn_inverse_burgers`); `KILN_BACKEND` picks the backend.

#[path = "common/field_plots.rs"]
mod field_plots;

use std::time::Instant;

use field_plots::{Grid, save_field, save_losses};
use kiln_core::burn::module::Module;
use kiln_core::metrics::relative_l2_values;
use kiln_core::plot::{LinePlot, ScatterPlot, Series};
use kiln_core::report::DemoReport;
use kiln_core::rng::Rng;
use kiln_core::train::{ProgressMode, Schedule};
use kiln_core::{BackendKind, MlpConfig, SecondOrder};
use kiln_pinn::reference::burgers::{ColeHopf, NU};
use kiln_pinn::{Condition, Phase, Pinn, PinnTrainConfig, Points, Problem, train, train_with};

const OBSERVATIONS: usize = 2000;
const NU_START: f64 = 0.05;
const TOLERANCE: f64 = 0.02;

fn main() -> kiln_pinn::Result<()> {
    let backend = BackendKind::from_env()?;
    let device = kiln_core::autodiff_device(backend)?;
    let mut report = DemoReport::new(
        "pinn-inverse-burgers",
        "Burgers' viscosity recovered from 2000 observations of the Cole-Hopf solution",
        backend.name(),
    )?;
    let (width, depth) = (20, 4);
    let (fit_steps, adam_steps, lbfgs_max_iter) = (1000, 500, 2000);
    let data_weight = 100.0;
    let seed = 0;

    // Observations of the exact solution at uniformly random (x, t).
    let exact = ColeHopf::new(NU, 200)?;
    let mut rng = Rng::new(11);
    let mut coords = Vec::with_capacity(2 * OBSERVATIONS);
    for _ in 0..OBSERVATIONS {
        coords.extend([2.0 * rng.uniform() - 1.0, rng.uniform()]);
    }
    let observed = Points::new(2, coords)?;
    let values: Vec<f64> = observed.rows().map(|p| exact.u(p[0], p[1])).collect();
    // Weighted 100: the residual must not smooth the shock away from the data (with weight 1
    // the network trades data for a wider shock and ν stalls several times too large).
    let data = Condition::point_data("data", observed.clone(), values)?.with_weight(data_weight);

    let fit_only = Problem::new(2, 1, &device).with_condition(data.clone())?;
    let problem = Problem::new(2, 1, &device)
        .with_residual(SecondOrder::Diagonal, move |f| {
            let u = f.u.value();
            let (ux, ut) = (f.u.d(0), f.u.d(1));
            let uxx = f.u.d2(0, 0).expect("diagonal jet carries u_xx");
            let nu = f.coefficient(0)?.exp();
            Ok(ut + u * ux - uxx * nu)
        })
        .with_collocation(observed.clone())?
        .with_condition(data)?;

    let mut sizes = vec![2];
    sizes.extend(std::iter::repeat_n(width, depth));
    sizes.push(1);
    let net = MlpConfig::new(sizes).init(&device)?;
    let model = Pinn::with_coefficients(net, &[NU_START.ln()], &device)?;
    let started = Instant::now();
    // Phase 1: the field alone from the data (ν gets no gradient yet).
    let fit = train(
        &fit_only,
        model,
        &device,
        &PinnTrainConfig::new(fit_steps, 3e-3)
            .with_seed(seed)
            .with_progress(ProgressMode::Auto)
            .with_log_every(500),
    )?;
    // Phase 2: data and residual together; ν is recorded every 20 loss evaluations (Adam steps,
    // then L-BFGS evaluations, line-search trials included).
    let mut trajectory = vec![(0.0, NU_START)];
    let mut calls = 0usize;
    let mut lbfgs_start = None;
    let joint = train_with(
        &problem,
        fit.model,
        &device,
        &PinnTrainConfig::new(adam_steps, 2e-3)
            .with_schedule(Schedule::Exponential {
                gamma: 0.5,
                every: 1000,
            })
            .with_lbfgs_max_iter(lbfgs_max_iter)
            .with_seed(seed.wrapping_add(1))
            .with_progress(ProgressMode::Auto)
            .with_log_every(500),
        |p, m, phase| {
            if phase == Phase::Lbfgs && lbfgs_start.is_none() {
                lbfgs_start = Some(calls);
            }
            if calls.is_multiple_of(20) {
                trajectory.push((calls as f64, m.coefficient_values()[0].exp()));
            }
            calls += 1;
            p.loss(m)
        },
    )?;
    let train_seconds = started.elapsed().as_secs_f64();
    let nu = joint.model.coefficient_values()[0].exp();
    trajectory.push((calls as f64, nu));
    let nu_error = (nu / NU - 1.0).abs();
    let pass = nu_error <= TOLERANCE;

    // The learned field against the exact one on a 256 x 100 grid.
    let grid = Grid::new(256, 100, -1.0..1.0, 0.0..0.99)?;
    let plain = device.clone().without_autodiff();
    let pred = problem.predict(&joint.model.valid(), &grid.points, 0, &plain)?;
    let truth = grid.map(|x, t| exact.u(x, t));
    let field_error = relative_l2_values(&pred, &truth)?;
    save_field(
        &mut report,
        &grid,
        ("x", "t"),
        "",
        "u(x, t)",
        "Cole-Hopf",
        &pred,
        &truth,
    )?;
    ScatterPlot::new("observation points", "x", "t")
        .with(
            "observations",
            observed.rows().map(|p| (p[0], p[1])).collect(),
        )
        .save(report.path("observations.png"), (640, 480))?;
    report.plot("observations.png", "where u was observed");
    let mut nu_plot = LinePlot::new(
        "ν during the joint phase",
        "loss evaluation (Adam steps, then L-BFGS)",
        "ν",
    )
    .log_y()
    .with(Series::line("learned ν = e^c", trajectory))
    .with(Series::line(
        "true ν = 0.01/π",
        vec![(0.0, NU), (calls as f64, NU)],
    ));
    if let Some(start) = lbfgs_start {
        nu_plot = nu_plot.with(Series::markers(
            "L-BFGS starts",
            vec![(start as f64, NU_START), (start as f64, NU)],
        ));
    }
    nu_plot.save(report.path("nu.png"), (800, 480))?;
    report.plot("nu.png", "viscosity during the joint phase");
    save_losses(
        &mut report,
        "loss.png",
        "training loss",
        &[
            ("data fit (phase 1)", &fit.losses),
            ("data + residual (phase 2)", &joint.losses),
        ],
    )?;
    report.metric("nu", nu);
    report.metric("nu_true", NU);
    report.metric("nu_rel_error", nu_error);
    report.metric("rel_l2_field", field_error);
    report.metric("train_seconds", train_seconds);
    report.metric("lbfgs_evaluations", joint.lbfgs_evaluations as f64);
    report.metric("pass", if pass { 1.0 } else { 0.0 });
    let summary = format!(
        "A 2-[{width}]x{depth}-1 tanh PINN with a trainable viscosity ν = e^c (from ν₀ = {NU_START}) \
         learns Burgers' equation from {OBSERVATIONS} random observations of the Cole-Hopf \
         solution (ν = 0.01/π), with no boundary or initial condition: {fit_steps} Adam steps on \
         the data alone, then {adam_steps} Adam steps and L-BFGS (at most {lbfgs_max_iter} \
         iterations, {} evaluations) on data (weight {data_weight}) + residual at the observation \
         points, \
         {train_seconds:.0} s (a CI-sized run). Recovered ν = {nu:.5e} against {NU:.5e}: relative \
         error {:.2} % (goal <= 2 %: {}); the field's relative L2 error on the 256x100 grid is \
         {field_error:.2e}.",
        joint.lbfgs_evaluations,
        100.0 * nu_error,
        if pass { "PASS" } else { "FAIL" }
    );
    println!("{summary}");
    report.summary(summary);
    report.finish()?;
    if !pass {
        eprintln!(
            "FAIL: recovered ν = {nu:.5e} is {:.2} % from 0.01/π (goal 2 %)",
            100.0 * nu_error
        );
        std::process::exit(1);
    }
    println!("PASS: ν within {:.2} % of 0.01/π", 100.0 * nu_error);
    Ok(())
}
