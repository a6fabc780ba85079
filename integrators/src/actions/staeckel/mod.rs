//! Staeckel actions, angles and frequencies: exact for a Staeckel potential
//! (Kuzmin-Kutuzov with its own focal distance), the "Staeckel fudge" of Binney (2012,
//! MNRAS 426, 1324) for any axisymmetric potential. galpy's `actionAngleStaeckel` (Bovy
//! 2015) is the reference implementation; frequencies and angles follow Binney (2012, §2.3)
//! and Sanders & Binney (2016, MNRAS 457, 2107).
//!
//! Method, per point (coordinates in [`coords`], separated motions in [`motion`]):
//! 1. E, L_z and, in prolate spheroidal coordinates (u, v) with focal distance Delta, the
//!    momenta p_u, p_v; the third integral from the separated equations at the point.
//! 2. The turning points u_min, u_max and v_min (roots of `S = p^2 / (2 Delta^2)`), by
//!    bracketing and Brent's method.
//! 3. With `S_u`, `S_v` the separated kinetic terms and I = (E, L_z, I_3):
//!    `J_R = (sqrt(2) Delta / pi) int_{u_min}^{u_max} sqrt(S_u) du`,
//!    `J_z = (2 sqrt(2) Delta / pi) int_{v_min}^{pi/2} sqrt(S_v) dv`, `J_phi = L_z`,
//!    and the derivatives dJ/dI as integrals of `dS/dI / sqrt(S)` over the same ranges
//!    ([`oscillation`] describes the quadrature).
//! 4. Frequencies `Omega = dE/dJ` and `dI_3/dJ` by inverting the 3x3 Jacobian dJ/dI;
//!    angles `theta_i = sum_k (dW/dI_k) (dI_k/dJ_i)` with the generating function
//!    `W = int p_u du + int p_v dv + L_z phi` integrated along the orbit from (u_min, v_min).
//!
//! Conventions (galpy's): theta_r = 0 at u_min (pericentre); theta_z = pi/2 at v_min (the
//! highest point above the plane), so that theta_z = 0 on the way up through the plane as
//! for the spherical and isochrone finders; Omega_phi and theta_phi carry the sign of L_z.

mod coords;
mod delta;
mod motion;
mod oscillation;
mod rule;
mod turning;

use std::f64::consts::{FRAC_PI_2, PI, SQRT_2};
use std::sync::Arc;

use super::{wrap_angle, ActionAngle, ActionError, ActionFinder};
use crate::phase::PhaseSpace;
use crate::potential::{Potential, Symmetry};
use coords::{Cylindrical, Prolate};
pub use delta::estimate_focal_distance;
use motion::{Separable, UMotion, VMotion};
use oscillation::{Integrals, Layout, Oscillation, Rules};
use turning::{turning_point, Side};

/// The focal distance Delta (kpc) of the prolate spheroidal coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FocalDistance {
    /// The same Delta for every point (e.g. the potential's own, sqrt(a^2 - c^2), for
    /// Kuzmin-Kutuzov; 0.4 x 8 kpc is usual for MWPotential2014).
    Fixed(f64),
    /// Delta estimated at each point from the potential's second derivatives
    /// ([`estimate_focal_distance`], Sanders 2012).
    Estimate,
}

/// Actions, angles and frequencies by the Staeckel approximation (exact in Staeckel
/// potentials). Axisymmetric or spherical potentials only; the potential must be
/// reflection-symmetric about z = 0 (all the axisymmetric models here are).
pub struct StaeckelFinder {
    pot: Arc<dyn Potential>,
    delta: FocalDistance,
    rules: Rules,
}

impl std::fmt::Debug for StaeckelFinder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaeckelFinder")
            .field("potential", &self.pot.spec())
            .field("delta", &self.delta)
            .finish()
    }
}

impl StaeckelFinder {
    /// A finder for `pot` with focal distance `delta`. Errors (`Unsupported`) for a
    /// potential that is not axisymmetric or spherical, or a fixed Delta that is not a
    /// positive finite number.
    pub fn new(pot: Arc<dyn Potential>, delta: FocalDistance) -> Result<Self, ActionError> {
        if pot.symmetry() == Symmetry::None {
            return Err(ActionError::Unsupported(format!(
                "the Staeckel approximation needs an axisymmetric or spherical potential, not {}",
                pot.spec()
            )));
        }
        if let FocalDistance::Fixed(d) = delta {
            if !(d.is_finite() && d > 0.0) {
                return Err(ActionError::Unsupported(format!(
                    "the focal distance must be a positive number of kpc, not {d}"
                )));
            }
        }
        Ok(Self {
            pot,
            delta,
            rules: Rules::new(),
        })
    }

