//! The same model gives the same numbers on every backend: forward pass, second-order jet, and
//! one Adam step, compared against flex (the reference CPU backend).
//!
//! `cargo xtask test --backend wgpu` runs this file with the `wgpu` feature, checking burn's wgpu
//! backend (on a GPU, or on a software Vulkan such as lavapipe) against flex.

use kiln_core::burn::module::Module;
use kiln_core::burn::optim::GradientsParams;
use kiln_core::burn::tensor::{Device, Tensor, TensorData};
use kiln_core::{Activation, BackendKind, Mlp, MlpConfig, SecondOrder};
use kiln_tests::{backend, max_rel_diff};

/// The backends to compare with flex: the one under test, or ndarray when that is flex.
fn others() -> Vec<BackendKind> {
    match backend() {
        BackendKind::Flex => vec![BackendKind::Ndarray],
        other => vec![other],
    }
}

fn points(device: &Device) -> Tensor<2> {
    let values: Vec<f32> = (0..64).map(|k| ((k as f32) * 0.731).sin() * 1.5).collect();
    Tensor::from_data(TensorData::new(values, [32, 2]), device)
}

fn reference_model(device: &Device, activation: Activation) -> Mlp {
    device.seed(5);
    let model = MlpConfig::new(vec![2, 24, 24, 1])
        .with_activation(activation)
        .init(device)
        .unwrap();
    // burn initialises weights lazily, on first use; touch them so clones and moved copies
    // share one set of weights instead of each drawing its own.
    let _ = model.forward(points(device));
    model
}

#[test]
fn forward_and_jets_agree_across_backends() {
    let flex = kiln_core::device(BackendKind::Flex).unwrap();
    for activation in Activation::ALL {
        let model = reference_model(&flex, activation);
        let x = points(&flex);
        let want_u = model.forward(x.clone());
        let want_jet = model.forward_jet(x, SecondOrder::Full);
        for kind in others() {
            let device = kiln_core::device(kind).unwrap();
            let moved = model.clone().fork(&device);
            let x = points(&device);
            let u = moved.forward(x.clone());
            let jet = moved.forward_jet(x, SecondOrder::Full);
            let d_u = max_rel_diff(u.to_device(&flex), want_u.clone());
            assert!(d_u < 1e-4, "{kind} {activation:?} forward differs by {d_u}");
            let d_lap = max_rel_diff(
                jet.laplacian().unwrap().to_device(&flex),
                want_jet.laplacian().unwrap(),
            );
            assert!(
                d_lap < 1e-3,
                "{kind} {activation:?} Laplacian differs by {d_lap}"
            );
            let d_xy = max_rel_diff(
                jet.d2(0, 1).unwrap().to_device(&flex),
                want_jet.d2(0, 1).unwrap(),
            );
            assert!(d_xy < 1e-3, "{kind} {activation:?} u_xy differs by {d_xy}");
        }
    }
}

/// The parameter gradients of a loss built from the Laplacian agree, relative to their scale.
///
/// (Comparing weights after an Adam step would not do: Adam's first step is lr·sign(g), so a
/// gradient that is zero up to rounding moves a weight by ±lr depending on the backend.)
#[test]
fn jet_loss_gradients_agree_across_backends() {
    let grads_of = |device: &Device, model: &Mlp| {
        let x = points(device);
        let jet = model.forward_jet(x, SecondOrder::Diagonal);
        let loss = (jet.laplacian().unwrap() + jet.value()).square().mean();
        let grads = GradientsParams::from_grads(loss.backward(), model);
        model
            .layers
            .iter()
            .map(|l| {
                grads.get::<2>(l.weight.id).unwrap_or_else(|| {
                    panic!(
                        "no gradient for a weight on {device:?}; {} grads; require_grad {}",
                        grads.len(),
                        l.weight.is_require_grad()
                    )
                })
            })
            .collect::<Vec<_>>()
    };
    let flex = kiln_core::autodiff_device(BackendKind::Flex).unwrap();
    let model = reference_model(&flex, Activation::Tanh);
    let want = grads_of(&flex, &model);
    for kind in others() {
        let device = kiln_core::autodiff_device(kind).unwrap();
        let got = grads_of(&device, &model.clone().fork(&device));
        for (layer, (a, b)) in got.into_iter().zip(&want).enumerate() {
            let scale = b.clone().abs().max().into_scalar::<f64>();
            let diff = (a.to_device(&flex) - b.clone())
                .abs()
                .max()
                .into_scalar::<f64>();
            assert!(
                diff <= 1e-4 * scale,
                "{kind}: layer {layer} weight gradient differs by {diff} (scale {scale})"
            );
        }
    }
}

