//! Spectral convolutions: a truncated real DFT, a learned complex channel mixing per retained
//! mode, and the inverse DFT, all as matmuls with cached bases (see [`super::basis`]).
//!
//! Along the last axis the half spectrum `k = 0..m` is kept (as `rfft`); along the first axis
//! of a 2-D field the signed frequencies `0..m1` and `-m1..-1` (as the FNO paper). On a grid too
//! coarse for all modes, only the representable ones are used, so any grid size works.

use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor};

use super::basis::{Basis, basis};

fn complex_weight(re: Tensor<3>, im: Tensor<3>) -> Tensor<3> {
    // Rows (channel, Re/Im of the input), columns (Re/Im of the output, channel):
    // Yr = Xr Wr - Xi Wi, Yi = Xr Wi + Xi Wr. Built from last-axis concatenations only (cheap)
    // and a free reshape.
    let [m, c, o] = re.dims();
    let from_re = Tensor::cat(vec![re.clone(), im.clone()], 2);
    let from_im = Tensor::cat(vec![im.neg(), re], 2);
    Tensor::cat(vec![from_re, from_im], 2).reshape([m, 2 * c, 2 * o])
}

fn init_weight<const D: usize>(
    shape: [usize; D],
    cin: usize,
    cout: usize,
    device: &Device,
) -> Param<Tensor<D>> {
    let std = (2.0 / (cin + cout) as f64).sqrt();
    Param::from_tensor(Tensor::random(
        shape,
        Distribution::Normal(0.0, std),
        device,
    ))
}

/// A 1-D spectral convolution keeping the modes `k = 0..modes`.
#[derive(Module, Debug)]
pub struct SpectralConv1d {
    /// Real parts of the mode weights, `[modes, in, out]`.
    pub weight_re: Param<Tensor<3>>,
    /// Imaginary parts of the mode weights, `[modes, in, out]`.
    pub weight_im: Param<Tensor<3>>,
}

impl SpectralConv1d {
    /// A layer with normally distributed weights (std `sqrt(2 / (in + out))`).
    pub fn new(channels_in: usize, channels_out: usize, modes: usize, device: &Device) -> Self {
        let shape = [modes, channels_in, channels_out];
        SpectralConv1d {
            weight_re: init_weight(shape, channels_in, channels_out, device),
            weight_im: init_weight(shape, channels_in, channels_out, device),
        }
    }

    /// Number of retained modes.
    pub fn modes(&self) -> usize {
        self.weight_re.shape().dims::<3>()[0]
    }

    /// Applies the layer.
    ///
    /// # Shapes
    /// `[batch, in, n] -> [batch, out, n]` for any `n >= 1`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, c, n] = x.dims();
        let [modes, _, o] = self.weight_re.shape().dims::<3>();
        let m = modes.min(n / 2 + 1);
        let device = x.device();
        let spec = x
            .reshape([b * c, n])
            .matmul(basis(Basis::RealForward, n, m, &device)); // [b c, 2m]
        let spec = spec
            .reshape([b, c, 2, m])
            .permute([3, 0, 1, 2])
            .reshape([m, b, 2 * c]);
        let w = complex_weight(
            self.weight_re.val().narrow(0, 0, m),
            self.weight_im.val().narrow(0, 0, m),
        );
        let out = spec.matmul(w); // [m, b, 2o]
        let out = out
            .reshape([m, b, 2, o])
            .permute([1, 3, 2, 0])
            .reshape([b * o, 2 * m]);
        out.matmul(basis(Basis::RealInverse, n, m, &device))
            .reshape([b, o, n])
    }
}

/// A 2-D spectral convolution keeping `k1 ∈ {0..m1, -m1..-1}` and `k2 ∈ 0..m2`.
#[derive(Module, Debug)]
pub struct SpectralConv2d {
    /// Real parts, `[m2, 2 m1, in, out]` (second axis: `k1 = 0..m1` then `-m1..-1`).
    pub weight_re: Param<Tensor<4>>,
    /// Imaginary parts, same shape.
    pub weight_im: Param<Tensor<4>>,
}

