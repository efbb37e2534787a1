//! Residual-based adaptive refinement and periodic resampling.

mod common;

use std::sync::Arc;

use kiln_core::{MlpConfig, SecondOrder};
use kiln_pinn::adaptive::{PeriodicResampler, rar_refine, residual_magnitudes};
use kiln_pinn::geometry::Hyperbox;
use kiln_pinn::{Phase, Pinn, Points, Problem, Sampler};

/// A problem whose residual is r(x) = (x - 0.7)·10 + 0·u, so |r| peaks at the ends away from 0.7.
fn problem(device: &burn::tensor::Device) -> Problem {
    Problem::new(1, 1, device)
        .with_residual(SecondOrder::None, |f| {
            Ok((f.x.clone().sub_scalar(0.7)).mul_scalar(10.0) + f.u.value().mul_scalar(0.0))
        })
        .with_collocation(Points::new(1, vec![0.5]).unwrap())
        .unwrap()
}

#[test]
fn rar_adds_the_worst_candidates() {
    let device = common::device();
    let mut p = problem(&device);
    let model = Pinn::new(MlpConfig::new(vec![1, 4, 1]).init(&device).unwrap());
    let candidates = Points::new(1, (0..=10).map(|i| i as f64 / 10.0).collect()).unwrap();
    let mags = residual_magnitudes(&p, &model, &candidates).unwrap();
    assert!((mags[0] - 7.0).abs() < 1e-5 && mags[7] < 1e-5);
    let chosen = rar_refine(&mut p, &model, &candidates, 3).unwrap();
    // |x - 0.7| is largest at 0.0, 0.1, 0.2.
    let mut xs = chosen.column(0);
    xs.sort_by(f64::total_cmp);
    assert!(
        xs.iter()
            .zip([0.0, 0.1, 0.2])
            .all(|(a, b)| (a - b).abs() < 1e-12),
        "{xs:?}"
    );
    assert_eq!(p.collocation().unwrap().len(), 4);
    assert!(rar_refine(&mut p, &model, &candidates, 20).is_err());
}

#[test]
fn resampling_redraws_under_adam_and_holds_under_lbfgs() {
    let device = common::device();
    let p = problem(&device);
    let model = Pinn::new(MlpConfig::new(vec![1, 4, 1]).init(&device).unwrap());
    let domain = Arc::new(Hyperbox::interval(0.0, 1.0).unwrap());
    let mut resampler = PeriodicResampler::new(domain, 32, Sampler::Uniform, 2, 7).unwrap();
    let snapshot =
        |r: &PeriodicResampler| kiln_core::tensor::to_f64_vec(r.current().unwrap().clone());
    resampler.loss(&p, &model, Phase::Adam).unwrap();
    let first = snapshot(&resampler);
    assert_eq!(first.len(), 32);
    resampler.loss(&p, &model, Phase::Adam).unwrap();
    assert_eq!(snapshot(&resampler), first, "kept for `every` = 2 steps");
    resampler.loss(&p, &model, Phase::Adam).unwrap();
    let second = snapshot(&resampler);
    assert_ne!(second, first, "redrawn after two steps");
    for _ in 0..3 {
        resampler.loss(&p, &model, Phase::Lbfgs).unwrap();
    }
    assert_eq!(snapshot(&resampler), second, "fixed under L-BFGS");
    // The loss uses the resampled points: the mean of (10(x - 0.7))² over them.
    let loss = resampler.loss(&p, &model, Phase::Lbfgs).unwrap();
    let expected: f64 = second
        .iter()
        .map(|x| (10.0 * (x - 0.7)).powi(2))
        .sum::<f64>()
        / 32.0;
    let got = kiln_core::tensor::scalar(loss.total);
    assert!((got / expected - 1.0).abs() < 1e-4, "{got} vs {expected}");
}
