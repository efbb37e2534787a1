//! Demo: the multitasking Hebbian network on diluted patterns retrieves several patterns at once.
//!
//! `K` patterns with entries in {-1, 0, +1} (`P(0) = d`) are stored with Hebbian couplings; the
//! zero-temperature dynamics run to a fixed point. Below the threshold `d_c` (the root of
//! `Σ_{j=1}^{K-1} d^j = 1`, 0.618 for K = 3) the fixed point reached from the hierarchical state
//! (each neuron follows its first non-zero pattern; 10 % of the neurons flipped to start) has
//! the Mattis magnetisations `m_k = (1 - d) d^(k-1)`. Above it the hierarchy breaks: neurons whose
//! later patterns together outweigh the first follow them, and the magnetisations move towards
//! each other; the `N → ∞` zero-temperature fixed point is then computed exactly by iterating
//! `m ← E_ξ[ξ sign(ξ·m)]` (the parallel regime). At strong dilution the network started from a
//! random state retrieves all patterns in parallel.
//!
//! Run with `cargo xtask demo multitasking` (host computation; about half a minute).

use kiln_core::plot::{LinePlot, Series};
use kiln_core::report::DemoReport;
use kiln_hopfield::classical::DynamicsConfig;
use kiln_hopfield::multitask::{
    MultitaskConfig, hierarchical_magnetisations, hierarchy_threshold, mean_field_fixed_point,
};
use kiln_hopfield::patterns::{Rng, flip, random_binary};

const DIM: usize = 4000;
const SETS: u64 = 8;

/// Mean magnetisations over [`SETS`] pattern sets: from the hierarchical state with 10 % of the
/// neurons flipped (signed, in pattern order), or from random states (|m| sorted downwards).
fn measure(count: usize, d: f64, from_random: bool) -> kiln_hopfield::Result<Vec<f64>> {
    let mut mean = vec![0.0; count];
    for set in 0..SETS {
        let net = MultitaskConfig::new(DIM, count, d)
            .with_seed(500 + set)
            .init()?;
        let start = if from_random {
            random_binary(1, DIM, 900 + set)
        } else {
            flip(&net.hierarchical_state(set), DIM / 10, &mut Rng::new(set))
        };
        let run = net.run(&start, &DynamicsConfig::new().with_seed(set))?;
        let mut m = net.magnetisations(&run.state)?;
        if from_random {
            m = m.iter().map(|v| v.abs()).collect();
            m.sort_by(|a, b| b.total_cmp(a));
        }
        for (acc, v) in mean.iter_mut().zip(m) {
            *acc += v / SETS as f64;
        }
    }
    Ok(mean)
}

fn fmt(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.3}")).collect();
    format!("({})", parts.join(", "))
}

