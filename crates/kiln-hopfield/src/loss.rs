//! CLOOB's contrastive loss (Fürst et al. 2022): InfoLOOB ("leave one out bound") on
//! embeddings that modern Hopfield networks have retrieved, for both modalities.
//!
//! For image embeddings `X` and text embeddings `Y` (rows, `[B, d]`), with
//! `hop(Q, S) = normalise_rows(softmax(β Q Sᵀ) S)` one Hopfield update of the queries `Q` from the
//! stored set `S`:
//!
//! - `U_x = hop(X, X)`, `V_x = hop(Y, X)` (images, and texts retrieving images),
//! - `U_y = hop(Y, Y)`, `V_y = hop(X, Y)` (texts, and images retrieving texts),
//! - `L = InfoLOOB(U_x, V_x) + InfoLOOB(U_y, V_y)`, where for anchors `a` and partners `b`
//!   `InfoLOOB(a, b) = τ · mean_i [ -τ⁻¹ aᵢᵀbᵢ + log Σ_{j≠i} exp(τ⁻¹ aᵢᵀbⱼ) ]`.
//!
//! Unlike InfoNCE, the positive pair is left out of the denominator, so the loss does not
//! saturate once positives dominate.

use burn::tensor::{Bool, Tensor};

use crate::modern::{self, Steps};
use crate::{Error, Result};

fn check_pair(a: &Tensor<2>, b: &Tensor<2>, context: &str) -> Result<()> {
    let [n, d] = a.dims();
    if n < 2 || d == 0 {
        return Err(Error::shape(
            context,
            "a batch [B, d] with B ≥ 2 (InfoLOOB leaves the positive out of at least one negative)",
            &a.dims(),
        ));
    }
    if b.dims() != [n, d] {
        return Err(Error::shape(
            context,
            format!("the second modality with the first's shape [{n}, {d}]"),
            &b.dims(),
        ));
    }
    Ok(())
}

fn check_positive(field: &'static str, value: f64) -> Result<()> {
    if value > 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(Error::config(
            field,
            value,
            "must be a positive finite number",
        ))
    }
}

/// The InfoLOOB bound of anchors `a` against partners `b` (row `i` of each is a positive
/// pair, every other row of `b` a negative), scaled by `τ` as in CLOOB (see the
/// [module docs](self)).
///
/// # Shapes
/// `a`, `b`: `[B, d]` → `[1]`.
///
/// # Errors
/// [`Error::ShapeMismatch`] unless both are `[B, d]` with `B ≥ 2`; [`Error::InvalidConfig`]
/// for `inv_tau ≤ 0`.
pub fn info_loob_bound(a: &Tensor<2>, b: &Tensor<2>, inv_tau: f64) -> Result<Tensor<1>> {
    check_positive("inv_tau", inv_tau)?;
    check_pair(a, b, "loss::info_loob_bound")?;
    let [n, _] = a.dims();
    let logits = a.clone().matmul(b.clone().transpose()).mul_scalar(inv_tau);
    let positives = (a.clone() * b.clone()).sum_dim(1).mul_scalar(inv_tau);
    let diagonal = Tensor::<2, Bool>::diag_mask([n, n], 0, &a.device()).bool_not();
    let negatives = logits.mask_fill(diagonal, f64::NEG_INFINITY);
    let max = negatives.clone().max_dim(1).detach();
    let lse = (negatives - max.clone()).exp().sum_dim(1).log() + max;
    Ok((lse - positives).mean().div_scalar(inv_tau))
}

/// Rows scaled to unit Euclidean norm.
fn normalise_rows(x: Tensor<2>) -> Tensor<2> {
    let norm = x.clone().square().sum_dim(1).sqrt().clamp_min(1e-12);
    x / norm
}

/// CLOOB's loss: Hopfield retrieval of both modalities (inverse temperature `beta`, one
/// update), row normalisation, then InfoLOOB with inverse temperature `inv_tau` for each
/// modality, summed (see the [module docs](self)).
///
/// # Shapes
/// `images`, `texts`: `[B, d]` (usually unit-norm embeddings) → `[1]`.
///
/// # Errors
/// [`Error::ShapeMismatch`] unless both are `[B, d]` with `B ≥ 2`; [`Error::InvalidConfig`]
/// for `inv_tau ≤ 0` or `beta ≤ 0`.
pub fn info_loob(
    images: &Tensor<2>,
    texts: &Tensor<2>,
    inv_tau: f64,
    beta: f64,
) -> Result<Tensor<1>> {
    check_positive("inv_tau", inv_tau)?;
    check_positive("beta", beta)?;
    check_pair(images, texts, "loss::info_loob")?;
    let hop = |queries: &Tensor<2>, stored: &Tensor<2>| -> Result<Tensor<2>> {
        let r = modern::retrieve(stored, queries, beta, Steps::Fixed(1))?;
        Ok(normalise_rows(r.states))
    };
    let (u_x, v_x) = (hop(images, images)?, hop(texts, images)?);
    let (u_y, v_y) = (hop(texts, texts)?, hop(images, texts)?);
    Ok(info_loob_bound(&u_x, &v_x, inv_tau)? + info_loob_bound(&u_y, &v_y, inv_tau)?)
}
