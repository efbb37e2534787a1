//! The neural controlled differential equation `dz = f_θ(z) dX(t)` (Kidger et al. 2020): a
//! hidden state driven by a control path through the observations, with a linear readout for
//! classification (from `z(t₁)`) or forecasting (at any times).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use kiln_core::jet::Activation;
use kiln_core::{Mlp, MlpConfig};

use crate::adjoint::{AdjointOptions, AdjointResult, solve_adjoint};
use crate::interpolate::ControlPath;
use crate::options::{BatchMode, SaveAt, SolveOptions, Stats};
use crate::solver::Solver;
use crate::term::{Time, VectorField};
use crate::{Error, solve};

/// Configuration of a [`NeuralCde`].
#[derive(Config, Debug)]
pub struct NeuralCdeConfig {
    /// Channels of the control path (include time as a channel, as usual).
    pub channels: usize,
    /// Dimension of the hidden state `z`.
    pub hidden: usize,
    /// Width of the hidden layers of both networks.
    pub width: usize,
    /// Outputs of the readout (1 for binary classification, classes, or forecast channels).
    pub outputs: usize,
    /// Hidden layers of both networks.
    #[config(default = 1)]
    pub depth: usize,
    /// Activation of both networks' hidden layers (the vector field ends in tanh).
    #[config(default = "Activation::Softplus")]
    pub activation: Activation,
}

impl NeuralCdeConfig {
    /// Builds the model on `device`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a zero size.
    pub fn init(&self, device: &Device) -> crate::Result<NeuralCde> {
        for (field, value) in [
            ("channels", self.channels),
            ("hidden", self.hidden),
            ("width", self.width),
            ("outputs", self.outputs),
        ] {
            if value == 0 {
                return Err(Error::option(field, 0, "must be at least 1"));
            }
        }
        let sizes = |input: usize, output: usize| {
            let mut s = vec![input];
            s.extend(std::iter::repeat_n(self.width, self.depth));
            s.push(output);
            s
        };
        Ok(NeuralCde {
            initial: MlpConfig::new(sizes(self.channels, self.hidden))
                .with_activation(self.activation)
                .init(device)?,
            field: MlpConfig::new(sizes(self.hidden, self.hidden * self.channels))
                .with_activation(self.activation)
                .init(device)?,
            readout: LinearConfig::new(self.hidden, self.outputs).init(device),
            hidden: self.hidden,
            channels: self.channels,
        })
    }
}

/// A neural CDE: `z(t₀) = ζ(X(t₀))`, `dz = tanh(f_θ(z)) dX`, output `ℓ(z)`.
#[derive(Module, Debug)]
pub struct NeuralCde {
    /// `ζ`: the initial hidden state from the first observation.
    pub initial: Mlp,
    /// `f_θ`: `[batch, hidden] -> [batch, hidden × channels]`.
    pub field: Mlp,
    /// `ℓ`: the linear readout.
    pub readout: Linear,
    #[module(skip)]
    hidden: usize,
    #[module(skip)]
    channels: usize,
}

/// The CDE as an ODE in time, `dz/dt = tanh(f_θ(z)) dX/dt`: a module (the network) with its
/// control path, so that [`crate::adjoint::solve_adjoint`] can take it.
#[derive(Module, Debug)]
struct Driven {
    field: Mlp,
    #[module(skip)]
    path: ControlPath,
    #[module(skip)]
    hidden: usize,
    #[module(skip)]
    channels: usize,
}

impl VectorField<2> for Driven {
    fn eval(&self, t: &Time, z: &Tensor<2>) -> Tensor<2> {
        let t = t
            .shared()
            .expect("NeuralCde solves on shared steps (set in NeuralCde::hidden_states)");
        let [batch, _] = z.dims();
        let f = self
            .field
            .forward(z.clone())
            .tanh()
            .reshape([batch, self.hidden, self.channels]);
        // The path is data: a constant on whichever device (plain or autodiff) z lives on.
        let dx = self.path.derivative(t);
        let dx = match (z.is_autodiff(), dx.is_autodiff()) {
            (true, false) => dx.autodiff(),
            (false, true) => dx.inner(),
            _ => dx,
        };
        f.matmul(dx.unsqueeze_dim::<3>(2))
            .reshape([batch, self.hidden])
    }
}

