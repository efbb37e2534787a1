//! Eigenvalue problems: the finite-difference reference against closed forms, and the PINN
//! eigen-solver on the infinite square well (E = π², then 4π² with an orthogonality loss).

mod common;

use std::f64::consts::PI;

use kiln_core::train::ProgressMode;
use kiln_core::{Jet, MlpConfig, SecondOrder};
use kiln_pinn::eigen::{EigenSolver, finite_difference_eigenvalues};
use kiln_pinn::jet_algebra::{add_scalar, mul};
use kiln_pinn::tridiagonal::symmetric_tridiagonal_eigenvalues;
use kiln_pinn::{Pinn, PinnTrainConfig, Points, Problem};

#[test]
fn tridiagonal_eigenvalues_match_the_discrete_laplacian() {
    // tridiag(-1, 2, -1) of size n: 2 - 2 cos(kπ/(n+1)).
    let n = 50;
    let got = symmetric_tridiagonal_eigenvalues(&vec![2.0; n], &vec![-1.0; n - 1]).unwrap();
    for (k, v) in got.iter().enumerate() {
        let exact = 2.0 - 2.0 * ((k + 1) as f64 * PI / (n + 1) as f64).cos();
        assert!((v - exact).abs() < 1e-12, "{k}: {v} vs {exact}");
    }
    assert!(symmetric_tridiagonal_eigenvalues(&[1.0, 2.0], &[]).is_err());
}

#[test]
fn finite_differences_converge_to_closed_forms() {
    // Infinite well on [0, 1]: n²π²; harmonic oscillator -½ψ'' + ½x²ψ: n + ½.
    let well = finite_difference_eigenvalues(|_| 0.0, 1.0, (0.0, 1.0), 2000, 3).unwrap();
    for (k, e) in well.iter().enumerate() {
        let exact = ((k + 1) as f64 * PI).powi(2);
        assert!((e / exact - 1.0).abs() < 1e-5, "well {k}: {e}");
    }
    let ho = finite_difference_eigenvalues(|x| 0.5 * x * x, 0.5, (-8.0, 8.0), 4000, 4).unwrap();
    for (k, e) in ho.iter().enumerate() {
        assert!((e - (k as f64 + 0.5)).abs() < 1e-4, "oscillator {k}: {e}");
    }
    // Second-order convergence: halving h divides the error by about 4.
    let err =
        |n| finite_difference_eigenvalues(|_| 0.0, 1.0, (0.0, 1.0), n, 1).unwrap()[0] - PI * PI;
    let ratio = err(99) / err(199);
    assert!((ratio - 4.0).abs() < 0.1, "ratio {ratio}");
    assert!(finite_difference_eigenvalues(|_| 0.0, 1.0, (1.0, 0.0), 10, 1).is_err());
}

/// Scale of the eigenvalue parameter: E = SCALE · θ, so Adam moves E SCALE times faster than a
/// network weight and the network cannot settle on a wrong E first.
const SCALE: f64 = 10.0;

/// -ψ'' = E ψ on [0, 1] with ψ = x(1 - x) N(x).
fn square_well(device: &burn::tensor::Device) -> EigenSolver {
    // A grid that includes the end points: there ψ = 0 and so ψ'' = 0 for every eigenfunction,
    // which rules out the spurious minima where N(x) blows up between the last point and x = 1.
    let n = 129;
    let xs: Vec<f64> = (0..n).map(|i| i as f64 / (n - 1) as f64).collect();
    let problem = Problem::new(1, 1, device)
        .with_residual(SecondOrder::Diagonal, |f| {
            let e = f.coefficient(0)?.mul_scalar(SCALE);
            Ok(f.u.d2(0, 0).expect("diagonal jet") + f.u.value() * e)
        })
        .with_collocation(Points::new(1, xs).unwrap())
        .unwrap()
        .with_transform(|x: &Jet, net: Jet| {
            let x0 = x.component(0);
            let bump = mul(&x0, &add_scalar(&x0.clone().mul_scalar(-1.0), 1.0))?;
            mul(&bump, &net)
        });
    EigenSolver::new(problem, 1.0).unwrap()
}

#[test]
fn square_well_ground_and_first_excited_state() {
    let device = common::device();
    device.seed(21);
    let mut solver = square_well(&device);
    let config = PinnTrainConfig::new(1000, 1e-2)
        .with_lbfgs_max_iter(500)
        .with_progress(ProgressMode::Off);
    let net = MlpConfig::new(vec![1, 16, 16, 1]).init(&device).unwrap();
    let model = Pinn::with_coefficients(net, &[6.0 / SCALE], &device).unwrap();
    let out = solver.train(model, &device, &config).unwrap();
    let e0 = SCALE * out.model.coefficient_values()[0];
    println!(
        "ground state E = {e0} (π² = {}), loss {:.3e}",
        PI * PI,
        out.final_loss()
    );
    assert!((e0 / (PI * PI) - 1.0).abs() < 1e-3, "E0 = {e0}");

    // The first excited state, kept orthogonal to the ground state, starting from a guess between.
    solver.add_previous(&out.model).unwrap();
    // The orthogonality loss is a function of the angle to the ground state, so it is flat at the
    // ground state itself; its weight must beat the squared eigenvalue gap (3π²)² ≈ 900 to make
    // the ground state a saddle rather than a minimum.
    let solver = solver.with_weights(100.0, 2000.0);
    let net = MlpConfig::new(vec![1, 16, 16, 1]).init(&device).unwrap();
    let model = Pinn::with_coefficients(net, &[25.0 / SCALE], &device).unwrap();
    let out = solver.train(model, &device, &config).unwrap();
    let e1 = SCALE * out.model.coefficient_values()[0];
    let terms: Vec<(String, f64)> = solver
        .terms(&out.model)
        .unwrap()
        .into_iter()
        .map(|t| (t.name, kiln_core::tensor::scalar(t.value)))
        .collect();
    println!(
        "first excited E = {e1} (4π² = {}), terms {terms:?}",
        4.0 * PI * PI
    );
    assert!((e1 / (4.0 * PI * PI) - 1.0).abs() < 1e-3, "E1 = {e1}");
    let norm = terms.iter().find(|t| t.0 == "normalisation").unwrap().1;
    assert!(norm < 1e-2, "(∫ψ² - 1)² = {norm}");
}

#[test]
fn without_normalisation_the_trivial_solution_wins() {
    // Training the bare residual (no normalisation, no scale invariance) collapses towards
    // ψ = 0: the failure the eigen-solver's losses exist to prevent.
    let device = common::device();
    device.seed(21);
    let solver = square_well(&device);
    let config = PinnTrainConfig::new(500, 1e-2).with_progress(ProgressMode::Off);
    let net = MlpConfig::new(vec![1, 16, 16, 1]).init(&device).unwrap();
    let model = Pinn::with_coefficients(net, &[6.0 / SCALE], &device).unwrap();
    let out = kiln_pinn::train(solver.problem(), model, &device, &config).unwrap();
    let plain = device.clone().without_autodiff();
    let pts = Points::new(1, vec![0.25, 0.5, 0.75]).unwrap();
    use burn::module::Module;
    let psi = solver
        .problem()
        .predict(&out.model.valid(), &pts, 0, &plain)
        .unwrap();
    let amplitude = psi.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(amplitude < 0.05, "ψ amplitude {amplitude}");
}
