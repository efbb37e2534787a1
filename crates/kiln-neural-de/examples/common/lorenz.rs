//! The Lorenz system (σ = 10, ρ = 28, β = 8/3) as a tensor vector field and as plain f64, shared
//! by the Lorenz benchmarks and demo (included with `#[path]`).
#![allow(dead_code, unreachable_pub)]

use kiln_core::burn::tensor::{Device, Tensor, TensorData};
use kiln_neural_de::{Time, VectorField};

pub const SIGMA: f64 = 10.0;
pub const RHO: f64 = 28.0;
pub const BETA: f64 = 8.0 / 3.0;

/// `f(t, y)` on a `[batch, 3]` state as two 3x3 matmuls: the linear part `y L` and the
/// quadratic part `(x y) Q`, where `x y = [x², xy, xz]` and `Q` routes `-xz` to dy and `xy` to
/// dz. Five tensor ops and no concatenation (on flex, concatenating three `[1024, 1]` columns
/// costs about 30 µs, more than the rest of the field).
pub struct Lorenz {
    linear: Tensor<2>,
    quadratic: Tensor<2>,
}

impl Lorenz {
    pub fn new(device: &Device) -> Self {
        let matrix =
            |values: Vec<f64>| Tensor::<2>::from_data(TensorData::new(values, [3, 3]), device);
        Self {
            linear: matrix(vec![-SIGMA, RHO, 0.0, SIGMA, -1.0, 0.0, 0.0, 0.0, -BETA]),
            quadratic: matrix(vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, -1.0, 0.0]),
        }
    }
}

impl VectorField<2> for Lorenz {
    fn eval(&self, _t: &Time, y: &Tensor<2>) -> Tensor<2> {
        let x = y.clone().narrow(1, 0, 1);
        y.clone()
            .matmul(self.linear.clone())
            .add(x.mul(y.clone()).matmul(self.quadratic.clone()))
    }
}

/// The same field written component by component with column slices and a concatenation, as
/// one would first write it; slower on flex because of the concatenation.
pub fn field_cat(_t: &Time, y: &Tensor<2>) -> Tensor<2> {
    let x = y.clone().narrow(1, 0, 1);
    let v = y.clone().narrow(1, 1, 1);
    let z = y.clone().narrow(1, 2, 1);
    let dx = v.clone().sub(x.clone()).mul_scalar(SIGMA);
    let dy = x
        .clone()
        .mul(z.clone().neg().add_scalar(RHO))
        .sub(v.clone());
    let dz = x.mul(v).sub(z.mul_scalar(BETA));
    Tensor::cat(vec![dx, dy, dz], 1)
}

/// `f(t, y)` on one plain state.
pub fn field_f64(y: &[f64; 3]) -> [f64; 3] {
    [
        SIGMA * (y[1] - y[0]),
        y[0] * (RHO - y[2]) - y[1],
        y[0] * y[1] - BETA * y[2],
    ]
}

/// `n` initial conditions `1 + 0.1 N(0, 1)`, seeded (SplitMix64 and Box-Muller).
pub fn initial_conditions(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = kiln_core::rng::Rng::new(seed);
    (0..3 * n).map(|_| 1.0 + 0.1 * rng.normal()).collect()
}

/// Median of timings.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
