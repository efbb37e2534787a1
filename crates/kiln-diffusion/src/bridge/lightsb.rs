//! Light Schrödinger Bridge (Korotin, Gushchin and Burnaev, ICLR 2024): the adjusted
//! Schrödinger potential is a Gaussian mixture `v(y) = Σ_k α_k N(y | r_k, ε S_k)`, so the
//! conditional plan is the mixture `π(y | x) = Σ_k w_k(x) N(y | r_k + S_k x, ε S_k)` with
//! `w_k(x) ∝ α_k exp((xᵀ S_k x + 2 r_kᵀ x) / (2ε))`, and training minimises
//! `E_{p₀} log c(x) - E_{p₁} log v(y)`, `c(x) = Σ_k α_k exp((xᵀ S_k x + 2 r_kᵀ x)/(2ε))`.
//!
//! `S_k = Q diag(s_k) Qᵀ`: diagonal in a frame `Q` that is the identity (the paper's diagonal
//! `S_k`) or, with `rotation`, a learned orthogonal matrix shared by the components, a product
//! of `d` Householder reflections, so that a single component can represent the Gaussian
//! bridge exactly.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use kiln_core::rng::Rng;
use kiln_core::tensor::to_f64_vec;

use crate::{Error, Samples};

/// Configuration of [`LightSb`].
#[derive(Config, Debug)]
pub struct LightSbConfig {
    /// The dimension.
    pub dim: usize,
    /// The reference variance ε.
    pub eps: f64,
    /// Mixture components K.
    #[config(default = 10)]
    pub components: usize,
    /// Learn a shared orthogonal frame for the `S_k` (else they are diagonal, as in the paper).
    #[config(default = false)]
    pub rotation: bool,
    /// Initial diagonal of every `S_k`.
    #[config(default = 0.1)]
    pub init_s: f64,
}

/// The Light Schrödinger Bridge model.
#[derive(Module, Debug)]
pub struct LightSb {
    /// `log α_k`, `[K]`.
    pub log_alpha: Param<Tensor<1>>,
    /// `r_k`, `[K, d]`.
    pub r: Param<Tensor<2>>,
    /// `log s_k`, `[K, d]`.
    pub log_s: Param<Tensor<2>>,
    /// Householder vectors of the frame (rows), `[d, d]`; unused without `rotation`.
    pub householder: Param<Tensor<2>>,
    #[module(skip)]
    eps: f64,
    #[module(skip)]
    rotation: bool,
}

impl LightSbConfig {
    /// Builds the model; `r_k` start at the first K points of `targets` when given (as the
    /// paper does), else at standard normal draws.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero dimension or component count, ε ≤ 0 or
    /// `init_s ≤ 0`; [`Error::ShapeMismatch`] for targets of another dimension or fewer than K.
    pub fn init(&self, targets: Option<&Samples>, device: &Device) -> crate::Result<LightSb> {
        let (d, k) = (self.dim, self.components);
        if d == 0 || k == 0 {
            return Err(Error::config(
                "dim, components",
                format!("{d}, {k}"),
                "both must be at least 1",
            ));
        }
        if !(self.eps > 0.0 && self.eps.is_finite()) {
            return Err(Error::config(
                "eps",
                self.eps,
                "the reference variance must be positive",
            ));
        }
        if !(self.init_s > 0.0 && self.init_s.is_finite()) {
            return Err(Error::config(
                "init_s",
                self.init_s,
                "must be positive, e.g. 0.1",
            ));
        }
        let r = match targets {
            Some(t) => {
                if t.dim() != d || t.len() < k {
                    return Err(Error::shape(
                        "LightSbConfig::init targets",
                        format!("[>= {k}, {d}]"),
                        &[t.len(), t.dim()],
                    ));
                }
                Tensor::from_data(
                    TensorData::new(t.as_slice()[..k * d].to_vec(), [k, d]),
                    device,
                )
            }
            None => Tensor::random([k, d], Distribution::Normal(0.0, 1.0), device),
        };
        Ok(LightSb {
            log_alpha: Param::from_tensor(Tensor::full([k], -(k as f64).ln(), device)),
            r: Param::from_tensor(r),
            log_s: Param::from_tensor(Tensor::full([k, d], self.init_s.ln(), device)),
            householder: Param::from_tensor(Tensor::random(
                [d, d],
                Distribution::Normal(0.0, 1.0),
                device,
            )),
            eps: self.eps,
            rotation: self.rotation,
        })
    }
}

