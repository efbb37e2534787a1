//! The equation: a vector field `f(t, y)` on burn tensors, and the time it is evaluated at.

use burn::tensor::{Device, Tensor, TensorData};

/// The time at which a vector field is evaluated.
///
/// With one shared step sequence the whole batch sits at one time; with independent per-sample
/// steps (see [`crate::BatchMode::PerSample`]) every sample has its own.
// A tensor handle is larger than an f64, but times are built once per stage; boxing would only
// add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Time {
    /// One time for the whole batch.
    Shared(f64),
    /// One time per sample, shape `[batch]`.
    PerSample(Tensor<1>),
}

impl Time {
    /// The shared time, or `None` when samples have their own times.
    pub fn shared(&self) -> Option<f64> {
        match self {
            Time::Shared(t) => Some(*t),
            Time::PerSample(_) => None,
        }
    }

    /// The time as a tensor shaped to broadcast against a state shaped like `like`:
    /// `[batch, 1, ..., 1]`. A shared time is repeated over the batch.
    ///
    /// # Shapes
    /// `like: [batch, ...] -> [batch, 1, ..., 1]`
    pub fn broadcast<const D: usize>(&self, like: &Tensor<D>) -> Tensor<D> {
        let batch = like.dims()[0];
        let mut shape = [1usize; D];
        shape[0] = batch;
        match self {
            Time::Shared(t) => {
                Tensor::from_data(TensorData::new(vec![*t; batch], shape), &like.device())
            }
            Time::PerSample(t) => t.clone().reshape(shape),
        }
    }

    /// A per-sample time tensor from host values.
    pub(crate) fn per_sample(values: &[f64], device: &Device) -> Self {
        Time::PerSample(Tensor::from_data(
            TensorData::new(values.to_vec(), [values.len()]),
            device,
        ))
    }
}

/// A vector field `dy/dt = f(t, y)` on a state of shape `[batch, ...]`.
///
/// Implemented for closures `Fn(&Time, &Tensor<D>) -> Tensor<D>`; models implement it on
/// their own types. The field must return a tensor of the state's shape and, for independent
/// per-sample steps and for implicit solvers' Jacobians, act on each sample (row) separately.
pub trait VectorField<const D: usize> {
    /// `f(t, y)`.
    ///
    /// # Shapes
    /// `y: [batch, ...] -> [batch, ...]`
    fn eval(&self, t: &Time, y: &Tensor<D>) -> Tensor<D>;
}

impl<F, const D: usize> VectorField<D> for F
where
    F: Fn(&Time, &Tensor<D>) -> Tensor<D>,
{
    fn eval(&self, t: &Time, y: &Tensor<D>) -> Tensor<D> {
        self(t, y)
    }
}
