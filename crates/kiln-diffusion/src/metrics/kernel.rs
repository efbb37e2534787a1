//! Kernel and energy distances between sample sets: MMD² with an RBF kernel (biased
//! V-statistic) and the energy distance `2E|X-Y| - E|X-X'| - E|Y-Y'|`.

use super::squared_distances;
use crate::{Error, Result, Samples};

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// MMD² between `x` and `y` with the kernel `k(a, b) = exp(-|a-b|² / (2h²))` summed over the
/// bandwidths `h` given (a sum of kernels is a kernel), as the biased V-statistic.
///
/// # Errors
/// [`Error::ShapeMismatch`] for different dimensions or empty sets; [`Error::InvalidConfig`] for
/// no bandwidth or a non-positive one.
pub fn mmd_rbf(x: &Samples, y: &Samples, bandwidths: &[f64]) -> Result<f64> {
    x.check_compatible(y, false, "mmd_rbf")?;
    if bandwidths.is_empty() || bandwidths.iter().any(|h| !(*h > 0.0 && h.is_finite())) {
        return Err(Error::config(
            "bandwidths",
            format!("{bandwidths:?}"),
            "give at least one positive bandwidth, e.g. [0.5, 1, 2]",
        ));
    }
    let k = |d2: &[f64]| -> f64 {
        bandwidths
            .iter()
            .map(|h| {
                mean(
                    &d2.iter()
                        .map(|v| (-v / (2.0 * h * h)).exp())
                        .collect::<Vec<_>>(),
                )
            })
            .sum()
    };
    Ok(k(&squared_distances(x, x)) + k(&squared_distances(y, y))
        - 2.0 * k(&squared_distances(x, y)))
}

/// The energy distance `2E|X-Y| - E|X-X'| - E|Y-Y'|` (V-statistic), zero iff the empirical
/// measures agree.
///
/// # Errors
/// [`Error::ShapeMismatch`] for different dimensions or empty sets.
pub fn energy_distance(x: &Samples, y: &Samples) -> Result<f64> {
    x.check_compatible(y, false, "energy_distance")?;
    let e = |a: &Samples, b: &Samples| {
        mean(
            &squared_distances(a, b)
                .iter()
                .map(|v| v.sqrt())
                .collect::<Vec<_>>(),
        )
    };
    Ok(2.0 * e(x, y) - e(x, x) - e(y, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_points_match_the_closed_forms() {
        let a = Samples::new(vec![0.0, 0.0], 2).unwrap();
        let b = Samples::new(vec![3.0, 4.0], 2).unwrap();
        assert!((energy_distance(&a, &b).unwrap() - 10.0).abs() < 1e-12);
        let h = 2.0f64;
        let expected = 2.0 - 2.0 * (-25.0 / (2.0 * h * h)).exp();
        assert!((mmd_rbf(&a, &b, &[h]).unwrap() - expected).abs() < 1e-12);
        let c = Samples::new(vec![1.0, 2.0, -1.0, 0.5], 2).unwrap();
        assert!(mmd_rbf(&c, &c, &[1.0]).unwrap().abs() < 1e-12);
        assert!(energy_distance(&c, &c).unwrap().abs() < 1e-12);
        assert!(mmd_rbf(&a, &b, &[]).is_err());
    }
}
