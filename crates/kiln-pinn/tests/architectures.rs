//! The modified MLP and the random-weight-factorised MLP: their jets match finite differences of
//! their forward passes, and they train.

mod common;

use std::f64::consts::PI;

use kiln_core::jet::FourierFeaturesConfig;
use kiln_core::train::ProgressMode;
use kiln_core::{Jet, SecondOrder};
use kiln_pinn::{
    JetNetwork, ModifiedMlpConfig, MultiScaleFourierMlpConfig, Pinn, PinnTrainConfig, Points,
    RwfMlpConfig, train,
};

/// Checks a two-output network's jet at one point against central differences of `forward`.
fn check_jet<N: JetNetwork>(net: &N, device: &burn::tensor::Device) {
    let p = [0.3, -0.4];
    let x = |a: f64, b: f64| {
        Points::new(2, vec![a, b])
            .unwrap()
            .to_tensor(device)
            .unwrap()
    };
    let jet = net.forward_jet(Jet::input(x(p[0], p[1]), SecondOrder::Full));
    let value = kiln_core::tensor::to_f64_vec(jet.value());
    let plain = kiln_core::tensor::to_f64_vec(net.forward(x(p[0], p[1])));
    for (a, b) in value.iter().zip(&plain) {
        assert!((a - b).abs() < 1e-6, "value {a} vs forward {b}");
    }
    let h = 1e-2;
    let f = |a: f64, b: f64| kiln_core::tensor::to_f64_vec(net.forward(x(a, b)));
    let (fx_p, fx_m) = (f(p[0] + h, p[1]), f(p[0] - h, p[1]));
    let (fh_p, fh_m) = (f(p[0] + h / 2.0, p[1]), f(p[0] - h / 2.0, p[1]));
    let (fy_p, fy_m) = (f(p[0], p[1] + h), f(p[0], p[1] - h));
    let f0 = f(p[0], p[1]);
    let dx = kiln_core::tensor::to_f64_vec(jet.d(0));
    let dxx = kiln_core::tensor::to_f64_vec(jet.d2(0, 0).unwrap());
    let dyy = kiln_core::tensor::to_f64_vec(jet.d2(1, 1).unwrap());
    let dxy = kiln_core::tensor::to_f64_vec(jet.d2(0, 1).unwrap());
    let fxy = |sa: f64, sb: f64| f(p[0] + sa * h, p[1] + sb * h);
    let (pp, pm, mp, mm) = (
        fxy(1.0, 1.0),
        fxy(1.0, -1.0),
        fxy(-1.0, 1.0),
        fxy(-1.0, -1.0),
    );
    for k in 0..2 {
        // Richardson extrapolation of the central difference (error O(h⁴)).
        let coarse = (fx_p[k] - fx_m[k]) / (2.0 * h);
        let fine = (fh_p[k] - fh_m[k]) / h;
        let fd_dx = (4.0 * fine - coarse) / 3.0;
        let fd_dxx = (fx_p[k] - 2.0 * f0[k] + fx_m[k]) / (h * h);
        let fd_dyy = (fy_p[k] - 2.0 * f0[k] + fy_m[k]) / (h * h);
        let fd_dxy = (pp[k] - pm[k] - mp[k] + mm[k]) / (4.0 * h * h);
        let scale = 1.0 + fd_dxx.abs().max(fd_dyy.abs());
        assert!(
            (dx[k] - fd_dx).abs() < 2e-3 * (1.0 + fd_dx.abs()),
            "u_x {} vs {fd_dx}",
            dx[k]
        );
        assert!(
            (dxx[k] - fd_dxx).abs() < 2e-2 * scale,
            "u_xx {} vs {fd_dxx}",
            dxx[k]
        );
        assert!(
            (dyy[k] - fd_dyy).abs() < 2e-2 * scale,
            "u_yy {} vs {fd_dyy}",
            dyy[k]
        );
        assert!(
            (dxy[k] - fd_dxy).abs() < 2e-2 * scale,
            "u_xy {} vs {fd_dxy}",
            dxy[k]
        );
    }
}

