//! The Kuzmin-Kutuzov Staeckel potential (Kuzmin & Kutuzov 1962; Dejonghe & de Zeeuw 1988;
//! galpy `KuzminKutuzovStaeckelPotential`).

use super::params::{diag_plus_outer, fmt_num, positive};
use super::{Potential, PotentialError, Symmetry};
use crate::phase::Vec3;
use crate::units::G;

/// Kuzmin-Kutuzov Staeckel potential of mass `M` (Msun), with `ac = a/c > 1` the axis ratio
/// of the coordinate surfaces and `delta = sqrt(a^2 - c^2)` (kpc) the focal distance of the
/// prolate spheroidal coordinates (lambda, nu), the roots of
/// `R^2 / (tau - a^2) + z^2 / (tau - c^2) = 1` (galpy: alpha = -a^2, gamma = -c^2):
///
/// `Phi = -G M / (sqrt(lambda) + sqrt(nu))`.
///
/// Since lambda + nu = S and lambda nu = P with `S = a^2 + c^2 + R^2 + z^2`,
/// `P = a^2 c^2 + c^2 R^2 + a^2 z^2`, this is evaluated as
/// `Phi = -G M / sqrt(T)`, `T = S + 2 sqrt(P)`, smooth everywhere (also at the foci), so
/// `a_i = -G M x_i (1 + k_i / sqrt(P)) / T^{3/2}` with `k = (c^2, c^2, a^2)`.
///
/// Text form: `kuzmin-kutuzov:M=1e11,ac=2,delta=3`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KuzminKutuzov {
    m: f64,
    ac: f64,
    delta: f64,
    gm: f64,
    a2: f64,
    c2: f64,
}

impl KuzminKutuzov {
    /// Kuzmin-Kutuzov potential of mass `m` > 0 (Msun), axis ratio `ac` = a/c > 1 and focal
    /// distance `delta` > 0 (kpc).
    pub fn new(m: f64, ac: f64, delta: f64) -> Result<Self, PotentialError> {
        let m = positive("kuzmin-kutuzov", "M", m)?;
        if !(ac.is_finite() && ac > 1.0) {
            return Err(PotentialError::BadParameter {
                potential: "kuzmin-kutuzov",
                parameter: "ac",
                value: ac,
                expected: "a finite axis ratio a/c > 1",
            });
        }
        let delta = positive("kuzmin-kutuzov", "delta", delta)?;
        let c2 = delta * delta / (ac * ac - 1.0);
        Ok(Self {
            m,
            ac,
            delta,
            gm: G * m,
            a2: c2 + delta * delta,
            c2,
        })
    }

    /// Mass M in Msun.
    pub fn m(&self) -> f64 {
        self.m
    }

    /// Axis ratio a/c of the coordinate surfaces.
    pub fn ac(&self) -> f64 {
        self.ac
    }

    /// Focal distance delta = sqrt(a^2 - c^2) in kpc.
    pub fn delta(&self) -> f64 {
        self.delta
    }

    /// (a^2, c^2) in kpc^2: -alpha and -gamma of the Staeckel coordinates.
    pub fn a2_c2(&self) -> (f64, f64) {
        (self.a2, self.c2)
    }

    /// Prolate spheroidal coordinates (lambda, nu) in kpc^2 of the position (R, z), with
    /// `lambda >= a^2 >= nu >= c^2` (computed without cancellation).
    pub fn lambda_nu(&self, r_cyl: f64, z: f64) -> (f64, f64) {
        let d2 = self.delta * self.delta;
        let q = r_cyl * r_cyl + z * z + d2;
        let d1 = (r_cyl * r_cyl + (z - self.delta) * (z - self.delta)).sqrt();
        let dd2 = (r_cyl * r_cyl + (z + self.delta) * (z + self.delta)).sqrt();
        let lam_minus_c2 = 0.5 * (q + d1 * dd2);
        let nu_minus_c2 = 2.0 * z * z * d2 / (q + d1 * dd2);
        (self.c2 + lam_minus_c2, self.c2 + nu_minus_c2)
    }

