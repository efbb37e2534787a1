//! Gauss-Hermite quadrature: ∫ f(z) e^(-z²) dz ≈ Σ wᵢ f(zᵢ), exact for polynomials of degree < 2n.

use crate::tridiagonal::symmetric_tridiagonal_eigenvalues;
use crate::{Error, Result};

/// Nodes and weights of the `n`-point Gauss-Hermite rule (physicists' weight e^(-z²)), nodes in
/// increasing order.
///
/// The nodes start as the eigenvalues of the Jacobi matrix (Golub-Welsch) and are polished by
/// Newton's method on the orthonormal Hermite recurrence; the weights are 2 / p′ₙ(zᵢ)² in that
/// normalisation, which keeps their *relative* accuracy far into the tails (the eigenvector
/// formula would only give them to 1e-16 absolutely). Weights below ~1e-300 underflow to zero.
///
/// # Errors
/// [`Error::InvalidConfig`] for `n == 0` or `n > 1000`.
pub fn gauss_hermite(n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    if n == 0 || n > 1000 {
        return Err(Error::config(
            "n",
            n,
            "Gauss-Hermite rules are built for 1..=1000 nodes",
        ));
    }
    let pim4 = std::f64::consts::PI.powf(-0.25);
    let nf = n as f64;
    // Orthonormal Hermite values p_n(z) and p_(n-1)(z).
    let eval = |z: f64| {
        let (mut p1, mut p2) = (pim4, 0.0);
        for j in 1..=n {
            let p3 = p2;
            p2 = p1;
            let jf = j as f64;
            p1 = z * (2.0 / jf).sqrt() * p2 - ((jf - 1.0) / jf).sqrt() * p3;
        }
        (p1, p2)
    };
    let off: Vec<f64> = (1..n).map(|k| (k as f64 / 2.0).sqrt()).collect();
    let mut nodes = symmetric_tridiagonal_eigenvalues(&vec![0.0; n], &off)?;
    let mut weights = vec![0.0; n];
    for (z, w) in nodes.iter_mut().zip(weights.iter_mut()) {
        for _ in 0..5 {
            let (p1, p2) = eval(*z);
            let step = p1 / ((2.0 * nf).sqrt() * p2);
            if !step.is_finite() {
                break;
            }
            *z -= step;
            if step.abs() <= 1e-16 * z.abs().max(1.0) {
                break;
            }
        }
        let (_, p2) = eval(*z);
        let pp = (2.0 * nf).sqrt() * p2;
        *w = if pp.is_finite() { 2.0 / (pp * pp) } else { 0.0 };
    }
    // Exact symmetry.
    for i in 0..n / 2 {
        let z = 0.5 * (nodes[n - 1 - i] - nodes[i]);
        let w = 0.5 * (weights[i] + weights[n - 1 - i]);
        (nodes[i], nodes[n - 1 - i]) = (-z, z);
        (weights[i], weights[n - 1 - i]) = (w, w);
    }
    if n % 2 == 1 {
        nodes[n / 2] = 0.0;
    }
    Ok((nodes, weights))
}
