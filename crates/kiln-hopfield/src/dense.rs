//! Dense associative memories (Krotov and Hopfield 2016): binary neurons `sᵢ = ±1`, `K` stored
//! ±1 patterns `ξ^μ` and the energy `E(s) = -Σ_μ F(ξ^μ · s)` with a fast-growing interaction `F`.
//!
//! A neuron takes the value of lower energy given the others,
//! `sᵢ ← sign Σ_μ [F(ξᵢ^μ + aᵢ^μ) - F(-ξᵢ^μ + aᵢ^μ)]`, `aᵢ^μ = Σ_{j≠i} ξⱼ^μ sⱼ`,
//! so asynchronous updates never increase `E`. With `F(x) = x^n` the capacity grows as
//! `K ~ N^(n-1)`: the crosstalk of one pattern on a bit has variance `4n²(2n-3)!! N^(n-1)` against
//! a signal `2n N^(n-1)`, so a bit is stable with probability `Φ(√(N^(n-1) / (K (2n-3)!!)))`
//! ([`polynomial_capacity`]). With `F(x) = e^x` (Demircigil et al. 2017) it grows
//! exponentially in `N`.
//!
//! The `P`-body Hebbian network of the replica-symmetry-breaking analysis (Albanese et al. 2022),
//! `H(σ) = -(1/(P! N^(P-1))) Σ_{i₁…i_P} Σ_μ ξ_{i₁}^μ…ξ_{i_P}^μ σ_{i₁}…σ_{i_P}`, factorises over
//! the Mattis overlaps as `H = -(N/P!) Σ_μ m_μ^P` with `m_μ = ξ^μ·σ/N`; it is therefore the
//! polynomial network with `F(x) = x^P / (P! N^(P-1))` ([`Interaction::PBodyHebbian`]). The
//! normalisation matters only at `T > 0`; for `P = 2` it is the classical Hebbian network
//! (`F(x) = x²/(2N)` gives the drive `2hᵢ` with `W = ΞᵀΞ/N`, zero diagonal). The sum over all
//! index tuples includes repeated indices; the update's `F(aᵢ + 1) - F(aᵢ - 1)` keeps those, which
//! shifts fields by a relative `O(1/N)` against the sum over distinct indices.
//!
//! Computation is on the host in `f64`; the overlaps `ξ^μ · s` are kept current in `O(K)` per
//! flip.

use burn::config::Config;

use crate::Error;
use crate::classical::{
    Drive, DynamicsConfig, Run, check_clamp, check_patterns, check_state, run_engine,
};

/// The interaction function `F` of the energy `E = -Σ_μ F(ξ^μ · s)`.
#[derive(Config, Debug, Copy, PartialEq)]
pub enum Interaction {
    /// `F(x) = x^degree` (degree ≥ 2; degree 2 is the classical Hebbian network).
    Polynomial {
        /// The power `n`.
        degree: u32,
    },
    /// `F(x) = max(x, 0)^degree` (degree ≥ 2).
    RectifiedPolynomial {
        /// The power `n`.
        degree: u32,
    },
    /// `F(x) = exp(beta·x)` (Demircigil et al. 2017), computed with a shifted exponent so large
    /// `beta·N` does not overflow the update.
    Exponential {
        /// Inverse width `β > 0`.
        beta: f64,
    },
    /// The `P`-body Hebbian network: `F(x) = x^P / (P! N^(P-1))`, i.e. `H = -(N/P!) Σ_μ m_μ^P`.
    PBodyHebbian {
        /// The interaction order `P ≥ 2`.
        order: u32,
    },
}

/// Configuration of a [`DenseMemory`].
#[derive(Config, Debug, PartialEq)]
pub struct DenseMemoryConfig {
    /// Number of neurons `N` (at least 1).
    pub dim: usize,
    /// The interaction function.
    #[config(default = "Interaction::Polynomial { degree: 3 }")]
    pub interaction: Interaction,
}

