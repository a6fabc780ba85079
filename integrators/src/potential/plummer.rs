//! The Plummer sphere (Plummer 1911; Binney & Tremaine 2008 eq. 2.44a; galpy
//! `PlummerPotential`).

use super::params::{fmt_num, positive};
use super::spherical::RadialPotential;
use super::{PotentialError, SphericalProfile};
use crate::units::G;
use std::f64::consts::PI;

/// Plummer sphere of mass `M` (Msun) and scale `a` (kpc):
///
/// `Phi(r) = -G M / s`, `s = sqrt(r^2 + a^2)`; `Phi'(r) = G M r / s^3`;
/// `Phi''(r) = G M (a^2 - 2 r^2) / s^5`; `rho(r) = 3 M a^2 / (4 pi s^5)`.
///
/// Text form: `plummer:M=1e11,a=2`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plummer {
    m: f64,
    a: f64,
    gm: f64,
    a2: f64,
}

impl Plummer {
    /// Plummer sphere of mass `m` > 0 (Msun) and scale length `a` > 0 (kpc).
    pub fn new(m: f64, a: f64) -> Result<Self, PotentialError> {
        let m = positive("plummer", "M", m)?;
        let a = positive("plummer", "a", a)?;
        Ok(Self {
            m,
            a,
            gm: G * m,
            a2: a * a,
        })
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

impl SphericalProfile for Plummer {
    fn phi(&self, r: f64) -> f64 {
        -self.gm / (r * r + self.a2).sqrt()
    }

    fn dphi_dr(&self, r: f64) -> f64 {
        r * self.dphi_dr_over_r(r * r)
    }

    fn d2phi_dr2(&self, r: f64) -> f64 {
        let s2 = r * r + self.a2;
        self.gm * (self.a2 - 2.0 * r * r) / (s2 * s2 * s2.sqrt())
    }

    fn density(&self, r: f64) -> f64 {
        let s2 = r * r + self.a2;
        3.0 * self.m * self.a2 / (4.0 * PI * s2 * s2 * s2.sqrt())
    }

    fn enclosed_mass(&self, r: f64) -> f64 {
        let s2 = r * r + self.a2;
        self.m * r * r * r / (s2 * s2.sqrt())
    }

    fn total_mass(&self) -> Option<f64> {
        Some(self.m)
    }
}

impl RadialPotential for Plummer {
    /// `G M / (r^2 + a^2)^{3/2}`: one square root, one division.
    #[inline]
    fn dphi_dr_over_r(&self, r2: f64) -> f64 {
        let s2 = r2 + self.a2;
        self.gm / (s2 * s2.sqrt())
    }

    fn canonical_spec(&self) -> String {
        format!("plummer:M={},a={}", fmt_num(self.m), fmt_num(self.a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{checks, Potential};

    #[test]
    fn derivatives_and_poisson() {
        for (m, a) in [(1e11, 2.0), (1e5, 0.02)] {
            let p = Plummer::new(m, a).unwrap();
            for x in checks::positions(a) {
                checks::acceleration_matches_potential(&p, &x, a, 1e-8);
                checks::hessian_matches_acceleration(&p, &x, a, 1e-7);
                checks::poisson_holds(&p, &x, 1e-12);
            }
            checks::spec_round_trips(&p);
        }
    }

    #[test]
    fn centre_is_finite_and_mass_is_total() {
        let p = Plummer::new(1e10, 2.0).unwrap();
        assert_eq!(p.acceleration(&[0.0; 3]), [0.0; 3]);
        let h = p.hessian(&[0.0; 3]);
        assert!((h[0][0] - G * 1e10 / 8.0).abs() < 1e-12 * h[0][0]);
        assert_eq!(h[0][1], 0.0);
        assert!((p.potential(&[0.0; 3]) + G * 1e10 / 2.0).abs() < 1e-9);
        assert!((p.enclosed_mass(1e6) / 1e10 - 1.0).abs() < 1e-10);
        assert_eq!(p.total_mass(), Some(1e10));
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(Plummer::new(0.0, 1.0).is_err());
        assert!(Plummer::new(1.0, -2.0).is_err());
        assert!(Plummer::new(1.0, f64::INFINITY).is_err());
    }
}
