//! Gradients through ODE solves: backprop through the solver's steps, or the continuous adjoint.
//!
//! # Two ways to differentiate `L(y(t₁), …, y(t_N))` with respect to `y₀` and the parameters θ
//! of a neural vector field `f_θ(t, y)`
//!
//! **Backprop (discretise-then-optimise).** [`crate::solve`] is a sequence of burn tensor
//! operations, so on an autodiff device (`Device::flex().autodiff()`) `loss.backward()` already
//! differentiates the numerical solution step by step, exactly (up to round-off) and with the
//! step sizes held fixed. The cost is memory: the autodiff graph keeps every stage of every step,
//! `O(steps × stages × (state + activations of f))`, and it grows linearly with the number of
//! steps. The backward pass costs about one to two forward passes.
//!
//! **Continuous adjoint (optimise-then-discretise, "backsolve").** [`solve_adjoint`] integrates
//! forward without building a graph, keeping only the states at the save times (and at optional
//! checkpoints). Then it integrates the augmented system `z = [y, a, a_θ]` backwards from `t_N`
//! to `t₀` with the same solver:
//!
//! ```text
//! dy/dt = f(t, y),   da/dt = -aᵀ ∂f/∂y,   da_θ/dt = -aᵀ ∂f/∂θ,
//! ```
//!
//! adding `∂L/∂y(tᵢ)` to `a` at every save time. At `t₀`, `a = dL/dy₀` and `a_θ = dL/dθ`
//! (summed over the batch). The vector-Jacobian products come from burn's autodiff: `f` is
//! evaluated on the autodiff device with `y` requiring gradients and `sum(f ⊙ a)` is
//! back-propagated, once per evaluation of the augmented field. Memory is
//! `O(saves + checkpoints)` states plus the graph of a single evaluation of `f`, independent of
//! the number of steps. Time is one forward solve without a graph plus a backward solve whose
//! every stage costs one evaluation of `f` and one backward pass; with adaptive steps the
//! backward solve may take more steps than the forward one, since its error control covers `a`
//! and `a_θ` too. On small fields with many steps the adjoint can even be faster than backprop,
//! whose huge graph is slow to build and walk (see the `adjoint-memory` benchmark).
//!
//! The adjoint gradient is the gradient of the *exact* flow, approximated to the backward solve's
//! tolerance, not of the discrete forward solution: the two agree to about the solver's
//! tolerance. Reconstructing `y` backwards is also a solve, and it is inaccurate when the forward
//! dynamics contract strongly (backwards they expand: errors grow like the inverse of the forward
//! contraction). [`AdjointOptions::with_checkpoints`] bounds that error: it stores `y` at the save
//! times and at `k` more evenly spaced times in the forward pass and resets the `y` part of the
//! augmented state to those values on the way back.
//!
//! **When to use which.** Backprop when the graph fits in memory (few steps, small batches or
//! small networks): it is exact for the discrete model, fast, and consistent with the forward
//! values the loss saw. The adjoint for long integrations, many steps, large batches or large
//! fields, where backprop's memory is the limit; add checkpoints when the dynamics are
//! dissipative or stiff-ish, or the horizon is long.
//!
//! # Training
//! [`AdjointResult::loss`] is a scalar on the autodiff device whose value is the loss and whose
//! gradient, by `loss.backward()`, is the adjoint gradient in every trainable parameter of the
//! field (and in `y₀` when `y₀` is tracked, e.g. produced by an encoder). A kiln-core `Trainer`
//! loss closure can return it unchanged; burn optimisers can also take
//! [`AdjointResult::grads`] directly.
//!
//! ```
//! use burn::module::{Module, Param};
//! use burn::tensor::{Device, Tensor, TensorData};
//! use kiln_neural_de::adjoint::{AdjointOptions, solve_adjoint};
//! use kiln_neural_de::{ExplicitRk, SolveOptions, Time, VectorField};
//!
//! /// `dy/dt = -k y` with a learnable rate `k`.
//! #[derive(Module, Debug)]
//! struct Decay {
//!     k: Param<Tensor<1>>,
//! }
//!
//! impl VectorField<2> for Decay {
//!     fn eval(&self, _t: &Time, y: &Tensor<2>) -> Tensor<2> {
//!         y.clone().mul(self.k.val().unsqueeze::<2>()).neg()
//!     }
//! }
//!
//! let device = Device::flex().autodiff();
//! let field = Decay { k: Param::from_data(TensorData::new(vec![0.5f32], [1]), &device) };
//! let y0 = Tensor::<2>::ones([1, 1], &device);
//! let options = SolveOptions::adaptive(1e-6, 1e-8);
//! let result = solve_adjoint(&field, &ExplicitRk::dopri5(), (0.0, 1.0), y0, &options,
//!     &AdjointOptions::backsolve(), |ys| ys[0].clone().sum())
//!     .unwrap();
//! // L = y(1) = exp(-k): dL/dk = -exp(-k).
//! let grads = result.loss.backward();
//! let dk = field.k.val().grad(&grads).unwrap().into_scalar::<f64>();
//! assert!((dk + (-0.5f64).exp()).abs() < 1e-4);
//! ```