impl DenseMemoryConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `dim = 0`, a degree or order below 2 (or above 32), or a
    /// non-positive or non-finite `beta`.
    pub fn validate(&self) -> crate::Result<()> {
        if self.dim == 0 {
            return Err(Error::config(
                "dim",
                0,
                "a network needs at least one neuron",
            ));
        }
        match self.interaction {
            Interaction::Polynomial { degree: n }
            | Interaction::RectifiedPolynomial { degree: n }
                if !(2..=32).contains(&n) =>
            {
                Err(Error::config(
                    "interaction.degree",
                    n,
                    "use a degree from 2 (classical) to 32",
                ))
            }
            Interaction::PBodyHebbian { order } if !(2..=32).contains(&order) => Err(
                Error::config("interaction.order", order, "use an order from 2 to 32"),
            ),
            Interaction::Exponential { beta } if !(beta.is_finite() && beta > 0.0) => Err(
                Error::config("interaction.beta", beta, "use a finite beta > 0, e.g. 1"),
            ),
            _ => Ok(()),
        }
    }

    /// Stores `patterns` (row-major `[K, N]`, entries ±1; `K ≥ 1`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an invalid configuration, no patterns, or entries other than
    /// ±1; [`Error::ShapeMismatch`] when `patterns.len()` is not a multiple of `dim`.
    pub fn store(&self, patterns: &[f32]) -> crate::Result<DenseMemory> {
        self.validate()?;
        check_patterns(patterns, self.dim, &[-1.0, 1.0])?;
        if patterns.is_empty() {
            return Err(Error::config(
                "patterns",
                "none",
                "store at least one pattern",
            ));
        }
        let (n, k) = (self.dim, patterns.len() / self.dim);
        let mut by_neuron = vec![0.0f32; n * k];
        for (mu, xi) in patterns.chunks_exact(n).enumerate() {
            for (i, &v) in xi.iter().enumerate() {
                by_neuron[i * k + mu] = v;
            }
        }
        Ok(DenseMemory {
            dim: n,
            count: k,
            interaction: self.interaction,
            patterns: patterns.to_vec(),
            by_neuron,
        })
    }
}

/// A dense associative memory with its stored patterns.
#[derive(Debug, Clone)]
pub struct DenseMemory {
    dim: usize,
    count: usize,
    interaction: Interaction,
    /// `[K, N]` row-major.
    patterns: Vec<f32>,
    /// The same patterns `[N, K]` (neuron-major), for the per-neuron sums.
    by_neuron: Vec<f32>,
}

impl DenseMemory {
    /// Number of neurons `N`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of stored patterns `K`.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The stored patterns, row-major `[K, N]`.
    pub fn patterns(&self) -> &[f32] {
        &self.patterns
    }

    /// `F(x)` for the finite interactions (the exponential one overflows past `β x ≈ 709`).
    fn f(&self, x: f64) -> f64 {
        match self.interaction {
            Interaction::Polynomial { degree } => x.powi(degree as i32),
            Interaction::RectifiedPolynomial { degree } => x.max(0.0).powi(degree as i32),
            Interaction::Exponential { beta } => (beta * x).exp(),
            Interaction::PBodyHebbian { order } => {
                let norm: f64 = (1..=order).map(f64::from).product::<f64>()
                    * (self.dim as f64).powi(order as i32 - 1);
                x.powi(order as i32) / norm
            }
        }
    }

    /// The overlaps `ξ^μ · s` for all `μ`.
    fn overlaps(&self, state: &[f32]) -> Vec<f64> {
        self.patterns
            .chunks_exact(self.dim)
            .map(|xi| xi.iter().zip(state).map(|(&a, &b)| f64::from(a * b)).sum())
            .collect()
    }

