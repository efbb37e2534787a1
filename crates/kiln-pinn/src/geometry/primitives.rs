//! Primitive domains: axis-aligned boxes in any dimension (intervals, rectangles, cuboids) and
//! balls (disks, spheres).

use std::f64::consts::PI;

use kiln_core::rng::Rng;

use super::{BoundarySample, Geometry, Points, scale_to_box};
use crate::{Error, Result, Sampler};

/// The axis-aligned box `[lo_1, hi_1] × ... × [lo_d, hi_d]`; an interval when `d = 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Hyperbox {
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl Hyperbox {
    /// The box with corners `lo` and `hi`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the corners differ in length, are empty, are not finite or
    /// `lo[k] >= hi[k]` for some axis.
    pub fn new(lo: Vec<f64>, hi: Vec<f64>) -> Result<Self> {
        if lo.is_empty() || lo.len() != hi.len() {
            return Err(Error::config(
                "hi",
                format!("{hi:?} (lo = {lo:?})"),
                "give two non-empty corners of the same length",
            ));
        }
        if let Some(k) =
            (0..lo.len()).find(|&k| !(lo[k] < hi[k] && lo[k].is_finite() && hi[k].is_finite()))
        {
            return Err(Error::config(
                "lo/hi",
                format!("[{}, {}] on axis {k}", lo[k], hi[k]),
                "each axis needs finite lo < hi",
            ));
        }
        Ok(Hyperbox { lo, hi })
    }

    /// The interval `[a, b]`.
    ///
    /// # Errors
    /// As [`Hyperbox::new`].
    pub fn interval(a: f64, b: f64) -> Result<Self> {
        Hyperbox::new(vec![a], vec![b])
    }

    /// The lower corner.
    pub fn lo(&self) -> &[f64] {
        &self.lo
    }

    /// The upper corner.
    pub fn hi(&self) -> &[f64] {
        &self.hi
    }

    /// The volume (length, area, ...).
    pub fn volume(&self) -> f64 {
        self.lo.iter().zip(&self.hi).map(|(a, b)| b - a).product()
    }

    /// Measure of the faces normal to axis `k` (one face; 1 for an interval's end points).
    fn face_measure(&self, k: usize) -> f64 {
        (0..self.lo.len())
            .filter(|&j| j != k)
            .map(|j| self.hi[j] - self.lo[j])
            .product()
    }
}

impl Geometry for Hyperbox {
    fn dim(&self) -> usize {
        self.lo.len()
    }

    fn bounds(&self) -> (Vec<f64>, Vec<f64>) {
        (self.lo.clone(), self.hi.clone())
    }

    fn sdf(&self, p: &[f64]) -> f64 {
        // Distance to a box: outside part by the norm, inside part by the largest (negative) gap.
        let mut outside = 0.0;
        let mut inside = f64::NEG_INFINITY;
        for ((x, lo), hi) in p.iter().zip(&self.lo).zip(&self.hi) {
            let q = (x - 0.5 * (lo + hi)).abs() - 0.5 * (hi - lo);
            outside += q.max(0.0).powi(2);
            inside = inside.max(q);
        }
        outside.sqrt() + inside.min(0.0)
    }

    fn boundary_measure(&self) -> f64 {
        2.0 * (0..self.lo.len())
            .map(|k| self.face_measure(k))
            .sum::<f64>()
    }

    fn sample_boundary(&self, n: usize, sampler: Sampler, rng: &mut Rng) -> Result<BoundarySample> {
        let dim = self.lo.len();
        let mut out = BoundarySample::empty(dim);
        // Cumulative measure of the 2d faces: (axis k, low side) then (axis k, high side).
        let faces: Vec<f64> = (0..dim).map(|k| self.face_measure(k)).collect();
        let total = 2.0 * faces.iter().sum::<f64>();
        // Coordinate 0 of each unit point picks the face; the others place the point on it.
        // A full grid has k^d points rather than n: on the boundary it becomes a Latin hypercube.
        let sampler = if sampler == Sampler::Grid {
            Sampler::LatinHypercube
        } else {
            sampler
        };
        let unit = sampler.unit_cube(n, dim, rng)?;
        for u in unit.chunks(dim) {
            let mut target = u[0] * total;
            let mut chosen = (dim - 1, true);
            'pick: for (k, &m) in faces.iter().enumerate() {
                for high in [false, true] {
                    if target < m {
                        chosen = (k, high);
                        break 'pick;
                    }
                    target -= m;
                }
            }
            let (axis, high) = chosen;
            let mut p = vec![0.0; dim];
            let mut j = 1;
            for (k, x) in p.iter_mut().enumerate() {
                if k == axis {
                    *x = if high { self.hi[k] } else { self.lo[k] };
                } else {
                    *x = self.lo[k] + u[j] * (self.hi[k] - self.lo[k]);
                    j += 1;
                }
            }
            let mut normal = vec![0.0; dim];
            normal[axis] = if high { 1.0 } else { -1.0 };
            out.push(&p, &normal);
        }
        Ok(out)
    }

    fn sample_interior(&self, n: usize, sampler: Sampler, rng: &mut Rng) -> Result<Points> {
        // Every point of the unit cube maps inside the box, so no rejection is needed and the
        // sampler's structure (strata, nets) is kept exactly.
        let unit = sampler.unit_cube(n, self.dim(), rng)?;
        Points::new(self.dim(), scale_to_box(&unit, &self.lo, &self.hi))
    }
}

