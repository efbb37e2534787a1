//! `cargo xtask bench --gpu-suite`: the headline benchmarks that run on a GPU, built once with
//! the `wgpu` feature and run one after another with `--backend wgpu`.

use std::path::Path;

use crate::gallery::{BenchArgs, build_benches, discover, run_bench, select};

/// Benchmarks that take `--backend` and have a GPU path (f32 throughout).
pub(crate) const GPU_BENCHES: [&str; 3] = ["gemm", "hopfield-retrieval", "mlp-train-step"];

pub(crate) fn suite(root: &Path, args: &BenchArgs) -> Result<(), String> {
    if !args.names.is_empty() || args.compare {
        return Err(
            "--gpu-suite runs a fixed set; give no benchmark names and no --compare".into(),
        );
    }
    let mut forward = args.forward.clone();
    if !forward.iter().any(|a| a == "--backend") {
        forward.splice(0..0, ["--backend".to_string(), "wgpu".to_string()]);
    }
    let names: Vec<String> = GPU_BENCHES.iter().map(|s| s.to_string()).collect();
    let benches = select(discover(root, "bench_")?, &names, "benchmark")?;
    build_benches(&benches, &forward)?;
    for entry in &benches {
        run_bench(root, entry, &forward, None)?;
    }
    Ok(())
}
