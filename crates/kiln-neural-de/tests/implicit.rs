//! Kvaerno5 against oracles: published stiff reference solutions (Robertson, Van der Pol with
//! μ = 1000), its order of convergence on a linear system with a host matrix exponential,
//! L-stability on a very stiff relaxation, batch consistency, and shape errors.

mod common;

use std::cell::Cell;
use std::sync::OnceLock;

use kiln_core::Precision;
use kiln_core::burn::tensor::{Device, Tensor, TensorData};
use kiln_core::device::configure_precision;
use kiln_neural_de::implicit::{Jacobian, Kvaerno5};
use kiln_neural_de::{Error, ExplicitRk, SolveOptions, Time, VectorField, solve};

use common::{expm, values};

/// The flex device in f64, configured once for all tests of this binary (they run in parallel).
fn device() -> Device {
    static CONFIGURED: OnceLock<()> = OnceLock::new();
    let device = Device::flex();
    CONFIGURED.get_or_init(|| {
        configure_precision(&device, Precision::F64).expect("flex runs in f64");
    });
    device
}

fn tensor(values: Vec<f64>, shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Robertson's reaction `A → B` (rate `a`), `2B → B + C` (`b`), `B + C → A + C` (`c`), one set
/// of rates per sample.
struct Robertson {
    a: Tensor<2>,
    b: Tensor<2>,
    c: Tensor<2>,
}

impl Robertson {
    fn new(rates: &[(f64, f64, f64)], device: &Device) -> Self {
        let column = |f: fn(&(f64, f64, f64)) -> f64| {
            tensor(rates.iter().map(f).collect(), [rates.len(), 1], device)
        };
        Self {
            a: column(|r| r.0),
            b: column(|r| r.1),
            c: column(|r| r.2),
        }
    }

    fn standard(device: &Device) -> Self {
        Self::new(&[(0.04, 3e7, 1e4)], device)
    }
}

impl VectorField<2> for Robertson {
    fn eval(&self, _t: &Time, y: &Tensor<2>) -> Tensor<2> {
        let y1 = y.clone().narrow(1, 0, 1);
        let y2 = y.clone().narrow(1, 1, 1);
        let y3 = y.clone().narrow(1, 2, 1);
        let r1 = self.a.clone().mul(y1);
        let r2 = self.b.clone().mul(y2.clone().square());
        let r3 = self.c.clone().mul(y2).mul(y3);
        Tensor::cat(
            vec![r3.clone().sub(r1.clone()), r1.sub(r2.clone()).sub(r3), r2],
            1,
        )
    }
}

/// Robertson at t = 100. `y1` and `y3` are the reference values 0.617234906 and 0.382758940
/// (published to six digits as 0.617235 and 0.382759). `y2`, published as 6.1536e-6, sits on the
/// quasi-steady state `0.04 y1 = 1e4 y2 y3 + 3e7 y2²` to about 1e-6 relative (its stiff rate
/// ~4e3 against a slow drift of y2 below 1e-2 per unit time), so it is that root: 6.1535853e-6.
fn robertson_reference() -> [f64; 3] {
    let (y1, y3): (f64, f64) = (0.617_234_906, 0.382_758_940);
    let (a, b, c): (f64, f64, f64) = (3e7, 1e4 * y3, -0.04 * y1);
    let y2 = (-b + (b * b - 4.0 * a * c).sqrt()) / (2.0 * a);
    assert!(
        (y2 / 6.1536e-6 - 1.0).abs() < 1e-5,
        "y2 = {y2} against the published 6.1536e-6"
    );
    [y1, y2, y3]
}

fn robertson_y0(batch: usize, device: &Device) -> Tensor<2> {
    tensor([1.0, 0.0, 0.0].repeat(batch), [batch, 3], device)
}

#[test]
fn robertson_matches_the_reference_in_few_steps() {
    let device = device();
    let field = Robertson::standard(&device);
    let (rtol, atol) = (1e-6, 1e-10);
    // Newton's tolerances follow the controller's.
    let solver = Kvaerno5::new();
    let options = SolveOptions::adaptive(rtol, atol);
    let solution = solve(
        &field,
        &solver,
        (0.0, 100.0),
        robertson_y0(1, &device),
        &options,
    )
    .expect("Kvaerno5 solves Robertson");
    let y = values(solution.last());
    let rel: Vec<f64> = y
        .iter()
        .zip(robertson_reference())
        .map(|(got, want)| ((got - want) / want).abs())
        .collect();
    let steps = solution.stats.steps;
    println!(
        "robertson: y = {y:?}, relative errors {rel:?}, stats {:?}",
        solution.stats
    );
    assert!(rel.iter().all(|e| *e < 1e-4), "relative errors {rel:?}");
    // The linear invariant y1 + y2 + y3 = 1 holds to rounding for any Runge-Kutta method.
    assert!((y.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(steps < 1000, "{steps} steps");

    // An explicit method is limited by stability: it either runs out of a budget of ten times
    // as many steps or needs more than ten times as many.
    let budget = SolveOptions::adaptive(rtol, atol).max_steps(10 * steps);
    match solve(
        &field,
        &ExplicitRk::dopri5(),
        (0.0, 100.0),
        robertson_y0(1, &device),
        &budget,
    ) {
        Err(Error::MaxStepsReached { t, .. }) => println!("dopri5 stopped at t = {t}"),
        Ok(s) => assert!(s.stats.steps > 10 * steps, "dopri5 took {:?}", s.stats),
        Err(e) => panic!("dopri5 failed unexpectedly: {e}"),
    }
}

/// Van der Pol in the stiff test set's scaling: `y1' = y2`, `y2' = ((1 - y1²) y2 - y1) / ε`.
fn van_der_pol(epsilon: f64) -> impl Fn(&Time, &Tensor<2>) -> Tensor<2> {
    van_der_pol_per_sample(&[epsilon])
}

/// Van der Pol with one `ε` per sample (row); a single `ε` applies to every sample.
fn van_der_pol_per_sample(epsilons: &[f64]) -> impl Fn(&Time, &Tensor<2>) -> Tensor<2> + use<> {
    let eps = tensor(epsilons.to_vec(), [epsilons.len(), 1], &device());
    move |_t: &Time, y: &Tensor<2>| {
        let y1 = y.clone().narrow(1, 0, 1);
        let y2 = y.clone().narrow(1, 1, 1);
        let dy2 = y1
            .clone()
            .square()
            .neg()
            .add_scalar(1.0)
            .mul(y2.clone())
            .sub(y1)
            .div(eps.clone());
        Tensor::cat(vec![y2, dy2], 1)
    }
}

#[test]
fn van_der_pol_mu_1000_matches_the_test_set() {
    let device = device();
    let reference = [1.706_167_732_170_483, -0.892_809_701_024_797_5];
    let tol = 1e-7;
    // Newton's tolerances follow the controller's.
    let solver = Kvaerno5::new();
    let y0 = tensor(vec![2.0, -0.66], [1, 2], &device);
    let solution = solve(
        &van_der_pol(1e-6),
        &solver,
        (0.0, 2.0),
        y0,
        &SolveOptions::adaptive(tol, tol),
    )
    .expect("Kvaerno5 solves Van der Pol");
    let y = values(solution.last());
    let rel: Vec<f64> = y
        .iter()
        .zip(reference)
        .map(|(got, want)| ((got - want) / want).abs())
        .collect();
    println!(
        "vdpol: y = {y:?}, relative errors {rel:?}, stats {:?}",
        solution.stats
    );
    assert!(rel.iter().all(|e| *e < 1e-4), "relative errors {rel:?}");
}

/// A small deterministic generator (splitmix64) for the test matrix.
struct SplitMix(u64);

impl SplitMix {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

#[test]
fn fixed_steps_converge_at_fifth_order_on_a_linear_system() {
    let device = device();
    let n = 4;
    let mut rng = SplitMix(7);
    // A = S - B Bᵀ / 2 - I / 2 with S skew: eigenvalues have real parts ≤ -1/2.
    let b: Vec<f64> = (0..n * n).map(|_| rng.uniform()).collect();
    let s: Vec<f64> = (0..n * n).map(|_| rng.uniform()).collect();
    let a: Vec<f64> = (0..n * n)
        .map(|idx| {
            let (i, j) = (idx / n, idx % n);
            let bbt: f64 = (0..n).map(|k| b[i * n + k] * b[j * n + k]).sum();
            (s[i * n + j] - s[j * n + i]) - 0.5 * bbt - if i == j { 0.5 } else { 0.0 }
        })
        .collect();
    let y0 = [1.0, -0.5, 0.25, 2.0];
    let t1 = 2.0;
    let propagator = expm(&a.iter().map(|x| x * t1).collect::<Vec<_>>(), n);
    let exact: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| propagator[i * n + j] * y0[j]).sum())
        .collect();

    // y' = y Aᵀ on rows.
    let a_t = tensor(
        (0..n * n).map(|idx| a[(idx % n) * n + idx / n]).collect(),
        [n, n],
        &device,
    );
    let field = move |_t: &Time, y: &Tensor<2>| y.clone().matmul(a_t.clone());
    let solver = Kvaerno5::new().with_newton_tol(1e-13, 1e-15);
    let dts = [0.2, 0.1, 0.05, 0.025];
    let errors: Vec<f64> = dts
        .iter()
        .map(|&dt| {
            let y = solve(
                &field,
                &solver,
                (0.0, t1),
                tensor(y0.to_vec(), [1, n], &device),
                &SolveOptions::fixed(dt),
            )
            .expect("fixed steps");
            values(y.last())
                .iter()
                .zip(&exact)
                .map(|(g, w)| (g - w).abs())
                .fold(0.0, f64::max)
        })
        .collect();
    // Least-squares slope of log error against log dt.
    let xs: Vec<f64> = dts.iter().map(|d| d.ln()).collect();
    let ys: Vec<f64> = errors.iter().map(|e| e.ln()).collect();
    let (mx, my) = (xs.iter().sum::<f64>() / 4.0, ys.iter().sum::<f64>() / 4.0);
    let slope = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| (x - mx) * (y - my))
        .sum::<f64>()
        / xs.iter().map(|x| (x - mx).powi(2)).sum::<f64>();
    println!("linear system: errors {errors:?}, slope {slope:.3}");
    assert!(
        (slope - 5.0).abs() < 0.25,
        "slope {slope}, errors {errors:?}"
    );
}

#[test]
fn very_stiff_relaxation_is_damped_in_one_large_step() {
    let device = device();
    let lambda = 1e6;
    let field =
        move |t: &Time, y: &Tensor<2>| y.clone().sub(t.broadcast(y).cos()).mul_scalar(-lambda);
    let solver = Kvaerno5::new().with_newton_tol(1e-8, 1e-10);
    // Start off the slow manifold y ≈ cos t with steps of 10⁵ / λ; save at the step ends and
    // halfway between them.
    let times: Vec<f64> = (1..=100).map(|i| f64::from(i) * 0.05).collect();
    let options = SolveOptions::fixed(0.1).save_times(times);
    let y0 = tensor(vec![0.0], [1, 1], &device);
    let solution = solve(&field, &solver, (0.0, 5.0), y0, &options).expect("fixed steps");
    // y = (λ² cos t + λ sin t) / (λ² + 1) - λ² / (λ² + 1) e^(-λt) from y(0) = 0.
    let l2 = lambda * lambda;
    let exact = |t: f64| (l2 * t.cos() + lambda * t.sin() - l2 * (-lambda * t).exp()) / (l2 + 1.0);
    let deviation: Vec<f64> = solution
        .ts
        .iter()
        .zip(&solution.ys)
        .map(|(t, y)| (y.clone().into_scalar::<f64>() - exact(*t)).abs())
        .collect();
    // Index 2i + 1 is the end of step i + 1, index 2i halfway through it.
    let first_step = deviation[1];
    let ends = deviation
        .iter()
        .skip(3)
        .step_by(2)
        .fold(0.0, |m: f64, d| m.max(*d));
    let middles = deviation
        .iter()
        .skip(4)
        .step_by(2)
        .fold(0.0, |m: f64, d| m.max(*d));
    println!(
        "stiff relaxation: |y - y_exact| after one step {first_step:e}, at later step ends \
         {ends:e}, halfway (Hermite, from step 3) {middles:e}"
    );
    // L-stability: the unit initial offset is gone after one step (an A-stable method with
    // R(∞) = -1 would keep it), and the later steps follow the slow solution.
    assert!(first_step < 1e-4, "after one step: {first_step}");
    assert!(ends < 1e-6, "step ends: {ends}");
    // Hermite output uses f(t₀, y₀), which multiplies the state's error at t₀ by λ h / 8 = 1.25e4
    // halfway: a 4e-9 error at a step end becomes 5e-5 halfway through the next step.
    assert!(middles < 1e-4, "halfway: {middles}");
}

#[test]
fn a_batch_matches_its_samples_solved_alone() {
    let device = device();
    let rates = [
        (0.04, 3e7, 1e4),
        (0.08, 1e7, 2e4),
        (0.02, 5e7, 5e3),
        (0.1, 3e6, 1e3),
    ];
    let (rtol, atol) = (1e-6, 1e-10);
    // Newton's tolerances follow the controller's.
    let solver = Kvaerno5::new();
    let t1 = 40.0;
    let alone: Vec<Vec<f64>> = rates
        .iter()
        .map(|r| {
            let field = Robertson::new(&[*r], &device);
            let s = solve(
                &field,
                &solver,
                (0.0, t1),
                robertson_y0(1, &device),
                &SolveOptions::adaptive(rtol, atol).per_sample(),
            )
            .expect("one sample");
            values(s.last())
        })
        .collect();
    let field = Robertson::new(&rates, &device);
    let shared = solve(
        &field,
        &solver,
        (0.0, t1),
        robertson_y0(4, &device),
        &SolveOptions::adaptive(rtol, atol),
    )
    .expect("shared steps");
    let per_sample = solve(
        &field,
        &solver,
        (0.0, t1),
        robertson_y0(4, &device),
        &SolveOptions::adaptive(rtol, atol).per_sample(),
    )
    .expect("per-sample steps");
    let (shared, per_sample) = (values(shared.last()), values(per_sample.last()));
    let mut worst = (0.0f64, 0.0f64);
    for (b, want) in alone.iter().enumerate() {
        for (i, w) in want.iter().enumerate() {
            let scale = w.abs().max(1e-4);
            worst.0 = worst.0.max((shared[b * 3 + i] - w).abs() / scale);
            worst.1 = worst.1.max((per_sample[b * 3 + i] - w).abs() / scale);
        }
    }
    println!(
        "batch vs alone: shared steps {:e}, per-sample steps {:e}",
        worst.0, worst.1
    );
    // Shared steps differ from solo steps within the tolerance; per-sample steps are the solo
    // steps, vectorised.
    assert!(worst.0 < 1e-4, "shared: {}", worst.0);
    assert!(worst.1 < 1e-10, "per-sample: {}", worst.1);
}

#[test]
fn a_field_that_changes_the_shape_is_an_error() {
    let device = device();
    let solver = Kvaerno5::new();
    let options = SolveOptions::adaptive(1e-6, 1e-9);
    // Wrong from the start.
    let wider = |_t: &Time, y: &Tensor<2>| Tensor::cat(vec![y.clone(), y.clone()], 1);
    let err = solve(
        &wider,
        &solver,
        (0.0, 1.0),
        tensor(vec![1.0, 2.0], [1, 2], &device),
        &options,
    )
    .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    // Right at first, wrong in the implicit stages.
    let calls = Cell::new(0);
    let later = |_t: &Time, y: &Tensor<2>| {
        calls.set(calls.get() + 1);
        if calls.get() > 3 {
            y.clone().narrow(1, 0, 1)
        } else {
            y.clone().neg()
        }
    };
    let err = solve(
        &later,
        &solver,
        (0.0, 1.0),
        tensor(vec![1.0, 2.0], [1, 2], &device),
        &options,
    )
    .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("implicit stage"), "{err}");
}

