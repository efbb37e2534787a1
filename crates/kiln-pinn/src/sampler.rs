//! Point sets in the unit cube: uniform random, grid, Latin hypercube, Sobol, Halton and
//! Hammersley.
//!
//! Geometries map these onto their bounding boxes (and reject what falls outside), so every
//! sampler works for every domain. Sobol uses the Joe-Kuo direction numbers (new-joe-kuo-6.21201,
//! the table scipy and most libraries ship) for up to [`MAX_SOBOL_DIM`] dimensions; Halton uses
//! the radical inverses in the first primes. Both skip their first point (the origin, a corner).
//! Hammersley is a *set*, not a sequence: its first coordinate is `i / n`, the others the
//! radical inverses of `i` in the first primes, so it depends on `n` and is the lowest-discrepancy
//! of the built-in sets at a fixed size.

use kiln_core::rng::Rng;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How points are placed in the unit cube.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampler {
    /// Independent uniform random points.
    #[default]
    Uniform,
    /// Cell centres of a regular grid with `k = round(n^(1/d))` points per axis (`k^d` points).
    Grid,
    /// Latin hypercube: each axis split into `n` strata, one point in each, strata paired at random.
    LatinHypercube,
    /// The Sobol low-discrepancy sequence, randomised by a digital (XOR) shift drawn from the rng.
    Sobol,
    /// The Halton low-discrepancy sequence, randomised by a Cranley-Patterson rotation.
    Halton,
    /// The Hammersley set of exactly `n` points, randomised by a Cranley-Patterson rotation like
    /// Halton. Its points come in the order of the radical inverse of their index in the next
    /// unused prime, so every prefix is itself well spread (rejection sampling in non-box
    /// geometries keeps a prefix); see [`hammersley`].
    Hammersley,
}

/// The largest dimension the built-in Sobol direction numbers cover.
pub const MAX_SOBOL_DIM: usize = 21;

/// Joe-Kuo direction numbers for dimensions 2..=21: (degree s, coefficients a, initial m_i).
const JOE_KUO: [(u32, u32, &[u32]); MAX_SOBOL_DIM - 1] = [
    (1, 0, &[1]),
    (2, 1, &[1, 3]),
    (3, 1, &[1, 3, 1]),
    (3, 2, &[1, 1, 1]),
    (4, 1, &[1, 1, 3, 3]),
    (4, 4, &[1, 3, 5, 13]),
    (5, 2, &[1, 1, 5, 5, 17]),
    (5, 4, &[1, 1, 5, 5, 5]),
    (5, 7, &[1, 1, 7, 11, 19]),
    (5, 11, &[1, 1, 5, 1, 1]),
    (5, 13, &[1, 1, 1, 3, 11]),
    (5, 14, &[1, 3, 5, 5, 31]),
    (6, 1, &[1, 3, 3, 9, 7, 49]),
    (6, 13, &[1, 1, 1, 15, 21, 21]),
    (6, 16, &[1, 3, 1, 13, 27, 49]),
    (6, 19, &[1, 1, 1, 15, 7, 5]),
    (6, 22, &[1, 3, 1, 15, 13, 25]),
    (6, 25, &[1, 1, 5, 5, 19, 61]),
    (7, 1, &[1, 3, 7, 11, 23, 15, 103]),
    (7, 4, &[1, 3, 7, 13, 13, 15, 69]),
];

/// Bits of the Sobol integers (2^32 points before the sequence repeats).
const BITS: usize = 32;

/// The first primes, the Halton bases.
const PRIMES: [u64; 32] = [
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131,
];

