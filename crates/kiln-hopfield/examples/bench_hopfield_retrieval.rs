//! Benchmark `hopfield-retrieval`: one modern Hopfield update of 1024 queries against 10 000
//! stored random ±1 patterns of dimension 256 (each query is a stored pattern with 64 bits
//! flipped), β = 1/sqrt(256), f32, on each CPU backend; and the classical network's recall at
//! d = 1000 for loads 0.05, 0.1, 0.138, 0.15 and 0.2 (Hebbian storage, asynchronous dynamics
//! started at each stored pattern; host computation, one record per load, backend
//! `classical-host`).
//!
//! `ms_per_batch` is the median time of `modern::retrieve(.., Steps::Fixed(1))` including the
//! read-back of the states; `exact_recall` the fraction of queries whose retrieved state has
//! the sign pattern of the stored pattern they came from. `ms_per_batch_plain_softmax` times
//! the textbook formulation `softmax(β Q Xᵀ) X` with burn's softmax on the calling thread, for
//! comparison with the library's. The backends take turns in rounds (the machine is shared and
//! noisy), after warm-up.
//!
//! PyTorch's time comes from `cargo xtask bench hopfield-retrieval --compare`, which runs
//! `bench/reference/hopfield_retrieval.py` in turns with this benchmark; the classical part
//! lists PyTorch's exact recall at the five loads (1.0, 0.43, 0.036, 0.027, 0.0), which does
//! not depend on the machine.
//!
//! `cargo xtask bench hopfield-retrieval [-- --backend B] [--modern-only]` writes
//! `target/kiln-bench/hopfield-retrieval.json`.

use std::time::Instant;

use burn::tensor::{Device, Tensor, activation};
use kiln_core::BackendKind;
use kiln_hopfield::modern::{self, Steps};
use kiln_hopfield::patterns::{self, Rng};

const STORED: usize = 10_000;
const DIM: usize = 256;
const QUERIES: usize = 1024;
const FLIPS: usize = 64;
const WARMUP: usize = 2;
const ROUNDS: usize = 5;
const PER_ROUND: usize = 3;

/// The stored patterns, the queries and which pattern each query came from (row-major f32).
struct Data {
    stored: Vec<f32>,
    queries: Vec<f32>,
    origin: Vec<usize>,
}

fn data() -> Data {
    let stored = patterns::random_binary(STORED, DIM, 1);
    let mut rng = Rng::new(2);
    let mut queries = Vec::with_capacity(QUERIES * DIM);
    let mut origin = Vec::with_capacity(QUERIES);
    for _ in 0..QUERIES {
        let i = rng.below(STORED);
        queries.extend(patterns::flip(
            &stored[i * DIM..(i + 1) * DIM],
            FLIPS,
            &mut rng,
        ));
        origin.push(i);
    }
    Data {
        stored,
        queries,
        origin,
    }
}

/// One backend's tensors and timings.
struct Setup {
    backend: BackendKind,
    stored: Tensor<2>,
    queries: Tensor<2>,
    beta: f64,
    times_ms: Vec<f64>,
    plain_ms: Vec<f64>,
}

impl Setup {
    fn new(backend: BackendKind, data: &Data) -> kiln_hopfield::Result<Self> {
        let device: Device = kiln_core::device(backend)?;
        Ok(Setup {
            backend,
            stored: patterns::tensor(&data.stored, [STORED, DIM], &device),
            queries: patterns::tensor(&data.queries, [QUERIES, DIM], &device),
            beta: 1.0 / (DIM as f64).sqrt(),
            times_ms: Vec::new(),
            plain_ms: Vec::new(),
        })
    }

    fn retrieve(&self) -> kiln_hopfield::Result<Vec<f32>> {
        let r = modern::retrieve(&self.stored, &self.queries, self.beta, Steps::Fixed(1))?;
        Ok(r.states.into_data().iter::<f32>().collect())
    }

    fn plain_softmax(&self) -> Vec<f32> {
        let scores = self
            .queries
            .clone()
            .matmul(self.stored.clone().transpose())
            .mul_scalar(self.beta);
        let states = activation::softmax(scores, 1).matmul(self.stored.clone());
        states.into_data().iter::<f32>().collect()
    }

