//! RNODE's integrals against closed forms: for a field that is linear up to O(ε²), `f(y) = y A`,
//! the integrated Jacobian Frobenius norm is `T ‖A‖²_F` (exactly, and on average under
//! Hutchinson's estimator), and for a rotation the kinetic energy is `T ω² ‖y₀‖²`; the
//! Jacobian-vector products through the MLP's jets agree with central differences of the field,
//! and the integrals' parameter gradients agree with central differences.

mod common;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use common::{device, tensor, values};
use kiln_neural_de::models::{
    FieldInput, JacobianNorm, JvpField, NeuralOde, NeuralOdeConfig, Rnode, solve_rnode,
};
use kiln_neural_de::{ExplicitRk, SolveOptions, Time, VectorField};

const T: f64 = 1.5;
const E: f64 = 1e-4;

/// `f(y) = tanh(ε y) (A/ε)` = `y A + O(ε²)`, optionally with a (zero-weighted) time input.
fn linear(a: [f64; 4], time_dependent: bool, device: &Device) -> NeuralOde {
    let mut model = NeuralOdeConfig::new(2, vec![2])
        .with_time_dependent(time_dependent)
        .init(device)
        .unwrap();
    let mut w1 = vec![E, 0.0, 0.0, E];
    let rows = if time_dependent {
        w1.extend([0.0, 0.0]);
        3
    } else {
        2
    };
    let w1 = tensor(&w1, [rows, 2], device);
    let w2 = tensor(&a.map(|x| x / E), [2, 2], device);
    model.mlp.layers[0].weight = model.mlp.layers[0].weight.clone().map(|_| w1);
    model.mlp.layers[1].weight = model.mlp.layers[1].weight.clone().map(|_| w2);
    model
}

fn run(model: &NeuralOde, y0: Tensor<2>, rnode: Rnode) -> (f64, f64) {
    let (_, cost, _) = solve_rnode(
        model,
        y0,
        &[0.0, T],
        &ExplicitRk::dopri5(),
        &SolveOptions::adaptive(1e-10, 1e-12),
        &rnode,
    )
    .unwrap();
    (
        cost.kinetic.into_scalar::<f64>(),
        cost.jacobian.into_scalar::<f64>(),
    )
}

#[test]
fn exact_jacobian_norm_of_a_linear_field_is_the_frobenius_norm() {
    let dev = device();
    let a = [0.3, 1.0, -0.5, 0.2];
    let frob: f64 = a.iter().map(|x| x * x).sum();
    for time_dependent in [false, true] {
        let model = linear(a, time_dependent, &dev);
        let y0 = tensor(&[0.4, -0.3, 0.1, 0.2], [2, 2], &dev);
        let rnode = Rnode {
            kinetic: false,
            jacobian: JacobianNorm::Exact,
        };
        let (kinetic, jacobian) = run(&model, y0, rnode);
        assert_eq!(kinetic, 0.0);
        assert!(
            (jacobian - T * frob).abs() < 1e-6 * T * frob,
            "{jacobian} vs {}",
            T * frob
        );
    }
}

#[test]
fn hutchinson_is_unbiased_for_the_frobenius_norm() {
    let dev = device();
    let a = [0.3, 1.0, -0.5, 0.2];
    let frob: f64 = a.iter().map(|x| x * x).sum();
    let model = linear(a, false, &dev);
    let batch = 2000;
    let y0 = Tensor::<2>::from_data(TensorData::new([0.1, 0.2].repeat(batch), [batch, 2]), &dev);
    let rnode = Rnode {
        kinetic: false,
        jacobian: JacobianNorm::Hutchinson { seed: 3 },
    };
    let (_, jacobian) = run(&model, y0, rnode);
    // ‖Aε‖² = ‖A‖²_F + 2 ε₁ε₂ (AᵀA)₁₂: the batch mean's standard deviation is
    // 2 |(AᵀA)₁₂| / sqrt(batch) ≈ 0.011 T here; allow five of them.
    let tol = 5.0 * 2.0 * (0.3f64 * 1.0 + -0.5 * 0.2).abs() / (batch as f64).sqrt() * T;
    assert!(
        (jacobian - T * frob).abs() < tol,
        "{jacobian} vs {} ± {tol}",
        T * frob
    );
    // A single sample is not the norm: the estimator really is random.
    let y1 = tensor(&[0.1, 0.2], [1, 2], &dev);
    let (_, one) = run(&model, y1, rnode);
    assert!((one - T * frob).abs() > 1e-3, "{one}");
}

