//! Simple polygons in the plane (convex or not), given by their vertices in either orientation.

use kiln_core::rng::Rng;

use super::{BoundarySample, Geometry};
use crate::{Error, Result, Sampler};

/// A simple (non-self-intersecting) polygon; vertices are stored counter-clockwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    vertices: Vec<[f64; 2]>,
    perimeter: f64,
}

impl Polygon {
    /// The polygon through `vertices` (closed automatically; either orientation).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for fewer than three vertices, non-finite coordinates, repeated
    /// consecutive vertices or zero area.
    pub fn new(vertices: Vec<[f64; 2]>) -> Result<Self> {
        if vertices.len() < 3 {
            return Err(Error::config(
                "vertices",
                vertices.len(),
                "a polygon needs at least three vertices",
            ));
        }
        if vertices.iter().flatten().any(|x| !x.is_finite()) {
            return Err(Error::config(
                "vertices",
                format!("{vertices:?}"),
                "every coordinate must be finite",
            ));
        }
        let n = vertices.len();
        let mut area2 = 0.0;
        let mut perimeter = 0.0;
        for i in 0..n {
            let (a, b) = (vertices[i], vertices[(i + 1) % n]);
            area2 += a[0] * b[1] - b[0] * a[1];
            let len = (b[0] - a[0]).hypot(b[1] - a[1]);
            if len == 0.0 {
                return Err(Error::config(
                    "vertices",
                    format!("{a:?} repeated at index {i}"),
                    "remove repeated consecutive vertices",
                ));
            }
            perimeter += len;
        }
        if area2.abs() < 1e-14 * perimeter * perimeter {
            return Err(Error::config(
                "vertices",
                format!("{vertices:?}"),
                "the polygon has zero area; give the vertices of a proper polygon",
            ));
        }
        let mut vertices = vertices;
        if area2 < 0.0 {
            vertices.reverse();
        }
        Ok(Polygon {
            vertices,
            perimeter,
        })
    }

    /// The vertices, counter-clockwise.
    pub fn vertices(&self) -> &[[f64; 2]] {
        &self.vertices
    }

    fn edges(&self) -> impl Iterator<Item = ([f64; 2], [f64; 2])> + '_ {
        let n = self.vertices.len();
        (0..n).map(move |i| (self.vertices[i], self.vertices[(i + 1) % n]))
    }

    /// Even-odd crossing test.
    fn inside(&self, p: &[f64]) -> bool {
        let mut inside = false;
        for (a, b) in self.edges() {
            if (a[1] > p[1]) != (b[1] > p[1]) {
                let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
                if p[0] < x {
                    inside = !inside;
                }
            }
        }
        inside
    }
}

fn segment_distance(p: &[f64], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let t = (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    (p[0] - a[0] - t * dx).hypot(p[1] - a[1] - t * dy)
}

impl Geometry for Polygon {
    fn dim(&self) -> usize {
        2
    }

    fn bounds(&self) -> (Vec<f64>, Vec<f64>) {
        let fold = |k: usize, f: fn(f64, f64) -> f64, init: f64| {
            self.vertices.iter().map(|v| v[k]).fold(init, f)
        };
        (
            vec![
                fold(0, f64::min, f64::INFINITY),
                fold(1, f64::min, f64::INFINITY),
            ],
            vec![
                fold(0, f64::max, f64::NEG_INFINITY),
                fold(1, f64::max, f64::NEG_INFINITY),
            ],
        )
    }

    fn sdf(&self, p: &[f64]) -> f64 {
        let d = self
            .edges()
            .map(|(a, b)| segment_distance(p, a, b))
            .fold(f64::INFINITY, f64::min);
        if self.inside(p) { -d } else { d }
    }

    fn boundary_measure(&self) -> f64 {
        self.perimeter
    }

    fn sample_boundary(&self, n: usize, sampler: Sampler, rng: &mut Rng) -> Result<BoundarySample> {
        let mut out = BoundarySample::empty(2);
        let edges: Vec<_> = self.edges().collect();
        let lengths: Vec<f64> = edges
            .iter()
            .map(|(a, b)| (b[0] - a[0]).hypot(b[1] - a[1]))
            .collect();
        // One parameter along the perimeter per point.
        for u in sampler.unit_cube(n, 1, rng)? {
            let mut s = u * self.perimeter;
            let mut i = 0;
            while i + 1 < edges.len() && s >= lengths[i] {
                s -= lengths[i];
                i += 1;
            }
            let ((a, b), len) = (edges[i], lengths[i]);
            let t = (s / len).clamp(0.0, 1.0);
            let p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
            // Counter-clockwise vertices: the outward normal is the edge turned clockwise.
            let normal = [(b[1] - a[1]) / len, -(b[0] - a[0]) / len];
            out.push(&p, &normal);
        }
        Ok(out)
    }
}
