//! Exact operators on GRF inputs for DeepONet and linear-operator checks: the antiderivative
//! `v ↦ ∫_0^x v` and the periodic heat semigroup `u0 ↦ e^{tνΔ} u0`.

use burn::config::Config;
use kiln_core::rng::Rng;

use super::{GrfConfig, OperatorData};
use crate::Error;

/// Antiderivative data: `v` at `sensors` equispaced points of `[0, 1]`, `u = ∫_0^x v` at
/// `points` equispaced points of `[0, 1]` (both including the end points).
#[derive(Config, Debug)]
pub struct AntiderivativeConfig {
    /// Sensor count of the input function.
    #[config(default = 100)]
    pub sensors: usize,
    /// Evaluation points of the output function.
    #[config(default = 100)]
    pub points: usize,
    /// Spectrum of the input functions.
    #[config(
        default = "GrfConfig::new().with_alpha(3.0).with_tau(3.0).with_sigma(250.0).with_modes(12)"
    )]
    pub grf: GrfConfig,
}

/// The equispaced grid of `n` points on `[0, 1]` (both ends included).
pub fn unit_grid(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64 / (n.max(2) - 1) as f64).collect()
}

impl AntiderivativeConfig {
    /// Draws `count` input/output pairs: input `[count, sensors]`, output `[count, points]`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for fewer than two sensors or points, or a bad spectrum.
    pub fn generate(&self, count: usize, seed: u64) -> crate::Result<OperatorData> {
        if self.sensors < 2 || self.points < 2 {
            return Err(Error::config(
                "sensors/points",
                format!("{}/{}", self.sensors, self.points),
                "use at least two sensors and two points",
            ));
        }
        let (xs, ys) = (unit_grid(self.sensors), unit_grid(self.points));
        let mut rng = Rng::new(seed);
        let (mut input, mut output) = (Vec::new(), Vec::new());
        for _ in 0..count {
            let v = self.grf.sample_1d(&mut rng)?;
            input.extend(xs.iter().map(|&x| v.eval(x)));
            output.extend(ys.iter().map(|&y| v.antiderivative(y)));
        }
        OperatorData::new(
            input,
            vec![count, self.sensors],
            output,
            vec![count, self.points],
        )
    }
}

/// Heat-semigroup data on the periodic grid `x_j = j / n`: `u0 ↦ u(t)` for `u_t = ν u_xx`.
#[derive(Config, Debug)]
pub struct HeatConfig {
    /// Grid points.
    pub resolution: usize,
    /// Diffusivity ν.
    #[config(default = 0.01)]
    pub nu: f64,
    /// Time.
    #[config(default = 1.0)]
    pub t: f64,
    /// Spectrum of the initial conditions.
    #[config(default = "GrfConfig::new().with_modes(8)")]
    pub grf: GrfConfig,
}

impl HeatConfig {
    /// Draws `count` pairs `[count, resolution]` -> `[count, resolution]`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a negative time or diffusivity, or a bad spectrum.
    pub fn generate(&self, count: usize, seed: u64) -> crate::Result<OperatorData> {
        if !(self.nu >= 0.0 && self.t >= 0.0 && self.nu.is_finite() && self.t.is_finite()) {
            return Err(Error::config(
                "nu/t",
                format!("{}/{}", self.nu, self.t),
                "diffusivity and time must be finite and >= 0",
            ));
        }
        let n = self.resolution;
        let mut rng = Rng::new(seed);
        let (mut input, mut output) = (Vec::new(), Vec::new());
        for _ in 0..count {
            let u0 = self.grf.sample_1d(&mut rng)?;
            input.extend(u0.on_grid(n));
            output.extend(u0.heat(self.nu, self.t).on_grid(n));
        }
        OperatorData::new(input, vec![count, n], output, vec![count, n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_antiderivative_data_integrates_the_input() {
        let data = AntiderivativeConfig::new()
            .with_sensors(401)
            .with_points(401)
            .generate(2, 1)
            .unwrap();
        // Trapezoidal integral of the input reproduces the output to O(h²).
        let h = 1.0 / 400.0;
        let (v, u) = (&data.input[..401], &data.output[..401]);
        let mut acc = 0.0;
        let mut worst: f64 = 0.0;
        for i in 1..401 {
            acc += 0.5 * h * (v[i] + v[i - 1]);
            worst = worst.max((acc - u[i]).abs());
        }
        let scale = u.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(worst < 1e-3 * scale.max(1.0), "{worst} vs {scale}");
        assert_eq!(u[0], 0.0);
    }

    #[test]
    fn the_heat_semigroup_damps_each_mode_exactly() {
        let cfg = HeatConfig::new(32).with_nu(0.01).with_t(0.5);
        let data = cfg.generate(1, 4).unwrap();
        let energy = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
        assert!(energy(&data.output) < energy(&data.input));
        assert!(cfg.with_t(-1.0).generate(1, 0).is_err());
    }
}