fn logsumexp(x: Tensor<2>) -> Tensor<1> {
    let m = x.clone().max_dim(1).detach();
    let [b, _] = x.dims();
    ((x - m.clone()).exp().sum_dim(1).log() + m).reshape([b])
}

impl LightSb {
    /// The reference variance ε.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// The frame `Q` (`[d, d]`, orthogonal): the identity without `rotation`.
    pub fn frame(&self) -> Tensor<2> {
        let v = self.householder.val();
        let [d, _] = v.dims();
        let mut q = Tensor::<2>::eye(d, &v.device());
        if !self.rotation {
            return q;
        }
        for i in 0..d {
            let vi = v.clone().narrow(0, i, 1); // [1, d]
            let norm2 = vi.clone().square().sum().reshape([1, 1]).add_scalar(1e-12);
            let qv = q.clone().matmul(vi.clone().transpose()); // [d, 1]
            q = q - qv.matmul(vi).mul_scalar(2.0) / norm2;
        }
        q
    }

    /// `log v(y)` and `log c(x)` for batches, with the frame computed once.
    fn log_terms(&self, x: Tensor<2>, y: Tensor<2>) -> (Tensor<1>, Tensor<1>) {
        let q = self.frame();
        let [_, d] = x.dims();
        let eps = self.eps;
        let s = self.log_s.val().exp(); // [K, d]
        let r = self.r.val(); // [K, d]
        let [k, _] = r.dims();
        let log_alpha = self.log_alpha.val().reshape([1, k]);
        // log v(y) = logsumexp_k [log α_k + log N(y | r_k, ε S_k)].
        let zy = y.matmul(q.clone()); // coordinates Qᵀ y
        let zr = r.clone().matmul(q.clone());
        let [b, _] = zy.dims();
        let diff = zy.reshape([b, 1, d]) - zr.reshape([1, k, d]);
        let maha = (diff.square() / s.clone().reshape([1, k, d]))
            .sum_dim(2)
            .reshape([b, k]);
        let log_det = s.clone().log().sum_dim(1).reshape([1, k]);
        let log_norm = -0.5 * d as f64 * (2.0 * std::f64::consts::PI * eps).ln();
        let log_v = logsumexp(
            log_alpha.clone() + log_det.mul_scalar(-0.5) + maha.mul_scalar(-0.5 / eps) + log_norm,
        );
        // log c(x) = logsumexp_k [log α_k + (xᵀ S_k x + 2 r_kᵀ x) / (2ε)].
        let zx = x.clone().matmul(q);
        let xsx = zx.square().matmul(s.transpose()); // [B, K]
        let rx = x.matmul(r.transpose());
        let log_c = logsumexp(log_alpha + (xsx + rx.mul_scalar(2.0)).mul_scalar(0.5 / eps));
        (log_v, log_c)
    }

    /// The training objective `mean log c(x) - mean log v(y)` on batches `x ~ p₀`, `y ~ p₁`.
    ///
    /// # Shapes
    /// `x: [batch, d]`, `y: [batch', d]` -> `[1]`
    pub fn loss(&self, x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
        let (log_v, log_c) = self.log_terms(x, y);
        log_c.mean() - log_v.mean()
    }

    fn snapshot(&self) -> Snapshot {
        let [k, d] = self.r.val().dims();
        Snapshot {
            d,
            k,
            eps: self.eps,
            log_alpha: to_f64_vec(self.log_alpha.val()),
            r: to_f64_vec(self.r.val()),
            s: to_f64_vec(self.log_s.val().exp()),
            q: to_f64_vec(self.frame()),
        }
    }

    /// The exact mean and covariance of the mixture `π(· | x)` for every row of `x`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for points of another dimension.
    pub fn conditional_moments(&self, x: &Samples) -> crate::Result<Vec<(Vec<f64>, Vec<f64>)>> {
        let snap = self.snapshot();
        snap.check(x)?;
        Ok((0..x.len()).map(|i| snap.moments(x.row(i))).collect())
    }

