//! Brownian motion for SDE solves: the [`BrownianPath`] interface and a seeded virtual Brownian
//! tree that returns the same increments and space-time Lévy areas however it is queried.
//!
//! # Construction
//!
//! The tree over `[t0, t1]` holds, for every dyadic interval `[s, u]` (`h = u - s`), the
//! increment `W = W_u - W_s` and the space-time Lévy area
//! `H = (1/h) ∫_s^u (W_r - W_s) dr - W/2`, which is `N(0, h/12)` and independent of `W`.
//! The root draws both; a node `[s, u]` is split at `m = (s + u)/2` (half-length `k = h/2`)
//! by Gaussian conditioning. With `D = W₁ - W₂`, `S = H₁ + H₂`, `E = H₁ - H₂` for the halves,
//! `W, D ~ N(0, 2k)` and `S, E ~ N(0, k/6)` are independent and `H = S/2 + D/4`, so given
//! `(W, H)`: `D ~ N(3H, k/2)`, `S = 2H - D/2`, `E ~ N(0, k/6)` independently, and
//! `W₁ = (W + D)/2`, `W₂ = (W - D)/2`, `H₁ = (S + E)/2`, `H₂ = (S - E)/2`.
//!
//! Nodes are split down to a length at most `tol`; below that `W` follows its conditional mean
//! given the leaf's `(W, H)`, `W_s + θ W + 6θ(1-θ) H` with `θ = (t - s)/h`. Alongside `W` the
//! tree tracks `I(t) = ∫_{t0}^t W_r dr`, from which the Lévy area of any interval follows:
//! `H_{a,b} = (I_b - I_a)/(b - a) - (W_a + W_b)/2`.
//!
//! The normals of a node come from a SplitMix64 stream keyed by `(seed, node id)` through the
//! Box-Muller transform, all on the host in f64, so every value is a function of the seed and
//! the query time alone.

use std::sync::Mutex;

use burn::tensor::{Device, Tensor, TensorData};
use kiln_core::rng::mix64;

use crate::{Error, Result};

/// The deepest tree: node ids must fit in a `u64`.
const MAX_DEPTH: u32 = 60;

/// The Brownian increment `W_t - W_s` and the space-time Lévy area `H_{s,t}` over one interval,
/// on the host, row-major `[batch, m]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Increment {
    /// `t - s` (negative for a backward interval).
    pub dt: f64,
    /// Shape `[batch, m]` of `w` and `h`.
    pub shape: [usize; 2],
    /// `W_t - W_s`.
    pub w: Vec<f64>,
    /// `H_{s,t} = (1/(t-s)) ∫_s^t (W_r - W_s) dr - (W_t - W_s)/2` (the same for `(t, s)`).
    pub h: Vec<f64>,
}

impl Increment {
    /// `W_t - W_s` as a tensor `[batch, m]` on `device`.
    pub fn w_tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(self.w.clone(), self.shape), device)
    }

    /// `H_{s,t}` as a tensor `[batch, m]` on `device`.
    pub fn h_tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(self.h.clone(), self.shape), device)
    }
}

/// A sample path of an `m`-dimensional Brownian motion for a batch, queried by interval.
///
/// Implementations must be deterministic: the same interval always gives the same increment,
/// and increments over adjacent intervals add up.
pub trait BrownianPath {
    /// The interval `(lo, hi)` on which the path is defined.
    fn t_span(&self) -> (f64, f64);

    /// Shape `[batch, m]` of the noise.
    fn shape(&self) -> [usize; 2];

    /// `W_t - W_s` and `H_{s,t}`; `s > t` is allowed and gives the reversed increment.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a time outside [`BrownianPath::t_span`].
    fn increment(&self, s: f64, t: f64) -> Result<Increment>;

    /// `W_t - W_{lo}` as host values `[batch, m]`, row-major.
    ///
    /// # Errors
    /// As [`BrownianPath::increment`].
    fn value(&self, t: f64) -> Result<Vec<f64>> {
        Ok(self.increment(self.t_span().0, t)?.w)
    }
}

/// One dyadic interval `[s, u]` with the path's values at `s` and the interval's `(W, H)`.
#[derive(Clone, Debug)]
struct Node {
    id: u64,
    s: f64,
    u: f64,
    /// `W_s - W_{t0}`.
    w_s: Vec<f64>,
    /// `I(s) = ∫_{t0}^s (W_r - W_{t0}) dr`.
    i_s: Vec<f64>,
    /// `W_u - W_s`.
    w: Vec<f64>,
    /// `H_{s,u}`.
    h: Vec<f64>,
}

/// A seeded virtual Brownian tree over `[t0, t1]` (Gaines and Lyons 1997; Li et al. 2020),
/// with space-time Lévy areas. See the module docs for the construction.
///
/// Values are exact samples of Brownian motion at the dyadic points `t0 + k (t1 - t0) / 2^L`
/// with `(t1 - t0) / 2^L ≤ tol`; in between, `W` is its conditional mean given the enclosing
/// leaf's increment and Lévy area. Solve with steps no smaller than `tol`. The path from the
/// root to the last leaf queried is cached, so sweeps in either direction split each node once.
#[derive(Debug)]
pub struct VirtualBrownianTree {
    t0: f64,
    t1: f64,
    seed: u64,
    shape: [usize; 2],
    depth: u32,
    path: Mutex<Vec<Node>>,
}

