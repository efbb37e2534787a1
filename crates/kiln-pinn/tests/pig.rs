//! Physics-informed Gaussians: exact jets against finite differences, gradients that reach the
//! means, and a high-frequency Poisson problem solved to 1e-2.

mod common;

use std::f64::consts::PI;

use burn::tensor::Device;
use kiln_core::tensor::to_f64_vec;
use kiln_core::train::ProgressMode;
use kiln_core::{Jet, SecondOrder};
use kiln_pinn::{
    Condition, JetNetwork, Pig, PigConfig, Pinn, PinnTrainConfig, Points, Problem, train,
};

fn at(device: &Device, a: f64, b: f64) -> burn::tensor::Tensor<2> {
    Points::new(2, vec![a, b])
        .unwrap()
        .to_tensor(device)
        .unwrap()
}

/// The jet of a two-input, two-output field at `p` against central differences of `forward`.
fn check_jet(net: &Pig, device: &Device, p: [f64; 2], order: SecondOrder) {
    let jet = net.forward_jet(Jet::input(at(device, p[0], p[1]), order));
    let f = |a: f64, b: f64| to_f64_vec(net.forward(at(device, a, b)));
    let f0 = f(p[0], p[1]);
    for (a, b) in to_f64_vec(jet.value()).iter().zip(&f0) {
        assert!((a - b).abs() < 1e-5 * (1.0 + b.abs()), "value {a} vs {b}");
    }
    let h = 1e-2;
    let (xp, xm) = (f(p[0] + h, p[1]), f(p[0] - h, p[1]));
    let (xhp, xhm) = (f(p[0] + h / 2.0, p[1]), f(p[0] - h / 2.0, p[1]));
    let (yp, ym) = (f(p[0], p[1] + h), f(p[0], p[1] - h));
    let (yhp, yhm) = (f(p[0], p[1] + h / 2.0), f(p[0], p[1] - h / 2.0));
    let dx = to_f64_vec(jet.d(0));
    let dy = to_f64_vec(jet.d(1));
    let dxx = to_f64_vec(jet.d2(0, 0).unwrap());
    let dyy = to_f64_vec(jet.d2(1, 1).unwrap());
    let corners = [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)]
        .map(|(sa, sb)| f(p[0] + sa * h, p[1] + sb * h));
    for k in 0..2 {
        // Richardson-extrapolated central differences (error O(h⁴)).
        let rich =
            |p: f64, m: f64, hp: f64, hm: f64| (4.0 * (hp - hm) / h - (p - m) / (2.0 * h)) / 3.0;
        let fd_dx = rich(xp[k], xm[k], xhp[k], xhm[k]);
        let fd_dy = rich(yp[k], ym[k], yhp[k], yhm[k]);
        let fd_dxx = (xp[k] - 2.0 * f0[k] + xm[k]) / (h * h);
        let fd_dyy = (yp[k] - 2.0 * f0[k] + ym[k]) / (h * h);
        let scale = 1.0 + fd_dxx.abs().max(fd_dyy.abs());
        let close = |what: &str, got: f64, fd: f64, tol: f64| {
            assert!(
                (got - fd).abs() < tol,
                "{order:?} output {k}: {what} {got} vs finite differences {fd}"
            );
        };
        close("u_x", dx[k], fd_dx, 2e-3 * (1.0 + fd_dx.abs()));
        close("u_y", dy[k], fd_dy, 2e-3 * (1.0 + fd_dy.abs()));
        close("u_xx", dxx[k], fd_dxx, 2e-2 * scale);
        close("u_yy", dyy[k], fd_dyy, 2e-2 * scale);
        if order == SecondOrder::Full {
            let [pp, pm, mp, mm] = &corners;
            let fd_dxy = (pp[k] - pm[k] - mp[k] + mm[k]) / (4.0 * h * h);
            let dxy = to_f64_vec(jet.d2(0, 1).unwrap());
            close("u_xy", dxy[k], fd_dxy, 2e-2 * scale);
        } else {
            assert!(jet.d2(0, 1).is_none());
        }
    }
}

#[test]
fn pig_jet_matches_finite_differences() {
    let device = common::device().without_autodiff();
    device.seed(11);
    let net = PigConfig::new(2, 2, 24)
        .with_sigma(0.4)
        .with_bounds(Some(vec![[-1.0, 1.0], [-1.0, 1.0]]))
        .init(&device)
        .unwrap();
    assert_eq!(
        (net.input_size(), net.output_size(), net.gaussians()),
        (2, 2, 24)
    );
    for p in [[0.3, -0.4], [-0.7, 0.1]] {
        check_jet(&net, &device, p, SecondOrder::Full);
        check_jet(&net, &device, p, SecondOrder::Diagonal);
    }
    // Through a non-identity input jet: u(2s, s²) by the chain rule equals the field's jet of
    // (x, y) = (2s, s²) composed by hand: d/ds = 2 u_x + 2s u_y,
    // d²/ds² = 4 u_xx + 8s u_xy + 4s² u_yy + 2 u_y.
    let s = 0.35;
    let line = Jet::input(
        Points::new(1, vec![s]).unwrap().to_tensor(&device).unwrap(),
        SecondOrder::Full,
    );
    let mapped = Jet::concat(vec![
        line.clone().mul_scalar(2.0),
        kiln_pinn::jet_algebra::mul(&line, &line).unwrap(),
    ])
    .unwrap();
    let along = net.forward_jet(mapped);
    let u = net.forward_jet(Jet::input(at(&device, 2.0 * s, s * s), SecondOrder::Full));
    let v = |t: burn::tensor::Tensor<2>| to_f64_vec(t);
    let (ux, uy) = (v(u.d(0)), v(u.d(1)));
    let (uxx, uxy, uyy) = (
        v(u.d2(0, 0).unwrap()),
        v(u.d2(0, 1).unwrap()),
        v(u.d2(1, 1).unwrap()),
    );
    let (ds, dss) = (v(along.d(0)), v(along.d2(0, 0).unwrap()));
    for k in 0..2 {
        let first = 2.0 * ux[k] + 2.0 * s * uy[k];
        let second = 4.0 * uxx[k] + 8.0 * s * uxy[k] + 4.0 * s * s * uyy[k] + 2.0 * uy[k];
        assert!(
            (ds[k] - first).abs() < 1e-4 * (1.0 + first.abs()),
            "{} vs {first}",
            ds[k]
        );
        assert!(
            (dss[k] - second).abs() < 1e-4 * (1.0 + second.abs()),
            "{} vs {second}",
            dss[k]
        );
    }
}

