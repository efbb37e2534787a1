//! Flow matching, stochastic interpolants and Schrödinger bridges against closed forms: the
//! Gaussian flow's regression targets, ODE sampling through kiln-neural-de, minibatch couplings,
//! a short training run, and LightSB recovering the Gaussian Schrödinger bridge.

#[path = "../examples/common/lightsb.rs"]
#[allow(dead_code)]
mod lightsb;

use kiln_core::burn::module::Module;
use kiln_core::burn::tensor::{Device, Tensor};
use kiln_core::rng::Rng;
use kiln_core::tensor::to_f64_vec;
use kiln_core::train::{Loss, TrainerConfig};
use kiln_core::{BackendKind, Precision};
use kiln_diffusion::Samples;
use kiln_diffusion::data::Gaussian;
use kiln_diffusion::field::integrate;
use kiln_diffusion::flow::{
    FlowMatcherConfig, Gamma, GaussianFlow, Interpolant, InterpolantSde, Path, mse,
};
use kiln_diffusion::linalg::{cholesky, matmul};
use kiln_diffusion::metrics::{Sinkhorn, assignment, squared_distances, w2, w2_gaussian};
use kiln_diffusion::model::TimeMlpConfig;
use kiln_neural_de::{ExplicitRk, SolveOptions};

fn device() -> Device {
    let kind = BackendKind::from_env().unwrap();
    let device = kiln_core::device(kind).unwrap();
    kiln_core::device::configure_precision(&device, Precision::F64).unwrap();
    device
}

fn source() -> Gaussian {
    Gaussian::new(vec![0.5, -1.0], vec![1.0, 0.3, 0.3, 0.5]).unwrap()
}

fn target() -> Gaussian {
    Gaussian::new(vec![-2.0, 1.5], vec![0.4, -0.2, -0.2, 1.5]).unwrap()
}

/// Least squares `y ≈ A x + c` (per output), by the normal equations.
fn fit_affine(x: &[f64], y: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = x.len() / d;
    let k = d + 1;
    let feat = |i: usize, j: usize| if j < d { x[i * d + j] } else { 1.0 };
    let mut g = vec![0.0; k * k];
    let mut b = vec![0.0; k * d];
    for i in 0..n {
        for p in 0..k {
            for q in 0..k {
                g[p * k + q] += feat(i, p) * feat(i, q);
            }
            for o in 0..d {
                b[p * d + o] += feat(i, p) * y[i * d + o];
            }
        }
    }
    let inv = kiln_diffusion::linalg::inv_spd(&g, k).unwrap();
    let w = matmul(&inv, &b, k, k, d); // [k, d]
    let a = (0..d * d).map(|idx| w[(idx % d) * d + idx / d]).collect();
    let c = (0..d).map(|o| w[d * d + o]).collect();
    (a, c)
}

fn assert_close(found: &[f64], expected: &[f64], tol: f64, what: &str) {
    for (f, e) in found.iter().zip(expected) {
        assert!((f - e).abs() < tol, "{what}: {found:?} vs {expected:?}");
    }
}

#[test]
fn conditional_targets_regress_onto_the_closed_form_velocity_and_denoiser() {
    let device = device();
    let mut rng = Rng::new(1);
    let n = 40_000;
    for (interpolant, t) in [
        (
            Interpolant {
                path: Path::Linear,
                gamma: Gamma::Constant { sigma: 0.1 },
            },
            0.3,
        ),
        (
            Interpolant {
                path: Path::Trigonometric,
                gamma: Gamma::Bridge { sigma: 0.8 },
            },
            0.6,
        ),
    ] {
        let matcher =
            FlowMatcherConfig::new(kiln_diffusion::flow::Coupling::Independent, interpolant)
                .init()
                .unwrap();
        let x0 = source().sample_with(n, &mut rng);
        let x1 = target().sample_with(n, &mut rng);
        let batch = matcher
            .sample_at(&x0, &x1, Some(t), &mut rng, &device)
            .unwrap();
        let xt = to_f64_vec(batch.xt);
        let (a, c) = fit_affine(&xt, &to_f64_vec(batch.velocity), 2);
        let flow = GaussianFlow::new(source(), target(), interpolant).unwrap();
        let (a_exact, c_exact) = flow.velocity_affine(t).unwrap();
        assert_close(&a, &a_exact, 0.05, "velocity A");
        assert_close(&c, &c_exact, 0.05, "velocity c");
        let (a, c) = fit_affine(&xt, &to_f64_vec(batch.noise), 2);
        let (a_exact, c_exact) = flow.denoiser_affine(t).unwrap();
        assert_close(&a, &a_exact, 0.03, "denoiser A");
        assert_close(&c, &c_exact, 0.03, "denoiser c");
    }
}

