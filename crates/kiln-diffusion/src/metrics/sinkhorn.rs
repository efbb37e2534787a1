//! Entropic optimal transport by Sinkhorn's iteration in the log domain (stable for small ε):
//! the plan `P = diag(a) exp((f ⊕ g - C)/ε) diag(b)` and pairs drawn from it.

use kiln_core::rng::Rng;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Settings of the Sinkhorn iteration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sinkhorn {
    /// The entropic regularisation ε (> 0), in units of the cost.
    pub eps: f64,
    /// Most iterations (one row and one column update each).
    pub max_iter: usize,
    /// Stop when the L1 error of the row marginals falls below this.
    pub tol: f64,
}

/// An entropic plan `[n, m]` (row-major, entries summing to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct SinkhornPlan {
    /// The plan, row-major `[n, m]`.
    pub plan: Vec<f64>,
    /// Rows.
    pub n: usize,
    /// Columns.
    pub m: usize,
    /// `⟨P, C⟩`, the transport cost of the plan.
    pub cost: f64,
    /// Iterations made.
    pub iterations: usize,
    /// L1 error of the row marginals at the end.
    pub marginal_error: f64,
}

fn logsumexp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = values.clone().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + values.map(|v| (v - max).exp()).sum::<f64>().ln()
}

impl Sinkhorn {
    /// Sinkhorn with regularisation `eps`, at most 1000 iterations and tolerance 1e-6.
    pub fn new(eps: f64) -> Self {
        Self {
            eps,
            max_iter: 1000,
            tol: 1e-6,
        }
    }

    /// The entropic plan between uniform marginals on `n` rows and `m` columns.
    ///
    /// # Errors
    /// As [`Sinkhorn::plan_weighted`].
    pub fn plan(&self, cost: &[f64], n: usize, m: usize) -> Result<SinkhornPlan> {
        self.plan_weighted(cost, &vec![1.0 / n as f64; n], &vec![1.0 / m as f64; m])
    }

    /// The entropic plan for cost `[n, m]` between marginals `a` (`[n]`) and `b` (`[m]`).
    /// Reaching `max_iter` is not an error: check [`SinkhornPlan::marginal_error`].
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `eps ≤ 0`, `max_iter == 0`, marginals that are not
    /// positive or do not sum to 1, or non-finite costs; [`Error::ShapeMismatch`] for a cost of
    /// the wrong size.
    pub fn plan_weighted(&self, cost: &[f64], a: &[f64], b: &[f64]) -> Result<SinkhornPlan> {
        let (n, m) = (a.len(), b.len());
        if !(self.eps > 0.0 && self.eps.is_finite()) {
            return Err(Error::config(
                "eps",
                self.eps,
                "the regularisation must be positive",
            ));
        }
        if self.max_iter == 0 {
            return Err(Error::config("max_iter", 0, "allow at least one iteration"));
        }
        if n == 0 || m == 0 || cost.len() != n * m {
            return Err(Error::shape(
                "Sinkhorn",
                format!("{n}x{m} costs, n, m > 0"),
                &[cost.len()],
            ));
        }
        for (name, w) in [("a", a), ("b", b)] {
            let s: f64 = w.iter().sum();
            if w.iter().any(|v| v.is_nan() || *v <= 0.0) || (s - 1.0).abs() > 1e-9 {
                return Err(Error::config(
                    if name == "a" {
                        "marginal a"
                    } else {
                        "marginal b"
                    },
                    format!("sum {s}"),
                    "marginal weights must be positive and sum to 1",
                ));
            }
        }
        if let Some(bad) = cost.iter().find(|c| !c.is_finite()) {
            return Err(Error::config("cost", bad, "every cost must be finite"));
        }
        let eps = self.eps;
        let (la, lb): (Vec<f64>, Vec<f64>) = (
            a.iter().map(|v| v.ln()).collect(),
            b.iter().map(|v| v.ln()).collect(),
        );
        let mut f = vec![0.0; n];
        let mut g = vec![0.0; m];
        let mut iterations = 0;
        let mut error = f64::INFINITY;
        while iterations < self.max_iter {
            iterations += 1;
            for i in 0..n {
                let row = &cost[i * m..(i + 1) * m];
                f[i] = -eps * logsumexp((0..m).map(|j| lb[j] + (g[j] - row[j]) / eps));
            }
            for j in 0..m {
                g[j] = -eps * logsumexp((0..n).map(|i| la[i] + (f[i] - cost[i * m + j]) / eps));
            }
            // Columns are exact after the g update; measure the rows.
            error = (0..n)
                .map(|i| {
                    let row = &cost[i * m..(i + 1) * m];
                    let s: f64 = (0..m)
                        .map(|j| (la[i] + lb[j] + (f[i] + g[j] - row[j]) / eps).exp())
                        .sum();
                    (s - a[i]).abs()
                })
                .sum();
            if error < self.tol {
                break;
            }
        }
        let mut plan = Vec::with_capacity(n * m);
        let mut total = 0.0;
        for i in 0..n {
            for j in 0..m {
                let p = (la[i] + lb[j] + (f[i] + g[j] - cost[i * m + j]) / eps).exp();
                total += p * cost[i * m + j];
                plan.push(p);
            }
        }
        Ok(SinkhornPlan {
            plan,
            n,
            m,
            cost: total,
            iterations,
            marginal_error: error,
        })
    }
}

