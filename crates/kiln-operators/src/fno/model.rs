//! Fourier neural operators in 1-D and 2-D: lifting, spectral blocks with pointwise skips,
//! GELU, projection, optional grid-coordinate channels and resolution-proportional padding.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Distribution, Tensor, TensorData};

use super::spectral::{SpectralConv1d, SpectralConv2d};
use crate::Error;

/// A pointwise (1×1) channel map `y = W x + b` on `[batch, in, points]`.
#[derive(Module, Debug)]
pub struct ChannelLinear {
    /// `[out, in]`.
    pub weight: Param<Tensor<2>>,
    /// `[out]`.
    pub bias: Param<Tensor<1>>,
}

impl ChannelLinear {
    /// A map with PyTorch's default `U(-1/√in, 1/√in)` initialisation.
    pub fn new(channels_in: usize, channels_out: usize, device: &Device) -> Self {
        let k = 1.0 / (channels_in as f64).sqrt();
        ChannelLinear {
            weight: Param::from_tensor(Tensor::random(
                [channels_out, channels_in],
                Distribution::Uniform(-k, k),
                device,
            )),
            bias: Param::from_tensor(Tensor::random(
                [channels_out],
                Distribution::Uniform(-k, k),
                device,
            )),
        }
    }

    /// Applies the map.
    ///
    /// # Shapes
    /// `[batch, in, points] -> [batch, out, points]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let o = self.bias.shape().dims::<1>()[0];
        self.weight
            .val()
            .unsqueeze::<3>()
            .matmul(x)
            .add(self.bias.val().reshape([1, o, 1]))
    }
}

/// A channel MLP `in -> hidden -> out` with GELU (a single linear map when `hidden == 0`).
#[derive(Module, Debug)]
pub struct ChannelMlp {
    /// The linear maps.
    pub layers: Vec<ChannelLinear>,
}

impl ChannelMlp {
    fn new(cin: usize, hidden: usize, cout: usize, device: &Device) -> Self {
        let layers = if hidden == 0 {
            vec![ChannelLinear::new(cin, cout, device)]
        } else {
            vec![
                ChannelLinear::new(cin, hidden, device),
                ChannelLinear::new(hidden, cout, device),
            ]
        };
        ChannelMlp { layers }
    }

    /// # Shapes
    /// `[batch, in, points] -> [batch, out, points]`
    pub fn forward(&self, mut x: Tensor<3>) -> Tensor<3> {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = gelu(x);
            }
        }
        x
    }
}

macro_rules! fno_config {
    ($name:ident, $modes:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Config, Debug)]
        pub struct $name {
            /// Input channels (without the grid channels).
            pub in_channels: usize,
            /// Output channels.
            pub out_channels: usize,
            /// Retained Fourier modes.
            pub modes: $modes,
            /// Width of the spectral blocks.
            #[config(default = 32)]
            pub hidden: usize,
            /// Number of spectral blocks.
            #[config(default = 4)]
            pub layers: usize,
            /// Hidden width of the lifting channel MLP (0: one linear map).
            #[config(default = 64)]
            pub lifting_channels: usize,
            /// Hidden width of the projection channel MLP (0: one linear map).
            #[config(default = 64)]
            pub projection_channels: usize,
            /// Append the grid coordinates in `[0, 1]` as input channels.
            #[config(default = true)]
            pub grid: bool,
            /// Zero padding appended to each spatial axis, as a fraction of its size (0: none).
            /// A fraction rather than a count keeps the padded domain the same at every
            /// resolution, so zero-shot super-resolution stays consistent.
            #[config(default = 0.0)]
            pub padding: f64,
        }

        impl $name {
            fn check(&self, modes: &[usize]) -> crate::Result<()> {
                if self.in_channels == 0 || self.out_channels == 0 || self.hidden == 0 {
                    return Err(Error::config(
                        "in_channels/out_channels/hidden",
                        format!("{}/{}/{}", self.in_channels, self.out_channels, self.hidden),
                        "every width must be at least 1",
                    ));
                }
                if self.layers == 0 {
                    return Err(Error::config(
                        "layers",
                        0,
                        "use at least one spectral block",
                    ));
                }
                if modes.contains(&0) {
                    return Err(Error::config(
                        "modes",
                        format!("{modes:?}"),
                        "keep at least one mode per axis",
                    ));
                }
                if !(self.padding.is_finite() && (0.0..=4.0).contains(&self.padding)) {
                    return Err(Error::config(
                        "padding",
                        self.padding,
                        "a fraction of the grid size in [0, 4] (e.g. 0.125)",
                    ));
                }
                Ok(())
            }
        }
    };
}

fno_config!(Fno1dConfig, usize, "Configuration of a [`Fno1d`].");
fno_config!(Fno2dConfig, [usize; 2], "Configuration of a [`Fno2d`].");

/// The grid `j / (n - 1)` (0 for `n == 1`).
fn coords(n: usize) -> Vec<f64> {
    (0..n).map(|j| j as f64 / (n.max(2) - 1) as f64).collect()
}

fn pad_count(n: usize, fraction: f64) -> usize {
    (n as f64 * fraction).round() as usize
}

/// A 1-D Fourier neural operator.
#[derive(Module, Debug)]
pub struct Fno1d {
    /// Lifting to the hidden width.
    pub lifting: ChannelMlp,
    /// Spectral convolutions.
    pub spectral: Vec<SpectralConv1d>,
    /// Pointwise skips.
    pub skips: Vec<ChannelLinear>,
    /// Projection to the outputs.
    pub projection: ChannelMlp,
    #[module(skip)]
    grid: bool,
    #[module(skip)]
    padding: f64,
}

