//! The virtual Brownian tree: repeatable queries, Brownian statistics and Lévy areas.

use super::*;

#[test]
fn tree_repeats_increments_whatever_the_query_order() {
    let tree = VirtualBrownianTree::new((0.0, 2.0), [3, 2], 11, 1e-4).unwrap();
    let intervals = [
        (0.0, 0.3),
        (0.3, 0.31),
        (1.7, 2.0),
        (0.05, 1.95),
        (0.31, 0.3),
        (1.0, 1.5),
    ];
    let first: Vec<_> = intervals
        .iter()
        .map(|&(s, t)| tree.increment(s, t).unwrap())
        .collect();
    let again: Vec<_> = intervals
        .iter()
        .rev()
        .map(|&(s, t)| tree.increment(s, t).unwrap())
        .collect();
    let fresh = VirtualBrownianTree::new((0.0, 2.0), [3, 2], 11, 1e-4).unwrap();
    for (k, &(s, t)) in intervals.iter().enumerate() {
        assert_eq!(
            first[k],
            again[intervals.len() - 1 - k],
            "interval ({s}, {t})"
        );
        assert_eq!(
            first[k],
            fresh.increment(s, t).unwrap(),
            "fresh tree, ({s}, {t})"
        );
    }
    // A backward interval is the negated increment with the same Lévy area.
    let forward = tree.increment(0.3, 0.31).unwrap();
    let backward = tree.increment(0.31, 0.3).unwrap();
    for j in 0..6 {
        assert_eq!(forward.w[j], -backward.w[j]);
        assert!((forward.h[j] - backward.h[j]).abs() < 1e-12);
    }
    let other = VirtualBrownianTree::new((0.0, 2.0), [3, 2], 12, 1e-4).unwrap();
    assert_ne!(first[0].w, other.increment(0.0, 0.3).unwrap().w);
}

#[test]
fn tree_end_value_is_the_same_after_10_or_1000_steps() {
    let device = device();
    let tree = VirtualBrownianTree::new((0.0, 1.0), [4, 1], 3, 1e-3).unwrap();
    // dy = dW with Euler-Maruyama telescopes to W(1) - W(0).
    let term = SdeTerm::ito(
        |_t: &Time, y: &Tensor<2>| y.zeros_like(),
        DiagonalNoise::new(|_t: &Time, y: &Tensor<2>| y.ones_like()),
    );
    let mut ends = Vec::new();
    for dt in [0.1, 0.001] {
        let before = tree.value(1.0).unwrap();
        let y0 = Tensor::<2>::zeros([4, 1], &device);
        let sol = sde::solve(
            &term,
            &EulerMaruyama,
            (0.0, 1.0),
            y0,
            &tree,
            &SdeOptions::fixed(dt),
        )
        .unwrap();
        assert_eq!(sol.stats.steps, (1.0 / dt).round() as usize);
        let after = tree.value(1.0).unwrap();
        assert_eq!(before, after, "W(1) changed after a sweep with dt = {dt}");
        ends.push(host(sol.last()));
        for (y, w) in ends.last().unwrap().iter().zip(&after) {
            assert!((y - w).abs() < 1e-12, "sum of increments {y} vs W(1) {w}");
        }
    }
}

