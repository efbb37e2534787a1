//! Solver behaviour beyond convergence orders: reversibility, gradients, saving, noise shapes
//! and errors.

use super::*;

#[test]
fn reversible_heun_runs_backwards_to_the_initial_state() {
    let device = device();
    let tree = VirtualBrownianTree::new((0.0, 1.0), [6, 2], 4, 1.0 / 1024.0).unwrap();
    // Diagonal, state-dependent noise and a time-dependent drift.
    let term = SdeTerm::stratonovich(
        |t: &Time, y: &Tensor<2>| y.clone().sin().mul_scalar(1.0 + t.shared().unwrap()),
        DiagonalNoise::new(|_t: &Time, y: &Tensor<2>| y.clone().cos().mul_scalar(0.5)),
    );
    let y0 = Tensor::<2>::from_data(
        TensorData::new(
            (0..12).map(|k| 0.3 * k as f64 - 1.0).collect::<Vec<_>>(),
            [6, 2],
        ),
        &device,
    );
    let options = SdeOptions::fixed(1.0 / 200.0).save_at(SaveAt::Steps);
    let (forward, state) = sde::solve_with_state(
        &term,
        &ReversibleHeun,
        (0.0, 1.0),
        y0.clone(),
        None,
        &tree,
        &options,
    )
    .unwrap();
    let (backward, _) = sde::solve_with_state(
        &term,
        &ReversibleHeun,
        (1.0, 0.0),
        forward.last().clone(),
        Some(state),
        &tree,
        &options,
    )
    .unwrap();
    assert_eq!(forward.ts.len(), 201);
    let mut worst: f64 = 0.0;
    for (k, (t, y)) in backward.ts.iter().zip(&backward.ys).enumerate() {
        let j = forward.ts.len() - 1 - k;
        assert_eq!(*t, forward.ts[j], "grid times must coincide");
        for (a, b) in host(y).iter().zip(host(&forward.ys[j])) {
            worst = worst.max((a - b).abs());
        }
    }
    println!("reversible Heun: worst reconstruction error {worst:.2e}");
    assert!(worst < 1e-10, "reconstruction error {worst}");
    // The forward solve moved the state: the test is not vacuous.
    let moved = host(forward.last())
        .iter()
        .zip(host(&y0))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(moved > 0.1, "moved {moved}");
    // Starting the backward solve without the auxiliary state does not reconstruct y0.
    let plain = sde::solve(
        &term,
        &ReversibleHeun,
        (1.0, 0.0),
        forward.last().clone(),
        &tree,
        &options,
    )
    .unwrap();
    let off = host(plain.last())
        .iter()
        .zip(host(&y0))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        off > 1e-6,
        "a plain backward solve is only approximately reversible: {off}"
    );
}

#[test]
fn gradients_through_the_solve_match_finite_differences() {
    let plain = device();
    let ad = plain.clone().autodiff();
    let tree = VirtualBrownianTree::new((0.0, 1.0), [16, 1], 6, 1.0 / 64.0).unwrap();
    let loss_at = |mu: Tensor<2>, sigma: Tensor<2>, device: &Device| {
        let term = SdeTerm::stratonovich(
            move |_t: &Time, y: &Tensor<2>| y.clone().mul(mu.clone()),
            DiagonalNoise::new(move |_t: &Time, y: &Tensor<2>| y.clone().sin().mul(sigma.clone())),
        );
        let y0 = Tensor::<2>::ones([16, 1], device).mul_scalar(0.7);
        let sol = sde::solve(
            &term,
            &Heun,
            (0.0, 1.0),
            y0,
            &tree,
            &SdeOptions::fixed(1.0 / 64.0),
        )
        .unwrap();
        sol.last().clone().square().mean()
    };
    let scalar =
        |v: f64, device: &Device| Tensor::<2>::from_data(TensorData::new(vec![v], [1, 1]), device);
    let (mu, sigma) = (0.3, 0.8);
    let mu_ad = scalar(mu, &ad).require_grad();
    let sigma_ad = scalar(sigma, &ad).require_grad();
    let loss = loss_at(mu_ad.clone(), sigma_ad.clone(), &ad);
    let grads = loss.backward();
    let d_mu = mu_ad.grad(&grads).unwrap().into_scalar::<f64>();
    let d_sigma = sigma_ad.grad(&grads).unwrap().into_scalar::<f64>();
    let eps = 1e-5;
    let value =
        |m: f64, s: f64| loss_at(scalar(m, &plain), scalar(s, &plain), &plain).into_scalar::<f64>();
    let fd_mu = (value(mu + eps, sigma) - value(mu - eps, sigma)) / (2.0 * eps);
    let fd_sigma = (value(mu, sigma + eps) - value(mu, sigma - eps)) / (2.0 * eps);
    println!("gradients: dμ {d_mu:.10} (fd {fd_mu:.10}), dσ {d_sigma:.10} (fd {fd_sigma:.10})");
    assert!((d_mu - fd_mu).abs() < 1e-7 * fd_mu.abs().max(1.0));
    assert!((d_sigma - fd_sigma).abs() < 1e-7 * fd_sigma.abs().max(1.0));
    assert!(d_sigma.abs() > 1e-3, "the noise must matter: {d_sigma}");
}

