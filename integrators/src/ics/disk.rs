//! A disk recipe: near-circular orbits in an axisymmetric (or spherical) potential.

use rand::Rng;
use rand_distr::StandardNormal;

use super::quad::newton_bisect;
use super::{at_least_one_try, non_negative, par_generate, positive, require, IcsError};
use crate::phase::PhaseSpace;
use crate::potential::{Potential, Symmetry};

const TAG_DISK: u64 = 0x4449_534b;

/// Options of [`sample_disk`]. Lengths in kpc, velocities in km/s.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiskOptions {
    /// Scale length R_d of the exponential surface density Sigma ∝ exp(-R/R_d), default 3.
    pub scale_length: f64,
    /// Smallest cylindrical radius, default 4.
    pub r_min: f64,
    /// Largest cylindrical radius, default 12.
    pub r_max: f64,
    /// Dispersion h of the height, z ~ N(0, h), default 0.1.
    pub scale_height: f64,
    /// Radial velocity dispersion sigma_R, default 20.
    pub sigma_r: f64,
    /// Vertical velocity dispersion sigma_z, default 10.
    pub sigma_z: f64,
    /// Azimuthal velocity dispersion. `None` (the default) takes the epicyclic ratio
    /// sigma_phi = sigma_R kappa / (2 Omega) (BT08 eq. 3.100) at each point's radius.
    pub sigma_phi: Option<f64>,
    /// Keep only bound points, E < Phi(infinity) ([`Potential::potential_at_infinity`];
    /// default true); unbound draws redraw the velocity at the same position.
    pub bound_only: bool,
    /// Velocity draws allowed for one point before [`IcsError::HopelessBound`] (default 10000).
    pub max_tries: usize,
}

impl Default for DiskOptions {
    fn default() -> Self {
        Self {
            scale_length: 3.0,
            r_min: 4.0,
            r_max: 12.0,
            scale_height: 0.1,
            sigma_r: 20.0,
            sigma_z: 10.0,
            sigma_phi: None,
            bound_only: true,
            max_tries: 10_000,
        }
    }
}

