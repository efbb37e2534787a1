//! Samplers against known sequences and discrepancy bounds.

use kiln_core::rng::Rng;
use kiln_pinn::Sampler;
use kiln_pinn::geometry::{Ball, Geometry, Hyperbox, Polygon, SpaceTime};
use kiln_pinn::sampler::{halton, hammersley, l2_star_discrepancy, radical_inverse, sobol};
use proptest::prelude::*;

#[test]
fn sobol_matches_the_published_first_points() {
    // The unscrambled sequence in two dimensions (as tabulated by Joe and Kuo, and scipy).
    let expected = [
        [0.0, 0.0],
        [0.5, 0.5],
        [0.75, 0.25],
        [0.25, 0.75],
        [0.375, 0.375],
        [0.875, 0.875],
        [0.625, 0.125],
        [0.125, 0.625],
    ];
    let pts = sobol(8, 2).unwrap();
    for (i, e) in expected.iter().enumerate() {
        assert_eq!(&pts[2 * i..2 * i + 2], e, "point {i}");
    }
    // Third dimension (s = 2, a = 1, m = 1, 3): 0, 0.5, 0.25, 0.75, 0.625, 0.125, 0.875, 0.375.
    let third: Vec<f64> = sobol(8, 3).unwrap().chunks(3).map(|p| p[2]).collect();
    assert_eq!(third, [0.0, 0.5, 0.25, 0.75, 0.625, 0.125, 0.875, 0.375]);
}

#[test]
fn sobol_points_are_stratified_nets() {
    // The first 2^m points put exactly one point in each interval [k/2^m, (k+1)/2^m) of every
    // coordinate (each one-dimensional projection is a (0, m, 1)-net).
    let dim = 21;
    let m = 10;
    let n = 1 << m;
    let pts = sobol(n, dim).unwrap();
    for d in 0..dim {
        let mut seen = vec![false; n];
        for p in pts.chunks(dim) {
            let cell = (p[d] * n as f64) as usize;
            assert!(!seen[cell], "dimension {d}: two points in cell {cell}");
            seen[cell] = true;
        }
    }
    // Pairs of dimensions: every 2^(m/2) x 2^(m/2) square holds exactly one point for
    // the first two coordinates (a (0, m, 2)-net).
    let k = 1 << (m / 2);
    let mut counts = vec![0; k * k];
    for p in pts.chunks(dim) {
        counts[(p[0] * k as f64) as usize * k + (p[1] * k as f64) as usize] += 1;
    }
    assert!(counts.iter().all(|&c| c == n / (k * k)), "{counts:?}");
}

#[test]
fn halton_uses_radical_inverses() {
    assert_eq!(radical_inverse(1, 2), 0.5);
    assert_eq!(radical_inverse(6, 2), 0.375); // 110 -> 0.011
    assert!((radical_inverse(5, 3) - 7.0 / 9.0).abs() < 1e-15); // 12 -> 0.21
    let pts = halton(3, 2).unwrap();
    let expected = [0.5, 1.0 / 3.0, 0.25, 2.0 / 3.0, 0.75, 1.0 / 9.0];
    for (a, b) in pts.iter().zip(expected) {
        assert!((a - b).abs() < 1e-15);
    }
}

#[test]
fn hammersley_matches_the_published_first_points() {
    // n = 8 in 3-D: (i/8, φ₂(i), φ₃(i)), the classical table (Hammersley 1960; Niederreiter 1992).
    let expected = [
        [0.0, 0.0, 0.0],
        [0.125, 0.5, 1.0 / 3.0],
        [0.25, 0.25, 2.0 / 3.0],
        [0.375, 0.75, 1.0 / 9.0],
        [0.5, 0.125, 4.0 / 9.0],
        [0.625, 0.625, 7.0 / 9.0],
        [0.75, 0.375, 2.0 / 9.0],
        [0.875, 0.875, 5.0 / 9.0],
    ];
    let pts = hammersley(8, 3).unwrap();
    assert_eq!(pts.len(), 24);
    for (i, e) in expected.iter().enumerate() {
        for k in 0..3 {
            assert!(
                (pts[3 * i + k] - e[k]).abs() < 1e-15,
                "point {i}: {:?}",
                &pts[3 * i..3 * i + 3]
            );
        }
    }
    // In one dimension the set is the grid i / n.
    assert_eq!(hammersley(4, 1).unwrap(), [0.0, 0.25, 0.5, 0.75]);
    assert!(hammersley(4, 0).is_err());
    assert!(hammersley(4, 33).is_err());
}

#[test]
fn randomised_hammersley_is_a_rotated_reordered_set() {
    // The sampler's points are the plain set, rotated by one shift per axis and reordered: the
    // first coordinates still form the grid {k/n + s}, one point per cell of width 1/n.
    let (n, dim) = (100, 3);
    let mut rng = Rng::new(9);
    let pts = Sampler::Hammersley.unit_cube(n, dim, &mut rng).unwrap();
    assert_eq!(pts.len(), n * dim);
    let mut cells: Vec<usize> = pts
        .chunks(dim)
        .map(|p| (p[0] * n as f64) as usize)
        .collect();
    cells.sort_unstable();
    assert_eq!(cells, (0..n).collect::<Vec<_>>());
    let offsets: Vec<f64> = pts.chunks(dim).map(|p| (p[0] * n as f64).fract()).collect();
    assert!(
        offsets.iter().all(|o| (o - offsets[0]).abs() < 1e-9),
        "one shift per axis"
    );
    // Every prefix is well spread: the first half covers both halves of every axis evenly.
    for d in 0..dim {
        let low = pts[..n / 2 * dim]
            .chunks(dim)
            .filter(|p| (p[d] - pts[d]).rem_euclid(1.0) < 0.5)
            .count();
        assert!(
            (20..=30).contains(&low),
            "axis {d}: {low} of 50 in one half"
        );
    }
}

