//! Benchmark `lightsb-gaussian`: Light Schrödinger Bridge between random Gaussians
//! `N(0, Σ₀) -> N(μ₁, Σ₁)` in dimensions 2, 16 and 64 for ε = 0.1, 1 and 10, scored by the
//! cBW2-UVP (%) of its conditional plan against the closed-form Gaussian bridge on 200 source
//! points, for LightSB's diagonal `S_k` (K = 10) and for a single component in a learned
//! Householder frame (which can represent the Gaussian bridge exactly).
//!
//! `cargo xtask bench lightsb-gaussian` writes `target/kiln-bench/lightsb-gaussian.json` with
//! `cbw2_uvp_d{d}_eps{eps}` (frame) and `cbw2_uvp_diag_d{d}_eps{eps}` keys. `--steps N` sets
//! the training steps (default 3000), `--dims 2,16` the dimensions.

#[path = "common/lightsb.rs"]
mod lightsb;

use kiln_core::{BackendKind, Precision};
use kiln_diffusion::bridge::LightSbConfig;

fn main() -> kiln_diffusion::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let steps = args
        .iter()
        .position(|a| a == "--steps")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let dims: Vec<usize> = args
        .iter()
        .position(|a| a == "--dims")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.split(',').filter_map(|v| v.parse().ok()).collect())
        .unwrap_or_else(|| vec![2, 16, 64]);
    let backend = BackendKind::from_env()?;
    let device = kiln_core::device(backend)?;
    kiln_core::device::configure_precision(&device, Precision::F64)?;
    let mut metrics = serde_json::Map::new();
    metrics.insert("steps".into(), steps.into());
    for &d in &dims {
        for eps in [0.1, 1.0, 10.0] {
            let bridge = lightsb::problem(d, eps, 100 + d as u64);
            for (tag, config) in [
                (
                    "",
                    LightSbConfig::new(d, eps)
                        .with_components(1)
                        .with_rotation(true),
                ),
                ("diag_", LightSbConfig::new(d, eps)),
            ] {
                let (uvp, wall, loss) =
                    lightsb::train_and_score(&bridge, &config, steps, 512, 7, &device)?;
                println!(
                    "d = {d:2}, eps = {eps:4}: {:>5} cBW2-UVP {uvp:8.3} %  ({wall:.1} s, loss {loss:.4})",
                    if tag.is_empty() { "frame" } else { "diag" }
                );
                metrics.insert(format!("cbw2_uvp_{tag}d{d}_eps{eps}"), uvp.into());
                metrics.insert(format!("wall_s_{tag}d{d}_eps{eps}"), wall.into());
            }
        }
    }
    let record = serde_json::json!({
        "name": "lightsb-gaussian",
        "backend": backend.name(),
        "threads": 1,
        "metrics": metrics,
    });
    kiln_core::report::write_bench("lightsb-gaussian", &[record])?;
    Ok(())
}