/// Milstein's finite-difference g ∂g/∂y agrees with the closed form on a nonlinear diffusion.
#[test]
fn milstein_finite_differences_match_the_closed_form_derivative() {
    let device = device();
    let tree = VirtualBrownianTree::new((0.0, 1.0), [8, 3], 17, 1.0 / 64.0).unwrap();
    let drift = |_t: &Time, y: &Tensor<2>| y.clone().neg();
    let g = |t: &Time, y: &Tensor<2>| y.clone().sin().mul_scalar(1.0 + t.shared().unwrap());
    let dg = |t: &Time, y: &Tensor<2>| y.clone().cos().mul_scalar(1.0 + t.shared().unwrap());
    let y0 = Tensor::<2>::ones([8, 3], &device).mul_scalar(0.8);
    let options = SdeOptions::fixed(1.0 / 64.0);
    let fd = SdeTerm::ito(drift, DiagonalNoise::new(g));
    let exact = SdeTerm::ito(drift, DiagonalNoise::new(g).with_derivative(dg));
    let a = sde::solve(
        &fd,
        &Milstein::new(),
        (0.0, 1.0),
        y0.clone(),
        &tree,
        &options,
    )
    .unwrap();
    let b = sde::solve(
        &exact,
        &Milstein::new(),
        (0.0, 1.0),
        y0.clone(),
        &tree,
        &options,
    )
    .unwrap();
    let em = sde::solve(&exact, &EulerMaruyama, (0.0, 1.0), y0, &tree, &options).unwrap();
    let diff = |x: &Tensor<2>, y: &Tensor<2>| {
        host(x)
            .iter()
            .zip(host(y))
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f64::max)
    };
    assert!(
        diff(a.last(), b.last()) < 1e-9,
        "{}",
        diff(a.last(), b.last())
    );
    // The correction term is not negligible, so the comparison above tests it.
    assert!(
        diff(b.last(), em.last()) > 1e-2,
        "{}",
        diff(b.last(), em.last())
    );
    // Finite differences cost two diffusion evaluations per step, the closed form one.
    assert_eq!(a.stats.nfe, b.stats.nfe + 64);
}

#[test]
fn save_at_steps_times_and_t1_agree() {
    let device = device();
    let tree = VirtualBrownianTree::new((0.0, 1.0), [3, 1], 31, 1.0 / 256.0).unwrap();
    let term = SdeTerm::ito(
        |_t: &Time, y: &Tensor<2>| y.clone().neg(),
        DiagonalNoise::new(|_t: &Time, y: &Tensor<2>| y.clone().mul_scalar(0.3)),
    );
    let y0 = || Tensor::<2>::ones([3, 1], &device);
    let run = |options: SdeOptions| {
        sde::solve(&term, &Milstein::new(), (0.0, 1.0), y0(), &tree, &options).unwrap()
    };
    let steps = run(SdeOptions::fixed(0.1).save_at(SaveAt::Steps));
    assert_eq!(steps.ts.len(), 11);
    assert_eq!(steps.ts[0], 0.0);
    assert_eq!(*steps.ts.last().unwrap(), 1.0);
    let last = run(SdeOptions::fixed(0.1));
    assert_eq!(last.ts, vec![1.0]);
    assert_eq!(host(last.last()), host(steps.last()));
    let times = run(SdeOptions::fixed(0.1).save_times(vec![0.0, 0.3, 0.35, 1.0]));
    assert_eq!(times.ts, vec![0.0, 0.3, 0.35, 1.0]);
    assert_eq!(host(&times.ys[0]), host(&steps.ys[0]));
    let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-14);
    assert!(close(&host(&times.ys[1]), &host(&steps.ys[3])));
    let (a, b) = (host(&steps.ys[3]), host(&steps.ys[4]));
    let mid: Vec<f64> = a.iter().zip(&b).map(|(x, y)| 0.5 * (x + y)).collect();
    assert!(
        close(&host(&times.ys[2]), &mid),
        "linear interpolation between grid points"
    );
    assert!(close(&host(&times.ys[3]), &host(steps.last())));
}

