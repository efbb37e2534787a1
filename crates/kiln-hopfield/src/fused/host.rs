//! The fused update `softmax(β Q Xᵀ) X` on host f32 arrays, for plain f32 tensors on the CPU
//! backends: blocks of queries against blocks of stored patterns, both products by `gemm` (the
//! kernels burn-flex uses), the online softmax with kiln's vectorised `exp`, and the query
//! blocks of a large batch spread over the cores.
//!
//! burn's CPU backends evaluate `exp` one element at a time through libm; a retrieval of 1024
//! queries from 10 000 patterns needs 10 million of them, which cost as much as both matrix
//! products. Here they are vectorised, and the `[B, N]` weights never leave a `[512, 1024]` slab
//! per thread.

use gemm::Parallelism;
use kiln_core::vecmath;

/// Query rows per block: the score slab is `QUERY_BLOCK × STORED_BLOCK` floats (2 MiB, a core's
/// L2 cache here). Of the sizes tried on retrieval at N = 10 000, d = 256 (64 to 512 rows, 256 to
/// 2048 patterns), this one was fastest; the spread between sizes was about the run-to-run noise.
const QUERY_BLOCK: usize = 512;
/// Stored patterns per block.
const STORED_BLOCK: usize = 1024;
/// Multiply-adds (`B·N·d`) from which the query blocks are spread over the cores.
const PARALLEL_WORK: usize = 1 << 22;
/// The fewest queries a thread is given.
const MIN_ROWS_PER_THREAD: usize = 32;

/// One update of every state: `softmax(β Q Xᵀ) X`, row-major.
///
/// # Shapes
/// `stored`: `[n, d]`, `states`: `[b, d]` → `[b, d]`; `n ≥ 1`.
pub(crate) fn update(stored: &[f32], n: usize, d: usize, states: &[f32], beta: f32) -> Vec<f32> {
    let b = states.len() / d;
    let mut out = vec![0.0_f32; b * d];
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let threads = if b.saturating_mul(n).saturating_mul(d) >= PARALLEL_WORK {
        cores.min(b / MIN_ROWS_PER_THREAD).max(1)
    } else {
        1
    };
    if threads == 1 {
        update_rows(stored, n, d, states, &mut out, beta);
        return out;
    }
    let rows_per_thread = b.div_ceil(threads);
    std::thread::scope(|scope| {
        for (q, o) in states
            .chunks(rows_per_thread * d)
            .zip(out.chunks_mut(rows_per_thread * d))
        {
            scope.spawn(move || update_rows(stored, n, d, q, o, beta));
        }
    });
    out
}

/// The update of the rows `q` (`[rows, d]`) into `out`, on the calling thread.
fn update_rows(stored: &[f32], n: usize, d: usize, q: &[f32], out: &mut [f32], beta: f32) {
    let rows = q.len() / d;
    let mut scores = vec![0.0_f32; QUERY_BLOCK * STORED_BLOCK];
    let mut maxes = vec![f32::NEG_INFINITY; QUERY_BLOCK];
    let mut sums = vec![0.0_f32; QUERY_BLOCK];
    for r0 in (0..rows).step_by(QUERY_BLOCK) {
        let br = QUERY_BLOCK.min(rows - r0);
        let qb = &q[r0 * d..(r0 + br) * d];
        let ob = &mut out[r0 * d..(r0 + br) * d];
        ob.fill(0.0);
        maxes.fill(f32::NEG_INFINITY);
        sums.fill(0.0);
        for c0 in (0..n).step_by(STORED_BLOCK) {
            let bc = STORED_BLOCK.min(n - c0);
            let xb = &stored[c0 * d..(c0 + bc) * d];
            let slab = &mut scores[..br * bc];
            // slab [br, bc] = β qb [br, d] · xbᵀ [d, bc].
            // SAFETY: every pointer and stride addresses the slices above within their lengths:
            // slab is br × bc row-major, qb is br × d row-major, and xbᵀ reads xb (bc × d
            // row-major) with column stride d and row stride 1.
            unsafe {
                gemm::gemm(
                    br,
                    bc,
                    d,
                    slab.as_mut_ptr(),
                    1,
                    bc as isize,
                    false,
                    qb.as_ptr(),
                    1,
                    d as isize,
                    xb.as_ptr(),
                    d as isize,
                    1,
                    0.0,
                    beta,
                    false,
                    false,
                    false,
                    Parallelism::None,
                );
            }
            for i in 0..br {
                let row = &mut slab[i * bc..(i + 1) * bc];
                let new_max = maxes[i].max(vecmath::max(row));
                // exp(-inf) = 0 on the first block, where nothing has been accumulated yet.
                let rescale = vecmath::exp_f32(maxes[i] - new_max);
                sums[i] = sums[i] * rescale + vecmath::exp_shifted_sum(row, new_max);
                if rescale != 1.0 {
                    ob[i * d..(i + 1) * d]
                        .iter_mut()
                        .for_each(|o| *o *= rescale);
                }
                maxes[i] = new_max;
            }
            // ob [br, d] += slab [br, bc] · xb [bc, d].
            // SAFETY: as above; ob is br × d row-major, xb is bc × d row-major.
            unsafe {
                gemm::gemm(
                    br,
                    d,
                    bc,
                    ob.as_mut_ptr(),
                    1,
                    d as isize,
                    true,
                    slab.as_ptr(),
                    1,
                    bc as isize,
                    xb.as_ptr(),
                    1,
                    d as isize,
                    1.0,
                    1.0,
                    false,
                    false,
                    false,
                    Parallelism::None,
                );
            }
        }
        for (row, sum) in ob.chunks_mut(d).zip(&sums) {
            row.iter_mut().for_each(|o| *o /= sum);
        }
    }
}
