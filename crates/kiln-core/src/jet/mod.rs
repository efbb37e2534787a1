//! Jets: a field's value together with its derivatives with respect to the field's inputs.
//!
//! burn has no double backward, so a PINN cannot ask autodiff for u_xx and then differentiate a
//! loss built from it. Instead the input derivatives travel *forward* through the network with
//! ordinary tensor ops (forward-mode Taylor propagation to second order); reverse-mode autodiff
//! then differentiates any loss built from them with respect to the parameters.
//!
//! A [`Jet`] over `n` inputs and a batch of `B` points with `w` features stores one tensor of
//! shape `[K, B, w]`: slot 0 is the value, slots `1..=n` the first derivatives ∂/∂xᵢ, and the
//! remaining slots the second derivatives chosen by [`SecondOrder`]. Keeping everything in one
//! tensor lets a linear layer push all slots through a single matmul.

mod activation;
mod fourier;

pub use activation::Activation;
pub use fourier::{FourierFeatures, FourierFeaturesConfig};

use burn::nn::Linear;
use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Which second derivatives a [`Jet`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum SecondOrder {
    /// First derivatives only.
    #[default]
    None,
    /// The diagonal ∂²/∂xᵢ² (enough for Laplacians and heat/wave operators).
    Diagonal,
    /// The full symmetric Hessian ∂²/∂xᵢ∂xⱼ, stored as its upper triangle.
    Full,
}

impl SecondOrder {
    /// How many second-derivative slots a jet over `n` inputs carries.
    pub fn slots(self, n: usize) -> usize {
        match self {
            SecondOrder::None => 0,
            SecondOrder::Diagonal => n,
            SecondOrder::Full => n * (n + 1) / 2,
        }
    }

    /// The (i, j) pairs of the second-derivative slots, in storage order.
    fn pairs(self, n: usize) -> Vec<(usize, usize)> {
        match self {
            SecondOrder::None => Vec::new(),
            SecondOrder::Diagonal => (0..n).map(|i| (i, i)).collect(),
            SecondOrder::Full => (0..n).flat_map(|i| (i..n).map(move |j| (i, j))).collect(),
        }
    }
}

/// A batch of field values with their input derivatives; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Jet {
    stack: Tensor<3>,
    inputs: usize,
    order: SecondOrder,
}

impl Jet {
    /// The jet of the input coordinates themselves: ∂xᵢ/∂xⱼ = δᵢⱼ, all second derivatives zero.
    ///
    /// # Shapes
    /// `x`: `[batch, inputs]`.
    pub fn input(x: Tensor<2>, order: SecondOrder) -> Self {
        let [batch, n] = x.dims();
        let device = x.device();
        let eye = Tensor::<2>::eye(n, &device)
            .unsqueeze_dim::<3>(1)
            .expand([n, batch, n]);
        let mut slots = vec![x.unsqueeze_dim::<3>(0), eye];
        let second = order.slots(n);
        if second > 0 {
            slots.push(Tensor::zeros([second, batch, n], &device));
        }
        Jet {
            stack: Tensor::cat(slots, 0),
            inputs: n,
            order,
        }
    }

    /// Builds a jet from its parts, checking that the shapes agree.
    ///
    /// # Shapes
    /// `value`: `[batch, w]`; `gradient`: `[inputs, batch, w]`; `second`: `[slots, batch, w]` with
    /// `slots = order.slots(inputs)`, or `None` when `order` is [`SecondOrder::None`].
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the parts disagree.
    pub fn from_parts(
        value: Tensor<2>,
        gradient: Tensor<3>,
        second: Option<Tensor<3>>,
        order: SecondOrder,
    ) -> Result<Self> {
        let [batch, width] = value.dims();
        let [n, gb, gw] = gradient.dims();
        if (gb, gw) != (batch, width) {
            return Err(Error::ShapeMismatch {
                context: "Jet::from_parts gradient".into(),
                expected: format!("[inputs, {batch}, {width}]"),
                found: vec![n, gb, gw],
            });
        }
        let slots = order.slots(n);
        let mut parts = vec![value.unsqueeze_dim::<3>(0), gradient];
        match (second, slots) {
            (None, 0) => {}
            (Some(s), _) if s.dims() == [slots, batch, width] => parts.push(s),
            (s, _) => {
                return Err(Error::ShapeMismatch {
                    context: format!("Jet::from_parts second derivatives ({order:?})"),
                    expected: format!("[{slots}, {batch}, {width}]"),
                    found: s.map(|s| s.dims().to_vec()).unwrap_or_default(),
                });
            }
        }
        Ok(Jet {
            stack: Tensor::cat(parts, 0),
            inputs: n,
            order,
        })
    }