    /// (T, sqrt(P)) at `x`.
    #[inline]
    fn t_p(&self, x: &Vec3) -> (f64, f64) {
        let r2 = x[0] * x[0] + x[1] * x[1];
        let z2 = x[2] * x[2];
        let p = (self.a2 * self.c2 + self.c2 * r2 + self.a2 * z2).sqrt();
        (self.a2 + self.c2 + r2 + z2 + 2.0 * p, p)
    }
}

impl Potential for KuzminKutuzov {
    fn potential(&self, x: &Vec3) -> f64 {
        -self.gm / self.t_p(x).0.sqrt()
    }

    /// Two square roots, two divisions.
    #[inline]
    fn acceleration(&self, x: &Vec3) -> Vec3 {
        let (t, p) = self.t_p(x);
        let f = -self.gm / (t * t.sqrt());
        let ip = 1.0 / p;
        let fr = f * (1.0 + self.c2 * ip);
        [fr * x[0], fr * x[1], f * x[2] * (1.0 + self.a2 * ip)]
    }

    /// `H_ij = G M [d_ij T / (2 T^{3/2}) - 3 d_i T d_j T / (4 T^{5/2})]` with
    /// `d_i T = 2 x_i (1 + k_i/p)`, `d_ij T = 2 delta_ij (1 + k_i/p) - 2 k_i k_j x_i x_j / p^3`.
    fn hessian(&self, x: &Vec3) -> [[f64; 3]; 3] {
        let (t, p) = self.t_p(x);
        let k = [self.c2, self.c2, self.a2];
        let dt: [f64; 3] = std::array::from_fn(|i| 2.0 * x[i] * (1.0 + k[i] / p));
        let t32 = t * t.sqrt();
        let (c1, c2) = (0.5 * self.gm / t32, 0.75 * self.gm / (t32 * t));
        let kx = [k[0] * x[0], k[1] * x[1], k[2] * x[2]];
        let d: [f64; 3] = std::array::from_fn(|i| 2.0 * c1 * (1.0 + k[i] / p));
        diag_plus_outer(d, &[(-2.0 * c1 / (p * p * p), kx), (-c2, dt)])
    }

    fn symmetry(&self) -> Symmetry {
        Symmetry::Axisymmetric
    }

    fn spec(&self) -> String {
        format!(
            "kuzmin-kutuzov:M={},ac={},delta={}",
            fmt_num(self.m),
            fmt_num(self.ac),
            fmt_num(self.delta)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::checks;

    #[test]
    fn derivatives() {
        let p = KuzminKutuzov::new(1e11, 2.0, 3.0).unwrap();
        // include the foci (R = 0, z = +-delta) and the origin
        for x in checks::positions(3.0).into_iter().chain([
            [0.0; 3],
            [0.0, 0.0, 3.0],
            [0.0, 0.0, -3.0],
            [0.5, 0.0, 3.0],
        ]) {
            checks::acceleration_matches_potential(&p, &x, 3.0, 1e-8);
            checks::hessian_matches_acceleration(&p, &x, 3.0, 1e-7);
        }
        checks::spec_round_trips(&p);
    }

    #[test]
    fn matches_the_staeckel_form() {
        let p = KuzminKutuzov::new(1e11, 2.0, 3.0).unwrap();
        let (a2, c2) = p.a2_c2();
        assert!((a2 - c2 - 9.0).abs() < 1e-13 && (a2 / c2 - 4.0).abs() < 1e-13);
        for x in checks::positions(3.0) {
            let rc = x[0].hypot(x[1]);
            let (l, n) = p.lambda_nu(rc, x[2]);
            assert!(l >= a2 && n <= a2 && n >= c2, "{l} {n}");
            // lambda and nu are the roots of R^2/(tau - a^2) + z^2/(tau - c^2) = 1
            for tau in [l, n] {
                let f = (tau - a2) * (tau - c2) - rc * rc * (tau - c2) - x[2] * x[2] * (tau - a2);
                assert!(f.abs() < 1e-12 * tau * tau, "{f}");
            }
            let phi = -G * 1e11 / (l.sqrt() + n.sqrt());
            assert!((p.potential(&x) - phi).abs() < 1e-14 * phi.abs());
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        let e = KuzminKutuzov::new(1e11, 1.0, 3.0).unwrap_err();
        assert!(e.to_string().contains("ac"));
        assert!(KuzminKutuzov::new(1e11, 2.0, 0.0).is_err());
    }
}
