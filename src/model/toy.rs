//! The toy isochrone map injected into the candle graph by linearisation (docs/design.md step 2).
//!
//! The map (x, v) -> (J, theta) is evaluated natively in f64 with its exact derivatives with
//! respect to M and b (num-dual, [`IsochroneFinder::jacobians_batch`]); in the graph the
//! values enter as `v0 + dv/dM (M - detach M) + dv/db (b - detach b)`: the value is exact and
//! so is the gradient with respect to the trainable `ln M`, `ln b`.

use actionfinder_integrators::actions::{Flag, IsochroneFinder};
use actionfinder_integrators::units::G;
use candle_core::{Device, Result, Tensor, Var};

use rayon::prelude::*;

/// Margin kept between the toy mass and the smallest mass that binds every point.
pub const BOUND_MARGIN: f64 = 1.05;

/// Toy values of a batch of points: actions and angles, with d/dM and d/db when wanted.
pub struct ToyPoints {
    /// \[B,6\] J_r, J_z, J_phi (kpc km/s), theta_r, theta_z, theta_phi (rad).
    pub values: Vec<f64>,
    /// \[B,6\] derivatives with respect to M (per Msun), when computed.
    pub d_m: Option<Vec<f64>>,
    /// \[B,6\] derivatives with respect to b (per kpc), when computed.
    pub d_b: Option<Vec<f64>>,
    /// One flag per point (unbound in the toy, non-finite, ...).
    pub flags: Vec<Flag>,
}

/// The smallest isochrone mass for which every point of `xv` (rows of 6) is bound at scale
/// `b`: `E = v^2/2 - G M / (b + sqrt(b^2 + r^2)) < 0` gives `M > v^2 (b + sqrt(b^2 + r^2)) / 2G`.
pub fn min_mass(xv: &[f64], b: f64) -> f64 {
    xv.par_chunks_exact(6)
        .map(|p| {
            let r2 = p[0] * p[0] + p[1] * p[1] + p[2] * p[2];
            let v2 = p[3] * p[3] + p[4] * p[4] + p[5] * p[5];
            v2 * (b + (b * b + r2).sqrt()) / (2.0 * G)
        })
        .reduce(|| 0.0, f64::max)
}

/// Evaluate the isochrone `(m, b)` on rows of `xv`, with derivatives when `derivatives`.
pub fn evaluate(m: f64, b: f64, xv: &[f64], derivatives: bool) -> ToyPoints {
    let rows = xv.len() / 6;
    let finder = match IsochroneFinder::new(m, b) {
        Ok(f) => f,
        Err(_) => {
            return ToyPoints {
                values: vec![f64::NAN; 6 * rows],
                d_m: derivatives.then(|| vec![f64::NAN; 6 * rows]),
                d_b: derivatives.then(|| vec![f64::NAN; 6 * rows]),
                flags: vec![Flag::Unsupported; rows],
            }
        }
    };
    let mut values = vec![0.0; 6 * rows];
    if !derivatives {
        let flags = xv
            .par_chunks_exact(6)
            .zip(values.par_chunks_exact_mut(6))
            .map(|(p, out)| forward_row(&finder, p, out))
            .collect();
        return ToyPoints {
            values,
            d_m: None,
            d_b: None,
            flags,
        };
    }
    let mut jac = vec![0.0; 48 * rows];
    let flags = finder.jacobians_batch(xv, &mut values, &mut jac);
    let column = |c: usize| jac.chunks_exact(8).map(|row| row[c]).collect::<Vec<_>>();
    ToyPoints {
        values,
        d_m: Some(column(6)),
        d_b: Some(column(7)),
        flags,
    }
}

