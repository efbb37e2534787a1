//! Residuals of exact solutions vanish through the jet path (transforms built with jet algebra,
//! residual closures reading value, gradient, diagonal and mixed second derivatives).

mod common;

use std::f64::consts::PI;

use burn::tensor::Tensor;
use kiln_core::rng::Rng;
use kiln_core::{Jet, MlpConfig, SecondOrder};
use kiln_pinn::geometry::Hyperbox;
use kiln_pinn::jet_algebra::{add_scalar, exp, mul, sin, sub};
use kiln_pinn::{Fields, Geometry, Pinn, Problem, Sampler};

/// The largest |residual| over 200 Sobol points of `[0, 1]^inputs` for the field `exact`.
fn max_residual(
    inputs: usize,
    order: SecondOrder,
    exact: impl Fn(&Jet, Jet) -> kiln_pinn::Result<Jet> + Send + Sync + 'static,
    residual: impl Fn(&Fields<'_>) -> kiln_pinn::Result<Tensor<2>> + Send + Sync + 'static,
) -> f64 {
    let device = common::device();
    let lo = vec![0.0; inputs];
    let hi = vec![1.0; inputs];
    let pts = Hyperbox::new(lo, hi)
        .unwrap()
        .sample_interior(200, Sampler::Sobol, &mut Rng::new(1))
        .unwrap();
    let problem = Problem::new(inputs, 1, &device)
        .with_residual(order, residual)
        .with_collocation(pts.clone())
        .unwrap()
        .with_transform(exact);
    let model = Pinn::new(MlpConfig::new(vec![inputs, 8, 1]).init(&device).unwrap());
    let r = problem
        .residual_at(&model, pts.to_tensor(&device).unwrap())
        .unwrap();
    kiln_core::tensor::to_f64_vec(r)
        .into_iter()
        .fold(0.0, |m, v| m.max(v.abs()))
}

const TOL: f64 = 2e-4; // f32 round-off on O(π²) terms

#[test]
fn poisson_2d_manufactured_solution() {
    // u = sin(πx) sin(πy): Δu + 2π² u = 0.
    let r = max_residual(
        2,
        SecondOrder::Diagonal,
        |x, _| {
            mul(
                &sin(&x.component(0).mul_scalar(PI))?,
                &sin(&x.component(1).mul_scalar(PI))?,
            )
        },
        |f| Ok(f.u.laplacian().unwrap() + f.u.value().mul_scalar(2.0 * PI * PI)),
    );
    assert!(r < TOL * 20.0, "max residual {r}");
}

#[test]
fn heat_equation_fourier_mode() {
    // u = e^(-π² t) sin(πx), inputs (x, t): u_t - u_xx = 0.
    let r = max_residual(
        2,
        SecondOrder::Diagonal,
        |x, _| {
            mul(
                &exp(&x.component(1).mul_scalar(-PI * PI))?,
                &sin(&x.component(0).mul_scalar(PI))?,
            )
        },
        |f| Ok(f.u.d(1) - f.u.d2(0, 0).unwrap()),
    );
    assert!(r < TOL * 10.0, "max residual {r}");
}

#[test]
fn wave_equation_standing_wave() {
    // u = sin(πx) cos(πt) = ½[sin(π(x + t)) + sin(π(x - t))]: u_tt - u_xx = 0.
    let r = max_residual(
        2,
        SecondOrder::Diagonal,
        |x, _| {
            let (a, b) = (x.component(0), x.component(1));
            let plus = sin(&kiln_pinn::jet_algebra::add(&a, &b)?.mul_scalar(PI))?;
            let minus = sin(&sub(&a, &b)?.mul_scalar(PI))?;
            Ok(kiln_pinn::jet_algebra::add(&plus, &minus)?.mul_scalar(0.5))
        },
        |f| Ok(f.u.d2(1, 1).unwrap() - f.u.d2(0, 0).unwrap()),
    );
    assert!(r < TOL * 20.0, "max residual {r}");
}

#[test]
fn mixed_derivatives_through_products() {
    // u = sin(x) e^y (1 + x y): u_xy from the full Hessian against its closed form.
    let r = max_residual(
        2,
        SecondOrder::Full,
        |x, _| {
            let (a, b) = (x.component(0), x.component(1));
            let poly = add_scalar(&mul(&a, &b)?, 1.0);
            mul(&mul(&sin(&a)?, &exp(&b)?)?, &poly)
        },
        |f| {
            let x = f.x.clone().narrow(1, 0, 1);
            let y = f.x.clone().narrow(1, 1, 1);
            // ∂x∂y [sin x e^y (1 + xy)] = e^y [cos x (1 + xy) + sin x y + cos x x + sin x ... ]
            // computed as ∂x of e^y [sin x (1 + xy) + sin x x]:
            //   = e^y [cos x (1 + xy + x) + sin x (y + 1)]
            let ey = y.clone().exp();
            let one_xy_x = (x.clone() * y.clone() + x.clone()).add_scalar(1.0);
            let expected = ey * (x.clone().cos() * one_xy_x + x.sin() * y.add_scalar(1.0));
            Ok(f.u.d2(0, 1).unwrap() - expected)
        },
    );
    assert!(r < TOL * 10.0, "max residual {r}");
}

#[test]
fn a_wrong_solution_leaves_a_residual() {
    // u = sin(2πx) in the equation of sin(πx): u'' + π² u = -3π² sin(2πx), far from 0.
    let r = max_residual(
        1,
        SecondOrder::Diagonal,
        |x, _| sin(&x.component(0).mul_scalar(2.0 * PI)),
        |f| Ok(f.u.d2(0, 0).unwrap() + f.u.value().mul_scalar(PI * PI)),
    );
    assert!(r > 20.0, "max residual {r}");
}
