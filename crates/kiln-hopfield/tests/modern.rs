//! Modern continuous Hopfield retrieval against oracles: the β → 0 and β → ∞ limits, a host
//! f64 evaluation of the update and the energy, the energy's descent and bounds (proptest),
//! the exponentially small retrieval error of Ramsauer et al. (2020, Theorem 5) at one step and
//! at the fixed point, convergence bookkeeping, CLOOB's InfoLOOB against its formula, and the
//! errors for invalid input.

use std::sync::OnceLock;

use kiln_core::burn::tensor::{Device, Tensor, TensorData};
use kiln_core::{BackendKind, Precision};
use kiln_hopfield::modern::{self, Steps};
use kiln_hopfield::patterns::{self, Rng};
use kiln_hopfield::{Error, loss};
use proptest::prelude::*;

/// The backend under test (`KILN_BACKEND`, flex by default) in f64, configured once.
fn device() -> Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let kind = BackendKind::from_env().expect("KILN_BACKEND names a backend");
            let device = kiln_core::device(kind).expect("backend compiled in");
            kiln_core::device::configure_precision(&device, Precision::F64)
                .expect("the CPU backends support f64");
            device
        })
        .clone()
}

fn tensor(values: &[f64], shape: [usize; 2]) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), &device())
}

fn values<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    t.clone().into_data().iter::<f64>().collect()
}

fn binary(count: usize, dim: usize, seed: u64) -> Vec<f64> {
    patterns::random_binary(count, dim, seed)
        .into_iter()
        .map(f64::from)
        .collect()
}

