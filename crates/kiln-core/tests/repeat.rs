//! Seeded runs repeat exactly on CPU backends, and another seed gives another run.
//!
//! This file holds a single test so no other test reseeds the device while it runs.

use burn::tensor::{Distribution, Tensor};
use kiln_core::train::{ProgressMode, StepInfo, TrainerConfig};
use kiln_core::{BackendKind, Mlp, MlpConfig};

/// Initial weights from `init_seed`, then 20 steps on points drawn inside the loss.
fn run(init_seed: u64, run_seed: u64) -> Vec<f64> {
    let backend = BackendKind::from_env().expect("KILN_BACKEND names a backend");
    let device = kiln_core::autodiff_device(backend).unwrap();
    device.seed(init_seed);
    let model: Mlp = MlpConfig::new(vec![2, 12, 1]).init(&device).unwrap();
    // Touch the weights now, so they are drawn from `init_seed` and not inside step 0.
    let _ = model.forward(Tensor::zeros([1, 2], &device));
    TrainerConfig::new(20, 1e-2)
        .with_seed(run_seed)
        .with_progress(ProgressMode::Off)
        .init()
        .unwrap()
        .fit(model, &device, |m: &Mlp, _: &StepInfo| {
            let x = Tensor::<2>::random([32, 2], Distribution::Normal(0.0, 1.0), &device);
            let y = x.clone().narrow(1, 0, 1).cos();
            Ok(kiln_core::metrics::mse(m.forward(x), y)?.into())
        })
        .unwrap()
        .losses
}

#[test]
fn same_seeds_repeat_bit_for_bit_and_other_seeds_differ() {
    let a = run(1, 7);
    assert_eq!(a, run(1, 7), "the same seeds must give the same curve");
    assert_ne!(
        a,
        run(2, 7),
        "another initialisation seed must change the curve"
    );
    assert_ne!(
        a,
        run(1, 8),
        "another run seed must change the sampled points"
    );
}
