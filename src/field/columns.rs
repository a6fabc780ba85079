//! The field's per-particle columns for a catalog: acceleration and potential from the field
//! network at each position, and frequencies from the action map's jets (eq. 16):
//! `Omega = dtheta''/dx . v + dtheta''/dv . a`.

use anyhow::Result;

use super::loss::rates;
use super::FieldModel;
use crate::model::jet::jets_at;
use crate::model::Model;

/// How the potential's zero point is set (the catalog states it).
pub const POTENTIAL_ZERO_POINT: &str = "Phi = Phi_toy + network: the toy part is zero at infinity, the \
     learned part is defined up to a constant (zero where the network's output is zero); compare \
     potentials after removing a constant offset";

/// Acceleration `[n,3]`, potential `[n]` (potential form) and frequencies `[n,3]` (NaN where
/// the action map cannot differentiate the point) of rows of `xv`.
pub struct FieldColumns {
    pub acceleration: Vec<f64>,
    pub potential: Option<Vec<f64>>,
    pub frequencies: Vec<f64>,
}

/// The field's columns for every row of `xv` (rows of 6), whose `J'` (`[n,3]`, NaN where
/// none) the action map has solved.
pub fn field_columns(model: &Model, field: &FieldModel, xv: &[f64], j_prime: &[f64]) -> Result<FieldColumns> {
    let x: Vec<f64> = xv.chunks_exact(6).flat_map(|p| p[..3].to_vec()).collect();
    let values = field.evaluate(&x)?;
    let jets = jets_at(model, xv, j_prime)?;
    let mut frequencies = vec![f64::NAN; x.len()];
    for (i, jet) in jets.iter().enumerate() {
        if let Some(jet) = jet {
            let (_, omega) = rates(jet, &xv[6 * i..6 * i + 6], &values.acceleration[3 * i..3 * i + 3]);
            frequencies[3 * i..3 * i + 3].copy_from_slice(&omega);
        }
    }
    Ok(FieldColumns {
        acceleration: values.acceleration,
        potential: values.potential,
        frequencies,
    })
}
