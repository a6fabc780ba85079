//! Exact action-angle coordinates of the isochrone potential, both directions, with the exact
//! Jacobian of the forward map.
//!
//! The isochrone `Phi(r) = -G M / (b + sqrt(b^2 + r^2))` is integrable in closed form
//! (McGill & Binney 1990, MNRAS 244, 634; Binney & Tremaine 2008, BT08, §3.5.2; galpy's
//! `actionAngleIsochrone` and `actionAngleIsochroneInverse`, whose angle conventions are
//! followed here). With `E = v^2/2 + Phi(r)`, `L = |x × v|`, `Q = sqrt(L^2 + 4 G M b)` and
//! `Lambda = G M / sqrt(-2 E)`:
//!
//! * actions: `J_r = Lambda - (L + Q)/2` (McGill & Binney's eq. 4, and the ACTIONFINDER
//!   paper's eq. 4, print `-4 G M b`: a sign typo), `J_z = L - |L_z|`, `J_phi = L_z`; `J_r`
//!   is evaluated without the cancellation of that difference (see `radial_action`), so it
//!   is never negative and keeps its relative precision on nearly circular orbits;
//! * frequencies: `Omega_r = (G M)^2 / Lambda^3 = (-2 E)^(3/2) / (G M)`,
//!   `Omega_z = Omega_r (1 + L/Q) / 2`, `Omega_phi = sign(L_z) Omega_z` (+ for `L_z = 0`);
//! * radial angle (BT08 eq. 3.241-3.242): with `c = G M / (-2 E) - b` and
//!   `e^2 = 1 - L^2 (c + b) / (G M c^2)`, the eccentric anomaly `eta` solves
//!   `sqrt(b^2 + r^2) - b = c (1 - e cos eta)`; from the time derivative of that relation
//!   `e sin eta = (x·v) Lambda / (G M c)`, so `eta = atan2(Lambda x·v / (G M), c - w)`,
//!   `w = sqrt(b^2 + r^2) - b` — no `arccos`, hence full precision at peri- and apocentre.
//!   Then `theta_r = eta - e c/(c + b) sin eta = eta - (x·v)/Lambda`. Internally `eta` and
//!   `theta_r` live in `(-pi, pi]`, pericentre at 0, where the resolution of an `f64` is finest
//!   (the pericentre passage of an eccentric orbit takes a tiny fraction of its radial period);
//!   outputs are wrapped into `[0, 2 pi)`;
//! * vertical angle (BT08 eq. 3.244-3.245):
//!   `theta_z = psi + (Omega_z/Omega_r) theta_r - Lambda_eta`, where `psi` is the angle in the
//!   orbital plane from the ascending node and
//!   `Lambda_eta = atan2((1 + e) s, p c_) + (L/Q) atan2(sqrt(c (1 + e) + 2 b) s,
//!   sqrt(c (1 - e) + 2 b) c_)` with `(s, c_) = (sin, cos)(eta/2)` and `p = sqrt(1 - e^2)`
//!   (galpy's two arctangent terms `tan11`, `tan12`; galpy takes `eta` in `[0, 2 pi)` and
//!   each term in `[0, pi)`, which shifts `theta_r` by `2 pi` and `Lambda_eta` by
//!   `pi (1 + L/Q)` together and leaves `theta_z` unchanged);
//! * azimuthal angle: `theta_phi = Omega_node + sign(L_z) theta_z`, `Omega_node` the longitude
//!   of the ascending node.
//!
//! Orientation without `arcsin`: `psi = atan2(L z, L_x y - L_y x)` and
//! `Omega_node = atan2(L_x, -L_y)`. Degenerate orbits get a fixed convention instead of NaN:
//! equatorial orbits (`L_x = L_y = 0`) take `Omega_node = 0`; radial orbits (`L = 0`) take the
//! plane through the point (or, at the origin, through the velocity) and the z axis
//! (inclination pi/2), with the z axis itself taking the x-z plane. On circular orbits
//! `eta` (hence `theta_r`) is undefined and comes out as whatever the rounding gives.
//!
//! The forward map is written once, generic over `num_dual::DualNum` with `f64` primitives, so
//! the `f64` evaluation and the forward-mode Jacobian with respect to (x, v, M, b) run the same
//! code. Branches that add constants (angle quadrants, `2 pi` shifts) keep the derivative of
//! the unwrapped angle.