    /// Draws one `y ~ π(· | x)` per row of `x`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for points of another dimension.
    pub fn sample(&self, x: &Samples, rng: &mut Rng) -> crate::Result<Samples> {
        let snap = self.snapshot();
        snap.check(x)?;
        let mut out = Vec::with_capacity(x.len() * snap.d);
        for i in 0..x.len() {
            out.extend(snap.draw(x.row(i), rng));
        }
        Samples::new(out, snap.d)
    }
}

/// Host copies of the parameters for sampling and moments.
struct Snapshot {
    d: usize,
    k: usize,
    eps: f64,
    log_alpha: Vec<f64>,
    r: Vec<f64>,
    s: Vec<f64>,
    q: Vec<f64>,
}

impl Snapshot {
    fn check(&self, x: &Samples) -> crate::Result<()> {
        if x.dim() != self.d {
            return Err(Error::shape(
                "LightSb",
                format!("[n, {}]", self.d),
                &[x.len(), x.dim()],
            ));
        }
        Ok(())
    }

    /// Qᵀ x.
    fn rotate(&self, x: &[f64]) -> Vec<f64> {
        let d = self.d;
        (0..d)
            .map(|j| (0..d).map(|i| self.q[i * d + j] * x[i]).sum())
            .collect()
    }

    /// Q z.
    fn unrotate(&self, z: &[f64]) -> Vec<f64> {
        let d = self.d;
        (0..d)
            .map(|i| (0..d).map(|j| self.q[i * d + j] * z[j]).sum())
            .collect()
    }

    /// Component weights and means `r_k + S_k x`.
    fn components(&self, x: &[f64]) -> (Vec<f64>, Vec<Vec<f64>>) {
        let (d, k) = (self.d, self.k);
        let z = self.rotate(x);
        let mut logits = Vec::with_capacity(k);
        let mut means = Vec::with_capacity(k);
        for c in 0..k {
            let s = &self.s[c * d..(c + 1) * d];
            let r = &self.r[c * d..(c + 1) * d];
            let xsx: f64 = (0..d).map(|j| s[j] * z[j] * z[j]).sum();
            let rx: f64 = (0..d).map(|j| r[j] * x[j]).sum();
            logits.push(self.log_alpha[c] + (xsx + 2.0 * rx) / (2.0 * self.eps));
            let sz: Vec<f64> = (0..d).map(|j| s[j] * z[j]).collect();
            let shift = self.unrotate(&sz);
            means.push((0..d).map(|j| r[j] + shift[j]).collect());
        }
        let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
        let total: f64 = w.iter().sum();
        (w.iter().map(|v| v / total).collect(), means)
    }

    fn moments(&self, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let d = self.d;
        let (w, means) = self.components(x);
        let mut mean = vec![0.0; d];
        for (wk, m) in w.iter().zip(&means) {
            for j in 0..d {
                mean[j] += wk * m[j];
            }
        }
        let mut cov = vec![0.0; d * d];
        for (c, (wk, m)) in w.iter().zip(&means).enumerate() {
            let s = &self.s[c * d..(c + 1) * d];
            for a in 0..d {
                for b in 0..d {
                    // ε Q diag(s) Qᵀ + (m - mean)(m - mean)ᵀ.
                    let comp: f64 = (0..d)
                        .map(|j| self.q[a * d + j] * s[j] * self.q[b * d + j])
                        .sum();
                    cov[a * d + b] += wk * (self.eps * comp + (m[a] - mean[a]) * (m[b] - mean[b]));
                }
            }
        }
        (mean, cov)
    }

    fn draw(&self, x: &[f64], rng: &mut Rng) -> Vec<f64> {
        let d = self.d;
        let (w, means) = self.components(x);
        let u = rng.uniform();
        let mut acc = 0.0;
        let mut c = self.k - 1;
        for (j, wk) in w.iter().enumerate() {
            acc += wk;
            if u < acc {
                c = j;
                break;
            }
        }
        let s = &self.s[c * d..(c + 1) * d];
        let z: Vec<f64> = (0..d)
            .map(|j| (self.eps * s[j]).sqrt() * rng.normal())
            .collect();
        let noise = self.unrotate(&z);
        (0..d).map(|j| means[c][j] + noise[j]).collect()
    }
}
