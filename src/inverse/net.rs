//! The inverse network (paper §5, eq. 18): `(t_x, t_y, J) = net(cos theta'', sin theta'', J'')`,
//! the toy's angle unit vectors and actions, from which the toy isochrone's analytic inverse
//! gives `(x, v)`.
//!
//! The network predicts each toy angle's unit vector relative to `theta''`: its outputs
//! `(u_c, u_s, dJ)` give `theta_toy = theta'' + atan2(u_s, 1 + u_c)` and
//! `J_toy = J'' + s dJ` (actions in units of the action scale, `s` the component scales). A
//! network with a zero output layer is the identity, the exact inverse where the map is the
//! toy's. In an axisymmetric model theta''_phi is not an input and `J_toy,phi = J''_phi`
//! (`= L_z`) exactly.
//!
//! Loss (supervised on the forward map's own pairs), the mean over rows of two terms:
//! - in toy coordinates, the squared chord between the predicted and the true toy angle unit
//!   vectors, summed over the three angles, plus `sum_k ((J_toy,k - J_true,k) / s_k)^2`;
//! - in phase space, `|e_x| + |e_v|` with `e = D delta` the `(x / L, v / V)` error these
//!   errors make to first order: `delta = (dJ / A, sin dtheta)`, `D` the toy's inverse
//!   linearised at the true point ([`super::jacobian`]); the paper's measure of the inverse is
//!   the mean `|x - x'|`, `|v - v'|`, and this term weighs each error by its effect there (an
//!   angle of a wide orbit, the angular momentum of a radial one).

use candle_core::{Device, Result, Tensor, D};
use serde::{Deserialize, Serialize};

use super::jacobian::inverse_jacobians;
use crate::model::transform::angle_inputs;
use crate::nn::{MlpSpec, Weights};
use actionfinder_integrators::actions::IsochroneFinder;

/// Everything needed to rebuild the inverse's graph and to judge its input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InverseSpec {
    pub net: MlpSpec,
    /// theta''_phi kept out of the network, `J_toy,phi = J''_phi`.
    pub axisymmetric: bool,
    /// The forward map's length (kpc) and velocity (km/s) scales, and component scales of
    /// the actions.
    pub length_scale: f64,
    pub velocity_scale: f64,
    pub component_scales: [f64; 3],
    /// The forward map's toy isochrone (Msun, kpc), whose inverse ends the map.
    pub toy_m: f64,
    pub toy_b: f64,
    /// Per action component (r, z, phi), the smallest and largest `J''` (kpc km/s) the
    /// network was trained on.
    pub action_range: [[f64; 2]; 3],
    /// Largest round-trip departures that count as closing: `max_k |J_k - J_in,k|` in units of
    /// the action scale, and the largest angle difference (rad).
    pub closure: Closure,
}

/// Tolerances of the round trip (J, theta) -> (x, v) -> (J, theta).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Closure {
    pub actions: f64,
    pub angles: f64,
}

/// Network outputs per row: three `u_c`, three `u_s`, three `dJ`.
pub const OUTPUTS: usize = 9;

/// Keeps the gradient of `|e|` finite at `e = 0`: `|e| ~ sqrt(e^2 + EPS^2)`.
const EPS: f64 = 1e-9;

impl InverseSpec {
    /// The action scale `A = L V` (kpc km/s).
    pub fn action_scale(&self) -> f64 {
        self.length_scale * self.velocity_scale
    }

    /// Network inputs: cos and sin of the seen angles, three actions.
    pub fn inputs(axisymmetric: bool) -> usize {
        2 * angle_inputs(axisymmetric) + 3
    }

    /// The network's input `[B, 2a+3]` from catalog angles `theta` and actions `j` (units of
    /// the action scale), `[B,3]` each.
    pub fn features(&self, theta: &Tensor, j: &Tensor) -> Result<Tensor> {
        let th = theta.narrow(1, 0, angle_inputs(self.axisymmetric))?;
        let s = self.scales(j.device())?;
        Tensor::cat(&[&th.cos()?, &th.sin()?, &j.broadcast_div(&s)?], 1)
    }

    /// `[1,3]` component scales.
    fn scales(&self, device: &Device) -> Result<Tensor> {
        Tensor::new(&self.component_scales, device)?.unsqueeze(0)
    }

    /// `[1,3]` which action corrections the network may make (none for phi when axisymmetric).
    fn action_mask(&self, device: &Device) -> Result<Tensor> {
        let phi = if self.axisymmetric { 0.0 } else { 1.0 };
        Tensor::new(&[1.0, 1.0, phi], device)?.unsqueeze(0)
    }