#[test]
fn hammersley_works_in_every_geometry() {
    // Boxes keep the whole set; a disk (rejection) and a polygon boundary get exactly n points,
    // and the disk's points are balanced over its left and right halves.
    let mut rng = Rng::new(4);
    let square = Hyperbox::new(vec![-1.0, 0.0], vec![1.0, 2.0]).unwrap();
    let inside = square
        .sample_interior(64, Sampler::Hammersley, &mut rng)
        .unwrap();
    assert_eq!(inside.len(), 64);
    let disk = Ball::disk(0.0, 0.0, 1.0).unwrap();
    let pts = disk
        .sample_interior(400, Sampler::Hammersley, &mut rng)
        .unwrap();
    assert_eq!(pts.len(), 400);
    assert!(pts.rows().all(|p| p[0] * p[0] + p[1] * p[1] < 1.0));
    let left = pts.rows().filter(|p| p[0] < 0.0).count();
    assert!(
        (180..=220).contains(&left),
        "{left} of 400 in the left half"
    );
    let below = pts.rows().filter(|p| p[1] < 0.0).count();
    assert!(
        (180..=220).contains(&below),
        "{below} of 400 in the lower half"
    );
    let edge = disk
        .sample_boundary(50, Sampler::Hammersley, &mut rng)
        .unwrap();
    assert_eq!(edge.points.len(), 50);
    let triangle = Polygon::new(vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]).unwrap();
    assert_eq!(
        triangle
            .sample_boundary(30, Sampler::Hammersley, &mut rng)
            .unwrap()
            .points
            .len(),
        30
    );
    let cylinder = SpaceTime::new(disk, 0.0, 1.0).unwrap();
    assert_eq!(
        cylinder
            .sample_interior(100, Sampler::Hammersley, &mut rng)
            .unwrap()
            .len(),
        100
    );
}

#[test]
fn low_discrepancy_samplers_beat_random_points() {
    // For independent uniform points E[D2*²] = (2^-d - 3^-d) / n: Sobol and Halton should be far
    // below, Latin hypercube below.
    let n = 256;
    for dim in [1usize, 2, 3, 5] {
        let random_rms =
            ((0.5f64.powi(dim as i32) - (1.0 / 3.0f64).powi(dim as i32)) / n as f64).sqrt();
        for (sampler, factor) in [
            (Sampler::Sobol, if dim <= 3 { 0.35 } else { 0.5 }),
            (Sampler::Halton, if dim <= 3 { 0.35 } else { 0.7 }),
            (Sampler::Hammersley, if dim <= 3 { 0.3 } else { 0.6 }),
            (Sampler::LatinHypercube, 0.9),
        ] {
            let mut rng = Rng::new(dim as u64);
            let pts = sampler.unit_cube(n, dim, &mut rng).unwrap();
            let d = l2_star_discrepancy(&pts, dim).unwrap();
            assert!(
                d < factor * random_rms,
                "{sampler:?} in {dim}-D: discrepancy {d:.3e}, random {random_rms:.3e}"
            );
        }
        // Uniform random points stay near their expectation (a check of the formula).
        let mut total = 0.0;
        for seed in 0..20 {
            let mut rng = Rng::new(100 + seed);
            let pts = Sampler::Uniform.unit_cube(n, dim, &mut rng).unwrap();
            total += l2_star_discrepancy(&pts, dim).unwrap().powi(2);
        }
        let mean_sq = total / 20.0;
        let expected = random_rms * random_rms;
        assert!(
            (mean_sq / expected - 1.0).abs() < 0.5,
            "{dim}-D random: mean D² {mean_sq:.3e}, expected {expected:.3e}"
        );
    }
}

#[test]
fn grid_and_latin_hypercube_cover_their_strata() {
    let mut rng = Rng::new(1);
    let grid = Sampler::Grid.unit_cube(100, 2, &mut rng).unwrap();
    assert_eq!(grid.len(), 200);
    assert!(grid.iter().all(|&x| (x * 10.0 - 0.5).fract().abs() < 1e-9));
    let n = 50;
    let lhs = Sampler::LatinHypercube.unit_cube(n, 3, &mut rng).unwrap();
    for d in 0..3 {
        let mut strata: Vec<usize> = lhs.chunks(3).map(|p| (p[d] * n as f64) as usize).collect();
        strata.sort_unstable();
        assert_eq!(strata, (0..n).collect::<Vec<_>>(), "axis {d}");
    }
}

#[test]
fn bad_dimensions_are_errors() {
    let mut rng = Rng::new(0);
    assert!(Sampler::Uniform.unit_cube(4, 0, &mut rng).is_err());
    assert!(sobol(4, 22).is_err());
    assert!(halton(4, 40).is_err());
    assert!(l2_star_discrepancy(&[0.1, 0.2, 0.3], 2).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn samples_lie_in_the_unit_cube(n in 1usize..200, dim in 1usize..=8, seed in 0u64..1000, which in 0usize..6) {
        let sampler = [Sampler::Uniform, Sampler::Grid, Sampler::LatinHypercube, Sampler::Sobol, Sampler::Halton, Sampler::Hammersley][which];
        let mut rng = Rng::new(seed);
        let pts = sampler.unit_cube(n, dim, &mut rng).unwrap();
        prop_assert!(pts.len().is_multiple_of(dim));
        if sampler != Sampler::Grid {
            prop_assert_eq!(pts.len(), n * dim);
        }
        prop_assert!(pts.iter().all(|&x| (0.0..1.0).contains(&x)));
    }
}
