//! Samplers for a score model under a forward SDE: the reverse SDE (Euler-Maruyama through
//! kiln-neural-de's `sde::solve`), predictor-corrector with Langevin MCMC, the probability-flow
//! ODE (any explicit Runge-Kutta method through kiln-neural-de's `solve`) and DDIM, a discrete
//! map on a time grid (deterministic for η = 0).

use burn::tensor::{Distribution, Tensor};
use kiln_core::rng::Rng;
use kiln_neural_de::sde::{
    self, DiagonalNoise, EulerMaruyama, SdeOptions, SdeTerm, VirtualBrownianTree,
};
use kiln_neural_de::{ExplicitRk, Solution, SolveOptions, Time, solve};

use super::dsm::ScoreModel;
use super::sde::ForwardSde;
use crate::{Error, Result};

/// The shared time of a solve step; samplers always solve on one shared step sequence.
fn shared(t: &Time) -> f64 {
    t.shared()
        .expect("the samplers solve with BatchMode::Shared")
}

fn check_span(steps: usize, t_end: f64) -> Result<()> {
    if steps == 0 {
        return Err(Error::config("steps", 0, "take at least one step"));
    }
    if !(t_end > 0.0 && t_end < 1.0) {
        return Err(Error::config(
            "t_end",
            t_end,
            "stop in (0, 1), e.g. 1e-3 (the score blows up at 0)",
        ));
    }
    Ok(())
}

/// Draws `[n, dim]` prior samples `N(0, prior_std² I)` on `x`'s device after seeding it.
pub fn prior_sample(
    sde: &ForwardSde,
    n: usize,
    dim: usize,
    seed: u64,
    device: &burn::tensor::Device,
) -> Tensor<2> {
    device.seed(seed);
    Tensor::random([n, dim], Distribution::Normal(0.0, sde.prior_std()), device)
}

/// Integrates the reverse-time SDE `dx = [f x - g² ∇log p_t] dt + g dW̄` from `t = 1` down to
/// `t_end` with `steps` Euler-Maruyama steps through `kiln_neural_de::sde::solve`, driven by a
/// seeded virtual Brownian tree.
///
/// # Shapes
/// `x1: [batch, dim]` -> `[batch, dim]`
///
/// # Errors
/// [`Error::InvalidConfig`] for zero steps or `t_end` outside (0, 1); the solver's errors.
pub fn reverse_sde<S: ScoreModel + ?Sized>(
    score: &S,
    sde: &ForwardSde,
    x1: Tensor<2>,
    steps: usize,
    t_end: f64,
    seed: u64,
) -> Result<Tensor<2>> {
    check_span(steps, t_end)?;
    sde.validate()?;
    let dt = (1.0 - t_end) / steps as f64;
    reverse_euler_maruyama(score, sde, x1, (1.0, t_end), dt, dt / 2.0, seed)
}

/// The Langevin corrector of predictor-corrector sampling: `steps` MCMC steps
/// `x ← x + ε ∇log p + √(2ε) z` with `ε = 2 (snr ‖z‖ / ‖∇log p‖)²` (norms averaged over the
/// batch; Song et al. use snr 0.16 for images).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Langevin {
    /// Corrector steps after each predictor step.
    pub steps: usize,
    /// The target signal-to-noise ratio.
    pub snr: f64,
}

/// Predictor-corrector sampling: each of `steps` reverse Euler-Maruyama steps (one
/// `kiln_neural_de::sde::solve` step on its own Brownian tree) is followed by the
/// [`Langevin`] corrector at the step's end time.
///
/// # Shapes
/// `x1: [batch, dim]` -> `[batch, dim]`
///
/// # Errors
/// As [`reverse_sde`], and [`Error::InvalidConfig`] for a non-positive `snr`.
pub fn predictor_corrector<S: ScoreModel + ?Sized>(
    score: &S,
    sde: &ForwardSde,
    x1: Tensor<2>,
    steps: usize,
    corrector: Langevin,
    t_end: f64,
    seed: u64,
) -> Result<Tensor<2>> {
    check_span(steps, t_end)?;
    let Langevin {
        steps: corrector_steps,
        snr,
    } = corrector;
    if !(snr > 0.0 && snr.is_finite()) {
        return Err(Error::config(
            "snr",
            snr,
            "the signal-to-noise ratio must be positive, e.g. 0.16",
        ));
    }
    let mut rng = Rng::new(seed);
    let device = x1.device();
    let dt = (1.0 - t_end) / steps as f64;
    let mut x = x1;
    for k in 0..steps {
        let t_hi = 1.0 - k as f64 * dt;
        let t_lo = (t_hi - dt).max(t_end);
        x = reverse_sde_interval(score, sde, x, (t_hi, t_lo), rng.next_u64())?;
        for _ in 0..corrector_steps {
            let grad = score.score(x.clone(), t_lo);
            device.seed(rng.next_u64());
            let z = x.random_like(Distribution::Normal(0.0, 1.0));
            let grad_norm = grad
                .clone()
                .square()
                .sum_dim(1)
                .sqrt()
                .mean()
                .into_scalar::<f64>();
            let noise_norm = z
                .clone()
                .square()
                .sum_dim(1)
                .sqrt()
                .mean()
                .into_scalar::<f64>();
            let eps = 2.0 * (snr * noise_norm / grad_norm.max(1e-12)).powi(2);
            x = x + grad.mul_scalar(eps) + z.mul_scalar((2.0 * eps).sqrt());
        }
    }
    Ok(x)
}

