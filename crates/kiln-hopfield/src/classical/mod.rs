//! Classical binary Hopfield networks (Hopfield 1982): `N` neurons `sᵢ = ±1`, symmetric couplings
//! `W` built by a [`LearningRule`] from stored patterns, optional thresholds `θ`, the energy
//! `E(s) = -½ sᵀWs + θᵀs` and its descent by sign updates of the local fields
//! `hᵢ = Σⱼ Wᵢⱼ sⱼ - θᵢ`.
//!
//! The dynamics ([`DynamicsConfig`]) are synchronous or asynchronous, deterministic (`T = 0`) or
//! Glauber at temperature `T` (`P(sᵢ = +1) = σ(2hᵢ/T)`), and neurons can be clamped to their
//! initial values (pattern completion from known entries). Computation is on the host in `f64`:
//! for `N` up to a few thousand, asynchronous dynamics with incrementally updated fields
//! (`O(N)` per flip) are faster than any batched tensor formulation.
//!
//! ```
//! use kiln_hopfield::classical::{ClassicalHopfieldConfig, DynamicsConfig, LearningRule};
//! use kiln_hopfield::patterns::{flip, random_binary, Rng};
//!
//! let (n, p) = (200, 10);
//! let xi = random_binary(p, n, 1);
//! let net = ClassicalHopfieldConfig::new(n).with_rule(LearningRule::Hebbian).store(&xi)?;
//! let probe = flip(&xi[..n], 30, &mut Rng::new(2));
//! let run = net.run(&probe, &DynamicsConfig::new())?;
//! assert_eq!(run.state, &xi[..n]);
//! # Ok::<(), kiln_hopfield::Error>(())
//! ```

mod dynamics;
mod storage;

use burn::config::Config;

pub(crate) use dynamics::{Drive, check_clamp, check_state, run as run_engine};
pub use dynamics::{DynamicsConfig, Run, Stop, UpdateMode};
pub use storage::LearningRule;
pub(crate) use storage::hebbian as hebbian_couplings;

use crate::Error;

/// Configuration of a [`ClassicalHopfield`] network: size, learning rule and self-couplings.
#[derive(Config, Debug, PartialEq)]
pub struct ClassicalHopfieldConfig {
    /// Number of neurons `N` (at least 1).
    pub dim: usize,
    /// How the couplings are built from the patterns.
    #[config(default = "LearningRule::Hebbian")]
    pub rule: LearningRule,
    /// Keep the self-couplings `Wᵢᵢ` (the usual convention, and the default, zeroes them: with
    /// `Wᵢᵢ = P/N` every state near a pattern becomes a spurious fixed point at high load).
    #[config(default = false)]
    pub self_coupling: bool,
}

impl ClassicalHopfieldConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `dim = 0`.
    pub fn validate(&self) -> crate::Result<()> {
        if self.dim == 0 {
            return Err(Error::config(
                "dim",
                0,
                "a network needs at least one neuron",
            ));
        }
        Ok(())
    }

    /// Stores `patterns` (row-major `[P, N]`, entries ±1; `P = 0` gives `W = 0`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an invalid configuration, entries other than ±1, or (projection
    /// rule) linearly dependent patterns; [`Error::ShapeMismatch`] when `patterns.len()` is not a
    /// multiple of `dim`.
    pub fn store(&self, patterns: &[f32]) -> crate::Result<ClassicalHopfield> {
        self.validate()?;
        check_patterns(patterns, self.dim, &[-1.0, 1.0])?;
        let weights = storage::couplings(self.rule, patterns, self.dim, self.self_coupling)?;
        Ok(ClassicalHopfield::from_parts(self.dim, weights))
    }
}

/// A classical Hopfield network: couplings `W` (`N x N`, symmetric) and thresholds `θ`.
#[derive(Debug, Clone)]
pub struct ClassicalHopfield {
    dim: usize,
    weights: Vec<f64>,
    thresholds: Vec<f64>,
    /// `Σⱼ |Wᵢⱼ| + |θᵢ|`, the scale against which a zero local field is judged.
    row_scale: Vec<f64>,
}

impl ClassicalHopfield {
    fn from_parts(dim: usize, weights: Vec<f64>) -> Self {
        let mut net = ClassicalHopfield {
            dim,
            weights,
            thresholds: vec![0.0; dim],
            row_scale: Vec::new(),
        };
        net.refresh_scale();
        net
    }

