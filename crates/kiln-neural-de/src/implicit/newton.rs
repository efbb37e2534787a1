//! Host-side numerics of the implicit solver: dense LU per sample block, the finite-difference
//! Jacobian, and the simplified Newton iteration of one implicit stage, all in f64.

use burn::tensor::{DType, Device, Tensor, TensorData};

use super::Jacobian;
use crate::step::Clock;
use crate::term::{Time, VectorField};
use crate::{Error, Result};

/// LU factors of one `n × n` block with partial pivoting: `P M = L U`, stored row-major with the
/// unit lower factor below the diagonal.
#[derive(Clone, Debug)]
pub(super) struct BlockLu {
    n: usize,
    lu: Vec<f64>,
    pivots: Vec<usize>,
}

impl BlockLu {
    /// Factors the row-major matrix `m`; `None` when a pivot is zero or not finite.
    pub(super) fn factor(mut m: Vec<f64>, n: usize) -> Option<Self> {
        debug_assert_eq!(m.len(), n * n);
        let mut pivots = Vec::with_capacity(n);
        for col in 0..n {
            let (p, magnitude) =
                (col..n)
                    .map(|r| (r, m[r * n + col].abs()))
                    .fold(
                        (col, -1.0),
                        |best, cur| if cur.1 > best.1 { cur } else { best },
                    );
            if !(magnitude.is_finite() && magnitude > 0.0) {
                return None;
            }
            if p != col {
                for j in 0..n {
                    m.swap(col * n + j, p * n + j);
                }
            }
            pivots.push(p);
            let pivot = m[col * n + col];
            for r in col + 1..n {
                let factor = m[r * n + col] / pivot;
                m[r * n + col] = factor;
                if factor != 0.0 {
                    for j in col + 1..n {
                        m[r * n + j] -= factor * m[col * n + j];
                    }
                }
            }
        }
        Some(Self { n, lu: m, pivots })
    }

    /// Overwrites `b` with `M⁻¹ b`.
    pub(super) fn solve(&self, b: &mut [f64]) {
        let n = self.n;
        for (col, &p) in self.pivots.iter().enumerate() {
            b.swap(col, p);
        }
        for r in 1..n {
            let s: f64 = (0..r).map(|j| self.lu[r * n + j] * b[j]).sum();
            b[r] -= s;
        }
        for r in (0..n).rev() {
            let s: f64 = (r + 1..n).map(|j| self.lu[r * n + j] * b[j]).sum();
            b[r] = (b[r] - s) / self.lu[r * n + r];
        }
    }
}

/// How precisely the Newton iteration solves a stage, in the scaled norm of the update.
#[derive(Clone, Debug)]
pub(super) struct NewtonSettings {
    pub(super) rtol: f64,
    pub(super) atol: f64,
    /// Fraction of the tolerance the iteration must reach, raised where the state's precision
    /// cannot deliver it.
    pub(super) kappa: f64,
    pub(super) max_iters: usize,
}

/// Machine epsilon of a float dtype.
pub(super) fn epsilon(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => f64::EPSILON,
        DType::F16 => 9.77e-4,
        DType::BF16 => 7.82e-3,
        _ => f64::from(f32::EPSILON),
    }
}

/// `x` rounded to what a tensor of `dtype` stores (exact for f64, f32 and flex32).
fn rounded(dtype: DType, x: f64) -> f64 {
    match dtype {
        DType::F32 | DType::Flex32 => f64::from(x as f32),
        _ => x,
    }
}

/// Evaluates the vector field from host values and reads the result back, counting evaluations
/// and checking that the field keeps the state's shape.
pub(super) struct Host<'a, const D: usize, F> {
    pub(super) field: &'a F,
    pub(super) dims: [usize; D],
    pub(super) device: Device,
    pub(super) dtype: DType,
    pub(super) nfe: &'a mut usize,
}

impl<const D: usize, F: VectorField<D>> Host<'_, D, F> {
    /// Host values as a tensor of the state's shape, dtype and device.
    pub(super) fn upload(&self, values: &[f64]) -> Tensor<D> {
        Tensor::from_data(
            TensorData::new(values.to_vec(), self.dims),
            (&self.device, self.dtype),
        )
    }

    /// `f(t, y)` as a tensor.
    pub(super) fn eval_tensor(&mut self, t: &Time, y: &Tensor<D>) -> Result<Tensor<D>> {
        let out = self.field.eval(t, y);
        *self.nfe += 1;
        if out.dims() != self.dims {
            return Err(Error::ShapeMismatch {
                context: "the vector field's output in an implicit stage".into(),
                expected: format!("the state's shape {:?}", self.dims),
                found: out.dims().to_vec(),
            });
        }
        Ok(out)
    }

    /// `f(t, y)` from and to host values.
    pub(super) fn eval(&mut self, t: &Time, y: &[f64]) -> Result<Vec<f64>> {
        let y = self.upload(y);
        Ok(read(self.eval_tensor(t, &y)?))
    }
}

