//! The flattened logarithmic potential (Binney & Tremaine 2008 eq. 2.71a; galpy
//! `LogarithmicHaloPotential` in physical units with galpy's ro = 8 kpc).

use super::params::{diag_plus_outer, fmt_num, non_negative, positive};
use super::{Potential, PotentialError, SphericalProfile, Symmetry};
use crate::phase::Vec3;
use crate::units::G;
use std::f64::consts::PI;

/// The length that makes the logarithm dimensionless (galpy's ro = 8 kpc; only shifts Phi).
pub const LOG_REFERENCE_RADIUS: f64 = 8.0;

/// Logarithmic potential with asymptotic circular speed `v0` (km/s), core radius `rc` (kpc)
/// and flattening `q` of the equipotentials, with `D = rc^2 + R^2 + z^2/q^2`:
///
/// `Phi = (v0^2 / 2) ln(D / (8 kpc)^2)`;
/// `a = -v0^2 (x, y, z / q^2) / D`;
/// `rho = v0^2 [(2 q^2 + 1) rc^2 + R^2 + (2 - 1/q^2) z^2] / (4 pi G q^2 D^2)`.
/// It has infinite mass and `Phi(inf) = +inf`. With `rc = 0` it is singular at the origin,
/// where the acceleration is returned as 0.
///
/// Text form: `logarithmic:v0=220,rc=1,q=0.9`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Logarithmic {
    v0: f64,
    rc: f64,
    q: f64,
    v02: f64,
    rc2: f64,
    iq2: f64,
}

impl Logarithmic {
    /// Logarithmic potential with `v0` > 0 (km/s), core radius `rc` >= 0 (kpc) and
    /// flattening `q` > 0 (q < 1 oblate, q > 1 prolate).
    pub fn new(v0: f64, rc: f64, q: f64) -> Result<Self, PotentialError> {
        let v0 = positive("logarithmic", "v0", v0)?;
        let rc = non_negative("logarithmic", "rc", rc)?;
        let q = positive("logarithmic", "q", q)?;
        Ok(Self {
            v0,
            rc,
            q,
            v02: v0 * v0,
            rc2: rc * rc,
            iq2: 1.0 / (q * q),
        })
    }

    /// Circular speed at large radius v0 in km/s.
    pub fn v0(&self) -> f64 {
        self.v0
    }

    /// Core radius rc in kpc.
    pub fn rc(&self) -> f64 {
        self.rc
    }

    /// Flattening q of the equipotentials.
    pub fn q(&self) -> f64 {
        self.q
    }

    /// Density in Msun/kpc^3 at `x`.
    pub fn density(&self, x: &Vec3) -> f64 {
        let r2 = x[0] * x[0] + x[1] * x[1];
        let z2 = x[2] * x[2];
        let d = self.rc2 + r2 + z2 * self.iq2;
        let num = (2.0 / self.iq2 + 1.0) * self.rc2 + r2 + (2.0 - self.iq2) * z2;
        self.v02 * self.iq2 * num / (4.0 * PI * G * d * d)
    }

    fn d(&self, x: &Vec3) -> f64 {
        self.rc2 + x[0] * x[0] + x[1] * x[1] + x[2] * x[2] * self.iq2
    }
}

impl Potential for Logarithmic {
    fn potential(&self, x: &Vec3) -> f64 {
        0.5 * self.v02 * (self.d(x) / (LOG_REFERENCE_RADIUS * LOG_REFERENCE_RADIUS)).ln()
    }

    /// One division, no square root.
    #[inline]
    fn acceleration(&self, x: &Vec3) -> Vec3 {
        let d = self.d(x);
        if d == 0.0 {
            return [0.0; 3];
        }
        let f = -self.v02 / d;
        [f * x[0], f * x[1], f * x[2] * self.iq2]
    }

