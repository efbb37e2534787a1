//! Geometries: sampled points lie inside, boundary points on the boundary, normals unit and outward.

use std::f64::consts::PI;

use kiln_core::rng::Rng;
use kiln_pinn::geometry::{Ball, Difference, Hyperbox, Intersection, Polygon, SpaceTime, Union};
use kiln_pinn::{Geometry, Sampler};
use proptest::prelude::*;

const SAMPLERS: [Sampler; 5] = [
    Sampler::Uniform,
    Sampler::Grid,
    Sampler::LatinHypercube,
    Sampler::Sobol,
    Sampler::Halton,
];

/// Checks interior and boundary samples of `g`.
fn check(g: &dyn Geometry, n: usize, sampler: Sampler, seed: u64) -> Result<(), TestCaseError> {
    let mut rng = Rng::new(seed);
    let inside = g.sample_interior(n, sampler, &mut rng).unwrap();
    if sampler != Sampler::Grid {
        prop_assert_eq!(inside.len(), n);
    }
    for p in inside.rows() {
        prop_assert!(
            g.sdf(p) < 0.0,
            "interior point {:?} has sdf {}",
            p,
            g.sdf(p)
        );
    }
    let boundary = g.sample_boundary(n, sampler, &mut rng).unwrap();
    prop_assert_eq!(boundary.len(), n);
    let scale = {
        let (lo, hi) = g.bounds();
        lo.iter().zip(&hi).map(|(a, b)| b - a).fold(0.0, f64::max)
    };
    let eps = 1e-6 * scale;
    for i in 0..boundary.len() {
        let (p, nrm) = (boundary.points.row(i), boundary.normals.row(i));
        prop_assert!(
            g.sdf(p).abs() < 1e-9 * scale.max(1.0),
            "{:?} off the boundary: {}",
            p,
            g.sdf(p)
        );
        let norm: f64 = nrm.iter().map(|x| x * x).sum::<f64>().sqrt();
        prop_assert!((norm - 1.0).abs() < 1e-12, "normal {:?}", nrm);
        // Outward: a small step along the normal leaves the domain, a step against it enters.
        let out: Vec<f64> = p.iter().zip(nrm).map(|(x, n)| x + eps * n).collect();
        let back: Vec<f64> = p.iter().zip(nrm).map(|(x, n)| x - eps * n).collect();
        prop_assert!(
            g.sdf(&out) > 0.0,
            "normal {:?} at {:?}: step out has sdf {}",
            nrm,
            p,
            g.sdf(&out)
        );
        prop_assert!(
            g.sdf(&back) < 0.0,
            "normal {:?} at {:?}: step in has sdf {}",
            nrm,
            p,
            g.sdf(&back)
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn boxes(dim in 1usize..=5, seed in 0u64..1000, which in 0usize..5, lo in -2.0f64..0.0, w in 0.1f64..3.0) {
        let lo_v: Vec<f64> = (0..dim).map(|k| lo + 0.1 * k as f64).collect();
        let hi_v: Vec<f64> = lo_v.iter().enumerate().map(|(k, a)| a + w * (1.0 + 0.3 * k as f64)).collect();
        check(&Hyperbox::new(lo_v, hi_v).unwrap(), 64, SAMPLERS[which], seed)?;
    }

    #[test]
    fn balls(dim in 1usize..=5, seed in 0u64..1000, which in 0usize..5, r in 0.1f64..3.0, c in -1.0f64..1.0) {
        check(&Ball::new(vec![c; dim], r).unwrap(), 64, SAMPLERS[which], seed)?;
    }

    #[test]
    fn regular_polygons(sides in 3usize..12, seed in 0u64..1000, which in 0usize..5, r in 0.2f64..2.0, phase in 0.0f64..6.3, clockwise in any::<bool>()) {
        let mut v: Vec<[f64; 2]> = (0..sides)
            .map(|k| {
                let a = phase + 2.0 * PI * k as f64 / sides as f64;
                [r * a.cos(), r * a.sin()]
            })
            .collect();
        if clockwise {
            v.reverse();
        }
        check(&Polygon::new(v).unwrap(), 64, SAMPLERS[which], seed)?;
    }

    #[test]
    fn set_operations(seed in 0u64..1000, which in 0usize..5, r in 0.2f64..0.45, cx in 0.3f64..0.7) {
        let sampler = SAMPLERS[which];
        let square = || Hyperbox::new(vec![0.0, 0.0], vec![1.0, 1.0]).unwrap();
        let disk = || Ball::disk(cx, 0.5, r).unwrap();
        check(&Difference::new(square(), disk()).unwrap(), 64, sampler, seed)?;
        check(&Union::new(square(), Ball::disk(1.0, 0.5, r).unwrap()).unwrap(), 64, sampler, seed)?;
        check(&Intersection::new(square(), Ball::disk(1.0, 1.0, 0.5 + r).unwrap()).unwrap(), 64, sampler, seed)?;
    }

    #[test]
    fn space_time(seed in 0u64..1000, which in 0usize..5, t1 in 0.1f64..2.0) {
        let st = SpaceTime::new(Ball::disk(0.0, 0.0, 1.0).unwrap(), 0.0, t1).unwrap();
        check(&st, 64, SAMPLERS[which], seed)?;
        let mut rng = Rng::new(seed);
        let init = st.sample_initial(32, SAMPLERS[which], &mut rng).unwrap();
        for p in init.rows() {
            prop_assert_eq!(p[2], 0.0);
            prop_assert!(p[0].hypot(p[1]) < 1.0);
        }
    }
}

#[test]
fn l_shaped_polygon_and_its_normals() {
    // A non-convex L: the unit square without its upper-right quarter.
    let l = Polygon::new(vec![
        [0.0, 0.0],
        [1.0, 0.0],
        [1.0, 0.5],
        [0.5, 0.5],
        [0.5, 1.0],
        [0.0, 1.0],
    ])
    .unwrap();
    check(&l, 400, Sampler::Uniform, 4).unwrap();
    assert!(l.sdf(&[0.75, 0.75]) > 0.0 && l.sdf(&[0.25, 0.75]) < 0.0);
    assert!((l.boundary_measure() - 4.0).abs() < 1e-12);
}

#[test]
fn samples_are_uniform_over_area_and_boundary() {
    // Area fraction: the disk of radius 0.25 in the unit square gets π/16 of the interior points.
    let square = Hyperbox::new(vec![0.0, 0.0], vec![1.0, 1.0]).unwrap();
    let mut rng = Rng::new(9);
    let pts = square
        .sample_interior(4096, Sampler::Sobol, &mut rng)
        .unwrap();
    let disk = Ball::disk(0.5, 0.5, 0.25).unwrap();
    let frac = pts.rows().filter(|p| disk.sdf(p) < 0.0).count() as f64 / 4096.0;
    assert!((frac - PI / 16.0).abs() < 0.01, "fraction {frac}");
    // Boundary of the square minus a disk: the circle carries 2π·0.25 of the 4 + π/2 length.
    let holed = Difference::new(square, disk).unwrap();
    let b = holed
        .sample_boundary(4000, Sampler::Uniform, &mut rng)
        .unwrap();
    let on_circle = b
        .points
        .rows()
        .filter(|p| (p[0] - 0.5).hypot(p[1] - 0.5) < 0.26)
        .count();
    let expected = (PI / 2.0) / (4.0 + PI / 2.0);
    let got = on_circle as f64 / 4000.0;
    assert!(
        (got - expected).abs() < 0.03,
        "circle share {got}, expected {expected}"
    );
    // The circle's normals point into the hole (towards its centre).
    for i in 0..b.len() {
        let p = b.points.row(i);
        if (p[0] - 0.5).hypot(p[1] - 0.5) < 0.26 {
            let n = b.normals.row(i);
            assert!(n[0] * (p[0] - 0.5) + n[1] * (p[1] - 0.5) < 0.0);
        }
    }
}

#[test]
fn bad_geometries_are_errors() {
    assert!(Hyperbox::interval(1.0, 1.0).is_err());
    assert!(Hyperbox::new(vec![0.0], vec![1.0, 2.0]).is_err());
    assert!(Ball::new(vec![0.0], -1.0).is_err());
    assert!(Polygon::new(vec![[0.0, 0.0], [1.0, 0.0]]).is_err());
    assert!(Polygon::new(vec![[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]).is_err());
    assert!(SpaceTime::new(Ball::disk(0.0, 0.0, 1.0).unwrap(), 1.0, 0.0).is_err());
    let err = Union::new(
        Hyperbox::interval(0.0, 1.0).unwrap(),
        Ball::disk(0.0, 0.0, 1.0).unwrap(),
    );
    assert!(err.is_err());
}
