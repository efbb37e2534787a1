//! Classical Hopfield networks against their theory: energy descent, exact fixed points of
//! orthogonal and correlated patterns, Storkey against Hebb, clamped neurons, Glauber temperature
//! (Curie-Weiss), the capacity transition near α_c = 0.138, and the multitasking network's
//! hierarchical and parallel magnetisations.

#[path = "../examples/common/classical_recall.rs"]
mod classical_recall;

use kiln_hopfield::Error;
use kiln_hopfield::classical::{
    ClassicalHopfield, ClassicalHopfieldConfig, DynamicsConfig, LearningRule, Stop, UpdateMode,
    mattis_magnetisations, overlap,
};
use kiln_hopfield::multitask::{
    MultitaskConfig, hierarchical_magnetisations, hierarchy_threshold, mean_field_fixed_point,
};
use kiln_hopfield::patterns::{Rng, flip, hadamard, random_binary};
use proptest::prelude::*;

fn store(rule: LearningRule, patterns: &[f32], dim: usize) -> ClassicalHopfield {
    ClassicalHopfieldConfig::new(dim)
        .with_rule(rule)
        .store(patterns)
        .unwrap()
}

fn fixed_fraction(net: &ClassicalHopfield, patterns: &[f32]) -> f64 {
    let n = net.dim();
    let stable = patterns
        .chunks_exact(n)
        .filter(|x| net.is_fixed_point(x).unwrap())
        .count();
    stable as f64 / (patterns.len() / n) as f64
}

fn signs(bits: &[bool]) -> Vec<f32> {
    bits.iter().map(|&b| if b { 1.0 } else { -1.0 }).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// One asynchronous update (every neuron but one clamped, one sweep) never raises the energy,
    /// for every rule, with thresholds; a whole run ends no higher, in a fixed point.
    #[test]
    fn asynchronous_updates_never_raise_the_energy(
        dim in 2usize..=8,
        count in 1usize..=3,
        rule in 0usize..3,
        seed in 0u64..1000,
        start in proptest::collection::vec(any::<bool>(), 8),
        order in proptest::collection::vec(0usize..8, 1..24),
        thresholds in proptest::collection::vec(-0.5f64..0.5, 8),
    ) {
        let rule = [LearningRule::Hebbian, LearningRule::Projection, LearningRule::Storkey][rule];
        let patterns = random_binary(count, dim, seed);
        let net = match ClassicalHopfieldConfig::new(dim).with_rule(rule).store(&patterns) {
            Ok(net) => net,
            // Small random sets can be linearly dependent: the projection rule refuses them.
            Err(Error::InvalidConfig { .. }) if rule == LearningRule::Projection => return Ok(()),
            Err(e) => panic!("{e}"),
        };
        let net = net.with_thresholds(thresholds[..dim].to_vec()).unwrap();
        let mut state = signs(&start[..dim]);
        let mut energy = net.energy(&state).unwrap();
        let start_energy = energy;
        for &i in &order {
            let i = i % dim;
            let clamp: Vec<bool> = (0..dim).map(|j| j != i).collect();
            let run = net
                .run_clamped(&state, &clamp, &DynamicsConfig::new().with_max_sweeps(1))
                .unwrap();
            let next = net.energy(&run.state).unwrap();
            prop_assert!(next <= energy + 1e-12, "update of {i}: {energy} -> {next}");
            prop_assert!(run.state.iter().zip(&state).enumerate().all(|(j, (a, b))| j == i || a == b));
            energy = next;
            state = run.state;
        }
        let run = net.run(&signs(&start[..dim]), &DynamicsConfig::new().with_seed(seed)).unwrap();
        prop_assert_eq!(run.stop, Stop::FixedPoint);
        prop_assert!(net.is_fixed_point(&run.state).unwrap());
        prop_assert!(net.energy(&run.state).unwrap() <= start_energy + 1e-12);
    }
}