    /// Number of input coordinates the derivatives are taken with respect to.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Which second derivatives are carried.
    pub fn order(&self) -> SecondOrder {
        self.order
    }

    /// `[batch, width]` of the value.
    pub fn dims(&self) -> [usize; 2] {
        let [_, batch, width] = self.stack.dims();
        [batch, width]
    }

    /// The field values. Shape `[batch, width]`.
    pub fn value(&self) -> Tensor<2> {
        self.slot(0)
    }

    /// ∂/∂xᵢ of the field. Shape `[batch, width]`.
    ///
    /// # Panics
    /// If `i >= self.inputs()` (a programming error, like indexing past a slice).
    pub fn d(&self, i: usize) -> Tensor<2> {
        assert!(
            i < self.inputs,
            "input index {i} out of range for a jet over {} inputs",
            self.inputs
        );
        self.slot(1 + i)
    }

    /// All first derivatives. Shape `[inputs, batch, width]`.
    pub fn gradient(&self) -> Tensor<3> {
        self.stack.clone().narrow(0, 1, self.inputs)
    }

    /// ∂²/∂xᵢ∂xⱼ of the field, or `None` when the jet does not carry it.
    /// Shape `[batch, width]`.
    pub fn d2(&self, i: usize, j: usize) -> Option<Tensor<2>> {
        let (i, j) = (i.min(j), i.max(j));
        if j >= self.inputs {
            return None;
        }
        let index = self
            .order
            .pairs(self.inputs)
            .iter()
            .position(|&p| p == (i, j))?;
        Some(self.slot(1 + self.inputs + index))
    }

    /// The second-derivative slots in storage order, or `None` for first-order jets.
    /// Shape `[slots, batch, width]`.
    pub fn second(&self) -> Option<Tensor<3>> {
        let slots = self.order.slots(self.inputs);
        (slots > 0).then(|| self.stack.clone().narrow(0, 1 + self.inputs, slots))
    }

    /// The Laplacian Σᵢ ∂²/∂xᵢ², or `None` for first-order jets. Shape `[batch, width]`.
    pub fn laplacian(&self) -> Option<Tensor<2>> {
        self.laplacian_over(&(0..self.inputs).collect::<Vec<_>>())
    }

    /// Σ ∂²/∂xᵢ² over the given inputs only (e.g. the spatial ones of a space-time field).
    pub fn laplacian_over(&self, inputs: &[usize]) -> Option<Tensor<2>> {
        inputs
            .iter()
            .map(|&i| self.d2(i, i))
            .reduce(|acc, term| Some(acc? + term?))?
    }

    /// Keeps only output feature `k`, as a jet of width one.
    pub fn component(&self, k: usize) -> Jet {
        Jet {
            stack: self.stack.clone().narrow(2, k, 1),
            inputs: self.inputs,
            order: self.order,
        }
    }

    /// The whole `[slots, batch, width]` stack: value, first, then second derivatives.
    pub fn into_stack(self) -> Tensor<3> {
        self.stack
    }

    fn slot(&self, k: usize) -> Tensor<2> {
        self.stack.clone().narrow(0, k, 1).squeeze_dim::<2>(0)
    }

    /// Pushes the jet through a linear layer: every slot is multiplied by the weight, and the bias
    /// is added to the value only.
    pub fn linear(self, layer: &Linear) -> Jet {
        let weight = layer.weight.val();
        let mut jet = self.matmul(weight);
        if let Some(bias) = &layer.bias {
            let [slots, _, out] = jet.stack.dims();
            let device = jet.stack.device();
            let mut mask = vec![0.0f32; slots];
            mask[0] = 1.0;
            let mask = Tensor::<3>::from_data(TensorData::new(mask, [slots, 1, 1]), &device);
            jet.stack = jet.stack + mask * bias.val().reshape([1, 1, out]);
        }
        jet
    }