#[test]
fn general_noise_matches_diagonal_noise_and_sums_brownian_motions() {
    let device = device();
    let tree = VirtualBrownianTree::new((0.0, 1.0), [4, 2], 13, 1.0 / 128.0).unwrap();
    let y0 = Tensor::<2>::from_data(
        TensorData::new(vec![1.0, 0.5, -0.2, 2.0, 0.1, 0.0, 1.5, -1.0], [4, 2]),
        &device,
    );
    let drift = |_t: &Time, y: &Tensor<2>| y.clone().cos();
    let diagonal = SdeTerm::stratonovich(
        drift,
        DiagonalNoise::new(|_t: &Time, y: &Tensor<2>| y.clone().mul_scalar(0.4).tanh()),
    );
    // The same diffusion as a [batch, 2, 2] diagonal matrix.
    let general = SdeTerm::stratonovich(
        drift,
        GeneralNoise::new(|_t: &Time, y: &Tensor<2>| {
            let g = y.clone().mul_scalar(0.4).tanh();
            let eye = Tensor::<2>::from_data(
                TensorData::new(vec![1.0, 0.0, 0.0, 1.0], [2, 2]),
                &y.device(),
            );
            let g3: Tensor<3> = g.unsqueeze_dim(2);
            g3.mul(eye.unsqueeze_dim(0))
        }),
    );
    let options = SdeOptions::fixed(1.0 / 32.0);
    let a = sde::solve(&diagonal, &Heun, (0.0, 1.0), y0.clone(), &tree, &options).unwrap();
    let b = sde::solve(&general, &Heun, (0.0, 1.0), y0, &tree, &options).unwrap();
    for (x, y) in host(a.last()).iter().zip(host(b.last())) {
        assert!((x - y).abs() < 1e-13, "{x} vs {y}");
    }
    // dy = 0.3 dW₁ - 0.7 dW₂ (n = 1, m = 2) is exact for Euler-Maruyama.
    let sum = SdeTerm::ito(
        |_t: &Time, y: &Tensor<2>| y.zeros_like(),
        GeneralNoise::new(|_t: &Time, y: &Tensor<2>| {
            Tensor::<3>::from_data(TensorData::new(vec![0.3, -0.7], [1, 1, 2]), &y.device())
                .repeat_dim(0, y.dims()[0])
        }),
    );
    let y0 = Tensor::<2>::zeros([4, 1], &device);
    let c = sde::solve(&sum, &EulerMaruyama, (0.0, 1.0), y0, &tree, &options).unwrap();
    let w = tree.value(1.0).unwrap();
    for (i, y) in host(c.last()).iter().enumerate() {
        let exact = 0.3 * w[2 * i] - 0.7 * w[2 * i + 1];
        assert!((y - exact).abs() < 1e-13, "{y} vs {exact}");
    }
}