impl VirtualBrownianTree {
    /// A tree over `t_span = (t0, t1)`, `t0 < t1`, for noise of shape `[batch, m]`, refined until
    /// nodes are at most `tol` long.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a non-finite or empty interval, a zero dimension, or a
    /// tolerance that is not positive or needs more than 60 levels.
    pub fn new(t_span: (f64, f64), shape: [usize; 2], seed: u64, tol: f64) -> Result<Self> {
        let (t0, t1) = t_span;
        if !(t0.is_finite() && t1.is_finite() && t0 < t1) {
            return Err(Error::option(
                "t_span",
                format!("({t0}, {t1})"),
                "give finite ends with t0 < t1; query backward intervals with increment(s, t), s > t",
            ));
        }
        if shape.contains(&0) {
            return Err(Error::option(
                "shape",
                format!("{shape:?}"),
                "give [batch, m] with both at least 1",
            ));
        }
        if !(tol.is_finite() && tol > 0.0) {
            return Err(Error::option(
                "tol",
                tol,
                "give a positive time tolerance, at most the smallest step",
            ));
        }
        let levels = ((t1 - t0) / tol).log2().ceil().max(0.0);
        if levels > f64::from(MAX_DEPTH) {
            return Err(Error::option(
                "tol",
                tol,
                &format!("the tree would need {levels} levels; allow at most {MAX_DEPTH}"),
            ));
        }
        let depth = levels as u32;
        let n = shape[0] * shape[1];
        let mut normals = NormalStream::new(seed, 0);
        let scale = (t1 - t0).sqrt();
        let w: Vec<f64> = (0..n).map(|_| scale * normals.next()).collect();
        let h: Vec<f64> = (0..n)
            .map(|_| scale / 12f64.sqrt() * normals.next())
            .collect();
        let root = Node {
            id: 1,
            s: t0,
            u: t1,
            w_s: vec![0.0; n],
            i_s: vec![0.0; n],
            w,
            h,
        };
        Ok(Self {
            t0,
            t1,
            seed,
            shape,
            depth,
            path: Mutex::new(vec![root]),
        })
    }

    /// Levels below the root: leaves are `(t1 - t0) / 2^depth` long.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// `(W_t - W_{t0}, I(t))` at one time.
    fn point(&self, t: f64) -> Result<(Vec<f64>, Vec<f64>)> {
        let span = self.t1 - self.t0;
        let slack = 4.0 * f64::EPSILON * self.t0.abs().max(self.t1.abs()).max(span);
        if !(t >= self.t0 - slack && t <= self.t1 + slack) {
            return Err(Error::option(
                "t",
                t,
                &format!(
                    "the Brownian tree covers [{}, {}]; build it over the whole solve interval",
                    self.t0, self.t1
                ),
            ));
        }
        let t = t.clamp(self.t0, self.t1);
        // A poisoned lock only means another query panicked; the cached path is still valid
        // because nodes are pushed whole.
        let mut path = self.path.lock().unwrap_or_else(|e| e.into_inner());
        let keep = path
            .iter()
            .rposition(|node| self.contains(node, t))
            .expect("the root contains every time in the interval");
        path.truncate(keep + 1);
        while path.len() <= self.depth as usize {
            let node = path.last().expect("the path holds the root");
            let (left, right) = split(node, self.seed);
            let child = if t < left.u { left } else { right };
            path.push(child);
        }
        let leaf = path.last().expect("the path holds the root");
        Ok(interpolate(leaf, t))
    }

    /// Whether the descent towards `t` passes through `node` (intervals are half-open except at
    /// `t1`).
    fn contains(&self, node: &Node, t: f64) -> bool {
        node.s <= t && (t < node.u || (node.u == self.t1 && t == self.t1))
    }
}

impl BrownianPath for VirtualBrownianTree {
    fn t_span(&self) -> (f64, f64) {
        (self.t0, self.t1)
    }

    fn shape(&self) -> [usize; 2] {
        self.shape
    }

    fn increment(&self, s: f64, t: f64) -> Result<Increment> {
        let (w_s, i_s) = self.point(s)?;
        let (w_t, i_t) = self.point(t)?;
        let dt = t - s;
        let w: Vec<f64> = w_t.iter().zip(&w_s).map(|(b, a)| b - a).collect();
        let h = if dt == 0.0 {
            vec![0.0; w.len()]
        } else {
            (0..w.len())
                .map(|j| (i_t[j] - i_s[j]) / dt - 0.5 * (w_s[j] + w_t[j]))
                .collect()
        };
        Ok(Increment {
            dt,
            shape: self.shape,
            w,
            h,
        })
    }
}