impl SpectralConv2d {
    /// A layer with normally distributed weights (std `sqrt(2 / (in + out))`).
    pub fn new(
        channels_in: usize,
        channels_out: usize,
        modes: [usize; 2],
        device: &Device,
    ) -> Self {
        let shape = [modes[1], 2 * modes[0], channels_in, channels_out];
        SpectralConv2d {
            weight_re: init_weight(shape, channels_in, channels_out, device),
            weight_im: init_weight(shape, channels_in, channels_out, device),
        }
    }

    /// Retained modes `[m1, m2]`.
    pub fn modes(&self) -> [usize; 2] {
        let [m2, m1x2, _, _] = self.weight_re.shape().dims::<4>();
        [m1x2 / 2, m2]
    }

    /// The complex weights of the retained modes: `k2 < m2`, `k1 ∈ 0..pos` and `-neg..-1`.
    fn weights(&self, pos: usize, neg: usize, m2: usize) -> Tensor<3> {
        let [_, m1x2, c, o] = self.weight_re.shape().dims::<4>();
        let full = m1x2 / 2;
        let pick = |w: Tensor<4>| {
            let w = w.narrow(0, 0, m2);
            let w = if pos == full && neg == full {
                w
            } else if neg == 0 {
                w.narrow(1, 0, pos)
            } else {
                Tensor::cat(
                    vec![
                        w.clone().narrow(1, 0, pos),
                        w.narrow(1, 2 * full - neg, neg),
                    ],
                    1,
                )
            };
            w.reshape([m2 * (pos + neg), c, o])
        };
        complex_weight(pick(self.weight_re.val()), pick(self.weight_im.val()))
    }

    /// Applies the layer.
    ///
    /// # Shapes
    /// `[batch, in, h, w] -> [batch, out, h, w]` for any `h, w >= 1`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let [m1_full, m2_full] = self.modes();
        let o = self.weight_re.shape().dims::<4>()[3];
        // Frequencies along h: 0..m1 and -m1..-1 (only 0 on a single row).
        let (m1, neg) = if h == 1 {
            (1, 0)
        } else {
            let m = m1_full.min(h / 2);
            (m, m)
        };
        let m2 = m2_full.min(w / 2 + 1);
        let k1 = m1 + neg;
        let device = x.device();
        // Along w: [b, c, h, 2 m2] = (Re, Im).
        let z = x
            .reshape([b * c * h, w])
            .matmul(basis(Basis::RealForward, w, m2, &device));
        // Along h (complex): [b c m2, 2h] @ [2h, 2 k1] -> [b c m2, 2 k1].
        let z = z
            .reshape([b, c, h, 2, m2])
            .permute([0, 1, 4, 3, 2])
            .reshape([b * c * m2, 2 * h]);
        let spec = z.matmul(basis(Basis::ComplexForward, h, m1, &device));
        let spec = spec
            .reshape([b, c, m2, 2, k1])
            .permute([2, 4, 0, 1, 3])
            .reshape([m2 * k1, b, 2 * c]);
        let out = spec.matmul(self.weights(m1, neg, m2)); // [m2 k1, b, 2o]
        let out = out
            .reshape([m2, k1, b, 2, o])
            .permute([2, 4, 0, 3, 1])
            .reshape([b * o * m2, 2 * k1]);
        let out = out.matmul(basis(Basis::ComplexInverse, h, m1, &device)); // [b o m2, 2h]
        let out = out
            .reshape([b, o, m2, 2, h])
            .permute([0, 1, 4, 3, 2])
            .reshape([b * o * h, 2 * m2]);
        out.matmul(basis(Basis::RealInverse, w, m2, &device))
            .reshape([b, o, h, w])
            .mul_scalar(1.0 / h as f64)
    }
}
