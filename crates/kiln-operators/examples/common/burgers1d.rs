//! Shared by the 1-D Burgers FNO demo and benchmark: subsampling the fine solutions and training
//! on shuffled mini-batches with the relative-L2 loss.
#![allow(dead_code, unreachable_pub)] // each example uses a different subset

use burn::tensor::{Device, Tensor, TensorData};
use kiln_core::rng::Rng;
use kiln_core::train::{TrainOutcome, Trainer};
use kiln_operators::Result;
use kiln_operators::fno::Fno1d;
use kiln_operators::loss::relative_l2;

/// Every `every`-th value of each of `count` samples stored `fine` values apiece.
pub fn subsample(values: &[f64], fine: usize, count: usize, every: usize) -> Vec<f64> {
    (0..count)
        .flat_map(|i| (0..fine / every).map(move |j| values[i * fine + j * every]))
        .collect()
}

/// `n` samples of `s` values as a `[n, 1, s]` tensor.
pub fn tensor(values: Vec<f64>, n: usize, s: usize, device: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(values, [n, 1, s]), device)
}

/// Trains `model` on `count` input/output pairs of `s` values each, in batches of `batch` drawn
/// without replacement (reshuffled every epoch), with the relative-L2 loss.
pub fn train_fno1d(
    trainer: Trainer,
    model: Fno1d,
    ad: &Device,
    (x_train, y_train): (&[f64], &[f64]),
    (count, s, batch): (usize, usize, usize),
) -> Result<TrainOutcome<Fno1d>> {
    let batches = count / batch;
    let mut order: Vec<usize> = Vec::new();
    Ok(trainer.fit(model, ad, |m: &Fno1d, info| {
        let b = info.step % batches;
        if b == 0 {
            order = (0..count).collect();
            let mut rng = Rng::new(info.step as u64 + 1);
            rng.shuffle(&mut order);
        }
        let idx = &order[b * batch..(b + 1) * batch];
        let gather = |v: &[f64]| -> Vec<f64> {
            idx.iter()
                .flat_map(|&i| v[i * s..(i + 1) * s].iter().copied())
                .collect()
        };
        let x = tensor(gather(x_train), batch, s, ad);
        let y = tensor(gather(y_train), batch, s, ad);
        Ok(relative_l2(m.forward(x), y)?.into())
    })?)
}
