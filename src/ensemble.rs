//! Per-particle action uncertainties from an ensemble of independently trained models (other
//! seeds, other splits): each action component's sample standard deviation over the M
//! members, `sigma_k = sqrt(sum_m (J_k^m - <J_k>)^2 / (M - 1))`. A point gets NaN where a
//! member has no value for it. Whether sigma is calibrated is measured by `validate` against
//! held-out truth (the share of true actions within one and two sigma).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use candle_core::Device;

use crate::apply::map_points;
use crate::model::Model;

/// The further models of an ensemble and the calibration of its sigma.
#[derive(Debug, Clone, PartialEq)]
pub struct Ensemble {
    /// Model directories besides the one applied.
    pub members: Vec<PathBuf>,
    /// Per component (r, z, phi), the factor sigma is multiplied by (a `validate` report's
    /// "scale for 68%" on data with truth; 1 = the raw standard deviation).
    pub scale: [f64; 3],
}

impl Ensemble {
    /// No further models: no `action_error`.
    pub fn none() -> Self {
        Ensemble {
            members: Vec::new(),
            scale: [1.0; 3],
        }
    }

    /// `action_error` of the ensemble of `primary` (the applied model's actions) and the
    /// members on `xv`, scaled; `None` without members.
    pub fn action_error(&self, primary: &[f64], xv: &[f64], device: &Device) -> Result<Option<Vec<f64>>> {
        if self.members.is_empty() {
            return Ok(None);
        }
        if let Some(s) = self.scale.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            bail!("--error-scale {s} must be a positive number");
        }
        let mut all = member_actions(&self.members, xv, device)?;
        all.push(primary.to_vec());
        let mut sigma = action_error(&all)?;
        for (j, e) in sigma.iter_mut().enumerate() {
            *e *= self.scale[j % 3];
        }
        Ok(Some(sigma))
    }
}

/// The actions (\[n,3\], kpc km/s) of `xv` under each model directory of `members`.
pub fn member_actions(members: &[PathBuf], xv: &[f64], device: &Device) -> Result<Vec<Vec<f64>>> {
    members
        .iter()
        .map(|dir| {
            let (model, _) =
                Model::load(dir, device).with_context(|| format!("--ensemble {}", dir.display()))?;
            Ok(map_points(&model, xv)?.actions)
        })
        .collect()
}

/// The per-component sample standard deviation over `actions` (each \[n,3\]); at least two.
pub fn action_error(actions: &[Vec<f64>]) -> Result<Vec<f64>> {
    let m = actions.len();
    if m < 2 {
        bail!("an ensemble needs at least two models, got {m}");
    }
    let len = actions[0].len();
    if let Some(bad) = actions.iter().find(|a| a.len() != len) {
        bail!("ensemble members mapped {} and {} values", len, bad.len());
    }
    Ok((0..len)
        .map(|j| {
            let mean = actions.iter().map(|a| a[j]).sum::<f64>() / m as f64;
            let ss: f64 = actions.iter().map(|a| (a[j] - mean).powi(2)).sum();
            (ss / (m - 1) as f64).sqrt()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_standard_deviation_per_component() {
        let a = vec![vec![1.0, 2.0, 3.0], vec![3.0, 2.0, f64::NAN]];
        let e = action_error(&a).unwrap();
        assert!((e[0] - 2f64.sqrt()).abs() < 1e-15);
        assert_eq!(e[1], 0.0);
        assert!(e[2].is_nan());
        assert!(action_error(&a[..1]).is_err());
    }
}
