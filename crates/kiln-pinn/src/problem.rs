//! A PINN problem: a PDE residual over the inputs and the network's jet, boundary/initial/data
//! conditions, an optional hard-constraint output transform, and the loss they assemble.

use std::sync::Arc;

use burn::tensor::{Device, Int, Tensor, TensorData};
use kiln_core::train::Loss;
use kiln_core::{Jet, SecondOrder};

use crate::condition::{Condition, ConditionKind};
use crate::geometry::Points;
use crate::network::{JetNetwork, Pinn};
use crate::{Error, Result};

/// What a residual closure sees: the collocation inputs, the field's jet there, and the trainable
/// coefficients (if the model has any).
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    /// The inputs, `[batch, inputs]`.
    pub x: &'a Tensor<2>,
    /// The (transformed) network output with its input derivatives; value `[batch, outputs]`.
    pub u: &'a Jet,
    /// The model's trainable coefficients, `[k]`.
    pub coefficients: Option<&'a Tensor<1>>,
}

impl Fields<'_> {
    /// Coefficient `k` as a `[1, 1]` tensor that broadcasts against `[batch, 1]` fields.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the model has no coefficient `k`.
    pub fn coefficient(&self, k: usize) -> Result<Tensor<2>> {
        let Some(c) = self.coefficients else {
            return Err(Error::config(
                "coefficients",
                "none",
                "the residual reads a coefficient: build the model with Pinn::with_coefficients",
            ));
        };
        let n = c.dims()[0];
        if k >= n {
            return Err(Error::config(
                "coefficient index",
                k,
                format!("the model has {n} coefficients"),
            ));
        }
        Ok(c.clone().narrow(0, k, 1).reshape([1, 1]))
    }
}

