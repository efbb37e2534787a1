//! Benchmark `ode-lorenz`: 1024 Lorenz trajectories from `1 + 0.1 N(0, 1)` over t ∈ [0, 10] with
//! Dopri5 at rtol 1e-6, atol 1e-9 in f64, on one shared step sequence and with per-sample steps;
//! accuracy at t = 1 against a DOP853 solve at 1e-12.
//!
//! `cargo xtask bench ode-lorenz` writes `target/kiln-bench/ode-lorenz.json` with one record per
//! CPU backend (`wall_s`, `nfe`, `max_abs_err_t1`, `wall_s_per_sample`, ...). The flex record also
//! carries `wall_s_host_batched`: the same 1024 trajectories as one `[1024 · 3]` state through
//! [`solve_host`] (shared steps, the field a loop over the batch on plain `f64` slices), which
//! has no tensor dispatch per operation, and its error at t = 1 against the same reference.

#[path = "common/lorenz.rs"]
mod lorenz;

use std::time::Instant;

use kiln_core::burn::tensor::{Device, Tensor, TensorData};
use kiln_core::{BackendKind, Precision};
use kiln_neural_de::{ExplicitRk, Method, SolveOptions, solve, solve_host};

const BATCH: usize = 1024;
const REPEATS: usize = 5;

fn run(device: &Device, backend: BackendKind) -> kiln_neural_de::Result<serde_json::Value> {
    let y0 = Tensor::<2>::from_data(
        TensorData::new(lorenz::initial_conditions(BATCH, 2024), [BATCH, 3]),
        device,
    );
    let options = SolveOptions::adaptive(1e-6, 1e-9).save_times(vec![1.0, 10.0]);
    let solver = ExplicitRk::dopri5();
    let field = lorenz::Lorenz::new(device);
    // Reference at t = 1.
    let reference = solve(
        &field,
        &ExplicitRk::dopri8(),
        (0.0, 1.0),
        y0.clone(),
        &SolveOptions::adaptive(1e-12, 1e-12),
    )?;
    let reference = reference.last().clone();
    let reference_t1: Vec<f64> = reference.clone().into_data().iter::<f64>().collect();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..REPEATS {
        let start = Instant::now();
        let sol = solve(&field, &solver, (0.0, 10.0), y0.clone(), &options)?;
        let _ = sol.last().clone().sum().into_scalar::<f64>();
        times.push(start.elapsed().as_secs_f64());
        last = Some(sol);
    }
    let sol = last.expect("at least one repeat");
    let err = sol.ys[0]
        .clone()
        .sub(reference.clone())
        .abs()
        .max()
        .into_scalar::<f64>();
    let mut per_sample_times = Vec::new();
    let mut per_sample = None;
    for _ in 0..REPEATS.min(3) {
        let start = Instant::now();
        let sol = solve(
            &field,
            &solver,
            (0.0, 10.0),
            y0.clone(),
            &options.clone().per_sample(),
        )?;
        let _ = sol.last().clone().sum().into_scalar::<f64>();
        per_sample_times.push(start.elapsed().as_secs_f64());
        per_sample = Some(sol);
    }
    let per_sample = per_sample.expect("at least one repeat");
    let err_per_sample = per_sample.ys[0]
        .clone()
        .sub(reference)
        .abs()
        .max()
        .into_scalar::<f64>();
    let steps = per_sample
        .stats
        .accepted_per_sample
        .clone()
        .unwrap_or_default();
    let mean_steps = steps.iter().sum::<usize>() as f64 / steps.len().max(1) as f64;
    // The same solve with the field written with column slices and a concatenation.
    let mut cat_times = Vec::new();
    for _ in 0..REPEATS.min(3) {
        let start = Instant::now();
        let sol = solve(
            &lorenz::field_cat,
            &solver,
            (0.0, 10.0),
            y0.clone(),
            &options,
        )?;
        let _ = sol.last().clone().sum().into_scalar::<f64>();
        cat_times.push(start.elapsed().as_secs_f64());
    }
    let wall_cat = lorenz::median(cat_times);
    // The batch as one flat host state.
    let flat = lorenz::initial_conditions(BATCH, 2024);
    let batched_field = |_t: f64, y: &[f64], dy: &mut [f64]| {
        for (y, dy) in y.chunks_exact(3).zip(dy.chunks_exact_mut(3)) {
            dy.copy_from_slice(&lorenz::field_f64(&[y[0], y[1], y[2]]));
        }
    };
    let mut host_times = Vec::new();
    let mut host = None;
    for _ in 0..REPEATS {
        let start = Instant::now();
        let sol = solve_host(
            batched_field,
            Method::Dopri5,
            (0.0, 10.0),
            std::hint::black_box(&flat),
            &options,
        )?;
        host_times.push(start.elapsed().as_secs_f64());
        host = Some(sol);
    }
    let host = host.expect("at least one repeat");
    let err_host = host.ys[0]
        .iter()
        .zip(&reference_t1)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let wall_host = lorenz::median(host_times);
    let wall = lorenz::median(times);
    let wall_per_sample = lorenz::median(per_sample_times);
    println!(
        "ode-lorenz backend={backend} shared: wall_s={wall:.4} (cat field {wall_cat:.4}) nfe={} steps={} max_abs_err_t1={err:.2e} | per-sample: wall_s={wall_per_sample:.4} nfe={} mean_steps={mean_steps:.1} max_steps={} max_abs_err_t1={err_per_sample:.2e} | host batched: wall_s={wall_host:.4} steps={} max_abs_err_t1={err_host:.2e}",
        sol.stats.nfe,
        sol.stats.accepted,
        per_sample.stats.nfe,
        steps.iter().max().unwrap_or(&0),
        host.stats.accepted,
    );
    Ok(serde_json::json!({
        "name": "ode-lorenz",
        "backend": backend.name(),
        "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "metrics": {
            "wall_s": wall,
            "nfe": sol.stats.nfe,
            "steps": sol.stats.accepted,
            "max_abs_err_t1": err,
            "wall_s_per_sample": wall_per_sample,
            "nfe_per_sample": per_sample.stats.nfe,
            "mean_steps_per_sample": mean_steps,
            "max_abs_err_t1_per_sample": err_per_sample,
            "wall_s_cat_field": wall_cat,
            "wall_s_host_batched": wall_host,
            "steps_host_batched": host.stats.accepted,
            "max_abs_err_t1_host_batched": err_host,
        },
    }))
}

fn main() -> kiln_neural_de::Result<()> {
    let mut records = Vec::new();
    for backend in [BackendKind::Flex, BackendKind::Ndarray] {
        let device = kiln_core::device(backend)?;
        kiln_core::device::configure_precision(&device, Precision::F64)?;
        records.push(run(&device, backend)?);
    }
    kiln_core::report::write_bench("ode-lorenz", &records)?;
    Ok(())
}
