//! The trainable parameters of a vector-field module as one flat vector: their layout, their
//! gradients from an autodiff backward flattened into a `[1, n]` row, and the way back to
//! burn's per-parameter [`GradientsParams`].

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Gradients, Tensor};

/// Where each trainable parameter lives in the flat vector, in visiting order.
#[derive(Clone, Debug, Default)]
pub(crate) struct ParamLayout {
    entries: Vec<Entry>,
    total: usize,
}

#[derive(Clone, Debug)]
struct Entry {
    id: ParamId,
    offset: usize,
    len: usize,
}

impl ParamLayout {
    /// The parameters of `module` that require gradients (frozen ones and parameters on a
    /// device without autodiff are left out, as [`GradientsParams::from_grads`] does).
    pub(crate) fn of<M: Module>(module: &M) -> Self {
        let mut visitor = Collect {
            layout: ParamLayout::default(),
        };
        module.visit(&mut visitor);
        visitor.layout
    }

    /// Number of scalars in the flat vector.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    fn find(&self, id: &ParamId) -> Option<usize> {
        self.entries.iter().position(|e| e.id == *id)
    }

    /// The gradients of the parameters of `module` in `grads` as a `[1, total]` row on `device`
    /// (zero for a parameter that received none); `None` when there are no parameters.
    pub(crate) fn flatten<M: Module>(
        &self,
        module: &M,
        grads: &Gradients,
        device: &Device,
    ) -> Option<Tensor<2>> {
        if self.total == 0 {
            return None;
        }
        let mut visitor = Flatten {
            layout: self,
            grads,
            parts: vec![None; self.entries.len()],
        };
        module.visit(&mut visitor);
        let parts = visitor
            .parts
            .into_iter()
            .zip(&self.entries)
            .map(|(part, entry)| part.unwrap_or_else(|| Tensor::zeros([1, entry.len], device)))
            .collect();
        Some(Tensor::cat(parts, 1))
    }

    /// Splits a flat `[1, total]` row back into per-parameter gradients shaped like the
    /// parameters of `module`.
    pub(crate) fn unflatten<M: Module>(&self, module: &M, flat: &Tensor<2>) -> GradientsParams {
        let mut visitor = Unflatten {
            layout: self,
            flat,
            grads: GradientsParams::new(),
        };
        module.visit(&mut visitor);
        visitor.grads
    }

    /// `Σ_p sum(p ⊙ g_p)` over the parameters of `module` with the constants `g_p` from
    /// `grads`: a scalar on the parameters' autodiff device whose gradient in `p` is `g_p`.
    /// `None` when there are no parameters.
    pub(crate) fn pairing<M: Module>(
        &self,
        module: &M,
        grads: &GradientsParams,
    ) -> Option<Tensor<1>> {
        let mut visitor = Pairing {
            layout: self,
            grads,
            seen: vec![false; self.entries.len()],
            total: None,
        };
        module.visit(&mut visitor);
        visitor.total
    }
}

struct Collect {
    layout: ParamLayout,
}

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        if !value.is_require_grad() || self.layout.find(&param.id).is_some() {
            return;
        }
        let len = value.shape().num_elements();
        self.layout.entries.push(Entry {
            id: param.id,
            offset: self.layout.total,
            len,
        });
        self.layout.total += len;
    }
}

struct Flatten<'a> {
    layout: &'a ParamLayout,
    grads: &'a Gradients,
    parts: Vec<Option<Tensor<2>>>,
}

impl ModuleVisitor for Flatten<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        // A parameter shared by several sub-modules is visited more than once; take it once.
        let Some(i) = self.layout.find(&param.id) else {
            return;
        };
        if self.parts[i].is_none() {
            let len = self.layout.entries[i].len;
            self.parts[i] = param.val().grad(self.grads).map(|g| g.reshape([1, len]));
        }
    }
}

struct Unflatten<'a> {
    layout: &'a ParamLayout,
    flat: &'a Tensor<2>,
    grads: GradientsParams,
}

impl ModuleVisitor for Unflatten<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(i) = self.layout.find(&param.id) else {
            return;
        };
        let entry = &self.layout.entries[i];
        let dims: [usize; D] = param.val().dims();
        let g = self
            .flat
            .clone()
            .narrow(1, entry.offset, entry.len)
            .reshape(dims);
        self.grads.register::<D>(param.id, g);
    }
}

struct Pairing<'a> {
    layout: &'a ParamLayout,
    grads: &'a GradientsParams,
    seen: Vec<bool>,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for Pairing<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(i) = self.layout.find(&param.id) else {
            return;
        };
        if std::mem::replace(&mut self.seen[i], true) {
            return;
        }
        let Some(g) = self.grads.get::<D>(param.id) else {
            return;
        };
        let term = param.val().mul(g.autodiff()).sum();
        self.total = Some(match self.total.take() {
            Some(t) => t.add(term),
            None => term,
        });
    }
}
