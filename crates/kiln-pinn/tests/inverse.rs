//! Inverse problem: a PDE coefficient recovered from data through a trainable model coefficient.

mod common;

use std::f64::consts::PI;

use kiln_core::train::ProgressMode;
use kiln_core::{MlpConfig, SecondOrder};
use kiln_pinn::{Condition, Pinn, PinnTrainConfig, Points, Problem, train};

#[test]
fn diffusion_coefficient_is_recovered_within_two_percent() {
    // k u'' + k* π² sin(πx) = 0 with k* = 0.7 has u = sin(πx); 16 noise-free samples of u
    // and the residual determine k. Start from k = 0.3.
    let k_true = 0.7;
    let device = common::device();
    device.seed(31);
    let xs: Vec<f64> = (0..64).map(|i| (i as f64 + 0.5) / 64.0).collect();
    let data_x: Vec<f64> = (0..16).map(|i| (i as f64 + 0.5) / 16.0).collect();
    let data_u: Vec<f64> = data_x.iter().map(|x| (PI * x).sin()).collect();
    let problem = Problem::new(1, 1, &device)
        .with_residual(SecondOrder::Diagonal, move |f| {
            let k = f.coefficient(0)?;
            let source =
                f.x.clone()
                    .mul_scalar(PI)
                    .sin()
                    .mul_scalar(k_true * PI * PI);
            Ok(f.u.d2(0, 0).expect("diagonal jet") * k + source)
        })
        .with_collocation(Points::new(1, xs).unwrap())
        .unwrap()
        .with_condition(
            Condition::point_data("data", Points::new(1, data_x).unwrap(), data_u).unwrap(),
        )
        .unwrap();
    let net = MlpConfig::new(vec![1, 20, 20, 1]).init(&device).unwrap();
    let model = Pinn::with_coefficients(net, &[0.3], &device).unwrap();
    let config = PinnTrainConfig::new(1500, 5e-3)
        .with_lbfgs_max_iter(500)
        .with_progress(ProgressMode::Off);
    let out = train(&problem, model, &device, &config).unwrap();
    let k = out.model.coefficient_values()[0];
    println!("recovered k = {k} (true {k_true})");
    assert!((k / k_true - 1.0).abs() < 0.02, "k = {k}");
}