use num_dual::{DualNum, DualSVec64};
use rayon::prelude::*;
use std::f64::consts::{PI, TAU};

use super::{wrap_angle, ActionAngle, ActionError, ActionFinder, Flag};
use crate::phase::PhaseSpace;
use crate::potential::{Isochrone, PotentialError};
use crate::units::G;

/// The number types the forward map runs on: `f64` and first-order dual numbers over `f64`.
trait Num: DualNum<Primitive = f64> + Copy {}
impl<D: DualNum<Primitive = f64> + Copy> Num for D {}

/// Number of inputs of the Jacobian: x, y, z, vx, vy, vz, M, b.
const N_IN: usize = 8;

/// Exact actions, angles and frequencies in the isochrone potential of mass `M` (Msun) and
/// scale `b` (kpc), and the inverse map (McGill & Binney 1990; BT08 §3.5.2; galpy).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IsochroneFinder {
    m: f64,
    b: f64,
    gm: f64,
}

/// The exact Jacobian of the forward isochrone map at one point.
///
/// `IsochroneJacobian(d)` with `d[i][j]` = d out_i / d in_j, row-major 6 x 8:
/// rows `i` = (J_r, J_z, J_phi, theta_r, theta_z, theta_phi), columns `j` =
/// (x, y, z, vx, vy, vz, M, b). Units: actions kpc km/s and angles rad per kpc, per km/s, per
/// Msun and per kpc. Angle rows are the derivatives of the unwrapped angles (wrapping into
/// [0, 2 pi) only adds constants). Undefined (non-finite) where the map is not differentiable:
/// circular orbits (theta_r, theta_z), radial orbits (`L = 0`), and for theta_z on exactly
/// equatorial orbits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IsochroneJacobian(pub [[f64; N_IN]; 6]);

/// Quantities of one point of the forward map, for any dual-number type `D`.
struct Forward<D> {
    actions: [D; 3],
    /// Unwrapped angles (r, z, phi).
    angles: [D; 3],
    frequencies: [D; 3],
}

/// Shape of an orbit from `L`, `Q = sqrt(L^2 + 4 G M b)`, `Lambda = G M / sqrt(-2E)` and
/// `c = G M / (-2E) - b` (McGill & Binney 1990): what both directions share.
#[derive(Clone, Copy)]
struct Shape<D> {
    /// Eccentricity squared, `e^2`.
    e2: D,
    /// Eccentricity `e`.
    e: D,
    /// `p = sqrt(1 - e^2) = L Lambda / (G M c)`.
    p: D,
    /// `c`.
    c: D,
    /// `L / Q`.
    l_over_q: D,
}

impl<D: Num> Shape<D> {
    /// From `p = L Lambda / (G M c)` and `e^2 = e2(p)`: each direction has its own form of
    /// `e^2` free of the cancellation in `1 - p^2`, which would leave `e ~ sqrt(eps)` on
    /// circular orbits. At `c = 0` (at rest at the centre) `e = 0`, `p = 1`.
    fn new(gm: D, l: D, q: D, lambda: D, c: D, e2: impl FnOnce(D) -> D) -> Self {
        let (e2, p) = if c.re() > 0.0 {
            let p = l * lambda / (gm * c);
            (e2(p), p)
        } else {
            (D::zero(), D::one())
        };
        Self {
            e2,
            e: safe_sqrt(e2),
            p,
            c,
            l_over_q: l / q,
        }
    }

    /// `1 - e = p^2 / (1 + e)`, accurate on nearly radial orbits.
    fn one_minus_e(&self) -> D {
        self.p * self.p / (self.e + 1.0)
    }

    /// `Omega_z / Omega_r = (1 + L/Q) / 2`.
    fn ratio(&self) -> D {
        (self.l_over_q + 1.0) * 0.5
    }

