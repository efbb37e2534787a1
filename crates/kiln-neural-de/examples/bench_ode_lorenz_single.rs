//! Benchmark `ode-lorenz-single`: one Lorenz trajectory over t ∈ [0, 10] with Dopri5 at rtol
//! 1e-6, atol 1e-9 in f64: microseconds per step of the tensor solver against the same method,
//! controller and tolerances written as a plain Rust loop over `[f64; 3]` (the physical floor of
//! one step: no tensors, no allocation, no dispatch).
//!
//! kiln's own f64 path ([`kiln_neural_de::solve_host`], same tableaux and controller without
//! tensors) is timed too.
//!
//! `cargo xtask bench ode-lorenz-single` writes `target/kiln-bench/ode-lorenz-single.json`
//! (`us_per_step` of the tensor solver, `floor_us_per_step`, `ratio`, `host_us_per_step`,
//! `host_ratio`), one record per CPU backend.

#[path = "common/lorenz.rs"]
mod lorenz;

use std::time::Instant;

use kiln_core::burn::tensor::{Tensor, TensorData};
use kiln_core::{BackendKind, Precision};
use kiln_neural_de::{ExplicitRk, Method, SolveOptions, solve};

const RTOL: f64 = 1e-6;
const ATOL: f64 = 1e-9;

/// Dopri5 with the crate's defaults (Hairer's initial step, PI control with β = 0.04, safety
/// 0.9, factors 0.2..10) on a plain `[f64; 3]`: returns the final state and accepted steps.
fn plain_dopri5(y0: [f64; 3], t1: f64) -> ([f64; 3], usize) {
    let tab = Method::Dopri5.tableau();
    let kiln_neural_de::tableau::ErrorEstimator::Embedded { weights: e, .. } = &tab.error else {
        unreachable!("Dopri5 has an embedded estimate")
    };
    let f = lorenz::field_f64;
    let norm = |x: &[f64; 3], y: &[f64; 3]| -> f64 {
        (x.iter()
            .zip(y)
            .map(|(x, y)| (x / (ATOL + RTOL * y.abs())).powi(2))
            .sum::<f64>()
            / 3.0)
            .sqrt()
    };
    let mut y = y0;
    let mut f0 = f(&y);
    // Hairer's initial step.
    let (d0, d1) = (norm(&y, &y), norm(&f0, &y));
    let h0 = if d0 < 1e-5 || d1 < 1e-5 {
        1e-6
    } else {
        0.01 * d0 / d1
    };
    let y_trial = [y[0] + h0 * f0[0], y[1] + h0 * f0[1], y[2] + h0 * f0[2]];
    let f_trial = f(&y_trial);
    let diff = [f_trial[0] - f0[0], f_trial[1] - f0[1], f_trial[2] - f0[2]];
    let d2 = norm(&diff, &y) / h0;
    let h1 = if d1.max(d2) <= 1e-15 {
        (h0 * 1e-3).max(1e-6)
    } else {
        (0.01 / d1.max(d2)).powf(1.0 / 5.0)
    };
    let mut h = (100.0 * h0).min(h1);
    let (mut t, mut steps, mut err_prev, mut after_reject) = (0.0, 0usize, 1.0f64, false);
    let mut k = [[0.0; 3]; 7];
    while t < t1 {
        let h_try = h.min(t1 - t);
        k[0] = f0;
        for i in 1..6 {
            let mut yi = y;
            for (j, a) in tab.a[i].iter().enumerate() {
                for d in 0..3 {
                    yi[d] += h_try * a * k[j][d];
                }
            }
            k[i] = f(&yi);
        }
        let mut y1 = y;
        for (j, b) in tab.b.iter().enumerate() {
            for d in 0..3 {
                y1[d] += h_try * b * k[j][d];
            }
        }
        k[6] = f(&y1);
        let mut err = [0.0; 3];
        for (j, w) in e.iter().enumerate() {
            for d in 0..3 {
                err[d] += h_try * w * k[j][d];
            }
        }
        let scale = [
            y[0].abs().max(y1[0].abs()),
            y[1].abs().max(y1[1].abs()),
            y[2].abs().max(y1[2].abs()),
        ];
        let en = norm(&err, &scale);
        if en <= 1.0 {
            let fac = if en == 0.0 {
                10.0
            } else {
                0.9 * en.powf(-(0.2 - 0.75 * 0.04)) * err_prev.powf(0.04)
            };
            let max = if after_reject { 1.0 } else { 10.0 };
            t = if h_try < h { t1 } else { t + h_try };
            y = y1;
            f0 = k[6];
            steps += 1;
            err_prev = en.max(1e-4);
            after_reject = false;
            h = h_try * fac.clamp(0.2, max);
        } else {
            after_reject = true;
            h = h_try * (0.9 * en.powf(-0.2)).clamp(0.2, 1.0);
        }
    }
    (y, steps)
}

