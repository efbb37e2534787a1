//! Learning rules of the classical network: Hebbian, projection (pseudo-inverse) and Storkey
//! couplings from `P` patterns of `N` neurons, as a dense symmetric `N x N` matrix (`f64`).

use burn::config::Config;

use crate::Error;

/// How the couplings are built from the stored patterns `ξ^μ` (rows of `Ξ`, `[P, N]`).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum LearningRule {
    /// Hebb: `Wᵢⱼ = (1/N) Σ_μ ξᵢ^μ ξⱼ^μ`. Capacity `α_c ≈ 0.138` (Amit, Gutfreund and
    /// Sompolinsky 1985); orthogonal patterns are exact fixed points for `P < N`.
    Hebbian,
    /// Projection (pseudo-inverse, Personnaz et al. 1985; Kanter and Sompolinsky 1987):
    /// `W = (1/N) Ξᵀ C⁻¹ Ξ` with the overlap matrix `C = (1/N) Ξ Ξᵀ`, so `W` projects onto the
    /// span of the patterns and every linearly independent set of `P < N` patterns, however
    /// correlated, is stored as fixed points.
    Projection,
    /// Storkey (1997): patterns are added one at a time with
    /// `ΔWᵢⱼ = (1/N)(ξᵢξⱼ - ξᵢhⱼᵢ - hᵢⱼξⱼ)`, `hᵢⱼ = Σ_{k≠i,j} Wᵢₖ ξₖ`; local, incremental and
    /// with a larger capacity than Hebb's.
    Storkey,
}

/// The couplings of `rule` for the `count = patterns.len() / dim` row-major patterns.
/// The diagonal is zeroed unless `self_coupling`.
pub(crate) fn couplings(
    rule: LearningRule,
    patterns: &[f32],
    dim: usize,
    self_coupling: bool,
) -> crate::Result<Vec<f64>> {
    let mut w = match rule {
        LearningRule::Hebbian => hebbian(patterns, dim),
        LearningRule::Projection => projection(patterns, dim)?,
        LearningRule::Storkey => storkey(patterns, dim),
    };
    if !self_coupling {
        for i in 0..dim {
            w[i * dim + i] = 0.0;
        }
    }
    Ok(w)
}

/// `(1/N) Σ_μ ξ^μ ξ^μᵀ` (any entries, so diluted patterns work too).
pub(crate) fn hebbian(patterns: &[f32], dim: usize) -> Vec<f64> {
    let mut w = vec![0.0f64; dim * dim];
    let scale = 1.0 / dim as f64;
    for xi in patterns.chunks_exact(dim) {
        for (i, &a) in xi.iter().enumerate() {
            if a == 0.0 {
                continue;
            }
            let a = f64::from(a) * scale;
            let row = &mut w[i * dim..(i + 1) * dim];
            for (wij, &b) in row.iter_mut().zip(xi) {
                *wij += a * f64::from(b);
            }
        }
    }
    w
}

/// `(1/N) Ξᵀ C⁻¹ Ξ` with `C = (1/N) Ξ Ξᵀ`, solved by Cholesky on the `P x P` matrix `C`.
fn projection(patterns: &[f32], dim: usize) -> crate::Result<Vec<f64>> {
    let p = patterns.len() / dim;
    let xi: Vec<f64> = patterns.iter().map(|&v| f64::from(v)).collect();
    let n = dim as f64;
    let mut c = vec![0.0; p * p];
    for a in 0..p {
        for b in 0..=a {
            let dot: f64 = (0..dim).map(|k| xi[a * dim + k] * xi[b * dim + k]).sum();
            c[a * p + b] = dot / n;
            c[b * p + a] = dot / n;
        }
    }
    let l = cholesky(&mut c, p).ok_or_else(|| {
        Error::config(
            "patterns",
            format!("{p} patterns of {dim} neurons"),
            "the projection rule needs linearly independent patterns (P < N and no pattern a \
             combination of others); drop duplicates or use the Hebbian rule",
        )
    })?;
    // Y = C⁻¹ Ξ column by column of Ξ (each column is a P-vector).
    let mut y = xi.clone();
    let mut col = vec![0.0; p];
    for k in 0..dim {
        for a in 0..p {
            col[a] = xi[a * dim + k];
        }
        cholesky_solve(l, p, &mut col);
        for a in 0..p {
            y[a * dim + k] = col[a];
        }
    }
    let mut w = vec![0.0; dim * dim];
    for a in 0..p {
        let xa = &xi[a * dim..(a + 1) * dim];
        let ya = &y[a * dim..(a + 1) * dim];
        for i in 0..dim {
            let s = xa[i] / n;
            let row = &mut w[i * dim..(i + 1) * dim];
            for (wij, &yj) in row.iter_mut().zip(ya) {
                *wij += s * yj;
            }
        }
    }
    // Symmetrise away rounding (W is symmetric in exact arithmetic).
    for i in 0..dim {
        for j in 0..i {
            let m = 0.5 * (w[i * dim + j] + w[j * dim + i]);
            w[i * dim + j] = m;
            w[j * dim + i] = m;
        }
    }
    Ok(w)
}

