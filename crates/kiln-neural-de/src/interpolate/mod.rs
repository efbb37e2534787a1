//! Control paths for neural CDEs: a continuous `X(t)` through irregularly sampled, possibly
//! missing observations, by linear interpolation, cubic Hermite interpolation with backward
//! differences, or cubic splines (natural, as torchcde and diffrax, or not-a-knot).
//!
//! The coefficients are computed once on the host in f64 (they are data, not parameters) and
//! stored as tensors `[batch, intervals, channels]`; [`ControlPath::evaluate`] and
//! [`ControlPath::derivative`] then cost a few tensor operations at any time.
//!
//! Missing values are NaN and are handled per channel: linear and Hermite paths fill them by
//! linear interpolation in time between the channel's observed neighbours; splines run through
//! the channel's observed values only. Before a channel's first and after its last observation
//! the path is constant.

mod spline;

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::Error;
use spline::{Ends, Piece, cubic_spline, fill_linear, hermite_backward, linear};

/// How the observations are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Interpolation {
    /// Piecewise linear (continuous, derivative jumps at the samples).
    Linear,
    /// Cubic Hermite with backward-difference slopes (C¹, and causal: `X` on `[tᵢ, tᵢ₊₁]`
    /// uses no sample after `tᵢ₊₁`).
    HermiteBackward,
    /// Natural cubic spline (C², zero curvature at the ends).
    NaturalCubic,
    /// Not-a-knot cubic spline (C², reproduces cubic polynomials exactly).
    NotAKnotCubic,
}

/// A continuous path `X(t): [batch, channels]` through samples at times `t₀ < … < t_{T-1}`.
#[derive(Clone, Debug)]
pub struct ControlPath {
    ts: Vec<f64>,
    /// Coefficients `a, b, c, d`, each `[batch, T - 1, channels]`.
    coefficients: [Tensor<3>; 4],
}

impl ControlPath {
    /// Builds the path through `values`, row-major `[batch, T, channels]` with NaN for missing
    /// values, sampled at the shared times `ts` (`T` of them, strictly increasing).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for fewer than two times, times that are not finite and strictly
    /// increasing, a value count that does not match the shape, or a channel of a sample with no
    /// observation at all.
    pub fn new(
        interpolation: Interpolation,
        ts: &[f64],
        values: &[f64],
        [batch, length, channels]: [usize; 3],
        device: &Device,
    ) -> crate::Result<Self> {
        if ts.len() < 2 || ts.len() != length {
            return Err(Error::option(
                "ts",
                format!("{} times for length {length}", ts.len()),
                "give at least two times, one per sample position",
            ));
        }
        if let Some(w) = ts
            .windows(2)
            .find(|w| !(w[0].is_finite() && w[1].is_finite() && w[1] > w[0]))
        {
            return Err(Error::option(
                "ts",
                format!("{} then {}", w[0], w[1]),
                "times must be finite and strictly increasing",
            ));
        }
        if values.len() != batch * length * channels || channels == 0 {
            return Err(Error::option(
                "values",
                format!("{} values", values.len()),
                &format!("expected batch × length × channels = {batch} × {length} × {channels}"),
            ));
        }
        let intervals = length - 1;
        let mut flat: [Vec<f64>; 4] =
            std::array::from_fn(|_| vec![0.0; batch * intervals * channels]);
        let mut column = vec![0.0; length];
        for s in 0..batch {
            for c in 0..channels {
                for (i, x) in column.iter_mut().enumerate() {
                    *x = values[(s * length + i) * channels + c];
                }
                let pieces = pieces(interpolation, ts, &column).ok_or_else(|| {
                    Error::option(
                        "values",
                        format!("sample {s}, channel {c}: all NaN"),
                        "every channel needs at least one observation per sample; drop the \
                         channel or impute it",
                    )
                })?;
                for (i, piece) in pieces.iter().enumerate() {
                    for (k, v) in piece.iter().enumerate() {
                        flat[k][(s * intervals + i) * channels + c] = *v;
                    }
                }
            }
        }
        let coefficients = flat
            .map(|f| Tensor::from_data(TensorData::new(f, [batch, intervals, channels]), device));
        Ok(Self {
            ts: ts.to_vec(),
            coefficients,
        })
    }

    /// The sample times.
    pub fn times(&self) -> &[f64] {
        &self.ts
    }

    /// `(t₀, t_{T-1})`.
    pub fn span(&self) -> (f64, f64) {
        (self.ts[0], self.ts[self.ts.len() - 1])
    }

    /// `[batch, channels]`.
    pub fn dims(&self) -> [usize; 2] {
        let [batch, _, channels] = self.coefficients[0].dims();
        [batch, channels]
    }

    /// The interval holding `t` and the offset `t - tᵢ` (the first or last piece extended
    /// outside the samples).
    fn locate(&self, t: f64) -> (usize, f64) {
        let last = self.ts.len() - 2;
        let i = self
            .ts
            .partition_point(|&s| s <= t)
            .saturating_sub(1)
            .min(last);
        (i, t - self.ts[i])
    }

    fn piece(&self, k: usize, i: usize) -> Tensor<2> {
        self.coefficients[k]
            .clone()
            .narrow(1, i, 1)
            .squeeze_dim::<2>(1)
    }

    /// `X(t)`.
    ///
    /// # Shapes
    /// `-> [batch, channels]`
    pub fn evaluate(&self, t: f64) -> Tensor<2> {
        let (i, s) = self.locate(t);
        self.piece(0, i)
            .add(self.piece(1, i).mul_scalar(s))
            .add(self.piece(2, i).mul_scalar(s * s))
            .add(self.piece(3, i).mul_scalar(s * s * s))
    }

    /// `dX/dt(t)` (the right derivative at a sample time).
    ///
    /// # Shapes
    /// `-> [batch, channels]`
    pub fn derivative(&self, t: f64) -> Tensor<2> {
        let (i, s) = self.locate(t);
        self.piece(1, i)
            .add(self.piece(2, i).mul_scalar(2.0 * s))
            .add(self.piece(3, i).mul_scalar(3.0 * s * s))
    }

    /// The path restricted to the samples `rows` (e.g. a mini-batch).
    pub fn select(&self, rows: &[usize]) -> Self {
        let device = self.coefficients[0].device();
        let index = Tensor::<1, burn::tensor::Int>::from_data(
            TensorData::new(rows.iter().map(|&r| r as i64).collect(), [rows.len()]),
            &device,
        );
        Self {
            ts: self.ts.clone(),
            coefficients: self
                .coefficients
                .clone()
                .map(|c| c.select(0, index.clone())),
        }
    }
}

/// The pieces of one channel, `None` when it has no observation.
fn pieces(interpolation: Interpolation, ts: &[f64], xs: &[f64]) -> Option<Vec<Piece>> {
    match interpolation {
        Interpolation::Linear => fill_linear(ts, xs).map(|x| linear(ts, &x)),
        Interpolation::HermiteBackward => fill_linear(ts, xs).map(|x| hermite_backward(ts, &x)),
        Interpolation::NaturalCubic => cubic_spline(ts, xs, Ends::Natural),
        Interpolation::NotAKnotCubic => cubic_spline(ts, xs, Ends::NotAKnot),
    }
}
