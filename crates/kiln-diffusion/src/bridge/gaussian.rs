//! The Schrödinger bridge between `N(μ₀, Σ₀)` and `N(μ₁, Σ₁)` for the Wiener reference with
//! variance ε (entropic OT with cost `|x - y|²/2` and regularisation ε), in closed form
//! (Janati et al. 2020; Bunne et al. 2023): the static plan is Gaussian with cross-covariance
//! `C = ½(Σ₀^½ D Σ₀^-½ - ε I)`, `D = (4 Σ₀^½ Σ₁ Σ₀^½ + ε² I)^½`, and the bridge at time t is
//! `(1-t) X₀ + t X₁ + √(ε t(1-t)) Z`.

use crate::data::Gaussian;
use crate::linalg::{identity, inv_spd, matmul, sqrtm_psd, sym_fn, transpose};
use crate::{Error, Result};

/// The closed-form Gaussian Schrödinger bridge.
#[derive(Debug, Clone)]
pub struct GaussianBridge {
    /// The law at t = 0.
    pub source: Gaussian,
    /// The law at t = 1.
    pub target: Gaussian,
    /// The reference's variance ε.
    pub eps: f64,
    /// `C = Cov(X₀, X₁)`, row-major `[d, d]`.
    pub cross: Vec<f64>,
}

impl GaussianBridge {
    /// The bridge from `source` to `target` at regularisation `eps`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for different dimensions; [`Error::InvalidConfig`] for ε ≤ 0.
    pub fn new(source: Gaussian, target: Gaussian, eps: f64) -> Result<Self> {
        let d = source.dim();
        if target.dim() != d {
            return Err(Error::shape(
                "GaussianBridge",
                format!("dimension {d}"),
                &[target.dim()],
            ));
        }
        if !(eps > 0.0 && eps.is_finite()) {
            return Err(Error::config(
                "eps",
                eps,
                "the reference variance must be positive",
            ));
        }
        let s0h = sqrtm_psd(&source.cov, d);
        let s0ih = sym_fn(&source.cov, d, |l| 1.0 / l.max(1e-300).sqrt());
        let inner = matmul(&matmul(&s0h, &target.cov, d, d, d), &s0h, d, d, d);
        let eye = identity(d);
        let m: Vec<f64> = (0..d * d)
            .map(|k| 4.0 * inner[k] + eps * eps * eye[k])
            .collect();
        let dm = sqrtm_psd(&m, d);
        let a = matmul(&matmul(&s0h, &dm, d, d, d), &s0ih, d, d, d);
        let cross = (0..d * d).map(|k| 0.5 * (a[k] - eps * eye[k])).collect();
        Ok(Self {
            source,
            target,
            eps,
            cross,
        })
    }

    fn dim(&self) -> usize {
        self.source.dim()
    }

    /// The conditional law `X₁ | X₀ = x`: `N(μ₁ + Cᵀ Σ₀⁻¹ (x - μ₀), Σ₁ - Cᵀ Σ₀⁻¹ C)`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for `x` of the wrong length; [`Error::Numerical`] when the
    /// conditional covariance is not positive definite.
    pub fn conditional(&self, x: &[f64]) -> Result<Gaussian> {
        let d = self.dim();
        if x.len() != d {
            return Err(Error::shape(
                "GaussianBridge::conditional",
                format!("[{d}]"),
                &[x.len()],
            ));
        }
        let ct = transpose(&self.cross, d, d);
        let gain = matmul(&ct, &inv_spd(&self.source.cov, d)?, d, d, d);
        let mean = (0..d)
            .map(|i| {
                self.target.mean[i]
                    + (0..d)
                        .map(|j| gain[i * d + j] * (x[j] - self.source.mean[j]))
                        .sum::<f64>()
            })
            .collect();
        let reduce = matmul(&gain, &self.cross, d, d, d);
        let mut cov: Vec<f64> = (0..d * d).map(|k| self.target.cov[k] - reduce[k]).collect();
        // Symmetrise the rounding.
        for i in 0..d {
            for j in 0..i {
                let v = 0.5 * (cov[i * d + j] + cov[j * d + i]);
                cov[i * d + j] = v;
                cov[j * d + i] = v;
            }
        }
        Gaussian::new(mean, cov)
    }

