//! The multitasking Hebbian network (Agliari, Barra, Galluzzi, Guerra and Moauro 2012): `K`
//! diluted patterns with entries in {-1, 0, +1} (`P(ξ = 0) = d`, the dilution), Hebbian couplings
//! `Jᵢⱼ = (1/N) Σ_μ ξᵢ^μ ξⱼ^μ` and zero-temperature dynamics.
//!
//! A pattern leaves the neurons where it is blank free, and those neurons can retrieve further
//! patterns: at low load and zero temperature the network retrieves several patterns at once. In
//! the hierarchical state every neuron follows the first pattern (in order of decreasing
//! magnetisation) that is non-zero on it, so the Mattis magnetisations are
//! `m_k = (1 - d) d^(k-1)` ([`hierarchical_magnetisations`]). That state is a fixed point while
//! the first magnetisation outweighs all the others on a neuron where they all disagree with it,
//! `Σ_{j=1}^{K-1} d^j < 1` ([`hierarchy_threshold`]; `d_c = 0.618` for `K = 3`, `→ 1/2` for large
//! `K`, never for `K = 2`). Beyond it, at strong dilution, neurons follow the majority of their
//! non-zero patterns and the magnetisations move closer together (the parallel regime);
//! [`mean_field_fixed_point`] gives the `N → ∞` zero-temperature fixed point in both regimes.

use burn::config::Config;

use crate::Error;
use crate::classical::{
    ClassicalHopfield, DynamicsConfig, Run, check_patterns, check_state, mattis_magnetisations,
};
use crate::patterns::{Rng, diluted};

/// Configuration of a [`MultitaskNetwork`] with random diluted patterns.
#[derive(Config, Debug, PartialEq)]
pub struct MultitaskConfig {
    /// Number of neurons `N` (at least 1).
    pub dim: usize,
    /// Number of patterns `K` (at least 1; the theory is for `K` small against `log N`).
    pub count: usize,
    /// Dilution `d` in `[0, 1)`: the probability that a pattern entry is 0.
    pub dilution: f64,
    /// Seed of the patterns.
    #[config(default = 0)]
    pub seed: u64,
}

impl MultitaskConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `dim = 0`, `count = 0`, or `dilution` outside `[0, 1)`.
    pub fn validate(&self) -> crate::Result<()> {
        if self.dim == 0 {
            return Err(Error::config(
                "dim",
                0,
                "a network needs at least one neuron",
            ));
        }
        if self.count == 0 {
            return Err(Error::config("count", 0, "store at least one pattern"));
        }
        if !(0.0..1.0).contains(&self.dilution) {
            return Err(Error::config(
                "dilution",
                self.dilution,
                "use a dilution in [0, 1) (1 would leave every pattern blank)",
            ));
        }
        Ok(())
    }

    /// Draws the patterns ([`diluted`]) and builds the network.
    ///
    /// # Errors
    /// As [`MultitaskConfig::validate`].
    pub fn init(&self) -> crate::Result<MultitaskNetwork> {
        self.validate()?;
        MultitaskNetwork::from_patterns(
            diluted(self.count, self.dim, self.dilution, self.seed),
            self.dim,
        )
    }
}

/// A Hebbian network storing diluted patterns.
#[derive(Debug, Clone)]
pub struct MultitaskNetwork {
    dim: usize,
    count: usize,
    patterns: Vec<f32>,
    network: ClassicalHopfield,
}

impl MultitaskNetwork {
    /// A network storing `patterns` (row-major `[K, N]`, entries in {-1, 0, +1}).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `patterns.len()` is not a multiple of `dim`;
    /// [`Error::InvalidConfig`] for other entries or no patterns.
    pub fn from_patterns(patterns: Vec<f32>, dim: usize) -> crate::Result<Self> {
        check_patterns(&patterns, dim, &[-1.0, 0.0, 1.0])?;
        if patterns.is_empty() {
            return Err(Error::config(
                "patterns",
                "none",
                "store at least one pattern",
            ));
        }
        let mut weights = crate::classical::hebbian_couplings(&patterns, dim);
        for i in 0..dim {
            weights[i * dim + i] = 0.0;
        }
        Ok(MultitaskNetwork {
            dim,
            count: patterns.len() / dim,
            network: ClassicalHopfield::from_weights(dim, weights)?,
            patterns,
        })
    }

    /// Number of neurons `N`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of patterns `K`.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The patterns, row-major `[K, N]`.
    pub fn patterns(&self) -> &[f32] {
        &self.patterns
    }

    /// The underlying Hebbian network (energy, fields, clamped runs).
    pub fn network(&self) -> &ClassicalHopfield {
        &self.network
    }

