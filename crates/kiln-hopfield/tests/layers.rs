//! The Hopfield layers against oracles: the pure-retrieval configuration equals
//! `modern::retrieve`, padding and association masks equal retrieval from the unmasked subset,
//! two heads equal two single-head layers side by side, pooling with supplied queries and the
//! lookup layer equal retrieval, β and dropout behave as configured, configurations round-trip
//! through JSON, and invalid configurations and inputs are errors. Training on the bit-pattern
//! multiple-instance task is in `training.rs`.

use kiln_core::BackendKind;
use kiln_core::burn::module::{Module, Param};
use kiln_core::burn::nn::Linear;
use kiln_core::burn::tensor::{Bool, Device, Tensor, TensorData};
use kiln_core::train::{Loss, ProgressMode, TrainerConfig};
use kiln_hopfield::layers::{
    AssociationMask, Hopfield, HopfieldConfig, HopfieldInput, HopfieldLayerConfig, HopfieldPooling,
    HopfieldPoolingConfig,
};
use kiln_hopfield::modern::{self, Steps};
use kiln_hopfield::patterns::Rng;

fn device() -> Device {
    kiln_core::device(BackendKind::from_env().expect("KILN_BACKEND names a backend"))
        .expect("backend compiled in")
}

fn autodiff() -> Device {
    kiln_core::autodiff_device(BackendKind::from_env().expect("KILN_BACKEND names a backend"))
        .expect("backend compiled in")
}

fn random(shape: [usize; 3], rng: &mut Rng, device: &Device) -> Tensor<3> {
    let v: Vec<f32> = (0..shape.iter().product::<usize>())
        .map(|_| rng.normal() as f32)
        .collect();
    Tensor::from_data(TensorData::new(v, shape), device)
}

fn values<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    t.clone().into_data().iter::<f64>().collect()
}

