//! The latent ODE with an ODE-RNN encoder: values the mask hides do not change the encoding;
//! gradients by backprop through the encoder's and decoder's solves agree with central
//! differences; the loss is the masked Gaussian likelihood plus the closed-form KL; mismatched
//! shapes are errors.

mod common;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use common::{device, values};
use kiln_neural_de::models::{LatentOde, LatentOdeConfig};
use kiln_neural_de::{Error, ExplicitRk, SolveOptions};

const TS: [f64; 5] = [0.0, 0.3, 0.45, 0.9, 1.2];
const OUT: [f64; 4] = [0.0, 0.5, 1.2, 1.6];

fn model(device: &Device) -> LatentOde {
    kiln_core::device::seed(device, 21);
    LatentOdeConfig::new(2, 3, 4, 6).init(device).unwrap()
}

fn t3(v: &[f64], shape: [usize; 3], device: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(v.to_vec(), shape), device)
}

/// `[5, 2, 2]` values and a mask with holes.
fn series() -> (Vec<f64>, Vec<f64>) {
    let v: Vec<f64> = (0..20).map(|k| (0.7 * k as f64).sin()).collect();
    let mut m = vec![1.0; 20];
    for k in [1, 6, 7, 12, 19] {
        m[k] = 0.0;
    }
    (v, m)
}

fn fixed() -> SolveOptions {
    SolveOptions::fixed(0.05)
}

#[test]
fn masked_values_do_not_change_the_encoding() {
    let dev = device();
    let m = model(&dev);
    let (v, mask) = series();
    let mut w = v.clone();
    for k in [1, 6, 7, 12, 19] {
        w[k] = 100.0 + k as f64;
    }
    let encode = |v: &[f64]| {
        let (mu, lv) = m
            .encode(
                &TS,
                t3(v, [5, 2, 2], &dev),
                t3(&mask, [5, 2, 2], &dev),
                &ExplicitRk::rk4(),
                &fixed(),
            )
            .unwrap();
        (values(&mu), values(&lv))
    };
    assert_eq!(encode(&v), encode(&w));
    // An observed value does change it.
    let mut u = v.clone();
    u[0] += 1.0;
    assert_ne!(encode(&v).0, encode(&u).0);
}

fn loss(m: &LatentOde, dev: &Device) -> Tensor<1> {
    let (v, mask) = series();
    let eps = Tensor::<2>::from_data(
        TensorData::new(vec![0.3, -0.2, 0.5, 1.0, -0.4, 0.1], [2, 3]),
        dev,
    );
    let out = m
        .forward(
            &TS,
            t3(&v, [5, 2, 2], dev),
            t3(&mask, [5, 2, 2], dev),
            &OUT,
            Some(eps),
            &ExplicitRk::rk4(),
            &fixed(),
        )
        .unwrap();
    let target: Vec<f64> = (0..16).map(|k| (0.3 * k as f64).cos()).collect();
    let tmask: Vec<f64> = (0..16)
        .map(|k| if k % 5 == 2 { 0.0 } else { 1.0 })
        .collect();
    m.loss(
        &out,
        t3(&target, [4, 2, 2], dev),
        t3(&tmask, [4, 2, 2], dev),
        0.1,
    )
}

#[test]
fn backprop_gradients_match_central_differences() {
    let ad = device().autodiff();
    let m = model(&ad);
    let grads = loss(&m, &ad).backward();
    let plain = m.valid();
    let dev = device();
    let eps = 1e-6;
    type Pick = fn(&mut LatentOde) -> &mut burn::module::Param<Tensor<2>>;
    let picks: [(&str, Pick); 6] = [
        ("decoder", |m| &mut m.decoder.weight),
        ("dynamics", |m| &mut m.dynamics.mlp.layers[0].weight),
        ("posterior", |m| &mut m.posterior.weight),
        ("update", |m| &mut m.update.weight),
        ("candidate_h", |m| &mut m.candidate_h.weight),
        ("encoder ODE", |m| &mut m.encoder_ode.mlp.layers[1].weight),
    ];
    for (name, pick) in picks {
        let mut probe = m.clone();
        let grad = values(&pick(&mut probe).val().grad(&grads).unwrap());
        for i in [0, 3, 5] {
            let nudge = |delta: f64| {
                let mut q = plain.clone();
                let p = pick(&mut q);
                let w = p.val();
                let dims = w.dims();
                let mut v = values(&w);
                v[i] += delta;
                *p = p
                    .clone()
                    .map(|_| Tensor::from_data(TensorData::new(v, dims), &dev));
                loss(&q, &dev).into_scalar::<f64>()
            };
            let fd = (nudge(eps) - nudge(-eps)) / (2.0 * eps);
            assert!(
                (grad[i] - fd).abs() < 1e-6 * fd.abs().max(1.0),
                "{name} {i}: {} vs {fd}",
                grad[i]
            );
        }
    }
    // The GRU's weights get gradients too.
    assert!(m.update.weight.val().grad(&grads).is_some());
}

#[test]
fn the_loss_is_the_masked_likelihood_plus_the_kl() {
    let dev = device();
    let m = model(&dev);
    let (v, mask) = series();
    let out = m
        .forward(
            &TS,
            t3(&v, [5, 2, 2], &dev),
            t3(&mask, [5, 2, 2], &dev),
            &OUT,
            None,
            &ExplicitRk::rk4(),
            &fixed(),
        )
        .unwrap();
    let target: Vec<f64> = (0..16).map(|k| 0.1 * k as f64).collect();
    let tmask: Vec<f64> = (0..16)
        .map(|k| if k % 3 == 0 { 0.0 } else { 1.0 })
        .collect();
    let got = m
        .loss(
            &out,
            t3(&target, [4, 2, 2], &dev),
            t3(&tmask, [4, 2, 2], &dev),
            0.5,
        )
        .into_scalar::<f64>();
    let pred = values(&out.pred);
    let (mu, lv) = (values(&out.mean), values(&out.log_var));
    let nll: f64 = (0..16)
        .map(|k| tmask[k] * (pred[k] - target[k]).powi(2) / (2.0 * 0.01))
        .sum();
    let kl: f64 = mu
        .iter()
        .zip(&lv)
        .map(|(m, l)| 0.5 * (m * m + l.exp() - l - 1.0))
        .sum();
    let count: f64 = tmask.iter().sum();
    let expected = (nll + 0.5 * kl) / count;
    assert!(
        (got - expected).abs() < 1e-10 * expected,
        "{got} vs {expected}"
    );
}

#[test]
fn mismatched_shapes_are_errors() {
    let dev = device();
    let m = model(&dev);
    let err = m
        .encode(
            &TS[..4],
            t3(&[0.0; 20], [5, 2, 2], &dev),
            t3(&[1.0; 20], [5, 2, 2], &dev),
            &ExplicitRk::rk4(),
            &fixed(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
}
