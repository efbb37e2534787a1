//! Benchmark `gemm`: GFLOP/s of f32 matrix products through burn on kiln's backends, next to the
//! machine's peak.
//!
//! Shapes: square products (512³, 1024³, 2048³), the two products of a modern Hopfield update
//! (1024 queries, 10 000 stored patterns of dimension 256) and the two kinds of product in a 2-D
//! FNO layer (a truncated DFT along a grid axis, and the per-mode channel mixing, batched).
//! Each figure is the median over timed repetitions after warm-up, the backends taking turns.
//!
//! The peak is `cores × f32 SIMD lanes × 2 (an FMA is two flops) × FMA units × clock`, every
//! factor read off the machine: the clock from a chain of dependent register additions (one per
//! cycle), the lanes from the CPU's features, and the FMA units from the throughput of an
//! independent-FMA loop at that clock (rounded). `fma_loop_gflops` is that loop's own rate
//! times the cores. A correctness check compares one product with an f64 reference, so a run on
//! a CPU without AVX-512 (e.g. under valgrind, which hides it) shows that gemm's kernels are
//! chosen at run time.
//!
//! `cargo xtask bench gemm [-- --quick] [--backend B]` writes `target/kiln-bench/gemm.json`:
//! one record per backend with `gflops_<shape>`, `fraction_of_peak_<shape>` and the peak.

use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use kiln_core::BackendKind;

/// A product `[batch] × [m, k] × [k, n]`.
struct Shape {
    label: &'static str,
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
}

const SHAPES: [Shape; 7] = [
    Shape {
        label: "square_512",
        batch: 1,
        m: 512,
        k: 512,
        n: 512,
    },
    Shape {
        label: "square_1024",
        batch: 1,
        m: 1024,
        k: 1024,
        n: 1024,
    },
    Shape {
        label: "square_2048",
        batch: 1,
        m: 2048,
        k: 2048,
        n: 2048,
    },
    // Hopfield scores β Q Xᵀ and read-out softmax(..) X.
    Shape {
        label: "hopfield_scores",
        batch: 1,
        m: 1024,
        k: 256,
        n: 10_000,
    },
    Shape {
        label: "hopfield_readout",
        batch: 1,
        m: 1024,
        k: 10_000,
        n: 256,
    },
    // FNO-2-D, batch 32, width 32, 32 × 32 grid, 8 × 16 modes: DFT along w, channel mixing.
    Shape {
        label: "fno_dft",
        batch: 1,
        m: 32 * 32 * 32,
        k: 32,
        n: 16,
    },
    Shape {
        label: "fno_mixing",
        batch: 128,
        m: 32,
        k: 64,
        n: 64,
    },
];

/// Seconds of timed repetitions per shape and backend (at least `MIN_REPS`).
const TIME_BUDGET_S: f64 = 0.4;
const MIN_REPS: usize = 5;
const ROUNDS: usize = 3;

