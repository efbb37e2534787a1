//! NTK loss weights against closed forms: a model linear in its parameters has per-point
//! parameter gradients known on the host, so the exact estimator, the Rademacher estimator's
//! mean and variance, and the weights of a scaled copy all have oracles.

mod common;

use burn::tensor::Device;
use kiln_core::jet::FourierFeaturesConfig;
use kiln_core::{Mlp, MlpConfig, SecondOrder};
use kiln_pinn::ntk::{NtkEstimator, NtkWeighting};
use kiln_pinn::{Condition, Phase, Pinn, Points, Problem};

const FREQUENCIES: usize = 3;

/// u(x) = Σₖ aₖ sin(ωₖx) + cₖ cos(ωₖx) + d x + b: linear in (a, c, d, b), frequencies fixed.
fn linear_model(device: &Device) -> (Pinn<Mlp>, Vec<f64>) {
    let net = MlpConfig::new(vec![1, 1])
        .with_fourier(Some(
            FourierFeaturesConfig::new(1, FREQUENCIES)
                .with_sigma(0.3)
                .with_include_input(true),
        ))
        .init(device)
        .unwrap();
    let b = kiln_core::tensor::to_f64_vec(net.fourier.as_ref().unwrap().frequencies.val());
    let omega = b.iter().map(|b| 2.0 * std::f64::consts::PI * b).collect();
    (Pinn::new(net), omega)
}

/// ∇θ r(x) for r = u_xx - x u: -(ω²+x) sin(ωx), -(ω²+x) cos(ωx), -x², -x.
fn residual_gradient(omega: &[f64], x: f64) -> Vec<f64> {
    let mut g: Vec<f64> = omega.iter().map(|w| -(w * w + x) * (w * x).sin()).collect();
    g.extend(omega.iter().map(|w| -(w * w + x) * (w * x).cos()));
    g.extend([-x * x, -x]);
    g
}

/// ∇θ u(x): sin(ωx), cos(ωx), x, 1.
fn value_gradient(omega: &[f64], x: f64) -> Vec<f64> {
    let mut g: Vec<f64> = omega.iter().map(|w| (w * x).sin()).collect();
    g.extend(omega.iter().map(|w| (w * x).cos()));
    g.extend([x, 1.0]);
    g
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn problem(device: &Device, xs: &[f64], data: &[f64]) -> Problem {
    Problem::new(1, 1, device)
        .with_residual(SecondOrder::Diagonal, |f| {
            Ok(f.u.d2(0, 0).unwrap() - f.x.clone() * f.u.value())
        })
        .with_collocation(Points::new(1, xs.to_vec()).unwrap())
        .unwrap()
        .with_condition(
            Condition::dirichlet("data", Points::new(1, data.to_vec()).unwrap(), |x| x[0]).unwrap(),
        )
        .unwrap()
}

fn grid(n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
        .collect()
}

#[test]
fn exact_traces_match_the_closed_form() {
    let device = common::device();
    device.seed(5);
    let (model, omega) = linear_model(&device);
    let (xs, data) = (grid(12, -1.0, 2.0), grid(5, 0.0, 1.0));
    let problem = problem(&device, &xs, &data);
    let mean = |g: &dyn Fn(f64) -> Vec<f64>, pts: &[f64]| {
        pts.iter().map(|&x| dot(&g(x), &g(x))).sum::<f64>() / pts.len() as f64
    };
    let expected = [
        mean(&|x| residual_gradient(&omega, x), &xs),
        mean(&|x| value_gradient(&omega, x), &data),
    ];
    let mut ntk = NtkWeighting::new(1, 0.0, NtkEstimator::Exact { max_points: 64 }, 0).unwrap();
    let traces = ntk.traces(&problem, &model).unwrap();
    for (t, e) in traces.iter().zip(expected) {
        assert!((t / e - 1.0).abs() < 1e-4, "trace {t} vs closed form {e}");
    }
    // A subsample of 4 points estimates the mean from within the per-point range.
    let per_point: Vec<f64> = xs
        .iter()
        .map(|&x| dot(&residual_gradient(&omega, x), &residual_gradient(&omega, x)))
        .collect();
    let (lo, hi) = per_point
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &t| (a.min(t), b.max(t)));
    assert!(
        hi > 1.5 * lo,
        "the per-point traces should differ: {per_point:?}"
    );
    let mut sub = NtkWeighting::new(1, 0.0, NtkEstimator::Exact { max_points: 4 }, 1).unwrap();
    let t = sub.traces(&problem, &model).unwrap()[0];
    assert!(
        t >= lo * (1.0 - 1e-4) && t <= hi * (1.0 + 1e-4),
        "{t} outside [{lo}, {hi}]"
    );
    // The weights follow: λᵢ = Σⱼ Tⱼ / Tᵢ.
    ntk.update(&problem, &model).unwrap();
    let w = ntk.weights().unwrap();
    let total = expected[0] + expected[1];
    for (got, e) in w.iter().zip(expected) {
        assert!((got / (total / e) - 1.0).abs() < 1e-4, "weights {w:?}");
    }
}

