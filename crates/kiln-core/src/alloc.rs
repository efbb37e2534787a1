//! Keeps glibc's malloc from handing a training step's memory back to the kernel between steps.
//! Called when kiln creates a device ([`crate::device()`]) and when a trainer starts, so every
//! kiln program on the CPU backends gets it.
//!
//! Every step allocates and frees the same large tensors (a PINN's jet stacks are ~1 MB each).
//! With glibc's dynamic thresholds, the freed top of the heap is trimmed after each step and the
//! next step page-faults it back in: on the Burgers PINN that was a quarter of the step's CPU
//! time, all of it in the kernel. Raising the mmap and trim thresholds once per process keeps
//! that memory mapped (bounded by the thresholds below). Users who tune malloc themselves
//! through `GLIBC_TUNABLES` or `MALLOC_*` variables are left alone; other platforms and
//! allocators are untouched.

/// Raises glibc's mmap and trim thresholds once per process (see the module docs).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn retain_freed_memory() {
    use std::sync::Once;

    /// `M_TRIM_THRESHOLD` and `M_MMAP_THRESHOLD` from glibc's `malloc.h`.
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_THRESHOLD: i32 = -3;
    /// Blocks up to this size come from the heap (glibc's own dynamic ceiling is 32 MiB).
    const MMAP_THRESHOLD: i32 = 32 << 20;
    /// Freed memory kept at the top of the heap before it is returned.
    const TRIM_THRESHOLD: i32 = 256 << 20;

    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }

    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let user_tuned = std::env::vars_os().any(|(k, _)| {
            let k = k.to_string_lossy();
            k == "GLIBC_TUNABLES" || k.starts_with("MALLOC_")
        });
        if !user_tuned {
            // SAFETY: mallopt only changes tuning parameters of glibc's allocator; it is
            // thread-safe and valid at any point of the process's life. A rejected value leaves
            // the default in place, which is harmless.
            unsafe {
                mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
                mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
            }
        }
    });
}

/// Other platforms and allocators: nothing to tune.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn retain_freed_memory() {}
