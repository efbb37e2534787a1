//! Demo: fit f(x) = sin(2πx)·e^(−x) and its derivative with an MLP (Sobolev training).
//!
//! The loss compares both u and u_x with the truth; u_x comes from a jet, and burn's
//! reverse-mode autodiff differentiates the loss through it. The network's second derivative
//! u_xx is never supervised and is reported as a check of how smooth the fit is.
//!
//! Run with `cargo xtask demo fit-derivative` (or `cargo run --release -p kiln-core --example
//! demo_fit_derivative`); `KILN_BACKEND` picks the backend.

use std::f64::consts::PI;

use burn::module::Module;
use burn::tensor::Tensor;
use kiln_core::plot::{LinePlot, Series};
use kiln_core::report::DemoReport;
use kiln_core::tensor::{from_f64, to_f64_vec};
use kiln_core::train::{OptimizerConfig, Schedule, TrainerConfig};
use kiln_core::{Activation, BackendKind, Mlp, MlpConfig, SecondOrder};

fn f(x: f64) -> f64 {
    (2.0 * PI * x).sin() * (-x).exp()
}

fn df(x: f64) -> f64 {
    (-x).exp() * (2.0 * PI * (2.0 * PI * x).cos() - (2.0 * PI * x).sin())
}

fn d2f(x: f64) -> f64 {
    let w = 2.0 * PI;
    (-x).exp() * ((1.0 - w * w) * (w * x).sin() - 2.0 * w * (w * x).cos())
}

fn column(
    xs: &[f64],
    g: fn(f64) -> f64,
    device: &burn::tensor::Device,
) -> kiln_core::Result<Tensor<2>> {
    from_f64(
        &xs.iter().map(|&x| g(x)).collect::<Vec<_>>(),
        [xs.len(), 1],
        device,
    )
}

fn rel_l2(pred: &[f64], truth: &[f64]) -> f64 {
    let num: f64 = pred.iter().zip(truth).map(|(p, t)| (p - t).powi(2)).sum();
    let den: f64 = truth.iter().map(|t| t * t).sum();
    (num / den).sqrt()
}

fn main() -> kiln_core::Result<()> {
    let backend = BackendKind::from_env()?;
    let device = kiln_core::autodiff_device(backend)?;
    device.seed(2024);
    let mut report = DemoReport::new(
        "fit-derivative",
        "An MLP fits a function and its derivative",
        backend.name(),
    )?;

    let model: Mlp = MlpConfig::new(vec![1, 32, 32, 32, 1])
        .with_activation(Activation::Tanh)
        .init(&device)?;
    let train_x: Vec<f64> = (0..200).map(|i| 2.0 * i as f64 / 199.0).collect();
    let x = from_f64(&train_x, [train_x.len(), 1], &device)?;
    let u_true = column(&train_x, f, &device)?;
    let du_true = column(&train_x, df, &device)?;
    let derivative_weight = 1.0 / (4.0 * PI * PI);

    let config = TrainerConfig::new(4000, 3e-3)
        .with_optimizer(OptimizerConfig::adam())
        .with_schedule(Schedule::Cosine { min_lr: 1e-5 })
        .with_seed(7)
        .with_log_every(500);
    let trainer = config
        .init()?
        .with_label("fit-derivative")
        .with_output_dir(report.path("run"));
    let outcome =
        trainer.fit(model, &device, |m: &Mlp, _| {
            let jet = m.forward_jet(x.clone(), SecondOrder::None);
            let value = kiln_core::metrics::mse(jet.value(), u_true.clone())?;
            let slope = kiln_core::metrics::mse(jet.d(0), du_true.clone())?;
            Ok(kiln_core::train::Loss::new(
                value.clone() + slope.clone().mul_scalar(derivative_weight),
            )
            .with_term("u", value)
            .with_term("u_x", slope))
        })?;

    // Evaluate on a finer grid than the training points, without autodiff.
    let model = outcome.model.valid();
    let plain = device.clone().without_autodiff();
    let test_x: Vec<f64> = (0..1001).map(|i| 2.0 * i as f64 / 1000.0).collect();
    let jet = model.forward_jet(
        from_f64(&test_x, [test_x.len(), 1], &plain)?,
        SecondOrder::Diagonal,
    );
    let u = to_f64_vec(jet.value());
    let du = to_f64_vec(jet.d(0));
    let d2u = to_f64_vec(jet.d2(0, 0).expect("diagonal jet carries u_xx"));
    let truth = |g: fn(f64) -> f64| test_x.iter().map(|&x| g(x)).collect::<Vec<_>>();
    let (u_t, du_t, d2u_t) = (truth(f), truth(df), truth(d2f));

    report.metric("rel_l2_u", rel_l2(&u, &u_t));
    report.metric("rel_l2_u_x", rel_l2(&du, &du_t));
    report.metric("rel_l2_u_xx_unsupervised", rel_l2(&d2u, &d2u_t));
    report.metric("final_loss", outcome.final_loss());
    report.metric("steps", outcome.steps as f64);
    report.metric("train_seconds", outcome.elapsed_s);
    report.summary(format!(
        "A 1-32-32-32-1 tanh MLP is trained for {} Adam steps (cosine schedule) on 200 points of \
         f(x) = sin(2πx)·e^(−x) on [0, 2], with a loss on both u and u_x; u_x comes from a first-order \
         jet. Errors are relative L2 on 1001 test points. u_xx is not in the loss: its error shows \
         how well the derivative fit generalises one order further.",
        outcome.steps
    ));

    let pairs = |ys: &[f64]| {
        test_x
            .iter()
            .copied()
            .zip(ys.iter().copied())
            .collect::<Vec<_>>()
    };
    let sparse = |ys: &[f64]| pairs(ys).into_iter().step_by(40).collect::<Vec<_>>();
    for (file, title, label, pred, truth) in [
        ("u.png", "u(x): network vs truth", "u", &u, &u_t),
        (
            "u_x.png",
            "u_x(x): network (jet) vs truth",
            "u_x",
            &du,
            &du_t,
        ),
        (
            "u_xx.png",
            "u_xx(x), never supervised: network (jet) vs truth",
            "u_xx",
            &d2u,
            &d2u_t,
        ),
    ] {
        LinePlot::new(title, "x", label)
            .with(Series::line("network", pairs(pred)))
            .with(Series::markers("truth", sparse(truth)))
            .save(report.path(file), (800, 480))?;
        report.plot(file, title);
    }
    LinePlot::new("training loss", "step", "loss")
        .log_y()
        .with(Series::line(
            "loss",
            outcome
                .losses
                .iter()
                .enumerate()
                .map(|(i, &l)| ((i + 1) as f64, l))
                .collect(),
        ))
        .save(report.path("loss.png"), (800, 480))?;
    report.plot("loss.png", "training loss (log scale)");
    report.finish()
}
