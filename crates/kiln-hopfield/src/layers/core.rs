//! The multi-head association shared by every Hopfield layer: masked softmax retrieval of
//! projected state patterns from projected stored patterns, iterated in the key space, with
//! the last update reading out the (projected) values.

use burn::nn::Dropout;
use burn::tensor::{Bool, Tensor, activation};

use crate::fused;
use crate::modern::Steps;

/// The result of [`associate`].
pub(crate) struct Associated {
    /// `[B, H, S, pattern_dim]`.
    pub(crate) output: Tensor<4>,
    /// Association weights of the last update (before dropout), `[B, H, S, N]`, when asked for.
    pub(crate) weights: Option<Tensor<4>>,
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
/// The state updates are fused (blocks of stored patterns with an online softmax, see
/// [`crate::fused`]), and so is the read-out unless the weights are wanted or dropout acts on
/// them: then the last update's `[B, H, S, N]` weights are formed.
///
/// # Shapes
/// `q`: `[B, H, S, hd]`, `k`: `[B, H, N, hd]`, `v`: `[B, H, N, pd]`, `beta`: `[H]`,
/// `excluded`: `[B, H, S, N]` (true where a stored pattern may not be retrieved).
#[allow(clippy::too_many_arguments)]
pub(crate) fn associate(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    beta: Tensor<1>,
    excluded: Option<Tensor<4, Bool>>,
    steps: Steps,
    dropout: &Dropout,
    want_weights: bool,
) -> Associated {
    let [heads] = beta.dims();
    let beta = beta.reshape([1, heads, 1, 1]);
    let (max, eps) = match steps {
        Steps::Fixed(n) => (n, None),
        Steps::Converge { eps, max } => (max, Some(eps)),
    };
    let mut state = q;
    let mut done = 1;
    while done < max {
        let next = fused::attend(state.clone() * beta.clone(), &k, &k, excluded.as_ref());
        if let Some(eps) = eps {
            let change = (next.clone() - state.clone())
                .abs()
                .max()
                .into_scalar::<f64>();
            if change < eps {
                break;
            }
        }
        state = next;
        done += 1;
    }
    let dropout_acts = dropout.prob > 0.0 && state.device().is_autodiff();
    if !want_weights && !dropout_acts {
        let output = fused::attend(state * beta, &k, &v, excluded.as_ref());
        return Associated {
            output,
            weights: None,
            steps: done,
        };
    }
    let scores = state.matmul(k.swap_dims(2, 3)) * beta;
    let scores = match excluded {
        Some(mask) => scores.mask_fill(mask, f64::NEG_INFINITY),
        None => scores,
    };
    let weights = activation::softmax(scores, 3);
    let output = dropout.forward(weights.clone()).matmul(v);
    Associated {
        output,
        weights: Some(weights),
        steps: done,
    }
}
