//! The differentiable solve cost (ERNODE) against closed forms on linear fields: the summed
//! embedded error estimates of `y' = Λ y` equal the tableau's error polynomial `E(hλ)` times the
//! stability polynomial's powers `R(hλ)^j`, Shampine's stiffness estimate is `|λ|` for a scalar
//! rate, the gradients of the cost match central differences (on fixed steps, and on an adaptive
//! solve's accepted steps with the step sequence and the controller's scales held fixed),
//! adaptive accepted steps keep `Σ |h| E ≤ T`, and the local variant sums exactly the steps
//! that contain its random times.

mod common;

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use common::{device, values};
use kiln_neural_de::tableau::ErrorEstimator;
use kiln_neural_de::{
    CostOptions, CostSampling, Error, ExplicitRk, Method, SaveAt, SolveOptions, Time, VectorField,
    solve_with_cost,
};

/// `y' = λ ⊙ y` with one rate per component.
#[derive(Module, Debug)]
struct Diagonal {
    rates: Param<Tensor<1>>,
}

impl Diagonal {
    fn new(rates: &[f64], device: &Device) -> Self {
        Diagonal {
            rates: Param::from_tensor(Tensor::from_data(
                TensorData::new(rates.to_vec(), [rates.len()]),
                device,
            )),
        }
    }
}

impl VectorField<2> for Diagonal {
    fn eval(&self, _t: &Time, y: &Tensor<2>) -> Tensor<2> {
        y.clone().mul(self.rates.val().unsqueeze::<2>())
    }
}

/// Stability polynomial `R(z)` and error polynomial `E(z)` (the embedded estimate for
/// `y' = λ y`, `y₀ = 1`, `z = hλ`) from the tableau's coefficients.
fn polynomials(method: Method, z: f64) -> (f64, f64) {
    let tab = method.tableau();
    let ErrorEstimator::Embedded { weights, .. } = &tab.error else {
        panic!("an embedded method")
    };
    let s = tab.stages();
    let mut g: Vec<f64> = Vec::with_capacity(s);
    for i in 0..s {
        let sum: f64 = tab.a[i].iter().zip(&g).map(|(a, g)| a * g).sum();
        g.push(1.0 + z * sum);
    }
    let r = 1.0 + z * tab.b.iter().zip(&g).map(|(b, g)| b * g).sum::<f64>();
    let e = z * (weights[..s].iter().zip(&g).map(|(w, g)| w * g).sum::<f64>() + weights[s] * r);
    (r, e)
}

const H: f64 = 0.125;
const RATES: [f64; 3] = [-1.0, -2.5, 0.5];
const Y0: [f64; 3] = [1.0, -0.5, 2.0];

/// Per-step error terms `h RMS_i(E(hλᵢ) R(hλᵢ)^j y0ᵢ)` of 8 fixed steps.
fn expected_terms(method: Method, rates: &[f64]) -> Vec<f64> {
    (0..8)
        .map(|j| {
            let mean: f64 = rates
                .iter()
                .zip(&Y0)
                .map(|(&l, &y)| {
                    let (r, e) = polynomials(method, H * l);
                    (e * r.powi(j) * y).powi(2)
                })
                .sum::<f64>()
                / rates.len() as f64;
            H * mean.sqrt()
        })
        .collect()
}

fn y0(device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(Y0.to_vec(), [1, 3]), device)
}

fn error_sum(method: Method, rates: &[f64], device: &Device) -> f64 {
    let (_, cost) = solve_with_cost(
        &Diagonal::new(rates, device),
        &ExplicitRk::new(method),
        (0.0, 1.0),
        y0(device),
        &SolveOptions::fixed(H),
        &CostOptions::all_steps(),
    )
    .unwrap();
    cost.error.into_scalar::<f64>()
}

#[test]
fn error_sums_match_the_error_polynomial() {
    let dev = device();
    for method in [Method::Dopri5, Method::Tsit5, Method::Bosh3] {
        let expected: f64 = expected_terms(method, &RATES).iter().sum();
        let got = error_sum(method, &RATES, &dev);
        assert!(
            (got - expected).abs() <= 1e-9 * expected.abs(),
            "{method:?}: {got:e} vs {expected:e}"
        );
        // The estimate is of the embedded order: E(z) = O(z^(p̂+1)).
        let order = method.tableau().error_order().unwrap() as i32;
        let (_, e1) = polynomials(method, 0.01);
        let (_, e2) = polynomials(method, 0.005);
        let slope = (e1 / e2).abs().log2();
        assert!(
            (slope - f64::from(order + 1)).abs() < 0.1,
            "{method:?}: slope {slope}"
        );
    }
}

