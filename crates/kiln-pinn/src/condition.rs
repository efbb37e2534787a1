//! Boundary, initial and data conditions: where a condition holds, what it constrains and its
//! target values, stored on the host until a [`Problem`](crate::Problem) binds them to a device.

use crate::geometry::{BoundarySample, Points};
use crate::{Error, Result};

/// What a condition constrains at its points (component `c` of the output `u`).
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionKind {
    /// `u_c(x) = g(x)`: Dirichlet boundary values, initial values and point data.
    Value,
    /// `∂u_c/∂n = ∇u_c · n = g(x)` with the outward normal `n` at each point.
    Neumann {
        /// Outward unit normals, one per point.
        normals: Points,
    },
    /// `α u_c + β ∂u_c/∂n = g(x)`.
    Robin {
        /// Coefficient of the value.
        alpha: f64,
        /// Coefficient of the normal derivative.
        beta: f64,
        /// Outward unit normals, one per point.
        normals: Points,
    },
    /// `∂u_c/∂x_axis = g(x)`: an initial time derivative (axis = time) or a prescribed slope.
    Derivative {
        /// The input coordinate differentiated.
        axis: usize,
    },
    /// `u_c(x) - u_c(x') = 0` (or the same for `∂/∂x_axis`) between paired points.
    Periodic {
        /// The partner of each point.
        partner: Points,
        /// `None` for values, `Some(axis)` for the derivative along `axis`.
        derivative: Option<usize>,
    },
}

/// One condition of a problem; build with the constructors, tune with `with_*`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub(crate) name: String,
    pub(crate) kind: ConditionKind,
    pub(crate) points: Points,
    pub(crate) targets: Vec<f64>,
    pub(crate) component: usize,
    pub(crate) weight: f64,
}

impl Condition {
    fn build(name: &str, kind: ConditionKind, points: Points, targets: Vec<f64>) -> Result<Self> {
        if points.is_empty() {
            return Err(Error::config(
                "points",
                format!("0 points for condition `{name}`"),
                "give the condition at least one point",
            ));
        }
        if targets.len() != points.len() || targets.iter().any(|t| !t.is_finite()) {
            return Err(Error::shape(
                &format!("condition `{name}` targets"),
                format!("{} finite targets, one per point", points.len()),
                &[targets.len()],
            ));
        }
        let pair = match &kind {
            ConditionKind::Neumann { normals } | ConditionKind::Robin { normals, .. } => {
                Some(normals)
            }
            ConditionKind::Periodic { partner, .. } => Some(partner),
            _ => None,
        };
        if let Some(other) = pair
            && (other.len() != points.len() || other.dim() != points.dim())
        {
            return Err(Error::shape(
                &format!("condition `{name}` normals/partners"),
                format!("{} rows of {} values", points.len(), points.dim()),
                &[other.len(), other.dim()],
            ));
        }
        Ok(Condition {
            name: name.to_string(),
            kind,
            points,
            targets,
            component: 0,
            weight: 1.0,
        })
    }

    /// `u = g(x)` at `points` (Dirichlet).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for no points; [`Error::ShapeMismatch`] for non-finite targets.
    pub fn dirichlet(name: &str, points: Points, g: impl Fn(&[f64]) -> f64) -> Result<Self> {
        let targets = points.rows().map(&g).collect();
        Condition::build(name, ConditionKind::Value, points, targets)
    }

    /// `u(x, t0) = g(x)` at initial points (a Dirichlet condition on the initial slice).
    ///
    /// # Errors
    /// As [`Condition::dirichlet`].
    pub fn initial_value(name: &str, points: Points, g: impl Fn(&[f64]) -> f64) -> Result<Self> {
        Condition::dirichlet(name, points, g)
    }

    /// `∂u/∂t (x, t0) = h(x)` with time the input `time_axis`.
    ///
    /// # Errors
    /// As [`Condition::dirichlet`], plus [`Error::InvalidConfig`] when `time_axis` is not an input.
    pub fn initial_derivative(
        name: &str,
        points: Points,
        time_axis: usize,
        h: impl Fn(&[f64]) -> f64,
    ) -> Result<Self> {
        if time_axis >= points.dim() {
            return Err(Error::config(
                "time_axis",
                time_axis,
                format!("the points have {} coordinates", points.dim()),
            ));
        }
        let targets = points.rows().map(&h).collect();
        Condition::build(
            name,
            ConditionKind::Derivative { axis: time_axis },
            points,
            targets,
        )
    }

    /// `∂u/∂n = g(x)` on a boundary sample (its normals are used).
    ///
    /// # Errors
    /// As [`Condition::dirichlet`].
    pub fn neumann(
        name: &str,
        boundary: BoundarySample,
        g: impl Fn(&[f64]) -> f64,
    ) -> Result<Self> {
        let targets = boundary.points.rows().map(&g).collect();
        Condition::build(
            name,
            ConditionKind::Neumann {
                normals: boundary.normals,
            },
            boundary.points,
            targets,
        )
    }

    /// `α u + β ∂u/∂n = g(x)` on a boundary sample.
    ///
    /// # Errors
    /// As [`Condition::dirichlet`], plus [`Error::InvalidConfig`] when α and β are both zero or
    /// not finite.
    pub fn robin(
        name: &str,
        boundary: BoundarySample,
        alpha: f64,
        beta: f64,
        g: impl Fn(&[f64]) -> f64,
    ) -> Result<Self> {
        if !(alpha.is_finite() && beta.is_finite()) || (alpha == 0.0 && beta == 0.0) {
            return Err(Error::config(
                "alpha/beta",
                format!("{alpha}/{beta}"),
                "need finite coefficients, not both zero",
            ));
        }
        let targets = boundary.points.rows().map(&g).collect();
        Condition::build(
            name,
            ConditionKind::Robin {
                alpha,
                beta,
                normals: boundary.normals,
            },
            boundary.points,
            targets,
        )
    }

    /// `u(x) = u(x')` between each point and its partner (or `∂u/∂x_axis` equal when
    /// `derivative = Some(axis)`).
    ///
    /// # Errors
    /// As [`Condition::dirichlet`], plus [`Error::ShapeMismatch`] when the sets differ in shape.
    pub fn periodic(
        name: &str,
        points: Points,
        partner: Points,
        derivative: Option<usize>,
    ) -> Result<Self> {
        if let Some(axis) = derivative
            && axis >= points.dim()
        {
            return Err(Error::config(
                "derivative",
                axis,
                format!("the points have {} coordinates", points.dim()),
            ));
        }
        let targets = vec![0.0; points.len()];
        Condition::build(
            name,
            ConditionKind::Periodic {
                partner,
                derivative,
            },
            points,
            targets,
        )
    }

    /// Observed values `u(x_i) = values[i]` (data for inverse problems).
    ///
    /// # Errors
    /// As [`Condition::dirichlet`].
    pub fn point_data(name: &str, points: Points, values: Vec<f64>) -> Result<Self> {
        Condition::build(name, ConditionKind::Value, points, values)
    }

    /// Constrains output component `c` (default 0).
    pub fn with_component(mut self, c: usize) -> Self {
        self.component = c;
        self
    }

    /// Weight of the condition's mean squared residual in the loss (default 1).
    pub fn with_weight(mut self, weight: f64) -> Self {
        self.weight = weight;
        self
    }

    /// The condition's name (its loss term).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the condition constrains.
    pub fn kind(&self) -> &ConditionKind {
        &self.kind
    }

    /// The points where it holds.
    pub fn points(&self) -> &Points {
        &self.points
    }
}
