//! Backend and device selection: the one place in kiln-core that names concrete burn backends.
//!
//! Library code everywhere else takes `&Device`; examples, tests and benches pick a backend here,
//! usually from the `KILN_BACKEND` environment variable.

use std::fmt;
use std::str::FromStr;

use burn::tensor::{Device, FloatDType};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The environment variable that selects the backend for tests, demos and benchmarks.
pub const BACKEND_ENV: &str = "KILN_BACKEND";

/// The burn backends kiln runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// burn's pure-Rust CPU backend; kiln's default.
    #[default]
    Flex,
    /// burn's ndarray CPU backend (deprecated upstream, still supported by kiln).
    Ndarray,
    /// burn's wgpu backend (Vulkan, Metal, DX12 or a software Vulkan); needs the `wgpu` feature.
    Wgpu,
}

impl BackendKind {
    /// Every backend, in the order they are listed in messages.
    pub const ALL: [BackendKind; 3] = [BackendKind::Flex, BackendKind::Ndarray, BackendKind::Wgpu];

    /// The lower-case name used on the command line and in `KILN_BACKEND`.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Flex => "flex",
            BackendKind::Ndarray => "ndarray",
            BackendKind::Wgpu => "wgpu",
        }
    }

    /// Whether this backend was compiled into this build.
    pub fn is_compiled(self) -> bool {
        match self {
            BackendKind::Flex | BackendKind::Ndarray => true,
            BackendKind::Wgpu => cfg!(feature = "wgpu"),
        }
    }

    /// Whether the backend computes on the CPU (where f64 is reliable and runs are repeatable).
    pub fn is_cpu(self) -> bool {
        !matches!(self, BackendKind::Wgpu)
    }

    /// The backend named by `KILN_BACKEND`, or [`BackendKind::Flex`] when it is unset or empty.
    ///
    /// # Errors
    /// [`Error::UnknownBackend`] when the variable names no backend.
    pub fn from_env() -> Result<Self> {
        match std::env::var(BACKEND_ENV) {
            Ok(name) if !name.trim().is_empty() => name.parse(),
            _ => Ok(BackendKind::Flex),
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().to_ascii_lowercase();
        BackendKind::ALL
            .into_iter()
            .find(|kind| kind.name() == wanted)
            .ok_or_else(|| Error::UnknownBackend {
                name: s.to_string(),
                valid: BackendKind::ALL.map(BackendKind::name).join(", "),
            })
    }
}

/// Floating-point precision of a device's default float tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats (burn's default).
    #[default]
    F32,
    /// 64-bit floats; CPU backends only.
    F64,
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        })
    }
}

impl Precision {
    fn dtype(self) -> FloatDType {
        match self {
            Precision::F32 => FloatDType::F32,
            Precision::F64 => FloatDType::F64,
        }
    }
}

/// The plain (non-autodiff) device of a backend.
///
/// The first call also keeps glibc's malloc from returning freed tensor memory to the kernel
/// after every step (see `alloc.rs`): without it, each step of a model with ~1 MB activations
/// page-faults its buffers back in.
///
/// # Errors
/// [`Error::BackendNotCompiled`] for wgpu in a build without the `wgpu` feature.
pub fn device(kind: BackendKind) -> Result<Device> {
    crate::alloc::retain_freed_memory();
    match kind {
        BackendKind::Flex => Ok(Device::flex()),
        #[allow(deprecated)] // burn-ndarray is deprecated upstream; kiln keeps supporting it.
        BackendKind::Ndarray => Ok(Device::ndarray()),
        BackendKind::Wgpu => wgpu_device(),
    }
}

#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<Device> {
    Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<Device> {
    Err(Error::BackendNotCompiled {
        name: "wgpu".into(),
        feature: "wgpu",
    })
}

/// The autodiff device of a backend: tensors created on it can be differentiated.
///
/// # Errors
/// As [`device`].
pub fn autodiff_device(kind: BackendKind) -> Result<Device> {
    Ok(device(kind)?.autodiff())
}

/// The backend a device belongs to (`None` for a device kiln did not create).
pub fn backend_of(device: &Device) -> Option<BackendKind> {
    let plain = device.clone().without_autodiff();
    BackendKind::ALL
        .into_iter()
        .filter(|kind| kind.is_compiled())
        .find(|kind| self::device(*kind).is_ok_and(|d| d == plain))
}

/// Sets the default float precision of `device`'s backend.
///
/// Must run before the first tensor is created on the device. Calling it again with the precision
/// the device already has is fine; asking for another one is an error.
///
/// # Errors
/// - [`Error::UnsupportedPrecision`] for f64 on wgpu (its f64 transcendental functions are wrong).
/// - [`Error::DeviceAlreadyConfigured`] when the device already runs in another precision.
pub fn configure_precision(device: &Device, precision: Precision) -> Result<()> {
    if precision == Precision::F64 && backend_of(device) == Some(BackendKind::Wgpu) {
        return Err(Error::UnsupportedPrecision {
            backend: "wgpu".into(),
            precision: precision.to_string(),
            reason: "wgpu's f64 exp/sin/tanh return wrong values; use f32 on wgpu or f64 on flex/ndarray"
                .into(),
        });
    }
    let mut inner = device.clone().without_autodiff();
    let wanted = precision.dtype();
    match inner.configure(wanted) {
        Ok(()) => Ok(()),
        // Read the settings after the failed attempt: another thread may have configured the
        // same precision between a read before and the attempt.
        Err(_) if inner.settings().float_dtype == wanted => Ok(()),
        Err(_) => Err(Error::DeviceAlreadyConfigured {
            device: format!("{device:?}"),
            precision: precision.to_string(),
        }),
    }
}

/// The default float precision the device currently uses.
pub fn precision_of(device: &Device) -> Precision {
    match device.clone().without_autodiff().settings().float_dtype {
        FloatDType::F64 => Precision::F64,
        _ => Precision::F32,
    }
}

/// Seeds the device's random number generator so that parameter initialisation and random
/// tensors repeat from run to run (exactly on CPU backends).
///
/// burn creates weights lazily: a model's parameters are drawn when first used, so draw other
/// random tensors only after the model has been touched if runs must repeat.
pub fn seed(device: &Device, seed: u64) {
    device.seed(seed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_case_insensitively() {
        assert_eq!("FLEX".parse::<BackendKind>().unwrap(), BackendKind::Flex);
        assert_eq!(
            " ndarray ".parse::<BackendKind>().unwrap(),
            BackendKind::Ndarray
        );
        assert_eq!("wgpu".parse::<BackendKind>().unwrap(), BackendKind::Wgpu);
    }

    #[test]
    fn unknown_name_lists_valid_ones() {
        let err = "cuda".parse::<BackendKind>().unwrap_err().to_string();
        assert!(err.contains("`cuda`"), "{err}");
        assert!(err.contains("flex, ndarray, wgpu"), "{err}");
    }

    #[test]
    fn cpu_devices_are_recognised() {
        assert_eq!(
            backend_of(&device(BackendKind::Flex).unwrap()),
            Some(BackendKind::Flex)
        );
        assert_eq!(
            backend_of(&autodiff_device(BackendKind::Ndarray).unwrap()),
            Some(BackendKind::Ndarray)
        );
    }

    #[cfg(not(feature = "wgpu"))]
    #[test]
    fn wgpu_without_feature_says_how_to_enable_it() {
        let err = device(BackendKind::Wgpu).unwrap_err().to_string();
        assert!(err.contains("--features wgpu"), "{err}");
    }
}