/// One Euler-Maruyama step of the reverse SDE over `(t_hi, t_lo)`.
fn reverse_sde_interval<S: ScoreModel + ?Sized>(
    score: &S,
    sde: &ForwardSde,
    x: Tensor<2>,
    (t_hi, t_lo): (f64, f64),
    seed: u64,
) -> Result<Tensor<2>> {
    let h = t_hi - t_lo;
    reverse_euler_maruyama(score, sde, x, (t_hi, t_lo), h, h, seed)
}

/// Euler-Maruyama steps of `dt` of the reverse SDE `dx = (f x - g² ∇log p) dt + g dw̄` from
/// `t_hi` down to `t_lo`, on a Brownian tree over the span resolved to `tolerance`.
fn reverse_euler_maruyama<S: ScoreModel + ?Sized>(
    score: &S,
    sde: &ForwardSde,
    x: Tensor<2>,
    (t_hi, t_lo): (f64, f64),
    dt: f64,
    tolerance: f64,
    seed: u64,
) -> Result<Tensor<2>> {
    let drift = |t: &Time, y: &Tensor<2>| {
        let t = shared(t);
        let (f, g) = sde.coefficients(t);
        y.clone().mul_scalar(f) - score.score(y.clone(), t).mul_scalar(g * g)
    };
    let diffusion = DiagonalNoise::new(|t: &Time, y: &Tensor<2>| {
        y.ones_like().mul_scalar(sde.coefficients(shared(t)).1)
    });
    let term = SdeTerm::ito(drift, diffusion).with_additive_noise();
    let brownian = VirtualBrownianTree::new((t_lo, t_hi), x.dims(), seed, tolerance)?;
    let solution = sde::solve(
        &term,
        &EulerMaruyama,
        (t_hi, t_lo),
        x,
        &brownian,
        &SdeOptions::fixed(dt),
    )?;
    Ok(solution.last().clone())
}

/// Integrates the probability-flow ODE `dx/dt = f x - ½ g² ∇log p_t(x)` from `t = 1` down to
/// `t_end` through `kiln_neural_de::solve` (Euler or Heun with `SolveOptions::fixed`, Dopri5
/// with `SolveOptions::adaptive`...).
///
/// # Shapes
/// `x1: [batch, dim]`; every saved state is `[batch, dim]`.
///
/// # Errors
/// As [`reverse_sde`] (steps aside); the solver's errors.
pub fn probability_flow<S: ScoreModel + ?Sized>(
    score: &S,
    sde: &ForwardSde,
    x1: Tensor<2>,
    t_end: f64,
    solver: &ExplicitRk,
    options: &SolveOptions,
) -> Result<Solution<2>> {
    check_span(1, t_end)?;
    sde.validate()?;
    let field = |t: &Time, y: &Tensor<2>| {
        let t = shared(t);
        let (f, g) = sde.coefficients(t);
        y.clone().mul_scalar(f) - score.score(y.clone(), t).mul_scalar(0.5 * g * g)
    };
    Ok(solve(&field, solver, (1.0, t_end), x1, &options.clone())?)
}

