//! The training loop: optimisers reach known minima, the divergence guard fires on NaN, global
//! clipping bounds the norm, and bad configs are errors.

use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use kiln_core::tensor::{from_f64, linspace};
use kiln_core::train::{
    OptimizerConfig, ProgressMode, Trainer, TrainerConfig, clip_grad_norm, global_grad_norm,
};
use kiln_core::{BackendKind, Error, Mlp, MlpConfig};

fn linear_fit(optimizer: OptimizerConfig, steps: usize, lr: f64) -> (Mlp, f64) {
    let out = linear_fit_outcome(optimizer, steps, lr);
    let loss = out.final_loss();
    (out.model, loss)
}

fn linear_fit_outcome(
    optimizer: OptimizerConfig,
    steps: usize,
    lr: f64,
) -> kiln_core::train::TrainOutcome<Mlp> {
    let device = kiln_core::autodiff_device(backend()).unwrap();
    device.seed(3);
    // A single linear layer: the least-squares minimum of y = 3x - 2 is exactly (3, -2).
    let model = MlpConfig::new(vec![1, 1]).init(&device).unwrap();
    let x = linspace(-1.0, 1.0, 32, &device);
    let y = x.clone().mul_scalar(3.0).add_scalar(-2.0);
    let trainer: Trainer = TrainerConfig::new(steps, lr)
        .with_optimizer(optimizer)
        .with_progress(ProgressMode::Off)
        .init()
        .unwrap();
    trainer
        .fit(model, &device, |m: &Mlp, _| {
            Ok(kiln_core::metrics::mse(m.forward(x.clone()), y.clone())?.into())
        })
        .unwrap()
}

#[test]
fn lbfgs_solves_least_squares_to_machine_precision() {
    let out = linear_fit_outcome(OptimizerConfig::lbfgs(), 5, 1.0);
    // A two-parameter quadratic: the first step meets a tolerance and ends the run.
    assert!(out.converged);
    assert_eq!(out.steps, 1);
    let iterations = out.lbfgs_iterations.unwrap();
    assert!((1..20).contains(&iterations), "{iterations} iterations");
    let loss = out.final_loss();
    let model = out.model;
    assert!(loss < 1e-9, "L-BFGS loss {loss}");
    let w = model.layers[0].weight.val().into_scalar::<f64>();
    let b = model.layers[0]
        .bias
        .as_ref()
        .unwrap()
        .val()
        .into_scalar::<f64>();
    assert!(
        (w - 3.0).abs() < 1e-4 && (b + 2.0).abs() < 1e-4,
        "w = {w}, b = {b}"
    );
}

