//! Power-law density with an exponential cut-off (galpy `PowerSphericalPotentialwCutoff`,
//! the bulge of Bovy 2015's MWPotential2014).

use super::gamma::{gamma, lower_gamma, lower_gamma_scaled};
use super::params::{fmt_num, in_range, positive};
use super::spherical::RadialPotential;
use super::{PotentialError, SphericalProfile};
use crate::units::G;
use std::f64::consts::PI;

/// Sphere of total mass `M` (Msun) with `rho(r) = rho_c (rc/r)^alpha exp(-(r/rc)^2)`,
/// `0 <= alpha < 2`, cut-off radius `rc` (kpc) and `rho_c = M / (2 pi rc^3 Gamma(s))`,
/// `s = 3/2 - alpha/2`, `t = 1 - alpha/2`, `x = r/rc`:
///
/// `M(r) = M P(s, x^2)` (P the regularised lower incomplete gamma function),
/// `Phi'(r) = G M(r) / r^2`, `Phi''(r) = 4 pi G rho(r) - 2 Phi'(r)/r`,
/// `Phi(r) = G M [gamma(t, x^2) / (rc Gamma(s)) - P(s, x^2) / r]` (gamma the lower
/// incomplete gamma function).
///
/// The potential is galpy's, including its zero point: `Phi(0) = 0` and
/// `Phi(inf) = G M Gamma(t) / (rc Gamma(s)) > 0` (see
/// [`crate::potential::Potential::potential_at_infinity`]), so energies agree with galpy's,
/// but `E < 0` does not mean bound. galpy's `amp` (a G times density at `r1`) maps to
/// `M = 2 pi amp r1^alpha rc^(3 - alpha) Gamma(s) / G`.
///
/// Text form: `power-cutoff:M=5e9,alpha=1.8,rc=1.9`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowerCutoff {
    m: f64,
    alpha: f64,
    rc: f64,
    gm: f64,
    s: f64,
    t: f64,
    gamma_s: f64,
    gamma_t: f64,
}

impl PowerCutoff {
    /// Sphere of total mass `m` > 0 (Msun), inner slope `alpha` in [0, 2) and cut-off
    /// radius `rc` > 0 (kpc).
    pub fn new(m: f64, alpha: f64, rc: f64) -> Result<Self, PotentialError> {
        let m = positive("power-cutoff", "M", m)?;
        let alpha = in_range("power-cutoff", "alpha", alpha, 0.0, 2.0, "0 <= alpha < 2")?;
        let rc = positive("power-cutoff", "rc", rc)?;
        let (s, t) = (1.5 - 0.5 * alpha, 1.0 - 0.5 * alpha);
        Ok(Self {
            m,
            alpha,
            rc,
            gm: G * m,
            s,
            t,
            gamma_s: gamma(s),
            gamma_t: gamma(t),
        })
    }

    /// Total mass M in Msun.
    pub fn m(&self) -> f64 {
        self.m
    }

    /// Inner logarithmic density slope alpha.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Cut-off radius rc in kpc.
    pub fn rc(&self) -> f64 {
        self.rc
    }

    /// `(r/rc)^-alpha` written as a function of `y = (r/rc)^2`; exactly 1 for alpha = 0.
    #[inline]
    fn cusp(&self, y: f64) -> f64 {
        if self.alpha == 0.0 {
            1.0
        } else {
            y.powf(-0.5 * self.alpha)
        }
    }
}

impl SphericalProfile for PowerCutoff {
    fn phi(&self, r: f64) -> f64 {
        let x = r / self.rc;
        let y = x * x;
        // P(s, y) / r = gamma(s, y) / (Gamma(s) rc x) = [gamma(s, y) / y^s] x^(2 - alpha) / ...
        let inner = lower_gamma_scaled(self.s, self.gamma_s, y) * x.powf(2.0 - self.alpha);
        self.gm / (self.rc * self.gamma_s) * (lower_gamma(self.t, self.gamma_t, y) - inner)
    }

