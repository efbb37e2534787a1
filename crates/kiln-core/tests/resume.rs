//! A run interrupted after a checkpoint and resumed follows the uninterrupted run's loss curve.
//!
//! This file holds a single test so no other test reseeds the device while it runs.

use burn::tensor::{Distribution, Tensor};
use kiln_core::train::{
    OptimizerConfig, ProgressMode, Schedule, Trainer, TrainerConfig, read_metrics,
};
use kiln_core::{Activation, BackendKind, Mlp, MlpConfig};

fn config() -> TrainerConfig {
    TrainerConfig::new(60, 5e-3)
        .with_optimizer(OptimizerConfig::adam())
        .with_schedule(Schedule::Cosine { min_lr: 1e-4 })
        .with_clip_grad_norm(Some(1.0))
        .with_seed(11)
        .with_checkpoint_every(Some(10))
        .with_progress(ProgressMode::Off)
}

/// Fits sin(3x) on points redrawn at every step, so the RNG state matters for the curve.
fn run(trainer: &Trainer, resume: bool, init_seed: u64) -> Vec<f64> {
    let device = kiln_core::autodiff_device(backend()).unwrap();
    device.seed(init_seed);
    let model: Mlp = MlpConfig::new(vec![1, 16, 16, 1])
        .with_activation(Activation::Tanh)
        .init(&device)
        .unwrap();
    let loss = |m: &Mlp, _: &kiln_core::train::StepInfo| {
        let x = Tensor::<2>::random([64, 1], Distribution::Uniform(-1.0, 1.0), &device);
        let y = x.clone().mul_scalar(3.0).sin();
        Ok(kiln_core::metrics::mse(m.forward(x), y)?.into())
    };
    let outcome = if resume {
        trainer.fit_or_resume(model, &device, loss)
    } else {
        trainer.fit(model, &device, loss)
    };
    outcome.unwrap().losses
}

#[test]
fn resumed_run_reproduces_the_uninterrupted_loss_curve() {
    let root = std::env::temp_dir().join(format!("kiln-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);

    let whole = config().init().unwrap().with_output_dir(root.join("whole"));
    let reference = run(&whole, false, 1);
    assert_eq!(reference.len(), 60);
    assert!(
        reference[59] < reference[0] * 0.5,
        "the fit should make progress: {reference:?}"
    );

    let split_dir = root.join("split");
    let first = config()
        .init()
        .unwrap()
        .with_output_dir(&split_dir)
        .with_stop_after(25);
    let head = run(&first, false, 1);
    assert_eq!(head.len(), 25);

    // A different initial seed proves the weights come from the checkpoint, not from init.
    let rest = config().init().unwrap().with_output_dir(&split_dir);
    let resumed = run(&rest, true, 999);
    assert_eq!(resumed.len(), 60);
    for (step, (a, b)) in reference.iter().zip(&resumed).enumerate() {
        assert!(
            (a - b).abs() <= 1e-6 * a.abs().max(1e-12),
            "step {}: uninterrupted {a} vs resumed {b}",
            step + 1
        );
    }

    let records = read_metrics(split_dir.join("metrics.jsonl")).unwrap();
    let steps: Vec<usize> = records.iter().map(|r| r.step).collect();
    assert_eq!(
        steps,
        (1..=60).collect::<Vec<_>>(),
        "metrics.jsonl holds each step once"
    );
    assert!(records.iter().all(|r| r.grad_norm.is_some()));

    // A checkpoint from another configuration is refused with the differing field named.
    let mut other = config();
    other.lr = 1e-2;
    let other = other.init().unwrap().with_output_dir(&split_dir);
    let device = kiln_core::autodiff_device(backend()).unwrap();
    let model: Mlp = MlpConfig::new(vec![1, 16, 16, 1]).init(&device).unwrap();
    let err = other
        .fit_or_resume(model, &device, |m: &Mlp, _| {
            let x = Tensor::<2>::zeros([1, 1], &device);
            Ok(m.forward(x).sum().into())
        })
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("lr: 0.005 in the checkpoint, 0.01 now"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// The backend under test: `KILN_BACKEND`, flex by default.
fn backend() -> BackendKind {
    BackendKind::from_env().expect("KILN_BACKEND names a backend")
}
