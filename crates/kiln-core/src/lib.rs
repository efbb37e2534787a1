//! kiln-core: the shared layer of the kiln scientific-ML workspace on burn.
//!
//! - [`mod@device`]: backend selection (`KILN_BACKEND`), autodiff devices, precision, seeding.
//! - [`jet`]: input-derivative jets so PINN residuals (u_x, u_xx, Laplacians) can be trained
//!   with burn's reverse-mode autodiff, and the [`Mlp`] field that propagates them.
//! - [`train`]: the training loop every crate uses: optimisers, schedules, clipping, progress,
//!   JSONL metrics, checkpoints and a divergence guard.
//! - [`metrics`]: MSE, relative Lp errors, max abs error.
//! - [`io`]: `.npy`/`.npz` arrays to and from tensors.
//! - [`plot`]: line plots, heatmaps and scatter plots to PNG.
//! - [`report`]: demo reports (metrics JSON plus plots) gathered by `cargo xtask demo`.
//! - [`vecmath`]: vectorised f32 `tanh` and `exp` on host slices (runtime AVX-512/AVX2 dispatch).

mod alloc;
pub mod device;
mod error;
pub mod io;
pub mod jet;
pub mod metrics;
mod mlp;
pub mod plot;
pub mod report;
pub mod rng;
pub mod tensor;
pub mod train;
pub mod vecmath;

pub use device::{BackendKind, Precision, autodiff_device, device};
pub use error::{Error, LastFinite, Result};
pub use jet::{Activation, Jet, SecondOrder};
pub use mlp::{Mlp, MlpConfig};

/// burn, re-exported so that downstream crates use the same version.
pub use burn;
