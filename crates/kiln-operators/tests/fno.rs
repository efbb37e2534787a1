//! FNO against oracles: spectral convolutions equal multiplication in Fourier space (rustfft),
//! a linear spectral layer learns the heat semigroup to near machine precision, outputs are
//! consistent across resolutions, and checkpoints reload to identical predictions.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use kiln_core::rng::Rng;
use kiln_core::train::{OptimizerConfig, ProgressMode, TrainerConfig};
use kiln_core::{BackendKind, Precision};
use kiln_operators::data::HeatConfig;
use kiln_operators::fno::{Fno1dConfig, Fno2dConfig, SpectralConv1d, SpectralConv2d};
use kiln_operators::loss::relative_l2;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

fn f64_device() -> Device {
    let backend = BackendKind::from_env().unwrap();
    let device = kiln_core::device(backend).unwrap();
    kiln_core::device::configure_precision(&device, Precision::F64).unwrap();
    device
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().iter::<f64>().collect()
}

fn random(n: usize, rng: &mut Rng) -> Vec<f64> {
    (0..n).map(|_| rng.normal()).collect()
}

fn fft(v: &[Complex64], inverse: bool) -> Vec<Complex64> {
    let mut v = v.to_vec();
    let mut planner = FftPlanner::new();
    let plan = if inverse {
        planner.plan_fft_inverse(v.len())
    } else {
        planner.plan_fft_forward(v.len())
    };
    plan.process(&mut v);
    v
}

