//! Small conversions between burn tensors and plain Rust values, whatever the device's dtype.

use burn::tensor::{Device, Tensor, TensorData};

use crate::{Error, Result};

/// The elements of a tensor as `f64`, converted from whatever float dtype the device uses.
pub fn to_f64_vec<const D: usize>(tensor: Tensor<D>) -> Vec<f64> {
    tensor.into_data().iter::<f64>().collect()
}

/// A scalar (one-element) tensor as `f64`.
pub fn scalar<const D: usize>(tensor: Tensor<D>) -> f64 {
    tensor.into_scalar::<f64>()
}

/// A `[rows, cols]` tensor from row-major `f64` values, in the device's float dtype.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `values.len() != rows * cols`.
pub fn from_f64(values: &[f64], shape: [usize; 2], device: &Device) -> Result<Tensor<2>> {
    if values.len() != shape[0] * shape[1] {
        return Err(Error::ShapeMismatch {
            context: "tensor::from_f64".into(),
            expected: format!("{} values for shape {shape:?}", shape[0] * shape[1]),
            found: vec![values.len()],
        });
    }
    Ok(Tensor::from_data(
        TensorData::new(values.to_vec(), shape),
        device,
    ))
}

/// `n` evenly spaced points from `start` to `end` inclusive, as a `[n, 1]` column.
pub fn linspace(start: f64, end: f64, n: usize, device: &Device) -> Tensor<2> {
    let step = if n > 1 {
        (end - start) / (n - 1) as f64
    } else {
        0.0
    };
    let values: Vec<f64> = (0..n).map(|i| start + step * i as f64).collect();
    Tensor::from_data(TensorData::new(values, [n, 1]), device)
}

/// Checks that a tensor has the expected shape, naming where the check happened.
///
/// # Errors
/// [`Error::ShapeMismatch`] when the shapes differ.
pub fn check_shape<const D: usize>(
    tensor: &Tensor<D>,
    expected: [usize; D],
    context: &str,
) -> Result<()> {
    let found = tensor.dims();
    if found != expected {
        return Err(Error::ShapeMismatch {
            context: context.to_string(),
            expected: format!("{expected:?}"),
            found: found.to_vec(),
        });
    }
    Ok(())
}
