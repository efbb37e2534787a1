//! Where the residual is evaluated, adaptively: residual-based adaptive refinement (RAR, Lu et
//! al. 2021) adds the candidates with the largest residual to the collocation set; periodic
//! resampling redraws the collocation points every few Adam steps (and holds them fixed under
//! L-BFGS, whose line search needs one fixed function).

use std::sync::Arc;

use burn::tensor::Tensor;
use kiln_core::rng::Rng;
use kiln_core::train::Loss;

use crate::network::{JetNetwork, Pinn};
use crate::problem::combine;
use crate::train::{Cadence, Phase};
use crate::{Error, Geometry, Points, Problem, Result, Sampler};

/// |residual| at each point (the Euclidean norm over the equations).
///
/// # Errors
/// As [`Problem::residual_at`].
pub fn residual_magnitudes<N: JetNetwork>(
    problem: &Problem,
    model: &Pinn<N>,
    points: &Points,
) -> Result<Vec<f64>> {
    let r = problem.residual_at(model, points.to_tensor(problem.device())?)?;
    Ok(kiln_core::tensor::to_f64_vec(r.square().sum_dim(1).sqrt()))
}

/// Adds the `count` candidates with the largest residual to the problem's collocation points and
/// returns them.
///
/// # Errors
/// [`Error::InvalidConfig`] when `count` exceeds the candidates or the problem has no collocation
/// points yet; residual errors.
pub fn rar_refine<N: JetNetwork>(
    problem: &mut Problem,
    model: &Pinn<N>,
    candidates: &Points,
    count: usize,
) -> Result<Points> {
    if count > candidates.len() {
        return Err(Error::config(
            "count",
            count,
            format!("only {} candidates were given", candidates.len()),
        ));
    }
    let Some(current) = problem.collocation().cloned() else {
        return Err(Error::config(
            "collocation",
            "none",
            "RAR adds to existing collocation points; set them first",
        ));
    };
    let magnitudes = residual_magnitudes(problem, model, candidates)?;
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| magnitudes[b].total_cmp(&magnitudes[a]));
    let mut chosen = Points::empty(candidates.dim());
    for &i in order.iter().take(count) {
        chosen.push(candidates.row(i));
    }
    let mut all = current;
    all.extend(&chosen);
    problem.set_collocation(all)?;
    Ok(chosen)
}

/// Redraws `n` interior collocation points of a geometry every `every` Adam steps.
#[derive(Debug, Clone)]
pub struct PeriodicResampler {
    geometry: Arc<dyn Geometry>,
    n: usize,
    sampler: Sampler,
    cadence: Cadence,
    rng: Rng,
    current: Option<Tensor<2>>,
}

impl PeriodicResampler {
    /// Resamples `n` interior points of `geometry` with `sampler` every `every` Adam steps.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `n == 0` or `every == 0`.
    pub fn new(
        geometry: Arc<dyn Geometry>,
        n: usize,
        sampler: Sampler,
        every: usize,
        seed: u64,
    ) -> Result<Self> {
        if n == 0 || every == 0 {
            return Err(Error::config(
                "n/every",
                format!("{n}/{every}"),
                "resample at least one point at least every step",
            ));
        }
        Ok(PeriodicResampler {
            geometry,
            n,
            sampler,
            cadence: Cadence::new(every),
            rng: Rng::new(seed),
            current: None,
        })
    }

    /// The points in use (after the first loss call).
    pub fn current(&self) -> Option<&Tensor<2>> {
        self.current.as_ref()
    }

    /// The problem's loss with the residual on the resampler's points; draws new points every
    /// `every` Adam calls, never under L-BFGS.
    ///
    /// # Errors
    /// Sampling and [`Problem::terms`] errors.
    pub fn loss<N: JetNetwork>(
        &mut self,
        problem: &Problem,
        model: &Pinn<N>,
        phase: Phase,
    ) -> Result<Loss> {
        if self.cadence.tick(phase) || self.current.is_none() {
            let points = self
                .geometry
                .sample_interior(self.n, self.sampler, &mut self.rng)?;
            self.current = Some(points.to_tensor(problem.device())?);
        }
        combine(problem.terms_at(model, self.current.clone())?, None)
    }
}
