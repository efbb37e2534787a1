//! Benchmark `ernode`: what the cost regularisers buy, in prediction NFE at a measured accuracy,
//! on two tasks, with a sweep of each regulariser's weight. Everything runs in f64, so that
//! round-off (f32's ε is close to the spiral's rtol 1e-7) plays no part in the error estimates
//! that ERNODE regularises.
//!
//! - `spiral`: torchdiffeq's spiral (the `node-spiral` setup with RMSprop 1e-3 annealed to zero
//!   by a cosine, so that the final MAE is a converged, stable measure of accuracy rather than a
//!   draw from the constant-rate oscillation; seed 0, 2000 iterations, Dopri5 at rtol 1e-7,
//!   atol 1e-9). Prediction: the 1000-point trajectory from y0 = [2, 0]. Reference: the NFE of
//!   the true field on the same solve, a floor for any model that fits the spiral.
//! - `series`: an irregularly sampled, noisy, partly missing time series of a damped pendulum
//!   fitted by an augmented neural ODE (see `common/series.rs`; 300 Adam iterations, Dopri5 at
//!   rtol 1e-4; three seeds, rows report means). Prediction: 128 fresh series at 101 times in
//!   one solve; accuracy: their MSE against the noise-free truth.
//!
//! Rows: no regulariser, RNODE (kinetic energy and Hutchinson Jacobian norm), ERNODE's error
//! sum Σ|h|E and stiffness sum Σρ over all accepted steps at several weights, and the local
//! variant at one random time per iteration.
//!
//! `cargo xtask bench ernode` writes `target/kiln-bench/ernode.json` (one record per task and
//! regulariser: `pred_nfe`, `nfe_ratio`, `pred_ms`, `pred_speedup`, `final_mae` or `test_mse`,
//! training cost). `KILN_ERNODE_TASK=spiral` or `series` runs one task only.

#[path = "common/series.rs"]
mod series;
#[path = "common/spiral.rs"]
mod spiral;

use std::time::Instant;

use kiln_core::burn::tensor::Device;
use kiln_core::{BackendKind, Precision};
use kiln_neural_de::{ExplicitRk, SolveOptions};
use serde_json::json;
use spiral::{Recipe, Regulariser};

const SPIRAL_ITERATIONS: usize = 2000;
const SERIES_ITERATIONS: usize = 300;
const SERIES_SEEDS: u64 = 3;

fn ernode(error: f64, stiffness: f64) -> Regulariser {
    Regulariser::Ernode {
        error,
        stiffness,
        local: None,
    }
}

/// The regularisers of a task: none, RNODE, then ERNODE weight sweeps.
fn variants(errors: &[f64], stiffnesses: &[f64], local: f64) -> Vec<Regulariser> {
    let mut v = vec![
        Regulariser::None,
        Regulariser::Rnode {
            kinetic: 0.01,
            jacobian: 0.01,
        },
    ];
    v.extend(errors.iter().map(|&e| ernode(e, 0.0)));
    v.extend(stiffnesses.iter().map(|&s| ernode(0.0, s)));
    v.push(Regulariser::Ernode {
        error: local,
        stiffness: 0.0,
        local: Some(1),
    });
    v
}

/// One table row: name, prediction NFE and ms, training ms and NFE per iteration, accuracy.
struct Row {
    name: String,
    pred_nfe: f64,
    pred_ms: f64,
    train_ms: f64,
    train_nfe: f64,
    accuracy: f64,
    extra: serde_json::Value,
}

fn spiral_rows(device: &Device) -> kiln_neural_de::Result<Vec<Row>> {
    let (ts, _) = spiral::true_trajectory()?;
    let mut rows = Vec::new();
    for reg in variants(&[1e-2, 3e-2, 1e-1, 1.0], &[1e-5, 3e-5, 1e-4, 1e-3], 1e-1) {
        let run = spiral::train(
            SPIRAL_ITERATIONS,
            0,
            reg,
            Recipe::cosine(),
            &device.clone().autodiff(),
        )?;
        let mut times = Vec::new();
        let mut pred_nfe = 0;
        for _ in 0..7 {
            let started = Instant::now();
            let (_, stats) = run.model.forward_with_stats(
                spiral::states(&[[2.0, 0.0]], device),
                &ts,
                &ExplicitRk::dopri5(),
                &SolveOptions::adaptive(spiral::RTOL, spiral::ATOL),
            )?;
            times.push(started.elapsed().as_secs_f64() * 1e3);
            pred_nfe = stats.nfe;
        }
        // The fastest of seven: the least disturbed by other processes on a shared machine.
        times.sort_by(f64::total_cmp);
        let maes: Vec<f64> = run.mae.iter().map(|m| m.1).collect();
        let best = maes.iter().copied().fold(f64::INFINITY, f64::min);
        let row = Row {
            name: reg.name(),
            pred_nfe: pred_nfe as f64,
            pred_ms: times[0],
            train_ms: run.ms_per_iter,
            train_nfe: run.nfe_per_iter,
            accuracy: *maes.last().unwrap_or(&f64::NAN),
            extra: json!({ "best_mae": best }),
        };
        println!(
            "spiral {}: prediction {} NFE, {:.2} ms; training {:.2} ms/it, {:.1} NFE/it; final MAE {:.4} (best {best:.4})",
            row.name, row.pred_nfe, row.pred_ms, row.train_ms, row.train_nfe, row.accuracy
        );
        rows.push(row);
    }
    Ok(rows)
}

