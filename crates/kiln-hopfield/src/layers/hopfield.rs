//! The `Hopfield` layer: association of state patterns with stored patterns through learned
//! query/key/value projections, several heads with their own inverse temperature, iterated
//! updates, switchable layer norms, padding and association masks and dropout.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Tensor, TensorData};

use super::core::associate;
use super::input::{AssociationMask, HopfieldInput, HopfieldOutput};
use crate::Error;
use crate::modern::Steps;

/// Configuration of a [`Hopfield`] layer.
///
/// The defaults follow hopfield-layers: projections of state, stored and value patterns and of
/// the output, layer norms on the three inputs, one head, `β = 1/sqrt(head_dim)`, one update.
/// [`HopfieldConfig::retrieval`] gives the projection-free layer that equals
/// [`modern::retrieve`](crate::modern::retrieve).
#[derive(Config, Debug)]
pub struct HopfieldConfig {
    /// Width of the state patterns `R` (the queries).
    pub state_size: usize,
    /// Width of the stored patterns `Y` (the keys).
    pub stored_size: usize,
    /// Width of the value patterns when they are given apart from the stored patterns
    /// (`None`: the stored patterns are the values, width `stored_size`).
    #[config(default = "None")]
    pub value_size: Option<usize>,
    /// Number of heads.
    #[config(default = 1)]
    pub num_heads: usize,
    /// Width of each head's association space (`None`: `state_size`, or `stored_size` when
    /// only the stored patterns are projected).
    #[config(default = "None")]
    pub head_dim: Option<usize>,
    /// Width of each head's retrieved values (`None`: `head_dim`, or the value width when the
    /// values are not projected).
    #[config(default = "None")]
    pub pattern_dim: Option<usize>,
    /// Width of the output projection (`None`: `state_size`); must be `None` or
    /// `num_heads * pattern_dim` without an output projection.
    #[config(default = "None")]
    pub output_size: Option<usize>,
    /// Project the state patterns with `W_Q` (else each head sees them unchanged).
    #[config(default = true)]
    pub project_state: bool,
    /// Project the stored patterns with `W_K` (else each head sees them unchanged).
    #[config(default = true)]
    pub project_stored: bool,
    /// Project the value patterns with `W_V` (else each head reads them out unchanged).
    #[config(default = true)]
    pub project_values: bool,
    /// Project the concatenated heads with `W_O`.
    #[config(default = true)]
    pub project_output: bool,
    /// Give the projections a bias.
    #[config(default = true)]
    pub bias: bool,
    /// Layer norm on the state patterns before their projection.
    #[config(default = true)]
    pub normalize_state: bool,
    /// Layer norm on the stored patterns before their projection.
    #[config(default = true)]
    pub normalize_stored: bool,
    /// Layer norm on the value patterns (pattern projections) before their projection.
    #[config(default = true)]
    pub normalize_values: bool,
    /// Inverse temperature: empty for `1/sqrt(head_dim)` in every head, one value shared by
    /// every head, or one value per head.
    #[config(default = "Vec::new()")]
    pub beta: Vec<f64>,
    /// Learn β (one parameter per head) instead of keeping it fixed; like hopfield-layers, the
    /// learned value is used as it is, without a constraint to stay positive.
    #[config(default = false)]
    pub trainable_beta: bool,
    /// Updates of the state patterns; the last one reads out the values.
    #[config(default = "Steps::Fixed(1)")]
    pub steps: Steps,
    /// Dropout probability on the association weights (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// The widths a [`Hopfield`] layer works with, resolved from its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HopfieldDims {
    /// Width of the state patterns.
    pub state_size: usize,
    /// Width of the stored patterns.
    pub stored_size: usize,
    /// Width of the value patterns.
    pub value_size: usize,
    /// Number of heads.
    pub num_heads: usize,
    /// Width of each head's association space.
    pub head_dim: usize,
    /// Width of each head's retrieved values.
    pub pattern_dim: usize,
    /// Width of the layer's output.
    pub output_size: usize,
}

fn positive(field: &'static str, value: usize) -> crate::Result<()> {
    if value == 0 {
        Err(Error::config(field, 0, "must be at least 1"))
    } else {
        Ok(())
    }
}

impl HopfieldConfig {
    /// The projection-free layer that equals [`modern::retrieve`](crate::modern::retrieve)
    /// with inverse temperature `beta` on patterns of width `dim`: no projections, no layer
    /// norms, one head, one update (change it with `with_steps`).
    pub fn retrieval(dim: usize, beta: f64) -> Self {
        HopfieldConfig::new(dim, dim)
            .with_project_state(false)
            .with_project_stored(false)
            .with_project_values(false)
            .with_project_output(false)
            .with_normalize_state(false)
            .with_normalize_stored(false)
            .with_normalize_values(false)
            .with_beta(vec![beta])
    }