    /// `Lambda(eta) = tan11 + (L/Q) tan12` of BT08 eq. 3.245 / galpy, each arctangent taken in
    /// `(-pi/2, pi/2]` for `eta` in `(-pi, pi]`:
    /// `tan11 = atan2((1 + e) sin(eta/2), p cos(eta/2))` (= `atan(sqrt((1+e)/(1-e)) tan(eta/2))`),
    /// `tan12 = atan2(sqrt(c (1 + e) + 2 b) sin(eta/2), sqrt(c (1 - e) + 2 b) cos(eta/2))`.
    fn lambda_eta(&self, b: D, eta: D) -> D {
        let (s, co) = (eta * 0.5).sin_cos();
        let tan11 = atan2(s * (self.e + 1.0), co * self.p);
        let up = (self.c * (self.e + 1.0) + b * 2.0).sqrt();
        let down = (self.c * self.one_minus_e() + b * 2.0).sqrt();
        let tan12 = atan2(s * up, co * down);
        tan11 + self.l_over_q * tan12
    }
}

impl IsochroneFinder {
    /// Finder for the isochrone of mass `m` > 0 (Msun) and scale `b` > 0 (kpc).
    pub fn new(m: f64, b: f64) -> Result<Self, PotentialError> {
        let pot = Isochrone::new(m, b)?;
        Ok(Self::from_potential(&pot))
    }

    /// Finder for the isochrone potential `pot`.
    pub fn from_potential(pot: &Isochrone) -> Self {
        Self {
            m: pot.m(),
            b: pot.b(),
            gm: G * pot.m(),
        }
    }

    /// Mass M in Msun.
    pub fn m(&self) -> f64 {
        self.m
    }

    /// Scale length b in kpc.
    pub fn b(&self) -> f64 {
        self.b
    }

    /// Actions, angles and frequencies with the exact Jacobian of (J, theta) with respect to
    /// (x, v, M, b) (see [`IsochroneJacobian`]), by forward-mode automatic differentiation
    /// (`num-dual`) through the same code as [`ActionFinder::action_angle`].
    pub fn with_jacobian(&self, w: &PhaseSpace) -> Result<(ActionAngle, IsochroneJacobian), ActionError> {
        check_finite(w)?;
        let var = |value: f64, index: usize| DualSVec64::<N_IN>::from_re(value).derivative(index);
        let x = [var(w.x[0], 0), var(w.x[1], 1), var(w.x[2], 2)];
        let v = [var(w.v[0], 3), var(w.v[1], 4), var(w.v[2], 5)];
        let gm = var(self.m, 6) * G;
        let f = forward(gm, var(self.b, 7), x, v)?;
        let mut jac = [[0.0; N_IN]; 6];
        for (row, d) in jac.iter_mut().zip(f.actions.iter().chain(f.angles.iter())) {
            if let Some(eps) = &d.eps.0 {
                for (k, r) in row.iter_mut().enumerate() {
                    *r = eps[k];
                }
            }
        }
        let aa = to_action_angle(&Forward {
            actions: f.actions.map(|d| d.re),
            angles: f.angles.map(|d| d.re),
            frequencies: f.frequencies.map(|d| d.re),
        });
        Ok((aa, IsochroneJacobian(jac)))
    }

    /// Values and Jacobians of a batch, in parallel (rayon); see [`isochrone_jacobians`].
    pub fn jacobians_batch(&self, xv: &[f64], out_values: &mut [f64], out_jac: &mut [f64]) -> Vec<Flag> {
        let rows = xv.len().div_ceil(6);
        if !xv.len().is_multiple_of(6) || out_values.len() != xv.len() || out_jac.len() != N_IN * xv.len() {
            log::error!(
                "isochrone_jacobians: xv has {} numbers (want rows of 6), out_values {} (want {}), \
                 out_jac {} (want {}): every row flagged",
                xv.len(),
                out_values.len(),
                xv.len(),
                out_jac.len(),
                N_IN * xv.len()
            );
            out_values.fill(f64::NAN);
            out_jac.fill(f64::NAN);
            return vec![Flag::Unsupported; rows];
        }
        let flags: Vec<Flag> = xv
            .par_chunks_exact(6)
            .zip(out_values.par_chunks_exact_mut(6))
            .zip(out_jac.par_chunks_exact_mut(6 * N_IN))
            .map(|((row, val), jac)| self.jacobian_row(row, val, jac))
            .collect();
        let failed = flags.iter().filter(|&&f| f != Flag::Ok).count();
        if failed > 0 {
            log::warn!(
                "{}: {} of {} points failed (NaN, flagged)",
                self.name(),
                failed,
                rows
            );
        }
        flags
    }

