//! The multi-head association shared by every Hopfield layer: masked softmax retrieval of
//! projected state patterns from projected stored patterns, iterated in the key space, with
//! the last update reading out the (projected) values.

use burn::nn::Dropout;
use burn::tensor::{Bool, Tensor, activation};

use crate::modern::Steps;

/// The result of [`associate`].
pub(crate) struct Associated {
    /// `[B, H, S, pattern_dim]`.
    pub(crate) output: Tensor<4>,
    /// Association weights of the last update (before dropout), `[B, H, S, N]`.
    pub(crate) weights: Tensor<4>,
    /// Updates made.
    pub(crate) steps: usize,
}

/// Runs the Hopfield updates of every head.
///
/// With `k = v` and one head this is exactly [`modern::retrieve`](crate::modern::retrieve):
/// each update is `q ← softmax(β q kᵀ) k`; the last one reads out `softmax(β q kᵀ) v` instead,
/// after dropout on the weights. [`Steps::Converge`] stops once the largest change of the state
/// over the whole batch and every head is below `eps` (the update that would have been the
/// state then reads out the values).
///
/// # Shapes
/// `q`: `[B, H, S, hd]`, `k`: `[B, H, N, hd]`, `v`: `[B, H, N, pd]`, `beta`: `[H]`,
/// `excluded`: `[B, H, S, N]` (true where a stored pattern may not be retrieved).
pub(crate) fn associate(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    beta: Tensor<1>,
    excluded: Option<Tensor<4, Bool>>,
    steps: Steps,
    dropout: &Dropout,
) -> Associated {
    let [heads] = beta.dims();
    let beta = beta.reshape([1, heads, 1, 1]);
    let keys_t = k.clone().swap_dims(2, 3);
    let weights_of = |q: &Tensor<4>| {
        let scores = q.clone().matmul(keys_t.clone()) * beta.clone();
        let scores = match &excluded {
            Some(mask) => scores.mask_fill(mask.clone(), f64::NEG_INFINITY),
            None => scores,
        };
        activation::softmax(scores, 3)
    };
    let (max, eps) = match steps {
        Steps::Fixed(n) => (n, None),
        Steps::Converge { eps, max } => (max, Some(eps)),
    };
    let mut state = q;
    let mut done = 0;
    let weights = loop {
        let weights = weights_of(&state);
        done += 1;
        if done >= max {
            break weights;
        }
        let next = weights.clone().matmul(k.clone());
        if let Some(eps) = eps {
            let change = (next.clone() - state.clone())
                .abs()
                .max()
                .into_scalar::<f64>();
            if change < eps {
                break weights;
            }
        }
        state = next;
    };
    let output = dropout.forward(weights.clone()).matmul(v);
    Associated {
        output,
        weights,
        steps: done,
    }
}
