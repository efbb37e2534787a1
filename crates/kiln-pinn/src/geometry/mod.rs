//! Domains of a PINN: primitives, set operations and space-time products, with interior and
//! boundary sampling and outward unit normals.
//!
//! Every geometry is described by a signed distance-like function `sdf` (negative inside, zero on
//! the boundary, positive outside; exact for primitives, a bound with the right sign for set
//! operations), a bounding box, and a boundary sampler that returns points with outward normals.
//! Interior sampling is shared: any [`Sampler`] fills the bounding box and points outside are
//! rejected, so Sobol and Halton keep their low discrepancy on boxes and stay well spread
//! elsewhere.

mod csg;
mod polygon;
mod primitives;
mod spacetime;

pub use csg::{Difference, Intersection, Union};
pub use polygon::Polygon;
pub use primitives::{Ball, Hyperbox};
pub use spacetime::SpaceTime;

use std::fmt::Debug;
use std::sync::Arc;

use burn::tensor::{Device, Tensor};
use kiln_core::rng::Rng;

use crate::{Error, Result, Sampler};

/// Distance within which a point counts as on the boundary.
pub const BOUNDARY_TOL: f64 = 1e-9;

/// A set of points in `dim` dimensions, stored row-major.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Points {
    dim: usize,
    data: Vec<f64>,
}

impl Points {
    /// Points from row-major values.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `data.len()` is not a multiple of `dim` (or `dim == 0`).
    pub fn new(dim: usize, data: Vec<f64>) -> Result<Self> {
        if dim == 0 || !data.len().is_multiple_of(dim) {
            return Err(Error::shape(
                "Points::new",
                format!("a multiple of dim = {dim} values"),
                &[data.len()],
            ));
        }
        Ok(Points { dim, data })
    }

    /// An empty set in `dim` dimensions.
    pub fn empty(dim: usize) -> Self {
        Points {
            dim,
            data: Vec::new(),
        }
    }

    /// Coordinates per point.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Point `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Iterates over the points.
    pub fn rows(&self) -> impl Iterator<Item = &[f64]> {
        self.data.chunks(self.dim.max(1))
    }

    /// The row-major values.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// Appends a point (its length must be `dim`).
    pub(crate) fn push(&mut self, p: &[f64]) {
        debug_assert_eq!(p.len(), self.dim);
        self.data.extend_from_slice(p);
    }

    /// Keeps the first `n` points.
    pub(crate) fn truncate(&mut self, n: usize) {
        self.data.truncate(n * self.dim);
    }

    /// Appends all points of `other` (same dimension).
    pub(crate) fn extend(&mut self, other: &Points) {
        debug_assert_eq!(other.dim, self.dim);
        self.data.extend_from_slice(&other.data);
    }

    /// One coordinate of every point.
    pub fn column(&self, k: usize) -> Vec<f64> {
        self.rows().map(|p| p[k]).collect()
    }

    /// Stacks the coordinates of several point sets side by side (e.g. space and time).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the sets hold different numbers of points.
    pub fn hstack(parts: &[&Points]) -> Result<Points> {
        let n = parts.first().map_or(0, |p| p.len());
        if let Some(bad) = parts.iter().find(|p| p.len() != n) {
            return Err(Error::shape(
                "Points::hstack",
                format!("{n} points in every part"),
                &[bad.len()],
            ));
        }
        let dim = parts.iter().map(|p| p.dim).sum();
        let mut data = Vec::with_capacity(n * dim);
        for i in 0..n {
            for p in parts {
                data.extend_from_slice(p.row(i));
            }
        }
        Points::new(dim, data)
    }

    /// The points as a `[len, dim]` tensor.
    ///
    /// # Errors
    /// Errors from kiln-core when the tensor cannot be built.
    pub fn to_tensor(&self, device: &Device) -> Result<Tensor<2>> {
        Ok(kiln_core::tensor::from_f64(
            &self.data,
            [self.len(), self.dim],
            device,
        )?)
    }
}

/// Points on a boundary with their outward unit normals.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundarySample {
    /// The points.
    pub points: Points,
    /// The outward unit normal at each point.
    pub normals: Points,
}

impl BoundarySample {
    pub(crate) fn empty(dim: usize) -> Self {
        BoundarySample {
            points: Points::empty(dim),
            normals: Points::empty(dim),
        }
    }