#[test]
fn stiffness_estimate_is_the_rate_of_a_scalar_field() {
    let dev = device();
    let (sol, cost) = solve_with_cost(
        &Diagonal::new(&[-3.0, -3.0], &dev),
        &ExplicitRk::dopri5(),
        (0.0, 1.0),
        Tensor::from_data(TensorData::new(vec![1.0, 2.0], [1, 2]), &dev),
        &SolveOptions::fixed(H),
        &CostOptions::all_steps(),
    )
    .unwrap();
    assert_eq!(sol.stats.accepted, 8);
    assert_eq!(cost.steps, 8);
    let rho = cost.stiffness.into_scalar::<f64>();
    assert!((rho - 8.0 * 3.0).abs() < 1e-10, "{rho}");
    // Mixed rates: the estimate lies between the smallest and largest modulus.
    let (_, cost) = solve_with_cost(
        &Diagonal::new(&RATES, &dev),
        &ExplicitRk::dopri5(),
        (0.0, 1.0),
        y0(&dev),
        &SolveOptions::fixed(H),
        &CostOptions::all_steps(),
    )
    .unwrap();
    let rho = cost.stiffness.into_scalar::<f64>() / 8.0;
    assert!((0.5..=2.5).contains(&rho), "{rho}");
}

#[test]
fn cost_gradients_match_central_differences() {
    let ad = device().autodiff();
    let field = Diagonal::new(&RATES, &ad);
    let (_, cost) = solve_with_cost(
        &field,
        &ExplicitRk::dopri5(),
        (0.0, 1.0),
        y0(&ad),
        &SolveOptions::fixed(H),
        &CostOptions::all_steps(),
    )
    .unwrap();
    let grads = cost.error.add(cost.stiffness).backward();
    let grad = values(&field.rates.val().grad(&grads).unwrap());
    let dev = device();
    let total = |rates: &[f64]| {
        let (_, c) = solve_with_cost(
            &Diagonal::new(rates, &dev),
            &ExplicitRk::dopri5(),
            (0.0, 1.0),
            y0(&dev),
            &SolveOptions::fixed(H),
            &CostOptions::all_steps(),
        )
        .unwrap();
        c.error.add(c.stiffness).into_scalar::<f64>()
    };
    let eps = 1e-6;
    for i in 0..3 {
        let mut up = RATES;
        up[i] += eps;
        let mut down = RATES;
        down[i] -= eps;
        let fd = (total(&up) - total(&down)) / (2.0 * eps);
        assert!(
            (grad[i] - fd).abs() < 1e-6 * fd.abs().max(1.0),
            "rate {i}: {} vs {fd}",
            grad[i]
        );
    }
}

/// ERNODE's error sum `Σ_j h_j RMS_i(E(h_j λᵢ) y_{j,i} / s_{j,i})` of `y' = λ ⊙ y` from `Y0`
/// on the step sequence `steps` with the scales `s_{j,i}` (both given, so held fixed), and the
/// scales `atol + rtol max(|y_{j,i}|, |y_{j+1,i}|)` that these rates produce on these steps.
fn scaled_error_sum(
    method: Method,
    rates: &[f64],
    steps: &[f64],
    scales: Option<&[Vec<f64>]>,
    (rtol, atol): (f64, f64),
) -> (f64, Vec<Vec<f64>>) {
    let mut y = Y0.to_vec();
    let mut total = 0.0;
    let mut own = Vec::new();
    for (j, &h) in steps.iter().enumerate() {
        let mut mean = 0.0;
        let mut s_j = Vec::new();
        for (i, &l) in rates.iter().enumerate() {
            let (r, e) = polynomials(method, h * l);
            let y1 = r * y[i];
            let s = atol + rtol * y[i].abs().max(y1.abs());
            s_j.push(s);
            let s = scales.map_or(s, |sc| sc[j][i]);
            mean += (e * y[i] / s).powi(2);
            y[i] = y1;
        }
        total += h * (mean / rates.len() as f64).sqrt();
        own.push(s_j);
    }
    (total, own)
}

