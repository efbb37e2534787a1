//! One Runge-Kutta step on tensors, for a shared step or a step size per sample, and the
//! interpolant between its ends. Solvers produce [`RkStep`]s; the drivers in `solve` use them.

use burn::tensor::{Device, Tensor, TensorData};

use crate::tableau::{ButcherTableau, ErrorEstimator, dop853};
use crate::term::{Time, VectorField};

/// Where a step starts and how long it is: one time for the batch, or one per sample.
// The per-sample variant is larger, but clocks are built once per step attempt; boxing would
// only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Clock<const D: usize> {
    /// The whole batch at `t` with step `h` (negative when integrating backwards).
    Shared {
        /// Start of the step.
        t: f64,
        /// Signed step size.
        h: f64,
    },
    /// Sample `i` at `t[i]` with step `h[i]`; `h_tensor` is `h` shaped `[batch, 1, ..., 1]`.
    PerSample {
        /// Starts of the steps.
        t: Vec<f64>,
        /// Signed step sizes (zero for samples that have finished).
        h: Vec<f64>,
        /// `h` as a tensor that broadcasts against the state.
        h_tensor: Tensor<D>,
    },
}

impl<const D: usize> Clock<D> {
    /// A per-sample clock on `device`.
    pub fn per_sample(t: Vec<f64>, h: Vec<f64>, device: &Device) -> Self {
        let h_tensor = column::<D>(&h, device);
        Clock::PerSample { t, h, h_tensor }
    }

    /// The time `t + c h`.
    pub fn time_at(&self, c: f64, device: &Device) -> Time {
        match self {
            Clock::Shared { t, h } => Time::Shared(t + c * h),
            Clock::PerSample { t, h, .. } => {
                let values: Vec<f64> = t.iter().zip(h).map(|(t, h)| t + c * h).collect();
                Time::per_sample(&values, device)
            }
        }
    }

    /// `h x`.
    pub fn scale(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Clock::Shared { h, .. } => x.mul_scalar(*h),
            Clock::PerSample { h_tensor, .. } => x.mul(h_tensor.clone()),
        }
    }
}

/// Values shaped `[batch, 1, ..., 1]` to broadcast against a `[batch, ...]` state.
pub(crate) fn column<const D: usize>(values: &[f64], device: &Device) -> Tensor<D> {
    let mut shape = [1usize; D];
    shape[0] = values.len();
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

/// `Σ cᵢ xᵢ`, skipping zero coefficients; `None` when all are zero.
pub fn lincomb<const D: usize>(terms: &[(f64, &Tensor<D>)]) -> Option<Tensor<D>> {
    let mut sum: Option<Tensor<D>> = None;
    for (c, x) in terms {
        if *c == 0.0 {
            continue;
        }
        let term = if *c == 1.0 {
            (*x).clone()
        } else {
            (*x).clone().mul_scalar(*c)
        };
        sum = Some(match sum {
            Some(s) => s.add(term),
            None => term,
        });
    }
    sum
}

/// `y + h Σ cᵢ kᵢ`.
pub(crate) fn advance<const D: usize>(
    y: &Tensor<D>,
    clock: &Clock<D>,
    coefficients: &[f64],
    k: &[Tensor<D>],
) -> Tensor<D> {
    match clock {
        // Fold the shared step into the coefficients: one multiply per stage fewer.
        Clock::Shared { h, .. } => {
            let terms: Vec<(f64, &Tensor<D>)> = coefficients.iter().map(|c| c * h).zip(k).collect();
            match lincomb(&terms) {
                Some(sum) => y.clone().add(sum),
                None => y.clone(),
            }
        }
        Clock::PerSample { .. } => {
            let terms: Vec<(f64, &Tensor<D>)> = coefficients.iter().copied().zip(k).collect();
            match lincomb(&terms) {
                Some(sum) => y.clone().add(clock.scale(sum)),
                None => y.clone(),
            }
        }
    }
}

/// The local error estimate of a step, already multiplied by `h`.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum StepError<const D: usize> {
    /// The method has no estimate.
    None,
    /// One embedded estimate.
    Embedded(Tensor<D>),
    /// DOP853's 5th- and 3rd-order estimates.
    Dop853 {
        /// 5th-order estimate.
        e5: Tensor<D>,
        /// 3rd-order estimate.
        e3: Tensor<D>,
    },
    /// The step failed (e.g. Newton did not converge) and must be retried with a smaller step.
    Failed,
}

/// The result of one step from `y0`.
#[derive(Clone, Debug)]
pub struct RkStep<const D: usize> {
    /// State at the start.
    pub y0: Tensor<D>,
    /// State at the end.
    pub y1: Tensor<D>,
    /// Stages, then `f(t₁, y₁)`, then any extra dense-output stages.
    pub k: Vec<Tensor<D>>,
    /// Error estimate.
    pub error: StepError<D>,
}