#[test]
fn orthogonal_patterns_are_exact_fixed_points_of_hebbian_storage() {
    // With P orthogonal ±1 patterns and a zero diagonal, Wξ^ν = (1 - P/N) ξ^ν exactly.
    let n = 64;
    let h = hadamard(n).unwrap();
    for p in [1, 8, 32, 63] {
        let net = store(LearningRule::Hebbian, &h[..p * n], n);
        for xi in h[..p * n].chunks_exact(n) {
            let fields = net.local_fields(xi).unwrap();
            for (f, &x) in fields.iter().zip(xi) {
                assert!((f - (1.0 - p as f64 / n as f64) * f64::from(x)).abs() < 1e-12);
            }
            assert!(net.is_fixed_point(xi).unwrap());
        }
    }
    // At P = 8 (α = 1/8) a probe with 8 flipped bits returns to its pattern.
    let net = store(LearningRule::Hebbian, &h[..8 * n], n);
    let mut rng = Rng::new(1);
    for xi in h[..8 * n].chunks_exact(n) {
        let run = net
            .run(&flip(xi, 8, &mut rng), &DynamicsConfig::new())
            .unwrap();
        assert_eq!(run.state, xi);
    }
}

/// Patterns that share 70 % of their bits with one prototype (pairwise overlap ≈ 0.49).
fn correlated(count: usize, dim: usize) -> Vec<f32> {
    let prototype = random_binary(1, dim, 9);
    let mut rng = Rng::new(3);
    (0..count)
        .flat_map(|_| flip(&prototype, 15 * dim / 100, &mut rng))
        .collect()
}

#[test]
fn projection_stores_correlated_patterns_where_hebb_fails() {
    let (n, p) = (100, 20);
    let xi = correlated(p, n);
    // Hebb collapses onto the prototype: no pattern survives.
    assert_eq!(
        fixed_fraction(&store(LearningRule::Hebbian, &xi, n), &xi),
        0.0
    );
    // Projection: W ξ = ξ with the diagonal, so with it zeroed hᵢ = (1 - Wᵢᵢ) ξᵢ, Wᵢᵢ < 1.
    let net = store(LearningRule::Projection, &xi, n);
    assert_eq!(fixed_fraction(&net, &xi), 1.0);
    let full = ClassicalHopfieldConfig::new(n)
        .with_rule(LearningRule::Projection)
        .with_self_coupling(true)
        .store(&xi)
        .unwrap();
    for pattern in xi.chunks_exact(n) {
        let fields = net.local_fields(pattern).unwrap();
        for i in 0..n {
            let diagonal = full.weights()[i * n + i];
            assert!(net.weights()[i * n + i] == 0.0 && diagonal < 1.0);
            let expected = (1.0 - diagonal) * f64::from(pattern[i]);
            assert!(
                (fields[i] - expected).abs() < 1e-9,
                "{} vs {expected}",
                fields[i]
            );
        }
    }
    // Linearly dependent sets are refused with advice.
    let twice = [&xi[..n], &xi[..n]].concat();
    let err = ClassicalHopfieldConfig::new(n)
        .with_rule(LearningRule::Projection)
        .store(&twice)
        .unwrap_err();
    assert!(err.to_string().contains("linearly independent"), "{err}");
}

#[test]
fn storkey_stores_more_than_hebb_at_equal_size() {
    // N = 200, P = 40 (α = 0.2): Hebb's stable fraction is about e^{-N Φ(-√(N/P))} ≈ 0.13,
    // Storkey's fixed-point capacity N/√(2 ln N) ≈ 61 is not yet reached.
    let (n, p) = (200, 40);
    let (mut hebb, mut storkey) = (0.0, 0.0);
    for seed in 0..3 {
        let xi = random_binary(p, n, 20 + seed);
        hebb += fixed_fraction(&store(LearningRule::Hebbian, &xi, n), &xi) / 3.0;
        storkey += fixed_fraction(&store(LearningRule::Storkey, &xi, n), &xi) / 3.0;
    }
    assert!(hebb < 0.4, "Hebb stable fraction {hebb}");
    assert!(storkey > 0.95, "Storkey stable fraction {storkey}");
}