fn main() -> kiln_core::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let backends = kiln_core::report::bench_backends(&[BackendKind::Flex, BackendKind::Ndarray])?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let peak = peak::measure(threads);
    match &peak {
        Some(p) => println!(
            "gemm peak: {threads} cores x {} lanes x 2 x {} FMA units x {:.2} GHz = {:.0} GFLOP/s \
             (FMA loop {:.0} GFLOP/s)",
            p.lanes, p.fma_units, p.clock_ghz, p.gflops, p.fma_loop_gflops
        ),
        None => println!("gemm peak: not measured on this architecture"),
    }
    let shapes: Vec<&Shape> = SHAPES
        .iter()
        .filter(|s| !quick || s.m * s.n * s.k * s.batch <= 1 << 27)
        .collect();
    let mut times: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); shapes.len()]; backends.len()];
    let devices: Vec<Device> = backends
        .iter()
        .map(|&b| kiln_core::device(b))
        .collect::<kiln_core::Result<_>>()?;
    let rounds = if quick { 1 } else { ROUNDS };
    for round in 0..rounds {
        for (b, device) in devices.iter().enumerate() {
            for (s, shape) in shapes.iter().enumerate() {
                times[b][s].extend(time_product(shape, device, round == 0));
            }
        }
    }
    let mut records = Vec::new();
    for (b, (&backend, device)) in backends.iter().zip(&devices).enumerate() {
        let max_err = check(device);
        let mut metrics = serde_json::Map::new();
        metrics.insert("max_rel_err_vs_f64".into(), max_err.into());
        // The peak is the CPU's: it says nothing about a GPU backend.
        let peak = peak.as_ref().filter(|_| backend.is_cpu());
        if let Some(p) = peak {
            metrics.insert("peak_gflops".into(), p.gflops.into());
            metrics.insert("fma_loop_gflops".into(), p.fma_loop_gflops.into());
            metrics.insert("clock_ghz".into(), p.clock_ghz.into());
            metrics.insert("simd_lanes_f32".into(), p.lanes.into());
            metrics.insert("fma_units".into(), p.fma_units.into());
        }
        let mut line = format!("gemm backend={backend} max_rel_err={max_err:.1e}");
        for (s, shape) in shapes.iter().enumerate() {
            let seconds = median(&times[b][s]);
            let flops = 2.0 * (shape.batch * shape.m * shape.k * shape.n) as f64;
            let gflops = flops / seconds / 1e9;
            metrics.insert(format!("gflops_{}", shape.label), gflops.into());
            metrics.insert(format!("ms_{}", shape.label), (seconds * 1e3).into());
            line += &format!(" {}={gflops:.1}", shape.label);
            if let Some(p) = peak {
                let fraction = gflops / p.gflops;
                metrics.insert(format!("fraction_of_peak_{}", shape.label), fraction.into());
                line += &format!(" ({:.0}%)", 100.0 * fraction);
            }
        }
        println!("{line}");
        records.push(serde_json::json!({
            "name": "gemm",
            "backend": backend.name(),
            "device": format!("{device:?}"),
            "threads": threads,
            "metrics": metrics,
        }));
    }
    kiln_core::report::write_bench("gemm", &records)?;
    Ok(())
}

/// Times repeated products of one shape (after a warm-up product when `warm_up`).
fn time_product(shape: &Shape, device: &Device, warm_up: bool) -> Vec<f64> {
    let dist = Distribution::Uniform(-1.0, 1.0);
    let a = Tensor::<3>::random([shape.batch, shape.m, shape.k], dist, device);
    let b = Tensor::<3>::random([shape.batch, shape.k, shape.n], dist, device);
    let product = || {
        let c = a.clone().matmul(b.clone());
        // Reading one entry waits for the product on asynchronous backends.
        let _ = c.slice([0..1, 0..1, 0..1]).into_scalar::<f32>();
    };
    if warm_up {
        product();
    }
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < MIN_REPS || start.elapsed().as_secs_f64() < TIME_BUDGET_S {
        let t = Instant::now();
        product();
        times.push(t.elapsed().as_secs_f64());
    }
    times
}

/// Largest relative error of a `[96, 200] × [200, 72]` product against an f64 reference.
fn check(device: &Device) -> f64 {
    let (m, k, n) = (96, 200, 72);
    let a: Vec<f32> = (0..m * k)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    let b: Vec<f32> = (0..k * n)
        .map(|i| ((i * 104_729) % 997) as f32 / 498.5 - 1.0)
        .collect();
    let ta = Tensor::<2>::from_data(TensorData::new(a.clone(), [m, k]), device);
    let tb = Tensor::<2>::from_data(TensorData::new(b.clone(), [k, n]), device);
    let c: Vec<f32> = ta.matmul(tb).into_data().iter::<f32>().collect();
    let mut worst = 0.0_f64;
    for i in 0..m {
        for j in 0..n {
            let (mut exact, mut scale) = (0.0_f64, 0.0_f64);
            for l in 0..k {
                let p = f64::from(a[i * k + l]) * f64::from(b[l * n + j]);
                exact += p;
                scale += p.abs();
            }
            worst = worst.max((f64::from(c[i * n + j]) - exact).abs() / scale.max(1e-30));
        }
    }
    worst
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[path = "common/peak.rs"]
mod peak;
