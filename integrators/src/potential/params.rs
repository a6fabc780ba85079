//! Parameter checks shared by the potential constructors.

use super::PotentialError;

/// `value` when it is finite and > 0, else [`PotentialError::BadParameter`].
pub(crate) fn positive(
    potential: &'static str,
    parameter: &'static str,
    value: f64,
) -> Result<f64, PotentialError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(PotentialError::BadParameter {
            potential,
            parameter,
            value,
            expected: "a finite number > 0",
        })
    }
}

/// `value` when it is finite and >= 0, else [`PotentialError::BadParameter`].
pub(crate) fn non_negative(
    potential: &'static str,
    parameter: &'static str,
    value: f64,
) -> Result<f64, PotentialError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(PotentialError::BadParameter {
            potential,
            parameter,
            value,
            expected: "a finite number >= 0",
        })
    }
}

/// `value` when `lo <= value < hi`, else [`PotentialError::BadParameter`] with `expected`.
pub(crate) fn in_range(
    potential: &'static str,
    parameter: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    expected: &'static str,
) -> Result<f64, PotentialError> {
    if value.is_finite() && value >= lo && value < hi {
        Ok(value)
    } else {
        Err(PotentialError::BadParameter {
            potential,
            parameter,
            value,
            expected,
        })
    }
}

/// Shortest text that reads back to exactly `x` (plain digits for ordinary magnitudes,
/// otherwise scientific notation such as `3.334e11`).
pub(crate) fn fmt_num(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || (1e-3..1e6).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}
