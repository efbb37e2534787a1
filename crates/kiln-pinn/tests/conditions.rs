//! Every condition kind, first on exact fields (residual terms vanish, wrong targets give the
//! expected squares), then trained on a 1-D problem with a known solution.

mod common;

use std::f64::consts::PI;

use kiln_core::train::ProgressMode;
use kiln_core::{Jet, MlpConfig, SecondOrder};
use kiln_pinn::geometry::BoundarySample;
use kiln_pinn::jet_algebra::sin;
use kiln_pinn::{Condition, Pinn, PinnTrainConfig, Points, Problem, train};

fn pts(xs: &[f64]) -> Points {
    Points::new(1, xs.to_vec()).unwrap()
}

fn right_end() -> BoundarySample {
    BoundarySample {
        points: pts(&[1.0]),
        normals: pts(&[1.0]),
    }
}

/// The loss terms of `conditions` for the field u = sin(πx) (the network is ignored).
fn terms_for_sine(conditions: Vec<Condition>) -> Vec<(String, f64)> {
    let device = common::device();
    let mut problem = Problem::new(1, 1, &device)
        .with_transform(|x: &Jet, _n: Jet| sin(&x.component(0).mul_scalar(PI)));
    for c in conditions {
        problem = problem.with_condition(c).unwrap();
    }
    let net = MlpConfig::new(vec![1, 4, 1]).init(&device).unwrap();
    let model = Pinn::new(net);
    problem
        .terms(&model)
        .unwrap()
        .into_iter()
        .map(|t| (t.name, kiln_core::tensor::scalar(t.value)))
        .collect()
}

#[test]
fn exact_fields_satisfy_every_condition_kind() {
    // u = sin(πx): u(0) = 0, u'(x) = π cos(πx), u'(1) = -π, u(1/2) = 1.
    let right = right_end();
    let terms = terms_for_sine(vec![
        Condition::dirichlet("dirichlet", pts(&[0.0, 1.0]), |_| 0.0).unwrap(),
        Condition::neumann("neumann", right.clone(), |_| -PI).unwrap(),
        Condition::robin("robin", right.clone(), 2.0, 0.5, |_| -0.5 * PI).unwrap(),
        Condition::initial_value("initial", pts(&[0.5]), |_| 1.0).unwrap(),
        Condition::initial_derivative("slope", pts(&[0.0, 0.25]), 0, |x| PI * (PI * x[0]).cos())
            .unwrap(),
        Condition::periodic("periodic", pts(&[0.0, 0.25]), pts(&[1.0, 0.75]), None).unwrap(),
        Condition::point_data("data", pts(&[0.5, 1.0 / 6.0]), vec![1.0, 0.5]).unwrap(),
    ]);
    for (name, value) in &terms {
        assert!(*value < 1e-10, "{name}: {value}");
    }
    // Wrong targets give the squared error the sign conventions predict.
    let terms = terms_for_sine(vec![
        // An inward normal flips the normal derivative: (π - (-π))² = 4π².
        Condition::neumann(
            "inward",
            BoundarySample {
                points: pts(&[1.0]),
                normals: pts(&[-1.0]),
            },
            |_| -PI,
        )
        .unwrap(),
        // Derivatives of u(0) and u(1) differ: (π - (-π))² = 4π².
        Condition::periodic("slopes", pts(&[0.0]), pts(&[1.0]), Some(0)).unwrap(),
        // 3u + u_n at x = 1 is -π; asking for 0 leaves π².
        Condition::robin("robin", right_end(), 3.0, 1.0, |_| 0.0).unwrap(),
    ]);
    let expected = [4.0 * PI * PI, 4.0 * PI * PI, PI * PI];
    for ((name, value), e) in terms.iter().zip(expected) {
        assert!((value - e).abs() < 1e-4 * e, "{name}: {value} vs {e}");
    }
}

#[test]
fn bad_conditions_are_errors() {
    let device = common::device();
    assert!(Condition::dirichlet("none", Points::empty(1), |_| 0.0).is_err());
    assert!(Condition::point_data("short", pts(&[0.0, 1.0]), vec![1.0]).is_err());
    assert!(Condition::robin("zero", right_end(), 0.0, 0.0, |_| 0.0).is_err());
    assert!(Condition::periodic("pairs", pts(&[0.0]), pts(&[1.0, 2.0]), None).is_err());
    assert!(Condition::initial_derivative("axis", pts(&[0.0]), 1, |_| 0.0).is_err());
    let c = Condition::dirichlet("c", pts(&[0.0]), |_| 0.0).unwrap();
    let problem = Problem::new(2, 1, &device);
    assert!(problem.clone().with_condition(c.clone()).is_err()); // 1-D points, 2 inputs
    let c2 = Condition::dirichlet("c2", Points::new(2, vec![0.0, 0.0]).unwrap(), |_| 0.0)
        .unwrap()
        .with_component(3);
    assert!(problem.with_condition(c2).is_err());
}

