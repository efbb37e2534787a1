//! DeepONet (Lu et al. 2021): `G(v)(y) ≈ Σ_k b_k(v) t_k(y) + b_0` with a branch network on the
//! input function's sensor values and a trunk network on the query coordinates.
//!
//! Batches are Cartesian products (every function at every query point: `[B, m] × [P, d] ->
//! [B, P]`), the layout of DeepXDE's `TripleCartesianProd`. The trunk is a kiln-core [`Mlp`],
//! so derivatives of `G(v)` with respect to `y` come from its forward jets and physics-informed
//! losses train with ordinary reverse mode.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use kiln_core::jet::FourierFeaturesConfig;
use kiln_core::{Activation, Mlp, MlpConfig, SecondOrder};

use crate::Error;

/// Configuration of a [`DeepOnet`].
#[derive(Config, Debug)]
pub struct DeepOnetConfig {
    /// Branch widths from the sensor count to the latent size `p`, e.g. `[100, 40, 40]`.
    pub branch: Vec<usize>,
    /// Trunk widths from the coordinate count to `p`, e.g. `[1, 40, 40]`.
    pub trunk: Vec<usize>,
    /// Stacked DeepONet: `p` independent branch networks with one output each (the branch widths
    /// then end in `p` and each sub-network uses `branch` with its last width replaced by 1).
    #[config(default = false)]
    pub stacked: bool,
    /// Hidden activation of both networks.
    #[config(default = "Activation::Tanh")]
    pub activation: Activation,
    /// Optional Fourier-feature embedding of the trunk's coordinates (its `inputs` must equal
    /// `trunk[0]`); helps the trunk represent oscillatory outputs.
    #[config(default = "None")]
    pub trunk_fourier: Option<FourierFeaturesConfig>,
}

/// A DeepONet.
#[derive(Module, Debug)]
pub struct DeepOnet {
    /// One branch network (unstacked) or `p` of them (stacked).
    pub branches: Vec<Mlp>,
    /// The trunk network.
    pub trunk: Mlp,
    /// The output bias `b_0`.
    pub bias: Param<Tensor<1>>,
}

/// The operator's output and its derivatives with respect to the query coordinates.
#[derive(Debug, Clone)]
pub struct OperatorJet {
    /// `G(v)(y)`, `[B, P]`.
    pub value: Tensor<2>,
    /// `∂G(v)(y)/∂y_i` for each coordinate `i`, each `[B, P]`.
    pub gradient: Vec<Tensor<2>>,
    /// `∂²G(v)(y)/∂y_i²` for each coordinate (empty unless requested), each `[B, P]`.
    pub second: Vec<Tensor<2>>,
}

impl DeepOnetConfig {
    /// Builds the network.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when branch and trunk disagree on `p`, or for invalid widths.
    pub fn init(&self, device: &Device) -> crate::Result<DeepOnet> {
        let (Some(&p_branch), Some(&p)) = (self.branch.last(), self.trunk.last()) else {
            return Err(Error::config(
                "branch/trunk",
                format!("{:?}/{:?}", self.branch, self.trunk),
                "give at least input and output widths for both networks",
            ));
        };
        if p_branch != p {
            return Err(Error::config(
                "branch",
                format!("{:?}", self.branch),
                format!("its last width must equal the trunk's last width p = {p}"),
            ));
        }
        let mlp = |sizes: Vec<usize>| {
            MlpConfig::new(sizes)
                .with_activation(self.activation)
                .init(device)
        };
        let branches = if self.stacked {
            let mut sizes = self.branch.clone();
            *sizes.last_mut().expect("checked non-empty") = 1;
            (0..p)
                .map(|_| mlp(sizes.clone()))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            vec![mlp(self.branch.clone())?]
        };
        let trunk = MlpConfig::new(self.trunk.clone())
            .with_activation(self.activation)
            .with_fourier(self.trunk_fourier.clone())
            .init(device)?;
        Ok(DeepOnet {
            branches,
            trunk,
            bias: Param::from_tensor(Tensor::zeros([1], device)),
        })
    }
}

