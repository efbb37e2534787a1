//! The latent ODE with an ODE-RNN encoder (Rubanova, Chen and Duvenaud 2019) for irregularly
//! sampled time series with missing values: the encoder runs backwards in time, evolving its
//! hidden state by an ODE between observation times and updating it with a GRU cell at each
//! observation (values and their mask); the posterior `q(z₀) = N(μ, σ²)` starts a latent neural
//! ODE whose decoded states predict the series at any times (interpolation and forecasting).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use kiln_core::jet::Activation;

use super::{NeuralOde, NeuralOdeConfig};
use crate::options::SolveOptions;
use crate::solver::Solver;
use crate::{Error, solve};

/// Configuration of a [`LatentOde`].
#[derive(Config, Debug)]
pub struct LatentOdeConfig {
    /// Observed channels.
    pub observed: usize,
    /// Latent dimension.
    pub latent: usize,
    /// Hidden size of the ODE-RNN encoder.
    pub encoder: usize,
    /// Width of the hidden layers of the ODE networks.
    pub width: usize,
    /// Standard deviation of the Gaussian observation model.
    #[config(default = 0.1)]
    pub obs_std: f64,
}

impl LatentOdeConfig {
    /// Builds the model on `device`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a zero size or a non-positive observation scale.
    pub fn init(&self, device: &Device) -> crate::Result<LatentOde> {
        for (field, value) in [
            ("observed", self.observed),
            ("latent", self.latent),
            ("encoder", self.encoder),
            ("width", self.width),
        ] {
            if value == 0 {
                return Err(Error::option(field, 0, "must be at least 1"));
            }
        }
        if !(self.obs_std.is_finite() && self.obs_std > 0.0) {
            return Err(Error::option("obs_std", self.obs_std, "must be positive"));
        }
        let input = 2 * self.observed;
        let gate = |i: usize| LinearConfig::new(i, self.encoder).init(device);
        Ok(LatentOde {
            encoder_ode: NeuralOdeConfig::new(self.encoder, vec![self.width]).init(device)?,
            update: gate(input + self.encoder),
            reset: gate(input + self.encoder),
            candidate_x: gate(input),
            candidate_h: LinearConfig::new(self.encoder, self.encoder).init(device),
            posterior: LinearConfig::new(self.encoder, 2 * self.latent).init(device),
            dynamics: NeuralOdeConfig::new(self.latent, vec![self.width])
                .with_activation(Activation::Tanh)
                .init(device)?,
            decoder: LinearConfig::new(self.latent, self.observed).init(device),
            observed: self.observed,
            latent: self.latent,
            encoder: self.encoder,
            obs_std: self.obs_std,
        })
    }
}

/// A latent ODE with an ODE-RNN encoder; see the module documentation.
#[derive(Module, Debug)]
pub struct LatentOde {
    /// The encoder's hidden dynamics between observations.
    pub encoder_ode: NeuralOde,
    /// GRU update gate.
    pub update: Linear,
    /// GRU reset gate.
    pub reset: Linear,
    /// GRU candidate, input part.
    pub candidate_x: Linear,
    /// GRU candidate, hidden part.
    pub candidate_h: Linear,
    /// Encoder state to `(μ, log σ²)` of `z₀`.
    pub posterior: Linear,
    /// The latent dynamics.
    pub dynamics: NeuralOde,
    /// Latent state to observations.
    pub decoder: Linear,
    #[module(skip)]
    observed: usize,
    #[module(skip)]
    latent: usize,
    #[module(skip)]
    encoder: usize,
    #[module(skip)]
    obs_std: f64,
}

/// What [`LatentOde::forward`] returns.
#[derive(Debug, Clone)]
pub struct LatentOdeOutput {
    /// Decoded predictions at the output times, `[times, batch, observed]`.
    pub pred: Tensor<3>,
    /// Posterior mean of `z₀`, `[batch, latent]`.
    pub mean: Tensor<2>,
    /// Posterior log-variance of `z₀`, `[batch, latent]`.
    pub log_var: Tensor<2>,
}

impl LatentOde {
    /// One GRU step of the encoder, kept where a sample has no observation at this time.
    fn gru(&self, h: Tensor<2>, x: Tensor<2>, observed: Tensor<2>) -> Tensor<2> {
        let xh = Tensor::cat(vec![x.clone(), h.clone()], 1);
        let u = Activation::Sigmoid.forward(self.update.forward(xh.clone()));
        let r = Activation::Sigmoid.forward(self.reset.forward(xh));
        let n = self
            .candidate_x
            .forward(x)
            .add(r.mul(self.candidate_h.forward(h.clone())))
            .tanh();
        let updated = u.clone().mul(h.clone()).add(u.neg().add_scalar(1.0).mul(n));
        // observed: [batch, 1], 1 where any channel is observed.
        updated
            .mul(observed.clone())
            .add(h.mul(observed.neg().add_scalar(1.0)))
    }