fn gaussian(count: usize, dim: usize, rng: &mut Rng) -> Vec<f64> {
    (0..count * dim).map(|_| rng.normal()).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Host oracle: softmax weights of one query.
fn host_weights(stored: &[f64], n: usize, d: usize, xi: &[f64], beta: f64) -> Vec<f64> {
    let s: Vec<f64> = (0..n)
        .map(|i| beta * dot(&stored[i * d..(i + 1) * d], xi))
        .collect();
    let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = s.iter().map(|v| (v - m).exp()).collect();
    let z: f64 = e.iter().sum();
    e.iter().map(|v| v / z).collect()
}

/// Host oracle: one update `Xᵀ softmax(β X ξ)`.
fn host_update(stored: &[f64], n: usize, d: usize, xi: &[f64], beta: f64) -> Vec<f64> {
    let p = host_weights(stored, n, d, xi, beta);
    (0..d)
        .map(|k| (0..n).map(|i| p[i] * stored[i * d + k]).sum())
        .collect()
}

/// Host oracle: the energy of the module docs.
fn host_energy(stored: &[f64], n: usize, d: usize, xi: &[f64], beta: f64) -> f64 {
    let s: Vec<f64> = (0..n)
        .map(|i| beta * dot(&stored[i * d..(i + 1) * d], xi))
        .collect();
    let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = (m + s.iter().map(|v| (v - m).exp()).sum::<f64>().ln()) / beta;
    let m2 = (0..n)
        .map(|i| dot(&stored[i * d..(i + 1) * d], &stored[i * d..(i + 1) * d]))
        .fold(0.0, f64::max);
    -lse + 0.5 * dot(xi, xi) + (n as f64).ln() / beta + 0.5 * m2
}

#[test]
fn small_beta_returns_the_mean_of_the_stored_patterns() {
    let (n, d) = (12, 10);
    let mut rng = Rng::new(1);
    let stored = gaussian(n, d, &mut rng);
    let queries = gaussian(3, d, &mut rng);
    let x = tensor(&stored, [n, d]);
    let r = modern::retrieve(&x, &tensor(&queries, [3, d]), 1e-9, Steps::Fixed(1)).unwrap();
    let mean: Vec<f64> = (0..d)
        .map(|k| (0..n).map(|i| stored[i * d + k]).sum::<f64>() / n as f64)
        .collect();
    let got = values(&r.states);
    for q in 0..3 {
        let err = dist(&got[q * d..(q + 1) * d], &mean);
        // One update at β differs from the mean by O(β ‖X‖²): here ~1e-7.
        assert!(err < 1e-6, "query {q}: distance to the mean {err:e}");
    }
    let api_mean = values(&modern::mean_pattern(&x).unwrap());
    assert!(dist(&api_mean, &mean) < 1e-12);
}

#[test]
fn large_beta_returns_the_nearest_pattern() {
    // ±1 patterns all have norm sqrt(d), so the largest overlap is the nearest pattern.
    let (n, d, b) = (20, 64, 16);
    let stored = binary(n, d, 2);
    let mut rng = Rng::new(3);
    let mut queries = Vec::new();
    let mut nearest = Vec::new();
    for _ in 0..b {
        let i = rng.below(n);
        let pattern: Vec<f32> = stored[i * d..(i + 1) * d]
            .iter()
            .map(|&v| v as f32)
            .collect();
        let q: Vec<f64> = patterns::flip(&pattern, 12, &mut rng)
            .into_iter()
            .map(f64::from)
            .collect();
        let best = (0..n)
            .min_by(|&a, &c| {
                dist(&stored[a * d..(a + 1) * d], &q)
                    .total_cmp(&dist(&stored[c * d..(c + 1) * d], &q))
            })
            .unwrap();
        nearest.push(best);
        queries.extend(q);
    }
    let r = modern::retrieve(
        &tensor(&stored, [n, d]),
        &tensor(&queries, [b, d]),
        10.0,
        Steps::Fixed(1),
    )
    .unwrap();
    let got = values(&r.states);
    for (k, &i) in nearest.iter().enumerate() {
        let err = dist(&got[k * d..(k + 1) * d], &stored[i * d..(i + 1) * d]);
        assert!(
            err < 1e-9,
            "query {k}: distance {err:e} to its nearest pattern {i}"
        );
    }
}

#[test]
fn update_and_energy_match_a_host_evaluation() {
    let (n, d, b, beta) = (7, 5, 4, 0.7);
    let mut rng = Rng::new(4);
    let stored = gaussian(n, d, &mut rng);
    let queries = gaussian(b, d, &mut rng);
    let (x, q) = (tensor(&stored, [n, d]), tensor(&queries, [b, d]));
    let r = modern::retrieve(&x, &q, beta, Steps::Fixed(3)).unwrap();
    let got = values(&r.states);
    let energies = values(&r.energy());
    let start = values(&modern::energy(&x, &q, beta).unwrap());
    let weights = values(&modern::association(&x, &q, beta).unwrap());
    for k in 0..b {
        let mut xi = queries[k * d..(k + 1) * d].to_vec();
        assert!((start[k] - host_energy(&stored, n, d, &xi, beta)).abs() < 1e-12);
        let p = host_weights(&stored, n, d, &xi, beta);
        for i in 0..n {
            assert!((weights[k * n + i] - p[i]).abs() < 1e-14);
        }
        for _ in 0..3 {
            xi = host_update(&stored, n, d, &xi, beta);
        }
        assert!(dist(&got[k * d..(k + 1) * d], &xi) < 1e-12);
        assert!((energies[k] - host_energy(&stored, n, d, &xi, beta)).abs() < 1e-12);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The update is CCCP on E (Theorem 1): E never increases; after one update the state lies
    /// in the convex hull of the patterns, where 0 ≤ E ≤ 2M².
    #[test]
    fn energy_never_increases(
        n in 1usize..=8,
        d in 1usize..=8,
        b in 1usize..=4,
        beta in 0.05f64..5.0,
        seed in 0u64..1000,
    ) {
        let mut rng = Rng::new(seed);
        let stored = gaussian(n, d, &mut rng);
        let queries: Vec<f64> = gaussian(b, d, &mut rng).iter().map(|v| 2.0 * v).collect();
        let x = tensor(&stored, [n, d]);
        let m2 = (0..n)
            .map(|i| dot(&stored[i * d..(i + 1) * d], &stored[i * d..(i + 1) * d]))
            .fold(0.0, f64::max);
        let mut state = tensor(&queries, [b, d]);
        let mut energy = values(&modern::energy(&x, &state, beta).unwrap());
        for step in 0..6 {
            state = modern::update(&x, &state, beta).unwrap();
            let next = values(&modern::energy(&x, &state, beta).unwrap());
            for k in 0..b {
                let tol = 1e-10 * (1.0 + energy[k].abs());
                prop_assert!(next[k] <= energy[k] + tol,
                    "step {}: energy rose from {} to {}", step, energy[k], next[k]);
                prop_assert!(next[k] >= -tol && next[k] <= 2.0 * m2 + tol,
                    "energy {} outside [0, 2M² = {}]", next[k], 2.0 * m2);
            }
            energy = next;
        }
    }
}

/// Well-separated ±1 patterns, queries made from pattern `i` by flipping bits.
struct Separated {
    stored: Vec<f64>,
    n: usize,
    d: usize,
    max_norm: f64,
    separation: Vec<f64>,
}

fn separated() -> Separated {
    let (n, d) = (8, 128);
    let stored = binary(n, d, 5);
    let separation = modern::separations(&stored, n, d).unwrap();
    Separated {
        max_norm: (d as f64).sqrt(),
        stored,
        n,
        d,
        separation,
    }
}

#[test]
fn one_step_error_is_within_the_exponential_bound() {
    let s = separated();
    let (n, d, m) = (s.n, s.d, s.max_norm);
    let x = tensor(&s.stored, [n, d]);
    let mut rng = Rng::new(6);
    let mut informative = 0;
    let mut cases = 0;
    for &beta in &[0.02, 0.05, 0.1, 0.25, 0.5] {
        for flips in [1usize, 2, 4, 8] {
            for i in 0..n {
                let pattern: Vec<f32> = s.stored[i * d..(i + 1) * d]
                    .iter()
                    .map(|&v| v as f32)
                    .collect();
                let xi: Vec<f64> = patterns::flip(&pattern, flips, &mut rng)
                    .into_iter()
                    .map(f64::from)
                    .collect();
                let out = values(&modern::update(&x, &tensor(&xi, [1, d]), beta).unwrap());
                let target = &s.stored[i * d..(i + 1) * d];
                let err = dist(&out, target);
                let r = dist(&xi, target);
                // Implementation against the host oracle.
                assert!(dist(&out, &host_update(&s.stored, n, d, &xi, beta)) < 1e-11);
                // The derived chain: err ≤ 2M(1 - pᵢ) ≤ 2M Σ_{j≠i} exp(-β(xᵢ - xⱼ)ᵀξ) ≤ Theorem 5.
                let p = host_weights(&s.stored, n, d, &xi, beta);
                let tight = 2.0 * m * (1.0 - p[i]);
                let query_sep: f64 = (0..n)
                    .filter(|&j| j != i)
                    .map(|j| {
                        (-beta * (dot(target, &xi) - dot(&s.stored[j * d..(j + 1) * d], &xi))).exp()
                    })
                    .sum::<f64>()
                    * 2.0
                    * m;
                let theorem = modern::retrieval_error_bound(n, m, s.separation[i], beta, r);
                assert!(
                    err <= tight * (1.0 + 1e-9) + 1e-13,
                    "err {err:e} > 2M(1-p_i) {tight:e}"
                );
                assert!(tight <= query_sep * (1.0 + 1e-9) + 1e-13);
                assert!(
                    err <= theorem,
                    "β {beta}, {flips} flips, pattern {i}: error {err:e} > Theorem 5's {theorem:e}"
                );
                cases += 1;
                if theorem < r {
                    informative += 1;
                }
            }
        }
    }
    // The bound must say something: at larger β and fewer flips it promises a contraction
    // towards xᵢ (bound < ‖ξ - xᵢ‖); at β = 0.02 or 8 flips it is vacuous (65 of 160 cases
    // are informative with these seeds).
    assert!(
        informative * 3 > cases,
        "bound informative in only {informative}/{cases} cases"
    );
}

#[test]
fn fixed_point_lies_within_the_exponential_bound() {
    let s = separated();
    let (n, d, m) = (s.n, s.d, s.max_norm);
    let x = tensor(&s.stored, [n, d]);
    let mut rng = Rng::new(7);
    let (mut e_forms, mut worst_ratio) = (0, 0.0f64);
    for &beta in &[0.05, 0.1, 0.2] {
        for i in 0..n {
            let pattern: Vec<f32> = s.stored[i * d..(i + 1) * d]
                .iter()
                .map(|&v| v as f32)
                .collect();
            let xi: Vec<f64> = patterns::flip(&pattern, 4, &mut rng)
                .into_iter()
                .map(f64::from)
                .collect();
            let r = modern::retrieve(
                &x,
                &tensor(&xi, [1, d]),
                beta,
                Steps::Converge {
                    eps: 1e-13,
                    max: 200,
                },
            )
            .unwrap();
            assert!(r.converged, "β {beta}: no convergence in {} steps", r.steps);
            let star = values(&r.states);
            let target = &s.stored[i * d..(i + 1) * d];
            // Fixed point: one more update moves it by less than the threshold.
            let again = host_update(&s.stored, n, d, &star, beta);
            assert!(dist(&again, &star) < 1e-11);
            let err = dist(&star, target);
            // Theorem 5 with ξ = x* (f(x*) = x*, so r = ‖x* - xᵢ‖): a self-consistent bound.
            let theorem = modern::retrieval_error_bound(n, m, s.separation[i], beta, err);
            assert!(
                err <= theorem,
                "β {beta}, pattern {i}: ‖x* - x‖ = {err:e} > {theorem:e}"
            );
            // Its second form, valid when ‖x* - xᵢ‖ ≤ 1/(2βM).
            if err <= 1.0 / (2.0 * beta * m) {
                let e_form = 2.0
                    * std::f64::consts::E
                    * (n - 1) as f64
                    * m
                    * (-beta * s.separation[i]).exp();
                assert!(
                    err <= e_form,
                    "β {beta}: {err:e} > 2e(N-1)M exp(-βΔ) = {e_form:e}"
                );
                e_forms += 1;
            }
            worst_ratio = worst_ratio.max(err / theorem);
        }
    }
    assert!(
        e_forms >= 2 * n,
        "the 2e(N-1)M exp(-βΔ) form applied in only {e_forms} cases"
    );
    // The bound is tight: the worst case comes within a factor 20 (about 4 with these seeds),
    // so an implementation that lands on xᵢ itself, or far from it, fails one of the checks.
    assert!(
        worst_ratio > 0.05,
        "largest error/bound ratio {worst_ratio:e}"
    );
}

#[test]
fn fixed_steps_compose_and_converge_stops_below_eps() {
    let (n, d, b, beta) = (6, 8, 3, 0.5);
    let mut rng = Rng::new(8);
    let x = tensor(&gaussian(n, d, &mut rng), [n, d]);
    let q = tensor(&gaussian(b, d, &mut rng), [b, d]);
    let three = modern::retrieve(&x, &q, beta, Steps::Fixed(3)).unwrap();
    let mut manual = q.clone();
    for _ in 0..3 {
        manual = modern::update(&x, &manual, beta).unwrap();
    }
    assert_eq!(three.steps, 3);
    assert!(!three.converged && three.last_change.is_none());
    assert!(dist(&values(&three.states), &values(&manual)) < 1e-14);

    let eps = 1e-10;
    let conv = modern::retrieve(&x, &q, beta, Steps::Converge { eps, max: 500 }).unwrap();
    assert!(conv.converged);
    assert!(conv.last_change.unwrap() < eps);
    let fixed = modern::retrieve(&x, &q, beta, Steps::Fixed(conv.steps)).unwrap();
    assert!(dist(&values(&conv.states), &values(&fixed.states)) < 1e-14);
    let before = modern::retrieve(&x, &q, beta, Steps::Fixed(conv.steps - 1)).unwrap();
    let step = values(&(fixed.states - before.states).abs().max())[0];
    assert!((step - conv.last_change.unwrap()).abs() < 1e-15);
    if conv.steps > 1 {
        let short = modern::retrieve(
            &x,
            &q,
            beta,
            Steps::Converge {
                eps,
                max: conv.steps - 1,
            },
        )
        .unwrap();
        assert!(!short.converged && short.steps == conv.steps - 1);
    }
}

#[test]
fn large_batches_split_across_threads_give_the_same_states() {
    // B·N·d = 2²⁴ reaches the size from which a CPU update is cut into blocks of rows, one per
    // core; the weights-then-product path (`association`) runs on one thread.
    let (n, d, b, beta) = (256, 256, 256, 0.0625);
    let stored = binary(n, d, 10);
    let mut rng = Rng::new(11);
    let queries = gaussian(b, d, &mut rng);
    let (x, q) = (tensor(&stored, [n, d]), tensor(&queries, [b, d]));
    let split = values(&modern::update(&x, &q, beta).unwrap());
    let whole = values(&modern::association(&x, &q, beta).unwrap().matmul(x.clone()));
    let err = split
        .iter()
        .zip(&whole)
        .map(|(a, c)| (a - c).abs())
        .fold(0.0, f64::max);
    assert!(
        err < 1e-12,
        "split and single-thread updates differ by {err:e}"
    );
    for k in [0, b / 2 - 1, b / 2, b - 1] {
        let want = host_update(&stored, n, d, &queries[k * d..(k + 1) * d], beta);
        assert!(dist(&split[k * d..(k + 1) * d], &want) < 1e-11, "row {k}");
    }
}

/// InfoLOOB written out from its formula on the host, with the retrievals done on the host.
fn host_cloob(x: &[f64], y: &[f64], b: usize, d: usize, inv_tau: f64, beta: f64) -> f64 {
    let hop = |queries: &[f64], stored: &[f64]| -> Vec<Vec<f64>> {
        (0..b)
            .map(|k| {
                let u = host_update(stored, b, d, &queries[k * d..(k + 1) * d], beta);
                let norm = dot(&u, &u).sqrt();
                u.iter().map(|v| v / norm).collect()
            })
            .collect()
    };
    let loob = |a: &[Vec<f64>], c: &[Vec<f64>]| -> f64 {
        let tau = 1.0 / inv_tau;
        let mut total = 0.0;
        for i in 0..b {
            let positive = dot(&a[i], &c[i]) / tau;
            let negatives: f64 = (0..b)
                .filter(|&j| j != i)
                .map(|j| (dot(&a[i], &c[j]) / tau).exp())
                .sum();
            total += -positive + negatives.ln();
        }
        tau * total / b as f64
    };
    loob(&hop(x, x), &hop(y, x)) + loob(&hop(y, y), &hop(x, y))
}

#[test]
fn info_loob_matches_its_formula() {
    let (b, d) = (5, 4);
    let mut rng = Rng::new(9);
    let unit = |v: Vec<f64>| -> Vec<f64> {
        v.chunks(d)
            .flat_map(|r| {
                let n = dot(r, r).sqrt();
                r.iter().map(|x| x / n).collect::<Vec<_>>()
            })
            .collect()
    };
    let x = unit(gaussian(b, d, &mut rng));
    let y = unit(gaussian(b, d, &mut rng));
    for (inv_tau, beta) in [(1.0, 1.0), (30.0, 8.0), (10.0, 0.3)] {
        let got = loss::info_loob(&tensor(&x, [b, d]), &tensor(&y, [b, d]), inv_tau, beta)
            .unwrap()
            .into_scalar::<f64>();
        let want = host_cloob(&x, &y, b, d, inv_tau, beta);
        assert!(
            (got - want).abs() < 1e-12 * (1.0 + want.abs()),
            "τ⁻¹ {inv_tau}, β {beta}: {got} vs {want}"
        );
    }
    // Aligned modalities score lower than shuffled ones.
    let aligned = loss::info_loob(&tensor(&x, [b, d]), &tensor(&x, [b, d]), 10.0, 8.0).unwrap();
    let mut shuffled = x[d..].to_vec();
    shuffled.extend_from_slice(&x[..d]);
    let misaligned =
        loss::info_loob(&tensor(&x, [b, d]), &tensor(&shuffled, [b, d]), 10.0, 8.0).unwrap();
    assert!(aligned.into_scalar::<f64>() < misaligned.into_scalar::<f64>());
}

#[test]
fn invalid_input_is_an_error_naming_the_value() {
    let x = tensor(&[1.0; 12], [3, 4]);
    let q = tensor(&[1.0; 8], [2, 4]);
    let message = |e: Error| e.to_string();
    for beta in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = message(modern::retrieve(&x, &q, beta, Steps::Fixed(1)).unwrap_err());
        assert!(e.contains("beta"), "{e}");
        assert!(modern::energy(&x, &q, beta).is_err());
    }
    let e = message(modern::retrieve(&x, &q, 1.0, Steps::Fixed(0)).unwrap_err());
    assert!(e.contains("Fixed(0)"), "{e}");
    let e =
        message(modern::retrieve(&x, &q, 1.0, Steps::Converge { eps: 0.0, max: 3 }).unwrap_err());
    assert!(e.contains("steps.eps"), "{e}");
    let e =
        message(modern::retrieve(&x, &q, 1.0, Steps::Converge { eps: 1e-3, max: 0 }).unwrap_err());
    assert!(e.contains("steps.max"), "{e}");
    let wrong = tensor(&[1.0; 6], [2, 3]);
    let e = message(modern::retrieve(&x, &wrong, 1.0, Steps::Fixed(1)).unwrap_err());
    assert!(e.contains("[2, 3]") && e.contains("[B, 4]"), "{e}");
    assert!(modern::energy(&x, &wrong, 1.0).is_err());
    assert!(loss::info_loob(&q, &tensor(&[1.0; 12], [3, 4]), 1.0, 1.0).is_err());
    assert!(
        loss::info_loob(
            &tensor(&[1.0; 4], [1, 4]),
            &tensor(&[1.0; 4], [1, 4]),
            1.0,
            1.0
        )
        .is_err()
    );
    let e = message(loss::info_loob(&q, &q, -2.0, 1.0).unwrap_err());
    assert!(e.contains("inv_tau"), "{e}");
}

/// The fused update (blocks of stored patterns, online softmax) equals the textbook
/// `softmax(β Q Xᵀ) X` with the whole weight matrix formed: to 1e-12 in f64 over three blocks of
/// stored patterns, at a β large enough that later blocks raise the running maximum.
#[test]
fn fused_update_equals_the_unfused_softmax() {
    let (n, d, b, beta) = (2500, 12, 9, 3.0);
    let mut rng = Rng::new(21);
    let stored = tensor(&gaussian(n, d, &mut rng), [n, d]);
    let queries = tensor(&gaussian(b, d, &mut rng), [b, d]);
    let fused = modern::update(&stored, &queries, beta).unwrap();
    let weights = kiln_core::burn::tensor::activation::softmax(
        queries.matmul(stored.clone().transpose()).mul_scalar(beta),
        1,
    );
    let unfused = weights.matmul(stored);
    let err = values(&fused)
        .iter()
        .zip(values(&unfused))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-12, "fused and unfused updates differ by {err:e}");
}