    /// One row of [`Self::jacobians_batch`].
    fn jacobian_row(&self, row: &[f64], val: &mut [f64], jac: &mut [f64]) -> Flag {
        let w = PhaseSpace::new([row[0], row[1], row[2]], [row[3], row[4], row[5]]);
        match self.with_jacobian(&w) {
            Ok((aa, IsochroneJacobian(d))) => {
                val[..3].copy_from_slice(&aa.actions);
                val[3..].copy_from_slice(&aa.angles);
                for (dst, src) in jac.chunks_exact_mut(N_IN).zip(d.iter()) {
                    dst.copy_from_slice(src);
                }
                Flag::Ok
            }
            Err(e) => {
                val.fill(f64::NAN);
                jac.fill(f64::NAN);
                Flag::from(&e)
            }
        }
    }

    /// The inverse map (J, theta) -> (x, v) (McGill & Binney 1990; galpy's
    /// `actionAngleIsochroneInverse`): `L = J_z + |J_phi|`, `Lambda = J_r + (L + Q)/2`,
    /// `E = -(G M / Lambda)^2 / 2`; `eta` from `theta_r = eta - e c/(c + b) sin eta`
    /// (safeguarded Newton); `r = sqrt(w (w + 2 b))` with `w = c (1 - e cos eta)`;
    /// `v_r = e sin eta c sqrt(-2E) / r`, `v_t = L / r`; `psi = theta_z - (Omega_z/Omega_r) theta_r +
    /// Lambda(eta)`; orbital plane from `cos i = J_phi / L` and the ascending node
    /// `Omega_node = theta_phi - sign(J_phi) theta_z`.
    ///
    /// Actions (kpc km/s) and angles (rad, any real value) in the order (r, z, phi). Negative
    /// `J_r` or `J_z` (beyond rounding, `64 eps Q`) or a non-finite input is an error.
    pub fn phase_space(&self, actions: [f64; 3], angles: [f64; 3]) -> Result<PhaseSpace, ActionError> {
        if !actions.iter().chain(angles.iter()).all(|a| a.is_finite()) {
            return Err(ActionError::NonFinite);
        }
        let [jr, jz, jphi] = self.valid_actions(actions)?;
        let l = jz + jphi.abs();
        let q = (l * l + 4.0 * self.gm * self.b).sqrt();
        let lambda = jr + 0.5 * (l + q);
        // c = (Lambda^2 - G M b) / (G M), written without cancellation:
        // Lambda - sqrt(G M b) = J_r + (L + L^2 / (Q + 2 sqrt(G M b))) / 2.
        let (gm, sgb) = (self.gm, (self.gm * self.b).sqrt());
        let c = (jr + 0.5 * (l + l * l / (q + 2.0 * sgb))) * (lambda + sgb) / gm;
        // e^2 = (1 - p)(1 + p) with 1 - p = J_r (J_r + Q) / (G M c).
        let shape = Shape::new(gm, l, q, lambda, c, |p| jr * (jr + q) * (1.0 + p) / (gm * c));
        let theta_r = symmetric_angle(angles[0]);
        let eta = solve_kepler(theta_r, shape.e * c / (c + self.b))?;
        let (r, vr, vt) = self.radius_and_velocity(&shape, lambda, l, eta);
        let psi = angles[1] - shape.ratio() * theta_r + shape.lambda_eta(self.b, eta);
        let (n, m) = plane_from_angles(jz, jphi, l, angles[2], angles[1]);
        let (sp, cp) = psi.sin_cos();
        let rhat = [0, 1, 2].map(|k| cp * n[k] + sp * m[k]);
        let that = [0, 1, 2].map(|k| cp * m[k] - sp * n[k]);
        Ok(PhaseSpace::new(
            rhat.map(|u| r * u),
            [0, 1, 2].map(|k| vr * rhat[k] + vt * that[k]),
        ))
    }

