//! The Navarro, Frenk & White (1997) halo (galpy `NFWPotential`).

use super::params::{fmt_num, positive};
use super::spherical::RadialPotential;
use super::{PotentialError, SphericalProfile};
use crate::units::G;
use std::f64::consts::PI;

/// Below this x = r/a the NFW functions use their Taylor series (no cancellation).
/// (the closed forms lose up to ~1e-14 to cancellation below it).
const SERIES_X: f64 = 0.3;
/// Number of series terms: n 0.3^(n-3) is below 1e-17 well before n = 42.
const SERIES_TERMS: i32 = 40;

/// `m(x) / x^2` with `m(x) = ln(1 + x) - x / (1 + x)` (the enclosed mass in units of Ms):
/// `sum_{n>=2} (-1)^n (n - 1)/n x^(n-2)` for small x.
fn mass_over_x2(x: f64) -> f64 {
    if x < SERIES_X {
        let mut s = 0.0;
        for n in (2..2 + SERIES_TERMS).rev() {
            let nf = f64::from(n);
            let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
            s = s * x + sign * (nf - 1.0) / nf;
        }
        s
    } else {
        (x.ln_1p() - x / (1.0 + x)) / (x * x)
    }
}

/// `(x^2 / (1 + x)^2 - 2 m(x)) / x^3`, i.e. `Phi'' a^3 / (G Ms)`:
/// `sum_{n>=3} (-1)^n (n - 1)(n - 2)/n x^(n-3)` for small x (-2/3 at x = 0).
fn d2_scaled(x: f64) -> f64 {
    if x < SERIES_X {
        let mut s = 0.0;
        for n in (3..3 + SERIES_TERMS).rev() {
            let nf = f64::from(n);
            let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
            s = s * x + sign * (nf - 1.0) * (nf - 2.0) / nf;
        }
        s
    } else {
        let q = x / (1.0 + x);
        (q * q - 2.0 * (x.ln_1p() - q)) / (x * x * x)
    }
}

/// NFW halo with mass parameter `Ms = 4 pi rho0 a^3` (Msun) and scale radius `a` (kpc):
///
/// `rho(r) = Ms / (4 pi a^3) / (x (1 + x)^2)`, `x = r / a`;
/// `Phi(r) = -G Ms ln(1 + x) / r` (-G Ms / a at r = 0);
/// `M(r) = Ms [ln(1 + x) - x / (1 + x)]`, `Phi'(r) = G M(r) / r^2`;
/// `Phi''(r) = (G Ms / r^3) [x^2 / (1 + x)^2 - 2 ln(1 + x) + 2 x / (1 + x)]`.
/// Small x uses Taylor series, so the force stays accurate deep in the cusp. The total mass
/// diverges (logarithmically). At r = 0 the acceleration is returned as 0.
///
/// Text form: `nfw:Ms=8e11,a=16`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nfw {
    ms: f64,
    a: f64,
    gms: f64,
}

impl Nfw {
    /// NFW halo with mass parameter `ms` = 4 pi rho0 a^3 > 0 (Msun) and scale radius
    /// `a` > 0 (kpc).
    pub fn new(ms: f64, a: f64) -> Result<Self, PotentialError> {
        let ms = positive("nfw", "Ms", ms)?;
        let a = positive("nfw", "a", a)?;
        Ok(Self { ms, a, gms: G * ms })
    }

    /// Mass parameter Ms = 4 pi rho0 a^3 in Msun.
    pub fn ms(&self) -> f64 {
        self.ms
    }

    /// Scale radius a in kpc.
    pub fn a(&self) -> f64 {
        self.a
    }
}

impl SphericalProfile for Nfw {
    fn phi(&self, r: f64) -> f64 {
        let x = r / self.a;
        let l = if x == 0.0 { 1.0 } else { x.ln_1p() / x };
        -self.gms / self.a * l
    }

    fn dphi_dr(&self, r: f64) -> f64 {
        let x = r / self.a;
        self.gms / (self.a * self.a) * mass_over_x2(x)
    }

    fn d2phi_dr2(&self, r: f64) -> f64 {
        self.gms / (self.a * self.a * self.a) * d2_scaled(r / self.a)
    }

    fn density(&self, r: f64) -> f64 {
        let x = r / self.a;
        self.ms / (4.0 * PI * self.a * self.a * self.a) / (x * (1.0 + x) * (1.0 + x))
    }

    fn enclosed_mass(&self, r: f64) -> f64 {
        let x = r / self.a;
        self.ms * x * x * mass_over_x2(x)
    }

    fn total_mass(&self) -> Option<f64> {
        None
    }
}

impl RadialPotential for Nfw {
    /// `G Ms m(x) / r^3`: one square root, one logarithm, two divisions.
    #[inline]
    fn dphi_dr_over_r(&self, r2: f64) -> f64 {
        let r = r2.sqrt();
        self.gms / (self.a * self.a) * mass_over_x2(r / self.a) / r
    }

    fn canonical_spec(&self) -> String {
        format!("nfw:Ms={},a={}", fmt_num(self.ms), fmt_num(self.a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{checks, Potential};

    #[test]
    fn derivatives_and_poisson() {
        let p = Nfw::new(8e11, 16.0).unwrap();
        for x in checks::positions(16.0) {
            checks::acceleration_matches_potential(&p, &x, 16.0, 1e-8);
            checks::hessian_matches_acceleration(&p, &x, 16.0, 1e-7);
            checks::poisson_holds(&p, &x, 1e-12);
        }
        checks::spec_round_trips(&p);
        assert_eq!(p.total_mass(), None);
    }

    #[test]
    fn series_and_closed_forms_agree_at_the_switch() {
        // the largest x using the series and the smallest using the closed form
        let below = f64::from_bits(SERIES_X.to_bits() - 1);
        for f in [mass_over_x2, d2_scaled] {
            let (lo, hi) = (f(below), f(SERIES_X));
            assert!((lo - hi).abs() < 1e-14 * hi.abs(), "{lo} {hi}");
        }
        assert!((mass_over_x2(0.0) - 0.5).abs() < 1e-16);
        assert!((d2_scaled(0.0) + 2.0 / 3.0).abs() < 1e-16);
    }

    #[test]
    fn centre_has_no_nan() {
        let p = Nfw::new(1e12, 20.0).unwrap();
        assert_eq!(p.acceleration(&[0.0; 3]), [0.0; 3]);
        assert!((p.potential(&[0.0; 3]) + G * 1e12 / 20.0).abs() < 1e-9);
        assert!(p.hessian(&[0.0; 3]).iter().flatten().all(|h| !h.is_nan()));
        // the force tends to G Ms / (2 a^2) in the cusp
        let a = p.acceleration(&[1e-9, 0.0, 0.0]);
        assert!((a[0] + G * 1e12 / 800.0).abs() < 1e-6 * G * 1e12 / 800.0);
    }
}
