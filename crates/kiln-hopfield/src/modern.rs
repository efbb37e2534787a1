//! Modern continuous Hopfield networks (Ramsauer et al. 2020, "Hopfield Networks is All You
//! Need"): batched retrieval `ξ ← Xᵀ softmax(β X ξ)` and the energy it descends.
//!
//! Stored patterns are the rows of `X` (`[N, d]`) and queries the rows of `Q` (`[B, d]`), so one
//! update of the whole batch is `Q ← softmax(β Q Xᵀ) X`, two matrix products and a row softmax.
//!
//! The energy of a state `ξ` is
//!
//! `E(ξ) = -β⁻¹ log Σᵢ exp(β xᵢᵀξ) + ½ ξᵀξ + β⁻¹ log N + ½ M²`,
//!
//! with `M = maxᵢ ‖xᵢ‖`. The update is the concave-convex procedure on `E`, so `E` never
//! increases along the iteration (Theorem 1 of the paper), and `0 ≤ E ≤ 2M²` once the state
//! lies in the convex hull of the patterns (after one update).
//!
//! Performance: β scales the `[B, d]` queries, the row maximum is subtracted before `exp`, and
//! the normalisation divides the `[B, d]` result rather than the `[B, N]` weights. An update
//! visits the stored patterns in blocks with an online softmax, so its memory is `O(B d)` plus
//! one `[B, block]` slab instead of the `[B, N]` weights. Plain f32 tensors on the CPU backends
//! take a host kernel (vectorised `exp`, `gemm` on blocks, query blocks spread over the cores);
//! GPUs, autodiff and f64 take the same algorithm as tensor operations.

use burn::tensor::{DType, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::{Error, Result, fused};

/// How many updates [`retrieve`] (and a [`Hopfield`](crate::layers::Hopfield) layer) makes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Steps {
    /// Exactly this many updates (at least one).
    Fixed(usize),
    /// Update until the largest entry of `|ξ_new - ξ_old|` over the whole batch is below `eps`,
    /// or `max` updates have been made.
    Converge {
        /// Threshold on the largest absolute change of one update.
        eps: f64,
        /// Largest number of updates.
        max: usize,
    },
}

impl Steps {
    /// Checks the step settings.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero steps or a non-positive or non-finite `eps`.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Steps::Fixed(0) => Err(Error::config(
                "steps",
                "Fixed(0)",
                "make at least one update, e.g. Steps::Fixed(1)",
            )),
            Steps::Converge { max: 0, .. } => Err(Error::config(
                "steps.max",
                0,
                "allow at least one update, e.g. Steps::Converge { eps: 1e-6, max: 100 }",
            )),
            Steps::Converge { eps, .. } if !(eps > 0.0 && eps.is_finite()) => Err(Error::config(
                "steps.eps",
                eps,
                "the convergence threshold must be a positive finite number, e.g. 1e-6",
            )),
            _ => Ok(()),
        }
    }
}

/// The result of [`retrieve`].
#[derive(Debug, Clone)]
pub struct Retrieval {
    /// Retrieved states, one row per query: `[B, d]`.
    pub states: Tensor<2>,
    /// Updates made.
    pub steps: usize,
    /// Largest absolute change of the last update (only with [`Steps::Converge`]).
    pub last_change: Option<f64>,
    /// Whether [`Steps::Converge`] stopped because the change fell below `eps`
    /// (always `false` for [`Steps::Fixed`]).
    pub converged: bool,
    stored: Tensor<2>,
    beta: f64,
}

impl Retrieval {
    /// The energy of each retrieved state, `[B]` (see the [module docs](self)).
    ///
    /// Computed on demand: it costs one more product with the stored patterns.
    pub fn energy(&self) -> Tensor<1> {
        energy_unchecked(&self.stored, &self.states, self.beta)
    }
}

fn check_beta(beta: f64) -> Result<()> {
    if beta > 0.0 && beta.is_finite() {
        Ok(())
    } else {
        Err(Error::config(
            "beta",
            beta,
            "the inverse temperature must be a positive finite number, e.g. 1/sqrt(dim)",
        ))
    }
}

fn check_patterns(stored: &Tensor<2>, states: &Tensor<2>, context: &str) -> Result<()> {
    let [n, d] = stored.dims();
    if n == 0 || d == 0 {
        return Err(Error::shape(
            context,
            "stored patterns [N, d] with N, d ≥ 1",
            &[n, d],
        ));
    }
    let [_, ds] = states.dims();
    if ds != d {
        return Err(Error::shape(
            context,
            format!("states [B, {d}] (the stored patterns' dimension)"),
            &states.dims(),
        ));
    }
    Ok(())
}

