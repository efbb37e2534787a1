//! Explicit Runge-Kutta methods as data: Butcher tableaux, embedded error weights and dense output.

pub(crate) mod dop853;
mod tsit5;

use serde::{Deserialize, Serialize};

/// How a method estimates its local error.
#[derive(Clone, Debug, PartialEq)]
pub enum ErrorEstimator {
    /// No embedded method: fixed steps only.
    None,
    /// `err = h Σ wᵢ kᵢ` over the stages and, as the last weight, `f(t₁, y₁)`.
    Embedded {
        /// `s + 1` weights (difference of the two solutions' weights).
        weights: Vec<f64>,
        /// Order of the lower-order solution (the controller's exponent is `1 / (order + 1)`).
        order: usize,
    },
    /// DOP853's combined 5th- and 3rd-order estimate, `‖e₅‖² / sqrt(‖e₅‖² + 0.01 ‖e₃‖²)`,
    /// which behaves like an 8th-order estimate (Hairer, Nørsett and Wanner, II.10).
    Dop853,
}

/// How a method evaluates its solution between the ends of an accepted step.
#[derive(Clone, Debug, PartialEq)]
pub enum DenseOutput {
    /// Cubic Hermite interpolation from `y₀, y₁, f(t₀, y₀), f(t₁, y₁)` (3rd order).
    Hermite,
    /// `y(θ) = y₀ + h Σᵢ kᵢ Σⱼ P[i][j] θ^(j+1)` with rows for the stages and `f(t₁, y₁)`.
    Polynomial(Vec<Vec<f64>>),
    /// Tsitouras' 4th-order interpolant.
    Tsit5,
    /// DOP853's 7th-order interpolant with three extra stages.
    Dop853,
}

/// An explicit Runge-Kutta method: `kᵢ = f(t₀ + cᵢ h, y₀ + h Σⱼ aᵢⱼ kⱼ)`, `y₁ = y₀ + h Σ bᵢ kᵢ`.
///
/// The engine in [`crate::solve`] always evaluates `f(t₁, y₁)` after a step and reuses it as
/// the next step's first stage (first same as last), so a method needs no FSAL flag.
#[derive(Clone, Debug, PartialEq)]
pub struct ButcherTableau {
    /// Name of the method.
    pub name: &'static str,
    /// Nodes `cᵢ`, `c₀ = 0`.
    pub c: Vec<f64>,
    /// Rows of the strictly lower-triangular matrix; row `i` has `i` entries.
    pub a: Vec<Vec<f64>>,
    /// Weights of the solution.
    pub b: Vec<f64>,
    /// Order of the solution.
    pub order: usize,
    /// Embedded error estimate.
    pub error: ErrorEstimator,
    /// Interpolant between step ends.
    pub dense: DenseOutput,
}

impl ButcherTableau {
    /// Number of stages.
    pub fn stages(&self) -> usize {
        self.b.len()
    }

    /// Order of the error estimate, `None` without one.
    pub fn error_order(&self) -> Option<usize> {
        match &self.error {
            ErrorEstimator::None => None,
            ErrorEstimator::Embedded { order, .. } => Some(*order),
            ErrorEstimator::Dop853 => Some(7),
        }
    }

    /// Checks the consistency conditions `Σⱼ aᵢⱼ = cᵢ` and `Σ bᵢ = 1`.
    pub fn is_consistent(&self) -> bool {
        let rows = self
            .a
            .iter()
            .zip(&self.c)
            .all(|(row, c)| (row.iter().sum::<f64>() - c).abs() < 1e-12);
        rows && (self.b.iter().sum::<f64>() - 1.0).abs() < 1e-12 && self.a.len() == self.b.len()
    }
}

/// The explicit Runge-Kutta methods kiln ships, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Method {
    /// Forward Euler, order 1, no error estimate.
    Euler,
    /// Explicit midpoint, order 2, embedded Euler.
    Midpoint,
    /// Heun's method, order 2, embedded Euler.
    Heun,
    /// Ralston's method, order 2 with minimal error constant, embedded Euler.
    Ralston,
    /// The classical 4th-order method, no error estimate.
    Rk4,
    /// Bogacki-Shampine 3(2).
    Bosh3,
    /// Dormand-Prince 5(4).
    Dopri5,
    /// Tsitouras 5(4).
    Tsit5,
    /// Dormand-Prince 8(5,3), DOP853.
    Dopri8,
}

