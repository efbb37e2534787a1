//! W2 between Gaussians and the optimal transport map between them, in closed form:
//! `W2² = |m₁ - m₂|² + tr(Σ₁ + Σ₂ - 2(Σ₁^½ Σ₂ Σ₁^½)^½)` and `T(x) = m₂ + A(x - m₁)` with
//! `A = Σ₁^-½ (Σ₁^½ Σ₂ Σ₁^½)^½ Σ₁^-½`.

use crate::data::Gaussian;
use crate::linalg::{matmul, sqrtm_psd, sym_fn, trace};
use crate::{Error, Result, Samples};

/// W2 between `N(m₁, Σ₁)` and `N(m₂, Σ₂)`.
///
/// # Errors
/// [`Error::ShapeMismatch`] for different dimensions.
pub fn w2_gaussian(p: &Gaussian, q: &Gaussian) -> Result<f64> {
    let d = p.dim();
    if q.dim() != d {
        return Err(Error::shape(
            "w2_gaussian",
            format!("dimension {d}"),
            &[q.dim()],
        ));
    }
    let mean: f64 = p
        .mean
        .iter()
        .zip(&q.mean)
        .map(|(a, b)| (a - b) * (a - b))
        .sum();
    let s1h = sqrtm_psd(&p.cov, d);
    let inner = matmul(&matmul(&s1h, &q.cov, d, d, d), &s1h, d, d, d);
    let cross = trace(&sqrtm_psd(&inner, d), d);
    let w2sq = mean + trace(&p.cov, d) + trace(&q.cov, d) - 2.0 * cross;
    Ok(w2sq.max(0.0).sqrt())
}

/// The optimal (Monge) map between two Gaussians, `T(x) = m₂ + A(x - m₁)` with `A` symmetric
/// positive definite.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianOtMap {
    /// Source mean.
    pub source_mean: Vec<f64>,
    /// Target mean.
    pub target_mean: Vec<f64>,
    /// The linear part `A`, row-major `[d, d]`.
    pub a: Vec<f64>,
}

impl GaussianOtMap {
    /// The optimal map from `p` to `q`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for different dimensions.
    pub fn new(p: &Gaussian, q: &Gaussian) -> Result<Self> {
        let d = p.dim();
        if q.dim() != d {
            return Err(Error::shape(
                "GaussianOtMap",
                format!("dimension {d}"),
                &[q.dim()],
            ));
        }
        let s1h = sqrtm_psd(&p.cov, d);
        let s1ih = sym_fn(&p.cov, d, |l| 1.0 / l.max(1e-300).sqrt());
        let inner = sqrtm_psd(&matmul(&matmul(&s1h, &q.cov, d, d, d), &s1h, d, d, d), d);
        let a = matmul(&matmul(&s1ih, &inner, d, d, d), &s1ih, d, d, d);
        Ok(Self {
            source_mean: p.mean.clone(),
            target_mean: q.mean.clone(),
            a,
        })
    }

    /// Applies the map to every point.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the points' dimension differs.
    pub fn apply(&self, x: &Samples) -> Result<Samples> {
        let d = self.source_mean.len();
        if x.dim() != d {
            return Err(Error::shape(
                "GaussianOtMap::apply",
                format!("[n, {d}]"),
                &[x.len(), x.dim()],
            ));
        }
        let mut out = Vec::with_capacity(x.len() * d);
        for i in 0..x.len() {
            let r = x.row(i);
            for a in 0..d {
                let s: f64 = (0..d)
                    .map(|b| self.a[a * d + b] * (r[b] - self.source_mean[b]))
                    .sum();
                out.push(self.target_mean[a] + s);
            }
        }
        Samples::new(out, d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commuting_covariances_reduce_to_the_diagonal_formula() {
        let p = Gaussian::new(vec![0.0, 1.0], vec![4.0, 0.0, 0.0, 1.0]).unwrap();
        let q = Gaussian::new(vec![3.0, -3.0], vec![1.0, 0.0, 0.0, 9.0]).unwrap();
        // |Δm|² = 9 + 16; Σ (√a - √b)² = (2-1)² + (1-3)² = 5.
        assert!((w2_gaussian(&p, &q).unwrap() - 30f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn the_map_pushes_the_source_onto_the_target_and_costs_w2() {
        let p = Gaussian::new(vec![0.5, -1.0], vec![2.0, 0.6, 0.6, 1.0]).unwrap();
        let q = Gaussian::new(vec![-2.0, 1.0], vec![1.0, -0.3, -0.3, 0.5]).unwrap();
        let map = GaussianOtMap::new(&p, &q).unwrap();
        // A Σ₁ A = Σ₂.
        let pushed = matmul(&matmul(&map.a, &p.cov, 2, 2, 2), &map.a, 2, 2, 2);
        for (x, y) in pushed.iter().zip(&q.cov) {
            assert!((x - y).abs() < 1e-10, "{x} {y}");
        }
        // E|T(X) - X|² = W2².
        let x = p.sample(100_000, 1);
        let t = map.apply(&x).unwrap();
        let cost: f64 = (0..x.len())
            .map(|i| {
                x.row(i)
                    .iter()
                    .zip(t.row(i))
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / x.len() as f64;
        let w = w2_gaussian(&p, &q).unwrap();
        assert!((cost - w * w).abs() < 0.03 * w * w, "{cost} vs {}", w * w);
    }
}
