//! Control paths against closed forms: not-a-knot splines reproduce cubic polynomials exactly on
//! irregular grids, with and without missing values; the natural spline matches a hand-solved
//! case; every scheme reproduces straight lines; the backward Hermite path is C¹ and causal;
//! missing values are filled per channel as documented; bad input is an error.

mod common;

use common::{device, values};
use kiln_neural_de::Error;
use kiln_neural_de::interpolate::{ControlPath, Interpolation};
use proptest::prelude::*;

const ALL: [Interpolation; 4] = [
    Interpolation::Linear,
    Interpolation::HermiteBackward,
    Interpolation::NaturalCubic,
    Interpolation::NotAKnotCubic,
];

fn cubic(t: f64, c: &[f64; 4]) -> f64 {
    c[0] + c[1] * t + c[2] * t * t + c[3] * t * t * t
}

fn dcubic(t: f64, c: &[f64; 4]) -> f64 {
    c[1] + 2.0 * c[2] * t + 3.0 * c[3] * t * t
}

fn irregular(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| i as f64 * 0.7 + 0.25 * ((i * 7 % 5) as f64) / 5.0)
        .collect()
}

/// Values `[1, T, 2]` of two cubics, with `missing` positions of channel 0 set to NaN.
fn two_cubics(ts: &[f64], a: &[f64; 4], b: &[f64; 4], missing: &[usize]) -> Vec<f64> {
    ts.iter()
        .enumerate()
        .flat_map(|(i, &t)| {
            let x = if missing.contains(&i) {
                f64::NAN
            } else {
                cubic(t, a)
            };
            [x, cubic(t, b)]
        })
        .collect()
}

fn at(path: &ControlPath, t: f64) -> (Vec<f64>, Vec<f64>) {
    (values(&path.evaluate(t)), values(&path.derivative(t)))
}

#[test]
fn not_a_knot_splines_reproduce_cubics_with_and_without_missing_values() {
    let dev = device();
    let ts = irregular(12);
    let a = [0.5, -1.0, 0.3, 0.2];
    let b = [-2.0, 0.4, -0.6, 0.05];
    // Missing values inside only: the spline's knots still span the grid.
    for missing in [vec![], vec![2, 3, 7, 10]] {
        let v = two_cubics(&ts, &a, &b, &missing);
        let path =
            ControlPath::new(Interpolation::NotAKnotCubic, &ts, &v, [1, 12, 2], &dev).unwrap();
        for k in 0..=200 {
            let t = ts[0] + (ts[11] - ts[0]) * k as f64 / 200.0;
            let (x, dx) = at(&path, t);
            for (c, coef) in [a, b].iter().enumerate() {
                assert!((x[c] - cubic(t, coef)).abs() < 1e-9, "t {t} ch {c}: {x:?}");
                assert!(
                    (dx[c] - dcubic(t, coef)).abs() < 1e-8,
                    "t {t} ch {c}: {dx:?}"
                );
            }
        }
    }
}

#[test]
fn natural_spline_matches_a_hand_solved_case() {
    // Through (0, 0), (1, 1), (2, 0) with zero end curvature: M₁ = -3 and
    // S(t) = 1.5 t - 0.5 t³ on [0, 1], symmetric on [1, 2].
    let dev = device();
    let path = ControlPath::new(
        Interpolation::NaturalCubic,
        &[0.0, 1.0, 2.0],
        &[0.0, 1.0, 0.0],
        [1, 3, 1],
        &dev,
    )
    .unwrap();
    for t in [0.0, 0.25, 0.5, 0.9, 1.0, 1.3, 1.75, 2.0] {
        let s = if t <= 1.0 { t } else { 2.0 - t };
        let expected = 1.5 * s - 0.5 * s * s * s;
        let (x, _) = at(&path, t);
        assert!(
            (x[0] - expected).abs() < 1e-12,
            "t {t}: {} vs {expected}",
            x[0]
        );
    }
}