/// One DDIM update from noise level `(m, s)` to `(m', s')` given the predicted noise `ε̂`:
/// `x̂₀ = (x - s ε̂)/m`, `x' = m' x̂₀ + √(s'² - σ²) ε̂ + σ z` with
/// `σ = η s' √(1 - (m s' / (m' s))²)` (η = 0: deterministic DDIM, η = 1: DDPM's posterior).
///
/// # Shapes
/// `x, eps, z: [batch, dim]` -> `[batch, dim]`
pub fn ddim_update(
    x: Tensor<2>,
    eps: Tensor<2>,
    from: (f64, f64),
    to: (f64, f64),
    eta: f64,
    z: Option<Tensor<2>>,
) -> Tensor<2> {
    let ((m, s), (m1, s1)) = (from, to);
    let x0 = (x - eps.clone().mul_scalar(s)).mul_scalar(1.0 / m);
    let ratio = (m * s1) / (m1 * s);
    let sigma = eta * s1 * (1.0 - ratio * ratio).max(0.0).sqrt();
    let mut out = x0.mul_scalar(m1) + eps.mul_scalar((s1 * s1 - sigma * sigma).max(0.0).sqrt());
    if let Some(z) = z
        && sigma > 0.0
    {
        out = out + z.mul_scalar(sigma);
    }
    out
}

/// DDIM on the continuous process: `steps` updates on a uniform grid from `t = 1` to `t_end`,
/// with `ε̂ = -s(t) ∇log p_t`.
///
/// # Shapes
/// `x1: [batch, dim]` -> `[batch, dim]`
///
/// # Errors
/// As [`reverse_sde`], and [`Error::InvalidConfig`] for η outside `[0, 1]`.
pub fn ddim<S: ScoreModel + ?Sized>(
    score: &S,
    sde: &ForwardSde,
    x1: Tensor<2>,
    steps: usize,
    t_end: f64,
    eta: f64,
    seed: u64,
) -> Result<Tensor<2>> {
    check_span(steps, t_end)?;
    if !(0.0..=1.0).contains(&eta) {
        return Err(Error::config(
            "eta",
            eta,
            "η lies in [0, 1]: 0 is deterministic DDIM, 1 is DDPM",
        ));
    }
    let device = x1.device();
    let mut rng = Rng::new(seed);
    let mut x = x1;
    for k in 0..steps {
        let t = 1.0 - (1.0 - t_end) * k as f64 / steps as f64;
        let t1 = 1.0 - (1.0 - t_end) * (k + 1) as f64 / steps as f64;
        let (m, s) = sde.marginal(t);
        let eps = score.score(x.clone(), t).mul_scalar(-s);
        let z = (eta > 0.0).then(|| {
            device.seed(rng.next_u64());
            x.random_like(Distribution::Normal(0.0, 1.0))
        });
        x = ddim_update(x, eps, (m, s), sde.marginal(t1), eta, z);
    }
    Ok(x)
}

/// DDIM on a discrete DDPM schedule: `steps` updates on evenly spaced indices from `N` down to
/// 0, with the noise prediction `eps(x, k)` of the step index `k ∈ 1..=N` (η = 0:
/// deterministic DDIM, η = 1: DDPM's ancestral sampler on the sub-sequence).
///
/// # Shapes
/// `xn: [batch, dim]` -> `[batch, dim]`
///
/// # Errors
/// [`Error::InvalidConfig`] for zero steps, more steps than the schedule has, or η outside
/// `[0, 1]`.
pub fn ddim_discrete(
    eps: impl Fn(Tensor<2>, usize) -> Tensor<2>,
    schedule: &super::sde::DdpmSchedule,
    xn: Tensor<2>,
    steps: usize,
    eta: f64,
    seed: u64,
) -> Result<Tensor<2>> {
    let n = schedule.len();
    if steps == 0 || steps > n {
        return Err(Error::config(
            "steps",
            steps,
            &format!("take between 1 and {n} steps (the schedule's length)"),
        ));
    }
    if !(0.0..=1.0).contains(&eta) {
        return Err(Error::config(
            "eta",
            eta,
            "η lies in [0, 1]: 0 is deterministic DDIM, 1 is DDPM",
        ));
    }
    let device = xn.device();
    let mut rng = Rng::new(seed);
    // Indices N = k_0 > k_1 > ... > k_steps = 0, evenly spaced.
    let index = |i: usize| ((n as f64) * (steps - i) as f64 / steps as f64).round() as usize;
    let mut x = xn;
    for i in 0..steps {
        let (k, k1) = (index(i), index(i + 1));
        let e = eps(x.clone(), k);
        let z = (eta > 0.0).then(|| {
            device.seed(rng.next_u64());
            x.random_like(Distribution::Normal(0.0, 1.0))
        });
        x = ddim_update(x, e, schedule.marginal(k), schedule.marginal(k1), eta, z);
    }
    Ok(x)
}
