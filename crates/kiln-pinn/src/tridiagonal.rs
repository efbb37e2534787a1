//! Eigenvalues of symmetric tridiagonal matrices by the implicit QL method with Wilkinson-style
//! shifts: the nodes of Gauss rules (Golub-Welsch) and finite-difference eigenvalue references.

use crate::{Error, Result};

/// The eigenvalues, in increasing order, of the symmetric tridiagonal matrix with diagonal `diag`
/// and off-diagonal `off` (`off[i]` couples rows `i` and `i + 1`).
///
/// # Errors
/// [`Error::ShapeMismatch`] unless `off.len() + 1 == diag.len()`; [`Error::InvalidConfig`] for
/// non-finite entries or when an eigenvalue needs more than 60 QL sweeps.
pub fn symmetric_tridiagonal_eigenvalues(diag: &[f64], off: &[f64]) -> Result<Vec<f64>> {
    let n = diag.len();
    if n == 0 || off.len() + 1 != n {
        return Err(Error::shape(
            "symmetric_tridiagonal_eigenvalues",
            format!(
                "{} off-diagonal entries for {n} diagonal ones",
                n.saturating_sub(1)
            ),
            &[off.len()],
        ));
    }
    if diag.iter().chain(off).any(|v| !v.is_finite()) {
        return Err(Error::config(
            "matrix",
            "non-finite entry",
            "every entry must be finite",
        ));
    }
    let mut d = diag.to_vec();
    let mut e = off.to_vec();
    e.push(0.0);
    for l in 0..n {
        let mut iterations = 0;
        loop {
            let mut m = l;
            while m + 1 < n {
                let dd = d[m].abs() + d[m + 1].abs();
                if e[m].abs() <= f64::EPSILON * dd {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            iterations += 1;
            if iterations > 60 {
                return Err(Error::config(
                    "matrix",
                    format!("eigenvalue {l} after 60 sweeps"),
                    "the QL iteration did not converge; check the matrix scaling",
                ));
            }
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = g.hypot(1.0);
            g = d[m] - d[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut c, mut p) = (1.0f64, 1.0f64, 0.0f64);
            let mut i = m;
            let mut deflated = false;
            while i > l {
                i -= 1;
                let f = s * e[i];
                let b = c * e[i];
                r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    deflated = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
            }
            if deflated {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    d.sort_by(f64::total_cmp);
    Ok(d)
}