    /// `(J_r, J_z, J_phi)` with `J_r, J_z >= 0`; values a few ulps below 0 (actions computed
    /// elsewhere as a difference of terms of size `Q`, on circular or equatorial orbits) are
    /// clamped to 0.
    fn valid_actions(&self, [jr, jz, jphi]: [f64; 3]) -> Result<[f64; 3], ActionError> {
        let slack = 64.0 * f64::EPSILON * ((jz + jphi.abs()).powi(2) + 4.0 * self.gm * self.b).sqrt();
        if jr < -slack || jz < -slack {
            return Err(ActionError::Unsupported(format!(
                "isochrone inverse: J_r = {jr} and J_z = {jz} must be >= 0"
            )));
        }
        Ok([jr.max(0.0), jz.max(0.0), jphi])
    }

    /// `(r, v_r, v_t)` at eccentric anomaly `eta`: `r = sqrt(w (w + 2 b))` with
    /// `w = c (1 - e cos eta) = c ((1 - e) + 2 e sin^2(eta/2))` (no cancellation near the
    /// pericentre of eccentric orbits), `v_r = e sin eta c sqrt(-2E) / r`, `v_t = L / r`; at
    /// the centre of a radial orbit, outwards at `sqrt(2 (E - Phi(0)))`.
    fn radius_and_velocity(&self, shape: &Shape<f64>, lambda: f64, l: f64, eta: f64) -> (f64, f64, f64) {
        let (e, c, b) = (shape.e, shape.c, self.b);
        let w = c * (shape.one_minus_e() + 2.0 * e * (0.5 * eta).sin().powi(2));
        let r = (w * (w + 2.0 * b)).sqrt();
        let sqrt_m2e = self.gm / lambda;
        if r > 0.0 {
            (r, e * eta.sin() * c * sqrt_m2e / r, l / r)
        } else {
            (r, (self.gm / b - sqrt_m2e * sqrt_m2e).max(0.0).sqrt(), 0.0)
        }
    }
}

impl ActionFinder for IsochroneFinder {
    fn action_angle(&self, w: &PhaseSpace) -> Result<ActionAngle, ActionError> {
        check_finite(w)?;
        forward(self.gm, self.b, w.x, w.v).map(|f| to_action_angle(&f))
    }

    fn name(&self) -> String {
        format!("isochrone(M={:e},b={})", self.m, self.b)
    }
}

/// Values and Jacobians of many points at once, in parallel (rayon), for the learning core.
///
/// `xv`: rows of 6 (x, y, z, vx, vy, vz); `out_values`: rows of 6 (J_r, J_z, J_phi, theta_r,
/// theta_z, theta_phi), the same length as `xv`; `out_jac`: rows of 48, each the 6 x 8
/// row-major [`IsochroneJacobian`] of that point (columns x, y, z, vx, vy, vz, M, b), length
/// 8 x `xv.len()`. Returns one flag per row; failed rows are NaN. An invalid `m` or `b`, or
/// buffer lengths that do not fit, flag every row [`Flag::Unsupported`] and fill the outputs
/// with NaN (logged), without panicking.
pub fn isochrone_jacobians(
    m: f64,
    b: f64,
    xv: &[f64],
    out_values: &mut [f64],
    out_jac: &mut [f64],
) -> Vec<Flag> {
    match IsochroneFinder::new(m, b) {
        Ok(finder) => finder.jacobians_batch(xv, out_values, out_jac),
        Err(e) => {
            log::error!("isochrone_jacobians: {e}: every row flagged");
            out_values.fill(f64::NAN);
            out_jac.fill(f64::NAN);
            vec![Flag::Unsupported; xv.len().div_ceil(6)]
        }
    }
}

fn check_finite(w: &PhaseSpace) -> Result<(), ActionError> {
    if w.is_finite() {
        Ok(())
    } else {
        Err(ActionError::NonFinite)
    }
}

fn to_action_angle(f: &Forward<f64>) -> ActionAngle {
    ActionAngle {
        actions: f.actions,
        angles: f.angles.map(wrap_angle),
        frequencies: f.frequencies,
    }
}