fn main() -> kiln_hopfield::Result<()> {
    let mut report = DemoReport::new(
        "multitasking",
        "Multitasking Hebbian network: hierarchical and parallel retrieval of diluted patterns",
        "host",
    )?;
    // Part 1: K = 3 across the dilution range, from the (perturbed) hierarchical state.
    let k = 3;
    let d_c = hierarchy_threshold(k);
    let dilutions = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
    let mut measured = vec![Vec::new(); k];
    let mut below_dev: f64 = 0.0;
    let mut near_dev: f64 = 0.0;
    let mut above_dev_formula: f64 = 0.0;
    let mut above_dev_mf: f64 = 0.0;
    for &d in &dilutions {
        let m = measure(k, d, false)?;
        let formula = hierarchical_magnetisations(d, k);
        let mf = mean_field_fixed_point(d, &formula)?;
        for j in 0..k {
            measured[j].push((d, m[j]));
            if d < d_c - 0.05 {
                below_dev = below_dev.max((m[j] - formula[j]).abs());
            } else if d < d_c {
                near_dev = near_dev.max((m[j] - formula[j]).abs());
            } else {
                above_dev_formula = above_dev_formula.max((m[j] - formula[j]).abs());
                above_dev_mf = above_dev_mf.max((m[j] - mf[j]).abs());
            }
        }
        if (d - 0.3).abs() < 1e-9 {
            for j in 0..k {
                report.metric(format!("m{}_d0.3_measured", j + 1), m[j]);
                report.metric(format!("m{}_d0.3_theory", j + 1), formula[j]);
            }
        }
    }
    report.metric("k3_dilution_threshold", d_c);
    report.metric("k3_max_abs_dev_from_formula_below_threshold", below_dev);
    report.metric("k3_max_abs_dev_from_formula_near_threshold", near_dev);
    report.metric(
        "k3_max_abs_dev_from_formula_above_threshold",
        above_dev_formula,
    );
    report.metric(
        "k3_max_abs_dev_from_mean_field_above_threshold",
        above_dev_mf,
    );

    let fine: Vec<f64> = (0..=95).map(|i| f64::from(i) / 100.0).collect();
    let mut plot = LinePlot::new(
        "Mattis magnetisations, K = 3, N = 4000",
        "dilution d",
        "m_k",
    );
    for (j, points) in measured.iter().enumerate() {
        plot = plot.with(Series::markers(
            format!("m_{} measured", j + 1),
            points.clone(),
        ));
    }
    for j in 0..k {
        let curve = fine
            .iter()
            .map(|&d| (d, hierarchical_magnetisations(d, k)[j]))
            .collect();
        plot = plot.with(Series::line(format!("(1-d) d^{j}"), curve));
    }
    for j in 0..k {
        let curve: Vec<(f64, f64)> = fine
            .iter()
            .filter(|&&d| d >= d_c)
            .map(|&d| {
                let mf = mean_field_fixed_point(d, &hierarchical_magnetisations(d, k));
                (d, mf.map_or(f64::NAN, |m| m[j]))
            })
            .collect();
        plot = plot.with(Series::line(
            format!("m_{} mean field, d > d_c", j + 1),
            curve,
        ));
    }
    plot.with(Series::line("d_c", vec![(d_c, 0.0), (d_c, 1.0)]))
        .save(report.path("hierarchy_k3.png"), (860, 560))?;
    report.plot(
        "hierarchy_k3.png",
        "m_k against dilution for K = 3: measured, (1-d)d^(k-1), and the mean-field fixed point above d_c",
    );

    // Part 2: K = 5 at strong dilution, from random states.
    let k = 5;
    let mut parallel = LinePlot::new(
        "Parallel retrieval from random states, K = 5, N = 4000",
        "pattern rank k (by |m|)",
        "|m_k| / (1 - d)",
    );
    let mut lines = Vec::new();
    for d in [0.8, 0.9] {
        let m = measure(k, d, true)?;
        let formula = hierarchical_magnetisations(d, k);
        let mf = mean_field_fixed_point(d, &formula)?;
        let scaled = |v: &[f64]| -> Vec<(f64, f64)> {
            v.iter()
                .enumerate()
                .map(|(j, x)| ((j + 1) as f64, x / (1.0 - d)))
                .collect()
        };
        let dev = m
            .iter()
            .zip(&mf)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        report.metric(format!("k5_d{d}_max_abs_dev_from_mean_field"), dev);
        report.metric(format!("k5_d{d}_ratio_last_to_first"), m[k - 1] / m[0]);
        lines.push(format!(
            "d = {d}: measured |m| {} against the mean-field fixed point {} (hierarchy formula \
             {}); smallest/largest {:.2}",
            fmt(&m),
            fmt(&mf),
            fmt(&formula),
            m[k - 1] / m[0]
        ));
        parallel = parallel
            .with(Series::markers(format!("d = {d} measured"), scaled(&m)))
            .with(Series::line(format!("d = {d} mean field"), scaled(&mf)))
            .with(Series::line(
                format!("d = {d} hierarchy d^(k-1)"),
                scaled(&formula),
            ));
    }
    parallel.save(report.path("parallel_k5.png"), (860, 520))?;
    report.plot(
        "parallel_k5.png",
        "all five patterns retrieved at once at strong dilution: |m_k|/(1-d) by rank",
    );
    report.summary(format!(
        "Hebbian network of N = {DIM} neurons storing diluted patterns, zero-temperature \
         asynchronous dynamics to a fixed point, {SETS} pattern sets per point. K = 3 from the \
         hierarchical state with 10 % of the neurons flipped: up to d = 0.5, below d_c = {d_c:.3}, \
         the measured magnetisations follow (1-d)d^(k-1) to within {below_dev:.3} (at d = 0.3: {}, \
         theory {}); at d = 0.6, just below d_c, to within {near_dev:.3}: the margin \
         m₁ - m₂ - m₃ = 0.016 of a neuron whose later patterns both oppose the first is there no \
         larger than the O(1/√N) crosstalk, so some of them flip; \
         above d_c they leave the formula (largest deviation {above_dev_formula:.3}) and follow the \
         mean-field fixed point of m ← E[ξ sign(ξ·m)] to within {above_dev_mf:.3}. Expected \
         finite-size spread of the mean: the random overlaps of the patterns on their common \
         support give about (1-d)/√N ≤ 0.015 per set, so ≤ 0.005 for the mean of {SETS} sets \
         (well below d_c the dynamics return to the hierarchical state itself, so these are \
         fluctuations of the patterns, not of the retrieval). Parallel regime, K = 5 from random states: {}. All five \
         patterns are retrieved simultaneously, with magnetisations within a factor of about two of \
         each other (with undiluted patterns the same dynamics end in one pattern or a spurious \
         mixture).",
        fmt(&measured.iter().map(|c| c[3].1).collect::<Vec<_>>()),
        fmt(&hierarchical_magnetisations(0.3, 3)),
        lines.join("; ")
    ));
    report.finish()?;
    Ok(())
}