/// Trains a 1-D problem u'' = f with `conditions` and returns the relative L2 error against `exact`.
fn solve(
    f: fn(f64) -> f64,
    conditions: Vec<Condition>,
    exact: fn(f64) -> f64,
    reaction: f64,
) -> f64 {
    let device = common::device();
    device.seed(5);
    let xs: Vec<f64> = (0..48).map(|i| (i as f64 + 0.5) / 48.0).collect();
    // u'' + reaction·u = f(x).
    let mut problem = Problem::new(1, 1, &device)
        .with_residual(SecondOrder::Diagonal, move |fd| {
            let uxx = fd.u.d2(0, 0).expect("diagonal jet");
            let x = kiln_core::tensor::to_f64_vec(fd.x.clone());
            let rhs: Vec<f64> = x.iter().map(|&x| f(x)).collect();
            let rhs = kiln_core::tensor::from_f64(&rhs, [x.len(), 1], &fd.x.device())?;
            Ok(uxx + fd.u.value().mul_scalar(reaction) - rhs)
        })
        .with_collocation(pts(&xs))
        .unwrap();
    for c in conditions {
        problem = problem.with_condition(c).unwrap();
    }
    let net = MlpConfig::new(vec![1, 20, 20, 1]).init(&device).unwrap();
    let config = PinnTrainConfig::new(500, 5e-3)
        .with_lbfgs_max_iter(400)
        .with_progress(ProgressMode::Off);
    let out = train(&problem, Pinn::new(net), &device, &config).unwrap();
    common::error_on_unit_interval(&problem, &out.model, 100, exact)
}

fn minus_pi2_sin(x: f64) -> f64 {
    -PI * PI * (PI * x).sin()
}

#[test]
fn neumann_problem_is_solved() {
    // u = sin(πx): u(0) = 0, ∂u/∂n(1) = -π.
    let err = solve(
        minus_pi2_sin,
        vec![
            Condition::dirichlet("left", pts(&[0.0]), |_| 0.0).unwrap(),
            Condition::neumann("right", right_end(), |_| -PI).unwrap(),
        ],
        |x| (PI * x).sin(),
        0.0,
    );
    assert!(err < 1e-2, "relative L2 {err}");
}

#[test]
fn robin_problem_is_solved() {
    // u = sin(πx): u(0) = 0, u + ∂u/∂n = -π at x = 1.
    let err = solve(
        minus_pi2_sin,
        vec![
            Condition::dirichlet("left", pts(&[0.0]), |_| 0.0).unwrap(),
            Condition::robin("right", right_end(), 1.0, 1.0, |_| -PI).unwrap(),
        ],
        |x| (PI * x).sin(),
        0.0,
    );
    assert!(err < 1e-2, "relative L2 {err}");
}

#[test]
fn periodic_problem_with_point_data_is_solved() {
    // u = 1 + sin(2πx): periodic value and slope, pinned by one data point.
    let err = solve(
        |x| -4.0 * PI * PI * (2.0 * PI * x).sin(),
        vec![
            Condition::periodic("u", pts(&[0.0]), pts(&[1.0]), None).unwrap(),
            Condition::periodic("u_x", pts(&[0.0]), pts(&[1.0]), Some(0)).unwrap(),
            Condition::point_data("pin", pts(&[0.25]), vec![2.0]).unwrap(),
        ],
        |x| 1.0 + (2.0 * PI * x).sin(),
        0.0,
    );
    assert!(err < 1e-2, "relative L2 {err}");
}

#[test]
fn initial_value_problem_is_solved() {
    // u'' + π² u = 0 in time with u(0) = 1, u'(0) = 0: u = cos(πt).
    let err = solve(
        |_| 0.0,
        vec![
            Condition::initial_value("u0", pts(&[0.0]), |_| 1.0).unwrap(),
            Condition::initial_derivative("v0", pts(&[0.0]), 0, |_| 0.0).unwrap(),
        ],
        |t| (PI * t).cos(),
        PI * PI,
    );
    assert!(err < 1e-2, "relative L2 {err}");
}

/// The per-point residuals behind every term square and average to the term itself, also on a
/// subset of rows, for each condition kind and the PDE residual.
#[test]
fn per_point_residuals_make_up_the_terms() {
    let device = common::device();
    let right = right_end();
    let mut problem = Problem::new(1, 1, &device)
        .with_residual(SecondOrder::Diagonal, |f| {
            Ok(f.u.d2(0, 0).unwrap() + f.u.value())
        })
        .with_collocation(pts(&[0.1, 0.4, 0.7, 0.9]))
        .unwrap();
    for c in [
        Condition::dirichlet("dirichlet", pts(&[0.0, 1.0, 0.3]), |x| x[0]).unwrap(),
        Condition::neumann("neumann", right.clone(), |_| 2.0).unwrap(),
        Condition::robin("robin", right, 2.0, 0.5, |_| 1.0).unwrap(),
        Condition::initial_derivative("slope", pts(&[0.0, 0.25]), 0, |x| x[0]).unwrap(),
        Condition::periodic("periodic", pts(&[0.0, 0.25]), pts(&[1.0, 0.75]), None).unwrap(),
    ] {
        problem = problem.with_condition(c).unwrap();
    }
    let model = Pinn::new(MlpConfig::new(vec![1, 6, 1]).init(&device).unwrap());
    let terms = problem.terms(&model).unwrap();
    assert!(problem.has_residual());
    assert_eq!(problem.term_sizes(), vec![4, 3, 1, 1, 2, 2]);
    for (k, term) in terms.iter().enumerate() {
        let all = kiln_core::tensor::to_f64_vec(problem.term_residual(&model, k, None).unwrap());
        let mean = all.iter().map(|r| r * r).sum::<f64>() / all.len() as f64;
        let value = kiln_core::tensor::scalar(term.value.clone());
        assert!(
            (mean - value).abs() <= 1e-5 * value.max(1e-6),
            "{}: {mean} vs {value}",
            term.name
        );
        let last = all.len() - 1;
        let one =
            kiln_core::tensor::to_f64_vec(problem.term_residual(&model, k, Some(&[last])).unwrap());
        assert!(
            (one[0] - all[last]).abs() < 1e-6,
            "{}: row {last}",
            term.name
        );
    }
    assert!(problem.term_residual(&model, 6, None).is_err());
    assert!(problem.term_residual(&model, 1, Some(&[3])).is_err());
}
