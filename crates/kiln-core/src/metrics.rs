//! Error metrics between predictions and targets: MSE, relative Lp (per sample, then averaged,
//! as neuraloperator's `LpLoss`), and max absolute error.
//!
//! All functions work on the first axis as the sample axis: a `[batch, ...]` tensor holds `batch`
//! samples, each flattened. They return tensors so they can serve as differentiable losses; use
//! [`crate::tensor::scalar`] to read the number.

use burn::tensor::Tensor;

use crate::{Error, Result};

fn same_shape<const D: usize>(pred: &Tensor<D>, target: &Tensor<D>, context: &str) -> Result<()> {
    if pred.dims() != target.dims() {
        return Err(Error::ShapeMismatch {
            context: context.to_string(),
            expected: format!("{:?} (the prediction's shape)", pred.dims()),
            found: target.dims().to_vec(),
        });
    }
    Ok(())
}

fn per_sample<const D: usize>(t: Tensor<D>) -> Tensor<2> {
    let batch = t.dims()[0];
    t.reshape([batch as i64, -1])
}

/// Mean squared error over all elements. Returns a one-element tensor.
///
/// # Errors
/// [`Error::ShapeMismatch`] when the shapes differ.
pub fn mse<const D: usize>(pred: Tensor<D>, target: Tensor<D>) -> Result<Tensor<1>> {
    same_shape(&pred, &target, "mse")?;
    Ok((pred - target).square().mean())
}

/// Relative Lp error ‖pred − target‖ₚ / ‖target‖ₚ per sample, averaged over the samples.
/// Returns a one-element tensor.
///
/// # Errors
/// [`Error::ShapeMismatch`] when the shapes differ; [`Error::InvalidConfig`] for `p < 1`.
pub fn relative_lp<const D: usize>(
    pred: Tensor<D>,
    target: Tensor<D>,
    p: f64,
) -> Result<Tensor<1>> {
    same_shape(&pred, &target, "relative_lp")?;
    if p.is_nan() || p < 1.0 {
        return Err(Error::config(
            "p",
            p,
            "the Lp norm needs p >= 1 (use 2 for the relative L2 error)",
        ));
    }
    let diff = per_sample(pred - target.clone());
    let target = per_sample(target);
    let norm = |t: Tensor<2>| t.abs().powf_scalar(p).sum_dim(1).powf_scalar(1.0 / p);
    Ok((norm(diff) / norm(target)).mean())
}

/// Relative L2 error per sample, averaged over the samples.
///
/// # Errors
/// As [`relative_lp`].
pub fn relative_l2<const D: usize>(pred: Tensor<D>, target: Tensor<D>) -> Result<Tensor<1>> {
    relative_lp(pred, target, 2.0)
}

/// Absolute Lp error ‖pred − target‖ₚ per sample, averaged over the samples.
///
/// # Errors
/// As [`relative_lp`].
pub fn lp<const D: usize>(pred: Tensor<D>, target: Tensor<D>, p: f64) -> Result<Tensor<1>> {
    same_shape(&pred, &target, "lp")?;
    if p.is_nan() || p < 1.0 {
        return Err(Error::config("p", p, "the Lp norm needs p >= 1"));
    }
    let diff = per_sample(pred - target);
    Ok(diff
        .abs()
        .powf_scalar(p)
        .sum_dim(1)
        .powf_scalar(1.0 / p)
        .mean())
}

/// Largest absolute difference. Returns a one-element tensor.
///
/// # Errors
/// [`Error::ShapeMismatch`] when the shapes differ.
pub fn max_abs_error<const D: usize>(pred: Tensor<D>, target: Tensor<D>) -> Result<Tensor<1>> {
    same_shape(&pred, &target, "max_abs_error")?;
    Ok((pred - target).abs().max())
}

/// Relative L2 error ‖pred − truth‖₂ / ‖truth‖₂ of values already on the host (one sample).
///
/// # Errors
/// [`Error::ShapeMismatch`] when the lengths differ.
pub fn relative_l2_values(pred: &[f64], truth: &[f64]) -> Result<f64> {
    if pred.len() != truth.len() {
        return Err(Error::ShapeMismatch {
            context: "relative_l2_values".into(),
            expected: format!("{} values (the prediction's length)", pred.len()),
            found: vec![truth.len()],
        });
    }
    let num: f64 = pred.iter().zip(truth).map(|(p, t)| (p - t).powi(2)).sum();
    let den: f64 = truth.iter().map(|t| t * t).sum();
    Ok((num / den).sqrt())
}
