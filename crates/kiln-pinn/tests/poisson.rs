//! Training runs on 1-D Poisson problems: soft Dirichlet conditions and a hard constraint.

mod common;

use std::f64::consts::PI;

use burn::module::Module;
use kiln_core::rng::Rng;
use kiln_core::train::ProgressMode;
use kiln_core::{Jet, MlpConfig, SecondOrder};
use kiln_pinn::geometry::Hyperbox;
use kiln_pinn::jet_algebra::{add_scalar, mul};
use kiln_pinn::{Condition, Geometry, Pinn, PinnTrainConfig, Points, Problem, Sampler, train};

/// -u'' = π² sin(πx) on [0, 1]: exact solution sin(πx).
fn poisson(device: &burn::tensor::Device) -> Problem {
    let domain = Hyperbox::interval(0.0, 1.0).unwrap();
    let mut rng = Rng::new(3);
    let x = domain
        .sample_interior(64, Sampler::Sobol, &mut rng)
        .unwrap();
    Problem::new(1, 1, device)
        .with_residual(SecondOrder::Diagonal, |f| {
            let uxx = f.u.d2(0, 0).expect("diagonal jet");
            let source = f.x.clone().mul_scalar(PI).sin().mul_scalar(PI * PI);
            Ok(uxx + source)
        })
        .with_collocation(x)
        .unwrap()
}

fn error(problem: &Problem, model: &Pinn<kiln_core::Mlp>, _device: &burn::tensor::Device) -> f64 {
    common::error_on_unit_interval(problem, model, 200, |x| (PI * x).sin())
}

fn config() -> PinnTrainConfig {
    PinnTrainConfig::new(500, 5e-3)
        .with_lbfgs_max_iter(300)
        .with_progress(ProgressMode::Off)
}

#[test]
fn soft_dirichlet_poisson_reaches_one_percent() {
    let device = common::device();
    device.seed(11);
    let ends = Points::new(1, vec![0.0, 1.0]).unwrap();
    let problem = poisson(&device)
        .with_condition(Condition::dirichlet("ends", ends, |_| 0.0).unwrap())
        .unwrap();
    let net = MlpConfig::new(vec![1, 20, 20, 1]).init(&device).unwrap();
    let out = train(&problem, Pinn::new(net), &device, &config()).unwrap();
    let err = error(&problem, &out.model, &device);
    println!(
        "soft: rel L2 {err:.2e}, loss {:.2e}, {:.2} ms/Adam step, {} L-BFGS iterations ({} evaluations)",
        out.final_loss(),
        out.ms_per_adam_step(),
        out.lbfgs_iterations,
        out.lbfgs_evaluations
    );
    assert!(err < 1e-2, "relative L2 error {err}");
    // Every iteration takes at least one line-search evaluation.
    assert!(out.lbfgs_iterations > 0 && out.lbfgs_iterations <= out.lbfgs_evaluations);
    assert!(out.lbfgs_iterations <= 300);
}

#[test]
fn hard_constraint_poisson_reaches_one_percent() {
    let device = common::device();
    device.seed(12);
    // u = x (1 - x) N(x) satisfies both boundary values exactly.
    let problem = poisson(&device).with_transform(|x: &Jet, n: Jet| {
        let x0 = x.component(0);
        let one_minus = add_scalar(&x0.clone().mul_scalar(-1.0), 1.0);
        mul(&mul(&x0, &one_minus)?, &n)
    });
    let net = MlpConfig::new(vec![1, 20, 20, 1]).init(&device).unwrap();
    let out = train(&problem, Pinn::new(net), &device, &config()).unwrap();
    let err = error(&problem, &out.model, &device);
    println!("hard: rel L2 {err:.2e}, loss {:.2e}", out.final_loss());
    assert!(err < 1e-2, "relative L2 error {err}");
    // The constraint holds exactly, whatever the network learned.
    let plain = device.clone().without_autodiff();
    let ends = Points::new(1, vec![0.0, 1.0]).unwrap();
    let u = problem
        .predict(&out.model.valid(), &ends, 0, &plain)
        .unwrap();
    assert!(u.iter().all(|v| v.abs() < 1e-6), "boundary values {u:?}");
}

/// With an output directory both phases checkpoint: a finished run returns at once, and a run
/// whose L-BFGS phase was lost resumes from the Adam checkpoint to the same result.
#[test]
fn training_resumes_from_its_checkpoints() {
    let device = common::device();
    let dir = std::env::temp_dir().join(format!("kiln-pinn-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let problem = poisson(&device).with_transform(|x: &Jet, n: Jet| {
        let x0 = x.component(0);
        let one_minus = add_scalar(&x0.clone().mul_scalar(-1.0), 1.0);
        mul(&mul(&x0, &one_minus)?, &n)
    });
    let config = PinnTrainConfig::new(200, 5e-3)
        .with_lbfgs_max_iter(100)
        .with_checkpoint_every(50)
        .with_output_dir(Some(dir.to_string_lossy().into_owned()))
        .with_progress(ProgressMode::Off);
    let net = || MlpConfig::new(vec![1, 16, 1]).init(&device).unwrap();
    let first = train(&problem, Pinn::new(net()), &device, &config).unwrap();
    assert_eq!(first.adam_steps, 200);
    assert!(first.lbfgs_iterations > 0);
    // Finished: nothing runs again and the same model comes back.
    let again = train(&problem, Pinn::new(net()), &device, &config).unwrap();
    assert_eq!((again.adam_steps, again.lbfgs_evaluations), (0, 0));
    assert_eq!(again.losses, first.losses);
    assert!(
        (error(&problem, &again.model, &device) - error(&problem, &first.model, &device)).abs()
            < 1e-12
    );
    // The L-BFGS phase lost: Adam's final checkpoint is the starting point again.
    std::fs::remove_dir_all(dir.join("lbfgs")).unwrap();
    let resumed = train(&problem, Pinn::new(net()), &device, &config).unwrap();
    assert_eq!(resumed.adam_steps, 0);
    assert_eq!(resumed.lbfgs_iterations, first.lbfgs_iterations);
    assert_eq!(resumed.losses, first.losses);
    let _ = std::fs::remove_dir_all(&dir);
}
