//! tanh of f32 tensors on the CPU backends, evaluated on the host by
//! [`vecmath::tanh_slice`](crate::vecmath::tanh_slice), a vectorised kernel within 4 ulp of libm.
//!
//! burn's CPU backends evaluate tanh one element at a time through libm (`tanhf`, which calls
//! `expm1f`): on a 2-64-64-64-1 MLP that was about a fifth of a training step, and copying the
//! values to the host and back costs far less. Other dtypes and devices keep burn's tanh.

use burn::tensor::{DType, Tensor, TensorData};

use crate::BackendKind;

/// Elements from which the host kernel pays: below, copying to the host and back and the extra
/// tie-back ops (a few µs each) cost more than libm's ~10 ns per element.
const HOST_MIN_ELEMENTS: usize = 4096;

/// Whether `z`'s tanh is computed by the host kernel: f32 on a CPU backend, and large enough.
fn on_host<const D: usize>(z: &Tensor<D>) -> bool {
    z.dtype() == DType::F32
        && z.shape().num_elements() >= HOST_MIN_ELEMENTS
        && crate::device::backend_of(&z.device()).is_some_and(BackendKind::is_cpu)
}

/// tanh(z) element-wise; on a tensor that autodiff tracks, its derivative is `1 - tanh²`.
///
/// A tracked `z` is evaluated off the graph and tied back through `δ = z - z̄` (z̄ the same
/// values as constants, so δ is exactly zero): `tanh z = t + (1 - t²) δ`.
pub(crate) fn tanh<const D: usize>(z: Tensor<D>) -> Tensor<D> {
    if !on_host(&z) {
        return z.tanh();
    }
    if !z.is_tracked() {
        return host(z, false).0;
    }
    let constant = z.clone().without_autodiff();
    let (t, d1) = host(constant.clone(), true);
    (z - constant) * d1.expect("asked for") + t
}

/// tanh and 1 - tanh² of an untracked tensor (on the host for f32 on a CPU backend).
pub(crate) fn tanh_and_derivative<const D: usize>(z: Tensor<D>) -> (Tensor<D>, Tensor<D>) {
    if !on_host(&z) {
        let t = z.tanh();
        let d1 = t.clone().square().neg().add_scalar(1.0);
        return (t, d1);
    }
    let (t, d1) = host(z, true);
    (t, d1.expect("asked for"))
}

fn host<const D: usize>(z: Tensor<D>, first: bool) -> (Tensor<D>, Option<Tensor<D>>) {
    let device = z.device();
    let shape = z.shape();
    let mut values: Vec<f32> = z
        .into_data()
        .try_into_vec()
        .expect("checked: the tensor holds f32 values");
    crate::vecmath::tanh_slice(&mut values);
    let derivative = first.then(|| values.iter().map(|t| 1.0 - t * t).collect::<Vec<f32>>());
    let t = Tensor::from_data(TensorData::new(values, shape.clone()), &device);
    let d1 = derivative.map(|d| Tensor::from_data(TensorData::new(d, shape), &device));
    (t, d1)
}