/// L-BFGS keeps curvature pairs across steps; a resumed run must restore them to follow the
/// uninterrupted curve. The loss is deterministic, so device reseeding plays no part.
#[test]
fn lbfgs_resumes_with_its_history() {
    let root = std::env::temp_dir().join(format!("kiln-lbfgs-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let device = kiln_core::autodiff_device(backend()).unwrap();
    let x = linspace(-1.0, 1.0, 24, &device);
    let y = x.clone().mul_scalar(2.0).sin();
    let config = TrainerConfig::new(6, 1.0)
        .with_optimizer(OptimizerConfig::Lbfgs {
            max_iter: 5,
            history: 10,
            strong_wolfe: true,
            // No tolerance can stop a step early (which would end the run before the resume).
            tolerance_grad: 0.0,
            tolerance_change: 0.0,
        })
        .with_progress(ProgressMode::Off);
    let fresh_model = || {
        // Every parameter explicit rather than drawn: other tests reseed the shared device.
        let param = |values: &[f64], shape: [usize; 2]| {
            burn::module::Param::from_tensor(from_f64(values, shape, &device).unwrap())
        };
        let vector = |values: &[f64]| {
            let t = from_f64(values, [1, values.len()], &device).unwrap();
            burn::module::Param::from_tensor(t.reshape([values.len()]))
        };
        let mut model = MlpConfig::new(vec![1, 6, 1]).init(&device).unwrap();
        let w: Vec<f64> = (0..6).map(|k| 0.3 * (k as f64 - 2.5)).collect();
        let b: Vec<f64> = (0..6).map(|k| 0.1 * k as f64 - 0.2).collect();
        model.layers[0].weight = param(&w, [1, 6]);
        model.layers[0].bias = Some(vector(&b));
        model.layers[1].weight = param(&[0.2, -0.1, 0.3, 0.1, -0.2, 0.25], [6, 1]);
        model.layers[1].bias = Some(vector(&[0.05]));
        model
    };
    let loss = |m: &Mlp, _: &kiln_core::train::StepInfo| {
        Ok(kiln_core::metrics::mse(m.forward(x.clone()), y.clone())?.into())
    };
    let whole = config.init().unwrap().with_output_dir(root.join("whole"));
    let whole = whole.fit(fresh_model(), &device, loss).unwrap();
    let reference = whole.losses;
    let split = root.join("split");
    let head = config
        .init()
        .unwrap()
        .with_output_dir(&split)
        .with_stop_after(3);
    head.fit(fresh_model(), &device, loss).unwrap();
    let resumed = config
        .init()
        .unwrap()
        .with_output_dir(&split)
        .fit_or_resume(fresh_model(), &device, loss)
        .unwrap();
    assert_eq!(resumed.resumed_from, 3);
    // The iteration counter travels with the optimiser state.
    assert_eq!(resumed.lbfgs_iterations, whole.lbfgs_iterations);
    assert!(
        reference[5] < 0.5 * reference[0],
        "L-BFGS should make progress: {reference:?}"
    );
    for (step, (a, b)) in reference.iter().zip(&resumed.losses).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 * a.abs().max(1e-12),
            "step {}: {a} vs resumed {b}",
            step + 1
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// The outcome counts L-BFGS iterations (not loss evaluations, of which a strong-Wolfe line
/// search may take several per iteration).
#[test]
fn lbfgs_reports_its_iterations() {
    let device = kiln_core::autodiff_device(backend()).unwrap();
    device.seed(5);
    let model = MlpConfig::new(vec![1, 8, 1]).init(&device).unwrap();
    let x = linspace(-1.0, 1.0, 32, &device);
    let y = x.clone().mul_scalar(3.0).sin();
    let evaluations = std::cell::Cell::new(0usize);
    let steps = 4;
    let out = TrainerConfig::new(steps, 1.0)
        .with_optimizer(OptimizerConfig::Lbfgs {
            max_iter: 1,
            history: 10,
            strong_wolfe: true,
            tolerance_grad: 0.0,
            tolerance_change: 0.0,
        })
        .with_progress(ProgressMode::Off)
        .init()
        .unwrap()
        .fit(model, &device, |m: &Mlp, _| {
            evaluations.set(evaluations.get() + 1);
            Ok(kiln_core::metrics::mse(m.forward(x.clone()), y.clone())?.into())
        })
        .unwrap();
    // One iteration per step: the step's first evaluation, at least one line-search trial,
    // and the trainer's report of the accepted loss.
    assert_eq!(out.lbfgs_iterations, Some(steps));
    assert!(
        evaluations.get() >= 3 * steps,
        "{} evaluations",
        evaluations.get()
    );
    let adam = TrainerConfig::new(1, 0.1)
        .with_progress(ProgressMode::Off)
        .init()
        .unwrap()
        .fit(
            MlpConfig::new(vec![1, 1]).init(&device).unwrap(),
            &device,
            |m: &Mlp, _| Ok(kiln_core::metrics::mse(m.forward(x.clone()), y.clone())?.into()),
        )
        .unwrap();
    assert_eq!(adam.lbfgs_iterations, None);
}

/// A run whose L-BFGS converged before its last step resumes as finished: no further steps.
#[test]
fn converged_lbfgs_resumes_as_finished() {
    let root = std::env::temp_dir().join(format!("kiln-lbfgs-converged-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let device = kiln_core::autodiff_device(backend()).unwrap();
    device.seed(3);
    let x = linspace(-1.0, 1.0, 32, &device);
    let y = x.clone().mul_scalar(3.0).add_scalar(-2.0);
    let loss = |m: &Mlp, _: &kiln_core::train::StepInfo| {
        Ok(kiln_core::metrics::mse(m.forward(x.clone()), y.clone())?.into())
    };
    let trainer = || {
        TrainerConfig::new(5, 1.0)
            .with_optimizer(OptimizerConfig::lbfgs())
            .with_checkpoint_every(Some(1))
            .with_progress(ProgressMode::Off)
            .init()
            .unwrap()
            .with_output_dir(&root)
    };
    let model = || MlpConfig::new(vec![1, 1]).init(&device).unwrap();
    let first = trainer().fit_or_resume(model(), &device, loss).unwrap();
    assert!(first.converged && first.steps == 1, "{first:?}");
    let again = trainer().fit_or_resume(model(), &device, loss).unwrap();
    assert!(again.converged);
    assert_eq!((again.steps, again.resumed_from), (1, 1));
    assert_eq!(again.losses, first.losses);
    assert_eq!(again.lbfgs_iterations, first.lbfgs_iterations);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn adam_and_adamw_converge_on_least_squares() {
    let (_, adam) = linear_fit(OptimizerConfig::adam(), 800, 0.05);
    assert!(adam < 1e-6, "Adam loss {adam}");
    let (_, adamw) = linear_fit(OptimizerConfig::adamw(), 800, 0.05);
    // Decoupled decay biases the weights slightly away from the least-squares optimum.
    assert!(adamw < 1e-3, "AdamW loss {adamw}");
}

#[test]
fn nan_loss_stops_with_the_step_and_last_finite_loss() {
    let device = kiln_core::autodiff_device(backend()).unwrap();
    let model = MlpConfig::new(vec![1, 4, 1]).init(&device).unwrap();
    let x = linspace(0.0, 1.0, 8, &device);
    let trainer = TrainerConfig::new(20, 1e-3)
        .with_progress(ProgressMode::Off)
        .init()
        .unwrap();
    let err = trainer
        .fit(model, &device, |m: &Mlp, info| {
            let loss = m.forward(x.clone()).square().mean().add_scalar(1.0);
            // Step 5 (index 4) produces NaN, as a blown-up residual would.
            Ok(if info.step == 4 {
                loss.mul_scalar(f64::NAN)
            } else {
                loss
            }
            .into())
        })
        .unwrap_err();
    match &err {
        Error::Diverged {
            step,
            loss,
            last_finite,
        } => {
            assert_eq!(*step, 5);
            assert!(loss.is_nan());
            assert!(last_finite.0.is_some_and(|l| l.is_finite() && l >= 1.0));
        }
        other => panic!("expected Diverged, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("step 5") && text.contains("last finite loss"),
        "{text}"
    );
}

#[test]
fn non_finite_gradient_with_finite_loss_is_reported() {
    let device = kiln_core::autodiff_device(backend()).unwrap();
    let model = MlpConfig::new(vec![1, 4, 1]).init(&device).unwrap();
    let x = linspace(0.0, 1.0, 8, &device);
    let trainer = TrainerConfig::new(5, 1e-3)
        .with_progress(ProgressMode::Off)
        .init()
        .unwrap();
    let err = trainer
        .fit(model, &device, |m: &Mlp, _| {
            // sqrt(u² · 0) is 0, but its derivative at 0 is infinite: a classic NaN-gradient trap.
            let u = m.forward(x.clone());
            Ok(u.square().mul_scalar(0.0).sqrt().mean().into())
        })
        .unwrap_err();
    assert!(
        matches!(err, Error::NonFiniteGradient { step: 1, loss, .. } if loss == 0.0),
        "{err:?}"
    );
    assert!(err.to_string().contains("gradient norm"), "{err}");
}

#[test]
fn clipping_scales_the_global_norm() {
    let device = kiln_core::autodiff_device(backend()).unwrap();
    let model = MlpConfig::new(vec![2, 8, 1]).init(&device).unwrap();
    let x = from_f64(&[1.0, 2.0, -3.0, 0.5], [2, 2], &device).unwrap();
    let loss = model.forward(x).mul_scalar(100.0).sum();
    let mut grads = GradientsParams::from_grads(loss.backward(), &model);
    let before = global_grad_norm(&model, &grads);
    assert!(before > 1.0);
    let reported = clip_grad_norm(&model, &mut grads, 0.5);
    assert!((reported - before).abs() < 1e-9 * before);
    let after = global_grad_norm(&model, &grads);
    assert!((after - 0.5).abs() < 1e-4, "norm after clipping {after}");
}

#[test]
fn invalid_configs_name_the_field() {
    let cases: Vec<(TrainerConfig, &str)> = vec![
        (TrainerConfig::new(0, 1e-3), "steps"),
        (TrainerConfig::new(10, -1.0), "lr"),
        (
            TrainerConfig::new(10, 1e-3).with_clip_grad_norm(Some(0.0)),
            "clip_grad_norm",
        ),
        (
            TrainerConfig::new(10, 1e-3).with_optimizer(OptimizerConfig::Adam {
                beta1: 1.2,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.0,
            }),
            "beta1",
        ),
        (
            TrainerConfig::new(10, 1.0)
                .with_optimizer(OptimizerConfig::lbfgs())
                .with_clip_grad_norm(Some(1.0)),
            "line search",
        ),
        (TrainerConfig::new(10, 1e-3).with_log_every(0), "log_every"),
    ];
    for (config, field) in cases {
        let err = config.init().unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
        assert!(err.to_string().contains(field), "{err}");
    }
}

#[test]
fn trainer_config_round_trips_through_json() {
    let config = TrainerConfig::new(100, 1e-3)
        .with_optimizer(OptimizerConfig::lbfgs())
        .with_clip_grad_norm(Some(2.0));
    let json = serde_json::to_string(&config).unwrap();
    let back: TrainerConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(config, back);
}

#[test]
fn metrics_match_closed_forms() {
    let device = kiln_core::device(backend()).unwrap();
    let pred = from_f64(&[1.0, 2.0, 3.0, 4.0], [2, 2], &device).unwrap();
    let target = from_f64(&[1.0, 1.0, 3.0, 6.0], [2, 2], &device).unwrap();
    let mse = kiln_core::metrics::mse(pred.clone(), target.clone())
        .unwrap()
        .into_scalar::<f64>();
    assert!((mse - 5.0 / 4.0).abs() < 1e-6);
    // Per-sample relative L2: |(0,1)|/|(1,1)| and |(0,-2)|/|(3,6)|, averaged.
    let rel = kiln_core::metrics::relative_l2(pred.clone(), target.clone())
        .unwrap()
        .into_scalar::<f64>();
    let expected = 0.5 * (1.0 / 2f64.sqrt() + 2.0 / 45f64.sqrt());
    assert!((rel - expected).abs() < 1e-6, "{rel} vs {expected}");
    let l1 = kiln_core::metrics::relative_lp(pred.clone(), target.clone(), 1.0)
        .unwrap()
        .into_scalar::<f64>();
    assert!((l1 - 0.5 * (0.5 + 2.0 / 9.0)).abs() < 1e-6);
    let max = kiln_core::metrics::max_abs_error(pred.clone(), target.clone())
        .unwrap()
        .into_scalar::<f64>();
    assert!((max - 2.0).abs() < 1e-6);
    let host = kiln_core::metrics::relative_l2_values(&[3.0, 4.0], &[0.0, 4.0]).unwrap();
    assert!((host - 0.75).abs() < 1e-15, "{host}");
    assert!(kiln_core::metrics::relative_l2_values(&[1.0], &[1.0, 2.0]).is_err());
    let bad = Tensor::<2>::zeros([3, 2], &device);
    assert!(matches!(
        kiln_core::metrics::mse(pred, bad),
        Err(Error::ShapeMismatch { .. })
    ));
}

/// The backend under test: `KILN_BACKEND`, flex by default.
fn backend() -> BackendKind {
    BackendKind::from_env().expect("KILN_BACKEND names a backend")
}
