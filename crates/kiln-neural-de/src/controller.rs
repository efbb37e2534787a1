//! Step-size control: the PI controller (accept or reject a step and pick the next size from the
//! error norm alone; it never sees the solver) and Hairer's automatic initial step.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A proportional-integral step-size controller on the RMS error norm
/// `‖err / (atol + rtol max(|y₀|, |y₁|))‖`.
///
/// A step is accepted when the norm is at most 1. The next step is
/// `h · clamp(safety · err^-(1/k - 0.75 β) · err_prev^β, min_factor, max_factor)` with `k` the
/// error estimate's order plus one (Hairer, Nørsett and Wanner I, II.4; Gustafsson). `beta = 0`
/// is the plain integral controller of torchdiffeq and diffrax's default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PidController {
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Safety factor on the optimal step.
    pub safety: f64,
    /// Smallest factor by which a step may shrink.
    pub min_factor: f64,
    /// Largest factor by which a step may grow.
    pub max_factor: f64,
    /// Weight of the previous error (the PI part); Hairer's DOPRI5 uses 0.04.
    pub beta: f64,
    /// First step; `None` picks one with Hairer's rule.
    pub dt0: Option<f64>,
    /// Smallest step size before the solve fails with `StepSizeTooSmall`.
    pub dt_min: f64,
    /// Largest step size.
    pub dt_max: f64,
}

impl PidController {
    /// A controller with tolerances `rtol`, `atol` and Hairer's defaults (safety 0.9, factors
    /// 0.2 to 10, β = 0.04).
    pub fn new(rtol: f64, atol: f64) -> Self {
        Self {
            rtol,
            atol,
            safety: 0.9,
            min_factor: 0.2,
            max_factor: 10.0,
            beta: 0.04,
            dt0: None,
            dt_min: 0.0,
            dt_max: f64::INFINITY,
        }
    }

    /// Sets the PI coefficient β (0 for a pure integral controller).
    pub fn with_beta(mut self, beta: f64) -> Self {
        self.beta = beta;
        self
    }

    /// Sets the first step size.
    pub fn with_dt0(mut self, dt0: f64) -> Self {
        self.dt0 = Some(dt0);
        self
    }

    /// Sets the smallest allowed step size.
    pub fn with_dt_min(mut self, dt_min: f64) -> Self {
        self.dt_min = dt_min;
        self
    }

    /// Sets the largest allowed step size.
    pub fn with_dt_max(mut self, dt_max: f64) -> Self {
        self.dt_max = dt_max;
        self
    }

    /// Sets the safety factor.
    pub fn with_safety(mut self, safety: f64) -> Self {
        self.safety = safety;
        self
    }

    /// Sets the bounds on the step-size factor.
    pub fn with_factors(mut self, min_factor: f64, max_factor: f64) -> Self {
        self.min_factor = min_factor;
        self.max_factor = max_factor;
        self
    }

    /// Checks every field, naming the first bad one.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a non-positive or non-finite tolerance, a safety factor
    /// outside (0, 1], factors that do not bracket 1, or inconsistent step bounds.
    pub fn validate(&self) -> Result<()> {
        let positive = |x: f64| x.is_finite() && x >= 0.0;
        if !positive(self.rtol) || !positive(self.atol) || self.rtol + self.atol == 0.0 {
            return Err(Error::option(
                "rtol/atol",
                format!("{}/{}", self.rtol, self.atol),
                "tolerances must be finite, non-negative and not both zero (e.g. 1e-6/1e-9)",
            ));
        }
        if !(self.safety > 0.0 && self.safety <= 1.0) {
            return Err(Error::option(
                "safety",
                self.safety,
                "use a value in (0, 1], e.g. 0.9",
            ));
        }
        if !(self.min_factor > 0.0 && self.min_factor < 1.0 && self.max_factor > 1.0) {
            return Err(Error::option(
                "min_factor/max_factor",
                format!("{}/{}", self.min_factor, self.max_factor),
                "need 0 < min_factor < 1 < max_factor, e.g. 0.2 and 10",
            ));
        }
        if !(self.beta >= 0.0 && self.beta < 0.2) {
            return Err(Error::option(
                "beta",
                self.beta,
                "use 0 (integral) to about 0.1",
            ));
        }
        if let Some(dt0) = self.dt0
            && !(dt0.is_finite() && dt0 > 0.0)
        {
            return Err(Error::option(
                "dt0",
                dt0,
                "give a positive step size or None",
            ));
        }
        if !(self.dt_min >= 0.0 && self.dt_max > self.dt_min) {
            return Err(Error::option(
                "dt_min/dt_max",
                format!("{}/{}", self.dt_min, self.dt_max),
                "need 0 <= dt_min < dt_max",
            ));
        }
        Ok(())
    }