impl Fno1dConfig {
    /// Builds the operator.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero widths, layers or modes, or a bad padding fraction.
    pub fn init(&self, device: &Device) -> crate::Result<Fno1d> {
        self.check(&[self.modes])?;
        let cin = self.in_channels + usize::from(self.grid);
        Ok(Fno1d {
            lifting: ChannelMlp::new(cin, self.lifting_channels, self.hidden, device),
            spectral: (0..self.layers)
                .map(|_| SpectralConv1d::new(self.hidden, self.hidden, self.modes, device))
                .collect(),
            skips: (0..self.layers)
                .map(|_| ChannelLinear::new(self.hidden, self.hidden, device))
                .collect(),
            projection: ChannelMlp::new(
                self.hidden,
                self.projection_channels,
                self.out_channels,
                device,
            ),
            grid: self.grid,
            padding: self.padding,
        })
    }
}

impl Fno1d {
    /// Evaluates the operator on functions sampled at `n` equispaced points (any `n >= 1`).
    ///
    /// # Shapes
    /// `[batch, in_channels, n] -> [batch, out_channels, n]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, _, n] = x.dims();
        let device = x.device();
        let x = if self.grid {
            let g = Tensor::<3>::from_data(TensorData::new(coords(n), [1, 1, n]), &device);
            Tensor::cat(vec![x, g.expand([b, 1, n])], 1)
        } else {
            x
        };
        let mut h = self.lifting.forward(x);
        let p = pad_count(n, self.padding);
        if p > 0 {
            let c = h.dims()[1];
            h = Tensor::cat(vec![h, Tensor::zeros([b, c, p], &device)], 2);
        }
        let last = self.spectral.len() - 1;
        for (i, (conv, skip)) in self.spectral.iter().zip(&self.skips).enumerate() {
            h = conv.forward(h.clone()) + skip.forward(h);
            if i < last {
                h = gelu(h);
            }
        }
        if p > 0 {
            h = h.narrow(2, 0, n);
        }
        self.projection.forward(h)
    }
}

/// A 2-D Fourier neural operator.
#[derive(Module, Debug)]
pub struct Fno2d {
    /// Lifting to the hidden width.
    pub lifting: ChannelMlp,
    /// Spectral convolutions.
    pub spectral: Vec<SpectralConv2d>,
    /// Pointwise skips.
    pub skips: Vec<ChannelLinear>,
    /// Projection to the outputs.
    pub projection: ChannelMlp,
    #[module(skip)]
    grid: bool,
    #[module(skip)]
    padding: f64,
}

impl Fno2dConfig {
    /// Builds the operator.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero widths, layers or modes, or a bad padding fraction.
    pub fn init(&self, device: &Device) -> crate::Result<Fno2d> {
        self.check(&self.modes)?;
        let cin = self.in_channels + 2 * usize::from(self.grid);
        Ok(Fno2d {
            lifting: ChannelMlp::new(cin, self.lifting_channels, self.hidden, device),
            spectral: (0..self.layers)
                .map(|_| SpectralConv2d::new(self.hidden, self.hidden, self.modes, device))
                .collect(),
            skips: (0..self.layers)
                .map(|_| ChannelLinear::new(self.hidden, self.hidden, device))
                .collect(),
            projection: ChannelMlp::new(
                self.hidden,
                self.projection_channels,
                self.out_channels,
                device,
            ),
            grid: self.grid,
            padding: self.padding,
        })
    }
}

impl Fno2d {
    /// Evaluates the operator on fields sampled on an `h × w` grid (any `h, w >= 1`); the grid
    /// channels are `y = i / (h - 1)` and `x = j / (w - 1)`.
    ///
    /// # Shapes
    /// `[batch, in_channels, h, w] -> [batch, out_channels, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, _, h, w] = x.dims();
        let device = x.device();
        let x = if self.grid {
            let (ys, xs) = (coords(h), coords(w));
            let mut g = Vec::with_capacity(2 * h * w);
            g.extend((0..h * w).map(|k| ys[k / w]));
            g.extend((0..h * w).map(|k| xs[k % w]));
            let g = Tensor::<4>::from_data(TensorData::new(g, [1, 2, h, w]), &device);
            Tensor::cat(vec![x, g.expand([b, 2, h, w])], 1)
        } else {
            x
        };
        let cin = x.dims()[1];
        let mut t = self.lifting.forward(x.reshape([b, cin, h * w]));
        let c = t.dims()[1];
        let (ph, pw) = (pad_count(h, self.padding), pad_count(w, self.padding));
        let (hh, ww) = (h + ph, w + pw);
        let mut f = t.reshape([b, c, h, w]);
        if ph > 0 {
            f = Tensor::cat(vec![f, Tensor::zeros([b, c, ph, w], &device)], 2);
        }
        if pw > 0 {
            f = Tensor::cat(vec![f, Tensor::zeros([b, c, hh, pw], &device)], 3);
        }
        let last = self.spectral.len() - 1;
        for (i, (conv, skip)) in self.spectral.iter().zip(&self.skips).enumerate() {
            let s = skip
                .forward(f.clone().reshape([b, c, hh * ww]))
                .reshape([b, c, hh, ww]);
            f = conv.forward(f) + s;
            if i < last {
                f = gelu(f);
            }
        }
        if ph > 0 || pw > 0 {
            f = f.narrow(2, 0, h).narrow(3, 0, w);
        }
        t = self.projection.forward(f.reshape([b, c, h * w]));
        let o = t.dims()[1];
        t.reshape([b, o, h, w])
    }
}