    fn dphi_dr(&self, r: f64) -> f64 {
        r * self.dphi_dr_over_r(r * r)
    }

    fn d2phi_dr2(&self, r: f64) -> f64 {
        4.0 * PI * G * self.density(r) - 2.0 * self.dphi_dr_over_r(r * r)
    }

    fn density(&self, r: f64) -> f64 {
        let y = (r / self.rc) * (r / self.rc);
        let rho_c = self.m / (2.0 * PI * self.rc * self.rc * self.rc * self.gamma_s);
        rho_c * self.cusp(y) * (-y).exp()
    }

    fn enclosed_mass(&self, r: f64) -> f64 {
        let y = (r / self.rc) * (r / self.rc);
        self.m * lower_gamma(self.s, self.gamma_s, y) / self.gamma_s
    }

    fn total_mass(&self) -> Option<f64> {
        Some(self.m)
    }
}

impl RadialPotential for PowerCutoff {
    /// `G M [gamma(s, y) / y^s] y^(-alpha/2) / (rc^3 Gamma(s))`, `y = r^2/rc^2`.
    #[inline]
    fn dphi_dr_over_r(&self, r2: f64) -> f64 {
        let y = r2 / (self.rc * self.rc);
        self.gm / (self.rc * self.rc * self.rc * self.gamma_s)
            * lower_gamma_scaled(self.s, self.gamma_s, y)
            * self.cusp(y)
    }

    fn phi_infinity(&self) -> f64 {
        self.gm * self.gamma_t / (self.rc * self.gamma_s)
    }

    fn canonical_spec(&self) -> String {
        format!(
            "power-cutoff:M={},alpha={},rc={}",
            fmt_num(self.m),
            fmt_num(self.alpha),
            fmt_num(self.rc)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{checks, Potential};

    #[test]
    fn derivatives_and_poisson() {
        for alpha in [0.0, 1.0, 1.8] {
            let p = PowerCutoff::new(5e9, alpha, 1.9).unwrap();
            for x in checks::positions(1.9) {
                checks::acceleration_matches_potential(&p, &x, 1.9, 1e-8);
                checks::hessian_matches_acceleration(&p, &x, 1.9, 1e-7);
                checks::poisson_holds(&p, &x, 1e-12);
            }
            checks::spec_round_trips(&p);
        }
    }

    #[test]
    fn zero_point_and_mass() {
        let p = PowerCutoff::new(5e9, 1.8, 1.9).unwrap();
        assert_eq!(p.potential(&[0.0; 3]), 0.0);
        assert_eq!(p.acceleration(&[0.0; 3]), [0.0; 3]);
        // far out it is a point mass plus the constant
        for r in [30.0, 1e3, 1e6] {
            let kepler = p.potential_at_infinity() - G * 5e9 / r;
            let phi = p.potential(&[0.0, 0.0, r]);
            assert!((phi - kepler).abs() < 1e-13 * kepler.abs(), "{phi} {kepler}");
        }
        assert!((p.enclosed_mass(100.0) / 5e9 - 1.0).abs() < 1e-14);
        // the profile's enclosed mass agrees with the force
        let r = 1.3;
        let m = r * r * p.dphi_dr(r) / G;
        assert!((p.enclosed_mass(r) - m).abs() < 1e-13 * m);
    }

    #[test]
    fn cored_case_is_finite_at_the_centre() {
        let p = PowerCutoff::new(1e9, 0.0, 1.0).unwrap();
        let h = p.hessian(&[0.0; 3]);
        let h2 = p.hessian(&[1e-6, 0.0, 0.0]);
        assert!((h[0][0] - h2[0][0]).abs() < 1e-9 * h[0][0]);
        assert!((h[0][0] - 4.0 * PI * G * p.density(0.0) / 3.0).abs() < 1e-13 * h[0][0]);
    }
}