#[test]
fn modified_mlp_jet_matches_finite_differences() {
    let device = common::device().without_autodiff();
    device.seed(4);
    for fourier in [None, Some(FourierFeaturesConfig::new(2, 4).with_sigma(0.5))] {
        let net = ModifiedMlpConfig::new(2, 16, 3, 2)
            .with_fourier(fourier)
            .init(&device)
            .unwrap();
        check_jet(&net, &device);
    }
    assert!(ModifiedMlpConfig::new(2, 0, 3, 1).init(&device).is_err());
}

#[test]
fn multiscale_fourier_jet_matches_finite_differences() {
    let device = common::device().without_autodiff();
    device.seed(7);
    let net = MultiScaleFourierMlpConfig::new(2, 2, vec![0.2, 1.0], 4, vec![16, 16])
        .init(&device)
        .unwrap();
    assert_eq!(net.embeddings.len(), 2);
    check_jet(&net, &device);
    assert!(
        MultiScaleFourierMlpConfig::new(2, 1, vec![], 4, vec![8])
            .init(&device)
            .is_err()
    );
    assert!(
        MultiScaleFourierMlpConfig::new(2, 1, vec![1.0], 4, vec![])
            .init(&device)
            .is_err()
    );
}

#[test]
fn rwf_mlp_jet_matches_finite_differences() {
    let device = common::device().without_autodiff();
    device.seed(6);
    let net = RwfMlpConfig::new(vec![2, 16, 16, 2]).init(&device).unwrap();
    check_jet(&net, &device);
    // The factorisation is exact: a one-layer net maps (1, 0) to the first row of V diag(e^s)
    // (biases start at zero), and the log-scales are drawn around μ = 1.
    let one_layer = RwfMlpConfig::new(vec![2, 16]).init(&device).unwrap();
    let layer = &one_layer.layers[0];
    let v = kiln_core::tensor::to_f64_vec(layer.v.val());
    let s = kiln_core::tensor::to_f64_vec(layer.s.val());
    let x = Points::new(2, vec![1.0, 0.0])
        .unwrap()
        .to_tensor(&device)
        .unwrap();
    let y = kiln_core::tensor::to_f64_vec(one_layer.forward(x));
    for j in 0..16 {
        let w = v[j] * s[j].exp();
        assert!(
            (y[j] - w).abs() < 1e-5 * (1.0 + w.abs()),
            "{j}: {} vs {w}",
            y[j]
        );
    }
    assert!(
        s.iter().all(|s| (s - 1.0).abs() < 0.6),
        "log-scales around 1: {s:?}"
    );
    assert!(RwfMlpConfig::new(vec![2]).init(&device).is_err());
}

fn solves_poisson<N: JetNetwork>(net: N, device: &burn::tensor::Device) -> f64 {
    let problem = common::sine_poisson(device);
    let config = PinnTrainConfig::new(500, 5e-3)
        .with_lbfgs_max_iter(300)
        .with_progress(ProgressMode::Off);
    let out = train(&problem, Pinn::new(net), device, &config).unwrap();
    common::error_on_unit_interval(&problem, &out.model, 100, |x| (PI * x).sin())
}

#[test]
fn modified_and_factorised_mlps_solve_poisson() {
    let device = common::device();
    device.seed(8);
    let net = ModifiedMlpConfig::new(1, 16, 2, 1).init(&device).unwrap();
    let err = solves_poisson(net, &device);
    assert!(err < 1e-2, "modified MLP: relative L2 {err}");
    let net = RwfMlpConfig::new(vec![1, 20, 20, 1]).init(&device).unwrap();
    let err = solves_poisson(net, &device);
    assert!(err < 1e-2, "RWF MLP: relative L2 {err}");
}