#[test]
fn clamped_neurons_keep_their_values() {
    let (n, p) = (200, 10);
    let xi = random_binary(p, n, 5);
    let target = &xi[3 * n..4 * n];
    let net = store(LearningRule::Hebbian, &xi, n);
    // Pattern completion: the first half is known and clamped, the second half is random.
    let mut cue = target.to_vec();
    cue[n / 2..].copy_from_slice(&random_binary(1, n / 2, 8));
    let clamp: Vec<bool> = (0..n).map(|i| i < n / 2).collect();
    let run = net
        .run_clamped(&cue, &clamp, &DynamicsConfig::new())
        .unwrap();
    assert_eq!(run.state, target);
    // Clamps that contradict the pattern hold against the dynamics.
    let mut odd = target.to_vec();
    for v in &mut odd[..20] {
        *v = -*v;
    }
    let clamp: Vec<bool> = (0..n).map(|i| i < 20).collect();
    for mode in [UpdateMode::Asynchronous, UpdateMode::Synchronous] {
        let run = net
            .run_clamped(&odd, &clamp, &DynamicsConfig::new().with_mode(mode))
            .unwrap();
        assert_eq!(&run.state[..20], &odd[..20]);
        assert_eq!(&run.state[20..], &target[20..]);
    }
    let err = net
        .run_clamped(&odd, &clamp[..10], &DynamicsConfig::new())
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
}

#[test]
fn zero_temperature_limit_equals_the_deterministic_dynamics() {
    // N even and P odd: every Hebbian field is a non-zero multiple of 1/N, so there are no ties
    // and at β = 10⁶ Glauber acceptance is 0 or 1 in f64.
    let (n, p) = (64, 5);
    let net = store(LearningRule::Hebbian, &random_binary(p, n, 2), n);
    for seed in 0..10 {
        let start = random_binary(1, n, 100 + seed);
        for mode in [UpdateMode::Asynchronous, UpdateMode::Synchronous] {
            let dynamics = DynamicsConfig::new().with_mode(mode).with_seed(seed);
            let cold = net
                .run(&start, &dynamics.clone().with_temperature(1e-6))
                .unwrap();
            let exact = net.run(&start, &dynamics).unwrap();
            assert_eq!(cold.state, exact.state, "seed {seed} {mode:?}");
        }
    }
}

/// Time-averaged |m| of one stored pattern under Glauber dynamics at `temperature`.
fn glauber_magnetisation(n: usize, patterns: usize, temperature: f64, sweeps: u64) -> f64 {
    let xi = random_binary(patterns, n, 11);
    let net = store(LearningRule::Hebbian, &xi, n);
    let mut state = xi[..n].to_vec();
    let mut sum = 0.0;
    for sweep in 0..sweeps + 20 {
        let dynamics = DynamicsConfig::new()
            .with_max_sweeps(1)
            .with_temperature(temperature)
            .with_seed(sweep);
        state = net.run(&state, &dynamics).unwrap().state;
        if sweep >= 20 {
            sum += overlap(&state, &xi[..n]).unwrap().abs();
        }
    }
    sum / sweeps as f64
}

