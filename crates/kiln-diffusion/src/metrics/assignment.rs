//! Exact optimal transport between two equal-size point sets: the linear assignment problem,
//! solved by shortest augmenting paths with dual potentials (the Hungarian method in
//! Jonker-Volgenant form), O(n³), and W2 from it.

use super::squared_distances;
use crate::{Error, Result, Samples};

/// The permutation `σ` minimising `Σᵢ cost[i, σ(i)]` for a square cost `[n, n]` (row-major).
///
/// Jonker and Volgenant's algorithm: column reduction, reduction transfer and two rounds of
/// augmenting row reduction give most rows a column cheaply; the rest are assigned by
/// shortest augmenting paths (Dijkstra on reduced costs). Exact; O(n³) in the worst case.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `cost.len() != n²`; [`Error::InvalidConfig`] for a
/// non-finite cost.
pub fn assignment(cost: &[f64], n: usize) -> Result<Vec<usize>> {
    if cost.len() != n * n {
        return Err(Error::shape(
            "assignment",
            format!("{n}x{n} costs"),
            &[cost.len()],
        ));
    }
    if let Some(bad) = cost.iter().find(|c| !c.is_finite()) {
        return Err(Error::config("cost", bad, "every cost must be finite"));
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    Ok(Lapjv::new(cost, n).solve())
}

const NONE: usize = usize::MAX;

struct Lapjv<'a> {
    c: &'a [f64],
    n: usize,
    v: Vec<f64>,
    row_sol: Vec<usize>,
    col_sol: Vec<usize>,
}

// The algorithm is naturally written with indices into parallel arrays (costs, prices,
// assignments), and its scans change the bounds they will use next time (as in the original).
#[allow(clippy::needless_range_loop, clippy::mut_range_bound)]
impl<'a> Lapjv<'a> {
    fn new(c: &'a [f64], n: usize) -> Self {
        Self {
            c,
            n,
            v: vec![0.0; n],
            row_sol: vec![NONE; n],
            col_sol: vec![NONE; n],
        }
    }

    fn solve(mut self) -> Vec<usize> {
        let free = self.column_reduction();
        let free = self.augmenting_row_reduction(free);
        for row in free {
            self.augment(row);
        }
        self.row_sol
    }

    /// Column reduction and reduction transfer; returns the rows left unassigned.
    fn column_reduction(&mut self) -> Vec<usize> {
        let (c, n) = (self.c, self.n);
        let mut matches = vec![0usize; n];
        for j in (0..n).rev() {
            let mut imin = 0;
            for i in 1..n {
                if c[i * n + j] < c[imin * n + j] {
                    imin = i;
                }
            }
            self.v[j] = c[imin * n + j];
            matches[imin] += 1;
            if matches[imin] == 1 {
                self.row_sol[imin] = j;
                self.col_sol[j] = imin;
            } else if self.v[j] < self.v[self.row_sol[imin]] {
                let j1 = self.row_sol[imin];
                self.row_sol[imin] = j;
                self.col_sol[j] = imin;
                self.col_sol[j1] = NONE;
            } else {
                self.col_sol[j] = NONE;
            }
        }
        let mut free = Vec::new();
        for i in 0..n {
            if matches[i] == 0 {
                free.push(i);
            } else if matches[i] == 1 {
                let j1 = self.row_sol[i];
                let mut min = f64::INFINITY;
                for j in (0..n).filter(|&j| j != j1) {
                    min = min.min(c[i * n + j] - self.v[j]);
                }
                if min.is_finite() {
                    self.v[j1] -= min;
                }
            }
        }
        // A row whose column was taken by a cheaper row in the loop above is free too.
        for i in 0..n {
            if matches[i] > 1 && self.col_sol[self.row_sol[i]] != i {
                self.row_sol[i] = NONE;
                free.push(i);
            }
        }
        free
    }

