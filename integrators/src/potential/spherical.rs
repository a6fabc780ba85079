//! The Cartesian side of every spherical potential, written once.
//!
//! A spherical potential only has to give its radial profile ([`SphericalProfile`]) plus
//! `Phi'(r)/r` as a function of `r^2` ([`RadialPotential::dphi_dr_over_r`]); the blanket
//! implementation below turns that into [`Potential`]:
//!
//! - `a = -(Phi'(r)/r) x` (no square root unless the profile needs one),
//! - `H_ij = Phi'' x_i x_j / r^2 + (Phi'/r) (delta_ij - x_i x_j / r^2)`,
//! - at `r = 0`: `a = 0` (by symmetry, also for cusps whose force has no limit there) and
//!   `H = (Phi'/r)(0) I`, which equals `Phi''(0) I` for a cored profile and is `+inf` on
//!   the diagonal for a cusp.

use super::params::diag_plus_outer;
use super::{Potential, SphericalProfile, Symmetry};
use crate::phase::{dot, Vec3};

/// A spherical profile that knows `Phi'(r)/r`; implementing it gives [`Potential`] for free.
pub trait RadialPotential: SphericalProfile {
    /// `Phi'(r) / r` in (km/s)^2/kpc^2 as a function of `r2 = r^2`, written so that it is
    /// cheap (this is the integrators' hot loop) and finite at `r = 0` for cored profiles.
    fn dphi_dr_over_r(&self, r2: f64) -> f64;

    /// Canonical text form, parseable by [`super::spec::parse`].
    fn canonical_spec(&self) -> String;

    /// Phi at infinity (0 unless the profile has another zero point).
    fn phi_infinity(&self) -> f64 {
        0.0
    }
}

/// `H_ij = Phi'' n_i n_j + (Phi'/r)(delta_ij - n_i n_j)` with `n = x / r`; `(Phi'/r) I` at 0.
pub fn radial_hessian(x: &Vec3, r2: f64, dphi_over_r: f64, d2phi: f64) -> [[f64; 3]; 3] {
    if r2 == 0.0 {
        return diag_plus_outer([dphi_over_r; 3], &[]);
    }
    diag_plus_outer([dphi_over_r; 3], &[((d2phi - dphi_over_r) / r2, *x)])
}

impl<T: RadialPotential> Potential for T {
    fn potential(&self, x: &Vec3) -> f64 {
        self.phi(dot(x, x).sqrt())
    }

    #[inline]
    fn acceleration(&self, x: &Vec3) -> Vec3 {
        let r2 = dot(x, x);
        if r2 == 0.0 {
            return [0.0; 3];
        }
        let f = -self.dphi_dr_over_r(r2);
        [f * x[0], f * x[1], f * x[2]]
    }

    fn hessian(&self, x: &Vec3) -> [[f64; 3]; 3] {
        let r2 = dot(x, x);
        radial_hessian(x, r2, self.dphi_dr_over_r(r2), self.d2phi_dr2(r2.sqrt()))
    }

    fn symmetry(&self) -> Symmetry {
        Symmetry::Spherical
    }

    fn spherical(&self) -> Option<&dyn SphericalProfile> {
        Some(self)
    }

    fn spec(&self) -> String {
        self.canonical_spec()
    }

    fn potential_at_infinity(&self) -> f64 {
        self.phi_infinity()
    }
}
