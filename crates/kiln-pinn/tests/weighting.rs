//! Loss weighting against closed forms: gradient-norm ratios and causal chunk weights.

mod common;

use kiln_core::MlpConfig;
use kiln_core::SecondOrder;
use kiln_pinn::weighting::{CausalWeighting, GradNormBalancer};
use kiln_pinn::{Phase, Pinn, Points, Problem};

#[test]
fn grad_norm_balancing_equalises_a_scaled_copy() {
    // Term b is term a times c² (its residual is c times a's), so ‖∇L_b‖ = c²‖∇L_a‖ and the
    // balanced weights are λ_a = 1 + c², λ_b = (1 + c²)/c².
    let device = common::device();
    device.seed(3);
    let c = 3.0;
    let problem = common::scaled_copy_problem(&device, c);
    let model = Pinn::new(MlpConfig::new(vec![1, 8, 1]).init(&device).unwrap());
    let mut balancer = GradNormBalancer::new(10, 0.0).unwrap();
    let loss = balancer.loss(&problem, &model, Phase::Adam).unwrap();
    let w = balancer.weights().unwrap().to_vec();
    let expected = [1.0 + c * c, (1.0 + c * c) / (c * c)];
    for (got, e) in w.iter().zip(expected) {
        assert!(
            (got / e - 1.0).abs() < 1e-4,
            "weights {w:?}, expected {expected:?}"
        );
    }
    assert!(loss.terms.iter().any(|(n, _)| n == "weight_b"));
    // L-BFGS calls leave the weights alone.
    let before = balancer.weights().unwrap().to_vec();
    balancer.loss(&problem, &model, Phase::Lbfgs).unwrap();
    assert_eq!(balancer.weights().unwrap(), before.as_slice());
    assert!(GradNormBalancer::new(0, 0.5).is_err());
}

#[test]
fn causal_weights_follow_the_cumulative_chunk_losses() {
    // Residual r(x, t) = t: chunk losses are means of t² and w_i = exp(-ε Σ_{k<i} L_k).
    let device = common::device();
    let (chunks, eps) = (4usize, 2.0);
    let mut data = Vec::new();
    for i in 0..40 {
        for j in 0..5 {
            data.extend([j as f64 / 4.0, (i as f64 + 0.5) / 40.0]);
        }
    }
    let pts = Points::new(2, data).unwrap();
    let problem = Problem::new(2, 1, &device)
        .with_residual(SecondOrder::None, |f| {
            Ok(f.x.clone().narrow(1, 1, 1) + f.u.value().mul_scalar(0.0))
        })
        .with_collocation(pts.clone())
        .unwrap();
    let model = Pinn::new(MlpConfig::new(vec![2, 8, 1]).init(&device).unwrap());
    let mut causal = CausalWeighting::new(&problem, 1, chunks, eps).unwrap();
    let w = causal.weights(&problem, &model).unwrap();
    // Host-side oracle: the t range [0.0125, 0.9875] split in four equal slices.
    let t: Vec<f64> = pts.column(1);
    let (lo, hi) = (0.0125, 0.9875);
    let mut sums = vec![(0.0, 0usize); chunks];
    for &ti in &t {
        let k = (((ti - lo) / (hi - lo) * chunks as f64) as usize).min(chunks - 1);
        sums[k].0 += ti * ti;
        sums[k].1 += 1;
    }
    let mut acc = 0.0;
    for (k, (s, n)) in sums.iter().enumerate() {
        let expected = (-eps * acc).exp();
        assert!(
            (w[k] / expected - 1.0).abs() < 1e-5,
            "chunk {k}: {} vs {expected}",
            w[k]
        );
        acc += s / *n as f64;
    }
    assert_eq!(w[0], 1.0);
    let loss = causal.loss(&problem, &model, Phase::Adam).unwrap();
    assert!(loss.terms.iter().any(|(n, _)| n == "causal_min_weight"));
    assert!(CausalWeighting::new(&problem, 2, 4, 1.0).is_err());
    assert!(CausalWeighting::new(&problem, 1, 1000, 1.0).is_err()); // empty chunks
}

/// Under L-BFGS the causal weights stay at their values at the phase's first evaluation, even
/// when the model changes; an Adam call or `unfreeze` lets them follow the model again.
#[test]
fn causal_weights_are_frozen_under_lbfgs() {
    let device = common::device();
    let mut data = Vec::new();
    for i in 0..20 {
        for j in 0..3 {
            data.extend([j as f64 / 2.0, (i as f64 + 0.5) / 20.0]);
        }
    }
    let problem = Problem::new(2, 1, &device)
        .with_residual(SecondOrder::None, |f| Ok(f.u.value()))
        .with_collocation(Points::new(2, data).unwrap())
        .unwrap();
    let mut causal = CausalWeighting::new(&problem, 1, 4, 5.0).unwrap();
    let model = |bias: f64| {
        let mut net = MlpConfig::new(vec![2, 1]).init(&device).unwrap();
        net.layers[0].weight = burn::module::Param::from_tensor(
            kiln_core::tensor::from_f64(&[0.0, 1.0], [2, 1], &device).unwrap(),
        );
        net.layers[0].bias = Some(burn::module::Param::from_tensor(
            kiln_core::tensor::from_f64(&[bias], [1, 1], &device)
                .unwrap()
                .reshape([1]),
        ));
        Pinn::new(net)
    };
    let min_weight = |loss: kiln_core::train::Loss| {
        let w = loss
            .terms
            .iter()
            .find(|(n, _)| n == "causal_min_weight")
            .unwrap();
        kiln_core::tensor::scalar(w.1.clone())
    };
    // u = t + b: larger b, larger early chunk losses, smaller later weights.
    let (a, b) = (model(0.0), model(1.0));
    let fresh_a = min_weight(causal.loss(&problem, &a, Phase::Adam).unwrap());
    let fresh_b = min_weight(causal.loss(&problem, &b, Phase::Adam).unwrap());
    assert!(fresh_b < 0.5 * fresh_a, "{fresh_a} vs {fresh_b}");
    let first = min_weight(causal.loss(&problem, &a, Phase::Lbfgs).unwrap());
    let frozen = min_weight(causal.loss(&problem, &b, Phase::Lbfgs).unwrap());
    assert_eq!(first, fresh_a);
    assert_eq!(frozen, fresh_a);
    causal.unfreeze();
    let refreshed = min_weight(causal.loss(&problem, &b, Phase::Lbfgs).unwrap());
    assert_eq!(refreshed, fresh_b);
}
