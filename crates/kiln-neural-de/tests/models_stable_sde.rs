//! The stable neural SDE classes keep their defining conditions for random parameters
//! (proptest): bounded diffusion `0 < σ(t) < 1`; the Langevin-type drift ignores `t` and its
//! diffusion ignores `z`; linear-noise and geometric diffusions are linear in `z`; the geometric
//! drift and diffusion vanish at `z = 0`; the drift network obeys its Lipschitz bound. The model
//! runs through the crate's SDE solver and its transition likelihood has its closed form.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::{device, values};
use kiln_neural_de::Time;
use kiln_neural_de::models::{StableClass, StableSde, StableSdeConfig};
use kiln_neural_de::sde::{self, EulerMaruyama, SdeOptions, VirtualBrownianTree};
use proptest::prelude::*;

const CLASSES: [StableClass; 3] = [
    StableClass::Langevin,
    StableClass::LinearNoise,
    StableClass::Geometric,
];

fn model(class: StableClass, seed: u64, width: usize, device: &Device) -> StableSde {
    kiln_core::device::seed(device, seed);
    StableSdeConfig::new(class, 3, vec![width, width])
        .init(device)
        .unwrap()
}

fn states(v: &[f64], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len() / 3, 3]), device)
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn conditions_hold_for_random_parameters(
        seed in 0u64..1_000_000,
        width in 2usize..9,
        z in prop::collection::vec(-4.0f64..4.0, 6),
        w in prop::collection::vec(-4.0f64..4.0, 6),
        t1 in -2.0f64..5.0,
        t2 in -2.0f64..5.0,
        c in -3.0f64..3.0,
    ) {
        let dev = device();
        let (z, w) = (states(&z, &dev), states(&w, &dev));
        let (s1, s2) = (Time::Shared(t1), Time::Shared(t2));
        for class in CLASSES {
            let m = model(class, seed, width, &dev);
            // Bounded diffusion scale.
            let sigma = values(&m.sigma(&s1, &z));
            prop_assert!(sigma.iter().all(|s| *s > 0.0 && *s < 1.0), "{class:?}: {sigma:?}");
            // The drift network's Lipschitz bound.
            let l = m.lipschitz_bound();
            let dg = values(&m.gamma(&s1, &z).sub(m.gamma(&s1, &w)));
            let dz = values(&z.clone().sub(w.clone()));
            for r in 0..2 {
                let ng = dg[3 * r..3 * r + 3].iter().map(|x| x * x).sum::<f64>().sqrt();
                let nz = dz[3 * r..3 * r + 3].iter().map(|x| x * x).sum::<f64>().sqrt();
                prop_assert!(ng <= l * nz * (1.0 + 1e-9) + 1e-12, "{class:?}: {ng} > {l} × {nz}");
            }
            match class {
                StableClass::Langevin => {
                    prop_assert_eq!(values(&m.drift(&s1, &z)), values(&m.drift(&s2, &z)));
                    prop_assert_eq!(values(&m.diffusion(&s1, &z)), values(&m.diffusion(&s1, &w)));
                }
                StableClass::LinearNoise | StableClass::Geometric => {
                    let scaled = values(&m.diffusion(&s1, &z.clone().mul_scalar(c)));
                    let linear = values(&m.diffusion(&s1, &z).mul_scalar(c));
                    prop_assert!(close(&scaled, &linear, 1e-12), "{class:?}");
                    let zero = z.zeros_like();
                    prop_assert!(values(&m.diffusion(&s1, &zero)).iter().all(|x| *x == 0.0));
                    if class == StableClass::Geometric {
                        prop_assert!(values(&m.drift(&s1, &zero)).iter().all(|x| *x == 0.0));
                    }
                }
            }
        }
    }
}

#[test]
fn transition_nll_has_its_closed_form() {
    let dev = device();
    let m = model(StableClass::LinearNoise, 1, 4, &dev);
    let t = Tensor::<1>::from_data(TensorData::new(vec![0.3, 0.8], [2]), &dev);
    let z = states(&[0.5, -1.0, 2.0, 1.5, 0.2, -0.7], &dev);
    let z_next = states(&[0.52, -0.98, 2.1, 1.4, 0.25, -0.72], &dev);
    let dt = 0.01;
    let got = m
        .transition_nll(t.clone(), z.clone(), z_next.clone(), dt)
        .into_scalar::<f64>();
    let time = Time::PerSample(t);
    let f = values(&m.drift(&time, &z));
    let g = values(&m.diffusion(&time, &z));
    let (zv, nv) = (values(&z), values(&z_next));
    let mut sum = 0.0;
    for i in 0..6 {
        let var = g[i] * g[i] * dt;
        let r = nv[i] - zv[i] - f[i] * dt;
        sum += r * r / (2.0 * var) + 0.5 * var.ln();
    }
    let expected = sum / 6.0;
    assert!(
        (got - expected).abs() < 1e-10 * expected.abs(),
        "{got} vs {expected}"
    );
}

#[test]
fn every_class_runs_through_the_sde_solver() {
    let dev = device();
    for class in CLASSES {
        let m = model(class, 9, 4, &dev);
        let brownian = VirtualBrownianTree::new((0.0, 1.0), [5, 3], 3, 1e-3).unwrap();
        let y0 = Tensor::<2>::ones([5, 3], &dev);
        let sol = sde::solve(
            &m.term(),
            &EulerMaruyama,
            (0.0, 1.0),
            y0,
            &brownian,
            &SdeOptions::fixed(0.01),
        )
        .unwrap();
        let y = values(sol.last());
        assert!(y.iter().all(|x| x.is_finite()), "{class:?}");
    }
}
