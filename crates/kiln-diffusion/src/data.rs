//! Seeded 2-D toy data sets (8 gaussians, moons, checkerboard, circles, swiss roll, spirals),
//! Gaussian and Gaussian-mixture sources in any dimension, and `.npz` sample files.

use std::f64::consts::PI;
use std::path::Path;

use kiln_core::io::{ArrayData, Npz};
use kiln_core::rng::Rng;
use serde::{Deserialize, Serialize};

use crate::linalg;
use crate::{Error, Result, Samples};

/// The 2-D toy distributions of the flow-matching and continuous-normalising-flow literature.
///
/// Scales follow the usual generators: `EightGaussians` has centres at radius 5 with covariance
/// `√0.1 · I` per component and `Moons` is two half circles (angles uniform) shifted along the
/// diagonal by a uniform offset in `[0, 0.2)`, scaled by 3 and shifted by -1 (both as torchcfm's
/// 2-D tutorial draws them); the others follow FFJORD's toy sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Toy2d {
    /// Eight Gaussians on a circle of radius 5.
    EightGaussians,
    /// Two interleaved half circles with a small diagonal offset.
    Moons,
    /// A 4 × 4 checkerboard on `[-4, 4]²` (eight filled squares).
    Checkerboard,
    /// Two concentric noisy circles (radii 3 and 1.5).
    Circles,
    /// A swiss roll (its x-z section), scaled by 1/5.
    SwissRoll,
    /// Two interleaved spirals.
    Spirals,
}

impl Toy2d {
    /// Every toy set.
    pub const ALL: [Toy2d; 6] = [
        Toy2d::EightGaussians,
        Toy2d::Moons,
        Toy2d::Checkerboard,
        Toy2d::Circles,
        Toy2d::SwissRoll,
        Toy2d::Spirals,
    ];

    /// `n` points drawn with `rng`.
    pub fn sample_with(self, n: usize, rng: &mut Rng) -> Samples {
        let mut data = Vec::with_capacity(2 * n);
        for _ in 0..n {
            let (x, y) = self.point(rng);
            data.push(x);
            data.push(y);
        }
        Samples::new(data, 2).expect("toy generators produce finite 2-D points")
    }

    /// `n` points from `seed`.
    pub fn sample(self, n: usize, seed: u64) -> Samples {
        self.sample_with(n, &mut Rng::new(seed))
    }

    fn point(self, rng: &mut Rng) -> (f64, f64) {
        match self {
            Toy2d::EightGaussians => {
                let k = rng.below(8);
                let h = std::f64::consts::FRAC_1_SQRT_2;
                let centres = [
                    (1.0, 0.0),
                    (-1.0, 0.0),
                    (0.0, 1.0),
                    (0.0, -1.0),
                    (h, h),
                    (-h, h),
                    (h, -h),
                    (-h, -h),
                ];
                // torchcfm: MultivariateNormal(0, sqrt(var) I) with var = 0.1, centres × 5.
                let std = 0.1f64.sqrt().sqrt();
                let (cx, cy) = centres[k];
                (5.0 * cx + std * rng.normal(), 5.0 * cy + std * rng.normal())
            }
            Toy2d::Moons => {
                // torchcfm's `sample_moons`: torchdyn's half circles with one uniform offset in
                // [0, 0.2) added to both coordinates, then × 3 - 1.
                let theta = PI * rng.uniform();
                let (x, y) = if rng.uniform() < 0.5 {
                    (theta.cos(), theta.sin())
                } else {
                    (1.0 - theta.cos(), 0.5 - theta.sin())
                };
                let u = 0.2 * rng.uniform();
                (3.0 * (x + u) - 1.0, 3.0 * (y + u) - 1.0)
            }
            Toy2d::Checkerboard => {
                let x1 = 4.0 * rng.uniform() - 2.0;
                let x2 = rng.uniform() - 2.0 * rng.below(2) as f64;
                let x2 = x2 + (x1.floor().rem_euclid(2.0));
                (2.0 * x1, 2.0 * x2)
            }
            Toy2d::Circles => {
                let theta = 2.0 * PI * rng.uniform();
                let r = if rng.uniform() < 0.5 { 1.0 } else { 0.5 };
                (
                    3.0 * (r * theta.cos() + 0.08 * rng.normal()),
                    3.0 * (r * theta.sin() + 0.08 * rng.normal()),
                )
            }
            Toy2d::SwissRoll => {
                let t = 1.5 * PI * (1.0 + 2.0 * rng.uniform());
                (
                    (t * t.cos() + rng.normal()) / 5.0,
                    (t * t.sin() + rng.normal()) / 5.0,
                )
            }
            Toy2d::Spirals => {
                let n = rng.uniform().sqrt() * 540.0 * 2.0 * PI / 360.0;
                let sign = if rng.uniform() < 0.5 { 1.0 } else { -1.0 };
                let x = sign * (-n.cos() * n + 0.5 * rng.uniform());
                let y = sign * (n.sin() * n + 0.5 * rng.uniform());
                (x / 3.0 + 0.1 * rng.normal(), y / 3.0 + 0.1 * rng.normal())
            }
        }
    }
}