/// Sample moments over 20 000 paths, with bounds at about five standard errors:
/// a sample variance has relative standard error sqrt(2/M) = 1 %, a correlation 1/sqrt(M) = 0.7 %.
#[test]
fn tree_increments_have_brownian_statistics() {
    let paths = 20_000;
    let tree = VirtualBrownianTree::new((0.0, 1.0), [paths, 1], 8, 1.0 / 1024.0).unwrap();
    let a = tree.increment(0.1, 0.35).unwrap();
    let b = tree.increment(0.5, 0.9).unwrap();
    let c = tree.increment(0.35, 0.5).unwrap();
    let corr =
        |x: &[f64], y: &[f64]| covariance(x, y) / (covariance(x, x) * covariance(y, y)).sqrt();
    for (inc, len) in [(&a, 0.25), (&b, 0.4), (&c, 0.15)] {
        let var = covariance(&inc.w, &inc.w);
        assert!(
            (var / len - 1.0).abs() < 0.05,
            "Var W = {var} over length {len}"
        );
        assert!(mean(&inc.w).abs() < 5.0 * (len / paths as f64).sqrt());
    }
    for (x, y) in [(&a.w, &b.w), (&a.w, &c.w), (&b.w, &c.w)] {
        let r = corr(x, y);
        assert!(r.abs() < 0.035, "correlation of disjoint increments {r}");
    }
    // Lévy areas on dyadic intervals at several levels: mean 0, variance h/12, independent of
    // W over the same interval and of both W and H over the neighbouring half.
    for (s, u) in [
        (0.0, 1.0),
        (0.25, 0.5),
        (0.375, 0.4375),
        (0.5, 0.5 + 1.0 / 256.0),
    ] {
        let len: f64 = u - s;
        let m = 0.5 * (s + u);
        let whole = tree.increment(s, u).unwrap();
        let left = tree.increment(s, m).unwrap();
        let right = tree.increment(m, u).unwrap();
        let var = covariance(&whole.h, &whole.h);
        assert!(
            (var * 12.0 / len - 1.0).abs() < 0.05,
            "Var H = {var} on [{s}, {u}]"
        );
        assert!(mean(&whole.h).abs() < 5.0 * (len / 12.0 / paths as f64).sqrt());
        for (x, y, what) in [
            (&whole.w, &whole.h, "W and H"),
            (&left.h, &right.h, "H of the halves"),
            (&left.w, &right.h, "W left, H right"),
            (&left.h, &right.w, "H left, W right"),
        ] {
            let r = corr(x, y);
            assert!(r.abs() < 0.035, "correlation of {what} on [{s}, {u}]: {r}");
        }
    }
}

/// H from the tree equals (1/h) ∫ (W_r - W_s) dr - W/2 with the integral taken by Simpson's
/// rule on the queried path (exact: inside a leaf W is quadratic in t).
#[test]
fn levy_area_matches_the_integral_of_the_queried_path() {
    let leaves = 64;
    let tree = VirtualBrownianTree::new((0.0, 1.0), [5, 1], 21, 1.0 / leaves as f64).unwrap();
    for (s, u) in [(0.25, 0.5), (0.3, 0.55), (0.0, 1.0), (0.401, 0.402)] {
        let mut knots = vec![s];
        for k in 1..leaves {
            let t = k as f64 / leaves as f64;
            if t > s && t < u {
                knots.push(t);
            }
        }
        knots.push(u);
        let w_s = tree.value(s).unwrap();
        let mut integral = [0.0; 5];
        for pair in knots.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let (wa, wm, wb) = (
                tree.value(a).unwrap(),
                tree.value(0.5 * (a + b)).unwrap(),
                tree.value(b).unwrap(),
            );
            for (j, sum) in integral.iter_mut().enumerate() {
                *sum += (b - a) / 6.0 * (wa[j] + 4.0 * wm[j] + wb[j] - 6.0 * w_s[j]);
            }
        }
        let inc = tree.increment(s, u).unwrap();
        for ((sum, w), h_tree) in integral.iter().zip(&inc.w).zip(&inc.h) {
            let h = sum / (u - s) - 0.5 * w;
            assert!((h - h_tree).abs() < 1e-11, "[{s}, {u}]: {h} vs {h_tree}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Increments add up over any split point, in any order of the queries.
    #[test]
    fn increments_add_up(seed in 0u64..1000, a in 0.0f64..1.0, b in 0.0f64..1.0, c in 0.0f64..1.0,
                         batch in 1usize..=4, m in 1usize..=3) {
        let mut p = [a, b, c];
        p.sort_by(f64::total_cmp);
        let tree = VirtualBrownianTree::new((0.0, 1.0), [batch, m], seed, 1e-3).unwrap();
        let right = tree.increment(p[1], p[2]).unwrap();
        let whole = tree.increment(p[0], p[2]).unwrap();
        let left = tree.increment(p[0], p[1]).unwrap();
        for j in 0..batch * m {
            prop_assert!((left.w[j] + right.w[j] - whole.w[j]).abs() < 1e-12);
        }
    }
}