impl Sampler {
    /// `n` points in `[0, 1)^dim`, row-major (`dim` values per point). [`Sampler::Grid`] returns
    /// `k^dim` points with `k = max(1, round(n^(1/dim)))`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `dim == 0`, or a dimension beyond what Sobol or Halton cover.
    pub fn unit_cube(self, n: usize, dim: usize, rng: &mut Rng) -> Result<Vec<f64>> {
        if dim == 0 {
            return Err(Error::config("dim", dim, "sample at least one dimension"));
        }
        match self {
            Sampler::Uniform => Ok((0..n * dim).map(|_| rng.uniform()).collect()),
            Sampler::Grid => Ok(grid(n, dim)),
            Sampler::LatinHypercube => Ok(latin_hypercube(n, dim, rng)),
            Sampler::Sobol => {
                let shift: Vec<u32> = (0..dim).map(|_| rng.next_u64() as u32).collect();
                let mut sobol = SobolSeq::new(dim)?;
                sobol.skip(1);
                let mut out = Vec::with_capacity(n * dim);
                for _ in 0..n {
                    let p = sobol.next_ints();
                    out.extend(p.iter().zip(&shift).map(|(&x, &s)| to_unit(x ^ s)));
                }
                Ok(out)
            }
            Sampler::Halton => {
                let shift: Vec<f64> = (0..dim).map(|_| rng.uniform()).collect();
                let mut pts = halton(n, dim)?;
                rotate(&mut pts, &shift);
                Ok(pts)
            }
            Sampler::Hammersley => {
                let shift: Vec<f64> = (0..dim).map(|_| rng.uniform()).collect();
                let plain = hammersley(n, dim)?;
                // Emit the points in the order of φ_p(i), p the prime after the coordinates'
                // bases: a prefix {i : φ_p(i) < t} restricts only the low base-p digits of i,
                // which are independent of i / n and of the other bases' digits (as in Halton).
                let base = PRIMES[dim - 1];
                let mut order: Vec<usize> = (0..n).collect();
                order.sort_by(|&a, &b| {
                    radical_inverse(a as u64, base).total_cmp(&radical_inverse(b as u64, base))
                });
                let mut pts = Vec::with_capacity(n * dim);
                for i in order {
                    pts.extend_from_slice(&plain[i * dim..(i + 1) * dim]);
                }
                rotate(&mut pts, &shift);
                Ok(pts)
            }
        }
    }
}

/// Cranley-Patterson rotation: adds `shift[k]` to coordinate `k` of every point, modulo 1.
fn rotate(points: &mut [f64], shift: &[f64]) {
    let dim = shift.len();
    for (k, x) in points.iter_mut().enumerate() {
        *x = (*x + shift[k % dim]).fract();
    }
}

fn to_unit(x: u32) -> f64 {
    x as f64 / (1u64 << BITS) as f64
}

/// Cell centres of a `k^dim` grid, `k = max(1, round(n^(1/dim)))`.
fn grid(n: usize, dim: usize) -> Vec<f64> {
    let k = ((n as f64).powf(1.0 / dim as f64).round() as usize).max(1);
    let total = k.pow(dim as u32);
    let mut out = Vec::with_capacity(total * dim);
    for idx in 0..total {
        let mut rest = idx;
        for _ in 0..dim {
            out.push((rest % k) as f64 / k as f64 + 0.5 / k as f64);
            rest /= k;
        }
    }
    out
}

fn latin_hypercube(n: usize, dim: usize, rng: &mut Rng) -> Vec<f64> {
    let mut out = vec![0.0; n * dim];
    for d in 0..dim {
        let mut perm: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut perm);
        for (i, &stratum) in perm.iter().enumerate() {
            out[i * dim + d] = (stratum as f64 + rng.uniform()) / n as f64;
        }
    }
    out
}

/// The Sobol sequence by Gray-code updates (Antonov-Saleev), unscrambled.
#[derive(Debug, Clone)]
pub struct SobolSeq {
    directions: Vec<[u32; BITS]>,
    state: Vec<u32>,
    index: u64,
}

impl SobolSeq {
    /// A generator in `dim` dimensions, positioned at the first point (the origin).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `dim == 0` or `dim > MAX_SOBOL_DIM`.
    pub fn new(dim: usize) -> Result<Self> {
        if dim == 0 || dim > MAX_SOBOL_DIM {
            return Err(Error::config(
                "dim",
                dim,
                format!("Sobol points need 1 <= dim <= {MAX_SOBOL_DIM}; use Halton beyond that"),
            ));
        }
        let mut directions = Vec::with_capacity(dim);
        // Dimension 1: v_k = 2^(BITS - k).
        directions.push(std::array::from_fn(|k| 1u32 << (BITS - 1 - k)));
        for &(s, a, m) in JOE_KUO.iter().take(dim - 1) {
            let s = s as usize;
            let mut v = [0u32; BITS];
            for k in 0..BITS {
                v[k] = if k < s {
                    m[k] << (BITS - 1 - k)
                } else {
                    let mut x = v[k - s] ^ (v[k - s] >> s);
                    for j in 1..s {
                        if (a >> (s - 1 - j)) & 1 == 1 {
                            x ^= v[k - j];
                        }
                    }
                    x
                };
            }
            directions.push(v);
        }
        Ok(SobolSeq {
            directions,
            state: vec![0; dim],
            index: 0,
        })
    }

    /// The current point as 32-bit integers (divide by 2^32 for coordinates), then advances.
    pub fn next_ints(&mut self) -> Vec<u32> {
        let out = self.state.clone();
        // The lowest zero bit of the index picks the direction number to fold in.
        let c = (!self.index).trailing_zeros() as usize;
        for (x, v) in self.state.iter_mut().zip(&self.directions) {
            *x ^= v[c.min(BITS - 1)];
        }
        self.index += 1;
        out
    }