    /// The drive `E(sᵢ=-1) - E(sᵢ=+1)` of neuron `i` and its scale, from the overlaps.
    fn drive_from(&self, overlaps: &[f64], state: &[f32], i: usize) -> (f64, f64) {
        let xi_i = &self.by_neuron[i * self.count..(i + 1) * self.count];
        let s = f64::from(state[i]);
        if let Interaction::Exponential { beta } = self.interaction {
            // Σ e^{β(a+ξ)} - e^{β(a-ξ)}, shifted by the largest exponent.
            let top = overlaps
                .iter()
                .zip(xi_i)
                .map(|(o, &x)| beta * (o - f64::from(x) * s + 1.0))
                .fold(f64::NEG_INFINITY, f64::max);
            let (mut sum, mut scale) = (0.0, 0.0);
            for (o, &x) in overlaps.iter().zip(xi_i) {
                let (x, a) = (f64::from(x), o - f64::from(x) * s);
                let (up, down) = ((beta * (a + x) - top).exp(), (beta * (a - x) - top).exp());
                sum += up - down;
                scale += up + down;
            }
            let factor = top.min(700.0).exp();
            return (sum * factor, scale * factor);
        }
        let (mut sum, mut scale) = (0.0, 0.0);
        for (o, &x) in overlaps.iter().zip(xi_i) {
            let (x, a) = (f64::from(x), o - f64::from(x) * s);
            let (up, down) = (self.f(a + x), self.f(a - x));
            sum += up - down;
            scale += up.abs() + down.abs();
        }
        (sum, scale)
    }

    /// The energy `E(s) = -Σ_μ F(ξ^μ · s)`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] or [`Error::InvalidConfig`] for a state that is not `N` entries
    /// ±1; [`Error::InvalidConfig`] when the exponential energy overflows `f64` (lower `beta`).
    pub fn energy(&self, state: &[f32]) -> crate::Result<f64> {
        check_state("DenseMemory::energy", state, self.dim)?;
        let e: f64 = -self.overlaps(state).iter().map(|&o| self.f(o)).sum::<f64>();
        if !e.is_finite() {
            return Err(Error::config(
                "interaction",
                format!("{:?}", self.interaction),
                "the energy overflows f64 for this state; lower beta (β·N below about 700)",
            ));
        }
        Ok(e)
    }

    /// Whether `state` is a fixed point of the zero-temperature update.
    ///
    /// # Errors
    /// As [`DenseMemory::energy`] for the state.
    pub fn is_fixed_point(&self, state: &[f32]) -> crate::Result<bool> {
        Ok(self.unstable_bits(state)? == 0)
    }

    /// How many neurons of `state` the zero-temperature update would flip (one synchronous step).
    ///
    /// # Errors
    /// As [`DenseMemory::energy`] for the state.
    pub fn unstable_bits(&self, state: &[f32]) -> crate::Result<usize> {
        check_state("DenseMemory::unstable_bits", state, self.dim)?;
        let overlaps = self.overlaps(state);
        Ok((0..self.dim)
            .filter(|&i| {
                let (d, scale) = self.drive_from(&overlaps, state, i);
                f64::from(state[i]) * d < -1e-10 * scale
            })
            .count())
    }

    /// The fraction of bits of the first `max_patterns` stored patterns that one
    /// zero-temperature update leaves unchanged (1 when they are all fixed points).
    pub fn stored_bit_stability(&self, max_patterns: usize) -> f64 {
        let take = max_patterns.min(self.count).max(1);
        let unstable: usize = self
            .patterns
            .chunks_exact(self.dim)
            .take(take)
            .map(|xi| self.unstable_bits(xi).unwrap_or(self.dim))
            .sum();
        1.0 - unstable as f64 / (take * self.dim) as f64
    }

    /// Runs the dynamics from `state`.
    ///
    /// # Errors
    /// As [`DenseMemory::energy`] for the state, and [`DynamicsConfig::validate`].
    pub fn run(&self, state: &[f32], dynamics: &DynamicsConfig) -> crate::Result<Run> {
        self.run_inner(state, None, dynamics)
    }

