//! The Cole-Hopf Burgers solution: quadrature rules, two orders and an independent trapezoidal
//! evaluation agree to 1e-8 or better; the solution is odd, vanishes at x = ±1, satisfies the PDE.

use std::f64::consts::PI;

use kiln_pinn::quadrature::gauss_hermite;
use kiln_pinn::reference::burgers::{ColeHopf, NU};

#[test]
fn gauss_hermite_integrates_moments_exactly() {
    for n in [1usize, 2, 5, 20, 100, 300] {
        let (z, w) = gauss_hermite(n).unwrap();
        // ∫ z^(2k) e^(-z²) = Γ(k + ½) = √π (2k-1)!! / 2^k.
        let mut exact = PI.sqrt();
        for k in 0..(n.min(6)) {
            let m: f64 = z
                .iter()
                .zip(&w)
                .map(|(z, w)| w * z.powi(2 * k as i32))
                .sum();
            assert!(
                (m - exact).abs() < 1e-12 * exact.max(1.0),
                "n {n}, moment {}: {m} vs {exact}",
                2 * k
            );
            exact *= (2 * k + 1) as f64 / 2.0;
        }
        let odd: f64 = z.iter().zip(&w).map(|(z, w)| w * z.powi(3)).sum();
        assert!(odd.abs() < 1e-12);
        assert!(z.windows(2).all(|p| p[0] < p[1]));
    }
    // Known two-point rule: ±1/√2 with weights √π/2.
    let (z, w) = gauss_hermite(2).unwrap();
    assert!((z[1] - 0.5f64.sqrt()).abs() < 1e-15 && (w[0] - PI.sqrt() / 2.0).abs() < 1e-15);
}

#[test]
fn cole_hopf_agrees_across_quadratures_to_1e_8() {
    let a = ColeHopf::new(NU, 200).unwrap();
    let b = ColeHopf::new(NU, 320).unwrap();
    let mut worst: f64 = 0.0;
    let mut worst_trap: f64 = 0.0;
    for &t in &[0.01, 0.1, 0.25, 0.5, 0.75, 0.99] {
        for i in 0..=40 {
            let x = -1.0 + 2.0 * i as f64 / 40.0;
            let (ua, ub) = (a.u(x, t), b.u(x, t));
            worst = worst.max((ua - ub).abs());
            worst_trap = worst_trap.max((ua - a.u_trapezoid(x, t, 40.0, 2e-3)).abs());
        }
        // Near the shock.
        for &x in &[-1e-3, -1e-4, 1e-5, 2e-3] {
            worst = worst.max((a.u(x, t) - b.u(x, t)).abs());
            worst_trap = worst_trap.max((a.u(x, t) - a.u_trapezoid(x, t, 40.0, 2e-3)).abs());
        }
    }
    assert!(worst < 1e-10, "200 vs 320 nodes differ by {worst:e}");
    assert!(
        worst_trap < 1e-9,
        "Gauss-Hermite vs trapezoid differ by {worst_trap:e}"
    );
}

#[test]
fn cole_hopf_has_the_known_structure() {
    let s = ColeHopf::new(NU, 200).unwrap();
    for &t in &[0.0, 0.3, 0.99] {
        assert!(s.u(-1.0, t).abs() < 1e-12 && s.u(1.0, t).abs() < 1e-12);
        for &x in &[0.1, 0.5, 0.9] {
            assert!((s.u(x, t) + s.u(-x, t)).abs() < 1e-12, "odd in x");
        }
    }
    // The steep front of the benchmark: by t = 0.99 u jumps across x = 0 within ~0.02.
    println!(
        "u(-0.02, 0.99) = {}, u(0.02, 0.99) = {}",
        s.u(-0.02, 0.99),
        s.u(0.02, 0.99)
    );
    assert!(s.u(-0.02, 0.99) > 0.5 && s.u(0.02, 0.99) < -0.5);
    // The PDE residual by central differences is small away from the front.
    let (h, k) = (1e-4, 1e-4);
    for &(x, t) in &[(0.5, 0.3), (-0.7, 0.6), (0.3, 0.9)] {
        let ut = (s.u(x, t + k) - s.u(x, t - k)) / (2.0 * k);
        let ux = (s.u(x + h, t) - s.u(x - h, t)) / (2.0 * h);
        let uxx = (s.u(x + h, t) - 2.0 * s.u(x, t) + s.u(x - h, t)) / (h * h);
        let r = ut + s.u(x, t) * ux - NU * uxx;
        assert!(r.abs() < 1e-5, "residual {r} at ({x}, {t})");
    }
}
