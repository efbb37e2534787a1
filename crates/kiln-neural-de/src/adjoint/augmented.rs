//! The augmented system of the continuous adjoint, `z = [y, a, a_θ]` packed in one `[1, n]` row,
//! and its vector field `[f, -aᵀ ∂f/∂y, -aᵀ ∂f/∂θ]` with the vector-Jacobian products taken by
//! burn's autodiff.

use burn::module::Module;
use burn::tensor::Tensor;

use super::params::ParamLayout;
use crate::term::{Time, VectorField};

/// The packing of `[y, a, a_θ]` for a state shaped `shape` and `n_theta` parameters.
#[derive(Clone, Debug)]
pub(crate) struct Packing<const D: usize> {
    /// Shape of the state `[batch, ...]`.
    pub(crate) shape: [usize; D],
    /// Elements of the state.
    pub(crate) n_y: usize,
    /// Elements of the flat parameter vector.
    pub(crate) n_theta: usize,
}

impl<const D: usize> Packing<D> {
    pub(crate) fn new(shape: [usize; D], n_theta: usize) -> Self {
        Self {
            shape,
            n_y: shape.iter().product(),
            n_theta,
        }
    }

    /// `[y, a, a_θ]` as one `[1, 2 n_y + n_θ]` row (`a_θ` is left out when there are no
    /// parameters).
    pub(crate) fn pack(&self, y: Tensor<D>, a: Tensor<D>, a_theta: Option<Tensor<2>>) -> Tensor<2> {
        let mut parts = vec![y.reshape([1, self.n_y]), a.reshape([1, self.n_y])];
        parts.extend(a_theta);
        Tensor::cat(parts, 1)
    }

    /// The inverse of [`Packing::pack`].
    pub(crate) fn unpack(&self, z: &Tensor<2>) -> (Tensor<D>, Tensor<D>, Option<Tensor<2>>) {
        let y = z.clone().narrow(1, 0, self.n_y).reshape(self.shape);
        let a = z.clone().narrow(1, self.n_y, self.n_y).reshape(self.shape);
        let a_theta = (self.n_theta > 0).then(|| z.clone().narrow(1, 2 * self.n_y, self.n_theta));
        (y, a, a_theta)
    }
}

/// `d/dt [y, a, a_θ] = [f(t, y), -aᵀ ∂f/∂y, -aᵀ ∂f/∂θ]` for a field whose parameters live on an
/// autodiff device. Its state lives on the plain device; each evaluation runs `f` once on the
/// autodiff device and one backward pass for both products.
pub(crate) struct Augmented<'a, F, const D: usize> {
    pub(crate) field: &'a F,
    pub(crate) layout: &'a ParamLayout,
    pub(crate) packing: Packing<D>,
}

impl<F, const D: usize> VectorField<2> for Augmented<'_, F, D>
where
    F: Module + VectorField<D>,
{
    fn eval(&self, t: &Time, z: &Tensor<2>) -> Tensor<2> {
        let device = z.device();
        let (y, a, _) = self.packing.unpack(z);
        let y_ad = y.autodiff().require_grad();
        let f = self.field.eval(t, &y_ad);
        let product = f.clone().mul(a.clone()).sum();
        let f = f.inner();
        let (vjp_y, vjp_theta) = if product.is_tracked() {
            let grads = product.backward();
            let vjp_y = y_ad.grad(&grads).unwrap_or_else(|| a.zeros_like());
            (vjp_y, self.layout.flatten(self.field, &grads, &device))
        } else {
            // f depends neither on y nor on trainable parameters.
            let zeros = (self.packing.n_theta > 0)
                .then(|| Tensor::zeros([1, self.packing.n_theta], &device));
            (a.zeros_like(), zeros)
        };
        self.packing
            .pack(f, vjp_y.neg(), vjp_theta.map(Tensor::neg))
    }
}