mod augmented;
mod params;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::options::{BatchMode, SaveAt, SolveOptions, Stats, StepControl};
use crate::solver::Solver;
use crate::term::VectorField;
use crate::{Error, PidController, Result, solve};
use augmented::{Augmented, Packing};
use params::ParamLayout;

/// Options of the backward solve of [`solve_adjoint`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AdjointOptions {
    /// Step control of the backward solve; `None` uses the forward solve's.
    pub step: Option<StepControl>,
    /// `None`: pure backsolve, `y` is reconstructed backwards all the way. `Some(k)`: `y` is
    /// reset to its forward value at every save time and at `k` extra evenly spaced times.
    pub checkpoints: Option<usize>,
}

impl AdjointOptions {
    /// Pure backsolve with the forward solve's step control.
    pub fn backsolve() -> Self {
        Self::default()
    }

    /// Adaptive backward steps at tolerances `rtol`, `atol` (on the whole augmented state).
    pub fn with_tolerances(self, rtol: f64, atol: f64) -> Self {
        self.with_step(StepControl::Adaptive(PidController::new(rtol, atol)))
    }

    /// Sets the backward step control.
    pub fn with_step(mut self, step: StepControl) -> Self {
        self.step = Some(step);
        self
    }

    /// Resets `y` to its forward value at every save time and at `k` extra evenly spaced
    /// checkpoints (`k = 0`: at the save times only).
    pub fn with_checkpoints(mut self, k: usize) -> Self {
        self.checkpoints = Some(k);
        self
    }
}

/// What [`solve_adjoint`] returns.
#[derive(Debug)]
pub struct AdjointResult<const D: usize> {
    /// A one-element tensor on the autodiff device: its value is the loss, and its gradient by
    /// `backward()` is the adjoint gradient in the field's trainable parameters, in `y₀` when
    /// `y₀` is tracked, and the loss's own gradient in any other parameter it uses directly.
    pub loss: Tensor<1>,
    /// The loss value.
    pub value: f64,
    /// The save times the loss saw.
    pub ts: Vec<f64>,
    /// The forward states at `ts`, on the plain (non-autodiff) device.
    pub ys: Vec<Tensor<D>>,
    /// `dL/dy₀`, shaped like `y₀`, on the plain device.
    pub grad_y0: Tensor<D>,
    /// `dL/dθ` for every trainable parameter of the field, summed over the batch, keyed by
    /// parameter id: ready for a burn optimiser's `step`.
    pub grads: GradientsParams,
    /// Counters of the forward solve.
    pub forward: Stats,
    /// Counters of the backward solve, summed over its segments (each evaluation is one `f` and
    /// one vector-Jacobian product).
    pub backward: Stats,
}