    /// `H_ij = v0^2 [k_i delta_ij / D - 2 k_i x_i k_j x_j / D^2]`, `k = (1, 1, 1/q^2)`.
    fn hessian(&self, x: &Vec3) -> [[f64; 3]; 3] {
        let d = self.d(x);
        if d == 0.0 {
            // rc = 0 at the origin: singular, +inf on the diagonal rather than NaN
            return diag_plus_outer([f64::INFINITY; 3], &[]);
        }
        let f = self.v02 / d;
        let g = [x[0], x[1], x[2] * self.iq2];
        diag_plus_outer([f, f, f * self.iq2], &[(-2.0 * f / d, g)])
    }

    fn symmetry(&self) -> Symmetry {
        if self.q == 1.0 {
            Symmetry::Spherical
        } else {
            Symmetry::Axisymmetric
        }
    }

    /// The radial profile when q = 1 (a cored isothermal sphere), else `None`.
    fn spherical(&self) -> Option<&dyn SphericalProfile> {
        (self.q == 1.0).then_some(self as &dyn SphericalProfile)
    }

    fn potential_at_infinity(&self) -> f64 {
        f64::INFINITY
    }

    fn spec(&self) -> String {
        format!(
            "logarithmic:v0={},rc={},q={}",
            fmt_num(self.v0),
            fmt_num(self.rc),
            fmt_num(self.q)
        )
    }
}

/// The profile of the spherical case q = 1 (`Potential::spherical` offers it only then):
/// `Phi = (v0^2/2) ln((rc^2 + r^2) / (8 kpc)^2)`, `Phi' = v0^2 r / (rc^2 + r^2)`,
/// `Phi'' = v0^2 (rc^2 - r^2) / (rc^2 + r^2)^2`; infinite total mass.
impl SphericalProfile for Logarithmic {
    fn phi(&self, r: f64) -> f64 {
        self.potential(&[r, 0.0, 0.0])
    }

    fn dphi_dr(&self, r: f64) -> f64 {
        self.v02 * r / (self.rc2 + r * r)
    }

    fn d2phi_dr2(&self, r: f64) -> f64 {
        let d = self.rc2 + r * r;
        self.v02 * (self.rc2 - r * r) / (d * d)
    }

    fn density(&self, r: f64) -> f64 {
        Logarithmic::density(self, &[r, 0.0, 0.0])
    }

    fn total_mass(&self) -> Option<f64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::checks;

    #[test]
    fn derivatives_and_poisson() {
        for q in [0.9, 1.0, 1.3] {
            let p = Logarithmic::new(220.0, 1.0, q).unwrap();
            for x in checks::positions(1.0).into_iter().chain([[0.0; 3]]) {
                checks::acceleration_matches_potential(&p, &x, 1.0, 1e-8);
                checks::hessian_matches_acceleration(&p, &x, 1.0, 1e-7);
                let h = p.hessian(&x);
                let trace = h[0][0] + h[1][1] + h[2][2];
                let lhs = 4.0 * PI * G * p.density(&x);
                let scale = h.iter().flatten().fold(0.0_f64, |m, v| m.max(v.abs()));
                assert!((trace - lhs).abs() < 1e-12 * scale, "{trace} {lhs}");
            }
            checks::spec_round_trips(&p);
            if q == 1.0 {
                for x in checks::positions(1.0) {
                    checks::poisson_holds(&p, &x, 1e-12);
                }
            } else {
                assert!(p.spherical().is_none());
            }
        }
    }

    #[test]
    fn flat_rotation_curve_and_reference_radius() {
        let p = Logarithmic::new(200.0, 0.0, 0.8).unwrap();
        let x = [50.0, 0.0, 0.0];
        let vc2 = -x[0] * p.acceleration(&x)[0];
        assert!((vc2 - 200.0 * 200.0).abs() < 1e-9);
        assert_eq!(p.potential(&[8.0, 0.0, 0.0]), 0.0);
        assert_eq!(p.acceleration(&[0.0; 3]), [0.0; 3]);
        assert!(p.hessian(&[0.0; 3]).iter().flatten().all(|h| !h.is_nan()));
        assert_eq!(p.symmetry(), Symmetry::Axisymmetric);
    }
}
