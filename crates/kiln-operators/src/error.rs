//! Errors of kiln-operators: invalid configurations, shapes, datasets and solver failures.

use std::path::PathBuf;

/// Result alias of kiln-operators.
pub type Result<T> = std::result::Result<T, Error>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting or argument has a value the generator or model cannot use.
    #[error("invalid {field} = {value}: {advice}")]
    InvalidConfig {
        /// The setting, e.g. `modes`.
        field: &'static str,
        /// The offending value.
        value: String,
        /// What to do instead.
        advice: String,
    },
    /// Tensors or arrays whose shapes do not fit together.
    #[error("shape mismatch in {context}: expected {expected}, found {found:?}")]
    ShapeMismatch {
        /// Where the check happened.
        context: String,
        /// The expected shape, in words.
        expected: String,
        /// The shape found.
        found: Vec<usize>,
    },
    /// A dataset file that cannot be used (missing arrays, wrong ranks, mismatched sample counts).
    #[error("dataset {path}: {what}")]
    Dataset {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        what: String,
    },
    /// An iterative solver did not reach its tolerance.
    #[error(
        "{solver} did not converge: residual {residual:e} after {iterations} iterations \
         (tolerance {tolerance:e}); raise max_iter or check the coefficient for zeros"
    )]
    NotConverged {
        /// The solver's name.
        solver: &'static str,
        /// Relative residual reached.
        residual: f64,
        /// Iterations done.
        iterations: usize,
        /// Requested relative tolerance.
        tolerance: f64,
    },
    /// A time integration produced NaN or infinity.
    #[error(
        "{solver} produced a non-finite value at t = {t}; reduce dt or increase the resolution"
    )]
    NonFinite {
        /// The solver's name.
        solver: &'static str,
        /// Time reached.
        t: f64,
    },
    /// An error from kiln-core (devices, I/O, plots, training).
    #[error(transparent)]
    Core(#[from] kiln_core::Error),
}

impl Error {
    /// An [`Error::InvalidConfig`] for `field` with the value formatted and `advice`.
    pub(crate) fn config(
        field: &'static str,
        value: impl std::fmt::Display,
        advice: impl Into<String>,
    ) -> Self {
        Self::InvalidConfig {
            field,
            value: value.to_string(),
            advice: advice.into(),
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
}

/// Lets a kiln-core training closure use `?` on this crate's calls.
impl From<Error> for kiln_core::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Core(core) => core,
            other => kiln_core::Error::Step {
                context: "kiln-operators",
                source: Box::new(other),
            },
        }
    }
}
