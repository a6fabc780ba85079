//! The field loss (paper eqs. 15–16, plus energy conservation for the potential form), built
//! on the action map's phase-space jets, which are constants per point while the field
//! trains.
//!
//! Per point, with the learned field `a(x)`:
//! - `dJ''/dt = dJ''/dx . v + dJ''/dv . a` must vanish (eq. 15), scaled by `V^2 s_k`;
//! - `Omega = dtheta''/dx . v + dtheta''/dv . a` (eq. 16) must be the same along each
//!   stream, scaled by `V / L`;
//! - `E = v^2/2 + Phi(x)` must be the same along each stream, scaled by `V^2`.
//!
//! Each term is a mean of squares ([`Penalty::L2`]) or of absolute values ([`Penalty::L1`]).
//! For L2 the loss is the squared norm of one residual vector whose parts carry
//! `sqrt(weight / count)`, the vector the least-squares polish of the output layer uses
//! ([`super::polish`]).

use candle_core::{Device, Result, Tensor};
use serde::{Deserialize, Serialize};

use super::FieldSpec;
use crate::dataset::StreamLayout;
use crate::model::groups;
use crate::model::jet::MapJet;
use crate::nn::Weights;

/// How residuals are penalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Penalty {
    /// Mean of squares: smooth, and the output layer's optimum is a least-squares solve.
    L2,
    /// Mean of absolute values: robust to a few bad points or streams.
    L1,
}

/// Weights of the loss terms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossWeights {
    /// `dJ''/dt = 0` (eq. 15).
    pub actions: f64,
    /// Energy conservation along each stream (potential form only).
    pub energy: f64,
    /// Frequency spread along each stream (eq. 16, the paper's alpha3).
    pub frequencies: f64,
    /// The paper's alpha2 symmetry term for axisymmetric systems:
    /// `1 + a_R . R / (|a_R| |R|)`, zero where the cylindrical acceleration points inwards.
    #[serde(default)]
    pub symmetry: f64,
}

/// Per-point constants of the loss for whole streams (of any lengths, as `layout` says), as
/// tensors. Every term is a mean over points: each point's `dJ''/dt` is a constraint of its
/// own, so a stream counts by its points.
pub struct FieldRows {
    pub layout: StreamLayout,
    /// `[B,3]` positions (kpc).
    pub x: Tensor,
    /// `[B]` `v^2 / 2 / V^2`.
    pub kinetic: Tensor,
    /// `[B,3]` `dJ''/dx . v / (V^2 s)` and `[B,3,3]` `dJ''/dv / (V^2 s)`.
    pub j_x: Tensor,
    pub j_v: Tensor,
    /// `[B,3]` `dtheta''/dx . v L / V` and `[B,3,3]` `dtheta''/dv L / V`.
    pub o_x: Tensor,
    pub o_v: Tensor,
}

/// Scales of the normalisation: velocity `V`, length `L`, action component sizes `s_k`
/// (kpc km/s).
#[derive(Clone, Copy, Debug)]
pub struct Scales {
    pub velocity: f64,
    pub length: f64,
    pub actions: [f64; 3],
}

impl FieldRows {
    /// The rows of whole streams: `xv` rows of 6 and one jet per row.
    pub fn new(xv: &[f64], jets: &[MapJet], layout: StreamLayout, sc: Scales, dev: &Device) -> Result<Self> {
        let b = jets.len();
        let v2 = sc.velocity * sc.velocity;
        let rate = sc.length / sc.velocity;
        let x: Vec<f64> = xv.chunks_exact(6).flat_map(|p| p[..3].to_vec()).collect();
        let kinetic: Vec<f64> = xv
            .chunks_exact(6)
            .map(|p| 0.5 * (p[3] * p[3] + p[4] * p[4] + p[5] * p[5]) / v2)
            .collect();
        let along = |d: &[[f64; 6]; 3], p: &[f64], f: &dyn Fn(usize) -> f64| -> Vec<f64> {
            (0..3)
                .map(|i| (0..3).map(|j| d[i][j] * p[3 + j]).sum::<f64>() * f(i))
                .collect()
        };
        let dv = |d: &[[f64; 6]; 3], f: &dyn Fn(usize) -> f64| -> Vec<f64> {
            (0..3)
                .flat_map(|i| (0..3).map(move |j| d[i][3 + j] * f(i)))
                .collect()
        };
        let fj = |i: usize| 1.0 / (v2 * sc.actions[i]);
        let fo = |_: usize| rate;
        let pts: Vec<&[f64]> = xv.chunks_exact(6).collect();
        let flat = |g: &dyn Fn(&MapJet, &[f64]) -> Vec<f64>| -> Vec<f64> {
            jets.iter().zip(&pts).flat_map(|(j, p)| g(j, p)).collect()
        };
        Ok(FieldRows {
            layout,
            x: Tensor::from_vec(x, (b, 3), dev)?,
            kinetic: Tensor::from_vec(kinetic, b, dev)?,
            j_x: Tensor::from_vec(flat(&|j, p| along(&j.d_actions, p, &fj)), (b, 3), dev)?,
            j_v: Tensor::from_vec(flat(&|j, _| dv(&j.d_actions, &fj)), (b, 3, 3), dev)?,
            o_x: Tensor::from_vec(flat(&|j, p| along(&j.d_angles, p, &fo)), (b, 3), dev)?,
            o_v: Tensor::from_vec(flat(&|j, _| dv(&j.d_angles, &fo)), (b, 3, 3), dev)?,
        })
    }
}

