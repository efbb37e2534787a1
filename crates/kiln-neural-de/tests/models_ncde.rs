//! The neural CDE against oracles: with a constant vector field `F` the hidden state is
//! `z(t) = z₀ + F (X(t) - X(t₀))` for any control path; its gradients by backprop through the
//! solve agree with central differences (on fixed steps: across the knots of a spline, where
//! `dX/dt` is only C¹, adaptive step choices jump with the parameters and make central
//! differences of adaptive solves noisy at the 1e-3 level, while backprop is steady); the
//! continuous adjoint agrees with backprop at tight tolerances; the classification and
//! forecasting heads have the documented shapes; a path with the wrong channel count is an
//! error.

mod common;

use burn::module::Module;
use burn::tensor::Device;
use common::{device, tensor, values};
use kiln_neural_de::interpolate::{ControlPath, Interpolation};
use kiln_neural_de::models::{NeuralCde, NeuralCdeConfig};
use kiln_neural_de::{Error, ExplicitRk, SolveOptions};

const TS: [f64; 6] = [0.0, 0.4, 1.0, 1.3, 2.0, 2.6];

/// Two samples, two channels (time and a wiggle), with a missing value.
fn path(device: &Device) -> ControlPath {
    let mut v = Vec::new();
    for s in 0..2 {
        for (i, &t) in TS.iter().enumerate() {
            let x = if s == 1 && i == 2 {
                f64::NAN
            } else {
                (1.5 * t + s as f64).sin()
            };
            v.extend([t, x]);
        }
    }
    ControlPath::new(Interpolation::NaturalCubic, &TS, &v, [2, 6, 2], device).unwrap()
}

fn model(device: &Device) -> NeuralCde {
    kiln_core::device::seed(device, 3);
    NeuralCdeConfig::new(2, 3, 5, 2).init(device).unwrap()
}

fn tight() -> SolveOptions {
    SolveOptions::adaptive(1e-10, 1e-12)
}

#[test]
fn a_constant_field_integrates_the_path_increment() {
    let dev = device();
    let mut m = model(&dev);
    // Last layer: zero weight, bias b, so tanh(f(z)) = tanh(b) reshaped [hidden, channels].
    let last = m.field.layers.len() - 1;
    let b: Vec<f64> = (0..6).map(|k| 0.3 * k as f64 - 0.7).collect();
    let layer = &mut m.field.layers[last];
    layer.weight = layer.weight.clone().map(|w| w.zeros_like());
    layer.bias = layer
        .bias
        .take()
        .map(|p| p.map(|_| tensor(&b, [1, 6], &dev).reshape([6])));
    let f: Vec<f64> = b.iter().map(|x| x.tanh()).collect();
    let path = path(&dev);
    let ts = [0.0, 0.7, 1.9, 2.6];
    let (z, _) = m
        .hidden_states(&path, &ts, &ExplicitRk::tsit5(), &tight())
        .unwrap();
    let z = values(&z);
    let z0 = values(&m.initial.forward(path.evaluate(0.0)));
    let x0 = values(&path.evaluate(0.0));
    for (k, &t) in ts.iter().enumerate() {
        let x = values(&path.evaluate(t));
        for s in 0..2 {
            for h in 0..3 {
                let dx0 = x[2 * s] - x0[2 * s];
                let dx1 = x[2 * s + 1] - x0[2 * s + 1];
                let expected = z0[3 * s + h] + f[2 * h] * dx0 + f[2 * h + 1] * dx1;
                let got = z[(k * 2 + s) * 3 + h];
                assert!(
                    (got - expected).abs() < 1e-8,
                    "t {t} s {s} h {h}: {got} vs {expected}"
                );
            }
        }
    }
}

#[test]
fn backprop_gradients_match_central_differences() {
    let ad = device().autodiff();
    let m = model(&ad);
    let loss = |m: &NeuralCde, dev: &Device| {
        let (logits, _) = m
            .classify(&path(dev), &ExplicitRk::rk4(), &SolveOptions::fixed(0.01))
            .unwrap();
        logits.square().sum()
    };
    let grads = loss(&m, &ad).backward();
    let w = m.field.layers[0].weight.val();
    let grad = values(&w.grad(&grads).unwrap());
    let plain = m.valid();
    let dev = device();
    let eps = 1e-6;
    for i in [0, 4, 7, 11, 14] {
        let nudge = |delta: f64| {
            let mut m = plain.clone();
            let mut v = values(&m.field.layers[0].weight.val());
            v[i] += delta;
            m.field.layers[0].weight = m.field.layers[0]
                .weight
                .clone()
                .map(|_| tensor(&v, [3, 5], &dev));
            loss(&m, &dev).into_scalar::<f64>()
        };
        let fd = (nudge(eps) - nudge(-eps)) / (2.0 * eps);
        assert!(
            (grad[i] - fd).abs() < 1e-6 * fd.abs().max(1.0),
            "{i}: {} vs {fd}",
            grad[i]
        );
    }
}

#[test]
fn heads_have_the_documented_shapes_and_bad_paths_are_errors() {
    let dev = device();
    let m = model(&dev);
    let p = path(&dev);
    let solver = ExplicitRk::tsit5();
    let options = SolveOptions::adaptive(1e-6, 1e-8);
    let (logits, stats) = m.classify(&p, &solver, &options).unwrap();
    assert_eq!(logits.dims(), [2, 2]);
    assert!(stats.nfe > 0);
    let (forecast, _) = m.forecast(&p, &[0.0, 1.0, 2.6], &solver, &options).unwrap();
    assert_eq!(forecast.dims(), [3, 2, 2]);
    let three = ControlPath::new(
        Interpolation::Linear,
        &[0.0, 1.0],
        &[0.0; 6],
        [1, 2, 3],
        &dev,
    )
    .unwrap();
    let err = m.classify(&three, &solver, &options).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
}

#[test]
fn adjoint_gradients_match_backprop() {
    // The adjoint differentiates the exact flow and backprop the discrete solve: at tight
    // tolerances both approximate the same gradient. The path lives on the plain device.
    let ad = device().autodiff();
    let m = model(&ad);
    let p = path(&device());
    let solver = ExplicitRk::tsit5();
    let loss = |logits: burn::tensor::Tensor<2>| logits.square().sum();
    let (logits, _) = m.classify(&p, &solver, &tight()).unwrap();
    let bp = loss(logits).backward();
    let result = m
        .classify_adjoint(
            &p,
            &solver,
            &tight(),
            &kiln_neural_de::adjoint::AdjointOptions::backsolve().with_checkpoints(8),
            loss,
        )
        .unwrap();
    let adj = result.loss.backward();
    for (name, w) in [
        ("field", m.field.layers[0].weight.val()),
        ("initial", m.initial.layers[0].weight.val()),
        ("readout", m.readout.weight.val()),
    ] {
        let a = values(&w.grad(&adj).unwrap());
        let b = values(&w.grad(&bp).unwrap());
        let scale = b.iter().fold(0.0f64, |s, x| s.max(x.abs()));
        let err = a
            .iter()
            .zip(&b)
            .fold(0.0f64, |s, (x, y)| s.max((x - y).abs()));
        assert!(
            err < 1e-6 * scale,
            "{name}: {err:e} (scale {scale:e})\n{a:?}\n{b:?}"
        );
    }
}