    /// The widths the layer will have.
    ///
    /// # Errors
    /// As [`HopfieldConfig::validate`].
    pub fn dims(&self) -> crate::Result<HopfieldDims> {
        positive("state_size", self.state_size)?;
        positive("stored_size", self.stored_size)?;
        positive("num_heads", self.num_heads)?;
        let value_size = self.value_size.unwrap_or(self.stored_size);
        positive("value_size", value_size)?;
        let head_dim = self
            .head_dim
            .unwrap_or(match (self.project_state, self.project_stored) {
                (true, false) => self.stored_size,
                _ => self.state_size,
            });
        positive("head_dim", head_dim)?;
        if !self.project_state && head_dim != self.state_size {
            return Err(Error::config(
                "head_dim",
                head_dim,
                &format!(
                    "without a state projection every head sees the state patterns unchanged, so \
                     head_dim must equal state_size = {}; set project_state = true or change \
                     head_dim",
                    self.state_size
                ),
            ));
        }
        if !self.project_stored && head_dim != self.stored_size {
            return Err(Error::config(
                "head_dim",
                head_dim,
                &format!(
                    "without a stored-pattern projection every head sees the stored patterns \
                     unchanged, so head_dim must equal stored_size = {}; set project_stored = true \
                     or change head_dim",
                    self.stored_size
                ),
            ));
        }
        let pattern_dim = self.pattern_dim.unwrap_or(if self.project_values {
            head_dim
        } else {
            value_size
        });
        positive("pattern_dim", pattern_dim)?;
        if !self.project_values && pattern_dim != value_size {
            return Err(Error::config(
                "pattern_dim",
                pattern_dim,
                &format!(
                    "without a value projection the heads read out the values unchanged, so \
                     pattern_dim must equal the value width {value_size}; set project_values = true"
                ),
            ));
        }
        let concat = self.num_heads * pattern_dim;
        let output_size = if self.project_output {
            self.output_size.unwrap_or(self.state_size)
        } else {
            match self.output_size {
                Some(size) if size != concat => {
                    return Err(Error::config(
                        "output_size",
                        size,
                        &format!(
                            "without an output projection the output is the {} heads' values \
                             side by side, width num_heads * pattern_dim = {concat}; set \
                             project_output = true or output_size = None",
                            self.num_heads
                        ),
                    ));
                }
                _ => concat,
            }
        };
        positive("output_size", output_size)?;
        Ok(HopfieldDims {
            state_size: self.state_size,
            stored_size: self.stored_size,
            value_size,
            num_heads: self.num_heads,
            head_dim,
            pattern_dim,
            output_size,
        })
    }

    /// The inverse temperature of every head.
    fn betas(&self, dims: &HopfieldDims) -> crate::Result<Vec<f64>> {
        let betas = match self.beta.len() {
            0 => vec![1.0 / (dims.head_dim as f64).sqrt(); dims.num_heads],
            1 => vec![self.beta[0]; dims.num_heads],
            n if n == dims.num_heads => self.beta.clone(),
            n => {
                return Err(Error::config(
                    "beta",
                    format!("{:?}", self.beta),
                    &format!(
                        "give no value (1/sqrt(head_dim)), one shared value, or one per head \
                         ({} heads), not {n}",
                        dims.num_heads
                    ),
                ));
            }
        };
        if let Some(b) = betas.iter().find(|b| !(**b > 0.0 && b.is_finite())) {
            return Err(Error::config(
                "beta",
                b,
                "every inverse temperature must be a positive finite number",
            ));
        }
        Ok(betas)
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field: a zero width, widths that do not fit
    /// the switched-off projections, a bad β, invalid steps, or dropout outside `[0, 1)`.
    pub fn validate(&self) -> crate::Result<()> {
        let dims = self.dims()?;
        self.betas(&dims)?;
        self.steps.validate()?;
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::config(
                "dropout",
                self.dropout,
                "the dropout probability must be in [0, 1)",
            ));
        }
        Ok(())
    }

    /// Builds the layer on `device`.
    ///
    /// # Errors
    /// As [`HopfieldConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<Hopfield> {
        self.validate()?;
        let dims = self.dims()?;
        let betas = self.betas(&dims)?;
        let norm = |on: bool, width: usize| on.then(|| LayerNormConfig::new(width).init(device));
        let linear = |on: bool, from: usize, to: usize| {
            on.then(|| {
                LinearConfig::new(from, to)
                    .with_bias(self.bias)
                    .init(device)
            })
        };
        let heads = dims.num_heads;
        let beta = Tensor::from_data(TensorData::new(betas, [heads]), device);
        Ok(Hopfield {
            state_norm: norm(self.normalize_state, dims.state_size),
            stored_norm: norm(self.normalize_stored, dims.stored_size),
            value_norm: norm(self.normalize_values, dims.value_size),
            query: linear(self.project_state, dims.state_size, heads * dims.head_dim),
            key: linear(self.project_stored, dims.stored_size, heads * dims.head_dim),
            value: linear(
                self.project_values,
                dims.value_size,
                heads * dims.pattern_dim,
            ),
            output: linear(
                self.project_output,
                heads * dims.pattern_dim,
                dims.output_size,
            ),
            beta: Param::from_tensor(beta).set_require_grad(self.trainable_beta),
            dropout: DropoutConfig::new(self.dropout).init(),
            dims,
            steps: self.steps,
        })
    }
}