    /// Two rounds of augmenting row reduction (with a budget against near-ties cycling).
    fn augmenting_row_reduction(&mut self, mut free: Vec<usize>) -> Vec<usize> {
        let (c, n) = (self.c, self.n);
        for _round in 0..2 {
            let previous = std::mem::take(&mut free);
            let mut queue = previous;
            let mut k = 0;
            // Each bounce back (`k -= 1`) lowers a price; cap the work at O(n²) per round so
            // near-ties cannot make it crawl, and leave what remains to the augmentation.
            let mut budget = 2 * n;
            while k < queue.len() {
                if budget == 0 {
                    free.extend_from_slice(&queue[k..]);
                    break;
                }
                budget -= 1;
                let i = queue[k];
                k += 1;
                let row = &c[i * n..(i + 1) * n];
                let (mut umin, mut j1) = (row[0] - self.v[0], 0usize);
                let (mut usubmin, mut j2) = (f64::INFINITY, NONE);
                for j in 1..n {
                    let h = row[j] - self.v[j];
                    if h < usubmin {
                        if h >= umin {
                            usubmin = h;
                            j2 = j;
                        } else {
                            usubmin = umin;
                            umin = h;
                            j2 = j1;
                            j1 = j;
                        }
                    }
                }
                let mut i0 = self.col_sol[j1];
                let strict = umin < usubmin;
                if strict {
                    self.v[j1] -= usubmin - umin;
                } else if i0 != NONE && j2 != NONE {
                    j1 = j2;
                    i0 = self.col_sol[j2];
                }
                if self.row_sol[i] != NONE && self.col_sol[self.row_sol[i]] == i {
                    self.col_sol[self.row_sol[i]] = NONE;
                }
                self.row_sol[i] = j1;
                self.col_sol[j1] = i;
                if i0 != NONE {
                    self.row_sol[i0] = NONE;
                    if strict {
                        k -= 1;
                        queue[k] = i0;
                    } else {
                        free.push(i0);
                    }
                }
            }
        }
        free
    }

    /// Assigns `free_row` along a shortest augmenting path and updates the column prices.
    fn augment(&mut self, free_row: usize) {
        let (c, n) = (self.c, self.n);
        let mut d: Vec<f64> = (0..n).map(|j| c[free_row * n + j] - self.v[j]).collect();
        let mut pred = vec![free_row; n];
        let mut cols: Vec<usize> = (0..n).collect();
        let (mut low, mut up) = (0usize, 0usize);
        let mut last = 0usize;
        let mut min = 0.0;
        let end = 'search: loop {
            if up == low {
                last = low;
                min = d[cols[up]];
                up += 1;
                for k in up..n {
                    let j = cols[k];
                    let h = d[j];
                    if h <= min {
                        if h < min {
                            up = low;
                            min = h;
                        }
                        cols[k] = cols[up];
                        cols[up] = j;
                        up += 1;
                    }
                }
                for &j in &cols[low..up] {
                    if self.col_sol[j] == NONE {
                        break 'search j;
                    }
                }
            }
            let j1 = cols[low];
            low += 1;
            let i = self.col_sol[j1];
            let h = c[i * n + j1] - self.v[j1] - min;
            let mut k = up;
            while k < n {
                let j = cols[k];
                let v2 = c[i * n + j] - self.v[j] - h;
                if v2 < d[j] {
                    pred[j] = i;
                    if v2 == min {
                        if self.col_sol[j] == NONE {
                            break 'search j;
                        }
                        cols[k] = cols[up];
                        cols[up] = j;
                        up += 1;
                    }
                    d[j] = v2;
                }
                k += 1;
            }
        };
        // Columns scanned (ready) before `last` get their prices raised.
        for &j in &cols[..last] {
            self.v[j] += d[j] - min;
        }
        let mut j = end;
        loop {
            let i = pred[j];
            self.col_sol[j] = i;
            let next = self.row_sol[i];
            self.row_sol[i] = j;
            if i == free_row {
                break;
            }
            j = next;
        }
    }
}

/// W2 between two empirical measures with as many points (uniform weights), by an exact
/// assignment on squared Euclidean costs: `sqrt(min_σ (1/n) Σ |xᵢ - y_σ(i)|²)`.
///
/// # Errors
/// [`Error::ShapeMismatch`] for sets of different sizes or dimensions, or empty sets.
pub fn w2(x: &Samples, y: &Samples) -> Result<f64> {
    w2_with_plan(x, y).map(|(w, _)| w)
}

