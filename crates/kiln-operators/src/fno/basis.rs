//! Truncated real-DFT bases as dense matrices, so spectral convolutions are matmuls that work on
//! any grid size, on every backend, and are differentiable; cached per (device, size, modes).

use std::f64::consts::PI;
use std::sync::Mutex;

use burn::tensor::{Device, Tensor, TensorData};

/// Which matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Basis {
    /// `[n, 2m]`: columns `cos(2πkj/n)` then `-sin(2πkj/n)` for `k < m`: `x @ B = (Re X, Im X)`.
    RealForward,
    /// `[2m, n]`: rows `c_k cos(2πkj/n) / n` then `-c_k sin(2πkj/n) / n` (`c_0 = c_{n/2} = 1`,
    /// else 2): `(Re Y, Im Y) @ B` is the real inverse DFT of the half spectrum `Y`.
    RealInverse,
    /// `[2n, 2K]`: complex forward DFT along an axis for the signed frequencies
    /// `0..m, -m..-1`: `(Re z, Im z) @ B = (Re Z, Im Z)`.
    ComplexForward,
    /// `[2K, 2n]`: complex inverse (unscaled) for the same frequencies.
    ComplexInverse,
}

type Entry = (Basis, usize, usize, Device, Tensor<2>);

static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// The signed frequencies `0, 1, .., m-1, -m, .., -1` kept along a complex axis of `n` points
/// (just `0` when `n == 1`, where every frequency is the same).
pub(crate) fn signed_frequencies(m: usize, n: usize) -> Vec<i64> {
    if n == 1 {
        return vec![0];
    }
    let m = m as i64;
    (0..m).chain(-m..0).collect()
}

fn build(kind: Basis, n: usize, m: usize) -> (Vec<f64>, [usize; 2]) {
    let angle = |k: i64, j: usize| 2.0 * PI * (k * j as i64).rem_euclid(n as i64) as f64 / n as f64;
    match kind {
        Basis::RealForward => {
            let mut v = vec![0.0; n * 2 * m];
            for j in 0..n {
                for k in 0..m {
                    let a = angle(k as i64, j);
                    v[j * 2 * m + k] = a.cos();
                    v[j * 2 * m + m + k] = -a.sin();
                }
            }
            (v, [n, 2 * m])
        }
        Basis::RealInverse => {
            let mut v = vec![0.0; 2 * m * n];
            for k in 0..m {
                let c = if k == 0 || 2 * k == n { 1.0 } else { 2.0 } / n as f64;
                for j in 0..n {
                    let a = angle(k as i64, j);
                    v[k * n + j] = c * a.cos();
                    v[(m + k) * n + j] = -c * a.sin();
                }
            }
            (v, [2 * m, n])
        }
        Basis::ComplexForward => {
            // (zr + i zi)(cos - i sin): Re = zr cos + zi sin, Im = -zr sin + zi cos.
            let freqs = signed_frequencies(m, n);
            let kk = freqs.len();
            let mut v = vec![0.0; 2 * n * 2 * kk];
            for j in 0..n {
                for (q, &k) in freqs.iter().enumerate() {
                    let (s, c) = angle(k, j).sin_cos();
                    v[j * 2 * kk + q] = c;
                    v[j * 2 * kk + kk + q] = -s;
                    v[(n + j) * 2 * kk + q] = s;
                    v[(n + j) * 2 * kk + kk + q] = c;
                }
            }
            (v, [2 * n, 2 * kk])
        }
        Basis::ComplexInverse => {
            // (yr + i yi)(cos + i sin): Re = yr cos - yi sin, Im = yr sin + yi cos.
            let freqs = signed_frequencies(m, n);
            let kk = freqs.len();
            let mut v = vec![0.0; 2 * kk * 2 * n];
            for (q, &k) in freqs.iter().enumerate() {
                for j in 0..n {
                    let (s, c) = angle(k, j).sin_cos();
                    v[q * 2 * n + j] = c;
                    v[q * 2 * n + n + j] = s;
                    v[(kk + q) * 2 * n + j] = -s;
                    v[(kk + q) * 2 * n + n + j] = c;
                }
            }
            (v, [2 * kk, 2 * n])
        }
    }
}

/// The basis `kind` for `n` grid points and `m` modes on `device` (built once, then cached).
pub(crate) fn basis(kind: Basis, n: usize, m: usize, device: &Device) -> Tensor<2> {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((.., t)) = cache
        .iter()
        .find(|(k, nn, mm, d, _)| *k == kind && *nn == n && *mm == m && d == device)
    {
        return t.clone();
    }
    let (values, shape) = build(kind, n, m);
    let tensor = Tensor::<2>::from_data(TensorData::new(values, shape), device);
    cache.push((kind, n, m, device.clone(), tensor.clone()));
    tensor
}
