//! Vectorised f32 transcendental functions on host slices, for the places where burn's CPU
//! backends call libm one element at a time (tanh in every MLP, exp in every softmax).
//!
//! The kernels are branch-free scalar code in loops the compiler vectorises; each public
//! function picks AVX-512 or AVX2 + FMA at run time and falls back to the same loop without
//! them, so a binary built anywhere runs on any x86-64 CPU (and other architectures).
//!
//! - `exp`: Cody-Waite reduction `y = n ln 2 + r`, `|r| ≤ ln 2 / 2`, a degree-7 Taylor
//!   polynomial for `eʳ` (relative error below 1e-7) and `2ⁿ` put into the exponent bits; 0
//!   below -87.3, clamped at 88 (the largest finite result).
//! - `tanh`: for `|x| < 0.4` the odd Taylor polynomial to `x¹³` (remainder below 2e-9
//!   relative), otherwise `1 - 2 / (e^{2|x|} + 1)` with the sign restored. Within 4 ulp of
//!   libm's `tanhf` (tested); NaN gives NaN and ±∞ gives ±1.

/// Defines copies of the loop `$generic` compiled for AVX-512 and for AVX2 + FMA.
macro_rules! dispatch {
    ($avx512:ident, $avx2:ident, $generic:ident, ($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        unsafe fn $avx512($($arg: $ty),*) -> $ret {
            $generic($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $avx2($($arg: $ty),*) -> $ret {
            $generic($($arg),*)
        }
    };
}

/// tanh of every element, in place.
pub fn tanh_slice(values: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked above).
            return unsafe { tanh_avx512(values) };
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            return unsafe { tanh_avx2(values) };
        }
    }
    tanh_loop(values);
}

dispatch!(tanh_avx512, tanh_avx2, tanh_loop, (values: &mut [f32]) -> ());

#[inline(always)]
fn tanh_loop(values: &mut [f32]) {
    for v in values.iter_mut() {
        *v = tanh_f32(*v);
    }
}

/// `values[i] ← exp(values[i] - shift)` for every element; returns their sum. With `shift` the
/// largest value this is the numerator and denominator of a softmax, without overflow.
pub fn exp_shifted_sum(values: &mut [f32], shift: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked above).
            return unsafe { exp_sum_avx512(values, shift) };
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            return unsafe { exp_sum_avx2(values, shift) };
        }
    }
    exp_sum_loop(values, shift)
}

dispatch!(exp_sum_avx512, exp_sum_avx2, exp_sum_loop, (values: &mut [f32], shift: f32) -> f32);

#[inline(always)]
fn exp_sum_loop(values: &mut [f32], shift: f32) -> f32 {
    // Sixteen partial sums (one AVX-512 register), so that the additions vectorise (a single
    // running sum would fix the order of the additions and keep the loop scalar).
    let mut sums = [0.0_f32; LANES];
    let mut chunks = values.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        for (v, s) in chunk.iter_mut().zip(sums.iter_mut()) {
            *v = exp_f32(*v - shift);
            *s += *v;
        }
    }
    let mut total: f32 = sums.iter().sum();
    for v in chunks.into_remainder() {
        *v = exp_f32(*v - shift);
        total += *v;
    }
    total
}

/// The largest element (`-inf` for an empty slice; NaN elements are skipped).
pub fn max(values: &[f32]) -> f32 {
    let mut maxes = [f32::NEG_INFINITY; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (v, m) in chunk.iter().zip(maxes.iter_mut()) {
            *m = m.max(*v);
        }
    }
    let mut best = maxes.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for v in chunks.remainder() {
        best = best.max(*v);
    }
    best
}

/// Partial sums and maxima kept side by side: one AVX-512 register of f32.
const LANES: usize = 16;

/// Below this |x| tanh uses its Taylor polynomial.
const TANH_SMALL: f32 = 0.4;

