//! Score-based diffusion against closed forms: Gaussian data under VP, sub-VP, VE and cosine
//! with the exact score (samplers reproduce the mean and covariance; the probability-flow
//! likelihood equals the Gaussian log density), Jacobian-vector products against finite
//! differences, EDM's preconditioned target, and the ideal denoiser as a Hopfield retrieval.

use kiln_core::burn::tensor::{Device, Tensor, TensorData};
use kiln_core::rng::Rng;
use kiln_core::tensor::to_f64_vec;
use kiln_core::{BackendKind, Precision};
use kiln_diffusion::Samples;
use kiln_diffusion::data::Gaussian;
use kiln_diffusion::linalg::{cholesky, matmul};
use kiln_diffusion::model::TimeMlpConfig;
use kiln_diffusion::score::{
    DdpmSchedule, Divergence, EdmPrecond, ForwardSde, GaussianScore, Guided, Langevin, Prediction,
    ScoreModel, ScoreNet, ddim, ddim_discrete, edm_sample, ideal_denoiser, log_likelihood,
    predictor_corrector, probability_flow, reverse_sde,
};
use kiln_hopfield::modern::{Steps, retrieve};
use kiln_neural_de::{ExplicitRk, SolveOptions};

fn device() -> Device {
    let device = kiln_core::device(BackendKind::from_env().unwrap()).unwrap();
    kiln_core::device::configure_precision(&device, Precision::F64).unwrap();
    device
}

fn data() -> Gaussian {
    Gaussian::new(vec![1.0, -0.5], vec![0.5, 0.2, 0.2, 0.3]).unwrap()
}

/// `n` points whose sample mean and covariance equal `law`'s exactly.
fn exact_moments(law: &Gaussian, n: usize, seed: u64) -> Samples {
    let raw = Gaussian::standard(2).sample(n, seed);
    let (m, c) = (raw.mean(), raw.covariance());
    let lh = cholesky(&c, 2).unwrap();
    let inv = [1.0 / lh[0], 0.0, -lh[2] / (lh[0] * lh[3]), 1.0 / lh[3]];
    let map = matmul(&cholesky(&law.cov, 2).unwrap(), &inv, 2, 2, 2);
    let mut out = Vec::with_capacity(2 * n);
    for i in 0..n {
        let r = raw.row(i);
        let d = [r[0] - m[0], r[1] - m[1]];
        for a in 0..2 {
            out.push(law.mean[a] + map[2 * a] * d[0] + map[2 * a + 1] * d[1]);
        }
    }
    Samples::new(out, 2).unwrap()
}

fn assert_moments(x: &Tensor<2>, law: &Gaussian, tol: f64, what: &str) {
    let s = Samples::from_tensor(x.clone()).unwrap();
    for (a, b) in s
        .mean()
        .iter()
        .zip(&law.mean)
        .chain(s.covariance().iter().zip(&law.cov))
    {
        assert!(
            (a - b).abs() < tol,
            "{what}: mean {:?} cov {:?} vs {law:?}",
            s.mean(),
            s.covariance()
        );
    }
}

#[test]
fn the_probability_flow_of_the_exact_score_maps_the_prior_onto_the_data() {
    let device = device();
    for sde in [
        ForwardSde::vp(),
        ForwardSde::sub_vp(),
        ForwardSde::ve(),
        ForwardSde::cosine(),
    ] {
        let oracle = GaussianScore { data: data(), sde };
        let start = exact_moments(&oracle.marginal(1.0).unwrap(), 1000, 3).to_tensor(&device);
        let t_end = 1e-4;
        let sol = probability_flow(
            &oracle,
            &sde,
            start,
            t_end,
            &ExplicitRk::dopri5(),
            &SolveOptions::adaptive(1e-7, 1e-7),
        )
        .unwrap();
        assert_moments(
            sol.last(),
            &oracle.marginal(t_end).unwrap(),
            2e-4,
            &format!("{sde:?} Dopri5"),
        );
    }
    let sde = ForwardSde::vp();
    let oracle = GaussianScore { data: data(), sde };
    let start = exact_moments(&oracle.marginal(1.0).unwrap(), 1000, 3).to_tensor(&device);
    let heun = probability_flow(
        &oracle,
        &sde,
        start.clone(),
        1e-3,
        &ExplicitRk::new(kiln_neural_de::Method::Heun),
        &SolveOptions::fixed(0.01),
    )
    .unwrap();
    assert_moments(heun.last(), &data(), 0.02, "VP Heun 100 steps");
    let x = ddim(&oracle, &sde, start, 200, 1e-3, 0.0, 0).unwrap();
    assert_moments(&x, &data(), 0.03, "VP DDIM 200 steps");
}

