//! Shared by the Darcy FNO demo and benchmark: data (generated or from `.npz`), training with the
//! kiln-core trainer, evaluation and plots.
#![allow(dead_code)] // each example uses a different subset

use std::path::PathBuf;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use kiln_core::plot::Heatmap;
use kiln_core::report::cpu_seconds;
use kiln_core::rng::Rng;
use kiln_core::train::{OptimizerConfig, ProgressMode, Schedule, TrainerConfig};
use kiln_operators::data::{ArrayNames, DarcyConfig, OperatorData};
use kiln_operators::fno::{Fno2d, Fno2dConfig};
use kiln_operators::loss::{UnitGaussian, relative_l2, relative_l2_per_sample};
use kiln_operators::{Error, Result};

fn bad(field: &'static str, value: impl std::fmt::Display, advice: &str) -> Error {
    Error::InvalidConfig {
        field,
        value: value.to_string(),
        advice: advice.to_string(),
    }
}

/// Command-line options shared by the demo and the benchmark.
pub(crate) struct Options {
    pub(crate) train: Option<PathBuf>,
    pub(crate) test: Vec<PathBuf>,
    pub(crate) names: ArrayNames,
    pub(crate) epochs: Option<usize>,
}

impl Options {
    /// `--train PATH`, `--test PATH` (repeatable), `--input-name`, `--output-name`, `--epochs`.
    pub(crate) fn from_args() -> Result<Self> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut opts = Options {
            train: None,
            test: Vec::new(),
            names: ArrayNames::default(),
            epochs: None,
        };
        let mut i = 0;
        while i < args.len() {
            let value = |i: usize| {
                args.get(i + 1)
                    .cloned()
                    .ok_or_else(|| bad("command line", &args[i], "this flag needs a value"))
            };
            match args[i].as_str() {
                "--train" => opts.train = Some(PathBuf::from(value(i)?)),
                "--test" => opts.test.push(PathBuf::from(value(i)?)),
                "--input-name" => opts.names.input = value(i)?,
                "--output-name" => opts.names.output = value(i)?,
                "--epochs" => {
                    let v = value(i)?;
                    opts.epochs = Some(
                        v.parse()
                            .map_err(|_| bad("--epochs", &v, "give a positive integer"))?,
                    );
                }
                "--out" => {}
                other => {
                    return Err(bad(
                        "command line",
                        other,
                        "flags are --train, --test (repeatable), --input-name, --output-name, \
                         --epochs, --out",
                    ));
                }
            }
            i += 2;
        }
        if opts.train.is_some() == opts.test.is_empty() {
            return Err(bad(
                "--train/--test",
                "only one given",
                "give both --train and at least one --test, or neither to generate the data",
            ));
        }
        Ok(opts)
    }
}

/// Generated Darcy data as an operator dataset `[N, s, s] -> [N, s, s]`.
pub(crate) fn generate(resolution: usize, count: usize, seed: u64) -> Result<OperatorData> {
    let set = DarcyConfig::new(resolution).generate(count, seed)?;
    OperatorData::new(
        set.mask,
        vec![count, resolution, resolution],
        set.solution,
        vec![count, resolution, resolution],
    )
}

/// Checks a user's dataset is 2-D fields: `[N, s1, s2]` or `[N, 1, s1, s2]`; returns `(s1, s2)`.
pub(crate) fn field_shape(data: &OperatorData, what: &str) -> Result<(usize, usize)> {
    let shape_of = |s: &[usize]| match s {
        [_, h, w] | [_, 1, h, w] => Some((*h, *w)),
        _ => None,
    };
    match (shape_of(&data.input_shape), shape_of(&data.output_shape)) {
        (Some(a), Some(b)) if a == b && a.0 >= 2 && a.1 >= 2 => Ok(a),
        _ => Err(Error::Dataset {
            path: PathBuf::from(what),
            what: format!(
                "input {:?} and output {:?}: expected equal 2-D fields [N, s1, s2] or \
                 [N, 1, s1, s2] with s1, s2 >= 2",
                data.input_shape, data.output_shape
            ),
        }),
    }
}

/// The model's configuration for the Darcy problem.
pub(crate) fn model_config(modes: usize, hidden: usize) -> Fno2dConfig {
    Fno2dConfig::new(1, 1, [modes, modes])
        .with_hidden(hidden)
        .with_lifting_channels(2 * hidden)
        .with_projection_channels(2 * hidden)
}

/// Training settings.
pub(crate) struct Training {
    pub(crate) epochs: usize,
    pub(crate) batch: usize,
    pub(crate) lr: f64,
    pub(crate) weight_decay: f64,
    pub(crate) seed: u64,
}

/// A trained model with its normalisers.
pub(crate) struct Trained {
    pub(crate) model: Fno2d,
    pub(crate) x_norm: UnitGaussian,
    pub(crate) y_norm: UnitGaussian,
    pub(crate) s_per_epoch: f64,
    /// CPU seconds (user + system, all threads) per epoch; `NaN` where `/proc` is unavailable.
    pub(crate) cpu_s_per_epoch: f64,
    pub(crate) losses: Vec<f64>,
}

fn tensor4(values: Vec<f64>, n: usize, h: usize, w: usize, device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values, [n, 1, h, w]), device)
}