impl Method {
    /// All explicit methods.
    pub const ALL: [Method; 9] = [
        Method::Euler,
        Method::Midpoint,
        Method::Heun,
        Method::Ralston,
        Method::Rk4,
        Method::Bosh3,
        Method::Dopri5,
        Method::Tsit5,
        Method::Dopri8,
    ];

    /// The method's tableau.
    pub fn tableau(self) -> ButcherTableau {
        match self {
            Method::Euler => euler(),
            Method::Midpoint => two_stage("midpoint", 0.5, [0.0, 1.0]),
            Method::Heun => two_stage("heun", 1.0, [0.5, 0.5]),
            Method::Ralston => two_stage("ralston", 2.0 / 3.0, [0.25, 0.75]),
            Method::Rk4 => rk4(),
            Method::Bosh3 => bosh3(),
            Method::Dopri5 => dopri5(),
            Method::Tsit5 => tsit5::tableau(),
            Method::Dopri8 => dopri8(),
        }
    }
}

fn euler() -> ButcherTableau {
    ButcherTableau {
        name: "euler",
        c: vec![0.0],
        a: vec![vec![]],
        b: vec![1.0],
        order: 1,
        error: ErrorEstimator::None,
        dense: DenseOutput::Hermite,
    }
}

/// A 2-stage, 2nd-order method with node `c` and weights `b`, with embedded Euler.
fn two_stage(name: &'static str, c: f64, b: [f64; 2]) -> ButcherTableau {
    ButcherTableau {
        name,
        c: vec![0.0, c],
        a: vec![vec![], vec![c]],
        b: b.to_vec(),
        order: 2,
        error: ErrorEstimator::Embedded {
            weights: vec![b[0] - 1.0, b[1], 0.0],
            order: 1,
        },
        dense: DenseOutput::Hermite,
    }
}

