//! 1-D viscous Burgers `u_t + (u²/2)_x = ν u_xx` on a periodic domain: a pseudo-spectral
//! discretisation with 2/3 dealiasing and ETDRK4 time stepping (Cox & Matthews 2002, with the
//! contour-integral coefficients of Kassam & Trefethen 2005), the Cole-Hopf reference solution,
//! and FNO's Burgers dataset generator.

use std::f64::consts::PI;
use std::sync::Arc;

use burn::config::Config;
use kiln_core::rng::Rng;
use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};

use super::GrfConfig;
use crate::Error;

/// A pseudo-spectral ETDRK4 integrator for periodic Burgers on `[0, length)` with `n` points.
pub struct BurgersSolver {
    n: usize,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
    /// `-i k / 2` per mode (zero where dealiased).
    nonlinear: Vec<Complex64>,
    e: Vec<f64>,
    e2: Vec<f64>,
    q: Vec<f64>,
    f1: Vec<f64>,
    f2: Vec<f64>,
    f3: Vec<f64>,
    dt: f64,
}

impl std::fmt::Debug for BurgersSolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BurgersSolver {{ n: {}, dt: {} }}", self.n, self.dt)
    }
}

impl BurgersSolver {
    /// A solver for viscosity `nu` on `[0, length)` with `n` grid points and time step `dt`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `n < 4`, or a non-positive `nu`, `length` or `dt`.
    pub fn new(n: usize, length: f64, nu: f64, dt: f64) -> crate::Result<Self> {
        if n < 4 {
            return Err(Error::config("n", n, "use at least 4 grid points"));
        }
        for (field, v) in [("nu", nu), ("length", length), ("dt", dt)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::config(field, v, "must be a positive finite number"));
            }
        }
        let mut planner = FftPlanner::new();
        let cutoff = n / 3; // keep |k| < n/3 (2/3 rule)
        let wavenumber = |j: usize| -> i64 {
            if j <= n / 2 {
                j as i64
            } else {
                j as i64 - n as i64
            }
        };
        let contour = 32;
        let mut solver = BurgersSolver {
            n,
            forward: planner.plan_fft_forward(n),
            inverse: planner.plan_fft_inverse(n),
            nonlinear: Vec::with_capacity(n),
            e: Vec::with_capacity(n),
            e2: Vec::with_capacity(n),
            q: Vec::with_capacity(n),
            f1: Vec::with_capacity(n),
            f2: Vec::with_capacity(n),
            f3: Vec::with_capacity(n),
            dt,
        };
        for j in 0..n {
            let m = wavenumber(j);
            let k = 2.0 * PI * m as f64 / length;
            let keep = (m.unsigned_abs() as usize) < cutoff && !(n.is_multiple_of(2) && j == n / 2);
            solver.nonlinear.push(if keep {
                Complex64::new(0.0, -0.5 * k)
            } else {
                Complex64::new(0.0, 0.0)
            });
            let l = -nu * k * k * dt;
            solver.e.push(l.exp());
            solver.e2.push((l / 2.0).exp());
            // Contour means over the upper half circle of radius 1 around l (real l).
            let (mut q, mut f1, mut f2, mut f3) = (0.0, 0.0, 0.0, 0.0);
            for p in 0..contour {
                let r = Complex64::from_polar(1.0, PI * (p as f64 + 0.5) / contour as f64);
                let z = r + l;
                let ez = z.exp();
                let z3 = z * z * z;
                q += (((z / 2.0).exp() - 1.0) / z).re;
                f1 += ((-4.0 - z + ez * (4.0 - 3.0 * z + z * z)) / z3).re;
                f2 += ((2.0 + z + ez * (z - 2.0)) / z3).re;
                f3 += ((-4.0 - 3.0 * z - z * z + ez * (4.0 - z)) / z3).re;
            }
            let c = dt / contour as f64;
            solver.q.push(q * c);
            solver.f1.push(f1 * c);
            solver.f2.push(f2 * c);
            solver.f3.push(f3 * c);
        }
        Ok(solver)
    }

    /// `N(v) = -(i k / 2) FFT(IFFT(v)²)`, dealiased.
    fn nonlinear(&self, v: &[Complex64], out: &mut [Complex64]) {
        out.copy_from_slice(v);
        self.inverse.process(out);
        let scale = 1.0 / self.n as f64;
        for w in out.iter_mut() {
            let u = w.re * scale;
            *w = Complex64::new(u * u, 0.0);
        }
        self.forward.process(out);
        for (w, c) in out.iter_mut().zip(&self.nonlinear) {
            *w *= c;
        }
    }

    /// Advances grid values `u0` by `steps` ETDRK4 steps of the solver's `dt`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `u0` has the wrong length; [`Error::NonFinite`] on blow-up.
    pub fn advance(&self, u0: &[f64], steps: usize) -> crate::Result<Vec<f64>> {
        if u0.len() != self.n {
            return Err(Error::shape(
                "BurgersSolver::advance",
                format!("{} grid values", self.n),
                &[u0.len()],
            ));
        }
        let n = self.n;
        let zero = Complex64::new(0.0, 0.0);
        let mut v: Vec<Complex64> = u0.iter().map(|&u| Complex64::new(u, 0.0)).collect();
        self.forward.process(&mut v);
        let (mut nv, mut na, mut nb, mut nc) =
            (vec![zero; n], vec![zero; n], vec![zero; n], vec![zero; n]);
        let (mut a, mut b, mut c) = (vec![zero; n], vec![zero; n], vec![zero; n]);
        for step in 0..steps {
            self.nonlinear(&v, &mut nv);
            for j in 0..n {
                a[j] = self.e2[j] * v[j] + self.q[j] * nv[j];
            }
            self.nonlinear(&a, &mut na);
            for j in 0..n {
                b[j] = self.e2[j] * v[j] + self.q[j] * na[j];
            }
            self.nonlinear(&b, &mut nb);
            for j in 0..n {
                c[j] = self.e2[j] * a[j] + self.q[j] * (2.0 * nb[j] - nv[j]);
            }
            self.nonlinear(&c, &mut nc);
            for j in 0..n {
                v[j] = self.e[j] * v[j]
                    + self.f1[j] * nv[j]
                    + 2.0 * self.f2[j] * (na[j] + nb[j])
                    + self.f3[j] * nc[j];
            }
            if !v[0].re.is_finite() || !v[n / 2].re.is_finite() {
                return Err(Error::NonFinite {
                    solver: "Burgers ETDRK4",
                    t: (step + 1) as f64 * self.dt,
                });
            }
        }
        self.inverse.process(&mut v);
        Ok(v.into_iter().map(|w| w.re / n as f64).collect())
    }
}

