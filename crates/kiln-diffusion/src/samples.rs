//! `Samples`: a host-side set of points `[n, dim]` in row-major `f64`, the currency of the data
//! sets and the metrics, with conversions to and from burn tensors.

use burn::tensor::{Device, Tensor, TensorData};

use crate::{Error, Result};

/// `n` points of dimension `dim`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    dim: usize,
    data: Vec<f64>,
}

impl Samples {
    /// Points from row-major values.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `dim == 0`; [`Error::ShapeMismatch`] when `data.len()` is not
    /// a multiple of `dim`; [`Error::InvalidConfig`] for a non-finite value.
    pub fn new(data: Vec<f64>, dim: usize) -> Result<Self> {
        if dim == 0 {
            return Err(Error::config(
                "dim",
                0,
                "points need at least one coordinate",
            ));
        }
        if !data.len().is_multiple_of(dim) {
            return Err(Error::shape(
                "Samples::new",
                format!("a multiple of dim = {dim} values"),
                &[data.len()],
            ));
        }
        if let Some(bad) = data.iter().find(|v| !v.is_finite()) {
            return Err(Error::config(
                "samples",
                bad,
                "every coordinate must be finite; check the data or the sampler that produced it",
            ));
        }
        Ok(Self { dim, data })
    }

    /// Points copied from a `[n, dim]` tensor.
    ///
    /// # Errors
    /// As [`Samples::new`] (a non-finite entry is refused).
    pub fn from_tensor(tensor: Tensor<2>) -> Result<Self> {
        let [_, dim] = tensor.dims();
        Self::new(kiln_core::tensor::to_f64_vec(tensor), dim)
    }

    /// The points as a `[n, dim]` tensor in the device's float dtype.
    pub fn to_tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.data.clone(), [self.len(), self.dim]),
            device,
        )
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.data.len() / self.dim
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Dimension of each point.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Point `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// All values, row-major.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// The first two coordinates of every point, for scatter plots.
    pub fn xy(&self) -> Vec<(f64, f64)> {
        (0..self.len())
            .map(|i| {
                let r = self.row(i);
                (r[0], if self.dim > 1 { r[1] } else { 0.0 })
            })
            .collect()
    }

    /// The sample mean.
    pub fn mean(&self) -> Vec<f64> {
        let mut m = vec![0.0; self.dim];
        for i in 0..self.len() {
            for (mk, x) in m.iter_mut().zip(self.row(i)) {
                *mk += x;
            }
        }
        let n = self.len().max(1) as f64;
        m.iter_mut().for_each(|v| *v /= n);
        m
    }

    /// The sample covariance (divided by `n - 1`), row-major `[dim, dim]`.
    pub fn covariance(&self) -> Vec<f64> {
        let (d, m) = (self.dim, self.mean());
        let mut c = vec![0.0; d * d];
        for i in 0..self.len() {
            let r = self.row(i);
            for a in 0..d {
                for b in 0..d {
                    c[a * d + b] += (r[a] - m[a]) * (r[b] - m[b]);
                }
            }
        }
        let n = (self.len().max(2) - 1) as f64;
        c.iter_mut().for_each(|v| *v /= n);
        c
    }

    /// Checks that `other` has the same dimension (and, with `same_len`, as many points).
    pub(crate) fn check_compatible(
        &self,
        other: &Samples,
        same_len: bool,
        context: &str,
    ) -> Result<()> {
        if self.dim != other.dim || (same_len && self.len() != other.len()) {
            return Err(Error::shape(
                context,
                format!("[{}, {}] like the first set", self.len(), self.dim),
                &[other.len(), other.dim],
            ));
        }
        if self.is_empty() {
            return Err(Error::shape(context, "at least one point", &[0, self.dim]));
        }
        Ok(())
    }
}