/// wgpu's f64 transcendental functions are unreliable, so kiln refuses f64 there.
#[cfg(feature = "wgpu")]
#[test]
fn f64_is_refused_on_wgpu() {
    let device = kiln_core::device(BackendKind::Wgpu).unwrap();
    let err =
        kiln_core::device::configure_precision(&device, kiln_core::Precision::F64).unwrap_err();
    assert!(err.to_string().contains("use f32 on wgpu"), "{err}");
}

/// The trainer (per-step reseeding, metrics, Adam with clipping) follows the same loss curve on
/// every backend for a deterministic loss.
#[test]
fn trainer_follows_the_same_curve_across_backends() {
    use kiln_core::train::{ProgressMode, TrainerConfig};
    // One set of weights for every backend: tests in this binary reseed the shared device
    // concurrently, so each backend must not draw its own.
    let flex = kiln_core::autodiff_device(BackendKind::Flex).unwrap();
    let reference = reference_model(&flex, Activation::Tanh);
    let curve = |kind: BackendKind| {
        let device = kiln_core::autodiff_device(kind).unwrap();
        let model = reference.clone().fork(&device);
        let x = points(&device);
        let target = x.clone().narrow(1, 0, 1).sin();
        TrainerConfig::new(30, 1e-2)
            .with_clip_grad_norm(Some(1.0))
            .with_progress(ProgressMode::Off)
            .init()
            .unwrap()
            .fit(model, &device, |m: &Mlp, _| {
                let jet = m.forward_jet(x.clone(), SecondOrder::Diagonal);
                let fit = (jet.value() - target.clone()).square().mean();
                let smooth = jet.laplacian().unwrap().square().mean().mul_scalar(1e-3);
                Ok((fit + smooth).into())
            })
            .unwrap()
            .losses
    };
    let want = curve(BackendKind::Flex);
    assert!(
        want[29] < want[0],
        "the reference run should make progress: {want:?}"
    );
    for kind in others() {
        let got = curve(kind);
        for (step, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-3 * b.abs(),
                "{kind} step {}: {a} vs flex {b}",
                step + 1
            );
        }
    }
}

/// The Lorenz vector field on a `[batch, 3]` state.
fn lorenz(_t: &kiln_neural_de::Time, y: &Tensor<2>) -> Tensor<2> {
    let x = y.clone().narrow(1, 0, 1);
    let v = y.clone().narrow(1, 1, 1);
    let z = y.clone().narrow(1, 2, 1);
    let dx = v.clone().sub(x.clone()).mul_scalar(10.0);
    let dy = x
        .clone()
        .mul(z.clone().neg().add_scalar(28.0))
        .sub(v.clone());
    let dz = x.mul(v).sub(z.mul_scalar(8.0 / 3.0));
    Tensor::cat(vec![dx, dy, dz], 1)
}

#[test]
fn ode_solves_agree_across_backends() {
    use kiln_neural_de::{ExplicitRk, SolveOptions, solve};
    let y0 = |device: &Device| {
        let values: Vec<f32> = (0..48)
            .map(|k| 1.0 + 0.1 * ((k as f32) * 1.37).sin())
            .collect();
        Tensor::<2>::from_data(TensorData::new(values, [16, 3]), device)
    };
    let flex = kiln_core::device(BackendKind::Flex).unwrap();
    // Fixed RK4 steps: identical arithmetic up to f32 rounding. Adaptive Dopri5 with per-sample
    // steps: the step sequences may differ by rounding, the solutions only by the tolerance.
    let cases = [
        (SolveOptions::fixed(0.01), 1e-4),
        (SolveOptions::adaptive(1e-5, 1e-7).per_sample(), 1e-3),
    ];
    for (options, tol) in cases {
        let solver = if options.controller().is_some() {
            ExplicitRk::dopri5()
        } else {
            ExplicitRk::rk4()
        };
        let want = solve(&lorenz, &solver, (0.0, 0.5), y0(&flex), &options).unwrap();
        for kind in others() {
            let device = kiln_core::device(kind).unwrap();
            let got = solve(&lorenz, &solver, (0.0, 0.5), y0(&device), &options).unwrap();
            let d = max_rel_diff(got.last().clone().to_device(&flex), want.last().clone());
            assert!(
                d < tol,
                "{kind} {:?}: Lorenz solution differs by {d}",
                options.step
            );
        }
    }
}
