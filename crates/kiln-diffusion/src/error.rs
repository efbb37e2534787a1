//! The error type of kiln-diffusion: invalid settings, shapes and data, with the value and the fix.

/// Result alias of kiln-diffusion.
pub type Result<T> = std::result::Result<T, Error>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting or argument has a value the method cannot use.
    #[error("invalid {field} = {value}: {advice}")]
    InvalidConfig {
        /// The setting, e.g. `sigma`.
        field: &'static str,
        /// The offending value.
        value: String,
        /// What to do instead.
        advice: String,
    },
    /// Samples, matrices or tensors whose shapes do not fit together.
    #[error("shape mismatch in {context}: expected {expected}, found {found:?}")]
    ShapeMismatch {
        /// Where the check happened.
        context: String,
        /// The expected shape, in words.
        expected: String,
        /// The shape found.
        found: Vec<usize>,
    },
    /// A numerical routine could not produce a valid result (e.g. a matrix that is not
    /// positive definite, a Sinkhorn iteration that did not converge).
    #[error("{what} failed: {advice}")]
    Numerical {
        /// The routine.
        what: &'static str,
        /// Why, and what to do.
        advice: String,
    },
    /// An error from kiln-core (devices, I/O, plots, training).
    #[error(transparent)]
    Core(#[from] kiln_core::Error),
    /// An error from kiln-neural-de (a sampling solve).
    #[error(transparent)]
    Solve(#[from] kiln_neural_de::Error),
}

impl Error {
    /// An [`Error::InvalidConfig`] for `field` with the value formatted and `advice`.
    pub(crate) fn config(field: &'static str, value: impl std::fmt::Display, advice: &str) -> Self {
        Self::InvalidConfig {
            field,
            value: value.to_string(),
            advice: advice.to_string(),
        }
    }

    /// An [`Error::ShapeMismatch`].
    pub(crate) fn shape(context: &str, expected: impl Into<String>, found: &[usize]) -> Self {
        Self::ShapeMismatch {
            context: context.to_string(),
            expected: expected.into(),
            found: found.to_vec(),
        }
    }

    /// An [`Error::Numerical`].
    pub(crate) fn numerical(what: &'static str, advice: impl Into<String>) -> Self {
        Self::Numerical {
            what,
            advice: advice.into(),
        }
    }
}

/// Lets a kiln-core training closure use `?` on this crate's calls.
impl From<Error> for kiln_core::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Core(core) => core,
            other => kiln_core::Error::Step {
                context: "kiln-diffusion",
                source: Box::new(other),
            },
        }
    }
}
