//! Learning-rate schedules: a pure function of the step, so a resumed run gets the same rates.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How the learning rate changes over a run of `total` steps, starting from the base rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// The base rate throughout.
    #[default]
    Constant,
    /// lr · γ^(step / every), decaying smoothly (DeepXDE's `inverse time`/exponential decay).
    Exponential {
        /// Factor per `every` steps, in (0, 1].
        gamma: f64,
        /// Steps over which the rate falls by `gamma`.
        every: usize,
    },
    /// Cosine annealing from the base rate to `min_lr` over the run.
    Cosine {
        /// Rate at the last step.
        min_lr: f64,
    },
    /// lr · γ^⌊step / every⌋: a staircase.
    Step {
        /// Factor applied at each stair, in (0, 1].
        gamma: f64,
        /// Steps per stair.
        every: usize,
    },
}

impl Schedule {
    /// Checks the schedule's parameters.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a factor outside (0, 1], a zero period or a negative `min_lr`.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Schedule::Constant => Ok(()),
            Schedule::Exponential { gamma, every } | Schedule::Step { gamma, every } => {
                if !(gamma > 0.0 && gamma <= 1.0) {
                    return Err(Error::config("schedule.gamma", gamma, "must lie in (0, 1]"));
                }
                if every == 0 {
                    return Err(Error::config(
                        "schedule.every",
                        every,
                        "must be at least 1 step",
                    ));
                }
                Ok(())
            }
            Schedule::Cosine { min_lr } => {
                if min_lr.is_nan() || min_lr < 0.0 {
                    return Err(Error::config("schedule.min_lr", min_lr, "must be >= 0"));
                }
                Ok(())
            }
        }
    }

    /// The rate at `step` (0-based) of a run of `total` steps with base rate `base`.
    pub fn lr(&self, base: f64, step: usize, total: usize) -> f64 {
        match *self {
            Schedule::Constant => base,
            Schedule::Exponential { gamma, every } => base * gamma.powf(step as f64 / every as f64),
            Schedule::Step { gamma, every } => base * gamma.powi((step / every) as i32),
            Schedule::Cosine { min_lr } => {
                let span = total.saturating_sub(1).max(1) as f64;
                let progress = (step as f64 / span).min(1.0);
                min_lr + 0.5 * (base - min_lr) * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_hit_their_closed_forms() {
        assert_eq!(Schedule::Constant.lr(0.1, 500, 1000), 0.1);
        let exp = Schedule::Exponential {
            gamma: 0.5,
            every: 100,
        };
        assert!((exp.lr(1.0, 200, 1000) - 0.25).abs() < 1e-12);
        assert!((exp.lr(1.0, 50, 1000) - 0.5f64.sqrt()).abs() < 1e-12);
        let stair = Schedule::Step {
            gamma: 0.1,
            every: 10,
        };
        assert!((stair.lr(1.0, 19, 100) - 0.1).abs() < 1e-12);
        assert!((stair.lr(1.0, 20, 100) - 0.01).abs() < 1e-12);
        let cos = Schedule::Cosine { min_lr: 0.0 };
        assert!((cos.lr(2.0, 0, 101) - 2.0).abs() < 1e-12);
        assert!((cos.lr(2.0, 50, 101) - 1.0).abs() < 1e-12);
        assert!(cos.lr(2.0, 100, 101).abs() < 1e-12);
    }

    #[test]
    fn invalid_schedules_are_rejected() {
        assert!(
            Schedule::Step {
                gamma: 1.5,
                every: 10
            }
            .validate()
            .is_err()
        );
        assert!(
            Schedule::Exponential {
                gamma: 0.5,
                every: 0
            }
            .validate()
            .is_err()
        );
        assert!(Schedule::Cosine { min_lr: -1.0 }.validate().is_err());
    }
}
