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
// assignments).
#[allow(clippy::needless_range_loop)]
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
        let mut ws = Workspace::new(self.n);
        for row in free {
            self.augment(row, &mut ws);
        }
        self.row_sol
    }

    /// Column reduction and reduction transfer; returns the rows left unassigned.
    fn column_reduction(&mut self) -> Vec<usize> {
        let (c, n) = (self.c, self.n);
        let mut matches = vec![0usize; n];
        // Column minima (first row among equals), scanning contiguous rows.
        let mut argmin = vec![0usize; n];
        self.v.copy_from_slice(&c[..n]);
        for i in 1..n {
            let row = &c[i * n..(i + 1) * n];
            for ((vj, aj), &cij) in self.v.iter_mut().zip(argmin.iter_mut()).zip(row) {
                if cij < *vj {
                    *vj = cij;
                    *aj = i;
                }
            }
        }
        for j in (0..n).rev() {
            let imin = argmin[j];
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
    ///
    /// Dense Dijkstra on reduced costs `c[i, j] - v[j]`: each step scans one contiguous row of
    /// the cost matrix with a branch-free `min` relaxation (vectorisable). A scanned column is
    /// masked by a price of `-∞` in the working copy `w` (no distance through it can improve)
    /// and a tentative distance of `+∞` in `dist` (the minimum skips it). Predecessors are not
    /// tracked in the hot loop: the path is recovered afterwards from the scan order, as the
    /// first scanned row (before the column was reached) attaining its distance.
    fn augment(&mut self, free_row: usize, ws: &mut Workspace) {
        let (c, n) = (self.c, self.n);
        let Workspace { dist, w, scanned } = ws;
        w.copy_from_slice(&self.v);
        let row = &c[free_row * n..(free_row + 1) * n];
        let mut min = f64::INFINITY;
        for ((d, &cij), &vj) in dist.iter_mut().zip(row).zip(&self.v) {
            *d = cij - vj;
            min = if *d < min { *d } else { min };
        }
        // Scanned steps: (column reached, its distance, the row assigned to it, that row's h).
        scanned.clear();
        let end = loop {
            let j1 = first_at(dist, min);
            let i = self.col_sol[j1];
            if i == NONE {
                break j1;
            }
            let h = c[i * n + j1] - self.v[j1] - min;
            scanned.push(Step {
                col: j1,
                dist: min,
                row: i,
                h,
            });
            dist[j1] = f64::INFINITY;
            w[j1] = f64::NEG_INFINITY;
            min = relax(&mut dist[..n], &c[i * n..(i + 1) * n], &w[..n], h);
        };
        // Walk the path back: column `j` at distance `dj` was reached from the first of the rows
        // scanned before it (`free_row`, then the rows of `scanned[..limit]`) minimising
        // `c[r, j] - v[j] - h_r` (the same expression, so the same bits, as in `relax`).
        let (mut j, mut dj, mut limit) = (end, min, scanned.len());
        loop {
            let vj = self.v[j];
            let mut best = c[free_row * n + j] - vj;
            let mut from = 0usize;
            for (t, step) in scanned[..limit].iter().enumerate() {
                let r = c[step.row * n + j] - vj - step.h;
                if r < best {
                    best = r;
                    from = t + 1;
                }
            }
            debug_assert!(best <= dj);
            let i = if from == 0 {
                free_row
            } else {
                scanned[from - 1].row
            };
            self.col_sol[j] = i;
            self.row_sol[i] = j;
            if from == 0 {
                break;
            }
            let step = scanned[from - 1];
            (j, dj, limit) = (step.col, step.dist, from - 1);
        }
        // Scanned columns get their prices raised by how much closer than the end they were.
        for step in scanned.iter() {
            self.v[step.col] += step.dist - min;
        }
    }
}

/// `dist[j] = min(dist[j], row[j] - w[j] - h)` for every column; returns the new minimum.
fn relax(dist: &mut [f64], row: &[f64], w: &[f64], h: f64) -> f64 {
    let n = dist.len();
    let (row, w) = (&row[..n], &w[..n]);
    for ((d, &r), &wj) in dist.iter_mut().zip(row).zip(w) {
        let v2 = r - wj - h;
        *d = if v2 < *d { v2 } else { *d };
    }
    const L: usize = 4;
    let mut m = [f64::INFINITY; L];
    let mut chunks = dist.chunks_exact(L);
    for d in &mut chunks {
        for k in 0..L {
            m[k] = if d[k] < m[k] { d[k] } else { m[k] };
        }
    }
    for &d in chunks.remainder() {
        m[0] = if d < m[0] { d } else { m[0] };
    }
    let (a, b) = (m[0].min(m[1]), m[2].min(m[3]));
    a.min(b)
}

/// The first index `j` with `dist[j] == min` (`0` if none), testing four columns per branch.
fn first_at(dist: &[f64], min: f64) -> usize {
    let mut chunks = dist.chunks_exact(4);
    let mut base = 0;
    for d in &mut chunks {
        if (d[0] == min) | (d[1] == min) | (d[2] == min) | (d[3] == min) {
            return base + d.iter().position(|&x| x == min).unwrap_or(0);
        }
        base += 4;
    }
    chunks
        .remainder()
        .iter()
        .position(|&x| x == min)
        .map_or(0, |k| base + k)
}

/// One step of the shortest-path search: a column reached and the row behind it.
#[derive(Clone, Copy)]
struct Step {
    col: usize,
    dist: f64,
    row: usize,
    h: f64,
}

/// Buffers reused by every augmentation (no allocation per augmenting path).
struct Workspace {
    dist: Vec<f64>,
    w: Vec<f64>,
    scanned: Vec<Step>,
}

impl Workspace {
    fn new(n: usize) -> Self {
        Self {
            dist: vec![0.0; n],
            w: vec![0.0; n],
            scanned: Vec::with_capacity(n),
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

    /// The cost of `assignment`'s answer, after checking that it is a permutation.
    fn assigned_cost(cost: &[f64], n: usize) -> f64 {
        let s = assignment(cost, n).unwrap();
        let mut seen = s.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>(), "not a permutation");
        s.iter().enumerate().map(|(i, &j)| cost[i * n + j]).sum()
    }

    #[test]
    fn matches_brute_force_on_random_costs() {
        let mut rng = Rng::new(3);
        for n in 1..=7 {
            let cost: Vec<f64> = (0..n * n).map(|_| rng.uniform() * 10.0 - 3.0).collect();
            let total = assigned_cost(&cost, n);
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
                let total = assigned_cost(&cost, n);
                let reference = hungarian(&cost, n);
                assert!(
                    (total - reference).abs() < 1e-9 * reference.abs().max(1.0),
                    "n = {n}: {total} vs {reference}"
                );
            }
        }
    }

    #[test]
    fn clustered_and_duplicated_points_match_the_hungarian_method() {
        // Tight source clusters (long augmenting paths) and repeated points (exact ties in the
        // reduced costs, so the path recovery must pick among equal predecessors).
        use crate::data::{Toy2d, moons_grid};
        let mut rng = Rng::new(23);
        for n in [64, 128] {
            let a = Toy2d::EightGaussians.sample_with(n, &mut rng);
            let b = moons_grid(n, &mut rng);
            let mut xs = a.as_slice().to_vec();
            for k in 0..n / 4 {
                let src = 2 * (k % 5);
                xs[4 * k + 2] = xs[src];
                xs[4 * k + 3] = xs[src + 1];
            }
            let a = Samples::new(xs, 2).unwrap();
            let cost = squared_distances(&a, &b);
            let total = assigned_cost(&cost, n);
            let reference = hungarian(&cost, n);
            assert!(
                (total - reference).abs() < 1e-9 * reference.abs().max(1.0),
                "n = {n}: {total} vs {reference}"
            );
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
