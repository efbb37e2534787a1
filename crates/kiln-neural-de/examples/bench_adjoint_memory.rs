//! Benchmark `adjoint-memory`: peak heap memory and time of one gradient of a neural ODE by
//! backprop through `solve` and by the continuous adjoint, against the number of steps.
//!
//! The field is a 2-64-2 tanh MLP on a batch of 64 states, integrated over [0, 1] with
//! fixed-step RK4 at 100, 1000 and 4000 steps (the adjoint's backward solve uses the same steps);
//! the loss is `mean(y(1)²)`. A counting global allocator records the peak of live heap bytes
//! above the level before each gradient. Backprop's graph holds every stage of every step, so its
//! peak grows linearly with the steps; the adjoint keeps only the saved state and one
//! evaluation's graph, so its peak stays flat.
//!
//! `cargo xtask bench adjoint-memory` writes `target/kiln-bench/adjoint-memory.json`: an array
//! with one `{"name", "backend", "threads", "metrics"}` object.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Tensor};
use kiln_core::{BackendKind, Mlp, MlpConfig};
use kiln_neural_de::adjoint::{AdjointOptions, solve_adjoint};
use kiln_neural_de::{ExplicitRk, SolveOptions, Time, VectorField, solve};

/// The system allocator, counting live bytes and their peak.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `System` with `layout`; the caller upholds the rest.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const BATCH: usize = 64;
const STEPS: [usize; 3] = [100, 1000, 4000];

/// `y' = mlp(y)`.
#[derive(Module, Debug)]
struct Field {
    mlp: Mlp,
}

impl VectorField<2> for Field {
    fn eval(&self, _t: &Time, y: &Tensor<2>) -> Tensor<2> {
        self.mlp.forward(y.clone())
    }
}

fn loss(ys: &[Tensor<2>]) -> Tensor<1> {
    ys.last().expect("the final state").clone().square().mean()
}

/// Peak live heap bytes above the level at the start, and seconds, of `f`.
fn measure<T>(f: impl FnOnce() -> T) -> (f64, f64, T) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let out = f();
    let seconds = start.elapsed().as_secs_f64();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    (peak as f64 / (1024.0 * 1024.0), seconds, out)
}

/// One gradient by backprop through `solve`; returns the number of parameter gradients.
fn backprop(field: &Field, y0: &Tensor<2>, steps: usize) -> usize {
    let options = SolveOptions::fixed(1.0 / steps as f64);
    let sol = solve(field, &ExplicitRk::rk4(), (0.0, 1.0), y0.clone(), &options)
        .expect("the fixed-step solve succeeds");
    let grads = GradientsParams::from_grads(loss(&sol.ys).backward(), field);
    grads.len()
}

/// One gradient by the adjoint (through its surrogate loss, as a training step would);
/// returns the number of parameter gradients and the backward solve's evaluations.
fn adjoint(field: &Field, y0: &Tensor<2>, steps: usize) -> (usize, usize) {
    let options = SolveOptions::fixed(1.0 / steps as f64);
    let result = solve_adjoint(
        field,
        &ExplicitRk::rk4(),
        (0.0, 1.0),
        y0.clone(),
        &options,
        &AdjointOptions::backsolve(),
        loss,
    )
    .expect("the fixed-step adjoint succeeds");
    let grads = GradientsParams::from_grads(result.loss.backward(), field);
    (grads.len(), result.backward.nfe)
}

fn setup(device: &Device) -> kiln_core::Result<(Field, Tensor<2>)> {
    device.seed(3);
    let field = Field {
        mlp: MlpConfig::new(vec![2, 64, 2]).init(device)?,
    };
    let y0 = Tensor::<2>::random([BATCH, 2], Distribution::Uniform(-1.0, 1.0), device);
    // Touch the lazily initialised parameters before any measurement.
    let _ = field.mlp.forward(y0.clone()).sum().into_scalar::<f64>();
    Ok((field, y0))
}

fn main() -> kiln_core::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let backend = BackendKind::from_env()?;
    let device = kiln_core::autodiff_device(backend)?;
    let (field, y0) = setup(&device)?;
    // Warm-up: first calls allocate backend caches that later calls reuse.
    backprop(&field, &y0, 10);
    adjoint(&field, &y0, 10);

    let mut metrics = serde_json::Map::new();
    println!("adjoint-memory backend={backend} threads={threads} batch={BATCH} field=2-64-2 rk4");
    println!(
        "{:>6} {:>16} {:>16} {:>12} {:>12}",
        "steps", "backprop_MiB", "adjoint_MiB", "backprop_s", "adjoint_s"
    );
    for steps in STEPS {
        let (bp_mb, bp_s, n_bp) = measure(|| backprop(&field, &y0, steps));
        let (adj_mb, adj_s, (n_adj, nfe)) = measure(|| adjoint(&field, &y0, steps));
        assert_eq!(n_bp, n_adj, "both methods give every parameter a gradient");
        println!("{steps:>6} {bp_mb:>16.2} {adj_mb:>16.2} {bp_s:>12.3} {adj_s:>12.3}");
        for (key, value) in [
            ("backprop_peak_mb", bp_mb),
            ("adjoint_peak_mb", adj_mb),
            ("backprop_s", bp_s),
            ("adjoint_s", adj_s),
            ("adjoint_backward_nfe", nfe as f64),
        ] {
            metrics.insert(format!("{key}_{steps}"), serde_json::json!(value));
        }
    }
    let last = STEPS[STEPS.len() - 1];
    let ratio = |a: &str, b: &str| {
        let get = |k: &str| metrics[&format!("{k}_{last}")].as_f64().unwrap_or(f64::NAN);
        get(a) / get(b)
    };
    let peak_ratio = ratio("backprop_peak_mb", "adjoint_peak_mb");
    let time_ratio = ratio("adjoint_s", "backprop_s");
    metrics.insert(
        format!("backprop_over_adjoint_peak_{last}"),
        serde_json::json!(peak_ratio),
    );
    metrics.insert(
        format!("adjoint_over_backprop_s_{last}"),
        serde_json::json!(time_ratio),
    );
    println!(
        "at {last} steps: backprop/adjoint peak = {peak_ratio:.1}, adjoint/backprop time = {time_ratio:.2}"
    );
    let record = serde_json::json!({
        "name": "adjoint-memory",
        "backend": backend.name(),
        "threads": threads,
        "metrics": metrics,
    });
    kiln_core::report::write_bench("adjoint-memory", &[record])?;
    Ok(())
}