/// The forward map (x, v) -> (J, theta unwrapped, Omega) for `G M = gm`, scale `b`; see the
/// module documentation for the equations.
fn forward<D: Num>(gm: D, b: D, x: [D; 3], v: [D; 3]) -> Result<Forward<D>, ActionError> {
    let r2 = dot(&x, &x);
    let sb = (b * b + r2).sqrt();
    let v2 = dot(&v, &v);
    let energy = v2 * 0.5 - gm / (b + sb);
    if energy.re().is_nan() {
        return Err(ActionError::NonFinite);
    }
    if energy.re() >= 0.0 {
        return Err(ActionError::Unbound {
            energy: energy.re(),
            limit: 0.0,
        });
    }
    let m2e = energy * -2.0;
    let lvec = cross(&x, &v);
    let l2 = dot(&lvec, &lvec);
    let l = safe_sqrt(l2);
    let q = (l2 + gm * b * 4.0).sqrt();
    let lambda = gm / m2e.sqrt();
    // c = G M/(-2E) - b = (G M w/(b + sb) + b v^2) / (-2E), w = sb - b = r^2/(sb + b).
    let w = r2 / (sb + b);
    let c = (gm * w / (b + sb) + b * v2) / m2e;
    let xdotv = dot(&x, &v);
    // c e cos(eta) = c - w and c e sin(eta) = (x·v) Lambda / (G M).
    let (ec_cos, ec_sin) = (c - w, xdotv * lambda / gm);
    let shape = Shape::new(gm, l, q, lambda, c, |_| {
        (ec_cos * ec_cos + ec_sin * ec_sin) / (c * c)
    });
    let eta = atan2(ec_sin, ec_cos);
    let theta_r = eta - xdotv / lambda;
    let omega_r = m2e * m2e.sqrt() / gm;
    let omega_z = omega_r * shape.ratio();
    let (psi, node) = orbital_plane(&lvec, l, &x, &v);
    let theta_z = psi + shape.ratio() * theta_r - shape.lambda_eta(b, eta);
    let sign = if lvec[2].re() < 0.0 { -1.0 } else { 1.0 };
    Ok(Forward {
        actions: [radial_action(gm, q, &shape), l - lvec[2].abs(), lvec[2]],
        angles: [theta_r, theta_z, node + theta_z * sign],
        frequencies: [omega_r, omega_z, omega_z * sign],
    })
}

/// `J_r = Lambda - (L + Q)/2`, evaluated as the positive root of `J_r (J_r + Q) = X`,
/// `X = e^2 G M c / (1 + p)`, which keeps its relative precision on nearly circular orbits
/// (the difference loses `eps Lambda` absolutely).
fn radial_action<D: Num>(gm: D, q: D, shape: &Shape<D>) -> D {
    let x = shape.e2 * gm * shape.c / (shape.p + 1.0);
    x * 2.0 / (q + (q * q + x * 4.0).sqrt())
}

/// `(psi, Omega_node)`: the angle of the point in its orbital plane from the ascending node,
/// and the node's longitude, `psi = atan2(L z, L_x y - L_y x)`, `Omega_node = atan2(L_x, -L_y)`
/// (galpy's `psi` and `phi - u`). Degenerate planes as in the module documentation.
fn orbital_plane<D: Num>(lvec: &[D; 3], l: D, x: &[D; 3], v: &[D; 3]) -> (D, D) {
    let lxy2 = lvec[0] * lvec[0] + lvec[1] * lvec[1];
    if lxy2.re() > 0.0 {
        let psi = atan2(l * x[2], lvec[0] * x[1] - lvec[1] * x[0]);
        return (psi, atan2(lvec[0], -lvec[1]));
    }
    if l.re() > 0.0 {
        // Equatorial: node on the x axis, plane basis (x^, sign(L_z) y^).
        let sign = if lvec[2].re() < 0.0 { -1.0 } else { 1.0 };
        return (atan2(x[1] * sign, x[0]), D::zero());
    }
    // Radial: the plane through d (the point, or the velocity at the origin) and the z axis,
    // basis n = -(d_x, d_y, 0)/d_R, m = z^; on the z axis n = x^.
    let d = if dot(x, x).re() > 0.0 { x } else { v };
    let dr2 = d[0] * d[0] + d[1] * d[1];
    if dr2.re() > 0.0 {
        (atan2(d[2], -dr2.sqrt()), atan2(-d[1], -d[0]))
    } else {
        (atan2(d[2], D::zero()), D::zero())
    }
}