/// Trains an FNO on `train` (relative L2 of the decoded output, AdamW, cosine schedule).
pub(crate) fn train(
    config: &Fno2dConfig,
    data: &OperatorData,
    t: &Training,
    device: &Device,
) -> Result<Trained> {
    let (h, w) = field_shape(data, "train")?;
    let ad = device.clone().autodiff();
    kiln_core::device::seed(&ad, t.seed);
    let model = config.init(&ad)?;
    let x_norm = UnitGaussian::fit(&data.input, 1e-6)?;
    let y_norm = UnitGaussian::fit(&data.output, 1e-6)?;
    let xs = x_norm.encode_values(&data.input);
    let n = data.len();
    let per = h * w;
    let batches = n.div_ceil(t.batch);
    let steps = t.epochs * batches;
    let trainer = TrainerConfig::new(steps, t.lr)
        .with_optimizer(OptimizerConfig::AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: t.weight_decay,
        })
        .with_schedule(Schedule::Cosine { min_lr: 0.0 })
        .with_seed(t.seed)
        .with_log_every(batches)
        .with_progress(ProgressMode::Auto)
        .init()?;
    let mut order: Vec<usize> = Vec::new();
    let cpu_start = cpu_seconds().unwrap_or(f64::NAN);
    let out = trainer
        .with_label("fno-darcy")
        .fit(model, &ad, |m: &Fno2d, info| {
            let epoch = info.step / batches;
            let b = info.step % batches;
            if b == 0 {
                order = (0..n).collect();
                let mut rng = Rng::new(t.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9));
                rng.shuffle(&mut order);
            }
            let idx = &order[b * t.batch..((b + 1) * t.batch).min(n)];
            let (mut xb, mut yb) = (
                Vec::with_capacity(idx.len() * per),
                Vec::with_capacity(idx.len() * per),
            );
            for &i in idx {
                xb.extend_from_slice(&xs[i * per..(i + 1) * per]);
                yb.extend_from_slice(&data.output[i * per..(i + 1) * per]);
            }
            let x = tensor4(xb, idx.len(), h, w, &ad);
            let y = tensor4(yb, idx.len(), h, w, &ad);
            let pred = y_norm.decode(m.forward(x));
            Ok(relative_l2(pred, y)?.into())
        })?;
    let s_per_epoch = out.elapsed_s / t.epochs as f64;
    let cpu_s_per_epoch = (cpu_seconds().unwrap_or(f64::NAN) - cpu_start) / t.epochs as f64;
    Ok(Trained {
        model: out.model.valid(),
        x_norm,
        y_norm,
        s_per_epoch,
        cpu_s_per_epoch,
        losses: out.losses,
    })
}

/// Mean relative L2 on `data` and the decoded predictions (row-major `[N, h, w]`).
pub(crate) fn evaluate(
    trained: &Trained,
    data: &OperatorData,
    device: &Device,
) -> Result<(f64, Vec<f64>)> {
    let (h, w) = field_shape(data, "test")?;
    let n = data.len();
    let per = h * w;
    let xs = trained.x_norm.encode_values(&data.input);
    let (mut total, mut preds) = (0.0, Vec::with_capacity(n * per));
    for start in (0..n).step_by(50) {
        let end = (start + 50).min(n);
        let x = tensor4(
            xs[start * per..end * per].to_vec(),
            end - start,
            h,
            w,
            device,
        );
        let y = tensor4(
            data.output[start * per..end * per].to_vec(),
            end - start,
            h,
            w,
            device,
        );
        let pred = trained.y_norm.decode(trained.model.forward(x));
        total += relative_l2_per_sample(pred.clone(), y)?
            .sum()
            .into_scalar::<f64>();
        preds.extend(pred.into_data().iter::<f64>());
    }
    Ok((total / n as f64, preds))
}

/// Heatmaps of sample 0: coefficient mask, truth, prediction and error.
pub(crate) fn plot_sample(
    data: &OperatorData,
    preds: &[f64],
    dir: &std::path::Path,
    tag: &str,
) -> Result<Vec<(String, String)>> {
    let (h, w) = field_shape(data, "test")?;
    let per = h * w;
    // Row 0 of the arrays is y = 0; the heatmap puts iy = 0 at the bottom.
    let truth = &data.output[..per];
    let pred = &preds[..per];
    let err: Vec<f64> = truth.iter().zip(pred).map(|(a, b)| b - a).collect();
    let mut out = Vec::new();
    for (name, values, title) in [
        (
            "coefficient",
            data.input[..per].to_vec(),
            "input: thresholded coefficient mask",
        ),
        ("truth", truth.to_vec(), "truth u"),
        ("prediction", pred.to_vec(), "FNO prediction"),
        ("error", err, "prediction - truth"),
    ] {
        let file = format!("darcy_{tag}_{name}.png");
        Heatmap {
            title: format!("{title} ({h}x{w})"),
            x_label: "x".into(),
            y_label: "y".into(),
            values,
            nx: w,
            ny: h,
            x_range: 0.0..1.0,
            y_range: 0.0..1.0,
        }
        .save(dir.join(&file), (520, 440))?;
        out.push((file, format!("{title}, test sample 0 at {h}x{w}")));
    }
    Ok(out)
}

/// Number of parameters.
pub(crate) fn parameters(model: &Fno2d) -> usize {
    model.num_params()
}
