//! Fused association `softmax(Q Kᵀ) V`: the stored patterns are visited in blocks and the
//! softmax is accumulated online (a running row maximum, the running normaliser and the running
//! weighted sum of values, each rescaled when the maximum grows), so the `[.., S, N]` weight
//! matrix is never formed whole. Memory falls from `O(S N)` to `O(S (block + d))` per head.
//!
//! The result equals the unfused `softmax(Q Kᵀ) V` up to rounding, and it is differentiable:
//! only the row maxima are detached, and the result does not depend on them.

use burn::tensor::{Bool, Tensor};

pub(crate) mod host;

/// Stored patterns per block on the CPU backends: the `[S, BLOCK]` score slab of a large batch
/// stays near the cache while each block's two matrix products are still large enough to run at
/// full speed.
const BLOCK: usize = 1024;

/// Score-slab elements a block may hold on a GPU (256 MiB of f32): there each block costs
/// kernel launches, so blocks are as large as memory allows (one block for retrieval of 1024
/// queries from 10 000 patterns, which took 11.0 ms in ten blocks and 8.4 ms unblocked on an
/// H200).
const GPU_SLAB: usize = 1 << 26;

/// Stored patterns per block for the state patterns `q` (all leading dimensions) on its device.
fn block_for<const D: usize>(q: &Tensor<D>) -> usize {
    let on_gpu = kiln_core::device::backend_of(&q.device()).is_some_and(|kind| !kind.is_cpu());
    if on_gpu {
        let rows: usize = q.dims()[..D - 1].iter().product();
        BLOCK.max(GPU_SLAB / rows.max(1))
    } else {
        BLOCK
    }
}

/// A finite floor for a block's row maximum, so that a row whose block is fully masked
/// (maximum `-inf`) contributes `exp(-inf) = 0` instead of `exp(-inf + inf) = NaN`.
const MAX_FLOOR: f64 = -1e30;

/// `softmax(q kᵀ) v` over the last two dimensions, in blocks of rows of `k` and `v` (1024 on the
/// CPU backends, as many as a 256 MiB score slab holds on a GPU).
///
/// `q` is already scaled by the inverse temperature. Rows of the result whose every stored
/// pattern is excluded are NaN, as with an unfused softmax over `-inf` scores.
///
/// # Shapes
/// `q`: `[.., S, hd]`, `k`: `[.., N, hd]`, `v`: `[.., N, pd]`, `excluded`: `[.., S, N]`
/// (true where a pair is excluded) → `[.., S, pd]`.
pub(crate) fn attend<const D: usize>(
    q: Tensor<D>,
    k: &Tensor<D>,
    v: &Tensor<D>,
    excluded: Option<&Tensor<D, Bool>>,
) -> Tensor<D> {
    let block = block_for(&q);
    let n = k.dims()[D - 2];
    let (rows, cols) = (D - 2, D - 1);
    // (running row maximum, running normaliser, running weighted sum of values).
    let mut running: Option<(Tensor<D>, Tensor<D>, Tensor<D>)> = None;
    for start in (0..n).step_by(block) {
        let len = block.min(n - start);
        let (kb, vb) = if len == n {
            (k.clone(), v.clone())
        } else {
            (
                k.clone().narrow(rows, start, len),
                v.clone().narrow(rows, start, len),
            )
        };
        let scores = q.clone().matmul(kb.swap_dims(rows, cols));
        let scores = match excluded {
            Some(mask) if len == n => scores.mask_fill(mask.clone(), f64::NEG_INFINITY),
            Some(mask) => {
                scores.mask_fill(mask.clone().narrow(cols, start, len), f64::NEG_INFINITY)
            }
            None => scores,
        };
        let block_max = scores.clone().max_dim(cols).detach().clamp_min(MAX_FLOOR);
        running = Some(match running {
            None => {
                let p = (scores - block_max.clone()).exp();
                let norm = p.clone().sum_dim(cols);
                (block_max, norm, p.matmul(vb))
            }
            Some((max, norm, acc)) => {
                let new_max = max.clone().max_pair(block_max);
                let rescale = (max - new_max.clone()).exp();
                let p = (scores - new_max.clone()).exp();
                let norm = norm * rescale.clone() + p.clone().sum_dim(cols);
                (new_max, norm, acc * rescale + p.matmul(vb))
            }
        });
    }
    let (_, norm, acc) = running.expect("callers check that there is at least one stored pattern");
    acc / norm
}