    /// Runs the dynamics with the neurons where `clamp[i]` is `true` held at their initial values.
    ///
    /// # Errors
    /// As [`DenseMemory::run`], and [`Error::ShapeMismatch`] when `clamp.len() != N`.
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
        check_state("DenseMemory::run", state, self.dim)?;
        let mut drive = DenseDrive {
            memory: self,
            overlaps: self.overlaps(state),
            state: state.to_vec(),
        };
        Ok(run_engine(&mut drive, clamp, dynamics))
    }
}

/// The engine's view of a dense memory: the overlaps `ξ^μ · s`, kept current in `O(K)` per flip.
struct DenseDrive<'a> {
    memory: &'a DenseMemory,
    overlaps: Vec<f64>,
    state: Vec<f32>,
}

impl Drive for DenseDrive<'_> {
    fn drive(&self, i: usize) -> (f64, f64) {
        self.memory.drive_from(&self.overlaps, &self.state, i)
    }

    fn set(&mut self, i: usize, value: f32) {
        let m = self.memory;
        let delta = f64::from(value - self.state[i]);
        self.state[i] = value;
        let xi_i = &m.by_neuron[i * m.count..(i + 1) * m.count];
        for (o, &x) in self.overlaps.iter_mut().zip(xi_i) {
            *o += f64::from(x) * delta;
        }
    }

    fn state(&self) -> &[f32] {
        &self.state
    }
}

/// The double factorial `(2n-3)!! = 1·3·5⋯(2n-3)` (1 for `n ≤ 2`).
pub fn crosstalk_factor(degree: u32) -> f64 {
    (1..=degree.saturating_sub(1))
        .map(|k| f64::from(2 * k - 1))
        .product()
}

/// The signal-to-noise estimate of the polynomial network's capacity: the largest `K` for which
/// one update from a stored pattern leaves a bit wrong with probability at most `bit_error`,
/// `K = N^(n-1) / ((2n-3)!! z²)` with `Φ(-z) = bit_error` (Krotov and Hopfield 2016, large-`N`
/// Gaussian crosstalk).
///
/// # Errors
/// [`Error::InvalidConfig`] for `bit_error` outside `(0, 0.5)` or `degree < 2`.
pub fn polynomial_capacity(dim: usize, degree: u32, bit_error: f64) -> crate::Result<f64> {
    if !(bit_error > 0.0 && bit_error < 0.5) {
        return Err(Error::config(
            "bit_error",
            bit_error,
            "use a probability in (0, 0.5), e.g. 0.01",
        ));
    }
    if degree < 2 {
        return Err(Error::config(
            "degree",
            degree,
            "use a degree of at least 2",
        ));
    }
    let z = normal_quantile_upper(bit_error);
    Ok((dim as f64).powi(degree as i32 - 1) / (crosstalk_factor(degree) * z * z))
}

/// `z` with `Φ(-z) = p` for `p` in `(0, 0.5)`, by bisection on the complementary error function.
fn normal_quantile_upper(p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 40.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if normal_tail(mid) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// `Φ(-z) = ½ erfc(z/√2)` (Numerical Recipes' Chebyshev erfc, relative error below 1.2e-7).
pub(crate) fn normal_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    0.5 * if x >= 0.0 { erfc } else { 2.0 - erfc }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_tail_matches_tabulated_values() {
        // Φ(-1) = 0.158655, Φ(-2.326348) = 0.01, Φ(-3) = 0.0013499.
        assert!((normal_tail(1.0) - 0.158_655_25).abs() < 1e-6);
        assert!((normal_tail(3.0) - 0.001_349_90).abs() < 1e-7);
        assert!((normal_quantile_upper(0.01) - 2.326_348).abs() < 1e-4);
        assert_eq!(crosstalk_factor(2), 1.0);
        assert_eq!(crosstalk_factor(4), 15.0);
    }
}
