//! Jets: a field's value together with its derivatives with respect to the field's inputs.
//!
//! burn has no double backward, so a PINN cannot ask autodiff for u_xx and then differentiate a
//! loss built from it. Instead the input derivatives travel *forward* through the network with
//! ordinary tensor ops (forward-mode Taylor propagation to second order); reverse-mode autodiff
//! then differentiates any loss built from them with respect to the parameters.
//!
//! A [`Jet`] over `n` inputs and a batch of `B` points with `w` features holds `K` slots of
//! shape `[B, w]`: slot 0 is the value, slots `1..=n` the first derivatives ∂/∂xᵢ, and the
//! remaining slots the second derivatives chosen by [`SecondOrder`]; [`Jet::into_stack`] returns
//! them as one `[K, B, w]` tensor. Internally the value, the first and the second derivatives
//! are three separate tensors: the value is the only slot a bias or a nonlinearity treats
//! differently, and keeping it apart means no layer has to slice it out of (or splice it back
//! into) a stacked tensor, whose backward passes would copy the whole stack each time.

mod activation;
mod fourier;
mod tanh;

pub use activation::Activation;
pub use fourier::{FourierFeatures, FourierFeaturesConfig};

use burn::nn::Linear;
use burn::tensor::Tensor;
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
    /// `[batch, width]`.
    value: Tensor<2>,
    /// `[inputs, batch, width]`.
    gradient: Tensor<3>,
    /// `[order.slots(inputs), batch, width]`; `None` exactly when there are no such slots.
    second: Option<Tensor<3>>,
    inputs: usize,
    order: SecondOrder,
}

/// Multiplies every `[batch, width]` slot of a `[slots, batch, width]` tensor by `weight`.
fn matmul_slots(t: Tensor<3>, weight: Tensor<2>) -> Tensor<3> {
    let [slots, batch, width] = t.dims();
    let [_, out] = weight.dims();
    t.reshape([slots * batch, width])
        .matmul(weight)
        .reshape([slots, batch, out])
}

