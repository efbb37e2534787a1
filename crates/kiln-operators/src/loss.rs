//! Losses, metrics and normalisers of operator learning: relative L2 per sample (neuraloperator's
//! `LpLoss` convention), relative H1 on 2-D fields, and unit-Gaussian normalisers.

use burn::tensor::Tensor;

use crate::{Error, Result};

/// Relative L2 error of each sample, `‖pred_i - target_i‖₂ / ‖target_i‖₂`, over all non-batch
/// axes (quadrature weights of a uniform grid cancel in the ratio, as in neuraloperator's `LpLoss`).
///
/// # Shapes
/// `[batch, ...]` twice -> `[batch]`
///
/// # Errors
/// [`Error::ShapeMismatch`] when the shapes differ.
pub fn relative_l2_per_sample<const D: usize>(
    pred: Tensor<D>,
    target: Tensor<D>,
) -> Result<Tensor<1>> {
    if pred.dims() != target.dims() {
        return Err(Error::shape(
            "relative_l2_per_sample",
            format!("the target's shape {:?}", target.dims()),
            &pred.dims(),
        ));
    }
    let b = pred.dims()[0];
    let diff = (pred - target.clone()).reshape([b as i32, -1]);
    let num = diff.powi_scalar(2).sum_dim(1).sqrt();
    let den = target
        .reshape([b as i32, -1])
        .powi_scalar(2)
        .sum_dim(1)
        .sqrt();
    Ok((num / den).reshape([b]))
}

/// The mean over the batch of [`relative_l2_per_sample`] (a training loss).
///
/// # Errors
/// As [`relative_l2_per_sample`].
pub fn relative_l2<const D: usize>(pred: Tensor<D>, target: Tensor<D>) -> Result<Tensor<1>> {
    Ok(relative_l2_per_sample(pred, target)?.mean())
}

/// `h² Σ (v² + (D_x v)² + (D_y v)²)` per sample with forward differences on the vertex grid of
/// `[0, 1]²` (spacing `1 / (n - 1)` per axis).
fn h1_squared(v: Tensor<3>) -> Tensor<1> {
    let [b, h, w] = v.dims();
    let (sy, sx) = ((h.max(2) - 1) as f64, (w.max(2) - 1) as f64);
    let dx = (v.clone().narrow(2, 1, w - 1) - v.clone().narrow(2, 0, w - 1)).mul_scalar(sx);
    let dy = (v.clone().narrow(1, 1, h - 1) - v.clone().narrow(1, 0, h - 1)).mul_scalar(sy);
    let flat = |t: Tensor<3>| t.reshape([b as i32, -1]).powi_scalar(2).sum_dim(1);
    (flat(v) + flat(dx) + flat(dy))
        .div_scalar(sx * sy)
        .reshape([b])
}

/// Relative H1 error of each 2-D sample: `‖e‖_H1 / ‖target‖_H1` with the value and
/// forward-difference gradient terms.
///
/// # Shapes
/// `[batch, h, w]` twice (`h, w >= 2`) -> `[batch]`
///
/// # Errors
/// [`Error::ShapeMismatch`] when the shapes differ or a side is shorter than 2.
pub fn relative_h1_per_sample(pred: Tensor<3>, target: Tensor<3>) -> Result<Tensor<1>> {
    let dims = pred.dims();
    if dims != target.dims() || dims[1] < 2 || dims[2] < 2 {
        return Err(Error::shape(
            "relative_h1_per_sample",
            format!(
                "[batch, h >= 2, w >= 2] equal to the target's {:?}",
                target.dims()
            ),
            &dims,
        ));
    }
    let num = h1_squared(pred - target.clone());
    Ok((num / h1_squared(target)).sqrt())
}

/// A unit-Gaussian normaliser with one mean and standard deviation for the whole field (fitted
/// over samples and grid points), so it applies unchanged at every resolution.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UnitGaussian {
    /// Mean of the training values.
    pub mean: f64,
    /// Standard deviation of the training values (plus `eps`).
    pub std: f64,
}