impl SinkhornPlan {
    /// Draws `count` index pairs `(i, j)` with probability `P[i, j]` (with replacement).
    pub fn sample_pairs(&self, count: usize, rng: &mut Rng) -> Vec<(usize, usize)> {
        let mut cumulative = Vec::with_capacity(self.plan.len());
        let mut acc = 0.0;
        for p in &self.plan {
            acc += p;
            cumulative.push(acc);
        }
        (0..count)
            .map(|_| {
                let u = rng.uniform() * acc;
                let k = cumulative
                    .partition_point(|&c| c <= u)
                    .min(self.plan.len() - 1);
                (k / self.m, k % self.m)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Samples;
    use crate::metrics::{squared_distances, w2};

    #[test]
    fn small_eps_approaches_exact_ot_and_large_eps_independence() {
        let mut rng = Rng::new(9);
        let n = 40;
        let x = Samples::new((0..2 * n).map(|_| rng.normal()).collect(), 2).unwrap();
        let y = Samples::new((0..2 * n).map(|_| rng.normal() + 1.0).collect(), 2).unwrap();
        let cost = squared_distances(&x, &y);
        let exact = w2(&x, &y).unwrap().powi(2);
        let plan = Sinkhorn {
            eps: 0.1,
            max_iter: 20_000,
            tol: 1e-8,
        }
        .plan(&cost, n, n)
        .unwrap();
        assert!(plan.marginal_error < 1e-8, "{}", plan.marginal_error);
        assert!(
            plan.cost >= exact - 1e-9 && plan.cost - exact < 5e-2 * exact,
            "{} vs {exact}",
            plan.cost
        );
        let wider = Sinkhorn {
            eps: 0.5,
            max_iter: 20_000,
            tol: 1e-8,
        }
        .plan(&cost, n, n)
        .unwrap();
        assert!(wider.cost > plan.cost, "entropic cost grows with eps");
        // Column marginals are exact after each iteration.
        for j in 0..n {
            let s: f64 = (0..n).map(|i| plan.plan[i * n + j]).sum();
            assert!((s - 1.0 / n as f64).abs() < 1e-12);
        }
        let wide = Sinkhorn::new(1e6).plan(&cost, n, n).unwrap();
        assert!(
            wide.plan
                .iter()
                .all(|p| (p * (n * n) as f64 - 1.0).abs() < 1e-3)
        );
        let pairs = plan.sample_pairs(1000, &mut rng);
        assert!(pairs.iter().all(|&(i, j)| i < n && j < n));
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(Sinkhorn::new(0.0).plan(&[1.0], 1, 1).is_err());
        assert!(Sinkhorn::new(1.0).plan(&[1.0, 2.0], 1, 1).is_err());
        assert!(
            Sinkhorn::new(1.0)
                .plan_weighted(&[1.0, 2.0], &[1.0], &[0.2, 0.2])
                .is_err()
        );
    }
}