/// [`w2`] and the optimal permutation (`yᵢ`'s partner of `xᵢ` is `y[σ(i)]`).
///
/// # Errors
/// As [`w2`].
pub fn w2_with_plan(x: &Samples, y: &Samples) -> Result<(f64, Vec<usize>)> {
    x.check_compatible(y, true, "w2")?;
    let n = x.len();
    let cost = squared_distances(x, y);
    let sigma = assignment(&cost, n)?;
    let total: f64 = sigma
        .iter()
        .enumerate()
        .map(|(i, &j)| cost[i * n + j])
        .sum();
    Ok(((total / n as f64).max(0.0).sqrt(), sigma))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_core::rng::Rng;

    fn brute_force(cost: &[f64], n: usize) -> f64 {
        fn rec(cost: &[f64], n: usize, i: usize, used: &mut Vec<bool>, acc: f64, best: &mut f64) {
            if i == n {
                *best = best.min(acc);
                return;
            }
            for j in 0..n {
                if !used[j] {
                    used[j] = true;
                    rec(cost, n, i + 1, used, acc + cost[i * n + j], best);
                    used[j] = false;
                }
            }
        }
        let mut best = f64::INFINITY;
        rec(cost, n, 0, &mut vec![false; n], 0.0, &mut best);
        best
    }

    #[test]
    fn matches_brute_force_on_random_costs() {
        let mut rng = Rng::new(3);
        for n in 1..=7 {
            let cost: Vec<f64> = (0..n * n).map(|_| rng.uniform() * 10.0 - 3.0).collect();
            let s = assignment(&cost, n).unwrap();
            let mut seen = s.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
            let total: f64 = s.iter().enumerate().map(|(i, &j)| cost[i * n + j]).sum();
            assert!((total - brute_force(&cost, n)).abs() < 1e-9, "n = {n}");
        }
    }

    /// The textbook shortest-augmenting-path Hungarian method, as a second implementation.
    fn hungarian(cost: &[f64], n: usize) -> f64 {
        let mut u = vec![0.0f64; n + 1];
        let mut v = vec![0.0f64; n + 1];
        let mut p = vec![0usize; n + 1];
        let mut way = vec![0usize; n + 1];
        for i in 1..=n {
            p[0] = i;
            let mut j0 = 0;
            let mut minv = vec![f64::INFINITY; n + 1];
            let mut used = vec![false; n + 1];
            loop {
                used[j0] = true;
                let (i0, mut delta, mut j1) = (p[j0], f64::INFINITY, 0);
                for j in 1..=n {
                    if !used[j] {
                        let cur = cost[(i0 - 1) * n + j - 1] - u[i0] - v[j];
                        if cur < minv[j] {
                            minv[j] = cur;
                            way[j] = j0;
                        }
                        if minv[j] < delta {
                            delta = minv[j];
                            j1 = j;
                        }
                    }
                }
                for j in 0..=n {
                    if used[j] {
                        u[p[j]] += delta;
                        v[j] -= delta;
                    } else {
                        minv[j] -= delta;
                    }
                }
                j0 = j1;
                if p[j0] == 0 {
                    break;
                }
            }
            loop {
                let j1 = way[j0];
                p[j0] = p[j1];
                j0 = j1;
                if j0 == 0 {
                    break;
                }
            }
        }
        (1..=n).map(|j| cost[(p[j] - 1) * n + j - 1]).sum()
    }

    #[test]
    fn matches_the_hungarian_method_with_and_without_ties() {
        let mut rng = Rng::new(17);
        for (n, ties) in [(50, false), (50, true), (120, false), (200, true)] {
            for _ in 0..3 {
                let cost: Vec<f64> = (0..n * n)
                    .map(|_| {
                        if ties {
                            rng.below(5) as f64
                        } else {
                            rng.uniform() * 100.0
                        }
                    })
                    .collect();
                let s = assignment(&cost, n).unwrap();
                let mut seen = s.clone();
                seen.sort_unstable();
                assert_eq!(seen, (0..n).collect::<Vec<_>>(), "not a permutation");
                let total: f64 = s.iter().enumerate().map(|(i, &j)| cost[i * n + j]).sum();
                let reference = hungarian(&cost, n);
                assert!(
                    (total - reference).abs() < 1e-9 * reference.abs().max(1.0),
                    "n = {n}: {total} vs {reference}"
                );
            }
        }
    }

    #[test]
    fn one_dimensional_optimum_is_the_sorted_matching() {
        let mut rng = Rng::new(11);
        let n = 300;
        let x: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let y: Vec<f64> = (0..n).map(|_| 2.0 * rng.uniform() + 0.5).collect();
        let w = w2(
            &Samples::new(x.clone(), 1).unwrap(),
            &Samples::new(y.clone(), 1).unwrap(),
        )
        .unwrap();
        let (mut xs, mut ys) = (x, y);
        xs.sort_by(f64::total_cmp);
        ys.sort_by(f64::total_cmp);
        let sorted = (xs
            .iter()
            .zip(&ys)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            / n as f64)
            .sqrt();
        assert!((w - sorted).abs() < 1e-9, "{w} vs {sorted}");
    }

    #[test]
    fn a_shift_costs_its_length() {
        // Translating a set by s: the identity matching is optimal and W2 = |s|.
        let mut rng = Rng::new(5);
        let x: Vec<f64> = (0..2 * 200).map(|_| rng.normal()).collect();
        let y: Vec<f64> = x.chunks(2).flat_map(|p| [p[0] + 0.3, p[1] - 0.4]).collect();
        let w = w2(&Samples::new(x, 2).unwrap(), &Samples::new(y, 2).unwrap()).unwrap();
        assert!((w - 0.5).abs() < 1e-9, "{w}");
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(assignment(&[1.0, 2.0, 3.0], 2).is_err());
        assert!(assignment(&[1.0, f64::NAN, 3.0, 4.0], 2).is_err());
        let a = Samples::new(vec![0.0; 4], 2).unwrap();
        let b = Samples::new(vec![0.0; 6], 2).unwrap();
        assert!(w2(&a, &b).is_err());
    }
}
