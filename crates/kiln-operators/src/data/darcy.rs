//! 2-D Darcy flow `-div(a grad u) = f` on the unit square with `u = 0` on the boundary: a 5-point
//! finite-volume discretisation with harmonic-mean face coefficients, solved by Jacobi-
//! preconditioned conjugate gradients, and the generator of FNO's Darcy datasets.
//!
//! Dataset convention (neuraloperator's small Darcy set): a GRF `g` (α = 2, τ = 3) is thresholded
//! to the mask `m = 1[g >= 0]`; the coefficient is `a = 3 + 9 m` (12 where `g >= 0`, else 3, as
//! in the original FNO data); the model input is the mask `m ∈ {0, 1}` and the target is `u`
//! for `f = 1`. Samples live on the vertex grid `x_i = i / (s - 1)` (boundary included); the PDE
//! is solved on a grid `refine` times finer and subsampled.

use burn::config::Config;
use kiln_core::rng::Rng;

use super::GrfConfig;
use crate::Error;

/// Solves `-div(a grad u) = f` on `[0, 1]²`, `u = 0` on the boundary, on the vertex grid with
/// `n` intervals per axis (`(n + 1)²` nodes, row-major with `x` fastest).
///
/// `a` and `f` are given at the nodes; the flux through the face between two nodes uses the
/// harmonic mean of their coefficients (exact for piecewise-constant media, second order for
/// smooth ones). Returns the nodal solution (zero on the boundary) and the CG iteration count.
///
/// # Errors
/// [`Error::InvalidConfig`] for `n < 2`, wrong lengths or a coefficient that is not positive;
/// [`Error::NotConverged`] when CG misses the relative tolerance `tol` within `max_iter`.
pub fn solve_darcy(
    a: &[f64],
    f: &[f64],
    n: usize,
    tol: f64,
    max_iter: usize,
) -> crate::Result<(Vec<f64>, usize)> {
    let nodes = (n + 1) * (n + 1);
    if n < 2 {
        return Err(Error::config("n", n, "use at least 2 intervals per axis"));
    }
    if a.len() != nodes || f.len() != nodes {
        return Err(Error::shape(
            "solve_darcy",
            format!("{nodes} nodal values for n = {n}"),
            &[a.len(), f.len()],
        ));
    }
    if let Some(bad) = a.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
        return Err(Error::config(
            "a",
            bad,
            "the coefficient must be positive and finite at every node",
        ));
    }
    let w = n + 1;
    let h2 = 1.0 / (n * n) as f64;
    let harm = |p: f64, q: f64| 2.0 * p * q / (p + q);
    // Interior unknowns: (n - 1)², indexed by (i - 1) + (j - 1)(n - 1).
    let m = n - 1;
    let mut east = vec![0.0; m * m]; // face between (i, j) and (i + 1, j)
    let mut west = vec![0.0; m * m];
    let mut north = vec![0.0; m * m];
    let mut south = vec![0.0; m * m];
    let mut diag = vec![0.0; m * m];
    let mut b = vec![0.0; m * m];
    for j in 1..n {
        for i in 1..n {
            let k = (i - 1) + (j - 1) * m;
            let c = a[j * w + i];
            east[k] = harm(c, a[j * w + i + 1]);
            west[k] = harm(c, a[j * w + i - 1]);
            north[k] = harm(c, a[(j + 1) * w + i]);
            south[k] = harm(c, a[(j - 1) * w + i]);
            diag[k] = east[k] + west[k] + north[k] + south[k];
            b[k] = h2 * f[j * w + i];
        }
    }
    let apply = |x: &[f64], out: &mut [f64]| {
        for j in 0..m {
            for i in 0..m {
                let k = i + j * m;
                let mut v = diag[k] * x[k];
                if i + 1 < m {
                    v -= east[k] * x[k + 1];
                }
                if i > 0 {
                    v -= west[k] * x[k - 1];
                }
                if j + 1 < m {
                    v -= north[k] * x[k + m];
                }
                if j > 0 {
                    v -= south[k] * x[k - m];
                }
                out[k] = v;
            }
        }
    };
    let dot = |p: &[f64], q: &[f64]| p.iter().zip(q).map(|(x, y)| x * y).sum::<f64>();
    let mut x = vec![0.0; m * m];
    let mut r = b.clone();
    let b_norm = dot(&b, &b).sqrt();
    if b_norm == 0.0 {
        return Ok((vec![0.0; nodes], 0));
    }
    let mut z: Vec<f64> = r.iter().zip(&diag).map(|(r, d)| r / d).collect();
    let mut p = z.clone();
    let mut rz = dot(&r, &z);
    let mut ap = vec![0.0; m * m];
    let mut iterations = 0;
    let mut residual = 1.0;
    while iterations < max_iter {
        apply(&p, &mut ap);
        let alpha = rz / dot(&p, &ap);
        for k in 0..m * m {
            x[k] += alpha * p[k];
            r[k] -= alpha * ap[k];
        }
        iterations += 1;
        residual = dot(&r, &r).sqrt() / b_norm;
        if residual <= tol {
            break;
        }
        for k in 0..m * m {
            z[k] = r[k] / diag[k];
        }
        let rz_new = dot(&r, &z);
        let beta = rz_new / rz;
        rz = rz_new;
        for k in 0..m * m {
            p[k] = z[k] + beta * p[k];
        }
    }
    if residual > tol {
        return Err(Error::NotConverged {
            solver: "Darcy CG",
            residual,
            iterations,
            tolerance: tol,
        });
    }
    let mut u = vec![0.0; nodes];
    for j in 1..n {
        for i in 1..n {
            u[j * w + i] = x[(i - 1) + (j - 1) * m];
        }
    }
    Ok((u, iterations))
}