/// torchcfm's moons exactly as its tutorial draws them (torchdyn's `generate_moons`, then
/// `× 3 - 1`): `n / 2` outer and `n - n / 2` inner half-circle points at evenly spaced angles,
/// each shifted along the diagonal by one uniform offset in `[0, 0.2)`. The angles are a grid,
/// not random: two such sets differ only in their offsets (W2 ≈ 0.075 between two sets of 2000).
pub fn moons_grid(n: usize, rng: &mut Rng) -> Samples {
    let outer = n / 2;
    let inner = n - outer;
    let angle = |k: usize, m: usize| {
        if m > 1 {
            PI * k as f64 / (m - 1) as f64
        } else {
            0.0
        }
    };
    let mut data = Vec::with_capacity(2 * n);
    for k in 0..outer {
        let theta = angle(k, outer);
        let u = 0.2 * rng.uniform();
        data.push(3.0 * (theta.cos() + u) - 1.0);
        data.push(3.0 * (theta.sin() + u) - 1.0);
    }
    for k in 0..inner {
        let theta = angle(k, inner);
        let u = 0.2 * rng.uniform();
        data.push(3.0 * (1.0 - theta.cos() + u) - 1.0);
        data.push(3.0 * (0.5 - theta.sin() + u) - 1.0);
    }
    Samples::new(data, 2).expect("finite points")
}

/// A Gaussian `N(mean, cov)` in any dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gaussian {
    /// The mean, `[dim]`.
    pub mean: Vec<f64>,
    /// The covariance, row-major `[dim, dim]`, symmetric positive definite.
    pub cov: Vec<f64>,
}

impl Gaussian {
    /// `N(mean, cov)`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`]/[`Error::ShapeMismatch`] for an empty mean, a covariance of the
    /// wrong size or not symmetric, [`Error::Numerical`] when it is not positive definite.
    pub fn new(mean: Vec<f64>, cov: Vec<f64>) -> Result<Self> {
        let d = mean.len();
        if d == 0 {
            return Err(Error::config("mean", "[]", "give at least one coordinate"));
        }
        linalg::check_symmetric(&cov, d, "cov")?;
        linalg::cholesky(&cov, d)?;
        Ok(Self { mean, cov })
    }

    /// The standard normal `N(0, I)` in `dim` dimensions.
    pub fn standard(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            cov: linalg::identity(dim),
        }
    }

    /// An isotropic Gaussian `N(mean, std² I)`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty mean or `std ≤ 0`.
    pub fn isotropic(mean: Vec<f64>, std: f64) -> Result<Self> {
        if !(std > 0.0 && std.is_finite()) {
            return Err(Error::config("std", std, "must be positive and finite"));
        }
        let d = mean.len();
        let mut cov = linalg::identity(d);
        cov.iter_mut().for_each(|v| *v *= std * std);
        Self::new(mean, cov)
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// `n` draws.
    pub fn sample_with(&self, n: usize, rng: &mut Rng) -> Samples {
        let d = self.dim();
        let l = linalg::cholesky(&self.cov, d).expect("checked positive definite in new");
        let mut data = Vec::with_capacity(n * d);
        let mut z = vec![0.0; d];
        for _ in 0..n {
            z.iter_mut().for_each(|v| *v = rng.normal());
            for i in 0..d {
                let s: f64 = (0..=i).map(|k| l[i * d + k] * z[k]).sum();
                data.push(self.mean[i] + s);
            }
        }
        Samples::new(data, d).expect("finite draws")
    }

    /// `n` draws from `seed`.
    pub fn sample(&self, n: usize, seed: u64) -> Samples {
        self.sample_with(n, &mut Rng::new(seed))
    }

    /// The log density at each point.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the points' dimension differs.
    pub fn log_density(&self, x: &Samples) -> Result<Vec<f64>> {
        let d = self.dim();
        if x.dim() != d {
            return Err(Error::shape(
                "Gaussian::log_density",
                format!("[n, {d}]"),
                &[x.len(), x.dim()],
            ));
        }
        let inv = linalg::inv_spd(&self.cov, d)?;
        let logdet = linalg::logdet_spd(&self.cov, d)?;
        let c = -0.5 * (d as f64 * (2.0 * PI).ln() + logdet);
        Ok((0..x.len())
            .map(|i| {
                let r: Vec<f64> = x
                    .row(i)
                    .iter()
                    .zip(&self.mean)
                    .map(|(a, m)| a - m)
                    .collect();
                let q: f64 = (0..d)
                    .map(|a| (0..d).map(|b| r[a] * inv[a * d + b] * r[b]).sum::<f64>())
                    .sum();
                c - 0.5 * q
            })
            .collect())
    }
}