    fn refresh_scale(&mut self) {
        self.row_scale = (0..self.dim)
            .map(|i| {
                let row: f64 = self.row(i).iter().map(|w| w.abs()).sum();
                row + self.thresholds[i].abs()
            })
            .collect();
    }

    /// A network with given couplings (row-major `N x N`, symmetric, finite).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `weights.len() != dim²`; [`Error::InvalidConfig`] for
    /// `dim = 0`, a non-finite entry, or an asymmetric matrix (the energy is a Lyapunov function
    /// only for symmetric couplings).
    pub fn from_weights(dim: usize, weights: Vec<f64>) -> crate::Result<Self> {
        ClassicalHopfieldConfig::new(dim).validate()?;
        if weights.len() != dim * dim {
            return Err(Error::shape(
                "ClassicalHopfield::from_weights",
                format!("{dim} x {dim} = {} couplings", dim * dim),
                &[weights.len()],
            ));
        }
        if let Some(w) = weights.iter().find(|w| !w.is_finite()) {
            return Err(Error::config("weights", w, "couplings must be finite"));
        }
        for i in 0..dim {
            for j in 0..i {
                let (a, b) = (weights[i * dim + j], weights[j * dim + i]);
                if (a - b).abs() > 1e-12 * a.abs().max(b.abs()).max(1.0) {
                    return Err(Error::config(
                        "weights",
                        format!("W[{i}][{j}] = {a} but W[{j}][{i}] = {b}"),
                        "couplings must be symmetric; use (W + Wᵀ)/2",
                    ));
                }
            }
        }
        Ok(Self::from_parts(dim, weights))
    }

    /// The same network with thresholds `θ` (one per neuron, finite).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a wrong length, [`Error::InvalidConfig`] for a non-finite entry.
    pub fn with_thresholds(mut self, thresholds: Vec<f64>) -> crate::Result<Self> {
        if thresholds.len() != self.dim {
            return Err(Error::shape(
                "thresholds",
                format!("one threshold per neuron ({})", self.dim),
                &[thresholds.len()],
            ));
        }
        if let Some(t) = thresholds.iter().find(|t| !t.is_finite()) {
            return Err(Error::config("thresholds", t, "thresholds must be finite"));
        }
        self.thresholds = thresholds;
        self.refresh_scale();
        Ok(self)
    }

    /// Number of neurons `N`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The couplings, row-major `N x N`.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The thresholds `θ`.
    pub fn thresholds(&self) -> &[f64] {
        &self.thresholds
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.weights[i * self.dim..(i + 1) * self.dim]
    }

    fn fields_unchecked(&self, state: &[f32]) -> Vec<f64> {
        (0..self.dim)
            .map(|i| {
                let dot: f64 = self
                    .row(i)
                    .iter()
                    .zip(state)
                    .map(|(w, &s)| w * f64::from(s))
                    .sum();
                dot - self.thresholds[i]
            })
            .collect()
    }

    /// The local fields `hᵢ = Σⱼ Wᵢⱼ sⱼ - θᵢ`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] or [`Error::InvalidConfig`] for a state that is not `N` entries ±1.
    pub fn local_fields(&self, state: &[f32]) -> crate::Result<Vec<f64>> {
        check_state("ClassicalHopfield::local_fields", state, self.dim)?;
        Ok(self.fields_unchecked(state))
    }

    /// The energy `E(s) = -½ sᵀWs + θᵀs`.
    ///
    /// # Errors
    /// As [`ClassicalHopfield::local_fields`].
    pub fn energy(&self, state: &[f32]) -> crate::Result<f64> {
        let h = self.local_fields(state)?;
        // sᵀ(Ws - θ) = sᵀWs - θᵀs, so E = -½ sᵀh - ½ θᵀs.
        Ok(state
            .iter()
            .zip(&h)
            .zip(&self.thresholds)
            .map(|((&s, hi), t)| -0.5 * f64::from(s) * (hi + t) + t * f64::from(s))
            .sum())
    }

    /// Whether `state` is a fixed point of the zero-temperature dynamics (no neuron's field has
    /// the opposite sign of its value; a zero field counts as stable).
    ///
    /// # Errors
    /// As [`ClassicalHopfield::local_fields`].
    pub fn is_fixed_point(&self, state: &[f32]) -> crate::Result<bool> {
        let h = self.local_fields(state)?;
        Ok(state
            .iter()
            .zip(&h)
            .zip(&self.row_scale)
            .all(|((&s, hi), scale)| f64::from(s) * hi >= -1e-10 * scale))
    }

