//! How a metric's value is printed in demo reports: counts as integers, other numbers with four
//! significant digits. A file without dependencies, so that `xtask` (which does not depend on
//! kiln-core) includes the same source for the gallery's `index.md`.

/// A metric's value for people to read: `50` for a count, `0.1235` or `1.235e-5` for others.
///
/// Whole numbers below 10¹⁵ in magnitude print as integers. Values in `[1e-3, 1e5)` print in
/// fixed notation with four significant digits (trailing zeros dropped); the rest in scientific
/// notation with four significant digits. Non-finite values print as `NaN`, `inf` or `-inf`.
pub fn format_metric(value: f64) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let magnitude = value.abs();
    if (1e-3..1e5).contains(&magnitude) {
        // Digits after the point for four significant digits.
        let decimals = (3 - magnitude.log10().floor() as i32).max(0) as usize;
        let fixed = format!("{value:.decimals$}");
        let trimmed = if fixed.contains('.') {
            fixed.trim_end_matches('0').trim_end_matches('.')
        } else {
            fixed.as_str()
        };
        trimmed.to_string()
    } else {
        format!("{value:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::format_metric;

    #[test]
    fn counts_print_as_integers_and_the_rest_with_four_significant_digits() {
        assert_eq!(format_metric(50.0), "50");
        assert_eq!(format_metric(-3.0), "-3");
        assert_eq!(format_metric(0.0), "0");
        assert_eq!(format_metric(123456.0), "123456");
        assert_eq!(format_metric(0.123456), "0.1235");
        assert_eq!(format_metric(2.5), "2.5");
        assert_eq!(format_metric(1234.5678), "1235");
        assert_eq!(format_metric(0.001234), "0.001234");
        assert_eq!(format_metric(4.36e-4), "4.360e-4");
        assert_eq!(format_metric(1.5e7 + 0.5), "1.500e7");
        assert_eq!(format_metric(f64::NAN), "NaN");
        assert_eq!(format_metric(f64::INFINITY), "inf");
    }
}