fn rk4() -> ButcherTableau {
    ButcherTableau {
        name: "rk4",
        c: vec![0.0, 0.5, 0.5, 1.0],
        a: vec![vec![], vec![0.5], vec![0.0, 0.5], vec![0.0, 0.0, 1.0]],
        b: vec![1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
        order: 4,
        error: ErrorEstimator::None,
        dense: DenseOutput::Hermite,
    }
}

fn bosh3() -> ButcherTableau {
    ButcherTableau {
        name: "bosh3",
        c: vec![0.0, 0.5, 0.75],
        a: vec![vec![], vec![0.5], vec![0.0, 0.75]],
        b: vec![2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0],
        order: 3,
        error: ErrorEstimator::Embedded {
            weights: vec![5.0 / 72.0, -1.0 / 12.0, -1.0 / 9.0, 1.0 / 8.0],
            order: 2,
        },
        dense: DenseOutput::Polynomial(vec![
            vec![1.0, -4.0 / 3.0, 5.0 / 9.0],
            vec![0.0, 1.0, -2.0 / 3.0],
            vec![0.0, 4.0 / 3.0, -8.0 / 9.0],
            vec![0.0, -1.0, 1.0],
        ]),
    }
}

fn dopri5() -> ButcherTableau {
    ButcherTableau {
        name: "dopri5",
        c: vec![0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0],
        a: vec![
            vec![],
            vec![1.0 / 5.0],
            vec![3.0 / 40.0, 9.0 / 40.0],
            vec![44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0],
            vec![
                19372.0 / 6561.0,
                -25360.0 / 2187.0,
                64448.0 / 6561.0,
                -212.0 / 729.0,
            ],
            vec![
                9017.0 / 3168.0,
                -355.0 / 33.0,
                46732.0 / 5247.0,
                49.0 / 176.0,
                -5103.0 / 18656.0,
            ],
        ],
        b: vec![
            35.0 / 384.0,
            0.0,
            500.0 / 1113.0,
            125.0 / 192.0,
            -2187.0 / 6784.0,
            11.0 / 84.0,
        ],
        order: 5,
        error: ErrorEstimator::Embedded {
            weights: vec![
                -71.0 / 57600.0,
                0.0,
                71.0 / 16695.0,
                -71.0 / 1920.0,
                17253.0 / 339200.0,
                -22.0 / 525.0,
                1.0 / 40.0,
            ],
            order: 4,
        },
        // Shampine's 4th-order continuous extension with the optimal free parameter.
        dense: DenseOutput::Polynomial(vec![
            vec![
                1.0,
                -8048581381.0 / 2820520608.0,
                8663915743.0 / 2820520608.0,
                -12715105075.0 / 11282082432.0,
            ],
            vec![0.0, 0.0, 0.0, 0.0],
            vec![
                0.0,
                131558114200.0 / 32700410799.0,
                -68118460800.0 / 10900136933.0,
                87487479700.0 / 32700410799.0,
            ],
            vec![
                0.0,
                -1754552775.0 / 470086768.0,
                14199869525.0 / 1410260304.0,
                -10690763975.0 / 1880347072.0,
            ],
            vec![
                0.0,
                127303824393.0 / 49829197408.0,
                -318862633887.0 / 49829197408.0,
                701980252875.0 / 199316789632.0,
            ],
            vec![
                0.0,
                -282668133.0 / 205662961.0,
                2019193451.0 / 616988883.0,
                -1453857185.0 / 822651844.0,
            ],
            vec![
                0.0,
                40617522.0 / 29380423.0,
                -110615467.0 / 29380423.0,
                69997945.0 / 29380423.0,
            ],
        ]),
    }
}

fn dopri8() -> ButcherTableau {
    ButcherTableau {
        name: "dopri8",
        c: dop853::C[..12].to_vec(),
        a: dop853::A[..12].iter().map(|row| row.to_vec()).collect(),
        b: dop853::B.to_vec(),
        order: 8,
        error: ErrorEstimator::Dop853,
        dense: DenseOutput::Dop853,
    }
}

/// Interpolation weights at `θ ∈ [0, 1]`: `y(θ) = y₀ + a (y₁ - y₀) + h Σᵢ bᵢ kᵢ`, where the
/// `kᵢ` are the stages, then `f(t₁, y₁)`, then (DOP853) the three extra stages.
pub(crate) fn dense_weights(tableau: &ButcherTableau, theta: f64) -> (f64, Vec<f64>) {
    let s = tableau.stages();
    match &tableau.dense {
        DenseOutput::Hermite => {
            let (t2, t3) = (theta * theta, theta * theta * theta);
            let mut b = vec![0.0; s + 1];
            b[0] = t3 - 2.0 * t2 + theta;
            b[s] = t3 - t2;
            (3.0 * t2 - 2.0 * t3, b)
        }
        DenseOutput::Polynomial(p) => {
            let b = p
                .iter()
                .map(|row| {
                    let mut power = theta;
                    let mut sum = 0.0;
                    for coefficient in row {
                        sum += coefficient * power;
                        power *= theta;
                    }
                    sum
                })
                .collect();
            (0.0, b)
        }
        DenseOutput::Tsit5 => (0.0, tsit5::dense_weights(theta).to_vec()),
        DenseOutput::Dop853 => {
            // The interpolant is y₀ + Σₘ wₘ Fₘ with F₀ = Δy, F₁ = h f₀ - Δy,
            // F₂ = 2Δy - h (f₀ + f₁), F₃..₆ = h D K; wₘ multiplies θ and 1-θ alternately.
            let mut w = [0.0; 7];
            for (m, weight) in w.iter_mut().enumerate() {
                *weight = (6 - m..=6)
                    .map(|i| if i % 2 == 0 { theta } else { 1.0 - theta })
                    .product();
            }
            let mut b = vec![0.0; 16];
            b[0] = w[1] - w[2];
            b[12] = -w[2];
            for (row, wm) in dop853::D.iter().zip(&w[3..]) {
                for (bi, d) in b.iter_mut().zip(row) {
                    *bi += wm * d;
                }
            }
            (w[0] - w[1] + 2.0 * w[2], b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tableaux_are_consistent() {
        for method in Method::ALL {
            let tableau = method.tableau();
            assert!(tableau.is_consistent(), "{}", tableau.name);
        }
    }

    #[test]
    fn interpolants_hit_the_step_ends() {
        // At θ = 0 every interpolant returns y₀; at θ = 1 it returns y₁ = y₀ + h Σ bᵢ kᵢ.
        for method in Method::ALL {
            let tableau = method.tableau();
            let (a0, b0) = dense_weights(&tableau, 0.0);
            assert!(a0.abs() < 1e-14 && b0.iter().all(|b| b.abs() < 1e-14));
            let (a1, b1) = dense_weights(&tableau, 1.0);
            // Either a = 1 and all b = 0 (Hermite-like), or a = 0 and b = tableau b.
            let s = tableau.stages();
            for (i, (got, b)) in b1.iter().zip(&tableau.b).enumerate() {
                let expected = (1.0 - a1) * b;
                assert!((got - expected).abs() < 1e-10, "{} b[{i}]", tableau.name);
            }
            assert!(b1[s..].iter().all(|b| b.abs() < 1e-10), "{}", tableau.name);
        }
    }
}