/// The ball `|x - centre| <= radius` (a disk in 2-D, an interval in 1-D).
#[derive(Debug, Clone, PartialEq)]
pub struct Ball {
    centre: Vec<f64>,
    radius: f64,
}

impl Ball {
    /// The ball around `centre`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty or non-finite centre or a radius that is not a
    /// positive finite number.
    pub fn new(centre: Vec<f64>, radius: f64) -> Result<Self> {
        if centre.is_empty() || centre.iter().any(|c| !c.is_finite()) {
            return Err(Error::config(
                "centre",
                format!("{centre:?}"),
                "give at least one finite coordinate",
            ));
        }
        if !(radius > 0.0 && radius.is_finite()) {
            return Err(Error::config(
                "radius",
                radius,
                "must be a positive finite number",
            ));
        }
        Ok(Ball { centre, radius })
    }

    /// The disk in the plane.
    ///
    /// # Errors
    /// As [`Ball::new`].
    pub fn disk(cx: f64, cy: f64, radius: f64) -> Result<Self> {
        Ball::new(vec![cx, cy], radius)
    }

    /// Surface measure of the unit sphere S^(d-1): 2π^(d/2) / Γ(d/2).
    fn unit_sphere_measure(d: usize) -> f64 {
        // Recurrence S_d = 2π/(d-2) S_(d-2), S_1 = 2 (two points), S_2 = 2π.
        match d {
            1 => 2.0,
            2 => 2.0 * PI,
            _ => 2.0 * PI / (d as f64 - 2.0) * Ball::unit_sphere_measure(d - 2),
        }
    }
}

impl Geometry for Ball {
    fn dim(&self) -> usize {
        self.centre.len()
    }

    fn bounds(&self) -> (Vec<f64>, Vec<f64>) {
        (
            self.centre.iter().map(|c| c - self.radius).collect(),
            self.centre.iter().map(|c| c + self.radius).collect(),
        )
    }

    fn sdf(&self, p: &[f64]) -> f64 {
        let r2: f64 = p
            .iter()
            .zip(&self.centre)
            .map(|(x, c)| (x - c).powi(2))
            .sum();
        r2.sqrt() - self.radius
    }

    fn boundary_measure(&self) -> f64 {
        let d = self.dim();
        Ball::unit_sphere_measure(d) * self.radius.powi(d as i32 - 1)
    }

    fn sample_boundary(&self, n: usize, sampler: Sampler, rng: &mut Rng) -> Result<BoundarySample> {
        let d = self.dim();
        let mut out = BoundarySample::empty(d);
        let directions: Vec<Vec<f64>> = match d {
            1 => {
                let unit = sampler.unit_cube(n, 1, rng)?;
                unit.iter()
                    .map(|u| vec![if *u < 0.5 { -1.0 } else { 1.0 }])
                    .collect()
            }
            2 => {
                let unit = sampler.unit_cube(n, 1, rng)?;
                unit.iter()
                    .map(|u| vec![(2.0 * PI * u).cos(), (2.0 * PI * u).sin()])
                    .collect()
            }
            // Uniform directions from normalised Gaussian vectors.
            _ => (0..n)
                .map(|_| {
                    let g: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
                    let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-300);
                    g.into_iter().map(|x| x / norm).collect()
                })
                .collect(),
        };
        for dir in directions {
            let p: Vec<f64> = self
                .centre
                .iter()
                .zip(&dir)
                .map(|(c, u)| c + self.radius * u)
                .collect();
            out.push(&p, &dir);
        }
        Ok(out)
    }
}
