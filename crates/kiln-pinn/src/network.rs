//! The trainable model of a PINN: a jet-capable network plus optional trainable coefficients
//! (PDE parameters of inverse problems, eigenvalues).

use burn::module::{Module, ModuleDisplay, Param};
use burn::tensor::{Device, Tensor};
use kiln_core::{Jet, Mlp, SecondOrder};

use crate::{Error, Result};

/// A network that maps coordinates to fields and carries input-derivative jets through itself.
pub trait JetNetwork: Module + ModuleDisplay + Clone + std::fmt::Debug {
    /// Number of input coordinates.
    fn input_size(&self) -> usize;

    /// Number of output fields.
    fn output_size(&self) -> usize;

    /// Evaluates the network.
    ///
    /// # Shapes
    /// `[batch, inputs] -> [batch, outputs]`
    fn forward(&self, x: Tensor<2>) -> Tensor<2>;

    /// Pushes a jet of (possibly transformed) coordinates through the network.
    fn forward_jet(&self, x: Jet) -> Jet;
}

impl JetNetwork for Mlp {
    fn input_size(&self) -> usize {
        self.inputs()
    }
    fn output_size(&self) -> usize {
        self.outputs()
    }
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        Mlp::forward(self, x)
    }
    fn forward_jet(&self, x: Jet) -> Jet {
        self.forward_jet_from(x)
    }
}

/// A PINN's trainable state: the network and, for inverse and eigenvalue problems, a vector of
/// trainable scalar coefficients.
#[derive(Module, Debug)]
pub struct Pinn<N: JetNetwork> {
    /// The field network.
    pub net: N,
    /// Trainable coefficients (a viscosity, an eigenvalue, ...), or `None`.
    pub coefficients: Option<Param<Tensor<1>>>,
}

impl<N: JetNetwork> Pinn<N> {
    /// A model without trainable coefficients.
    pub fn new(net: N) -> Self {
        Pinn {
            net,
            coefficients: None,
        }
    }

    /// A model whose coefficients start at `initial`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `initial` is empty or holds a non-finite value.
    pub fn with_coefficients(net: N, initial: &[f64], device: &Device) -> Result<Self> {
        if initial.is_empty() || initial.iter().any(|c| !c.is_finite()) {
            return Err(Error::config(
                "coefficients",
                format!("{initial:?}"),
                "give at least one finite initial value (or use Pinn::new)",
            ));
        }
        let t = kiln_core::tensor::from_f64(initial, [1, initial.len()], device)?
            .reshape([initial.len()]);
        Ok(Pinn {
            net,
            coefficients: Some(Param::from_tensor(t)),
        })
    }

    /// The current coefficient values (empty when there are none).
    pub fn coefficient_values(&self) -> Vec<f64> {
        self.coefficients
            .as_ref()
            .map(|c| kiln_core::tensor::to_f64_vec(c.val()))
            .unwrap_or_default()
    }

    /// The network's jet at `x`.
    ///
    /// # Shapes
    /// `x`: `[batch, inputs]`; the jet's value is `[batch, outputs]`.
    pub fn jet(&self, x: Tensor<2>, order: SecondOrder) -> Jet {
        self.net.forward_jet(Jet::input(x, order))
    }
}