    /// The current point in `[0, 1)^dim`, then advances.
    pub fn next_point(&mut self) -> Vec<f64> {
        self.next_ints().into_iter().map(to_unit).collect()
    }

    /// Skips `k` points.
    pub fn skip(&mut self, k: usize) {
        for _ in 0..k {
            self.next_ints();
        }
    }
}

/// The first `n` points of the unscrambled Sobol sequence in `dim` dimensions, starting with the
/// origin, row-major.
///
/// # Errors
/// As [`SobolSeq::new`].
pub fn sobol(n: usize, dim: usize) -> Result<Vec<f64>> {
    let mut seq = SobolSeq::new(dim)?;
    Ok((0..n).flat_map(|_| seq.next_point()).collect())
}

/// The radical inverse of `i` in base `b`: the base-`b` digits of `i` mirrored about the point.
pub fn radical_inverse(mut i: u64, b: u64) -> f64 {
    let (mut x, mut f) = (0.0, 1.0 / b as f64);
    while i > 0 {
        x += (i % b) as f64 * f;
        i /= b;
        f /= b as f64;
    }
    x
}

/// Halton points `1..=n` (the origin skipped) in `dim` dimensions, row-major.
///
/// # Errors
/// [`Error::InvalidConfig`] for `dim == 0` or more dimensions than the 32 built-in prime bases.
pub fn halton(n: usize, dim: usize) -> Result<Vec<f64>> {
    if dim == 0 || dim > PRIMES.len() {
        return Err(Error::config(
            "dim",
            dim,
            format!("Halton points need 1 <= dim <= {}", PRIMES.len()),
        ));
    }
    Ok((1..=n as u64)
        .flat_map(|i| PRIMES[..dim].iter().map(move |&b| radical_inverse(i, b)))
        .collect())
}

/// The Hammersley set of `n` points in `dim` dimensions, row-major: point `i` (for
/// `i = 0..n`) is `(i / n, φ₂(i), φ₃(i), ...)` with φ_b the radical inverse in base `b` (the
/// first `dim - 1` primes). The first point is the origin. Unlike [`halton`] the set depends on
/// `n`: its first coordinate is a regular grid.
///
/// # Errors
/// [`Error::InvalidConfig`] for `dim == 0` or more than 32 dimensions (the first coordinate plus
/// the 31 prime bases that leave one prime for [`Sampler::Hammersley`]'s ordering).
pub fn hammersley(n: usize, dim: usize) -> Result<Vec<f64>> {
    if dim == 0 || dim > PRIMES.len() {
        return Err(Error::config(
            "dim",
            dim,
            format!("Hammersley points need 1 <= dim <= {}", PRIMES.len()),
        ));
    }
    let nf = n as f64;
    Ok((0..n as u64)
        .flat_map(|i| {
            std::iter::once(i as f64 / nf).chain(
                PRIMES[..dim - 1]
                    .iter()
                    .map(move |&b| radical_inverse(i, b)),
            )
        })
        .collect())
}

/// The L2-star discrepancy of points in `[0, 1]^dim` (Warnock's closed form): the root mean
/// square, over anchored boxes `[0, y)`, of the gap between the fraction of points inside and the
/// box's volume. For independent uniform points its expected square is `(2^-d - 3^-d) / n`.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `points.len()` is not a multiple of `dim` or no points are given.
pub fn l2_star_discrepancy(points: &[f64], dim: usize) -> Result<f64> {
    if dim == 0 || points.is_empty() || !points.len().is_multiple_of(dim) {
        return Err(Error::shape(
            "l2_star_discrepancy",
            format!("a non-empty multiple of dim = {dim} values"),
            &[points.len()],
        ));
    }
    let n = points.len() / dim;
    let rows: Vec<&[f64]> = points.chunks(dim).collect();
    let d = dim as i32;
    let single: f64 = rows
        .iter()
        .map(|p| p.iter().map(|x| 1.0 - x * x).product::<f64>())
        .sum();
    let mut pairs = 0.0;
    for a in &rows {
        for b in &rows {
            pairs += a
                .iter()
                .zip(b.iter())
                .map(|(x, y)| 1.0 - x.max(*y))
                .product::<f64>();
        }
    }
    let nf = n as f64;
    let sq = 3f64.powi(-d) - 2f64.powi(1 - d) / nf * single + pairs / (nf * nf);
    Ok(sq.max(0.0).sqrt())
}
