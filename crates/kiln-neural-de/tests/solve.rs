//! The solve driver: per-sample step sizes, events, save policies, backward integration,
//! failures with their fields, and gradients by backprop through the steps.

mod common;

use common::{device, tensor, values};
use kiln_core::burn::tensor::{Device, Tensor};
use kiln_neural_de::{
    BatchMode, Error, Event, ExplicitRk, Method, PidController, SaveAt, SolveOptions, StopReason,
    Time, solve, solve_with_event,
};

fn decay(rates: &[f64], device: &Device) -> impl Fn(&Time, &Tensor<2>) -> Tensor<2> + use<> {
    let rates = tensor(rates, [rates.len(), 1], device);
    move |_t: &Time, y: &Tensor<2>| y.clone().mul(rates.clone()).neg()
}

#[test]
fn per_sample_steps_match_solving_each_sample_alone() {
    // Rates over three decades: a shared step sequence is dictated by the fastest sample, while
    // per-sample steps let each sample take the steps it needs.
    let dev = device();
    let rates = [0.1, 1.0, 10.0, 100.0];
    let y0 = [1.0, 2.0, -1.0, 0.5];
    let options = SolveOptions::adaptive(1e-7, 1e-9).save_times(vec![0.5, 1.0, 2.0]);
    let batch = solve(
        &decay(&rates, &dev),
        &ExplicitRk::tsit5(),
        (0.0, 2.0),
        tensor(&y0, [4, 1], &dev),
        &options.clone().per_sample(),
    )
    .unwrap();
    let per_sample = batch.stats.accepted_per_sample.clone().unwrap();
    for i in 0..4 {
        let alone = solve(
            &decay(&rates[i..=i], &dev),
            &ExplicitRk::tsit5(),
            (0.0, 2.0),
            tensor(&y0[i..=i], [1, 1], &dev),
            &options,
        )
        .unwrap();
        // Same steps for the sample in the batch as alone: identical results.
        assert_eq!(per_sample[i], alone.stats.accepted, "sample {i}");
        for (k, t) in batch.ts.iter().enumerate() {
            let got = values(&batch.ys[k])[i];
            let want = values(&alone.ys[k])[0];
            assert!(
                (got - want).abs() < 1e-12,
                "sample {i} at t = {t}: {got} vs {want}"
            );
            let exact = y0[i] * (-rates[i] * t).exp();
            assert!(
                (got - exact).abs() < 1e-6 * (1.0 + exact.abs()),
                "sample {i} at t = {t}"
            );
        }
    }
    assert!(
        per_sample[0] * 4 < per_sample[3],
        "steps per sample {per_sample:?}"
    );
    // The shared mode imposes the fast samples' steps on the slow ones.
    let shared = solve(
        &decay(&rates, &dev),
        &ExplicitRk::tsit5(),
        (0.0, 2.0),
        tensor(&y0, [4, 1], &dev),
        &options,
    )
    .unwrap();
    assert!(
        shared.stats.accepted > 2 * per_sample[0],
        "{} vs {per_sample:?}",
        shared.stats.accepted
    );
}

#[test]
fn per_sample_non_autonomous_field_sees_each_samples_time() {
    // y' = cos(t) y: y = y0 exp(sin t); the field reads the per-sample time tensor.
    let dev = device();
    let field = |t: &Time, y: &Tensor<2>| y.clone().mul(t.broadcast(y).cos());
    let y0 = [1.0, 3.0];
    let sol = solve(
        &field,
        &ExplicitRk::dopri5(),
        (0.0, 3.0),
        tensor(&y0, [2, 1], &dev),
        &SolveOptions::adaptive(1e-9, 1e-12).per_sample(),
    )
    .unwrap();
    let got = values(sol.last());
    for i in 0..2 {
        let exact = y0[i] * 3.0f64.sin().exp();
        assert!((got[i] - exact).abs() < 1e-7, "{} vs {exact}", got[i]);
    }
}