/// Source points whose sample mean and covariance equal the source's exactly.
fn whitened_source(n: usize, seed: u64) -> Samples {
    let p = source();
    let raw = p.sample(n, seed);
    let (m, c) = (raw.mean(), raw.covariance());
    let l_hat = cholesky(&c, 2).unwrap();
    let l = cholesky(&p.cov, 2).unwrap();
    // x ↦ m₀ + L L̂⁻¹ (x - x̄); L̂⁻¹ of a 2x2 lower triangle.
    let inv = [
        1.0 / l_hat[0],
        0.0,
        -l_hat[2] / (l_hat[0] * l_hat[3]),
        1.0 / l_hat[3],
    ];
    let map = matmul(&l, &inv, 2, 2, 2);
    let mut out = Vec::with_capacity(2 * n);
    for i in 0..n {
        let r = raw.row(i);
        let d = [r[0] - m[0], r[1] - m[1]];
        for a in 0..2 {
            out.push(p.mean[a] + map[a * 2] * d[0] + map[a * 2 + 1] * d[1]);
        }
    }
    Samples::new(out, 2).unwrap()
}

#[test]
fn the_exact_field_carries_the_source_moments_onto_the_target() {
    let device = device();
    let flow = GaussianFlow::new(
        source(),
        target(),
        Interpolant {
            path: Path::Linear,
            gamma: Gamma::Zero,
        },
    )
    .unwrap();
    let x0 = whitened_source(2000, 7);
    let field = |x: Tensor<2>, t: Tensor<2>| flow.velocity(x, t);
    for (solver, options, tol) in [
        (
            ExplicitRk::dopri5(),
            SolveOptions::adaptive(1e-8, 1e-8),
            1e-5,
        ),
        (ExplicitRk::euler(), SolveOptions::fixed(0.01), 0.1),
    ] {
        let sol = integrate(&field, x0.to_tensor(&device), (0.0, 1.0), &solver, &options).unwrap();
        let x1 = Samples::from_tensor(sol.last().clone()).unwrap();
        assert_close(&x1.mean(), &target().mean, tol, "mean");
        assert_close(&x1.covariance(), &target().cov, tol, "covariance");
    }
    // The flow of a deterministic interpolant under independent coupling is not the OT map, but
    // its transport cost is bounded below by W2.
    let sol = integrate(
        &field,
        x0.to_tensor(&device),
        (0.0, 1.0),
        &ExplicitRk::dopri5(),
        &SolveOptions::adaptive(1e-8, 1e-8),
    )
    .unwrap();
    let x1 = Samples::from_tensor(sol.last().clone()).unwrap();
    let cost: f64 = (0..x0.len())
        .map(|i| {
            x0.row(i)
                .iter()
                .zip(x1.row(i))
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
        })
        .sum::<f64>()
        / x0.len() as f64;
    let w = w2_gaussian(&source(), &target()).unwrap();
    assert!(cost >= w * w * (1.0 - 1e-6), "{cost} < {}", w * w);
}

#[test]
fn the_interpolant_sde_with_the_exact_velocity_and_denoiser_keeps_the_marginals() {
    let device = device();
    let interpolant = Interpolant {
        path: Path::Trigonometric,
        gamma: Gamma::Bridge { sigma: 1.0 },
    };
    let flow = GaussianFlow::new(source(), target(), interpolant).unwrap();
    let (t0, t1) = (0.05, 0.95);
    let start_law = flow.marginal(t0).unwrap();
    let raw = start_law.sample(4000, 3);
    let b = |x: Tensor<2>, t: Tensor<2>| flow.velocity(x, t);
    let eta = |x: Tensor<2>, t: Tensor<2>| flow.denoiser(x, t);
    let end = flow.marginal(t1).unwrap();
    for diffusion in [0.0, 0.5] {
        let sde = InterpolantSde {
            velocity: &b,
            denoiser: &eta,
            interpolant,
            diffusion,
        };
        let x = sde
            .sample(raw.to_tensor(&device), (t0, t1), 400, 9)
            .unwrap();
        let s = Samples::from_tensor(x).unwrap();
        assert_close(
            &s.mean(),
            &end.mean,
            0.06,
            &format!("mean, diffusion {diffusion}"),
        );
        assert_close(
            &s.covariance(),
            &end.cov,
            0.1,
            &format!("covariance, diffusion {diffusion}"),
        );
    }
    // At the bridge's end points γ = 0 and the score is undefined.
    let sde = InterpolantSde {
        velocity: &b,
        denoiser: &eta,
        interpolant,
        diffusion: 0.5,
    };
    assert!(
        sde.sample(raw.to_tensor(&device), (0.0, 0.5), 10, 0)
            .is_err()
    );
}