    /// Whether a step with error norm `err` is accepted, and the factor for the next step.
    ///
    /// `k` is the order of the error estimate plus one; `err_prev` the norm of the last accepted
    /// step; `after_reject` caps growth right after a rejection.
    pub fn decide(&self, err: f64, err_prev: f64, k: usize, after_reject: bool) -> (bool, f64) {
        let k = k as f64;
        if !err.is_finite() {
            return (false, self.min_factor);
        }
        if err <= 1.0 {
            let factor = if err == 0.0 {
                self.max_factor
            } else {
                self.safety * err.powf(-(1.0 / k - 0.75 * self.beta)) * err_prev.powf(self.beta)
            };
            let max = if after_reject { 1.0 } else { self.max_factor };
            (true, factor.clamp(self.min_factor, max))
        } else {
            let factor = (self.safety * err.powf(-1.0 / k)).clamp(self.min_factor, 1.0);
            (false, factor)
        }
    }
}

impl PidController {
    /// The step to retry with after a rejection at `t` of the step `h_try` (error norm `err`,
    /// controller factor `factor`), or the failure when it falls below `dt_min` or below what
    /// `t`'s precision resolves: [`Error::NewtonFailed`] when the solver's stage iteration
    /// failed, [`Error::NonFinite`] for a non-finite error, else [`Error::StepSizeTooSmall`].
    pub(crate) fn retry(
        &self,
        t: f64,
        h_try: f64,
        factor: f64,
        err: f64,
        newton_failed: bool,
    ) -> Result<f64> {
        let h = h_try * factor;
        if h.abs() >= self.dt_min.max(8.0 * f64::EPSILON * t.abs()) {
            return Ok(h);
        }
        Err(if newton_failed {
            Error::NewtonFailed { t, dt: h_try.abs() }
        } else if err.is_finite() {
            Error::StepSizeTooSmall { t, dt: h.abs() }
        } else {
            Error::NonFinite { t }
        })
    }

    /// The step after an accepted step `h_try` grown by `factor`, capped at `dt_max`, with the
    /// sign of `h_try`.
    pub(crate) fn next(&self, h_try: f64, factor: f64) -> f64 {
        (h_try.abs() * factor).min(self.dt_max).copysign(h_try)
    }
}

/// Hairer's starting step from the norms `d0 = ‖y₀‖`, `d1 = ‖f₀‖` (scaled) and `d2 = ‖f(t₀+h₀,
/// y₀+h₀f₀) - f₀‖ / h₀` for a method of order `order` (Hairer, Nørsett and Wanner I, II.4).
pub(crate) fn hairer_h0(d0: f64, d1: f64) -> f64 {
    if d0 < 1e-5 || d1 < 1e-5 {
        1e-6
    } else {
        0.01 * d0 / d1
    }
}

/// Second half of Hairer's rule, given the trial step `h0` and `d1`, `d2`.
pub(crate) fn hairer_h1(h0: f64, d1: f64, d2: f64, order: usize) -> f64 {
    let h1 = if d1.max(d2) <= 1e-15 {
        (h0 * 1e-3).max(1e-6)
    } else {
        (0.01 / d1.max(d2)).powf(1.0 / (order as f64 + 1.0))
    };
    (100.0 * h0).min(h1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_below_one_and_shrinks_above() {
        let c = PidController::new(1e-6, 1e-9);
        let (ok, f) = c.decide(0.5, 1.0, 5, false);
        assert!(ok && f > 1.0);
        let (ok, f) = c.decide(4.0, 1.0, 5, false);
        assert!(!ok && f < 1.0 && f >= c.min_factor);
        let (ok, f) = c.decide(f64::NAN, 1.0, 5, false);
        assert!(!ok && f == c.min_factor);
        let (ok, f) = c.decide(1e-3, 1.0, 5, true);
        assert!(ok && f <= 1.0);
    }

    #[test]
    fn validation_names_the_field() {
        let e = PidController::new(-1.0, 1e-9).validate().unwrap_err();
        assert!(e.to_string().contains("rtol"));
        let e = PidController::new(1e-3, 1e-6)
            .with_factors(2.0, 10.0)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("min_factor"));
    }
}