impl Jet {
    /// The jet of the input coordinates themselves: ∂xᵢ/∂xⱼ = δᵢⱼ, all second derivatives zero.
    ///
    /// # Shapes
    /// `x`: `[batch, inputs]`.
    pub fn input(x: Tensor<2>, order: SecondOrder) -> Self {
        let [batch, n] = x.dims();
        let device = x.device();
        let gradient = Tensor::<2>::eye(n, &device)
            .unsqueeze_dim::<3>(1)
            .expand([n, batch, n]);
        let second = order.slots(n);
        Jet {
            value: x,
            gradient,
            second: (second > 0).then(|| Tensor::zeros([second, batch, n], &device)),
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
        let second = match (second, slots) {
            (None, 0) => None,
            (Some(s), _) if s.dims() == [slots, batch, width] => (slots > 0).then_some(s),
            (s, _) => {
                return Err(Error::ShapeMismatch {
                    context: format!("Jet::from_parts second derivatives ({order:?})"),
                    expected: format!("[{slots}, {batch}, {width}]"),
                    found: s.map(|s| s.dims().to_vec()).unwrap_or_default(),
                });
            }
        };
        Ok(Jet {
            value,
            gradient,
            second,
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
        self.value.dims()
    }

    /// `[slots, batch, width]` of [`Jet::into_stack`].
    fn stack_dims(&self) -> [usize; 3] {
        let [batch, width] = self.dims();
        [
            1 + self.inputs + self.order.slots(self.inputs),
            batch,
            width,
        ]
    }

    /// The field values. Shape `[batch, width]`.
    pub fn value(&self) -> Tensor<2> {
        self.value.clone()
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
        self.gradient.clone().narrow(0, i, 1).squeeze_dim::<2>(0)
    }

    /// All first derivatives. Shape `[inputs, batch, width]`.
    pub fn gradient(&self) -> Tensor<3> {
        self.gradient.clone()
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
        let second = self.second.clone()?;
        Some(second.narrow(0, index, 1).squeeze_dim::<2>(0))
    }

    /// The second-derivative slots in storage order, or `None` for first-order jets.
    /// Shape `[slots, batch, width]`.
    pub fn second(&self) -> Option<Tensor<3>> {
        self.second.clone()
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
            value: self.value.clone().narrow(1, k, 1),
            gradient: self.gradient.clone().narrow(2, k, 1),
            second: self.second.clone().map(|s| s.narrow(2, k, 1)),
            inputs: self.inputs,
            order: self.order,
        }
    }

    /// The whole `[slots, batch, width]` stack: value, first, then second derivatives.
    pub fn into_stack(self) -> Tensor<3> {
        let mut parts = vec![self.value.unsqueeze_dim::<3>(0), self.gradient];
        parts.extend(self.second);
        Tensor::cat(parts, 0)
    }

    /// Pushes the jet through a linear layer: every slot is multiplied by the weight, and the bias
    /// is added to the value only.
    pub fn linear(self, layer: &Linear) -> Jet {
        let mut jet = self.matmul(layer.weight.val());
        if let Some(bias) = &layer.bias {
            jet.value = jet.value + bias.val().unsqueeze_dim::<2>(0);
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
        let grad = self.gradient;
        let first3 = first.unsqueeze_dim::<3>(0);
        let new_second = self.second.map(|old_second| {
            let second = second
                .expect("second derivative of the element-wise map is required")
                .unsqueeze_dim::<3>(0);
            let products = match self.order {
                SecondOrder::None => unreachable!("first-order jets have no second slots"),
                SecondOrder::Diagonal => grad.clone().square(),
                SecondOrder::Full => {
                    // Rows (i, j >= i) of the upper triangle, in storage order.
                    let rows = (0..n)
                        .map(|i| grad.clone().narrow(0, i, 1) * grad.clone().narrow(0, i, n - i))
                        .collect();
                    Tensor::cat(rows, 0)
                }
            };
            products * second + old_second * first3.clone()
        });
        Jet {
            value,
            gradient: grad * first3,
            second: new_second,
            inputs: n,
            order: self.order,
        }
    }

    /// Multiplies every slot by a `[width, out]` matrix (a linear map without bias).
    pub fn matmul(self, weight: Tensor<2>) -> Jet {
        Jet {
            value: self.value.matmul(weight.clone()),
            gradient: matmul_slots(self.gradient, weight.clone()),
            second: self.second.map(|s| matmul_slots(s, weight)),
            ..self
        }
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
        let (inputs, order, [slots, batch, _]) = (first.inputs, first.order, first.stack_dims());
        if let Some(bad) = jets.iter().find(|j| {
            let [s, b, _] = j.stack_dims();
            j.inputs != inputs || j.order != order || (s, b) != (slots, batch)
        }) {
            return Err(Error::ShapeMismatch {
                context: format!("Jet::concat (jets over {inputs} inputs, {order:?})"),
                expected: format!("[{slots}, {batch}, _]"),
                found: bad.stack_dims().to_vec(),
            });
        }
        let mut values = Vec::with_capacity(jets.len());
        let mut gradients = Vec::with_capacity(jets.len());
        let mut seconds = Vec::with_capacity(jets.len());
        for j in jets {
            values.push(j.value);
            gradients.push(j.gradient);
            seconds.extend(j.second);
        }
        Ok(Jet {
            value: Tensor::cat(values, 1),
            gradient: Tensor::cat(gradients, 2),
            second: (!seconds.is_empty()).then(|| Tensor::cat(seconds, 2)),
            inputs,
            order,
        })
    }

    /// Multiplies the field (and so every derivative) by a constant.
    pub fn mul_scalar(self, factor: f64) -> Jet {
        Jet {
            value: self.value.mul_scalar(factor),
            gradient: self.gradient.mul_scalar(factor),
            second: self.second.map(|s| s.mul_scalar(factor)),
            ..self
        }
    }

    /// Adds two jets over the same inputs (a residual connection).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the stacks differ in shape.
    pub fn try_add(self, other: Jet) -> Result<Jet> {
        if self.stack_dims() != other.stack_dims()
            || self.inputs != other.inputs
            || self.order != other.order
        {
            return Err(Error::ShapeMismatch {
                context: "Jet::try_add".into(),
                expected: format!("{:?} ({:?})", self.stack_dims(), self.order),
                found: other.stack_dims().to_vec(),
            });
        }
        Ok(Jet {
            value: self.value + other.value,
            gradient: self.gradient + other.gradient,
            second: match (self.second, other.second) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            },
            inputs: self.inputs,
            order: self.order,
        })
    }
}