    /// `(u_c, u_s, s dJ)`, `[B,3]` each, of the network's output `[B,9]`; `s dJ` masked.
    pub fn split(&self, out: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let dev = out.device();
        let dj = out
            .narrow(1, 6, 3)?
            .broadcast_mul(&self.scales(dev)?)?
            .broadcast_mul(&self.action_mask(dev)?)?;
        Ok((out.narrow(1, 0, 3)?, out.narrow(1, 3, 3)?, dj))
    }

    /// The mean loss of `rows` with weights `w` (see the module doc).
    pub fn loss(&self, w: &Weights, rows: &Rows) -> Result<Tensor> {
        let out = w.forward(&rows.features)?.output;
        let (uc, us, dj) = self.split(&out)?;
        let c = (uc + 1.0)?;
        let norm = (c.sqr()? + us.sqr()?)?.sqrt()?;
        let (nc, ns) = ((c / &norm)?, (us / norm)?);
        let chord = ((&nc - &rows.cos_delta)?.sqr()? + (&ns - &rows.sin_delta)?.sqr()?)?;
        let sin = ((ns * &rows.cos_delta)? - (nc * &rows.sin_delta)?)?;
        let dj = (dj - &rows.dj)?;
        let actions = dj.broadcast_div(&self.scales(rows.dj.device())?)?.sqr()?;
        let toy = (chord.sum(D::Minus1)? + actions.sum(D::Minus1)?)?;
        let delta = Tensor::cat(&[&dj, &sin], 1)?.unsqueeze(2)?;
        let e = rows.jacobian.matmul(&delta)?.squeeze(2)?;
        let size = |t: Tensor| -> Result<Tensor> { (t.sqr()?.sum(D::Minus1)? + EPS * EPS)?.sqrt() };
        let phase_space = (size(e.narrow(1, 0, 3)?)? + size(e.narrow(1, 3, 3)?)?)?;
        (toy + phase_space)?.mean_all()
    }
}

/// Training or validation rows as tensors: the network's input and its targets, the true
/// toy angle relative to the input angle (`cos`, `sin` of `theta_toy - theta''`) and
/// `J_toy - J''` (units of the action scale), `[B,3]` each; and the toy's linearised inverse
/// `D` at the target, `[B,6,6]`.
pub struct Rows {
    pub features: Tensor,
    pub cos_delta: Tensor,
    pub sin_delta: Tensor,
    pub dj: Tensor,
    pub jacobian: Tensor,
}

/// Pairs of the forward map on the host, rows of 3 each: catalog angles and `J''` (input),
/// toy angles and toy actions (target); actions in units of the action scale.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pairs {
    pub theta: Vec<f64>,
    pub j: Vec<f64>,
    pub toy_theta: Vec<f64>,
    pub toy_j: Vec<f64>,
}

impl Pairs {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.theta.len() / 3
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.theta.is_empty()
    }

    /// Append the rows of `other`.
    pub fn extend(&mut self, other: Pairs) {
        self.theta.extend(other.theta);
        self.j.extend(other.j);
        self.toy_theta.extend(other.toy_theta);
        self.toy_j.extend(other.toy_j);
    }

    /// The pairs `index` picks, in its order.
    pub fn pick(&self, index: &[usize]) -> Pairs {
        let rows = |v: &[f64]| index.iter().flat_map(|&i| v[3 * i..3 * i + 3].to_vec()).collect();
        Pairs {
            theta: rows(&self.theta),
            j: rows(&self.j),
            toy_theta: rows(&self.toy_theta),
            toy_j: rows(&self.toy_j),
        }
    }
}

impl Rows {
    /// The tensors of `pairs` for `spec`.
    pub fn new(spec: &InverseSpec, pairs: &Pairs, device: &Device) -> Result<Rows> {
        let n = pairs.len();
        let t = |v: &[f64]| Tensor::from_slice(v, (n, 3), device);
        let delta: Vec<f64> = (pairs.toy_theta.iter().zip(&pairs.theta))
            .map(|(a, b)| a - b)
            .collect();
        let dj: Vec<f64> = (pairs.toy_j.iter().zip(&pairs.j)).map(|(a, b)| a - b).collect();
        let delta = t(&delta)?;
        let finder = IsochroneFinder::new(spec.toy_m, spec.toy_b).map_err(candle_core::Error::wrap)?;
        let scales = [spec.length_scale, spec.velocity_scale];
        let d = inverse_jacobians(&finder, &pairs.toy_j, &pairs.toy_theta, scales);
        Ok(Rows {
            features: spec.features(&t(&pairs.theta)?, &t(&pairs.j)?)?,
            cos_delta: delta.cos()?,
            sin_delta: delta.sin()?,
            dj: t(&dj)?,
            jacobian: Tensor::from_vec(d, (n, 6, 6), device)?,
        })
    }
}