#[test]
fn rademacher_probes_are_unbiased_with_the_predicted_variance() {
    // One probe S = ‖Σₚ εₚ gₚ‖² has E[S] = Σₚ ‖gₚ‖² = tr G and Var[S] = 2 Σ_{p≠q} G_pq² with
    // G_pq = gₚ·g_q; the estimator divides by the point count n.
    let device = common::device();
    device.seed(6);
    let (model, omega) = linear_model(&device);
    let xs = grid(10, -1.0, 2.0);
    let problem = problem(&device, &xs, &[0.5]);
    let g: Vec<Vec<f64>> = xs.iter().map(|&x| residual_gradient(&omega, x)).collect();
    let n = xs.len() as f64;
    let mean = g.iter().map(|a| dot(a, a)).sum::<f64>() / n;
    let mut off = 0.0;
    for (p, a) in g.iter().enumerate() {
        for (q, b) in g.iter().enumerate() {
            if p != q {
                off += dot(a, b).powi(2);
            }
        }
    }
    let variance = 2.0 * off / (n * n);
    let mut ntk = NtkWeighting::new(1, 0.0, NtkEstimator::Rademacher { probes: 1 }, 42).unwrap();
    let probes = 400;
    let samples: Vec<f64> = (0..probes)
        .map(|_| ntk.traces(&problem, &model).unwrap()[0])
        .collect();
    let m = samples.iter().sum::<f64>() / probes as f64;
    let v = samples.iter().map(|s| (s - m).powi(2)).sum::<f64>() / (probes - 1) as f64;
    let tolerance = 4.0 * (variance / probes as f64).sqrt();
    eprintln!(
        "Rademacher: mean {m:.4} vs exact {mean:.4} (4σ {tolerance:.4}); variance {v:.4} vs {variance:.4}"
    );
    assert!(
        variance > 1e-3 * mean * mean,
        "the oracle should have a real spread: variance {variance}, mean {mean}"
    );
    assert!(
        (m - mean).abs() < tolerance,
        "mean of {probes} probes {m} vs exact {mean} (4σ = {tolerance})"
    );
    assert!(
        (0.6..1.6).contains(&(v / variance)),
        "probe variance {v} vs predicted {variance}"
    );
    // Averaging inside the estimator: 400 probes in one call land within the same band.
    let mut many = NtkWeighting::new(1, 0.0, NtkEstimator::Rademacher { probes }, 43).unwrap();
    let t = many.traces(&problem, &model).unwrap()[0];
    assert!((t - mean).abs() < tolerance, "{t} vs {mean}");
}

#[test]
fn ntk_weights_balance_a_scaled_copy_and_freeze_under_lbfgs() {
    // Term b's residual is c times term a's, so T_b = c² T_a: λ_a = 1 + c², λ_b = (1 + c²)/c².
    let device = common::device();
    device.seed(3);
    let c = 3.0;
    let problem = common::scaled_copy_problem(&device, c);
    let model = Pinn::new(MlpConfig::new(vec![1, 8, 1]).init(&device).unwrap());
    let mut ntk = NtkWeighting::new(10, 0.0, NtkEstimator::Exact { max_points: 8 }, 0).unwrap();
    let loss = ntk.loss(&problem, &model, Phase::Adam).unwrap();
    let w = ntk.weights().unwrap().to_vec();
    let expected = [1.0 + c * c, (1.0 + c * c) / (c * c)];
    for (got, e) in w.iter().zip(expected) {
        assert!(
            (got / e - 1.0).abs() < 1e-4,
            "weights {w:?}, expected {expected:?}"
        );
    }
    assert!(loss.terms.iter().any(|(n, _)| n == "ntk_weight_b"));
    let before = ntk.weights().unwrap().to_vec();
    ntk.loss(&problem, &model, Phase::Lbfgs).unwrap();
    assert_eq!(ntk.weights().unwrap(), before.as_slice());
    assert!(NtkWeighting::new(0, 0.0, NtkEstimator::Exact { max_points: 8 }, 0).is_err());
    assert!(NtkWeighting::new(1, 1.0, NtkEstimator::Exact { max_points: 8 }, 0).is_err());
    assert!(NtkWeighting::new(1, 0.0, NtkEstimator::Exact { max_points: 0 }, 0).is_err());
    assert!(NtkWeighting::new(1, 0.0, NtkEstimator::Rademacher { probes: 0 }, 0).is_err());
}

#[test]
fn ntk_weighted_training_solves_poisson() {
    // u'' = -π² sin(πx), u(0) = u(1) = 0, with NTK weights refreshed every 100 Adam steps
    // (Rademacher probes) and frozen under L-BFGS.
    use std::f64::consts::PI;

    use kiln_core::train::ProgressMode;
    use kiln_pinn::{PinnTrainConfig, train_with};

    let device = common::device();
    device.seed(8);
    let problem = common::sine_poisson(&device);
    let model = Pinn::new(MlpConfig::new(vec![1, 20, 20, 1]).init(&device).unwrap());
    let mut ntk = NtkWeighting::new(100, 0.5, NtkEstimator::Rademacher { probes: 4 }, 7).unwrap();
    let config = PinnTrainConfig::new(500, 5e-3)
        .with_lbfgs_max_iter(300)
        .with_progress(ProgressMode::Off);
    let out = train_with(&problem, model, &device, &config, |p, m, phase| {
        ntk.loss(p, m, phase)
    })
    .unwrap();
    let w = ntk.weights().unwrap().to_vec();
    let traces = ntk.last_traces().unwrap().to_vec();
    // The residual's kernel (built from u_xx) is larger than the boundary's, so the boundary is
    // weighted up.
    assert!(w[1] > w[0], "weights {w:?} from traces {traces:?}");
    let err = common::error_on_unit_interval(&problem, &out.model, 100, |x| (PI * x).sin());
    eprintln!("NTK-weighted Poisson: relative L2 {err:.3e}, weights {w:?}, traces {traces:?}");
    assert!(err < 1e-2, "relative L2 {err}");
}