    /// Runs the dynamics from `state`.
    ///
    /// # Errors
    /// As [`ClassicalHopfield::local_fields`], and [`DynamicsConfig::validate`].
    pub fn run(&self, state: &[f32], dynamics: &DynamicsConfig) -> crate::Result<Run> {
        self.run_inner(state, None, dynamics)
    }

    /// Runs the dynamics from `state` with the neurons where `clamp[i]` is `true` held at their
    /// initial values (pattern completion: clamp the known entries of a cue).
    ///
    /// # Errors
    /// As [`ClassicalHopfield::run`], and [`Error::ShapeMismatch`] when `clamp.len() != N`.
    pub fn run_clamped(
        &self,
        state: &[f32],
        clamp: &[bool],
        dynamics: &DynamicsConfig,
    ) -> crate::Result<Run> {
        check_clamp(clamp, self.dim)?;
        self.run_inner(state, Some(clamp), dynamics)
    }

    fn run_inner(
        &self,
        state: &[f32],
        clamp: Option<&[bool]>,
        dynamics: &DynamicsConfig,
    ) -> crate::Result<Run> {
        dynamics.validate()?;
        check_state("ClassicalHopfield::run", state, self.dim)?;
        let mut drive = ClassicalDrive {
            net: self,
            fields: self.fields_unchecked(state),
            state: state.to_vec(),
        };
        Ok(run_engine(&mut drive, clamp, dynamics))
    }
}

/// The engine's view of a classical network: the fields `h = Ws - θ`, kept current by `O(N)`
/// row updates on each flip (the couplings are symmetric, so row `i` is column `i`).
struct ClassicalDrive<'a> {
    net: &'a ClassicalHopfield,
    fields: Vec<f64>,
    state: Vec<f32>,
}

impl Drive for ClassicalDrive<'_> {
    fn drive(&self, i: usize) -> (f64, f64) {
        (2.0 * self.fields[i], 2.0 * self.net.row_scale[i])
    }

    fn set(&mut self, i: usize, value: f32) {
        let delta = f64::from(value - self.state[i]);
        self.state[i] = value;
        for (h, w) in self.fields.iter_mut().zip(self.net.row(i)) {
            *h += w * delta;
        }
    }

    fn state(&self) -> &[f32] {
        &self.state
    }
}

/// Checks that `patterns` is a whole number of rows of `dim` entries, each in `allowed`.
pub(crate) fn check_patterns(patterns: &[f32], dim: usize, allowed: &[f32]) -> crate::Result<()> {
    if dim == 0 || !patterns.len().is_multiple_of(dim) {
        return Err(Error::shape(
            "patterns",
            format!("row-major [count, {dim}] values"),
            &[patterns.len()],
        ));
    }
    if let Some((k, v)) = patterns
        .iter()
        .enumerate()
        .find(|(_, v)| !allowed.contains(v))
    {
        return Err(Error::config(
            "patterns",
            format!("pattern {} entry {} = {v}", k / dim, k % dim),
            &format!("entries must be one of {allowed:?}"),
        ));
    }
    Ok(())
}

/// The overlap `(1/N) Σᵢ aᵢ bᵢ` of two states (1 for equal ±1 states, -1 for opposite).
///
/// # Errors
/// [`Error::ShapeMismatch`] for different or zero lengths.
pub fn overlap(a: &[f32], b: &[f32]) -> crate::Result<f64> {
    if a.len() != b.len() || a.is_empty() {
        return Err(Error::shape(
            "overlap",
            format!("two non-empty states of equal length ({})", a.len()),
            &[b.len()],
        ));
    }
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| f64::from(x * y)).sum();
    Ok(dot / a.len() as f64)
}

/// The Mattis magnetisations `m_μ = (1/N) Σᵢ ξᵢ^μ sᵢ` of `state` with each of the row-major
/// `patterns` (`[P, N]`, any entries, so diluted patterns work too).
///
/// # Errors
/// [`Error::ShapeMismatch`] when `patterns.len()` is not a multiple of `state.len()`, or the
/// state is empty.
pub fn mattis_magnetisations(patterns: &[f32], state: &[f32]) -> crate::Result<Vec<f64>> {
    let n = state.len();
    if n == 0 || !patterns.len().is_multiple_of(n) {
        return Err(Error::shape(
            "mattis_magnetisations",
            format!("patterns [count, {n}] for a state of {n} entries"),
            &[patterns.len()],
        ));
    }
    patterns
        .chunks_exact(n)
        .map(|xi| overlap(xi, state))
        .collect()
}