/// In-place lower Cholesky factor of the symmetric `p x p` matrix `a`; `None` when it is not
/// (numerically) positive definite.
fn cholesky(a: &mut [f64], p: usize) -> Option<&[f64]> {
    let largest = (0..p).map(|i| a[i * p + i]).fold(0.0, f64::max);
    for j in 0..p {
        let mut d = a[j * p + j];
        for k in 0..j {
            d -= a[j * p + k] * a[j * p + k];
        }
        if d <= 1e-10 * largest.max(f64::MIN_POSITIVE) {
            return None;
        }
        let d = d.sqrt();
        a[j * p + j] = d;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = s / d;
        }
        for k in j + 1..p {
            a[j * p + k] = 0.0;
        }
    }
    Some(a)
}

/// Solves `L Lᵀ x = b` in place.
fn cholesky_solve(l: &[f64], p: usize, b: &mut [f64]) {
    for i in 0..p {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * p + k] * b[k];
        }
        b[i] = s / l[i * p + i];
    }
    for i in (0..p).rev() {
        let mut s = b[i];
        for k in i + 1..p {
            s -= l[k * p + i] * b[k];
        }
        b[i] = s / l[i * p + i];
    }
}

/// Storkey's incremental rule (zero diagonal throughout, as in Storkey 1997).
fn storkey(patterns: &[f32], dim: usize) -> Vec<f64> {
    let n = dim as f64;
    let mut w = vec![0.0f64; dim * dim];
    let mut h = vec![0.0f64; dim];
    for xi in patterns.chunks_exact(dim) {
        let xi: Vec<f64> = xi.iter().map(|&v| f64::from(v)).collect();
        // hᵢ = Σ_k Wᵢₖ ξₖ (W has a zero diagonal), so hᵢⱼ = hᵢ - Wᵢⱼ ξⱼ.
        for i in 0..dim {
            h[i] = w[i * dim..(i + 1) * dim]
                .iter()
                .zip(&xi)
                .map(|(a, b)| a * b)
                .sum();
        }
        for i in 0..dim {
            for j in 0..i {
                let wij = w[i * dim + j];
                let h_ij = h[i] - wij * xi[j];
                let h_ji = h[j] - wij * xi[i];
                let next = wij + (xi[i] * xi[j] - xi[i] * h_ji - h_ij * xi[j]) / n;
                w[i * dim + j] = next;
                w[j * dim + i] = next;
            }
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_a_small_system() {
        // A = [[4, 2], [2, 3]], b = [2, 1] -> x = [0.5, 0].
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let l = cholesky(&mut a, 2).unwrap().to_vec();
        let mut b = vec![2.0, 1.0];
        cholesky_solve(&l, 2, &mut b);
        assert!((b[0] - 0.5).abs() < 1e-14 && b[1].abs() < 1e-14, "{b:?}");
        let mut singular = vec![1.0, 1.0, 1.0, 1.0];
        assert!(cholesky(&mut singular, 2).is_none());
    }

    #[test]
    fn projection_is_idempotent_on_the_pattern_span() {
        // W (with its diagonal) is the orthogonal projector onto span(Ξ): W ξ = ξ and W² = W.
        let (p, n) = (3, 8);
        let xi = crate::patterns::random_binary(p, n, 4);
        let w = couplings(LearningRule::Projection, &xi, n, true).unwrap();
        for pattern in xi.chunks_exact(n) {
            for i in 0..n {
                let h: f64 = (0..n).map(|j| w[i * n + j] * f64::from(pattern[j])).sum();
                assert!((h - f64::from(pattern[i])).abs() < 1e-12);
            }
        }
        for i in 0..n {
            for j in 0..n {
                let w2: f64 = (0..n).map(|k| w[i * n + k] * w[k * n + j]).sum();
                assert!((w2 - w[i * n + j]).abs() < 1e-12);
            }
        }
    }
}
