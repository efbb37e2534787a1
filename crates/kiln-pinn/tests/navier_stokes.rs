//! A vector-valued residual: steady incompressible Navier-Stokes (momentum x, y and continuity
//! over the outputs (u, v, p)) vanishes for the exact Kovasznay flow put through the problem as
//! an output transform, and does not for a flow of the wrong Reynolds number.

mod common;

use std::f64::consts::PI;

use burn::tensor::Tensor;
use kiln_core::rng::Rng;
use kiln_core::{Jet, MlpConfig, SecondOrder};
use kiln_pinn::geometry::Hyperbox;
use kiln_pinn::jet_algebra::{add_scalar, exp, mul, sin};
use kiln_pinn::{Fields, Geometry, Pinn, Problem, Sampler};

/// λ = Re/2 - √(Re²/4 + 4π²) of the Kovasznay flow.
fn lambda(re: f64) -> f64 {
    re / 2.0 - (re * re / 4.0 + 4.0 * PI * PI).sqrt()
}

/// The Kovasznay field (u, v, p) of Reynolds number `re` as a jet over (x, y):
/// u = 1 - e^{λx} cos 2πy, v = λ/(2π) e^{λx} sin 2πy, p = ½(1 - e^{2λx}).
fn kovasznay(x: &Jet, re: f64) -> kiln_pinn::Result<Jet> {
    let l = lambda(re);
    let e = exp(&x.component(0).mul_scalar(l))?;
    let y2pi = x.component(1).mul_scalar(2.0 * PI);
    let cos = sin(&add_scalar(&y2pi, PI / 2.0))?;
    let u = add_scalar(&mul(&e, &cos)?.mul_scalar(-1.0), 1.0);
    let v = mul(&e, &sin(&y2pi)?)?.mul_scalar(l / (2.0 * PI));
    let p = add_scalar(
        &exp(&x.component(0).mul_scalar(2.0 * l))?.mul_scalar(-0.5),
        0.5,
    );
    Ok(Jet::concat(vec![u, v, p])?)
}

/// Momentum x, momentum y and continuity, `[batch, 3]`.
fn navier_stokes(f: &Fields<'_>, re: f64) -> Tensor<2> {
    let (u, v, p) = (f.u.component(0), f.u.component(1), f.u.component(2));
    let momentum = |w: &Jet, pressure_axis: usize| {
        u.value() * w.d(0) + v.value() * w.d(1) + p.d(pressure_axis)
            - w.laplacian().expect("diagonal jet").div_scalar(re)
    };
    Tensor::cat(vec![momentum(&u, 0), momentum(&v, 1), u.d(0) + v.d(1)], 1)
}

/// Largest |residual| per equation of the field with Reynolds number `field_re` under the
/// equations with `equation_re`, over 300 Sobol points of the Kovasznay domain.
fn max_residuals(field_re: f64, equation_re: f64) -> Vec<f64> {
    let device = common::device();
    let domain = Hyperbox::new(vec![-0.5, -0.5], vec![1.0, 1.5]).unwrap();
    let pts = domain
        .sample_interior(300, Sampler::Sobol, &mut Rng::new(3))
        .unwrap();
    let problem = Problem::new(2, 3, &device)
        .with_residual(SecondOrder::Diagonal, move |f| {
            Ok(navier_stokes(f, equation_re))
        })
        .with_collocation(pts.clone())
        .unwrap()
        .with_transform(move |x, _| kovasznay(x, field_re));
    let model = Pinn::new(MlpConfig::new(vec![2, 8, 3]).init(&device).unwrap());
    let r = problem
        .residual_at(&model, pts.to_tensor(&device).unwrap())
        .unwrap();
    assert_eq!(r.dims(), [300, 3], "one column per equation");
    let values = kiln_core::tensor::to_f64_vec(r);
    (0..3)
        .map(|k| {
            values
                .iter()
                .skip(k)
                .step_by(3)
                .fold(0.0, |m: f64, v| m.max(v.abs()))
        })
        .collect()
}

#[test]
fn kovasznay_flow_solves_steady_navier_stokes() {
    // The terms reach |Δu|/Re ≈ (4π² - λ²) e^{λx} / Re ≈ 5 at x = -0.5 (Re = 20); f32
    // round-off leaves a few 1e-6, so 1e-4 still fails for any wrong term.
    for re in [20.0, 40.0] {
        let r = max_residuals(re, re);
        println!("Re = {re}: max |residual| (mom x, mom y, continuity) = {r:?}");
        for (k, v) in r.iter().enumerate() {
            assert!(*v < 1e-4, "Re = {re}, equation {k}: max residual {v}");
        }
    }
}

#[test]
fn wrong_reynolds_number_leaves_a_residual() {
    // The Re = 20 flow under the Re = 40 equations: the momentum equations fail by O(1)
    // (continuity holds for any λ), so the residual path really reads every component.
    let r = max_residuals(20.0, 40.0);
    println!("max |residual| of the Re = 20 flow at Re = 40: {r:?}");
    assert!(r[0] > 0.1 && r[1] > 0.1, "momentum residuals {r:?}");
    assert!(r[2] < 1e-4, "continuity holds for every λ: {}", r[2]);
}