/// Solves `dy/dt = field(t, y)` from `y0` and differentiates `loss(y(t₁), …, y(t_N))` by the
/// continuous adjoint (see the [module documentation](self)).
///
/// - `field` is a burn [`Module`] whose trainable parameters live on an autodiff device; they are
///   found with burn's module visitor. Parameters that do not require gradients get none.
/// - The save times come from `options.save_at`: [`SaveAt::Times`] or [`SaveAt::T1`]; the
///   forward solve uses `options` otherwise unchanged (per-sample steps included). The backward
///   solve uses one shared step sequence and [`AdjointOptions::step`].
/// - `loss` receives the states at the save times, `[batch, ...]` each, on the autodiff device,
///   and returns a one-element tensor. It is called twice: on leaves that require gradients, to
///   get `∂L/∂y(tᵢ)`, and on constants, to build [`AdjointResult::loss`] (so parameters the loss
///   uses itself, such as a decoder's, get their gradients through the same `backward()`).
///
/// # Errors
/// [`Error::InvalidOption`] for invalid options or a loss that is not one element,
/// [`Error::Unsupported`] for [`SaveAt::Steps`], and every error of [`crate::solve`] from the
/// forward or the backward solve.
pub fn solve_adjoint<const D: usize, F, S, L>(
    field: &F,
    solver: &S,
    t_span: (f64, f64),
    y0: Tensor<D>,
    options: &SolveOptions,
    adjoint: &AdjointOptions,
    loss: L,
) -> Result<AdjointResult<D>>
where
    F: Module + VectorField<D>,
    S: Solver,
    L: Fn(&[Tensor<D>]) -> Tensor<1>,
{
    options.validate(t_span)?;
    let backward_options = backward_options(options, adjoint, t_span)?;
    let (t0, t1) = t_span;
    let user_times = match &options.save_at {
        SaveAt::T1 => vec![t1],
        SaveAt::Times(ts) => ts.clone(),
        SaveAt::Steps => {
            return Err(Error::Unsupported {
                solver: solver.name(),
                what: "SaveAt::Steps with the adjoint".into(),
                advice: "save at fixed times with SaveAt::Times, or backprop through solve".into(),
            });
        }
    };
    let stored = stored_times(&user_times, t_span, adjoint.checkpoints);

    // Forward: no graph, states at the stored times only.
    let plain_field = field.valid();
    let y0_plain = y0.clone().inner();
    let forward = solve(
        &plain_field,
        solver,
        t_span,
        y0_plain.clone(),
        &options.clone().save_at(SaveAt::Times(stored.clone())),
    )?;
    let at = |t: f64| {
        stored
            .iter()
            .position(|&s| s == t)
            .expect("every save time is stored")
    };
    let ys: Vec<Tensor<D>> = user_times
        .iter()
        .map(|&t| forward.ys[at(t)].clone())
        .collect();

    // Cotangents ∂L/∂y(tᵢ), summed over repeated save times.
    let leaves: Vec<Tensor<D>> = ys
        .iter()
        .map(|y| y.clone().autodiff().require_grad())
        .collect();
    let first = loss(&leaves);
    check_scalar(&first)?;
    let value = first.clone().into_scalar::<f64>();
    let mut cotangents: Vec<Option<Tensor<D>>> = vec![None; stored.len()];
    let mut cotangent_t0: Option<Tensor<D>> = None;
    if first.is_tracked() {
        let grads = first.backward();
        for (leaf, &t) in leaves.iter().zip(&user_times) {
            if let Some(g) = leaf.grad(&grads) {
                let slot = if t == t0 {
                    &mut cotangent_t0
                } else {
                    &mut cotangents[at(t)]
                };
                *slot = Some(match slot.take() {
                    Some(s) => s.add(g),
                    None => g,
                });
            }
        }
    }

    // Backward: [y, a, a_θ] from t1 to t0, segment by segment between stored times.
    let layout = ParamLayout::of(field);
    let packing = Packing::new(y0.dims(), layout.total());
    let augmented = Augmented {
        field,
        layout: &layout,
        packing: packing.clone(),
    };
    let device = y0_plain.device();
    let last = stored.len() - 1;
    let mut y = forward.ys[last].clone();
    let mut a = y0_plain.zeros_like();
    let mut a_theta =
        (layout.total() > 0).then(|| Tensor::<2>::zeros([1, layout.total()], &device));
    let mut backward = Stats::default();
    for j in (0..stored.len()).rev() {
        if let Some(g) = &cotangents[j] {
            a = a.add(g.clone());
        }
        if adjoint.checkpoints.is_some() {
            y = forward.ys[j].clone();
        }
        let t_start = stored[j];
        let t_end = if j == 0 { t0 } else { stored[j - 1] };
        if t_start == t_end {
            continue;
        }
        let z = packing.pack(y, a, a_theta);
        let segment = solve(&augmented, solver, (t_start, t_end), z, &backward_options)?;
        add_stats(&mut backward, &segment.stats);
        (y, a, a_theta) = packing.unpack(segment.last());
    }
    if let Some(g) = cotangent_t0 {
        a = a.add(g);
    }

    let grads = match &a_theta {
        Some(flat) => layout.unflatten(field, flat),
        None => GradientsParams::new(),
    };
    let surrogate = surrogate(field, &layout, &grads, &y0, &a, &loss, &ys);
    Ok(AdjointResult {
        loss: surrogate,
        value,
        ts: user_times,
        ys,
        grad_y0: a,
        grads,
        forward: forward.stats,
        backward,
    })
}

