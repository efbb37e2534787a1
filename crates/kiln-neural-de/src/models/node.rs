//! The neural ODE `dy/dt = f_θ(t, y)`: an MLP vector field, optionally time-dependent and on a
//! state augmented with zeros (augmented neural ODEs), integrated by the crate's solvers.

use burn::config::Config;
use burn::module::Module;
use burn::nn::Initializer;
use burn::tensor::{Device, Tensor};
use kiln_core::jet::{Activation, Jet, SecondOrder};
use kiln_core::{Mlp, MlpConfig};
use serde::{Deserialize, Serialize};

use super::JvpField;
use crate::adjoint::{AdjointOptions, AdjointResult, solve_adjoint};
use crate::options::{SaveAt, SolveOptions, Stats};
use crate::solver::Solver;
use crate::term::{Time, VectorField};
use crate::{Error, solve};

/// What the network sees of the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldInput {
    /// The state itself: `f(y) = MLP(y)`.
    Identity,
    /// The element-wise cube: `f(y) = MLP(y³)` (torchdiffeq's spiral demo).
    Cube,
}

/// Configuration of a [`NeuralOde`].
#[derive(Config, Debug)]
pub struct NeuralOdeConfig {
    /// Dimension of the observed state.
    pub state: usize,
    /// Hidden-layer widths of the MLP, e.g. `[50]`.
    pub hidden: Vec<usize>,
    /// Activation between hidden layers.
    #[config(default = "Activation::Tanh")]
    pub activation: Activation,
    /// Whether `t` is an extra input of the network (`f(t, y)` instead of `f(y)`).
    #[config(default = false)]
    pub time_dependent: bool,
    /// Extra zero-initialised state dimensions (augmented neural ODE); 0 for none.
    #[config(default = 0)]
    pub augment: usize,
    /// What the network sees of the state.
    #[config(default = "FieldInput::Identity")]
    pub input: FieldInput,
    /// Initialiser of the weights.
    #[config(default = "Initializer::XavierNormal { gain: 1.0 }")]
    pub initializer: Initializer,
    /// Start the biases at zero (as PyTorch demos that re-initialise their layers do).
    #[config(default = true)]
    pub zero_bias: bool,
}

impl NeuralOdeConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a zero state dimension or a zero hidden width.
    pub fn validate(&self) -> crate::Result<()> {
        if self.state == 0 {
            return Err(Error::option(
                "state",
                0,
                "the state needs at least one dimension",
            ));
        }
        if self.hidden.contains(&0) {
            return Err(Error::option(
                "hidden",
                format!("{:?}", self.hidden),
                "every hidden width must be at least 1",
            ));
        }
        Ok(())
    }

    /// Builds the model on `device` (an autodiff device to train it).
    ///
    /// # Errors
    /// As [`NeuralOdeConfig::validate`], and kiln-core's errors for the MLP.
    pub fn init(&self, device: &Device) -> crate::Result<NeuralOde> {
        self.validate()?;
        let width = self.state + self.augment;
        let mut sizes = vec![width + usize::from(self.time_dependent)];
        sizes.extend(&self.hidden);
        sizes.push(width);
        let mut mlp = MlpConfig::new(sizes)
            .with_activation(self.activation)
            .with_initializer(self.initializer.clone())
            .init(device)?;
        if self.zero_bias {
            for layer in &mut mlp.layers {
                layer.bias = layer
                    .bias
                    .take()
                    .map(|b| b.map(|tensor| tensor.zeros_like()));
            }
        }
        Ok(NeuralOde {
            mlp,
            state: self.state,
            augment: self.augment,
            time_dependent: self.time_dependent,
            input: self.input,
        })
    }
}

/// A neural ODE `dy/dt = f_θ(t, y)` on `[batch, state + augment]`.
///
/// It is itself the vector field ([`VectorField`] on the augmented state) and a burn
/// [`Module`], so [`crate::solve`] and [`crate::adjoint::solve_adjoint`] take it directly;
/// [`NeuralOde::forward`] and [`NeuralOde::forward_adjoint`] do the augmentation and slicing.
#[derive(Module, Debug)]
pub struct NeuralOde {
    /// The network.
    pub mlp: Mlp,
    #[module(skip)]
    state: usize,
    #[module(skip)]
    augment: usize,
    #[module(skip)]
    time_dependent: bool,
    #[module(skip)]
    input: FieldInput,
}

impl VectorField<2> for NeuralOde {
    fn eval(&self, t: &Time, y: &Tensor<2>) -> Tensor<2> {
        let x = match self.input {
            FieldInput::Identity => y.clone(),
            FieldInput::Cube => y.clone().square().mul(y.clone()),
        };
        let x = if self.time_dependent {
            Tensor::cat(vec![x, t.broadcast(y)], 1)
        } else {
            x
        };
        self.mlp.forward(x)
    }
}