fn unsupported(result: Result<kiln_neural_de::Solution<2>, Error>) -> String {
    match result {
        Err(e @ Error::Unsupported { .. }) => e.to_string(),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn invalid_combinations_and_options_are_errors() {
    let device = device();
    let tree = VirtualBrownianTree::new((0.0, 1.0), [2, 1], 1, 1e-3).unwrap();
    let y0 = || Tensor::<2>::ones([2, 1], &device);
    let strat = SdeTerm::stratonovich(
        |_t: &Time, y: &Tensor<2>| y.clone(),
        DiagonalNoise::new(|_t: &Time, y: &Tensor<2>| y.clone()),
    );
    let options = SdeOptions::fixed(0.1);
    let message = unsupported(sde::solve(
        &strat,
        &EulerMaruyama,
        (0.0, 1.0),
        y0(),
        &tree,
        &options,
    ));
    assert!(message.contains("Stratonovich"), "{message}");
    let ito = SdeTerm::ito(
        |_t: &Time, y: &Tensor<2>| y.clone(),
        DiagonalNoise::new(|_t: &Time, y: &Tensor<2>| y.clone()),
    );
    unsupported(sde::solve(&ito, &Heun, (0.0, 1.0), y0(), &tree, &options));
    unsupported(sde::solve(
        &ito,
        &ReversibleHeun,
        (0.0, 1.0),
        y0(),
        &tree,
        &options,
    ));
    unsupported(sde::solve(&ito, &Sra1, (0.0, 1.0), y0(), &tree, &options));
    // Declared additive but g depends on y: caught at the start.
    let lying = SdeTerm::ito(
        |_t: &Time, y: &Tensor<2>| y.clone(),
        DiagonalNoise::new(|_t: &Time, y: &Tensor<2>| y.clone()),
    )
    .with_additive_noise();
    let message = unsupported(sde::solve(&lying, &Sra1, (0.0, 1.0), y0(), &tree, &options));
    assert!(message.contains("depends on y"), "{message}");

    let invalid = |r: Result<kiln_neural_de::Solution<2>, Error>, field: &str| match r {
        Err(Error::InvalidOption { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected InvalidOption({field}), got {other:?}"),
    };
    invalid(
        sde::solve(
            &ito,
            &EulerMaruyama,
            (0.0, 1.0),
            y0(),
            &tree,
            &SdeOptions::fixed(0.0),
        ),
        "dt",
    );
    invalid(
        sde::solve(&ito, &EulerMaruyama, (0.0, 2.0), y0(), &tree, &options),
        "brownian",
    );
    invalid(
        sde::solve(
            &ito,
            &EulerMaruyama,
            (0.0, 1.0),
            y0(),
            &tree,
            &SdeOptions::fixed(1e-3).max_steps(10),
        ),
        "dt",
    );
    invalid(
        sde::solve(
            &ito,
            &EulerMaruyama,
            (0.0, 1.0),
            y0(),
            &tree,
            &options.clone().save_times(vec![0.5, 0.2]),
        ),
        "save_at",
    );
    invalid(
        VirtualBrownianTree::new((1.0, 0.0), [2, 1], 1, 1e-3).map(|_| unreachable!()),
        "t_span",
    );
    invalid(
        VirtualBrownianTree::new((0.0, 1.0), [2, 1], 1, 0.0).map(|_| unreachable!()),
        "tol",
    );
    assert!(matches!(
        tree.increment(0.5, 1.5),
        Err(Error::InvalidOption { .. })
    ));
    let wrong_batch = VirtualBrownianTree::new((0.0, 1.0), [3, 1], 1, 1e-3).unwrap();
    assert!(matches!(
        sde::solve(
            &ito,
            &EulerMaruyama,
            (0.0, 1.0),
            y0(),
            &wrong_batch,
            &options
        ),
        Err(Error::ShapeMismatch { .. })
    ));
    let wrong_m = VirtualBrownianTree::new((0.0, 1.0), [2, 2], 1, 1e-3).unwrap();
    assert!(matches!(
        sde::solve(&ito, &EulerMaruyama, (0.0, 1.0), y0(), &wrong_m, &options),
        Err(Error::ShapeMismatch { .. })
    ));
    // dy = y² dt blows up at t = 1 from y0 = 1.
    let blowup = SdeTerm::ito(
        |_t: &Time, y: &Tensor<2>| y.clone().square(),
        DiagonalNoise::new(|_t: &Time, y: &Tensor<2>| y.zeros_like()),
    );
    let long = VirtualBrownianTree::new((0.0, 5.0), [2, 1], 1, 1e-2).unwrap();
    match sde::solve(&blowup, &EulerMaruyama, (0.0, 5.0), y0(), &long, &options) {
        Err(Error::NonFinite { t }) => assert!(t > 1.0 && t < 5.0, "t = {t}"),
        other => panic!("expected NonFinite, got {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Reversible Heun reconstructs the start from its final state for any small linear SDE.
    #[test]
    fn reversible_heun_is_reversible(seed in 0u64..1000, n in 1usize..=4, a in -2.0f64..1.0,
                                    s in 0.0f64..1.0, steps in 1usize..=40) {
        let device = device();
        let tree = VirtualBrownianTree::new((0.0, 1.0), [2, n], seed, 1.0 / 64.0).unwrap();
        let term = SdeTerm::stratonovich(
            move |_t: &Time, y: &Tensor<2>| y.clone().mul_scalar(a),
            DiagonalNoise::new(move |_t: &Time, y: &Tensor<2>| y.clone().mul_scalar(s)),
        );
        let y0 = Tensor::<2>::ones([2, n], &device);
        let options = SdeOptions::fixed(1.0 / steps as f64);
        let (fwd, state) = sde::solve_with_state(&term, &ReversibleHeun, (0.0, 1.0), y0, None, &tree, &options).unwrap();
        let (bwd, _) = sde::solve_with_state(&term, &ReversibleHeun, (1.0, 0.0), fwd.last().clone(), Some(state), &tree, &options).unwrap();
        for y in host(bwd.last()) {
            prop_assert!((y - 1.0).abs() < 1e-10, "reconstructed {}", y);
        }
    }
}
