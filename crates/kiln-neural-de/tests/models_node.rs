//! The neural ODE model: its gradients by backprop through the solve, by the continuous adjoint
//! and by central differences of tight solves agree (in the parameters and in y0), for a
//! time-dependent, augmented field; the field reproduces a hand-set linear system; bad inputs
//! are errors, not panics.

mod common;

use burn::module::Module;
use burn::nn::Initializer;
use burn::tensor::{Device, Tensor};
use common::{device, tensor, values};
use kiln_neural_de::adjoint::AdjointOptions;
use kiln_neural_de::models::{FieldInput, NeuralOde, NeuralOdeConfig};
use kiln_neural_de::{Error, ExplicitRk, SolveOptions};

const TS: [f64; 4] = [0.0, 0.3, 0.7, 1.0];
const Y0: [f64; 6] = [0.5, -0.2, -0.3, 0.8, 1.0, 0.1];

fn tight() -> SolveOptions {
    SolveOptions::adaptive(1e-11, 1e-12)
}

fn model(device: &Device) -> NeuralOde {
    kiln_core::device::seed(device, 7);
    NeuralOdeConfig::new(2, vec![6])
        .with_time_dependent(true)
        .with_augment(1)
        .with_zero_bias(false)
        .with_initializer(Initializer::Normal {
            mean: 0.0,
            std: 0.5,
        })
        .init(device)
        .unwrap()
}

/// The loss of the tests: a weighted sum of squares of all predictions.
fn loss(pred: Tensor<3>) -> Tensor<1> {
    pred.square().mul_scalar(0.5).sum()
}

fn loss_value(model: &NeuralOde, y0: &[f64], device: &Device) -> f64 {
    let pred = model
        .forward(
            tensor(y0, [3, 2], device),
            &TS,
            &ExplicitRk::dopri5(),
            &tight(),
        )
        .unwrap();
    loss(pred).into_scalar::<f64>()
}

/// The model with entry `index` of the first layer's weight moved by `delta`.
fn nudged(model: &NeuralOde, index: usize, delta: f64) -> NeuralOde {
    let mut m = model.clone();
    let layer = &mut m.mlp.layers[0];
    let weight = layer.weight.val();
    let dims = weight.dims();
    let mut v = values(&weight);
    v[index] += delta;
    layer.weight = layer
        .weight
        .clone()
        .map(|_| tensor(&v, dims, &weight.device()));
    m
}

fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

#[test]
fn backprop_adjoint_and_finite_differences_agree() {
    let ad = device().autodiff();
    let model = model(&ad);
    let solver = ExplicitRk::dopri5();

    // Backprop through the solve.
    let y0 = tensor(&Y0, [3, 2], &ad).require_grad();
    let pred = model.forward(y0.clone(), &TS, &solver, &tight()).unwrap();
    let grads = loss(pred).backward();
    let w = model.mlp.layers[0].weight.val();
    let bp_w = values(&w.grad(&grads).unwrap());
    let bp_y0 = values(&y0.grad(&grads).unwrap());

    // Continuous adjoint.
    let y0 = tensor(&Y0, [3, 2], &ad).require_grad();
    let result = model
        .forward_adjoint(
            y0.clone(),
            &TS,
            &solver,
            &tight(),
            &AdjointOptions::backsolve().with_checkpoints(4),
            loss,
        )
        .unwrap();
    let grads = result.loss.backward();
    let adj_w = values(&w.grad(&grads).unwrap());
    let adj_y0 = values(&y0.grad(&grads).unwrap());

    // Central differences on the plain device.
    let plain = model.valid();
    let dev = device();
    let eps = 1e-5;
    let fd_w: Vec<f64> = (0..bp_w.len())
        .map(|i| {
            let up = loss_value(&nudged(&plain, i, eps), &Y0, &dev);
            let down = loss_value(&nudged(&plain, i, -eps), &Y0, &dev);
            (up - down) / (2.0 * eps)
        })
        .collect();
    let fd_y0: Vec<f64> = (0..Y0.len())
        .map(|i| {
            let mut up = Y0;
            up[i] += eps;
            let mut down = Y0;
            down[i] -= eps;
            (loss_value(&plain, &up, &dev) - loss_value(&plain, &down, &dev)) / (2.0 * eps)
        })
        .collect();

    assert_eq!(bp_w.len(), 4 * 6, "3 state + 1 time inputs, 6 hidden");
    for (name, a, b) in [
        ("backprop vs FD, weights", &bp_w, &fd_w),
        ("adjoint vs FD, weights", &adj_w, &fd_w),
        ("backprop vs FD, y0", &bp_y0, &fd_y0),
        ("adjoint vs FD, y0", &adj_y0, &fd_y0),
        ("adjoint vs backprop, weights", &adj_w, &bp_w),
    ] {
        let e = rel_err(a, b);
        assert!(e < 1e-6, "{name}: relative error {e:e}\n{a:?}\n{b:?}");
    }
}