impl UnitGaussian {
    /// Fits on training values; `eps` guards constant data.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for no values or non-finite ones.
    pub fn fit(values: &[f64], eps: f64) -> Result<Self> {
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return Err(Error::config(
                "values",
                format!("{} values", values.len()),
                "fit the normaliser on a non-empty set of finite training values",
            ));
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        Ok(UnitGaussian {
            mean,
            std: var.sqrt() + eps,
        })
    }

    /// `(x - mean) / std`.
    pub fn encode<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        x.sub_scalar(self.mean).div_scalar(self.std)
    }

    /// `x std + mean`.
    pub fn decode<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        x.mul_scalar(self.std).add_scalar(self.mean)
    }

    /// Encodes host values.
    pub fn encode_values(&self, values: &[f64]) -> Vec<f64> {
        values.iter().map(|v| (v - self.mean) / self.std).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};
    use kiln_core::{BackendKind, Precision};

    fn device() -> Device {
        let device = kiln_core::device(BackendKind::from_env().unwrap()).unwrap();
        kiln_core::device::configure_precision(&device, Precision::F64).unwrap();
        device
    }

    #[test]
    fn relative_l2_is_per_sample() {
        let device = device();
        let target =
            Tensor::<2>::from_data(TensorData::new(vec![3.0, 4.0, 1.0, 0.0], [2, 2]), &device);
        let pred =
            Tensor::<2>::from_data(TensorData::new(vec![3.0, 4.0, 0.0, 0.0], [2, 2]), &device);
        let per: Vec<f64> = relative_l2_per_sample(pred.clone(), target.clone())
            .unwrap()
            .into_data()
            .iter::<f64>()
            .collect();
        assert_eq!(per, vec![0.0, 1.0]);
        let mean = relative_l2(pred, target.clone())
            .unwrap()
            .into_scalar::<f64>();
        assert!((mean - 0.5).abs() < 1e-15);
        assert!(relative_l2(target.clone(), target.reshape([4, 1])).is_err());
    }

    #[test]
    fn relative_h1_weighs_gradients() {
        let device = device();
        let n = 33;
        let h = 1.0 / (n - 1) as f64;
        let field = |f: &dyn Fn(f64, f64) -> f64| {
            let v: Vec<f64> = (0..n * n)
                .map(|k| f((k % n) as f64 * h, (k / n) as f64 * h))
                .collect();
            Tensor::<3>::from_data(TensorData::new(v, [1, n, n]), &device)
        };
        let pi = std::f64::consts::PI;
        let target = field(&|x, y| (pi * x).sin() * (pi * y).sin());
        // A small, highly oscillatory error is small in L2 but large in H1.
        let wiggle = field(&|x, y| 0.01 * (16.0 * pi * x).sin() * (pi * y).sin());
        let pred = target.clone() + wiggle;
        let l2 = relative_l2_per_sample(pred.clone(), target.clone())
            .unwrap()
            .into_scalar::<f64>();
        let h1 = relative_h1_per_sample(pred, target.clone())
            .unwrap()
            .into_scalar::<f64>();
        assert!((l2 - 0.01).abs() < 1e-3, "{l2}");
        assert!(h1 > 5.0 * l2, "{h1} vs {l2}");
        let zero = relative_h1_per_sample(target.clone(), target)
            .unwrap()
            .into_scalar::<f64>();
        assert_eq!(zero, 0.0);
    }

    #[test]
    fn the_normaliser_round_trips_and_rejects_bad_data() {
        let device = device();
        let values = [1.0, 2.0, 3.0, 4.0];
        let norm = UnitGaussian::fit(&values, 0.0).unwrap();
        assert!((norm.mean - 2.5).abs() < 1e-15 && (norm.std - 1.25f64.sqrt()).abs() < 1e-15);
        let encoded = norm.encode_values(&values);
        assert!(encoded.iter().sum::<f64>().abs() < 1e-12);
        let t = Tensor::<1>::from_data(TensorData::new(values.to_vec(), [4]), &device);
        let back: Vec<f64> = norm
            .decode(norm.encode(t))
            .into_data()
            .iter::<f64>()
            .collect();
        assert!(back.iter().zip(&values).all(|(a, b)| (a - b).abs() < 1e-12));
        assert!(UnitGaussian::fit(&[], 0.0).is_err());
        assert!(UnitGaussian::fit(&[f64::NAN], 0.0).is_err());
    }
}