    pub(crate) fn push(&mut self, p: &[f64], n: &[f64]) {
        self.points.push(p);
        self.normals.push(n);
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the sample is empty.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// A domain in `dim` dimensions; see the [module docs](self).
pub trait Geometry: Debug + Send + Sync {
    /// Number of coordinates.
    fn dim(&self) -> usize;

    /// Lower and upper corners of a box containing the domain.
    fn bounds(&self) -> (Vec<f64>, Vec<f64>);

    /// Signed distance-like function: negative inside, zero on the boundary, positive outside.
    fn sdf(&self, p: &[f64]) -> f64;

    /// The boundary's measure (length, area, ...), used to share boundary points between the
    /// parts of a set operation; for set operations, the sum over their parts' boundaries.
    fn boundary_measure(&self) -> f64;

    /// `n` points on the boundary with outward unit normals, placed with `sampler` where the
    /// boundary has a parametrisation (boxes, disks, polygons), else uniformly at random
    /// ([`Sampler::Grid`] becomes a Latin hypercube on box faces, so that exactly `n` come back).
    ///
    /// # Errors
    /// [`Error::SamplingFailed`] when too few candidates fall on the boundary of a set operation.
    fn sample_boundary(&self, n: usize, sampler: Sampler, rng: &mut Rng) -> Result<BoundarySample>;

    /// Whether `p` lies in the closed domain (within [`BOUNDARY_TOL`]).
    fn contains(&self, p: &[f64]) -> bool {
        self.sdf(p) <= BOUNDARY_TOL
    }

    /// Whether `p` lies on the boundary (within `tol`).
    fn on_boundary(&self, p: &[f64], tol: f64) -> bool {
        self.sdf(p).abs() <= tol
    }

    /// About `n` points strictly inside: exactly `n` except for [`Sampler::Grid`], which keeps
    /// the points of a `≈ n`-point grid over the bounding box that fall inside.
    ///
    /// # Errors
    /// [`Error::SamplingFailed`] when the domain fills too little of its bounding box.
    fn sample_interior(&self, n: usize, sampler: Sampler, rng: &mut Rng) -> Result<Points> {
        sample_interior_by_rejection(self, n, sampler, rng)
    }
}

impl<G: Geometry + ?Sized> Geometry for Arc<G> {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn bounds(&self) -> (Vec<f64>, Vec<f64>) {
        (**self).bounds()
    }
    fn sdf(&self, p: &[f64]) -> f64 {
        (**self).sdf(p)
    }
    fn boundary_measure(&self) -> f64 {
        (**self).boundary_measure()
    }
    fn sample_boundary(&self, n: usize, sampler: Sampler, rng: &mut Rng) -> Result<BoundarySample> {
        (**self).sample_boundary(n, sampler, rng)
    }
    fn sample_interior(&self, n: usize, sampler: Sampler, rng: &mut Rng) -> Result<Points> {
        (**self).sample_interior(n, sampler, rng)
    }
}

/// Maps unit-cube points onto the box `[lo, hi]`.
pub(crate) fn scale_to_box(unit: &[f64], lo: &[f64], hi: &[f64]) -> Vec<f64> {
    let dim = lo.len();
    unit.iter()
        .enumerate()
        .map(|(k, u)| lo[k % dim] + u * (hi[k % dim] - lo[k % dim]))
        .collect()
}

/// Fills the bounding box with `sampler` and keeps the points strictly inside.
fn sample_interior_by_rejection<G: Geometry + ?Sized>(
    geom: &G,
    n: usize,
    sampler: Sampler,
    rng: &mut Rng,
) -> Result<Points> {
    let dim = geom.dim();
    let (lo, hi) = geom.bounds();
    let mut out = Points::empty(dim);
    if n == 0 {
        return Ok(out);
    }
    let inside = |p: &[f64]| geom.sdf(p) < -BOUNDARY_TOL;
    if sampler == Sampler::Grid {
        let unit = sampler.unit_cube(n, dim, rng)?;
        for p in scale_to_box(&unit, &lo, &hi).chunks(dim) {
            if inside(p) {
                out.push(p);
            }
        }
        return Ok(out);
    }
    // Draw in rounds sized by the acceptance rate seen so far; a low-discrepancy sequence is
    // drawn once, large enough, so that its points stay one sequence.
    let mut tries = 0usize;
    let mut batch = n;
    for _ in 0..12 {
        let unit = sampler.unit_cube(batch, dim, rng)?;
        tries += batch;
        let mut round = Points::empty(dim);
        for p in scale_to_box(&unit, &lo, &hi).chunks(dim) {
            if inside(p) {
                round.push(p);
            }
        }
        let accepted = round.len();
        match sampler {
            Sampler::Uniform => out.extend(&round),
            _ => {
                if accepted >= n {
                    out = round;
                }
            }
        }
        if out.len() >= n {
            out.truncate(n);
            return Ok(out);
        }
        let rate = accepted.max(1) as f64 / batch as f64;
        let missing = n - out.len().min(n);
        batch = match sampler {
            Sampler::Uniform => ((missing as f64 / rate) * 1.2) as usize + 16,
            _ => ((n as f64 / rate) * 1.2) as usize + 16,
        };
    }
    Err(Error::SamplingFailed {
        what: "interior",
        wanted: n,
        found: out.len(),
        tries,
    })
}