#[test]
fn ddim_on_a_discrete_schedule_with_the_exact_noise_recovers_the_data_law() {
    // Under ᾱ_k the law of x_k is N(√ᾱ_k μ, ᾱ_k Σ + (1 - ᾱ_k) I); the exact noise prediction
    // is ε(x, k) = s_k Σ_k⁻¹ (x - m_k μ).
    let device = device();
    let schedule = DdpmSchedule::linear(1000, 1e-4, 0.02).unwrap();
    let law = |k: usize| {
        let (m, s) = schedule.marginal(k);
        let d = data();
        Gaussian::new(
            d.mean.iter().map(|v| m * v).collect(),
            (0..4)
                .map(|i| m * m * d.cov[i] + if i % 3 == 0 { s * s } else { 0.0 })
                .collect(),
        )
        .unwrap()
    };
    let eps = |x: Tensor<2>, k: usize| {
        let g = law(k);
        let p = kiln_diffusion::linalg::inv_spd(&g.cov, 2).unwrap();
        let s = schedule.marginal(k).1;
        let p = Tensor::<2>::from_data(TensorData::new(p, [2, 2]), &x.device());
        let mean = Tensor::<2>::from_data(TensorData::new(g.mean, [1, 2]), &x.device());
        (x - mean).matmul(p).mul_scalar(s)
    };
    let start = exact_moments(&law(1000), 2000, 8).to_tensor(&device);
    let x = ddim_discrete(eps, &schedule, start.clone(), 100, 0.0, 0).unwrap();
    assert_moments(&x, &data(), 0.03, "discrete DDIM, 100 steps");
    let x = ddim_discrete(eps, &schedule, start, 1000, 1.0, 1).unwrap();
    assert_moments(&x, &data(), 0.08, "DDPM ancestral, 1000 steps");
    assert!(
        ddim_discrete(
            eps,
            &schedule,
            exact_moments(&data(), 4, 1).to_tensor(&device),
            0,
            0.0,
            0
        )
        .is_err()
    );
}

#[test]
fn stochastic_samplers_with_the_exact_score_sample_the_data_law() {
    let device = device();
    let sde = ForwardSde::vp();
    let oracle = GaussianScore { data: data(), sde };
    let n = 4000;
    let start = exact_moments(&Gaussian::standard(2), n, 5).to_tensor(&device);
    let x = reverse_sde(&oracle, &sde, start.clone(), 500, 1e-3, 1).unwrap();
    assert_moments(&x, &data(), 0.05, "reverse SDE");
    let x = predictor_corrector(
        &oracle,
        &sde,
        start.clone(),
        200,
        Langevin {
            steps: 1,
            snr: 0.16,
        },
        1e-3,
        2,
    )
    .unwrap();
    assert_moments(&x, &data(), 0.07, "predictor-corrector");
    let x = ddim(&oracle, &sde, start, 200, 1e-3, 1.0, 3).unwrap();
    assert_moments(&x, &data(), 0.07, "DDPM ancestral (eta = 1)");
}