fn main() -> kiln_neural_de::Result<()> {
    let y0 = lorenz::initial_conditions(1, 2024);
    let y0_array = [y0[0], y0[1], y0[2]];
    // The floor: many repetitions of the plain loop.
    let mut floor_times = Vec::new();
    let mut floor = ([0.0; 3], 0);
    for _ in 0..50 {
        let start = Instant::now();
        floor = std::hint::black_box(plain_dopri5(std::hint::black_box(y0_array), 10.0));
        floor_times.push(start.elapsed().as_secs_f64() / floor.1 as f64 * 1e6);
    }
    let floor_us = lorenz::median(floor_times);
    let mut host_times = Vec::new();
    let mut host_steps = 0;
    for _ in 0..50 {
        let start = Instant::now();
        let sol = kiln_neural_de::solve_host(
            |_t, y: &[f64], dy: &mut [f64]| {
                dy.copy_from_slice(&lorenz::field_f64(&[y[0], y[1], y[2]]))
            },
            Method::Dopri5,
            (0.0, 10.0),
            std::hint::black_box(&y0),
            &SolveOptions::adaptive(RTOL, ATOL),
        )?;
        host_steps = sol.stats.accepted;
        host_times.push(start.elapsed().as_secs_f64() / host_steps as f64 * 1e6);
    }
    let host_us = lorenz::median(host_times);
    let mut records = Vec::new();
    for backend in [BackendKind::Flex, BackendKind::Ndarray] {
        let device = kiln_core::device(backend)?;
        kiln_core::device::configure_precision(&device, Precision::F64)?;
        let y0t = Tensor::<2>::from_data(TensorData::new(y0.clone(), [1, 3]), &device);
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..5 {
            let start = Instant::now();
            let sol = solve(
                &lorenz::Lorenz::new(&device),
                &ExplicitRk::dopri5(),
                (0.0, 10.0),
                y0t.clone(),
                &SolveOptions::adaptive(RTOL, ATOL),
            )?;
            let _ = sol.last().clone().sum().into_scalar::<f64>();
            times.push(start.elapsed().as_secs_f64() / sol.stats.accepted as f64 * 1e6);
            last = Some(sol);
        }
        let sol = last.expect("repeats ran");
        let us = lorenz::median(times);
        let end: Vec<f64> = sol.last().clone().into_data().iter::<f64>().collect();
        let agree = end
            .iter()
            .zip(floor.0)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        println!(
            "ode-lorenz-single backend={backend} us_per_step={us:.1} floor_us_per_step={floor_us:.3} ratio={:.0} host_us_per_step={host_us:.3} host_ratio={:.2} steps={} host_steps={host_steps} floor_steps={} max_diff_vs_floor={agree:.1e}",
            us / floor_us,
            host_us / floor_us,
            sol.stats.accepted,
            floor.1
        );
        records.push(serde_json::json!({
            "name": "ode-lorenz-single",
            "backend": backend.name(),
            "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "metrics": {
                "us_per_step": us,
                "floor_us_per_step": floor_us,
                "ratio": us / floor_us,
                "steps": sol.stats.accepted,
                "floor_steps": floor.1,
                "host_us_per_step": host_us,
                "host_ratio": host_us / floor_us,
            },
        }));
    }
    kiln_core::report::write_bench("ode-lorenz-single", &records)?;
    Ok(())
}