/// Near-circular disk orbits in an axisymmetric or spherical potential (z the symmetry
/// axis, rotation in +phi so L_z > 0):
///
/// * R from the exponential disk's surface density, p(R) ∝ R exp(-R/R_d) on [r_min, r_max]
///   (inverse CDF: 1 - P(x) = (1 + x) e^{-x}, x = R/R_d, solved by safeguarded Newton);
///   phi uniform in [0, 2 pi); z ~ N(0, h).
/// * v_c^2(R) = R dPhi/dR at (R, phi, z = 0), from the potential's acceleration;
///   kappa^2 = d^2Phi/dR^2 + 3 dPhi/dR / R (BT08 eq. 3.80, d^2Phi/dR^2 from the Hessian),
///   Omega^2 = dPhi/dR / R.
/// * v_R ~ N(0, sigma_R), v_z ~ N(0, sigma_z), v_phi = v_c(R) + N(0, sigma_phi) with
///   sigma_phi given or sigma_R kappa/(2 Omega) (the epicyclic ratio, BT08 eq. 3.100).
///   The mean v_phi is v_c itself: no asymmetric-drift lag is applied (it is
///   ~ sigma_R^2 / v_c, a few km/s, for the default dispersions).
/// * Only bound points (E = v^2/2 + Phi < 0) are kept; an unbound draw redraws the velocity.
///
/// Errors: a potential that is neither axisymmetric nor spherical
/// ([`IcsError::NotAxisymmetric`]); v_c^2 <= 0 or kappa^2 <= 0 where needed
/// ([`IcsError::NoCircularOrbit`]); bad options; hopeless boundness.
pub fn sample_disk(
    potential: &dyn Potential,
    n: usize,
    seed: u64,
    options: &DiskOptions,
) -> Result<Vec<PhaseSpace>, IcsError> {
    let o = *options;
    match potential.symmetry() {
        Symmetry::Axisymmetric | Symmetry::Spherical => {}
        s => {
            return Err(IcsError::NotAxisymmetric {
                spec: potential.spec(),
                symmetry: format!("{s:?}"),
            })
        }
    }
    let rd = positive("disk scale_length (kpc)", o.scale_length)?;
    positive("disk r_min (kpc)", o.r_min)?;
    positive("disk r_max (kpc)", o.r_max)?;
    require("disk r_max (kpc)", o.r_max, o.r_max >= o.r_min, "r_max >= r_min")?;
    non_negative("disk scale_height (kpc)", o.scale_height)?;
    non_negative("disk sigma_r (km/s)", o.sigma_r)?;
    non_negative("disk sigma_z (km/s)", o.sigma_z)?;
    if let Some(s) = o.sigma_phi {
        non_negative("disk sigma_phi (km/s)", s)?;
    }
    at_least_one_try("disk max_tries", o.max_tries)?;
    // Survival function of x = R/R_d for p(x) ∝ x e^{-x}.
    let surv = |x: f64| (1.0 + x) * (-x).exp();
    let (x_lo, x_hi) = (o.r_min / rd, o.r_max / rd);
    let (q_lo, q_hi) = (surv(x_lo), surv(x_hi));

    par_generate(n, seed, TAG_DISK, |rng| {
        let target = q_lo - rng.random::<f64>() * (q_lo - q_hi);
        let x = if x_hi > x_lo {
            newton_bisect(
                |x| (target - surv(x), x * (-x).exp()),
                f64::NAN,
                x_lo,
                x_hi,
                1e-14 * x_hi,
            )
        } else {
            x_lo
        };
        let r = x * rd;
        let phi = std::f64::consts::TAU * rng.random::<f64>();
        let z = o.scale_height * rng.sample::<f64, _>(StandardNormal);
        let (c, s) = (phi.cos(), phi.sin());
        let x0 = [r * c, r * s, 0.0];
        let a0 = potential.acceleration(&x0);
        let dphi_dr = -(a0[0] * c + a0[1] * s);
        let vc2 = r * dphi_dr;
        if !(vc2.is_finite() && vc2 > 0.0) {
            return Err(IcsError::NoCircularOrbit {
                spec: potential.spec(),
                radius: r,
                vc2,
            });
        }
        let vc = vc2.sqrt();
        let sigma_phi = match o.sigma_phi {
            Some(s) => s,
            None => {
                let h = potential.hessian(&x0);
                let e = [c, s, 0.0];
                let mut phi_rr = 0.0;
                for i in 0..3 {
                    for j in 0..3 {
                        phi_rr += e[i] * h[i][j] * e[j];
                    }
                }
                let omega2 = dphi_dr / r;
                let kappa2 = phi_rr + 3.0 * omega2;
                if !(kappa2.is_finite() && kappa2 > 0.0) {
                    return Err(IcsError::NoCircularOrbit {
                        spec: potential.spec(),
                        radius: r,
                        vc2: kappa2 * r * r,
                    });
                }
                o.sigma_r * (kappa2 / (4.0 * omega2)).sqrt()
            }
        };
        let pos = [r * c, r * s, z];
        let phi_x = potential.potential(&pos);
        let mut tries = 0;
        loop {
            tries += 1;
            let v_r = o.sigma_r * rng.sample::<f64, _>(StandardNormal);
            let v_z = o.sigma_z * rng.sample::<f64, _>(StandardNormal);
            let v_phi = vc + sigma_phi * rng.sample::<f64, _>(StandardNormal);
            let v = [v_r * c - v_phi * s, v_r * s + v_phi * c, v_z];
            if !o.bound_only {
                return Ok(PhaseSpace::new(pos, v));
            }
            // Bound means E below the potential's value at infinity.
            let depth = phi_x - potential.potential_at_infinity();
            if depth.is_nan() || depth >= 0.0 {
                return Err(IcsError::NoBoundVelocity { x: pos, phi: phi_x });
            }
            if 0.5 * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) + depth < 0.0 {
                return Ok(PhaseSpace::new(pos, v));
            }
            if tries >= o.max_tries {
                return Err(IcsError::HopelessBound {
                    x: pos,
                    v_esc: (-2.0 * depth).sqrt(),
                    sigma: o.sigma_r.max(o.sigma_z).max(sigma_phi).max(vc),
                    tries,
                });
            }
        }
    })
}