#[test]
fn kinetic_energy_of_a_rotation_is_constant_in_time() {
    let dev = device();
    let w = 1.5;
    let model = linear([0.0, w, -w, 0.0], false, &dev);
    let y0 = tensor(&[0.6, -0.2, 0.1, 0.3], [2, 2], &dev);
    let rnode = Rnode {
        kinetic: true,
        jacobian: JacobianNorm::Off,
    };
    let (kinetic, jacobian) = run(&model, y0, rnode);
    assert_eq!(jacobian, 0.0);
    // Batch mean of T w² ‖y₀‖².
    let expected = T * w * w * (0.36 + 0.04 + 0.01 + 0.09) / 2.0;
    assert!(
        (kinetic - expected).abs() < 1e-6 * expected,
        "{kinetic} vs {expected}"
    );
}

#[test]
fn jets_give_the_jacobian_vector_products_of_the_mlp() {
    let dev = device();
    kiln_core::device::seed(&dev, 11);
    for input in [FieldInput::Identity, FieldInput::Cube] {
        let model = NeuralOdeConfig::new(3, vec![7, 5])
            .with_time_dependent(true)
            .with_input(input)
            .with_zero_bias(false)
            .init(&dev)
            .unwrap();
        let t = Time::Shared(0.7);
        let y = tensor(&[0.3, -0.8, 0.5, 1.1, 0.2, -0.4], [2, 3], &dev);
        let v = [0.2, 1.0, -0.7, -0.3, 0.5, 0.9];
        let vt = Tensor::<3>::from_data(TensorData::new(v.to_vec(), [1, 2, 3]), &dev);
        let (f, jv) = model.eval_jvp(&t, &y, &vt);
        assert_eq!(values(&f), values(&model.eval(&t, &y)));
        let h = 1e-6;
        let yv = |s: f64| {
            let yv: Vec<f64> = values(&y).iter().zip(&v).map(|(y, v)| y + s * v).collect();
            values(&model.eval(&t, &tensor(&yv, [2, 3], &dev)))
        };
        let (up, down) = (yv(h), yv(-h));
        let jv = values(&jv);
        for i in 0..6 {
            let fd = (up[i] - down[i]) / (2.0 * h);
            assert!(
                (jv[i] - fd).abs() < 1e-7,
                "{input:?} {i}: {} vs {fd}",
                jv[i]
            );
        }
    }
}

#[test]
fn integral_gradients_match_central_differences() {
    let ad = device().autodiff();
    kiln_core::device::seed(&ad, 5);
    let model = NeuralOdeConfig::new(2, vec![4])
        .with_zero_bias(false)
        .init(&ad)
        .unwrap();
    let y0 = [0.5, -0.4];
    let fixed = SolveOptions::fixed(0.1);
    let total = |m: &NeuralOde, dev: &Device| {
        let (_, cost, _) = solve_rnode(
            m,
            tensor(&y0, [1, 2], dev),
            &[0.0, 1.0],
            &ExplicitRk::rk4(),
            &fixed,
            &Rnode {
                kinetic: true,
                jacobian: JacobianNorm::Exact,
            },
        )
        .unwrap();
        cost.kinetic.add(cost.jacobian)
    };
    let grads = total(&model, &ad).backward();
    let w = model.mlp.layers[1].weight.val();
    let grad = values(&w.grad(&grads).unwrap());
    let plain = model.valid();
    let dev = device();
    let eps = 1e-6;
    for i in 0..8 {
        let nudge = |delta: f64| {
            let mut m = plain.clone();
            let mut v = values(&m.mlp.layers[1].weight.val());
            v[i] += delta;
            m.mlp.layers[1].weight = m.mlp.layers[1]
                .weight
                .clone()
                .map(|_| tensor(&v, [4, 2], &dev));
            total(&m, &dev).into_scalar::<f64>()
        };
        let fd = (nudge(eps) - nudge(-eps)) / (2.0 * eps);
        assert!(
            (grad[i] - fd).abs() < 1e-6 * fd.abs().max(1.0),
            "{i}: {} vs {fd}",
            grad[i]
        );
    }
}
