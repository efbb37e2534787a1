//! Benchmark `robertson`: Kvaerno5 on Robertson's stiff chemical kinetics to t = 100 at
//! rtol 1e-6 (atol 1e-10), in f64 where the backend supports it.
//!
//! Reports the median wall time of a few solves, the steps, the vector-field evaluations (NFE,
//! Jacobian evaluations included) and the largest relative error against the stiff test set's
//! reference. The backend comes from `KILN_BACKEND` (flex by default).
//!
//! `cargo run --release -p kiln-neural-de --example bench_robertson` writes
//! `target/kiln-bench/robertson.json` (or the path after `--out`): an array with one
//! `{"name", "backend", "threads", "metrics"}` object.

use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use kiln_core::{BackendKind, Precision};
use kiln_neural_de::implicit::Kvaerno5;
use kiln_neural_de::{SolveOptions, Time, solve};

/// Reference at t = 100: y1 and y3 from the stiff test set (0.617234906, 0.382758940; published
/// to six digits as 0.617235 and 0.382759); y2 (published 6.1536e-6) from the quasi-steady state
/// `0.04 y1 = 1e4 y2 y3 + 3e7 y2²`, accurate to about 1e-6 relative.
fn reference() -> [f64; 3] {
    let (y1, y3): (f64, f64) = (0.617_234_906, 0.382_758_940);
    let (a, b, c) = (3e7, 1e4 * y3, -0.04 * y1);
    [y1, (-b + (b * b - 4.0 * a * c).sqrt()) / (2.0 * a), y3]
}
const RUNS: usize = 5;

/// Robertson's reaction rates: `y1' = -0.04 y1 + 1e4 y2 y3`, `y3' = 3e7 y2²`, mass conserved.
fn robertson(_t: &Time, y: &Tensor<2>) -> Tensor<2> {
    let y1 = y.clone().narrow(1, 0, 1);
    let y2 = y.clone().narrow(1, 1, 1);
    let y3 = y.clone().narrow(1, 2, 1);
    let r1 = y1.mul_scalar(0.04);
    let r2 = y2.clone().square().mul_scalar(3e7);
    let r3 = y2.mul(y3).mul_scalar(1e4);
    Tensor::cat(
        vec![r3.clone().sub(r1.clone()), r1.sub(r2.clone()).sub(r3), r2],
        1,
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let backend = BackendKind::from_env()?;
    let device: Device = kiln_core::device(backend)?;
    let precision = if backend.is_cpu() {
        kiln_core::device::configure_precision(&device, Precision::F64)?;
        Precision::F64
    } else {
        Precision::F32
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (rtol, atol) = (1e-6, 1e-10);
    // Newton's tolerances follow the controller's.
    let solver = Kvaerno5::new();
    let options = SolveOptions::adaptive(rtol, atol);

    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        let y0 = Tensor::<2>::from_data(TensorData::new(vec![1.0, 0.0, 0.0], [1, 3]), &device);
        let start = Instant::now();
        let solution = solve(&robertson, &solver, (0.0, 100.0), y0, &options)?;
        let y: Vec<f64> = solution.last().clone().into_data().iter::<f64>().collect();
        times.push(start.elapsed().as_secs_f64());
        last = Some((solution.stats, y));
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let wall_s = times[times.len() / 2];
    let (stats, y) = last.expect("at least one run");
    let max_rel_err = y
        .iter()
        .zip(reference())
        .map(|(got, want)| ((got - want) / want).abs())
        .fold(0.0, f64::max);
    println!(
        "robertson backend={backend} precision={precision} threads={threads} wall_s={wall_s:.4} \
         steps={} accepted={} rejected={} nfe={} max_rel_err={max_rel_err:.2e}",
        stats.steps, stats.accepted, stats.rejected, stats.nfe
    );
    let record = serde_json::json!({
        "name": "robertson",
        "backend": backend.name(),
        "threads": threads,
        "metrics": {
            "wall_s": wall_s,
            "steps": stats.steps,
            "accepted": stats.accepted,
            "rejected": stats.rejected,
            "nfe": stats.nfe,
            "max_rel_err": max_rel_err,
        },
    });
    kiln_core::report::write_bench("robertson", &[record])?;
    Ok(())
}
