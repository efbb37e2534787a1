//! Errors of kiln-pinn: invalid geometries, samplers, problems and conditions, with the value and the fix.

/// Result alias of kiln-pinn.
pub type Result<T> = std::result::Result<T, Error>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting or argument has a value that cannot be used.
    #[error("invalid {field} = {value}: {advice}")]
    InvalidConfig {
        /// The setting, e.g. `radius`.
        field: &'static str,
        /// The offending value.
        value: String,
        /// What to do instead.
        advice: String,
    },
    /// Points, normals, targets or network outputs whose shapes do not fit together.
    #[error("shape mismatch in {context}: expected {expected}, found {found:?}")]
    ShapeMismatch {
        /// Where the check happened.
        context: String,
        /// The expected shape, in words.
        expected: String,
        /// The shape found.
        found: Vec<usize>,
    },
    /// Rejection sampling found too few points inside a geometry.
    #[error(
        "sampling {what}: only {found} of {wanted} points landed in the geometry after {tries} \
         candidates; the domain is empty or very thin compared with its bounding box"
    )]
    SamplingFailed {
        /// What was sampled (interior or boundary).
        what: &'static str,
        /// Points wanted.
        wanted: usize,
        /// Points found.
        found: usize,
        /// Candidates drawn.
        tries: usize,
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
                context: "kiln-pinn",
                source: Box::new(other),
            },
        }
    }
}