    /// Applies an activation element-wise, with the chain rule
    /// (σ(z))ᵢ = σ′zᵢ and (σ(z))ᵢⱼ = σ″zᵢzⱼ + σ′zᵢⱼ.
    pub fn activate(self, activation: Activation) -> Jet {
        let z = self.value();
        let d = activation.derivatives(z, self.order != SecondOrder::None);
        self.compose(d.value, d.first, d.second)
    }

    /// Applies an element-wise function given its value, first and second derivative at the jet's
    /// value (all `[batch, width]`). `second` may be `None` only for first-order jets.
    ///
    /// # Panics
    /// If `second` is `None` while the jet carries second derivatives.
    pub(crate) fn compose(
        self,
        value: Tensor<2>,
        first: Tensor<2>,
        second: Option<Tensor<2>>,
    ) -> Jet {
        let n = self.inputs;
        let grad = self.gradient();
        let first3 = first.unsqueeze_dim::<3>(0);
        let mut slots = vec![value.unsqueeze_dim::<3>(0), grad.clone() * first3.clone()];
        if let Some(old_second) = self.second() {
            let second = second
                .expect("second derivative of the element-wise map is required")
                .unsqueeze_dim::<3>(0);
            let products = match self.order {
                SecondOrder::None => unreachable!("first-order jets have no second slots"),
                SecondOrder::Diagonal => grad.clone().square(),
                SecondOrder::Full => {
                    let (left, right): (Vec<_>, Vec<_>) = self
                        .order
                        .pairs(n)
                        .into_iter()
                        .map(|(i, j)| (i as i64, j as i64))
                        .unzip();
                    let device = grad.device();
                    let left =
                        Tensor::<1, Int>::from_data(TensorData::from(left.as_slice()), &device);
                    let right =
                        Tensor::<1, Int>::from_data(TensorData::from(right.as_slice()), &device);
                    grad.clone().select(0, left) * grad.select(0, right)
                }
            };
            slots.push(products * second + old_second * first3);
        }
        Jet {
            stack: Tensor::cat(slots, 0),
            inputs: n,
            order: self.order,
        }
    }

    /// Multiplies every slot by a `[width, out]` matrix (a linear map without bias).
    pub fn matmul(self, weight: Tensor<2>) -> Jet {
        let [slots, batch, width] = self.stack.dims();
        let [_, out] = weight.dims();
        let stack = self
            .stack
            .reshape([slots * batch, width])
            .matmul(weight)
            .reshape([slots, batch, out]);
        Jet { stack, ..self }
    }

    /// Concatenates jets over the same inputs and batch along the feature axis.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the jets differ in inputs, order or batch; also for no jets.
    pub fn concat(jets: Vec<Jet>) -> Result<Jet> {
        let Some(first) = jets.first() else {
            return Err(Error::ShapeMismatch {
                context: "Jet::concat".into(),
                expected: "at least one jet".into(),
                found: vec![],
            });
        };
        let (inputs, order, [slots, batch, _]) = (first.inputs, first.order, first.stack.dims());
        if let Some(bad) = jets.iter().find(|j| {
            let [s, b, _] = j.stack.dims();
            j.inputs != inputs || j.order != order || (s, b) != (slots, batch)
        }) {
            return Err(Error::ShapeMismatch {
                context: format!("Jet::concat (jets over {inputs} inputs, {order:?})"),
                expected: format!("[{slots}, {batch}, _]"),
                found: bad.stack.dims().to_vec(),
            });
        }
        Ok(Jet {
            stack: Tensor::cat(jets.into_iter().map(|j| j.stack).collect(), 2),
            inputs,
            order,
        })
    }

    /// Multiplies the field (and so every derivative) by a constant.
    pub fn mul_scalar(self, factor: f64) -> Jet {
        Jet {
            stack: self.stack.mul_scalar(factor),
            ..self
        }
    }

    /// Adds two jets over the same inputs (a residual connection).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the stacks differ in shape.
    pub fn try_add(self, other: Jet) -> Result<Jet> {
        if self.stack.dims() != other.stack.dims() || self.order != other.order {
            return Err(Error::ShapeMismatch {
                context: "Jet::try_add".into(),
                expected: format!("{:?} ({:?})", self.stack.dims(), self.order),
                found: other.stack.dims().to_vec(),
            });
        }
        Ok(Jet {
            stack: self.stack + other.stack,
            ..self
        })
    }
}