/// tanh of one value, branch-free so that loops over it vectorise.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    // Large |x|: 1 - 2 / (e^{2a} + 1); e^{2a} is clamped below overflow (tanh is 1 there).
    let e = exp_f32((2.0 * a).min(88.0));
    let large = 1.0 - 2.0 / (e + 1.0);
    // Small |x|: x - x³/3 + 2x⁵/15 - 17x⁷/315 + 62x⁹/2835 - 1382x¹¹/155925 + 21844x¹³/6081075.
    let a2 = a * a;
    let p = -1.0 / 3.0
        + a2 * (2.0 / 15.0
            + a2 * (-17.0 / 315.0
                + a2 * (62.0 / 2835.0
                    + a2 * (-1382.0 / 155_925.0 + a2 * (21_844.0 / 6_081_075.0)))));
    let small = a + a * a2 * p;
    let magnitude = if a < TANH_SMALL { small } else { large };
    let signed = magnitude.copysign(x);
    if x.is_nan() { x } else { signed }
}

/// eʸ, branch-free so that loops over it vectorise (see the module docs).
#[inline(always)]
pub fn exp_f32(y: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that n · LN2_HI is exact for the n that occur.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 · 2²³: adding and subtracting it rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    // Below this, eʸ is under f32's smallest normal number: the result is 0.
    const LOWEST: f32 = -87.3;
    let clamped = y.clamp(LOWEST, 88.0);
    // n = round(y / ln 2), left in the low mantissa bits of `shifted` (|n| ≤ 127 < 2²²): read
    // from the bits rather than by a float-to-int conversion, which would not vectorise.
    let shifted = clamped * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = clamped - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let exponent = shifted
        .to_bits()
        .wrapping_sub(ROUND.to_bits())
        .wrapping_add(127);
    let value = p * f32::from_bits(exponent << 23);
    // NaN stays NaN; below the range the result is 0.
    let value = if y < LOWEST { 0.0 } else { value };
    if y.is_nan() { y } else { value }
}

#[cfg(test)]
mod tests {
    use super::{exp_f32, exp_shifted_sum, max, tanh_f32, tanh_slice};

    /// Distance in units in the last place between two finite f32 of the same sign.
    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    /// The worst ulp distance of `f` from `reference` over every 97th f32 between ±`limit`.
    fn worst(f: fn(f32) -> f32, reference: fn(f32) -> f32, limit: f32) -> (u32, f32) {
        let mut worst = (0, 0.0_f32);
        let mut bits = 0u32;
        while bits < limit.to_bits() {
            for x in [f32::from_bits(bits), -f32::from_bits(bits)] {
                let (got, want) = (f(x), reference(x));
                let u = if got == want { 0 } else { ulps(got, want) };
                if u > worst.0 {
                    worst = (u, x);
                }
            }
            bits += 97;
        }
        worst
    }

    #[test]
    fn tanh_is_within_four_ulp_of_libm_over_the_whole_range() {
        let (u, x) = worst(tanh_f32, f32::tanh, 20.0);
        assert!(u <= 4, "{u} ulp at x = {x:e}");
    }

    #[test]
    fn exp_is_within_four_ulp_of_libm_over_its_normal_range() {
        let (u, x) = worst(exp_f32, f32::exp, 87.0);
        assert!(u <= 4, "{u} ulp at x = {x:e}");
    }

    #[test]
    fn special_values_and_the_vectorised_slices_agree_with_the_scalar_kernels() {
        assert!(tanh_f32(f32::NAN).is_nan() && exp_f32(f32::NAN).is_nan());
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh_f32(100.0), 1.0);
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0_f32).to_bits());
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(-100.0), 0.0);
        assert_eq!(exp_f32(0.0), 1.0);
        let xs: Vec<f32> = (0..1003).map(|i| (i as f32 - 500.0) / 37.0).collect();
        let mut ys = xs.clone();
        tanh_slice(&mut ys);
        for (x, y) in xs.iter().zip(&ys) {
            assert_eq!(y.to_bits(), tanh_f32(*x).to_bits(), "x = {x}");
        }
        let shift = max(&xs);
        assert_eq!(shift, xs[1002]);
        let mut es = xs.clone();
        let sum = exp_shifted_sum(&mut es, shift);
        let want: f64 = xs.iter().map(|x| f64::from(*x - shift).exp()).sum();
        assert!(
            (f64::from(sum) - want).abs() < 1e-5 * want,
            "{sum} vs {want}"
        );
        for (x, e) in xs.iter().zip(&es) {
            assert_eq!(e.to_bits(), exp_f32(*x - shift).to_bits(), "x = {x}");
        }
    }
}