#[test]
fn minibatch_couplings_match_optimal_transport() {
    let mut rng = Rng::new(3);
    let n = 600;
    let x0 = source().sample_with(n, &mut rng);
    let x1 = target().sample_with(n, &mut rng);
    let ot = FlowMatcherConfig::otcfm(0.0).init().unwrap();
    let pairs = ot.pairs(&x0, &x1, &mut rng).unwrap();
    let cost: f64 = pairs
        .iter()
        .map(|&(i, j)| {
            x0.row(i)
                .iter()
                .zip(x1.row(j))
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
        })
        .sum::<f64>()
        / n as f64;
    let exact = w2_gaussian(&source(), &target()).unwrap().powi(2);
    assert!((cost - exact).abs() < 0.08 * exact, "{cost} vs {exact}");
    assert!((w2(&x0, &x1).unwrap().powi(2) - cost).abs() < 1e-9);
    // SB-CFM with a small ε draws pairs from a plan concentrated on the assignment.
    let small = 120;
    let (a, b) = (
        source().sample_with(small, &mut rng),
        target().sample_with(small, &mut rng),
    );
    let sigma = assignment(&squared_distances(&a, &b), small).unwrap();
    let sb = FlowMatcherConfig::sbcfm(0.05)
        .with_sinkhorn_iters(5000)
        .init()
        .unwrap();
    let pairs = sb.pairs(&a, &b, &mut rng).unwrap();
    let hits = pairs.iter().filter(|&&(i, j)| sigma[i] == j).count();
    assert!(hits as f64 > 0.6 * small as f64, "{hits} of {small}");
    let plan = Sinkhorn::new(0.005)
        .plan(&squared_distances(&a, &b), small, small)
        .unwrap();
    assert!(plan.cost > 0.0);
    assert!(FlowMatcherConfig::sbcfm(0.0).init().is_err());
}

#[test]
fn a_short_icfm_run_learns_a_gaussian_shift() {
    let device = device().autodiff();
    let config = TimeMlpConfig::new(2).with_hidden(vec![32, 32]);
    let model = config.init(&device).unwrap();
    let matcher = FlowMatcherConfig::icfm(0.0).init().unwrap();
    let src = Gaussian::standard(2);
    let tgt = Gaussian::isotropic(vec![3.0, -1.0], 0.5).unwrap();
    let mut rng = Rng::new(11);
    let trainer = TrainerConfig::new(600, 5e-3)
        .with_progress(kiln_core::train::ProgressMode::Off)
        .init()
        .unwrap();
    let outcome = trainer
        .fit(model, &device, |m, _| {
            let x0 = src.sample_with(128, &mut rng);
            let x1 = tgt.sample_with(128, &mut rng);
            let batch = matcher.sample(&x0, &x1, &mut rng, &device)?;
            Ok(Loss::new(mse(m.forward(batch.xt, batch.t), batch.velocity)))
        })
        .unwrap();
    let model = outcome.model.valid();
    let plain = device.clone().without_autodiff();
    let x0 = src.sample(1000, 99).to_tensor(&plain);
    let sol = integrate(
        &model,
        x0,
        (0.0, 1.0),
        &ExplicitRk::euler(),
        &SolveOptions::fixed(0.02),
    )
    .unwrap();
    let x1 = Samples::from_tensor(sol.last().clone()).unwrap();
    let reference = tgt.sample(1000, 5);
    let w = w2(&x1, &reference).unwrap();
    assert!(w < 0.35, "W2 to the target {w}");
    let m = x1.mean();
    assert!(
        (m[0] - 3.0).abs() < 0.15 && (m[1] + 1.0).abs() < 0.15,
        "{m:?}"
    );
}

#[test]
fn lightsb_recovers_the_gaussian_schrodinger_bridge() {
    let device = device();
    let bridge = lightsb::problem(2, 1.0, 3);
    let config = kiln_diffusion::bridge::LightSbConfig::new(2, 1.0)
        .with_components(1)
        .with_rotation(true);
    // Before training the conditional plan is far from the bridge.
    let untrained = config.init(None, &device).unwrap();
    let xs = bridge.source.sample(100, 1);
    let before = bridge
        .cbw2_uvp(&xs, &untrained.conditional_moments(&xs).unwrap())
        .unwrap();
    assert!(before > 10.0, "{before}");
    let (after, _, _) = lightsb::train_and_score(&bridge, &config, 1500, 512, 7, &device).unwrap();
    assert!(after < 0.5, "cBW2-UVP {after} %");
    // The sampler draws from the mixture whose moments conditional_moments reports.
    let x = Samples::new(vec![0.7, -0.4], 2).unwrap();
    let (mean, cov) = untrained.conditional_moments(&x).unwrap().remove(0);
    let many = Samples::new(x.as_slice().repeat(20_000), 2).unwrap();
    let draws = untrained.sample(&many, &mut Rng::new(5)).unwrap();
    let (m, c) = (draws.mean(), draws.covariance());
    for k in 0..2 {
        assert!(
            (m[k] - mean[k]).abs() < 0.05 * (1.0 + cov[3 * k].sqrt()),
            "{m:?} vs {mean:?}"
        );
    }
    for k in 0..4 {
        assert!(
            (c[k] - cov[k]).abs() < 0.05 * (cov[0] + cov[3]),
            "{c:?} vs {cov:?}"
        );
    }
}