#[test]
fn central_differences_solve_van_der_pol_too() {
    let device = device();
    let tol = 1e-6;
    let solver = Kvaerno5::new()
        .with_newton_tol(tol, tol)
        .with_jacobian(Jacobian::CentralDifference);
    let y0 = tensor(vec![2.0, -0.66], [1, 2], &device);
    let solution = solve(
        &van_der_pol(1e-6),
        &solver,
        (0.0, 2.0),
        y0,
        &SolveOptions::adaptive(tol, tol),
    )
    .expect("central differences");
    let y = values(solution.last());
    let rel = ((y[0] - 1.706_167_732_170_483) / 1.706_167_732_170_483).abs();
    assert!(rel < 1e-3, "relative error {rel}");
}

#[test]
fn invalid_newton_settings_are_reported() {
    let device = device();
    let solver = Kvaerno5::new().with_max_newton_iters(0);
    let field = |_t: &Time, y: &Tensor<2>| y.clone().neg();
    let err = solve(
        &field,
        &solver,
        (0.0, 1.0),
        tensor(vec![1.0], [1, 1], &device),
        &SolveOptions::fixed(0.1),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidOption {
                field: "max_newton_iters",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn newton_failures_are_rejected_and_retried_with_smaller_steps() {
    let device = device();
    let tol = 1e-6;
    let reference = 1.706_167_732_170_483;
    let run = |iters: usize| {
        let solver = Kvaerno5::new()
            .with_newton_tol(tol, tol)
            .with_max_newton_iters(iters);
        let y0 = tensor(vec![2.0, -0.66], [1, 2], &device);
        solve(
            &van_der_pol(1e-6),
            &solver,
            (0.0, 2.0),
            y0,
            &SolveOptions::adaptive(tol, tol),
        )
        .expect("the driver recovers from failed Newton iterations")
    };
    let (starved, default) = (run(2), run(10));
    let rel = (values(starved.last())[0] / reference - 1.0).abs();
    println!(
        "vdpol with 2 Newton iterations: relative error {rel:e}, {:?}; with 10: {:?}",
        starved.stats, default.stats
    );
    assert!(rel < 1e-4, "relative error {rel}");
    assert!(starved.stats.rejected > 2 * default.stats.rejected);

    // With per-sample steps a failure rejects only its own sample: the batch reproduces each
    // sample solved alone.
    let epsilons = [1e-6, 1e-3];
    let batch_field = van_der_pol_per_sample(&epsilons);
    let solver = Kvaerno5::new()
        .with_newton_tol(tol, tol)
        .with_max_newton_iters(2);
    let options = SolveOptions::adaptive(tol, tol).per_sample();
    let y0 = tensor([2.0, -0.66].repeat(2), [2, 2], &device);
    let batch = values(
        solve(&batch_field, &solver, (0.0, 2.0), y0, &options)
            .expect("batch")
            .last(),
    );
    for (b, eps) in epsilons.iter().enumerate() {
        let y0 = tensor(vec![2.0, -0.66], [1, 2], &device);
        let alone = values(
            solve(&van_der_pol(*eps), &solver, (0.0, 2.0), y0, &options)
                .expect("alone")
                .last(),
        );
        for i in 0..2 {
            let diff = (batch[b * 2 + i] - alone[i]).abs();
            assert!(
                diff <= 1e-12 * alone[i].abs(),
                "sample {b}: {batch:?} vs {alone:?}"
            );
        }
    }
}

#[test]
fn fixed_steps_that_newton_cannot_take_end_in_an_error() {
    let device = device();
    // y' = -100 y³ from y = 10 with unit steps: simplified Newton with J(y₀) cannot follow the
    // collapse of the cubic in three iterations.
    let field = |_t: &Time, y: &Tensor<2>| y.clone().powf_scalar(3.0).mul_scalar(-100.0);
    let solver = Kvaerno5::new().with_max_newton_iters(3);
    let y0 = tensor(vec![10.0], [1, 1], &device);
    let err = solve(&field, &solver, (0.0, 10.0), y0, &SolveOptions::fixed(1.0)).unwrap_err();
    assert!(
        matches!(err, Error::NewtonFailed { t, dt } if t == 0.0 && dt == 1.0),
        "{err}"
    );
}

#[test]
fn f32_states_solve_at_a_loose_tolerance() {
    // ndarray's default f32; Newton's target is raised to what f32 can resolve.
    let device = kiln_core::device(kiln_core::BackendKind::Ndarray).expect("ndarray is built in");
    let field = Robertson::standard(&device);
    let (rtol, atol) = (1e-4, 1e-8);
    // Newton's tolerances follow the controller's.
    let solver = Kvaerno5::new();
    let solution = solve(
        &field,
        &solver,
        (0.0, 100.0),
        robertson_y0(1, &device),
        &SolveOptions::adaptive(rtol, atol),
    )
    .expect("f32 Robertson");
    let y = values(solution.last());
    let rel = y
        .iter()
        .zip(robertson_reference())
        .map(|(g, w)| ((g - w) / w).abs())
        .fold(0.0, f64::max);
    println!(
        "f32 robertson: {y:?}, max relative error {rel:e}, {:?}",
        solution.stats
    );
    assert!(rel < 1e-3, "relative error {rel}");
}