/// The association weights `softmax(β Q Xᵀ)`, one row per state: `[B, N]`.
///
/// # Shapes
/// `stored`: `[N, d]`, `states`: `[B, d]` → `[B, N]`.
///
/// # Errors
/// [`Error::InvalidConfig`] for `beta ≤ 0` or non-finite; [`Error::ShapeMismatch`] when the
/// dimensions differ or `stored` is empty.
pub fn association(stored: &Tensor<2>, states: &Tensor<2>, beta: f64) -> Result<Tensor<2>> {
    check_beta(beta)?;
    check_patterns(stored, states, "modern::association")?;
    let (weights, norm) = unnormalised_weights(stored, states, beta);
    Ok(weights / norm)
}

/// `exp(β Q Xᵀ - rowmax)` and its row sums `[B, 1]`.
///
/// β scales the queries (`B·d` products) rather than the scores (`B·N`), and the caller divides
/// after the product with `X` (`B·d` divisions instead of `B·N`): with `N ≫ d` this saves two
/// passes over the `[B, N]` score matrix.
fn unnormalised_weights(
    stored: &Tensor<2>,
    states: &Tensor<2>,
    beta: f64,
) -> (Tensor<2>, Tensor<2>) {
    let scores = states
        .clone()
        .mul_scalar(beta)
        .matmul(stored.clone().transpose());
    let max = scores.clone().max_dim(1).detach();
    let weights = (scores - max).exp();
    let norm = weights.clone().sum_dim(1);
    (weights, norm)
}

/// The stored patterns as host f32 values when an update of `states` runs on the host kernel
/// ([`fused::host`]): plain (non-autodiff) f32 tensors on a CPU backend. Elsewhere (GPUs,
/// autodiff, f64) the update is the fused tensor path ([`fused::attend`]).
fn host_patterns(stored: &Tensor<2>, states: &Tensor<2>) -> Option<Vec<f32>> {
    let device = states.device();
    let on_host = !device.is_autodiff()
        && stored.dtype() == DType::F32
        && states.dtype() == DType::F32
        && kiln_core::device::backend_of(&device).is_some_and(|kind| kind.is_cpu());
    on_host.then(|| {
        stored
            .to_data()
            .try_to_vec::<f32>()
            .expect("checked: the stored patterns are f32")
    })
}

/// One update `Q ← softmax(β Q Xᵀ) X` without checks, fused: the stored patterns are visited in
/// blocks with an online softmax, so the `[B, N]` weights are never written out whole. `host`
/// is [`host_patterns`]`(stored, states)`, computed once by the caller.
fn update_unchecked(
    stored: &Tensor<2>,
    host: Option<&[f32]>,
    states: &Tensor<2>,
    beta: f64,
) -> Tensor<2> {
    match host {
        Some(patterns) => {
            let [n, d] = stored.dims();
            let values = states
                .to_data()
                .try_to_vec::<f32>()
                .expect("checked: the states are f32");
            let out = fused::host::update(patterns, n, d, &values, beta as f32);
            Tensor::from_data(TensorData::new(out, states.dims()), &states.device())
        }
        None => fused::attend(states.clone().mul_scalar(beta), stored, stored, None),
    }
}

/// One update of every state, `Q ← softmax(β Q Xᵀ) X`.
///
/// # Shapes
/// `stored`: `[N, d]`, `states`: `[B, d]` → `[B, d]`.
///
/// # Errors
/// As [`association`].
pub fn update(stored: &Tensor<2>, states: &Tensor<2>, beta: f64) -> Result<Tensor<2>> {
    check_beta(beta)?;
    check_patterns(stored, states, "modern::update")?;
    let host = host_patterns(stored, states);
    Ok(update_unchecked(stored, host.as_deref(), states, beta))
}

/// Retrieves stored patterns from queries by iterating the modern Hopfield update.
///
/// Differentiable: gradients flow through every update (with [`Steps::Converge`], the number
/// of updates is decided on values read back from the device).
///
/// # Shapes
/// `stored`: `[N, d]` (patterns as rows), `queries`: `[B, d]`; the states are `[B, d]`.
///
/// # Errors
/// [`Error::InvalidConfig`] for `beta ≤ 0` (or non-finite) and invalid [`Steps`];
/// [`Error::ShapeMismatch`] when the dimensions differ or `stored` is empty.
pub fn retrieve(
    stored: &Tensor<2>,
    queries: &Tensor<2>,
    beta: f64,
    steps: Steps,
) -> Result<Retrieval> {
    check_beta(beta)?;
    steps.validate()?;
    check_patterns(stored, queries, "modern::retrieve")?;
    let host = host_patterns(stored, queries);
    let update = |states: &Tensor<2>| update_unchecked(stored, host.as_deref(), states, beta);
    let mut states = queries.clone();
    let (mut done, mut last_change, mut converged) = (0, None, false);
    match steps {
        Steps::Fixed(n) => {
            for _ in 0..n {
                states = update(&states);
            }
            done = n;
        }
        Steps::Converge { eps, max } => {
            while done < max {
                let next = update(&states);
                let change = (next.clone() - states).abs().max().into_scalar::<f64>();
                states = next;
                done += 1;
                last_change = Some(change);
                // A NaN change (non-finite input) never converges; it stops at `max`.
                if change < eps {
                    converged = true;
                    break;
                }
            }
        }
    }
    Ok(Retrieval {
        states,
        steps: done,
        last_change,
        converged,
        stored: stored.clone(),
        beta,
    })
}

