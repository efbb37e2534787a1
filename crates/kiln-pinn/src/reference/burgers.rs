//! Viscous Burgers u_t + u u_x = ν u_xx on [-1, 1] with u(x, 0) = -sin(πx), u(±1, t) = 0:
//! the exact solution by the Cole-Hopf transform, evaluated by Gauss-Hermite quadrature (as the
//! standard reference data of Basdevant et al. 1986 and Raissi et al. 2019), and the PINN problem.
//!
//! Cole-Hopf gives, with f(y) = exp(-cos(πy) / (2πν)) and η = √(4νt) z,
//!
//! u(x, t) = -∫ sin(π(x - η)) f(x - η) e^(-z²) dz / ∫ f(x - η) e^(-z²) dz.
//!
//! f spans e^(±1/(2πν)) (e^(±50) for ν = 0.01/π), so both sums are formed relative to their
//! largest exponent.

use std::f64::consts::PI;

use burn::tensor::Device;
use kiln_core::rng::Rng;
use kiln_core::{Jet, SecondOrder};

use crate::geometry::{Hyperbox, Points, SpaceTime};
use crate::jet_algebra::{add, add_scalar, mul, sin, square};
use crate::quadrature::gauss_hermite;
use crate::{Condition, Geometry, Problem, Result, Sampler};

/// The viscosity of the standard benchmark, 0.01/π.
pub const NU: f64 = 0.01 / PI;

/// Exact Burgers solutions for one viscosity, with a cached quadrature rule.
#[derive(Debug, Clone)]
pub struct ColeHopf {
    nu: f64,
    nodes: Vec<f64>,
    weights: Vec<f64>,
}

impl ColeHopf {
    /// The solution for viscosity `nu` with an `order`-point Gauss-Hermite rule (200 gives
    /// 1e-12 agreement with 300 points for ν = 0.01/π on t <= 1).
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] for a viscosity that is not positive and finite, or a bad
    /// order.
    pub fn new(nu: f64, order: usize) -> Result<Self> {
        if !(nu > 0.0 && nu.is_finite()) {
            return Err(crate::Error::config(
                "nu",
                nu,
                "the viscosity must be positive and finite",
            ));
        }
        let (nodes, weights) = gauss_hermite(order)?;
        Ok(ColeHopf { nu, nodes, weights })
    }

    /// u(x, t) for t >= 0.
    pub fn u(&self, x: f64, t: f64) -> f64 {
        if t <= 0.0 {
            return -(PI * x).sin();
        }
        let s = (4.0 * self.nu * t).sqrt();
        let k = 1.0 / (2.0 * PI * self.nu);
        let exponent = |z: f64| -(PI * (x - s * z)).cos() * k;
        let top = self
            .nodes
            .iter()
            .map(|&z| exponent(z))
            .fold(f64::NEG_INFINITY, f64::max);
        let (mut num, mut den) = (0.0, 0.0);
        for (&z, &w) in self.nodes.iter().zip(&self.weights) {
            let e = w * (exponent(z) - top).exp();
            num += (PI * (x - s * z)).sin() * e;
            den += e;
        }
        -num / den
    }

    /// The same integrals by the trapezoidal rule on `z ∈ [-L, L]` with step `h`: an independent
    /// check (the trapezoidal rule converges geometrically for smooth, fast-decaying integrands).
    pub fn u_trapezoid(&self, x: f64, t: f64, half_width: f64, h: f64) -> f64 {
        if t <= 0.0 {
            return -(PI * x).sin();
        }
        let s = (4.0 * self.nu * t).sqrt();
        let k = 1.0 / (2.0 * PI * self.nu);
        let steps = (2.0 * half_width / h).round() as i64;
        let zs: Vec<f64> = (0..=steps).map(|i| -half_width + i as f64 * h).collect();
        let exponent = |z: f64| -z * z - (PI * (x - s * z)).cos() * k;
        let top = zs
            .iter()
            .map(|&z| exponent(z))
            .fold(f64::NEG_INFINITY, f64::max);
        let (mut num, mut den) = (0.0, 0.0);
        for &z in &zs {
            let e = (exponent(z) - top).exp();
            num += (PI * (x - s * z)).sin() * e;
            den += e;
        }
        -num / den
    }

    /// The solution on the standard grid: `nx` points on [-1, 1] by `nt` on [0, t_end]
    /// (256 × 100 and t_end = 0.99 in the benchmark data), as `(points [x, t], values)` with x
    /// varying fastest.
    pub fn grid(&self, nx: usize, nt: usize, t_end: f64) -> (Points, Vec<f64>) {
        let mut data = Vec::with_capacity(2 * nx * nt);
        let mut values = Vec::with_capacity(nx * nt);
        for j in 0..nt {
            let t = t_end * j as f64 / (nt.max(2) - 1) as f64;
            for i in 0..nx {
                let x = -1.0 + 2.0 * i as f64 / (nx.max(2) - 1) as f64;
                data.extend([x, t]);
                values.push(self.u(x, t));
            }
        }
        (
            Points::new(2, data).expect("two coordinates per point"),
            values,
        )
    }
}

