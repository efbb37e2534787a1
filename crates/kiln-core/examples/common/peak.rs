//! The machine's f32 peak, read off the machine: the clock from a chain of dependent register
//! additions, the SIMD width from the CPU's features, and the FMA units from an independent-FMA
//! loop's throughput at that clock.

use std::time::Instant;

/// The measured peak of this machine.
pub(crate) struct Peak {
    /// Cycles per second of one core, in GHz, while it runs scalar code.
    pub(crate) clock_ghz: f64,
    /// f32 lanes of the widest vector FMA (16 with AVX-512, 8 with AVX2).
    pub(crate) lanes: usize,
    /// FMAs a core retires per cycle (the loop's throughput, rounded).
    pub(crate) fma_units: usize,
    /// `cores × lanes × 2 × fma_units × clock`.
    pub(crate) gflops: f64,
    /// The FMA loop's own rate on one core, times the cores.
    pub(crate) fma_loop_gflops: f64,
}

/// Measures the peak; `None` off x86-64 or without AVX2 and FMA.
pub(crate) fn measure(cores: usize) -> Option<Peak> {
    #[cfg(target_arch = "x86_64")]
    {
        x86::measure(cores)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = cores;
        None
    }
}

/// The best of `tries` timings of `f`, in seconds.
fn best_of(tries: usize, mut f: impl FnMut()) -> f64 {
    (0..tries)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::asm;

    use super::{Peak, best_of};

    const CLOCK_ITERS: u64 = 40_000_000;
    const FMA_ITERS: u64 = 20_000_000;
    /// Independent FMA chains: enough to cover 4-cycle latency on two units.
    const CHAINS: u64 = 12;

    /// Eight dependent register additions per iteration: eight cycles, whatever the loop
    /// overhead. (Additions of an immediate are not used: recent cores fold chains of them at
    /// register renaming and retire several per cycle.)
    fn clock_ghz() -> f64 {
        let seconds = best_of(3, || unsafe {
            asm!(
                "2:",
                "add {x}, {one}", "add {x}, {one}", "add {x}, {one}", "add {x}, {one}",
                "add {x}, {one}", "add {x}, {one}", "add {x}, {one}", "add {x}, {one}",
                "sub {n}, 1",
                "jnz 2b",
                n = inout(reg) CLOCK_ITERS => _,
                x = inout(reg) 0u64 => _,
                one = in(reg) 1u64,
                options(nostack, nomem),
            );
        });
        8.0 * CLOCK_ITERS as f64 / seconds / 1e9
    }

    macro_rules! fma_loop {
        ($name:ident, $feature:literal, $reg:literal) => {
            /// Seconds for `FMA_ITERS` iterations of `CHAINS` independent vector FMAs.
            #[target_feature(enable = $feature)]
            unsafe fn $name() -> f64 {
                best_of(3, || unsafe {
                    asm!(
                        concat!("vxorps ", $reg, "0, ", $reg, "0, ", $reg, "0"),
                        "2:",
                        concat!("vfmadd231ps ", $reg, "0, ", $reg, "12, ", $reg, "13"),
                        concat!("vfmadd231ps ", $reg, "1, ", $reg, "12, ", $reg, "13"),
                        concat!("vfmadd231ps ", $reg, "2, ", $reg, "12, ", $reg, "13"),
                        concat!("vfmadd231ps ", $reg, "3, ", $reg, "12, ", $reg, "13"),
                        concat!("vfmadd231ps ", $reg, "4, ", $reg, "12, ", $reg, "13"),
                        concat!("vfmadd231ps ", $reg, "5, ", $reg, "12, ", $reg, "13"),
                        concat!("vfmadd231ps ", $reg, "6, ", $reg, "12, ", $reg, "13"),
                        concat!("vfmadd231ps ", $reg, "7, ", $reg, "12, ", $reg, "13"),
                        concat!("vfmadd231ps ", $reg, "8, ", $reg, "12, ", $reg, "13"),
                        concat!("vfmadd231ps ", $reg, "9, ", $reg, "12, ", $reg, "13"),
                        concat!("vfmadd231ps ", $reg, "10, ", $reg, "12, ", $reg, "13"),
                        concat!("vfmadd231ps ", $reg, "11, ", $reg, "12, ", $reg, "13"),
                        "sub {n}, 1",
                        "jnz 2b",
                        n = inout(reg) FMA_ITERS => _,
                        out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
                        out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
                        out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
                        out("xmm12") _, out("xmm13") _,
                        options(nostack, nomem),
                    );
                })
            }
        };
    }

    fma_loop!(fma_avx512, "avx512f", "zmm");
    fma_loop!(fma_avx2, "avx2,fma", "ymm");

    pub(super) fn measure(cores: usize) -> Option<Peak> {
        let (lanes, seconds) = if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked above).
            (16, unsafe { fma_avx512() })
        } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            (8, unsafe { fma_avx2() })
        } else {
            return None;
        };
        let clock_ghz = clock_ghz();
        let fmas_per_s = (CHAINS * FMA_ITERS) as f64 / seconds;
        let fma_units = (fmas_per_s / (clock_ghz * 1e9)).round().max(1.0) as usize;
        let per_fma = 2.0 * lanes as f64;
        Some(Peak {
            clock_ghz,
            lanes,
            fma_units,
            gflops: cores as f64 * per_fma * fma_units as f64 * clock_ghz,
            fma_loop_gflops: cores as f64 * per_fma * fmas_per_s / 1e9,
        })
    }
}