/// The loss: the weighted sum of each term's mean penalty.
pub fn loss(
    spec: &FieldSpec,
    w: &Weights,
    rows: &FieldRows,
    weights: LossWeights,
    penalty: Penalty,
) -> Result<Tensor> {
    let mut total: Option<Tensor> = None;
    for (r, weight) in terms(spec, w, rows, weights)? {
        let term = match penalty {
            Penalty::L2 => r.sqr()?.mean_all()?,
            Penalty::L1 => r.abs()?.mean_all()?,
        };
        let term = (term * weight)?;
        total = Some(match total {
            Some(t) => (t + term)?,
            None => term,
        });
    }
    total.ok_or_else(|| candle_core::Error::Msg("no loss term has a positive weight".into()))
}

/// The L2 residual vector: every term's residuals times `sqrt(weight / count)` (its squared
/// norm is the L2 loss).
pub fn residuals(spec: &FieldSpec, w: &Weights, rows: &FieldRows, weights: LossWeights) -> Result<Tensor> {
    let parts: Vec<Tensor> = terms(spec, w, rows, weights)?
        .into_iter()
        .map(|(r, weight)| r.flatten_all()? * (weight / r.elem_count() as f64).sqrt())
        .collect::<Result<_>>()?;
    Tensor::cat(&parts, 0)
}

/// The residuals of each term with a positive weight, with that weight.
fn terms(
    spec: &FieldSpec,
    w: &Weights,
    rows: &FieldRows,
    weights: LossWeights,
) -> Result<Vec<(Tensor, f64)>> {
    let (a, phi) = spec.evaluate(w, &rows.x)?;
    let symmetry = if weights.symmetry > 0.0 {
        Some(inward(&a, &rows.x)?)
    } else {
        None
    };
    let a = a.unsqueeze(1)?;
    let mut parts = Vec::new();
    let mut push = |r: Tensor, weight: f64| -> Result<()> {
        if weight > 0.0 {
            parts.push((r, weight));
        }
        Ok(())
    };
    let rate = |x: &Tensor, v: &Tensor| -> Result<Tensor> { x + v.broadcast_mul(&a)?.sum(2)? };
    push(rate(&rows.j_x, &rows.j_v)?, weights.actions)?;
    if weights.frequencies > 0.0 {
        push(
            along_stream(&rate(&rows.o_x, &rows.o_v)?, &rows.layout)?,
            weights.frequencies,
        )?;
    }
    if let (Some(phi), true) = (phi, weights.energy > 0.0) {
        let scale = spec.velocity_scale.powi(2);
        let e = (&rows.kinetic + (phi / scale)?)?.unsqueeze(1)?;
        push(along_stream(&e, &rows.layout)?, weights.energy)?;
    }
    if let Some(r) = symmetry {
        push(r, weights.symmetry)?;
    }
    Ok(parts)
}

/// `1 + cos` of the angle between the cylindrical parts of `a` and `x` (`[B]`).
fn inward(a: &Tensor, x: &Tensor) -> Result<Tensor> {
    let (a_r, r) = (a.narrow(1, 0, 2)?, x.narrow(1, 0, 2)?);
    let dot = (&a_r * &r)?.sum(1)?;
    let norms = (a_r.sqr()?.sum(1)?.sqrt()? * r.sqr()?.sum(1)?.sqrt()?)?;
    (dot / (norms + 1e-300)?)? + 1.0
}

/// Deviations of `[B,k]` values from their stream means.
fn along_stream(values: &Tensor, layout: &StreamLayout) -> Result<Tensor> {
    let Some(stars) = layout.uniform_stars() else {
        return values - groups::expand(&groups::mean(values, layout)?, layout)?;
    };
    let (b, k) = values.dims2()?;
    let per = values.reshape((b / stars, stars, k))?;
    per.broadcast_sub(&per.mean_keepdim(1)?)
}

/// Per-point `dJ''/dt` and frequencies `Omega` (km/s/kpc) from jets and an acceleration.
pub fn rates(jet: &MapJet, xv: &[f64], a: &[f64]) -> ([f64; 3], [f64; 3]) {
    let rate = |d: &[[f64; 6]; 3]| -> [f64; 3] {
        std::array::from_fn(|i| (0..3).map(|j| d[i][j] * xv[3 + j] + d[i][3 + j] * a[j]).sum())
    };
    (rate(&jet.d_actions), rate(&jet.d_angles))
}