/// The energy of each state, `[B]` (see the [module docs](self)).
///
/// # Shapes
/// `stored`: `[N, d]`, `states`: `[B, d]` → `[B]`.
///
/// # Errors
/// As [`association`].
pub fn energy(stored: &Tensor<2>, states: &Tensor<2>, beta: f64) -> Result<Tensor<1>> {
    check_beta(beta)?;
    check_patterns(stored, states, "modern::energy")?;
    Ok(energy_unchecked(stored, states, beta))
}

fn energy_unchecked(stored: &Tensor<2>, states: &Tensor<2>, beta: f64) -> Tensor<1> {
    let [n, _] = stored.dims();
    let [b, _] = states.dims();
    let m2 = stored
        .clone()
        .square()
        .sum_dim(1)
        .max()
        .into_scalar::<f64>();
    let scores = states
        .clone()
        .matmul(stored.clone().transpose())
        .mul_scalar(beta);
    let max = scores.clone().max_dim(1);
    // lse = β⁻¹ log Σ exp(β xᵢᵀξ), evaluated as (max + log Σ exp(s - max)) / β.
    let lse = ((scores - max.clone()).exp().sum_dim(1).log() + max).div_scalar(beta);
    let half_norm = states.clone().square().sum_dim(1).mul_scalar(0.5);
    let constant = (n as f64).ln() / beta + 0.5 * m2;
    (half_norm - lse).add_scalar(constant).reshape([b])
}

/// The mean of the stored patterns, `[1, d]`: the `β → 0` limit of one update.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `stored` is empty.
pub fn mean_pattern(stored: &Tensor<2>) -> Result<Tensor<2>> {
    let [n, d] = stored.dims();
    if n == 0 || d == 0 {
        return Err(Error::shape(
            "modern::mean_pattern",
            "stored patterns [N, d] with N, d ≥ 1",
            &[n, d],
        ));
    }
    Ok(stored.clone().mean_dim(0))
}

/// Separation `Δᵢ = xᵢᵀxᵢ - max_{j≠i} xᵢᵀxⱼ` of every stored pattern (host computation, `f64`),
/// the quantity the paper's storage and retrieval theorems are stated in.
///
/// `patterns` are row-major `[count, dim]`; with a single pattern the separation is `+∞`.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `patterns.len() != count * dim`.
pub fn separations(patterns: &[f64], count: usize, dim: usize) -> Result<Vec<f64>> {
    if patterns.len() != count * dim {
        return Err(Error::shape(
            "modern::separations",
            format!("{} values for [{count}, {dim}]", count * dim),
            &[patterns.len()],
        ));
    }
    let row = |i: usize| &patterns[i * dim..(i + 1) * dim];
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    Ok((0..count)
        .map(|i| {
            let own = dot(row(i), row(i));
            let closest = (0..count)
                .filter(|&j| j != i)
                .map(|j| dot(row(i), row(j)))
                .fold(f64::NEG_INFINITY, f64::max);
            own - closest
        })
        .collect())
}

/// Theorem 5 of Ramsauer et al. (2020): the retrieval error of one update from `ξ` near pattern
/// `xᵢ` is at most `2 (N - 1) M exp(-β (Δᵢ - 2 r M))`, with `r = ‖ξ - xᵢ‖` (the paper takes
/// `r = max(‖ξ - xᵢ‖, ‖xᵢ* - xᵢ‖)`, which only loosens the bound). `max_norm` is `M`, a bound
/// on every pattern's norm, and `separation` is `Δᵢ` (see [`separations`]).
///
/// Derivation of the one-step form: `f(ξ) - xᵢ = Σ_{j≠i} pⱼ (xⱼ - xᵢ)`, so
/// `‖f(ξ) - xᵢ‖ ≤ 2M (1 - pᵢ) ≤ 2M Σ_{j≠i} exp(-β (xᵢ - xⱼ)ᵀξ)`, and
/// `(xᵢ - xⱼ)ᵀξ ≥ Δᵢ - ‖xᵢ - xⱼ‖ ‖ξ - xᵢ‖ ≥ Δᵢ - 2 M r`.
pub fn retrieval_error_bound(
    count: usize,
    max_norm: f64,
    separation: f64,
    beta: f64,
    r: f64,
) -> f64 {
    2.0 * (count.saturating_sub(1)) as f64
        * max_norm
        * (-beta * (separation - 2.0 * r * max_norm)).exp()
}