/// Generator of Darcy samples (see the module docs for the convention).
#[derive(Config, Debug)]
pub struct DarcyConfig {
    /// Output resolution `s` (an `s × s` vertex grid including the boundary).
    pub resolution: usize,
    /// The solve uses `(s - 1) · refine` intervals per axis and is subsampled to `s`.
    #[config(default = 4)]
    pub refine: usize,
    /// Spectrum of the field that is thresholded.
    #[config(default = "GrfConfig::new().with_alpha(2.0).with_tau(3.0).with_modes(16)")]
    pub grf: GrfConfig,
    /// Coefficient where the field is >= 0.
    #[config(default = 12.0)]
    pub high: f64,
    /// Coefficient where the field is < 0.
    #[config(default = 3.0)]
    pub low: f64,
    /// Relative residual tolerance of CG.
    #[config(default = 1e-10)]
    pub tol: f64,
    /// CG iteration cap.
    #[config(default = 20_000)]
    pub max_iter: usize,
}

/// Darcy samples on an `s × s` grid, row-major per sample (`[count, s, s]`).
#[derive(Debug, Clone, PartialEq)]
pub struct DarcySet {
    /// Resolution `s`.
    pub resolution: usize,
    /// Number of samples.
    pub count: usize,
    /// The thresholded mask in {0, 1} (the model input).
    pub mask: Vec<f64>,
    /// The solution `u` (the target).
    pub solution: Vec<f64>,
}