#[test]
fn a_hand_set_linear_field_follows_its_exponential() {
    // f(y) = tanh(y W1) W2 with zero biases, W1 = εI and W2 = R/ε is y R up to ε² |y|³/3.
    // With R = [[0, 1], [-1, 0]] the flow is a rotation: y(t) = y0 [[cos t, sin t],
    // [-sin t, cos t]].
    let dev = device();
    let mut model = NeuralOdeConfig::new(2, vec![2]).init(&dev).unwrap();
    let e = 1e-4;
    let rot = tensor(&[0.0, 1.0 / e, -1.0 / e, 0.0], [2, 2], &dev);
    let eye = tensor(&[e, 0.0, 0.0, e], [2, 2], &dev);
    model.mlp.layers[0].weight = model.mlp.layers[0].weight.clone().map(|_| eye);
    model.mlp.layers[1].weight = model.mlp.layers[1].weight.clone().map(|_| rot);
    let pred = model
        .forward(
            tensor(&[1.0, 0.0], [1, 2], &dev),
            &[0.0, 0.5, 2.0],
            &ExplicitRk::tsit5(),
            &tight(),
        )
        .unwrap();
    let v = values(&pred);
    for (k, t) in [0.0f64, 0.5, 2.0].iter().enumerate() {
        assert!((v[2 * k] - t.cos()).abs() < 1e-7, "{v:?}");
        assert!((v[2 * k + 1] - t.sin()).abs() < 1e-7, "{v:?}");
    }
}

#[test]
fn the_cube_input_and_augmentation_shape_the_state() {
    let dev = device();
    let model = NeuralOdeConfig::new(3, vec![4])
        .with_augment(2)
        .with_input(FieldInput::Cube)
        .init(&dev)
        .unwrap();
    assert_eq!(model.width(), 5);
    let pred = model
        .forward(
            Tensor::<2>::ones([4, 3], &dev),
            &[0.0, 0.1, 0.2],
            &ExplicitRk::dopri5(),
            &SolveOptions::adaptive(1e-6, 1e-8),
        )
        .unwrap();
    assert_eq!(pred.dims(), [3, 4, 3]);
    // The first output is y0 itself.
    assert!(values(&pred.narrow(0, 0, 1)).iter().all(|&x| x == 1.0));
}

#[test]
fn bad_inputs_are_errors() {
    let dev = device();
    assert!(matches!(
        NeuralOdeConfig::new(0, vec![4]).init(&dev),
        Err(Error::InvalidOption { field: "state", .. })
    ));
    assert!(matches!(
        NeuralOdeConfig::new(2, vec![0]).init(&dev),
        Err(Error::InvalidOption {
            field: "hidden",
            ..
        })
    ));
    let model = NeuralOdeConfig::new(2, vec![4]).init(&dev).unwrap();
    let solver = ExplicitRk::dopri5();
    let options = SolveOptions::adaptive(1e-6, 1e-8);
    let err = model
        .forward(
            Tensor::<2>::ones([4, 3], &dev),
            &[0.0, 1.0],
            &solver,
            &options,
        )
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    let err = model
        .forward(Tensor::<2>::ones([4, 2], &dev), &[0.0], &solver, &options)
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidOption { field: "ts", .. }),
        "{err}"
    );
}

#[test]
fn fixed_steps_that_reach_the_end_by_rounding_save_it() {
    // 10 × 0.1 sums to 0.9999999999999999: the save at t = 1 must still be taken, with the
    // state after the tenth step.
    let dev = device();
    let decay = |_t: &kiln_neural_de::Time, y: &Tensor<2>| y.clone().neg();
    for dt in [0.1, 0.01, 1e-3] {
        let sol = kiln_neural_de::solve(
            &decay,
            &ExplicitRk::rk4(),
            (0.0, 1.0),
            Tensor::<2>::ones([1, 1], &dev),
            &SolveOptions::fixed(dt).save_times(vec![0.0, 1.0]),
        )
        .unwrap();
        assert_eq!(sol.ts, vec![0.0, 1.0], "dt {dt}");
        let y1 = sol.last().clone().into_scalar::<f64>();
        assert!((y1 - (-1.0f64).exp()).abs() < 1e-6, "dt {dt}: {y1}");
    }
}

/// One parameter `p` with loss `p²`, for the optimiser check below.
#[derive(burn::module::Module, Debug)]
struct Scalar {
    p: burn::module::Param<Tensor<1>>,
}

#[test]
fn rmsprop_follows_pytorchs_update() {
    // PyTorch's RMSprop (α = 0.99, ε = 1e-8, no momentum): v ← α v + (1 - α) g²,
    // p ← p - lr g / (√v + ε), v₀ = 0. The spiral benchmark trains with it.
    use kiln_core::train::{OptimizerConfig, ProgressMode, TrainerConfig};
    let ad = device().autodiff();
    let model = Scalar {
        p: burn::module::Param::from_tensor(Tensor::from_data([1.5f64], &ad)),
    };
    let lr = 0.1;
    let outcome = TrainerConfig::new(3, lr)
        .with_optimizer(OptimizerConfig::rmsprop())
        .with_progress(ProgressMode::Off)
        .init()
        .unwrap()
        .fit(model, &ad, |m: &Scalar, _| {
            Ok(m.p.val().square().sum().into())
        })
        .unwrap();
    let (mut p, mut v) = (1.5f64, 0.0f64);
    for _ in 0..3 {
        let g = 2.0 * p;
        v = 0.99 * v + 0.01 * g * g;
        p -= lr * g / (v.sqrt() + 1e-8);
    }
    let got = outcome.model.p.val().into_scalar::<f64>();
    assert!((got - p).abs() < 1e-6, "{got} vs {p}");
}