/// A tensor's values on the host, in f64.
pub(super) fn read<const D: usize>(x: Tensor<D>) -> Vec<f64> {
    x.detach().into_data().iter::<f64>().collect()
}

/// The block-diagonal Jacobian `∂f/∂y` at `(t₀, y₀)`: `batch` row-major `n × n` blocks, column
/// `j` of every block from one evaluation that perturbs feature `j` of every sample.
///
/// Perturbations are `√ε max(|y|, atol/rtol)` (forward) or `∛ε max(|y|, atol/rtol)` (central),
/// with `ε` the precision of the state, rounded so that the step is exactly representable.
#[allow(clippy::too_many_arguments)]
pub(super) fn jacobian<const D: usize, F: VectorField<D>>(
    host: &mut Host<'_, D, F>,
    clock: &Clock<D>,
    kind: Jacobian,
    y0: &[f64],
    f0: &[f64],
    batch: usize,
    n: usize,
    settings: &NewtonSettings,
) -> Result<Vec<f64>> {
    let t0 = clock.time_at(0.0, &host.device);
    let eps = epsilon(host.dtype);
    let root = match kind {
        Jacobian::FiniteDifference => eps.sqrt(),
        Jacobian::CentralDifference => eps.cbrt(),
    };
    let floor = if settings.rtol > 0.0 {
        (settings.atol / settings.rtol).min(1.0)
    } else {
        1.0
    };
    let mut jac = vec![0.0; batch * n * n];
    let mut y = y0.to_vec();
    for j in 0..n {
        let mut deltas = vec![0.0; batch];
        for (b, delta) in deltas.iter_mut().enumerate() {
            let v = y0[b * n + j];
            let mut d = root * v.abs().max(floor);
            if d == 0.0 {
                d = root;
            }
            // Use the perturbation the tensor really stores.
            *delta = rounded(host.dtype, v + d) - v;
            if *delta == 0.0 {
                *delta = d;
            }
        }
        let columns = match kind {
            Jacobian::FiniteDifference => {
                for b in 0..batch {
                    y[b * n + j] = y0[b * n + j] + deltas[b];
                }
                let fp = host.eval(&t0, &y)?;
                (0..batch * n)
                    .map(|idx| (fp[idx] - f0[idx]) / deltas[idx / n])
                    .collect::<Vec<f64>>()
            }
            Jacobian::CentralDifference => {
                for b in 0..batch {
                    y[b * n + j] = y0[b * n + j] + deltas[b];
                }
                let fp = host.eval(&t0, &y)?;
                for b in 0..batch {
                    y[b * n + j] = y0[b * n + j] - deltas[b];
                }
                let fm = host.eval(&t0, &y)?;
                (0..batch * n)
                    .map(|idx| (fp[idx] - fm[idx]) / (2.0 * deltas[idx / n]))
                    .collect::<Vec<f64>>()
            }
        };
        for b in 0..batch {
            y[b * n + j] = y0[b * n + j];
            for i in 0..n {
                jac[b * n * n + i * n + j] = columns[b * n + i];
            }
        }
    }
    Ok(jac)
}

/// One implicit stage, all samples together.
pub(super) struct Stage<'a> {
    /// `y₀ + h Σ_{j<i} aᵢⱼ kⱼ`, flattened `[batch * n]`.
    pub(super) base: &'a [f64],
    /// `h γ` per sample.
    pub(super) h_gamma: &'a [f64],
    /// LU factors of `I - h γ J` per sample (`None` where the factorisation failed).
    pub(super) lus: &'a [Option<BlockLu>],
    /// Time of the stage.
    pub(super) time: &'a Time,
}

