//! Scaled RMS norms of error estimates, over the whole batch or per sample.

use burn::tensor::Tensor;

use crate::controller::PidController;
use crate::step::StepError;

/// Sums of squares of `x`: one value for the batch, or one per sample.
pub(crate) fn sum_squares<const D: usize>(x: Tensor<D>, per_sample: bool) -> Vec<f64> {
    let squares = x.square();
    if per_sample {
        let dims = squares.dims();
        let batch = dims[0];
        let n = dims.iter().product::<usize>() / batch.max(1);
        squares
            .reshape([batch, n])
            .sum_dim(1)
            .into_data()
            .iter::<f64>()
            .collect()
    } else {
        vec![squares.sum().into_scalar::<f64>()]
    }
}

/// Number of elements a norm averages over: the whole state, or one sample.
pub(crate) fn count<const D: usize>(x: &Tensor<D>, per_sample: bool) -> f64 {
    let dims = x.dims();
    let n = dims.iter().product::<usize>();
    if per_sample {
        (n / dims[0].max(1)) as f64
    } else {
        n as f64
    }
}

/// The error norm of a step: RMS of `err / (atol + rtol max(|y₀|, |y₁|))`.
pub(crate) fn error_norm<const D: usize>(
    error: &StepError<D>,
    y0: &Tensor<D>,
    y1: &Tensor<D>,
    controller: &PidController,
    per_sample: bool,
) -> Vec<f64> {
    let scale = || {
        y0.clone()
            .detach()
            .abs()
            .max_pair(y1.clone().detach().abs())
            .mul_scalar(controller.rtol)
            .add_scalar(controller.atol)
    };
    let n = count(y0, per_sample);
    let batch = if per_sample { y0.dims()[0] } else { 1 };
    match error {
        StepError::None => vec![0.0; batch],
        StepError::Failed => vec![f64::INFINITY; batch],
        StepError::Embedded(e) => sum_squares(e.clone().detach().div(scale()), per_sample)
            .into_iter()
            .map(|s| (s / n).sqrt())
            .collect(),
        StepError::Dop853 { e5, e3 } => {
            let sc = scale();
            let s5 = sum_squares(e5.clone().detach().div(sc.clone()), per_sample);
            let s3 = sum_squares(e3.clone().detach().div(sc), per_sample);
            s5.iter()
                .zip(&s3)
                .map(|(&s5, &s3)| {
                    if s5 == 0.0 && s3 == 0.0 {
                        0.0
                    } else {
                        s5 / ((s5 + 0.01 * s3) * n).sqrt()
                    }
                })
                .collect()
        }
    }
}

/// RMS norms of `x / (atol + rtol |y|)`, for Hairer's initial step.
pub(crate) fn scaled_rms<const D: usize>(
    x: &Tensor<D>,
    y: &Tensor<D>,
    controller: &PidController,
    per_sample: bool,
) -> Vec<f64> {
    let scale = y
        .clone()
        .detach()
        .abs()
        .mul_scalar(controller.rtol)
        .add_scalar(controller.atol);
    let n = count(y, per_sample);
    sum_squares(x.clone().detach().div(scale), per_sample)
        .into_iter()
        .map(|s| (s / n).sqrt())
        .collect()
}
