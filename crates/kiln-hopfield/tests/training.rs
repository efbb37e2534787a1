//! `HopfieldPooling` inside a small model learns the bit-pattern multiple-instance task of
//! hopfield-layers' demo: bags of 16 random 8-bit patterns, positive when one instance is the
//! signal pattern; pooling with learned queries plus a linear head, trained with kiln's
//! `Trainer` (seeded, 300 Adam steps), must classify held-out bags with accuracy ≥ 0.95.

use kiln_core::BackendKind;
use kiln_core::burn::module::Module;
use kiln_core::burn::nn::{Linear, LinearConfig};
use kiln_core::burn::tensor::{Device, Tensor, TensorData, activation};
use kiln_core::train::{Loss, ProgressMode, TrainerConfig};
use kiln_hopfield::layers::{HopfieldConfig, HopfieldPooling, HopfieldPoolingConfig};
use kiln_hopfield::patterns::Rng;

fn autodiff() -> Device {
    kiln_core::autodiff_device(BackendKind::from_env().expect("KILN_BACKEND names a backend"))
        .expect("backend compiled in")
}

fn values<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    t.clone().into_data().iter::<f64>().collect()
}

/// hopfield-layers' bit-pattern multiple-instance data: bags of random 8-bit instances; a bag
/// is positive when one of its instances is the signal pattern, which no negative bag
/// contains (nor the all-zero pattern). Returns bags `[bags * instances * bits]` and labels.
fn bit_pattern_bags(
    bags: usize,
    instances: usize,
    signal: &[f32],
    seed: u64,
) -> (Vec<f32>, Vec<f32>) {
    let bits = signal.len();
    let mut rng = Rng::new(seed);
    let mut data = Vec::with_capacity(bags * instances * bits);
    let mut labels = Vec::with_capacity(bags);
    for bag in 0..bags {
        let positive = bag % 2 == 0;
        let implant = rng.below(instances);
        for k in 0..instances {
            if positive && k == implant {
                data.extend_from_slice(signal);
                continue;
            }
            loop {
                let x: Vec<f32> = (0..bits).map(|_| (rng.next_u64() >> 63) as f32).collect();
                if x != signal && x.iter().any(|&v| v != 0.0) {
                    data.extend(x);
                    break;
                }
            }
        }
        labels.push(if positive { 1.0 } else { 0.0 });
    }
    (data, labels)
}

#[derive(Module, Debug)]
struct MilModel {
    pool: HopfieldPooling,
    head: Linear,
}

impl MilModel {
    fn logits(&self, bags: Tensor<3>) -> kiln_hopfield::Result<Tensor<2>> {
        let [b, _, _] = bags.dims();
        let pooled = self.pool.forward(bags)?;
        let [_, q, w] = pooled.dims();
        Ok(self.head.forward(pooled.reshape([b, q * w])))
    }
}

#[test]
fn hopfield_pooling_learns_the_bit_pattern_mil_task() {
    let (bits, instances, train_bags, test_bags) = (8, 16, 512, 512);
    let signal = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0];
    let device = autodiff();
    device.seed(11);
    let model = MilModel {
        pool: HopfieldPoolingConfig::new(
            HopfieldConfig::new(bits, bits)
                .with_num_heads(2)
                .with_head_dim(Some(8))
                .with_output_size(Some(8)),
        )
        .init(&device)
        .unwrap(),
        head: LinearConfig::new(8, 1).init(&device),
    };
    let (x, y) = bit_pattern_bags(train_bags, instances, &signal, 1);
    let x = Tensor::<3>::from_data(TensorData::new(x, [train_bags, instances, bits]), &device);
    let y = Tensor::<2>::from_data(TensorData::new(y, [train_bags, 1]), &device);
    let outcome = TrainerConfig::new(300, 1e-2)
        .with_seed(3)
        .with_progress(ProgressMode::Off)
        .init()
        .unwrap()
        .fit(model, &device, |m: &MilModel, _| {
            // Binary cross-entropy on logits z: softplus(z) - y z.
            let z = m.logits(x.clone())?;
            Ok(Loss::new(
                (activation::softplus(z.clone(), 1.0) - z * y.clone()).mean(),
            ))
        })
        .unwrap();
    let plain = device.clone().without_autodiff();
    let (xt, yt) = bit_pattern_bags(test_bags, instances, &signal, 2);
    let xt = Tensor::<3>::from_data(TensorData::new(xt, [test_bags, instances, bits]), &plain);
    let z = values(&outcome.model.valid().logits(xt).unwrap());
    let correct = z
        .iter()
        .zip(&yt)
        .filter(|(z, y)| (**z > 0.0) == (**y > 0.5))
        .count();
    let accuracy = correct as f64 / test_bags as f64;
    assert!(
        accuracy >= 0.95,
        "held-out accuracy {accuracy:.3} after 300 steps (final loss {:.4})",
        outcome.final_loss()
    );
}
