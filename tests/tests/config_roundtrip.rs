//! Configurations round-trip through JSON unchanged, so saved experiment configs reload exactly.

use kiln_core::jet::FourierFeaturesConfig;
use kiln_core::train::{OptimizerConfig, ProgressMode, Schedule, TrainerConfig};
use kiln_core::{Activation, MlpConfig};
use proptest::prelude::*;

fn optimizer() -> impl Strategy<Value = OptimizerConfig> {
    prop_oneof![
        (0.0..1.0f64, 0.0..1.0f64, 1e-12..1e-3f64, 0.0..1.0f64).prop_map(
            |(beta1, beta2, eps, weight_decay)| {
                OptimizerConfig::Adam {
                    beta1,
                    beta2,
                    eps,
                    weight_decay,
                }
            }
        ),
        (0.0..1.0f64, 0.0..1.0f64, 1e-12..1e-3f64, 0.0..1.0f64).prop_map(
            |(beta1, beta2, eps, weight_decay)| {
                OptimizerConfig::AdamW {
                    beta1,
                    beta2,
                    eps,
                    weight_decay,
                }
            }
        ),
        (0.0..1.0f64, 1e-12..1e-3f64, 0.0..1.0f64).prop_map(|(alpha, eps, momentum)| {
            OptimizerConfig::RmsProp {
                alpha,
                eps,
                momentum,
            }
        }),
        (
            1usize..100,
            1usize..200,
            any::<bool>(),
            0.0..1e-3f64,
            0.0..1e-3f64
        )
            .prop_map(
                |(max_iter, history, strong_wolfe, tolerance_grad, tolerance_change)| {
                    OptimizerConfig::Lbfgs {
                        max_iter,
                        history,
                        strong_wolfe,
                        tolerance_grad,
                        tolerance_change,
                    }
                }
            ),
    ]
}

fn schedule() -> impl Strategy<Value = Schedule> {
    prop_oneof![
        Just(Schedule::Constant),
        (0.01..1.0f64, 1usize..10_000)
            .prop_map(|(gamma, every)| Schedule::Exponential { gamma, every }),
        (0.0..1e-3f64).prop_map(|min_lr| Schedule::Cosine { min_lr }),
        (0.01..1.0f64, 1usize..10_000).prop_map(|(gamma, every)| Schedule::Step { gamma, every }),
    ]
}

proptest! {
    #[test]
    fn trainer_config_round_trips(
        steps in 1usize..1_000_000,
        lr in 1e-8..10.0f64,
        optimizer in optimizer(),
        schedule in schedule(),
        clip in prop::option::of(1e-3..100.0f64),
        seed in any::<u64>(),
        checkpoint_every in prop::option::of(1usize..10_000),
        progress in prop::sample::select(vec![ProgressMode::Auto, ProgressMode::Bar, ProgressMode::Lines, ProgressMode::Off]),
    ) {
        let config = TrainerConfig::new(steps, lr)
            .with_optimizer(optimizer)
            .with_schedule(schedule)
            .with_clip_grad_norm(clip)
            .with_seed(seed)
            .with_checkpoint_every(checkpoint_every)
            .with_progress(progress);
        let back: TrainerConfig = serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
        prop_assert_eq!(config, back);
    }

    #[test]
    fn mlp_config_round_trips(
        sizes in prop::collection::vec(1usize..=64, 2..=6),
        activation in prop::sample::select(Activation::ALL.to_vec()),
        frequencies in prop::option::of(1usize..=32),
        sigma in 0.1..20.0f64,
        include_input in any::<bool>(),
    ) {
        let fourier = frequencies.map(|m| {
            FourierFeaturesConfig::new(sizes[0], m).with_sigma(sigma).with_include_input(include_input)
        });
        let config = MlpConfig::new(sizes).with_activation(activation).with_fourier(fourier);
        let json = serde_json::to_string(&config).unwrap();
        let back: MlpConfig = serde_json::from_str(&json).unwrap();
        // Initializer has no PartialEq; compare the serialised forms.
        prop_assert_eq!(json, serde_json::to_string(&back).unwrap());
        prop_assert_eq!(config.sizes, back.sizes);
        prop_assert_eq!(config.activation, back.activation);
    }
}
