//! Seeded pattern generators shared by the networks, tests, demos and benchmarks: random ±1
//! patterns, diluted patterns with entries in {-1, 0, +1}, bit flips and Hadamard patterns.
//! Patterns are row-major `f32` matrices `[count, dim]`.

use burn::tensor::{Device, Tensor, TensorData};

pub use kiln_core::rng::Rng;

/// `count` random ±1 patterns of length `dim`, `[count, dim]` row-major.
pub fn random_binary(count: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..count * dim).map(|_| rng.sign()).collect()
}

/// Diluted patterns: each entry is 0 with probability `dilution`, else ±1 with equal
/// probability (the multitasking network's patterns).
pub fn diluted(count: usize, dim: usize, dilution: f64, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..count * dim)
        .map(|_| {
            if rng.uniform() < dilution {
                0.0
            } else {
                rng.sign()
            }
        })
        .collect()
}

/// A copy of `pattern` with `flips` distinct entries negated.
pub fn flip(pattern: &[f32], flips: usize, rng: &mut Rng) -> Vec<f32> {
    let mut out = pattern.to_vec();
    let n = out.len();
    // Partial Fisher-Yates over the indices picks `flips` distinct positions.
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..flips.min(n) {
        let j = i + rng.below(n - i);
        idx.swap(i, j);
        out[idx[i]] = -out[idx[i]];
    }
    out
}

/// The `n x n` Sylvester-Hadamard matrix (`n` a power of two): mutually orthogonal ±1 rows.
pub fn hadamard(n: usize) -> Option<Vec<f32>> {
    if n == 0 || !n.is_power_of_two() {
        return None;
    }
    let mut h = vec![1.0f32];
    let mut size = 1;
    while size < n {
        let mut next = vec![0.0; 4 * size * size];
        for i in 0..size {
            for j in 0..size {
                let v = h[i * size + j];
                next[i * 2 * size + j] = v;
                next[i * 2 * size + j + size] = v;
                next[(i + size) * 2 * size + j] = v;
                next[(i + size) * 2 * size + j + size] = -v;
            }
        }
        h = next;
        size *= 2;
    }
    Some(h)
}

/// A `[rows, cols]` tensor from row-major values, in the device's float dtype.
pub fn tensor(values: &[f32], shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hadamard_rows_are_orthogonal() {
        let n = 16;
        let h = hadamard(n).unwrap();
        for i in 0..n {
            for j in 0..n {
                let dot: f32 = (0..n).map(|k| h[i * n + k] * h[j * n + k]).sum();
                assert_eq!(dot, if i == j { n as f32 } else { 0.0 });
            }
        }
        assert!(hadamard(12).is_none());
    }

    #[test]
    fn flips_change_exactly_that_many_entries() {
        let p = random_binary(1, 256, 3);
        let mut rng = Rng::new(9);
        let q = flip(&p, 64, &mut rng);
        assert_eq!(p.iter().zip(&q).filter(|(a, b)| a != b).count(), 64);
    }

    #[test]
    fn dilution_matches_its_probability() {
        let p = diluted(100, 1000, 0.3, 1);
        let zeros = p.iter().filter(|v| **v == 0.0).count() as f64 / p.len() as f64;
        assert!((zeros - 0.3).abs() < 0.01, "{zeros}");
    }
}