    /// The focal distance setting.
    pub fn focal_distance(&self) -> FocalDistance {
        self.delta
    }

    fn delta_at(&self, c: &Cylindrical) -> f64 {
        match self.delta {
            FocalDistance::Fixed(d) => d,
            FocalDistance::Estimate => estimate_focal_distance(self.pot.as_ref(), c.r, c.z),
        }
    }
}

impl ActionFinder for StaeckelFinder {
    fn action_angle(&self, w: &PhaseSpace) -> Result<ActionAngle, ActionError> {
        if !w.is_finite() {
            return Err(ActionError::NonFinite);
        }
        let pot = self.pot.as_ref();
        let c = Cylindrical::new(w);
        let phi_x = pot.potential(&w.x);
        let energy = phi_x + w.kinetic_energy();
        let limit = pot.potential_at_infinity();
        if !energy.is_finite() {
            return Err(ActionError::NonFinite);
        }
        if energy >= limit {
            return Err(ActionError::Unbound { energy, limit });
        }
        let delta = self.delta_at(&c);
        let x = Prolate::new(c.r, c.z, delta);
        let (p_u, p_v) = x.momenta(c.v_r, c.v_z, delta);
        let b = 0.5 * c.lz * c.lz / (delta * delta);
        let um = UMotion::new(pot, delta, energy, b, &x, p_u);
        let vm = VMotion::new(pot, delta, (energy, b), &x, phi_x, p_v);
        let uo = u_oscillation(&um, &self.rules, &x, p_u, delta, b == 0.0)?;
        let vo = v_oscillation(&vm, &self.rules, &x, p_v, (pot, delta), b == 0.0)?;
        let (fu, fv) = (uo.integrals(&self.rules), vo.integrals(&self.rules));
        let d = Derivatives::new(&fu, &fv, delta, c.lz);
        let path_u = uo.path(&self.rules, &fu, uo.anomaly(x.u, p_u >= 0.0));
        let path_v = vo.path(&self.rules, &fv, vo.anomaly(x.v, p_v >= 0.0));
        // dW/dE (the time since (u_min, v_min)), dW/dL_z, dW/dI_3.
        let k = delta / SQRT_2;
        let w_e = k * (path_u[0] + path_v[0]);
        let w_l = c.phi - c.lz / (SQRT_2 * delta) * (path_u[1] + path_v[1]);
        let w_i3 = k * (path_v[2] - path_u[2]);
        let (freq, di3) = d.inverse()?;
        let angle = |i: usize| freq[i] * w_e + di3[i] * w_i3;
        Ok(ActionAngle {
            actions: [
                SQRT_2 * delta / PI * fu[0],
                2.0 * SQRT_2 * delta / PI * fv[0],
                c.lz,
            ],
            angles: [
                wrap_angle(angle(0)),
                wrap_angle(angle(1) + FRAC_PI_2),
                wrap_angle(angle(2) + w_l),
            ],
            frequencies: freq,
        })
    }

    fn name(&self) -> String {
        match self.delta {
            FocalDistance::Fixed(d) => format!("staeckel(delta={d})"),
            FocalDistance::Estimate => "staeckel(delta=estimate)".to_string(),
        }
    }
}

/// The u-oscillation between its turning points on either side of the point.
fn u_oscillation(
    um: &UMotion,
    rules: &Rules,
    x: &Prolate,
    p_u: f64,
    delta: f64,
    axis: bool,
) -> Result<Oscillation, ActionError> {
    let s_x = 0.5 * p_u * p_u / (delta * delta);
    let u_min = turning_point(um, x.u, s_x, Side::Below, axis)?;
    let u_max = turning_point(um, x.u, s_x, Side::Above, false)?;
    Oscillation::new(um, rules, (u_min, u_max), Layout::Full)
}

