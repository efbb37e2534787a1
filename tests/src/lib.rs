//! Shared helpers for kiln's cross-crate integration and property suites.

use kiln_core::BackendKind;
use kiln_core::burn::tensor::Tensor;

/// The backend under test: `KILN_BACKEND`, flex by default.
///
/// # Panics
/// If `KILN_BACKEND` names no backend (a test-setup error).
pub fn backend() -> BackendKind {
    BackendKind::from_env().expect("KILN_BACKEND names a backend")
}

/// Largest elementwise |a − b| / (1 + |b|) between two tensors of equal shape.
///
/// # Panics
/// If the shapes differ.
pub fn max_rel_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f64 {
    assert_eq!(a.dims(), b.dims(), "compared tensors differ in shape");
    let a = kiln_core::tensor::to_f64_vec(a);
    let b = kiln_core::tensor::to_f64_vec(b);
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs() / (1.0 + y.abs()))
        .fold(0.0, f64::max)
}
