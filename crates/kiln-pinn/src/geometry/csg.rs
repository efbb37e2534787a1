//! Set operations on geometries: union, intersection and difference (constructive solid geometry).
//!
//! The sdf of a set operation combines its operands' (min, max, max with a negation): the sign is
//! exact, the magnitude a bound. Boundary points are drawn from both operands' boundaries in
//! proportion to their measures and kept where they lie on the result's boundary, so they stay
//! uniform over it; on the subtracted part of a difference the normal is flipped.

use kiln_core::rng::Rng;

use super::{BOUNDARY_TOL, BoundarySample, Geometry};
use crate::{Error, Result, Sampler};

/// Which operation a [`Csg`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Intersection,
    Difference,
}

/// A set operation on two geometries of the same dimension.
#[derive(Debug)]
struct Csg {
    a: Box<dyn Geometry>,
    b: Box<dyn Geometry>,
    op: Op,
}

impl Csg {
    fn new(a: Box<dyn Geometry>, b: Box<dyn Geometry>, op: Op) -> Result<Self> {
        if a.dim() != b.dim() {
            return Err(Error::config(
                "geometry",
                format!("dimensions {} and {}", a.dim(), b.dim()),
                "set operations need two geometries of the same dimension",
            ));
        }
        Ok(Csg { a, b, op })
    }

    fn bounds(&self) -> (Vec<f64>, Vec<f64>) {
        let ((alo, ahi), (blo, bhi)) = (self.a.bounds(), self.b.bounds());
        match self.op {
            Op::Union => (
                alo.iter().zip(&blo).map(|(x, y)| x.min(*y)).collect(),
                ahi.iter().zip(&bhi).map(|(x, y)| x.max(*y)).collect(),
            ),
            Op::Intersection => (
                alo.iter().zip(&blo).map(|(x, y)| x.max(*y)).collect(),
                ahi.iter().zip(&bhi).map(|(x, y)| x.min(*y)).collect(),
            ),
            Op::Difference => (alo, ahi),
        }
    }

    fn sdf(&self, p: &[f64]) -> f64 {
        let (a, b) = (self.a.sdf(p), self.b.sdf(p));
        match self.op {
            Op::Union => a.min(b),
            Op::Intersection => a.max(b),
            Op::Difference => a.max(-b),
        }
    }

    /// Whether a point of operand `a`'s (or `b`'s) boundary is on the result's boundary, and
    /// whether its normal must be flipped.
    fn keep(&self, from_a: bool, p: &[f64]) -> Option<bool> {
        let other = if from_a { self.b.sdf(p) } else { self.a.sdf(p) };
        let keep = match (self.op, from_a) {
            // Outside (or on) the other operand.
            (Op::Union, _) | (Op::Difference, true) => other >= -BOUNDARY_TOL,
            // Inside (or on) the other operand.
            (Op::Intersection, _) | (Op::Difference, false) => other <= BOUNDARY_TOL,
        };
        keep.then_some(self.op == Op::Difference && !from_a)
    }

    fn sample_boundary(&self, n: usize, sampler: Sampler, rng: &mut Rng) -> Result<BoundarySample> {
        let dim = self.a.dim();
        let mut out = BoundarySample::empty(dim);
        if n == 0 {
            return Ok(out);
        }
        let (ma, mb) = (self.a.boundary_measure(), self.b.boundary_measure());
        let share_a = ma / (ma + mb);
        let mut batch = 2 * n + 16;
        let mut tries = 0;
        for _ in 0..12 {
            let na = (batch as f64 * share_a).round() as usize;
            let parts = [
                (true, self.a.sample_boundary(na, sampler, rng)?),
                (false, self.b.sample_boundary(batch - na, sampler, rng)?),
            ];
            tries += batch;
            // Interleave the two operands' points so truncation keeps their proportions.
            let mut kept: Vec<(f64, Vec<f64>, Vec<f64>)> = Vec::new();
            for (from_a, sample) in &parts {
                let m = sample.len().max(1) as f64;
                for i in 0..sample.len() {
                    let p = sample.points.row(i);
                    if let Some(flip) = self.keep(*from_a, p) {
                        let sign = if flip { -1.0 } else { 1.0 };
                        let normal = sample.normals.row(i).iter().map(|x| sign * x).collect();
                        kept.push((i as f64 / m, p.to_vec(), normal));
                    }
                }
            }
            kept.sort_by(|x, y| x.0.total_cmp(&y.0));
            for (_, p, normal) in kept {
                if out.len() == n {
                    break;
                }
                out.push(&p, &normal);
            }
            if out.len() == n {
                return Ok(out);
            }
            batch *= 2;
        }
        Err(Error::SamplingFailed {
            what: "boundary",
            wanted: n,
            found: out.len(),
            tries,
        })
    }
}

macro_rules! csg_type {
    ($(#[$doc:meta])* $name:ident, $op:expr, $ctor_doc:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(Csg);

        impl $name {
            #[doc = $ctor_doc]
            ///
            /// # Errors
            /// [`Error::InvalidConfig`] when the geometries differ in dimension.
            pub fn new(a: impl Geometry + 'static, b: impl Geometry + 'static) -> Result<Self> {
                Ok($name(Csg::new(Box::new(a), Box::new(b), $op)?))
            }
        }

        impl Geometry for $name {
            fn dim(&self) -> usize {
                self.0.a.dim()
            }
            fn bounds(&self) -> (Vec<f64>, Vec<f64>) {
                self.0.bounds()
            }
            fn sdf(&self, p: &[f64]) -> f64 {
                self.0.sdf(p)
            }
            fn boundary_measure(&self) -> f64 {
                self.0.a.boundary_measure() + self.0.b.boundary_measure()
            }
            fn sample_boundary(
                &self,
                n: usize,
                sampler: Sampler,
                rng: &mut Rng,
            ) -> Result<BoundarySample> {
                // Quasi-random boundary parametrisations do not survive the filtering; draw at
                // random so repeated rounds do not repeat points.
                let sampler = if sampler == Sampler::Grid { Sampler::Uniform } else { sampler };
                self.0.sample_boundary(n, sampler, rng)
            }
        }
    };
}

csg_type!(
    /// The union A ∪ B.
    Union,
    Op::Union,
    "The union of `a` and `b`."
);
csg_type!(
    /// The intersection A ∩ B.
    Intersection,
    Op::Intersection,
    "The intersection of `a` and `b`."
);
csg_type!(
    /// The difference A \ B (A with B cut out).
    Difference,
    Op::Difference,
    "`a` with `b` removed."
);