/// A mixture of isotropic Gaussians `Σ wₖ N(μₖ, σₖ² I)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianMixture {
    /// Component means, `[k][dim]`.
    pub means: Vec<Vec<f64>>,
    /// Component standard deviations.
    pub stds: Vec<f64>,
    /// Mixture weights (normalised on construction).
    pub weights: Vec<f64>,
}

impl GaussianMixture {
    /// A mixture; the weights are normalised.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for no component, lengths that differ, means of different
    /// dimensions, non-positive standard deviations or negative weights (or all zero).
    pub fn new(means: Vec<Vec<f64>>, stds: Vec<f64>, weights: Vec<f64>) -> Result<Self> {
        let k = means.len();
        if k == 0 || stds.len() != k || weights.len() != k {
            return Err(Error::config(
                "components",
                format!("{k} means, {} stds, {} weights", stds.len(), weights.len()),
                "give at least one component and one std and weight per mean",
            ));
        }
        let d = means[0].len();
        if d == 0
            || means
                .iter()
                .any(|m| m.len() != d || m.iter().any(|v| !v.is_finite()))
        {
            return Err(Error::config(
                "means",
                format!("{:?}", means.iter().map(Vec::len).collect::<Vec<_>>()),
                "every mean must have the same positive dimension and finite entries",
            ));
        }
        if let Some(s) = stds.iter().find(|s| !(**s > 0.0 && s.is_finite())) {
            return Err(Error::config(
                "stds",
                s,
                "standard deviations must be positive",
            ));
        }
        let total: f64 = weights.iter().sum();
        if weights.iter().any(|w| w.is_nan() || *w < 0.0) || !(total > 0.0 && total.is_finite()) {
            return Err(Error::config(
                "weights",
                format!("{weights:?}"),
                "weights must be non-negative with a positive finite sum",
            ));
        }
        let weights = weights.iter().map(|w| w / total).collect();
        Ok(Self {
            means,
            stds,
            weights,
        })
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.means[0].len()
    }

    /// `n` draws.
    pub fn sample_with(&self, n: usize, rng: &mut Rng) -> Samples {
        let d = self.dim();
        let mut data = Vec::with_capacity(n * d);
        for _ in 0..n {
            let u = rng.uniform();
            let mut acc = 0.0;
            let mut k = self.weights.len() - 1;
            for (j, w) in self.weights.iter().enumerate() {
                acc += w;
                if u < acc {
                    k = j;
                    break;
                }
            }
            for i in 0..d {
                data.push(self.means[k][i] + self.stds[k] * rng.normal());
            }
        }
        Samples::new(data, d).expect("finite draws")
    }

    /// `n` draws from `seed`.
    pub fn sample(&self, n: usize, seed: u64) -> Samples {
        self.sample_with(n, &mut Rng::new(seed))
    }
}

