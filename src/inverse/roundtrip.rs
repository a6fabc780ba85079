//! Round trips through the forward map and the inverse: `(x, v) -> (J'', theta) -> (x', v')`,
//! whose `|x - x'|` (kpc) and `|v - v'|` (km/s) measure the inverse at a point (the paper's
//! accuracy of §6), and `(J, theta) -> (x, v) -> (J', theta')`, whose departures tell whether
//! an inverted point really lies on the torus asked for.

use std::f64::consts::{PI, TAU};
use std::fmt;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::InverseModel;
use crate::apply::{map_points, Mapped};
use crate::model::Model;

/// `[n,2]` `|x - x'|` and `|v - v'|` of the round trip of the points `xv` (rows of 6) that
/// `mapped` maps (their forward values); NaN where either map has no value.
pub fn errors_of(inverse: &InverseModel, xv: &[f64], mapped: &Mapped) -> Result<Vec<f64>> {
    let back = inverse.invert(&mapped.actions, &mapped.angles)?;
    Ok((xv.chunks_exact(6).zip(back.xv.chunks_exact(6)))
        .flat_map(|(a, b)| [distance(&a[..3], &b[..3]), distance(&a[3..], &b[3..])])
        .collect())
}

/// [`errors_of`] of the points `xv`, mapped forward by `model`.
pub fn errors(model: &Model, inverse: &InverseModel, xv: &[f64]) -> Result<Vec<f64>> {
    errors_of(inverse, xv, &map_points(model, xv)?)
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt()
}

/// Per row of `actions`, `angles` and the points `xv` inverted from them: the largest
/// `|J'_k - J_k|` (units of `action_scale`) and the largest `|theta'_k - theta_k|` (rad,
/// wrapped to `[0, pi]`) of the forward map at `xv`; NaN where it has no value.
pub fn closure(model: &Model, actions: &[f64], angles: &[f64], xv: &[f64]) -> Result<Vec<[f64; 2]>> {
    let scale = model.config.action_scale();
    let back = map_points(model, xv)?;
    Ok((0..xv.len() / 6)
        .map(|i| {
            let r = 3 * i..3 * i + 3;
            let dj =
                (back.actions[r.clone()].iter().zip(&actions[r.clone()])).map(|(a, b)| (a - b).abs() / scale);
            let dth = (back.angles[r.clone()].iter().zip(&angles[r])).map(|(a, b)| angle_difference(*a, *b));
            [largest(dj), largest(dth)]
        })
        .collect())
}

/// The largest of `values`, NaN if any is.
fn largest(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, |m: f64, x| {
        if x.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(x)
        }
    })
}

/// `|a - b|` on the circle, in `[0, pi]`.
pub fn angle_difference(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(TAU);
    d.min(TAU - d).min(PI)
}

/// Mean and median of round-trip errors over the points that have one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundTrip {
    pub points: usize,
    /// Mean and median `|x - x'|` (kpc).
    pub mean_dx: f64,
    pub median_dx: f64,
    /// Mean and median `|v - v'|` (km/s).
    pub mean_dv: f64,
    pub median_dv: f64,
}

impl RoundTrip {
    /// The summary of `[n,2]` errors (finite rows only; NaN for none).
    pub fn of(errors: &[f64]) -> RoundTrip {
        let rows: Vec<&[f64]> = errors
            .chunks_exact(2)
            .filter(|r| r.iter().all(|x| x.is_finite()))
            .collect();
        let column = |k: usize| -> (f64, f64) {
            let mut v: Vec<f64> = rows.iter().map(|r| r[k]).collect();
            v.sort_by(f64::total_cmp);
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            (mean, v.get(v.len() / 2).copied().unwrap_or(f64::NAN))
        };
        let ((mean_dx, median_dx), (mean_dv, median_dv)) = (column(0), column(1));
        RoundTrip {
            points: rows.len(),
            mean_dx,
            median_dx,
            mean_dv,
            median_dv,
        }
    }
}

impl fmt::Display for RoundTrip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "|x - x'| mean {:.3e} kpc (median {:.3e}), |v - v'| mean {:.3e} km/s (median {:.3e}) over {} points",
            self.mean_dx, self.median_dx, self.mean_dv, self.median_dv, self.points
        )
    }
}