/// The two halves of `node`, drawn from the joint bridge of `(W, H)`.
fn split(node: &Node, seed: u64) -> (Node, Node) {
    let n = node.w.len();
    let k = 0.5 * (node.u - node.s);
    let m = 0.5 * (node.s + node.u);
    let mut normals = NormalStream::new(seed, node.id);
    let sd_d = (0.5 * k).sqrt();
    let sd_e = (k / 6.0).sqrt();
    let mut left_w = Vec::with_capacity(n);
    let mut left_h = Vec::with_capacity(n);
    let mut right_w = Vec::with_capacity(n);
    let mut right_h = Vec::with_capacity(n);
    let mut w_m = Vec::with_capacity(n);
    let mut i_m = Vec::with_capacity(n);
    for j in 0..n {
        let (w, h) = (node.w[j], node.h[j]);
        let d = 3.0 * h + sd_d * normals.next();
        let e = sd_e * normals.next();
        let s = 2.0 * h - 0.5 * d;
        let (w1, w2) = (0.5 * (w + d), 0.5 * (w - d));
        let (h1, h2) = (0.5 * (s + e), 0.5 * (s - e));
        left_w.push(w1);
        left_h.push(h1);
        right_w.push(w2);
        right_h.push(h2);
        w_m.push(node.w_s[j] + w1);
        i_m.push(node.i_s[j] + k * node.w_s[j] + k * (0.5 * w1 + h1));
    }
    let left = Node {
        id: 2 * node.id,
        s: node.s,
        u: m,
        w_s: node.w_s.clone(),
        i_s: node.i_s.clone(),
        w: left_w,
        h: left_h,
    };
    let right = Node {
        id: 2 * node.id + 1,
        s: m,
        u: node.u,
        w_s: w_m,
        i_s: i_m,
        w: right_w,
        h: right_h,
    };
    (left, right)
}

/// `(W_t, I(t))` inside a leaf from the conditional mean of the bridge given `(W, H)`:
/// `W_{s,t} = θ W + 6θ(1-θ) H` and its integral `h (θ²/2 W + (3θ² - 2θ³) H)`.
fn interpolate(leaf: &Node, t: f64) -> (Vec<f64>, Vec<f64>) {
    let h = leaf.u - leaf.s;
    let theta = ((t - leaf.s) / h).clamp(0.0, 1.0);
    let (a_w, b_w) = (theta, 6.0 * theta * (1.0 - theta));
    let (a_i, b_i) = (0.5 * theta * theta, theta * theta * (3.0 - 2.0 * theta));
    let n = leaf.w.len();
    let mut w = Vec::with_capacity(n);
    let mut i = Vec::with_capacity(n);
    for j in 0..n {
        w.push(leaf.w_s[j] + a_w * leaf.w[j] + b_w * leaf.h[j]);
        i.push(leaf.i_s[j] + (t - leaf.s) * leaf.w_s[j] + h * (a_i * leaf.w[j] + b_i * leaf.h[j]));
    }
    (w, i)
}

/// Standard normals from a SplitMix64 stream keyed by `(seed, key)`, by Box-Muller (two per
/// pair of uniforms, unlike [`kiln_core::rng::Rng::normal`]).
pub(crate) struct NormalStream {
    state: u64,
    spare: Option<f64>,
}

impl NormalStream {
    /// The stream for `key` under `seed`.
    pub(crate) fn new(seed: u64, key: u64) -> Self {
        let state =
            mix64(mix64(seed ^ 0x5851_F42D_4C95_7F2D) ^ key.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        Self { state, spare: None }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.state)
    }

    /// The next standard normal.
    pub(crate) fn next(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let scale = 1.0 / (1u64 << 53) as f64;
        // u1 in (0, 1] keeps the logarithm finite; u2 in [0, 1).
        let u1 = ((self.next_u64() >> 11) as f64 + 1.0) * scale;
        let u2 = (self.next_u64() >> 11) as f64 * scale;
        let r = (-2.0 * u1.ln()).sqrt();
        let (sin, cos) = (std::f64::consts::TAU * u2).sin_cos();
        self.spare = Some(r * sin);
        r * cos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normals_have_unit_moments() {
        let mut z = NormalStream::new(3, 17);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| z.next()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        let kurt = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64 / var.powi(2);
        // Standard errors: mean 1/sqrt(n) = 0.0022, variance sqrt(2/n) = 0.0032,
        // kurtosis sqrt(96/n) = 0.022; bounds at about five standard errors.
        assert!(mean.abs() < 0.012, "mean {mean}");
        assert!((var - 1.0).abs() < 0.016, "variance {var}");
        assert!((kurt - 3.0).abs() < 0.11, "kurtosis {kurt}");
    }

    #[test]
    fn streams_differ_by_key_and_repeat_by_key() {
        let a: Vec<f64> = {
            let mut z = NormalStream::new(1, 2);
            (0..4).map(|_| z.next()).collect()
        };
        let b: Vec<f64> = {
            let mut z = NormalStream::new(1, 2);
            (0..4).map(|_| z.next()).collect()
        };
        let c: Vec<f64> = {
            let mut z = NormalStream::new(1, 3);
            (0..4).map(|_| z.next()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
