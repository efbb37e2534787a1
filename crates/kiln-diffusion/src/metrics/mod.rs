//! Distances between distributions given by samples or in closed form: exact optimal transport
//! (W2 by an assignment), entropic OT (log-domain Sinkhorn), MMD with an RBF kernel, the energy
//! distance, and W2 and the optimal map between Gaussians.

mod assignment;
mod gaussian;
mod kernel;
mod sinkhorn;

pub use assignment::{assignment, w2, w2_with_plan};
pub use gaussian::{GaussianOtMap, w2_gaussian};
pub use kernel::{energy_distance, mmd_rbf};
pub use sinkhorn::{Sinkhorn, SinkhornPlan};

use crate::Samples;

/// Squared Euclidean distances `C[i, j] = |xᵢ - yⱼ|²`, row-major `[n, m]`.
pub fn squared_distances(x: &Samples, y: &Samples) -> Vec<f64> {
    let (n, m) = (x.len(), y.len());
    let mut c = Vec::with_capacity(n * m);
    for i in 0..n {
        let xi = x.row(i);
        for j in 0..m {
            c.push(
                xi.iter()
                    .zip(y.row(j))
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum(),
            );
        }
    }
    c
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn points(n: usize, d: usize) -> impl Strategy<Value = Samples> {
        proptest::collection::vec(-5.0f64..5.0, n * d)
            .prop_map(move |v| Samples::new(v, d).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// W2 is symmetric, vanishes on a set and itself, and a common shift changes nothing.
        #[test]
        fn w2_is_a_symmetric_shift_invariant_distance(
            (x, y, shift) in (1usize..=8, 1usize..=3).prop_flat_map(|(n, d)| (points(n, d), points(n, d), proptest::collection::vec(-3.0f64..3.0, d)))
        ) {
            let d = x.dim();
            let move_by = |s: &Samples| Samples::new(s.as_slice().iter().enumerate().map(|(k, v)| v + shift[k % d]).collect(), d).unwrap();
            let a = w2(&x, &y).unwrap();
            prop_assert!((a - w2(&y, &x).unwrap()).abs() < 1e-9);
            prop_assert!(w2(&x, &x).unwrap() < 1e-9);
            prop_assert!((a - w2(&move_by(&x), &move_by(&y)).unwrap()).abs() < 1e-9);
            // The optimum is no worse than the identity pairing.
            let identity = (x.as_slice().iter().zip(y.as_slice()).map(|(p, q)| (p - q) * (p - q)).sum::<f64>() / x.len() as f64).sqrt();
            prop_assert!(a <= identity + 1e-9);
        }

        /// Energy distance and MMD are symmetric and non-negative.
        #[test]
        fn kernel_distances_are_symmetric_and_non_negative(
            (x, y) in (1usize..=6, 1usize..=6, 1usize..=3).prop_flat_map(|(n, m, d)| (points(n, d), points(m, d)))
        ) {
            let e = energy_distance(&x, &y).unwrap();
            prop_assert!(e > -1e-9 && (e - energy_distance(&y, &x).unwrap()).abs() < 1e-9);
            let k = mmd_rbf(&x, &y, &[0.5, 2.0]).unwrap();
            prop_assert!(k > -1e-9 && (k - mmd_rbf(&y, &x, &[0.5, 2.0]).unwrap()).abs() < 1e-9);
        }
    }
}