    /// The bridge's marginal at time `t ∈ [0, 1]`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `t` outside `[0, 1]`.
    pub fn marginal(&self, t: f64) -> Result<Gaussian> {
        if !(0.0..=1.0).contains(&t) {
            return Err(Error::config("t", t, "bridge times lie in [0, 1]"));
        }
        let d = self.dim();
        let eye = identity(d);
        let mean = (0..d)
            .map(|i| (1.0 - t) * self.source.mean[i] + t * self.target.mean[i])
            .collect();
        let cov = (0..d * d)
            .map(|k| {
                let (i, j) = (k / d, k % d);
                (1.0 - t).powi(2) * self.source.cov[k]
                    + t * t * self.target.cov[k]
                    + t * (1.0 - t) * (self.cross[k] + self.cross[j * d + i] + self.eps * eye[k])
            })
            .collect();
        Gaussian::new(mean, cov)
    }

    /// The conditional BW2²-UVP (in %) of estimated conditional moments against the bridge:
    /// `100 / (½ tr Σ₁) · mean_x BW2²(N(m̂(x), Ĉ(x)), π*(· | x))` over the points `x`, one
    /// `(mean, covariance)` estimate per point (LightSB's and the EOT benchmark's metric).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the counts or dimensions differ; [`Error::Numerical`] for
    /// an estimated covariance that is not positive definite.
    pub fn cbw2_uvp(&self, x: &crate::Samples, moments: &[(Vec<f64>, Vec<f64>)]) -> Result<f64> {
        let d = self.dim();
        if x.dim() != d || x.len() != moments.len() || x.is_empty() {
            return Err(Error::shape(
                "cbw2_uvp",
                format!("{} points of dimension {d}", moments.len()),
                &[x.len(), x.dim()],
            ));
        }
        let mut total = 0.0;
        for (i, (mean, cov)) in moments.iter().enumerate() {
            let exact = self.conditional(x.row(i))?;
            let estimate = Gaussian::new(mean.clone(), cov.clone())?;
            total += crate::metrics::w2_gaussian(&estimate, &exact)?.powi(2);
        }
        let var = crate::linalg::trace(&self.target.cov, d);
        Ok(100.0 * total / moments.len() as f64 / (0.5 * var))
    }

    /// The joint covariance of `(X₀, X₁)`, row-major `[2d, 2d]`.
    pub fn joint_covariance(&self) -> Vec<f64> {
        let d = self.dim();
        let mut j = vec![0.0; 4 * d * d];
        for a in 0..d {
            for b in 0..d {
                j[a * 2 * d + b] = self.source.cov[a * d + b];
                j[(d + a) * 2 * d + d + b] = self.target.cov[a * d + b];
                j[a * 2 * d + d + b] = self.cross[a * d + b];
                j[(d + b) * 2 * d + a] = self.cross[a * d + b];
            }
        }
        j
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::GaussianOtMap;

    fn pair() -> (Gaussian, Gaussian) {
        (
            Gaussian::new(
                vec![0.5, -1.0, 0.0],
                vec![1.0, 0.3, 0.1, 0.3, 0.8, -0.2, 0.1, -0.2, 0.6],
            )
            .unwrap(),
            Gaussian::new(
                vec![2.0, 1.0, -1.0],
                vec![0.5, -0.1, 0.0, -0.1, 1.5, 0.4, 0.0, 0.4, 0.9],
            )
            .unwrap(),
        )
    }

    #[test]
    fn the_plan_has_the_entropic_structure_and_the_right_limits() {
        let (p, q) = pair();
        for eps in [0.1, 1.0, 10.0] {
            let bridge = GaussianBridge::new(p.clone(), q.clone(), eps).unwrap();
            // π ∝ exp(xᵀy/ε) a(x) b(y): the joint precision's off-diagonal block is -I/ε.
            let precision = inv_spd(&bridge.joint_covariance(), 6).unwrap();
            for a in 0..3 {
                for b in 0..3 {
                    let expected = if a == b { -1.0 / eps } else { 0.0 };
                    let found = precision[a * 6 + 3 + b];
                    assert!(
                        (found - expected).abs() < 1e-8 * (1.0 + 1.0 / eps),
                        "eps {eps}: {found} vs {expected}"
                    );
                }
            }
            let m0 = bridge.marginal(0.0).unwrap();
            let m1 = bridge.marginal(1.0).unwrap();
            for k in 0..9 {
                assert!(
                    (m0.cov[k] - p.cov[k]).abs() < 1e-12 && (m1.cov[k] - q.cov[k]).abs() < 1e-12
                );
            }
        }
        // ε → 0: the plan concentrates on the OT map, C → Σ₀ A.
        let bridge = GaussianBridge::new(p.clone(), q.clone(), 1e-7).unwrap();
        let map = GaussianOtMap::new(&p, &q).unwrap();
        let expected = matmul(&p.cov, &map.a, 3, 3, 3);
        for (c, e) in bridge.cross.iter().zip(expected) {
            assert!((c - e).abs() < 1e-5, "{c} vs {e}");
        }
        assert!(GaussianBridge::new(p, q, 0.0).is_err());
    }
}
