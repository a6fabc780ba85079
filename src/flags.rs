//! Range checks of command-line values, shared by the commands' option checks: each
//! refusal names the flag, the value as typed and the range allowed.

use anyhow::{bail, Result};

/// `x` as a user would type it: plain for moderate magnitudes, `1e300` style otherwise.
pub fn number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-4..1e6).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// A finite number in `[low, high]`, else an error naming `flag`, the value and the range.
pub fn in_range(flag: &str, value: f64, low: f64, high: f64) -> Result<()> {
    if value.is_finite() && (low..=high).contains(&value) {
        return Ok(());
    }
    bail!(
        "{flag} {} is out of range: expected a number in [{}, {}]",
        number(value),
        number(low),
        number(high)
    )
}

/// A finite number in `(0, high]`, else an error naming `flag`, the value and the range.
pub fn positive(flag: &str, value: f64, high: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 && value <= high {
        return Ok(());
    }
    bail!(
        "{flag} {} is out of range: expected a number in (0, {}]",
        number(value),
        number(high)
    )
}

/// A fraction in `[0, 1)`, else an error naming `flag` and the value.
pub fn fraction(flag: &str, value: f64) -> Result<()> {
    if value.is_finite() && (0.0..1.0).contains(&value) {
        return Ok(());
    }
    bail!(
        "{flag} {} is out of range: expected a number in [0, 1)",
        number(value)
    )
}

/// A count of at least one, else an error naming `flag`.
pub fn at_least_one(flag: &str, value: usize) -> Result<()> {
    if value >= 1 {
        return Ok(());
    }
    bail!("{flag} {value} is out of range: expected at least 1")
}

/// Block widths: both at least one and the widest not below the narrowest.
pub fn widths(width_flag: &str, width: usize, max_flag: &str, max_width: usize) -> Result<()> {
    at_least_one(width_flag, width)?;
    if max_width < width {
        bail!("{max_flag} {max_width} is below {width_flag} {width}: widths rise from {width_flag} to {max_flag}, so {max_flag} must be at least {width_flag}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_typed() {
        assert_eq!(number(1e300), "1e300");
        assert_eq!(number(-5.0), "-5");
        assert_eq!(number(0.001), "0.001");
        assert_eq!(number(f64::NAN), "NaN");
    }

    #[test]
    fn ranges_are_inclusive_and_refuse_non_finite_values() {
        assert!(in_range("--x", 0.0, 0.0, 1.0).is_ok());
        assert!(in_range("--x", f64::INFINITY, 0.0, f64::INFINITY).is_err());
        assert!(positive("--x", 0.0, 1.0).is_err());
        assert!(fraction("--x", 1.0).is_err());
        assert!(widths("--w", 8, "--m", 8).is_ok());
    }
}