/// The Cole-Hopf solution of periodic Burgers on `[0, length)` for `u0 = A sin(2πx / length)`,
/// evaluated at `x` and time `t`.
///
/// `φ = exp(-∫u/(2ν))` solves the heat equation; its cosine series is computed by the trapezoidal
/// rule (spectrally accurate for periodic integrands) and `u = -2ν φ_x / φ`.
pub fn cole_hopf_sine(amplitude: f64, length: f64, nu: f64, t: f64, x: &[f64]) -> Vec<f64> {
    let kappa = 2.0 * PI / length;
    let c = amplitude / (2.0 * nu * kappa);
    let m = 2048;
    let terms = 4 * m / 5;
    let g: Vec<f64> = (0..m)
        .map(|j| (c * ((2.0 * PI * j as f64 / m as f64).cos() - 1.0)).exp())
        .collect();
    let mut coef: Vec<f64> = Vec::new();
    for n in 0..terms {
        let s: f64 = g
            .iter()
            .enumerate()
            .map(|(j, g)| g * (2.0 * PI * ((n * j) % m) as f64 / m as f64).cos())
            .sum();
        let a = if n == 0 { 1.0 } else { 2.0 } * s / m as f64;
        // Past the peak the coefficients (e^{-c} I_n(c)) only fall; stop at rounding level, as
        // quadrature noise in further terms would be amplified by n in φ_x.
        if n as f64 > c && a.abs() < 1e-17 * coef[0].abs() {
            break;
        }
        coef.push(a);
    }
    for (n, a) in coef.iter_mut().enumerate() {
        *a *= (-nu * (n as f64 * kappa).powi(2) * t).exp();
    }
    x.iter()
        .map(|&x| {
            let (mut phi, mut phi_x) = (0.0, 0.0);
            for (n, a) in coef.iter().enumerate() {
                let w = n as f64 * kappa;
                phi += a * (w * x).cos();
                phi_x -= a * w * (w * x).sin();
            }
            -2.0 * nu * phi_x / phi
        })
        .collect()
}

