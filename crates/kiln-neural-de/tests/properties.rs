//! Algebraic invariants of the solvers, drawn by proptest: time reversal, linearity in the
//! initial state for linear fields, and SaveAt values equal to separate solves to each time.

mod common;

use common::{device, tensor, values};
use kiln_core::burn::tensor::Tensor;
use kiln_neural_de::{ExplicitRk, Method, SolveOptions, Time, solve};
use proptest::prelude::*;

/// A smooth nonlinear field `y' = tanh(y W) + b` on `[batch, n]` states.
fn tanh_field(w: &[f64], b: &[f64], n: usize) -> impl Fn(&Time, &Tensor<2>) -> Tensor<2> + use<> {
    let dev = device();
    let w = tensor(w, [n, n], &dev);
    let b = tensor(b, [1, n], &dev);
    move |_t: &Time, y: &Tensor<2>| y.clone().matmul(w.clone()).tanh().add(b.clone())
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn case() -> impl Strategy<Value = (usize, Vec<f64>, Vec<f64>, Vec<f64>)> {
    (1usize..=4).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec(-1.0f64..1.0, n * n),
            prop::collection::vec(-0.5f64..0.5, n),
            prop::collection::vec(-2.0f64..2.0, n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn forward_then_backward_returns_to_y0(
        (n, w, b, y0) in case(),
        method in prop::sample::select(vec![Method::Dopri5, Method::Tsit5, Method::Dopri8]),
        t1 in 0.2f64..2.0,
    ) {
        let dev = device();
        let field = tanh_field(&w, &b, n);
        let options = SolveOptions::adaptive(1e-10, 1e-10);
        let solver = ExplicitRk::new(method);
        let forward = solve(&field, &solver, (0.0, t1), tensor(&y0, [1, n], &dev), &options).unwrap();
        let back = solve(&field, &solver, (t1, 0.0), forward.last().clone(), &options).unwrap();
        let err = max_diff(&values(back.last()), &y0);
        prop_assert!(err < 1e-7, "returned with error {err:e}");
    }

    #[test]
    fn linear_fields_are_linear_in_y0(
        (n, w, _b, y0) in case(),
        y1 in prop::collection::vec(-2.0f64..2.0, 4),
        alpha in -2.0f64..2.0,
        beta in -2.0f64..2.0,
    ) {
        // With fixed steps the map y0 -> y(T) is exactly linear up to rounding.
        let dev = device();
        let y1 = &y1[..n];
        let wt = tensor(&w, [n, n], &dev);
        let field = move |_t: &Time, y: &Tensor<2>| y.clone().matmul(wt.clone());
        let run = |y: &[f64], options: &SolveOptions| {
            values(solve(&field, &ExplicitRk::tsit5(), (0.0, 1.0), tensor(y, [1, n], &dev), options)
                .unwrap()
                .last())
        };
        let mixed: Vec<f64> = y0.iter().zip(y1).map(|(a, b)| alpha * a + beta * b).collect();
        for (options, tol) in [(SolveOptions::fixed(0.05), 1e-12), (SolveOptions::adaptive(1e-9, 1e-12), 1e-7)] {
            let combined: Vec<f64> = run(&y0, &options)
                .iter()
                .zip(run(y1, &options))
                .map(|(a, b)| alpha * a + beta * b)
                .collect();
            let err = max_diff(&run(&mixed, &options), &combined);
            prop_assert!(err < tol * (1.0 + alpha.abs() + beta.abs()), "{err:e}");
        }
    }

    #[test]
    fn save_at_equals_solving_to_each_time(
        (n, w, b, y0) in case(),
        mut times in prop::collection::vec(0.0f64..3.0, 1..5),
        method in prop::sample::select(vec![Method::Bosh3, Method::Dopri5, Method::Tsit5, Method::Dopri8]),
        per_sample in any::<bool>(),
    ) {
        times.sort_by(f64::total_cmp);
        let dev = device();
        let field = tanh_field(&w, &b, n);
        let solver = ExplicitRk::new(method);
        let tol = 1e-9;
        let mut options = SolveOptions::adaptive(tol, tol);
        if per_sample {
            options = options.per_sample();
        }
        let y0t = tensor(&y0, [1, n], &dev);
        let saved = solve(&field, &solver, (0.0, 3.0), y0t.clone(), &options.clone().save_times(times.clone())).unwrap();
        prop_assert_eq!(&saved.ts, &times);
        for (t, y) in times.iter().zip(&saved.ys) {
            let direct = if *t == 0.0 {
                y0.clone()
            } else {
                values(solve(&field, &solver, (0.0, *t), y0t.clone(), &options).unwrap().last())
            };
            // Both are tolerance-accurate approximations of y(t); the interpolant of Bosh3 is
            // 3rd order, the others' 4th to 7th.
            let err = max_diff(&values(y), &direct);
            prop_assert!(err < 1e2 * tol, "t = {t}: {err:e}");
        }
    }
}
