//! Small dense linear algebra on the host in `f64` (row-major `[n, n]`): products, Cholesky,
//! symmetric eigendecomposition by cyclic Jacobi, matrix square roots. Enough for the
//! closed-form Gaussian oracles (W2, optimal maps, Schrödinger bridges) in tens of dimensions.

use crate::{Error, Result};

/// `a [n, k] · b [k, m]`.
pub fn matmul(a: &[f64], b: &[f64], n: usize, k: usize, m: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * m];
    for i in 0..n {
        for p in 0..k {
            let aip = a[i * k + p];
            if aip == 0.0 {
                continue;
            }
            for j in 0..m {
                c[i * m + j] += aip * b[p * m + j];
            }
        }
    }
    c
}

/// The transpose of `a [n, m]`.
pub fn transpose(a: &[f64], n: usize, m: usize) -> Vec<f64> {
    let mut t = vec![0.0; n * m];
    for i in 0..n {
        for j in 0..m {
            t[j * n + i] = a[i * m + j];
        }
    }
    t
}

/// The `n × n` identity.
pub fn identity(n: usize) -> Vec<f64> {
    let mut e = vec![0.0; n * n];
    (0..n).for_each(|i| e[i * n + i] = 1.0);
    e
}

/// The trace of `a [n, n]`.
pub fn trace(a: &[f64], n: usize) -> f64 {
    (0..n).map(|i| a[i * n + i]).sum()
}

/// Checks that `a` is a symmetric `n × n` matrix (relative tolerance 1e-9).
///
/// # Errors
/// [`Error::ShapeMismatch`] for a wrong length, [`Error::InvalidConfig`] for an asymmetric or
/// non-finite matrix.
pub fn check_symmetric(a: &[f64], n: usize, name: &'static str) -> Result<()> {
    if a.len() != n * n {
        return Err(Error::shape(
            name,
            format!("{n}x{n} = {} values", n * n),
            &[a.len()],
        ));
    }
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
    for i in 0..n {
        for j in 0..i {
            let (x, y) = (a[i * n + j], a[j * n + i]);
            if !x.is_finite() || !y.is_finite() || (x - y).abs() > 1e-9 * scale {
                return Err(Error::config(
                    name,
                    format!("entries ({i},{j}) = {x} and ({j},{i}) = {y}"),
                    "a covariance must be symmetric and finite",
                ));
            }
        }
    }
    Ok(())
}

/// The lower Cholesky factor `L` with `a = L Lᵀ`.
///
/// # Errors
/// [`Error::Numerical`] when `a` is not positive definite.
pub fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = a[i * n + j] - (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum::<f64>();
            if i == j {
                if s.is_nan() || s <= 0.0 {
                    return Err(Error::numerical(
                        "Cholesky factorisation",
                        format!(
                            "pivot {i} is {s:e}: the matrix is not positive definite; \
                             check the covariance or add a small multiple of the identity"
                        ),
                    ));
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Ok(l)
}

/// Eigenvalues and eigenvectors of a symmetric matrix by cyclic Jacobi rotations:
/// `a = V diag(λ) Vᵀ`, `V`'s columns the eigenvectors (row-major `[n, n]`).
pub fn sym_eig(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = identity(n);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum();
        let total: f64 = m.iter().map(|x| x * x).sum();
        if off <= 1e-30 * total.max(1e-300) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| m[i * n + i]).collect(), v)
}

/// `V f(λ) Vᵀ` for a symmetric matrix `a = V diag(λ) Vᵀ`.
pub fn sym_fn(a: &[f64], n: usize, f: impl Fn(f64) -> f64) -> Vec<f64> {
    let (lambda, v) = sym_eig(a, n);
    let mut out = vec![0.0; n * n];
    for k in 0..n {
        let fk = f(lambda[k]);
        for i in 0..n {
            let vik = v[i * n + k] * fk;
            for j in 0..n {
                out[i * n + j] += vik * v[j * n + k];
            }
        }
    }
    out
}

/// The symmetric square root of a positive semi-definite matrix (negative rounding noise in the
/// eigenvalues is clamped to zero).
pub fn sqrtm_psd(a: &[f64], n: usize) -> Vec<f64> {
    sym_fn(a, n, |l| l.max(0.0).sqrt())
}

/// The inverse of a symmetric positive-definite matrix.
///
/// # Errors
/// [`Error::Numerical`] when an eigenvalue is not positive.
pub fn inv_spd(a: &[f64], n: usize) -> Result<Vec<f64>> {
    let (lambda, _) = sym_eig(a, n);
    if let Some(bad) = lambda.iter().find(|l| l.is_nan() || **l <= 0.0) {
        return Err(Error::numerical(
            "inverse of a covariance",
            format!("eigenvalue {bad:e} is not positive; the matrix must be positive definite"),
        ));
    }
    Ok(sym_fn(a, n, |l| 1.0 / l))
}

/// `ln det a` of a symmetric positive-definite matrix, from its Cholesky factor.
///
/// # Errors
/// As [`cholesky`].
pub fn logdet_spd(a: &[f64], n: usize) -> Result<f64> {
    let l = cholesky(a, n)?;
    Ok((0..n).map(|i| 2.0 * l[i * n + i].ln()).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_root_squares_back_and_eigen_reconstructs() {
        let a = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let r = sqrtm_psd(&a, 3);
        let rr = matmul(&r, &r, 3, 3, 3);
        for (x, y) in rr.iter().zip(a) {
            assert!((x - y).abs() < 1e-12, "{x} {y}");
        }
        let inv = inv_spd(&a, 3).unwrap();
        let e = matmul(&a, &inv, 3, 3, 3);
        for (x, y) in e.iter().zip(identity(3)) {
            assert!((x - y).abs() < 1e-12);
        }
        let l = cholesky(&a, 3).unwrap();
        let llt = matmul(&l, &transpose(&l, 3, 3), 3, 3, 3);
        for (x, y) in llt.iter().zip(a) {
            assert!((x - y).abs() < 1e-12);
        }
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_err());
    }
}