#[test]
fn glauber_dynamics_follow_curie_weiss_and_melt_at_high_temperature() {
    // One pattern (Mattis model): m = tanh(m/T) in mean field, m* = 0.9575 at T = 0.5 and 0.7105
    // at T = 0.8. At N = 2000 the equilibrium spread of m is √(χ/N) ≈ 0.01 and 0.03 per sweep.
    let curie_weiss = |t: f64| (0..500).fold(1.0f64, |m, _| (m / t).tanh());
    for (t, tol) in [(0.5, 0.01), (0.8, 0.025)] {
        let m = glauber_magnetisation(2000, 1, t, 100);
        let expected = curie_weiss(t);
        assert!(
            (m - expected).abs() < tol,
            "T = {t}: m = {m}, mean field {expected}"
        );
    }
    // T = 3 (α = 0.01): paramagnetic, |m| ~ 1/√(N(1 - 1/T)) ≈ 0.03.
    let m = glauber_magnetisation(1000, 10, 3.0, 30);
    assert!(m < 0.1, "T = 3: |m| = {m}");
}

#[test]
fn the_capacity_transition_sits_near_alpha_c() {
    // N = 1000, started at every stored pattern. Below α_c the final overlap is ≈ 1; at α = 0.2
    // retrieval is lost (measured mean 0.39 over 5 pattern sets, 0.35..0.45 per set).
    let (exact, m) = classical_recall::classical_recall(1000, 0.05, 1);
    assert!(
        exact > 0.95 && m > 0.995,
        "α = 0.05: exact {exact}, overlap {m}"
    );
    let (exact, m) = classical_recall::classical_recall(1000, 0.2, 1);
    assert!(
        exact < 0.02 && m < 0.6,
        "α = 0.2: exact {exact}, overlap {m}"
    );
    // α = 0.1: the fraction of stable patterns against (1 - Φ(-√((N-1)/(P-1))))^N = 0.47 with
    // a pattern-set spread of about 0.05 (one set here).
    let (exact, m) = classical_recall::classical_recall(1000, 0.1, 2);
    assert!(
        (exact - 0.47).abs() < 0.17 && m > 0.99,
        "α = 0.1: exact {exact}, overlap {m}"
    );
}

