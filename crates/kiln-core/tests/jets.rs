//! Jets against central finite differences, in f64 on the flex backend.
//!
//! Property tests draw small random networks and inputs; every first and second input
//! derivative a jet carries must match finite differences of the plain forward pass, and the
//! parameter gradient of a loss built from u_xx must match finite differences in the parameters.

use std::sync::OnceLock;

use burn::module::{Module, ModuleMapper, Param};
use burn::nn::Initializer;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use kiln_core::device::precision_of;
use kiln_core::jet::{FourierFeaturesConfig, SecondOrder};
use kiln_core::tensor::to_f64_vec;
use kiln_core::{Activation, BackendKind, Mlp, MlpConfig, Precision};
use proptest::prelude::*;

/// The flex device in f64 (configured once for this test binary).
fn device() -> Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let device = kiln_core::device(backend()).unwrap();
            kiln_core::device::configure_precision(&device, Precision::F64).unwrap();
            device
        })
        .clone()
}

fn tensor(values: &[f64], shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

/// u(x) for a batch of points given as a flat row-major vector.
fn eval(model: &Mlp, x: &[f64], n: usize, device: &Device) -> Vec<f64> {
    to_f64_vec(model.forward(tensor(x, [x.len() / n, n], device)))
}

fn shifted(x: &[f64], n: usize, shifts: &[(usize, f64)]) -> Vec<f64> {
    let mut y = x.to_vec();
    for p in 0..x.len() / n {
        for &(i, h) in shifts {
            y[p * n + i] += h;
        }
    }
    y
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

fn model(
    inputs: usize,
    hidden: Vec<usize>,
    outputs: usize,
    activation: Activation,
    fourier: bool,
) -> Mlp {
    let mut sizes = vec![inputs];
    sizes.extend(hidden);
    sizes.push(outputs);
    let mut config = MlpConfig::new(sizes).with_activation(activation);
    if fourier {
        config = config.with_fourier(Some(
            FourierFeaturesConfig::new(inputs, 3)
                .with_sigma(0.5)
                .with_include_input(true),
        ));
    }
    config.init(&device()).unwrap()
}

fn activation() -> impl Strategy<Value = Activation> {
    prop::sample::select(Activation::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Value, gradient and the full Hessian of a random MLP match central differences.
    #[test]
    fn full_jet_matches_finite_differences(
        inputs in 1usize..=3,
        hidden in prop::collection::vec(1usize..=8, 1..=3),
        outputs in 1usize..=2,
        act in activation(),
        fourier in any::<bool>(),
        seed in any::<u64>(),
        points in prop::collection::vec(-1.5f64..1.5, 12),
    ) {
        let device = device();
        device.seed(seed);
        let net = model(inputs, hidden, outputs, act, fourier);
        let batch = points.len() / inputs;
        let x = &points[..batch * inputs];
        let jet = net.forward_jet(tensor(x, [batch, inputs], &device), SecondOrder::Full);
        let u = eval(&net, x, inputs, &device);
        prop_assert!(to_f64_vec(jet.value()).iter().zip(&u).all(|(a, b)| close(*a, *b, 1e-12)));

        let h1 = 1e-5;
        let h2 = 1e-4;
        for i in 0..inputs {
            let plus = eval(&net, &shifted(x, inputs, &[(i, h1)]), inputs, &device);
            let minus = eval(&net, &shifted(x, inputs, &[(i, -h1)]), inputs, &device);
            let du = to_f64_vec(jet.d(i));
            for k in 0..u.len() {
                let fd = (plus[k] - minus[k]) / (2.0 * h1);
                prop_assert!(close(du[k], fd, 1e-6), "d/dx{} at {}: jet {} fd {}", i, k, du[k], fd);
            }
            for j in i..inputs {
                let d2 = to_f64_vec(jet.d2(i, j).unwrap());
                let fd: Vec<f64> = if i == j {
                    let p = eval(&net, &shifted(x, inputs, &[(i, h2)]), inputs, &device);
                    let m = eval(&net, &shifted(x, inputs, &[(i, -h2)]), inputs, &device);
                    (0..u.len()).map(|k| (p[k] - 2.0 * u[k] + m[k]) / (h2 * h2)).collect()
                } else {
                    let pp = eval(&net, &shifted(x, inputs, &[(i, h2), (j, h2)]), inputs, &device);
                    let pm = eval(&net, &shifted(x, inputs, &[(i, h2), (j, -h2)]), inputs, &device);
                    let mp = eval(&net, &shifted(x, inputs, &[(i, -h2), (j, h2)]), inputs, &device);
                    let mm = eval(&net, &shifted(x, inputs, &[(i, -h2), (j, -h2)]), inputs, &device);
                    (0..u.len()).map(|k| (pp[k] - pm[k] - mp[k] + mm[k]) / (4.0 * h2 * h2)).collect()
                };
                for k in 0..u.len() {
                    prop_assert!(close(d2[k], fd[k], 1e-4), "d2/dx{}dx{} at {}: jet {} fd {}", i, j, k, d2[k], fd[k]);
                }
            }
        }
    }

    /// The diagonal jet carries exactly the diagonal of the full jet, and the first-order jet
    /// exactly its gradient.
    #[test]
    fn diagonal_and_first_order_jets_agree_with_full(
        inputs in 1usize..=3,
        width in 1usize..=8,
        act in activation(),
        seed in any::<u64>(),
        points in prop::collection::vec(-2.0f64..2.0, 9),
    ) {
        let device = device();
        device.seed(seed);
        let net = model(inputs, vec![width, width], 1, act, false);
        let batch = points.len() / inputs;
        let x = tensor(&points[..batch * inputs], [batch, inputs], &device);
        let full = net.forward_jet(x.clone(), SecondOrder::Full);
        let diag = net.forward_jet(x.clone(), SecondOrder::Diagonal);
        let first = net.forward_jet(x, SecondOrder::None);
        prop_assert!(first.d2(0, 0).is_none());
        for i in 0..inputs {
            let a = to_f64_vec(full.d(i));
            prop_assert!(a.iter().zip(to_f64_vec(first.d(i))).all(|(p, q)| close(*p, q, 1e-12)));
            let a = to_f64_vec(full.d2(i, i).unwrap());
            prop_assert!(a.iter().zip(to_f64_vec(diag.d2(i, i).unwrap())).all(|(p, q)| close(*p, q, 1e-12)));
        }
        let lap_full = to_f64_vec(full.laplacian().unwrap());
        let lap_diag = to_f64_vec(diag.laplacian().unwrap());
        prop_assert!(lap_full.iter().zip(&lap_diag).all(|(p, q)| close(*p, *q, 1e-12)));
    }
}

/// Adds `h` to element `index` of the parameter with id `target`.
struct Nudge {
    target: burn::module::ParamId,
    index: usize,
    h: f64,
}

impl ModuleMapper for Nudge {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if param.id != self.target {
            return param;
        }
        let (id, tensor, mapper) = param.consume();
        let shape = tensor.shape();
        let device = tensor.device();
        let mut values = to_f64_vec(tensor);
        values[self.index] += self.h;
        let tensor = Tensor::from_data(TensorData::new(values, shape), &device);
        Param::from_mapped_value(id, tensor, mapper)
    }
}

/// A loss built from the Laplacian of a 2-D field: Σ (Δu − f)². Its parameter gradient from
/// reverse-mode autodiff through the jet matches finite differences in the parameters.
#[test]
fn parameter_gradient_of_laplacian_loss_matches_finite_differences() {
    let plain = device();
    let ad = plain.clone().autodiff();
    ad.seed(7);
    let net = MlpConfig::new(vec![2, 6, 6, 1])
        .with_activation(Activation::Tanh)
        .with_initializer(Initializer::XavierNormal { gain: 1.0 })
        .init(&ad)
        .unwrap();
    let x: Vec<f64> = (0..10).map(|k| ((k as f64) * 0.37).sin()).collect();
    let loss_of = |m: &Mlp, device: &Device| {
        let xt = tensor(&x, [5, 2], device);
        let jet = m.forward_jet(xt.clone(), SecondOrder::Diagonal);
        let f = xt.clone().narrow(1, 0, 1).sin();
        (jet.laplacian().unwrap() - f).square().sum()
    };
    let loss = loss_of(&net, &ad);
    let grads = GradientsParams::from_grads(loss.backward(), &net);

    let layer = &net.layers[1];
    let weight_grad = to_f64_vec(
        grads
            .get::<2>(layer.weight.id)
            .expect("hidden weight has a gradient"),
    );
    let bias_id = layer.bias.as_ref().unwrap().id;
    let bias_grad = to_f64_vec(grads.get::<1>(bias_id).expect("hidden bias has a gradient"));

    let inference = net.valid();
    let h = 1e-6;
    let fd = |target, index| {
        let up = inference.clone().map(&mut Nudge { target, index, h });
        let down = inference.clone().map(&mut Nudge {
            target,
            index,
            h: -h,
        });
        (loss_of(&up, &plain).into_scalar::<f64>() - loss_of(&down, &plain).into_scalar::<f64>())
            / (2.0 * h)
    };
    for index in [0, 7, 20, 35] {
        let numeric = fd(layer.weight.id, index);
        assert!(
            close(weight_grad[index], numeric, 1e-5),
            "weight[{index}]: autodiff {} fd {numeric}",
            weight_grad[index]
        );
    }
    for index in [0, 3, 5] {
        let numeric = fd(bias_id, index);
        assert!(
            close(bias_grad[index], numeric, 1e-5),
            "bias[{index}]: autodiff {} fd {numeric}",
            bias_grad[index]
        );
    }
}

/// The Laplacian of a known closed form, pushed through a jet by hand, is exact: a network
/// whose output is sin(x)·sin(y) expressed through [`kiln_core::Jet`] operations.
#[test]
fn laplacian_of_sine_product_is_exact() {
    let device = device();
    let x = tensor(&[0.3, -0.7, 1.1, 0.25, -1.4, 2.0], [3, 2], &device);
    let jet = kiln_core::Jet::input(x.clone(), SecondOrder::Full).activate(Activation::Sin);
    // u = sin x + sin y via a sum over features with a [2, 1] matrix of ones.
    let u = jet.matmul(Tensor::ones([2, 1], &device));
    let lap = to_f64_vec(u.laplacian().unwrap());
    let xs = to_f64_vec(x);
    for p in 0..3 {
        let expected = -(xs[2 * p].sin() + xs[2 * p + 1].sin());
        assert!(close(lap[p], expected, 1e-12), "{} vs {expected}", lap[p]);
    }
    assert!(
        to_f64_vec(u.d2(0, 1).unwrap())
            .iter()
            .all(|v| v.abs() < 1e-15)
    );
}

/// A jet rebuilt from its parts is the same jet; mismatched parts and sums are errors.
#[test]
fn jets_reassemble_from_parts_and_reject_mismatches() {
    let device = device();
    let net = model(2, vec![5], 3, Activation::Gelu, false);
    let x = tensor(&[0.1, 0.2, -0.3, 0.4], [2, 2], &device);
    let jet = net.forward_jet(x, SecondOrder::Full);
    let rebuilt =
        kiln_core::Jet::from_parts(jet.value(), jet.gradient(), jet.second(), SecondOrder::Full)
            .unwrap();
    assert_eq!(
        to_f64_vec(rebuilt.clone().into_stack()),
        to_f64_vec(jet.clone().into_stack())
    );
    let doubled = rebuilt.try_add(jet.clone()).unwrap();
    assert_eq!(
        to_f64_vec(doubled.value()),
        to_f64_vec(jet.clone().mul_scalar(2.0).value())
    );
    let second = to_f64_vec(jet.component(1).d2(0, 1).unwrap());
    let full = to_f64_vec(jet.d2(0, 1).unwrap());
    assert_eq!(second, vec![full[1], full[4]]);

    let err = kiln_core::Jet::from_parts(jet.value(), jet.gradient(), None, SecondOrder::Full)
        .unwrap_err();
    assert!(err.to_string().contains("second derivatives"), "{err}");
    let narrow = jet.component(0);
    let err = jet.clone().try_add(narrow.clone()).unwrap_err();
    assert!(err.to_string().contains("Jet::try_add"), "{err}");
    let joined = kiln_core::Jet::concat(vec![narrow.clone(), jet.clone()]).unwrap();
    assert_eq!(joined.dims(), [2, 4]);
    let first_order = net.forward_jet(tensor(&[0.0, 0.0], [1, 2], &device), SecondOrder::None);
    assert!(kiln_core::Jet::concat(vec![first_order, jet]).is_err());
}

#[test]
fn invalid_mlp_configs_are_errors() {
    let device = device();
    let err = MlpConfig::new(vec![3])
        .init(&device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("sizes"), "{err}");
    let err = MlpConfig::new(vec![2, 0, 1])
        .init(&device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least 1"), "{err}");
    let err = MlpConfig::new(vec![2, 4, 1])
        .with_fourier(Some(FourierFeaturesConfig::new(3, 4)))
        .init(&device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("sizes[0] = 2"), "{err}");
}

/// The backend under test: `KILN_BACKEND`, flex by default.
fn backend() -> BackendKind {
    BackendKind::from_env().expect("KILN_BACKEND names a backend")
}

/// Training, checkpointing and resuming work in f64: parameters stay f64 through the optimiser
/// and the checkpoint, and the resumed curve matches the uninterrupted one to f64 precision.
#[test]
fn training_and_checkpoints_work_in_f64() {
    use kiln_core::train::{ProgressMode, TrainerConfig};
    let ad = device().autodiff();
    let x = kiln_core::tensor::linspace(-1.0, 1.0, 16, &ad);
    let y = x.clone().mul_scalar(2.0).sin();
    let model = MlpConfig::new(vec![1, 8, 1]).init(&ad).unwrap();
    // Draw the lazily created weights once, so every run below starts from the same ones.
    let _ = model.forward(x.clone());
    assert_eq!(
        model.layers[0].weight.val().dtype(),
        burn::tensor::DType::F64
    );
    let root = std::env::temp_dir().join(format!("kiln-f64-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let config = TrainerConfig::new(12, 1e-2)
        .with_checkpoint_every(Some(4))
        .with_progress(ProgressMode::Off);
    let loss = |m: &Mlp, _: &kiln_core::train::StepInfo| {
        Ok(kiln_core::metrics::mse(m.forward(x.clone()), y.clone())?.into())
    };
    let whole = config.init().unwrap().with_output_dir(root.join("whole"));
    let reference = whole.fit(model.clone(), &ad, loss).unwrap();
    assert!(reference.losses[11] < reference.losses[0]);
    assert_eq!(
        reference.model.layers[0].weight.val().dtype(),
        burn::tensor::DType::F64
    );
    let split = root.join("split");
    let head = config
        .init()
        .unwrap()
        .with_output_dir(&split)
        .with_stop_after(5);
    head.fit(model.clone(), &ad, loss).unwrap();
    let resumed = config
        .init()
        .unwrap()
        .with_output_dir(&split)
        .fit_or_resume(model, &ad, loss);
    // burn restores optimiser state on its default device in that device's dtype; when that is
    // another backend in f32 (`BURN_DEVICE` unset on ndarray), kiln refuses with the fix.
    let default = Device::default();
    let restorable = default == device() || precision_of(&default) == Precision::F64;
    let resumed = match resumed {
        Ok(resumed) if restorable => resumed,
        Err(err) if !restorable => {
            assert!(err.to_string().contains("set BURN_DEVICE="), "{err}");
            return;
        }
        other => panic!("restorable = {restorable}, but resume gave {other:?}"),
    };
    for (step, (a, b)) in reference.losses.iter().zip(&resumed.losses).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * a.abs(),
            "step {}: {a} vs resumed {b}",
            step + 1
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}
