//! The error type of kiln-core: every failure a user can cause, with the offending value and a fix.

use std::path::PathBuf;

/// Result alias used across kiln-core.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in kiln-core because of user input, a data file or a training run.
///
/// Each message says what was wrong, the offending value, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A backend name that kiln does not know.
    #[error(
        "unknown backend `{name}`: valid backends are {valid} (set KILN_BACKEND or pass one of them)"
    )]
    UnknownBackend {
        /// The name that was given.
        name: String,
        /// The comma-separated list of valid names.
        valid: String,
    },

    /// A backend that exists but was not compiled in.
    #[error("backend `{name}` is not compiled in: rebuild with `--features {feature}`")]
    BackendNotCompiled {
        /// The backend's name.
        name: String,
        /// The cargo feature that enables it.
        feature: &'static str,
    },

    /// A floating-point precision the backend cannot compute in reliably.
    #[error("backend `{backend}` cannot run in {precision}: {reason}")]
    UnsupportedPrecision {
        /// The backend's name.
        backend: String,
        /// The requested precision.
        precision: String,
        /// Why, and what to use instead.
        reason: String,
    },

    /// The device was already used with other default dtypes.
    #[error(
        "cannot configure device {device} for {precision}: it was already used with another default dtype \
         (configure the precision before creating the first tensor on the device)"
    )]
    DeviceAlreadyConfigured {
        /// The device, as debug text.
        device: String,
        /// The requested precision.
        precision: String,
    },

    /// A configuration value outside its valid range.
    #[error("invalid config: `{field}` = {value}: {advice}")]
    InvalidConfig {
        /// The field's name.
        field: &'static str,
        /// The offending value, as text.
        value: String,
        /// What a valid value looks like.
        advice: String,
    },

    /// A tensor whose shape does not fit the operation.
    #[error("shape mismatch in {context}: expected {expected}, found {found:?}")]
    ShapeMismatch {
        /// Where the shape was checked.
        context: String,
        /// The expected shape, in words (`[batch, 2]`).
        expected: String,
        /// The shape found.
        found: Vec<usize>,
    },

    /// The loss became NaN or infinite during training.
    #[error(
        "training diverged at step {step}: loss is {loss}; last finite loss was {last_finite} \
         (lower the learning rate, enable gradient clipping, or check the data for NaN)"
    )]
    Diverged {
        /// The step at which the loss stopped being finite.
        step: usize,
        /// The non-finite loss value.
        loss: f64,
        /// The last finite loss seen, if any step had one.
        last_finite: LastFinite,
    },

    /// The loss was finite but its gradient was not (an overflow inside the backward pass).
    #[error(
        "training diverged at step {step}: the gradient norm is {norm} although the loss is {loss:e} \
         (lower the learning rate, enable clip_grad_norm, or look for a sqrt/log/division of zero in the loss)"
    )]
    NonFiniteGradient {
        /// The step whose gradient was not finite.
        step: usize,
        /// The global gradient norm.
        norm: f64,
        /// The (finite) loss of that step.
        loss: f64,
    },

    /// A data file could not be read or written.
    #[error("{path}: {what}")]
    Data {
        /// The file.
        path: PathBuf,
        /// What went wrong, naming the array, the expected and found shape or dtype.
        what: String,
    },

    /// An I/O failure on a file kiln reads or writes.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A checkpoint that cannot be resumed.
    #[error("checkpoint {path}: {what}")]
    Checkpoint {
        /// The checkpoint directory.
        path: PathBuf,
        /// What is wrong with it and what to do.
        what: String,
    },

    /// burn could not save or load a record.
    #[error("record error on {path}: {source}")]
    Record {
        /// The record file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: burn::store::RecordError,
    },

    /// A JSON file that kiln wrote could not be (de)serialised.
    #[error("JSON error on {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },

    /// Plotting failed.
    #[error("plot {path}: {what}")]
    Plot {
        /// The PNG being written.
        path: PathBuf,
        /// What went wrong.
        what: String,
    },

    /// A crate built on kiln-core failed inside a training step (e.g. a differential-equation
    /// solve in a loss); the source keeps that crate's error with its fields.
    #[error("{context}: {source}")]
    Step {
        /// Which crate or operation failed, e.g. "kiln-neural-de".
        context: &'static str,
        /// The failure itself.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// The last finite loss before divergence, printed as a number or "none".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LastFinite(pub Option<f64>);

impl std::fmt::Display for LastFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{v:e}"),
            None => write!(f, "none (the first step was already non-finite)"),
        }
    }
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// An [`Error::InvalidConfig`].
    pub fn config(field: &'static str, value: impl ToString, advice: impl Into<String>) -> Self {
        Error::InvalidConfig {
            field,
            value: value.to_string(),
            advice: advice.into(),
        }
    }
}
