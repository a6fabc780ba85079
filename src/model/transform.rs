//! The learned part of the map (paper §2, eqs. 5–8): generating function G and point
//! transform P, evaluated with their input derivatives as ordinary tensors.
//!
//! `J = J' + dG/dtheta` (eq. 5), `theta' = theta + dG/dJ'` (eq. 6),
//! `theta'' = theta' + p(cos theta', sin theta')` (eq. 7),
//! `J'' = (dtheta'/dtheta'')^T J'` (eq. 8), solved as `M J'' = J'` with
//! `M_jk = dtheta''_k / dtheta'_j`.

use candle_core::{DType, Result, Tensor};
use rand::Rng;

use crate::nn::mlp::Dropout;
use crate::nn::{solve3, Weights};

/// Effective weights of G and P for one step, and whether theta_phi is masked out
/// (axisymmetric systems: then `J'_phi = J_phi` of the toy, i.e. `L_z`, exactly).
pub struct Nets {
    pub g: Weights,
    pub p: Weights,
    pub axisymmetric: bool,
    /// `[1,3]` scales `s_k`: G's action inputs are `J'_k / s_k`, and the loss divides
    /// component k by `s_k`.
    pub component_scales: Tensor,
}

/// The map at one set of `J'`: every intermediate the losses and outputs need, `[B,3]` each.
pub struct Mapped {
    /// `J' = J_toy - dG/dtheta` per row.
    pub j1: Tensor,
    /// `theta' = theta + dG/dJ'`.
    pub theta1: Tensor,
    /// `theta''`.
    pub theta2: Tensor,
    /// `J''`.
    pub j2: Tensor,
    /// `det dtheta''/dtheta'` per row `[B]` (a vanishing value means a folded map).
    pub det: Tensor,
}

/// Number of angles the networks see: 2 (theta_r, theta_z) when axisymmetric, else 3.
pub fn angle_inputs(axisymmetric: bool) -> usize {
    if axisymmetric {
        2
    } else {
        3
    }
}

impl Nets {
    /// The same nets cut from the graph.
    pub fn detach(&self) -> Nets {
        Nets {
            g: self.g.detach(),
            p: self.p.detach(),
            axisymmetric: self.axisymmetric,
            component_scales: self.component_scales.clone(),
        }
    }

    fn angles_seen(&self, theta: &Tensor) -> Result<Tensor> {
        theta.narrow(1, 0, angle_inputs(self.axisymmetric))
    }

    /// Pad `[B, a]` angle derivatives to `[B, 3]` with zeros for a masked theta_phi.
    fn pad(&self, x: Tensor) -> Result<Tensor> {
        if !self.axisymmetric {
            return Ok(x);
        }
        let zeros = Tensor::zeros((x.dim(0)?, 1), DType::F64, x.device())?;
        Tensor::cat(&[&x, &zeros], 1)
    }

    /// `(dG/dtheta, dG/dJ')` at `(theta, J')`, `[B,3]` each, by one forward and one reverse
    /// pass through G, whose inputs are `(cos theta, sin theta, J'/s)`.
    pub fn g_derivatives<R: Rng>(
        &self,
        theta: &Tensor,
        j1: &Tensor,
        dropout: Option<Dropout<'_, R>>,
    ) -> Result<(Tensor, Tensor)> {
        let a = angle_inputs(self.axisymmetric);
        let th = self.angles_seen(theta)?;
        let (c, s) = (th.cos()?, th.sin()?);
        let input = Tensor::cat(&[&c, &s, &j1.broadcast_div(&self.component_scales)?], 1)?;
        let trace = self.g.forward_dropout(&input, dropout)?;
        let seed = Tensor::ones((input.dim(0)?, 1), DType::F64, input.device())?;
        let grad = self.g.input_cotangent(&trace, &seed)?;
        let d_c = grad.narrow(1, 0, a)?;
        let d_s = grad.narrow(1, a, a)?;
        let d_theta = ((c * d_s)? - (s * d_c)?)?;
        let d_j = grad.narrow(1, 2 * a, 3)?.broadcast_div(&self.component_scales)?;
        Ok((self.pad(d_theta)?, d_j))
    }

    /// `(theta'', J'', det)` from `theta'` and the per-row `J'` (eqs. 7–8); the Jacobian of P
    /// by forward tangents along each seen angle.
    pub fn point_transform(&self, theta1: &Tensor, j1: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let a = angle_inputs(self.axisymmetric);
        let rows = theta1.dim(0)?;
        let th = self.angles_seen(theta1)?;
        let (c, s) = (th.cos()?, th.sin()?);
        let trace = self.p.forward(&Tensor::cat(&[&c, &s], 1)?)?;
        let theta2 = (theta1 + &trace.output)?;
        // Direction j: d(cos th_k)/dth_j = -sin th_j delta_jk, d(sin th_k)/dth_j = cos th_j delta_jk.
        let eye = Tensor::eye(a, DType::F64, theta1.device())?.unsqueeze(1)?;
        let tangents = Tensor::cat(&[&eye.broadcast_mul(&s.neg()?)?, &eye.broadcast_mul(&c)?], 2)?;
        let dp = self.p.input_tangents(&trace, &tangents)?; // [a, B, 3]: dp_k/dth_j
        let m = jacobian_rows(&dp, rows)?;
        let v: [Tensor; 3] = [col(j1, 0)?, col(j1, 1)?, col(j1, 2)?];
        let (j2, det) = solve3::solve(&m, &v)?;
        Ok((theta2, j2, det))
    }

    /// The whole map at `J'` (per row): `J' = J_toy - dG/dtheta`, then `theta'`, `theta''`, `J''`.
    pub fn map<R: Rng>(
        &self,
        theta: &Tensor,
        j_toy: &Tensor,
        j_prime: &Tensor,
        dropout: Option<Dropout<'_, R>>,
    ) -> Result<Mapped> {
        let (dg_dtheta, dg_dj) = self.g_derivatives(theta, j_prime, dropout)?;
        let j1 = (j_toy - dg_dtheta)?;
        let theta1 = (theta + dg_dj)?;
        let (theta2, j2, det) = self.point_transform(&theta1, &j1)?;
        Ok(Mapped {
            j1,
            theta1,
            theta2,
            j2,
            det,
        })
    }
}

/// Column `k` of `[B, 3]` as `[B]`.
fn col(x: &Tensor, k: usize) -> Result<Tensor> {
    x.narrow(1, k, 1)?.flatten_all()
}

/// `M_jk = delta_jk + dp_k/dtheta'_j` as nine `[B]` tensors; rows beyond the seen angles
/// (a masked theta_phi) are unit rows.
fn jacobian_rows(dp: &Tensor, rows: usize) -> Result<[[Tensor; 3]; 3]> {
    let seen = dp.dim(0)?;
    let dev = dp.device();
    let one = Tensor::ones(rows, DType::F64, dev)?;
    let zero = Tensor::zeros(rows, DType::F64, dev)?;
    let entry = |j: usize, k: usize| -> Result<Tensor> {
        let base = if j == k { &one } else { &zero };
        if j < seen {
            base + dp.get(j)?.narrow(1, k, 1)?.flatten_all()?
        } else {
            Ok(base.clone())
        }
    };
    Ok([
        [entry(0, 0)?, entry(0, 1)?, entry(0, 2)?],
        [entry(1, 0)?, entry(1, 1)?, entry(1, 2)?],
        [entry(2, 0)?, entry(2, 1)?, entry(2, 2)?],
    ])
}