/// A PDE residual: returns `[batch, equations]`, zero where the PDE holds.
pub type ResidualFn = Arc<dyn Fn(&Fields<'_>) -> Result<Tensor<2>> + Send + Sync>;

/// A hard-constraint output transform `(x jet, network jet) -> field jet`, e.g.
/// `u = x(1 - x) N(x)`; build it with [`crate::jet_algebra`] so derivatives follow.
pub type OutputTransform = Arc<dyn Fn(&Jet, Jet) -> Result<Jet> + Send + Sync>;

/// A condition with its tensors on the problem's device.
#[derive(Debug, Clone)]
struct Bound {
    condition: Condition,
    points: Tensor<2>,
    targets: Tensor<2>,
    /// Normals (Neumann, Robin) or partner points (periodic).
    extra: Option<Tensor<2>>,
}

/// One weighted part of the loss.
#[derive(Debug, Clone)]
pub struct Term {
    /// `residual` or the condition's name.
    pub name: String,
    /// Its weight in the total.
    pub weight: f64,
    /// Mean squared residual (a one-element tensor).
    pub value: Tensor<1>,
}

/// The description of a forward, inverse or eigenvalue PINN problem; see the [module docs](self).
#[derive(Clone)]
pub struct Problem {
    device: Device,
    inputs: usize,
    outputs: usize,
    order: SecondOrder,
    residual: Option<ResidualFn>,
    residual_weight: f64,
    collocation: Option<(Points, Tensor<2>)>,
    conditions: Vec<Bound>,
    /// The points of every value condition, stacked in order: without an output transform they
    /// all go through one plain forward pass per loss instead of one each.
    value_points: Option<Tensor<2>>,
    transform: Option<OutputTransform>,
}

impl std::fmt::Debug for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Problem")
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .field("order", &self.order)
            .field("collocation", &self.collocation.as_ref().map(|c| c.0.len()))
            .field(
                "conditions",
                &self
                    .conditions
                    .iter()
                    .map(|c| c.condition.name.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("hard_constraint", &self.transform.is_some())
            .finish()
    }
}

impl Problem {
    /// An empty problem for a field `R^inputs -> R^outputs` whose tensors live on `device`.
    pub fn new(inputs: usize, outputs: usize, device: &Device) -> Self {
        Problem {
            device: device.clone(),
            inputs,
            outputs,
            order: SecondOrder::None,
            residual: None,
            residual_weight: 1.0,
            collocation: None,
            conditions: Vec::new(),
            value_points: None,
            transform: None,
        }
    }

    /// Sets the PDE residual and the second derivatives it reads (`Diagonal` for Laplacians,
    /// `Full` for mixed derivatives).
    pub fn with_residual(
        mut self,
        order: SecondOrder,
        residual: impl Fn(&Fields<'_>) -> Result<Tensor<2>> + Send + Sync + 'static,
    ) -> Self {
        self.order = order;
        self.residual = Some(Arc::new(residual));
        self
    }

    /// Weight of the residual term (default 1).
    pub fn with_residual_weight(mut self, weight: f64) -> Self {
        self.residual_weight = weight;
        self
    }

    /// Sets the collocation points of the residual.
    ///
    /// # Errors
    /// As [`Problem::set_collocation`].
    pub fn with_collocation(mut self, points: Points) -> Result<Self> {
        self.set_collocation(points)?;
        Ok(self)
    }

    /// Replaces the collocation points (periodic resampling, adaptive refinement).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the points have the wrong dimension or there are none.
    pub fn set_collocation(&mut self, points: Points) -> Result<()> {
        self.check_points("collocation points", &points)?;
        let tensor = points.to_tensor(&self.device)?;
        self.collocation = Some((points, tensor));
        Ok(())
    }

    /// The collocation points.
    pub fn collocation(&self) -> Option<&Points> {
        self.collocation.as_ref().map(|c| &c.0)
    }

    /// Adds a condition.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when its points do not have `inputs` coordinates;
    /// [`Error::InvalidConfig`] for a component or axis out of range or a negative weight.
    pub fn with_condition(mut self, condition: Condition) -> Result<Self> {
        self.check_points(
            &format!("condition `{}`", condition.name),
            &condition.points,
        )?;
        if condition.component >= self.outputs {
            return Err(Error::config(
                "component",
                condition.component,
                format!("the field has {} outputs", self.outputs),
            ));
        }
        if !(condition.weight >= 0.0 && condition.weight.is_finite()) {
            return Err(Error::config(
                "weight",
                condition.weight,
                "weights must be finite and >= 0",
            ));
        }
        let n = condition.points.len();
        let points = condition.points.to_tensor(&self.device)?;
        let targets = kiln_core::tensor::from_f64(&condition.targets, [n, 1], &self.device)?;
        let extra = match &condition.kind {
            ConditionKind::Neumann { normals } | ConditionKind::Robin { normals, .. } => {
                Some(normals.to_tensor(&self.device)?)
            }
            ConditionKind::Periodic { partner, .. } => Some(partner.to_tensor(&self.device)?),
            ConditionKind::Value | ConditionKind::Derivative { .. } => None,
        };
        if condition.kind == ConditionKind::Value {
            self.value_points = Some(match self.value_points.take() {
                Some(stacked) => Tensor::cat(vec![stacked, points.clone()], 0),
                None => points.clone(),
            });
        }
        self.conditions.push(Bound {
            condition,
            points,
            targets,
            extra,
        });
        Ok(self)
    }

    /// Sets a hard-constraint output transform `(x, N) -> u`; see [`OutputTransform`].
    pub fn with_transform(
        mut self,
        transform: impl Fn(&Jet, Jet) -> Result<Jet> + Send + Sync + 'static,
    ) -> Self {
        self.transform = Some(Arc::new(transform));
        self
    }

    /// The conditions, in the order they were added.
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.conditions.iter().map(|b| &b.condition)
    }

    /// The device the problem's tensors live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The second derivatives the residual reads.
    pub fn order(&self) -> SecondOrder {
        self.order
    }

    fn check_points(&self, what: &str, points: &Points) -> Result<()> {
        if points.dim() != self.inputs || points.is_empty() {
            return Err(Error::shape(
                what,
                format!("a non-empty set of points with {} coordinates", self.inputs),
                &[points.len(), points.dim()],
            ));
        }
        Ok(())
    }

    /// The field's jet at `x`: the network's jet pushed through the output transform.
    ///
    /// # Errors
    /// Whatever the transform returns; [`Error::ShapeMismatch`] when the network's sizes differ
    /// from the problem's.
    pub fn field<N: JetNetwork>(
        &self,
        model: &Pinn<N>,
        x: Tensor<2>,
        order: SecondOrder,
    ) -> Result<Jet> {
        if model.net.input_size() != self.inputs || model.net.output_size() != self.outputs {
            return Err(Error::shape(
                "Problem::field network sizes",
                format!("{} inputs and {} outputs", self.inputs, self.outputs),
                &[model.net.input_size(), model.net.output_size()],
            ));
        }
        let input = Jet::input(x, order);
        let net = model.net.forward_jet(input.clone());
        match &self.transform {
            Some(t) => t(&input, net),
            None => Ok(net),
        }
    }

    /// The PDE residual at `x`, `[batch, equations]`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the problem has no residual; whatever the residual returns.
    pub fn residual_at<N: JetNetwork>(&self, model: &Pinn<N>, x: Tensor<2>) -> Result<Tensor<2>> {
        let Some(residual) = &self.residual else {
            return Err(Error::config(
                "residual",
                "none",
                "set one with Problem::with_residual",
            ));
        };
        let u = self.field(model, x.clone(), self.order)?;
        let coefficients = model.coefficients.as_ref().map(|c| c.val());
        residual(&Fields {
            x: &x,
            u: &u,
            coefficients: coefficients.as_ref(),
        })
    }

    /// The residual of one condition at its points, `[n, 1]`.
    fn condition_residual<N: JetNetwork>(&self, model: &Pinn<N>, b: &Bound) -> Result<Tensor<2>> {
        let c = b.condition.component;
        // Values alone need no jet when no transform has to see the inputs' derivatives.
        if self.transform.is_none() && b.condition.kind == ConditionKind::Value {
            let u = model.net.forward(b.points.clone()).narrow(1, c, 1);
            return Ok(u - b.targets.clone());
        }
        let u = self
            .field(model, b.points.clone(), SecondOrder::None)?
            .component(c);
        let normal_derivative = |u: &Jet, normals: &Tensor<2>| -> Tensor<2> {
            // Σ_i ∂u/∂x_i n_i: gradient [inputs, n, 1] against normals [n, inputs].
            let n = normals.clone().transpose().unsqueeze_dim::<3>(2);
            (u.gradient() * n).sum_dim(0).squeeze_dim::<2>(0)
        };
        let extra = || b.extra.clone().expect("bound with its normals or partners");
        Ok(match &b.condition.kind {
            ConditionKind::Value => u.value() - b.targets.clone(),
            ConditionKind::Derivative { axis } => u.d(*axis) - b.targets.clone(),
            ConditionKind::Neumann { .. } => normal_derivative(&u, &extra()) - b.targets.clone(),
            ConditionKind::Robin { alpha, beta, .. } => {
                u.value().mul_scalar(*alpha) + normal_derivative(&u, &extra()).mul_scalar(*beta)
                    - b.targets.clone()
            }
            ConditionKind::Periodic { derivative, .. } => {
                let v = self.field(model, extra(), SecondOrder::None)?.component(c);
                match derivative {
                    None => u.value() - v.value(),
                    Some(axis) => u.d(*axis) - v.d(*axis),
                }
            }
        })
    }

    /// Every weighted term of the loss: the residual (if set) then each condition.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a residual is set without collocation points; errors of the
    /// residual and transform.
    pub fn terms<N: JetNetwork>(&self, model: &Pinn<N>) -> Result<Vec<Term>> {
        let x = match self.residual {
            Some(_) => Some(self.collocation_tensor()?),
            None => None,
        };
        self.terms_at(model, x)
    }

    /// As [`Problem::terms`] with the residual evaluated at `collocation` instead of the stored
    /// points (resampling schemes keep their own points; `None` skips the residual).
    ///
    /// # Errors
    /// As [`Problem::terms`].
    pub fn terms_at<N: JetNetwork>(
        &self,
        model: &Pinn<N>,
        collocation: Option<Tensor<2>>,
    ) -> Result<Vec<Term>> {
        let mut terms = Vec::with_capacity(1 + self.conditions.len());
        if let Some(x) = collocation.filter(|_| self.residual.is_some()) {
            let r = self.residual_at(model, x)?;
            terms.push(Term {
                name: "residual".into(),
                weight: self.residual_weight,
                value: r.square().mean(),
            });
        }
        terms.extend(self.condition_terms(model)?);
        Ok(terms)
    }

    /// The conditions' terms only (for losses that treat the residual themselves).
    ///
    /// # Errors
    /// As [`Problem::terms`].
    pub fn condition_terms<N: JetNetwork>(&self, model: &Pinn<N>) -> Result<Vec<Term>> {
        // Value conditions need no jet when no transform has to see the inputs' derivatives:
        // then one forward pass over all their points serves them all.
        let values = match (&self.transform, &self.value_points) {
            (None, Some(points)) => Some(model.net.forward(points.clone())),
            _ => None,
        };
        let mut offset = 0;
        let mut terms = Vec::with_capacity(self.conditions.len());
        for b in &self.conditions {
            let residual = match &values {
                Some(u) if b.condition.kind == ConditionKind::Value => {
                    let n = b.points.dims()[0];
                    let u = u
                        .clone()
                        .narrow(0, offset, n)
                        .narrow(1, b.condition.component, 1);
                    offset += n;
                    u - b.targets.clone()
                }
                _ => self.condition_residual(model, b)?,
            };
            terms.push(Term {
                name: b.condition.name.clone(),
                weight: b.condition.weight,
                value: residual.square().mean(),
            });
        }
        Ok(terms)
    }

    /// Whether a PDE residual is set (then it is the first of [`Problem::terms`]).
    pub fn has_residual(&self) -> bool {
        self.residual.is_some()
    }

    /// The number of points behind each term of [`Problem::terms`], in order (the collocation
    /// points for the residual, then each condition's points).
    pub fn term_sizes(&self) -> Vec<usize> {
        let residual = self
            .residual
            .as_ref()
            .map(|_| self.collocation.as_ref().map_or(0, |(p, _)| p.len()));
        residual
            .into_iter()
            .chain(self.conditions.iter().map(|b| b.condition.points.len()))
            .collect()
    }

    /// The per-point residuals `[rows, equations]` of term `term` (numbered as in
    /// [`Problem::terms`]), at all its points or at the rows `rows`: the quantity whose mean
    /// square is the term (per-point analyses such as NTK traces or RAR read these).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a term or row out of range; errors of the residual and
    /// transform.
    pub fn term_residual<N: JetNetwork>(
        &self,
        model: &Pinn<N>,
        term: usize,
        rows: Option<&[usize]>,
    ) -> Result<Tensor<2>> {
        let sizes = self.term_sizes();
        let Some(&size) = sizes.get(term) else {
            return Err(Error::config(
                "term",
                term,
                format!("the problem has {} terms", sizes.len()),
            ));
        };
        if let Some(&bad) = rows.into_iter().flatten().find(|&&r| r >= size) {
            return Err(Error::config(
                "rows",
                bad,
                format!("term {term} has {size} points"),
            ));
        }
        let pick = |t: &Tensor<2>| match rows {
            Some(rows) => {
                let index: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
                let index =
                    Tensor::<1, Int>::from_data(TensorData::new(index, [rows.len()]), &self.device);
                t.clone().select(0, index)
            }
            None => t.clone(),
        };
        let conditions = match &self.residual {
            Some(_) if term == 0 => {
                return self.residual_at(model, pick(&self.collocation_tensor()?));
            }
            Some(_) => term - 1,
            None => term,
        };
        let b = &self.conditions[conditions];
        let bound = Bound {
            condition: b.condition.clone(),
            points: pick(&b.points),
            targets: pick(&b.targets),
            extra: b.extra.as_ref().map(pick),
        };
        self.condition_residual(model, &bound)
    }

    /// The weight of the residual term.
    pub fn residual_weight(&self) -> f64 {
        self.residual_weight
    }

    /// The collocation points as a tensor on the problem's device.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when none are set.
    pub fn collocation_tensor(&self) -> Result<Tensor<2>> {
        match &self.collocation {
            Some((_, x)) => Ok(x.clone()),
            None => Err(Error::config(
                "collocation",
                "none",
                "set collocation points with Problem::with_collocation",
            )),
        }
    }

    /// The weighted sum of [`Problem::terms`], with every term logged by name.
    ///
    /// # Errors
    /// As [`Problem::terms`], and [`Error::InvalidConfig`] for a problem with no terms.
    pub fn loss<N: JetNetwork>(&self, model: &Pinn<N>) -> Result<Loss> {
        combine(self.terms(model)?, None)
    }

    /// Values of output `component` at `points` (evaluate a `.valid()` model on a plain device).
    ///
    /// # Errors
    /// As [`Problem::field`]; [`Error::ShapeMismatch`] for points of the wrong dimension.
    pub fn predict<N: JetNetwork>(
        &self,
        model: &Pinn<N>,
        points: &Points,
        component: usize,
        device: &Device,
    ) -> Result<Vec<f64>> {
        self.check_points("prediction points", points)?;
        let x = points.to_tensor(device)?;
        let u = match &self.transform {
            None => model.net.forward(x).narrow(1, component, 1),
            Some(_) => self
                .field(model, x, SecondOrder::None)?
                .component(component)
                .value(),
        };
        Ok(kiln_core::tensor::to_f64_vec(u))
    }
}

/// Sums terms with their weights (or with `weights` overriding them, in order).
///
/// # Errors
/// [`Error::InvalidConfig`] for no terms or a weight count that differs from the term count.
pub fn combine(terms: Vec<Term>, weights: Option<&[f64]>) -> Result<Loss> {
    if let Some(w) = weights
        && w.len() != terms.len()
    {
        return Err(Error::config(
            "weights",
            w.len(),
            format!("give one weight per loss term ({})", terms.len()),
        ));
    }
    let mut total: Option<Tensor<1>> = None;
    let mut named = Vec::with_capacity(terms.len());
    for (k, term) in terms.into_iter().enumerate() {
        let w = weights.map_or(term.weight, |w| w[k]);
        let part = term.value.clone().mul_scalar(w);
        total = Some(match total {
            Some(t) => t + part,
            None => part,
        });
        named.push((term.name, term.value));
    }
    let Some(total) = total else {
        return Err(Error::config(
            "problem",
            "no loss terms",
            "add a residual with collocation points or at least one condition",
        ));
    };
    let mut loss = Loss::new(total);
    for (name, value) in named {
        loss = loss.with_term(name, value);
    }
    Ok(loss)
}