#[test]
fn bad_inputs_are_errors() {
    let net = ClassicalHopfieldConfig::new(4)
        .store(&[1.0, -1.0, 1.0, 1.0])
        .unwrap();
    assert!(matches!(
        net.energy(&[1.0, 1.0]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        net.energy(&[1.0, 0.5, 1.0, 1.0]),
        Err(Error::InvalidConfig { .. })
    ));
    let bad = ClassicalHopfieldConfig::new(4).store(&[1.0, 0.0, 1.0, 1.0]);
    assert!(matches!(bad, Err(Error::InvalidConfig { .. })));
    assert!(ClassicalHopfieldConfig::new(3).store(&[1.0; 4]).is_err());
    assert!(ClassicalHopfieldConfig::new(0).validate().is_err());
    let hot = DynamicsConfig::new().with_temperature(-1.0);
    assert!(net.run(&[1.0; 4], &hot).is_err());
    assert!(
        net.run(&[1.0; 4], &DynamicsConfig::new().with_max_sweeps(0))
            .is_err()
    );
    assert!(ClassicalHopfield::from_weights(2, vec![0.0, 1.0, 2.0, 0.0]).is_err());
    assert!(net.clone().with_thresholds(vec![0.0; 3]).is_err());
    // Configs round-trip through serde.
    let config = ClassicalHopfieldConfig::new(7).with_rule(LearningRule::Storkey);
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(
        serde_json::from_str::<ClassicalHopfieldConfig>(&json).unwrap(),
        config
    );
}

/// Mean magnetisations over `seeds` networks of `dim` neurons, `count` patterns, dilution `d`,
/// each run to a fixed point from the hierarchical state with 10 % of its neurons flipped, or
/// (`from_random`) from a random state, then as |m| sorted downwards (the order in which the
/// patterns are retrieved and their signs are then chosen by the dynamics).
fn mean_magnetisations(
    dim: usize,
    count: usize,
    d: f64,
    seeds: u64,
    from_random: bool,
) -> Vec<f64> {
    let mut mean = vec![0.0; count];
    for seed in 0..seeds {
        let net = MultitaskConfig::new(dim, count, d)
            .with_seed(10 + seed)
            .init()
            .unwrap();
        let start = if from_random {
            random_binary(1, dim, 100 + seed)
        } else {
            flip(
                &net.hierarchical_state(2 + seed),
                dim / 10,
                &mut Rng::new(seed),
            )
        };
        let run = net
            .run(&start, &DynamicsConfig::new().with_seed(seed))
            .unwrap();
        assert!(run.converged());
        let mut m = mattis_magnetisations(net.patterns(), &run.state).unwrap();
        if from_random {
            m = m.iter().map(|v| v.abs()).collect();
            m.sort_by(|a, b| b.total_cmp(a));
        }
        for (acc, v) in mean.iter_mut().zip(m) {
            *acc += v / seeds as f64;
        }
    }
    mean
}

#[test]
fn multitasking_magnetisations_follow_the_hierarchy_below_threshold() {
    // From the hierarchical state with 10 % of the neurons flipped, N = 4000, mean over eight
    // pattern sets. Finite-size spread of m_k per set: the random overlaps of the patterns on
    // their common support, about (1-d)/√N ≤ 0.014, so ≤ 0.005 for the mean; tolerance 0.02.
    for (d, k) in [(0.1, 3), (0.3, 3), (0.5, 3), (0.4, 4)] {
        assert!(d < hierarchy_threshold(k));
        let m = mean_magnetisations(4000, k, d, 8, false);
        let theory = hierarchical_magnetisations(d, k);
        for (a, b) in m.iter().zip(&theory) {
            assert!((a - b).abs() < 0.02, "d = {d}: {m:?} vs {theory:?}");
        }
    }
    // Well below d_c the perturbed state returns to the hierarchical state's magnetisations
    // exactly (only neurons blank in every pattern, which no m_k sees, may stay flipped).
    let net = MultitaskConfig::new(4000, 3, 0.3)
        .with_seed(1)
        .init()
        .unwrap();
    let hierarchical = net.hierarchical_state(0);
    let start = flip(&hierarchical, 400, &mut Rng::new(1));
    let run = net.run(&start, &DynamicsConfig::new()).unwrap();
    let (a, b) = (
        net.magnetisations(&run.state).unwrap(),
        net.magnetisations(&hierarchical).unwrap(),
    );
    assert!(
        a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-12),
        "{a:?} vs {b:?}"
    );
    // The exact hierarchical state is a fixed point below d_c and not above it.
    let net = MultitaskConfig::new(4000, 3, 0.5)
        .with_seed(1)
        .init()
        .unwrap();
    let run = net
        .run(&net.hierarchical_state(0), &DynamicsConfig::new())
        .unwrap();
    assert_eq!(run.flips, 0);
    let net = MultitaskConfig::new(4000, 3, 0.8)
        .with_seed(1)
        .init()
        .unwrap();
    let run = net
        .run(&net.hierarchical_state(0), &DynamicsConfig::new())
        .unwrap();
    assert!(run.flips > 0);
}

#[test]
fn strong_dilution_retrieves_all_patterns_in_parallel() {
    // K = 5 above d_c = 0.519, from random states: every pattern is retrieved at once, with |m_k|
    // on the N → ∞ zero-temperature fixed point (not on the broken hierarchy (1-d)d^(k-1), which
    // is 0.017 off at d = 0.8). Tolerance 0.012: eight sets of N = 4000; the measured spread of
    // one set is ≈ 0.007 (sixteen other sets), so ≈ 0.0025 for the mean.
    for d in [0.8, 0.9] {
        let m = mean_magnetisations(4000, 5, d, 8, true);
        let theory = mean_field_fixed_point(d, &hierarchical_magnetisations(d, 5)).unwrap();
        for (a, b) in m.iter().zip(&theory) {
            assert!((a - b).abs() < 0.012, "d = {d}: {m:?} vs {theory:?}");
        }
        assert!(m[4] > 0.45 * m[0], "d = {d}: {m:?}");
    }
}