    fn round(&mut self, record: bool) -> kiln_hopfield::Result<()> {
        for _ in 0..PER_ROUND {
            let start = Instant::now();
            let _ = self.retrieve()?;
            let library = start.elapsed().as_secs_f64() * 1e3;
            let start = Instant::now();
            let _ = self.plain_softmax();
            let plain = start.elapsed().as_secs_f64() * 1e3;
            if record {
                self.times_ms.push(library);
                self.plain_ms.push(plain);
            }
        }
        Ok(())
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Fraction of queries whose retrieved state has exactly the signs of their stored pattern.
fn exact_recall(states: &[f32], data: &Data) -> f64 {
    let hits = data
        .origin
        .iter()
        .enumerate()
        .filter(|&(k, &i)| {
            let state = &states[k * DIM..(k + 1) * DIM];
            let pattern = &data.stored[i * DIM..(i + 1) * DIM];
            state
                .iter()
                .zip(pattern)
                .all(|(s, p)| (*s > 0.0) == (*p > 0.0))
        })
        .count();
    hits as f64 / data.origin.len() as f64
}

#[path = "common/classical_recall.rs"]
mod classical_recall;

/// Neurons of the classical network.
const CLASSICAL_DIM: usize = 1000;
/// Loads `P / d` and plain PyTorch's exact recall there (the reference).
const CLASSICAL_LOADS: [(f64, f64); 5] = [
    (0.05, 1.0),
    (0.1, 0.43),
    (0.138, 0.036),
    (0.15, 0.027),
    (0.2, 0.0),
];
/// Pattern sets averaged per load.
const CLASSICAL_SETS: u64 = 5;

/// The classical network's part: exact recall and mean final overlap of a Hebbian network of
/// 1000 neurons started at its stored patterns, averaged over 5 pattern sets per load (host
/// computation; see `common/classical_recall.rs`).
fn classical_records(threads: usize) -> Vec<serde_json::Value> {
    CLASSICAL_LOADS
        .iter()
        .map(|&(load, pytorch)| {
            let start = Instant::now();
            let (mut exact, mut overlap) = (0.0, 0.0);
            for set in 0..CLASSICAL_SETS {
                let (e, o) = classical_recall::classical_recall(CLASSICAL_DIM, load, 100 + set);
                exact += e / CLASSICAL_SETS as f64;
                overlap += o / CLASSICAL_SETS as f64;
            }
            let seconds = start.elapsed().as_secs_f64();
            println!(
                "hopfield-retrieval classical dim={CLASSICAL_DIM} load={load} \
                 exact_recall={exact:.3} mean_overlap={overlap:.4} (PyTorch exact_recall {pytorch}) \
                 {seconds:.1}s"
            );
            serde_json::json!({
                "name": "hopfield-retrieval",
                "backend": "classical-host",
                "threads": threads,
                "metrics": {
                    "dim": CLASSICAL_DIM,
                    "load": load,
                    "exact_recall": exact,
                    "mean_overlap": overlap,
                    "pytorch_exact_recall": pytorch,
                    "pattern_sets": CLASSICAL_SETS,
                    "seconds": seconds,
                },
            })
        })
        .collect()
}

fn main() -> kiln_hopfield::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let modern_only = std::env::args().any(|a| a == "--modern-only");
    let backends = kiln_core::report::bench_backends(&[BackendKind::Flex, BackendKind::Ndarray])?;
    let data = data();
    let mut setups = Vec::new();
    for backend in backends {
        let mut setup = Setup::new(backend, &data)?;
        for _ in 0..WARMUP {
            setup.round(false)?;
        }
        setups.push(setup);
    }
    for _ in 0..ROUNDS {
        for setup in &mut setups {
            setup.round(true)?;
        }
    }
    let mut records = Vec::new();
    for setup in &setups {
        let recall = exact_recall(&setup.retrieve()?, &data);
        let plain_recall = exact_recall(&setup.plain_softmax(), &data);
        let (ms, plain) = (median(&setup.times_ms), median(&setup.plain_ms));
        println!(
            "hopfield-retrieval backend={} threads={threads} ms_per_batch={ms:.1} \
             exact_recall={recall} ms_per_batch_plain_softmax={plain:.1} (plain exact_recall={plain_recall})",
            setup.backend,
        );
        records.push(serde_json::json!({
            "name": "hopfield-retrieval",
            "backend": setup.backend.name(),
            "device": format!("{:?}", setup.stored.device()),
            "threads": threads,
            "metrics": {
                "ms_per_batch": ms,
                "exact_recall": recall,
                "ms_per_batch_plain_softmax": plain,
            },
        }));
    }
    if !modern_only {
        records.extend(classical_records(threads));
    }
    kiln_core::report::write_bench("hopfield-retrieval", &records)?;
    Ok(())
}
