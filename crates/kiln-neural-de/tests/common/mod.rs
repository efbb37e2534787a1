//! Helpers shared by the solver test suites: an f64 device, a seeded RNG and matrix oracles.
#![allow(dead_code, unreachable_pub)]

use std::sync::OnceLock;

use kiln_core::burn::tensor::{Device, Tensor, TensorData};
use kiln_core::{BackendKind, Precision};

/// The backend under test (`KILN_BACKEND`, flex by default) in f64, configured once per binary.
pub fn device() -> Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let kind = BackendKind::from_env().expect("KILN_BACKEND names a backend");
            let device = kiln_core::device(kind).expect("backend compiled in");
            kiln_core::device::configure_precision(&device, Precision::F64)
                .expect("the CPU backends support f64");
            device
        })
        .clone()
}

/// A `[rows, cols]` tensor from row-major values.
pub fn tensor(values: &[f64], shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

/// Row-major values of a tensor.
pub fn values<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    t.clone().into_data().iter::<f64>().collect()
}

#[allow(unused_imports)]
pub use kiln_core::rng::Rng;

/// `a b` for row-major `n x n` matrices.
pub fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            for j in 0..n {
                c[i * n + j] += aik * b[k * n + j];
            }
        }
    }
    c
}

/// `exp(a)` by scaling and squaring with a 20-term Taylor series (f64 accurate for small norms).
pub fn expm(a: &[f64], n: usize) -> Vec<f64> {
    let norm: f64 = a.iter().map(|x| x.abs()).sum::<f64>();
    let squarings = (norm.max(1e-300).log2().ceil() + 1.0).max(0.0) as i32;
    let scale = 0.5f64.powi(squarings);
    let scaled: Vec<f64> = a.iter().map(|x| x * scale).collect();
    let mut result = vec![0.0; n * n];
    let mut term = vec![0.0; n * n];
    for i in 0..n {
        result[i * n + i] = 1.0;
        term[i * n + i] = 1.0;
    }
    for k in 1..=20 {
        term = matmul(&term, &scaled, n)
            .iter()
            .map(|x| x / k as f64)
            .collect();
        for (r, t) in result.iter_mut().zip(&term) {
            *r += t;
        }
    }
    for _ in 0..squarings {
        result = matmul(&result, &result, n);
    }
    result
}

/// `m v` for a row-major `n x n` matrix.
pub fn matvec(m: &[f64], v: &[f64], n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (0..n).map(|j| m[i * n + j] * v[j]).sum())
        .collect()
}

/// Least-squares slope of `log(err)` against `log(dt)`.
pub fn loglog_slope(dts: &[f64], errs: &[f64]) -> f64 {
    let xs: Vec<f64> = dts.iter().map(|d| d.ln()).collect();
    let ys: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    sxy / sxx
}