/// Generator of FNO's Burgers datasets: GRF initial conditions on `[0, 1)`, solution at `t_final`.
#[derive(Config, Debug)]
pub struct BurgersConfig {
    /// Grid points of the solve and of the samples.
    pub resolution: usize,
    /// Viscosity ν.
    #[config(default = 0.1)]
    pub nu: f64,
    /// Final time.
    #[config(default = 1.0)]
    pub t_final: f64,
    /// Time steps to reach `t_final`.
    #[config(default = 200)]
    pub steps: usize,
    /// Spectrum of the initial condition (FNO: `625 (-Δ + 25)^-2`, i.e. σ = 25, τ = 5, α = 2).
    #[config(
        default = "GrfConfig::new().with_sigma(25.0).with_tau(5.0).with_alpha(2.0).with_modes(64)"
    )]
    pub grf: GrfConfig,
}

/// Burgers samples on the periodic grid `x_j = j / s`, `[count, s]` row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct BurgersSet {
    /// Resolution `s`.
    pub resolution: usize,
    /// Number of samples.
    pub count: usize,
    /// Initial conditions.
    pub initial: Vec<f64>,
    /// Solutions at `t_final`.
    pub solution: Vec<f64>,
}

impl BurgersConfig {
    /// Draws `count` samples deterministically from `seed`.
    ///
    /// # Errors
    /// As [`BurgersSolver::new`], [`GrfConfig::validate`], and [`Error::InvalidConfig`] for zero
    /// steps or a non-positive `t_final`.
    pub fn generate(&self, count: usize, seed: u64) -> crate::Result<BurgersSet> {
        if self.steps == 0 {
            return Err(Error::config("steps", 0, "take at least one time step"));
        }
        if !(self.t_final.is_finite() && self.t_final > 0.0) {
            return Err(Error::config("t_final", self.t_final, "must be positive"));
        }
        let s = self.resolution;
        let solver = BurgersSolver::new(s, 1.0, self.nu, self.t_final / self.steps as f64)?;
        let mut rng = Rng::new(seed);
        let (mut initial, mut solution) = (Vec::new(), Vec::new());
        for _ in 0..count {
            let u0 = self.grf.sample_1d(&mut rng)?.on_grid(s);
            solution.extend(solver.advance(&u0, self.steps)?);
            initial.extend(u0);
        }
        Ok(BurgersSet {
            resolution: s,
            count,
            initial,
            solution,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_err(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn cole_hopf_starts_at_the_initial_condition() {
        let x: Vec<f64> = (0..16).map(|j| j as f64 / 16.0 * 2.0 * PI).collect();
        let u = cole_hopf_sine(1.0, 2.0 * PI, 0.1, 0.0, &x);
        let u0: Vec<f64> = x.iter().map(|x| x.sin()).collect();
        let err = max_err(&u, &u0);
        assert!(err < 1e-11, "{err}");
    }

    #[test]
    fn etdrk4_converges_at_fourth_order_to_cole_hopf() {
        let (n, length, nu, t) = (256, 2.0 * PI, 0.1, 1.0);
        let x: Vec<f64> = (0..n).map(|j| j as f64 * length / n as f64).collect();
        let u0: Vec<f64> = x.iter().map(|x| x.sin()).collect();
        let exact = cole_hopf_sine(1.0, length, nu, t, &x);
        let steps = [5, 10, 20, 40];
        let errs: Vec<f64> = steps
            .iter()
            .map(|&s| {
                let solver = BurgersSolver::new(n, length, nu, t / s as f64).unwrap();
                max_err(&solver.advance(&u0, s).unwrap(), &exact)
            })
            .collect();
        let slope = (errs[3] / errs[1]).ln() / (0.25f64).ln();
        assert!((slope - 4.0).abs() < 0.4, "order {slope}, errors {errs:?}");
        // Spatial error is spectral: a fine time step reaches the Cole-Hopf solution to ~1e-10.
        let solver = BurgersSolver::new(n, length, nu, t / 640.0).unwrap();
        let err = max_err(&solver.advance(&u0, 640).unwrap(), &exact);
        assert!(err < 1e-9, "{err}, errors {errs:?}");
    }

    #[test]
    fn bad_settings_are_errors() {
        assert!(BurgersSolver::new(2, 1.0, 0.1, 0.01).is_err());
        assert!(BurgersSolver::new(16, 1.0, -0.1, 0.01).is_err());
        let solver = BurgersSolver::new(16, 1.0, 0.1, 0.01).unwrap();
        assert!(solver.advance(&[0.0; 15], 1).is_err());
        assert!(BurgersConfig::new(16).with_steps(0).generate(1, 0).is_err());
    }
}
