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

/// u'' = -π² sin(πx) on 64 midpoints of [0, 1] with u(0) = u(1) = 0 as a soft condition
/// (exact: sin(πx)).
pub fn sine_poisson(device: &Device) -> kiln_pinn::Problem {
    use kiln_pinn::{Condition, Points, Problem};
    let xs: Vec<f64> = (0..64).map(|i| (i as f64 + 0.5) / 64.0).collect();
    Problem::new(1, 1, device)
        .with_residual(kiln_core::SecondOrder::Diagonal, |f| {
            let pi = std::f64::consts::PI;
            let source = f.x.clone().mul_scalar(pi).sin().mul_scalar(pi * pi);
            Ok(f.u.d2(0, 0).unwrap() + source)
        })
        .with_collocation(Points::new(1, xs).unwrap())
        .unwrap()
        .with_condition(
            Condition::dirichlet("ends", Points::new(1, vec![0.0, 1.0]).unwrap(), |_| 0.0).unwrap(),
        )
        .unwrap()
}

/// Two condition terms on the same points where term b's residual is `c` times term a's
/// (u - g against c u - c g), so every per-term gradient scale of b is c (or c²) times a's.
pub fn scaled_copy_problem(device: &Device, c: f64) -> kiln_pinn::Problem {
    use kiln_pinn::geometry::BoundarySample;
    use kiln_pinn::{Condition, Points, Problem};
    let pts = Points::new(1, vec![0.1, 0.4, 0.8]).unwrap();
    let g = |x: &[f64]| 1.0 + x[0];
    Problem::new(1, 1, device)
        .with_condition(Condition::dirichlet("a", pts.clone(), g).unwrap())
        .unwrap()
        .with_condition(
            Condition::robin(
                "b",
                BoundarySample {
                    points: pts,
                    normals: Points::new(1, vec![1.0; 3]).unwrap(),
                },
                c,
                0.0,
                move |x| c * g(x),
            )
            .unwrap(),
        )
        .unwrap()
}