/// A Hopfield layer (Ramsauer et al. 2020): each head retrieves, for every state pattern, a
/// softmax-weighted combination of the (projected) stored patterns, `softmax(β Q Kᵀ) V`.
///
/// `Q = LN(R) W_Q`, `K = LN(Y) W_K`, `V = LN(P) W_V` per head (`P = Y` unless values are given);
/// the state is updated `Q ← softmax(β Q Kᵀ) K` for all but the last of the configured steps,
/// and the heads' outputs are concatenated and projected by `W_O`.
#[derive(Module, Debug)]
pub struct Hopfield {
    /// Layer norm of the state patterns.
    pub state_norm: Option<LayerNorm>,
    /// Layer norm of the stored patterns.
    pub stored_norm: Option<LayerNorm>,
    /// Layer norm of the value patterns.
    pub value_norm: Option<LayerNorm>,
    /// `W_Q`: `[state_size, num_heads * head_dim]`, head `h` in columns `h*head_dim..`.
    pub query: Option<Linear>,
    /// `W_K`: `[stored_size, num_heads * head_dim]`.
    pub key: Option<Linear>,
    /// `W_V`: `[value_size, num_heads * pattern_dim]`.
    pub value: Option<Linear>,
    /// `W_O`: `[num_heads * pattern_dim, output_size]`.
    pub output: Option<Linear>,
    /// Inverse temperature of each head, `[num_heads]`.
    pub beta: Param<Tensor<1>>,
    /// Dropout on the association weights.
    pub dropout: Dropout,
    #[module(skip)]
    dims: HopfieldDims,
    #[module(skip)]
    steps: Steps,
}

fn check_3d(
    t: &Tensor<3>,
    batch: usize,
    rows: Option<usize>,
    width: usize,
    what: &str,
) -> crate::Result<()> {
    let [b, r, w] = t.dims();
    if b != batch || b == 0 || rows.is_some_and(|n| n != r) || w != width || r == 0 {
        let rows = rows.map_or("≥1".to_string(), |n| n.to_string());
        return Err(Error::shape(
            "Hopfield::forward",
            format!("{what} [{batch}, {rows}, {width}]"),
            &t.dims(),
        ));
    }
    Ok(())
}

impl Hopfield {
    /// The layer's widths.
    pub fn dims(&self) -> HopfieldDims {
        self.dims
    }

    /// The configured update steps.
    pub fn steps(&self) -> Steps {
        self.steps
    }

    /// The current inverse temperature of each head.
    pub fn betas(&self) -> Vec<f64> {
        self.beta.val().into_data().iter::<f64>().collect()
    }

    /// Associates state patterns with stored patterns.
    ///
    /// # Shapes
    /// `state`: `[B, S, state_size]`, `stored`: `[B, N, stored_size]` →
    /// `[B, S, output_size]`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the inputs do not fit the layer.
    pub fn forward(&self, state: Tensor<3>, stored: Tensor<3>) -> crate::Result<Tensor<3>> {
        self.forward_output(HopfieldInput::new(state, stored))
    }

    /// As [`forward_with`](Self::forward_with) without the weights, which are then never formed
    /// (the read-out is fused unless dropout acts on the weights).
    ///
    /// # Errors
    /// As [`forward_with`](Self::forward_with).
    pub fn forward_output(&self, input: HopfieldInput) -> crate::Result<Tensor<3>> {
        Ok(self.associate(input, false)?.0)
    }

    /// Associates with optional values and masks, returning the weights too.
    ///
    /// # Shapes
    /// See [`HopfieldInput`]; the output is `[B, S, output_size]`, the weights
    /// `[B, num_heads, S, N]`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when an input or mask does not fit the layer, or when the masks
    /// leave some state pattern with no stored pattern to retrieve.
    pub fn forward_with(&self, input: HopfieldInput) -> crate::Result<HopfieldOutput> {
        let (output, weights, steps) = self.associate(input, true)?;
        Ok(HopfieldOutput {
            output,
            weights: weights.expect("associate forms the weights when they are wanted"),
            steps,
        })
    }