fn max_diff<const D: usize>(a: &Tensor<D>, b: &Tensor<D>) -> f64 {
    assert_eq!(a.dims(), b.dims());
    values(a)
        .iter()
        .zip(values(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Batch entry `i` of a `[B, R, W]` tensor as `[R, W]`.
fn entry(t: &Tensor<3>, i: usize) -> Tensor<2> {
    let [_, r, w] = t.dims();
    t.clone().narrow(0, i, 1).reshape([r, w])
}

#[test]
fn pure_retrieval_layer_equals_modern_retrieve() {
    let device = device();
    let mut rng = Rng::new(1);
    let (b, s, n, d, beta) = (3, 4, 9, 6, 0.8);
    let state = random([b, s, d], &mut rng, &device);
    let stored = random([b, n, d], &mut rng, &device);
    for steps in [
        Steps::Fixed(1),
        Steps::Fixed(3),
        Steps::Converge { eps: 1e-4, max: 50 },
    ] {
        let layer = HopfieldConfig::retrieval(d, beta)
            .with_steps(steps)
            .init(&device)
            .unwrap();
        let batched = layer
            .forward_with(HopfieldInput::new(state.clone(), stored.clone()))
            .unwrap();
        for i in 0..b {
            let r = modern::retrieve(&entry(&stored, i), &entry(&state, i), beta, steps).unwrap();
            // Converge stops on the largest change over the whole batch, so compare it one
            // batch entry at a time; fixed step counts compare on the batched call.
            let out = match steps {
                Steps::Fixed(k) => {
                    assert_eq!(batched.steps, k);
                    entry(&batched.output, i)
                }
                Steps::Converge { .. } => {
                    let one = layer
                        .forward_with(HopfieldInput::new(
                            state.clone().narrow(0, i, 1),
                            stored.clone().narrow(0, i, 1),
                        ))
                        .unwrap();
                    assert_eq!(one.steps, r.steps);
                    assert!(r.converged && r.steps > 1);
                    entry(&one.output, 0)
                }
            };
            let err = max_diff(&out, &r.states);
            assert!(
                err < 1e-5,
                "{steps:?}, batch {i}: layer and retrieve differ by {err:e}"
            );
        }
    }
}

#[test]
fn padding_mask_equals_retrieval_from_the_unmasked_subset() {
    let device = device();
    let mut rng = Rng::new(2);
    let (b, s, n, d) = (2, 3, 8, 5);
    // A layer with every projection, layer norms and three heads.
    let layer = HopfieldConfig::new(d, d)
        .with_num_heads(3)
        .with_head_dim(Some(4))
        .with_steps(Steps::Fixed(2))
        .init(&device)
        .unwrap();
    let state = random([b, s, d], &mut rng, &device);
    let stored = random([b, n, d], &mut rng, &device);
    let keep = [vec![0, 2, 3, 7], vec![1, 4, 5, 6, 7]];
    let mask: Vec<bool> = (0..b)
        .flat_map(|i| (0..n).map(|j| !keep[i].contains(&j)).collect::<Vec<_>>())
        .collect();
    let mask = Tensor::<2, Bool>::from_data(TensorData::new(mask, [b, n]), &device);
    let masked = layer
        .forward_with(HopfieldInput::new(state.clone(), stored.clone()).with_padding_mask(mask))
        .unwrap();
    for (i, kept) in keep.iter().enumerate() {
        let idx = Tensor::from_data(
            TensorData::new(
                kept.iter().map(|&j| j as i64).collect::<Vec<_>>(),
                [kept.len()],
            ),
            &device,
        );
        let subset = stored.clone().narrow(0, i, 1).select(1, idx);
        let want = layer
            .forward(state.clone().narrow(0, i, 1), subset)
            .unwrap();
        let got = masked.output.clone().narrow(0, i, 1);
        let err = max_diff(&got, &want);
        assert!(
            err < 1e-5,
            "batch {i}: masked and subset outputs differ by {err:e}"
        );
        // The masked patterns get exactly zero weight.
        let w = values(&masked.weights.clone().narrow(0, i, 1));
        for (k, wk) in w.iter().enumerate() {
            if !kept.contains(&(k % n)) {
                assert_eq!(*wk, 0.0);
            }
        }
    }
}

#[test]
fn association_masks_restrict_each_state_pattern() {
    let device = device();
    let mut rng = Rng::new(3);
    let (b, s, n, d, beta) = (2, 3, 6, 4, 1.3);
    let layer = HopfieldConfig::retrieval(d, beta).init(&device).unwrap();
    let state = random([b, s, d], &mut rng, &device);
    let stored = random([b, n, d], &mut rng, &device);
    // State pattern r may retrieve stored patterns j unless 3 divides j + r (shared), and in
    // the per-batch mask additionally batch entry 1 loses pattern 1.
    let allowed = |i: usize, r: usize, j: usize, per_batch: bool| {
        !((j + r).is_multiple_of(3) || (per_batch && i == 1 && j == 1))
    };
    let shared: Vec<bool> = (0..s)
        .flat_map(|r| (0..n).map(move |j| !allowed(0, r, j, false)))
        .collect();
    let per_batch: Vec<bool> = (0..b)
        .flat_map(|i| (0..s).flat_map(move |r| (0..n).map(move |j| !allowed(i, r, j, true))))
        .collect();
    let masks = [
        (
            AssociationMask::Shared(Tensor::from_data(TensorData::new(shared, [s, n]), &device)),
            false,
        ),
        (
            AssociationMask::PerBatch(Tensor::from_data(
                TensorData::new(per_batch, [b, s, n]),
                &device,
            )),
            true,
        ),
    ];
    for (mask, per_batch) in masks {
        let out = layer
            .forward_with(
                HopfieldInput::new(state.clone(), stored.clone()).with_association_mask(mask),
            )
            .unwrap()
            .output;
        for i in 0..b {
            for r in 0..s {
                let keep: Vec<i64> = (0..n)
                    .filter(|&j| allowed(i, r, j, per_batch))
                    .map(|j| j as i64)
                    .collect();
                let k = keep.len();
                let idx = Tensor::from_data(TensorData::new(keep, [k]), &device);
                let subset = entry(&stored, i).select(0, idx);
                let query = entry(&state, i).narrow(0, r, 1);
                let want = modern::retrieve(&subset, &query, beta, Steps::Fixed(1)).unwrap();
                let got = entry(&out, i).narrow(0, r, 1);
                let err = max_diff(&got, &want.states);
                assert!(err < 1e-5, "batch {i}, state {r}: {err:e}");
            }
        }
    }
    // A mask that leaves a state pattern nothing is an error, not NaN.
    let all = Tensor::<2, Bool>::from_data(TensorData::new(vec![true; b * n], [b, n]), &device);
    let err = layer
        .forward_with(HopfieldInput::new(state, stored).with_padding_mask(all))
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least one stored pattern"), "{err}");
}

fn cat_linear(a: &Linear, b: &Linear) -> Linear {
    let weight = Tensor::cat(vec![a.weight.val(), b.weight.val()], 1);
    let bias = match (&a.bias, &b.bias) {
        (Some(x), Some(y)) => Some(Param::from_tensor(Tensor::cat(vec![x.val(), y.val()], 0))),
        _ => None,
    };
    Linear {
        weight: Param::from_tensor(weight),
        bias,
    }
}

#[test]
fn two_heads_equal_two_single_head_layers_side_by_side() {
    let device = device();
    let mut rng = Rng::new(4);
    let (b, s, n, d_in, d_y, hd) = (2, 3, 7, 5, 6, 4);
    let single = |beta: f64| {
        HopfieldConfig::new(d_in, d_y)
            .with_head_dim(Some(hd))
            .with_pattern_dim(Some(3))
            .with_project_output(false)
            .with_beta(vec![beta])
            .with_steps(Steps::Fixed(2))
            .init(&device)
            .unwrap()
    };
    let state = random([b, s, d_in], &mut rng, &device);
    let stored = random([b, n, d_y], &mut rng, &device);
    let (h0, h1) = (single(0.4), single(1.7));
    // Touch both so their lazily drawn weights exist before they are copied.
    let o0 = h0.forward(state.clone(), stored.clone()).unwrap();
    let o1 = h1.forward(state.clone(), stored.clone()).unwrap();
    let mut two: Hopfield = HopfieldConfig::new(d_in, d_y)
        .with_num_heads(2)
        .with_head_dim(Some(hd))
        .with_pattern_dim(Some(3))
        .with_project_output(false)
        .with_beta(vec![0.4, 1.7])
        .with_steps(Steps::Fixed(2))
        .init(&device)
        .unwrap();
    two.query = Some(cat_linear(
        h0.query.as_ref().unwrap(),
        h1.query.as_ref().unwrap(),
    ));
    two.key = Some(cat_linear(
        h0.key.as_ref().unwrap(),
        h1.key.as_ref().unwrap(),
    ));
    two.value = Some(cat_linear(
        h0.value.as_ref().unwrap(),
        h1.value.as_ref().unwrap(),
    ));
    assert_eq!(two.betas().len(), 2);
    let out = two.forward(state, stored).unwrap();
    assert_eq!(out.dims(), [b, s, 6]);
    let want = Tensor::cat(vec![o0, o1], 2);
    let err = max_diff(&out, &want);
    assert!(
        err < 1e-5,
        "two-head output differs from the single heads by {err:e}"
    );
}

#[test]
fn pooling_with_supplied_or_learned_queries_equals_retrieval() {
    let device = device();
    let mut rng = Rng::new(5);
    let (b, q, n, d, beta) = (2, 3, 10, 6, 0.9);
    let pool: HopfieldPooling = HopfieldPoolingConfig::new(HopfieldConfig::retrieval(d, beta))
        .with_num_queries(q)
        .init(&device)
        .unwrap();
    let stored = random([b, n, d], &mut rng, &device);
    let queries = random([b, q, d], &mut rng, &device);
    let supplied = pool
        .forward_with_queries(queries.clone(), stored.clone(), None)
        .unwrap()
        .output;
    let learned = pool.forward(stored.clone()).unwrap();
    assert_eq!(learned.dims(), [b, q, d]);
    for i in 0..b {
        let want = modern::retrieve(
            &entry(&stored, i),
            &entry(&queries, i),
            beta,
            Steps::Fixed(1),
        )
        .unwrap();
        assert!(max_diff(&entry(&supplied, i), &want.states) < 1e-5);
        let want = modern::retrieve(
            &entry(&stored, i),
            &pool.queries.val(),
            beta,
            Steps::Fixed(1),
        )
        .unwrap();
        assert!(max_diff(&entry(&learned, i), &want.states) < 1e-5);
    }
}

#[test]
fn lookup_layer_retrieves_from_its_learned_table() {
    let device = device();
    let mut rng = Rng::new(6);
    let (b, s, p, d, beta) = (2, 4, 12, 5, 0.6);
    let layer = HopfieldLayerConfig::new(HopfieldConfig::retrieval(d, beta), p)
        .init(&device)
        .unwrap();
    let state = random([b, s, d], &mut rng, &device);
    let out = layer.forward(state.clone()).unwrap();
    for i in 0..b {
        let want = modern::retrieve(
            &layer.patterns.val(),
            &entry(&state, i),
            beta,
            Steps::Fixed(1),
        )
        .unwrap();
        assert!(max_diff(&entry(&out, i), &want.states) < 1e-5);
    }
    // With separate values the weights come from the patterns and the output from the values.
    let sep = HopfieldLayerConfig::new(
        HopfieldConfig::retrieval(d, beta)
            .with_value_size(Some(3))
            .with_pattern_dim(Some(3))
            .with_beta(vec![beta]),
        p,
    )
    .with_separate_values(true)
    .init(&device)
    .unwrap();
    let out = sep.forward_with_weights(state.clone()).unwrap();
    assert_eq!(out.output.dims(), [b, s, 3]);
    for i in 0..b {
        let w = modern::association(&sep.patterns.val(), &entry(&state, i), beta).unwrap();
        let want = w.matmul(sep.values.as_ref().unwrap().val());
        assert!(max_diff(&entry(&out.output, i), &want) < 1e-5);
    }
}

#[test]
fn beta_defaults_and_trains_only_when_asked() {
    let device = autodiff();
    let config = HopfieldConfig::new(4, 4)
        .with_num_heads(2)
        .with_head_dim(Some(16));
    let fixed = config.init(&device).unwrap();
    assert_eq!(fixed.betas(), vec![0.25, 0.25]);
    let mut rng = Rng::new(7);
    let state = random([2, 3, 4], &mut rng, &device);
    let stored = random([2, 5, 4], &mut rng, &device);
    for trainable in [false, true] {
        device.seed(1);
        let layer = config
            .clone()
            .with_trainable_beta(trainable)
            .init(&device)
            .unwrap();
        let trained = TrainerConfig::new(5, 0.1)
            .with_progress(ProgressMode::Off)
            .init()
            .unwrap()
            .fit(layer, &device, |m: &Hopfield, _| {
                Ok(Loss::new(
                    m.forward(state.clone(), stored.clone())?.square().mean(),
                ))
            })
            .unwrap();
        let betas = trained.model.betas();
        let moved = betas.iter().any(|b| (b - 0.25).abs() > 1e-4);
        assert_eq!(
            moved, trainable,
            "trainable_beta = {trainable}: β = {betas:?}"
        );
    }
}

#[test]
fn dropout_acts_on_the_association_weights_only_in_training() {
    let device = autodiff();
    let mut rng = Rng::new(8);
    let layer = HopfieldConfig::retrieval(4, 1.0)
        .with_dropout(0.5)
        .init(&device)
        .unwrap();
    let state = random([1, 6, 4], &mut rng, &device);
    let stored = random([1, 8, 4], &mut rng, &device);
    let train = layer.forward(state.clone(), stored.clone()).unwrap();
    let eval = layer
        .valid()
        .forward(state.clone().inner(), stored.clone().inner())
        .unwrap();
    let plain = modern::retrieve(
        &entry(&stored.inner(), 0),
        &entry(&state.inner(), 0),
        1.0,
        Steps::Fixed(1),
    )
    .unwrap();
    assert!(max_diff(&entry(&eval, 0), &plain.states) < 1e-5);
    assert!(
        max_diff(&train.inner(), &eval) > 1e-3,
        "dropout changed nothing in training"
    );
}

#[test]
fn configs_round_trip_through_json() {
    let hopfield = HopfieldConfig::new(6, 5)
        .with_num_heads(3)
        .with_value_size(Some(4))
        .with_beta(vec![0.5, 1.0, 2.0])
        .with_steps(Steps::Converge { eps: 1e-5, max: 7 })
        .with_normalize_values(false)
        .with_dropout(0.25);
    let pool = HopfieldPoolingConfig::new(hopfield.clone()).with_num_queries(4);
    let layer = HopfieldLayerConfig::new(hopfield.clone(), 9).with_separate_values(true);
    let json = serde_json::to_string(&hopfield).unwrap();
    let back: HopfieldConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    assert_eq!(back.steps, Steps::Converge { eps: 1e-5, max: 7 });
    assert_eq!(back.dims().unwrap(), hopfield.dims().unwrap());
    for json in [
        serde_json::to_string(&pool).unwrap(),
        serde_json::to_string(&layer).unwrap(),
    ] {
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            value["hopfield"]["beta"],
            serde_json::json!([0.5, 1.0, 2.0])
        );
    }
    let back: HopfieldLayerConfig =
        serde_json::from_str(&serde_json::to_string(&layer).unwrap()).unwrap();
    assert!(back.separate_values && back.num_patterns == 9);
}

#[test]
fn invalid_configurations_and_inputs_are_errors() {
    let device = device();
    let err = |r: Result<Hopfield, kiln_hopfield::Error>| r.unwrap_err().to_string();
    let e = err(HopfieldConfig::new(4, 6)
        .with_project_stored(false)
        .with_head_dim(Some(4))
        .init(&device));
    assert!(
        e.contains("head_dim") && e.contains("stored_size = 6"),
        "{e}"
    );
    let e = err(HopfieldConfig::new(4, 4)
        .with_num_heads(3)
        .with_beta(vec![1.0, 2.0])
        .init(&device));
    assert!(e.contains("beta"), "{e}");
    let e = err(HopfieldConfig::new(4, 4)
        .with_beta(vec![-1.0])
        .init(&device));
    assert!(e.contains("beta = -1"), "{e}");
    let e = err(HopfieldConfig::new(4, 4).with_dropout(1.0).init(&device));
    assert!(e.contains("dropout"), "{e}");
    let e = err(HopfieldConfig::new(4, 4)
        .with_steps(Steps::Fixed(0))
        .init(&device));
    assert!(e.contains("steps"), "{e}");
    let e = err(HopfieldConfig::new(4, 4)
        .with_project_output(false)
        .with_output_size(Some(5))
        .init(&device));
    assert!(e.contains("output_size"), "{e}");
    let e = HopfieldPoolingConfig::new(HopfieldConfig::new(4, 4))
        .with_num_queries(0)
        .init(&device)
        .unwrap_err()
        .to_string();
    assert!(e.contains("num_queries"), "{e}");
    let e = HopfieldLayerConfig::new(HopfieldConfig::new(4, 4).with_value_size(Some(3)), 5)
        .init(&device)
        .unwrap_err()
        .to_string();
    assert!(e.contains("separate_values"), "{e}");

    let layer = HopfieldConfig::new(4, 6).init(&device).unwrap();
    let mut rng = Rng::new(9);
    let state = random([2, 3, 4], &mut rng, &device);
    let e = layer
        .forward(state.clone(), random([2, 5, 4], &mut rng, &device))
        .unwrap_err()
        .to_string();
    assert!(e.contains("stored [2, ≥1, 6]"), "{e}");
    let e = layer
        .forward(state.clone(), random([3, 5, 6], &mut rng, &device))
        .unwrap_err()
        .to_string();
    assert!(e.contains("[3, 5, 6]"), "{e}");
    let mask = Tensor::<2, Bool>::from_data(TensorData::new(vec![false; 10], [2, 5]), &device);
    let e = layer
        .forward_with(
            HopfieldInput::new(state, random([2, 4, 6], &mut rng, &device)).with_padding_mask(mask),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("padding mask") && e.contains("[2, 4]"), "{e}");
}

/// The fused read-out (`forward`, weights never formed) equals the read-out through the full
/// weights (`forward_with`) over several blocks of stored patterns, with an association mask
/// that empties a whole block for some state patterns and with two updates. Both are f32 sums
/// over up to 2600 patterns taken in different orders, so they agree to f32 rounding (1e-5 on
/// values of order 1), not bit for bit; the f64 test in `modern.rs` checks the algorithm to
/// 1e-12.
#[test]
fn fused_forward_equals_the_read_out_through_the_full_weights() {
    let device = device();
    let mut rng = Rng::new(11);
    // 2600 stored patterns: three blocks of the fused loop, the last one partial.
    let (b, s, n, d) = (2, 5, 2600, 8);
    let state = random([b, s, d], &mut rng, &device);
    let stored = random([b, n, d], &mut rng, &device);
    // State pattern r may not retrieve the first 1500 patterns when r is even (the first block
    // then holds only excluded pairs) nor any pattern j with 7 | j + r.
    let mask: Vec<bool> = (0..s)
        .flat_map(|r| (0..n).map(move |j| (r % 2 == 0 && j < 1500) || (j + r) % 7 == 0))
        .collect();
    let mask = Tensor::<2, Bool>::from_data(TensorData::new(mask, [s, n]), &device);
    for steps in [Steps::Fixed(1), Steps::Fixed(2)] {
        let layer = HopfieldConfig::retrieval(d, 0.7)
            .with_steps(steps)
            .init(&device)
            .unwrap();
        let input = || {
            HopfieldInput::new(state.clone(), stored.clone())
                .with_association_mask(AssociationMask::Shared(mask.clone()))
        };
        let fused = layer.forward_output(input()).unwrap();
        let full = layer.forward_with(input()).unwrap();
        let err = max_diff(&fused, &full.output);
        assert!(
            err < 1e-5,
            "{steps:?}: fused and full read-outs differ by {err:e}"
        );
        assert!(values(&fused).iter().all(|v| v.is_finite()));
    }
}

/// `modern::update` on plain f32 CPU tensors runs the host kernel (blocks of queries and of
/// stored patterns on several threads, vectorised exp). Against an f64 evaluation on the host
/// it is as accurate as the textbook f32 `softmax(β Q Xᵀ) X` with the whole weight matrix formed
/// (within twice its error, and both below 1e-5 on values in [-1, 1]).
#[test]
fn host_update_is_as_accurate_as_the_unfused_softmax_in_f32() {
    let device = device();
    let mut rng = Rng::new(5);
    // 2500 patterns: three blocks; 1100 queries: several query blocks on each thread.
    let (n, d, b, beta) = (2500, 32, 1100, 0.25);
    let signs = |count: usize, rng: &mut Rng| -> Vec<f32> {
        (0..count * d)
            .map(|_| if rng.normal() > 0.0 { 1.0 } else { -1.0 })
            .collect()
    };
    let (x, q) = (signs(n, &mut rng), signs(b, &mut rng));
    let stored = Tensor::<2>::from_data(TensorData::new(x.clone(), [n, d]), &device);
    let queries = Tensor::<2>::from_data(TensorData::new(q.clone(), [b, d]), &device);
    let fused = values(&modern::update(&stored, &queries, beta).unwrap());
    let weights = kiln_core::burn::tensor::activation::softmax(
        queries.matmul(stored.clone().transpose()).mul_scalar(beta),
        1,
    );
    let unfused = values(&weights.matmul(stored));
    let (mut err_fused, mut err_unfused) = (0.0_f64, 0.0_f64);
    for i in 0..b {
        let qi = &q[i * d..(i + 1) * d];
        let scores: Vec<f64> = (0..n)
            .map(|j| {
                let xj = &x[j * d..(j + 1) * d];
                beta * qi
                    .iter()
                    .zip(xj)
                    .map(|(a, c)| f64::from(a * c))
                    .sum::<f64>()
            })
            .collect();
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let total: f64 = w.iter().sum();
        for k in 0..d {
            let exact = (0..n).map(|j| w[j] * f64::from(x[j * d + k])).sum::<f64>() / total;
            err_fused = err_fused.max((fused[i * d + k] - exact).abs());
            err_unfused = err_unfused.max((unfused[i * d + k] - exact).abs());
        }
    }
    assert!(
        err_fused <= (2.0 * err_unfused).max(1e-6) && err_fused < 1e-5,
        "host kernel error {err_fused:e}, unfused f32 error {err_unfused:e}"
    );
}