    /// The ODE-RNN encoder: `(μ, log σ²)` of `z₀` from observations at `ts` (increasing).
    ///
    /// # Shapes
    /// `values`, `mask: [times, batch, observed]` (mask 1 where observed; values there, anything
    /// finite elsewhere) `-> ([batch, latent], [batch, latent])`
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for inconsistent shapes, and every error of [`crate::solve`].
    pub fn encode<S: Solver>(
        &self,
        ts: &[f64],
        values: Tensor<3>,
        mask: Tensor<3>,
        solver: &S,
        options: &SolveOptions,
    ) -> crate::Result<(Tensor<2>, Tensor<2>)> {
        let [times, batch, channels] = values.dims();
        if times != ts.len() || channels != self.observed || mask.dims() != values.dims() {
            return Err(Error::ShapeMismatch {
                context: "LatentOde::encode values and mask".into(),
                expected: format!("[{}, batch, {}] for both", ts.len(), self.observed),
                found: values.dims().to_vec(),
            });
        }
        let device = values.device();
        let values = values.mul(mask.clone());
        let mut h = Tensor::<2>::zeros([batch, self.encoder], &device);
        for i in (0..times).rev() {
            if i + 1 < times {
                // Evolve backwards from t_{i+1} to t_i.
                h = solve(&self.encoder_ode, solver, (ts[i + 1], ts[i]), h, options)?
                    .last()
                    .clone();
            }
            let m = mask.clone().narrow(0, i, 1).reshape([batch, channels]);
            let x = values.clone().narrow(0, i, 1).reshape([batch, channels]);
            let any = m.clone().max_dim(1);
            h = self.gru(h, Tensor::cat(vec![x, m], 1), any);
        }
        let out = self.posterior.forward(h);
        Ok((
            out.clone().narrow(1, 0, self.latent),
            out.narrow(1, self.latent, self.latent),
        ))
    }

    /// Encodes, draws `z₀ = μ + σ ε` (`ε = 0`: the posterior mean) and decodes at `ts_out`
    /// (starting at the first observation time).
    ///
    /// # Shapes
    /// `values`, `mask: [times, batch, observed]`, `eps: [batch, latent]`
    ///
    /// # Errors
    /// As [`LatentOde::encode`] and [`NeuralOde::forward`].
    #[allow(clippy::too_many_arguments)]
    pub fn forward<S: Solver>(
        &self,
        ts: &[f64],
        values: Tensor<3>,
        mask: Tensor<3>,
        ts_out: &[f64],
        eps: Option<Tensor<2>>,
        solver: &S,
        options: &SolveOptions,
    ) -> crate::Result<LatentOdeOutput> {
        let (mean, log_var) = self.encode(ts, values, mask, solver, options)?;
        let z0 = match eps {
            Some(eps) => mean
                .clone()
                .add(log_var.clone().mul_scalar(0.5).exp().mul(eps)),
            None => mean.clone(),
        };
        let z = self.dynamics.forward(z0, ts_out, solver, options)?;
        Ok(LatentOdeOutput {
            pred: self.decoder.forward(z),
            mean,
            log_var,
        })
    }

    /// The negative ELBO per observed value: masked Gaussian negative log-likelihood (without the
    /// constant) of `target` plus `kl_weight ×` KL(q(z₀) ‖ N(0, I)) per sample, divided by the
    /// number of observed values.
    ///
    /// # Shapes
    /// `target`, `mask: [times, batch, observed]` like `out.pred`
    pub fn loss(
        &self,
        out: &LatentOdeOutput,
        target: Tensor<3>,
        mask: Tensor<3>,
        kl_weight: f64,
    ) -> Tensor<1> {
        let count = mask.clone().sum().add_scalar(1e-12);
        let nll = out
            .pred
            .clone()
            .sub(target)
            .mul(mask)
            .square()
            .sum()
            .div_scalar(2.0 * self.obs_std * self.obs_std);
        let kl = out
            .mean
            .clone()
            .square()
            .add(out.log_var.clone().exp())
            .sub(out.log_var.clone())
            .sub_scalar(1.0)
            .sum()
            .mul_scalar(0.5 * kl_weight);
        nll.add(kl).div(count)
    }
}