    /// The work of [`forward_with`](Self::forward_with): the output, the last update's weights
    /// when `want_weights` (else the read-out is fused and they are never formed) and the
    /// number of updates.
    fn associate(
        &self,
        input: HopfieldInput,
        want_weights: bool,
    ) -> crate::Result<(Tensor<3>, Option<Tensor<4>>, usize)> {
        let d = self.dims;
        let [batch, s, _] = input.state.dims();
        check_3d(&input.state, batch, None, d.state_size, "state")?;
        check_3d(&input.stored, batch, None, d.stored_size, "stored")?;
        let [_, n, _] = input.stored.dims();
        if let Some(values) = &input.values {
            check_3d(values, batch, Some(n), d.value_size, "values")?;
        }
        let excluded = self.excluded(&input, batch, s, n)?;
        let values = input.values.unwrap_or_else(|| input.stored.clone());

        let heads = d.num_heads;
        let split = |t: Tensor<3>, width: usize| -> Tensor<4> {
            let [b, rows, _] = t.dims();
            t.reshape([b, rows, heads, width]).swap_dims(1, 2)
        };
        let per_head = |t: Tensor<3>| -> Tensor<4> {
            let [b, rows, w] = t.dims();
            t.unsqueeze_dim::<4>(1).expand([b, heads, rows, w])
        };
        let prepare = |x: Tensor<3>, norm: &Option<LayerNorm>, proj: &Option<Linear>, w: usize| {
            let x = match norm {
                Some(ln) => ln.forward(x),
                None => x,
            };
            match proj {
                Some(linear) => split(linear.forward(x), w),
                None => per_head(x),
            }
        };
        let q = prepare(input.state, &self.state_norm, &self.query, d.head_dim);
        let k = prepare(input.stored, &self.stored_norm, &self.key, d.head_dim);
        let v = prepare(values, &self.value_norm, &self.value, d.pattern_dim);
        let excluded = excluded.map(|m| m.unsqueeze_dim::<4>(1).expand([batch, heads, s, n]));
        let assoc = associate(
            q,
            k,
            v,
            self.beta.val(),
            excluded,
            self.steps,
            &self.dropout,
            want_weights,
        );
        let out = assoc
            .output
            .swap_dims(1, 2)
            .reshape([batch, s, heads * d.pattern_dim]);
        let output = match &self.output {
            Some(linear) => linear.forward(out),
            None => out,
        };
        Ok((output, assoc.weights, assoc.steps))
    }

    /// The combined `[B, S, N]` mask of excluded pairs, checked so that every state pattern
    /// keeps at least one stored pattern.
    fn excluded(
        &self,
        input: &HopfieldInput,
        batch: usize,
        s: usize,
        n: usize,
    ) -> crate::Result<Option<Tensor<3, Bool>>> {
        let padding = match &input.padding_mask {
            Some(mask) => {
                if mask.dims() != [batch, n] {
                    return Err(Error::shape(
                        "Hopfield::forward (padding mask)",
                        format!("[{batch}, {n}] (batch, stored patterns)"),
                        &mask.dims(),
                    ));
                }
                Some(mask.clone().unsqueeze_dim::<3>(1).expand([batch, s, n]))
            }
            None => None,
        };
        let association = match &input.association_mask {
            Some(AssociationMask::Shared(mask)) => {
                if mask.dims() != [s, n] {
                    return Err(Error::shape(
                        "Hopfield::forward (association mask)",
                        format!("[{s}, {n}] (state patterns, stored patterns)"),
                        &mask.dims(),
                    ));
                }
                Some(mask.clone().unsqueeze_dim::<3>(0).expand([batch, s, n]))
            }
            Some(AssociationMask::PerBatch(mask)) => {
                if mask.dims() != [batch, s, n] {
                    return Err(Error::shape(
                        "Hopfield::forward (association mask)",
                        format!("[{batch}, {s}, {n}] (batch, state patterns, stored patterns)"),
                        &mask.dims(),
                    ));
                }
                Some(mask.clone())
            }
            None => None,
        };
        let combined = match (padding, association) {
            (Some(p), Some(a)) => Some(p.bool_or(a)),
            (p, a) => p.or(a),
        };
        if let Some(mask) = &combined {
            let every_row_keeps_one = mask
                .clone()
                .bool_not()
                .any_dim(2)
                .all()
                .into_scalar::<bool>();
            if !every_row_keeps_one {
                return Err(Error::shape(
                    "Hopfield::forward (masks)",
                    "masks that leave every state pattern at least one stored pattern",
                    &mask.dims(),
                ));
            }
        }
        Ok(combined)
    }
}