/// Loads the `[n, dim]` float array `name` from a `.npz` file as samples.
///
/// # Errors
/// kiln-core's I/O errors (missing file or array); [`Error::ShapeMismatch`] for an array that is
/// not two-dimensional; [`Error::InvalidConfig`] for a non-float array or non-finite values.
pub fn load_npz(path: impl AsRef<Path>, name: &str) -> Result<Samples> {
    let mut npz = Npz::open(path)?;
    let array = npz.array(name)?;
    if array.shape.len() != 2 {
        return Err(Error::shape(
            "load_npz",
            format!("a two-dimensional array `{name}` of shape [n, dim]"),
            &array.shape,
        ));
    }
    let values: Vec<f64> = match array.data {
        ArrayData::F64(v) => v,
        ArrayData::F32(v) => v.into_iter().map(f64::from).collect(),
        other => {
            return Err(Error::config(
                "npz array kind",
                other.kind(),
                "samples must be stored as float32 or float64",
            ));
        }
    };
    Samples::new(values, array.shape[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_core::io::{NpyArray, write_npz};

    #[test]
    fn toy_sets_have_their_documented_geometry() {
        for toy in Toy2d::ALL {
            let s = toy.sample(4000, 1);
            assert_eq!((s.len(), s.dim()), (4000, 2));
            assert_eq!(s, toy.sample(4000, 1), "{toy:?} repeats from its seed");
        }
        // 8 gaussians: radius 5, per-coordinate variance √0.1.
        let s = Toy2d::EightGaussians.sample(20_000, 2);
        let r: f64 = s
            .xy()
            .iter()
            .map(|(x, y)| (x * x + y * y).sqrt())
            .sum::<f64>()
            / 20_000.0;
        assert!((r - 5.0).abs() < 0.1, "{r}");
        // Checkerboard: points only on squares where ⌊x/2⌋ + ⌊y/2⌋ is even... of one colour.
        let s = Toy2d::Checkerboard.sample(5000, 3);
        let parity: Vec<i64> = s
            .xy()
            .iter()
            .map(|(x, y)| ((x / 2.0).floor() as i64 + (y / 2.0).floor() as i64).rem_euclid(2))
            .collect();
        assert!(
            parity.iter().all(|p| *p == parity[0]),
            "checkerboard squares of one colour"
        );
        // moons_grid: two sets differ only by the offsets, so W2 between them is small.
        let a = moons_grid(500, &mut Rng::new(1));
        let b = moons_grid(500, &mut Rng::new(2));
        assert!(crate::metrics::w2(&a, &b).unwrap() < 0.15);
    }

    #[test]
    fn gaussians_sample_their_moments_and_densities_integrate() {
        let g = Gaussian::new(vec![1.0, -2.0], vec![2.0, 0.5, 0.5, 1.0]).unwrap();
        let s = g.sample(100_000, 4);
        let (m, c) = (s.mean(), s.covariance());
        assert!(
            (m[0] - 1.0).abs() < 0.02 && (m[1] + 2.0).abs() < 0.02,
            "{m:?}"
        );
        assert!(
            (c[0] - 2.0).abs() < 0.04 && (c[1] - 0.5).abs() < 0.02 && (c[3] - 1.0).abs() < 0.02,
            "{c:?}"
        );
        // log N(m; m, Σ) = -ln(2π) - ½ ln det Σ.
        let at_mean = g
            .log_density(&Samples::new(vec![1.0, -2.0], 2).unwrap())
            .unwrap()[0];
        let expected = -(2.0 * PI).ln() - 0.5 * (2.0f64 - 0.25).ln();
        assert!((at_mean - expected).abs() < 1e-12);
        assert!(Gaussian::new(vec![0.0, 0.0], vec![1.0, 2.0, 2.0, 1.0]).is_err());
        let mix = GaussianMixture::new(vec![vec![-3.0], vec![3.0]], vec![0.5, 0.5], vec![1.0, 3.0])
            .unwrap();
        let s = mix.sample(40_000, 5);
        assert!((s.mean()[0] - 1.5).abs() < 0.05, "{:?}", s.mean());
        assert!(GaussianMixture::new(vec![vec![0.0]], vec![-1.0], vec![1.0]).is_err());
    }

    #[test]
    fn npz_samples_load_and_bad_arrays_are_refused() {
        let dir = std::env::temp_dir().join(format!("kiln-diffusion-npz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("samples.npz");
        let good = NpyArray::new(
            vec![3, 2],
            ArrayData::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        )
        .unwrap();
        let flat = NpyArray::new(vec![6], ArrayData::F64(vec![0.0; 6])).unwrap();
        let ints = NpyArray::new(vec![3, 2], ArrayData::Int(vec![0; 6])).unwrap();
        write_npz(&path, [("x", &good), ("flat", &flat), ("ints", &ints)]).unwrap();
        let s = load_npz(&path, "x").unwrap();
        assert_eq!((s.len(), s.dim()), (3, 2));
        assert_eq!(s.row(2), &[5.0, 6.0]);
        assert!(
            load_npz(&path, "flat")
                .unwrap_err()
                .to_string()
                .contains("[n, dim]")
        );
        assert!(
            load_npz(&path, "ints")
                .unwrap_err()
                .to_string()
                .contains("float")
        );
        assert!(load_npz(&path, "missing").is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
