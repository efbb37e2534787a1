//! Space-time domains Ω × [t0, t1]: the time coordinate is the last input.
//!
//! The "boundary" of a space-time domain for boundary conditions is the lateral surface
//! ∂Ω × [t0, t1] (normals have a zero time component); the initial slice Ω × {t0} is sampled
//! separately for initial conditions.

use kiln_core::rng::Rng;

use super::{BoundarySample, Geometry, Points};
use crate::{Error, Result, Sampler};

/// The product of a spatial geometry and a time interval.
#[derive(Debug)]
pub struct SpaceTime<G> {
    space: G,
    t0: f64,
    t1: f64,
}

impl<G: Geometry> SpaceTime<G> {
    /// `space × [t0, t1]`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `t0 < t1`, both finite.
    pub fn new(space: G, t0: f64, t1: f64) -> Result<Self> {
        if !(t0 < t1 && t0.is_finite() && t1.is_finite()) {
            return Err(Error::config(
                "time interval",
                format!("[{t0}, {t1}]"),
                "need finite t0 < t1",
            ));
        }
        Ok(SpaceTime { space, t0, t1 })
    }

    /// The spatial geometry.
    pub fn space(&self) -> &G {
        &self.space
    }

    /// The time interval.
    pub fn time(&self) -> (f64, f64) {
        (self.t0, self.t1)
    }

    /// `n` points of the initial slice Ω × {t0} (space sampled with `sampler`).
    ///
    /// # Errors
    /// As the spatial geometry's [`Geometry::sample_interior`].
    pub fn sample_initial(&self, n: usize, sampler: Sampler, rng: &mut Rng) -> Result<Points> {
        let x = self.space.sample_interior(n, sampler, rng)?;
        let t = Points::new(1, vec![self.t0; x.len()])?;
        Points::hstack(&[&x, &t])
    }

    fn times(&self, n: usize, sampler: Sampler, rng: &mut Rng) -> Result<Points> {
        let unit = sampler.unit_cube(n, 1, rng)?;
        Points::new(
            1,
            unit.iter()
                .map(|u| self.t0 + u * (self.t1 - self.t0))
                .collect(),
        )
    }
}

impl<G: Geometry> Geometry for SpaceTime<G> {
    fn dim(&self) -> usize {
        self.space.dim() + 1
    }

    fn bounds(&self) -> (Vec<f64>, Vec<f64>) {
        let (mut lo, mut hi) = self.space.bounds();
        lo.push(self.t0);
        hi.push(self.t1);
        (lo, hi)
    }

    fn sdf(&self, p: &[f64]) -> f64 {
        let d = self.space.dim();
        let c = 0.5 * (self.t0 + self.t1);
        let h = 0.5 * (self.t1 - self.t0);
        self.space.sdf(&p[..d]).max((p[d] - c).abs() - h)
    }

    fn boundary_measure(&self) -> f64 {
        self.space.boundary_measure() * (self.t1 - self.t0)
    }

    /// Points on the lateral boundary ∂Ω × [t0, t1] with normals `(n_space, 0)`.
    fn sample_boundary(&self, n: usize, sampler: Sampler, rng: &mut Rng) -> Result<BoundarySample> {
        let side = self.space.sample_boundary(n, sampler, rng)?;
        let t = self.times(side.len(), sampler, rng)?;
        let zeros = Points::new(1, vec![0.0; side.len()])?;
        Ok(BoundarySample {
            points: Points::hstack(&[&side.points, &t])?,
            normals: Points::hstack(&[&side.normals, &zeros])?,
        })
    }
}