#[test]
fn adaptive_error_sum_and_its_gradient_match_the_closed_form_on_the_accepted_steps() {
    let ad = device().autodiff();
    let tol = (1e-5, 1e-7);
    for method in [Method::Dopri5, Method::Tsit5] {
        let field = Diagonal::new(&RATES, &ad);
        let options = SolveOptions::adaptive(tol.0, tol.1).save_at(SaveAt::Steps);
        let (sol, cost) = solve_with_cost(
            &field,
            &ExplicitRk::new(method),
            (0.0, 3.0),
            y0(&ad),
            &options,
            &CostOptions {
                stiffness: false,
                ..CostOptions::all_steps()
            },
        )
        .unwrap();
        let steps: Vec<f64> = sol.ts.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(steps.len() > 5, "{method:?}: {} steps", steps.len());
        assert_eq!(cost.steps, steps.len());
        let got = cost.error.clone().into_scalar::<f64>();
        let (expected, scales) = scaled_error_sum(method, &RATES, &steps, None, tol);
        assert!(
            (got - expected).abs() <= 1e-9 * expected,
            "{method:?}: {got:e} vs {expected:e}"
        );
        // Each accepted step's scaled error is at most 1, and the controller aims near it.
        assert!(expected <= 3.0 && expected > 0.05, "{method:?}: {expected}");
        let grads = cost.error.backward();
        let grad = values(&field.rates.val().grad(&grads).unwrap());
        let eps = 1e-6;
        for i in 0..3 {
            let mut up = RATES;
            up[i] += eps;
            let mut down = RATES;
            down[i] -= eps;
            let at = |rates: &[f64]| scaled_error_sum(method, rates, &steps, Some(&scales), tol).0;
            let fd = (at(&up) - at(&down)) / (2.0 * eps);
            assert!(
                (grad[i] - fd).abs() < 1e-5 * fd.abs().max(1e-3),
                "{method:?}, rate {i}: backprop {} vs central difference {fd}",
                grad[i]
            );
        }
    }
}

#[test]
fn accepted_adaptive_steps_keep_the_error_sum_below_the_interval() {
    let dev = device();
    let (sol, cost) = solve_with_cost(
        &Diagonal::new(&RATES, &dev),
        &ExplicitRk::tsit5(),
        (0.0, 3.0),
        y0(&dev),
        &SolveOptions::adaptive(1e-5, 1e-7),
        &CostOptions::all_steps(),
    )
    .unwrap();
    let e = cost.error.into_scalar::<f64>();
    assert_eq!(cost.steps, sol.stats.accepted);
    assert!(e > 0.0 && e <= 3.0, "{e}");
}

#[test]
fn the_local_variant_sums_the_steps_at_its_random_times() {
    let dev = device();
    let terms = expected_terms(Method::Dopri5, &RATES);
    for seed in 0..5 {
        let (_, cost) = solve_with_cost(
            &Diagonal::new(&RATES, &dev),
            &ExplicitRk::dopri5(),
            (0.0, 1.0),
            y0(&dev),
            &SolveOptions::fixed(H),
            &CostOptions::random_times(1, seed),
        )
        .unwrap();
        assert_eq!(cost.steps, 1, "one time lies in one step (seed {seed})");
        let got = cost.error.into_scalar::<f64>();
        assert!(
            terms.iter().any(|t| (t - got).abs() < 1e-9 * t),
            "seed {seed}: {got:e} is not one step's term {terms:?}"
        );
    }
    let (_, cost) = solve_with_cost(
        &Diagonal::new(&RATES, &dev),
        &ExplicitRk::dopri5(),
        (0.0, 1.0),
        y0(&dev),
        &SolveOptions::fixed(H),
        &CostOptions::random_times(400, 1),
    )
    .unwrap();
    assert_eq!(cost.steps, 8, "400 random times hit every step");
}

#[test]
fn unsupported_combinations_are_errors() {
    let dev = device();
    let field = Diagonal::new(&RATES, &dev);
    let err = solve_with_cost(
        &field,
        &ExplicitRk::rk4(),
        (0.0, 1.0),
        y0(&dev),
        &SolveOptions::fixed(H),
        &CostOptions::all_steps(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    let err = solve_with_cost(
        &field,
        &ExplicitRk::dopri5(),
        (0.0, 1.0),
        y0(&dev),
        &SolveOptions::adaptive(1e-6, 1e-8).per_sample(),
        &CostOptions::all_steps(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    let options = CostOptions {
        sampling: CostSampling::RandomTimes { count: 0, seed: 0 },
        ..CostOptions::all_steps()
    };
    let err = solve_with_cost(
        &field,
        &ExplicitRk::dopri5(),
        (0.0, 1.0),
        y0(&dev),
        &SolveOptions::fixed(H),
        &options,
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidOption { .. }), "{err}");
}