/// The options of every backward segment: the adjoint's (or the forward's) step control on one
/// shared step sequence, saving the end only.
fn backward_options(
    options: &SolveOptions,
    adjoint: &AdjointOptions,
    t_span: (f64, f64),
) -> Result<SolveOptions> {
    let backward = SolveOptions {
        step: adjoint.step.clone().unwrap_or_else(|| options.step.clone()),
        save_at: SaveAt::T1,
        batch: BatchMode::Shared,
        max_steps: options.max_steps,
    };
    backward.validate(t_span)?;
    Ok(backward)
}

/// The times the forward solve stores, in the direction of integration, without repeats: the
/// save times, `k` evenly spaced checkpoints and `t1`; `t0` only when it is a save time.
fn stored_times(user: &[f64], (t0, t1): (f64, f64), checkpoints: Option<usize>) -> Vec<f64> {
    let k = checkpoints.unwrap_or(0);
    let mut times: Vec<f64> = user.to_vec();
    times.extend((1..=k).map(|i| t0 + (t1 - t0) * i as f64 / (k + 1) as f64));
    times.push(t1);
    let direction = if t1 >= t0 { 1.0 } else { -1.0 };
    times.sort_by(|a, b| (a * direction).total_cmp(&(b * direction)));
    times.dedup();
    times
}

fn check_scalar(loss: &Tensor<1>) -> Result<()> {
    if loss.dims() != [1] {
        return Err(Error::option(
            "loss",
            format!("a tensor of shape {:?}", loss.dims()),
            "the loss closure must return a one-element tensor, e.g. `x.sum()` or `x.mean()`",
        ));
    }
    Ok(())
}

/// `L + (S - detach(S))` with `S = Σ_p sum(p ⊙ g_p) + sum(y₀ ⊙ g_y₀)`: the value of `L`, the
/// gradients `g` in the field's parameters and in a tracked `y₀`, plus whatever `L` itself
/// depends on.
fn surrogate<const D: usize, F: Module, L: Fn(&[Tensor<D>]) -> Tensor<1>>(
    field: &F,
    layout: &ParamLayout,
    grads: &GradientsParams,
    y0: &Tensor<D>,
    grad_y0: &Tensor<D>,
    loss: &L,
    ys: &[Tensor<D>],
) -> Tensor<1> {
    let constants: Vec<Tensor<D>> = ys.iter().map(|y| y.clone().autodiff()).collect();
    let value = loss(&constants);
    let mut pairing = layout.pairing(field, grads);
    if y0.is_tracked() {
        let term = y0.clone().mul(grad_y0.clone().autodiff()).sum();
        pairing = Some(match pairing {
            Some(p) => p.add(term),
            None => term,
        });
    }
    match pairing {
        Some(s) => value.add(s.clone().sub(s.detach())),
        None => value,
    }
}

fn add_stats(total: &mut Stats, part: &Stats) {
    total.nfe += part.nfe;
    total.steps += part.steps;
    total.accepted += part.accepted;
    total.rejected += part.rejected;
}