impl JvpField for NeuralOde {
    fn eval_jvp(&self, t: &Time, y: &Tensor<2>, v: &Tensor<3>) -> (Tensor<2>, Tensor<3>) {
        let [m, batch, _] = v.dims();
        // The input and its derivative along each direction.
        let (x, dx) = match self.input {
            FieldInput::Identity => (y.clone(), v.clone()),
            FieldInput::Cube => {
                let y2 = y.clone().square();
                (
                    y2.clone().mul(y.clone()),
                    v.clone().mul(y2.mul_scalar(3.0).unsqueeze_dim::<3>(0)),
                )
            }
        };
        let (x, dx) = if self.time_dependent {
            let device = y.device();
            (
                Tensor::cat(vec![x, t.broadcast(y)], 1),
                Tensor::cat(vec![dx, Tensor::zeros([m, batch, 1], &device)], 2),
            )
        } else {
            (x, dx)
        };
        let jet = Jet::from_parts(x, dx, None, SecondOrder::None)
            .expect("the input jet's parts have matching shapes");
        let out = self.mlp.forward_jet_from(jet);
        (out.value(), out.gradient())
    }
}

impl NeuralOde {
    /// Dimension of the observed state.
    pub fn state(&self) -> usize {
        self.state
    }

    /// Dimension of the integrated (augmented) state.
    pub fn width(&self) -> usize {
        self.state + self.augment
    }

    /// `y0` padded with the augmented zeros, `[batch, state] -> [batch, state + augment]`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `y0` does not have `state` columns.
    pub fn augmented_initial(&self, y0: Tensor<2>) -> crate::Result<Tensor<2>> {
        let [batch, n] = y0.dims();
        if n != self.state {
            return Err(Error::ShapeMismatch {
                context: "NeuralOde initial state".into(),
                expected: format!("[batch, {}]", self.state),
                found: vec![batch, n],
            });
        }
        if self.augment == 0 {
            return Ok(y0);
        }
        let zeros = Tensor::zeros([batch, self.augment], &y0.device());
        Ok(Tensor::cat(vec![y0, zeros], 1))
    }

    /// The observed part of an augmented state, `[.., width] -> [.., state]`.
    pub fn observed<const D: usize>(&self, y: Tensor<D>) -> Tensor<D> {
        if self.augment == 0 {
            y
        } else {
            y.narrow(D - 1, 0, self.state)
        }
    }

    /// Solves from `y0` at `ts[0]` and returns the states at `ts` (the first is `y0`),
    /// differentiable by backprop on an autodiff device. `options` gives the step control and
    /// batch mode; its save policy is replaced by `ts`.
    ///
    /// # Shapes
    /// `y0: [batch, state] -> [times, batch, state]`
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for fewer than two times, and every error of [`crate::solve`].
    pub fn forward<S: Solver>(
        &self,
        y0: Tensor<2>,
        ts: &[f64],
        solver: &S,
        options: &SolveOptions,
    ) -> crate::Result<Tensor<3>> {
        Ok(self.forward_with_stats(y0, ts, solver, options)?.0)
    }

    /// [`NeuralOde::forward`] that also returns the solve's counters (NFE, steps).
    ///
    /// # Shapes
    /// `y0: [batch, state] -> [times, batch, state]`
    ///
    /// # Errors
    /// As [`NeuralOde::forward`].
    pub fn forward_with_stats<S: Solver>(
        &self,
        y0: Tensor<2>,
        ts: &[f64],
        solver: &S,
        options: &SolveOptions,
    ) -> crate::Result<(Tensor<3>, Stats)> {
        let span = span(ts)?;
        let z0 = self.augmented_initial(y0)?;
        let sol = solve(
            self,
            solver,
            span,
            z0,
            &options.clone().save_at(SaveAt::Times(ts.to_vec())),
        )?;
        Ok((self.observed(Tensor::stack(sol.ys, 0)), sol.stats))
    }

    /// As [`NeuralOde::forward`], with gradients by the continuous adjoint: `loss` receives the
    /// predictions `[times, batch, state]` and returns a one-element tensor; the result's `loss`
    /// back-propagates the adjoint gradient into the network's parameters (and into `y0` when
    /// it is tracked).
    ///
    /// # Errors
    /// As [`NeuralOde::forward`] and [`crate::adjoint::solve_adjoint`].
    pub fn forward_adjoint<S: Solver>(
        &self,
        y0: Tensor<2>,
        ts: &[f64],
        solver: &S,
        options: &SolveOptions,
        adjoint: &AdjointOptions,
        loss: impl Fn(Tensor<3>) -> Tensor<1>,
    ) -> crate::Result<AdjointResult<2>> {
        let span = span(ts)?;
        let z0 = self.augmented_initial(y0)?;
        solve_adjoint(
            self,
            solver,
            span,
            z0,
            &options.clone().save_at(SaveAt::Times(ts.to_vec())),
            adjoint,
            |ys| loss(self.observed(Tensor::stack(ys.to_vec(), 0))),
        )
    }
}

/// The interval of a sequence of save times.
fn span(ts: &[f64]) -> crate::Result<(f64, f64)> {
    match ts {
        [first, .., last] => Ok((*first, *last)),
        _ => Err(Error::option(
            "ts",
            format!("{ts:?}"),
            "give at least two times: the initial time and one output time",
        )),
    }
}
