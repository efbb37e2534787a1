//! Fourier neural operators: spectral convolutions as truncated-DFT matmuls and the 1-D/2-D
//! FNO models built from them.

mod basis;
mod model;
mod spectral;

pub use model::{ChannelLinear, ChannelMlp, Fno1d, Fno1dConfig, Fno2d, Fno2dConfig};
pub use spectral::{SpectralConv1d, SpectralConv2d};
