//! The isochrone potential (Henon 1959; Binney & Tremaine 2008 eq. 2.47; galpy
//! `IsochronePotential`).

use super::params::{fmt_num, positive};
use super::spherical::RadialPotential;
use super::{PotentialError, SphericalProfile};
use crate::units::G;
use std::f64::consts::PI;

/// Isochrone sphere of mass `M` (Msun) and scale `b` (kpc):
///
/// `Phi(r) = -G M / (b + s)`, `s = sqrt(b^2 + r^2)`;
/// `Phi'(r) = G M r / (s (b + s)^2)`;
/// `rho(r) = M [3 (b + s) s^2 - r^2 (b + 3 s)] / (4 pi (b + s)^3 s^3)`.
///
/// Text form: `isochrone:M=3.334e11,b=5`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Isochrone {
    m: f64,
    b: f64,
    gm: f64,
}

impl Isochrone {
    /// Isochrone of mass `m` > 0 (Msun) and scale length `b` > 0 (kpc).
    pub fn new(m: f64, b: f64) -> Result<Self, PotentialError> {
        let m = positive("isochrone", "M", m)?;
        let b = positive("isochrone", "b", b)?;
        Ok(Self { m, b, gm: G * m })
    }

    /// Mass M in Msun.
    pub fn m(&self) -> f64 {
        self.m
    }

    /// Scale length b in kpc.
    pub fn b(&self) -> f64 {
        self.b
    }
}

impl SphericalProfile for Isochrone {
    fn phi(&self, r: f64) -> f64 {
        -self.gm / (self.b + (self.b * self.b + r * r).sqrt())
    }

    fn dphi_dr(&self, r: f64) -> f64 {
        r * self.dphi_dr_over_r(r * r)
    }

    fn d2phi_dr2(&self, r: f64) -> f64 {
        let b = self.b;
        let s2 = b * b + r * r;
        let s = s2.sqrt();
        let u = s * (b + s) * (b + s);
        self.gm / u * (1.0 - r * r * (b + 3.0 * s) / (s2 * (b + s)))
    }

    fn density(&self, r: f64) -> f64 {
        let b = self.b;
        let s2 = b * b + r * r;
        let s = s2.sqrt();
        let bs = b + s;
        self.m * (3.0 * bs * s2 - r * r * (b + 3.0 * s)) / (4.0 * PI * bs * bs * bs * s2 * s)
    }

    fn enclosed_mass(&self, r: f64) -> f64 {
        let s = (self.b * self.b + r * r).sqrt();
        let bs = self.b + s;
        self.m * r * r * r / (s * bs * bs)
    }

    fn total_mass(&self) -> Option<f64> {
        Some(self.m)
    }
}

impl RadialPotential for Isochrone {
    #[inline]
    fn dphi_dr_over_r(&self, r2: f64) -> f64 {
        let s = (self.b * self.b + r2).sqrt();
        let bs = self.b + s;
        self.gm / (s * bs * bs)
    }

    fn canonical_spec(&self) -> String {
        format!("isochrone:M={},b={}", fmt_num(self.m), fmt_num(self.b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{checks, Potential};

    #[test]
    fn derivatives_and_poisson() {
        let p = Isochrone::new(3.334e11, 5.0).unwrap();
        for x in checks::positions(5.0) {
            checks::acceleration_matches_potential(&p, &x, 5.0, 1e-8);
            checks::hessian_matches_acceleration(&p, &x, 5.0, 1e-7);
            checks::poisson_holds(&p, &x, 1e-12);
        }
        checks::spec_round_trips(&p);
    }

    #[test]
    fn centre_is_finite_and_mass_is_total() {
        let p = Isochrone::new(1e10, 2.0).unwrap();
        assert_eq!(p.acceleration(&[0.0; 3]), [0.0; 3]);
        let h = p.hessian(&[0.0; 3]);
        assert!((h[0][0] - p.d2phi_dr2(0.0)).abs() < 1e-12 * h[0][0]);
        assert!((p.potential(&[0.0; 3]) + G * 1e10 / 4.0).abs() < 1e-9);
        assert!((p.enclosed_mass(1e6) / 1e10 - 1.0).abs() < 1e-5);
        let r: f64 = 3.0;
        assert!((p.enclosed_mass(r) - r * r * p.dphi_dr(r) / G).abs() < 1e-6 * p.enclosed_mass(r));
        assert_eq!(p.total_mass(), Some(1e10));
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(Isochrone::new(-1.0, 1.0).is_err());
        assert!(Isochrone::new(1.0, 0.0).is_err());
        assert!(Isochrone::new(f64::NAN, 1.0).is_err());
    }
}
