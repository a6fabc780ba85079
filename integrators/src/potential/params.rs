//! Parameter checks and small numeric helpers shared by the potentials.

use super::PotentialError;

/// `value` when `ok`, else [`PotentialError::BadParameter`] saying what was `expected`.
fn require(
    potential: &'static str,
    parameter: &'static str,
    value: f64,
    ok: bool,
    expected: &'static str,
) -> Result<f64, PotentialError> {
    if ok {
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

/// `value` when it is finite and > 0, else [`PotentialError::BadParameter`].
pub(crate) fn positive(
    potential: &'static str,
    parameter: &'static str,
    value: f64,
) -> Result<f64, PotentialError> {
    let ok = value.is_finite() && value > 0.0;
    require(potential, parameter, value, ok, "a finite number > 0")
}

/// `value` when it is finite and >= 0, else [`PotentialError::BadParameter`].
pub(crate) fn non_negative(
    potential: &'static str,
    parameter: &'static str,
    value: f64,
) -> Result<f64, PotentialError> {
    let ok = value.is_finite() && value >= 0.0;
    require(potential, parameter, value, ok, "a finite number >= 0")
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
    let ok = value.is_finite() && value >= lo && value < hi;
    require(potential, parameter, value, ok, expected)
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

/// The symmetric 3x3 matrix `diag(d) + sum_k c_k u_k u_k^T`: every Hessian here has this
/// form (a diagonal plus rank-one terms).
pub(crate) fn diag_plus_outer(d: [f64; 3], terms: &[(f64, [f64; 3])]) -> [[f64; 3]; 3] {
    let mut h = [[0.0; 3]; 3];
    for (i, row) in h.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = terms.iter().map(|(c, u)| c * u[i] * u[j]).sum();
        }
        row[i] += d[i];
    }
    h
}