impl DeepOnet {
    /// The branch coefficients `b(v)`.
    ///
    /// # Shapes
    /// `[B, m] -> [B, p]`
    pub fn branch(&self, v: Tensor<2>) -> Tensor<2> {
        if self.branches.len() == 1 {
            self.branches[0].forward(v)
        } else {
            Tensor::cat(
                self.branches.iter().map(|b| b.forward(v.clone())).collect(),
                1,
            )
        }
    }

    /// Evaluates every input function at every query point.
    ///
    /// # Shapes
    /// `v`: `[B, m]`, `y`: `[P, d]` -> `[B, P]`
    pub fn forward(&self, v: Tensor<2>, y: Tensor<2>) -> Tensor<2> {
        let t = self.trunk.forward(y);
        self.branch(v)
            .matmul(t.transpose())
            .add(self.bias.val().unsqueeze())
    }

    /// Evaluates the operator with its derivatives in the query coordinates, through the
    /// trunk's forward jets (`SecondOrder::Diagonal` adds the pure second derivatives).
    ///
    /// # Shapes
    /// `v`: `[B, m]`, `y`: `[P, d]` -> every tensor `[B, P]`
    pub fn forward_jet(&self, v: Tensor<2>, y: Tensor<2>, order: SecondOrder) -> OperatorJet {
        let d = y.dims()[1];
        let jet = self.trunk.forward_jet(y, order);
        let b = self.branch(v);
        let apply = |t: Tensor<2>| b.clone().matmul(t.transpose());
        OperatorJet {
            value: apply(jet.value()).add(self.bias.val().unsqueeze()),
            gradient: (0..d).map(|i| apply(jet.d(i))).collect(),
            second: (0..d).filter_map(|i| jet.d2(i, i).map(apply)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_core::{BackendKind, Precision};

    fn device() -> Device {
        let device = kiln_core::device(BackendKind::from_env().unwrap()).unwrap();
        kiln_core::device::configure_precision(&device, Precision::F64).unwrap();
        device
    }

    #[test]
    fn jets_match_finite_differences_and_stacking_works() {
        let device = device();
        for stacked in [false, true] {
            let net = DeepOnetConfig::new(vec![5, 8, 6], vec![1, 8, 6])
                .with_stacked(stacked)
                .init(&device)
                .unwrap();
            assert_eq!(net.branches.len(), if stacked { 6 } else { 1 });
            let v = Tensor::<2>::random([3, 5], burn::tensor::Distribution::Default, &device);
            let y = Tensor::<2>::from_floats([[0.1], [0.5], [0.9]], &device);
            let h = 1e-5;
            let jet = net.forward_jet(v.clone(), y.clone(), SecondOrder::Diagonal);
            let up = net.forward(v.clone(), y.clone().add_scalar(h));
            let down = net.forward(v.clone(), y.clone().sub_scalar(h));
            let fd = (up.clone() - down.clone()).div_scalar(2.0 * h);
            let err = (fd - jet.gradient[0].clone())
                .abs()
                .max()
                .into_scalar::<f64>();
            assert!(err < 1e-8, "{err}");
            let fd2 = (up + down - jet.value.clone().mul_scalar(2.0)).div_scalar(h * h);
            let err2 = (fd2 - jet.second[0].clone())
                .abs()
                .max()
                .into_scalar::<f64>();
            assert!(err2 < 1e-4, "{err2}");
            assert_eq!(jet.value.dims(), [3, 3]);
        }
    }

    #[test]
    fn mismatched_latent_sizes_are_errors() {
        let device = device();
        assert!(
            DeepOnetConfig::new(vec![5, 8, 6], vec![1, 8, 7])
                .init(&device)
                .is_err()
        );
        assert!(
            DeepOnetConfig::new(vec![], vec![1, 8, 7])
                .init(&device)
                .is_err()
        );
    }
}
