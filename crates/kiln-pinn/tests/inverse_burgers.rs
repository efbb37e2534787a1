//! Inverse Burgers: the viscosity 0.01/π recovered within 2 % from observations of the exact
//! Cole-Hopf solution (a reduced version of the `pinn-inverse-burgers` demo).

mod common;

use kiln_core::rng::Rng;
use kiln_core::train::ProgressMode;
use kiln_core::{MlpConfig, SecondOrder};
use kiln_pinn::reference::burgers::{ColeHopf, NU};
use kiln_pinn::{Condition, Pinn, PinnTrainConfig, Points, Problem, train};

#[test]
fn burgers_viscosity_is_recovered_within_two_percent() {
    // 1500 noise-free observations at random (x, t) ∈ [-1, 1] × [0, 1), weighted 100; the
    // residual at the same points reads ν = e^c from the model's coefficient, started at
    // ν = 0.05 (16 times too large). Fit the data first, then data + residual (Adam, L-BFGS).
    let device = common::device();
    let exact = ColeHopf::new(NU, 200).unwrap();
    let mut rng = Rng::new(11);
    let coords: Vec<f64> = (0..1500)
        .flat_map(|_| [2.0 * rng.uniform() - 1.0, rng.uniform()])
        .collect();
    let observed = Points::new(2, coords).unwrap();
    let values: Vec<f64> = observed.rows().map(|p| exact.u(p[0], p[1])).collect();
    let data = Condition::point_data("data", observed.clone(), values)
        .unwrap()
        .with_weight(100.0);
    let fit_only = Problem::new(2, 1, &device)
        .with_condition(data.clone())
        .unwrap();
    let problem = Problem::new(2, 1, &device)
        .with_residual(SecondOrder::Diagonal, |f| {
            let uxx = f.u.d2(0, 0).expect("diagonal jet");
            Ok(f.u.d(1) + f.u.value() * f.u.d(0) - uxx * f.coefficient(0)?.exp())
        })
        .with_collocation(observed)
        .unwrap()
        .with_condition(data)
        .unwrap();
    let net = MlpConfig::new(vec![2, 20, 20, 20, 20, 1])
        .init(&device)
        .unwrap();
    let model = Pinn::with_coefficients(net, &[0.05f64.ln()], &device).unwrap();
    let fit = train(
        &fit_only,
        model,
        &device,
        &PinnTrainConfig::new(500, 3e-3).with_progress(ProgressMode::Off),
    )
    .unwrap();
    let joint = train(
        &problem,
        fit.model,
        &device,
        &PinnTrainConfig::new(200, 2e-3)
            .with_lbfgs_max_iter(1500)
            .with_seed(1)
            .with_progress(ProgressMode::Off),
    )
    .unwrap();
    let nu = joint.model.coefficient_values()[0].exp();
    println!("recovered ν = {nu:.6e} (true {NU:.6e})");
    assert!((nu / NU - 1.0).abs() < 0.02, "ν = {nu}, true {NU}");
}