#[test]
fn bouncing_ball_hits_the_ground_at_the_analytic_times() {
    // Height h and velocity v under gravity g; stop when h = 0, reflect v with restitution e.
    let dev = device();
    let g = 9.81;
    let e = 0.8;
    let field = move |_t: &Time, y: &Tensor<2>| {
        let v = y.clone().narrow(1, 1, 1);
        Tensor::cat(vec![v.clone(), v.zeros_like().add_scalar(-g)], 1)
    };
    let height = |_t: f64, y: &Tensor<2>| values(y)[0];
    let event = Event::new(height, 1e-12);
    let (mut t, mut state) = (0.0, vec![1.0, 0.0]);
    // Analytic: the first fall takes sqrt(2 h0 / g); every bounce lasts 2 e^k v1 / g.
    let v1 = (2.0 * g * 1.0f64).sqrt();
    let mut expected = (2.0f64 / g).sqrt();
    for bounce in 0..4 {
        let sol = solve_with_event(
            &field,
            &ExplicitRk::dopri5(),
            (t, 10.0),
            tensor(&state, [1, 2], &dev),
            &SolveOptions::adaptive(1e-8, 1e-10),
            &event,
        )
        .unwrap();
        let StopReason::Event { t: hit } = sol.stop else {
            panic!("bounce {bounce}: no event")
        };
        assert!(
            (hit - expected).abs() < 1e-7,
            "bounce {bounce}: {hit} vs {expected}"
        );
        let end = values(sol.last());
        assert!(end[0].abs() < 1e-7, "height at the event {}", end[0]);
        t = hit;
        state = vec![0.0, -e * end[1]];
        expected += 2.0 * e.powi(bounce + 1) * v1 / g;
    }
}

#[test]
fn save_at_steps_and_times_in_both_directions() {
    let dev = device();
    let field = decay(&[1.0], &dev);
    let y0 = tensor(&[1.0], [1, 1], &dev);
    let steps = solve(
        &field,
        &ExplicitRk::dopri5(),
        (0.0, 1.0),
        y0.clone(),
        &SolveOptions::adaptive(1e-6, 1e-9).save_at(SaveAt::Steps),
    )
    .unwrap();
    assert_eq!(steps.ts.len(), steps.stats.accepted + 1);
    assert_eq!(steps.ts[0], 0.0);
    assert_eq!(*steps.ts.last().unwrap(), 1.0);
    assert!(steps.ts.windows(2).all(|w| w[1] > w[0]));
    // Backwards from t = 1 to t = 0: y(t) = y(1) e^(1 - t).
    let back = solve(
        &field,
        &ExplicitRk::dopri5(),
        (1.0, 0.0),
        y0,
        &SolveOptions::adaptive(1e-9, 1e-12).save_times(vec![1.0, 0.75, 0.0]),
    )
    .unwrap();
    assert_eq!(back.ts, vec![1.0, 0.75, 0.0]);
    for (t, y) in back.ts.iter().zip(&back.ys) {
        let exact = (1.0 - t).exp();
        assert!((values(y)[0] - exact).abs() < 1e-8, "t = {t}");
    }
    let stacked = back.stacked::<3>().unwrap();
    assert_eq!(stacked.dims(), [3, 1, 1]);
    assert!(back.stacked::<2>().is_err());
}