/// Point counts and sampler of the Burgers PINN problem.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurgersSetup {
    /// Collocation points in the space-time interior.
    pub interior: usize,
    /// Points on x = ±1.
    pub boundary: usize,
    /// Points on t = 0.
    pub initial: usize,
    /// Final time.
    pub t_end: f64,
    /// How the points are placed.
    pub sampler: Sampler,
    /// Seed of the sampler.
    pub seed: u64,
}

impl Default for BurgersSetup {
    /// DeepXDE's example: 2540 interior, 80 boundary and 160 initial points, t in [0, 0.99].
    fn default() -> Self {
        BurgersSetup {
            interior: 2540,
            boundary: 80,
            initial: 160,
            t_end: 0.99,
            sampler: Sampler::Halton,
            seed: 0,
        }
    }
}

/// The Burgers PINN problem with inputs (x, t). With `trainable_nu` the viscosity is read from the
/// model's coefficient 0 (an inverse problem; add data with [`Condition::point_data`]), else `nu`
/// is fixed.
///
/// # Errors
/// Sampling and shape errors.
pub fn burgers_problem(
    setup: &BurgersSetup,
    nu: f64,
    trainable_nu: bool,
    device: &Device,
) -> Result<Problem> {
    let domain = SpaceTime::new(Hyperbox::interval(-1.0, 1.0)?, 0.0, setup.t_end)?;
    let mut rng = Rng::new(setup.seed);
    let interior = domain.sample_interior(setup.interior, setup.sampler, &mut rng)?;
    let boundary = domain.sample_boundary(setup.boundary, setup.sampler, &mut rng)?;
    let initial = domain.sample_initial(setup.initial, setup.sampler, &mut rng)?;
    Problem::new(2, 1, device)
        .with_residual(SecondOrder::Diagonal, move |f| {
            let u = f.u.value();
            let (ux, ut) = (f.u.d(0), f.u.d(1));
            let uxx = f.u.d2(0, 0).expect("diagonal jet carries u_xx");
            let diffusion = if trainable_nu {
                uxx * f.coefficient(0)?
            } else {
                uxx.mul_scalar(nu)
            };
            Ok(ut + u * ux - diffusion)
        })
        .with_collocation(interior)?
        .with_condition(Condition::dirichlet("boundary", boundary.points, |_| 0.0)?)?
        .with_condition(Condition::initial_value("initial", initial, |p| {
            -(PI * p[0]).sin()
        })?)
}

/// The Burgers problem with the initial and boundary values built into the network's output,
/// u = -sin(πx) + t (1 - x²) N(x, t), so only the PDE residual is trained (no condition terms,
/// no weights to balance). Collocation points as in [`burgers_problem`]; `setup.boundary` and
/// `setup.initial` are unused.
///
/// # Errors
/// As [`burgers_problem`].
pub fn burgers_problem_hard(setup: &BurgersSetup, nu: f64, device: &Device) -> Result<Problem> {
    let domain = SpaceTime::new(Hyperbox::interval(-1.0, 1.0)?, 0.0, setup.t_end)?;
    let mut rng = Rng::new(setup.seed);
    let interior = domain.sample_interior(setup.interior, setup.sampler, &mut rng)?;
    Ok(Problem::new(2, 1, device)
        .with_residual(SecondOrder::Diagonal, move |f| {
            let u = f.u.value();
            let (ux, ut) = (f.u.d(0), f.u.d(1));
            let uxx = f.u.d2(0, 0).expect("diagonal jet carries u_xx");
            Ok(ut + u * ux - uxx.mul_scalar(nu))
        })
        .with_collocation(interior)?
        .with_transform(|x: &Jet, n: Jet| {
            let (space, time) = (x.component(0), x.component(1));
            let initial = sin(&space.clone().mul_scalar(PI))?.mul_scalar(-1.0);
            let walls = add_scalar(&square(&space)?.mul_scalar(-1.0), 1.0);
            add(&initial, &mul(&mul(&time, &walls)?, &n)?)
        }))
}
