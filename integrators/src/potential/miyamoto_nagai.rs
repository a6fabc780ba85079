//! The Miyamoto & Nagai (1975) disc (Binney & Tremaine 2008 eq. 2.69a; galpy
//! `MiyamotoNagaiPotential`).

use super::params::{diag_plus_outer, fmt_num, non_negative, positive};
use super::{Potential, PotentialError, Symmetry};
use crate::phase::Vec3;
use crate::units::G;
use std::f64::consts::PI;

/// Miyamoto-Nagai disc of mass `M` (Msun), scale length `a` >= 0 and scale height `b` > 0
/// (kpc), with `zeta = sqrt(z^2 + b^2)`, `A = a + zeta`, `D^2 = R^2 + A^2`:
///
/// `Phi = -G M / D`;
/// `a_R = -G M R / D^3`, `a_z = -G M z A / (zeta D^3)`;
/// `rho = (b^2 M / 4 pi) [a R^2 + (a + 3 zeta) A^2] / (D^5 zeta^3)`.
/// `a = 0` is a Plummer sphere of scale `b`.
///
/// Text form: `miyamoto-nagai:M=6.8e10,a=3,b=0.28`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MiyamotoNagai {
    m: f64,
    a: f64,
    b: f64,
    gm: f64,
    b2: f64,
}

impl MiyamotoNagai {
    /// Disc of mass `m` > 0 (Msun), radial scale `a` >= 0 and vertical scale `b` > 0 (kpc).
    pub fn new(m: f64, a: f64, b: f64) -> Result<Self, PotentialError> {
        let m = positive("miyamoto-nagai", "M", m)?;
        let a = non_negative("miyamoto-nagai", "a", a)?;
        let b = positive("miyamoto-nagai", "b", b)?;
        Ok(Self {
            m,
            a,
            b,
            gm: G * m,
            b2: b * b,
        })
    }

    /// Mass M in Msun.
    pub fn m(&self) -> f64 {
        self.m
    }

    /// Radial scale length a in kpc.
    pub fn a(&self) -> f64 {
        self.a
    }

    /// Vertical scale height b in kpc.
    pub fn b(&self) -> f64 {
        self.b
    }

    /// Density in Msun/kpc^3 at `x`.
    pub fn density(&self, x: &Vec3) -> f64 {
        let r2 = x[0] * x[0] + x[1] * x[1];
        let zeta = (x[2] * x[2] + self.b2).sqrt();
        let aa = self.a + zeta;
        let d2 = r2 + aa * aa;
        let d5 = d2 * d2 * d2.sqrt();
        self.b2 * self.m / (4.0 * PI) * (self.a * r2 + (self.a + 3.0 * zeta) * aa * aa)
            / (d5 * zeta * zeta * zeta)
    }
}

impl Potential for MiyamotoNagai {
    fn potential(&self, x: &Vec3) -> f64 {
        let zeta = (x[2] * x[2] + self.b2).sqrt();
        let aa = self.a + zeta;
        -self.gm / (x[0] * x[0] + x[1] * x[1] + aa * aa).sqrt()
    }

    /// Two square roots, two divisions.
    #[inline]
    fn acceleration(&self, x: &Vec3) -> Vec3 {
        let zeta = (x[2] * x[2] + self.b2).sqrt();
        let aa = self.a + zeta;
        let d2 = x[0] * x[0] + x[1] * x[1] + aa * aa;
        let f = -self.gm / (d2 * d2.sqrt());
        [f * x[0], f * x[1], f * x[2] * aa / zeta]
    }

    /// With `g = (x, y, z A / zeta)` (the gradient of D^2 / 2):
    /// `H_ij = G M [dg_i/dx_j / D^3 - 3 g_i g_j / D^5]`,
    /// `dg_z/dz = z^2 / zeta^2 + A b^2 / zeta^3`.
    fn hessian(&self, x: &Vec3) -> [[f64; 3]; 3] {
        let zeta2 = x[2] * x[2] + self.b2;
        let zeta = zeta2.sqrt();
        let aa = self.a + zeta;
        let d2 = x[0] * x[0] + x[1] * x[1] + aa * aa;
        let d3inv = 1.0 / (d2 * d2.sqrt());
        let d5inv = d3inv / d2;
        let g = [x[0], x[1], x[2] * aa / zeta];
        let dgz = x[2] * x[2] / zeta2 + aa * self.b2 / (zeta2 * zeta);
        let gm3 = self.gm * d3inv;
        diag_plus_outer([gm3, gm3, gm3 * dgz], &[(-3.0 * self.gm * d5inv, g)])
    }

    fn symmetry(&self) -> Symmetry {
        Symmetry::Axisymmetric
    }

    fn spec(&self) -> String {
        format!(
            "miyamoto-nagai:M={},a={},b={}",
            fmt_num(self.m),
            fmt_num(self.a),
            fmt_num(self.b)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{checks, Plummer};

    #[test]
    fn derivatives_and_poisson() {
        let p = MiyamotoNagai::new(6.8e10, 3.0, 0.28).unwrap();
        for x in checks::positions(3.0)
            .into_iter()
            .chain([[0.0; 3], [5.0, -1.0, 0.0], [0.0, 0.0, 0.1]])
        {
            checks::acceleration_matches_potential(&p, &x, 0.28, 1e-8);
            checks::hessian_matches_acceleration(&p, &x, 0.28, 1e-7);
            let h = p.hessian(&x);
            let trace = h[0][0] + h[1][1] + h[2][2];
            let lhs = 4.0 * PI * G * p.density(&x);
            assert!((trace - lhs).abs() < 1e-12 * h.iter().flatten().fold(0.0_f64, |m, v| m.max(v.abs())));
        }
        checks::spec_round_trips(&p);
        assert_eq!(p.symmetry(), Symmetry::Axisymmetric);
    }

    #[test]
    fn a_zero_is_plummer() {
        let mn = MiyamotoNagai::new(1e10, 0.0, 1.5).unwrap();
        let pl = Plummer::new(1e10, 1.5).unwrap();
        for x in checks::positions(1.5) {
            let (a, b) = (mn.potential(&x), pl.potential(&x));
            assert!((a - b).abs() < 1e-14 * b.abs());
        }
        assert_eq!(mn.acceleration(&[0.0; 3]), [0.0; 3]);
    }
}
