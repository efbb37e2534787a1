//! Benchmark `pinn-burgers`: DeepXDE's Burgers example (x ∈ [-1, 1], t ∈ [0, 0.99],
//! u(x, 0) = -sin(πx), u(±1, t) = 0, ν = 0.01/π; 2540 interior, 80 boundary and 160 initial
//! points; MLP 2-[20]x3-1 tanh; Adam 1e-3 for 15000 steps then L-BFGS) against the Cole-Hopf
//! solution on the 256 × 100 grid, and kiln's best configuration.
//!
//! `cargo xtask bench pinn-burgers` writes `target/kiln-bench/pinn-burgers.json` with
//! `ms_per_adam_step`, `lbfgs_iters` (L-BFGS iterations; `lbfgs_evaluations` counts its loss
//! evaluations), `rel_l2` (plain configuration), `rel_l2_best` and `wall_s_best`.
//! `--quick` runs 1/10 of the steps (a smoke test), `--adam-steps N` and `--lbfgs-iters N`
//! override the step counts, `--seed N` the weights' seed, `--only plain|best` runs one
//! configuration. Variations of the best
//! configuration: `--widths 2,32,32,1`, `--points N`, `--lr X`, `--hard` (already on),
//! `--modified`, `--rar rounds,points,adam_steps`, and `--f64` (with `--only best`: a device has
//! one precision per process).

#[path = "common/burgers.rs"]
mod burgers;

use burgers::{RunConfig, run};
use kiln_core::train::Schedule;
use kiln_core::{BackendKind, Precision};
use kiln_pinn::Sampler;
use kiln_pinn::reference::burgers::{ColeHopf, NU};

/// kiln's best configuration: initial and boundary values built into the output
/// (u = -sin(πx) + t (1 - x²) N, so only the PDE residual is trained), a 2-[32]x4-1 tanh MLP on
/// 8000 Sobol collocation points, a cosine-decayed Adam phase, and L-BFGS run to its tolerance.
fn best() -> RunConfig {
    let mut c = RunConfig::deepxde();
    c.label = "best";
    c.hard = true;
    c.widths = vec![2, 32, 32, 32, 32, 1];
    c.setup.interior = 8000;
    c.setup.sampler = Sampler::Sobol;
    c.adam_steps = 5_000;
    c.schedule = Schedule::Cosine { min_lr: 1e-5 };
    c.lbfgs_max_iter = 10_000;
    c
}

fn main() -> kiln_pinn::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let backend = BackendKind::from_env()?;
    let device = kiln_core::autodiff_device(backend)?;
    let exact = ColeHopf::new(NU, 200)?.grid(256, 100, 0.99);
    let number = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let (adam, lbfgs) = (number("--adam-steps"), number("--lbfgs-iters"));
    let text = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let flag = |name: &str| args.iter().any(|a| a == name);
    // Variations of the best configuration, for exploring it from the command line.
    let vary = |mut c: RunConfig| {
        if let Some(w) = text("--widths") {
            c.widths = w.split(',').filter_map(|v| v.parse().ok()).collect();
        }
        if let Some(n) = number("--points") {
            c.setup.interior = n;
        }
        if let Some(r) = text("--rar") {
            let v: Vec<usize> = r.split(',').filter_map(|v| v.parse().ok()).collect();
            c.rar = (v.len() == 3).then(|| (v[0], v[1], v[2]));
        }
        if let Some(lr) = text("--lr").and_then(|v| v.parse().ok()) {
            c.lr = lr;
        }
        c.hard |= flag("--hard");
        c.modified |= flag("--modified");
        if flag("--f64") {
            c.precision = Precision::F64;
        }
        c
    };
    let scale = |mut c: RunConfig| {
        if quick {
            c.adam_steps /= 10;
            c.lbfgs_max_iter /= 10;
        }
        c.seed = number("--seed").map_or(c.seed, |s| s as u64);
        c.adam_steps = adam.unwrap_or(c.adam_steps);
        c.lbfgs_max_iter = lbfgs.unwrap_or(c.lbfgs_max_iter);
        c
    };
    let want = |name: &str| only.as_deref().is_none_or(|o| o == name);
    if flag("--f64") {
        if want("plain") {
            return Err(kiln_pinn::Error::InvalidConfig {
                field: "--f64",
                value: "with the plain configuration".into(),
                advice: "the plain configuration is DeepXDE's f32 run; add --only best".into(),
            });
        }
        kiln_core::device::configure_precision(&device, Precision::F64)?;
    }
    let plain = want("plain")
        .then(|| run(&device, &scale(RunConfig::deepxde()), &exact))
        .transpose()?;
    let best = want("best")
        .then(|| run(&device, &scale(vary(best())), &exact))
        .transpose()?;
    let mut metrics = serde_json::Map::new();
    if let Some(p) = &plain {
        metrics.insert("ms_per_adam_step".into(), p.ms_per_adam_step.into());
        metrics.insert("lbfgs_iters".into(), p.lbfgs_iterations.into());
        metrics.insert("lbfgs_evaluations".into(), p.lbfgs_evaluations.into());
        metrics.insert("rel_l2".into(), p.rel_l2.into());
        metrics.insert("wall_s".into(), p.wall_s.into());
    }
    if let Some(b) = &best {
        metrics.insert("rel_l2_best".into(), b.rel_l2.into());
        metrics.insert("wall_s_best".into(), b.wall_s.into());
        metrics.insert("ms_per_adam_step_best".into(), b.ms_per_adam_step.into());
        metrics.insert("lbfgs_iters_best".into(), b.lbfgs_iterations.into());
    }
    let record = serde_json::json!({
        "name": "pinn-burgers",
        "backend": backend.name(),
        "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "quick": quick,
        "metrics": metrics,
    });
    kiln_core::report::write_bench("pinn-burgers", &[record])?;
    Ok(())
}