/// Toy values of rows of `xv` with their phase-space Jacobians: `[B,6]` values, `[B,6,6]`
/// row-major `d(J, theta)/d(x, v)`, and one flag per point.
pub fn phase_space_jacobian(m: f64, b: f64, xv: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<Flag>) {
    let rows = xv.len() / 6;
    let Ok(finder) = IsochroneFinder::new(m, b) else {
        return (
            vec![f64::NAN; 6 * rows],
            vec![f64::NAN; 36 * rows],
            vec![Flag::Unsupported; rows],
        );
    };
    let mut values = vec![0.0; 6 * rows];
    let mut jac = vec![0.0; 48 * rows];
    let flags = finder.jacobians_batch(xv, &mut values, &mut jac);
    let xv_columns = jac.chunks_exact(8).flat_map(|row| row[..6].to_vec()).collect();
    (values, xv_columns, flags)
}

fn forward_row(finder: &IsochroneFinder, p: &[f64], out: &mut [f64]) -> Flag {
    use actionfinder_integrators::actions::ActionFinder;
    use actionfinder_integrators::PhaseSpace;
    let w = PhaseSpace::new([p[0], p[1], p[2]], [p[3], p[4], p[5]]);
    match finder.action_angle(&w) {
        Ok(aa) => {
            out[..3].copy_from_slice(&aa.actions);
            out[3..].copy_from_slice(&aa.angles);
            Flag::Ok
        }
        Err(e) => {
            out.fill(f64::NAN);
            Flag::from(&e)
        }
    }
}

/// The toy's parameters as candle variables `ln M`, `ln b` (trained or held fixed).
#[derive(Clone, Debug)]
pub struct Toy {
    /// `ln(M / Msun)`.
    pub log_m: Var,
    /// `ln(b / kpc)`.
    pub log_b: Var,
    /// Whether `M` and `b` are trained.
    pub trained: bool,
}

/// Toy actions (divided by the action scale) and angles of a batch as tensors `[B,3]`.
pub struct ToyTensors {
    pub actions: Tensor,
    pub angles: Tensor,
}

impl Toy {
    /// Mass in Msun.
    pub fn m(&self) -> Result<f64> {
        self.log_m.as_tensor().to_scalar::<f64>().map(f64::exp)
    }

    /// Scale length in kpc.
    pub fn b(&self) -> Result<f64> {
        self.log_b.as_tensor().to_scalar::<f64>().map(f64::exp)
    }

    /// Evaluate at the current `M`, `b`.
    pub fn evaluate(&self, xv: &[f64]) -> Result<ToyPoints> {
        Ok(evaluate(self.m()?, self.b()?, xv, self.trained))
    }

    /// The batch as tensors, linearised in `M`, `b` when trained; actions divided by
    /// `action_scale`.
    pub fn tensors(&self, pts: &ToyPoints, action_scale: f64, device: &Device) -> Result<ToyTensors> {
        let rows = pts.values.len() / 6;
        let all = Tensor::from_slice(&pts.values, (rows, 6), device)?;
        let mut values = all;
        if let (Some(d_m), Some(d_b)) = (&pts.d_m, &pts.d_b) {
            let shift = |var: &Var, d: &[f64]| -> Result<Tensor> {
                let p = var.as_tensor().exp()?;
                let dp = (&p - p.detach())?;
                Tensor::from_slice(d, (rows, 6), device)?.broadcast_mul(&dp)
            };
            values = ((values + shift(&self.log_m, d_m)?)? + shift(&self.log_b, d_b)?)?;
        }
        Ok(ToyTensors {
            actions: (values.narrow(1, 0, 3)? / action_scale)?,
            angles: values.narrow(1, 3, 3)?,
        })
    }

    /// Keep every point of `xv` bound: raise `M` to [`BOUND_MARGIN`] times [`min_mass`]
    /// when the optimiser moved it below. Returns whether it had to.
    pub fn keep_bound(&self, xv: &[f64]) -> Result<bool> {
        let floor = BOUND_MARGIN * min_mass(xv, self.b()?);
        if self.m()? >= floor {
            return Ok(false);
        }
        self.log_m.set(&Tensor::new(floor.ln(), self.log_m.device())?)?;
        Ok(true)
    }
}