/// The v-oscillation between v_min and pi - v_min, through the midplane.
fn v_oscillation(
    vm: &VMotion,
    rules: &Rules,
    x: &Prolate,
    p_v: f64,
    (pot, delta): (&dyn Potential, f64),
    axis: bool,
) -> Result<Oscillation, ActionError> {
    let s_x = 0.5 * p_v * p_v / (delta * delta);
    let v_near = x.v.min(PI - x.v);
    if v_near < FRAC_PI_2 && vm.s(FRAC_PI_2) < -vm.noise() {
        return Err(ActionError::Unsupported(
            "the orbit does not cross the midplane in this Staeckel approximation (is the focal distance too large?)"
                .to_string(),
        ));
    }
    let v_min = turning_point(vm, v_near, s_x, Side::Below, axis)?;
    let midplane = midplane_scale(pot, x, v_min, delta);
    Oscillation::new(vm, rules, (v_min, PI - v_min), Layout::Half { midplane })
}

/// How far (in v) from the midplane the potential along the line u = u_x stops being
/// harmonic in z: `z_lin = |dPhi/dz(top)| / (d2Phi/dz2)(midplane)`, with `top` the highest
/// point of the v-oscillation, divided by `dz/dv = Delta cosh u_x`. A thin disc with
/// `Phi ~ sqrt(z^2 + b^2)` gives `z_lin = b`, the distance of its singularity at z = +-i b,
/// which the quadrature must resolve when the orbit rises well above b; a potential smooth
/// on the scale of the orbit gives about the orbit's own height. Infinite when undefined.
fn midplane_scale(pot: &dyn Potential, x: &Prolate, v_min: f64, delta: f64) -> f64 {
    let (sv, cv) = v_min.sin_cos();
    let top = [delta * x.sinh_u * sv, 0.0, delta * x.cosh_u * cv];
    let a_z = pot.acceleration(&top)[2];
    let phi_zz = pot.hessian(&[delta * x.sinh_u, 0.0, 0.0])[2][2];
    let scale = a_z.abs() / (phi_zz * delta * x.cosh_u);
    if scale.is_finite() && phi_zz > 0.0 {
        scale
    } else {
        f64::INFINITY
    }
}

/// The Jacobian d(J_R, J_z)/d(E, L_z, I_3) from the integrals of the two oscillations.
struct Derivatives {
    /// dJ_R/dE, dJ_R/dL_z, dJ_R/dI_3.
    r: [f64; 3],
    /// dJ_z/dE, dJ_z/dL_z, dJ_z/dI_3.
    z: [f64; 3],
}

impl Derivatives {
    /// `dJ_R/dE = Delta/(sqrt(2) pi) int sinh^2 u / sqrt(S_u) du`,
    /// `dJ_R/dL_z = -L_z/(sqrt(2) pi Delta) int 1/(sinh^2 u sqrt(S_u)) du`,
    /// `dJ_R/dI_3 = -Delta/(sqrt(2) pi) int 1/sqrt(S_u) du` (dS_u/dI_3 = -1), and the same
    /// for J_z with twice the prefactors (half the v-loop integrated) and dS_v/dI_3 = +1.
    fn new(fu: &Integrals, fv: &Integrals, delta: f64, lz: f64) -> Self {
        let kr = delta / (SQRT_2 * PI);
        let lr = lz / (SQRT_2 * PI * delta);
        Self {
            r: [kr * fu[1], -lr * fu[2], -kr * fu[3]],
            z: [2.0 * kr * fv[1], -2.0 * lr * fv[2], 2.0 * kr * fv[3]],
        }
    }

    /// `(Omega, dI_3/dJ)`, both ordered (r, z, phi), from the inverse of
    /// `[[dJ_R/dI], [dJ_z/dI], [0, 1, 0]]` (galpy `calcFreqsFromDerivsStaeckel`).
    fn inverse(&self) -> Result<([f64; 3], [f64; 3]), ActionError> {
        let [a, b, c] = self.r;
        let [d, e, f] = self.z;
        let det = a * f - c * d;
        if !(det.is_finite() && det != 0.0) {
            return Err(ActionError::NoConvergence(
                "Staeckel: singular action derivatives".to_string(),
            ));
        }
        let freq = [f / det, -c / det, (c * e - f * b) / det];
        let di3 = [-d / det, a / det, -(a * e - d * b) / det];
        Ok((freq, di3))
    }
}
