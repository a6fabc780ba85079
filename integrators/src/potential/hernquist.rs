//! The Hernquist (1990) sphere (Binney & Tremaine 2008 eq. 2.64 with alpha = 1, beta = 4;
//! galpy `HernquistPotential`, whose `amp` is 2 G M).

use super::params::{fmt_num, positive};
use super::spherical::RadialPotential;
use super::{PotentialError, SphericalProfile};
use crate::units::G;
use std::f64::consts::PI;

/// Hernquist sphere of mass `M` (Msun) and scale `a` (kpc):
///
/// `Phi(r) = -G M / (r + a)`; `Phi'(r) = G M / (r + a)^2`; `Phi''(r) = -2 G M / (r + a)^3`;
/// `rho(r) = M a / (2 pi r (r + a)^3)` (a 1/r cusp: the force has no limit at r = 0,
/// where the acceleration is returned as 0 and the Hessian diagonal as +inf).
///
/// Text form: `hernquist:M=1e12,a=20`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hernquist {
    m: f64,
    a: f64,
    gm: f64,
}

impl Hernquist {
    /// Hernquist sphere of mass `m` > 0 (Msun) and scale length `a` > 0 (kpc).
    pub fn new(m: f64, a: f64) -> Result<Self, PotentialError> {
        let m = positive("hernquist", "M", m)?;
        let a = positive("hernquist", "a", a)?;
        Ok(Self { m, a, gm: G * m })
    }

    /// Mass M in Msun.
    pub fn m(&self) -> f64 {
        self.m
    }

    /// Scale length a in kpc.
    pub fn a(&self) -> f64 {
        self.a
    }
}

impl SphericalProfile for Hernquist {
    fn phi(&self, r: f64) -> f64 {
        -self.gm / (r + self.a)
    }

    fn dphi_dr(&self, r: f64) -> f64 {
        let ra = r + self.a;
        self.gm / (ra * ra)
    }

    fn d2phi_dr2(&self, r: f64) -> f64 {
        let ra = r + self.a;
        -2.0 * self.gm / (ra * ra * ra)
    }

    fn density(&self, r: f64) -> f64 {
        let ra = r + self.a;
        self.m * self.a / (2.0 * PI * r * ra * ra * ra)
    }

    fn enclosed_mass(&self, r: f64) -> f64 {
        let ra = r + self.a;
        self.m * r * r / (ra * ra)
    }

    fn total_mass(&self) -> Option<f64> {
        Some(self.m)
    }
}

impl RadialPotential for Hernquist {
    /// `G M / (r (r + a)^2)`: one square root, one division.
    #[inline]
    fn dphi_dr_over_r(&self, r2: f64) -> f64 {
        let r = r2.sqrt();
        let ra = r + self.a;
        self.gm / (r * ra * ra)
    }

    fn canonical_spec(&self) -> String {
        format!("hernquist:M={},a={}", fmt_num(self.m), fmt_num(self.a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{checks, Potential};

    #[test]
    fn derivatives_and_poisson() {
        let p = Hernquist::new(1e12, 20.0).unwrap();
        for x in checks::positions(20.0) {
            checks::acceleration_matches_potential(&p, &x, 20.0, 1e-8);
            checks::hessian_matches_acceleration(&p, &x, 20.0, 1e-7);
            checks::poisson_holds(&p, &x, 1e-12);
        }
        checks::spec_round_trips(&p);
    }

    #[test]
    fn centre_has_no_nan() {
        let p = Hernquist::new(1e10, 2.0).unwrap();
        assert_eq!(p.acceleration(&[0.0; 3]), [0.0; 3]);
        assert!((p.potential(&[0.0; 3]) + G * 1e10 / 2.0).abs() < 1e-9);
        assert!(p.hessian(&[0.0; 3]).iter().flatten().all(|h| !h.is_nan()));
        assert!((p.enclosed_mass(2.0) - 0.25e10).abs() < 1e-3);
    }
}