#[test]
fn bad_pig_configs_are_errors() {
    let device = common::device().without_autodiff();
    assert!(PigConfig::new(2, 1, 0).init(&device).is_err());
    assert!(
        PigConfig::new(2, 1, 8)
            .with_sigma(0.0)
            .init(&device)
            .is_err()
    );
    assert!(
        PigConfig::new(2, 1, 8)
            .with_bounds(Some(vec![[0.0, 1.0]]))
            .init(&device)
            .is_err()
    );
    assert!(
        PigConfig::new(1, 1, 8)
            .with_bounds(Some(vec![[1.0, 0.0]]))
            .init(&device)
            .is_err()
    );
    assert!(
        PigConfig::new(1, 1, 8)
            .with_feature_std(-1.0)
            .init(&device)
            .is_err()
    );
}

#[test]
fn second_derivative_losses_reach_means_and_widths() {
    // A loss built from u_xx must differentiate with respect to every Gaussian parameter.
    let device = common::device();
    device.seed(12);
    let net = PigConfig::new(2, 1, 6)
        .with_sigma(0.3)
        .init(&device)
        .unwrap();
    let x = Points::new(2, vec![0.2, 0.3, 0.6, 0.7, 0.5, 0.1])
        .unwrap()
        .to_tensor(&device)
        .unwrap();
    let jet = net.forward_jet(Jet::input(x, SecondOrder::Diagonal));
    let loss = jet.laplacian().unwrap().square().mean();
    let grads = loss.backward();
    for (name, p) in [
        ("means", &net.means),
        ("log_scales", &net.log_scales),
        ("features", &net.features),
    ] {
        let g = to_f64_vec(p.val().grad(&grads).expect("a gradient"));
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(
            norm > 1e-6 && norm.is_finite(),
            "{name}: gradient norm {norm}"
        );
    }
}

#[test]
fn pig_solves_high_frequency_poisson() {
    // u'' = -(4π)² sin(4πx) on [0, 1], u(0) = u(1) = 0: u = sin(4πx). The residual is divided
    // by (4π)² so that it and the boundary term start on one scale. 48 Gaussians of width 0.05
    // reach ~1e-3 in about 2 s (release, flex); seeds 1..=5 gave 4e-4..1.4e-3.
    let device = common::device();
    device.seed(21);
    let k = 4.0 * PI;
    let xs: Vec<f64> = (0..128).map(|i| (i as f64 + 0.5) / 128.0).collect();
    let problem = Problem::new(1, 1, &device)
        .with_residual(SecondOrder::Diagonal, move |f| {
            let source = f.x.clone().mul_scalar(k).sin().mul_scalar(k * k);
            Ok((f.u.d2(0, 0).unwrap() + source).mul_scalar(1.0 / (k * k)))
        })
        .with_collocation(Points::new(1, xs).unwrap())
        .unwrap()
        .with_condition(
            Condition::dirichlet("ends", Points::new(1, vec![0.0, 1.0]).unwrap(), |_| 0.0).unwrap(),
        )
        .unwrap();
    let net = PigConfig::new(1, 1, 48)
        .with_sigma(0.05)
        .with_feature_std(0.5)
        .with_bounds(Some(vec![[0.0, 1.0]]))
        .init(&device)
        .unwrap();
    let means_before = to_f64_vec(net.means.val());
    let config = PinnTrainConfig::new(1000, 1e-2)
        .with_lbfgs_max_iter(500)
        .with_progress(ProgressMode::Off);
    let out = train(&problem, Pinn::new(net), &device, &config).unwrap();
    let means_after = to_f64_vec(out.model.net.means.val());
    let moved = means_before
        .iter()
        .zip(&means_after)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        moved > 1e-3,
        "training should move the means (moved {moved:.2e})"
    );
    let err = common::error_on_unit_interval(&problem, &out.model, 200, |x| (k * x).sin());
    eprintln!(
        "PIG sin(4πx): relative L2 {err:.3e}, Adam {:.2} s, L-BFGS {:.2} s ({} evaluations), means moved up to {moved:.3}",
        out.adam_seconds, out.lbfgs_seconds, out.lbfgs_evaluations
    );
    assert!(err < 1e-2, "relative L2 {err}");
}