impl NeuralCde {
    fn driven(&self, path: &ControlPath) -> crate::Result<Driven> {
        let [batch, channels] = path.dims();
        if channels != self.channels {
            return Err(Error::ShapeMismatch {
                context: "NeuralCde control path".into(),
                expected: format!("[batch, {}] channels", self.channels),
                found: vec![batch, channels],
            });
        }
        Ok(Driven {
            field: self.field.clone(),
            path: path.clone(),
            hidden: self.hidden,
            channels: self.channels,
        })
    }

    /// `z(t₀) = ζ(X(t₀))`, the path's value taken as a constant on the model's device.
    fn initial_state(&self, path: &ControlPath) -> Tensor<2> {
        let x0 = path.evaluate(path.span().0);
        let x0 = match (self.readout.weight.val().is_autodiff(), x0.is_autodiff()) {
            (true, false) => x0.autodiff(),
            (false, true) => x0.inner(),
            _ => x0,
        };
        self.initial.forward(x0)
    }

    /// The hidden states at `ts` (inside the path's span; the first may be its start).
    /// `options` gives the step control; steps are shared by the batch.
    ///
    /// # Shapes
    /// `path: [batch, channels] -> [times, batch, hidden]`
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the path's channels differ from the model's, and every
    /// error of [`crate::solve`].
    pub fn hidden_states<S: Solver>(
        &self,
        path: &ControlPath,
        ts: &[f64],
        solver: &S,
        options: &SolveOptions,
    ) -> crate::Result<(Tensor<3>, Stats)> {
        let driven = self.driven(path)?;
        let span = path.span();
        let z0 = self.initial_state(path);
        let mut options = options.clone().save_at(SaveAt::Times(ts.to_vec()));
        options.batch = BatchMode::Shared;
        let sol = solve(
            &driven,
            solver,
            (span.0, ts.last().copied().unwrap_or(span.1)),
            z0,
            &options,
        )?;
        Ok((Tensor::stack(sol.ys, 0), sol.stats))
    }

    /// Classification head: the readout of `z(t₁)` at the path's end (logits).
    ///
    /// # Shapes
    /// `path: [batch, channels] -> [batch, outputs]`
    ///
    /// # Errors
    /// As [`NeuralCde::hidden_states`].
    pub fn classify<S: Solver>(
        &self,
        path: &ControlPath,
        solver: &S,
        options: &SolveOptions,
    ) -> crate::Result<(Tensor<2>, Stats)> {
        let (z, stats) = self.hidden_states(path, &[path.span().1], solver, options)?;
        let [_, batch, hidden] = z.dims();
        Ok((self.readout.forward(z.reshape([batch, hidden])), stats))
    }

    /// Classification with gradients by the continuous adjoint: `loss` receives the logits
    /// `[batch, outputs]` at the path's end and returns a one-element tensor; the result's `loss`
    /// back-propagates the adjoint gradient into the vector field, the initial network (through
    /// `z(t₀)`) and the readout.
    ///
    /// # Errors
    /// As [`NeuralCde::hidden_states`] and [`crate::adjoint::solve_adjoint`].
    pub fn classify_adjoint<S: Solver>(
        &self,
        path: &ControlPath,
        solver: &S,
        options: &SolveOptions,
        adjoint: &AdjointOptions,
        loss: impl Fn(Tensor<2>) -> Tensor<1>,
    ) -> crate::Result<AdjointResult<2>> {
        let driven = self.driven(path)?;
        let span = path.span();
        let mut options = options.clone().save_at(SaveAt::T1);
        options.batch = BatchMode::Shared;
        solve_adjoint(
            &driven,
            solver,
            span,
            self.initial_state(path),
            &options,
            adjoint,
            |ys| loss(self.readout.forward(ys[0].clone())),
        )
    }

    /// Forecasting head: the readout at the times `ts`.
    ///
    /// # Shapes
    /// `path: [batch, channels] -> [times, batch, outputs]`
    ///
    /// # Errors
    /// As [`NeuralCde::hidden_states`].
    pub fn forecast<S: Solver>(
        &self,
        path: &ControlPath,
        ts: &[f64],
        solver: &S,
        options: &SolveOptions,
    ) -> crate::Result<(Tensor<3>, Stats)> {
        let (z, stats) = self.hidden_states(path, ts, solver, options)?;
        Ok((self.readout.forward(z), stats))
    }
}