impl<const D: usize> RkStep<D> {
    /// `f(t₁, y₁)`, which the next step reuses as its first stage.
    pub fn f1(&self, stages: usize) -> &Tensor<D> {
        &self.k[stages]
    }
}

/// One explicit Runge-Kutta step with `tableau`, starting from the cached `f0 = f(t₀, y₀)`.
pub(crate) fn explicit_step<const D: usize, F: VectorField<D>>(
    tableau: &ButcherTableau,
    field: &F,
    clock: &Clock<D>,
    y0: &Tensor<D>,
    f0: &Tensor<D>,
    nfe: &mut usize,
) -> RkStep<D> {
    let device = y0.device();
    let s = tableau.stages();
    let mut k: Vec<Tensor<D>> = Vec::with_capacity(s + 4);
    k.push(f0.clone());
    for i in 1..s {
        let yi = advance(y0, clock, &tableau.a[i], &k);
        k.push(field.eval(&clock.time_at(tableau.c[i], &device), &yi));
        *nfe += 1;
    }
    let y1 = advance(y0, clock, &tableau.b, &k);
    k.push(field.eval(&clock.time_at(1.0, &device), &y1));
    *nfe += 1;
    let error = match &tableau.error {
        ErrorEstimator::None => StepError::None,
        ErrorEstimator::Embedded { weights, .. } => {
            StepError::Embedded(weighted(clock, weights, &k, y0))
        }
        ErrorEstimator::Dop853 => StepError::Dop853 {
            e5: weighted(clock, &dop853::E5, &k, y0),
            e3: weighted(clock, &dop853::E3, &k, y0),
        },
    };
    RkStep {
        y0: y0.clone(),
        y1,
        k,
        error,
    }
}

/// `h Σ wᵢ kᵢ`, zero when all weights vanish.
fn weighted<const D: usize>(
    clock: &Clock<D>,
    weights: &[f64],
    k: &[Tensor<D>],
    like: &Tensor<D>,
) -> Tensor<D> {
    let terms: Vec<(f64, &Tensor<D>)> = weights.iter().copied().zip(k).collect();
    match lincomb(&terms) {
        Some(sum) => clock.scale(sum),
        None => like.zeros_like(),
    }
}

/// Adds DOP853's three dense-output stages to an accepted step (once).
pub(crate) fn dop853_extra_stages<const D: usize, F: VectorField<D>>(
    field: &F,
    clock: &Clock<D>,
    step: &mut RkStep<D>,
    nfe: &mut usize,
) {
    let device = step.y0.device();
    while step.k.len() < 16 {
        let i = step.k.len();
        let yi = advance(&step.y0, clock, dop853::A[i], &step.k);
        step.k
            .push(field.eval(&clock.time_at(dop853::C[i], &device), &yi));
        *nfe += 1;
    }
}

/// Where to evaluate the interpolant: one `θ` for the batch or one per sample.
pub(crate) enum Theta<'a> {
    Shared(f64),
    PerSample(&'a [f64]),
}

/// `y(t₀ + θ h) = y₀ + a (y₁ - y₀) + h Σ bᵢ(θ) kᵢ` from the weights `weights(θ) = (a, b)`.
pub(crate) fn interpolate<const D: usize>(
    step: &RkStep<D>,
    clock: &Clock<D>,
    theta: Theta<'_>,
    weights: impl Fn(f64) -> (f64, Vec<f64>),
) -> Tensor<D> {
    match theta {
        Theta::Shared(theta) => {
            let (a, b) = weights(theta);
            let base = if a == 0.0 {
                step.y0.clone()
            } else {
                step.y0
                    .clone()
                    .add(step.y1.clone().sub(step.y0.clone()).mul_scalar(a))
            };
            advance(&base, clock, &b, &step.k)
        }
        Theta::PerSample(thetas) => {
            let device = step.y0.device();
            let all: Vec<(f64, Vec<f64>)> = thetas.iter().map(|&t| weights(t)).collect();
            let a: Vec<f64> = all.iter().map(|(a, _)| *a).collect();
            let mut out = step.y0.clone().add(
                step.y1
                    .clone()
                    .sub(step.y0.clone())
                    .mul(column::<D>(&a, &device)),
            );
            let terms = all[0].1.len().min(step.k.len());
            let mut sum: Option<Tensor<D>> = None;
            for i in 0..terms {
                let bi: Vec<f64> = all.iter().map(|(_, b)| b[i]).collect();
                if bi.iter().all(|b| *b == 0.0) {
                    continue;
                }
                let term = step.k[i].clone().mul(column::<D>(&bi, &device));
                sum = Some(match sum {
                    Some(s) => s.add(term),
                    None => term,
                });
            }
            if let Some(sum) = sum {
                out = out.add(clock.scale(sum));
            }
            out
        }
    }
}
