//! Dehnen (1993) spheres (Tremaine et al. 1994 "eta models"; galpy `DehnenSphericalPotential`).

use super::params::{fmt_num, in_range, positive};
use super::spherical::RadialPotential;
use super::{PotentialError, SphericalProfile};
use crate::units::G;
use std::f64::consts::PI;

/// Dehnen sphere of mass `M` (Msun), scale `a` (kpc) and inner slope `gamma` in [0, 2):
///
/// `Phi(r) = -(G M / a) / (2 - gamma) * (1 - (r / (r + a))^(2 - gamma))`,
/// evaluated as `(G M / a) expm1(-(2 - gamma) ln(1 + a / r)) / (2 - gamma)` so that it
/// stays accurate for gamma near 2;
/// `M(r) = M (r / (r + a))^(3 - gamma)`, `Phi'(r) = G M(r) / r^2`;
/// `Phi''(r) = G M r^-gamma (r + a)^(gamma - 4) ((1 - gamma) a - 2 r)`;
/// `rho(r) = (3 - gamma) M a / (4 pi r^gamma (r + a)^(4 - gamma))`.
///
/// gamma = 0 has a core (finite force and Hessian at r = 0), gamma = 1 is Hernquist and
/// gamma = 3/2 is galpy's default. For gamma > 0 the acceleration at r = 0 is returned as 0.
///
/// Text form: `dehnen:M=1e11,a=3,gamma=1.5`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dehnen {
    m: f64,
    a: f64,
    gamma: f64,
    gm: f64,
}

impl Dehnen {
    /// Dehnen sphere of mass `m` > 0 (Msun), scale length `a` > 0 (kpc) and inner log-slope
    /// `gamma` with 0 <= gamma < 2.
    pub fn new(m: f64, a: f64, gamma: f64) -> Result<Self, PotentialError> {
        let m = positive("dehnen", "M", m)?;
        let a = positive("dehnen", "a", a)?;
        let gamma = in_range("dehnen", "gamma", gamma, 0.0, 2.0, "0 <= gamma < 2")?;
        Ok(Self {
            m,
            a,
            gamma,
            gm: G * m,
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

    /// Inner logarithmic density slope gamma.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// `(1 + a/r)^gamma = (r / (r + a))^-gamma`, exactly 1 for gamma = 0 (also at r = 0).
    #[inline]
    fn cusp(&self, r: f64) -> f64 {
        if self.gamma == 0.0 {
            1.0
        } else {
            (1.0 + self.a / r).powf(self.gamma)
        }
    }
}

impl SphericalProfile for Dehnen {
    fn phi(&self, r: f64) -> f64 {
        let p = 2.0 - self.gamma;
        // ln(r / (r + a)) = -ln(1 + a/r); -inf at r = 0 gives expm1 = -1.
        (self.gm / self.a) * (-p * (self.a / r).ln_1p()).exp_m1() / p
    }

    fn dphi_dr(&self, r: f64) -> f64 {
        r * self.dphi_dr_over_r(r * r)
    }

    fn d2phi_dr2(&self, r: f64) -> f64 {
        let g = self.gamma;
        let ra = r + self.a;
        // r^-gamma (r + a)^(gamma - 4) = (1 + a/r)^gamma / (r + a)^4
        self.gm * self.cusp(r) / (ra * ra * ra * ra) * ((1.0 - g) * self.a - 2.0 * r)
    }

    fn density(&self, r: f64) -> f64 {
        let g = self.gamma;
        let ra = r + self.a;
        (3.0 - g) * self.m * self.a * self.cusp(r) / (4.0 * PI * ra * ra * ra * ra)
    }

    fn enclosed_mass(&self, r: f64) -> f64 {
        self.m * (-(3.0 - self.gamma) * (self.a / r).ln_1p()).exp()
    }

    fn total_mass(&self) -> Option<f64> {
        Some(self.m)
    }
}

impl RadialPotential for Dehnen {
    /// `G M (1 + a/r)^gamma / (r + a)^3`: one square root, one power, one division.
    #[inline]
    fn dphi_dr_over_r(&self, r2: f64) -> f64 {
        let r = r2.sqrt();
        let ra = r + self.a;
        self.gm * self.cusp(r) / (ra * ra * ra)
    }

    fn canonical_spec(&self) -> String {
        format!(
            "dehnen:M={},a={},gamma={}",
            fmt_num(self.m),
            fmt_num(self.a),
            fmt_num(self.gamma)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{checks, Hernquist, Potential};

    #[test]
    fn derivatives_and_poisson() {
        for gamma in [0.0, 0.5, 1.0, 1.5, 1.99] {
            let p = Dehnen::new(1e11, 3.0, gamma).unwrap();
            for x in checks::positions(3.0) {
                checks::acceleration_matches_potential(&p, &x, 3.0, 1e-8);
                checks::hessian_matches_acceleration(&p, &x, 3.0, 1e-7);
                checks::poisson_holds(&p, &x, 1e-12);
            }
            checks::spec_round_trips(&p);
        }
    }

    #[test]
    fn gamma_one_is_hernquist() {
        let d = Dehnen::new(1e11, 3.0, 1.0).unwrap();
        let h = Hernquist::new(1e11, 3.0).unwrap();
        for x in checks::positions(3.0) {
            let (pd, ph) = (d.potential(&x), h.potential(&x));
            assert!((pd - ph).abs() < 1e-14 * ph.abs(), "{pd} {ph}");
            let (ad, ah) = (d.acceleration(&x), h.acceleration(&x));
            for i in 0..3 {
                assert!((ad[i] - ah[i]).abs() < 1e-13 * crate::phase::norm(&ah));
            }
        }
    }

    #[test]
    fn centre_has_no_nan_and_core_is_finite() {
        let core = Dehnen::new(1e10, 2.0, 0.0).unwrap();
        let h = core.hessian(&[0.0; 3]);
        assert!((h[0][0] - G * 1e10 / 8.0).abs() < 1e-12 * h[0][0]);
        assert!((core.potential(&[0.0; 3]) + G * 1e10 / 4.0).abs() < 1e-9);
        for gamma in [0.0, 1.0, 1.5] {
            let p = Dehnen::new(1e10, 2.0, gamma).unwrap();
            assert_eq!(p.acceleration(&[0.0; 3]), [0.0; 3]);
            assert!(p.potential(&[0.0; 3]).is_finite());
            assert!(p.hessian(&[0.0; 3]).iter().flatten().all(|h| !h.is_nan()));
            assert_eq!(p.total_mass(), Some(1e10));
        }
    }

    #[test]
    fn rejects_bad_gamma() {
        let e = Dehnen::new(1e10, 2.0, 2.0).unwrap_err();
        assert!(e.to_string().contains("gamma"), "{e}");
        assert!(Dehnen::new(1e10, 2.0, -0.1).is_err());
    }
}