#[test]
fn the_ode_likelihood_of_the_exact_score_is_the_gaussian_log_density() {
    let device = device();
    let sde = ForwardSde::vp();
    let oracle = GaussianScore { data: data(), sde };
    let x = data().sample(64, 9);
    let exact = data().log_density(&x).unwrap();
    let options = SolveOptions::adaptive(1e-7, 1e-7);
    let ll = log_likelihood(
        &oracle,
        &sde,
        x.to_tensor(&device),
        Divergence::Exact,
        1e-5,
        &ExplicitRk::dopri5(),
        &options,
    )
    .unwrap();
    // With the exact law of x₁ as prior the identity is exact up to the solver's tolerance;
    // the standard normal prior misses VP's residual mean m(1) μ ≈ 0.007 μ.
    let prior = oracle.marginal(1.0).unwrap().log_density(&ll.x1).unwrap();
    for ((delta, p1), b) in ll.delta_log_p.iter().zip(&prior).zip(&exact) {
        assert!((delta + p1 - b).abs() < 1e-4, "{} vs {b}", delta + p1);
    }
    for (a, b) in ll.log_p.iter().zip(&exact) {
        assert!((a - b).abs() < 2e-2, "{a} vs {b}");
    }
    let x = data().sample(1000, 10);
    let exact = data().log_density(&x).unwrap();
    let mean_exact = -exact.iter().sum::<f64>() / exact.len() as f64;
    let ll = log_likelihood(
        &oracle,
        &sde,
        x.to_tensor(&device),
        Divergence::Hutchinson { seed: 4 },
        1e-5,
        &ExplicitRk::dopri5(),
        &SolveOptions::adaptive(1e-5, 1e-5),
    )
    .unwrap();
    assert!(
        (ll.mean_nll() - mean_exact).abs() < 0.05,
        "{} vs {mean_exact}",
        ll.mean_nll()
    );
}

#[test]
fn score_jacobian_vector_products_match_finite_differences() {
    let device = device();
    let sde = ForwardSde::vp();
    let mut rng = Rng::new(12);
    let x = Tensor::<2>::from_data(
        TensorData::new((0..10).map(|_| rng.normal()).collect::<Vec<_>>(), [5, 2]),
        &device,
    );
    let w = Tensor::<2>::from_data(
        TensorData::new((0..10).map(|_| rng.normal()).collect::<Vec<_>>(), [5, 2]),
        &device,
    );
    let h = 1e-5;
    let check = |model: &dyn ScoreModel, what: &str| {
        let (s, jw) = model.score_jvp(x.clone(), 0.4, w.clone());
        let fd = (model.score(x.clone() + w.clone().mul_scalar(h), 0.4)
            - model.score(x.clone() - w.clone().mul_scalar(h), 0.4))
        .mul_scalar(0.5 / h);
        let err = to_f64_vec((jw - fd).abs().max());
        let s_err = to_f64_vec((s - model.score(x.clone(), 0.4)).abs().max());
        assert!(
            err[0] < 1e-6 && s_err[0] < 1e-12,
            "{what}: {err:?} {s_err:?}"
        );
    };
    let net = TimeMlpConfig::new(2)
        .with_hidden(vec![16, 16])
        .init(&device)
        .unwrap();
    for prediction in [
        Prediction::Epsilon,
        Prediction::Score,
        Prediction::V,
        Prediction::X0,
    ] {
        check(
            &ScoreNet {
                model: &net,
                prediction,
                sde,
            },
            &format!("{prediction:?}"),
        );
    }
    let conditional = TimeMlpConfig::new(2)
        .with_hidden(vec![16])
        .with_conditions(3)
        .init(&device)
        .unwrap();
    let condition = Tensor::<2>::from_data(
        TensorData::new((0..15).map(|_| rng.normal()).collect::<Vec<_>>(), [5, 3]),
        &device,
    );
    check(
        &Guided {
            model: &conditional,
            prediction: Prediction::Epsilon,
            sde,
            condition,
            scale: 2.0,
        },
        "guided",
    );
    check(&GaussianScore { data: data(), sde }, "Gaussian oracle");
}