#[test]
fn failures_are_errors_with_fields() {
    let dev = device();
    let y0 = tensor(&[1.0], [1, 1], &dev);
    // y' = y² blows up at t = 1.
    let blow_up = |_t: &Time, y: &Tensor<2>| y.clone().square();
    let err = solve(
        &blow_up,
        &ExplicitRk::dopri5(),
        (0.0, 2.0),
        y0.clone(),
        &SolveOptions::with_controller(PidController::new(1e-6, 1e-9).with_dt_min(1e-8)),
    )
    .unwrap_err();
    match err {
        Error::StepSizeTooSmall { t, dt } => assert!((t - 1.0).abs() < 1e-3 && dt < 1e-8),
        Error::NonFinite { t } => assert!((t - 1.0).abs() < 1e-3),
        other => panic!("unexpected {other}"),
    }
    let err = solve(
        &blow_up,
        &ExplicitRk::rk4(),
        (0.0, 2.0),
        y0.clone(),
        &SolveOptions::fixed(0.01),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { t } if t > 0.9 && t < 2.0),
        "{err}"
    );
    let err = solve(
        &decay(&[1.0], &dev),
        &ExplicitRk::dopri5(),
        (0.0, 100.0),
        y0.clone(),
        &SolveOptions::adaptive(1e-10, 1e-12).max_steps(10),
    )
    .unwrap_err();
    assert!(matches!(err, Error::MaxStepsReached { steps: 10, t } if t > 0.0 && t < 100.0));
    // Adaptive steps need an error estimate.
    let err = solve(
        &decay(&[1.0], &dev),
        &ExplicitRk::rk4(),
        (0.0, 1.0),
        y0.clone(),
        &SolveOptions::adaptive(1e-6, 1e-9),
    )
    .unwrap_err();
    assert!(err.to_string().contains("fixed"), "{err}");
    // A field that changes the shape.
    let wrong = |_t: &Time, y: &Tensor<2>| Tensor::cat(vec![y.clone(), y.clone()], 1);
    let err = solve(
        &wrong,
        &ExplicitRk::dopri5(),
        (0.0, 1.0),
        y0.clone(),
        &SolveOptions::fixed(0.1),
    )
    .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    // Invalid options name the value.
    for (options, field) in [
        (SolveOptions::fixed(-0.1), "dt"),
        (SolveOptions::adaptive(1e-6, f64::NAN), "rtol/atol"),
        (SolveOptions::fixed(0.1).save_times(vec![2.0]), "save_at"),
        (
            SolveOptions::fixed(0.1).save_times(vec![0.5, 0.2]),
            "save_at",
        ),
    ] {
        let err = solve(
            &decay(&[1.0], &dev),
            &ExplicitRk::dopri5(),
            (0.0, 1.0),
            y0.clone(),
            &options,
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidOption { field: f, .. } if *f == field),
            "{field}: {err}"
        );
    }
    // Per-sample steps cannot save every step.
    let err = solve(
        &decay(&[1.0], &dev),
        &ExplicitRk::dopri5(),
        (0.0, 1.0),
        y0,
        &SolveOptions::adaptive(1e-6, 1e-9)
            .per_sample()
            .save_at(SaveAt::Steps),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
}

#[test]
fn backprop_through_the_steps_gives_the_parameter_gradient() {
    // y' = -λ y, y(T) = y0 e^(-λT): dy(T)/dλ = -T y0 e^(-λT).
    let dev = device().autodiff();
    let lambda = 0.7;
    let (y0, t1) = (1.5, 2.0);
    for options in [
        SolveOptions::adaptive(1e-10, 1e-12),
        SolveOptions::adaptive(1e-10, 1e-12).per_sample(),
        SolveOptions::fixed(0.01),
    ] {
        let rate = tensor(&[lambda], [1, 1], &dev).require_grad();
        let field = {
            let rate = rate.clone();
            move |_t: &Time, y: &Tensor<2>| y.clone().mul(rate.clone()).neg()
        };
        let sol = solve(
            &field,
            &ExplicitRk::new(Method::Dopri5),
            (0.0, t1),
            tensor(&[y0], [1, 1], &dev),
            &options,
        )
        .unwrap();
        let grads = sol.last().clone().sum().backward();
        let got = rate.grad(&grads).unwrap().into_scalar::<f64>();
        let exact = -t1 * y0 * (-lambda * t1).exp();
        assert!(
            (got - exact).abs() < 1e-7,
            "{:?}: {got} vs {exact}",
            options.batch
        );
        let _ = BatchMode::Shared;
    }
}
