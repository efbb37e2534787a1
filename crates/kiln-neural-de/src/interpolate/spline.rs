//! Piecewise cubics of one channel on the host: missing values filled per channel, linear,
//! backward-Hermite and cubic-spline (natural or not-a-knot) coefficients on the sample grid.

/// One cubic piece `x(t) = a + b s + c s² + d s³`, `s = t - tᵢ`, on `[tᵢ, tᵢ₊₁]`.
pub(crate) type Piece = [f64; 4];

/// The observed `(t, x)` pairs of a channel (non-NaN values).
fn observed(ts: &[f64], xs: &[f64]) -> (Vec<f64>, Vec<f64>) {
    ts.iter()
        .zip(xs)
        .filter(|(_, x)| !x.is_nan())
        .map(|(t, x)| (*t, *x))
        .unzip()
}

/// Missing values filled by linear interpolation between the observed neighbours in time, and
/// by the first or last observed value before the first or after the last observation.
/// `None` when nothing is observed.
pub(crate) fn fill_linear(ts: &[f64], xs: &[f64]) -> Option<Vec<f64>> {
    let (kt, kx) = observed(ts, xs);
    if kt.is_empty() {
        return None;
    }
    let mut k = 0;
    Some(
        ts.iter()
            .map(|&t| {
                while k + 1 < kt.len() && kt[k + 1] <= t {
                    k += 1;
                }
                if t <= kt[0] {
                    kx[0]
                } else if k + 1 == kt.len() {
                    kx[k]
                } else {
                    let w = (t - kt[k]) / (kt[k + 1] - kt[k]);
                    kx[k] + w * (kx[k + 1] - kx[k])
                }
            })
            .collect(),
    )
}

/// Piecewise-linear pieces through filled values.
pub(crate) fn linear(ts: &[f64], xs: &[f64]) -> Vec<Piece> {
    ts.windows(2)
        .zip(xs.windows(2))
        .map(|(t, x)| [x[0], (x[1] - x[0]) / (t[1] - t[0]), 0.0, 0.0])
        .collect()
}

/// Cubic Hermite pieces with backward-difference slopes: on `[tᵢ, tᵢ₊₁]` the slope at `tᵢ` is
/// the previous interval's difference quotient (the first interval's own at `t₀`) and at `tᵢ₊₁`
/// the interval's own, so the path at `t` depends on no sample after the interval's end.
pub(crate) fn hermite_backward(ts: &[f64], xs: &[f64]) -> Vec<Piece> {
    let slopes: Vec<f64> = ts
        .windows(2)
        .zip(xs.windows(2))
        .map(|(t, x)| (x[1] - x[0]) / (t[1] - t[0]))
        .collect();
    (0..slopes.len())
        .map(|i| {
            let h = ts[i + 1] - ts[i];
            let delta = slopes[i];
            let g0 = if i == 0 { delta } else { slopes[i - 1] };
            [xs[i], g0, 2.0 * (delta - g0) / h, (g0 - delta) / (h * h)]
        })
        .collect()
}

/// End conditions of a cubic spline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ends {
    /// Zero second derivative at both ends.
    Natural,
    /// Continuous third derivative at the second and second-to-last knots (reproduces cubics).
    NotAKnot,
}

/// Second derivatives `M` of the cubic spline through `(kt, kx)` (at least two knots).
fn second_derivatives(kt: &[f64], kx: &[f64], ends: Ends) -> Vec<f64> {
    let m = kt.len() - 1;
    let mut out = vec![0.0; m + 1];
    if m < 2 {
        return out;
    }
    let h: Vec<f64> = kt.windows(2).map(|w| w[1] - w[0]).collect();
    let slope: Vec<f64> = (0..m).map(|i| (kx[i + 1] - kx[i]) / h[i]).collect();
    // Unknowns M₁..M_{m-1}: tridiagonal rows (sub, diag, sup) = rhs.
    let n = m - 1;
    let mut sub = vec![0.0; n];
    let mut diag = vec![0.0; n];
    let mut sup = vec![0.0; n];
    let mut rhs = vec![0.0; n];
    for r in 0..n {
        let i = r + 1;
        sub[r] = h[i - 1];
        diag[r] = 2.0 * (h[i - 1] + h[i]);
        sup[r] = h[i];
        rhs[r] = 6.0 * (slope[i] - slope[i - 1]);
    }
    let not_a_knot = ends == Ends::NotAKnot && m >= 3;
    if not_a_knot {
        // M₀ = (1 + h₀/h₁) M₁ - (h₀/h₁) M₂ folded into the first row, and the mirror image
        // into the last.
        let q = h[0] / h[1];
        diag[0] += h[0] * (1.0 + q);
        sup[0] -= h[0] * q;
        let q = h[m - 1] / h[m - 2];
        diag[n - 1] += h[m - 1] * (1.0 + q);
        sub[n - 1] -= h[m - 1] * q;
    }
    // Thomas algorithm.
    for r in 1..n {
        let w = sub[r] / diag[r - 1];
        diag[r] -= w * sup[r - 1];
        rhs[r] -= w * rhs[r - 1];
    }
    let mut x = vec![0.0; n];
    x[n - 1] = rhs[n - 1] / diag[n - 1];
    for r in (0..n - 1).rev() {
        x[r] = (rhs[r] - sup[r] * x[r + 1]) / diag[r];
    }
    out[1..m].copy_from_slice(&x);
    if not_a_knot {
        let q = h[0] / h[1];
        out[0] = (1.0 + q) * out[1] - q * out[2];
        let q = h[m - 1] / h[m - 2];
        out[m] = (1.0 + q) * out[m - 1] - q * out[m - 2];
    }
    out
}

/// Cubic-spline pieces on the full grid `ts` for a channel with missing values (NaN): the
/// spline runs through the observed values only (its knots are the observed times), is
/// re-expanded about every grid time, and is constant before the first and after the last
/// observation. Not-a-knot ends need four observations; with fewer, the ends are natural.
/// `None` when nothing is observed.
pub(crate) fn cubic_spline(ts: &[f64], xs: &[f64], ends: Ends) -> Option<Vec<Piece>> {
    let (kt, kx) = observed(ts, xs);
    if kt.is_empty() {
        return None;
    }
    let ms = if kt.len() >= 2 {
        second_derivatives(&kt, &kx, ends)
    } else {
        vec![0.0]
    };
    let last = kt.len() - 1;
    let mut k = 0;
    Some(
        ts.windows(2)
            .map(|w| {
                let t = w[0];
                if last == 0 || t < kt[0] {
                    // Before the first observation (or a single one): constant. An interval
                    // that straddles the first knot cannot occur: knots are grid times.
                    return [kx[0], 0.0, 0.0, 0.0];
                }
                if t >= kt[last] {
                    return [kx[last], 0.0, 0.0, 0.0];
                }
                while kt[k + 1] <= t {
                    k += 1;
                }
                let h = kt[k + 1] - kt[k];
                let d = (ms[k + 1] - ms[k]) / (6.0 * h);
                let b = (kx[k + 1] - kx[k]) / h - h * (2.0 * ms[k] + ms[k + 1]) / 6.0;
                let u = t - kt[k];
                [
                    kx[k] + b * u + 0.5 * ms[k] * u * u + d * u * u * u,
                    b + ms[k] * u + 3.0 * d * u * u,
                    0.5 * ms[k] + 3.0 * d * u,
                    d,
                ]
            })
            .collect(),
    )
}