#[test]
fn the_1d_spectral_convolution_multiplies_retained_modes_in_fourier_space() {
    let device = f64_device();
    let (b, c, o, n, m) = (2, 3, 2, 20, 6);
    let mut rng = Rng::new(1);
    let (wr, wi) = (random(m * c * o, &mut rng), random(m * c * o, &mut rng));
    let mut conv = SpectralConv1d::new(c, o, m, &device);
    conv.weight_re = Param::from_tensor(Tensor::from_data(
        TensorData::new(wr.clone(), [m, c, o]),
        &device,
    ));
    conv.weight_im = Param::from_tensor(Tensor::from_data(
        TensorData::new(wi.clone(), [m, c, o]),
        &device,
    ));
    let x = random(b * c * n, &mut rng);
    let y = values(conv.forward(Tensor::from_data(
        TensorData::new(x.clone(), [b, c, n]),
        &device,
    )));
    for bi in 0..b {
        let spectra: Vec<Vec<Complex64>> = (0..c)
            .map(|ci| {
                let row: Vec<Complex64> = x[(bi * c + ci) * n..(bi * c + ci + 1) * n]
                    .iter()
                    .map(|&v| Complex64::new(v, 0.0))
                    .collect();
                fft(&row, false)
            })
            .collect();
        for oi in 0..o {
            let mut spec = vec![Complex64::new(0.0, 0.0); n];
            for k in 0..m {
                let mut acc = Complex64::new(0.0, 0.0);
                for (ci, s) in spectra.iter().enumerate() {
                    let idx = (k * c + ci) * o + oi;
                    acc += s[k] * Complex64::new(wr[idx], wi[idx]);
                }
                if k == 0 {
                    acc = Complex64::new(acc.re, 0.0);
                }
                spec[k] = acc;
                if k > 0 {
                    spec[n - k] = acc.conj();
                }
            }
            let reference = fft(&spec, true);
            for j in 0..n {
                let got = y[(bi * o + oi) * n + j];
                let want = reference[j].re / n as f64;
                assert!(
                    (got - want).abs() < 1e-12,
                    "b{bi} o{oi} j{j}: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn the_2d_spectral_convolution_matches_a_direct_fourier_sum() {
    direct_sum_check(8, 10, 3, 4);
    // Grids too coarse for all modes, including a single row.
    direct_sum_check(4, 5, 3, 4);
    direct_sum_check(1, 6, 3, 2);
}

fn direct_sum_check(h: usize, w: usize, m1: usize, m2: usize) {
    let device = f64_device();
    let (c, o) = (2, 2);
    let mut rng = Rng::new(2);
    let conv = SpectralConv2d::new(c, o, [m1, m2], &device);
    let wr = values(conv.weight_re.val());
    let wi = values(conv.weight_im.val());
    let x = random(c * h * w, &mut rng);
    let y = values(conv.forward(Tensor::from_data(
        TensorData::new(x.clone(), [1, c, h, w]),
        &device,
    )));
    let tau = 2.0 * std::f64::consts::PI;
    // Retained modes on this grid: |k1| limited by h / 2 (only 0 when h = 1), k2 by w / 2.
    let m1e = m1.min(h / 2) as i64;
    let k1s: Vec<(usize, i64)> = if h == 1 {
        vec![(0, 0)]
    } else {
        (0..m1e)
            .map(|k| (k as usize, k))
            .chain((-m1e..0).map(|k| ((2 * m1 as i64 + k) as usize, k)))
            .collect()
    };
    let m2e = m2.min(w / 2 + 1);
    for oi in 0..o {
        for i in 0..h {
            for j in 0..w {
                let mut acc = 0.0;
                for &(q, k1) in &k1s {
                    for k2 in 0..m2e {
                        let mut yk = Complex64::new(0.0, 0.0);
                        for ci in 0..c {
                            let mut xk = Complex64::new(0.0, 0.0);
                            for a in 0..h {
                                for bb in 0..w {
                                    let ph = -tau
                                        * (k1 as f64 * a as f64 / h as f64
                                            + k2 as f64 * bb as f64 / w as f64);
                                    xk += Complex64::from_polar(x[(ci * h + a) * w + bb], ph);
                                }
                            }
                            let idx = ((k2 * 2 * m1 + q) * c + ci) * o + oi;
                            yk += xk * Complex64::new(wr[idx], wi[idx]);
                        }
                        let ck = if k2 == 0 || 2 * k2 == w { 1.0 } else { 2.0 };
                        let ph = tau
                            * (k1 as f64 * i as f64 / h as f64 + k2 as f64 * j as f64 / w as f64);
                        acc += ck * (yk * Complex64::from_polar(1.0, ph)).re;
                    }
                }
                let want = acc / (h * w) as f64;
                let got = y[(oi * h + i) * w + j];
                assert!((got - want).abs() < 1e-11, "{got} vs {want}");
            }
        }
    }
}

#[test]
fn a_linear_spectral_layer_learns_the_heat_semigroup_to_machine_precision() {
    let device = f64_device();
    let ad = device.clone().autodiff();
    let heat = HeatConfig::new(32).with_nu(0.005).with_t(1.0);
    let train = heat.generate(16, 3).unwrap();
    let x = train.input_tensor::<2>(&ad).unwrap().reshape([16, 1, 32]);
    let y = train.output_tensor::<2>(&ad).unwrap().reshape([16, 1, 32]);
    let model = SpectralConv1d::new(1, 1, 9, &ad);
    let trainer = TrainerConfig::new(60, 1.0)
        .with_optimizer(OptimizerConfig::Lbfgs {
            max_iter: 20,
            history: 50,
            strong_wolfe: true,
            tolerance_grad: 1e-16,
            tolerance_change: 1e-24,
        })
        .with_progress(ProgressMode::Off)
        .init()
        .unwrap();
    let out = trainer
        .fit(model, &ad, |m: &SpectralConv1d, _| {
            Ok((m.forward(x.clone()) - y.clone())
                .powi_scalar(2)
                .sum()
                .into())
        })
        .unwrap();
    let model = out.model.valid();
    // Unseen inputs, at the training resolution and at 4x the resolution (zero-shot).
    for n in [32, 128] {
        let test = HeatConfig::new(n)
            .with_nu(0.005)
            .with_t(1.0)
            .generate(8, 99)
            .unwrap();
        let xt = test.input_tensor::<2>(&device).unwrap().reshape([8, 1, n]);
        let yt = test.output_tensor::<2>(&device).unwrap().reshape([8, 1, n]);
        let err = relative_l2(model.forward(xt), yt)
            .unwrap()
            .into_scalar::<f64>();
        assert!(err < 1e-9, "n = {n}: relative L2 {err:e}");
    }
}

#[test]
fn fno_outputs_agree_across_resolutions_on_smooth_inputs() {
    let device = f64_device();
    // Without padding, and with padding (a fraction of the grid, so the padded domain is the
    // same physical length at both resolutions).
    for padding in [0.0, 0.25] {
        let model = Fno1dConfig::new(1, 1, 8)
            .with_grid(false)
            .with_padding(padding)
            .init(&device)
            .unwrap();
        let f = |x: f64| {
            (std::f64::consts::TAU * x).sin() + 0.5 * (2.0 * std::f64::consts::TAU * x).cos()
        };
        let run = |n: usize| {
            let x: Vec<f64> = (0..n).map(|j| f(j as f64 / n as f64)).collect();
            values(model.forward(Tensor::from_data(TensorData::new(x, [1, 1, n]), &device)))
        };
        // Relative difference between the outputs at n and 2n points, on the coarse points.
        let gap = |n: usize| {
            let (coarse, fine) = (run(n), run(2 * n));
            let num: f64 = coarse
                .iter()
                .enumerate()
                .map(|(j, v)| (v - fine[2 * j]).powi(2))
                .sum();
            let den: f64 = coarse.iter().map(|v| v * v).sum();
            (num / den).sqrt()
        };
        let (gap64, gap128) = (gap(64), gap(128));
        assert!(gap64 > 0.0);
        if padding == 0.0 {
            // Periodic and smooth: the truncated DFTs agree up to aliasing of the activations.
            assert!(gap64 < 1e-2, "no padding: relative difference {gap64:e}");
        } else {
            // The zero-padded extension has an edge, which each grid resolves to first order in
            // the spacing: the outputs differ by a few per cent at 64 vs 128 points (depending
            // on the random weights) and the gap must shrink as the grids refine.
            assert!(
                gap64 < 0.1,
                "padding {padding}: relative difference {gap64:e}"
            );
            assert!(
                gap128 < 0.75 * gap64,
                "padding {padding}: the gap does not shrink with refinement: {gap64:e} at 64, {gap128:e} at 128"
            );
        }
    }
}

#[test]
fn fno_checkpoints_reload_to_identical_predictions() {
    let device = f64_device();
    let config = Fno2dConfig::new(1, 1, [4, 4])
        .with_hidden(8)
        .with_padding(0.25);
    let model = config.init(&device).unwrap();
    let x = Tensor::<4>::from_data(
        TensorData::new(random(2 * 12 * 12, &mut Rng::new(5)), [2, 1, 12, 12]),
        &device,
    );
    let before = values(model.forward(x.clone()));
    let dir = std::env::temp_dir().join(format!("kiln-operators-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fno.bpk");
    model.clone().save_file(&path).unwrap();
    let fresh = config.init(&device).unwrap();
    assert_ne!(values(fresh.forward(x.clone())), before);
    let loaded = fresh.try_load_file(&path).unwrap();
    assert_eq!(values(loaded.forward(x)), before);
    // Evaluates at another resolution too.
    let x24 = Tensor::<4>::zeros([1, 1, 24, 24], &device);
    assert_eq!(model.forward(x24).dims(), [1, 1, 24, 24]);
}

#[test]
fn invalid_fno_configs_are_errors() {
    let device = f64_device();
    assert!(Fno1dConfig::new(1, 1, 0).init(&device).is_err());
    assert!(
        Fno2dConfig::new(1, 1, [4, 4])
            .with_layers(0)
            .init(&device)
            .is_err()
    );
    assert!(
        Fno2dConfig::new(1, 1, [4, 4])
            .with_padding(-1.0)
            .init(&device)
            .is_err()
    );
}

mod properties {
    use super::*;
    use proptest::prelude::{ProptestConfig, prop_assert, prop_assert_eq, proptest};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        /// A spectral convolution is linear and shape-preserving on every grid size, including
        /// grids too coarse for all of its modes.
        #[test]
        fn spectral_convolutions_are_linear_on_any_grid(n in 1usize..=40, h in 1usize..=12, seed in 0u64..1000) {
            let device = f64_device();
            let mut rng = Rng::new(seed);
            let conv = SpectralConv1d::new(2, 3, 7, &device);
            let x = Tensor::<3>::from_data(TensorData::new(random(2 * n, &mut rng), [1, 2, n]), &device);
            let y = Tensor::<3>::from_data(TensorData::new(random(2 * n, &mut rng), [1, 2, n]), &device);
            let lhs = values(conv.forward(x.clone().mul_scalar(2.0) + y.clone().mul_scalar(-3.0)));
            let rhs = values(conv.forward(x).mul_scalar(2.0) + conv.forward(y).mul_scalar(-3.0));
            prop_assert_eq!(lhs.len(), 3 * n);
            for (a, b) in lhs.iter().zip(&rhs) {
                prop_assert!((a - b).abs() < 1e-10 * (1.0 + b.abs()));
            }
            let conv2 = SpectralConv2d::new(1, 2, [3, 4], &device);
            let z = Tensor::<4>::from_data(TensorData::new(random(h * n, &mut rng), [1, 1, h, n]), &device);
            prop_assert_eq!(conv2.forward(z).dims(), [1, 2, h, n]);
        }

        /// FNO configurations round-trip through serde.
        #[test]
        fn fno_configs_round_trip(modes in 1usize..=16, hidden in 1usize..=64, padding in 0.0f64..1.0) {
            let config = Fno2dConfig::new(1, 2, [modes, modes + 1]).with_hidden(hidden).with_padding(padding);
            let json = serde_json::to_string(&config).unwrap();
            let back: Fno2dConfig = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back.modes, config.modes);
            prop_assert_eq!(back.hidden, hidden);
            prop_assert_eq!(back.padding, padding);
        }
    }
}