#[test]
fn hermite_backward_is_c1_and_causal() {
    let dev = device();
    let ts = irregular(8);
    let v: Vec<f64> = ts.iter().map(|t| (1.3 * t).sin()).collect();
    let path = ControlPath::new(Interpolation::HermiteBackward, &ts, &v, [1, 8, 1], &dev).unwrap();
    // Continuity of X and dX/dt at interior samples.
    for &t in &ts[1..7] {
        let (xl, dl) = at(&path, t - 1e-9);
        let (xr, dr) = at(&path, t);
        assert!((xl[0] - xr[0]).abs() < 1e-8);
        assert!((dl[0] - dr[0]).abs() < 1e-6, "t {t}: {dl:?} vs {dr:?}");
    }
    // Changing the last sample changes nothing before the last interval.
    let mut w = v.clone();
    w[7] += 5.0;
    let moved = ControlPath::new(Interpolation::HermiteBackward, &ts, &w, [1, 8, 1], &dev).unwrap();
    for k in 0..50 {
        let t = ts[0] + (ts[6] - ts[0]) * k as f64 / 49.0;
        assert_eq!(at(&path, t).0, at(&moved, t).0, "t {t}");
    }
    assert_ne!(at(&path, ts[6] + 0.1).0, at(&moved, ts[6] + 0.1).0);
}

#[test]
fn missing_values_are_filled_per_channel() {
    let dev = device();
    let ts = [0.0, 1.0, 2.0, 3.0, 5.0];
    // Row-major [1, 5, 2]: channel 0 is [NaN, 2, NaN, 4, 0], channel 1 is [1, 10, 6, NaN, NaN].
    let nan = f64::NAN;
    let v = [nan, 1.0, 2.0, 10.0, nan, 6.0, 4.0, nan, 0.0, nan];
    let path = ControlPath::new(Interpolation::Linear, &ts, &v, [1, 5, 2], &dev).unwrap();
    let x = |t: f64| at(&path, t).0;
    // Before the first observation: constant; between observations: linear in time.
    assert_eq!(x(0.0)[0], 2.0);
    assert_eq!(x(0.5)[0], 2.0);
    assert!((x(2.0)[0] - 3.0).abs() < 1e-12);
    assert!((x(4.0)[0] - 2.0).abs() < 1e-12);
    assert!((x(0.5)[1] - 5.5).abs() < 1e-12);
    // After the last observation: constant.
    assert_eq!(x(3.0)[1], 6.0);
    assert_eq!(x(5.0)[1], 6.0);
    // Hermite fills the same way, then joins the filled values.
    let hermite =
        ControlPath::new(Interpolation::HermiteBackward, &ts, &v, [1, 5, 2], &dev).unwrap();
    assert!((at(&hermite, 2.0).0[0] - 3.0).abs() < 1e-12);
    // The spline through channel 0's observations is constant before its first one.
    let spline = ControlPath::new(Interpolation::NaturalCubic, &ts, &v, [1, 5, 2], &dev).unwrap();
    assert_eq!(at(&spline, 0.3).0[0], 2.0);
    assert_eq!(at(&spline, 0.3).1[0], 0.0);
    assert!((at(&spline, 3.0).0[0] - 4.0).abs() < 1e-12);
    assert!(at(&spline, 2.0).0.iter().all(|x| x.is_finite()));
}

#[test]
fn bad_inputs_are_errors() {
    let dev = device();
    let nan = f64::NAN;
    let err = ControlPath::new(
        Interpolation::Linear,
        &[0.0, 1.0],
        &[nan, nan],
        [1, 2, 1],
        &dev,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidOption {
                field: "values",
                ..
            }
        ),
        "{err}"
    );
    let err = ControlPath::new(
        Interpolation::Linear,
        &[0.0, 0.0],
        &[1.0, 2.0],
        [1, 2, 1],
        &dev,
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidOption { field: "ts", .. }),
        "{err}"
    );
    let err = ControlPath::new(
        Interpolation::Linear,
        &[0.0, 1.0],
        &[1.0, 2.0, 3.0],
        [1, 2, 1],
        &dev,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidOption {
                field: "values",
                ..
            }
        ),
        "{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every scheme reproduces a straight line, at and between the samples.
    #[test]
    fn every_scheme_reproduces_lines(
        slope in -3.0f64..3.0,
        offset in -3.0f64..3.0,
        n in 4usize..9,
    ) {
        let dev = device();
        let ts = irregular(n);
        let v: Vec<f64> = ts.iter().map(|t| offset + slope * t).collect();
        for kind in ALL {
            let path = ControlPath::new(kind, &ts, &v, [1, n, 1], &dev).unwrap();
            for k in 0..=20 {
                let t = ts[0] + (ts[n - 1] - ts[0]) * k as f64 / 20.0;
                let (x, dx) = at(&path, t);
                prop_assert!((x[0] - offset - slope * t).abs() < 1e-9, "{kind:?} t {t}");
                prop_assert!((dx[0] - slope).abs() < 1e-8, "{kind:?} t {t}");
            }
        }
    }
}