    /// The hierarchical state for the pattern order `0, 1, …, K-1`: each neuron takes the entry
    /// of the first pattern that is non-zero on it, and a seeded random sign where all are blank.
    pub fn hierarchical_state(&self, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..self.dim)
            .map(|i| {
                let first = (0..self.count)
                    .map(|k| self.patterns[k * self.dim + i])
                    .find(|&v| v != 0.0);
                let random = rng.sign();
                first.unwrap_or(random)
            })
            .collect()
    }

    /// A cue of pattern `k`: its non-zero entries, and seeded random signs on its blanks.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `k ≥ K`.
    pub fn cue(&self, k: usize, seed: u64) -> crate::Result<Vec<f32>> {
        if k >= self.count {
            return Err(Error::config(
                "k",
                k,
                &format!("pick a pattern below {}", self.count),
            ));
        }
        let mut rng = Rng::new(seed);
        Ok(self.patterns[k * self.dim..(k + 1) * self.dim]
            .iter()
            .map(|&v| {
                let random = rng.sign();
                if v == 0.0 { random } else { v }
            })
            .collect())
    }

    /// Runs the dynamics from `state` (±1 entries).
    ///
    /// # Errors
    /// As [`ClassicalHopfield::run`].
    pub fn run(&self, state: &[f32], dynamics: &DynamicsConfig) -> crate::Result<Run> {
        self.network.run(state, dynamics)
    }

    /// The Mattis magnetisations `m_k = (1/N) Σᵢ ξᵢ^k sᵢ`.
    ///
    /// # Errors
    /// As [`ClassicalHopfield::local_fields`] for the state.
    pub fn magnetisations(&self, state: &[f32]) -> crate::Result<Vec<f64>> {
        check_state("MultitaskNetwork::magnetisations", state, self.dim)?;
        mattis_magnetisations(&self.patterns, state)
    }
}

/// The hierarchical magnetisations `m_k = (1 - d) d^(k-1)`, `k = 1..=count`.
pub fn hierarchical_magnetisations(dilution: f64, count: usize) -> Vec<f64> {
    (0..count)
        .map(|k| (1.0 - dilution) * dilution.powi(k as i32))
        .collect()
}

/// The dilution above which the hierarchical state of `count` patterns stops being a
/// zero-temperature fixed point: the root of `Σ_{j=1}^{K-1} d^j = 1` (1 for `K ≤ 2`).
pub fn hierarchy_threshold(count: usize) -> f64 {
    if count <= 2 {
        return 1.0;
    }
    let excess = |d: f64| (1..count).map(|j| d.powi(j as i32)).sum::<f64>() - 1.0;
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if excess(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The zero-temperature `N → ∞` fixed point reached from `start` by the mean-field map
/// `m_k ← E_ξ[ξ_k sign(Σ_l ξ_l m_l)]` (exact expectation over the `3^K` entry combinations of a
/// neuron, a zero field contributing 0: such neurons keep random values), iterated until it
/// stops changing (at most 1000 iterations).
///
/// # Errors
/// [`Error::InvalidConfig`] for a dilution outside `[0, 1)`, or more than 12 patterns (the
/// enumeration is exponential in `K`).
pub fn mean_field_fixed_point(dilution: f64, start: &[f64]) -> crate::Result<Vec<f64>> {
    MultitaskConfig::new(1, start.len().max(1), dilution).validate()?;
    let k = start.len();
    if k > 12 {
        return Err(Error::config(
            "start",
            format!("{k} magnetisations"),
            "the exact expectation enumerates 3^K cases; use at most 12 patterns",
        ));
    }
    let cases = 3usize.pow(k as u32);
    let mut xi = vec![0.0f64; k];
    let mut m = start.to_vec();
    for _ in 0..1000 {
        let mut next = vec![0.0; k];
        for case in 0..cases {
            let (mut c, mut prob) = (case, 1.0);
            for x in xi.iter_mut() {
                *x = [0.0, 1.0, -1.0][c % 3];
                prob *= if *x == 0.0 {
                    dilution
                } else {
                    0.5 * (1.0 - dilution)
                };
                c /= 3;
            }
            let field: f64 = xi.iter().zip(&m).map(|(a, b)| a * b).sum();
            let scale: f64 = m.iter().map(|v| v.abs()).sum::<f64>() * 1e-12;
            let s = if field > scale {
                1.0
            } else if field < -scale {
                -1.0
            } else {
                0.0
            };
            for (nk, x) in next.iter_mut().zip(&xi) {
                *nk += prob * x * s;
            }
        }
        let change = next
            .iter()
            .zip(&m)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        m = next;
        if change < 1e-14 {
            break;
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hierarchy_is_a_mean_field_fixed_point_below_threshold_only() {
        let h = hierarchical_magnetisations(0.3, 4);
        let m = mean_field_fixed_point(0.3, &h).unwrap();
        for (a, b) in m.iter().zip(&h) {
            assert!((a - b).abs() < 1e-12, "{m:?} vs {h:?}");
        }
        let golden = (5f64.sqrt() - 1.0) / 2.0;
        assert!((hierarchy_threshold(3) - golden).abs() < 1e-12);
        let h = hierarchical_magnetisations(0.8, 3);
        let m = mean_field_fixed_point(0.8, &h).unwrap();
        // Neurons where both later patterns oppose the first follow them: m₁ loses (1-d)³/2.
        assert!(
            (m[0] - (h[0] - 0.5 * 0.2f64.powi(3))).abs() < 1e-12,
            "{m:?}"
        );
    }
}
