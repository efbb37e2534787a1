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
use kiln_core::metrics::relative_l2_values;
use kiln_core::plot::{LinePlot, Series};
use kiln_core::report::DemoReport;
use kiln_core::tensor::{from_f64, to_f64_vec};
use kiln_core::train::{Loss, OptimizerConfig, Schedule, TrainOutcome, TrainerConfig};
use kiln_core::{Activation, BackendKind, Mlp, MlpConfig, SecondOrder};

/// Training points on [0, 2]: few enough that the values alone leave the slope open between them.
const TRAIN_POINTS: usize = 16;

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

fn main() -> kiln_core::Result<()> {
    let backend = BackendKind::from_env()?;
    let device = kiln_core::autodiff_device(backend)?;
    let mut report = DemoReport::new(
        "fit-derivative",
        "An MLP fits a function and its derivative",
        backend.name(),
    )?;

    let train_x: Vec<f64> = (0..TRAIN_POINTS)
        .map(|i| 2.0 * i as f64 / (TRAIN_POINTS - 1) as f64)
        .collect();
    let x = from_f64(&train_x, [train_x.len(), 1], &device)?;
    let u_true = column(&train_x, f, &device)?;
    let du_true = column(&train_x, df, &device)?;
    let derivative_weight = 1.0 / (4.0 * PI * PI);

    // The same network, seed and schedule, trained with and without the derivative term.
    let train = |sobolev: bool, dir: &str| -> kiln_core::Result<TrainOutcome<Mlp>> {
        device.seed(2024);
        let model: Mlp = MlpConfig::new(vec![1, 32, 32, 32, 1])
            .with_activation(Activation::Tanh)
            .init(&device)?;
        let config = TrainerConfig::new(4000, 3e-3)
            .with_optimizer(OptimizerConfig::adam())
            .with_schedule(Schedule::Cosine { min_lr: 1e-5 })
            .with_seed(7)
            .with_log_every(1000);
        let trainer = config
            .init()?
            .with_label(dir)
            .with_output_dir(report.path(dir));
        trainer.fit(model, &device, |m: &Mlp, _| {
            let jet = m.forward_jet(x.clone(), SecondOrder::None);
            let value = kiln_core::metrics::mse(jet.value(), u_true.clone())?;
            let slope = kiln_core::metrics::mse(jet.d(0), du_true.clone())?;
            let total = if sobolev {
                value.clone() + slope.clone().mul_scalar(derivative_weight)
            } else {
                value.clone()
            };
            Ok(Loss::new(total)
                .with_term("u", value)
                .with_term("u_x", slope))
        })
    };
    let outcome = train(true, "run-sobolev")?;
    let baseline = train(false, "run-value-only")?;

    // Evaluate on a finer grid than the training points, without autodiff.
    let plain = device.clone().without_autodiff();
    let test_x: Vec<f64> = (0..1001).map(|i| 2.0 * i as f64 / 1000.0).collect();
    let test = from_f64(&test_x, [test_x.len(), 1], &plain)?;
    let evaluate = |model: &Mlp| {
        let jet = model
            .valid()
            .forward_jet(test.clone(), SecondOrder::Diagonal);
        let d2u = to_f64_vec(jet.d2(0, 0).expect("diagonal jet carries u_xx"));
        (to_f64_vec(jet.value()), to_f64_vec(jet.d(0)), d2u)
    };
    let (u, du, d2u) = evaluate(&outcome.model);
    let (u_b, du_b, d2u_b) = evaluate(&baseline.model);
    let truth = |g: fn(f64) -> f64| test_x.iter().map(|&x| g(x)).collect::<Vec<_>>();
    let (u_t, du_t, d2u_t) = (truth(f), truth(df), truth(d2f));

    let (dx, dxx) = (
        relative_l2_values(&du, &du_t)?,
        relative_l2_values(&d2u, &d2u_t)?,
    );
    let base_dx = relative_l2_values(&du_b, &du_t)?;
    let base_dxx = relative_l2_values(&d2u_b, &d2u_t)?;
    report.metric("rel_l2_u", relative_l2_values(&u, &u_t)?);
    report.metric("rel_l2_u_x", dx);
    report.metric("rel_l2_u_xx_unsupervised", dxx);
    report.metric("value_only_rel_l2_u", relative_l2_values(&u_b, &u_t)?);
    report.metric("value_only_rel_l2_u_x", base_dx);
    report.metric("value_only_rel_l2_u_xx", base_dxx);
    report.metric("final_loss", outcome.final_loss());
    report.metric("steps", outcome.steps as f64);
    report.metric("train_seconds", outcome.elapsed_s);
    report.summary(format!(
        "A 1-32-32-32-1 tanh MLP is trained for {steps} Adam steps (cosine schedule) on \
         {TRAIN_POINTS} points of f(x) = sin(2πx)·e^(−x) on [0, 2], with a loss on both u and u_x \
         (Sobolev training); u_x comes from a first-order jet and burn's reverse mode \
         differentiates through it. Errors are relative L2 on 1001 test points. u_xx is in neither \
         loss: its error shows how the fit generalises one order further. The `value_only_*` \
         metrics come from the same network, seed and schedule trained on u alone. With so few \
         points the derivative term lowers the u_x error from {base_dx:.2e} to {dx:.2e} and the \
         u_xx error from {base_dxx:.2e} to {dxx:.2e}.",
        steps = outcome.steps,
    ));

    let pairs = |ys: &[f64]| {
        test_x
            .iter()
            .copied()
            .zip(ys.iter().copied())
            .collect::<Vec<_>>()
    };
    let sparse = |ys: &[f64]| pairs(ys).into_iter().step_by(40).collect::<Vec<_>>();
    // (file, title, y label, [trained on u and u_x, trained on u only, truth])
    let panels: [(&str, &str, &str, [&[f64]; 3]); 3] = [
        ("u.png", "u(x): networks vs truth", "u", [&u, &u_b, &u_t]),
        (
            "u_x.png",
            "u_x(x) from jets vs truth",
            "u_x",
            [&du, &du_b, &du_t],
        ),
        (
            "u_xx.png",
            "u_xx(x), never supervised, from jets",
            "u_xx",
            [&d2u, &d2u_b, &d2u_t],
        ),
    ];
    for (file, title, label, [pred, base, truth]) in panels {
        LinePlot::new(title, "x", label)
            .with(Series::line("trained on u and u_x", pairs(pred)))
            .with(Series::line("trained on u only", pairs(base)))
            .with(Series::markers("truth", sparse(truth)))
            .save(report.path(file), (800, 480))?;
        report.plot(file, title);
    }
    LinePlot::new("training loss", "step", "loss")
        .log_y()
        .with(Series::loss_curve("u and u_x", &outcome.losses))
        .with(Series::loss_curve("u only", &baseline.losses))
        .save(report.path("loss.png"), (800, 480))?;
    report.plot("loss.png", "training loss (log scale)");
    report.finish()
}
