//! Shared helpers of kiln-pinn's integration tests (included with `mod common;`).
#![allow(dead_code, unreachable_pub)]

use burn::tensor::Device;
use kiln_core::BackendKind;

/// The autodiff device of the backend `KILN_BACKEND` names.
pub fn device() -> Device {
    kiln_core::autodiff_device(BackendKind::from_env().expect("KILN_BACKEND names a backend"))
        .expect("the backend is compiled in")
}

/// Relative L2 error of a trained scalar 1-D field against `exact` on `n + 1` equispaced points
/// of [0, 1].
pub fn error_on_unit_interval<N: kiln_pinn::JetNetwork>(
    problem: &kiln_pinn::Problem,
    model: &kiln_pinn::Pinn<N>,
    n: usize,
    exact: impl Fn(f64) -> f64,
) -> f64 {
    use burn::module::Module;
    let xs: Vec<f64> = (0..=n).map(|i| i as f64 / n as f64).collect();
    let points = kiln_pinn::Points::new(1, xs.clone()).unwrap();
    let plain = problem.device().clone().without_autodiff();
    let pred = problem.predict(&model.valid(), &points, 0, &plain).unwrap();
    let truth: Vec<f64> = xs.iter().map(|&x| exact(x)).collect();
    kiln_core::metrics::relative_l2_values(&pred, &truth).unwrap()
}