/// Orbital-plane basis `(n, m)` of the inverse map: `n` towards the ascending node
/// `Omega_node = theta_phi - sign(J_phi) theta_z`, `m = L^ × n`, with `cos i = J_phi / L`,
/// `sin i = sqrt(J_z (J_z + 2 |J_phi|)) / L`; for `L = 0` the forward map's convention
/// (inclination pi/2).
fn plane_from_angles(jz: f64, jphi: f64, l: f64, theta_phi: f64, theta_z: f64) -> ([f64; 3], [f64; 3]) {
    let (cos_i, sin_i) = if l > 0.0 {
        (jphi / l, (jz * (jz + 2.0 * jphi.abs())).sqrt() / l)
    } else {
        (0.0, 1.0)
    };
    let sign = if jphi < 0.0 { -1.0 } else { 1.0 };
    let (so, co) = (theta_phi - sign * theta_z).sin_cos();
    ([co, so, 0.0], [-cos_i * so, cos_i * co, sin_i])
}

/// Solve `eta - k sin eta = mean` for `eta` in `[-pi, pi]`, `mean` in `[-pi, pi]`, `0 <= k < 1`:
/// Newton's method from Danby's guess `mean + 0.85 k sign(sin mean)`, kept inside the bracket
/// `[mean - k, mean + k]` by bisection whenever a step leaves it.
fn solve_kepler(mean: f64, k: f64) -> Result<f64, ActionError> {
    if mean == 0.0 {
        // Exactly 0, which matters on radial orbits (e = 1), where Lambda(eta) jumps at 0.
        return Ok(0.0);
    }
    let (mut lo, mut hi) = ((mean - k).max(-PI), (mean + k).min(PI));
    let guess = mean + 0.85 * k * mean.signum();
    let mut eta = guess.clamp(lo, hi);
    for _ in 0..100 {
        let (s, c) = eta.sin_cos();
        let f = eta - k * s - mean;
        if f == 0.0 {
            return Ok(eta);
        }
        if f > 0.0 {
            hi = eta;
        } else {
            lo = eta;
        }
        let newton = eta - f / (1.0 - k * c);
        let next = if newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        let step = (next - eta).abs();
        eta = next;
        if step <= 4.0 * f64::EPSILON * eta.abs().max(1e-300) || hi - lo <= 4.0 * f64::EPSILON * hi.abs() {
            return Ok(eta);
        }
    }
    Err(ActionError::NoConvergence(format!(
        "isochrone inverse: eccentric anomaly for theta_r = {mean}, e c/(c+b) = {k}"
    )))
}

/// `atan2(y, x)` with the first-order derivative `(x dy - y dx) / (x^2 + y^2)`, finite for
/// `x = 0` (num-dual's version divides by `x`); zero derivative at `x = y = 0`. Exact to first
/// order only: use it with first-derivative dual numbers (or `f64`).
fn atan2<D: Num>(y: D, x: D) -> D {
    let (yr, xr) = (y.re(), x.re());
    let value = D::from(yr.atan2(xr));
    let r2 = xr * xr + yr * yr;
    if r2 > 0.0 {
        // The real part of y xr - x yr is exactly 0.
        value + (y * xr - x * yr) * (1.0 / r2)
    } else {
        value
    }
}

/// An angle as `(-pi, pi]` with pericentre at 0: wrapped into `[0, 2 pi)` (as the forward map
/// writes it), then shifted down by `2 pi` above `pi` (exact, by Sterbenz's lemma).
fn symmetric_angle(a: f64) -> f64 {
    let a = wrap_angle(a);
    if a > PI {
        a - TAU
    } else {
        a
    }
}

/// `sqrt(a)` with a zero derivative at `a = 0` (where the true one is infinite).
fn safe_sqrt<D: Num>(a: D) -> D {
    if a.re() > 0.0 {
        a.sqrt()
    } else {
        D::zero()
    }
}

fn dot<D: Num>(a: &[D; 3], b: &[D; 3]) -> D {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross<D: Num>(a: &[D; 3], b: &[D; 3]) -> [D; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