impl DarcyConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> crate::Result<()> {
        if self.resolution < 3 {
            return Err(Error::config(
                "resolution",
                self.resolution,
                "use at least 3 points per axis",
            ));
        }
        if self.refine == 0 {
            return Err(Error::config("refine", 0, "use 1 for no refinement"));
        }
        if !(self.low > 0.0 && self.high > 0.0 && self.low.is_finite() && self.high.is_finite()) {
            return Err(Error::config(
                "low/high",
                format!("{}/{}", self.low, self.high),
                "both coefficient values must be positive and finite",
            ));
        }
        self.grf.validate()
    }

    /// Draws `count` samples, deterministically from `seed`.
    ///
    /// # Errors
    /// As [`DarcyConfig::validate`] and [`solve_darcy`].
    pub fn generate(&self, count: usize, seed: u64) -> crate::Result<DarcySet> {
        self.validate()?;
        let s = self.resolution;
        let n = (s - 1) * self.refine;
        let xs: Vec<f64> = (0..=n).map(|i| i as f64 / n as f64).collect();
        let f = vec![1.0; (n + 1) * (n + 1)];
        let mut rng = Rng::new(seed);
        let mut mask = Vec::with_capacity(count * s * s);
        let mut solution = Vec::with_capacity(count * s * s);
        for _ in 0..count {
            let g = self.grf.sample_2d(&mut rng)?.at_grid(&xs, &xs);
            let m: Vec<f64> = g.iter().map(|&v| f64::from(u8::from(v >= 0.0))).collect();
            let a: Vec<f64> = m
                .iter()
                .map(|&m| self.low + (self.high - self.low) * m)
                .collect();
            let (u, _) = solve_darcy(&a, &f, n, self.tol, self.max_iter)?;
            for j in 0..s {
                for i in 0..s {
                    let k = j * self.refine * (n + 1) + i * self.refine;
                    mask.push(m[k]);
                    solution.push(u[k]);
                }
            }
        }
        Ok(DarcySet {
            resolution: s,
            count,
            mask,
            solution,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// Max nodal error for the manufactured solution `u = sin πx sin πy` with
    /// `a = 1 + 0.5 sin 2πx cos 3πy`.
    fn manufactured_error(n: usize) -> f64 {
        let w = n + 1;
        let (mut a, mut f, mut exact) = (vec![0.0; w * w], vec![0.0; w * w], vec![0.0; w * w]);
        for j in 0..w {
            for i in 0..w {
                let (x, y) = (i as f64 / n as f64, j as f64 / n as f64);
                let (sx, cx, sy, cy) = (
                    (PI * x).sin(),
                    (PI * x).cos(),
                    (PI * y).sin(),
                    (PI * y).cos(),
                );
                let av = 1.0 + 0.5 * (2.0 * PI * x).sin() * (3.0 * PI * y).cos();
                let ax = PI * (2.0 * PI * x).cos() * (3.0 * PI * y).cos();
                let ay = -1.5 * PI * (2.0 * PI * x).sin() * (3.0 * PI * y).sin();
                let (ux, uy, lap) = (PI * cx * sy, PI * sx * cy, -2.0 * PI * PI * sx * sy);
                let k = j * w + i;
                a[k] = av;
                f[k] = -(ax * ux + ay * uy + av * lap);
                exact[k] = sx * sy;
            }
        }
        let (u, _) = solve_darcy(&a, &f, n, 1e-13, 100_000).unwrap();
        u.iter()
            .zip(&exact)
            .map(|(u, e)| (u - e).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn the_manufactured_solution_converges_at_second_order() {
        let ns = [16, 32, 64];
        let errs: Vec<f64> = ns.iter().map(|&n| manufactured_error(n)).collect();
        let log_h: Vec<f64> = ns.iter().map(|&n| (1.0 / n as f64).ln()).collect();
        let log_e: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
        let slope = (log_e[2] - log_e[0]) / (log_h[2] - log_h[0]);
        assert!((slope - 2.0).abs() < 0.15, "order {slope}, errors {errs:?}");
        assert!(errs[2] < 1e-3, "{errs:?}");
    }

    #[test]
    fn a_constant_coefficient_matches_the_series_solution() {
        // -Δu = 1: u(1/2, 1/2) = 0.0736713532... (series of the torsion problem).
        let n = 64;
        let w = n + 1;
        let (u, _) = solve_darcy(&vec![1.0; w * w], &vec![1.0; w * w], n, 1e-12, 10_000).unwrap();
        let centre = u[(n / 2) * w + n / 2];
        assert!((centre - 0.073_671_353_2).abs() < 5e-5, "{centre}");
    }

    #[test]
    fn generated_samples_are_masks_and_positive_solutions() {
        let set = DarcyConfig::new(9).generate(3, 5).unwrap();
        assert_eq!(set.mask.len(), 3 * 81);
        assert!(set.mask.iter().all(|&m| m == 0.0 || m == 1.0));
        assert!(set.mask.contains(&0.0) && set.mask.contains(&1.0));
        // Interior values are positive (maximum principle), boundary values zero.
        assert!(set.solution[40] > 0.0 && set.solution[0] == 0.0);
        assert_eq!(set, DarcyConfig::new(9).generate(3, 5).unwrap());
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(solve_darcy(&[1.0; 9], &[1.0; 9], 2, 1e-8, 10).is_ok());
        assert!(solve_darcy(&[1.0; 8], &[1.0; 9], 2, 1e-8, 10).is_err());
        assert!(solve_darcy(&[0.0; 9], &[1.0; 9], 2, 1e-8, 10).is_err());
        assert!(DarcyConfig::new(2).validate().is_err());
    }
}