fn series_rows(device: &Device) -> kiln_neural_de::Result<Vec<Row>> {
    let mut rows = Vec::new();
    let regs = variants(&[3e-3, 1e-2, 3e-2, 1e-1], &[1e-3, 3e-3, 1e-2], 1e-1);
    for reg in regs {
        let mut runs = Vec::new();
        for seed in 0..SERIES_SEEDS {
            let run = series::train(SERIES_ITERATIONS, seed, reg, &device.clone().autodiff())?;
            println!(
                "series {} seed {seed}: prediction {} NFE, {:.2} ms; training {:.2} ms/it, {:.1} NFE/it; test MSE {:.5}",
                reg.name(),
                run.pred_nfe,
                run.pred_ms,
                run.ms_per_iter,
                run.nfe_per_iter,
                run.test_mse
            );
            runs.push(run);
        }
        let n = runs.len() as f64;
        let mean = |f: &dyn Fn(&series::SeriesRun) -> f64| runs.iter().map(f).sum::<f64>() / n;
        rows.push(Row {
            name: reg.name(),
            pred_nfe: mean(&|r| r.pred_nfe as f64),
            pred_ms: mean(&|r| r.pred_ms),
            train_ms: mean(&|r| r.ms_per_iter),
            train_nfe: mean(&|r| r.nfe_per_iter),
            accuracy: mean(&|r| r.test_mse),
            extra: json!({
                "seeds": SERIES_SEEDS,
                "pred_nfes": runs.iter().map(|r| r.pred_nfe).collect::<Vec<_>>(),
                "test_mses": runs.iter().map(|r| r.test_mse).collect::<Vec<_>>(),
            }),
        });
    }
    Ok(rows)
}

fn table(task: &str, metric: &str, rows: &[Row], backend: &str) -> Vec<serde_json::Value> {
    let (base_nfe, base_ms) = (rows[0].pred_nfe, rows[0].pred_ms);
    println!("\n{task}:");
    println!(
        "| regulariser | prediction NFE | NFE ratio | prediction ms | speed-up | train ms/it | train NFE/it | {metric} |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    rows.iter()
        .map(|r| {
            println!(
                "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.4} |",
                r.name,
                r.pred_nfe,
                r.pred_nfe / base_nfe,
                r.pred_ms,
                base_ms / r.pred_ms,
                r.train_ms,
                r.train_nfe,
                r.accuracy
            );
            let mut metrics = json!({
                "pred_nfe": r.pred_nfe,
                "nfe_ratio": r.pred_nfe / base_nfe,
                "pred_ms": r.pred_ms,
                "pred_speedup": base_ms / r.pred_ms,
                "train_ms_per_iter": r.train_ms,
                "train_nfe_per_iter": r.train_nfe,
                metric: r.accuracy,
            });
            if let (Some(m), Some(extra)) = (metrics.as_object_mut(), r.extra.as_object()) {
                m.extend(extra.clone());
            }
            json!({
                "name": format!("ernode/{task}/{}", r.name),
                "backend": backend,
                "precision": "f64",
                "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
                "metrics": metrics,
            })
        })
        .collect()
}

fn main() -> kiln_neural_de::Result<()> {
    let backend = BackendKind::from_env()?;
    let device = kiln_core::device(backend)?;
    kiln_core::device::configure_precision(&device, Precision::F64)?;
    let task = std::env::var("KILN_ERNODE_TASK").unwrap_or_default();
    let mut records = Vec::new();
    if task.is_empty() || task == "spiral" {
        // The floor: the NFE of the true field on the prediction's solve.
        let (_, truth) = spiral::true_solve()?;
        println!(
            "spiral: the true field's prediction takes {} NFE",
            truth.stats.nfe
        );
        let rows = spiral_rows(&device)?;
        records.extend(table("spiral", "final_mae", &rows, backend.name()));
        records.push(json!({
            "name": "ernode/spiral/true field",
            "backend": backend.name(),
            "precision": "f64",
            "metrics": { "pred_nfe": truth.stats.nfe },
        }));
    }
    if task.is_empty() || task == "series" {
        let rows = series_rows(&device)?;
        records.extend(table("series", "test_mse", &rows, backend.name()));
    }
    kiln_core::report::write_bench("ernode", &records)?;
    Ok(())
}