#[test]
fn edm_targets_have_unit_variance_and_vanish_in_the_mean_for_gaussian_data() {
    // For data N(0, σ_d² I) the ideal denoiser is c_skip x, so F's ideal output is 0 and the
    // effective target (x₀ - c_skip x)/c_out has unit variance at every σ.
    let device = device();
    let sd = 0.7;
    let edm = EdmPrecond::new(sd);
    let x0 = Gaussian::isotropic(vec![0.0, 0.0], sd)
        .unwrap()
        .sample(40_000, 1);
    let batch = edm.batch(&x0, &mut Rng::new(2), &device).unwrap();
    let (input, target) = (to_f64_vec(batch.xt), to_f64_vec(batch.target));
    let n = input.len() as f64;
    let cov: f64 = input.iter().zip(&target).map(|(a, b)| a * b).sum::<f64>() / n;
    let var: f64 = target.iter().map(|b| b * b).sum::<f64>() / n;
    assert!(cov.abs() < 0.02, "target correlates with the input: {cov}");
    assert!((var - 1.0).abs() < 0.03, "target variance {var}");
    assert!(
        to_f64_vec(batch.weight)
            .iter()
            .all(|w| (w - 1.0).abs() < 1e-9)
    );
}

#[test]
fn edm_heun_on_the_karras_grid_with_the_exact_denoiser_recovers_gaussian_data() {
    // x = x₀ + σ ε with x₀ ~ N(μ, Σ): D(x; σ) = μ + Σ (Σ + σ² I)⁻¹ (x - μ).
    let device = device();
    let law = data();
    let denoiser = |x: Tensor<2>, sigma: f64| {
        let cov: Vec<f64> = (0..4)
            .map(|i| law.cov[i] + if i % 3 == 0 { sigma * sigma } else { 0.0 })
            .collect();
        let gain = matmul(
            &law.cov,
            &kiln_diffusion::linalg::inv_spd(&cov, 2).unwrap(),
            2,
            2,
            2,
        );
        let gain_t = Tensor::<2>::from_data(
            TensorData::new(kiln_diffusion::linalg::transpose(&gain, 2, 2), [2, 2]),
            &x.device(),
        );
        let mean = Tensor::<2>::from_data(TensorData::new(law.mean.clone(), [1, 2]), &x.device());
        (x - mean.clone()).matmul(gain_t) + mean
    };
    let (smin, smax) = (0.002, 80.0);
    let start_law = Gaussian::new(
        law.mean.clone(),
        (0..4)
            .map(|i| law.cov[i] + if i % 3 == 0 { smax * smax } else { 0.0 })
            .collect(),
    )
    .unwrap();
    let start = exact_moments(&start_law, 2000, 4).to_tensor(&device);
    let heun = ExplicitRk::new(kiln_neural_de::Method::Heun);
    let x = edm_sample(denoiser, start.clone(), (smin, smax), 7.0, 128, &heun).unwrap();
    assert_moments(&x, &law, 0.01, "EDM Heun, 128 levels");
    assert!(edm_sample(denoiser, start, (1.0, 0.5), 7.0, 32, &heun).is_err());
}

#[test]
fn the_ideal_denoiser_is_a_hopfield_retrieval_with_beta_one_over_sigma_squared() {
    let device = device();
    let mut rng = Rng::new(21);
    let (n, d) = (12, 16);
    let patterns: Vec<f64> = (0..n * d).map(|_| f64::from(rng.sign())).collect();
    let stored = Tensor::<2>::from_data(TensorData::new(patterns.clone(), [n, d]), &device);
    for sigma in [0.5, 2.0, 4.0] {
        let queries: Vec<f64> = (0..6 * d)
            .map(|k| patterns[k % (n * d)] + sigma * rng.normal())
            .collect();
        let x = Tensor::<2>::from_data(TensorData::new(queries, [6, d]), &device);
        let denoised = ideal_denoiser(&stored, &x, sigma).unwrap();
        let hopfield = retrieve(&stored, &x, 1.0 / (sigma * sigma), Steps::Fixed(1))
            .unwrap()
            .states;
        let err = to_f64_vec((denoised - hopfield).abs().max())[0];
        assert!(err < 1e-9, "σ = {sigma}: {err}");
    }
    assert!(ideal_denoiser(&stored, &stored, 0.0).is_err());
}