/// Solves `kᵢ = f(tᵢ, base + h γ kᵢ)` for the stage derivative by simplified Newton from the
/// guess `k`, in place. Samples whose iteration diverges, stalls or runs out of iterations are
/// marked in `failed` (their `k` is left finite); with `stop_on_failure` the first failure ends
/// the stage. Each iteration costs one evaluation of the whole batch.
pub(super) fn solve_stage<const D: usize, F: VectorField<D>>(
    host: &mut Host<'_, D, F>,
    stage: &Stage<'_>,
    k: &mut [f64],
    failed: &mut [bool],
    settings: &NewtonSettings,
    stop_on_failure: bool,
) -> Result<()> {
    let batch = failed.len();
    let n = k.len() / batch.max(1);
    let mut active: Vec<bool> = failed.iter().map(|f| !f).collect();
    let mut previous = vec![f64::NAN; batch];
    let mut y = vec![0.0; k.len()];
    let mut delta = vec![0.0; n];
    for iteration in 0..settings.max_iters {
        if !active.iter().any(|a| *a) {
            return Ok(());
        }
        for idx in 0..k.len() {
            y[idx] = stage.base[idx] + stage.h_gamma[idx / n.max(1)] * k[idx];
        }
        let f = host.eval(stage.time, &y)?;
        for b in 0..batch {
            if !active[b] {
                continue;
            }
            let rows = b * n..(b + 1) * n;
            let Some(lu) = &stage.lus[b] else {
                active[b] = false;
                failed[b] = true;
                continue;
            };
            for (d, idx) in delta.iter_mut().zip(rows.clone()) {
                *d = f[idx] - k[idx];
            }
            lu.solve(&mut delta);
            // Scaled RMS of the change in the stage value, h γ Δk.
            let mut sum = 0.0;
            for (d, idx) in delta.iter().zip(rows.clone()) {
                let change = stage.h_gamma[b] * d;
                let scale = settings.kappa * (settings.atol + settings.rtol * y[idx].abs());
                sum += (change / scale).powi(2);
                k[idx] += d;
            }
            let eta = (sum / n as f64).sqrt();
            let verdict = verdict(eta, previous[b], iteration, settings.max_iters);
            previous[b] = eta;
            match verdict {
                Verdict::Converged => active[b] = false,
                Verdict::Continue => {}
                Verdict::Failed => {
                    active[b] = false;
                    failed[b] = true;
                }
            }
            if failed[b] && stop_on_failure {
                return Ok(());
            }
        }
    }
    for b in 0..batch {
        if active[b] {
            failed[b] = true;
        }
    }
    Ok(())
}

enum Verdict {
    Converged,
    Continue,
    Failed,
}

/// The convergence test on the scaled update norm `eta` of iteration `iteration`, given the
/// previous one: converged when the estimated remaining error `θ/(1-θ) η` is below 1 (for the
/// first iteration, when `η` itself is), failed when the rate `θ = η/η_prev` reaches 1 or
/// `θ^(left)/(1-θ) η` says the remaining iterations cannot reach the tolerance.
fn verdict(eta: f64, previous: f64, iteration: usize, max_iters: usize) -> Verdict {
    if !eta.is_finite() {
        return Verdict::Failed;
    }
    if eta == 0.0 {
        return Verdict::Converged;
    }
    if iteration == 0 {
        return if eta <= 1.0 {
            Verdict::Converged
        } else {
            Verdict::Continue
        };
    }
    let theta = eta / previous;
    if theta.is_nan() || theta >= 1.0 {
        return Verdict::Failed;
    }
    if theta / (1.0 - theta) * eta <= 1.0 {
        return Verdict::Converged;
    }
    let left = max_iters.saturating_sub(iteration + 1) as i32;
    if theta.powi(left) / (1.0 - theta) * eta > 1.0 {
        return Verdict::Failed;
    }
    Verdict::Continue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lu_solves_a_system_that_needs_pivoting() {
        // [[0, 2, 1], [1, 1, 0], [3, 0, 1]] x = b for x = (1, -2, 3).
        let m = vec![0.0, 2.0, 1.0, 1.0, 1.0, 0.0, 3.0, 0.0, 1.0];
        let x = [1.0, -2.0, 3.0];
        let mut b: Vec<f64> = (0..3)
            .map(|r| (0..3).map(|c| m[r * 3 + c] * x[c]).sum())
            .collect();
        BlockLu::factor(m, 3).expect("non-singular").solve(&mut b);
        for (got, want) in b.iter().zip(x) {
            assert!((got - want).abs() < 1e-14, "{got} vs {want}");
        }
    }

    #[test]
    fn lu_reports_a_singular_matrix() {
        assert!(BlockLu::factor(vec![1.0, 2.0, 2.0, 4.0], 2).is_none());
        assert!(BlockLu::factor(vec![f64::NAN], 1).is_none());
    }

    #[test]
    fn verdict_stops_on_divergence_and_accepts_fast_contraction() {
        assert!(matches!(verdict(5.0, f64::NAN, 0, 10), Verdict::Continue));
        assert!(matches!(verdict(0.5, f64::NAN, 0, 10), Verdict::Converged));
        assert!(matches!(verdict(6.0, 5.0, 1, 10), Verdict::Failed));
        assert!(matches!(verdict(0.05, 5.0, 1, 10), Verdict::Converged));
        assert!(matches!(verdict(f64::NAN, 5.0, 1, 10), Verdict::Failed));
        // Rate 0.9 from 1e3: cannot reach 1 in the 8 iterations left.
        assert!(matches!(verdict(900.0, 1000.0, 1, 10), Verdict::Failed));
    }
}
