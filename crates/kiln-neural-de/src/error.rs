//! Errors of kiln-neural-de: solver failures with the time and step where they happened.

/// Result alias of kiln-neural-de.
pub type Result<T> = std::result::Result<T, Error>;

/// What went wrong in a solve.
///
/// A solve that stops at an event is not an error (see [`crate::StopReason`]); these are failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The step budget ran out before the end of the interval.
    #[error(
        "the solver took max_steps = {steps} steps and stopped at t = {t} before the end of the \
         interval; raise SolveOptions::max_steps, loosen rtol/atol, or use an implicit solver \
         (Kvaerno5) if the problem is stiff"
    )]
    MaxStepsReached {
        /// Time reached.
        t: f64,
        /// Steps taken (accepted and rejected).
        steps: usize,
    },
    /// The controller asked for a step below `dt_min`.
    #[error(
        "the step size fell to {dt:e} at t = {t}, below dt_min; the solution may blow up here, \
         the problem may be stiff (try Kvaerno5), or dt_min may be too large"
    )]
    StepSizeTooSmall {
        /// Time reached.
        t: f64,
        /// The rejected step size.
        dt: f64,
    },
    /// The state or the vector field became NaN or infinite.
    #[error(
        "the state became NaN or infinite in the step from t = {t}; check the vector field for \
         divisions by zero or overflow, or reduce the step size"
    )]
    NonFinite {
        /// Start of the step in which the state stopped being finite.
        t: f64,
    },
    /// Newton's method did not converge in an implicit stage, even at the smallest step.
    #[error(
        "Newton's iteration did not converge in the implicit stage at t = {t} with dt = {dt:e}; \
         loosen the tolerances, raise dt_min, or check the Jacobian"
    )]
    NewtonFailed {
        /// Time of the step.
        t: f64,
        /// The step size tried last.
        dt: f64,
    },
    /// An option or argument has a value the solver cannot use.
    #[error("invalid {field} = {value}: {advice}")]
    InvalidOption {
        /// The option, e.g. `rtol`.
        field: &'static str,
        /// The offending value.
        value: String,
        /// What to do instead.
        advice: String,
    },
    /// The combination of solver and options is not available.
    #[error("{what} is not available with {solver}: {advice}")]
    Unsupported {
        /// The solver or method.
        solver: String,
        /// The requested feature.
        what: String,
        /// What to use instead.
        advice: String,
    },
    /// A shape did not match what the solver expects.
    #[error("shape mismatch in {context}: expected {expected}, found {found:?}")]
    ShapeMismatch {
        /// Where the check happened.
        context: String,
        /// The expected shape, in words.
        expected: String,
        /// The shape found.
        found: Vec<usize>,
    },
    /// An error from kiln-core (devices, I/O, plots).
    #[error(transparent)]
    Core(#[from] kiln_core::Error),
}

impl Error {
    /// An [`Error::InvalidOption`] for `field` with the value formatted and `advice`.
    pub(crate) fn option(field: &'static str, value: impl std::fmt::Display, advice: &str) -> Self {
        Self::InvalidOption {
            field,
            value: value.to_string(),
            advice: advice.to_string(),
        }
    }
}

/// Lets a kiln-core training closure use `?` on solves: the error travels as
/// [`kiln_core::Error::Step`] with this error as its source.
impl From<Error> for kiln_core::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Core(core) => core,
            other => kiln_core::Error::Step {
                context: "kiln-neural-de",
                source: Box::new(other),
            },
        }
    }
}
