//! Shared helpers of kiln-pinn's integration tests (included with `mod common;`).
#![allow(dead_code, unreachable_pub)]

use burn::tensor::Device;
use kiln_core::BackendKind;

/// The autodiff device of the backend `KILN_BACKEND` names.
pub fn device() -> Device {
    kiln_core::autodiff_device(BackendKind::from_env().expect("KILN_BACKEND names a backend"))
        .expect("the backend is compiled in")
}
